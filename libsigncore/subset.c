/*
 * Font subsetting: an appearance lays its text out with copies of its fonts
 * cut down to the glyphs that text can use.
 *
 * MuPDF embeds a font program whole and, when it writes the font into the
 * PDF, has FreeType load every glyph of it to compute the width array; for
 * a signature block of a few dozen characters that was most of the cost of
 * a visible signature, and 40-60 KB of output per font. The subset is made
 * before layout, so MuPDF measures, shapes and embeds only the small font.
 * HarfBuzz's subsetter keeps every glyph the text's code points can reach
 * through the layout tables (GSUB closure) and subsets GSUB/GPOS along, so
 * the story engine shapes the text exactly as with the whole font.
 *
 * MuPDF's built-in Latin faces (sans, serif, mono) are bare CFF programs,
 * which the subsetter cannot read: they are first wrapped in a minimal
 * OpenType file whose cmap holds only the text's characters.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <string.h>

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_ADVANCES_H

#include <hb.h>
#include <hb-subset.h>

/* The text's code points, and those layout may add on its own. */
static void collect_unicodes(hb_set_t *set, const char *text)
{
	int c;

	hb_set_add(set, ' ');
	hb_set_add(set, 0xA0);
	while (*text) {
		text += fz_chartorune(&c, text);
		if (c > 0 && c != '\n' && c != '\r' && c != '\t')
			hb_set_add(set, (hb_codepoint_t)c);
	}
}

static hb_blob_t *blob_from_buffer(fz_buffer *buf)
{
	return hb_blob_create((const char *)buf->data, (unsigned int)buf->len, HB_MEMORY_MODE_DUPLICATE, NULL, NULL);
}

static void add_table(hb_face_t *builder, const char *tag, fz_buffer *buf)
{
	hb_blob_t *blob = blob_from_buffer(buf);

	hb_face_builder_add_table(builder, hb_tag_from_string(tag, 4), blob);
	hb_blob_destroy(blob);
}

/* A code point -> glyph pair of the wrapper's cmap. */
typedef struct {
	unsigned int ucs, gid;
} sc_map;

/* cmap with one format 4 subtable (Windows, Unicode BMP), one segment per
 * character: the subsetter rebuilds it compactly anyway. */
static fz_buffer *make_cmap(fz_context *fz, const sc_map *map, int n)
{
	fz_buffer *b = fz_new_buffer(fz, 32 + 8 * (size_t)(n + 1));
	int segs = n + 1, i, pow2 = 1, log2 = 0;

	while (pow2 * 2 <= segs) {
		pow2 *= 2;
		log2++;
	}
	fz_append_int16_be(fz, b, 0);          /* version */
	fz_append_int16_be(fz, b, 1);          /* one encoding record */
	fz_append_int16_be(fz, b, 3);          /* Windows */
	fz_append_int16_be(fz, b, 1);          /* Unicode BMP */
	fz_append_int32_be(fz, b, 12);         /* subtable offset */
	fz_append_int16_be(fz, b, 4);          /* format */
	fz_append_int16_be(fz, b, 16 + 8 * segs);
	fz_append_int16_be(fz, b, 0);          /* language */
	fz_append_int16_be(fz, b, 2 * segs);
	fz_append_int16_be(fz, b, 2 * pow2);
	fz_append_int16_be(fz, b, log2);
	fz_append_int16_be(fz, b, 2 * segs - 2 * pow2);
	for (i = 0; i < n; i++)
		fz_append_int16_be(fz, b, (int)map[i].ucs); /* endCode */
	fz_append_int16_be(fz, b, 0xFFFF);
	fz_append_int16_be(fz, b, 0);          /* reservedPad */
	for (i = 0; i < n; i++)
		fz_append_int16_be(fz, b, (int)map[i].ucs); /* startCode */
	fz_append_int16_be(fz, b, 0xFFFF);
	for (i = 0; i < n; i++)
		fz_append_int16_be(fz, b, (int)((map[i].gid - map[i].ucs) & 0xFFFF)); /* idDelta */
	fz_append_int16_be(fz, b, 1);
	for (i = 0; i <= n; i++)
		fz_append_int16_be(fz, b, 0);  /* idRangeOffset */
	return b;
}

