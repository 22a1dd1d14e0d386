/*
 * /v1/webhooks: endpoints that receive the account's events, their signing
 * secrets, and the delivery log. Events are queued here, in the transaction
 * of the change they report; signcore-worker delivers them.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"
#include "doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WEBHOOKS 16

static const char *const event_types[] = {
	"document.sent", "document.viewed", "document.completed", "document.voided", "document.expired",
	"document.declined", "signer.viewed", "signer.signed", "signer.declined", "signer.otp_verified",
	"approval.approved", "approval.rejected", NULL
};

int api_event_is_public(const char *type)
{
	const char *const *t;
	for (t = event_types; *t; t++)
		if (!strcmp(*t, type))
			return 1;
	return 0;
}

static const char *const webhook_cols = "id, url, events, enabled, description, test, created_at, updated_at,"
	" failing_since, disabled_reason, secret_rotated_at";

static json_t *webhook_json(sqlite3_stmt *st)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:b,s:o,s:b}", "id", api_col_text(st, 0), "object", "webhook", "url",
		api_col_text(st, 1), "events", json_loads(api_col_text(st, 2), 0, NULL), "enabled", sqlite3_column_int(st, 3),
		"description", api_col_json_str(st, 4), "testMode", sqlite3_column_int(st, 5));
	json_object_set_new(o, "createdAt", api_time_json(sqlite3_column_int64(st, 6)));
	json_object_set_new(o, "updatedAt", api_time_json(sqlite3_column_int64(st, 7)));
	json_object_set_new(o, "failingSince", api_time_json(sqlite3_column_int64(st, 8)));
	json_object_set_new(o, "disabledReason", api_col_json_str(st, 9));
	json_object_set_new(o, "secretRotatedAt", api_time_json(sqlite3_column_int64(st, 10)));
	return o;
}

/* The webhook ID of the request's account and mode, as JSON; NULL after 404. */
static json_t *webhook_get(api_req *r, const char *id)
{
	char sql[256];
	sqlite3_stmt *st;
	json_t *o = NULL;

	snprintf(sql, sizeof sql, "SELECT %s FROM webhooks WHERE id = ? AND account_id = ? AND test = ?", webhook_cols);
	st = api_db_prepare(r->db, sql, "ssi", id, r->account_id, (long long)r->test);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		o = webhook_json(st);
	sqlite3_finalize(st);
	if (!o)
		api_fail(r, 404, "webhook_not_found", "no webhook %s", id);
	return o;
}

static int new_secret(char out[64])
{
	unsigned char raw[32];
	if (api_random(raw, sizeof raw))
		return -1;
	memcpy(out, "whsec_", 6);
	api_b64url(out + 6, raw, sizeof raw);
	return 0;
}

/* events: an array of event types, or ["*"]; *OUT the stored JSON text. */
static int parse_events(api_req *r, json_t *v, char **out)
{
	json_t *list = json_array(), *e;
	size_t i, j;

	if (!v || json_is_null(v)) {
		json_array_append_new(list, json_string("*"));
		goto done;
	}
	if (!json_is_array(v) || !json_array_size(v)) {
		json_decref(list);
		return api_fail(r, 400, "invalid_events", "events must be a non-empty array of event types, or [\"*\"]");
	}
	json_array_foreach(v, i, e) {
		const char *t = json_string_value(e);
		if (!t || (strcmp(t, "*") && !api_event_is_public(t))) {
			json_decref(list);
			return api_fail(r, 422, "invalid_event_type", "%s%s%s is not an event type; the types are"
				" document.sent, document.viewed, document.completed, document.voided, document.expired,"
				" document.declined, signer.viewed, signer.signed, signer.declined, signer.otp_verified,"
				" approval.approved and approval.rejected (or \"*\" for all)", t ? "\"" : "", t ? t : "a non-string",
				t ? "\"" : "");
		}
		if (!strcmp(t, "*")) {
			json_array_clear(list);
			json_array_append_new(list, json_string("*"));
			goto done;
		}
		for (j = 0; j < json_array_size(list); j++)
			if (!strcmp(json_string_value(json_array_get(list, j)), t))
				break;
		if (j == json_array_size(list))
			json_array_append_new(list, json_string(t));
	}
done:
	*out = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	return *out ? 0 : api_fail(r, 500, "internal", "out of memory");
}

static int check_url(api_req *r, json_t *v)
{
	char err[512];
	if (!json_is_string(v))
		return api_fail(r, 400, "invalid_url", "url must be a string");
	if (api_url_check(json_string_value(v), r->test, err, sizeof err))
		return api_fail(r, 422, "webhook_url_not_allowed", "%s", err);
	return 0;
}

