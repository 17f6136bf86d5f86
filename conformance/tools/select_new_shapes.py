#!/usr/bin/env python3
'''
Picks, from recorded captures, the fewest that together show every dialog
shape and error type not already shown by a reference set, and copies them
(with their .txt) into a folder: how the recordings of tractor's own test
suite become fixtures without taking all of them.

    python3 conformance/tools/select_new_shapes.py --have fixtures/captures/python-tractor \\
        --from RECORDED_DIR --out fixtures/captures/tractor-suite [--max-frames N]

A dialog's shape is, for one cid, the sequence of (end, message type) it
carries, a `Start` with its namespace and function kind (`self.*` runtime
calls by name), an `Error` with its boxed and source types; repeats of the
same message in a row count once (a stream of 5 or 500 `Yield`s is one
shape). A channel also has the shape of its cid-less frames (handshake,
SpawnSpec). Needs msgspec (conformance/requirements.txt).
'''
import argparse
import base64
import json
import shutil
import sys
from pathlib import Path

import msgspec


def words(cap):
    '''Every shape a capture shows.'''
    out = set()
    for ch in cap['channels']:
        ends = {}
        per_cid = {}
        for f in ch['frames']:
            end = f.get('end') or ('a' if f['from'] == ch['a'] else 'b')
            try:
                m = msgspec.msgpack.decode(base64.b64decode(f['msgpack_b64']))
            except Exception:
                continue
            if not isinstance(m, dict) or 'msg_type' not in m:
                continue
            t = m['msg_type']
            if t == 'Start':
                t += ':' + (m['func'] if m.get('ns') == 'self' else 'user')
            elif t == 'Error':
                t += f":{m.get('boxed_type_str')}<{m.get('src_type_str')}"
                out.add(('error', m.get('boxed_type_str'), m.get('src_type_str')))
            elif t == 'StartAck':
                t += ':' + str(m.get('functype'))
            seq = per_cid.setdefault(m.get('cid'), [])
            w = (end, t)
            if not seq or seq[-1] != w:
                seq.append(w)
        for cid, seq in per_cid.items():
            # Which end opened the dialog does not matter, only who said what.
            first = seq[0][0]
            norm = tuple(('x' if e == first else 'y', t) for e, t in seq)
            out.add(('dialog' if cid is not None else 'channel', norm))
    return out


def load(paths):
    for p in paths:
        if p.name in ('index.json', 'summary.json'):
            continue
        try:
            cap = json.loads(p.read_text())
        except Exception:
            continue
        if isinstance(cap, dict) and str(cap.get('format', '')).startswith('tractor-capture/'):
            yield p, cap


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--have', type=Path, action='append', required=True)
    ap.add_argument('--from', dest='src', type=Path, required=True)
    ap.add_argument('--out', type=Path, required=True)
    ap.add_argument('--max-frames', type=int, default=400, help='skip captures larger than this')
    args = ap.parse_args()
    have = set()
    for d in args.have:
        for _, cap in load(sorted(d.rglob('*.json'))):
            have |= words(cap)
    candidates = []
    for p, cap in load(sorted(args.src.rglob('*.json'))):
        n = sum(len(c['frames']) for c in cap['channels'])
        if n <= args.max_frames:
            candidates.append((p, n, words(cap) - have))
    chosen = []
    missing = set().union(*(w for _, _, w in candidates)) if candidates else set()
    while missing:
        # The capture adding most new shapes per frame.
        p, n, w = max(candidates, key=lambda c: (len(c[2] & missing) / (c[1] + 10), -c[1]))
        if not w & missing:
            break
        chosen.append((p, n, len(w & missing)))
        missing -= w
    args.out.mkdir(parents=True, exist_ok=True)
    for p, n, k in chosen:
        shutil.copy(p, args.out / p.name)
        txt = p.with_suffix('.txt')
        if txt.exists():
            shutil.copy(txt, args.out / txt.name)
        print(f'{p.name}: {n} frames, {k} new shapes')
    print(f'{len(chosen)} captures, {sum(n for _, n, _ in chosen)} frames, '
          f'{sum(k for _, _, k in chosen)} shapes not in {", ".join(map(str, args.have))}')


if __name__ == '__main__':
    sys.exit(main())
