#!/usr/bin/env python3
"""Generate the str-forms corpus: msgspec's verdicts on the str forms of
datetime, date, time, timedelta, UUID (and UUID bytes) and Decimal.

Every verdict is decided by running msgspec (0.22.0) on the input:
``msgspec.msgpack.decode(msgspec.msgpack.encode(value), type=T)`` in strict
mode. Nothing is hand-written: the script only picks inputs (hand-picked
edge cases plus seeded random strings and mutations of valid ones) and
records what msgspec did. The output is deterministic for a given seed,
count, msgspec and Python (Python's Unicode tables decide which non-ASCII
digits ``Decimal`` accepts, so the header names the Python version).

Usage (from the repository root; use tractor's interpreter):

    /work/venv-tractor/bin/python conformance/tools/gen_form_cases.py \
        [--random 600] [--seed 19] [--out fixtures/vectors/str-forms.json]

The Rust test ``pld_spec::forms::tests::forms_match_msgspec_corpus`` reads
the fixture; set ``STR_FORMS_FIXTURE=/path/to/big.json`` to run it on a
larger corpus generated with a bigger ``--random``.
"""

import argparse
import datetime
import decimal
import json
import platform
import random
import sys
import uuid

import msgspec

TYPES = {
    "datetime": datetime.datetime,
    "date": datetime.date,
    "time": datetime.time,
    "timedelta": datetime.timedelta,
    "uuid": uuid.UUID,
    "uuid_bytes": uuid.UUID,
    "decimal": decimal.Decimal,
}

NON_ASCII_DIGITS = "\u0661\u0967\uff11\U0001d7d9\u19d1\U00011f51\U0001e4f1\u00b2\u2460"
SPACES = " \t\n\x0b\x0c\r\x1c\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\u200b"


def decide(kind, value):
    """Run msgspec; return (ok, error, exc, tz)."""
    try:
        out = msgspec.msgpack.decode(msgspec.msgpack.encode(value), type=TYPES[kind])
    except msgspec.ValidationError as e:
        return False, str(e), "ValidationError", None
    except (OverflowError, ValueError) as e:
        return False, str(e), type(e).__name__, None
    tz = None
    if kind in ("datetime", "time"):
        tz = "naive" if out.tzinfo is None else "aware"
    return True, None, None, tz


# --------------------------------------------------------------- edge cases


def datetime_edges():
    out = []
    dates = [
        "2020-01-01", "2020-02-29", "2019-02-29", "2000-02-29", "1900-02-29",
        "2100-02-29", "2400-02-29", "0001-01-01", "0000-01-01", "9999-12-31",
        "2020-04-31", "2020-06-30", "2020-12-32", "2020-00-10", "2020-13-01",
        "2020-01-00", "1999-12-31", "2019-02-28", "2020-11-30", "2021-1-01",
        "20200-01-01", "2020/01/01", "2020-01-0a",
    ]
    times = [
        "00:00:00", "23:59:59", "24:00:00", "23:60:00", "23:59:60", "12:34:56",
        "1:00:00", "12:0:00", "12:00:0", "12-00-00", "12:00",
    ]
    fracs = [
        "", ".", ".0", ".5", ".123", ".123456", ".1234564", ".1234565",
        ".9999994", ".9999995", ".99999949999", ".999999", ".9999999999999999999999",
        ".000000", ".0000005", ".12345678901234567890123", ".a", ".1a", ".12345a",
    ]
    tzs = [
        "", "Z", "z", "+00:00", "-00:00", "+0000", "+23:59", "-23:59", "+24:00",
        "+23:60", "+05:30", "-0530", "+05", "+5:30", "+05:3", "+05:300", "+05::30",
        "Zz", "Z ", " Z", "UTC", "+", "-", "+05:30Z", "\x00", "\x00junk", "+05\x0030",
    ]
    for d in dates:
        out.append(d + "T12:00:00")
    for t in times:
        out.append("2020-06-15T" + t)
    for sep in "Tt _\x00":
        out.append("2020-06-15" + sep + "12:00:00")
    for f in fracs:
        out.append("2020-06-15T12:00:00" + f)
        out.append("2020-06-15T12:00:00" + f + "Z")
    for z in tzs:
        out.append("2020-06-15T12:00:00" + z)
        out.append("2020-06-15T12:00:00.5" + z)
    # round-ups carrying across day, month and year ends
    for d in ["2020-02-28", "2020-02-29", "2019-02-28", "2020-12-31", "2020-04-30",
              "9999-12-31", "9999-12-30", "9999-11-30", "0001-01-01", "1900-02-28",
              "2000-02-28", "2020-01-31"]:
        for t in ["23:59:59.9999995", "23:59:59.9999994", "23:59:59.99999950",
                  "23:59:58.9999995", "23:58:59.9999995", "22:59:59.9999995",
                  "23:59:59.999999", "23:59:59.99999999999"]:
            for z in ["", "Z", "+01:00", "-23:59"]:
                out.append(d + "T" + t + z)
    out += [
        "", "2020-01-01", "2020-01-01T", "2020-01-01T12:00:0", "2020-01-01T12:00:00 ",
        " 2020-01-01T12:00:00", "\uff12020-01-01T12:00:00", "2020-01-01T12:00:0\u0661",
        "2020-01-01T12:00:00.\u0661", "2020-01-01T12:00:00+0\u0661:00", "2020-01-01T12:00:00é",
    ]
    return out


