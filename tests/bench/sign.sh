#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# tests/bench/sign.sh [--signcore PATH] [--runs N] [--warmup N]
#                     [--inproc-runs N] [--no-peer]
#
# Times `signcore sign` (PAdES B-B, RSA-2048, SHA-256) on a 1-page and a
# 200-page PDF, as whole processes, against the floor `openssl dgst -sha256
# -sign` of the same file, with mutool sign (MuPDF CLI) and @signpdf/signpdf
# + pdf-lib (Node) as references; then in-process (libsigncore, key loaded
# once) against SHA-256 + one RSA signature done with libcrypto in the same
# program; and the peak RSS. Prints a markdown table and writes it to
# tests/bench/out/sign.md, raw samples to tests/bench/out/sign.json. See
# README.md beside this script. Never run by `make check`.
#
# --signcore PATH   the signcore binary (default: $SIGNCORE, else the in-tree
#                   tools/signcore, else `signcore` on PATH, else build one out
#                   of tree in tests/bench/out/build). A libtool wrapper is
#                   resolved to the real binary in .libs/.
# --runs N          timed whole-process runs per command (default 15), after
#                   --warmup N (default 2).
# --inproc-runs N   in-process iterations per file (default 100, 5 warm-ups).
# --no-peer         skip mutool and @signpdf/signpdf.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/out"
work="$out/sign"
runs=15
warmup=2
inproc_runs=100
signcore="${SIGNCORE:-}"
peer=1

die() { echo "sign.sh: $*" >&2; exit 1; }
note() { echo "sign.sh: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--signcore) [ $# -ge 2 ] || die "--signcore needs a path"; signcore=$2; shift 2 ;;
	--signcore=*) signcore=${1#*=}; shift ;;
	--runs) [ $# -ge 2 ] || die "--runs needs a number"; runs=$2; shift 2 ;;
	--runs=*) runs=${1#*=}; shift ;;
	--warmup) [ $# -ge 2 ] || die "--warmup needs a number"; warmup=$2; shift 2 ;;
	--warmup=*) warmup=${1#*=}; shift ;;
	--inproc-runs) [ $# -ge 2 ] || die "--inproc-runs needs a number"; inproc_runs=$2; shift 2 ;;
	--inproc-runs=*) inproc_runs=${1#*=}; shift ;;
	--no-peer) peer=0; shift ;;
	-h|--help) sed -n '3,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument: $1 (try --help)" ;;
	esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs: expected a positive integer"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "--warmup: expected a number"
[[ "$inproc_runs" =~ ^[1-9][0-9]*$ ]] || die "--inproc-runs: expected a positive integer"

for t in python3 qpdf pdfsig openssl cc; do
	command -v "$t" >/dev/null || die "$t is required (Debian packages: python3 qpdf poppler-utils openssl gcc libssl-dev)"
done
rm -rf "$work"
mkdir -p "$work"

# ---- signcore ------------------------------------------------------------
timed_from=
. "$here/lib.sh"
resolve_signcore
export SIGNCORE_FONT_DIR="${SIGNCORE_FONT_DIR:-$root/fonts}"
sc_version=$("$signcore" --version) || die "$signcore --version failed"
# Which source the numbers belong to, when timing a build of this tree.
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
	rev=$(git -C "$root" rev-parse --short HEAD)
	[ -z "$(git -C "$root" status --porcelain -- libsigncore tools 2>/dev/null)" ] || rev="$rev + uncommitted changes in libsigncore/ or tools/"
	sc_version="$sc_version, tree at $rev"
fi

# The library sign_inproc links with: the one the wrapper names, else the
# in-tree build.
inproc=1
if [ -z "$libdir" ] || [ ! -e "${libdir%%:*}/libsigncore.so" ]; then
	libdir="$root/libsigncore/.libs"
fi
libdir=${libdir%%:*}
if [ ! -e "$libdir/libsigncore.so" ]; then
	note "SKIPPING in-process rows: no libsigncore.so in $libdir (build the tree with make)"
	inproc=0
