/*
 * HTTP client for TSA, OCSP, CRL and certificate downloads (libcurl).
 * One easy handle per context keeps connections alive across a batch.
 *
 * libcurl is loaded on first use with dlopen: linked directly, it and the
 * thirty libraries it pulls in (GnuTLS, Kerberos, LDAP, SSH, ...) cost
 * every process a few milliseconds of dynamic linking, more than a whole
 * B-B signature, although most runs never touch the network.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define HTTP_MAX_BODY (16u << 20)

static struct {
	int ok;
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} lc;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return;
#define SYM(field, name) *(void **)(&lc.field) = dlsym(h, name)
	SYM(global_init, "curl_global_init");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_reset, "curl_easy_reset");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
	lc.ok = lc.global_init && lc.easy_init && lc.easy_cleanup && lc.easy_reset && lc.easy_setopt &&
		lc.easy_perform && lc.easy_getinfo && lc.easy_strerror && lc.slist_append && lc.slist_free_all &&
		lc.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

typedef struct {
	sc_http_resp *r;
	size_t max;
	int too_big;
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	sink *k = ud;
	size_t n = size * nmemb;
	unsigned char *p;

	if (k->r->len + n > k->max) {
		k->too_big = 1;
		return 0;
	}
	p = realloc(k->r->data, k->r->len + n + 1);
	if (!p)
		return 0;
	memcpy(p + k->r->len, ptr, n);
	k->r->data = p;
	k->r->len += n;
	p[k->r->len] = 0;
	return n;
}

void signcore__http_free(sc_http_resp *r)
{
	free(r->data);
	memset(r, 0, sizeof *r);
}

void signcore__http_cleanup(signcore_ctx *ctx)
{
	if (ctx->curl)
		lc.easy_cleanup(ctx->curl);
	ctx->curl = NULL;
}

int signcore__http(signcore_ctx *ctx, const char *what, const char *url, const char *content_type,
	const void *body, size_t body_len, const char *userpwd, sc_http_resp *out)
{
	CURL *c;
	CURLcode rc;
	struct curl_slist *hdr = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	char line[160];
	sink k;
	char *ct = NULL;

	memset(out, 0, sizeof *out);
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return signcore__err(ctx, SIGNCORE_EINVAL, "%s %s: only http:// and https:// URLs are supported", what, url);
	pthread_once(&curl_once, curl_init_once);
	if (!lc.ok)
		return signcore__err(ctx, SIGNCORE_EUNSUPPORTED,
			"%s %s: the HTTP client (libcurl.so.4) cannot be loaded: install libcurl4", what, url);
	if (!ctx->curl && !(ctx->curl = lc.easy_init()))
		return signcore__err(ctx, SIGNCORE_ENOMEM, "cannot start the HTTP client");
	c = ctx->curl;
	lc.easy_reset(c);
	k.r = out;
	k.max = HTTP_MAX_BODY;
	k.too_big = 0;
	lc.easy_setopt(c, CURLOPT_URL, url);
	lc.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	lc.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	lc.easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	lc.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	lc.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	lc.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	lc.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	lc.easy_setopt(c, CURLOPT_WRITEDATA, &k);
	lc.easy_setopt(c, CURLOPT_USERAGENT, "signcore/" SIGNCORE_VERSION);
	if (userpwd) {
		lc.easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		lc.easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	if (body) {
		snprintf(line, sizeof line, "Content-Type: %s", content_type);
		hdr = lc.slist_append(hdr, line);
		hdr = lc.slist_append(hdr, "Expect:");
		lc.easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		lc.easy_setopt(c, CURLOPT_POST, 1L);
		lc.easy_setopt(c, CURLOPT_POSTFIELDS, body);
		lc.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	rc = lc.easy_perform(c);
	lc.slist_free_all(hdr);
	if (rc != CURLE_OK) {
		int code = k.too_big ? SIGNCORE_EBADINPUT : SIGNCORE_ENETWORK;
		signcore__http_free(out);
		lc.easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
		if (k.too_big)
			return signcore__err(ctx, code, "%s %s: the answer is larger than %u bytes", what, url, HTTP_MAX_BODY);
		return signcore__err(ctx, code, "%s %s is unreachable: %s", what, url,
			*errbuf ? errbuf : lc.easy_strerror(rc));
	}
	lc.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	lc.easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	if (ct)
		snprintf(out->content_type, sizeof out->content_type, "%s", ct);
	lc.easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	if (out->status != 200) {
		long st = out->status;
		signcore__http_free(out);
		return signcore__err(ctx, SIGNCORE_ENETWORK, "%s %s answered HTTP %ld", what, url, st);
	}
	return SIGNCORE_OK;
}
