/*
 * The document's hash-chained event log, signing-link tokens, and the
 * completion job: fill every field, flatten, append the audit trail, seal.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"
#include "doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ events */

/* The canonical form libsigncore hashes: keys sorted, no whitespace, UTF-8. */
static char *canonical(json_t *ev)
{
	return json_dumps(ev, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
}

static void last_hash(api_req *r, const char *doc_id, char out[65])
{
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT hash FROM events WHERE document_id = ? ORDER BY seq DESC"
		" LIMIT 1", "s", doc_id);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, 65, "%s", api_col_text(st, 0));
	else
		api_sha256_hex(doc_id, strlen(doc_id), out);
	sqlite3_finalize(st);
}

static json_t *event_new(api_req *r, const char *type, const char *recipient, const char *reason, const char *prev)
{
	char at[32];
	json_t *ev;

	api_time_str(at, api_now());
	ev = json_pack("{s:s,s:s,s:s}", "at", at, "type", type, "prev_sha256", prev);
	if (r->system || !strcmp(type, "document.expired") || !strcmp(type, "document.completed"))
		json_object_set_new(ev, "actor", json_string("system"));
	else if (r->key_id[0])
		json_object_set_new(ev, "actor", json_string("api"));
	else
		json_object_set_new(ev, "actor", json_string(recipient ? recipient : "unknown"));
	if (recipient)
		json_object_set_new(ev, "recipient", json_string(recipient));
	if (reason && *reason)
		json_object_set_new(ev, "reason", json_string(reason));
	if (strcmp(json_string_value(json_object_get(ev, "actor")), "system")) {
		if (r->remote_addr && *r->remote_addr)
			json_object_set_new(ev, "ip", json_string(r->remote_addr));
		if (r->user_agent && *r->user_agent)
			json_object_set_new(ev, "user_agent", json_string(r->user_agent));
	}
	return ev;
}

static int event_store(api_req *r, const char *doc_id, json_t *ev, char id[40])
{
	char *body = canonical(ev), hash[65];
	int rc;

	if (!body)
		return -1;
	api_sha256_hex(body, strlen(body), hash);
	api_new_id(id, 40, "evt_");
	rc = api_db_run(r->db, "INSERT INTO events (id, document_id, type, at, recipient_id, body, hash) VALUES"
		" (?, ?, ?, ?, ?, ?, ?)", "sssisss", id, doc_id, json_string_value(json_object_get(ev, "type")), api_now(),
		json_string_value(json_object_get(ev, "recipient")), body, hash);
	free(body);
	return rc;
}

int api_event(api_req *r, const char *doc_id, const char *type, const char *recipient, const char *reason)
{
	char prev[65], id[40];
	json_t *ev;
	int rc;

	last_hash(r, doc_id, prev);
	ev = event_new(r, type, recipient, reason, prev);
	rc = event_store(r, doc_id, ev, id);
	json_decref(ev);
	return rc ? rc : api_webhook_emit(r, doc_id, id, type, recipient);
}

/* ------------------------------------------------------------ signing links */

/* <recipient id>.<HMAC-SHA256(secret, "signing:" id), first 128 bits,
 * base64url>: nothing secret is stored, and the link can be shown again. */
int api_signing_token(api_req *r, const char *recipient_id, char *out, size_t size)
{
	unsigned char key[32], mac[32];
	char msg[64], enc[32];

	if (api_secret(r->conf->data_dir, key))
		return -1;
	snprintf(msg, sizeof msg, "signing:%s", recipient_id);
	api_hmac_sha256(key, sizeof key, msg, strlen(msg), mac);
	api_b64url(enc, mac, 16);
	if ((size_t)snprintf(out, size, "%s.%s", recipient_id, enc) >= size)
		return -1;
	return 0;
}

/* ------------------------------------------------------------ the audit log */

