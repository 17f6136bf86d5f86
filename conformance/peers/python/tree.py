#!/usr/bin/env python3
'''
Tractor trees with a Rust actor in them, driven through tractor's own API:

    python tree.py use-registrar --registry tcp://127.0.0.1:PORT
        A root started with `registry_addrs=[that address]` spawns two
        actors, `alpha` and `beta`; `beta` finds `alpha` through the
        registrar (`wait_for_actor`, `find_actor`, `get_registry`) and
        calls it; then `alpha` is cancelled, unregisters on exit, and the
        registrar no longer knows it.

    python tree.py registrar --listen tcp://127.0.0.1:PORT
        A root that is its own registrar; prints `listening on ADDR` and
        serves until cancelled (`self.cancel`) or killed.

    python tree.py find-rust --registry tcp://127.0.0.1:PORT --name NAME
        A root using that registrar finds the actor NAME (`find_actor`,
        then `wait_for_actor`), calls `__main__.add` and streams
        `__main__.counter` from it.

Spawned as children of a Rust parent (`enable_modules={'tree': this
file}`), the actors serve `whoami`, the context `doubler` and `relay`
(which finds a sibling through the registrar and streams through its
`doubler`).

    python tree.py find-stale --registry tcp://127.0.0.1:PORT --name NAME
        NAME is registered but dead: `find_actor` fails to connect, has the
        registrar `delete_addr` the stale address, and yields None.

Each step prints one line `ok <what> <value>`; a failure raises (exit
status 1). Lines starting with `registry ` show what the registrar holds.

(No `from __future__ import annotations`: tractor reads annotations.)
'''
import argparse
import os
import sys

import trio
import tractor


def parse_addr(s: str):
    if s.startswith('tcp://'):
        host, port = s[len('tcp://'):].rsplit(':', 1)
        return (host, int(port))
    if s.startswith('uds://'):
        path = s[len('uds://'):]
        return (os.path.dirname(path), os.path.basename(path))
    raise SystemExit(f'bad address {s!r}: expected tcp://HOST:PORT or uds:///PATH')


def tpts(addr) -> list[str]:
    '''The transport of an unwrapped address, for `enable_transports`.'''
    return ['tcp'] if isinstance(addr[1], int) else ['uds']


def say(*parts):
    print(*parts, flush=True)


# Endpoints of the spawned Python actors (this module is enabled in them).
async def whoami() -> str:
    return tractor.current_actor().name


async def find_peer(name: str, registry) -> dict:
    '''Run in `beta`: finds `name` through the registrar, three ways.'''
    registry = tuple(registry)
    out = {}
    async with tractor.wait_for_actor(name, registry_addr=registry) as p:
        out['wait_for_actor'] = await p.run_from_ns(__name__, 'whoami')
    async with tractor.find_actor(name, registry_addrs=[registry]) as p:
        out['find_actor'] = None if p is None else await p.run_from_ns(__name__, 'whoami')
    async with tractor.get_registry(registry) as reg:
        entries = await reg.run_from_ns('self', 'get_registry')
    out['registered'] = sorted(k.split('.')[0] for k in entries)
    return out


@tractor.context
async def doubler(ctx: tractor.Context):
    '''In a child: doubles every int sent to it; returns 'done'.'''
    await ctx.started(tractor.current_actor().name)
    async with ctx.open_stream() as s:
        async for v in s:
            await s.send(2 * v)
    return 'done'


async def relay(peer: str, values: list[int]) -> list[int]:
    '''In a child: finds its sibling `peer` through the registrar and
    streams `values` through the sibling's `doubler` context.'''
    got = []
    async with tractor.wait_for_actor(peer) as p:
        async with p.open_context(doubler) as (ctx, first):
            assert first == peer, first
            async with ctx.open_stream() as s:
                for v in values:
                    await s.send(v)
                    got.append(await s.receive())
        assert await ctx.wait_for_result() == 'done'
    return got


async def add(x: int, y: int): ...
async def counter(n: int): yield  # noqa: E704


async def registry_names(registry) -> list[str]:
    async with tractor.get_registry(registry) as reg:
        entries = await reg.run_from_ns('self', 'get_registry')
    return sorted(k.split('.')[0] for k in entries)


