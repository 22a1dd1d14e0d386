#!/bin/sh
# Build a throw-away test PKI in DIR and start its time-stamp, OCSP, CRL and
# caIssuers server (lighttpd + sh CGIs calling openssl) on 127.0.0.1 at a
# free port. Afterwards ". DIR/env.sh" gives the URLs and file names (see
# README.md); "teardown.sh DIR" stops the server.
#
# Usage: setup.sh DIR        DIR must not exist or be empty.
# Exit status: 0 ok, 1 failure, 2 usage, 77 a required tool is missing.
# Environment: OPENSSL, LIGHTTPD, CERTUTIL, CURL name other binaries;
# PKI_LIFETIME (seconds, default 3600): the server stops by itself then,
# or as soon as DIR is removed.
# SPDX-License-Identifier: AGPL-3.0-or-later
set -eu

me=setup.sh
die()
{
	printf '%s: %s\n' "$me" "$*" >&2
	exit 1
}

[ $# -eq 1 ] && [ -n "$1" ] || {
	echo "usage: $me DIR" >&2
	exit 2
}
HERE=$(cd "$(dirname "$0")" && pwd)
LIFETIME=${PKI_LIFETIME:-3600}
case $LIFETIME in '' | *[!0-9]*) echo "$me: PKI_LIFETIME must be a number of seconds" >&2; exit 2 ;; esac