static int check_description(api_req *r, json_t *v)
{
	if (v && !json_is_null(v) && (!json_is_string(v) || json_string_length(v) > 500))
		return api_fail(r, 400, "invalid_description", "description must be a string of at most 500 bytes");
	return 0;
}

static const char *const webhook_keys[] = { "url", "events", "enabled", "description", NULL };

int api_webhooks_create(api_req *r)
{
	char id[40], secret[64], *events = NULL;
	json_t *body, *enabled, *o;
	long long now = api_now();
	int rc = -1;

	if (!(body = api_body_json(r)) || api_check_keys(r, body, NULL, webhook_keys))
		goto out;
	if (!json_object_get(body, "url")) {
		api_fail(r, 400, "missing_url", "url is required");
		goto out;
	}
	enabled = json_object_get(body, "enabled");
	if (enabled && !json_is_boolean(enabled)) {
		api_fail(r, 400, "invalid_enabled", "enabled must be true or false");
		goto out;
	}
	if (check_url(r, json_object_get(body, "url")) || parse_events(r, json_object_get(body, "events"), &events) ||
		check_description(r, json_object_get(body, "description")))
		goto out;
	if (api_db_int(r->db, 0, "SELECT count(*) FROM webhooks WHERE account_id = ? AND test = ?", "si", r->account_id,
			(long long)r->test) >= MAX_WEBHOOKS) {
		api_fail(r, 422, "too_many_webhooks", "an account has at most %d webhooks per mode", MAX_WEBHOOKS);
		goto out;
	}
	if (api_new_id(id, sizeof id, "wh_") || new_secret(secret)) {
		api_fail(r, 500, "internal", "no random numbers");
		goto out;
	}
	if (api_db_run(r->db, "INSERT INTO webhooks (id, account_id, test, url, events, enabled, description, secret,"
			" created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "ssississii", id, r->account_id,
			(long long)r->test, json_string_value(json_object_get(body, "url")), events,
			(long long)(!enabled || json_is_true(enabled)), json_string_value(json_object_get(body, "description")),
			secret, now, now)) {
		api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
		goto out;
	}
	if ((o = webhook_get(r, id))) {
		json_object_set_new(o, "secret", json_string(secret));
		rc = api_reply(r, 201, o, NULL);
	}
out:
	free(events);
	json_decref(body);
	return rc;
}

int api_webhooks_list(api_req *r)
{
	char sql[256];
	json_t *list = json_array();
	sqlite3_stmt *st;

	snprintf(sql, sizeof sql, "SELECT %s FROM webhooks WHERE account_id = ? AND test = ? ORDER BY created_at, id",
		webhook_cols);
	st = api_db_prepare(r->db, sql, "si", r->account_id, (long long)r->test);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(list, webhook_json(st));
	sqlite3_finalize(st);
	return api_reply_list(r, list);
}

int api_webhooks_get(api_req *r)
{
	json_t *o = webhook_get(r, r->params[0]);
	return o ? api_reply(r, 200, o, NULL) : -1;
}

int api_webhooks_patch(api_req *r)
{
	json_t *body = NULL, *o, *v;
	char *events = NULL;
	int rc = -1;

	if (!(o = webhook_get(r, r->params[0])))
		return -1;
	json_decref(o);
	if (!(body = api_body_json(r)) || api_check_keys(r, body, NULL, webhook_keys))
		goto out;
	v = json_object_get(body, "enabled");
	if (v && !json_is_boolean(v)) {
		api_fail(r, 400, "invalid_enabled", "enabled must be true or false");
		goto out;
	}
	if ((json_object_get(body, "url") && check_url(r, json_object_get(body, "url"))) ||
		(json_object_get(body, "events") && parse_events(r, json_object_get(body, "events"), &events)) ||
		check_description(r, json_object_get(body, "description")))
		goto out;
	if (api_db_exec(r->db, "BEGIN IMMEDIATE")) {
		api_fail(r, 503, "busy", "the database is busy");
		goto out;
	}
	if (json_object_get(body, "url"))
		api_db_run(r->db, "UPDATE webhooks SET url = ? WHERE id = ?", "ss",
			json_string_value(json_object_get(body, "url")), r->params[0]);
	if (events)
		api_db_run(r->db, "UPDATE webhooks SET events = ? WHERE id = ?", "ss", events, r->params[0]);
	if (json_object_get(body, "description"))
		api_db_run(r->db, "UPDATE webhooks SET description = ? WHERE id = ?", "ss",
			json_string_value(json_object_get(body, "description")), r->params[0]);
	if (json_is_true(v))  /* enabling again starts a fresh record */
		api_db_run(r->db, "UPDATE webhooks SET enabled = 1, failing_since = NULL, disabled_reason = NULL WHERE id = ?",
			"s", r->params[0]);
	else if (json_is_false(v))
		api_db_run(r->db, "UPDATE webhooks SET enabled = 0 WHERE id = ?", "s", r->params[0]);
	api_db_run(r->db, "UPDATE webhooks SET updated_at = ? WHERE id = ?", "is", api_now(), r->params[0]);
	if (api_db_exec(r->db, "COMMIT")) {
		api_db_exec(r->db, "ROLLBACK");
		api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
		goto out;
	}
	if ((o = webhook_get(r, r->params[0])))
		rc = api_reply(r, 200, o, NULL);
out:
	free(events);
	json_decref(body);
	return rc;
}

