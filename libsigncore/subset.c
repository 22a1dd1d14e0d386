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
 * The work needs no MuPDF context (FreeType and HarfBuzz only, and plain
 * memory), so the first signature in a process can have a subset cut on
 * another CPU while it lays out something else (signcore__font_subset_ahead).
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <stdlib.h>
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

/* Tables are built in an sc_der (der.c's growable buffer, no MuPDF). */
static void put16(sc_der *b, int v)
{
	unsigned char x[2] = { (unsigned char)(v >> 8), (unsigned char)v };
	sc_der_raw(b, x, 2);
}

static void put32(sc_der *b, unsigned int v)
{
	unsigned char x[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v };
	sc_der_raw(b, x, 4);
}

/* Add B as table TAG and empty B for the next one. */
static void add_table(hb_face_t *builder, const char *tag, sc_der *b)
{
	hb_blob_t *blob = hb_blob_create((const char *)b->p, (unsigned int)b->len, HB_MEMORY_MODE_DUPLICATE, NULL, NULL);

	hb_face_builder_add_table(builder, hb_tag_from_string(tag, 4), blob);
	hb_blob_destroy(blob);
	b->len = 0;
}

/* A code point -> glyph pair of the wrapper's cmap. */
typedef struct {
	unsigned int ucs, gid;
	int adv;
} sc_map;

/* cmap with one format 4 subtable (Windows, Unicode BMP), one segment per
 * character: the subsetter rebuilds it compactly anyway. */
static void make_cmap(sc_der *b, const sc_map *map, int n)
{
	int segs = n + 1, i, pow2 = 1, log2 = 0;

	while (pow2 * 2 <= segs) {
		pow2 *= 2;
		log2++;
	}
	put16(b, 0);          /* version */
	put16(b, 1);          /* one encoding record */
	put16(b, 3);          /* Windows */
	put16(b, 1);          /* Unicode BMP */
	put32(b, 12);         /* subtable offset */
	put16(b, 4);          /* format */
	put16(b, 16 + 8 * segs);
	put16(b, 0);          /* language */
	put16(b, 2 * segs);
	put16(b, 2 * pow2);
	put16(b, log2);
	put16(b, 2 * segs - 2 * pow2);
	for (i = 0; i < n; i++)
		put16(b, (int)map[i].ucs); /* endCode */
	put16(b, 0xFFFF);
	put16(b, 0);          /* reservedPad */
	for (i = 0; i < n; i++)
		put16(b, (int)map[i].ucs); /* startCode */
	put16(b, 0xFFFF);
	for (i = 0; i < n; i++)
		put16(b, (int)((map[i].gid - map[i].ucs) & 0xFFFF)); /* idDelta */
	put16(b, 1);
	for (i = 0; i <= n; i++)
		put16(b, 0);  /* idRangeOffset */
}

static void put_name_record(sc_der *dir, int id, int len, int off)
{
	put16(dir, 3);         /* Windows */
	put16(dir, 1);         /* Unicode BMP */
	put16(dir, 0x409);     /* en-US */
	put16(dir, id);
	put16(dir, len);
	put16(dir, off);
}

static void put_utf16(sc_der *b, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		put16(b, *p < 128 ? *p : '?');
}

/* name: family, subfamily, full and PostScript names, which MuPDF uses to
 * name the font in the PDF. */
static void make_name(sc_der *dir, const char *family, const char *style, const char *ps)
{
	const char *strs[4] = { family, style, NULL, ps };
	static const int ids[4] = { 1, 2, 4, 6 };
	sc_der str = { 0 };
	int i;

	put16(dir, 0);
	put16(dir, 4);
	put16(dir, 6 + 4 * 12);
	for (i = 0; i < 4; i++) {
		int off = (int)str.len;
		if (strs[i]) {
			put_utf16(&str, strs[i]);
		} else {
			put_utf16(&str, family);
			put16(&str, ' ');
			put_utf16(&str, style);
		}
		put_name_record(dir, ids[i], (int)str.len - off, off);
	}
	sc_der_raw(dir, str.p, str.len);
	if (str.oom)
		dir->oom = 1;
	sc_der_free(&str);
}

