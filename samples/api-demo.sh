#!/bin/sh
# The REST API in one flow, against signcore.cgi under lighttpd on
# 127.0.0.1: set up a data directory, make an account and an API key,
# upload a PDF, create a document for two signers in order, let each open
# their signing link and sign (a drawn and a typed signature), then
# download the sealed PDF and check it with pdfsig.
#
#   sh samples/api-demo.sh PDF OUTDIR [P12 PASSWORD_FILE TSA_URL TRUST_PEM NSSDB]
#
# Then webhooks and e-mail: a test-mode key registers a webhook on a small
# receiver on 127.0.0.1 that checks each signature, a test-mode document is
# signed, and signcore-worker --once delivers the events and hands the
# invitation and completion e-mails to a sendmail stand-in that keeps them.
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
rpid=
trap 'sh "$top/api/deploy/serve-local.sh" "$data" --stop; [ -z "$rpid" ] || kill "$rpid" 2>/dev/null' EXIT
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

# --- webhooks and e-mail, in test mode
mkdir -p "$out/mail"
cat >"$data/keep-mail.sh" <<SH
#!/bin/sh
cat >"$out/mail/\$(date +%s%N).eml"
SH
chmod +x "$data/keep-mail.sh"
printf '[server]\nproduct_name = Demo Sign\n[smtp]\nsendmail = %s\nfrom = Demo Sign <no-reply@demo.example>\n' \
	"$data/keep-mail.sh" >>"$data/signcore.conf"
tkey=$(admin key create --account "$acc" --test 2>/dev/null)
tauth="Authorization: Bearer $tkey"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
hook=$(curl -sS -H "$tauth" -H 'Content-Type: application/json' \
	--data-binary "{\"url\": \"http://127.0.0.1:$port/signcore\", \"events\": [\"*\"]}" "$base/v1/webhooks")
secret=$(printf '%s' "$hook" | j 'd["data"]["secret"]')
say "POST /v1/webhooks -> $(printf '%s' "$hook" | j 'd["data"]["id"]') (secret whsec_… shown once)"
python3 - "$port" "$secret" "$out/webhooks.log" <<'PY' &
import hashlib, hmac, http.server, json, sys, time
port, secret, log = int(sys.argv[1]), sys.argv[2].encode(), open(sys.argv[3], "a")
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        parts = [p.split("=", 1) for p in self.headers["X-Signcore-Signature"].split(",")]
        t = int(dict(parts)["t"])
        mac = hmac.new(secret, b"%d.%s" % (t, body), hashlib.sha256).hexdigest()
        ok = abs(time.time() - t) < 300 and any(k == "v1" and hmac.compare_digest(v, mac) for k, v in parts)
        log.write("%s %s signature %s\n" % (self.headers["X-Signcore-Event"], json.loads(body)["id"],
                                            "ok" if ok else "BAD"))
        log.flush()
        self.send_response(200 if ok else 400)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
PY
rpid=$!
i=0
until python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "api-demo: the webhook receiver did not start" >&2; exit 1; }
	sleep 0.1
done
sk=$(curl -sS -H "$tauth" -H 'Content-Type: application/pdf' --data-binary @"$pdf" "$base/v1/uploads" | j 'd["data"]["storageKey"]')
doc=$(curl -sS -H "$tauth" -H 'Content-Type: application/json' --data-binary @- "$base/v1/documents" <<JSON
{"title": "NDA — गोपनीयता समझौता", "storageKey": "$sk",
 "recipients": [{"email": "meera@example.in", "name": "मीरा", "role": "signer"}]}
JSON
)
url=$(printf '%s' "$doc" | j 'd["data"]["recipients"][0]["signingUrl"]')
curl -sS "$url" >/dev/null
curl -sS -H 'Content-Type: application/json' --data-binary '{"signature": {"text": "मीरा"}}' "$url/submit" >/dev/null
"$top/api/signcore-worker" --data-dir "$data" --once 2>&1 | sed 's/^/  /'
sleep 0.3
say "the receiver got:"
sed 's/^/  /' "$out/webhooks.log"
grep -q 'signature BAD' "$out/webhooks.log" && { echo "api-demo: a webhook signature did not verify" >&2; exit 1; }
grep -q '^document.completed ' "$out/webhooks.log" || { echo "api-demo: document.completed was not delivered" >&2; exit 1; }
say "e-mails handed to sendmail: $(ls "$out/mail" | wc -l) (in $out/mail)"
