/*
 * Text in every script: the faces a piece of text needs, cut down to the
 * glyphs it uses, and the HTML that lays it out with them.
 *
 * MuPDF's story engine shapes a run with HarfBuzz in the face its CSS names
 * and falls back, character by character, to a face per script that it
 * loads once per context and embeds whole (200-260 KB for an Indic face).
 * Instead, every run of an Indic or Arabic script is put in a span of its
 * own whose face is a subset of the matching Noto face made for the text
 * at hand, so a page with a Devanagari name carries a few KB of font.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <string.h>

#include <hb.h>
#include <mupdf/ucdn.h>
#include <zlib.h>

/* The scripts with a face of their own (index into the tables below). */
enum {
	SCRIPT_LATIN,
	SCRIPT_DEVANAGARI,
	SCRIPT_BENGALI,
	SCRIPT_GURMUKHI,
	SCRIPT_GUJARATI,
	SCRIPT_TAMIL,
	SCRIPT_TELUGU,
	SCRIPT_KANNADA,
	SCRIPT_MALAYALAM,
	SCRIPT_ARABIC,
	SCRIPT_COUNT
};

static const struct {
	int bundled;   /* SC_FONT_* (Noto Sans or Naskh) */
	int ucdn;      /* for MuPDF's built-in (serif) Noto faces */
} script_faces[SCRIPT_COUNT] = {
	[SCRIPT_DEVANAGARI] = { SC_FONT_DEVANAGARI, UCDN_SCRIPT_DEVANAGARI },
	[SCRIPT_BENGALI] = { SC_FONT_BENGALI, UCDN_SCRIPT_BENGALI },
	[SCRIPT_GURMUKHI] = { SC_FONT_GURMUKHI, UCDN_SCRIPT_GURMUKHI },
	[SCRIPT_GUJARATI] = { SC_FONT_GUJARATI, UCDN_SCRIPT_GUJARATI },
	[SCRIPT_TAMIL] = { SC_FONT_TAMIL, UCDN_SCRIPT_TAMIL },
	[SCRIPT_TELUGU] = { SC_FONT_TELUGU, UCDN_SCRIPT_TELUGU },
	[SCRIPT_KANNADA] = { SC_FONT_KANNADA, UCDN_SCRIPT_KANNADA },
	[SCRIPT_MALAYALAM] = { SC_FONT_MALAYALAM, UCDN_SCRIPT_MALAYALAM },
	[SCRIPT_ARABIC] = { SC_FONT_ARABIC, UCDN_SCRIPT_ARABIC },
};

static const struct {
	int lo, hi, script;
} script_ranges[] = {
	{ 0x0600, 0x06FF, SCRIPT_ARABIC },
	{ 0x0750, 0x077F, SCRIPT_ARABIC },
	{ 0x0900, 0x097F, SCRIPT_DEVANAGARI },
	{ 0x0980, 0x09FF, SCRIPT_BENGALI },
	{ 0x0A00, 0x0A7F, SCRIPT_GURMUKHI },
	{ 0x0A80, 0x0AFF, SCRIPT_GUJARATI },
	{ 0x0B80, 0x0BFF, SCRIPT_TAMIL },
	{ 0x0C00, 0x0C7F, SCRIPT_TELUGU },
	{ 0x0C80, 0x0CFF, SCRIPT_KANNADA },
	{ 0x0D00, 0x0D7F, SCRIPT_MALAYALAM },
	{ 0x08A0, 0x08FF, SCRIPT_ARABIC },
	{ 0x1CD0, 0x1CFF, SCRIPT_DEVANAGARI },
	{ 0xA8E0, 0xA8FF, SCRIPT_DEVANAGARI },
	{ 0xFB50, 0xFDFF, SCRIPT_ARABIC },
	{ 0xFE70, 0xFEFF, SCRIPT_ARABIC },
};

static int script_of(int c)
{
	size_t i;

	if (c < 0x0600)
		return SCRIPT_LATIN;
	for (i = 0; i < sizeof script_ranges / sizeof script_ranges[0]; i++)
		if (c >= script_ranges[i].lo && c <= script_ranges[i].hi)
			return script_ranges[i].script;
	return SCRIPT_LATIN;
}

