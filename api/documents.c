/*
 * /v1/documents: create (sent at once unless a draft), list with cursor
 * pagination, get, patch and delete drafts, send, void, remind, download,
 * events, and the retry of a completion that failed.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"
#include "doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DOC_COLS "id, status, signing_order, original_sha256, signed_sha256, test, pages, expires_at," \
	" page_sizes, title"

const char *api_base_url(api_req *r)
{
	static char buf[512];
	const char *host, *https;

	if (r->base_url)
		return r->base_url;
	if (r->conf->base_url)
		return r->conf->base_url;
	host = api_env(r, "HTTP_HOST");
	https = api_env(r, "HTTPS");
	snprintf(buf, sizeof buf, "%s://%s", https && !strcasecmp(https, "on") ? "https" : "http",
		host && *host ? host : "localhost");
	return buf;
}

void api_doc_clear(api_doc *d)
{
	free(d->page_sizes);
	free(d->title);
	d->page_sizes = d->title = NULL;
}

static int valid_id(const char *s, const char *prefix)
{
	size_t pl = strlen(prefix), i;
	if (strncmp(s, prefix, pl) || strlen(s) != pl + 20)
		return 0;
	for (i = pl; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z')))
			return 0;
	return 1;
}

int api_doc_expire_due(api_req *r, const char *doc_id)
{
	int done = 0;

	if (api_db_exec(r->db, "BEGIN IMMEDIATE"))
		return 0;
	if (api_db_int(r->db, 0, "SELECT count(*) FROM documents WHERE id = ? AND status = 'pending'"
		" AND expires_at IS NOT NULL AND expires_at <= ?", "si", doc_id, api_now())) {
		api_db_run(r->db, "UPDATE documents SET status = 'expired', updated_at = ? WHERE id = ?", "is", api_now(),
			doc_id);
		api_event(r, doc_id, "document.expired", NULL, NULL);
		done = 1;
	}
	api_db_exec(r->db, "COMMIT");
	return done;
}

static int doc_fill(api_req *r, const char *id, api_doc *d, int scoped)
{
	sqlite3_stmt *st;
	int found = 0;

	memset(d, 0, sizeof *d);
	st = scoped ? api_db_query(r->db, "SELECT " DOC_COLS " FROM documents WHERE id = ? AND account_id = ?"
		" AND test = ?", "ssi", id, r->account_id, (long long)r->test) :
		api_db_query(r->db, "SELECT " DOC_COLS " FROM documents WHERE id = ?", "s", id);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(d->id, sizeof d->id, "%s", api_col_text(st, 0));
		snprintf(d->status, sizeof d->status, "%s", api_col_text(st, 1));
		snprintf(d->signing_order, sizeof d->signing_order, "%s", api_col_text(st, 2));
		snprintf(d->original_sha256, sizeof d->original_sha256, "%s", api_col_text(st, 3));
		snprintf(d->signed_sha256, sizeof d->signed_sha256, "%s", api_col_text(st, 4) ? api_col_text(st, 4) : "");
		d->test = sqlite3_column_int(st, 5);
		d->pages = sqlite3_column_int(st, 6);
		d->expires_at = sqlite3_column_int64(st, 7);
		d->page_sizes = strdup(api_col_text(st, 8));
		d->title = strdup(api_col_text(st, 9));
		found = 1;
	}
	api_db_done(st);
	return found;
}

/* Fill D and move a pending document past its expiry to expired first. */
static int load(api_req *r, const char *id, api_doc *d, int scoped)
{
	memset(d, 0, sizeof *d);
	if (!doc_fill(r, id, d, scoped))
		return -1;
	if (!strcmp(d->status, "pending") && d->expires_at && d->expires_at <= api_now() &&
		api_doc_expire_due(r, d->id)) {
		api_doc_clear(d);
		doc_fill(r, id, d, scoped);
	}
	return 0;
}

int api_doc_load(api_req *r, const char *id, api_doc *d)
{
	if (!valid_id(id, "doc_") || load(r, id, d, 1)) {
		memset(d, 0, sizeof *d);
		return api_fail(r, 404, "not_found", "no document %s", id);
	}
	return 0;
}

/* Like api_doc_load, for the signing endpoints (no account). */
int api_doc_load_any(api_req *r, const char *id, api_doc *d)
{
	return load(r, id, d, 0);
}

