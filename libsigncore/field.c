/*
 * Form fields: placing widgets, naming, finding and listing them.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
	[SIGNCORE_FIELD_UNKNOWN] = "unknown",
	[SIGNCORE_FIELD_SIGNATURE] = "signature",
	[SIGNCORE_FIELD_INITIALS] = "initials",
	[SIGNCORE_FIELD_TEXT] = "text",
	[SIGNCORE_FIELD_CHECKBOX] = "checkbox",
	[SIGNCORE_FIELD_DATE] = "date",
};

const char *signcore_field_type_name(signcore_field_type type)
{
	if ((unsigned)type >= sizeof type_names / sizeof type_names[0])
		return "unknown";
	return type_names[type];
}

signcore_field_type signcore_field_type_from_name(const char *name)
{
	int i;

	for (i = 1; name && i < (int)(sizeof type_names / sizeof type_names[0]); i++)
		if (!strcmp(name, type_names[i]))
			return (signcore_field_type)i;
	return SIGNCORE_FIELD_UNKNOWN;
}

pdf_obj *signcore__get_inh(fz_context *fz, pdf_obj *obj, const char *key)
{
	int depth;

	for (depth = 0; obj && depth < 32; depth++, obj = pdf_dict_get(fz, obj, PDF_NAME(Parent))) {
		pdf_obj *v = pdf_dict_gets(fz, obj, key);
		if (v)
			return v;
	}
	return NULL;
}

char *signcore__field_name(fz_context *fz, pdf_obj *field)
{
	const char *parts[64];
	int n = 0, i;
	size_t len = 1;
	char *name;

	for (; field && n < 64; field = pdf_dict_get(fz, field, PDF_NAME(Parent))) {
		pdf_obj *t = pdf_dict_get(fz, field, PDF_NAME(T));
		if (t) {
			parts[n++] = pdf_to_text_string(fz, t);
			len += strlen(parts[n - 1]) + 1;
		}
	}
	name = fz_malloc(fz, len);
	name[0] = 0;
	for (i = n - 1; i >= 0; i--) {
		strcat(name, parts[i]);
		if (i)
			strcat(name, ".");
	}
	return name;
}

signcore_field_type signcore__field_kind(fz_context *fz, pdf_obj *field)
{
	pdf_obj *ft = pdf_dict_get_inheritable(fz, field, PDF_NAME(FT));
	const char *kind = pdf_to_name(fz, signcore__get_inh(fz, field, "SigncoreKind"));
	int ff = pdf_to_int(fz, pdf_dict_get_inheritable(fz, field, PDF_NAME(Ff)));

	if (pdf_name_eq(fz, ft, PDF_NAME(Sig)))
		return !strcmp(kind, "initials") ? SIGNCORE_FIELD_INITIALS : SIGNCORE_FIELD_SIGNATURE;
	if (pdf_name_eq(fz, ft, PDF_NAME(Tx)))
		return !strcmp(kind, "date") ? SIGNCORE_FIELD_DATE : SIGNCORE_FIELD_TEXT;
	/* Radio buttons (bit 16) and push buttons (bit 17) are not checkboxes. */
	if (pdf_name_eq(fz, ft, PDF_NAME(Btn)) && !(ff & ((1 << 15) | (1 << 16))))
		return SIGNCORE_FIELD_CHECKBOX;
	return SIGNCORE_FIELD_UNKNOWN;
}

static pdf_obj *find_in(fz_context *fz, pdf_obj *arr, const char *name, int depth)
{
	int i, n = pdf_array_len(fz, arr);

	if (depth > 32)
		return NULL;
	for (i = 0; i < n; i++) {
		pdf_obj *f = pdf_array_get(fz, arr, i);
		pdf_obj *t = pdf_dict_get(fz, f, PDF_NAME(T));
		const char *s = t ? pdf_to_text_string(fz, t) : NULL;
		size_t len = s ? strlen(s) : 0;

		if (!s) {
			/* A kid without /T is a widget of its parent, not a field. */
			continue;
		}
		if (!strcmp(s, name))
			return f;
		if (!strncmp(s, name, len) && name[len] == '.') {
			pdf_obj *r = find_in(fz, pdf_dict_get(fz, f, PDF_NAME(Kids)), name + len + 1, depth + 1);
			if (r)
				return r;
		}
	}
	return NULL;
}

