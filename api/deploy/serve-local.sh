#!/bin/sh
# Serve the signcore REST API on 127.0.0.1 with lighttpd, for development,
# tests and benchmarks.
#
#   api/deploy/serve-local.sh DATA_DIR [--port N] [--fastcgi] [--stop]
#
# DATA_DIR is a data directory made by `signcore-admin init`. The server
# runs as a daemon; its configuration, pid file and logs are in
# DATA_DIR/www. It prints the base URL (http://127.0.0.1:PORT) on standard
# output. --fastcgi runs signcore.cgi as a FastCGI server (spawn-fcgi, a Unix
# socket) instead of one process per request: two processes per CPU core (or
# SIGNCORE_FCGI_PROCS), each keeping its database connection and prepared
# statements; two, because after each answer a process waits for the web
# server to close the connection (libfcgi's graceful close). --stop stops it.
#
# Environment: SIGNCORE_CGI (the program; default: the build tree's, else
# the installed one), SIGNCORE_LIBRARY and SIGNCORE_FONT_DIR (passed to
# the program), SIGNCORE_FCGI_PROCS, LIGHTTPD, SPAWN_FCGI.
# SPDX-License-Identifier: AGPL-3.0-or-later
set -eu

die() { echo "serve-local: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: serve-local.sh DATA_DIR [--port N] [--fastcgi] [--stop]"
DATA=$(cd "$1" && pwd) || die "no data directory $1"
shift
PORT="" FCGI=0 STOP=0
while [ $# -gt 0 ]; do
	case $1 in
	--port) PORT=$2; shift ;;
	--fastcgi) FCGI=1 ;;
	--stop) STOP=1 ;;
	*) die "unknown option $1" ;;
	esac
	shift
done
W=$DATA/www
stop()
{
	for f in "$W/lighttpd.pid" "$W/fcgi.pid"; do
		# spawn-fcgi writes one pid per line, one for each process
		[ -f "$f" ] && kill $(cat "$f") 2>/dev/null || :
		rm -f "$f"
	done
}
stop
[ "$STOP" -eq 0 ] || exit 0

HERE=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${SIGNCORE_CGI:-}" ]; then
	if [ -x "$HERE/api/signcore.cgi" ]; then
		SIGNCORE_CGI=$HERE/api/signcore.cgi
		: "${SIGNCORE_LIBRARY:=$HERE/libsigncore/.libs/libsigncore.so.0}"
		: "${SIGNCORE_FONT_DIR:=$HERE/fonts}"
	else
		SIGNCORE_CGI=$(command -v signcore.cgi || echo /usr/local/libexec/signcore/signcore.cgi)
	fi
fi
[ -x "$SIGNCORE_CGI" ] || die "no signcore.cgi at $SIGNCORE_CGI (build first, or set SIGNCORE_CGI)"
LIGHTTPD=${LIGHTTPD:-$(command -v lighttpd || echo /usr/sbin/lighttpd)}
[ -x "$LIGHTTPD" ] || die "lighttpd is not installed (apt-get install lighttpd)"
mkdir -p "$W/tmp"
ln -sf "$SIGNCORE_CGI" "$W/signcore.cgi"

ENV="\"SIGNCORE_DATA_DIR\" => \"$DATA\""
[ -n "${SIGNCORE_LIBRARY:-}" ] && ENV="$ENV, \"SIGNCORE_LIBRARY\" => \"$SIGNCORE_LIBRARY\""
[ -n "${SIGNCORE_FONT_DIR:-}" ] && ENV="$ENV, \"SIGNCORE_FONT_DIR\" => \"$SIGNCORE_FONT_DIR\""

free_port()
{
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

try=0
while :; do
	P=${PORT:-$(free_port)}
	{
		echo 'server.modules = ("mod_access", "mod_rewrite", "mod_setenv", "mod_cgi", "mod_fastcgi")'
		echo 'server.bind = "127.0.0.1"'
		echo "server.port = $P"
		echo "server.document-root = \"$W\""
		echo "server.pid-file = \"$W/lighttpd.pid\""
		echo "server.errorlog = \"$W/lighttpd-error.log\""
		echo "server.breakagelog = \"$W/cgi-error.log\""
		echo "server.upload-dirs = (\"$W/tmp\")"
		echo 'server.max-request-size = 65536'
		echo 'server.tag = "signcore"'
		echo 'static-file.exclude-extensions = (".cgi")'
		echo 'url.access-deny = ("lighttpd.conf", ".pid", ".log", ".sock")'
		echo "setenv.add-environment = ($ENV)"
		echo 'url.rewrite-once = ("^/v1/(.*)$" => "/signcore.cgi/v1/$1")'
		if [ "$FCGI" -eq 1 ]; then
			echo '$HTTP["url"] =~ "^/signcore\.cgi" {'
			echo "  fastcgi.server = (\"/signcore.cgi\" => ((\"socket\" => \"$W/fcgi.sock\", \"check-local\" => \"disable\")))"
			echo '}'
		else
			echo '$HTTP["url"] =~ "^/signcore\.cgi" { cgi.assign = ("" => "") }'
		fi
	} >"$W/lighttpd.conf"
	if [ "$FCGI" -eq 1 ]; then
		SPAWN_FCGI=${SPAWN_FCGI:-$(command -v spawn-fcgi || echo /usr/bin/spawn-fcgi)}
		[ -x "$SPAWN_FCGI" ] || die "spawn-fcgi is not installed (apt-get install spawn-fcgi)"
		rm -f "$W/fcgi.sock"
		env SIGNCORE_DATA_DIR="$DATA" ${SIGNCORE_LIBRARY:+SIGNCORE_LIBRARY="$SIGNCORE_LIBRARY"} \
			${SIGNCORE_FONT_DIR:+SIGNCORE_FONT_DIR="$SIGNCORE_FONT_DIR"} \
			"$SPAWN_FCGI" -s "$W/fcgi.sock" -P "$W/fcgi.pid" -F "${SIGNCORE_FCGI_PROCS:-$((2 * $(nproc 2>/dev/null || echo 1)))}" \
			-- "$SIGNCORE_CGI" >/dev/null ||
			die "spawn-fcgi could not start $SIGNCORE_CGI"
	fi
	if "$LIGHTTPD" -f "$W/lighttpd.conf" 2>"$W/start.err"; then
		i=0
		while [ $i -lt 50 ]; do
			if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $P), 0.2)" 2>/dev/null; then
				echo "http://127.0.0.1:$P"
				exit 0
			fi
			sleep 0.1
			i=$((i + 1))
		done
	fi
	stop
	try=$((try + 1))
	[ -z "$PORT" ] && [ $try -lt 5 ] || die "lighttpd did not start on port $P: $(cat "$W/start.err" "$W/lighttpd-error.log" 2>/dev/null | tail -3)"
done
