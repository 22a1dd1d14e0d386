/*
 * signcore-worker: delivers webhook events, sends the e-mail outbox, expires
 * documents and sends scheduled reminders.
 *
 *   signcore-worker [--data-dir DIR] (--once | --loop) [--now TIME]
 *
 * Work is claimed in small batches in a write transaction with a lease, and
 * the lease of each row is renewed (and checked) just before its attempt, so
 * several workers can run at once and a worker killed mid-attempt loses
 * nothing: its rows are taken over when the lease ends. A delivery is marked done only
 * after the receiver answered 2xx; an event may therefore be attempted again
 * after a crash, and receivers de-duplicate on its id.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"
#include "doc.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 16
#define RESPONSE_MAX 4096

static volatile sig_atomic_t stopping;
static char owner[128];

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("signcore-worker: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static long long ms_since(const struct timeval *t0)
{
	struct timeval t1;
	gettimeofday(&t1, NULL);
	return (t1.tv_sec - t0->tv_sec) * 1000LL + (t1.tv_usec - t0->tv_usec) / 1000;
}

/* The wait before attempt N+1 after N failed ones: base doubling, capped,
 * with jitter so that many failing deliveries do not retry in lockstep. */
static long long backoff(const api_conf *c, long long n)
{
	long long d = c->wh_retry_base;
	while (--n > 0 && d < c->wh_retry_cap)
		d *= 2;
	if (d > c->wh_retry_cap)
		d = c->wh_retry_cap;
	if (c->wh_jitter > 0) {
		uint32_t rnd = 0;
		api_random(&rnd, sizeof rnd);
		d += d * ((long long)(rnd % (uint32_t)(2 * c->wh_jitter + 1)) - c->wh_jitter) / 100;
	}
	return d > 0 ? d : 1;
}

/* When the retry after N failed attempts is due. The clock counts whole
 * seconds and the attempt ended up to a second after NOW says, so NOW +
 * backoff could come round a few milliseconds later, inside the same pass;
 * the next second is counted in (not with a test's fixed clock). */
static long long retry_at(const api_conf *c, long long now, long long n)
{
	return now + backoff(c, n) + (api_fixed_now > 0 ? 0 : 1);
}

/* Claim up to BATCH due rows of TABLE (deliveries or outbox) for this worker. */
static int claim(api_req *r, const char *select_sql, const char *table, long long lease, char ids[][40])
{
	long long now = api_now();
	sqlite3_stmt *st;
	char sql[256];
	int n = 0, i;

	if (api_db_exec(r->db, "BEGIN IMMEDIATE"))
		return 0;
	st = api_db_prepare(r->db, select_sql, "ii", now, now);
	while (st && n < BATCH && sqlite3_step(st) == SQLITE_ROW)
		snprintf(ids[n++], 40, "%s", api_col_text(st, 0));
	sqlite3_finalize(st);
	snprintf(sql, sizeof sql, "UPDATE %s SET status = '%s', lease_owner = ?, lease_until = ? WHERE id = ?", table,
		!strcmp(table, "outbox") ? "sending" : "delivering");
	for (i = 0; i < n; i++)
		api_db_run(r->db, sql, "sis", owner, now + lease, ids[i]);
	if (api_db_exec(r->db, "COMMIT")) {
		api_db_exec(r->db, "ROLLBACK");
		return 0;
	}
	return n;
}

/* Just before an attempt: extend this worker's lease on row ID of TABLE;
 * 0 when the row is still ours. */
static int renew(api_req *r, const char *table, const char *id, long long lease)
{
	char sql[200];
	snprintf(sql, sizeof sql, "UPDATE %s SET lease_until = ? WHERE id = ? AND status = '%s' AND lease_owner = ?",
		table, !strcmp(table, "outbox") ? "sending" : "delivering");
	if (api_db_run(r->db, sql, "iss", api_now() + lease, id, owner) || sqlite3_changes(r->db) != 1)
		return -1;
	return 0;
}

/* ------------------------------------------------------------ webhooks */

typedef struct {
	char *data;
	size_t len;
} resp_buf;

static size_t keep_start(char *p, size_t size, size_t n, void *u)
{
	resp_buf *b = u;
	size_t len = size * n, room = RESPONSE_MAX - b->len;
	if (room > len)
		room = len;
	if (room) {
		memcpy(b->data + b->len, p, room);
		b->len += room;
	}
	return len;  /* the rest is read and dropped */
}

