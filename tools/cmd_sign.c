/*
 * signcore sign, timestamp and ltv: PAdES signatures, document
 * time-stamps, long-term validation data, and two-step external signing.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char sign_usage[] =
	"usage: signcore sign IN -o OUT (--p12 F [--password-file P | --password-env VAR]\n"
	"                          | --key K --cert C [--chain CH]) [options]\n"
	"       signcore sign IN --prepare --cert C [--chain CH] -o OUT.pending --digest-out FILE [options]\n"
	"       signcore sign --embed OUT.pending --signature FILE [--cert C --chain CH] -o OUT [options]\n\n"
	"Sign IN with a PAdES signature (ETSI.CAdES.detached) in a new incremental update.\n\n"
	"credentials:\n"
	"      --p12 FILE              PKCS#12 file with key, certificate and chain\n"
	"      --password-file FILE    its password (first line); or --password-env VAR;\n"
	"                              asked on the terminal when neither is given\n"
	"      --key FILE --cert FILE  PEM/DER private key and certificate\n"
	"      --chain FILE            further certificates (PEM)\n"
	"      --key-password-file F   password of an encrypted key\n"
	"where:\n"
	"      --field NAME            sign this empty signature field (created if missing)\n"
	"      --page N --rect x,y,w,h create a visible signature there (points from the\n"
	"                              top-left of the page as displayed)\n"
	"      --units pt|percent      units of --rect (default pt)\n"
	"      --invisible             no visible appearance (the default without --page)\n"
	"      --appearance JSON       file or inline JSON: {\"image\": \"sig.png\", \"typed\": \"Name\",\n"
	"                              \"font\": \"script\", \"text\": \"block\" | false, \"graphic\": false,\n"
	"                              \"date_format\": \"%Y-%m-%d\", \"time_zone\": \"Asia/Kolkata\"}\n"
	"what:\n"
	"      --level B-B|B-T|B-LT|B-LTA   PAdES level (default B-B)\n"
	"      --tsa URL               RFC 3161 time-stamp authority (repeat: tried in order)\n"
	"      --tsa-auth-env VAR      \"user:password\" for the TSA, from variable VAR\n"
	"      --trust PEM             extra trust anchor for TSA and OCSP checks (repeatable)\n"
	"      --allow-missing-revocation  B-LT: go on when a certificate has no OCSP/CRL\n"
	"      --certify none|no-changes|form-fill|annotations   certification (DocMDP)\n"
	"      --lock-fields a,b|*     lock these fields (FieldMDP)\n"
	"      --reason R --location L --contact C --name N\n"
	"      --subfilter cades|pkcs7 ETSI.CAdES.detached (default) or adbe.pkcs7.detached\n"
	"      --digest sha256|sha384|sha512, --pss (RSA-PSS)\n"
	"external signing:\n"
	"      --prepare               write OUT.pending and the hash to sign\n"
	"      --digest-out FILE       where the hash goes (raw bytes; hex on standard output)\n"
	"      --hash-of attrs|byterange   hash of the CMS signed attributes (sign it raw,\n"
	"                              default) or of the document byte range (answer a CMS)\n"
	"      --embed PENDING --signature FILE   finish: FILE holds the raw signature\n"
	"                              (binary or base64) or a complete CMS (DER, base64 or PEM)\n"
	"document:\n"
	"      --pdf-password-file F / --pdf-password-env VAR   password of an encrypted PDF\n"
	"  -q, --quiet   -h, --help\n";

static int open_pdf(signcore_ctx *ctx, const cli_sign_args *a, signcore_doc **doc)
{
	signcore_open_options oo = SIGNCORE_OPEN_OPTIONS_INIT;
	char *pw = NULL;
	int rc, code;

	if (!a->input) {
		cli_error("%s: no input PDF given (see --help)", a->cmd);
		return EXIT_BADINPUT;
	}
	if ((rc = cli_secret_prompt(a->pdf_password_file, a->pdf_password_env, NULL, &pw)))
		return rc;
	oo.password = pw;
	code = signcore_doc_open(ctx, doc, a->input, &oo);
	cli_wipe(pw);
	if (code)
		return cli_fail(ctx, code);
	return 0;
}

static int check_output(const cli_sign_args *a)
{
	if (!a->output) {
		cli_error("%s: an output is required: -o OUT", a->cmd);
		return EXIT_BADINPUT;
	}
	if (!strcmp(a->output, "-")) {
		cli_error("%s: a signed PDF must be written to a file (-o FILE), not standard output", a->cmd);
		return EXIT_BADINPUT;
	}
	return 0;
}

static unsigned char *b64_decode(const char *s, size_t n, size_t *outlen)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char *out = malloc(n / 4 * 3 + 4);
	unsigned int acc = 0;
	int bits = 0;
	size_t i, k = 0;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *p;
		char c = s[i];
		if (c == '=' || c == '\n' || c == '\r' || c == ' ' || c == '\t')
			continue;
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		p = strchr(tbl, c);
		if (!p || !c) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int)(p - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (unsigned char)(acc >> bits);
		}
	}
	*outlen = k;
	return out;
}

/* A signature file: binary, base64, or PEM (-----BEGIN ...-----). */
static unsigned char *read_signature(const char *path, size_t *len)
{
	size_t n, i;
	char *raw = cli_read_all(path, &n);
	unsigned char *dec;
	int text = 1;

	if (!raw)
		return NULL;
	for (i = 0; i < n && text; i++)
		text = raw[i] >= 9 && (unsigned char)raw[i] < 128;
	if (text && n) {
		char *b = raw, *e = raw + n;
		char *begin = strstr(raw, "-----BEGIN");
		if (begin) {
			b = strchr(begin, '\n');
			e = strstr(begin + 10, "-----END");
			if (!b || !e) {
				free(raw);
				cli_error("%s: damaged PEM", path);
				return NULL;
			}
		}
		dec = b64_decode(b, (size_t)(e - b), len);
		if (dec) {
			free(raw);
			return dec;
		}
	}
	*len = n;
	return (unsigned char *)raw;
}

