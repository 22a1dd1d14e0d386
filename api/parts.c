/*
 * Recipients and fields: validation of what a client sends, storage, their
 * JSON form, and the sub-resources /v1/documents/{id}/recipients|fields
 * (editable while the document is a draft).
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"
#include "doc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const recipient_keys[] = { "email", "name", "role", "order", "otp", NULL };
static const char *const field_keys[] = { "type", "page", "rect", "units", "label", "required", "recipient",
	"font", "font_size", "align", "multiline", "date_format", "time_zone", NULL };

static int valid_email(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s), i;

	if (!at || at == s || strchr(at + 1, '@') || !strchr(at + 1, '.') || n > 254)
		return 0;
	if (at[1] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == '<' || s[i] == '>' || s[i] == '"' || s[i] == ',')
			return 0;
	return 1;
}

int api_recipient_parse(api_req *r, json_t *o, const char *where, api_recipient_in *out, int partial)
{
	json_t *v;

	if (!json_is_object(o))
		return api_fail(r, 400, "invalid_field", "%s must be an object", where);
	if (api_check_keys(r, o, where, recipient_keys))
		return -1;
	if ((v = json_object_get(o, "email")) || !partial) {
		if (!json_is_string(v) || !valid_email(json_string_value(v)))
			return api_fail(r, 400, "invalid_field", "%s.email must be an e-mail address", where);
		out->email = json_string_value(v);
	}
	if ((v = json_object_get(o, "name")) || !partial) {
		if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > 200)
			return api_fail(r, 400, "invalid_field", "%s.name must be a non-empty string (at most 200 bytes)",
				where);
		out->name = json_string_value(v);
	}
	if ((v = json_object_get(o, "role"))) {
		const char *s = json_is_string(v) ? json_string_value(v) : "";
		if (strcmp(s, "signer") && strcmp(s, "approver") && strcmp(s, "viewer") && strcmp(s, "cc"))
			return api_fail(r, 400, "invalid_field", "%s.role must be signer, approver, viewer or cc", where);
		out->role = s;
	} else if (!partial)
		out->role = "signer";
	if ((v = json_object_get(o, "order"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000)
			return api_fail(r, 400, "invalid_field", "%s.order must be an integer from 1 to 1000", where);
		out->order = (int)json_integer_value(v);
	}
	if ((v = json_object_get(o, "otp"))) {
		if (!json_is_boolean(v))
			return api_fail(r, 400, "invalid_field", "%s.otp must be true or false", where);
		out->otp = json_is_true(v) ? 1 : 0;
	} else
		out->otp = partial ? -1 : 0;
	return 0;
}

static int num(json_t *v, double *out)
{
	if (!json_is_number(v))
		return 0;
	*out = json_number_value(v);
	return isfinite(*out);
}

int api_field_parse(api_req *r, json_t *o, const char *where, api_field_in *f, json_t *page_sizes,
	json_t *recipients, int partial)
{
	static const char *const types[] = { "signature", "initials", "text", "checkbox", "date", NULL };
	json_t *v, *opts;
	const char *const *t;
	const char *k;
	double pw, ph;
	int i;

	if (!json_is_object(o))
		return api_fail(r, 400, "invalid_field", "%s must be an object", where);
	if (api_check_keys(r, o, where, field_keys))
		return -1;
	if ((v = json_object_get(o, "type")) || !partial) {
		const char *s = json_is_string(v) ? json_string_value(v) : "";
		for (t = types; *t && strcmp(*t, s); t++)
			;
		if (!*t)
			return api_fail(r, 400, "invalid_field", "%s.type must be signature, initials, text, checkbox or date",
				where);
		f->type = *t;
	}
	if ((v = json_object_get(o, "page")) || !partial) {
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return api_fail(r, 400, "invalid_field", "%s.page must be a page number from 1", where);
		if (json_integer_value(v) > (json_int_t)json_array_size(page_sizes))
			return api_fail(r, 422, "invalid_page", "%s.page is %lld but the document has %zu pages", where,
				(long long)json_integer_value(v), json_array_size(page_sizes));
		f->page = (int)json_integer_value(v);
	}
	if ((v = json_object_get(o, "units"))) {
		const char *s = json_is_string(v) ? json_string_value(v) : "";
		if (strcmp(s, "pt") && strcmp(s, "percent"))
			return api_fail(r, 400, "invalid_field", "%s.units must be pt or percent", where);
		f->units = s;
	} else if (!partial)
		f->units = "pt";
	if ((v = json_object_get(o, "rect")) || !partial) {
		if (!json_is_array(v) || json_array_size(v) != 4)
			return api_fail(r, 400, "invalid_field", "%s.rect must be [x, y, width, height]", where);
		for (i = 0; i < 4; i++)
			if (!num(json_array_get(v, (size_t)i), &f->rect[i]))
				return api_fail(r, 400, "invalid_field", "%s.rect[%d] must be a number", where, i);
	}
	/* the rectangle must lie on the page as displayed */
	pw = json_number_value(json_array_get(json_array_get(page_sizes, (size_t)f->page - 1), 0));
	ph = json_number_value(json_array_get(json_array_get(page_sizes, (size_t)f->page - 1), 1));
	if (f->units && !strcmp(f->units, "percent"))
		pw = ph = 100;
	if (f->rect[2] <= 0 || f->rect[3] <= 0 || f->rect[0] < 0 || f->rect[1] < 0 ||
		f->rect[0] + f->rect[2] > pw + 0.01 || f->rect[1] + f->rect[3] > ph + 0.01)
		return api_fail(r, 422, "invalid_rect",
			"%s.rect [%g, %g, %g, %g] is not inside page %d (%g x %g %s, from the top-left)", where, f->rect[0],
			f->rect[1], f->rect[2], f->rect[3], f->page, pw, ph, f->units && !strcmp(f->units, "percent") ? "%" : "pt");
	if ((v = json_object_get(o, "label"))) {
		if (!json_is_string(v) || json_string_length(v) > 200)
			return api_fail(r, 400, "invalid_field", "%s.label must be a string (at most 200 bytes)", where);
		f->label = json_string_value(v);
	}
	if ((v = json_object_get(o, "required"))) {
		if (!json_is_boolean(v))
			return api_fail(r, 400, "invalid_field", "%s.required must be true or false", where);
		f->required = json_is_true(v);
	} else if (!partial)
		f->required = 1;
	if ((v = json_object_get(o, "recipient")) || !partial) {
		size_t n = json_array_size(recipients), j;
		f->recipient = -1;
		if (json_is_integer(v)) {
			if (json_integer_value(v) >= 0 && (size_t)json_integer_value(v) < n)
				f->recipient = (int)json_integer_value(v);
		} else if (json_is_string(v)) {
			for (j = 0; j < n; j++) {
				const char *e = json_string_value(json_object_get(json_array_get(recipients, j), "email"));
				const char *id = json_string_value(json_object_get(json_array_get(recipients, j), "id"));
				if ((e && !strcasecmp(e, json_string_value(v))) || (id && !strcmp(id, json_string_value(v))))
					f->recipient = (int)j;
			}
		}
		if (f->recipient < 0)
			return api_fail(r, 422, "invalid_recipient",
				"%s.recipient must be the e-mail of a recipient or its 0-based index in recipients", where);
		{
			const char *role = json_string_value(json_object_get(json_array_get(recipients,
				(size_t)f->recipient), "role"));
			if (role && strcmp(role, "signer") && strcmp(role, "approver"))
				return api_fail(r, 422, "invalid_recipient", "%s.recipient is a %s; only signers and approvers fill fields",
					where, role);
		}
	}
	/* layout options pass through to the field spec */
	opts = f->options ? f->options : json_object();
	json_object_foreach(o, k, v) {
		if (strcmp(k, "font") && strcmp(k, "font_size") && strcmp(k, "align") && strcmp(k, "multiline") &&
			strcmp(k, "date_format") && strcmp(k, "time_zone"))
			continue;
		if (!strcmp(k, "font") && (!json_is_string(v) || (strcmp(json_string_value(v), "sans") &&
			strcmp(json_string_value(v), "serif") && strcmp(json_string_value(v), "mono") &&
			strcmp(json_string_value(v), "script")))) {
			if (!f->options)
				json_decref(opts);
			return api_fail(r, 400, "invalid_field", "%s.font must be sans, serif, mono or script", where);
		}
		if ((!strcmp(k, "font_size") && !json_is_number(v)) || (!strcmp(k, "multiline") && !json_is_boolean(v)) ||
			((!strcmp(k, "align") || !strcmp(k, "date_format") || !strcmp(k, "time_zone")) &&
				!json_is_string(v))) {
			if (!f->options)
				json_decref(opts);
			return api_fail(r, 400, "invalid_field", "%s.%s has the wrong type", where, k);
		}
		json_object_set(opts, k, v);
	}
	f->options = opts;
	return 0;
}

