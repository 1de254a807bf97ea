#!/usr/bin/env python3
"""bench/scale's DNS load: a new TLS connection per 1 KiB request through an SNI listener, for a fixed time,
each to a name that is either one of a few warm names (in every cache after the warm-up) or a name never asked
before, so that a set share of the connections finds its name in no cache.

Usage: dns_miss_load.py HOST PORT SECONDS THREADS MISS_PERCENT PREFIX [WARM]
  MISS_PERCENT  the share (0-100) of connections to a name never used before: PREFIX-<n>.qq.test
  PREFIX        unique per run and target (the proxies cache what they resolved)
  WARM          how many warm names, w0.qq.test .. w<WARM-1>.qq.test (default 20)
Which connections miss is spread evenly (every 100/MISS_PERCENT-th, not at random), so that runs compare.
Prints: connections/s, p50 and p99 latency (ms), errors, connections, misses.
Bounded: stops after SECONDS.
"""
import itertools
import socket
import ssl
import sys
import threading
import time

host, port, seconds, threads = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
miss_percent, prefix = float(sys.argv[5]), sys.argv[6]
warm = int(sys.argv[7]) if len(sys.argv) > 7 else 20
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
deadline = time.monotonic() + seconds
lock = threading.Lock()
counter = itertools.count()
latencies = []
errors = [0]
misses = [0]


def next_name():
    """The n-th connection's name: a miss when the running share of misses falls behind MISS_PERCENT."""
    with lock:
        n = next(counter)
        if miss_percent > 0 and misses[0] < (n + 1) * miss_percent / 100:
            misses[0] += 1
            return "%s-%d.qq.test" % (prefix, n)
    return "w%d.qq.test" % (n % warm)


def worker():
    mine = []
    errs = 0
    while time.monotonic() < deadline:
        name = next_name()
        request = ("GET /1k.bin HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % name).encode()
        t0 = time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname=name) as s:
                    s.sendall(request)
                    got = 0
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        got += len(chunk)
            if got < 1024:
                errs += 1
            else:
                mine.append(time.monotonic() - t0)
        except (OSError, ssl.SSLError):
            errs += 1
    with lock:
        latencies.extend(mine)
        errors[0] += errs


start = time.monotonic()
ts = [threading.Thread(target=worker) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
elapsed = time.monotonic() - start
latencies.sort()
n = len(latencies)
p50 = latencies[n // 2] * 1000 if n else 0
p99 = latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0
print("%.1f %.2f %.2f %d %d %d" % (n / elapsed, p50, p99, errors[0], n, misses[0]))
