/*
 * The PDF engine: libsigncore, loaded with dlopen by the requests that do
 * PDF work (uploads, page images, completion, audit downloads). Linked
 * directly, its ~44 MB (MuPDF and its fonts) would be mapped and relocated
 * on every exec of the CGI, tripling the cost of requests that only read
 * the database.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"
#include "signcore.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define FN(name) __typeof__(name) *name
struct api_engine {
	void *handle;
	signcore_ctx *ctx;
	signcore_signer *seal;
	FN(signcore_ctx_new);
	FN(signcore_ctx_free);
	FN(signcore_ctx_last_error);
	FN(signcore_ctx_set_font_dir);
	FN(signcore_strerror);
	FN(signcore_free);
	FN(signcore_doc_open_memory);
	FN(signcore_doc_new);
	FN(signcore_doc_free);
	FN(signcore_doc_page_count);
	FN(signcore_doc_page_size);
	FN(signcore_doc_save_memory);
	FN(signcore_spec_parse);
	FN(signcore_spec_free);
	FN(signcore_spec_stamp);
	FN(signcore_audit_append);
	FN(signcore_signer_load_p12);
	FN(signcore_signer_free);
	FN(signcore_sign);
	FN(signcore_page_render_png);
	FN(signcore_image_to_pdf);
};
#undef FN

static api_engine *engine;

static const char *library_path(api_conf *conf)
{
	const char *env = getenv("SIGNCORE_LIBRARY");
	if (conf->library)
		return conf->library;
	if (env && *env)
		return env;
	return SIGNCORE_LIBDIR "/libsigncore.so.0";
}

api_engine *api_engine_get(api_req *r)
{
	const char *path = library_path(r->conf);
	api_engine *e;

	if (engine)
		return engine;
	if (!(e = calloc(1, sizeof *e))) {
		api_fail(r, 500, "internal", "out of memory");
		return NULL;
	}
	if (!(e->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
		free(e);
		api_fail(r, 500, "engine_unavailable", "the PDF engine could not be loaded: %s", dlerror());
		return NULL;
	}
#define SYM(name) \
	if (!(*(void **)(&e->name) = dlsym(e->handle, #name))) \
		goto missing;
	SYM(signcore_ctx_new)
	SYM(signcore_ctx_free)
	SYM(signcore_ctx_last_error)
	SYM(signcore_strerror)
	SYM(signcore_free)
	SYM(signcore_doc_open_memory)
	SYM(signcore_doc_new)
	SYM(signcore_doc_free)
	SYM(signcore_doc_page_count)
	SYM(signcore_doc_page_size)
	SYM(signcore_doc_save_memory)
	SYM(signcore_spec_parse)
	SYM(signcore_spec_free)
	SYM(signcore_spec_stamp)
	SYM(signcore_audit_append)
	SYM(signcore_signer_load_p12)
	SYM(signcore_signer_free)
	SYM(signcore_sign)
	SYM(signcore_page_render_png)
	SYM(signcore_image_to_pdf)
#undef SYM
	if (!(*(void **)(&e->signcore_ctx_set_font_dir) = dlsym(e->handle, "signcore_ctx_set_font_dir")))
		goto missing;
	if (e->signcore_ctx_new(&e->ctx)) {
		dlclose(e->handle);
		free(e);
		api_fail(r, 500, "engine_unavailable", "the PDF engine could not start");
		return NULL;
	}
	if (r->conf->font_dir && e->signcore_ctx_set_font_dir(e->ctx, r->conf->font_dir)) {
		api_fail(r, 500, "engine_unavailable", "[server] font_dir %s: %s", r->conf->font_dir,
			e->signcore_ctx_last_error(e->ctx));
		e->signcore_ctx_free(e->ctx);
		dlclose(e->handle);
		free(e);
		return NULL;
	}
	return engine = e;
missing:
	api_fail(r, 500, "engine_unavailable", "%s is not the libsigncore this program needs: %s", path, dlerror());
	dlclose(e->handle);
	free(e);
	return NULL;
}

static const char *msg(api_engine *e, int code)
{
	const char *m = e->signcore_ctx_last_error(e->ctx);
	return m && *m ? m : e->signcore_strerror(code);
}

int api_engine_inspect(api_req *r, api_engine *e, const unsigned char *data, size_t len, const char *type,
	int *pages, json_t **sizes, unsigned char **pdf, size_t *pdf_len)
{
	signcore_doc *doc = NULL;
	unsigned char *conv = NULL;
	size_t conv_len = 0;
	int code, i, n;

	*pdf = NULL;
	*sizes = NULL;
	if (strcasecmp(type, "application/pdf")) {
		if ((code = e->signcore_image_to_pdf(e->ctx, data, len, &conv, &conv_len)))
			return api_fail(r, 422, "invalid_image", "the image could not be read: %s", msg(e, code));
		data = conv;
		len = conv_len;
	}
	if ((code = e->signcore_doc_open_memory(e->ctx, &doc, data, len, NULL))) {
		if (conv)
			e->signcore_free(conv);
		if (code == SIGNCORE_ENEEDPASS || code == SIGNCORE_EPASSWORD)
			return api_fail(r, 422, "encrypted_pdf", "the PDF needs a password to open; upload it without one");
		return api_fail(r, 422, "invalid_pdf", "the file is not a readable PDF: %s", msg(e, code));
	}
	n = e->signcore_doc_page_count(doc);
	if (n < 1) {
		e->signcore_doc_free(doc);
		if (conv)
			e->signcore_free(conv);
		return api_fail(r, 422, "invalid_pdf", "the PDF has no pages");
	}
	*sizes = json_array();
	for (i = 1; i <= n; i++) {
		double w = 0, h = 0;
		if ((code = e->signcore_doc_page_size(doc, i, &w, &h, NULL))) {
			json_decref(*sizes);
			*sizes = NULL;
			e->signcore_doc_free(doc);
			if (conv)
				e->signcore_free(conv);
			return api_fail(r, 422, "invalid_pdf", "page %d of the PDF is damaged: %s", i, msg(e, code));
		}
		json_array_append_new(*sizes, json_pack("[f,f]", w, h));
	}
	e->signcore_doc_free(doc);
	*pages = n;
	if (conv) {
		/* the caller frees with free() */
		if ((*pdf = malloc(conv_len)))
			memcpy(*pdf, conv, conv_len);
		*pdf_len = conv_len;
		e->signcore_free(conv);
		if (!*pdf) {
			json_decref(*sizes);
			*sizes = NULL;
			return api_fail(r, 500, "internal", "out of memory");
		}
	}
	return 0;
}

