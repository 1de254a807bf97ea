#!/usr/bin/env python3
"""bench/scale's results as Markdown tables, with the growth seen along each curve.

Usage: scale_summary.py RESULTS_DIR
Reads decision.tsv, heap.tsv, tunnels.tsv, dns.tsv, loops.tsv (whichever exist), writes loops-median.tsv (the
median of each point's runs, for the plot) and prints, per curve, its points and the log-log slope of each
segment: about 0 is flat, about 1 linear (cost proportional to the work), in between sub-linear (a logarithm
shows as a slope falling toward 0 as the work grows). A knee is where a segment's slope jumps.
"""
import csv
import math
import os
import statistics
import sys

d = sys.argv[1]


def rows(name):
    path = os.path.join(d, name)
    return list(csv.DictReader(open(path), delimiter="\t")) if os.path.exists(path) else []


def slopes(points):
    """Log-log slope of each segment of [(x, y)], as text."""
    out = []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x0 > 0 and x1 > 0 and y0 > 0 and y1 > 0 and x1 != x0:
            out.append("%.2f" % (math.log(y1 / y0) / math.log(x1 / x0)))
        else:
            out.append("-")
    return ", ".join(out)


def table(title, header, body):
    print("\n%s\n" % title)
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in body:
        print("| " + " | ".join(str(c) for c in r) + " |")


decision = rows("decision.tsv")
if decision:
    for sweep, x in (("patterns", "patterns"), ("roles", "roles")):
        body = []
        for bench in ("decideForClient", "decideInRole"):
            pts = sorted((int(r[x]), float(r["ns"])) for r in decision if r["sweep"] == sweep and r["benchmark"] == bench)
            if pts:
                body.append([bench] + ["%.0f" % y for _, y in pts] + [slopes(pts)])
                xs = [str(p) for p, _ in pts]
        if body:
            other = "1 role" if sweep == "patterns" else "10,000 patterns in all"
            table("ns per decision against %s (%s)" % (sweep, other), ["benchmark"] + xs + ["log-log slopes"], body)

heap = rows("heap.tsv")
if heap:
    body = []
    for r in heap:
        body.append([r["patterns"], r["roles"], "%.2f" % (int(r["heap_bytes"]) / 2**20),
                     "%.0f" % (int(r["heap_bytes"]) / int(r["patterns"])), r["load_ms"],
                     "%.0f" % (int(r["yaml_bytes"]) / 1024)])
    table("heap held by the config and its route table", ["patterns", "roles", "heap MiB", "bytes/pattern",
          "load ms", "file KiB"], body)
    one = [(int(r["patterns"]), int(r["heap_bytes"])) for r in heap if r["roles"] == "1"]
    print("\nheap against patterns, log-log slopes: %s" % slopes(sorted(one)))

tunnels = rows("tunnels.tsv")
if tunnels:
    body = []
    for t in dict.fromkeys(r["target"] for r in tunnels):
        mine = [r for r in tunnels if r["target"] == t]
        pts = [(int(r["tunnels"]), int(r["rss_kib"]) - int(r["rest_rss_kib"])) for r in mine]
        for r in mine:
            body.append([t, r["tunnels"], "%.1f" % (int(r["rss_kib"]) / 1024), "%.1f" % (int(r["rest_rss_kib"]) / 1024),
                         "%.2f" % ((int(r["rss_kib"]) - int(r["rest_rss_kib"])) / int(r["tunnels"])),
                         "%.0f" % float(r["open_cpu_us_per_tunnel"]), "%.1f" % float(r["idle_cpu_percent"])])
        print("\n%s: RSS above rest against tunnels, log-log slopes: %s" % (t, slopes(pts)))
    table("idle tunnels", ["target", "tunnels", "RSS MiB", "at rest MiB", "KiB/tunnel above rest",
          "CPU µs per tunnel opened", "idle CPU %"], body)

dns = rows("dns.tsv")
if dns:
    targets = list(dict.fromkeys(r["target"] for r in dns))
    shares = sorted({int(r["miss_percent"]) for r in dns})
    body = []
    for t in targets:
        v = {int(r["miss_percent"]): r for r in dns if r["target"] == t}
        body.append([t] + ["%.0f (%s/s)" % (float(v[s]["cpu_us_per_conn"]), v[s]["conn_per_s"]) if s in v else "-"
                           for s in shares])
    table("CPU µs per connection (connections/s) against names in no cache", ["target"] + ["%d %%" % s for s in shares],
          body)

loops = rows("loops.tsv")
if loops:
    with open(os.path.join(d, "loops-median.tsv"), "w") as f:
        f.write("target\tloops\treq_per_s\tcpu_us_per_req\tp99_ms\n")
        body = []
        for t in dict.fromkeys(r["target"] for r in loops):
            for n in sorted({int(r["loops"]) for r in loops if r["target"] == t}):
                mine = [r for r in loops if r["target"] == t and int(r["loops"]) == n]
                med = [statistics.median(float(r[k]) for r in mine) for k in ("req_per_s", "cpu_us_per_req", "p99_ms")]
                f.write("%s\t%d\t%.0f\t%.1f\t%.2f\n" % (t, n, *med))
                body.append([t, n, "%.0f" % med[0], "%.1f" % med[1], "%.2f" % med[2], len(mine)])
    table("HTTP throughput against event loops (medians)", ["target", "loops", "req/s", "CPU µs/req", "p99 ms", "runs"],
          body)
