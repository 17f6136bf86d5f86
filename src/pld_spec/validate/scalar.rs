//! The general check of a scalar against a node (with msgspec's wording
//! for each mismatch) and of struct tags.

use super::{int_text, key_kind_err, kind_err, utf8, Validator, R};
use crate::error::{DecodeError, ErrorKind};
use crate::msgpack::{check_timestamp, Hash, Int, Kind, Unhashable};
use crate::pld_spec::compile::Constraints;
use crate::pld_spec::compile::{
    NodeId, TagUnion, TagVal, BOOL, BYTEARRAY, BYTES, DATE, DATETIME, DECIMAL, EXT, FLOAT, INT,
    MEMORYVIEW, NONE, STR, TIME, TIMEDELTA, UUID,
};
use crate::pld_spec::forms;
use crate::python::{float_repr, str_repr};

impl Validator<'_, '_> {
    /// The general path of [`Validator::leaf`]; also returns what makes
    /// the value unhashable (a `bytearray` or an `Ext`), for keys and set
    /// items.
    #[inline(never)]
    pub(super) fn leaf_slow(&mut self, id: NodeId) -> R<Hash> {
        let c = self.c;
        let n = &c.nodes[id as usize];
        let b = self.r.peek_byte()?;
        let bad = |k: Kind| Err(DecodeError::expected(n.expected.to_string(), k));
        match b {
            0xc0 => {
                if n.flags & NONE == 0 {
                    return bad(Kind::Nil);
                }
                self.r.nil()?;
            }
            0xc2 | 0xc3 => {
                if n.flags & BOOL == 0 {
                    return bad(Kind::Bool);
                }
                self.r.bool()?;
            }
            0x00..=0x7f | 0xe0..=0xff | 0xcc..=0xcf | 0xd0..=0xd3 => {
                let Some(v) = self.r.int()? else {
                    return Err(kind_err(&self.r, &n.expected));
                };
                if n.flags & INT != 0 {
                    if let Some(c) = &n.constr {
                        check_int(c, v)?;
                    }
                } else if !n.int_lits.is_empty() {
                    let hit = match v {
                        Int::U(u) => {
                            i64::try_from(u).is_ok_and(|i| n.int_lits.binary_search(&i).is_ok())
                        }
                        Int::I(i) => n.int_lits.binary_search(&i).is_ok(),
                    };
                    if !hit {
                        return Err(DecodeError::new(ErrorKind::InvalidEnum(int_text(v))));
                    }
                } else if n.flags & FLOAT != 0 {
                    if let Some(c) = &n.constr {
                        let x = match v {
                            Int::U(u) => u as f64,
                            Int::I(i) => i as f64,
                        };
                        check_float(c, x)?;
                    }
                } else if n.flags & DECIMAL == 0 {
                    return bad(Kind::Int);
                }
            }
            0xca | 0xcb => {
                let x = self.r.float()?;
                if n.flags & FLOAT != 0 {
                    if let (Some(c), Some(x)) = (&n.constr, x) {
                        check_float(c, x)?;
                    }
                } else if n.flags & DECIMAL == 0 {
                    return bad(Kind::Float);
                }
            }
            0xa0..=0xbf | 0xd9..=0xdb => {
                let Some(s) = self.r.str_bytes()? else {
                    return Err(kind_err(&self.r, &n.expected));
                };
                if n.flags & STR != 0 {
                    let s = utf8(s)?;
                    if let Some(c) = &n.constr {
                        check_str(c, s)?;
                    }
                } else if !n.str_lits.is_empty() {
                    if n.str_lits
                        .binary_search_by(|l| l.as_bytes().cmp(s))
                        .is_err()
                    {
                        return Err(DecodeError::new(ErrorKind::InvalidEnum(str_repr(utf8(s)?))));
                    }
                } else if n.flags & (DATETIME | DATE | TIME | TIMEDELTA | UUID | DECIMAL) != 0 {
                    // msgspec parses the bytes as they are (a decimal goes
                    // through a Python str first, so UTF-8 is checked).
                    let tz = |tz: forms::Tz, what: &str| match &n.constr {
                        Some(c) => check_tz(c, tz, what),
                        None => Ok(()),
                    };
                    let parsed = if n.flags & DATETIME != 0 {
                        let t = forms::datetime(s).map_err(violated)?;
                        return tz(t, "datetime").map(|()| None);
                    } else if n.flags & DATE != 0 {
                        forms::date(s)
                    } else if n.flags & TIME != 0 {
                        let t = forms::time(s).map_err(violated)?;
                        return tz(t, "time").map(|()| None);
                    } else if n.flags & TIMEDELTA != 0 {
                        if let Err(e) = forms::duration(s) {
                            if let Some(text) = forms::duration_overflow_message(s) {
                                return Err(DecodeError::new(ErrorKind::Overflow(text)));
                            }
                            return Err(violated(e));
                        }
                        Ok(())
                    } else if n.flags & UUID != 0 {
                        forms::uuid(s)
                    } else {
                        forms::decimal(utf8(s)?)
                    };
                    parsed.map_err(violated)?;
                } else {
                    return bad(Kind::Str);
                }
            }
            0xc4..=0xc6 => {
                if let Some(c) = &n.constr {
                    // msgspec checks the length from the header, before
                    // the bytes are known to be there.
                    let (buf, at) = (self.r.buf(), self.r.pos());
                    let width = 1usize << (b - 0xc4);
                    if let Some(h) = buf.get(at + 1..at + 1 + width) {
                        let len = h.iter().fold(0usize, |acc, &x| acc << 8 | x as usize);
                        check_len(len, c.bytes_min, c.bytes_max, "bytes")?;
                    }
                }
                let Some(data) = self.r.bin()? else {
                    return Err(kind_err(&self.r, &n.expected));
                };
                if n.flags & (BYTES | MEMORYVIEW) == 0 {
                    if n.flags & BYTEARRAY != 0 {
                        return Ok(Some(Unhashable::ByteArray));
                    }
                    if n.flags & UUID != 0 {
                        forms::uuid_bytes(data)
                            .map_err(|e| DecodeError::new(ErrorKind::Other(e.to_string())))?;
                        return Ok(None);
                    }
                    return bad(Kind::Bytes);
                }
            }
            0xd4..=0xd8 | 0xc7..=0xc9 => {
                let Some((code, data)) = self.r.ext()? else {
                    return Err(kind_err(&self.r, &n.expected));
                };
                if n.flags & DATETIME != 0 && code == -1 {
                    check_timestamp(data)?;
                    // A timestamp is a datetime in UTC.
                    if let Some(c) = &n.constr {
                        check_tz(c, forms::Tz::Aware, "datetime")?;
                    }
                    return Ok(None);
                }
                if n.flags & EXT != 0 {
                    return Ok(Some(Unhashable::Ext));
                }
                return bad(Kind::Ext);
            }
            0x90..=0x9f | 0xdc | 0xdd => {
                self.r.array_header()?;
                return bad(Kind::Array);
            }
            0x80..=0x8f | 0xde | 0xdf => {
                self.r.map_header()?;
                return bad(Kind::Object);
            }
            _ => return Err(kind_err(&self.r, &n.expected)),
        }
        Ok(None)
    }

