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
	int otp;             /* must verify an e-mailed code first */
	long long otp_verified;
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
	st = api_db_prepare(r->db, "SELECT id, role, status, name, ord, token_expires, document_id, otp, otp_verified_at"
		" FROM recipients WHERE id = ?", "s", rid);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(s->id, sizeof s->id, "%s", api_col_text(st, 0));
		snprintf(s->role, sizeof s->role, "%s", api_col_text(st, 1));
		snprintf(s->status, sizeof s->status, "%s", api_col_text(st, 2));
		snprintf(s->name, sizeof s->name, "%s", api_col_text(st, 3));
		s->order = sqlite3_column_int(st, 4);
		s->token_expires = sqlite3_column_int64(st, 5);
		s->otp = sqlite3_column_int(st, 7);
		s->otp_verified = sqlite3_column_int64(st, 8);
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

/* A recipient who must verify an e-mailed code sees nothing more until then. */
static int need_otp(api_req *r, signer_ctx *s)
{
	if (s->otp && !s->otp_verified)
		return api_fail(r, 403, "otp_required", "verify the code sent to your e-mail address first"
			" (POST /v1/signing/{token}/otp, then .../otp/verify)");
	return 0;
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
	if (!strcmp(s.doc.status, "pending") && !strcmp(s.status, "sent") && !(s.otp && !s.otp_verified)) {
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
		turn, "fields", s.otp && !s.otp_verified ? json_array() : api_fields_json(r, s.doc.id, s.id, 0));
	json_object_set_new(json_object_get(out, "recipient"), "otpRequired", json_boolean(s.otp));
	json_object_set_new(json_object_get(out, "recipient"), "otpVerified", json_boolean(s.otp_verified > 0));
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

	if (resolve(r, &s, 0) || need_otp(r, &s))
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
		api_db_run(r->db, "UPDATE documents SET status = 'declined', updated_at = ?, next_reminder_at = NULL"
			" WHERE id = ?", "is", api_now(), s->doc.id);
		api_event(r, s->doc.id, "document.declined", s->id, reason);
		api_notify_closed(r, s->doc.id, "declined", reason);
	} else if (!api_db_int(r->db, 1, "SELECT count(*) FROM recipients WHERE document_id = ? AND role IN"
			" ('signer', 'approver') AND status NOT IN ('signed', 'approved')", "s", s->doc.id)) {
		api_db_run(r->db, "UPDATE documents SET status = 'completing', updated_at = ? WHERE id = ?", "is", api_now(),
			s->doc.id);
		completing = 1;
	} else {
		api_db_run(r->db, "UPDATE documents SET updated_at = ? WHERE id = ?", "is", api_now(), s->doc.id);
		api_notify_turn(r, s->doc.id);  /* in sequential order, the next recipient's invitation */
	}
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
	if (!(body = api_body_json(r)) || resolve(r, &s, 1) || need_otp(r, &s))
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
	if (api_reason_body(r, &body, &reason, reason_required) || resolve(r, &s, 1) || need_otp(r, &s) ||
		begin_step(r, &s, role))
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

/* ------------------------------------------------------------ e-mail OTP */

static void otp_hash(api_req *r, const char *rid, const char *code, char hex[65])
{
	unsigned char key[32], mac[32];
	char msg[96];

	if (api_secret(r->conf->data_dir, key))
		memset(key, 0, sizeof key);
	snprintf(msg, sizeof msg, "otp:%s:%s", rid, code);
	api_hmac_sha256(key, sizeof key, msg, strlen(msg), mac);
	api_hex(hex, mac, sizeof mac);
}

/* Six uniformly random digits. */
static int otp_code(char out[7])
{
	uint32_t v;
	do {
		if (api_random(&v, sizeof v))
			return -1;
	} while (v >= 4294000000u);
	snprintf(out, 7, "%06u", (unsigned)(v % 1000000u));
	return 0;
}

static int otp_locked(api_req *r, long long until)
{
	api_header(r, "Retry-After: %lld", until - api_now());
	return api_fail(r, 403, "otp_locked", "too many wrong codes: verification is locked for %lld more minutes",
		(until - api_now() + 59) / 60);
}

/* The recipient's OTP state, read inside the write transaction. */
typedef struct {
	char hash[65];
	char email[256];
	long long expires, sent_at, window_start, window_count, locked_until, verified, failures;
} otp_state;

