/* Flattening. SPDX-License-Identifier: AGPL-3.0-or-later */
#include "testutil.h"

static size_t field_count(signcore_doc *doc)
{
	signcore_field_info *fi;
	size_t n;

	ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
	signcore_field_info_free(fi, n);
	return n;
}

/* Count "/Subtype /NAME" annotations with qpdf, an independent reader. */
static int qpdf_count(const char *path, const char *pattern)
{
	char cmd[2048];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof cmd, "qpdf --qdf --object-streams=disable '%s' - | grep -a -c '%s'", path, pattern);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

START_TEST(flatten_all_removes_fields_and_keeps_annotations)
{
	signcore_doc *doc = open_ok(fx("form.pdf"));
	signcore_value v = SIGNCORE_VALUE_INIT;

	v.text = "Burnt in";
	ck_assert_int_eq(signcore_field_fill(doc, "existing_name", &v), SIGNCORE_OK);
	ck_assert_int_eq(signcore_flatten(doc, NULL, 0), SIGNCORE_OK);
	doc = save_reopen(doc, "flat.pdf");
	ck_assert_uint_eq(field_count(doc), 0);
	signcore_doc_free(doc);
	ck_assert_int_eq(qpdf_count(tmp("flat.pdf"), "/Subtype /Widget"), 0);
	ck_assert_int_eq(qpdf_count(tmp("flat.pdf"), "/AcroForm"), 0);
	ck_assert_int_eq(qpdf_count(tmp("flat.pdf"), "/Subtype /Link"), 1);
	ck_assert_int_eq(qpdf_count(tmp("flat.pdf"), "/Subtype /Square"), 1);
	ck_assert_int_eq(qpdf_count(tmp("flat.pdf"), "/Subtype /Text"), 1);
}
END_TEST

START_TEST(flatten_named_subset)
{
	signcore_doc *doc = open_ok(fx("form.pdf"));
	const char *one[] = { "existing_name" }, *parent[] = { "group" };
	signcore_field_info *fi;
	size_t n;

	ck_assert_int_eq(signcore_flatten(doc, one, 1), SIGNCORE_OK);
	ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(fi[0].name, "existing_check");
	ck_assert_str_eq(fi[1].name, "group.child");
	signcore_field_info_free(fi, n);
	/* A parent name takes its kids, and the empty parent is pruned. */
	ck_assert_int_eq(signcore_flatten(doc, parent, 1), SIGNCORE_OK);
	doc = save_reopen(doc, "sub.pdf");
	ck_assert_uint_eq(field_count(doc), 1);
	signcore_doc_free(doc);
	ck_assert_int_eq(qpdf_count(tmp("sub.pdf"), "/T (group)"), 0);
}
END_TEST

START_TEST(flatten_unknown_name_changes_nothing)
{
	signcore_doc *doc = open_ok(fx("form.pdf"));
	const char *names[] = { "existing_name", "no_such_field" };

	ck_assert_int_eq(signcore_flatten(doc, names, 2), SIGNCORE_ENOTFOUND);
	ck_assert(contains(signcore_ctx_last_error(ctx), "no_such_field"));
	ck_assert_uint_eq(field_count(doc), 3);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(flatten_our_fields_on_rotated_pages)
{
	signcore_doc *doc = open_ok(fx("rotated.pdf"));
	int p;

	for (p = 1; p <= 4; p++) {
		signcore_field_spec fs = SIGNCORE_FIELD_SPEC_INIT;
		signcore_value v = SIGNCORE_VALUE_INIT;
		char name[16];
		snprintf(name, sizeof name, "t%d", p);
		fs.name = name;
		fs.type = SIGNCORE_FIELD_TEXT;
		fs.page = p;
		fs.rect[0] = 100;
		fs.rect[1] = 100;
		fs.rect[2] = 200;
		fs.rect[3] = 30;
		ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_OK);
		v.text = name;
		ck_assert_int_eq(signcore_field_fill(doc, name, &v), SIGNCORE_OK);
	}
	ck_assert_int_eq(signcore_flatten(doc, NULL, 0), SIGNCORE_OK);
	doc = save_reopen(doc, "rot.pdf");
	ck_assert_uint_eq(field_count(doc), 0);
	signcore_doc_free(doc);
	/* Each page now paints one form XObject of ours. */
	ck_assert_int_eq(qpdf_count(tmp("rot.pdf"), "/SCFm0 Do"), 4);
}
END_TEST

/* A form written by a producer that left appearances to the viewer
 * (/NeedAppearances): a text field with a value and no /AP at all. */
static void write_needappearances_pdf(const char *path)
{
	static const char *const objs[] = {
		"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /NeedAppearances true"
		" /DA (/Helv 12 Tf 0 g) >> >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
		"<< /Type /Annot /Subtype /Widget /FT /Tx /T (legacy) /V (Filled by another tool)"
		" /Rect [100 700 400 730] /F 4 /P 3 0 R /DA (/Helv 12 Tf 0 g) >>",
	};
	long off[5];
	FILE *f = fopen(path, "wb");
	int i;

	ck_assert_ptr_nonnull(f);
	fputs("%PDF-1.7\n", f);
	for (i = 0; i < 4; i++) {
		off[i + 1] = ftell(f);
		fprintf(f, "%d 0 obj\n%s\nendobj\n", i + 1, objs[i]);
	}
	off[0] = ftell(f);
	fputs("xref\n0 5\n0000000000 65535 f \n", f);
	for (i = 1; i <= 4; i++)
		fprintf(f, "%010ld 00000 n \n", off[i]);
	fprintf(f, "trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%ld\n%%%%EOF\n", off[0]);
	fclose(f);
}

START_TEST(flatten_draws_missing_appearances)
{
	signcore_doc *doc;
	char cmd[1200], text[256] = "";
	FILE *p;

	write_needappearances_pdf(tmp("legacy.pdf"));
	doc = open_ok(tmp("legacy.pdf"));
	ck_assert_int_eq(signcore_flatten(doc, NULL, 0), SIGNCORE_OK);
	doc = save_reopen(doc, "legacy-flat.pdf");
	ck_assert_uint_eq(field_count(doc), 0);
	signcore_doc_free(doc);
	/* The value was drawn by us, not dropped with the widget. */
	snprintf(cmd, sizeof cmd, "pdftotext '%s' -", tmp("legacy-flat.pdf"));
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_gt(fread(text, 1, sizeof text - 1, p), 0);
	pclose(p);
	ck_assert_msg(contains(text, "Filled by another tool"), "pdftotext gave: %s", text);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("flatten");
	TCase *tc = tcase_create("flatten");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	ADD(tc, flatten_all_removes_fields_and_keeps_annotations);
	ADD(tc, flatten_named_subset);
	ADD(tc, flatten_unknown_name_changes_nothing);
	ADD(tc, flatten_our_fields_on_rotated_pages);
	ADD(tc, flatten_draws_missing_appearances);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
