/*
 * Revocation data for long-term validation (PAdES B-LT): OCSP responses
 * (POSTed to the certificate's AIA responder), CRLs from its distribution
 * points as a fallback, and missing issuers fetched from AIA caIssuers.
 * Everything fetched is checked before it is kept: OCSP responses are
 * verified (signature, authorised responder, nonce, freshness), CRLs by the
 * issuer's signature. A revoked certificate is always an error.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#define MAX_DEPTH 10

void signcore__ltv_free(sc_ltv *l)
{
	size_t i;

	sk_X509_pop_free(l->certs, X509_free);
	for (i = 0; i < l->nocsps; i++)
		sc_der_free(&l->ocsps[i]);
	for (i = 0; i < l->ncrls; i++)
		sc_der_free(&l->crls[i]);
	free(l->ocsps);
	free(l->crls);
	memset(l, 0, sizeof *l);
}

static int has_cert(STACK_OF(X509) *sk, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(sk); i++)
		if (!X509_cmp(sk_X509_value(sk, i), x))
			return 1;
	return 0;
}

static void add_cert(STACK_OF(X509) *sk, X509 *x)
{
	if (!has_cert(sk, x) && X509_up_ref(x))
		sk_X509_push(sk, x);
}

static int add_blob(sc_der **arr, size_t *n, const unsigned char *p, size_t len)
{
	sc_der *grown = realloc(*arr, (*n + 1) * sizeof **arr);

	if (!grown)
		return -1;
	*arr = grown;
	memset(&grown[*n], 0, sizeof grown[*n]);
	sc_der_raw(&grown[*n], p, len);
	(*n)++;
	return grown[*n - 1].oom ? -1 : 0;
}

static int self_signed(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

static X509 *find_issuer(STACK_OF(X509) *pool, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(pool); i++) {
		X509 *c = sk_X509_value(pool, i);
		if (c != x && X509_check_issued(c, x) == X509_V_OK)
			return c;
	}
	return NULL;
}

static char *subject_of(X509 *x)
{
	char *s = signcore__x509_name_text(X509_get_subject_name(x));
	return s ? s : signcore__strdup("(unnamed certificate)");
}

/* The first http(s) URI of AIA method NID (ad_OCSP or ad_ca_issuers). */
static char *aia_uri(X509 *x, int nid)
{
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	char *out = NULL;
	int i;

	for (i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia) && !out; i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		if (OBJ_obj2nid(ad->method) == nid && ad->location->type == GEN_URI) {
			const char *u = (const char *)ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier);
			if (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8))
				out = signcore__strdup(u);
		}
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	return out;
}

static char *crl_uri(X509 *x)
{
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	char *out = NULL;
	int i, j;

	for (i = 0; dps && i < sk_DIST_POINT_num(dps) && !out; i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (!dp->distpoint || dp->distpoint->type != 0)
			continue;
		for (j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname) && !out; j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j);
			if (gn->type == GEN_URI) {
				const char *u = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
				if (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8))
					out = signcore__strdup(u);
			}
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return out;
}

/* Fetch the issuer of X from its AIA caIssuers URL into POOL. */
static X509 *fetch_issuer(signcore_ctx *ctx, X509 *x, STACK_OF(X509) *pool)
{
	char *url = aia_uri(x, NID_ad_ca_issuers);
	sc_http_resp r;
	STACK_OF(X509) *got;
	X509 *issuer = NULL;
	int i;

	if (!url)
		return NULL;
	if (signcore__http(ctx, "caIssuers", url, NULL, NULL, 0, NULL, &r)) {
		free(url);
		return NULL;
	}
	free(url);
	got = sk_X509_new_null();
	{
		const unsigned char *p = r.data;
		X509 *c = d2i_X509(NULL, &p, (long)r.len);
		if (c) {
			sk_X509_push(got, c);
		} else {
			PKCS7 *p7;
			BIO *b = BIO_new_mem_buf(r.data, (int)r.len);
			while (b && (c = PEM_read_bio_X509(b, NULL, NULL, NULL)))
				sk_X509_push(got, c);
			BIO_free(b);
			p = r.data;
			p7 = d2i_PKCS7(NULL, &p, (long)r.len);
			if (p7 && PKCS7_type_is_signed(p7) && p7->d.sign->cert)
				for (i = 0; i < sk_X509_num(p7->d.sign->cert); i++) {
					X509 *y = sk_X509_value(p7->d.sign->cert, i);
					X509_up_ref(y);
					sk_X509_push(got, y);
				}
			PKCS7_free(p7);
		}
	}
	ERR_clear_error();
	signcore__http_free(&r);
	for (i = 0; i < sk_X509_num(got); i++) {
		X509 *c = sk_X509_value(got, i);
		add_cert(pool, c);
		if (!issuer && X509_check_issued(c, x) == X509_V_OK)
			issuer = c;
	}
	sk_X509_pop_free(got, X509_free);
	return issuer ? find_issuer(pool, x) : NULL;
}

