/* Credentials, signing, certification and external signing through the
 * public API. The end-to-end suite (tests/e2e/sign.sh) judges the results
 * with pdfsig and openssl; these tests pin the API's codes and messages.
 * SPDX-License-Identifier: AGPL-3.0-or-later */
#define _GNU_SOURCE
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <sched.h>

/* A self-signed RSA signer valid from FROM_DAYS to TO_DAYS around now,
 * written as NAME.key, NAME.crt and NAME.p12 (password "pw"). */
static void make_creds(const char *name, long from_days, long to_days, const char *key_usage)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	PKCS12 *p12;
	char path[1100];
	FILE *f;

	ck_assert_ptr_nonnull(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400L);
	X509_gmtime_adj(X509_getm_notAfter(x), to_days * 86400L);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"Unit Signer", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, key_usage);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);

	snprintf(path, sizeof path, "%s/%s.key", tmpdir, name);
	f = fopen(path, "w");
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	snprintf(path, sizeof path, "%s/%s.crt", tmpdir, name);
	f = fopen(path, "w");
	PEM_write_X509(f, x);
	fclose(f);
	p12 = PKCS12_create("pw", "unit", key, x, NULL, 0, 0, 0, 0, 0);
	ck_assert_ptr_nonnull(p12);
	snprintf(path, sizeof path, "%s/%s.p12", tmpdir, name);
	f = fopen(path, "wb");
	i2d_PKCS12_fp(f, p12);
	fclose(f);
	PKCS12_free(p12);
	X509_free(x);
	EVP_PKEY_free(key);
}

static signcore_signer *load_good(void)
{
	signcore_signer *s = NULL;

	make_creds("good", -1, 365, "critical,digitalSignature,nonRepudiation");
	ck_assert_int_eq(signcore_signer_load_p12(ctx, &s, tmp("good.p12"), "pw"), SIGNCORE_OK);
	return s;
}

/* 1 if the field NAME of PATH holds a signature. */
static int field_signed(const char *path, const char *name)
{
	signcore_doc *doc = open_ok(path);
	signcore_field_info *fi = NULL;
	size_t n = 0, i;
	int found = 0;

	ck_assert_int_eq(signcore_doc_fields(doc, &fi, &n), SIGNCORE_OK);
	for (i = 0; i < n; i++)
		if (!strcmp(fi[i].name, name))
			found = fi[i].is_signed ? 1 : -1;
	signcore_field_info_free(fi, n);
	signcore_doc_free(doc);
	return found;
}

START_TEST(signer_load_errors_are_specific)
{
	signcore_signer *s = NULL;

	make_creds("a", -1, 365, "critical,digitalSignature");
	make_creds("b", -1, 365, "critical,digitalSignature");
	ck_assert_int_eq(signcore_signer_load_p12(ctx, &s, tmp("none.p12"), "pw"), SIGNCORE_ENOTFOUND);
	ck_assert_int_eq(signcore_signer_load_p12(ctx, &s, fx("plain.pdf"), "pw"), SIGNCORE_EBADINPUT);
	ck_assert(contains(signcore_ctx_last_error(ctx), "PKCS#12"));
	ck_assert_int_eq(signcore_signer_load_p12(ctx, &s, tmp("a.p12"), "nope"), SIGNCORE_EPASSWORD);
	ck_assert(contains(signcore_ctx_last_error(ctx), "wrong password"));
	ck_assert_int_eq(signcore_signer_load_p12(ctx, &s, tmp("a.p12"), NULL), SIGNCORE_ENEEDPASS);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(signcore_signer_load_pem(ctx, &s, tmp("a.key"), NULL, tmp("b.crt"), NULL), SIGNCORE_ECRYPTO);
	ck_assert(contains(signcore_ctx_last_error(ctx), "does not match"));
	ck_assert_int_eq(signcore_signer_load_pem(ctx, &s, tmp("a.key"), NULL, tmp("a.crt"), NULL), SIGNCORE_OK);
	ck_assert_str_eq(signcore_signer_name(s), "Unit Signer");
	signcore_signer_free(s);
}
END_TEST

