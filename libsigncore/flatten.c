/*
 * Flattening: burn widget appearances into page content, drop the fields.
 *
 * MuPDF 1.21 has no pdf_bake_document, and its pdf_delete_annot leaves the
 * field in /AcroForm /Fields (it compares pointers, not object numbers), so
 * the page content and the field tree are edited here directly.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct sc_burn {
	pdf_obj *page;
	pdf_obj *xobjects;   /* page-local /XObject dict */
	fz_buffer *ops;
	int count;
};

sc_burn *signcore__burn_begin(fz_context *fz, pdf_document *pdf, pdf_obj *page)
{
	sc_burn *b = fz_malloc_struct(fz, sc_burn);
	pdf_obj *res, *xo;

	fz_try(fz) {
		b->page = pdf_keep_obj(fz, page);
		b->ops = fz_new_buffer(fz, 256);
		/* Resources may be inherited or shared with other pages: give
		 * this page its own shallow copies before adding to them. */
		res = pdf_dict_get_inheritable(fz, page, PDF_NAME(Resources));
		res = pdf_is_dict(fz, res) ? pdf_copy_dict(fz, res) : pdf_new_dict(fz, pdf, 2);
		pdf_dict_put_drop(fz, page, PDF_NAME(Resources), res);
		xo = pdf_dict_get(fz, res, PDF_NAME(XObject));
		xo = pdf_is_dict(fz, xo) ? pdf_copy_dict(fz, xo) : pdf_new_dict(fz, pdf, 4);
		pdf_dict_put_drop(fz, res, PDF_NAME(XObject), xo);
		b->xobjects = pdf_keep_obj(fz, xo);
	}
	fz_catch(fz) {
		signcore__burn_drop(fz, b);
		fz_rethrow(fz);
	}
	return b;
}

void signcore__burn_xobject(fz_context *fz, sc_burn *b, pdf_obj *xobj, fz_rect rect)
{
	fz_rect bbox = pdf_dict_get_rect(fz, xobj, PDF_NAME(BBox));
	fz_matrix m = pdf_dict_get_matrix(fz, xobj, PDF_NAME(Matrix));
	fz_rect tb = fz_transform_rect(bbox, m);
	float sx, sy;
	char name[32];
	int i;

	if (tb.x1 - tb.x0 <= 0 || tb.y1 - tb.y0 <= 0)
		return; /* degenerate appearance: nothing visible */
	/* PDF 32000 §12.5.5: Matrix maps BBox to a box that is then scaled
	 * and moved onto /Rect. Do applies the form's own Matrix itself. */
	sx = (rect.x1 - rect.x0) / (tb.x1 - tb.x0);
	sy = (rect.y1 - rect.y0) / (tb.y1 - tb.y0);
	for (i = b->count;; i++) {
		snprintf(name, sizeof name, "SCFm%d", i);
		if (!pdf_dict_gets(fz, b->xobjects, name))
			break;
	}
	pdf_dict_puts(fz, b->xobjects, name, xobj);
	fz_append_printf(fz, b->ops, "q %g 0 0 %g %g %g cm /%s Do Q\n",
		sx, sy, rect.x0 - tb.x0 * sx, rect.y0 - tb.y0 * sy, name);
	b->count++;
}

void signcore__burn_end(fz_context *fz, sc_burn *b)
{
	pdf_document *pdf = pdf_get_bound_document(fz, b->page);
	pdf_obj *old, *arr = NULL, *pre = NULL, *post = NULL;
	fz_buffer *q = NULL;
	int i;

	if (!b->count)
		return;
	fz_var(arr);
	fz_var(pre);
	fz_var(post);
	fz_var(q);
	fz_try(fz) {
		/* Wrap the old content in q ... Q so that a graphics state it
		 * leaves behind cannot move or recolour what we add. */
		q = fz_new_buffer_from_shared_data(fz, (const unsigned char *)"q\n", 2);
		pre = pdf_add_stream(fz, pdf, q, NULL, 0);
		{
			fz_buffer *tail = fz_new_buffer(fz, b->ops->len + 2);
			fz_append_string(fz, tail, "Q\n");
			fz_append_buffer(fz, tail, b->ops);
			fz_try(fz)
				post = pdf_add_stream(fz, pdf, tail, NULL, 0);
			fz_always(fz)
				fz_drop_buffer(fz, tail);
			fz_catch(fz)
				fz_rethrow(fz);
		}
		old = pdf_dict_get(fz, b->page, PDF_NAME(Contents));
		arr = pdf_new_array(fz, pdf, 4);
		pdf_array_push(fz, arr, pre);
		if (pdf_is_array(fz, old))
			for (i = 0; i < pdf_array_len(fz, old); i++)
				pdf_array_push(fz, arr, pdf_array_get(fz, old, i));
		else if (old)
			pdf_array_push(fz, arr, old);
		pdf_array_push(fz, arr, post);
		pdf_dict_put(fz, b->page, PDF_NAME(Contents), arr);
	}
	fz_always(fz) {
		fz_drop_buffer(fz, q);
		pdf_drop_obj(fz, pre);
		pdf_drop_obj(fz, post);
		pdf_drop_obj(fz, arr);
	}
	fz_catch(fz)
		fz_rethrow(fz);
}

