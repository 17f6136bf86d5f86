#!/usr/bin/env python3
"""A shuttle testee built on Python msgspec: tractor's ten message types
mirrored as msgspec Structs, spoken to over stdin/stdout with the testee
protocol (spec/testee-protocol.md).

    shuttle run --testee "python3 conformance/testees/python/testee.py"

It is both the worked example of a foreign implementation and a
cross-check of the suite against msgspec itself.
"""
from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import struct
import sys
import types
import typing
import uuid
from typing import Any, Literal, Union

import msgspec
from msgspec import Raw, Struct

NAME = "python-msgspec"
FEATURES = ["decode", "encode", "payload", "legacy-dict"]


# --- tractor's message types (tractor/msg/types.py), wire order ----------

class Aid(Struct, tag=True, tag_field="msg_type"):
    name: str
    uuid: str
    pid: int | None = None
    is_registrar: bool | None = None
    is_probe: bool = False


class SpawnSpec(Struct, tag=True, tag_field="msg_type"):
    _parent_main_data: dict
    _runtime_vars: dict[str, Any]
    enable_modules: dict[str, str]
    reg_addrs: list[tuple[str, str | int]]
    bind_addrs: list[tuple[str, str | int]] | None


class Start(Struct, tag=True, tag_field="msg_type"):
    cid: str
    ns: str
    func: str
    kwargs: dict[str, Any]
    uid: tuple[str, str]
    pld_spec: str = "typing.Any"


class StartAck(Struct, tag=True, tag_field="msg_type"):
    cid: str
    functype: Literal["asyncfunc", "asyncgen", "context"]


class Started(Struct, tag=True, tag_field="msg_type"):
    cid: str
    pld: Raw


class Yield(Struct, tag=True, tag_field="msg_type"):
    cid: str
    pld: Raw


class Stop(Struct, tag=True, tag_field="msg_type"):
    cid: str


class Return(Struct, tag=True, tag_field="msg_type"):
    cid: str
    pld: Raw


class CancelAck(Struct, tag=True, tag_field="msg_type"):
    cid: str
    pld: bool


# `Error._bad_msg` carries a payload message whose `pld` is decoded as Any.
class _BadStarted(Struct, tag="Started", tag_field="msg_type"):
    cid: str
    pld: Any


class _BadYield(Struct, tag="Yield", tag_field="msg_type"):
    cid: str
    pld: Any


class _BadReturn(Struct, tag="Return", tag_field="msg_type"):
    cid: str
    pld: Any


class Error(Struct, tag=True, tag_field="msg_type"):
    src_uid: tuple[str, str]
    src_type_str: str
    boxed_type_str: str
    relay_path: list[tuple[str, str]]
    message: str | None = None
    tb_str: str = ""
    canceller: tuple[str, str] | None = None
    sender: tuple[str, str] | None = None
    cid: str | None = None
    _bad_msg: _BadStarted | _BadYield | _BadReturn | None = None
    _bad_msg_as_dict: dict | None = None


MsgType = Union[Started, Yield, Return, Aid, SpawnSpec, Start, StartAck, Stop, CancelAck, Error]
DECODER = msgspec.msgpack.Decoder(MsgType)
ENCODER = msgspec.msgpack.Encoder()


# --- payload specs ---------------------------------------------------------

def build_spec(spec: str, structs: dict) -> Any:
    """The type a pld-vectors/1 spec names, its table's entries defined in a
    module `pld` (structs, and with `kind` enums, NewTypes, TypedDicts,
    dataclasses and NamedTuples)."""
    mod = types.ModuleType("pld")
    ns = mod.__dict__
    ns.update({"Any": Any, "Literal": Literal, "Annotated": typing.Annotated, "typing": typing,
               "datetime": datetime, "uuid": uuid, "decimal": decimal, "msgspec": msgspec})
    sys.modules["pld"] = mod

    def field_type(t):
        try:
            return eval(t, dict(ns))
        except NameError:  # a later entry: resolved in module `pld`
            return t

    for name, sdef in structs.items():
        kind = sdef.get("kind", "struct")
        if kind == "enum":
            base = {"IntEnum": enum.IntEnum, "StrEnum": getattr(enum, "StrEnum", enum.Enum)}.get(
                sdef.get("base"), enum.Enum)
            cls = base(name, sdef["members"], module="pld")
        elif kind == "newtype":
            cls = typing.NewType(name, field_type(sdef["type"]))
        elif kind == "typeddict":
            cls = typing.TypedDict(name, {f[0]: field_type(f[1]) for f in sdef["fields"]},
                                   total=sdef.get("total", True))
        elif kind == "dataclass":
            cls = dataclasses.make_dataclass(
                name, [(f[0], field_type(f[1])) if len(f) == 2 else
                       (f[0], field_type(f[1]), dataclasses.field(default=f[2])) for f in sdef["fields"]],
                frozen=sdef.get("frozen", False))
        elif kind == "namedtuple":
            env = dict(ns)
            body = []
            for i, f in enumerate(sdef["fields"]):
                env[f"_t{i}"] = field_type(f[1])
                if len(f) == 3:
                    env[f"_d{i}"] = f[2]
                    body.append(f"    {f[0]}: _t{i} = _d{i}\n")
                else:
                    body.append(f"    {f[0]}: _t{i}\n")
            exec(f"class {name}(typing.NamedTuple):\n" + ("".join(body) or "    pass\n"), env)
            cls = env[name]
        else:
            fields = []
            for f in sdef["fields"]:
                if len(f) == 3:
                    fields.append((f[0], f[1], f[2]))
                else:
                    fields.append((f[0], f[1]))
            opts = {k: sdef[k] for k in ("tag", "tag_field", "array_like", "forbid_unknown_fields",
                                         "omit_defaults", "rename", "frozen") if k in sdef}
            cls = msgspec.defstruct(name, fields, module="pld", **opts)
        try:
            cls.__module__ = "pld"
        except (AttributeError, TypeError):
            pass
        setattr(mod, name, cls)
    return eval(spec, dict(ns))


