//! Dynamic values ([`rmpv::Value`]) built from msgpack bytes with a loop.

use super::{Int, Kind, Reader};
use crate::error::{DecodeError, ErrorKind};

/// Builds a dynamic value from one msgpack value, iteratively (no
/// recursion, whatever the nesting), refusing nesting deeper than
/// `max_depth` containers. Strs are not checked for UTF-8 here (rmpv keeps
/// invalid ones as bytes); use [`crate::msgpack::any_value`] first to check them.
pub(crate) fn read_value(bytes: &[u8], max_depth: usize) -> Result<rmpv::Value, DecodeError> {
    /// One value that is not a container, read by rmpv (which does not
    /// recurse for these).
    fn rmpv_one(r: &mut Reader<'_>) -> Result<rmpv::Value, DecodeError> {
        let start = r.pos();
        r.skip_values(1)?;
        rmpv::decode::read_value(&mut &r.buf()[start..r.pos()])
            .map_err(|e| DecodeError::new(ErrorKind::Other(e.to_string())))
    }
    use rmpv::Value;
    enum Open {
        Array(Vec<Value>, usize),
        Map(Vec<(Value, Value)>, usize, Option<Value>),
    }
    let too_deep = || DecodeError::new(ErrorKind::TooDeep { limit: max_depth });
    let mut r = Reader::new(bytes);
    let mut stack: Vec<Open> = Vec::new();
    loop {
        let mut done = match r.peek_kind()? {
            Kind::Array => match r.array_len()?.unwrap_or(0) {
                0 => Some(Value::Array(Vec::new())),
                n if stack.len() < max_depth => {
                    stack.push(Open::Array(Vec::with_capacity(n.min(1024)), n));
                    None
                }
                _ => return Err(too_deep()),
            },
            Kind::Object => match r.map_len()?.unwrap_or(0) {
                0 => Some(Value::Map(Vec::new())),
                n if stack.len() < max_depth => {
                    stack.push(Open::Map(Vec::with_capacity(n.min(1024)), n, None));
                    None
                }
                _ => return Err(too_deep()),
            },
            Kind::Nil => {
                r.skip_bytes(1)?;
                Some(Value::Nil)
            }
            Kind::Bool => Some(Value::Boolean(r.bool()? == Some(true))),
            Kind::Int => Some(match r.int()? {
                Some(Int::U(u)) => Value::from(u),
                Some(Int::I(i)) => Value::from(i),
                None => return Err(r.expected("int")),
            }),
            Kind::Str => {
                let start = r.pos();
                match r.str() {
                    Ok(s) => Some(Value::from(s)),
                    // Not UTF-8 (or cut short): as rmpv keeps it, or its error.
                    Err(_) => {
                        r.skip_to(start);
                        Some(rmpv_one(&mut r)?)
                    }
                }
            }
            Kind::Bytes => Some(Value::Binary(r.bin()?.unwrap_or_default().to_vec())),
            // rmpv keeps float32 apart and reads ext values whole.
            Kind::Float | Kind::Ext => Some(rmpv_one(&mut r)?),
        };
        // Hand finished values up to their containers.
        while let Some(v) = done.take() {
            match stack.last_mut() {
                None => {
                    r.finish()?;
                    return Ok(v);
                }
                Some(Open::Array(items, left)) => {
                    items.push(v);
                    *left -= 1;
                    if *left == 0 {
                        if let Some(Open::Array(items, _)) = stack.pop() {
                            done = Some(Value::Array(items));
                        }
                    }
                }
                Some(Open::Map(entries, left, key)) => match key.take() {
                    None => *key = Some(v),
                    Some(k) => {
                        entries.push((k, v));
                        *left -= 1;
                        if *left == 0 {
                            if let Some(Open::Map(entries, _, _)) = stack.pop() {
                                done = Some(Value::Map(entries));
                            }
                        }
                    }
                },
            }
        }
    }
}
