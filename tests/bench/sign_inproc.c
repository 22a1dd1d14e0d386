/*
 * SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * In-process signing benchmark for tests/bench/sign.sh (not built by make).
 *
 * usage: sign_inproc KEY.pem CERT.pem IN.pdf OUT.pdf RUNS WARMUP
 *
 * Loads the signing key once (signcore_signer_load_pem, and separately with
 * libcrypto for the floor), then for WARMUP + RUNS rounds does, in turn:
 *
 *   sign:  signcore_doc_open(IN) -> signcore_sign(B-B, invisible, reason
 *          "Bench") to a new file (OUT.N, removed after the round, untimed;
 *          the last round writes OUT) -> signcore_doc_free
 *   floor: read IN from disk into memory -> EVP_DigestSign over the whole
 *          file (SHA-256 + one RSA PKCS#1 v1.5 signature) -> free
 *
 * The two are interleaved round by round so that a change in machine load
 * hits both alike. Each is timed with CLOCK_MONOTONIC. The warm-up rounds
 * are not recorded. Prints one JSON object on stdout:
 *
 *   {"key_load_ms": x, "sign_ms": [...], "floor_ms": [...]}
 *
 * Build (sign.sh does this):
 *   cc -O2 -I libsigncore tests/bench/sign_inproc.c -o sign_inproc \
 *      -L libsigncore/.libs -lsigncore -lcrypto
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "signcore.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, signcore_ctx *ctx, int code)
{
	fprintf(stderr, "sign_inproc: %s: %s%s%s\n", what, signcore_strerror(code),
		ctx ? ": " : "", ctx ? signcore_ctx_last_error(ctx) : "");
	exit(1);
}

static void die_ssl(const char *what)
{
	fprintf(stderr, "sign_inproc: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* SHA-256 of the file read from disk + one RSA signature; returns its length. */
static size_t floor_once(EVP_PKEY *pkey, const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf, sig[1024];
	size_t siglen = sizeof sig;
	long len;
	EVP_MD_CTX *md;

	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		perror(path);
		exit(1);
	}
	buf = malloc(len ? len : 1);
	if (!buf || fread(buf, 1, len, f) != (size_t)len) {
		perror(path);
		exit(1);
	}
	fclose(f);
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSignUpdate(md, buf, len) != 1 || EVP_DigestSignFinal(md, sig, &siglen) != 1)
		die_ssl("EVP_DigestSign");
	EVP_MD_CTX_free(md);
	free(buf);
	return siglen;
}

static void sign_once(signcore_ctx *ctx, const signcore_signer *signer,
	const char *in, const char *out)
{
	signcore_sign_options o = SIGNCORE_SIGN_OPTIONS_INIT;
	signcore_doc *doc = NULL;
	int code;

	o.level = SIGNCORE_LEVEL_B_B;
	o.page = 0; /* invisible */
	o.reason = "Bench";
	if ((code = signcore_doc_open(ctx, &doc, in, NULL)))
		die("signcore_doc_open", ctx, code);
	if ((code = signcore_sign(doc, signer, out, &o)))
		die("signcore_sign", ctx, code);
	signcore_doc_free(doc);
}

static void print_list(const char *name, const double *v, int n)
{
	printf("\"%s\": [", name);
	for (int i = 0; i < n; i++)
		printf("%s%.4f", i ? ", " : "", v[i]);
	printf("]");
}

int main(int argc, char **argv)
{
	signcore_ctx *ctx = NULL;
	signcore_signer *signer = NULL;
	EVP_PKEY *pkey;
	FILE *kf;
	double t0, key_ms, *sign_ms, *floor_ms;
	int runs, warmup, code;

	if (argc != 7) {
		fprintf(stderr, "usage: sign_inproc KEY.pem CERT.pem IN.pdf OUT.pdf RUNS WARMUP\n");
		return 2;
	}
	runs = atoi(argv[5]);
	warmup = atoi(argv[6]);
	if (runs < 1 || warmup < 0) {
		fprintf(stderr, "sign_inproc: bad RUNS or WARMUP\n");
		return 2;
	}
	sign_ms = calloc(runs, sizeof *sign_ms);
	floor_ms = calloc(runs, sizeof *floor_ms);
	if (!sign_ms || !floor_ms)
		return 1;

	if ((code = signcore_ctx_new(&ctx)))
		die("signcore_ctx_new", NULL, code);
	t0 = now_ms();
	if ((code = signcore_signer_load_pem(ctx, &signer, argv[1], NULL, argv[2], NULL)))
		die("signcore_signer_load_pem", ctx, code);
	key_ms = now_ms() - t0;

	if (!(kf = fopen(argv[1], "r"))) {
		perror(argv[1]);
		return 1;
	}
	pkey = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
	fclose(kf);
	if (!pkey)
		die_ssl("PEM_read_PrivateKey");

	unlink(argv[4]);
	for (int i = 0; i < warmup + runs; i++) {
		double a, b, c;
		/* A new file each time, as a batch writes: on ext4, replacing
		 * an existing file makes the kernel start writing the new one
		 * out and free the old one (auto_da_alloc), which is not the
		 * cost of signing. The last one is kept as OUT. */
		char name[4096];
		int last = i == warmup + runs - 1;

		snprintf(name, sizeof name, "%s%s%d", argv[4], last ? "" : ".", last ? 0 : i);
		if (last)
			name[strlen(argv[4])] = 0;
		a = now_ms();
		sign_once(ctx, signer, argv[3], name);
		b = now_ms();
		if (floor_once(pkey, argv[3]) != 256)
			die_ssl("RSA-2048 signature length");
		c = now_ms();
		if (!last)
			unlink(name);
		if (i >= warmup) {
			sign_ms[i - warmup] = b - a;
			floor_ms[i - warmup] = c - b;
		}
	}

	printf("{\"key_load_ms\": %.4f, ", key_ms);
	print_list("sign_ms", sign_ms, runs);
	printf(", ");
	print_list("floor_ms", floor_ms, runs);
	printf("}\n");

	EVP_PKEY_free(pkey);
	signcore_signer_free(signer);
	signcore_ctx_free(ctx);
	free(sign_ms);
	free(floor_ms);
	return 0;
}