static curl_socket_t open_public(void *u, curlsocktype purpose, struct curl_sockaddr *a)
{
	int *refused = u;
	(void)purpose;
	if (api_addr_forbidden(&a->addr)) {
		*refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static void sign(const char *secret, long long t, const char *body, char hex[65])
{
	unsigned char mac[32];
	size_t blen = strlen(body), n;
	char *msg = malloc(blen + 32);

	n = (size_t)snprintf(msg, 32, "%lld.", t);
	memcpy(msg + n, body, blen);
	api_hmac_sha256(secret, strlen(secret), msg, n + blen, mac);
	api_hex(hex, mac, sizeof mac);
	free(msg);
}

typedef struct {
	char id[40], event_id[40], type[64], webhook_id[40], account[40];
	char *payload, *url, *secret, *old_secret;
	long long old_until, give_up_at, attempts, retries, test, enabled;
} delivery;

static void delivery_clear(delivery *d)
{
	free(d->payload);
	free(d->url);
	free(d->secret);
	free(d->old_secret);
}

static int delivery_load(api_req *r, const char *id, delivery *d)
{
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT d.id, d.event_id, e.type, e.payload, w.url, w.secret,"
		" w.old_secret, w.old_secret_until, d.give_up_at, d.attempts, w.id, w.test, w.account_id, d.retries, w.enabled"
		" FROM deliveries d"
		" JOIN webhook_events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?", "s", id);
	int found = 0;

	memset(d, 0, sizeof *d);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(d->id, sizeof d->id, "%s", api_col_text(st, 0));
		snprintf(d->event_id, sizeof d->event_id, "%s", api_col_text(st, 1));
		snprintf(d->type, sizeof d->type, "%s", api_col_text(st, 2));
		d->payload = strdup(api_col_text(st, 3));
		d->url = strdup(api_col_text(st, 4));
		d->secret = strdup(api_col_text(st, 5));
		d->old_secret = api_col_text(st, 6) ? strdup(api_col_text(st, 6)) : NULL;
		d->old_until = sqlite3_column_int64(st, 7);
		d->give_up_at = sqlite3_column_int64(st, 8);
		d->attempts = sqlite3_column_int64(st, 9);
		snprintf(d->webhook_id, sizeof d->webhook_id, "%s", api_col_text(st, 10));
		d->test = sqlite3_column_int64(st, 11);
		snprintf(d->account, sizeof d->account, "%s", api_col_text(st, 12));
		d->retries = sqlite3_column_int64(st, 13);
		d->enabled = sqlite3_column_int64(st, 14);
		found = d->payload && d->url && d->secret;
	}
	sqlite3_finalize(st);
	return found ? 0 : -1;
}

/* POST the event; STATUS gets the HTTP status (0 when there was none). */
static int post_event(api_req *r, delivery *d, long *status, char *err, size_t errsz, resp_buf *resp)
{
	char sig[65], old[65], header[300], t_hdr[300];
	struct curl_slist *h = NULL;
	long long t = (long long)time(NULL);  /* when it is sent, whatever the test clock says */
	CURL *c = curl_easy_init();
	CURLcode rc;
	int refused = 0;

	*status = 0;
	if (!c) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	sign(d->secret, t, d->payload, sig);
	if (d->old_secret && d->old_until > api_now()) {
		sign(d->old_secret, t, d->payload, old);
		snprintf(header, sizeof header, "X-Signcore-Signature: t=%lld,v1=%s,v1=%s", t, sig, old);
	} else
		snprintf(header, sizeof header, "X-Signcore-Signature: t=%lld,v1=%s", t, sig);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, header);
	snprintf(t_hdr, sizeof t_hdr, "X-Signcore-Event: %s", d->type);
	h = curl_slist_append(h, t_hdr);
	snprintf(t_hdr, sizeof t_hdr, "X-Signcore-Delivery: %s", d->id);
	h = curl_slist_append(h, t_hdr);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, d->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->payload);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(d->payload));
	curl_easy_setopt(c, CURLOPT_USERAGENT, "signcore-webhooks/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)r->conf->wh_timeout);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");  /* no proxy from the environment */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_start);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, d->test ? "http,https" : "https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, d->test ? (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS) : (long)CURLPROTO_HTTPS);
