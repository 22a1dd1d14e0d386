#!/bin/sh
# The library example in README.md compiles against the built library, runs,
# and produces what it claims: a filled field whose text pdftotext reads back.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
. "$SRCDIR/tests/e2e/lib.sh"
CC=${TEST_CC:-cc}
need_cmd "${CC%% *}"
need_cmd pdftotext

python3 - "$SRCDIR/README.md" "$WORK/example.c" <<'PY'
import sys
s = open(sys.argv[1], encoding="utf-8").read()
i = s.index("```c\n") + 5
open(sys.argv[2], "w", encoding="utf-8").write(s[i:s.index("```", i)])
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
finish
