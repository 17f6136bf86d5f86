#!/usr/bin/env python3
'''
A real tractor program that calls two actors serving the same endpoints
(`shuttle serve`, the Rust actor, and `shuttle_peer.py`, a Python tractor
daemon) through tractor's API, and compares every outcome side by side:

    python interop.py --peer shuttle=tcp://127.0.0.1:4000 --peer python=tcp://127.0.0.1:4001 [--json OUT]

Each check gives an outcome per peer: the value returned (a repr, with
bytes over 1 KiB as their length and sha256) or the remote error (boxed
type, source type and the exception line of its traceback). The program
prints one line per check and exits 0 only when every check has the same
outcome on every peer and, where the check states one, the expected one.
`portal.cancel_actor()` is the last check: a tractor actor exits after it.

(No `from __future__ import annotations`: tractor reads annotations.)
'''
import argparse
import hashlib
import json
import math
import os
import sys

import msgspec
import trio
import tractor
from tractor.ipc._chan import _connect_chan  # what tractor's own get_registry() uses
from tractor.runtime._portal import open_portal


# The endpoints, by name: `portal.run(fn)` sends `ns='__main__'` and the
# function's name; the bodies are never run here.
async def add(x, y): ...
async def boom(): ...
async def ok(): ...
async def compute(base, exp): ...
async def counter(n): yield  # noqa: E704
async def flaky_gen(): yield  # noqa: E704


@tractor.context
async def greet(ctx: tractor.Context, name: str): ...
@tractor.context
async def doubler(ctx: tractor.Context): ...
@tractor.context
async def tagged_echo(ctx: tractor.Context, tag: str): ...
@tractor.context
async def echo(ctx: tractor.Context, first=None): ...
@tractor.context
async def fails_early(ctx: tractor.Context): ...
@tractor.context
async def fails_midstream(ctx: tractor.Context): ...
@tractor.context
async def sleeper(ctx: tractor.Context): ...


# Typed payloads: tractor's caller takes the payload spec from the
# endpoint's `@tractor.context(pld_spec=...)`, so these stubs make this
# program's side of the dialog typed, whatever the callee declares.
class PldMsg(msgspec.Struct):
    field: str


class Point(msgspec.Struct):
    x: int
    y: int


@tractor.context(pld_spec=PldMsg|None)
async def streamer(ctx: tractor.Context): ...
@tractor.context(pld_spec=Point|None)
async def point_doubler(ctx: tractor.Context): ...


MIB = 1 << 20
NAN = float('nan')


def show(v):
    '''A comparable text for a payload value.'''
    if isinstance(v, (bytes, bytearray)) and len(v) > 1024:
        return f'bytes[{len(v)}] sha256={hashlib.sha256(v).hexdigest()[:16]}'
    if isinstance(v, float) and math.isnan(v):
        return 'nan'
    if isinstance(v, str) and len(v) > 1024:
        return f'str[{len(v)}] sha256={hashlib.sha256(v.encode()).hexdigest()[:16]}'
    return repr(v)


def show_error(e: BaseException) -> str:
    if isinstance(e, tractor.RemoteActorError):
        tb = (e.tb_str() if callable(e.tb_str) else e.tb_str) or ''
        lines = [l.strip() for l in tb.splitlines() if l.strip()]
        src = e.src_type_str
        line = next(
            (l for l in reversed(lines) if l == src or l.startswith(src + ':') or f'.{src}:' in l),
            lines[-1] if lines else src,
        )
        return f'!{e.boxed_type_str}({src}) {line}'
    return f'!local {type(e).__name__}: {e}'


# -- the checks -------------------------------------------------------------
# Each takes a portal and returns a value to compare (or raises).

def add_check(x, y, expect):
    async def check(p):
        return show(await p.run(add, x=x, y=y))
    return check, expect


async def run_from_ns_add(p):
    return show(await p.run_from_ns('__main__', 'add', x=20, y=22))


async def run_compute(p):
    return show(await p.run(compute, base=2, exp=10))


async def err_boom(p):
    return show(await p.run(boom))


async def err_missing_fn(p):
    return show(await p.run_from_ns('__main__', 'no_such_fn'))