enum { REV_OK = 0, REV_REVOKED = 1, REV_UNAVAILABLE = 2 };

static int check_ocsp(signcore_ctx *ctx, X509 *x, X509 *issuer, STACK_OF(X509) *pool,
	X509_STORE *store, sc_ltv *out, char *why, size_t whylen)
{
	char *url = aia_uri(x, NID_ad_OCSP);
	OCSP_CERTID *id = NULL;
	OCSP_REQUEST *req = NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	unsigned char *q = NULL;
	const unsigned char *p;
	sc_http_resp r = { 0 };
	int qlen, status, reason, rc = REV_UNAVAILABLE, i;

	if (!url) {
		snprintf(why, whylen, "no OCSP responder in its AIA");
		return REV_UNAVAILABLE;
	}
	id = OCSP_cert_to_id(NULL, x, issuer);
	req = OCSP_REQUEST_new();
	if (!id || !req || !OCSP_request_add0_id(req, OCSP_CERTID_dup(id)) || !OCSP_request_add1_nonce(req, NULL, -1) ||
	    (qlen = i2d_OCSP_REQUEST(req, &q)) <= 0) {
		snprintf(why, whylen, "cannot build an OCSP request");
		goto done;
	}
	if (signcore__http(ctx, "OCSP responder", url, "application/ocsp-request", q, (size_t)qlen, NULL, &r)) {
		snprintf(why, whylen, "%.400s", ctx->message);
		goto done;
	}
	p = r.data;
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)r.len);
	if (!resp) {
		snprintf(why, whylen, "OCSP responder %s: the answer is not an OCSP response", url);
		goto done;
	}
	if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(why, whylen, "OCSP responder %s: %s", url,
			OCSP_response_status_str(OCSP_response_status(resp)));
		goto done;
	}
	bs = OCSP_response_get1_basic(resp);
	if (!bs || OCSP_check_nonce(req, bs) == 0) {
		snprintf(why, whylen, "OCSP responder %s: %s", url, bs ? "the nonce does not match" : "no basic response");
		goto done;
	}
	if (OCSP_basic_verify(bs, pool, store, 0) != 1) {
		unsigned long e = ERR_peek_last_error();
		snprintf(why, whylen, "OCSP responder %s: the response does not verify (%s)", url,
			e ? ERR_reason_error_string(e) : "unknown reason");
		goto done;
	}
	if (!OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd)) {
		snprintf(why, whylen, "OCSP responder %s: the response is about another certificate", url);
		goto done;
	}
	if (!OCSP_check_validity(thisupd, nextupd, 300, -1)) {
		snprintf(why, whylen, "OCSP responder %s: the response is not current", url);
		goto done;
	}
	if (status == V_OCSP_CERTSTATUS_REVOKED) {
		char when[64];
		signcore__asn1_time_text(rev, when, sizeof when);
		snprintf(why, whylen, "revoked on %s (reason: %s), according to %s", when,
			reason >= 0 ? OCSP_crl_reason_str(reason) : "unspecified", url);
		rc = REV_REVOKED;
		add_blob(&out->ocsps, &out->nocsps, r.data, r.len); /* evidence, for a verifier */
		goto done;
	}
	if (status != V_OCSP_CERTSTATUS_GOOD) {
		snprintf(why, whylen, "OCSP responder %s does not know the certificate", url);
		goto done;
	}
	if (add_blob(&out->ocsps, &out->nocsps, r.data, r.len)) {
		snprintf(why, whylen, "out of memory");
		goto done;
	}
	for (i = 0; i < sk_X509_num(OCSP_resp_get0_certs(bs)); i++)
		add_cert(out->certs, sk_X509_value(OCSP_resp_get0_certs(bs), i));
	rc = REV_OK;
done:
	ERR_clear_error();
	signcore__http_free(&r);
	OPENSSL_free(q);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
	OCSP_CERTID_free(id);
	free(url);
	return rc;
}

