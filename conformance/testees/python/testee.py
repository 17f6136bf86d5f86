#!/usr/bin/env python3
"""A shuttle testee built on Python msgspec: tractor's ten message types
mirrored as msgspec Structs, spoken to over stdin/stdout with the testee
protocol (spec/testee-protocol.md).

    shuttle run --testee "python3 conformance/testees/python/testee.py"

It is both the worked example of a foreign implementation and a
cross-check of the suite against msgspec itself.
"""
from __future__ import annotations

import struct
import sys
from typing import Any, Literal, Union

import msgspec
from msgspec import Raw, Struct

import pld_types

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
    """The type a pld-vectors/1 spec names, its table defined in a module
    `pld` (`pld_types.py`, beside this file)."""
    return pld_types.build(spec, structs)


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
