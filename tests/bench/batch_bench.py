#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Timing harness for tests/bench/batch.sh.

usage: batch_bench.py --cases CASES.json --runs N --out TABLE.md --json RAW.json

CASES.json is a list of {"group", "tool", "cmds": [[argv...], ...], "docs": N,
"ref": bool, "rss": bool, "prep": [argv...]}. The commands of a case start
together and the case's time is the wall time until the last one exits (two
commands = two processes side by side). "prep" runs untimed before every run
(it empties the output folder). Cases of one group are interleaved run by
run; "ratio" is the case's median time over the group's "ref" case, or,
when both have "docs", the ref's docs/s over the case's (cases may do
different numbers of documents); docs/s = docs / median seconds. Peak RSS (with "rss"): the largest
VmHWM of the case's processes, read from GNU time (%M, KiB), median of the
runs, in MiB.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_case(case):
    if case.get("prep"):
        subprocess.run(case["prep"], check=True)
    procs, outs = [], []
    t0 = time.perf_counter()
    for cmd in case["cmds"]:
        fd, path = tempfile.mkstemp(prefix="bbench.")
        os.close(fd)
        outs.append(path)
        if case.get("rss") and os.path.exists("/usr/bin/time"):
            cmd = ["/usr/bin/time", "-o", path, "-f", "%M"] + cmd
        procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE))
    errs = [p.communicate()[1] for p in procs]
    dt = time.perf_counter() - t0
    rss = 0
    for p, e, path in zip(procs, errs, outs):
        if p.returncode != 0:
            sys.exit("batch_bench.py: %s: %s exited %d: %s" % (case["tool"], " ".join(case["cmds"][0]),
                     p.returncode, e.decode(errors="replace")[-600:]))
        try:
            rss = max(rss, int(open(path).read().split()[-1]))
        except (ValueError, IndexError):
            pass
        os.unlink(path)
    return dt, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", required=True)
    ap.add_argument("--json", required=True)
    a = ap.parse_args()
    cases = json.load(open(a.cases))
    for c in cases:
        c["times"], c["rsses"] = [], []
    for r in range(a.runs):
        for c in cases:
            dt, rss = run_case(c)
            c["times"].append(dt)
            if rss:
                c["rsses"].append(rss)
            print("batch_bench.py: run %d/%d %s: %.3f s" % (r + 1, a.runs, c["tool"], dt), file=sys.stderr)
    refs = {c["group"]: c for c in cases if c.get("ref")}
    lines = ["| operation | tool | median s | docs/s | ratio (time vs reference) | peak RSS MB |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for c in cases:
        med = statistics.median(c["times"])
        c["median_s"] = med
        c["docs_per_s"] = c["docs"] / med if c.get("docs") else None
        ref = refs.get(c["group"])
        if c.get("ref"):
            ratio = "1.0× (reference)"
        elif ref and c.get("docs") and ref.get("docs"):
            ratio = "%.2f×" % ((ref["docs"] / statistics.median(ref["times"])) / c["docs_per_s"])
        elif ref:
            ratio = "%.2f×" % (med / statistics.median(ref["times"]))
        else:
            ratio = "–"
        rss = "%.1f" % (statistics.median(c["rsses"]) / 1024) if c["rsses"] else "–"
        dps = "%.0f" % c["docs_per_s"] if c["docs_per_s"] else "–"
        lines.append("| %s | %s | %.3f | %s | %s | %s |" % (c["group"], c["tool"], med, dps, ratio, rss))
    open(a.out, "w").write("\n".join(lines) + "\n\n%d runs per row, interleaved; median wall time.\n" % a.runs)
    json.dump(cases, open(a.json, "w"), indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
