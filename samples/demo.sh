#!/bin/sh
# The end-to-end demo: build signcore if needed, then take a contract through
# place -> fill -> flatten (and a one-step stamp), append the audit trail
# from samples/audit-events.json (hash chain checked), then sign it with PAdES
# B-LTA against a local test PKI (a real TSA, OCSP responder and CRL server
# on 127.0.0.1), checking each result with tools nobody here wrote (qpdf,
# pdftotext, pdfsig, openssl); then the same through the REST API
# (samples/api-demo.sh: signcore.cgi under lighttpd on 127.0.0.1).
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
step "audit trail: check the event log's hash chain, append the certificate of completion"
"$SIGNCORE" audit --check "$here/audit-events.json"
"$SIGNCORE" audit "$out/final.pdf" "$here/audit-events.json" -o "$out/completed.pdf" --time-zone Asia/Kolkata
chain=$("$SIGNCORE" audit --check "$here/audit-events.json" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["chain_sha256"])')
text=$(pdftotext -enc UTF-8 -f 4 "$out/completed.pdf" -)
for want in "doc_7Q2ZK9" "$chain" "प्रिया शर्मा" "அருண் குமார்" "فاطمة الزهراء" "Audit trail · page 1 of"; do
	case "$text" in
	*"$want"*) echo "pdftotext of the audit trail shows: $want" ;;
	*) echo "demo: '$want' missing from the audit trail" >&2; exit 1 ;;
	esac
done
pdffonts "$out/completed.pdf" | awk 'NR > 2 && $1 != "Helvetica" {print "font: " $1 " (embedded " $(NF-4) ", subset " $(NF-3) ")"}'

step "sign completed.pdf: PAdES B-LTA with a visible signature (test PKI on 127.0.0.1)"
sh "$top/tests/pki/setup.sh" "$out/pki" >/dev/null
trap 'sh "$top/tests/pki/teardown.sh" "$out/pki" 2>/dev/null' EXIT
. "$out/pki/env.sh"
"$SIGNCORE" sign "$out/completed.pdf" -o "$out/signed.pdf" --p12 "$SIGNER_P256_P12" --password-file "$P12_PASS_FILE" \
	--page 1 --rect 330,720,230,70 --reason "Agreed to the terms" --location "Pune" \
	--level B-LTA --tsa "$TSA_URL" --trust "$ROOT_PEM"
"$SIGNCORE" info "$out/signed.pdf" | sed -n '/^Fields/,$p'
pdfsig -nssdir "$NSSDB" "$out/signed.pdf" 2>/dev/null | grep -E 'Signature #|Common Name|Type|Validation'
pdfsig -nssdir "$NSSDB" "$out/signed.pdf" 2>/dev/null | grep -q 'Certificate is Trusted' ||
	{ echo "demo: pdfsig does not accept the signature" >&2; exit 1; }
# pdfsig cannot check document time-stamps: openssl can.
python3 "$top/tests/e2e/sigtool.py" extract "$out/signed.pdf" 1 "$out/doc-timestamp"
openssl ts -verify -data "$out/doc-timestamp/data.bin" -in "$out/doc-timestamp/sig.der" -token_in \
	-CAfile "$ROOT_PEM" -untrusted "$CHAIN_PEM" 2>/dev/null | sed 's/^/openssl ts -verify of the document time-stamp: /'
qpdf --check "$out/signed.pdf" >/dev/null && echo "qpdf --check signed.pdf: ok"

step "verify signed.pdf with signcore verify (offline, embedded revocation data)"
"$SIGNCORE" verify "$out/signed.pdf" --trust "$ROOT_PEM" | grep -E '^(approval|certification|document)|PAdES level|result|^VALID|^INVALID'
"$SIGNCORE" verify "$out/signed.pdf" --trust "$ROOT_PEM" -q >/dev/null ||
	{ echo "demo: signcore verify does not accept the signature" >&2; exit 1; }

step "the REST API: upload, two signers in order, completion sealed B-T (signcore.cgi under lighttpd)"
sh "$here/api-demo.sh" "$out/contract.pdf" "$out" "$SIGNER_RSA_P12" "$P12_PASS_FILE" "$TSA_URL" "$ROOT_PEM" "$NSSDB"

printf '\nDemo complete: %s (filled and flattened), %s (audit trail), %s (signed, B-LTA), %s (through the API)\n' \
	"$out/final.pdf" "$out/completed.pdf" "$out/signed.pdf" "$out/api-signed.pdf"
