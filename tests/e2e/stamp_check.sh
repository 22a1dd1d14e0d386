#!/bin/sh
# place / fill / flatten / stamp on plain, rotated, cropbox and form PDFs:
# outputs pass qpdf --check, text extraction shows the values, flattening
# removes exactly the fields asked for (and keeps other annotations),
# updates are incremental unless --full-rewrite, inputs are never modified,
# and "-" works for standard input and output.
# SPDX-License-Identifier: AGPL-3.0-or-later
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
need_cmd pdftotext pdfimages

F=$FIXTURES
S=$SIGNCORE
cd "$WORK" || exit 1
cp "$F/sig.png" sig.png

# Checksums of every fixture, compared at the end: no command may touch its input.
for f in plain rotated cropbox form; do
	eval "sum_$f=\$(sum \"\$F/$f.pdf\")"
done

# text of page N only
page_text() { pdftotext -f "$2" -l "$2" "$1" - 2>/dev/null; }

# spec_for PDF PAGES — a spec with, on each page N, a text field tN holding
# "Value on page N" and a signature sN with sig.png; checkbox and date on page 1.
spec_for()
{
	{
		printf '{"fields": [\n'
		n=1
		while [ "$n" -le "$2" ]; do
			printf '{"name": "t%d", "type": "text", "page": %d, "rect": [60, 80, 260, 28], "value": "Value on page %d"},\n' $n $n $n
			printf '{"name": "s%d", "type": "signature", "page": %d, "rect": [60, 150, 180, 60], "value": {"image": "sig.png"}},\n' $n $n
			n=$((n + 1))
		done
		printf '{"name": "agree", "type": "checkbox", "page": 1, "rect": [60, 240, 18, 18], "value": true},\n'
		printf '{"name": "when", "type": "date", "page": 1, "rect": [60, 280, 160, 22], "value": "2024-03-05", "date_format": "%%d %%b %%Y"},\n'
		printf '{"name": "who", "type": "initials", "page": %d, "rect": [300, 240, 80, 40], "value": {"text": "AL"}, "font": "script"}\n' "$2"
		printf ']}\n'
	} >"$1.json"
}

for f in plain rotated cropbox form; do
	case $f in plain) pages=3 ;; rotated) pages=4 ;; *) pages=2 ;; esac
	spec_for $f $pages
	in=$F/$f.pdf

	# --- place: fields are added, readable back at the same displayed rects ----
	if ok "$S" place "$in" $f.json -o $f-placed.pdf; then
		qpdf_ok $f-placed.pdf
		info_json $f-placed.pdf
		python3 - "$WORK/info.json" $f.json <<'EOF' && pass || fail "$f: info --json does not give back the placed fields"
import json, sys
info = json.load(open(sys.argv[1]))
spec = json.load(open(sys.argv[2]))
got = {f["name"]: f for f in info["fields"]}
bad = []
for s in spec["fields"]:
    g = got.get(s["name"])
    if not g:
        bad.append("%s missing" % s["name"]); continue
    if g["type"] != s["type"] or g["page"] != s["page"]:
        bad.append("%s: type/page %s/%s" % (s["name"], g["type"], g["page"]))
    if any(abs(a - b) > 0.5 for a, b in zip(g["rect"], s["rect"])):
        bad.append("%s: rect %s, placed at %s" % (s["name"], g["rect"], s["rect"]))
    if s["type"] == "text" and g.get("value") != s["value"]:
        bad.append("%s: value %r" % (s["name"], g.get("value")))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
