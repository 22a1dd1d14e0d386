/*
 * Signature verification: a report per signature field, in revision order.
 *
 * For each signature: the ByteRange must start at 0, cover everything but
 * exactly the /Contents hex string of this signature dictionary, and end at
 * the end of a revision; the digest of those bytes must equal the signed
 * message-digest; the CMS signature must verify with the certificate that
 * the signing-certificate(-v2) attribute binds. Then: what the later
 * revisions changed (changes.c) judged against DocMDP and FieldMDP, the
 * chain to a trust anchor at the validation time, the time-stamps (imprint,
 * TSA signature and chain with the timeStamping key usage), revocation from
 * the embedded data (and online on request), and the PAdES level reached.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/ocsp.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

struct signcore_report {
	signcore_verdict verdict;
	char *reason;
	signcore_sig_report *sigs;
	size_t count;
	int revisions;
	long long file_size;
	long long trailing;     /* bytes after the end of the last revision */
	int encrypted;
	int repaired;
	int dss;
	char **strs;            /* every string the report owns */
	size_t nstrs, capstrs;
};

/* Revocation data from the file (or fetched online). */
typedef struct {
	OCSP_BASICRESP **ocsp;
	signed char *ocsp_ok;   /* signature checked: 0 not yet, 1 good, -1 bad */
	int nocsp;
	X509_CRL **crl;
	int ncrl;
} rev_data;

typedef struct {
	signcore_ctx *ctx;
	fz_context *fz;
	const signcore_verify_options *o;
	signcore_report *rep;
	const unsigned char *d;
	size_t n;
	fz_buffer *buf;
	pdf_document *doc;
	size_t *ends;
	int nrev;
	pdf_document **revdoc;  /* the file as it stood at the end of each revision */
	sc_diff *diffs;         /* diffs[k]: revision k+1 -> k+2 (0-based k) */
	signed char *diffed;
	X509_STORE *store;
	STACK_OF(X509) *pool;   /* CMS, DSS and token certificates */
	rev_data dss;           /* from /DSS */
	long long now;
	int cert_rev;           /* revision of the certification signature, 0 = none */
	int cert_p;
} vstate;

/* Working data of one signature. */
typedef struct {
	signcore_sig_report *r;
	pdf_obj *field;
	pdf_obj *v;
	int rev;                 /* 1-based, 0 = unknown */
	long long br[4];
	int ranges_ok;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	X509 *signer;
	STACK_OF(X509) *chain;   /* built chain, leaf first */
	rev_data cmsrev;         /* CRLs carried in the CMS */
	long long ts_time;       /* proven time (0 = none) */
	X509 *tsa;               /* signer of the time-stamp token */
	int lock_all;            /* FieldMDP */
	char **lock_fields;
	int nlock;
	int lock_exclude;
	int intact;
	int revocation_embedded; /* the chain is covered by /DSS data */
	int no_ess;              /* no signing-certificate(-v2) attribute */
	char why[320];           /* the reason a check failed (formatted) */
} vsig;

/* ---------------------------------------------------------------- strings */

static const char *keep(signcore_report *rep, const char *s)
{
	char *c;

	if (!s)
		return NULL;
	if (rep->nstrs == rep->capstrs) {
		size_t cap = rep->capstrs ? rep->capstrs * 2 : 64;
		char **v = realloc(rep->strs, cap * sizeof *v);
		if (!v)
			return NULL;
		rep->strs = v;
		rep->capstrs = cap;
	}
	c = signcore__strdup(s);
	if (c)
		rep->strs[rep->nstrs++] = c;
	return c;
}

static const char *keepf(signcore_report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *keepf(signcore_report *rep, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return keep(rep, buf);
}

/* The full distinguished name, RFC 2253 order, UTF-8. */
static const char *keep_name(signcore_report *rep, const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	const char *k = NULL;
	char *p = NULL, *z;
	long n;

	if (!b)
		return NULL;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0 && (z = malloc((size_t)n + 1)) != NULL) {
		memcpy(z, p, (size_t)n);
		z[n] = 0;
		k = keep(rep, z);
		free(z);
	}
	BIO_free(b);
	return k;
}

static const char *keep_time(signcore_report *rep, long long t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm))
		return NULL;
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return keep(rep, buf);
}

static long long asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (long long)timegm(&tm);
}

static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	return r ? r : "unknown reason";
}

/* ---------------------------------------------------------- PDF helpers */

static char *pdf_text(fz_context *fz, pdf_obj *o)
{
	return pdf_is_string(fz, o) ? pdf_new_utf8_from_pdf_string_obj(fz, o) : NULL;
}

static const char *keep_pdf_text(vstate *vs, pdf_obj *o)
{
	char *s = pdf_text(vs->fz, o);
	const char *k = keep(vs->rep, s);
	fz_free(vs->fz, s);
	return k;
}

/* PDF date "D:YYYYMMDDHHmmSS+HH'mm'" to seconds since 1970. */
static long long pdf_date(const char *s)
{
	struct tm tm;
	int v[6] = { 0, 1, 1, 0, 0, 0 }, widths[6] = { 4, 2, 2, 2, 2, 2 }, i, j, off = 0;

	if (!s)
		return 0;
	if (!strncmp(s, "D:", 2))
		s += 2;
	for (i = 0; i < 6; i++) {
		int x = 0;
		for (j = 0; j < widths[i]; j++, s++) {
			if (*s < '0' || *s > '9')
				break;
			x = x * 10 + (*s - '0');
		}
		if (j == 0)
			break;
		if (j != widths[i])
			return 0;
		v[i] = x;
	}
	if (i == 0)
		return 0;
	if (*s == '+' || *s == '-') {
		int sign = *s == '-' ? -1 : 1, hh = 0, mm = 0;
		s++;
		if (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9') {
			hh = (s[0] - '0') * 10 + (s[1] - '0');
			s += 2;
			if (*s == '\'')
				s++;
			if (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9')
				mm = (s[0] - '0') * 10 + (s[1] - '0');
		}
		off = sign * (hh * 3600 + mm * 60);
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	return (long long)timegm(&tm) - off;
}

static void rev_data_free(rev_data *r)
{
	int i;

	for (i = 0; i < r->nocsp; i++)
		OCSP_BASICRESP_free(r->ocsp[i]);
	for (i = 0; i < r->ncrl; i++)
		X509_CRL_free(r->crl[i]);
	free(r->ocsp);
	free(r->ocsp_ok);
	free(r->crl);
	memset(r, 0, sizeof *r);
}

static void add_ocsp_der(rev_data *r, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	OCSP_BASICRESP *bs = NULL, **v;
	signed char *ok;

	if (resp && OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_SUCCESSFUL)
		bs = OCSP_response_get1_basic(resp);
	OCSP_RESPONSE_free(resp);
	if (!bs)
		return;
	v = realloc(r->ocsp, sizeof *v * (size_t)(r->nocsp + 1));
	if (v)
		r->ocsp = v;
	ok = v ? realloc(r->ocsp_ok, (size_t)(r->nocsp + 1)) : NULL;
	if (!ok) {
		OCSP_BASICRESP_free(bs);
		return;
	}
	r->ocsp_ok = ok;
	r->ocsp_ok[r->nocsp] = 0;
	r->ocsp[r->nocsp++] = bs;
}

static void add_crl(rev_data *r, X509_CRL *crl)
{
	X509_CRL **v = realloc(r->crl, sizeof *v * (size_t)(r->ncrl + 1));

	if (!v) {
		X509_CRL_free(crl);
		return;
	}
	r->crl = v;
	r->crl[r->ncrl++] = crl;
}

static void add_crl_der(rev_data *r, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);

	if (crl)
		add_crl(r, crl);
}

static void add_pool_cert(STACK_OF(X509) *pool, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(pool); i++)
		if (!X509_cmp(sk_X509_value(pool, i), x))
			return;
	if (X509_up_ref(x) && !sk_X509_push(pool, x))
		X509_free(x);
}

/* Each stream of the /DSS array KEY. */
static void dss_streams(vstate *vs, pdf_obj *dss, const char *key, int kind)
{
	fz_context *fz = vs->fz;
	pdf_obj *arr = pdf_dict_gets(fz, dss, key);
	int i, n = pdf_array_len(fz, arr);

	for (i = 0; i < n; i++) {
		fz_buffer *b = NULL;
		fz_var(b);
		fz_try(fz) {
			const unsigned char *p;
			b = pdf_load_stream(fz, pdf_array_get(fz, arr, i));
			p = b->data;
			if (kind == 0) {
				X509 *x = d2i_X509(NULL, &p, (long)b->len);
				if (x) {
					add_pool_cert(vs->pool, x);
					X509_free(x);
				}
			} else if (kind == 1)
				add_ocsp_der(&vs->dss, b->data, b->len);
			else
				add_crl_der(&vs->dss, b->data, b->len);
		}
		fz_always(fz)
			fz_drop_buffer(fz, b);
		fz_catch(fz)
			(void)0; /* an unreadable stream is skipped */
	}
}

static void load_dss(vstate *vs)
{
	fz_context *fz = vs->fz;
	pdf_obj *dss = pdf_dict_gets(fz, pdf_dict_get(fz, pdf_trailer(fz, vs->doc), PDF_NAME(Root)), "DSS");

	if (!pdf_is_dict(fz, dss))
		return;
	vs->rep->dss = 1;
	dss_streams(vs, dss, "Certs", 0);
	dss_streams(vs, dss, "OCSPs", 1);
	dss_streams(vs, dss, "CRLs", 2);
}

