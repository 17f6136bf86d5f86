#!/usr/bin/env python3
"""Calls the Rust example actor (`cargo run -p shuttle-actor --example worker`)
from Python tractor: `python actor/examples/call_worker.py` (tractor 3690e43a;
XDG_RUNTIME_DIR must name a 0700 folder)."""

import trio, tractor
from tractor.ipc._chan import _connect_chan
from tractor.runtime._portal import open_portal

# The Rust endpoints, by name: the portal sends ns='__main__' and the name.
async def add(x: int, y: int) -> int: ...
async def count(n: int): yield
@tractor.context
async def doubler(ctx: tractor.Context): ...

async def main():
    async with tractor.open_root_actor(name='caller', enable_modules=['__main__']):
        async with _connect_chan(('127.0.0.1', 6116)) as chan, open_portal(chan) as portal:
            print(await portal.run(add, x=20, y=22))                      # 42
            async with portal.open_stream_from(count, n=3) as items:
                print([i async for i in items])                           # [0, 1, 2]
            async with portal.open_context(doubler) as (ctx, _):
                async with ctx.open_stream() as s:
                    await s.send(21)
                    print(await s.receive())                              # 42
                print(await ctx.wait_for_result())                        # done
            await portal.cancel_actor()                                   # the worker exits

trio.run(main)
