/*
 * /v1/signing/{token}: what a recipient's link opens. No API key: the
 * token itself (128 bits, expiring) is the credential.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"
#include "doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char id[40];
	char role[16];
	char status[16];
	char name[256];
	int order;
	long long token_expires;
	api_doc doc;
} signer_ctx;

/* Resolve the token: 404 for one that is not ours, 410 for one that has
 * expired or whose document is closed. WRITE: the recipient must be able
 * to act now (pending document, not done, its turn). */
static int resolve(api_req *r, signer_ctx *s, int write)
{
	const char *tok = r->params[0], *dot = strchr(tok, '.');
	char rid[40], expect[128];
	sqlite3_stmt *st;
	int found = 0;

	memset(s, 0, sizeof *s);
	if (!dot || (size_t)(dot - tok) >= sizeof rid || strlen(tok) > 100)
		return api_fail(r, 404, "signing_link_not_found", "this signing link is not valid");
	memcpy(rid, tok, (size_t)(dot - tok));
	rid[dot - tok] = 0;
	if (api_signing_token(r, rid, expect, sizeof expect) || !api_equal_secret(expect, tok))
		return api_fail(r, 404, "signing_link_not_found", "this signing link is not valid");
	st = api_db_prepare(r->db, "SELECT id, role, status, name, ord, token_expires, document_id FROM recipients"
		" WHERE id = ?", "s", rid);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(s->id, sizeof s->id, "%s", api_col_text(st, 0));
		snprintf(s->role, sizeof s->role, "%s", api_col_text(st, 1));
		snprintf(s->status, sizeof s->status, "%s", api_col_text(st, 2));
		snprintf(s->name, sizeof s->name, "%s", api_col_text(st, 3));
		s->order = sqlite3_column_int(st, 4);
		s->token_expires = sqlite3_column_int64(st, 5);
		found = !api_doc_load_any(r, api_col_text(st, 6), &s->doc);
	}
	sqlite3_finalize(st);
	if (!found || !strcmp(s->doc.status, "draft"))
		return api_fail(r, 404, "signing_link_not_found", "this signing link is not valid");
	if (!strcmp(s->doc.status, "expired"))
		return api_fail(r, 410, "document_expired", "this document expired before it was completed");
	if (!strcmp(s->doc.status, "voided"))
		return api_fail(r, 410, "document_voided", "the sender voided this document");
	if (s->token_expires && s->token_expires <= api_now() && strcmp(s->doc.status, "completed"))
		return api_fail(r, 410, "signing_link_expired", "this signing link has expired");
	if (!write)
		return 0;
	if (strcmp(s->doc.status, "pending"))
		return api_fail(r, 409, "invalid_state", "this document is %s", s->doc.status);
	if (strcmp(s->status, "sent") && strcmp(s->status, "viewed"))
		return api_fail(r, 409, "already_done", "you have already %s this document", s->status);
	return 0;
}

static void resolve_clear(signer_ctx *s)
{
	api_doc_clear(&s->doc);
}

/* Inside a transaction: may this recipient act now? */
static int my_turn(api_req *r, signer_ctx *s)
{
	json_t *active = api_active_recipients(r, s->doc.id, s->doc.signing_order);
	size_t i;
	int ok = 0;

	for (i = 0; i < json_array_size(active); i++)
		if (!strcmp(json_string_value(json_array_get(active, i)), s->id))
			ok = 1;
	json_decref(active);
	if (!ok)
		return api_fail(r, 409, "not_your_turn", "this document is signed in order and it is not your turn yet");
	return 0;
}