/* Characters that belong to the run around them: joiners, the dandas every
 * Indic script uses, the dotted circle, and spaces between two words of
 * one script (so a name is shaped as one run). */
static int is_joiner(int c)
{
	return c == 0x200B || c == 0x200C || c == 0x200D || c == 0x0964 || c == 0x0965 || c == 0x25CC;
}

static int is_space(int c)
{
	return c == ' ' || c == 0xA0;
}

/* The script of the run the character at S belongs to, given the script of
 * the run before it. */
static int run_script(const char *s, int prev)
{
	int c, next;

	fz_chartorune(&c, s);
	if (prev != SCRIPT_LATIN && is_joiner(c))
		return prev;
	if (prev != SCRIPT_LATIN && is_space(c)) {
		/* Stay in the run if the next letter is of the same script. */
		for (s += fz_chartorune(&c, s); *s; s += fz_chartorune(&c, s)) {
			fz_chartorune(&c, s);
			if (!is_space(c))
				break;
		}
		if (!*s)
			return SCRIPT_LATIN;
		fz_chartorune(&next, s);
		return script_of(next) == prev ? prev : SCRIPT_LATIN;
	}
	return script_of(c);
}

struct sc_fontset {
	fz_archive *arch;
	fz_buffer *css;
	fz_buffer *subs[16];
	int rtl[16];  /* the subset is an Arabic face */
	int nsubs;
	int nfiles;
	int zwsp;     /* break opportunities have a face */
};

/* Add DATA, cut down to TEXT, to the set as family FAMILY (bold or not);
 * whole when it cannot be subset. */
static void add_face(signcore_ctx *ctx, sc_fontset *fs, const char *family, int bold, const unsigned char *data,
	size_t len, const char *text, int sans, int rtl)
{
	fz_context *fz = ctx->fz;
	fz_buffer *sub, *whole = NULL;
	char name[32];

	if (fs->nsubs >= (int)(sizeof fs->subs / sizeof fs->subs[0]))
		fz_throw(fz, FZ_ERROR_GENERIC, "too many faces");
	sub = signcore__font_subset(ctx, data, len, text, sans);
	fz_snprintf(name, sizeof name, "f%d.font", fs->nfiles++);
	fz_var(whole);
	fz_try(fz) {
		if (!sub)
			whole = fz_new_buffer_from_copied_data(fz, data, len);
		fz_tree_archive_add_buffer(fz, fs->arch, name, sub ? sub : whole);
		fz_append_printf(fz, fs->css, "@font-face{font-family:%s;font-weight:%s;src:url(%s)}", family,
			bold ? "bold" : "normal", name);
	}
	fz_always(fz)
		fz_drop_buffer(fz, whole);
	fz_catch(fz) {
		fz_drop_buffer(fz, sub);
		fz_rethrow(fz);
	}
	if (sub) {
		fs->rtl[fs->nsubs] = rtl;
		fs->subs[fs->nsubs++] = sub;
	}
}

/* MuPDF's built-in faces behind our family keywords (its HTML engine's
 * choice for the CSS generic families). */
static const struct {
	const char *keyword, *builtin;
	int sans;
} builtin_families[] = {
	{ "sans", "Helvetica", 1 },
	{ "serif", "Charis SIL", 0 },
	{ "mono", "Courier", 0 },
};

/* A Latin family: FONT is a keyword above, "script", or a font file. */
static void add_latin(signcore_ctx *ctx, sc_fontset *fs, const char *family, const char *font, int bold,
	const char *text)
{
	fz_context *fz = ctx->fz;
	fz_buffer *file = NULL;
	size_t i;

	for (i = 0; i < sizeof builtin_families / sizeof builtin_families[0]; i++) {
		const unsigned char *data;
		int size = 0, w;
		if (strcmp(font, builtin_families[i].keyword))
			continue;
		for (w = 0; w <= bold; w++) {
			data = fz_lookup_builtin_font(fz, builtin_families[i].builtin, w, 0, &size);
			if (data)
				add_face(ctx, fs, family, w, data, (size_t)size, text, builtin_families[i].sans, 0);
		}
		return;
	}
	if (!strcmp(font, "script")) {
		file = signcore__font_buffer(ctx, SC_FONT_SCRIPT);
		add_face(ctx, fs, family, 0, file->data, file->len, text, 0, 0);
		return;
	}
	fz_var(file);
	fz_try(fz)
		file = fz_read_file(fz, font);
	fz_catch(fz)
		signcore__throw(ctx, SIGNCORE_ENOTFOUND, "font file %s cannot be read", font);
	fz_try(fz)
		add_face(ctx, fs, family, 0, file->data, file->len, text, 0, 0);
	fz_always(fz)
		fz_drop_buffer(fz, file);
	fz_catch(fz)
		fz_rethrow(fz);
}

