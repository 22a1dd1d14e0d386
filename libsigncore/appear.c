/*
 * Appearance streams, drawn by our own code.
 *
 * MuPDF's widget appearance generator turns Devanagari into dots and its
 * signature appearance draws Indic text unshaped, so every appearance is
 * laid out here with the story engine (HTML/CSS layout, HarfBuzz shaping)
 * and written through MuPDF's PDF device into a form XObject.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <math.h>
#include <string.h>

#define BIG 100000.0f

/* The horizontal extent of the ink of the text drawn through it, from
 * glyph outlines: MuPDF's bbox device falls back to the font's bounding box
 * for fonts loaded from a file, and a line is scaled and placed by what is
 * really drawn. Outlines cost a FreeType glyph load each, so only the
 * glyphs near either end of a span are outlined; the ink of the others
 * lies between their neighbours' origins. */
typedef struct {
	fz_device super;
	fz_rect ink;
} ink_device;

static void ink_add_glyph(fz_context *fz, ink_device *d, const fz_text_span *span, int i, fz_matrix ctm)
{
	fz_matrix trm = span->trm;
	fz_path *path;

	trm.e = span->items[i].x;
	trm.f = span->items[i].y;
	path = fz_outline_glyph(fz, span->font, span->items[i].gid, fz_concat(trm, ctm));
	if (path) {
		d->ink = fz_union_rect(d->ink, fz_bound_path(fz, path, NULL, fz_identity));
		fz_drop_path(fz, path);
	}
}

static void ink_fill_text(fz_context *fz, fz_device *dev, const fz_text *text, fz_matrix ctm,
	fz_colorspace *cs, const float *color, float alpha, fz_color_params cp)
{
	ink_device *d = (ink_device *)dev;
	const fz_text_span *span;
	int i;

	for (span = text->head; span; span = span->next) {
		float lo = 0, hi = 0, em = fz_matrix_expansion(span->trm);
		int any = 0;
		for (i = 0; i < span->len; i++) {
			if (span->items[i].gid < 0)
				continue;
			if (!any || span->items[i].x < lo)
				lo = span->items[i].x;
			if (!any || span->items[i].x > hi)
				hi = span->items[i].x;
			any = 1;
		}
		for (i = 0; i < span->len; i++) {
			float x = span->items[i].x;
			if (span->items[i].gid < 0)
				continue;
			if (x <= lo + em || x >= hi - em) {
				ink_add_glyph(fz, d, span, i, ctm);
			} else {
				fz_point p = fz_transform_point_xy(x, span->items[i].y, ctm);
				d->ink = fz_include_point_in_rect(d->ink, p);
			}
		}
	}
}

fz_rect signcore__measure_ink(fz_context *fz, fz_display_list *list)
{
	ink_device *dev = (ink_device *)fz_new_device_of_size(fz, sizeof(ink_device));
	fz_rect ink = fz_empty_rect;

	dev->super.fill_text = ink_fill_text;
	dev->ink = fz_empty_rect;
	fz_try(fz) {
		fz_run_display_list(fz, list, &dev->super, fz_identity, fz_infinite_rect, NULL);
		fz_close_device(fz, &dev->super);
		ink = dev->ink;
	}
	fz_always(fz)
		fz_drop_device(fz, &dev->super);
	fz_catch(fz)
		fz_rethrow(fz);
	return ink;
}

/* The form XObject is laid out upright in a W x H box; its /Matrix turns it
 * so that it reads upright on a page displayed with /Rotate ROTATE. */
static pdf_obj *new_form(fz_context *fz, pdf_document *pdf, float w, float h, int rotate,
	pdf_obj *res, fz_buffer *contents)
{
	return pdf_new_xobject(fz, pdf, fz_make_rect(0, 0, w, h), fz_rotate((float)rotate), res, contents);
}

pdf_obj *signcore__ap_empty(signcore_ctx *ctx, pdf_document *pdf, float w, float h, int rotate)
{
	fz_context *fz = ctx->fz;
	fz_buffer *buf = fz_new_buffer(fz, 1);
	pdf_obj *xobj = NULL;

	fz_try(fz)
		xobj = new_form(fz, pdf, w, h, rotate, NULL, buf);
	fz_always(fz)
		fz_drop_buffer(fz, buf);
	fz_catch(fz)
		fz_rethrow(fz);
	return xobj;
}