json_t *api_recipient_json(api_req *r, sqlite3_stmt *st, const char *doc_status)
{
	/* columns: id, idx, email, name, role, ord, status, viewed_at, completed_at, reason, otp, otp_verified_at */
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:s}", "id", api_col_text(st, 0), "email",
		api_col_text(st, 2), "name", api_col_text(st, 3), "role", api_col_text(st, 4), "order",
		sqlite3_column_int(st, 5), "status", api_col_text(st, 6));
	json_object_set_new(o, "viewedAt", api_time_json(sqlite3_column_int64(st, 7)));
	json_object_set_new(o, "completedAt", api_time_json(sqlite3_column_int64(st, 8)));
	json_object_set_new(o, "reason", api_col_json_str(st, 9));
	json_object_set_new(o, "otp", json_boolean(sqlite3_column_int(st, 10)));
	json_object_set_new(o, "otpVerifiedAt", api_time_json(sqlite3_column_int64(st, 11)));
	if (strcmp(doc_status, "draft")) {
		char token[128];
		const char *base = api_base_url(r);
		if (!api_signing_token(r, api_col_text(st, 0), token, sizeof token)) {
			size_t n = strlen(base) + strlen(token) + 16;
			char *url = malloc(n);
			snprintf(url, n, "%s/v1/signing/%s", base, token);
			json_object_set_new(o, "signingUrl", json_string(url));
			free(url);
		}
	} else
		json_object_set_new(o, "signingUrl", json_null());
	return o;
}