START_TEST(sign_appends_and_refuses_a_second_signature_in_the_field)
{
	signcore_signer *s = load_good();
	signcore_sign_options o = SIGNCORE_SIGN_OPTIONS_INIT;
	signcore_doc *doc = open_ok(fx("plain.pdf"));
	unsigned char *in, *out;
	size_t inlen, outlen;

	o.reason = "Unit test";
	ck_assert_msg(signcore_sign(doc, s, tmp("signed.pdf"), &o) == SIGNCORE_OK, "%s", signcore_ctx_last_error(ctx));
	signcore_doc_free(doc);
	in = slurp(fx("plain.pdf"), &inlen);
	out = slurp(tmp("signed.pdf"), &outlen);
	ck_assert(outlen > inlen && !memcmp(in, out, inlen)); /* an incremental update */
	ck_assert(memmem(out + inlen, outlen - inlen, "/ETSI.CAdES.detached", 20) != NULL);
	free(in);
	free(out);
	ck_assert_int_eq(field_signed(tmp("signed.pdf"), "Signature1"), 1);

	doc = open_ok(tmp("signed.pdf"));
	o.field = "Signature1";
	ck_assert_int_eq(signcore_sign(doc, s, tmp("again.pdf"), &o), SIGNCORE_ESIGNED);
	ck_assert(contains(signcore_ctx_last_error(ctx), "already signed"));
	ck_assert_int_eq(access(tmp("again.pdf"), F_OK), -1);
	signcore_doc_free(doc);
	ck_assert_int_eq(dir_entries(tmpdir), 4); /* good.{key,crt,p12}, signed.pdf, nothing else */
	signcore_signer_free(s);
}
END_TEST

START_TEST(sign_checks_the_certificate)
{
	signcore_signer *s = NULL;
	signcore_doc *doc = open_ok(fx("plain.pdf"));

	make_creds("old", -400, -30, "critical,digitalSignature");
	make_creds("enc", -1, 365, "critical,keyEncipherment");
	ck_assert_int_eq(signcore_signer_load_pem(ctx, &s, tmp("old.key"), NULL, tmp("old.crt"), NULL), SIGNCORE_OK);
	ck_assert_int_eq(signcore_sign(doc, s, tmp("x.pdf"), NULL), SIGNCORE_ECRYPTO);
	ck_assert(contains(signcore_ctx_last_error(ctx), "expired"));
	signcore_signer_free(s);
	ck_assert_int_eq(signcore_signer_load_pem(ctx, &s, tmp("enc.key"), NULL, tmp("enc.crt"), NULL), SIGNCORE_OK);
	ck_assert_int_eq(signcore_sign(doc, s, tmp("x.pdf"), NULL), SIGNCORE_ECRYPTO);
	ck_assert(contains(signcore_ctx_last_error(ctx), "key usage"));
	ck_assert_int_eq(access(tmp("x.pdf"), F_OK), -1);
	signcore_signer_free(s);
	signcore_doc_free(doc);
}
END_TEST

START_TEST(sign_bt_needs_a_tsa_and_a_field_must_be_a_signature_field)
{
	signcore_signer *s = load_good();
	signcore_sign_options o = SIGNCORE_SIGN_OPTIONS_INIT;
	signcore_doc *doc = open_ok(fx("form.pdf"));

	o.level = SIGNCORE_LEVEL_B_T;
	ck_assert_int_eq(signcore_sign(doc, s, tmp("x.pdf"), &o), SIGNCORE_EINVAL);
	ck_assert(contains(signcore_ctx_last_error(ctx), "time-stamp authority"));
	o.level = SIGNCORE_LEVEL_B_B;
	o.field = "existing_name";
	ck_assert_int_eq(signcore_sign(doc, s, tmp("x.pdf"), &o), SIGNCORE_EBADINPUT);
	ck_assert(contains(signcore_ctx_last_error(ctx), "not a signature field"));
	ck_assert_int_eq(access(tmp("x.pdf"), F_OK), -1);
	signcore_doc_free(doc);
	signcore_signer_free(s);
}
END_TEST

