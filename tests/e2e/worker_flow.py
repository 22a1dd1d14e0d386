#!/usr/bin/env python3
"""End-to-end tests of webhooks, signcore-worker, the e-mail outbox, signer
OTP, reminders and expiry, driven with curl against lighttpd + signcore.cgi
on 127.0.0.1 (started by worker.sh, which passes the settings in the
environment) and with the worker run as a program.

Two servers of our own judge what the worker sends: a webhook receiver (an
HTTP server that checks X-Signcore-Signature with the secrets it is told,
refuses stale time stamps, records every request, and can be told to fail,
redirect or be slow) and an SMTP sink (a small SMTP server that stores every
message, read back with the email package).

    worker_flow.py [GROUP...]      (no GROUP: all of them but "lease")

Groups: webhooks (CRUD, URL rules, modes and accounts apart), flow (every
event and e-mail of a two-signer document), retry (backoff, the delivery
log, redirects, redelivery, test events, giving up, pruning), rotate
(secrets and grace), crash (a killed worker, two workers, SIGTERM), disable,
otp, expiry_reminders, decline_void, bad_input (bad requests, worker errors,
SMTP down, sendmail), lease (~40 s: a second worker while the first
works through a slow batch).

SPDX-License-Identifier: AGPL-3.0-or-later
"""
import email
import email.policy
import email.utils
import hashlib
import hmac
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

E = os.environ
BASE = E["API_BASE"]
WORK = E["WORK"]
DATA = E["DATA"]
FIX = E["FIXTURES"]
WORKER = E["WORKER"]
KEY_LIVE = E["KEY_LIVE"]        # enterprise account, live mode
KEY_TEST = E["KEY_TEST"]        # same account, test mode
KEY_OTHER = E["KEY_OTHER"]      # another account, test mode
ACC_EMAIL = E["ACC_EMAIL"]      # the first account's e-mail address
ONLY = set(sys.argv[1:])
PRODUCT = "Acme eSign"
MAIL_FROM = "Acme eSign <no-reply@acme-esign.test>"
RUN = "%04x" % random.randrange(0x10000)   # keeps titles apart between runs
PDF = os.path.join(FIX, "plain.pdf")
WORKER_LOG = os.path.join(WORK, "worker.log")
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error|Segmentation|died with signal")
ID = {p: re.compile(r"^%s[0-9a-z]{20}$" % p) for p in ("wh_", "dlv_", "evt_", "doc_")}
SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9_-]{43}$")
SIG_RE = re.compile(r"^t=(\d+)(,v1=[0-9a-f]{64})+$")
WEBHOOK_KEYS = {"id", "object", "url", "events", "enabled", "description", "testMode", "createdAt", "updatedAt",
                "failingSince", "disabledReason", "secretRotatedAt"}
DELIVERY_KEYS = {"id", "object", "webhookId", "eventId", "eventType", "documentId", "status", "attemptCount",
                 "nextAttemptAt", "createdAt", "deliveredAt", "error", "attempts"}
WEBHOOK_TYPES = {"document.sent", "document.viewed", "document.completed", "document.voided", "document.expired",
                 "document.declined", "signer.viewed", "signer.signed", "signer.declined", "signer.otp_verified",
                 "approval.approved", "approval.rejected"}

failures = 0
checks = 0


def fail(msg):
    global failures
    failures += 1
    print("worker: FAIL: " + msg, file=sys.stderr)


def check(cond, msg):
    global checks
    if cond:
        checks += 1
    else:
        fail(msg)
    return bool(cond)


def note(msg):
    print("worker: note: " + msg, file=sys.stderr)


# ------------------------------------------------------------------ the API

from apiclient import Resp, request  # noqa: E402


def curl(method, path, key=None, body=None, ctype=None, headers=(), raw=None, url=None):
    """One request with curl; returns Resp."""
    return request(BASE, WORK, method, path, key, body, ctype, headers, raw, url)


def expect(resp, status, code=None, what=""):
    ok = check(resp.status == status, "%s: expected %d, got %r" % (what, status, resp))
    if ok and code:
        ok = check(resp.err.get("code") == code, "%s: expected error code %s, got %r" % (what, code, resp))
    if resp.status >= 400:
        check(resp.err.get("requestId") and resp.err.get("requestId") == resp.headers.get("x-request-id"),
              "%s: error requestId matches X-Request-Id (%r)" % (what, resp))
    return ok


def expect_4xx(resp, what, statuses=(400, 422)):
    return check(resp.status in statuses and resp.err.get("code"),
                 "%s: expected %s with an error code, got %r" % (what, " or ".join(map(str, statuses)), resp))


def read(name):
    with open(name, "rb") as f:
        return f.read()


def tool(*args, stdin=None):
    p = subprocess.run(args, capture_output=True, input=stdin)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def parse_time(s):
    """RFC 3339 → Unix seconds (float); None for None or garbage."""
    if not isinstance(s, str):
        return None
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$", s)
    if not m:
        return None
    t = datetime(*map(int, m.groups()[:6]), tzinfo=timezone.utc).timestamp()
    if m.group(7):
        t += float(m.group(7))
    tz = m.group(8)
    if tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        t -= sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    return t


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def upload(path=PDF, key=KEY_TEST):
    r = curl("POST", "/v1/uploads", key, raw=read(path), ctype="application/pdf")
    expect(r, 201, what="upload " + os.path.basename(path))
    return r.data["storageKey"] if r.data else None


def make_doc(key, title, recipients, order="sequential", extra=None, expect_status=201):
    """A sent document; recipients are dicts (email, name, role, order, otp);
    every signer gets one signature field."""
    rl, fields = [], []
    for i, rc in enumerate(recipients):
        d = {"email": rc["email"], "name": rc.get("name", rc["email"].split("@")[0].title()),
             "role": rc.get("role", "signer")}
        if order == "sequential" and d["role"] != "cc":
            d["order"] = rc.get("order", i + 1)
        if "otp" in rc:
            d["otp"] = rc["otp"]
        rl.append(d)
        if d["role"] == "signer":
            fields.append({"type": "signature", "page": 1, "rect": [72, 100 + 60 * len(fields), 200, 50],
                           "recipient": rc["email"]})
    body = {"title": title, "storageKey": upload(key=key), "signingOrder": order, "recipients": rl,
            "fields": fields}
    if extra:
        body.update(extra)
    r = curl("POST", "/v1/documents", key, body)
    expect(r, expect_status, what="create document %r" % title)
    return r.data if r.status == 201 else None


def token_of(doc, email_addr):
    for rc in doc["recipients"]:
        if rc["email"] == email_addr:
            return rc["signingUrl"].rsplit("/", 1)[1]
    return None


def recipient_of(doc, email_addr):
    for rc in doc["recipients"]:
        if rc["email"] == email_addr:
            return rc
    return None


def get_doc(doc_id, key=KEY_TEST):
    r = curl("GET", "/v1/documents/" + doc_id, key)
    expect(r, 200, what="get document")
    return r.data or {}


def doc_events(doc_id, key=KEY_TEST):
    r = curl("GET", "/v1/documents/%s/events" % doc_id, key)
    expect(r, 200, what="document events")
    return r.data or []


def sign(token, name, what="submit"):
    """Open the signing link (viewed) and sign with a typed signature."""
    g = curl("GET", "/v1/signing/" + token)
    expect(g, 200, what=what + ": open the signing link")
    r = curl("POST", "/v1/signing/%s/submit" % token, body={"signature": {"text": name}})
    expect(r, 200, what=what)
    return r


# ------------------------------------------------------- the webhook receiver

def sign_header(secret, t, body):
    return hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(header, body, secrets, now=None, tolerance=300):
    """What a receiver does with X-Signcore-Signature: True when a v1
    signature is the HMAC of "<t>.<body>" by one of `secrets` and t is not
    older than `tolerance` seconds."""
    if not header:
        return False
    t, sigs = None, []
    for part in header.split(","):
        k, _, v = part.strip().partition("=")
        if k == "t":
            t = v
        elif k == "v1":
            sigs.append(v)
    if t is None or not t.isdigit() or not sigs:
        return False
    if int(t) < (time.time() if now is None else now) - tolerance:
        return False
    for s in secrets:
        want = sign_header(s, t, body)
        if any(hmac.compare_digest(want, x) for x in sigs):
            return True
    return False


def v1_list(header):
    return [p.split("=", 1)[1] for p in (header or "").split(",") if p.startswith("v1=")]


def t_of(header):
    m = re.match(r"^t=(\d+)", header or "")
    return int(m.group(1)) if m else None


class Hit:
    """One request the receiver got."""

    def __init__(self, path, headers, body, verified):
        self.path = path
        self.headers = headers
        self.body = body
        self.verified = verified
        self.at = time.time()
        self.done = False
        self.answered = None
        try:
            self.payload = json.loads(body)
        except ValueError:
            self.payload = None

    @property
    def type(self):
        return (self.payload or {}).get("type")

    @property
    def event_id(self):
        return (self.payload or {}).get("id")

    @property
    def delivery(self):
        return self.headers.get("x-signcore-delivery")

    @property
    def sig(self):
        return self.headers.get("x-signcore-signature")

    @property
    def document(self):
        return ((self.payload or {}).get("data") or {}).get("document") or {}

    @property
    def recipient(self):
        return ((self.payload or {}).get("data") or {}).get("recipient")

    def __repr__(self):
        return "<%s %s %s %s>" % (self.path, self.type, self.delivery, "verified" if self.verified else "UNVERIFIED")


class Receiver:
    """Webhook endpoint on 127.0.0.1. `secrets[path]` are the secrets it
    verifies with; `plan` holds the answers of the next requests
    (("status", code, body), ("redirect", location), ("slow", seconds)),
    `always` an answer for every request, `delay` a pause before answering."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()
        rx = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                with rx.lock:
                    secrets = list(rx.secrets.get(self.path, []))
                    hit = Hit(self.path, headers, body, verify_signature(headers.get("x-signcore-signature"), body,
                                                                         secrets))
                    rx.hits.append(hit)
                    action = rx.plan.pop(0) if rx.plan else rx.always
                    delay = rx.delay
                status, reply, location = 200, b"ok", None
                if action:
                    if action[0] == "status":
                        status, reply = action[1], action[2]
                    elif action[0] == "redirect":
                        status, reply, location = 302, b"moved", action[1]
                    elif action[0] == "slow":
                        delay = max(delay, action[1])
                if delay:
                    time.sleep(delay)
                hit.answered = status
                try:
                    self.send_response(status)
                    if location:
                        self.send_header("Location", location)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass
                hit.done = True

            def do_GET(self):
                with rx.lock:
                    rx.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, b"", False))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self):
        with self.lock:
            self.hits = []
            self.secrets = {}
            self.plan = []
            self.always = None
            self.delay = 0.0

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def fail_next(self, n, status=500):
        with self.lock:
            for i in range(n):
                self.plan.append(("status", status, b"failure %d of %d" % (i + 1, n)))

    def at(self, path):
        with self.lock:
            return [h for h in self.hits if h.path == path]

    def wait(self, cond, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            if cond():
                return True
            time.sleep(0.05)
        return cond()


# ------------------------------------------------------------ the SMTP sink

class Mail:
    def __init__(self, mail_from, rcpts, raw):
        self.mail_from = mail_from
        self.rcpts = [r.lower() for r in rcpts]
        self.raw = raw
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.raw_headers = email.message_from_bytes(raw, policy=email.policy.compat32)
        self.subject = str(self.msg.get("Subject", ""))
        self.to = str(self.msg.get("To", ""))
        t = self.msg.get_body(("plain",))
        h = self.msg.get_body(("html",))
        self.text = t.get_content() if t is not None else ""
        self.html = h.get_content() if h is not None else ""

    def links(self):
        return re.findall(r"https?://[^\s<>\"']+", self.text)

    def __repr__(self):
        return "<mail to %s: %r>" % (",".join(self.rcpts), self.subject)


class SmtpSink:
    """A small SMTP server on 127.0.0.1 (EHLO/HELO, MAIL, RCPT, DATA, RSET,
    NOOP, QUIT). stop() closes it (connections are then refused); start()
    opens it again on the same port."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mails = []
        self.sock = None
        self.port = 0
        self.start()

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(16)
        s.settimeout(0.2)
        self.port = s.getsockname()[1]
        self.sock = s
        self.running = True
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def stop(self):
        self.running = False
        s, self.sock = self.sock, None
        if s:
            s.close()
        time.sleep(0.3)  # the accept loop notices

    def _accept(self, s):
        while self.running and self.sock is s:
            try:
                conn, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        f = conn.makefile("rb")

        def say(line):
            conn.sendall(line.encode() + b"\r\n")

        try:
            say("220 sink.test ESMTP test sink")
            mail_from, rcpts = None, []
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.decode("latin-1").rstrip("\r\n")
                verb = cmd.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    say("250-sink.test")
                    say("250 8BITMIME")
                elif verb == "HELO":
                    say("250 sink.test")
                elif verb == "MAIL" and cmd.upper().startswith("MAIL FROM:"):
                    m = re.search(r"<([^>]*)>", cmd)
                    mail_from, rcpts = (m.group(1) if m else cmd[10:].strip()), []
                    say("250 2.1.0 ok")
                elif verb == "RCPT" and cmd.upper().startswith("RCPT TO:"):
                    if mail_from is None:
                        say("503 5.5.1 MAIL first")
                        continue
                    m = re.search(r"<([^>]*)>", cmd)
                    rcpts.append(m.group(1) if m else cmd[8:].strip())
                    say("250 2.1.5 ok")
                elif verb == "DATA":
                    if not rcpts:
                        say("503 5.5.1 RCPT first")
                        continue
                    say("354 end with <CRLF>.<CRLF>")
                    lines = []
                    while True:
                        ln = f.readline()
                        if not ln:
                            return
                        if ln in (b".\r\n", b".\n"):
                            break
                        if ln.startswith(b".."):
                            ln = ln[1:]
                        lines.append(ln)
                    raw = b"".join(lines)
                    try:
                        mail = Mail(mail_from, rcpts, raw)
                    except Exception as e:  # stored anyway, the test says what is wrong
                        mail = None
                        fail("the SMTP sink could not parse a message (%r): %r" % (e, raw[:300]))
                    if mail:
                        with self.lock:
                            self.mails.append(mail)
                    mail_from, rcpts = None, []
                    say("250 2.0.0 queued")
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    say("250 2.0.0 ok")
                elif verb == "NOOP":
                    say("250 2.0.0 ok")
                elif verb == "QUIT":
                    say("221 2.0.0 bye")
                    return
                else:
                    say("502 5.5.2 not implemented")
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def mark(self):
        with self.lock:
            return len(self.mails)

    def to(self, addr, since=0):
        with self.lock:
            return [m for m in self.mails[since:] if addr.lower() in m.rcpts]


