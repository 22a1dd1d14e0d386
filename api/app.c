/*
 * One request end to end: the route table, API-key authentication, plans
 * and the per-key rolling rate limit, and Idempotency-Key replays.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { AUTH_KEY = 1, BIG_BODY = 2, CACHED = 4 };

typedef struct {
	const char *method;
	const char *pattern;
	int (*handler)(api_req *r);
	int flags;
} route;

static const route routes[] = {
	{ "GET", "/v1/upload/presigned-url", api_upload_presign, AUTH_KEY },
	{ "PUT", "/v1/upload/{}", api_upload_put, BIG_BODY },
	{ "POST", "/v1/uploads", api_upload_post, AUTH_KEY | BIG_BODY },
	{ "POST", "/v1/documents", api_documents_create, AUTH_KEY },
	{ "GET", "/v1/documents", api_documents_list, AUTH_KEY },
	{ "GET", "/v1/documents/{}", api_documents_get, AUTH_KEY | CACHED },
	{ "PATCH", "/v1/documents/{}", api_documents_patch, AUTH_KEY },
	{ "DELETE", "/v1/documents/{}", api_documents_delete, AUTH_KEY },
	{ "POST", "/v1/documents/{}/send", api_documents_send, AUTH_KEY },
	{ "POST", "/v1/documents/{}/void", api_documents_void, AUTH_KEY },
	{ "POST", "/v1/documents/{}/remind", api_documents_remind, AUTH_KEY },
	{ "POST", "/v1/documents/{}/complete", api_documents_complete, AUTH_KEY },
	{ "GET", "/v1/documents/{}/download", api_documents_download, AUTH_KEY },
	{ "GET", "/v1/documents/{}/events", api_documents_events, AUTH_KEY },
	{ "GET", "/v1/documents/{}/recipients", api_recipients_list, AUTH_KEY },
	{ "POST", "/v1/documents/{}/recipients", api_recipients_add, AUTH_KEY },
	{ "PATCH", "/v1/documents/{}/recipients/{}", api_recipients_patch, AUTH_KEY },
	{ "DELETE", "/v1/documents/{}/recipients/{}", api_recipients_delete, AUTH_KEY },
	{ "GET", "/v1/documents/{}/fields", api_fields_list, AUTH_KEY },
	{ "POST", "/v1/documents/{}/fields", api_fields_add, AUTH_KEY },
	{ "PATCH", "/v1/documents/{}/fields/{}", api_fields_patch, AUTH_KEY },
	{ "DELETE", "/v1/documents/{}/fields/{}", api_fields_delete, AUTH_KEY },
	{ "POST", "/v1/webhooks", api_webhooks_create, AUTH_KEY },
	{ "GET", "/v1/webhooks", api_webhooks_list, AUTH_KEY },
	{ "GET", "/v1/webhooks/{}", api_webhooks_get, AUTH_KEY },
	{ "PATCH", "/v1/webhooks/{}", api_webhooks_patch, AUTH_KEY },
	{ "DELETE", "/v1/webhooks/{}", api_webhooks_delete, AUTH_KEY },
	{ "POST", "/v1/webhooks/{}/rotate-secret", api_webhooks_rotate, AUTH_KEY },
	{ "POST", "/v1/webhooks/{}/test", api_webhooks_test, AUTH_KEY },
	{ "GET", "/v1/webhooks/{}/deliveries", api_webhooks_deliveries, AUTH_KEY },
	{ "POST", "/v1/webhooks/{}/deliveries/{}/redeliver", api_webhooks_redeliver, AUTH_KEY },
	{ "GET", "/v1/signing/{}", api_signing_get, 0 },
	{ "GET", "/v1/signing/{}/download", api_signing_download, 0 },
	{ "POST", "/v1/signing/{}/otp", api_signing_otp, 0 },
	{ "POST", "/v1/signing/{}/otp/verify", api_signing_otp_verify, 0 },
	{ "GET", "/v1/signing/{}/pages/{}.png", api_signing_page, 0 },
	{ "POST", "/v1/signing/{}/submit", api_signing_submit, 0 },
	{ "POST", "/v1/signing/{}/decline", api_signing_decline, 0 },
	{ "POST", "/v1/signing/{}/approve", api_signing_approve, 0 },
	{ "POST", "/v1/signing/{}/reject", api_signing_reject, 0 },
};

/* Match PATH against PATTERN; "{}" takes one segment (up to a '/' or the
 * literal text that follows it in the pattern). */
