//! The general check of a scalar against a node (with msgspec's wording
//! for each mismatch) and of struct tags.

use super::{int_text, key_kind_err, kind_err, utf8, Validator, R};
use crate::error::{DecodeError, ErrorKind};
use crate::msgpack::{check_timestamp, Hash, Int, Kind, Unhashable};
use crate::pld_spec::compile::{
    NodeId, TagUnion, TagVal, BOOL, BYTEARRAY, BYTES, DATE, DATETIME, DECIMAL, EXT, FLOAT, INT,
    MEMORYVIEW, NONE, STR, TIME, TIMEDELTA, UUID,
};
use crate::pld_spec::forms;
use crate::python::str_repr;

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
                } else if n.flags & (FLOAT | DECIMAL) == 0 {
                    return bad(Kind::Int);
                }
            }
            0xca | 0xcb => {
                self.r.float()?;
                if n.flags & (FLOAT | DECIMAL) == 0 {
                    return bad(Kind::Float);
                }
            }
            0xa0..=0xbf | 0xd9..=0xdb => {
                let Some(s) = self.r.str_bytes()? else {
                    return Err(kind_err(&self.r, &n.expected));
                };
                if n.flags & STR != 0 {
                    utf8(s)?;
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
                    let parsed = if n.flags & DATETIME != 0 {
                        forms::datetime(s).map(drop)
                    } else if n.flags & DATE != 0 {
                        forms::date(s)
                    } else if n.flags & TIME != 0 {
                        forms::time(s).map(drop)
                    } else if n.flags & TIMEDELTA != 0 {
                        forms::duration(s)
                    } else if n.flags & UUID != 0 {
                        forms::uuid(s)
                    } else {
                        forms::decimal(utf8(s)?)
                    };
                    parsed.map_err(|e| DecodeError::new(ErrorKind::Other(e.to_string())))?;
                } else {
                    return bad(Kind::Str);
                }
            }
            0xc4..=0xc6 => {
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