static int do_prepare(signcore_ctx *ctx, const cli_sign_args *a, cli_sign_setup *s)
{
	signcore_doc *doc = NULL;
	signcore_signer *signer = NULL;
	unsigned char digest[64];
	size_t dlen = sizeof digest, i;
	signcore_hash_target target = SIGNCORE_HASH_SIGNED_ATTRS;
	int rc, code;

	if (a->hash_of) {
		if (!strcmp(a->hash_of, "byterange"))
			target = SIGNCORE_HASH_BYTE_RANGE;
		else if (strcmp(a->hash_of, "attrs")) {
			cli_error("sign: --hash-of must be attrs or byterange");
			return EXIT_BADINPUT;
		}
	}
	if ((rc = cli_load_signer(ctx, a, 0, &signer)))
		return rc;
	if ((rc = open_pdf(ctx, a, &doc)))
		goto done;
	if ((code = signcore_sign_prepare(doc, signer, a->output, &s->o, target, digest, &dlen))) {
		rc = cli_fail(ctx, code);
		goto done;
	}
	if (a->digest_out) {
		FILE *f = fopen(a->digest_out, "wb");
		if (!f || fwrite(digest, 1, dlen, f) != dlen || fclose(f) != 0) {
			cli_error("%s: %s", a->digest_out, strerror(errno));
			rc = EXIT_FAILED;
			goto done;
		}
	}
	for (i = 0; i < dlen; i++)
		printf("%02x", digest[i]);
	putchar('\n');
	rc = 0;
done:
	signcore_doc_free(doc);
	signcore_signer_free(signer);
	return rc;
}

static int do_embed(signcore_ctx *ctx, const cli_sign_args *a, cli_sign_setup *s)
{
	signcore_signer *cert = NULL;
	unsigned char *sig;
	size_t len;
	char *pw = NULL;
	int rc, code;

	if (!a->signature) {
		cli_error("sign: --embed needs --signature FILE");
		return EXIT_BADINPUT;
	}
	if (a->cert && (code = signcore_signer_load_cert(ctx, &cert, a->cert, a->chain)))
		return cli_fail(ctx, code);
	if (!(sig = read_signature(a->signature, &len))) {
		signcore_signer_free(cert);
		return EXIT_BADINPUT;
	}
	if ((rc = cli_secret_prompt(a->pdf_password_file, a->pdf_password_env, NULL, &pw))) {
		free(sig);
		signcore_signer_free(cert);
		return rc;
	}
	s->o.password = pw;
	code = signcore_sign_embed(ctx, a->embed, sig, len, cert, a->output, &s->o);
	rc = code ? cli_fail(ctx, code) : 0;
	cli_wipe(pw);
	free(sig);
	signcore_signer_free(cert);
	return rc;
}

