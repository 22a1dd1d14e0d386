/*
 * Shared helpers of the signcore command.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#ifndef SIGNCORE_CLI_H
#define SIGNCORE_CLI_H

#include <stddef.h>

#include <jansson.h>

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
/* Same, NUL-terminated, with the reason in ERR instead of printed. */
char *cli_read_file(const char *path, size_t *len, char *err, size_t errsz);
/* PATH relative to BASE_DIR (unless absolute or BASE_DIR is NULL): a new
 * string, NULL when out of memory. */
char *cli_path_join(const char *base_dir, const char *path);
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
int cmd_batch(int argc, char **argv);

/* ------------------------------------------------------------------------
 * Signing options shared by sign, timestamp, ltv and batch (cli_sign.c).
 */
#define CLI_MAX_LIST 16

typedef struct {
	const char *cmd;
	const char *input, *output;
	const char *p12, *password_file, *password_env, *key, *cert, *chain, *key_password_file;
	const char *pdf_password_file, *pdf_password_env;
	const char *field, *rect, *units, *appearance, *level, *certify, *lock, *subfilter, *digest;
	const char *reason, *location, *contact, *name, *tsa_auth_env;
	const char *digest_out, *hash_of, *embed, *signature;
	const char *tsa[CLI_MAX_LIST], *trust[CLI_MAX_LIST];
	size_t ntsa, ntrust;
	int page, invisible, pss, prepare, lta, allow_missing, quiet;
} cli_sign_args;

/* An option only one command knows: return -1 when ARGV[*I] is not one, 0
 * when it was taken (*I advanced past its value), or an exit code. */
typedef int (*cli_extra_option)(void *ud, int argc, char **argv, int *i);

/* Parse the options of the signing commands; EXTRA (may be NULL) sees each
 * argument first. Returns 0 (HELP set after printing USAGE) or an exit code. */
int cli_sign_parse(int argc, char **argv, cli_sign_args *a, const char *usage, int *help,
	cli_extra_option extra, void *ud);
/* "B-B" .. "B-LTA" (NULL = B-B). cli_parse_level prints the error and
 * returns an exit code; cli_level_from_name returns -1. */
int cli_parse_level(const char *s, signcore_level *out);
int cli_level_from_name(const char *s, signcore_level *out);

typedef struct {
	signcore_sign_options o;
	signcore_sig_appearance ap;
	json_t *ap_json;
	char *image;
	size_t image_len;
	char *locks;
	const char *lock_list[256];
	char *tsa_auth;
} cli_sign_setup;

/* Build S->o from the options in A (appearance image read, locks split).
 * Release with cli_sign_setup_free, also after an error. */
int cli_sign_setup_init(const cli_sign_args *a, cli_sign_setup *s);
void cli_sign_setup_free(cli_sign_setup *s);
/* Fill AP from the appearance object J ({"image": "sig.png", "typed": ...});
 * the image file, relative to BASE_DIR (NULL = current directory), is read
 * into *IMAGE (free it). Strings stay borrowed from J. Returns 0, or -1 with
 * the reason in ERR. */
int cli_appearance_from_json(json_t *j, const char *base_dir, signcore_sig_appearance *ap,
	char **image, size_t *image_len, char *err, size_t errsz);
/* Like cli_secret, and on a terminal ask for PROMPT when neither is given. */
int cli_secret_prompt(const char *file, const char *env, const char *prompt, char **out);
/* Load the credentials of A (--p12 or --key/--cert/--chain); NEED_KEY 0
 * allows a certificate alone. Prints the error and returns an exit code. */
int cli_load_signer(signcore_ctx *ctx, const cli_sign_args *a, int need_key, signcore_signer **out);

#endif