/* The sfnt tables around a bare CFF program. FACE is the program opened by
 * FreeType; MAP the characters to keep, with their advances. */
static void wrap_tables(hb_face_t *builder, FT_Face face, const sc_map *map, int n, int family_class, sc_der *b)
{
	int nglyphs = (int)face->num_glyphs, i, g, max_adv = 0;
	const char *family = face->family_name ? face->family_name : "Font";
	const char *style = face->style_name ? face->style_name : "Regular";
	const char *ps = FT_Get_Postscript_Name(face);
	int *advs;

	for (i = 0; i < n; i++)
		if (map[i].adv > max_adv)
			max_adv = map[i].adv;
	put32(b, 0x00010000);  /* head: version */
	put32(b, 0x00010000);  /* fontRevision */
	put32(b, 0);           /* checkSumAdjustment */
	put32(b, 0x5F0F3CF5);  /* magicNumber */
	put16(b, 3);           /* flags: baseline and lsb at 0 */
	put16(b, face->units_per_EM);
	for (i = 0; i < 4; i++)
		put32(b, 0);   /* created, modified */
	put16(b, (int)face->bbox.xMin);
	put16(b, (int)face->bbox.yMin);
	put16(b, (int)face->bbox.xMax);
	put16(b, (int)face->bbox.yMax);
	put16(b, (face->style_flags & FT_STYLE_FLAG_BOLD ? 1 : 0) |
		(face->style_flags & FT_STYLE_FLAG_ITALIC ? 2 : 0));
	put16(b, 3);           /* lowestRecPPEM */
	put16(b, 2);           /* fontDirectionHint */
	put16(b, 0);           /* indexToLocFormat */
	put16(b, 0);           /* glyphDataFormat */
	add_table(builder, "head", b);

	put32(b, 0x00010000);  /* hhea: version */
	put16(b, face->ascender);
	put16(b, face->descender);
	put16(b, face->height - face->ascender + face->descender);
	put16(b, max_adv);
	put16(b, (int)face->bbox.xMin);     /* minLeftSideBearing */
	put16(b, 0);                        /* minRightSideBearing */
	put16(b, (int)face->bbox.xMax);     /* xMaxExtent */
	put16(b, 1);                        /* caretSlopeRise */
	for (i = 0; i < 7; i++)
		put16(b, 0);   /* caretSlopeRun .. metricDataFormat */
	put16(b, nglyphs);     /* numberOfHMetrics */
	add_table(builder, "hhea", b);

	/* Advances matter only for the glyphs kept (the rest is cut):
	 * zero for the others, where the map has no entry. */
	if (!(advs = calloc((size_t)nglyphs, sizeof *advs))) {
		b->oom = 1;
		return;
	}
	for (i = 0; i < n; i++)
		advs[map[i].gid] = map[i].adv;
	for (g = 0; g < nglyphs; g++) {
		put16(b, advs[g]);
		put16(b, 0);
	}
	free(advs);
	add_table(builder, "hmtx", b);

	put32(b, 0x00005000);  /* maxp 0.5, for CFF outlines */
	put16(b, nglyphs);
	add_table(builder, "maxp", b);

	put16(b, 1);           /* OS/2 version 1 */
	put16(b, max_adv / 2); /* xAvgCharWidth */
	put16(b, face->style_flags & FT_STYLE_FLAG_BOLD ? 700 : 400);
	put16(b, 5);           /* usWidthClass: normal */
	put16(b, 0);           /* fsType: installable */
	for (i = 0; i < 8; i++)
		put16(b, face->units_per_EM / 2); /* sub/superscript */
	put16(b, face->underline_thickness);
	put16(b, face->units_per_EM / 4);
	/* MuPDF picks serif or sans fallback faces by this class. */
	put16(b, family_class);
	for (i = 0; i < 10; i++)
		sc_der_raw(b, "", 1);  /* panose */
	for (i = 0; i < 4; i++)
		put32(b, 0);   /* ulUnicodeRange */
	sc_der_raw(b, "NONE", 4);
	put16(b, face->style_flags & FT_STYLE_FLAG_ITALIC ? 1 : 0x40);
	put16(b, n ? (int)map[0].ucs : 0);
	put16(b, n ? (int)map[n - 1].ucs : 0);
	put16(b, face->ascender);
	put16(b, face->descender);
	put16(b, face->height - face->ascender + face->descender);
	put16(b, face->ascender);
	put16(b, -face->descender);
	put32(b, 1);           /* ulCodePageRange1: Latin 1 */
	put32(b, 0);
	add_table(builder, "OS/2", b);

	put32(b, 0x00030000);  /* post 3.0: no glyph names */
	put32(b, 0);           /* italicAngle */
	put16(b, face->underline_position);
	put16(b, face->underline_thickness);
	put32(b, FT_IS_FIXED_WIDTH(face) ? 1 : 0);
	for (i = 0; i < 4; i++)
		put32(b, 0);
	add_table(builder, "post", b);

	make_cmap(b, map, n);
	add_table(builder, "cmap", b);
	make_name(b, family, style, ps ? ps : family);
	add_table(builder, "name", b);
}

