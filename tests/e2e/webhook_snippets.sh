#!/bin/sh
# The README's webhook signature checks (C with OpenSSL, Node, Python),
# extracted from README.md and run against deliveries signed here with
# `openssl dgst -hmac`, independently of signcore's own code: a good one is
# accepted; a tampered body, a wrong secret and a stale time are refused; of
# two v1 values, the second may be the one that matches (a rotation).
# SPDX-License-Identifier: AGPL-3.0-or-later
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

need_cmd openssl cc
README=$SRCDIR/README.md

# extract NAME — the fenced code block after the line <!-- webhook-verify:NAME -->
extract()
{
	awk -v mark="<!-- webhook-verify:$1 -->" '
		$0 == mark { state = 1; next }
		state == 1 && /^```/ { state = 2; next }
		state == 2 && /^```/ { exit }
		state == 2 { print }' "$README"
}

# sign SECRET T FILE — hex HMAC-SHA256(SECRET, "T." + the bytes of FILE)
sign()
{
	{ printf '%s.' "$2"; cat "$3"; } | openssl dgst -sha256 -hmac "$1" | awk '{ print $NF }'
}

# The programs: the snippet and a main that exits 0 when it accepts
# (arguments: secret, header, body file).
extract c >"$WORK/verify.c"
cat >>"$WORK/verify.c" <<'EOF'

int main(int argc, char **argv)
{
	static char body[1 << 16];
	size_t n;
	FILE *f;

	if (argc != 4 || !(f = fopen(argv[3], "rb")))
		return 2;
	n = fread(body, 1, sizeof body, f);
	fclose(f);
	return signcore_webhook_verify(argv[1], argv[2], body, n) ? 0 : 1;
}
EOF
extract node >"$WORK/verify.js"
cat >>"$WORK/verify.js" <<'EOF'

const [secret, header, file] = process.argv.slice(2);
process.exit(verifySigncoreWebhook(secret, header, require("fs").readFileSync(file)) ? 0 : 1);
EOF
extract python >"$WORK/verify.py"
cat >>"$WORK/verify.py" <<'EOF'


if __name__ == "__main__":
    import sys
    with open(sys.argv[3], "rb") as f:
        sys.exit(0 if verify_signcore_webhook(sys.argv[1], sys.argv[2], f.read()) else 1)
EOF
for f in verify.c verify.js verify.py; do
	# a snippet is there and is not just the driver
	if [ "$(wc -l <"$WORK/$f")" -gt 15 ]; then pass; else fail "README.md: no webhook-verify snippet for $f"; fi
done

VERIFIERS="c python"
if cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -o "$WORK/verify" "$WORK/verify.c" -lcrypto \
	2>"$WORK/cc.err"; then
	pass
else
	fail "the C snippet does not compile"
	sed 's/^/    | /' "$WORK/cc.err" >&2
	VERIFIERS="python"
fi
if command -v node >/dev/null 2>&1; then
	VERIFIERS="$VERIFIERS node"
else
	note "node is not installed: the Node snippet is not run"
fi

verify()
{
	case $1 in
	c) "$WORK/verify" "$2" "$3" "$4" ;;
	node) node "$WORK/verify.js" "$2" "$3" "$4" ;;
	python) python3 "$WORK/verify.py" "$2" "$3" "$4" ;;
	esac
}

# check LANG WANT(0 accepted, 1 refused) WHAT SECRET HEADER BODYFILE
check()
{
	local got
	verify "$1" "$4" "$5" "$6" 2>"$WORK/verify.err"
	got=$?
	if [ "$got" = "$2" ]; then
		pass
	else
		fail "$1 snippet: $3: exit $got, expected $2 ($([ "$2" = 0 ] && echo accepted || echo refused))"
		sed 's/^/    | /' "$WORK/verify.err" >&2
	fi
}

SECRET=whsec_Jq3vX0mB9kz1YtR8cW2nP5sLh7dG4fA6eU0iO1yT3qE
OTHER=whsec_0Pq8W3nR5tY7uI9oA1sD3fG5hJ7kL9zX1cV3bN5mQ0w
BODY=$WORK/body.json
TAMPERED=$WORK/tampered.json
printf '%s' '{"id":"evt_q0c7d2k9v3n5tab4m8x1","type":"signer.signed","createdAt":"2026-11-21T10:00:00Z","data":{"document":{"id":"doc_x1q0c7d2k9v3n5tab4m8","title":"सेवा अनुबंध"},"recipient":{"id":"rcp_7d2k9v3n5tab4m8x1q0c","name":"प्रिया शर्मा","status":"signed"}}}' >"$BODY"
sed 's/"signed"}}}$/"declined"}}}/' "$BODY" >"$TAMPERED"
cmp -s "$BODY" "$TAMPERED" && fail "the tampered body is the same as the original"

NOW=$(date +%s)
OLD=$((NOW - 600))
GOOD=$(sign "$SECRET" "$NOW" "$BODY")
WRONG=$(sign "$OTHER" "$NOW" "$BODY")
STALE=$(sign "$SECRET" "$OLD" "$BODY")
[ ${#GOOD} = 64 ] && pass || fail "openssl dgst -hmac gave no signature: $GOOD"

for lang in $VERIFIERS; do
	check "$lang" 0 "a correctly signed body" "$SECRET" "t=$NOW,v1=$GOOD" "$BODY"
	check "$lang" 1 "a tampered body" "$SECRET" "t=$NOW,v1=$GOOD" "$TAMPERED"
	check "$lang" 1 "a signature by another secret" "$SECRET" "t=$NOW,v1=$WRONG" "$BODY"
	check "$lang" 1 "a time 10 minutes old" "$SECRET" "t=$OLD,v1=$STALE" "$BODY"
	check "$lang" 0 "two v1 values, the second matching" "$SECRET" "t=$NOW,v1=$WRONG,v1=$GOOD" "$BODY"
	check "$lang" 1 "a header without v1" "$SECRET" "t=$NOW" "$BODY"
	check "$lang" 1 "a header without t" "$SECRET" "v1=$GOOD" "$BODY"
done

finish
