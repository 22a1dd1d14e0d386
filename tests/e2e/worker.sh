#!/bin/sh
# Webhooks, signcore-worker, the e-mail outbox, signer OTP, reminders and
# expiry end to end: signcore.cgi under lighttpd on 127.0.0.1 with the
# development seal, the worker run as a program with a test clock
# (--now), and a webhook receiver and an SMTP sink of the test's own
# (worker_flow.py). Run one group with `worker.sh GROUP...`.
# SPDX-License-Identifier: AGPL-3.0-or-later
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

need_cmd lighttpd curl
BUILDDIR=${BUILDDIR:-$PWD}
ADMIN=$BUILDDIR/api/signcore-admin
CGI=$BUILDDIR/api/signcore.cgi
WORKER=$BUILDDIR/api/signcore-worker
[ -x "$ADMIN" ] && [ -x "$CGI" ] && [ -x "$WORKER" ] ||
	{ fail "build api/signcore-admin, api/signcore.cgi and api/signcore-worker first"; finish; }
SIGNCORE_LIBRARY=${SIGNCORE_LIBRARY:-$BUILDDIR/libsigncore/.libs/libsigncore.so.0}
export SIGNCORE_LIBRARY

DATA=$WORK/data
ok "$ADMIN" --data-dir "$DATA" init
[ -f "$DATA/seal/dev-seal.p12" ] && pass || fail "init made the development seal"
# short test settings; worker_flow.py rewrites the file with the ports of
# its receiver and SMTP sink (the API reads it on every request)
cat >"$DATA/signcore.conf" <<CONF
[server]
product_name = Acme eSign

[webhooks]
retry_base = 1
retry_cap = 2
jitter = 0

[smtp]
url = smtp://127.0.0.1:9
from = Acme eSign <no-reply@acme-esign.test>
CONF

admin() { "$ADMIN" --data-dir "$DATA" "$@" 2>>"$WORK/admin.err"; }
ACC_EMAIL=ops@acme-hooks.example
ACC=$(admin account create "Acme Hooks Pvt Ltd" --plan enterprise --email "$ACC_EMAIL") || fail "account create --email"
case $ACC in acc_????????????????????) pass ;; *) fail "account id: $ACC" ;; esac
KEY_LIVE=$(admin key create --account "$ACC")
KEY_TEST=$(admin key create --account "$ACC" --test)
case $KEY_LIVE in sc_live_*) pass ;; *) fail "live key prefix: $KEY_LIVE" ;; esac
case $KEY_TEST in sc_test_*) pass ;; *) fail "test key prefix: $KEY_TEST" ;; esac
OTHER=$(admin account create "Other Hooks Co" --plan enterprise)
ok "$ADMIN" --data-dir "$DATA" account email "$OTHER" billing@other-hooks.example
KEY_OTHER=$(admin key create --account "$OTHER" --test)
case $KEY_OTHER in sc_test_*) pass ;; *) fail "other account's test key: $KEY_OTHER" ;; esac

# the worker's own errors before anything runs: one line naming the problem
run "$WORKER" --data-dir "$WORK/none" --once
[ "$RC" != 0 ] && grep -q '^signcore-worker: ' "$RUN_ERR" && pass ||
	fail "worker with no data dir: exit $RC: $(cat "$RUN_ERR")"
run "$WORKER" --data-dir "$DATA" --once
[ "$RC" = 0 ] && pass || fail "worker on a fresh data dir: exit $RC: $(cat "$RUN_ERR")"

API_BASE=$(SIGNCORE_CGI=$CGI sh "$SRCDIR/api/deploy/serve-local.sh" "$DATA") ||
	{ fail "the API server did not start"; finish; }
trap 'sh "$SRCDIR/api/deploy/serve-local.sh" "$DATA" --stop; chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT

export API_BASE WORK DATA WORKER KEY_LIVE KEY_TEST KEY_OTHER ACC_EMAIL
if python3 "$SRCDIR/tests/e2e/worker_flow.py" "$@"; then pass; else fail "worker flows (see above)"; fi

# neither the CGI nor the worker crashed or reported sanitizer findings
PAT='AddressSanitizer|LeakSanitizer|runtime error|Segmentation|died with signal'
LOGS="$DATA/www/cgi-error.log $DATA/www/lighttpd-error.log $WORK/worker.log"
# shellcheck disable=SC2086
if grep -qE "$PAT" $LOGS 2>/dev/null; then
	grep -hE "$PAT" $LOGS 2>/dev/null | head -20 >&2
	fail "signcore.cgi or signcore-worker reported errors (above)"
else
	pass
fi
finish
