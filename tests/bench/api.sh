#!/bin/bash
# REST API benchmark: wrk against lighttpd on 127.0.0.1, in one run:
#   - a trivial C CGI printing fixed JSON (the baseline),
#   - the same CGI linked to libsigncore (what loading the engine costs),
#   - the same CGI opening signcore's database and running one query (the
#     floor of a CGI keeping its state in SQLite),
#   - GET /v1/documents/{id} through signcore.cgi as a CGI (answered from
#     its read cache after the first requests), and with the cache off,
#   - the same request with signcore.cgi as a FastCGI server (spawn-fcgi),
# then the completion of a 10-page, 2-signer document (fill, flatten,
# audit, seal) timed with a B-B seal (no TSA) and with a B-T seal against
# the test PKI's TSA on 127.0.0.1.
#
#   tests/bench/api.sh [--duration S] [--connections N]
# Needs a built tree (make), wrk, lighttpd, spawn-fcgi, curl, openssl.
# SPDX-License-Identifier: AGPL-3.0-or-later
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
dur=10 conns=4
while [ $# -gt 0 ]; do
	case $1 in
	--duration) dur=$2; shift ;;
	--connections) conns=$2; shift ;;
	*) echo "usage: api.sh [--duration S] [--connections N]" >&2; exit 2 ;;
	esac
	shift
done
die() { echo "api bench: $*" >&2; exit 1; }
note() { echo "api bench: $*" >&2; }
for c in wrk lighttpd spawn-fcgi curl python3 openssl cc; do
	command -v "$c" >/dev/null || die "$c is not installed"
done
[ -x "$root/api/signcore.cgi" ] || die "build first (make)"
work=$(mktemp -d /tmp/signcore-bench-api.XXXXXX)
cleanup()
{
	sh "$root/api/deploy/serve-local.sh" "$work/data" --stop 2>/dev/null
	[ -f "$work/triv/lighttpd.pid" ] && kill "$(cat "$work/triv/lighttpd.pid")" 2>/dev/null
	sh "$root/tests/pki/teardown.sh" "$work/pki" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
export SIGNCORE_LIBRARY=$root/libsigncore/.libs/libsigncore.so.0 SIGNCORE_FONT_DIR=$root/fonts
admin() { "$root/api/signcore-admin" --data-dir "$work/data" "$@"; }

# --- the trivial CGIs, served by their own lighttpd
mkdir -p "$work/triv"
cc -O2 -o "$work/triv/trivial.cgi" "$root/tests/bench/trivial_cgi.c" || die "cc failed"
cc -O2 -DLINK_SIGNCORE -I"$root/libsigncore" -o "$work/triv/linked.cgi" "$root/tests/bench/trivial_cgi.c" \
	-L"$root/libsigncore/.libs" -lsigncore -Wl,-rpath,"$root/libsigncore/.libs" || die "cc (linked) failed"
# linked as signcore.cgi is: SQLite's archive, libm on first use (api/lazymath.c)
sqlite_libs="$(cc -print-file-name=libsqlite3.a) $root/api/lazymath.c"
grep -q '^#define SIGNCORE_LAZY_LIBM' "$root/config.h" || sqlite_libs="-lsqlite3 -lm"
cc -O2 -I"$root" -DSQLITE_DB="\"$work/data/signcore.db\"" -o "$work/triv/sqlite.cgi" "$root/tests/bench/trivial_cgi.c" \
	$sqlite_libs -ldl -lpthread || die "cc (sqlite) failed"
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/triv/lighttpd.conf" <<CONF
server.modules = ("mod_cgi")
server.bind = "127.0.0.1"
server.port = $tport
server.document-root = "$work/triv"
server.pid-file = "$work/triv/lighttpd.pid"
server.errorlog = "$work/triv/error.log"
\$HTTP["url"] =~ "\.cgi\$" { cgi.assign = ("" => "") }
CONF
lighttpd -f "$work/triv/lighttpd.conf" || die "lighttpd (trivial) did not start"

# --- signcore: data, an account without a practical rate limit, a document
sh "$root/tests/pki/setup.sh" "$work/pki" >"$work/pki.log" 2>&1 || die "test PKI: $(tail -1 "$work/pki.log")"
. "$work/pki/env.sh"
admin init >/dev/null || die "init"
cat >"$work/data/signcore.conf" <<CONF
[seal]
p12 = $SIGNER_RSA_P12
password_file = $P12_PASS_FILE
level = B-B
trust = $ROOT_PEM
[limits]
enterprise_rate_per_minute = 100000000
CONF
acc=$(admin account create Bench --plan enterprise)
key=$(admin key create --account "$acc" 2>/dev/null)
base=$(sh "$root/api/deploy/serve-local.sh" "$work/data") || die "serve-local"
fx=$root/tests/fixtures/out
if [ ! -f "$fx/pages200.pdf" ]; then
	fx=$work/fx
	python3 "$root/tests/fixtures/mkfixtures.py" "$fx" >/dev/null || die "fixtures"
fi
qpdf --empty --pages "$fx/pages200.pdf" 1-10 -- "$work/ten.pdf" || die "qpdf"
sk=$(curl -sS -H "Authorization: Bearer $key" -H 'Content-Type: application/pdf' --data-binary @"$work/ten.pdf" \
	"$base/v1/uploads" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["storageKey"])')
mkdoc()
{
	curl -sS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data-binary @- "$base/v1/documents" <<JSON
{"title": "Bench", "storageKey": "$sk", "signingOrder": "parallel",
 "recipients": [{"email": "a@example.in", "name": "प्रिया शर्मा"}, {"email": "b@example.in", "name": "Arun Kumar"}],
 "fields": [{"type": "signature", "page": 10, "rect": [72, 600, 200, 50], "recipient": 0},
            {"type": "text", "page": 10, "rect": [72, 560, 250, 20], "recipient": 0},
            {"type": "date", "page": 10, "rect": [300, 560, 150, 20], "recipient": 0},
            {"type": "signature", "page": 10, "rect": [320, 600, 200, 50], "recipient": 1},
            {"type": "initials", "page": 1, "rect": [500, 740, 40, 20], "recipient": 1}]}
JSON
}
mkdoc >"$work/mkdoc.json"
doc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["id"])' "$work/mkdoc.json") ||
	die "creating the document failed: $(cat "$work/mkdoc.json")"
[ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$base/v1/documents/$doc")" = 200 ] ||
	die "GET /v1/documents/$doc does not answer 200"

rate()
{ # rate NAME URL [wrk args] -> "req/s p99"
	local out
	out=$(wrk -t2 -c"$conns" -d"${dur}s" --latency "$@" 2>&1)
	printf '%s %s\n' "$(printf '%s\n' "$out" | awk '/^Requests\/sec/ {print $2}')" \
		"$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')"
	if printf '%s\n' "$out" | grep -E 'Non-2xx|Socket errors' >&2; then die "errors during the run of $*"; fi
}
note "wrk -t2 -c$conns -d${dur}s per row"
r_triv=$(rate "http://127.0.0.1:$tport/trivial.cgi")
r_link=$(rate "http://127.0.0.1:$tport/linked.cgi")
r_sql=$(rate "http://127.0.0.1:$tport/sqlite.cgi")
r_cgi=$(rate -H "Authorization: Bearer $key" "$base/v1/documents/$doc")
# the same with the read cache off: every request opens the database
printf '[server]\nread_cache = off\n' >>"$work/data/signcore.conf"
r_nocache=$(rate -H "Authorization: Bearer $key" "$base/v1/documents/$doc")
sed -i '/^\[server\]$/,$d' "$work/data/signcore.conf"
sh "$root/api/deploy/serve-local.sh" "$work/data" --stop
base=$(sh "$root/api/deploy/serve-local.sh" "$work/data" --fastcgi) || die "serve-local --fastcgi"
r_fcgi=$(rate -H "Authorization: Bearer $key" "$base/v1/documents/$doc")

