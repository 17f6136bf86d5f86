#!/usr/bin/env python3
"""Differential fuzzing of a payload-spec limiter against msgspec.

Writes a pld-vectors/1 document of seeded random cases: specs drawn from a
fixed list (every shape of the grammar, tractor-like structs), payloads
mostly conforming to the spec with random (often non-minimal) encodings,
some replaced by random values, and some truncated, extended or with one
byte changed. Every outcome is decided by msgspec, exactly as in
gen_pld_vectors.py; run the file through the Rust runner
(`shuttle_conformance::vectors::run`) to find disagreements.

Usage: fuzz_pld_vectors.py SEED COUNT OUT.json
Deterministic for a given seed. Not part of the committed fixtures.
"""
import dataclasses
import datetime
import decimal
import enum
import json
import pathlib
import uuid
import random
import struct
import sys
import types
import typing

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gen_pld_vectors as G  # noqa: E402
import msgspec  # noqa: E402
import msgspec
from typing import Any, Literal  # noqa: E402

if len(sys.argv) != 4:
    sys.exit(__doc__)
rnd = random.Random(int(sys.argv[1]))
STRS = ["", "a", "userId", "user_id", "isAdmin", "b", "children", "\u2028", "z", "n", "x", "type", "kind", "name", "good", "Cat", "Dog", "été", "\xa0", "it's", "k1", "value", "next", "x\ny", "CatArr", "DogArr", "version", "body"]

def w_str(s):
    b = s.encode() if isinstance(s, str) else s
    n = len(b)
    c = rnd.randrange(4)
    if c == 0 and n < 256: return b'\xd9' + bytes([n]) + b
    if c == 1: return b'\xda' + struct.pack('>H', n) + b
    if c == 2 and rnd.random() < 0.3: return b'\xdb' + struct.pack('>I', n) + b
    if n < 32: return bytes([0xa0 | n]) + b
    return b'\xd9' + bytes([n]) + b if n < 256 else b'\xda' + struct.pack('>H', n) + b

def w_int(v):
    c = rnd.randrange(4)
    if c == 0 and -2**63 <= v < 2**63: return b'\xd3' + struct.pack('>q', v)
    if c == 1 and 0 <= v < 2**64: return b'\xcf' + struct.pack('>Q', v)
    return msgspec.msgpack.encode(v)

def w_arr(n):
    c = rnd.randrange(3)
    if c == 0: return b'\xdc' + struct.pack('>H', n)
    if c == 1 and n < 16: return bytes([0x90 | n])
    return b'\xdd' + struct.pack('>I', n)

def w_map(n):
    c = rnd.randrange(3)
    if c == 0: return b'\xde' + struct.pack('>H', n)
    if c == 1 and n < 16: return bytes([0x80 | n])
    return b'\xdf' + struct.pack('>I', n)

def rand_any(depth=0, key=False):
    c = rnd.randrange(12 if depth < 3 else 8)
    if c == 0: return b'\xc0'
    if c == 1: return rnd.choice([b'\xc2', b'\xc3'])
    if c == 2: return w_int(rnd.choice([0, 1, -1, 3, 2**63, -2**63, 2**64 - 1, 127, -33, 255]))
    if c == 3: return rnd.choice([b'\xcb' + struct.pack('>d', 1.5), b'\xca' + struct.pack('>f', 0.5)])
    if c == 4: return w_str(rnd.choice(STRS))
    if c == 5: return rnd.choice([b'\xc4\x01a', b'\xc5\x00\x00'])
    if c == 6: return rnd.choice([b'\xd4\x01\x00', b'\xd6\xff\x00\x00\x00\x01', b'\xd5\xff\x00\x00', b'\xa1\xff', b'\xc1'])
    if c == 7: return w_str(rnd.choice(STRS))
    if c in (8, 9):
        n = rnd.randrange(4)
        return w_arr(n) + b''.join(rand_any(depth + 1, key) for _ in range(n))
    n = rnd.randrange(3)
    return w_map(n) + b''.join(rand_any(depth + 1, True) + rand_any(depth + 1) for _ in range(n))