RX = Receiver()
SINK = SmtpSink()


# -------------------------------------------------------------- the worker

WENV = dict(E)


def worker(*args, now=None, want_rc=0, timeout=120, what="signcore-worker"):
    """Run signcore-worker --data-dir DATA ARGS (default --once) [--now NOW];
    returns (exit status, standard error)."""
    cmd = [WORKER, "--data-dir", DATA] + (list(args) or ["--once"])
    if now is not None:
        cmd += ["--now", now if isinstance(now, str) else str(int(now))]
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=WENV)
        rc, err = p.returncode, p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        rc, err = None, (e.stderr or b"").decode(errors="replace")
    with open(WORKER_LOG, "a") as f:
        f.write("$ %s\n%s" % (" ".join(cmd[1:]), err))
    if want_rc is not None:
        check(rc == want_rc, "%s: expected exit %s, got %s: %s" % (what, want_rc, rc, err[-600:]))
    check(not SANITIZER.search(err), "%s: sanitizer or crash report: %s" % (what, err[-1500:]))
    return rc, err


def popen_worker(*args, now=None):
    cmd = [WORKER, "--data-dir", DATA] + list(args)
    if now is not None:
        cmd += ["--now", str(int(now))]
    log = open(WORKER_LOG, "a")
    log.write("$ %s &\n" % " ".join(cmd[1:]))
    log.flush()
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env=WENV)


def drain(cond, what, timeout=20.0, now=None, pause=0.4):
    """Run `signcore-worker --once` until cond() holds (backoff with a real
    clock); False and a failure after `timeout` seconds."""
    end = time.time() + timeout
    while True:
        worker(now=now, what=what)
        if cond():
            return True
        if time.time() > end:
            return check(False, "%s: not reached within %.0f s" % (what, timeout))
        time.sleep(pause)


def write_conf(**sections):
    """signcore.conf with the test settings; keyword arguments override keys
    per section (webhooks={"disable_after": 3})."""
    conf = {
        "server": {"base_url": BASE, "product_name": PRODUCT},
        "webhooks": {"timeout": 10, "retry_base": 1, "retry_cap": 2, "jitter": 0, "give_up_after": 3600,
                     "disable_after": 3600},
        "smtp": {"url": "smtp://127.0.0.1:%d" % SINK.port, "from": MAIL_FROM},
        "worker": {"interval": 1},
    }
    for sec, kv in sections.items():
        conf.setdefault(sec, {}).update(kv)
        conf[sec] = {k: v for k, v in conf[sec].items() if v is not None}  # None drops a key
    text = "".join("[%s]\n%s\n" % (sec, "".join("%s = %s\n" % kv for kv in kv_map.items()))
                   for sec, kv_map in conf.items())
    with open(os.path.join(DATA, "signcore.conf"), "w") as f:
        f.write(text)


# ----------------------------------------------------------- per-group setup

def clean_webhooks():
    for key in (KEY_TEST, KEY_LIVE, KEY_OTHER):
        r = curl("GET", "/v1/webhooks", key)
        for w in (r.data or []) if r.status == 200 else []:
            curl("DELETE", "/v1/webhooks/" + w["id"], key)


class Group:
    """Fresh settings, no webhooks, the queue drained, marks on the sink."""

    def __init__(self, name):
        self.name = name
        write_conf()
        RX.reset()
        clean_webhooks()
        worker(what=name + ": flush the queue")
        self.mark = SINK.mark()
        self.path = "/hook/" + name

    def mails(self, addr):
        return SINK.to(addr, self.mark)

    def email(self, who):
        return "%s.%s.%s@example.in" % (who, self.name.replace("_", "-"), RUN)

    def title(self, what):
        return "%s %s %s" % (what, self.name, RUN)

    def hits(self, path=None):
        return RX.at(path or self.path)

    def webhook(self, key=KEY_TEST, events=None, path=None, **more):
        body = {"url": RX.url(path or self.path)}
        if events is not None:
            body["events"] = events
        body.update(more)
        r = curl("POST", "/v1/webhooks", key, body)
        expect(r, 201, what="%s: create webhook" % self.name)
        if r.status != 201:
            return None, None
        with RX.lock:
            RX.secrets.setdefault(path or self.path, []).append(r.data.get("secret"))
        return r.data, r.data.get("secret")

    def done(self):
        clean_webhooks()
        write_conf()


def deliveries(wh_id, key=KEY_TEST, query=""):
    r = curl("GET", "/v1/webhooks/%s/deliveries%s" % (wh_id, query), key)
    expect(r, 200, what="list deliveries")
    return r.data or []


def delivery_of(wh_id, event_id=None, dlv_id=None, key=KEY_TEST):
    for d in deliveries(wh_id, key, "?limit=100"):
        if (event_id and d.get("eventId") == event_id) or (dlv_id and d.get("id") == dlv_id):
            return d
    return None


def backoff_ok(at, nxt, delay):
    """nextAttemptAt is `delay` seconds after the attempt (clocks of one-second resolution allowed)"""
    return at is not None and nxt is not None and int(at) + delay - 0.001 <= nxt <= at + delay + 1


def codes(d):
    return [a.get("statusCode") for a in (d or {}).get("attempts") or []]


def chronological(d):
    """attempts oldest first, whichever order the API lists them in"""
    a = list((d or {}).get("attempts") or [])
    if len(a) > 1 and (parse_time(a[0].get("at")) or 0) > (parse_time(a[-1].get("at")) or 0):
        a.reverse()
    return a


def test_event(wh_id, key=KEY_TEST, what="test event"):
    r = curl("POST", "/v1/webhooks/%s/test" % wh_id, key)
    if expect(r, 202, what=what):
        check(r.headers[":status-line"].rstrip().endswith(" 202 Accepted"), "%s: the status line says 202 Accepted: %r"
              % (what, r.headers[":status-line"]))
    return r.data or {}


def compact(body):
    """the JSON text has no whitespace outside strings"""
    rest = re.sub(rb'"(?:[^"\\]|\\.)*"', b'""', body)
    return not re.search(rb"\s", rest)


def check_hit(h, secrets_ok=True, what=""):
    """headers and signature of one webhook request"""
    check(h.verified is secrets_ok, "%s: signature verified=%s expected %s: %r %r" %
          (what, h.verified, secrets_ok, h.sig, h.body[:200]))
    check(h.headers.get("content-type", "").split(";")[0].strip() == "application/json",
          "%s: Content-Type application/json: %r" % (what, h.headers.get("content-type")))
    check(re.match(r"^signcore-webhooks/\S+$", h.headers.get("user-agent", "")),
          "%s: User-Agent signcore-webhooks/<version>: %r" % (what, h.headers.get("user-agent")))
    check(SIG_RE.match(h.sig or ""), "%s: X-Signcore-Signature t=..,v1=..: %r" % (what, h.sig))
    check(ID["dlv_"].match(h.delivery or ""), "%s: X-Signcore-Delivery dlv_ id: %r" % (what, h.delivery))
    check(h.payload is not None, "%s: the body is JSON: %r" % (what, h.body[:200]))
    if h.payload is None:
        return
    check(h.headers.get("x-signcore-event") == h.type, "%s: X-Signcore-Event %r matches the payload type %r" %
          (what, h.headers.get("x-signcore-event"), h.type))
    check(ID["evt_"].match(h.event_id or ""), "%s: payload id is an evt_ id: %r" % (what, h.event_id))
    check(parse_time(h.payload.get("createdAt")) is not None, "%s: payload createdAt RFC 3339: %r" %
          (what, h.payload.get("createdAt")))
    check(compact(h.body), "%s: compact JSON body: %r" % (what, h.body[:200]))


# ------------------------------------------------------------------- tests

LIVE_REFUSED = ["https://127.0.0.1/hook", "https://localhost/hook", "https://10.0.0.1/hook", "https://10.1.2.3/hook",
                "https://[::1]/hook", "https://169.254.169.254/latest/meta-data", "https://192.168.1.10/hook",
                "https://172.16.0.1/hook", "https://100.64.0.1/hook", "https://224.0.0.1/hook",
                "https://0.0.0.0/hook", "https://[fc00::1]/hook", "https://[fe80::1]/hook",
                "https://[::ffff:127.0.0.1]/hook", "https://127.1/hook", "https://2130706433/hook",
                "https://0177.0.0.1/hook", "https://0x7f000001/hook", "https://[::ffff:7f00:1]/hook",
                "https://[0:0:0:0:0:0:0:1]/hook", "https://LOCALHOST/hook", "https://localhost./hook",
                "https://[::]/hook", "https://[fd12:3456::1]/hook", "https://[ff02::1]/hook",
                "https://100.127.255.254/hook", "https://127.0.0.1:8443/hook"]


