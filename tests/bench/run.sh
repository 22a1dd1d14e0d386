#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# tests/bench/run.sh [--signcore PATH] [--runs N] [--warmup N] [--no-peer]
#
# Times `signcore stamp` (10 fields placed, filled and flattened into a
# 200-page PDF, whole process) against the same job done by pdf-lib under
# Node, plus two floors for context (`signcore --version`, `openssl dgst
# -sha256` of the input) and Node's bare start. Prints a markdown table and
# writes it to tests/bench/out/results.md. See README.md beside this script.
#
# --signcore PATH  the signcore binary (default: $SIGNCORE, else an in-tree
#                  build tools/signcore, else `signcore` on PATH, else build
#                  one out of tree in tests/bench/out/build). A libtool
#                  wrapper script is resolved to the real binary in .libs/ so
#                  the wrapper's own shell start-up is not timed.
# --runs N         timed runs per command (default 15), after --warmup (2).
# --no-peer        skip pdf-lib.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
work="$here/out"
runs=15
warmup=2
signcore="${SIGNCORE:-}"
peer=1

die() { echo "run.sh: $*" >&2; exit 1; }
note() { echo "run.sh: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--signcore) [ $# -ge 2 ] || die "--signcore needs a path"; signcore=$2; shift 2 ;;
	--signcore=*) signcore=${1#*=}; shift ;;
	--runs) [ $# -ge 2 ] || die "--runs needs a number"; runs=$2; shift 2 ;;
	--runs=*) runs=${1#*=}; shift ;;
	--warmup) [ $# -ge 2 ] || die "--warmup needs a number"; warmup=$2; shift 2 ;;
	--warmup=*) warmup=${1#*=}; shift ;;
	--no-peer) peer=0; shift ;;
	-h|--help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument: $1 (try --help)" ;;
	esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs: expected a positive integer"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "--warmup: expected a number"

for t in python3 qpdf pdftotext openssl; do
	command -v "$t" >/dev/null || die "$t is required (Debian packages: python3 qpdf poppler-utils openssl)"
done
mkdir -p "$work"

# ---- signcore ------------------------------------------------------------
. "$here/lib.sh"
resolve_signcore
export SIGNCORE_FONT_DIR="${SIGNCORE_FONT_DIR:-$root/fonts}"
sc_version=$("$signcore" --version) || die "$signcore --version failed"

# ---- GNU time for peak RSS ---------------------------------------------------
if [ ! -x /usr/bin/time ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		note "/usr/bin/time missing: installing Debian package 'time' for peak-RSS measurement"
		{ apt-get install -y time || { apt-get update && apt-get install -y time; }; } >"$work/apt.log" 2>&1 ||
			note "could not install 'time' (see $work/apt.log): peak RSS will not be reported"
	else
		note "/usr/bin/time missing (Debian package 'time'): peak RSS will not be reported"
	fi
fi

# ---- corpus ------------------------------------------------------------------
python3 "$root/tests/fixtures/mkfixtures.py" "$work/fixtures" >/dev/null
in="$work/fixtures/pages200.pdf"
[ -s "$in" ] || die "mkfixtures.py did not write $in"
npages=$(qpdf --show-npages "$in")
[ "$npages" = 200 ] || die "$in has $npages pages, expected 200"

# 10 fields spread over pages 1..200 (6 text, 2 checkbox, 1 date, 1 typed
# signature), in the empty strip under the body text of a Letter page.
# rect = x, y, width, height in points from the top-left as displayed.
spec="$work/spec10.json"
cat >"$spec" <<'EOF'
{"fields": [
 {"name": "full_name", "type": "text", "page": 1, "rect": [72, 732, 300, 22], "value": "Priya Sharma"},
 {"name": "company", "type": "text", "page": 23, "rect": [72, 732, 300, 22], "value": "Acme Pvt Ltd"},
 {"name": "email", "type": "text", "page": 45, "rect": [72, 732, 300, 22], "value": "priya.sharma@example.com"},
 {"name": "agree_terms", "type": "checkbox", "page": 67, "rect": [72, 736, 14, 14], "value": true},
 {"name": "address", "type": "text", "page": 89, "rect": [72, 732, 300, 22], "value": "12 MG Road, Bengaluru 560001"},
 {"name": "job_title", "type": "text", "page": 111, "rect": [72, 732, 300, 22], "value": "Director of Operations"},
 {"name": "agree_privacy", "type": "checkbox", "page": 133, "rect": [72, 736, 14, 14], "value": true},
 {"name": "reference", "type": "text", "page": 155, "rect": [72, 732, 300, 22], "value": "INV-2026-0042"},
 {"name": "signed_on", "type": "date", "page": 177, "rect": [72, 732, 200, 22], "value": "2026-11-21", "date_format": "%d %b %Y"},
 {"name": "signature", "type": "signature", "page": 200, "rect": [72, 722, 220, 44], "value": {"text": "Priya Sharma"}}
]}
EOF
# page:expected text, for the checks below (checkboxes are checked by count).
expect=(
	"1:Priya Sharma" "23:Acme Pvt Ltd" "45:priya.sharma@example.com"
	"89:12 MG Road, Bengaluru 560001" "111:Director of Operations"
	"155:INV-2026-0042" "177:21 Nov 2026" "200:Priya Sharma"
)

# ---- pdf-lib peer ------------------------------------------------------------
pdflib_ver=
node_ver=
if [ "$peer" = 1 ]; then
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		note "SKIPPING pdf-lib peer: node/npm not installed (Debian packages nodejs npm)"
		peer=0
	else
		want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dependencies"]["pdf-lib"])' "$here/package.json")
		have=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
			"$here/node_modules/pdf-lib/package.json" 2>/dev/null || true)
		if [ "$have" != "$want" ]; then
			note "installing pdf-lib $want with npm into $here/node_modules"
			if ! npm install --prefix "$here" --no-audit --no-fund >"$work/npm.log" 2>&1; then
				note "SKIPPING pdf-lib peer: 'npm install' failed (registry unreachable?), see $work/npm.log"
				peer=0
			fi
		fi
		if [ "$peer" = 1 ]; then
			pdflib_ver=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
				"$here/node_modules/pdf-lib/package.json")
			node_ver=$(node --version)
		fi
	fi
