#!/usr/bin/env python3
'''
Python tractor and the Rust actor (shuttle-actor) on the same work, side by
side in one run, on this machine: the round trip of `portal.run` of a
trivial function, and the throughput of one stream of small `Yield`s, for
every pair of caller and callee (Python->Python, Python->Rust, Rust->Python,
Rust->Rust), over TCP on the loopback. Prints a table of figures and
ratios, and the CPU time each process spent, which shows where the time
goes.

    python3 benches/actor_compare.py [--calls N] [--items N] [--python PY]
    python3 benches/actor_compare.py --smoke     # tiny counts, no figures (CI)

PY is a Python with tractor 3690e43a (default: $SHUTTLE_TRACTOR_PYTHON, else
.venv-tractor/bin/python). The Rust side is `actor/examples/bench.rs`,
built here with `cargo build --release`.
'''
import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf('SC_CLK_TCK')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def cpu_s(pid: int) -> float:
    '''User + system CPU seconds of a live process (Linux /proc).'''
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def start_callee(cmd: list[str], env: dict) -> subprocess.Popen:
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, env=env, cwd=ROOT, text=True)
    deadline = time.monotonic() + 60
    line = p.stdout.readline()
    if not line.startswith('listening on') or time.monotonic() > deadline:
        p.kill()
        raise SystemExit(f'{cmd} did not start: {line!r}')
    return p


def run_pair(caller: list[str], callee: list[str], env: dict, timeout: float) -> dict:
    srv = start_callee(callee, env)
    try:
        before = cpu_s(srv.pid)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        out = subprocess.run(caller, capture_output=True, text=True, env=env, cwd=ROOT,
                             timeout=timeout, stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - t
        try:
            callee_cpu = cpu_s(srv.pid) - before
        except FileNotFoundError:  # already exited after cancel_actor
            callee_cpu = float('nan')
        if out.returncode != 0:
            raise SystemExit(f'{caller} failed ({out.returncode}):\n{out.stderr[-3000:]}')
        res = json.loads(out.stdout.strip().splitlines()[-1])
        res['wall_s'] = wall
        res['callee_cpu_s'] = callee_cpu
        # The caller's own CPU time, from the kernel's accounting of the
        # children waited for (the callee has not been yet).
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        res['caller_cpu_s'] = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
        return res
    finally:
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


def build_rust() -> str:
    '''Builds `actor/examples/bench.rs` and returns its path (wherever
    CARGO_TARGET_DIR puts it).'''
    out = subprocess.run(['cargo', 'build', '--quiet', '--release', '-p', 'shuttle-actor',
                          '--example', 'bench', '--message-format=json'],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get('reason') == 'compiler-artifact' and msg.get('executable') \
                and msg['target']['name'] == 'bench':
            return msg['executable']
    raise SystemExit('cargo built no `bench` example')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument('--calls', type=int, default=5000)
    ap.add_argument('--items', type=int, default=1_000_000)
    ap.add_argument('--python', default=os.environ.get('SHUTTLE_TRACTOR_PYTHON')
                    or str(ROOT / '.venv-tractor/bin/python'))
    ap.add_argument('--smoke', action='store_true')
    args = ap.parse_args()
    if args.smoke:
        args.calls, args.items = 20, 200
    rust = build_rust()
    py = [args.python, str(ROOT / 'benches/actor_peer.py')]
    runtime = tempfile.mkdtemp(prefix='shuttle-bench-')
    os.chmod(runtime, 0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, PYTHONUNBUFFERED='1', NO_COLOR='1')
    sides = {'Python': py, 'Rust': [rust]}
    rows = {}
    for caller in ('Python', 'Rust'):
        for callee in ('Python', 'Rust'):
            addr = f'tcp://127.0.0.1:{free_port()}'
            r = run_pair(sides[caller] + ['call', addr, str(args.calls), str(args.items)],
                         sides[callee] + ['serve', addr], env, timeout=1800)
            if r['items'] != args.items:
                raise SystemExit(f'{caller}->{callee}: {r["items"]} of {args.items} items')
            rows[(caller, callee)] = r
            print(f'{caller:>6} -> {callee:<6} median rtt {statistics.median(r["rtt_us"]):8.1f} us, '
                  f'{r["items"] / r["stream_s"]:10.0f} items/s, CPU caller {r["caller_cpu_s"]:.2f} s, '
                  f'callee {r["callee_cpu_s"]:.2f} s, of {r["wall_s"]:.2f} s', file=sys.stderr)
    if args.smoke:
        print(f'smoke: 4 pairs ran ({args.calls} calls, {args.items} items each)')
        return
    base = rows[('Python', 'Python')]
    base_rtt = statistics.median(base['rtt_us'])
    base_tput = base['items'] / base['stream_s']
    print(f'{args.calls} calls of portal.run(noop) after 100 warm-up calls; one stream of '
          f'{args.items:,} Yields of small ints; TCP loopback')
    print()
    print('| caller -> callee | median round trip | p99 | vs Py->Py | stream items/s | vs Py->Py | CPU: caller, callee, of wall |')
    print('|---|---|---|---|---|---|---|')
    for (caller, callee), r in rows.items():
        rtt = sorted(r['rtt_us'])
        med, p99 = statistics.median(rtt), rtt[int(len(rtt) * 0.99) - 1]
        tput = r['items'] / r['stream_s']
        print(f'| {caller} -> {callee} | {med:,.0f} µs | {p99:,.0f} µs | {med / base_rtt:.2f}x time '
              f'| {tput:,.0f} | {tput / base_tput:.1f}x '
              f'| {r["caller_cpu_s"]:.1f} s, {r["callee_cpu_s"]:.1f} s, of {r["wall_s"]:.1f} s |')


if __name__ == '__main__':
    main()