START_TEST(certified_without_changes_cannot_be_signed_again)
{
	signcore_signer *s = load_good();
	signcore_sign_options o = SIGNCORE_SIGN_OPTIONS_INIT;
	signcore_doc *doc = open_ok(fx("plain.pdf"));

	o.certify = SIGNCORE_CERTIFY_NO_CHANGES;
	ck_assert_int_eq(signcore_sign(doc, s, tmp("cert.pdf"), &o), SIGNCORE_OK);
	signcore_doc_free(doc);
	doc = open_ok(tmp("cert.pdf"));
	o.certify = SIGNCORE_CERTIFY_NONE;
	ck_assert_int_eq(signcore_sign(doc, s, tmp("x.pdf"), &o), SIGNCORE_ESIGNED);
	ck_assert(contains(signcore_ctx_last_error(ctx), "P=1"));
	signcore_doc_free(doc);
	signcore_signer_free(s);
}
END_TEST

START_TEST(external_signing_round_trip)
{
	signcore_signer *cert = NULL;
	signcore_sign_options o = SIGNCORE_SIGN_OPTIONS_INIT;
	signcore_doc *doc = open_ok(fx("plain.pdf"));
	unsigned char digest[64], sig[512];
	size_t dlen = sizeof digest, siglen = sizeof sig;
	EVP_PKEY *key;
	EVP_PKEY_CTX *pc;
	FILE *f;

	make_creds("ext", -1, 365, "critical,nonRepudiation");
	ck_assert_int_eq(signcore_signer_load_cert(ctx, &cert, tmp("ext.crt"), NULL), SIGNCORE_OK);
	/* A certificate alone cannot sign in one step. */
	ck_assert_int_eq(signcore_sign(doc, cert, tmp("x.pdf"), &o), SIGNCORE_EINVAL);
	ck_assert_int_eq(signcore_sign_prepare(doc, cert, tmp("doc.pending"), &o, SIGNCORE_HASH_SIGNED_ATTRS,
		digest, &dlen), SIGNCORE_OK);
	ck_assert_uint_eq(dlen, 32);
	signcore_doc_free(doc);

	/* The "remote" key signs the hash. */
	f = fopen(tmp("ext.key"), "r");
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	pc = EVP_PKEY_CTX_new(key, NULL);
	EVP_PKEY_sign_init(pc);
	EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING);
	EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256());
	ck_assert_int_eq(EVP_PKEY_sign(pc, sig, &siglen, digest, dlen), 1);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(key);

	sig[10] ^= 1; /* a damaged signature is refused */
	ck_assert_int_eq(signcore_sign_embed(ctx, tmp("doc.pending"), sig, siglen, NULL, tmp("out.pdf"), &o),
		SIGNCORE_ECRYPTO);
	ck_assert_int_eq(access(tmp("out.pdf"), F_OK), -1);
	sig[10] ^= 1;
	ck_assert_msg(signcore_sign_embed(ctx, tmp("doc.pending"), sig, siglen, cert, tmp("out.pdf"), &o) == SIGNCORE_OK,
		"%s", signcore_ctx_last_error(ctx));
	ck_assert_int_eq(field_signed(tmp("out.pdf"), "Signature1"), 1);
	/* The pending file is not a PDF and is not accepted twice as input. */
	ck_assert_int_eq(signcore_sign_embed(ctx, tmp("out.pdf"), sig, siglen, NULL, tmp("y.pdf"), &o),
		SIGNCORE_EBADINPUT);
	signcore_signer_free(cert);
}
END_TEST

/* Verification through the public API: a report, not an error, for a
 * failed signature; error codes only for input that cannot be read. */
static signcore_report *verify_ok(const char *path, const char *trust)
{
	signcore_verify_options vo = SIGNCORE_VERIFY_OPTIONS_INIT;
	signcore_report *rep = NULL;
	const char *anchors[1];

	anchors[0] = trust;
	vo.trust_files = anchors;
	vo.trust_count = trust ? 1 : 0;
	ck_assert_msg(signcore_verify(ctx, path, &vo, &rep) == SIGNCORE_OK, "%s", signcore_ctx_last_error(ctx));
	ck_assert_ptr_nonnull(rep);
	return rep;
}

