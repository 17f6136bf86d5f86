//! Writers for msgpack headers and scalars, smallest form first (as msgspec
//! writes them). Writing into a `Vec<u8>` cannot fail, so these return
//! nothing.

use rmp::encode as enc;

/// Writes a map header.
#[inline]
pub fn map_len(out: &mut Vec<u8>, n: u32) {
    let _ = enc::write_map_len(out, n);
}
/// Writes an array header.
#[inline]
pub fn array_len(out: &mut Vec<u8>, n: u32) {
    let _ = enc::write_array_len(out, n);
}
/// Writes a str.
#[inline]
pub fn str(out: &mut Vec<u8>, s: &str) {
    let _ = enc::write_str(out, s);
}
/// Writes a bin.
#[inline]
pub fn bin(out: &mut Vec<u8>, b: &[u8]) {
    let _ = enc::write_bin(out, b);
}
/// Writes nil.
#[inline]
pub fn nil(out: &mut Vec<u8>) {
    out.push(0xc0);
}
/// Writes a bool.
#[inline]
pub fn bool(out: &mut Vec<u8>, v: bool) {
    out.push(if v { 0xc3 } else { 0xc2 });
}
/// Writes a signed integer in its smallest form.
#[inline]
pub fn int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        let _ = enc::write_uint(out, v as u64);
    } else {
        let _ = enc::write_sint(out, v);
    }
}
/// Writes an unsigned integer in its smallest form.
#[inline]
pub fn uint(out: &mut Vec<u8>, v: u64) {
    let _ = enc::write_uint(out, v);
}
/// Writes a float64 (msgspec never writes float32).
#[inline]
pub fn f64(out: &mut Vec<u8>, v: f64) {
    let _ = enc::write_f64(out, v);
}
/// Writes a dynamic value canonically: smallest int and length forms,
/// floats as float64, as msgspec writes the values it decoded as `Any`,
/// with one difference: an ext value is written back as it came, while
/// msgspec turns the timestamp ext (-1) into a `datetime` (rounded to
/// the microsecond) and writes that in its smallest timestamp form.
pub fn value(out: &mut Vec<u8>, v: &rmpv::Value) {
    use rmpv::Value;
    // A loop over the values still to write, not recursion: a value
    // may nest as deep as the protocol accepts.
    let mut pending = vec![v];
    while let Some(v) = pending.pop() {
        match v {
            Value::Nil => nil(out),
            Value::Boolean(b) => bool(out, *b),
            Value::Integer(i) => match (i.as_u64(), i.as_i64()) {
                (Some(u), _) => uint(out, u),
                (None, Some(n)) => int(out, n),
                (None, None) => nil(out),
            },
            Value::F32(f) => f64(out, *f as f64),
            Value::F64(f) => f64(out, *f),
            Value::String(s) => match s.as_str() {
                Some(s) => str(out, s),
                None => {
                    let b = s.as_bytes();
                    let _ = enc::write_str_len(out, b.len() as u32);
                    out.extend_from_slice(b);
                }
            },
            Value::Binary(b) => bin(out, b),
            Value::Array(items) => {
                array_len(out, items.len() as u32);
                pending.extend(items.iter().rev());
            }
            Value::Map(entries) => {
                map_len(out, entries.len() as u32);
                for (k, x) in entries.iter().rev() {
                    pending.push(x);
                    pending.push(k);
                }
            }
            Value::Ext(code, data) => ext(out, *code, data),
        }
    }
}

/// Writes an ext header and body.
#[inline]
pub fn ext(out: &mut Vec<u8>, code: i8, data: &[u8]) {
    let _ = enc::write_ext_meta(out, data.len() as u32, code);
    out.extend_from_slice(data);
}
