/*
 * HTTP over CGI (RFC 3875: the environment and stdin) or FastCGI (libfcgi):
 * reading a request, writing a response, JSON bodies and errors.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"

#include <errno.h>
#include <fcgiapp.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

int api_buf_add(api_buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *n;
		while (cap < b->len + len + 1)
			cap *= 2;
		if (!(n = realloc(b->data, cap)))
			return -1;
		b->data = n;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
	return 0;
}

int api_buf_printf(api_buf *b, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof small)
		return api_buf_add(b, small, (size_t)n);
	if (!(big = malloc((size_t)n + 1)))
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = api_buf_add(b, big, (size_t)n);
	free(big);
	return rc;
}

void api_buf_free(api_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

const char *api_env(api_req *r, const char *name)
{
	const char *v;
	if (r->fcgi)
		v = FCGX_GetParam(name, r->fcgi->envp);
	else
		v = getenv(name);
	return v;
}

const char *api_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

static int read_in(api_req *r, unsigned char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k;
		if (r->fcgi) {
			k = FCGX_GetStr((char *)buf + got, (int)(n - got > 1 << 20 ? 1 << 20 : n - got), r->fcgi->in);
			if (k <= 0)
				break;
		} else {
			k = read(0, buf + got, n - got);
			if (k <= 0)
				break;
		}
		got += (size_t)k;
	}
	return got == n ? 0 : -1;
}

int api_read_body(api_req *r, long long limit)
{
	if (r->body_read)
		return 0;
	r->body_read = 1;
	if (r->content_length <= 0)
		return 0; /* RFC 3875: no CONTENT_LENGTH, no body */
	if (r->content_length > limit)
		return api_fail(r, 413, "payload_too_large",
			"the body is %lld bytes; the limit for this request is %lld bytes", r->content_length, limit);
	if (!(r->body = malloc((size_t)r->content_length + 1)))
		return api_fail(r, 500, "internal", "out of memory");
	if (read_in(r, r->body, (size_t)r->content_length))
		return api_fail(r, 400, "incomplete_body", "the body ended before Content-Length bytes");
	r->body[r->content_length] = 0;
	r->body_len = (size_t)r->content_length;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *url_decode(const char *s, size_t n, int plus)
{
	char *out = malloc(n + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else if (plus && s[i] == '+')
			*o++ = ' ';
		else
			*o++ = s[i];
	}
	*o = 0;
	return out;
}

char *api_query(api_req *r, const char *name)
{
	const char *q = r->query;
	size_t nl = strlen(name);

	while (q && *q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
		if ((size_t)(end - q) >= nl && !strncmp(q, name, nl) && (q[nl] == '=' || q + nl == end))
			return q[nl] == '=' ? url_decode(q + nl + 1, (size_t)(end - q - nl - 1), 1) : strdup("");
		q = amp ? amp + 1 : NULL;
	}
	return NULL;
}

void api_header(api_req *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	api_buf_add(&r->headers, line, strlen(line));
	api_buf_add(&r->headers, "\r\n", 2);
}

/* The bytes of json_dumps(J, JSON_COMPACT), written straight into B. Every
 * answer goes through here, and jansson's dumper costs a loop check
 * (a formatted pointer in a hash table) per object and array and a printf
 * per number; ours has neither. Strings in a json_t are valid UTF-8
 * already (jansson checks them when they are made) and are escaped as
 * jansson does: \" \\ \b \f \n \r \t, other control characters as \u00XX. */
static int dump_string(api_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, from = 0;
	int rc = api_buf_add(b, "\"", 1);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 0, '0', '0', hex[c >> 4], hex[c & 15] };
		size_t len = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default: esc[1] = 'u'; len = 6; break;
		}
		rc |= api_buf_add(b, s + from, i - from);
		rc |= api_buf_add(b, esc, len);
		from = i + 1;
	}
	rc |= api_buf_add(b, s + from, n - from);
	return rc | api_buf_add(b, "\"", 1);
}