/* ------------------------------------------------------------- revisions */

static pdf_document *open_prefix(vstate *vs, size_t len)
{
	fz_context *fz = vs->fz;
	fz_buffer *b = NULL;
	fz_stream *stm = NULL;
	pdf_document *pdf = NULL;

	fz_var(b);
	fz_var(stm);
	fz_var(pdf);
	fz_try(fz) {
		b = fz_new_buffer_from_shared_data(fz, vs->d, len);
		stm = fz_open_buffer(fz, b);
		pdf = pdf_open_document_with_stream(fz, stm);
		if (pdf_needs_password(fz, pdf) && !pdf_authenticate_password(fz, pdf, vs->o->password ? vs->o->password : ""))
			fz_throw(fz, FZ_ERROR_GENERIC, "password");
		if (pdf->repair_attempted)
			fz_throw(fz, FZ_ERROR_GENERIC, "damaged");
	}
	fz_always(fz) {
		fz_drop_stream(fz, stm);
		fz_drop_buffer(fz, b);
	}
	fz_catch(fz) {
		pdf_drop_document(fz, pdf);
		return NULL;
	}
	return pdf;
}

/* The document at the end of revision K (0-based); NULL if it cannot be read. */
static pdf_document *rev_doc(vstate *vs, int k)
{
	if (k < 0 || k >= vs->nrev)
		return NULL;
	if (!vs->revdoc[k]) {
		if (vs->ends[k] == vs->n && !vs->doc->repair_attempted)
			vs->revdoc[k] = pdf_keep_document(vs->fz, vs->doc);
		else
			vs->revdoc[k] = open_prefix(vs, vs->ends[k]);
	}
	return vs->revdoc[k];
}

/* What changed from revision K to K+1 (0-based). */
static sc_diff *diff_at(vstate *vs, int k)
{
	sc_diff *d = &vs->diffs[k];
	pdf_document *a, *b;

	if (vs->diffed[k])
		return d;
	vs->diffed[k] = 1;
	a = rev_doc(vs, k);
	b = rev_doc(vs, k + 1);
	if (!a || !b)
		signcore__diff_note(d, SIGNCORE_CHANGES_DISALLOWED, "revision %d cannot be read as a PDF", !a ? k + 1 : k + 2);
	else
		signcore__diff(vs->fz, a, b, d);
	return d;
}

/* ------------------------------------------------------------ integrity */

/* Locate the /Contents hex string of the signature dictionary of FIELD in
 * the raw file: [*start, *end). */