#define RECIPIENT_COLS "id, idx, email, name, role, ord, status, viewed_at, completed_at, reason, otp," \
	" otp_verified_at"
#define FIELD_COLS "f.id, f.type, f.page, f.x, f.y, f.w, f.h, f.units, f.label, f.required, f.options, f.value," \
	" r.email, r.id"

json_t *api_recipients_json(api_req *r, const char *doc_id, const char *doc_status)
{
	json_t *a = json_array();
	sqlite3_stmt *st = api_db_query(r->db, "SELECT " RECIPIENT_COLS " FROM recipients WHERE document_id = ?"
		" ORDER BY idx", "s", doc_id);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, api_recipient_json(r, st, doc_status));
	api_db_done(st);
	return a;
}

static json_t *field_json(sqlite3_stmt *st, int with_value)
{
	json_t *o = json_pack("{s:s,s:s,s:i,s:[f,f,f,f],s:s,s:o,s:b,s:s,s:s}", "id", api_col_text(st, 0), "type",
		api_col_text(st, 1), "page", sqlite3_column_int(st, 2), "rect", sqlite3_column_double(st, 3),
		sqlite3_column_double(st, 4), sqlite3_column_double(st, 5), sqlite3_column_double(st, 6), "units",
		api_col_text(st, 7), "label", api_col_json_str(st, 8), "required", sqlite3_column_int(st, 9),
		"recipient", api_col_text(st, 12), "recipientId", api_col_text(st, 13));
	const char *opts = api_col_text(st, 10);
	if (opts) {
		json_t *j = json_loads(opts, 0, NULL);
		if (json_is_object(j))
			json_object_update(o, j);
		json_decref(j);
	}
	if (with_value) {
		const char *v = api_col_text(st, 11);
		json_t *j = v ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
		json_object_set_new(o, "value", j ? j : json_null());
	}
	return o;
}

