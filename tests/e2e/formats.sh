#!/bin/sh
# File-structure variants: cross-reference streams, hybrid files, AES-256 and
# RC4 encryption (the output stays encrypted the same way), and damaged
# files that are repaired (exit 0, a note, a full rewrite).
# SPDX-License-Identifier: AGPL-3.0-or-later
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
need_cmd pdftotext

F=$FIXTURES
S=$SIGNCORE
cd "$WORK" || exit 1
VALUE="Format check 42"
PW=user-pw
printf '%s\n' "$PW" >pw.txt

cat >field.json <<EOF
{"fields": [{"name": "fmt", "type": "text", "page": 2, "rect": [72, 100, 250, 26],
             "value": "$VALUE"}]}
EOF
echo '{"values": {"fmt": "Filled later 7"}}' >fill.json

page_text() { pdftotext ${3:+-upw "$3"} -f "$2" -l "$2" "$1" - 2>/dev/null; }
pages_of() { pdfq "$1" "$2" 'len(pages)'; }
# enc_methods PDF PASSWORD — "R V bits stream-method string-method P" as qpdf sees it
enc_methods() {
	pdfq "$1" "$2" '" ".join(str(j["encrypt"]["parameters"][k]) for k in
	    ("R", "V", "bits", "streammethod", "stringmethod", "P")) if j["encrypt"]["encrypted"] else ""'
}

# check_variant NAME PASSWORD PAGES — place, fill and flatten on NAME.pdf;
# incremental saves; qpdf-clean; the value in the text of page 2.
check_variant()
{
	local name=$1 pw=$2 npages=$3 in=$F/$1.pdf opt='' before
	[ -n "$pw" ] && opt="--password-file pw.txt"
	before=$(sum "$in")

	ok "$S" place "$in" field.json -o $name-placed.pdf $opt || return
	qpdf_ok $name-placed.pdf "$pw"
	starts_with $name-placed.pdf "$in" && pass || fail "$name: place was not an incremental update"
	[ "$(pages_of $name-placed.pdf "$pw")" = "$npages" ] && pass || fail "$name: page count changed"
	[ "$(pdfq $name-placed.pdf "$pw" '[text(d.get("/V")) for n, d in field_dicts()]')" = "['$VALUE']" ] && pass ||
		fail "$name: qpdf does not see field fmt = '$VALUE'"

	ok "$S" flatten $name-placed.pdf -o $name-flat.pdf $opt || return
	qpdf_ok $name-flat.pdf "$pw"
	page_text $name-flat.pdf 2 "$pw" | grep -qF "$VALUE" && pass ||
		fail "$name: flattened page 2 does not show '$VALUE'"
	[ "$(acroform_fields $name-flat.pdf "$pw")" = "0 0 0" ] && pass || fail "$name: fields left after flatten"
	starts_with $name-flat.pdf $name-placed.pdf && pass || fail "$name: flatten was not an incremental update"

	ok "$S" fill $name-placed.pdf fill.json -o $name-filled.pdf $opt || return
	qpdf_ok $name-filled.pdf "$pw"
	[ "$(pdfq $name-filled.pdf "$pw" '[text(d.get("/V")) for n, d in field_dicts()]')" = "['Filled later 7']" ] && pass ||
		fail "$name: fill did not set fmt"
	ok "$S" stamp "$in" field.json -o $name-stamp.pdf $opt &&
		{ qpdf_ok $name-stamp.pdf "$pw"; page_text $name-stamp.pdf 2 "$pw" | grep -qF "$VALUE" && pass ||
			fail "$name: stamped page 2 does not show '$VALUE'"; }
	ok "$S" place "$in" field.json -o $name-full.pdf --full-rewrite $opt &&
		{ qpdf_ok $name-full.pdf "$pw"; starts_with $name-full.pdf "$in" && fail "$name: --full-rewrite kept the input bytes" || pass; }

	[ "$(sum "$in")" = "$before" ] && pass || fail "$name.pdf was modified"
}

