/*
 * Private declarations shared by the modules of libsigncore.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#ifndef SIGNCORE_INTERNAL_H
#define SIGNCORE_INTERNAL_H

#include "signcore.h"

#include <mupdf/fitz.h>
#include <mupdf/pdf.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define SC_ERRMSG_MAX 1024

/* Fonts bundled in fonts/ (index into signcore_ctx.font_bufs). */
enum {
	SC_FONT_SCRIPT,
	SC_FONT_DEVANAGARI,
	SC_FONT_TAMIL,
	SC_FONT_BENGALI,
	SC_FONT_GUJARATI,
	SC_FONT_ARABIC,
	SC_FONT_TELUGU,
	SC_FONT_KANNADA,
	SC_FONT_MALAYALAM,
	SC_FONT_GURMUKHI,
	SC_FONT_COUNT
};

struct signcore_ctx {
	fz_context *fz;
	int last_code;
	int thrown;          /* the exception in flight came from signcore__throw */
	int warnings;        /* MuPDF warnings seen (they are not printed) */
	char last_warning[256];
	char message[SC_ERRMSG_MAX];
	char *font_dir;
	/* Bundled font files, loaded on first use and kept for the context. */
	fz_buffer *font_bufs[SC_FONT_COUNT];
	void *curl;          /* HTTP handle, kept so connections are reused */
	/* Embedded font programs, deflated once and reused (appear.c). */
	struct {
		unsigned long crc;
		size_t len;
		fz_buffer *z;
	} zfonts[8];
	int nzfonts;
	size_t token_size;   /* size of the last time-stamp token seen */
	int durable;         /* fsync each output and its directory */
	void *writing;       /* the output signcore__write_pdf is writing, or NULL */
	void *zs;            /* a zlib deflate stream, reused (signcore__deflate) */
	int zlevel;
	int side_ok;         /* a helper thread may take work now (warm.c) */
	/* Bare CFF programs opened by FreeType for wrapping (subset.c). */
	struct {
		fz_buffer *data;
		fz_font *font;
	} cff[4];
	int ncff;
	struct sc_ahead *ahead; /* a font subset being cut on another CPU */
};

struct signcore_doc {
	signcore_ctx *ctx;
	pdf_document *pdf;
	char *path;          /* file it was opened from, or NULL (memory) */
	char *password;      /* kept to reopen what signing writes */
	int repaired;
};

struct signcore_signer {
	EVP_PKEY *key;           /* NULL for a certificate-only (external) signer */
	EVP_PKEY *pub;           /* borrowed from cert */
	X509 *cert;
	STACK_OF(X509) *chain;   /* issuers, leaf's issuer first */
	char *name;              /* subject common name */
};

