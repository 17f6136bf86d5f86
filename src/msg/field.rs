//! How each envelope field type reads and writes itself, with msgspec's
//! rules and error wording.

use std::borrow::Cow;

use crate::error::{DecodeError, ErrorKind, PathSegment};
use crate::msgpack::{write, Int, Kind, Reader};
use crate::Raw;

use super::{Addr, AddrPort, Functype, Uid};

/// A value that can appear as an envelope field.
pub(crate) trait WireField<'a>: Sized {
    /// The type as msgspec spells it in `Expected ...` errors.
    const EXPECTED: &'static str;
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError>;
    fn encode(&self, out: &mut Vec<u8>);
}

impl<'a> WireField<'a> for Cow<'a, str> {
    const EXPECTED: &'static str = "str";
    #[inline(always)]
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.str().map(Cow::Borrowed)
    }
    #[inline]
    fn encode(&self, out: &mut Vec<u8>) {
        write::str(out, self)
    }
}

impl<'a> WireField<'a> for bool {
    const EXPECTED: &'static str = "bool";
    #[inline(always)]
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.bool()?.ok_or_else(|| r.expected(Self::EXPECTED))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        write::bool(out, *self)
    }
}

impl<'a> WireField<'a> for Int {
    const EXPECTED: &'static str = "int";
    #[inline(always)]
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.int()?.ok_or_else(|| r.expected(Self::EXPECTED))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Int::U(v) => write::uint(out, v),
            Int::I(v) => write::int(out, v),
        }
    }
}

impl<'a, T: WireField<'a>> WireField<'a> for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    #[inline(always)]
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        if r.nil()? {
            return Ok(None);
        }
        match T::decode(r) {
            Ok(v) => Ok(Some(v)),
            Err(e) => Err(optional(e)),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Some(v) => v.encode(out),
            None => write::nil(out),
        }
    }
}

/// Rewrites a top-level "Expected `T`" into "Expected `T | null`", as
/// msgspec words errors for optional fields.
fn optional(e: DecodeError) -> DecodeError {
    match e.kind() {
        ErrorKind::Expected { expected, got } if e.path().next().is_none() => {
            let mut out = DecodeError::expected(format!("{expected} | null"), *got);
            if let Some(t) = e.msg_type() {
                out = out.in_msg(t);
            }
            out
        }
        _ => e,
    }
}

/// Reads an array header that must announce exactly `len` items.
fn fixed_array(r: &mut Reader<'_>, len: usize) -> Result<(), DecodeError> {
    match r.array_len()? {
        Some(n) if n == len => Ok(()),
        Some(n) => Err(DecodeError::new(ErrorKind::ArrayLength {
            bound: "",
            expected: len,
            got: n,
        })),
        None => Err(r.expected("array")),
    }
}

impl<'a> WireField<'a> for Uid<'a> {
    const EXPECTED: &'static str = "array";
    #[inline(always)]
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        fixed_array(r, 2)?;
        let name = r.str().map_err(|e| e.at_index(0))?;
        let uuid = r.str().map_err(|e| e.at_index(1))?;
        Ok(Uid {
            name: Cow::Borrowed(name),
            uuid: Cow::Borrowed(uuid),
        })
    }
    fn encode(&self, out: &mut Vec<u8>) {
        write::array_len(out, 2);
        write::str(out, &self.name);
        write::str(out, &self.uuid);
    }
}

impl<'a, T: WireField<'a>> WireField<'a> for Vec<T> {
    const EXPECTED: &'static str = "array";
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let n = r.array_len()?.ok_or_else(|| r.expected("array"))?;
        let mut v = Vec::with_capacity(n.min(64));
        for i in 0..n {
            v.push(T::decode(r).map_err(|e| e.at_index(i))?);
        }
        Ok(v)
    }
    fn encode(&self, out: &mut Vec<u8>) {
        write::array_len(out, self.len() as u32);
        for x in self {
            x.encode(out);
        }
    }
}

impl<'a> WireField<'a> for Functype {
    const EXPECTED: &'static str = "str";
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let s = r.str()?;
        Functype::from_wire(s)
            .ok_or_else(|| DecodeError::new(ErrorKind::InvalidEnum(crate::python::str_repr(s))))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        write::str(out, self.as_str())
    }
}

impl<'a> WireField<'a> for Addr<'a> {
    const EXPECTED: &'static str = "array";
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        fixed_array(r, 2)?;
        let host = r.str().map_err(|e| e.at_index(0))?;
        let port = match r.int()? {
            Some(i) => AddrPort::Int(i),
            None => match r.str_bytes()? {
                Some(b) => AddrPort::Str(Cow::Borrowed(
                    crate::msgpack::utf8(b, r.pos()).map_err(|e| e.at_index(1))?,
                )),
                None => return Err(r.expected("int | str").at_index(1)),
            },
        };
        Ok(Addr {
            host: Cow::Borrowed(host),
            port,
        })
    }
    fn encode(&self, out: &mut Vec<u8>) {
        write::array_len(out, 2);
        write::str(out, &self.host);
        match &self.port {
            AddrPort::Int(i) => i.encode(out),
            AddrPort::Str(s) => write::str(out, s),
        }
    }
}

