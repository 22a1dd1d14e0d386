/*
 * Signature images: PNG and JPEG only, checked by content, not by name.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <string.h>

int signcore__image_kind(const void *data, size_t len)
{
	const unsigned char *p = data;

	if (len >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		return 1;
	if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
		return 2;
	return 0;
}

fz_image *signcore__image_load(signcore_ctx *ctx, const void *data, size_t len)
{
	fz_context *fz = ctx->fz;
	fz_buffer *buf = NULL;
	fz_image *img = NULL;
	fz_pixmap *pix = NULL;

	if (!signcore__image_kind(data, len))
		signcore__throw(ctx, SIGNCORE_EBADINPUT, "image is not a PNG or JPEG file");
	fz_var(buf);
	fz_var(img);
	fz_var(pix);
	fz_try(fz) {
		buf = fz_new_buffer_from_copied_data(fz, data, len);
		img = fz_new_image_from_buffer(fz, buf);
		/* Decode now: a corrupt image must fail here with a clear
		 * message, not later while the appearance is written. */
		pix = fz_get_pixmap_from_image(fz, img, NULL, NULL, NULL, NULL);
	}
	fz_always(fz) {
		fz_drop_pixmap(fz, pix);
		fz_drop_buffer(fz, buf);
	}
	fz_catch(fz) {
		fz_drop_image(fz, img);
		signcore__throw(ctx, SIGNCORE_EBADINPUT, "image cannot be decoded: %s", fz_caught_message(fz));
	}
	return img;
}