pdf_obj *signcore__find_field(fz_context *fz, pdf_document *pdf, const char *name)
{
	pdf_obj *fields = pdf_dict_getp(fz, pdf_trailer(fz, pdf), "Root/AcroForm/Fields");

	return find_in(fz, fields, name, 0);
}

int signcore__check_spec(signcore_ctx *ctx, const signcore_field_spec *s, const char *where)
{
	if (!s || s->version != SIGNCORE_FIELD_SPEC_VERSION)
		return signcore__err(ctx, SIGNCORE_EINVAL, "%s: field spec missing or of an unknown version", where);
	if (!s->name || !*s->name)
		return signcore__err(ctx, SIGNCORE_EINVAL, "%s: field name is required", where);
	if (strchr(s->name, '.'))
		return signcore__err(ctx, SIGNCORE_EINVAL,
			"%s: field name \"%s\" must not contain '.' (dots separate parent and kid names)", where, s->name);
	if (s->type < SIGNCORE_FIELD_SIGNATURE || s->type > SIGNCORE_FIELD_DATE)
		return signcore__err(ctx, SIGNCORE_EINVAL,
			"%s: unknown field type (expected signature, initials, text, checkbox or date)", where);
	if (!(s->font_size >= 0) || s->font_size > 500)
		return signcore__err(ctx, SIGNCORE_EINVAL, "%s: font size %g is out of range (0 = fit, up to 500)",
			where, s->font_size);
	if (s->units != SIGNCORE_UNITS_PT && s->units != SIGNCORE_UNITS_PERCENT)
		return signcore__err(ctx, SIGNCORE_EINVAL, "%s: units must be pt or percent", where);
	if (s->align < SIGNCORE_ALIGN_LEFT || s->align > SIGNCORE_ALIGN_RIGHT)
		return signcore__err(ctx, SIGNCORE_EINVAL, "%s: unknown alignment", where);
	return SIGNCORE_OK;
}

/* The AcroForm dictionary, created with the defaults viewers expect. */
pdf_obj *signcore__ensure_acroform(fz_context *fz, pdf_document *pdf)
{
	pdf_obj *root = pdf_dict_get(fz, pdf_trailer(fz, pdf), PDF_NAME(Root));
	pdf_obj *form = pdf_dict_get(fz, root, PDF_NAME(AcroForm));
	pdf_obj *dr, *fonts;

	if (!pdf_is_dict(fz, form)) {
		form = pdf_add_new_dict(fz, pdf, 4);
		pdf_dict_put_drop(fz, root, PDF_NAME(AcroForm), form);
	}
	if (!pdf_is_array(fz, pdf_dict_get(fz, form, PDF_NAME(Fields))))
		pdf_dict_put_array(fz, form, PDF_NAME(Fields), 4);
	if (!pdf_dict_get(fz, form, PDF_NAME(DA)))
		pdf_dict_put_string(fz, form, PDF_NAME(DA), "/Helv 0 Tf 0 g", 14);
	dr = pdf_dict_get(fz, form, PDF_NAME(DR));
	if (!pdf_is_dict(fz, dr))
		dr = pdf_dict_put_dict(fz, form, PDF_NAME(DR), 1);
	fonts = pdf_dict_get(fz, dr, PDF_NAME(Font));
	if (!pdf_is_dict(fz, fonts))
		fonts = pdf_dict_put_dict(fz, dr, PDF_NAME(Font), 2);
	if (!pdf_dict_get(fz, fonts, PDF_NAME(Helv))) {
		pdf_obj *f = pdf_add_new_dict(fz, pdf, 4);
		pdf_dict_put(fz, f, PDF_NAME(Type), PDF_NAME(Font));
		pdf_dict_put(fz, f, PDF_NAME(Subtype), PDF_NAME(Type1));
		pdf_dict_put_name(fz, f, PDF_NAME(BaseFont), "Helvetica");
		pdf_dict_put(fz, f, PDF_NAME(Encoding), PDF_NAME(WinAnsiEncoding));
		pdf_dict_put_drop(fz, fonts, PDF_NAME(Helv), f);
	}
	if (!pdf_dict_get(fz, fonts, PDF_NAME(ZaDb))) {
		pdf_obj *f = pdf_add_new_dict(fz, pdf, 3);
		pdf_dict_put(fz, f, PDF_NAME(Type), PDF_NAME(Font));
		pdf_dict_put(fz, f, PDF_NAME(Subtype), PDF_NAME(Type1));
		pdf_dict_put_name(fz, f, PDF_NAME(BaseFont), "ZapfDingbats");
		pdf_dict_put_drop(fz, fonts, PDF_NAME(ZaDb), f);
	}
	return form;
}

