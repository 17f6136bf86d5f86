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
    spawn_teardown          a daemon spawned and cancelled, nothing else
    ctx_started_return      a context: started(), then a result
    ctx_stream_callee_stops a context stream the callee ends
    ctx_error_after_started a context raising mid-stream
    ctx_error_before_started a context raising before started()
    multiplexed_contexts    three contexts interleaved on one channel
    portal_run_module_not_exposed  calls refused before any StartAck
    run_in_actor_result     run_in_actor, a uint64 result
    stream_from_asyncgen_error     an async generator raising mid-stream
    cancel_actor_midstream  cancel_actor() inside a live context stream
    payload_bytes_1mib      1 MiB both ways in one frame
    stream_overrun          a caller flooding a context that never opens its stream
    discovery_find_actor    find_actor, query_actor, wait_for_actor through the root
    payload_scalars         scalars at every msgpack encoding boundary, echoed
    payload_containers      containers at every msgpack encoding boundary, echoed
    typed_pld_valid         a context with a Point | None payload spec
    typed_pld_bad_started   a Started breaking the spec, caught by the receiver
    typed_pld_bad_yield     a Yield breaking the spec, caught by the receiver
    typed_pld_started_send_side_check  a Started breaking the spec, caught by the sender
    typed_pld_types         a context whose spec holds a datetime, a UUID, a set,
                            a Decimal and a constrained int; a Yield breaking the
                            constraint is caught by the receiver

    payload_ext_types       msgpack extensions and the types msgspec maps to them, echoed
    discovery_external_registrar  a root using a registrar in another process
                            (started as `scenarios.py _registrar`)
    payload_namespace_path  tractor's NamespacePath (a str subtype) both ways The typed scenarios' payload specs are not on
the wire: to write their captures again, give the fixture's `pld_specs` to
`shuttle record --pld-specs`.

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
import datetime
import decimal
import enum
import os
import signal
import typing
import uuid
import sys

import msgspec
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
async def echo(ctx: tractor.Context, first=None):
    # One endpoint for three scenarios, told apart by the variable the
    # root sets (children inherit the environment).
    scenario = os.environ.get('SHUTTLE_SCENARIO')
    uds = scenario == 'uds_transport'
    exts = scenario == 'payload_ext_types'
    if exts:
        first = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    await ctx.started('uds-ready' if uds else first)
    async with ctx.open_stream() as stream:
        async for x in stream:
            await stream.send(x)
    if uds:
        return 'uds-done'
    if exts:
        return msgspec.msgpack.Ext(42, b'return-ext')
    if first is not None:
        return ({'ret': [1, (2, (3,))]}, [], {})
    return None


async def big(n: int):
    return b'\x00' * n


async def pid():
    return os.getpid()


async def blobs():
    while True:
        yield b'\x01' * (1 << 20)


@tractor.context
async def greet(ctx: tractor.Context, name: str):
    await ctx.started(f'hello {name}')
    return {'greeted': name, 'count': 1}


@tractor.context
async def producer(ctx: tractor.Context, count: int):
    await ctx.started('ready')
    async with ctx.open_stream() as stream:
        for i in range(count):
            await stream.send(f'item-{i}')
    return count


@tractor.context
async def fails_midstream(ctx: tractor.Context):
    await ctx.started(1)
    async with ctx.open_stream() as stream:
        await stream.send('a')
        await stream.send('b')
        raise RuntimeError('midstream failure')


@tractor.context
async def fails_early(ctx: tractor.Context):
    raise KeyError('missing-key')


@tractor.context
async def tagged_echo(ctx: tractor.Context, tag: str):
    await ctx.started(f'{tag}:ready')
    async with ctx.open_stream() as stream:
        async for x in stream:
            await stream.send(f'{tag}:{x}')
    return f'{tag}:done'


async def exposed():
    return 'exposed-ok'


async def compute(base: int, exp: int):
    return base ** exp