async def err_bad_kwargs(p):
    return show(await p.run(add, x=1, z=2))


async def err_not_exposed(p):
    return show(await p.run_from_ns('not_exposed_mod', 'add', x=1, y=2))


async def still_alive(p):
    return show(await p.run(ok))


async def stream_whole(p):
    async with p.open_stream_from(counter, n=10) as s:
        return show([v async for v in s])


async def stream_break_early(p):
    # n stays below tractor's context buffer (64 messages): a callee that
    # keeps yielding into a stream the caller left overruns the caller,
    # and between two Python actors the `StreamOverrun` errors then bounce
    # back and forth without end, each boxing the one before (PROTOCOL.md
    # §5.8).
    got = []
    async with p.open_stream_from(counter, n=40) as s:
        async for v in s:
            got.append(v)
            if len(got) == 3:
                break
    # The channel still serves afterwards.
    return show((got, await p.run(ok)))


async def stream_error(p):
    got = []
    try:
        async with p.open_stream_from(flaky_gen) as s:
            async for v in s:
                got.append(v)
    except tractor.RemoteActorError as e:
        return show(got) + ' then ' + show_error(e)
    return show(got)


async def ctx_started_result(p):
    async with p.open_context(greet, name='interop') as (ctx, first):
        res = await ctx.wait_for_result()
    return show((first, res))


async def ctx_two_way(p):
    out = []
    async with p.open_context(doubler) as (ctx, first):
        async with ctx.open_stream() as stream:
            for v in (1, -7, 2**40, 0.5, 'ab'):
                await stream.send(v)
                out.append(await stream.receive())
        res = await ctx.wait_for_result()
    return show((first, out, res))


async def ctx_multiplexed(p):
    results = {}

    async def one(tag):
        got = []
        async with p.open_context(tagged_echo, tag=tag) as (ctx, first):
            async with ctx.open_stream() as stream:
                for i in range(5):
                    await stream.send(i)
                    got.append(await stream.receive())
            results[tag] = (first, got, await ctx.wait_for_result())

    async with trio.open_nursery() as tn:
        for tag in ('a', 'b', 'c'):
            tn.start_soon(one, tag)
    return show(sorted(results.items()))


EDGE = [
    2**64 - 1, -2**63, 0, -1, 1.5, NAN, math.inf, -math.inf, -0.0,
    True, False, None, '', 'emoji 🚀 ✓ ünïcode', b'', b'\x00\xff', [], {},
    [1, [2, [3, [4]]]], {'k': {'nested': [1, 'two', None]}}, b'\xab' * MIB,
]


async def ctx_echo_edges(p):
    out = []
    async with p.open_context(echo) as (ctx, first):
        async with ctx.open_stream() as stream:
            for v in EDGE:
                await stream.send(v)
                out.append(show(await stream.receive()))
        res = await ctx.wait_for_result()
    return show((first, out, res))


async def ctx_error_before_started(p):
    async with p.open_context(fails_early) as (ctx, first):
        await ctx.wait_for_result()
    return 'no error'


async def ctx_error_midstream(p):
    got = []
    async with p.open_context(fails_midstream) as (ctx, first):
        async with ctx.open_stream() as stream:
            async for v in stream:
                got.append(v)
        await ctx.wait_for_result()
    return show(got)


async def ctx_cancel(p):
    async with p.open_context(sleeper) as (ctx, first):
        await ctx.cancel()
        with trio.fail_after(10):
            res = await ctx.wait_for_result()
    return show((first, type(res).__name__, ctx.cancel_called))


async def call_timeout(p):
    with trio.move_on_after(0.5) as cs:
        async with p.open_context(sleeper) as (ctx, first):
            await ctx.wait_for_result()
    return show((cs.cancelled_caught, await p.run(ok)))


async def cancel_actor(p):
    return show(await p.cancel_actor())


async def ctx_typed_valid(p):
    async with p.open_context(point_doubler) as (ctx, first):
        got = [first]
        async with ctx.open_stream() as stream:
            for pt in (Point(1, 2), Point(-3, 40)):
                await stream.send(pt)
                got.append(await stream.receive())
        got.append(await ctx.wait_for_result())
    return show(got)