#define DOC_JSON_COLS "id, title, status, signing_order, message, expires_at, test, pages, original_sha256," \
	" signed_sha256, error, void_reason, created_at, updated_at, sent_at, completed_at, upload_id, page_sizes," \
	" reminder_days, next_reminder_at"

/* The JSON of the document in the current row of ST (DOC_JSON_COLS). */
static json_t *doc_json_row(api_req *r, sqlite3_stmt *st)
{
	const char *id = api_col_text(st, 0), *status = api_col_text(st, 2);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:b,s:i,s:o,s:s,s:o,s:o,s:o}", "id", id,
		"object", "document", "title", api_col_text(st, 1), "status", status, "error", api_col_json_str(st, 10),
		"voidReason", api_col_json_str(st, 11), "testMode", sqlite3_column_int(st, 6), "pages",
		sqlite3_column_int(st, 7), "pageSizes", json_loads(api_col_text(st, 17), 0, NULL), "signingOrder",
		api_col_text(st, 3), "message", api_col_json_str(st, 4), "storageKey", api_col_json_str(st, 16),
		"expiresAt", api_time_json(sqlite3_column_int64(st, 5)));

	json_object_set_new(o, "originalSha256", api_col_json_str(st, 8));
	json_object_set_new(o, "signedSha256", api_col_json_str(st, 9));
	json_object_set_new(o, "createdAt", api_time_json(sqlite3_column_int64(st, 12)));
	json_object_set_new(o, "updatedAt", api_time_json(sqlite3_column_int64(st, 13)));
	json_object_set_new(o, "sentAt", api_time_json(sqlite3_column_int64(st, 14)));
	json_object_set_new(o, "completedAt", api_time_json(sqlite3_column_int64(st, 15)));
	json_object_set_new(o, "reminderDays", sqlite3_column_int(st, 18) > 0 ?
		json_integer(sqlite3_column_int(st, 18)) : json_null());
	json_object_set_new(o, "nextReminderAt", api_time_json(!strcmp(status, "pending") ?
		sqlite3_column_int64(st, 19) : 0));
	json_object_set_new(o, "recipients", api_recipients_json(r, id, status));
	json_object_set_new(o, "fields", api_fields_json(r, id, NULL, !strcmp(status, "completed") ||
		!strcmp(status, "completing")));
	return o;
}

json_t *api_doc_json(api_req *r, const char *id)
{
	sqlite3_stmt *st = api_db_query(r->db, "SELECT " DOC_JSON_COLS " FROM documents WHERE id = ?", "s", id);
	json_t *o = st && sqlite3_step(st) == SQLITE_ROW ? doc_json_row(r, st) : NULL;

	api_db_done(st);
	return o;
}

/* A document can be sent when every signer and approver is known and at
 * least one of them exists. */
static int check_sendable(api_req *r, const char *doc_id)
{
	if (!api_db_int(r->db, 0, "SELECT count(*) FROM recipients WHERE document_id = ? AND role IN"
		" ('signer', 'approver')", "s", doc_id))
		return api_fail(r, 422, "no_signers", "a document needs at least one signer or approver to be sent");
	return 0;
}

/* Inside the caller's transaction. */
static int do_send(api_req *r, const char *doc_id)
{
	long long now = api_now();
	long long exp = api_db_int(r->db, 0, "SELECT expires_at FROM documents WHERE id = ?", "s", doc_id);
	long long link = exp > 0 ? exp : now + r->conf->signing_ttl;

	/* links in e-mails the worker sends later use the address this request came to */
	if (api_db_run(r->db, "UPDATE documents SET status = 'pending', sent_at = ?, updated_at = ?, base_url = ?,"
			" next_reminder_at = CASE WHEN reminder_days > 0 THEN ? + reminder_days * 86400 END WHERE id = ?",
			"iisis", now, now, api_base_url(r), now, doc_id) ||
		api_db_run(r->db, "UPDATE recipients SET status = 'sent', token_expires = ? WHERE document_id = ?", "is",
			link, doc_id) ||
		api_event(r, doc_id, "document.sent", NULL, NULL) || api_notify_turn(r, doc_id))
		return api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
	return 0;
}

