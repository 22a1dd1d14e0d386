#!/bin/sh
# The REST API end to end: signcore.cgi under lighttpd on 127.0.0.1, state
# in SQLite, documents sealed with the test PKI's certificate and
# time-stamped by its TSA; the flows are driven with curl (api_flow.py).
# SPDX-License-Identifier: AGPL-3.0-or-later
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

need_cmd lighttpd curl pdfsig pdftotext openssl
BUILDDIR=${BUILDDIR:-$PWD}
ADMIN=$BUILDDIR/api/signcore-admin
WORKER=$BUILDDIR/api/signcore-worker
CGI=$BUILDDIR/api/signcore.cgi
[ -x "$ADMIN" ] && [ -x "$CGI" ] || { fail "build api/signcore-admin and api/signcore.cgi first"; finish; }
start_pki

DATA=$WORK/data
ok "$ADMIN" --data-dir "$DATA" init
grep -q 'DEVELOPMENT seal' "$RUN_OUT" && pass || fail "init says it made a development seal"
[ -f "$DATA/seal/dev-seal.p12" ] && [ "$(stat -c %a "$DATA/secret")" = 600 ] && pass ||
	fail "init made the development seal and a private secret"
ok "$ADMIN" --data-dir "$DATA" init # twice is harmless
cat >"$DATA/signcore.conf" <<CONF
[seal]
p12 = $SIGNER_RSA_P12
password_file = $P12_PASS_FILE
level = B-T
tsa = $TSA_URL
trust = $ROOT_PEM

[limits]
max_upload_bytes = 5242880
CONF

admin() { "$ADMIN" --data-dir "$DATA" "$@" 2>>"$WORK/admin.err"; }
ACC=$(admin account create "Acme Signing Pvt Ltd" --plan enterprise) || fail "account create"
case $ACC in acc_????????????????????) pass ;; *) fail "account id: $ACC" ;; esac
KEY_MAIN=$(admin key create --account "$ACC")
KEY_TEST=$(admin key create --account "$ACC" --test)
case $KEY_MAIN in sc_live_*) pass ;; *) fail "live key prefix: $KEY_MAIN" ;; esac
case $KEY_TEST in sc_test_*) pass ;; *) fail "test key prefix: $KEY_TEST" ;; esac
OTHER=$(admin account create "Other Co")
KEY_OTHER=$(admin key create --account "$OTHER")
KEY_RATE=$(admin key create --account "$OTHER")
FREE=$(admin account create "Free Co" --plan free)
KEY_FREE=$(admin key create --account "$FREE")
KEY_REVOKED=$(admin key create --account "$OTHER")
RID=$(admin key list --account "$OTHER" | tail -n1 | cut -f1)
ok "$ADMIN" --data-dir "$DATA" key revoke "$RID"
admin key list | grep -q "$KEY_MAIN" && fail "key list shows a whole key" || pass
# admin errors: exit 1 and one line naming the problem
run "$ADMIN" --data-dir "$DATA" account create X --plan platinum
[ "$RC" = 1 ] && grep -q '^signcore-admin: unknown plan "platinum"' "$RUN_ERR" && pass || fail "unknown plan: $RC $(cat "$RUN_ERR")"
run "$ADMIN" --data-dir "$DATA" key create --account acc_nobody
[ "$RC" = 1 ] && grep -q '^signcore-admin: no account acc_nobody' "$RUN_ERR" && pass || fail "unknown account: $RC $(cat "$RUN_ERR")"
run "$ADMIN" --data-dir "$WORK/none" key list
[ "$RC" = 1 ] && grep -q 'signcore-admin init' "$RUN_ERR" && pass || fail "uninitialised data dir: $RC $(cat "$RUN_ERR")"

API_BASE=$(SIGNCORE_CGI=$CGI SIGNCORE_LIBRARY=$BUILDDIR/libsigncore/.libs/libsigncore.so.0 \
	sh "$SRCDIR/api/deploy/serve-local.sh" "$DATA") || { fail "the API server did not start"; finish; }
trap 'sh "$SRCDIR/api/deploy/serve-local.sh" "$DATA" --stop; sh "$SRCDIR/tests/pki/teardown.sh" "$PKI" 2>/dev/null; chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT

export API_BASE WORK DATA ADMIN WORKER KEY_MAIN KEY_TEST KEY_OTHER KEY_FREE KEY_REVOKED KEY_RATE
if python3 "$SRCDIR/tests/e2e/api_flow.py" "$@"; then pass; else fail "API flows (see above)"; fi

# the CGI must not have crashed or reported sanitizer findings
PAT='AddressSanitizer|LeakSanitizer|runtime error|Segmentation|died with signal'
if grep -qE "$PAT" "$DATA/www/cgi-error.log" "$DATA/www/lighttpd-error.log" 2>/dev/null; then
	grep -hE "$PAT" "$DATA/www/cgi-error.log" "$DATA/www/lighttpd-error.log" | head -20 >&2
	fail "signcore.cgi reported errors (above)"
else
	pass
fi
finish