json_t *api_audit_log(api_req *r, const char *doc_id)
{
	json_t *log = json_object(), *recips = json_array(), *events = json_array();
	sqlite3_stmt *st;

	st = api_db_prepare(r->db, "SELECT id, title, original_sha256, status, created_at FROM documents WHERE id = ?",
		"s", doc_id);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(log, "document", json_pack("{s:s,s:s,s:s,s:s}", "id", api_col_text(st, 0), "title",
			api_col_text(st, 1), "original_sha256", api_col_text(st, 2), "status", api_col_text(st, 3)));
	sqlite3_finalize(st);
	st = api_db_prepare(r->db, "SELECT id, name, email, role, status, completed_at, ip, user_agent, signature,"
		" otp_verified_at FROM recipients WHERE document_id = ? ORDER BY idx", "s", doc_id);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		const char *status = api_col_text(st, 4), *sig = api_col_text(st, 8);
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", api_col_text(st, 0), "name", api_col_text(st, 1),
			"email", api_col_text(st, 2), "role", api_col_text(st, 3), "auth",
			sqlite3_column_int64(st, 9) ? "email_otp" : "email_link");
		long long done = sqlite3_column_int64(st, 5);
		if (api_col_text(st, 6))
			json_object_set_new(o, "ip", json_string(api_col_text(st, 6)));
		if (api_col_text(st, 7))
			json_object_set_new(o, "user_agent", json_string(api_col_text(st, 7)));
		if (done && (!strcmp(status, "signed") || !strcmp(status, "approved")))
			json_object_set_new(o, "signed_at", api_time_json(done));
		else if (done && (!strcmp(status, "declined") || !strcmp(status, "rejected")))
			json_object_set_new(o, "declined_at", api_time_json(done));
		if (sig) {
			json_t *j = json_loads(sig, 0, NULL);
			if (json_is_object(j))
				json_object_set_new(o, "signature", j);
			else
				json_decref(j);
		}
		json_array_append_new(recips, o);
	}
	sqlite3_finalize(st);
	st = api_db_prepare(r->db, "SELECT body FROM events WHERE document_id = ? ORDER BY seq", "s", doc_id);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(events, json_loads(api_col_text(st, 0), 0, NULL));
	sqlite3_finalize(st);
	json_object_set_new(log, "recipients", recips);
	json_object_set_new(log, "events", events);
	return log;
}

/* ------------------------------------------------------------ completion */

/* The field spec of every filled field, plus the test-mode stamp. */
static json_t *completion_spec(api_req *r, const char *doc_id, int test, json_t *sizes)
{
	json_t *fields = json_array();
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT id, type, page, x, y, w, h, units, label, options, value"
		" FROM fields WHERE document_id = ? AND value IS NOT NULL ORDER BY idx", "s", doc_id);
	size_t i;

	while (st && sqlite3_step(st) == SQLITE_ROW) {
		json_t *f = json_pack("{s:s,s:s,s:i,s:[f,f,f,f],s:s}", "name", api_col_text(st, 0), "type",
			api_col_text(st, 1), "page", sqlite3_column_int(st, 2), "rect", sqlite3_column_double(st, 3),
			sqlite3_column_double(st, 4), sqlite3_column_double(st, 5), sqlite3_column_double(st, 6), "units",
			api_col_text(st, 7));
		json_t *opts = api_col_text(st, 9) ? json_loads(api_col_text(st, 9), 0, NULL) : NULL;
		if (api_col_text(st, 8))
			json_object_set_new(f, "tooltip", json_string(api_col_text(st, 8)));
		if (json_is_object(opts))
			json_object_update(f, opts);
		json_decref(opts);
		json_object_set_new(f, "value", json_loads(api_col_text(st, 10), JSON_DECODE_ANY, NULL));
		json_array_append_new(fields, f);
	}
	sqlite3_finalize(st);
	for (i = 0; test && i < json_array_size(sizes); i++) {
		double w = json_number_value(json_array_get(json_array_get(sizes, i), 0));
		double bw = w - 40 < 320 ? w - 40 : 320;
		char name[48];
		snprintf(name, sizeof name, "signcore_test_mode_%zu", i + 1);
		if (bw < 40)
			continue;
		json_array_append_new(fields, json_pack("{s:s,s:s,s:i,s:[f,f,f,f],s:s,s:s}", "name", name, "type", "text",
			"page", (int)i + 1, "rect", (w - bw) / 2, 4.0, bw, 16.0, "align", "center", "value",
			"TEST \xe2\x80\x94 not legally binding"));
	}
	return json_pack("{s:o}", "fields", fields);
}

