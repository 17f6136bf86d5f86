#!/usr/bin/env python3
'''
Records tractor's own test suite with `shuttle record` (one sanitized
capture per test) and checks every capture with `shuttle check`.

    python3 conformance/tools/record_tractor_suite.py --out DIR [--subset | TEST...]
        [--python PY] [--archive TAR] [--shuttle BIN] [--uds] [-- PYTEST-ARGS...]

TEST... are paths under tractor's `tests/` (as pytest takes them); with
--subset, the representative subset CI runs: test_2way, test_rpc,
test_context_stream_semantics, msg/test_pldrx_limiting,
test_advanced_faults, and test_local and test_2way over Unix sockets
(--uds alone runs the given tests with `--tpt-proto uds`). With neither,
the whole suite. Each test is bounded by pytest-timeout (--test-timeout-s,
60 s).

The tests come from tractor's source archive (default:
../shared/vendor/tractor-3690e43a.tar.gz, or $TRACTOR_ARCHIVE), unpacked
into a temporary folder; PY is a Python with that tractor and pytest,
pexpect, pytest-timeout and psutil installed (default:
$SHUTTLE_TRACTOR_PYTHON, else .venv-tractor/bin/python). Prints one line
per pytest run, then the figures: tests recorded, channels, frames, and
what `shuttle check` said (quirks are warnings; `--strict` is not used).
Exit status 0 when every capture passed `shuttle check`, whatever the
tests themselves did (a failing tractor test still leaves captures; its
outcome is reported).
'''
import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# (`test_rpc_errors` hangs here with or without recording: its subactor
# runs in a pytester folder and never answers; left out.)
SUBSET = [
    (['tests/test_2way.py', 'tests/test_rpc.py', 'tests/test_context_stream_semantics.py',
      'tests/msg/test_pldrx_limiting.py', 'tests/test_advanced_faults.py'],
     ['--deselect', 'tests/test_rpc.py::test_rpc_errors']),
    (['tests/test_local.py', 'tests/test_2way.py'], ['--tpt-proto=uds']),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True, type=Path, help='folder for the captures (created)')
    ap.add_argument('--subset', action='store_true', help='the subset CI runs')
    ap.add_argument('--uds', action='store_true', help='run the given tests over Unix sockets')
    ap.add_argument('--python', default=os.environ.get('SHUTTLE_TRACTOR_PYTHON', str(ROOT / '.venv-tractor/bin/python')))
    ap.add_argument('--archive', type=Path,
                    default=Path(os.environ.get('TRACTOR_ARCHIVE', ROOT.parent / 'shared/vendor/tractor-3690e43a.tar.gz')))
    ap.add_argument('--shuttle', default=str(ROOT / 'target/debug/shuttle'))
    ap.add_argument('--timeout-s', type=float, default=3600, help='per pytest run')
    ap.add_argument('--test-timeout-s', type=int, default=60, help='per test (pytest-timeout)')
    ap.add_argument('tests', nargs='*')
    args, extra = ap.parse_known_args()
    extra = [a for a in extra if a != '--']
    if args.subset:
        runs = SUBSET
    else:
        runs = [(args.tests or ['tests'], ['--tpt-proto=uds'] if args.uds else [])]
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {'runs': [], 'captures': 0, 'channels': 0, 'frames': 0}
    with tempfile.TemporaryDirectory(prefix='tractor-suite-') as tmp:
        tmp = Path(tmp)
        with tarfile.open(args.archive) as tar:
            tar.extractall(tmp / 'src', filter='data')
        src = tmp / 'src'
        runtime = tmp / 'run'
        runtime.mkdir(mode=0o700)
        env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), NO_COLOR='1', PYTHONDONTWRITEBYTECODE='1')
        env.pop('PYTHONPATH', None)
        for i, (tests, opts) in enumerate(runs):
            out = args.out / f'run{i}'
            cmd = [args.shuttle, 'record', '--split-by-test', '--sanitize', '--timeout-s', str(args.timeout_s),
                   '-o', str(out), '--', args.python, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                   f'--timeout={args.test_timeout_s}', *opts, *extra, *tests]
            t0 = time.monotonic()
            p = subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True)
            took = time.monotonic() - t0
            tail = [l for l in p.stdout.splitlines() if l.strip()][-1:] or ['(no pytest summary)']
            said = [l for l in p.stderr.splitlines() if l.startswith('shuttle record:')]
            print(f'pytest {" ".join(opts + tests)}: {tail[0]} ({took:.0f} s, exit {p.returncode})')
            for line in said[-3:]:
                print(f'  {line}')
            summary['runs'].append({'tests': tests, 'options': opts, 'pytest': tail[0],
                                    'exit': p.returncode, 'seconds': round(took, 1)})
            if not out.is_dir():
                print(p.stderr[-4000:], file=sys.stderr)
                print(f'no captures written for run {i}', file=sys.stderr)
                return 1
    for path in sorted(args.out.rglob('*.json')):
        cap = json.loads(path.read_text())
        summary['captures'] += 1
        summary['channels'] += len(cap['channels'])
        summary['frames'] += sum(len(c['frames']) for c in cap['channels'])
    check = subprocess.run([args.shuttle, 'check', str(args.out)], capture_output=True, text=True)
    last = (check.stdout.strip().splitlines() or [''])[-1]
    bad = [l for l in check.stdout.splitlines() if l.startswith('FAIL')]
    warned = [l for l in check.stdout.splitlines() if 'quirk' in l or 'warning' in l]
    summary['check'] = last
    print(f'{summary["captures"]} tests recorded, {summary["channels"]} channels, {summary["frames"]} frames; '
          f'shuttle check: {last}; {len(warned)} with warnings')
    for line in bad[:20]:
        print(line)
    (args.out / 'summary.json').write_text(json.dumps(summary, indent=1) + '\n')
    return 0 if check.returncode == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
