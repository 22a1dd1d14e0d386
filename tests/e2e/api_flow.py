#!/usr/bin/env python3
"""End-to-end tests of the REST API, driven with curl against lighttpd +
signcore.cgi on 127.0.0.1 (started by api.sh, which passes the settings in
the environment). Every check is independent of signcore's own code where
it can be: pdfsig, qpdf, pdftotext, the PNG header, a Python recomputation
of the HMACs and of the event hash chain.

SPDX-License-Identifier: AGPL-3.0-or-later
"""
import base64
import hashlib
import hmac
import json
import os
import re
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

E = os.environ
BASE = E["API_BASE"]
WORK = E["WORK"]
DATA = E["DATA"]
FIX = E["FIXTURES"]
SRC = E["SRCDIR"]
KEY = E["KEY_MAIN"]            # enterprise, live
KEY_TEST = E["KEY_TEST"]       # same account, test mode
KEY_OTHER = E["KEY_OTHER"]     # another account (starter)
KEY_FREE = E["KEY_FREE"]       # free plan: no API access
KEY_REVOKED = E["KEY_REVOKED"]
KEY_RATE = E["KEY_RATE"]       # starter, for the rate limit
ADMIN = E["ADMIN"]             # signcore-admin
WORKER = E["WORKER"]           # signcore-worker
ONLY = set(sys.argv[1:])

failures = 0
checks = 0


def fail(msg):
    global failures
    failures += 1
    print("api: FAIL: " + msg, file=sys.stderr)


def check(cond, msg):
    global checks
    if cond:
        checks += 1
    else:
        fail(msg)
    return cond


from apiclient import Resp, request  # noqa: E402


def curl(method, path, key=None, body=None, ctype=None, headers=(), raw=None, url=None):
    """One request with curl; returns Resp."""
    return request(BASE, WORK, method, path, key, body, ctype, headers, raw, url)


def expect(resp, status, code=None, what=""):
    ok = check(resp.status == status, "%s: expected %d, got %r" % (what, status, resp))
    if ok and code:
        ok = check(resp.err.get("code") == code, "%s: expected error code %s, got %r" % (what, code, resp))
    if resp.status >= 400 and resp.status != 0:
        check(resp.err.get("requestId") == resp.headers.get("x-request-id"),
              "%s: error requestId matches X-Request-Id" % what)
    return ok


def read(name):
    with open(name, "rb") as f:
        return f.read()


def tool(*args, stdin=None):
    p = subprocess.run(args, capture_output=True, input=stdin)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def upload(path, key=KEY, ctype="application/pdf"):
    r = curl("POST", "/v1/uploads", key, raw=read(path), ctype=ctype)
    expect(r, 201, what="upload " + os.path.basename(path))
    return r.data["storageKey"] if r.data else None


TEN = os.path.join(WORK, "ten.pdf")
subprocess.run(["qpdf", "--empty", "--pages", os.path.join(FIX, "pages200.pdf"), "1-10", "--", TEN], check=True)
SIG_PNG = "data:image/png;base64," + base64.b64encode(read(os.path.join(SRC, "samples", "sig.png"))).decode()


def two_signer_doc(key=KEY, order="sequential", title="Service Agreement", storage=None, extra=None):
    body = {
        "title": title,
        "storageKey": storage or upload(TEN, key),
        "signingOrder": order,
        "recipients": [
            {"email": "priya@example.in", "name": "प्रिया शर्मा", "role": "signer", "order": 1},
            {"email": "arun@example.in", "name": "Arun Kumar", "role": "signer", "order": 2},
            {"email": "cc@example.in", "name": "Records", "role": "cc"},
        ],
        "fields": [
            {"type": "signature", "page": 10, "rect": [72, 600, 200, 50], "recipient": "priya@example.in",
             "label": "Client signature"},
            {"type": "text", "page": 10, "rect": [72, 560, 250, 20], "recipient": 0, "label": "Company"},
            {"type": "date", "page": 10, "rect": [300, 560, 150, 20], "recipient": 0, "date_format": "%d %b %Y"},
            {"type": "checkbox", "page": 10, "rect": [72, 530, 14, 14], "recipient": 0, "required": False},
            {"type": "signature", "page": 10, "rect": [320, 600, 200, 50], "recipient": "arun@example.in"},
            {"type": "initials", "page": 1, "rect": [10, 5, 20, 8], "units": "percent", "recipient": 1},
        ],
    }
    if extra:
        body.update(extra)
    r = curl("POST", "/v1/documents", key, body)
    expect(r, 201, what="create two-signer document")
    return r.data


def token_of(doc, email):
    for rc in doc["recipients"]:
        if rc["email"] == email:
            return rc["signingUrl"].rsplit("/", 1)[1]
    return None


# ---------------------------------------------------------------------- tests

def t_auth():
    r = curl("GET", "/v1/documents")
    expect(r, 401, "missing_api_key", "no key")
    check(re.match(r"^req_[0-9a-z]{20}$", r.headers.get("x-request-id", "")), "X-Request-Id on an error")
    expect(curl("GET", "/v1/documents", "sc_live_notakey"), 401, "invalid_api_key", "unknown key")
    expect(curl("GET", "/v1/documents", "something"), 401, "invalid_api_key", "malformed key")
    expect(curl("GET", "/v1/documents", KEY_REVOKED), 401, "revoked_api_key", "revoked key")
    expect(curl("GET", "/v1/documents", KEY_FREE), 403, "plan_forbidden", "free plan")
    r = curl("GET", "/v1/documents", KEY)
    expect(r, 200, what="list with a good key")
    check("x-request-id" in r.headers, "X-Request-Id on a success")
    check(r.headers.get("x-ratelimit-limit") == "1000", "X-RateLimit-Limit of the enterprise plan: %r" % r.headers)
    expect(curl("GET", "/v1/nothing", KEY), 404, "route_not_found", "unknown route")
    r = curl("PUT", "/v1/documents", KEY, {})
    expect(r, 405, "method_not_allowed", "wrong method")
    check("POST" in r.headers.get("allow", ""), "Allow header on 405")
    # keys are stored hashed: the database holds no key
    db = read(os.path.join(DATA, "signcore.db"))
    check(KEY.encode() not in db, "the API key is not stored in the database")


