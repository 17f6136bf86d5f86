//! Frame patterns of the replay format (`spec/replay.md`): what a peer
//! frame must look like, with matchers for what differs between runs.
//!
//! A pattern is JSON. A JSON object with a `"$"` key is a matcher:
//!
//! | matcher | matches |
//! |---|---|
//! | `{"$": "any"}` | any value |
//! | `{"$": "uuid"}` | a string in `uuid4` form (36 chars, hyphenated hex) |
//! | `{"$": "regex", "re": "..."}` | a string the regular expression finds a match in |
//! | `{"$": "same-as", "name": "n", "match": P}` | first sight: a value matching `P` (default `any`), remembered as `n`; afterwards: exactly that value |
//! | `{"$": "one-of", "of": [P, ...]}` | a value matching one of the patterns |
//! | `{"$": "msgpack", "b64": "..."}` | exactly this msgpack value (for values JSON cannot carry: bytes, ext types, NaN, non-str keys) |
//!
//! Any other JSON value is a literal: `null`, booleans, strings, numbers
//! (integers as msgpack ints, numbers with a fraction or exponent as
//! float64), arrays (same length, element-wise), objects (same key set,
//! value-wise, key order free).

use std::collections::BTreeMap;

use base64::Engine as _;
use rmpv::Value;

/// A compiled pattern.
#[derive(Clone, Debug)]
pub enum Pattern {
    /// Anything.
    Any,
    /// A uuid4-form string.
    Uuid,
    /// A string with a match of this expression.
    Regex(regex::Regex),
    /// Capture on first sight, then the same value.
    SameAs(String, Box<Pattern>),
    /// One of several.
    OneOf(Vec<Pattern>),
    /// Exactly this value.
    Literal(Value),
    /// An array, element-wise.
    Array(Vec<Pattern>),
    /// A map with exactly these str keys.
    Map(Vec<(String, Pattern)>),
}

/// Values captured by `same-as` matchers, by name.
pub type Captures = BTreeMap<String, Value>;

impl Pattern {
    /// Compiles a JSON pattern.
    pub fn compile(j: &serde_json::Value) -> Result<Pattern, String> {
        use serde_json::Value as J;
        Ok(match j {
            J::Null => Pattern::Literal(Value::Nil),
            J::Bool(b) => Pattern::Literal(Value::Boolean(*b)),
            J::Number(n) => Pattern::Literal(json_number(n)?),
            J::String(s) => Pattern::Literal(Value::from(s.as_str())),
            J::Array(a) => {
                Pattern::Array(a.iter().map(Pattern::compile).collect::<Result<_, _>>()?)
            }
            J::Object(o) => match o.get("$") {
                None => Pattern::Map(
                    o.iter()
                        .map(|(k, v)| Ok((k.clone(), Pattern::compile(v)?)))
                        .collect::<Result<_, String>>()?,
                ),
                Some(J::String(kind)) => match kind.as_str() {
                    "any" => Pattern::Any,
                    "uuid" => Pattern::Uuid,
                    "regex" => {
                        let re = o
                            .get("re")
                            .and_then(|r| r.as_str())
                            .ok_or("regex matcher without \"re\"")?;
                        Pattern::Regex(
                            regex::Regex::new(re).map_err(|e| format!("bad regex {re:?}: {e}"))?,
                        )
                    }
                    "same-as" => {
                        let name = o
                            .get("name")
                            .and_then(|r| r.as_str())
                            .ok_or("same-as matcher without \"name\"")?;
                        let inner = match o.get("match") {
                            Some(p) => Pattern::compile(p)?,
                            None => Pattern::Any,
                        };
                        Pattern::SameAs(name.to_string(), Box::new(inner))
                    }
                    "one-of" => {
                        let of = o
                            .get("of")
                            .and_then(|r| r.as_array())
                            .ok_or("one-of matcher without an \"of\" array")?;
                        Pattern::OneOf(of.iter().map(Pattern::compile).collect::<Result<_, _>>()?)
                    }
                    "msgpack" => {
                        let b = o
                            .get("b64")
                            .and_then(|r| r.as_str())
                            .ok_or("msgpack literal without \"b64\"")?;
                        let bytes = base64::engine::general_purpose::STANDARD
                            .decode(b)
                            .map_err(|e| format!("bad base64: {e}"))?;
                        let v = rmpv::decode::read_value(&mut &bytes[..])
                            .map_err(|e| format!("bad msgpack literal: {e}"))?;
                        Pattern::Literal(v)
                    }
                    other => return Err(format!("unknown matcher {other:?}")),
                },
                Some(_) => return Err("matcher \"$\" must be a string".into()),
            },
        })
    }

