"""HTTP client of the API end-to-end scripts (api_flow.py, worker_flow.py):
one request through curl, the answer as a Resp.

SPDX-License-Identifier: AGPL-3.0-or-later
"""
import json
import os
import subprocess
import threading


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def data(self):
        j = self.json()
        return j.get("data") if isinstance(j, dict) else None

    @property
    def meta(self):
        j = self.json()
        return (j.get("meta") if isinstance(j, dict) else None) or {}

    @property
    def err(self):
        j = self.json()
        return ((j or {}).get("error") if isinstance(j, dict) else None) or {}

    def __repr__(self):
        return "%d %s" % (self.status, self.body[:300])


def request(base, work, method, path, key=None, body=None, ctype=None, headers=(), raw=None, url=None):
    """One request with curl; returns Resp."""
    hdr_file = os.path.join(work, "hdr.%d" % threading.get_ident())
    out_file = os.path.join(work, "out.%d" % threading.get_ident())
    args = ["curl", "-sS"] + (["-I"] if method == "HEAD" else ["-X", method]) + \
        ["-o", out_file, "-D", hdr_file, "--max-time", "60"]
    if key:
        args += ["-H", "Authorization: Bearer " + key]
    for h in headers:
        args += ["-H", h]
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode() if not isinstance(body, (bytes, str)) else body
        if isinstance(data, str):
            data = data.encode()
        args += ["-H", "Content-Type: " + (ctype or "application/json"), "--data-binary", "@-"]
        raw = data
    elif raw is not None:
        args += ["-H", "Content-Type: " + (ctype or "application/octet-stream"), "--data-binary", "@-"]
    elif method in ("POST", "PUT", "PATCH"):
        args += ["-H", "Content-Length: 0"]
    args.append(url or base + path)
    p = subprocess.run(args, input=raw, capture_output=True)
    if p.returncode != 0:
        return Resp(0, {}, p.stderr.decode(errors="replace"))
    with open(hdr_file, "rb") as f:
        blocks = [b for b in f.read().decode("latin-1").split("\r\n\r\n") if b.startswith("HTTP/")]
    lines = blocks[-1].split("\r\n")  # after any 100 Continue
    status = int(lines[0].split()[1])
    headers = {":status-line": lines[0]}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    with open(out_file, "rb") as f:
        content = f.read()
    return Resp(status, headers, content)