void signcore__fontset_ahead(signcore_ctx *ctx, const char *font, const char *text)
{
	size_t i;

	for (i = 0; i < sizeof builtin_families / sizeof builtin_families[0]; i++) {
		const unsigned char *data;
		int size = 0;
		if (strcmp(font, builtin_families[i].keyword))
			continue;
		data = fz_lookup_builtin_font(ctx->fz, builtin_families[i].builtin, 0, 0, &size);
		if (data)
			signcore__font_subset_ahead(ctx, data, (size_t)size, text, builtin_families[i].sans);
		return;
	}
}

/* The face for SCRIPT: MuPDF's built-in (serif) Noto face for serif text,
 * the bundled Noto Sans face otherwise. */
static void add_script(signcore_ctx *ctx, sc_fontset *fs, int script, int serif, const char *text)
{
	fz_context *fz = ctx->fz;
	const unsigned char *data = NULL;
	int size = 0, subfont = 0;
	char family[16];

	fz_snprintf(family, sizeof family, "sck%d", script);
	if (serif)
		data = fz_lookup_noto_font(fz, script_faces[script].ucdn, 0, &size, &subfont);
	if (data && subfont == 0) {
		add_face(ctx, fs, family, 0, data, (size_t)size, text, 0, script == SCRIPT_ARABIC);
	} else {
		fz_buffer *file = NULL;
		fz_var(file);
		fz_try(fz)
			file = signcore__font_buffer(ctx, script_faces[script].bundled);
		fz_catch(fz) {
			/* No bundled face: MuPDF's own fallback draws the run. */
			ctx->thrown = 0;
			return;
		}
		add_face(ctx, fs, family, 0, file->data, file->len, text, 1, script == SCRIPT_ARABIC);
	}
	fz_append_printf(fz, fs->css, ".k%d{font-family:%s}", script, family);
}

sc_fontset *signcore__fontset_new(signcore_ctx *ctx, const char *font, const char *text, int flags)
{
	fz_context *fz = ctx->fz;
	sc_fontset *fs = fz_malloc_struct(fz, sc_fontset);
	int seen[SCRIPT_COUNT] = { 0 };
	const char *s;
	int c, i;

	fz_var(font);
	if (!font || !*font)
		font = "sans";
	fz_try(fz) {
		fs->arch = fz_new_tree_archive(fz, NULL);
		fs->css = fz_new_buffer(fz, 512);
		for (s = text; *s; s += fz_chartorune(&c, s)) {
			fz_chartorune(&c, s);
			seen[script_of(c)] = 1;
		}
		add_latin(ctx, fs, "scf", font, (flags & SC_FS_BOLD) != 0, text);
		if (flags & SC_FS_MONO)
			add_latin(ctx, fs, "scm", "mono", 0, text);
		for (i = 1; i < SCRIPT_COUNT; i++)
			if (seen[i])
				add_script(ctx, fs, i, !strcmp(font, "serif"), text);
		if (flags & SC_FS_BREAKS) {
			/* U+200B marks where a long word may break; the Latin
			 * faces lack it, the Noto faces draw it as nothing. */
			fz_buffer *file = signcore__font_buffer(ctx, SC_FONT_TAMIL);
			add_face(ctx, fs, "scz", 0, file->data, file->len, "\xE2\x80\x8B", 1, 0);
			fz_append_string(fz, fs->css, ".z{font-family:scz}");
			fs->zwsp = 1;
		}
		fz_append_string(fz, fs->css, "@page{font-family:scf}body{font-family:scf}"
			".m{font-family:scm}");
		fz_terminate_buffer(fz, fs->css);
	}
	fz_catch(fz) {
		signcore__fontset_drop(ctx, fs);
		fz_rethrow(fz);
	}
	return fs;
}

