//! A JSON rendering of decoded messages, for tools in any language
//! (`spec/PROTOCOL.md#json-rendering`).
//!
//! [`Msg::to_json`](crate::Msg::to_json) renders a message with its wire
//! keys, the tag `msg_type` first and every field in wire order. Envelope
//! fields map to JSON directly (uids and addresses as 2-item arrays).
//! Payloads and other `Any` values are msgpack values; JSON cannot hold all
//! of them, so this mapping is used, and the generated JSON Schema
//! (`spec/schema/`) describes exactly its output:
//!
//! | msgpack | JSON |
//! |---|---|
//! | nil, bool | `null`, `true` / `false` |
//! | int (any width) | number without a fraction (`u64` and `i64` ranges exact) |
//! | float32 / float64, finite | number, written with a fraction or exponent (`1.0`) |
//! | float, NaN or infinite | `{"$float": "nan" \| "inf" \| "-inf"}` |
//! | str, valid UTF-8 | string |
//! | str, invalid UTF-8 | `{"$str": "<base64 of the bytes>"}` |
//! | bin | `{"$bytes": "<base64>"}` |
//! | array | array |
//! | map whose keys are all distinct strs, none starting with `$` | object, in wire order |
//! | any other map (int keys, duplicate keys, `$` keys, ...) | `{"$map": [[key, value], ...]}` |
//! | ext (including the timestamp ext −1) | `{"$ext": code, "data": "<base64>"}` |
//! | a payload nested deeper than [`RENDER_MAX_DEPTH`] (32 levels) | `{"$msgpack": "<base64 of its exact bytes>"}` |
//!
//! Base64 is the standard alphabet with padding. Every JSON object with a
//! key starting with `$` is one of these forms, so the mapping is one-to-one
//! up to the width of ints, floats and headers: [`json_to_msgpack`] and
//! [`Msg::msgpack_from_json`](crate::Msg::msgpack_from_json) go back, writing what msgspec would write.
//!
//! ```
//! use shuttle::{Msg, Raw, Yield};
//!
//! let msg = Msg::from(Yield::new("c1", Raw::encode(&(1, 2.5, "x")).unwrap()));
//! assert_eq!(
//!     msg.to_json().to_string(),
//!     r#"{"msg_type":"Yield","cid":"c1","pld":[1,2.5,"x"]}"#
//! );
//! ```

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::Raw;

/// Key of the rendering of a msgpack bin value: `{"$bytes": base64}`.
pub const BYTES: &str = "$bytes";
/// Key of the rendering of an ext value: `{"$ext": code, "data": base64}`.
pub const EXT: &str = "$ext";
/// Key of the rendering of a str that is not valid UTF-8: `{"$str": base64}`.
pub const INVALID_STR: &str = "$str";
/// Key of the rendering of a non-finite float: `{"$float": "nan"}`.
pub const FLOAT: &str = "$float";
/// Key of the rendering of a map that is not a plain JSON object:
/// `{"$map": [[key, value], ...]}`.
pub const MAP: &str = "$map";
/// Key of the rendering of a payload too deep to render: `{"$msgpack": base64}`.
pub const MSGPACK: &str = "$msgpack";

/// How deep a payload is rendered as JSON values; one nested deeper is
/// rendered as `{"$msgpack": base64}` (its exact bytes), and
/// [`json_to_msgpack`] refuses JSON nested deeper. Rendering, dropping and
/// printing a `serde_json::Value` recurse once per level, so the bound
/// keeps every renderer within a few tens of KiB of stack (a 64 KiB thread
/// suffices, in a debug build too), while payloads of any depth the
/// protocol accepts ([`DEFAULT_MAX_DEPTH`](crate::DEFAULT_MAX_DEPTH)) still
/// round-trip.
pub const RENDER_MAX_DEPTH: usize = 32;

fn b64(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn tagged(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_owned(), value);
    Value::Object(m)
}

