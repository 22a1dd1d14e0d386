# Shared helpers of the end-to-end tests (sourced, bash).
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Every test script starts with
#   [ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
#   . "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
# and ends with `finish`.  The environment (set by `make check`) gives
#   SIGNCORE           the signcore command
#   FIXTURES           directory of the fixtures (tests/fixtures/mkfixtures.py)
#   SRCDIR             the source tree
#   SIGNCORE_FONT_DIR  the bundled fonts
# Missing values are guessed for manual runs from a build directory.
#
# A failed check does not stop the script: `fail` reports it and the script
# goes on, so one run lists every problem; `finish` exits 1 if anything
# failed.  Exit 77 (automake's SKIP) when a required tool is missing.

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SIGNCORE=${SIGNCORE:-$PWD/tools/signcore}
SIGNCORE_FONT_DIR=${SIGNCORE_FONT_DIR:-$SRCDIR/fonts}
export SRCDIR SIGNCORE SIGNCORE_FONT_DIR
LC_ALL=C.UTF-8
export LC_ALL
TEST_NAME=$(basename "$0" .sh)
FAILURES=0
CHECKS=0

note() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

fail()
{
	FAILURES=$((FAILURES + 1))
	printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
	return 1
}

pass() { CHECKS=$((CHECKS + 1)); }

skip_all()
{
	printf '%s: SKIP: %s\n' "$TEST_NAME" "$*" >&2
	exit 77
}

# need_cmd CMD... — skip the whole script unless every CMD exists.
need_cmd()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "$c is not installed"
	done
}

finish()
{
	if [ "$FAILURES" -gt 0 ]; then
		note "$FAILURES check(s) failed ($CHECKS passed)"
		exit 1
	fi
	note "all $CHECKS checks passed"
	exit 0
}

[ -x "$SIGNCORE" ] || { echo "$TEST_NAME: SIGNCORE=$SIGNCORE is not executable" >&2; exit 1; }
need_cmd qpdf python3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/signcore-e2e-$TEST_NAME.XXXXXX") || exit 1
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM HUP

# Fixtures: use $FIXTURES when it holds them, else build a private set.
if [ -z "$FIXTURES" ] || [ ! -f "$FIXTURES/plain.pdf" ]; then
	FIXTURES=$WORK/fixtures
	python3 "$SRCDIR/tests/fixtures/mkfixtures.py" "$FIXTURES" >/dev/null ||
		{ echo "$TEST_NAME: cannot build the fixtures" >&2; exit 1; }
fi
export FIXTURES
PIXELS="python3 $SRCDIR/tests/e2e/pixels.py"
RUN_OUT=$WORK/run.stdout
RUN_ERR=$WORK/run.stderr

# run CMD... — run a command, stdout to $RUN_OUT, stderr to $RUN_ERR;
# sets RC.  Never fails by itself.
run()
{
	"$@" >"$RUN_OUT" 2>"$RUN_ERR"
	RC=$?
	return 0
}

show_err() { sed 's/^/    | /' "$RUN_ERR" >&2; }

# expect_exit CODE CMD... — run CMD; check its exit status is CODE.  For a
# non-zero CODE, standard error must be exactly one line starting
# "signcore: " (not a note); for 0, standard error must hold nothing but
# "signcore: note: " lines.  ERRMSG holds the message.  Returns 1 (after
# `fail`) on a mismatch.
expect_exit()
{
	local want=$1 nl
	shift
	run "$@"
	ERRMSG=$(cat "$RUN_ERR")
	if [ "$RC" -ne "$want" ]; then
		fail "expected exit $want, got $RC: $*"
		show_err
		return 1
	fi
	if [ "$want" -ne 0 ]; then
		nl=$(wc -l <"$RUN_ERR")
		if [ "$nl" -ne 1 ] || ! head -n1 "$RUN_ERR" | grep -q '^signcore: '; then
			fail "stderr is not one 'signcore: ' line: $*"
			show_err
			return 1
		fi
		if grep -q '^signcore: note: ' "$RUN_ERR"; then
			fail "error reported as a note: $*"
			show_err
			return 1
		fi
	elif grep -v '^signcore: note: ' "$RUN_ERR" | grep -q .; then
		fail "unexpected stderr output from a successful run: $*"
		show_err
		return 1
	fi
	pass
	return 0
}

# ok CMD... — CMD must succeed (shorthand for expect_exit 0).
ok() { expect_exit 0 "$@"; }

# err_has REGEX — the last error message matches the extended REGEX
# (case-insensitive).
err_has()
{
	if printf '%s\n' "$ERRMSG" | grep -qiE -- "$1"; then
		pass
	else
		fail "message does not match /$1/: $ERRMSG"
	fi
}

assert_no_file()
{
	if [ -e "$1" ]; then fail "file should not exist: $1"; else pass; fi
}

assert_file()
{
	if [ -s "$1" ]; then pass; else fail "missing or empty file: $1"; fi
}

# assert_no_temp DIR — nothing that looks like a signcore temp file
# (.NAME.XXXXXX or any other hidden file) is left in DIR.
assert_no_temp()
{
	local left
	left=$(find "$1" -maxdepth 1 -name '.*' ! -name . ! -name .. 2>/dev/null)
	if [ -n "$left" ]; then fail "stray temp files in $1: $left"; else pass; fi
}

# qpdf_ok FILE [PASSWORD] — qpdf --check exits 0 and prints no WARNING.
qpdf_ok()
{
	local out rc
	if [ -n "$2" ]; then
		out=$(qpdf --password="$2" --check "$1" 2>&1)
	else
		out=$(qpdf --check "$1" 2>&1)
	fi
	rc=$?
	if [ "$rc" -ne 0 ] || printf '%s\n' "$out" | grep -qi 'warning'; then
		fail "qpdf --check of $1 (exit $rc): $(printf '%s\n' "$out" | grep -iE 'warning|error' | head -n3)"
		return 1
	fi
	pass
}

