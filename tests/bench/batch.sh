#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# tests/bench/batch.sh [--signcore PATH] [--runs N] [--docs N] [--peer-docs N]
#                      [--rss-jobs N] [--no-peer] [--no-big] [--no-rss]
#
# Batch benchmarks (see README.md beside this script):
#  1. N one-page documents (default 1,000), each stamped with 5 fields and
#     signed PAdES B-B: `signcore batch -j 2` (threads), `-j 1`, two
#     `signcore batch -j 1` processes on halves of the manifest; the openssl
#     floor (`openssl dgst -sha256 -sign` per document, two at a time, no
#     stamping); pdf-lib + @signpdf/signpdf in two warm Node processes.
#  2. A 100 MB, 5,000-page file signed B-B, whole process, against
#     `openssl dgst -sha256 -sign` of the same file; peak RSS.
#  3. RSS of `signcore batch -j 2` over a 10,000-job run (sampled).
# Prints markdown tables; writes tests/bench/out/batch.md and batch.json.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
work="$here/out/batch"
runs=3 docs=1000 peer_docs=200 rss_jobs=10000
signcore="${SIGNCORE:-}" peer=1 big=1 rss=1

die() { echo "batch.sh: $*" >&2; exit 1; }
note() { echo "batch.sh: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--signcore) signcore=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--docs) docs=$2; shift 2 ;;
	--peer-docs) peer_docs=$2; shift 2 ;;
	--rss-jobs) rss_jobs=$2; shift 2 ;;
	--no-peer) peer=0; shift ;;
	--no-big) big=0; shift ;;
	--no-rss) rss=0; shift ;;
	-h|--help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument: $1 (try --help)" ;;
	esac
done
for n in "$runs" "$docs" "$peer_docs" "$rss_jobs"; do
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "expected a positive integer, not $n"
done
for t in python3 qpdf openssl pdfsig; do
	command -v "$t" >/dev/null || die "$t is required (Debian: python3 qpdf openssl poppler-utils)"
done

. "$here/lib.sh"
resolve_signcore
export SIGNCORE_FONT_DIR="${SIGNCORE_FONT_DIR:-$root/fonts}"
sc_version=$("$signcore" --version)
rm -rf "$work"
mkdir -p "$work/docs" "$work/out"
cd "$work"

# ---- corpus and credentials ------------------------------------------------
note "making $docs one-page documents and a 100 MB, 5,000-page file"
python3 "$here/mkcorpus.py" small docs "$docs"
[ "$big" = 1 ] && python3 "$here/mkcorpus.py" big big.pdf 5000 100
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 -subj "/CN=Bench Signer" \
	-addext "keyUsage=critical,digitalSignature,nonRepudiation" -addext "basicConstraints=CA:FALSE" 2>/dev/null
echo bench-pass >p12.pass
openssl pkcs12 -export -inkey key.pem -in cert.pem -out cred.p12 -passout file:p12.pass
cp "$root/samples/batch-fields.json" spec5.json
# manifest JOBS N OUTDIR: N jobs over the corpus (round robin)
manifest()
{
	python3 - "$1" "$2" "$3" "$docs" <<'EOF'
import json, sys
path, n, outdir, ndocs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"input": "docs/d%04d.pdf" % (i % ndocs), "output": "%s/o%05d.pdf" % (outdir, i),
            "spec": "spec5.json",
            "values": {"full_name": "Person %d" % i, "company": "Acme %d" % i, "agree": True,
                       "signed_on": "2026-11-21", "signature": {"text": "Person %d" % i}},
            "sign": True}) + "\n")
EOF
}
manifest jobs.jsonl "$docs" out
head -n $((docs / 2)) jobs.jsonl >half1.jsonl
tail -n +$((docs / 2 + 1)) jobs.jsonl >half2.jsonl
CRED=(--key key.pem --cert cert.pem)