def date_edges():
    out = []
    for y in ["0000", "0001", "1900", "2000", "2019", "2020", "2100", "2400", "9999"]:
        for m in ["00", "01", "02", "04", "12", "13"]:
            for d in ["00", "01", "28", "29", "30", "31", "32"]:
                out.append(f"{y}-{m}-{d}")
    out += [
        "", "2020-01-1", "2020-1-01", "2020-01-011", "2020-01-01 ", " 2020-01-01",
        "2020/01/01", "20200101", "2020-01-01T00:00:00", "2020-01-01Z", "+2020-01-1",
        "2020-01-0\u0661", "2020-01-\x0001", "2020-01-01\x00", "abcd-ef-gh", "2020-0a-01",
    ]
    return out


def time_edges():
    out = []
    for t in ["00:00:00", "23:59:59", "24:00:00", "23:60:00", "23:59:60", "12:00:00",
              "99:99:99", "1:00:00", "12:00", "12:00:0", "12-00-00", "12:00:00:00"]:
        out.append(t)
    for f in ["", ".", ".5", ".000001", ".9999995", ".9999994", ".999999", ".12345678",
              ".1234565", ".99999999999999999999", ".a", ".5a", ".\x00"]:
        for z in ["", "Z", "z", "+00:00", "-00:00", "+0000", "+23:59", "+24:00", "-12:60",
                  "+5", "+05", "+05:3", "+053", "+05:30:00", "Z0", "\x00", "\x00x", " "]:
            out.append("12:00:00" + f + z)
            out.append("23:59:59" + f + z)
    out += ["", "1", "12:00:0", "12:00:00\x00garbage", "\u0661\u0662:00:00", "12:00:00é"]
    return out


def timedelta_edges():
    out = [
        "", "P", "-P", "+P", "-", "+", "PT", "P0D", "P1D", "p1d", "-P1D", "+P1D", "--P1D",
        "PT1H", "PT1M", "PT1S", "PT1H1M1S", "P1DT1H1M1S", "P1DT", "P1H", "P1S", "P1M",
        "P1Y", "P1W", "p1w", "p1y", "PT1Y", "PT1W", "PT1D", "P1DT1D", "PT1S1M", "PT1M1H",
        "PT1H1H", "PTT1H", "PT1HT", "P1D1D", "P1.5D", "PT1.5H", "PT1.5M", "PT1.5S",
        "P1.5DT1H", "PT1.5H1S", "PT1H1.5S", "P.5D", "P1.D", "P1.", "P1", "PT1", "PT1.5",
        "P0.00000000001D", "P0.000000000001D", "P0.000000000005D", "P0.0000000000049D",
        "PT0.0000005S", "PT0.0000004999S", "-PT0.0000005S", "-PT0.0000004S",
        "PT0.9999995S", "PT0.99999949S", "-PT0.9999995S", "P0.999999999999999999999D",
        "P999999999D", "P1000000000D", "P999999999DT23H59M59S", "P999999999DT23H59M59.999999S",
        "P999999999DT23H59M59.9999995S", "P999999999DT86399S", "P999999999DT86400S",
        "-P999999999D", "-P999999999DT0.5S", "-P999999998DT86399.999999S",
        "-P999999998DT86400S", "-P999999998DT86400.5S",
        "PT86399999999999S", "PT86400000000000S", "-PT86399999913600S", "-PT86399999913601S",
        "PT140737488355328S", "PT140737488355329S", "PT1407374883553280S",
        "PT140737488355328.5S", "PT1440000000000M", "PT24000000000H",
        "P140737488355328D", "P140737488355327D", "P106751991167300D", "P106751991167301D",
        "P106751991167302D", "P120000000000000D", "P130000000000000D", "-P140737488355328D",
        "-P106751991167301D", "P106751991167301DT1H", "P140737488355328DT1S",
        "P106751991167300.9D", "P106751991167301.5D", "P000000000000000000000001D",
        "P1d", "pt1h", "Pt1H", "P1DT1h1m1s", "P1\x00D", "P1D\x00", "P 1D", "P1 D",
        "P\u0661D", "PT\uff11S", "P1Dé", "PT-1S", "P-1D", "P+1D", "PT1e3S", "PT1,5S",
    ]
    return out