def t_uploads():
    r = curl("POST", "/v1/uploads", KEY, raw=read(os.path.join(FIX, "plain.pdf")), ctype="application/pdf")
    expect(r, 201, what="raw PDF upload")
    d = r.data
    check(d["pages"] == 3 and d["status"] == "ready", "upload reports 3 pages: %r" % d)
    check(d["sha256"] == hashlib.sha256(read(os.path.join(FIX, "plain.pdf"))).hexdigest(), "upload sha256")
    check(os.path.exists(os.path.join(DATA, "blobs", d["sha256"][:2], d["sha256"])), "blob stored by its hash")
    # multipart
    mp = os.path.join(WORK, "mp.out")
    p = subprocess.run(["curl", "-sS", "-o", mp, "-w", "%{http_code}", "-H", "Authorization: Bearer " + KEY,
                        "-F", "file=@%s;type=application/pdf" % os.path.join(FIX, "rotated.pdf"),
                        BASE + "/v1/uploads"], capture_output=True)
    check(p.stdout == b"201", "multipart upload: %r %r" % (p.stdout, read(mp)[:200]))
    j = json.loads(read(mp))
    check(j["data"]["pages"] == 4, "multipart upload pages")
    # an image becomes a one-page PDF
    r = curl("POST", "/v1/uploads", KEY, raw=read(os.path.join(SRC, "samples", "sig.png")), ctype="image/png")
    expect(r, 201, what="PNG upload")
    check(r.data and r.data["pages"] == 1 and r.data["contentType"] == "image/png", "PNG → 1-page PDF: %r" % r)
    if r.data:
        stored = os.path.join(DATA, "blobs", r.data["sha256"][:2], r.data["sha256"])
        check(read(stored).startswith(b"%PDF-"), "the stored image upload is a PDF")
        check(tool("qpdf", "--check", stored)[0] == 0, "converted image passes qpdf --check")
    # bad input
    expect(curl("POST", "/v1/uploads", KEY, raw=read(os.path.join(FIX, "notapdf.pdf")), ctype="application/pdf"),
           422, "invalid_pdf", "not a PDF")
    expect(curl("POST", "/v1/uploads", KEY, raw=read(os.path.join(FIX, "truncated.pdf")), ctype="application/pdf"),
           422, None, "truncated PDF")
    expect(curl("POST", "/v1/uploads", KEY, raw=read(os.path.join(FIX, "fake.png")), ctype="image/png"),
           422, "invalid_image", "a text file sent as PNG")
    expect(curl("POST", "/v1/uploads", KEY, raw=b"hello", ctype="text/plain"), 415, "unsupported_media_type",
           "text/plain upload")
    expect(curl("POST", "/v1/uploads", KEY, raw=b"", ctype="application/pdf"), 422, "empty_file", "empty upload")
    big = b"%PDF-1.7\n" + b"0" * (6 * 1024 * 1024)
    expect(curl("POST", "/v1/uploads", KEY, raw=big, ctype="application/pdf"), 413, "payload_too_large",
           "upload over max_upload_bytes")

    # presigned URL
    r = curl("GET", "/v1/upload/presigned-url", KEY)
    expect(r, 200, what="presigned URL")
    p = r.data
    check(p["url"].startswith(BASE + "/v1/upload/" + p["storageKey"] + "?"), "presigned URL points here: %r" % p)
    r = curl("PUT", None, raw=read(TEN), ctype="application/pdf", url=p["url"])
    expect(r, 200, what="PUT to the presigned URL (no API key)")
    check(r.data and r.data["pages"] == 10, "presigned upload has 10 pages")
    expect(curl("PUT", None, raw=read(TEN), ctype="application/pdf", url=p["url"]), 409, "already_uploaded",
           "second PUT to the same URL")
    r = curl("GET", "/v1/upload/presigned-url", KEY)
    p = r.data
    bad = re.sub(r"signature=([0-9a-f])", lambda m: "signature=" + ("0" if m.group(1) != "0" else "1"), p["url"])
    expect(curl("PUT", None, raw=read(TEN), ctype="application/pdf", url=bad), 403, "invalid_url_signature",
           "tampered presigned URL")
    longer = re.sub(r"max=\d+", "max=999999999", p["url"])
    expect(curl("PUT", None, raw=read(TEN), ctype="application/pdf", url=longer), 403, "invalid_url_signature",
           "presigned URL with a raised size limit")
    # an expired URL, signed with the server's secret as the server would
    secret = read(os.path.join(DATA, "secret"))
    q = urllib.parse.parse_qs(urllib.parse.urlparse(p["url"]).query)
    exp = int(time.time()) - 5
    mac = hmac.new(secret, ("PUT\n/v1/upload/%s\n%d\n%s" % (p["storageKey"], exp, q["max"][0])).encode(),
                   hashlib.sha256).hexdigest()
    url = "%s/v1/upload/%s?expires=%d&max=%s&signature=%s" % (BASE, p["storageKey"], exp, q["max"][0], mac)
    expect(curl("PUT", None, raw=read(TEN), ctype="application/pdf", url=url), 410, "upload_url_expired",
           "expired presigned URL")
    # a waiting upload cannot make a document
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": p["storageKey"], "draft": True}),
           404, "upload_not_found", "document from an unfinished upload")