static void append_name_record(fz_context *fz, fz_buffer *dir, int id, int len, int off)
{
	fz_append_int16_be(fz, dir, 3);         /* Windows */
	fz_append_int16_be(fz, dir, 1);         /* Unicode BMP */
	fz_append_int16_be(fz, dir, 0x409);     /* en-US */
	fz_append_int16_be(fz, dir, id);
	fz_append_int16_be(fz, dir, len);
	fz_append_int16_be(fz, dir, off);
}

/* name: family, subfamily, full and PostScript names, which MuPDF uses to
 * name the font in the PDF. */
static fz_buffer *make_name(fz_context *fz, const char *family, const char *style, const char *ps)
{
	const char *full_parts[2] = { family, style };
	const char *strs[4] = { family, style, NULL, ps };
	static const int ids[4] = { 1, 2, 4, 6 };
	fz_buffer *dir = NULL, *str = NULL;
	int i, k;

	fz_var(dir);
	fz_var(str);
	fz_try(fz) {
		dir = fz_new_buffer(fz, 6 + 4 * 12);
		str = fz_new_buffer(fz, 128);
		fz_append_int16_be(fz, dir, 0);
		fz_append_int16_be(fz, dir, 4);
		fz_append_int16_be(fz, dir, 6 + 4 * 12);
		for (i = 0; i < 4; i++) {
			int off = (int)str->len;
			if (strs[i]) {
				const unsigned char *s;
				for (s = (const unsigned char *)strs[i]; *s; s++)
					fz_append_int16_be(fz, str, *s < 128 ? *s : '?');
			} else {
				for (k = 0; k < 2; k++) {
					const unsigned char *s;
					if (k)
						fz_append_int16_be(fz, str, ' ');
					for (s = (const unsigned char *)full_parts[k]; *s; s++)
						fz_append_int16_be(fz, str, *s < 128 ? *s : '?');
				}
			}
			append_name_record(fz, dir, ids[i], (int)str->len - off, off);
		}
		fz_append_buffer(fz, dir, str);
	}
	fz_always(fz)
		fz_drop_buffer(fz, str);
	fz_catch(fz) {
		fz_drop_buffer(fz, dir);
		fz_rethrow(fz);
	}
	return dir;
}

/* The sfnt tables around a bare CFF program. FACE is the program opened by
 * FreeType; MAP the characters to keep, ADV their advances. */
