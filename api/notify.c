/*
 * E-mail: the messages a document's recipients get (invitation, one-time
 * code, reminder, completed, declined, voided) and the account's notices,
 * written to the outbox in the transaction of the change they report.
 * signcore-worker sends them.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"
#include "doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *product(api_req *r)
{
	return r->conf->product_name && *r->conf->product_name ? r->conf->product_name : "signcore";
}

static void html_escape(api_buf *b, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<': api_buf_add(b, "&lt;", 4); break;
		case '>': api_buf_add(b, "&gt;", 4); break;
		case '&': api_buf_add(b, "&amp;", 5); break;
		case '"': api_buf_add(b, "&quot;", 6); break;
		case '\n': api_buf_add(b, "<br>\n", 5); break;
		default: api_buf_add(b, s, 1);
		}
}

/* One message: a plain-text body of paragraphs, and the same as HTML with
 * LINK (optional) as a button. */
typedef struct {
	api_buf text, html;
} mail;

static void mail_begin(mail *m, const char *greeting)
{
	memset(m, 0, sizeof *m);
	api_buf_printf(&m->text, "%s\n\n", greeting);
	api_buf_printf(&m->html, "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif; line-height: 1.5;"
		" color: #222\">\n<p>");
	html_escape(&m->html, greeting);
	api_buf_printf(&m->html, "</p>\n");
}

static void mail_para(mail *m, const char *text)
{
	api_buf_printf(&m->text, "%s\n\n", text);
	api_buf_printf(&m->html, "<p>");
	html_escape(&m->html, text);
	api_buf_printf(&m->html, "</p>\n");
}

static void mail_quote(mail *m, const char *text)
{
	const char *p = text;
	while (*p) {
		size_t n = strcspn(p, "\n");
		api_buf_printf(&m->text, "> %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
	api_buf_add(&m->text, "\n", 1);
	api_buf_printf(&m->html, "<blockquote style=\"border-left: 3px solid #ccc; margin: 0; padding-left: 12px\">");
	html_escape(&m->html, text);
	api_buf_printf(&m->html, "</blockquote>\n");
}

static void mail_link(mail *m, const char *label, const char *url)
{
	api_buf_printf(&m->text, "%s:\n%s\n\n", label, url);
	api_buf_printf(&m->html, "<p><a href=\"");
	html_escape(&m->html, url);
	api_buf_printf(&m->html, "\" style=\"display: inline-block; padding: 10px 18px; background: #1a56db;"
		" color: #fff; text-decoration: none; border-radius: 4px\">");
	html_escape(&m->html, label);
	api_buf_printf(&m->html, "</a></p>\n<p style=\"font-size: 12px; color: #666\">");
	html_escape(&m->html, url);
	api_buf_printf(&m->html, "</p>\n");
}

static void mail_end(mail *m, api_req *r, const char *note)
{
	if (note)
		api_buf_printf(&m->text, "%s\n\n", note);
	api_buf_printf(&m->text, "-- \n%s\n", product(r));
	if (note) {
		api_buf_printf(&m->html, "<p style=\"font-size: 12px; color: #666\">");
		html_escape(&m->html, note);
		api_buf_printf(&m->html, "</p>\n");
	}
	api_buf_printf(&m->html, "<p style=\"font-size: 12px; color: #666\">&mdash; ");
	html_escape(&m->html, product(r));
	api_buf_printf(&m->html, "</p>\n</body></html>\n");
	api_buf_add(&m->text, "", 1);
	api_buf_add(&m->html, "", 1);
}

static void mail_free(mail *m)
{
	api_buf_free(&m->text);
	api_buf_free(&m->html);
}

typedef struct {
	char account[40];
	long long test;
	char *title, *message, *base;
	long long expires;
} doc_info;

static int doc_info_load(api_req *r, const char *doc_id, doc_info *d)
{
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT account_id, test, title, message, base_url, expires_at"
		" FROM documents WHERE id = ?", "s", doc_id);
	int found = 0;

	memset(d, 0, sizeof *d);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(d->account, sizeof d->account, "%s", api_col_text(st, 0));
		d->test = sqlite3_column_int64(st, 1);
		d->title = strdup(api_col_text(st, 2));
		d->message = api_col_text(st, 3) ? strdup(api_col_text(st, 3)) : NULL;
		d->base = strdup(api_col_text(st, 4) ? api_col_text(st, 4) : api_base_url(r));
		d->expires = sqlite3_column_int64(st, 5);
		found = d->title && d->base;
	}
	sqlite3_finalize(st);
	return found ? 0 : -1;
}

