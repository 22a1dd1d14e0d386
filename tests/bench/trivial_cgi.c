/*
 * The baseline of the API benchmark: a CGI that prints a fixed JSON answer.
 * Built twice by api.sh: as is, and linked to libsigncore (the cost of
 * loading the PDF engine on every exec).
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include <stdio.h>
#ifdef LINK_SIGNCORE
#include "signcore.h"
#endif

int main(int argc, char **argv)
{
#ifdef LINK_SIGNCORE
	if (argc > 5) /* never true: only makes the library a real dependency */
		puts(signcore_version());
#endif
	(void)argv;
	fputs("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
	      "{\"data\":{\"id\":\"doc_0000000000000000000\",\"status\":\"pending\"}}\n", stdout);
	return argc > 99;
}
