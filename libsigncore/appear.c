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

static void append_html_escaped(fz_context *fz, fz_buffer *buf, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fz_append_string(fz, buf, "&amp;"); break;
		case '<': fz_append_string(fz, buf, "&lt;"); break;
		case '>': fz_append_string(fz, buf, "&gt;"); break;
		case '"': fz_append_string(fz, buf, "&quot;"); break;
		case '\r': break;
		default: fz_append_byte(fz, buf, (unsigned char)*s);
		}
	}
}

/* Marked content that tells text extractors what the shaped glyphs say:
 * without it, pdftotext garbles Indic conjuncts. */
static void append_utf16_hex(fz_context *fz, fz_buffer *buf, int unit)
{
	static const char hex[] = "0123456789ABCDEF";
	int shift;

	/* fz_append_printf has no %04X, so spell the digits out. */
	for (shift = 12; shift >= 0; shift -= 4)
		fz_append_byte(fz, buf, hex[(unit >> shift) & 15]);
}

/* Marked content that tells text extractors what the shaped glyphs say:
 * without it, pdftotext garbles Indic conjuncts. */
static void append_actual_text(fz_context *fz, fz_buffer *buf, const char *s)
{
	int c;

	fz_append_string(fz, buf, "/Span <</ActualText <FEFF");
	while (*s) {
		s += fz_chartorune(&c, s);
		if (c >= 0x10000) {
			c -= 0x10000;
			append_utf16_hex(fz, buf, 0xD800 + (c >> 10));
			append_utf16_hex(fz, buf, 0xDC00 + (c & 0x3FF));
		} else {
			append_utf16_hex(fz, buf, c);
		}
	}
	fz_append_string(fz, buf, ">>> BDC\n");
}

/* CSS font-family for STYLE, adding @font-face rules and their files to
 * ARCH for bundled or user fonts. */
static void font_css(signcore_ctx *ctx, const sc_style *st, fz_archive *arch, fz_buffer *css)
{
	fz_context *fz = ctx->fz;
	const char *font = st->font;
	fz_buffer *file = NULL;

	fz_var(font);
	fz_var(file);
	if (!font || !*font)
		font = (st->type == SIGNCORE_FIELD_SIGNATURE || st->type == SIGNCORE_FIELD_INITIALS) ? "script" : "sans";
	if (!strcmp(font, "sans")) {
		fz_append_string(fz, css, "p{font-family:sans-serif}");
		return;
	}
	if (!strcmp(font, "serif")) {
		fz_append_string(fz, css, "p{font-family:serif}");
		return;
	}
	if (!strcmp(font, "mono")) {
		fz_append_string(fz, css, "p{font-family:monospace}");
		return;
	}
	if (!strcmp(font, "script")) {
		fz_tree_archive_add_buffer(fz, arch, "face.font", signcore__font_buffer(ctx, SC_FONT_SCRIPT));
	} else {
		fz_try(fz)
			file = fz_read_file(fz, font);
		fz_catch(fz)
			signcore__throw(ctx, SIGNCORE_ENOTFOUND, "font file %s cannot be read", font);
		fz_try(fz)
			fz_tree_archive_add_buffer(fz, arch, "face.font", file);
		fz_always(fz)
			fz_drop_buffer(fz, file);
		fz_catch(fz)
			fz_rethrow(fz);
	}
	fz_append_string(fz, css, "@font-face{font-family:scface;src:url(face.font)}p{font-family:scface}");
}

/* Ink width of STORY laid out in WHERE. MuPDF 1.21's fz_reset_story does not
 * clear the "complete" flag, so a story drawn once never draws again: the
 * story measured here is thrown away and a fresh one is drawn. */
static float ink_width(fz_context *fz, fz_story *story, fz_rect where, fz_rect *filled)
{
	fz_rect bbox = fz_empty_rect;
	fz_device *dev;

	fz_place_story(fz, story, where, filled);
	dev = fz_new_bbox_device(fz, &bbox);
	fz_try(fz) {
		fz_draw_story(fz, story, dev, fz_identity);
		fz_close_device(fz, dev);
	}
	fz_always(fz)
		fz_drop_device(fz, dev);
	fz_catch(fz)
		fz_rethrow(fz);
	(void)where;
	return fz_is_empty_rect(bbox) ? 0 : bbox.x1 - bbox.x0;
}