fi

# ---- verify outputs before timing them -----------------------------------------
fail=0
check_out() { # tool file
	local tool=$1 out=$2 rc=0 e page text got
	qpdf --check "$out" >"$out.qpdf-check" 2>&1 || rc=$?
	if [ "$rc" != 0 ]; then
		note "FAIL $tool: qpdf --check exited $rc (see $out.qpdf-check)"; fail=1
	fi
	[ "$(qpdf --show-npages "$out")" = 200 ] || { note "FAIL $tool: output does not have 200 pages"; fail=1; }
	for e in "${expect[@]}"; do
		page=${e%%:*} text=${e#*:}
		got=$(pdftotext -q -layout -f "$page" -l "$page" "$out" - 2>/dev/null || true)
		if ! grep -qF -- "$text" <<<"$got"; then
			note "FAIL $tool: page $page does not show \"$text\""; fail=1
		fi
	done
	# Flattened: no fields and no widget annotations left.
	if ! python3 - "$out" <<'EOF'
import json, subprocess, sys
j = json.loads(subprocess.run(["qpdf", "--json", "--json-key=acroform", "--json-key=pages", sys.argv[1]],
                              capture_output=True, check=True).stdout)
fields = j["acroform"]["fields"]
widgets = sum(1 for p in j["pages"] for a in p.get("annotations", []) if a.get("object"))
sys.exit("%d fields, %d annotations left" % (len(fields), widgets) if fields or widgets else 0)
EOF
	then note "FAIL $tool: output is not flattened"; fail=1; fi
}
sc_out="$work/out-signcore.pdf"
rm -f "$sc_out"
"$signcore" stamp "$in" "$spec" -o "$sc_out" || die "signcore stamp failed"
check_out signcore "$sc_out"
if [ "$peer" = 1 ]; then
	pl_out="$work/out-pdflib.pdf"
	rm -f "$pl_out"
	node "$here/stamp-pdflib.mjs" "$in" "$spec" "$pl_out" || die "stamp-pdflib.mjs failed"
	check_out pdf-lib "$pl_out"
	# pdftotext warnings on the pdf-lib output are worth knowing about.
	pdftotext "$pl_out" /dev/null 2>"$work/pdflib-pdftotext.err" || true
	if [ -s "$work/pdflib-pdftotext.err" ]; then
		note "note: poppler complains about the pdf-lib output ($(wc -l <"$work/pdflib-pdftotext.err") lines, e.g. \"$(head -n1 "$work/pdflib-pdftotext.err")\")"
	fi
fi
[ "$fail" = 0 ] || die "output checks failed: not timing"
note "outputs verified: qpdf --check clean, 200 pages, values on their pages, flattened"

# ---- time --------------------------------------------------------------------------
cases="$work/cases.json"
python3 - "$cases" "$signcore" "$in" "$spec" "$work" "$peer" "$here" "${pdflib_ver:-}" <<'EOF'
import json, sys
cases_path, sc, inp, spec, work, peer, here, plv = sys.argv[1:]
op = "stamp 10 fields + flatten, 200 pages"
cases = [
    {"op": op, "tool": "signcore stamp", "ref": True, "rss": True,
     "cmd": [sc, "stamp", inp, spec, "-o", work + "/t-signcore.pdf"]},
]
if peer == "1":
    cases.append({"op": op, "tool": "pdf-lib %s (node)" % plv, "role": "peer", "rss": True,
                  "cmd": ["node", here + "/stamp-pdflib.mjs", inp, spec, work + "/t-pdflib.pdf"]})
cases += [
    {"op": "floor: process start", "tool": "signcore --version", "role": "version", "rss": True,
     "cmd": [sc, "--version"]},
    {"op": "floor: SHA-256 of the input", "tool": "openssl dgst -sha256", "rss": False,
     "cmd": ["openssl", "dgst", "-sha256", inp]},
]
if peer == "1":
    cases.append({"op": "floor: process start", "tool": "node -e ''", "rss": True,
                  "cmd": ["node", "-e", ""]})
json.dump(cases, open(cases_path, "w"), indent=1)
EOF

check_busy
note "timing: $runs runs per command (interleaved) after $warmup warm-ups"
python3 "$here/bench.py" --runs "$runs" --warmup "$warmup" --cases "$cases" \
	--out "$work/table.md" --json "$work/results.json" >/dev/null

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
{
	echo "Machine: nproc $(nproc), CPU $cpu, kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), CPUs ${busy}% busy with other work just before timing."
	echo "Input: pages200.pdf ($(stat -c %s "$in") bytes, 200 Letter pages); outputs: signcore $(stat -c %s "$sc_out") bytes$( [ "$peer" = 1 ] && echo ", pdf-lib $(stat -c %s "$pl_out") bytes")."
	echo "Tools: $sc_version ($signcore)$( [ "$peer" = 1 ] && echo "; pdf-lib $pdflib_ver on node $node_ver")."
	echo
	cat "$work/table.md"
} >"$work/results.md"
echo
cat "$work/results.md"
