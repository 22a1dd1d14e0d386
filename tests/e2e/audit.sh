#!/bin/sh
# signcore audit: the audit trail pages and the event log's hash chain,
# judged by poppler (pdftotext, pdffonts, pdfinfo), qpdf and mutool:
#  - the text of the audit pages holds the document ID, every hash (the
#    input's SHA-256 and the chain hash computed here independently), and
#    every recipient's name and e-mail exactly, in ten scripts;
#  - fonts are embedded subsets; no .notdef glyph is drawn; a Devanagari
#    name does not cost a whole font;
#  - no word crosses the page margins or a table's column rules;
#  - long logs paginate with "page x of y" on every page and the table
#    header repeated; 10,000 events work;
#  - --check detects an altered, removed or reordered event;
#  - bad input gets one clear message, a non-zero exit and no output.
# SPDX-License-Identifier: AGPL-3.0-or-later
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
need_cmd pdftotext pdffonts pdfinfo openssl

F=$FIXTURES
S=$SIGNCORE
cd "$WORK" || exit 1
cp "$SRCDIR/samples/audit-events.json" events.json
cp "$F/sig.png" sig.png
export SOURCE_DATE_EPOCH=1795262400   # 2026-11-21 12:00:00 UTC
in_sum=$(sum "$F/plain.pdf")

pages() { pdfinfo "$1" 2>/dev/null | awk '/^Pages:/ {print $2}'; }

# audit_text PDF FIRST — the text of pages FIRST.. (default layout order)
audit_text() { pdftotext -f "$2" "$1" - 2>/dev/null; }