void signcore__add_annot(fz_context *fz, pdf_obj *page, pdf_obj *widget)
{
	pdf_obj *annots = pdf_dict_get(fz, page, PDF_NAME(Annots));

	if (!pdf_is_array(fz, annots))
		annots = pdf_dict_put_array(fz, page, PDF_NAME(Annots), 1);
	pdf_array_push(fz, annots, widget);
}

static void place(signcore_doc *doc, const signcore_field_spec *s, const sc_page *pg, fz_rect r)
{
	signcore_ctx *ctx = doc->ctx;
	fz_context *fz = ctx->fz;
	pdf_document *pdf = doc->pdf;
	pdf_obj *form, *w = NULL, *ap = NULL, *on = NULL, *off = NULL;
	float bw = r.x1 - r.x0, bh = r.y1 - r.y0;
	int ff = 0;
	char da[64];

	if (pg->rotate == 90 || pg->rotate == 270) {
		float t = bw;
		bw = bh;
		bh = t;
	}
	fz_var(w);
	fz_var(ff);
	fz_var(ap);
	fz_var(on);
	fz_var(off);
	fz_try(fz) {
		form = signcore__ensure_acroform(fz, pdf);
		w = pdf_add_new_dict(fz, pdf, 16);
		pdf_dict_put(fz, w, PDF_NAME(Type), PDF_NAME(Annot));
		pdf_dict_put(fz, w, PDF_NAME(Subtype), PDF_NAME(Widget));
		pdf_dict_put_int(fz, w, PDF_NAME(F), 4); /* Print */
		pdf_dict_put(fz, w, PDF_NAME(P), pg->obj);
		pdf_dict_put_rect(fz, w, PDF_NAME(Rect), r);
		pdf_dict_put_drop(fz, w, PDF_NAME(T), pdf_new_text_string(fz, s->name));
		if (s->tooltip && *s->tooltip)
			pdf_dict_put_drop(fz, w, PDF_NAME(TU), pdf_new_text_string(fz, s->tooltip));
		if (s->font && *s->font)
			pdf_dict_puts_drop(fz, w, "SigncoreFont", pdf_new_text_string(fz, s->font));
		if (pg->rotate) {
			pdf_obj *mk = pdf_dict_put_dict(fz, w, PDF_NAME(MK), 1);
			pdf_dict_put_int(fz, mk, PDF_NAME(R), pg->rotate);
		}
		if (s->required)
			ff |= 2;
		if (s->read_only)
			ff |= 1;
		switch (s->type) {
		case SIGNCORE_FIELD_SIGNATURE:
		case SIGNCORE_FIELD_INITIALS:
			pdf_dict_put(fz, w, PDF_NAME(FT), PDF_NAME(Sig));
			pdf_dict_puts_drop(fz, w, "SigncoreKind", pdf_new_name(fz, signcore_field_type_name(s->type)));
			ap = signcore__ap_empty(ctx, pdf, bw, bh, pg->rotate);
			break;
		case SIGNCORE_FIELD_TEXT:
		case SIGNCORE_FIELD_DATE:
			pdf_dict_put(fz, w, PDF_NAME(FT), PDF_NAME(Tx));
			if (s->multiline && s->type == SIGNCORE_FIELD_TEXT)
				ff |= 1 << 12;
			pdf_dict_put_int(fz, w, PDF_NAME(Q), s->align);
			snprintf(da, sizeof da, "/Helv %g Tf 0 g", s->font_size);
			pdf_dict_put_string(fz, w, PDF_NAME(DA), da, strlen(da));
			if (s->type == SIGNCORE_FIELD_DATE) {
				pdf_dict_puts_drop(fz, w, "SigncoreKind", pdf_new_name(fz, "date"));
				pdf_dict_puts_drop(fz, w, "SigncoreDateFormat",
					pdf_new_text_string(fz, s->date_format ? s->date_format : "%Y-%m-%d"));
				pdf_dict_puts_drop(fz, w, "SigncoreTimeZone",
					pdf_new_text_string(fz, s->time_zone ? s->time_zone : "UTC"));
			}
			ap = signcore__ap_empty(ctx, pdf, bw, bh, pg->rotate);
			break;
		case SIGNCORE_FIELD_CHECKBOX: {
			pdf_obj *n, *mk;
			pdf_dict_put(fz, w, PDF_NAME(FT), PDF_NAME(Btn));
			snprintf(da, sizeof da, "/ZaDb %g Tf 0 g", s->font_size);
			pdf_dict_put_string(fz, w, PDF_NAME(DA), da, strlen(da));
			mk = pdf_dict_get(fz, w, PDF_NAME(MK));
			if (!mk)
				mk = pdf_dict_put_dict(fz, w, PDF_NAME(MK), 1);
			pdf_dict_put_string(fz, mk, PDF_NAME(CA), "4", 1);
			on = signcore__ap_check(ctx, pdf, 1, bw, bh, pg->rotate);
			off = signcore__ap_check(ctx, pdf, 0, bw, bh, pg->rotate);
			ap = pdf_new_dict(fz, pdf, 2);
			pdf_dict_put(fz, ap, PDF_NAME(Yes), on);
			pdf_dict_put(fz, ap, PDF_NAME(Off), off);
			n = pdf_dict_put_dict(fz, w, PDF_NAME(AP), 1);
			pdf_dict_put(fz, n, PDF_NAME(N), ap);
			pdf_dict_put(fz, w, PDF_NAME(AS), PDF_NAME(Off));
			pdf_dict_put(fz, w, PDF_NAME(V), PDF_NAME(Off));
			break;
		}
		default:
			break;
		}
		if (ff)
			pdf_dict_put_int(fz, w, PDF_NAME(Ff), ff);
		if (s->type != SIGNCORE_FIELD_CHECKBOX) {
			pdf_obj *apd = pdf_dict_put_dict(fz, w, PDF_NAME(AP), 1);
			pdf_dict_put(fz, apd, PDF_NAME(N), ap);
		}
		signcore__add_annot(fz, pg->obj, w);
		pdf_array_push(fz, pdf_dict_get(fz, form, PDF_NAME(Fields)), w);
	}
	fz_always(fz) {
		pdf_drop_obj(fz, w);
		pdf_drop_obj(fz, ap);
		pdf_drop_obj(fz, on);
		pdf_drop_obj(fz, off);
	}
	fz_catch(fz)
		fz_rethrow(fz);
}

