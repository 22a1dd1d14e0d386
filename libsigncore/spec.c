/*
 * Field specs and values files (JSON).
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef enum { SCV_NONE, SCV_TEXT, SCV_BOOL, SCV_IMAGE } scv_kind;

typedef struct {
	char path[64];               /* "fields[2]" or "values.name", for messages */
	signcore_field_spec fs;      /* strings borrowed from the JSON tree */
	scv_kind kind;
	const char *text;
	int checked;
	unsigned char *image;
	size_t image_len;
} sc_item;

struct signcore_spec {
	signcore_ctx *ctx;
	json_t *root;
	sc_item *items;
	size_t count;
	int is_values;               /* a values file: names and values only */
};

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+' || c == '-') return 62;
	if (c == '/' || c == '_') return 63;
	return -1;
}

static unsigned char *b64decode(const char *s, size_t *outlen)
{
	size_t n = strlen(s), o = 0;
	unsigned char *out = malloc(n / 4 * 3 + 4);
	unsigned acc = 0;
	int bits = 0, v;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (*s == '=' || *s == '\n' || *s == '\r' || *s == ' ')
			continue;
		if ((v = b64val((unsigned char)*s)) < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*outlen = o;
	return out;
}

static int read_file(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		errno = EIO;
		return -1;
	}
	*data = malloc((size_t)n + 1);
	if (!*data || fread(*data, 1, (size_t)n, f) != (size_t)n) {
		free(*data);
		*data = NULL;
		fclose(f);
		errno = EIO;
		return -1;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

/* {"image": "file or data: URL"}: read and check the bytes now. */
static int load_image(signcore_spec *sp, sc_item *it, const char *src, const char *base_dir, const char *where)
{
	signcore_ctx *ctx = sp->ctx;
	fz_image *img = NULL;

	if (!strncmp(src, "data:", 5)) {
		const char *comma = strchr(src, ',');
		if (!comma || !strstr(src, ";base64") || strstr(src, ";base64") > comma)
			return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: data: URL must be base64 (data:image/png;base64,...)", where);
		it->image = b64decode(comma + 1, &it->image_len);
		if (!it->image)
			return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: data: URL holds invalid base64", where);
	} else {
		char path[4096];
		if (src[0] == '/' || !base_dir || !*base_dir)
			snprintf(path, sizeof path, "%s", src);
		else
			snprintf(path, sizeof path, "%s/%s", base_dir, src);
		if (read_file(path, &it->image, &it->image_len) != 0)
			return signcore__err(ctx, errno == ENOENT ? SIGNCORE_ENOTFOUND : SIGNCORE_EIO,
				"%s: %s: %s", where, src, strerror(errno));
	}
	fz_var(img);
	fz_try(ctx->fz)
		img = signcore__image_load(ctx, it->image, it->image_len);
	fz_catch(ctx->fz) {
		return signcore__prefix_err(ctx, signcore__caught(ctx, SIGNCORE_EBADINPUT, NULL), "%s", where);
	}
	fz_drop_image(ctx->fz, img);
	it->kind = SCV_IMAGE;
	return SIGNCORE_OK;
}

static int parse_value(signcore_spec *sp, sc_item *it, json_t *v, const char *base_dir, const char *where)
{
	char w[128];

	if (json_is_string(v)) {
		it->kind = SCV_TEXT;
		it->text = json_string_value(v);
		return SIGNCORE_OK;
	}
	if (json_is_boolean(v)) {
		it->kind = SCV_BOOL;
		it->checked = json_is_true(v);
		return SIGNCORE_OK;
	}
	if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
		it->kind = SCV_BOOL;
		it->checked = (int)json_integer_value(v);
		return SIGNCORE_OK;
	}
	if (json_is_object(v)) {
		json_t *img = json_object_get(v, "image"), *txt = json_object_get(v, "text");
		if (img) {
			snprintf(w, sizeof w, "%s.image", where);
			if (!json_is_string(img))
				return signcore__err(sp->ctx, SIGNCORE_EBADINPUT, "%s: expected a file name or data: URL", w);
			return load_image(sp, it, json_string_value(img), base_dir, w);
		}
		if (txt) {
			if (!json_is_string(txt))
				return signcore__err(sp->ctx, SIGNCORE_EBADINPUT, "%s.text: expected a string", where);
			it->kind = SCV_TEXT;
			it->text = json_string_value(txt);
			return SIGNCORE_OK;
		}
		return signcore__err(sp->ctx, SIGNCORE_EBADINPUT, "%s: expected {\"text\": ...} or {\"image\": ...}", where);
	}
	if (json_is_null(v))
		return SIGNCORE_OK;
	return signcore__err(sp->ctx, SIGNCORE_EBADINPUT,
		"%s: expected a string, true/false, or {\"text\"|\"image\": ...}", where);
}

static int get_str(signcore_spec *sp, json_t *o, const char *key, const char **out, const char *where)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return SIGNCORE_OK;
	if (!json_is_string(v))
		return signcore__err(sp->ctx, SIGNCORE_EBADINPUT, "%s.%s: expected a string", where, key);
	*out = json_string_value(v);
	return SIGNCORE_OK;
}

