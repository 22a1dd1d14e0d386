/*
 * signcore audit: append the audit trail pages; check or chain an event log.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "cli.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

static const char usage_text[] =
	"usage: signcore audit IN EVENTS.json -o OUT [--paper a4|letter|match] [--time-zone ZONE] [options]\n"
	"       signcore audit --check EVENTS.json [--expect SHA256] [--json]\n"
	"       signcore audit --chain EVENTS.json -o OUT.json\n\n"
	"Append the audit trail (certificate of completion) to IN: document details and\n"
	"hashes, the recipients with their signatures, and the event log with times in\n"
	"UTC and in ZONE, over as many pages as needed. EVENTS.json is described in\n"
	"signcore(1) and samples/audit-events.json. Append it before the final signature:\n"
	"a signed document is refused. SOURCE_DATE_EPOCH, when set, is the generation time.\n\n"
	"--check verifies the hash chain of a log (exit 0 intact, 1 altered or not\n"
	"chained) and prints its chain hash; --expect compares it with the hash printed\n"
	"on an audit page. --chain adds prev_sha256 to every event of a log.\n\n"
	"  -o, --output OUT        where to write the result (- = standard output)\n"
	"      --paper P           a4 (default), letter, or match (the last page's size)\n"
	"      --time-zone ZONE    IANA time zone for the second time column (e.g. Asia/Kolkata)\n"
	"      --check             verify the log's hash chain\n"
	"      --expect SHA256     with --check: the chain hash the log must end with\n"
	"      --chain             write the log with its hash chain\n"
	"      --json              with --check: print the result as JSON\n"
	"      --password-file F   read the PDF's password from file F\n"
	"      --password-env VAR  read the PDF's password from environment variable VAR\n"
	"      --full-rewrite      rewrite the whole file instead of appending an update\n"
	"  -q, --quiet             no notes on standard error\n"
	"  -h, --help              this help\n";

/* Write LEN bytes to PATH through a temporary file renamed on success. */
static int write_atomic(const char *path, const char *data, size_t len)
{
	char *tmp;
	FILE *f;
	int ok;

	if (!strcmp(path, "-"))
		return fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : -1;
	tmp = malloc(strlen(path) + 16);
	if (!tmp)
		return -1;
	sprintf(tmp, "%s.tmpXXXXXX", path);
	{
		int fd = mkstemp(tmp);
		f = fd >= 0 ? fdopen(fd, "wb") : NULL;
		if (fd >= 0 && !f)
			close(fd);
	}
	if (!f) {
		cli_error("audit: cannot write %s: %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	ok = fwrite(data, 1, len, f) == len;
	ok = (fflush(f) == 0) && ok;
	ok = (fsync(fileno(f)) == 0) && ok;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		cli_error("audit: cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* Report of --check: a line, or JSON. */
static void print_check(const char *events, int intact, const signcore_audit_info *info, int json)
{
	if (json) {
		json_t *j = json_pack("{s:s, s:b, s:I, s:s}", "file", events, "intact", intact, "events",
			(json_int_t)info->events, "chain_sha256", info->chain_sha256);
		char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (s)
			puts(s);
		free(s);
		json_decref(j);
	} else if (intact) {
		printf("%s: intact, %zu events, chain sha256 %s\n", events, info->events, info->chain_sha256);
	}
}

/* --check (OUT NULL) or --chain (into OUT) on the log EVENTS. */
static int do_log(const char *events, const char *out, const char *expect, int json)
{
	signcore_ctx *ctx = NULL;
	signcore_audit_info info;
	char *data, *chained = NULL;
	size_t len;
	int code, rc;

	if (!(data = cli_read_all(events, &len)))
		return EXIT_BADINPUT;
	if ((rc = cli_ctx_new(&ctx))) {
		free(data);
		return rc;
	}
	if (out) {
		code = signcore_audit_chain(ctx, data, len, events, &chained);
		if (code)
			rc = cli_fail(ctx, code);
		else if (write_atomic(out, chained, strlen(chained)))
			rc = EXIT_FAILED;
		else if (!strcmp(out, "-"))
			putchar('\n');
	} else {
		code = signcore_audit_check(ctx, data, len, events, &info);
		if (!code && expect && strcasecmp(expect, info.chain_sha256)) {
			cli_error("audit: %s: the chain hash is %s, not %s: the log is not the one the audit page was made from",
				events, info.chain_sha256, expect);
			rc = EXIT_FAILED;
		} else if (code == SIGNCORE_ETAMPERED) {
			cli_error("audit: %s", signcore_ctx_last_error(ctx));
			rc = EXIT_FAILED;
		} else if (code) {
			rc = cli_fail(ctx, code);
		}
		print_check(events, rc == EXIT_OK, &info, json);
	}
	signcore_free(chained);
	signcore_ctx_free(ctx);
	free(data);
	return rc;
}

int cmd_audit(int argc, char **argv)
{
	signcore_audit_options o = SIGNCORE_AUDIT_OPTIONS_INIT;
	signcore_ctx *ctx = NULL;
	signcore_doc *doc = NULL;
	const char *paper = NULL, *expect = NULL;
	char **rest, *data = NULL, *dir = NULL, *epoch;
	size_t len;
	int nrest = 0, i, check = 0, chain = 0, help, rc, code;
	cli_args a;

	rest = calloc((size_t)argc + 1, sizeof *rest);
	if (!rest) {
		cli_error("out of memory");
		return EXIT_FAILED;
	}
	/* Our options out, the common ones to cli_parse. */
	for (i = 0; i < argc; i++) {
		const char *s = argv[i];
		if (i > 0 && (!strcmp(s, "--paper") || !strcmp(s, "--time-zone") || !strcmp(s, "--expect"))) {
			if (i + 1 >= argc) {
				cli_error("audit: option %s needs a value", s);
				free(rest);
				return EXIT_BADINPUT;
			}
			if (!strcmp(s, "--paper"))
				paper = argv[++i];
			else if (!strcmp(s, "--time-zone"))
				o.time_zone = argv[++i];
			else
				expect = argv[++i];
		} else if (i > 0 && !strcmp(s, "--check")) {
			check = 1;
		} else if (i > 0 && !strcmp(s, "--chain")) {
			chain = 1;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	rc = cli_parse(nrest, rest, &a, usage_text, !check, &help);
	free(rest);
	if (rc || help)
		return rc;
	if (check && chain) {
		cli_error("audit: --check and --chain do not go together");
		return EXIT_BADINPUT;
	}
	if (expect && !check) {
		cli_error("audit: --expect goes with --check");
		return EXIT_BADINPUT;
	}
	if (check || chain) {
		if (a.npositional != 1) {
			cli_error("audit: expected one events file (see signcore audit --help)");
			return EXIT_BADINPUT;
		}
		return do_log(a.positional[0], check ? NULL : a.output, expect, a.json);
	}
	if (a.npositional != 2) {
		cli_error("audit: expected IN and EVENTS.json (see signcore audit --help)");
		return EXIT_BADINPUT;
	}
	if (paper) {
		if (!strcmp(paper, "a4"))
			o.paper = SIGNCORE_PAPER_A4;
		else if (!strcmp(paper, "letter"))
			o.paper = SIGNCORE_PAPER_LETTER;
		else if (!strcmp(paper, "match"))
			o.paper = SIGNCORE_PAPER_MATCH;
		else {
			cli_error("audit: --paper must be a4, letter or match, not \"%s\"", paper);
			return EXIT_BADINPUT;
		}
	}
	if ((epoch = getenv("SOURCE_DATE_EPOCH")) && *epoch) {
		char *end;
		long long t = strtoll(epoch, &end, 10);
		if (*end || t <= 0) {
			cli_error("audit: SOURCE_DATE_EPOCH must be a positive number of seconds, not \"%s\"", epoch);
			return EXIT_BADINPUT;
		}
		o.now = t;
	}
	if (!(data = cli_read_all(a.positional[1], &len)))
		return EXIT_BADINPUT;
	if (strcmp(a.positional[1], "-")) {
		char *copy = strdup(a.positional[1]);
		dir = copy ? strdup(dirname(copy)) : NULL;
		free(copy);
		o.base_dir = dir;
	}
	o.events_name = a.positional[1];
	if ((rc = cli_ctx_new(&ctx)))
		goto cleanup;
	if ((rc = cli_open(ctx, &a, &doc)))
		goto cleanup;
	if ((code = signcore_audit_append(doc, data, len, &o))) {
		rc = cli_fail(ctx, code);
		goto cleanup;
	}
	rc = cli_save(ctx, &a, doc);
cleanup:
	signcore_doc_free(doc);
	signcore_ctx_free(ctx);
	free(data);
	free(dir);
	return rc;
}
