/*
 * The audit trail (certificate of completion): pages appended to a document
 * from a JSON log of its recipients and events, and the hash chain that
 * makes an edited log detectable.
 *
 * Layout is our own small table engine: every cell is laid out by the
 * story engine (HarfBuzz shaping, line wrapping) into a form XObject of
 * its own, marked with /ActualText so extractors read the exact string,
 * and scaled down if its ink would cross the cell. Rows are placed on
 * pages; a table that continues on the next page repeats its header row.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#define BIG 100000.0f
#define MARGIN 40.0f
#define FOOTER 28.0f
#define PAD 3.0f
#define MAX_COLS 8

/* ------------------------------------------------------------ the log */

static const struct {
	const char *type, *label;
} event_labels[] = {
	{ "document.created", "Document created" },
	{ "document.sent", "Sent for signature" },
	{ "document.viewed", "Document viewed" },
	{ "document.completed", "Completed" },
	{ "document.declined", "Declined" },
	{ "document.voided", "Voided" },
	{ "document.expired", "Expired" },
	{ "signer.sent", "Invitation sent" },
	{ "signer.viewed", "Viewed" },
	{ "signer.signed", "Signed" },
	{ "signer.declined", "Declined" },
	{ "signer.otp_sent", "OTP sent" },
	{ "signer.otp_verified", "OTP verified" },
	{ "signer.otp_locked", "OTP locked after wrong codes" },
	{ "signer.reminded", "Reminder sent" },
	{ "otp.sent", "OTP sent" },
	{ "otp.verified", "OTP verified" },
	{ "approval.approved", "Approved" },
	{ "approval.rejected", "Rejected" },
};

static const char *event_label(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof event_labels / sizeof event_labels[0]; i++)
		if (!strcmp(type, event_labels[i].type))
			return event_labels[i].label;
	return type; /* unknown types are kept and printed as given */
}

static const struct {
	const char *key, *label;
} auth_labels[] = {
	{ "email_link", "E-mail link" },
	{ "email", "E-mail link" },
	{ "email_otp", "E-mail OTP" },
	{ "sms_otp", "SMS OTP" },
	{ "access_code", "Access code" },
	{ "none", "None" },
};

static const char *auth_label(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof auth_labels / sizeof auth_labels[0]; i++)
		if (!strcmp(key, auth_labels[i].key))
			return auth_labels[i].label;
	return key;
}

typedef struct {
	signcore_ctx *ctx;
	const char *name;  /* of the log, for messages */
	json_t *root;
	json_t *doc, *recipients, *events;
	size_t nevents;
	char chain[65];    /* hash of the last event (or the genesis) */
	int chained;       /* the log carries prev_sha256 */
} sc_log;

static void hex(const unsigned char *h, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[2 * n] = 0;
}

static int sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[32];
	unsigned int n = 0;

	if (!EVP_Digest(data, len, h, &n, EVP_sha256(), NULL) || n != 32)
		return -1;
	hex(h, 32, out);
	return 0;
}

/* The canonical form of an event: its JSON with keys sorted and no
 * whitespace, UTF-8 as given. */
static int event_hash(const json_t *ev, char out[65])
{
	char *s = json_dumps(ev, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	int r;

	if (!s)
		return -1;
	r = sha256_hex(s, strlen(s), out);
	free(s);
	return r;
}

static const char *get_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A required string member. */
static int need_str(sc_log *lg, const json_t *obj, const char *key, const char *where, const char **out)
{
	const json_t *v = json_object_get(obj, key);

	if (!v)
		return signcore__err(lg->ctx, SIGNCORE_EBADINPUT, "%s: %s: missing required key \"%s\"",
			lg->name, where, key);
	if (!json_is_string(v) || !*json_string_value(v))
		return signcore__err(lg->ctx, SIGNCORE_EBADINPUT, "%s: %s: \"%s\" must be a non-empty string",
			lg->name, where, key);
	*out = json_string_value(v);
	return 0;
}

static int parse_time(sc_log *lg, const char *s, const char *where, const char *key, long long *out)
{
	int date_only = 0;

	if (signcore__parse_when(s, 0, out, &date_only) || date_only || !strcmp(s, "now") || !strcmp(s, "today"))
		return signcore__err(lg->ctx, SIGNCORE_EBADINPUT,
			"%s: %s: \"%s\" is not a date and time (RFC 3339, e.g. 2026-11-21T10:00:00Z): %s",
			lg->name, where, key, s);
	return 0;
}

/* Parse and check the log; verify its chain if it carries one. */
static int log_load(signcore_ctx *ctx, sc_log *lg, const char *json, size_t len, const char *name)
{
	json_error_t err;
	const char *s;
	char where[64], prev[65];
	size_t i;
	long long t;
	int code, with = 0, without = 0;

	memset(lg, 0, sizeof *lg);
	lg->ctx = ctx;
	lg->name = name && *name ? name : "events";
	lg->root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (!lg->root)
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: line %d, column %d: %s", lg->name, err.line,
			err.column, err.text);
	if (!json_is_object(lg->root))
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: the top level must be an object", lg->name);
	lg->doc = json_object_get(lg->root, "document");
	if (!json_is_object(lg->doc))
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: missing required key \"document\" (an object)",
			lg->name);
	if ((code = need_str(lg, lg->doc, "id", "document", &s)) || (code = need_str(lg, lg->doc, "title", "document", &s)))
		return code;
	lg->recipients = json_object_get(lg->root, "recipients");
	if (!json_is_array(lg->recipients))
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: missing required key \"recipients\" (an array)",
			lg->name);
	for (i = 0; i < json_array_size(lg->recipients); i++) {
		json_t *r = json_array_get(lg->recipients, i), *sig;
		snprintf(where, sizeof where, "recipient %zu", i + 1);
		if (!json_is_object(r))
			return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: %s must be an object", lg->name, where);
		if ((code = need_str(lg, r, "name", where, &s)) || (code = need_str(lg, r, "email", where, &s)))
			return code;
		if ((s = get_str(r, "signed_at")) && (code = parse_time(lg, s, where, "signed_at", &t)))
			return code;
		if ((s = get_str(r, "declined_at")) && (code = parse_time(lg, s, where, "declined_at", &t)))
			return code;
		sig = json_object_get(r, "signature");
		if (sig && !json_is_null(sig) && (!json_is_object(sig) ||
			(!json_is_string(json_object_get(sig, "text")) && !json_is_string(json_object_get(sig, "image")))))
			return signcore__err(ctx, SIGNCORE_EBADINPUT,
				"%s: %s: \"signature\" must be {\"text\": ...} or {\"image\": file or data: URL}",
				lg->name, where);
	}
	lg->events = json_object_get(lg->root, "events");
	if (!json_is_array(lg->events))
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: missing required key \"events\" (an array)", lg->name);
	lg->nevents = json_array_size(lg->events);

	/* The chain starts from the hash of the document ID, so a log cannot
	 * be moved to another document. */
	s = get_str(lg->doc, "id");
	sha256_hex(s, strlen(s), prev);
	for (i = 0; i < lg->nevents; i++) {
		json_t *ev = json_array_get(lg->events, i);
		const char *type, *p;
		snprintf(where, sizeof where, "event %zu", i + 1);
		if (!json_is_object(ev))
			return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: %s must be an object", lg->name, where);
		if ((code = need_str(lg, ev, "at", where, &s)) || (code = need_str(lg, ev, "type", where, &type)))
			return code;
		if ((code = parse_time(lg, s, where, "at", &t)))
			return code;
		p = get_str(ev, "prev_sha256");
		if (json_object_get(ev, "prev_sha256") && !p)
			return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: %s: \"prev_sha256\" must be a string",
				lg->name, where);
		if (p) {
			with++;
			if (strcmp(p, prev))
				return signcore__err(ctx, SIGNCORE_ETAMPERED,
					"%s: %s (%s at %s): prev_sha256 does not match %s: the log was altered",
					lg->name, where, type, s, i ? "the event before it" : "the document ID");
		} else {
			/* Hash it as it would stand in the chained log. */
			without++;
			if (json_object_set_new(ev, "prev_sha256", json_string(prev)))
				return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
		}
		if (with && without)
			return signcore__err(ctx, SIGNCORE_ETAMPERED,
				"%s: %s: some events carry prev_sha256 and others do not: the log was altered",
				lg->name, where);
		if (event_hash(ev, prev))
			return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	}
	memcpy(lg->chain, prev, sizeof prev);
	lg->chained = with > 0;
	return 0;
}