def t_bad_requests():
    key = upload(os.path.join(FIX, "plain.pdf"))
    r = curl("POST", "/v1/documents", KEY, '{"title": "x", "storageKey": ', ctype="application/json")
    expect(r, 400, "invalid_json", "malformed JSON")
    check("line 1" in r.err.get("message", "") and "column" in r.err.get("message", ""),
          "malformed JSON error names the position: %r" % r.err)
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": key, "colour": "red"}), 400,
           "unknown_field", "unknown top-level field")
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": key, "draft": True,
                                               "recipients": [{"email": "a@b.co", "name": "A", "age": 3}]}),
           400, "unknown_field", "unknown recipient field")
    expect(curl("POST", "/v1/documents", KEY, "title=x", ctype="application/x-www-form-urlencoded"), 415,
           "unsupported_media_type", "form-encoded body")
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": "../../etc/passwd"}), 400,
           "invalid_storage_key", "path traversal in storageKey")
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": "upl_/../../../secret00000"}), 400,
           "invalid_storage_key", "traversal in a storageKey-shaped string")
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": key, "recipients": [
        {"email": "not-an-email", "name": "A"}]}), 400, "invalid_field", "bad e-mail")
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": key, "recipients": [
        {"email": "a@b.co", "name": "A"}], "fields": [
        {"type": "signature", "page": 9, "rect": [1, 1, 10, 10], "recipient": 0}]}), 422, "invalid_page",
        "field on a page that does not exist")
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": key, "recipients": [
        {"email": "a@b.co", "name": "A"}], "fields": [
        {"type": "signature", "page": 1, "rect": [500, 700, 300, 300], "recipient": 0}]}), 422, "invalid_rect",
        "field outside the page")
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": key, "recipients": [
        {"email": "a@b.co", "name": "A"}], "fields": [
        {"type": "stamp", "page": 1, "rect": [5, 5, 30, 30], "recipient": 0}]}), 400, "invalid_field",
        "unknown field type")
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": key, "recipients": [
        {"email": "a@b.co", "name": "A"}], "fields": [
        {"type": "text", "page": 1, "rect": [5, 5, 30, 30], "recipient": "zed@b.co"}]}), 422, "invalid_recipient",
        "field for an unknown recipient")
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": key, "recipients": []}), 422,
           "no_signers", "send without signers")
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": key, "draft": True,
                                               "expiresAt": "2001-01-01T00:00:00Z"}), 422, "invalid_expiry",
           "expiry in the past")
    expect(curl("POST", "/v1/documents", KEY, {"title": "x", "storageKey": key, "draft": True,
                                               "expiresAt": "tomorrow"}), 400, "invalid_field", "expiry not RFC 3339")
    expect(curl("GET", "/v1/documents/doc_nothere0000000000000", KEY), 404, "not_found", "unknown document")
    expect(curl("GET", "/v1/documents?limit=0", KEY), 400, "invalid_parameter", "limit 0")
    expect(curl("GET", "/v1/documents?cursor=%27%3B--", KEY), 400, "invalid_cursor", "bad cursor")
    expect(curl("GET", "/v1/documents?status=lost", KEY), 400, "invalid_parameter", "bad status filter")
    # SQL metacharacters in every string field are stored as data
    evil = "Robert'); DROP TABLE documents; -- \" \\ % _"
    r = curl("POST", "/v1/documents", KEY, {"title": evil, "storageKey": key, "draft": True, "message": evil,
                                            "recipients": [{"email": "o'brien@example.com", "name": evil}],
                                            "fields": [{"type": "text", "page": 1, "rect": [10, 10, 100, 20],
                                                        "recipient": "o'brien@example.com", "label": evil}]})
    expect(r, 201, what="SQL metacharacters in strings")
    if r.data:
        g = curl("GET", "/v1/documents/" + r.data["id"], KEY).data
        check(g["title"] == evil and g["message"] == evil and g["recipients"][0]["name"] == evil and
              g["fields"][0]["label"] == evil, "metacharacters come back verbatim")
        check(curl("GET", "/v1/documents?status='%20OR%201=1--", KEY).status == 400, "metacharacters in a filter")
    # body too large for JSON
    expect(curl("POST", "/v1/documents", KEY, '{"title": "' + "x" * (1024 * 1024 + 10) + '"}'), 413,
           "payload_too_large", "JSON body over the limit")


def chain_ok(doc_id, events):
    prev = hashlib.sha256(doc_id.encode()).hexdigest()
    for i, e in enumerate(events):
        body = {k: v for k, v in e.items() if k != "id"}
        if body.get("prev_sha256") != prev:
            return "event %d (%s): prev_sha256 %s, expected %s" % (i, e.get("type"), body.get("prev_sha256"), prev)
        prev = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode()).hexdigest()
    return None


def pdfsig_ok(path):
    rc, out, err = tool("pdfsig", "-nssdir", E["NSSDB"], path)
    return ("Signature is Valid" in out and "Certificate is Trusted" in out), out + err