/* ctx.c: record an error. Returns CODE so callers can `return sc_err(...)`. */
int signcore__err(signcore_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record an error and throw it through MuPDF's exception stack, so code
 * inside fz_try can fail with one of our codes; signcore__caught returns it. */
void signcore__throw(signcore_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
/* Put "PREFIX: " (printf-style) in front of the recorded message. */
int signcore__prefix_err(signcore_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The field a widget belongs to: itself when it carries /T, else its parent. */
pdf_obj *signcore__widget_field(fz_context *fz, pdf_obj *widget);
/* Throw CODE with the message already recorded by signcore__err. */
void signcore__throw_last(signcore_ctx *ctx, int code) __attribute__((noreturn));
/* In fz_catch: the code thrown by signcore__throw, or the MuPDF exception
 * mapped to a code with its message after PREFIX. */
int signcore__caught(signcore_ctx *ctx, int code_for_mupdf, const char *prefix);
void signcore__clear_err(signcore_ctx *ctx);
/* The bytes of a bundled font, loaded on first use (throws on failure). */
fz_buffer *signcore__font_buffer(signcore_ctx *ctx, int which);
const char *signcore__font_file(int which);

/* page.c: geometry of a page as displayed. */
typedef struct {
	pdf_obj *obj;
	fz_matrix ctm;   /* PDF user space -> displayed space (top-left origin) */
	fz_matrix inv;   /* displayed space -> PDF user space */
	float width, height;
	int rotate;
} sc_page;
void signcore__page_get(fz_context *fz, pdf_document *pdf, int page0, sc_page *pg);
/* Convert a displayed rect (x, y, w, h in UNITS) to a PDF user-space rect.
 * Returns 0, or SIGNCORE_ERANGE/EINVAL with the message set. */
int signcore__rect_to_user(signcore_ctx *ctx, const sc_page *pg, const double r[4],
	signcore_units units, const char *what, fz_rect *out);
/* Page number (1-based) of the page object PAGEOBJ, or 0. */
int signcore__page_number(fz_context *fz, pdf_document *pdf, pdf_obj *pageobj);

/* appear.c: appearance streams, drawn by our own code. */
typedef struct {
	signcore_field_type type;
	const char *font;       /* family keyword or font file path */
	float font_size;        /* 0 = fit */
	signcore_align align;
	int multiline;
} sc_style;

/* Text (or a typed signature) laid out by the story engine in a W x H box.
 * Returns a new form XObject (owned by caller); ROTATE orients it on the page. */
pdf_obj *signcore__ap_text(signcore_ctx *ctx, pdf_document *pdf, const sc_style *st,
	const char *text, float w, float h, int rotate);
/* An image fitted (aspect kept, centred) in a W x H box. */
pdf_obj *signcore__ap_image(signcore_ctx *ctx, pdf_document *pdf, fz_image *img,
	float w, float h, int rotate);
/* Checkbox states: ON = 1 draws the check mark. */
pdf_obj *signcore__ap_check(signcore_ctx *ctx, pdf_document *pdf, int on,
	float w, float h, int rotate);
/* A visible signature: IMAGE or TYPED (in FONT) beside the TEXT block. */
pdf_obj *signcore__ap_signature(signcore_ctx *ctx, pdf_document *pdf, const void *image, size_t image_len,
	const char *typed, const char *font, const char *text, float w, float h, int rotate);
/* The extent of the ink of the text in LIST, from glyph outlines. */
fz_rect signcore__measure_ink(fz_context *fz, fz_display_list *list);
/* An empty appearance (unfilled field). */
pdf_obj *signcore__ap_empty(signcore_ctx *ctx, pdf_document *pdf, float w, float h, int rotate);

/* subset.c: a copy of the font program DATA holding only the glyphs TEXT
 * can need, as an OpenType file (bare CFF programs are wrapped; SANS sets
 * the family class MuPDF picks fallback faces by). NULL when the font
 * cannot be subset: use it whole. */
fz_buffer *signcore__font_subset(signcore_ctx *ctx, const unsigned char *data, size_t len, const char *text,
	int sans);
/* Start cutting DATA down to TEXT on another CPU; signcore__font_subset
 * called with the same arguments (the same DATA pointer) takes the result.
 * Drop waits for a cut nobody took and frees it. */
typedef struct sc_ahead sc_ahead;
void signcore__font_subset_ahead(signcore_ctx *ctx, const unsigned char *data, size_t len, const char *text,
	int sans);
void signcore__font_subset_ahead_drop(signcore_ctx *ctx);
void signcore__font_cache_free(signcore_ctx *ctx);

/* text.c: text in every script. A font set holds the faces for FONT
 * ("sans", "serif", "mono", "script" or a font file) and for each Indic or
 * Arabic script in TEXT, each cut down to what TEXT (all the text that
 * will be laid out with the set) needs; CSS family scf (bold too with
 * SC_FS_BOLD), class m the mono face (SC_FS_MONO), class z break
 * opportunities (SC_FS_BREAKS). */
typedef struct sc_fontset sc_fontset;
enum { SC_FS_BOLD = 1, SC_FS_MONO = 2, SC_FS_BREAKS = 4 };
sc_fontset *signcore__fontset_new(signcore_ctx *ctx, const char *font, const char *text, int flags);
/* Have the Latin face of the set signcore__fontset_new(CTX, FONT, TEXT, 0)
 * will make cut on another CPU meanwhile (FONT a keyword: sans, serif,
 * mono; anything else is left to the set). */
void signcore__fontset_ahead(signcore_ctx *ctx, const char *font, const char *text);
void signcore__fontset_drop(signcore_ctx *ctx, sc_fontset *fs);
const char *signcore__fontset_css(const sc_fontset *fs);
fz_archive *signcore__fontset_archive(const sc_fontset *fs);
/* Append TEXT as HTML: escaped, each script run in a span with its face;
 * SC_TEXT_BR turns newlines into <br/>, SC_TEXT_BREAKS lets long words
 * (addresses, identifiers) break (the set needs SC_FS_BREAKS). */
enum { SC_TEXT_BR = 1, SC_TEXT_BREAKS = 2 };
void signcore__text_html(signcore_ctx *ctx, const sc_fontset *fs, fz_buffer *html, const char *text, int flags);
/* Deflate the font programs in the resources RES once, and name the
 * subsets of FS as subsets (ISO 32000-1 9.6.4). */
void signcore__fontset_finish(signcore_ctx *ctx, const sc_fontset *fs, pdf_document *pdf, pdf_obj *res);
/* Begin marked content telling text extractors what S says (close with
 * EMC): without it, pdftotext garbles shaped Indic text. Right-to-left
 * text (Arabic without Indic) reads right by its glyphs and completed
 * ToUnicode map instead: signcore__needs_actual_text says 0. */
int signcore__needs_actual_text(const char *s);
void signcore__actual_text(fz_context *fz, fz_buffer *buf, const char *s);

/* image.c: decode a PNG/JPEG (throws FZ_ERROR_GENERIC with a message). */
fz_image *signcore__image_load(signcore_ctx *ctx, const void *data, size_t len);
int signcore__image_kind(const void *data, size_t len); /* 1 png, 2 jpeg, 0 */

/* fill.c */
int signcore__fill_widget(signcore_doc *doc, pdf_obj *field, const signcore_value *v);
/* Draw TEXT as widget W's appearance, as it stands (no date parsing). */
void signcore__redraw_text(signcore_doc *doc, pdf_obj *w, const char *text);
/* Build the appearance a field of STYLE shows for value V, in a W x H box. */
pdf_obj *signcore__ap_for_value(signcore_doc *doc, const sc_style *st,
	const char *date_format, const char *time_zone,
	const signcore_value *v, float w, float h, int rotate, char **out_text);

/* field.c */
pdf_obj *signcore__find_field(fz_context *fz, pdf_document *pdf, const char *name);
char *signcore__field_name(fz_context *fz, pdf_obj *field); /* fz_malloc'd */
signcore_field_type signcore__field_kind(fz_context *fz, pdf_obj *field);
int signcore__check_spec(signcore_ctx *ctx, const signcore_field_spec *spec, const char *where);

/* flatten.c: draw form XObject XOBJ so that Matrix x BBox fills RECT (user
 * space) on page PAGEOBJ. Used by flatten and stamp. */
typedef struct sc_burn sc_burn;
sc_burn *signcore__burn_begin(fz_context *fz, pdf_document *pdf, pdf_obj *pageobj);
void signcore__burn_xobject(fz_context *fz, sc_burn *b, pdf_obj *xobj, fz_rect rect);
void signcore__burn_end(fz_context *fz, sc_burn *b);
void signcore__burn_drop(fz_context *fz, sc_burn *b);

/* tz.c: UTC offset (seconds) in ZONE at instant T; abbreviation into ABBR. */
int signcore__tz_offset(signcore_ctx *ctx, const char *zone, long long t, int *offset,
	char *abbr, size_t abbr_size);
/* Parse "today", "now", "YYYY-MM-DD", RFC 3339; *DATE_ONLY set for dates. */
int signcore__parse_when(const char *s, long long now, long long *out, int *date_only);

/* der.c: a DER writer. */
typedef struct {
	unsigned char *p;
	size_t len, cap;
	int oom;
} sc_der;
void sc_der_raw(sc_der *d, const void *data, size_t n);
void sc_der_tlv(sc_der *d, int tag, const void *data, size_t n);
size_t sc_der_open(sc_der *d);
void sc_der_close(sc_der *d, size_t mark, int tag);
void sc_der_oid(sc_der *d, const char *dotted);
void sc_der_null(sc_der *d);
void sc_der_int(sc_der *d, long v);
/* Append N bytes at *BUF from an OpenSSL i2d call (pass &buf), then free it. */
void sc_der_i2d(sc_der *d, int n, unsigned char **buf);
void sc_der_set_of(sc_der *d, int tag, sc_der *items, size_t count);
void sc_der_free(sc_der *d);

/* signer.c: the CMS/CAdES signer. */
typedef struct {
	const EVP_MD *md;
	int pss;            /* RSA keys: RSASSA-PSS instead of PKCS#1 v1.5 */
	int signing_time;   /* add signing-time (adbe.pkcs7.detached only) */
	long long when;
} sc_cms_opts;
int signcore__ossl_err(signcore_ctx *ctx, int code, const char *what);
char *signcore__x509_name_text(const X509_NAME *name);
void signcore__asn1_time_text(const ASN1_TIME *t, char *buf, size_t size);
void signcore__order_chain(X509 *leaf, STACK_OF(X509) *chain);
int signcore__signer_check(signcore_ctx *ctx, const signcore_signer *s, long long when);
int signcore__md_hash(signcore_ctx *ctx, const EVP_MD *md, const void *data, size_t len,
	unsigned char *out, unsigned int *outlen);
/* The signed attributes as a DER SET (what is hashed and signed). */
int signcore__cms_attrs(signcore_ctx *ctx, const signcore_signer *s, const sc_cms_opts *o,
	const unsigned char *digest, size_t dlen, sc_der *out);
int signcore__cms_sign(signcore_ctx *ctx, const signcore_signer *s, const sc_cms_opts *o,
	const sc_der *attrs, unsigned char **sig, size_t *siglen);
/* Check a signature made elsewhere over ATTRS (r||s ECDSA is converted). */
int signcore__cms_check_raw(signcore_ctx *ctx, const signcore_signer *s, const sc_cms_opts *o,
	const sc_der *attrs, unsigned char **sig, size_t *siglen);
int signcore__cms_build(signcore_ctx *ctx, const signcore_signer *s, const sc_cms_opts *o,
	const sc_der *attrs, const unsigned char *sig, size_t siglen,
	const unsigned char *token, size_t tokenlen, sc_der *out);
size_t signcore__cms_estimate(const signcore_signer *s);
/* warm.c: run FN(ARG) on another CPU while the caller goes on. NULL when
 * the process may use only one CPU or no thread could be made. Join must
 * be called before ARG goes away; it returns 1 if FN ran, 0 if it had not
 * started (it then never will: the caller does the job itself). */
typedef struct sc_side sc_side;
sc_side *signcore__side_start(void (*fn)(void *), void *arg);
int signcore__side_join(sc_side *s);
/* The first signature in a process gets OpenSSL's one-time set-up for it
 * done on another CPU while the caller builds the PDF. Start returns at
 * once, with NULL when there is nothing to do (not the first signature,
 * one CPU, no private key); join must be called, with what start
 * returned, before the caller returns. */
typedef struct sc_warm sc_warm;
sc_warm *signcore__warm_start(const signcore_signer *s, const EVP_MD *md);
void signcore__warm_join(sc_warm *w);

/* http.c */
typedef struct {
	unsigned char *data;
	size_t len;
	long status;
	char content_type[128];
} sc_http_resp;
/* GET (BODY NULL) or POST URL; anything but HTTP 200 is SIGNCORE_ENETWORK. */
int signcore__http(signcore_ctx *ctx, const char *what, const char *url, const char *content_type,
	const void *body, size_t body_len, const char *userpwd, sc_http_resp *out);
void signcore__http_free(sc_http_resp *r);
void signcore__http_cleanup(signcore_ctx *ctx);

/* tsa.c */
typedef struct {
	const char *const *urls;
	size_t count;
	const char *userpwd;     /* "user:password" for HTTP basic auth, or NULL */
	X509_STORE *trust;
} sc_tsa;
X509_STORE *signcore__trust_store(signcore_ctx *ctx, const char *const *files, size_t count, int *code);
int signcore__tsa_stamp(signcore_ctx *ctx, const sc_tsa *t, const EVP_MD *md,
	const unsigned char *digest, size_t dlen, unsigned char **token, size_t *toklen, long long *gentime);
long long signcore__token_time(const unsigned char *der, size_t len);
void signcore__token_certs(const unsigned char *der, size_t len, STACK_OF(X509) *into);

/* revocation.c: what a /DSS needs to validate certificates later. */
typedef struct {
	STACK_OF(X509) *certs;
	sc_der *ocsps;
	size_t nocsps;
	sc_der *crls;
	size_t ncrls;
} sc_ltv;
/* Collect certificates and revocation data for TARGETS (leaf certificates)
 * using POOL (known certificates, extended with downloaded issuers). The
 * self-signed certificates of POOL are added to TRUST as anchors for the
 * responses. FLAGS: SC_LTV_ALLOW_MISSING goes on without data for a
 * certificate; SC_LTV_KEEP keeps what was collected (the evidence of a
 * revocation included) when it fails. */
enum { SC_LTV_ALLOW_MISSING = 1, SC_LTV_KEEP = 2 };
int signcore__ltv_collect(signcore_ctx *ctx, STACK_OF(X509) *targets, STACK_OF(X509) *pool,
	X509_STORE *trust, unsigned flags, sc_ltv *out);
void signcore__ltv_free(sc_ltv *l);

/* doc.c: write helpers shared with signing. */
/* A new empty file beside PATH (malloc'd name). */
char *signcore__tmp_beside(signcore_ctx *ctx, const char *path, int *code);
/* Rename TMP to PATH; with ctx->durable, fsync it and the directory too. */
int signcore__publish(signcore_ctx *ctx, const char *tmp, const char *path);
/* io.c: a document's input stream (pread, growing buffer); the PDF writer's
 * output, which lets the kernel copy the original of an incremental save. */
/* Takes FD (closed with the stream, also when this throws). */
fz_stream *signcore__open_input(fz_context *fz, int fd);
/* Hash the byte ranges (offset, length pairs) of the file being written
 * (ctx->writing) into MC, reading the original's part from the original. */
int signcore__out_digest(fz_context *fz, void *out, EVP_MD_CTX *mc, const int64_t *ranges, int n);
/* DATA deflated at LEVEL (zlib), or NULL when zlib fails. */
fz_buffer *signcore__deflate(signcore_ctx *ctx, const unsigned char *data, size_t len, int level);
void signcore__deflate_free(signcore_ctx *ctx);
/* Deflate the new streams of PDF's incremental section ourselves (MuPDF's
 * writer would, at a higher cost); call before storing a signature. */
void signcore__deflate_new_streams(signcore_ctx *ctx, pdf_document *pdf);
void signcore__write_pdf(fz_context *fz, pdf_document *pdf, const char *path, int full);

/* field.c */
pdf_obj *signcore__ensure_acroform(fz_context *fz, pdf_document *pdf);
void signcore__add_annot(fz_context *fz, pdf_obj *page, pdf_obj *widget);

/* Utilities. */
/* OBJ's entry KEY (a private, non-standard key), inherited from /Parent. */
pdf_obj *signcore__get_inh(fz_context *fz, pdf_obj *obj, const char *key);
char *signcore__strdup(const char *s);
/* Copy the bytes of BUF into memory the caller releases with signcore_free
 * (throws on failure): call it last in a fz_try. */
void signcore__buffer_out(fz_context *fz, fz_buffer *buf, unsigned char **data, size_t *len);

#endif
