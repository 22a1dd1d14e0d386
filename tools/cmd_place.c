/*
 * signcore place | fill | stamp: apply a field spec or values file.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "cli.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*spec_op)(signcore_doc *, const signcore_spec *);

static int run(int argc, char **argv, const char *usage, spec_op op, const char *what)
{
	signcore_ctx *ctx = NULL;
	signcore_doc *doc = NULL;
	signcore_spec *spec = NULL;
	cli_args a;
	char *json = NULL, *dircopy = NULL;
	size_t len;
	int help, rc, code;

	if ((rc = cli_parse(argc, argv, &a, usage, 1, &help)) || help)
		return rc;
	if (a.npositional != 2) {
		cli_error("%s: expected IN and %s (see %s --help)", argv[0], what, argv[0]);
		return EXIT_BADINPUT;
	}
	if (!strcmp(a.positional[0], "-") && !strcmp(a.positional[1], "-")) {
		cli_error("%s: the PDF and the %s cannot both come from standard input", argv[0], what);
		return EXIT_BADINPUT;
	}
	if ((rc = cli_ctx_new(&ctx)))
		return rc;
	json = cli_read_all(a.positional[1], &len);
	if (!json) {
		rc = EXIT_BADINPUT;
		goto cleanup;
	}
	/* Image paths in the spec are relative to the spec file. */
	dircopy = strdup(a.positional[1]);
	code = signcore_spec_parse(ctx, &spec, json, len,
		strcmp(a.positional[1], "-") && dircopy ? dirname(dircopy) : ".");
	if (code) {
		cli_error("%s: %s", a.positional[1], signcore_ctx_last_error(ctx));
		rc = cli_exit_code(code);
		goto cleanup;
	}
	if ((rc = cli_open(ctx, &a, &doc)))
		goto cleanup;
	if ((code = op(doc, spec))) {
		rc = cli_fail(ctx, code);
		goto cleanup;
	}
	rc = cli_save(ctx, &a, doc);
cleanup:
	signcore_spec_free(spec);
	signcore_doc_free(doc);
	signcore_ctx_free(ctx);
	free(json);
	free(dircopy);
	return rc;
}

#define COMMON_OPTS \
	"  -o, --output OUT        where to write the result (- = standard output; required)\n" \
	"      --password-file F   read the PDF's password from file F\n" \
	"      --password-env VAR  read the PDF's password from environment variable VAR\n" \
	"      --full-rewrite      rewrite the whole file instead of appending an update\n" \
	"  -q, --quiet             no notes on standard error\n" \
	"  -h, --help              this help\n"

int cmd_place(int argc, char **argv)
{
	return run(argc, argv,
		"usage: signcore place IN SPEC -o OUT [options]\n\n"
		"Add the form fields described by the JSON field spec SPEC to the PDF IN.\n"
		"Fields that carry a \"value\" in the spec are filled as well.\n"
		"IN or SPEC may be - (standard input).\n\n" COMMON_OPTS,
		signcore_spec_place, "SPEC");
}

int cmd_fill(int argc, char **argv)
{
	return run(argc, argv,
		"usage: signcore fill IN VALUES -o OUT [options]\n\n"
		"Fill existing form fields of IN with the values in the JSON file VALUES:\n"
		"  {\"values\": {\"name\": \"text\", \"agree\": true, \"sign\": {\"image\": \"sig.png\"}}}\n"
		"A field spec with \"value\" entries works as a values file too.\n\n" COMMON_OPTS,
		signcore_spec_fill, "VALUES");
}

int cmd_stamp(int argc, char **argv)
{
	return run(argc, argv,
		"usage: signcore stamp IN SPEC -o OUT [options]\n\n"
		"Draw the fields of SPEC with their values straight into the pages of IN\n"
		"(place + fill + flatten in one step; no form fields are left).\n\n" COMMON_OPTS,
		signcore_spec_stamp, "SPEC");
}