/* The characters of UNICODES that FACE has (BMP only: a bare CFF program
 * maps glyph names, all in the BMP), in code point order, with advances in
 * font units. Returns how many. */
static int map_chars(FT_Face face, hb_set_t *unicodes, sc_map *map)
{
	hb_codepoint_t ucs = HB_SET_VALUE_INVALID;
	int n = 0;

	while (hb_set_next(unicodes, &ucs) && ucs <= 0xFFFE) {
		FT_UInt gid = FT_Get_Char_Index(face, ucs);
		FT_Fixed adv = 0;
		if (gid == 0 || gid >= (FT_UInt)face->num_glyphs)
			continue;
		if (FT_Get_Advance(face, gid, FT_LOAD_NO_SCALE, &adv))
			adv = 0;
		map[n].ucs = ucs;
		map[n].gid = gid;
		map[n].adv = (int)adv;
		n++;
	}
	return n;
}

/* An OpenType font around the bare CFF program DATA (opened by FreeType
 * as FACE), mapping the characters of UNICODES it has; NULL if that
 * cannot be done. */
static hb_blob_t *wrap_bare_cff(FT_Face face, const unsigned char *data, size_t len, hb_set_t *unicodes,
	int family_class)
{
	hb_face_t *builder;
	hb_blob_t *cff, *out = NULL;
	sc_der b = { 0 };
	sc_map *map;
	int n;

	if (!face || face->num_glyphs <= 0 || face->num_glyphs > 0xFFFF)
		return NULL;
	if (FT_Select_Charmap(face, FT_ENCODING_UNICODE))
		return NULL;
	if (!(map = calloc(hb_set_get_population(unicodes) + 1, sizeof *map)))
		return NULL;
	n = map_chars(face, unicodes, map);
	builder = hb_face_builder_create();
	cff = hb_blob_create((const char *)data, (unsigned int)len, HB_MEMORY_MODE_READONLY, NULL, NULL);
	hb_face_builder_add_table(builder, HB_TAG('C', 'F', 'F', ' '), cff);
	hb_blob_destroy(cff);
	wrap_tables(builder, face, map, n, family_class, &b);
	if (!b.oom)
		out = hb_face_reference_blob(builder);
	hb_face_destroy(builder);
	sc_der_free(&b);
	free(map);
	return out;
}

/* A bare CFF program (not an OpenType file) starts with major version 1
 * and a header size of at least 4. */
