#!/usr/bin/env python3
"""Pixel checks for the end-to-end tests (Python 3 standard library only).

Images are binary PGM (P5) or PPM (P6) files, as written by
`pdftoppm -gray` / `pdftoppm` and hb-view --output-format=ppm; colour is
reduced to grey.  Coordinates are pixels from the top-left corner, which for
a page rendered with `pdftoppm -r 72` are the points of the page as
displayed, i.e. the coordinates of a field spec's "rect".

Commands (exit 0 = check passed, 1 = failed, 2 = usage or unreadable input):

  diff BEFORE AFTER --rect X,Y,W,H [--rect ...] [--margin M] [--threshold T]
       [--min-ink N]
      Changed pixels are those whose grey value differs by more than T
      (default 8 of 255).  Passes when every rect holds at least N (default
      20) changed pixels and no changed pixel lies outside the union of the
      rects grown by M pixels (default 2).

  same-ink BEFORE_A AFTER_A RECT_A BEFORE_B AFTER_B RECT_B [--min-iou F]
      Compares what was drawn into two rects of equal size (the changed
      pixels of each rect, as masks aligned on the rects' top-left corners,
      allowing a shift of up to 1 pixel).  Passes when intersection over
      union >= F (default 0.75): the same thing was drawn the same way up.

  ink IMAGE [--rect X,Y,W,H] [--threshold T]
      Prints a JSON object describing the dark ink (grey < T, default 128)
      in IMAGE or the rect: pixel count, bounding box, its aspect ratio
      (width / height) and 8-connected component count.

  ink-compare A B [--rect-a X,Y,W,H] [--rect-b X,Y,W,H] [--threshold T]
              [--height H] [--radius R]
      Prints JSON: `ink` of both and "match", a size- and position-free
      shape similarity of the two ink masks in [0, 1] (see cmd_ink_compare).
"""
import json
import sys


def read_image(path):
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    fields = []
    while len(fields) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while pos < len(data) and data[pos:pos + 1] not in (b"\n", b"\r"):
                pos += 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1  # the single whitespace after maxval
    magic, w, h, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if maxval != 255 or magic not in (b"P5", b"P6"):
        raise ValueError("%s: only 8-bit P5/P6 images are supported" % path)
    px = data[pos:]
    if magic == b"P5":
        grey = bytearray(px[:w * h])
    else:
        grey = bytearray(w * h)
        for i in range(w * h):
            r, g, b = px[3 * i], px[3 * i + 1], px[3 * i + 2]
            grey[i] = (299 * r + 587 * g + 114 * b) // 1000
    if len(grey) != w * h:
        raise ValueError("%s: short pixel data" % path)
    return w, h, grey


def parse_rect(s):
    parts = [float(v) for v in s.replace(" ", "").split(",")]
    if len(parts) != 4:
        raise ValueError("rect must be X,Y,W,H: %r" % s)
    return parts


def changed_mask(a, b, threshold):
    (wa, ha, pa), (wb, hb, pb) = a, b
    if (wa, ha) != (wb, hb):
        raise ValueError("image sizes differ: %dx%d and %dx%d" % (wa, ha, wb, hb))
    return wa, ha, [abs(x - y) > threshold for x, y in zip(pa, pb)]


def in_rect(x, y, r, margin=0.0):
    # pixel (x, y) covers [x, x+1) x [y, y+1)
    return (x + 1 > r[0] - margin and x < r[0] + r[2] + margin and
            y + 1 > r[1] - margin and y < r[1] + r[3] + margin)


def opts(argv, names):
    """Split argv into positionals and {option: [values]}."""
    pos, o = [], {n: [] for n in names}
    i = 0
    while i < len(argv):
        if argv[i] in o:
            o[argv[i]].append(argv[i + 1])
            i += 2
        else:
            pos.append(argv[i])
            i += 1
    return pos, o