def t_webhooks():
    g = Group("webhooks")
    # create: 201, the secret once
    r = curl("POST", "/v1/webhooks", KEY_TEST, {"url": RX.url(g.path), "description": "orders"})
    expect(r, 201, what="create a test-mode webhook")
    w = r.data or {}
    secret = w.get("secret") or ""
    check(ID["wh_"].match(w.get("id", "")), "webhook id wh_ + 20: %r" % w.get("id"))
    check(SECRET_RE.match(secret), "secret is whsec_ + 43 base64url chars: %r" % secret)
    check(set(w) == WEBHOOK_KEYS | {"secret"}, "webhook resource keys: %r" % sorted(w))
    check(w.get("object") == "webhook" and w.get("url") == RX.url(g.path) and w.get("events") == ["*"] and
          w.get("enabled") is True and w.get("description") == "orders" and w.get("testMode") is True,
          "defaults: events [\"*\"], enabled, testMode: %r" % w)
    check(w.get("failingSince") is None and w.get("disabledReason") is None and w.get("secretRotatedAt") is None,
          "a new webhook is not failing, disabled or rotated: %r" % w)
    check(parse_time(w.get("createdAt")) and parse_time(w.get("updatedAt")), "createdAt/updatedAt RFC 3339")
    wid = w.get("id", "wh_none")
    # never shown again
    r = curl("GET", "/v1/webhooks/" + wid, KEY_TEST)
    expect(r, 200, what="get webhook")
    check(r.data and "secret" not in r.data and secret.encode() not in r.body, "GET does not show the secret")
    check(r.data and set(r.data) == WEBHOOK_KEYS, "GET webhook keys: %r" % sorted(r.data or {}))
    r = curl("GET", "/v1/webhooks", KEY_TEST)
    expect(r, 200, what="list webhooks")
    check([x["id"] for x in r.data or []] == [wid], "the list holds the webhook: %r" % r)
    check(r.meta.get("count") == 1, "list meta.count: %r" % r.meta)
    check(secret.encode() not in r.body, "the list does not show the secret")

    # live keys: https only, no private or loopback hosts
    r = curl("POST", "/v1/webhooks", KEY_LIVE, {"url": "http://93.184.216.34/hook"})
    expect(r, 422, "webhook_url_not_allowed", "live key, http://")
    check("https" in r.err.get("message", "").lower(), "the message says https is required: %r" % r.err)
    for u in LIVE_REFUSED:
        expect(curl("POST", "/v1/webhooks", KEY_LIVE, {"url": u}), 422, "webhook_url_not_allowed", "live key, " + u)
    r = curl("POST", "/v1/webhooks", KEY_LIVE, {"url": "https://93.184.216.34/hook", "events": ["document.sent"]})
    expect(r, 201, what="live key, https to a public address")
    live = r.data or {}
    check(live.get("testMode") is False, "a live key's webhook is live: %r" % live)
    # URL rules for every key
    for u, what in (("https://user:pw@93.184.216.34/hook", "userinfo"), ("ftp://93.184.216.34/hook", "ftp://"),
                    ("93.184.216.34/hook", "no scheme"), ("https://93.184.216.34/" + "a" * 2050, "over 2048 bytes"),
                    ("", "empty")):
        expect_4xx(curl("POST", "/v1/webhooks", KEY_LIVE, {"url": u}), "live key, URL with " + what)
        expect_4xx(curl("POST", "/v1/webhooks", KEY_TEST, {"url": u}), "test key, URL with " + what)
    # test keys: http only to loopback, https anywhere
    for u in (RX.url("/loop-localhost").replace("127.0.0.1", "localhost"), "http://[::1]:%d/x" % RX.port,
              "http://127.0.0.2:%d/x" % RX.port, "https://10.0.0.1/hook"):
        r = curl("POST", "/v1/webhooks", KEY_TEST, {"url": u})
        expect(r, 201, what="test key, " + u)
        if r.data:
            curl("DELETE", "/v1/webhooks/" + r.data["id"], KEY_TEST)
    for u in ("http://10.0.0.1/hook", "http://93.184.216.34/hook", "http://192.168.1.10/hook"):
        expect(curl("POST", "/v1/webhooks", KEY_TEST, {"url": u}), 422, "webhook_url_not_allowed", "test key, " + u)

    # events and other fields
    r = curl("POST", "/v1/webhooks", KEY_TEST, {"url": RX.url("/x"), "events": ["document.sent", "document.sen"]})
    expect(r, 422, "invalid_event_type", "unknown event type")
    expect(curl("POST", "/v1/webhooks", KEY_TEST, {"url": RX.url("/x"), "events": ["webhook.nothing"]}), 422,
           "invalid_event_type", "unknown webhook.* event type")
    expect_4xx(curl("POST", "/v1/webhooks", KEY_TEST, {"url": RX.url("/x"), "events": "document.sent"}),
               "events not an array")
    expect_4xx(curl("POST", "/v1/webhooks", KEY_TEST, {"url": RX.url("/x"), "description": "d" * 501}),
               "description over 500")
    expect_4xx(curl("POST", "/v1/webhooks", KEY_TEST, {"url": RX.url("/x"), "enabled": "yes"}), "enabled not a bool")
    expect(curl("POST", "/v1/webhooks", KEY_TEST, {"url": RX.url("/x"), "secret": "mine"}), 400, "unknown_field",
           "unknown key in a webhook")
    r = curl("POST", "/v1/webhooks", KEY_TEST, {"url": RX.url("/x"), "events": sorted(WEBHOOK_TYPES),
                                                "enabled": False})
    expect(r, 201, what="every event type, disabled")
    check(r.data and sorted(r.data["events"]) == sorted(WEBHOOK_TYPES) and r.data["enabled"] is False,
          "events and enabled kept: %r" % r)
    if r.data:
        curl("DELETE", "/v1/webhooks/" + r.data["id"], KEY_TEST)

    # PATCH
    time.sleep(1.1)
    r = curl("PATCH", "/v1/webhooks/" + wid, KEY_TEST, {"events": ["document.completed", "signer.signed"],
                                                       "description": "changed", "enabled": False})
    expect(r, 200, what="patch webhook")
    p = r.data or {}
    check(p.get("events") == ["document.completed", "signer.signed"] and p.get("description") == "changed" and
          p.get("enabled") is False and p.get("url") == w.get("url"), "patch changes what it names: %r" % p)
    check((parse_time(p.get("updatedAt")) or 0) > (parse_time(w.get("updatedAt")) or 0), "patch moves updatedAt")
    check("secret" not in p, "PATCH does not show the secret")
    expect(curl("PATCH", "/v1/webhooks/" + wid, KEY_TEST, {"events": ["nope"]}), 422, "invalid_event_type",
           "patch an unknown event type")
    expect(curl("PATCH", "/v1/webhooks/" + wid, KEY_TEST, {"url": "http://10.0.0.1/"}), 422,
           "webhook_url_not_allowed", "patch to a private http URL")
    expect(curl("PATCH", "/v1/webhooks/" + wid, KEY_TEST, {"colour": "red"}), 400, "unknown_field",
           "patch an unknown key")
    r = curl("PATCH", "/v1/webhooks/" + wid, KEY_TEST, {"url": RX.url(g.path + "/v2"), "enabled": True})
    expect(r, 200, what="patch the URL back on")
    check(r.data and r.data["url"] == RX.url(g.path + "/v2") and r.data["enabled"] is True and
          r.data["events"] == ["document.completed", "signer.signed"], "patched URL: %r" % r)
    if live:
        expect(curl("PATCH", "/v1/webhooks/" + live["id"], KEY_LIVE, {"url": "https://127.0.0.1/"}), 422,
               "webhook_url_not_allowed", "live patch to loopback")

    # another account sees nothing
    for m, suffix, body in (("GET", "", None), ("PATCH", "", {"enabled": False}), ("DELETE", "", None),
                            ("POST", "/rotate-secret", {}), ("POST", "/test", None), ("GET", "/deliveries", None)):
        expect(curl(m, "/v1/webhooks/" + wid + suffix, KEY_OTHER, body), 404, "webhook_not_found",
               "another account: %s webhook%s" % (m, suffix))
    check(wid not in [x["id"] for x in curl("GET", "/v1/webhooks", KEY_OTHER).data or []],
          "another account's list does not hold it")
    expect(curl("GET", "/v1/webhooks/wh_nothere000000000000", KEY_TEST), 404, "webhook_not_found", "unknown webhook")
    expect(curl("GET", "/v1/webhooks/nonsense", KEY_TEST), 404, "webhook_not_found", "malformed webhook id")
    expect(curl("GET", "/v1/webhooks"), 401, "missing_api_key", "webhooks without a key")

    # modes apart: the live key does not see the test webhook, nor the other way round
    expect(curl("GET", "/v1/webhooks/" + wid, KEY_LIVE), 404, "webhook_not_found", "live key reads a test webhook")
    if live:
        expect(curl("GET", "/v1/webhooks/" + live["id"], KEY_TEST), 404, "webhook_not_found",
               "test key reads a live webhook")
    check([x["id"] for x in curl("GET", "/v1/webhooks", KEY_LIVE).data or []] == [live.get("id")],
          "the live list holds only the live webhook")
    # events of a mode go to that mode's webhooks only (queued; the worker is not run:
    # the live URL is a real address)
    curl("PATCH", "/v1/webhooks/" + wid, KEY_TEST, {"events": ["*"]})
    tdoc = make_doc(KEY_TEST, g.title("Test mode"), [{"email": g.email("t")}])
    ldoc = make_doc(KEY_LIVE, g.title("Live mode"), [{"email": g.email("l")}])
    td = deliveries(wid)
    check([d["documentId"] for d in td] == [tdoc and tdoc["id"]] and td and td[0]["eventType"] == "document.sent",
          "the test webhook got only the test document's document.sent: %r" % [(d["documentId"], d["eventType"])
                                                                                  for d in td])
    if live:
        ld = deliveries(live["id"], KEY_LIVE)
        check([(d["documentId"], d["eventType"]) for d in ld] == [(ldoc and ldoc["id"], "document.sent")],
              "the live webhook got only the live document's document.sent: %r" % ld)
        if ld:
            d = ld[0]
            check(set(d) == DELIVERY_KEYS, "delivery resource keys: %r" % sorted(d))
            check(ID["dlv_"].match(d["id"]) and d["object"] == "webhook_delivery" and d["webhookId"] == live["id"]
                  and d["status"] == "pending" and d["attemptCount"] == 0 and d["attempts"] == [] and
                  ID["evt_"].match(d["eventId"] or ""), "a queued delivery: %r" % d)
            ev = [e["id"] for e in doc_events(ldoc["id"], KEY_LIVE) if e["type"] == "document.sent"]
            check(ev == [d["eventId"]], "the delivery's eventId is the audit log's event id: %r %r" % (ev, d))
        # delete: 200, gone, its queued delivery dropped
        r = curl("DELETE", "/v1/webhooks/" + live["id"], KEY_LIVE)
        expect(r, 200, what="delete webhook")
        check(r.data == {"id": live["id"], "object": "webhook", "deleted": True}, "delete answer: %r" % r)
        expect(curl("GET", "/v1/webhooks/" + live["id"], KEY_LIVE), 404, "webhook_not_found", "deleted webhook")
        expect(curl("DELETE", "/v1/webhooks/" + live["id"], KEY_LIVE), 404, "webhook_not_found", "delete twice")
        expect(curl("GET", "/v1/webhooks/%s/deliveries" % live["id"], KEY_LIVE), 404, "webhook_not_found",
               "deliveries of a deleted webhook")

    # a deleted webhook's queued deliveries are dropped
    r = curl("POST", "/v1/webhooks", KEY_TEST, {"url": RX.url(g.path + "/deleted")})
    if r.status == 201:
        test_event(r.data["id"], what="queue for a webhook about to go")
        expect(curl("DELETE", "/v1/webhooks/" + r.data["id"], KEY_TEST), 200, None, "delete with a queued delivery")
        worker(what="webhooks: after delete")
        check(g.hits(g.path + "/deleted") == [], "nothing is sent for a deleted webhook: %r" %
              g.hits(g.path + "/deleted"))

    # at most 16 per account and mode
    made = []
    for i in range(16):
        r = curl("POST", "/v1/webhooks", KEY_OTHER, {"url": RX.url("/many/%d" % i)})
        if r.status != 201:
            fail("webhook %d of 16: %r" % (i + 1, r))
            break
        made.append(r.data["id"])
    expect(curl("POST", "/v1/webhooks", KEY_OTHER, {"url": RX.url("/many/17")}), 422, "too_many_webhooks",
           "the 17th webhook")
    r = curl("GET", "/v1/webhooks", KEY_OTHER)
    check(r.meta.get("count") == 16 and len(r.data or []) == 16, "16 webhooks listed: %r" % r.meta)
    if made:
        curl("DELETE", "/v1/webhooks/" + made[0], KEY_OTHER)
        expect(curl("POST", "/v1/webhooks", KEY_OTHER, {"url": RX.url("/many/again")}), 201, None,
               "room again after a delete")
    g.done()


def check_mail(m, what, title=None):
    """the common shape of every message"""
    check(m.msg.get_content_type() == "multipart/alternative", "%s: multipart/alternative: %s" %
          (what, m.msg.get_content_type()))
    parts = [p.get_content_type() for p in m.msg.iter_parts()] if m.msg.is_multipart() else []
    check("text/plain" in parts and "text/html" in parts, "%s: text and html parts: %r" % (what, parts))
    for p in (m.msg.iter_parts() if m.msg.is_multipart() else []):
        check((p.get_content_charset() or "").lower() == "utf-8", "%s: %s is UTF-8: %r" %
              (what, p.get_content_type(), p.get_content_charset()))
    for h in ("Message-ID", "Date", "From", "To", "Subject"):
        check(m.msg.get(h), "%s: %s header" % (what, h))
    check(email.utils.parsedate_to_datetime(str(m.msg.get("Date", ""))) is not None if m.msg.get("Date") else False,
          "%s: Date parses" % what)
    frm = m.msg.get("From")
    check(frm is not None and getattr(frm, "addresses", None) and
          frm.addresses[0].addr_spec == "no-reply@acme-esign.test", "%s: From is [smtp] from: %r" % (what, str(frm)))
    raw_subject = m.raw_headers.get("Subject", "")
    check(all(ord(c) < 128 for c in raw_subject), "%s: the raw Subject is ASCII (RFC 2047): %r" % (what, raw_subject))
    check(PRODUCT in m.subject, "%s: Subject names the product %r: %r" % (what, PRODUCT, m.subject))
    if title:
        check(title in m.subject, "%s: Subject names the document %r: %r" % (what, title, m.subject))
        if any(ord(c) > 127 for c in title):
            check("=?" in raw_subject, "%s: a non-ASCII Subject is encoded: %r" % (what, raw_subject))


def webhook_types(hits):
    return [h.type for h in hits]