async def ctx_typed_callee_bad_item(p):
    got = []
    try:
        async with p.open_context(point_doubler) as (ctx, first):
            async with ctx.open_stream() as stream:
                await stream.send(Point(1, 2))
                got.append(await stream.receive())
                await stream.send('not a point')  # breaks the callee's spec
                got.append(await stream.receive())
    except tractor.RemoteActorError as e:
        got.append(f'!{e.boxed_type_str}')
    return show((got, await p.run(ok)))


async def ctx_typed_bad_yield(p):
    got = []
    try:
        async with p.open_context(streamer) as (ctx, first):
            got.append(first)
            async with ctx.open_stream() as stream:
                got.append(await stream.receive())
                got.append(await stream.receive())  # 42: not a PldMsg
    except tractor.MsgTypeError as e:
        # The violation is found here, by this caller, against its spec.
        text = str(e)
        got.append(f'!MsgTypeError {"42" in text and "PldMsg" in text}')
    return show((got, await p.run(ok)))


def nested(depth):
    '''A list nested `depth` containers deep (`[]` is 1).'''
    v = []
    for _ in range(depth - 1):
        v = [v]
    return v


def depth_of(v):
    '''How deep a payload nests, and its innermost value.'''
    d = 0
    while isinstance(v, (list, tuple)) and v:
        d += 1
        v = v[0]
    return f'{d + isinstance(v, (list, tuple))} deep, innermost {v!r}'


def ctx_deep(fn, depth, **kwargs):
    async def check(p):
        got = []
        try:
            async with p.open_context(fn, **kwargs) as (ctx, first):
                async with ctx.open_stream() as stream:
                    await stream.send(nested(depth))
                    out = await stream.receive()
                    got.append(depth_of(out) if isinstance(out, list) else show(out))
        except BaseException as e:  # noqa: BLE001 - every outcome is data here
            if isinstance(e, (KeyboardInterrupt, trio.Cancelled)):
                raise
            got.append(show_error(e))
        return show((got, await p.run(ok)))
    return check


CHECKS = [
    ('run add ints', *add_check(20, 22, '42')),
    ('run add 2**64-1', *add_check(2**64 - 2, 1, repr(2**64 - 1))),
    ('run add -2**63', *add_check(-2**63 + 1, -1, repr(-2**63))),
    ('run add floats', *add_check(0.5, 0.25, '0.75')),
    ('run add nan', *add_check(NAN, 0.0, 'nan')),
    ('run add inf', *add_check(math.inf, 1.0, 'inf')),
    ('run add -inf', *add_check(-math.inf, 0.0, '-inf')),
    ('run add emoji', *add_check('emoji 🚀', ' ✓', repr('emoji 🚀 ✓'))),
    ('run add bytes 1 MiB', *add_check(b'\x01' * MIB, b'', show(b'\x01' * MIB))),
    ('run add nested lists', *add_check([1, [2, [3]]], [{'k': None}], repr([1, [2, [3]], {'k': None}]))),
    ('run add None', *add_check(None, None, None)),
    ('run add dicts', *add_check({'a': 1}, {}, None)),
    ('run_from_ns add', run_from_ns_add, '42'),
    ('run compute', run_compute, '1024'),
    ('error ValueError', err_boom, "!ValueError(ValueError) ValueError: boom: bad value 42"),
    ('error AttributeError', err_missing_fn, None),
    ('error TypeError (kwargs)', err_bad_kwargs, None),
    ('error ModuleNotExposed', err_not_exposed, None),
    ('still alive after errors', still_alive, "'still alive'"),
    ('stream whole', stream_whole, repr(list(range(10)))),
    ('stream broken off early', stream_break_early, repr(([0, 1, 2], 'still alive'))),
    ('stream then IndexError', stream_error, None),
    ('context started + result', ctx_started_result, repr(('hello interop', {'greeted': 'interop', 'count': 1}))),
    ('context two-way stream', ctx_two_way, None),
    ('context multiplexed x3', ctx_multiplexed, None),
    ('context echo edge payloads', ctx_echo_edges, None),
    ('context KeyError before started', ctx_error_before_started, None),
    ('context RuntimeError midstream', ctx_error_midstream, None),
    ('context ctx.cancel()', ctx_cancel, None),
    ('context typed (Point spec), valid', ctx_typed_valid,
     repr([Point(0, 0), Point(2, 4), Point(-6, 80), None])),
    ('context typed callee (Point spec), bad item sent', ctx_typed_callee_bad_item,
     None),
    ('context typed (PldMsg spec), bad Yield', ctx_typed_bad_yield,
     repr(([PldMsg('ok'), PldMsg('first'), '!MsgTypeError True'], 'still alive'))),
    # The deepest payload both accept (shuttle's limit, msgspec's on Python
    # 3.11; tractor on 3.13 goes on to 10,000 levels: spec/PROTOCOL.md §4.2).
    ('context doubler, payload 998 deep', ctx_deep(doubler, 998),
     repr((['998 deep, innermost []'], 'still alive'))),
    ('context tagged_echo, payload 998 deep', ctx_deep(tagged_echo, 998, tag='t'),
     repr(([show('t:' + str(nested(998)))], 'still alive'))),
    ('timeout, then still serving', call_timeout, repr((True, 'still alive'))),
    ('portal.cancel_actor()', cancel_actor, 'True'),
]


