#!/bin/sh
# Stop the server of a test PKI made by setup.sh. Safe to call more than
# once, and on a DIR whose setup failed. DIR itself is left alone.
#
# Usage: teardown.sh DIR
#
# setup.sh also starts "teardown.sh --watch DIR PID SECONDS" in the
# background: a watchdog that stops the server (PID) when DIR is removed,
# when SECONDS have passed or when it gets SIGTERM/SIGHUP/SIGINT, so that a
# test killed before its teardown does not leave a server behind.
# SPDX-License-Identifier: AGPL-3.0-or-later
set -eu

me=teardown.sh
usage()
{
	echo "usage: $me DIR" >&2
	exit 2
}

# alive PID PATTERN: PID is a running process (not a zombie) whose command
# line contains PATTERN (not another process that got the same pid).
alive()
{
	if [ -d /proc/self ]; then
		[ -r "/proc/$1/stat" ] || return 1
		# The state follows the last ") " (the end of the command name).
		case $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) in '' | Z*) return 1 ;; esac
		_args=$(tr '\000' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	else
		case $(ps -o stat= -p "$1" 2>/dev/null) in '' | Z*) return 1 ;; esac
		_args=$(ps -o args= -p "$1" 2>/dev/null) || return 1
	fi
	case "$_args " in
	*"$2"*) return 0 ;;
	*) return 1 ;;
	esac
}

# stop PID DIR: stop the lighttpd of DIR, wait until it is gone.
stop()
{
	alive "$1" "$2/lighttpd.conf" || return 0
	kill -TERM "$1" 2>/dev/null || :
	_i=0
	while alive "$1" "$2/lighttpd.conf"; do
		_i=$((_i + 1))
		if [ "$_i" -eq 50 ]; then
			kill -KILL "$1" 2>/dev/null || :
		elif [ "$_i" -gt 80 ]; then
			printf '%s: lighttpd (pid %s) does not stop\n' "$me" "$1" >&2
			return 1
		fi
		sleep 0.1
	done
}

isnum() { case $1 in '' | *[!0-9]*) return 1 ;; esac; }

if [ "${1:-}" = --watch ]; then
	[ $# -eq 4 ] && isnum "$3" && isnum "$4" || usage
	D=$2 pid=$3 left=$4
	trap 'stop "$pid" "$D"; exit 0' HUP INT TERM
	while [ "$left" -gt 0 ] && [ -d "$D/www" ] && alive "$pid" "$D/lighttpd.conf"; do
		sleep 2
		left=$((left - 2))
	done
	stop "$pid" "$D"
	exit 0
fi

[ $# -eq 1 ] && [ -n "$1" ] || usage
[ -d "$1" ] || exit 0
D=$(cd "$1" && pwd -P)

if [ -f "$D/watchdog.pid" ]; then
	wpid=$(cat "$D/watchdog.pid" 2>/dev/null) || wpid=
	if isnum "$wpid" && alive "$wpid" "--watch $D "; then
		kill -KILL "$wpid" 2>/dev/null || :
	fi
	rm -f "$D/watchdog.pid"
fi

if [ -f "$D/lighttpd.pid" ]; then
	pid=$(cat "$D/lighttpd.pid" 2>/dev/null) || pid=
	if isnum "$pid"; then
		stop "$pid" "$D"
	fi
	rm -f "$D/lighttpd.pid"
fi