def t_flow():
    g = Group("flow")
    wh, secret = g.webhook(events=["*"])
    if not wh:
        return
    filtered, _ = g.webhook(events=["signer.signed", "document.completed"], path=g.path + "/filtered")
    off, _ = g.webhook(events=["*"], path=g.path + "/off", enabled=False)
    p1, p2, cc = g.email("priya"), g.email("arun"), g.email("records")
    title = g.title("Service Agreement — सेवा अनुबंध")
    doc = make_doc(KEY_TEST, title, [{"email": p1, "name": "प्रिया शर्मा"}, {"email": p2, "name": "Arun Kumar"},
                                     {"email": cc, "name": "Records", "role": "cc"}])
    if not doc:
        return
    did = doc["id"]
    t1, t2, tcc = token_of(doc, p1), token_of(doc, p2), token_of(doc, cc)
    rc, err = worker(what="flow: after send")
    hits = g.hits()
    check(webhook_types(hits) == ["document.sent"], "after send: document.sent only: %r" % hits)
    m = re.search(r"^signcore-worker: delivered (dlv_[0-9a-z]{20}) \(document\.sent[^)]*\) to (\S+?):? (\d{3}) in \d+ ms$",
                  err, re.M)
    check(m and m.group(2) == RX.url(g.path) and m.group(3) == "200",
          "the worker says what it delivered, where, the status and the time: %r" % err)
    if hits and m:
        check(m.group(1) == hits[0].delivery, "the worker's line names the delivery id: %r" % err)
    # the invitation of signer 1 only
    i1 = g.mails(p1)
    check(len(i1) == 1, "one invitation for signer 1 at send: %r" % i1)
    check(g.mails(p2) == [], "signer 2 is not invited before signer 1 signed (sequential): %r" % g.mails(p2))
    check(g.mails(cc) == [], "no mail to the cc at send: %r" % g.mails(cc))
    if i1:
        m1 = i1[0]
        check_mail(m1, "invitation", title)
        check(p1 in m1.to, "invitation To names signer 1: %r" % m1.to)
        url1 = recipient_of(doc, p1)["signingUrl"]
        check(url1 in m1.links(), "the invitation's text holds the signing link %s: %r" % (url1, m1.links()))
        check(url1 in m1.html, "the invitation's html holds the signing link")
        check(url1.startswith(BASE + "/v1/signing/"), "the link is <base>/v1/signing/<token>: %s" % url1)
        expect(curl("GET", url1[len(BASE):]), 200, None, "the invitation's link opens")
    else:
        curl("GET", "/v1/signing/" + t1)
    worker(what="flow: after signer 1 viewed")
    check(webhook_types(g.hits())[1:] == ["document.viewed", "signer.viewed"],
          "signer 1 opening the link: document.viewed, signer.viewed: %r" % g.hits())
    r = curl("POST", "/v1/signing/%s/submit" % t1, body={"signature": {"text": "Priya"}})
    expect(r, 200, what="signer 1 signs")
    worker(what="flow: after signer 1 signed")
    check(webhook_types(g.hits())[3:] == ["signer.signed"], "signer.signed after signer 1: %r" % g.hits())
    i2 = g.mails(p2)
    check(len(i2) == 1, "signer 2 is invited once signer 1 signed: %r" % i2)
    if i2:
        check_mail(i2[0], "invitation 2", title)
        check(recipient_of(doc, p2)["signingUrl"] in i2[0].links(), "signer 2's invitation holds its link")
    check(len(g.mails(p1)) == 1, "no more mail to signer 1 yet: %r" % g.mails(p1))
    sign(t2, "Arun Kumar", "signer 2 signs")
    final = get_doc(did)
    check(final.get("status") == "completed", "the document is completed: %r" % final.get("status"))
    worker(what="flow: after completion")
    hits = g.hits()
    types = webhook_types(hits)
    check(types == ["document.sent", "document.viewed", "signer.viewed", "signer.signed", "signer.viewed",
                    "signer.signed", "document.completed"], "every event of the flow once, in order: %r" % types)
    for i, h in enumerate(hits):
        check_hit(h, what="flow event %d (%s)" % (i, h.type))
    check(len({h.event_id for h in hits}) == len(hits), "event ids unique: %r" % [h.event_id for h in hits])
    fh = g.hits(g.path + "/filtered")
    check(webhook_types(fh) == ["signer.signed", "signer.signed", "document.completed"] and all(h.verified for h in fh),
          "a webhook gets only the events it names: %r" % fh)
    check([h.event_id for h in fh] == [h.event_id for h in hits if h.type in ("signer.signed", "document.completed")],
          "the same event ids for every webhook")
    check(len({h.delivery for h in fh + hits}) == len(fh) + len(hits), "one delivery per webhook and event")
    check(g.hits(g.path + "/off") == [] and off and deliveries(off["id"]) == [],
          "a disabled webhook gets nothing queued: %r" % g.hits(g.path + "/off"))
    check(len({h.delivery for h in hits}) == len(hits), "delivery ids unique")
    # the payloads against the audit log
    audit = [e for e in doc_events(did) if e["type"] in WEBHOOK_TYPES]
    check([e["id"] for e in audit] == [h.event_id for h in hits],
          "the payload ids are the audit log's event ids, in its order: %r %r" %
          ([(e["type"], e["id"]) for e in audit], [(h.type, h.event_id) for h in hits]))
    rid = {rc["id"]: rc["email"] for rc in final.get("recipients", [])}
    for h, e in zip(hits, audit):
        d = h.document
        check(d.get("id") == did and d.get("title") == title and d.get("testMode") is True,
              "%s: data.document is the document: %r" % (h.type, {k: d.get(k) for k in ("id", "title")}))
        if h.type.startswith("signer.") or h.type == "document.viewed":
            rcp = h.recipient or {}
            check(rcp.get("id") == e.get("recipient") and rcp.get("email") == rid.get(e.get("recipient")),
                  "%s: data.recipient is the acting recipient: %r vs %r" % (h.type, rcp, e.get("recipient")))
            check(rcp in d.get("recipients", []), "%s: data.recipient is the document's recipient object" % h.type)
    by_type = {}
    for h in hits:
        by_type.setdefault(h.type, []).append(h)
    if "document.sent" in by_type:
        check(by_type["document.sent"][0].document.get("status") == "pending", "document.sent: status pending")
    if len(by_type.get("signer.signed", [])) == 2:
        s1, s2 = by_type["signer.signed"]
        check((s1.recipient or {}).get("email") == p1 and (s2.recipient or {}).get("email") == p2,
              "signer.signed for signer 1, then signer 2")
        check((s1.recipient or {}).get("status") == "signed", "signer.signed: the recipient is signed at that moment")
        st = {r["email"]: r["status"] for r in s1.document.get("recipients", [])}
        check(st.get(p2) != "signed", "the first signer.signed shows the document as it was then: %r" % st)
    if "document.completed" in by_type:
        dc = by_type["document.completed"][0].document
        check(dc.get("status") == "completed" and dc.get("signedSha256") == final.get("signedSha256"),
              "document.completed: the completed document: %r" % dc.get("status"))
        check("recipient" not in by_type["document.completed"][0].payload.get("data", {}) or
              by_type["document.completed"][0].recipient is None, "document.completed carries no recipient")
    # completed mails with a working download link
    signed = curl("GET", "/v1/documents/%s/download?variant=signed" % did, KEY_TEST)
    for who, tok in ((p1, t1), (p2, t2), (cc, tcc)):
        ms = g.mails(who)
        done = [x for x in ms if any(u.endswith("/v1/signing/%s/download" % tok) for u in x.links())]
        check(len(done) == 1, "%s gets one completed mail with a download link: %r" % (who, ms))
        if not done:
            continue
        check_mail(done[0], "completed mail", title)
        link = [u for u in done[0].links() if u.endswith("/download")][0]
        check(link == BASE + "/v1/signing/%s/download" % tok, "download link is <base>/v1/signing/<token>/download")
        r = curl("GET", None, url=link)
        expect(r, 200, what="download from the completed mail (%s)" % who)
        check(r.body.startswith(b"%PDF"), "the download link returns a PDF: %r" % r.body[:20])
        check(hashlib.sha256(r.body).hexdigest() == final.get("signedSha256"), "the download is the signed PDF")
        check(r.body == signed.body, "same bytes as the keyed signed download")
        if who == p1:
            path = os.path.join(WORK, "flow-signed.pdf")
            with open(path, "wb") as f:
                f.write(r.body)
            if subprocess.run(["sh", "-c", "command -v pdfsig"], capture_output=True).returncode == 0:
                rc, out, errs = tool("pdfsig", path)
                check("Signature is Valid" in out, "pdfsig: the signature is valid: %s %s" % (out[-400:], errs))
    check(len(g.mails(p1)) == 2 and len(g.mails(p2)) == 2 and len(g.mails(cc)) == 1,
          "mails: signer 1 invitation+completed, signer 2 the same, cc completed: %r %r %r" %
          (g.mails(p1), g.mails(p2), g.mails(cc)))
    # the download link before completion and with a bad token
    expect(curl("GET", "/v1/signing/%s/download" % (t1[:-2] + ("AA" if not t1.endswith("AA") else "BB"))), 404,
           "signing_link_not_found", "download with a forged token")
    other = make_doc(KEY_TEST, g.title("Unfinished"), [{"email": g.email("u")}])
    if other:
        expect(curl("GET", "/v1/signing/%s/download" % token_of(other, g.email("u"))), 409, "invalid_state",
               "download before completion")
    # nothing more is sent: the queue is empty
    n = len(g.hits())
    worker(what="flow: nothing left")
    check(len(g.hits()) == n + (1 if other else 0), "no delivery twice: %r" % g.hits()[n:])
    d = delivery_of(wh["id"], event_id=hits[0].event_id) if hits else None
    check(d and d["status"] == "delivered" and d["attemptCount"] == 1 and codes(d) == [200] and
          parse_time(d.get("deliveredAt")) and d["documentId"] == did and d["eventType"] == "document.sent",
          "the delivery log: delivered on the first attempt: %r" % d)
    g.done()


