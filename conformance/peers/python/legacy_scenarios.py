#!/usr/bin/env python3
'''
tractor 0.1.0a5 programs (the dict dialect) that `shuttle record` records
in CI; each plays the scenario of the committed capture of the same name
in `fixtures/captures/python-tractor-0.1.0a5/`:

    python legacy_scenarios.py NAME

    portal_run_return       portal.run of an async function, twice
    stream_from_asyncgen    a one-way stream from an async generator

The root's registrar (arbiter) address is 127.0.0.1:1616 unless
SHUTTLE_SCENARIO_REGISTRY=HOST:PORT names another.
'''
import os
import sys

import trio
import tractor


def root_nursery():
    addr = os.environ.get('SHUTTLE_SCENARIO_REGISTRY')
    kwargs = {}
    if addr:
        host, _, port = addr.rpartition(':')
        kwargs['arbiter_addr'] = (host, int(port))
    return tractor.open_nursery(**kwargs)


async def add(x, y):
    return x + y


async def counter(n):
    for i in range(n):
        yield i


async def portal_run_return():
    async with root_nursery() as n:
        p = await n.start_actor('adder', enable_modules=[__name__])
        assert await p.run(add, x=3, y=4) == 7
        assert await p.run(add, x='a', y='b') == 'ab'
        await p.cancel_actor()


async def stream_from_asyncgen():
    async with root_nursery() as n:
        p = await n.start_actor('streamer', enable_modules=[__name__])
        async with p.open_stream_from(counter, n=5) as stream:
            got = [x async for x in stream]
        assert got == [0, 1, 2, 3, 4], got
        await p.cancel_actor()


SCENARIOS = {f.__name__: f for f in (portal_run_return, stream_from_asyncgen)}


if __name__ == '__main__':
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        raise SystemExit(f'usage: legacy_scenarios.py {{{",".join(SCENARIOS)}}}')
    trio.run(SCENARIOS[sys.argv[1]])
