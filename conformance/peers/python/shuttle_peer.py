#!/usr/bin/env python3
'''
A Python tractor daemon serving the test endpoints of the recorded
scenarios, so that `shuttle replay` can be pointed at a real tractor actor.

Every endpoint answers as the endpoint of the same name did when the
captures in `fixtures/captures/python-tractor/` were recorded, and as
`shuttle serve` does (see `spec/replay.md`). The replay cases call them as
`ns="__main__"`, so run this file as a script (not with `-m`):

    python shuttle_peer.py --listen tcp://127.0.0.1:1616
    python shuttle_peer.py --listen uds:///tmp/shuttle/peer.sock

It prints `listening on ADDR` once the actor serves. Every replay case ends
with `self.cancel`, after which a tractor actor exits: run it in a loop
(see README.md).

(No `from __future__ import annotations` here: `@tractor.context` finds the
`ctx: tractor.Context` parameter by its annotation object.)
'''
import argparse
import hashlib
import os
import sys

import msgspec
import trio
import tractor


# -- asyncfunc endpoints (`Portal.run()`) ------------------------------------

async def add(x, y):
    '''portal_run_return, uds_transport: `x + y`.'''
    return x + y


async def boom():
    '''portal_run_error.'''
    raise ValueError('boom: bad value 42')


async def ok():
    '''portal_run_error: the actor still serves after an error.'''
    return 'still alive'


async def exposed():
    '''portal_run_module_not_exposed: the one call that works.'''
    return 'exposed-ok'


async def compute(base, exp):
    '''run_in_actor_result.'''
    return base ** exp


# -- asyncgen endpoints (`Portal.open_stream_from()`) -------------------------

async def counter(n):
    '''stream_from_asyncgen: 0 .. n-1.'''
    for i in range(n):
        yield i


async def flaky_gen():
    '''stream_from_asyncgen_error: two items, then an error.'''
    yield 'one'
    yield 'two'
    raise IndexError('generator broke after two items')


# -- context endpoints (`Portal.open_context()`) -------------------------------

@tractor.context
async def greet(ctx: tractor.Context, name: str):
    '''ctx_started_return.'''
    await ctx.started(f'hello {name}')
    return {'greeted': name, 'count': 1}


@tractor.context
async def doubler(ctx: tractor.Context):
    '''ctx_stream_caller_stops: answer each value doubled until the caller stops.'''
    await ctx.started(None)
    async with ctx.open_stream() as stream:
        async for value in stream:
            await stream.send(value * 2)
    return 'done'


@tractor.context
async def producer(ctx: tractor.Context, count: int):
    '''ctx_stream_callee_stops: the callee closes its stream first.'''
    await ctx.started('ready')
    async with ctx.open_stream() as stream:
        for i in range(count):
            await stream.send(f'item-{i}')
    return count


@tractor.context
async def tagged_echo(ctx: tractor.Context, tag: str):
    '''multiplexed_contexts: three of these run at once on one channel.'''
    await ctx.started(f'{tag}:ready')
    async with ctx.open_stream() as stream:
        async for value in stream:
            await stream.send(f'{tag}:{value}')
    return f'{tag}:done'


@tractor.context
async def echo(ctx: tractor.Context, first=None):
    '''payload_scalars (no kwargs), payload_containers (`first`): echo every value.'''
    await ctx.started(first)
    async with ctx.open_stream() as stream:
        async for value in stream:
            await stream.send(value)
    if first is None:
        return None
    return ({'ret': (1, (2, (3,)))}, [], {})


@tractor.context
async def resolver(ctx: tractor.Context):
    '''payload_namespace_path: echo `'module:attr'` strings.'''
    await ctx.started(None)
    async with ctx.open_stream() as stream:
        async for path in stream:
            await stream.send(str(path))
    return None