def t_retry():
    g = Group("retry")
    wh, secret = g.webhook(events=["*"])
    if not wh:
        return
    wid = wh["id"]
    a = g.email("a")
    RX.fail_next(2)
    doc = make_doc(KEY_TEST, g.title("Retry"), [{"email": a}])
    if not doc:
        return
    curl("GET", "/v1/signing/" + token_of(doc, a))  # document.viewed, signer.viewed queued behind it
    worker(what="retry: first attempt")
    hits = g.hits()
    check(webhook_types(hits) == ["document.sent"] and hits[0].answered == 500,
          "one failed attempt, the later events wait for it: %r" % hits)
    sent_evt = hits[0].event_id if hits else None
    d = delivery_of(wid, event_id=sent_evt)
    check(d and d["status"] == "pending" and d["attemptCount"] == 1 and codes(d) == [500],
          "after one failure: pending, 1 attempt (500): %r" % d)
    nra1 = parse_time((d or {}).get("nextAttemptAt"))
    w = curl("GET", "/v1/webhooks/" + wid, KEY_TEST).data or {}
    check(parse_time(w.get("failingSince")) and w.get("enabled") is True, "failingSince after a failure: %r" % w)
    if d and d.get("attempts"):
        at = parse_time(d["attempts"][0].get("at"))
        check(backoff_ok(at, nra1, 1), "first retry retry_base (1 s) later: %r → %r" %
              (d["attempts"][0].get("at"), d.get("nextAttemptAt")))
        check(d["attempts"][0].get("responseBody") == "failure 1 of 2", "the failing body is kept: %r" % d["attempts"])
        check(isinstance(d["attempts"][0].get("durationMs"), int), "durationMs: %r" % d["attempts"][0])
    worker(what="retry: right after the failure")
    drain(lambda: len(g.hits()) >= 2, "retry: second attempt", pause=0.2)
    check(len(g.hits()) == 2 and g.hits()[1].answered == 500, "the second attempt fails too: %r" % g.hits())
    check(nra1 and len(g.hits()) >= 2 and g.hits()[1].at >= nra1 - 0.05,
          "no attempt before nextAttemptAt (%r): %r" % (nra1, [h.at for h in g.hits()]))
    d = delivery_of(wid, event_id=sent_evt)
    nra2 = parse_time((d or {}).get("nextAttemptAt"))
    if d and len(d.get("attempts") or []) == 2:
        a2 = chronological(d)[1]
        check(backoff_ok(parse_time(a2.get("at")), nra2, 2),
              "second retry min(retry_base*2, retry_cap) = 2 s later: %r → %r" % (a2.get("at"), d.get("nextAttemptAt")))
    drain(lambda: len([h for h in g.hits() if h.answered == 200]) >= 3, "retry: the rest delivered", pause=0.2)
    hits = g.hits()
    check(nra2 and len(hits) >= 3 and hits[2].at >= nra2 - 0.05, "the third attempt not before nextAttemptAt")
    check(webhook_types(hits) == ["document.sent"] * 3 + ["document.viewed", "signer.viewed"],
          "document.sent on the 3rd attempt, then the later events in order: %r" % hits)
    check([h.answered for h in hits] == [500, 500, 200, 200, 200], "answers: %r" % [h.answered for h in hits])
    check(len({h.event_id for h in hits[:3]}) == 1 and len({h.delivery for h in hits[:3]}) == 1,
          "every attempt carries the same event id and delivery id")
    check(len({h.body for h in hits[:3]}) == 1, "the same body on every attempt")
    for h in hits:
        check_hit(h, what="retry " + str(h.type))
    d = delivery_of(wid, event_id=sent_evt)
    check(d and d["status"] == "delivered" and d["attemptCount"] == 3 and parse_time(d.get("deliveredAt")) and
          d.get("error") in (None, ""), "delivered after 3 attempts: %r" % d)
    att = chronological(d)
    check([a.get("statusCode") for a in att] == [500, 500, 200], "attempt status codes 500, 500, 200: %r" % codes(d))
    check([a.get("responseBody") for a in att] == ["failure 1 of 2", "failure 2 of 2", "ok"],
          "each attempt's response body: %r" % [a.get("responseBody") for a in att])
    check(all(a.get("error") is None for a in att[2:]), "no error on the good attempt")
    check(all(a.get("error") for a in att[:2]), "an error on each failed attempt: %r" % att[:2])
    w = curl("GET", "/v1/webhooks/" + wid, KEY_TEST).data or {}
    check(w.get("failingSince") is None, "a delivered attempt clears failingSince: %r" % w.get("failingSince"))

    # a long answer is kept truncated to 4096 bytes
    long_body = b"".join(b"%06d|" % i for i in range(3000))
    with RX.lock:
        RX.plan.append(("status", 200, long_body))
    t = test_event(wid, what="test event (long answer)")
    worker(what="retry: long answer")
    d = delivery_of(wid, dlv_id=t.get("id"))
    rb = ((d or {}).get("attempts") or [{}])[0].get("responseBody") or ""
    check(d and d["status"] == "delivered" and 1024 <= len(rb.encode()) <= 4096 and
          long_body.startswith(rb.encode()), "a long response body is stored truncated (≤ 4096 bytes): %d bytes %r" %
          (len(rb.encode()), rb[:40]))

    # a redirect is not followed and counts as a failure
    with RX.lock:
        RX.plan.append(("redirect", RX.url("/moved")))
    t = test_event(wid, what="test event (redirect)")
    worker(what="retry: redirect")
    check(RX.at("/moved") == [], "the redirect is not followed: %r" % RX.at("/moved"))
    d = delivery_of(wid, dlv_id=t.get("id"))
    check(d and d["status"] == "pending" and codes(d) == [302], "a redirect is a failed attempt: %r" % d)
    drain(lambda: (delivery_of(wid, dlv_id=t.get("id")) or {}).get("status") == "delivered", "retry: after redirect")
    d = delivery_of(wid, dlv_id=t.get("id"))
    check([a.get("statusCode") for a in chronological(d)] == [302, 200], "302 then 200: %r" % codes(d))
    check(RX.at("/moved") == [], "still never followed")

    # redeliver: a new attempt, the same event
    red = [h for h in g.hits() if h.delivery == t.get("id")]
    n = len(red)
    r = curl("POST", "/v1/webhooks/%s/deliveries/%s/redeliver" % (wid, t.get("id")), KEY_TEST)
    expect(r, 202, what="redeliver")
    check(r.data and r.data["status"] == "pending" and r.data["eventId"] == t.get("eventId") and
          r.data["eventType"] == "webhook.test", "redeliver: pending, same eventId: %r" % r)
    worker(what="retry: redelivery")
    again = [h for h in g.hits() if h.event_id == t.get("eventId")]
    check(len(again) == n + 1 and again[-1].answered == 200 and again[-1].verified,
          "the redelivery arrives, verified, with the same event id: %r" % again)
    if len(again) >= 2:
        check(again[-1].body == again[0].body or json.loads(again[-1].body)["id"] == json.loads(again[0].body)["id"],
              "the same event payload")
    total = sum(x["attemptCount"] for x in deliveries(wid, query="?limit=100") if x["eventId"] == t.get("eventId"))
    check(total == 3, "the event's attempts: 302, 200, and the redelivery (%d)" % total)
    expect(curl("POST", "/v1/webhooks/%s/deliveries/dlv_nothere00000000000000/redeliver" % wid, KEY_TEST), 404,
           "delivery_not_found", "redeliver an unknown delivery")
    expect(curl("POST", "/v1/webhooks/%s/deliveries/%s/redeliver" % (wid, t.get("id")), KEY_OTHER), 404,
           "webhook_not_found", "another account redelivers")
    # 409 while it is being delivered
    with RX.lock:
        RX.plan.append(("slow", 3.0))
    t2 = test_event(wid, what="test event (slow)")
    p = popen_worker("--once")
    RX.wait(lambda: any(h.delivery == t2.get("id") for h in g.hits()), 10)
    d = delivery_of(wid, dlv_id=t2.get("id"))
    check(d and d["status"] == "delivering", "a delivery being attempted is 'delivering': %r" % (d or {}).get("status"))
    expect(curl("POST", "/v1/webhooks/%s/deliveries/%s/redeliver" % (wid, t2.get("id")), KEY_TEST), 409,
           "invalid_state", "redeliver while delivering")
    check(p.wait(30) == 0, "the worker finishes")
    check((delivery_of(wid, dlv_id=t2.get("id")) or {}).get("status") == "delivered", "the slow one delivered")

    # POST /test: a webhook.test event whatever the filter
    curl("PATCH", "/v1/webhooks/" + wid, KEY_TEST, {"events": ["document.completed"]})
    t3 = test_event(wid, what="test event with a filter that excludes it")
    check(ID["dlv_"].match(t3.get("id", "")) and t3.get("eventType") == "webhook.test" and
          t3.get("status") == "pending" and t3.get("webhookId") == wid and t3.get("documentId") is None and
          ID["evt_"].match(t3.get("eventId") or ""), "POST /test: a pending webhook.test delivery: %r" % t3)
    worker(what="retry: test event")
    th = [h for h in g.hits() if h.delivery == t3.get("id")]
    check(len(th) == 1 and th[0].type == "webhook.test" and th[0].event_id == t3.get("eventId"),
          "webhook.test arrives: %r" % th)
    if th:
        check_hit(th[0], what="webhook.test")
        check(th[0].payload.get("data") == {"webhook": {"id": wid, "url": RX.url(g.path)}},
              "webhook.test data {webhook: {id, url}}: %r" % th[0].payload.get("data"))

    # the delivery list: newest first, pages, status filter
    alld = deliveries(wid, query="?limit=100")
    check(len(alld) >= 7, "deliveries listed: %d" % len(alld))
    ts = [parse_time(x["createdAt"]) for x in alld]
    check(ts == sorted(ts, reverse=True), "newest first")
    seen, cursor, pages = [], None, 0
    while pages < 20:
        r = curl("GET", "/v1/webhooks/%s/deliveries?limit=2%s" % (wid, "&cursor=" + cursor if cursor else ""),
                 KEY_TEST)
        expect(r, 200, what="deliveries page %d" % pages)
        pages += 1
        seen += [x["id"] for x in r.data or []]
        check(len(r.data or []) <= 2 and r.meta.get("count") == len(r.data or []), "page size and meta.count")
        if not r.meta.get("hasMore"):
            check(r.meta.get("nextCursor") is None, "no cursor on the last page")
            break
        cursor = r.meta.get("nextCursor")
    check(seen == [x["id"] for x in alld], "the pages give every delivery once, in order")
    dl = deliveries(wid, query="?status=delivered&limit=100")
    check(dl and all(x["status"] == "delivered" for x in dl) and len(dl) == len(alld),
          "status=delivered: %r" % [x["status"] for x in dl])
    check(deliveries(wid, query="?status=failed") == [], "status=failed: none yet")
    expect(curl("GET", "/v1/webhooks/%s/deliveries?status=lost" % wid, KEY_TEST), 400, "invalid_parameter",
           "bad status filter")
    expect(curl("GET", "/v1/webhooks/%s/deliveries?limit=0" % wid, KEY_TEST), 400, "invalid_parameter", "limit 0")
    expect(curl("GET", "/v1/webhooks/%s/deliveries?cursor=%%27%%3B--" % wid, KEY_TEST), 400, "invalid_cursor",
           "bad cursor")
    r = curl("GET", "/v1/webhooks/%s/deliveries" % wid, KEY_TEST)
    check(len(r.data or []) == min(20, len(alld)), "default limit 20")

    # giving up after give_up_after
    write_conf(webhooks={"give_up_after": 3})
    with RX.lock:
        RX.always = ("status", 503, b"down")
    t4 = test_event(wid, what="test event (gives up)")
    drain(lambda: (delivery_of(wid, dlv_id=t4.get("id")) or {}).get("status") == "failed", "retry: give up",
          timeout=15)
    d = delivery_of(wid, dlv_id=t4.get("id")) or {}
    att = chronological(d)
    check(d.get("status") == "failed" and d.get("attemptCount", 0) >= 2 and d.get("error") and
          all(a.get("statusCode") == 503 for a in att), "failed for good after give_up_after: %r" % d)
    check(d.get("deliveredAt") is None, "a failed delivery has no deliveredAt")
    gaps = [parse_time(b.get("at")) - parse_time(a.get("at")) for a, b in zip(att, att[1:])]
    check(all(g_ <= 3.5 for g_ in gaps), "backoff capped at retry_cap (2 s): gaps %r" % gaps)
    n = len([h for h in g.hits() if h.delivery == t4.get("id")])
    time.sleep(2.5)
    worker(what="retry: after giving up")
    check(len([h for h in g.hits() if h.delivery == t4.get("id")]) == n, "no attempt after giving up")
    r = curl("GET", "/v1/webhooks/" + wid, KEY_TEST)
    check(r.data and r.data["enabled"] is True, "giving up one delivery does not disable the webhook")
    check(deliveries(wid, query="?status=failed") and
          [x["id"] for x in deliveries(wid, query="?status=failed")] == [t4.get("id")], "status=failed lists it")

    with RX.lock:
        RX.always = None
    r = curl("POST", "/v1/webhooks/%s/deliveries/%s/redeliver" % (wid, t4.get("id")), KEY_TEST)
    expect(r, 202, what="redeliver a failed delivery")
    check(r.data and r.data["status"] == "pending" and r.data["eventId"] == t4.get("eventId"),
          "a failed delivery is pending again: %r" % r)
    worker(what="retry: redeliver after giving up")
    check(any(h.event_id == t4.get("eventId") and h.answered == 200 for h in g.hits()),
          "the failed event is delivered on redelivery")
    write_conf()

    # pruning: log_max per webhook, then log_days
    for i in range(4):
        test_event(wid, what="more deliveries %d" % i)
    worker(what="retry: more deliveries")
    before = [x["id"] for x in deliveries(wid, query="?limit=100")]
    write_conf(webhooks={"log_max": 10})
    worker(what="retry: prune to log_max")
    after = [x["id"] for x in deliveries(wid, query="?limit=100")]
    check(len(before) > 10 and after == before[:10], "log_max 10 keeps the newest 10 deliveries: %d → %d" %
          (len(before), len(after)))
    write_conf(webhooks={"log_days": 1})
    worker(what="retry: prune by age", now=time.time() + 3 * 86400)
    check(deliveries(wid, query="?limit=100") == [], "log_days 1: deliveries older than a day are pruned")
    g.done()


def t_rotate():
    g = Group("rotate")
    wh, s1 = g.webhook(events=["document.completed"])
    if not wh:
        return
    wid = wh["id"]

    def one(what, now=None):
        t = test_event(wid, what=what)
        worker(what="rotate: " + what, now=now)
        h = [x for x in g.hits() if x.delivery == t.get("id")]
        check(len(h) == 1, "%s: delivered once: %r" % (what, h))
        return h[0] if h else None

    h = one("before rotation")
    if h:
        check(h.verified and len(v1_list(h.sig)) == 1, "one v1 signature by the secret: %r" % h.sig)
    r = curl("POST", "/v1/webhooks/%s/rotate-secret" % wid, KEY_TEST)
    expect(r, 200, what="rotate the secret")
    s2 = (r.data or {}).get("secret") or ""
    check(SECRET_RE.match(s2) and s2 != s1, "a new secret: %r" % s2)
    check(r.data and parse_time(r.data.get("secretRotatedAt")) and r.data["id"] == wid, "secretRotatedAt set: %r" % r)
    g2 = curl("GET", "/v1/webhooks/" + wid, KEY_TEST)
    check(g2.data and "secret" not in g2.data and s2.encode() not in g2.body, "GET after rotate hides the secret")
    # during the grace period: two signatures, new first; the old secret still verifies
    with RX.lock:
        RX.secrets[g.path] = [s1]
    h = one("during grace, receiver knows the old secret")
    if h:
        v = v1_list(h.sig)
        t = t_of(h.sig)
        check(len(v) == 2, "two v1 signatures during grace: %r" % h.sig)
        check(len(v) == 2 and v[0] == sign_header(s2, t, h.body) and v[1] == sign_header(s1, t, h.body),
              "the first v1 is by the new secret, the second by the old: %r" % h.sig)
        check(h.verified, "a receiver that knows only the old secret verifies during grace")
        check(verify_signature(h.sig, h.body, [s2]), "a receiver that knows only the new secret verifies")
        check(not verify_signature(h.sig, h.body, ["whsec_" + "A" * 43]), "a wrong secret does not verify")
        check(not verify_signature(h.sig, h.body + b" ", [s1, s2]), "a changed body does not verify")
        check(not verify_signature(h.sig, h.body, [s2], now=t + 301), "a signature older than 5 minutes is refused")
        check(verify_signature(h.sig, h.body, [s2], now=t + 299), "a signature younger than 5 minutes passes")
        check(abs(t - time.time()) < 60, "t is the time of sending: %d" % t)
    # the receiver with a wrong secret says so
    with RX.lock:
        RX.secrets[g.path] = ["whsec_" + "B" * 43]
    h = one("receiver with a wrong secret")
    if h:
        check(h.verified is False, "the receiver detects a bad signature with a wrong secret")
    # rotation without grace: only the newest signs
    r = curl("POST", "/v1/webhooks/%s/rotate-secret" % wid, KEY_TEST, {"graceSeconds": 0})
    expect(r, 200, what="rotate with graceSeconds 0")
    s3 = (r.data or {}).get("secret") or ""
    check(SECRET_RE.match(s3) and s3 not in (s1, s2), "a third secret")
    with RX.lock:
        RX.secrets[g.path] = [s3]
    h = one("after a rotation without grace")
    if h:
        check(len(v1_list(h.sig)) == 1 and h.verified, "one signature by the newest secret: %r" % h.sig)
        check(not verify_signature(h.sig, h.body, [s2]) and not verify_signature(h.sig, h.body, [s1]),
              "the older secrets no longer verify")
    # a grace period that runs out (worker clock ahead)
    r = curl("POST", "/v1/webhooks/%s/rotate-secret" % wid, KEY_TEST, {"graceSeconds": 30})
    expect(r, 200, what="rotate with graceSeconds 30")
    s4 = (r.data or {}).get("secret") or ""
    with RX.lock:
        RX.secrets[g.path] = [s4]
    h = one("grace over", now=time.time() + 120)
    if h:
        check(len(v1_list(h.sig)) == 1 and verify_signature(h.sig, h.body, [s4]) and
              not verify_signature(h.sig, h.body, [s3], now=0), "after the grace period only the new secret signs: %r"
              % h.sig)
    for bad in (604801, -1, "1"):
        expect_4xx(curl("POST", "/v1/webhooks/%s/rotate-secret" % wid, KEY_TEST, {"graceSeconds": bad}),
                   "graceSeconds %r" % (bad,))
    expect(curl("POST", "/v1/webhooks/%s/rotate-secret" % wid, KEY_TEST, {"grace": 5}), 400, "unknown_field",
           "rotate with an unknown key")
    r = curl("POST", "/v1/webhooks/%s/rotate-secret" % wid, KEY_TEST, {"graceSeconds": 604800})
    expect(r, 200, what="graceSeconds 604800 (the maximum)")
    expect(curl("POST", "/v1/webhooks/wh_nothere000000000000/rotate-secret", KEY_TEST), 404, "webhook_not_found",
           "rotate an unknown webhook")
    g.done()