    /// The literal string at `key` of a map pattern (the `cid` of an
    /// expected frame, which decides its ordering lane).
    pub fn literal_str(&self, key: &str) -> Option<&str> {
        match self {
            Pattern::Map(entries) => {
                entries
                    .iter()
                    .find(|(k, _)| k == key)
                    .and_then(|(_, p)| match p {
                        Pattern::Literal(Value::String(s)) => s.as_str(),
                        _ => None,
                    })
            }
            _ => None,
        }
    }

    /// Matches `v`; on success the new captures are added to `caps`, on
    /// failure `caps` is left as it was and the error names the path.
    pub fn matches(&self, v: &Value, caps: &mut Captures) -> Result<(), String> {
        let mut fresh = Captures::new();
        self.walk(v, "$", caps, &mut fresh)?;
        caps.extend(fresh);
        Ok(())
    }

    fn walk(
        &self,
        v: &Value,
        path: &str,
        caps: &Captures,
        fresh: &mut Captures,
    ) -> Result<(), String> {
        match self {
            Pattern::Any => Ok(()),
            Pattern::Uuid => match v.as_str() {
                Some(s) if is_uuid(s) => Ok(()),
                _ => Err(format!(
                    "at {path}: expected a uuid string, got {}",
                    show(v)
                )),
            },
            Pattern::Regex(re) => match v.as_str() {
                Some(s) if re.is_match(s) => Ok(()),
                _ => Err(format!(
                    "at {path}: expected a string matching /{}/, got {}",
                    re.as_str(),
                    show(v)
                )),
            },
            Pattern::SameAs(name, inner) => {
                if let Some(seen) = caps.get(name).or_else(|| fresh.get(name)) {
                    if same(seen, v) {
                        Ok(())
                    } else {
                        Err(format!(
                            "at {path}: expected the same value as ${name} ({}), got {}",
                            show(seen),
                            show(v)
                        ))
                    }
                } else {
                    inner.walk(v, path, caps, fresh)?;
                    fresh.insert(name.clone(), v.clone());
                    Ok(())
                }
            }
            Pattern::OneOf(of) => {
                let mut errs = Vec::new();
                for p in of {
                    let mut f = fresh.clone();
                    match p.walk(v, path, caps, &mut f) {
                        Ok(()) => {
                            *fresh = f;
                            return Ok(());
                        }
                        Err(e) => errs.push(e),
                    }
                }
                Err(format!(
                    "at {path}: none of the alternatives matched: {}",
                    errs.join("; ")
                ))
            }
            Pattern::Literal(want) => {
                if same(want, v) {
                    Ok(())
                } else {
                    Err(format!(
                        "at {path}: expected {}, got {}",
                        show(want),
                        show(v)
                    ))
                }
            }
            Pattern::Array(items) => {
                let Value::Array(got) = v else {
                    return Err(format!("at {path}: expected an array, got {}", show(v)));
                };
                if got.len() != items.len() {
                    return Err(format!(
                        "at {path}: expected {} elements, got {}: {}",
                        items.len(),
                        got.len(),
                        show(v)
                    ));
                }
                for (i, (p, g)) in items.iter().zip(got).enumerate() {
                    p.walk(g, &format!("{path}[{i}]"), caps, fresh)?;
                }
                Ok(())
            }
            Pattern::Map(entries) => {
                let Value::Map(got) = v else {
                    return Err(format!("at {path}: expected a map, got {}", show(v)));
                };
                for (i, (k, p)) in entries.iter().enumerate() {
                    // Same order (the common case) first, then a search.
                    let at = match got.get(i) {
                        Some((gk, g)) if gk.as_str() == Some(k) => Some(g),
                        _ => got
                            .iter()
                            .find(|(gk, _)| gk.as_str() == Some(k))
                            .map(|(_, g)| g),
                    };
                    let Some(g) = at else {
                        return Err(format!("at {path}: missing key {k:?}"));
                    };
                    p.walk(g, &format!("{path}.{k}"), caps, fresh)?;
                }
                if got.len() != entries.len() {
                    let extra = got
                        .iter()
                        .find(|(gk, _)| {
                            !gk.as_str()
                                .is_some_and(|gk| entries.iter().any(|(k, _)| k == gk))
                        })
                        .map(|(k, _)| show(k))
                        .unwrap_or_else(|| "(a repeated key)".into());
                    return Err(format!("at {path}: unexpected key {extra}"));
                }
                Ok(())
            }
        }
    }
}

fn json_number(n: &serde_json::Number) -> Result<Value, String> {
    if let Some(u) = n.as_u64() {
        Ok(Value::from(u))
    } else if let Some(i) = n.as_i64() {
        Ok(Value::from(i))
    } else if let Some(f) = n.as_f64() {
        Ok(Value::F64(f))
    } else {
        Err(format!("unsupported number {n}"))
    }
}