static void log_free(sc_log *lg)
{
	json_decref(lg->root);
	lg->root = NULL;
}

int signcore_audit_check(signcore_ctx *ctx, const char *json, size_t len, const char *name,
	signcore_audit_info *info)
{
	sc_log lg;
	int code;

	if (!ctx || !json || !info)
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_audit_check: NULL argument") : SIGNCORE_EINVAL;
	signcore__clear_err(ctx);
	memset(info, 0, sizeof *info);
	code = log_load(ctx, &lg, json, len, name);
	if (!code && !lg.chained && lg.nevents > 0)
		code = signcore__err(ctx, SIGNCORE_ETAMPERED,
			"%s: the events carry no prev_sha256: the log is not hash-chained", lg.name);
	if (!code) {
		info->events = lg.nevents;
		info->chained = lg.chained;
		memcpy(info->chain_sha256, lg.chain, sizeof info->chain_sha256);
	}
	log_free(&lg);
	return code;
}

int signcore_audit_chain(signcore_ctx *ctx, const char *json, size_t len, const char *name, char **out)
{
	sc_log lg;
	char prev[65];
	const char *id;
	size_t i;
	int code;

	if (!ctx || !json || !out)
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_audit_chain: NULL argument") : SIGNCORE_EINVAL;
	signcore__clear_err(ctx);
	*out = NULL;
	code = log_load(ctx, &lg, json, len, name);
	if (code) {
		log_free(&lg);
		return code;
	}
	id = get_str(lg.doc, "id");
	sha256_hex(id, strlen(id), prev);
	for (i = 0; i < lg.nevents && !code; i++) {
		json_t *ev = json_array_get(lg.events, i);
		if (json_object_set_new(ev, "prev_sha256", json_string(prev)) || event_hash(ev, prev))
			code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	}
	if (!code && !(*out = json_dumps(lg.root, JSON_INDENT(1) | JSON_PRESERVE_ORDER)))
		code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	log_free(&lg);
	return code;
}

/* ---------------------------------------------------------- text fields */

/* At most MAX characters of S, "…" marking a cut (fz_malloc'd). */
static char *clip(fz_context *fz, const char *s, int max)
{
	const char *p = s;
	int c, n = 0;
	char *out;

	while (*p && n < max) {
		p += fz_chartorune(&c, p);
		n++;
	}
	if (!*p)
		return fz_strdup(fz, s);
	out = fz_malloc(fz, (size_t)(p - s) + 4);
	memcpy(out, s, (size_t)(p - s));
	memcpy(out + (p - s), "\xE2\x80\xA6", 4);
	return out;
}

/* A browser and system summary of a user agent ("Chrome 120 on Windows"),
 * or the start of it. */
static char *short_agent(fz_context *fz, const char *ua)
{
	static const struct {
		const char *key, *name;
	} browsers[] = {
		{ "Edg/", "Edge" }, { "OPR/", "Opera" }, { "SamsungBrowser/", "Samsung Internet" },
		{ "Firefox/", "Firefox" }, { "CriOS/", "Chrome" }, { "Chrome/", "Chrome" },
		{ "Version/", "Safari" }, { "curl/", "curl" }, { "okhttp/", "okhttp" },
	}, systems[] = {
		{ "Windows", "Windows" }, { "Android", "Android" }, { "iPhone", "iOS" }, { "iPad", "iPadOS" },
		{ "Mac OS X", "macOS" }, { "CrOS", "ChromeOS" }, { "Linux", "Linux" },
	};
	const char *b = NULL, *os = NULL, *at = NULL;
	char version[16] = "", buf[96];
	size_t i, k;

	for (i = 0; i < sizeof browsers / sizeof browsers[0] && !b; i++)
		if ((at = strstr(ua, browsers[i].key))) {
			b = browsers[i].name;
			at += strlen(browsers[i].key);
			for (k = 0; k + 1 < sizeof version && at[k] >= '0' && at[k] <= '9'; k++)
				version[k] = at[k];
			version[k] = 0;
		}
	for (i = 0; i < sizeof systems / sizeof systems[0] && !os; i++)
		if (strstr(ua, systems[i].key))
			os = systems[i].name;
	if (!b)
		return clip(fz, ua, 48);
	snprintf(buf, sizeof buf, "%s%s%s%s%s", b, *version ? " " : "", version, os ? " on " : "", os ? os : "");
	return fz_strdup(fz, buf);
}

/* ------------------------------------------------------------- cells */

typedef struct {
	unsigned char key[16]; /* md5 of width and markup; zero for thumbnails */
	pdf_obj *xobj;         /* resource name /C<index> */
	float h;
} sc_cellent;

typedef struct {
	signcore_ctx *ctx;
	pdf_document *pdf;
	sc_fontset *fs;
	fz_buffer *css;
	sc_cellent *cells;
	int ncells, cap;
	float em;
	char **strs;     /* scratch strings, freed with the layout */
	int nstrs, capstrs;
} sc_layout;

/* Keep S (fz_malloc'd) until the layout is dropped; returns S. */
static char *keep(sc_layout *L, char *s)
{
	fz_context *fz = L->ctx->fz;

	if (L->nstrs == L->capstrs) {
		int cap = L->capstrs ? L->capstrs * 2 : 64;
		fz_try(fz)
			L->strs = fz_realloc_array(fz, L->strs, cap, char *);
		fz_catch(fz) {
			fz_free(fz, s);
			fz_rethrow(fz);
		}
		L->capstrs = cap;
	}
	L->strs[L->nstrs++] = s;
	return s;
}

