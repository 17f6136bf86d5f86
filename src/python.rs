//! Python's `repr()` of the values the protocol carries, as msgspec and
//! tractor put them into error texts (`Invalid value 'x'`, a
//! `MsgTypeError`'s payload). The one place for it: strs, bytes, floats,
//! payloads decoded as `Any`, and the spec language's literals.
//!
//! ```
//! use shuttle::python;
//! assert_eq!(python::str_repr("it's"), r#""it's""#);
//! assert_eq!(python::bytes_repr(b"\x00a"), r"b'\x00a'");
//! assert_eq!(python::float_repr(1e16), "1e+16");
//! let raw = shuttle::Raw::encode(&(1, "a", [0.5])).unwrap();
//! assert_eq!(python::payload_repr(&raw), ("[1, 'a', [0.5]]".to_string(), "<class 'list'>"));
//! ```

use crate::Raw;

/// Python's `repr()` of a str, as msgspec puts it in `Invalid value ...`.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if !printable(c) => {
                let u = c as u32;
                if u < 0x100 {
                    out.push_str(&format!("\\x{u:02x}"))
                } else if u < 0x10000 {
                    out.push_str(&format!("\\u{u:04x}"))
                } else {
                    out.push_str(&format!("\\U{u:08x}"))
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable()` for one character, for the characters
/// that matter in practice: separators other than the space (Zs, Zl, Zp),
/// format characters (Cf) and private use (Co) are not printable. (Python
/// also escapes unassigned code points, which would need Unicode tables.)
fn printable(c: char) -> bool {
    !matches!(c as u32,
        0xa0 | 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890 | 0x891 | 0x8e2
        | 0x1680 | 0x180e | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064
        | 0x2066..=0x206f | 0x3000 | 0xd800..=0xf8ff | 0xfeff | 0xfff9..=0xfffb
        | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a
        | 0xe0001 | 0xe0020..=0xe007f | 0xf0000..=0x10ffff)
}

/// Python's `repr()` and `type()` of a payload decoded as `Any`.
pub fn payload_repr(pld: &Raw<'_>) -> (String, &'static str) {
    match pld.to_value() {
        Ok(v) => {
            let ty = match v.as_rmpv() {
                rmpv::Value::Nil => "<class 'NoneType'>",
                rmpv::Value::Boolean(_) => "<class 'bool'>",
                rmpv::Value::Integer(_) => "<class 'int'>",
                rmpv::Value::F32(_) | rmpv::Value::F64(_) => "<class 'float'>",
                rmpv::Value::String(_) => "<class 'str'>",
                rmpv::Value::Binary(_) => "<class 'bytes'>",
                rmpv::Value::Array(_) => "<class 'list'>",
                rmpv::Value::Map(_) => "<class 'dict'>",
                rmpv::Value::Ext(-1, _) => "<class 'datetime.datetime'>",
                rmpv::Value::Ext(..) => "<class 'msgspec.msgpack.Ext'>",
            };
            let mut s = String::new();
            repr(&v, false, &mut s);
            (s, ty)
        }
        Err(_) => ("<undecodable>".into(), "<class 'msgspec.Raw'>"),
    }
}

/// Python's `repr()` of `v`, written with a loop (a payload may nest
/// [`DEFAULT_MAX_DEPTH`](crate::DEFAULT_MAX_DEPTH) levels). Inside a map
/// key, lists are tuples, as msgspec decodes them there.
fn repr(v: &rmpv::Value, in_key: bool, out: &mut String) {
    enum Step<'v> {
        Value(&'v rmpv::Value, bool),
        Text(&'static str),
    }
    let mut pending = vec![Step::Value(v, in_key)];
    while let Some(step) = pending.pop() {
        let (v, in_key) = match step {
            Step::Text(t) => {
                out.push_str(t);
                continue;
            }
            Step::Value(v, in_key) => (v, in_key),
        };
        match v {
            rmpv::Value::Nil => out.push_str("None"),
            rmpv::Value::Boolean(b) => out.push_str(if *b { "True" } else { "False" }),
            rmpv::Value::Integer(i) => out.push_str(&i.to_string()),
            rmpv::Value::F32(f) => out.push_str(&float_repr(*f as f64)),
            rmpv::Value::F64(f) => out.push_str(&float_repr(*f)),
            rmpv::Value::String(s) => match s.as_str() {
                Some(s) => out.push_str(&str_repr(s)),
                None => out.push_str(&bytes_repr(s.as_bytes())),
            },
            rmpv::Value::Binary(b) => out.push_str(&bytes_repr(b)),
            rmpv::Value::Array(a) => {
                let (open, close) = if in_key { ("(", ")") } else { ("[", "]") };
                out.push_str(open);
                // Pushed in reverse: the last pushed is written first.
                pending.push(Step::Text(close));
                if in_key && a.len() == 1 {
                    pending.push(Step::Text(","));
                }
                for (i, x) in a.iter().enumerate().rev() {
                    pending.push(Step::Value(x, in_key));
                    if i > 0 {
                        pending.push(Step::Text(", "));
                    }
                }
            }
            rmpv::Value::Map(m) => {
                out.push('{');
                pending.push(Step::Text("}"));
                for (i, (k, x)) in m.iter().enumerate().rev() {
                    pending.push(Step::Value(x, false));
                    pending.push(Step::Text(": "));
                    pending.push(Step::Value(k, true));
                    if i > 0 {
                        pending.push(Step::Text(", "));
                    }
                }
            }
            rmpv::Value::Ext(-1, data) => match datetime_repr(data) {
                Some(d) => out.push_str(&d),
                None => out.push_str(&format!("Ext(-1, {})", bytes_repr(data))),
            },
            rmpv::Value::Ext(code, data) => {
                out.push_str(&format!("Ext({code}, {})", bytes_repr(data)));
            }
        }
    }
}

/// Python's `repr()` of a float.
pub fn float_repr(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    }
}

/// Python's `repr()` of a bytes object.
pub fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::from("b");
    s.push(quote);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            c if c as char == quote => {
                s.push('\\');
                s.push(quote);
            }
            0x20..=0x7e => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push(quote);
    s
}

/// Python's `repr()` of the UTC `datetime` msgspec builds from a msgpack
/// timestamp body (rounded to microseconds), or `None` if it has none.
fn datetime_repr(data: &[u8]) -> Option<String> {
    crate::msgpack::check_timestamp(data).ok()?;
    let (secs, nanos): (i64, u32) = match data.len() {
        4 => (u32::from_be_bytes(data.try_into().ok()?) as i64, 0),
        8 => {
            let v = u64::from_be_bytes(data.try_into().ok()?);
            ((v & 0x3_ffff_ffff) as i64, (v >> 34) as u32)
        }
        _ => (
            i64::from_be_bytes(data[4..12].try_into().ok()?),
            u32::from_be_bytes(data[..4].try_into().ok()?),
        ),
    };
    let mut micros = (nanos + 500) / 1000;
    let mut secs = secs;
    if micros == 1_000_000 {
        micros = 0;
        secs += 1;
    }
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (sod / 3600, sod % 3600 / 60, sod % 60);
    let mut out = format!("datetime.datetime({year}, {month}, {day}, {h}, {m}");
    if s != 0 || micros != 0 {
        out.push_str(&format!(", {s}"));
    }
    if micros != 0 {
        out.push_str(&format!(", {micros}"));
    }
    out.push_str(", tzinfo=datetime.timezone.utc)");
    Some(out)
}

/// Python `repr()` of a JSON value (as in msgspec's default-value errors).
pub(crate) fn json_repr(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "None".into(),
        serde_json::Value::Bool(true) => "True".into(),
        serde_json::Value::Bool(false) => "False".into(),
        serde_json::Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 && f.abs() < 1e16 {
                    format!("{f:.1}")
                } else {
                    format!("{f}")
                }
            } else {
                n.to_string()
            }
        }
        serde_json::Value::String(s) => str_repr(s),
        serde_json::Value::Array(a) => {
            let items: Vec<String> = a.iter().map(json_repr).collect();
            format!("[{}]", items.join(", "))
        }
        serde_json::Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", str_repr(k), json_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}