static int check_crl(signcore_ctx *ctx, X509 *x, X509 *issuer, sc_ltv *out, char *why, size_t whylen)
{
	char *url = crl_uri(x);
	sc_http_resp r = { 0 };
	X509_CRL *crl = NULL;
	X509_REVOKED *rev = NULL;
	const unsigned char *p;
	int rc = REV_UNAVAILABLE;

	if (!url) {
		snprintf(why, whylen, "no CRL distribution point");
		return REV_UNAVAILABLE;
	}
	if (signcore__http(ctx, "CRL distribution point", url, NULL, NULL, 0, NULL, &r)) {
		snprintf(why, whylen, "%.400s", ctx->message);
		goto done;
	}
	p = r.data;
	crl = d2i_X509_CRL(NULL, &p, (long)r.len);
	if (!crl) {
		BIO *b = BIO_new_mem_buf(r.data, (int)r.len);
		crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
	}
	if (!crl) {
		snprintf(why, whylen, "CRL %s cannot be decoded", url);
		goto done;
	}
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) ||
	    X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
		snprintf(why, whylen, "CRL %s is not signed by the certificate's issuer", url);
		goto done;
	}
	if (X509_CRL_get0_nextUpdate(crl) && X509_cmp_current_time(X509_CRL_get0_nextUpdate(crl)) < 0) {
		snprintf(why, whylen, "CRL %s is out of date", url);
		goto done;
	}
	if (X509_CRL_get0_by_cert(crl, &rev, x) == 1) {
		char when[64];
		signcore__asn1_time_text(X509_REVOKED_get0_revocationDate(rev), when, sizeof when);
		snprintf(why, whylen, "revoked on %s, according to the CRL %s", when, url);
		rc = REV_REVOKED;
		add_blob(&out->crls, &out->ncrls, r.data, r.len); /* evidence, for a verifier */
		goto done;
	}
	if (add_blob(&out->crls, &out->ncrls, r.data, r.len)) {
		snprintf(why, whylen, "out of memory");
		goto done;
	}
	rc = REV_OK;
done:
	ERR_clear_error();
	X509_CRL_free(crl);
	signcore__http_free(&r);
	free(url);
	return rc;
}

int signcore__ltv_collect(signcore_ctx *ctx, STACK_OF(X509) *targets, STACK_OF(X509) *pool,
	X509_STORE *trust, unsigned flags, sc_ltv *out)
{
	int allow_missing = (flags & SC_LTV_ALLOW_MISSING) != 0;
	STACK_OF(X509) *done = sk_X509_new_null();
	int t, i, depth, code = SIGNCORE_OK;

	memset(out, 0, sizeof *out);
	out->certs = sk_X509_new_null();
	if (!done || !out->certs) {
		sk_X509_free(done);
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	}
	/* Responses are checked against the hierarchy they describe: its root
	 * is an anchor here. Whether that root is trusted is the verifier's
	 * question, not the signer's. */
	for (i = 0; i < sk_X509_num(pool); i++)
		if (self_signed(sk_X509_value(pool, i)))
			X509_STORE_add_cert(trust, sk_X509_value(pool, i));
	ERR_clear_error();

	for (t = 0; t < sk_X509_num(targets) && !code; t++) {
		X509 *cur = sk_X509_value(targets, t);
		for (depth = 0; depth < MAX_DEPTH && cur && !code; depth++) {
			X509 *issuer;
			char ocsp_why[512] = "", crl_why[512] = "";
			char *who;
			int rc;

			add_cert(out->certs, cur);
			if (self_signed(cur) || has_cert(done, cur))
				break;
			add_cert(done, cur);
			issuer = find_issuer(pool, cur);
			if (!issuer) {
				issuer = fetch_issuer(ctx, cur, pool);
				if (issuer) {
					for (i = 0; i < sk_X509_num(pool); i++)
						if (self_signed(sk_X509_value(pool, i)))
							X509_STORE_add_cert(trust, sk_X509_value(pool, i));
					ERR_clear_error();
				}
			}
			if (!issuer) {
				if (!allow_missing) {
					who = subject_of(cur);
					code = signcore__err(ctx, SIGNCORE_ENOTFOUND,
						"cannot complete the chain of \"%s\": its issuer is not known and cannot be downloaded",
						who ? who : "?");
					free(who);
				}
				break;
			}
			if (X509_get_ext_by_NID(cur, NID_id_pkix_OCSP_noCheck, -1) < 0) {
				rc = check_ocsp(ctx, cur, issuer, pool, trust, out, ocsp_why, sizeof ocsp_why);
				if (rc == REV_UNAVAILABLE)
					rc = check_crl(ctx, cur, issuer, out, crl_why, sizeof crl_why);
				who = subject_of(cur);
				if (rc == REV_REVOKED)
					code = signcore__err(ctx, SIGNCORE_ECRYPTO, "the certificate of \"%s\" is %s",
						who ? who : "?", *crl_why ? crl_why : ocsp_why);
				else if (rc == REV_UNAVAILABLE && !allow_missing)
					code = signcore__err(ctx, SIGNCORE_ENETWORK,
						"no revocation information for \"%s\": OCSP: %s; CRL: %s",
						who ? who : "?", ocsp_why, crl_why);
				free(who);
			}
			cur = issuer;
		}
	}
	sk_X509_pop_free(done, X509_free);
	if (code && !(flags & SC_LTV_KEEP))
		signcore__ltv_free(out);
	return code;
}
