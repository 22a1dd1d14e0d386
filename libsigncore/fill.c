/*
 * Filling fields: values and the appearances that show them.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Font keyword for a /DA font resource name written by other producers. */
static const char *font_from_da(const char *da, float *size)
{
	const char *tf = da ? strstr(da, " Tf") : NULL;
	const char *p, *name = NULL;

	*size = 0;
	if (!tf)
		return "sans";
	/* Walk back over "/Name size". */
	for (p = tf; p > da && p[-1] != '/'; p--)
		;
	if (p > da)
		name = p;
	*size = (float)strtod(strchr(p, ' ') ? strchr(p, ' ') : tf, NULL);
	if (!name)
		return "sans";
	if (!strncmp(name, "TiRo", 4) || !strncmp(name, "Times", 5))
		return "serif";
	if (!strncmp(name, "Cour", 4))
		return "mono";
	return "sans";
}

/* The style a widget's text is drawn in: our own keys first, then /DA. */
static void widget_style(fz_context *fz, pdf_document *pdf, pdf_obj *w, signcore_field_type type, sc_style *st)
{
	pdf_obj *font = signcore__get_inh(fz, w, "SigncoreFont");
	pdf_obj *da = pdf_dict_get_inheritable(fz, w, PDF_NAME(DA));
	const char *dafont;
	float size;

	if (!da)
		da = pdf_dict_getp(fz, pdf_trailer(fz, pdf), "Root/AcroForm/DA");
	dafont = font_from_da(pdf_to_str_buf(fz, da), &size);
	memset(st, 0, sizeof *st);
	st->type = type;
	st->font = font ? pdf_to_text_string(fz, font)
		: (type == SIGNCORE_FIELD_SIGNATURE || type == SIGNCORE_FIELD_INITIALS) ? NULL : dafont;
	st->font_size = size > 0 ? size : 0;
	st->align = (signcore_align)pdf_to_int(fz, pdf_dict_get_inheritable(fz, w, PDF_NAME(Q)));
	if (st->align > SIGNCORE_ALIGN_RIGHT)
		st->align = SIGNCORE_ALIGN_LEFT;
	st->multiline = !!(pdf_to_int(fz, pdf_dict_get_inheritable(fz, w, PDF_NAME(Ff))) & (1 << 12));
}

/* Box size of a widget's appearance (upright as displayed) and its turn. */
static void widget_box(fz_context *fz, pdf_obj *w, float *bw, float *bh, int *rot)
{
	fz_rect r = pdf_dict_get_rect(fz, w, PDF_NAME(Rect));
	int rr = pdf_to_int(fz, pdf_dict_getp(fz, w, "MK/R"));

	rr = ((rr % 360) + 360) % 360;
	rr = 90 * ((rr + 45) / 90) % 360;
	*rot = rr;
	*bw = r.x1 - r.x0;
	*bh = r.y1 - r.y0;
	if (rr == 90 || rr == 270) {
		float t = *bw;
		*bw = *bh;
		*bh = t;
	}
}

