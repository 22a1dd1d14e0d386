#!/usr/bin/env python3
# Pull the signatures out of a PDF for independent checks with openssl:
# reads the raw bytes (no PDF library), so it sees exactly what a validator
# hashes.
#
#   sigtool.py list PDF                 one JSON line per signature
#   sigtool.py extract PDF N DIR        DIR/data.bin (the signed byte ranges),
#                                       DIR/sig.der (the /Contents DER),
#                                       DIR/sigvalue.bin and DIR/token.der
#                                       (the signature value and its
#                                       signature-time-stamp, when present)
#   sigtool.py pending-data PENDING OUT the byte ranges of a pending file
#   sigtool.py attrs DER                the signed attribute OIDs of a CMS
#
# SPDX-License-Identifier: AGPL-3.0-or-later
import json
import os
import re
import sys

OID_TS = "1.2.840.113549.1.9.16.2.14"


def der_len(b, i):
    """(length, offset of content) of the TLV at i."""
    n = b[i + 1]
    if n < 0x80:
        return n, i + 2
    k = n & 0x7F
    return int.from_bytes(b[i + 2:i + 2 + k], "big"), i + 2 + k


def tlv(b, i):
    """(tag, content start, content end, next) of the TLV at i."""
    n, s = der_len(b, i)
    return b[i], s, s + n, s + n


def children(b, s, e):
    out = []
    while s < e:
        t, cs, ce, s = tlv(b, s)
        out.append((t, cs, ce))
    return out


def oid_str(b):
    first = b[0]
    parts = [first // 40, first % 40]
    v = 0
    for x in b[1:]:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            parts.append(v)
            v = 0
    return ".".join(map(str, parts))


def signer_info(der):
    t, s, e, _ = tlv(der, 0)                      # ContentInfo
    kids = children(der, s, e)
    t, s, e = kids[1]                             # [0] EXPLICIT
    t, s, e, _ = tlv(der, s)                      # SignedData
    sd = children(der, s, e)
    t, s, e = sd[-1]                              # signerInfos SET
    t, s, e, _ = tlv(der, s)                      # first SignerInfo
    return children(der, s, e)


def attrs(der, si, tag):
    for t, s, e in si:
        if t == tag:
            out = []
            for at, as_, ae in children(der, s, e):
                parts = children(der, as_, ae)
                out.append((oid_str(der[parts[0][1]:parts[0][2]]), parts[1]))
            return out
    return []


def signatures(data):
    sigs = []
    for m in re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data):
        br = [int(x) for x in m.groups()]
        start = data.rfind(b" obj", 0, m.start())
        end = data.find(b"endobj", m.end())
        head = data[start:end]
        kind = "DocTimeStamp" if b"/DocTimeStamp" in head else "Sig"
        sf = re.search(rb"/SubFilter\s*/([A-Za-z0-9.]+)", head)
        gap = data[br[1]:br[2]]
        raw = bytes.fromhex(gap[1:-1].decode()) if gap[:1] == b"<" and gap[-1:] == b">" else b""
        if raw:
            n, s = der_len(raw, 0)
            raw = raw[:s + n]
        sigs.append({"byte_range": br, "type": kind,
                     "subfilter": sf.group(1).decode() if sf else None,
                     "contents": raw, "file_size": len(data)})
    return sigs


def main():
    cmd = sys.argv[1]
    if cmd == "list":
        data = open(sys.argv[2], "rb").read()
        for s in signatures(data):
            s = dict(s)
            s["contents_len"] = len(s.pop("contents"))
            print(json.dumps(s))
    elif cmd == "extract":
        data = open(sys.argv[2], "rb").read()
        sig = signatures(data)[int(sys.argv[3])]
        d = sys.argv[4]
        os.makedirs(d, exist_ok=True)
        a, b, c, l = sig["byte_range"]
        open(os.path.join(d, "data.bin"), "wb").write(data[a:a + b] + data[c:c + l])
        open(os.path.join(d, "sig.der"), "wb").write(sig["contents"])
        for f in ("sigvalue.bin", "token.der"):
            if os.path.exists(os.path.join(d, f)):
                os.remove(os.path.join(d, f))
        if sig["type"] == "Sig":
            der = sig["contents"]
            si = signer_info(der)
            for t, s, e in si:
                if t == 0x04:
                    open(os.path.join(d, "sigvalue.bin"), "wb").write(der[s:e])
            for oid, (t, s, e) in attrs(der, si, 0xA1):
                if oid == OID_TS:
                    _, _, _, nxt = tlv(der, s)    # the first value of the SET
                    open(os.path.join(d, "token.der"), "wb").write(der[s:nxt])
    elif cmd == "pending-data":
        raw = open(sys.argv[2], "rb").read()
        nl = raw.index(b"\n")
        nl2 = raw.index(b"\n", nl + 1)
        state = json.loads(raw[nl + 1:nl2])
        pdf = raw[nl2 + 1:]
        a, b, c, l = state["byte_range"]
        open(sys.argv[3], "wb").write(pdf[a:a + b] + pdf[c:c + l])
    elif cmd == "attrs":
        der = open(sys.argv[2], "rb").read()
        print(" ".join(oid for oid, _ in attrs(der, signer_info(der), 0xA0)))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