static int otp_read(api_req *r, const char *rid, otp_state *o)
{
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT otp_hash, otp_expires, otp_sent_at, otp_window_start,"
		" otp_window_count, otp_locked_until, otp_verified_at, otp_failures, email FROM recipients WHERE id = ?", "s",
		rid);
	int found = 0;

	memset(o, 0, sizeof *o);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(o->hash, sizeof o->hash, "%s", api_col_text(st, 0) ? api_col_text(st, 0) : "");
		o->expires = sqlite3_column_int64(st, 1);
		o->sent_at = sqlite3_column_int64(st, 2);
		o->window_start = sqlite3_column_int64(st, 3);
		o->window_count = sqlite3_column_int64(st, 4);
		o->locked_until = sqlite3_column_int64(st, 5);
		o->verified = sqlite3_column_int64(st, 6);
		o->failures = sqlite3_column_int64(st, 7);
		snprintf(o->email, sizeof o->email, "%s", api_col_text(st, 8));
		found = 1;
	}
	sqlite3_finalize(st);
	return found ? 0 : -1;
}

/* A code can be asked for and verified while the document can still be
 * acted on or downloaded: every role, before or after its own step. */
static int otp_open(api_req *r, signer_ctx *s)
{
	if (strcmp(s->doc.status, "pending") && strcmp(s->doc.status, "completing") && strcmp(s->doc.status, "completed"))
		return api_fail(r, 409, "invalid_state", "this document is %s", s->doc.status);
	return 0;
}

/* Checks shared by sending and verifying; inside the transaction. */
static int otp_begin(api_req *r, signer_ctx *s, otp_state *o)
{
	if (!s->otp)
		return api_fail(r, 409, "otp_not_required", "this recipient does not verify a code");
	if (api_db_exec(r->db, "BEGIN IMMEDIATE"))
		return api_fail(r, 503, "busy", "the database is busy");
	if (otp_read(r, s->id, o)) {
		api_db_exec(r->db, "ROLLBACK");
		return api_fail(r, 404, "signing_link_not_found", "this signing link is not valid");
	}
	if (o->verified) {
		api_db_exec(r->db, "ROLLBACK");
		return api_fail(r, 409, "otp_already_verified", "your e-mail address is already verified");
	}
	if (o->locked_until > api_now()) {
		api_db_exec(r->db, "ROLLBACK");
		return otp_locked(r, o->locked_until);
	}
	if (o->locked_until) {  /* a lock that has passed starts a fresh count */
		api_db_run(r->db, "UPDATE recipients SET otp_locked_until = NULL, otp_failures = 0 WHERE id = ?", "s", s->id);
		o->locked_until = o->failures = 0;
	}
	return 0;
}

int api_signing_otp(api_req *r)
{
	long long now = api_now(), expires, wait;
	char code[7], hash[65], masked[300];
	const char *at;
	otp_state o;
	signer_ctx s;
	int rc = -1;

	if (api_read_body(r, r->conf->max_json) || resolve(r, &s, 0) || otp_open(r, &s) || otp_begin(r, &s, &o))
		goto out;
	if (o.window_start && now - o.window_start < 3600 && o.window_count >= r->conf->otp_per_hour)
		wait = o.window_start + 3600 - now;
	else if (o.sent_at && now - o.sent_at < r->conf->otp_resend)
		wait = o.sent_at + r->conf->otp_resend - now;
	else
		wait = 0;
	if (wait > 0) {
		api_db_exec(r->db, "ROLLBACK");
		api_header(r, "Retry-After: %lld", wait);
		api_fail(r, 429, "otp_rate_limited", "a code was sent recently: ask for a new one in %lld seconds", wait);
		goto out;
	}
	if (!o.window_start || now - o.window_start >= 3600) {
		o.window_start = now;
		o.window_count = 0;
	}
	if (otp_code(code)) {
		api_db_exec(r->db, "ROLLBACK");
		api_fail(r, 500, "internal", "no random numbers");
		goto out;
	}
	otp_hash(r, s.id, code, hash);
	expires = now + r->conf->otp_ttl;
	/* wrong codes keep counting across new codes: asking again does not buy guesses */
	if (api_db_run(r->db, "UPDATE recipients SET otp_hash = ?, otp_expires = ?, otp_sent_at = ?,"
			" otp_window_start = ?, otp_window_count = ? WHERE id = ?", "siiiis", hash, expires, now, o.window_start,
			o.window_count + 1, s.id) ||
		api_notify_otp(r, s.id, code, expires) || api_event(r, s.doc.id, "signer.otp_sent", s.id, NULL) ||
		api_db_exec(r->db, "COMMIT")) {
		api_db_exec(r->db, "ROLLBACK");
		api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
		goto out;
	}
	at = strchr(o.email, '@');
	snprintf(masked, sizeof masked, "%c***%s", o.email[0], at ? at : "");
	rc = api_reply(r, 202, json_pack("{s:s,s:o,s:o}", "sentTo", masked, "expiresAt", api_time_json(expires),
		"resendAfter", api_time_json(now + r->conf->otp_resend)), NULL);
out:
	resolve_clear(&s);
	return rc;
}