static int get_bool(signcore_spec *sp, json_t *o, const char *key, int *out, const char *where)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return SIGNCORE_OK;
	if (!json_is_boolean(v))
		return signcore__err(sp->ctx, SIGNCORE_EBADINPUT, "%s.%s: expected true or false", where, key);
	*out = json_is_true(v);
	return SIGNCORE_OK;
}

static int parse_field(signcore_spec *sp, sc_item *it, json_t *o, const char *base_dir)
{
	signcore_ctx *ctx = sp->ctx;
	signcore_field_spec init = SIGNCORE_FIELD_SPEC_INIT;
	const char *w = it->path, *type = NULL, *units = NULL, *align = NULL;
	json_t *v;
	char where[96];
	size_t i;
	int code;

	it->fs = init;
	if (!json_is_object(o))
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: expected an object", w);
	if ((code = get_str(sp, o, "name", &it->fs.name, w)) || (code = get_str(sp, o, "type", &type, w)) ||
		(code = get_str(sp, o, "units", &units, w)) || (code = get_str(sp, o, "align", &align, w)) ||
		(code = get_str(sp, o, "font", &it->fs.font, w)) ||
		(code = get_str(sp, o, "tooltip", &it->fs.tooltip, w)) ||
		(code = get_str(sp, o, "label", &it->fs.tooltip, w)) ||
		(code = get_str(sp, o, "date_format", &it->fs.date_format, w)) ||
		(code = get_str(sp, o, "time_zone", &it->fs.time_zone, w)) ||
		(code = get_bool(sp, o, "multiline", &it->fs.multiline, w)) ||
		(code = get_bool(sp, o, "required", &it->fs.required, w)) ||
		(code = get_bool(sp, o, "read_only", &it->fs.read_only, w)))
		return code;
	if (!it->fs.name || !*it->fs.name)
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s.name: a non-empty field name is required", w);
	if (!type)
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s.type: required (signature, initials, text, checkbox or date)", w);
	it->fs.type = signcore_field_type_from_name(type);
	if (it->fs.type == SIGNCORE_FIELD_UNKNOWN)
		return signcore__err(ctx, SIGNCORE_EBADINPUT,
			"%s.type: unknown field type \"%s\" (expected signature, initials, text, checkbox or date)", w, type);
	if (units && strcmp(units, "pt") && strcmp(units, "percent"))
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s.units: \"%s\" is not pt or percent", w, units);
	it->fs.units = units && !strcmp(units, "percent") ? SIGNCORE_UNITS_PERCENT : SIGNCORE_UNITS_PT;
	if (align) {
		if (!strcmp(align, "left"))
			it->fs.align = SIGNCORE_ALIGN_LEFT;
		else if (!strcmp(align, "center") || !strcmp(align, "centre"))
			it->fs.align = SIGNCORE_ALIGN_CENTER;
		else if (!strcmp(align, "right"))
			it->fs.align = SIGNCORE_ALIGN_RIGHT;
		else
			return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s.align: \"%s\" is not left, center or right", w, align);
	}
	v = json_object_get(o, "page");
	if (v && !json_is_integer(v))
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s.page: expected a page number (1 = first page)", w);
	it->fs.page = v ? (int)json_integer_value(v) : 1;
	v = json_object_get(o, "rect");
	if (!json_is_array(v) || json_array_size(v) != 4)
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s.rect: expected [x, y, width, height]", w);
	for (i = 0; i < 4; i++) {
		if (!json_is_number(json_array_get(v, i)))
			return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s.rect[%zu]: expected a number", w, i);
		it->fs.rect[i] = json_number_value(json_array_get(v, i));
	}
	v = json_object_get(o, "font_size");
	if (v && !json_is_number(v))
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s.font_size: expected a number (0 = fit the box)", w);
	it->fs.font_size = v ? json_number_value(v) : 0;
	if (it->fs.type == SIGNCORE_FIELD_DATE && it->fs.time_zone) {
		int off;
		char abbr[16];
		if ((code = signcore__tz_offset(ctx, it->fs.time_zone, 0, &off, abbr, sizeof abbr)))
			return signcore__prefix_err(ctx, code, "%s.time_zone", w);
	}
	snprintf(where, sizeof where, "%s (\"%s\")", w, it->fs.name);
	if ((code = signcore__check_spec(ctx, &it->fs, where)))
		return SIGNCORE_EBADINPUT;
	v = json_object_get(o, "value");
	if (v) {
		snprintf(where, sizeof where, "%s.value", w);
		return parse_value(sp, it, v, base_dir, where);
	}
	return SIGNCORE_OK;
}

