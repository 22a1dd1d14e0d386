/* Page renders and images made into PDFs. SPDX-License-Identifier: AGPL-3.0-or-later */
#include "testutil.h"

#include <math.h>

#include <jpeglib.h>
#include <mupdf/fitz.h>
#include <mupdf/pdf.h>
#include <zlib.h>

/* The tests decode PNGs and make test images with a MuPDF of their own. */
static fz_context *fz;

static void setup_fz(void)
{
	setup();
	fz = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	ck_assert_ptr_nonnull(fz);
}

static void teardown_fz(void)
{
	fz_drop_context(fz);
	fz = NULL;
	teardown();
}

static const char *sample(const char *name)
{
	static char buf[1024];
	const char *dir = getenv("SRCDIR");

	snprintf(buf, sizeof buf, "%s/samples/%s", dir ? dir : ".", name);
	return buf;
}

static unsigned be32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

/* Width and height from the IHDR chunk, after checking it is an 8-bit RGB PNG. */
static void png_size(const unsigned char *png, size_t len, int *w, int *h)
{
	ck_assert_uint_ge(len, 33);
	ck_assert(!memcmp(png, "\x89PNG\r\n\x1a\n", 8));
	ck_assert(!memcmp(png + 12, "IHDR", 4));
	ck_assert_int_eq(png[24], 8); /* bit depth */
	ck_assert_int_eq(png[25], 2); /* colour type 2: RGB, no alpha */
	*w = (int)be32(png + 16);
	*h = (int)be32(png + 20);
}

/* The pixel size MuPDF gives a side of LEN points at DPI (fz_round_rect). */
static int px(double len, double dpi)
{
	return (int)ceilf((float)len * (float)(dpi / 72) - 0.001f);
}

static unsigned char *render(signcore_doc *doc, int page, double dpi, size_t *len)
{
	unsigned char *png = NULL;
	int rc = signcore_page_render_png(doc, page, dpi, &png, len);

	ck_assert_msg(rc == SIGNCORE_OK, "render page %d at %g dpi: %d %s", page, dpi, rc,
		signcore_ctx_last_error(ctx));
	ck_assert_ptr_nonnull(png);
	return png;
}

static fz_pixmap *decode(const unsigned char *data, size_t len)
{
	fz_buffer *buf = fz_new_buffer_from_copied_data(fz, data, len);
	fz_image *img = fz_new_image_from_buffer(fz, buf);
	fz_pixmap *pix = fz_get_pixmap_from_image(fz, img, NULL, NULL, NULL, NULL);

	fz_drop_image(fz, img);
	fz_drop_buffer(fz, buf);
	ck_assert_int_eq(pix->n, 3);
	return pix;
}

static fz_pixmap *render_pix(signcore_doc *doc, int page, double dpi)
{
	size_t len;
	unsigned char *png = render(doc, page, dpi, &len);
	fz_pixmap *pix = decode(png, len);

	signcore_free(png);
	return pix;
}

static const unsigned char *at(fz_pixmap *pix, int x, int y)
{
	return pix->samples + (size_t)y * pix->stride + (size_t)x * pix->n;
}

/* Pixels in the box that are not (near) white. */
static int ink(fz_pixmap *pix, int x0, int y0, int x1, int y1)
{
	int x, y, n = 0;

	for (y = y0; y < y1 && y < pix->h; y++)
		for (x = x0; x < x1 && x < pix->w; x++) {
			const unsigned char *p = at(pix, x, y);
			n += p[0] < 200 || p[1] < 200 || p[2] < 200;
		}
	return n;
}

/* Pixels in the box that are mostly red (R) or mostly blue (B). */
static int colour(fz_pixmap *pix, char which, int x0, int y0, int x1, int y1)
{
	int x, y, n = 0;

	for (y = y0; y < y1; y++)
		for (x = x0; x < x1; x++) {
			const unsigned char *p = at(pix, x, y);
			if (which == 'R')
				n += p[0] > 180 && p[1] < 90 && p[2] < 90;
			else
				n += p[2] > 180 && p[0] < 90 && p[1] < 90;
		}
	return n;
}