#endif
	if (!d->test) {  /* checked again at connect time: a name may resolve elsewhere now */
		curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_public);
		curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &refused);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
		if (*status >= 300 && *status < 400)
			snprintf(err, errsz, "HTTP %ld: redirects are not followed", *status);
		else if (*status < 200 || *status >= 300)
			snprintf(err, errsz, "HTTP %ld", *status);
	} else if (refused)
		snprintf(err, errsz, "the URL resolves to a private, loopback or reserved address");
	else
		snprintf(err, errsz, "%s", curl_easy_strerror(rc));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc == CURLE_OK && *status >= 200 && *status < 300 ? 0 : -1;
}

static void disable_webhook(api_req *r, delivery *d, long long since, const char *err)
{
	char at[32], reason[600], text[1200], subject[200];

	api_time_str(at, since);
	snprintf(reason, sizeof reason, "every delivery has failed since %s (last: %s)", at, err);
	api_db_run(r->db, "UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?", "sis",
		reason, api_now(), d->webhook_id);
	api_db_run(r->db, "UPDATE deliveries SET status = 'failed', error = 'the webhook was disabled', lease_owner = NULL"
		" WHERE webhook_id = ? AND status = 'pending'", "s", d->webhook_id);
	snprintf(subject, sizeof subject, "%s: a webhook was disabled",
		r->conf->product_name ? r->conf->product_name : "signcore");
	snprintf(text, sizeof text, "The %s webhook %s (%s) was disabled: %s. Events are no longer sent to it. Fix the"
		" endpoint, then enable it again (PATCH /v1/webhooks/%s {\"enabled\": true}) and redeliver what it missed.",
		d->test ? "test-mode" : "live", d->webhook_id, d->url, reason, d->webhook_id);
	api_notify_account(r, d->account, d->test, subject, text);
	say("disabled webhook %s (%s): %s", d->webhook_id, d->url, reason);
}

static int deliver_one(api_req *r, const char *id)
{
	char err[512] = "", *body = NULL;
	struct timeval t0;
	resp_buf resp;
	delivery d;
	long status = 0;
	long long now, ms, since;
	int ok;

	if (delivery_load(r, id, &d) || renew(r, "deliveries", id, r->conf->wh_timeout + 30)) {
		delivery_clear(&d);
		return -1;
	}
	if (!d.enabled) {  /* disabled since it was claimed */
		api_db_run(r->db, "UPDATE deliveries SET status = 'failed', error = 'the webhook was disabled', lease_owner = NULL,"
			" lease_until = NULL WHERE id = ? AND lease_owner = ?", "ss", d.id, owner);
		delivery_clear(&d);
		return 0;
	}
	resp.data = malloc(RESPONSE_MAX + 1);
	resp.len = 0;
	gettimeofday(&t0, NULL);
	ok = resp.data && !post_event(r, &d, &status, err, sizeof err, &resp);
	ms = ms_since(&t0);
	if (resp.data) {
		/* a body cut at RESPONSE_MAX ends on a whole UTF-8 character */
		if (resp.len == RESPONSE_MAX) {
			size_t i = resp.len, back = 0;
			while (i > 0 && back < 4 && ((unsigned char)resp.data[i - 1] & 0xc0) == 0x80)
				i--, back++;
			if (i > 0 && (unsigned char)resp.data[i - 1] >= 0xc0) {
				unsigned char lead = (unsigned char)resp.data[i - 1];
				size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
				if (back + 1 < need)
					resp.len = i - 1;
			}
		}
		resp.data[resp.len] = 0;
		body = resp.data;
	}
	now = api_now();
	api_db_exec(r->db, "BEGIN IMMEDIATE");
	api_db_run(r->db, "INSERT INTO delivery_attempts (delivery_id, at, status_code, error, duration_ms, response)"
		" VALUES (?, ?, nullif(?, 0), ?, ?, ?)", "siisis", d.id, now, (long long)status, ok ? NULL : err, ms,
		resp.len ? body : NULL);
	/* only the holder of the lease moves the delivery on */
	if (api_db_int(r->db, 0, "SELECT count(*) FROM deliveries WHERE id = ? AND status = 'delivering' AND"
			" lease_owner = ?", "ss", d.id, owner) == 1) {
		if (ok) {
			api_db_run(r->db, "UPDATE deliveries SET status = 'delivered', delivered_at = ?, attempts = attempts + 1,"
				" error = NULL, lease_owner = NULL, lease_until = NULL WHERE id = ?", "is", now, d.id);
			api_db_run(r->db, "UPDATE webhooks SET failing_since = NULL WHERE id = ?", "s", d.webhook_id);
		} else {
			long long n = d.attempts + 1;
			if (now >= d.give_up_at)
				api_db_run(r->db, "UPDATE deliveries SET status = 'failed', attempts = ?, error = ?, lease_owner = NULL,"
					" lease_until = NULL WHERE id = ?", "iss", n, err, d.id);
			else
				api_db_run(r->db, "UPDATE deliveries SET status = 'pending', attempts = ?, retries = retries + 1,"
					" error = ?, next_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?", "isis", n, err,
					retry_at(r->conf, now, d.retries + 1), d.id);
			api_db_run(r->db, "UPDATE webhooks SET failing_since = coalesce(failing_since, ?) WHERE id = ?", "is", now,
				d.webhook_id);
			since = api_db_int(r->db, now, "SELECT failing_since FROM webhooks WHERE id = ? AND enabled = 1", "s",
				d.webhook_id);
			if (now - since >= r->conf->wh_disable_after)
				disable_webhook(r, &d, since, err);
		}
	}
	if (api_db_exec(r->db, "COMMIT"))
		api_db_exec(r->db, "ROLLBACK");
	if (ok)
		say("delivered %s (%s %s) to %s: %ld in %lld ms", d.id, d.type, d.event_id, d.url, status, ms);
	else
		say("delivery %s (%s %s) to %s failed, attempt %lld: %s", d.id, d.type, d.event_id, d.url, d.attempts + 1,
			err);
	free(resp.data);
	delivery_clear(&d);
	return 0;
}

