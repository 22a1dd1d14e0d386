/*
 * The API layer's own primitives: SHA-256 and HMAC-SHA256 (checked against
 * FIPS 180-4 / RFC 4231 vectors and OpenSSL), base64, RFC 3339 times,
 * signcore.conf parsing, the SQLite schema and the blob store.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "api.h"

static char dir[256];

static void setup(void)
{
	snprintf(dir, sizeof dir, "%s/scapi.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static void write_conf(const char *text)
{
	char *p = api_path(dir, "signcore.conf");
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

START_TEST(api_sha256_vectors)
{
	char hex[65];
	char *million = malloc(1000000);

	api_sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	api_sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	api_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', 1000000);
	api_sha256_hex(million, 1000000, hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}
END_TEST

/* Every length from 0 to 300 bytes, fed in uneven pieces, against OpenSSL. */
START_TEST(api_sha256_matches_openssl)
{
	unsigned char data[300], mine[32], theirs[32];
	unsigned int n;
	size_t len, i;

	for (i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 7 + 3);
	for (len = 0; len <= sizeof data; len++) {
		api_sha256_ctx c;
		size_t off = 0, step = 1;
		api_sha256_init(&c);
		while (off < len) {
			size_t k = len - off < step ? len - off : step;
			api_sha256_update(&c, data + off, k);
			off += k;
			step = step * 3 % 71 + 1;
		}
		api_sha256_final(&c, mine);
		EVP_Digest(data, len, theirs, &n, EVP_sha256(), NULL);
		ck_assert_msg(!memcmp(mine, theirs, 32), "SHA-256 differs at length %zu", len);
		HMAC(EVP_sha256(), data, (int)(len % 150), data, len, theirs, &n);
		api_hmac_sha256(data, len % 150, data, len, mine);
		ck_assert_msg(!memcmp(mine, theirs, 32), "HMAC differs at length %zu", len);
	}
}
END_TEST

