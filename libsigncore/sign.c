/*
 * PAdES signing: signature fields, the signature dictionary, MuPDF's
 * incremental writer driven so the ByteRange is valid, B-T/B-LT/B-LTA,
 * document time-stamps, and external (two-step) signing.
 *
 * MuPDF writes the update and calls our pdf_pkcs7_signer back with the
 * signed byte ranges as a stream; we hash them incrementally and return the
 * CMS, which MuPDF writes into the /Contents placeholder.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

enum { KIND_CMS, KIND_DOCTS, KIND_PREPARE };

#define DOCTS_RESERVE 8192
#define TS_RESERVE 6144
#define PENDING_MAGIC "%SIGNCORE-PENDING 1\n"

typedef struct {
	pdf_pkcs7_signer base;
	int refs;
	signcore_ctx *ctx;
	int kind;
	const signcore_signer *signer;
	sc_cms_opts cms;
	const sc_tsa *tsa;
	int want_ts;
	int prepare_attrs;        /* prepare: hash the signed attributes */
	size_t reserve, needed;
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hashlen;
	sc_der attrs;             /* prepare: the signed attributes */
	unsigned char *token;     /* the time-stamp token embedded */
	size_t toklen;
	pdf_obj *v;               /* the signature dictionary, while it is written */
} sc_psigner;

static pdf_pkcs7_signer *ps_keep(fz_context *fz, pdf_pkcs7_signer *s)
{
	(void)fz;
	((sc_psigner *)s)->refs++;
	return s;
}

static void ps_drop(fz_context *fz, pdf_pkcs7_signer *s)
{
	sc_psigner *p = (sc_psigner *)s;

	(void)fz;
	if (p && --p->refs == 0) {
		free(p->token);
		sc_der_free(&p->attrs);
		free(p);
	}
}

static pdf_pkcs7_distinguished_name *ps_name(fz_context *fz, pdf_pkcs7_signer *s)
{
	(void)fz;
	(void)s;
	return NULL;
}

static size_t ps_max(fz_context *fz, pdf_pkcs7_signer *s)
{
	(void)fz;
	return ((sc_psigner *)s)->reserve;
}

static void hash_stream(sc_psigner *p, fz_stream *in)
{
	fz_context *fz = p->ctx->fz;
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	const EVP_MD *md = p->kind == KIND_DOCTS ? EVP_sha256() : p->cms.md;
	unsigned char buf[65536];
	size_t n;

	if (!mc || !EVP_DigestInit_ex(mc, md, NULL)) {
		EVP_MD_CTX_free(mc);
		signcore__throw(p->ctx, SIGNCORE_ENOMEM, "cannot start the document digest");
	}
	fz_try(fz) {
		pdf_obj *br = p->v ? pdf_dict_get(fz, p->v, PDF_NAME(ByteRange)) : NULL;
		int64_t r[4];
		int i, direct = pdf_array_len(fz, br) == 4 && p->ctx->writing;

		/* The ranges MuPDF just wrote into the dictionary, hashed from the
		 * file without the 4 KB copies of its range stream. */
		for (i = 0; direct && i < 4; i++) {
			pdf_obj *x = pdf_array_get(fz, br, i);

			direct = pdf_is_int(fz, x);
			r[i] = pdf_to_int64(fz, x);
		}
		if (!direct || signcore__out_digest(fz, p->ctx->writing, mc, r, 2) != 0)
			while ((n = fz_read(fz, in, buf, sizeof buf)) > 0)
				EVP_DigestUpdate(mc, buf, n);
		EVP_DigestFinal_ex(mc, p->hash, &p->hashlen);
	}
	fz_always(fz)
		EVP_MD_CTX_free(mc);
	fz_catch(fz)
		fz_rethrow(fz);
}

static size_t deliver(sc_psigner *p, const unsigned char *data, size_t len, unsigned char *out, size_t outlen)
{
	if (len > outlen) {
		p->needed = len;
		signcore__throw(p->ctx, SIGNCORE_ETOOSMALL,
			"the signature (%zu bytes) does not fit the space reserved (%zu bytes)", len, outlen);
	}
	memcpy(out, data, len);
	return len;
}

/* Build the CMS for a byte-range digest: sign, time-stamp, assemble. */
static int make_cms(signcore_ctx *ctx, const signcore_signer *s, const sc_cms_opts *o, const sc_tsa *tsa,
	int want_ts, const unsigned char *hash, size_t hashlen, const unsigned char *rawsig, size_t rawlen,
	unsigned char **token, size_t *toklen, sc_der *cms)
{
	sc_der attrs = { 0 };
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int code;

	if ((code = signcore__cms_attrs(ctx, s, o, hash, hashlen, &attrs)))
		return code;
	if (rawsig) {
		if (!(sig = OPENSSL_malloc(rawlen ? rawlen : 1))) {
			sc_der_free(&attrs);
			return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
		}
		memcpy(sig, rawsig, rawlen);
		siglen = rawlen;
		code = signcore__cms_check_raw(ctx, s, o, &attrs, &sig, &siglen);
	} else {
		code = signcore__cms_sign(ctx, s, o, &attrs, &sig, &siglen);
	}
	if (!code && want_ts) {
		unsigned char h[EVP_MAX_MD_SIZE];
		unsigned int hl;
		long long gentime;
		free(*token);
		*token = NULL;
		code = signcore__md_hash(ctx, EVP_sha256(), sig, siglen, h, &hl);
		if (!code)
			code = signcore__tsa_stamp(ctx, tsa, EVP_sha256(), h, hl, token, toklen, &gentime);
		if (!code)
			ctx->token_size = *toklen;
	}
	if (!code)
		code = signcore__cms_build(ctx, s, o, &attrs, sig, siglen, want_ts ? *token : NULL,
			want_ts ? *toklen : 0, cms);
	OPENSSL_free(sig);
	sc_der_free(&attrs);
	return code;
}

/* The size of the CMS for S without a time-stamp token: a dry run with a
 * zero digest and a signature of the key's largest size. Every byte of
 * the reserve is written twice as hex, so a tight one saves time; a CMS
 * that still does not fit is written again with more room. */
static size_t cms_size(signcore_ctx *ctx, const signcore_signer *s, const sc_cms_opts *o)
{
	unsigned char zero[EVP_MAX_MD_SIZE] = { 0 }, *sig = NULL;
	size_t n = 0, siglen = (size_t)EVP_PKEY_get_size(s->pub);
	sc_der attrs = { 0 }, cms = { 0 };

	if (o->md && siglen > 0 && (sig = OPENSSL_zalloc(siglen)) &&
	    !signcore__cms_attrs(ctx, s, o, zero, (size_t)EVP_MD_get_size(o->md), &attrs) &&
	    !signcore__cms_build(ctx, s, o, &attrs, sig, siglen, NULL, 0, &cms))
		n = cms.len + 64;
	OPENSSL_free(sig);
	sc_der_free(&attrs);
	sc_der_free(&cms);
	signcore__clear_err(ctx);
	return n ? n : signcore__cms_estimate(s);
}

static int ps_digest(fz_context *fz, pdf_pkcs7_signer *s, fz_stream *in, unsigned char *out, size_t outlen)
{
	sc_psigner *p = (sc_psigner *)s;
	signcore_ctx *ctx = p->ctx;
	int code = SIGNCORE_OK;

	(void)fz;
	hash_stream(p, in);
	if (p->kind == KIND_PREPARE) {
		if (p->prepare_attrs) {
			sc_der_free(&p->attrs);
			if ((code = signcore__cms_attrs(ctx, p->signer, &p->cms, p->hash, p->hashlen, &p->attrs)))
				signcore__throw_last(ctx, code);
		}
		out[0] = 0; /* the placeholder stays zeros */
		return 1;
	}
	if (p->kind == KIND_DOCTS) {
		long long gentime;
		free(p->token);
		p->token = NULL;
		code = signcore__tsa_stamp(ctx, p->tsa, EVP_sha256(), p->hash, p->hashlen, &p->token, &p->toklen, &gentime);
		if (code)
			signcore__throw_last(ctx, code);
		ctx->token_size = p->toklen;
		return (int)deliver(p, p->token, p->toklen, out, outlen);
	}
	{
		sc_der cms = { 0 };
		size_t n;
		code = make_cms(ctx, p->signer, &p->cms, p->tsa, p->want_ts, p->hash, p->hashlen, NULL, 0,
			&p->token, &p->toklen, &cms);
		if (code)
			signcore__throw_last(ctx, code);
		if (cms.len > outlen) {
			sc_der_free(&cms);
			p->needed = cms.len;
			signcore__throw(ctx, SIGNCORE_ETOOSMALL, "the signature does not fit the space reserved");
		}
		memcpy(out, cms.p, cms.len);
		n = cms.len;
		sc_der_free(&cms);
		return (int)n;
	}
}

static sc_psigner *ps_new(signcore_ctx *ctx, int kind)
{
	sc_psigner *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	p->refs = 1;
	p->ctx = ctx;
	p->kind = kind;
	p->base.keep = ps_keep;
	p->base.drop = ps_drop;
	p->base.get_signing_name = ps_name;
	p->base.max_digest_size = ps_max;
	p->base.create_digest = ps_digest;
	return p;
}

/* ------------------------------------------------------ document checks */

