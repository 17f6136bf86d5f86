#!/usr/bin/env python3
"""Re-decide pld-vectors files with the msgspec installed here and list the
cases whose verdict or error text differs from the recorded one.

The vectors name the msgspec (and Python) that decided them; this shows
what another version decides differently, e.g. msgspec 0.23:

    python -m venv /tmp/ms23 && /tmp/ms23/bin/pip install msgspec==0.23.0
    /tmp/ms23/bin/python conformance/tools/redecide_pld_vectors.py \\
        fixtures/vectors/pld-vectors.json fixtures/vectors/extra-pld-vectors.json

Prints one line per differing case and a count per file; exits 0 either
way (differences are findings, not failures).
"""

import base64
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gen_pld_vectors as gen  # noqa: E402  (build() and case())

import msgspec  # noqa: E402


def outcome(c):
    keys = ("ok", "error_type", "error")
    return tuple(c.get(k) for k in keys)


def main(paths):
    print(f"msgspec {msgspec.__version__}, Python {'.'.join(map(str, sys.version_info[:3]))}")
    for path in paths:
        doc = json.loads(pathlib.Path(path).read_text())
        differ = 0
        for c in doc.get("cases", []):
            payload = base64.b64decode(c["payload_b64"])
            try:
                now = gen.case(c["id"], c.get("group", ""), c["spec"], payload, c.get("structs") or {})
            except Exception as e:  # the spec itself is refused by this version
                now = {"ok": False, "error_type": "spec:" + type(e).__name__, "error": str(e)}
            if outcome(now) != outcome(c):
                differ += 1
                print(f"  {c['id']}: {outcome(c)} -> {outcome(now)}")
        for c in doc.get("invalid_specs", []):
            try:
                now = gen.invalid(c["id"], c.get("group", ""), c["spec"], c.get("structs") or {})
                got = (now["error_type"], now["error_reason"])
            except SystemExit:
                got = ("accepted", "")
            if got != (c["error_type"], c["error_reason"]):
                differ += 1
                print(f"  {c['id']}: {(c['error_type'], c['error_reason'])} -> {got}")
        print(f"{path}: {differ} differ")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