START_TEST(api_hmac_rfc4231)
{
	unsigned char mac[32], key[131];
	char hex[65];

	api_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	api_hex(hex, mac, 32);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* test case 6: a key longer than the block */
	memset(key, 0xaa, sizeof key);
	api_hmac_sha256(key, sizeof key, "Test Using Larger Than Block-Size Key - Hash Key First", 54, mac);
	api_hex(hex, mac, 32);
	ck_assert_str_eq(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}
END_TEST

START_TEST(api_base64_round_trip)
{
	unsigned char data[40], *back;
	char enc[64];
	size_t n, len;

	for (n = 0; n < sizeof data; n++)
		data[n] = (unsigned char)(250 - n * 9);
	for (len = 0; len <= sizeof data; len++) {
		api_b64url(enc, data, len);
		ck_assert_msg(!strpbrk(enc, "+/="), "not URL-safe: %s", enc);
		back = api_b64decode(enc, strlen(enc), &n);
		ck_assert_ptr_nonnull(back);
		ck_assert_uint_eq(n, len);
		ck_assert(!memcmp(back, data, len));
		free(back);
	}
	back = api_b64decode("aGVsbG8=", 8, &n);
	ck_assert_uint_eq(n, 5);
	ck_assert(!memcmp(back, "hello", 5));
	free(back);
	ck_assert_ptr_null(api_b64decode("aGV$bG8", 7, &n));
	ck_assert_ptr_null(api_b64decode("aG=Vs", 5, &n));
}
END_TEST

START_TEST(api_times)
{
	char buf[32];

	ck_assert_int_eq(api_parse_time("2026-11-21T10:10:00Z"), 1795255800LL);
	ck_assert_int_eq(api_parse_time("2026-11-21T15:40:00+05:30"), 1795255800LL);
	ck_assert_int_eq(api_parse_time("2026-11-21T10:10:00.250Z"), 1795255800LL);
	ck_assert_int_eq(api_parse_time("1970-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(api_parse_time("2026-11-21"), -1);
	ck_assert_int_eq(api_parse_time("2026-13-01T00:00:00Z"), -1);
	ck_assert_int_eq(api_parse_time("2026-11-21T10:10:00Zjunk"), -1);
	api_time_str(buf, 1795255800LL);
	ck_assert_str_eq(buf, "2026-11-21T10:10:00Z");
}
END_TEST

START_TEST(api_ids_are_random)
{
	char a[40], b[40];
	ck_assert_int_eq(api_new_id(a, sizeof a, "doc_"), 0);
	ck_assert_int_eq(api_new_id(b, sizeof b, "doc_"), 0);
	ck_assert_uint_eq(strlen(a), 24);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(api_new_id(a, 10, "doc_"), -1);
}
END_TEST

START_TEST(api_conf_parses)
{
	char err[512] = "";
	api_conf c;

	write_conf("# comment\n[server]\nbase_url = https://sign.example.com/\nread_cache = off\n\n[seal]\np12 = seal/p.p12\n"
		"password_file = seal/p.pass\nlevel = B-LTA\ntsa = http://a/tsr http://b/tsr\ntsa = http://c/tsr\n"
		"[limits]\nstarter_rate_per_minute = 7\nmax_upload_bytes = 1000\ngrowth_documents_per_month = -1\n"
		"[smtp]\nurl = smtp://127.0.0.1:2525\nfrom = Signing <no-reply@example.in>\n"
		"[webhooks]\nretry_base = 1\njitter = 0\n[otp]\nttl = 30\n");
	ck_assert_msg(api_conf_load(&c, dir, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.base_url, "https://sign.example.com");
	ck_assert_int_eq(c.read_cache, 0);
	ck_assert_str_eq(c.seal_p12, "seal/p.p12");
	ck_assert_str_eq(c.seal_level, "B-LTA");
	ck_assert_uint_eq(c.tsa_count, 3);
	ck_assert_str_eq(c.tsa[2], "http://c/tsr");
	ck_assert_int_eq(c.rate[API_PLAN_STARTER], 7);
	ck_assert_int_eq(c.rate[API_PLAN_GROWTH], 300);
	ck_assert_int_eq(c.rate[API_PLAN_FREE], 0);
	ck_assert_int_eq(c.max_upload, 1000);
	ck_assert_int_eq(c.documents[API_PLAN_GROWTH], -1);
	ck_assert_str_eq(c.smtp_url, "smtp://127.0.0.1:2525");
	ck_assert_int_eq(c.wh_retry_base, 1);
	ck_assert_int_eq(c.wh_jitter, 0);
	ck_assert_int_eq(c.wh_timeout, 10);
	ck_assert_int_eq(c.otp_ttl, 30);
	ck_assert_int_eq(c.otp_attempts, 5);
	api_conf_free(&c);
}
END_TEST

START_TEST(api_conf_errors_name_the_line)
{
	char err[512] = "";
	api_conf c;

	write_conf("[seal]\nlevel = B-X\n");
	ck_assert_int_eq(api_conf_load(&c, dir, err, sizeof err), -1);
	ck_assert_msg(strstr(err, ":2:") && strstr(err, "B-X"), "%s", err);
	api_conf_free(&c);
	write_conf("[server]\nbase_ulr = x\n");
	ck_assert_int_eq(api_conf_load(&c, dir, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "unknown key \"base_ulr\""), "%s", err);
	api_conf_free(&c);
	write_conf("[server]\nread_cache = maybe\n");
	ck_assert_int_eq(api_conf_load(&c, dir, err, sizeof err), -1);
	ck_assert_msg(strstr(err, ":2:") && strstr(err, "on or off"), "%s", err);
	api_conf_free(&c);
	write_conf("[limits]\nmax_pages = many\n");
	ck_assert_int_eq(api_conf_load(&c, dir, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "not a valid number"), "%s", err);
	api_conf_free(&c);
	write_conf("[webhooks]\ntimeout = 0\n");
	ck_assert_int_eq(api_conf_load(&c, dir, err, sizeof err), -1);
	ck_assert_msg(strstr(err, ":2:") && strstr(err, "from 1 to 300"), "%s", err);
	api_conf_free(&c);
	write_conf("[smpt]\nurl = smtp://x\n");
	ck_assert_int_eq(api_conf_load(&c, dir, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "unknown section [smpt]"), "%s", err);
	api_conf_free(&c);
	write_conf("[smtp]\nurl = http://x\n");
	ck_assert_int_eq(api_conf_load(&c, dir, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "smtp://"), "%s", err);
	api_conf_free(&c);
	/* no file: defaults */
	{
		char *p = api_path(dir, "signcore.conf");
		unlink(p);
		free(p);
	}
	ck_assert_int_eq(api_conf_load(&c, dir, err, sizeof err), 0);
	ck_assert_int_eq(c.rate[API_PLAN_STARTER], 100);
	ck_assert_int_eq(c.read_cache, 1);
	api_conf_free(&c);
}
END_TEST

START_TEST(api_schema_and_constraints)
{
	char err[512] = "";
	sqlite3 *db;

	ck_assert_int_eq(api_db_open(&db, dir, 0, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "signcore-admin init"), "%s", err);
	ck_assert_msg(api_db_open(&db, dir, 1, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(api_db_int(db, 0, "PRAGMA user_version", NULL), API_SCHEMA_VERSION);
	ck_assert_int_eq(api_db_int(db, 0, "PRAGMA foreign_keys", NULL), 1);
	{
		sqlite3_stmt *st = api_db_prepare(db, "PRAGMA journal_mode", NULL);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_str_eq(api_col_text(st, 0), "wal");
		sqlite3_finalize(st);
	}
	/* foreign keys are enforced: a key for an account that does not exist */
	ck_assert_int_eq(api_db_run(db, "INSERT INTO api_keys (id, account_id, hash, prefix, test, created_at)"
		" VALUES ('k', 'nobody', 'h', 'p', 0, 0)", NULL), -1);
	/* SQL metacharacters are data, never code */
	ck_assert_int_eq(api_db_run(db, "INSERT INTO accounts (id, name, plan, created_at) VALUES (?, ?, 'free', 0)",
		"ss", "a1", "x'); DROP TABLE accounts; --"), 0);
	ck_assert_int_eq(api_db_int(db, 0, "SELECT count(*) FROM accounts WHERE name LIKE '%DROP TABLE%'", NULL), 1);
	sqlite3_close(db);
	/* reopening a migrated database */
	ck_assert_msg(api_db_open(&db, dir, 0, err, sizeof err) == 0, "%s", err);
	sqlite3_close(db);
}
END_TEST

/* Every commit replaces DATA/generation (the read cache's validator);
 * reads and statements that change nothing do not, and the automatic
 * checkpoint that the WAL hook replaces still runs. */
START_TEST(api_generation_follows_commits)
{
	unsigned char g0[API_GEN_SIZE], g1[API_GEN_SIZE], g2[API_GEN_SIZE];
	char err[512] = "";
	sqlite3 *db;
	int i, log = -1, done = -1;

	ck_assert_msg(api_db_open(&db, dir, 1, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(api_gen_read(dir, g0), 0); /* the migrations committed */
	ck_assert_int_eq(api_db_run(db, "INSERT INTO accounts (id, name, plan, created_at) VALUES ('g1', 'G', 'free', 0)",
		NULL), 0);
	ck_assert_int_eq(api_gen_read(dir, g1), 0);
	ck_assert(memcmp(g0, g1, sizeof g0));
	ck_assert_int_eq(api_db_int(db, 0, "SELECT count(*) FROM accounts", NULL) > 0, 1);
	ck_assert_int_eq(api_db_run(db, "DELETE FROM accounts WHERE id = 'nobody'", NULL), 0);
	ck_assert_int_eq(api_gen_read(dir, g2), 0);
	ck_assert(!memcmp(g1, g2, sizeof g1));
	/* inside a transaction: one new generation, at the commit */
	ck_assert_int_eq(api_db_exec(db, "BEGIN IMMEDIATE"), 0);
	ck_assert_int_eq(api_db_run(db, "UPDATE accounts SET name = 'H' WHERE id = 'g1'", NULL), 0);
	ck_assert_int_eq(api_gen_read(dir, g2), 0);
	ck_assert(!memcmp(g1, g2, sizeof g1));
	ck_assert_int_eq(api_db_exec(db, "COMMIT"), 0);
	ck_assert_int_eq(api_gen_read(dir, g2), 0);
	ck_assert(memcmp(g1, g2, sizeof g1));
	/* the WAL is still checkpointed past 1000 pages */
	for (i = 0; i < 1200; i++)
		api_db_run(db, "INSERT INTO accounts (id, name, plan, created_at) VALUES (?, zeroblob(3000), 'free', 0)",
			"i", (long long)i + 1000);
	{
		sqlite3_stmt *st = api_db_prepare(db, "PRAGMA wal_checkpoint(PASSIVE)", NULL);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		log = sqlite3_column_int(st, 1);
		done = sqlite3_column_int(st, 2);
		sqlite3_finalize(st);
	}
	ck_assert_msg(log >= 0 && log < 1000 + 64 && done == log, "WAL frames %d, checkpointed %d", log, done);
	/* a generation that cannot be replaced is removed */
	{
		char *p = api_path(dir, "generation");
		ck_assert_int_eq(unlink(p), 0);
		ck_assert_int_eq(symlink("/dev/full", p), 0); /* every write fails: ENOSPC */
		ck_assert_int_eq(api_db_run(db, "DELETE FROM accounts WHERE id = 'g1'", NULL), 0);
		ck_assert_int_eq(api_gen_read(dir, g2), -1);
		ck_assert_int_eq(access(p, F_OK), -1);
		free(p);
	}
	sqlite3_close(db);
}
END_TEST

START_TEST(api_webhook_urls)
{
	static const struct { const char *ip; int forbidden; } v4[] = {
		{ "127.0.0.1", 1 }, { "10.1.2.3", 1 }, { "172.16.0.1", 1 }, { "172.31.255.255", 1 }, { "172.32.0.1", 0 },
		{ "192.168.1.1", 1 }, { "169.254.169.254", 1 }, { "100.64.0.1", 1 }, { "0.0.0.0", 1 }, { "224.0.0.1", 1 },
		{ "255.255.255.255", 1 }, { "8.8.8.8", 0 }, { "93.184.216.34", 0 }, { "198.18.0.1", 1 },
	};
	static const struct { const char *ip; int forbidden; } v6[] = {
		{ "::1", 1 }, { "::", 1 }, { "fe80::1", 1 }, { "fd00::1", 1 }, { "::ffff:10.0.0.1", 1 },
		{ "::ffff:8.8.8.8", 0 }, { "2001:4860:4860::8888", 0 }, { "ff02::1", 1 }, { "64:ff9b::7f00:1", 1 },
	};
	char err[256];
	api_url u;
	size_t i;

	for (i = 0; i < sizeof v4 / sizeof v4[0]; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		inet_pton(AF_INET, v4[i].ip, &a.sin_addr);
		ck_assert_msg(api_addr_forbidden((struct sockaddr *)&a) == v4[i].forbidden, "%s", v4[i].ip);
	}
	for (i = 0; i < sizeof v6 / sizeof v6[0]; i++) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
		inet_pton(AF_INET6, v6[i].ip, &a.sin6_addr);
		ck_assert_msg(api_addr_forbidden((struct sockaddr *)&a) == v6[i].forbidden, "%s", v6[i].ip);
	}
	ck_assert_int_eq(api_url_parse("https://hooks.example.com:8443/in?x=1", &u), 0);
	ck_assert_str_eq(u.host, "hooks.example.com");
	ck_assert_int_eq(u.port, 8443);
	ck_assert_int_eq(u.https, 1);
	ck_assert_int_eq(api_url_parse("http://[::1]:9000/x", &u), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(api_url_parse("https://user:pw@example.com/", &u), -1);
	ck_assert_int_eq(api_url_parse("ftp://example.com/", &u), -1);
	ck_assert_int_eq(api_url_parse("https://example.com:0/", &u), -1);
	ck_assert_int_eq(api_url_parse("https:///x", &u), -1);
	/* live: https to public addresses only; test: http to loopback too */
	ck_assert_int_eq(api_url_check("https://127.0.0.1/hook", 0, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "127.0.0.1"), "%s", err);
	ck_assert_int_eq(api_url_check("https://localhost/hook", 0, err, sizeof err), -1);
	ck_assert_int_eq(api_url_check("https://10.0.0.1/hook", 0, err, sizeof err), -1);
	ck_assert_int_eq(api_url_check("https://[::1]/hook", 0, err, sizeof err), -1);
	ck_assert_int_eq(api_url_check("http://8.8.8.8/hook", 0, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "https"), "%s", err);
	ck_assert_int_eq(api_url_check("https://8.8.8.8/hook", 0, err, sizeof err), 0);
	ck_assert_int_eq(api_url_check("http://127.0.0.1:9000/hook", 1, err, sizeof err), 0);
	ck_assert_int_eq(api_url_check("http://8.8.8.8/hook", 1, err, sizeof err), -1);
}
END_TEST

START_TEST(api_blobs_are_content_addressed)
{
	char hex[65], hex2[65], *p;
	unsigned char *back;
	size_t n;
	struct stat sb;

	ck_assert_int_eq(api_blob_put(dir, "%PDF-1.7 test", 13, hex), 0);
	ck_assert_int_eq(api_blob_put(dir, "%PDF-1.7 test", 13, hex2), 0);
	ck_assert_str_eq(hex, hex2);
	p = api_blob_path(dir, hex);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 077, 040);
	free(p);
	back = api_blob_get(dir, hex, &n);
	ck_assert_uint_eq(n, 13);
	ck_assert(!memcmp(back, "%PDF-1.7 test", 13));
	free(back);
	ck_assert_ptr_null(api_blob_path(dir, "../../etc/passwd"));
	ck_assert_ptr_null(api_blob_get(dir, "0000", &n));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("api");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, api_sha256_vectors);
	tcase_add_test(tc, api_sha256_matches_openssl);
	tcase_add_test(tc, api_hmac_rfc4231);
	tcase_add_test(tc, api_base64_round_trip);
	tcase_add_test(tc, api_times);
	tcase_add_test(tc, api_ids_are_random);
	tcase_add_test(tc, api_conf_parses);
	tcase_add_test(tc, api_conf_errors_name_the_line);
	tcase_add_test(tc, api_schema_and_constraints);
	tcase_add_test(tc, api_generation_follows_commits);
	tcase_add_test(tc, api_blobs_are_content_addressed);
	tcase_add_test(tc, api_webhook_urls);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
