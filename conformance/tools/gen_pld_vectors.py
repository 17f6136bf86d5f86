#!/usr/bin/env python3
"""Generate fixtures/vectors/extra-pld-vectors.json (format pld-vectors/1).

The shuttle team's own payload-spec cases, on top of the shared vectors:
edge cases found while building the Rust limiter (timestamp bounds and
rounding, key hashability, tag corner cases, length prefixes, rename rules,
more invalid unions). Every outcome is decided by real msgspec:
``msgspec.msgpack.decode(payload, type=spec)`` in strict mode. Nothing is
hand-written but the inputs.

Usage:
    python3 conformance/tools/gen_pld_vectors.py           # (re)write the file
    python3 conformance/tools/gen_pld_vectors.py --check   # exit 1 if it differs

Requires msgspec==0.22.0 (``pip install -r conformance/requirements.txt``).
Deterministic: no randomness, fixed case order, one case per line.
One deviation from FORMAT.md: `decoded` is left out of values nested
deeper than 100 levels (only `decoded_type`/`decoded_repr` are given), so
that JSON readers with a default recursion limit can read the file.
"""

import argparse
import base64
import datetime
import json
import math
import pathlib
import struct
import sys

import msgspec

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "vectors" / "extra-pld-vectors.json"
MSGSPEC_VERSION = "0.22.0"

P = msgspec.msgpack.encode

# --------------------------------------------------------------------------
# Spec building: a fresh module `pld` per case (the testee's builder).

sys.path.insert(0, str(ROOT / "conformance" / "testees" / "python"))
from pld_types import build  # noqa: E402


def build_checked(spec, structs):
    """Build for an invalid-spec entry: defstruct refuses non-empty mutable
    defaults (they are passed through unchanged by `build`)."""
    return build(spec, structs)


# --------------------------------------------------------------------------
# Outcome recording (FORMAT.md section 5).


