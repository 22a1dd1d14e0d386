/*
 * signcore-admin: set up a data directory and manage accounts and API keys.
 *
 *   signcore-admin [--data-dir DIR] init
 *   signcore-admin [--data-dir DIR] migrate
 *   signcore-admin [--data-dir DIR] account create NAME [--plan free|starter|growth|enterprise] [--email ADDR]
 *   signcore-admin [--data-dir DIR] account list
 *   signcore-admin [--data-dir DIR] account plan ID PLAN
 *   signcore-admin [--data-dir DIR] account email ID ADDR
 *   signcore-admin [--data-dir DIR] key create --account ID [--test]
 *   signcore-admin [--data-dir DIR] key list [--account ID]
 *   signcore-admin [--data-dir DIR] key revoke KEY_ID
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr,
		"usage: signcore-admin [--data-dir DIR] COMMAND\n"
		"  init                                   create the database, secret and a development seal\n"
		"  migrate                                bring the database schema up to date\n"
		"  account create NAME [--plan PLAN] [--email ADDR]\n"
		"                                         print the new account's id (plans: free, starter,\n"
		"                                         growth, enterprise; default starter); ADDR gets\n"
		"                                         notices such as a disabled webhook\n"
		"  account list\n"
		"  account plan ID PLAN                   change an account's plan\n"
		"  account email ID ADDR                  change the account's notice address\n"
		"  key create --account ID [--test]       print a new API key (shown only this once)\n"
		"  key list [--account ID]\n"
		"  key revoke KEY_ID\n"
		"DIR defaults to $SIGNCORE_DATA_DIR.\n");
	return 2;
}

static int die(const char *fmt, const char *a)
{
	fprintf(stderr, "signcore-admin: ");
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
	return 1;
}

static int mkdir_p(const char *dir)
{
	char *p = strdup(dir), *s;
	int rc = 0;

	if (!p)
		return -1;
	for (s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			if (mkdir(p, 0750) && errno != EEXIST)
				rc = -1;
			*s = '/';
		}
	if (mkdir(p, 0750) && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

static int file_exists(const char *dir, const char *name)
{
	char *p = api_path(dir, name);
	int ok = p && access(p, F_OK) == 0;
	free(p);
	return ok;
}

static int write_private(const char *dir, const char *name, const void *data, size_t len)
{
	char *p = api_path(dir, name);
	int rc = p ? api_write_file(p, data, len) : -1;
	if (!rc)
		chmod(p, 0600);
	free(p);
	return rc;
}

/* A self-signed RSA-2048 sealing certificate for development: documents
 * seal and verify, but no validator trusts it. */
