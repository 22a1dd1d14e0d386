/*
 * The read cache: answers to the reads integrators poll (GET
 * /v1/documents/{id}), kept as files so that a CGI process can answer one
 * again without opening the database (a FastCGI server uses them too, and
 * saves the queries). Opening SQLite in a fresh process
 * (its start-up, the parse of the whole schema, the WAL index) costs more
 * than the rest of such a request; a hit costs an open and a read.
 *
 * Correctness rests on one rule: an entry is valid only while the data
 * directory's generation is the one read before the answer was computed.
 *
 * - DATA/generation holds 16 random bytes. Every connection opened by
 *   api_db_open replaces them after each commit that changed the database
 *   (SQLite's WAL hook runs once the commit is complete), in every
 *   program: signcore.cgi, signcore-worker and signcore-admin. Random
 *   values rather than a counter: two writers cannot agree on a value by
 *   accident, so there is no lost update to reason about.
 * - A request that may be cached reads the generation before it reads
 *   anything else, and tags the entry it writes with it. Any commit that
 *   its queries did not see is followed by a new generation, so the entry
 *   is never valid after that commit's own request has answered.
 * - An entry also names the API key it was computed for (its hash), the
 *   key's account, mode and plan, and a time after which it is not used:
 *   60 seconds at most, and never past the expiry of a pending document.
 *   Revoking a key is a commit, so its entries die with the generation.
 * - The rate limit and the key's plan are checked on every hit, as on a
 *   miss; the key's last-used time is refreshed through the database once
 *   a minute, so an entry is not used when it is older than that.
 * - If the generation cannot be replaced, it is removed, and nothing is
 *   served from the cache until a commit writes a new one.
 *
 * Entries are DATA/cache/<sha256 of key hash, path, query, base URL>; a
 * corrupt, short or foreign file is a miss. signcore-worker removes the
 * entries that have expired. Changing signcore.db with other tools than
 * signcore's (the sqlite3 shell, a restored backup) should be followed by
 * removing DATA/generation; entries expire within a minute in any case.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"
#include "doc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ENTRY_MAGIC "sccache1"
#define MAX_BODY (1 << 20)

typedef struct {
	char magic[8];
	unsigned char gen[API_GEN_SIZE];
	char key_hash[64];
	int64_t until;
	int64_t last_used;
	char key_id[40];
	char account_id[40];
	int32_t plan;
	int32_t test;
	int32_t status;
	uint32_t body_len;
	unsigned char body_sha256[32];
} entry_head;

/* ------------------------------------------------------------ entries */

static char *entry_path(api_req *r, const char *key_hash)
{
	const char *base = api_base_url(r);
	api_sha256_ctx c;
	unsigned char md[32];
	char hex[65];

	api_sha256_init(&c);
	api_sha256_update(&c, key_hash, strlen(key_hash) + 1);
	api_sha256_update(&c, r->path, strlen(r->path) + 1);
	api_sha256_update(&c, r->query, strlen(r->query) + 1);
	api_sha256_update(&c, base, strlen(base) + 1);
	api_sha256_final(&c, md);
	api_hex(hex, md, 32);
	{
		size_t n = strlen(r->conf->data_dir) + 80;
		char *p = malloc(n);
		if (p)
			snprintf(p, n, "%s/cache/%s", r->conf->data_dir, hex);
		return p;
	}
}

static int field_ok(const char *s, size_t size)
{
	return memchr(s, 0, size) != NULL;
}