async def use_registrar(registry):
    async with tractor.open_nursery(
        name='py-root',
        registry_addrs=[registry],
        enable_transports=tpts(registry),
    ) as an:
        say('ok root-started', tractor.current_actor().name)
        names = await registry_names(registry)
        say('registry', *names)
        assert 'py-root' in names, names
        alpha = await an.start_actor('alpha', enable_modules=[__name__])
        beta = await an.start_actor('beta', enable_modules=[__name__])
        # The test counts the tree's processes by their working folder:
        # the children share this one.
        pids = [proc.pid for (_, proc, _) in an._children.values()]
        for pid in pids:
            assert os.readlink(f'/proc/{pid}/cwd') == os.getcwd(), pid
        say('ok children-marked', len(pids))
        found = await beta.run(find_peer, name='alpha', registry=registry)
        say('ok wait_for_actor', found['wait_for_actor'])
        say('ok find_actor', found['find_actor'])
        say('ok get_registry', *found['registered'])
        assert found['wait_for_actor'] == 'alpha', found
        assert found['find_actor'] == 'alpha', found
        assert {'alpha', 'beta', 'py-root'} <= set(found['registered']), found
        # `alpha` leaves: it unregisters on its way out.
        await alpha.cancel_actor()
        for _ in range(100):
            names = await registry_names(registry)
            if 'alpha' not in names:
                break
            await trio.sleep(0.05)
        say('registry', *names)
        assert 'alpha' not in names, names
        say('ok alpha-forgotten')
        async with tractor.find_actor('alpha', registry_addrs=[registry]) as p:
            assert p is None, p
        say('ok find_actor-none')
        await beta.cancel_actor()
    say('ok root-exited')


async def registrar(listen):
    async with tractor.open_root_actor(
        name='py-registrar',
        registry_addrs=[listen],
        enable_transports=tpts(listen),
        ensure_registry=True,
    ):
        actor = tractor.current_actor()
        assert actor.is_registrar
        a = actor.accept_addrs[0]
        addr = f'tcp://{a[0]}:{a[1]}' if isinstance(a[1], int) else f'uds://{os.path.join(*a)}'
        say('listening on', addr)
        # `self.cancel` cancels the runtime, not this task: leave once the
        # cancel has completed, as shuttle_peer.py does.
        await actor._cancel_complete.wait()


async def find_rust(registry, name):
    async with tractor.open_root_actor(
        name='py-finder',
        registry_addrs=[registry],
        enable_transports=tpts(registry),
    ):
        async with tractor.find_actor(name, registry_addrs=[registry]) as p:
            assert p is not None, f'{name} not found'
            say('ok find_actor', p.chan.aid.name)
            say('ok add', await p.run(add, x=20, y=22))
        async with tractor.wait_for_actor(name, registry_addr=registry) as p:
            got = []
            async with p.open_stream_from(counter, n=3) as s:
                async for v in s:
                    got.append(v)
            say('ok stream', *got)
        say('registry', *await registry_names(registry))
    say('ok root-exited')


async def find_stale(registry, name):
    '''`name` is registered but dead: `find_actor` cannot connect to it,
    asks the registrar to `delete_addr` it, and yields None.'''
    async with tractor.open_root_actor(
        name='py-finder',
        registry_addrs=[registry],
        enable_transports=tpts(registry),
    ):
        assert name in await registry_names(registry)
        async with tractor.find_actor(name, registry_addrs=[registry]) as p:
            assert p is None, p
        say('ok find_actor-stale-none')
        say('registry', *await registry_names(registry))
    say('ok root-exited')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['use-registrar', 'registrar', 'find-rust', 'find-stale'])
    ap.add_argument('--registry')
    ap.add_argument('--listen')
    ap.add_argument('--name', default='rust-worker')
    a = ap.parse_args()
    if a.mode == 'use-registrar':
        trio.run(use_registrar, parse_addr(a.registry))
    elif a.mode == 'registrar':
        trio.run(registrar, parse_addr(a.listen))
    elif a.mode == 'find-stale':
        trio.run(find_stale, parse_addr(a.registry), a.name)
    else:
        trio.run(find_rust, parse_addr(a.registry), a.name)


if __name__ == '__main__':
    sys.exit(main())