static const char *locate_contents(vstate *vs, pdf_obj *field, size_t *start, size_t *end)
{
	fz_context *fz = vs->fz;
	pdf_obj *vref = pdf_dict_get(fz, field, PDF_NAME(V));
	int num = pdf_is_indirect(fz, vref) ? pdf_to_num(fz, vref) : pdf_to_num(fz, field);
	pdf_xref_entry *e;
	sc_lexer l;
	size_t vstart;
	int tok;

	if (num <= 0 || num >= pdf_xref_len(fz, vs->doc))
		return "the signature dictionary is not an indirect object";
	e = pdf_get_xref_entry_no_null(fz, vs->doc, num);
	if (e->type == 'o')
		return "the signature dictionary is inside a compressed object stream";
	if (e->type != 'n' || e->ofs <= 0 || (size_t)e->ofs >= vs->n)
		return "the signature dictionary cannot be found in the file";
	l.d = vs->d;
	l.n = vs->n;
	l.pos = (size_t)e->ofs;
	if (signcore__obj_header(&l, num))
		return "the signature dictionary's object header is malformed";
	if (!pdf_is_indirect(fz, vref)) {
		if (signcore__dict_find(&l, "V", &vstart, &tok) || tok != SC_TOK_DICT)
			return "the field's /V dictionary cannot be parsed";
		l.pos = vstart;
	}
	switch (signcore__dict_find(&l, "Contents", &vstart, &tok)) {
	case 0:
		break;
	case 1:
		return "the signature dictionary has no /Contents";
	default:
		return "the signature dictionary cannot be parsed";
	}
	if (tok != SC_TOK_HEX)
		return "/Contents is not a hexadecimal string";
	l.pos = vstart;
	signcore__lex(&l, start);
	*end = l.pos;
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the hex string [start, end) and cut the zero padding after the DER. */
static unsigned char *contents_der(vstate *vs, size_t start, size_t end, size_t *len, const char **why)
{
	unsigned char *out = malloc((end - start) / 2 + 2);
	size_t i, n = 0, der;
	int hi = -1;

	*why = NULL;
	if (!out) {
		*why = "out of memory";
		return NULL;
	}
	for (i = start + 1; i + 1 < end; i++) {
		int v = hexval(vs->d[i]);
		if (v < 0)
			continue;
		if (hi < 0)
			hi = v;
		else {
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		out[n++] = (unsigned char)(hi << 4);
	/* DER length of the outer SEQUENCE. */
	der = 0;
	if (n >= 2 && out[0] == 0x30) {
		if (out[1] < 0x80)
			der = 2 + out[1];
		else {
			int k = out[1] & 0x7f;
			size_t l = 0;
			if (k >= 1 && k <= 4 && n >= 2 + (size_t)k) {
				for (i = 0; i < (size_t)k; i++)
					l = l << 8 | out[2 + i];
				der = 2 + (size_t)k + l;
			}
		}
	}
	if (!der || der > n) {
		*why = "/Contents does not hold a DER-encoded CMS structure";
		free(out);
		return NULL;
	}
	for (i = der; i < n; i++)
		if (out[i]) {
			*why = "/Contents has non-zero bytes after the CMS structure";
			free(out);
			return NULL;
		}
	*len = der;
	return out;
}

static int hash_ranges(vstate *vs, const vsig *s, const EVP_MD *md, unsigned char *out, unsigned int *outlen)
{
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	int ok = mc && EVP_DigestInit_ex(mc, md, NULL) &&
		EVP_DigestUpdate(mc, vs->d + s->br[0], (size_t)s->br[1]) &&
		EVP_DigestUpdate(mc, vs->d + s->br[2], (size_t)s->br[3]) &&
		EVP_DigestFinal_ex(mc, out, outlen);

	EVP_MD_CTX_free(mc);
	return ok ? 0 : -1;
}

/* ByteRange sanity; sets s->rev. Returns a reason or NULL. */
static const char *check_byterange(vstate *vs, vsig *s)
{
	fz_context *fz = vs->fz;
	pdf_obj *br = pdf_dict_get(fz, s->v, PDF_NAME(ByteRange));
	size_t cstart, cend;
	const char *err;
	int i, n = pdf_array_len(fz, br);
	long long end;

	if (!pdf_is_array(fz, br))
		return "the signature has no /ByteRange";
	if (n != 4) {
		snprintf(s->why, sizeof s->why, "/ByteRange holds %d numbers; a signature needs exactly two ranges (4 numbers)", n);
		return s->why;
	}
	for (i = 0; i < 4; i++) {
		pdf_obj *x = pdf_array_get(fz, br, i);
		if (!pdf_is_int(fz, x))
			return "/ByteRange holds something other than integers";
		s->br[i] = pdf_to_int64(fz, x);
		if (s->br[i] < 0)
			return "/ByteRange holds a negative number";
	}
	if (s->br[0] != 0)
		return "the first byte range does not start at the beginning of the file";
	if (s->br[1] <= 0 || s->br[3] <= 0)
		return "a byte range is empty";
	if (s->br[2] < s->br[0] + s->br[1])
		return "the byte ranges overlap";
	end = s->br[2] + s->br[3];
	if (end > (long long)vs->n || s->br[2] > (long long)vs->n) {
		snprintf(s->why, sizeof s->why, "the byte range ends at %lld, beyond the end of the file (%zu bytes): the file is truncated",
			end, vs->n);
		return s->why;
	}
	if ((err = locate_contents(vs, s->field, &cstart, &cend)) != NULL)
		return err;
	if ((long long)cstart != s->br[1] || (long long)cend != s->br[2]) {
		snprintf(s->why, sizeof s->why, "the gap between the byte ranges (%lld-%lld) is not exactly the /Contents string (%zu-%zu)",
			s->br[1], s->br[2], cstart, cend);
		return s->why;
	}
	for (i = 0; i < vs->nrev; i++)
		if ((long long)vs->ends[i] == end)
			break;
	if (i == vs->nrev) {
		snprintf(s->why, sizeof s->why, "the signed bytes end at %lld, which is not the end of a revision of the file", end);
		return s->why;
	}
	s->rev = i + 1;
	return NULL;
}

static const char *md_name(const EVP_MD *md)
{
	const char *n = EVP_MD_get0_name(md);
	return n ? n : "unknown";
}

static int weak_md(const EVP_MD *md)
{
	int nid = EVP_MD_get_type(md);
	return nid == NID_sha1 || nid == NID_md5 || nid == NID_md2 || nid == NID_md4;
}

/* ------------------------------------------------------------ time-stamps */

typedef struct {
	const unsigned char *p[2];
	size_t len[2];
} chunks;

/* Verify an RFC 3161 token over DATA. Fills the time-stamp fields of R.
 * 1 valid, 2 intact but its authority is not trusted, 0 invalid. */
static int check_token(vstate *vs, const unsigned char *der, size_t len, const chunks *data,
	signcore_sig_report *r, long long *gentime, X509 **tsa_out)
{
	signcore_report *rep = vs->rep;
	const unsigned char *p = der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	TS_TST_INFO *tst = NULL;
	TS_VERIFY_CTX *vc = NULL;
	STACK_OF(X509) *signers = NULL;
	const EVP_MD *md;
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	ASN1_OCTET_STRING *want;
	EVP_MD_CTX *mc = NULL;
	int ok = 0, i;

	ERR_clear_error();
	r->timestamp = SIGNCORE_CHECK_FAILED;
	if (!p7 || !PKCS7_type_is_signed(p7) || !(tst = PKCS7_to_TS_TST_INFO(p7))) {
		r->timestamp_detail = keep(rep, "the time-stamp token does not parse");
		goto done;
	}
	*gentime = asn1_time(TS_TST_INFO_get_time(tst));
	r->timestamp_time = keep_time(rep, *gentime);
	md = EVP_get_digestbyobj(TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(tst))->algorithm);
	want = TS_MSG_IMPRINT_get_msg(TS_TST_INFO_get_msg_imprint(tst));
	if (!md || weak_md(md)) {
		r->timestamp_detail = keep(rep, "the time-stamp uses an unknown or weak digest algorithm");
		goto done;
	}
	mc = EVP_MD_CTX_new();
	if (!mc || !EVP_DigestInit_ex(mc, md, NULL))
		goto done;
	for (i = 0; i < 2; i++)
		if (data->len[i])
			EVP_DigestUpdate(mc, data->p[i], data->len[i]);
	EVP_DigestFinal_ex(mc, dg, &dlen);
	if ((size_t)ASN1_STRING_length(want) != dlen || memcmp(ASN1_STRING_get0_data(want), dg, dlen)) {
		r->timestamp_detail = keep(rep, "the time-stamp's message imprint does not match the time-stamped data");
		goto done;
	}
	signers = PKCS7_get0_signers(p7, vs->pool, 0);
	if (signers && sk_X509_num(signers) > 0) {
		X509 *t = sk_X509_value(signers, 0);
		r->timestamp_authority = keep_name(rep, X509_get_subject_name(t));
		if (tsa_out && X509_up_ref(t))
			*tsa_out = t;
		add_pool_cert(vs->pool, t);
	}
	if (PKCS7_verify(p7, vs->pool, NULL, NULL, NULL, PKCS7_NOVERIFY) != 1) {
		r->timestamp_detail = keepf(rep, "the time-stamp token's signature does not verify (%s)", ossl_reason());
		goto done;
	}
	ERR_clear_error();
	vc = TS_VERIFY_CTX_new();
	if (!vc || !X509_STORE_up_ref(vs->store))
		goto done;
	TS_VERIFY_CTX_set_flags(vc, TS_VFY_SIGNATURE);
	TS_VERIFY_CTX_set_store(vc, vs->store);
	TS_VERIFY_CTX_set_certs(vc, X509_chain_up_ref(vs->pool));
	if (TS_RESP_verify_token(vc, p7) != 1) {
		r->timestamp_detail = keepf(rep, "the time-stamp authority is not trusted or not a TSA (%s)", ossl_reason());
		ok = 2;
		goto done;
	}
	r->timestamp = SIGNCORE_CHECK_OK;
	r->timestamp_detail = keepf(rep, "%s time-stamp by %s", md_name(md),
		r->timestamp_authority ? r->timestamp_authority : "an unnamed authority");
	ok = 1;
done:
	ERR_clear_error();
	EVP_MD_CTX_free(mc);
	sk_X509_free(signers);
	TS_VERIFY_CTX_free(vc);
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	return ok;
}

static X509_STORE *make_store(signcore_ctx *ctx, const signcore_verify_options *o, int *code)
{
	X509_STORE *st = X509_STORE_new();
	size_t i;

	*code = SIGNCORE_OK;
	if (!st) {
		*code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
		return NULL;
	}
	if (o->trust_system)
		X509_STORE_set_default_paths(st);
	for (i = 0; i < o->trust_count; i++) {
		if (X509_STORE_load_file(st, o->trust_files[i]) != 1) {
			*code = signcore__ossl_err(ctx, SIGNCORE_EBADINPUT, "trust anchors cannot be read");
			signcore__prefix_err(ctx, *code, "%s", o->trust_files[i]);
			X509_STORE_free(st);
			return NULL;
		}
	}
	ERR_clear_error();
	return st;
}

/* ------------------------------------------------------------ revocation */

enum { RS_NONE = 0, RS_GOOD = 1, RS_REVOKED = 2 };

/* Status of X (issued by ISSUER) from R; *WHEN: revocation time. */
static int rev_status(vstate *vs, rev_data *r, X509 *x, X509 *issuer, long long *when, const char **src)
{
	int i, j, found = RS_NONE;

	for (i = 0; i < r->nocsp && found == RS_NONE; i++) {
		OCSP_BASICRESP *bs = r->ocsp[i];
		for (j = 0; j < OCSP_resp_count(bs); j++) {
			OCSP_SINGLERESP *single = OCSP_resp_get0(bs, j);
			OCSP_CERTID *cid = (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(single), *mine;
			ASN1_OBJECT *mdoid = NULL;
			ASN1_GENERALIZEDTIME *rt = NULL, *tu = NULL, *nu = NULL;
			const EVP_MD *md;
			int reason, st, match;

			if (!OCSP_id_get0_info(NULL, &mdoid, NULL, NULL, cid) || !(md = EVP_get_digestbyobj(mdoid)))
				continue;
			mine = OCSP_cert_to_id(md, x, issuer);
			match = mine && !OCSP_id_cmp(mine, cid);
			OCSP_CERTID_free(mine);
			if (!match)
				continue;
			if (!r->ocsp_ok[i]) {
				r->ocsp_ok[i] = OCSP_basic_verify(bs, vs->pool, vs->store, 0) == 1 ? 1 : -1;
				ERR_clear_error();
			}
			if (r->ocsp_ok[i] < 0)
				continue; /* not trustworthy */
			st = OCSP_single_get0_status(single, &reason, &rt, &tu, &nu);
			if (st == V_OCSP_CERTSTATUS_GOOD) {
				found = RS_GOOD;
				*src = "OCSP";
			} else if (st == V_OCSP_CERTSTATUS_REVOKED) {
				*when = asn1_time(rt);
				*src = "OCSP";
				return RS_REVOKED;
			}
			break;
		}
	}
	if (found)
		return found;
	for (i = 0; i < r->ncrl; i++) {
		X509_CRL *crl = r->crl[i];
		X509_REVOKED *rv = NULL;
		EVP_PKEY *pk = X509_get0_pubkey(issuer);
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) || !pk ||
		    X509_CRL_verify(crl, pk) != 1) {
			ERR_clear_error();
			continue;
		}
		*src = "CRL";
		if (X509_CRL_get0_by_cert(crl, &rv, x) == 1 && rv) {
			*when = asn1_time(X509_REVOKED_get0_revocationDate(rv));
			return RS_REVOKED;
		}
		return RS_GOOD;
	}
	return RS_NONE;
}

/* Revocation of every certificate of CHAIN below its anchor. Returns the
 * check and sets *EMBEDDED when /DSS data alone covers the chain. */
static signcore_check check_revocation(vstate *vs, vsig *s, STACK_OF(X509) *chain, long long vtime, int proven,
	const char **detail, int *embedded)
{
	signcore_report *rep = vs->rep;
	int i, n = sk_X509_num(chain), covered = 1, dss_cover = 1;
	rev_data online = { 0 };
	int fetched = 0;
	char srcs[64] = "";

	*embedded = 0;
	if (n < 2) {
		*detail = keep(rep, "no certificate chain to check");
		return SIGNCORE_CHECK_ABSENT;
	}
	for (i = 0; i + 1 < n; i++) {
		X509 *x = sk_X509_value(chain, i), *issuer = sk_X509_value(chain, i + 1);
		long long when = 0;
		const char *src = NULL;
		int st = rev_status(vs, &vs->dss, x, issuer, &when, &src);
		if (st == RS_NONE)
			dss_cover = 0;
		if (st == RS_NONE)
			st = rev_status(vs, &s->cmsrev, x, issuer, &when, &src);
		if (st == RS_NONE && vs->o->online) {
			if (!fetched) {
				STACK_OF(X509) *targets = sk_X509_new_null();
				sc_ltv ltv = { 0 };
				size_t k;
				fetched = 1;
				/* A store of its own: collecting adds the pool's roots to it. */
				int code;
				X509_STORE *scratch = make_store(vs->ctx, vs->o, &code);
				if (scratch && targets && sk_X509_push(targets, sk_X509_value(chain, 0))) {
					signcore__ltv_collect(vs->ctx, targets, vs->pool, scratch,
						SC_LTV_ALLOW_MISSING | SC_LTV_KEEP, &ltv);
					for (k = 0; k < ltv.nocsps; k++)
						add_ocsp_der(&online, ltv.ocsps[k].p, ltv.ocsps[k].len);
					for (k = 0; k < ltv.ncrls; k++)
						add_crl_der(&online, ltv.crls[k].p, ltv.crls[k].len);
				}
				signcore__clear_err(vs->ctx);
				X509_STORE_free(scratch);
				sk_X509_free(targets);
				signcore__ltv_free(&ltv);
			}
			st = rev_status(vs, &online, x, issuer, &when, &src);
			if (st != RS_NONE)
				src = !strcmp(src, "OCSP") ? "OCSP (online)" : "CRL (online)";
		}
		if (src && !strstr(srcs, src) && strlen(srcs) + strlen(src) + 3 < sizeof srcs) {
			if (*srcs)
				strcat(srcs, ", ");
			strcat(srcs, src);
		}
		if (st == RS_REVOKED) {
			char *who = signcore__x509_name_text(X509_get_subject_name(x));
			rev_data_free(&online);
			if (proven && when > vtime) {
				*detail = keepf(rep, "%s was revoked on %s, after the proven signing time", who ? who : "a certificate",
					keep_time(rep, when));
				free(who);
				continue;
			}
			*detail = keepf(rep, "%s is revoked (since %s, per %s)", who ? who : "a certificate",
				when ? keep_time(rep, when) : "an unknown date", src);
			free(who);
			return SIGNCORE_CHECK_FAILED;
		}
		if (st == RS_NONE) {
			char *who = signcore__x509_name_text(X509_get_subject_name(x));
			if (covered)
				*detail = keepf(rep, "no revocation data for %s%s", who ? who : "a certificate",
					vs->o->online ? " (none embedded, none fetched)" : " (none embedded; --online fetches it)");
			covered = 0;
			free(who);
		}
	}
	rev_data_free(&online);
	*embedded = dss_cover;
	if (!covered)
		return SIGNCORE_CHECK_ABSENT;
	*detail = keepf(rep, "not revoked (%s)", srcs);
	return SIGNCORE_CHECK_OK;
}

/* ----------------------------------------------------------------- trust */

static STACK_OF(X509) *build_chain(vstate *vs, X509 *leaf, long long when, const char **err)
{
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = NULL;
	int ok;

	*err = NULL;
	if (!sc || !X509_STORE_CTX_init(sc, vs->store, leaf, vs->pool)) {
		X509_STORE_CTX_free(sc);
		*err = "out of memory";
		return NULL;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(sc), (time_t)when);
	ok = X509_verify_cert(sc);
	if (ok != 1)
		*err = X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc));
	chain = X509_STORE_CTX_get1_chain(sc);
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
	return chain;
}

