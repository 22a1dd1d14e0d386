/*
 * State: SQLite in WAL mode in the data directory, versioned migrations,
 * content-addressed blobs on disk, and the server's secret.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Each entry moves the schema one version up; never edit a released one. */
static const char *const migrations[API_SCHEMA_VERSION] = {
	/* 1 */
	"CREATE TABLE accounts ("
	" id TEXT PRIMARY KEY, name TEXT NOT NULL, plan TEXT NOT NULL,"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE api_keys ("
	" id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),"
	" hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL, test INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL, revoked_at INTEGER, last_used_at INTEGER);"
	"CREATE TABLE usage ("
	" account_id TEXT NOT NULL REFERENCES accounts(id), month TEXT NOT NULL,"
	" documents INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (account_id, month));"
	"CREATE TABLE uploads ("
	" id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),"
	" test INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('waiting','ready')),"
	" sha256 TEXT, size INTEGER, pages INTEGER, page_sizes TEXT, content_type TEXT,"
	" max_size INTEGER NOT NULL, expires_at INTEGER, created_at INTEGER NOT NULL);"
	"CREATE TABLE documents ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
	" account_id TEXT NOT NULL REFERENCES accounts(id), test INTEGER NOT NULL,"
	" title TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('draft','pending','completing','completed',"
	"  'declined','voided','expired')),"
	" signing_order TEXT NOT NULL CHECK (signing_order IN ('parallel','sequential')),"
	" message TEXT, expires_at INTEGER, upload_id TEXT NOT NULL REFERENCES uploads(id),"
	" original_sha256 TEXT NOT NULL, pages INTEGER NOT NULL, page_sizes TEXT NOT NULL,"
	" signed_sha256 TEXT, error TEXT, void_reason TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, sent_at INTEGER,"
	" completed_at INTEGER);"
	"CREATE INDEX documents_account ON documents(account_id, test, seq);"
	"CREATE TABLE recipients ("
	" id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL, email TEXT NOT NULL, name TEXT NOT NULL,"
	" role TEXT NOT NULL CHECK (role IN ('signer','approver','viewer','cc')),"
	" ord INTEGER NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('created','sent','viewed','signed','approved',"
	"  'declined','rejected')),"
	" token_expires INTEGER, viewed_at INTEGER, completed_at INTEGER, ip TEXT, user_agent TEXT,"
	" signature TEXT, reason TEXT, UNIQUE (document_id, email));"
	"CREATE INDEX recipients_document ON recipients(document_id, idx);"
	"CREATE TABLE fields ("
	" id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
	" recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE, idx INTEGER NOT NULL,"
	" type TEXT NOT NULL, page INTEGER NOT NULL, x REAL NOT NULL, y REAL NOT NULL,"
	" w REAL NOT NULL, h REAL NOT NULL, units TEXT NOT NULL, label TEXT,"
	" required INTEGER NOT NULL, options TEXT, value TEXT);"
	"CREATE INDEX fields_document ON fields(document_id, idx);"
	"CREATE TABLE events ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
	" document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
	" type TEXT NOT NULL, at INTEGER NOT NULL, recipient_id TEXT, body TEXT NOT NULL,"
	" hash TEXT NOT NULL);"
	"CREATE INDEX events_document ON events(document_id, seq);"
	"CREATE TABLE idempotency ("
	" account_id TEXT NOT NULL, key TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,"
	" request_sha256 TEXT NOT NULL, status INTEGER NOT NULL, response TEXT,"
	" created_at INTEGER NOT NULL, PRIMARY KEY (account_id, key));",
	/* 2: webhooks and their deliveries, the e-mail outbox, signer OTP,
	 * reminders */
	"ALTER TABLE accounts ADD COLUMN email TEXT;"
	"ALTER TABLE documents ADD COLUMN reminder_days INTEGER;"
	"ALTER TABLE documents ADD COLUMN next_reminder_at INTEGER;"
	"ALTER TABLE documents ADD COLUMN base_url TEXT;"
	"ALTER TABLE recipients ADD COLUMN otp INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE recipients ADD COLUMN otp_hash TEXT;"
	"ALTER TABLE recipients ADD COLUMN otp_expires INTEGER;"
	"ALTER TABLE recipients ADD COLUMN otp_failures INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE recipients ADD COLUMN otp_sent_at INTEGER;"
	"ALTER TABLE recipients ADD COLUMN otp_window_start INTEGER;"
	"ALTER TABLE recipients ADD COLUMN otp_window_count INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE recipients ADD COLUMN otp_locked_until INTEGER;"
	"ALTER TABLE recipients ADD COLUMN otp_verified_at INTEGER;"
	"ALTER TABLE recipients ADD COLUMN invited_at INTEGER;"
	"CREATE TABLE webhooks ("
	" id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), test INTEGER NOT NULL,"
	" url TEXT NOT NULL, events TEXT NOT NULL, enabled INTEGER NOT NULL, description TEXT,"
	" secret TEXT NOT NULL, old_secret TEXT, old_secret_until INTEGER, secret_rotated_at INTEGER,"
	" failing_since INTEGER, disabled_reason TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE INDEX webhooks_account ON webhooks(account_id, test);"
	"CREATE TABLE webhook_events ("
	" id TEXT PRIMARY KEY, account_id TEXT NOT NULL, test INTEGER NOT NULL, type TEXT NOT NULL,"
	" document_id TEXT, created_at INTEGER NOT NULL, payload TEXT NOT NULL);"
	"CREATE TABLE deliveries ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
	" webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
	" event_id TEXT NOT NULL REFERENCES webhook_events(id), document_id TEXT,"
	" status TEXT NOT NULL CHECK (status IN ('pending','delivering','delivered','failed')),"
	" attempts INTEGER NOT NULL DEFAULT 0, retries INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,"
	" lease_owner TEXT, lease_until INTEGER, created_at INTEGER NOT NULL, give_up_at INTEGER NOT NULL,"
	" delivered_at INTEGER, error TEXT);"
	"CREATE INDEX deliveries_due ON deliveries(status, next_at);"
	"CREATE INDEX deliveries_webhook ON deliveries(webhook_id, seq);"
	"CREATE INDEX deliveries_event ON deliveries(event_id);"
	"CREATE TABLE delivery_attempts ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE, at INTEGER NOT NULL,"
	" status_code INTEGER, error TEXT, duration_ms INTEGER NOT NULL, response TEXT);"
	"CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, seq);"
	"CREATE TABLE outbox ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL,"
	" test INTEGER NOT NULL, kind TEXT NOT NULL, document_id TEXT, recipient_id TEXT, to_addr TEXT NOT NULL,"
	" subject TEXT NOT NULL, body_text TEXT NOT NULL, body_html TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('pending','sending','sent','failed')),"
	" attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, lease_owner TEXT, lease_until INTEGER,"
	" error TEXT, created_at INTEGER NOT NULL, give_up_at INTEGER NOT NULL, sent_at INTEGER, sealed TEXT);"
	"CREATE INDEX outbox_due ON outbox(status, next_at);"
	"CREATE INDEX documents_due ON documents(status, expires_at);",
};

/* The worker's --now: a test clock for expiry, reminders and backoff. */
long long api_fixed_now;

long long api_now(void)
{
	return api_fixed_now > 0 ? api_fixed_now : (long long)time(NULL);
}

void api_time_str(char *out, long long t)
{
	/* civil from days (Howard Hinnant's algorithm, the inverse of the one in
	 * api_parse_time): gmtime_r would load /etc/localtime on its first call */
	long long days = (t >= 0 ? t : t - 86399) / 86400, secs = t - days * 86400;
	long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	long long y = (long long)yoe + era * 400 + (m <= 2);

	snprintf(out, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)(y % 10000), m % 100u, d % 100u,
		(unsigned)(secs / 3600) % 100u, (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
}

json_t *api_time_json(long long t)
{
	char buf[32];
	if (t <= 0)
		return json_null();
	api_time_str(buf, t);
	return json_string(buf);
}

long long api_parse_time(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	long long days;
	const char *p;
	char sign;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' && !p[1])
		sign = '+';
	else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5 && !p[6])
		sign = *p;
	else
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
		return -1;
	/* days from civil (Howard Hinnant's algorithm) */
	{
		int yy = y - (mo <= 2);
		int era = (yy >= 0 ? yy : yy - 399) / 400;
		unsigned yoe = (unsigned)(yy - era * 400);
		unsigned doy = (unsigned)((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1);
		unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
		days = (long long)era * 146097 + (long long)doe - 719468;
	}
	return days * 86400 + h * 3600 + mi * 60 + sec - (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60);
}

int api_db_exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void bindv(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int i;
	for (i = 1; fmt && *fmt; fmt++, i++) {
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (s)
				sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i);
			break;
		}
		case 'i':
			sqlite3_bind_int64(st, i, va_arg(ap, long long));
			break;
		case 'd':
			sqlite3_bind_double(st, i, va_arg(ap, double));
			break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			sqlite3_bind_blob(st, i, p, (int)n, SQLITE_TRANSIENT);
			break;
		}
		}
	}
}