int api_engine_render(api_req *r, api_engine *e, const unsigned char *pdf, size_t len, int page, double dpi,
	unsigned char **png, size_t *png_len)
{
	signcore_doc *doc = NULL;
	unsigned char *out = NULL;
	size_t n = 0;
	int code;

	*png = NULL;
	if ((code = e->signcore_doc_open_memory(e->ctx, &doc, pdf, len, NULL)))
		return api_fail(r, 500, "render_failed", "the stored PDF could not be opened: %s", msg(e, code));
	code = e->signcore_page_render_png(doc, page, dpi, &out, &n);
	e->signcore_doc_free(doc);
	if (code)
		return api_fail(r, code == SIGNCORE_ERANGE ? 400 : 500, "render_failed", "page %d: %s", page, msg(e, code));
	if ((*png = malloc(n)))
		memcpy(*png, out, n);
	*png_len = n;
	e->signcore_free(out);
	return *png ? 0 : api_fail(r, 500, "internal", "out of memory");
}

static int fail(char *err, size_t errsz, const char *what, api_engine *e, int code)
{
	snprintf(err, errsz, "%s: %s", what, msg(e, code));
	return -1;
}

static int load_seal(api_conf *conf, api_engine *e, char *err, size_t errsz)
{
	char *p12 = NULL, *pwfile = NULL, *password = NULL;
	size_t len = 0;
	int code;

	if (e->seal)
		return 0;
	if (conf->seal_p12) {
		p12 = api_path(conf->data_dir, conf->seal_p12);
		if (conf->seal_password_file)
			pwfile = api_path(conf->data_dir, conf->seal_password_file);
	} else {
		/* the development seal signcore-admin init makes */
		p12 = api_path(conf->data_dir, "seal/dev-seal.p12");
		pwfile = api_path(conf->data_dir, "seal/dev-seal.pass");
		if (p12 && access(p12, R_OK)) {
			free(p12);
			free(pwfile);
			snprintf(err, errsz, "no sealing credential: set [seal] p12 in signcore.conf, or run signcore-admin init");
			return -1;
		}
	}
	if (pwfile) {
		if (!(password = (char *)api_read_file(pwfile, &len))) {
			snprintf(err, errsz, "[seal] password_file %s cannot be read",
				conf->seal_password_file ? conf->seal_password_file : "seal/dev-seal.pass");
			free(p12);
			free(pwfile);
			return -1;
		}
		while (len && (password[len - 1] == '\n' || password[len - 1] == '\r'))
			password[--len] = 0;
	}
	code = e->signcore_signer_load_p12(e->ctx, &e->seal, p12, password);
	if (password) {
		memset(password, 0, len);
		free(password);
	}
	free(p12);
	free(pwfile);
	if (code) {
		e->seal = NULL;
		return fail(err, errsz, "loading the sealing credential", e, code);
	}
	return 0;
}