int signcore_spec_parse(signcore_ctx *ctx, signcore_spec **out, const char *json, size_t len, const char *base_dir)
{
	signcore_spec *sp;
	json_error_t err;
	json_t *fields, *values;
	size_t i;
	int code = SIGNCORE_OK;

	if (!ctx || !out || !json)
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_spec_parse: NULL argument") : SIGNCORE_EINVAL;
	*out = NULL;
	signcore__clear_err(ctx);
	sp = calloc(1, sizeof *sp);
	if (!sp)
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	sp->ctx = ctx;
	sp->root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (!sp->root) {
		code = signcore__err(ctx, SIGNCORE_EBADINPUT, "line %d, column %d: %s", err.line, err.column, err.text);
		goto fail;
	}
	if (!json_is_object(sp->root)) {
		code = signcore__err(ctx, SIGNCORE_EBADINPUT, "expected a JSON object at the top level");
		goto fail;
	}
	fields = json_object_get(sp->root, "fields");
	values = json_object_get(sp->root, "values");
	if (fields) {
		if (!json_is_array(fields)) {
			code = signcore__err(ctx, SIGNCORE_EBADINPUT, "fields: expected an array of fields");
			goto fail;
		}
		sp->count = json_array_size(fields);
		sp->items = calloc(sp->count ? sp->count : 1, sizeof *sp->items);
		if (!sp->items) {
			code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
			goto fail;
		}
		for (i = 0; i < sp->count; i++) {
			size_t j;
			snprintf(sp->items[i].path, sizeof sp->items[i].path, "fields[%zu]", i);
			if ((code = parse_field(sp, &sp->items[i], json_array_get(fields, i), base_dir)))
				goto fail;
			for (j = 0; j < i; j++)
				if (!strcmp(sp->items[j].fs.name, sp->items[i].fs.name)) {
					code = signcore__err(ctx, SIGNCORE_EBADINPUT,
						"fields[%zu].name: duplicate field name \"%s\" (also fields[%zu])",
						i, sp->items[i].fs.name, j);
					goto fail;
				}
		}
	} else {
		const char *key;
		json_t *v;
		json_t *obj = values ? values : sp->root;
		if (!json_is_object(obj)) {
			code = signcore__err(ctx, SIGNCORE_EBADINPUT, "values: expected an object of field name -> value");
			goto fail;
		}
		sp->is_values = 1;
		sp->count = json_object_size(obj);
		sp->items = calloc(sp->count ? sp->count : 1, sizeof *sp->items);
		if (!sp->items) {
			code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
			goto fail;
		}
		i = 0;
		json_object_foreach(obj, key, v) {
			sc_item *it = &sp->items[i++];
			snprintf(it->path, sizeof it->path, "%s%.50s", values ? "values." : "", key);
			it->fs.version = SIGNCORE_FIELD_SPEC_VERSION;
			it->fs.name = key;
			if ((code = parse_value(sp, it, v, base_dir, it->path)))
				goto fail;
		}
	}
	*out = sp;
	return SIGNCORE_OK;
fail:
	signcore_spec_free(sp);
	return code;
}