typedef struct {
	int signatures;
	int unsigned_sigs;
} sig_census;

static void census_walk(fz_context *fz, pdf_obj *arr, sig_census *c, int depth)
{
	int i, n = pdf_array_len(fz, arr);

	if (depth > 32)
		return;
	for (i = 0; i < n; i++) {
		pdf_obj *f = pdf_array_get(fz, arr, i);
		pdf_obj *kids = pdf_dict_get(fz, f, PDF_NAME(Kids));
		if (pdf_name_eq(fz, pdf_dict_get_inheritable(fz, f, PDF_NAME(FT)), PDF_NAME(Sig)) &&
		    pdf_is_dict(fz, pdf_dict_get(fz, f, PDF_NAME(V))))
			c->signatures++;
		if (kids)
			census_walk(fz, kids, c, depth + 1);
	}
}

static int count_signatures(fz_context *fz, pdf_document *pdf)
{
	sig_census c = { 0, 0 };
	pdf_obj *form = pdf_dict_getp(fz, pdf_trailer(fz, pdf), "Root/AcroForm/Fields");

	census_walk(fz, form, &c, 0);
	return c.signatures;
}

/* The DocMDP permission (1-3) of a certified document, or 0. */
static int docmdp_level(fz_context *fz, pdf_document *pdf)
{
	pdf_obj *sig = pdf_dict_getp(fz, pdf_trailer(fz, pdf), "Root/Perms/DocMDP");
	pdf_obj *refs = pdf_dict_get(fz, sig, PDF_NAME(Reference));
	int i, p;

	if (!pdf_is_dict(fz, sig))
		return 0;
	for (i = 0; i < pdf_array_len(fz, refs); i++) {
		pdf_obj *r = pdf_array_get(fz, refs, i);
		if (pdf_name_eq(fz, pdf_dict_get(fz, r, PDF_NAME(TransformMethod)), PDF_NAME(DocMDP))) {
			p = pdf_dict_get_int(fz, pdf_dict_get(fz, r, PDF_NAME(TransformParams)), PDF_NAME(P));
			return p >= 1 && p <= 3 ? p : 2;
		}
	}
	return 2;
}

static const EVP_MD *digest_by_name(signcore_ctx *ctx, const char *name, int *code)
{
	*code = SIGNCORE_OK;
	if (!name || !*name || !strcmp(name, "sha256") || !strcmp(name, "SHA256") || !strcmp(name, "sha-256"))
		return EVP_sha256();
	if (!strcmp(name, "sha384") || !strcmp(name, "SHA384") || !strcmp(name, "sha-384"))
		return EVP_sha384();
	if (!strcmp(name, "sha512") || !strcmp(name, "SHA512") || !strcmp(name, "sha-512"))
		return EVP_sha512();
	*code = signcore__err(ctx, SIGNCORE_EINVAL, "unknown digest \"%s\" (sha256, sha384 or sha512)", name);
	return NULL;
}

/* A field name not used yet: PREFIX1, PREFIX2, ... */
static void unique_name(fz_context *fz, pdf_document *pdf, const char *prefix, char *buf, size_t size)
{
	int i;

	for (i = 1; i < 100000; i++) {
		snprintf(buf, size, "%s%d", prefix, i);
		if (!signcore__find_field(fz, pdf, buf))
			return;
	}
}

/* An invisible signature field on the first page. */
static pdf_obj *new_invisible_field(signcore_ctx *ctx, pdf_document *pdf, const char *name)
{
	fz_context *fz = ctx->fz;
	pdf_obj *form = signcore__ensure_acroform(fz, pdf);
	pdf_obj *page = pdf_lookup_page_obj(fz, pdf, 0);
	pdf_obj *w = pdf_add_new_dict(fz, pdf, 8), *ap = NULL;

	fz_try(fz) {
		pdf_dict_put(fz, w, PDF_NAME(Type), PDF_NAME(Annot));
		pdf_dict_put(fz, w, PDF_NAME(Subtype), PDF_NAME(Widget));
		pdf_dict_put(fz, w, PDF_NAME(FT), PDF_NAME(Sig));
		pdf_dict_put_drop(fz, w, PDF_NAME(T), pdf_new_text_string(fz, name));
		pdf_dict_put_int(fz, w, PDF_NAME(F), 132); /* Print, Locked */
		pdf_dict_put_rect(fz, w, PDF_NAME(Rect), fz_make_rect(0, 0, 0, 0));
		pdf_dict_put(fz, w, PDF_NAME(P), page);
		ap = signcore__ap_empty(ctx, pdf, 0, 0, 0);
		pdf_dict_put_dict(fz, w, PDF_NAME(AP), 1);
		pdf_dict_put(fz, pdf_dict_get(fz, w, PDF_NAME(AP)), PDF_NAME(N), ap);
		signcore__add_annot(fz, page, w);
		pdf_array_push(fz, pdf_dict_get(fz, form, PDF_NAME(Fields)), w);
	}
	fz_always(fz)
		pdf_drop_obj(fz, ap);
	fz_catch(fz) {
		pdf_drop_obj(fz, w);
		fz_rethrow(fz);
	}
	return w; /* owned by the caller */
}

/* Find or create the field to sign. Returns a new reference. */
static pdf_obj *signature_field(signcore_doc *doc, const signcore_sign_options *o, const char *prefix,
	int docts)
{
	signcore_ctx *ctx = doc->ctx;
	fz_context *fz = ctx->fz;
	pdf_document *pdf = doc->pdf;
	char name[64];
	const char *fname = o->field;
	pdf_obj *f = NULL;

	if (fname && *fname) {
		f = signcore__find_field(fz, pdf, fname);
		if (f) {
			signcore_field_type kind = signcore__field_kind(fz, f);
			if (!pdf_name_eq(fz, pdf_dict_get_inheritable(fz, f, PDF_NAME(FT)), PDF_NAME(Sig)))
				signcore__throw(ctx, SIGNCORE_EBADINPUT, "field \"%s\" is not a signature field", fname);
			if (kind == SIGNCORE_FIELD_INITIALS)
				signcore__throw(ctx, SIGNCORE_EBADINPUT,
					"field \"%s\" is an initials field, not a signature field", fname);
			if (pdf_is_dict(fz, pdf_dict_get(fz, f, PDF_NAME(V))))
				signcore__throw(ctx, SIGNCORE_ESIGNED, "field \"%s\" is already signed", fname);
			if (pdf_dict_get(fz, f, PDF_NAME(Kids)))
				signcore__throw(ctx, SIGNCORE_EUNSUPPORTED,
					"field \"%s\" has several widgets; sign one of its kids", fname);
			return pdf_keep_obj(fz, f); /* an existing field keeps its place */
		}
	} else {
		unique_name(fz, pdf, prefix, name, sizeof name);
		fname = name;
	}
	if (!docts && o->page > 0) {
		signcore_field_spec spec = SIGNCORE_FIELD_SPEC_INIT;
		int code;
		spec.name = fname;
		spec.type = SIGNCORE_FIELD_SIGNATURE;
		spec.page = o->page;
		memcpy(spec.rect, o->rect, sizeof spec.rect);
		spec.units = o->units;
		if ((code = signcore_field_place(doc, &spec)))
			signcore__throw_last(ctx, code);
		f = signcore__find_field(fz, pdf, fname);
		if (!f)
			signcore__throw(ctx, SIGNCORE_EINTERNAL, "the new signature field was not found");
		/* A plain signature field: our private marker is for stamping. */
		pdf_dict_dels(fz, f, "SigncoreKind");
		return pdf_keep_obj(fz, f);
	}
	return new_invisible_field(ctx, pdf, fname);
}

static void put_text(fz_context *fz, pdf_obj *d, pdf_obj *key, const char *s)
{
	if (s && *s)
		pdf_dict_put_drop(fz, d, key, pdf_new_text_string(fz, s));
}

static pdf_obj *name_array(fz_context *fz, pdf_document *pdf, const char *const *names, size_t n)
{
	pdf_obj *a = pdf_new_array(fz, pdf, (int)n);
	size_t i;

	for (i = 0; i < n; i++)
		pdf_array_push_drop(fz, a, pdf_new_text_string(fz, names[i]));
	return a;
}

static int lock_all(const signcore_sign_options *o)
{
	return o->lock_count == 1 && (!strcmp(o->lock_fields[0], "*") || !strcmp(o->lock_fields[0], "all"));
}

/* The signature dictionary, keys in the order MuPDF's writer needs:
 * /ByteRange, /Contents, then /Filter right after. */