/// `str(uuid.uuid4())` form: 8-4-4-4-12 lowercase or uppercase hex digits.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Value equality as the protocol sees it: ints by value, floats by bits
/// (so NaN equals NaN and 0.0 differs from -0.0), float32 and float64
/// distinct, maps as sets of entries.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => {
            x.as_i64() == y.as_i64() && x.as_u64() == y.as_u64()
        }
        (Value::F64(x), Value::F64(y)) => x.to_bits() == y.to_bits(),
        (Value::F32(x), Value::F32(y)) => x.to_bits() == y.to_bits(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && (x
                    .iter()
                    .zip(y)
                    .all(|((k, v), (k2, v2))| same(k, k2) && same(v, v2))
                    || x.iter()
                        .all(|(k, v)| y.iter().any(|(k2, v2)| same(k, k2) && same(v, v2))))
        }
        _ => a == b,
    }
}

/// A short rendering of a value for failure messages.
pub fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        let cut: String = s.chars().take(150).collect();
        format!("{cut}...(+{} chars)", s.chars().count() - 150)
    } else {
        s
    }
}

/// The JSON form of a value when JSON carries it exactly (the pattern
/// [`Pattern::compile`] makes of it is the same value), else `None`.
pub fn lossless_json(v: &Value) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match v {
        Value::Nil => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Integer(i) => {
            if let Some(u) = i.as_u64() {
                J::from(u)
            } else {
                J::from(i.as_i64()?)
            }
        }
        Value::F64(f) => {
            // A float without a fraction would come back as an int.
            let n = serde_json::Number::from_f64(*f)?;
            let text = n.to_string();
            if !text.contains(['.', 'e', 'E']) {
                return None;
            }
            J::Number(n)
        }
        Value::String(s) => J::String(s.as_str()?.to_string()),
        Value::Array(a) => J::Array(a.iter().map(lossless_json).collect::<Option<_>>()?),
        Value::Map(m) => {
            let mut o = serde_json::Map::new();
            for (k, v) in m {
                let k = k.as_str()?;
                if k == "$" || o.contains_key(k) {
                    return None;
                }
                o.insert(k.to_string(), lossless_json(v)?);
            }
            J::Object(o)
        }
        Value::F32(_) | Value::Binary(_) | Value::Ext(..) => return None,
    })
}

/// A literal pattern for `v`: plain JSON when lossless, else a `msgpack` literal.
pub fn literal_json(v: &Value) -> serde_json::Value {
    lossless_json(v).unwrap_or_else(|| {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, v).expect("writing to a Vec");
        serde_json::json!({"$": "msgpack", "b64": base64::engine::general_purpose::STANDARD.encode(bytes)})
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(p: serde_json::Value, v: Value, caps: &mut Captures) -> Result<(), String> {
        Pattern::compile(&p).unwrap().matches(&v, caps)
    }

    #[test]
    fn same_as_captures_then_requires() {
        let mut caps = Captures::new();
        let p = json!({"$": "same-as", "name": "u", "match": {"$": "uuid"}});
        let a = "8f5f3d21-3553-433a-b4cd-c4160e588601";
        m(p.clone(), Value::from(a), &mut caps).unwrap();
        m(p.clone(), Value::from(a), &mut caps).unwrap();
        let e = m(p, Value::from("other"), &mut caps).unwrap_err();
        assert!(e.contains("same value as $u"), "{e}");
    }

    #[test]
    fn failed_match_captures_nothing() {
        let mut caps = Captures::new();
        let p = json!([{"$": "same-as", "name": "a"}, 2]);
        let v = Value::Array(vec![Value::from(1), Value::from(3)]);
        assert!(m(p, v, &mut caps).is_err());
        assert!(caps.is_empty());
    }

    #[test]
    fn literals_round_trip_through_json() {
        for v in [
            Value::F64(1.0),
            Value::F64(-0.0),
            Value::F64(f64::NAN),
            Value::from(u64::MAX),
            Value::from(i64::MIN),
            Value::Binary(vec![1, 2]),
            Value::Map(vec![(Value::from(1), Value::Nil)]),
        ] {
            let p = literal_json(&v);
            m(p, v.clone(), &mut Captures::new()).unwrap();
        }
        assert!(m(json!(1.0), Value::from(1), &mut Captures::new()).is_err());
    }

    #[test]
    fn maps_need_the_same_keys() {
        let v = Value::Map(vec![(Value::from("a"), Value::from(1))]);
        assert!(m(json!({"a": 1}), v.clone(), &mut Captures::new()).is_ok());
        assert!(m(json!({"a": 1, "b": 2}), v.clone(), &mut Captures::new()).is_err());
        assert!(m(json!({}), v, &mut Captures::new()).is_err());
    }

    #[test]
    fn regex_and_one_of() {
        let p = json!({"$": "one-of", "of": [null, {"$": "regex", "re": "^x+$"}]});
        m(p.clone(), Value::Nil, &mut Captures::new()).unwrap();
        m(p.clone(), Value::from("xx"), &mut Captures::new()).unwrap();
        assert!(m(p, Value::from("y"), &mut Captures::new()).is_err());
    }
}