def t_crash():
    g = Group("crash")
    write_conf(webhooks={"timeout": 5})
    wh, secret = g.webhook(events=["document.completed"])
    if not wh:
        return
    wid = wh["id"]
    queued = [test_event(wid, what="queue %d" % i) for i in range(5)]
    ids = [q.get("id") for q in queued]
    RX.delay = 2.0
    p = popen_worker("--loop")
    started = RX.wait(lambda: len(g.hits()) >= 2, 15)
    check(started, "the looping worker started delivering: %r" % g.hits())
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    time.sleep(0.1)
    at_kill = g.hits()
    inflight = [h.delivery for h in at_kill if not h.done]
    check(len(inflight) == 1, "one delivery in flight when the worker was killed: %r" % at_kill)
    RX.delay = 0.0
    RX.wait(lambda: all(h.done for h in g.hits()), 5)
    status = {i: (delivery_of(wid, dlv_id=i) or {}).get("status") for i in ids}
    claimed = [i for i in ids if status[i] == "delivering"]
    check(inflight and set(inflight) <= set(claimed), "the killed worker's delivery in flight is still claimed: %r"
          % status)
    if len(claimed) > 1:
        note("the killed worker held %d deliveries under its lease, %d of them in flight" %
             (len(claimed), len(inflight)))
    # before the lease ends, another worker leaves the claimed ones alone
    worker(what="crash: run after the kill")
    after = g.hits()
    for i in claimed:
        check(len([h for h in after if h.delivery == i]) == len([h for h in at_kill if h.delivery == i]),
              "a leased delivery is not taken before the lease ends: %s %r" % (i, after))
    free = [i for i in ids if i not in claimed]
    check(all((delivery_of(wid, dlv_id=i) or {}).get("status") == "delivered" for i in free),
          "the unclaimed deliveries are delivered: %r" % [(delivery_of(wid, dlv_id=i) or {}).get("status")
                                                          for i in free])
    # after the lease (timeout 5 + 30 s) they are taken over
    worker(what="crash: after the lease", now=time.time() + 120)
    final = g.hits()
    per = {i: len([h for h in final if h.delivery == i and h.answered == 200 and h.done]) for i in ids}
    check(all(per[i] >= 1 for i in ids), "every event delivered at least once: %r" % per)
    check(all(per[i] == 1 for i in ids if i not in inflight), "no delivery twice except the one in flight: %r" % per)
    st = [(delivery_of(wid, dlv_id=i) or {}).get("status") for i in ids]
    check(st == ["delivered"] * 5, "every delivery ends delivered: %r" % st)
    check({h.event_id for h in final} == {q.get("eventId") for q in queued}, "every event id arrived")

    # two workers at once never take the same delivery
    RX.reset()
    with RX.lock:
        RX.secrets[g.path] = [secret]
    RX.delay = 0.1
    queued = [test_event(wid, what="queue for two workers %d" % i) for i in range(24)]
    ps = [popen_worker("--once"), popen_worker("--once")]
    rcs = [x.wait(120) for x in ps]
    check(rcs == [0, 0], "two simultaneous workers exit 0: %r" % rcs)
    per = {}
    for h in g.hits():
        per[h.delivery] = per.get(h.delivery, 0) + 1
    check(sorted(per) == sorted(q.get("id") for q in queued) and set(per.values()) == {1},
          "each of the 24 deliveries attempted exactly once by the two workers: %r" % per)
    check(all(h.verified for h in g.hits()), "all signed")
    st = {(delivery_of(wid, dlv_id=q.get("id")) or {}).get("status") for q in queued}
    check(st == {"delivered"}, "all delivered: %r" % st)

    # SIGTERM in --loop: the current item is finished, then exit 0
    RX.reset()
    with RX.lock:
        RX.secrets[g.path] = [secret]
    RX.delay = 1.5
    queued = [test_event(wid, what="queue for SIGTERM %d" % i) for i in range(3)]
    p = popen_worker("--loop")
    RX.wait(lambda: len(g.hits()) >= 1, 15)
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "still running"
    check(rc == 0, "SIGTERM: the looping worker exits 0: %r" % rc)
    first = g.hits()[0].delivery if g.hits() else None
    check(first and (delivery_of(wid, dlv_id=first) or {}).get("status") == "delivered",
          "SIGTERM: the item in progress was finished: %r" % (delivery_of(wid, dlv_id=first) if first else None))
    check(len(g.hits()) == 1, "SIGTERM: nothing new started after the signal: %r" % g.hits())
    RX.delay = 0
    worker(what="crash: after SIGTERM")
    st = [(delivery_of(wid, dlv_id=q.get("id")) or {}).get("status") for q in queued]
    check(st == ["delivered"] * 3, "the rest delivered by the next run: %r" % st)
    g.done()


def t_disable():
    g = Group("disable")
    write_conf(webhooks={"disable_after": 5, "give_up_after": 3600})
    wh, secret = g.webhook(events=["*"])
    if not wh:
        return
    wid = wh["id"]
    with RX.lock:
        RX.always = ("status", 500, b"broken")
    t1 = test_event(wid, what="test event 1")
    t2 = test_event(wid, what="test event 2")
    worker(what="disable: first failures")
    r = curl("GET", "/v1/webhooks/" + wid, KEY_TEST)
    check(r.data and parse_time(r.data.get("failingSince")) and r.data["enabled"] is True,
          "failing: failingSince set, still enabled: %r" % r.data)
    mark = SINK.mark()
    check(len(g.hits()) == 2, "both deliveries attempted once: %r" % g.hits())
    worker(what="disable: failing past disable_after", now=time.time() + 30)
    check(len(g.hits()) == 3, "the first failure past disable_after disables; the other delivery is not attempted "
          "any more: %r" % g.hits())
    worker(what="disable: the notice", now=time.time() + 31)
    r = curl("GET", "/v1/webhooks/" + wid, KEY_TEST)
    w = r.data or {}
    check(w.get("enabled") is False and isinstance(w.get("disabledReason"), str) and w.get("disabledReason"),
          "disabled with a reason after disable_after: %r" % w)
    for t in (t1, t2):
        d = delivery_of(wid, dlv_id=t.get("id")) or {}
        check(d.get("status") == "failed", "the pending deliveries of a disabled endpoint fail: %r" % d.get("status"))
    notice = SINK.to(ACC_EMAIL, mark)
    check(len(notice) == 1, "the account's address gets one notice: %r" % notice)
    if notice:
        check_mail(notice[0], "webhook_disabled")
        check(RX.url(g.path) in notice[0].text or wid in notice[0].text,
              "the notice names the webhook (URL or id): %r" % notice[0].text[:500])
        check(ACC_EMAIL in notice[0].to, "the notice is addressed to the account: %r" % notice[0].to)
    n = len(g.hits())
    worker(what="disable: nothing for a disabled endpoint", now=time.time() + 60)
    check(len(g.hits()) == n, "no attempts to a disabled endpoint: %r" % g.hits()[n:])
    doc = make_doc(KEY_TEST, g.title("While disabled"), [{"email": g.email("a")}])
    check(doc and not [d for d in deliveries(wid, query="?limit=100") if d["documentId"] == doc["id"]],
          "no delivery queued for a disabled webhook")
    # enabled again: the failure marks are cleared, deliveries flow
    with RX.lock:
        RX.always = None
    r = curl("PATCH", "/v1/webhooks/" + wid, KEY_TEST, {"enabled": True})
    expect(r, 200, what="re-enable")
    check(r.data and r.data["enabled"] is True and r.data["failingSince"] is None and r.data["disabledReason"] is None,
          "enabling clears failingSince and disabledReason: %r" % r.data)
    t3 = test_event(wid, what="after re-enable")
    worker(what="disable: after re-enable")
    check((delivery_of(wid, dlv_id=t3.get("id")) or {}).get("status") == "delivered", "delivered after re-enable")
    check(len(SINK.to(ACC_EMAIL, mark)) == 1, "still one notice")
    g.done()


def otp_code(g, addr, n_before):
    """the 6-digit code of the newest otp mail to addr"""
    ms = g.mails(addr)[n_before:]
    check(len(ms) == 1, "one OTP mail to %s: %r" % (addr, ms))
    if not ms:
        return None
    found = re.findall(r"(?<!\d)(\d{6})(?!\d)", ms[-1].text)
    check(found, "the OTP mail holds a 6-digit code: %r" % ms[-1].text[:300])
    return found[0] if found else None