START_TEST(render_size_follows_dpi)
{
	signcore_doc *doc = open_ok(fx("plain.pdf"));
	static const double dpis[] = { 72, 150, 18, 300, 96.5 };
	unsigned char *png;
	double pw, ph;
	size_t len, i;
	int w, h;

	ck_assert_int_eq(signcore_doc_page_size(doc, 1, &pw, &ph, NULL), SIGNCORE_OK);
	for (i = 0; i < sizeof dpis / sizeof dpis[0]; i++) {
		png = render(doc, 1, dpis[i], &len);
		png_size(png, len, &w, &h);
		ck_assert_int_eq(w, px(pw, dpis[i]));
		ck_assert_int_eq(h, px(ph, dpis[i]));
		signcore_free(png);
	}
	/* A4 at 150 dpi, worked out by hand. */
	png = render(doc, 1, 150, &len);
	png_size(png, len, &w, &h);
	ck_assert_int_eq(w, 1240);
	ck_assert_int_eq(h, 1755);
	signcore_free(png);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(render_draws_the_page_as_displayed)
{
	signcore_doc *doc = open_ok(fx("rotated.pdf"));
	fz_pixmap *pix;
	double pw, ph;
	int p, rot;

	for (p = 1; p <= 4; p++) {
		ck_assert_int_eq(signcore_doc_page_size(doc, p, &pw, &ph, &rot), SIGNCORE_OK);
		pix = render_pix(doc, p, 72);
		/* /Rotate 90 and 270 turn Letter portrait on its side. */
		ck_assert_int_eq(pix->w, rot % 180 ? 792 : 612);
		ck_assert_int_eq(pix->h, rot % 180 ? 612 : 792);
		/* "Page N" reads at the top-left of the page as displayed, so it
		 * is there in the render, and nothing is in the other corners. */
		ck_assert_int_gt(ink(pix, 40, 50, 150, 92), 300);
		ck_assert_int_eq(ink(pix, pix->w - 150, 30, pix->w - 30, 92), 0);
		ck_assert_int_eq(ink(pix, 30, pix->h - 92, 150, pix->h - 30), 0);
		fz_drop_pixmap(fz, pix);
	}
	signcore_doc_free(doc);

	/* The CropBox, not the MediaBox: the margins it hides are red. */
	doc = open_ok(fx("cropbox.pdf"));
	for (p = 1; p <= 2; p++) {
		pix = render_pix(doc, p, 72);
		ck_assert_int_eq(pix->w, p == 1 ? 595 : 842);
		ck_assert_int_eq(pix->h, p == 1 ? 842 : 595);
		ck_assert_int_eq(colour(pix, 'R', 0, 0, pix->w, pix->h), 0);
		ck_assert_int_gt(ink(pix, 40, 50, 150, 92), 300);
		fz_drop_pixmap(fz, pix);
	}
	signcore_doc_free(doc);
}
END_TEST

START_TEST(render_refuses_bad_dpi_and_pages)
{
	signcore_doc *doc = open_ok(fx("plain.pdf"));
	static const double bad[] = { 5, 1000, 17.9, 300.5, 0, -72, NAN, INFINITY };
	unsigned char *png = (unsigned char *)"x";
	size_t len = 7, i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(signcore_page_render_png(doc, 1, bad[i], &png, &len), SIGNCORE_ERANGE);
		ck_assert_msg(contains(signcore_ctx_last_error(ctx), "18 to 300 dpi"), "%s",
			signcore_ctx_last_error(ctx));
		ck_assert_ptr_null(png);
		ck_assert_uint_eq(len, 0);
	}
	ck_assert_int_eq(signcore_page_render_png(doc, 0, 72, &png, &len), SIGNCORE_ERANGE);
	ck_assert(contains(signcore_ctx_last_error(ctx), "page 0 out of range"));
	ck_assert_int_eq(signcore_page_render_png(doc, signcore_doc_page_count(doc) + 1, 72, &png, &len),
		SIGNCORE_ERANGE);
	ck_assert(contains(signcore_ctx_last_error(ctx), "page 4 out of range (the document has 3 pages)"));
	ck_assert_int_eq(signcore_page_render_png(doc, 1, 72, NULL, &len), SIGNCORE_EINVAL);
	ck_assert_int_eq(signcore_page_render_png(NULL, 1, 72, &png, &len), SIGNCORE_EINVAL);
	signcore_doc_free(doc);
}
END_TEST