int cmd_sign(int argc, char **argv)
{
	signcore_ctx *ctx = NULL;
	signcore_doc *doc = NULL;
	signcore_signer *signer = NULL;
	cli_sign_args a;
	cli_sign_setup s;
	int help, rc, code;

	if ((rc = cli_sign_parse(argc, argv, &a, sign_usage, &help, NULL, NULL)) || help)
		return rc;
	if ((rc = check_output(&a)))
		return rc;
	if (a.prepare && (a.level || a.ntsa)) {
		cli_error("sign: --prepare takes no --level or --tsa: give them to --embed, which finishes the signature");
		return EXIT_BADINPUT;
	}
	if (a.embed && (a.input || a.prepare)) {
		cli_error("sign: --embed takes the pending file, not an input PDF");
		return EXIT_BADINPUT;
	}
	if ((rc = cli_sign_setup_init(&a, &s))) {
		cli_sign_setup_free(&s);
		return rc;
	}
	if ((rc = cli_ctx_new(&ctx))) {
		cli_sign_setup_free(&s);
		return rc;
	}
	if (a.embed) {
		rc = do_embed(ctx, &a, &s);
		goto done;
	}
	if (a.prepare) {
		rc = do_prepare(ctx, &a, &s);
		goto done;
	}
	if ((rc = cli_load_signer(ctx, &a, 1, &signer)))
		goto done;
	if ((rc = open_pdf(ctx, &a, &doc)))
		goto done;
	if ((code = signcore_sign(doc, signer, a.output, &s.o)))
		rc = cli_fail(ctx, code);
done:
	signcore_doc_free(doc);
	signcore_signer_free(signer);
	signcore_ctx_free(ctx);
	cli_sign_setup_free(&s);
	return rc;
}

static const char timestamp_usage[] =
	"usage: signcore timestamp IN -o OUT --tsa URL [--tsa URL]... [options]\n\n"
	"Add a document time-stamp (/DocTimeStamp, ETSI.RFC3161) to IN.\n\n"
	"      --tsa URL            RFC 3161 time-stamp authority (repeat: tried in order)\n"
	"      --tsa-auth-env VAR   \"user:password\" for the TSA, from variable VAR\n"
	"      --trust PEM          extra trust anchor for the TSA certificate (repeatable)\n"
	"      --field NAME         name of the new field (default DocTimeStamp1, ...)\n"
	"      --pdf-password-file F / --pdf-password-env VAR   password of an encrypted PDF\n"
	"  -h, --help\n";

static const char ltv_usage[] =
	"usage: signcore ltv IN -o OUT [--lta --tsa URL] [options]\n\n"
	"Extend the signatures of IN to B-LT: an incremental update with a /DSS holding\n"
	"the certificates, OCSP responses and CRLs of every signature and time-stamp.\n"
	"With --lta, a document time-stamp follows (B-LTA).\n\n"
	"      --lta                add a document time-stamp\n"
	"      --tsa URL            RFC 3161 time-stamp authority (repeatable)\n"
	"      --trust PEM          extra trust anchor for OCSP and TSA checks (repeatable)\n"
	"      --allow-missing-revocation   go on when a certificate has no OCSP/CRL\n"
	"      --pdf-password-file F / --pdf-password-env VAR   password of an encrypted PDF\n"
	"  -h, --help\n";

static int simple(int argc, char **argv, int ltv)
{
	signcore_ctx *ctx = NULL;
	signcore_doc *doc = NULL;
	cli_sign_args a;
	cli_sign_setup s;
	int help, rc, code;

	if ((rc = cli_sign_parse(argc, argv, &a, ltv ? ltv_usage : timestamp_usage, &help, NULL, NULL)) || help)
		return rc;
	if ((rc = check_output(&a)))
		return rc;
	if ((rc = cli_sign_setup_init(&a, &s))) {
		cli_sign_setup_free(&s);
		return rc;
	}
	if (!ltv && !a.ntsa) {
		cli_error("timestamp: --tsa URL is required");
		cli_sign_setup_free(&s);
		return EXIT_BADINPUT;
	}
	if (ltv && a.lta && !a.ntsa) {
		cli_error("ltv: --lta needs --tsa URL");
		cli_sign_setup_free(&s);
		return EXIT_BADINPUT;
	}
	s.o.level = a.lta ? SIGNCORE_LEVEL_B_LTA : SIGNCORE_LEVEL_B_LT;
	if ((rc = cli_ctx_new(&ctx))) {
		cli_sign_setup_free(&s);
		return rc;
	}
	if (!(rc = open_pdf(ctx, &a, &doc))) {
		code = ltv ? signcore_ltv(doc, a.output, &s.o) : signcore_timestamp(doc, a.output, &s.o);
		if (code)
			rc = cli_fail(ctx, code);
	}
	signcore_doc_free(doc);
	signcore_ctx_free(ctx);
	cli_sign_setup_free(&s);
	return rc;
}

int cmd_timestamp(int argc, char **argv)
{
	return simple(argc, argv, 0);
}

int cmd_ltv(int argc, char **argv)
{
	return simple(argc, argv, 1);
}