void signcore_spec_free(signcore_spec *sp)
{
	size_t i;

	if (!sp)
		return;
	for (i = 0; i < sp->count && sp->items; i++)
		free(sp->items[i].image);
	free(sp->items);
	json_decref(sp->root);
	free(sp);
}

size_t signcore_spec_count(const signcore_spec *sp)
{
	return sp ? sp->count : 0;
}

/* The library value for item IT going into a field of TYPE. */
static void to_value(signcore_ctx *ctx, const sc_item *it, signcore_field_type type, signcore_value *v)
{
	signcore_value init = SIGNCORE_VALUE_INIT;

	*v = init;
	switch (type) {
	case SIGNCORE_FIELD_CHECKBOX:
		if (it->kind == SCV_BOOL)
			v->checked = it->checked;
		else if (it->kind == SCV_TEXT && (!strcasecmp(it->text, "true") || !strcasecmp(it->text, "yes") ||
			!strcasecmp(it->text, "on") || !strcmp(it->text, "1")))
			v->checked = 1;
		else if (it->kind == SCV_TEXT && (!strcasecmp(it->text, "false") || !strcasecmp(it->text, "no") ||
			!strcasecmp(it->text, "off") || !strcmp(it->text, "0")))
			v->checked = 0;
		else
			signcore__throw(ctx, SIGNCORE_EBADINPUT, "%s: a checkbox takes true or false", it->path);
		break;
	case SIGNCORE_FIELD_SIGNATURE:
	case SIGNCORE_FIELD_INITIALS:
		if (it->kind == SCV_IMAGE) {
			v->image = it->image;
			v->image_len = it->image_len;
		} else if (it->kind == SCV_TEXT) {
			v->text = it->text;
		} else {
			signcore__throw(ctx, SIGNCORE_EBADINPUT, "%s: a signature takes {\"text\": name} or {\"image\": file}", it->path);
		}
		break;
	default:
		if (it->kind != SCV_TEXT)
			signcore__throw(ctx, SIGNCORE_EBADINPUT, "%s: a %s field takes a string", it->path,
				signcore_field_type_name(type));
		v->text = it->text;
		break;
	}
}

