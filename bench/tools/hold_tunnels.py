#!/usr/bin/env python3
"""W5 load: open TLS connections through a proxy in stages and hold them idle.

Usage: hold_tunnels.py HOST PORT SNI COUNT [COUNT ...]
For each COUNT in turn: opens that many more connections, prints "held N" (N = all held so far) once they are
established (or failed), and waits for a line on stdin. After the last stage's line, closes them all.
Measuring memory after each stage gives the cost of one more tunnel as a slope, apart from a process's
fixed costs (a JVM's young generation, say, which any load fills once).
"""
import asyncio
import ssl
import sys

host, port, sni = sys.argv[1], int(sys.argv[2]), sys.argv[3]
stages = [int(c) for c in sys.argv[4:]]


async def main():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sem = asyncio.Semaphore(200)
    held = []

    async def one():
        async with sem:
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=ctx, server_hostname=sni), 30)
                held.append(w)
            except Exception:
                pass

    loop = asyncio.get_running_loop()
    for count in stages:
        await asyncio.gather(*(one() for _ in range(count)))
        print("held %d" % len(held), flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
    for w in held:
        w.close()


asyncio.run(main())