/// `dict[str, str]`, in wire order.
impl<'a> WireField<'a> for Vec<(Cow<'a, str>, Cow<'a, str>)> {
    const EXPECTED: &'static str = "object";
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let n = r.map_len()?.ok_or_else(|| r.expected("object"))?;
        let mut v = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            let k = str_key(r)?;
            let val = r.str().map_err(|e| e.at(PathSegment::DictValue))?;
            v.push((Cow::Borrowed(k), Cow::Borrowed(val)));
        }
        Ok(v)
    }
    fn encode(&self, out: &mut Vec<u8>) {
        write::map_len(out, self.len() as u32);
        for (k, v) in self {
            write::str(out, k);
            write::str(out, v);
        }
    }
}

/// A map key that must be a str (`dict[str, ...]`).
fn str_key<'a>(r: &mut Reader<'a>) -> Result<&'a str, DecodeError> {
    let at = r.pos();
    match r.str_bytes()? {
        Some(b) => crate::msgpack::utf8(b, at),
        None => Err(r.expected("str").at(PathSegment::Key)),
    }
}

/// A msgpack map with str keys and values of any type (Python
/// `dict[str, Any]`, e.g. [`Start::kwargs`](crate::Start::kwargs)), checked
/// on decode and kept as its exact bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrMap<'a>(Raw<'a>);

impl<'a> StrMap<'a> {
    /// Checks that `raw` is a map with str keys.
    pub fn from_raw(raw: Raw<'a>) -> Result<Self, DecodeError> {
        {
            let mut r = Reader::new(raw.as_bytes());
            <StrMap<'_> as WireField<'_>>::decode(&mut r)?;
            r.finish()?;
        }
        Ok(StrMap(raw))
    }

    /// The empty map.
    pub fn empty() -> StrMap<'static> {
        StrMap(Raw::from_checked(&[0x80]))
    }

    /// Encodes a serde value that serializes as a map with str keys.
    pub fn encode<T: serde::Serialize + ?Sized>(
        value: &T,
    ) -> Result<StrMap<'static>, crate::EncodeError> {
        let raw = Raw::encode(value)?;
        StrMap::from_raw(raw).map_err(|e| crate::EncodeError::Payload(e.to_string()))
    }

    /// The exact bytes of the map.
    pub fn raw(&self) -> &Raw<'a> {
        &self.0
    }

    /// The entries in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Raw<'_>)> + '_ {
        let mut r = Reader::new(self.0.as_bytes());
        // Checked on construction: a map with str keys.
        let n = r.map_len().ok().flatten().unwrap_or(0);
        (0..n).map_while(move |_| {
            let k = r.str().ok()?;
            let v = r.raw().ok()?;
            Some((k, Raw::from_checked(v)))
        })
    }

    /// A copy that owns its bytes.
    pub fn into_owned(self) -> StrMap<'static> {
        StrMap(self.0.into_owned())
    }
}

impl<'a> WireField<'a> for StrMap<'a> {
    const EXPECTED: &'static str = "object";
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        if let 0x80..=0x8f | 0xde | 0xdf = r.peek_byte()? {
            if let Some(bytes) = crate::msgpack::any_str_map(r) {
                return Ok(StrMap(Raw::from_checked(bytes)));
            }
        }
        let start = r.pos();
        let n = r.map_len()?.ok_or_else(|| r.expected("object"))?;
        for _ in 0..n {
            str_key(r)?;
            crate::msgpack::any_value(r)?;
        }
        Ok(StrMap(Raw::from_checked(&r.buf()[start..r.pos()])))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.0.as_bytes())
    }
}

/// A msgpack map with keys and values of any type (Python `dict`, e.g.
/// [`SpawnSpec::parent_main_data`](crate::SpawnSpec::parent_main_data)),
/// checked on decode and kept as its exact bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnyMap<'a>(Raw<'a>);

impl<'a> AnyMap<'a> {
    /// Checks that `raw` is a map.
    pub fn from_raw(raw: Raw<'a>) -> Result<Self, DecodeError> {
        {
            let mut r = Reader::new(raw.as_bytes());
            <AnyMap<'_> as WireField<'_>>::decode(&mut r)?;
            r.finish()?;
        }
        Ok(AnyMap(raw))
    }

    /// The empty map.
    pub fn empty() -> AnyMap<'static> {
        AnyMap(Raw::from_checked(&[0x80]))
    }

    /// The exact bytes of the map.
    pub fn raw(&self) -> &Raw<'a> {
        &self.0
    }

    /// A copy that owns its bytes.
    pub fn into_owned(self) -> AnyMap<'static> {
        AnyMap(self.0.into_owned())
    }
}

impl<'a> WireField<'a> for AnyMap<'a> {
    const EXPECTED: &'static str = "object";
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        if r.peek_kind()? != Kind::Object {
            return Err(r.expected("object"));
        }
        let bytes = crate::msgpack::any_value(r)?;
        Ok(AnyMap(Raw::from_checked(bytes)))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.0.as_bytes())
    }
}
