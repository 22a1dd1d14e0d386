/*
 * signcore info: what a PDF holds.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "cli.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Points to 1/100: float noise (79.19999694824219) helps nobody. */
static double round2(double v)
{
	return round(v * 100) / 100;
}

int cmd_info(int argc, char **argv)
{
	signcore_ctx *ctx = NULL;
	signcore_doc *doc = NULL;
	signcore_field_info *fields = NULL;
	size_t nfields = 0, i;
	json_t *root = NULL, *pages, *jf, *sigs;
	cli_args a;
	int help, rc, code, n, p;

	if ((rc = cli_parse(argc, argv, &a,
		     "usage: signcore info FILE [--json] [--password-file F | --password-env VAR]\n\n"
		     "Show the page count, each page's size as displayed (after CropBox and\n"
		     "/Rotate), the form fields and the signatures of FILE (- = standard input).\n",
		     0, &help)) || help)
		return rc;
	if (a.npositional != 1) {
		cli_error("info: expected one PDF file (see signcore info --help)");
		return EXIT_BADINPUT;
	}
	if ((rc = cli_ctx_new(&ctx)))
		return rc;
	if ((rc = cli_open(ctx, &a, &doc)))
		goto cleanup;
	n = signcore_doc_page_count(doc);
	if (n < 0 || (code = signcore_doc_fields(doc, &fields, &nfields))) {
		rc = cli_fail(ctx, n < 0 ? n : code);
		goto cleanup;
	}
	root = json_object();
	json_object_set_new(root, "file", json_string(a.input));
	json_object_set_new(root, "pages", json_integer(n));
	json_object_set_new(root, "encrypted", json_boolean(signcore_doc_encrypted(doc)));
	json_object_set_new(root, "repaired", json_boolean(signcore_doc_repaired(doc)));
	pages = json_array();
	for (p = 1; p <= n; p++) {
		double w, h;
		int rot;
		if ((code = signcore_doc_page_size(doc, p, &w, &h, &rot))) {
			rc = cli_fail(ctx, code);
			goto cleanup;
		}
		json_array_append_new(pages, json_pack("{s:i, s:f, s:f, s:i}", "page", p, "width", round2(w), "height", round2(h),
			"rotate", rot));
	}
	json_object_set_new(root, "page_sizes", pages);
	jf = json_array();
	sigs = json_array();
	for (i = 0; i < nfields; i++) {
		signcore_field_info *f = &fields[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:[f,f,f,f], s:b, s:b}", "name", f->name,
			"type", signcore_field_type_name(f->type), "pdf_type", f->pdf_type, "page", f->page,
			"rect", round2(f->rect[0]), round2(f->rect[1]), round2(f->rect[2]), round2(f->rect[3]), "required", f->required,
			"read_only", f->read_only);
		if (f->value)
			json_object_set_new(o, "value", json_string(f->value));
		if (f->type == SIGNCORE_FIELD_SIGNATURE || f->type == SIGNCORE_FIELD_INITIALS)
			json_object_set_new(o, "signed", json_boolean(f->is_signed));
		if (f->is_signed)
			json_array_append_new(sigs, json_string(f->name));
		json_array_append_new(jf, o);
	}
	json_object_set_new(root, "fields", jf);
	json_object_set_new(root, "signatures", sigs);

	if (a.json) {
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else {
		printf("File:       %s\n", a.input);
		printf("Pages:      %d\n", n);
		printf("Encrypted:  %s\n", signcore_doc_encrypted(doc) ? "yes" : "no");
		printf("Repaired:   %s\n", signcore_doc_repaired(doc) ? "yes (the file was damaged)" : "no");
		json_array_foreach(pages, i, jf) {
			printf("Page %-5d  %g x %g pt, rotate %d\n", (int)json_integer_value(json_object_get(jf, "page")),
				json_real_value(json_object_get(jf, "width")), json_real_value(json_object_get(jf, "height")),
				(int)json_integer_value(json_object_get(jf, "rotate")));
		}
		printf("Fields:     %zu\n", nfields);
		for (i = 0; i < nfields; i++) {
			signcore_field_info *f = &fields[i];
			const char *c;
			printf("  %-24s %-9s page %d  [%.1f %.1f %.1f %.1f]%s%s%s%s", f->name,
				signcore_field_type_name(f->type), f->page, f->rect[0], f->rect[1], f->rect[2], f->rect[3],
				f->required ? " required" : "", f->read_only ? " read-only" : "",
				f->is_signed ? " signed" : "", f->value ? " = " : "");
			/* One field per line: show line breaks in a value as \n. */
			for (c = f->value; c && *c; c++)
				fputs(*c == '\n' ? "\\n" : *c == '\r' ? "\\r" : (char[2]){ *c, 0 }, stdout);
			putchar('\n');
		}
		printf("Signatures: %zu\n", json_array_size(json_object_get(root, "signatures")));
	}
	rc = EXIT_OK;
cleanup:
	json_decref(root);
	signcore_field_info_free(fields, nfields);
	signcore_doc_free(doc);
	signcore_ctx_free(ctx);
	return rc;
}
