/*
 * signcore API layer: the private declarations shared by signcore.cgi and
 * signcore-admin. HTTP in, JSON out, state in SQLite; PDF work goes to
 * libsigncore, which is loaded only by requests that need it (engine.c).
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#ifndef SIGNCORE_API_H
#define SIGNCORE_API_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <jansson.h>

/* ------------------------------------------------------------ hashing (hash.c) */

typedef struct {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t fill;
} api_sha256_ctx;

void api_sha256_init(api_sha256_ctx *c);
void api_sha256_update(api_sha256_ctx *c, const void *data, size_t len);
void api_sha256_final(api_sha256_ctx *c, unsigned char out[32]);
void api_sha256(const void *data, size_t len, unsigned char out[32]);
void api_sha256_hex(const void *data, size_t len, char hex[65]);
void api_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32]);
void api_hex(char *out, const unsigned char *in, size_t n);
/* Constant-time comparison of two strings of the same length. */
int api_equal_secret(const char *a, const char *b);
/* Fill BUF with N bytes from the kernel's random source; -1 on failure. */
int api_random(void *buf, size_t n);
/* A random identifier: PREFIX followed by 20 base32 characters (100 bits). */
int api_new_id(char *out, size_t size, const char *prefix);
/* URL-safe base64 without padding; OUT must hold 4*((N+2)/3)+1 bytes. */
void api_b64url(char *out, const unsigned char *in, size_t n);
/* Standard base64 decoding (whitespace ignored); NULL on bad input. */
unsigned char *api_b64decode(const char *in, size_t len, size_t *outlen);

/* The one-time code in an outbox e-mail: the stored body holds
 * API_OTP_PLACEHOLDER, the code is kept sealed with the server secret. */
#define API_OTP_PLACEHOLDER "{{one-time code}}"
int api_otp_seal(const char *dir, const char *msg_id, const char *code, char out[13]);
int api_otp_unseal(const char *dir, const char *msg_id, const char *sealed, char out[7]);

/* ------------------------------------------------------------ configuration (conf.c) */

enum { API_PLAN_FREE, API_PLAN_STARTER, API_PLAN_GROWTH, API_PLAN_ENTERPRISE, API_PLAN_COUNT };

typedef struct {
	char *data_dir;
	char *base_url;            /* [server] base_url; NULL: from the request's Host */
	char *library;             /* [server] library: path of libsigncore.so */
	char *font_dir;            /* [server] font_dir */
	char *seal_p12;            /* [seal] p12 (relative to the data directory) */
	char *seal_password_file;  /* [seal] password_file */
	char *seal_level;          /* [seal] level: B-B, B-T, B-LT, B-LTA */
	char **tsa;                /* [seal] tsa: one or more URLs */
	size_t tsa_count;
	char **trust;              /* [seal] trust: PEM files trusted for TSA/OCSP answers */
	size_t trust_count;
	char *seal_reason;         /* [seal] reason */
	long long rate[API_PLAN_COUNT];      /* requests per rolling minute, per key; 0 = no API */
	long long documents[API_PLAN_COUNT]; /* documents per calendar month; -1 = unlimited */
	long long max_upload;      /* [limits] max_upload_bytes */
	long long max_json;        /* [limits] max_json_bytes */
	long long max_pages;       /* [limits] max_pages */
	long long upload_ttl;      /* [limits] upload_url_ttl (seconds) */
	long long signing_ttl;     /* [limits] signing_link_ttl (seconds) */
	char *product_name;        /* [server] product_name: in e-mails */
	int read_cache;            /* [server] read_cache: on (1, default) or off */
	/* [webhooks] (seconds unless said) */
	long long wh_timeout, wh_retry_base, wh_retry_cap, wh_jitter /* percent */, wh_give_up, wh_disable_after,
		wh_secret_grace, wh_log_days, wh_log_max /* deliveries kept per webhook */;
	/* [smtp]: url (smtp:// or smtps://) or sendmail (a program run with -t -i) */
	char *smtp_url, *smtp_from, *smtp_username, *smtp_password_file, *sendmail;
	/* [otp] */
	long long otp_ttl, otp_attempts, otp_lock, otp_resend, otp_per_hour;
	long long worker_interval; /* [worker] interval: seconds between --loop passes */
} api_conf;

