#!/bin/sh
# Bad input to the signcore command: every case must exit 2 (1 for an
# unwritable output), print exactly one "signcore: " line that names the
# problem, and leave neither the output file nor a temp file behind.
# SPDX-License-Identifier: AGPL-3.0-or-later
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

F=$FIXTURES
S=$SIGNCORE
cd "$WORK" || exit 1
mkdir out
OUT=out/result.pdf

cat >ok.json <<'EOF'
{"fields": [{"name": "who", "type": "text", "page": 1,
             "rect": [72, 72, 200, 24], "value": "Ada Lovelace"}]}
EOF
cp "$F/fake.png" fake.png
echo wrong-password >wrong.pw
echo user-pw >good.pw
# Neutral names, so that a message matches because of its wording and not
# because it quotes the file name ("truncated.pdf", "empty.pdf").
cp "$F/truncated.pdf" input-t.pdf
cp "$F/empty.pdf" input-e.pdf
cp "$F/notapdf.pdf" input-n.pdf

# bad CODE REGEX CMD... — CMD exits CODE with one message matching REGEX,
# and leaves no output and no temp file in out/.
bad()
{
	code=$1 re=$2
	shift 2
	rm -f "$OUT"
	expect_exit "$code" "$@" && err_has "$re"
	assert_no_file "$OUT"
	assert_no_temp out
}

# --- the input PDF -----------------------------------------------------------
for cmd in place stamp; do
	bad 2 'nonexist\.pdf.*(no such file|not found|cannot open)' "$S" $cmd "$F/nonexist.pdf" ok.json -o $OUT
	bad 2 'empty' "$S" $cmd input-e.pdf ok.json -o $OUT
	bad 2 'not a PDF' "$S" $cmd input-n.pdf ok.json -o $OUT
	bad 2 'truncated' "$S" $cmd input-t.pdf ok.json -o $OUT
done
bad 2 'truncated' "$S" flatten input-t.pdf -o $OUT
bad 2 'truncated' "$S" info input-t.pdf
bad 2 'not a PDF' "$S" flatten - -o $OUT <input-n.pdf
bad 2 'empty' "$S" flatten - -o $OUT </dev/null

# --- passwords -----------------------------------------------------------------
for enc in encrypted encrypted-rc4; do
	bad 2 'password' "$S" place "$F/$enc.pdf" ok.json -o $OUT
	bad 2 'wrong password' "$S" place "$F/$enc.pdf" ok.json -o $OUT --password-file wrong.pw
	bad 2 'wrong password' env SC_PW=wrong-password "$S" place "$F/$enc.pdf" ok.json -o $OUT --password-env SC_PW
	bad 2 'password' "$S" flatten "$F/$enc.pdf" -o $OUT
done
bad 2 'password' "$S" info "$F/encrypted.pdf"
bad 2 'SC_UNSET_PW.*not set' env -u SC_UNSET_PW "$S" place "$F/encrypted.pdf" ok.json -o $OUT --password-env SC_UNSET_PW
bad 2 'no-such\.pw' "$S" place "$F/encrypted.pdf" ok.json -o $OUT --password-file no-such.pw
# ...and the right password works (so the failures above are about the password)
rm -f "$OUT"
ok "$S" place "$F/encrypted.pdf" ok.json -o $OUT --password-file good.pw && assert_file "$OUT"
rm -f "$OUT"

# --- the field spec ------------------------------------------------------------
spec()
{
	printf '{"fields": [%s]}\n' "$2" >"$1"
}
spec page9.json '{"name": "a", "type": "text", "page": 9, "rect": [10, 10, 100, 20]}'
bad 2 'page 9' "$S" place "$F/plain.pdf" page9.json -o $OUT
bad 2 'page 9' "$S" stamp "$F/plain.pdf" page9.json -o $OUT
spec page0.json '{"name": "a", "type": "text", "page": 0, "rect": [10, 10, 100, 20]}'
bad 2 'page 0' "$S" place "$F/plain.pdf" page0.json -o $OUT

