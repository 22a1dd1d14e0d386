/* Opening, geometry and atomic saving. SPDX-License-Identifier: AGPL-3.0-or-later */
#include "testutil.h"

#include <math.h>

static int open_code(const char *path, const char *password)
{
	signcore_open_options oo = SIGNCORE_OPEN_OPTIONS_INIT;
	signcore_doc *doc = NULL;
	int rc;

	oo.password = password;
	rc = signcore_doc_open(ctx, &doc, path, &oo);
	if (rc == SIGNCORE_OK)
		ck_assert_ptr_nonnull(doc);
	else
		ck_assert_ptr_null(doc);
	signcore_doc_free(doc);
	return rc;
}

START_TEST(doc_bad_inputs_get_specific_codes)
{
	ck_assert_int_eq(open_code(fx("missing.pdf"), NULL), SIGNCORE_ENOTFOUND);
	ck_assert_int_eq(open_code(fx("empty.pdf"), NULL), SIGNCORE_EBADINPUT);
	ck_assert(contains(signcore_ctx_last_error(ctx), "empty"));
	ck_assert_int_eq(open_code(fx("notapdf.pdf"), NULL), SIGNCORE_EBADINPUT);
	ck_assert(contains(signcore_ctx_last_error(ctx), "not a PDF"));
	ck_assert_int_eq(open_code(fx("truncated.pdf"), NULL), SIGNCORE_EBADINPUT);
	ck_assert(contains(signcore_ctx_last_error(ctx), "truncated"));
}
END_TEST

START_TEST(doc_encrypted_needs_the_right_password)
{
	ck_assert_int_eq(open_code(fx("encrypted.pdf"), NULL), SIGNCORE_ENEEDPASS);
	ck_assert(contains(signcore_ctx_last_error(ctx), "password"));
	ck_assert_int_eq(open_code(fx("encrypted.pdf"), "nope"), SIGNCORE_EPASSWORD);
	ck_assert_int_eq(open_code(fx("encrypted.pdf"), "user-pw"), SIGNCORE_OK);
	ck_assert_int_eq(open_code(fx("encrypted.pdf"), "owner-pw"), SIGNCORE_OK);
	ck_assert_int_eq(open_code(fx("encrypted-rc4.pdf"), "user-pw"), SIGNCORE_OK);
}
END_TEST

START_TEST(doc_page_sizes_are_as_displayed)
{
	signcore_doc *doc = open_ok(fx("rotated.pdf"));
	double w, h;
	int rot, p;
	static const int rots[4] = { 0, 90, 180, 270 };

	ck_assert_int_eq(signcore_doc_page_count(doc), 4);
	for (p = 1; p <= 4; p++) {
		ck_assert_int_eq(signcore_doc_page_size(doc, p, &w, &h, &rot), SIGNCORE_OK);
		ck_assert_int_eq(rot, rots[p - 1]);
		/* Letter portrait, turned sideways by 90 and 270. */
		ck_assert(fabs(w - (rot % 180 ? 792 : 612)) < 0.01);
		ck_assert(fabs(h - (rot % 180 ? 612 : 792)) < 0.01);
	}
	ck_assert_int_eq(signcore_doc_page_size(doc, 5, &w, &h, &rot), SIGNCORE_ERANGE);
	ck_assert(contains(signcore_ctx_last_error(ctx), "page 5"));
	signcore_doc_free(doc);

	doc = open_ok(fx("cropbox.pdf"));
	ck_assert_int_eq(signcore_doc_page_size(doc, 1, &w, &h, &rot), SIGNCORE_OK);
	ck_assert(fabs(w - 595) < 0.01 && fabs(h - 842) < 0.01); /* the CropBox, not the MediaBox */
	ck_assert_int_eq(signcore_doc_page_size(doc, 2, &w, &h, &rot), SIGNCORE_OK);
	ck_assert(fabs(w - 842) < 0.01 && fabs(h - 595) < 0.01 && rot == 90);
	signcore_doc_free(doc);
}
END_TEST

static void place_text(signcore_doc *doc, const char *name)
{
	signcore_field_spec fs = SIGNCORE_FIELD_SPEC_INIT;

	fs.name = name;
	fs.type = SIGNCORE_FIELD_TEXT;
	fs.rect[0] = 72;
	fs.rect[1] = 72;
	fs.rect[2] = 200;
	fs.rect[3] = 20;
	ck_assert_int_eq(signcore_field_place(doc, &fs), SIGNCORE_OK);
}

