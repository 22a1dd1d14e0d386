/*
 * Images: PNG and JPEG only, checked by content, not by name. Signature
 * images, and images made into a one-page PDF.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

/* 100 megapixels decode to 400 MB (RGBA) while the image is checked. */
#define IMAGE_MAX_PIXELS 100e6
/* Resolutions outside this range are taken for a mistake (JFIF files that
 * give only an aspect ratio say 1 dpi) and replaced by 96 dpi. */
#define IMAGE_DPI_MIN 36
#define IMAGE_DPI_MAX 4800
#define IMAGE_DPI_DEFAULT 96
/* The largest page a PDF reader must accept (ISO 32000-1, annex C). */
#define PAGE_MAX_PT 14400.0f

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

/* A JPEG is checked with libjpeg itself: MuPDF 1.21 leaves libjpeg's
 * default message handler in place, which prints warnings (a file cut
 * short, corrupt data) on stderr, and goes on with grey where data is
 * missing. Here warnings are kept quiet and a file cut short is refused. */
typedef struct {
	struct jpeg_error_mgr mgr;
	jmp_buf jmp;
	int truncated;
	char message[JMSG_LENGTH_MAX];
} sc_jpeg_err;

static void jpeg_fail(j_common_ptr c)
{
	sc_jpeg_err *e = (sc_jpeg_err *)c->err;

	e->mgr.format_message(c, e->message);
	longjmp(e->jmp, 1);
}

static void jpeg_note(j_common_ptr c, int level)
{
	sc_jpeg_err *e = (sc_jpeg_err *)c->err;

	if (level < 0 && e->mgr.msg_code == JWRN_JPEG_EOF)
		e->truncated = 1;
}

static int too_big(signcore_ctx *ctx, const char *kind, long long w, long long h)
{
	if ((double)w * h <= IMAGE_MAX_PIXELS)
		return SIGNCORE_OK;
	return signcore__err(ctx, SIGNCORE_ERANGE, "%s image is %lld x %lld pixels, over the limit of 100 megapixels",
		kind, w, h);
}

/* Check the size of the JPEG at DATA, then decode it once (at 1/8 scale:
 * every byte of the entropy coded data is still read). Returns 0,
 * SIGNCORE_ERANGE or SIGNCORE_EBADINPUT. */
static int check_jpeg(signcore_ctx *ctx, const unsigned char *data, size_t len)
{
	struct jpeg_decompress_struct c;
	sc_jpeg_err e;
	JSAMPARRAY row;

	memset(&c, 0, sizeof c);
	memset(&e, 0, sizeof e);
	c.err = jpeg_std_error(&e.mgr);
	e.mgr.error_exit = jpeg_fail;
	e.mgr.emit_message = jpeg_note;
	if (setjmp(e.jmp)) {
		jpeg_destroy_decompress(&c);
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s JPEG image: %s",
			e.truncated ? "truncated" : "corrupt", e.message);
	}
	jpeg_create_decompress(&c);
	jpeg_mem_src(&c, data, (unsigned long)len);
	jpeg_read_header(&c, TRUE);
	if (too_big(ctx, "JPEG", c.image_width, c.image_height)) {
		jpeg_destroy_decompress(&c);
		return SIGNCORE_ERANGE;
	}
	c.scale_num = 1;
	c.scale_denom = 8;
	jpeg_start_decompress(&c);
	row = c.mem->alloc_sarray((j_common_ptr)&c, JPOOL_IMAGE, c.output_width * c.output_components, 1);
	while (c.output_scanline < c.output_height)
		jpeg_read_scanlines(&c, row, 1);
	jpeg_finish_decompress(&c);
	jpeg_destroy_decompress(&c);
	if (e.truncated)
		return signcore__err(ctx, SIGNCORE_EBADINPUT,
			"truncated JPEG image (the file ends before the image data does)");
	return SIGNCORE_OK;
}