void signcore__fontset_drop(signcore_ctx *ctx, sc_fontset *fs)
{
	int i;

	if (!fs)
		return;
	for (i = 0; i < fs->nsubs; i++)
		fz_drop_buffer(ctx->fz, fs->subs[i]);
	fz_drop_archive(ctx->fz, fs->arch);
	fz_drop_buffer(ctx->fz, fs->css);
	fz_free(ctx->fz, fs);
}

const char *signcore__fontset_css(const sc_fontset *fs)
{
	return (const char *)fs->css->data;
}

fz_archive *signcore__fontset_archive(const sc_fontset *fs)
{
	return fs->arch;
}

static void append_escaped(fz_context *fz, fz_buffer *buf, int c, int flags)
{
	switch (c) {
	case '&': fz_append_string(fz, buf, "&amp;"); break;
	case '<': fz_append_string(fz, buf, "&lt;"); break;
	case '>': fz_append_string(fz, buf, "&gt;"); break;
	case '"': fz_append_string(fz, buf, "&quot;"); break;
	case '\r': break;
	case '\n':
		if (flags & SC_TEXT_BR)
			fz_append_string(fz, buf, "<br/>");
		else
			fz_append_byte(fz, buf, '\n');
		break;
	default:
		if (c < 0x20 && c != '\t')
			break; /* control characters draw as boxes */
		fz_append_rune(fz, buf, c);
	}
}

/* Where a long word may break: after the separators of addresses and
 * identifiers, and every 12 characters of a run of 16 or more without one. */
static int is_separator(int c)
{
	return c && strchr("@./-_:;,=&?+|\\", c) != NULL;
}

void signcore__text_html(signcore_ctx *ctx, const sc_fontset *fs, fz_buffer *html, const char *text, int flags)
{
	fz_context *fz = ctx->fz;
	int cur = SCRIPT_LATIN, c, run = 0;
	const char *s = text;
	int breaks = (flags & SC_TEXT_BREAKS) && fs && fs->zwsp;

	while (*s) {
		int script = run_script(s, cur);
		if (script != cur) {
			if (cur != SCRIPT_LATIN)
				fz_append_string(fz, html, "</span>");
			if (script != SCRIPT_LATIN)
				fz_append_printf(fz, html, "<span class=\"k%d\">", script);
			cur = script;
		}
		s += fz_chartorune(&c, s);
		if (cur == SCRIPT_LATIN && (c == 0x200B || c == 0x200C || c == 0x200D || c == 0xFEFF)) {
			/* Invisible, and missing from the Latin faces: drawn
			 * with the face that has it, or not at all. */
			if (c == 0x200B && fs && fs->zwsp)
				fz_append_string(fz, html, "<span class=\"z\">\xE2\x80\x8B</span>");
			run = 0;
			continue;
		}
		append_escaped(fz, html, c, flags);
		if (c == ' ' || c == '\n' || c == '\t')
			run = 0;
		else
			run++;
		if (breaks && cur == SCRIPT_LATIN && *s && c < 128 && *s > ' ' && (unsigned char)*s < 128 &&
			(is_separator(c) || run >= 16)) {
			fz_append_string(fz, html, "<span class=\"z\">\xE2\x80\x8B</span>");
			run = 0;
		}
	}
	if (cur != SCRIPT_LATIN)
		fz_append_string(fz, html, "</span>");
}

/* ------------------------------------------------ fonts in the output */

static void append_utf16_hex(fz_context *fz, fz_buffer *buf, int unit)
{
	static const char hex[] = "0123456789ABCDEF";
	int shift;

	/* fz_append_printf has no %04X, so spell the digits out. */
	for (shift = 12; shift >= 0; shift -= 4)
		fz_append_byte(fz, buf, hex[(unit >> shift) & 15]);
}