def t_otp():
    g = Group("otp")
    wh, secret = g.webhook(events=["signer.otp_verified", "signer.signed"])
    g.webhook(events=["*"], path=g.path + "/all")
    a, b, c, plain = g.email("a"), g.email("b"), g.email("c"), g.email("plain")
    title = g.title("OTP contract")
    doc = make_doc(KEY_TEST, title, [{"email": a, "otp": True}, {"email": plain}], order="parallel")
    if not doc:
        return
    ra = recipient_of(doc, a)
    check(ra["otp"] is True and ra.get("otpVerifiedAt") is None and recipient_of(doc, plain)["otp"] is False,
          "recipient otp and otpVerifiedAt in the resource: %r" % ra)
    ta, tp = token_of(doc, a), token_of(doc, plain)
    worker(what="otp: invitations")
    r = curl("GET", "/v1/signing/" + ta)
    expect(r, 200, what="open an OTP link")
    s = r.data or {}
    check(s.get("recipient", {}).get("otpRequired") is True and s.get("recipient", {}).get("otpVerified") is False,
          "otpRequired, not verified: %r" % s.get("recipient"))
    check(s.get("fields") == [], "fields withheld before OTP: %r" % s.get("fields"))
    for m, suffix, body in (("POST", "/submit", {"signature": {"text": "A"}}), ("GET", "/pages/1.png", None),
                            ("POST", "/decline", {"reason": "x"}), ("POST", "/approve", None),
                            ("POST", "/reject", {"reason": "x"})):
        expect(curl(m, "/v1/signing/" + ta + suffix, body=body), 403, "otp_required", "before OTP: %s %s" %
               (m, suffix))
    expect(curl("POST", "/v1/signing/%s/otp/verify" % ta, body={"code": "123456"}), 409, "otp_not_sent",
           "verify before a code was sent")
    expect(curl("POST", "/v1/signing/%s/otp" % tp), 409, "otp_not_required", "OTP for a recipient without OTP")
    n = len(g.mails(a))
    r = curl("POST", "/v1/signing/%s/otp" % ta)
    expect(r, 202, what="send a code")
    o = r.data or {}
    sent_to = o.get("sentTo") or ""
    local, _, domain = a.partition("@")
    check(sent_to.endswith("@" + domain) and local not in sent_to and sent_to[0] == local[0] and
          len(sent_to) > len(domain) + 2, "sentTo is masked: %r" % sent_to)
    if "•" not in sent_to:
        note("sentTo masks with %r, the contract's example uses •" % sent_to)
    check(parse_time(o.get("expiresAt")) and 500 <= parse_time(o["expiresAt"]) - time.time() <= 700,
          "the code is valid 10 minutes: %r" % o.get("expiresAt"))
    check(parse_time(o.get("resendAfter")) and 30 <= parse_time(o["resendAfter"]) - time.time() <= 70,
          "resendAfter ~60 s: %r" % o.get("resendAfter"))
    worker(what="otp: the code mail")
    code = otp_code(g, a, n)
    if g.mails(a)[n:]:
        check_mail(g.mails(a)[-1], "otp mail", title)
    r = curl("POST", "/v1/signing/%s/otp" % ta)
    expect(r, 429, "otp_rate_limited", "a second code within 60 s")
    check(r.headers.get("retry-after", "").isdigit() and 1 <= int(r.headers["retry-after"]) <= 60,
          "Retry-After on 429: %r" % r.headers.get("retry-after"))
    for bad in ({"code": "12345"}, {"code": "1234567"}, {"code": "abcdef"}, {"code": 123456}, {}):
        expect(curl("POST", "/v1/signing/%s/otp/verify" % ta, body=bad), 400, None, "verify with %r" % bad)
    if code:
        wrong = "%06d" % ((int(code) + 1) % 1000000)
        r = curl("POST", "/v1/signing/%s/otp/verify" % ta, body={"code": wrong})
        expect(r, 422, "otp_invalid", "a wrong code")
        check("4" in r.err.get("message", ""), "the message says 4 attempts are left: %r" % r.err.get("message"))
        r = curl("POST", "/v1/signing/%s/otp/verify" % ta, body={"code": code})
        expect(r, 200, what="the right code")
        check(r.data and r.data.get("verified") is True and parse_time(r.data.get("verifiedAt")),
              "verified: %r" % r.data)
        # never stored or logged in clear (a run of 6 digits on its own, not inside an id or a hash)
        clear = re.compile(rb"(?<![0-9A-Za-z])" + code.encode() + rb"(?![0-9A-Za-z])")
        for f in ("signcore.db", "signcore.db-wal", "www/cgi-error.log", "www/lighttpd-error.log"):
            p = os.path.join(DATA, f)
            if os.path.exists(p):
                blob = read(p)
                hit = clear.search(blob)
                check(not hit, "the code is not stored or logged in clear in %s; found: %r" %
                      (f, hit and blob[max(0, hit.start() - 120):hit.end() + 40]))
        check(not clear.search(read(WORKER_LOG)), "the code is not in the worker's output")
    r = curl("GET", "/v1/signing/" + ta)
    s = r.data or {}
    check(s.get("recipient", {}).get("otpVerified") is True and len(s.get("fields") or []) == 1,
          "after verification the fields are shown: %r" % s)
    expect(curl("POST", "/v1/signing/%s/otp" % ta), 409, "otp_already_verified", "a code after verification")
    g_doc = get_doc(doc["id"])
    check(parse_time((recipient_of(g_doc, a) or {}).get("otpVerifiedAt")), "otpVerifiedAt in the document")
    ev = [e for e in doc_events(doc["id"]) if e["type"] == "signer.otp_verified"]
    check(len(ev) == 1 and ev[0].get("recipient") == ra["id"], "signer.otp_verified in the event log: %r" % ev)
    expect(curl("GET", "/v1/signing/%s/pages/1.png" % ta), 200, None, "page image after verification")
    expect(curl("POST", "/v1/signing/%s/submit" % ta, body={"signature": {"text": "A"}}), 200, None,
           "submit after verification")
    worker(what="otp: webhooks")
    hs = g.hits()
    check(webhook_types(hs) == ["signer.otp_verified", "signer.signed"], "signer.otp_verified webhook: %r" % hs)
    if hs:
        check_hit(hs[0], what="signer.otp_verified")
        check((hs[0].recipient or {}).get("id") == ra["id"] and (hs[0].recipient or {}).get("otp") is True and
              parse_time((hs[0].recipient or {}).get("otpVerifiedAt")), "the webhook names the recipient: %r" %
              hs[0].recipient)
        check(ev and hs[0].event_id == ev[0]["id"], "webhook event id = audit event id")

    allt = set(webhook_types(g.hits(g.path + "/all")))
    check(allt and allt <= WEBHOOK_TYPES and "signer.otp_verified" in allt,
          "a [\"*\"] webhook gets only the contract's event types: %r" % sorted(allt))

    # five wrong codes lock
    doc2 = make_doc(KEY_TEST, g.title("OTP lock"), [{"email": b, "otp": True}, {"email": c, "otp": True}],
                    order="parallel")
    if not doc2:
        return g.done()
    tb, tc = token_of(doc2, b), token_of(doc2, c)
    worker(what="otp: invitations of b and c")
    nb = len(g.mails(b))
    expect(curl("POST", "/v1/signing/%s/otp" % tb), 202, None, "code for b")
    worker(what="otp: code for b")
    code_b = otp_code(g, b, nb)
    if code_b:
        wrong = "%06d" % ((int(code_b) + 500000) % 1000000)
        for i in range(4):
            r = curl("POST", "/v1/signing/%s/otp/verify" % tb, body={"code": wrong})
            expect(r, 422, "otp_invalid", "wrong code %d" % (i + 1))
            check(str(4 - i) in r.err.get("message", ""), "attempts left %d: %r" % (4 - i, r.err.get("message")))
        r = curl("POST", "/v1/signing/%s/otp/verify" % tb, body={"code": wrong})
        check(r.status in (403, 422) and r.err.get("code") in ("otp_locked", "otp_invalid"),
              "the 5th wrong code: %r" % r)
        r = curl("POST", "/v1/signing/%s/otp/verify" % tb, body={"code": code_b})
        expect(r, 403, "otp_locked", "the right code while locked")
        check(r.headers.get("retry-after", "").isdigit() and 3000 <= int(r.headers["retry-after"]) <= 3600,
              "Retry-After ~ lock (3600 s): %r" % r.headers.get("retry-after"))
        expect(curl("POST", "/v1/signing/%s/otp" % tb), 403, "otp_locked", "a new code while locked")
        check(curl("GET", "/v1/signing/" + tb).data["recipient"]["otpVerified"] is False, "still not verified")
    # an expired code
    write_conf(otp={"ttl": 1})
    nc = len(g.mails(c))
    expect(curl("POST", "/v1/signing/%s/otp" % tc), 202, None, "code for c (ttl 1 s)")
    worker(what="otp: code for c")
    code_c = otp_code(g, c, nc)
    time.sleep(2.1)
    if code_c:
        expect(curl("POST", "/v1/signing/%s/otp/verify" % tc, body={"code": code_c}), 410, "otp_expired",
               "an expired code")
    # at most max_per_hour codes an hour
    write_conf(otp={"resend_interval": 1, "max_per_hour": 3})
    doc3 = make_doc(KEY_TEST, g.title("OTP hourly"), [{"email": g.email("d"), "otp": True}])
    if doc3:
        td = token_of(doc3, g.email("d"))
        got = []
        for i in range(4):
            got.append(curl("POST", "/v1/signing/%s/otp" % td).status)
            time.sleep(1.2)
        check(got == [202, 202, 202, 429], "max_per_hour 3: the 4th code in an hour is refused: %r" % got)
    write_conf()
    # otp on the recipients sub-resource
    r = curl("POST", "/v1/documents", KEY_TEST, {"title": g.title("OTP draft"), "storageKey": upload(),
                                                 "draft": True})
    if r.status == 201:
        did = r.data["id"]
        r = curl("POST", "/v1/documents/%s/recipients" % did, KEY_TEST, {"email": g.email("e"), "name": "E",
                                                                          "otp": True})
        expect(r, 201, what="add an OTP recipient")
        check(r.data and r.data.get("otp") is True, "otp on a new recipient: %r" % r.data)
        if r.data:
            r = curl("PATCH", "/v1/documents/%s/recipients/%s" % (did, r.data["id"]), KEY_TEST, {"otp": False})
            check(r.status == 200 and r.data.get("otp") is False, "PATCH otp: %r" % r)
        expect_4xx(curl("POST", "/v1/documents/%s/recipients" % did, KEY_TEST, {"email": g.email("f"), "name": "F",
                                                                                 "otp": "yes"}), "otp not a bool")
    g.done()


def t_expiry_reminders():
    g = Group("expiry_reminders")
    # without [server] base_url the links are those of the request that sent the document
    write_conf(server={"base_url": None})
    wh, secret = g.webhook(events=["document.expired"])
    g.webhook(events=["*"], path=g.path + "/all")
    s1, s2 = g.email("first"), g.email("second")
    t0 = time.time()
    title = g.title("Lease renewal")
    doc = make_doc(KEY_TEST, title, [{"email": s1}, {"email": s2}],
                   extra={"expiresAt": rfc3339(t0 + 36 * 3600), "reminderDays": 1})
    if not doc:
        return
    did = doc["id"]
    check(doc.get("reminderDays") == 1, "reminderDays in the resource: %r" % doc.get("reminderDays"))
    nra = parse_time(doc.get("nextReminderAt"))
    check(nra and abs(nra - (t0 + 86400)) <= 120, "nextReminderAt one day after sending: %r" % doc.get("nextReminderAt"))
    worker(what="expiry: invitation")
    check(len(g.mails(s1)) == 1 and g.mails(s2) == [], "invitation for the first signer only")
    worker(what="expiry: +12 h, nothing due", now=t0 + 12 * 3600)
    check(len(g.mails(s1)) == 1, "no reminder before nextReminderAt: %r" % g.mails(s1))
    worker(what="expiry: +25 h (RFC 3339 clock)", now=rfc3339(t0 + 25 * 3600))
    rem = g.mails(s1)[1:]
    check(len(rem) == 1, "one reminder to the pending signer after a day: %r" % rem)
    check(g.mails(s2) == [], "no reminder to the signer whose turn it is not: %r" % g.mails(s2))
    if rem:
        check_mail(rem[0], "reminder", title)
        check(recipient_of(doc, s1)["signingUrl"] in rem[0].links(), "the reminder holds the signing link")
    ev = [e for e in doc_events(did) if e["type"] == "signer.reminded"]
    check(len(ev) == 1 and ev[0].get("recipient") == recipient_of(doc, s1)["id"],
          "signer.reminded in the event log for the first signer: %r" % ev)
    d = get_doc(did)
    check(d.get("status") == "pending", "still pending at +25 h: %r" % d.get("status"))
    if nra:
        check(parse_time(d.get("nextReminderAt")) == nra + 86400, "nextReminderAt moved by reminderDays: %r → %r" %
              (doc.get("nextReminderAt"), d.get("nextReminderAt")))
    worker(what="expiry: +26 h, reminded already", now=t0 + 26 * 3600)
    check(len(g.mails(s1)) == 2, "no second reminder the same day")
    # past expiresAt
    worker(what="expiry: +37 h", now=t0 + 37 * 3600)
    worker(what="expiry: +37 h again", now=t0 + 37 * 3600 + 5)
    d = get_doc(did)
    check(d.get("status") == "expired", "expired after expiresAt: %r" % d.get("status"))
    ev = [e["type"] for e in doc_events(did)]
    check(ev.count("document.expired") == 1, "one document.expired event: %r" % ev)
    hs = g.hits()
    check(webhook_types(hs) == ["document.expired"], "the document.expired webhook: %r" % hs)
    if hs:
        check_hit(hs[0], what="document.expired")
        check(hs[0].document.get("id") == did and hs[0].document.get("status") == "expired",
              "document.expired carries the expired document")
    expect(curl("GET", "/v1/signing/" + token_of(doc, s1)), 410, "document_expired", "signing link after expiry")
    worker(what="expiry: +49 h", now=t0 + 49 * 3600)
    check(len(g.mails(s1)) == 2 and g.mails(s2) == [], "no reminder for an expired document")
    check(len(g.hits()) == 1, "document.expired once")
    allt = webhook_types(g.hits(g.path + "/all"))
    check(set(allt) <= WEBHOOK_TYPES and "document.expired" in allt and "signer.reminded" not in allt,
          "a [\"*\"] webhook gets only the contract's event types: %r" % allt)
    # a document found expired by a request (before the worker) sends document.expired once too
    e = g.email("lazy")
    doc3 = make_doc(KEY_TEST, g.title("Expires now"), [{"email": e}], extra={"expiresAt": rfc3339(time.time() + 2)})
    if doc3:
        time.sleep(3.1)
        expect(curl("GET", "/v1/signing/" + token_of(doc3, e)), 410, "document_expired", "a link past expiresAt")
        worker(what="expiry: after a request expired it")
        hs = [h for h in g.hits() if h.document.get("id") == doc3["id"]]
        check(webhook_types(hs) == ["document.expired"], "document.expired once for a request-expired document: %r"
              % hs)
        check([e_["type"] for e_ in doc_events(doc3["id"])].count("document.expired") == 1, "one expiry event")
    # validation and the manual reminder
    for bad in (0, 31, "1"):
        expect_4xx(curl("POST", "/v1/documents", KEY_TEST, {"title": "x", "storageKey": upload(), "draft": True,
                                                            "reminderDays": bad}), "reminderDays %r" % (bad,))
    r = curl("POST", "/v1/documents", KEY_TEST, {"title": "x", "storageKey": upload(), "draft": True,
                                                 "reminderDays": None})
    check(r.status == 201 and r.data.get("reminderDays") is None and r.data.get("nextReminderAt") is None,
          "reminderDays null: no reminders: %r" % r)
    if r.status == 201:
        r = curl("PATCH", "/v1/documents/" + r.data["id"], KEY_TEST, {"reminderDays": 3})
        check(r.status == 200 and r.data.get("reminderDays") == 3, "PATCH reminderDays on a draft: %r" % r)
    m = g.email("manual")
    doc2 = make_doc(KEY_TEST, g.title("Manual reminder"), [{"email": m}])
    if doc2:
        check(doc2.get("reminderDays") is None and doc2.get("nextReminderAt") is None, "no schedule by default")
        worker(what="expiry: manual doc invitation")
        r = curl("POST", "/v1/documents/%s/remind" % doc2["id"], KEY_TEST)
        expect(r, 200, what="remind")
        worker(what="expiry: manual reminder")
        ms = g.mails(m)
        check(len(ms) == 2 and token_of(doc2, m) in ms[1].text, "POST remind sends a reminder with the link: %r" % ms)
    g.done()


