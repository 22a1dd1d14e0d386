#!/bin/sh
# Devanagari: the name प्रिया शर्मा (with a conjunct प्र, a pre-base i-matra
# and a reph) as a text field value and as a typed signature.
#  1. Text: after flatten, pdftotext gives back exactly the string (the
#     library wraps the shaped runs in /ActualText).
#  2. Glyphs (needs mutool from mupdf-tools and hb-shape from
#     libharfbuzz-bin): the glyphs the content stream draws, read back by
#     `mutool trace`, are exactly the glyphs HarfBuzz's hb-shape produces
#     for each word with the same font file, in the same order and at the
#     same positions (within 1/1000 em).  An exact and independent check of
#     the shaping.
#  3. Ink (needs hb-view from libharfbuzz-bin and pdftoppm): the rendered
#     field looks like hb-view's rendering of the shaped string and unlike
#     its rendering with every Indic shaping feature switched off; the
#     metric is explained at check 3 below.
# SPDX-License-Identifier: AGPL-3.0-or-later
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
need_cmd pdftotext

S=$SIGNCORE
cd "$WORK" || exit 1
NAME='प्रिया शर्मा'
FONT=$SRCDIR/fonts/NotoSansDevanagari-Regular.ttf
FONT_PS=NotoSansDevanagari-Regular
# every feature the Indic shaper applies, off: the glyphs are then the
# nominal glyph of each character, in logical order
UNSHAPED=-ccmp,-locl,-nukt,-akhn,-rphf,-rkrf,-pref,-blwf,-abvf,-half,-pstf,-vatu,-cjct,-init,-pres,-abvs,-blws,-psts,-haln
[ -f "$FONT" ] || { fail "missing $FONT"; finish; }

# A blank A4 page, so that every glyph and every ink pixel on it is ours.
python3 - blank.pdf <<'EOF'
import sys
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>",
        b"<< /Length 0 >>\nstream\n\nendstream"]
out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
offsets = []
for i, o in enumerate(objs, 1):
    offsets.append(len(out))
    out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for o in offsets:
    out += b"%010d 00000 n \n" % o
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
open(sys.argv[1], "wb").write(out)
EOF
qpdf_ok blank.pdf

# The field rect, in points from the top-left; FIELD_PX is the same at 216 dpi.
RECT='[50, 100, 480, 80]'
FIELD_PX=150,300,1440,240
cat >text.json <<EOF
{"fields": [{"name": "name", "type": "text", "page": 1, "rect": $RECT,
             "font": "sans", "font_size": 40, "value": "$NAME"}]}
EOF
cat >signature.json <<EOF
{"fields": [{"name": "sig", "type": "signature", "page": 1, "rect": $RECT,
             "value": {"text": "$NAME"}}]}
EOF

have_trace=no have_shape=no have_view=no
command -v mutool >/dev/null 2>&1 && have_trace=yes
command -v hb-shape >/dev/null 2>&1 && have_shape=yes
command -v hb-view >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && have_view=yes
[ $have_trace = yes ] && [ $have_shape = yes ] ||
	note "mutool (mupdf-tools) or hb-shape (libharfbuzz-bin) missing: glyph check skipped"
[ $have_view = yes ] || note "hb-view (libharfbuzz-bin) or pdftoppm missing: ink check skipped"

# --- reference renderings by HarfBuzz (shaped and unshaped) -------------------
if [ $have_view = yes ]; then
	hb-view --font-size=40 --margin=10 -O pdf -o hb-shaped.pdf "$FONT" "$NAME" &&
	hb-view --font-size=40 --margin=10 --features="$UNSHAPED" -O pdf -o hb-unshaped.pdf "$FONT" "$NAME" &&
	pdftoppm -r 216 -gray -singlefile hb-shaped.pdf hb-shaped &&
	pdftoppm -r 216 -gray -singlefile hb-unshaped.pdf hb-unshaped ||
		{ fail "hb-view reference rendering failed"; have_view=no; }
	# the references themselves must differ, or the check below proves nothing
	if [ $have_view = yes ]; then
		m=$($PIXELS ink-compare hb-shaped.pgm hb-unshaped.pgm | json_get /dev/stdin 'j["match"]')
		python3 -c "import sys; sys.exit(not $m < 0.8)" && pass ||
			fail "hb-view shaped and unshaped renderings are too alike (match $m)"
	fi
fi

for kind in text signature; do
	# place, then flatten (and stamp, the one-step way)
	ok "$S" place blank.pdf $kind.json -o $kind-placed.pdf || continue
	ok "$S" flatten $kind-placed.pdf -o $kind.pdf || continue
	ok "$S" stamp blank.pdf $kind.json -o $kind-stamp.pdf || continue
	for pdf in $kind.pdf $kind-stamp.pdf; do
		qpdf_ok $pdf

		# --- 1. text extraction gives exactly the name -------------------------
		got=$(pdftotext -enc UTF-8 $pdf - | tr -d '\f' | sed -e '/^[[:space:]]*$/d')
		[ "$got" = "$NAME" ] && pass || fail "$pdf: pdftotext gives '$got', want '$NAME'"
	done
	# the placed (unflattened) value reads back too
	info_json $kind-placed.pdf
	case $kind in text)
		[ "$(json_get "$WORK/info.json" 'j["fields"][0].get("value")')" = "$NAME" ] && pass ||
			fail "info: text field value is not '$NAME'" ;;
	esac

	# --- 2. the drawn glyphs are HarfBuzz's glyphs -----------------------------
	if [ $have_trace = yes ] && [ $have_shape = yes ]; then
		mutool trace $kind.pdf 1 >$kind.trace 2>/dev/null || fail "mutool trace $kind.pdf failed"
		for w in $NAME; do
			hb-shape --output-format=json --font-size=upem "$FONT" "$w"
		done >$kind.hb
		if python3 - $kind.trace $kind.hb "$FONT_PS" >glyphs.log 2>&1 <<'EOF'; then
