/*
 * Shared helpers of the signcore command.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#ifndef SIGNCORE_CLI_H
#define SIGNCORE_CLI_H

#include <stddef.h>

#include "signcore.h"

/* Exit codes (documented in signcore(1) and the README). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,   /* the operation failed: output not writable, out of memory, internal */
	EXIT_BADINPUT = 2  /* usage error or bad input: nothing was written */
};

typedef struct {
	const char *input;        /* PDF path or "-" */
	const char *output;       /* -o: path or "-" */
	const char *password_file;
	const char *password_env;
	int full_rewrite;
	int quiet;
	int json;
	const char *fields;       /* flatten --fields a,b */
	const char *positional[4];
	int npositional;
} cli_args;

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_note(const cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exit code for a library error code. */
int cli_exit_code(int code);
/* Report a library failure and return its exit code. */
int cli_fail(signcore_ctx *ctx, int code);

/* Parse the options every PDF-processing subcommand shares. Returns -1 after
 * printing usage help (exit 0 for --help), or an exit code >= 1 on error. */
int cli_parse(int argc, char **argv, cli_args *a, const char *usage, int want_output, int *help);
/* Create the library context; prints the reason and returns an exit code
 * (EXIT_FAILED) if it cannot. */
int cli_ctx_new(signcore_ctx **ctx);
/* Read PATH ("-" = stdin) whole. NULL with a message printed on failure. */
char *cli_read_all(const char *path, size_t *len);
/* A password from FILE (first line) or the environment variable ENV;
 * *OUT is NULL when neither is given. Returns an exit code. */
int cli_secret(const char *file, const char *env, char **out);
/* Overwrite and free a password. */
void cli_wipe(char *secret);
/* Open the input PDF (path or stdin) with the password options. */
int cli_open(signcore_ctx *ctx, const cli_args *a, signcore_doc **doc);
/* Save the document to the output (path or stdout) atomically. */
int cli_save(signcore_ctx *ctx, const cli_args *a, signcore_doc *doc);

int cmd_info(int argc, char **argv);
int cmd_place(int argc, char **argv);
int cmd_fill(int argc, char **argv);
int cmd_stamp(int argc, char **argv);
int cmd_flatten(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_timestamp(int argc, char **argv);
int cmd_ltv(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_audit(int argc, char **argv);

#endif