static int deliveries_pass(api_req *r)
{
	char ids[BATCH][40];
	int n = claim(r, "SELECT d.id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE w.enabled = 1"
		" AND ((d.status = 'pending' AND d.next_at <= ?) OR (d.status = 'delivering' AND d.lease_until <= ?))"
		/* in order per webhook and document */
		" AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.webhook_id = d.webhook_id AND d.document_id IS NOT NULL"
		"  AND e.document_id = d.document_id AND e.seq < d.seq AND e.status IN ('pending', 'delivering'))"
		" ORDER BY d.seq", "deliveries", r->conf->wh_timeout + 30, ids), i;

	for (i = 0; i < n && !stopping; i++)
		deliver_one(r, ids[i]);
	/* rows claimed but not attempted (stopping) go back */
	for (; i < n; i++)
		api_db_run(r->db, "UPDATE deliveries SET status = 'pending', lease_owner = NULL WHERE id = ? AND"
			" lease_owner = ?", "ss", ids[i], owner);
	return n;
}

/* ------------------------------------------------------------ e-mail */

static void b64_lines(api_buf *out, const char *in, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)in;
	size_t i, col = 0;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		char q[4] = { tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=',
			i + 2 < n ? tab[v & 63] : '=' };
		api_buf_add(out, q, 4);
		if ((col += 4) >= 76) {
			api_buf_add(out, "\r\n", 2);
			col = 0;
		}
	}
	if (col)
		api_buf_add(out, "\r\n", 2);
}

/* A header value: as is when it is printable ASCII, else RFC 2047 words. */
static void header_text(api_buf *out, const char *s)
{
	const unsigned char *p;
	size_t n = strlen(s), i;
	for (p = (const unsigned char *)s; *p && *p >= ' ' && *p < 0x7f; p++)
		;
	if (!*p) {
		api_buf_add(out, s, n);
		return;
	}
	/* encoded words of at most 45 bytes of UTF-8, not splitting a character */
	for (i = 0; i < n;) {
		size_t take = n - i > 45 ? 45 : n - i;
		api_buf tmp = { 0 };
		while (i + take < n && ((unsigned char)s[i + take] & 0xc0) == 0x80)
			take--;
		api_buf_add(out, i ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?", i ? 13 : 10);
		b64_lines(&tmp, s + i, take);
		api_buf_add(out, tmp.data, tmp.len - 2);  /* without its CRLF */
		api_buf_add(out, "?=", 2);
		api_buf_free(&tmp);
		i += take;
	}
}

/* The address inside "Name <addr>", or the whole string. */
static void bare_address(const char *from, char *out, size_t size)
{
	const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt)
		snprintf(out, size, "%.*s", (int)(gt - lt - 1), lt + 1);
	else
		snprintf(out, size, "%s", from);
}

