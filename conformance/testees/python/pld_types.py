"""The Python type a pld-vectors spec names, with its table.

One builder for everything that turns a spec string and its table into a
type msgspec decodes with: the Python testee (`testee.py`), the vector
generator and fuzzer, and the capture verdict tool (`conformance/tools/`).
The table's entries are defined in a fresh module `pld`: `msgspec.Struct`s
(`defstruct`), and with `"kind"` enums, NewTypes, TypedDicts, dataclasses
and NamedTuples (`fixtures/vectors/FORMAT.md` §3.1, §4).
"""
import dataclasses
import datetime
import decimal
import enum
import sys
import types
import typing
import uuid

import msgspec


def build(spec, structs):
    """Return the Python type for `spec` with the table `structs`."""
    mod = types.ModuleType("pld")
    sys.modules["pld"] = mod
    ns = mod.__dict__
    ns.update({"Any": typing.Any, "Literal": typing.Literal, "typing": typing,
               "Annotated": typing.Annotated,
               "datetime": datetime, "uuid": uuid, "decimal": decimal, "msgspec": msgspec})
    for name, d in structs.items():
        kind = d.get("kind", "struct")
        if kind != "struct":
            ns[name] = build_other(name, d, ns)
            continue
        fields = []
        for f in d["fields"]:
            if len(f) == 3:
                default = f[2]
                if default == [] or default == {}:
                    default = msgspec.field(default_factory=type(default))
                fields.append((f[0], f[1], default))
            else:
                fields.append((f[0], f[1]))
        kw = {k: v for k, v in d.items() if k not in ("fields", "kind")}
        ns[name] = msgspec.defstruct(name, fields, module="pld", **kw)
    return eval(spec, dict(ns))  # noqa: S307 - spec strings of the suite


def field_type(t, ns):
    """A field's type: evaluated when it can be (earlier entries), else the
    string, resolved later in module `pld`."""
    try:
        return eval(t, dict(ns))  # noqa: S307 - spec strings of the suite
    except NameError:
        return t


def build_other(name, d, ns):
    """An enum, NewType, TypedDict, dataclass or NamedTuple of the table."""
    kind = d["kind"]
    if kind == "enum":
        base = {"IntEnum": enum.IntEnum, "StrEnum": getattr(enum, "StrEnum", enum.Enum)}.get(
            d.get("base"), enum.Enum)
        cls = base(name, d["members"], module="pld")
    elif kind == "newtype":
        cls = typing.NewType(name, field_type(d["type"], ns))
    elif kind == "typeddict":
        cls = typing.TypedDict(name, {f[0]: field_type(f[1], ns) for f in d["fields"]},
                               total=d.get("total", True))
    elif kind == "dataclass":
        fields = [(f[0], field_type(f[1], ns)) if len(f) == 2 else
                  (f[0], field_type(f[1], ns), dataclasses.field(default=f[2]))
                  for f in d["fields"]]
        cls = dataclasses.make_dataclass(name, fields, frozen=d.get("frozen", False))
    elif kind == "namedtuple":
        env = dict(ns)
        body = []
        for i, f in enumerate(d["fields"]):
            env[f"_t{i}"] = field_type(f[1], ns)
            if len(f) == 3:
                env[f"_d{i}"] = f[2]
                body.append(f"    {f[0]}: _t{i} = _d{i}\n")
            else:
                body.append(f"    {f[0]}: _t{i}\n")
        src = f"class {name}(typing.NamedTuple):\n" + ("".join(body) or "    pass\n")
        exec(src, env)  # noqa: S102 - a table of the suite
        cls = env[name]
    else:
        raise ValueError(f"unknown kind {kind!r}")
    try:
        cls.__module__ = "pld"
    except (AttributeError, TypeError):
        pass
    return cls
