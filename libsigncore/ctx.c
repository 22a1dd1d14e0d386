/*
 * Contexts, error reporting and bundled fonts.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mupdf/ucdn.h>

#ifndef SIGNCORE_FONTDIR
#define SIGNCORE_FONTDIR "/usr/local/share/signcore/fonts"
#endif

static const char *const font_files[SC_FONT_COUNT] = {
	[SC_FONT_SCRIPT] = "DancingScript-Regular.otf",
	[SC_FONT_DEVANAGARI] = "NotoSansDevanagari-Regular.ttf",
	[SC_FONT_TAMIL] = "NotoSansTamil-Regular.ttf",
	[SC_FONT_BENGALI] = "NotoSansBengali-Regular.ttf",
	[SC_FONT_GUJARATI] = "NotoSansGujarati-Regular.ttf",
	[SC_FONT_ARABIC] = "NotoNaskhArabic-Regular.ttf",
	[SC_FONT_TELUGU] = "NotoSansTelugu-Regular.ttf",
	[SC_FONT_KANNADA] = "NotoSansKannada-Regular.ttf",
	[SC_FONT_MALAYALAM] = "NotoSansMalayalam-Regular.ttf",
	[SC_FONT_GURMUKHI] = "NotoSansGurmukhi-Regular.ttf",
};

const char *signcore_strerror(int code)
{
	switch (code) {
	case SIGNCORE_OK: return "success";
	case SIGNCORE_EINVAL: return "invalid argument";
	case SIGNCORE_ENOTFOUND: return "not found";
	case SIGNCORE_EBADINPUT: return "bad input";
	case SIGNCORE_ENEEDPASS: return "password required";
	case SIGNCORE_EPASSWORD: return "wrong password";
	case SIGNCORE_EUNSUPPORTED: return "unsupported";
	case SIGNCORE_ECRYPTO: return "cryptographic failure";
	case SIGNCORE_ENETWORK: return "network failure";
	case SIGNCORE_EIO: return "input/output error";
	case SIGNCORE_ETOOSMALL: return "too small";
	case SIGNCORE_ESIGNED: return "would break an existing signature";
	case SIGNCORE_EEXISTS: return "already exists";
	case SIGNCORE_ERANGE: return "out of range";
	case SIGNCORE_ENOMEM: return "out of memory";
	case SIGNCORE_EINTERNAL: return "internal error";
	case SIGNCORE_ETAMPERED: return "the audit log was altered";
	default: return "unknown error";
	}
}

const char *signcore_version(void)
{
	return SIGNCORE_VERSION;
}

static void vset(signcore_ctx *ctx, int code, const char *fmt, va_list ap)
{
	ctx->last_code = code;
	vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
}

int signcore__err(signcore_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(ctx, code, fmt, ap);
	va_end(ap);
	return code;
}

void signcore__throw(signcore_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(ctx, code, fmt, ap);
	va_end(ap);
	ctx->thrown = 1;
	fz_throw(ctx->fz, FZ_ERROR_GENERIC, "%s", ctx->message);
}

int signcore__prefix_err(signcore_ctx *ctx, int code, const char *fmt, ...)
{
	char prefix[SC_ERRMSG_MAX / 2], msg[SC_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof msg, "%s", ctx->message);
	return signcore__err(ctx, code, "%s: %s", prefix, msg);
}

void signcore__throw_last(signcore_ctx *ctx, int code)
{
	ctx->last_code = code;
	ctx->thrown = 1;
	fz_throw(ctx->fz, FZ_ERROR_GENERIC, "%s", ctx->message);
}

int signcore__caught(signcore_ctx *ctx, int code, const char *prefix)
{
	int fzcode = fz_caught(ctx->fz);
	const char *msg = fz_caught_message(ctx->fz);

	if (ctx->thrown) {
		ctx->thrown = 0;
		return ctx->last_code;
	}
	if (fzcode == FZ_ERROR_MEMORY)
		code = SIGNCORE_ENOMEM;
	if (prefix && *prefix)
		return signcore__err(ctx, code, "%s: %s", prefix, msg);
	return signcore__err(ctx, code, "%s", msg);
}

void signcore__clear_err(signcore_ctx *ctx)
{
	ctx->last_code = 0;
	ctx->message[0] = 0;
	ctx->thrown = 0;
}

const char *signcore_ctx_last_error(const signcore_ctx *ctx)
{
	return ctx ? ctx->message : "no context";
}

char *signcore__strdup(const char *s)
{
	size_t n;
	char *d;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

void signcore_free(void *ptr)
{
	free(ptr);
}

void signcore__buffer_out(fz_context *fz, fz_buffer *buf, unsigned char **data, size_t *len)
{
	unsigned char *bytes, *copy;
	size_t n = fz_buffer_storage(fz, buf, &bytes);

	/* malloc'd, not fz_malloc'd: signcore_free() is free(). */
	copy = malloc(n ? n : 1);
	if (!copy)
		fz_throw(fz, FZ_ERROR_MEMORY, "out of memory");
	if (n)
		memcpy(copy, bytes, n);
	*data = copy;
	*len = n;
}

/* MuPDF reports recoverable problems as warnings on stderr; a library must
 * not print, so keep the last one for diagnostics instead. */
static void on_warning(void *user, const char *message)
{
	signcore_ctx *ctx = user;
	ctx->warnings++;
	snprintf(ctx->last_warning, sizeof ctx->last_warning, "%s", message);
}