typedef struct {
	char id[40], kind[32], to[256];
	char *subject, *text, *html;
	char sealed[16];
	long long attempts, give_up_at;
} message;

static void message_clear(message *m)
{
	free(m->subject);
	free(m->text);
	free(m->html);
}

static int message_load(api_req *r, const char *id, message *m)
{
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT id, kind, to_addr, subject, body_text, body_html, attempts,"
		" give_up_at, sealed FROM outbox WHERE id = ?", "s", id);
	int found = 0;

	memset(m, 0, sizeof *m);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(m->id, sizeof m->id, "%s", api_col_text(st, 0));
		snprintf(m->kind, sizeof m->kind, "%s", api_col_text(st, 1));
		snprintf(m->to, sizeof m->to, "%s", api_col_text(st, 2));
		m->subject = strdup(api_col_text(st, 3));
		m->text = strdup(api_col_text(st, 4));
		m->html = strdup(api_col_text(st, 5));
		m->attempts = sqlite3_column_int64(st, 6);
		m->give_up_at = sqlite3_column_int64(st, 7);
		snprintf(m->sealed, sizeof m->sealed, "%s", api_col_text(st, 8) ? api_col_text(st, 8) : "");
		found = m->subject && m->text && m->html;
	}
	sqlite3_finalize(st);
	return found ? 0 : -1;
}

static void mime(api_req *r, const message *m, const char *from, api_buf *out)
{
	char date[64], host[128] = "localhost", boundary[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	bare_address(from, host, sizeof host);
	snprintf(boundary, sizeof boundary, "=_signcore_%s", m->id);
	api_buf_printf(out, "From: %s\r\nTo: %s\r\nSubject: ", from, m->to);
	header_text(out, m->subject);
	api_buf_printf(out, "\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
		"Auto-Submitted: auto-generated\r\nX-Signcore-Message: %s\r\n"
		"Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", date, m->id,
		strchr(host, '@') ? strchr(host, '@') + 1 : "signcore.invalid", m->kind, boundary);
	api_buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
		boundary);
	b64_lines(out, m->text, strlen(m->text));
	api_buf_printf(out, "--%s\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
		boundary);
	b64_lines(out, m->html, strlen(m->html));
	api_buf_printf(out, "--%s--\r\n", boundary);
	(void)r;
}

typedef struct {
	const char *p;
	size_t left;
} reader;

static size_t read_msg(char *buf, size_t size, size_t n, void *u)
{
	reader *rd = u;
	size_t len = size * n < rd->left ? size * n : rd->left;
	memcpy(buf, rd->p, len);
	rd->p += len;
	rd->left -= len;
	return len;
}

static int smtp_send(api_req *r, const message *m, const char *from, const api_buf *msg, char *err, size_t errsz)
{
	char from_addr[256], to_addr[260], *password = NULL;
	struct curl_slist *rcpt = NULL;
	reader rd = { msg->data, msg->len };
	CURL *c = curl_easy_init();
	CURLcode rc;

	if (!c) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	bare_address(from, from_addr, sizeof from_addr);
	snprintf(to_addr, sizeof to_addr, "<%s>", m->to);
	rcpt = curl_slist_append(rcpt, to_addr);
	curl_easy_setopt(c, CURLOPT_URL, r->conf->smtp_url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_addr);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_msg);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	if (r->conf->smtp_username) {
		char *path = api_path(r->conf->data_dir, r->conf->smtp_password_file ? r->conf->smtp_password_file : "");
		size_t len = 0;
		if (r->conf->smtp_password_file && path && (password = (char *)api_read_file(path, &len))) {
			while (len && (password[len - 1] == '\n' || password[len - 1] == '\r'))
				len--;
			password[len] = 0;
		}
		free(path);
		curl_easy_setopt(c, CURLOPT_USERNAME, r->conf->smtp_username);
		if (password)
			curl_easy_setopt(c, CURLOPT_PASSWORD, password);
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);  /* never a password in clear */
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		snprintf(err, errsz, "SMTP: %s", curl_easy_strerror(rc));
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	free(password);
	return rc == CURLE_OK ? 0 : -1;
}