static pdf_obj *new_sig_dict(signcore_ctx *ctx, pdf_document *pdf, const signcore_sign_options *o,
	int kind, size_t reserve, const char *name, long long when)
{
	fz_context *fz = ctx->fz;
	pdf_obj *v = pdf_add_new_dict(fz, pdf, 12);
	char *zeros = NULL;

	fz_var(zeros);
	fz_try(fz) {
		zeros = fz_calloc(fz, reserve, 1);
		pdf_dict_put_array(fz, v, PDF_NAME(ByteRange), 4);
		pdf_dict_put_string(fz, v, PDF_NAME(Contents), zeros, reserve);
		pdf_dict_put(fz, v, PDF_NAME(Filter), PDF_NAME(Adobe_PPKLite));
		if (kind == KIND_DOCTS) {
			pdf_dict_put_name(fz, v, PDF_NAME(SubFilter), "ETSI.RFC3161");
			pdf_dict_put_name(fz, v, PDF_NAME(Type), "DocTimeStamp");
		} else {
			pdf_dict_put_name(fz, v, PDF_NAME(SubFilter), o->pkcs7 ? "adbe.pkcs7.detached" : "ETSI.CAdES.detached");
			pdf_dict_put(fz, v, PDF_NAME(Type), PDF_NAME(Sig));
			pdf_dict_put_date(fz, v, PDF_NAME(M), (int64_t)when);
			put_text(fz, v, PDF_NAME(Name), name);
			put_text(fz, v, PDF_NAME(Reason), o->reason);
			put_text(fz, v, PDF_NAME(Location), o->location);
			put_text(fz, v, PDF_NAME(ContactInfo), o->contact_info);
			if (o->certify || o->lock_count) {
				pdf_obj *refs = pdf_dict_put_array(fz, v, PDF_NAME(Reference), 1);
				pdf_obj *r = pdf_array_push_dict(fz, refs, 4);
				pdf_obj *tp;
				pdf_dict_put(fz, r, PDF_NAME(Type), PDF_NAME(SigRef));
				if (o->certify) {
					pdf_dict_put(fz, r, PDF_NAME(TransformMethod), PDF_NAME(DocMDP));
					tp = pdf_dict_put_dict(fz, r, PDF_NAME(TransformParams), 3);
					pdf_dict_put(fz, tp, PDF_NAME(Type), PDF_NAME(TransformParams));
					pdf_dict_put_int(fz, tp, PDF_NAME(P), o->certify);
				} else {
					pdf_dict_put(fz, r, PDF_NAME(TransformMethod), PDF_NAME(FieldMDP));
					tp = pdf_dict_put_dict(fz, r, PDF_NAME(TransformParams), 4);
					pdf_dict_put(fz, tp, PDF_NAME(Type), PDF_NAME(TransformParams));
					if (lock_all(o)) {
						pdf_dict_put_name(fz, tp, PDF_NAME(Action), "All");
					} else {
						pdf_dict_put(fz, tp, PDF_NAME(Action), PDF_NAME(Include));
						pdf_dict_put_drop(fz, tp, PDF_NAME(Fields), name_array(fz, pdf, o->lock_fields, o->lock_count));
					}
				}
				pdf_dict_put(fz, tp, PDF_NAME(V), PDF_NAME(1_2));
				pdf_dict_put_name(fz, r, PDF_NAME(DigestMethod), "SHA256");
			}
		}
	}
	fz_always(fz)
		fz_free(fz, zeros);
	fz_catch(fz) {
		pdf_drop_obj(fz, v);
		fz_rethrow(fz);
	}
	return v;
}

/* One attempt at writing PDF (with the signature field FIELD whose /V is
 * V) to TMP with the current /Contents reserve. */
static int write_attempt(signcore_ctx *ctx, pdf_document *pdf, pdf_obj *field, pdf_obj *v, sc_psigner *ps,
	const char *tmp)
{
	fz_context *fz = ctx->fz;
	char *zeros = NULL;
	int stored = 0, code = SIGNCORE_OK;

	ps->needed = 0;
	fz_var(zeros);
	fz_var(stored);
	fz_var(code);
	fz_try(fz) {
		zeros = fz_calloc(fz, ps->reserve, 1);
		pdf_dict_put_array(fz, v, PDF_NAME(ByteRange), 4);
		pdf_dict_put_string(fz, v, PDF_NAME(Contents), zeros, ps->reserve);
		signcore__deflate_new_streams(ctx, pdf);
		pdf_xref_store_unsaved_signature(fz, pdf, field, &ps->base);
		stored = 1;
		ps->v = v;
		signcore__write_pdf(fz, pdf, tmp, 0);
	}
	fz_always(fz) {
		ps->v = NULL;
		fz_free(fz, zeros);
	}
	fz_catch(fz) {
		code = signcore__caught(ctx, SIGNCORE_EIO, "writing the signed document");
		if (stored)
			pdf_xref_remove_unsaved_signature(fz, pdf, field);
	}
	return code;
}

/* Write the signed document, growing the /Contents reserve and writing
 * again if it turned out too small. */
static int write_signed(signcore_ctx *ctx, pdf_document *pdf, pdf_obj *field, pdf_obj *v, sc_psigner *ps,
	const char *tmp)
{
	int attempt, code = SIGNCORE_OK;

	for (attempt = 0; attempt < 3; attempt++) {
		code = write_attempt(ctx, pdf, field, v, ps, tmp);
		if (code != SIGNCORE_ETOOSMALL || !ps->needed)
			return code;
		ps->reserve = ps->needed + 1024;
	}
	return code;
}

static void set_sigflags(fz_context *fz, pdf_document *pdf)
{
	pdf_obj *form = signcore__ensure_acroform(fz, pdf);

	pdf_dict_put_int(fz, form, PDF_NAME(SigFlags), 3);
}

/* ------------------------------------------------------- the appearance */

static void signature_appearance(signcore_doc *doc, pdf_obj *field, const signcore_sign_options *o,
	const char *name, long long when)
{
	signcore_ctx *ctx = doc->ctx;
	fz_context *fz = ctx->fz;
	const signcore_sig_appearance *a = o->appearance;
	signcore_sig_appearance def = SIGNCORE_SIG_APPEARANCE_INIT;
	fz_rect r = pdf_dict_get_rect(fz, field, PDF_NAME(Rect));
	int rotate = pdf_dict_get_int(fz, pdf_dict_get(fz, field, PDF_NAME(MK)), PDF_NAME(R));
	float w = r.x1 - r.x0, h = r.y1 - r.y0;
	char block[1024], date[96];
	const char *text;
	pdf_obj *ap;
	int code;

	if (w <= 0 || h <= 0)
		return; /* invisible */
	if (rotate == 90 || rotate == 270) {
		float t = w;
		w = h;
		h = t;
	}
	if (!a)
		a = &def;
	code = signcore_format_time(ctx, date, sizeof date, when, a->time_zone ? a->time_zone : "UTC",
		a->date_format ? a->date_format : "%Y-%m-%d %H:%M:%S %z");
	if (code)
		signcore__throw_last(ctx, code);
	if (a->text) {
		text = a->text;
	} else {
		size_t n = (size_t)snprintf(block, sizeof block, "Digitally signed by %s\nDate: %s", name, date);
		if (o->reason && *o->reason && n < sizeof block)
			n += (size_t)snprintf(block + n, sizeof block - n, "\nReason: %s", o->reason);
		if (o->location && *o->location && n < sizeof block)
			snprintf(block + n, sizeof block - n, "\nLocation: %s", o->location);
		text = block;
	}
	ap = signcore__ap_signature(ctx, doc->pdf, a->no_graphic ? NULL : a->image, a->image_len,
		a->no_graphic ? NULL : (a->typed ? a->typed : name), a->font, text, w, h, rotate);
	fz_try(fz) {
		pdf_obj *apd = pdf_dict_put_dict(fz, field, PDF_NAME(AP), 1);
		pdf_dict_put(fz, apd, PDF_NAME(N), ap);
	}
	fz_always(fz)
		pdf_drop_obj(fz, ap);
	fz_catch(fz)
		fz_rethrow(fz);
}

/* ----------------------------------------------------------- LTV (DSS) */

static void dss_add(fz_context *fz, pdf_document *pdf, pdf_obj *dss, const char *key,
	const unsigned char *data, size_t len)
{
	pdf_obj *arr = pdf_dict_gets(fz, dss, key);
	fz_buffer *buf;
	pdf_obj *ref;
	int i;

	if (!pdf_is_array(fz, arr)) {
		arr = pdf_new_array(fz, pdf, 4);
		pdf_dict_puts_drop(fz, dss, key, arr);
	}
	/* Skip what the DSS already holds. */
	for (i = 0; i < pdf_array_len(fz, arr); i++) {
		fz_buffer *have = NULL;
		int same = 0;
		fz_var(have);
		fz_var(same);
		fz_try(fz) {
			have = pdf_load_stream(fz, pdf_array_get(fz, arr, i));
			same = have->len == len && !memcmp(have->data, data, len);
		}
		fz_always(fz)
			fz_drop_buffer(fz, have);
		fz_catch(fz)
			same = 0;
		if (same)
			return;
	}
	buf = fz_new_buffer_from_copied_data(fz, data, len);
	fz_try(fz) {
		ref = pdf_add_stream(fz, pdf, buf, NULL, 0);
		pdf_array_push_drop(fz, arr, ref);
	}
	fz_always(fz)
		fz_drop_buffer(fz, buf);
	fz_catch(fz)
		fz_rethrow(fz);
}