static int make_dev_seal(const char *dir)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	X509 *cert = X509_new();
	X509_NAME *name;
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	PKCS12 *p12 = NULL;
	unsigned char raw[18], *der = NULL;
	char pass[32];
	int len, rc = -1;

	if (!key || !cert || api_random(raw, sizeof raw))
		goto done;
	api_b64url(pass, raw, sizeof raw);
	ASN1_INTEGER_set_int64(X509_get_serialNumber(cert), (int64_t)(raw[0] << 16 | raw[1] << 8 | raw[2]) + 1);
	X509_set_version(cert, 2);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3L * 365 * 24 * 3600);
	X509_set_pubkey(cert, key);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		(const unsigned char *)"signcore development seal (not trusted)", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"signcore", -1, -1, 0);
	X509_set_issuer_name(cert, name);
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,digitalSignature,nonRepudiation"))) {
		X509_add_ext(cert, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:FALSE"))) {
		X509_add_ext(cert, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (!X509_sign(cert, key, EVP_sha256()))
		goto done;
	if (!(p12 = PKCS12_create(pass, "signcore development seal", key, cert, NULL, 0, 0, 0, 0, 0)))
		goto done;
	if ((len = i2d_PKCS12(p12, &der)) <= 0)
		goto done;
	{
		char *sealdir = api_path(dir, "seal");
		if (!sealdir || mkdir_p(sealdir)) {
			free(sealdir);
			goto done;
		}
		free(sealdir);
	}
	if (write_private(dir, "seal/dev-seal.pass", pass, strlen(pass)) ||
		write_private(dir, "seal/dev-seal.p12", der, (size_t)len))
		goto done;
	rc = 0;
done:
	OPENSSL_free(der);
	PKCS12_free(p12);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

static const char conf_template[] =
	"# signcore API settings (INI). See the README's \"REST API\" section.\n"
	"[server]\n"
	"# public base URL of the API, used in signing and upload links\n"
	"# base_url = https://sign.example.com\n"
	"# product_name = signcore\n"
	"\n"
	"[seal]\n"
	"# the platform's sealing credential (PKCS#12) and the file holding its password;\n"
	"# without these, the development seal made by init is used\n"
	"# p12 = seal/platform.p12\n"
	"# password_file = seal/platform.pass\n"
	"# level = B-T\n"
	"# tsa = https://tsa.example.com/tsr\n"
	"\n"
	"[limits]\n"
	"# starter_rate_per_minute = 100\n"
	"# max_upload_bytes = 26214400\n"
	"\n"
	"[smtp]\n"
	"# how signcore-worker sends e-mail: an SMTP server, or a sendmail program\n"
	"# url = smtps://smtp.example.com:465\n"
	"# username = signcore\n"
	"# password_file = smtp.pass\n"
	"# sendmail = /usr/sbin/sendmail\n"
	"# from = Example Sign <no-reply@sign.example.com>\n"
	"\n"
	"[webhooks]\n"
	"# timeout = 10\n"
	"# retry_base = 60\n"
	"# retry_cap = 21600\n"
	"# give_up_after = 259200\n"
	"# disable_after = 259200\n"
	"\n"
	"[otp]\n"
	"# ttl = 600\n"
	"# attempts = 5\n"
	"\n"
	"[worker]\n"
	"# interval = 5\n";

static int cmd_init(const char *dir)
{
	char err[1024];
	api_conf conf;
	sqlite3 *db;
	unsigned char secret[32];

	if (mkdir_p(dir))
		return die("cannot create the data directory %s", dir);
	chmod(dir, 0750);
	if (!file_exists(dir, "signcore.conf")) {
		char *p = api_path(dir, "signcore.conf");
		if (!p || api_write_file(p, conf_template, strlen(conf_template)))
			return die("cannot write %s/signcore.conf", dir);
		free(p);
	}
	if (api_conf_load(&conf, dir, err, sizeof err))
		return die("%s", err);
	if (api_db_open(&db, dir, 1, err, sizeof err)) {
		api_conf_free(&conf);
		return die("%s", err);
	}
	sqlite3_close(db);
	if (!file_exists(dir, "secret")) {
		if (api_random(secret, sizeof secret) || write_private(dir, "secret", secret, sizeof secret)) {
			api_conf_free(&conf);
			return die("cannot write %s/secret", dir);
		}
	}
	{
		char *blobs = api_path(dir, "blobs"), *tmp = api_path(dir, "tmp");
		mkdir_p(blobs);
		mkdir_p(tmp);
		free(blobs);
		free(tmp);
	}
	if (!conf.seal_p12 && !file_exists(dir, "seal/dev-seal.p12")) {
		if (make_dev_seal(dir)) {
			api_conf_free(&conf);
			return die("could not make the development seal in %s/seal", dir);
		}
		printf("made a self-signed DEVELOPMENT seal (seal/dev-seal.p12): validators will not trust it;\n"
			"set [seal] p12 and password_file in signcore.conf for production\n");
	}
	printf("initialised %s (schema version %d)\n", dir, API_SCHEMA_VERSION);
	api_conf_free(&conf);
	return 0;
}

static const char *opt(int argc, char **argv, const char *name)
{
	int i;
	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], name))
			return i + 1 < argc ? argv[i + 1] : "";
	return NULL;
}

static int has(int argc, char **argv, const char *name)
{
	int i;
	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

static int cmd_account(sqlite3 *db, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[0], "create")) {
		const char *plan = opt(argc, argv, "--plan"), *email = opt(argc, argv, "--email");
		char id[40];
		if (!plan)
			plan = "starter";
		if (api_plan_from_name(plan) < 0)
			return die("unknown plan \"%s\": free, starter, growth or enterprise", plan);
		if (!*argv[1] || argv[1][0] == '-')
			return die("account create needs a NAME%s", "");
		if (email && (!strchr(email, '@') || strpbrk(email, " \t\r\n<>,")))
			return die("\"%s\" is not an e-mail address", email);
		api_new_id(id, sizeof id, "acc_");
		if (api_db_run(db, "INSERT INTO accounts (id, name, plan, created_at, email) VALUES (?, ?, ?, ?, ?)", "sssis",
			id, argv[1], plan, api_now(), email))
			return die("database: %s", sqlite3_errmsg(db));
		printf("%s\n", id);
		return 0;
	}
	if (argc >= 1 && !strcmp(argv[0], "list")) {
		sqlite3_stmt *st = api_db_prepare(db, "SELECT id, plan, name, coalesce(email, '-') FROM accounts"
			" ORDER BY created_at", NULL);
		while (st && sqlite3_step(st) == SQLITE_ROW)
			printf("%s\t%s\t%s\t%s\n", api_col_text(st, 0), api_col_text(st, 1), api_col_text(st, 2),
				api_col_text(st, 3));
		sqlite3_finalize(st);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[0], "plan")) {
		if (api_plan_from_name(argv[2]) < 0)
			return die("unknown plan \"%s\": free, starter, growth or enterprise", argv[2]);
		api_db_run(db, "UPDATE accounts SET plan = ? WHERE id = ?", "ss", argv[2], argv[1]);
		if (sqlite3_changes(db) != 1)
			return die("no account %s", argv[1]);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[0], "email")) {
		if (!strchr(argv[2], '@') || strpbrk(argv[2], " \t\r\n<>,"))
			return die("\"%s\" is not an e-mail address", argv[2]);
		api_db_run(db, "UPDATE accounts SET email = ? WHERE id = ?", "ss", argv[2], argv[1]);
		if (sqlite3_changes(db) != 1)
			return die("no account %s", argv[1]);
		return 0;
	}
	return usage();
}