@tractor.context
async def streamer(ctx: tractor.Context):
    '''typed_pld_bad_yield: the second item breaks the caller's `{'field': str}` spec.'''
    await ctx.started({'field': 'ok'})
    async with ctx.open_stream() as stream:
        await stream.send({'field': 'first'})
        await stream.send(42)
        await trio.sleep_forever()


class Point(msgspec.Struct):
    x: int
    y: int


@tractor.context(pld_spec=Point|None)
async def point_doubler(ctx: tractor.Context):
    '''typed_pld_valid: the recorded endpoint's spec, `Point|None`; an item
    that is not a `Point` raises `MsgTypeError` here.'''
    await ctx.started(Point(0, 0))
    async with ctx.open_stream() as stream:
        async for point in stream:
            await stream.send(Point(point.x * 2, point.y * 2))
    return None


@tractor.context
async def sleeper(ctx: tractor.Context):
    '''ctx_cancel_from_caller: sleeps until cancelled.'''
    await ctx.started('sleeping')
    await trio.sleep_forever()


@tractor.context
async def ticker(ctx: tractor.Context):
    '''cancel_actor_midstream: three ticks, then sleeps with the stream open.'''
    await ctx.started('ticking')
    async with ctx.open_stream() as stream:
        for i in range(3):
            await stream.send(i)
        await trio.sleep_forever()


@tractor.context
async def fails_early(ctx: tractor.Context):
    '''ctx_error_before_started.'''
    raise KeyError('missing-key')


@tractor.context
async def fails_midstream(ctx: tractor.Context):
    '''ctx_error_after_started: `Stop`, then the error.'''
    await ctx.started(1)
    async with ctx.open_stream() as stream:
        await stream.send('a')
        await stream.send('b')
        raise RuntimeError('midstream failure')


@tractor.context
async def blob_echo(ctx: tractor.Context):
    '''payload_bytes_1mib: the digest of a large blob, then the blob.'''
    await ctx.started(1 << 20)
    async with ctx.open_stream() as stream:
        blob = await stream.receive()
        await stream.send(hashlib.sha256(blob).hexdigest())
        await stream.send(blob)
    return 'ok'


# -- the daemon -----------------------------------------------------------------

def parse_addr(text: str) -> tuple[str, tuple]:
    '''`tcp://IP:PORT` or `uds:///DIR/FILE` -> (transport, tractor address).'''
    if text.startswith('tcp://'):
        host, _, port = text[len('tcp://'):].rpartition(':')
        # tractor wants an IP literal (protocol reference 1.2).
        return 'tcp', (host.strip('[]'), int(port))
    if text.startswith('uds://'):
        path = text[len('uds://'):]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return 'uds', (os.path.dirname(path), os.path.basename(path))
    raise SystemExit(f'bad address {text!r}: expected tcp://IP:PORT or uds:///PATH')


async def serve(listen: str, name: str, loglevel: str | None) -> None:
    transport, addr = parse_addr(listen)
    async with tractor.open_root_actor(
        name=name,
        # The root actor becomes the registrar and binds its registry
        # address: that is where `shuttle replay --connect` connects.
        registry_addrs=[addr],
        enable_transports=[transport],
        enable_modules=['__main__'],
        loglevel=loglevel,
    ):
        print(f'listening on {listen}', flush=True)
        # `self.cancel` (`Portal.cancel_actor()`) cancels the runtime's
        # service nursery, not this block: a root actor would serve on
        # with its listener closed. Leave once the cancel has completed,
        # as a spawned tractor actor exits.
        await tractor.current_actor()._cancel_complete.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--listen', default='tcp://127.0.0.1:1616',
                    help='tcp://IP:PORT or uds:///PATH (default %(default)s)')
    ap.add_argument('--name', default='shuttle-peer', help='actor name')
    ap.add_argument('--loglevel', default=None, help='tractor log level, e.g. info')
    args = ap.parse_args()
    try:
        trio.run(serve, args.listen, args.name, args.loglevel)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == '__main__':
    main()