pdf_obj *signcore__ap_check(signcore_ctx *ctx, pdf_document *pdf, int on, float w, float h, int rotate)
{
	fz_context *fz = ctx->fz;
	fz_buffer *buf = fz_new_buffer(fz, 256);
	pdf_obj *xobj = NULL;
	float m = fminf(w, h), lw = fmaxf(0.75f, m * 0.1f);

	fz_try(fz) {
		/* A thin frame in both states so the signer sees the box. */
		fz_append_printf(fz, buf, "q 0.6 g 0.6 G 0.5 w 0.25 0.25 %g %g re S Q\n",
			w - 0.5f, h - 0.5f);
		if (on)
			fz_append_printf(fz, buf,
				"q 0 G %g w 1 J 1 j %g %g m %g %g l %g %g l S Q\n",
				lw, w * 0.2f, h * 0.52f, w * 0.42f, h * 0.25f, w * 0.8f, h * 0.78f);
		xobj = new_form(fz, pdf, w, h, rotate, NULL, buf);
	}
	fz_always(fz)
		fz_drop_buffer(fz, buf);
	fz_catch(fz)
		fz_rethrow(fz);
	return xobj;
}

pdf_obj *signcore__ap_image(signcore_ctx *ctx, pdf_document *pdf, fz_image *img, float w, float h, int rotate)
{
	fz_context *fz = ctx->fz;
	fz_device *dev = NULL;
	pdf_obj *res = NULL, *xobj = NULL;
	fz_buffer *contents = NULL;
	float pad = fminf(2, fminf(w, h) * 0.05f);
	float iw = (float)img->w, ih = (float)img->h, s, dw, dh;

	/* Respect the image's own resolution so a 2:1 dpi image keeps shape. */
	if (img->xres > 0 && img->yres > 0)
		ih = ih * (float)img->xres / (float)img->yres;
	s = fminf((w - 2 * pad) / iw, (h - 2 * pad) / ih);
	dw = iw * s;
	dh = ih * s;

	fz_var(dev);
	fz_var(res);
	fz_var(contents);
	fz_var(xobj);
	fz_try(fz) {
		dev = pdf_page_write(fz, pdf, fz_make_rect(0, 0, w, h), &res, &contents);
		fz_fill_image(fz, dev, img, fz_make_matrix(dw, 0, 0, dh, (w - dw) / 2, (h - dh) / 2),
			1, fz_default_color_params);
		fz_close_device(fz, dev);
		xobj = new_form(fz, pdf, w, h, rotate, res, contents);
	}
	fz_always(fz) {
		fz_drop_device(fz, dev);
		pdf_drop_obj(fz, res);
		fz_drop_buffer(fz, contents);
	}
	fz_catch(fz)
		fz_rethrow(fz);
	return xobj;
}

/*
 * One story per appearance: creating a story loads its fonts afresh, and
 * MuPDF computes glyph advances per font object, so a second story (or a
 * second layout pass after drawing, which MuPDF 1.21's fz_reset_story does
 * not allow) doubles the cost. A single line is laid out once at a
 * reference size, recorded in a display list, measured, and replayed scaled
 * and aligned; wrapped text is laid out until it fits, then drawn once.
 */
