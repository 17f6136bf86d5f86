#!/usr/bin/env python3
"""Runs the same operations on the same frames with Python msgspec (tractor's
own message types, mirrored in conformance/testees/python/testee.py) and with
shuttle (`cargo bench --bench codec`), then prints a table of ratios. msgspec
is timed before and after the Rust benchmarks; each side's best run is
compared (noise only adds time), and the ratio of medians is printed too.

    python3 benches/compare_msgspec.py            # both sides, then the table
    python3 benches/compare_msgspec.py --no-rust  # msgspec only (reads the last criterion run)
    python3 benches/compare_msgspec.py small/decode_envelope   # only benchmarks matching a criterion filter
    python3 benches/compare_msgspec.py --smoke    # every benchmark once on both sides, no figures (CI)
"""
from __future__ import annotations

import json
import os
import statistics
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
# Rust benchmarks measured against another msgspec operation: a vectored
# frame (payload borrowed) against tractor's framing (payload copied).
COUNTERPART = {"frame_vectored": "frame", "validate": "decode_serde", "decode_raw": "decode_serde"}


def frames(wire: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(wire):
        (n,) = struct.unpack_from("<I", wire, i)
        out.append(wire[i + 4 : i + 4 + n])
        i += 4 + n
    return out


def timings(fn, repeat: int) -> list[float]:
    """Seconds for each of `repeat` runs of fn(), after a warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


SMOKE = "--smoke" in sys.argv


def msgspec_side(repeat: int = 1 if SMOKE else 15) -> dict[str, list[float]]:
    """Seconds per iteration of each operation, one figure per run, keyed
    like the criterion ids."""
    dec = msgspec.msgpack.Decoder(types.MsgType)
    enc = msgspec.msgpack.Encoder()
    any_dec = msgspec.msgpack.Decoder()
    res = {}
    for label, name in CORPORA.items():
        wire = (ROOT / "fixtures" / "bench" / name).read_bytes()
        bodies = frames(wire)
        msgs = [dec.decode(b) for b in bodies]
        loops = 1 if SMOKE else 20 if label == "small" else 2

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

        def frame():
            # As tractor's transport does: encode, then prefix and body in one bytes object.
            for _ in range(loops):
                for m in msgs:
                    b = enc.encode(m)
                    struct.pack("<I", len(b)) + b

        def split():
            for _ in range(loops):
                frames(wire)

        ops = [("decode_envelope", decode_envelope), ("decode_full", decode_full), ("encode", encode),
               ("frame", frame), ("split", split)]
        for op, fn in ops:
            res[f"{label}/{op}"] = [t / loops for t in timings(fn, repeat)]
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

    typed_loops = 1 if SMOKE else 2000

    def decode_serde():
        for _ in range(typed_loops):
            for p in plds:
                typed.decode(p)

    res["typed/decode_serde"] = [t / typed_loops for t in timings(decode_serde, repeat)]
    return res


def criterion_side() -> dict[str, list[float]]:
    """Seconds per iteration in each sample of the last criterion run."""
    out = {}
    base = ROOT / "target" / "criterion"
    for sample in base.glob("*/*/new/sample.json"):
        group, op = sample.parts[-4], sample.parts[-3]
        data = json.loads(sample.read_text())
        out[f"{group}/{op}"] = [t / n / 1e9 for t, n in zip(data["times"], data["iters"])]
    return out


def main() -> None:
    # msgspec runs before and after the Rust benchmarks, so that both sides
    # are sampled across the same stretch of time on a shared machine.
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    py = msgspec_side()
    if "--no-rust" not in sys.argv:
        mode = ["--test"] if SMOKE else ["--noplot"]
        subprocess.run(["cargo", "bench", "--bench", "codec", "--", *mode, *only], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    if SMOKE:
        # Every operation ran once on each side; timings would mean nothing.
        print(f"smoke run: {len(py)} msgspec operations and the criterion benchmarks ran once")
        return
    if "--no-rust" not in sys.argv:
        for key, runs in msgspec_side().items():
            py[key] += runs
    rs = criterion_side()
    counts = {}
    for label, name in CORPORA.items():
        bodies = frames((ROOT / "fixtures" / "bench" / name).read_bytes())
        counts[label] = (len(bodies), sum(map(len, bodies)))
    print(f"msgspec {msgspec.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print("Best run of each side (noise on a shared machine only ever adds time), then the ratio")
    print("of the medians of all runs.")
    print()
    print("| operation | corpus | shuttle | msgspec | ratio | ratio of medians |")
    print("|---|---|---|---|---|---|")
    for key in sorted(rs):
        if only and not any(o in key for o in only):
            continue
        group, op = key.split("/")
        twin = f"{group}/{COUNTERPART.get(op, op)}"
        if twin not in py:
            # No msgspec counterpart (the dialog machine, over every recorded
            # channel: the frames of `all`).
            n = counts["all"][0]
            print(f"| {op} | {group} | {n / min(rs[key]) / 1e6:.2f} M frames/s | – | – | – |")
            continue
        n, size = counts[group] if group in counts else (8, 0)

        def rate(secs):
            return f"{n / secs / 1e6:.2f} M/s" + (f" ({size / secs / 1e6:,.0f} MB/s)" if size else "")

        best_rs, best_py = min(rs[key]), min(py[twin])
        ratio = best_py / best_rs
        median = statistics.median(py[twin]) / statistics.median(rs[key])
        print(f"| {op} | {group} | {rate(best_rs)} | {rate(best_py)} | {ratio:.1f}x | {median:.1f}x |")


if __name__ == "__main__":
    main()