int api_engine_complete(api_conf *conf, api_engine *e, const unsigned char *pdf, size_t len, const char *spec_text,
	const char *log, unsigned char **out, size_t *out_len, char *err, size_t errsz)
{
	signcore_sign_options so = SIGNCORE_SIGN_OPTIONS_INIT;
	signcore_audit_options ao = SIGNCORE_AUDIT_OPTIONS_INIT;
	signcore_doc *doc = NULL, *doc2 = NULL;
	signcore_spec *spec = NULL;
	unsigned char *mid = NULL;
	size_t mid_len = 0;
	char *tmp = NULL, *tmpdir = NULL;
	int code, fd, rc = -1;

	*out = NULL;
	if (load_seal(conf, e, err, errsz))
		return -1;
	if ((code = e->signcore_doc_open_memory(e->ctx, &doc, pdf, len, NULL)))
		return fail(err, errsz, "opening the original", e, code);
	if ((code = e->signcore_spec_parse(e->ctx, &spec, spec_text, strlen(spec_text), NULL))) {
		fail(err, errsz, "the field values", e, code);
		goto done;
	}
	if ((code = e->signcore_spec_stamp(doc, spec))) {
		fail(err, errsz, "filling and flattening the fields", e, code);
		goto done;
	}
	/* the audit trail states the hash of the bytes it follows: serialise first */
	if ((code = e->signcore_doc_save_memory(doc, &mid, &mid_len, NULL))) {
		fail(err, errsz, "saving the filled document", e, code);
		goto done;
	}
	if ((code = e->signcore_doc_open_memory(e->ctx, &doc2, mid, mid_len, NULL))) {
		fail(err, errsz, "reopening the filled document", e, code);
		goto done;
	}
	ao.paper = SIGNCORE_PAPER_MATCH;
	ao.events_name = "the document's event log";
	if ((code = e->signcore_audit_append(doc2, log, strlen(log), &ao))) {
		fail(err, errsz, "the audit trail", e, code);
		goto done;
	}
	so.level = SIGNCORE_LEVEL_B_B;
	if (conf->seal_level ? strcmp(conf->seal_level, "B-B") : conf->tsa_count > 0) {
		const char *lv = conf->seal_level ? conf->seal_level : "B-T";
		so.level = !strcmp(lv, "B-T") ? SIGNCORE_LEVEL_B_T : !strcmp(lv, "B-LT") ? SIGNCORE_LEVEL_B_LT :
			SIGNCORE_LEVEL_B_LTA;
		if (!conf->tsa_count) {
			snprintf(err, errsz, "[seal] level %s needs a time-stamp authority: set [seal] tsa", lv);
			goto done;
		}
	}
	so.tsa_urls = (const char *const *)conf->tsa;
	so.tsa_count = conf->tsa_count;
	so.trust_files = (const char *const *)conf->trust;
	so.trust_count = conf->trust_count;
	so.reason = conf->seal_reason ? conf->seal_reason : "Sealed on completion: every recipient has signed";
	tmpdir = api_path(conf->data_dir, "tmp");
	if (tmpdir) {
		size_t n = strlen(tmpdir) + 32;
		mkdir(tmpdir, 0750);
		if ((tmp = malloc(n))) {
			snprintf(tmp, n, "%s/seal-XXXXXX", tmpdir);
			if ((fd = mkstemp(tmp)) >= 0)
				close(fd);
			else {
				free(tmp);
				tmp = NULL;
			}
		}
	}
	if (!tmp) {
		snprintf(err, errsz, "no temporary file in the data directory");
		goto done;
	}
	if ((code = e->signcore_sign(doc2, e->seal, tmp, &so))) {
		fail(err, errsz, "sealing", e, code);
		goto done;
	}
	if (!(*out = api_read_file(tmp, out_len))) {
		snprintf(err, errsz, "reading the sealed file back");
		goto done;
	}
	rc = 0;
done:
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(tmpdir);
	if (mid)
		e->signcore_free(mid);
	e->signcore_spec_free(spec);
	e->signcore_doc_free(doc);
	e->signcore_doc_free(doc2);
	return rc;
}

int api_engine_audit(api_engine *e, const char *log, unsigned char **out, size_t *out_len, char *err, size_t errsz)
{
	signcore_audit_options ao = SIGNCORE_AUDIT_OPTIONS_INIT;
	signcore_save_options so = SIGNCORE_SAVE_OPTIONS_INIT;
	signcore_doc *doc = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	json_t *root = json_loads(log, 0, NULL);
	const char *orig = json_string_value(json_object_get(json_object_get(root, "document"), "original_sha256"));
	char before[65] = "";
	int code;

	*out = NULL;
	if (orig)
		snprintf(before, sizeof before, "%s", orig);
	json_decref(root);
	if ((code = e->signcore_doc_new(e->ctx, &doc)))
		return fail(err, errsz, "new document", e, code);
	ao.before_sha256 = before;
	ao.events_name = "the document's event log";
	so.full_rewrite = 1;
	if ((code = e->signcore_audit_append(doc, log, strlen(log), &ao)) ||
		(code = e->signcore_doc_save_memory(doc, &buf, &len, &so))) {
		e->signcore_doc_free(doc);
		return fail(err, errsz, "audit trail", e, code);
	}
	e->signcore_doc_free(doc);
	if ((*out = malloc(len)))
		memcpy(*out, buf, len);
	*out_len = len;
	e->signcore_free(buf);
	if (!*out) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}