pdf_obj *signcore__ap_text(signcore_ctx *ctx, pdf_document *pdf, const sc_style *st,
	const char *text, float w, float h, int rotate)
{
	fz_context *fz = ctx->fz;
	int is_sig = st->type == SIGNCORE_FIELD_SIGNATURE || st->type == SIGNCORE_FIELD_INITIALS;
	int multiline = st->multiline && !is_sig;
	float pad = fminf(2, fminf(w, h) * 0.08f);
	float iw = w - 2 * pad, ih = h - 2 * pad;
	float em = st->font_size > 0 ? st->font_size : 10;
	float k = 1;
	signcore_align align = st->align;
	fz_buffer *html = NULL, *css = NULL, *contents = NULL, *wrapped = NULL;
	sc_fontset *fs = NULL;
	fz_story *story = NULL;
	fz_display_list *list = NULL;
	fz_device *dev = NULL;
	pdf_obj *res = NULL, *xobj = NULL;
	fz_rect filled;

	if (!text || !*text)
		return signcore__ap_empty(ctx, pdf, w, h, rotate);
	if (iw <= 1 || ih <= 1)
		signcore__throw(ctx, SIGNCORE_EINVAL, "field box %gx%g pt is too small for text", w, h);
	if (is_sig && align == SIGNCORE_ALIGN_LEFT)
		align = SIGNCORE_ALIGN_CENTER; /* typed signatures sit in the middle of the box */

	fz_var(html);
	fz_var(css);
	fz_var(contents);
	fz_var(wrapped);
	fz_var(fs);
	fz_var(story);
	fz_var(list);
	fz_var(dev);
	fz_var(res);
	fz_var(xobj);
	fz_var(k);
	fz_var(align);
	fz_try(fz) {
		/* A single line is aligned here (by its ink), wrapped text by CSS. */
		const char *css_align = !multiline ? "left" : align == SIGNCORE_ALIGN_CENTER ? "center"
			: align == SIGNCORE_ALIGN_RIGHT ? "right" : "left";

		fs = signcore__fontset_new(ctx, st->font && *st->font ? st->font : is_sig ? "script" : "sans", text, 0);
		css = fz_new_buffer(fz, 1024);
		fz_append_printf(fz, css,
			"body{margin:0;padding:0}p{margin:0;padding:0;line-height:1.15;text-align:%s;white-space:%s}",
			css_align, multiline ? "pre-wrap" : "pre");
		fz_append_string(fz, css, signcore__fontset_css(fs));
		fz_terminate_buffer(fz, css);
		html = fz_new_buffer(fz, strlen(text) + 32);
		fz_append_string(fz, html, "<p>");
		signcore__text_html(ctx, fs, html, text, 0);
		fz_append_string(fz, html, "</p>");
		story = fz_new_story(fz, html, (const char *)css->data, em, signcore__fontset_archive(fs));

		if (!multiline) {
			fz_rect ink;
			float lh, tx, ty;

			fz_place_story(fz, story, fz_make_rect(0, 0, BIG, BIG), &filled);
			list = fz_new_display_list(fz, fz_infinite_rect);
			dev = fz_new_list_device(fz, list);
			fz_draw_story(fz, story, dev, fz_identity);
			fz_close_device(fz, dev);
			fz_drop_device(fz, dev);
			dev = NULL;
			ink = signcore__measure_ink(fz, list);
			lh = filled.y1 - filled.y0;
			if (fz_is_empty_rect(ink))
				ink = fz_make_rect(0, 0, 0, lh);
			if (st->font_size <= 0) {
				/* Text scales linearly with the font size. */
				float cap = is_sig ? 1000 : 14;
				k = fminf(iw / fmaxf(ink.x1 - ink.x0, 1), ih / fmaxf(lh, 1));
				k = fminf(k, cap / em);
			}
			if (align == SIGNCORE_ALIGN_CENTER)
				tx = pad + (iw - (ink.x1 - ink.x0) * k) / 2 - ink.x0 * k;
			else if (align == SIGNCORE_ALIGN_RIGHT)
				tx = pad + iw - ink.x1 * k;
			else
				tx = pad;
			ty = pad + (ih - lh * k) / 2;
			dev = pdf_page_write(fz, pdf, fz_make_rect(0, 0, w, h), &res, &contents);
			fz_run_display_list(fz, list, dev, fz_pre_scale(fz_translate(tx, ty), k, k), fz_infinite_rect, NULL);
			fz_close_device(fz, dev);
		} else {
			if (st->font_size <= 0) {
				/* Wrapping is not linear: search the largest scale at
				 * which the text fits (layout only, no drawing). */
				float lo = 0.05f, hi = fminf(14 / em, 4), mid;
				int i;
				for (i = 0; i < 10; i++) {
					mid = (lo + hi) / 2;
					fz_reset_story(fz, story);
					if (!fz_place_story(fz, story, fz_make_rect(0, 0, iw / mid, ih / mid), &filled))
						lo = mid;
					else
						hi = mid;
				}
				k = lo;
			}
			fz_reset_story(fz, story);
			fz_place_story(fz, story, fz_make_rect(0, 0, iw / k, BIG), &filled);
			dev = pdf_page_write(fz, pdf, fz_make_rect(0, 0, w, h), &res, &contents);
			fz_draw_story(fz, story, dev, fz_pre_scale(fz_translate(pad, pad), k, k));
			fz_close_device(fz, dev);
		}

		signcore__fontset_finish(ctx, fs, pdf, res);
		wrapped = fz_new_buffer(fz, contents->len + 256);
		fz_append_string(fz, wrapped, "/Tx BMC\n");
		if (signcore__needs_actual_text(text))
			signcore__actual_text(fz, wrapped, text);
		else
			fz_append_string(fz, wrapped, "/Span <<>> BDC\n");
		fz_append_buffer(fz, wrapped, contents);
		fz_append_string(fz, wrapped, "\nEMC\nEMC\n");
		xobj = new_form(fz, pdf, w, h, rotate, res, wrapped);
	}
	fz_always(fz) {
		fz_drop_device(fz, dev);
		fz_drop_display_list(fz, list);
		fz_drop_story(fz, story);
		signcore__fontset_drop(ctx, fs);
		fz_drop_buffer(fz, html);
		fz_drop_buffer(fz, css);
		fz_drop_buffer(fz, contents);
		fz_drop_buffer(fz, wrapped);
		pdf_drop_obj(fz, res);
	}
	fz_catch(fz)
		fz_rethrow(fz);
	return xobj;
}