def t_full_flow():
    doc = two_signer_doc()
    check(doc["status"] == "pending" and doc["signingOrder"] == "sequential", "sent at once: %r" % doc["status"])
    check(all(r["signingUrl"] for r in doc["recipients"]), "every recipient has a signingUrl")
    t1, t2 = token_of(doc, "priya@example.in"), token_of(doc, "arun@example.in")
    check(len(t1.split(".")[1]) >= 22, "the token carries 128 bits")
    # signer 2 before signer 1: not allowed
    r = curl("GET", "/v1/signing/" + t2)
    expect(r, 200, what="signer 2 opens the link")
    check(r.data["recipient"]["canAct"] is False, "signer 2 cannot act yet")
    expect(curl("POST", "/v1/signing/%s/submit" % t2, body={"signature": {"text": "Arun"}}), 409,
           "not_your_turn", "sequential order enforced")
    # signer 1
    r = curl("GET", "/v1/signing/" + t1, headers=["User-Agent: Mozilla/5.0 (Linux; Android 14) Chrome/120.0"])
    expect(r, 200, what="signer 1 opens the link")
    s = r.data
    check(s["recipient"]["canAct"] and len(s["fields"]) == 4, "signer 1 sees its 4 fields: %r" % s.get("fields"))
    check(all(set(f) >= {"id", "type", "label", "required", "page", "rect"} for f in s["fields"]),
          "fields carry id, type, label, required, page, rect")
    fid = {f["type"]: f["id"] for f in s["fields"]}
    # the page image
    r = curl("GET", "/v1/signing/%s/pages/10.png?dpi=72" % t1)
    expect(r, 200, what="page image")
    check(r.headers.get("content-type") == "image/png" and r.body[:8] == b"\x89PNG\r\n\x1a\n", "a PNG comes back")
    w, h = struct.unpack(">II", r.body[16:24])
    pw, ph = s["document"]["pageSizes"][9]
    check(abs(w - pw) <= 1 and abs(h - ph) <= 1, "page image is %dx%d at 72 dpi (page %gx%g)" % (w, h, pw, ph))
    expect(curl("GET", "/v1/signing/%s/pages/11.png" % t1), 404, "page_not_found", "page past the end")
    expect(curl("GET", "/v1/signing/%s/pages/1.png?dpi=5000" % t1), 400, "invalid_parameter", "absurd dpi")
    # bad submissions
    expect(curl("POST", "/v1/signing/%s/submit" % t1, body={"signature": {"image": SIG_PNG}}), 422,
           "missing_field", "a required field is missing")
    vals = {fid["text"]: "Acme Pvt Ltd", fid["date"]: "2026-11-21", fid["checkbox"]: True}
    expect(curl("POST", "/v1/signing/%s/submit" % t1, body={"fields": vals}), 422, "missing_signature",
           "no signature")
    expect(curl("POST", "/v1/signing/%s/submit" % t1, body={"fields": dict(vals, fld_unknown00000000000000="x"),
                                                           "signature": {"text": "P"}}), 422, "not_your_field",
           "a field that is not the signer's")
    expect(curl("POST", "/v1/signing/%s/submit" % t1, body={"fields": dict(vals, **{fid["checkbox"]: "yes"}),
                                                           "signature": {"text": "P"}}), 400, "invalid_value",
           "a checkbox given a string")
    expect(curl("POST", "/v1/signing/%s/submit" % t1, body={"fields": vals, "signature": {
        "image": "data:image/png;base64," + base64.b64encode(b"GIF89a....").decode()}}), 422, "invalid_signature",
        "a signature image that is not PNG/JPEG")
    expect(curl("POST", "/v1/signing/%s/submit" % t1, body={"fields": vals, "signature": {"text": "P"}, "x": 1}),
           400, "unknown_field", "unknown key in a submission")
    r = curl("POST", "/v1/signing/%s/submit" % t1, body={"fields": vals, "signature": {"image": SIG_PNG}},
             headers=["User-Agent: Mozilla/5.0 (Linux; Android 14) Chrome/120.0"])
    expect(r, 200, what="signer 1 submits a drawn signature")
    check(r.data and r.data["document"]["status"] == "pending", "still pending after signer 1")
    expect(curl("POST", "/v1/signing/%s/submit" % t1, body={"fields": vals, "signature": {"text": "P"}}), 409,
           None, "signer 1 submits twice")
    # signer 2
    r = curl("GET", "/v1/signing/" + t2)
    check(r.data["recipient"]["canAct"] is True, "signer 2's turn now")
    t0 = time.time()
    r = curl("POST", "/v1/signing/%s/submit" % t2, body={"signature": {"text": "अरुण कुमार"}})
    took = time.time() - t0
    expect(r, 200, what="signer 2 submits a typed signature")
    check(r.data and r.data["document"]["status"] == "completed", "completed after the last signer: %r" % r)
    print("api: note: the last submission (completion with a B-T seal) took %.0f ms" % (took * 1000), file=sys.stderr)
    g = curl("GET", "/v1/documents/" + doc["id"], KEY).data
    check(g["status"] == "completed" and g["signedSha256"] and g["completedAt"], "document resource completed")
    check(all(f["value"] is not None for f in g["fields"]), "every field holds its value")
    # the signed PDF, judged by others
    r = curl("GET", "/v1/documents/%s/download?variant=signed" % doc["id"], KEY)
    expect(r, 200, what="download signed")
    signed = os.path.join(WORK, "signed.pdf")
    with open(signed, "wb") as f:
        f.write(r.body)
    check(hashlib.sha256(r.body).hexdigest() == g["signedSha256"], "download matches signedSha256")
    check(r.headers.get("content-type") == "application/pdf", "signed download is application/pdf")
    check(tool("qpdf", "--check", signed)[0] == 0, "signed PDF passes qpdf --check")
    ok, out = pdfsig_ok(signed)
    check(ok, "pdfsig: valid and trusted:\n" + out)
    rc, out, err = tool(E["SIGNCORE"], "verify", signed, "--trust", E["ROOT_PEM"], "--json")
    check(rc == 0, "signcore verify exit 0: %s %s" % (out[-500:], err))
    try:
        v = json.loads(out)
        check(v.get("verdict") in ("valid", "VALID") or "valid" in json.dumps(v).lower(), "verify verdict valid")
        check("disallowed" not in out.lower() or '"disallowed_changes": false' in out.lower() or
              '"disallowed": []' in out.lower(), "no disallowed changes")
    except ValueError:
        fail("signcore verify --json did not print JSON")
    rc, text, _ = tool("pdftotext", signed, "-")
    check("Priya" in text or "प्रिया" in text, "audit page names signer 1")
    check("Arun Kumar" in text, "audit page names signer 2")
    check("Acme Pvt Ltd" in text, "the text field's value is on the page")
    check("Audit trail" in text, "the audit trail is appended")
    rc, n, _ = tool("qpdf", "--show-npages", signed)
    check(rc == 0 and int(n) > 10, "audit pages added after the 10 pages (%s)" % n.strip())
    # original and audit variants
    r = curl("GET", "/v1/documents/%s/download?variant=original" % doc["id"], KEY)
    check(r.status == 200 and r.body == read(TEN), "original download is the uploaded file")
    r = curl("GET", "/v1/documents/%s/download?variant=audit" % doc["id"], KEY)
    expect(r, 200, what="audit download")
    audit = os.path.join(WORK, "audit.pdf")
    with open(audit, "wb") as f:
        f.write(r.body)
    check(tool("qpdf", "--check", audit)[0] == 0, "audit PDF passes qpdf --check")
    check("Arun Kumar" in tool("pdftotext", audit, "-")[1], "standalone audit lists signer 2")
    expect(curl("GET", "/v1/documents/%s/download?variant=x" % doc["id"], KEY), 400, "invalid_parameter",
           "unknown variant")
    # the event log: chained, complete
    r = curl("GET", "/v1/documents/%s/events" % doc["id"], KEY)
    ev = r.data
    types = [e["type"] for e in ev]
    for t in ("document.created", "document.sent", "document.viewed", "signer.viewed", "signer.signed",
              "document.completed"):
        check(t in types, "event %s recorded" % t)
    check(types.count("document.completed") == 1, "one completion event")
    check(chain_ok(doc["id"], ev) is None, "event hash chain recomputed: %s" % chain_ok(doc["id"], ev))
    signed_ev = [e for e in ev if e["type"] == "signer.signed"]
    check(all(e.get("ip") == "127.0.0.1" for e in signed_ev), "IP recorded for each signature")
    check(any("Android" in e.get("user_agent", "") for e in signed_ev), "user agent recorded")
    log = {"document": {"id": doc["id"], "title": g["title"], "original_sha256": g["originalSha256"],
                        "status": "completed"}, "recipients": [], "events": [{k: v for k, v in e.items() if k != "id"} for e in ev]}
    lp = os.path.join(WORK, "events.json")
    with open(lp, "w") as f:
        json.dump(log, f, ensure_ascii=False)
    rc, out, err = tool(E["SIGNCORE"], "audit", "--check", lp)
    check(rc == 0, "signcore audit --check accepts the API's event log: %s %s" % (out, err))
    # state transitions after completion
    expect(curl("POST", "/v1/documents/%s/send" % doc["id"], KEY), 409, "invalid_state", "send a completed document")
    expect(curl("POST", "/v1/documents/%s/void" % doc["id"], KEY, {"reason": "x"}), 409, "invalid_state",
           "void a completed document")
    expect(curl("DELETE", "/v1/documents/" + doc["id"], KEY), 409, "not_draft", "delete a completed document")
    expect(curl("POST", "/v1/signing/%s/submit" % t2, body={"signature": {"text": "again"}}), 409, None,
           "submit on a completed document")


