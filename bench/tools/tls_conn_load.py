#!/usr/bin/env python3
"""W3 load: a new TLS connection per 1 KiB request, for a fixed time, from a few threads.

Usage: tls_conn_load.py HOST PORT SNI SECONDS THREADS [PROXY_PORT]
With PROXY_PORT each connection opens with a PROXY protocol v1 header naming that destination port (as a
sidecar's Envoy would), for a listener with proxyProtocol: required and upstreamPort: header.
Prints: connections/s, p50 and p99 latency (ms) of connect + handshake + request + response, errors.
Bounded: stops after SECONDS.
"""
import socket
import ssl
import sys
import threading
import time

host, port, sni, seconds, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
proxy_port = int(sys.argv[6]) if len(sys.argv) > 6 else 0
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
request = ("GET /1k.bin HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % sni).encode()
deadline = time.monotonic() + seconds
lock = threading.Lock()
latencies = []
errors = [0]


def worker():
    mine = []
    errs = 0
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=10) as raw:
                if proxy_port:
                    src, sport = raw.getsockname()[:2]
                    raw.sendall(b"PROXY TCP4 %s %s %d %d\r\n" % (src.encode(), host.encode(), sport, proxy_port))
                with ctx.wrap_socket(raw, server_hostname=sni) as s:
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
print("%.1f %.2f %.2f %d %d" % (n / elapsed, p50, p99, errors[0], n))
