/* Field specs and values files. SPDX-License-Identifier: AGPL-3.0-or-later */
#include "testutil.h"

static int parse(const char *json, signcore_spec **out)
{
	return signcore_spec_parse(ctx, out, json, strlen(json), getenv("FIXTURES"));
}

static void parse_fails(const char *json, int code, const char *needle)
{
	signcore_spec *sp = NULL;

	ck_assert_int_eq(parse(json, &sp), code);
	ck_assert_ptr_null(sp);
	ck_assert_msg(contains(signcore_ctx_last_error(ctx), needle), "message \"%s\" lacks \"%s\"",
		signcore_ctx_last_error(ctx), needle);
}

START_TEST(spec_syntax_errors_name_line_and_column)
{
	parse_fails("{\"fields\": [\n  {\"name\": \"a\",\n   \"type\": text}\n]}", SIGNCORE_EBADINPUT, "line 3, column");
	parse_fails("[1, 2]", SIGNCORE_EBADINPUT, "top level");
	parse_fails("{\"fields\": [{\"name\": \"a\", \"name\": \"b\"}]}", SIGNCORE_EBADINPUT, "duplicate");
}
END_TEST

START_TEST(spec_semantic_errors_name_the_json_path)
{
	parse_fails("{\"fields\": [{\"name\": \"a\", \"type\": \"text\", \"rect\": [1,2,3,4]},"
		    " {\"name\": \"b\", \"type\": \"radio\", \"rect\": [1,2,3,4]}]}",
		SIGNCORE_EBADINPUT, "fields[1].type: unknown field type \"radio\"");
	parse_fails("{\"fields\": [{\"name\": \"a\", \"type\": \"text\", \"rect\": [1,2,3]}]}", SIGNCORE_EBADINPUT,
		"fields[0].rect");
	parse_fails("{\"fields\": [{\"name\": \"a\", \"type\": \"text\", \"rect\": [1,2,3,\"4\"]}]}",
		SIGNCORE_EBADINPUT, "fields[0].rect[3]");
	parse_fails("{\"fields\": [{\"name\": \"a\", \"type\": \"text\", \"rect\": [1,2,3,4]},"
		    " {\"name\": \"a\", \"type\": \"text\", \"rect\": [1,2,3,4]}]}",
		SIGNCORE_EBADINPUT, "duplicate field name \"a\"");
	parse_fails("{\"fields\": [{\"name\": \"a\", \"type\": \"date\", \"rect\": [1,2,3,4], \"time_zone\": \"Nowhere/City\"}]}",
		SIGNCORE_ENOTFOUND, "fields[0].time_zone");
	parse_fails("{\"fields\": [{\"name\": \"s\", \"type\": \"signature\", \"rect\": [1,2,3,4], \"value\": {\"image\": \"fake.png\"}}]}",
		SIGNCORE_EBADINPUT, "PNG or JPEG");
	parse_fails("{\"fields\": [{\"name\": \"s\", \"type\": \"signature\", \"rect\": [1,2,3,4], \"value\": {\"image\": \"gone.png\"}}]}",
		SIGNCORE_ENOTFOUND, "gone.png");
	parse_fails("{\"fields\": [{\"name\": \"a\", \"type\": \"text\", \"rect\": [1,2,3,4], \"units\": \"mm\"}]}",
		SIGNCORE_EBADINPUT, "fields[0].units");
}
END_TEST

START_TEST(spec_values_file_forms)
{
	signcore_spec *sp;

	ck_assert_int_eq(parse("{\"values\": {\"a\": \"x\", \"b\": true, \"c\": {\"text\": \"Priya\"}}}", &sp), SIGNCORE_OK);
	ck_assert_uint_eq(signcore_spec_count(sp), 3);
	signcore_spec_free(sp);
	ck_assert_int_eq(parse("{\"a\": \"x\"}", &sp), SIGNCORE_OK);
	ck_assert_uint_eq(signcore_spec_count(sp), 1);
	signcore_spec_free(sp);
}
END_TEST

/* A 1x1 transparent PNG. */
#define DOT_PNG "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

