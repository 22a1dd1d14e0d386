/*
 * signcore.cgi: the REST API as a CGI program, or as a FastCGI server when
 * started with a listening socket on stdin (spawn-fcgi, or a web server's
 * FastCGI process manager). The data directory comes from --data-dir or
 * SIGNCORE_DATA_DIR.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

static void request_free(api_req *r)
{
	int i;
	free(r->path);
	free(r->query);
	free(r->body);
	for (i = 0; i < r->nparams; i++)
		free(r->params[i]);
	api_buf_free(&r->headers);
	api_buf_free(&r->out);
}

/* A FastCGI server is started with a listening socket as stdin: the test
 * of libfcgi's FCGX_IsCGI, without the signal handlers its FCGX_Init
 * installs, which a CGI process has no use for. */
static int is_fastcgi(void)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof sa;

	errno = 0;
	return getpeername(0, (struct sockaddr *)&sa, &len) && errno == ENOTCONN;
}

static void serve(api_req *r, const char *setup_error)
{
	if (setup_error) {
		api_new_id(r->request_id, sizeof r->request_id, "req_");
		r->method = api_env(r, "REQUEST_METHOD");
		api_fail(r, 503, "not_configured", "%s", setup_error);
	} else
		api_handle(r);
	api_flush(r);
}

int main(int argc, char **argv)
{
	const char *dir_arg = NULL, *dir;
	char err[1024] = "";
	api_conf conf;
	sqlite3 *db = NULL;
	int i, bad = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--data-dir") && i + 1 < argc)
			dir_arg = argv[++i];
		else if (!strncmp(argv[i], "--data-dir=", 11))
			dir_arg = argv[i] + 11;
		else if (!strcmp(argv[i], "--version")) {
			printf("signcore.cgi %s\n", PACKAGE_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--help")) {
			printf("usage: signcore.cgi [--data-dir DIR]\n"
				"Serves the signcore REST API (/v1/...) as a CGI program, or as a FastCGI\n"
				"server when stdin is a listening socket. DIR defaults to $SIGNCORE_DATA_DIR.\n");
			return 0;
		}
	}
	/* SQLite's memory statistics take a global mutex and update counters
	 * on every allocation; nothing here reads them, and Debian's build has
	 * no lookaside, so every small allocation pays: 15% of the
	 * instructions of a CGI request. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* jansson seeds its hash function from /dev/urandom (an open, a read
	 * and a close) on the first object; one getrandom does the same */
	{
		uint32_t seed;
		if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed && seed)
			json_object_seed(seed);
	}
	dir = api_data_dir(dir_arg);
	if (api_conf_load(&conf, dir, err, sizeof err))
		bad = 1;

	if (!is_fastcgi()) {
		api_req r;
		/* as under libfcgi: a server that closed the pipe gives EPIPE, not death */
		signal(SIGPIPE, SIG_IGN);
		memset(&r, 0, sizeof r);
		r.conf = &conf;
		/* the database is opened when the request needs it: a read answered
		 * from the cache does not (cache.c) */
		r.lazy_db = 1;
		serve(&r, bad ? err : NULL);
		db = r.db;
		request_free(&r);
	} else {
		FCGX_Request fr;
		if (!bad && api_db_open(&db, dir, 0, err, sizeof err))
			bad = 1;
		api_db_cache(db);
		if (FCGX_Init() || FCGX_InitRequest(&fr, 0, 0)) {
			fprintf(stderr, "signcore.cgi: FastCGI set-up failed\n");
			return 1;
		}
		while (FCGX_Accept_r(&fr) >= 0) {
			api_req r;
			memset(&r, 0, sizeof r);
			r.conf = &conf;
			r.db = db;
			r.fcgi = &fr;
			serve(&r, bad ? err : NULL);
			request_free(&r);
			FCGX_Finish_r(&fr);
			api_db_idle(db);
		}
	}
	api_db_close(db);
	api_conf_free(&conf);
	return 0;
}
