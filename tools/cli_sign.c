/*
 * Shared helpers of the signcore command: the signing options of sign,
 * timestamp, ltv and batch, credentials and visible signature appearances.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>


/* Read a password on the terminal with echo off. */
static char *prompt_password(const char *what)
{
	FILE *tty = fopen("/dev/tty", "r+");
	struct termios old, noecho;
	char buf[512];
	char *out = NULL;
	int restored = 0;

	if (!tty)
		return NULL;
	fprintf(tty, "%s: ", what);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &noecho);
		restored = 1;
	}
	if (fgets(buf, sizeof buf, tty)) {
		buf[strcspn(buf, "\r\n")] = 0;
		out = strdup(buf);
	}
	if (restored)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	memset(buf, 0, sizeof buf);
	return out;
}

/* A password from a file, a variable, or (on a terminal) a prompt. *OUT is
 * NULL when none applies. Returns an exit code. */
int cli_secret_prompt(const char *file, const char *env, const char *prompt, char **out)
{
	int rc = cli_secret(file, env, out);

	if (!rc && !file && !env && prompt && isatty(STDIN_FILENO))
		*out = prompt_password(prompt);
	return rc;
}

int cli_sign_parse(int argc, char **argv, cli_sign_args *a, const char *usage, int *help,
	cli_extra_option extra, void *ud)
{
	int i;

	memset(a, 0, sizeof *a);
	a->cmd = argv[0];
	*help = 0;
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char **slot = NULL;
		int is_list = 0;
#define OPT(name, field) else if (!strcmp(s, name)) slot = &a->field;
#define FLAG(name, field) else if (!strcmp(s, name)) { a->field = 1; continue; }
		if (extra) {
			int rc = extra(ud, argc, argv, &i);
			if (rc > 0)
				return rc;
			if (rc == 0)
				continue;
		}
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			fputs(usage, stdout);
			*help = 1;
			return 0;
		} else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
			slot = &a->output;
		}
		OPT("--p12", p12) OPT("--password-file", password_file) OPT("--password-env", password_env)
		OPT("--key", key) OPT("--cert", cert) OPT("--chain", chain) OPT("--key-password-file", key_password_file)
		OPT("--pdf-password-file", pdf_password_file) OPT("--pdf-password-env", pdf_password_env)
		OPT("--field", field) OPT("--rect", rect) OPT("--units", units) OPT("--appearance", appearance)
		OPT("--level", level) OPT("--certify", certify) OPT("--lock-fields", lock) OPT("--subfilter", subfilter)
		OPT("--digest", digest) OPT("--reason", reason) OPT("--location", location) OPT("--contact", contact)
		OPT("--name", name) OPT("--tsa-auth-env", tsa_auth_env) OPT("--digest-out", digest_out)
		OPT("--hash-of", hash_of) OPT("--embed", embed) OPT("--signature", signature)
		else if (!strcmp(s, "--tsa") || !strcmp(s, "--trust")) {
			is_list = 1;
		} else if (!strcmp(s, "--page")) {
			if (++i >= argc)
				goto missing;
			a->page = atoi(argv[i]);
			if (a->page < 1) {
				cli_error("%s: --page needs a page number from 1", a->cmd);
				return EXIT_BADINPUT;
			}
			continue;
		}
		FLAG("--invisible", invisible) FLAG("--pss", pss) FLAG("--prepare", prepare) FLAG("--lta", lta)
		FLAG("--allow-missing-revocation", allow_missing) FLAG("-q", quiet) FLAG("--quiet", quiet)
		else if (s[0] == '-' && s[1]) {
			cli_error("%s: unknown option %s (see signcore %s --help)", a->cmd, s, a->cmd);
			return EXIT_BADINPUT;
		} else {
			if (a->input) {
				cli_error("%s: too many arguments (see signcore %s --help)", a->cmd, a->cmd);
				return EXIT_BADINPUT;
			}
			a->input = s;
			continue;
		}
#undef OPT
#undef FLAG
		if (++i >= argc)
			goto missing;
		if (is_list) {
			size_t *n = !strcmp(s, "--tsa") ? &a->ntsa : &a->ntrust;
			const char **arr = !strcmp(s, "--tsa") ? a->tsa : a->trust;
			if (*n == CLI_MAX_LIST) {
				cli_error("%s: at most %d %s options", a->cmd, CLI_MAX_LIST, s);
				return EXIT_BADINPUT;
			}
			arr[(*n)++] = argv[i];
		} else {
			*slot = argv[i];
		}
	}
	return 0;