/* ------------------------------------------------------------- the CMS */

static void read_locks(vstate *vs, vsig *s)
{
	fz_context *fz = vs->fz;
	pdf_obj *lock = pdf_dict_get(fz, s->field, PDF_NAME(Lock));
	pdf_obj *refs = pdf_dict_get(fz, s->v, PDF_NAME(Reference));
	pdf_obj *fields = NULL, *action = NULL;
	int i, n;

	if (!lock) {
		n = pdf_array_len(fz, refs);
		for (i = 0; i < n; i++) {
			pdf_obj *ref = pdf_array_get(fz, refs, i);
			if (pdf_name_eq(fz, pdf_dict_get(fz, ref, PDF_NAME(TransformMethod)), PDF_NAME(FieldMDP)))
				lock = pdf_dict_get(fz, ref, PDF_NAME(TransformParams));
		}
	}
	if (!lock)
		return;
	action = pdf_dict_get(fz, lock, PDF_NAME(Action));
	fields = pdf_dict_get(fz, lock, PDF_NAME(Fields));
	if (pdf_name_eq(fz, action, PDF_NAME(All))) {
		s->lock_all = 1;
		return;
	}
	s->lock_exclude = pdf_name_eq(fz, action, PDF_NAME(Exclude));
	n = pdf_array_len(fz, fields);
	s->lock_fields = calloc((size_t)n + 1, sizeof *s->lock_fields);
	for (i = 0; s->lock_fields && i < n; i++) {
		char *t = pdf_text(fz, pdf_array_get(fz, fields, i));
		if (t) {
			s->lock_fields[s->nlock++] = signcore__strdup(t);
			fz_free(fz, t);
		}
	}
}

static int docmdp_p(vstate *vs, vsig *s)
{
	fz_context *fz = vs->fz;
	pdf_obj *refs = pdf_dict_get(fz, s->v, PDF_NAME(Reference));
	pdf_obj *perms = pdf_dict_get(fz, pdf_dict_get(fz, pdf_dict_get(fz, pdf_trailer(fz, vs->doc), PDF_NAME(Root)),
		PDF_NAME(Perms)), PDF_NAME(DocMDP));
	int i, n = pdf_array_len(fz, refs);

	for (i = 0; i < n; i++) {
		pdf_obj *ref = pdf_array_get(fz, refs, i);
		if (pdf_name_eq(fz, pdf_dict_get(fz, ref, PDF_NAME(TransformMethod)), PDF_NAME(DocMDP))) {
			pdf_obj *p = pdf_dict_get(fz, pdf_dict_get(fz, ref, PDF_NAME(TransformParams)), PDF_NAME(P));
			int v = pdf_is_int(fz, p) ? pdf_to_int(fz, p) : 2;
			return v < 1 || v > 3 ? 2 : v;
		}
	}
	if (perms && pdf_to_num(fz, perms) && pdf_to_num(fz, perms) == pdf_to_num(fz, pdf_dict_get(fz, s->field, PDF_NAME(V))))
		return 2;
	return 0;
}

static const char *check_cms(vstate *vs, vsig *s, const unsigned char *der, size_t len, int cades)
{
	signcore_sig_report *r = s->r;
	signcore_report *rep = vs->rep;
	const unsigned char *p = der;
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(X509) *certs = NULL;
	STACK_OF(X509_CRL) *crls;
	X509_ALGOR *dig = NULL, *sigalg = NULL;
	const EVP_MD *md;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	ASN1_OCTET_STRING *mdattr;
	ASN1_OBJECT *ct;
	const char *err = NULL;
	int i;

	ERR_clear_error();
	s->cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (!s->cms || p != der + len)
		return "the CMS signature does not parse";
	if (OBJ_obj2nid(CMS_get0_type(s->cms)) != NID_pkcs7_signed)
		return "the CMS structure is not SignedData";
	if (CMS_get0_content(s->cms) && *CMS_get0_content(s->cms))
		return "the CMS signature is not detached: it carries its own content";
	sis = CMS_get0_SignerInfos(s->cms);
	if (sk_CMS_SignerInfo_num(sis) != 1)
		return "the CMS signature must have exactly one signer";
	s->si = sk_CMS_SignerInfo_value(sis, 0);
	certs = CMS_get1_certs(s->cms);
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		add_pool_cert(vs->pool, x);
		if (!s->signer && !CMS_SignerInfo_cert_cmp(s->si, x) && X509_up_ref(x))
			s->signer = x;
	}
	crls = CMS_get1_crls(s->cms);
	for (i = 0; i < sk_X509_CRL_num(crls); i++)
		if (X509_CRL_up_ref(sk_X509_CRL_value(crls, i)))
			add_crl(&s->cmsrev, sk_X509_CRL_value(crls, i));
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	if (!s->signer) {
		/* The certificate may be in the /DSS. */
		for (i = 0; i < sk_X509_num(vs->pool); i++)
			if (!CMS_SignerInfo_cert_cmp(s->si, sk_X509_value(vs->pool, i)) && X509_up_ref(sk_X509_value(vs->pool, i))) {
				s->signer = sk_X509_value(vs->pool, i);
				break;
			}
	}
	if (!s->signer) {
		err = "the signer's certificate is not in the signature";
		goto done;
	}
	r->signer = keep_name(rep, X509_get_subject_name(s->signer));
	r->issuer = keep_name(rep, X509_get_issuer_name(s->signer));
	{
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(s->signer), NULL);
		char *hex = bn ? BN_bn2hex(bn) : NULL;
		r->serial = keep(rep, hex);
		OPENSSL_free(hex);
		BN_free(bn);
	}
	CMS_SignerInfo_set1_signer_cert(s->si, s->signer);
	CMS_SignerInfo_get0_algs(s->si, NULL, NULL, &dig, &sigalg);
	md = dig ? EVP_get_digestbyobj(dig->algorithm) : NULL;
	if (!md) {
		err = "the signature's digest algorithm is unknown";
		goto done;
	}
	r->digest_algorithm = keep(rep, md_name(md));
	if (sigalg) {
		char buf[80];
		OBJ_obj2txt(buf, sizeof buf, sigalg->algorithm, 0);
		r->signature_algorithm = keep(rep, buf);
	}
	if (weak_md(md)) {
		snprintf(s->why, sizeof s->why, "the signature uses the weak digest %s", md_name(md));
		err = s->why;
		goto done;
	}
	if (hash_ranges(vs, s, md, digest, &dlen)) {
		err = "the signed bytes cannot be hashed";
		goto done;
	}
	if (CMS_signed_get_attr_count(s->si) <= 0) {
		/* adbe.pkcs7.detached without signed attributes: over the bytes. */
		BIO *bio = NULL;
		unsigned char *all = malloc((size_t)(s->br[1] + s->br[3]));
		if (cades) {
			free(all);
			err = "a CAdES signature must have signed attributes";
			goto done;
		}
		if (all) {
			memcpy(all, vs->d, (size_t)s->br[1]);
			memcpy(all + s->br[1], vs->d + s->br[2], (size_t)s->br[3]);
			bio = BIO_new_mem_buf(all, (int)(s->br[1] + s->br[3]));
		}
		if (!bio || CMS_verify(s->cms, NULL, NULL, bio, NULL, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1)
			err = "the signature does not match the signed bytes";
		BIO_free(bio);
		free(all);
		goto done;
	}
	ct = CMS_signed_get0_data_by_OBJ(s->si, OBJ_nid2obj(NID_pkcs9_contentType), -3, V_ASN1_OBJECT);
	if (!ct || OBJ_obj2nid(ct) != NID_pkcs7_data) {
		err = "the content-type attribute is missing or is not id-data";
		goto done;
	}
	mdattr = CMS_signed_get0_data_by_OBJ(s->si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING);
	if (!mdattr) {
		err = "the message-digest attribute is missing";
		goto done;
	}
	if ((unsigned int)ASN1_STRING_length(mdattr) != dlen || memcmp(ASN1_STRING_get0_data(mdattr), digest, dlen)) {
		err = "the document's digest does not match the signed message-digest: the signed bytes were changed";
		goto done;
	}
	if (CMS_SignerInfo_verify(s->si) != 1) {
		snprintf(s->why, sizeof s->why, "the CMS signature does not verify with the signer's certificate (%s)", ossl_reason());
		err = s->why;
		goto done;
	}
	{
		/* The signing certificate must be bound (ESS, v2 or v1). */
		ASN1_STRING *v2 = CMS_signed_get0_data_by_OBJ(s->si, OBJ_nid2obj(NID_id_smime_aa_signingCertificateV2), -3, V_ASN1_SEQUENCE);
		ASN1_STRING *v1 = CMS_signed_get0_data_by_OBJ(s->si, OBJ_nid2obj(NID_id_smime_aa_signingCertificate), -3, V_ASN1_SEQUENCE);
		ESS_SIGNING_CERT_V2 *e2 = NULL;
		ESS_SIGNING_CERT *e1 = NULL;
		STACK_OF(X509) *one = sk_X509_new_null();
		const unsigned char *q;

		if (v2) {
			q = ASN1_STRING_get0_data(v2);
			e2 = d2i_ESS_SIGNING_CERT_V2(NULL, &q, ASN1_STRING_length(v2));
		}
		if (v1) {
			q = ASN1_STRING_get0_data(v1);
			e1 = d2i_ESS_SIGNING_CERT(NULL, &q, ASN1_STRING_length(v1));
		}
		if (!v1 && !v2) {
			s->no_ess = 1; /* intact, but not PAdES (judged in set_level) */
		} else if ((v2 && !e2) || (v1 && !e1)) {
			err = "the signing-certificate attribute does not parse";
		} else if (!one || !sk_X509_push(one, s->signer) || OSSL_ESS_check_signing_certs(e1, e2, one, 1) != 1) {
			err = "the signing-certificate-v2 attribute does not match the signer's certificate";
		}
		sk_X509_free(one);
		ESS_SIGNING_CERT_V2_free(e2);
		ESS_SIGNING_CERT_free(e1);
	}
done:
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	return err;
}

