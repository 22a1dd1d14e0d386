/*
 * HTTP client for TSA, OCSP, CRL and certificate downloads (libcurl).
 * One easy handle per context keeps connections alive across a batch.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define HTTP_MAX_BODY (16u << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
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
		curl_easy_cleanup(ctx->curl);
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
	if (!ctx->curl && !(ctx->curl = curl_easy_init()))
		return signcore__err(ctx, SIGNCORE_ENOMEM, "cannot start the HTTP client");
	c = ctx->curl;
	curl_easy_reset(c);
	k.r = out;
	k.max = HTTP_MAX_BODY;
	k.too_big = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "signcore/" SIGNCORE_VERSION);
	if (userpwd) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	if (body) {
		snprintf(line, sizeof line, "Content-Type: %s", content_type);
		hdr = curl_slist_append(hdr, line);
		hdr = curl_slist_append(hdr, "Expect:");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	rc = curl_easy_perform(c);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		int code = k.too_big ? SIGNCORE_EBADINPUT : SIGNCORE_ENETWORK;
		signcore__http_free(out);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
		if (k.too_big)
			return signcore__err(ctx, code, "%s %s: the answer is larger than %u bytes", what, url, HTTP_MAX_BODY);
		return signcore__err(ctx, code, "%s %s is unreachable: %s", what, url,
			*errbuf ? errbuf : curl_easy_strerror(rc));
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	if (ct)
		snprintf(out->content_type, sizeof out->content_type, "%s", ct);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	if (out->status != 200) {
		long st = out->status;
		signcore__http_free(out);
		return signcore__err(ctx, SIGNCORE_ENETWORK, "%s %s answered HTTP %ld", what, url, st);
	}
	return SIGNCORE_OK;
}