/* A visible signature: the drawn image or typed name beside (or above) a
 * text block, each laid out in its own box. */
pdf_obj *signcore__ap_signature(signcore_ctx *ctx, pdf_document *pdf, const void *image, size_t image_len,
	const char *typed, const char *font, const char *text, float w, float h, int rotate)
{
	fz_context *fz = ctx->fz;
	sc_style gs = { SIGNCORE_FIELD_SIGNATURE, font ? font : "script", 0, SIGNCORE_ALIGN_CENTER, 0 };
	/* The block's lines are explicit: one layout, measured and scaled (the
	 * single-line path keeps newlines), instead of a wrapping search. */
	sc_style ts = { SIGNCORE_FIELD_TEXT, "sans", 0, SIGNCORE_ALIGN_LEFT, 0 };
	int has_graphic = (image && image_len) || (typed && *typed);
	int has_text = text && *text;
	fz_rect gr = fz_make_rect(0, 0, w, h), tr = fz_make_rect(0, 0, w, h);
	fz_image *img = NULL;
	pdf_obj *g = NULL, *t = NULL, *res = NULL, *xo, *form = NULL;
	fz_buffer *buf = NULL;

	if (has_graphic && has_text) {
		if (w >= 1.6f * h) {
			gr = fz_make_rect(0, 0, w * 0.45f, h);
			tr = fz_make_rect(w * 0.47f, 0, w, h);
		} else {
			gr = fz_make_rect(0, h * 0.45f, w, h);
			tr = fz_make_rect(0, 0, w, h * 0.43f);
		}
	}
	fz_var(img);
	fz_var(g);
	fz_var(t);
	fz_var(res);
	fz_var(buf);
	fz_var(form);
	fz_try(fz) {
		/* The first signature in a process: the text block's face is
		 * cut on another CPU while the graphic is laid out. */
		if (ctx->side_ok && has_text && has_graphic)
			signcore__fontset_ahead(ctx, ts.font, text);
		if (image && image_len) {
			img = signcore__image_load(ctx, image, image_len);
			g = signcore__ap_image(ctx, pdf, img, gr.x1 - gr.x0, gr.y1 - gr.y0, 0);
		} else if (has_graphic) {
			g = signcore__ap_text(ctx, pdf, &gs, typed, gr.x1 - gr.x0, gr.y1 - gr.y0, 0);
		}
		if (has_text)
			t = signcore__ap_text(ctx, pdf, &ts, text, tr.x1 - tr.x0, tr.y1 - tr.y0, 0);
		res = pdf_new_dict(fz, pdf, 1);
		xo = pdf_dict_put_dict(fz, res, PDF_NAME(XObject), 2);
		buf = fz_new_buffer(fz, 128);
		if (g) {
			pdf_dict_puts(fz, xo, "G", g);
			fz_append_printf(fz, buf, "q 1 0 0 1 %g %g cm /G Do Q\n", gr.x0, gr.y0);
		}
		if (t) {
			pdf_dict_puts(fz, xo, "T", t);
			fz_append_printf(fz, buf, "q 1 0 0 1 %g %g cm /T Do Q\n", tr.x0, tr.y0);
		}
		form = new_form(fz, pdf, w, h, rotate, res, buf);
	}
	fz_always(fz) {
		fz_drop_image(fz, img);
		pdf_drop_obj(fz, g);
		pdf_drop_obj(fz, t);
		pdf_drop_obj(fz, res);
		fz_drop_buffer(fz, buf);
	}
	fz_catch(fz)
		fz_rethrow(fz);
	return form;
}
