#!/usr/bin/env python3
"""Turns the raw results (one TSV line per run) into bench/README.md's tables: medians, ratios to the best peer
and to direct. Usage: table.py RESULTS.tsv"""
import collections
import statistics
import sys

ORDER = ["direct", "mesh-egress", "mesh-egress@base", "mesh-egress+pp", "mesh-egress (java -jar)", "mesh-egress (bin/mesh-egress)", "nginx", "haproxy", "squid"]
SPEC = {  # workload: (primary metric, higher is better, unit, cpu metric, cpu unit)
    "W1": ("req/s", True, "req/s", "cpu_us_per_req", "CPU µs/req"),
    "W2": ("gbit/s", True, "Gbit/s", "cpu_s_per_gib", "CPU s/GiB"),
    "W3": ("conn/s", True, "conn/s", "cpu_us_per_conn", "CPU µs/conn"),
    "W4": ("gbit/s", True, "Gbit/s", "cpu_s_per_gib", "CPU s/GiB"),
    "W5": ("kib_per_tunnel", False, "KiB/tunnel", "baseline_mib", "baseline MiB"),
    "S": ("startup_ms", False, "ms to listening", "startup_ms_1cpu", "ms on 1 CPU"),
}
EXTRA = {"W1": ["p50_ms", "p99_ms", "next_req/s", "next_p99_ms", "next_cpu_us_per_req"], "W3": ["p50_ms", "p99_ms"], "W5": ["kib_per_tunnel_slope"]}
TITLE = {"W5": "KiB/tunnel is (all held - at rest after load) / tunnels; slope is between half and all held"}

runs = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    if not line.strip() or line.startswith("#"):
        continue
    w, target, key, value = line.rstrip("\n").split("\t")
    runs[(w, target)][key].append(float(value))

for w in sorted({w for w, _ in runs}):
    metric, higher, unit, cpu, cpu_unit = SPEC[w]
    med = {t: {k: statistics.median(v) for k, v in runs[(w, t)].items()} for (ww, t) in runs if ww == w}
    peers = [t for t in med if t not in ("direct",) and not t.startswith("mesh-egress") and metric in med[t]]
    best = None
    if peers:
        best = (max if higher else min)(peers, key=lambda t: med[t][metric])
    n = max(len(v) for (ww, t) in runs if ww == w for v in runs[(ww, t)].values())
    print("\n%s (median of %d runs)%s\n" % (w, n, "; " + TITLE[w] if w in TITLE else ""))
    cols = [unit] + EXTRA.get(w, []) + [cpu_unit, "vs best peer (%s)" % (best or "-"), "vs direct"]
    print("| target | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for t in ORDER:
        if t not in med:
            continue
        m = med[t]
        row = ["%.2f" % m[metric] if metric in m else "-"]
        row += ["%.2f" % m[e] if e in m else "-" for e in EXTRA.get(w, [])]
        row.append("%.2f" % m[cpu] if cpu in m else "-")
        row.append("%.2fx" % (m[metric] / med[best][metric]) if best and metric in m else "-")
        row.append("%.2fx" % (m[metric] / med["direct"][metric]) if "direct" in med and metric in m
                   and metric in med["direct"] else "-")
        print("| %s | %s |" % (t, " | ".join(row)))