int api_webhooks_delete(api_req *r)
{
	json_t *o;

	if (!(o = webhook_get(r, r->params[0])))
		return -1;
	json_decref(o);
	if (api_db_run(r->db, "DELETE FROM webhooks WHERE id = ?", "s", r->params[0]))
		return api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
	return api_reply(r, 200, json_pack("{s:s,s:s,s:b}", "id", r->params[0], "object", "webhook", "deleted", 1), NULL);
}

static const char *const rotate_keys[] = { "graceSeconds", NULL };

int api_webhooks_rotate(api_req *r)
{
	json_t *body = NULL, *o, *g;
	long long grace = r->conf->wh_secret_grace, now = api_now();
	char secret[64];
	int rc = -1;

	if (!(o = webhook_get(r, r->params[0])))
		return -1;
	json_decref(o);
	if (r->content_length > 0) {
		if (!(body = api_body_json(r)) || api_check_keys(r, body, NULL, rotate_keys))
			goto out;
		if ((g = json_object_get(body, "graceSeconds"))) {
			if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > 7 * 86400) {
				api_fail(r, 400, "invalid_grace", "graceSeconds must be an integer from 0 to 604800");
				goto out;
			}
			grace = json_integer_value(g);
		}
	}
	if (new_secret(secret)) {
		api_fail(r, 500, "internal", "no random numbers");
		goto out;
	}
	if (api_db_run(r->db, "UPDATE webhooks SET old_secret = CASE WHEN ? > 0 THEN secret END,"
			" old_secret_until = CASE WHEN ? > 0 THEN ? END, secret = ?, secret_rotated_at = ?, updated_at = ?"
			" WHERE id = ?", "iiisiis", grace, grace, now + grace, secret, now, now, r->params[0])) {
		api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
		goto out;
	}
	if ((o = webhook_get(r, r->params[0]))) {
		json_object_set_new(o, "secret", json_string(secret));
		json_object_set_new(o, "previousSecretValidUntil", grace ? api_time_json(now + grace) : json_null());
		rc = api_reply(r, 200, o, NULL);
	}
out:
	json_decref(body);
	return rc;
}

/* ------------------------------------------------------------ deliveries */

/* A receiver's answer as a JSON string: bytes that are not UTF-8 become U+FFFD. */
static json_t *utf8_json(const char *s)
{
	api_buf b = { 0 };
	json_t *o;

	if (!s)
		return json_null();
	if ((o = json_string(s)))
		return o;
	while (*s) {
		const unsigned char *p = (const unsigned char *)s;
		size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0, i;
		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				n = 0;
		if (n && (o = json_stringn(s, n))) {
			json_decref(o);
			api_buf_add(&b, s, n);
			s += n;
		} else {
			api_buf_add(&b, "\xef\xbf\xbd", 3);
			s++;
		}
	}
	o = json_stringn(b.data ? b.data : "", b.len);
	api_buf_free(&b);
	return o ? o : json_null();
}