/*
 * The writer would deflate the font programs MuPDF embeds at the default
 * level on every save, which costs more than the signature itself. Deflate
 * them here at the fastest level instead and store them compressed. Whole
 * fonts (user files that cannot be subset) are deflated once per context
 * and font; subsets change with the text.
 */
static fz_buffer *deflate_fast(signcore_ctx *ctx, fz_buffer *raw, int cache)
{
	fz_context *fz = ctx->fz;
	unsigned long crc = cache ? crc32(0L, raw->data, (uInt)raw->len) : 0;
	fz_buffer *z;
	int i;

	for (i = 0; cache && i < ctx->nzfonts; i++)
		if (ctx->zfonts[i].crc == crc && ctx->zfonts[i].len == raw->len)
			return fz_keep_buffer(fz, ctx->zfonts[i].z);
	if (!(z = signcore__deflate(ctx, raw->data, raw->len, Z_BEST_SPEED)))
		return NULL;
	if (cache && ctx->nzfonts < (int)(sizeof ctx->zfonts / sizeof ctx->zfonts[0])) {
		ctx->zfonts[ctx->nzfonts].crc = crc;
		ctx->zfonts[ctx->nzfonts].len = raw->len;
		ctx->zfonts[ctx->nzfonts].z = fz_keep_buffer(fz, z);
		ctx->nzfonts++;
	}
	return z;
}

/* 1 + the index of the subset of FS that RAW is, or 0. */
static int is_subset(const sc_fontset *fs, fz_buffer *raw)
{
	int i;

	for (i = 0; fs && i < fs->nsubs; i++)
		if (raw->len == fs->subs[i]->len && !memcmp(raw->data, fs->subs[i]->data, raw->len))
			return i + 1;
	return 0;
}

/* Deflate the font program FF unless already done. Returns 1 + the index
 * of the subset of FS it is, or 0. */
static int compress_stream(signcore_ctx *ctx, const sc_fontset *fs, pdf_document *pdf, pdf_obj *ff)
{
	fz_context *fz = ctx->fz;
	fz_buffer *raw = NULL, *z = NULL;
	int sub = 0;

	if (!pdf_is_stream(fz, ff) || pdf_dict_get(fz, ff, PDF_NAME(Filter)))
		return 0;
	fz_var(raw);
	fz_var(z);
	fz_var(sub);
	fz_try(fz) {
		raw = pdf_load_raw_stream(fz, ff);
		sub = is_subset(fs, raw);
		if (raw->len > 1024 && (z = deflate_fast(ctx, raw, !sub))) {
			pdf_dict_put(fz, ff, PDF_NAME(Filter), PDF_NAME(FlateDecode));
			pdf_update_stream(fz, pdf, ff, z, 1);
		}
	}
	fz_always(fz) {
		fz_drop_buffer(fz, raw);
		fz_drop_buffer(fz, z);
	}
	fz_catch(fz)
		fz_rethrow(fz);
	return sub;
}

/* ISO 32000-1 9.6.4: the name of an embedded subset starts with a tag of
 * six upper-case letters and a plus sign; here derived from the object. */
static void tag_subset(fz_context *fz, pdf_obj *font, pdf_obj *cidfont, pdf_obj *desc, pdf_obj *ff)
{
	unsigned long h = crc32(0L, NULL, 0);
	const char *base = pdf_dict_get_name(fz, cidfont, PDF_NAME(BaseFont));
	char name[128], num[16];
	int i;

	fz_snprintf(num, sizeof num, "%d", pdf_to_num(fz, ff));
	h = crc32(h, (const unsigned char *)num, (uInt)strlen(num));
	if (base)
		h = crc32(h, (const unsigned char *)base, (uInt)strlen(base));
	for (i = 0; i < 6; i++, h /= 26)
		name[i] = (char)('A' + h % 26);
	name[6] = '+';
	fz_strlcpy(name + 7, base && *base ? base : "Font", sizeof name - 7);
	pdf_dict_put_name(fz, font, PDF_NAME(BaseFont), name);
	pdf_dict_put_name(fz, cidfont, PDF_NAME(BaseFont), name);
	pdf_dict_put_name(fz, desc, PDF_NAME(FontName), name);
}