int api_cache_lookup(api_req *r, const char *key_hash, api_buf *body)
{
	unsigned char md[32];
	entry_head h;
	char *path;
	unsigned char *data;
	size_t len = 0;
	long long now = api_now();

	if (api_gen_read(r->conf->data_dir, r->cache_gen))
		return 0;
	r->cache_gen_ok = 1;
	if (!(path = entry_path(r, key_hash)))
		return 0;
	data = api_read_file(path, &len);
	free(path);
	if (!data)
		return 0;
	if (len < sizeof h)
		goto miss;
	memcpy(&h, data, sizeof h);
	if (memcmp(h.magic, ENTRY_MAGIC, 8) || memcmp(h.gen, r->cache_gen, API_GEN_SIZE) ||
		memcmp(h.key_hash, key_hash, 64) || h.until <= now || h.last_used < now - 60 ||
		len - sizeof h != h.body_len || !field_ok(h.key_id, sizeof h.key_id) ||
		!field_ok(h.account_id, sizeof h.account_id) || h.plan < 0 || h.plan >= API_PLAN_COUNT || h.status != 200)
		goto miss;
	api_sha256(data + sizeof h, h.body_len, md);
	if (memcmp(md, h.body_sha256, 32))
		goto miss;
	/* No second read of the generation: the answer is the state at the
	 * first read, and a commit that has not replaced the generation by
	 * then has not answered its own request yet. */
	snprintf(r->key_id, sizeof r->key_id, "%s", h.key_id);
	snprintf(r->account_id, sizeof r->account_id, "%s", h.account_id);
	r->plan = h.plan;
	r->test = h.test;
	r->key_last_used = h.last_used;
	body->len = 0;
	if (api_buf_add(body, data + sizeof h, h.body_len))
		goto miss;
	free(data);
	return 1;
miss:
	free(data);
	return 0;
}

int api_cache_store(api_req *r, const char *key_hash)
{
	entry_head h;
	api_buf file = { 0 };
	char *path = NULL;
	int rc = -1;
	long long now = api_now();

	if (!r->cache_gen_ok || r->cache_until <= now || r->status != 200 || !r->out_type ||
		strcmp(r->out_type, "application/json") || r->out.len > MAX_BODY || !*r->key_id)
		return 0;
	memset(&h, 0, sizeof h);
	memcpy(h.magic, ENTRY_MAGIC, 8);
	memcpy(h.gen, r->cache_gen, API_GEN_SIZE);
	memcpy(h.key_hash, key_hash, 64);
	h.until = r->cache_until < now + API_CACHE_TTL ? r->cache_until : now + API_CACHE_TTL;
	h.last_used = r->key_last_used;
	snprintf(h.key_id, sizeof h.key_id, "%s", r->key_id);
	snprintf(h.account_id, sizeof h.account_id, "%s", r->account_id);
	h.plan = r->plan;
	h.test = r->test;
	h.status = r->status;
	h.body_len = (uint32_t)r->out.len;
	api_sha256(r->out.data, r->out.len, h.body_sha256);

	if (!(path = entry_path(r, key_hash)) || api_buf_add(&file, &h, sizeof h) ||
		api_buf_add(&file, r->out.data, r->out.len))
		goto done;
	/* private, and not synced: an entry lost in a crash is a miss, a torn
	 * one fails its checksum */
	if (!(rc = api_write_file_mode(path, file.data, file.len, 0600, 0)) || errno != ENOENT)
		goto done;
	{
		/* the first entry of a data directory makes DATA/cache */
		char *slash = strrchr(path, '/');
		*slash = 0;
		rc = mkdir(path, 0750) && errno != EEXIST ? -1 : 0;
		*slash = '/';
		if (!rc)
			rc = api_write_file_mode(path, file.data, file.len, 0600, 0);
	}
done:
	api_buf_free(&file);
	free(path);
	return rc;
}

int api_cache_prune(const char *dir)
{
	char path[4096];
	DIR *d;
	struct dirent *e;
	struct stat sb;
	time_t before = time(NULL) - API_CACHE_TTL - 60;
	int n = 0;

	if (snprintf(path, sizeof path, "%s/cache", dir) >= (int)sizeof path || !(d = opendir(path)))
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) || sb.st_mtime >= before)
			continue;
		if (!unlinkat(dirfd(d), e->d_name, 0))
			n++;
	}
	closedir(d);
	return n;
}