static const char *const create_keys[] = { "title", "storageKey", "recipients", "fields", "signingOrder",
	"expiresAt", "message", "draft", "reminderDays", NULL };

static int parse_common(api_req *r, json_t *body, const char **title, const char **order, const char **message,
	long long *expires, long long *reminder)
{
	json_t *v;

	if ((v = json_object_get(body, "reminderDays"))) {
		if (!json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 30))
			return api_fail(r, 400, "invalid_field", "reminderDays must be an integer from 1 to 30, or null (off)");
		*reminder = json_is_null(v) ? 0 : json_integer_value(v);
	}
	if ((v = json_object_get(body, "title"))) {
		if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > 500)
			return api_fail(r, 400, "invalid_field", "title must be a non-empty string of at most 500 bytes");
		*title = json_string_value(v);
	}
	if ((v = json_object_get(body, "signingOrder"))) {
		const char *s = json_is_string(v) ? json_string_value(v) : "";
		if (strcmp(s, "parallel") && strcmp(s, "sequential"))
			return api_fail(r, 400, "invalid_field", "signingOrder must be parallel or sequential");
		*order = s;
	}
	if ((v = json_object_get(body, "message")) && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_length(v) > 5000)
			return api_fail(r, 400, "invalid_field", "message must be a string of at most 5000 bytes");
		*message = json_string_value(v);
	}
	if ((v = json_object_get(body, "expiresAt")) && !json_is_null(v)) {
		if (!json_is_string(v) || (*expires = api_parse_time(json_string_value(v))) < 0)
			return api_fail(r, 400, "invalid_field", "expiresAt must be an RFC 3339 time (2026-12-31T18:00:00Z)");
		if (*expires <= api_now())
			return api_fail(r, 422, "invalid_expiry", "expiresAt is in the past");
	}
	return 0;
}