static void dss_apply(fz_context *fz, pdf_document *pdf, const sc_ltv *l)
{
	pdf_obj *root = pdf_dict_get(fz, pdf_trailer(fz, pdf), PDF_NAME(Root));
	pdf_obj *dss = pdf_dict_gets(fz, root, "DSS");
	size_t i;
	int k;

	if (!pdf_is_dict(fz, dss)) {
		dss = pdf_add_new_dict(fz, pdf, 3);
		pdf_dict_puts_drop(fz, root, "DSS", dss);
	}
	for (k = 0; k < sk_X509_num(l->certs); k++) {
		unsigned char *der = NULL;
		int n = i2d_X509(sk_X509_value(l->certs, k), &der);
		fz_try(fz) {
			if (n > 0)
				dss_add(fz, pdf, dss, "Certs", der, (size_t)n);
		}
		fz_always(fz)
			OPENSSL_free(der);
		fz_catch(fz)
			fz_rethrow(fz);
	}
	for (i = 0; i < l->nocsps; i++)
		dss_add(fz, pdf, dss, "OCSPs", l->ocsps[i].p, l->ocsps[i].len);
	for (i = 0; i < l->ncrls; i++)
		dss_add(fz, pdf, dss, "CRLs", l->crls[i].p, l->crls[i].len);
}

/* Open the PDF at PATH (written by us a moment ago). */
static int reopen(signcore_ctx *ctx, const char *path, const char *password, signcore_doc **out)
{
	signcore_open_options oo = SIGNCORE_OPEN_OPTIONS_INIT;

	oo.password = password;
	return signcore_doc_open(ctx, out, path, &oo);
}

/* Certificates of a CMS (or time-stamp token) and of any time-stamp token
 * inside it, appended to INTO. */
static void cms_certs(const unsigned char *der, size_t len, STACK_OF(X509) *into)
{
	const unsigned char *p = der;
	CMS_ContentInfo *ci = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	STACK_OF(X509) *certs;
	STACK_OF(CMS_SignerInfo) *sis;
	int i, j;

	if (!ci) {
		ERR_clear_error();
		return;
	}
	certs = CMS_get1_certs(ci);
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		X509_up_ref(x);
		sk_X509_push(into, x);
	}
	sk_X509_pop_free(certs, X509_free);
	sis = CMS_get0_SignerInfos(ci);
	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, i);
		int idx = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
		X509_ATTRIBUTE *at = idx >= 0 ? CMS_unsigned_get_attr(si, idx) : NULL;
		for (j = 0; at && j < X509_ATTRIBUTE_count(at); j++) {
			ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(at, j);
			if (t && t->type == V_ASN1_SEQUENCE)
				signcore__token_certs(t->value.sequence->data, (size_t)t->value.sequence->length, into);
		}
	}
	CMS_ContentInfo_free(ci);
	ERR_clear_error();
}

/* Add a /DSS update to the PDF at IN, written to OUT, for the certificates
 * in CERTS (every one is checked up to its root). */
static int add_dss_file(signcore_ctx *ctx, const char *in, const char *password, const char *out,
	STACK_OF(X509) *certs, X509_STORE *trust, int allow_missing)
{
	signcore_doc *doc = NULL;
	sc_ltv l;
	STACK_OF(X509) *pool = sk_X509_dup(certs);
	int code;

	if (!pool)
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	code = signcore__ltv_collect(ctx, certs, pool, trust, allow_missing ? SC_LTV_ALLOW_MISSING : 0, &l);
	/* Certificates fetched into POOL were up-referenced by it. */
	{
		int i;
		for (i = sk_X509_num(certs); i < sk_X509_num(pool); i++)
			X509_free(sk_X509_value(pool, i));
	}
	sk_X509_free(pool);
	if (code)
		return code;
	code = reopen(ctx, in, password, &doc);
	if (!code) {
		fz_try(ctx->fz) {
			dss_apply(ctx->fz, doc->pdf, &l);
			signcore__write_pdf(ctx->fz, doc->pdf, out, 0);
		}
		fz_catch(ctx->fz)
			code = signcore__caught(ctx, SIGNCORE_EIO, "adding the validation data (DSS)");
	}
	signcore_doc_free(doc);
	signcore__ltv_free(&l);
	return code;
}

/* ------------------------------------------------------------ operations */

typedef struct {
	char *tmp[4];
	int ntmp;
} tmpset;

static const char *tmp_new(signcore_ctx *ctx, tmpset *t, const char *out, int *code)
{
	char *p = signcore__tmp_beside(ctx, out, code);

	if (p)
		t->tmp[t->ntmp++] = p;
	return p;
}

static void tmp_clean(tmpset *t)
{
	int i;

	for (i = 0; i < t->ntmp; i++) {
		if (t->tmp[i]) {
			unlink(t->tmp[i]);
			free(t->tmp[i]);
		}
	}
	t->ntmp = 0;
}

static int docts_into(signcore_doc *doc, const signcore_sign_options *o, const sc_tsa *tsa, const char *tmp)
{
	signcore_ctx *ctx = doc->ctx;
	fz_context *fz = ctx->fz;
	pdf_obj *field = NULL, *v = NULL;
	sc_psigner *ps;
	int code = SIGNCORE_OK;

	if (!(ps = ps_new(ctx, KIND_DOCTS)))
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	ps->tsa = tsa;
	ps->reserve = ctx->token_size ? ctx->token_size + 2048 : DOCTS_RESERVE;
	fz_var(code);
	fz_var(field);
	fz_var(v);
	fz_try(fz) {
		field = signature_field(doc, o, "DocTimeStamp", 1);
		v = new_sig_dict(ctx, doc->pdf, o, KIND_DOCTS, ps->reserve, NULL, 0);
		pdf_dict_put(fz, field, PDF_NAME(V), v);
		set_sigflags(fz, doc->pdf);
	}
	fz_catch(fz)
		code = signcore__caught(ctx, SIGNCORE_EBADINPUT, "document time-stamp");
	if (!code)
		code = write_signed(ctx, doc->pdf, field, v, ps, tmp);
	pdf_drop_obj(fz, field);
	pdf_drop_obj(fz, v);
	ps_drop(fz, &ps->base);
	return code;
}

/* A document time-stamp over the PDF at IN, written to OUT. */
static int docts_file(signcore_ctx *ctx, const char *in, const char *password, const char *out,
	const sc_tsa *tsa)
{
	signcore_sign_options o = SIGNCORE_SIGN_OPTIONS_INIT;
	signcore_doc *doc = NULL;
	int code = reopen(ctx, in, password, &doc);

	if (!code)
		code = docts_into(doc, &o, tsa, out);
	signcore_doc_free(doc);
	return code;
}

/* Publish FINAL (one of T's files) as OUT; it is then no longer a temp. */
static int publish_final(signcore_ctx *ctx, tmpset *t, const char *final, const char *out)
{
	int i, code = signcore__publish(ctx, final, out);

	for (i = 0; !code && i < t->ntmp; i++)
		if (t->tmp[i] == final) {
			free(t->tmp[i]);
			t->tmp[i] = NULL;
		}
	return code;
}

static void tsa_from(sc_tsa *tsa, const signcore_sign_options *o, X509_STORE *trust)
{
	tsa->urls = o->tsa_urls;
	tsa->count = o->tsa_count;
	tsa->userpwd = o->tsa_auth;
	tsa->trust = trust;
}

/* CERT and CHAIN appended to INTO (references taken). */
static void push_certs(STACK_OF(X509) *into, X509 *cert, STACK_OF(X509) *chain)
{
	int i;

	X509_up_ref(cert);
	sk_X509_push(into, cert);
	for (i = 0; i < sk_X509_num(chain); i++) {
		X509_up_ref(sk_X509_value(chain, i));
		sk_X509_push(into, sk_X509_value(chain, i));
	}
}

/* The levels above B-T, after the signature is in FINAL: a /DSS update
 * for CERTS (B-LT), a document time-stamp (B-LTA); then publish as OUT. */
static int extend_and_publish(signcore_ctx *ctx, tmpset *t, const char *final, const char *password,
	const char *out, const signcore_sign_options *o, STACK_OF(X509) *certs, const sc_tsa *tsa)
{
	const char *next;
	int code = SIGNCORE_OK;

	if (o->level >= SIGNCORE_LEVEL_B_LT) {
		if (!(next = tmp_new(ctx, t, out, &code)) ||
		    (code = add_dss_file(ctx, final, password, next, certs, tsa->trust, o->allow_missing_revocation)))
			return code;
		final = next;
	}
	if (o->level >= SIGNCORE_LEVEL_B_LTA) {
		if (!(next = tmp_new(ctx, t, out, &code)) || (code = docts_file(ctx, final, password, next, tsa)))
			return code;
		final = next;
	}
	return publish_final(ctx, t, final, out);
}

/* ISO 32000-2 (12.8.2.2.2): updates that only add a DSS or document
 * time-stamps are not changes under DocMDP, so TIMESTAMP_ONLY skips the
 * P=1 refusal. */
static int check_doc_signable(signcore_doc *doc, int certifying, int timestamp_only)
{
	signcore_ctx *ctx = doc->ctx;
	fz_context *fz = ctx->fz;
	int p = 0, nsig = 0;

	fz_var(p);
	fz_var(nsig);
	fz_try(fz) {
		p = docmdp_level(fz, doc->pdf);
		nsig = count_signatures(fz, doc->pdf);
	}
	fz_catch(fz)
		return signcore__caught(ctx, SIGNCORE_EBADINPUT, "reading the signatures");
	if (p == 1 && !timestamp_only)
		return signcore__err(ctx, SIGNCORE_ESIGNED,
			"the document is certified with no changes allowed (DocMDP P=1): it cannot be signed again");
	if (certifying && nsig > 0)
		return signcore__err(ctx, SIGNCORE_ESIGNED,
			"a certification signature must be the first signature; the document already has %d", nsig);
	if (signcore_doc_repaired(doc) && nsig > 0)
		return signcore__err(ctx, SIGNCORE_ESIGNED,
			"the file is damaged and was repaired; rewriting it would break its %d signature%s",
			nsig, nsig == 1 ? "" : "s");
	return SIGNCORE_OK;
}

