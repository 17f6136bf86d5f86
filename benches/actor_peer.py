#!/usr/bin/env python3
'''
The Python tractor side of `benches/actor_compare.py`: the same two
endpoints as `actor/examples/bench.rs` (`noop()`, `ticks(n)`), served by a
tractor daemon or called by a tractor program.

    python benches/actor_peer.py serve tcp://127.0.0.1:6201
    python benches/actor_peer.py call tcp://127.0.0.1:6201 CALLS ITEMS

`call` times CALLS round trips of `portal.run(noop)` (after 100 warm-up
calls) and one stream of ITEMS yields from `ticks`, then sends
`cancel_actor` and prints one JSON line: {"rtt_us": [...], "items": N,
"stream_s": S}.

(No `from __future__ import annotations`: tractor reads annotations.)
'''
import json
import sys
import time

import trio
import tractor
from tractor.ipc._chan import _connect_chan  # what tractor's own get_registry() uses
from tractor.runtime._portal import open_portal


async def noop():
    return None


async def ticks(n: int):
    for i in range(n):
        yield i


def parse(addr: str):
    if addr.startswith('tcp://'):
        host, port = addr[len('tcp://'):].rsplit(':', 1)
        return 'tcp', (host, int(port))
    if addr.startswith('uds://'):
        import os
        path = addr[len('uds://'):]
        return 'uds', (os.path.dirname(path), os.path.basename(path))
    raise SystemExit(f'bad address {addr!r}: tcp://HOST:PORT or uds:///PATH')


async def serve(addr: str) -> None:
    proto, a = parse(addr)
    async with tractor.open_root_actor(
        name='bench-python',
        registry_addrs=[a],
        enable_transports=[proto],
        enable_modules=['__main__'],
    ):
        print(f'listening on {addr}', flush=True)
        await tractor.current_actor()._cancel_complete.wait()


async def call(addr: str, calls: int, items: int) -> None:
    proto, a = parse(addr)
    async with tractor.open_root_actor(
        name='bench-python-caller',
        enable_transports=[proto],
        enable_modules=['__main__'],
    ):
        async with _connect_chan(a) as chan, open_portal(chan) as portal:
            for _ in range(100):
                await portal.run(noop)
            rtt = []
            for _ in range(calls):
                t = time.perf_counter()
                await portal.run(noop)
                rtt.append((time.perf_counter() - t) * 1e6)
            t = time.perf_counter()
            got = 0
            async with portal.open_stream_from(ticks, n=items) as s:
                async for v in s:
                    if v != got:
                        raise SystemExit(f'item {got} out of order: {v}')
                    got += 1
            stream_s = time.perf_counter() - t
            await portal.cancel_actor()
    print(json.dumps({'rtt_us': rtt, 'items': got, 'stream_s': stream_s}))


def main() -> None:
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == 'serve':
        trio.run(serve, args[1])
    elif len(args) == 4 and args[0] == 'call':
        trio.run(call, args[1], int(args[2]), int(args[3]))
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main()
