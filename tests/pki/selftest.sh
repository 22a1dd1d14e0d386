#!/bin/sh
# Self-test of the test PKI: set it up in a temporary directory, check every
# service with the openssl/curl/certutil (and, when present, pdfsig and
# pk12util) command-line tools, tear it down. Prints "selftest: OK";
# exits 1 on any failure (keeping the directory), 77 if a tool is missing.
# SPDX-License-Identifier: AGPL-3.0-or-later
set -eu

me=selftest
HERE=$(cd "$(dirname "$0")" && pwd)
OPENSSL=${OPENSSL:-openssl}
CURL=${CURL:-curl}
CERTUTIL=${CERTUTIL:-certutil}
LC_ALL=C
export LC_ALL

W=$(mktemp -d "${TMPDIR:-/tmp}/signcore-pki-selftest.XXXXXX")
D=$W/pki
fails=0

cleanup()
{
	st=$?
	trap - EXIT
	sh "$HERE/teardown.sh" "$D" || st=1
	if [ "$st" -eq 0 ] && [ "$fails" -eq 0 ]; then
		rm -rf "$W"
	elif [ "$st" -ne 77 ]; then
		printf '%s: files kept in %s\n' "$me" "$W" >&2
		[ "$st" -ne 0 ] || st=1
	else
		rm -rf "$W"
	fi
	exit "$st"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail()
{
	printf '%s: FAIL: %s\n' "$me" "$*" >&2
	fails=$((fails + 1))
}

# check DESCRIPTION CMD...: CMD must succeed; its output goes to out.log.
# (check and expect report a failure and go on: they always return 0.)
check()
{
	_d=$1
	shift
	if ! "$@" >"$W/out.log" 2>&1; then
		fail "$_d"
		sed 's/^/    /' "$W/out.log" | tail -n 10 >&2
	fi
}

# expect DESCRIPTION REGEX CMD...: CMD's output (stdout and stderr) must
# match the extended regular expression; its exit status does not matter.
expect()
{
	_d=$1 _re=$2
	shift 2
	"$@" >"$W/out.log" 2>&1 || :
	if ! grep -Eq -- "$_re" "$W/out.log"; then
		fail "$_d: no match for /$_re/"
		sed 's/^/    /' "$W/out.log" | tail -n 10 >&2
	fi
}

# http URL [CURL OPTIONS]: fetch into $W/body; sets $code and $ctype.
http()
{
	_u=$1
	shift
	_w=$("$CURL" -sS --max-time 20 -o "$W/body" -w '%{http_code} %{content_type}' "$@" "$_u") || _w="000 curl-failed"
	code=${_w%% *}
	ctype=${_w#* }
}

rc=0
sh "$HERE/setup.sh" "$D" || rc=$?
case $rc in
0) ;;
77) exit 77 ;;
*)
	fail "setup.sh exited with $rc"
	exit 1
	;;
esac
# shellcheck disable=SC1091
. "$D/env.sh"
cd "$W"

# --- (a) time stamps --------------------------------------------------------

printf 'signcore test data\n' >data.txt
check "ts -query" "$OPENSSL" ts -query -data data.txt -sha256 -cert -out q.tsq

http "$TSA_URL" -H 'Content-Type: application/timestamp-query' --data-binary @q.tsq
[ "$code $ctype" = "200 application/timestamp-reply" ] ||
	fail "TSA_URL answered $code $ctype"
cp body r.tsr
expect "TSA token verifies against the query" '^Verification: OK' \
	"$OPENSSL" ts -verify -queryfile q.tsq -in r.tsr -CAfile "$ROOT_PEM" -untrusted "$CHAIN_PEM"
expect "TSA token has the policy $TSA_POLICY" "^Policy OID: $TSA_POLICY\$" \
	"$OPENSSL" ts -reply -in r.tsr -text
# "openssl cms" reads the token, not the TimeStampResp around it.
check "ts -reply -token_out" "$OPENSSL" ts -reply -in r.tsr -token_out -out token.der
if [ -s token.der ]; then
	expect "TSA token has an ESS signing-certificate-v2" 'signingCertificateV2' \
		"$OPENSSL" cms -cmsout -print -noout -inform DER -in token.der
	expect "TSA token includes TSA, issuing and root CA certificates" \
		'CN ?= ?signcore Test Root CA' \
		"$OPENSSL" pkcs7 -inform DER -in token.der -print_certs -noout