json_t *api_fields_json(api_req *r, const char *doc_id, const char *recipient_id, int with_values)
{
	json_t *a = json_array();
	sqlite3_stmt *st = api_db_query(r->db, "SELECT " FIELD_COLS " FROM fields f JOIN recipients r"
		" ON r.id = f.recipient_id WHERE f.document_id = ? AND (? IS NULL OR f.recipient_id = ?) ORDER BY f.idx",
		"sss", doc_id, recipient_id, recipient_id);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, field_json(st, with_values));
	api_db_done(st);
	return a;
}

int api_recipient_insert(api_req *r, const char *doc_id, int idx, const api_recipient_in *in, char *id_out)
{
	char id[40];
	api_new_id(id, sizeof id, "rcp_");
	if (api_db_run(r->db, "INSERT INTO recipients (id, document_id, idx, email, name, role, ord, status, otp)"
			" VALUES (?, ?, ?, lower(?), ?, ?, ?, 'created', ?)", "ssisssii", id, doc_id, (long long)idx, in->email,
			in->name, in->role, (long long)(in->order ? in->order : idx + 1), (long long)(in->otp > 0))) {
		if (sqlite3_extended_errcode(r->db) == SQLITE_CONSTRAINT_UNIQUE)
			return api_fail(r, 409, "duplicate_recipient", "%s is already a recipient of this document", in->email);
		return api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
	}
	if (id_out)
		strcpy(id_out, id);
	return 0;
}

int api_field_insert(api_req *r, const char *doc_id, int idx, const api_field_in *f, const char *recipient_id,
	char *id_out)
{
	char id[40], *opts = f->options && json_object_size(f->options) ?
		json_dumps(f->options, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int rc;

	api_new_id(id, sizeof id, "fld_");
	rc = api_db_run(r->db, "INSERT INTO fields (id, document_id, recipient_id, idx, type, page, x, y, w, h, units,"
		" label, required, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "sssisiddddssis", id, doc_id,
		recipient_id, (long long)idx, f->type, (long long)f->page, f->rect[0], f->rect[1], f->rect[2], f->rect[3],
		f->units, f->label, (long long)f->required, opts);
	free(opts);
	if (rc)
		return api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
	if (id_out)
		strcpy(id_out, id);
	return 0;
}

/* ------------------------------------------------------------ sub-resources */

static json_t *page_sizes(api_req *r, const char *doc_id)
{
	json_t *j = NULL;
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT page_sizes FROM documents WHERE id = ?", "s", doc_id);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		j = json_loads(api_col_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	return j ? j : json_array();
}

/* Only the id and status are kept: the strings are released at once. */
static int load_draft(api_req *r, api_doc *d, int need_draft)
{
	if (api_doc_load(r, r->params[0], d))
		return -1;
	api_doc_clear(d);
	if (need_draft && strcmp(d->status, "draft"))
		return api_fail(r, 409, "not_draft", "document %s is %s; recipients and fields change only while it is a draft",
			d->id, d->status);
	return 0;
}

int api_recipients_list(api_req *r)
{
	api_doc d;
	if (load_draft(r, &d, 0))
		return -1;
	return api_reply_list(r, api_recipients_json(r, d.id, d.status));
}

static json_t *recipient_by_id(api_req *r, const char *doc_id, const char *rid, const char *status)
{
	json_t *o = NULL;
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT " RECIPIENT_COLS " FROM recipients WHERE document_id = ?"
		" AND id = ?", "ss", doc_id, rid);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		o = api_recipient_json(r, st, status);
	sqlite3_finalize(st);
	return o;
}

