#!/usr/bin/env python3
"""Build tampered copies of a signed PDF for the verifier's tests.

usage: pdfattack.py ATTACK IN OUT

Byte-level attacks keep every offset in place; the others append an
incremental update (objects + xref table + trailer) the way a real attacker
would, reading the object graph with qpdf --json.

  truncate      cut the last 200 bytes
  append        add bytes of garbage after the last %%EOF
  br-gap        last signature: ByteRange gap one byte wider than /Contents
  br-negative   last signature: a negative length
  br-overlap    last signature: the second range starts inside the first
  br-short      last signature: the second range stops 10 bytes early
  br-one        last signature: a single range
  cms-garbage   last signature: /Contents does not parse as CMS
  flip          a byte of the signed data changed (a digit of /M)
  shadow        new revision replacing page 1's content stream
  addpage       new revision adding a page to the page tree
  annot         new revision changing a Square annotation's colour
  addannot      new revision adding a Text annotation to page 1

SPDX-License-Identifier: AGPL-3.0-or-later
"""
import json
import re
import subprocess
import sys


def last_sig_byterange(data):
    matches = list(re.finditer(rb"/ByteRange\s*\[([^\]]*)\] *", data))
    if not matches:
        sys.exit("no /ByteRange in the input")
    return matches[-1]


def rewrite_byterange(data, values):
    m = last_sig_byterange(data)
    old = m.group(0)
    new = ("/ByteRange[%s]" % " ".join(str(v) for v in values)).encode()
    if len(new) > len(old):
        sys.exit("new ByteRange longer than the old one")
    # Keep the length: pad with the spaces the writer left after it.
    new = new + b" " * (len(old) - len(new))
    return data[:m.start()] + new + data[m.end():]


def byterange(data):
    return [int(x) for x in last_sig_byterange(data).group(1).split()]


def qpdf_objects(path):
    out = subprocess.run(["qpdf", "--json=2", "--json-key=qpdf", path],
                         check=True, capture_output=True).stdout
    doc = json.loads(out)["qpdf"]
    return doc[0], doc[1]


def to_pdf(v):
    """qpdf JSON v2 value to PDF syntax."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + " ".join(to_pdf(x) for x in v) + "]"
    if isinstance(v, dict):
        return "<<" + " ".join("%s %s" % (k, to_pdf(x)) for k, x in v.items()) + ">>"
    if v.startswith("/") or re.fullmatch(r"\d+ \d+ R", v):
        return v
    if v.startswith("u:"):
        return "<FEFF" + v[2:].encode("utf-16-be").hex() + ">"
    if v.startswith("b:"):
        return "<" + v[2:] + ">"
    return v


def last_startxref(data):
    return int(re.findall(rb"startxref\s+(\d+)", data)[-1])


def trailer_of(objs):
    return objs["trailer"]["value"]


def incremental(data, path, objects):
    """Append an update defining OBJECTS {num: body bytes}."""
    meta, objs = qpdf_objects(path)
    trailer = trailer_of(objs)
    if not data.endswith(b"\n"):
        data += b"\n"
    offsets = {}
    out = bytearray(data)
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for num in sorted(objects):
        out += b"%d 1\n%010d 00000 n \n" % (num, offsets[num])
    size = max(int(trailer.get("/Size", 0)), max(objects) + 1)
    t = "<< /Size %d /Root %s /Prev %d" % (size, trailer["/Root"], last_startxref(data))
    if "/Info" in trailer:
        t += " /Info " + trailer["/Info"]
    if "/ID" in trailer:
        t += " /ID " + to_pdf(trailer["/ID"])
    t += " >>"
    out += b"trailer\n" + t.encode() + b"\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def obj_value(objs, ref):
    return objs["obj:" + ref]["value"]


def first_page(objs):
    root = obj_value(objs, trailer_of(objs)["/Root"])
    node = root["/Pages"]
    while True:
        v = obj_value(objs, node)
        if v.get("/Type") == "/Page":
            return node, v
        node = v["/Kids"][0]


def stream(content):
    return b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    attack, src, dst = sys.argv[1:]
    data = open(src, "rb").read()
    if attack == "truncate":
        data = data[:-200]
    elif attack == "append":
        data += b"\n% appended after signing\nGARBAGE GARBAGE GARBAGE\n"
    elif attack.startswith("br-"):
        b0, l0, b1, l1 = byterange(data)
        values = {
            "br-gap": [0, l0 - 1, b1 + 1, l1 - 1],
            "br-negative": [0, l0, b1, -l1],
            "br-overlap": [0, l0, l0 - 40, l1 + (b1 - l0) + 40],
            "br-short": [0, l0, b1, l1 - 10],
            "br-one": [0, l0 + (b1 - l0) + l1],
        }[attack]
        data = rewrite_byterange(data, values)
    elif attack == "cms-garbage":
        b0, l0, b1, l1 = byterange(data)
        data = data[:l0 + 1] + b"DEADBEEF" * 4 + data[l0 + 33:]
    elif attack == "flip":
        m = list(re.finditer(rb"/M\s*\(D:(\d)", data))[-1]
        pos = m.start(1)
        digit = b"3" if data[pos:pos + 1] != b"3" else b"4"
        data = data[:pos] + digit + data[pos + 1:]
    elif attack in ("shadow", "addpage", "annot", "addannot"):
        meta, objs = qpdf_objects(src)
        nxt = int(meta["maxobjectid"]) + 1
        pref, page = first_page(objs)
        if attack == "shadow":
            contents = page["/Contents"]
            ref = contents if isinstance(contents, str) else contents[0]
            body = stream(b"BT /F1 24 Tf 72 700 Td (PAY 1,000,000 TO MALLORY) Tj ET")
            data = incremental(data, src, {int(ref.split()[0]): body})
        elif attack == "addpage":
            root = obj_value(objs, trailer_of(objs)["/Root"])
            pages_ref = root["/Pages"]
            pages = dict(obj_value(objs, pages_ref))
            pages["/Kids"] = list(pages["/Kids"]) + ["%d 0 R" % (nxt + 1)]
            pages["/Count"] = int(pages["/Count"]) + 1
            newpage = "<< /Type /Page /Parent %s /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << >> >>" % (
                pages_ref, nxt)
            data = incremental(data, src, {
                nxt: stream(b"0 0 1 rg 72 72 200 200 re f"),
                nxt + 1: newpage.encode(),
                int(pages_ref.split()[0]): to_pdf(pages).encode(),
            })
        elif attack == "annot":
            target = None
            for key, o in objs.items():
                v = o.get("value") if isinstance(o, dict) else None
                if isinstance(v, dict) and v.get("/Subtype") == "/Square":
                    target = (key[4:], dict(v))
            if not target:
                sys.exit("no Square annotation in the input")
            ref, v = target
            v["/C"] = [0, 0, 1]
            v["/Contents"] = "u:Changed after signing"
            v.pop("/AP", None)
            data = incremental(data, src, {int(ref.split()[0]): to_pdf(v).encode()})
        else:
            p = dict(page)
            annots = p.get("/Annots", [])
            if isinstance(annots, str):
                annots = obj_value(objs, annots)
            p["/Annots"] = list(annots) + ["%d 0 R" % nxt]
            note = "<< /Type /Annot /Subtype /Text /Rect [100 100 124 124] /Contents (added later) /P %s >>" % pref
            data = incremental(data, src, {nxt: note.encode(), int(pref.split()[0]): to_pdf(p).encode()})
    else:
        sys.exit("unknown attack " + attack)
    open(dst, "wb").write(data)


if __name__ == "__main__":
    main()