int api_documents_create(api_req *r)
{
	const char *title = NULL, *order = "parallel", *message = NULL, *key;
	json_t *body, *recips, *fields, *v, *sizes = NULL, *stored = json_array();
	char *sizes_text = NULL;
	long long expires = 0, quota, reminder = 0;
	char id[40], month[8], sha[65] = "";
	size_t i;
	int draft = 0, pages = 0, rc = -1;
	sqlite3_stmt *st;
	time_t now = (time_t)api_now();
	struct tm tm;

	if (!(body = api_body_json(r)))
		goto out;
	if (api_check_keys(r, body, NULL, create_keys) ||
		parse_common(r, body, &title, &order, &message, &expires, &reminder))
		goto out;
	if (!title) {
		api_fail(r, 400, "invalid_field", "title is required");
		goto out;
	}
	if ((v = json_object_get(body, "draft")) && !json_is_boolean(v)) {
		api_fail(r, 400, "invalid_field", "draft must be true or false");
		goto out;
	}
	draft = json_is_true(v);
	v = json_object_get(body, "storageKey");
	if (!json_is_string(v)) {
		api_fail(r, 400, "invalid_field", "storageKey is required: upload the PDF first (POST /v1/uploads)");
		goto out;
	}
	key = json_string_value(v);
	if (!valid_id(key, "upl_")) {
		api_fail(r, 400, "invalid_storage_key", "storageKey is not a key this API issued");
		goto out;
	}
	st = api_db_prepare(r->db, "SELECT sha256, pages, page_sizes, status FROM uploads WHERE id = ? AND"
		" account_id = ? AND test = ?", "ssi", key, r->account_id, (long long)r->test);
	if (st && sqlite3_step(st) == SQLITE_ROW && !strcmp(api_col_text(st, 3), "ready")) {
		snprintf(sha, sizeof sha, "%s", api_col_text(st, 0));
		pages = sqlite3_column_int(st, 1);
		sizes = json_loads(api_col_text(st, 2), 0, NULL);
	}
	sqlite3_finalize(st);
	if (!sizes) {
		api_fail(r, 404, "upload_not_found", "no finished upload %s", key);
		goto out;
	}
	recips = json_object_get(body, "recipients");
	fields = json_object_get(body, "fields");
	if ((recips && !json_is_array(recips)) || (fields && !json_is_array(fields))) {
		api_fail(r, 400, "invalid_field", "recipients and fields must be arrays");
		goto out;
	}
	if (json_array_size(recips) > 100 || json_array_size(fields) > 1000) {
		api_fail(r, 422, "too_many", "at most 100 recipients and 1000 fields");
		goto out;
	}
	api_new_id(id, sizeof id, "doc_");
	gmtime_r(&now, &tm);
	strftime(month, sizeof month, "%Y-%m", &tm);

	if (api_db_exec(r->db, "BEGIN IMMEDIATE")) {
		api_fail(r, 503, "busy", "the database is busy");
		goto out;
	}
	quota = r->conf->documents[r->plan];
	if (!r->test && quota >= 0 && api_db_int(r->db, 0, "SELECT documents FROM usage WHERE account_id = ? AND"
		" month = ?", "ss", r->account_id, month) >= quota) {
		api_fail(r, 429, "quota_exceeded", "the %s plan allows %lld documents a month; this month's are used",
			api_plan_name(r->plan), quota);
		goto rollback;
	}
	if (api_db_run(r->db, "INSERT INTO documents (id, account_id, test, title, status, signing_order, message,"
		" expires_at, upload_id, original_sha256, pages, page_sizes, created_at, updated_at) VALUES"
		" (?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?)", "ssisssissisii", id, r->account_id, (long long)r->test,
		title, order, message, expires > 0 ? expires : 0, key, sha, (long long)pages,
		(sizes_text = json_dumps(sizes, JSON_COMPACT)), api_now(), api_now())) {
		api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
		goto rollback;
	}
	if (expires <= 0)
		api_db_run(r->db, "UPDATE documents SET expires_at = NULL WHERE id = ?", "s", id);
	if (reminder > 0)
		api_db_run(r->db, "UPDATE documents SET reminder_days = ? WHERE id = ?", "is", reminder, id);
	for (i = 0; i < json_array_size(recips); i++) {
		api_recipient_in in = { 0 };
		char where[48], rid[40];
		snprintf(where, sizeof where, "recipients[%zu]", i);
		if (api_recipient_parse(r, json_array_get(recips, i), where, &in, 0) ||
			api_recipient_insert(r, id, (int)i, &in, rid))
			goto rollback;
		json_array_append_new(stored, json_pack("{s:s,s:s,s:s}", "id", rid, "email", in.email, "role", in.role));
	}
	for (i = 0; i < json_array_size(fields); i++) {
		api_field_in f = { 0 };
		char where[48];
		int bad;
		snprintf(where, sizeof where, "fields[%zu]", i);
		bad = api_field_parse(r, json_array_get(fields, i), where, &f, sizes, stored, 0) ||
			api_field_insert(r, id, (int)i, &f, json_string_value(json_object_get(json_array_get(stored,
				(size_t)f.recipient), "id")), NULL);
		json_decref(f.options);
		if (bad)
			goto rollback;
	}
	if (api_event(r, id, "document.created", NULL, NULL))
		goto rollback;
	if (!draft && (check_sendable(r, id) || do_send(r, id)))
		goto rollback;
	if (!r->test) /* test-mode documents do not count against the plan */
		api_db_run(r->db, "INSERT INTO usage (account_id, month, documents) VALUES (?, ?, 1) ON CONFLICT"
			" (account_id, month) DO UPDATE SET documents = documents + 1", "ss", r->account_id, month);
	if (api_db_exec(r->db, "COMMIT")) {
		api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
		goto rollback;
	}
	rc = api_reply(r, 201, api_doc_json(r, id), NULL);
	goto out;
rollback:
	api_db_exec(r->db, "ROLLBACK");
out:
	free(sizes_text);
	json_decref(sizes);
	json_decref(stored);
	json_decref(body);
	return rc;
}