sqlite3_stmt *api_db_prepare(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	va_start(ap, fmt);
	bindv(st, fmt, ap);
	va_end(ap);
	return st;
}

/* The statement cache of the one connection a server process keeps (see
 * api_db_cache): a FastCGI process prepares each statement once instead of
 * parsing its SQL on every request. A statement is reset when it is given
 * back, so no read transaction outlives its use. */
#define STMT_CACHE 48

static struct {
	sqlite3 *db;
	unsigned clock;
	struct {
		sqlite3_stmt *st;
		unsigned used;
		int busy;
	} e[STMT_CACHE];
} cache;

void api_db_cache(sqlite3 *db)
{
	cache.db = db;
}

static sqlite3_stmt *stmt_get(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int i, slot = -1;

	if (db && db == cache.db) {
		for (i = 0; i < STMT_CACHE; i++) {
			if (!cache.e[i].st) {
				if (slot < 0 || cache.e[slot].st)
					slot = i;
				continue;
			}
			if (!cache.e[i].busy && !strcmp(sqlite3_sql(cache.e[i].st), sql)) {
				cache.e[i].busy = 1;
				cache.e[i].used = ++cache.clock;
				return cache.e[i].st;
			}
			/* the least recently used idle one makes room when the cache is full */
			if (!cache.e[i].busy && (slot < 0 || (cache.e[slot].st && cache.e[i].used < cache.e[slot].used)))
				slot = i;
		}
	}
	if (sqlite3_prepare_v3(db, sql, -1, slot >= 0 ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	if (slot >= 0) {
		sqlite3_finalize(cache.e[slot].st);
		cache.e[slot].st = st;
		cache.e[slot].busy = 1;
		cache.e[slot].used = ++cache.clock;
	}
	return st;
}

static int stmt_put(sqlite3_stmt *st)
{
	int i;

	if (!st)
		return SQLITE_OK;
	if (cache.db)
		for (i = 0; i < STMT_CACHE; i++)
			if (cache.e[i].st == st) {
				int rc = sqlite3_reset(st);
				sqlite3_clear_bindings(st);
				cache.e[i].busy = 0;
				return rc;
			}
	return sqlite3_finalize(st);
}

sqlite3_stmt *api_db_query(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = stmt_get(db, sql);
	va_list ap;

	if (!st)
		return NULL;
	va_start(ap, fmt);
	bindv(st, fmt, ap);
	va_end(ap);
	return st;
}

void api_db_done(sqlite3_stmt *st)
{
	stmt_put(st);
}

void api_db_idle(sqlite3 *db)
{
	int i;

	if (!db || db != cache.db)
		return;
	for (i = 0; i < STMT_CACHE; i++)
		if (cache.e[i].st) {
			sqlite3_reset(cache.e[i].st);
			sqlite3_clear_bindings(cache.e[i].st);
			cache.e[i].busy = 0;
		}
	/* a request that stopped inside a transaction must not hold it */
	if (!sqlite3_get_autocommit(db))
		api_db_exec(db, "ROLLBACK");
}

void api_db_close(sqlite3 *db)
{
	int i;

	if (db && db == cache.db) {
		for (i = 0; i < STMT_CACHE; i++)
			sqlite3_finalize(cache.e[i].st);
		memset(&cache, 0, sizeof cache);
	}
	sqlite3_close(db);
}

int api_db_run(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = stmt_get(db, sql);
	va_list ap;
	int rc;

	if (!st)
		return -1;
	va_start(ap, fmt);
	bindv(st, fmt, ap);
	va_end(ap);
	rc = sqlite3_step(st);
	stmt_put(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

long long api_db_int(sqlite3 *db, long long def, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = stmt_get(db, sql);
	long long v = def;
	va_list ap;

	if (!st)
		return def;
	va_start(ap, fmt);
	bindv(st, fmt, ap);
	va_end(ap);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	stmt_put(st);
	return v;
}

const char *api_col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

json_t *api_col_json_str(sqlite3_stmt *st, int col)
{
	const char *s = api_col_text(st, col);
	return s ? json_string(s) : json_null();
}

int api_db_migrate(sqlite3 *db, char *err, size_t errsz)
{
	long long v;
	int i;

	if (api_db_exec(db, "BEGIN IMMEDIATE")) {
		snprintf(err, errsz, "database: %s", sqlite3_errmsg(db));
		return -1;
	}
	v = api_db_int(db, 0, "PRAGMA user_version", NULL);
	if (v > API_SCHEMA_VERSION) {
		api_db_exec(db, "ROLLBACK");
		snprintf(err, errsz, "database schema version %lld is newer than this program's (%d)", v,
			API_SCHEMA_VERSION);
		return -1;
	}
	for (i = (int)v; i < API_SCHEMA_VERSION; i++) {
		char pragma[64];
		if (api_db_exec(db, migrations[i])) {
			snprintf(err, errsz, "database migration %d: %s", i + 1, sqlite3_errmsg(db));
			api_db_exec(db, "ROLLBACK");
			return -1;
		}
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", i + 1);
		api_db_exec(db, pragma);
	}
	if (api_db_exec(db, "COMMIT")) {
		snprintf(err, errsz, "database: %s", sqlite3_errmsg(db));
		api_db_exec(db, "ROLLBACK");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the generation (cache.c) */

static char gen_path[4096];

static int gen_file(const char *dir, char *out, size_t size)
{
	return snprintf(out, size, "%s/generation", dir) >= (int)size ? -1 : 0;
}

int api_gen_read(const char *dir, unsigned char gen[API_GEN_SIZE])
{
	char path[4096];
	ssize_t n;
	int fd;

	if (gen_file(dir, path, sizeof path) || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = pread(fd, gen, API_GEN_SIZE, 0);
	close(fd);
	return n == API_GEN_SIZE ? 0 : -1;
}

static void gen_bump(const char *path)
{
	unsigned char gen[API_GEN_SIZE];
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);

	if (fd >= 0 && !api_random(gen, sizeof gen) && pwrite(fd, gen, sizeof gen, 0) == (ssize_t)sizeof gen) {
		close(fd);
		return;
	}
	/* no new generation: then none at all, so that no entry is valid */
	if (fd >= 0)
		close(fd);
	if (unlink(path) && errno != ENOENT)
		fprintf(stderr, "signcore: cannot replace or remove %s (%s): cached answers may be stale\n", path,
			strerror(errno));
}

/* SQLite calls this after each commit that wrote to the WAL. Setting a WAL
 * hook replaces the automatic checkpoint, so it is done here as SQLite
 * would (sqlite3_wal_autocheckpoint's default of 1000 pages). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	gen_bump(arg);
	if (frames >= 1000)
		sqlite3_wal_checkpoint(db, name);
	return SQLITE_OK;
}

int api_gen_watch(sqlite3 *db, const char *dir)
{
	if (gen_file(dir, gen_path, sizeof gen_path))
		return -1;
	sqlite3_wal_hook(db, wal_hook, gen_path);
	return 0;
}

int api_db_open(sqlite3 **out, const char *dir, int create, char *err, size_t errsz)
{
	char *path = api_path(dir, "signcore.db");
	sqlite3 *db = NULL;
	long long v;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);

	*out = NULL;
	if (!path) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errsz, create ? "cannot create %s: %s" :
			"cannot open %s: %s (run signcore-admin init first)", path,
			db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		free(path);
		return -1;
	}
	free(path);
	/* every commit of this connection gives the data directory a new
	 * generation, which invalidates the read cache (cache.c) */
	if (api_gen_watch(db, dir)) {
		snprintf(err, errsz, "the data directory's path is too long");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 10000);
	/* The last connection to close keeps signcore.db-wal and -shm instead of
	 * deleting them: a CGI process is nearly always the last one, and making
	 * and deleting two files per request cost more than the request itself.
	 * The WAL is still checkpointed at that close, and the journal size
	 * limit has it truncated to zero bytes then (and kept under 4 MiB after
	 * checkpoints while the server runs), so the next opener's recovery
	 * reads nothing. Readers and writers coordinate through the -shm locks
	 * exactly as before: only the unlink of idle files is skipped. */
	{
		int persist = 1;
		sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	}
	if (create && api_db_exec(db, "PRAGMA journal_mode=WAL")) {
		snprintf(err, errsz, "database: %s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	api_db_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=4194304");
	if (create && api_db_migrate(db, err, errsz)) {
		sqlite3_close(db);
		return -1;
	}
	v = api_db_int(db, -1, "PRAGMA user_version", NULL);
	if (v != API_SCHEMA_VERSION) {
		snprintf(err, errsz, v < API_SCHEMA_VERSION ?
			"the database is at schema version %lld, this program needs %d: run signcore-admin migrate" :
			"the database is at schema version %lld, newer than this program's %d", v, API_SCHEMA_VERSION);
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

int api_write_file(const char *path, const void *data, size_t len)
{
	return api_write_file_mode(path, data, len, 0640, 1);
}

int api_write_file_mode(const char *path, const void *data, size_t len, int mode, int sync)
{
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	const unsigned char *p = data;
	int fd, rc = -1;

	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.tmpXXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		free(tmp);
		return -1;
	}
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto done;
		}
		p += w;
		len -= (size_t)w;
	}
	if ((sync && fsync(fd)) || fchmod(fd, (mode_t)mode))
		goto done;
	if (close(fd)) {
		fd = -1;
		goto done;
	}
	fd = -1;
	if (rename(tmp, path))
		goto done;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

unsigned char *api_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *buf = NULL;
	struct stat sb;
	size_t got = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) || sb.st_size < 0 || !(buf = malloc((size_t)sb.st_size + 1)))
		goto fail;
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}
	buf[got] = 0;
	*len = got;
	close(fd);
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

char *api_blob_path(const char *dir, const char *hex)
{
	size_t n = strlen(dir) + 80;
	char *p;
	size_t i;

	for (i = 0; hex[i]; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return NULL;
	if (i != 64 || !(p = malloc(n)))
		return NULL;
	snprintf(p, n, "%s/blobs/%.2s/%s", dir, hex, hex);
	return p;
}

int api_blob_put(const char *dir, const void *data, size_t len, char hex[65])
{
	char *path, *slash;
	struct stat sb;
	int rc;

	api_sha256_hex(data, len, hex);
	if (!(path = api_blob_path(dir, hex)))
		return -1;
	if (!stat(path, &sb) && (size_t)sb.st_size == len) {
		free(path);
		return 0; /* the same content is stored once */
	}
	slash = strrchr(path, '/');
	*slash = 0;
	{
		char *blobs = strrchr(path, '/');
		*blobs = 0;
		mkdir(path, 0750);
		*blobs = '/';
	}
	mkdir(path, 0750);
	*slash = '/';
	rc = api_write_file(path, data, len);
	free(path);
	return rc;
}

unsigned char *api_blob_get(const char *dir, const char *hex, size_t *len)
{
	char *path = api_blob_path(dir, hex);
	unsigned char *buf;

	if (!path)
		return NULL;
	buf = api_read_file(path, len);
	free(path);
	return buf;
}

int api_secret(const char *dir, unsigned char key[32])
{
	/* read once per process: a document's answer makes one link per recipient */
	static char cached_dir[512];
	static unsigned char cached[32];
	char *path;
	unsigned char *buf;
	size_t len = 0;

	if (cached_dir[0] && !strcmp(cached_dir, dir)) {
		memcpy(key, cached, 32);
		return 0;
	}
	if (!(path = api_path(dir, "secret")))
		return -1;
	buf = api_read_file(path, &len);
	free(path);
	if (!buf || len != 32) {
		free(buf);
		return -1;
	}
	memcpy(key, buf, 32);
	free(buf);
	if (strlen(dir) < sizeof cached_dir) {
		memcpy(cached, key, 32);
		strcpy(cached_dir, dir);
	}
	return 0;
}