/* Everything that can be checked before the document is touched. */
static void precheck(signcore_doc *doc, const signcore_spec *sp, int need_unique)
{
	signcore_ctx *ctx = doc->ctx;
	fz_context *fz = ctx->fz;
	int pages = pdf_count_pages(fz, doc->pdf);
	size_t i;

	if (sp->is_values)
		signcore__throw(ctx, SIGNCORE_EINVAL, "this is a values file; a field spec ({\"fields\": [...]}) is needed");
	for (i = 0; i < sp->count; i++) {
		const sc_item *it = &sp->items[i];
		char where[128];
		sc_page pg;
		fz_rect r;
		int code;

		snprintf(where, sizeof where, "%s (\"%s\")", it->path, it->fs.name);
		if (it->fs.page < 1 || it->fs.page > pages)
			signcore__throw(ctx, SIGNCORE_ERANGE, "%s: page %d out of range (the document has %d page%s)",
				where, it->fs.page, pages, pages == 1 ? "" : "s");
		signcore__page_get(fz, doc->pdf, it->fs.page - 1, &pg);
		if ((code = signcore__rect_to_user(ctx, &pg, it->fs.rect, it->fs.units, where, &r)))
			signcore__throw_last(ctx, code);
		if (need_unique && signcore__find_field(fz, doc->pdf, it->fs.name))
			signcore__throw(ctx, SIGNCORE_EEXISTS, "%s: a field with this name already exists in the document", where);
		if (it->kind != SCV_NONE) {
			signcore_value v;
			to_value(ctx, it, it->fs.type, &v);
			if (it->fs.type == SIGNCORE_FIELD_DATE) {
				long long when;
				int date_only;
				if (signcore__parse_when(v.text, 0, &when, &date_only) != 0)
					signcore__throw(ctx, SIGNCORE_EBADINPUT,
						"%s: date value \"%s\" is not \"today\", \"now\", YYYY-MM-DD or an RFC 3339 time",
						where, v.text);
			}
		}
		if (it->fs.font && strcmp(it->fs.font, "sans") && strcmp(it->fs.font, "serif") &&
			strcmp(it->fs.font, "mono") && strcmp(it->fs.font, "script")) {
			FILE *f = fopen(it->fs.font, "rb");
			if (!f)
				signcore__throw(ctx, SIGNCORE_ENOTFOUND, "%s.font: %s: %s", it->path, it->fs.font, strerror(errno));
			fclose(f);
		}
	}
}

int signcore_spec_place(signcore_doc *doc, const signcore_spec *sp)
{
	signcore_ctx *ctx;
	size_t i;
	int code;

	if (!doc || !sp)
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signcore_spec_place: NULL spec") : SIGNCORE_EINVAL;
	ctx = doc->ctx;
	signcore__clear_err(ctx);
	fz_try(ctx->fz)
		precheck(doc, sp, 1);
	fz_catch(ctx->fz)
		return signcore__caught(ctx, SIGNCORE_EBADINPUT, "spec");
	for (i = 0; i < sp->count; i++)
		if ((code = signcore_field_place(doc, &sp->items[i].fs)))
			return code;
	fz_var(i);
	fz_var(code);
	for (i = 0; i < sp->count; i++) {
		const sc_item *it = &sp->items[i];
		signcore_value v;
		if (it->kind == SCV_NONE)
			continue;
		fz_try(ctx->fz) {
			to_value(ctx, it, it->fs.type, &v);
			code = signcore_field_fill(doc, it->fs.name, &v);
		}
		fz_catch(ctx->fz)
			return signcore__caught(ctx, SIGNCORE_EBADINPUT, NULL);
		if (code)
			return code;
	}
	return SIGNCORE_OK;
}

int signcore_spec_fill(signcore_doc *doc, const signcore_spec *sp)
{
	signcore_ctx *ctx;
	fz_context *fz;
	size_t i;

	if (!doc || !sp)
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signcore_spec_fill: NULL values") : SIGNCORE_EINVAL;
	ctx = doc->ctx;
	fz = ctx->fz;
	signcore__clear_err(ctx);
	fz_var(i);
	fz_try(fz) {
		/* Find every field first so a typo fails before anything changes. */
		for (i = 0; i < sp->count; i++)
			if (!signcore__find_field(fz, doc->pdf, sp->items[i].fs.name))
				signcore__throw(ctx, SIGNCORE_ENOTFOUND, "%s: no field named \"%s\" in the document",
					sp->items[i].path, sp->items[i].fs.name);
		for (i = 0; i < sp->count; i++) {
			const sc_item *it = &sp->items[i];
			pdf_obj *f = signcore__find_field(fz, doc->pdf, it->fs.name);
			signcore_value v;
			if (it->kind == SCV_NONE)
				continue;
			to_value(ctx, it, signcore__field_kind(fz, f), &v);
			fz_try(fz)
				signcore__fill_widget(doc, f, &v);
			fz_catch(fz) {
				if (ctx->thrown)
					signcore__throw_last(ctx, signcore__prefix_err(ctx, ctx->last_code,
						"%s (\"%s\")", it->path, it->fs.name));
				fz_rethrow(fz);
			}
		}
	}
	fz_catch(fz)
		return signcore__caught(ctx, SIGNCORE_EBADINPUT, "fill");
	return SIGNCORE_OK;
}