    pub(super) fn lookup_tag_in(&mut self, u: &TagUnion) -> R<u32> {
        if u.ints.is_empty() {
            let s = match self.r.str_bytes()? {
                Some(s) => s,
                None => return Err(key_kind_err(&self.r, "str")),
            };
            match u.strs.iter().find(|(t, _)| t.as_bytes() == s) {
                Some((_, sid)) => Ok(*sid),
                None => Err(DecodeError::new(ErrorKind::InvalidTag(format!(
                    "'{}'",
                    utf8(s)?
                )))),
            }
        } else {
            let v = match self.r.int()? {
                Some(v) => v,
                None => return Err(key_kind_err(&self.r, "int")),
            };
            let hit = u.ints.iter().find(|(t, _)| match v {
                Int::U(x) => i64::try_from(x).is_ok_and(|x| x == *t),
                Int::I(x) => x == *t,
            });
            match hit {
                Some((_, sid)) => Ok(*sid),
                None => Err(DecodeError::new(ErrorKind::InvalidTag(int_text(v)))),
            }
        }
    }

    /// Reads a tag value and checks it is `want`.
    pub(super) fn check_tag(&mut self, want: &TagVal) -> R {
        match want {
            TagVal::Str(t) => {
                let s = match self.r.str_bytes()? {
                    Some(s) => s,
                    None => return Err(key_kind_err(&self.r, "str")),
                };
                if s == t.as_bytes() {
                    Ok(())
                } else {
                    Err(DecodeError::new(ErrorKind::InvalidTag(format!(
                        "'{}'",
                        utf8(s)?
                    ))))
                }
            }
            TagVal::Int(t) => {
                let v = match self.r.int()? {
                    Some(v) => v,
                    None => return Err(key_kind_err(&self.r, "int")),
                };
                let same = match v {
                    Int::U(x) => i64::try_from(x).is_ok_and(|x| x == *t),
                    Int::I(x) => x == *t,
                };
                if same {
                    Ok(())
                } else {
                    Err(DecodeError::new(ErrorKind::InvalidTag(int_text(v))))
                }
            }
        }
    }
}