# ---- check the outputs before timing ------------------------------------------
"$signcore" batch jobs.jsonl "${CRED[@]}" -j 2 -q --report check.json || die "signcore batch failed (see check.json)"
for i in 0 $((docs / 2)) $((docs - 1)); do
	f=$(printf 'out/o%05d.pdf' "$i")
	qpdf --check "$f" >/dev/null 2>&1 || die "$f: qpdf --check failed"
	pdfsig "$f" 2>&1 | grep -q 'Signature Validation: Signature is Valid' || die "$f: pdfsig: not valid"
	pdftotext "$f" - | grep -q "Person $i" || die "$f: the stamped name is missing"
done
note "outputs checked: qpdf --check, pdfsig valid, stamped values present"

# ---- peers --------------------------------------------------------------------
peer_ok=0
if [ "$peer" = 1 ]; then
	if command -v node >/dev/null && [ -d "$here/node_modules/@signpdf/signpdf" ] && [ -d "$here/node_modules/pdf-lib" ]; then
		peer_ok=1
	elif command -v npm >/dev/null && npm install --prefix "$here" --no-audit --no-fund >"$work/npm.log" 2>&1; then
		peer_ok=1
	else
		note "SKIPPING pdf-lib + @signpdf: node or the packages are missing (npm install --prefix tests/bench)"
	fi
fi
if [ "$peer_ok" = 1 ]; then
	node "$here/batch-signpdf.mjs" jobs.jsonl 0 2 cred.p12 p12.pass || die "batch-signpdf.mjs failed"
	pdfsig out/o00000.signpdf.pdf 2>&1 | grep -q 'Signature Validation: Signature is Valid' ||
		die "the pdf-lib + @signpdf output does not verify"
	peer_ver="pdf-lib $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$here/node_modules/pdf-lib/package.json") + @signpdf/signpdf $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$here/node_modules/@signpdf/signpdf/package.json"), node $(node --version)"
fi

# ---- timed cases ------------------------------------------------------------------
python3 - "$signcore" "$docs" "$peer_ok" "$peer_docs" "$here" "$big" <<'EOF' >cases.json
import json, sys
sc, docs, peer, peer_docs, here, big = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4]), sys.argv[5], sys.argv[6] == "1"
g = "%d one-page docs: stamp 5 fields + PAdES B-B each" % docs
cred = ["--key", "key.pem", "--cert", "cert.pem"]
prep = ["sh", "-c", "rm -rf out && mkdir out"]
cases = [
    {"group": g, "tool": "signcore batch -j 2 (2 threads)", "ref": True, "rss": True, "docs": docs, "prep": prep,
     "cmds": [[sc, "batch", "jobs.jsonl", "-j", "2", "-q", "--report", "/dev/null"] + cred]},
    {"group": g, "tool": "signcore batch -j 1", "rss": True, "docs": docs, "prep": prep,
     "cmds": [[sc, "batch", "jobs.jsonl", "-j", "1", "-q", "--report", "/dev/null"] + cred]},
    {"group": g, "tool": "2 processes: signcore batch -j 1 on each half", "rss": True, "docs": docs, "prep": prep,
     "cmds": [[sc, "batch", h, "-j", "1", "-q", "--report", "/dev/null"] + cred for h in ("half1.jsonl", "half2.jsonl")]},
    {"group": g, "tool": "floor: openssl dgst -sha256 -sign, one process per doc, 2 at a time (no stamping)",
     "docs": docs, "cmds": [["sh", "-c", "ls docs/*.pdf | xargs -P 2 -n 1 openssl dgst -sha256 -sign key.pem -out /dev/null"]]},
]
if peer:
    half = peer_docs // 2
    cases.append({"group": g, "tool": "pdf-lib + @signpdf: 2 warm node processes (%d docs; not PAdES, no embedded fonts)" % (2 * half),
                  "docs": 2 * half, "rss": True, "cmds": [
        ["node", here + "/batch-signpdf.mjs", "jobs.jsonl", str(s), str(half), "cred.p12", "p12.pass"] for s in (0, half)]})