/* A one-page PDF of W x H points, made with MuPDF. */
static unsigned char *blank_pdf(float w, float h, size_t *len)
{
	pdf_document *pdf = pdf_create_document(fz);
	fz_buffer *contents = fz_new_buffer_from_copied_data(fz, (const unsigned char *)"0 g 10 10 50 50 re f\n", 21);
	pdf_obj *page = pdf_add_page(fz, pdf, fz_make_rect(0, 0, w, h), 0, NULL, contents);
	fz_buffer *out = fz_new_buffer(fz, 1024);
	fz_output *o = fz_new_output_with_buffer(fz, out);
	pdf_write_options wo;
	unsigned char *data, *copy;

	memset(&wo, 0, sizeof wo);
	pdf_insert_page(fz, pdf, -1, page);
	pdf_write_document(fz, pdf, o, &wo);
	fz_close_output(fz, o);
	*len = fz_buffer_storage(fz, out, &data);
	copy = malloc(*len);
	memcpy(copy, data, *len);
	fz_drop_output(fz, o);
	fz_drop_buffer(fz, out);
	fz_drop_buffer(fz, contents);
	pdf_drop_obj(fz, page);
	pdf_drop_document(fz, pdf);
	return copy;
}

START_TEST(render_refuses_over_40_megapixels)
{
	signcore_doc *doc = NULL;
	unsigned char *pdf, *png = NULL;
	size_t len, pnglen;
	int w, h;

	/* 2000 pt square: 69 megapixels at 300 dpi, 37.0 at 218 dpi. */
	pdf = blank_pdf(2000, 2000, &len);
	ck_assert_int_eq(signcore_doc_open_memory(ctx, &doc, pdf, len, NULL), SIGNCORE_OK);
	ck_assert_int_eq(signcore_page_render_png(doc, 1, 300, &png, &pnglen), SIGNCORE_ERANGE);
	ck_assert_msg(contains(signcore_ctx_last_error(ctx), "8334 x 8334 pixels, over the limit of 40 megapixels"),
		"%s", signcore_ctx_last_error(ctx));
	ck_assert_ptr_null(png);
	png = render(doc, 1, 218, &pnglen);
	png_size(png, pnglen, &w, &h);
	ck_assert_int_eq(w, 6056);
	ck_assert_int_eq(h, 6056);
	signcore_free(png);
	signcore_doc_free(doc);
	free(pdf);
}
END_TEST

START_TEST(render_shows_unsaved_fields)
{
	signcore_doc *doc = open_ok(fx("plain.pdf"));
	signcore_field_spec fs = SIGNCORE_FIELD_SPEC_INIT;
	signcore_value v = SIGNCORE_VALUE_INIT;
	fz_pixmap *before, *placed, *filled;

	fs.name = "client";
	fs.type = SIGNCORE_FIELD_TEXT;
	fs.rect[0] = 100;
	fs.rect[1] = 400;
	fs.rect[2] = 220;
	fs.rect[3] = 30;
	before = render_pix(doc, 1, 144);
	ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_OK);
	placed = render_pix(doc, 1, 144);
	v.text = "Priya Sharma";
	ck_assert_int_eq(signcore_field_fill(doc, "client", &v), SIGNCORE_OK);
	filled = render_pix(doc, 1, 144);
	/* The field's rect at 144 dpi is (200, 800)-(640, 860). */
	ck_assert_int_eq(ink(before, 200, 800, 640, 860), 0);
	ck_assert_int_eq(ink(placed, 200, 800, 640, 860), 0);
	ck_assert_int_gt(ink(filled, 200, 800, 640, 860), 500);
	/* ... and only there: the rest of the page is as it was. */
	ck_assert_int_eq(ink(filled, 0, 0, filled->w, 798), ink(before, 0, 0, before->w, 798));
	ck_assert_int_eq(ink(filled, 0, 862, filled->w, filled->h), ink(before, 0, 862, before->w, before->h));
	fz_drop_pixmap(fz, before);
	fz_drop_pixmap(fz, placed);
	fz_drop_pixmap(fz, filled);
	signcore_doc_free(doc);
}
END_TEST

