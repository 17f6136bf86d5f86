#!/usr/bin/env python3
"""A Rust actor in a Python tree: this root is the registrar (at
127.0.0.1:1616, tractor's default), and finds the Rust example actor by
name once it registers:

    python actor/examples/find_worker.py &
    cargo run -p shuttle-actor --example worker -- tcp://127.0.0.1:0 tcp://127.0.0.1:1616

(tractor 3690e43a; XDG_RUNTIME_DIR must name a 0700 folder.)"""

import trio, tractor

# The Rust endpoints, by name: the portal sends ns='__main__' and the name.
async def add(x: int, y: int) -> int: ...
async def count(n: int): yield

async def main():
    async with tractor.open_root_actor(name='finder', registry_addrs=[('127.0.0.1', 1616)]):
        async with tractor.wait_for_actor('worker') as portal:           # waits until it registers
            print(await portal.run(add, x=20, y=22))                     # 42
            async with portal.open_stream_from(count, n=3) as items:
                print([i async for i in items])                          # [0, 1, 2]
        async with tractor.find_actor('worker') as portal:               # found by name
            await portal.cancel_actor()                                  # it unregisters and exits

if __name__ == '__main__':
    trio.run(main)
