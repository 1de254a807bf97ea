#!/usr/bin/env python3
"""W5 load: open COUNT TLS connections through a proxy and hold them idle until stdin closes.

Usage: hold_tunnels.py HOST PORT SNI COUNT
Prints "held N" once all are established (or failed), then waits for a line on stdin and closes them.
"""
import asyncio
import ssl
import sys

host, port, sni, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])


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

    await asyncio.gather(*(one() for _ in range(count)))
    print("held %d" % len(held), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for w in held:
        w.close()


asyncio.run(main())