missing:
	cli_error("%s: option %s needs a value", a->cmd, argv[i - 1]);
	return EXIT_BADINPUT;
}

int cli_level_from_name(const char *s, signcore_level *out)
{
	if (!s || !strcasecmp(s, "B-B") || !strcasecmp(s, "BB"))
		*out = SIGNCORE_LEVEL_B_B;
	else if (!strcasecmp(s, "B-T") || !strcasecmp(s, "BT"))
		*out = SIGNCORE_LEVEL_B_T;
	else if (!strcasecmp(s, "B-LT") || !strcasecmp(s, "BLT"))
		*out = SIGNCORE_LEVEL_B_LT;
	else if (!strcasecmp(s, "B-LTA") || !strcasecmp(s, "BLTA"))
		*out = SIGNCORE_LEVEL_B_LTA;
	else
		return -1;
	return 0;
}

int cli_parse_level(const char *s, signcore_level *out)
{
	if (cli_level_from_name(s, out)) {
		cli_error("sign: unknown level \"%s\" (B-B, B-T, B-LT or B-LTA)", s);
		return EXIT_BADINPUT;
	}
	return 0;
}


void cli_sign_setup_free(cli_sign_setup *s)
{
	json_decref(s->ap_json);
	free(s->image);
	free(s->locks);
	cli_wipe(s->tsa_auth);
}

int cli_appearance_from_json(json_t *j, const char *base_dir, signcore_sig_appearance *ap,
	char **image, size_t *image_len, char *err, size_t errsz)
{
	json_t *v;

	*image = NULL;
	if (!json_is_object(j)) {
		snprintf(err, errsz, "must be a JSON object");
		return -1;
	}
	if ((v = json_object_get(j, "image"))) {
		char *path;
		if (!json_is_string(v)) {
			snprintf(err, errsz, "\"image\" must be a file name");
			return -1;
		}
		if (!(path = cli_path_join(base_dir, json_string_value(v)))) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		*image = cli_read_file(path, image_len, err, errsz);
		free(path);
		if (!*image)
			return -1;
		ap->image = *image;
		ap->image_len = *image_len;
	}
	if ((v = json_object_get(j, "typed")) && json_is_string(v))
		ap->typed = json_string_value(v);
	if ((v = json_object_get(j, "font")) && json_is_string(v))
		ap->font = json_string_value(v);
	if ((v = json_object_get(j, "text"))) {
		if (json_is_false(v))
			ap->text = "";
		else if (json_is_string(v))
			ap->text = json_string_value(v);
	}
	if ((v = json_object_get(j, "graphic")) && json_is_false(v))
		ap->no_graphic = 1;
	if ((v = json_object_get(j, "date_format")) && json_is_string(v))
		ap->date_format = json_string_value(v);
	if ((v = json_object_get(j, "time_zone")) && json_is_string(v))
		ap->time_zone = json_string_value(v);
	return 0;
}

static int load_appearance(const char *arg, cli_sign_setup *s)
{
	json_error_t je;
	char err[512];

	if (arg[0] == '{')
		s->ap_json = json_loads(arg, 0, &je);
	else
		s->ap_json = json_load_file(arg, 0, &je);
	if (!s->ap_json) {
		cli_error("sign: --appearance: %s (line %d, column %d)", je.text, je.line, je.column);
		return EXIT_BADINPUT;
	}
	if (cli_appearance_from_json(s->ap_json, NULL, &s->ap, &s->image, &s->image_len, err, sizeof err)) {
		cli_error("sign: --appearance: %s", err);
		return EXIT_BADINPUT;
	}
	return 0;
}