import json, re, sys
trace, hbfile, font = sys.argv[1:4]

# Drawn runs: consecutive glyphs of one fill_text, split at spaces (a space
# may come from another font).  Each glyph: (name, x, y) in text-space
# units of its span, scaled to 1/1000 em with the span's font size.
runs, run = [], []
size = None
fonts = set()
for line in open(trace, encoding="utf-8", errors="replace"):
    m = re.search(r'<span font="([^"]*)".*trm="([-0-9.]+) ', line)
    if m:
        # the face is embedded as a subset: "ABCDEF+Name" (trace cuts names at 31)
        cur_font, size = re.sub(r'^[A-Z]{6}\+', '', m.group(1)), abs(float(m.group(2)))
        continue
    if "</fill_text>" in line and run:
        runs.append(run); run = []
        continue
    m = re.search(r'<g unicode="[^"]*" glyph="([^"]*)" x="([-0-9.e]+)" y="([-0-9.e]+)"', line)
    if not m:
        continue
    name, x, y = m.group(1), float(m.group(2)), float(m.group(3))
    if name == "space":
        if run: runs.append(run)
        run = []
        continue
    fonts.add(cur_font)
    run.append((name, x * 1000 / size, y * 1000 / size))
if run:
    runs.append(run)

# HarfBuzz runs: one JSON array per word, font units (upem 1000 for Noto).
shaped = []
for line in open(hbfile):
    line = line.strip()
    if not line:
        continue
    pen, glyphs = 0, []
    for g in json.loads(line):
        glyphs.append((g["g"], pen + g["dx"], g["dy"]))
        pen += g["ax"]
    shaped.append(glyphs)

ok = True
if fonts != {font[:len(next(iter(fonts), ''))]} or not fonts:
    print("glyphs drawn with fonts %s, want only %s" % (sorted(fonts), font)); ok = False
names = lambda rs: [[g[0] for g in r] for r in rs]
if names(runs) != names(shaped):
    print("drawn glyphs    %s\nHarfBuzz glyphs %s" % (names(runs), names(shaped))); ok = False
else:
    for r, s in zip(runs, shaped):
        x0, y0 = r[0][1] - s[0][1], r[0][2]
        for (n, x, y), (_, hx, hdy) in zip(r, s):
            # trace y grows downwards (trm has a negative y scale); HarfBuzz's dy upwards
            if abs((x - x0) - hx) > 1.0 or abs((y0 - y) - hdy) > 1.0:
                print("%s at %.1f,%.1f (1/1000 em from the run start), HarfBuzz has %d,%d"
                      % (n, x - x0, y0 - y, hx, hdy)); ok = False
print("runs: %s" % names(runs))
sys.exit(0 if ok else 1)
EOF
			pass
		else
			fail "$kind: drawn glyphs differ from hb-shape's: $(cat glyphs.log)"
		fi
	fi

	# --- 3. the ink looks like HarfBuzz's shaped rendering -----------------------
	# Metric: the ink (grey < 128) of the field at 216 dpi and of hb-view's
	# rendering, each scaled so that its bounding box fills the same grid
	# (aspect ratio of ours); "match" = the smaller of the fractions of ink
	# pixels of one mask with ink of the other within 2 grid pixels.  The
	# same glyphs at the same relative positions give ~1 whatever the size,
	# anti-aliasing or rasteriser; a missing conjunct, a misplaced i-matra
	# or reph, or unshaped halant forms move whole strokes and give ~0.4.
	# We require ours~shaped >= 0.9, ours~unshaped clearly lower (< 0.8 and
	# at least 0.15 below ours~shaped), the same number of connected ink
	# components as the shaped reference, and bounding-box aspect ratios
	# within 5% (unshaped text is ~25% wider: no conjunct, explicit halants).
	if [ $have_view = yes ]; then
		pdftoppm -r 216 -gray -singlefile $kind.pdf $kind
		$PIXELS ink-compare $kind.pgm hb-shaped.pgm --rect-a $FIELD_PX >shaped.json &&
		$PIXELS ink-compare $kind.pgm hb-unshaped.pgm --rect-a $FIELD_PX >unshaped.json
		if python3 - shaped.json unshaped.json >ink.log 2>&1 <<'EOF'; then
import json, sys
s = json.load(open(sys.argv[1]))
u = json.load(open(sys.argv[2]))
ours, ref = s["a"], s["b"]
problems = []
if s["match"] < 0.9:
    problems.append("match with shaped %.3f < 0.9" % s["match"])
if not (u["match"] < 0.8 and u["match"] <= s["match"] - 0.15):
    problems.append("match with unshaped %.3f is not clearly below shaped %.3f" % (u["match"], s["match"]))
if ours["components"] != ref["components"]:
    problems.append("%d ink components, shaped reference has %d" % (ours["components"], ref["components"]))
if abs(ours["aspect"] / ref["aspect"] - 1) > 0.05:
    problems.append("aspect %.3f, shaped reference %.3f" % (ours["aspect"], ref["aspect"]))
print("ours %s; shaped %s (match %.3f); unshaped %s (match %.3f)%s" % (
    ours, ref, s["match"], u["b"], u["match"], "; " + "; ".join(problems) if problems else ""))
sys.exit(1 if problems else 0)
EOF
			pass
		else
			fail "$kind: rendering does not match HarfBuzz's shaping: $(cat ink.log)"
		fi
		note "$kind ink: $(cat ink.log)"
	fi
done

finish