int api_complete(api_req *r, const char *doc_id)
{
	char err[1024] = "", prev[65], *spec_text = NULL, *log_text = NULL, hex[65], evt_id[40];
	unsigned char *pdf = NULL, *out = NULL;
	json_t *log = NULL, *spec = NULL, *sizes = NULL, *done_ev = NULL;
	size_t len = 0, out_len = 0;
	api_engine *e;
	api_doc d;
	int rc = -1;

	if (api_doc_load_any(r, doc_id, &d))
		return -1;
	if (strcmp(d.status, "completing")) {
		api_doc_clear(&d);
		return -1;
	}
	if (!(e = api_engine_get(r))) {
		snprintf(err, sizeof err, "the PDF engine could not be loaded");
		goto failed;
	}
	if (!(pdf = api_blob_get(r->conf->data_dir, d.original_sha256, &len))) {
		snprintf(err, sizeof err, "the original PDF is missing from the store");
		goto failed;
	}
	sizes = json_loads(d.page_sizes, 0, NULL);
	spec = completion_spec(r, d.id, d.test, sizes);
	/* the log as it will read once completed, with the completion event
	 * prepared now and stored only when the sealed file is */
	log = api_audit_log(r, d.id);
	last_hash(r, d.id, prev);
	done_ev = event_new(r, "document.completed", NULL, NULL, prev);
	json_array_append(json_object_get(log, "events"), done_ev);
	json_object_set_new(json_object_get(log, "document"), "status", json_string("completed"));
	spec_text = json_dumps(spec, JSON_COMPACT);
	log_text = json_dumps(log, JSON_COMPACT);
	if (api_engine_complete(r->conf, e, pdf, len, spec_text, log_text, &out, &out_len, err, sizeof err))
		goto failed;
	if (api_blob_put(r->conf->data_dir, out, out_len, hex)) {
		snprintf(err, sizeof err, "the sealed PDF could not be stored");
		goto failed;
	}
	api_db_exec(r->db, "BEGIN IMMEDIATE");
	{
		char now_prev[65];
		last_hash(r, d.id, now_prev);
		if (strcmp(now_prev, prev) ||
			api_db_int(r->db, 0, "SELECT count(*) FROM documents WHERE id = ? AND status = 'completing'", "s", d.id) != 1) {
			api_db_exec(r->db, "ROLLBACK");
			snprintf(err, sizeof err, "the document changed while it was being completed");
			goto failed;
		}
	}
	if (event_store(r, d.id, done_ev, evt_id) ||
		api_db_run(r->db, "UPDATE documents SET status = 'completed', signed_sha256 = ?, completed_at = ?,"
			" updated_at = ?, error = NULL, attempts = attempts + 1, next_reminder_at = NULL WHERE id = ?", "siis", hex,
			api_now(), api_now(), d.id) ||
		api_webhook_emit(r, d.id, evt_id, "document.completed", NULL) ||
		api_notify_closed(r, d.id, "completed", NULL)) {
		snprintf(err, sizeof err, "database: %s", sqlite3_errmsg(r->db));
		api_db_exec(r->db, "ROLLBACK");
		goto failed;
	}
	api_db_exec(r->db, "COMMIT");
	rc = 0;
	goto done;
failed:
	/* stays visibly in completing, with the reason; POST .../complete retries */
	api_db_run(r->db, "UPDATE documents SET error = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?", "sis",
		err, api_now(), d.id);
done:
	free(pdf);
	free(out);
	free(spec_text);
	free(log_text);
	json_decref(done_ev);
	json_decref(log);
	json_decref(spec);
	json_decref(sizes);
	api_doc_clear(&d);
	return rc;
}