static void doc_info_clear(doc_info *d)
{
	free(d->title);
	free(d->message);
	free(d->base);
}

static int outbox_add(api_req *r, const char *account, long long test, const char *kind, const char *doc_id,
	const char *rid, const char *to, const char *subject, mail *m)
{
	char id[40];
	long long now = api_now();

	if (api_new_id(id, sizeof id, "msg_"))
		return -1;
	return api_db_run(r->db, "INSERT INTO outbox (id, account_id, test, kind, document_id, recipient_id, to_addr,"
		" subject, body_text, body_html, status, next_at, created_at, give_up_at) VALUES"
		" (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)", "ssisssssssiii", id, account, test, kind, doc_id,
		rid, to, subject, m->text.data, m->html.data, now, now, now + r->conf->wh_give_up);
}

/* "<base>/v1/signing/<token>[SUFFIX]" */
static char *signing_link(api_req *r, const doc_info *d, const char *rid, const char *suffix)
{
	char token[128], *url;
	size_t n;

	if (api_signing_token(r, rid, token, sizeof token))
		return NULL;
	n = strlen(d->base) + strlen(token) + strlen(suffix) + 16;
	if ((url = malloc(n)))
		snprintf(url, n, "%s/v1/signing/%s%s", d->base, token, suffix);
	return url;
}

typedef struct {
	char id[40], email[256], name[256], role[16];
} recip;

/* An invitation or a reminder to recipient RC of document D. */
static int send_link(api_req *r, const char *doc_id, const doc_info *d, const recip *rc, int reminder)
{
	const char *verb = !strcmp(rc->role, "approver") ? "approve" : !strcmp(rc->role, "signer") ? "sign" : "view";
	char subject[700], line[1024], greeting[300], *link = signing_link(r, d, rc->id, "");
	mail m;
	int rc_ = -1;

	if (!link)
		return -1;
	snprintf(greeting, sizeof greeting, "Hello %s,", rc->name);
	mail_begin(&m, greeting);
	if (!strcmp(verb, "view")) {
		snprintf(subject, sizeof subject, "%s%s: \xe2\x80\x9c%s\xe2\x80\x9d has been shared with you",
			reminder ? "Reminder: " : "", product(r), d->title);
		snprintf(line, sizeof line, "\xe2\x80\x9c%s\xe2\x80\x9d has been shared with you.", d->title);
	} else {
		snprintf(subject, sizeof subject, "%s%s: please %s \xe2\x80\x9c%s\xe2\x80\x9d", reminder ? "Reminder: " : "",
			product(r), verb, d->title);
		snprintf(line, sizeof line, reminder ? "This is a reminder: \xe2\x80\x9c%s\xe2\x80\x9d is still waiting for"
			" you to %s it." : "You have been asked to %2$s \xe2\x80\x9c%1$s\xe2\x80\x9d.", d->title, verb);
	}
	mail_para(&m, line);
	if (d->message && *d->message && !reminder)
		mail_quote(&m, d->message);
	snprintf(line, sizeof line, "Review and %s", verb);
	mail_link(&m, line, link);
	if (d->expires > 0) {
		char at[32];
		api_time_str(at, d->expires);
		snprintf(line, sizeof line, "This link is personal; do not forward this e-mail. It works until %s (UTC).", at);
	} else
		snprintf(line, sizeof line, "This link is personal; do not forward this e-mail.");
	mail_end(&m, r, line);
	rc_ = outbox_add(r, d->account, d->test, reminder ? "reminder" : "invitation", doc_id, rc->id, rc->email,
		subject, &m);
	mail_free(&m);
	free(link);
	return rc_;
}

static int recip_row(sqlite3_stmt *st, recip *rc)
{
	snprintf(rc->id, sizeof rc->id, "%s", api_col_text(st, 0));
	snprintf(rc->email, sizeof rc->email, "%s", api_col_text(st, 1));
	snprintf(rc->name, sizeof rc->name, "%s", api_col_text(st, 2));
	snprintf(rc->role, sizeof rc->role, "%s", api_col_text(st, 3));
	return 0;
}