static int is_bare_cff(const unsigned char *data, size_t len)
{
	return len > 4 && data[0] == 1 && data[2] >= 4;
}

static hb_blob_t *run_subset(hb_blob_t *blob, hb_set_t *unicodes)
{
	hb_face_t *face = hb_face_create(blob, 0);
	hb_subset_input_t *input = hb_subset_input_create_or_fail();
	hb_face_t *sub = NULL;
	hb_blob_t *out = NULL;

	if (input && hb_face_get_glyph_count(face) > 0) {
		hb_set_union(hb_subset_input_unicode_set(input), unicodes);
		/* Glyph names help text extraction (and checking what was drawn). */
		hb_subset_input_set_flags(input, hb_subset_input_get_flags(input) | HB_SUBSET_FLAGS_GLYPH_NAMES);
		sub = hb_subset_or_fail(face, input);
	}
	if (sub)
		out = hb_face_reference_blob(sub);
	if (out && hb_blob_get_length(out) == 0) {
		hb_blob_destroy(out);
		out = NULL;
	}
	hb_face_destroy(sub);
	hb_subset_input_destroy(input);
	hb_face_destroy(face);
	return out;
}

/* DATA cut down to TEXT, or NULL. A bare CFF program is opened by
 * FreeType as FACE (NULL: with a FreeType library of our own). */
