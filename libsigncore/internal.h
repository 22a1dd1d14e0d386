/*
 * Private declarations shared by the modules of libsigncore.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#ifndef SIGNCORE_INTERNAL_H
#define SIGNCORE_INTERNAL_H

#include "signcore.h"

#include <mupdf/fitz.h>
#include <mupdf/pdf.h>

#define SC_ERRMSG_MAX 1024

/* Fonts bundled in fonts/ (index into signcore_ctx.font_bufs). */
enum {
	SC_FONT_SCRIPT,
	SC_FONT_DEVANAGARI,
	SC_FONT_TAMIL,
	SC_FONT_BENGALI,
	SC_FONT_GUJARATI,
	SC_FONT_ARABIC,
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
};

struct signcore_doc {
	signcore_ctx *ctx;
	pdf_document *pdf;
	char *path;          /* file it was opened from, or NULL (memory) */
	int repaired;
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
/* An empty appearance (unfilled field). */
pdf_obj *signcore__ap_empty(signcore_ctx *ctx, pdf_document *pdf, float w, float h, int rotate);

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

/* Utilities. */
/* OBJ's entry KEY (a private, non-standard key), inherited from /Parent. */
pdf_obj *signcore__get_inh(fz_context *fz, pdf_obj *obj, const char *key);
char *signcore__strdup(const char *s);

#endif