static unsigned char *save_mem(signcore_doc *doc, size_t *len)
{
	unsigned char *data = NULL;

	ck_assert_int_eq(signcore_doc_save_memory(doc, &data, len, NULL), SIGNCORE_OK);
	return data;
}

/* Offset of the last "/ID" in DATA (the file ID of the last trailer). */
static size_t last_id(const unsigned char *data, size_t len)
{
	size_t i;

	for (i = len - 3; i > 0; i--)
		if (!memcmp(data + i, "/ID", 3))
			return i;
	ck_abort_msg("no /ID");
	return 0;
}

/* Offset just past the PDF string at P[AT] (<hex> or a (literal) one,
 * with its escapes and nested parentheses), or 0. */
static size_t string_end(const unsigned char *p, size_t len, size_t at)
{
	int depth = 0;

	if (at < len && p[at] == '<') {
		while (at < len && p[at] != '>')
			at++;
		return at < len ? at + 1 : 0;
	}
	for (; at < len; at++) {
		if (p[at] == '\\')
			at++;
		else if (p[at] == '(')
			depth++;
		else if (p[at] == ')' && --depth == 0)
			return at + 1;
	}
	return 0;
}

/* The same bytes, but for the second string of the last /ID, which MuPDF
 * makes new from the time of each save (as hex or as a literal string,
 * depending on its bytes, so its length can change too). */
static int same_but_id(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	size_t at = last_id(a, alen), first, enda, endb;

	if (last_id(b, blen) != at || at + 4 >= alen || memcmp(a + at, "/ID[", 4))
		return 0;
	first = string_end(a, alen, at + 4);
	if (!first || first >= blen || memcmp(a, b, first))
		return 0;
	enda = string_end(a, alen, first);
	endb = string_end(b, blen, first);
	return enda && endb && alen - enda == blen - endb && !memcmp(a + enda, b + endb, alen - enda);
}

START_TEST(render_leaves_the_document_unchanged)
{
	/* form.pdf has widgets and annotations (one without an appearance
	 * of its own, which MuPDF makes one for to draw it). */
	signcore_doc *doc = open_ok(fx("form.pdf"));
	signcore_value v = SIGNCORE_VALUE_INIT;
	unsigned char *a, *b;
	size_t alen, blen;
	fz_pixmap *pix;

	v.text = "New value";
	ck_assert_int_eq(signcore_field_fill(doc, "existing_name", &v), SIGNCORE_OK);
	a = save_mem(doc, &alen);
	signcore_doc_free(doc);

	doc = open_ok(fx("form.pdf"));
	pix = render_pix(doc, 2, 72);
	fz_drop_pixmap(fz, pix);
	ck_assert_int_eq(signcore_field_fill(doc, "existing_name", &v), SIGNCORE_OK);
	pix = render_pix(doc, 1, 72);
	fz_drop_pixmap(fz, pix);
	pix = render_pix(doc, 2, 72);
	fz_drop_pixmap(fz, pix);
	b = save_mem(doc, &blen);
	signcore_doc_free(doc);

	ck_assert(same_but_id(a, alen, b, blen));
	free(a);
	free(b);
}
END_TEST

