/*
 * Shared helpers of the signcore command: options, input, output, errors.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("signcore: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_note(const cli_args *a, const char *fmt, ...)
{
	va_list ap;

	if (a->quiet)
		return;
	fputs("signcore: note: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_exit_code(int code)
{
	switch (code) {
	case SIGNCORE_OK:
		return EXIT_OK;
	case SIGNCORE_EIO:
	case SIGNCORE_ENOMEM:
	case SIGNCORE_EINTERNAL:
	case SIGNCORE_ENETWORK:
	case SIGNCORE_ECRYPTO:
		return EXIT_FAILED;
	default:
		return EXIT_BADINPUT;
	}
}

int cli_fail(signcore_ctx *ctx, int code)
{
	const char *msg = signcore_ctx_last_error(ctx);

	cli_error("%s", msg && *msg ? msg : signcore_strerror(code));
	return cli_exit_code(code);
}

int cli_parse(int argc, char **argv, cli_args *a, const char *usage, int want_output, int *help)
{
	int i;

	memset(a, 0, sizeof *a);
	*help = 0;
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			fputs(usage, stdout);
			*help = 1;
			return 0;
		} else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
			if (++i >= argc)
				goto missing;
			a->output = argv[i];
		} else if (!strcmp(s, "--password-file")) {
			if (++i >= argc)
				goto missing;
			a->password_file = argv[i];
		} else if (!strcmp(s, "--password-env")) {
			if (++i >= argc)
				goto missing;
			a->password_env = argv[i];
		} else if (!strcmp(s, "--fields")) {
			if (++i >= argc)
				goto missing;
			a->fields = argv[i];
		} else if (!strcmp(s, "--full-rewrite")) {
			a->full_rewrite = 1;
		} else if (!strcmp(s, "--json")) {
			a->json = 1;
		} else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
			a->quiet = 1;
		} else if (s[0] == '-' && s[1]) {
			cli_error("%s: unknown option %s (see signcore %s --help)", argv[0], s, argv[0]);
			return EXIT_BADINPUT;
		} else {
			if (a->npositional >= 4) {
				cli_error("%s: too many arguments (see signcore %s --help)", argv[0], argv[0]);
				return EXIT_BADINPUT;
			}
			a->positional[a->npositional++] = s;
		}
	}
	if (want_output && !a->output) {
		cli_error("%s: an output is required: -o OUT (or -o - for standard output)", argv[0]);
		return EXIT_BADINPUT;
	}
	a->input = a->npositional ? a->positional[0] : NULL;
	return 0;
missing:
	cli_error("%s: option %s needs a value", argv[0], argv[i - 1]);
	return EXIT_BADINPUT;
}

int cli_ctx_new(signcore_ctx **ctx)
{
	int code = signcore_ctx_new(ctx);

	if (code) {
		cli_error("cannot create a context: %s", signcore_strerror(code));
		return EXIT_FAILED;
	}
	return 0;
}

char *cli_read_file(const char *path, size_t *len, char *err, size_t errsz)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 65536, n = 0, got;
	char *buf;

	if (!f) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(cap + 1);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *grown = realloc(buf, cap * 2 + 1);
			if (!grown) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap *= 2;
		}
	}
	if (buf && ferror(f)) {
		snprintf(err, errsz, "%s: read error: %s", path, strerror(errno));
		free(buf);
		buf = NULL;
	} else if (!buf) {
		snprintf(err, errsz, "%s: out of memory", path);
	}
	if (f != stdin)
		fclose(f);
	if (buf) {
		buf[n] = 0;
		*len = n;
	}
	return buf;
}

char *cli_read_all(const char *path, size_t *len)
{
	char err[1024];
	char *buf = cli_read_file(path, len, err, sizeof err);

	if (!buf)
		cli_error("%s", err);
	return buf;
}

char *cli_path_join(const char *base_dir, const char *path)
{
	size_t nb, np;
	char *out;

	if (!base_dir || !*base_dir || !strcmp(base_dir, ".") || path[0] == '/' || !strcmp(path, "-"))
		return strdup(path);
	nb = strlen(base_dir);
	np = strlen(path);
	if (!(out = malloc(nb + np + 2)))
		return NULL;
	memcpy(out, base_dir, nb);
	out[nb] = '/';
	memcpy(out + nb + 1, path, np + 1);
	return out;
}

/* Passwords come from a file or the environment, never the command line,
 * where other users of the machine could read them. */
int cli_secret(const char *file, const char *env, char **out)
{
	*out = NULL;
	if (env) {
		const char *v = getenv(env);
		if (!v) {
			cli_error("--password-env: the variable %s is not set", env);
			return EXIT_BADINPUT;
		}
		*out = strdup(v);
	} else if (file) {
		size_t len;
		char *p = cli_read_all(file, &len);
		if (!p)
			return EXIT_BADINPUT;
		while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
			p[--len] = 0;
		*out = p;
	}
	return 0;
}

void cli_wipe(char *secret)
{
	if (secret) {
		memset(secret, 0, strlen(secret));
		free(secret);
	}
}

int cli_open(signcore_ctx *ctx, const cli_args *a, signcore_doc **doc)
{
	signcore_open_options oo = SIGNCORE_OPEN_OPTIONS_INIT;
	char *password = NULL;
	int rc, code;

	if (!a->input) {
		cli_error("no input PDF given (see --help)");
		return EXIT_BADINPUT;
	}
	if ((rc = cli_secret(a->password_file, a->password_env, &password)))
		return rc;
	oo.password = password;
	if (!strcmp(a->input, "-")) {
		size_t len;
		char *data = cli_read_all("-", &len);
		if (!data) {
			free(password);
			return EXIT_BADINPUT;
		}
		code = signcore_doc_open_memory(ctx, doc, data, len, &oo);
		free(data);
	} else {
		code = signcore_doc_open(ctx, doc, a->input, &oo);
	}
	cli_wipe(password);
	if (code)
		return cli_fail(ctx, code);
	return 0;
}

int cli_save(signcore_ctx *ctx, const cli_args *a, signcore_doc *doc)
{
	signcore_save_options so = SIGNCORE_SAVE_OPTIONS_INIT;
	int code;

	so.full_rewrite = a->full_rewrite;
	if (!strcmp(a->output, "-")) {
		unsigned char *data;
		size_t len;
		code = signcore_doc_save_memory(doc, &data, &len, &so);
		if (code)
			return cli_fail(ctx, code);
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
			signcore_free(data);
			cli_error("standard output: write error: %s", strerror(errno));
			return EXIT_FAILED;
		}
		signcore_free(data);
	} else {
		code = signcore_doc_save(doc, a->output, &so);
		if (code)
			return cli_fail(ctx, code);
	}
	if (signcore_doc_repaired(doc))
		cli_note(a, "%s was damaged and has been repaired; the output is a full rewrite",
			strcmp(a->input, "-") ? a->input : "standard input");
	return 0;
}