# need VAR NAME [FALLBACK]: set VAR to the absolute path of a tool.
need()
{
	_p=$(eval "printf '%s' \"\${$1:-}\"")
	[ -n "$_p" ] || _p=$2
	case $_p in
	*/*) ;;
	*) _p=$(command -v "$_p" 2>/dev/null) || _p=${3:-} ;;
	esac
	[ -n "$_p" ] && [ -x "$_p" ] || {
		printf '%s: %s not found (set %s=...)\n' "$me" "$2" "$1" >&2
		exit 77
	}
	eval "$1=\$_p"
}
need OPENSSL openssl
need LIGHTTPD lighttpd /usr/sbin/lighttpd
need CERTUTIL certutil
need CURL curl
need FLOCK flock
for t in od head dd sed mktemp; do
	command -v "$t" >/dev/null 2>&1 || {
		printf '%s: %s not found\n' "$me" "$t" >&2
		exit 77
	}
done

# The path goes into shell, lighttpd and OpenSSL configuration files.
check_path()
{
	case $1 in
	*[!A-Za-z0-9._/+,:@=~-]*) die "$1: only A-Z a-z 0-9 . _ / + , : @ = ~ - are supported in the path" ;;
	esac
}
case $1 in /*) check_path "$1" ;; *) check_path "$PWD/$1" ;; esac
if [ -e "$1" ]; then
	[ -d "$1" ] || die "$1 exists and is not a directory"
	[ -z "$(ls -A "$1")" ] || die "$1 is not empty"
else
	mkdir -p "$1" || die "cannot create $1"
fi
D=$(cd "$1" && pwd -P)
check_path "$D"

mkdir "$D/tmp" "$D/www" "$D/www/cgi" "$D/www/crl" "$D/www/certs" \
	"$D/ca" "$D/ca/root" "$D/ca/root/newcerts" "$D/ca/inter" "$D/ca/inter/newcerts"
LOG=$D/tmp/setup.log
: >"$LOG"

started=
cleanup()
{
	st=$?
	trap - EXIT
	if [ "$st" -ne 0 ] && [ -n "$started" ]; then
		sh "$HERE/teardown.sh" "$D" || :
	fi
	exit "$st"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# run CMD...: run quietly; on failure show the command and its output.
run()
{
	printf '+ %s\n' "$*" >>"$LOG"
	"$@" >>"$LOG" 2>&1 || {
		printf '%s: failed: %s\n' "$me" "$*" >&2
		tail -n 15 "$LOG" >&2
		exit 1
	}
}

# subst TEMPLATE OUT [MODE]: fill in a template of this directory.
subst()
{
	sed -e "s|@DIR@|$D|g" -e "s|@PORT@|${PORT:-}|g" \
		-e "s|@OPENSSL@|$OPENSSL|g" -e "s|@MODE@|${3:-}|g" \
		"$HERE/$1" >"$2" || die "cannot write $2"
}

random16() { od -An -N2 -tu2 /dev/urandom | tr -d ' \n'; }

# --- the server -------------------------------------------------------------

subst tsa.cgi.in "$D/www/cgi/tsa.cgi" ok
subst tsa.cgi.in "$D/www/cgi/tsa-wrong.cgi" wrong
subst tsa-broken.cgi.in "$D/www/cgi/tsa-500.cgi" 500
subst tsa-broken.cgi.in "$D/www/cgi/tsa-garbage.cgi" garbage
subst ocsp.cgi.in "$D/www/cgi/ocsp.cgi"
token=$("$OPENSSL" rand -hex 16)
printf '%s\n' "$token" >"$D/www/ping.txt"

# Listening ports come from 20000-31999, below Linux's ephemeral ports
# (32768-60999), so that no outgoing connection holds them. If the port
# is taken (another test, another program), try another one.
tries=0
while :; do
	tries=$((tries + 1))
	PORT=$((20000 + $(random16) % 12000))
	subst lighttpd.conf.in "$D/lighttpd.conf"
	rm -f "$D/lighttpd-error.log"
	if "$LIGHTTPD" -f "$D/lighttpd.conf" >"$D/tmp/lighttpd-start.log" 2>&1; then
		started=1
		break
	fi
	if [ "$tries" -lt 40 ] &&
		grep -q 'Address already in use' "$D/tmp/lighttpd-start.log" "$D/lighttpd-error.log" 2>/dev/null; then
		continue
	fi
	cat "$D/tmp/lighttpd-start.log" "$D/lighttpd-error.log" >&2 2>/dev/null || :
	die "lighttpd did not start (port $PORT)"
done
BASE=http://127.0.0.1:$PORT

# lighttpd forks after binding; wait until it answers with our token.
i=0
until [ "$("$CURL" -fsS --max-time 2 "$BASE/ping.txt" 2>/dev/null)" = "$token" ]; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || die "lighttpd does not answer at $BASE"
	sleep 0.1
done

# The watchdog (see teardown.sh) stops the server when DIR is removed or
# after PKI_LIFETIME seconds.
pid=$(cat "$D/lighttpd.pid" 2>/dev/null) || die "lighttpd wrote no pid file"
sh "$HERE/teardown.sh" --watch "$D" "$pid" "$LIFETIME" </dev/null >/dev/null 2>&1 &
printf '%s\n' "$!" >"$D/watchdog.pid"

# A port where nothing listens, for TSA_URL_DOWN: below the range of our
# servers, so that no other test PKI takes it later.
tries=0
while :; do
	tries=$((tries + 1))
	[ "$tries" -lt 40 ] || die "no closed port found for TSA_URL_DOWN"
	DOWN_PORT=$((10000 + $(random16) % 10000))
	rc=0
	"$CURL" -sS --max-time 2 -o /dev/null "http://127.0.0.1:$DOWN_PORT/" 2>/dev/null || rc=$?
	[ "$rc" -ne 7 ] || break # 7: connection refused
done

# --- keys (in parallel) -----------------------------------------------------

# genkey NAME TYPE: DIR/NAME.key, PKCS#8 PEM, unencrypted.
genkey()
{
	case $2 in
	rsa*) set -- "$1" -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa}" ;;
	p256) set -- "$1" -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve ;;
	p384) set -- "$1" -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve ;;
	esac
	_n=$1
	shift
	"$OPENSSL" genpkey -quiet "$@" -out "$D/$_n.key" >"$D/tmp/genkey-$_n.log" 2>&1 || {
		cat "$D/tmp/genkey-$_n.log" >&2
		printf '%s: cannot generate %s.key\n' "$me" "$_n" >&2
		exit 1
	}
}

SIGNERS="signer-rsa signer-rsa3072 signer-p256 signer-p384 signer-revoked
signer-expired signer-future signer-nokeyusage signer-crlonly"
pids=
for spec in root:rsa3072 inter:rsa3072 tsa:rsa2048 ocsp:rsa2048 \
	signer-rsa:rsa2048 signer-rsa3072:rsa3072 signer-p256:p256 \
	signer-p384:p384 signer-revoked:rsa2048 signer-expired:rsa2048 \
	signer-future:rsa2048 signer-nokeyusage:rsa2048 signer-crlonly:rsa2048; do
	genkey "${spec%%:*}" "${spec#*:}" &
	pids="$pids $!"
done
failed=
for p in $pids; do
	wait "$p" || failed=1
done
[ -z "$failed" ] || die "key generation failed"

# --- certificates -----------------------------------------------------------

subst ca.cnf.in "$D/ca.cnf"
subst tsa.cnf.in "$D/tsa.cnf"
for ca in root inter; do
	: >"$D/ca/$ca/index.txt"
	printf 'unique_subject = no\n' >"$D/ca/$ca/index.txt.attr"
	# Random positive 128-bit starting serial.
	printf '%02X%s\n' $(($(random16) % 112 + 16)) "$("$OPENSSL" rand -hex 15)" >"$D/ca/$ca/serial"
	printf '1000\n' >"$D/ca/$ca/crlnumber"
done
printf '01\n' >"$D/tsaserial"
printf 'test-pass\n' >"$D/p12-pass.txt"

CNF=$D/ca.cnf
O='/C=IN/O=signcore Test'

# csr NAME SUBJECT
csr()
{
	run "$OPENSSL" req -new -config "$CNF" -key "$D/$1.key" -subj "$2" -out "$D/tmp/$1.csr"
}

# issue NAME EXTENSIONS SUBJECT [openssl ca options]: a certificate of the
# issuing CA.
issue()
{
	_n=$1 _x=$2
	csr "$_n" "$3"
	shift 3
	run "$OPENSSL" ca -batch -config "$CNF" -name inter_ca -extensions "$_x" -notext \
		-in "$D/tmp/$_n.csr" -out "$D/$_n.crt" "$@"
}

# The CAs start in 2019, so that signer-expired (2020) lies within their
# validity; they end 10 years from now.
csr root "$O/CN=signcore Test Root CA"
run "$OPENSSL" ca -batch -config "$CNF" -name root_ca -selfsign -keyfile "$D/root.key" \
	-extensions root_ext -notext -startdate 20190101000000Z -days 3650 \
	-in "$D/tmp/root.csr" -out "$D/root.crt"
csr inter "$O/CN=signcore Test Issuing CA"
run "$OPENSSL" ca -batch -config "$CNF" -name root_ca -extensions inter_ext -notext \
	-startdate 20190101000000Z -days 3650 -in "$D/tmp/inter.csr" -out "$D/inter.crt"
cat "$D/inter.crt" "$D/root.crt" >"$D/chain.pem"

issue signer-rsa ee_ext "$O/CN=Asha Rao/emailAddress=asha.rao@example.com"
issue signer-rsa3072 ee_ext "$O/CN=Rohan Mehta/emailAddress=rohan.mehta@example.com"
issue signer-p256 ee_ext "$O/CN=Priya Sharma/emailAddress=priya.sharma@example.com"
issue signer-p384 ee_ext "$O/CN=Vikram Iyer/emailAddress=vikram.iyer@example.com"
issue signer-revoked ee_ext "$O/CN=Revoked Signer/emailAddress=revoked@example.com"
issue signer-expired ee_ext "$O/CN=Expired Signer/emailAddress=expired@example.com" \
	-startdate 20200101000000Z -enddate 20210101000000Z
issue signer-future ee_ext "$O/CN=Future Signer/emailAddress=future@example.com" \
	-startdate 20350101000000Z -enddate 20360101000000Z
issue signer-nokeyusage ee_nokeyusage_ext "$O/CN=Nokeyusage Signer/emailAddress=nokeyusage@example.com"
issue signer-crlonly ee_crlonly_ext "$O/CN=Crlonly Signer/emailAddress=crlonly@example.com"
issue tsa tsa_ext "$O/CN=signcore Test TSA"
issue ocsp ocsp_ext "$O/CN=signcore Test OCSP Responder"

run "$OPENSSL" ca -batch -config "$CNF" -name inter_ca -revoke "$D/signer-revoked.crt" \
	-crl_reason keyCompromise

# CRLs (DER, 30 days) and DER certificates, served through symbolic links,
# so that a test may replace them.
for ca in root inter; do
	run "$OPENSSL" ca -batch -config "$CNF" -name "${ca}_ca" -gencrl -crldays 30 \
		-out "$D/$ca.crl.pem"
	run "$OPENSSL" crl -in "$D/$ca.crl.pem" -outform DER -out "$D/$ca.crl"
	run "$OPENSSL" x509 -in "$D/$ca.crt" -outform DER -out "$D/$ca.der"
	ln -s "../../$ca.crl" "$D/www/crl/$ca.crl"
	ln -s "../../$ca.der" "$D/www/certs/$ca.der"
done

for n in $SIGNERS; do
	run "$OPENSSL" pkcs12 -export -inkey "$D/$n.key" -in "$D/$n.crt" \
		-certfile "$D/chain.pem" -name "$n" -passout "file:$D/p12-pass.txt" \
		-out "$D/$n.p12"
done

# --- NSS database for pdfsig -nssdir ----------------------------------------

mkdir "$D/nssdb"
run "$CERTUTIL" -N -d "sql:$D/nssdb" --empty-password
run "$CERTUTIL" -A -d "sql:$D/nssdb" -n "signcore Test Root CA" -t "CT,C,C" -i "$D/root.crt"
run "$CERTUTIL" -A -d "sql:$D/nssdb" -n "signcore Test Issuing CA" -t ",," -i "$D/inter.crt"

# --- env.sh -----------------------------------------------------------------

{
	printf '# Generated by tests/pki/setup.sh: the test PKI in this directory.\n'
	v()
	{
		printf "%s='%s'\nexport %s\n" "$1" "$2" "$1"
	}
	v PKI_DIR "$D"
	v PKI_PORT "$PORT"
	v TSA_URL "$BASE/tsa"
	v TSA_URL_500 "$BASE/tsa-500"
	v TSA_URL_GARBAGE "$BASE/tsa-garbage"
	v TSA_URL_WRONG "$BASE/tsa-wrong"
	v TSA_URL_DOWN "http://127.0.0.1:$DOWN_PORT/tsa"
	v TSA_POLICY 1.3.6.1.4.1.99999.1
	v OCSP_URL "$BASE/ocsp"
	v ROOT_CRL_URL "$BASE/crl/root.crl"
	v INTER_CRL_URL "$BASE/crl/inter.crl"
	v ROOT_CERT_URL "$BASE/certs/root.der"
	v INTER_CERT_URL "$BASE/certs/inter.der"
	v NSSDB "sql:$D/nssdb"
	v ROOT_PEM "$D/root.crt"
	v ROOT_DER "$D/root.der"
	v ROOT_KEY "$D/root.key"
	v ROOT_CRL "$D/root.crl"
	v INTER_PEM "$D/inter.crt"
	v INTER_DER "$D/inter.der"
	v INTER_KEY "$D/inter.key"
	v INTER_CRL "$D/inter.crl"
	v CHAIN_PEM "$D/chain.pem"
	v CA_CNF "$D/ca.cnf"
	v TSA_CRT "$D/tsa.crt"
	v TSA_KEY "$D/tsa.key"
	v TSA_CNF "$D/tsa.cnf"
	v OCSP_CRT "$D/ocsp.crt"
	v OCSP_KEY "$D/ocsp.key"
	v P12_PASS test-pass
	v P12_PASS_FILE "$D/p12-pass.txt"
	for n in $SIGNERS; do
		V=$(printf '%s' "$n" | tr 'a-z-' 'A-Z_')
		v "${V}_KEY" "$D/$n.key"
		v "${V}_CRT" "$D/$n.crt"
		v "${V}_P12" "$D/$n.p12"
	done
} >"$D/tmp/env.sh"
mv "$D/tmp/env.sh" "$D/env.sh"

rm -f "$D"/tmp/*.csr "$D"/tmp/genkey-*.log "$D/tmp/lighttpd-start.log" "$LOG"