/* ----------------------------------------------------------- image_to_pdf */

static unsigned char *to_pdf_ok(const void *data, size_t len, size_t *pdflen)
{
	unsigned char *pdf = NULL;
	int rc = signcore_image_to_pdf(ctx, data, len, &pdf, pdflen);

	ck_assert_msg(rc == SIGNCORE_OK, "image_to_pdf: %d %s", rc, signcore_ctx_last_error(ctx));
	ck_assert_ptr_nonnull(pdf);
	return pdf;
}

/* Check PDF with qpdf, open it and return its one page's size. */
static signcore_doc *open_one_page(const unsigned char *pdf, size_t len, double *w, double *h)
{
	signcore_doc *doc = NULL;
	char cmd[1200];
	FILE *f = fopen(tmp("image.pdf"), "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(pdf, 1, len, f), len);
	fclose(f);
	/* Exit status 0: no errors and no warnings. */
	snprintf(cmd, sizeof cmd, "qpdf --check '%s' >/dev/null", tmp("image.pdf"));
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(signcore_doc_open_memory(ctx, &doc, pdf, len, NULL), SIGNCORE_OK);
	ck_assert_int_eq(signcore_doc_page_count(doc), 1);
	ck_assert_int_eq(signcore_doc_page_size(doc, 1, w, h, NULL), SIGNCORE_OK);
	return doc;
}

START_TEST(image_to_pdf_png_page_is_the_image_size)
{
	size_t len, pdflen;
	unsigned char *png = slurp(sample("sig.png"), &len), *pdf;
	signcore_doc *doc;
	fz_pixmap *pix;
	double w, h;

	/* 300 x 100 pixels, no pHYs chunk: 96 dpi. */
	ck_assert_uint_eq(be32(png + 16), 300);
	ck_assert_uint_eq(be32(png + 20), 100);
	pdf = to_pdf_ok(png, len, &pdflen);
	doc = open_one_page(pdf, pdflen, &w, &h);
	ck_assert(fabs(w - 225) < 0.01 && fabs(h - 75) < 0.01);
	/* Drawn at 96 dpi it is the image again: the transparent background
	 * is white, the pen stroke is there. */
	pix = render_pix(doc, 1, 96);
	ck_assert_int_eq(pix->w, 300);
	ck_assert_int_eq(pix->h, 100);
	ck_assert_int_eq(ink(pix, 0, 0, 6, 6), 0);
	ck_assert_int_gt(ink(pix, 0, 0, 300, 100), 500);
	fz_drop_pixmap(fz, pix);
	signcore_doc_free(doc);
	signcore_free(pdf);
	free(png);
}
END_TEST

/* A W x H PNG, left half red, right half blue, declaring DPI (0: none). */
static unsigned char *make_png(int w, int h, int dpi, size_t *len)
{
	fz_pixmap *pix = fz_new_pixmap(fz, fz_device_rgb(fz), w, h, NULL, 0);
	fz_buffer *buf;
	unsigned char *data, *copy;
	int x, y;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			unsigned char *p = pix->samples + (size_t)y * pix->stride + (size_t)x * 3;
			p[0] = x < w / 2 ? 255 : 0;
			p[1] = 0;
			p[2] = x < w / 2 ? 0 : 255;
		}
	fz_set_pixmap_resolution(fz, pix, dpi, dpi);
	buf = fz_new_buffer_from_pixmap_as_png(fz, pix, fz_default_color_params);
	*len = fz_buffer_storage(fz, buf, &data);
	copy = malloc(*len);
	memcpy(copy, data, *len);
	fz_drop_buffer(fz, buf);
	fz_drop_pixmap(fz, pix);
	return copy;
}

