#!/usr/bin/env python3
'''
tractor 0.1.0a5 programs (the dict dialect) that `shuttle record` records
in CI; each plays the scenario of the committed capture of the same name
in `fixtures/captures/python-tractor-0.1.0a5/` (all 8):

    python legacy_scenarios.py NAME

    portal_run_return       portal.run of an async function, twice
    stream_from_asyncgen    a one-way stream from an async generator
    spawn_teardown          a daemon spawned and cancelled
    portal_run_error        a remote ValueError, then a call that works
    ctx_cancel_from_caller  a context the caller cancels
    ctx_started_return      a context: started(), then a result
    ctx_stream_caller_stops a two-way context stream the caller ends
    payload_scalars         scalars at every msgpack boundary, echoed

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


async def boom():
    raise ValueError('boom: bad value 42')


async def ok():
    return 'still alive'


@tractor.context
async def sleeper(ctx):
    await ctx.started('sleeping')
    await trio.sleep_forever()


@tractor.context
async def greet(ctx, name):
    await ctx.started(f'hello {name}')
    return {'greeted': name, 'count': 1}


@tractor.context
async def doubler(ctx):
    await ctx.started(None)
    async with ctx.open_stream() as stream:
        async for x in stream:
            await stream.send(x * 2)
    return 'done'


@tractor.context
async def echo(ctx):
    await ctx.started(None)
    async with ctx.open_stream() as stream:
        async for x in stream:
            await stream.send(x)



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


async def spawn_teardown():
    async with root_nursery() as n:
        p = await n.start_actor('child', enable_modules=[__name__])
        await p.cancel_actor()


async def portal_run_error():
    async with root_nursery() as n:
        p = await n.start_actor('faulty', enable_modules=[__name__])
        try:
            await p.run(boom)
        except tractor.RemoteActorError:
            pass
        else:
            raise AssertionError('boom did not raise')
        assert await p.run(ok) == 'still alive'
        await p.cancel_actor()


async def ctx_cancel_from_caller():
    async with root_nursery() as n:
        p = await n.start_actor('sleepy', enable_modules=[__name__])
        async with p.open_context(sleeper) as (ctx, first):
            assert first == 'sleeping'
            await ctx.cancel()
        await p.cancel_actor()


async def ctx_started_return():
    async with root_nursery() as n:
        p = await n.start_actor('greeter', enable_modules=[__name__])
        async with p.open_context(greet, name='bob') as (ctx, first):
            assert first == 'hello bob'
            assert await ctx.result() == {'greeted': 'bob', 'count': 1}
        await p.cancel_actor()


async def ctx_stream_caller_stops():
    async with root_nursery() as n:
        p = await n.start_actor('echo', enable_modules=[__name__])
        async with p.open_context(doubler) as (ctx, first):
            async with ctx.open_stream() as stream:
                for i in (1, 2, 3):
                    await stream.send(i)
                    assert await stream.receive() == i * 2
            assert await ctx.result() == 'done'
        await p.cancel_actor()


async def payload_scalars():
    from payloads import SCALARS
    # The 0.1.0a5 recording has all but the last string.
    LEGACY_SCALARS = [v for v in SCALARS if v != 'line1\nline2\ttab']
    async with root_nursery() as n:
        p = await n.start_actor('echo', enable_modules=[__name__])
        async with p.open_context(echo) as (ctx, first):
            async with ctx.open_stream() as stream:
                for v in LEGACY_SCALARS:
                    await stream.send(v)
                    await stream.receive()
            await ctx.result()
        await p.cancel_actor()


SCENARIOS = {
    f.__name__: f
    for f in (
        portal_run_return, stream_from_asyncgen, spawn_teardown, portal_run_error,
        ctx_cancel_from_caller, ctx_started_return, ctx_stream_caller_stops, payload_scalars,
    )
}


if __name__ == '__main__':
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        raise SystemExit(f'usage: legacy_scenarios.py {{{",".join(SCENARIOS)}}}')
    trio.run(SCENARIOS[sys.argv[1]])