static void wrap_tables(fz_context *fz, hb_face_t *builder, FT_Face face, const sc_map *map, const FT_Fixed *adv,
	int n, int family_class, fz_buffer *b)
{
	fz_buffer *t;
	int nglyphs = (int)face->num_glyphs, i, g, max_adv = 0;
	const char *family = face->family_name ? face->family_name : "Font";
	const char *style = face->style_name ? face->style_name : "Regular";
	const char *ps = FT_Get_Postscript_Name(face);

	for (i = 0; i < n; i++)
		if (adv[i] > max_adv)
			max_adv = (int)adv[i];
	fz_append_int32_be(fz, b, 0x00010000);  /* head: version */
	fz_append_int32_be(fz, b, 0x00010000);  /* fontRevision */
	fz_append_int32_be(fz, b, 0);           /* checkSumAdjustment */
	fz_append_int32_be(fz, b, 0x5F0F3CF5);  /* magicNumber */
	fz_append_int16_be(fz, b, 3);           /* flags: baseline and lsb at 0 */
	fz_append_int16_be(fz, b, face->units_per_EM);
	for (i = 0; i < 4; i++)
		fz_append_int32_be(fz, b, 0);   /* created, modified */
	fz_append_int16_be(fz, b, (int)face->bbox.xMin);
	fz_append_int16_be(fz, b, (int)face->bbox.yMin);
	fz_append_int16_be(fz, b, (int)face->bbox.xMax);
	fz_append_int16_be(fz, b, (int)face->bbox.yMax);
	fz_append_int16_be(fz, b, (face->style_flags & FT_STYLE_FLAG_BOLD ? 1 : 0) |
		(face->style_flags & FT_STYLE_FLAG_ITALIC ? 2 : 0));
	fz_append_int16_be(fz, b, 3);           /* lowestRecPPEM */
	fz_append_int16_be(fz, b, 2);           /* fontDirectionHint */
	fz_append_int16_be(fz, b, 0);           /* indexToLocFormat */
	fz_append_int16_be(fz, b, 0);           /* glyphDataFormat */
	add_table(builder, "head", b);

	fz_clear_buffer(fz, b);
	fz_append_int32_be(fz, b, 0x00010000);  /* hhea: version */
	fz_append_int16_be(fz, b, face->ascender);
	fz_append_int16_be(fz, b, face->descender);
	fz_append_int16_be(fz, b, face->height - face->ascender + face->descender);
	fz_append_int16_be(fz, b, max_adv);
	fz_append_int16_be(fz, b, (int)face->bbox.xMin);     /* minLeftSideBearing */
	fz_append_int16_be(fz, b, 0);                        /* minRightSideBearing */
	fz_append_int16_be(fz, b, (int)face->bbox.xMax);     /* xMaxExtent */
	fz_append_int16_be(fz, b, 1);                        /* caretSlopeRise */
	for (i = 0; i < 7; i++)
		fz_append_int16_be(fz, b, 0);   /* caretSlopeRun .. metricDataFormat */
	fz_append_int16_be(fz, b, nglyphs);     /* numberOfHMetrics */
	add_table(builder, "hhea", b);

	/* Advances matter only for the glyphs kept (the rest is cut):
	 * zero for the others, where the map has no entry. */
	fz_clear_buffer(fz, b);
	for (g = 0; g < nglyphs; g++) {
		int a = 0, k;
		for (k = 0; k < n; k++)
			if ((int)map[k].gid == g)
				a = (int)adv[k];
		fz_append_int16_be(fz, b, a);
		fz_append_int16_be(fz, b, 0);
	}
	add_table(builder, "hmtx", b);

	fz_clear_buffer(fz, b);
	fz_append_int32_be(fz, b, 0x00005000);  /* maxp 0.5, for CFF outlines */
	fz_append_int16_be(fz, b, nglyphs);
	add_table(builder, "maxp", b);

	fz_clear_buffer(fz, b);
	fz_append_int16_be(fz, b, 1);           /* OS/2 version 1 */
	fz_append_int16_be(fz, b, max_adv / 2); /* xAvgCharWidth */
	fz_append_int16_be(fz, b, face->style_flags & FT_STYLE_FLAG_BOLD ? 700 : 400);
	fz_append_int16_be(fz, b, 5);           /* usWidthClass: normal */
	fz_append_int16_be(fz, b, 0);           /* fsType: installable */
	for (i = 0; i < 8; i++)
		fz_append_int16_be(fz, b, face->units_per_EM / 2); /* sub/superscript */
	fz_append_int16_be(fz, b, face->underline_thickness);
	fz_append_int16_be(fz, b, face->units_per_EM / 4);
	/* MuPDF picks serif or sans fallback faces by this class. */
	fz_append_int16_be(fz, b, family_class);
	for (i = 0; i < 10; i++)
		fz_append_byte(fz, b, 0);       /* panose */
	for (i = 0; i < 4; i++)
		fz_append_int32_be(fz, b, 0);   /* ulUnicodeRange */
	fz_append_string(fz, b, "NONE");
	fz_append_int16_be(fz, b, face->style_flags & FT_STYLE_FLAG_ITALIC ? 1 : 0x40);
	fz_append_int16_be(fz, b, n ? (int)map[0].ucs : 0);
	fz_append_int16_be(fz, b, n ? (int)map[n - 1].ucs : 0);
	fz_append_int16_be(fz, b, face->ascender);
	fz_append_int16_be(fz, b, face->descender);
	fz_append_int16_be(fz, b, face->height - face->ascender + face->descender);
	fz_append_int16_be(fz, b, face->ascender);
	fz_append_int16_be(fz, b, -face->descender);
	fz_append_int32_be(fz, b, 1);           /* ulCodePageRange1: Latin 1 */
	fz_append_int32_be(fz, b, 0);
	add_table(builder, "OS/2", b);

	fz_clear_buffer(fz, b);
	fz_append_int32_be(fz, b, 0x00030000);  /* post 3.0: no glyph names */
	fz_append_int32_be(fz, b, 0);           /* italicAngle */
	fz_append_int16_be(fz, b, face->underline_position);
	fz_append_int16_be(fz, b, face->underline_thickness);
	fz_append_int32_be(fz, b, FT_IS_FIXED_WIDTH(face) ? 1 : 0);
	for (i = 0; i < 4; i++)
		fz_append_int32_be(fz, b, 0);
	add_table(builder, "post", b);

	t = make_cmap(fz, map, n);
	add_table(builder, "cmap", t);
	fz_drop_buffer(fz, t);
	t = make_name(fz, family, style, ps ? ps : family);
	add_table(builder, "name", t);
	fz_drop_buffer(fz, t);
}

