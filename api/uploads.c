/*
 * Uploads: a short-lived presigned URL the client PUTs the file to, or a
 * direct POST (raw body or multipart/form-data). A PDF must open and have
 * pages; a PNG or JPEG becomes a one-page PDF. Files are stored by their
 * SHA-256; the storageKey names the upload, never a path.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"
#include "doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int presign_mac(api_req *r, const char *key, long long expires, long long max, char hex[65])
{
	unsigned char secret[32], mac[32];
	char msg[160];

	if (api_secret(r->conf->data_dir, secret))
		return api_fail(r, 500, "not_configured", "the server's secret is missing: run signcore-admin init");
	snprintf(msg, sizeof msg, "PUT\n/v1/upload/%s\n%lld\n%lld", key, expires, max);
	api_hmac_sha256(secret, sizeof secret, msg, strlen(msg), mac);
	api_hex(hex, mac, 32);
	return 0;
}

static json_t *upload_json(api_req *r, const char *key)
{
	json_t *o = NULL;
	sqlite3_stmt *st = api_db_prepare(r->db, "SELECT id, status, sha256, size, pages, content_type, created_at,"
		" page_sizes FROM uploads WHERE id = ?", "s", key);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		o = json_pack("{s:s,s:s,s:o,s:o,s:o}", "storageKey", api_col_text(st, 0), "status", api_col_text(st, 1),
			"sha256", api_col_json_str(st, 2), "contentType", api_col_json_str(st, 5), "createdAt",
			api_time_json(sqlite3_column_int64(st, 6)));
		json_object_set_new(o, "size", sqlite3_column_type(st, 3) == SQLITE_NULL ? json_null() :
			json_integer(sqlite3_column_int64(st, 3)));
		json_object_set_new(o, "pages", sqlite3_column_type(st, 4) == SQLITE_NULL ? json_null() :
			json_integer(sqlite3_column_int(st, 4)));
		json_object_set_new(o, "pageSizes", api_col_text(st, 7) ? json_loads(api_col_text(st, 7), 0, NULL) :
			json_null());
	}
	sqlite3_finalize(st);
	return o;
}

int api_upload_presign(api_req *r)
{
	long long expires = api_now() + r->conf->upload_ttl, max = r->conf->max_upload;
	char key[40], mac[65], *url;
	const char *base = api_base_url(r);
	size_t n;
	int rc;

	api_new_id(key, sizeof key, "upl_");
	if (api_db_run(r->db, "INSERT INTO uploads (id, account_id, test, status, max_size, expires_at, created_at)"
		" VALUES (?, ?, ?, 'waiting', ?, ?, ?)", "ssiiii", key, r->account_id, (long long)r->test, max, expires,
		api_now()))
		return api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
	if (presign_mac(r, key, expires, max, mac))
		return -1;
	n = strlen(base) + 256;
	url = malloc(n);
	snprintf(url, n, "%s/v1/upload/%s?expires=%lld&max=%lld&signature=%s", base, key, expires, max, mac);
	rc = api_reply(r, 200, json_pack("{s:s,s:s,s:s,s:o,s:I,s:[s,s,s]}", "url", url, "method", "PUT", "storageKey",
		key, "expiresAt", api_time_json(expires), "maxBytes", (json_int_t)max, "contentTypes", "application/pdf",
		"image/png", "image/jpeg"), NULL);
	free(url);
	return rc;
}

static int media_type(api_req *r, const char *ct, char *out, size_t size)
{
	size_t n;

	if (!ct || !*ct)
		return api_fail(r, 415, "unsupported_media_type",
			"send the file as application/pdf, image/png or image/jpeg (no Content-Type given)");
	n = strcspn(ct, "; ");
	if (n >= size)
		n = size - 1;
	memcpy(out, ct, n);
	out[n] = 0;
	if (strcasecmp(out, "application/pdf") && strcasecmp(out, "image/png") && strcasecmp(out, "image/jpeg") &&
		strcasecmp(out, "image/jpg"))
		return api_fail(r, 415, "unsupported_media_type", "%s is not accepted: send application/pdf, image/png"
			" or image/jpeg", out);
	return 0;
}

/* Check the bytes, convert an image, store the blob, mark the upload ready. */
static int store_upload(api_req *r, const char *key, const unsigned char *data, size_t len, const char *type)
{
	unsigned char *pdf = NULL;
	size_t pdf_len = 0;
	json_t *sizes = NULL;
	char hex[65], *sizes_text;
	api_engine *e;
	int pages = 0;

	if (!len)
		return api_fail(r, 422, "empty_file", "the file is empty");
	if (!(e = api_engine_get(r)))
		return -1;
	if (api_engine_inspect(r, e, data, len, type, &pages, &sizes, &pdf, &pdf_len))
		return -1;
	if (pages > r->conf->max_pages) {
		json_decref(sizes);
		free(pdf);
		return api_fail(r, 422, "too_many_pages", "the PDF has %d pages; the limit is %lld", pages,
			r->conf->max_pages);
	}
	if (api_blob_put(r->conf->data_dir, pdf ? pdf : data, pdf ? pdf_len : len, hex)) {
		json_decref(sizes);
		free(pdf);
		return api_fail(r, 500, "storage_failed", "the file could not be stored");
	}
	sizes_text = json_dumps(sizes, JSON_COMPACT);
	api_db_run(r->db, "UPDATE uploads SET status = 'ready', sha256 = ?, size = ?, pages = ?, page_sizes = ?,"
		" content_type = ?, expires_at = NULL WHERE id = ?", "siisss", hex, (long long)(pdf ? pdf_len : len),
		(long long)pages, sizes_text, type, key);
	free(sizes_text);
	json_decref(sizes);
	free(pdf);
	return 0;
}