async def flaky_gen():
    yield 'one'
    yield 'two'
    raise IndexError('flaky: out of items')


@tractor.context
async def ticker(ctx: tractor.Context):
    await ctx.started('ticking')
    async with ctx.open_stream() as stream:
        for i in range(3):
            await stream.send(i)
        await trio.sleep_forever()


@tractor.context
async def blob_echo(ctx: tractor.Context):
    import hashlib
    await ctx.started(1 << 20)
    async with ctx.open_stream() as stream:
        blob = await stream.receive()
        await stream.send(hashlib.sha256(blob).hexdigest())
        await stream.send(blob)
    return 'ok'


@tractor.context
async def never_open_stream(ctx: tractor.Context):
    await ctx.started()
    await trio.sleep_forever()


async def whoami():
    return tractor.current_actor().name


@tractor.context
async def discover(ctx: tractor.Context):
    found = []
    regs = tractor.current_actor().reg_addrs
    async with tractor.find_actor('svc', registry_addrs=regs) as portal:
        found.append(await portal.run_from_ns('__mp_main__', 'whoami'))
    async with tractor.find_actor('nobody', registry_addrs=regs) as portal:
        found.append(portal is None)
    async with tractor.query_actor('svc', regaddr=regs[0]) as (addr, _):
        found.append(addr is not None)
    async with tractor.wait_for_actor('svc') as portal:
        found.append(await portal.run_from_ns('__mp_main__', 'whoami'))
    await ctx.started(found)


class Point(msgspec.Struct):
    x: int
    y: int


class PldMsg(msgspec.Struct):
    field: str


@tractor.context(pld_spec=Point | None)
async def point_doubler(ctx: tractor.Context):
    await ctx.started(Point(0, 0))
    async with ctx.open_stream() as stream:
        async for p in stream:
            await stream.send(Point(p.x * 2, p.y * 2))


@tractor.context(pld_spec=PldMsg | None)
async def child(ctx: tractor.Context):
    if os.environ.get('SHUTTLE_SCENARIO') == 'typed_pld_bad_started':
        # The bad int goes over the wire; the receiver rejects it.
        await ctx.started(10, validate_pld_spec=False)
    else:
        # Checked before sending: the task fails with MsgTypeError.
        await ctx.started({'field': 10})
    await trio.sleep_forever()


@tractor.context(pld_spec=PldMsg | None)
async def streamer(ctx: tractor.Context):
    await ctx.started(PldMsg('ok'))
    async with ctx.open_stream() as stream:
        await stream.send(PldMsg('first'))
        await stream.send(42)
        await trio.sleep_forever()


class Reading(msgspec.Struct):
    at: datetime.datetime
    sensor: uuid.UUID
    tags: set[str]
    level: typing.Annotated[int, msgspec.Meta(ge=0, le=10)]
    price: decimal.Decimal
    note: typing.Annotated[str, msgspec.Meta(max_length=8)] = ''


READINGS = [
    Reading(datetime.datetime(2024, 2, 29, 23, 59, 59, 500000, tzinfo=datetime.timezone.utc),
            uuid.UUID('12345678-1234-5678-1234-567812345678'), {'a', 'b'}, 0,
            decimal.Decimal('1.50')),
    Reading(datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))),
            uuid.UUID(int=0), set(), 10, decimal.Decimal('-0.001'), 'ok'),
]


@tractor.context(pld_spec=Reading | None)
async def readings(ctx: tractor.Context):
    await ctx.started(READINGS[0])
    async with ctx.open_stream() as stream:
        async for r in stream:
            if r is None:
                # Sending is not checked: a level out of range goes over
                # the wire, and the caller's spec rejects it.
                await stream.send({**msgspec.to_builtins(READINGS[0]), 'level': 11})
                await trio.sleep_forever()
            await stream.send(r)