# A4 is 595 x 842 pt as displayed; rotated.pdf page 2 is 792 x 612 as displayed.
spec right.json '{"name": "a", "type": "text", "page": 1, "rect": [550, 10, 100, 20]}'
bad 2 'outside the page' "$S" place "$F/plain.pdf" right.json -o $OUT
spec below.json '{"name": "a", "type": "text", "page": 1, "rect": [10, 830, 100, 20]}'
bad 2 'outside the page' "$S" stamp "$F/plain.pdf" below.json -o $OUT
spec negative.json '{"name": "a", "type": "text", "page": 1, "rect": [-5, 10, 100, 20]}'
bad 2 'outside the page' "$S" place "$F/plain.pdf" negative.json -o $OUT
spec percent.json '{"name": "a", "type": "text", "page": 1, "rect": [90, 10, 20, 5], "units": "percent"}'
bad 2 'outside the page' "$S" place "$F/plain.pdf" percent.json -o $OUT
# 700 pt wide fits page 2 of rotated.pdf only as displayed (landscape)...
spec wide.json '{"name": "a", "type": "text", "page": 2, "rect": [50, 50, 700, 20]}'
rm -f "$OUT"
ok "$S" place "$F/rotated.pdf" wide.json -o $OUT && assert_file "$OUT"
rm -f "$OUT"
# ...and not on the portrait page 1; 700 pt high fits neither page 2 nor 4.
spec wide1.json '{"name": "a", "type": "text", "page": 1, "rect": [50, 50, 700, 20]}'
bad 2 'outside the page' "$S" place "$F/rotated.pdf" wide1.json -o $OUT
spec tall.json '{"name": "a", "type": "text", "page": 4, "rect": [50, 50, 20, 700]}'
bad 2 'outside the page' "$S" place "$F/rotated.pdf" tall.json -o $OUT

spec dup.json '{"name": "a", "type": "text", "page": 1, "rect": [10, 10, 100, 20]},
               {"name": "a", "type": "date", "page": 2, "rect": [10, 10, 100, 20]}'
bad 2 'duplicate.*"a"|"a".*duplicate|already exists' "$S" place "$F/plain.pdf" dup.json -o $OUT
spec clash.json '{"name": "existing_name", "type": "text", "page": 2, "rect": [10, 10, 100, 20]}'
bad 2 'existing_name.*already exists' "$S" place "$F/form.pdf" clash.json -o $OUT
spec clash2.json '{"name": "group", "type": "text", "page": 1, "rect": [10, 10, 100, 20]}'
bad 2 'group.*already exists' "$S" place "$F/form.pdf" clash2.json -o $OUT

spec type.json '{"name": "a", "type": "radio", "page": 1, "rect": [10, 10, 100, 20]}'
bad 2 'unknown field type.*radio' "$S" place "$F/plain.pdf" type.json -o $OUT

# Malformed JSON: a missing comma on line 3 (column 24 is where "page" starts).
printf '{"fields": [\n  {"name": "a",\n   "type": "text" "page": 1}\n]}\n' >malformed.json
bad 2 'line 3, column' "$S" place "$F/plain.pdf" malformed.json -o $OUT
bad 2 'line 3, column' "$S" fill "$F/form.pdf" malformed.json -o $OUT
printf '{"values": {"existing_name": "x",}\n' >malformed2.json
bad 2 'line 1, column' "$S" fill "$F/form.pdf" malformed2.json -o $OUT

spec fakeimg.json '{"name": "s", "type": "signature", "page": 1, "rect": [10, 10, 150, 50],
                    "value": {"image": "fake.png"}}'
bad 2 'PNG or JPEG' "$S" place "$F/plain.pdf" fakeimg.json -o $OUT
bad 2 'PNG or JPEG' "$S" stamp "$F/plain.pdf" fakeimg.json -o $OUT
spec noimg.json '{"name": "s", "type": "signature", "page": 1, "rect": [10, 10, 150, 50],
                  "value": {"image": "missing.png"}}'
bad 2 'missing\.png' "$S" place "$F/plain.pdf" noimg.json -o $OUT

