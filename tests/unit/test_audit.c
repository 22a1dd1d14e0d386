/* The audit trail through the public API. SPDX-License-Identifier: AGPL-3.0-or-later */
#include "testutil.h"

static const char LOG[] =
	"{\"document\": {\"id\": \"doc_1\", \"title\": \"Offer letter\"},"
	" \"recipients\": [{\"id\": \"r1\", \"name\": \"\xe0\xa4\xaa\xe0\xa5\x8d\xe0\xa4\xb0\xe0\xa4\xbf\xe0\xa4\xaf\xe0\xa4\xbe\","
	"   \"email\": \"p@example.in\", \"signature\": {\"text\": \"Priya\"}}],"
	" \"events\": [{\"at\": \"2026-11-21T10:00:00Z\", \"type\": \"document.created\", \"actor\": \"api\"},"
	"            {\"at\": \"2026-11-21T10:10:00Z\", \"type\": \"signer.signed\", \"actor\": \"r1\"}]}";

START_TEST(audit_chain_and_check)
{
	signcore_audit_info info;
	char *chained = NULL, *edited, *p;

	/* Unchained: --check says so; chaining makes a log that checks. */
	ck_assert_int_eq(signcore_audit_check(ctx, LOG, sizeof LOG - 1, "log", &info), SIGNCORE_ETAMPERED);
	ck_assert(contains(signcore_ctx_last_error(ctx), "not hash-chained"));
	ck_assert_int_eq(signcore_audit_chain(ctx, LOG, sizeof LOG - 1, "log", &chained), SIGNCORE_OK);
	ck_assert(contains(chained, "prev_sha256"));
	ck_assert_int_eq(signcore_audit_check(ctx, chained, strlen(chained), "log", &info), SIGNCORE_OK);
	ck_assert_uint_eq(info.events, 2);
	ck_assert_int_eq(info.chained, 1);
	ck_assert_uint_eq(strlen(info.chain_sha256), 64);

	/* Any edit of an event but the last breaks the chain at its successor. */
	edited = strdup(chained);
	p = strstr(edited, "\"api\"");
	ck_assert_ptr_nonnull(p);
	p[1] = 'A';
	ck_assert_int_eq(signcore_audit_check(ctx, edited, strlen(edited), "log", &info), SIGNCORE_ETAMPERED);
	ck_assert(contains(signcore_ctx_last_error(ctx), "event 2"));
	free(edited);
	signcore_free(chained);
}
END_TEST

START_TEST(audit_append_pages)
{
	signcore_audit_options o = SIGNCORE_AUDIT_OPTIONS_INIT;
	signcore_doc *doc = NULL;
	unsigned char *out = NULL;
	size_t len = 0;

	ck_assert_int_eq(signcore_doc_open(ctx, &doc, fx("plain.pdf"), NULL), SIGNCORE_OK);
	o.time_zone = "Asia/Kolkata";
	o.now = 1795262400LL;
	ck_assert_int_eq(signcore_audit_append(doc, LOG, sizeof LOG - 1, &o), SIGNCORE_OK);
	ck_assert_int_eq(signcore_doc_page_count(doc), 4);
	ck_assert_int_eq(signcore_doc_save_memory(doc, &out, &len, NULL), SIGNCORE_OK);
	ck_assert(len > 1000);
	signcore_free(out);
	/* The document now has unsaved changes: its hash before the audit
	 * pages must then be given. */
	ck_assert_int_eq(signcore_audit_append(doc, LOG, sizeof LOG - 1, &o), SIGNCORE_EINVAL);
	o.before_sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	ck_assert_int_eq(signcore_audit_append(doc, LOG, sizeof LOG - 1, &o), SIGNCORE_OK);
	ck_assert_int_eq(signcore_doc_page_count(doc), 5);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(audit_bad_input)
{
	signcore_audit_options o = SIGNCORE_AUDIT_OPTIONS_INIT;
	signcore_doc *doc = NULL;
	static const char bad[] = "{\"document\": {\"id\": \"x\", \"title\": \"t\"},\n \"recipients\": [}";
	static const char nokey[] = "{\"document\": {\"id\": \"x\"}, \"recipients\": [], \"events\": []}";

	ck_assert_int_eq(signcore_doc_open(ctx, &doc, fx("plain.pdf"), NULL), SIGNCORE_OK);
	ck_assert_int_eq(signcore_audit_append(doc, bad, sizeof bad - 1, &o), SIGNCORE_EBADINPUT);
	ck_assert(contains(signcore_ctx_last_error(ctx), "line 2"));
	ck_assert_int_eq(signcore_audit_append(doc, nokey, sizeof nokey - 1, &o), SIGNCORE_EBADINPUT);
	ck_assert(contains(signcore_ctx_last_error(ctx), "\"title\""));
	o.paper = (signcore_paper)7;
	ck_assert_int_eq(signcore_audit_append(doc, LOG, sizeof LOG - 1, &o), SIGNCORE_EINVAL);
	ck_assert_int_eq(signcore_doc_page_count(doc), 3);
	signcore_doc_free(doc);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("audit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	ADD(tc, audit_chain_and_check);
	ADD(tc, audit_append_pages);
	ADD(tc, audit_bad_input);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