EOF
		# incremental update: the input's bytes come first, unchanged
		starts_with $f-placed.pdf "$in" && pass || fail "$f: place output does not start with the input bytes"
		[ "$(size $f-placed.pdf)" -gt "$(size "$in")" ] && pass || fail "$f: place output is not longer than the input"
	fi
	if ok "$S" place "$in" $f.json -o $f-full.pdf --full-rewrite; then
		qpdf_ok $f-full.pdf
		starts_with $f-full.pdf "$in" && fail "$f: --full-rewrite output starts with the input bytes" || pass
		[ "$(field_names $f-full.pdf | sort)" = "$(field_names $f-placed.pdf | sort)" ] && pass ||
			fail "$f: --full-rewrite output has other fields than the incremental one"
	fi

	# --- flatten everything: values become page content, no fields remain ------
	if ok "$S" flatten $f-placed.pdf -o $f-flat.pdf; then
		qpdf_ok $f-flat.pdf
		n=1
		while [ "$n" -le "$pages" ]; do
			page_text $f-flat.pdf $n | grep -qF "Value on page $n" && pass ||
				fail "$f: flattened page $n does not show 'Value on page $n'"
			n=$((n + 1))
		done
		text_has $f-flat.pdf "05 Mar 2024"
		text_has $f-flat.pdf "AL"
		info_json $f-flat.pdf
		[ "$(json_get "$WORK/info.json" 'len(j["fields"])')" = 0 ] && pass ||
			fail "$f: info lists fields after a full flatten"
		[ "$(acroform_fields $f-flat.pdf)" = "0 0 0" ] && pass ||
			fail "$f: AcroForm fields / widgets left after flatten: $(acroform_fields $f-flat.pdf)"
		[ -z "$(field_tree $f-flat.pdf)" ] && pass || fail "$f: field dictionaries left: $(field_tree $f-flat.pdf)"
		starts_with $f-flat.pdf $f-placed.pdf && pass || fail "$f: flatten was not saved incrementally"
	fi

	# --- stamp: the same result in one step, never any fields ------------------
	if ok "$S" stamp "$in" $f.json -o $f-stamp.pdf; then
		qpdf_ok $f-stamp.pdf
		n=1
		while [ "$n" -le "$pages" ]; do
			page_text $f-stamp.pdf $n | grep -qF "Value on page $n" && pass ||
				fail "$f: stamped page $n does not show 'Value on page $n'"
			n=$((n + 1))
		done
		text_has $f-stamp.pdf "05 Mar 2024"
		# form.pdf keeps its own 3 fields; the others end with none
		case $f in form) want="3 3 3" ;; *) want="0 0 0" ;; esac
		[ "$(acroform_fields $f-stamp.pdf)" = "$want" ] && pass ||
			fail "$f: after stamp fields/widgets are $(acroform_fields $f-stamp.pdf), want $want"
		starts_with $f-stamp.pdf "$in" && pass || fail "$f: stamp output does not start with the input bytes"
		# the image is really drawn on page 1 (pdfimages looks into form
		# XObjects too): sig.png at its 300x100 pixels, with its alpha as an /SMask
		imgs=$(pdfimages -list -f 1 -l 1 $f-stamp.pdf 2>/dev/null | awk 'NR > 2 { print $3, $4, $5 }' | tr '\n' ' ')
		case $imgs in
		*"image 300 100"*"smask 300 100"*) pass ;;
		*) fail "$f: stamped page 1 does not draw sig.png with its alpha (pdfimages: $imgs)" ;;
		esac
	fi
done