const char *api_plan_name(int plan);
int api_plan_from_name(const char *name);
/* Read DIR/signcore.conf (absent is fine). On error, ERR says which line. */
int api_conf_load(api_conf *conf, const char *dir, char *err, size_t errsz);
void api_conf_free(api_conf *conf);
/* The data directory: --data-dir, else SIGNCORE_DATA_DIR. */
const char *api_data_dir(const char *arg);
/* DIR/NAME, or NAME when it is absolute; caller frees. */
char *api_path(const char *dir, const char *name);

/* ------------------------------------------------------------ storage (store.c) */

#define API_SCHEMA_VERSION 2

/* Open DIR/signcore.db; CREATE makes and migrates it (init). */
int api_db_open(sqlite3 **db, const char *dir, int create, char *err, size_t errsz);
/* The data directory's generation (DATA/generation, cache.c): 16 random
 * bytes replaced after every commit of a connection api_db_open made. */
#define API_GEN_SIZE 16
int api_gen_read(const char *dir, unsigned char gen[API_GEN_SIZE]);
int api_gen_watch(sqlite3 *db, const char *dir);
int api_db_migrate(sqlite3 *db, char *err, size_t errsz);
int api_db_exec(sqlite3 *db, const char *sql);
/* Prepare SQL and bind arguments by a format: s = string (NULL ok),
 * i = long long, d = double, b = blob (pointer, size_t). */
sqlite3_stmt *api_db_prepare(sqlite3 *db, const char *sql, const char *fmt, ...);
/* Keep DB's statements prepared across requests (a server process's one
 * connection); api_db_close finalizes them. */
void api_db_cache(sqlite3 *db);
void api_db_close(sqlite3 *db);
/* Like api_db_prepare, from DB's statement cache when it has one: give the
 * statement back with api_db_done, never sqlite3_finalize. */
sqlite3_stmt *api_db_query(sqlite3 *db, const char *sql, const char *fmt, ...);
void api_db_done(sqlite3_stmt *st);
/* Reset every cached statement (after a request: no transaction left open). */
void api_db_idle(sqlite3 *db);
/* Run a statement that returns no rows. SQLITE_DONE → 0. */
int api_db_run(sqlite3 *db, const char *sql, const char *fmt, ...);
/* First column of the first row as an integer (DEF when there is none). */
long long api_db_int(sqlite3 *db, long long def, const char *sql, const char *fmt, ...);
const char *api_col_text(sqlite3_stmt *st, int col);
json_t *api_col_json_str(sqlite3_stmt *st, int col);

/* Content-addressed blobs: DIR/blobs/ab/abcdef... (SHA-256 hex). */
int api_blob_put(const char *dir, const void *data, size_t len, char hex[65]);
unsigned char *api_blob_get(const char *dir, const char *hex, size_t *len);
char *api_blob_path(const char *dir, const char *hex);
/* Write DATA to PATH through a temporary file renamed on success. */
int api_write_file(const char *path, const void *data, size_t len);
/* The same with MODE, and without the fsync unless SYNC. */
int api_write_file_mode(const char *path, const void *data, size_t len, int mode, int sync);
unsigned char *api_read_file(const char *path, size_t *len);

/* The server's secret (DIR/secret, 32 random bytes, made by init). */
int api_secret(const char *dir, unsigned char key[32]);

/* Unix seconds; api_fixed_now, when set, replaces the clock (signcore-worker --now). */
extern long long api_fixed_now;
long long api_now(void);
/* RFC 3339 UTC ("2026-11-21T10:00:00Z"); OUT holds 21 bytes. */
void api_time_str(char *out, long long t);
json_t *api_time_json(long long t);
/* Parse an RFC 3339 time; -1 when it is not one. */
long long api_parse_time(const char *s);

/* ------------------------------------------------------------ rate limit (ratelimit.c) */

typedef struct {
	int allowed;
	long long limit, remaining;
	long long reset;        /* Unix time when the oldest counted request leaves the window */
	long long retry_after;  /* seconds, when not allowed */
} api_rate;

/* Count one request of KEY_ID at NOW (Unix seconds) against LIMIT per
 * rolling 60 s; -1 when the state file cannot be used. */
int api_rate_take(const char *dir, const char *key_id, long long limit, long long now, api_rate *out);

/* ------------------------------------------------------------ webhook URLs (net.c) */

struct sockaddr;

typedef struct {
	int https;
	char host[256];
	int port;
} api_url;

int api_url_parse(const char *url, api_url *u);
/* May a webhook of this mode use URL? Live: https and no private, loopback
 * or reserved address; test: also http to a loopback address. */