/* A repaired (or memory-made) document cannot take an incremental update:
 * rewrite it once, reopen it, and sign that. */
static int ensure_appendable(signcore_doc **docp, tmpset *t, const char *out, signcore_doc **owned)
{
	signcore_doc *doc = *docp;
	signcore_ctx *ctx = doc->ctx;
	const char *tmp;
	int code = SIGNCORE_OK;

	*owned = NULL;
	if (!signcore_doc_repaired(doc) && doc->pdf->file)
		return SIGNCORE_OK;
	if (!(tmp = tmp_new(ctx, t, out, &code)))
		return code;
	fz_try(ctx->fz)
		signcore__write_pdf(ctx->fz, doc->pdf, tmp, 1);
	fz_catch(ctx->fz)
		return signcore__caught(ctx, SIGNCORE_EIO, "rewriting the repaired document");
	if ((code = reopen(ctx, tmp, doc->password, owned)))
		return code;
	*docp = *owned;
	return SIGNCORE_OK;
}

typedef struct {
	signcore_hash_target target;
	unsigned char *digest;
	size_t *digest_len;
	const char *pending;
} prep_args;

static int write_pending(signcore_ctx *ctx, const char *pdfpath, const char *pending, sc_psigner *ps,
	pdf_obj *v, const signcore_sign_options *o, signcore_hash_target target);

/* The field, its appearance, the signature dictionary and the DocMDP or
 * FieldMDP entries of a new signature. */
static int setup_signature(signcore_doc *doc, const signcore_sign_options *o,
	size_t reserve, const char *name, long long when, pdf_obj **fieldp, pdf_obj **vp)
{
	signcore_ctx *ctx = doc->ctx;
	fz_context *fz = ctx->fz;
	pdf_obj *field = NULL, *v = NULL;
	int code = SIGNCORE_OK;

	fz_var(field);
	fz_var(v);
	fz_var(code);
	fz_try(fz) {
		field = signature_field(doc, o, "Signature", 0);
		signature_appearance(doc, field, o, name, when);
		v = new_sig_dict(ctx, doc->pdf, o, KIND_CMS, reserve, name, when);
		pdf_dict_put(fz, field, PDF_NAME(V), v);
		set_sigflags(fz, doc->pdf);
		if (o->certify) {
			pdf_obj *root = pdf_dict_get(fz, pdf_trailer(fz, doc->pdf), PDF_NAME(Root));
			pdf_obj *perms = pdf_dict_put_dict(fz, root, PDF_NAME(Perms), 1);
			pdf_dict_put(fz, perms, PDF_NAME(DocMDP), v);
		}
		if (o->lock_count) {
			pdf_obj *lock = pdf_dict_put_dict(fz, field, PDF_NAME(Lock), 3);
			pdf_dict_puts_drop(fz, lock, "Type", pdf_new_name(fz, "SigFieldLock"));
			if (lock_all(o)) {
				pdf_dict_put_name(fz, lock, PDF_NAME(Action), "All");
			} else {
				pdf_dict_put(fz, lock, PDF_NAME(Action), PDF_NAME(Include));
				pdf_dict_put_drop(fz, lock, PDF_NAME(Fields), name_array(fz, doc->pdf, o->lock_fields, o->lock_count));
			}
		}
	}
	fz_catch(fz)
		code = signcore__caught(ctx, SIGNCORE_EBADINPUT, "signature field");
	*fieldp = field;
	*vp = v;
	return code;
}

static int sign_impl(signcore_doc *doc, const signcore_signer *signer, const char *out_path,
	const signcore_sign_options *opts, prep_args *prep)
{
	signcore_ctx *ctx;
	fz_context *fz;
	signcore_sign_options o;
	sc_psigner *ps = NULL;
	sc_tsa tsa = { 0 };
	X509_STORE *trust = NULL;
	tmpset t = { { 0 }, 0 };
	signcore_doc *owned = NULL;
	pdf_obj *field = NULL, *v = NULL;
	sc_warm *warm = NULL;
	const char *tmp;
	const char *name;
	long long when;
	int code = SIGNCORE_OK, kind = prep ? KIND_PREPARE : KIND_CMS;

	if (!doc || !signer || !out_path)
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signing: NULL argument") : SIGNCORE_EINVAL;
	ctx = doc->ctx;
	fz = ctx->fz;
	signcore__clear_err(ctx);
	if (opts) {
		o = *opts;
	} else {
		signcore_sign_options d = SIGNCORE_SIGN_OPTIONS_INIT;
		o = d;
	}
	if (!(ps = ps_new(ctx, kind)))
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	ps->signer = signer;
	if (!(ps->cms.md = digest_by_name(ctx, o.digest, &code)))
		goto done;
	ps->cms.pss = o.pss;
	when = o.signing_time ? o.signing_time : (long long)time(NULL);
	ps->cms.when = when;
	ps->cms.signing_time = o.pkcs7;
	if (o.certify < SIGNCORE_CERTIFY_NONE || o.certify > SIGNCORE_CERTIFY_ANNOTATIONS) {
		code = signcore__err(ctx, SIGNCORE_EINVAL, "unknown certification level %d", o.certify);
		goto done;
	}
	if (o.certify && o.lock_count) {
		code = signcore__err(ctx, SIGNCORE_EINVAL, "a certification signature cannot also lock fields (FieldMDP)");
		goto done;
	}
	if (o.level < SIGNCORE_LEVEL_B_B || o.level > SIGNCORE_LEVEL_B_LTA) {
		code = signcore__err(ctx, SIGNCORE_EINVAL, "unknown PAdES level %d", o.level);
		goto done;
	}
	if (!prep && !signer->key) {
		code = signcore__err(ctx, SIGNCORE_EINVAL,
			"the signer has a certificate but no private key: use external signing (prepare/embed)");
		goto done;
	}
	if ((code = signcore__signer_check(ctx, signer, when)))
		goto done;
	if (!prep && (warm = signcore__warm_start(signer, ps->cms.md)))
		ctx->side_ok = 1;
	if (!prep && o.level >= SIGNCORE_LEVEL_B_T) {
		if (!o.tsa_count) {
			code = signcore__err(ctx, SIGNCORE_EINVAL, "level B-T and above need a time-stamp authority (TSA URL)");
			goto done;
		}
		if (!(trust = signcore__trust_store(ctx, o.trust_files, o.trust_count, &code)))
			goto done;
		tsa_from(&tsa, &o, trust);
		ps->tsa = &tsa;
		ps->want_ts = 1;
	}
	if ((code = check_doc_signable(doc, o.certify != SIGNCORE_CERTIFY_NONE, 0)))
		goto done;
	if ((code = ensure_appendable(&doc, &t, out_path, &owned)))
		goto done;

	name = o.name && *o.name ? o.name : signer->name;
	/* Prepared for external signing, the CMS comes from elsewhere and may
	 * hold more than ours: the generous estimate. */
	ps->reserve = (prep ? signcore__cms_estimate(signer) : cms_size(ctx, signer, &ps->cms)) + (ps->want_ts ? (ctx->token_size ? ctx->token_size + 1024 : TS_RESERVE) : 0);
	if ((code = setup_signature(doc, &o, ps->reserve, name, when, &field, &v)))
		goto done;
	if (prep) {
		ps->prepare_attrs = prep->target == SIGNCORE_HASH_SIGNED_ATTRS;
		ps->reserve += TS_RESERVE; /* embed may add a time-stamp */
	}
	if (!(tmp = tmp_new(ctx, &t, prep ? prep->pending : out_path, &code)))
		goto done;
	if ((code = write_signed(ctx, doc->pdf, field, v, ps, tmp)))
		goto done;
	if (prep) {
		code = write_pending(ctx, tmp, prep->pending, ps, v, &o, prep->target);
		if (!code) {
			const unsigned char *h = ps->prepare_attrs ? NULL : ps->hash;
			unsigned char ah[EVP_MAX_MD_SIZE];
			unsigned int ahl = ps->hashlen;
			if (ps->prepare_attrs) {
				code = signcore__md_hash(ctx, ps->cms.md, ps->attrs.p, ps->attrs.len, ah, &ahl);
				h = ah;
			}
			if (!code && *prep->digest_len < ahl)
				code = signcore__err(ctx, SIGNCORE_ETOOSMALL, "the digest buffer is too small");
			if (!code) {
				memcpy(prep->digest, h, ahl);
				*prep->digest_len = ahl;
			}
		}
		goto done;
	}
	{
		STACK_OF(X509) *certs = sk_X509_new_null();
		if (!certs) {
			code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
			goto done;
		}
		push_certs(certs, signer->cert, signer->chain);
		if (ps->token)
			signcore__token_certs(ps->token, ps->toklen, certs);
		code = extend_and_publish(ctx, &t, tmp, doc->password, out_path, &o, certs, &tsa);
		sk_X509_pop_free(certs, X509_free);
	}
done:
	signcore__font_subset_ahead_drop(ctx);
	ctx->side_ok = 0;
	signcore__warm_join(warm);
	if (fz) {
		pdf_drop_obj(fz, field);
		pdf_drop_obj(fz, v);
	}
	signcore_doc_free(owned);
	tmp_clean(&t);
	X509_STORE_free(trust);
	if (ps)
		ps_drop(fz, &ps->base);
	return code;
}

