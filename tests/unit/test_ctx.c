/* Contexts and error reporting. SPDX-License-Identifier: AGPL-3.0-or-later */
#include "testutil.h"

START_TEST(ctx_strerror_covers_every_code)
{
	int code;
	const char *seen[32] = { 0 };

	for (code = SIGNCORE_OK; code >= SIGNCORE_EINTERNAL; code--) {
		const char *s = signcore_strerror(code);
		int j;
		ck_assert_ptr_nonnull(s);
		ck_assert_str_ne(s, "unknown error");
		for (j = 0; j < -code; j++)
			ck_assert_str_ne(seen[j], s); /* each code has its own text */
		seen[-code] = s;
	}
	ck_assert_str_eq(signcore_strerror(-999), "unknown error");
}
END_TEST

START_TEST(ctx_version_matches_header)
{
	ck_assert_str_eq(signcore_version(), SIGNCORE_VERSION);
}
END_TEST

START_TEST(ctx_error_message_names_the_file)
{
	signcore_doc *doc = NULL;

	ck_assert_int_eq(signcore_doc_open(ctx, &doc, "/nonexistent/contract.pdf", NULL), SIGNCORE_ENOTFOUND);
	ck_assert_ptr_null(doc);
	ck_assert(contains(signcore_ctx_last_error(ctx), "/nonexistent/contract.pdf"));
}
END_TEST

START_TEST(ctx_null_arguments_are_rejected)
{
	ck_assert_int_eq(signcore_ctx_new(NULL), SIGNCORE_EINVAL);
	ck_assert_int_eq(signcore_doc_open(ctx, NULL, "x.pdf", NULL), SIGNCORE_EINVAL);
	ck_assert_int_eq(signcore_ctx_set_font_dir(ctx, ""), SIGNCORE_EINVAL);
	signcore_ctx_free(NULL); /* harmless */
	signcore_doc_free(NULL);
}
END_TEST

START_TEST(ctx_missing_font_dir_is_a_clear_error)
{
	signcore_doc *doc;
	signcore_field_spec fs = SIGNCORE_FIELD_SPEC_INIT;
	signcore_value v = SIGNCORE_VALUE_INIT;

	ck_assert_int_eq(signcore_ctx_set_font_dir(ctx, "/nonexistent-fonts"), SIGNCORE_OK);
	doc = open_ok(fx("plain.pdf"));
	fs.name = "sig";
	fs.type = SIGNCORE_FIELD_SIGNATURE;
	fs.rect[2] = 200;
	fs.rect[3] = 50;
	ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_OK);
	v.text = "Priya Sharma"; /* typed: needs the bundled script face */
	ck_assert_int_eq(signcore_field_fill(doc, "sig", &v), SIGNCORE_ENOTFOUND);
	ck_assert(contains(signcore_ctx_last_error(ctx), "DancingScript"));
	ck_assert(contains(signcore_ctx_last_error(ctx), "SIGNCORE_FONT_DIR"));
	signcore_doc_free(doc);
}
END_TEST

START_TEST(ctx_two_contexts_are_independent)
{
	signcore_ctx *other;
	signcore_doc *doc = NULL;

	ck_assert_int_eq(signcore_ctx_new(&other), SIGNCORE_OK);
	ck_assert_int_eq(signcore_doc_open(other, &doc, fx("notapdf.pdf"), NULL), SIGNCORE_EBADINPUT);
	ck_assert_str_eq(signcore_ctx_last_error(ctx), "");
	ck_assert(contains(signcore_ctx_last_error(other), "not a PDF"));
	signcore_ctx_free(other);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ctx");
	TCase *tc = tcase_create("ctx");

	tcase_add_checked_fixture(tc, setup, teardown);
	ADD(tc, ctx_strerror_covers_every_code);
	ADD(tc, ctx_version_matches_header);
	ADD(tc, ctx_error_message_names_the_file);
	ADD(tc, ctx_null_arguments_are_rejected);
	ADD(tc, ctx_missing_font_dir_is_a_clear_error);
	ADD(tc, ctx_two_contexts_are_independent);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
