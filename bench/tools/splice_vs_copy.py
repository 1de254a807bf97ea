#!/usr/bin/env python3
"""What splice(2) saves a relay on this kernel, apart from any proxy: 1 GiB over loopback through a relay
process that either copies through user space (recv_into, then send) or splices socket -> pipe -> socket,
with the same chunk size (the pipe sized to hold a chunk). The relay runs alone on CPU 1 (source and sink on CPU 0), as bench/run pins the
proxies; its own user+system CPU is the figure. Runs alternate between the two ways so that the machine's
slow and fast spells fall on both; medians are printed.

    taskset -c 0 python3 bench/tools/splice_vs_copy.py [--runs 5] [--chunks 65536,262144]
"""
import argparse
import fcntl
import os
import resource
import socket
import statistics
import sys
import threading

TOTAL = 1 << 30
F_SETPIPE_SZ = 1031
SINK, RELAY = ("127.0.0.71", 19002), ("127.0.0.71", 19001)


def source():
    s = socket.create_connection(RELAY)
    block, sent = b"x" * (1 << 18), 0
    while sent < TOTAL:
        sent += s.send(block[:min(len(block), TOTAL - sent)])
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()


def sink(listener, counted):
    c, _ = listener.accept()
    buf, n = bytearray(1 << 18), 0
    while True:
        k = c.recv_into(buf)
        if not k:
            break
        n += k
    counted.append(n)
    c.close()


def relay(way, chunk, ready):
    """Child process: accept one connection, relay it to the sink, print its own CPU seconds."""
    os.sched_setaffinity(0, {1})
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(RELAY)
    lst.listen(1)
    os.write(ready, b"r")
    a, _ = lst.accept()
    b = socket.create_connection(SINK)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    if way == "copy":
        buf = bytearray(chunk)
        view = memoryview(buf)
        while True:
            k = a.recv_into(buf)
            if not k:
                break
            b.sendall(view[:k])
    else:
        pipe_r, pipe_w = os.pipe()
        # A pipe holds 64 KiB unless told otherwise; sized to the chunk, one splice can move a whole chunk.
        fcntl.fcntl(pipe_w, F_SETPIPE_SZ, max(chunk, 65536))
        while True:
            k = os.splice(a.fileno(), pipe_w, chunk)
            if not k:
                break
            while k:
                k -= os.splice(pipe_r, b.fileno(), k)
    b.shutdown(socket.SHUT_WR)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    print((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), flush=True)
    os._exit(0)


def once(way, chunk):
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(SINK)
    lst.listen(1)
    counted = []
    t = threading.Thread(target=sink, args=(lst, counted))
    t.start()
    ready_r, ready_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(out_w, 1)
        relay(way, chunk, ready_w)
    os.read(ready_r, 1)
    source()
    t.join()
    os.waitpid(pid, 0)
    lst.close()
    cpu = float(os.read(out_r, 100).decode())
    for fd in (ready_r, ready_w, out_r, out_w):
        os.close(fd)
    assert counted == [TOTAL], counted
    return cpu


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--chunks", default="65536,262144")
    args = p.parse_args()
    print("chunk\tway\tmedian relay CPU s/GiB\truns")
    for chunk in (int(c) for c in args.chunks.split(",")):
        results = {"copy": [], "splice": []}
        for _ in range(args.runs):
            for way in ("copy", "splice"):
                results[way].append(once(way, chunk))
        for way, cpus in results.items():
            print(f"{chunk}\t{way}\t{statistics.median(cpus):.3f}\t{' '.join(f'{c:.3f}' for c in cpus)}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
