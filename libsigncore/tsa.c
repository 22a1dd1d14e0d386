/*
 * RFC 3161 time-stamping client.
 *
 * A token is embedded only after it has been checked: granted status, the
 * message imprint and nonce we sent, a valid signature by a TSA
 * certificate with the timeStamping extended key usage that chains to a
 * trusted root. A TSA that is down or answers garbage is an error (or the
 * next configured TSA is tried), never a silent downgrade.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

X509_STORE *signcore__trust_store(signcore_ctx *ctx, const char *const *files, size_t count, int *code)
{
	X509_STORE *st = X509_STORE_new();
	size_t i;

	*code = SIGNCORE_OK;
	if (!st) {
		*code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
		return NULL;
	}
	X509_STORE_set_default_paths(st);
	ERR_clear_error();
	for (i = 0; i < count; i++) {
		if (X509_STORE_load_file(st, files[i]) != 1) {
			*code = signcore__ossl_err(ctx, SIGNCORE_EBADINPUT, "trust anchors cannot be read");
			signcore__prefix_err(ctx, *code, "%s", files[i]);
			X509_STORE_free(st);
			return NULL;
		}
	}
	return st;
}

static long long asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (long long)timegm(&tm);
}

static TS_REQ *make_request(const EVP_MD *md, const unsigned char *digest, size_t dlen)
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	unsigned char rnd[8];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *nonce = NULL;
	int ok = 0;

	if (!req || !mi || !alg)
		goto done;
	X509_ALGOR_set_md(alg, md);
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		goto done;
	rnd[0] &= 0x7f;
	bn = BN_bin2bn(rnd, sizeof rnd, NULL);
	nonce = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	ok = nonce && TS_REQ_set_version(req, 1) && TS_MSG_IMPRINT_set_algo(mi, alg) &&
	     TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)digest, (int)dlen) &&
	     TS_REQ_set_msg_imprint(req, mi) && TS_REQ_set_nonce(req, nonce) && TS_REQ_set_cert_req(req, 1);
done:
	BN_free(bn);
	ASN1_INTEGER_free(nonce);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	if (!ok) {
		TS_REQ_free(req);
		return NULL;
	}
	return req;
}

/* Check RESP against REQ; on success return the token's DER. */
static int check_response(signcore_ctx *ctx, const char *url, TS_REQ *req, const unsigned char *der,
	size_t len, X509_STORE *trust, unsigned char **token, size_t *toklen, long long *gentime)
{
	const unsigned char *p = der;
	TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
	TS_STATUS_INFO *si;
	TS_TST_INFO *tst;
	TS_MSG_IMPRINT *want = TS_REQ_get_msg_imprint(req), *got;
	ASN1_OCTET_STRING *wm, *gm;
	const ASN1_INTEGER *wn, *gn;
	TS_VERIFY_CTX *vc = NULL;
	unsigned char *out = NULL;
	long status;
	int n, code = SIGNCORE_OK;

	ERR_clear_error();
	if (!resp || p != der + len)
		code = signcore__err(ctx, SIGNCORE_ECRYPTO, "TSA %s: the answer is not an RFC 3161 time-stamp response", url);
	if (!code) {
		si = TS_RESP_get_status_info(resp);
		status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
		if (status != 0 && status != 1) {
			const STACK_OF(ASN1_UTF8STRING) *text = TS_STATUS_INFO_get0_text(si);
			const char *why = text && sk_ASN1_UTF8STRING_num(text) > 0 ?
				(const char *)ASN1_STRING_get0_data(sk_ASN1_UTF8STRING_value(text, 0)) : "no reason given";
			code = signcore__err(ctx, SIGNCORE_ECRYPTO, "TSA %s refused the request (status %ld: %s)", url, status, why);
		}
	}
	if (!code && (!TS_RESP_get_token(resp) || !(tst = TS_RESP_get_tst_info(resp))))
		code = signcore__err(ctx, SIGNCORE_ECRYPTO, "TSA %s: the response carries no token", url);
	if (!code) {
		got = TS_TST_INFO_get_msg_imprint(tst);
		wm = TS_MSG_IMPRINT_get_msg(want);
		gm = TS_MSG_IMPRINT_get_msg(got);
		if (OBJ_cmp(TS_MSG_IMPRINT_get_algo(want)->algorithm, TS_MSG_IMPRINT_get_algo(got)->algorithm) ||
		    ASN1_STRING_cmp(wm, gm))
			code = signcore__err(ctx, SIGNCORE_ECRYPTO,
				"TSA %s: the token is over another message imprint than the one requested", url);
	}
	if (!code) {
		wn = TS_REQ_get_nonce(req);
		gn = TS_TST_INFO_get_nonce(tst);
		if (!gn || ASN1_INTEGER_cmp(wn, gn))
			code = signcore__err(ctx, SIGNCORE_ECRYPTO, "TSA %s: the token does not carry our nonce", url);
	}
	if (!code) {
		vc = TS_VERIFY_CTX_new();
		if (!vc || !X509_STORE_up_ref(trust)) {
			code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
		} else {
			TS_VERIFY_CTX_set_flags(vc, TS_VFY_SIGNATURE);
			TS_VERIFY_CTX_set_store(vc, trust);
			if (TS_RESP_verify_token(vc, TS_RESP_get_token(resp)) != 1) {
				code = signcore__ossl_err(ctx, SIGNCORE_ECRYPTO, "the token's signature or the TSA certificate does not verify");
				signcore__prefix_err(ctx, code, "TSA %s", url);
			}
		}
	}
	if (!code) {
		*gentime = asn1_to_time(TS_TST_INFO_get_time(tst));
		n = i2d_PKCS7(TS_RESP_get_token(resp), &out);
		if (n <= 0)
			code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
		else {
			*token = malloc((size_t)n);
			if (!*token)
				code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
			else {
				memcpy(*token, out, (size_t)n);
				*toklen = (size_t)n;
			}
		}
		OPENSSL_free(out);
	}
	TS_VERIFY_CTX_free(vc);
	TS_RESP_free(resp);
	ERR_clear_error();
	return code;
}