int api_recipients_add(api_req *r)
{
	api_recipient_in in = { 0 };
	char id[40];
	json_t *body;
	api_doc d;
	int rc = -1;

	if (!(body = api_body_json(r)))
		return -1;
	if (load_draft(r, &d, 1) || api_recipient_parse(r, body, "recipient", &in, 0))
		goto done;
	api_db_exec(r->db, "BEGIN IMMEDIATE");
	if (api_db_int(r->db, 0, "SELECT count(*) FROM recipients WHERE document_id = ?", "s", d.id) >= 100) {
		api_db_exec(r->db, "ROLLBACK");
		api_fail(r, 422, "too_many_recipients", "a document has at most 100 recipients");
		goto done;
	}
	if (api_recipient_insert(r, d.id, (int)api_db_int(r->db, 0, "SELECT coalesce(max(idx) + 1, 0) FROM"
		" recipients WHERE document_id = ?", "s", d.id), &in, id)) {
		api_db_exec(r->db, "ROLLBACK");
		goto done;
	}
	api_db_run(r->db, "UPDATE documents SET updated_at = ? WHERE id = ?", "is", api_now(), d.id);
	api_db_exec(r->db, "COMMIT");
	rc = api_reply(r, 201, recipient_by_id(r, d.id, id, d.status), NULL);
done:
	json_decref(body);
	return rc;
}

int api_recipients_patch(api_req *r)
{
	api_recipient_in in = { 0 };
	json_t *body;
	api_doc d;
	int rc = -1;

	if (!(body = api_body_json(r)))
		return -1;
	if (load_draft(r, &d, 1) || api_recipient_parse(r, body, "recipient", &in, 1))
		goto done;
	if (!api_db_int(r->db, 0, "SELECT count(*) FROM recipients WHERE document_id = ? AND id = ?", "ss", d.id,
		r->params[1])) {
		api_fail(r, 404, "not_found", "document %s has no recipient %s", d.id, r->params[1]);
		goto done;
	}
	if (in.role && strcmp(in.role, "signer") && strcmp(in.role, "approver") &&
		api_db_int(r->db, 0, "SELECT count(*) FROM fields WHERE recipient_id = ?", "s", r->params[1])) {
		api_fail(r, 409, "recipient_has_fields", "a %s fills no fields: delete this recipient's fields first", in.role);
		goto done;
	}
	if (api_db_run(r->db, "UPDATE recipients SET email = coalesce(lower(?), email), name = coalesce(?, name),"
		" role = coalesce(?, role) WHERE id = ?", "ssss", in.email, in.name, in.role, r->params[1])) {
		if (sqlite3_extended_errcode(r->db) == SQLITE_CONSTRAINT_UNIQUE)
			api_fail(r, 409, "duplicate_recipient", "%s is already a recipient of this document", in.email);
		else
			api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
		goto done;
	}
	if (in.order)
		api_db_run(r->db, "UPDATE recipients SET ord = ? WHERE id = ?", "is", (long long)in.order, r->params[1]);
	if (in.otp >= 0)
		api_db_run(r->db, "UPDATE recipients SET otp = ? WHERE id = ?", "is", (long long)in.otp, r->params[1]);
	api_db_run(r->db, "UPDATE documents SET updated_at = ? WHERE id = ?", "is", api_now(), d.id);
	rc = api_reply(r, 200, recipient_by_id(r, d.id, r->params[1], d.status), NULL);
done:
	json_decref(body);
	return rc;
}

/* DELETE of a recipient (its fields go with it) or a field of a draft. */
static int delete_part(api_req *r, const char *count_sql, const char *delete_sql, const char *noun)
{
	api_doc d;
	if (load_draft(r, &d, 1))
		return -1;
	if (!api_db_int(r->db, 0, count_sql, "ss", d.id, r->params[1]))
		return api_fail(r, 404, "not_found", "document %s has no %s %s", d.id, noun, r->params[1]);
	api_db_run(r->db, delete_sql, "s", r->params[1]);
	api_db_run(r->db, "UPDATE documents SET updated_at = ? WHERE id = ?", "is", api_now(), d.id);
	return api_reply(r, 200, json_pack("{s:s,s:b}", "id", r->params[1], "deleted", 1), NULL);
}

int api_recipients_delete(api_req *r)
{
	return delete_part(r, "SELECT count(*) FROM recipients WHERE document_id = ? AND id = ?",
		"DELETE FROM recipients WHERE id = ?", "recipient");
}

int api_fields_list(api_req *r)
{
	api_doc d;
	if (load_draft(r, &d, 0))
		return -1;
	return api_reply_list(r, api_fields_json(r, d.id, NULL, 1));
}