/* The signature-time-stamp of S, if any. */
static void check_sig_timestamp(vstate *vs, vsig *s)
{
	int idx = CMS_unsigned_get_attr_by_NID(s->si, NID_id_smime_aa_timeStampToken, -1);
	X509_ATTRIBUTE *at;
	ASN1_TYPE *t;
	ASN1_OCTET_STRING *sv;
	chunks c = { { NULL, NULL }, { 0, 0 } };
	long long gen = 0;

	if (idx < 0) {
		s->r->timestamp = SIGNCORE_CHECK_ABSENT;
		return;
	}
	at = CMS_unsigned_get_attr(s->si, idx);
	t = at ? X509_ATTRIBUTE_get0_type(at, 0) : NULL;
	if (!t || t->type != V_ASN1_SEQUENCE) {
		s->r->timestamp = SIGNCORE_CHECK_FAILED;
		s->r->timestamp_detail = keep(vs->rep, "the signature-time-stamp attribute is malformed");
		return;
	}
	sv = CMS_SignerInfo_get0_signature(s->si);
	c.p[0] = ASN1_STRING_get0_data(sv);
	c.len[0] = (size_t)ASN1_STRING_length(sv);
	if (check_token(vs, ASN1_STRING_get0_data(t->value.sequence), (size_t)ASN1_STRING_length(t->value.sequence),
			&c, s->r, &gen, &s->tsa) == 1)
		s->ts_time = gen;
}

/* ------------------------------------------------------ one signature */

static void check_signature(vstate *vs, vsig *s)
{
	fz_context *fz = vs->fz;
	signcore_sig_report *r = s->r;
	signcore_report *rep = vs->rep;
	pdf_obj *sub = pdf_dict_get(fz, s->v, PDF_NAME(SubFilter));
	const char *subf = pdf_to_name(fz, sub);
	const char *err;
	unsigned char *der = NULL;
	size_t len = 0;
	int cades = !strcmp(subf, "ETSI.CAdES.detached");
	int tst = !strcmp(subf, "ETSI.RFC3161");

	r->subfilter = keep(rep, *subf ? subf : NULL);
	r->kind = tst || !strcmp(pdf_to_name(fz, pdf_dict_get(fz, s->v, PDF_NAME(Type))), "DocTimeStamp") ?
		SIGNCORE_SIGKIND_TIMESTAMP : SIGNCORE_SIGKIND_APPROVAL;
	r->name = keep_pdf_text(vs, pdf_dict_get(fz, s->v, PDF_NAME(Name)));
	r->reason = keep_pdf_text(vs, pdf_dict_get(fz, s->v, PDF_NAME(Reason)));
	r->location = keep_pdf_text(vs, pdf_dict_get(fz, s->v, PDF_NAME(Location)));
	r->contact = keep_pdf_text(vs, pdf_dict_get(fz, s->v, PDF_NAME(ContactInfo)));
	{
		char *m = pdf_text(fz, pdf_dict_get(fz, s->v, PDF_NAME(M)));
		r->claimed_time = keep_time(rep, pdf_date(m));
		fz_free(fz, m);
	}
	if (r->kind != SIGNCORE_SIGKIND_TIMESTAMP && (r->docmdp = docmdp_p(vs, s)) > 0)
		r->kind = SIGNCORE_SIGKIND_CERTIFICATION;
	read_locks(vs, s);
	r->integrity = SIGNCORE_CHECK_FAILED;
	r->trust = SIGNCORE_CHECK_ABSENT;
	r->timestamp = SIGNCORE_CHECK_ABSENT;
	r->revocation = SIGNCORE_CHECK_ABSENT;
	if (!cades && !tst && strcmp(subf, "adbe.pkcs7.detached")) {
		r->integrity_detail = keepf(rep, "unsupported /SubFilter %s", *subf ? subf : "(none)");
		return;
	}
	if ((err = check_byterange(vs, s)) != NULL) {
		r->integrity_detail = keep(rep, err);
		return;
	}
	r->revision = s->rev;
	if (!(der = contents_der(vs, (size_t)s->br[1], (size_t)s->br[2], &len, &err))) {
		r->integrity_detail = keep(rep, err);
		return;
	}
	if (tst) {
		chunks c = { { vs->d + s->br[0], vs->d + s->br[2] }, { (size_t)s->br[1], (size_t)s->br[3] } };
		long long gen = 0;
		if (check_token(vs, der, len, &c, r, &gen, &s->tsa)) {
			/* The token is intact even when its authority is not trusted. */
			r->integrity = SIGNCORE_CHECK_OK;
			r->integrity_detail = keep(rep, "the time-stamp token covers exactly the signed bytes");
			if (r->timestamp != SIGNCORE_CHECK_OK) {
				r->trust = SIGNCORE_CHECK_FAILED;
				r->trust_detail = r->timestamp_detail;
			}
			s->intact = 1;
		} else
			r->integrity_detail = r->timestamp_detail;
		s->ts_time = r->timestamp == SIGNCORE_CHECK_OK ? gen : 0;
		if (s->tsa) {
			r->signer = keep_name(rep, X509_get_subject_name(s->tsa));
			r->issuer = keep_name(rep, X509_get_issuer_name(s->tsa));
			s->signer = s->tsa;
			X509_up_ref(s->signer);
		}
		free(der);
		return;
	}
	err = check_cms(vs, s, der, len, cades);
	free(der);
	if (err) {
		r->integrity_detail = keep(rep, err);
		return;
	}
	r->integrity = SIGNCORE_CHECK_OK;
	r->integrity_detail = keepf(rep, "%s digest of the signed bytes matches; CMS signature verifies",
		r->digest_algorithm);
	s->intact = 1;
	check_sig_timestamp(vs, s);
}