fi

# Concurrent requests: every one answered, distinct serial numbers.
i=0
while [ "$i" -lt 8 ]; do
	"$CURL" -sS --max-time 20 -o "par$i.tsr" -H 'Content-Type: application/timestamp-query' \
		--data-binary @q.tsq "$TSA_URL" 2>/dev/null &
	i=$((i + 1))
done
wait
i=0
: >serials
while [ "$i" -lt 8 ]; do
	"$OPENSSL" ts -reply -in "par$i.tsr" -text 2>/dev/null | grep '^Serial number:' >>serials ||
		fail "concurrent TSA request $i got no token"
	i=$((i + 1))
done
[ "$(sort -u serials | wc -l)" -eq 8 ] || fail "concurrent TSA tokens do not have 8 distinct serials"

# --- (b) misbehaving time-stamp authorities ---------------------------------

http "$TSA_URL_500" -H 'Content-Type: application/timestamp-query' --data-binary @q.tsq
[ "$code" = 500 ] || fail "TSA_URL_500 answered $code"

http "$TSA_URL_GARBAGE" -H 'Content-Type: application/timestamp-query' --data-binary @q.tsq
[ "$code $ctype" = "200 application/timestamp-reply" ] ||
	fail "TSA_URL_GARBAGE answered $code $ctype"
[ -s body ] || fail "TSA_URL_GARBAGE answered nothing"
if "$OPENSSL" ts -reply -in body -text >/dev/null 2>&1; then
	fail "TSA_URL_GARBAGE answer parses as a TimeStampResp"
fi

http "$TSA_URL_WRONG" -H 'Content-Type: application/timestamp-query' --data-binary @q.tsq
[ "$code $ctype" = "200 application/timestamp-reply" ] ||
	fail "TSA_URL_WRONG answered $code $ctype"
cp body w.tsr
expect "TSA_URL_WRONG token fails on the imprint" 'message imprint mismatch' \
	"$OPENSSL" ts -verify -queryfile q.tsq -in w.tsr -CAfile "$ROOT_PEM" -untrusted "$CHAIN_PEM"
# ... yet it is properly signed over its own imprint, with our nonce.
"$OPENSSL" ts -reply -in w.tsr -text >w.txt 2>/dev/null || :
imprint=$(sed -n '/^Message data:/,/^Serial number:/p' w.txt |
	sed -n 's/^ *[0-9a-f][0-9a-f]* - \(.\{47\}\).*/\1/p' | tr -d ' \n-')
[ "${#imprint}" -eq 64 ] || fail "TSA_URL_WRONG token: no SHA-256 imprint found"
expect "TSA_URL_WRONG token verifies over its own imprint" '^Verification: OK' \
	"$OPENSSL" ts -verify -digest "$imprint" -in w.tsr -CAfile "$ROOT_PEM" -untrusted "$CHAIN_PEM"
qnonce=$("$OPENSSL" ts -query -in q.tsq -text 2>/dev/null | grep '^Nonce:') || :
[ -n "$qnonce" ] && grep -qx "$qnonce" w.txt || fail "TSA_URL_WRONG token does not carry the request's nonce"

rc=0
"$CURL" -sS --max-time 5 -o /dev/null --data-binary @q.tsq "$TSA_URL_DOWN" 2>/dev/null || rc=$?
[ "$rc" -eq 7 ] || fail "TSA_URL_DOWN: curl exited $rc, not 7 (connection refused)"

# --- (c) OCSP ---------------------------------------------------------------

# ocsp NAME STATUS
ocsp()
{
	expect "OCSP status of $1 is $2" "^$D/$1.crt: $2\$" \
		"$OPENSSL" ocsp -issuer "$INTER_PEM" -cert "$D/$1.crt" -url "$OCSP_URL" \
		-CAfile "$ROOT_PEM" -verify_other "$CHAIN_PEM"
	grep -q '^Response verify OK' out.log || fail "OCSP response about $1 does not verify"
}
ocsp signer-rsa good
ocsp signer-p256 good
ocsp signer-revoked revoked
expect "OCSP response includes the responder certificate" \
	'Subject: ?C ?= ?IN, O ?= ?signcore Test, CN ?= ?signcore Test OCSP Responder' \
	"$OPENSSL" ocsp -issuer "$INTER_PEM" -cert "$SIGNER_RSA_CRT" -url "$OCSP_URL" \
	-CAfile "$ROOT_PEM" -resp_text