static json_t *delivery_json(api_req *r, const char *id)
{
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT d.id, d.webhook_id, d.event_id, e.type, d.document_id,"
		" d.status, d.attempts, d.next_at, d.created_at, d.delivered_at, d.error FROM deliveries d"
		" JOIN webhook_events e ON e.id = d.event_id WHERE d.id = ?", "s", id);
	json_t *o = NULL, *attempts;

	if (st && sqlite3_step(st) == SQLITE_ROW) {
		const char *status = api_col_text(st, 5);
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:i}", "id", api_col_text(st, 0), "object", "webhook_delivery",
			"webhookId", api_col_text(st, 1), "eventId", api_col_text(st, 2), "eventType", api_col_text(st, 3),
			"documentId", api_col_json_str(st, 4), "status", status, "attemptCount", sqlite3_column_int(st, 6));
		json_object_set_new(o, "nextAttemptAt", strcmp(status, "pending") ? json_null() :
			api_time_json(sqlite3_column_int64(st, 7)));
		json_object_set_new(o, "createdAt", api_time_json(sqlite3_column_int64(st, 8)));
		json_object_set_new(o, "deliveredAt", api_time_json(sqlite3_column_int64(st, 9)));
		json_object_set_new(o, "error", api_col_json_str(st, 10));
	}
	sqlite3_finalize(st);
	if (!o)
		return NULL;
	attempts = json_array();
	st = api_db_prepare(r->db, "SELECT at, status_code, error, duration_ms, response FROM delivery_attempts"
		" WHERE delivery_id = ? ORDER BY seq", "s", id);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(attempts, json_pack("{s:o,s:o,s:o,s:i,s:o}", "at", api_time_json(sqlite3_column_int64(st,
			0)), "statusCode", sqlite3_column_type(st, 1) == SQLITE_NULL ? json_null() :
			json_integer(sqlite3_column_int(st, 1)), "error", api_col_json_str(st, 2), "durationMs",
			sqlite3_column_int(st, 3), "responseBody", utf8_json(api_col_text(st, 4))));
	sqlite3_finalize(st);
	json_object_set_new(o, "attempts", attempts);
	return o;
}

int api_webhooks_deliveries(api_req *r)
{
	char *status = api_query(r, "status");
	long long limit, cursor, last = 0;
	json_t *list = NULL, *o;
	sqlite3_stmt *st;
	size_t n = 0;
	int more = 0, rc = -1;

	if (!(o = webhook_get(r, r->params[0])) || api_page_args(r, &limit, &cursor))
		goto out;
	if (status && strcmp(status, "pending") && strcmp(status, "delivering") && strcmp(status, "delivered") &&
		strcmp(status, "failed")) {
		api_fail(r, 400, "invalid_parameter", "status must be pending, delivering, delivered or failed");
		goto out;
	}
	list = json_array();
	st = api_db_prepare(r->db, "SELECT id, seq FROM deliveries WHERE webhook_id = ? AND (? IS NULL OR status = ?)"
		" AND (? = 0 OR seq < ?) ORDER BY seq DESC LIMIT ?", "sssiii", r->params[0], status, status, cursor, cursor,
		limit + 1);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		if ((long long)n == limit) {
			more = 1;
			break;
		}
		json_array_append_new(list, delivery_json(r, api_col_text(st, 0)));
		last = sqlite3_column_int64(st, 1);
		n++;
	}
	sqlite3_finalize(st);
	rc = api_reply(r, 200, list, api_page_meta(n, more, last));
	list = NULL;
out:
	json_decref(o);
	json_decref(list);
	free(status);
	return rc;
}

int api_webhooks_redeliver(api_req *r)
{
	long long now = api_now();
	json_t *o;
	const char *st;
	int rc = -1;

	if (!(o = webhook_get(r, r->params[0])))
		return -1;
	json_decref(o);
	if (api_db_exec(r->db, "BEGIN IMMEDIATE"))
		return api_fail(r, 503, "busy", "the database is busy");
	o = delivery_json(r, r->params[1]);
	if (!o || strcmp(json_string_value(json_object_get(o, "webhookId")), r->params[0])) {
		api_db_exec(r->db, "ROLLBACK");
		api_fail(r, 404, "delivery_not_found", "webhook %s has no delivery %s", r->params[0], r->params[1]);
		goto out;
	}
	st = json_string_value(json_object_get(o, "status"));
	if (!strcmp(st, "delivering")) {
		api_db_exec(r->db, "ROLLBACK");
		api_fail(r, 409, "invalid_state", "delivery %s is being attempted right now", r->params[1]);
		goto out;
	}
	/* a fresh schedule: retries start again from the shortest wait */
	api_db_run(r->db, "UPDATE deliveries SET status = 'pending', next_at = ?, give_up_at = ?, error = NULL,"
		" retries = 0, lease_owner = NULL, lease_until = NULL WHERE id = ?", "iis", now, now + r->conf->wh_give_up, r->params[1]);
	if (api_db_exec(r->db, "COMMIT")) {
		api_db_exec(r->db, "ROLLBACK");
		api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
		goto out;
	}
	json_decref(o);
	o = delivery_json(r, r->params[1]);
	rc = api_reply(r, 202, o, NULL);
	o = NULL;
out:
	json_decref(o);
	return rc;
}