START_TEST(verify_reports_valid_tampered_and_unsigned)
{
	signcore_signer *s = load_good();
	signcore_sign_options o = SIGNCORE_SIGN_OPTIONS_INIT;
	signcore_verify_options vo = SIGNCORE_VERIFY_OPTIONS_INIT;
	signcore_doc *doc = open_ok(fx("plain.pdf"));
	const signcore_sig_report *r;
	signcore_report *rep = NULL;
	unsigned char *data;
	char *json = NULL, *p;
	size_t len;
	FILE *f;

	o.reason = "Unit test";
	o.location = "Pune";
	ck_assert_msg(signcore_sign(doc, s, tmp("signed.pdf"), &o) == SIGNCORE_OK, "%s", signcore_ctx_last_error(ctx));
	signcore_doc_free(doc);

	rep = verify_ok(tmp("signed.pdf"), tmp("good.crt"));
	ck_assert_int_eq(signcore_report_verdict(rep), SIGNCORE_VERDICT_VALID);
	ck_assert_uint_eq(signcore_report_count(rep), 1);
	r = signcore_report_signature(rep, 0);
	ck_assert_int_eq(r->kind, SIGNCORE_SIGKIND_APPROVAL);
	ck_assert_str_eq(r->field, "Signature1");
	ck_assert_str_eq(r->subfilter, "ETSI.CAdES.detached");
	ck_assert_str_eq(r->reason, "Unit test");
	ck_assert_str_eq(r->location, "Pune");
	ck_assert_str_eq(r->signer, "CN=Unit Signer");
	ck_assert_str_eq(r->serial, "2A");
	ck_assert_int_eq(r->integrity, SIGNCORE_CHECK_OK);
	ck_assert_int_eq(r->trust, SIGNCORE_CHECK_OK);
	ck_assert_int_eq(r->changes, SIGNCORE_CHANGES_NONE);
	ck_assert(r->whole_file && r->valid);
	ck_assert_str_eq(r->level, "B-B");
	ck_assert_ptr_null(signcore_report_signature(rep, 1));
	ck_assert_int_eq(signcore_report_json(rep, &json), SIGNCORE_OK);
	ck_assert(contains(json, "\"verdict\": \"valid\"") && contains(json, "\"level\": \"B-B\""));
	signcore_free(json);
	signcore_report_free(rep);

	/* Without a trust anchor: intact but untrusted. */
	rep = verify_ok(tmp("signed.pdf"), NULL);
	r = signcore_report_signature(rep, 0);
	ck_assert_int_eq(signcore_report_verdict(rep), SIGNCORE_VERDICT_INVALID);
	ck_assert_int_eq(r->integrity, SIGNCORE_CHECK_OK);
	ck_assert_int_eq(r->trust, SIGNCORE_CHECK_FAILED);
	ck_assert(contains(signcore_report_reason(rep), "UNTRUSTED"));
	signcore_report_free(rep);

	/* One byte of the signed data changed, verified from memory. */
	data = slurp(tmp("signed.pdf"), &len);
	p = memmem(data, len, "/M(D:", 5);
	ck_assert_ptr_nonnull(p);
	p[5] = p[5] == '1' ? '2' : '1';
	ck_assert_int_eq(signcore_verify_memory(ctx, data, len, &vo, &rep), SIGNCORE_OK);
	r = signcore_report_signature(rep, 0);
	ck_assert_int_eq(r->integrity, SIGNCORE_CHECK_FAILED);
	ck_assert(contains(r->integrity_detail, "digest does not match"));
	ck_assert(!r->valid);
	signcore_report_free(rep);
	free(data);

	/* Unsigned: a report saying so. Not a PDF, no password: errors. */
	rep = verify_ok(fx("plain.pdf"), NULL);
	ck_assert_int_eq(signcore_report_verdict(rep), SIGNCORE_VERDICT_INVALID);
	ck_assert_uint_eq(signcore_report_count(rep), 0);
	ck_assert(contains(signcore_report_reason(rep), "no signatures"));
	signcore_report_free(rep);
	ck_assert_int_eq(signcore_verify(ctx, fx("notapdf.pdf"), &vo, &rep), SIGNCORE_EBADINPUT);
	ck_assert_ptr_null(rep);
	ck_assert_int_eq(signcore_verify(ctx, fx("encrypted.pdf"), &vo, &rep), SIGNCORE_ENEEDPASS);
	vo.password = "wrong";
	ck_assert_int_eq(signcore_verify(ctx, fx("encrypted.pdf"), &vo, &rep), SIGNCORE_EPASSWORD);
	ck_assert_int_eq(signcore_verify(ctx, tmp("missing.pdf"), &vo, &rep), SIGNCORE_ENOTFOUND);
	vo.password = NULL;
	vo.trust_files = (const char *const[]){ fx("plain.pdf") };
	vo.trust_count = 1;
	ck_assert_int_eq(signcore_verify(ctx, tmp("signed.pdf"), &vo, &rep), SIGNCORE_EBADINPUT);
	ck_assert(contains(signcore_ctx_last_error(ctx), "trust anchors"));
	f = fopen(tmp("empty.pdf"), "wb");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	vo.trust_count = 0;
	ck_assert_int_eq(signcore_verify(ctx, tmp("empty.pdf"), &vo, &rep), SIGNCORE_EBADINPUT);
	signcore_signer_free(s);
}
END_TEST