def uuid_edges():
    base = "12345678-9abc-def0-1234-56789abcdef0"
    out = [
        base, base.upper(), base.replace("-", ""), base.replace("-", "").upper(), "",
        base[:-1], base + "0", "{" + base + "}", base.replace("-", "_"),
        "12345678-9abc-def01234-56789abcdef0-", "123456789abc-def0-1234-56789abcdef0-",
        base.replace("a", "g"), base.replace("a", "\u0661"), "urn:uuid:" + base,
        "0" * 32, "0" * 31, "0" * 33, "0" * 36, "-" * 36, "f" * 32, "F" * 32, "é" * 16,
        "0" * 30 + "é", "0" * 34 + "é", base[:8] + "\x00" + base[9:],
    ]
    return out


def decimal_edges():
    out = [
        "", "0", "-0", "+0", "1", "-1", "+1", "1.", ".1", ".", "-.", "+.5", "1.5", "1..5",
        "1.5.", "00012", "0.000", "1e5", "1E5", "1e+5", "1e-5", "1e", "1e+", "e5", ".e5",
        "1.e5", "0.e5", "1e5.0", "1e5e5", "1ee5", "--1", "+-1", "1-", "1+",
        "inf", "Inf", "INF", "iNf", "infinity", "Infinity", "INFINITY", "infinit",
        "infinityy", "infinity0", "inf0", "-inf", "+Infinity", "nan", "NaN", "NAN", "-nan",
        "nan0", "nan123", "nan0001", "NaN1.5", "nan-1", "nanx", "snan", "sNaN", "SNAN",
        "snan123", "-snan0", "snan1e5", "nan" + "9" * 50, "qnan", "na", "s", "i",
        "1e999999999999999999", "1e1000000000000000000", "12e999999999999999998",
        "12e999999999999999997", "0.1e1000000000000000000", "0e999999999999999999",
        "0e1000000000000000000", "0e-1999999999999999997", "0e-1999999999999999998",
        "0e-2000000000000000000", "1e-1999999999999999997", "1e-1999999999999999998",
        "10e-1999999999999999998", "0.1e-1999999999999999996", "0.1e-1999999999999999997",
        "1e-999999999999999999", "1e-1000000000000000000", "1e9223372036854775807",
        "1e9223372036854775808", "1e-9223372036854775808", "1e-9223372036854775809",
        "1e99999999999999999999999999", "1e-99999999999999999999999999",
        "0e99999999999999999999999999", "0e-99999999999999999999999999",
        "0.0000000000000000000000000000000001e-1999999999999999962",
        "0.0000000000000000000000000000000001e-1999999999999999963",
        "1" * 300, "0." + "0" * 300 + "1", "1" * 100 + "e999999999999999900",
        "1" * 100 + "e999999999999999899",
        " 1", "1 ", " 1 ", "1 2", "\t1\n", "\x1c1\x1d", "\x1e1\x1f", "\x851\xa0",
        "\u30001\u3000", "\u20281\u2029", "\u200b1", "1\u200b", "1\u30002", " ", "\u3000",
        "_", "__", "1_000", "1__000", "_1", "1_", "_1_", "1_.5", "1._5", "._5", "1e_5",
        "1_e5", "1e5_", "-_1", "_-1", "n_an", "in_f", "infin_ity", "nan_1", "_ 1", "1 _",
        " _1_ ", "_\u3000", "\u3000_1",
        "\u0661", "\u0661\u0662\u0663", "-\u0661.\u0662e\u0663", "\uff11\uff12", "\U0001d7d9",
        "\U00011f51", "\U0001e4f1", "\u00b2", "\u2460", "nan\u0661", "1e\u0661", "\u0967",
        "1\x00", "\x00", "\x001", "1\x7f", "１.５", "\uff0e5", "1\uff45" "5",
        "١٢٣.٤٥", "Ⅻ", "½",
    ]
    return out


def uuid_bytes_edges():
    return [bytes(range(n)) for n in [0, 1, 15, 16, 17, 32, 36]] + [b"\xff" * 16]


# ------------------------------------------------------------------ random

MUTATION_CHARS = (
    "0123456789" "0123456789" "-:.+ TtZzPpDdHhMmSsWwYyEe_" "aAfFgnNiIx"
    "\x00\t" + NON_ASCII_DIGITS + SPACES[:6] + "é"
)


