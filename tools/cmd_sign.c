/*
 * signcore sign, timestamp and ltv: PAdES signatures, document
 * time-stamps, long-term validation data, and two-step external signing.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#define MAX_LIST 16

static const char sign_usage[] =
	"usage: signcore sign IN -o OUT (--p12 F [--password-file P | --password-env VAR]\n"
	"                          | --key K --cert C [--chain CH]) [options]\n"
	"       signcore sign IN --prepare --cert C [--chain CH] -o OUT.pending --digest-out FILE [options]\n"
	"       signcore sign --embed OUT.pending --signature FILE [--cert C --chain CH] -o OUT [options]\n\n"
	"Sign IN with a PAdES signature (ETSI.CAdES.detached) in a new incremental update.\n\n"
	"credentials:\n"
	"      --p12 FILE              PKCS#12 file with key, certificate and chain\n"
	"      --password-file FILE    its password (first line); or --password-env VAR;\n"
	"                              asked on the terminal when neither is given\n"
	"      --key FILE --cert FILE  PEM/DER private key and certificate\n"
	"      --chain FILE            further certificates (PEM)\n"
	"      --key-password-file F   password of an encrypted key\n"
	"where:\n"
	"      --field NAME            sign this empty signature field (created if missing)\n"
	"      --page N --rect x,y,w,h create a visible signature there (points from the\n"
	"                              top-left of the page as displayed)\n"
	"      --units pt|percent      units of --rect (default pt)\n"
	"      --invisible             no visible appearance (the default without --page)\n"
	"      --appearance JSON       file or inline JSON: {\"image\": \"sig.png\", \"typed\": \"Name\",\n"
	"                              \"font\": \"script\", \"text\": \"block\" | false, \"graphic\": false,\n"
	"                              \"date_format\": \"%Y-%m-%d\", \"time_zone\": \"Asia/Kolkata\"}\n"
	"what:\n"
	"      --level B-B|B-T|B-LT|B-LTA   PAdES level (default B-B)\n"
	"      --tsa URL               RFC 3161 time-stamp authority (repeat: tried in order)\n"
	"      --tsa-auth-env VAR      \"user:password\" for the TSA, from variable VAR\n"
	"      --trust PEM             extra trust anchor for TSA and OCSP checks (repeatable)\n"
	"      --allow-missing-revocation  B-LT: go on when a certificate has no OCSP/CRL\n"
	"      --certify none|no-changes|form-fill|annotations   certification (DocMDP)\n"
	"      --lock-fields a,b|*     lock these fields (FieldMDP)\n"
	"      --reason R --location L --contact C --name N\n"
	"      --subfilter cades|pkcs7 ETSI.CAdES.detached (default) or adbe.pkcs7.detached\n"
	"      --digest sha256|sha384|sha512, --pss (RSA-PSS)\n"
	"external signing:\n"
	"      --prepare               write OUT.pending and the hash to sign\n"
	"      --digest-out FILE       where the hash goes (raw bytes; hex on standard output)\n"
	"      --hash-of attrs|byterange   hash of the CMS signed attributes (sign it raw,\n"
	"                              default) or of the document byte range (answer a CMS)\n"
	"      --embed PENDING --signature FILE   finish: FILE holds the raw signature\n"
	"                              (binary or base64) or a complete CMS (DER, base64 or PEM)\n"
	"document:\n"
	"      --pdf-password-file F / --pdf-password-env VAR   password of an encrypted PDF\n"
	"  -q, --quiet   -h, --help\n";

typedef struct {
	const char *cmd;
	const char *input, *output;
	const char *p12, *password_file, *password_env, *key, *cert, *chain, *key_password_file;
	const char *pdf_password_file, *pdf_password_env;
	const char *field, *rect, *units, *appearance, *level, *certify, *lock, *subfilter, *digest;
	const char *reason, *location, *contact, *name, *tsa_auth_env;
	const char *digest_out, *hash_of, *embed, *signature;
	const char *tsa[MAX_LIST], *trust[MAX_LIST];
	size_t ntsa, ntrust;
	int page, invisible, pss, prepare, lta, allow_missing, quiet;
} sign_args;

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
static int secret(const char *file, const char *env, const char *prompt, char **out)
{
	int rc = cli_secret(file, env, out);

	if (!rc && !file && !env && prompt && isatty(STDIN_FILENO))
		*out = prompt_password(prompt);
	return rc;
}

static int parse_args(int argc, char **argv, sign_args *a, const char *usage, int *help)
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
		} else if (!strcmp(s, "--invisible")) {
			a->invisible = 1;
			continue;
		} else if (!strcmp(s, "--pss")) {
			a->pss = 1;
			continue;
		} else if (!strcmp(s, "--prepare")) {
			a->prepare = 1;
			continue;
		} else if (!strcmp(s, "--lta")) {
			a->lta = 1;
			continue;
		} else if (!strcmp(s, "--allow-missing-revocation")) {
			a->allow_missing = 1;
			continue;
		} else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
			a->quiet = 1;
			continue;
		} else if (s[0] == '-' && s[1]) {
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
		if (++i >= argc)
			goto missing;
		if (is_list) {
			size_t *n = !strcmp(s, "--tsa") ? &a->ntsa : &a->ntrust;
			const char **arr = !strcmp(s, "--tsa") ? a->tsa : a->trust;
			if (*n == MAX_LIST) {
				cli_error("%s: at most %d %s options", a->cmd, MAX_LIST, s);
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

static int parse_level(const char *s, signcore_level *out)
{
	if (!s || !strcasecmp(s, "B-B") || !strcasecmp(s, "BB"))
		*out = SIGNCORE_LEVEL_B_B;
	else if (!strcasecmp(s, "B-T") || !strcasecmp(s, "BT"))
		*out = SIGNCORE_LEVEL_B_T;
	else if (!strcasecmp(s, "B-LT") || !strcasecmp(s, "BLT"))
		*out = SIGNCORE_LEVEL_B_LT;
	else if (!strcasecmp(s, "B-LTA") || !strcasecmp(s, "BLTA"))
		*out = SIGNCORE_LEVEL_B_LTA;
	else {
		cli_error("sign: unknown level \"%s\" (B-B, B-T, B-LT or B-LTA)", s);
		return EXIT_BADINPUT;
	}
	return 0;
}

typedef struct {
	signcore_sign_options o;
	signcore_sig_appearance ap;
	json_t *ap_json;
	char *image;
	size_t image_len;
	char *locks;
	const char *lock_list[256];
	char *tsa_auth;
} sign_setup;

static void setup_free(sign_setup *s)
{
	json_decref(s->ap_json);
	free(s->image);
	free(s->locks);
	cli_wipe(s->tsa_auth);
}

static int load_appearance(const char *arg, sign_setup *s)
{
	json_error_t je;
	json_t *j, *v;

	if (arg[0] == '{')
		j = json_loads(arg, 0, &je);
	else
		j = json_load_file(arg, 0, &je);
	if (!j) {
		cli_error("sign: --appearance: %s (line %d, column %d)", je.text, je.line, je.column);
		return EXIT_BADINPUT;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		cli_error("sign: --appearance must be a JSON object");
		return EXIT_BADINPUT;
	}
	s->ap_json = j;
	if ((v = json_object_get(j, "image"))) {
		if (!json_is_string(v)) {
			cli_error("sign: --appearance: \"image\" must be a file name");
			return EXIT_BADINPUT;
		}
		if (!(s->image = cli_read_all(json_string_value(v), &s->image_len)))
			return EXIT_BADINPUT;
		s->ap.image = s->image;
		s->ap.image_len = s->image_len;
	}
	if ((v = json_object_get(j, "typed")) && json_is_string(v))
		s->ap.typed = json_string_value(v);
	if ((v = json_object_get(j, "font")) && json_is_string(v))
		s->ap.font = json_string_value(v);
	if ((v = json_object_get(j, "text"))) {
		if (json_is_false(v))
			s->ap.text = "";
		else if (json_is_string(v))
			s->ap.text = json_string_value(v);
	}
	if ((v = json_object_get(j, "graphic")) && json_is_false(v))
		s->ap.no_graphic = 1;
	if ((v = json_object_get(j, "date_format")) && json_is_string(v))
		s->ap.date_format = json_string_value(v);
	if ((v = json_object_get(j, "time_zone")) && json_is_string(v))
		s->ap.time_zone = json_string_value(v);
	return 0;
}

static int build_options(const sign_args *a, sign_setup *s)
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
	if ((rc = parse_level(a->level, &o->level)))
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

static int open_pdf(signcore_ctx *ctx, const sign_args *a, signcore_doc **doc)
{
	signcore_open_options oo = SIGNCORE_OPEN_OPTIONS_INIT;
	char *pw = NULL;
	int rc, code;

	if (!a->input) {
		cli_error("%s: no input PDF given (see --help)", a->cmd);
		return EXIT_BADINPUT;
	}
	if ((rc = secret(a->pdf_password_file, a->pdf_password_env, NULL, &pw)))
		return rc;
	oo.password = pw;
	code = signcore_doc_open(ctx, doc, a->input, &oo);
	cli_wipe(pw);
	if (code)
		return cli_fail(ctx, code);
	return 0;
}

static int load_signer(signcore_ctx *ctx, const sign_args *a, int need_key, signcore_signer **out)
{
	char *pw = NULL;
	int rc, code;

	*out = NULL;
	if (a->p12) {
		if (a->key || a->cert) {
			cli_error("%s: give either --p12 or --key/--cert, not both", a->cmd);
			return EXIT_BADINPUT;
		}
		if ((rc = secret(a->password_file, a->password_env, "PKCS#12 password", &pw)))
			return rc;
		code = signcore_signer_load_p12(ctx, out, a->p12, pw);
	} else if (a->cert) {
		if (need_key && !a->key) {
			cli_error("%s: --cert needs --key (or use --prepare for external signing)", a->cmd);
			return EXIT_BADINPUT;
		}
		if (a->key && (rc = secret(a->key_password_file, NULL, NULL, &pw)))
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

static int check_output(const sign_args *a)
{
	if (!a->output) {
		cli_error("%s: an output is required: -o OUT", a->cmd);
		return EXIT_BADINPUT;
	}
	if (!strcmp(a->output, "-")) {
		cli_error("%s: a signed PDF must be written to a file (-o FILE), not standard output", a->cmd);
		return EXIT_BADINPUT;
	}
	return 0;
}

static unsigned char *b64_decode(const char *s, size_t n, size_t *outlen)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char *out = malloc(n / 4 * 3 + 4);
	unsigned int acc = 0;
	int bits = 0;
	size_t i, k = 0;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *p;
		char c = s[i];
		if (c == '=' || c == '\n' || c == '\r' || c == ' ' || c == '\t')
			continue;
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		p = strchr(tbl, c);
		if (!p || !c) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int)(p - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (unsigned char)(acc >> bits);
		}
	}
	*outlen = k;
	return out;
}

/* A signature file: binary, base64, or PEM (-----BEGIN ...-----). */
static unsigned char *read_signature(const char *path, size_t *len)
{
	size_t n, i;
	char *raw = cli_read_all(path, &n);
	unsigned char *dec;
	int text = 1;

	if (!raw)
		return NULL;
	for (i = 0; i < n && text; i++)
		text = raw[i] >= 9 && (unsigned char)raw[i] < 128;
	if (text && n) {
		char *b = raw, *e = raw + n;
		char *begin = strstr(raw, "-----BEGIN");
		if (begin) {
			b = strchr(begin, '\n');
			e = strstr(begin + 10, "-----END");
			if (!b || !e) {
				free(raw);
				cli_error("%s: damaged PEM", path);
				return NULL;
			}
		}
		dec = b64_decode(b, (size_t)(e - b), len);
		if (dec) {
			free(raw);
			return dec;
		}
	}
	*len = n;
	return (unsigned char *)raw;
}