@tractor.context
async def resolver(ctx: tractor.Context):
    from tractor.msg import NamespacePath
    await ctx.started()
    async with ctx.open_stream() as stream:
        async for path in stream:
            # A plain str here (the default spec); resolved and sent back
            # as the resolved object's own path.
            await stream.send(str(NamespacePath.from_ref(NamespacePath(path).load_ref())))


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


async def spawn_teardown():
    async with root_nursery() as n:
        p = await n.start_actor('child', enable_modules=[__name__])
        await p.cancel_actor()


async def ctx_started_return():
    async with root_nursery() as n:
        p = await n.start_actor('greeter', enable_modules=[__name__])
        async with p.open_context(greet, name='bob') as (ctx, first):
            assert first == 'hello bob'
            assert await ctx.wait_for_result() == {'greeted': 'bob', 'count': 1}
        await p.cancel_actor()


async def ctx_stream_callee_stops():
    async with root_nursery() as n:
        p = await n.start_actor('prod', enable_modules=[__name__])
        async with p.open_context(producer, count=3) as (ctx, first):
            assert first == 'ready'
            async with ctx.open_stream() as stream:
                got = [x async for x in stream]
            assert got == ['item-0', 'item-1', 'item-2'], got
            assert await ctx.wait_for_result() == 3
        await p.cancel_actor()


async def ctx_error_after_started():
    async with root_nursery() as n:
        p = await n.start_actor('late', enable_modules=[__name__])
        try:
            async with p.open_context(fails_midstream) as (ctx, first):
                assert first == 1
                async with ctx.open_stream() as stream:
                    assert await stream.receive() == 'a'
                    assert await stream.receive() == 'b'
                    await stream.receive()
        except tractor.RemoteActorError as e:
            assert e.boxed_type is RuntimeError, e
        else:
            raise AssertionError('fails_midstream did not raise')
        await p.cancel_actor()


async def ctx_error_before_started():
    async with root_nursery() as n:
        p = await n.start_actor('early', enable_modules=[__name__])
        try:
            async with p.open_context(fails_early) as (ctx, first):
                raise AssertionError('opened')
        except tractor.RemoteActorError as e:
            assert e.boxed_type is KeyError, e
        await p.cancel_actor()


async def multiplexed_contexts():
    async with root_nursery() as n:
        p = await n.start_actor('mux', enable_modules=[__name__])
        async with (
            p.open_context(tagged_echo, tag='A') as (ca, _),
            p.open_context(tagged_echo, tag='B') as (cb, _),
            p.open_context(tagged_echo, tag='C') as (cc, _),
            ca.open_stream() as sa,
            cb.open_stream() as sb,
            cc.open_stream() as sc,
        ):
            for i in range(3):
                for tag, stream in (('A', sa), ('B', sb), ('C', sc)):
                    await stream.send(i)
                    assert await stream.receive() == f'{tag}:{i}'
        await p.cancel_actor()


async def portal_run_module_not_exposed():
    async with root_nursery() as n:
        p = await n.start_actor('guarded', enable_modules=[__name__])
        for ns, func in (('os', 'getcwd'), ('__main__', 'no_such_function')):
            try:
                await p.run_from_ns(ns, func)
            except tractor.RemoteActorError:
                pass
            else:
                raise AssertionError(f'{ns}.{func} did not fail')
        assert await p.run(exposed) == 'exposed-ok'
        await p.cancel_actor()


async def run_in_actor_result():
    async with root_nursery() as n:
        p = await n.run_in_actor(compute, name='oneshot', base=2, exp=60)
        assert await p.wait_for_result() == 2 ** 60


async def stream_from_asyncgen_error():
    async with root_nursery() as n:
        p = await n.start_actor('flaky', enable_modules=[__name__])
        got = []
        try:
            async with p.open_stream_from(flaky_gen) as stream:
                async for x in stream:
                    got.append(x)
        except tractor.RemoteActorError as e:
            assert e.boxed_type is IndexError, e
        assert got == ['one', 'two'], got
        await p.cancel_actor()