# The chain hash, computed here from the log (keys sorted, no whitespace, UTF-8).
chain_of()
{
	python3 - "$1" <<'EOF'
import hashlib, json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
prev = hashlib.sha256(d["document"]["id"].encode()).hexdigest()
for e in d["events"]:
    if e.get("prev_sha256", prev) != prev:
        print("broken"); sys.exit(0)
    prev = hashlib.sha256(json.dumps(e, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()
print(prev)
EOF
}

# bbox_check PDF FIRST — on pages FIRST.. rendered at 150 dpi, no ink lies
# in the page margins and no text crosses a vertical table rule (the rules
# are read from the page content: thin grey "re f" bars). Word boxes from
# pdftotext -bbox are no help here: text marked with /ActualText comes back
# as a point.
bbox_check()
{
	local n p
	n=$(pages "$1")
	qpdf --qdf --object-streams=disable "$1" qdf.pdf 2>/dev/null
	for p in $(seq "$2" "$n"); do
		pdftoppm -r 150 -gray -f "$p" -l "$p" -singlefile "$1" render-$p || fail "pdftoppm page $p"
	done
	python3 - qdf.pdf "$2" "$n" <<'EOF'
import re, sys
qdf, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(qdf, "rb").read()
contents = {}
for m in re.finditer(rb"%% Contents for page (\d+)\n(?:%%[^\n]*\n)*\d+ 0 obj\n<<.*?>>\nstream\n(.*?)\nendstream", data, re.S):
    contents[int(m.group(1))] = m.group(2).decode("latin-1")

def pgm(path):
    raw = open(path, "rb").read()
    parts = raw.split(maxsplit=4)
    w, h = int(parts[1]), int(parts[2])
    return w, h, raw[len(raw) - w * h:]

bad, rules_seen = [], 0
K = 150 / 72
for pno in range(first, last + 1):
    w, h, px = pgm("render-%d.pgm" % pno)
    H = h / K
    side = int(36 * K)
    # margins (36 pt at the sides, 30 pt at the top, 20 pt at the bottom) hold no ink
    for y in range(h):
        row = px[y * w:(y + 1) * w]
        if y < int(30 * K) or y >= h - int(20 * K):
            if min(row) < 200:
                bad.append("page %d: ink in the top/bottom margin at y=%.0f pt" % (pno, y / K))
        elif min(row[:side]) < 200 or min(row[w - side:]) < 200:
            bad.append("page %d: ink in a side margin at y=%.0f pt" % (pno, y / K))
        if len(bad) > 5:
            break
    for x, y, _, rh in re.findall(r"([\d.-]+) ([\d.-]+) (0?\.5) ([\d.-]+) re f", contents.get(pno, "")):
        rules_seen += 1
        cx = int(round((float(x) + 0.25) * K))
        y0 = int((H - float(y) - float(rh)) * K) + 3
        y1 = int((H - float(y)) * K) - 3
        hit = [yy for yy in range(max(y0, 0), min(y1, h)) for xx in (cx - 1, cx) if 0 <= xx < w and px[yy * w + xx] < 100]
        if hit:
            bad.append("page %d: text crosses the rule at x=%.1f pt, y=%.0f pt" % (pno, cx / K, hit[0] / K))
if not rules_seen:
    bad.append("no table rules found")
print("\n".join(bad[:10]))
sys.exit(1 if bad else 0)
EOF
}

# fonts_check PDF — every font is an embedded subset, none is a whole face.
fonts_check()
{
	pdffonts "$1" >fonts.txt 2>/dev/null
	if awk 'NR > 2 && $1 != "Helvetica" { if ($(NF-4) != "yes" || $(NF-3) != "yes") bad = 1 } END { exit bad }' fonts.txt; then
		pass
	else
		fail "$1: a font is not an embedded subset: $(cat fonts.txt)"
	fi
}

# notdef_check PDF FIRST — no .notdef glyph drawn on pages FIRST..
notdef_check()
{
	local n p
	command -v mutool >/dev/null 2>&1 || { note "mutool missing: .notdef check skipped"; return; }
	n=$(pages "$1")
	for p in $(seq "$2" "$n"); do
		mutool trace "$1" "$p" 2>/dev/null
	done >trace.xml
	if grep -q 'glyph="\.notdef"\|glyph="0"' trace.xml; then
		fail "$1: a .notdef glyph is drawn"
	elif ! grep -q '<g unicode' trace.xml; then
		fail "$1: mutool trace shows no glyphs"
	else
		pass
	fi
}

# has FILE STRING — the text FILE contains STRING exactly.
has()
{
	if grep -qF -- "$2" "$1"; then pass; else fail "text lacks '$2'"; fi
}

# --- 1. the sample log, A4, India time -----------------------------------------
ok "$S" audit "$F/plain.pdf" events.json -o out.pdf --time-zone Asia/Kolkata
qpdf --check out.pdf >/dev/null 2>&1 && pass || fail "qpdf --check out.pdf"
[ "$(pages out.pdf)" = 5 ] && pass || fail "expected 3 + 2 pages, got $(pages out.pdf)"
cmp -s -n "$(stat -c %s "$F/plain.pdf")" "$F/plain.pdf" out.pdf && pass || fail "the update is not incremental"
audit_text out.pdf 4 >a.txt
has a.txt "doc_7Q2ZK9"
has a.txt "Service Agreement — सेवा अनुबंध"
has a.txt "$(python3 -c 'import json;print(json.load(open("events.json"))["document"]["original_sha256"])')"
has a.txt "$(sha256sum "$F/plain.pdf" | cut -c1-64)"
chain=$(chain_of events.json)
has a.txt "$chain"
for who in "प्रिया शर्मा" "priya@example.in" "அருண் குமார்" "arun.kumar@example.in" \
	"فاطمة الزهراء" "fatima@example.ae" "Ravi Menon" "ravi@example.com"; do
	has a.txt "$who"
done
has a.txt "Audit trail · page 1 of 2 · doc_7Q2ZK9"
has a.txt "Audit trail · page 2 of 2 · doc_7Q2ZK9"
has a.txt "Generated 2026-11-21 12:00:00 UTC"
has a.txt "Time (Asia/Kolkata)"
has a.txt "2026-11-21 15:30:00"     # 10:00 UTC in India
has a.txt "Chrome 120 on Android"   # user agents shortened
has a.txt "E-mail OTP"
fonts_check out.pdf
notdef_check out.pdf 4
if bbox_check out.pdf 4 >bbox.log; then pass; else fail "layout: $(cat bbox.log)"; fi
[ "$(sum "$F/plain.pdf")" = "$in_sum" ] && pass || fail "the input was modified"

# a Devanagari name costs a subset, not a 230 KB face
python3 - >small.json <<'EOF'
import json
print(json.dumps({"document": {"id": "doc_small", "title": "Offer letter"},
  "recipients": [{"name": "प्रिया शर्मा", "email": "priya@example.in", "signature": {"text": "प्रिया शर्मा"}}],
  "events": [{"at": "2026-11-21T10:00:00Z", "type": "document.created", "actor": "प्रिया शर्मा"}]}, ensure_ascii=False))
EOF
ok "$S" audit "$F/plain.pdf" small.json -o small.pdf
growth=$(( $(stat -c %s small.pdf) - $(stat -c %s "$F/plain.pdf") ))
[ "$growth" -lt 61440 ] && pass || fail "the audit page adds $growth bytes (fonts not subset?)"
note "audit page with a Devanagari name: $growth bytes"
fonts_check small.pdf

# --- 2. every script, mixed in one line, and very long values --------------------
python3 - >scripts.json <<'EOF'
import json
names = ["Latin Name", "प्रिया शर्मा", "அருண் குமார்", "সুমিত্রা দেবী", "ધ્રુવ પટેલ",
         "శ్రీనివాస్ రెడ్డి", "ಕೃಷ್ಣ ಮೂರ್ತಿ", "ലക്ഷ്മി നായർ", "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ", "فاطمة الزهراء",
         "Priya प्रिया பிரியா প্রিয়া"]
rec = [{"id": "r%d" % i, "name": n, "email": "user%d@example.in" % i, "role": "signer",
        "signed_at": "2026-11-21T10:%02d:00Z" % i, "signature": {"text": n}} for i, n in enumerate(names)]
rec.append({"id": "word", "name": "प्रियाशर्मा" * 12, "email": "word@example.in"})
rec.append({"id": "long", "name": ("Venkata Subrahmanya Lakshmi Narasimha " * 8).strip(),
            "email": "a.very.long.mailbox.name.for.testing.wrapping.of.addresses@subdomain.example-company.co.in",
            "user_agent": "X" * 700 + " (unknown agent without spaces" + "Y" * 300, "ip": "2001:0db8:85a3:0000:0000:8a2e:0370:7334"})
ev = [{"at": "2026-11-21T10:00:00Z", "type": "custom.kyc_checked", "actor": "r%d" % i, "reason": "Reason " * 60}
      for i in range(3)]
print(json.dumps({"document": {"id": "doc_scripts", "title": "Every script"}, "recipients": rec, "events": ev},
                 ensure_ascii=False))
EOF
ok "$S" audit "$F/plain.pdf" scripts.json -o scripts.pdf --paper letter
audit_text scripts.pdf 4 >s.txt
python3 - scripts.json s.txt <<'EOF' && pass || fail "a name or e-mail is missing from the text"
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
text = open(sys.argv[2], encoding="utf-8").read()
missing = [r[k] for r in d["recipients"][:-1] for k in ("name", "email") if r[k] not in text]
if missing:
    print("missing: %s" % missing, file=sys.stderr); sys.exit(1)
EOF
has s.txt "custom.kyc_checked"      # unknown types are printed as given
has s.txt "a.very.long.mailbox.name.for.testing.wrapping.of.addresses@subdomain.example-company.co.in"
[ "$(pdfinfo -f 4 -l 4 scripts.pdf | awk '/^Page.*size:/ {print $4 "x" $6}')" = "612x792" ] && pass ||
	fail "--paper letter: audit page is not 612x792"
fonts_check scripts.pdf
notdef_check scripts.pdf 4
if bbox_check scripts.pdf 4 >bbox.log; then pass; else fail "long values: $(cat bbox.log)"; fi
if pdffonts scripts.pdf | grep -q 'Noto Serif\|Noto Sans Devanagari Regular'; then
	fail "a whole fallback face was embedded"
else
	pass
fi

# --paper match: the last page's size (rotated.pdf is displayed landscape)
ok "$S" audit "$F/rotated.pdf" events.json -o match.pdf --paper match
n=$(pages match.pdf)
want=$(pdfinfo -f $((n - 1)) -l $((n - 1)) match.pdf | awk '/^Page.*size:/ {print $4 "x" $6}')
got=$(pdfinfo -f "$n" -l "$n" match.pdf | awk '/^Page.*size:/ {print $4 "x" $6}')
rot=$(pdfinfo -f $((n - 1)) -l $((n - 1)) match.pdf | awk '/^Page.*rot:/ {print $4}')
if [ "$rot" = 90 ] || [ "$rot" = 270 ]; then want=$(echo "$want" | awk -Fx '{print $2 "x" $1}'); fi
[ "$got" = "$want" ] && pass || fail "--paper match: audit page $got, last page as displayed $want"

# --- 3. a long log: pages, page x of y, repeated header -------------------------
python3 - >e500.json <<'EOF'
import json
d = json.load(open("events.json", encoding="utf-8"))
base = [dict(e) for e in d["events"]]
for e in base:
    e.pop("prev_sha256", None)
d["events"] = []
for i in range(500):
    e = dict(base[i % len(base)])
    e["at"] = "2026-11-21T%02d:%02d:%02dZ" % (i // 3600, i // 60 % 60, i % 60)
    d["events"].append(e)
print(json.dumps(d, ensure_ascii=False))
EOF
ok "$S" audit "$F/plain.pdf" e500.json -o e500.pdf --time-zone Asia/Kolkata
n=$(pages e500.pdf)
audit=$((n - 3))
python3 - e500.pdf "$audit" <<'EOF' && pass || fail "500 events: pagination"
import subprocess, sys, re
pdf, audit = sys.argv[1], int(sys.argv[2])
ok, seen = True, []
for i in range(1, audit + 1):
    t = subprocess.run(["pdftotext", "-raw", "-f", str(3 + i), "-l", str(3 + i), pdf, "-"],
                       capture_output=True, text=True).stdout
    if "Audit trail · page %d of %d · doc_7Q2ZK9" % (i, audit) not in t:
        print("page %d lacks its footer" % i, file=sys.stderr); ok = False
    if i > 1 and "Time (UTC)" not in t:
        print("page %d lacks the table header" % i, file=sys.stderr); ok = False
    seen += [int(x) for x in re.findall(r"^(\d+)$", t, re.M)]
nums = [x for x in seen if 1 <= x <= 500]
# every event number, in order (other lone numbers: the page count)
it = iter(nums)
if not all(any(x == k for x in it) for k in range(1, 501)):
    print("event numbers 1..500 are not all there in order", file=sys.stderr); ok = False
if not 12 <= audit <= 30:
    print("%d audit pages for 500 events" % audit, file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
EOF
note "500 events: $audit audit pages"
if bbox_check e500.pdf $((n - 1)) >bbox.log; then pass; else fail "500 events: $(cat bbox.log)"; fi

python3 - >e10k.json <<'EOF'
import json
ev = [{"at": "2026-11-21T10:00:00Z", "type": "document.viewed", "actor": "api", "ip": "198.51.100.%d" % (i % 250)}
      for i in range(10000)]
print(json.dumps({"document": {"id": "doc_big", "title": "Big log"}, "recipients": [], "events": ev}))
EOF
ok "$S" audit "$F/plain.pdf" e10k.json -o e10k.pdf
n=$(pages e10k.pdf)
[ "$n" -gt 100 ] && pass || fail "10,000 events gave only $n pages"
pdftotext -f "$n" -l "$n" e10k.pdf - | grep -q "page $((n - 3)) of $((n - 3))" && pass || fail "10,000 events: last footer"

# --- 4. the hash chain -------------------------------------------------------------
ok "$S" audit --check events.json
grep -q "intact, 11 events, chain sha256 $chain" "$RUN_OUT" && pass || fail "--check output: $(cat "$RUN_OUT")"
ok "$S" audit --check events.json --expect "$chain"
expect_exit 1 "$S" audit --check events.json --expect "$(printf '%064d' 0)"
err_has "chain hash is $chain"
ok "$S" audit --check events.json --json
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j["intact"] and j["events"]==11 else 1)' "$RUN_OUT" &&
	pass || fail "--check --json: $(cat "$RUN_OUT")"

# alter one event (its IP): the next event's prev_sha256 no longer matches
python3 - <<'EOF'
import json
d = json.load(open("events.json", encoding="utf-8"))
d["events"][4]["ip"] = "192.0.2.99"
json.dump(d, open("altered.json", "w", encoding="utf-8"), ensure_ascii=False)
d = json.load(open("events.json", encoding="utf-8"))
del d["events"][2]
json.dump(d, open("removed.json", "w", encoding="utf-8"), ensure_ascii=False)
d = json.load(open("events.json", encoding="utf-8"))
d["events"][1], d["events"][2] = d["events"][2], d["events"][1]
json.dump(d, open("swapped.json", "w", encoding="utf-8"), ensure_ascii=False)
d = json.load(open("events.json", encoding="utf-8"))
d["events"][-1]["actor"] = "someone else"
json.dump(d, open("last.json", "w", encoding="utf-8"), ensure_ascii=False)
EOF
expect_exit 1 "$S" audit --check altered.json
err_has "event 6 .*prev_sha256 does not match"
expect_exit 1 "$S" audit --check removed.json
err_has "event 3 .*altered"
expect_exit 1 "$S" audit --check swapped.json
err_has "event 2 .*altered"
# the last event has no successor: the chain hash printed on the page catches it
ok "$S" audit --check last.json
expect_exit 1 "$S" audit --check last.json --expect "$chain"
expect_exit 2 "$S" audit "$F/plain.pdf" altered.json -o refused.pdf
err_has "altered"
assert_no_file refused.pdf
# an unchained log: --check says so, --chain makes the chain python computes too
python3 -c '
import json
d = json.load(open("events.json", encoding="utf-8"))
for e in d["events"]: e.pop("prev_sha256")
json.dump(d, open("plain-log.json", "w", encoding="utf-8"), ensure_ascii=False)'
expect_exit 1 "$S" audit --check plain-log.json
err_has "not hash-chained"
ok "$S" audit --chain plain-log.json -o rechained.json
[ "$(chain_of rechained.json)" = "$chain" ] && pass || fail "--chain does not make the same chain"
ok "$S" audit --check rechained.json --expect "$chain"
# audit of an unchained log prints the chain hash computed from it
ok "$S" audit "$F/plain.pdf" plain-log.json -o unchained.pdf
audit_text unchained.pdf 4 | grep -qF "$chain" && pass || fail "unchained log: chain hash not printed"

# --- 5. bad input ---------------------------------------------------------------------
printf '{"document": {"id": "x", "title": "t"},\n "recipients": [,]}\n' >bad.json
expect_exit 2 "$S" audit "$F/plain.pdf" bad.json -o bad.pdf
err_has "bad.json: line 2, column [0-9]+"
assert_no_file bad.pdf
python3 -c '
import json
d = json.load(open("events.json", encoding="utf-8"))
del d["recipients"][1]["email"]
json.dump(d, open("nokey.json", "w", encoding="utf-8"), ensure_ascii=False)
d = json.load(open("events.json", encoding="utf-8"))
del d["events"][3]["at"]
json.dump(d, open("noat.json", "w", encoding="utf-8"), ensure_ascii=False)
d = json.load(open("events.json", encoding="utf-8"))
d["recipients"][1]["signature"] = {"image": "fake.png"}
for e in d["events"]: e.pop("prev_sha256")
json.dump(d, open("badimg.json", "w", encoding="utf-8"), ensure_ascii=False)
d["recipients"][1]["signature"] = {"image": "data:image/png;base64,aGVsbG8gd29ybGQ="}
json.dump(d, open("badurl.json", "w", encoding="utf-8"), ensure_ascii=False)
d["recipients"][1]["signature"] = {"image": "missing.png"}
json.dump(d, open("noimg.json", "w", encoding="utf-8"), ensure_ascii=False)
d["recipients"][1]["signature"] = {"image": "sig.png"}
d["events"][0]["at"] = "yesterday"
json.dump(d, open("badtime.json", "w", encoding="utf-8"), ensure_ascii=False)'
cp "$F/fake.png" fake.png
expect_exit 2 "$S" audit "$F/plain.pdf" nokey.json -o x.pdf
err_has 'recipient 2: missing required key "email"'
expect_exit 2 "$S" audit "$F/plain.pdf" noat.json -o x.pdf
err_has 'event 4: missing required key "at"'
expect_exit 2 "$S" audit "$F/plain.pdf" badimg.json -o x.pdf
err_has "recipient 2: signature image is not a PNG or JPEG"
expect_exit 2 "$S" audit "$F/plain.pdf" badurl.json -o x.pdf
err_has "recipient 2: signature image is not a PNG or JPEG"
expect_exit 2 "$S" audit "$F/plain.pdf" noimg.json -o x.pdf
err_has "missing.png cannot be read"
expect_exit 2 "$S" audit "$F/plain.pdf" badtime.json -o x.pdf
err_has 'event 1: "at" is not a date and time'
expect_exit 2 "$S" audit "$F/plain.pdf" events.json -o x.pdf --time-zone Mars/Olympus
err_has "Mars/Olympus"
expect_exit 2 "$S" audit "$F/plain.pdf" events.json -o x.pdf --paper a3
expect_exit 2 "$S" audit "$F/plain.pdf" missing.json -o x.pdf
expect_exit 2 "$S" audit "$F/truncated.pdf" events.json -o x.pdf
assert_no_file x.pdf

# a signed document is refused: pages after a signature would invalidate it
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj "/CN=Audit Test" \
	>/dev/null 2>&1 || fail "openssl req"
ok "$S" sign "$F/plain.pdf" -o signed.pdf --key key.pem --cert cert.pem
expect_exit 2 "$S" audit signed.pdf events.json -o x.pdf
err_has "signed"
assert_no_file x.pdf

finish