int signcore_sign(signcore_doc *doc, const signcore_signer *signer, const char *out_path,
	const signcore_sign_options *opts)
{
	return sign_impl(doc, signer, out_path, opts, NULL);
}

int signcore_timestamp(signcore_doc *doc, const char *out_path, const signcore_sign_options *opts)
{
	signcore_ctx *ctx;
	signcore_sign_options o;
	sc_tsa tsa = { 0 };
	X509_STORE *trust;
	tmpset t = { { 0 }, 0 };
	signcore_doc *owned = NULL;
	const char *tmp;
	int code;

	if (!doc || !out_path || !opts)
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signcore_timestamp: NULL argument") : SIGNCORE_EINVAL;
	ctx = doc->ctx;
	signcore__clear_err(ctx);
	o = *opts;
	if (!o.tsa_count)
		return signcore__err(ctx, SIGNCORE_EINVAL, "a document time-stamp needs a TSA URL");
	if ((code = check_doc_signable(doc, 0, 1)))
		return code;
	if (!(trust = signcore__trust_store(ctx, o.trust_files, o.trust_count, &code)))
		return code;
	tsa_from(&tsa, &o, trust);
	if (!(code = ensure_appendable(&doc, &t, out_path, &owned)) && (tmp = tmp_new(ctx, &t, out_path, &code)) &&
	    !(code = docts_into(doc, &o, &tsa, tmp)))
		code = publish_final(ctx, &t, tmp, out_path);
	signcore_doc_free(owned);
	tmp_clean(&t);
	X509_STORE_free(trust);
	return code;
}

/* Every signature's /Contents in DOC, collected for LTV. */
static void collect_signature_certs(fz_context *fz, pdf_obj *arr, STACK_OF(X509) *into, int *count, int depth)
{
	int i;

	if (depth > 32)
		return;
	for (i = 0; i < pdf_array_len(fz, arr); i++) {
		pdf_obj *f = pdf_array_get(fz, arr, i);
		pdf_obj *v = pdf_dict_get(fz, f, PDF_NAME(V));
		if (pdf_name_eq(fz, pdf_dict_get_inheritable(fz, f, PDF_NAME(FT)), PDF_NAME(Sig)) && pdf_is_dict(fz, v)) {
			pdf_obj *c = pdf_dict_get(fz, v, PDF_NAME(Contents));
			size_t len = pdf_to_str_len(fz, c);
			const unsigned char *p = (const unsigned char *)pdf_to_str_buf(fz, c);
			/* The hex string is zero-padded: the DER length tells the end. */
			if (len > 0) {
				cms_certs(p, len, into);
				(*count)++;
			}
		}
		if (pdf_dict_get(fz, f, PDF_NAME(Kids)))
			collect_signature_certs(fz, pdf_dict_get(fz, f, PDF_NAME(Kids)), into, count, depth + 1);
	}
}

int signcore_ltv(signcore_doc *doc, const char *out_path, const signcore_sign_options *opts)
{
	signcore_ctx *ctx;
	signcore_sign_options o;
	sc_tsa tsa = { 0 };
	X509_STORE *trust = NULL;
	STACK_OF(X509) *certs = NULL;
	tmpset t = { { 0 }, 0 };
	const char *tmp, *next, *final;
	sc_ltv l = { 0 };
	int code = SIGNCORE_OK, count = 0;

	if (!doc || !out_path || !opts)
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signcore_ltv: NULL argument") : SIGNCORE_EINVAL;
	ctx = doc->ctx;
	signcore__clear_err(ctx);
	o = *opts;
	if (o.level >= SIGNCORE_LEVEL_B_LTA && !o.tsa_count)
		return signcore__err(ctx, SIGNCORE_EINVAL, "B-LTA needs a TSA URL for the document time-stamp");
	if (signcore_doc_repaired(doc))
		return signcore__err(ctx, SIGNCORE_ESIGNED, "the file is damaged and was repaired: it cannot be extended");
	if (!(trust = signcore__trust_store(ctx, o.trust_files, o.trust_count, &code)))
		return code;
	certs = sk_X509_new_null();
	fz_var(code);
	fz_try(ctx->fz)
		collect_signature_certs(ctx->fz, pdf_dict_getp(ctx->fz, pdf_trailer(ctx->fz, doc->pdf), "Root/AcroForm/Fields"),
			certs, &count, 0);
	fz_catch(ctx->fz)
		code = signcore__caught(ctx, SIGNCORE_EBADINPUT, "reading the signatures");
	if (!code && !count)
		code = signcore__err(ctx, SIGNCORE_ENOTFOUND, "the document has no signatures to extend");
	if (!code && !sk_X509_num(certs))
		code = signcore__err(ctx, SIGNCORE_EBADINPUT, "the signatures carry no certificates");
	if (code)
		goto done;
	{
		STACK_OF(X509) *pool = sk_X509_dup(certs);
		int i;
		code = pool ? signcore__ltv_collect(ctx, certs, pool, trust,
			o.allow_missing_revocation ? SC_LTV_ALLOW_MISSING : 0, &l)
			    : signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
		for (i = sk_X509_num(certs); pool && i < sk_X509_num(pool); i++)
			X509_free(sk_X509_value(pool, i));
		sk_X509_free(pool);
	}
	if (code || !(tmp = tmp_new(ctx, &t, out_path, &code)))
		goto done;
	fz_try(ctx->fz) {
		dss_apply(ctx->fz, doc->pdf, &l);
		signcore__write_pdf(ctx->fz, doc->pdf, tmp, 0);
	}
	fz_catch(ctx->fz) {
		code = signcore__caught(ctx, SIGNCORE_EIO, "adding the validation data (DSS)");
		goto done;
	}
	tsa_from(&tsa, &o, trust);
	final = tmp;
	if (o.level >= SIGNCORE_LEVEL_B_LTA) {
		if (!(next = tmp_new(ctx, &t, out_path, &code)) || (code = docts_file(ctx, final, doc->password, next, &tsa)))
			goto done;
		final = next;
	}
	code = publish_final(ctx, &t, final, out_path);
done:
	signcore__ltv_free(&l);
	sk_X509_pop_free(certs, X509_free);
	X509_STORE_free(trust);
	tmp_clean(&t);
	return code;
}

/* ---------------------------------------------------- external signing */

