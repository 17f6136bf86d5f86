#!/usr/bin/env bash
# Seeds every fuzz target's corpus from the recorded frames and files in fixtures/.
set -euo pipefail
cd "$(dirname "$0")"
python3 - <<'PY'
import base64, glob, json, os, struct
root = ".."
def put(target, name, data):
    d = f"corpus/{target}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/{name}", "wb") as f:
        f.write(data)
wire = open(f"{root}/fixtures/bench/corpus-small.wire", "rb").read()
i = n = 0
bodies = []
while i < len(wire):
    (ln,) = struct.unpack_from("<I", wire, i)
    bodies.append(wire[i + 4:i + 4 + ln]); i += 4 + ln
for k, b in enumerate(bodies):
    put("envelope_decode", f"frame{k:04}", b)
for v in json.load(open(f"{root}/fixtures/vectors/pld-vectors.json"))["cases"]:
    put("pld_validate", v["id"], bytes([sum(v["spec"].encode()) % 18]) + base64.b64decode(v["payload_b64"]))
    put("frame_splitter", f"frame{k:04}", struct.pack("<I", len(b)) + b)
for p in sorted(glob.glob(f"{root}/fixtures/captures/python-tractor-0.1.0a5/*.json")):
    if p.endswith("index.json"): continue
    cap = json.load(open(p))
    for c, ch in enumerate(cap["channels"]):
        for k, fr in enumerate(ch["frames"]):
            put("legacy_decode", f"{os.path.basename(p)}-{c}-{k}", base64.b64decode(fr["msgpack_b64"]))
for p in sorted(glob.glob(f"{root}/fixtures/captures/python-tractor/*.json"))[:12]:
    if p.endswith("index.json"): continue
    cap = json.load(open(p))
    ch = cap["channels"][0]
    out = b""
    for fr in ch["frames"]:
        b = base64.b64decode(fr["msgpack_b64"])[:127]
        out += bytes([len(b) | (0 if fr["from"] == ch["a"] else 0x80)]) + b
    put("dialog_machine", os.path.basename(p), out)
    put("case_and_capture_files", os.path.basename(p), open(p, "rb").read()[:4096])
# The actor's channel: the caller's side of each recorded spawn channel, as
# on the socket, after the handshake byte (odd: the target adds an Aid).
for p in sorted(glob.glob(f"{root}/fixtures/captures/python-tractor/*.json")):
    if p.endswith("index.json"): continue
    cap = json.load(open(p))
    ch = cap["channels"][0]
    out = b"\x00"
    for fr in ch["frames"]:
        if fr["from"] == ch["b"]:
            b = base64.b64decode(fr["msgpack_b64"])
            out += struct.pack("<I", len(b)) + b
    put("actor_channel", os.path.basename(p), out[:65536])
put("testee_response", "ok", struct.pack("<I", 16) + bytes.fromhex("83a26964 01a6737461747573a26f6b".replace(" ", ""))[:16])
PY
echo "seeded: $(ls corpus | tr '\n' ' ')"