async def cancel_actor_midstream():
    async with root_nursery() as n:
        p = await n.start_actor('ticker', enable_modules=[__name__])
        try:
            async with p.open_context(ticker) as (ctx, first):
                assert first == 'ticking'
                async with ctx.open_stream() as stream:
                    for i in range(3):
                        assert await stream.receive() == i
                    await p.cancel_actor()
                    await stream.receive()
        except tractor.ContextCancelled:
            pass


async def payload_bytes_1mib():
    import hashlib
    blob = bytes(range(256)) * 4096
    async with root_nursery() as n:
        p = await n.start_actor('blob', enable_modules=[__name__])
        async with p.open_context(blob_echo) as (ctx, first):
            assert first == 1 << 20
            async with ctx.open_stream() as stream:
                await stream.send(blob)
                assert await stream.receive() == hashlib.sha256(blob).hexdigest()
                assert await stream.receive() == blob
                assert await ctx.wait_for_result() == 'ok'
        await p.cancel_actor()


async def stream_overrun():
    async with root_nursery() as n:
        p = await n.start_actor('slowpoke', enable_modules=[__name__])
        try:
            async with p.open_context(never_open_stream) as (ctx, first):
                async with ctx.open_stream() as stream:
                    for i in range(65):
                        await stream.send(i)
                    await ctx.wait_for_result()
        except tractor.RemoteActorError as e:
            assert e.boxed_type.__name__ == 'StreamOverrun', e
        else:
            raise AssertionError('no overrun')
        await p.cancel_actor()


async def registered(name):
    '''Waits until the root (the registrar) knows `name`.'''
    while True:
        async with tractor.query_actor(name) as (addr, _):
            if addr is not None:
                return
        await trio.sleep(0.01)


async def discovery_find_actor():
    async with root_nursery() as n:
        svc = await n.start_actor('svc', enable_modules=[__name__])
        await registered('svc')
        client = await n.start_actor('client', enable_modules=[__name__])
        await registered('client')
        async with client.open_context(discover) as (ctx, found):
            assert found == ['svc', True, True, 'svc'], found
        await client.cancel_actor()
        await svc.cancel_actor()



def nested(levels):
    '''`levels` alternating lists and maps: [{'d': [{'d': ... 'bottom'}]}].'''
    v = 'bottom'
    for i in range(levels):
        v = {'d': v} if i % 2 == 0 else [v]
    return v


CONTAINERS = [
    [], {}, (), [[]], [{}], {'': {}}, {'empty': []},
    [1, 'two', 3.0, None, True, b'\x05', [6], {'7': 7}],
    (1, 2, 3), ('tuple', ('nested', ()), []),
    list(range(15)), list(range(16)), list(range(65536)),
    {str(i): i for i in range(15)}, {str(i): i for i in range(16)},
    {f'k{i}': i for i in range(65536)},
    {1: 'int-key', -2: 'neg-int-key'},
    {'a': {'b': {'c': {'d': [1, {'e': None}]}}}},
    nested(32),
    {'mixed': [None, False, 0, '', b'', [], {}], 'unicode-ключ': 'значение'},
]


def same(a, b):
    '''Equal after a msgpack round trip (tuples come back as lists, nan
    is not equal to itself).'''
    import msgspec
    enc = msgspec.msgpack.encode
    return enc(a) == enc(b)


async def echo_all(values, **kwargs):
    async with root_nursery() as n:
        p = await n.start_actor('echo', enable_modules=[__name__])
        async with p.open_context(echo, **kwargs) as (ctx, first):
            async with ctx.open_stream() as stream:
                for v in values:
                    await stream.send(v)
                    assert same(await stream.receive(), v), repr(v)[:80]
            await ctx.wait_for_result()
        await p.cancel_actor()