static int sendmail_send(api_req *r, const api_buf *msg, char *err, size_t errsz)
{
	int fds[2], status = 0;
	size_t i;
	pid_t pid;
	FILE *f;

	if (pipe(fds)) {
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		snprintf(err, errsz, "fork: %s", strerror(errno));
		return -1;
	}
	if (!pid) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execl(r->conf->sendmail, r->conf->sendmail, "-t", "-i", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	if ((f = fdopen(fds[1], "w"))) {
		for (i = 0; i < msg->len; i++)  /* local mail programs take LF line ends */
			if (!(msg->data[i] == '\r' && i + 1 < msg->len && msg->data[i + 1] == '\n'))
				fputc(msg->data[i], f);
		fclose(f);
	} else
		close(fds[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, errsz, "%s exited with %d", r->conf->sendmail, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

static int fill_code(char **body, const char *code)
{
	char *at = strstr(*body, API_OTP_PLACEHOLDER), *n;
	size_t pl = strlen(API_OTP_PLACEHOLDER), len = strlen(*body);

	if (!at)
		return -1;
	if (!(n = malloc(len - pl + 7)))
		return -1;
	memcpy(n, *body, (size_t)(at - *body));
	memcpy(n + (at - *body), code, 6);
	strcpy(n + (at - *body) + 6, at + pl);
	free(*body);
	*body = n;
	return 0;
}

static int send_one(api_req *r, const char *id)
{
	char err[512] = "", from[300];
	api_buf msg = { 0 };
	message m;
	long long now;
	int ok;

	if (message_load(r, id, &m) || renew(r, "outbox", id, 90)) {
		message_clear(&m);
		return -1;
	}
	if (m.sealed[0]) {  /* the one-time code goes in only now */
		char code[7];
		if (api_otp_unseal(r->conf->data_dir, m.id, m.sealed, code) || fill_code(&m.text, code) ||
			fill_code(&m.html, code)) {
			message_clear(&m);
			return -1;
		}
	}
	if (r->conf->smtp_from)
		snprintf(from, sizeof from, "%s", r->conf->smtp_from);
	else
		snprintf(from, sizeof from, "%s <no-reply@localhost>",
			r->conf->product_name ? r->conf->product_name : "signcore");
	mime(r, &m, from, &msg);
	ok = !(r->conf->smtp_url ? smtp_send(r, &m, from, &msg, err, sizeof err) : sendmail_send(r, &msg, err, sizeof err));
	now = api_now();
	api_db_exec(r->db, "BEGIN IMMEDIATE");
	if (api_db_int(r->db, 0, "SELECT count(*) FROM outbox WHERE id = ? AND status = 'sending' AND lease_owner = ?",
			"ss", m.id, owner) == 1) {
		if (ok)
			api_db_run(r->db, "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, error = NULL,"
				" lease_owner = NULL, sealed = NULL WHERE id = ?", "is", now, m.id);
		else if (now >= m.give_up_at)
			api_db_run(r->db, "UPDATE outbox SET status = 'failed', attempts = attempts + 1, error = ?,"
				" lease_owner = NULL, sealed = NULL WHERE id = ?", "ss", err, m.id);
		else
			api_db_run(r->db, "UPDATE outbox SET status = 'pending', attempts = attempts + 1, error = ?, next_at = ?,"
				" lease_owner = NULL WHERE id = ?", "sis", err, retry_at(r->conf, now, m.attempts + 1), m.id);
	}
	if (api_db_exec(r->db, "COMMIT"))
		api_db_exec(r->db, "ROLLBACK");
	if (ok)
		say("sent %s (%s) to %s", m.id, m.kind, m.to);
	else
		say("sending %s (%s) to %s failed, attempt %lld: %s", m.id, m.kind, m.to, m.attempts + 1, err);
	api_buf_free(&msg);
	message_clear(&m);
	return 0;
}

static int outbox_pass(api_req *r)
{
	static int told;
	char ids[BATCH][40];
	int n, i;

	if (!r->conf->smtp_url && !r->conf->sendmail) {
		long long waiting = api_db_int(r->db, 0, "SELECT count(*) FROM outbox WHERE status = 'pending'", NULL);
		if (waiting && !told++)
			say("%lld e-mail(s) wait in the outbox: set [smtp] url or sendmail in signcore.conf", waiting);
		return 0;
	}
	n = claim(r, "SELECT id FROM outbox WHERE (status = 'pending' AND next_at <= ?) OR (status = 'sending' AND"
		" lease_until <= ?) ORDER BY seq", "outbox", 90, ids);
	for (i = 0; i < n && !stopping; i++)
		send_one(r, ids[i]);
	for (; i < n; i++)
		api_db_run(r->db, "UPDATE outbox SET status = 'pending', lease_owner = NULL WHERE id = ? AND lease_owner = ?",
			"ss", ids[i], owner);
	return n;
}

/* ------------------------------------------------------------ expiry and reminders */

/* The IDs of up to BATCH documents of SQL (two time arguments). */
static int due_documents(api_req *r, const char *sql, char ids[][40], char bases[][512])
{
	long long now = api_now();
	sqlite3_stmt *st = api_db_prepare(r->db, sql, "i", now);
	int n = 0;

	while (st && n < BATCH && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(ids[n], 40, "%s", api_col_text(st, 0));
		snprintf(bases[n], 512, "%s", api_col_text(st, 1) ? api_col_text(st, 1) : "");
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

static int expiry_pass(api_req *r)
{
	char ids[BATCH][40], bases[BATCH][512];
	int n = due_documents(r, "SELECT id, base_url FROM documents WHERE status = 'pending' AND expires_at IS NOT NULL"
		" AND expires_at <= ? ORDER BY expires_at", ids, bases), i, done = 0;

	for (i = 0; i < n; i++) {
		r->base_url = *bases[i] ? bases[i] : NULL;
		if (api_doc_expire_due(r, ids[i])) {
			say("expired %s", ids[i]);
			done++;
		}
	}
	r->base_url = NULL;
	return done;
}

static int reminder_pass(api_req *r)
{
	char ids[BATCH][40], bases[BATCH][512];
	int n = due_documents(r, "SELECT id, base_url FROM documents WHERE status = 'pending' AND next_reminder_at <= ?"
		" ORDER BY next_reminder_at", ids, bases), i, done = 0;

	for (i = 0; i < n; i++) {
		json_t *sent = NULL;
		long long now = api_now();
		r->base_url = *bases[i] ? bases[i] : NULL;
		if (api_db_exec(r->db, "BEGIN IMMEDIATE"))
			continue;
		if (api_db_int(r->db, 0, "SELECT count(*) FROM documents WHERE id = ? AND status = 'pending' AND"
				" next_reminder_at <= ? AND (expires_at IS NULL OR expires_at > ?)", "sii", ids[i], now, now) == 1 &&
			(sent = api_notify_remind(r, ids[i])) &&
			/* the next one a period later; after a long pause, a period from now */
			!api_db_run(r->db, "UPDATE documents SET next_reminder_at = max(next_reminder_at + reminder_days * 86400,"
				" ? + reminder_days * 86400 - 3600) WHERE id = ?", "is", now, ids[i]) &&
			!api_db_exec(r->db, "COMMIT")) {
			say("reminded %zu recipient(s) of %s", json_array_size(sent), ids[i]);
			done++;
		} else {
			api_db_exec(r->db, "ROLLBACK");
			api_db_run(r->db, "UPDATE documents SET next_reminder_at = NULL WHERE id = ? AND (status != 'pending' OR"
				" expires_at <= ?)", "si", ids[i], now);
		}
		json_decref(sent);
	}
	r->base_url = NULL;
	return done;
}

/* ------------------------------------------------------------ pruning */

static void prune(api_req *r)
{
	long long before = api_now() - r->conf->wh_log_days * 86400;
	sqlite3_stmt *st;

	api_db_exec(r->db, "BEGIN IMMEDIATE");
	api_db_run(r->db, "DELETE FROM deliveries WHERE status IN ('delivered', 'failed') AND created_at < ?", "i", before);
	st = api_db_prepare(r->db, "SELECT webhook_id FROM deliveries GROUP BY webhook_id HAVING count(*) > ?", "i",
		r->conf->wh_log_max);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		api_db_run(r->db, "DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries WHERE webhook_id = ? AND"
			" status IN ('delivered', 'failed') ORDER BY seq DESC LIMIT -1 OFFSET ?)", "si", api_col_text(st, 0),
			r->conf->wh_log_max);
	sqlite3_finalize(st);
	api_db_run(r->db, "DELETE FROM webhook_events WHERE NOT EXISTS (SELECT 1 FROM deliveries WHERE event_id ="
		" webhook_events.id)", NULL);
	api_db_run(r->db, "DELETE FROM outbox WHERE status IN ('sent', 'failed') AND created_at < ?", "i", before);
	if (api_db_exec(r->db, "COMMIT"))
		api_db_exec(r->db, "ROLLBACK");
	api_cache_prune(r->conf->data_dir);
}

/* ------------------------------------------------------------ main */

static int pass(api_req *r)
{
	int n = expiry_pass(r);
	n += reminder_pass(r);
	if (!stopping)
		n += deliveries_pass(r);
	if (!stopping)
		n += outbox_pass(r);
	return n;
}

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: signcore-worker [--data-dir DIR] (--once | --loop) [--now TIME]\n"
		"Delivers webhook events, sends queued e-mail, expires documents and sends reminders.\n"
		"  --once      work until nothing is due, then exit (for cron)\n"
		"  --loop      keep working; SIGTERM or SIGINT stops after the current item\n"
		"  --now TIME  take TIME (RFC 3339 or Unix seconds) as the current time (tests)\n"
		"DIR defaults to $SIGNCORE_DATA_DIR.\n");
	return rc;
}

int main(int argc, char **argv)
{
	const char *dir_arg = NULL, *dir;
	char err[1024] = "", host[64] = "localhost";
	int i, once = 0, loop = 0;
	unsigned char rnd[4];
	api_conf conf;
	api_req r;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--data-dir") && i + 1 < argc)
			dir_arg = argv[++i];
		else if (!strncmp(argv[i], "--data-dir=", 11))
			dir_arg = argv[i] + 11;
		else if (!strcmp(argv[i], "--once"))
			once = 1;
		else if (!strcmp(argv[i], "--loop"))
			loop = 1;
		else if (!strcmp(argv[i], "--now") && i + 1 < argc) {
			char *end;
			const char *t = argv[++i];
			long long v = strtoll(t, &end, 10);
			api_fixed_now = *end ? api_parse_time(t) : v;
			if (api_fixed_now <= 0) {
				fprintf(stderr, "signcore-worker: --now takes an RFC 3339 time or Unix seconds, not \"%s\"\n", t);
				return 2;
			}
		} else if (!strcmp(argv[i], "--version")) {
			printf("signcore-worker %s\n", PACKAGE_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--help"))
			return usage(0);
		else {
			fprintf(stderr, "signcore-worker: unknown option %s\n", argv[i]);
			return usage(2);
		}
	}
	if (once == loop) {
		fprintf(stderr, "signcore-worker: give --once or --loop\n");
		return usage(2);
	}
	dir = api_data_dir(dir_arg);
	if (api_conf_load(&conf, dir, err, sizeof err)) {
		fprintf(stderr, "signcore-worker: %s\n", err);
		api_conf_free(&conf);
		return 1;
	}
	memset(&r, 0, sizeof r);
	r.conf = &conf;
	r.system = 1;
	if (api_db_open(&r.db, dir, 0, err, sizeof err)) {
		fprintf(stderr, "signcore-worker: %s\n", err);
		api_conf_free(&conf);
		return 1;
	}
	gethostname(host, sizeof host - 1);
	api_random(rnd, sizeof rnd);
	snprintf(owner, sizeof owner, "%s:%ld:%02x%02x%02x%02x", host, (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	prune(&r);
	while (!stopping) {
		int n = pass(&r);
		if (n > 0)
			continue;
		if (once)
			break;
		for (i = 0; i < conf.worker_interval * 10 && !stopping; i++)
			usleep(100000);
		if (api_fixed_now)  /* a test clock moves with the loop */
			api_fixed_now += conf.worker_interval;
		prune(&r);
	}
	sqlite3_close(r.db);
	api_conf_free(&conf);
	curl_global_cleanup();
	return 0;
}