static int do_prepare(signcore_ctx *ctx, const sign_args *a, sign_setup *s)
{
	signcore_doc *doc = NULL;
	signcore_signer *signer = NULL;
	unsigned char digest[64];
	size_t dlen = sizeof digest, i;
	signcore_hash_target target = SIGNCORE_HASH_SIGNED_ATTRS;
	int rc, code;

	if (a->hash_of) {
		if (!strcmp(a->hash_of, "byterange"))
			target = SIGNCORE_HASH_BYTE_RANGE;
		else if (strcmp(a->hash_of, "attrs")) {
			cli_error("sign: --hash-of must be attrs or byterange");
			return EXIT_BADINPUT;
		}
	}
	if ((rc = load_signer(ctx, a, 0, &signer)))
		return rc;
	if ((rc = open_pdf(ctx, a, &doc)))
		goto done;
	if ((code = signcore_sign_prepare(doc, signer, a->output, &s->o, target, digest, &dlen))) {
		rc = cli_fail(ctx, code);
		goto done;
	}
	if (a->digest_out) {
		FILE *f = fopen(a->digest_out, "wb");
		if (!f || fwrite(digest, 1, dlen, f) != dlen || fclose(f) != 0) {
			cli_error("%s: %s", a->digest_out, strerror(errno));
			rc = EXIT_FAILED;
			goto done;
		}
	}
	for (i = 0; i < dlen; i++)
		printf("%02x", digest[i]);
	putchar('\n');
	rc = 0;
done:
	signcore_doc_free(doc);
	signcore_signer_free(signer);
	return rc;
}