async def payload_scalars():
    from payloads import SCALARS
    await echo_all(SCALARS)


async def payload_containers():
    await echo_all(CONTAINERS, first={'a': [1, (2, 3)]})


async def typed_pld_valid():
    async with root_nursery() as n:
        p = await n.start_actor('typed', enable_modules=[__name__])
        async with p.open_context(point_doubler) as (ctx, first):
            assert first == Point(0, 0), first
            async with ctx.open_stream() as stream:
                for x, y in ((1, 1), (2, 3), (-4, 5)):
                    await stream.send(Point(x, y))
                    assert await stream.receive() == Point(2 * x, 2 * y)
            assert await ctx.wait_for_result() is None
        await p.cancel_actor()


async def typed_pld_bad_started():
    async with root_nursery() as n:
        p = await n.start_actor('child', enable_modules=[__name__])
        try:
            async with p.open_context(child) as (ctx, first):
                raise AssertionError(f'opened with {first!r}')
        except tractor.MsgTypeError:
            pass
        await p.cancel_actor()


async def typed_pld_bad_yield():
    async with root_nursery() as n:
        p = await n.start_actor('badyield', enable_modules=[__name__])
        try:
            async with p.open_context(streamer) as (ctx, first):
                assert first == PldMsg('ok'), first
                async with ctx.open_stream() as stream:
                    assert await stream.receive() == PldMsg('first')
                    await stream.receive()
        except tractor.MsgTypeError:
            pass
        else:
            raise AssertionError('no MsgTypeError')
        await p.cancel_actor()


async def typed_pld_started_send_side_check():
    async with root_nursery() as n:
        p = await n.start_actor('child', enable_modules=[__name__])
        try:
            async with p.open_context(child) as (ctx, first):
                raise AssertionError(f'opened with {first!r}')
        except tractor.RemoteActorError as e:
            assert e.boxed_type_str == 'MsgTypeError', e
        await p.cancel_actor()


async def typed_pld_types():
    async with root_nursery() as n:
        p = await n.start_actor('readings', enable_modules=[__name__])
        try:
            async with p.open_context(readings) as (ctx, first):
                assert first == READINGS[0], first
                async with ctx.open_stream() as stream:
                    for r in READINGS:
                        await stream.send(r)
                        assert await stream.receive() == r
                    await stream.send(None)
                    await stream.receive()
        except tractor.MsgTypeError as e:
            assert 'Expected `int` <= 10' in str(e), e
        else:
            raise AssertionError('no MsgTypeError')
        await p.cancel_actor()


class Color(enum.Enum):
    BLUE = 'blue'


class Level(enum.IntEnum):
    TWO = 2


def ext_values():
    Ext = msgspec.msgpack.Ext
    utc = datetime.timezone.utc
    return [
        Ext(1, b'\x01'), Ext(2, b'\x01\x02'), Ext(3, b'\x01\x02\x03\x04'),
        Ext(4, bytes(range(8))), Ext(5, bytes(range(16))),
        Ext(6, b''), Ext(7, b'abc'), Ext(8, b'\xaa' * 255), Ext(9, b'\xbb' * 256),
        Ext(127, b'max-code'), Ext(-128, b'min-code'),
        [Ext(10, b'in-list'), {'ext': Ext(11, b'in-map')}],
        datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=utc),
        datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=utc),
        datetime.datetime(1900, 1, 1, tzinfo=utc),
        datetime.datetime(2600, 6, 7, 8, 9, 10, 1, tzinfo=utc),
        datetime.datetime(1970, 1, 1, tzinfo=utc),
        datetime.datetime(2024, 1, 2, 3, 4, 5),
        datetime.date(2024, 2, 29),
        datetime.time(23, 59, 59, 999999),
        datetime.timedelta(days=1, seconds=1.5),
        uuid.UUID('12345678-1234-5678-1234-567812345678'),
        decimal.Decimal('3.14159265358979323846'),
        Color.BLUE, Level.TWO,
        {1, 2, 3}, frozenset(['only']),
        bytearray(b'bytearray'), memoryview(b'memoryview'),
    ]