static void check_trust(vstate *vs, vsig *s)
{
	signcore_sig_report *r = s->r;
	signcore_report *rep = vs->rep;
	long long vtime;
	const char *err;
	int embedded = 0;

	if (!s->intact || !s->signer)
		return;
	if (s->ts_time) {
		vtime = s->ts_time;
		r->validation_time_source = r->kind == SIGNCORE_SIGKIND_TIMESTAMP ? "time-stamp genTime" : "signature time-stamp";
	} else {
		char *m = pdf_text(vs->fz, pdf_dict_get(vs->fz, s->v, PDF_NAME(M)));
		vtime = pdf_date(m);
		fz_free(vs->fz, m);
		r->validation_time_source = "claimed (/M)";
		if (!vtime) {
			vtime = vs->now;
			r->validation_time_source = "current time";
		}
	}
	r->validation_time = keep_time(rep, vtime);
	s->chain = build_chain(vs, s->signer, vtime, &err);
	if (r->kind == SIGNCORE_SIGKIND_TIMESTAMP) {
		/* Trust was judged with the token (TSA chain and key usage). */
		if (r->trust == SIGNCORE_CHECK_ABSENT) {
			r->trust = SIGNCORE_CHECK_OK;
			r->trust_detail = keep(rep, "the time-stamp authority chains to a trust anchor");
		}
	} else if (err) {
		r->trust = SIGNCORE_CHECK_FAILED;
		r->trust_detail = keepf(rep, "%s at %s%s", err, r->validation_time,
			!vs->o->trust_count && !vs->o->trust_system ? " (no trust anchors given: use --trust or --trust-system)" : "");
	} else if ((X509_get_extension_flags(s->signer) & EXFLAG_KUSAGE) &&
		   !(X509_get_key_usage(s->signer) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
		r->trust = SIGNCORE_CHECK_FAILED;
		r->trust_detail = keep(rep, "the signer's certificate is not for signing (key usage)");
	} else {
		r->trust = SIGNCORE_CHECK_OK;
		r->trust_detail = keepf(rep, "chain of %d certificate(s) to a trust anchor, valid at %s",
			sk_X509_num(s->chain), r->validation_time);
	}
	if (s->chain)
		r->revocation = check_revocation(vs, s, s->chain, vtime, s->ts_time != 0, &r->revocation_detail, &embedded);
	s->revocation_embedded = embedded;
	/* The TSA's own certificate must be covered for B-LT. */
	if (embedded && s->tsa && r->kind != SIGNCORE_SIGKIND_TIMESTAMP) {
		STACK_OF(X509) *tchain = build_chain(vs, s->tsa, vtime, &err);
		int i, n = sk_X509_num(tchain);
		for (i = 0; i + 1 < n; i++) {
			long long when = 0;
			const char *src = NULL;
			if (rev_status(vs, &vs->dss, sk_X509_value(tchain, i), sk_X509_value(tchain, i + 1), &when, &src) == RS_NONE)
				s->revocation_embedded = 0;
		}
		sk_X509_pop_free(tchain, X509_free);
	}
}

/* --------------------------------------------------------- modifications */

static int locked(const vsig *s, const char *name)
{
	int i, in = 0;

	if (s->lock_all)
		return 1;
	for (i = 0; i < s->nlock; i++)
		if (!strcmp(s->lock_fields[i], name))
			in = 1;
	return s->lock_exclude ? !in : in;
}

static const char *change_name(signcore_changes c)
{
	switch (c) {
	case SIGNCORE_CHANGES_NONE: return "none";
	case SIGNCORE_CHANGES_LTV: return "validation data (DSS, document time-stamps)";
	case SIGNCORE_CHANGES_FORM: return "form filling and signatures";
	case SIGNCORE_CHANGES_ANNOTATIONS: return "annotations";
	default: return "disallowed changes";
	}
}

static void check_changes(vstate *vs, vsig *s, long long trailing)
{
	signcore_sig_report *r = s->r;
	signcore_report *rep = vs->rep;
	signcore_changes allowed = SIGNCORE_CHANGES_FORM;
	char detail[1600] = "", lockmsg[300] = "";
	int k, i;

	if (!s->rev)
		return;
	r->whole_file = s->rev == vs->nrev && trailing == 0;
	r->changes = SIGNCORE_CHANGES_NONE;
	for (k = s->rev - 1; k + 1 < vs->nrev; k++) {
		sc_diff *d = diff_at(vs, k);
		size_t len = strlen(detail);
		if (d->level > r->changes)
			r->changes = d->level;
		snprintf(detail + len, sizeof detail - len, "%srevision %d: %s", len ? "; " : "", k + 2,
			d->level == SIGNCORE_CHANGES_NONE ? "no change" : d->detail);
		for (i = 0; i < d->nfields && !*lockmsg; i++)
			if (locked(s, d->fields[i]))
				snprintf(lockmsg, sizeof lockmsg, "field \"%s\" is locked by this signature (FieldMDP) but changed",
					d->fields[i]);
	}
	if (trailing > 0) {
		size_t len = strlen(detail);
		r->changes = SIGNCORE_CHANGES_DISALLOWED;
		snprintf(detail + len, sizeof detail - len, "%s%lld bytes after the end of the last revision belong to no revision",
			len ? "; " : "", trailing);
	}
	if (vs->cert_rev && s->rev >= vs->cert_rev)
		allowed = vs->cert_p == 1 ? SIGNCORE_CHANGES_LTV : vs->cert_p == 2 ? SIGNCORE_CHANGES_FORM : SIGNCORE_CHANGES_ANNOTATIONS;
	r->changes_permitted = r->changes <= allowed && !*lockmsg;
	if (*lockmsg) {
		size_t len = strlen(detail);
		snprintf(detail + len, sizeof detail - len, "%s%s", len ? "; " : "", lockmsg);
	}
	if (r->changes == SIGNCORE_CHANGES_NONE)
		r->changes_detail = keep(rep, r->whole_file ? "the signature covers the whole file" : "later revisions change nothing");
	else
		r->changes_detail = keepf(rep, "changed after signing: %s (%s): %s", change_name(r->changes),
			r->changes_permitted ? "permitted" : vs->cert_rev && s->rev >= vs->cert_rev ?
			"not permitted by the certification" : "not permitted", detail);
}

/* --------------------------------------------------------------- levels */

static void set_level(vstate *vs, vsig *s, vsig *all, int count)
{
	signcore_sig_report *r = s->r;
	int dss_rev = 0, k, i, lta = 0;

	if (!s->intact || r->kind == SIGNCORE_SIGKIND_UNSIGNED)
		return;
	if (r->kind == SIGNCORE_SIGKIND_TIMESTAMP) {
		r->level = "document time-stamp";
		return;
	}
	if (!r->subfilter || strcmp(r->subfilter, "ETSI.CAdES.detached")) {
		r->level = "not PAdES (adbe.pkcs7.detached)";
		return;
	}
	if (s->no_ess) {
		r->level = "not PAdES (no signing-certificate-v2 attribute)";
		return;
	}
	if (r->timestamp != SIGNCORE_CHECK_OK) {
		r->level = "B-B";
		return;
	}
	/* B-LT: the chains' revocation data in a /DSS added after signing. */
	for (k = s->rev; k < vs->nrev && !dss_rev; k++) {
		pdf_document *d = rev_doc(vs, k);
		if (d && pdf_dict_gets(vs->fz, pdf_dict_get(vs->fz, pdf_trailer(vs->fz, d), PDF_NAME(Root)), "DSS"))
			dss_rev = k + 1;
	}
	if (!dss_rev || !s->revocation_embedded || r->revocation != SIGNCORE_CHECK_OK) {
		r->level = "B-T";
		return;
	}
	for (i = 0; i < count; i++)
		if (all[i].r->kind == SIGNCORE_SIGKIND_TIMESTAMP && all[i].intact &&
		    all[i].r->timestamp == SIGNCORE_CHECK_OK && all[i].rev > dss_rev)
			lta = 1;
	r->level = lta ? "B-LTA" : "B-LT";
}

/* ---------------------------------------------------------------- verdict */

static void judge(vstate *vs, vsig *s)
{
	signcore_sig_report *r = s->r;
	signcore_report *rep = vs->rep;
	const char *who = r->signer ? r->signer : "unknown signer";

	if (r->kind == SIGNCORE_SIGKIND_UNSIGNED) {
		r->valid = 1;
		r->summary = keep(rep, "unsigned signature field");
		return;
	}
	r->valid = 0;
	if (r->integrity != SIGNCORE_CHECK_OK)
		r->summary = keepf(rep, "INVALID: %s", r->integrity_detail);
	else if (r->changes == SIGNCORE_CHANGES_DISALLOWED)
		r->summary = keepf(rep, "INVALID: %s", r->changes_detail);
	else if (!r->changes_permitted)
		r->summary = keepf(rep, "MODIFIED: %s", r->changes_detail);
	else if (r->kind != SIGNCORE_SIGKIND_TIMESTAMP && r->timestamp == SIGNCORE_CHECK_FAILED)
		r->summary = keepf(rep, "INVALID: signature time-stamp: %s", r->timestamp_detail);
	else if (r->trust != SIGNCORE_CHECK_OK)
		r->summary = keepf(rep, "UNTRUSTED: %s", r->trust_detail);
	else if (r->revocation == SIGNCORE_CHECK_FAILED)
		r->summary = keepf(rep, "INVALID: %s", r->revocation_detail);
	else {
		r->valid = 1;
		if (r->kind == SIGNCORE_SIGKIND_TIMESTAMP)
			r->summary = keepf(rep, "VALID document time-stamp of %s by %s", r->timestamp_time ? r->timestamp_time : "?",
				r->timestamp_authority ? r->timestamp_authority : who);
		else
			r->summary = keepf(rep, "VALID (%s): signed by %s%s%s", r->level ? r->level : "?", who,
				r->changes == SIGNCORE_CHANGES_NONE ? "" : "; later: ",
				r->changes == SIGNCORE_CHANGES_NONE ? "" : change_name(r->changes));
	}
}

static int by_revision(const void *a, const void *b)
{
	const vsig *x = a, *y = b;
	int rx = x->rev ? x->rev : 1 << 30, ry = y->rev ? y->rev : 1 << 30;
	return rx < ry ? -1 : rx > ry;
}

/* ---------------------------------------------------------------- driver */

static void collect_sig_fields(fz_context *fz, pdf_obj *kids, pdf_obj ***out, int *n, int *cap, int depth)
{
	int i, len = pdf_array_len(fz, kids);

	if (depth > 32)
		return;
	for (i = 0; i < len; i++) {
		pdf_obj *f = pdf_array_get(fz, kids, i);
		pdf_obj *sub = pdf_dict_get(fz, f, PDF_NAME(Kids));
		int j, terminal = 1, k;
		for (j = 0; j < pdf_array_len(fz, sub); j++)
			if (pdf_dict_get(fz, pdf_array_get(fz, sub, j), PDF_NAME(T)))
				terminal = 0;
		if (!terminal) {
			collect_sig_fields(fz, sub, out, n, cap, depth + 1);
			continue;
		}
		if (!pdf_name_eq(fz, pdf_dict_get_inheritable(fz, f, PDF_NAME(FT)), PDF_NAME(Sig)))
			continue;
		for (k = 0; k < *n; k++)
			if (!pdf_objcmp(fz, (*out)[k], f))
				break;
		if (k < *n)
			continue;
		if (*n == *cap) {
			int c = *cap ? *cap * 2 : 8;
			pdf_obj **v = realloc(*out, (size_t)c * sizeof *v);
			if (!v)
				fz_throw(fz, FZ_ERROR_GENERIC, "out of memory");
			*out = v;
			*cap = c;
		}
		(*out)[(*n)++] = f;
	}
}

static long long trailing_bytes(const vstate *vs)
{
	size_t last = vs->nrev ? vs->ends[vs->nrev - 1] : 0, i;
	long long extra = 0;

	for (i = last; i < vs->n; i++)
		if (!(vs->d[i] == ' ' || vs->d[i] == '\n' || vs->d[i] == '\r' || vs->d[i] == '\t' || vs->d[i] == 0))
			extra = (long long)(vs->n - last);
	return extra;
}

static void run(vstate *vs)
{
	fz_context *fz = vs->fz;
	signcore_report *rep = vs->rep;
	pdf_obj **fields = NULL;
	vsig *sigs = NULL;
	int nf = 0, cap = 0, i, nsigned = 0, bad = -1;
	long long trailing;

	fz_var(fields);
	fz_var(sigs);
	fz_var(nsigned);
	fz_var(bad);
	fz_try(fz) {
		pdf_obj *root = pdf_dict_get(fz, pdf_trailer(fz, vs->doc), PDF_NAME(Root));
		collect_sig_fields(fz, pdf_dict_getp(fz, root, "AcroForm/Fields"), &fields, &nf, &cap, 0);
		load_dss(vs);
		trailing = trailing_bytes(vs);
		rep->trailing = trailing;
		sigs = calloc((size_t)nf + 1, sizeof *sigs);
		rep->sigs = calloc((size_t)nf + 1, sizeof *rep->sigs);
		if (!sigs || !rep->sigs)
			fz_throw(fz, FZ_ERROR_GENERIC, "out of memory");
		rep->count = (size_t)nf;
		for (i = 0; i < nf; i++) {
			char *name = signcore__field_name(fz, fields[i]);
			sigs[i].r = &rep->sigs[i];
			sigs[i].field = fields[i];
			sigs[i].v = pdf_dict_get(fz, fields[i], PDF_NAME(V));
			rep->sigs[i].field = keep(rep, name);
			fz_free(fz, name);
			if (!pdf_is_dict(fz, sigs[i].v)) {
				rep->sigs[i].kind = SIGNCORE_SIGKIND_UNSIGNED;
				rep->sigs[i].integrity = rep->sigs[i].trust = rep->sigs[i].timestamp = rep->sigs[i].revocation =
					SIGNCORE_CHECK_ABSENT;
				continue;
			}
			nsigned++;
			check_signature(vs, &sigs[i]);
			if (rep->sigs[i].kind == SIGNCORE_SIGKIND_CERTIFICATION && sigs[i].rev &&
			    (!vs->cert_rev || sigs[i].rev < vs->cert_rev)) {
				vs->cert_rev = sigs[i].rev;
				vs->cert_p = rep->sigs[i].docmdp;
			}
		}
		for (i = 0; i < nf; i++)
			if (sigs[i].r->kind != SIGNCORE_SIGKIND_UNSIGNED)
				check_trust(vs, &sigs[i]);
		for (i = 0; i < nf; i++)
			if (sigs[i].intact)
				check_changes(vs, &sigs[i], trailing);
		for (i = 0; i < nf; i++)
			set_level(vs, &sigs[i], sigs, nf);
		for (i = 0; i < nf; i++)
			judge(vs, &sigs[i]);
		/* Revision order (unsigned fields last), report and working data alike. */
		qsort(sigs, (size_t)nf, sizeof *sigs, by_revision);
		{
			signcore_sig_report *sorted = calloc((size_t)nf + 1, sizeof *sorted);
			if (!sorted)
				fz_throw(fz, FZ_ERROR_GENERIC, "out of memory");
			for (i = 0; i < nf; i++)
				sorted[i] = *sigs[i].r;
			free(rep->sigs);
			rep->sigs = sorted;
		}
		for (i = 0; i < nf; i++)
			if (rep->sigs[i].kind != SIGNCORE_SIGKIND_UNSIGNED && !rep->sigs[i].valid && bad < 0)
				bad = i;
		if (!nsigned) {
			rep->verdict = SIGNCORE_VERDICT_INVALID;
			rep->reason = nf ? signcore__strdup("the document has no signatures (only unsigned signature fields)") :
				signcore__strdup("the document has no signatures");
		} else if (bad >= 0) {
			char buf[1400];
			rep->verdict = SIGNCORE_VERDICT_INVALID;
			const char *why = rep->sigs[bad].summary;
			if (!strncmp(why, "INVALID: ", 9))
				why += 9;
			snprintf(buf, sizeof buf, "signature \"%s\": %s", rep->sigs[bad].field ? rep->sigs[bad].field : "?", why);
			rep->reason = signcore__strdup(buf);
		} else {
			char buf[200];
			rep->verdict = SIGNCORE_VERDICT_VALID;
			snprintf(buf, sizeof buf, "%d signature%s valid and trusted%s", nsigned, nsigned == 1 ? "" : "s",
				nsigned == 1 ? "" : ", in every revision");
			rep->reason = signcore__strdup(buf);
		}
	}
	fz_always(fz) {
		for (i = 0; sigs && i < nf; i++) {
			int j;
			CMS_ContentInfo_free(sigs[i].cms);
			X509_free(sigs[i].signer);
			X509_free(sigs[i].tsa);
			sk_X509_pop_free(sigs[i].chain, X509_free);
			rev_data_free(&sigs[i].cmsrev);
			for (j = 0; j < sigs[i].nlock; j++)
				free(sigs[i].lock_fields[j]);
			free(sigs[i].lock_fields);
		}
		free(sigs);
		free(fields);
	}
	fz_catch(fz)
		fz_rethrow(fz);
}

static int open_final(vstate *vs)
{
	signcore_ctx *ctx = vs->ctx;
	fz_context *fz = vs->fz;
	fz_stream *stm = NULL;
	int code = SIGNCORE_OK;

	fz_var(stm);
	fz_try(fz) {
		stm = fz_open_buffer(fz, vs->buf);
		vs->doc = pdf_open_document_with_stream(fz, stm);
	}
	fz_always(fz)
		fz_drop_stream(fz, stm);
	fz_catch(fz)
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "not a PDF file, or damaged beyond repair (%s)", fz_caught_message(fz));
	if (pdf_needs_password(fz, vs->doc)) {
		if (!vs->o->password)
			return signcore__err(ctx, SIGNCORE_ENEEDPASS, "the PDF is encrypted: a password is needed");
		if (!pdf_authenticate_password(fz, vs->doc, vs->o->password))
			return signcore__err(ctx, SIGNCORE_EPASSWORD, "the password is wrong");
	}
	vs->rep->encrypted = vs->doc->crypt != NULL;
	return code;
}

