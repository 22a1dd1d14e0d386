#!/bin/sh
# signcore batch end to end: JSON Lines and CSV manifests that stamp, fill
# and sign (B-B visible, B-T against the test TSA) with credentials loaded
# once; outputs judged by pdfsig, qpdf --check, pdftotext and signcore
# verify. Bad input (a bad line, a missing input, an unwritable folder), the
# JSON report, -j 1 against -j 2, and a run killed with SIGKILL then
# finished with --resume.
# SPDX-License-Identifier: AGPL-3.0-or-later
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
need_cmd openssl pdfsig pdftotext lighttpd certutil curl

start_pki

F=$FIXTURES
S=$SIGNCORE
cd "$WORK" || exit 1
mkdir in
qpdf --empty --pages "$F/plain.pdf" 1 -- in/one.pdf
cp "$F/pages200.pdf" in/p200.pdf
cp "$F/sig.png" in/sig.png
CRED="--p12 $SIGNER_RSA_P12 --password-file $P12_PASS_FILE"

# the 5 fields every job stamps (values come from each job)
cp "$SRCDIR/samples/batch-fields.json" spec5.json

# report_get FILE PYEXPR — PYEXPR over the report `j` and `by` (line -> result)
report_get()
{
	python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
by = {r["line"]: r for r in j["results"]}
print(eval(sys.argv[2]))' "$1" "$2"
}

# check EXPECTED ACTUAL WHAT
check() { if [ "$1" = "$2" ]; then pass; else fail "$3: expected '$1', got '$2'"; fi; }

# signed_ok FILE [LEVEL] — pdfsig: one valid, trusted ETSI.CAdES signature;
# qpdf --check clean; signcore verify: valid at LEVEL (default B-B).
# A job with an audit trail: stamped, audit pages appended, then signed;
# the page shows the chain hash, and the hash "before this audit trail" is
# that of the bytes the signed output starts with.
cp "$SRCDIR/samples/audit-events.json" events.json
cp "$F/sig.png" sig.png

signed_ok()
{
	local out lvl
	out=$(pdfsig -nssdir "$NSSDB" "$1" 2>&1)
	if printf '%s\n' "$out" | grep -q 'Signature Validation: Signature is Valid' &&
		printf '%s\n' "$out" | grep -q 'Certificate Validation: Certificate is Trusted' &&
		printf '%s\n' "$out" | grep -q 'Signature Type: ETSI.CAdES.detached'; then
		pass
	else
		fail "pdfsig on $1"
		printf '%s\n' "$out" | sed 's/^/    | /' >&2
	fi
	qpdf_ok "$1"
	if "$S" verify "$1" --trust "$ROOT_PEM" --json >"$WORK/verify.json" 2>"$RUN_ERR"; then
		lvl=$(json_get "$WORK/verify.json" 'j["signatures"][0]["level"]')
		check "${2:-B-B}" "$lvl" "PAdES level of $1"
	else
		fail "signcore verify $1"
		show_err
	fi
}

# ---- JSON Lines: stamp + sign, values merged into a shared spec -------------
mkdir out
cat >jobs.jsonl <<'EOF'
{"input": "in/one.pdf", "output": "out/a.pdf", "spec": "spec5.json", "values": {"full_name": "Priya Sharma", "company": "Acme Pvt Ltd", "agree": true, "signed_on": "2026-11-21", "signature": {"text": "Priya Sharma"}}, "sign": true}
{"input": "in/one.pdf", "output": "out/b.pdf", "spec": [{"name": "ref", "type": "text", "page": 1, "rect": [72, 72, 200, 20], "value": "INV-2026-0042"}], "sign": {"page": 1, "rect": [300, 700, 200, 60], "reason": "Approved", "appearance": {"image": "in/sig.png"}}}

