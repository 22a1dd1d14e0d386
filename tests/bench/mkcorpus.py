#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Corpora for tests/bench/batch.sh.

usage: mkcorpus.py small DIR N      N distinct one-page A4 documents DIR/dNNNN.pdf
       mkcorpus.py big FILE PAGES MB  one document of PAGES pages, about MB
                                      megabytes (uncompressed text content)

Plain PDF 1.7 with a classic xref table, a standard 14 font, text content;
every file passes qpdf --check.
"""

import sys


def write_pdf(path, page_contents):
    """page_contents: list of bytes, one content stream per page."""
    n = len(page_contents)
    # 1 catalog, 2 pages, 3 font, then page i: 4 + 2i, content: 5 + 2i
    objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Count %d /Kids [%s] >>" % (
                n, b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(n))),
            3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"}
    with open(path, "wb") as f:
        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = {}

        def put(num, body, stream=None):
            offsets[num] = f.tell()
            f.write(b"%d 0 obj\n" % num)
            if stream is None:
                f.write(body + b"\nendobj\n")
            else:
                f.write(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream\nendobj\n")

        for num in (1, 2, 3):
            put(num, objs[num])
        for i, content in enumerate(page_contents):
            put(4 + 2 * i, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i))
            put(5 + 2 * i, None, content)
        size = 4 + 2 * n
        xref = f.tell()
        f.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        for num in range(1, size):
            f.write(b"%010d 00000 n \n" % offsets[num])
        f.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))


def page_text(lines):
    out = [b"BT /F1 10 Tf 12 TL 56 790 Td"]
    for ln in lines:
        out.append(b"(" + ln.encode("latin-1") + b") Tj T*")
    out.append(b"ET")
    return b"\n".join(out)


def main():
    kind = sys.argv[1]
    if kind == "small":
        d, n = sys.argv[2], int(sys.argv[3])
        for i in range(n):
            write_pdf("%s/d%04d.pdf" % (d, i), [page_text(
                ["Document %04d: offer letter" % i, "",
                 "Dear candidate, we are pleased to offer you the position described below."] +
                ["Clause %d. Terms and conditions of employment apply as agreed." % k for k in range(1, 30)])])
    elif kind == "big":
        path, pages, mb = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        per_page = int(mb * 1e6 / pages)
        contents = []
        for p in range(pages):
            lines, size, k = [], 0, 0
            while size < per_page:
                ln = "Page %d line %d: the quick brown fox jumps over the lazy dog %08x" % (p + 1, k, (p * 7919 + k) * 2654435761 % 2**32)
                lines.append(ln)
                size += len(ln) + 10
                k += 1
            # the text runs off the page; what matters is the byte count
            contents.append(page_text(lines))
        write_pdf(path, contents)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
