#!/usr/bin/env python3
"""Runs the same operations on the same frames with Python msgspec (tractor's
own message types, mirrored in conformance/testees/python/testee.py) and with
shuttle (`cargo bench --bench codec`), then prints a table of ratios.

    python3 benches/compare_msgspec.py            # both sides, then the table
    python3 benches/compare_msgspec.py --no-rust  # msgspec only (reads the last criterion run)
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "conformance" / "testees" / "python"))

import msgspec  # noqa: E402
import testee as types  # noqa: E402  (the ten message types)

CORPORA = {"small": "corpus-small.wire", "all": "corpus-python-tractor.wire"}


def frames(wire: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(wire):
        (n,) = struct.unpack_from("<I", wire, i)
        out.append(wire[i + 4 : i + 4 + n])
        i += 4 + n
    return out


def best(fn, repeat: int = 7) -> float:
    """Best time of `repeat` runs of fn(), in seconds, after a warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def msgspec_side() -> dict[str, float]:
    """Seconds per run of each operation, keyed like the criterion ids."""
    dec = msgspec.msgpack.Decoder(types.MsgType)
    enc = msgspec.msgpack.Encoder()
    any_dec = msgspec.msgpack.Decoder()
    res = {}
    for label, name in CORPORA.items():
        wire = (ROOT / "fixtures" / "bench" / name).read_bytes()
        bodies = frames(wire)
        msgs = [dec.decode(b) for b in bodies]
        loops = 20 if label == "small" else 2

        def decode_envelope():
            for _ in range(loops):
                for b in bodies:
                    dec.decode(b)

        def decode_full():
            for _ in range(loops):
                for b in bodies:
                    m = dec.decode(b)
                    p = getattr(m, "pld", None)
                    if isinstance(p, msgspec.Raw):
                        any_dec.decode(p)

        def encode():
            for _ in range(loops):
                for m in msgs:
                    enc.encode(m)

        def split():
            for _ in range(loops):
                frames(wire)

        for op, fn in [("decode_envelope", decode_envelope), ("decode_full", decode_full), ("encode", encode), ("split", split)]:
            res[f"{label}/{op}"] = best(fn) / loops
    # Typed payloads: the recorded `Point | None` payloads.
    cap = json.loads((ROOT / "fixtures/captures/python-tractor/typed_pld_valid.json").read_text())
    import base64

    plds = []
    for f in cap["channels"][0]["frames"]:
        m = dec.decode(base64.b64decode(f["msgpack_b64"]))
        if isinstance(m, (types.Started, types.Yield, types.Return)):
            plds.append(bytes(m.pld))
    Point = msgspec.defstruct("Point", [("x", int), ("y", int)])
    typed = msgspec.msgpack.Decoder(Point | None)

    def decode_serde():
        for _ in range(2000):
            for p in plds:
                typed.decode(p)

    res["typed/decode_serde"] = best(decode_serde) / 2000
    res["typed/validate"] = res["typed/decode_serde"]
    return res


def criterion_side() -> dict[str, float]:
    out = {}
    base = ROOT / "target" / "criterion"
    for est in base.glob("*/*/new/estimates.json"):
        group, op = est.parts[-4], est.parts[-3]
        out[f"{group}/{op}"] = json.loads(est.read_text())["median"]["point_estimate"] / 1e9
    return out


def main() -> None:
    if "--no-rust" not in sys.argv:
        subprocess.run(["cargo", "bench", "--bench", "codec", "--", "--noplot"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    py = msgspec_side()
    rs = criterion_side()
    counts = {}
    for label, name in CORPORA.items():
        bodies = frames((ROOT / "fixtures" / "bench" / name).read_bytes())
        counts[label] = (len(bodies), sum(map(len, bodies)))
    print(f"msgspec {msgspec.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"| operation | corpus | shuttle | msgspec | ratio |")
    print(f"|---|---|---|---|---|")
    for key in sorted(py):
        if key not in rs:
            continue
        group, op = key.split("/")
        n, size = counts.get(group, (8, 0)) if group != "typed" else (8, 0)
        def rate(secs):
            return f"{n / secs / 1e6:.2f} M/s" + (f" ({size / secs / 1e6:,.0f} MB/s)" if size else "")
        print(f"| {op} | {group} | {rate(rs[key])} | {rate(py[key])} | {py[key] / rs[key]:.1f}x |")


if __name__ == "__main__":
    main()
