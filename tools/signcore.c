/*
 * signcore: stamp, fill, flatten, sign and verify PDF files.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "info", cmd_info, "show pages, page sizes, fields and signatures" },
	{ "place", cmd_place, "add form fields from a field spec" },
	{ "fill", cmd_fill, "fill existing fields from a values file" },
	{ "flatten", cmd_flatten, "burn field appearances into the pages" },
	{ "stamp", cmd_stamp, "place, fill and flatten in one step" },
	{ "audit", cmd_audit, "append the audit trail pages; check an event log's hash chain" },
	{ "sign", cmd_sign, "sign with PAdES (B-B to B-LTA), visible or not; external signing" },
	{ "timestamp", cmd_timestamp, "add a document time-stamp" },
	{ "ltv", cmd_ltv, "add long-term validation data (B-LT, B-LTA) to signed files" },
	{ "verify", cmd_verify, "verify every signature: integrity, changes, trust, PAdES level" },
	{ "batch", cmd_batch, "run a manifest of stamp/fill/sign jobs in parallel" },
};

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: signcore [--version] [--help] COMMAND [ARGS]\n\ncommands:\n", f);
	/* The process ends when its command does: OpenSSL's teardown at exit
	 * (freeing its providers and method tables, about 0.15 ms) would be
	 * work for nothing. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'signcore COMMAND --help' describes a command.\n"
	      "exit codes: 0 success, 1 failure (output not writable, internal), 2 usage error or bad input\n", f);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_BADINPUT;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("signcore %s\n", signcore_version());
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	/* The process ends when its command does: OpenSSL's teardown at exit
	 * (freeing its providers and method tables, about 0.15 ms) would be
	 * work for nothing. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "signcore: unknown command \"%s\" (see signcore --help)\n", argv[1]);
	return EXIT_BADINPUT;
}
