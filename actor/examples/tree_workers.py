'''
The Python side of `actor/examples/tree.rs`: the module its Python
children expose (`enable_modules={'tree_workers': this file}`).

(No `from __future__ import annotations`: tractor reads annotations.)
'''
import tractor


@tractor.context
async def doubler(ctx: tractor.Context):
    '''Doubles every int sent to it; returns 'done'.'''
    await ctx.started(tractor.current_actor().name)
    async with ctx.open_stream() as s:
        async for v in s:
            await s.send(2 * v)
    return 'done'


async def relay(peer: str, values: list[int]) -> list[int]:
    '''Finds the sibling `peer` through the tree's registrar (the Rust
    root) and streams `values` through its `doubler` context.'''
    got = []
    async with tractor.wait_for_actor(peer) as p:
        async with p.open_context(doubler) as (ctx, _):
            async with ctx.open_stream() as s:
                for v in values:
                    await s.send(v)
                    got.append(await s.receive())
    return got