static void vstate_free(vstate *vs)
{
	int i;

	for (i = 0; vs->revdoc && i < vs->nrev; i++)
		pdf_drop_document(vs->fz, vs->revdoc[i]);
	for (i = 0; vs->diffs && i < vs->nrev; i++)
		signcore__diff_free(&vs->diffs[i]);
	free(vs->revdoc);
	free(vs->diffs);
	free(vs->diffed);
	free(vs->ends);
	pdf_drop_document(vs->fz, vs->doc);
	fz_drop_buffer(vs->fz, vs->buf);
	X509_STORE_free(vs->store);
	sk_X509_pop_free(vs->pool, X509_free);
	rev_data_free(&vs->dss);
}


static int verify_buffer(signcore_ctx *ctx, fz_buffer *buf, const signcore_verify_options *opts,
	signcore_report **out)
{
	static const signcore_verify_options defaults = SIGNCORE_VERIFY_OPTIONS_INIT;
	vstate vs;
	int code;

	memset(&vs, 0, sizeof vs);
	vs.ctx = ctx;
	vs.fz = ctx->fz;
	vs.o = opts ? opts : &defaults;
	vs.buf = buf;
	vs.d = buf->data;
	vs.n = buf->len;
	vs.now = vs.o->now ? vs.o->now : (long long)time(NULL);
	vs.rep = calloc(1, sizeof *vs.rep);
	if (!vs.rep) {
		fz_drop_buffer(ctx->fz, buf);
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	}
	vs.rep->file_size = (long long)vs.n;
	if (!(vs.store = make_store(ctx, vs.o, &code)) || (code = open_final(&vs))) {
		signcore_report_free(vs.rep);
		vstate_free(&vs);
		return code;
	}
	vs.rep->repaired = vs.doc->repair_attempted;
	if (signcore__revisions(vs.d, vs.n, &vs.ends, &vs.nrev) == -2) {
		signcore_report_free(vs.rep);
		vstate_free(&vs);
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	}
	vs.rep->revisions = vs.nrev;
	vs.pool = sk_X509_new_null();
	vs.revdoc = calloc((size_t)vs.nrev + 1, sizeof *vs.revdoc);
	vs.diffs = calloc((size_t)vs.nrev + 1, sizeof *vs.diffs);
	vs.diffed = calloc((size_t)vs.nrev + 1, 1);
	if (!vs.pool || !vs.revdoc || !vs.diffs || !vs.diffed) {
		signcore_report_free(vs.rep);
		vstate_free(&vs);
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	}
	fz_try(ctx->fz)
		run(&vs);
	fz_catch(ctx->fz) {
		code = signcore__caught(ctx, SIGNCORE_EBADINPUT, "verification failed");
		signcore_report_free(vs.rep);
		vstate_free(&vs);
		return code;
	}
	vstate_free(&vs);
	*out = vs.rep;
	return SIGNCORE_OK;
}