/// Renders one decoded msgpack value with the mapping of this module.
/// Iterative: nesting costs heap, not stack. A value nested deeper than
/// [`RENDER_MAX_DEPTH`] renders whole as `{"$msgpack": base64}` of its
/// canonical encoding ([`msgpack::write::value`](crate::msgpack::write::value)).
pub fn value_to_json(value: &rmpv::Value) -> Value {
    use rmpv::Value as V;
    if nests_deeper_than(value, RENDER_MAX_DEPTH) {
        let mut bytes = Vec::new();
        crate::msgpack::write::value(&mut bytes, value);
        return tagged(MSGPACK, b64(&bytes));
    }
    /// What is left to do: render a value, or assemble a container from
    /// the last rendered values.
    enum Work<'a> {
        Render(&'a V),
        Array(usize),
        Map(usize),
    }
    let mut work = vec![Work::Render(value)];
    let mut done: Vec<Value> = Vec::new();
    while let Some(w) = work.pop() {
        let v = match w {
            Work::Render(v) => match v {
                V::Nil => Value::Null,
                V::Boolean(b) => Value::Bool(*b),
                V::Integer(i) => match (i.as_u64(), i.as_i64()) {
                    (Some(u), _) => Value::from(u),
                    (None, Some(s)) => Value::from(s),
                    // rmpv integers are always u64 or i64.
                    (None, None) => Value::Null,
                },
                V::F32(f) => float_to_json(f64::from(*f)),
                V::F64(f) => float_to_json(*f),
                V::String(s) => match s.as_str() {
                    Some(s) => Value::String(s.to_owned()),
                    None => tagged(INVALID_STR, b64(s.as_bytes())),
                },
                V::Binary(b) => tagged(BYTES, b64(b)),
                V::Array(items) => {
                    work.push(Work::Array(items.len()));
                    work.extend(items.iter().rev().map(Work::Render));
                    continue;
                }
                V::Map(entries) => {
                    work.push(Work::Map(entries.len()));
                    for (k, v) in entries.iter().rev() {
                        work.push(Work::Render(v));
                        work.push(Work::Render(k));
                    }
                    continue;
                }
                V::Ext(code, data) => {
                    let mut m = Map::new();
                    m.insert(EXT.to_owned(), Value::from(*code));
                    m.insert("data".to_owned(), b64(data));
                    Value::Object(m)
                }
            },
            Work::Array(n) => Value::Array(done.split_off(done.len() - n)),
            Work::Map(n) => {
                let flat = done.split_off(done.len() - 2 * n);
                let mut it = flat.into_iter();
                let mut pairs = Vec::with_capacity(n);
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                map_to_json(pairs.into_iter())
            }
        };
        done.push(v);
    }
    done.pop().unwrap_or(Value::Null)
}

/// True when `value` holds non-empty containers nested more than `limit`
/// deep (as [`raw_to_json`] counts), found with a loop.
fn nests_deeper_than(value: &rmpv::Value, limit: usize) -> bool {
    use rmpv::Value as V;
    let mut pending = vec![(value, 1)];
    while let Some((v, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &rmpv::Value>> = match v {
            V::Array(items) if !items.is_empty() => Box::new(items.iter()),
            V::Map(entries) if !entries.is_empty() => {
                Box::new(entries.iter().flat_map(|(k, x)| [k, x]))
            }
            _ => continue,
        };
        if depth > limit {
            return true;
        }
        pending.extend(children.map(|c| (c, depth + 1)));
    }
    false
}

fn float_to_json(f: f64) -> Value {
    match serde_json::Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None => tagged(
            FLOAT,
            Value::from(if f.is_nan() {
                "nan"
            } else if f > 0.0 {
                "inf"
            } else {
                "-inf"
            }),
        ),
    }
}

/// A map from already rendered keys and values: a JSON object when every
/// key is a distinct string not starting with `$`, else the `$map` form.
pub(crate) fn map_to_json(entries: impl Iterator<Item = (Value, Value)>) -> Value {
    let entries: Vec<(Value, Value)> = entries.collect();
    let mut seen = BTreeSet::new();
    let plain = entries.iter().all(|(k, _)| match k {
        Value::String(s) => !s.starts_with('$') && seen.insert(s.as_str()),
        _ => false,
    });
    if plain {
        let mut m = Map::new();
        for (k, v) in entries {
            if let Value::String(k) = k {
                m.insert(k, v);
            }
        }
        Value::Object(m)
    } else {
        let pairs = entries
            .into_iter()
            .map(|(k, v)| Value::Array(vec![k, v]))
            .collect();
        tagged(MAP, Value::Array(pairs))
    }
}