static int match(api_req *r, const char *pattern, const char *path)
{
	int n = 0;

	while (*pattern && *path) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			const char *lit = pattern + 2, *end;
			size_t litlen = strcspn(lit, "/");
			const char *seg_end = path + strcspn(path, "/");
			if (litlen) {
				if ((size_t)(seg_end - path) <= litlen || strncmp(seg_end - litlen, lit, litlen))
					goto fail;
				end = seg_end - litlen;
			} else
				end = seg_end;
			if (end == path || n >= 4)
				goto fail;
			r->params[n++] = strndup(path, (size_t)(end - path));
			path = end;
			pattern += 2;
			continue;
		}
		if (*pattern++ != *path++)
			goto fail;
	}
	if (*pattern || *path)
		goto fail;
	r->nparams = n;
	return 1;
fail:
	while (n)
		free(r->params[--n]);
	return 0;
}

/* The key of an Authorization: Bearer header, or NULL (with *WHY). */
static const char *bearer_key(api_req *r, const char **why)
{
	const char *a = r->authorization, *key;

	if (!a || !*a) {
		*why = "missing";
		return NULL;
	}
	if (strncasecmp(a, "Bearer ", 7)) {
		*why = "the Authorization header must be Bearer <key>";
		return NULL;
	}
	key = a + 7;
	while (*key == ' ')
		key++;
	if (strncmp(key, "sc_live_", 8) && strncmp(key, "sc_test_", 8)) {
		*why = "API keys start with sc_live_ or sc_test_";
		return NULL;
	}
	return key;
}

static int authenticate(api_req *r)
{
	const char *key, *why = NULL;
	char hash[65];
	sqlite3_stmt *st;
	int rc = -1;

	if (!(key = bearer_key(r, &why)))
		return !strcmp(why, "missing") ?
			api_fail(r, 401, "missing_api_key", "send your API key as Authorization: Bearer <key>") :
			api_fail(r, 401, "invalid_api_key", "%s", why);
	api_sha256_hex(key, strlen(key), hash);
	st = api_db_query(r->db,
		"SELECT k.id, k.account_id, k.test, k.revoked_at, a.plan, k.last_used_at FROM api_keys k"
		" JOIN accounts a ON a.id = k.account_id WHERE k.hash = ?", "s", hash);
	if (!st)
		return api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
	if (sqlite3_step(st) != SQLITE_ROW)
		api_fail(r, 401, "invalid_api_key", "this API key is not valid");
	else if (sqlite3_column_type(st, 3) != SQLITE_NULL)
		api_fail(r, 401, "revoked_api_key", "this API key was revoked");
	else {
		snprintf(r->key_id, sizeof r->key_id, "%s", api_col_text(st, 0));
		snprintf(r->account_id, sizeof r->account_id, "%s", api_col_text(st, 1));
		r->test = sqlite3_column_int(st, 2);
		r->plan = api_plan_from_name(api_col_text(st, 4));
		r->key_last_used = sqlite3_column_int64(st, 5);
		rc = 0;
	}
	api_db_done(st);
	if (rc)
		return rc;
	if (r->plan < 0 || r->conf->rate[r->plan] <= 0)
		return api_fail(r, 403, "plan_forbidden", "the %s plan has no API access; upgrade to use the API",
			api_plan_name(r->plan));
	return 0;
}

/* A rolling 60-second window per key (ratelimit.c). */
static int rate_limit(api_req *r)
{
	long long now = api_now();
	api_rate rl;

	if (api_rate_take(r->conf->data_dir, r->key_id, r->conf->rate[r->plan], now, &rl))
		return api_fail(r, 500, "internal", "the rate limit state cannot be kept in the data directory");
	api_header(r, "X-RateLimit-Limit: %lld", rl.limit);
	api_header(r, "X-RateLimit-Remaining: %lld", rl.remaining);
	api_header(r, "X-RateLimit-Reset: %lld", rl.reset);
	if (!rl.allowed) {
		api_header(r, "Retry-After: %lld", rl.retry_after);
		return api_fail(r, 429, "rate_limited", "more than %lld requests in 60 seconds; retry in %lld s", rl.limit,
			rl.retry_after);
	}
	/* when the key was last used, to the minute: a write at most once a minute */
	if (r->key_last_used < now - 60 && r->db &&
		!api_db_run(r->db, "UPDATE api_keys SET last_used_at = ? WHERE id = ?", "is", now, r->key_id))
		r->key_last_used = now;
	return 0;
}

/* Answer a read from the cache (cache.c), without the database: 1 when
 * answered. KEY_HASH gets the hash of the request's key, for storing the
 * answer on a miss. */
