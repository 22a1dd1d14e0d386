#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Timing and peak-RSS harness for tests/bench/run.sh.

usage: bench.py --runs N --warmup W --out RESULTS.md --cases CASES.json

CASES.json is a list of {"op", "tool", "cmd": [argv...], "rss": bool,
"ref": bool}. Exactly one case has "ref": true (signcore stamp): the "ratio"
column is every case's median divided by that one's.

Wall time: each command runs W times untimed, then N times, each timed with
time.perf_counter() around subprocess.run() (fork + exec + the whole process
+ wait), stdout and stderr to /dev/null. Reported: the median and the p90
(nearest rank: the ceil(0.9 N)-th smallest). The timed runs are interleaved
round-robin (run 1 of every case, then run 2 of every case, ...) so that a
change in machine load during the run hits every case alike and the ratios
stay fair.

Peak RSS: for cases with "rss", the command runs 3 more times under GNU time
(`/usr/bin/time -f %M`, the maximum resident set size in KiB of the process
— for a Node script that is the node process) and the median is reported in
"MB", meaning MiB (KiB / 1024).
"""

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

GNU_TIME = "/usr/bin/time"


def run_quiet(cmd):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit("bench.py: %s exited %d: %s" % (" ".join(cmd), r.returncode,
                                                  r.stderr.decode(errors="replace")[-500:]))


def summarize(samples):
    s = sorted(samples)
    return {
        "median_ms": statistics.median(s),
        "p90_ms": s[max(0, math.ceil(0.9 * len(s)) - 1)],
        "min_ms": s[0],
        "samples_ms": samples,
    }


def time_cases(cases, runs, warmup):
    for c in cases:
        for _ in range(warmup):
            run_quiet(c["cmd"])
    samples = [[] for _ in cases]
    cpu = [[] for _ in cases]
    for r in range(runs):
        if sys.stderr.isatty():
            print("  round %d/%d" % (r + 1, runs), file=sys.stderr, end="\r", flush=True)
        for i, c in enumerate(cases):
            if c.get("fresh") and os.path.isfile(c["fresh"]):
                # The output of the last run is removed first (untimed):
                # each run writes a new file.
                try:
                    os.unlink(c["fresh"])
                except FileNotFoundError:
                    pass
            u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            run_quiet(c["cmd"])
            samples[i].append((time.perf_counter() - t0) * 1000.0)
            u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[i].append((u1.ru_utime - u0.ru_utime + u1.ru_stime - u0.ru_stime) * 1000.0)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    for c, s, u in zip(cases, samples, cpu):
        c.update(summarize(s))
        # CPU time (user + system) of the process and all its threads.
        c["cpu_median_ms"] = statistics.median(u)
        c["cpu_samples_ms"] = u


def rss_case(cmd, reps=3):
    if not os.access(GNU_TIME, os.X_OK):
        return None
    vals = []
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as tf:
        for _ in range(reps):
            run_quiet([GNU_TIME, "-f", "%M", "-o", tf.name] + cmd)
            tf.seek(0)
            vals.append(int(tf.read().strip().splitlines()[-1]))
    return statistics.median(vals) / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--json", help="also write raw results here")
    a = ap.parse_args()

    with open(a.cases) as f:
        cases = json.load(f)
    time_cases(cases, a.runs, a.warmup)
    for c in cases:
        c["rss_mb"] = rss_case(c["cmd"]) if c.get("rss") else None

    ref = next(c for c in cases if c.get("ref"))
    lines = [
        "| operation | tool | median ms | p90 ms | peak RSS MB | ratio vs signcore |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for c in cases:
        ratio = c["median_ms"] / ref["median_ms"]
        lines.append("| %s | %s | %.1f | %.1f | %s | %s |" % (
            c["op"], c["tool"], c["median_ms"], c["p90_ms"],
            "%.1f" % c["rss_mb"] if c["rss_mb"] is not None else "–",
            "1.0× (reference)" if c is ref else "%.2f×" % ratio if ratio < 1.95 else "%.1f×" % ratio))
    lines.append("")
    lines.append("%d timed runs each (interleaved round-robin) after %d warm-ups; wall time "
                 "of the whole process (fork+exec to exit); p90 = nearest rank; peak RSS = "
                 "median of 3 runs under GNU time %%M." % (a.runs, a.warmup))

    # Targets.
    version = next((c for c in cases if c.get("role") == "version"), None)
    peer = next((c for c in cases if c.get("role") == "peer"), None)
    verdicts = []
    if peer:
        speedup = peer["median_ms"] / ref["median_ms"]
        best = peer["min_ms"] / ref["min_ms"]
        verdicts.append("signcore stamp vs pdf-lib: %.1f× faster (median) — target ≥ 20×: %s"
                        % (speedup, "MET" if speedup >= 20 else "MISSED"))
        verdicts.append("fastest run vs fastest run (least disturbed by other load): signcore %.1f ms, "
                        "pdf-lib %.1f ms, %.1f× — target ≥ 20×: %s"
                        % (ref["min_ms"], peer["min_ms"], best, "MET" if best >= 20 else "MISSED"))
    else:
        verdicts.append("signcore stamp vs pdf-lib: not measured (pdf-lib peer skipped)")
    if version and version["rss_mb"] is not None and ref["rss_mb"] is not None:
        extra = ref["rss_mb"] - version["rss_mb"]
        verdicts.append("extra peak RSS of signcore stamp over bare `signcore --version`: "
                        "%.1f MB (%.1f − %.1f) — target < 10 MB: %s"
                        % (extra, ref["rss_mb"], version["rss_mb"], "MET" if extra < 10 else "MISSED"))
    else:
        verdicts.append("extra peak RSS: not measured (GNU time missing)")
    lines.append("")
    lines += ["- " + v for v in verdicts]

    text = "\n".join(lines) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(cases, f, indent=1)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