# --- the protocol ---------------------------------------------------------

class Request(Struct):
    type: str
    id: int = 0
    suite_version: str = ""
    body: bytes = msgspec.field(default=b"", name="bytes")
    message: Raw = Raw(b"\xc0")
    spec: str = ""
    structs: dict = {}
    payload: bytes = b""
    dialect: str = ""


LEGACY_KINDS = {"cmd": "cmd", "functype": "functype", "started": "started", "yield": "yield",
                "return": "return", "stop": "stop", "error": "error", "_parent_main_data": "spawnspec"}


def legacy_kind(msg) -> str:
    """The kind of a dict-dialect message, named as the suite names it."""
    if msg is None:
        return "terminate"
    if isinstance(msg, list):
        return "handshake"
    return next((LEGACY_KINDS[k] for k in msg if k in LEGACY_KINDS), "?")


def read_frame(stream) -> bytes | None:
    head = stream.read(4)
    if len(head) < 4:
        return None
    (n,) = struct.unpack("<I", head)
    body = stream.read(n)
    if len(body) < n:
        return None
    return body


def write_frame(stream, obj) -> None:
    body = msgspec.msgpack.encode(obj)
    stream.write(struct.pack("<I", len(body)) + body)
    stream.flush()


def error(rid: int, exc: BaseException) -> dict:
    return {"id": rid, "status": "error", "class": type(exc).__name__, "text": str(exc)}


def answer(req: Request) -> dict:
    rid = req.id
    try:
        if req.type == "decode" and req.dialect == "dict":
            # tractor 0.1.0a5 decodes untyped and writes dicts back in order.
            msg = msgspec.msgpack.decode(req.body)
            return {"id": rid, "status": "ok", "msg_type": legacy_kind(msg), "bytes": ENCODER.encode(msg)}
        if req.type == "decode":
            msg = DECODER.decode(req.body)
            return {"id": rid, "status": "ok", "msg_type": type(msg).__name__, "bytes": ENCODER.encode(msg)}
        if req.type == "encode":
            msg = DECODER.decode(bytes(req.message))
            return {"id": rid, "status": "ok", "msg_type": type(msg).__name__, "bytes": ENCODER.encode(msg)}
        if req.type == "validate":
            try:
                spec = build_spec(req.spec, req.structs)
                dec = msgspec.msgpack.Decoder(spec)
            except Exception as exc:  # a spec msgspec refuses
                return {"id": rid, "status": "skipped", "reason": f"spec refused: {exc}"}
            dec.decode(req.payload)
            return {"id": rid, "status": "ok"}
        return {"id": rid, "status": "skipped", "reason": f"{req.type} is not implemented"}
    except (msgspec.DecodeError, UnicodeDecodeError, ValueError, RecursionError,
            TypeError, OverflowError) as exc:
        # TypeError: a set item Python cannot hash; OverflowError: a
        # duration past timedelta's range.
        return error(rid, exc)


def main() -> None:
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    request_decoder = msgspec.msgpack.Decoder(Request)
    while (body := read_frame(inp)) is not None:
        req = request_decoder.decode(body)
        if req.type == "hello":
            write_frame(out, {"type": "hello", "name": NAME, "version": msgspec.__version__, "features": FEATURES})
        else:
            write_frame(out, answer(req))


if __name__ == "__main__":
    main()