def t_void_decline_approve():
    doc = two_signer_doc(order="parallel")
    t1 = token_of(doc, "priya@example.in")
    r = curl("POST", "/v1/documents/%s/void" % doc["id"], KEY, {"reason": "wrong version"})
    expect(r, 200, what="void")
    check(r.data["status"] == "voided" and r.data["voidReason"] == "wrong version", "voided with its reason")
    expect(curl("GET", "/v1/signing/" + t1), 410, "document_voided", "signing link of a voided document")
    expect(curl("POST", "/v1/documents/%s/void" % doc["id"], KEY, {"reason": "again"}), 409, "invalid_state",
           "void twice")
    expect(curl("POST", "/v1/documents/%s/remind" % doc["id"], KEY), 409, "invalid_state", "remind a voided document")

    doc = two_signer_doc(order="parallel")
    r = curl("POST", "/v1/documents/%s/remind" % doc["id"], KEY)
    expect(r, 200, what="remind")
    check(sorted(r.data["reminded"]) == ["arun@example.in", "priya@example.in"], "parallel: both reminded: %r" % r)
    t2 = token_of(doc, "arun@example.in")
    expect(curl("POST", "/v1/signing/%s/decline" % t2, body={"reason": "terms changed"}), 200, None, "decline")
    g = curl("GET", "/v1/documents/" + doc["id"], KEY).data
    check(g["status"] == "declined", "declined document")
    check([rc["reason"] for rc in g["recipients"] if rc["email"] == "arun@example.in"] == ["terms changed"],
          "decline reason recorded")

    key = upload(TEN)
    r = curl("POST", "/v1/documents", KEY, {
        "title": "Approval", "storageKey": key, "signingOrder": "sequential",
        "recipients": [{"email": "boss@example.in", "name": "Boss", "role": "approver", "order": 1},
                       {"email": "s@example.in", "name": "Signer", "role": "signer", "order": 2}],
        "fields": [{"type": "signature", "page": 1, "rect": [72, 600, 200, 50], "recipient": 1}]})
    expect(r, 201, what="approval document")
    d = r.data
    ta, ts = token_of(d, "boss@example.in"), token_of(d, "s@example.in")
    expect(curl("POST", "/v1/signing/%s/submit" % ta, body={"signature": {"text": "Boss"}}), 409, "wrong_role",
           "an approver cannot submit a signature")
    expect(curl("POST", "/v1/signing/%s/approve" % ts), 409, "wrong_role", "a signer cannot approve")
    expect(curl("POST", "/v1/signing/%s/approve" % ta), 200, None, "approve")
    r = curl("POST", "/v1/signing/%s/submit" % ts, body={"signature": {"text": "Signer"}})
    check(r.status == 200 and r.data["document"]["status"] == "completed", "approve then sign completes: %r" % r)
    ev = [e["type"] for e in curl("GET", "/v1/documents/%s/events" % d["id"], KEY).data]
    check("approval.approved" in ev, "approval event")

    r = curl("POST", "/v1/documents", KEY, {
        "title": "Rejected", "storageKey": key, "recipients": [
            {"email": "boss@example.in", "name": "Boss", "role": "approver"},
            {"email": "s@example.in", "name": "Signer", "role": "signer"}]})
    d = r.data
    expect(curl("POST", "/v1/signing/%s/reject" % token_of(d, "boss@example.in"), body={"reason": "no budget"}),
           200, None, "reject")
    g = curl("GET", "/v1/documents/" + d["id"], KEY).data
    check(g["status"] == "declined", "a rejection ends the document")
    expect(curl("POST", "/v1/signing/%s/submit" % token_of(d, "s@example.in"), body={"signature": {"text": "S"}}),
           409, None, "signing a rejected document")


def t_expiry():
    key = upload(os.path.join(FIX, "plain.pdf"))
    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    r = curl("POST", "/v1/documents", KEY, {"title": "Expires", "storageKey": key, "expiresAt": exp,
                                            "recipients": [{"email": "a@example.in", "name": "A"}]})
    expect(r, 201, what="document with an expiry")
    r2 = curl("POST", "/v1/documents", KEY, {"title": "Expires too", "storageKey": key, "expiresAt": exp,
                                             "recipients": [{"email": "a@example.in", "name": "A"}]})
    expect(r2, 201, what="second document with an expiry")
    t = token_of(r.data, "a@example.in")
    expect(curl("GET", "/v1/signing/" + t), 200, None, "link works before expiry")
    time.sleep(3.2)
    # the owner's GET is the first request to see the second one past its expiry
    g = curl("GET", "/v1/documents/" + r2.data["id"], KEY).data
    check(g["status"] == "expired", "document expired when its owner reads it")
    ev = [e["type"] for e in curl("GET", "/v1/documents/%s/events" % r2.data["id"], KEY).data]
    check(ev.count("document.expired") == 1, "one expiry event on a read")
    expect(curl("GET", "/v1/signing/" + t), 410, "document_expired", "link after expiry")
    g = curl("GET", "/v1/documents/" + r.data["id"], KEY).data
    check(g["status"] == "expired", "document expired")
    ev = [e["type"] for e in curl("GET", "/v1/documents/%s/events" % r.data["id"], KEY).data]
    check(ev.count("document.expired") == 1, "one expiry event")
    expect(curl("GET", "/v1/signing/" + t[:-2] + ("AA" if not t.endswith("AA") else "BB")), 404,
           "signing_link_not_found", "a forged token")


def t_drafts():
    key = upload(os.path.join(FIX, "plain.pdf"))
    r = curl("POST", "/v1/documents", KEY, {"title": "Draft", "storageKey": key, "draft": True})
    expect(r, 201, what="draft")
    d = r.data
    check(d["status"] == "draft" and d["recipients"] == [], "empty draft")
    r = curl("PATCH", "/v1/documents/" + d["id"], KEY, {"title": "Draft 2", "signingOrder": "sequential"})
    check(r.status == 200 and r.data["title"] == "Draft 2" and r.data["signingOrder"] == "sequential", "patch draft")
    r = curl("POST", "/v1/documents/%s/recipients" % d["id"], KEY, {"email": "X@Example.in", "name": "X"})
    expect(r, 201, what="add recipient")
    rid = r.data["id"]
    check(r.data["email"] == "x@example.in" and r.data["signingUrl"] is None, "e-mail normalised, no link in draft")
    expect(curl("POST", "/v1/documents/%s/recipients" % d["id"], KEY, {"email": "x@example.in", "name": "Y"}), 409,
           "duplicate_recipient", "same e-mail twice")
    r = curl("POST", "/v1/documents/%s/fields" % d["id"], KEY, {"type": "text", "page": 2, "rect": [10, 10, 100, 20],
                                                               "recipient": "x@example.in", "label": "Name"})
    expect(r, 201, what="add field")
    f = r.data["id"]
    r = curl("PATCH", "/v1/documents/%s/fields/%s" % (d["id"], f), KEY, {"page": 3, "required": False})
    check(r.status == 200 and r.data["page"] == 3 and r.data["required"] is False and r.data["label"] == "Name",
          "patch field keeps the rest: %r" % r)
    expect(curl("PATCH", "/v1/documents/%s/fields/%s" % (d["id"], f), KEY, {"rect": [10, 10, 9000, 20]}), 422,
           "invalid_rect", "patch a field off the page")
    r = curl("POST", "/v1/documents/%s/fields" % d["id"], KEY, {"type": "signature", "page": 1,
                                                               "rect": [10, 10, 100, 40], "recipient": rid})
    expect(r, 201, what="add field by recipient id")
    expect(curl("DELETE", "/v1/documents/%s/fields/%s" % (d["id"], r.data["id"]), KEY), 200, None, "delete field")
    check(len(curl("GET", "/v1/documents/%s/fields" % d["id"], KEY).data) == 1, "one field left")
    r = curl("PATCH", "/v1/documents/%s/recipients/%s" % (d["id"], rid), KEY, {"name": "Xavier"})
    check(r.status == 200 and r.data["name"] == "Xavier", "patch recipient")
    r = curl("POST", "/v1/documents/%s/send" % d["id"], KEY)
    expect(r, 200, what="send draft")
    check(r.data["status"] == "pending" and r.data["recipients"][0]["signingUrl"], "sent with links")
    expect(curl("PATCH", "/v1/documents/" + d["id"], KEY, {"title": "late"}), 409, "not_draft", "patch after send")
    expect(curl("POST", "/v1/documents/%s/fields" % d["id"], KEY, {"type": "text", "page": 1, "rect": [1, 1, 5, 5],
                                                                  "recipient": 0}), 409, "not_draft",
           "add a field after send")
    expect(curl("POST", "/v1/documents/%s/send" % d["id"], KEY), 409, "invalid_state", "send twice")
    r = curl("POST", "/v1/documents", KEY, {"title": "Gone", "storageKey": key, "draft": True})
    expect(curl("DELETE", "/v1/documents/" + r.data["id"], KEY), 200, None, "delete a draft")
    expect(curl("GET", "/v1/documents/" + r.data["id"], KEY), 404, "not_found", "deleted draft is gone")