# a comment line, skipped; so is the blank line above
{"input": "in/p200.pdf", "output": "out/c.pdf", "spec": "spec5.json", "values": {"full_name": "Ravi Kumar"}, "mode": "place"}
{"input": "in/one.pdf", "output": "out/d.pdf", "sign": {"level": "B-T"}}
EOF
expect_exit 0 "$S" batch jobs.jsonl $CRED --tsa "$TSA_URL" --trust "$ROOT_PEM" -j 2 -q --report report.json
check 4 "$(report_get report.json 'j["ok"]')" "jobs ok"
check "1 2 5 6" "$(report_get report.json '" ".join(str(r["line"]) for r in j["results"])')" "report lines"
check jsonl "$(report_get report.json 'j["format"]')" "format"
signed_ok out/a.pdf
signed_ok out/b.pdf
signed_ok out/d.pdf B-T
text_has out/a.pdf "Priya Sharma"
text_has out/a.pdf "Acme Pvt Ltd"
text_has out/a.pdf "21 Nov 2026"
text_has out/b.pdf "INV-2026-0042"
text_has out/b.pdf "Approved"
# stamped: no form fields are left; placed: live fields with the value
check Signature1 "$(field_names out/a.pdf)" "fields of a.pdf (stamped, then signed)"
check 5 "$(field_names out/c.pdf | grep -c .)" "fields placed in c.pdf"
info_json out/c.pdf && check "Ravi Kumar" \
	"$(json_get "$WORK/info.json" '[f["value"] for f in j["fields"] if f["name"] == "full_name"][0]')" "value of full_name"
qpdf_ok out/c.pdf
check 200 "$(qpdf --show-npages out/c.pdf)" "pages of c.pdf"
assert_no_temp out

# ---- CSV: the same kind of jobs, quoted cells with commas and JSON ----------
mkdir outcsv
cat >jobs.csv <<'EOF'
input,output,spec,values,sign,sign_page,sign_rect,sign_reason,my_own_column
in/one.pdf,outcsv/a.pdf,spec5.json,"{""full_name"": ""Kumar, Ravi"", ""agree"": true}",B-B,1,"300,700,200,60",Checked,x
in/one.pdf,outcsv/b.pdf,spec5.json,,,,,,y
in/one.pdf,outcsv/c.pdf,,,yes,,,,z
EOF
expect_exit 0 "$S" batch jobs.csv $CRED -j 2 -q --report csv.json
check "3 csv" "$(report_get csv.json '"%d %s" % (j["ok"], j["format"])')" "CSV jobs ok"
signed_ok outcsv/a.pdf
signed_ok outcsv/c.pdf
text_has outcsv/a.pdf "Kumar, Ravi"
text_has outcsv/a.pdf "Checked"
qpdf_ok outcsv/b.pdf
# JSON Lines given a neutral name, detected from its first character
mkdir out1
sed -n 1p jobs.jsonl | sed 's#out/a.pdf#out1/a.pdf#' >one2.manifest
expect_exit 0 "$S" batch one2.manifest $CRED -q --report one.json
check jsonl "$(report_get one.json 'j["format"]')" "format detected"
signed_ok out1/a.pdf

# ---- -j 1 and -j 2: the same outputs, equally valid -------------------------
python3 - <<'EOF'
import json
with open("many.jsonl", "w") as f:
    for i in range(12):
        f.write(json.dumps({"input": "in/one.pdf", "output": "many/o%02d.pdf" % i, "spec": "spec5.json",
            "values": {"full_name": "Person %d" % i, "agree": i % 2 == 0, "signature": {"text": "P %d" % i}},
            "sign": True}) + "\n")
EOF
for j in 1 2; do
	rm -rf many && mkdir many
	expect_exit 0 "$S" batch many.jsonl $CRED -j $j -q --report many$j.json
	check "12 $j" "$(report_get many$j.json '"%d %d" % (j["ok"], j["threads"])')" "-j $j"
	for i in 00 05 11; do
		signed_ok many/o$i.pdf
		text "many/o$i.pdf" >many$j-$i.txt
	done
	mv many many$j
done
for i in 00 05 11; do
	if cmp -s many1-$i.txt many2-$i.txt && grep -q "Person $((10#$i))" many1-$i.txt; then pass; else fail "-j 1 and -j 2 differ for o$i.pdf"; fi
done
# same size: the same objects were written, only the signature bytes differ
check "$(size many1/o05.pdf)" "$(size many2/o05.pdf)" "size of o05.pdf with -j 1 and -j 2"