def t_decline_void():
    g = Group("decline_void")
    wh, secret = g.webhook(events=["*"])
    if not wh:
        return
    # a decline
    a, b, cc = g.email("a"), g.email("b"), g.email("cc")
    title = g.title("Decline me")
    doc = make_doc(KEY_TEST, title, [{"email": a}, {"email": b}, {"email": cc, "role": "cc"}], order="parallel")
    if not doc:
        return
    worker(what="decline: invitations")
    check(len(g.mails(a)) == 1 and len(g.mails(b)) == 1, "parallel: both invited")
    n = len(g.hits())
    expect(curl("POST", "/v1/signing/%s/decline" % token_of(doc, b), body={"reason": "terms changed"}), 200, None,
           "decline")
    worker(what="decline: events")
    hs = g.hits()[n:]
    types = [h.type for h in hs]
    check([t for t in types if t not in ("document.viewed", "signer.viewed")] ==
          ["signer.declined", "document.declined"], "signer.declined then document.declined: %r" % types)
    for h in hs:
        check_hit(h, what=h.type)
        if h.type in ("signer.declined", "document.declined"):
            check((h.recipient or {}).get("email") == b and (h.recipient or {}).get("reason") == "terms changed",
                  "%s names the decliner and the reason: %r" % (h.type, h.recipient))
            if h.type == "document.declined":
                check(h.document.get("status") == "declined", "%s: the document is declined" % h.type)
            else:
                check((recipient_of(h.document, b) or {}).get("status") == "declined",
                      "%s: the recipient is declined in data.document" % h.type)
    na = g.mails(a)[1:]
    check(len(na) == 1 and title in na[0].subject, "the other invited signer gets a declined notice: %r" % na)
    if na:
        check_mail(na[0], "declined notice", title)
    check(g.mails(cc) == [], "the cc (never invited) gets no declined notice: %r" % g.mails(cc))
    # a void
    v1, v2 = g.email("v1"), g.email("v2")
    title = g.title("Void me")
    doc = make_doc(KEY_TEST, title, [{"email": v1}, {"email": v2}])
    if doc:
        worker(what="void: invitation")
        check(len(g.mails(v1)) == 1 and g.mails(v2) == [], "sequential: only the first invited")
        n = len(g.hits())
        expect(curl("POST", "/v1/documents/%s/void" % doc["id"], KEY_TEST, {"reason": "wrong version"}), 200, None,
               "void")
        worker(what="void: events")
        hs = g.hits()[n:]
        check(webhook_types(hs) == ["document.voided"], "document.voided: %r" % hs)
        if hs:
            check_hit(hs[0], what="document.voided")
            check(hs[0].document.get("status") == "voided" and hs[0].document.get("voidReason") == "wrong version",
                  "document.voided carries the voided document: %r" % hs[0].document.get("status"))
        nv = g.mails(v1)[1:]
        check(len(nv) == 1, "the invited signer gets a voided notice: %r" % nv)
        if nv:
            check_mail(nv[0], "voided notice", title)
        check(g.mails(v2) == [], "the signer never invited gets no voided notice: %r" % g.mails(v2))
    # an approver rejects
    boss, s = g.email("boss"), g.email("signer")
    title = g.title("Needs approval")
    doc = make_doc(KEY_TEST, title, [{"email": boss, "role": "approver"}, {"email": s}])
    if doc:
        worker(what="reject: invitation")
        check(len(g.mails(boss)) == 1 and g.mails(s) == [], "the approver is invited first")
        n = len(g.hits())
        expect(curl("POST", "/v1/signing/%s/reject" % token_of(doc, boss), body={"reason": "no budget"}), 200, None,
               "reject")
        worker(what="reject: events")
        types = [h.type for h in g.hits()[n:] if h.type not in ("document.viewed", "signer.viewed")]
        check(types == ["approval.rejected", "document.declined"], "approval.rejected, document.declined: %r" % types)
        for h in g.hits()[n:]:
            if h.type == "approval.rejected":
                check((h.recipient or {}).get("email") == boss and (h.recipient or {}).get("role") == "approver",
                      "approval.rejected names the approver: %r" % h.recipient)
        check(g.mails(s) == [], "the signer never invited gets no notice: %r" % g.mails(s))
    # an approver approves
    boss2, s2 = g.email("boss2"), g.email("signer2")
    doc = make_doc(KEY_TEST, g.title("Approved"), [{"email": boss2, "role": "approver"}, {"email": s2}])
    if doc:
        worker(what="approve: invitation")
        n = len(g.hits())
        expect(curl("POST", "/v1/signing/%s/approve" % token_of(doc, boss2)), 200, None, "approve")
        worker(what="approve: events")
        types = [h.type for h in g.hits()[n:] if h.type not in ("document.viewed", "signer.viewed")]
        check(types == ["approval.approved"], "approval.approved: %r" % types)
        check(len(g.mails(s2)) == 1, "the signer is invited after the approval: %r" % g.mails(s2))
    g.done()


def t_bad_input():
    g = Group("bad_input")
    r = curl("POST", "/v1/webhooks", KEY_TEST, '{"url": "http://127.0.0.1/", ', ctype="application/json")
    expect(r, 400, "invalid_json", "malformed JSON")
    expect(curl("POST", "/v1/webhooks", KEY_TEST, "[]"), 400, None, "a JSON array")
    expect_4xx(curl("POST", "/v1/webhooks", KEY_TEST, {}), "no url")
    expect_4xx(curl("POST", "/v1/webhooks", KEY_TEST, {"url": 5}), "url not a string")
    expect(curl("POST", "/v1/webhooks", KEY_TEST, "url=http://127.0.0.1/", ctype="application/x-www-form-urlencoded"),
           415, "unsupported_media_type", "form-encoded body")
    expect(curl("PATCH", "/v1/webhooks/wh_nothere000000000000", KEY_TEST, {"enabled": True}), 404,
           "webhook_not_found", "patch an unknown webhook")
    # the worker's own errors: non-zero, one clear line
    missing = os.path.join(WORK, "no-such-dir")
    p = subprocess.run([WORKER, "--data-dir", missing, "--once"], capture_output=True, env=WENV, timeout=60)
    err = p.stderr.decode(errors="replace")
    check(p.returncode != 0, "a missing data dir: non-zero exit (%d)" % p.returncode)
    check(err.startswith("signcore-worker: ") and (missing in err or "init" in err),
          "a missing data dir: a clear message naming it: %r" % err)
    check(not SANITIZER.search(err), "no crash with a missing data dir: %r" % err)
    p = subprocess.run([WORKER, "--data-dir", DATA], capture_output=True, env=WENV, timeout=60)
    check(p.returncode != 0 and p.stderr, "no --once/--loop: non-zero exit and a message: %d %r" %
          (p.returncode, p.stderr))
    p = subprocess.run([WORKER, "--data-dir", DATA, "--once", "--now", "yesterday"], capture_output=True, env=WENV,
                       timeout=60)
    check(p.returncode != 0 and b"--now" in p.stderr, "a bad --now: non-zero exit naming it: %d %r" %
          (p.returncode, p.stderr))
    p = subprocess.run([WORKER, "--data-dir", DATA, "--once", "--frobnicate"], capture_output=True, env=WENV,
                       timeout=60)
    check(p.returncode != 0, "an unknown option: non-zero exit: %d %r" % (p.returncode, p.stderr))
    write_conf(webhooks={"retry_base": "soon"})
    p = subprocess.run([WORKER, "--data-dir", DATA, "--once"], capture_output=True, env=WENV, timeout=60)
    check(p.returncode != 0 and b"signcore.conf" in p.stderr, "a bad setting: non-zero exit naming the file: %d %r" %
          (p.returncode, p.stderr))
    write_conf()
    # a network error is a failed attempt with no status code
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    r = curl("POST", "/v1/webhooks", KEY_TEST, {"url": "http://127.0.0.1:%d/gone" % dead})
    expect(r, 201, what="webhook to a closed port")
    if r.data:
        t = test_event(r.data["id"], what="test to a closed port")
        worker(what="bad_input: connection refused")
        d = delivery_of(r.data["id"], dlv_id=t.get("id")) or {}
        att = d.get("attempts") or [{}]
        check(d.get("status") == "pending" and att[0].get("statusCode") is None and att[0].get("error"),
              "connection refused: statusCode null, an error, retried later: %r" % d)
        curl("DELETE", "/v1/webhooks/" + r.data["id"], KEY_TEST)
    # the SMTP server down: the message waits, then goes
    SINK.stop()
    x = g.email("x")
    doc = make_doc(KEY_TEST, g.title("Mail later"), [{"email": x}])
    rc, err = worker(what="bad_input: SMTP down")
    check(g.mails(x) == [], "nothing delivered while the sink is down")
    check(err.strip(), "the worker says the mail could not be sent: %r" % err)
    SINK.start()
    time.sleep(1.2)
    drain(lambda: len(g.mails(x)) >= 1, "bad_input: SMTP up again", timeout=15)
    check(len(g.mails(x)) == 1, "the invitation is sent once the sink is up, once: %r" % g.mails(x))
    if doc and g.mails(x):
        check(token_of(doc, x) in g.mails(x)[0].text, "it is the invitation with the link")
    worker(what="bad_input: nothing more")
    check(len(g.mails(x)) == 1, "not sent twice")
    # a message that cannot be sent within give_up_after fails for good
    SINK.stop()
    write_conf(webhooks={"give_up_after": 2})
    z = g.email("z")
    make_doc(KEY_TEST, g.title("Mail never"), [{"email": z}])
    worker(what="bad_input: SMTP down, first attempt")
    time.sleep(2.5)
    worker(what="bad_input: SMTP down past give_up_after")
    SINK.start()
    write_conf()
    time.sleep(1.2)
    worker(what="bad_input: SMTP up, the message failed")
    worker(what="bad_input: SMTP up, later", now=time.time() + 3600)
    check(g.mails(z) == [], "a message past give_up_after is failed for good, not sent later: %r" % g.mails(z))

    # the sendmail transport: the message on standard input, -t -i; a failing sendmail keeps it queued
    box = os.path.join(WORK, "sendmail")
    os.makedirs(box, exist_ok=True)
    fake = os.path.join(WORK, "fake-sendmail")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\n[ -f "%s/fail" ] && exit 75\nn=$(ls "%s" | wc -l)\necho "$*" >"%s/$n.args"\n'
                'cat >"%s/$n.eml"\n' % (box, box, box, box))
    os.chmod(fake, 0o755)
    open(os.path.join(box, "fail"), "w").close()
    write_conf(smtp={"url": None, "sendmail": fake})
    y = g.email("y")
    doc = make_doc(KEY_TEST, g.title("Via sendmail"), [{"email": y}])
    worker(what="bad_input: sendmail failing")
    check(not [n for n in os.listdir(box) if n.endswith(".eml")], "nothing taken by a failing sendmail")
    os.unlink(os.path.join(box, "fail"))
    time.sleep(1.2)
    drain(lambda: [n for n in os.listdir(box) if n.endswith(".eml")], "bad_input: sendmail works again", timeout=15)
    emls = sorted(n for n in os.listdir(box) if n.endswith(".eml"))
    check(len(emls) == 1, "one message handed to sendmail: %r" % emls)
    if emls:
        args = read(os.path.join(box, emls[0].replace(".eml", ".args"))).decode().split()
        check(args == ["-t", "-i"], "sendmail runs with -t -i: %r" % args)
        m = Mail(None, [y], read(os.path.join(box, emls[0])))
        check(y in m.to, "To: names the recipient (sendmail -t reads it): %r" % m.to)
        check_mail(m, "sendmail invitation", g.title("Via sendmail"))
        check(doc and recipient_of(doc, y)["signingUrl"] in m.links(), "the invitation holds the link")
    g.done()


def t_lease():
    """(run only when named: ~45 s) A worker working through its claimed rows
    with a slow endpoint still holds each row when it attempts it: a second
    worker started once the first row's lease (timeout + 30 s) has ended
    does not deliver them again."""
    g = Group("lease")
    write_conf(webhooks={"timeout": 3})
    wh, secret = g.webhook(events=["document.completed"])
    if not wh:
        return
    queued = [test_event(wh["id"], what="queue %d" % i) for i in range(16)]
    RX.delay = 2.5
    t0 = time.time()
    a = popen_worker("--once")
    time.sleep(max(0, t0 + 36 - time.time()))
    b = popen_worker("--once")
    rcs = [a.wait(120), b.wait(120)]
    check(rcs == [0, 0], "both workers exit 0: %r" % rcs)
    per = {}
    for h in g.hits():
        per[h.delivery] = per.get(h.delivery, 0) + 1
    twice = sorted(k for k, v in per.items() if v > 1)
    check(not twice and sorted(per) == sorted(q.get("id") for q in queued),
          "no delivery POSTed by both workers in a normal run (%d of 16 twice: %r)" % (len(twice), twice))
    g.done()


TESTS = [("webhooks", t_webhooks), ("flow", t_flow), ("retry", t_retry), ("rotate", t_rotate), ("crash", t_crash),
         ("disable", t_disable), ("otp", t_otp), ("expiry_reminders", t_expiry_reminders),
         ("decline_void", t_decline_void), ("bad_input", t_bad_input), ("lease", t_lease)]

EXPLICIT = []  # groups run only when named

unknown = ONLY - {n for n, _ in TESTS + EXPLICIT}
if unknown:
    print("worker: unknown test group(s) %s; groups: %s" % (" ".join(sorted(unknown)),
                                                            " ".join(n for n, _ in TESTS + EXPLICIT)), file=sys.stderr)
    sys.exit(2)
for name, fn in TESTS + EXPLICIT:
    if (ONLY and name not in ONLY) or (not ONLY and (name, fn) in EXPLICIT):
        continue
    t0 = time.time()
    before, checks_before = failures, checks
    try:
        fn()
    except Exception as e:  # a crash in one test is a failure, the rest still run
        import traceback
        traceback.print_exc()
        fail("%s raised %r" % (name, e))
        try:
            RX.reset()
            if SINK.sock is None:
                SINK.start()
            clean_webhooks()
            write_conf()
        except Exception:
            pass
    print("worker: %-16s %s (%d checks, %.1f s)" % (name, "ok" if failures == before else "FAILED",
                                                  checks - checks_before, time.time() - t0), file=sys.stderr)

print("worker: %d checks, %d failures" % (checks, failures), file=sys.stderr)
sys.exit(1 if failures else 0)