static char *b64(const unsigned char *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static unsigned char *unb64(const char *s, size_t *n)
{
	size_t len = strlen(s);
	unsigned char *out = malloc(len / 4 * 3 + 3);
	int k;

	if (!out)
		return NULL;
	k = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (k < 0) {
		free(out);
		return NULL;
	}
	while (len > 0 && s[len - 1] == '=') {
		k--;
		len--;
	}
	*n = (size_t)k;
	return out;
}

static char *hex(const unsigned char *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	char *out = malloc(2 * n + 1);
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
	return out;
}

static int copy_file(FILE *from, FILE *to, long long n)
{
	char buf[65536];

	while (n > 0) {
		size_t want = n > (long long)sizeof buf ? sizeof buf : (size_t)n;
		size_t got = fread(buf, 1, want, from);
		if (got == 0 || fwrite(buf, 1, got, to) != got)
			return -1;
		n -= (long long)got;
	}
	return 0;
}

static int write_pending(signcore_ctx *ctx, const char *pdfpath, const char *pending, sc_psigner *ps,
	pdf_obj *v, const signcore_sign_options *o, signcore_hash_target target)
{
	fz_context *fz = ctx->fz;
	pdf_obj *br = pdf_dict_get(fz, v, PDF_NAME(ByteRange));
	json_t *j = json_object(), *chain = json_array(), *range = json_array();
	char *tmp = NULL, *line = NULL, *s;
	FILE *in = NULL, *out = NULL;
	unsigned char *der = NULL;
	long long pdflen;
	int i, n, code = SIGNCORE_OK;

	if (pdf_array_len(fz, br) != 4) {
		code = signcore__err(ctx, SIGNCORE_EINTERNAL, "the prepared signature has no byte range");
		goto done;
	}
	for (i = 0; i < 4; i++)
		json_array_append_new(range, json_integer(pdf_array_get_int(fz, br, i)));
	json_object_set_new(j, "byte_range", range);
	range = NULL;
	json_object_set_new(j, "target", json_string(target == SIGNCORE_HASH_SIGNED_ATTRS ? "signed-attributes" : "byte-range"));
	json_object_set_new(j, "digest", json_string(EVP_MD_get0_name(ps->cms.md)));
	json_object_set_new(j, "pss", json_boolean(ps->cms.pss));
	json_object_set_new(j, "pkcs7", json_boolean(o->pkcs7));
	json_object_set_new(j, "signing_time", json_integer(ps->cms.when));
	s = hex(ps->hash, ps->hashlen);
	json_object_set_new(j, "document_hash", json_string(s ? s : ""));
	free(s);
	n = i2d_X509(ps->signer->cert, &der);
	s = n > 0 ? b64(der, (size_t)n) : NULL;
	OPENSSL_free(der);
	der = NULL;
	json_object_set_new(j, "certificate", json_string(s ? s : ""));
	free(s);
	for (i = 0; i < sk_X509_num(ps->signer->chain); i++) {
		n = i2d_X509(sk_X509_value(ps->signer->chain, i), &der);
		s = n > 0 ? b64(der, (size_t)n) : NULL;
		OPENSSL_free(der);
		der = NULL;
		json_array_append_new(chain, json_string(s ? s : ""));
		free(s);
	}
	json_object_set_new(j, "chain", chain);
	chain = NULL;
	line = json_dumps(j, JSON_COMPACT);
	if (!line) {
		code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
		goto done;
	}
	if (!(tmp = signcore__tmp_beside(ctx, pending, &code)))
		goto done;
	in = fopen(pdfpath, "rb");
	out = fopen(tmp, "wb");
	if (!in || !out || fseeko(in, 0, SEEK_END) || (pdflen = ftello(in)) < 0 || fseeko(in, 0, SEEK_SET) ||
	    fputs(PENDING_MAGIC, out) == EOF || fprintf(out, "%s\n", line) < 0 || copy_file(in, out, pdflen) ||
	    fflush(out)) {
		code = signcore__err(ctx, SIGNCORE_EIO, "%s: %s", pending, strerror(errno));
		goto done;
	}
	fclose(out);
	out = NULL;
	code = signcore__publish(ctx, tmp, pending);
done:
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	if (tmp) {
		if (code)
			unlink(tmp);
		free(tmp);
	}
	free(line);
	json_decref(j);
	json_decref(chain);
	json_decref(range);
	return code;
}

int signcore_sign_prepare(signcore_doc *doc, const signcore_signer *signer, const char *pending_path,
	const signcore_sign_options *opts, signcore_hash_target target, unsigned char *digest, size_t *digest_len)
{
	prep_args p;

	if (!doc || !pending_path || !digest || !digest_len)
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signcore_sign_prepare: NULL argument") : SIGNCORE_EINVAL;
	p.target = target;
	p.digest = digest;
	p.digest_len = digest_len;
	p.pending = pending_path;
	return sign_impl(doc, signer, pending_path, opts, &p);
}

typedef struct {
	json_t *j;
	long long off;          /* where the PDF starts in the pending file */
	long long br[4];
	const EVP_MD *md;
	int attrs;
	int pss, pkcs7;
	long long when;
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hashlen;
	signcore_signer *signer; /* certificate from the pending file */
} pending;

static void pending_free(pending *p)
{
	json_decref(p->j);
	signcore_signer_free(p->signer);
}

static int hash_ranges(signcore_ctx *ctx, FILE *f, long long off, const long long br[4], const EVP_MD *md,
	unsigned char *out, unsigned int *outlen)
{
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	unsigned char buf[65536];
	int r, ok = mc && EVP_DigestInit_ex(mc, md, NULL);

	for (r = 0; ok && r < 2; r++) {
		long long n = br[2 * r + 1];
		ok = !fseeko(f, off + br[2 * r], SEEK_SET);
		while (ok && n > 0) {
			size_t want = n > (long long)sizeof buf ? sizeof buf : (size_t)n;
			size_t got = fread(buf, 1, want, f);
			if (!got)
				ok = 0;
			else {
				EVP_DigestUpdate(mc, buf, got);
				n -= (long long)got;
			}
		}
	}
	ok = ok && EVP_DigestFinal_ex(mc, out, outlen);
	EVP_MD_CTX_free(mc);
	if (!ok)
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "the pending file is shorter than its byte range");
	return SIGNCORE_OK;
}

static int read_pending(signcore_ctx *ctx, const char *path, FILE *f, pending *p)
{
	char magic[sizeof PENDING_MAGIC];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	json_error_t je;
	json_t *br, *cert, *chain;
	const char *dg, *tg, *hx;
	long long size, gap0, gap1;
	int i, code = SIGNCORE_OK;

	memset(p, 0, sizeof *p);
	if (fread(magic, 1, sizeof PENDING_MAGIC - 1, f) != sizeof PENDING_MAGIC - 1 ||
	    memcmp(magic, PENDING_MAGIC, sizeof PENDING_MAGIC - 1))
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: not a pending signature file made by signcore sign --prepare", path);
	n = getline(&line, &cap, f);
	if (n <= 0 || !(p->j = json_loads(line, 0, &je))) {
		free(line);
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: the pending file's state line is damaged", path);
	}
	free(line);
	p->off = ftello(f);
	br = json_object_get(p->j, "byte_range");
	dg = json_string_value(json_object_get(p->j, "digest"));
	tg = json_string_value(json_object_get(p->j, "target"));
	hx = json_string_value(json_object_get(p->j, "document_hash"));
	cert = json_object_get(p->j, "certificate");
	chain = json_object_get(p->j, "chain");
	if (!json_is_array(br) || json_array_size(br) != 4 || !dg || !tg || !hx || !json_is_string(cert) ||
	    !json_is_array(chain) || !(p->md = EVP_get_digestbyname(dg)))
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: the pending file's state is incomplete", path);
	for (i = 0; i < 4; i++)
		p->br[i] = json_integer_value(json_array_get(br, (size_t)i));
	p->attrs = !strcmp(tg, "signed-attributes");
	p->pss = json_is_true(json_object_get(p->j, "pss"));
	p->pkcs7 = json_is_true(json_object_get(p->j, "pkcs7"));
	p->when = json_integer_value(json_object_get(p->j, "signing_time"));
	if (fseeko(f, 0, SEEK_END) || (size = ftello(f)) < 0)
		return signcore__err(ctx, SIGNCORE_EIO, "%s: %s", path, strerror(errno));
	size -= p->off;
	gap0 = p->br[1];
	gap1 = p->br[2];
	if (p->br[0] != 0 || gap0 <= 0 || gap1 <= gap0 + 2 || p->br[3] <= 0 || gap1 + p->br[3] != size)
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: the byte range does not match the file (was it modified?)", path);
	/* The gap must be the untouched placeholder <000...>. */
	{
		char buf[4096];
		long long left = gap1 - gap0, at = 0;
		if (fseeko(f, p->off + gap0, SEEK_SET))
			return signcore__err(ctx, SIGNCORE_EIO, "%s: %s", path, strerror(errno));
		while (left > 0) {
			size_t want = left > (long long)sizeof buf ? sizeof buf : (size_t)left, k;
			if (fread(buf, 1, want, f) != want)
				return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: truncated", path);
			for (k = 0; k < want; k++, at++) {
				char c = buf[k], need = at == 0 ? '<' : at == gap1 - gap0 - 1 ? '>' : '0';
				if (c != need)
					return signcore__err(ctx, SIGNCORE_EBADINPUT,
						"%s: the signature placeholder is not empty (already embedded?)", path);
			}
			left -= (long long)want;
		}
	}
	if ((code = hash_ranges(ctx, f, p->off, p->br, p->md, p->hash, &p->hashlen)))
		return code;
	{
		char *h = hex(p->hash, p->hashlen);
		int same = h && !strcmp(h, hx);
		free(h);
		if (!same)
			return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: the document was modified after it was prepared", path);
	}
	/* The certificate and chain recorded at prepare time. */
	{
		signcore_signer *s = calloc(1, sizeof *s);
		size_t len;
		unsigned char *der;
		const unsigned char *q;
		if (!s || !(s->chain = sk_X509_new_null())) {
			free(s);
			return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
		}
		p->signer = s;
		der = unb64(json_string_value(cert), &len);
		q = der;
		s->cert = der ? d2i_X509(NULL, &q, (long)len) : NULL;
		free(der);
		for (i = 0; i < (int)json_array_size(chain); i++) {
			X509 *x;
			der = unb64(json_string_value(json_array_get(chain, (size_t)i)), &len);
			q = der;
			x = der ? d2i_X509(NULL, &q, (long)len) : NULL;
			free(der);
			if (x)
				sk_X509_push(s->chain, x);
		}
		ERR_clear_error();
		if (!s->cert || !(s->pub = X509_get0_pubkey(s->cert)) ||
		    !(s->name = signcore__x509_name_text(X509_get_subject_name(s->cert))))
			return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: the recorded certificate is damaged", path);
	}
	return code;
}