static int dump_integer(api_buf *b, long long v, const char *suffix)
{
	char digits[32], *p = digits + sizeof digits;
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	return api_buf_add(b, p, (size_t)(digits + sizeof digits - p)) | api_buf_add(b, suffix, strlen(suffix));
}

static int dump_json(api_buf *b, json_t *j)
{
	size_t i, n;
	void *it;
	int rc = 0;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		rc = api_buf_add(b, "{", 1);
		for (it = json_object_iter(j), i = 0; it; it = json_object_iter_next(j, it), i++) {
			const char *key = json_object_iter_key(it);
			if (i)
				rc |= api_buf_add(b, ",", 1);
			rc |= dump_string(b, key, strlen(key));
			rc |= api_buf_add(b, ":", 1);
			rc |= dump_json(b, json_object_iter_value(it));
		}
		return rc | api_buf_add(b, "}", 1);
	case JSON_ARRAY:
		rc = api_buf_add(b, "[", 1);
		for (i = 0, n = json_array_size(j); i < n; i++) {
			if (i)
				rc |= api_buf_add(b, ",", 1);
			rc |= dump_json(b, json_array_get(j, i));
		}
		return rc | api_buf_add(b, "]", 1);
	case JSON_STRING:
		return dump_string(b, json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		return dump_integer(b, json_integer_value(j), "");
	case JSON_REAL: {
		double v = json_real_value(j);
		char *s;
		/* whole numbers (page sizes, most coordinates): "612.0", as %.17g plus
		 * jansson's ".0"; the others as jansson writes them */
		if (v > -1e15 && v < 1e15 && v == (double)(long long)v && !(v == 0 && signbit(v)))
			return dump_integer(b, (long long)v, ".0");
		if (!(s = json_dumps(j, JSON_ENCODE_ANY)))
			return -1;
		rc = api_buf_add(b, s, strlen(s));
		free(s);
		return rc;
	}
	case JSON_TRUE:
		return api_buf_add(b, "true", 4);
	case JSON_FALSE:
		return api_buf_add(b, "false", 5);
	case JSON_NULL:
		return api_buf_add(b, "null", 4);
	}
	return -1;
}

static void set_body_json(api_req *r, json_t *root)
{
	r->out.len = 0;
	if (!root || dump_json(&r->out, root) || api_buf_add(&r->out, "\n", 1))
		r->out.len = 0;
	r->out_type = "application/json";
	json_decref(root);
}

int api_reply(api_req *r, int status, json_t *data, json_t *meta)
{
	json_t *root = json_object();
	json_object_set_new(root, "data", data ? data : json_null());
	if (meta)
		json_object_set_new(root, "meta", meta);
	r->status = status;
	r->responded = 1;
	set_body_json(r, root);
	return 0;
}

int api_page_args(api_req *r, long long *limit, long long *cursor)
{
	char *limit_s = api_query(r, "limit"), *cursor_s = api_query(r, "cursor");
	int rc = 0;

	*limit = 20;
	*cursor = 0;
	if (limit_s) {
		char *end;
		*limit = strtoll(limit_s, &end, 10);
		if (*end || *limit < 1 || *limit > 100)
			rc = api_fail(r, 400, "invalid_parameter", "limit must be from 1 to 100");
	}
	if (!rc && cursor_s) {
		size_t len = 0;
		unsigned char *raw = api_b64decode(cursor_s, strlen(cursor_s), &len);
		char buf[32];
		if (!raw || len < 2 || len >= sizeof buf || raw[0] != 'c' ||
			(memcpy(buf, raw + 1, len - 1), buf[len - 1] = 0, (*cursor = strtoll(buf, NULL, 10)) <= 0))
			rc = api_fail(r, 400, "invalid_cursor", "cursor is not one this API returned");
		free(raw);
	}
	free(limit_s);
	free(cursor_s);
	return rc;
}

json_t *api_page_meta(size_t count, int more, long long last)
{
	json_t *meta = json_pack("{s:i,s:b}", "count", (int)count, "hasMore", more);
	if (more) {
		char raw[32], enc[64];
		int len = snprintf(raw, sizeof raw, "c%lld", last);
		api_b64url(enc, (unsigned char *)raw, (size_t)len);
		json_object_set_new(meta, "nextCursor", json_string(enc));
	} else
		json_object_set_new(meta, "nextCursor", json_null());
	return meta;
}