/* MuPDF reports a PNG cut short as a warning and pads the missing pixels;
 * watch the warnings while decoding to refuse such an image. */
typedef struct {
	fz_warning_cb *prev;
	void *prev_user;
	char truncated[128];
} sc_watch;

static void watch_warning(void *user, const char *message)
{
	sc_watch *w = user;

	if (!w->truncated[0] && (strstr(message, "premature end") || strstr(message, "truncated")))
		snprintf(w->truncated, sizeof w->truncated, "%s", message);
	if (w->prev)
		w->prev(w->prev_user, message);
}

/* Decode IMG once, throwing EBADINPUT if it is corrupt or truncated. */
static void check_decodes(signcore_ctx *ctx, fz_image *img, const char *kind)
{
	fz_context *fz = ctx->fz;
	fz_pixmap *pix = NULL;
	sc_watch w;

	memset(&w, 0, sizeof w);
	/* Deliver a warning even if it repeats the last one seen. */
	fz_flush_warnings(fz);
	w.prev = fz_warning_callback(fz, &w.prev_user);
	fz_set_warning_callback(fz, watch_warning, &w);
	fz_var(pix);
	fz_try(fz)
		pix = fz_get_pixmap_from_image(fz, img, NULL, NULL, NULL, NULL);
	fz_always(fz) {
		fz_flush_warnings(fz);
		fz_set_warning_callback(fz, w.prev, w.prev_user);
		fz_drop_pixmap(fz, pix);
	}
	fz_catch(fz) {
		if (fz_caught(fz) == FZ_ERROR_MEMORY)
			fz_rethrow(fz);
		signcore__throw(ctx, SIGNCORE_EBADINPUT, "corrupt %s image: %s", kind, fz_caught_message(fz));
	}
	if (w.truncated[0])
		signcore__throw(ctx, SIGNCORE_EBADINPUT, "truncated %s image (%s)", kind, w.truncated);
}

static int sane_dpi(int dpi)
{
	return dpi >= IMAGE_DPI_MIN && dpi <= IMAGE_DPI_MAX;
}

/* The image on the page: fills a W x H page, turned the way its EXIF
 * orientation says (MuPDF reads it from JPEG files; PNG has none). */
static fz_matrix image_placement(fz_context *fz, fz_image *img, float w, float h)
{
	/* MuPDF's orientation matrix works in its own space (y down) on the
	 * unit square; a PDF image's unit square has y up, and so has the page. */
	const fz_matrix flip_unit = { 1, 0, 0, -1, 0, 1 };
	const fz_matrix flip_page = { 1, 0, 0, -1, 0, h };
	fz_matrix m = fz_concat(flip_unit, fz_image_orientation_matrix(fz, img));

	return fz_concat(fz_concat(m, fz_scale(w, h)), flip_page);
}