def t_pagination():
    key = upload(os.path.join(FIX, "plain.pdf"), KEY_TEST)
    made = []
    for i in range(250):
        r = curl("POST", "/v1/documents", KEY_TEST, {"title": "Bulk %03d" % i, "storageKey": key, "draft": True})
        if r.status != 201:
            fail("bulk create %d: %r" % (i, r))
            return
        made.append(r.data["id"])
    seen, cursor, pages = [], None, 0
    while True:
        r = curl("GET", "/v1/documents?limit=100&status=draft" + ("&cursor=" + cursor if cursor else ""), KEY_TEST)
        expect(r, 200, what="list page %d" % pages)
        j = r.json()
        seen += [d["id"] for d in j["data"]]
        pages += 1
        check(j["meta"]["count"] == len(j["data"]), "meta.count")
        if not j["meta"]["hasMore"]:
            check(j["meta"]["nextCursor"] is None, "no cursor on the last page")
            break
        cursor = j["meta"]["nextCursor"]
        if pages > 5:
            break
    check(pages == 3, "250 drafts in 3 pages of 100 (%d)" % pages)
    check(len(seen) == len(set(seen)) == 250 and set(seen) == set(made), "every draft exactly once")
    check(seen == list(reversed(made)), "newest first")
    # test-mode and live documents are apart
    live = [d["id"] for d in curl("GET", "/v1/documents?limit=100", KEY).data]
    check(not set(live) & set(made), "a live key does not list test documents")
    expect(curl("GET", "/v1/documents/" + made[0], KEY), 404, "not_found", "a live key cannot read a test document")


def t_test_mode_stamp():
    doc = two_signer_doc(key=KEY_TEST, order="parallel")
    for email, sig in (("priya@example.in", {"text": "Priya"}), ("arun@example.in", {"text": "Arun"})):
        t = token_of(doc, email)
        s = curl("GET", "/v1/signing/" + t).data
        vals = {}
        for f in s["fields"]:
            if f["type"] == "text":
                vals[f["id"]] = "Test Co"
            elif f["type"] == "date":
                vals[f["id"]] = "today"
        r = curl("POST", "/v1/signing/%s/submit" % t, body={"fields": vals, "signature": sig})
        expect(r, 200, what="test-mode submit")
    g = curl("GET", "/v1/documents/" + doc["id"], KEY_TEST).data
    check(g["status"] == "completed" and g["testMode"] is True, "test-mode document completed")
    r = curl("GET", "/v1/documents/%s/download" % doc["id"], KEY_TEST)
    p = os.path.join(WORK, "test-mode.pdf")
    with open(p, "wb") as f:
        f.write(r.body)
    text = tool("pdftotext", "-f", "1", "-l", "1", p, "-")[1]
    check("TEST — not legally binding" in text, "test-mode documents are stamped: %r" % text[:200])


def t_tenants():
    doc = two_signer_doc(order="parallel", title="Private")
    expect(curl("GET", "/v1/documents/" + doc["id"], KEY_OTHER), 404, "not_found", "other account: get")
    expect(curl("GET", "/v1/documents/%s/download?variant=original" % doc["id"], KEY_OTHER), 404, "not_found",
           "other account: download")
    expect(curl("GET", "/v1/documents/%s/events" % doc["id"], KEY_OTHER), 404, "not_found", "other account: events")
    expect(curl("POST", "/v1/documents/%s/void" % doc["id"], KEY_OTHER, {"reason": "x"}), 404, "not_found",
           "other account: void")
    expect(curl("DELETE", "/v1/documents/" + doc["id"], KEY_OTHER), 404, "not_found", "other account: delete")
    other = curl("GET", "/v1/documents?limit=100", KEY_OTHER).data or []
    check(doc["id"] not in [d["id"] for d in other], "other account's list does not show it")
    mine = upload(os.path.join(FIX, "plain.pdf"), KEY)
    expect(curl("POST", "/v1/documents", KEY_OTHER, {"title": "steal", "storageKey": mine, "draft": True}), 404,
           "upload_not_found", "other account cannot use my upload")


def t_idempotency():
    key = upload(os.path.join(FIX, "plain.pdf"))
    body = {"title": "Once", "storageKey": key, "draft": True}
    r1 = curl("POST", "/v1/documents", KEY, body, headers=["Idempotency-Key: order-42"])
    r2 = curl("POST", "/v1/documents", KEY, body, headers=["Idempotency-Key: order-42"])
    expect(r1, 201, what="first idempotent POST")
    expect(r2, 201, what="retried idempotent POST")
    check(r1.data and r2.data and r1.data["id"] == r2.data["id"], "the retry returns the first document")
    check(r2.headers.get("idempotent-replayed") == "true", "the retry is marked as replayed")
    n = len([d for d in curl("GET", "/v1/documents?limit=100&status=draft", KEY).data if d["title"] == "Once"])
    check(n == 1, "one document made (%d)" % n)
    expect(curl("POST", "/v1/documents", KEY, dict(body, title="Twice"), headers=["Idempotency-Key: order-42"]), 422,
           "idempotency_key_reused", "same key, different body")
    # the same key in another account is another request
    k2 = upload(os.path.join(FIX, "plain.pdf"), KEY_OTHER)
    r3 = curl("POST", "/v1/documents", KEY_OTHER, dict(body, storageKey=k2), headers=["Idempotency-Key: order-42"])
    check(r3.status == 201 and r3.data["id"] != r1.data["id"], "keys are per account")