def json_form(v):
    """The JSON form of a decoded value, or raise ValueError if none."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError
        return v
    if isinstance(v, (list, tuple)):
        return [json_form(x) for x in v]
    if isinstance(v, dict):
        if not all(isinstance(k, str) for k in v):
            raise ValueError
        return {k: json_form(x) for k, x in v.items()}
    if isinstance(v, msgspec.Struct):
        return {f: json_form(getattr(v, f)) for f in v.__struct_fields__}
    raise ValueError


def depth(v, limit=100):
    """Nesting depth of a JSON form, counted up to `limit` + 1."""
    todo, best = [(v, 1)], 0
    while todo:
        x, d = todo.pop()
        if isinstance(x, (list, dict)):
            best = max(best, d)
            if best > limit:
                return best
            todo.extend((y, d + 1) for y in (x.values() if isinstance(x, dict) else x))
    return best


def stable_repr(v):
    """repr() without what changes between runs: set order (str hashes are
    salted per process) and the addresses in the reprs of `memoryview` and
    `msgspec.Raw`."""
    if isinstance(v, (set, frozenset)):
        inner = ", ".join(sorted(stable_repr(x) for x in v))
        return f"{type(v).__name__}({{{inner}}})"
    if isinstance(v, memoryview):
        return f"memoryview({bytes(v)!r})"
    if isinstance(v, msgspec.Raw):
        return f"msgspec.Raw({bytes(v)!r})"
    if isinstance(v, msgspec.msgpack.Ext):
        return f"msgspec.msgpack.Ext({v.code}, {v.data!r})"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{stable_repr(k)}: {stable_repr(x)}" for k, x in v.items()) + "}"
    if isinstance(v, tuple):
        return "(" + "".join(stable_repr(x) + ", " for x in v).rstrip(" ") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(stable_repr(x) for x in v) + "]"
    return repr(v)


def type_name(v):
    if isinstance(v, msgspec.msgpack.Ext):
        return "Ext"
    if isinstance(v, datetime.datetime):
        return "datetime"
    return type(v).__name__


def case(cid, group, spec, payload, structs=None):
    structs = structs or {}
    typ = build(spec, structs)
    out = {
        "id": cid,
        "group": group,
        "spec": spec,
        "structs": structs,
        "payload_b64": base64.b64encode(payload).decode(),
    }
    try:
        v = msgspec.msgpack.decode(payload, type=typ)
    except RecursionError as e:
        out.update(ok=False, error_type="RecursionError", error=str(e))
    except msgspec.ValidationError as e:
        out.update(ok=False, error_type="ValidationError", error=str(e))
    except msgspec.DecodeError as e:
        out.update(ok=False, error_type="DecodeError", error=str(e))
    except Exception as e:  # UnicodeDecodeError, ValueError, ...
        out.update(ok=False, error_type=type(e).__name__, error=str(e))
    else:
        out.update(ok=True, decoded_type=type_name(v))
        sys.setrecursionlimit(20000)  # deep but valid values: JSON form and repr
        try:
            form = json_form(v)
            # Kept out of very deep values so that JSON readers with a
            # default recursion limit (serde_json: 128) can read the file.
            if depth(form) <= 100:
                out["decoded"] = form
        except ValueError:
            pass
        out["decoded_repr"] = stable_repr(v) if group.startswith("types-") else repr(v)
        sys.setrecursionlimit(1000)
    return out


def invalid(cid, group, spec, structs=None):
    structs = structs or {}
    out = {"id": cid, "group": group, "spec": spec, "structs": structs}
    try:
        typ = build_checked(spec, structs)
    except Exception as e:
        stage, err = "struct-definition", e
    else:
        try:
            msgspec.msgpack.Decoder(typ)
        except Exception as e:
            stage, err = "decoder", e
        else:
            raise SystemExit(f"{cid}: msgspec accepts {spec!r}; not an invalid spec")
    text = str(err)
    reason = text.split(" - type `")[0]
    out.update(stage=stage, error_type=type(err).__name__, error=text, error_reason=reason)
    return out


# --------------------------------------------------------------------------
# The cases.

POINT = {"Point": {"fields": [["x", "int"], ["y", "int"]]}}
CAT_DOG = {
    "Cat": {"fields": [["name", "str"]], "tag": True},
    "Dog": {"fields": [["name", "str"], ["good", "bool", True]], "tag": True},
}
CATARR = {"CatArr": {"fields": [["name", "str"]], "tag": True, "array_like": True,
                     "forbid_unknown_fields": True}}
V12 = {
    "MsgV1": {"fields": [["body", "str"]], "tag": 1, "tag_field": "version"},
    "MsgV2": {"fields": [["body", "str"], ["checksum", "int"]], "tag": 2, "tag_field": "version"},
}
NODE = {"Node": {"fields": [["value", "int"], ["next", "Node | None", None]]}}


def ts96(nanos, secs):
    return b"\xc7\x0c\xff" + struct.pack(">Iq", nanos, secs)


def ts64(nanos, secs):
    return b"\xd7\xff" + struct.pack(">Q", (nanos << 34) | secs)


def nested_arrays(depth):
    return b"\x91" * depth + b"\x01"


def cases():
    out = []
    add = out.append

    # Timestamps: bounds, rounding to microseconds, forms.
    g = "extra-timestamp"
    add(case("extra-timestamp-year-9999-last-micro", g, "Any", ts96(999_999_499, 253402300799)))
    add(case("extra-timestamp-rounds-up-to-year-10000", g, "Any", ts96(999_999_500, 253402300799)))
    add(case("extra-timestamp-year-10000-plus-one", g, "Any", ts96(0, 253402300801)))
    add(case("extra-timestamp-year-1-first-second", g, "Any", ts96(0, -62135596800)))
    add(case("extra-timestamp-before-year-1-with-nanos", g, "Any", ts96(999_999_999, -62135596801)))
    add(case("extra-timestamp-out-of-range-in-list", g, "list[Any]", b"\x91" + ts96(0, 253402300801)))
    add(case("extra-timestamp64-max-seconds", g, "Any", ts64(0, (1 << 34) - 1)))
    add(case("extra-timestamp-ext32-form", g, "Any", b"\xc9\x00\x00\x00\x04\xff\x00\x00\x00\x01"))
    add(case("extra-timestamp-3-byte-data", g, "Any", b"\xc7\x03\xff\x00\x00\x01"))
    add(case("extra-timestamp-bad-in-dict-key", g, "dict[Any, int]", b"\x81\xd5\xff\x00\x00\x01"))
    add(case("extra-timestamp-bad-in-nested-any", g, "dict[str, Any]",
             b"\x81\xa1k\x92\x01\x91\xd5\xff\x00\x00"))

    # Map keys Python cannot hash.
    g = "extra-keys"
    add(case("extra-keys-list-key-unhashable", g, "dict[list[int], int]", b"\x81\x91\x01\x01"))
    add(case("extra-keys-empty-list-key-unhashable", g, "dict[list[int], int]", b"\x81\x90\x01"))
    add(case("extra-keys-tuple-of-list-key", g, "dict[tuple[list[int], ...], int]", b"\x81\x91\x91\x01\x01"))
    add(case("extra-keys-dict-key-unhashable", g, "dict[dict[str, int], int]", b"\x81\x80\x01"))
    add(case("extra-keys-struct-key-unhashable", g, "dict[Point, int]",
             b"\x81\x82\xa1x\x01\xa1y\x02\x01", POINT))
    add(case("extra-keys-any-ext-key-unhashable", g, "dict[Any, Any]", b"\x81\xd4\x01\x00\x01"))
    add(case("extra-keys-any-array-with-map-key", g, "dict[Any, Any]", b"\x81\x91\x80\x01"))
    add(case("extra-keys-any-timestamp-key-ok", g, "dict[Any, int]", b"\x81\xd6\xff\x00\x00\x00\x01\x01"))
    add(case("extra-keys-any-map-key-bad-value-first", g, "dict[Any, int]", b"\x81\x80\xa1x"))
    add(case("extra-keys-any-map-key-invalid-utf8-value", g, "dict[Any, Any]", b"\x81\x80\xa1\xff"))
    add(case("extra-keys-nested-unhashable-inside-value", g, "dict[str, dict[Any, int]]",
             b"\x81\xa1a\x81\x91\x80\x01"))
    add(case("extra-keys-bad-timestamp-in-map-in-array-key", g, "dict[Any, Any]",
             b"\x81\x93\x01\x02\x81\xd5\xff\x00\x00\xc0\x01"))
    add(case("extra-keys-bad-key-in-dict-in-tuple-key", g, "dict[tuple[int, dict[str, int]], int]",
             b"\x81\x92\x01\x81\x01\x02\x03"))
    add(case("extra-keys-vartuple-key-ok", g, "dict[tuple[int, ...], str]", b"\x81\x92\x01\x02\xa1v"))
    add(case("extra-keys-bool-key-ok", g, "dict[bool, int]", b"\x82\xc3\x01\xc2\x00"))
    add(case("extra-keys-none-key", g, "dict[None, int]", b"\x81\xc0\x01"))
    add(case("extra-keys-str-literal-key-bad", g, "dict[Literal['a', 'b'], int]", b"\x81\xa1c\x01"))

    # Length prefixes and header truncation.
    g = "extra-lengths"
    add(case("extra-lengths-int-array32-huge", g, "int", b"\xdd\xff\xff\xff\xff"))
    add(case("extra-lengths-int-map32-huge", g, "int", b"\xdf\xff\xff\xff\xff"))
    add(case("extra-lengths-int-bin32-huge", g, "int", b"\xc6\xff\xff\xff\xff"))
    add(case("extra-lengths-int-ext32-huge", g, "int", b"\xc9\xff\xff\xff\xff\x01"))
    add(case("extra-lengths-int-array32-truncated-header", g, "int", b"\xdd\xff"))
    add(case("extra-lengths-dict-half-entries-bad-value", g, "dict[str, int]", b"\x82\xa1a\xa1b"))
    add(case("extra-lengths-list-short-first-bad", g, "list[int]", b"\x93\xa1x"))
    add(case("extra-lengths-bytes-str-invalid-utf8", g, "bytes", b"\xa1\xff"))
    add(case("extra-lengths-int-str-invalid-utf8", g, "int", b"\xa1\xff"))
    add(case("extra-lengths-literal-str-invalid-utf8", g, "Literal['a']", b"\xa1\xff"))
    add(case("extra-lengths-literal-str-member-ok", g, "Literal['a'] | None", b"\xd9\x01a"))

    # Literals beside other members.
    g = "extra-literal"
    add(case("extra-literal-int-or-float-non-member", g, "Literal[1, 2] | float", b"\x03"))
    add(case("extra-literal-int-or-float-float", g, "Literal[1, 2] | float", b"\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"))
    add(case("extra-literal-negative-member", g, "Literal[-5, 7]", b"\xfb"))
    add(case("extra-literal-int64-min-member", g, "Literal[-9223372036854775808]",
             b"\xd3\x80\x00\x00\x00\x00\x00\x00\x00"))
    add(case("extra-literal-str-quote-repr", g, "Literal['a']", P("it's")))
    add(case("extra-literal-str-newline-repr", g, "Literal['a']", P("x\ny")))
    add(case("extra-literal-bool-spec-str", g, "Literal['a', 'b'] | bool", b"\x01"))
    for name, text in [("nbsp", "\xa0"), ("soft-hyphen", "x\xad"), ("line-separator", "\u2028"),
                       ("zero-width-space", "\u00e9\u200b"), ("private-use-plane-15", "\U000f0000"),
                       ("ideographic-space", "\u3000"), ("emoji", "\U0001f600"), ("tab-quote", "\t'\"")]:
        add(case(f"extra-literal-str-repr-{name}", g, "Literal['a']", P(text)))
    add(case("extra-literal-tag-raw-nbsp", g, "Cat | Dog", P({"type": "\xa0"}), CAT_DOG))
    add(case("extra-literal-tag-raw-quote", g, "Cat | Dog", P({"type": "it's\n"}), CAT_DOG))
    add(case("extra-literal-tag-raw-single-struct", g, "Cat", P({"type": "\t"}), CAT_DOG))

    # Tags.
    g = "extra-tags"
    add(case("extra-tags-int-tag-mismatch", g, "MsgV1 | MsgV2", P({"version": 3, "body": "a"}), V12))
    add(case("extra-tags-int-tag-nil", g, "MsgV1 | MsgV2", P({"version": None, "body": "a"}), V12))
    add(case("extra-tags-int-tag-single-struct-other", g, "MsgV1", P({"version": 2, "body": "a"}), V12))
    add(case("extra-tags-int-tag-negative", g, "MsgV1 | MsgV2", P({"version": -1, "body": "a"}), V12))
    add(case("extra-tags-union-non-str-key-before-tag", g, "Cat | Dog",
             b"\x82\x01\x02\xa4type\xa3Cat", CAT_DOG))
    add(case("extra-tags-union-bad-value-before-tag", g, "Cat | Dog",
             b"\x82\xa4name\x01\xa4type\xa3Cat", CAT_DOG))
    add(case("extra-tags-union-reserved-byte-before-tag", g, "Cat | Dog",
             b"\x82\xa1z\xc1\xa4type\xa3Cat", CAT_DOG))
    add(case("extra-tags-reserved-byte-as-struct-key", g, "Point", b"\x81\xc1\x01", POINT))
    add(case("extra-tags-reserved-byte-as-union-key", g, "Cat | Dog", b"\x81\xc1\x01", CAT_DOG))
    add(case("extra-tags-reserved-byte-as-str-tag", g, "Cat", b"\x81\xa4type\xc1", CAT_DOG))
    add(case("extra-tags-reserved-byte-as-int-tag", g, "MsgV1 | MsgV2", b"\x81\xa7version\xc1", V12))
    add(case("extra-tags-reserved-byte-as-array-tag", g, "CatArr", b"\x92\xc1\xa1a", CATARR))
    add(case("extra-tags-reserved-byte-as-dict-key", g, "dict[str, int]", b"\x81\xc1\x01"))
    add(case("extra-tags-union-empty-map", g, "Cat | Dog", b"\x80", CAT_DOG))
    add(case("extra-tags-single-tag-bin", g, "Cat", b"\x81\xa4type\xc4\x03Cat", CAT_DOG))
    add(case("extra-tags-catarr-at-most", g, "CatArr", b"\x93\xa6CatArr\xa1a\xa1b", CATARR))
    add(case("extra-tags-catarr-bad-tag-short", g, "CatArr", b"\x91\xa3Dog", CATARR))
    add(case("extra-tags-catarr-tag-nil", g, "CatArr", b"\x92\xc0\xa1a", CATARR))

    # Structs: keys, forbid_unknown_fields, rename, empty.
    g = "extra-struct"
    strict = {"S": {"fields": [["x", "int"]], "forbid_unknown_fields": True}}
    add(case("extra-struct-forbid-invalid-utf8-key", g, "S", b"\x81\xa1\xff\x01", strict))
    add(case("extra-struct-forbid-empty-key", g, "S", b"\x81\xa0\x01", strict))
    add(case("extra-struct-missing-after-bad-key-type", g, "S", b"\x81\xc3\x01", strict))
    add(case("extra-struct-no-fields-ok", g, "E", b"\x81\xa1a\x01", {"E": {"fields": []}}))
    add(case("extra-struct-no-fields-array-like-empty", g, "E", b"\x90",
             {"E": {"fields": [], "array_like": True}}))
    add(case("extra-struct-no-fields-array-like-forbid", g, "E", b"\x91\x01",
             {"E": {"fields": [], "array_like": True, "forbid_unknown_fields": True}}))
    renamed = {"R": {"fields": [["_priv", "int"], ["a__b", "int"], ["http_code", "int", 0]],
                     "rename": "camel"}}
    add(case("extra-struct-rename-camel-leading-underscore", g, "R", P({"_priv": 1, "aB": 2}), renamed))
    add(case("extra-struct-rename-camel-wrong-type", g, "R", P({"_priv": 1, "aB": 2, "httpCode": "x"}), renamed))
    kebab = {"K": {"fields": [["max_depth", "int"], ["trailing_", "int", 0]], "rename": "kebab"}}
    add(case("extra-struct-rename-kebab-trailing", g, "K", P({"max-depth": 1, "trailing": "x"}), kebab))
    pascal = {"Q": {"fields": [["user_id", "int"]], "rename": "pascal"}}
    add(case("extra-struct-rename-pascal", g, "Q", P({"UserId": "x"}), pascal))
    add(case("extra-struct-duplicate-missing-other", g, "Point", b"\x82\xa1x\x01\xa1x\x02", POINT))
    add(case("extra-struct-array-instead-with-forbid", g, "S", b"\x91\x01", strict))
    many = {"Many": {"fields": [[f"f{i}", "int", 0] for i in range(70)]}}
    add(case("extra-struct-seventy-fields-bad-f69", g, "Many", P({"f69": "x"}), many))
    req70 = {"Req": {"fields": [[f"f{i}", "int"] for i in range(70)]}}
    add(case("extra-struct-seventy-required-missing-f68", g, "Req",
             P({f"f{i}": i for i in range(70) if i != 68}), req70))

    # Nesting.
    g = "extra-nesting"
    add(case("extra-nesting-any-depth-500", g, "Any", nested_arrays(500)))
    add(case("extra-nesting-any-depth-2000", g, "Any", nested_arrays(2000)))
    add(case("extra-nesting-list-any-maps-depth-2000", g, "list[Any]", b"\x91" + b"\x81\xa1k" * 2000 + b"\x01"))
    add(case("extra-nesting-empty-arrays-deep-ok", g, "Any", b"\x91" * 400 + b"\x90"))
    deep_node = b""
    for _ in range(300):
        deep_node += b"\x82\xa5value\x01\xa4next"
    deep_node += b"\xc0"
    add(case("extra-nesting-node-depth-300", g, "Node", deep_node, NODE))
    deep_bad = b"\x82\xa5value\x01\xa4next" * 5000 + b"\xc0"
    add(case("extra-nesting-node-depth-5000", g, "Node", deep_bad, NODE))
    deep = b"\x91" * 3000 + b"\x01"
    add(case("extra-nesting-deep-unknown-field", g, "Point", b"\x83\xa1x\x01\xa1y\x02\xa1z" + deep, POINT))
    add(case("extra-nesting-deep-value-before-tag", g, "Cat | Dog",
             b"\x82\xa1z" + deep + b"\xa4type\xa3Cat", CAT_DOG))
    add(case("extra-nesting-deep-trailing-array-item", g, "PointArr", b"\x93\x01\x02" + deep,
             {"PointArr": {"fields": [["x", "int"], ["y", "int"]], "array_like": True}}))
    add(case("extra-nesting-shallow-unknown-field-ok", g, "Point",
             b"\x83\xa1x\x01\xa1y\x02\xa1z" + b"\x91" * 300 + b"\x01", POINT))
    add(case("extra-nesting-deep-empty-maps-skipped", g, "Point",
             b"\x83\xa1x\x01\xa1y\x02\xa1z" + b"\x81\xa1k" * 2000 + b"\x80", POINT))
    add(case("extra-nesting-tuple-in-tuple-bad", g, "tuple[int, tuple[str, bool]]", b"\x92\x01\x92\xa1a\x01"))

    # `Any` stops msgspec's union checks where it appears.
    g = "extra-any-union"
    add(case("extra-any-union-after-str-bytes", g, "str | bytes | Any", b"\xc4\x01a"))
    add(case("extra-any-union-big-literal", g, "Literal[9223372036854775808] | Any", b"\x01"))
    add(case("extra-any-union-between-lists", g, "list[int] | Any | list[str]", b"\x91\xa1a"))
    add(case("extra-any-union-untagged-structs", g, "Point | PldMsg | Any", b"\x80",
             {**POINT, "PldMsg": {"fields": [["field", "str"]]}}))

    # Ext under typed specs and unions.
    g = "extra-ext"
    add(case("extra-ext-int-or-none", g, "int | None", b"\xd4\x01\x00"))
    add(case("extra-ext-list-any-nested-bad-timestamp", g, "list[Any]", b"\x91\x92\x01\xd5\xff\x00\x00"))
    add(case("extra-ext-struct-field-any-timestamp-ok", g, "Holder", b"\x81\xa5value\xd6\xff\x00\x00\x00\x01",
             {"Holder": {"fields": [["value", "Any"]]}}))

    # Trailing bytes after an invalid value: the value error wins.
    g = "extra-malformed"
    add(case("extra-malformed-bad-value-then-trailing", g, "int", b"\xa1x\x01"))
    add(case("extra-malformed-ok-value-then-reserved", g, "int", b"\x01\xc1"))
    add(case("extra-malformed-reserved-in-unknown-field-after-missing", g, "Point", b"\x81\xa1z\xc1", POINT))
    add(case("extra-malformed-truncated-struct-value", g, "Point", b"\x82\xa1x\x01\xa1y", POINT))

    # Bare containers, as Python spells them: `list` is `list[Any]`, `dict`
    # is `dict[Any, Any]`, `tuple` is `tuple[Any, ...]`.
    g = "extra-bare"
    for spec in ("list", "dict", "tuple"):
        for name, payload in (
            ("int", P(1)),
            ("none", P(None)),
            ("array", P([1, "a", None, [2.5]])),
            ("empty-array", P([])),
            ("str-map", P({"a": 1})),
            ("int-map", P({1: 2})),
            ("bad-timestamp-inside", b"\x91\xd5\xff\x00\x00"),
        ):
            add(case(f"extra-bare-{spec}-{name}", g, spec, payload))
    add(case("extra-bare-in-union", g, "dict | None", P({"k": [1]})))
    add(case("extra-bare-in-list", g, "list[list]", P([[1], 2])))
    add(case("extra-bare-in-struct", g, "Holder", P({"value": {1: 2}}),
             {"Holder": {"fields": [["value", "dict"]]}}))
    out.extend(type_cases())
    return out


Ext = msgspec.msgpack.Ext


def slugify(spec):
    """A case id fragment from a spec: `dict[str, uuid.UUID]` -> `dict-str-uuid-uuid`."""
    return "-".join("".join(c if c.isalnum() else " " for c in spec.lower()).split())


def type_cases():
    """Every type of msgspec's table beyond the first grammar, against the
    msgpack forms it may meet: each spec with every payload of a fixed
    list, so that what is refused is pinned as exactly as what passes."""
    out = []
    ts = b"\xd6\xff" + struct.pack(">I", 1_700_000_000)
    common = [
        ("int", P(1)), ("neg-int", P(-7)), ("float", P(1.5)), ("nan", P(math.nan)),
        ("str", P("abc")), ("bin", P(b"ab")), ("bin16", P(b"0123456789abcdef")),
        ("none", P(None)), ("bool", P(True)), ("array", P([1])), ("map", P({"a": 1})),
        ("ext", P(Ext(5, b"ab"))), ("timestamp", ts), ("bad-timestamp", b"\xd5\xff\x00\x00"),
        ("datetime", P("2024-02-29T23:59:59.5+05:30")), ("date", P("2024-02-29")),
        ("time", P("23:59:59Z")), ("duration", P("P1DT2H")),
        ("uuid", P("12345678-1234-5678-1234-567812345678")), ("decimal", P("-1.5e3")),
        ("bad-utf8", b"\xa2\xc3\x28"),
    ]
    for spec in ["bytearray", "memoryview", "datetime.datetime", "datetime.date",
                 "datetime.time", "datetime.timedelta", "uuid.UUID", "decimal.Decimal",
                 "msgspec.msgpack.Ext", "msgspec.Raw", "msgspec.Raw | None",
                 "datetime.datetime | None", "decimal.Decimal | int", "decimal.Decimal | float",
                 "datetime.datetime | msgspec.msgpack.Ext", "uuid.UUID | int",
                 "msgspec.msgpack.Ext | str | None", "list[datetime.date]",
                 "dict[str, uuid.UUID]", "tuple[datetime.time, decimal.Decimal]"]:
        slug = spec.replace("datetime.", "").replace("msgspec.msgpack.", "").replace("msgspec.", "")
        slug = slugify(slug)
        g = "types-" + slug.split("-")[0]
        for name, payload in common:
            if spec.startswith(("list[", "dict[", "tuple[")):
                payload = {"list[": b"\x91", "dict[": b"\x81\xa1k", "tuple[": b"\x92"}[
                    spec[: spec.index("[") + 1]] + payload + (P("1.5") if spec.startswith("tuple[") else b"")
            add_to = case(f"types-{slug}-{name}", g, spec, payload)
            out.append(add_to)
    # Sets: items are read as keys (arrays become tuples) and must hash.
    g = "types-set"
    frozen = {"FPt": {"fields": [["x", "int"]], "frozen": True}}
    for spec, structs in [("set[int]", None), ("frozenset[str]", None), ("set", None),
                          ("frozenset", None), ("set[Any]", None), ("set[list[int]]", None),
                          ("set[dict[str, int]]", None), ("set[tuple[int, Any]]", None),
                          ("set[set[int]]", None), ("set[frozenset[int]]", None),
                          ("set[Point]", POINT), ("set[FPt]", frozen),
                          ("set[bytearray]", None), ("set[msgspec.msgpack.Ext]", None),
                          ("set[bytes | None]", None), ("typing.Set[int]", None),
                          ("typing.FrozenSet[str]", None), ("set[int] | None", None),
                          ("list[set[int]]", None), ("dict[frozenset[int], int]", None),
                          ("dict[set[int], int]", None), ("set[tuple[Any, ...]]", None)]:
        slug = slugify(spec)
        for name, payload in [
            ("ints", P([1, 2, 1])), ("strs", P(["a", "b"])), ("empty", P([])),
            ("nested-array", P([[1]])), ("map-item", P([{"a": 1}])), ("struct-item", P([{"x": 1}])),
            ("tuple-with-map", P([[1, {}]])), ("tuple-with-array", P([[1, [2]]])),
            ("ext-item", P([Ext(1, b"")])), ("bin-item", P([b"x"])), ("none-item", P([None])),
            ("bad-second", P([1, "a"])), ("map", P({"a": 1})), ("int", P(1)),
            ("long-tuple-of-arrays", b"\x91\xdc\x00\x11" + b"\x90" * 17),
            ("short-tuple-of-arrays", b"\x91\xdc\x00\x10" + b"\x90" * 16),
            ("key-map", b"\x81\x91\x01\x01"),
        ]:
            out.append(case(f"types-{slug}-{name}", g, spec, payload, structs))
    # Long tuples in map keys read their items as plain values.
    g = "types-keys"
    for n in (16, 17):
        key = b"\xdc" + n.to_bytes(2, "big") + b"\x91\x01" + b"\x01" * (n - 1)
        for spec in ("dict[Any, int]", "dict[tuple[Any, ...], int]", "dict[tuple[list[int] | int, ...], int]"):
            slug = slugify(spec)
            out.append(case(f"types-keys-{slug}-tuple-of-{n}", g, spec, b"\x81" + key + b"\x01"))
    # A timestamp in its ext16 form among a long tuple's items is a
    # datetime, hashable.
    stamp16 = b"\xc8\x00\x04\xff\x00\x00\x00\x01"
    out.append(case("types-keys-long-tuple-timestamp16", g, "dict[tuple[Any, ...], int]",
                    b"\x81\xdc\x00\x11" + stamp16 + b"\x01" * 16 + b"\x01"))
    out.append(case("types-keys-long-tuple-ext16", g, "dict[tuple[Any, ...], int]",
                    b"\x81\xdc\x00\x11\xc8\x00\x01\x05x" + b"\x01" * 16 + b"\x01"))
    out.append(case("types-keys-bytearray-key", g, "dict[bytearray, int]", b"\x81\xc4\x01x\x01"))
    out.append(case("types-keys-ext-key", g, "dict[msgspec.msgpack.Ext, int]", b"\x81\xd4\x01\x00\x01"))
    # msgspec.Meta constraints.
    g = "types-meta"
    A = "typing.Annotated"
    meta_specs = {
        "int-ge": (f"{A}[int, msgspec.Meta(ge=0)]", [P(0), P(-1), P(2**64 - 1), P(-(2**63)), P(1.5)]),
        "int-gt-le": (f"{A}[int, msgspec.Meta(gt=0, le=10)]", [P(0), P(1), P(10), P(11), P(2**64 - 1)]),
        "int-lt": (f"{A}[int, msgspec.Meta(lt=-5)]", [P(-5), P(-6), P(2**63)]),
        "int-multiple": (f"{A}[int, msgspec.Meta(multiple_of=3)]", [P(9), P(10), P(-9), P(2**64 - 1), P(2**64 - 2)]),
        "float-gt": (f"{A}[float, msgspec.Meta(gt=0.5)]", [P(0.5), P(0.6), P(1), P(0), P(math.nan)]),
        "float-ge-lt": (f"{A}[float, msgspec.Meta(ge=0, lt=1)]", [P(0.0), P(-0.0), P(1.0), P(0.999), P(-1)]),
        "float-multiple": (f"{A}[float, msgspec.Meta(multiple_of=0.5)]", [P(1.5), P(1.2), P(0.0), P(3), P(math.inf)]),
        "float-multiple-tenth": (f"{A}[float, msgspec.Meta(multiple_of=0.1)]", [P(0.3), P(0.2)]),
        "union-int-float": (f"{A}[int, msgspec.Meta(ge=0)] | {A}[float, msgspec.Meta(le=1)]", [P(-1), P(2.0), P(0.5), P(5)]),
        "optional-int": (f"{A}[int, msgspec.Meta(ge=1)] | None", [P(None), P(0), P(1)]),
        "str-len": (f"{A}[str, msgspec.Meta(min_length=2, max_length=3)]", [P("a"), P("ab"), P("abcd"), P("éé"), P("日本語"), P(1),
                    # Invalid UTF-8 spanning bytes: CPython names the whole invalid run.
                    b"\xa3\xe6\x97\x1c", b"\xa4\xf0\x9f\x98A", b"\xa5ab\xf0\x9f\x98"]),
        "str-pattern": (f"{A}[str, msgspec.Meta(pattern='^[a-z]+$')]", [P("abc"), P("abc\n"), P("ab1"), P(""), P("x\n\n")]),
        "str-pattern-search": (f"{A}[str, msgspec.Meta(pattern='[0-9]{{3}}')]", [P("a123b"), P("12"), P("١٢٣")]),
        "str-pattern-and-len": (f"{A}[str, msgspec.Meta(min_length=1), msgspec.Meta(pattern='a')]", [P(""), P("b"), P("ba")]),
        "bytes-len": (f"{A}[bytes, msgspec.Meta(min_length=1, max_length=2)]", [P(b""), P(b"a"), P(b"abc"), b"\xc4\x05ab"]),
        "bytearray-len": (f"{A}[bytearray, msgspec.Meta(max_length=1)]", [P(b"ab"), P(b"a")]),
        "list-len": (f"{A}[list[int], msgspec.Meta(min_length=1, max_length=2)]", [P([]), P([1]), P([1, 2, 3]), P(["a", "b", "c"])]),
        "set-len": (f"{A}[set[int], msgspec.Meta(min_length=2)]", [P([1, 1]), P([1, 2])]),
        "tuple-len": (f"{A}[tuple[int, ...], msgspec.Meta(max_length=1)]", [P([1, 2])]),
        "dict-len": (f"{A}[dict[str, int], msgspec.Meta(min_length=1)]", [P({}), P({"a": 1}), P([])]),
        "datetime-aware": (f"{A}[datetime.datetime, msgspec.Meta(tz=True)]", [P("2024-01-01T00:00:00"), P("2024-01-01T00:00:00Z"), b"\xd6\xff\x00\x00\x00\x01"]),
        "datetime-naive": (f"{A}[datetime.datetime, msgspec.Meta(tz=False)]", [P("2024-01-01T00:00:00"), P("2024-01-01T00:00:00+01:00"), b"\xd6\xff\x00\x00\x00\x01"]),
        "time-aware": (f"{A}[datetime.time, msgspec.Meta(tz=True)]", [P("12:00:00"), P("12:00:00z")]),
        "nested": (f"list[{A}[int, msgspec.Meta(ge=0)]]", [P([1, -1])]),
        "in-struct": ("Age", [P({"age": -1}), P({"age": 5})]),
        "annotated-nested": (f"{A}[{A}[int, msgspec.Meta(ge=0)], msgspec.Meta(le=5)]", [P(6), P(-1), P(3)]),
        "doc-only": (f"{A}[int, msgspec.Meta(title='n', description='a number')]", [P(-1), P("x")]),
        "string-metadata": (f"{A}[int, 'just a note']", [P(1), P("x")]),
        "bare-annotated": ("Annotated[int, msgspec.Meta(le=0)]", [P(1)]),
    }
    age = {"Age": {"fields": [["age", f"{A}[int, msgspec.Meta(ge=0)]"]]}}
    for slug, (spec, payloads) in meta_specs.items():
        for i, payload in enumerate(payloads):
            out.append(case(f"types-meta-{slug}-{i}", g, spec, payload, age if spec == "Age" else None))
    # Enums, NewTypes and the standard library's records.
    g = "types-records"
    table = {
        "Color": {"kind": "enum", "members": {"RED": "red", "GREEN": "green"}},
        "Level": {"kind": "enum", "base": "IntEnum", "members": {"LOW": 1, "HIGH": 2}},
        "Sign": {"kind": "enum", "members": {"NEG": -1, "POS": 1}},
        "UserId": {"kind": "newtype", "type": "int"},
        "Name": {"kind": "newtype", "type": "typing.Annotated[str, msgspec.Meta(max_length=3)]"},
        "Movie": {"kind": "typeddict", "fields": [["title", "str"], ["year", "typing.NotRequired[int]"]]},
        "Loose": {"kind": "typeddict", "fields": [["a", "int"], ["b", "typing.Required[str]"]], "total": False},
        "Pos": {"kind": "dataclass", "fields": [["x", "int"], ["y", "int", 0]]},
        "FrozenPos": {"kind": "dataclass", "fields": [["x", "int"]], "frozen": True},
        "Pair": {"kind": "namedtuple", "fields": [["a", "int"], ["b", "str", "x"]]},
        "Both": {"kind": "namedtuple", "fields": [["a", "int"], ["b", "Color"]]},
        "Empty": {"kind": "namedtuple", "fields": []},
        "Holder": {"fields": [["color", "Color"], ["uid", "UserId"], ["pos", "Pos | None", None]]},
    }
    record_specs = {
        "color": ("Color", [P("red"), P("RED"), P(1), P(None)]),
        "color-optional": ("Color | None", [P(None), P("blue")]),
        "level": ("Level", [P(1), P(3), P("a"), P(2**64 - 1), P(-1)]),
        "sign": ("Sign", [P(-1), P(0)]),
        "color-level": ("Color | Level", [P("green"), P(2), P(5), P(1.5)]),
        "list-color": ("list[Color]", [P(["red", "x"])]),
        "set-color": ("set[Color]", [P(["red", "red"])]),
        "userid": ("UserId", [P(1), P("a")]),
        "name": ("Name", [P("abcd"), P("ab")]),
        "list-name": ("list[Name] | None", [P(["abcd"])]),
        "movie": ("Movie", [P({"title": "x"}), P({"year": 1}), P({"title": "x", "year": "y"}), P({"title": "x", "z": 1}), P([])]),
        "loose": ("Loose", [P({}), P({"a": 1}), P({"b": "x"})]),
        "pos": ("Pos", [P({"x": 1}), P({}), P({"x": 1, "y": "a"}), P({"x": 1, "q": 2}), P([1])]),
        "pos-optional": ("Pos | None", [P(None), P({"y": 1})]),
        "set-pos": ("set[Pos]", [P([{"x": 1}])]),
        "set-frozenpos": ("set[FrozenPos]", [P([{"x": 1}])]),
        "set-movie": ("set[Movie]", [P([{"title": "a"}])]),
        "pair": ("Pair", [P([1]), P([1, "y"]), P([]), P([1, "y", 3]), P([1, 2]), P({"a": 1})]),
        "both": ("Both", [P([1]), P([1, "red", 2]), P([1, "blue"])]),
        "empty": ("Empty", [P([]), P([1])]),
        "set-pair": ("set[Pair]", [P([[1, "a"]])]),
        "dict-pair-key": ("dict[Pair, int]", [b"\x81\x92\x01\xa1a\x01"]),
        "holder": ("Holder", [P({"color": "red", "uid": 1}), P({"color": "red", "uid": "x"}), P({"color": "red", "uid": 1, "pos": {"x": "a"}})]),
        "pair-or-int": ("Pair | int", [P(1), P([1]), P("a")]),
        "movie-or-none": ("Movie | None | int", [P({"title": "t"}), P("a")]),
    }
    for slug, (spec, payloads) in record_specs.items():
        for i, payload in enumerate(payloads):
            out.append(case(f"types-records-{slug}-{i}", g, spec, payload, table))
    out.append(case("types-keys-frozen-struct-key", g, "dict[FPt, int]",
                    b"\x81\x81\xa1x\x01\x01", {"FPt": {"fields": [["x", "int"]], "frozen": True}}))
    return out


def invalid_specs():
    p = {"P": {"fields": [["x", "int"]]}}
    pa = {"Pa": {"fields": [["x", "int"]], "array_like": True}}
    c = {"C": {"fields": [["x", "int"]], "tag": True}}
    ca = {"Ca": {"fields": [["x", "int"]], "tag": True, "array_like": True}}
    e = {"E": {"fields": [["x", "int"]], "tag": True, "tag_field": "kind"}}
    i1 = {"I": {"fields": [["x", "int"]], "tag": 1}}
    g = "extra-invalid"
    return [
        invalid("extra-invalid-struct-and-dict", g, "P | dict[str, int]", p),
        invalid("extra-invalid-tagged-struct-and-dict", g, "C | dict[str, int]", c),
        invalid("extra-invalid-array-like-mixed", g, "C | Ca", {**c, **ca}),
        invalid("extra-invalid-different-tag-fields", g, "C | E", {**c, **e}),
        invalid("extra-invalid-int-and-str-tags", g, "C | I", {**c, **i1}),
        invalid("extra-invalid-array-like-struct-and-vartuple", g, "Pa | tuple[int, ...]", pa),
        invalid("extra-invalid-list-and-vartuple", g, "list[int] | tuple[int, ...]"),
        invalid("extra-invalid-bytes-and-str-literal", g, "bytes | Literal['a']"),
        invalid("extra-invalid-literal-below-int64-min", g, "Literal[-9223372036854775809]"),
        invalid("extra-invalid-required-after-optional", g, "X",
                {"X": {"fields": [["a", "int", 0], ["b", "int"]]}}),
        invalid("extra-invalid-non-empty-list-default", g, "X",
                {"X": {"fields": [["a", "list[int]", [1, "a"]]]}}),
        invalid("extra-invalid-tag-field-conflict-after-rename", g, "X",
                {"X": {"fields": [["kind_x", "int"]], "tag_field": "kindX", "rename": "camel"}}),
        invalid("extra-invalid-mutable-default-before-field-order", g, "X",
                {"X": {"fields": [["a", "int", 0], ["b", "int"], ["c", "list[int]", [1]]]}}),
        invalid("extra-invalid-field-order-before-tag-field", g, "X",
                {"X": {"fields": [["type", "int", 0], ["b", "int"]], "tag": True}}),
        invalid("extra-invalid-nested-list-default", g, "X", {"X": {"fields": [["a", "Any", [[]]]]}}),
        invalid("extra-invalid-int-tag-out-of-range", g, "X",
                {"X": {"fields": [["a", "int"]], "tag": 9223372036854775808}}),
        invalid("extra-invalid-unreached-struct-definition", g, "int",
                {"A": {"fields": [["a", "int", 0], ["b", "int"]]}}),
        invalid("extra-invalid-in-dict-key", g, "dict[str | bytes, int]"),
        invalid("extra-invalid-in-recursive-struct", g, "T",
                {"T": {"fields": [["kids", "list[T] | tuple[T, ...]", []]]}}),
        # Which rule is reported when several are broken (msgspec's order):
        # a second list-like or dict member while collecting (member order),
        # then struct rules, then int64 literals, then array-like / dict-like
        # mixed with structs, then str-likes; a union's own rules before its
        # members' inner types. `Any` stops the collection.
        invalid("extra-invalid-order-dicts-before-lists", g,
                "dict[str, int] | dict[int, str] | list[int] | tuple[int, ...]"),
        invalid("extra-invalid-order-lists-before-dicts", g,
                "list[int] | tuple[int, ...] | dict[str, int] | dict[int, str]"),
        invalid("extra-invalid-order-dict-like-before-str-like", g,
                "str | bytes | P | dict[str, int]", p),
        invalid("extra-invalid-order-array-like-before-str-like", g,
                "str | bytes | Pa | list[int]", pa),
        invalid("extra-invalid-order-structs-before-big-literal", g,
                "Literal[9223372036854775808] | P | C", {**p, **c}),
        invalid("extra-invalid-order-big-literal-before-array-like", g,
                "Pa | list[int] | Literal[9223372036854775808]", pa),
        invalid("extra-invalid-order-outer-before-inner", g, "list[str | bytes] | list[int]"),
        invalid("extra-invalid-order-lists-before-any", g, "list[int] | list[str] | Any"),
        invalid("types-invalid-datetime-and-str", "types-invalid", "datetime.datetime | str"),
        invalid("types-invalid-bytes-and-bytearray", "types-invalid", "bytes | bytearray"),
        invalid("types-invalid-uuid-and-bytes", "types-invalid", "uuid.UUID | bytes"),
        invalid("types-invalid-decimal-and-date", "types-invalid", "decimal.Decimal | datetime.date"),
        invalid("types-invalid-memoryview-and-timedelta", "types-invalid",
                "memoryview | datetime.timedelta"),
        invalid("types-invalid-time-and-literal-str", "types-invalid",
                "datetime.time | Literal['a']"),
        invalid("types-invalid-set-and-list", "types-invalid", "set[int] | list[int]"),
        invalid("types-invalid-frozenset-and-tuple", "types-invalid", "frozenset[int] | tuple[int, ...]"),
        invalid("types-invalid-set-and-array-struct", "types-invalid", "set[int] | Pa", pa),
        invalid("types-invalid-inner-set-conflict", "types-invalid", "list[set[str] | set[int]]"),
        *[invalid(f"types-invalid-meta-{i}", "types-invalid-meta", f"typing.Annotated[{t}]")
          for i, t in enumerate([
              "str, msgspec.Meta(ge=0)", "int | None, msgspec.Meta(ge=0)", "bool, msgspec.Meta(ge=1)",
              "list[int], msgspec.Meta(pattern='a')", "int | str, msgspec.Meta(min_length=1)",
              "str, msgspec.Meta(tz=True)", "datetime.date, msgspec.Meta(tz=True)",
              "tuple[int, int], msgspec.Meta(min_length=1)", "Any, msgspec.Meta(le=1)",
              "int, msgspec.Meta(ge=0), msgspec.Meta(ge=1)", "int, msgspec.Meta(gt=0), msgspec.Meta(ge=1)",
              "int, msgspec.Meta(ge=0.5)", "int, msgspec.Meta(multiple_of=1.5)",
              "int, msgspec.Meta(ge=9223372036854775808)", "int, msgspec.Meta(gt=9223372036854775807)",
              "int, msgspec.Meta(lt=-9223372036854775808)", "int, msgspec.Meta(multiple_of=0)",
              "float, msgspec.Meta(multiple_of=-1.5)", "str, msgspec.Meta(min_length=-1)",
              "str, msgspec.Meta(max_length=1.5)", "str, msgspec.Meta(pattern=1)", "datetime.time, msgspec.Meta(tz=1)",
              "int, msgspec.Meta(gt='a')", "int, msgspec.Meta(ge=True)", "int, msgspec.Meta(gt=1, ge=2)",
              "int, msgspec.Meta(lt=1, le=2)", "str, msgspec.Meta(pattern='a', ge=1)",
              "int, msgspec.Meta(bogus=1)", "set[int] | None, msgspec.Meta(min_length=1)",
          ])],
        *[invalid(f"types-invalid-records-{i}", "types-invalid-records", t, tbl) for i, (t, tbl) in enumerate([
            ("Color | str", {"Color": {"kind": "enum", "members": {"A": "a"}}}),
            ("Color | Literal['a']", {"Color": {"kind": "enum", "members": {"A": "a"}}}),
            ("Level | int", {"Level": {"kind": "enum", "members": {"A": 1}}}),
            ("Level | Literal[3]", {"Level": {"kind": "enum", "members": {"A": 1}}}),
            ("Mixed", {"Mixed": {"kind": "enum", "members": {"A": 1, "B": "b"}}}),
            ("Fl", {"Fl": {"kind": "enum", "members": {"A": 1.5}}}),
            ("Nothing", {"Nothing": {"kind": "enum", "members": {}}}),
            ("A | B", {"A": {"kind": "enum", "members": {"X": "x"}}, "B": {"kind": "enum", "members": {"Y": "y"}}}),
            ("A | B", {"A": {"kind": "enum", "members": {"X": 1}}, "B": {"kind": "enum", "members": {"Y": 2}}}),
            ("Big", {"Big": {"kind": "enum", "members": {"X": 2**63}}}),
            ("T | dict", {"T": {"kind": "typeddict", "fields": [["a", "int"]]}}),
            ("D | T", {"T": {"kind": "typeddict", "fields": [["a", "int"]]}, "D": {"kind": "dataclass", "fields": [["a", "int"]]}}),
            ("D | P", {"D": {"kind": "dataclass", "fields": [["a", "int"]]}, "P": {"fields": [["x", "int"]]}}),
            ("T | U", {"T": {"kind": "typeddict", "fields": [["a", "int"]]}, "U": {"kind": "typeddict", "fields": [["b", "int"]]}}),
            ("D | E", {"D": {"kind": "dataclass", "fields": [["a", "int"]]}, "E": {"kind": "dataclass", "fields": [["b", "int"]]}}),
            ("N | list[int]", {"N": {"kind": "namedtuple", "fields": [["a", "int"]]}}),
            ("N | M", {"N": {"kind": "namedtuple", "fields": [["a", "int"]]}, "M": {"kind": "namedtuple", "fields": [["b", "int"]]}}),
            ("N | Pa", {"N": {"kind": "namedtuple", "fields": [["a", "int"]]}, **pa}),
            ("D", {"D": {"kind": "dataclass", "fields": [["a", "int", 1], ["b", "int"]]}}),
            ("D", {"D": {"kind": "dataclass", "fields": [["a", "list", []]]}}),
            ("N", {"N": {"kind": "namedtuple", "fields": [["a", "int", 1], ["b", "int"]]}}),
            ("U | str", {"U": {"kind": "newtype", "type": "bytes"}}),
        ])],
    ]


def document():
    doc = {
        "format": "pld-vectors/1",
        "source": {
            "impl": "msgspec",
            "version": msgspec.__version__,
            "python": "%d.%d.%d" % sys.version_info[:3],
            "decided_by": "msgspec.msgpack.decode(payload, type=spec), strict",
            "seed": 0,
        },
        "cases": cases(),
        "invalid_specs": invalid_specs(),
    }
    return doc


def render(doc):
    lines = ["{"]
    lines.append(f'  "format": {json.dumps(doc["format"])},')
    lines.append(f'  "source": {json.dumps(doc["source"], ensure_ascii=False)},')
    lines.append('  "cases": [')
    for i, c in enumerate(doc["cases"]):
        sep = "," if i + 1 < len(doc["cases"]) else ""
        lines.append("    " + json.dumps(c, ensure_ascii=False) + sep)
    lines.append("  ],")
    lines.append('  "invalid_specs": [')
    for i, c in enumerate(doc["invalid_specs"]):
        sep = "," if i + 1 < len(doc["invalid_specs"]) else ""
        lines.append("    " + json.dumps(c, ensure_ascii=False) + sep)
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def comparable(text):
    """The document without the interpreter version, which may differ
    between machines without changing any outcome."""
    doc = json.loads(text)
    doc.get("source", {}).pop("python", None)
    return doc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if the committed file differs")
    args = ap.parse_args()
    if msgspec.__version__ != MSGSPEC_VERSION:
        print(f"warning: msgspec {msgspec.__version__}, vectors are pinned to {MSGSPEC_VERSION}",
              file=sys.stderr)
    sys.setrecursionlimit(1000)
    text = render(document())
    if args.check:
        current = OUT.read_text() if OUT.exists() else "{}"
        if comparable(current) != comparable(text):
            print(f"{OUT.relative_to(ROOT)} is stale: rerun {pathlib.Path(__file__).name}",
                  file=sys.stderr)
            return 1
        print(f"{OUT.relative_to(ROOT)} is up to date ({text.count(chr(10))} lines)")
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