int signcore_field_place(signcore_doc *doc, const signcore_field_spec *spec)
{
	signcore_ctx *ctx;
	sc_page pg;
	fz_rect r;
	int n, code;
	char where[128];

	if (!doc)
		return SIGNCORE_EINVAL;
	ctx = doc->ctx;
	signcore__clear_err(ctx);
	snprintf(where, sizeof where, "field \"%s\"", spec && spec->name ? spec->name : "");
	if ((code = signcore__check_spec(ctx, spec, where)))
		return code;
	n = signcore_doc_page_count(doc);
	if (n < 0)
		return n;
	if (spec->page < 1 || spec->page > n)
		return signcore__err(ctx, SIGNCORE_ERANGE, "%s: page %d out of range (the document has %d page%s)",
			where, spec->page, n, n == 1 ? "" : "s");
	fz_try(ctx->fz) {
		if (signcore__find_field(ctx->fz, doc->pdf, spec->name))
			signcore__throw(ctx, SIGNCORE_EEXISTS, "%s: a field with this name already exists", where);
		signcore__page_get(ctx->fz, doc->pdf, spec->page - 1, &pg);
		if ((code = signcore__rect_to_user(ctx, &pg, spec->rect, spec->units, where, &r)))
			signcore__throw_last(ctx, code);
		place(doc, spec, &pg, r);
	}
	fz_catch(ctx->fz)
		return signcore__caught(ctx, SIGNCORE_EBADINPUT, where);
	return SIGNCORE_OK;
}

/* ---------------------------------------------------------------- listing */