# ---- bad input: a bad line, a missing input, an unwritable folder ----------
mkdir bad locked
cat >bad.jsonl <<'EOF'
{"input": "in/one.pdf", "output": "bad/ok1.pdf", "spec": "spec5.json"}
{"input": "in/one.pdf", "output": "bad/broken.pdf", "spec": "spec5.json"
{"input": "in/missing.pdf", "output": "bad/missing.pdf", "spec": "spec5.json"}
{"input": "in/one.pdf", "output": "locked/x.pdf", "spec": "spec5.json"}
{"input": "in/one.pdf", "output": "bad/t.pdf", "sign": "B-T"}
{"input": "in/one.pdf", "output": "bad/audit.pdf", "spec": "spec5.json", "audit": [{"event": "viewed"}]}
{"input": "in/one.pdf", "output": "bad/ok1.pdf", "sign": true}
{"output": "bad/noinput.pdf", "sign": true}
{"input": "in/one.pdf", "output": "bad/nothing.pdf"}
{"input": "in/one.pdf", "output": "bad/v.pdf", "spec": "spec5.json", "values": {"no_such_field": "x"}}
{"input": "in/one.pdf", "output": "bad/ok2.pdf", "values": {"full_name": "x"}}
{"input": "in/one.pdf", "output": "bad/ok3.pdf", "sign": {"page": 1, "rect": [300, 700, 200, 60]}}
EOF
# A folder nobody can write to: mode 555, or for root an immutable folder.
unwritable=
if [ "$(id -u)" != 0 ]; then
	chmod 555 locked && unwritable=1
elif chattr +i locked 2>/dev/null; then
	unwritable=1
fi
[ -z "$unwritable" ] && rmdir locked
run "$S" batch bad.jsonl $CRED -j 2 --report bad.json
[ -n "$unwritable" ] && { chattr -i locked 2>/dev/null; chmod 755 locked; }
check 1 "$RC" "exit status with failed jobs"
check "2 10" "$(report_get bad.json '"%d %d" % (j["ok"], j["failed"])')" "ok/failed"
check ok "$(report_get bad.json 'by[1]["status"]')" "line 1"
check ok "$(report_get bad.json 'by[12]["status"]')" "line 12 (after the failures)"
qpdf_ok bad/ok1.pdf
case "$(report_get bad.json 'by[2]["reason"]')" in *JSON*) pass ;; *) fail "line 2 reason: $(report_get bad.json 'by[2]')" ;; esac
if grep -q '^signcore: batch: line 2: failed: bad JSON' "$RUN_ERR"; then pass; else fail "line 2 not reported on stderr with its number"; show_err; fi
case "$(report_get bad.json 'by[3]["reason"]')" in *in/missing.pdf*"No such file"*) pass ;; *) fail "line 3 reason: $(report_get bad.json 'by[3]')" ;; esac
case "$(report_get bad.json 'by[4]["reason"]')" in *locked*) pass ;; *) fail "line 4 reason: $(report_get bad.json 'by[4]')" ;; esac
case "$(report_get bad.json 'by[5]["reason"]')" in *"B-T needs a time-stamp authority"*) pass ;; *) fail "line 5 reason" ;; esac
case "$(report_get bad.json 'by[6]["reason"]')" in *audit*"must be an events file"*) pass ;; *) fail "line 6 reason" ;; esac
case "$(report_get bad.json 'by[7]["reason"]')" in *"also the output of line 1"*) pass ;; *) fail "line 7 reason" ;; esac
case "$(report_get bad.json 'by[8]["reason"]')" in *'"input" is missing'*) pass ;; *) fail "line 8 reason" ;; esac
case "$(report_get bad.json 'by[9]["reason"]')" in *"nothing to do"*) pass ;; *) fail "line 9 reason" ;; esac
case "$(report_get bad.json 'by[10]["reason"]')" in *no_such_field*) pass ;; *) fail "line 10 reason" ;; esac
case "$(report_get bad.json 'by[11]["reason"]')" in *full_name*) pass ;; *) fail "line 11 reason: $(report_get bad.json 'by[11]')" ;; esac
for f in broken missing t audit noinput nothing v ok2; do assert_no_file bad/$f.pdf; done
assert_no_file locked/x.pdf
assert_no_temp bad
[ -d locked ] && assert_no_temp locked
signed_ok bad/ok3.pdf

# --stop-on-error: nothing starts after the first failure
printf '%s\n' '{"input": "in/missing.pdf", "output": "bad/s1.pdf", "spec": "spec5.json"}' \
	'{"input": "in/one.pdf", "output": "bad/s2.pdf", "spec": "spec5.json"}' >stop.jsonl
run "$S" batch stop.jsonl -j 1 --stop-on-error -q --report stop.json
check "1 failed skipped" "$RC $(report_get stop.json 'by[1]["status"] + " " + by[2]["status"]')" "--stop-on-error"
assert_no_file bad/s2.pdf

