#!/usr/bin/env python3
"""Real client traffic through mesh-egress from one source address, for the learn test.
usage: traffic.py PROXY_IP SOURCE_IP PLAN
PLAN is lines of "kind host port count": kind http (absolute-form on one kept-alive connection), connect
(a TLS handshake through a CONNECT tunnel) or sni (a TLS handshake to the SNI listener on port 8443).
Prints "ok N" with the number of exchanges that got an answer, or fails loudly."""
import http.client
import socket
import ssl
import sys

proxy, source, plan = sys.argv[1], sys.argv[2], sys.argv[3]
tls = ssl.create_default_context()
tls.check_hostname = False
tls.verify_mode = ssl.CERT_NONE
done = 0
for row in plan.strip().splitlines():
    kind, host, port, count = row.split()
    port, count = int(port), int(count)
    if kind == "http":
        conn = http.client.HTTPConnection(proxy, 8080, timeout=10, source_address=(source, 0))
        for _ in range(count):
            conn.request("GET", "http://%s:%d/hello" % (host, port), headers={"Host": "%s:%d" % (host, port)})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                sys.exit("http %s: status %d" % (host, r.status))
            done += 1
        conn.close()
    elif kind == "connect":
        for _ in range(count):
            conn = http.client.HTTPSConnection(proxy, 8080, timeout=10, source_address=(source, 0), context=tls)
            conn.set_tunnel(host, port)
            conn.request("GET", "/hello")
            r = conn.getresponse()
            r.read()
            conn.close()
            done += 1
    elif kind == "sni":
        for _ in range(count):
            raw = socket.create_connection((proxy, 8443), timeout=10, source_address=(source, 0))
            with tls.wrap_socket(raw, server_hostname=host) as s:
                s.sendall(b"GET /hello HTTP/1.0\r\nHost: " + host.encode() + b"\r\n\r\n")
                while s.recv(4096):
                    pass
            done += 1
    else:
        sys.exit("unknown kind " + kind)
print("ok", done)