else
	# Time a copy of the build (library, and the program when it came from
	# a libtool wrapper of the same build), so that a rebuild of the tree
	# while the benchmark runs can neither break nor change what is timed.
	soname=$(readelf -d "$libdir/libsigncore.so" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
	soname=${soname:-libsigncore.so.0}
	mkdir -p "$work/lib"
	cp -L "$libdir/$soname" "$work/lib/$soname" || die "cannot copy $libdir/$soname"
	ln -s "$soname" "$work/lib/libsigncore.so"
	libdir="$work/lib"
	if [ -n "$wrapped" ]; then
		mkdir -p "$work/bin"
		cp "$signcore" "$work/bin/signcore"
		timed_from="copy of ${signcore#"$root"/}"
		signcore="$work/bin/signcore"
	fi
	export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

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
in200="$work/pages200.pdf"
in1="$work/page1.pdf"
cp "$work/fixtures/pages200.pdf" "$in200"
qpdf "$work/fixtures/plain.pdf" --pages "$work/fixtures/plain.pdf" 1 -- "$in1" ||
	die "qpdf could not cut page 1 out of plain.pdf"
[ "$(qpdf --show-npages "$in1")" = 1 ] || die "$in1 does not have 1 page"
[ "$(qpdf --show-npages "$in200")" = 200 ] || die "$in200 does not have 200 pages"

# ---- credentials -----------------------------------------------------------------
cred="$work/cred"
mkdir -p "$cred"
key="$cred/key.pem" cert="$cred/cert.pem" p12="$cred/cert.p12" passfile="$cred/password.txt"
pass=bench-p12-password
printf '%s\n' "$pass" >"$passfile"
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -keyout "$key" -out "$cert" -days 365 \
	-subj "/CN=signcore bench signer" \
	-addext "keyUsage=critical,digitalSignature,nonRepudiation" \
	-addext "basicConstraints=critical,CA:FALSE" >"$cred/openssl.log" 2>&1 ||
	die "openssl req failed, see $cred/openssl.log"
openssl pkcs12 -export -inkey "$key" -in "$cert" -name "signcore bench signer" \
	-out "$p12" -passout "file:$passfile" >>"$cred/openssl.log" 2>&1 ||
	die "openssl pkcs12 failed, see $cred/openssl.log"

# ---- outputs checked before timing ----------------------------------------------
fail=0
check_sig() { # what file [qpdf]
	local what=$1 f=$2 rc=0
	pdfsig "$f" >"$f.pdfsig" 2>&1 || true
	if ! grep -q 'Signature is Valid' "$f.pdfsig"; then
		note "FAIL $what: pdfsig does not say \"Signature is Valid\" (see $f.pdfsig)"; fail=1
	fi
	[ "${3:-qpdf}" = qpdf ] || return 0
	qpdf --check "$f" >"$f.qpdf-check" 2>&1 || rc=$?
	if [ "$rc" != 0 ]; then
		note "FAIL $what: qpdf --check exited $rc (see $f.qpdf-check)"; fail=1
	fi
}
sc_visible=(--key "$key" --cert "$cert" --page 1 --rect "40,40,220,60" --reason Bench)
sc_p12=(--p12 "$p12" --password-file "$passfile" --page 1 --rect "40,40,220,60" --reason Bench)
sc_invisible=(--key "$key" --cert "$cert" --invisible --reason Bench)
"$signcore" sign "$in1" -o "$work/sc-visible-1.pdf" "${sc_visible[@]}" || die "signcore sign (1 page) failed"
"$signcore" sign "$in200" -o "$work/sc-visible-200.pdf" "${sc_visible[@]}" || die "signcore sign (200 pages) failed"
"$signcore" sign "$in1" -o "$work/sc-p12-1.pdf" "${sc_p12[@]}" || die "signcore sign --p12 failed"
"$signcore" sign "$in1" -o "$work/sc-invisible-1.pdf" "${sc_invisible[@]}" || die "signcore sign --invisible failed"
for f in sc-visible-1 sc-visible-200 sc-p12-1 sc-invisible-1; do
	check_sig "signcore $f" "$work/$f.pdf"
	grep -q 'ETSI.CAdES.detached' "$work/$f.pdf.pdfsig" || { note "FAIL signcore $f: not ETSI.CAdES.detached"; fail=1; }
done

shm=
# ---- in-process program -------------------------------------------------------------
if [ "$inproc" = 1 ]; then
	if ! cc -O2 -I "$root/libsigncore" "$here/sign_inproc.c" -o "$work/sign_inproc" \
		-L "$libdir" -lsigncore -lcrypto >"$work/cc.log" 2>&1; then
		note "SKIPPING in-process rows: sign_inproc.c did not build, see $work/cc.log"
		inproc=0
	else
		# Scratch space on tmpfs for the in-process rows.
		shm=
		if [ -d /dev/shm ] && [ -w /dev/shm ]; then
			shm=$(mktemp -d /dev/shm/signcore-bench.XXXXXX)
			trap 'rm -rf "$shm"' EXIT
		fi
		for n in 1 200; do
			src="$in1"; [ "$n" = 200 ] && src="$in200"
			"$work/sign_inproc" "$key" "$cert" "$src" "$work/inproc-$n.pdf" 1 0 >/dev/null ||
				die "sign_inproc failed on $src"
			check_sig "sign_inproc ($n pages)" "$work/inproc-$n.pdf"
		done
	fi
fi

# ---- peers -----------------------------------------------------------------------------
mutool_ver="" signpdf_ver="" pdflib_ver="" node_ver=""
unavailable=("pyHanko=not available: not installable here (no PyPI registry; not packaged in Debian)")
mutool_ok=0 node_ok=0
if [ "$peer" = 1 ]; then
	# mutool sign signs an existing empty signature field: place one.
	if command -v mutool >/dev/null; then
		mutool_ver=$(mutool -v 2>&1 | sed -n 's/^mutool version //p' | head -n1)
		printf '%s\n' '{"fields":[{"name":"sig","type":"signature","page":1,"rect":[40,40,220,60]}]}' >"$work/sigfield.json"
		mutool_ok=1
		for n in 1 200; do
			src="$in1"; [ "$n" = 200 ] && src="$in200"
			"$signcore" place "$src" "$work/sigfield.json" -o "$work/withfield-$n.pdf" ||
				die "signcore place failed on $src"
			objnum=
			for r in $(mutool show "$work/withfield-$n.pdf" Root/AcroForm/Fields | grep -o '[0-9]\+ 0 R' | cut -d' ' -f1); do
				if mutool show "$work/withfield-$n.pdf" "$r" | tr '\n' ' ' | grep -q '/FT */Sig.*/T *(sig)\|/T *(sig).*/FT */Sig'; then
					objnum=$r; break
				fi
			done
			[ -n "$objnum" ] || die "withfield-$n.pdf: cannot find the object number of field 'sig'"
			eval "mutool_obj_$n=$objnum"
			if ! mutool sign -s "$p12" -P "$pass" -o "$work/mutool-$n.pdf" "$work/withfield-$n.pdf" "$objnum" \
				>"$work/mutool-$n.log" 2>&1; then
				note "SKIPPING mutool: mutool sign failed, see $work/mutool-$n.log"; mutool_ok=0; break
			fi
			pdfsig "$work/mutool-$n.pdf" >"$work/mutool-$n.pdf.pdfsig" 2>&1 || true
			if ! grep -q 'Signature is Valid' "$work/mutool-$n.pdf.pdfsig"; then
				note "note: pdfsig does not call mutool's signature valid ($work/mutool-$n.pdf.pdfsig)"
			fi
		done
	else
		note "SKIPPING mutool: not installed (Debian package mupdf-tools)"
		unavailable+=("mutool sign=not available: mupdf-tools not installed")
	fi
	[ "$mutool_ok" = 1 ] || [ -z "$mutool_ver" ] || unavailable+=("mutool sign=not available: mutool sign failed")

	# @signpdf/signpdf v3 + pdf-lib under node.
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		note "SKIPPING @signpdf/signpdf: node/npm not installed (Debian packages nodejs npm)"
		unavailable+=("@signpdf/signpdf=not available: node/npm not installed")
	else
		missing=$(python3 - "$here" <<'EOF'
import json, os, sys
here = sys.argv[1]
deps = json.load(open(os.path.join(here, "package.json")))["dependencies"]
for name in ("pdf-lib", "@signpdf/signpdf", "@signpdf/placeholder-pdf-lib", "@signpdf/signer-p12"):
    try:
        have = json.load(open(os.path.join(here, "node_modules", name, "package.json")))["version"]
    except OSError:
        have = None
    if have != deps.get(name):
        print(name)
EOF
)
		node_ok=1
		if [ -n "$missing" ]; then
			note "installing $(tr "\n" " " <<<"$missing")with npm into $here/node_modules"
			if ! npm install --prefix "$here" --no-audit --no-fund >"$work/npm.log" 2>&1; then
				note "SKIPPING @signpdf/signpdf: 'npm install' failed (registry unreachable?), see $work/npm.log"
				unavailable+=("@signpdf/signpdf=not available: npm install failed")
				node_ok=0
			fi
		fi
		if [ "$node_ok" = 1 ]; then
			ver() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$here/node_modules/$1/package.json"; }
			signpdf_ver=$(ver @signpdf/signpdf)
			pdflib_ver=$(ver pdf-lib)
			node_ver=$(node --version)
			for n in 1 200; do
				src="$in1"; [ "$n" = 200 ] && src="$in200"
				node "$here/sign-signpdf.mjs" "$src" "$p12" "$passfile" "$work/signpdf-$n.pdf" ||
					die "sign-signpdf.mjs failed on $src"
				check_sig "@signpdf/signpdf ($n pages)" "$work/signpdf-$n.pdf" no-qpdf
			done
		fi
	fi
fi
[ "$fail" = 0 ] || die "output checks failed: not timing"
note "outputs verified: pdfsig \"Signature is Valid\" for every signcore and signpdf output, qpdf --check clean for signcore's"

# ---- time --------------------------------------------------------------------------------
cases="$work/cases.json"
python3 - "$cases" "$signcore" "$work" "$here" "$in1" "$in200" "$key" "$cert" "$p12" "$passfile" "$pass" \
	"$inproc" "$inproc_runs" "$mutool_ok" "${mutool_obj_1:-}" "${mutool_obj_200:-}" "$node_ok" \
	"${mutool_ver:-}" "${signpdf_ver:-}" "${pdflib_ver:-}" "$shm" <<'EOF'
import json, sys
(cases_path, sc, work, here, in1, in200, key, cert, p12, passfile, pw, inproc, inproc_runs,
 mutool_ok, mobj1, mobj200, node_ok, mutool_ver, signpdf_ver, pdflib_ver, shm) = sys.argv[1:]
files = {"1": in1, "200": in200}
pages = {"1": "1 page", "200": "200 pages"}
vis = ["--page", "1", "--rect", "40,40,220,60", "--reason", "Bench"]
cases = []
def proc(id, op, tool, cmd, floor, **kw):
    # Every signer writes a new output file each run ("fresh": removed
    # before the run, untimed), as when a batch signs documents one by one.
    if "-o" in cmd and "fresh" not in kw:
        kw["fresh"] = cmd[cmd.index("-o") + 1]
    cases.append(dict(id=id, kind="process", op=op, tool=tool, cmd=cmd, floor=floor, rss=True, **kw))
for n in ("1", "200"):
    proc("floor-%s" % n, "floor: SHA-256 + RSA-2048 signature, %s" % pages[n],
         "openssl dgst -sha256 -sign", ["openssl", "dgst", "-sha256", "-sign", key, "-out", "/dev/null", files[n]],
         "floor-%s" % n)
proc("version", "process start, no work", "signcore --version", [sc, "--version"], "floor-1")
for n in ("1", "200"):
    proc("visible-%s" % n, "B-B visible, %s" % pages[n], "signcore sign --key/--cert",
         [sc, "sign", files[n], "-o", "%s/t-visible-%s.pdf" % (work, n), "--key", key, "--cert", cert] + vis,
         "floor-%s" % n, target={"max_ratio": 1.5, **({"max_rss_mb": 16} if n == "200" else {})})
# Over the previous run's output: ext4 then starts writing the new file
# back during the rename (auto_da_alloc), on the signer's time.
proc("visible-200-replace", "B-B visible, 200 pages, replacing the last output", "signcore sign --key/--cert",
     [sc, "sign", in200, "-o", "%s/t-visible-200-replace.pdf" % work, "--key", key, "--cert", cert] + vis,
     "floor-200", fresh=None, target={"max_ratio": 1.5})
proc("p12-1", "B-B visible, 1 page", "signcore sign --p12",
     [sc, "sign", in1, "-o", work + "/t-p12-1.pdf", "--p12", p12, "--password-file", passfile] + vis, "floor-1")
proc("invisible-1", "B-B invisible, 1 page", "signcore sign --invisible",
     [sc, "sign", in1, "-o", work + "/t-invisible-1.pdf", "--key", key, "--cert", cert, "--invisible",
      "--reason", "Bench"], "floor-1")
if mutool_ok == "1":
    for n, obj in (("1", mobj1), ("200", mobj200)):
        proc("mutool-%s" % n, "adbe.pkcs7 SHA-1, visible, existing field, %s" % pages[n],
             "mutool sign %s (reference)" % mutool_ver,
             ["mutool", "sign", "-s", p12, "-P", pw, "-o", "%s/t-mutool-%s.pdf" % (work, n),
              "%s/withfield-%s.pdf" % (work, n), obj], "floor-%s" % n)
if node_ok == "1":
    for n in ("1", "200"):
        proc("signpdf-%s" % n, "adbe.pkcs7 SHA-256, invisible, full rewrite, %s" % pages[n],
             "@signpdf/signpdf %s + pdf-lib %s (node)" % (signpdf_ver, pdflib_ver),
             ["node", here + "/sign-signpdf.mjs", files[n], p12, passfile, "%s/t-signpdf-%s.pdf" % (work, n)],
             "floor-%s" % n, fresh="%s/t-signpdf-%s.pdf" % (work, n))
if inproc == "1":
    for n in ("1", "200"):
        cases.append(dict(id="inproc-%s" % n, kind="inproc",
                          op="B-B invisible: open + sign + free, %s" % pages[n],
                          tool="libsigncore signcore_sign",
                          floor_op="floor: read + SHA-256 + RSA-2048, %s" % pages[n],
                          floor_tool="libcrypto EVP_DigestSign",
                          cmd=[work + "/sign_inproc", key, cert, files[n], "%s/t-inproc-%s.pdf" % (work, n),
                               inproc_runs, "5"],
                          target={"max_ratio": 2.0}))
    # The same with the output on tmpfs, where creating, writing and
    # renaming a file costs no file-system journal: for scale only.
    if shm:
        for n in ("1", "200"):
            cases.append(dict(id="inproc-shm-%s" % n, kind="inproc",
                              op="same, output on tmpfs, %s" % pages[n],
                              tool="libsigncore signcore_sign",
                              floor_op="floor: read + SHA-256 + RSA-2048, %s (same program run)" % pages[n],
                              floor_tool="libcrypto EVP_DigestSign",
                              cmd=[work + "/sign_inproc", key, cert, files[n], "%s/t-inproc-%s.pdf" % (shm, n),
                                   inproc_runs, "5"]))
json.dump(cases, open(cases_path, "w"), indent=1)
EOF

check_busy
note "timing: $runs runs per command (interleaved) after $warmup warm-ups; in-process $inproc_runs iterations"
unavail_args=()
for u in "${unavailable[@]}"; do unavail_args+=(--unavailable "$u"); done
python3 "$here/sign_bench.py" --runs "$runs" --warmup "$warmup" --cases "$cases" \
	--out "$work/table.md" --json "$out/sign.json" "${unavail_args[@]}" >/dev/null

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
sizes() { local f s=; for f in "$@"; do [ -e "$work/$f" ] && s="$s${s:+, }${f%.pdf} $(stat -c %s "$work/$f")"; done; echo "$s"; }
{
	echo "Machine: nproc $(nproc), CPU ${cpu:-unknown}, kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), CPUs ${busy}% busy with other work just before timing."
	echo "Inputs: page1.pdf ($(stat -c %s "$in1") bytes, 1 page, page 1 of mkfixtures' plain.pdf), pages200.pdf ($(stat -c %s "$in200") bytes, 200 Letter pages). Key: RSA-2048, self-signed certificate (keyUsage digitalSignature, nonRepudiation)."
	echo "Outputs (bytes): $(sizes sc-visible-1.pdf sc-visible-200.pdf sc-invisible-1.pdf mutool-1.pdf mutool-200.pdf signpdf-1.pdf signpdf-200.pdf)."
	echo "Tools: $sc_version (${timed_from:-${signcore#"$root"/}}); $(openssl version | cut -d' ' -f1-2)$( [ -n "$mutool_ver" ] && echo "; mutool $mutool_ver")$( [ -n "$signpdf_ver" ] && echo "; @signpdf/signpdf $signpdf_ver + pdf-lib $pdflib_ver on node $node_ver"); pyHanko not available."
	echo
	cat "$work/table.md"
} >"$out/sign.md"
echo
cat "$out/sign.md"