int api_notify_turn(api_req *r, const char *doc_id)
{
	json_t *active;
	doc_info d;
	sqlite3_stmt *st;
	size_t i;
	int rc = 0;

	if (doc_info_load(r, doc_id, &d))
		return -1;
	active = api_active_recipients(r, doc_id, api_db_int(r->db, 0, "SELECT signing_order = 'sequential' FROM"
		" documents WHERE id = ?", "s", doc_id) ? "sequential" : "parallel");
	/* whose turn it is, and viewers from the start; each once */
	st = api_db_prepare(r->db, "SELECT id, email, name, role FROM recipients WHERE document_id = ? AND"
		" invited_at IS NULL AND role IN ('signer', 'approver', 'viewer') ORDER BY idx", "s", doc_id);
	while (!rc && st && sqlite3_step(st) == SQLITE_ROW) {
		recip one;
		int turn = !strcmp(api_col_text(st, 3), "viewer");
		recip_row(st, &one);
		for (i = 0; !turn && i < json_array_size(active); i++)
			turn = !strcmp(json_string_value(json_array_get(active, i)), one.id);
		if (!turn)
			continue;
		rc = send_link(r, doc_id, &d, &one, 0) ||
			api_db_run(r->db, "UPDATE recipients SET invited_at = ? WHERE id = ?", "is", api_now(), one.id) ||
			api_event(r, doc_id, "signer.sent", one.id, NULL);
	}
	sqlite3_finalize(st);
	json_decref(active);
	doc_info_clear(&d);
	return rc ? -1 : 0;
}

json_t *api_notify_remind(api_req *r, const char *doc_id)
{
	json_t *active, *out = json_array();
	doc_info d;
	size_t i;

	if (doc_info_load(r, doc_id, &d)) {
		json_decref(out);
		return NULL;
	}
	active = api_active_recipients(r, doc_id, api_db_int(r->db, 0, "SELECT signing_order = 'sequential' FROM"
		" documents WHERE id = ?", "s", doc_id) ? "sequential" : "parallel");
	for (i = 0; out && i < json_array_size(active); i++) {
		sqlite3_stmt *st = api_db_prepare(r->db, "SELECT id, email, name, role FROM recipients WHERE id = ?", "s",
			json_string_value(json_array_get(active, i)));
		recip one;
		int ok = 0;
		if (st && sqlite3_step(st) == SQLITE_ROW) {
			recip_row(st, &one);
			ok = 1;
		}
		sqlite3_finalize(st);
		if (!ok || send_link(r, doc_id, &d, &one, 1) ||
			api_db_run(r->db, "UPDATE recipients SET invited_at = coalesce(invited_at, ?) WHERE id = ?", "is",
				api_now(), one.id) ||
			api_event(r, doc_id, "signer.reminded", one.id, NULL)) {
			json_decref(out);
			out = NULL;
		} else
			json_array_append_new(out, json_string(one.email));
	}
	json_decref(active);
	doc_info_clear(&d);
	return out;
}