int api_upload_put(api_req *r)
{
	char *exp_s = api_query(r, "expires"), *max_s = api_query(r, "max"), *sig = api_query(r, "signature");
	char mac[65], type[64];
	const char *key = r->params[0];
	long long expires, max;
	sqlite3_stmt *st;
	int rc = -1, state = 0;

	if (!exp_s || !max_s || !sig) {
		api_fail(r, 403, "invalid_url_signature", "this upload URL is incomplete: ask for a new one");
		goto out;
	}
	expires = strtoll(exp_s, NULL, 10);
	max = strtoll(max_s, NULL, 10);
	if (presign_mac(r, key, expires, max, mac))
		goto out;
	if (strlen(sig) != 64 || !api_equal_secret(mac, sig)) {
		api_fail(r, 403, "invalid_url_signature", "this upload URL's signature does not match");
		goto out;
	}
	if (expires <= api_now()) {
		api_fail(r, 410, "upload_url_expired", "this upload URL expired; ask for a new one");
		goto out;
	}
	st = api_db_prepare(r->db, "SELECT status, account_id, test FROM uploads WHERE id = ?", "s", key);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		state = strcmp(api_col_text(st, 0), "waiting") ? 2 : 1;
		snprintf(r->account_id, sizeof r->account_id, "%s", api_col_text(st, 1));
		r->test = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	if (state == 0) {
		api_fail(r, 404, "upload_not_found", "no upload %s", key);
		goto out;
	}
	if (state == 2) {
		api_fail(r, 409, "already_uploaded", "a file was already uploaded to this URL");
		goto out;
	}
	if (media_type(r, r->content_type, type, sizeof type) || api_read_body(r, max))
		goto out;
	if (store_upload(r, key, r->body, r->body_len, type))
		goto out;
	rc = api_reply(r, 200, upload_json(r, key), NULL);
out:
	free(exp_s);
	free(max_s);
	free(sig);
	return rc;
}

/* The part named "file" of a multipart/form-data body. */
static int multipart_file(api_req *r, const unsigned char **data, size_t *len, char *type, size_t tsize)
{
	const char *b = strcasestr(r->content_type, "boundary=");
	char delim[256];
	const unsigned char *p, *end = r->body + r->body_len;
	size_t dl;

	if (!b)
		return api_fail(r, 400, "invalid_multipart", "multipart/form-data without a boundary");
	b += 9;
	if (*b == '"')
		b++;
	dl = (size_t)snprintf(delim, sizeof delim, "--%.*s", (int)strcspn(b, "\";"), b);
	if (dl >= sizeof delim)
		return api_fail(r, 400, "invalid_multipart", "the multipart boundary is too long");
	p = r->body;
	while (p && p < end) {
		const unsigned char *start = memmem(p, (size_t)(end - p), delim, dl), *hdr_end, *next;
		char headers[2048];
		size_t hl;
		if (!start)
			break;
		start += dl;
		if (end - start >= 2 && start[0] == '-' && start[1] == '-')
			break;
		if (end - start >= 2 && start[0] == '\r' && start[1] == '\n')
			start += 2;
		if (!(hdr_end = memmem(start, (size_t)(end - start), "\r\n\r\n", 4)))
			break;
		hl = (size_t)(hdr_end - start) < sizeof headers - 1 ? (size_t)(hdr_end - start) : sizeof headers - 1;
		memcpy(headers, start, hl);
		headers[hl] = 0;
		hdr_end += 4;
		if (!(next = memmem(hdr_end, (size_t)(end - hdr_end), delim, dl)))
			break;
		if (strcasestr(headers, "name=\"file\"")) {
			const char *ct = strcasestr(headers, "content-type:");
			size_t n = 0;
			*data = hdr_end;
			*len = (size_t)(next - hdr_end);
			if (*len >= 2 && (*data)[*len - 2] == '\r' && (*data)[*len - 1] == '\n')
				*len -= 2;
			type[0] = 0;
			if (ct) {
				ct += 13;
				while (*ct == ' ')
					ct++;
				n = strcspn(ct, "\r\n;");
				snprintf(type, tsize, "%.*s", (int)n, ct);
			}
			return media_type(r, type, type, tsize);
		}
		p = next;
	}
	return api_fail(r, 400, "invalid_multipart", "the form has no part named \"file\"");
}

int api_upload_post(api_req *r)
{
	const unsigned char *data;
	char key[40], type[64];
	size_t len;

	if (r->content_type && !strncasecmp(r->content_type, "multipart/form-data", 19)) {
		if (api_read_body(r, r->conf->max_upload) || multipart_file(r, &data, &len, type, sizeof type))
			return -1;
	} else {
		if (media_type(r, r->content_type, type, sizeof type) || api_read_body(r, r->conf->max_upload))
			return -1;
		data = r->body;
		len = r->body_len;
	}
	api_new_id(key, sizeof key, "upl_");
	if (api_db_run(r->db, "INSERT INTO uploads (id, account_id, test, status, max_size, created_at) VALUES"
		" (?, ?, ?, 'waiting', ?, ?)", "ssiii", key, r->account_id, (long long)r->test, r->conf->max_upload, api_now()))
		return api_fail(r, 500, "internal", "database: %s", sqlite3_errmsg(r->db));
	if (store_upload(r, key, data, len, type)) {
		api_db_run(r->db, "DELETE FROM uploads WHERE id = ?", "s", key);
		return -1;
	}
	return api_reply(r, 201, upload_json(r, key), NULL);
}