int api_documents_get(api_req *r)
{
	const char *id = r->params[0];
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	int found = 0, due = 0;

	/* api_doc_load and api_doc_json in one query: the document, if it is
	 * this account's and mode's, straight to JSON */
	if (valid_id(id, "doc_"))
		st = api_db_query(r->db, "SELECT " DOC_JSON_COLS " FROM documents WHERE id = ? AND account_id = ?"
			" AND test = ?", "ssi", id, r->account_id, (long long)r->test);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		long long expires = sqlite3_column_int64(st, 5);
		found = 1;
		/* past its expiry: expired first, as api_doc_load does */
		due = !strcmp(api_col_text(st, 2), "pending") && expires && expires <= api_now();
		if (!due) {
			o = doc_json_row(r, st);
			/* the answer may be served again (cache.c) until something
			 * commits, for a minute at most, and not past its expiry */
			r->cache_until = api_now() + API_CACHE_TTL;
			if (!strcmp(api_col_text(st, 2), "pending") && expires && expires < r->cache_until)
				r->cache_until = expires;
		}
	}
	api_db_done(st);
	if (!found)
		return api_fail(r, 404, "not_found", "no document %s", id);
	if (due) {
		api_doc_expire_due(r, id);
		o = api_doc_json(r, id);
	}
	return api_reply(r, 200, o, NULL);
}

static const char *const statuses[] = { "draft", "pending", "completing", "completed", "declined", "voided",
	"expired", NULL };

int api_documents_list(api_req *r)
{
	char *status = api_query(r, "status");
	long long limit, cursor, last = 0;
	json_t *list = json_array();
	sqlite3_stmt *st;
	int more = 0, rc = -1;
	size_t n = 0;

	if (api_page_args(r, &limit, &cursor))
		goto done;
	if (status) {
		const char *const *s;
		for (s = statuses; *s && strcmp(*s, status); s++)
			;
		if (!*s) {
			api_fail(r, 400, "invalid_parameter", "status must be draft, pending, completing, completed, declined,"
				" voided or expired");
			goto done;
		}
	}
	st = api_db_prepare(r->db, "SELECT id, seq FROM documents WHERE account_id = ? AND test = ? AND"
		" (? IS NULL OR status = ?) AND (? = 0 OR seq < ?) ORDER BY seq DESC LIMIT ?", "sissiii", r->account_id,
		(long long)r->test, status, status, cursor, cursor, limit + 1);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		if ((long long)n == limit) {
			more = 1;
			break;
		}
		json_array_append_new(list, api_doc_json(r, api_col_text(st, 0)));
		last = sqlite3_column_int64(st, 1);
		n++;
	}
	sqlite3_finalize(st);
	rc = api_reply(r, 200, list, api_page_meta(n, more, last));
	list = NULL;
done:
	json_decref(list);
	free(status);
	return rc;
}

static const char *const patch_keys[] = { "title", "signingOrder", "expiresAt", "message", "reminderDays", NULL };

int api_documents_patch(api_req *r)
{
	const char *title = NULL, *order = NULL, *message = NULL;
	long long expires = 0, reminder = -1;
	json_t *body;
	api_doc d;
	int rc = -1;

	if (!(body = api_body_json(r)))
		return -1;
	if (api_doc_load(r, r->params[0], &d))
		goto done;
	if (strcmp(d.status, "draft")) {
		api_fail(r, 409, "not_draft", "document %s is %s; only drafts can be changed", d.id, d.status);
		goto done;
	}
	if (api_check_keys(r, body, NULL, patch_keys) ||
		parse_common(r, body, &title, &order, &message, &expires, &reminder))
		goto done;
	if (reminder >= 0)
		api_db_run(r->db, "UPDATE documents SET reminder_days = ? WHERE id = ?", "is", reminder > 0 ? reminder : 0,
			d.id);
	api_db_run(r->db, "UPDATE documents SET title = coalesce(?, title), signing_order = coalesce(?, signing_order),"
		" message = CASE WHEN ? THEN ? ELSE message END, expires_at = CASE WHEN ? THEN ? ELSE expires_at END,"
		" updated_at = ? WHERE id = ?", "ssisiiis", title, order, (long long)(json_object_get(body, "message") != NULL),
		message, (long long)(json_object_get(body, "expiresAt") != NULL), expires > 0 ? expires : 0, api_now(), d.id);
	if (json_object_get(body, "expiresAt") && expires <= 0)
		api_db_run(r->db, "UPDATE documents SET expires_at = NULL WHERE id = ?", "s", d.id);
	rc = api_reply(r, 200, api_doc_json(r, d.id), NULL);
done:
	api_doc_clear(&d);
	json_decref(body);
	return rc;
}