static void drop_scratch(sc_layout *L)
{
	int i;

	for (i = 0; i < L->nstrs; i++)
		fz_free(L->ctx->fz, L->strs[i]);
	fz_free(L->ctx->fz, L->strs);
	L->strs = NULL;
	L->nstrs = L->capstrs = 0;
}

typedef struct {
	int cell;        /* index into cells, -1 for none */
	float x, w;
} sc_slot;

typedef struct {
	int kind;        /* ROW, HEAD (table header), TITLE, GAP */
	int table;       /* for HEAD/ROW: which table (0 none) */
	float h;
	int n;
	sc_slot slot[MAX_COLS];
	float scale;     /* row scaled down to fit a page */
} sc_row;

enum { K_ROW, K_HEAD, K_TITLE, K_GAP };

/* Record a cell (taking XOBJ) and return its index. */
static int add_cell(sc_layout *L, const unsigned char *key, pdf_obj *xobj, float h)
{
	fz_context *fz = L->ctx->fz;

	if (L->ncells == L->cap) {
		int cap = L->cap ? L->cap * 2 : 256;
		fz_try(fz)
			L->cells = fz_realloc_array(fz, L->cells, cap, sc_cellent);
		fz_catch(fz) {
			pdf_drop_obj(fz, xobj);
			fz_rethrow(fz);
		}
		L->cap = cap;
	}
	if (key)
		memcpy(L->cells[L->ncells].key, key, 16);
	else
		memset(L->cells[L->ncells].key, 0, 16);
	L->cells[L->ncells].xobj = xobj;
	L->cells[L->ncells].h = h;
	return L->ncells++;
}

/* A cell of width W holding MARKUP (HTML made by text_html), read as
 * PLAIN. Identical cells are made once. Returns its index. */
static int make_cell(sc_layout *L, const char *markup, const char *plain, float w)
{
	signcore_ctx *ctx = L->ctx;
	fz_context *fz = ctx->fz;
	unsigned char digest[16];
	fz_md5 md5;
	fz_buffer *html = NULL, *contents = NULL, *wrapped = NULL;
	fz_story *story = NULL;
	fz_display_list *list = NULL;
	fz_device *dev = NULL;
	pdf_obj *res = NULL, *xobj = NULL;
	fz_rect filled, ink;
	float k = 1, h, dx = 0;
	int i;

	fz_md5_init(&md5);
	fz_md5_update(&md5, (const unsigned char *)&w, sizeof w);
	fz_md5_update(&md5, (const unsigned char *)markup, strlen(markup));
	fz_md5_final(&md5, digest);
	for (i = 0; i < L->ncells; i++)
		if (!memcmp(L->cells[i].key, digest, 16))
			return i;

	fz_var(k);
	fz_var(dx);
	fz_var(html);
	fz_var(contents);
	fz_var(wrapped);
	fz_var(story);
	fz_var(list);
	fz_var(dev);
	fz_var(res);
	fz_var(xobj);
	fz_try(fz) {
		html = fz_new_buffer(fz, strlen(markup) + 16);
		fz_append_string(fz, html, markup);
		story = fz_new_story(fz, html, (const char *)L->css->data, L->em, signcore__fontset_archive(L->fs));
		fz_place_story(fz, story, fz_make_rect(0, 0, w - 2 * PAD, BIG), &filled);
		list = fz_new_display_list(fz, fz_infinite_rect);
		dev = fz_new_list_device(fz, list);
		fz_draw_story(fz, story, dev, fz_identity);
		fz_close_device(fz, dev);
		fz_drop_device(fz, dev);
		dev = NULL;
		h = filled.y1 > 0 ? filled.y1 : 0;
		ink = signcore__measure_ink(fz, list);
		if (!fz_is_empty_rect(ink)) {
			/* Never let ink cross the cell: shift, then scale. */
			if (ink.x0 < 0)
				dx = -ink.x0;
			if (ink.x1 + dx > w - 2 * PAD)
				k = (w - 2 * PAD) / (ink.x1 + dx);
			if (ink.y1 > h)
				h = ink.y1;
		}
		h = h * k + 2 * PAD;
		dev = pdf_page_write(fz, L->pdf, fz_make_rect(0, 0, w, h), &res, &contents);
		fz_run_display_list(fz, list, dev, fz_pre_scale(fz_translate(PAD + dx * k, PAD), k, k),
			fz_infinite_rect, NULL);
		fz_close_device(fz, dev);
		signcore__fontset_finish(ctx, L->fs, L->pdf, res);
		wrapped = fz_new_buffer(fz, contents->len + 64);
		if (signcore__needs_actual_text(plain))
			signcore__actual_text(fz, wrapped, plain);
		else
			fz_append_string(fz, wrapped, "/Span <<>> BDC\n");
		fz_append_buffer(fz, wrapped, contents);
		fz_append_string(fz, wrapped, "\nEMC\n");
		/* The box is wider than the cell so that it never clips:
		 * what does not fit was scaled down above. */
		xobj = pdf_new_xobject(fz, L->pdf, fz_make_rect(-w, -h, 2 * w, 2 * h), fz_identity, res, wrapped);
		{
			pdf_obj *x = xobj;
			xobj = NULL;
			add_cell(L, digest, x, h);
		}
	}
	fz_always(fz) {
		fz_drop_device(fz, dev);
		fz_drop_display_list(fz, list);
		fz_drop_story(fz, story);
		fz_drop_buffer(fz, html);
		fz_drop_buffer(fz, contents);
		fz_drop_buffer(fz, wrapped);
		pdf_drop_obj(fz, res);
		pdf_drop_obj(fz, xobj);
	}
	fz_catch(fz)
		fz_rethrow(fz);
	return L->ncells - 1;
}

/* A cell showing TEXT in the element/class STYLE ("p", "p class=b", ...). */
static int text_cell(sc_layout *L, const char *cls, const char *text, float w)
{
	fz_context *fz = L->ctx->fz;
	fz_buffer *m = fz_new_buffer(fz, strlen(text) * 2 + 64);
	int cell = -1;

	fz_try(fz) {
		fz_append_printf(fz, m, "<p class=\"%s\">", cls);
		signcore__text_html(L->ctx, L->fs, m, text, SC_TEXT_BR | SC_TEXT_BREAKS);
		fz_append_string(fz, m, "</p>");
		fz_terminate_buffer(fz, m);
		cell = make_cell(L, (const char *)m->data, text, w);
	}
	fz_always(fz)
		fz_drop_buffer(fz, m);
	fz_catch(fz)
		fz_rethrow(fz);
	return cell;
}

/* A cell holding an existing form XObject (a signature thumbnail). */
static int xobj_cell(sc_layout *L, pdf_obj *xobj, float h)
{
	return add_cell(L, NULL, pdf_keep_obj(L->ctx->fz, xobj), h);
}

/* ------------------------------------------------------------- rows */

typedef struct {
	sc_row *rows;
	int n, cap;
} sc_rows;