static int cmd_key(sqlite3 *db, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "create")) {
		static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
		const char *account = opt(argc, argv, "--account");
		int test = has(argc, argv, "--test");
		unsigned char raw[32];
		char key[64], hash[65], id[40], prefix[20];
		size_t i;
		if (!account || !*account)
			return die("key create needs --account ID%s", "");
		if (!api_db_int(db, 0, "SELECT count(*) FROM accounts WHERE id = ?", "s", account))
			return die("no account %s", account);
		if (api_random(raw, sizeof raw))
			return die("no random source%s", "");
		strcpy(key, test ? "sc_test_" : "sc_live_");
		for (i = 0; i < 32; i++)
			key[8 + i] = alphabet[raw[i] & 31];
		key[40] = 0;
		api_sha256_hex(key, strlen(key), hash);
		snprintf(prefix, sizeof prefix, "%.12s", key);
		api_new_id(id, sizeof id, "key_");
		if (api_db_run(db, "INSERT INTO api_keys (id, account_id, hash, prefix, test, created_at) VALUES"
			" (?, ?, ?, ?, ?, ?)", "ssssii", id, account, hash, prefix, (long long)test, api_now()))
			return die("database: %s", sqlite3_errmsg(db));
		printf("%s\n", key);
		fprintf(stderr, "key id %s: store the key now, it is not shown again\n", id);
		return 0;
	}
	if (argc >= 1 && !strcmp(argv[0], "list")) {
		const char *account = opt(argc, argv, "--account");
		sqlite3_stmt *st = api_db_prepare(db, "SELECT id, account_id, prefix, test, created_at, revoked_at,"
			" last_used_at FROM api_keys WHERE ? IS NULL OR account_id = ? ORDER BY created_at", "ss", account, account);
		while (st && sqlite3_step(st) == SQLITE_ROW) {
			char created[32], used[32] = "-";
			api_time_str(created, sqlite3_column_int64(st, 4));
			if (sqlite3_column_type(st, 6) != SQLITE_NULL)
				api_time_str(used, sqlite3_column_int64(st, 6));
			printf("%s\t%s\t%s…\t%s\t%s\tcreated %s\tlast used %s\n", api_col_text(st, 0), api_col_text(st, 1),
				api_col_text(st, 2), sqlite3_column_int(st, 3) ? "test" : "live",
				sqlite3_column_type(st, 5) == SQLITE_NULL ? "active" : "revoked", created, used);
		}
		sqlite3_finalize(st);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[0], "revoke")) {
		api_db_run(db, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", "is", api_now(),
			argv[1]);
		if (sqlite3_changes(db) != 1)
			return die("no active key %s", argv[1]);
		printf("revoked %s\n", argv[1]);
		return 0;
	}
	return usage();
}

int main(int argc, char **argv)
{
	const char *dir_arg = NULL, *dir;
	char err[1024];
	sqlite3 *db;
	int i = 1, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--data-dir") && i + 1 < argc)
			dir_arg = argv[++i];
		else if (!strncmp(argv[i], "--data-dir=", 11))
			dir_arg = argv[i] + 11;
		else if (!strcmp(argv[i], "--version")) {
			printf("signcore-admin %s\n", PACKAGE_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--help")) {
			usage();
			return 0;
		} else
			return usage();
	}
	if (i >= argc)
		return usage();
	if (!(dir = api_data_dir(dir_arg)))
		return die("no data directory: give --data-dir DIR or set SIGNCORE_DATA_DIR%s", "");
	if (!strcmp(argv[i], "init"))
		return cmd_init(dir);
	if (api_db_open(&db, dir, !strcmp(argv[i], "migrate"), err, sizeof err))
		return die("%s", err);
	if (!strcmp(argv[i], "migrate")) {
		printf("schema version %d\n", API_SCHEMA_VERSION);
		rc = 0;
	} else if (!strcmp(argv[i], "account"))
		rc = cmd_account(db, argc - i - 1, argv + i + 1);
	else if (!strcmp(argv[i], "key"))
		rc = cmd_key(db, argc - i - 1, argv + i + 1);
	else
		rc = usage();
	sqlite3_close(db);
	return rc;
}
