/*
 * Helpers shared by the unit tests.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#ifndef SIGNCORE_TESTUTIL_H
#define SIGNCORE_TESTUTIL_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "signcore.h"

static signcore_ctx *ctx;
static char tmpdir[256];

/* Path of fixture NAME (made by tests/fixtures/mkfixtures.py). */
static inline const char *fx(const char *name)
{
	static char buf[8][1024];
	static int i;
	const char *dir = getenv("FIXTURES");

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir ? dir : "tests/fixtures/out", name);
	return buf[i];
}

/* Path NAME inside this test's temporary directory. */
static inline const char *tmp(const char *name)
{
	static char buf[8][1024];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
	return buf[i];
}

static inline void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "%s/sctest.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(signcore_ctx_new(&ctx), SIGNCORE_OK);
}

static inline void teardown(void)
{
	char cmd[600];

	signcore_ctx_free(ctx);
	ctx = NULL;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static inline signcore_doc *open_ok(const char *path)
{
	signcore_doc *doc = NULL;
	int rc = signcore_doc_open(ctx, &doc, path, NULL);

	ck_assert_msg(rc == SIGNCORE_OK, "open %s: %d %s", path, rc, signcore_ctx_last_error(ctx));
	return doc;
}

static inline unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot read %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

/* Number of entries in a directory other than . and .. */
static inline int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static inline int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* Save DOC to NAME in the temp dir, reopen it and return the new document. */
static inline signcore_doc *save_reopen(signcore_doc *doc, const char *name)
{
	int rc = signcore_doc_save(doc, tmp(name), NULL);

	ck_assert_msg(rc == SIGNCORE_OK, "save: %s", signcore_ctx_last_error(ctx));
	signcore_doc_free(doc);
	return open_ok(tmp(name));
}

#define TEST_MAIN(suite_fn)                                             \
	int main(void)                                                  \
	{                                                               \
		SRunner *sr = srunner_create(suite_fn());               \
		int failed;                                             \
		srunner_run_all(sr, CK_ENV);                            \
		failed = srunner_ntests_failed(sr);                     \
		srunner_free(sr);                                       \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;            \
	}

#define ADD(tc, fn) tcase_add_test(tc, fn)

#endif