/*
 * Arabic is drawn in contextual forms (initial, medial, final, lam-alef
 * ligatures) that the font's cmap does not reach, so the ToUnicode map
 * MuPDF derives from the cmap leaves them out and extractors lose most
 * letters. /ActualText is no cure here: poppler spreads its characters
 * left to right and then reverses the right-to-left line. Instead the map
 * is completed by shaping each letter of the subset in every joining
 * context (between tatweels) and recording which glyph stands for it.
 */
typedef struct {
	unsigned int gid;
	unsigned int ucs[2];
	int n;
} sc_gmap;

static int gmap_find(const sc_gmap *m, int n, unsigned int gid)
{
	int i;

	for (i = 0; i < n; i++)
		if (m[i].gid == gid)
			return i;
	return -1;
}

/* Shape the code points CP (N of them, the letter(s) at FIRST) and map the
 * glyph of cluster FIRST to the letters CP[FIRST..FIRST+LEN). */
static int shape_map(hb_font_t *font, const hb_codepoint_t *cp, int n, int first, int len, sc_gmap *m, int nm, int cap)
{
	hb_buffer_t *b = hb_buffer_create();
	hb_glyph_info_t *info;
	unsigned int count = 0, i;

	hb_buffer_add_codepoints(b, cp, n, 0, n);
	hb_buffer_set_direction(b, HB_DIRECTION_RTL);
	hb_buffer_set_script(b, HB_SCRIPT_ARABIC);
	hb_buffer_set_language(b, hb_language_from_string("ar", 2));
	hb_shape(font, b, NULL, 0);
	info = hb_buffer_get_glyph_infos(b, &count);
	for (i = 0; i < count && nm < cap; i++) {
		int k;
		if ((int)info[i].cluster != first || info[i].codepoint == 0 || gmap_find(m, nm, info[i].codepoint) >= 0)
			continue;
		m[nm].gid = info[i].codepoint;
		m[nm].n = len;
		for (k = 0; k < len; k++)
			m[nm].ucs[k] = cp[first + k];
		nm++;
		break; /* marks in the cluster keep their cmap entries */
	}
	hb_buffer_destroy(b);
	return nm;
}