check_variant xrefstream "" 2
check_variant hybrid "" 2
# hybrid.pdf: pages live only in the /XRefStm object stream; poppler must
# still find both pages and the original page text in our output.
page_text hybrid-flat.pdf 1 | grep -q 'Page 1' && pass || fail "hybrid: page 1 text lost"

# --- encrypted inputs: output still encrypted, with the same methods -----------
for name in encrypted encrypted-rc4; do
	check_variant $name $PW 3
	want=$(enc_methods "$F/$name.pdf" $PW)
	for out in $name-placed.pdf $name-flat.pdf $name-filled.pdf $name-full.pdf; do
		[ -f $out ] || continue
		got=$(enc_methods $out $PW)
		[ -n "$got" ] && [ "$got" = "$want" ] && pass || fail "$out: encryption '$got', input has '$want'"
		# without the password neither qpdf nor poppler reads it
		if qpdf --check $out >/dev/null 2>&1; then fail "$out opens without a password"; else pass; fi
		# the new strings and streams are encrypted: the value is nowhere in clear
		if grep -aqF -e "$VALUE" -e "Filled later 7" $out; then
			fail "$out holds the field value unencrypted"
		else
			pass
		fi
	done
	# the password from the environment works as well as from a file
	ok env SC_E2E_PW=$PW "$S" place "$F/$name.pdf" field.json -o $name-env.pdf --password-env SC_E2E_PW &&
		qpdf_ok $name-env.pdf $PW
done

# --- damaged inputs: repaired, noted, fully rewritten ----------------------------
for name in broken-xref bad-startxref; do
	in=$F/$name.pdf
	before=$(sum "$in")
	for cmd in place stamp; do
		if ok "$S" $cmd "$in" field.json -o $name-$cmd.pdf; then
			grep -q '^signcore: note: .*repaired' "$RUN_ERR" && pass ||
				fail "$name $cmd: no 'repaired' note on stderr"
			[ "$(grep -c . "$RUN_ERR")" = 1 ] && pass || fail "$name $cmd: stderr is not the one note"
			qpdf_ok $name-$cmd.pdf
			cmp -s -n 200 $name-$cmd.pdf "$in" && fail "$name $cmd: output starts like the damaged input (not a full rewrite)" || pass
			# a full rewrite is a single revision: one startxref, one %%EOF
			[ "$(grep -ac '^startxref' $name-$cmd.pdf)" = 1 ] && pass || fail "$name $cmd: output has several revisions"
			[ "$(pages_of $name-$cmd.pdf)" = 3 ] && pass || fail "$name $cmd: output does not have 3 pages"
			for p in 1 2 3; do
				page_text $name-$cmd.pdf $p | grep -q "Page $p" && pass || fail "$name $cmd: page $p text lost"
			done
		fi
	done
	page_text $name-stamp.pdf 2 | grep -qF "$VALUE" && pass || fail "$name: stamped page 2 does not show '$VALUE'"
	[ "$(pdfq $name-place.pdf '' '[text(d.get("/V")) for n, d in field_dicts()]')" = "['$VALUE']" ] && pass ||
		fail "$name: placed field missing"
	# the repaired output is sound: working on it needs no more repair
	if ok "$S" flatten $name-place.pdf -o $name-flat.pdf; then
		[ -s "$RUN_ERR" ] && fail "$name: repaired output still needs repair: $(cat "$RUN_ERR")" || pass
		starts_with $name-flat.pdf $name-place.pdf && pass || fail "$name: flatten of the repaired file is not incremental"
		page_text $name-flat.pdf 2 | grep -qF "$VALUE" && pass || fail "$name: flattened value missing"
	fi
	# -q silences the note
	ok "$S" place "$in" field.json -o $name-quiet.pdf -q && { [ -s "$RUN_ERR" ] && fail "$name: -q still prints: $(cat "$RUN_ERR")" || pass; }
	[ "$(sum "$in")" = "$before" ] && pass || fail "$name.pdf was modified"
done

assert_no_temp "$WORK"
finish