int signcore_image_to_pdf(signcore_ctx *ctx, const void *data, size_t len, unsigned char **pdf, size_t *pdf_len)
{
	fz_context *fz;
	fz_buffer *buf = NULL, *contents = NULL, *out_buf = NULL;
	fz_image *img = NULL;
	fz_output *out = NULL;
	pdf_document *doc = NULL;
	pdf_obj *res = NULL, *xobj = NULL, *page = NULL;
	pdf_write_options wo;
	fz_matrix m;
	const char *kind;
	float w, h, big;
	int xres, yres, turn, code = SIGNCORE_OK;

	if (!ctx || !pdf || !pdf_len || (!data && len))
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_image_to_pdf: NULL argument")
			   : SIGNCORE_EINVAL;
	fz = ctx->fz;
	*pdf = NULL;
	*pdf_len = 0;
	signcore__clear_err(ctx);
	switch (signcore__image_kind(data, len)) {
	case 1: kind = "PNG"; break;
	case 2: kind = "JPEG"; break;
	default: return signcore__err(ctx, SIGNCORE_EBADINPUT, "not a PNG or JPEG image");
	}

	if (*kind == 'J' && (code = check_jpeg(ctx, data, len)) != SIGNCORE_OK)
		return code;

	memset(&wo, 0, sizeof wo);
	wo.do_compress = 1;
	wo.do_compress_images = 1;
	wo.do_compress_fonts = 1;

	fz_var(buf);
	fz_var(contents);
	fz_var(out_buf);
	fz_var(img);
	fz_var(out);
	fz_var(doc);
	fz_var(res);
	fz_var(xobj);
	fz_var(page);
	fz_var(code);
	fz_try(fz) {
		buf = fz_new_buffer_from_copied_data(fz, data, len);
		/* Reads the header only: a PNG's size is checked before decoding. */
		fz_try(fz)
			img = fz_new_image_from_buffer(fz, buf);
		fz_catch(fz) {
			if (fz_caught(fz) == FZ_ERROR_MEMORY)
				fz_rethrow(fz);
			signcore__throw(ctx, SIGNCORE_EBADINPUT, "corrupt %s image: %s", kind, fz_caught_message(fz));
		}
		/* A JPEG is checked above and goes into the PDF as it is; a PNG
		 * is decoded to be written as a PDF image anyway. */
		if (*kind == 'P') {
			if (too_big(ctx, kind, img->w, img->h))
				signcore__throw_last(ctx, SIGNCORE_ERANGE);
			check_decodes(ctx, img, kind);
		}

		/* The declared resolution as stored, not fz_image_resolution's
		 * guess, so that an absurd one is replaced by 96 dpi. (MuPDF 1.21
		 * gives a PNG's horizontal resolution for both axes.) */
		xres = img->xres;
		yres = img->yres;
		if (!sane_dpi(xres) || !sane_dpi(yres))
			xres = yres = IMAGE_DPI_DEFAULT;
		w = img->w * 72.0f / xres;
		h = img->h * 72.0f / yres;
		/* Orientations 2, 4, 6 and 8 turn the image a quarter. */
		turn = fz_image_orientation(fz, img);
		if (turn && turn % 2 == 0) {
			float t = w;
			w = h;
			h = t;
		}
		big = w > h ? w : h;
		if (big > PAGE_MAX_PT) {
			w *= PAGE_MAX_PT / big;
			h *= PAGE_MAX_PT / big;
		}

		doc = pdf_create_document(fz);
		xobj = pdf_add_image(fz, doc, img);
		res = pdf_new_dict(fz, doc, 1);
		pdf_dict_puts(fz, pdf_dict_put_dict(fz, res, PDF_NAME(XObject), 1), "Im0", xobj);
		m = image_placement(fz, img, w, h);
		contents = fz_new_buffer(fz, 128);
		fz_append_printf(fz, contents, "q %g %g %g %g %g %g cm /Im0 Do Q\n", m.a, m.b, m.c, m.d, m.e, m.f);
		page = pdf_add_page(fz, doc, fz_make_rect(0, 0, w, h), 0, res, contents);
		pdf_insert_page(fz, doc, -1, page);

		out_buf = fz_new_buffer(fz, len + 4096);
		out = fz_new_output_with_buffer(fz, out_buf);
		pdf_write_document(fz, doc, out, &wo);
		fz_close_output(fz, out);
		signcore__buffer_out(fz, out_buf, pdf, pdf_len);
	}
	fz_always(fz) {
		fz_drop_output(fz, out);
		fz_drop_buffer(fz, out_buf);
		fz_drop_buffer(fz, contents);
		pdf_drop_obj(fz, page);
		pdf_drop_obj(fz, res);
		pdf_drop_obj(fz, xobj);
		pdf_drop_document(fz, doc);
		fz_drop_image(fz, img);
		fz_drop_buffer(fz, buf);
	}
	fz_catch(fz)
		code = signcore__caught(ctx, SIGNCORE_EBADINPUT, kind);
	return code;
}
