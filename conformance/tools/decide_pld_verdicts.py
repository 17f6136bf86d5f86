#!/usr/bin/env python3
"""Write a typed capture's `pld_verdicts`, decided by msgspec.

A recording of a typed scenario carries its endpoints' payload specs
(`pld_specs`, given to `shuttle record --pld-specs`) but no verdicts: the
specs never travel on the wire. This decodes the payload of every
`Started`, `Yield` and `Return` of a dialog whose endpoint (`Start.ns`,
`Start.func`) has a spec with `msgspec.msgpack.decode(pld, type=spec)`,
as tractor's receiving side does, and stores the outcomes, so that
`shuttle check` compares shuttle's verdicts with msgspec's.

    python3 conformance/tools/decide_pld_verdicts.py CAPTURE.json   # rewrites it
"""
import base64
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gen_pld_vectors as gen  # noqa: E402  (build(): spec string + table -> type)

import msgspec  # noqa: E402


class Envelope(msgspec.Struct):
    msg_type: str
    cid: str = ""
    ns: str = ""
    func: str = ""
    pld: msgspec.Raw = msgspec.Raw(b"\xc0")


def main(path):
    p = pathlib.Path(path)
    cap = json.loads(p.read_text())
    specs = {(s["ns"], s["func"]): gen.build(s["spec"], s.get("structs") or {})
             for s in cap.get("pld_specs", [])}
    verdicts = []
    for ch, channel in enumerate(cap["channels"]):
        endpoint = {}
        for i, f in enumerate(channel["frames"]):
            body = base64.b64decode(f["msgpack_b64"])
            try:
                m = msgspec.msgpack.decode(body, type=Envelope)
            except msgspec.ValidationError:
                continue
            if m.msg_type == "Start":
                endpoint[m.cid] = (m.ns, m.func)
                continue
            spec = specs.get(endpoint.get(m.cid))
            if spec is None or m.msg_type not in ("Started", "Yield", "Return"):
                continue
            v = {"channel": ch, "frame": i, "cid": m.cid, "msg_type": m.msg_type}
            try:
                msgspec.msgpack.decode(bytes(m.pld), type=spec)
                v["ok"] = True
            except msgspec.ValidationError as e:
                v.update(ok=False, error=str(e))
            verdicts.append(v)
    cap["pld_verdicts"] = verdicts
    p.write_text(json.dumps(cap, indent=1, ensure_ascii=False) + "\n")
    print(f"{p}: {len(verdicts)} verdicts, {sum(not v['ok'] for v in verdicts)} rejected")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