int api_signing_get(api_req *r)
{
	json_t *out, *active;
	signer_ctx s;
	size_t i;
	int turn = 0;

	if (resolve(r, &s, 0)) {
		resolve_clear(&s);
		return -1;
	}
	if (!strcmp(s.doc.status, "pending") && !strcmp(s.status, "sent")) {
		api_db_exec(r->db, "BEGIN IMMEDIATE");
		if (api_db_int(r->db, 0, "SELECT count(*) FROM recipients WHERE id = ? AND status = 'sent'", "s", s.id)) {
			api_db_run(r->db, "UPDATE recipients SET status = 'viewed', viewed_at = ? WHERE id = ?", "is", api_now(),
				s.id);
			if (!api_db_int(r->db, 0, "SELECT count(*) FROM events WHERE document_id = ? AND type = 'document.viewed'",
				"s", s.doc.id))
				api_event(r, s.doc.id, "document.viewed", s.id, NULL);
			api_event(r, s.doc.id, "signer.viewed", s.id, NULL);
			snprintf(s.status, sizeof s.status, "viewed");
		}
		api_db_exec(r->db, "COMMIT");
	}
	active = api_active_recipients(r, s.doc.id, s.doc.signing_order);
	for (i = 0; i < json_array_size(active); i++)
		if (!strcmp(json_string_value(json_array_get(active, i)), s.id))
			turn = 1;
	json_decref(active);
	out = json_pack("{s:{s:s,s:s,s:s,s:i,s:o,s:o,s:b},s:{s:s,s:s,s:s,s:s,s:i,s:b},s:o}",
		"document", "id", s.doc.id, "title", s.doc.title, "status", s.doc.status, "pages", s.doc.pages, "pageSizes",
		json_loads(s.doc.page_sizes, 0, NULL), "expiresAt", api_time_json(s.doc.expires_at), "testMode", s.doc.test,
		"recipient", "id", s.id, "name", s.name, "role", s.role, "status", s.status, "order", s.order, "canAct",
		turn, "fields", api_fields_json(r, s.doc.id, s.id, 0));
	{
		sqlite3_stmt *st = api_db_prepare(r->db, "SELECT message FROM documents WHERE id = ?", "s", s.doc.id);
		if (st && sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(json_object_get(out, "document"), "message", api_col_json_str(st, 0));
		sqlite3_finalize(st);
	}
	resolve_clear(&s);
	return api_reply(r, 200, out, NULL);
}

int api_signing_page(api_req *r)
{
	char *dpi_s = api_query(r, "dpi"), *end;
	unsigned char *pdf = NULL, *png = NULL;
	size_t len = 0, png_len = 0;
	double dpi = 96;
	long page;
	api_engine *e;
	signer_ctx s;
	int rc = -1;

	if (resolve(r, &s, 0))
		goto out;
	page = strtol(r->params[1], &end, 10);
	if (*end || page < 1 || page > s.doc.pages) {
		api_fail(r, 404, "page_not_found", "the document has pages 1 to %d", s.doc.pages);
		goto out;
	}
	if (dpi_s) {
		dpi = strtod(dpi_s, &end);
		if (*end || dpi < 18 || dpi > 300) {
			api_fail(r, 400, "invalid_parameter", "dpi must be from 18 to 300");
			goto out;
		}
	}
	if (!(pdf = api_blob_get(r->conf->data_dir, s.doc.original_sha256, &len))) {
		api_fail(r, 500, "blob_missing", "the stored file of this document is missing");
		goto out;
	}
	if (!(e = api_engine_get(r)) || api_engine_render(r, e, pdf, len, (int)page, dpi, &png, &png_len))
		goto out;
	api_header(r, "Cache-Control: private, max-age=300");
	rc = api_reply_bytes(r, 200, "image/png", png, png_len, NULL);
out:
	free(dpi_s);
	free(pdf);
	free(png);
	resolve_clear(&s);
	return rc;
}

static const char *const submit_keys[] = { "fields", "signature", NULL };

static int is_date(const char *s)
{
	int y, m, d, n = 0;
	if (!strcmp(s, "today") || !strcmp(s, "now"))
		return 1;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10 && !s[10])
		return m >= 1 && m <= 12 && d >= 1 && d <= 31;
	return api_parse_time(s) >= 0;
}

/* The signature object: {"text": "..."} or {"image": "data:image/png;base64,..."}. */
static json_t *parse_signature(api_req *r, json_t *sig)
{
	json_t *t, *im;

	if (!json_is_object(sig) || json_object_size(sig) != 1) {
		api_fail(r, 400, "invalid_signature", "signature must be {\"text\": \"typed name\"} or"
			" {\"image\": \"data:image/png;base64,...\"}");
		return NULL;
	}
	t = json_object_get(sig, "text");
	im = json_object_get(sig, "image");
	if (t) {
		if (!json_is_string(t) || !json_string_length(t) || json_string_length(t) > 200) {
			api_fail(r, 400, "invalid_signature", "signature.text must be a name of 1 to 200 bytes");
			return NULL;
		}
		return json_pack("{s:O}", "text", t);
	}
	if (im && json_is_string(im)) {
		const char *s = json_string_value(im), *comma = strchr(s, ',');
		unsigned char *raw;
		size_t n = 0;
		int png, jpg;
		if (strncmp(s, "data:image/png;base64,", 22) && strncmp(s, "data:image/jpeg;base64,", 23)) {
			api_fail(r, 400, "invalid_signature", "signature.image must be a data:image/png or data:image/jpeg"
				" base64 URL");
			return NULL;
		}
		if (json_string_length(im) > 3 * 1024 * 1024) {
			api_fail(r, 413, "payload_too_large", "signature.image is larger than 3 MB");
			return NULL;
		}
		if (!(raw = api_b64decode(comma + 1, strlen(comma + 1), &n))) {
			api_fail(r, 400, "invalid_signature", "signature.image is not valid base64");
			return NULL;
		}
		png = n > 8 && !memcmp(raw, "\x89PNG\r\n\x1a\n", 8);
		jpg = n > 3 && raw[0] == 0xff && raw[1] == 0xd8 && raw[2] == 0xff;
		free(raw);
		if (!png && !jpg) {
			api_fail(r, 422, "invalid_signature", "signature.image does not hold a PNG or JPEG image");
			return NULL;
		}
		return json_pack("{s:O}", "image", im);
	}
	api_fail(r, 400, "invalid_signature", "signature must be {\"text\": ...} or {\"image\": ...}");
	return NULL;
}

