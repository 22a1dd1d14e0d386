#!/bin/sh
# Run the whole test suite: unit tests (Check) and end-to-end tests against
# qpdf, poppler and HarfBuzz's own tools. With --sanitize, build a second copy
# under AddressSanitizer + UBSan in build-asan/ and run the suite there too.
# SPDX-License-Identifier: AGPL-3.0-or-later
set -eu
cd "$(dirname "$0")/.."
sh tests/bootstrap.sh

make -j"$(nproc)" check || { cat tests/unit/*.log tests/e2e/*.log 2>/dev/null | grep -E '(:F:|:E:|^FAIL|not ok|fail)' | head -50; exit 1; }

if [ "${1:-}" = "--sanitize" ]; then
	# A configured source tree cannot also host a VPATH build, so the
	# sanitizer build runs in a copy made by "make distdir".
	rm -rf build-asan
	mkdir -p build-asan
	make distdir distdir=build-asan/src >/dev/null
	cd build-asan/src
	./configure --enable-werror \
		CFLAGS="-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" >/dev/null
	make -j"$(nproc)" >/dev/null
	# MuPDF's static archives are not instrumented; leaks inside them at exit
	# are reported by LeakSanitizer only when they are ours.
	ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" UBSAN_OPTIONS="print_stacktrace=1" \
		make -j"$(nproc)" check || { cat tests/unit/*.log tests/e2e/*.log 2>/dev/null | grep -E '(ERROR|runtime error|:F:|:E:|^FAIL)' | head -50; exit 1; }
fi