/* One signer shared by several threads, each with its own context, stamping
 * and signing documents at the same time (what signcore batch does): every
 * output must verify, and the signer must be unchanged afterwards. */
#define THREADS 4
#define DOCS_PER_THREAD 6
typedef struct {
	const signcore_signer *signer;
	char in[1024], spec[1024], out[DOCS_PER_THREAD][1100];
	int failures;
	char why[512];
} thread_job;

static void *sign_in_thread(void *arg)
{
	thread_job *t = arg;
	signcore_ctx *c = NULL;
	int i;

	if (signcore_ctx_new(&c)) {
		t->failures++;
		return NULL;
	}
	for (i = 0; i < DOCS_PER_THREAD; i++) {
		signcore_sign_options o = SIGNCORE_SIGN_OPTIONS_INIT;
		signcore_doc *doc = NULL;
		signcore_spec *spec = NULL;
		int code;
		o.page = 1;
		o.rect[0] = 300, o.rect[1] = 40, o.rect[2] = 200, o.rect[3] = 60;
		o.reason = "threads";
		if ((code = signcore_spec_parse(c, &spec, t->spec, strlen(t->spec), ".")) ||
		    (code = signcore_doc_open(c, &doc, t->in, NULL)) || (code = signcore_spec_stamp(doc, spec)) ||
		    (code = signcore_sign(doc, t->signer, t->out[i], &o))) {
			t->failures++;
			snprintf(t->why, sizeof t->why, "%s", signcore_ctx_last_error(c));
		}
		signcore_spec_free(spec);
		signcore_doc_free(doc);
	}
	signcore_ctx_free(c);
	return NULL;
}

START_TEST(signer_is_shared_by_threads)
{
	signcore_signer *s = load_good();
	thread_job jobs[THREADS];
	pthread_t tid[THREADS];
	char name_before[256];
	int t, i;

	snprintf(name_before, sizeof name_before, "%s", signcore_signer_name(s));
	for (t = 0; t < THREADS; t++) {
		memset(&jobs[t], 0, sizeof jobs[t]);
		jobs[t].signer = s;
		snprintf(jobs[t].in, sizeof jobs[t].in, "%s", fx("plain.pdf"));
		snprintf(jobs[t].spec, sizeof jobs[t].spec,
			"{\"fields\": [{\"name\": \"who\", \"type\": \"text\", \"page\": 1, "
			"\"rect\": [72, 72, 250, 24], \"value\": \"thread %d\"}]}", t);
		for (i = 0; i < DOCS_PER_THREAD; i++)
			snprintf(jobs[t].out[i], sizeof jobs[t].out[i], "%s/t%d-%d.pdf", tmpdir, t, i);
	}
	for (t = 0; t < THREADS; t++)
		ck_assert_int_eq(pthread_create(&tid[t], NULL, sign_in_thread, &jobs[t]), 0);
	for (t = 0; t < THREADS; t++)
		pthread_join(tid[t], NULL);
	for (t = 0; t < THREADS; t++) {
		ck_assert_msg(jobs[t].failures == 0, "thread %d: %d failures: %s", t, jobs[t].failures, jobs[t].why);
		for (i = 0; i < DOCS_PER_THREAD; i++) {
			signcore_report *rep = verify_ok(jobs[t].out[i], tmp("good.crt"));
			ck_assert_msg(signcore_report_verdict(rep) == SIGNCORE_VERDICT_VALID, "%s: %s", jobs[t].out[i],
				signcore_report_reason(rep));
			ck_assert_str_eq(signcore_report_signature(rep, 0)->reason, "threads");
			signcore_report_free(rep);
		}
	}
	ck_assert_str_eq(signcore_signer_name(s), name_before);
	signcore_signer_free(s);
}
END_TEST