# fill: values for fields the document lacks, or of the wrong kind
echo '{"values": {"nosuch": "x"}}' >nosuch.json
bad 2 'nosuch' "$S" fill "$F/form.pdf" nosuch.json -o $OUT
echo '{"values": {"existing_check": "maybe"}}' >notbool.json
bad 2 'existing_check' "$S" fill "$F/form.pdf" notbool.json -o $OUT
bad 2 'nosuch' "$S" flatten "$F/form.pdf" --fields nosuch -o $OUT

# --- the command line ----------------------------------------------------------
bad 2 'unknown option.*--bogus' "$S" place "$F/plain.pdf" ok.json -o $OUT --bogus
bad 2 'unknown option.*--bogus' "$S" flatten "$F/plain.pdf" --bogus -o $OUT
for cmd in place fill stamp; do
	bad 2 '-o' "$S" $cmd "$F/plain.pdf" ok.json
done
bad 2 '-o' "$S" flatten "$F/plain.pdf"
bad 2 'needs a value|-o' "$S" flatten "$F/plain.pdf" -o
bad 2 'SPEC|expected' "$S" place "$F/plain.pdf" -o $OUT
bad 2 'standard input' "$S" place - - -o $OUT </dev/null
bad 2 'frobnicate' "$S" frobnicate
# no command at all: a usage error; the usage text may follow on stderr
run "$S"
[ "$RC" -eq 2 ] && grep -q '^usage: signcore' "$RUN_ERR" && pass ||
	fail "signcore without a command: exit $RC, want 2 and the usage on stderr"

# --- unwritable output ---------------------------------------------------------
bad 1 'nonexistent' "$S" place "$F/plain.pdf" ok.json -o "$WORK/nonexistent/dir/x.pdf"
assert_no_file "$WORK/nonexistent"
if [ "$(id -u)" -ne 0 ]; then
	mkdir ro
	chmod 555 ro
	expect_exit 1 "$S" place "$F/plain.pdf" ok.json -o ro/x.pdf && err_has 'ro'
	assert_no_file ro/x.pdf
	assert_no_temp ro
	chmod 755 ro
else
	note "running as root: the chmod 555 check is replaced by the nonexistent directory one"
fi
# an existing directory as the output
mkdir isdir
expect_exit 1 "$S" place "$F/plain.pdf" ok.json -o isdir && err_has 'isdir'
[ -d isdir ] && [ -z "$(ls -A isdir)" ] && pass || fail "output directory isdir was touched"

# --- a failed run must not clobber an existing output --------------------------
printf 'keep me\n' >out/keep.pdf
expect_exit 2 "$S" place "$F/plain.pdf" page9.json -o out/keep.pdf
[ "$(cat out/keep.pdf)" = "keep me" ] && pass || fail "failed run overwrote its output"
rm -f out/keep.pdf
assert_no_temp out

# --- help and version ------------------------------------------------------------
version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$SRCDIR/configure.ac")
for h in --help -h; do
	expect_exit 0 "$S" $h && grep -q '^usage: signcore' "$RUN_OUT" && pass ||
		fail "signcore $h prints no usage"
done
for cmd in info place fill flatten stamp; do
	for h in --help -h; do
		if expect_exit 0 "$S" $cmd $h; then
			grep -q "^usage: signcore $cmd" "$RUN_OUT" && pass ||
				fail "signcore $cmd $h: no usage line on stdout"
			[ -s "$RUN_ERR" ] && fail "signcore $cmd $h writes to stderr"
		fi
	done
	# each documented option of the command shows in its help
	case $cmd in info) opts='--json' ;; flatten) opts='-o --fields --password-file --password-env --full-rewrite -q -h' ;;
	*) opts='-o --password-file --password-env --full-rewrite -q -h' ;; esac
	"$S" $cmd --help >help.txt 2>&1
	for o in $opts; do
		grep -qE -- "(^|[][ ,|])$o([][ ,|]|$)" help.txt && pass || fail "signcore $cmd --help does not list $o"
	done
done
expect_exit 0 "$S" --version
if [ -n "$version" ] && grep -qx "signcore $version" "$RUN_OUT"; then
	pass
else
	fail "--version printed '$(cat "$RUN_OUT")', expected 'signcore $version'"
fi

assert_no_temp out
assert_no_temp "$WORK"
finish