def cmd_diff(argv):
    pos, o = opts(argv, ["--rect", "--margin", "--threshold", "--min-ink"])
    if len(pos) != 2 or not o["--rect"]:
        raise ValueError("usage: diff BEFORE AFTER --rect X,Y,W,H ...")
    rects = [parse_rect(r) for r in o["--rect"]]
    margin = float((o["--margin"] or [2])[-1])
    threshold = int((o["--threshold"] or [8])[-1])
    min_ink = int((o["--min-ink"] or [20])[-1])
    w, h, mask = changed_mask(read_image(pos[0]), read_image(pos[1]), threshold)
    inside = [0] * len(rects)
    stray = []
    for y in range(h):
        row = y * w
        for x in range(w):
            if not mask[row + x]:
                continue
            hit = False
            for i, r in enumerate(rects):
                if in_rect(x, y, r):
                    inside[i] += 1
                    hit = True
            if not hit and not any(in_rect(x, y, r, margin) for r in rects):
                stray.append((x, y))
    ok = True
    for r, n in zip(rects, inside):
        if n < min_ink:
            print("rect %s: only %d changed pixels (want >= %d)" % (r, n, min_ink))
            ok = False
    if stray:
        xs = [p[0] for p in stray]
        ys = [p[1] for p in stray]
        print("%d changed pixels outside the rects (+%g px), within x %d..%d, y %d..%d; first %s"
              % (len(stray), margin, min(xs), max(xs), min(ys), max(ys), stray[:5]))
        ok = False
    print("changed pixels per rect: %s; outside: %d" % (inside, len(stray)))
    return 0 if ok else 1


def rect_mask(before, after, r, threshold):
    w, h, mask = changed_mask(read_image(before), read_image(after), threshold)
    x0, y0 = int(round(r[0])), int(round(r[1]))
    rw, rh = int(round(r[2])), int(round(r[3]))
    out = set()
    for y in range(max(0, y0), min(h, y0 + rh)):
        for x in range(max(0, x0), min(w, x0 + rw)):
            if mask[y * w + x]:
                out.add((x - x0, y - y0))
    return out


def iou(a, b):
    return len(a & b) / float(len(a | b)) if a or b else 1.0


def best_iou(a, b, shift=1):
    best = 0.0
    for dx in range(-shift, shift + 1):
        for dy in range(-shift, shift + 1):
            moved = {(x + dx, y + dy) for x, y in b}
            best = max(best, iou(a, moved))
    return best


def cmd_same_ink(argv):
    pos, o = opts(argv, ["--min-iou", "--threshold"])
    if len(pos) != 6:
        raise ValueError("usage: same-ink BEFORE_A AFTER_A RECT_A BEFORE_B AFTER_B RECT_B")
    threshold = int((o["--threshold"] or [8])[-1])
    min_iou = float((o["--min-iou"] or [0.75])[-1])
    a = rect_mask(pos[0], pos[1], parse_rect(pos[2]), threshold)
    b = rect_mask(pos[3], pos[4], parse_rect(pos[5]), threshold)
    v = best_iou(a, b)
    print("ink pixels %d and %d, IoU %.3f (want >= %.2f)" % (len(a), len(b), v, min_iou))
    return 0 if a and b and v >= min_iou else 1


def ink_pixels(path, rect, threshold):
    w, h, px = read_image(path)
    if rect:
        x0, y0 = max(0, int(round(rect[0]))), max(0, int(round(rect[1])))
        x1, y1 = min(w, int(round(rect[0] + rect[2]))), min(h, int(round(rect[1] + rect[3])))
    else:
        x0, y0, x1, y1 = 0, 0, w, h
    return {(x - x0, y - y0) for y in range(y0, y1) for x in range(x0, x1)
            if px[y * w + x] < threshold}