/* A complete CMS from the signing service: check it signs our byte range. */
static int check_full_cms(signcore_ctx *ctx, pending *p, const signcore_signer *given,
	CMS_ContentInfo *ci, STACK_OF(X509) *certs_out)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(ci);
	CMS_SignerInfo *si;
	STACK_OF(X509) *extra = sk_X509_new_null();
	X509 *signer_cert = NULL;
	ASN1_OCTET_STRING *md_attr;
	X509_ALGOR *dig = NULL;
	const EVP_MD *md;
	int i;

	if (!sis || sk_CMS_SignerInfo_num(sis) != 1) {
		sk_X509_free(extra);
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "the CMS must have exactly one signer");
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	if (given)
		sk_X509_push(extra, given->cert);
	sk_X509_push(extra, p->signer->cert);
	for (i = 0; i < sk_X509_num(p->signer->chain); i++)
		sk_X509_push(extra, sk_X509_value(p->signer->chain, i));
	CMS_set1_signers_certs(ci, extra, 0);
	CMS_SignerInfo_get0_algs(si, NULL, &signer_cert, &dig, NULL);
	if (!signer_cert) {
		sk_X509_free(extra);
		ERR_clear_error();
		return signcore__err(ctx, SIGNCORE_ECRYPTO, "the CMS does not carry or name a known signer certificate");
	}
	if (X509_cmp(signer_cert, p->signer->cert)) {
		sk_X509_free(extra);
		return signcore__err(ctx, SIGNCORE_ECRYPTO,
			"the CMS is signed by another certificate than the one the signature was prepared for");
	}
	md = EVP_get_digestbyobj(dig->algorithm);
	i = CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1);
	md_attr = i >= 0 ? X509_ATTRIBUTE_get0_data(CMS_signed_get_attr(si, i), 0, V_ASN1_OCTET_STRING, NULL) : NULL;
	if (!md || !md_attr) {
		sk_X509_free(extra);
		return signcore__err(ctx, SIGNCORE_ECRYPTO, "the CMS has no message digest (signed attributes) or an unknown digest");
	}
	if (EVP_MD_get_type(md) != EVP_MD_get_type(p->md)) {
		sk_X509_free(extra);
		return signcore__err(ctx, SIGNCORE_ECRYPTO, "the CMS uses %s but the signature was prepared with %s",
			EVP_MD_get0_name(md), EVP_MD_get0_name(p->md));
	}
	if ((size_t)ASN1_STRING_length(md_attr) != p->hashlen ||
	    memcmp(ASN1_STRING_get0_data(md_attr), p->hash, p->hashlen)) {
		sk_X509_free(extra);
		return signcore__err(ctx, SIGNCORE_ECRYPTO, "the CMS signs another document (its message digest does not match)");
	}
	if (CMS_SignerInfo_verify(si) != 1) {
		sk_X509_free(extra);
		ERR_clear_error();
		return signcore__err(ctx, SIGNCORE_ECRYPTO, "the CMS signature does not verify");
	}
	{
		STACK_OF(X509) *c = CMS_get1_certs(ci);
		for (i = 0; i < sk_X509_num(c); i++) {
			X509_up_ref(sk_X509_value(c, i));
			sk_X509_push(certs_out, sk_X509_value(c, i));
		}
		sk_X509_pop_free(c, X509_free);
	}
	sk_X509_free(extra);
	return SIGNCORE_OK;
}

int signcore_sign_embed(signcore_ctx *ctx, const char *pending_path, const void *signature, size_t signature_len,
	const signcore_signer *cert_signer, const char *out_path, const signcore_sign_options *opts)
{
	signcore_sign_options o;
	pending p;
	FILE *f = NULL, *out = NULL;
	sc_tsa tsa = { 0 };
	X509_STORE *trust = NULL;
	sc_der cms = { 0 };
	unsigned char *token = NULL, *cmsder = NULL;
	size_t toklen = 0, cmslen = 0;
	tmpset t = { { 0 }, 0 };
	STACK_OF(X509) *certs = NULL;
	const char *tmp;
	char *hexs = NULL;
	int code = SIGNCORE_OK;

	if (!ctx || !pending_path || !signature || !out_path)
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_sign_embed: NULL argument") : SIGNCORE_EINVAL;
	signcore__clear_err(ctx);
	memset(&p, 0, sizeof p);
	if (opts) {
		o = *opts;
	} else {
		signcore_sign_options d = SIGNCORE_SIGN_OPTIONS_INIT;
		o = d;
	}
	if (!(f = fopen(pending_path, "rb"))) {
		return signcore__err(ctx, errno == ENOENT ? SIGNCORE_ENOTFOUND : SIGNCORE_EIO, "%s: %s",
			pending_path, strerror(errno));
	}
	if ((code = read_pending(ctx, pending_path, f, &p)))
		goto done;
	if (cert_signer && X509_cmp(cert_signer->cert, p.signer->cert)) {
		code = signcore__err(ctx, SIGNCORE_ECRYPTO, "the certificate given is not the one the signature was prepared for");
		goto done;
	}
	if (cert_signer) {
		int i;
		for (i = 0; i < sk_X509_num(cert_signer->chain); i++) {
			X509 *x = sk_X509_value(cert_signer->chain, i);
			int k, have = 0;
			for (k = 0; k < sk_X509_num(p.signer->chain); k++)
				have |= !X509_cmp(x, sk_X509_value(p.signer->chain, k));
			if (!have && X509_up_ref(x))
				sk_X509_push(p.signer->chain, x);
		}
		signcore__order_chain(p.signer->cert, p.signer->chain);
	}
	if (o.level >= SIGNCORE_LEVEL_B_T) {
		if (!o.tsa_count) {
			code = signcore__err(ctx, SIGNCORE_EINVAL, "level B-T and above need a time-stamp authority (TSA URL)");
			goto done;
		}
		if (!(trust = signcore__trust_store(ctx, o.trust_files, o.trust_count, &code)))
			goto done;
		tsa_from(&tsa, &o, trust);
	}
	certs = sk_X509_new_null();
	{
		const unsigned char *q = signature;
		CMS_ContentInfo *ci = d2i_CMS_ContentInfo(NULL, &q, (long)signature_len);
		ERR_clear_error();
		if (ci && OBJ_obj2nid(CMS_get0_type(ci)) == NID_pkcs7_signed) {
			code = check_full_cms(ctx, &p, cert_signer, ci, certs);
			if (!code && o.level >= SIGNCORE_LEVEL_B_T) {
				CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(ci), 0);
				ASN1_OCTET_STRING *sv = CMS_SignerInfo_get0_signature(si);
				unsigned char h[EVP_MAX_MD_SIZE];
				unsigned int hl;
				long long gentime;
				code = signcore__md_hash(ctx, EVP_sha256(), ASN1_STRING_get0_data(sv), (size_t)ASN1_STRING_length(sv), h, &hl);
				if (!code)
					code = signcore__tsa_stamp(ctx, &tsa, EVP_sha256(), h, hl, &token, &toklen, &gentime);
				if (!code && !CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
						token, (int)toklen))
					code = signcore__ossl_err(ctx, SIGNCORE_ECRYPTO, "cannot add the time-stamp to the CMS");
			}
			if (!code) {
				int n = i2d_CMS_ContentInfo(ci, &cmsder);
				if (n <= 0)
					code = signcore__ossl_err(ctx, SIGNCORE_ECRYPTO, "cannot encode the CMS");
				cmslen = n > 0 ? (size_t)n : 0;
			}
			CMS_ContentInfo_free(ci);
		} else {
			sc_cms_opts co;
			CMS_ContentInfo_free(ci);
			if (!p.attrs) {
				code = signcore__err(ctx, SIGNCORE_EBADINPUT,
					"the signature was prepared over the byte range: give a complete CMS, not a raw signature");
				goto done;
			}
			co.md = p.md;
			co.pss = p.pss;
			co.signing_time = p.pkcs7;
			co.when = p.when;
			code = make_cms(ctx, p.signer, &co, &tsa, o.level >= SIGNCORE_LEVEL_B_T, p.hash, p.hashlen,
				signature, signature_len, &token, &toklen, &cms);
			if (!code) {
				cmsder = OPENSSL_malloc(cms.len);
				if (!cmsder)
					code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
				else {
					memcpy(cmsder, cms.p, cms.len);
					cmslen = cms.len;
				}
				push_certs(certs, p.signer->cert, p.signer->chain);
			}
		}
	}
	if (code)
		goto done;
	if (2 * cmslen > (size_t)(p.br[2] - p.br[1] - 2)) {
		code = signcore__err(ctx, SIGNCORE_ETOOSMALL,
			"the signature (%zu bytes) does not fit the space prepared (%lld bytes)", cmslen,
			(p.br[2] - p.br[1] - 2) / 2);
		goto done;
	}
	if (!(hexs = hex(cmsder, cmslen))) {
		code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
		goto done;
	}
	if (!(tmp = tmp_new(ctx, &t, out_path, &code)))
		goto done;
	if (!(out = fopen(tmp, "wb")) || fseeko(f, p.off, SEEK_SET) ||
	    copy_file(f, out, p.br[1] + 1) || fwrite(hexs, 1, 2 * cmslen, out) != 2 * cmslen ||
	    fseeko(f, p.off + p.br[1] + 1 + 2 * (long long)cmslen, SEEK_SET) ||
	    copy_file(f, out, p.br[2] + p.br[3] - (p.br[1] + 1 + 2 * (long long)cmslen)) || fflush(out)) {
		code = signcore__err(ctx, SIGNCORE_EIO, "%s: %s", out_path, strerror(errno));
		goto done;
	}
	fclose(out);
	out = NULL;
	if (token)
		signcore__token_certs(token, toklen, certs);
	code = extend_and_publish(ctx, &t, tmp, o.password, out_path, &o, certs, &tsa);
done:
	if (out)
		fclose(out);
	if (f)
		fclose(f);
	tmp_clean(&t);
	free(hexs);
	free(token);
	OPENSSL_free(cmsder);
	sc_der_free(&cms);
	sk_X509_pop_free(certs, X509_free);
	X509_STORE_free(trust);
	pending_free(&p);
	return code;
}