if big:
    b = "100 MB / 5,000-page file: B-B sign, whole process"
    cases += [
        {"group": b, "tool": "floor: openssl dgst -sha256 -sign", "ref": True, "rss": True,
         "cmds": [["openssl", "dgst", "-sha256", "-sign", "key.pem", "-out", "/dev/null", "big.pdf"]]},
        {"group": b, "tool": "signcore sign --invisible (output on disk)", "rss": True,
         "cmds": [[sc, "sign", "big.pdf", "-o", "big-signed.pdf", "--invisible"] + cred]},
    ]
json.dump(cases, sys.stdout, indent=1)
EOF
if [ "$big" = 1 ] && [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt 300000 ]; then
	shm=$(mktemp -d /dev/shm/signcore-bench.XXXXXX)
	trap 'rm -rf "$shm"' EXIT
	python3 - cases.json "$signcore" "$shm" <<'EOF'
import json, sys
path, sc, shm = sys.argv[1:]
cases = json.load(open(path))
cases.append({"group": "100 MB / 5,000-page file: B-B sign, whole process",
              "tool": "signcore sign --invisible (output on tmpfs)", "rss": True,
              "cmds": [[sc, "sign", "big.pdf", "-o", shm + "/big-signed.pdf", "--invisible", "--key", "key.pem", "--cert", "cert.pem"]]})
json.dump(cases, open(path, "w"), indent=1)
EOF
fi
check_busy
note "timing: $runs runs per case, interleaved"
python3 "$here/batch_bench.py" --cases cases.json --runs "$runs" --out table.md --json batch.json >/dev/null

# ---- RSS over a long batch ----------------------------------------------------------
rss_md=
if [ "$rss" = 1 ]; then
	note "RSS over $rss_jobs jobs (-j 2)"
	manifest jobs-long.jsonl "$rss_jobs" long
	rm -rf long && mkdir long
	"$signcore" batch jobs-long.jsonl "${CRED[@]}" -j 2 -q --report long.json &
	pid=$!
	: >rss.txt
	while kill -0 "$pid" 2>/dev/null; do
		r=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		[ -n "$r" ] && echo "$(ls long | wc -l) $r" >>rss.txt
		sleep 0.5
	done
	wait "$pid" || die "the $rss_jobs-job batch failed (see long.json)"
	rss_md=$(python3 - rss.txt "$rss_jobs" long.json <<'EOF'
import json, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
rep = json.load(open(sys.argv[3]))
def at(frac):
    want = n * frac
    return min(rows, key=lambda r: abs(r[0] - want))
a, b, c = at(0.1), at(0.5), rows[-1]
print("| jobs done | RSS MB |\n| ---: | ---: |")
for r in (a, b, c):
    print("| %d | %.1f |" % (r[0], r[1] / 1024))
print("\n%d jobs, %d ok, %.1f docs/s; RSS sampled every 0.5 s; growth from 10%% to the last sample: %+.1f MB"
      % (rep["jobs"], rep["ok"], rep["per_second"], (c[1] - a[1]) / 1024))
EOF
)
	rm -rf long
fi

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
{
	echo "Machine: nproc $(nproc), CPU $cpu, kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), CPUs ${busy}% busy with other work just before timing."
	echo "Tools: $sc_version ($signcore)${peer_ver:+; $peer_ver}; $(openssl version | cut -d' ' -f1,2)."
	echo
	cat table.md
	if [ -n "$rss_md" ]; then
		echo
		echo "RSS of \`signcore batch -j 2\` over $rss_jobs jobs (stamp 5 fields + B-B):"
		echo
		echo "$rss_md"
	fi
} >"$here/out/batch.md"
cp batch.json "$here/out/batch.json"
echo
cat "$here/out/batch.md"