static int do_embed(signcore_ctx *ctx, const sign_args *a, sign_setup *s)
{
	signcore_signer *cert = NULL;
	unsigned char *sig;
	size_t len;
	char *pw = NULL;
	int rc, code;

	if (!a->signature) {
		cli_error("sign: --embed needs --signature FILE");
		return EXIT_BADINPUT;
	}
	if (a->cert && (code = signcore_signer_load_cert(ctx, &cert, a->cert, a->chain)))
		return cli_fail(ctx, code);
	if (!(sig = read_signature(a->signature, &len))) {
		signcore_signer_free(cert);
		return EXIT_BADINPUT;
	}
	if ((rc = secret(a->pdf_password_file, a->pdf_password_env, NULL, &pw))) {
		free(sig);
		signcore_signer_free(cert);
		return rc;
	}
	s->o.password = pw;
	code = signcore_sign_embed(ctx, a->embed, sig, len, cert, a->output, &s->o);
	rc = code ? cli_fail(ctx, code) : 0;
	cli_wipe(pw);
	free(sig);
	signcore_signer_free(cert);
	return rc;
}

int cmd_sign(int argc, char **argv)
{
	signcore_ctx *ctx = NULL;
	signcore_doc *doc = NULL;
	signcore_signer *signer = NULL;
	sign_args a;
	sign_setup s;
	int help, rc, code;

	if ((rc = parse_args(argc, argv, &a, sign_usage, &help)) || help)
		return rc;
	if ((rc = check_output(&a)))
		return rc;
	if (a.prepare && (a.level || a.ntsa)) {
		cli_error("sign: --prepare takes no --level or --tsa: give them to --embed, which finishes the signature");
		return EXIT_BADINPUT;
	}
	if (a.embed && (a.input || a.prepare)) {
		cli_error("sign: --embed takes the pending file, not an input PDF");
		return EXIT_BADINPUT;
	}
	if ((rc = build_options(&a, &s))) {
		setup_free(&s);
		return rc;
	}
	if ((rc = cli_ctx_new(&ctx))) {
		setup_free(&s);
		return rc;
	}
	if (a.embed) {
		rc = do_embed(ctx, &a, &s);
		goto done;
	}
	if (a.prepare) {
		rc = do_prepare(ctx, &a, &s);
		goto done;
	}
	if ((rc = load_signer(ctx, &a, 1, &signer)))
		goto done;
	if ((rc = open_pdf(ctx, &a, &doc)))
		goto done;
	if ((code = signcore_sign(doc, signer, a.output, &s.o)))
		rc = cli_fail(ctx, code);
done:
	signcore_doc_free(doc);
	signcore_signer_free(signer);
	signcore_ctx_free(ctx);
	setup_free(&s);
	return rc;
}