static char *value_string(fz_context *fz, pdf_obj *field)
{
	pdf_obj *v = pdf_dict_get_inheritable(fz, field, PDF_NAME(V));

	if (pdf_is_name(fz, v))
		return signcore__strdup(pdf_to_name(fz, v));
	if (pdf_is_string(fz, v))
		return signcore__strdup(pdf_to_text_string(fz, v));
	return NULL;
}

pdf_obj *signcore__widget_field(fz_context *fz, pdf_obj *w)
{
	if (!pdf_dict_get(fz, w, PDF_NAME(T)) && pdf_dict_get(fz, w, PDF_NAME(Parent)))
		return pdf_dict_get(fz, w, PDF_NAME(Parent));
	return w;
}

int signcore_doc_fields(signcore_doc *doc, signcore_field_info **out, size_t *count)
{
	signcore_ctx *ctx;
	fz_context *fz;
	signcore_field_info *list = NULL;
	size_t n = 0, cap = 0;
	int pages, p, i, code = SIGNCORE_OK;

	if (!doc || !out || !count)
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signcore_doc_fields: NULL argument") : SIGNCORE_EINVAL;
	ctx = doc->ctx;
	fz = ctx->fz;
	*out = NULL;
	*count = 0;
	pages = signcore_doc_page_count(doc);
	if (pages < 0)
		return pages;
	fz_var(list);
	fz_var(n);
	fz_var(cap);
	fz_try(fz) {
		for (p = 0; p < pages; p++) {
			sc_page pg;
			pdf_obj *annots;
			signcore__page_get(fz, doc->pdf, p, &pg);
			annots = pdf_dict_get(fz, pg.obj, PDF_NAME(Annots));
			for (i = 0; i < pdf_array_len(fz, annots); i++) {
				pdf_obj *w = pdf_array_get(fz, annots, i), *field, *ft;
				signcore_field_info *fi;
				fz_rect r;
				char *name;
				int ff;

				if (!pdf_name_eq(fz, pdf_dict_get(fz, w, PDF_NAME(Subtype)), PDF_NAME(Widget)))
					continue;
				if (n == cap) {
					signcore_field_info *grown;
					cap = cap ? cap * 2 : 16;
					grown = realloc(list, cap * sizeof *list);
					if (!grown)
						fz_throw(fz, FZ_ERROR_MEMORY, "out of memory listing fields");
					list = grown;
				}
				fi = &list[n];
				memset(fi, 0, sizeof *fi);
				field = signcore__widget_field(fz, w);
				name = signcore__field_name(fz, field);
				fi->name = signcore__strdup(name);
				fz_free(fz, name);
				n++;
				fi->type = signcore__field_kind(fz, w);
				ft = pdf_dict_get_inheritable(fz, w, PDF_NAME(FT));
				fi->pdf_type = pdf_is_name(fz, ft) ? pdf_to_name(fz, ft) : "";
				fi->page = p + 1;
				r = fz_transform_rect(pdf_dict_get_rect(fz, w, PDF_NAME(Rect)), pg.ctm);
				fi->rect[0] = r.x0;
				fi->rect[1] = r.y0;
				fi->rect[2] = r.x1 - r.x0;
				fi->rect[3] = r.y1 - r.y0;
				ff = pdf_to_int(fz, pdf_dict_get_inheritable(fz, w, PDF_NAME(Ff)));
				fi->required = !!(ff & 2);
				fi->read_only = !!(ff & 1);
				if (fi->type == SIGNCORE_FIELD_SIGNATURE || fi->type == SIGNCORE_FIELD_INITIALS) {
					fi->is_signed = pdf_is_dict(fz, pdf_dict_get_inheritable(fz, w, PDF_NAME(V)));
				} else {
					fi->value = value_string(fz, w);
				}
			}
		}
	}
	fz_catch(fz) {
		signcore_field_info_free(list, n);
		return signcore__caught(ctx, SIGNCORE_EBADINPUT, "listing fields");
	}
	*out = list;
	*count = n;
	return code;
}

void signcore_field_info_free(signcore_field_info *info, size_t count)
{
	size_t i;

	if (!info)
		return;
	for (i = 0; i < count; i++) {
		free(info[i].name);
		free(info[i].value);
	}
	free(info);
}