# text FILE [PASSWORD] — pdftotext of FILE to stdout (layout kept off).
text()
{
	if [ -n "$2" ]; then
		pdftotext -upw "$2" "$1" - 2>/dev/null
	else
		pdftotext "$1" - 2>/dev/null
	fi
}

# text_has FILE STRING [PASSWORD] / text_lacks FILE STRING [PASSWORD]
text_has()
{
	if text "$1" "$3" | grep -qF -- "$2"; then pass; else fail "text of $1 lacks '$2'"; fi
}

text_lacks()
{
	if text "$1" "$3" | grep -qF -- "$2"; then fail "text of $1 still has '$2'"; else pass; fi
}

sum() { cksum <"$1" | cut -d' ' -f1,2; }

size() { wc -c <"$1" | tr -d ' '; }

# starts_with OUT IN — OUT begins with every byte of IN (an incremental
# update appends to the original).
starts_with() { cmp -s -n "$(size "$2")" "$1" "$2"; }

# json_get FILE PYEXPR — evaluate PYEXPR on the parsed JSON `j` of FILE.
json_get()
{
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# info_json PDF [signcore options] — `signcore info --json` to $WORK/info.json.
info_json()
{
	local f=$1
	shift
	"$SIGNCORE" info "$f" --json "$@" >"$WORK/info.json" 2>"$RUN_ERR" ||
		{ fail "signcore info $f failed"; show_err; return 1; }
}

# field_names PDF — the field names `signcore info --json` lists, one a line.
field_names()
{
	info_json "$1" && json_get "$WORK/info.json" '"\n".join(f["name"] for f in j["fields"])'
}

# pdfq PDF PASSWORD PYEXPR — evaluate PYEXPR over qpdf's JSON view of PDF
# (an independent reader).  In PYEXPR: `j` is the qpdf --json document,
# `obj(ref)` resolves "N G R" strings, `catalog`, `pages` (page dicts),
# `annots(page)` (annotation dicts).  PASSWORD may be empty.
pdfq()
{
	local f=$1 pw=$2 expr=$3
	if [ -n "$pw" ]; then
		qpdf --password="$pw" --json "$f" 2>/dev/null
	else
		qpdf --json "$f" 2>/dev/null
	fi | python3 -c '
import json, sys
j = json.load(sys.stdin)
objs = j["qpdf"][1]
def obj(x):
    while isinstance(x, str) and x.endswith(" R"):
        o = objs.get("obj:" + x)
        if o is None:
            return None
        x = o.get("value", o.get("stream", {}).get("dict"))
    return x
trailer = objs["trailer"]["value"]
catalog = obj(trailer["/Root"])
pages = [obj(p["object"]) for p in j["pages"]]
def annots(pg):
    return [obj(a) for a in (obj(pg.get("/Annots")) or [])]
def text(v):
    return v[2:] if isinstance(v, str) and v[:2] in ("u:", "b:") else v
def field_dicts(kids=None, prefix=""):
    """(full name, dict) of every named field dictionary in the AcroForm."""
    if kids is None:
        kids = obj((obj(catalog.get("/AcroForm")) or {}).get("/Fields")) or []
    out = []
    for k in kids:
        d = obj(k) or {}
        name = prefix
        if "/T" in d:
            name = prefix + text(d["/T"])
            out.append((name, d))
        out += field_dicts(obj(d.get("/Kids")) or [], name + "." if "/T" in d else prefix)
    return out
print(eval(sys.argv[1]))' "$expr"
}

# acroform_fields PDF [PASSWORD] — "<qpdf's terminal fields> <entries of
# /AcroForm /Fields> <widget annotations on pages>", e.g. "0 0 0" after a
# full flatten.
acroform_fields()
{
	pdfq "$1" "$2" '"%d %d %d" % (len(j["acroform"]["fields"]),
	    len(obj((obj(catalog.get("/AcroForm")) or {}).get("/Fields")) or []),
	    sum(1 for pg in pages for a in annots(pg) if a.get("/Subtype") == "/Widget"))'
}

# annot_subtypes PDF — "page:/Subtype" for every annotation, sorted, one a line.
annot_subtypes()
{
	pdfq "$1" "" '"\n".join(sorted("%d:%s" % (n, a.get("/Subtype"))
	    for n, pg in enumerate(pages, 1) for a in annots(pg)))'
}

# field_tree PDF [PASSWORD] — full names of every field dictionary (terminal
# or not) reachable from /AcroForm /Fields, sorted, one a line (qpdf's view).
field_tree()
{
	pdfq "$1" "$2" '"\n".join(sorted(name for name, d in field_dicts()))'
}

# start_pki — the test PKI of tests/pki with its TSA, OCSP responder and CRL
# server on 127.0.0.1, in $PKI ($WORK/pki), stopped on exit; sources its
# env.sh (TSA_URL, ROOT_PEM, SIGNER_*, ...). Skips the script (77) when the
# servers cannot run here.
start_pki()
{
	PKI=$WORK/pki
	sh "$SRCDIR/tests/pki/setup.sh" "$PKI" >"$WORK/pki.log" 2>&1
	case $? in
	0) ;;
	77) skip_all "$(tail -n1 "$WORK/pki.log")" ;;
	*) cat "$WORK/pki.log" >&2; fail "test PKI setup"; finish ;;
	esac
	trap 'sh "$SRCDIR/tests/pki/teardown.sh" "$PKI" 2>/dev/null; chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
	. "$PKI/env.sh"
}