START_TEST(image_to_pdf_png_keeps_its_resolution)
{
	size_t len, pdflen;
	unsigned char *png = make_png(600, 300, 300, &len), *pdf;
	signcore_doc *doc;
	double w, h;

	pdf = to_pdf_ok(png, len, &pdflen);
	doc = open_one_page(pdf, pdflen, &w, &h);
	ck_assert_msg(fabs(w - 144) < 0.01 && fabs(h - 72) < 0.01, "%g x %g", w, h);
	signcore_doc_free(doc);
	signcore_free(pdf);
	free(png);

	/* A page rendered at 150 dpi comes back at the page's size. */
	doc = open_ok(fx("plain.pdf"));
	png = render(doc, 1, 150, &len);
	signcore_doc_free(doc);
	pdf = to_pdf_ok(png, len, &pdflen);
	doc = open_one_page(pdf, pdflen, &w, &h);
	ck_assert_msg(fabs(w - 595) < 0.5 && fabs(h - 842) < 0.5, "%g x %g", w, h);
	signcore_doc_free(doc);
	signcore_free(pdf);
	signcore_free(png);
}
END_TEST

/* A W x H JPEG like make_png's, with JFIF density DPI (0: aspect ratio
 * only) and, when ORIENTATION is set, an EXIF block carrying it. */