int api_url_check(const char *url, int test, char *err, size_t errsz);
int api_addr_forbidden(const struct sockaddr *sa);
int api_addr_loopback(const struct sockaddr *sa);

/* ------------------------------------------------------------ HTTP (http.c) */

typedef struct {
	char *data;
	size_t len, cap;
} api_buf;

int api_buf_add(api_buf *b, const void *data, size_t len);
int api_buf_printf(api_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void api_buf_free(api_buf *b);

struct FCGX_Request;

typedef struct api_req {
	/* the request */
	const char *method;
	char *path;               /* decoded path, query removed */
	char *query;              /* raw query string (without '?') */
	const char *content_type;
	long long content_length;
	const char *authorization;
	const char *idempotency_key;
	const char *user_agent;
	const char *remote_addr;
	unsigned char *body;
	size_t body_len;
	int body_read;
	char *params[4];          /* {…} segments of the matched route */
	int nparams;
	/* the response */
	int status;
	api_buf headers;
	api_buf out;
	const char *out_type;
	int responded;
	char request_id[40];
	/* where it came from */
	struct FCGX_Request *fcgi;
	/* state */
	api_conf *conf;
	sqlite3 *db;
	char account_id[40];
	char key_id[40];
	long long key_last_used;
	int plan;
	int test;
	const char *base_url;     /* public base URL, when not from the request (the worker) */
	int system;               /* the worker: events are the system's own */
	/* the read cache (cache.c) */
	int lazy_db;              /* db is opened on first need (a CGI process) */
	long long cache_until;    /* set by a handler whose answer may be cached */
	unsigned char cache_gen[API_GEN_SIZE];
	int cache_gen_ok;
} api_req;

const char *api_env(api_req *r, const char *name);
/* Read the body (up to LIMIT bytes: 413 beyond). 0 or -1 (response made). */
int api_read_body(api_req *r, long long limit);
/* Query parameter NAME, decoded (caller frees), or NULL. */
char *api_query(api_req *r, const char *name);
void api_header(api_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Answer {"data": DATA} (steals DATA); with META a list answer. */
int api_reply(api_req *r, int status, json_t *data, json_t *meta);
/* Answer {"error": {code, message, requestId}}; returns -1. */
int api_fail(api_req *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* ?limit= (1..100, default 20) and ?cursor= of a paginated list; -1 after 400. */
int api_page_args(api_req *r, long long *limit, long long *cursor);
/* The meta of a page of COUNT items; LAST is the sequence number of the last. */
json_t *api_page_meta(size_t count, int more, long long last);
/* Answer a whole (unpaginated) list: meta count, no more pages. */
int api_reply_list(api_req *r, json_t *list);
/* Answer with raw bytes of TYPE. */
int api_reply_bytes(api_req *r, int status, const char *type, const void *data, size_t len,
	const char *filename);
/* Write the response to stdout (CGI) or the FastCGI stream. */
void api_flush(api_req *r);
const char *api_status_text(int status);
/* Parse the body as a JSON object (400 naming the position; 415 for a
 * content type that is not JSON). NULL after answering. */
json_t *api_body_json(api_req *r);
/* 400 for a key of OBJ not in ALLOWED (NULL-terminated); -1 after answering. */
int api_check_keys(api_req *r, json_t *obj, const char *where, const char *const *allowed);

/* ------------------------------------------------------------ the application (app.c) */

/* Handle one request end to end (routing, auth, limits, idempotency). */
void api_handle(api_req *r);

/* ------------------------------------------------------------ PDF engine (engine.c) */

typedef struct api_engine api_engine;

/* Load libsigncore on first use; NULL after answering 500. */
api_engine *api_engine_get(api_req *r);
/* Check an upload: a PDF (pages, page sizes as JSON [[w,h],...]) or a PNG/JPEG
 * converted to PDF (*PDF set, release with free()). 422 answered on failure. */
int api_engine_inspect(api_req *r, api_engine *e, const unsigned char *data, size_t len,
	const char *type, int *pages, json_t **sizes, unsigned char **pdf, size_t *pdf_len);
int api_engine_render(api_req *r, api_engine *e, const unsigned char *pdf, size_t len, int page,
	double dpi, unsigned char **png, size_t *png_len);
/* The completion pipeline: stamp FIELDS (a field spec), append the audit
 * trail LOG, seal with the platform credential. *OUT gets the sealed PDF
 * (free()). ERR gets the reason on failure. */
int api_engine_complete(api_conf *conf, api_engine *e, const unsigned char *pdf, size_t len,
	const char *spec, const char *log, unsigned char **out, size_t *out_len, char *err, size_t errsz);
/* A standalone audit-trail PDF from LOG. */
int api_engine_audit(api_engine *e, const char *log, unsigned char **out, size_t *out_len,
	char *err, size_t errsz);

/* ------------------------------------------------------------ the read cache (cache.c) */

/* Entries live at most this many seconds. */
#define API_CACHE_TTL 60
/* A valid entry for R (its path and query) and the key whose hash is
 * KEY_HASH: 1 with BODY filled and R's key, account, mode and plan set; 0
 * otherwise. Reads the generation into R first, for api_cache_store. */
int api_cache_lookup(api_req *r, const char *key_hash, api_buf *body);
/* Keep R's answer when its handler set cache_until and it is a 200. */
int api_cache_store(api_req *r, const char *key_hash);
/* Remove the entries that have expired; the number removed. */
int api_cache_prune(const char *dir);

/* ------------------------------------------------------------ documents (documents.c etc.) */

int api_upload_presign(api_req *r);
int api_upload_put(api_req *r);
int api_upload_post(api_req *r);

int api_documents_create(api_req *r);
int api_documents_list(api_req *r);
int api_documents_get(api_req *r);
int api_documents_patch(api_req *r);
int api_documents_delete(api_req *r);
int api_documents_send(api_req *r);
int api_documents_void(api_req *r);
int api_documents_remind(api_req *r);
int api_documents_download(api_req *r);
int api_documents_events(api_req *r);
int api_documents_complete(api_req *r);
int api_recipients_list(api_req *r);
int api_recipients_add(api_req *r);
int api_recipients_patch(api_req *r);
int api_recipients_delete(api_req *r);
int api_fields_list(api_req *r);
int api_fields_add(api_req *r);
int api_fields_patch(api_req *r);
int api_fields_delete(api_req *r);

int api_signing_get(api_req *r);
int api_signing_page(api_req *r);
int api_signing_submit(api_req *r);
int api_signing_decline(api_req *r);
int api_signing_approve(api_req *r);
int api_signing_reject(api_req *r);

int api_webhooks_create(api_req *r);
int api_webhooks_list(api_req *r);
int api_webhooks_get(api_req *r);
int api_webhooks_patch(api_req *r);
int api_webhooks_delete(api_req *r);
int api_webhooks_rotate(api_req *r);
int api_webhooks_deliveries(api_req *r);
int api_webhooks_redeliver(api_req *r);
int api_webhooks_test(api_req *r);
/* Is TYPE an event webhooks can receive? */
int api_event_is_public(const char *type);
/* Queue event EVENT_ID of document DOC_ID for the account's webhooks that
 * want it (inside the caller's transaction). */
int api_webhook_emit(api_req *r, const char *doc_id, const char *event_id, const char *type, const char *recipient);

int api_signing_otp(api_req *r);
int api_signing_otp_verify(api_req *r);
int api_signing_download(api_req *r);

/* ------------------------------------------------------------ e-mail (notify.c) */

/* Queue the invitation of every recipient whose turn it is and who has not
 * been invited yet (inside the caller's transaction). */
int api_notify_turn(api_req *r, const char *doc_id);
/* Queue a reminder to each recipient whose turn it is and who has not acted;
 * records signer.reminded. The e-mail addresses reminded; NULL on failure. */
json_t *api_notify_remind(api_req *r, const char *doc_id);
/* Queue a notice (KIND completed, declined, voided) to the recipients:
 * completed goes to all, the others to those already invited. */
int api_notify_closed(api_req *r, const char *doc_id, const char *kind, const char *reason);
/* Queue the one-time code CODE for RECIPIENT_ID. */
int api_notify_otp(api_req *r, const char *recipient_id, const char *code, long long expires);
/* Queue a message to the account's address, if it has one. */
int api_notify_account(api_req *r, const char *account_id, long long test, const char *subject, const char *text);

/* Append an event to a document's hash-chained log (inside the caller's
 * transaction). RECIPIENT may be NULL. */
int api_event(api_req *r, const char *doc_id, const char *type, const char *recipient,
	const char *reason);
/* The signing link token of a recipient. */
int api_signing_token(api_req *r, const char *recipient_id, char *out, size_t size);
/* Run completion of DOC_ID (status completing); records the outcome. */
int api_complete(api_req *r, const char *doc_id);

#include <unistd.h>
#endif /* SIGNCORE_API_H */