static sc_row *add_row(fz_context *fz, sc_rows *R, int kind, int table)
{
	sc_row *r;

	if (R->n == R->cap) {
		int cap = R->cap ? R->cap * 2 : 256;
		R->rows = fz_realloc_array(fz, R->rows, cap, sc_row);
		R->cap = cap;
	}
	r = &R->rows[R->n++];
	memset(r, 0, sizeof *r);
	r->kind = kind;
	r->table = table;
	r->scale = 1;
	return r;
}

static void row_put(sc_layout *L, sc_row *r, int cell, float x, float w)
{
	r->slot[r->n].cell = cell;
	r->slot[r->n].x = x;
	r->slot[r->n].w = w;
	r->n++;
	if (cell >= 0 && L->cells[cell].h > r->h)
		r->h = L->cells[cell].h;
}

/* A table row: TEXTS in columns of widths WS (CLS the cell style). */
static sc_row *table_row(sc_layout *L, sc_rows *R, int kind, int table, const char *cls, const char *const *texts,
	const float *ws, int n, float x0)
{
	sc_row *r = add_row(L->ctx->fz, R, kind, table);
	float x = x0;
	int i;

	for (i = 0; i < n; i++) {
		int cell = texts[i] && *texts[i] ? text_cell(L, cls, texts[i], ws[i]) : -1;
		row_put(L, r, cell, x, ws[i]);
		x += ws[i];
	}
	return r;
}

/* ------------------------------------------------------------ pages */

typedef struct {
	int first, last;    /* rows [first, last) */
} sc_span;

static void stroke_rule(fz_context *fz, fz_buffer *c, float x0, float x1, float y)
{
	fz_append_printf(fz, c, "%g %g %g %g re f\n", x0, y - 0.25f, x1 - x0, 0.5f);
}

static void stroke_vrule(fz_context *fz, fz_buffer *c, float x, float y0, float y1)
{
	fz_append_printf(fz, c, "%g %g %g %g re f\n", x - 0.25f, y0, 0.5f, y1 - y0);
}

/* Write one page: the rows placed on it (row I at Y[I] from the top), the
 * table rules, and the footer row F. */
static void write_page(sc_layout *L, float pw, float ph, sc_row *rows, const float *ys, int n, sc_row *footer,
	float fy)
{
	fz_context *fz = L->ctx->fz;
	pdf_document *pdf = L->pdf;
	fz_buffer *c = NULL;
	pdf_obj *res = NULL, *xo, *page = NULL;
	int i, j, pass;

	fz_var(c);
	fz_var(res);
	fz_var(page);
	fz_try(fz) {
		c = fz_new_buffer(fz, 4096);
		res = pdf_new_dict(fz, pdf, 2);
		xo = pdf_dict_put_dict(fz, res, PDF_NAME(XObject), 32);
		/* Shading and rules first, cells over them. */
		fz_append_string(fz, c, "q 0.93 g\n");
		for (i = 0; i < n; i++)
			if (rows[i].kind == K_HEAD)
				fz_append_printf(fz, c, "%g %g %g %g re f\n", rows[i].slot[0].x, ph - ys[i] - rows[i].h * rows[i].scale,
					rows[i].slot[rows[i].n - 1].x + rows[i].slot[rows[i].n - 1].w - rows[i].slot[0].x,
					rows[i].h * rows[i].scale);
		fz_append_string(fz, c, "Q q 0.6 g\n");
		for (i = 0; i < n; i++) {
			sc_row *r = &rows[i];
			float top = ph - ys[i], bottom = top - r->h * r->scale;
			float x0 = r->slot[0].x, x1;
			if (r->kind != K_ROW && r->kind != K_HEAD)
				continue;
			x1 = r->slot[r->n - 1].x + r->slot[r->n - 1].w;
			x1 = x0 + (x1 - x0) * r->scale;
			/* Top rule where the table starts on this page. */
			if (i == 0 || rows[i - 1].table != r->table || (rows[i - 1].kind != K_ROW && rows[i - 1].kind != K_HEAD))
				stroke_rule(fz, c, x0, x1, top);
			stroke_rule(fz, c, x0, x1, bottom);
			for (j = 0; j <= r->n; j++) {
				float x = j < r->n ? r->slot[j].x : r->slot[r->n - 1].x + r->slot[r->n - 1].w;
				stroke_vrule(fz, c, x0 + (x - x0) * r->scale, bottom, top);
			}
		}
		fz_append_string(fz, c, "Q\n");
		for (pass = 0; pass < 2; pass++) {
			sc_row *rs = pass ? footer : rows;
			int count = pass ? (footer ? 1 : 0) : n;
			for (i = 0; i < count; i++) {
				sc_row *r = &rs[i];
				float top = ph - (pass ? fy : ys[i]);
				float x0 = r->slot[0].x;
				for (j = 0; j < r->n; j++) {
					const sc_cellent *ce;
					char name[16];
					float cx;
					if (r->slot[j].cell < 0)
						continue;
					ce = &L->cells[r->slot[j].cell];
					fz_snprintf(name, sizeof name, "C%d", r->slot[j].cell);
					pdf_dict_puts(fz, xo, name, ce->xobj);
					cx = x0 + (r->slot[j].x - x0) * r->scale;
					fz_append_printf(fz, c, "q %g 0 0 %g %g %g cm /%s Do Q\n", r->scale, r->scale, cx,
						top - ce->h * r->scale, name);
				}
			}
		}
		page = pdf_add_page(fz, pdf, fz_make_rect(0, 0, pw, ph), 0, res, c);
		pdf_insert_page(fz, pdf, -1, page);
	}
	fz_always(fz) {
		fz_drop_buffer(fz, c);
		pdf_drop_obj(fz, res);
		pdf_drop_obj(fz, page);
	}
	fz_catch(fz)
		fz_rethrow(fz);
}

/* ------------------------------------------------------------- build */

typedef struct {
	signcore_ctx *ctx;
	const char *zone;
	char zone_abbr[32];
	int two_times;
} sc_fmt;

static void fmt_time(sc_fmt *F, long long t, const char *zone, char *buf, size_t size)
{
	if (signcore_format_time(F->ctx, buf, size, t, zone, "%Y-%m-%d %H:%M:%S %Z"))
		snprintf(buf, size, "?");
}

/* Without the zone: the column header names it. */
static void fmt_bare(sc_fmt *F, long long t, const char *zone, char *buf, size_t size)
{
	if (signcore_format_time(F->ctx, buf, size, t, zone, "%Y-%m-%d %H:%M:%S"))
		snprintf(buf, size, "?");
}

/* "2026-11-21 10:00:00 UTC" and, when a zone is chosen, a second line in
 * that zone. */
static void fmt_both(sc_fmt *F, long long t, char *buf, size_t size)
{
	char a[64], b[64];

	fmt_time(F, t, "UTC", a, sizeof a);
	if (!F->two_times) {
		snprintf(buf, size, "%s", a);
		return;
	}
	fmt_time(F, t, F->zone, b, sizeof b);
	snprintf(buf, size, "%s\n%s", a, b);
}