pdf_obj *signcore__ap_for_value(signcore_doc *doc, const sc_style *st, const char *date_format,
	const char *time_zone, const signcore_value *v, float w, float h, int rotate, char **out_text)
{
	signcore_ctx *ctx = doc->ctx;
	fz_context *fz = ctx->fz;
	pdf_obj *xobj = NULL;
	fz_image *img = NULL;
	char buf[256];

	fz_var(xobj);
	*out_text = NULL;
	switch (st->type) {
	case SIGNCORE_FIELD_CHECKBOX:
		return signcore__ap_check(ctx, doc->pdf, v->checked, w, h, rotate);
	case SIGNCORE_FIELD_TEXT:
		if (!v->text)
			signcore__throw(ctx, SIGNCORE_EINVAL, "a text value is required");
		*out_text = fz_strdup(fz, v->text);
		break;
	case SIGNCORE_FIELD_DATE: {
		long long when;
		int date_only, code;
		if (!v->text)
			signcore__throw(ctx, SIGNCORE_EINVAL, "a date value is required");
		if (signcore__parse_when(v->text, (long long)time(NULL), &when, &date_only) != 0)
			signcore__throw(ctx, SIGNCORE_EBADINPUT,
				"date value \"%s\" is not \"today\", \"now\", YYYY-MM-DD or an RFC 3339 time", v->text);
		/* A bare date names a calendar day, not an instant: no zone shift. */
		code = signcore_format_time(ctx, buf, sizeof buf, when, date_only ? "UTC" : time_zone,
			date_format ? date_format : "%Y-%m-%d");
		if (code)
			signcore__throw_last(ctx, code);
		*out_text = fz_strdup(fz, buf);
		break;
	}
	case SIGNCORE_FIELD_SIGNATURE:
	case SIGNCORE_FIELD_INITIALS:
		if (v->image && v->image_len) {
			img = signcore__image_load(ctx, v->image, v->image_len);
			fz_try(fz)
				xobj = signcore__ap_image(ctx, doc->pdf, img, w, h, rotate);
			fz_always(fz)
				fz_drop_image(fz, img);
			fz_catch(fz)
				fz_rethrow(fz);
			return xobj;
		}
		if (!v->text || !*v->text)
			signcore__throw(ctx, SIGNCORE_EINVAL, "a signature needs an image or a typed name");
		break;
	default:
		signcore__throw(ctx, SIGNCORE_EUNSUPPORTED,
			"this kind of field (radio, push button or choice) cannot be filled");
	}
	fz_try(fz)
		xobj = signcore__ap_text(ctx, doc->pdf, st, *out_text ? *out_text : v->text, w, h, rotate);
	fz_catch(fz) {
		fz_free(fz, *out_text);
		*out_text = NULL;
		fz_rethrow(fz);
	}
	return xobj;
}

/* The widget annotations of FIELD: its kids without names, or itself. */
static int widgets_of(fz_context *fz, pdf_obj *field, pdf_obj **out, int max)
{
	pdf_obj *kids = pdf_dict_get(fz, field, PDF_NAME(Kids));
	int i, n = 0;

	for (i = 0; i < pdf_array_len(fz, kids) && n < max; i++) {
		pdf_obj *k = pdf_array_get(fz, kids, i);
		if (!pdf_dict_get(fz, k, PDF_NAME(T)))
			out[n++] = k;
	}
	if (n == 0)
		out[n++] = field;
	return n;
}

static void set_normal_ap(fz_context *fz, pdf_obj *w, pdf_obj *xobj)
{
	pdf_obj *ap = pdf_dict_get(fz, w, PDF_NAME(AP));

	if (!pdf_is_dict(fz, ap))
		ap = pdf_dict_put_dict(fz, w, PDF_NAME(AP), 1);
	pdf_dict_put(fz, ap, PDF_NAME(N), xobj);
	pdf_dict_del(fz, ap, PDF_NAME(D)); /* a stale "down" look would show the old value */
}

/* The name of a checkbox widget's "on" state (often /Yes, not always). */
static pdf_obj *on_state(fz_context *fz, pdf_obj *w)
{
	pdf_obj *n = pdf_dict_getp(fz, w, "AP/N");
	int i;

	for (i = 0; pdf_is_dict(fz, n) && i < pdf_dict_len(fz, n); i++) {
		pdf_obj *key = pdf_dict_get_key(fz, n, i);
		if (!pdf_name_eq(fz, key, PDF_NAME(Off)))
			return key;
	}
	return PDF_NAME(Yes);
}

static void fill_checkbox(signcore_doc *doc, pdf_obj *field, pdf_obj **ws, int nw, int checked)
{
	fz_context *fz = doc->ctx->fz;
	pdf_obj *state = PDF_NAME(Off);
	int i;

	for (i = 0; i < nw; i++) {
		pdf_obj *n = pdf_dict_getp(fz, ws[i], "AP/N");
		pdf_obj *on = on_state(fz, ws[i]);
		if (!pdf_is_dict(fz, n) || !pdf_dict_get(fz, n, on) || !pdf_dict_get(fz, n, PDF_NAME(Off))) {
			/* No usable state appearances: draw our own. */
			float bw, bh;
			int rot;
			pdf_obj *yes, *off, *dict;
			widget_box(fz, ws[i], &bw, &bh, &rot);
			yes = signcore__ap_check(doc->ctx, doc->pdf, 1, bw, bh, rot);
			off = signcore__ap_check(doc->ctx, doc->pdf, 0, bw, bh, rot);
			dict = pdf_new_dict(fz, doc->pdf, 2);
			pdf_dict_put_drop(fz, dict, on, yes);
			pdf_dict_put_drop(fz, dict, PDF_NAME(Off), off);
			set_normal_ap(fz, ws[i], dict);
			pdf_drop_obj(fz, dict);
		}
		pdf_dict_put(fz, ws[i], PDF_NAME(AS), checked ? on : PDF_NAME(Off));
		if (checked)
			state = on;
	}
	pdf_dict_put(fz, field, PDF_NAME(V), state);
}