int signcore_verify_memory(signcore_ctx *ctx, const void *data, size_t len,
	const signcore_verify_options *opts, signcore_report **out)
{
	fz_buffer *buf = NULL;

	if (!ctx || !out || (!data && len))
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_verify_memory: missing argument") : SIGNCORE_EINVAL;
	*out = NULL;
	signcore__clear_err(ctx);
	fz_var(buf);
	fz_try(ctx->fz)
		buf = fz_new_buffer_from_copied_data(ctx->fz, data, len);
	fz_catch(ctx->fz)
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	return verify_buffer(ctx, buf, opts, out);
}

int signcore_verify(signcore_ctx *ctx, const char *path, const signcore_verify_options *opts,
	signcore_report **out)
{
	fz_buffer *buf = NULL;
	FILE *f;

	if (!ctx || !path || !out)
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_verify: missing argument") : SIGNCORE_EINVAL;
	*out = NULL;
	signcore__clear_err(ctx);
	if (!(f = fopen(path, "rb")))
		return signcore__err(ctx, SIGNCORE_ENOTFOUND, "%s cannot be opened", path);
	fclose(f);
	fz_var(buf);
	fz_try(ctx->fz)
		buf = fz_read_file(ctx->fz, path);
	fz_catch(ctx->fz)
		return signcore__err(ctx, SIGNCORE_EIO, "%s cannot be read (%s)", path, fz_caught_message(ctx->fz));
	return verify_buffer(ctx, buf, opts, out);
}

/* ------------------------------------------------------------ accessors */

signcore_verdict signcore_report_verdict(const signcore_report *report)
{
	return report ? report->verdict : SIGNCORE_VERDICT_INVALID;
}

const char *signcore_report_reason(const signcore_report *report)
{
	return report && report->reason ? report->reason : "";
}

size_t signcore_report_count(const signcore_report *report)
{
	return report ? report->count : 0;
}

const signcore_sig_report *signcore_report_signature(const signcore_report *report, size_t i)
{
	return report && i < report->count ? &report->sigs[i] : NULL;
}

void signcore_report_free(signcore_report *report)
{
	size_t i;

	if (!report)
		return;
	for (i = 0; i < report->nstrs; i++)
		free(report->strs[i]);
	free(report->strs);
	free(report->sigs);
	free(report->reason);
	free(report);
}

static const char *check_name(signcore_check c)
{
	return c == SIGNCORE_CHECK_OK ? "ok" : c == SIGNCORE_CHECK_FAILED ? "failed" : "absent";
}

static const char *kind_name(signcore_sig_kind k)
{
	switch (k) {
	case SIGNCORE_SIGKIND_APPROVAL: return "approval";
	case SIGNCORE_SIGKIND_CERTIFICATION: return "certification";
	case SIGNCORE_SIGKIND_TIMESTAMP: return "document-timestamp";
	default: return "unsigned";
	}
}

static const char *changes_key(signcore_changes c)
{
	switch (c) {
	case SIGNCORE_CHANGES_NONE: return "none";
	case SIGNCORE_CHANGES_LTV: return "ltv";
	case SIGNCORE_CHANGES_FORM: return "form";
	case SIGNCORE_CHANGES_ANNOTATIONS: return "annotations";
	default: return "disallowed";
	}
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *check_json(signcore_check c, const char *detail)
{
	return json_pack("{s:s, s:o}", "status", check_name(c), "detail", jstr(detail));
}

int signcore_report_json(const signcore_report *rep, char **json)
{
	json_t *root, *arr;
	size_t i;
	char *s;

	if (!rep || !json)
		return SIGNCORE_EINVAL;
	*json = NULL;
	arr = json_array();
	for (i = 0; i < rep->count; i++) {
		const signcore_sig_report *r = &rep->sigs[i];
		json_t *o = json_object();
		json_object_set_new(o, "field", jstr(r->field));
		json_object_set_new(o, "kind", json_string(kind_name(r->kind)));
		json_object_set_new(o, "subfilter", jstr(r->subfilter));
		json_object_set_new(o, "revision", json_integer(r->revision));
		json_object_set_new(o, "signer", jstr(r->signer));
		json_object_set_new(o, "issuer", jstr(r->issuer));
		json_object_set_new(o, "serial", jstr(r->serial));
		json_object_set_new(o, "claimed_time", jstr(r->claimed_time));
		json_object_set_new(o, "name", jstr(r->name));
		json_object_set_new(o, "reason", jstr(r->reason));
		json_object_set_new(o, "location", jstr(r->location));
		json_object_set_new(o, "contact", jstr(r->contact));
		if (r->kind == SIGNCORE_SIGKIND_CERTIFICATION)
			json_object_set_new(o, "docmdp", json_integer(r->docmdp));
		json_object_set_new(o, "digest_algorithm", jstr(r->digest_algorithm));
		json_object_set_new(o, "signature_algorithm", jstr(r->signature_algorithm));
		json_object_set_new(o, "integrity", check_json(r->integrity, r->integrity_detail));
		json_object_set_new(o, "coverage", json_pack("{s:b, s:s, s:b, s:o}", "whole_file", r->whole_file,
			"changes", changes_key(r->changes), "permitted", r->changes_permitted || r->kind == SIGNCORE_SIGKIND_UNSIGNED,
			"detail", jstr(r->changes_detail)));
		json_object_set_new(o, "trust", check_json(r->trust, r->trust_detail));
		json_object_set_new(o, "validation_time", json_pack("{s:o, s:o}", "time", jstr(r->validation_time),
			"source", jstr(r->validation_time_source)));
		json_object_set_new(o, "timestamp", json_pack("{s:s, s:o, s:o, s:o}", "status", check_name(r->timestamp),
			"time", jstr(r->timestamp_time), "authority", jstr(r->timestamp_authority), "detail", jstr(r->timestamp_detail)));
		json_object_set_new(o, "revocation", check_json(r->revocation, r->revocation_detail));
		json_object_set_new(o, "level", jstr(r->level));
		json_object_set_new(o, "valid", json_boolean(r->valid));
		json_object_set_new(o, "summary", jstr(r->summary));
		json_array_append_new(arr, o);
	}
	root = json_pack("{s:s, s:s, s:I, s:i, s:I, s:b, s:b, s:b, s:o}",
		"verdict", rep->verdict == SIGNCORE_VERDICT_VALID ? "valid" : "invalid",
		"reason", rep->reason ? rep->reason : "",
		"file_size", (json_int_t)rep->file_size, "revisions", rep->revisions, "trailing_bytes", (json_int_t)rep->trailing,
		"encrypted", rep->encrypted, "repaired", rep->repaired, "dss", rep->dss, "signatures", arr);
	if (!root)
		return SIGNCORE_ENOMEM;
	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!s)
		return SIGNCORE_ENOMEM;
	*json = s;
	return SIGNCORE_OK;
}
