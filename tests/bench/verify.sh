#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# tests/bench/verify.sh [--signcore PATH] [--runs N] [--warmup N]
#
# Times `signcore verify` as a whole process on a 200-page PDF carrying three
# signatures (RSA, ECDSA P-256, then RSA at B-LT, so the file ends with a
# /DSS), against poppler's pdfsig on the same file in the same run. The
# signatures are made against the test PKI of tests/pki (a TSA and an OCSP
# responder on 127.0.0.1; stopped before timing, so nothing is fetched).
# Prints a markdown table and writes it to tests/bench/out/verify.md. Target
# (issue): at most 30 ms. Never run by `make check`.
#
# --signcore PATH   the signcore binary (as in sign.sh; a libtool wrapper is
#                   resolved to the real binary in .libs/).
# --runs N          timed runs per command (default 25), after --warmup N
#                   (default 3), interleaved round-robin.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/out"
work="$out/verify"
runs=25
warmup=3
signcore="${SIGNCORE:-}"

die() { echo "verify.sh: $*" >&2; exit 1; }
note() { echo "verify.sh: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--signcore) [ $# -ge 2 ] || die "--signcore needs a path"; signcore=$2; shift 2 ;;
	--runs) [ $# -ge 2 ] || die "--runs needs a number"; runs=$2; shift 2 ;;
	--warmup) [ $# -ge 2 ] || die "--warmup needs a number"; warmup=$2; shift 2 ;;
	-h|--help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument: $1 (try --help)" ;;
	esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs: expected a positive integer"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "--warmup: expected a number"
for t in python3 pdfsig openssl lighttpd certutil; do
	command -v "$t" >/dev/null || die "$t is required (Debian: python3 poppler-utils openssl lighttpd libnss3-tools)"
done

. "$here/lib.sh"
rm -rf "$work"
mkdir -p "$work"
resolve_signcore
export SIGNCORE_FONT_DIR="${SIGNCORE_FONT_DIR:-$root/fonts}"

python3 "$root/tests/fixtures/mkfixtures.py" "$work/fx" >/dev/null
sh "$root/tests/pki/setup.sh" "$work/pki" >"$work/pki.log" 2>&1 || die "test PKI setup failed, see $work/pki.log"
trap 'sh "$root/tests/pki/teardown.sh" "$work/pki" >/dev/null 2>&1 || true' EXIT
. "$work/pki/env.sh"
cd "$work"
"$signcore" sign fx/pages200.pdf -o s1.pdf --p12 "$SIGNER_RSA_P12" --password-file "$P12_PASS_FILE" \
	--page 1 --rect 40,40,220,60
"$signcore" sign s1.pdf -o s2.pdf --p12 "$SIGNER_P256_P12" --password-file "$P12_PASS_FILE" --page 100 --rect 40,40,220,60
"$signcore" sign s2.pdf -o input.pdf --p12 "$SIGNER_RSA_P12" --password-file "$P12_PASS_FILE" --page 200 \
	--rect 40,40,220,60 --level B-LT --tsa "$TSA_URL" --trust "$ROOT_PEM"
sh "$root/tests/pki/teardown.sh" "$work/pki" >/dev/null 2>&1
"$signcore" verify input.pdf --trust "$ROOT_PEM" -q >verdict.txt || die "the benchmark file does not verify: $(cat verdict.txt)"
pdfsig -nssdir "$NSSDB" input.pdf >pdfsig.txt 2>&1 || true
[ "$(grep -c 'Signature is Valid' pdfsig.txt)" -eq 3 ] || die "pdfsig does not find 3 valid signatures"
check_busy

python3 - "$runs" "$warmup" "$signcore" "$ROOT_PEM" "$NSSDB" "$out/verify.md" "$busy" <<'EOF'
import os, statistics, subprocess, sys, time
runs, warmup, signcore, root_pem, nssdb, md, busy = sys.argv[1:]
runs, warmup = int(runs), int(warmup)
cmds = [
    ("signcore verify", [signcore, "verify", "input.pdf", "--trust", root_pem, "-q"]),
    ("pdfsig (poppler)", ["pdfsig", "-nssdir", nssdb, "input.pdf"]),
]
samples = {name: [] for name, _ in cmds}
for i in range(warmup + runs):
    for name, argv in cmds:
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i >= warmup:
            samples[name].append((time.perf_counter() - t) * 1000)
def rss(argv):
    try:
        r = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        return "%.1f" % (int(r.stderr.strip().splitlines()[-1]) / 1024)
    except Exception:
        return "–"
base = statistics.median(samples["signcore verify"])
lines = [
    "Machine: nproc %d, %s; CPUs %s%% busy with other work just before timing." % (
        os.cpu_count(), os.uname().release, busy),
    "Input: pages200.pdf (200 pages) signed three times (RSA-2048, ECDSA P-256, RSA-2048 at B-LT: "
    "a /DSS with certificates, OCSP responses and CRLs), %d bytes, 5 revisions." % os.path.getsize("input.pdf"),
    "",
    "| tool | median ms | p90 ms | ratio vs signcore | peak RSS MB |",
    "| --- | ---: | ---: | ---: | ---: |",
]
for name, argv in cmds:
    s = sorted(samples[name])
    med = statistics.median(s)
    p90 = s[min(len(s) - 1, int(round(0.9 * len(s))) - 1)]
    lines.append("| %s | %.2f | %.2f | %.2f× | %s |" % (name, med, p90, med / base, rss(argv)))
lines += ["", "%d timed runs each after %d warm-ups, interleaved; wall time of the whole process." % (runs, warmup),
          "", "- signcore verify: %.2f ms — target ≤ 30 ms: %s" % (base, "MET" if base <= 30 else "MISSED")]
text = "\n".join(lines) + "\n"
open(md, "w").write(text)
print(text)
EOF
