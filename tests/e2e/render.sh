#!/bin/sh
# The honest ink check: render pages before and after, and look where the
# pixels changed.  For every page of rotated.pdf (/Rotate 0, 90, 180, 270)
# and cropbox.pdf (offset CropBox; page 2 also rotated) we put a text field
# and a signature image (sig.png) on the page, then with pixels.py assert
#   (a) each field's rect (displayed top-left points = pixels at 72 dpi)
#       has ink in it, and
#   (b) nothing changed outside the union of the rects (2 px margin),
#   (c) what is drawn in a rect is the same, the same way up, on every page
#       (compared with the unrotated page 1 of rotated.pdf): a value drawn
#       upside down or mirrored on a rotated page fails this.
# Done for `stamp` (content burnt into the page), for `place` then `fill`
# (unflattened widgets: pdftoppm draws their appearance streams), and for
# `place` + `flatten`.
# SPDX-License-Identifier: AGPL-3.0-or-later
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
need_cmd pdftoppm

F=$FIXTURES
S=$SIGNCORE
cd "$WORK" || exit 1
cp "$F/sig.png" sig.png

# Fixed rects, chosen to fit both portrait (612x792 / 595x842) and landscape
# (792x612 / 842x595) displayed pages, away from the middle so that a rect
# mapped with the wrong rotation lands somewhere else.
TEXT_RECT=100,120,220,30
SIG_RECT=300,300,150,50

# render PDF PAGE OUT [extra pdftoppm options] — OUT.pgm, 72 dpi grey
render()
{
	local pdf=$1 page=$2 out=$3
	shift 3
	pdftoppm -r 72 -gray "$@" -f "$page" -l "$page" -singlefile "$pdf" "$out" 2>/dev/null ||
		fail "pdftoppm failed on $pdf page $page"
}

# spec PAGES VALUES? — one text + one signature field per page; "novalue"
# leaves the values out (for place + fill).
make_spec()
{
	python3 - "$1" "$2" "$TEXT_RECT" "$SIG_RECT" <<'EOF'
import json, sys
pages, mode = int(sys.argv[1]), sys.argv[2]
tr = [float(v) for v in sys.argv[3].split(",")]
sr = [float(v) for v in sys.argv[4].split(",")]
fields, values = [], {}
for p in range(1, pages + 1):
    t = {"name": "t%d" % p, "type": "text", "page": p, "rect": tr, "font_size": 14}
    s = {"name": "s%d" % p, "type": "signature", "page": p, "rect": sr}
    values[t["name"]] = "Rendered value"
    values[s["name"]] = {"image": "sig.png"}
    if mode == "values":
        t["value"] = values[t["name"]]
        s["value"] = values[s["name"]]
    fields += [t, s]
if mode == "fill":
    print(json.dumps({"values": values}))
else:
    print(json.dumps({"fields": fields}))
EOF
}

make_spec 4 values >rotated.json
make_spec 4 novalue >rotated-empty.json
make_spec 4 fill >rotated-values.json
make_spec 2 values >cropbox.json
make_spec 2 novalue >cropbox-empty.json
make_spec 2 fill >cropbox-values.json

# check_pages NAME PAGES PDF-BEFORE PDF-AFTER LABEL [pdftoppm options]
check_pages()
{
	local name=$1 pages=$2 before=$3 after=$4 label=$5 p
	shift 5
	for p in $(seq 1 "$pages"); do
		render "$before" $p $name-before-$p "$@"
		render "$after" $p $name-$label-$p "$@"
		if $PIXELS diff $name-before-$p.pgm $name-$label-$p.pgm \
			--rect $TEXT_RECT --rect $SIG_RECT --margin 2 >pixels.log 2>&1; then
			pass
		else
			fail "$name page $p ($label): $(tr '\n' ' ' <pixels.log)"
		fi
		# same drawing, same way up, as on the reference page
		for r in $TEXT_RECT $SIG_RECT; do
			if $PIXELS same-ink ref-before.pgm ref-$label.pgm $r \
				$name-before-$p.pgm $name-$label-$p.pgm $r >pixels.log 2>&1; then
				pass
			else
				fail "$name page $p ($label): rect $r is drawn unlike on the unrotated page: $(cat pixels.log)"
			fi
		done
	done
}

# produce NAME LABEL — the output for one way of drawing the fields
produce()
{
	local name=$1 label=$2 in=$F/$1.pdf
	case $label in
	stamp)
		ok "$S" stamp "$in" $name.json -o $name-stamp.pdf ;;
	fill)
		ok "$S" place "$in" $name-empty.json -o $name-empty.pdf &&
			ok "$S" fill $name-empty.pdf $name-values.json -o $name-fill.pdf ;;
	flatten)
		ok "$S" place "$in" $name.json -o $name-placed.pdf &&
			ok "$S" flatten $name-placed.pdf -o $name-flatten.pdf ;;
	esac
}

for label in stamp fill flatten; do
	produce rotated $label || continue
	produce cropbox $label || continue
	# the reference: page 1 of rotated.pdf (no rotation, no crop offset)
	render "$F/rotated.pdf" 1 ref-before
	render rotated-$label.pdf 1 ref-$label
	check_pages rotated 4 "$F/rotated.pdf" rotated-$label.pdf $label
	# pdftoppm shows the MediaBox unless told -cropbox
	check_pages cropbox 2 "$F/cropbox.pdf" cropbox-$label.pdf $label -cropbox
done

# An unfilled placed field draws nothing but may draw a border or a
# background; whatever it draws stays inside its rect.
if produce rotated fill; then
	for p in 1 2 3 4; do
		render "$F/rotated.pdf" $p e-before-$p
		render rotated-empty.pdf $p e-after-$p
		$PIXELS diff e-before-$p.pgm e-after-$p.pgm --rect $TEXT_RECT --rect $SIG_RECT --min-ink 0 \
			>pixels.log 2>&1 && pass || fail "empty fields, rotated page $p: $(tr '\n' ' ' <pixels.log)"
	done
fi

finish
