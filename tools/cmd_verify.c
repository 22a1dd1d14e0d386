/*
 * signcore verify: check every signature of a PDF.
 * Exit codes: 0 every signature valid and trusted, 1 something failed,
 * 2 could not verify (bad input, usage).
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: signcore verify FILE [--trust PEM]... [--trust-system] [--online] [--json]\n"
	"                       [--password-file F | --password-env VAR] [-q]\n\n"
	"Verify every signature and document time-stamp of FILE (- = standard input), in\n"
	"revision order: integrity (ByteRange, digest, CMS signature, signing certificate),\n"
	"what later revisions changed, the certificate chain, time-stamps, revocation\n"
	"(embedded data; --online also asks OCSP responders and CRL servers) and the\n"
	"PAdES level.\n\n"
	"  --trust PEM          trust anchors (repeatable)\n"
	"  --trust-system       also trust the system's certificate store\n"
	"  --online             fetch revocation data that is not embedded\n"
	"  --json               print the report as JSON\n"
	"  --password-file F    password of an encrypted PDF, first line of F\n"
	"  --password-env VAR   password of an encrypted PDF, from VAR\n"
	"  -q, --quiet          print only the verdict line\n\n"
	"exit codes: 0 every signature valid and trusted, 1 a signature failed or the\n"
	"file has none, 2 the file could not be verified (not a PDF, wrong password, usage)\n";

static const char *check_word(signcore_check c)
{
	return c == SIGNCORE_CHECK_OK ? "ok" : c == SIGNCORE_CHECK_FAILED ? "FAILED" : "none";
}

static const char *kind_word(signcore_sig_kind k)
{
	switch (k) {
	case SIGNCORE_SIGKIND_APPROVAL: return "approval signature";
	case SIGNCORE_SIGKIND_CERTIFICATION: return "certification signature";
	case SIGNCORE_SIGKIND_TIMESTAMP: return "document time-stamp";
	default: return "unsigned signature field";
	}
}

static void line(const char *label, const char *value)
{
	if (value && *value)
		printf("  %-15s %s\n", label, value);
}

static void print_report(const signcore_report *rep, int quiet)
{
	size_t i, n = signcore_report_count(rep);

	for (i = 0; i < n && !quiet; i++) {
		const signcore_sig_report *r = signcore_report_signature(rep, i);
		char buf[64];
		printf("%s \"%s\"", kind_word(r->kind), r->field ? r->field : "?");
		if (r->revision)
			printf(", revision %d", r->revision);
		if (r->kind == SIGNCORE_SIGKIND_CERTIFICATION)
			printf(", DocMDP P=%d", r->docmdp);
		putchar('\n');
		if (r->kind == SIGNCORE_SIGKIND_UNSIGNED)
			continue;
		line("SubFilter:", r->subfilter);
		line("signer:", r->signer);
		line("issuer:", r->issuer);
		line("serial:", r->serial);
		line("claimed time:", r->claimed_time);
		line("reason:", r->reason);
		line("location:", r->location);
		printf("  %-15s %s: %s\n", "integrity:", check_word(r->integrity), r->integrity_detail ? r->integrity_detail : "");
		if (r->integrity == SIGNCORE_CHECK_OK)
			printf("  %-15s %s\n", "changes:", r->changes_detail ? r->changes_detail : "");
		if (r->trust_detail)
			printf("  %-15s %s: %s\n", "trust:", check_word(r->trust), r->trust_detail);
		if (r->validation_time) {
			snprintf(buf, sizeof buf, "%s", r->validation_time_source ? r->validation_time_source : "");
			printf("  %-15s %s (%s)\n", "checked at:", r->validation_time, buf);
		}
		if (r->timestamp != SIGNCORE_CHECK_ABSENT || r->timestamp_detail)
			printf("  %-15s %s: %s%s%s\n", "time-stamp:", check_word(r->timestamp),
				r->timestamp_time ? r->timestamp_time : "", r->timestamp_time ? ", " : "",
				r->timestamp_detail ? r->timestamp_detail : "");
		if (r->revocation_detail)
			printf("  %-15s %s: %s\n", "revocation:", check_word(r->revocation), r->revocation_detail);
		line("PAdES level:", r->level);
		line("result:", r->summary);
	}
	printf("%s: %s\n", signcore_report_verdict(rep) == SIGNCORE_VERDICT_VALID ? "VALID" : "INVALID",
		signcore_report_reason(rep));
}

int cmd_verify(int argc, char **argv)
{
	signcore_verify_options o = SIGNCORE_VERIFY_OPTIONS_INIT;
	const char **trust = NULL, *input = NULL, *pwfile = NULL, *pwenv = NULL;
	signcore_ctx *ctx = NULL;
	signcore_report *rep = NULL;
	char *password = NULL, *data = NULL, *json = NULL;
	size_t ntrust = 0, len = 0;
	int i, json_out = 0, quiet = 0, code, rc;

	trust = calloc((size_t)argc + 1, sizeof *trust);
	if (!trust) {
		cli_error("out of memory");
		return EXIT_FAILED;
	}
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
			fputs(usage_text, stdout);
			free(trust);
			return EXIT_OK;
		} else if (!strcmp(s, "--json"))
			json_out = 1;
		else if (!strcmp(s, "-q") || !strcmp(s, "--quiet"))
			quiet = 1;
		else if (!strcmp(s, "--trust-system"))
			o.trust_system = 1;
		else if (!strcmp(s, "--online"))
			o.online = 1;
		else if (!strcmp(s, "--trust") || !strcmp(s, "--password-file") || !strcmp(s, "--password-env")) {
			if (i + 1 >= argc) {
				cli_error("verify: %s needs a value (see signcore verify --help)", s);
				free(trust);
				return EXIT_BADINPUT;
			}
			if (!strcmp(s, "--trust"))
				trust[ntrust++] = argv[++i];
			else if (!strcmp(s, "--password-file"))
				pwfile = argv[++i];
			else
				pwenv = argv[++i];
		} else if (s[0] == '-' && s[1]) {
			cli_error("verify: unknown option %s (see signcore verify --help)", s);
			free(trust);
			return EXIT_BADINPUT;
		} else if (input) {
			cli_error("verify: expected one PDF file (see signcore verify --help)");
			free(trust);
			return EXIT_BADINPUT;
		} else
			input = s;
	}
	if (!input) {
		cli_error("verify: expected one PDF file (see signcore verify --help)");
		free(trust);
		return EXIT_BADINPUT;
	}
	if ((rc = cli_secret(pwfile, pwenv, &password)) != 0) {
		free(trust);
		return rc;
	}
	o.trust_files = trust;
	o.trust_count = ntrust;
	o.password = password;
	if ((rc = cli_ctx_new(&ctx)) != 0)
		goto done;
	if (!strcmp(input, "-")) {
		if (!(data = cli_read_all(input, &len))) {
			rc = EXIT_BADINPUT;
			goto done;
		}
		code = signcore_verify_memory(ctx, data, len, &o, &rep);
	} else
		code = signcore_verify(ctx, input, &o, &rep);
	if (code) {
		const char *msg = signcore_ctx_last_error(ctx);
		cli_error("verify: %s", msg && *msg ? msg : signcore_strerror(code));
		rc = code == SIGNCORE_ENOMEM ? EXIT_FAILED : EXIT_BADINPUT;
		goto done;
	}
	if (json_out) {
		if (signcore_report_json(rep, &json)) {
			cli_error("verify: out of memory");
			rc = EXIT_FAILED;
			goto done;
		}
		puts(json);
	} else
		print_report(rep, quiet);
	rc = signcore_report_verdict(rep) == SIGNCORE_VERDICT_VALID ? EXIT_OK : EXIT_FAILED;
	if (rc)
		cli_error("verify: %s", signcore_report_reason(rep));
done:
	signcore_free(json);
	signcore_report_free(rep);
	signcore_ctx_free(ctx);
	cli_wipe(password);
	free(data);
	free(trust);
	return rc;
}