static unsigned char *make_jpeg(int w, int h, int dpi, int orientation, size_t *len)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr err;
	unsigned char *out = NULL, *row = malloc((size_t)w * 3);
	unsigned long outlen = 0;
	int x;
	/* "Exif\0\0", a big-endian TIFF header, one IFD entry: 0x0112 SHORT. */
	unsigned char exif[] = { 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8,
		0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (unsigned char)orientation, 0, 0, 0, 0, 0, 0 };

	c.err = jpeg_std_error(&err);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &out, &outlen);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 95, TRUE);
	c.density_unit = dpi ? 1 : 0;
	c.X_density = (UINT16)(dpi ? dpi : 1);
	c.Y_density = (UINT16)(dpi ? dpi : 1);
	jpeg_start_compress(&c, TRUE);
	if (orientation)
		jpeg_write_marker(&c, JPEG_APP0 + 1, exif, sizeof exif);
	for (x = 0; x < w; x++) {
		row[x * 3] = x < w / 2 ? 255 : 0;
		row[x * 3 + 1] = 0;
		row[x * 3 + 2] = x < w / 2 ? 0 : 255;
	}
	while (c.next_scanline < c.image_height) {
		JSAMPROW r = row;
		jpeg_write_scanlines(&c, &r, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(row);
	*len = outlen;
	return out;
}

START_TEST(image_to_pdf_jpeg_resolution_and_orientation)
{
	size_t len, pdflen;
	unsigned char *jpg, *pdf;
	signcore_doc *doc;
	fz_pixmap *pix;
	double w, h;

	/* 160 x 80 at 144 dpi: 80 x 40 pt, red on the left. */
	jpg = make_jpeg(160, 80, 144, 0, &len);
	pdf = to_pdf_ok(jpg, len, &pdflen);
	doc = open_one_page(pdf, pdflen, &w, &h);
	ck_assert_msg(fabs(w - 80) < 0.01 && fabs(h - 40) < 0.01, "%g x %g", w, h);
	pix = render_pix(doc, 1, 144);
	ck_assert_int_gt(colour(pix, 'R', 5, 5, 75, 75), 60 * 60);
	ck_assert_int_gt(colour(pix, 'B', 85, 5, 155, 75), 60 * 60);
	fz_drop_pixmap(fz, pix);
	signcore_doc_free(doc);
	signcore_free(pdf);
	free(jpg);

	/* EXIF orientation 6: turn a quarter clockwise to show. The page is
	 * portrait (40 x 80 pt) and the left of the image (red) on top. */
	jpg = make_jpeg(160, 80, 144, 6, &len);
	pdf = to_pdf_ok(jpg, len, &pdflen);
	doc = open_one_page(pdf, pdflen, &w, &h);
	ck_assert_msg(fabs(w - 40) < 0.01 && fabs(h - 80) < 0.01, "%g x %g", w, h);
	pix = render_pix(doc, 1, 144);
	ck_assert_int_eq(pix->w, 80);
	ck_assert_int_eq(pix->h, 160);
	ck_assert_int_gt(colour(pix, 'R', 5, 5, 75, 75), 60 * 60);
	ck_assert_int_gt(colour(pix, 'B', 5, 85, 75, 155), 60 * 60);
	fz_drop_pixmap(fz, pix);
	signcore_doc_free(doc);
	signcore_free(pdf);
	free(jpg);

	/* Orientation 8, a quarter anticlockwise: red at the bottom. */
	jpg = make_jpeg(160, 80, 144, 8, &len);
	pdf = to_pdf_ok(jpg, len, &pdflen);
	doc = open_one_page(pdf, pdflen, &w, &h);
	pix = render_pix(doc, 1, 144);
	ck_assert_int_gt(colour(pix, 'B', 5, 5, 75, 75), 60 * 60);
	ck_assert_int_gt(colour(pix, 'R', 5, 85, 75, 155), 60 * 60);
	fz_drop_pixmap(fz, pix);
	signcore_doc_free(doc);
	signcore_free(pdf);
	free(jpg);

	/* No density (aspect ratio only), and an absurd 1 dpi: 96 dpi. */
	jpg = make_jpeg(192, 96, 0, 0, &len);
	pdf = to_pdf_ok(jpg, len, &pdflen);
	doc = open_one_page(pdf, pdflen, &w, &h);
	ck_assert_msg(fabs(w - 144) < 0.01 && fabs(h - 72) < 0.01, "%g x %g", w, h);
	signcore_doc_free(doc);
	signcore_free(pdf);
	free(jpg);
	jpg = make_jpeg(192, 96, 1, 0, &len);
	pdf = to_pdf_ok(jpg, len, &pdflen);
	doc = open_one_page(pdf, pdflen, &w, &h);
	ck_assert_msg(fabs(w - 144) < 0.01 && fabs(h - 72) < 0.01, "%g x %g", w, h);
	signcore_doc_free(doc);
	signcore_free(pdf);
	free(jpg);
}
END_TEST

static int to_pdf_code(const void *data, size_t len)
{
	unsigned char *pdf = (unsigned char *)"x";
	size_t pdflen = 7;
	int rc = signcore_image_to_pdf(ctx, data, len, &pdf, &pdflen);

	ck_assert_ptr_null(pdf);
	ck_assert_uint_eq(pdflen, 0);
	return rc;
}

START_TEST(image_to_pdf_refuses_bad_images)
{
	static const char garbage[] = "GIF89a this is not what we take";
	size_t len, i;
	unsigned char *png = slurp(sample("sig.png"), &len), *jpg;

	ck_assert_int_eq(to_pdf_code(garbage, sizeof garbage), SIGNCORE_EBADINPUT);
	ck_assert_str_eq(signcore_ctx_last_error(ctx), "not a PNG or JPEG image");
	ck_assert_int_eq(to_pdf_code(garbage, 0), SIGNCORE_EBADINPUT);
	ck_assert_int_eq(to_pdf_code(png, 8), SIGNCORE_EBADINPUT); /* the signature alone */
	ck_assert(contains(signcore_ctx_last_error(ctx), "PNG"));

	/* Cut inside the image data, and cut just before IEND. */
	ck_assert_int_eq(to_pdf_code(png, len / 2), SIGNCORE_EBADINPUT);
	ck_assert_msg(contains(signcore_ctx_last_error(ctx), "PNG image"), "%s", signcore_ctx_last_error(ctx));
	ck_assert_int_eq(to_pdf_code(png, len - 12), SIGNCORE_EBADINPUT);
	ck_assert_msg(contains(signcore_ctx_last_error(ctx), "truncated PNG image"), "%s",
		signcore_ctx_last_error(ctx));

	/* A JPEG cut short decodes with grey at the bottom: refused. Twice,
	 * so that the same warning coming again is still seen. */
	jpg = make_jpeg(640, 480, 144, 0, &len);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(to_pdf_code(jpg, len * 6 / 10), SIGNCORE_EBADINPUT);
		ck_assert_msg(contains(signcore_ctx_last_error(ctx), "truncated JPEG image"), "%s",
			signcore_ctx_last_error(ctx));
	}
	/* Cut inside the header. */
	ck_assert_int_eq(to_pdf_code(jpg, 40), SIGNCORE_EBADINPUT);
	ck_assert_msg(contains(signcore_ctx_last_error(ctx), "truncated JPEG image"), "%s",
		signcore_ctx_last_error(ctx));
	/* Not a cut but damage: a sample precision of 7 bits in the frame header. */
	for (i = 2; i + 4 < len && !(jpg[i] == 0xFF && jpg[i + 1] == 0xC0); i++)
		;
	ck_assert_uint_lt(i + 4, len);
	jpg[i + 4] = 7;
	ck_assert_int_eq(to_pdf_code(jpg, len), SIGNCORE_EBADINPUT);
	ck_assert_msg(contains(signcore_ctx_last_error(ctx), "corrupt JPEG image"), "%s",
		signcore_ctx_last_error(ctx));
	free(jpg);

	ck_assert_int_eq(signcore_image_to_pdf(ctx, png, len, NULL, &len), SIGNCORE_EINVAL);
	ck_assert_int_eq(signcore_image_to_pdf(NULL, png, len, &jpg, &len), SIGNCORE_EINVAL);
	free(png);
}
END_TEST