complete_once()
{ # sign a fresh document with both signers; print the ms of the last submission
	local d t1 t2
	d=$(mkdoc)
	t1=$(printf '%s' "$d" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["recipients"]; print(r[0]["signingUrl"])')
	t2=$(printf '%s' "$d" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["recipients"]; print(r[1]["signingUrl"])')
	python3 - "$t1" "$t2" <<'PY'
import json, subprocess, sys, time
def call(url, body):
    p = subprocess.run(["curl", "-sS", "-H", "Content-Type: application/json", "--data-binary", "@-", url],
                       input=json.dumps(body).encode(), capture_output=True)
    return json.loads(p.stdout)
u1, u2 = sys.argv[1], sys.argv[2]
out = subprocess.run(["curl", "-sS", u1], capture_output=True)
if not out.stdout:
    sys.exit("GET %s: %s" % (u1, out.stderr.decode()))
s = json.loads(out.stdout)["data"]
vals = {f["id"]: ("today" if f["type"] == "date" else "Acme") for f in s["fields"] if f["type"] in ("text", "date")}
call(u1 + "/submit", {"fields": vals, "signature": {"text": "Priya"}})
t0 = time.perf_counter()
r = call(u2 + "/submit", {"signature": {"text": "Arun"}})
ms = (time.perf_counter() - t0) * 1000
assert r["data"]["document"]["status"] == "completed", r
print("%.1f" % ms)
PY
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
bb=$(for i in 1 2 3 4 5 6 7; do complete_once; done | median)
sed -i "s/^level = B-B/level = B-T\ntsa = ${TSA_URL//\//\\/}/" "$work/data/signcore.conf"
bt=$(for i in 1 2 3 4 5 6 7; do complete_once; done | median)
tsa=$(python3 - "$TSA_URL" <<'PY'
import subprocess, sys, time, os, tempfile
d = tempfile.mkdtemp()
q = os.path.join(d, "q.tsq")
subprocess.run(["openssl", "ts", "-query", "-data", "/etc/hostname", "-sha256", "-cert", "-out", q], check=True,
               capture_output=True)
ts = []
for i in range(7):
    t0 = time.perf_counter()
    subprocess.run(["curl", "-sS", "-o", "/dev/null", "-H", "Content-Type: application/timestamp-query",
                    "--data-binary", "@" + q, sys.argv[1]], check=True)
    ts.append((time.perf_counter() - t0) * 1000)
print("%.1f" % sorted(ts)[3])
PY
)

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
pct() { python3 -c "print('%.0f%%' % (100 * float('$1') / float('$2')))"; }
x() { python3 -c "print('%.1fx' % (float('$1') / float('$2')))"; }
set -- $r_triv; triv=$1 triv99=$2
set -- $r_link; link=$1 link99=$2
set -- $r_sql; sql=$1 sql99=$2
set -- $r_cgi; cgi=$1 cgi99=$2
set -- $r_fcgi; fcgi=$1 fcgi99=$2
set -- $r_nocache; nocache=$1 nocache99=$2
cat <<TABLE

REST API, $(nproc) cores ($cpu), wrk -t2 -c$conns -d${dur}s, lighttpd on 127.0.0.1

| request | req/s | p99 | vs trivial CGI |
|---|---:|---:|---:|
| trivial C CGI, fixed JSON | $triv | $triv99 | 100% |
| same, linked to libsigncore | $link | $link99 | $(pct "$link" "$triv") |
| same, opening signcore's SQLite database for one query | $sql | $sql99 | $(pct "$sql" "$triv") |
| GET /v1/documents/{id}, signcore.cgi as CGI | $cgi | $cgi99 | $(pct "$cgi" "$triv") |
| same, read cache off (every request opens the database) | $nocache | $nocache99 | $(pct "$nocache" "$triv") |
| same, signcore.cgi as FastCGI | $fcgi | $fcgi99 | $(pct "$fcgi" "$triv") ($(x "$fcgi" "$cgi") the CGI) |

| completion of a 10-page, 2-signer document (last submission, median of 7) | ms |
|---|---:|
| fill + flatten + audit trail + B-B seal | $bb |
| same with a B-T seal (TSA on 127.0.0.1) | $bt |
| one TSA round trip alone (curl) | $tsa |
TABLE