def components(ink):
    seen, count = set(), 0
    for p in ink:
        if p in seen:
            continue
        count += 1
        stack = [p]
        seen.add(p)
        while stack:
            x, y = stack.pop()
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    q = (x + dx, y + dy)
                    if q in ink and q not in seen:
                        seen.add(q)
                        stack.append(q)
    return count


def describe(ink):
    if not ink:
        return {"pixels": 0}
    xs = [p[0] for p in ink]
    ys = [p[1] for p in ink]
    bw, bh = max(xs) - min(xs) + 1, max(ys) - min(ys) + 1
    return {"pixels": len(ink), "bbox": [min(xs), min(ys), bw, bh],
            "aspect": round(bw / float(bh), 4), "components": components(ink)}


def cmd_ink(argv):
    pos, o = opts(argv, ["--rect", "--threshold"])
    rect = parse_rect(o["--rect"][-1]) if o["--rect"] else None
    threshold = int((o["--threshold"] or [128])[-1])
    print(json.dumps(describe(ink_pixels(pos[0], rect, threshold))))
    return 0


def normalise(ink, width, height):
    """Ink mask scaled (nearest neighbour) so that its bounding box fills a
    width x height grid; each ink pixel paints its whole scaled footprint."""
    xs = [p[0] for p in ink]
    ys = [p[1] for p in ink]
    x0, y0 = min(xs), min(ys)
    sx = width / float(max(xs) - x0 + 1)
    sy = height / float(max(ys) - y0 + 1)
    out = set()
    for x, y in ink:
        for fx in range(int((x - x0) * sx), max(int((x - x0) * sx) + 1, int((x - x0 + 1) * sx))):
            for fy in range(int((y - y0) * sy), max(int((y - y0) * sy) + 1, int((y - y0 + 1) * sy))):
                out.add((fx, fy))
    return out


def near_fraction(a, b, radius):
    """Fraction of the pixels of mask a that have a pixel of mask b within
    `radius` (Chebyshev distance)."""
    grown = set()
    for x, y in b:
        for dx in range(-radius, radius + 1):
            for dy in range(-radius, radius + 1):
                grown.add((x + dx, y + dy))
    return sum(1 for p in a if p in grown) / float(len(a))


def cmd_ink_compare(argv):
    """Shape similarity of the ink of A and B, independent of size and
    position: each ink mask is scaled so that its bounding box fills the
    same grid (--height, default 100, by height * aspect of A); "match" is
    the smaller of the two fractions of ink pixels that have ink of the
    other mask within --radius grid pixels (default 2).  Two renderings of
    the same glyphs at the same positions match near 1; other glyphs, or the
    same glyphs placed differently, do not."""
    pos, o = opts(argv, ["--threshold", "--rect-a", "--rect-b", "--height", "--radius"])
    threshold = int((o["--threshold"] or [128])[-1])
    ra = parse_rect(o["--rect-a"][-1]) if o["--rect-a"] else None
    rb = parse_rect(o["--rect-b"][-1]) if o["--rect-b"] else None
    height = int((o["--height"] or [100])[-1])
    radius = int((o["--radius"] or [2])[-1])
    a = ink_pixels(pos[0], ra, threshold)
    b = ink_pixels(pos[1], rb, threshold)
    if not a or not b:
        print(json.dumps({"error": "no ink", "a": len(a), "b": len(b)}))
        return 1
    da, db = describe(a), describe(b)
    width = int(round(height * da["aspect"]))
    na, nb = normalise(a, width, height), normalise(b, width, height)
    match = min(near_fraction(na, nb, radius), near_fraction(nb, na, radius))
    print(json.dumps({"a": da, "b": db, "match": round(match, 4)}))
    return 0


def main(argv):
    cmds = {"diff": cmd_diff, "same-ink": cmd_same_ink, "ink": cmd_ink,
            "ink-compare": cmd_ink_compare}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return cmds[argv[1]](argv[2:])
    except (ValueError, OSError, IndexError) as e:
        print("pixels.py: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