int api_documents_delete(api_req *r)
{
	api_doc d;
	if (api_doc_load(r, r->params[0], &d))
		return -1;
	api_doc_clear(&d);
	if (strcmp(d.status, "draft"))
		return api_fail(r, 409, "not_draft", "document %s is %s; only drafts can be deleted (void it instead)", d.id,
			d.status);
	api_db_run(r->db, "DELETE FROM documents WHERE id = ?", "s", d.id);
	return api_reply(r, 200, json_pack("{s:s,s:b}", "id", d.id, "deleted", 1), NULL);
}

int api_documents_send(api_req *r)
{
	api_doc d;
	if (api_read_body(r, r->conf->max_json) || api_doc_load(r, r->params[0], &d))
		return -1;
	api_doc_clear(&d);
	if (strcmp(d.status, "draft"))
		return api_fail(r, 409, "invalid_state", "document %s is %s; only a draft can be sent", d.id, d.status);
	api_db_exec(r->db, "BEGIN IMMEDIATE");
	if (api_db_int(r->db, 0, "SELECT count(*) FROM documents WHERE id = ? AND status = 'draft'", "s", d.id) != 1) {
		api_db_exec(r->db, "ROLLBACK");
		return api_fail(r, 409, "invalid_state", "document %s is no longer a draft", d.id);
	}
	if (d.expires_at && d.expires_at <= api_now()) {
		api_db_exec(r->db, "ROLLBACK");
		return api_fail(r, 422, "invalid_expiry", "expiresAt is in the past: change it before sending");
	}
	if (check_sendable(r, d.id) || do_send(r, d.id)) {
		api_db_exec(r->db, "ROLLBACK");
		return -1;
	}
	api_db_exec(r->db, "COMMIT");
	return api_reply(r, 200, api_doc_json(r, d.id), NULL);
}

static const char *const reason_keys[] = { "reason", NULL };

/* An optional {"reason": "..."} body; NULL reason when absent. */
int api_reason_body(api_req *r, json_t **body, const char **reason, int required)
{
	json_t *v;

	*body = NULL;
	*reason = NULL;
	if (r->content_length <= 0 && !required)
		return 0;
	if (!(*body = api_body_json(r)))
		return -1;
	if (api_check_keys(r, *body, NULL, reason_keys))
		return -1;
	v = json_object_get(*body, "reason");
	if (v && (!json_is_string(v) || json_string_length(v) > 1000))
		return api_fail(r, 400, "invalid_field", "reason must be a string of at most 1000 bytes");
	*reason = v ? json_string_value(v) : NULL;
	if (required && (!*reason || !**reason))
		return api_fail(r, 400, "invalid_field", "reason is required");
	return 0;
}

int api_documents_void(api_req *r)
{
	const char *reason;
	json_t *body;
	api_doc d;
	int rc = -1;

	if (api_reason_body(r, &body, &reason, 0) || api_doc_load(r, r->params[0], &d))
		goto out;
	api_doc_clear(&d);
	api_db_exec(r->db, "BEGIN IMMEDIATE");
	if (api_db_int(r->db, 0, "SELECT count(*) FROM documents WHERE id = ? AND status IN ('pending', 'completing')",
		"s", d.id) != 1) {
		api_db_exec(r->db, "ROLLBACK");
		api_fail(r, 409, "invalid_state", "document %s is %s; only a pending document can be voided%s", d.id, d.status,
			!strcmp(d.status, "draft") ? " (delete a draft instead)" : "");
		goto out;
	}
	api_db_run(r->db, "UPDATE documents SET status = 'voided', void_reason = ?, updated_at = ? WHERE id = ?", "sis",
		reason, api_now(), d.id);
	api_event(r, d.id, "document.voided", NULL, reason);
	api_notify_closed(r, d.id, "voided", reason);
	api_db_exec(r->db, "COMMIT");
	rc = api_reply(r, 200, api_doc_json(r, d.id), NULL);
out:
	json_decref(body);
	return rc;
}

/* Recipients whose turn it is: signers and approvers not done yet, and in
 * sequential order only those of the lowest order still open. */
json_t *api_active_recipients(api_req *r, const char *doc_id, const char *order)
{
	json_t *a = json_array();
	long long min = api_db_int(r->db, 0, "SELECT min(ord) FROM recipients WHERE document_id = ? AND role IN"
		" ('signer', 'approver') AND status IN ('sent', 'viewed')", "s", doc_id);
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT id FROM recipients WHERE document_id = ? AND role IN"
		" ('signer', 'approver') AND status IN ('sent', 'viewed') AND (? = 'parallel' OR ord = ?) ORDER BY idx",
		"ssi", doc_id, order, min);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_string(api_col_text(st, 0)));
	sqlite3_finalize(st);
	return a;
}

