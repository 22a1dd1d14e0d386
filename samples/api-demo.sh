#!/bin/sh
# The REST API in one flow, against signcore.cgi under lighttpd on
# 127.0.0.1: set up a data directory, make an account and an API key,
# upload a PDF, create a document for two signers in order, let each open
# their signing link and sign (a drawn and a typed signature), then
# download the sealed PDF and check it with pdfsig.
#
#   sh samples/api-demo.sh PDF OUTDIR [P12 PASSWORD_FILE TSA_URL TRUST_PEM NSSDB]
#
# With the optional arguments (samples/demo.sh passes its test PKI) the
# seal is that certificate, time-stamped (PAdES B-T); without them, the
# development seal `signcore-admin init` makes. Needs a built tree.
# SPDX-License-Identifier: AGPL-3.0-or-later
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
pdf=$1 out=$2
data=$out/api-data
admin() { "$top/api/signcore-admin" --data-dir "$data" "$@"; }
j() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
say() { printf '%s\n' "$*"; }

rm -rf "$data"
admin init | sed 's/^/signcore-admin: /'
if [ $# -ge 7 ]; then
	printf '[seal]\np12 = %s\npassword_file = %s\nlevel = B-T\ntsa = %s\ntrust = %s\n' "$3" "$4" "$5" "$6" \
		>"$data/signcore.conf"
fi
acc=$(admin account create "Demo Pvt Ltd" --plan growth)
key=$(admin key create --account "$acc" 2>/dev/null)
say "account $acc, API key ${key%"${key#????????????}"}… (shown once, stored hashed)"
export SIGNCORE_FONT_DIR="$top/fonts"
base=$(SIGNCORE_LIBRARY="$top/libsigncore/.libs/libsigncore.so.0" sh "$top/api/deploy/serve-local.sh" "$data")
trap 'sh "$top/api/deploy/serve-local.sh" "$data" --stop' EXIT
say "API at $base (lighttpd, signcore.cgi as a CGI)"
auth="Authorization: Bearer $key"

sk=$(curl -sS -H "$auth" -H 'Content-Type: application/pdf' --data-binary @"$pdf" "$base/v1/uploads" |
	j 'd["data"]["storageKey"] + " " + str(d["data"]["pages"])')
say "POST /v1/uploads -> storageKey ${sk% *} (${sk#* } pages)"
doc=$(curl -sS -H "$auth" -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' --data-binary @- \
	"$base/v1/documents" <<JSON
{"title": "Service Agreement — सेवा अनुबंध", "storageKey": "${sk% *}", "signingOrder": "sequential",
 "recipients": [{"email": "priya@example.in", "name": "प्रिया शर्मा", "role": "signer", "order": 1},
                {"email": "arun@example.in", "name": "அருண் குமார்", "role": "signer", "order": 2}],
 "fields": [{"type": "signature", "page": 1, "rect": [72, 640, 200, 50], "recipient": "priya@example.in"},
            {"type": "text", "page": 1, "rect": [72, 600, 250, 20], "recipient": 0, "label": "Company"},
            {"type": "date", "page": 1, "rect": [330, 600, 150, 20], "recipient": 0, "date_format": "%d %b %Y"},
            {"type": "signature", "page": 1, "rect": [330, 640, 200, 50], "recipient": "arun@example.in"}]}
JSON
)
id=$(printf '%s' "$doc" | j 'd["data"]["id"]')
say "POST /v1/documents -> $id, $(printf '%s' "$doc" | j 'd["data"]["status"]')"
for n in 0 1; do
	url=$(printf '%s' "$doc" | j "d['data']['recipients'][$n]['signingUrl']")
	s=$(curl -sS "$url")
	say "GET  signing link of $(printf '%s' "$s" | j 'd["data"]["recipient"]["name"]'): $(printf '%s' "$s" | j 'len(d["data"]["fields"])') fields"
	curl -sS -o "$out/page1.png" "$url/pages/1.png?dpi=50"
	if [ $n = 0 ]; then
		body=$(printf '%s' "$s" | python3 -c '
import base64, json, sys
s = json.load(sys.stdin)["data"]
v = {f["id"]: ("Acme Pvt Ltd" if f["type"] == "text" else "today") for f in s["fields"] if f["type"] in ("text", "date")}
png = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
print(json.dumps({"fields": v, "signature": {"image": "data:image/png;base64," + png}}))' "$top/samples/sig.png")
	else
		body='{"signature": {"text": "அருண் குமார்"}}'
	fi
	r=$(printf '%s' "$body" | curl -sS -H 'Content-Type: application/json' -A 'signcore-demo/1.0' --data-binary @- "$url/submit")
	say "POST submit -> document $(printf '%s' "$r" | j 'd["data"]["document"]["status"]')"
done
curl -sS -H "$auth" -o "$out/api-signed.pdf" "$base/v1/documents/$id/download?variant=signed"
curl -sS -H "$auth" "$base/v1/documents/$id/events" | j '"events: " + ", ".join(e["type"] for e in d["data"])'
say "GET  /v1/documents/$id/download -> $out/api-signed.pdf ($(qpdf --show-npages "$out/api-signed.pdf") pages with the audit trail)"
qpdf --check "$out/api-signed.pdf" >/dev/null && say "qpdf --check api-signed.pdf: ok"
if [ $# -ge 7 ]; then
	pdfsig -nssdir "$7" "$out/api-signed.pdf" 2>/dev/null | grep -E 'Signer Certificate Common Name|Signature Validation|Certificate Validation'
	pdfsig -nssdir "$7" "$out/api-signed.pdf" 2>/dev/null | grep -q 'Certificate is Trusted' ||
		{ echo "api-demo: pdfsig does not accept the seal" >&2; exit 1; }
fi