def t_concurrent_submit():
    doc = two_signer_doc(order="parallel")
    toks = [token_of(doc, "priya@example.in"), token_of(doc, "arun@example.in")]
    fields = {}
    for t in toks:
        s = curl("GET", "/v1/signing/" + t).data
        vals = {}
        for f in s["fields"]:
            if f["type"] == "text":
                vals[f["id"]] = "Same Instant Ltd"
            elif f["type"] == "date":
                vals[f["id"]] = "today"
        fields[t] = vals
    results = {}
    barrier = threading.Barrier(2)

    def go(t):
        barrier.wait()
        results[t] = curl("POST", "/v1/signing/%s/submit" % t, body={"fields": fields[t], "signature": {"text": t[:6]}})

    th = [threading.Thread(target=go, args=(t,)) for t in toks]
    for x in th:
        x.start()
    for x in th:
        x.join()
    check(all(results[t].status == 200 for t in toks), "both simultaneous submissions recorded: %r" % results)
    g = curl("GET", "/v1/documents/" + doc["id"], KEY).data
    check(g["status"] == "completed", "completed once both signed: %s %s" % (g["status"], g.get("error")))
    ev = [e["type"] for e in curl("GET", "/v1/documents/%s/events" % doc["id"], KEY).data]
    check(ev.count("signer.signed") == 2 and ev.count("document.completed") == 1,
          "two signatures, one completion: %r" % ev)


def t_completion_retry():
    conf = os.path.join(DATA, "signcore.conf")
    saved = read(conf)
    doc = two_signer_doc(order="parallel", title="Retry")
    # the TSA goes down before the last signature
    with open(conf, "wb") as f:
        f.write(saved.replace(E["TSA_URL"].encode(), E["TSA_URL_DOWN"].encode()))
    for email in ("priya@example.in", "arun@example.in"):
        t = token_of(doc, email)
        s = curl("GET", "/v1/signing/" + t).data
        vals = {f["id"]: ("today" if f["type"] == "date" else "Retry Co") for f in s["fields"]
                if f["type"] in ("text", "date")}
        r = curl("POST", "/v1/signing/%s/submit" % t, body={"fields": vals, "signature": {"text": "R"}})
        expect(r, 200, what="submit while the TSA is down")
    g = curl("GET", "/v1/documents/" + doc["id"], KEY).data
    check(g["status"] == "completing" and g["error"], "visible completing state with an error: %r" % g["error"])
    check(g["error"] and ("time-stamp" in g["error"].lower() or "tsa" in g["error"].lower() or
                          "connect" in g["error"].lower()), "the error names the TSA: %r" % g["error"])
    expect(curl("GET", "/v1/documents/%s/download" % doc["id"], KEY), 409, "not_completed", "no signed file yet")
    with open(conf, "wb") as f:
        f.write(saved)
    r = curl("POST", "/v1/documents/%s/complete" % doc["id"], KEY)
    expect(r, 200, what="retry completion")
    check(r.data["status"] == "completed" and r.data["error"] is None, "completed on retry")
    expect(curl("POST", "/v1/documents/%s/complete" % doc["id"], KEY), 409, "invalid_state", "retry when completed")


def t_rate_limit():
    # 100 requests a minute on the starter plan: the 101st is refused
    codes = []
    last = None
    for i in range(101):
        last = curl("GET", "/v1/documents?limit=1", KEY_RATE)
        codes.append(last.status)
    check(codes[:100] == [200] * 100, "100 requests pass: %r" % sorted(set(codes[:100])))
    expect(last, 429, "rate_limited", "the 101st request")
    check(last.headers.get("retry-after", "").isdigit() and 1 <= int(last.headers["retry-after"]) <= 60,
          "Retry-After given: %r" % last.headers)
    check(last.headers.get("x-ratelimit-remaining") == "0" and last.headers.get("x-ratelimit-limit") == "100",
          "X-RateLimit headers on 429")
    # another key is not affected
    expect(curl("GET", "/v1/documents?limit=1", KEY_OTHER), 200, None, "another key still passes")


def admin(*args):
    rc, out, err = tool(ADMIN, "--data-dir", DATA, *args)
    check(rc == 0, "signcore-admin %s: %s" % (" ".join(args), err))
    return out.strip(), err


def cached_get(path, key, tries=4):
    """GET until the answer comes from the read cache (the first read of a
    key in a minute writes its last-used time, so the first entry is
    stale); returns (last response, whether it was a hit)."""
    r = None
    for _ in range(tries):
        r = curl("GET", path, key)
        if r.headers.get("x-cache") == "hit":
            return r, True
    return r, False