int api_documents_remind(api_req *r)
{
	json_t *out;
	api_doc d;

	if (api_read_body(r, r->conf->max_json) || api_doc_load(r, r->params[0], &d))
		return -1;
	api_doc_clear(&d);
	if (strcmp(d.status, "pending"))
		return api_fail(r, 409, "invalid_state", "document %s is %s; reminders go only to pending documents", d.id,
			d.status);
	if (api_db_exec(r->db, "BEGIN IMMEDIATE"))
		return api_fail(r, 503, "busy", "the database is busy");
	out = api_notify_remind(r, d.id);
	if (!out || api_db_exec(r->db, "COMMIT")) {
		api_db_exec(r->db, "ROLLBACK");
		json_decref(out);
		return api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
	}
	return api_reply(r, 200, json_pack("{s:s,s:o}", "id", d.id, "reminded", out), NULL);
}

int api_documents_download(api_req *r)
{
	char *variant = api_query(r, "variant"), name[80];
	unsigned char *data = NULL;
	size_t len = 0;
	api_doc d;
	int rc = -1;

	if (api_doc_load(r, r->params[0], &d))
		goto out;
	if (!variant || !strcmp(variant, "signed")) {
		if (strcmp(d.status, "completed")) {
			api_fail(r, 409, "not_completed", "document %s is %s; the signed PDF exists once it is completed", d.id,
				d.status);
			goto out;
		}
		data = api_blob_get(r->conf->data_dir, d.signed_sha256, &len);
		snprintf(name, sizeof name, "%s-signed.pdf", d.id);
	} else if (!strcmp(variant, "original")) {
		data = api_blob_get(r->conf->data_dir, d.original_sha256, &len);
		snprintf(name, sizeof name, "%s.pdf", d.id);
	} else if (!strcmp(variant, "audit")) {
		json_t *log = api_audit_log(r, d.id);
		char *text = json_dumps(log, JSON_COMPACT), err[512];
		api_engine *e = api_engine_get(r);
		json_decref(log);
		if (!e) {
			free(text);
			goto out;
		}
		if (api_engine_audit(e, text, &data, &len, err, sizeof err)) {
			free(text);
			api_fail(r, 500, "audit_failed", "the audit trail could not be made: %s", err);
			goto out;
		}
		free(text);
		snprintf(name, sizeof name, "%s-audit.pdf", d.id);
	} else {
		api_fail(r, 400, "invalid_parameter", "variant must be original, signed or audit");
		goto out;
	}
	if (!data) {
		api_fail(r, 500, "blob_missing", "the stored file of document %s is missing", d.id);
		goto out;
	}
	rc = api_reply_bytes(r, 200, "application/pdf", data, len, name);
out:
	free(data);
	free(variant);
	api_doc_clear(&d);
	return rc;
}

int api_documents_events(api_req *r)
{
	json_t *list = json_array();
	sqlite3_stmt *st;
	api_doc d;

	if (api_doc_load(r, r->params[0], &d)) {
		json_decref(list);
		return -1;
	}
	api_doc_clear(&d);
	st = api_db_prepare(r->db, "SELECT id, body FROM events WHERE document_id = ? ORDER BY seq", "s", d.id);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		json_t *e = json_loads(api_col_text(st, 1), 0, NULL);
		json_object_set_new(e, "id", json_string(api_col_text(st, 0)));
		json_array_append_new(list, e);
	}
	sqlite3_finalize(st);
	return api_reply_list(r, list);
}

int api_documents_complete(api_req *r)
{
	api_doc d;
	if (api_read_body(r, r->conf->max_json) || api_doc_load(r, r->params[0], &d))
		return -1;
	api_doc_clear(&d);
	if (strcmp(d.status, "completing"))
		return api_fail(r, 409, "invalid_state", "document %s is %s; only a completion that failed is retried", d.id,
			d.status);
	api_complete(r, d.id);
	return api_reply(r, 200, api_doc_json(r, d.id), NULL);
}