void signcore__redraw_text(signcore_doc *doc, pdf_obj *w, const char *text)
{
	fz_context *fz = doc->ctx->fz;
	sc_style st;
	float bw, bh;
	int rot;
	pdf_obj *xobj;

	widget_style(fz, doc->pdf, w, SIGNCORE_FIELD_TEXT, &st);
	widget_box(fz, w, &bw, &bh, &rot);
	xobj = signcore__ap_text(doc->ctx, doc->pdf, &st, text, bw, bh, rot);
	set_normal_ap(fz, w, xobj);
	pdf_drop_obj(fz, xobj);
}

int signcore__fill_widget(signcore_doc *doc, pdf_obj *field, const signcore_value *v)
{
	signcore_ctx *ctx = doc->ctx;
	fz_context *fz = ctx->fz;
	pdf_obj *ws[64];
	signcore_field_type type = signcore__field_kind(fz, field);
	int nw = widgets_of(fz, field, ws, 64), i;
	char *text = NULL;

	if (type == SIGNCORE_FIELD_SIGNATURE || type == SIGNCORE_FIELD_INITIALS) {
		if (pdf_is_dict(fz, pdf_dict_get_inheritable(fz, field, PDF_NAME(V))))
			signcore__throw(ctx, SIGNCORE_ESIGNED, "the field holds a digital signature and cannot be changed");
	}
	if (type == SIGNCORE_FIELD_CHECKBOX) {
		fill_checkbox(doc, field, ws, nw, v->checked);
		return SIGNCORE_OK;
	}
	fz_var(text);
	fz_try(fz) {
		for (i = 0; i < nw; i++) {
			sc_style st;
			float bw, bh;
			int rot;
			pdf_obj *fmt = signcore__get_inh(fz, ws[i], "SigncoreDateFormat");
			pdf_obj *zone = signcore__get_inh(fz, ws[i], "SigncoreTimeZone");
			pdf_obj *xobj;

			widget_style(fz, doc->pdf, ws[i], type, &st);
			widget_box(fz, ws[i], &bw, &bh, &rot);
			fz_free(fz, text);
			text = NULL;
			xobj = signcore__ap_for_value(doc, &st, fmt ? pdf_to_text_string(fz, fmt) : NULL,
				zone ? pdf_to_text_string(fz, zone) : NULL, v, bw, bh, rot, &text);
			set_normal_ap(fz, ws[i], xobj);
			pdf_drop_obj(fz, xobj);
		}
		if (text && (type == SIGNCORE_FIELD_TEXT || type == SIGNCORE_FIELD_DATE))
			pdf_dict_put_text_string(fz, field, PDF_NAME(V), text);
	}
	fz_always(fz)
		fz_free(fz, text);
	fz_catch(fz)
		fz_rethrow(fz);
	return SIGNCORE_OK;
}

int signcore_field_fill(signcore_doc *doc, const char *name, const signcore_value *value)
{
	signcore_ctx *ctx;
	pdf_obj *field;
	char where[300];

	if (!doc)
		return SIGNCORE_EINVAL;
	ctx = doc->ctx;
	signcore__clear_err(ctx);
	if (!name || !value || value->version != SIGNCORE_VALUE_VERSION)
		return signcore__err(ctx, SIGNCORE_EINVAL, "signcore_field_fill: missing name or value");
	snprintf(where, sizeof where, "field \"%s\"", name);
	fz_try(ctx->fz) {
		field = signcore__find_field(ctx->fz, doc->pdf, name);
		if (!field)
			signcore__throw(ctx, SIGNCORE_ENOTFOUND, "%s: no such field in the document", where);
		signcore__fill_widget(doc, field, value);
	}
	fz_catch(ctx->fz) {
		int code = signcore__caught(ctx, SIGNCORE_EBADINPUT, where);
		/* Name the field in messages thrown from deeper down. */
		if (strncmp(ctx->message, where, strlen(where)) != 0)
			signcore__prefix_err(ctx, code, "%s", where);
		return code;
	}
	return SIGNCORE_OK;
}