static void arabic_to_unicode(signcore_ctx *ctx, pdf_document *pdf, pdf_obj *font, fz_buffer *sub)
{
	static const hb_codepoint_t alefs[] = { 0x0627, 0x0622, 0x0623, 0x0625 };
	fz_context *fz = ctx->fz;
	hb_blob_t *blob = hb_blob_create((const char *)sub->data, (unsigned int)sub->len, HB_MEMORY_MODE_READONLY, NULL, NULL);
	hb_face_t *face = hb_face_create(blob, 0);
	hb_font_t *hf = hb_font_create(face);
	hb_set_t *uni = hb_set_create();
	hb_codepoint_t u = HB_SET_VALUE_INVALID, g;
	sc_gmap *m = NULL;
	fz_buffer *cmap = NULL;
	int nm = 0, cap = 0, i, k;

	hb_face_collect_unicodes(face, uni);
	cap = (int)hb_set_get_population(uni) * 5 + 16;
	fz_var(m);
	fz_var(cmap);
	fz_try(fz) {
		m = fz_malloc_array(fz, cap, sc_gmap);
		/* What the cmap reaches. */
		while (hb_set_next(uni, &u))
			if (hb_font_get_nominal_glyph(hf, u, &g) && g && gmap_find(m, nm, g) < 0 && nm < cap) {
				m[nm].gid = g;
				m[nm].ucs[0] = u;
				m[nm].n = 1;
				nm++;
			}
		/* Each letter in its four joining contexts. */
		u = HB_SET_VALUE_INVALID;
		while (hb_set_next(uni, &u)) {
			hb_codepoint_t cp[3] = { 0x0640, u, 0x0640 };
			if (u < 0x0620 || u > 0x06FF || u == 0x0640)
				continue;
			nm = shape_map(hf, cp, 3, 1, 1, m, nm, cap);      /* medial */
			nm = shape_map(hf, cp, 2, 1, 1, m, nm, cap);      /* final */
			nm = shape_map(hf, cp + 1, 2, 0, 1, m, nm, cap);  /* initial */
		}
		/* Lam-alef ligatures, alone and joined. */
		for (k = 0; k < 4; k++) {
			hb_codepoint_t cp[3] = { 0x0640, 0x0644, alefs[k] };
			if (!hb_set_has(uni, alefs[k]) || !hb_set_has(uni, 0x0644))
				continue;
			nm = shape_map(hf, cp + 1, 2, 0, 2, m, nm, cap);
			nm = shape_map(hf, cp, 3, 1, 2, m, nm, cap);
		}
		cmap = fz_new_buffer(fz, 256 + 32 * (size_t)nm);
		fz_append_string(fz, cmap, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
			"/CIDSystemInfo <</Registry(Adobe)/Ordering(UCS)/Supplement 0>> def\n"
			"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
			"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
		for (i = 0; i < nm; i += 100) {
			int end = i + 100 < nm ? i + 100 : nm, j;
			fz_append_printf(fz, cmap, "%d beginbfchar\n", end - i);
			for (j = i; j < end; j++) {
				fz_append_byte(fz, cmap, '<');
				append_utf16_hex(fz, cmap, (int)m[j].gid);
				fz_append_string(fz, cmap, "> <");
				for (k = 0; k < m[j].n; k++)
					append_utf16_hex(fz, cmap, (int)m[j].ucs[k]);
				fz_append_string(fz, cmap, ">\n");
			}
			fz_append_string(fz, cmap, "endbfchar\n");
		}
		fz_append_string(fz, cmap, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
		{
			pdf_obj *tu = pdf_add_stream(fz, pdf, cmap, NULL, 0);
			pdf_dict_put_drop(fz, font, PDF_NAME(ToUnicode), tu);
		}
	}
	fz_always(fz) {
		fz_free(fz, m);
		fz_drop_buffer(fz, cmap);
		hb_set_destroy(uni);
		hb_font_destroy(hf);
		hb_face_destroy(face);
		hb_blob_destroy(blob);
	}
	fz_catch(fz)
		fz_rethrow(fz);
}

void signcore__fontset_finish(signcore_ctx *ctx, const sc_fontset *fs, pdf_document *pdf, pdf_obj *res)
{
	static const char *const keys[] = { "FontFile", "FontFile2", "FontFile3" };
	fz_context *fz = ctx->fz;
	pdf_obj *fonts = pdf_dict_get(fz, res, PDF_NAME(Font));
	int i, n = pdf_dict_len(fz, fonts);
	size_t k;

	for (i = 0; i < n; i++) {
		pdf_obj *f = pdf_dict_get_val(fz, fonts, i);
		pdf_obj *cidfont = pdf_array_get(fz, pdf_dict_get(fz, f, PDF_NAME(DescendantFonts)), 0);
		pdf_obj *desc;
		if (!cidfont)
			cidfont = f;
		desc = pdf_dict_get(fz, cidfont, PDF_NAME(FontDescriptor));
		for (k = 0; k < 3; k++) {
			pdf_obj *ff = pdf_dict_gets(fz, desc, keys[k]);
			int sub = compress_stream(ctx, fs, pdf, ff);
			if (sub) {
				tag_subset(fz, f, cidfont, desc, ff);
				if (fs->rtl[sub - 1])
					arabic_to_unicode(ctx, pdf, f, fs->subs[sub - 1]);
			}
		}
	}
}

/* ------------------------------------------------------- extraction */

int signcore__needs_actual_text(const char *s)
{
	int c, rtl = 0, indic = 0;

	while (*s) {
		s += fz_chartorune(&c, s);
		if (script_of(c) == SCRIPT_ARABIC)
			rtl = 1;
		else if (script_of(c) != SCRIPT_LATIN)
			indic = 1;
	}
	return indic || !rtl;
}

void signcore__actual_text(fz_context *fz, fz_buffer *buf, const char *s)
{
	int c;

	fz_append_string(fz, buf, "/Span <</ActualText <FEFF");
	while (*s) {
		s += fz_chartorune(&c, s);
		if (c == '\r' || (c < 0x20 && c != '\n' && c != '\t'))
			continue;
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