static json_t *field_by_id(api_req *r, const char *doc_id, const char *fid)
{
	json_t *o = NULL;
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT " FIELD_COLS " FROM fields f JOIN recipients r"
		" ON r.id = f.recipient_id WHERE f.document_id = ? AND f.id = ?", "ss", doc_id, fid);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		o = field_json(st, 1);
	sqlite3_finalize(st);
	return o;
}

int api_fields_add(api_req *r)
{
	api_field_in f = { 0 };
	json_t *body, *recips = NULL, *sizes = NULL;
	char id[40];
	api_doc d;
	int rc = -1;

	if (!(body = api_body_json(r)))
		return -1;
	if (load_draft(r, &d, 1))
		goto done;
	recips = api_recipients_json(r, d.id, d.status);
	sizes = page_sizes(r, d.id);
	if (api_field_parse(r, body, "field", &f, sizes, recips, 0))
		goto done;
	api_db_exec(r->db, "BEGIN IMMEDIATE");
	if (api_field_insert(r, d.id, (int)api_db_int(r->db, 0, "SELECT coalesce(max(idx) + 1, 0) FROM fields"
		" WHERE document_id = ?", "s", d.id), &f,
		json_string_value(json_object_get(json_array_get(recips, (size_t)f.recipient), "id")), id)) {
		api_db_exec(r->db, "ROLLBACK");
		goto done;
	}
	api_db_run(r->db, "UPDATE documents SET updated_at = ? WHERE id = ?", "is", api_now(), d.id);
	api_db_exec(r->db, "COMMIT");
	rc = api_reply(r, 201, field_by_id(r, d.id, id), NULL);
done:
	json_decref(f.options);
	json_decref(recips);
	json_decref(sizes);
	json_decref(body);
	return rc;
}

int api_fields_patch(api_req *r)
{
	json_t *body, *recips = NULL, *sizes = NULL, *cur = NULL, *merged = NULL;
	api_field_in f = { 0 };
	const char *k;
	json_t *v;
	api_doc d;
	int rc = -1;

	if (!(body = api_body_json(r)))
		return -1;
	if (load_draft(r, &d, 1))
		goto done;
	if (!(cur = field_by_id(r, d.id, r->params[1]))) {
		api_fail(r, 404, "not_found", "document %s has no field %s", d.id, r->params[1]);
		goto done;
	}
	/* the stored field with the changes applied is validated as a whole */
	merged = json_object();
	json_object_foreach(cur, k, v)
		if (strcmp(k, "id") && strcmp(k, "value") && strcmp(k, "recipientId") && !json_is_null(v))
			json_object_set(merged, k, v);
	if (api_check_keys(r, body, "field", field_keys))
		goto done;
	json_object_update(merged, body);
	recips = api_recipients_json(r, d.id, d.status);
	sizes = page_sizes(r, d.id);
	if (api_field_parse(r, merged, "field", &f, sizes, recips, 0))
		goto done;
	{
		char *opts = json_object_size(f.options) ? json_dumps(f.options, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		api_db_run(r->db, "UPDATE fields SET recipient_id = ?, type = ?, page = ?, x = ?, y = ?, w = ?, h = ?,"
			" units = ?, label = ?, required = ?, options = ? WHERE id = ?", "ssiddddssiss",
			json_string_value(json_object_get(json_array_get(recips, (size_t)f.recipient), "id")), f.type,
			(long long)f.page, f.rect[0], f.rect[1], f.rect[2], f.rect[3], f.units, f.label, (long long)f.required,
			opts, r->params[1]);
		free(opts);
	}
	api_db_run(r->db, "UPDATE documents SET updated_at = ? WHERE id = ?", "is", api_now(), d.id);
	rc = api_reply(r, 200, field_by_id(r, d.id, r->params[1]), NULL);
done:
	json_decref(f.options);
	json_decref(cur);
	json_decref(merged);
	json_decref(recips);
	json_decref(sizes);
	json_decref(body);
	return rc;
}

int api_fields_delete(api_req *r)
{
	return delete_part(r, "SELECT count(*) FROM fields WHERE document_id = ? AND id = ?",
		"DELETE FROM fields WHERE id = ?", "field");
}
