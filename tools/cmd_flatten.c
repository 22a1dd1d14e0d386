/*
 * signcore flatten: burn field appearances into the page content.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_flatten(int argc, char **argv)
{
	signcore_ctx *ctx = NULL;
	signcore_doc *doc = NULL;
	const char *names[256];
	char *list = NULL, *tok, *save;
	size_t count = 0;
	cli_args a;
	int help, rc, code;

	if ((rc = cli_parse(argc, argv, &a,
		     "usage: signcore flatten IN -o OUT [--fields NAME,NAME...] [options]\n\n"
		     "Burn the appearances of the form fields of IN into its pages and remove the\n"
		     "fields. --fields limits this to the named fields (a parent name selects its\n"
		     "kids). Other annotations are kept. Signed signature fields are never flattened.\n\n"
		     "  -o, --output OUT        where to write the result (- = standard output; required)\n"
		     "      --fields LIST       comma-separated field names\n"
		     "      --password-file F   read the PDF's password from file F\n"
		     "      --password-env VAR  read the PDF's password from environment variable VAR\n"
		     "      --full-rewrite      rewrite the whole file instead of appending an update\n"
		     "  -q, --quiet             no notes on standard error\n"
		     "  -h, --help              this help\n",
		     1, &help)) || help)
		return rc;
	if (a.npositional != 1) {
		cli_error("flatten: expected one input PDF (see signcore flatten --help)");
		return EXIT_BADINPUT;
	}
	if (a.fields) {
		list = strdup(a.fields);
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (!*tok)
				continue;
			if (count == sizeof names / sizeof names[0]) {
				cli_error("flatten: at most %zu field names", sizeof names / sizeof names[0]);
				free(list);
				return EXIT_BADINPUT;
			}
			names[count++] = tok;
		}
		if (!count) {
			cli_error("flatten: --fields needs at least one field name");
			free(list);
			return EXIT_BADINPUT;
		}
	}
	if ((rc = cli_ctx_new(&ctx))) {
		free(list);
		return rc;
	}
	if ((rc = cli_open(ctx, &a, &doc)))
		goto cleanup;
	if ((code = signcore_flatten(doc, names, count))) {
		rc = cli_fail(ctx, code);
		goto cleanup;
	}
	rc = cli_save(ctx, &a, doc);
cleanup:
	signcore_doc_free(doc);
	signcore_ctx_free(ctx);
	free(list);
	return rc;
}