# Whole-run errors: exit 2, one message, nothing written.
expect_exit 2 "$S" batch many.jsonl -q && err_has 'line 1 signs, but no credentials'
expect_exit 2 "$S" batch many.jsonl $CRED -j 0 && err_has '-j: expected a number'
expect_exit 2 "$S" batch nosuch.jsonl $CRED && err_has 'nosuch.jsonl: No such file'
expect_exit 2 "$S" batch many.jsonl $CRED -o x.pdf && err_has 'not a batch option'
: >empty.jsonl
expect_exit 2 "$S" batch empty.jsonl && err_has 'holds no jobs'
expect_exit 2 "$S" batch many.jsonl --p12 "$SIGNER_RSA_P12" --password-env NO_SUCH_VAR_X && err_has 'NO_SUCH_VAR_X'

# ---- kill -9 in the middle, then --resume -----------------------------------
python3 - <<'EOF'
import json
with open("kill.jsonl", "w") as f:
    for i in range(400):
        f.write(json.dumps({"input": "in/one.pdf", "output": "kill/o%03d.pdf" % i, "spec": "spec5.json",
            "values": {"full_name": "Person %d" % i}, "sign": True}) + "\n")
EOF
mkdir kill
"$S" batch kill.jsonl $CRED -j 2 -q --report kill1.json &
pid=$!
for _ in $(seq 200); do
	[ "$(ls kill | wc -l)" -ge 20 ] && break
	sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
n1=$(ls kill | wc -l)
if [ "$n1" -ge 20 ] && [ "$n1" -lt 400 ]; then pass; else fail "killed run wrote $n1 of 400 outputs"; fi
assert_no_file kill1.json
# every output that exists is whole: the library renames complete files only
partial=0
for f in kill/*.pdf; do qpdf --check "$f" >/dev/null 2>&1 || partial=$((partial + 1)); done
check 0 "$partial" "incomplete outputs after kill -9"
touch -d '2000-01-01' kill/o000.pdf  # older than its input: done again
# temporary files: one like those of an output of this manifest (removed),
# one of a file the manifest does not write (left alone)
echo partial >kill/.o005.pdf.Zz9Yy8
echo other >kill/.unrelated.pdf.Ab12Cd
run "$S" batch kill.jsonl $CRED -j 2 --resume --report kill2.json
check 0 "$RC" "exit status of --resume"
check "400 $((401 - n1)) $((n1 - 1)) 0" "$(report_get kill2.json '"%d %d %d %d" % (j["jobs"], j["ok"], j["skipped"], j["failed"])')" \
	"jobs, ok, skipped, failed after --resume"
check ok "$(report_get kill2.json 'by[1]["status"]')" "stale output done again"
check 400 "$(ls kill | wc -l)" "outputs after --resume"
if grep -q '^signcore: note: removed [0-9]* temporary file' "$RUN_ERR"; then pass; else fail "no note about removed temporary files"; fi
assert_file kill/.unrelated.pdf.Ab12Cd
rm -f kill/.unrelated.pdf.Ab12Cd
assert_no_temp kill
for i in 000 199 399; do signed_ok kill/o$i.pdf; done
text_has kill/o399.pdf "Person 399"

# --- a job with an audit trail ------------------------------------------------------
cat >audit.jsonl <<'EOF'
{"input": "in/one.pdf", "output": "aud/a1.pdf", "spec": "spec5.json", "audit": "events.json", "sign": true}
{"input": "in/one.pdf", "output": "aud/a2.pdf", "audit": {"events": "events.json", "paper": "letter", "time_zone": "Asia/Kolkata"}}
EOF
mkdir aud
run "$S" batch audit.jsonl $CRED --report aud.json
check 0 "$RC" "exit status of the audit batch"
check "2 2" "$(report_get aud.json '"%d %d" % (j["jobs"], j["ok"])')" "audit jobs ok"
signed_ok aud/a1.pdf
chain=$("$S" audit --check events.json --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["chain_sha256"])')
text_has aud/a1.pdf "$chain"
text_has aud/a2.pdf "प्रिया शर्मा"
text_has aud/a2.pdf "Time (Asia/Kolkata)"
# the printed "before" hash is that of a prefix of the output ending at a %%EOF
if python3 - aud/a1.pdf <<'PYEOF'; then pass; else fail "the audit page's document hash is no prefix of the output"; fi
import hashlib, re, subprocess, sys
pdf = sys.argv[1]
data = open(pdf, "rb").read()
text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True).stdout
hashes = set(re.findall(r"\b[0-9a-f]{64}\b", text))
ends = [m.end() for m in re.finditer(rb"%%EOF\r?\n?", data)]
sys.exit(0 if any(hashlib.sha256(data[:e]).hexdigest() in hashes for e in ends) else 1)
PYEOF

finish