int cli_sign_setup_init(const cli_sign_args *a, cli_sign_setup *s)
{
	signcore_sign_options d = SIGNCORE_SIGN_OPTIONS_INIT;
	signcore_sig_appearance ad = SIGNCORE_SIG_APPEARANCE_INIT;
	signcore_sign_options *o = &s->o;
	int rc;

	memset(s, 0, sizeof *s);
	*o = d;
	s->ap = ad;
	o->field = a->field;
	if (a->page && !a->invisible) {
		if (!a->rect || sscanf(a->rect, "%lf,%lf,%lf,%lf", &o->rect[0], &o->rect[1], &o->rect[2], &o->rect[3]) != 4) {
			cli_error("%s: --page needs --rect x,y,w,h", a->cmd);
			return EXIT_BADINPUT;
		}
		o->page = a->page;
	} else if (a->rect && !a->invisible) {
		cli_error("%s: --rect needs --page", a->cmd);
		return EXIT_BADINPUT;
	}
	if (a->units) {
		if (!strcmp(a->units, "pt"))
			o->units = SIGNCORE_UNITS_PT;
		else if (!strcmp(a->units, "percent"))
			o->units = SIGNCORE_UNITS_PERCENT;
		else {
			cli_error("%s: --units must be pt or percent", a->cmd);
			return EXIT_BADINPUT;
		}
	}
	if ((rc = cli_parse_level(a->level, &o->level)))
		return rc;
	o->tsa_urls = a->tsa;
	o->tsa_count = a->ntsa;
	o->trust_files = a->trust;
	o->trust_count = a->ntrust;
	o->allow_missing_revocation = a->allow_missing;
	if (a->tsa_auth_env) {
		const char *v = getenv(a->tsa_auth_env);
		if (!v) {
			cli_error("%s: the variable %s is not set", a->cmd, a->tsa_auth_env);
			return EXIT_BADINPUT;
		}
		s->tsa_auth = strdup(v);
		o->tsa_auth = s->tsa_auth;
	}
	if (a->certify) {
		if (!strcmp(a->certify, "none"))
			o->certify = SIGNCORE_CERTIFY_NONE;
		else if (!strcmp(a->certify, "no-changes"))
			o->certify = SIGNCORE_CERTIFY_NO_CHANGES;
		else if (!strcmp(a->certify, "form-fill"))
			o->certify = SIGNCORE_CERTIFY_FORM_FILL;
		else if (!strcmp(a->certify, "annotations"))
			o->certify = SIGNCORE_CERTIFY_ANNOTATIONS;
		else {
			cli_error("%s: --certify must be none, no-changes, form-fill or annotations", a->cmd);
			return EXIT_BADINPUT;
		}
	}
	if (a->lock) {
		char *tok, *save;
		s->locks = strdup(a->lock);
		for (tok = strtok_r(s->locks, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (*tok && o->lock_count < 256)
				s->lock_list[o->lock_count++] = tok;
		o->lock_fields = s->lock_list;
		if (!o->lock_count) {
			cli_error("%s: --lock-fields needs field names (or *)", a->cmd);
			return EXIT_BADINPUT;
		}
	}
	if (a->subfilter) {
		if (!strcmp(a->subfilter, "pkcs7"))
			o->pkcs7 = 1;
		else if (strcmp(a->subfilter, "cades")) {
			cli_error("%s: --subfilter must be cades or pkcs7", a->cmd);
			return EXIT_BADINPUT;
		}
	}
	o->digest = a->digest;
	o->pss = a->pss;
	o->reason = a->reason;
	o->location = a->location;
	o->contact_info = a->contact;
	o->name = a->name;
	if (a->appearance) {
		if ((rc = load_appearance(a->appearance, s)))
			return rc;
		o->appearance = &s->ap;
	}
	return 0;
}

int cli_load_signer(signcore_ctx *ctx, const cli_sign_args *a, int need_key, signcore_signer **out)
{
	char *pw = NULL;
	int rc, code;

	*out = NULL;
	if (a->p12) {
		if (a->key || a->cert) {
			cli_error("%s: give either --p12 or --key/--cert, not both", a->cmd);
			return EXIT_BADINPUT;
		}
		if ((rc = cli_secret_prompt(a->password_file, a->password_env, "PKCS#12 password", &pw)))
			return rc;
		code = signcore_signer_load_p12(ctx, out, a->p12, pw);
	} else if (a->cert) {
		if (need_key && !a->key) {
			cli_error("%s: --cert needs --key (or use --prepare for external signing)", a->cmd);
			return EXIT_BADINPUT;
		}
		if (a->key && (rc = cli_secret_prompt(a->key_password_file, NULL, NULL, &pw)))
			return rc;
		code = a->key ? signcore_signer_load_pem(ctx, out, a->key, pw, a->cert, a->chain)
			      : signcore_signer_load_cert(ctx, out, a->cert, a->chain);
	} else {
		cli_error("%s: no credentials: give --p12 FILE or --key FILE --cert FILE", a->cmd);
		return EXIT_BADINPUT;
	}
	cli_wipe(pw);
	if (code)
		return cli_fail(ctx, code);
	return 0;
}