int api_reply_list(api_req *r, json_t *list)
{
	return api_reply(r, 200, list, json_pack("{s:i,s:b,s:n}", "count", (int)json_array_size(list), "hasMore", 0,
		"nextCursor"));
}

int api_fail(api_req *r, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->status = status;
	r->responded = 1;
	set_body_json(r, json_pack("{s:{s:s,s:s,s:s}}", "error", "code", code, "message", msg,
		"requestId", r->request_id));
	return -1;
}

int api_reply_bytes(api_req *r, int status, const char *type, const void *data, size_t len,
	const char *filename)
{
	r->status = status;
	r->responded = 1;
	r->out.len = 0;
	if (api_buf_add(&r->out, data, len))
		return api_fail(r, 500, "internal", "out of memory");
	r->out_type = type;
	if (filename)
		api_header(r, "Content-Disposition: attachment; filename=\"%s\"", filename);
	return 0;
}

/* CGI: head and body in one writev on the descriptor (stdio would add an
 * fstat and an ioctl on stdout, and could split the answer). */
static void write_out(struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(1, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* the server went away */
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

void api_flush(api_req *r)
{
	api_buf head = { 0 };
	int body;

	api_buf_printf(&head, "Status: %d %s\r\n", r->status, api_status_text(r->status));
	if (r->out_type)
		api_buf_printf(&head, "Content-Type: %s%s\r\n", r->out_type,
			!strcmp(r->out_type, "application/json") ? "; charset=utf-8" : "");
	api_buf_printf(&head, "Content-Length: %zu\r\nX-Request-Id: %s\r\n", r->out.len, r->request_id);
	if (!r->headers.data || !strcasestr(r->headers.data, "Cache-Control:"))
		api_buf_printf(&head, "Cache-Control: no-store\r\n");
	if (r->headers.len)
		api_buf_add(&head, r->headers.data, r->headers.len);
	api_buf_add(&head, "\r\n", 2);
	body = r->out.len && strcmp(r->method ? r->method : "", "HEAD");
	if (r->fcgi) {
		FCGX_PutStr(head.data, (int)head.len, r->fcgi->out);
		if (body)
			FCGX_PutStr(r->out.data, (int)r->out.len, r->fcgi->out);
	} else {
		struct iovec iov[2] = { { head.data, head.len }, { r->out.data, body ? r->out.len : 0 } };
		write_out(iov, body ? 2 : 1);
	}
	api_buf_free(&head);
}

static int is_json_type(const char *ct)
{
	size_t n = strlen("application/json");
	if (!ct)
		return 0;
	while (*ct == ' ')
		ct++;
	return !strncasecmp(ct, "application/json", n) && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

json_t *api_body_json(api_req *r)
{
	json_error_t je;
	json_t *root;

	if (!is_json_type(r->content_type)) {
		api_fail(r, 415, "unsupported_media_type", "send the body as application/json, not %s",
			r->content_type && *r->content_type ? r->content_type : "no content type");
		return NULL;
	}
	if (api_read_body(r, r->conf->max_json))
		return NULL;
	if (!r->body_len) {
		api_fail(r, 400, "invalid_json", "the body is empty; a JSON object is expected");
		return NULL;
	}
	if (!(root = json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &je))) {
		api_fail(r, 400, "invalid_json", "malformed JSON at line %d, column %d (byte %d): %s", je.line,
			je.column, je.position, je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		api_fail(r, 400, "invalid_json", "the body must be a JSON object");
		return NULL;
	}
	return root;
}

int api_check_keys(api_req *r, json_t *obj, const char *where, const char *const *allowed)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		const char *const *a;
		for (a = allowed; *a; a++)
			if (!strcmp(*a, k))
				break;
		if (!*a)
			return api_fail(r, 400, "unknown_field", "%s%s\"%s\" is not a known field", where ? where : "",
				where ? ": " : "", k);
	}
	return 0;
}
