#!/bin/sh
# The library example in README.md compiles against the built library, runs,
# and produces what it claims: a filled field whose text pdftotext reads back.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$SRCDIR/tests/e2e/lib.sh"
CC=${TEST_CC:-cc}
need_cmd "${CC%% *}"
need_cmd pdftotext

python3 - "$SRCDIR/README.md" "$WORK/example.c" "$WORK/sign.c" <<'PY'
import sys
s = open(sys.argv[1], encoding="utf-8").read()
at = 0
for out in sys.argv[2:]:
    i = s.index("```c\n", at) + 5
    at = s.index("```", i)
    open(out, "w", encoding="utf-8").write(s[i:at])
PY
# Built the way the library was (a sanitizer build needs the same flags).
# shellcheck disable=SC2086
$CC -std=c11 -Wall -Wextra -Werror ${TEST_CFLAGS:-} -I"$SRCDIR/libsigncore" "$WORK/example.c" \
	${TEST_LDFLAGS:-} -L"$BUILDDIR/libsigncore/.libs" -lsigncore -o "$WORK/example" ||
	fail "README example does not compile"
cp "$FIXTURES/plain.pdf" "$WORK/contract.pdf"
(cd "$WORK" && LD_LIBRARY_PATH="$BUILDDIR/libsigncore/.libs" ./example) || fail "README example failed"
text_has "$WORK/contract-filled.pdf" "प्रिया शर्मा"
starts_with "$WORK/contract-filled.pdf" "$WORK/contract.pdf" && pass || fail "the save was not incremental"

# The signing example, with a throw-away signer.
need_cmd openssl pdfsig
$CC -std=c11 -Wall -Wextra -Werror ${TEST_CFLAGS:-} -I"$SRCDIR/libsigncore" "$WORK/sign.c" \
	${TEST_LDFLAGS:-} -L"$BUILDDIR/libsigncore/.libs" -lsigncore -o "$WORK/sign" ||
	fail "README signing example does not compile"
(
	cd "$WORK" &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 30 -subj "/CN=Readme Signer" \
		-addext "keyUsage=critical,digitalSignature,nonRepudiation" 2>/dev/null &&
	openssl pkcs12 -export -inkey k.pem -in c.pem -out signer.p12 -passout pass:secret &&
	LD_LIBRARY_PATH="$BUILDDIR/libsigncore/.libs" ./sign
) || fail "README signing example failed"
pdfsig "$WORK/contract-signed.pdf" 2>&1 | grep -q 'Signature is Valid' && pass || fail "the README example's signature is not valid"
finish