/* Queue one delivery of EVENT_ID to WEBHOOK_ID (inside a transaction). */
static int delivery_add(api_req *r, const char *webhook_id, const char *event_id, const char *doc_id, char *id_out)
{
	char id[40];
	long long now = api_now();

	if (api_new_id(id, sizeof id, "dlv_"))
		return -1;
	if (id_out)
		memcpy(id_out, id, sizeof id);
	return api_db_run(r->db, "INSERT INTO deliveries (id, webhook_id, event_id, document_id, status, next_at,"
		" created_at, give_up_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)", "ssssiii", id, webhook_id, event_id,
		doc_id, now, now, now + r->conf->wh_give_up);
}

static int event_add(api_req *r, const char *id, const char *account, long long test, const char *type,
	const char *doc_id, json_t *data)
{
	char at[32], *payload;
	int rc;

	api_time_str(at, api_now());
	payload = json_dumps(json_pack("{s:s,s:s,s:s,s:o}", "id", id, "type", type, "createdAt", at, "data", data),
		JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!payload)
		return -1;
	rc = api_db_run(r->db, "INSERT INTO webhook_events (id, account_id, test, type, document_id, created_at, payload)"
		" VALUES (?, ?, ?, ?, ?, ?, ?)", "ssissis", id, account, test, type, doc_id, api_now(), payload);
	free(payload);
	return rc;
}

int api_webhooks_test(api_req *r)
{
	char evt[40], dlv[40];
	json_t *o;
	int rc = -1;

	if (!(o = webhook_get(r, r->params[0])))
		return -1;
	if (api_db_exec(r->db, "BEGIN IMMEDIATE")) {
		json_decref(o);
		return api_fail(r, 503, "busy", "the database is busy");
	}
	if (api_new_id(evt, sizeof evt, "evt_") ||
		event_add(r, evt, r->account_id, r->test, "webhook.test", NULL, json_pack("{s:{s:O,s:O}}", "webhook", "id",
			json_object_get(o, "id"), "url", json_object_get(o, "url"))) ||
		delivery_add(r, r->params[0], evt, NULL, dlv) || api_db_exec(r->db, "COMMIT")) {
		api_db_exec(r->db, "ROLLBACK");
		api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
		goto out;
	}
	rc = api_reply(r, 202, delivery_json(r, dlv), NULL);
out:
	json_decref(o);
	return rc;
}

/* Called by api_event for each event of a document's log, inside the
 * transaction that records it. */
int api_webhook_emit(api_req *r, const char *doc_id, const char *event_id, const char *type, const char *recipient)
{
	char account[40] = "";
	long long test = 0;
	json_t *hooks = json_array(), *data, *doc;
	sqlite3_stmt *st;
	size_t i;
	int rc = 0;

	if (!api_event_is_public(type))
		goto out;
	st = api_db_prepare(r->db, "SELECT account_id, test FROM documents WHERE id = ?", "s", doc_id);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(account, sizeof account, "%s", api_col_text(st, 0));
		test = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	st = api_db_prepare(r->db, "SELECT id, events FROM webhooks WHERE account_id = ? AND test = ? AND enabled = 1"
		" ORDER BY created_at, id", "si", account, test);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		json_t *ev = json_loads(api_col_text(st, 1), 0, NULL), *e;
		size_t j;
		json_array_foreach(ev, j, e)
			if (!strcmp(json_string_value(e), "*") || !strcmp(json_string_value(e), type)) {
				json_array_append_new(hooks, json_string(api_col_text(st, 0)));
				break;
			}
		json_decref(ev);
	}
	sqlite3_finalize(st);
	if (!json_array_size(hooks))
		goto out;
	if (!(doc = api_doc_json(r, doc_id))) {
		rc = -1;
		goto out;
	}
	data = json_pack("{s:o}", "document", doc);
	if (recipient) {
		json_t *rs = json_object_get(doc, "recipients"), *one;
		json_array_foreach(rs, i, one)
			if (!strcmp(json_string_value(json_object_get(one, "id")), recipient))
				json_object_set(data, "recipient", one);
	}
	if ((rc = event_add(r, event_id, account, test, type, doc_id, data)))
		goto out;
	for (i = 0; !rc && i < json_array_size(hooks); i++)
		rc = delivery_add(r, json_string_value(json_array_get(hooks, i)), event_id, doc_id, NULL);
out:
	json_decref(hooks);
	return rc;
}