START_TEST(spec_place_fill_and_stamp)
{
	const char *spec_json =
		"{\"fields\": ["
		"{\"name\": \"client_sign\", \"type\": \"signature\", \"page\": 1, \"rect\": [72, 640, 200, 50],"
		" \"value\": {\"text\": \"Priya Sharma\"}},"
		"{\"name\": \"company\", \"type\": \"text\", \"page\": 1, \"rect\": [10, 20, 30, 4], \"units\": \"percent\","
		" \"value\": \"Acme Pvt Ltd\", \"font_size\": 0},"
		"{\"name\": \"agree\", \"type\": \"checkbox\", \"page\": 2, \"rect\": [72, 100, 14, 14], \"value\": true},"
		"{\"name\": \"signed_on\", \"type\": \"date\", \"page\": 2, \"rect\": [300, 100, 120, 18],"
		" \"value\": \"2026-11-21\", \"date_format\": \"%d %b %Y\", \"time_zone\": \"Asia/Kolkata\"},"
		"{\"name\": \"dot\", \"type\": \"initials\", \"page\": 3, \"rect\": [72, 72, 40, 40],"
		" \"value\": {\"image\": \"data:image/png;base64," DOT_PNG "\"}}"
		"]}";
	signcore_spec *sp;
	signcore_doc *doc;
	signcore_field_info *fi;
	size_t n;

	ck_assert_int_eq(parse(spec_json, &sp), SIGNCORE_OK);
	ck_assert_uint_eq(signcore_spec_count(sp), 5);

	doc = open_ok(fx("plain.pdf"));
	ck_assert_int_eq(signcore_spec_place(doc, sp), SIGNCORE_OK);
	doc = save_reopen(doc, "placed.pdf");
	ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(fi[1].value, "Acme Pvt Ltd");
	ck_assert_str_eq(fi[2].value, "Yes");
	ck_assert_str_eq(fi[3].value, "21 Nov 2026");
	signcore_field_info_free(fi, n);
	/* Placing the same spec again clashes with every name. */
	ck_assert_int_eq(signcore_spec_place(doc, sp), SIGNCORE_EEXISTS);
	signcore_doc_free(doc);

	doc = open_ok(fx("plain.pdf"));
	ck_assert_int_eq(signcore_spec_stamp(doc, sp), SIGNCORE_OK);
	doc = save_reopen(doc, "stamped.pdf");
	ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
	ck_assert_uint_eq(n, 0); /* drawn into the pages, no fields */
	signcore_field_info_free(fi, n);
	signcore_doc_free(doc);
	signcore_spec_free(sp);
}
END_TEST

START_TEST(spec_place_is_all_or_nothing)
{
	signcore_spec *sp;
	signcore_doc *doc = open_ok(fx("plain.pdf"));
	signcore_field_info *fi;
	size_t n;

	ck_assert_int_eq(parse("{\"fields\": ["
			       "{\"name\": \"ok\", \"type\": \"text\", \"page\": 1, \"rect\": [10, 10, 100, 20]},"
			       "{\"name\": \"bad\", \"type\": \"text\", \"page\": 7, \"rect\": [10, 10, 100, 20]}]}",
			 &sp),
		SIGNCORE_OK);
	ck_assert_int_eq(signcore_spec_place(doc, sp), SIGNCORE_ERANGE);
	ck_assert(contains(signcore_ctx_last_error(ctx), "fields[1]"));
	ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
	ck_assert_uint_eq(n, 0);
	signcore_field_info_free(fi, n);
	signcore_spec_free(sp);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(spec_fill_checks_names_and_kinds)
{
	signcore_spec *sp;
	signcore_doc *doc = open_ok(fx("form.pdf"));

	ck_assert_int_eq(parse("{\"values\": {\"existing_name\": \"A\", \"typo_field\": \"B\"}}", &sp), SIGNCORE_OK);
	ck_assert_int_eq(signcore_spec_fill(doc, sp), SIGNCORE_ENOTFOUND);
	ck_assert(contains(signcore_ctx_last_error(ctx), "typo_field"));
	signcore_spec_free(sp);
	ck_assert_int_eq(parse("{\"values\": {\"existing_check\": \"maybe\"}}", &sp), SIGNCORE_OK);
	ck_assert_int_eq(signcore_spec_fill(doc, sp), SIGNCORE_EBADINPUT);
	ck_assert(contains(signcore_ctx_last_error(ctx), "checkbox"));
	signcore_spec_free(sp);
	ck_assert_int_eq(parse("{\"values\": {\"existing_check\": \"yes\", \"existing_name\": \"Z\"}}", &sp), SIGNCORE_OK);
	ck_assert_int_eq(signcore_spec_fill(doc, sp), SIGNCORE_OK);
	signcore_spec_free(sp);
	signcore_doc_free(doc);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("spec");
	TCase *tc = tcase_create("spec");

	tcase_add_checked_fixture(tc, setup, teardown);
	ADD(tc, spec_syntax_errors_name_line_and_column);
	ADD(tc, spec_semantic_errors_name_the_json_path);
	ADD(tc, spec_values_file_forms);
	ADD(tc, spec_place_fill_and_stamp);
	ADD(tc, spec_place_is_all_or_nothing);
	ADD(tc, spec_fill_checks_names_and_kinds);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