# --- form.pdf: the existing fields ---------------------------------------------
echo '{"values": {"existing_name": "New value", "existing_check": true}}' >values.json
if ok "$S" fill "$F/form.pdf" values.json -o filled.pdf; then
	qpdf_ok filled.pdf
	starts_with filled.pdf "$F/form.pdf" && pass || fail "fill output does not start with the input bytes"
	info_json filled.pdf
	[ "$(json_get "$WORK/info.json" '[(f["name"], f.get("value")) for f in j["fields"]]')" = \
	  "[('existing_name', 'New value'), ('existing_check', 'Yes'), ('group.child', 'Child value')]" ] && pass ||
		fail "fill: info shows $(json_get "$WORK/info.json" '[(f["name"], f.get("value")) for f in j["fields"]]')"
	# the /V qpdf reads is the new one too
	[ "$(pdfq filled.pdf '' '[text(d.get("/V")) for n, d in field_dicts() if n == "existing_name"]')" = "['New value']" ] &&
		pass || fail "fill: /V of existing_name is not 'New value'"
	if ok "$S" flatten filled.pdf -o filled-flat.pdf; then
		qpdf_ok filled-flat.pdf
		text_has filled-flat.pdf "New value"
		text_lacks filled-flat.pdf "Old value"
		text_has filled-flat.pdf "Child value"
		[ "$(acroform_fields filled-flat.pdf)" = "0 0 0" ] && pass ||
			fail "form: fields/widgets after flatten: $(acroform_fields filled-flat.pdf)"
		[ -z "$(field_tree filled-flat.pdf)" ] && pass || fail "form: field dictionaries left: $(field_tree filled-flat.pdf)"
		info_json filled-flat.pdf
		[ "$(json_get "$WORK/info.json" 'len(j["fields"])')" = 0 ] && pass || fail "form: info lists fields after flatten"
		# the Link, Square and Text annotations stay, each on its page
		[ "$(annot_subtypes filled-flat.pdf | tr '\n' ' ')" = "1:/Link 2:/Square 2:/Text " ] && pass ||
			fail "form: annotations after flatten: $(annot_subtypes filled-flat.pdf | tr '\n' ' ')"
	fi
fi

# flatten --fields existing_name: only that field goes
if ok "$S" flatten "$F/form.pdf" --fields existing_name -o only-name.pdf; then
	qpdf_ok only-name.pdf
	[ "$(field_tree only-name.pdf | tr '\n' ' ')" = "existing_check group group.child " ] && pass ||
		fail "flatten --fields existing_name left: $(field_tree only-name.pdf | tr '\n' ' ')"
	[ "$(field_names only-name.pdf | sort | tr '\n' ' ')" = "existing_check group.child " ] && pass ||
		fail "flatten --fields existing_name: info lists $(field_names only-name.pdf | tr '\n' ' ')"
	[ "$(annot_subtypes only-name.pdf | tr '\n' ' ')" = "1:/Link 1:/Widget 2:/Square 2:/Text 2:/Widget " ] && pass ||
		fail "flatten --fields existing_name: annotations $(annot_subtypes only-name.pdf | tr '\n' ' ')"
	page_text only-name.pdf 1 | grep -qF "Old value" && pass || fail "flattened existing_name value not on page 1"
fi

# flatten --fields group: the kid goes and the emptied parent is pruned
if ok "$S" flatten "$F/form.pdf" --fields group -o no-group.pdf; then
	qpdf_ok no-group.pdf
	[ "$(field_tree no-group.pdf | tr '\n' ' ')" = "existing_check existing_name " ] && pass ||
		fail "flatten --fields group left: $(field_tree no-group.pdf | tr '\n' ' ')"
	[ "$(annot_subtypes no-group.pdf | tr '\n' ' ')" = "1:/Link 1:/Widget 1:/Widget 2:/Square 2:/Text " ] && pass ||
		fail "flatten --fields group: annotations $(annot_subtypes no-group.pdf | tr '\n' ' ')"
	page_text no-group.pdf 2 | grep -qF "Child value" && pass || fail "flattened group.child value not on page 2"
fi

# flatten --fields a,b: a list
if ok "$S" flatten "$F/form.pdf" --fields existing_name,group.child -o two.pdf; then
	qpdf_ok two.pdf
	[ "$(field_tree two.pdf | tr '\n' ' ')" = "existing_check " ] && pass ||
		fail "flatten --fields existing_name,group.child left: $(field_tree two.pdf | tr '\n' ' ')"
fi

