/*
 * Page images: a page as a viewer shows it, encoded as PNG.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <stdio.h>

#define RENDER_DPI_MIN 18
#define RENDER_DPI_MAX 300
/* 40 megapixels is a 120 MB RGB pixmap before the PNG is even made. */
#define RENDER_MAX_PIXELS 40e6

int signcore_page_render_png(signcore_doc *doc, int page, double dpi, unsigned char **png, size_t *len)
{
	signcore_ctx *ctx;
	fz_context *fz;
	fz_page *pg = NULL;
	fz_pixmap *pix = NULL;
	fz_device *dev = NULL;
	fz_buffer *buf = NULL;
	fz_matrix ctm;
	fz_irect box;
	char where[32];
	int n, code = SIGNCORE_OK;

	if (!doc || !png || !len)
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signcore_page_render_png: NULL argument")
			   : SIGNCORE_EINVAL;
	ctx = doc->ctx;
	fz = ctx->fz;
	*png = NULL;
	*len = 0;
	signcore__clear_err(ctx);
	/* Written so that NaN fails too. */
	if (!(dpi >= RENDER_DPI_MIN && dpi <= RENDER_DPI_MAX))
		return signcore__err(ctx, SIGNCORE_ERANGE, "resolution %g dpi out of range (%d to %d dpi)",
			dpi, RENDER_DPI_MIN, RENDER_DPI_MAX);
	n = signcore_doc_page_count(doc);
	if (n < 0)
		return n;
	if (page < 1 || page > n)
		return signcore__err(ctx, SIGNCORE_ERANGE, "page %d out of range (the document has %d page%s)",
			page, n, n == 1 ? "" : "s");
	snprintf(where, sizeof where, "page %d", page);
	ctm = fz_scale((float)(dpi / 72), (float)(dpi / 72));

	fz_var(pg);
	fz_var(pix);
	fz_var(dev);
	fz_var(buf);
	fz_var(code);
	fz_try(fz) {
		/* The document itself, not a saved copy, so unsaved changes show.
		 * Loading the page lets MuPDF make appearances for annotations
		 * that lack one; it keeps those in a local xref that is never
		 * written, so the document is not changed. */
		pg = fz_load_page(fz, &doc->pdf->super, page - 1);
		/* The page's bounds are its CropBox, turned by /Rotate. */
		box = fz_round_rect(fz_transform_rect(fz_bound_page(fz, pg), ctm));
		if ((double)(box.x1 - box.x0) * (box.y1 - box.y0) > RENDER_MAX_PIXELS)
			signcore__throw(ctx, SIGNCORE_ERANGE,
				"page %d at %g dpi would be %d x %d pixels, over the limit of 40 megapixels: "
				"use a lower resolution", page, dpi, box.x1 - box.x0, box.y1 - box.y0);
		pix = fz_new_pixmap_with_bbox(fz, fz_device_rgb(fz), box, NULL, 0);
		fz_clear_pixmap_with_value(fz, pix, 0xFF);
		/* Written into the PNG (pHYs), so the image shows at the page's size. */
		fz_set_pixmap_resolution(fz, pix, (int)(dpi + 0.5), (int)(dpi + 0.5));
		dev = fz_new_draw_device(fz, ctm, pix);
		/* Contents, then annotations and widgets, as a viewer draws them. */
		fz_run_page(fz, pg, dev, fz_identity, NULL);
		fz_close_device(fz, dev);
		buf = fz_new_buffer_from_pixmap_as_png(fz, pix, fz_default_color_params);
		signcore__buffer_out(fz, buf, png, len);
	}
	fz_always(fz) {
		fz_drop_buffer(fz, buf);
		fz_drop_device(fz, dev);
		fz_drop_pixmap(fz, pix);
		fz_drop_page(fz, pg);
	}
	fz_catch(fz)
		code = signcore__caught(ctx, SIGNCORE_EBADINPUT, where);
	return code;
}