def t_cache():
    # A CGI answers repeated reads of a document from DATA/cache without
    # opening the database; every commit, by any program, invalidates it.
    cache_dir = os.path.join(DATA, "cache")
    out, err = admin("account", "create", "Cache Test Pvt Ltd", "--plan", "starter")
    acc = out
    key, err = admin("key", "create", "--account", acc)
    key_id = re.search(r"key id (key_[0-9a-z]+)", err).group(1)
    d = two_signer_doc(key=key, title="Cached")
    path = "/v1/documents/" + d["id"]
    first = curl("GET", path, key)
    expect(first, 200, what="first read")
    r, hit = cached_get(path, key)
    check(hit, "a repeated read is answered from the cache: %r" % r.headers)
    check(r.body == first.body and r.status == 200, "the cached answer is the same document")
    check(r.headers.get("x-ratelimit-limit") == "100" and r.headers.get("x-request-id") != first.headers.get("x-request-id"),
          "a hit still has its own request id and the rate-limit headers: %r" % r.headers)
    check(os.path.isdir(cache_dir) and all(stat_mode(os.path.join(cache_dir, f)) == 0o600 for f in os.listdir(cache_dir)),
          "cache entries are private files")
    # HEAD from the cache: headers only
    h = curl("HEAD", path, key)
    check(h.status == 200 and h.headers.get("content-length") == first.headers.get("content-length") and
          b'"data"' not in h.body,
          "HEAD answered with the document's length: %r" % h)
    # another account's key, and the same account's test-mode key: never this entry
    expect(curl("GET", path, KEY_OTHER), 404, "not_found", "another account's key, after a cached read")
    expect(curl("GET", path, KEY_OTHER), 404, "not_found", "another account's key, twice")
    # a write through the signing link (no API key) is seen at once
    t = token_of(d, "priya@example.in")
    expect(curl("GET", "/v1/signing/" + t), 200, None, "signer opens the link")
    r = curl("GET", path, key)
    check(r.headers.get("x-cache") != "hit" and r.data["recipients"][0]["viewedAt"], "viewedAt seen on the next read")
    r, hit = cached_get(path, key)
    check(hit and r.data["recipients"][0]["viewedAt"], "and cached again with it")
    # a void through the API
    expect(curl("POST", path + "/void", key, {"reason": "cache test"}), 200, None, "void")
    r = curl("GET", path, key)
    check(r.data and r.data["status"] == "voided", "the void is seen at once: %r" % r)
    r, hit = cached_get(path, key)
    check(hit and r.data["status"] == "voided", "voided, cached")
    # a corrupt entry is a miss, never an answer
    for f in os.listdir(cache_dir):
        with open(os.path.join(cache_dir, f), "r+b") as fh:
            fh.seek(-3, 2)
            fh.write(b"XYZ")
    r = curl("GET", path, key)
    check(r.status == 200 and r.headers.get("x-cache") != "hit" and r.data["status"] == "voided",
          "a corrupt entry is not served: %r" % r)
    # without DATA/generation nothing is served from the cache
    os.unlink(os.path.join(DATA, "generation"))
    r1, r2 = curl("GET", path, key), curl("GET", path, key)
    check(r1.status == 200 and r2.status == 200 and "x-cache" not in r1.headers and "x-cache" not in r2.headers,
          "no generation, no hits")
    expect(curl("POST", path + "/remind", key), 409, None, "remind a voided document (no change)")
    d2 = two_signer_doc(key=key, title="Cached 2")  # a commit: a new generation
    check(os.path.exists(os.path.join(DATA, "generation")), "a commit writes the generation again")
    r, hit = cached_get(path, key)
    check(hit, "hits again after a commit")
    # [server] read_cache = off: every read from the database, nothing cached
    conf = os.path.join(DATA, "signcore.conf")
    saved = read(conf)
    with open(conf, "ab") as f:
        f.write(b"\n[server]\nread_cache = off\n")
    n_before = len(os.listdir(cache_dir))
    rs = [curl("GET", "/v1/documents/" + d2["id"], key) for _ in range(3)]
    check(all(x.status == 200 and "x-cache" not in x.headers for x in rs) and len(os.listdir(cache_dir)) == n_before,
          "read_cache = off: no hits, no entries")
    with open(conf, "wb") as f:
        f.write(saved)
    # a pending document is not served past its expiry
    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
    r = curl("POST", "/v1/documents", key, {"title": "Expires soon", "storageKey": upload(os.path.join(FIX, "plain.pdf"), key),
                                            "expiresAt": exp, "recipients": [{"email": "a@example.in", "name": "A"}]})
    expect(r, 201, what="document expiring in 3 s")
    epath = "/v1/documents/" + r.data["id"]
    r, hit = cached_get(epath, key)
    check(hit and r.data["status"] == "pending", "pending, cached")
    time.sleep(max(0, api_time(exp) - time.time()) + 1.1)
    r = curl("GET", epath, key)
    check(r.data and r.data["status"] == "expired" and r.headers.get("x-cache") != "hit",
          "past its expiry the read expires it: %r" % r)
    # the rate limit counts hits: 100 a minute on the starter plan
    codes = [curl("GET", path, key).status for _ in range(100)]
    check(codes.count(429) >= 1 and codes[-1] == 429, "hits are rate limited too: %r" % sorted(set(codes)))
    # revoking the key (signcore-admin, another program) takes effect at once
    admin("key", "revoke", key_id)
    expect(curl("GET", path, key), 401, "revoked_api_key", "a revoked key, after cached reads")
    # signcore-worker removes expired entries
    old = time.time() - 3600
    for f in os.listdir(cache_dir):
        os.utime(os.path.join(cache_dir, f), (old, old))
    n = len(os.listdir(cache_dir))
    rc, out, err = tool(WORKER, "--data-dir", DATA, "--once")
    check(rc == 0 and n > 0 and not os.listdir(cache_dir), "the worker prunes expired entries (%d, rc %d %s)" % (n, rc, err))


def stat_mode(p):
    return os.stat(p).st_mode & 0o777


def api_time(s):
    import calendar
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def t_openapi():
    try:
        import yaml
    except ImportError:
        print("api: note: python3-yaml missing; OpenAPI check skipped", file=sys.stderr)
        return
    path = os.path.join(SRC, "api", "openapi.yaml")
    if not check(os.path.exists(path), "api/openapi.yaml exists"):
        return
    spec = yaml.safe_load(open(path, encoding="utf-8"))
    check(str(spec.get("openapi", "")).startswith("3.1"), "OpenAPI 3.1")
    n = 0
    for route, ops in spec["paths"].items():
        url = route
        url = url.replace("{id}", "doc_nothere0000000000000").replace("{documentId}", "doc_nothere0000000000000")
        url = re.sub(r"\{[^}]+\}", "x0000000000000000000", url)
        for method in ops:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            n += 1
            r = curl(method.upper(), url, KEY, body={} if method in ("post", "patch") else None)
            check(r.status not in (0, 405) and r.err.get("code") != "route_not_found",
                  "documented route %s %s answers (%r)" % (method.upper(), route, r))
    check(n >= 25, "the spec documents the API's routes (%d)" % n)


TESTS = [("auth", t_auth), ("uploads", t_uploads), ("bad", t_bad_requests), ("flow", t_full_flow),
         ("states", t_void_decline_approve), ("expiry", t_expiry), ("drafts", t_drafts),
         ("pagination", t_pagination), ("testmode", t_test_mode_stamp), ("tenants", t_tenants),
         ("idempotency", t_idempotency), ("concurrent", t_concurrent_submit), ("retry", t_completion_retry),
         ("ratelimit", t_rate_limit), ("cache", t_cache), ("openapi", t_openapi)]

for name, fn in TESTS:
    if ONLY and name not in ONLY:
        continue
    t0 = time.time()
    before = failures
    try:
        fn()
    except Exception as e:  # a crash in one test is a failure, the rest still run
        import traceback
        traceback.print_exc()
        fail("%s raised %r" % (name, e))
    print("api: %-12s %s (%.1f s)" % (name, "ok" if failures == before else "FAILED", time.time() - t0),
          file=sys.stderr)

print("api: %d checks, %d failures" % (checks, failures), file=sys.stderr)
sys.exit(1 if failures else 0)