def parse_addr(text: str):
    if text.startswith('tcp://'):
        host, _, port = text[len('tcp://'):].rpartition(':')
        return 'tcp', (host.strip('[]'), int(port))
    if text.startswith('uds://'):
        path = text[len('uds://'):]
        return 'uds', (os.path.dirname(path), os.path.basename(path))
    raise SystemExit(f'bad address {text!r}: expected tcp://IP:PORT or uds:///PATH')


async def run_peer(addr) -> list[str]:
    outcomes = []
    async with (
        _connect_chan(addr) as chan,
        open_portal(chan) as portal,
    ):
        for title, check, _expect in CHECKS:
            try:
                with trio.fail_after(30):
                    out = await check(portal)
            except trio.TooSlowError:
                out = '!timeout (30 s)'
            except BaseException as e:  # noqa: BLE001 - every outcome is data here
                if isinstance(e, (KeyboardInterrupt, trio.Cancelled)):
                    raise
                out = show_error(e)
            outcomes.append(out)
    return outcomes


async def main(peers: list[tuple[str, str]], json_out: str | None) -> int:
    transports = sorted({parse_addr(a)[0] for _, a in peers})
    async with tractor.open_root_actor(
        name='interop',
        enable_transports=transports,
        enable_modules=['__main__'],
        loglevel=os.environ.get('INTEROP_LOGLEVEL'),
    ):
        results = {}
        for name, addr in peers:
            with trio.fail_after(600):
                results[name] = await run_peer(parse_addr(addr)[1])
    names = [n for n, _ in peers]
    failed = 0
    rows = []
    for i, (title, _check, expect) in enumerate(CHECKS):
        outs = [results[n][i] for n in names]
        same = all(o == outs[0] for o in outs)
        as_expected = expect is None or all(o == expect for o in outs)
        ok = same and as_expected
        failed += not ok
        rows.append({'check': title, 'outcomes': dict(zip(names, outs)), 'expected': expect,
                     'same': same, 'ok': ok})
        print(f"{'ok  ' if ok else 'DIFF'}  {title}")
        if not ok or os.environ.get('INTEROP_VERBOSE'):
            for n, o in zip(names, outs):
                print(f'        {n:>8}: {o}')
            if expect is not None and not as_expected:
                print(f'        expected: {expect}')
    print(f'{len(CHECKS) - failed} same, {failed} differ ({len(CHECKS)} checks, peers: {", ".join(names)})')
    if json_out:
        with open(json_out, 'w') as f:
            json.dump({'peers': dict(peers), 'checks': rows}, f, indent=1, ensure_ascii=False)
    return 1 if failed else 0


def cli() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--peer', action='append', required=True, metavar='NAME=ADDR',
                    help='a peer to run every check against (repeat)')
    ap.add_argument('--json', help='write every outcome here')
    args = ap.parse_args()
    peers = [tuple(p.split('=', 1)) for p in args.peer]
    sys.exit(trio.run(main, peers, args.json))


if __name__ == '__main__':
    cli()
