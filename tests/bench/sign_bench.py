#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Timing and peak-RSS harness for tests/bench/sign.sh.

usage: sign_bench.py --runs N --warmup W --cases CASES.json --out SIGN.md
                     [--json SIGN.json] [--unavailable TOOL=REASON ...]

CASES.json is a list of cases. Every case has "id", "op", "tool" and "cmd"
(argv) and one of two kinds:

- "kind": "process" (whole process): timed exactly as bench.py times the
  stamp benchmark (its functions are reused): W untimed runs, then N rounds
  in which every process case runs once (interleaved round-robin),
  time.perf_counter() around subprocess.run(): fork + exec + the whole
  process + wait. "rss": true adds 3 runs under GNU time %M (median, MiB).
- "kind": "inproc": cmd is sign_inproc, which times itself and prints
  {"key_load_ms", "sign_ms": [...], "floor_ms": [...]} (see sign_inproc.c).
  Its sign samples become this case, its floor samples a second row,
  "<id>-floor".

"floor": ID names the case whose median is the denominator of the "ratio"
column (whole-process rows: `openssl dgst -sha256 -sign` of the same file;
in-process rows: the in-process hash+RSA floor of the same file). A case
that is its own floor ("floor": its own id) shows "1.0× (floor)".

"target": {"max_ratio": R} or {"max_rss_mb": M} adds a verdict line under
the table.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (time_cases, rss_case, summarize)


def fmt_ratio(r):
    return "%.2f×" % r if r < 9.95 else "%.1f×" % r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--json")
    ap.add_argument("--unavailable", action="append", default=[],
                    help="TOOL=REASON: a row saying the tool was not measured")
    a = ap.parse_args()

    with open(a.cases) as f:
        cases = json.load(f)

    procs = [c for c in cases if c["kind"] == "process"]
    bench.time_cases(procs, a.runs, a.warmup)

    rows = []
    for c in cases:
        if c["kind"] == "process":
            rows.append(c)
            continue
        r = subprocess.run(c["cmd"], stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("sign_bench.py: %s exited %d: %s" % (" ".join(c["cmd"]), r.returncode, r.stderr[-500:]))
        res = json.loads(r.stdout)
        c.update(bench.summarize(res["sign_ms"]))
        c["key_load_ms"] = res["key_load_ms"]
        c["runs"] = len(res["sign_ms"])
        fl = {"id": c["id"] + "-floor", "kind": "inproc-floor", "op": c["floor_op"],
              "tool": c["floor_tool"], "floor": c["id"] + "-floor", "runs": len(res["floor_ms"])}
        fl.update(bench.summarize(res["floor_ms"]))
        c["floor"] = fl["id"]
        rows.append(c)
        rows.append(fl)

    for c in rows:
        c["rss_mb"] = bench.rss_case(c["cmd"]) if c.get("rss") else None

    by_id = {c["id"]: c for c in rows}
    for c in rows:
        c["ratio"] = c["median_ms"] / by_id[c["floor"]]["median_ms"]

    lines = [
        "| operation | tool | median ms | p90 ms | ratio vs floor | CPU ms | peak RSS MB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    def row(c):
        lines.append("| %s | %s | %.2f | %.2f | %s | %s | %s |" % (
            c["op"], c["tool"], c["median_ms"], c["p90_ms"],
            "1.0× (floor)" if c["floor"] == c["id"] else fmt_ratio(c["ratio"]),
            "%.2f" % c["cpu_median_ms"] if c.get("cpu_median_ms") is not None else "–",
            "%.1f" % c["rss_mb"] if c.get("rss_mb") is not None else "–"))

    lines.append("| **whole process** (fork+exec to exit; ratio vs `openssl dgst -sha256 -sign` "
                 "of the same file) | | | | | | |")
    for c in rows:
        if c["kind"] == "process":
            row(c)
    for u in a.unavailable:
        tool, _, why = u.partition("=")
        lines.append("| %s | %s | – | – | – | – | – |" % (why, tool))
    if any(c["kind"] != "process" for c in rows):
        lines.append("| **in-process** (key loaded once; ratio vs read + SHA-256 + RSA-2048 "
                     "in the same program) | | | | | | |")
    for c in rows:
        if c["kind"] != "process":
            row(c)
    lines.append("")
    inproc_runs = sorted({c["runs"] for c in rows if "runs" in c})
    lines.append("Whole process: %d timed runs each (interleaved round-robin) after %d warm-ups, "
                 "wall time; p90 = nearest rank; CPU ms = median user + system time of the "
                 "process and its threads; peak RSS = median of 3 runs under GNU time %%M. "
                 "In-process: %s timed iterations after warm-ups, sign and floor interleaved, "
                 "CLOCK_MONOTONIC per iteration." % (a.runs, a.warmup,
                                                      "/".join(str(n) for n in inproc_runs) or "no"))
    lines.append("")

    verdicts = []
    for c in rows:
        t = c.get("target") or {}
        if "max_ratio" in t:
            ok = c["ratio"] <= t["max_ratio"]
            verdicts.append("%s, %s: %.2f ms = %s the floor (%.2f ms) — target ≤ %.1f×: %s" % (
                c["op"], c["tool"], c["median_ms"], fmt_ratio(c["ratio"]),
                by_id[c["floor"]]["median_ms"], t["max_ratio"], "MET" if ok else "MISSED"))
            fl = by_id[c["floor"]]
            if c.get("cpu_median_ms") and fl.get("cpu_median_ms"):
                verdicts.append("%s, %s: CPU time %.2f ms = %s the floor's (%.2f ms; for information: "
                                "the target is on wall time)" % (
                                    c["op"], c["tool"], c["cpu_median_ms"],
                                    fmt_ratio(c["cpu_median_ms"] / fl["cpu_median_ms"]),
                                    fl["cpu_median_ms"]))
        if "max_rss_mb" in t:
            if c.get("rss_mb") is None:
                verdicts.append("%s, %s: peak RSS not measured (GNU time missing)" % (c["op"], c["tool"]))
            else:
                ok = c["rss_mb"] <= t["max_rss_mb"]
                verdicts.append("%s, %s: peak RSS %.1f MB — target ≤ %g MB: %s" % (
                    c["op"], c["tool"], c["rss_mb"], t["max_rss_mb"], "MET" if ok else "MISSED"))
    lines += ["- " + v for v in verdicts]
    key = [c for c in rows if "key_load_ms" in c]
    if key:
        lines.append("- in-process key + certificate load (once, not in the per-signature times): "
                     + ", ".join("%.2f ms" % c["key_load_ms"] for c in key))

    text = "\n".join(lines) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"runs": a.runs, "warmup": a.warmup, "cases": rows,
                       "unavailable": a.unavailable}, f, indent=1)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
