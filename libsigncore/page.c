/*
 * Page geometry as displayed: CropBox, /Rotate and our top-left coordinates.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <math.h>

void signcore__page_get(fz_context *fz, pdf_document *pdf, int page0, sc_page *pg)
{
	fz_rect box, shown;
	int rot;

	pg->obj = pdf_lookup_page_obj(fz, pdf, page0);
	/* MuPDF's page space is the page as displayed with a top-left origin:
	 * the ctm already folds in CropBox offset, /Rotate and UserUnit. */
	pdf_page_obj_transform(fz, pg->obj, &box, &pg->ctm);
	pg->inv = fz_invert_matrix(pg->ctm);
	shown = fz_transform_rect(box, pg->ctm);
	pg->width = shown.x1 - shown.x0;
	pg->height = shown.y1 - shown.y0;
	rot = pdf_to_int(fz, pdf_dict_get_inheritable(fz, pg->obj, PDF_NAME(Rotate)));
	rot %= 360;
	if (rot < 0)
		rot += 360;
	pg->rotate = 90 * ((rot + 45) / 90) % 360;
}

int signcore__rect_to_user(signcore_ctx *ctx, const sc_page *pg, const double r[4],
	signcore_units units, const char *what, fz_rect *out)
{
	double x = r[0], y = r[1], w = r[2], h = r[3];
	const double slack = 0.5; /* points: forgive rounding at the page edge */
	fz_rect shown;

	if (!(w > 0) || !(h > 0) || !isfinite(x) || !isfinite(y) || !isfinite(w) || !isfinite(h))
		return signcore__err(ctx, SIGNCORE_EINVAL,
			"%s: rect width and height must be positive numbers", what);
	if (units == SIGNCORE_UNITS_PERCENT) {
		x = x * pg->width / 100.0;
		w = w * pg->width / 100.0;
		y = y * pg->height / 100.0;
		h = h * pg->height / 100.0;
	}
	if (x < -slack || y < -slack || x + w > pg->width + slack || y + h > pg->height + slack)
		return signcore__err(ctx, SIGNCORE_ERANGE,
			"%s: rect [%g, %g, %g, %g] pt is outside the page (%g x %g pt as displayed)",
			what, x, y, w, h, (double)pg->width, (double)pg->height);
	shown.x0 = (float)x;
	shown.y0 = (float)y;
	shown.x1 = (float)(x + w);
	shown.y1 = (float)(y + h);
	*out = fz_transform_rect(shown, pg->inv);
	return SIGNCORE_OK;
}

int signcore__page_number(fz_context *fz, pdf_document *pdf, pdf_obj *pageobj)
{
	int n;

	if (!pageobj)
		return 0;
	n = pdf_lookup_page_number(fz, pdf, pageobj);
	return n < 0 ? 0 : n + 1;
}