static hb_blob_t *subset_blob(FT_Face face, const unsigned char *data, size_t len, const char *text, int sans)
{
	hb_set_t *unicodes;
	hb_blob_t *blob = NULL, *sub = NULL;

	if (!data || len == 0 || len > 0x7FFFFFFF)
		return NULL;
	unicodes = hb_set_create();
	if (!hb_set_allocation_successful(unicodes)) {
		hb_set_destroy(unicodes);
		return NULL;
	}
	collect_unicodes(unicodes, text);
	if (is_bare_cff(data, len)) {
		/* sFamilyClass 8 (sans serif) or 1 (oldstyle serif). */
		int family_class = sans ? 0x0800 : 0x0100;
		if (face) {
			blob = wrap_bare_cff(face, data, len, unicodes, family_class);
		} else {
			FT_Library lib;
			if (!FT_Init_FreeType(&lib)) {
				if (!FT_New_Memory_Face(lib, data, (FT_Long)len, 0, &face)) {
					blob = wrap_bare_cff(face, data, len, unicodes, family_class);
					FT_Done_Face(face);
				}
				FT_Done_FreeType(lib);
			}
		}
	} else {
		blob = hb_blob_create((const char *)data, (unsigned int)len, HB_MEMORY_MODE_READONLY, NULL, NULL);
	}
	if (blob)
		sub = run_subset(blob, unicodes);
	hb_blob_destroy(blob);
	hb_set_destroy(unicodes);
	return sub;
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

/* ------------------------------------------------- cutting on another CPU */

struct sc_ahead {
	sc_side *side;
	const unsigned char *data;
	size_t len;
	char *text;
	int sans;
	hb_blob_t *out;
};

static void ahead_job(void *arg)
{
	sc_ahead *a = arg;

	a->out = subset_blob(NULL, a->data, a->len, a->text, a->sans);
}

void signcore__font_subset_ahead(signcore_ctx *ctx, const unsigned char *data, size_t len, const char *text, int sans)
{
	sc_ahead *a;

	signcore__font_subset_ahead_drop(ctx);
	if (!data || !text || !(a = calloc(1, sizeof *a)))
		return;
	a->data = data;
	a->len = len;
	a->sans = sans;
	if (!(a->text = strdup(text)) || !(a->side = signcore__side_start(ahead_job, a))) {
		free(a->text);
		free(a);
		return;
	}
	ctx->ahead = a;
}

/* The subset cut ahead for exactly these arguments: 1 and *OUT (NULL if it
 * could not be made), or 0 when there is none and the caller cuts it. */
static int take_ahead(signcore_ctx *ctx, const unsigned char *data, size_t len, const char *text, int sans,
	hb_blob_t **out)
{
	sc_ahead *a = ctx->ahead;
	int ran;

	if (!a || a->data != data || a->len != len || a->sans != sans || strcmp(a->text, text))
		return 0;
	ctx->ahead = NULL;
	ran = signcore__side_join(a->side);
	*out = a->out;
	free(a->text);
	free(a);
	return ran;
}

void signcore__font_subset_ahead_drop(signcore_ctx *ctx)
{
	sc_ahead *a = ctx->ahead;

	if (!a)
		return;
	ctx->ahead = NULL;
	signcore__side_join(a->side);
	hb_blob_destroy(a->out);
	free(a->text);
	free(a);
}

/* A bare CFF program opened by MuPDF's FreeType, kept for the context:
 * opening one (the built-in faces have 650-1,000 glyphs, whose names
 * FreeType maps to Unicode on opening) costs more than wrapping it, and
 * every field drawn in a built-in face wraps it again. Keyed by content:
 * DATA may be a caller's buffer, so the font keeps a copy. */
static fz_font *cff_font(signcore_ctx *ctx, const unsigned char *data, size_t len)
{
	fz_context *fz = ctx->fz;
	fz_buffer *copy;
	fz_font *font = NULL;
	int i;

	for (i = 0; i < ctx->ncff; i++)
		if (ctx->cff[i].data->len == len && !memcmp(ctx->cff[i].data->data, data, len))
			return fz_keep_font(fz, ctx->cff[i].font);
	copy = fz_new_buffer_from_copied_data(fz, data, len);
	fz_var(font);
	fz_try(fz) {
		font = fz_new_font_from_buffer(fz, NULL, copy, 0, 0);
		if (ctx->ncff < (int)(sizeof ctx->cff / sizeof ctx->cff[0])) {
			ctx->cff[ctx->ncff].data = fz_keep_buffer(fz, copy);
			ctx->cff[ctx->ncff].font = fz_keep_font(fz, font);
			ctx->ncff++;
		}
	}
	fz_always(fz)
		fz_drop_buffer(fz, copy);
	fz_catch(fz)
		fz_rethrow(fz);
	return font;
}

void signcore__font_cache_free(signcore_ctx *ctx)
{
	int i;

	for (i = 0; i < ctx->ncff; i++) {
		fz_drop_font(ctx->fz, ctx->cff[i].font);
		fz_drop_buffer(ctx->fz, ctx->cff[i].data);
	}
	ctx->ncff = 0;
}

fz_buffer *signcore__font_subset(signcore_ctx *ctx, const unsigned char *data, size_t len, const char *text,
	int sans)
{
	fz_context *fz = ctx->fz;
	hb_blob_t *sub = NULL;
	fz_font *font = NULL;
	fz_buffer *buf = NULL;
	const char *bytes;
	unsigned int n = 0;

	fz_var(sub);
	fz_var(font);
	fz_var(buf);
	if (!take_ahead(ctx, data, len, text, sans, &sub)) {
		if (is_bare_cff(data, len)) {
			/* MuPDF's FreeType library, under its lock. */
			fz_try(fz)
				font = cff_font(ctx, data, len);
			fz_catch(fz)
				return NULL;
			freetype_lock(fz, 1);
			sub = subset_blob(fz_font_ft_face(fz, font), data, len, text, sans);
			freetype_lock(fz, 0);
			fz_drop_font(fz, font);
		} else {
			sub = subset_blob(NULL, data, len, text, sans);
		}
	}
	bytes = sub ? hb_blob_get_data(sub, &n) : NULL;
	fz_try(fz) {
		if (bytes && n)
			buf = fz_new_buffer_from_copied_data(fz, (const unsigned char *)bytes, n);
	}
	fz_always(fz)
		hb_blob_destroy(sub);
	fz_catch(fz)
		fz_rethrow(fz);
	return buf;
}