static long long when_of(const char *s)
{
	long long t = 0;
	int d;

	if (!s || signcore__parse_when(s, 0, &t, &d))
		return 0;
	return t;
}

/* All the text the pages will show, for the font subsets. */
static void gather(fz_context *fz, fz_buffer *all, const json_t *v)
{
	if (json_is_string(v)) {
		fz_append_string(fz, all, json_string_value(v));
		fz_append_byte(fz, all, ' ');
	} else if (json_is_object(v)) {
		const char *key;
		json_t *val;
		json_object_foreach((json_t *)v, key, val) {
			if (strcmp(key, "image") && strcmp(key, "prev_sha256"))
				gather(fz, all, val);
		}
	} else if (json_is_array(v)) {
		size_t i;
		for (i = 0; i < json_array_size(v); i++)
			gather(fz, all, json_array_get(v, i));
	}
}

static const char *const ui_text =
	"Audit trail · page of Generated Document ID Title Status Pages Created Completed Original file SHA-256 "
	"Document SHA-256 before this audit trail Event chain SHA-256 Events Recipients Recipient Role "
	"Authentication IP address Device Result Signature Event log (continued) # Time (UTC) Time Event Actor "
	"Details Signed Declined Pending No events recorded. signer approver viewer cc 0123456789 :-+()…—,./";

/* The signature thumbnail of recipient R in a W x H box, or NULL. */
static pdf_obj *thumbnail(signcore_ctx *ctx, pdf_document *pdf, const json_t *sig, const char *base_dir,
	const char *where, float w, float h)
{
	fz_context *fz = ctx->fz;
	const char *text = get_str(sig, "text"), *image = get_str(sig, "image");
	fz_buffer *buf = NULL;
	fz_image *img = NULL;
	pdf_obj *x = NULL;

	if (text && *text) {
		sc_style st = { SIGNCORE_FIELD_SIGNATURE, "script", 0, SIGNCORE_ALIGN_CENTER, 0 };
		return signcore__ap_text(ctx, pdf, &st, text, w, h, 0);
	}
	if (!image || !*image)
		return NULL;
	fz_var(buf);
	fz_var(img);
	fz_try(fz) {
		if (!strncmp(image, "data:", 5)) {
			const char *comma = strchr(image, ',');
			if (!comma || !strstr(image, ";base64"))
				signcore__throw(ctx, SIGNCORE_EBADINPUT, "%s: signature image: a data: URL must be base64", where);
			buf = fz_new_buffer_from_base64(fz, comma + 1, 0);
		} else {
			char path[4096];
			if (image[0] != '/' && base_dir && *base_dir)
				fz_snprintf(path, sizeof path, "%s/%s", base_dir, image);
			else
				fz_strlcpy(path, image, sizeof path);
			fz_try(fz)
				buf = fz_read_file(fz, path);
			fz_catch(fz)
				signcore__throw(ctx, SIGNCORE_ENOTFOUND, "%s: signature image %s cannot be read", where, path);
		}
		if (!signcore__image_kind(buf->data, buf->len))
			signcore__throw(ctx, SIGNCORE_EBADINPUT, "%s: signature image is not a PNG or JPEG image", where);
		fz_try(fz)
			img = signcore__image_load(ctx, buf->data, buf->len);
		fz_catch(fz)
			signcore__throw(ctx, SIGNCORE_EBADINPUT, "%s: signature image cannot be decoded: %s", where,
				fz_caught_message(fz));
		x = signcore__ap_image(ctx, pdf, img, w, h, 0);
	}
	fz_always(fz) {
		fz_drop_buffer(fz, buf);
		fz_drop_image(fz, img);
	}
	fz_catch(fz)
		fz_rethrow(fz);
	return x;
}