/* fz_lock without its debugging hooks, which exist only in debug builds
 * of MuPDF (Debian's is built with NDEBUG, our sources may not be). */
static void freetype_lock(fz_context *fz, int on)
{
	if (on)
		fz->locks.lock(fz->locks.user, FZ_LOCK_FREETYPE);
	else
		fz->locks.unlock(fz->locks.user, FZ_LOCK_FREETYPE);
}

/* The characters of UNICODES that FONT has (BMP only: a bare CFF program
 * maps glyph names, all in the BMP), in code point order, with advances in
 * font units. Returns how many. */
static int map_chars(fz_context *fz, fz_font *font, hb_set_t *unicodes, sc_map *map, FT_Fixed *adv)
{
	FT_Face face = fz_font_ft_face(fz, font);
	hb_codepoint_t ucs = HB_SET_VALUE_INVALID;
	int n = 0, i;

	while (hb_set_next(unicodes, &ucs) && ucs <= 0xFFFE) {
		int gid = fz_encode_character(fz, font, (int)ucs);
		if (gid > 0) {
			map[n].ucs = ucs;
			map[n].gid = (unsigned int)gid;
			n++;
		}
	}
	freetype_lock(fz, 1);
	for (i = 0; i < n; i++)
		if (FT_Get_Advance(face, map[i].gid, FT_LOAD_NO_SCALE, &adv[i]))
			adv[i] = 0;
	freetype_lock(fz, 0);
	return n;
}

/* An OpenType font around the bare CFF program DATA, mapping the
 * characters of UNICODES it has; NULL if that cannot be done. */