static const char *const verify_keys[] = { "code", NULL };

int api_signing_otp_verify(api_req *r)
{
	json_t *body = NULL, *v;
	const char *code;
	long long now = api_now();
	char hash[65];
	otp_state o;
	signer_ctx s;
	size_t i;
	int rc = -1;

	memset(&s, 0, sizeof s);
	if (!(body = api_body_json(r)) || api_check_keys(r, body, NULL, verify_keys))
		goto out;
	v = json_object_get(body, "code");
	code = json_string_value(v);
	for (i = 0; code && code[i] >= '0' && code[i] <= '9'; i++)
		;
	if (!code || i != 6 || code[6]) {
		api_fail(r, 400, "invalid_code", "code must be the 6 digits of the e-mail");
		goto out;
	}
	if (resolve(r, &s, 0) || otp_open(r, &s) || otp_begin(r, &s, &o))
		goto out;
	if (!o.hash[0]) {
		api_db_exec(r->db, "ROLLBACK");
		api_fail(r, 409, "otp_not_sent", "no code has been sent: ask for one first (POST /v1/signing/{token}/otp)");
		goto out;
	}
	if (o.expires <= now) {
		api_db_exec(r->db, "ROLLBACK");
		api_fail(r, 410, "otp_expired", "this code has expired: ask for a new one");
		goto out;
	}
	otp_hash(r, s.id, code, hash);
	if (!api_equal_secret(hash, o.hash)) {
		long long left = r->conf->otp_attempts - (o.failures + 1);
		if (left <= 0) {
			api_db_run(r->db, "UPDATE recipients SET otp_failures = otp_failures + 1, otp_hash = NULL,"
				" otp_locked_until = ? WHERE id = ?", "is", now + r->conf->otp_lock, s.id);
			api_event(r, s.doc.id, "signer.otp_locked", s.id, NULL);
		} else
			api_db_run(r->db, "UPDATE recipients SET otp_failures = otp_failures + 1 WHERE id = ?", "s", s.id);
		if (api_db_exec(r->db, "COMMIT")) {
			api_db_exec(r->db, "ROLLBACK");
			api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
		} else if (left <= 0)
			otp_locked(r, now + r->conf->otp_lock);
		else
			api_fail(r, 422, "otp_invalid", "wrong code: %lld attempt%s left", left, left == 1 ? "" : "s");
		goto out;
	}
	if (api_db_run(r->db, "UPDATE recipients SET otp_verified_at = ?, otp_hash = NULL WHERE id = ?", "is", now, s.id) ||
		api_event(r, s.doc.id, "signer.otp_verified", s.id, NULL) || api_db_exec(r->db, "COMMIT")) {
		api_db_exec(r->db, "ROLLBACK");
		api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
		goto out;
	}
	rc = api_reply(r, 200, json_pack("{s:b,s:o}", "verified", 1, "verifiedAt", api_time_json(now)), NULL);
out:
	json_decref(body);
	resolve_clear(&s);
	return rc;
}

/* The signed PDF, for the link in the completion e-mail. */
int api_signing_download(api_req *r)
{
	unsigned char *data = NULL;
	size_t len = 0;
	char name[80];
	signer_ctx s;
	int rc = -1;

	if (resolve(r, &s, 0) || need_otp(r, &s))
		goto out;
	if (strcmp(s.doc.status, "completed")) {
		api_fail(r, 409, "invalid_state", "this document is %s; it can be downloaded once it is completed",
			s.doc.status);
		goto out;
	}
	if (!(data = api_blob_get(r->conf->data_dir, s.doc.signed_sha256, &len))) {
		api_fail(r, 500, "blob_missing", "the signed file of this document is missing");
		goto out;
	}
	snprintf(name, sizeof name, "%s-signed.pdf", s.doc.id);
	rc = api_reply_bytes(r, 200, "application/pdf", data, len, name);
out:
	free(data);
	resolve_clear(&s);
	return rc;
}
