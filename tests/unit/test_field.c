/* Placing fields. SPDX-License-Identifier: AGPL-3.0-or-later */
#include "testutil.h"

#include <math.h>

static signcore_field_spec spec(const char *name, signcore_field_type type, int page, double x, double y,
	double w, double h)
{
	signcore_field_spec fs = SIGNCORE_FIELD_SPEC_INIT;

	fs.name = name;
	fs.type = type;
	fs.page = page;
	fs.rect[0] = x;
	fs.rect[1] = y;
	fs.rect[2] = w;
	fs.rect[3] = h;
	return fs;
}

static const signcore_field_info *find(const signcore_field_info *fi, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(fi[i].name, name))
			return &fi[i];
	ck_abort_msg("field %s not listed", name);
	return NULL;
}

static void assert_rect(const signcore_field_info *f, double x, double y, double w, double h)
{
	ck_assert_msg(fabs(f->rect[0] - x) < 0.01 && fabs(f->rect[1] - y) < 0.01 && fabs(f->rect[2] - w) < 0.01 &&
			fabs(f->rect[3] - h) < 0.01,
		"%s: got [%g %g %g %g], want [%g %g %g %g]", f->name, f->rect[0], f->rect[1], f->rect[2], f->rect[3],
		x, y, w, h);
}

START_TEST(field_every_type_round_trips)
{
	signcore_doc *doc = open_ok(fx("plain.pdf"));
	signcore_field_info *fi;
	size_t n;
	signcore_field_type t;
	static const char *const names[] = { NULL, "s", "i", "t", "c", "d" };

	for (t = SIGNCORE_FIELD_SIGNATURE; t <= SIGNCORE_FIELD_DATE; t++) {
		signcore_field_spec fs = spec(names[t], t, 1, 50, 100.0 * t, 120, 30);
		fs.required = t == SIGNCORE_FIELD_TEXT;
		fs.read_only = t == SIGNCORE_FIELD_DATE;
		ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_OK);
	}
	doc = save_reopen(doc, "out.pdf");
	ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
	ck_assert_uint_eq(n, 5);
	for (t = SIGNCORE_FIELD_SIGNATURE; t <= SIGNCORE_FIELD_DATE; t++) {
		const signcore_field_info *f = find(fi, n, names[t]);
		ck_assert_int_eq(f->type, t);
		ck_assert_int_eq(f->page, 1);
		ck_assert_int_eq(f->required, t == SIGNCORE_FIELD_TEXT);
		ck_assert_int_eq(f->read_only, t == SIGNCORE_FIELD_DATE);
		assert_rect(f, 50, 100.0 * t, 120, 30);
	}
	ck_assert_str_eq(find(fi, n, "s")->pdf_type, "Sig");
	ck_assert_str_eq(find(fi, n, "c")->pdf_type, "Btn");
	ck_assert_str_eq(find(fi, n, "c")->value, "Off");
	signcore_field_info_free(fi, n);
	signcore_doc_free(doc);
}
END_TEST

/* The rect given is the rect read back, as displayed, whatever the page's
 * rotation or CropBox offset. */
START_TEST(field_geometry_is_as_displayed)
{
	static const char *const files[] = { "rotated.pdf", "cropbox.pdf" };
	size_t k;

	for (k = 0; k < 2; k++) {
		signcore_doc *doc = open_ok(fx(files[k]));
		int pages = signcore_doc_page_count(doc), p;
		signcore_field_info *fi;
		size_t n;

		for (p = 1; p <= pages; p++) {
			char name[16];
			signcore_field_spec fs;
			snprintf(name, sizeof name, "f%d", p);
			fs = spec(name, SIGNCORE_FIELD_TEXT, p, 30 + p, 40 + 2 * p, 150, 25);
			ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_OK);
		}
		doc = save_reopen(doc, "geo.pdf");
		ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
		ck_assert_uint_eq(n, (size_t)pages);
		for (p = 1; p <= pages; p++) {
			ck_assert_int_eq(fi[p - 1].page, p);
			assert_rect(&fi[p - 1], 30 + p, 40 + 2 * p, 150, 25);
		}
		signcore_field_info_free(fi, n);
		signcore_doc_free(doc);
	}
}
END_TEST

START_TEST(field_percent_units)
{
	signcore_doc *doc = open_ok(fx("rotated.pdf"));
	signcore_field_spec fs = spec("pct", SIGNCORE_FIELD_TEXT, 2, 10, 20, 30, 4);
	signcore_field_info *fi;
	size_t n;

	fs.units = SIGNCORE_UNITS_PERCENT;
	ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_OK);
	ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
	/* Page 2 is displayed 792 x 612. */
	assert_rect(&fi[0], 79.2, 122.4, 237.6, 24.48);
	signcore_field_info_free(fi, n);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(field_bad_placements_are_refused)
{
	signcore_doc *doc = open_ok(fx("form.pdf"));
	signcore_field_spec fs;
	signcore_field_info *fi;
	size_t n;

	fs = spec("p9", SIGNCORE_FIELD_TEXT, 9, 10, 10, 50, 20);
	ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_ERANGE);
	ck_assert(contains(signcore_ctx_last_error(ctx), "page 9"));
	fs = spec("out", SIGNCORE_FIELD_TEXT, 1, 500, 800, 200, 100);
	ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_ERANGE);
	ck_assert(contains(signcore_ctx_last_error(ctx), "outside the page"));
	fs = spec("existing_name", SIGNCORE_FIELD_TEXT, 1, 10, 10, 50, 20);
	ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_EEXISTS);
	fs = spec("group.child", SIGNCORE_FIELD_TEXT, 1, 10, 10, 50, 20);
	ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_EINVAL);
	fs = spec("neg", SIGNCORE_FIELD_TEXT, 1, 10, 10, -5, 20);
	ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_EINVAL);
	fs = spec("bad", (signcore_field_type)42, 1, 10, 10, 50, 20);
	ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_EINVAL);
	ck_assert(contains(signcore_ctx_last_error(ctx), "unknown field type"));
	fs = spec("", SIGNCORE_FIELD_TEXT, 1, 10, 10, 50, 20);
	ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_EINVAL);
	/* Nothing was added by the failed calls. */
	ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
	ck_assert_uint_eq(n, 3);
	signcore_field_info_free(fi, n);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(field_type_names)
{
	ck_assert_str_eq(signcore_field_type_name(SIGNCORE_FIELD_INITIALS), "initials");
	ck_assert_int_eq(signcore_field_type_from_name("date"), SIGNCORE_FIELD_DATE);
	ck_assert_int_eq(signcore_field_type_from_name("radio"), SIGNCORE_FIELD_UNKNOWN);
	ck_assert_int_eq(signcore_field_type_from_name(NULL), SIGNCORE_FIELD_UNKNOWN);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("field");
	TCase *tc = tcase_create("field");

	tcase_add_checked_fixture(tc, setup, teardown);
	ADD(tc, field_every_type_round_trips);
	ADD(tc, field_geometry_is_as_displayed);
	ADD(tc, field_percent_units);
	ADD(tc, field_bad_placements_are_refused);
	ADD(tc, field_type_names);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
