/*
 * The baseline of the API benchmark: a CGI that prints a fixed JSON answer.
 * Built three times by api.sh: as is; linked to libsigncore (the cost of
 * loading the PDF engine on every exec); and with SQLITE_DB, linked to
 * SQLite's archive as signcore.cgi is, opening that database and running
 * one indexed query before answering (the floor of any CGI that keeps its
 * state in SQLite: start, schema, WAL index, one statement).
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include <stdio.h>
#ifdef LINK_SIGNCORE
#include "signcore.h"
#endif
#ifdef SQLITE_DB
#include <sqlite3.h>
#endif

int main(int argc, char **argv)
{
#ifdef LINK_SIGNCORE
	if (argc > 5) /* never true: only makes the library a real dependency */
		puts(signcore_version());
#endif
	(void)argv;
#ifdef SQLITE_DB
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		int persist = 1;
		if (sqlite3_open_v2(SQLITE_DB, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
			return 1;
		sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
		if (sqlite3_prepare_v2(db, "SELECT id FROM api_keys WHERE hash = 'none'", -1, &st, NULL) != SQLITE_OK)
			return 1;
		while (sqlite3_step(st) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
#endif
	fputs("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
	      "{\"data\":{\"id\":\"doc_0000000000000000000\",\"status\":\"pending\"}}\n", stdout);
	return argc > 99;
}