int api_notify_closed(api_req *r, const char *doc_id, const char *kind, const char *reason)
{
	int completed = !strcmp(kind, "completed");
	char subject[700], line[1024], greeting[300], who[300] = "";
	doc_info d;
	sqlite3_stmt *st;
	int rc = 0;

	if (doc_info_load(r, doc_id, &d))
		return -1;
	if (!strcmp(kind, "declined")) {
		st = api_db_prepare(r->db, "SELECT name, role FROM recipients WHERE document_id = ? AND status IN"
			" ('declined', 'rejected') ORDER BY completed_at DESC LIMIT 1", "s", doc_id);
		if (st && sqlite3_step(st) == SQLITE_ROW)
			snprintf(who, sizeof who, "%s", api_col_text(st, 0));
		sqlite3_finalize(st);
	}
	st = api_db_prepare(r->db, "SELECT id, email, name, role FROM recipients WHERE document_id = ? AND"
		" (? OR invited_at IS NOT NULL) ORDER BY idx", "si", doc_id, (long long)completed);
	while (!rc && st && sqlite3_step(st) == SQLITE_ROW) {
		recip one;
		mail m;
		recip_row(st, &one);
		snprintf(greeting, sizeof greeting, "Hello %s,", one.name);
		mail_begin(&m, greeting);
		if (completed) {
			char *link = signing_link(r, &d, one.id, "/download");
			snprintf(subject, sizeof subject, "%s: \xe2\x80\x9c%s\xe2\x80\x9d is complete", product(r), d.title);
			snprintf(line, sizeof line, "Everyone has signed \xe2\x80\x9c%s\xe2\x80\x9d. The signed PDF, with its"
				" audit trail, is ready.", d.title);
			mail_para(&m, line);
			if (link)
				mail_link(&m, "Download the signed PDF", link);
			free(link);
		} else if (!strcmp(kind, "declined")) {
			snprintf(subject, sizeof subject, "%s: \xe2\x80\x9c%s\xe2\x80\x9d was declined", product(r), d.title);
			snprintf(line, sizeof line, "%s declined \xe2\x80\x9c%s\xe2\x80\x9d. No further signatures are needed.",
				*who ? who : "A recipient", d.title);
			mail_para(&m, line);
		} else {
			snprintf(subject, sizeof subject, "%s: \xe2\x80\x9c%s\xe2\x80\x9d was voided", product(r), d.title);
			snprintf(line, sizeof line, "The sender voided \xe2\x80\x9c%s\xe2\x80\x9d. It can no longer be signed.",
				d.title);
			mail_para(&m, line);
		}
		if (reason && *reason) {
			mail_para(&m, "Reason:");
			mail_quote(&m, reason);
		}
		mail_end(&m, r, NULL);
		rc = outbox_add(r, d.account, d.test, kind, doc_id, one.id, one.email, subject, &m);
		mail_free(&m);
	}
	sqlite3_finalize(st);
	doc_info_clear(&d);
	return rc;
}

int api_notify_otp(api_req *r, const char *recipient_id, const char *code, long long expires)
{
	char subject[300], line[1024], greeting[300], doc_id[40] = "";
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT id, email, name, role, document_id FROM recipients WHERE id = ?",
		"s", recipient_id);
	doc_info d;
	recip one;
	mail m;
	int rc;

	if (st && sqlite3_step(st) == SQLITE_ROW) {
		recip_row(st, &one);
		snprintf(doc_id, sizeof doc_id, "%s", api_col_text(st, 4));
	}
	sqlite3_finalize(st);
	if (!*doc_id || doc_info_load(r, doc_id, &d))
		return -1;
	snprintf(subject, sizeof subject, "%s: your verification code", product(r));
	snprintf(greeting, sizeof greeting, "Hello %s,", one.name);
	mail_begin(&m, greeting);
	snprintf(line, sizeof line, "Your code to open \xe2\x80\x9c%s\xe2\x80\x9d is:", d.title);
	mail_para(&m, line);
	api_buf_printf(&m.text, "    %s\n\n", code);
	api_buf_printf(&m.html, "<p style=\"font-size: 28px; letter-spacing: 6px; font-weight: bold\">%s</p>\n", code);
	snprintf(line, sizeof line, "It is valid for %lld minutes. If you did not ask for it, ignore this e-mail; nobody"
		" from %s will ever ask you for this code.", (expires - api_now() + 59) / 60, product(r));
	mail_end(&m, r, line);
	rc = outbox_add(r, d.account, d.test, "otp", doc_id, recipient_id, one.email, subject, &m);
	mail_free(&m);
	doc_info_clear(&d);
	return rc;
}

int api_notify_account(api_req *r, const char *account_id, long long test, const char *subject, const char *text)
{
	char email[256] = "", name[256] = "", greeting[300];
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT email, name FROM accounts WHERE id = ?", "s", account_id);
	mail m;
	int rc;

	if (st && sqlite3_step(st) == SQLITE_ROW && api_col_text(st, 0)) {
		snprintf(email, sizeof email, "%s", api_col_text(st, 0));
		snprintf(name, sizeof name, "%s", api_col_text(st, 1));
	}
	sqlite3_finalize(st);
	if (!*email)
		return 0;  /* no address on file: the API shows the state */
	snprintf(greeting, sizeof greeting, "Hello %s,", name);
	mail_begin(&m, greeting);
	mail_para(&m, text);
	mail_end(&m, r, NULL);
	rc = outbox_add(r, account_id, test, "account", NULL, NULL, email, subject, &m);
	mail_free(&m);
	return rc;
}