pdf_obj *signcore__ap_text(signcore_ctx *ctx, pdf_document *pdf, const sc_style *st,
	const char *text, float w, float h, int rotate)
{
	fz_context *fz = ctx->fz;
	int is_sig = st->type == SIGNCORE_FIELD_SIGNATURE || st->type == SIGNCORE_FIELD_INITIALS;
	int multiline = st->multiline && !is_sig;
	float pad = fminf(2, fminf(w, h) * 0.08f);
	float iw = w - 2 * pad, ih = h - 2 * pad;
	float em = st->font_size > 0 ? st->font_size : 10;
	float k = 1, tx, ty, used_h;
	fz_buffer *html = NULL, *css = NULL, *contents = NULL, *wrapped = NULL;
	fz_archive *arch = NULL;
	fz_story *story = NULL;
	fz_device *dev = NULL;
	pdf_obj *res = NULL, *xobj = NULL;
	fz_rect filled;

	if (!text || !*text)
		return signcore__ap_empty(ctx, pdf, w, h, rotate);
	if (iw <= 1 || ih <= 1)
		signcore__throw(ctx, SIGNCORE_EINVAL, "field box %gx%g pt is too small for text", w, h);

	fz_var(html);
	fz_var(css);
	fz_var(contents);
	fz_var(wrapped);
	fz_var(arch);
	fz_var(story);
	fz_var(dev);
	fz_var(res);
	fz_var(xobj);
	fz_var(k);
	fz_try(fz) {
		const char *align = st->align == SIGNCORE_ALIGN_CENTER ? "center"
			: st->align == SIGNCORE_ALIGN_RIGHT ? "right" : "left";
		if (is_sig && st->align == SIGNCORE_ALIGN_LEFT)
			align = "center"; /* typed signatures sit in the middle of the box */

		arch = fz_new_tree_archive(fz, NULL);
		css = fz_new_buffer(fz, 256);
		fz_append_printf(fz, css,
			"body{margin:0;padding:0}p{margin:0;padding:0;line-height:1.15;text-align:%s;white-space:%s}",
			align, multiline ? "pre-wrap" : "pre");
		font_css(ctx, st, arch, css);
		fz_terminate_buffer(fz, css);

		html = fz_new_buffer(fz, strlen(text) + 32);
		fz_append_string(fz, html, "<p>");
		append_html_escaped(fz, html, text);
		fz_append_string(fz, html, "</p>");
		if (st->font_size <= 0 && !multiline) {
			/* Text scales linearly with the font size, so one layout at a
			 * reference size gives the size that fits. */
			float inkw, lh, cap = is_sig ? 1000 : 14;
			story = fz_new_story(fz, html, (const char *)css->data, em, arch);
			inkw = ink_width(fz, story, fz_make_rect(0, 0, BIG, BIG), &filled);
			lh = filled.y1 - filled.y0;
			k = fminf(iw / fmaxf(inkw, 1), ih / fmaxf(lh, 1));
			k = fminf(k, cap / em);
			fz_drop_story(fz, story);
			story = NULL;
		} else if (st->font_size <= 0) {
			/* Wrapping is not linear: search the largest scale at which
			 * the text fits the box (layout only, no drawing). */
			float lo = 0.05f, hi = fminf(14 / em, 4), mid;
			int i;
			story = fz_new_story(fz, html, (const char *)css->data, em, arch);
			for (i = 0; i < 10; i++) {
				mid = (lo + hi) / 2;
				fz_reset_story(fz, story);
				if (!fz_place_story(fz, story, fz_make_rect(0, 0, iw / mid, ih / mid), &filled))
					lo = mid;
				else
					hi = mid;
			}
			k = lo;
			fz_drop_story(fz, story);
			story = NULL;
		}
		/* Final layout in the real width, so alignment is right. */
		story = fz_new_story(fz, html, (const char *)css->data, em, arch);
		fz_place_story(fz, story, fz_make_rect(0, 0, iw / k, BIG), &filled);
		used_h = (filled.y1 - filled.y0) * k;
		tx = pad;
		ty = multiline ? pad : pad + (ih - used_h) / 2;

		dev = pdf_page_write(fz, pdf, fz_make_rect(0, 0, w, h), &res, &contents);
		fz_draw_story(fz, story, dev, fz_pre_scale(fz_translate(tx, ty), k, k));
		fz_close_device(fz, dev);

		wrapped = fz_new_buffer(fz, contents->len + 256);
		fz_append_string(fz, wrapped, "/Tx BMC\n");
		append_actual_text(fz, wrapped, text);
		fz_append_buffer(fz, wrapped, contents);
		fz_append_string(fz, wrapped, "\nEMC\nEMC\n");
		xobj = new_form(fz, pdf, w, h, rotate, res, wrapped);
	}
	fz_always(fz) {
		fz_drop_device(fz, dev);
		fz_drop_story(fz, story);
		fz_drop_archive(fz, arch);
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