int signcore_spec_stamp(signcore_doc *doc, const signcore_spec *sp)
{
	signcore_ctx *ctx;
	fz_context *fz;
	sc_burn **burns = NULL;
	int pages = 0, p;
	size_t i;

	if (!doc || !sp)
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signcore_spec_stamp: NULL spec") : SIGNCORE_EINVAL;
	ctx = doc->ctx;
	fz = ctx->fz;
	signcore__clear_err(ctx);
	fz_var(burns);
	fz_var(pages);
	fz_var(i);
	fz_try(fz) {
		precheck(doc, sp, 1);
		pages = pdf_count_pages(fz, doc->pdf);
		burns = fz_calloc(fz, (size_t)pages, sizeof *burns);
		for (i = 0; i < sp->count; i++) {
			const sc_item *it = &sp->items[i];
			signcore_value v = SIGNCORE_VALUE_INIT;
			sc_style st;
			sc_page pg;
			fz_rect r;
			float bw, bh;
			char *text = NULL;
			pdf_obj *xobj = NULL;

			fz_var(xobj);
			if (it->kind == SCV_NONE && it->fs.type != SIGNCORE_FIELD_CHECKBOX)
				continue; /* an empty field leaves no ink */
			signcore__page_get(fz, doc->pdf, it->fs.page - 1, &pg);
			signcore__rect_to_user(ctx, &pg, it->fs.rect, it->fs.units, it->path, &r);
			bw = r.x1 - r.x0;
			bh = r.y1 - r.y0;
			if (pg.rotate == 90 || pg.rotate == 270) {
				float t = bw;
				bw = bh;
				bh = t;
			}
			if (it->kind != SCV_NONE)
				to_value(ctx, it, it->fs.type, &v);
			memset(&st, 0, sizeof st);
			st.type = it->fs.type;
			st.font = it->fs.font;
			st.font_size = (float)it->fs.font_size;
			st.align = it->fs.align;
			st.multiline = it->fs.multiline;
			fz_try(fz)
				xobj = signcore__ap_for_value(doc, &st, it->fs.date_format, it->fs.time_zone, &v,
					bw, bh, pg.rotate, &text);
			fz_catch(fz) {
				if (ctx->thrown)
					signcore__throw_last(ctx, signcore__prefix_err(ctx, ctx->last_code,
						"%s (\"%s\")", it->path, it->fs.name));
				fz_rethrow(fz);
			}
			fz_free(fz, text);
			fz_try(fz) {
				if (!burns[it->fs.page - 1])
					burns[it->fs.page - 1] = signcore__burn_begin(fz, doc->pdf, pg.obj);
				signcore__burn_xobject(fz, burns[it->fs.page - 1], xobj, r);
			}
			fz_always(fz)
				pdf_drop_obj(fz, xobj);
			fz_catch(fz)
				fz_rethrow(fz);
		}
		for (p = 0; p < pages; p++)
			if (burns[p])
				signcore__burn_end(fz, burns[p]);
	}
	fz_always(fz) {
		for (p = 0; burns && p < pages; p++)
			signcore__burn_drop(fz, burns[p]);
		fz_free(fz, burns);
	}
	fz_catch(fz)
		return signcore__caught(ctx, SIGNCORE_EBADINPUT, "stamp");
	return SIGNCORE_OK;
}