static void on_error(void *user, const char *message)
{
	(void)user;
	(void)message;
}

const char *signcore__font_file(int which)
{
	return font_files[which];
}

fz_buffer *signcore__font_buffer(signcore_ctx *ctx, int which)
{
	char path[4096];

	if (!ctx->font_bufs[which]) {
		snprintf(path, sizeof path, "%s/%s", ctx->font_dir, font_files[which]);
		fz_try(ctx->fz)
			ctx->font_bufs[which] = fz_read_file(ctx->fz, path);
		fz_catch(ctx->fz)
			signcore__throw(ctx, SIGNCORE_ENOTFOUND,
				"bundled font %s not found in %s (set SIGNCORE_FONT_DIR)",
				font_files[which], ctx->font_dir);
	}
	return ctx->font_bufs[which];
}

/* Script fallback for sans-serif text: MuPDF's built-in Indic faces are
 * serif, which clashes with sans fields, so hand out our bundled Noto Sans
 * faces. Serif text keeps MuPDF's built-in (serif) faces. */
static fz_font *load_fallback(fz_context *fz, int script, int language, int serif, int bold, int italic)
{
	signcore_ctx *ctx = fz_user_context(fz);
	int which;
	fz_font *font = NULL;

	(void)language;
	(void)bold;
	(void)italic;
	if (!ctx || serif)
		return NULL;
	switch (script) {
	case UCDN_SCRIPT_DEVANAGARI: which = SC_FONT_DEVANAGARI; break;
	case UCDN_SCRIPT_TAMIL: which = SC_FONT_TAMIL; break;
	case UCDN_SCRIPT_BENGALI: which = SC_FONT_BENGALI; break;
	case UCDN_SCRIPT_GUJARATI: which = SC_FONT_GUJARATI; break;
	case UCDN_SCRIPT_ARABIC: which = SC_FONT_ARABIC; break;
	case UCDN_SCRIPT_TELUGU: which = SC_FONT_TELUGU; break;
	case UCDN_SCRIPT_KANNADA: which = SC_FONT_KANNADA; break;
	case UCDN_SCRIPT_MALAYALAM: which = SC_FONT_MALAYALAM; break;
	case UCDN_SCRIPT_GURMUKHI: which = SC_FONT_GURMUKHI; break;
	default: return NULL;
	}
	fz_try(fz)
		font = fz_new_font_from_buffer(fz, NULL, signcore__font_buffer(ctx, which), 0, 0);
	fz_catch(fz) {
		ctx->thrown = 0;
		font = NULL; /* fall back to MuPDF's built-in face */
	}
	return font;
}

int signcore_ctx_new(signcore_ctx **out)
{
	signcore_ctx *ctx;
	const char *dir;

	if (!out)
		return SIGNCORE_EINVAL;
	*out = NULL;
	ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return SIGNCORE_ENOMEM;
	ctx->fz = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	if (!ctx->fz) {
		free(ctx);
		return SIGNCORE_ENOMEM;
	}
	fz_set_user_context(ctx->fz, ctx);
	fz_set_warning_callback(ctx->fz, on_warning, ctx);
	fz_set_error_callback(ctx->fz, on_error, ctx);
	fz_install_load_system_font_funcs(ctx->fz, NULL, NULL, load_fallback);
	fz_try(ctx->fz)
		fz_register_document_handlers(ctx->fz);
	fz_catch(ctx->fz) {
		fz_drop_context(ctx->fz);
		free(ctx);
		return SIGNCORE_ENOMEM;
	}
	dir = getenv("SIGNCORE_DURABLE");
	ctx->durable = dir && *dir && strcmp(dir, "0") != 0;
	dir = getenv("SIGNCORE_FONT_DIR");
	ctx->font_dir = signcore__strdup(dir && *dir ? dir : SIGNCORE_FONTDIR);
	if (!ctx->font_dir) {
		fz_drop_context(ctx->fz);
		free(ctx);
		return SIGNCORE_ENOMEM;
	}
	*out = ctx;
	return SIGNCORE_OK;
}

void signcore_ctx_set_durable(signcore_ctx *ctx, int on)
{
	if (ctx)
		ctx->durable = on != 0;
}

int signcore_ctx_set_font_dir(signcore_ctx *ctx, const char *dir)
{
	char *copy;
	int i;

	if (!ctx || !dir || !*dir)
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "font directory must be a non-empty path")
			   : SIGNCORE_EINVAL;
	copy = signcore__strdup(dir);
	if (!copy)
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	free(ctx->font_dir);
	ctx->font_dir = copy;
	for (i = 0; i < SC_FONT_COUNT; i++) {
		fz_drop_buffer(ctx->fz, ctx->font_bufs[i]);
		ctx->font_bufs[i] = NULL;
	}
	return SIGNCORE_OK;
}

void signcore_ctx_free(signcore_ctx *ctx)
{
	int i;

	if (!ctx)
		return;
	signcore__font_subset_ahead_drop(ctx);
	signcore__font_cache_free(ctx);
	for (i = 0; i < SC_FONT_COUNT; i++)
		fz_drop_buffer(ctx->fz, ctx->font_bufs[i]);
	signcore__http_cleanup(ctx);
	for (i = 0; i < ctx->nzfonts; i++)
		fz_drop_buffer(ctx->fz, ctx->zfonts[i].z);
	signcore__deflate_free(ctx);
	fz_drop_context(ctx->fz);
	free(ctx->font_dir);
	free(ctx);
}