static void put_chunk(unsigned char *p, const char *type, const unsigned char *data, unsigned n)
{
	uLong crc;

	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
	memcpy(p + 4, type, 4);
	memcpy(p + 8, data, n);
	crc = crc32(crc32(0, (const Bytef *)type, 4), data, n);
	p[8 + n] = (unsigned char)(crc >> 24);
	p[9 + n] = (unsigned char)(crc >> 16);
	p[10 + n] = (unsigned char)(crc >> 8);
	p[11 + n] = (unsigned char)crc;
}

START_TEST(image_to_pdf_refuses_over_100_megapixels)
{
	/* A PNG header saying 20000 x 6000 (120 megapixels): refused before
	 * a byte of it is decoded. */
	unsigned char png[8 + 25 + 12 + 12];
	unsigned char ihdr[13] = { 0, 0, 0x4e, 0x20, 0, 0, 0x17, 0x70, 8, 2, 0, 0, 0 };
	unsigned char idat[1] = { 0 };

	memcpy(png, "\x89PNG\r\n\x1a\n", 8);
	put_chunk(png + 8, "IHDR", ihdr, 13);
	put_chunk(png + 33, "IDAT", idat, 0);
	put_chunk(png + 45, "IEND", idat, 0);
	ck_assert_int_eq(to_pdf_code(png, sizeof png), SIGNCORE_ERANGE);
	ck_assert_msg(contains(signcore_ctx_last_error(ctx), "20000 x 6000 pixels, over the limit of 100 megapixels"),
		"%s", signcore_ctx_last_error(ctx));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("render");
	TCase *tc = tcase_create("render");

	tcase_add_checked_fixture(tc, setup_fz, teardown_fz);
	tcase_set_timeout(tc, 60);
	ADD(tc, render_size_follows_dpi);
	ADD(tc, render_draws_the_page_as_displayed);
	ADD(tc, render_refuses_bad_dpi_and_pages);
	ADD(tc, render_refuses_over_40_megapixels);
	ADD(tc, render_shows_unsaved_fields);
	ADD(tc, render_leaves_the_document_unchanged);
	ADD(tc, image_to_pdf_png_page_is_the_image_size);
	ADD(tc, image_to_pdf_png_keeps_its_resolution);
	ADD(tc, image_to_pdf_jpeg_resolution_and_orientation);
	ADD(tc, image_to_pdf_refuses_bad_images);
	ADD(tc, image_to_pdf_refuses_over_100_megapixels);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