async def payload_ext_types():
    async with root_nursery() as n:
        p = await n.start_actor('exts', enable_modules=[__name__])
        async with p.open_context(echo) as (ctx, first):
            async with ctx.open_stream() as stream:
                for v in ext_values():
                    await stream.send(v)
                    await stream.receive()
            assert await ctx.wait_for_result() == msgspec.msgpack.Ext(42, b'return-ext')
        await p.cancel_actor()


def registry_addr():
    addr = os.environ.get('SHUTTLE_SCENARIO_REGISTRY') or '127.0.0.1:1626'
    host, _, port = addr.rpartition(':')
    return (host, int(port))


async def _registrar():
    '''The standalone registrar of discovery_external_registrar.'''
    async with tractor.open_root_actor(
        name='registrar', registry_addrs=[registry_addr()], ensure_registry=True,
    ):
        print('registrar up', flush=True)
        await trio.sleep_forever()


async def discovery_external_registrar():
    import subprocess
    reg = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), '_registrar'],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert reg.stdout.readline().startswith('registrar up')
        async with tractor.open_nursery(
            name='app_root', registry_addrs=[registry_addr()],
        ) as n:
            p = await n.start_actor('worker', enable_modules=[__name__])
            assert await p.run(whoami) == 'worker'
            async with tractor.get_registry(registry_addr()) as registry:
                names = await registry.run_from_ns('self', 'get_registry')
                assert any(k.startswith('worker.') for k in names), names
                assert await registry.run_from_ns('self', 'find_actor', name='worker')
            await p.cancel_actor()
    finally:
        reg.terminate()
        reg.wait(10)


async def payload_namespace_path():
    # A NamespacePath is a str subtype that msgspec only encodes through an
    # enc_hook; the recorded program set tractor's codec hooks for it, which
    # act locally and put a plain msgpack str on the wire. Sending the str
    # itself puts the same bytes there.
    import json
    import os.path
    import textwrap
    from tractor.msg import NamespacePath
    async with root_nursery() as n:
        p = await n.start_actor('resolver', enable_modules=[__name__])
        async with p.open_context(resolver) as (ctx, first):
            async with ctx.open_stream() as stream:
                for ref in (os.path.join, json.dumps, textwrap.dedent):
                    path = NamespacePath.from_ref(ref)
                    await stream.send(str(path))
                    assert await stream.receive() == str(path)
            assert await ctx.wait_for_result() is None
        await p.cancel_actor()


SCENARIOS = {
    f.__name__: f
    for f in (
        portal_run_return, stream_from_asyncgen, ctx_stream_caller_stops,
        ctx_cancel_from_caller, portal_run_error, grandchild_error_relay,
        uds_transport, crash, huge_frame, killed_child,
        spawn_teardown, ctx_started_return, ctx_stream_callee_stops,
        ctx_error_after_started, ctx_error_before_started,
        multiplexed_contexts, portal_run_module_not_exposed,
        run_in_actor_result, stream_from_asyncgen_error,
        cancel_actor_midstream, payload_bytes_1mib, stream_overrun,
        discovery_find_actor, payload_scalars, payload_containers,
        typed_pld_valid, typed_pld_bad_started, typed_pld_bad_yield,
        typed_pld_started_send_side_check, typed_pld_types, payload_ext_types,
        discovery_external_registrar, _registrar, payload_namespace_path,
    )
}


if __name__ == '__main__':
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        raise SystemExit(f'usage: scenarios.py {{{",".join(SCENARIOS)}}}')
    os.environ['SHUTTLE_SCENARIO'] = sys.argv[1]
    trio.run(SCENARIOS[sys.argv[1]])