int signcore__tsa_stamp(signcore_ctx *ctx, const sc_tsa *t, const EVP_MD *md,
	const unsigned char *digest, size_t dlen, unsigned char **token, size_t *toklen, long long *gentime)
{
	TS_REQ *req;
	unsigned char *q = NULL;
	char first[SC_ERRMSG_MAX] = "";
	int qlen, code = SIGNCORE_EINVAL, first_code = 0;
	size_t i;

	*token = NULL;
	*toklen = 0;
	if (!t || !t->count)
		return signcore__err(ctx, SIGNCORE_EINVAL, "a time-stamp was requested but no TSA URL is configured");
	if (!(req = make_request(md, digest, dlen)) || (qlen = i2d_TS_REQ(req, &q)) <= 0) {
		TS_REQ_free(req);
		return signcore__ossl_err(ctx, SIGNCORE_ECRYPTO, "cannot build the time-stamp request");
	}
	for (i = 0; i < t->count; i++) {
		sc_http_resp r;
		code = signcore__http(ctx, "TSA", t->urls[i], "application/timestamp-query", q, (size_t)qlen,
			t->userpwd, &r);
		if (!code) {
			code = check_response(ctx, t->urls[i], req, r.data, r.len, t->trust, token, toklen, gentime);
			signcore__http_free(&r);
		}
		if (!code)
			break;
		if (!first_code) {
			first_code = code;
			snprintf(first, sizeof first, "%s", ctx->message);
		}
	}
	OPENSSL_free(q);
	TS_REQ_free(req);
	if (code && t->count > 1) {
		/* Report every failure, the first in full. */
		char last[SC_ERRMSG_MAX];
		snprintf(last, sizeof last, "%s", ctx->message);
		return signcore__err(ctx, first_code, "no TSA gave a valid time-stamp: %s; last: %s", first, last);
	}
	return code;
}

/* The genTime of a time-stamp token (DER ContentInfo), or 0. */
long long signcore__token_time(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	TS_TST_INFO *tst = p7 ? PKCS7_to_TS_TST_INFO(p7) : NULL;
	long long t = tst ? asn1_to_time(TS_TST_INFO_get_time(tst)) : 0;

	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	ERR_clear_error();
	return t;
}

/* The certificates a token carries (the TSA's chain), appended to INTO. */
void signcore__token_certs(const unsigned char *der, size_t len, STACK_OF(X509) *into)
{
	const unsigned char *p = der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	int i;

	if (p7 && PKCS7_type_is_signed(p7) && p7->d.sign->cert)
		for (i = 0; i < sk_X509_num(p7->d.sign->cert); i++) {
			X509 *x = sk_X509_value(p7->d.sign->cert, i);
			X509_up_ref(x);
			sk_X509_push(into, x);
		}
	PKCS7_free(p7);
	ERR_clear_error();
}