static const char timestamp_usage[] =
	"usage: signcore timestamp IN -o OUT --tsa URL [--tsa URL]... [options]\n\n"
	"Add a document time-stamp (/DocTimeStamp, ETSI.RFC3161) to IN.\n\n"
	"      --tsa URL            RFC 3161 time-stamp authority (repeat: tried in order)\n"
	"      --tsa-auth-env VAR   \"user:password\" for the TSA, from variable VAR\n"
	"      --trust PEM          extra trust anchor for the TSA certificate (repeatable)\n"
	"      --field NAME         name of the new field (default DocTimeStamp1, ...)\n"
	"      --pdf-password-file F / --pdf-password-env VAR   password of an encrypted PDF\n"
	"  -h, --help\n";

static const char ltv_usage[] =
	"usage: signcore ltv IN -o OUT [--lta --tsa URL] [options]\n\n"
	"Extend the signatures of IN to B-LT: an incremental update with a /DSS holding\n"
	"the certificates, OCSP responses and CRLs of every signature and time-stamp.\n"
	"With --lta, a document time-stamp follows (B-LTA).\n\n"
	"      --lta                add a document time-stamp\n"
	"      --tsa URL            RFC 3161 time-stamp authority (repeatable)\n"
	"      --trust PEM          extra trust anchor for OCSP and TSA checks (repeatable)\n"
	"      --allow-missing-revocation   go on when a certificate has no OCSP/CRL\n"
	"      --pdf-password-file F / --pdf-password-env VAR   password of an encrypted PDF\n"
	"  -h, --help\n";