# Str forms near the edges of what each parser accepts.
FORMS = {
    datetime.datetime: ["2024-02-29T23:59:59.9999995Z", "2023-02-29T00:00:00", "2024-01-01 00:00:00+23:59",
                        "2024-01-01T00:00:00+24:00", "9999-12-31T23:59:59.9999999Z", "2024-01-01t00:00:00z",
                        "2024-01-01T00:00", "0000-01-01T00:00:00", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00-0130"],
    datetime.date: ["2024-02-29", "2023-02-29", "2024-1-01", "0001-01-01", "2024-12-31 ", "٢٠٢٤-01-01"],
    datetime.time: ["23:59:59.9999995", "24:00:00", "00:00:00z", "12:30:00+05:30", "12:30", "12:30:00.", "12:30:60"],
    datetime.timedelta: ["P1D", "-PT1.5S", "P1Y", "PT1M", "P1W", "P", "PT", "+P1DT2H3M4.5S", "P999999999D", "P1000000000D", "PT0.0000001S"],
    uuid.UUID: ["12345678-1234-5678-1234-567812345678", "12345678123456781234567812345678", "12345678-1234-5678-1234-56781234567g",
                "1234567-81234-5678-1234-567812345678", "", "urn:uuid:12345678-1234-5678-1234-567812345678"],
    decimal.Decimal: ["1.5", "-0", "1e999999999999999999", "NaN123", "-sNaN", "inf", "Infinity", " 1 ", "1_000", "1__0", "_1", "", "1e", "١٢٣", "0x10"],
}


def gen(t, depth=0):
    """A value mostly conforming to t."""
    if rnd.random() < 0.06:
        return rand_any(depth)
    origin = typing.get_origin(t)
    args = typing.get_args(t)
    if origin is typing.Annotated:
        return gen_constrained(args[0], [m for m in args[1:] if isinstance(m, msgspec.Meta)], depth)
    if hasattr(t, "__supertype__"):  # NewType
        return gen(t.__supertype__, depth)
    if t in FORMS:
        if rnd.random() < 0.2 and t is datetime.datetime:
            return rnd.choice([b'\xd6\xff\x00\x00\x00\x01', b'\xd7\xff' + struct.pack('>Q', (999_999_999 << 34) | 5),
                               b'\xc7\x0c\xff' + struct.pack('>Iq', 0, 253402300800), b'\xd5\xff\x00\x00'])
        if rnd.random() < 0.2 and t is uuid.UUID:
            return rnd.choice([b'\xc4\x10' + bytes(16), b'\xc4\x0f' + bytes(15)])
        if rnd.random() < 0.2 and t is decimal.Decimal:
            return rnd.choice([w_int(7), b'\xcb' + struct.pack('>d', 0.1), b'\xcb' + struct.pack('>d', float('nan'))])
        return w_str(rnd.choice(FORMS[t]))
    if t in (bytearray, memoryview): return rnd.choice([b'\xc4\x02ab', b'\xc4\x00'])
    if t is msgspec.msgpack.Ext: return rnd.choice([b'\xd4\x01\x00', b'\xd6\xff\x00\x00\x00\x01', b'\xc7\x00\x05'])
    if t is msgspec.Raw: return rand_any(depth)
    if isinstance(t, enum.EnumMeta):
        vals = [m.value for m in t] + [rnd.choice([0, 99, "nope", "RED"])]
        v = rnd.choice(vals)
        return w_int(v) if isinstance(v, int) else w_str(v)
    if origin in (set, frozenset):
        n = rnd.randrange(4 if depth < 4 else 1)
        return w_arr(n) + b''.join(gen(args[0] if args else Any, depth + 1) for _ in range(n))
    if typing.is_typeddict(t) or dataclasses.is_dataclass(t):
        hints = typing.get_type_hints(t)
        names = [n for n in hints if rnd.random() < 0.85]
        if rnd.random() < 0.1: names.append("zz")
        out = w_map(len(names))
        for n in names:
            out += w_str(n) + gen(hints.get(n, Any), depth + 1)
        return out
    if isinstance(t, type) and issubclass(t, tuple) and hasattr(t, "_fields"):
        hints = typing.get_type_hints(t)
        n = len(t._fields) - rnd.choice([0, 0, 0, 1, 2]) + (1 if rnd.random() < 0.1 else 0)
        n = max(n, 0)
        return w_arr(n) + b''.join(gen(hints.get(f, Any), depth + 1) for f in (t._fields * 2)[:n])
    if t is Any: return rand_any(depth)
    if t is None or t is type(None): return b'\xc0'
    if t is bool: return rnd.choice([b'\xc2', b'\xc3'])
    if t is int: return w_int(rnd.choice([0, 5, -7, 2**63 - 1, -2**63, 2**64 - 1, 300]))
    if t is float: return rnd.choice([w_int(3), b'\xcb' + struct.pack('>d', 2.5), b'\xca' + struct.pack('>f', 1.0)])
    if t is str: return w_str(rnd.choice(STRS))
    if t is bytes: return b'\xc4\x02ab'
    if origin in (typing.Union, types.UnionType):
        return gen(rnd.choice(args), depth)
    if origin is Literal:
        v = rnd.choice(args)
        return w_int(v) if isinstance(v, int) else w_str(v)
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        n = rnd.randrange(4 if depth < 4 else 1)
        return w_arr(n) + b''.join(gen(args[0], depth + 1) for _ in range(n))
    if origin is tuple:
        if args == ((),) or args == (): return w_arr(0)
        n = len(args) + (rnd.choice([-1, 1]) if rnd.random() < 0.1 else 0)
        n = max(n, 0)
        return w_arr(n) + b''.join(gen(args[i % len(args)], depth + 1) for i in range(n))
    if origin is dict:
        n = rnd.randrange(3 if depth < 4 else 1)
        return w_map(n) + b''.join(gen(args[0], depth + 1) + gen(args[1], depth + 1) for _ in range(n))
    if isinstance(t, type) and issubclass(t, msgspec.Struct):
        cfg = t.__struct_config__
        fields = msgspec.structs.fields(t)
        items = []
        for f in fields:
            if f.required or rnd.random() < 0.5 or rnd.random() < 0.05:
                if rnd.random() < 0.95:
                    items.append((f.encode_name, f.type))
        if cfg.tag is not None and (rnd.random() < 0.8):
            tagv = cfg.tag
            if rnd.random() < 0.1: tagv = rnd.choice(["Cow", 7, None])
            items.insert(rnd.randrange(len(items) + 1), (cfg.tag_field, ('TAG', tagv)))
        if rnd.random() < 0.1:
            items.append((rnd.choice(["zz", "x", 1]), Any))
        if rnd.random() < 0.1 and items:
            items.append(rnd.choice(items))
        def val(ty):
            if isinstance(ty, tuple) and ty and ty[0] == 'TAG':
                v = ty[1]
                return b'\xc0' if v is None else (w_int(v) if isinstance(v, int) else w_str(v))
            return gen(ty, depth + 1) if depth < 5 else b'\xc0'
        if cfg.array_like:
            vals = [val(ty) for (name, ty) in items if name != cfg.tag_field]
            if cfg.tag is not None:
                vals.insert(0, val(('TAG', cfg.tag)))
            return w_arr(len(vals)) + b''.join(vals)
        out = w_map(len(items))
        for name, ty in items:
            out += (w_int(name) if isinstance(name, int) else w_str(name)) + val(ty)
        return out
    return rand_any(depth)

def gen_constrained(t, metas, depth):
    """A value for `Annotated[t, *metas]`, often at a bound."""
    m = {k: getattr(meta, k) for meta in metas for k in ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length") if getattr(meta, k) is not None}
    if t in (int, float) and m and rnd.random() < 0.8:
        edges = [v + d for v in m.values() for d in (-1, 0, 1)]
        v = rnd.choice(edges)
        if t is float and rnd.random() < 0.5:
            return b'\xcb' + struct.pack('>d', float(v) + rnd.choice([0.0, 0.5, -0.5, 1e-9]))
        return w_int(int(v))
    if t in (str, bytes) and ("min_length" in m or "max_length" in m) and rnd.random() < 0.8:
        n = max(0, rnd.choice([m.get("min_length", 0), m.get("max_length", 3)]) + rnd.choice([-1, 0, 1]))
        text = rnd.choice(["a", "é", "日"]) * n
        return w_str(text) if t is str else b'\xc4' + bytes([n]) + b'x' * n
    return gen(t, depth)


STRUCTS = {
    "Point": {"fields": [["x", "int"], ["y", "int"]]},
    "Cat": {"fields": [["name", "str"]], "tag": True},
    "Dog": {"fields": [["name", "str"], ["good", "bool", True]], "tag": True},
    "V1": {"fields": [["body", "str"]], "tag": 1, "tag_field": "version"},
    "V2": {"fields": [["body", "str"], ["n", "int"]], "tag": 2, "tag_field": "version"},
    "Vec3": {"fields": [["x", "int"], ["y", "int", 0], ["z", "float", 0]], "array_like": True},
    "CatArr": {"fields": [["name", "str"]], "tag": True, "array_like": True},
    "DogArr": {"fields": [["name", "str"], ["good", "bool", True]], "tag": True, "array_like": True, "forbid_unknown_fields": True},
    "Node": {"fields": [["value", "int"], ["next", "Node | None", None]]},
    "Tree": {"fields": [["value", "int"], ["children", "list[Tree]", []]]},
    "Strict": {"fields": [["a", "int"], ["b", "str | None", None]], "forbid_unknown_fields": True},
    "Renamed": {"fields": [["user_id", "int"], ["is_admin", "bool", False]], "rename": "camel"},
    "Holder": {"fields": [["value", "Any"], ["pets", "list[Cat | Dog]", []]]},
    "FPoint": {"fields": [["x", "int"], ["y", "int"]], "frozen": True},
    "Color": {"kind": "enum", "members": {"RED": "red", "GREEN": "green"}},
    "Level": {"kind": "enum", "members": {"LOW": 1, "HIGH": 2}},
    "UserId": {"kind": "newtype", "type": "int"},
    "Movie": {"kind": "typeddict", "fields": [["title", "str"], ["year", "typing.NotRequired[int]"]]},
    "Pos": {"kind": "dataclass", "fields": [["x", "int"], ["y", "int", 0]]},
    "Pair": {"kind": "namedtuple", "fields": [["a", "int"], ["b", "str", "x"]]},
}
SPECS = ["int", "float", "str", "bytes", "bool", "None", "Any", "int | None", "Literal['a', 'b', 1]",
         "Literal['x'] | int | None", "list[int]", "list[Any]", "tuple[int, str, bool]",
         "tuple[float, ...]", "tuple[()]", "dict[str, int]", "dict[int, list[str]]", "dict[Any, Any]",
         "dict[tuple[int, str], float]", "dict[Literal[1, 2], bool | None]", "Point | None",
         "list[Cat | Dog]", "V1 | V2", "list[Vec3]", "CatArr | DogArr | None", "DogArr", "Node", "Tree",
         "dict[str, Strict]", "Renamed", "str | list[Point] | dict[str, Any] | None", "Holder",
         "dict[str, list[dict[str, int | float]]]", "Cat", "Vec3 | dict[str, int]", "bool | int | float",
         "int | str", "bytes | list[int] | None", "list[list[int]]", "dict[float, Any]",
         "Literal[-1, 0, 9223372036854775807] | None", "dict[str | int, Literal['a'] | None]",
         "tuple[Point, Cat | Dog, Any]", "list[V1 | V2 | None]", "dict[bytes, tuple[int, ...]]",
         "dict[None, int]", "dict[bool, str]", "float | None | bool",
         "tuple[tuple[int, str], ...]", "list[Strict | None]", "dict[str, Node | None]",
         "Cat | Dog | None", "CatArr | DogArr", "list[Renamed] | None", "tuple[Any, ...]",
         # The types beyond the first grammar.
         "set[int]", "frozenset[str | None]", "set", "set[Any]", "set[tuple[int, Any]]", "set[FPoint]",
         "set[Point]", "dict[Any, int]", "dict[tuple[Any, ...], str]", "bytearray", "memoryview | None",
         "datetime.datetime", "datetime.date | None", "datetime.time", "datetime.timedelta", "uuid.UUID",
         "decimal.Decimal", "decimal.Decimal | int", "msgspec.msgpack.Ext | None", "msgspec.Raw",
         "list[msgspec.Raw | None]", "datetime.datetime | msgspec.msgpack.Ext",
         "typing.Annotated[int, msgspec.Meta(ge=0, le=255)]", "typing.Annotated[int, msgspec.Meta(gt=-5, multiple_of=3)] | None",
         "typing.Annotated[float, msgspec.Meta(gt=0.5, lt=2)]", "typing.Annotated[float, msgspec.Meta(multiple_of=0.25)]",
         "typing.Annotated[str, msgspec.Meta(min_length=1, max_length=3)]", "typing.Annotated[str, msgspec.Meta(pattern='^[a-z]+$')]",
         "typing.Annotated[bytes, msgspec.Meta(max_length=2)]", "typing.Annotated[list[int], msgspec.Meta(min_length=1, max_length=2)]",
         "typing.Annotated[dict[str, int], msgspec.Meta(max_length=1)]", "typing.Annotated[datetime.datetime, msgspec.Meta(tz=True)]",
         "typing.Annotated[datetime.time, msgspec.Meta(tz=False)]", "Color", "Level | None", "list[Color | None]",
         "set[Level]", "UserId", "Movie", "Pos | None", "Pair", "set[Pair]", "dict[Pair, Color]", "Movie | list[int]"]

cases = []
for i in range(int(sys.argv[2])):
    spec = rnd.choice(SPECS)
    # include dependencies
    deps = dict(STRUCTS)
    t = G.build(spec, deps)
    payload = gen(t)
    r = rnd.random()
    if r < 0.05 and payload: payload = payload[:-1]
    elif r < 0.08: payload = payload + b'\x00'
    elif r < 0.15 and payload:
        j = rnd.randrange(len(payload))
        payload = payload[:j] + bytes([rnd.randrange(256)]) + payload[j + 1:]
    c = G.case(f"fuzz-{i}", "fuzz", spec, payload, deps)
    cases.append(c)
doc = {"format": "pld-vectors/1", "source": {}, "cases": cases, "invalid_specs": []}
pathlib.Path(sys.argv[3]).write_text(json.dumps(doc))
print(f"{len(cases)} cases, {sum(c['ok'] for c in cases)} ok -> {sys.argv[3]}")