static hb_blob_t *wrap_bare_cff(fz_context *fz, const unsigned char *data, size_t len, hb_set_t *unicodes,
	int family_class)
{
	fz_font *font = NULL;
	sc_map *map = NULL;
	FT_Fixed *adv = NULL;
	hb_face_t *builder = NULL;
	hb_blob_t *cff, *out = NULL;
	fz_buffer *b = NULL;

	fz_var(font);
	fz_var(map);
	fz_var(adv);
	fz_var(builder);
	fz_var(out);
	fz_var(b);
	fz_try(fz) {
		FT_Face face;
		int n;

		font = fz_new_font_from_memory(fz, NULL, data, (int)len, 0, 0);
		face = fz_font_ft_face(fz, font);
		if (!face || face->num_glyphs <= 0 || face->num_glyphs > 0xFFFF)
			break;
		map = fz_malloc_array(fz, hb_set_get_population(unicodes), sc_map);
		adv = fz_malloc_array(fz, hb_set_get_population(unicodes), FT_Fixed);
		n = map_chars(fz, font, unicodes, map, adv);
		builder = hb_face_builder_create();
		cff = hb_blob_create((const char *)data, (unsigned int)len, HB_MEMORY_MODE_READONLY, NULL, NULL);
		hb_face_builder_add_table(builder, HB_TAG('C', 'F', 'F', ' '), cff);
		hb_blob_destroy(cff);
		b = fz_new_buffer(fz, 256);
		wrap_tables(fz, builder, face, map, adv, n, family_class, b);
		out = hb_face_reference_blob(builder);
	}
	fz_always(fz) {
		hb_face_destroy(builder);
		fz_free(fz, map);
		fz_free(fz, adv);
		fz_drop_buffer(fz, b);
		fz_drop_font(fz, font);
	}
	fz_catch(fz) {
		hb_blob_destroy(out);
		return NULL;
	}
	return out;
}

/* A bare CFF program (not an OpenType file) starts with major version 1
 * and a header size of at least 4. */
static int is_bare_cff(const unsigned char *data, size_t len)
{
	return len > 4 && data[0] == 1 && data[2] >= 4;
}

static fz_buffer *run_subset(fz_context *fz, hb_blob_t *blob, hb_set_t *unicodes)
{
	hb_face_t *face = hb_face_create(blob, 0);
	hb_subset_input_t *input = hb_subset_input_create_or_fail();
	hb_face_t *sub = NULL;
	hb_blob_t *out = NULL;
	fz_buffer *buf = NULL;
	unsigned int len = 0;
	const char *bytes;

	if (input && hb_face_get_glyph_count(face) > 0) {
		hb_set_union(hb_subset_input_unicode_set(input), unicodes);
		/* Glyph names help text extraction (and checking what was drawn). */
		hb_subset_input_set_flags(input, hb_subset_input_get_flags(input) | HB_SUBSET_FLAGS_GLYPH_NAMES);
		sub = hb_subset_or_fail(face, input);
	}
	if (sub)
		out = hb_face_reference_blob(sub);
	bytes = out ? hb_blob_get_data(out, &len) : NULL;
	fz_try(fz) {
		if (bytes && len)
			buf = fz_new_buffer_from_copied_data(fz, (const unsigned char *)bytes, len);
	}
	fz_always(fz) {
		hb_blob_destroy(out);
		hb_face_destroy(sub);
		hb_subset_input_destroy(input);
		hb_face_destroy(face);
	}
	fz_catch(fz)
		fz_rethrow(fz);
	return buf;
}

fz_buffer *signcore__font_subset(signcore_ctx *ctx, const unsigned char *data, size_t len, const char *text,
	int sans)
{
	fz_context *fz = ctx->fz;
	hb_set_t *unicodes = hb_set_create();
	hb_blob_t *blob = NULL;
	fz_buffer *sub = NULL;

	if (!data || len == 0 || len > 0x7FFFFFFF || !hb_set_allocation_successful(unicodes)) {
		hb_set_destroy(unicodes);
		return NULL;
	}
	collect_unicodes(unicodes, text);
	/* sFamilyClass 8 (sans serif) or 1 (oldstyle serif). */
	if (is_bare_cff(data, len))
		blob = wrap_bare_cff(fz, data, len, unicodes, sans ? 0x0800 : 0x0100);
	else
		blob = hb_blob_create((const char *)data, (unsigned int)len, HB_MEMORY_MODE_READONLY, NULL, NULL);
	fz_try(fz) {
		if (blob)
			sub = run_subset(fz, blob, unicodes);
	}
	fz_always(fz) {
		hb_blob_destroy(blob);
		hb_set_destroy(unicodes);
	}
	fz_catch(fz)
		fz_rethrow(fz);
	return sub;
}
