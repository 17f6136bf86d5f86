#!/usr/bin/env python3
'''
What recording costs: the same tractor program run plainly and under
`shuttle record` in one run, on this machine. The program spawns a child
that streams N small `Yield`s to the root, then makes M `portal.run`
calls; its own clock times the stream and the calls (the tree's start and
teardown are left out). Prints the figures, the ratios, the size of the
capture and how long `shuttle record` took to assemble it after the
program ended.

    python3 benches/record_overhead.py [--items N] [--calls M] [--python PY]
    python3 benches/record_overhead.py --smoke    # tiny counts, no figures (CI)

PY is a Python with tractor 3690e43a (default: $SHUTTLE_TRACTOR_PYTHON, else
.venv-tractor/bin/python). `shuttle` is built here with `cargo build
--release`.
'''
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = '''
import json, os, sys, time
import trio, tractor

async def counter(n: int):
    for i in range(n):
        yield i

async def noop():
    return None

async def main(items, calls, port):
    async with tractor.open_nursery(registry_addrs=[('127.0.0.1', port)]) as n:
        p = await n.start_actor('streamer', enable_modules=[__name__])
        t0 = time.perf_counter()
        async with p.open_stream_from(counter, n=items) as s:
            got = 0
            async for _ in s:
                got += 1
        t1 = time.perf_counter()
        for _ in range(calls):
            await p.run(noop)
        t2 = time.perf_counter()
        assert got == items
        print(json.dumps({'stream_s': t1 - t0, 'calls_s': t2 - t1}), flush=True)
        await p.cancel_actor()

if __name__ == '__main__':
    trio.run(main, int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run(cmd, env, timeout):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f'{cmd} failed ({p.returncode}):\n{p.stdout}\n{p.stderr[-3000:]}')
    figures = json.loads([l for l in p.stdout.splitlines() if l.startswith('{')][-1])
    return figures, wall, p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--items', type=int, default=20000)
    ap.add_argument('--calls', type=int, default=500)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--python', default=os.environ.get('SHUTTLE_TRACTOR_PYTHON', str(ROOT / '.venv-tractor/bin/python')))
    ap.add_argument('--smoke', action='store_true', help='tiny counts, one round, no figures (CI)')
    args = ap.parse_args()
    if args.smoke:
        args.items, args.calls, args.rounds = 200, 5, 1
    subprocess.run(['cargo', 'build', '--release', '--quiet', '-p', 'shuttle-conformance'], cwd=ROOT, check=True)
    shuttle = str(ROOT / 'target/release/shuttle')
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run_dir = tmp / 'run'
        run_dir.mkdir(mode=0o700)
        prog = tmp / 'bench_program.py'
        prog.write_text(PROGRAM)
        env = dict(os.environ, XDG_RUNTIME_DIR=str(run_dir), NO_COLOR='1')
        env.pop('PYTHONPATH', None)
        plain, taped, assembly, sizes = [], [], [], []
        for r in range(args.rounds):
            port = free_port()
            figures, _, _ = run([args.python, str(prog), str(args.items), str(args.calls), str(port)], env, 600)
            plain.append(figures)
            out = tmp / f'rec{r}.json'
            port = free_port()
            cmd = [shuttle, 'record', '-o', str(out), '--', args.python, str(prog), str(args.items), str(args.calls), str(port)]
            figures, wall, stderr = run(cmd, env, 600)
            taped.append(figures)
            # Assembly: the time from the program's end to the capture,
            # measured again on the kept logs.
            logs = tmp / f'logs{r}'
            run_cmd = [shuttle, 'record', '-o', str(tmp / f'again{r}.json'), '--keep-logs', str(logs), '--',
                       args.python, str(prog), str(args.items), str(args.calls), str(free_port())]
            run(run_cmd, env, 600)
            t0 = time.perf_counter()
            subprocess.run([shuttle, 'record', '-o', str(tmp / f'from{r}.json'), '--from-logs', str(logs)],
                           check=True, capture_output=True)
            assembly.append(time.perf_counter() - t0)
            sizes.append(out.stat().st_size)
            check = subprocess.run([shuttle, 'check', str(out)], capture_output=True, text=True)
            if check.returncode != 0:
                raise SystemExit(f'the capture does not pass shuttle check:\n{check.stdout}')
        if args.smoke:
            print(f'record_overhead: smoke run ok ({args.items} items, {args.calls} calls, capture checked)')
            return
        med = lambda rows, k: statistics.median(r[k] for r in rows)
        ps, ts = med(plain, 'stream_s'), med(taped, 'stream_s')
        pc, tc = med(plain, 'calls_s'), med(taped, 'calls_s')
        print(f'{args.items} Yields, {args.calls} portal.run calls, median of {args.rounds} rounds, python {args.python}')
        print(f'| work | plain | recorded | recorded / plain |')
        print(f'|---|---|---|---|')
        print(f'| stream of {args.items} Yields | {args.items / ps:,.0f} items/s | {args.items / ts:,.0f} items/s | {ts / ps:.2f}x the time |')
        print(f'| portal.run round trip | {pc / args.calls * 1e6:,.0f} µs | {tc / args.calls * 1e6:,.0f} µs | {tc / pc:.2f}x |')
        print(f'capture: {statistics.median(sizes) / 1e6:.1f} MB; assembling it from the logs: {statistics.median(assembly):.2f} s')


if __name__ == '__main__':
    main()