/// Renders a raw payload; one nested deeper than [`RENDER_MAX_DEPTH`]
/// becomes `{"$msgpack": base64}`.
pub fn raw_to_json(raw: &Raw<'_>) -> Value {
    // A `Raw` holds one well-formed value whose lengths all fit its bytes;
    // unlike `Raw::to_value` this also renders strs that are not UTF-8.
    match crate::msgpack::read_value(raw.as_bytes(), RENDER_MAX_DEPTH) {
        Ok(v) => value_to_json(&v),
        Err(_) => tagged(MSGPACK, b64(raw.as_bytes())),
    }
}

/// Why a JSON document could not be turned back into msgpack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} - at `{path}`")]
pub struct FromJsonError {
    /// Where, as a JSON path (`$.pld[2]`).
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

pub(crate) fn invalid(path: &str, reason: impl Into<String>) -> FromJsonError {
    FromJsonError {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn from_b64(v: &Value, path: &str) -> Result<Vec<u8>, FromJsonError> {
    let s = v
        .as_str()
        .ok_or_else(|| invalid(path, "expected a base64 string"))?;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| invalid(path, format!("invalid base64: {e}")))
}

fn len_u32(n: usize, path: &str) -> Result<u32, FromJsonError> {
    u32::try_from(n).map_err(|_| invalid(path, "too long for msgpack"))
}

/// Appends the msgpack encoding of a JSON document written with this
/// module's mapping, as msgspec would write it: objects as maps in their
/// order, the smallest header for every value, numbers with a fraction as
/// float64, and the `$` forms back to bin, ext, non-str-keyed maps, etc.
///
/// The inverse of [`value_to_json`] and [`raw_to_json`] for every value
/// msgspec writes: rendering a frame with
/// [`Msg::to_json`](crate::Msg::to_json) and encoding the result gives the
/// frame's bytes back.
///
/// JSON nested deeper than [`RENDER_MAX_DEPTH`] is refused (the rendering
/// never writes it: a deeper payload is a `$msgpack` form).
pub fn json_to_msgpack(value: &Value, out: &mut Vec<u8>) -> Result<(), FromJsonError> {
    use crate::msgpack::write;
    /// What is left to write: a value (with its path and depth), or a map
    /// key.
    enum Work<'v> {
        Value(&'v Value, String, usize),
        Key(&'v str),
    }
    // Iterative: each value's header is written, then its items are pushed
    // in reverse, so nesting costs heap, not stack.
    let mut work = vec![Work::Value(value, "$".to_owned(), 0)];
    while let Some(w) = work.pop() {
        let (value, path, depth) = match w {
            Work::Key(k) => {
                write::str(out, k);
                continue;
            }
            Work::Value(v, path, depth) => (v, path, depth),
        };
        if depth > RENDER_MAX_DEPTH && matches!(value, Value::Array(_) | Value::Object(_)) {
            return Err(invalid(
                &path,
                format!(
                    "nested deeper than {RENDER_MAX_DEPTH} levels; a deeper payload is written as {{\"{MSGPACK}\": base64}}"
                ),
            ));
        }
        match value {
            Value::Null => write::nil(out),
            Value::Bool(b) => write::bool(out, *b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    write::uint(out, u)
                } else if let Some(i) = n.as_i64() {
                    write::int(out, i)
                } else {
                    write::f64(out, n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => write::str(out, s),
            Value::Array(items) => {
                write::array_len(out, len_u32(items.len(), &path)?);
                for (i, item) in items.iter().enumerate().rev() {
                    work.push(Work::Value(item, format!("{path}[{i}]"), depth + 1));
                }
            }
            Value::Object(m) => match m.keys().find(|k| k.starts_with('$')) {
                None => {
                    write::map_len(out, len_u32(m.len(), &path)?);
                    let entries: Vec<_> = m.iter().collect();
                    for (k, v) in entries.into_iter().rev() {
                        work.push(Work::Value(v, format!("{path}.{k}"), depth + 1));
                        work.push(Work::Key(k));
                    }
                }
                Some(form) => {
                    for (v, at) in encode_form(form, m, out, &path)?.into_iter().rev() {
                        work.push(Work::Value(v, at, depth + 1));
                    }
                }
            },
        }
    }
    Ok(())
}

/// One of the `$` forms.
/// Writes the form's header (or all of it), and returns the values still
/// to write after it, in order, with their paths (a `$map`'s keys and
/// values).
fn encode_form<'v>(
    form: &str,
    m: &'v Map<String, Value>,
    out: &mut Vec<u8>,
    path: &str,
) -> Result<Vec<(&'v Value, String)>, FromJsonError> {
    use crate::msgpack::write;
    let at = format!("{path}.{form}");
    let expect_keys = |keys: &[&str]| {
        if m.len() == keys.len() && keys.iter().all(|k| m.contains_key(*k)) {
            Ok(())
        } else {
            Err(invalid(
                path,
                format!("the {form} form has exactly the keys {keys:?}"),
            ))
        }
    };
    let v = &m[form];
    match form {
        BYTES => {
            expect_keys(&[BYTES])?;
            write::bin(out, &from_b64(v, &at)?);
        }
        INVALID_STR => {
            expect_keys(&[INVALID_STR])?;
            let bytes = from_b64(v, &at)?;
            let _ = rmp::encode::write_str_len(out, len_u32(bytes.len(), &at)?);
            out.extend_from_slice(&bytes);
        }
        FLOAT => {
            expect_keys(&[FLOAT])?;
            let f = match v.as_str() {
                Some("nan") => f64::NAN,
                Some("inf") => f64::INFINITY,
                Some("-inf") => f64::NEG_INFINITY,
                _ => return Err(invalid(&at, "expected \"nan\", \"inf\" or \"-inf\"")),
            };
            write::f64(out, f);
        }
        EXT => {
            expect_keys(&[EXT, "data"])?;
            let code = v
                .as_i64()
                .and_then(|c| i8::try_from(c).ok())
                .ok_or_else(|| invalid(&at, "expected an ext type code from -128 to 127"))?;
            let data = from_b64(&m["data"], &format!("{path}.data"))?;
            len_u32(data.len(), &at)?;
            write::ext(out, code, &data);
        }
        MAP => {
            expect_keys(&[MAP])?;
            let pairs = v
                .as_array()
                .ok_or_else(|| invalid(&at, "expected an array of [key, value] pairs"))?;
            write::map_len(out, len_u32(pairs.len(), &at)?);
            let mut rest = Vec::with_capacity(2 * pairs.len());
            for (i, pair) in pairs.iter().enumerate() {
                let at = format!("{at}[{i}]");
                match pair.as_array().map(Vec::as_slice) {
                    Some([k, v]) => {
                        rest.push((k, format!("{at}[0]")));
                        rest.push((v, format!("{at}[1]")));
                    }
                    _ => return Err(invalid(&at, "expected a [key, value] pair")),
                }
            }
            return Ok(rest);
        }
        MSGPACK => {
            expect_keys(&[MSGPACK])?;
            let bytes = from_b64(v, &at)?;
            Raw::from_slice(&bytes)
                .map_err(|e| invalid(&at, format!("not one msgpack value: {e}")))?;
            out.extend_from_slice(&bytes);
        }
        other => return Err(invalid(path, format!("unknown form {other:?}"))),
    }
    Ok(Vec::new())
}

impl std::fmt::Debug for Raw<'_> {
    /// Shows the value in this module's JSON rendering (a value nested
    /// deeper than [`RENDER_MAX_DEPTH`] as its `$msgpack` bytes, since
    /// printing recurses once per level).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Raw({})", raw_to_json(self))
    }
}

impl std::fmt::Debug for crate::Value {
    /// The JSON rendering of [`value_to_json`], bounded in depth.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Value({})", value_to_json(self.as_rmpv()))
    }
}