def mutate(rng, s):
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        op = rng.randrange(6)
        i = rng.randrange(len(s) + 1)
        if op == 0 and s:
            s = s[:i] + s[i + 1:]
        elif op == 1:
            s = s[:i] + rng.choice(MUTATION_CHARS) + s[i:]
        elif op == 2 and s:
            i = min(i, len(s) - 1)
            s = s[:i] + rng.choice(MUTATION_CHARS) + s[i + 1:]
        elif op == 3:
            s = s[:i]
        elif op == 4 and s:
            j = rng.randrange(len(s) + 1)
            s = s[:min(i, j)] + s[min(i, j):max(i, j)] * 2 + s[max(i, j):]
        elif op == 5 and s:
            s = s[:i] + s[i:].swapcase()
    return s


def rand_digits(rng, n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def rand_frac(rng):
    r = rng.random()
    if r < 0.3:
        return ""
    if r < 0.5:
        return "." + "9" * rng.randrange(1, 12)
    return "." + rand_digits(rng, rng.choice([1, 2, 3, 6, 7, 8, 9, 12, 20]))


def rand_tz(rng):
    r = rng.random()
    if r < 0.3:
        return ""
    if r < 0.45:
        return rng.choice("Zz")
    h = rng.choice([0, 1, 5, 12, 23, 23, 24, 99, rng.randrange(100)])
    m = rng.choice([0, 30, 59, 59, 60, rng.randrange(100)])
    sep = rng.choice([":", ":", ""])
    return f"{rng.choice('+-')}{h:02d}{sep}{m:02d}"


def rand_date(rng):
    y = rng.choice([1, 4, 100, 400, 1900, 2000, 2020, 2023, 9999, rng.randrange(10000)])
    m = rng.choice([1, 2, 2, 12, 0, 13, rng.randrange(1, 13)])
    d = rng.choice([1, 28, 29, 30, 31, 0, 32, rng.randrange(1, 32)])
    return f"{y:04d}-{m:02d}-{d:02d}"


def rand_time(rng):
    if rng.random() < 0.3:
        return "23:59:59"
    h = rng.choice([0, 12, 23, 24, rng.randrange(24)])
    mi = rng.choice([0, 59, 60, rng.randrange(60)])
    s = rng.choice([0, 59, 60, rng.randrange(60)])
    return f"{h:02d}:{mi:02d}:{s:02d}"


def rand_datetime(rng):
    sep = rng.choice("TTTt ")
    return rand_date(rng) + sep + rand_time(rng) + rand_frac(rng) + rand_tz(rng)


def rand_timedelta(rng):
    def num():
        r = rng.random()
        if r < 0.5:
            n = str(rng.randrange(100))
        elif r < 0.7:
            n = rand_digits(rng, rng.randrange(1, 20))
        else:
            n = str(rng.choice([999999999, 1000000000, 86399999999999, 86400000000000,
                                2 ** 47, 2 ** 47 + 1, 106751991167300, 106751991167301,
                                rng.randrange(106751991167300, 2 ** 47 + 1),
                                rng.randrange(2 ** 47 * 10)]))
        if rng.random() < 0.25:
            n += "." + rand_digits(rng, rng.choice([1, 3, 6, 7, 11, 12, 15]))
        return n

    s = rng.choice(["", "", "-", "+"]) + rng.choice("PPPp")
    if rng.random() < 0.6:
        s += num() + rng.choice("DDDd")
    if rng.random() < 0.8:
        s += rng.choice("TTTt")
        for u in "HMS":
            if rng.random() < 0.5:
                s += num() + rng.choice([u, u, u.lower()])
    return s


def rand_uuid(rng):
    u = str(uuid.UUID(int=rng.getrandbits(128)))
    r = rng.random()
    if r < 0.3:
        u = u.replace("-", "")
    elif r < 0.5:
        u = u.upper()
    return u


def rand_decimal(rng):
    r = rng.random()
    sign = rng.choice(["", "", "-", "+"])
    if r < 0.15:
        word = rng.choice(["inf", "infinity", "nan", "snan"])
        word = "".join(c.upper() if rng.random() < 0.5 else c for c in word)
        if "nan" in word.lower() and rng.random() < 0.5:
            word += rand_digits(rng, rng.randrange(1, 6))
        s = sign + word
    else:
        intpart = rand_digits(rng, rng.choice([0, 1, 1, 2, 5, 20]))
        s = sign + intpart
        if rng.random() < 0.4:
            s += "." + rand_digits(rng, rng.choice([0, 1, 3, 10]))
        if rng.random() < 0.4:
            e = rng.choice([rng.randrange(-30, 30), 999999999999999999, -999999999999999999,
                            -1999999999999999997, -1999999999999999998, 10 ** 18,
                            2 ** 63 - 1, -(2 ** 63), rng.randrange(-(10 ** 19), 10 ** 19)])
            e += rng.choice([0, 0, -1, 1, -2, 2])
            es = str(e)
            if e >= 0 and rng.random() < 0.3:
                es = "+" + es
            s += rng.choice("eE") + es
    if rng.random() < 0.2:
        i = rng.randrange(len(s) + 1)
        s = s[:i] + "_" + s[i:]
    if rng.random() < 0.1:
        s = rng.choice(SPACES) + s + rng.choice(SPACES)
    if rng.random() < 0.1:
        s = "".join(rng.choice(NON_ASCII_DIGITS[:7]) if c == "1" else c for c in s)
    return s


NOISE_ALPHABETS = {
    "datetime": "0123456789-:.T Zz+",
    "date": "0123456789-",
    "time": "0123456789:.Z+-",
    "timedelta": "0123456789.PTDHMSWYptdhms+-",
    "uuid": "0123456789abcdefABCDEFg-",
    "decimal": "0123456789._+-eEinfatyNIsS \u3000\u0661",
}


def noise(rng, kind, template):
    """A random string over the type's alphabet, as long as a typical
    valid one (give or take), to reach states mutations miss."""
    n = max(0, len(template) + rng.randrange(-3, 4))
    return "".join(rng.choice(NOISE_ALPHABETS[kind]) for _ in range(n))


GENERATORS = {
    "datetime": (datetime_edges, rand_datetime),
    "date": (date_edges, rand_date),
    "time": (time_edges, lambda rng: rand_time(rng) + rand_frac(rng) + rand_tz(rng)),
    "timedelta": (timedelta_edges, rand_timedelta),
    "uuid": (uuid_edges, rand_uuid),
    "decimal": (decimal_edges, rand_decimal),
}


def build(n_random, seed):
    cases = []
    for kind, (edges, gen) in GENERATORS.items():
        rng = random.Random(f"{seed}-{kind}")
        inputs = list(edges())
        for _ in range(n_random):
            s = gen(rng)
            inputs.append(s)
            inputs.append(mutate(rng, s))
            if rng.random() < 0.25:
                inputs.append(noise(rng, kind, s))
        seen = set()
        for s in inputs:
            if s in seen:
                continue
            seen.add(s)
            ok, error, exc, tz = decide(kind, s)
            case = {"type": kind, "input": s, "ok": ok, "error": error}
            if exc not in (None, "ValidationError"):
                case["exc"] = exc
            if tz is not None:
                case["tz"] = tz
            cases.append(case)
    for b in uuid_bytes_edges():
        ok, error, exc, _ = decide("uuid_bytes", b)
        cases.append({"type": "uuid_bytes", "input_hex": b.hex(), "ok": ok, "error": error})
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random", type=int, default=600, help="random inputs per type (each also mutated once)")
    ap.add_argument("--seed", default="19")
    ap.add_argument("--out", default="fixtures/vectors/str-forms.json")
    args = ap.parse_args()
    cases = build(args.random, args.seed)
    doc = {
        "format": "str-forms/1",
        "source": {
            "impl": "msgspec",
            "version": msgspec.__version__,
            "python": platform.python_version(),
            "decided_by": "msgspec.msgpack.decode(msgspec.msgpack.encode(input), type=T), strict",
            "generator": "conformance/tools/gen_form_cases.py",
            "seed": args.seed,
            "random_per_type": args.random,
        },
        "types": {
            "datetime": "datetime.datetime", "date": "datetime.date", "time": "datetime.time",
            "timedelta": "datetime.timedelta", "uuid": "uuid.UUID (str)",
            "uuid_bytes": "uuid.UUID (bin, input_hex)", "decimal": "decimal.Decimal",
        },
        "cases": cases,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("{\n")
        for key in ("format", "source", "types"):
            f.write(f"{json.dumps(key)}: {json.dumps(doc[key], ensure_ascii=False)},\n")
        f.write('"cases": [\n')
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
        f.write("\n]}\n")
    by = {}
    for c in cases:
        k = by.setdefault(c["type"], [0, 0])
        k[0 if c["ok"] else 1] += 1
    print(f"{len(cases)} cases -> {args.out}", file=sys.stderr)
    for k, (ok, bad) in by.items():
        print(f"  {k}: {ok} ok, {bad} rejected", file=sys.stderr)


if __name__ == "__main__":
    main()