START_TEST(doc_save_is_incremental_by_default)
{
	size_t inlen, outlen;
	unsigned char *in = slurp(fx("plain.pdf"), &inlen), *out;
	signcore_doc *doc = open_ok(fx("plain.pdf"));

	place_text(doc, "t1");
	ck_assert_int_eq(signcore_doc_save(doc, tmp("inc.pdf"), NULL), SIGNCORE_OK);
	out = slurp(tmp("inc.pdf"), &outlen);
	ck_assert_uint_gt(outlen, inlen);
	ck_assert_int_eq(memcmp(in, out, inlen), 0); /* original bytes untouched */
	ck_assert_int_eq(dir_entries(tmpdir), 1);    /* no temp file left behind */
	free(out);
	free(in);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(doc_full_rewrite_on_request)
{
	signcore_save_options so = SIGNCORE_SAVE_OPTIONS_INIT;
	size_t inlen, outlen;
	unsigned char *in = slurp(fx("plain.pdf"), &inlen), *out;
	signcore_doc *doc = open_ok(fx("plain.pdf"));

	place_text(doc, "t1");
	so.full_rewrite = 1;
	ck_assert_int_eq(signcore_doc_save(doc, tmp("full.pdf"), &so), SIGNCORE_OK);
	out = slurp(tmp("full.pdf"), &outlen);
	ck_assert(outlen < inlen || memcmp(in, out, inlen) != 0);
	signcore_doc_free(doc);
	doc = open_ok(tmp("full.pdf"));
	{
		signcore_field_info *fi;
		size_t n;
		ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
		ck_assert_uint_eq(n, 1);
		ck_assert_str_eq(fi[0].name, "t1");
		signcore_field_info_free(fi, n);
	}
	free(in);
	free(out);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(doc_save_failure_leaves_nothing)
{
	signcore_doc *doc = open_ok(fx("plain.pdf"));

	place_text(doc, "t1");
	ck_assert_int_eq(signcore_doc_save(doc, tmp("no/such/dir/out.pdf"), NULL), SIGNCORE_EIO);
	ck_assert(contains(signcore_ctx_last_error(ctx), "out.pdf"));
	ck_assert_int_eq(dir_entries(tmpdir), 0);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(doc_save_over_the_input_is_atomic)
{
	size_t len;
	unsigned char *bytes = slurp(fx("plain.pdf"), &len);
	FILE *f = fopen(tmp("same.pdf"), "wb");
	signcore_doc *doc;
	signcore_field_info *fi;
	size_t n;

	fwrite(bytes, 1, len, f);
	fclose(f);
	doc = open_ok(tmp("same.pdf"));
	place_text(doc, "t1");
	ck_assert_int_eq(signcore_doc_save(doc, tmp("same.pdf"), NULL), SIGNCORE_OK);
	signcore_doc_free(doc);
	doc = open_ok(tmp("same.pdf"));
	ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
	ck_assert_uint_eq(n, 1);
	signcore_field_info_free(fi, n);
	signcore_doc_free(doc);
	free(bytes);
}
END_TEST

START_TEST(doc_memory_round_trip)
{
	size_t len, outlen;
	unsigned char *bytes = slurp(fx("xrefstream.pdf"), &len), *out = NULL;
	signcore_doc *doc = NULL;

	ck_assert_int_eq(signcore_doc_open_memory(ctx, &doc, bytes, len, NULL), SIGNCORE_OK);
	ck_assert_int_eq(signcore_doc_page_count(doc), 2);
	place_text(doc, "m1");
	ck_assert_int_eq(signcore_doc_save_memory(doc, &out, &outlen, NULL), SIGNCORE_OK);
	ck_assert_uint_gt(outlen, len);
	ck_assert_int_eq(memcmp(bytes, out, len), 0);
	signcore_doc_free(doc);
	ck_assert_int_eq(signcore_doc_open_memory(ctx, &doc, out, outlen, NULL), SIGNCORE_OK);
	signcore_doc_free(doc);
	ck_assert_int_eq(signcore_doc_open_memory(ctx, &doc, "hello", 5, NULL), SIGNCORE_EBADINPUT);
	signcore_free(out);
	free(bytes);
}
END_TEST

START_TEST(doc_repaired_files_are_rewritten)
{
	static const char *const damaged[] = { "broken-xref.pdf", "bad-startxref.pdf" };
	size_t i;

	for (i = 0; i < 2; i++) {
		signcore_doc *doc = open_ok(fx(damaged[i]));
		ck_assert_int_eq(signcore_doc_page_count(doc), 3);
		place_text(doc, "r1");
		ck_assert_int_eq(signcore_doc_save(doc, tmp("rep.pdf"), NULL), SIGNCORE_OK);
		ck_assert_msg(signcore_doc_repaired(doc), "%s not reported as repaired", damaged[i]);
		signcore_doc_free(doc);
		doc = open_ok(tmp("rep.pdf"));
		ck_assert_int_eq(signcore_doc_repaired(doc), 0); /* the rewrite is clean */
		ck_assert_int_eq(signcore_doc_page_count(doc), 3);
		signcore_doc_free(doc);
	}
}
END_TEST

START_TEST(doc_encrypted_stays_encrypted)
{
	signcore_open_options oo = SIGNCORE_OPEN_OPTIONS_INIT;
	signcore_doc *doc = NULL;

	oo.password = "user-pw";
	ck_assert_int_eq(signcore_doc_open(ctx, &doc, fx("encrypted.pdf"), &oo), SIGNCORE_OK);
	ck_assert(signcore_doc_encrypted(doc));
	place_text(doc, "e1");
	ck_assert_int_eq(signcore_doc_save(doc, tmp("enc.pdf"), NULL), SIGNCORE_OK);
	signcore_doc_free(doc);
	doc = NULL;
	ck_assert_int_eq(signcore_doc_open(ctx, &doc, tmp("enc.pdf"), NULL), SIGNCORE_ENEEDPASS);
	ck_assert_int_eq(signcore_doc_open(ctx, &doc, tmp("enc.pdf"), &oo), SIGNCORE_OK);
	signcore_doc_free(doc);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("doc");
	TCase *tc = tcase_create("doc");

	tcase_add_checked_fixture(tc, setup, teardown);
	ADD(tc, doc_bad_inputs_get_specific_codes);
	ADD(tc, doc_encrypted_needs_the_right_password);
	ADD(tc, doc_page_sizes_are_as_displayed);
	ADD(tc, doc_save_is_incremental_by_default);
	ADD(tc, doc_full_rewrite_on_request);
	ADD(tc, doc_save_failure_leaves_nothing);
	ADD(tc, doc_save_over_the_input_is_atomic);
	ADD(tc, doc_memory_round_trip);
	ADD(tc, doc_repaired_files_are_rewritten);
	ADD(tc, doc_encrypted_stays_encrypted);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