/* Threads of this process, from /proc/self/task. */
static int thread_count(void)
{
	return dir_entries("/proc/self/task");
}

/* Visible, so that the first signature of the process has an appearance
 * to lay out while OpenSSL is set up on another CPU. */
static void sign_first_and_check(void)
{
	signcore_signer *s = load_good();
	signcore_sign_options o = SIGNCORE_SIGN_OPTIONS_INIT;
	signcore_doc *doc;
	signcore_report *rep;
	int before = thread_count(), i;

	o.page = 1;
	o.rect[0] = 300, o.rect[1] = 40, o.rect[2] = 200, o.rect[3] = 60;
	o.reason = "first";
	for (i = 0; i < 2; i++) {
		char out[32];
		snprintf(out, sizeof out, "first%d.pdf", i);
		doc = open_ok(fx("plain.pdf"));
		ck_assert_msg(signcore_sign(doc, s, tmp(out), &o) == SIGNCORE_OK, "%s", signcore_ctx_last_error(ctx));
		signcore_doc_free(doc);
		/* No thread outlives the call. */
		ck_assert_int_eq(thread_count(), before);
		rep = verify_ok(tmp(out), tmp("good.crt"));
		ck_assert_msg(signcore_report_verdict(rep) == SIGNCORE_VERDICT_VALID, "%s", signcore_report_reason(rep));
		signcore_report_free(rep);
	}
	signcore_signer_free(s);
}

/* Each test runs in a process of its own, so this is its first signature. */
START_TEST(first_signature_of_a_process)
{
	sign_first_and_check();
}
END_TEST

/* The text block's face is cut on another CPU while the graphic is made;
 * a graphic that fails leaves that cut untaken. */
START_TEST(first_signature_of_a_process_that_fails)
{
	signcore_signer *s = load_good();
	signcore_sign_options o = SIGNCORE_SIGN_OPTIONS_INIT;
	signcore_sig_appearance ap = SIGNCORE_SIG_APPEARANCE_INIT;
	signcore_doc *doc = open_ok(fx("plain.pdf"));
	int before = thread_count();

	ap.image = "not an image at all";
	ap.image_len = strlen(ap.image);
	o.appearance = &ap;
	o.page = 1;
	o.rect[0] = 300, o.rect[1] = 40, o.rect[2] = 200, o.rect[3] = 60;
	ck_assert_int_ne(signcore_sign(doc, s, tmp("bad.pdf"), &o), SIGNCORE_OK);
	ck_assert_int_eq(access(tmp("bad.pdf"), F_OK), -1);
	ck_assert_int_eq(thread_count(), before);
	signcore_doc_free(doc);
	signcore_signer_free(s);
	sign_first_and_check();
}
END_TEST

START_TEST(first_signature_of_a_process_on_one_cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
	sign_first_and_check();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sign");
	TCase *tc = tcase_create("sign");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	ADD(tc, signer_load_errors_are_specific);
	ADD(tc, sign_appends_and_refuses_a_second_signature_in_the_field);
	ADD(tc, sign_checks_the_certificate);
	ADD(tc, sign_bt_needs_a_tsa_and_a_field_must_be_a_signature_field);
	ADD(tc, certified_without_changes_cannot_be_signed_again);
	ADD(tc, external_signing_round_trip);
	ADD(tc, verify_reports_valid_tampered_and_unsigned);
	ADD(tc, signer_is_shared_by_threads);
	ADD(tc, first_signature_of_a_process);
	ADD(tc, first_signature_of_a_process_that_fails);
	ADD(tc, first_signature_of_a_process_on_one_cpu);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