void signcore__burn_drop(fz_context *fz, sc_burn *b)
{
	if (!b)
		return;
	pdf_drop_obj(fz, b->page);
	pdf_drop_obj(fz, b->xobjects);
	fz_drop_buffer(fz, b->ops);
	fz_free(fz, b);
}

/* ------------------------------------------------------------ selection */

typedef struct {
	const char *const *names;
	size_t count;
} selection;

static int selected(const selection *sel, const char *name)
{
	size_t i, n;

	if (!sel->count)
		return 1;
	for (i = 0; i < sel->count; i++) {
		n = strlen(sel->names[i]);
		if (!strncmp(name, sel->names[i], n) && (name[n] == 0 || name[n] == '.'))
			return 1;
	}
	return 0;
}

/* The normal appearance stream a widget shows now, or NULL. */
static pdf_obj *current_ap(fz_context *fz, pdf_obj *w)
{
	pdf_obj *n = pdf_dict_getp(fz, w, "AP/N");

	if (pdf_is_stream(fz, n))
		return n;
	if (pdf_is_dict(fz, n)) {
		pdf_obj *as = pdf_dict_get(fz, w, PDF_NAME(AS));
		pdf_obj *s = as ? pdf_dict_get(fz, n, as) : NULL;
		return pdf_is_stream(fz, s) ? s : NULL;
	}
	return NULL;
}

static int stream_is_empty(fz_context *fz, pdf_obj *s)
{
	return pdf_to_int(fz, pdf_dict_get(fz, s, PDF_NAME(Length))) == 0;
}

/* A widget with a value but no usable appearance (written by a producer
 * that relied on /NeedAppearances): draw it ourselves, never leave it out. */
static void regenerate(signcore_doc *doc, pdf_obj *w)
{
	fz_context *fz = doc->ctx->fz;
	pdf_obj *field = signcore__widget_field(fz, w);
	signcore_field_type type = signcore__field_kind(fz, w);
	pdf_obj *v = pdf_dict_get_inheritable(fz, w, PDF_NAME(V));
	signcore_value val = SIGNCORE_VALUE_INIT;

	if (type == SIGNCORE_FIELD_TEXT || type == SIGNCORE_FIELD_DATE) {
		/* The value as stored: a date field's /V is already formatted. */
		if (pdf_is_string(fz, v) && *pdf_to_text_string(fz, v))
			signcore__redraw_text(doc, w, pdf_to_text_string(fz, v));
	} else if (type == SIGNCORE_FIELD_CHECKBOX) {
		val.checked = pdf_is_name(fz, v) && !pdf_name_eq(fz, v, PDF_NAME(Off));
		signcore__fill_widget(doc, field, &val);
	}
}

/* Remove the field objects listed in GONE (object numbers) from the field
 * tree, pruning parents left without kids. Returns 1 if ARR became empty. */
static int prune(fz_context *fz, pdf_obj *arr, const int *gone, int ngone, int depth)
{
	int i, j;

	for (i = pdf_array_len(fz, arr) - 1; i >= 0; i--) {
		pdf_obj *f = pdf_array_get(fz, arr, i);
		int num = pdf_to_num(fz, f), drop = 0;
		pdf_obj *kids = pdf_dict_get(fz, f, PDF_NAME(Kids));

		for (j = 0; j < ngone && !drop; j++)
			drop = num && gone[j] == num;
		if (!drop && pdf_is_array(fz, kids) && depth < 32 && pdf_array_len(fz, kids) > 0)
			drop = prune(fz, kids, gone, ngone, depth + 1);
		if (drop)
			pdf_array_delete(fz, arr, i);
	}
	return pdf_array_len(fz, arr) == 0;
}

