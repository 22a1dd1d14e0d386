/* Filling fields. SPDX-License-Identifier: AGPL-3.0-or-later */
#include "testutil.h"

static signcore_doc *with_fields(void)
{
	signcore_doc *doc = open_ok(fx("plain.pdf"));
	static const struct { const char *name; signcore_field_type type; } f[] = {
		{ "sig", SIGNCORE_FIELD_SIGNATURE }, { "ini", SIGNCORE_FIELD_INITIALS }, { "txt", SIGNCORE_FIELD_TEXT },
		{ "box", SIGNCORE_FIELD_CHECKBOX }, { "day", SIGNCORE_FIELD_DATE },
	};
	size_t i;

	for (i = 0; i < 5; i++) {
		signcore_field_spec fs = SIGNCORE_FIELD_SPEC_INIT;
		fs.name = f[i].name;
		fs.type = f[i].type;
		fs.rect[0] = 50;
		fs.rect[1] = 60 + 70.0 * i;
		fs.rect[2] = f[i].type == SIGNCORE_FIELD_CHECKBOX ? 14 : 200;
		fs.rect[3] = f[i].type == SIGNCORE_FIELD_CHECKBOX ? 14 : 40;
		fs.date_format = "%d %B %Y %H:%M";
		fs.time_zone = "Asia/Kolkata";
		fs.multiline = 1;
		ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_OK);
	}
	return doc;
}

static char *value_of(signcore_doc *doc, const char *name)
{
	signcore_field_info *fi;
	size_t n, i;
	char *v = NULL;

	ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
	for (i = 0; i < n; i++)
		if (!strcmp(fi[i].name, name) && fi[i].value)
			v = strdup(fi[i].value);
	signcore_field_info_free(fi, n);
	return v;
}

START_TEST(fill_values_persist)
{
	signcore_doc *doc = with_fields();
	signcore_value v = SIGNCORE_VALUE_INIT;
	char *s;

	v.text = "प्रिया शर्मा, Acme Pvt Ltd — a long value that has to wrap onto several lines";
	ck_assert_int_eq(signcore_field_fill(doc, "txt", &v), SIGNCORE_OK);
	v.text = "2026-11-21T10:10:00Z";
	ck_assert_int_eq(signcore_field_fill(doc, "day", &v), SIGNCORE_OK);
	v.text = NULL;
	v.checked = 1;
	ck_assert_int_eq(signcore_field_fill(doc, "box", &v), SIGNCORE_OK);
	doc = save_reopen(doc, "filled.pdf");
	s = value_of(doc, "txt");
	ck_assert_str_eq(s, "प्रिया शर्मा, Acme Pvt Ltd — a long value that has to wrap onto several lines");
	free(s);
	s = value_of(doc, "day");
	ck_assert_str_eq(s, "21 November 2026 15:40"); /* formatted in the field's zone */
	free(s);
	s = value_of(doc, "box");
	ck_assert_str_eq(s, "Yes");
	free(s);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(fill_date_only_is_not_shifted)
{
	signcore_doc *doc = with_fields();
	signcore_value v = SIGNCORE_VALUE_INIT;
	char *s;

	v.text = "2026-01-31";
	ck_assert_int_eq(signcore_field_fill(doc, "day", &v), SIGNCORE_OK);
	s = value_of(doc, "day");
	ck_assert_str_eq(s, "31 January 2026 00:00");
	free(s);
	v.text = "31/01/2026";
	ck_assert_int_eq(signcore_field_fill(doc, "day", &v), SIGNCORE_EBADINPUT);
	ck_assert(contains(signcore_ctx_last_error(ctx), "31/01/2026"));
	v.text = "2026-02-30";
	ck_assert_int_eq(signcore_field_fill(doc, "day", &v), SIGNCORE_EBADINPUT);
	v.text = "today";
	ck_assert_int_eq(signcore_field_fill(doc, "day", &v), SIGNCORE_OK);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(fill_signature_image_and_typed)
{
	signcore_doc *doc = with_fields();
	signcore_value v = SIGNCORE_VALUE_INIT;
	size_t len;
	unsigned char *png = slurp(fx("sig.png"), &len), *fake;

	v.image = png;
	v.image_len = len;
	ck_assert_int_eq(signcore_field_fill(doc, "sig", &v), SIGNCORE_OK);
	fake = slurp(fx("fake.png"), &len);
	v.image = fake;
	v.image_len = len;
	ck_assert_int_eq(signcore_field_fill(doc, "ini", &v), SIGNCORE_EBADINPUT);
	ck_assert(contains(signcore_ctx_last_error(ctx), "PNG or JPEG"));
	ck_assert(contains(signcore_ctx_last_error(ctx), "ini"));
	/* A PNG header with garbage after it fails as undecodable. */
	memcpy(fake, "\x89PNG\r\n\x1a\n", 8);
	ck_assert_int_eq(signcore_field_fill(doc, "ini", &v), SIGNCORE_EBADINPUT);
	ck_assert(contains(signcore_ctx_last_error(ctx), "decoded"));
	v.image = NULL;
	v.image_len = 0;
	v.text = "PS";
	ck_assert_int_eq(signcore_field_fill(doc, "ini", &v), SIGNCORE_OK);
	free(png);
	free(fake);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(fill_errors)
{
	signcore_doc *doc = with_fields();
	signcore_value v = SIGNCORE_VALUE_INIT;

	v.text = "x";
	ck_assert_int_eq(signcore_field_fill(doc, "nope", &v), SIGNCORE_ENOTFOUND);
	ck_assert(contains(signcore_ctx_last_error(ctx), "nope"));
	v.text = NULL;
	ck_assert_int_eq(signcore_field_fill(doc, "txt", &v), SIGNCORE_EINVAL);
	ck_assert_int_eq(signcore_field_fill(doc, "sig", &v), SIGNCORE_EINVAL);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(fill_existing_form_fields)
{
	signcore_doc *doc = open_ok(fx("form.pdf"));
	signcore_value v = SIGNCORE_VALUE_INIT;
	char *s;

	v.text = "New value";
	ck_assert_int_eq(signcore_field_fill(doc, "existing_name", &v), SIGNCORE_OK);
	ck_assert_int_eq(signcore_field_fill(doc, "group.child", &v), SIGNCORE_OK);
	v.text = NULL;
	v.checked = 1;
	ck_assert_int_eq(signcore_field_fill(doc, "existing_check", &v), SIGNCORE_OK);
	doc = save_reopen(doc, "form-filled.pdf");
	s = value_of(doc, "existing_name");
	ck_assert_str_eq(s, "New value");
	free(s);
	s = value_of(doc, "group.child");
	ck_assert_str_eq(s, "New value");
	free(s);
	s = value_of(doc, "existing_check");
	ck_assert_str_eq(s, "Yes"); /* the form's own on-state name */
	free(s);
	signcore_doc_free(doc);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fill");
	TCase *tc = tcase_create("fill");

	tcase_add_checked_fixture(tc, setup, teardown);
	ADD(tc, fill_values_persist);
	ADD(tc, fill_date_only_is_not_shifted);
	ADD(tc, fill_signature_image_and_typed);
	ADD(tc, fill_errors);
	ADD(tc, fill_existing_form_fields);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