# --full-rewrite of fill: a complete new file with the same result
if ok "$S" fill "$F/form.pdf" values.json -o filled-full.pdf --full-rewrite; then
	qpdf_ok filled-full.pdf
	starts_with filled-full.pdf "$F/form.pdf" && fail "fill --full-rewrite output starts with the input bytes" || pass
	[ "$(pdfq filled-full.pdf '' '[text(d.get("/V")) for n, d in field_dicts() if n == "existing_name"]')" = "['New value']" ] &&
		pass || fail "fill --full-rewrite: /V of existing_name is not 'New value'"
fi

# --- percent units are relative to the page as displayed -----------------------
# rotated.pdf page 2 shows 792 x 612, cropbox.pdf page 2 shows 842 x 595.
echo '{"fields": [{"name": "pct", "type": "text", "page": 2, "rect": [10, 20, 50, 10], "units": "percent", "value": "pct"}]}' >percent.json
for f in rotated:792:612 cropbox:842:595; do
	IFS=: read -r name pw ph <<EOF2
$f
EOF2
	if ok "$S" place "$F/$name.pdf" percent.json -o $name-percent.pdf; then
		info_json $name-percent.pdf
		got=$(json_get "$WORK/info.json" '" ".join("%.1f" % v for v in j["fields"][0]["rect"])')
		want=$(python3 -c "print(' '.join('%.1f' % v for v in ($pw*.1, $ph*.2, $pw*.5, $ph*.1)))")
		[ "$got" = "$want" ] && pass || fail "$name: percent rect placed at $got, want $want"
	fi
done

# --- standard input and output -------------------------------------------------
spec_for plain 3
if ok "$S" place - plain.json -o - <"$F/plain.pdf"; then
	cp "$RUN_OUT" stdio-placed.pdf
	qpdf_ok stdio-placed.pdf
	cmp -s stdio-placed.pdf plain-placed.pdf && pass ||
		{ [ "$(field_names stdio-placed.pdf | sort)" = "$(field_names plain-placed.pdf | sort)" ] && pass ||
			fail "place via stdin/stdout gives other fields than via files"; }
fi
if ok "$S" stamp "$F/plain.pdf" - -o - <plain.json; then
	cp "$RUN_OUT" stdio-stamp.pdf
	qpdf_ok stdio-stamp.pdf
	page_text stdio-stamp.pdf 2 | grep -qF "Value on page 2" && pass || fail "stamp with the spec on stdin: value missing"
fi
if ok "$S" fill - values.json -o - <"$F/form.pdf"; then
	cp "$RUN_OUT" stdio-filled.pdf
	qpdf_ok stdio-filled.pdf
fi
# a pipeline: place | flatten
"$S" place "$F/plain.pdf" plain.json -o - | "$S" flatten - -o - >piped.pdf 2>"$RUN_ERR"
if [ -s piped.pdf ] && [ ! -s "$RUN_ERR" ]; then
	qpdf_ok piped.pdf
	text_has piped.pdf "Value on page 3"
	[ "$(acroform_fields piped.pdf)" = "0 0 0" ] && pass || fail "place | flatten left fields"
else
	fail "place | flatten pipeline failed"
	show_err
fi
run "$S" info - --json <"$F/form.pdf"
[ "$RC" -eq 0 ] && [ "$(json_get "$RUN_OUT" 'len(j["fields"])')" = 3 ] && pass || fail "info - --json from stdin"

# -o over the input itself must not corrupt it (either refuse or do it safely)
cp "$F/plain.pdf" same.pdf
run "$S" place same.pdf plain.json -o same.pdf
if [ "$RC" -eq 0 ]; then
	qpdf_ok same.pdf
	[ "$(field_names same.pdf | wc -l)" -eq 9 ] && pass || fail "place -o onto its own input lost fields"
else
	[ "$(sum same.pdf)" = "$sum_plain" ] && pass || fail "refused place -o onto its input but changed it"
fi

# --- inputs untouched ----------------------------------------------------------
for f in plain rotated cropbox form; do
	eval "want=\$sum_$f"
	[ "$(sum "$F/$f.pdf")" = "$want" ] && pass || fail "$f.pdf was modified"
done
assert_no_temp "$WORK"
finish