static int simple(int argc, char **argv, int ltv)
{
	signcore_ctx *ctx = NULL;
	signcore_doc *doc = NULL;
	sign_args a;
	sign_setup s;
	int help, rc, code;

	if ((rc = parse_args(argc, argv, &a, ltv ? ltv_usage : timestamp_usage, &help)) || help)
		return rc;
	if ((rc = check_output(&a)))
		return rc;
	if ((rc = build_options(&a, &s))) {
		setup_free(&s);
		return rc;
	}
	if (!ltv && !a.ntsa) {
		cli_error("timestamp: --tsa URL is required");
		setup_free(&s);
		return EXIT_BADINPUT;
	}
	if (ltv && a.lta && !a.ntsa) {
		cli_error("ltv: --lta needs --tsa URL");
		setup_free(&s);
		return EXIT_BADINPUT;
	}
	s.o.level = a.lta ? SIGNCORE_LEVEL_B_LTA : SIGNCORE_LEVEL_B_LT;
	if ((rc = cli_ctx_new(&ctx))) {
		setup_free(&s);
		return rc;
	}
	if (!(rc = open_pdf(ctx, &a, &doc))) {
		code = ltv ? signcore_ltv(doc, a.output, &s.o) : signcore_timestamp(doc, a.output, &s.o);
		if (code)
			rc = cli_fail(ctx, code);
	}
	signcore_doc_free(doc);
	signcore_ctx_free(ctx);
	setup_free(&s);
	return rc;
}

int cmd_timestamp(int argc, char **argv)
{
	return simple(argc, argv, 0);
}

int cmd_ltv(int argc, char **argv)
{
	return simple(argc, argv, 1);
}