/* Record a decision (signed/approved/declined/rejected) and, when it was
 * the last one needed, start completion. */
static int finish_step(api_req *r, signer_ctx *s, const char *new_status, const char *event, const char *reason,
	const char *signature)
{
	int completing = 0, closes = !strcmp(new_status, "declined") || !strcmp(new_status, "rejected");

	if (api_db_run(r->db, "UPDATE recipients SET status = ?, completed_at = ?, ip = ?, user_agent = ?,"
			" signature = coalesce(?, signature), reason = ? WHERE id = ?", "sisssss", new_status, api_now(),
			r->remote_addr, r->user_agent, signature, reason, s->id) ||
		api_event(r, s->doc.id, event, s->id, reason))
		return api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
	if (closes) {
		api_db_run(r->db, "UPDATE documents SET status = 'declined', updated_at = ? WHERE id = ?", "is", api_now(),
			s->doc.id);
		api_event(r, s->doc.id, "document.declined", s->id, reason);
	} else if (!api_db_int(r->db, 1, "SELECT count(*) FROM recipients WHERE document_id = ? AND role IN"
			" ('signer', 'approver') AND status NOT IN ('signed', 'approved')", "s", s->doc.id)) {
		api_db_run(r->db, "UPDATE documents SET status = 'completing', updated_at = ? WHERE id = ?", "is", api_now(),
			s->doc.id);
		completing = 1;
	} else
		api_db_run(r->db, "UPDATE documents SET updated_at = ? WHERE id = ?", "is", api_now(), s->doc.id);
	if (api_db_exec(r->db, "COMMIT")) {
		api_db_exec(r->db, "ROLLBACK");
		return api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
	}
	if (completing)
		api_complete(r, s->doc.id);
	{
		json_t *doc = json_object();
		sqlite3_stmt *st = api_db_prepare(r->db, "SELECT status, error FROM documents WHERE id = ?", "s", s->doc.id);
		if (st && sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(doc, "status", json_string(api_col_text(st, 0))), json_object_set_new(doc, "error",
				api_col_json_str(st, 1));
		sqlite3_finalize(st);
		json_object_set_new(doc, "id", json_string(s->doc.id));
		return api_reply(r, 200, json_pack("{s:{s:s,s:s},s:o}", "recipient", "id", s->id, "status", new_status,
			"document", doc), NULL);
	}
}

/* Begin the write transaction and re-check the recipient inside it: two
 * submissions at the same instant are serialised here. */
static int begin_step(api_req *r, signer_ctx *s, const char *role_needed)
{
	if (strcmp(s->role, role_needed))
		return api_fail(r, 409, "wrong_role", "a %s cannot do this; %s", s->role,
			!strcmp(s->role, "approver") ? "approvers approve or reject" : "signers submit or decline");
	if (api_db_exec(r->db, "BEGIN IMMEDIATE"))
		return api_fail(r, 503, "busy", "the database is busy");
	if (api_db_int(r->db, 0, "SELECT count(*) FROM recipients WHERE id = ? AND status IN ('sent', 'viewed')", "s",
			s->id) != 1 ||
		api_db_int(r->db, 0, "SELECT count(*) FROM documents WHERE id = ? AND status = 'pending'", "s", s->doc.id) != 1) {
		api_db_exec(r->db, "ROLLBACK");
		return api_fail(r, 409, "already_done", "this step was already taken");
	}
	if (my_turn(r, s)) {
		api_db_exec(r->db, "ROLLBACK");
		return -1;
	}
	return 0;
}

int api_signing_submit(api_req *r)
{
	json_t *body = NULL, *values, *sig = NULL, *mine = NULL, *v;
	char *sig_text = NULL;
	const char *k;
	signer_ctx s;
	size_t i;
	int rc = -1, needs_sig = 0;

	memset(&s, 0, sizeof s);
	/* room for a drawn signature image as a data: URL */
	if (r->content_length > 0 && api_read_body(r, r->conf->max_json > 4 << 20 ? r->conf->max_json : 4 << 20))
		goto out;
	if (!(body = api_body_json(r)) || resolve(r, &s, 1))
		goto out;
	if (api_check_keys(r, body, NULL, submit_keys))
		goto out;
	values = json_object_get(body, "fields");
	if (values && !json_is_object(values)) {
		api_fail(r, 400, "invalid_field", "fields must be an object of field id: value");
		goto out;
	}
	mine = api_fields_json(r, s.doc.id, s.id, 0);
	/* every value must name one of this recipient's fields, with the right kind */
	json_object_foreach(values, k, v) {
		json_t *f = NULL;
		const char *type;
		for (i = 0; i < json_array_size(mine); i++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(mine, i), "id")), k))
				f = json_array_get(mine, i);
		if (!f) {
			api_fail(r, 422, "not_your_field", "field %s is not one of yours", k);
			goto out;
		}
		type = json_string_value(json_object_get(f, "type"));
		if (!strcmp(type, "signature") || !strcmp(type, "initials")) {
			api_fail(r, 400, "invalid_value", "field %s is a %s field: it takes the signature, not a value", k, type);
			goto out;
		}
		if ((!strcmp(type, "text") && (!json_is_string(v) || json_string_length(v) > 2000)) ||
			(!strcmp(type, "checkbox") && !json_is_boolean(v)) ||
			(!strcmp(type, "date") && (!json_is_string(v) || !is_date(json_string_value(v))))) {
			api_fail(r, 400, "invalid_value", "field %s (%s) takes %s", k, type,
				!strcmp(type, "checkbox") ? "true or false" : !strcmp(type, "date") ?
				"a date (YYYY-MM-DD, an RFC 3339 time or \"today\")" : "a string of at most 2000 bytes");
			goto out;
		}
	}
	for (i = 0; i < json_array_size(mine); i++) {
		json_t *f = json_array_get(mine, i);
		const char *id = json_string_value(json_object_get(f, "id"));
		const char *type = json_string_value(json_object_get(f, "type"));
		int is_sig = !strcmp(type, "signature") || !strcmp(type, "initials");
		needs_sig |= is_sig;
		if (!is_sig && json_is_true(json_object_get(f, "required")) &&
			(!(v = json_object_get(values, id)) || (json_is_string(v) && !json_string_length(v)) ||
				(!strcmp(type, "checkbox") && !json_is_true(v)))) {
			api_fail(r, 422, "missing_field", "field %s%s%s%s is required", id,
				json_is_string(json_object_get(f, "label")) ? " (" : "",
				json_is_string(json_object_get(f, "label")) ? json_string_value(json_object_get(f, "label")) : "",
				json_is_string(json_object_get(f, "label")) ? ")" : "");
			goto out;
		}
	}
	v = json_object_get(body, "signature");
	if (v && !(sig = parse_signature(r, v)))
		goto out;
	if (!sig) {
		api_fail(r, 422, "missing_signature", needs_sig ? "this document has signature fields for you: send a"
			" signature" : "send a signature to sign");
		goto out;
	}
	sig_text = json_dumps(sig, JSON_COMPACT);
	if (begin_step(r, &s, "signer"))
		goto out;
	/* store the values; signature and initials fields take the signature */
	for (i = 0; i < json_array_size(mine); i++) {
		json_t *f = json_array_get(mine, i);
		const char *id = json_string_value(json_object_get(f, "id"));
		const char *type = json_string_value(json_object_get(f, "type"));
		char *val = NULL;
		if (!strcmp(type, "signature") || !strcmp(type, "initials"))
			val = strdup(sig_text);
		else if ((v = json_object_get(values, id)))
			val = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (val)
			api_db_run(r->db, "UPDATE fields SET value = ? WHERE id = ?", "ss", val, id);
		free(val);
	}
	rc = finish_step(r, &s, "signed", "signer.signed", NULL, sig_text);
out:
	free(sig_text);
	json_decref(sig);
	json_decref(mine);
	json_decref(body);
	resolve_clear(&s);
	return rc;
}

static int decide(api_req *r, const char *role, const char *status, const char *event, int reason_required)
{
	const char *reason;
	json_t *body = NULL;
	signer_ctx s;
	int rc = -1;

	memset(&s, 0, sizeof s);
	if (api_reason_body(r, &body, &reason, reason_required) || resolve(r, &s, 1) || begin_step(r, &s, role))
		goto out;
	rc = finish_step(r, &s, status, event, reason, NULL);
out:
	json_decref(body);
	resolve_clear(&s);
	return rc;
}

int api_signing_decline(api_req *r)
{
	return decide(r, "signer", "declined", "signer.declined", 0);
}

int api_signing_approve(api_req *r)
{
	return decide(r, "approver", "approved", "approval.approved", 0);
}

int api_signing_reject(api_req *r)
{
	return decide(r, "approver", "rejected", "approval.rejected", 0);
}