static int cached_answer(api_req *r, char key_hash[65])
{
	api_buf body = { 0 };
	const char *key, *why;

	*key_hash = 0;
	if (!(key = bearer_key(r, &why)))
		return 0;
	api_sha256_hex(key, strlen(key), key_hash);
	if (!api_cache_lookup(r, key_hash, &body))
		return 0;
	if (r->conf->rate[r->plan] <= 0) {
		/* the plan lost API access since: the full path answers 403 */
		*r->key_id = *r->account_id = 0;
		api_buf_free(&body);
		return 0;
	}
	if (!rate_limit(r)) {
		api_buf_free(&r->out);
		r->out = body;
		memset(&body, 0, sizeof body);
		r->status = 200;
		r->responded = 1;
		r->out_type = "application/json";
		api_header(r, "X-Cache: hit");
	}
	api_buf_free(&body);
	return 1;
}

static int need_db(api_req *r)
{
	char err[1024];

	if (r->db)
		return 0;
	if (!r->lazy_db)
		return api_fail(r, 503, "not_configured", "the API is not set up: run signcore-admin init");
	if (api_db_open(&r->db, r->conf->data_dir, 0, err, sizeof err))
		return api_fail(r, 503, "not_configured", "%s", err);
	api_db_cache(r->db);
	return 0;
}

/* 1: replayed (answered), 0: go on (a claim row was made), -1: answered. */
static int idempotency_begin(api_req *r, char hash[65])
{
	sqlite3_stmt *st;
	api_sha256_ctx c;
	unsigned char md[32];
	int rc = 0;

	if (strlen(r->idempotency_key) > 255)
		return api_fail(r, 400, "invalid_idempotency_key", "Idempotency-Key is longer than 255 characters");
	api_sha256_init(&c);
	api_sha256_update(&c, r->method, strlen(r->method) + 1);
	api_sha256_update(&c, r->path, strlen(r->path) + 1);
	if (r->body)
		api_sha256_update(&c, r->body, r->body_len);
	api_sha256_final(&c, md);
	api_hex(hash, md, 32);
	if (api_db_exec(r->db, "BEGIN IMMEDIATE"))
		return api_fail(r, 503, "busy", "the database is busy");
	/* keys are kept for 24 hours */
	api_db_run(r->db, "DELETE FROM idempotency WHERE account_id = ? AND created_at < ?", "si", r->account_id,
		api_now() - 86400);
	st = api_db_prepare(r->db, "SELECT request_sha256, status, response, created_at FROM idempotency"
		" WHERE account_id = ? AND key = ?", "ss", r->account_id, r->idempotency_key);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		if (strcmp(api_col_text(st, 0), hash))
			rc = api_fail(r, 422, "idempotency_key_reused",
				"this Idempotency-Key was used for a different request");
		else if (sqlite3_column_int(st, 1) == 0 && sqlite3_column_int64(st, 3) > api_now() - 120)
			rc = api_fail(r, 409, "idempotency_in_progress",
				"a request with this Idempotency-Key is still being processed");
		else if (sqlite3_column_int(st, 1) == 0)
			/* a claim left by a request that died: take it over */
			api_db_run(r->db, "UPDATE idempotency SET created_at = ? WHERE account_id = ? AND key = ?", "iss",
				api_now(), r->account_id, r->idempotency_key);
		else {
			const char *body = api_col_text(st, 2);
			r->status = sqlite3_column_int(st, 1);
			r->responded = 1;
			r->out.len = 0;
			api_buf_add(&r->out, body ? body : "", body ? strlen(body) : 0);
			r->out_type = "application/json";
			api_header(r, "Idempotent-Replayed: true");
			rc = 1;
		}
	} else if (api_db_run(r->db, "INSERT INTO idempotency (account_id, key, method, path, request_sha256,"
			" status, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)", "sssssi", r->account_id,
			r->idempotency_key, r->method, r->path, hash, api_now()))
		rc = api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	api_db_exec(r->db, "COMMIT");
	return rc;
}

static void idempotency_end(api_req *r)
{
	if (r->status >= 500 || !r->responded)
		api_db_run(r->db, "DELETE FROM idempotency WHERE account_id = ? AND key = ?", "ss", r->account_id,
			r->idempotency_key);
	else
		api_db_run(r->db, "UPDATE idempotency SET status = ?, response = ? WHERE account_id = ? AND key = ?",
			"isss", (long long)r->status, r->out.data ? r->out.data : "", r->account_id, r->idempotency_key);
}