int signcore_flatten(signcore_doc *doc, const char *const *names, size_t count)
{
	signcore_ctx *ctx;
	fz_context *fz;
	pdf_document *pdf;
	selection sel = { names, count };
	int *gone = NULL, ngone = 0, cap = 0, pages, p, i;
	sc_burn *b = NULL;
	size_t k;

	if (!doc || (count && !names))
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signcore_flatten: NULL names") : SIGNCORE_EINVAL;
	ctx = doc->ctx;
	fz = ctx->fz;
	pdf = doc->pdf;
	signcore__clear_err(ctx);
	pages = signcore_doc_page_count(doc);
	if (pages < 0)
		return pages;

	fz_var(gone);
	fz_var(ngone);
	fz_var(cap);
	fz_var(b);
	fz_try(fz) {
		for (k = 0; k < count; k++) {
			pdf_obj *f = signcore__find_field(fz, pdf, names[k]);
			if (!f)
				signcore__throw(ctx, SIGNCORE_ENOTFOUND, "field \"%s\": no such field in the document", names[k]);
			if (signcore__field_kind(fz, f) == SIGNCORE_FIELD_SIGNATURE &&
				pdf_is_dict(fz, pdf_dict_get_inheritable(fz, f, PDF_NAME(V))))
				signcore__throw(ctx, SIGNCORE_ESIGNED,
					"field \"%s\" holds a digital signature: flattening it would destroy it", names[k]);
		}
		for (p = 0; p < pages; p++) {
			sc_page pg;
			pdf_obj *annots, *keep;
			int changed = 0;

			signcore__page_get(fz, pdf, p, &pg);
			annots = pdf_dict_get(fz, pg.obj, PDF_NAME(Annots));
			if (!pdf_array_len(fz, annots))
				continue;
			for (i = 0; i < pdf_array_len(fz, annots); i++) {
				pdf_obj *w = pdf_array_get(fz, annots, i), *ap, *field;
				char *name;
				int flags, sel_it;

				if (!pdf_name_eq(fz, pdf_dict_get(fz, w, PDF_NAME(Subtype)), PDF_NAME(Widget)))
					continue;
				field = signcore__widget_field(fz, w);
				name = signcore__field_name(fz, field);
				sel_it = selected(&sel, name);
				fz_free(fz, name);
				if (!sel_it)
					continue;
				if (pdf_is_dict(fz, pdf_dict_get_inheritable(fz, w, PDF_NAME(V))) &&
					pdf_name_eq(fz, pdf_dict_get_inheritable(fz, w, PDF_NAME(FT)), PDF_NAME(Sig)))
					continue; /* signed: never flattened */
				flags = pdf_dict_get_int(fz, w, PDF_NAME(F));
				ap = current_ap(fz, w);
				if (!(flags & (2 | 32)) && (!ap || stream_is_empty(fz, ap))) {
					regenerate(doc, w);
					ap = current_ap(fz, w);
				}
				/* Hidden (2) and NoView (32) widgets vanish without ink. */
				if (ap && !stream_is_empty(fz, ap) && !(flags & (2 | 32))) {
					if (!b)
						b = signcore__burn_begin(fz, pdf, pg.obj);
					signcore__burn_xobject(fz, b, ap, pdf_dict_get_rect(fz, w, PDF_NAME(Rect)));
				}
				if (ngone + 2 > cap) {
					cap = cap ? cap * 2 : 32;
					gone = fz_realloc(fz, gone, cap * sizeof *gone);
				}
				gone[ngone++] = pdf_to_num(fz, w);
				if (field != w)
					gone[ngone++] = 0; /* the parent goes only if left empty */
				changed = 1;
			}
			if (b) {
				signcore__burn_end(fz, b);
				signcore__burn_drop(fz, b);
				b = NULL;
			}
			if (changed) {
				/* A fresh /Annots without the flattened widgets. */
				keep = pdf_new_array(fz, pdf, pdf_array_len(fz, annots));
				for (i = 0; i < pdf_array_len(fz, annots); i++) {
					pdf_obj *a = pdf_array_get(fz, annots, i);
					int num = pdf_to_num(fz, a), j, drop = 0;
					for (j = 0; j < ngone && !drop; j++)
						drop = num && gone[j] == num;
					if (!drop)
						pdf_array_push(fz, keep, a);
				}
				if (pdf_array_len(fz, keep))
					pdf_dict_put(fz, pg.obj, PDF_NAME(Annots), keep);
				else
					pdf_dict_del(fz, pg.obj, PDF_NAME(Annots));
				pdf_drop_obj(fz, keep);
			}
		}
		if (ngone) {
			pdf_obj *root = pdf_dict_get(fz, pdf_trailer(fz, pdf), PDF_NAME(Root));
			pdf_obj *form = pdf_dict_get(fz, root, PDF_NAME(AcroForm));
			pdf_obj *fields = pdf_dict_get(fz, form, PDF_NAME(Fields));
			if (prune(fz, fields, gone, ngone, 0) && !pdf_dict_get(fz, form, PDF_NAME(XFA)))
				pdf_dict_del(fz, root, PDF_NAME(AcroForm));
		}
	}
	fz_always(fz) {
		signcore__burn_drop(fz, b);
		fz_free(fz, gone);
	}
	fz_catch(fz)
		return signcore__caught(ctx, SIGNCORE_EBADINPUT, "flatten");
	return SIGNCORE_OK;
}