grep -q 'OCSP No Check' out.log || fail "OCSP responder certificate has no id-pkix-ocsp-nocheck"

# GET /ocsp/<url-encoded base64>
check "ocsp -reqout" "$OPENSSL" ocsp -issuer "$INTER_PEM" -cert "$SIGNER_REVOKED_CRT" \
	-no_nonce -reqout get.req
b64=$("$OPENSSL" base64 -A -in get.req | sed 's/+/%2B/g; s|/|%2F|g; s/=/%3D/g')
http "$OCSP_URL/$b64"
[ "$code $ctype" = "200 application/ocsp-response" ] ||
	fail "OCSP GET answered $code $ctype"
expect "OCSP GET: signer-revoked is revoked" "^$D/signer-revoked.crt: revoked\$" \
	"$OPENSSL" ocsp -respin body -issuer "$INTER_PEM" -cert "$SIGNER_REVOKED_CRT" -CAfile "$ROOT_PEM"

http "$OCSP_URL" -H 'Content-Type: application/ocsp-request' --data-binary 'not a request'
expect "OCSP answers malformedRequest to garbage" 'malformedrequest' \
	"$OPENSSL" ocsp -respin body -resp_text -noverify

# --- (d) CRLs and CA certificates -------------------------------------------

# fetch URL CONTENT-TYPE FILE: the server has FILE.
fetch()
{
	http "$1"
	[ "$code $ctype" = "200 $2" ] || fail "$1 answered $code $ctype"
	cmp -s body "$3" || fail "$1 does not give $3"
}
fetch "$ROOT_CRL_URL" application/pkix-crl "$ROOT_CRL"
fetch "$INTER_CRL_URL" application/pkix-crl "$INTER_CRL"
fetch "$ROOT_CERT_URL" application/pkix-cert "$ROOT_DER"
fetch "$INTER_CERT_URL" application/pkix-cert "$INTER_DER"
http "$INTER_CRL_URL"
serial=$("$OPENSSL" x509 -in "$SIGNER_REVOKED_CRT" -noout -serial)
serial=${serial#serial=}
expect "inter.crl lists signer-revoked ($serial)" "Serial Number: $serial\$" \
	"$OPENSSL" crl -inform DER -in body -noout -text
expect "inter.crl is signed by the issuing CA" '^verify OK' \
	"$OPENSSL" crl -inform DER -in body -noout -CAfile "$CHAIN_PEM"
http "$ROOT_CRL_URL"
expect "root.crl is empty" 'No Revoked Certificates' \
	"$OPENSSL" crl -inform DER -in body -noout -text
for f in "$SIGNER_RSA_CRT" "$TSA_CRT" "$INTER_PEM"; do
	expect "$f has URLs with port $PKI_PORT" "URI:http://127.0.0.1:$PKI_PORT/c" \
		"$OPENSSL" x509 -in "$f" -noout -text
done
http "http://127.0.0.1:$PKI_PORT/../root.key" --path-as-is
[ "$code" != 200 ] || fail "the server gives away files outside its document root"

# --- (e) PKCS#12 --------------------------------------------------------------

for n in signer-rsa signer-rsa3072 signer-p256 signer-p384 signer-revoked \
	signer-expired signer-future signer-nokeyusage signer-crlonly; do
	p12=$D/$n.p12
	"$OPENSSL" pkcs12 -in "$p12" -passin "file:$P12_PASS_FILE" -nodes >p12.pem 2>p12.err ||
		fail "$p12 does not open with the password of $P12_PASS_FILE"
	[ "$(grep -c 'BEGIN CERTIFICATE' p12.pem)" -eq 3 ] && grep -q 'BEGIN PRIVATE KEY' p12.pem ||
		fail "$p12 does not hold a key and 3 certificates"
done
expect "PKCS#12 uses AES-256" 'PBES2, PBKDF2, AES-256-CBC' \
	"$OPENSSL" pkcs12 -in "$SIGNER_RSA_P12" -passin "file:$P12_PASS_FILE" -info -noout
[ "$(cat "$P12_PASS_FILE")" = test-pass ] || fail "p12-pass.txt does not hold test-pass"

# --- (f) certificate paths ----------------------------------------------------

# verify NAME REGEX
verify()
{
	expect "openssl verify $1" "$2" \
		"$OPENSSL" verify -CAfile "$ROOT_PEM" -untrusted "$INTER_PEM" "$D/$1.crt"
}
for n in signer-rsa signer-rsa3072 signer-p256 signer-p384 signer-crlonly signer-nokeyusage tsa ocsp; do
	verify "$n" ": OK\$"
done
verify signer-expired 'certificate has expired'
verify signer-future 'certificate is not yet valid'
expect "openssl verify -crl_check signer-revoked" 'certificate revoked' \
	"$OPENSSL" verify -CAfile "$ROOT_PEM" -untrusted "$INTER_PEM" -crl_check_all \
	-CRLfile "$D/root.crl.pem" -CRLfile "$D/inter.crl.pem" "$SIGNER_REVOKED_CRT"
expect "openssl verify -purpose timestampsign tsa" ": OK\$" \
	"$OPENSSL" verify -CAfile "$ROOT_PEM" -untrusted "$INTER_PEM" -purpose timestampsign "$TSA_CRT"

# --- (g) NSS database -----------------------------------------------------------

expect "NSS database trusts the root" '^signcore Test Root CA +CT,C,C' \
	"$CERTUTIL" -L -d "$NSSDB"

# With pdfsig and pk12util: sign a PDF with NSS, verify it against NSSDB.
if command -v pdfsig >/dev/null 2>&1 && command -v pk12util >/dev/null 2>&1; then
	mkdir signdb
	check "certutil -N" "$CERTUTIL" -N -d "sql:$W/signdb" --empty-password
	printf '%%PDF-1.7\n' >min.pdf
	o1=$(wc -c <min.pdf)
	printf '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n' >>min.pdf
	o2=$(wc -c <min.pdf)
	printf '2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n' >>min.pdf
	o3=$(wc -c <min.pdf)
	printf '3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>\nendobj\n' >>min.pdf
	x=$(wc -c <min.pdf)
	printf 'xref\n0 4\n0000000000 65535 f \n%010d 00000 n \n%010d 00000 n \n%010d 00000 n \ntrailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' \
		"$o1" "$o2" "$o3" "$x" >>min.pdf
	for n in signer-rsa signer-revoked; do
		check "pk12util -i $n.p12" pk12util -i "$D/$n.p12" -d "sql:$W/signdb" -w "$P12_PASS_FILE"
		check "pdfsig -add-signature -nick $n" \
			pdfsig -nssdir "sql:$W/signdb" -add-signature -nick "$n" min.pdf "$n.pdf"
	done
	expect "pdfsig -nssdir \$NSSDB: signer-rsa trusted" 'Certificate is Trusted' \
		pdfsig -nssdir "$NSSDB" signer-rsa.pdf
	expect "pdfsig -nssdir PKI_DIR/nssdb: signer-rsa trusted" 'Certificate is Trusted' \
		pdfsig -nssdir "$PKI_DIR/nssdb" signer-rsa.pdf
	expect "pdfsig -nssdir \$NSSDB: signer-revoked revoked (OCSP)" 'Certificate has been Revoked' \
		pdfsig -nssdir "$NSSDB" signer-revoked.pdf
else
	printf '%s: pdfsig or pk12util missing, NSS signature check skipped\n' "$me" >&2
fi

# --- teardown -------------------------------------------------------------------

left=
for f in "$D"/tmp/*; do
	case $f in "$D/tmp/*" | */tsa.lock) ;; *) left="$left ${f##*/}" ;; esac
done
[ -z "$left" ] || fail "the CGIs left temporary files: $left"
wpid=$(cat "$D/watchdog.pid")
check "teardown.sh" sh "$HERE/teardown.sh" "$D"
if kill -0 "$wpid" 2>/dev/null && [ -r "/proc/$wpid/cmdline" ] &&
	tr '\000' ' ' <"/proc/$wpid/cmdline" | grep -q -- '--watch'; then
	fail "teardown.sh left the watchdog running"
fi
check "teardown.sh, second call" sh "$HERE/teardown.sh" "$D"
[ ! -e "$D/lighttpd.pid" ] && [ ! -e "$D/watchdog.pid" ] || fail "teardown.sh left pid files"
rc=0
"$CURL" -sS --max-time 5 -o /dev/null "$ROOT_CERT_URL" 2>/dev/null || rc=$?
[ "$rc" -eq 7 ] || fail "the server still answers after teardown.sh"

[ "$fails" -eq 0 ] || exit 1
echo "selftest: OK"