static char *request_path(api_req *r)
{
	const char *uri = api_env(r, "REQUEST_URI");
	const char *info = api_env(r, "PATH_INFO"), *q;
	size_t n;
	char *path, *o;
	const char *s;

	if (!uri || !*uri)
		return strdup(info && *info ? info : "/");
	q = strchr(uri, '?');
	n = q ? (size_t)(q - uri) : strlen(uri);
	/* the API may be mounted under a prefix (/api/v1/..., /cgi-bin/signcore.cgi/v1/...):
	 * routing starts at /v1 whatever SCRIPT_NAME says */
	if (strncmp(uri, "/v1/", 4) && !(n == 3 && !strncmp(uri, "/v1", 3))) {
		const char *v = strstr(uri, "/v1/");
		if (v && v < uri + n) {
			n -= (size_t)(v - uri);
			uri = v;
		}
	}
	if (!(path = malloc(n + 2)))
		return NULL;
	/* decode %XX; a decoded '/' stays inside its segment by being refused */
	for (s = uri, o = path; s < uri + n; s++) {
		if (*s == '%' && s + 2 < uri + n + 0 && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char hex[3] = { s[1], s[2], 0 };
			char c = (char)strtol(hex, NULL, 16);
			if (c == '/' || c == 0)
				c = '\x7f';
			*o++ = c;
			s += 2;
		} else
			*o++ = *s;
	}
	*o = 0;
	if (!*path)
		strcpy(path, "/");
	return path;
}

void api_handle(api_req *r)
{
	const route *rt = NULL;
	const char *q, *cl, *uri;
	char allow[128] = "", hash[65], key_hash[65] = "";
	size_t i;
	int known_path = 0, idem = 0;

	api_new_id(r->request_id, sizeof r->request_id, "req_");
	r->method = api_env(r, "REQUEST_METHOD");
	if (!r->method)
		r->method = "GET";
	uri = api_env(r, "REQUEST_URI");
	q = uri ? strchr(uri, '?') : NULL;
	r->query = strdup(q ? q + 1 : (api_env(r, "QUERY_STRING") ? api_env(r, "QUERY_STRING") : ""));
	r->path = request_path(r);
	r->content_type = api_env(r, "CONTENT_TYPE");
	cl = api_env(r, "CONTENT_LENGTH");
	r->content_length = cl && *cl ? strtoll(cl, NULL, 10) : -1;
	r->authorization = api_env(r, "HTTP_AUTHORIZATION");
	r->idempotency_key = api_env(r, "HTTP_IDEMPOTENCY_KEY");
	r->user_agent = api_env(r, "HTTP_USER_AGENT");
	r->remote_addr = api_env(r, "REMOTE_ADDR");
	if (!r->path || !r->query) {
		api_fail(r, 500, "internal", "out of memory");
		return;
	}

	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (!match(r, routes[i].pattern, r->path))
			continue;
		known_path = 1;
		if (!strcmp(routes[i].method, r->method) ||
			(!strcmp(r->method, "HEAD") && !strcmp(routes[i].method, "GET"))) {
			rt = &routes[i];
			break;
		}
		while (r->nparams)
			free(r->params[--r->nparams]);
		if (!strstr(allow, routes[i].method))
			snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", *allow ? ", " : "",
				routes[i].method);
	}
	if (!rt) {
		if (known_path) {
			api_header(r, "Allow: %s", allow);
			api_fail(r, 405, "method_not_allowed", "%s is not allowed on %s (allowed: %s)", r->method, r->path,
				allow);
		} else
			api_fail(r, 404, "route_not_found", "no such endpoint: %s %s", r->method, r->path);
		return;
	}
	if ((rt->flags & CACHED) && r->conf->read_cache && cached_answer(r, key_hash))
		return;
	if (need_db(r))
		return;
	if ((rt->flags & AUTH_KEY) && (authenticate(r) || rate_limit(r)))
		return;
	if ((rt->flags & AUTH_KEY) && !strcmp(r->method, "POST") && r->idempotency_key && *r->idempotency_key) {
		int rc;
		if (api_read_body(r, (rt->flags & BIG_BODY) ? r->conf->max_upload : r->conf->max_json))
			return;
		if ((rc = idempotency_begin(r, hash)))
			return;
		idem = 1;
	}
	rt->handler(r);
	if (!r->responded)
		api_fail(r, 500, "internal", "the request got no answer");
	if (idem)
		idempotency_end(r);
	if (*key_hash && r->cache_until)
		api_cache_store(r, key_hash);
}