/// A `ValidationError` with this text (a parser's or a constraint's; the
/// path is added on the way out).
fn violated(text: impl Into<String>) -> DecodeError {
    DecodeError::new(ErrorKind::Other(text.into()))
}

/// msgspec's `ms_decode_constr_int` / `ms_decode_constr_uint`.
fn check_int(c: &Constraints, v: Int) -> R {
    if let Some(min) = c.int_min {
        let ok = match v {
            Int::U(u) => min < 0 || u >= min as u64,
            Int::I(i) => i >= min,
        };
        if !ok {
            return Err(violated(format!("Expected `int` >= {min}")));
        }
    }
    if let Some(max) = c.int_max {
        let ok = match v {
            Int::U(u) => max >= 0 && u <= max as u64,
            Int::I(i) => i <= max,
        };
        if !ok {
            return Err(violated(format!("Expected `int` <= {max}")));
        }
    }
    if let Some(m) = c.int_multiple_of {
        let ok = match v {
            Int::U(u) => u % m.unsigned_abs() == 0,
            Int::I(i) => i.checked_rem(m).unwrap_or(0) == 0,
        };
        if !ok {
            return Err(violated(format!("Expected `int` that's a multiple of {m}")));
        }
    }
    Ok(())
}

/// msgspec's `ms_passes_float_constraints_inline`.
fn check_float(c: &Constraints, x: f64) -> R {
    if let Some(b) = c.float_min {
        let ok = if b.strict { x > b.value } else { x >= b.value };
        if !ok {
            let op = if b.strict { ">" } else { ">=" };
            return Err(violated(format!(
                "Expected `float` {op} {}",
                float_repr(b.value)
            )));
        }
    }
    if let Some(b) = c.float_max {
        let ok = if b.strict { x < b.value } else { x <= b.value };
        if !ok {
            let op = if b.strict { "<" } else { "<=" };
            return Err(violated(format!(
                "Expected `float` {op} {}",
                float_repr(b.value)
            )));
        }
    }
    if let Some(m) = c.float_multiple_of {
        if !(x == 0.0 || x % m == 0.0) {
            return Err(violated(format!(
                "Expected `float` that's a multiple of {}",
                float_repr(m)
            )));
        }
    }
    Ok(())
}

/// Length bounds of a str (in code points), bytes, array or map.
pub(super) fn check_len(len: usize, min: Option<usize>, max: Option<usize>, what: &str) -> R {
    if let Some(min) = min {
        if len < min {
            return Err(violated(format!("Expected `{what}` of length >= {min}")));
        }
    }
    if let Some(max) = max {
        if len > max {
            return Err(violated(format!("Expected `{what}` of length <= {max}")));
        }
    }
    Ok(())
}

/// msgspec's `_ms_check_str_constraints`: lengths, then the pattern (as
/// `re.search`).
fn check_str(c: &Constraints, s: &str) -> R {
    if c.str_min.is_some() || c.str_max.is_some() {
        check_len(s.chars().count(), c.str_min, c.str_max, "str")?;
    }
    if let Some((re, pattern)) = &c.str_regex {
        if !re.is_match(s) {
            return Err(violated(format!(
                "Expected `str` matching regex {}",
                str_repr(pattern)
            )));
        }
    }
    Ok(())
}

/// `Meta(tz=...)` on a datetime or time.
fn check_tz(c: &Constraints, tz: forms::Tz, what: &str) -> R {
    match (c.tz, tz) {
        (Some(true), forms::Tz::Naive) => Err(violated(format!(
            "Expected `{what}` with a timezone component"
        ))),
        (Some(false), forms::Tz::Aware) => Err(violated(format!(
            "Expected `{what}` with no timezone component"
        ))),
        _ => Ok(()),
    }
}
