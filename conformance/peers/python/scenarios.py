#!/usr/bin/env python3
'''
Tractor programs that `shuttle record` records in CI; each plays the
scenario of the committed capture of the same name
(`fixtures/captures/python-tractor/NAME.json`, whose description says
what is on the wire):

    python scenarios.py NAME

    portal_run_return       portal.run of an async function, twice
    stream_from_asyncgen    a one-way stream from an async generator
    ctx_stream_caller_stops a context with a two-way stream the caller ends
    ctx_cancel_from_caller  a context the caller cancels
    portal_run_error        a remote ValueError, then a call that works
    grandchild_error_relay  an error relayed from a grandchild
    uds_transport           a tree over Unix sockets

and three that end badly on purpose:

    crash                   the root raises after one call (exit status 1)
    huge_frame              a child returns 70 MiB (over a 64 MiB frame limit)
    killed_child            the root SIGKILLs a child that is streaming 1 MiB
                            payloads, then ends

The root's registrar address is tractor's default (127.0.0.1:1616)
unless SHUTTLE_SCENARIO_REGISTRY=HOST:PORT names another, so that
recordings may run side by side.

(No `from __future__ import annotations`: tractor reads annotations.)
'''
import os
import signal
import sys

import trio
import tractor


def root_nursery(**kwargs):
    '''The root's `tractor.open_nursery`, at the registrar address chosen.'''
    addr = os.environ.get('SHUTTLE_SCENARIO_REGISTRY')
    if addr and 'uds' not in kwargs.get('enable_transports', ()):
        host, _, port = addr.rpartition(':')
        kwargs['registry_addrs'] = [(host, int(port))]
    return tractor.open_nursery(**kwargs)


async def add(x, y):
    return x + y


async def counter(n: int):
    for i in range(n):
        yield i


@tractor.context
async def doubler(ctx: tractor.Context):
    await ctx.started(None)
    async with ctx.open_stream() as stream:
        async for x in stream:
            await stream.send(x * 2)
    return 'done'


@tractor.context
async def sleeper(ctx: tractor.Context):
    await ctx.started('sleeping')
    await trio.sleep_forever()


async def boom():
    raise ValueError('boom: bad value 42')


async def ok():
    return 'still alive'


async def leaf_boom():
    raise NameError('leaf_boom: no such name')


@tractor.context
async def relay(ctx: tractor.Context):
    async with tractor.open_nursery() as n:
        leaf = await n.start_actor('leaf', enable_modules=[__name__])
        await ctx.started('leaf-up')
        try:
            await leaf.run(leaf_boom)
        finally:
            with trio.move_on_after(0.5):
                await leaf.cancel_actor()


@tractor.context
async def echo(ctx: tractor.Context):
    await ctx.started('uds-ready')
    async with ctx.open_stream() as stream:
        async for x in stream:
            await stream.send(x)
    return 'uds-done'


async def big(n: int):
    return b'\x00' * n


async def pid():
    return os.getpid()


async def blobs():
    while True:
        yield b'\x01' * (1 << 20)


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


async def ctx_stream_caller_stops():
    async with root_nursery() as n:
        p = await n.start_actor('echo', enable_modules=[__name__])
        async with p.open_context(doubler) as (ctx, first):
            assert first is None
            async with ctx.open_stream() as stream:
                for i in (1, 2, 3):
                    await stream.send(i)
                    assert await stream.receive() == i * 2
            assert await ctx.result() == 'done'
        await p.cancel_actor()


async def ctx_cancel_from_caller():
    async with root_nursery() as n:
        p = await n.start_actor('sleepy', enable_modules=[__name__])
        async with p.open_context(sleeper) as (ctx, first):
            assert first == 'sleeping'
            await ctx.cancel()
        await p.cancel_actor()


async def portal_run_error():
    async with root_nursery() as n:
        p = await n.start_actor('faulty', enable_modules=[__name__])
        try:
            await p.run(boom)
        except tractor.RemoteActorError as e:
            assert e.boxed_type is ValueError, e
        else:
            raise AssertionError('boom did not raise')
        assert await p.run(ok) == 'still alive'
        await p.cancel_actor()


async def grandchild_error_relay():
    async with root_nursery() as n:
        p = await n.start_actor('middle', enable_modules=[__name__])
        try:
            async with p.open_context(relay) as (ctx, first):
                assert first == 'leaf-up'
                await ctx.result()
        except tractor.RemoteActorError as e:
            assert e.src_type is NameError, e
        else:
            raise AssertionError('relay did not raise')
        await p.cancel_actor()


async def uds_transport():
    async with root_nursery(enable_transports=['uds']) as n:
        p = await n.start_actor('uds_child', enable_modules=[__name__])
        assert await p.run(add, x=1, y=2) == 3
        async with p.open_context(echo) as (ctx, first):
            assert first == 'uds-ready'
            async with ctx.open_stream() as stream:
                for x in ('a', b'b', 3):
                    await stream.send(x)
                    assert await stream.receive() == x
            assert await ctx.result() == 'uds-done'
        await p.cancel_actor()


async def crash():
    async with root_nursery() as n:
        p = await n.start_actor('adder', enable_modules=[__name__])
        assert await p.run(add, x=1, y=1) == 2
        raise RuntimeError('the program crashes on purpose')


async def huge_frame():
    async with root_nursery() as n:
        p = await n.start_actor('big', enable_modules=[__name__])
        assert len(await p.run(big, n=70 << 20)) == 70 << 20
        await p.cancel_actor()


async def killed_child():
    async with root_nursery() as n:
        p = await n.start_actor('blobber', enable_modules=[__name__])
        child = await p.run(pid)
        async with p.open_stream_from(blobs) as stream:
            got = 0
            async for _ in stream:
                got += 1
                if got == 3:
                    os.kill(child, signal.SIGKILL)
                    break
        await n.cancel(hard_kill=True)


SCENARIOS = {
    f.__name__: f
    for f in (
        portal_run_return, stream_from_asyncgen, ctx_stream_caller_stops,
        ctx_cancel_from_caller, portal_run_error, grandchild_error_relay,
        uds_transport, crash, huge_frame, killed_child,
    )
}


if __name__ == '__main__':
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        raise SystemExit(f'usage: scenarios.py {{{",".join(SCENARIOS)}}}')
    trio.run(SCENARIOS[sys.argv[1]])