/* SHA-256 of the document's bytes as opened. */
static int doc_sha256(signcore_doc *doc, char out[65])
{
	signcore_ctx *ctx = doc->ctx;
	fz_context *fz = ctx->fz;
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	unsigned char buf[65536], h[32];
	unsigned int hl = 0;
	size_t n;
	int code = 0;

	if (!mc || !EVP_DigestInit_ex(mc, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(mc);
		return signcore__err(ctx, SIGNCORE_ECRYPTO, "SHA-256 is not available");
	}
	fz_try(fz) {
		fz_seek(fz, doc->pdf->file, 0, SEEK_SET);
		while ((n = fz_read(fz, doc->pdf->file, buf, sizeof buf)) > 0)
			EVP_DigestUpdate(mc, buf, n);
	}
	fz_catch(fz)
		code = signcore__caught(ctx, SIGNCORE_EIO, "reading the document");
	if (!code && !EVP_DigestFinal_ex(mc, h, &hl))
		code = signcore__err(ctx, SIGNCORE_ECRYPTO, "SHA-256 failed");
	EVP_MD_CTX_free(mc);
	if (!code)
		hex(h, 32, out);
	return code;
}

static const char *status_of(const json_t *doc, const json_t *events)
{
	const char *s = get_str(doc, "status");
	size_t i;

	if (s && *s)
		return s;
	s = "in progress";
	for (i = 0; i < json_array_size(events); i++) {
		const char *t = get_str(json_array_get(events, i), "type");
		if (!strcmp(t, "document.completed"))
			s = "completed";
		else if (!strcmp(t, "document.voided"))
			s = "voided";
		else if (!strcmp(t, "document.expired"))
			s = "expired";
		else if (!strcmp(t, "document.declined") || !strcmp(t, "signer.declined") || !strcmp(t, "approval.rejected"))
			s = "declined";
	}
	return s;
}

/* The time of the first event of TYPE, or 0. */
static long long first_event(const json_t *events, const char *type)
{
	size_t i;

	for (i = 0; i < json_array_size(events); i++) {
		const json_t *ev = json_array_get(events, i);
		if (!strcmp(get_str(ev, "type"), type))
			return when_of(get_str(ev, "at"));
	}
	return 0;
}

/* The name (and e-mail) of the recipient with id ID, or NULL. */
static const json_t *recipient_by_id(const json_t *recipients, const char *id)
{
	size_t i;

	for (i = 0; id && i < json_array_size(recipients); i++) {
		const json_t *r = json_array_get(recipients, i);
		const char *rid = get_str(r, "id");
		if ((rid && !strcmp(rid, id)) || !strcmp(get_str(r, "email"), id))
			return r;
	}
	return NULL;
}

typedef struct {
	signcore_doc *doc;
	sc_log *lg;
	const signcore_audit_options *o;
	const char *before;
	sc_fmt F;
	sc_layout L;
	sc_rows R;
	float pw, ph, cw;
	int npages_before;
	long long now;
} sc_build;

static void header_rows(sc_build *B)
{
	sc_layout *L = &B->L;
	fz_context *fz = L->ctx->fz;
	const json_t *doc = B->lg->doc, *events = B->lg->events;
	long long created = when_of(get_str(doc, "created_at")), completed = when_of(get_str(doc, "completed_at"));
	const char *orig = get_str(doc, "original_sha256");
	const char *labels[10], *values[10], *cls[10];
	float lw = 150, cw = B->cw;
	char buf[160];
	sc_row *r;
	int n = 0, i;

	r = add_row(fz, &B->R, K_TITLE, 0);
	row_put(L, r, text_cell(L, "h1", "Audit trail", cw), MARGIN, cw);
	r = add_row(fz, &B->R, K_TITLE, 0);
	row_put(L, r, text_cell(L, "t", keep(L, clip(fz, get_str(doc, "title"), 300)), cw), MARGIN, cw);
	add_row(fz, &B->R, K_GAP, 0)->h = 8;

	if (!created)
		created = first_event(events, "document.created");
	if (!completed)
		completed = first_event(events, "document.completed");
	labels[n] = "Document ID"; values[n] = keep(L, clip(fz, get_str(doc, "id"), 100)); cls[n++] = "m";
	labels[n] = "Status"; values[n] = status_of(doc, events); cls[n++] = "p";
	snprintf(buf, sizeof buf, "%d", B->npages_before);
	labels[n] = "Pages"; values[n] = keep(L, fz_strdup(fz, buf)); cls[n++] = "p";
	if (created) {
		fmt_both(&B->F, created, buf, sizeof buf);
		labels[n] = "Created"; values[n] = keep(L, fz_strdup(fz, buf)); cls[n++] = "p";
	}
	if (completed) {
		fmt_both(&B->F, completed, buf, sizeof buf);
		labels[n] = "Completed"; values[n] = keep(L, fz_strdup(fz, buf)); cls[n++] = "p";
	}
	labels[n] = "Original file SHA-256";
	values[n] = keep(L, clip(fz, orig && *orig ? orig : "not given", 100));
	cls[n++] = orig && *orig ? "m" : "p";
	labels[n] = "Document SHA-256 before this audit trail"; values[n] = B->before; cls[n++] = "m";
	labels[n] = "Event chain SHA-256"; values[n] = B->lg->chain; cls[n++] = "m";
	for (i = 0; i < n; i++) {
		r = add_row(fz, &B->R, K_ROW, 1);
		row_put(L, r, text_cell(L, "b", labels[i], lw), MARGIN, lw);
		row_put(L, r, text_cell(L, cls[i], values[i], cw - lw), MARGIN + lw, cw - lw);
	}
}

/* The thumbnail XObject T (w x h) inside a padded cell of the row; T is
 * dropped. */
static void thumb_cell(sc_layout *L, sc_row *r, pdf_obj *t, float x, float w, float h)
{
	fz_context *fz = L->ctx->fz;
	fz_buffer *c = NULL;
	pdf_obj *res = NULL, *xo, *cell = NULL;

	fz_var(c);
	fz_var(res);
	fz_var(cell);
	fz_try(fz) {
		c = fz_new_buffer(fz, 64);
		res = pdf_new_dict(fz, L->pdf, 1);
		xo = pdf_dict_put_dict(fz, res, PDF_NAME(XObject), 1);
		pdf_dict_puts(fz, xo, "S", t);
		fz_append_printf(fz, c, "q 1 0 0 1 %g %g cm /S Do Q\n", PAD, PAD);
		cell = pdf_new_xobject(fz, L->pdf, fz_make_rect(0, 0, w, h), fz_identity, res, c);
		row_put(L, r, xobj_cell(L, cell, h), x, w);
	}
	fz_always(fz) {
		fz_drop_buffer(fz, c);
		pdf_drop_obj(fz, res);
		pdf_drop_obj(fz, cell);
		pdf_drop_obj(fz, t);
	}
	fz_catch(fz)
		fz_rethrow(fz);
}

static void recipient_rows(sc_build *B)
{
	static const float frac[5] = { 0.29f, 0.16f, 0.20f, 0.19f, 0.16f };
	static const char *const head[5] = { "Recipient", "Role\nAuthentication", "IP address\nDevice", "Result",
		"Signature" };
	sc_layout *L = &B->L;
	signcore_ctx *ctx = L->ctx;
	fz_context *fz = ctx->fz;
	const json_t *recipients = B->lg->recipients;
	float ws[5];
	sc_row *r;
	size_t k;
	int i;

	for (i = 0; i < 5; i++)
		ws[i] = B->cw * frac[i];
	add_row(fz, &B->R, K_GAP, 0)->h = 14;
	r = add_row(fz, &B->R, K_TITLE, 0);
	row_put(L, r, text_cell(L, "h2", "Recipients", B->cw), MARGIN, B->cw);
	table_row(L, &B->R, K_HEAD, 2, "b", head, ws, 5, MARGIN);
	for (k = 0; k < json_array_size(recipients); k++) {
		const json_t *rc = json_array_get(recipients, k);
		const char *role = get_str(rc, "role"), *auth = get_str(rc, "auth");
		const char *ip = get_str(rc, "ip"), *ua = get_str(rc, "user_agent");
		const char *signed_at = get_str(rc, "signed_at"), *declined_at = get_str(rc, "declined_at");
		const json_t *sig = json_object_get(rc, "signature");
		const char *cells[4];
		char where[48], when[160];
		pdf_obj *t;
		float th;

		cells[0] = keep(L, fz_asprintf(fz, "%s\n%s", keep(L, clip(fz, get_str(rc, "name"), 200)),
			keep(L, clip(fz, get_str(rc, "email"), 254))));
		cells[1] = keep(L, fz_asprintf(fz, "%s\n%s", role && *role ? role : "signer",
			auth && *auth ? auth_label(auth) : "—"));
		cells[2] = keep(L, fz_asprintf(fz, "%s\n%s", ip && *ip ? ip : "—",
			ua && *ua ? keep(L, short_agent(fz, ua)) : "—"));
		if (signed_at || declined_at) {
			fmt_both(&B->F, when_of(signed_at ? signed_at : declined_at), when, sizeof when);
			cells[3] = keep(L, fz_asprintf(fz, "%s\n%s", signed_at ? "Signed" : "Declined", when));
		} else {
			cells[3] = "Pending";
		}
		r = table_row(L, &B->R, K_ROW, 2, "p", cells, ws, 4, MARGIN);
		snprintf(where, sizeof where, "recipient %zu", k + 1);
		th = r->h > 34 ? r->h : 34;
		t = json_is_object(sig) ? thumbnail(ctx, L->pdf, sig, B->o->base_dir, where, ws[4] - 2 * PAD, th - 2 * PAD)
			: NULL;
		if (t) {
			thumb_cell(L, r, t, MARGIN + B->cw - ws[4], ws[4], th);
		} else {
			row_put(L, r, text_cell(L, "s", "—", ws[4]), MARGIN + B->cw - ws[4], ws[4]);
		}
	}
}

static void event_rows(sc_build *B)
{
	sc_layout *L = &B->L;
	fz_context *fz = L->ctx->fz;
	const json_t *recipients = B->lg->recipients;
	float ws[6], used = 0, cw = B->cw;
	const char *head[6];
	int ncol = 0, two = B->F.two_times, i;
	sc_row *r;
	size_t k;

	ws[ncol] = 22; head[ncol++] = "#";
	ws[ncol] = two ? 82 : 100; head[ncol++] = "Time (UTC)";
	if (two) {
		ws[ncol] = 82;
		head[ncol++] = keep(L, fz_asprintf(fz, "Time (%s)", B->F.zone));
	}
	ws[ncol] = 0; head[ncol++] = "Event";
	ws[ncol] = 0.22f * cw; head[ncol++] = "Actor";
	ws[ncol] = 74; head[ncol++] = "IP address";
	for (i = 0; i < ncol; i++)
		used += ws[i];
	ws[two ? 3 : 2] = cw - used;

	add_row(fz, &B->R, K_GAP, 0)->h = 14;
	r = add_row(fz, &B->R, K_TITLE, 0);
	row_put(L, r, text_cell(L, "h2", "Event log", cw), MARGIN, cw);
	table_row(L, &B->R, K_HEAD, 3, "b", head, ws, ncol, MARGIN);
	if (B->lg->nevents == 0) {
		r = add_row(fz, &B->R, K_TITLE, 0);
		row_put(L, r, text_cell(L, "p", "No events recorded.", cw), MARGIN, cw);
	}
	for (k = 0; k < B->lg->nevents; k++) {
		const json_t *ev = json_array_get(B->lg->events, k);
		const char *type = get_str(ev, "type"), *actor = get_str(ev, "actor"), *ip = get_str(ev, "ip");
		const char *reason = get_str(ev, "reason");
		const json_t *who = recipient_by_id(recipients, actor);
		const json_t *subject = recipient_by_id(recipients, get_str(ev, "recipient"));
		long long t = when_of(get_str(ev, "at"));
		char num[24], tu[64], tl[64];
		const char *texts[6], *label = event_label(type), *act;
		int c = 0, nstrs = L->nstrs;

		snprintf(num, sizeof num, "%zu", k + 1);
		fmt_bare(&B->F, t, "UTC", tu, sizeof tu);
		if (two)
			fmt_bare(&B->F, t, B->F.zone, tl, sizeof tl);
		if (subject && subject != who)
			label = keep(L, fz_asprintf(fz, "%s\nfor %s", label, get_str(subject, "name")));
		if (reason && *reason)
			label = keep(L, fz_asprintf(fz, "%s\n%s", label, reason));
		label = keep(L, clip(fz, label, 400));
		if (who)
			act = keep(L, fz_asprintf(fz, "%s\n%s", get_str(who, "name"), get_str(who, "email")));
		else
			act = actor && *actor ? actor : "—";
		act = keep(L, clip(fz, act, 300));
		texts[c++] = num;
		texts[c++] = tu;
		if (two)
			texts[c++] = tl;
		texts[c++] = label;
		texts[c++] = act;
		texts[c++] = ip && *ip ? ip : "—";
		table_row(L, &B->R, K_ROW, 3, "p", texts, ws, ncol, MARGIN);
		/* Free this event's strings now: a log may hold many thousands. */
		while (L->nstrs > nstrs)
			fz_free(fz, L->strs[--L->nstrs]);
	}
}

/* Rows flow down the pages; a table continued on a new page repeats its
 * header row; a heading is kept with the row after it. Fills P with the
 * rows as placed, YS their tops, PAGE_OF their pages. Returns the page
 * count. */
static int paginate(sc_build *B, sc_rows *P, float *ys, int *page_of)
{
	fz_context *fz = B->L.ctx->fz;
	sc_rows *R = &B->R;
	float top = MARGIN, bottom = B->ph - MARGIN - FOOTER, avail = bottom - top, y = top;
	int head_of[4] = { -1, -1, -1, -1 }, page = 0, i;

	for (i = 0; i < R->n; i++) {
		sc_row row = R->rows[i];
		float hh;
		if (row.kind == K_HEAD)
			head_of[row.table] = i;
		if (row.h > avail)
			row.scale = avail / row.h;
		hh = row.h * row.scale;
		if (y > top && (y + hh > bottom || ((row.kind == K_TITLE || row.kind == K_HEAD) && i + 1 < R->n &&
			y + hh + R->rows[i + 1].h > bottom))) {
			page++;
			y = top;
			if (row.kind == K_ROW && row.table > 1 && head_of[row.table] >= 0) {
				sc_row *hr = &R->rows[head_of[row.table]];
				*add_row(fz, P, 0, 0) = *hr;
				ys[P->n - 1] = y;
				page_of[P->n - 1] = page;
				y += hr->h * hr->scale;
			}
		}
		if (row.kind == K_GAP && y == top)
			continue;
		*add_row(fz, P, 0, 0) = row;
		ys[P->n - 1] = y;
		page_of[P->n - 1] = page;
		y += hh;
	}
	return page + 1;
}

static void write_pages(sc_build *B, sc_rows *P, const float *ys, const int *page_of, int npages)
{
	sc_layout *L = &B->L;
	fz_context *fz = L->ctx->fz;
	float fws[2] = { B->cw * 0.6f, B->cw * 0.4f };
	char gen[64], ft[256], gt[96];
	sc_rows FR = { 0 };
	int page, first = 0, last;

	fmt_time(&B->F, B->now, "UTC", gen, sizeof gen);
	snprintf(gt, sizeof gt, "Generated %s", gen);
	fz_var(first);
	fz_try(fz) {
		for (page = 0; page < npages; page++) {
			const char *ftx[2];
			for (last = first; last < P->n && page_of[last] == page; last++)
				;
			snprintf(ft, sizeof ft, "Audit trail · page %d of %d · %s", page + 1, npages, get_str(B->lg->doc, "id"));
			ftx[0] = keep(L, clip(fz, ft, 160));
			ftx[1] = gt;
			FR.n = 0;
			table_row(L, &FR, K_TITLE, 0, "s", ftx, fws, 2, MARGIN);
			write_page(L, B->pw, B->ph, P->rows + first, ys + first, last - first, FR.rows,
				B->ph - MARGIN - FR.rows[0].h);
			first = last;
		}
	}
	fz_always(fz)
		fz_free(fz, FR.rows);
	fz_catch(fz)
		fz_rethrow(fz);
}

static void build(sc_build *B)
{
	sc_layout *L = &B->L;
	signcore_ctx *ctx = L->ctx;
	fz_context *fz = ctx->fz;
	sc_rows P = { 0 };
	fz_buffer *all = NULL;
	float *ys = NULL;
	int *page_of = NULL, npages, i;

	fz_var(all);
	fz_var(ys);
	fz_var(page_of);
	fz_try(fz) {
		all = fz_new_buffer(fz, 4096);
		fz_append_string(fz, all, ui_text);
		fz_append_string(fz, all, B->F.zone_abbr);
		fz_append_string(fz, all, B->F.zone);
		gather(fz, all, B->lg->doc);
		gather(fz, all, B->lg->recipients);
		gather(fz, all, B->lg->events);
		fz_terminate_buffer(fz, all);
		L->fs = signcore__fontset_new(ctx, "sans", (const char *)all->data, SC_FS_BOLD | SC_FS_MONO | SC_FS_BREAKS);
		L->css = fz_new_buffer(fz, 2048);
		fz_append_string(fz, L->css, "body{margin:0;padding:0}p{margin:0;padding:0;line-height:1.25}"
			".b{font-weight:bold}.h1{font-weight:bold;font-size:18pt}.h2{font-weight:bold;font-size:12pt}"
			".t{font-size:13pt}.m{font-size:7.5pt}.s{font-size:7pt;color:#555555}");
		fz_append_string(fz, L->css, signcore__fontset_css(L->fs));
		fz_terminate_buffer(fz, L->css);

		header_rows(B);
		recipient_rows(B);
		event_rows(B);
		ys = fz_malloc_array(fz, 2 * B->R.n + 8, float);
		page_of = fz_malloc_array(fz, 2 * B->R.n + 8, int);
		npages = paginate(B, &P, ys, page_of);
		write_pages(B, &P, ys, page_of, npages);
	}
	fz_always(fz) {
		for (i = 0; i < L->ncells; i++)
			pdf_drop_obj(fz, L->cells[i].xobj);
		fz_free(fz, L->cells);
		drop_scratch(L);
		fz_free(fz, B->R.rows);
		fz_free(fz, P.rows);
		fz_free(fz, ys);
		fz_free(fz, page_of);
		fz_drop_buffer(fz, L->css);
		signcore__fontset_drop(ctx, L->fs);
		fz_drop_buffer(fz, all);
	}
	fz_catch(fz)
		fz_rethrow(fz);
}

/* Paper, zone and times for the build. */
static int setup(sc_build *B)
{
	signcore_ctx *ctx = B->doc->ctx;
	const signcore_audit_options *o = B->o;
	int off;

	B->L.ctx = ctx;
	B->L.pdf = B->doc->pdf;
	B->L.em = 8;
	B->F.ctx = ctx;
	B->now = o->now ? o->now : (long long)time(NULL);
	B->F.zone = o->time_zone && *o->time_zone ? o->time_zone : "UTC";
	if (signcore__tz_offset(ctx, B->F.zone, B->now, &off, B->F.zone_abbr, sizeof B->F.zone_abbr))
		return ctx->last_code;
	B->F.two_times = strcmp(B->F.zone, "UTC") && strcmp(B->F.zone, "Etc/UTC") && strcmp(B->F.zone, "Z");
	B->npages_before = signcore_doc_page_count(B->doc);
	B->pw = 595;
	B->ph = 842;
	if (o->paper == SIGNCORE_PAPER_LETTER) {
		B->pw = 612;
		B->ph = 792;
	} else if (o->paper == SIGNCORE_PAPER_MATCH) {
		/* The last page's size as displayed, within reason. */
		double w = 0, h = 0;
		if (signcore_doc_page_size(B->doc, B->npages_before, &w, &h, NULL) == 0) {
			B->pw = (float)(w < 300 ? 300 : w > 2000 ? 2000 : w);
			B->ph = (float)(h < 300 ? 300 : h > 3000 ? 3000 : h);
		}
	}
	B->cw = B->pw - 2 * MARGIN;
	return 0;
}

/* 1 if DOC is signed, 0 if not, or an error code. */
static int is_signed(signcore_doc *doc)
{
	signcore_ctx *ctx = doc->ctx;
	int n = 0;

	fz_var(n);
	fz_try(ctx->fz)
		n = pdf_count_signatures(ctx->fz, doc->pdf);
	fz_catch(ctx->fz)
		return signcore__caught(ctx, SIGNCORE_EBADINPUT, "reading the signatures");
	return n > 0;
}

static int has_changes(signcore_doc *doc)
{
	signcore_ctx *ctx = doc->ctx;
	int dirty = 1;

	fz_var(dirty);
	fz_try(ctx->fz)
		dirty = pdf_has_unsaved_changes(ctx->fz, doc->pdf);
	fz_catch(ctx->fz)
		dirty = 1;
	return dirty;
}

static int run_build(sc_build *B)
{
	signcore_ctx *ctx = B->doc->ctx;
	int code = setup(B);

	if (code)
		return code;
	fz_try(ctx->fz)
		build(B);
	fz_catch(ctx->fz)
		code = signcore__caught(ctx, SIGNCORE_EINTERNAL, "audit trail");
	return code;
}

int signcore_audit_append(signcore_doc *doc, const char *json, size_t len, const signcore_audit_options *opts)
{
	signcore_audit_options defaults = SIGNCORE_AUDIT_OPTIONS_INIT;
	signcore_ctx *ctx;
	sc_log lg;
	char before[65];
	int code;

	if (!doc || !json)
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signcore_audit_append: NULL argument") : SIGNCORE_EINVAL;
	ctx = doc->ctx;
	signcore__clear_err(ctx);
	if (!opts)
		opts = &defaults;
	if (opts->version != SIGNCORE_AUDIT_OPTIONS_VERSION)
		return signcore__err(ctx, SIGNCORE_EINVAL, "signcore_audit_options: unknown version %u", opts->version);
	if (opts->paper != SIGNCORE_PAPER_A4 && opts->paper != SIGNCORE_PAPER_LETTER && opts->paper != SIGNCORE_PAPER_MATCH)
		return signcore__err(ctx, SIGNCORE_EINVAL, "signcore_audit_options: unknown paper %d", (int)opts->paper);

	code = log_load(ctx, &lg, json, len, opts->events_name);
	if (code) {
		log_free(&lg);
		return code;
	}
	code = is_signed(doc);
	if (code > 0)
		code = signcore__err(ctx, SIGNCORE_ESIGNED,
			"the document is signed: pages added after a signature invalidate it; "
			"append the audit trail before the final signature");
	if (!code && opts->before_sha256 && *opts->before_sha256) {
		size_t i, n = strlen(opts->before_sha256);
		for (i = 0; i < n && i < 64 && strchr("0123456789abcdefABCDEF", opts->before_sha256[i]); i++)
			before[i] = (char)(opts->before_sha256[i] | 0x20);
		if (n != 64 || i != n)
			code = signcore__err(ctx, SIGNCORE_EINVAL, "before_sha256 must be 64 hexadecimal digits");
		before[64] = 0;
	} else if (!code) {
		if (has_changes(doc))
			code = signcore__err(ctx, SIGNCORE_EINVAL,
				"the document has unsaved changes: save it first, or give before_sha256");
		else
			code = doc_sha256(doc, before);
	}
	if (!code) {
		sc_build B;
		memset(&B, 0, sizeof B);
		B.doc = doc;
		B.lg = &lg;
		B.o = opts;
		B.before = before;
		code = run_build(&B);
	}
	log_free(&lg);
	return code;
}
