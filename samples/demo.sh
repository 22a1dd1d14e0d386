#!/bin/sh
# The end-to-end demo: build signcore if needed, then take a contract through
# place -> fill -> flatten (and a one-step stamp), checking each result with
# tools nobody here wrote (qpdf, pdftotext).
# SPDX-License-Identifier: AGPL-3.0-or-later
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
sh "$top/tests/bootstrap.sh"

SIGNCORE="$top/tools/signcore"
export SIGNCORE_FONT_DIR="$top/fonts"
out="$here/out"
rm -rf "$out"
mkdir -p "$out"
python3 "$top/tests/fixtures/mkfixtures.py" "$out/fixtures" >/dev/null
cp "$out/fixtures/plain.pdf" "$out/contract.pdf"

step() { printf '\n== %s\n' "$*"; }

step "signcore info contract.pdf"
"$SIGNCORE" info "$out/contract.pdf"

step "place the fields of samples/fields.json"
"$SIGNCORE" place "$out/contract.pdf" "$here/fields.json" -o "$out/placed.pdf"
"$SIGNCORE" info "$out/placed.pdf" | sed -n '/^Fields/,$p'

step "fill them from samples/values.json"
"$SIGNCORE" fill "$out/placed.pdf" "$here/values.json" -o "$out/filled.pdf"
"$SIGNCORE" info "$out/filled.pdf" | sed -n '/^Fields/,$p'

step "flatten: burn the fields into the pages"
"$SIGNCORE" flatten "$out/filled.pdf" -o "$out/final.pdf"
"$SIGNCORE" info "$out/final.pdf" | grep '^Fields'

step "one-step stamp of the same spec"
"$SIGNCORE" stamp "$out/contract.pdf" "$here/fields.json" -o "$out/stamped.pdf"

step "independent checks"
for f in placed filled final stamped; do
	qpdf --check "$out/$f.pdf" >/dev/null && echo "qpdf --check $f.pdf: ok"
done
text=$(pdftotext -enc UTF-8 "$out/final.pdf" -)
for want in "प्रिया शर्मा (Priya Sharma)" "Acme Pvt Ltd" "PS" "Payment within 30 days"; do
	case "$text" in
	*"$want"*) echo "pdftotext final.pdf shows: $want" ;;
	*) echo "demo: '$want' missing from final.pdf" >&2; exit 1 ;;
	esac
done
printf '\nDemo complete: %s\n' "$out/final.pdf"
