//! msgpack as msgspec writes it, and the one walker over encoded values.
//!
//! Public: [`write`](mod@write), headers and scalars in their smallest form (as
//! msgspec writes them), for building payloads byte for byte;
//! [`headers`], an iterative walk over every value's header in an
//! encoding; and [`Int`], an integer as read from the wire.
//!
//! Internal to the crate: the `Reader`, a cursor that walks bytes without
//! building a value tree, classifies each value by its first byte
//! ([`rmp::Marker`]), checks every length against the bytes that remain
//! before anything is sized from it, and skips nested values iteratively
//! (a counter of values still to skip, no recursion), so hostile nesting
//! cannot overflow the stack; the UTF-8 fast paths; and the iterative
//! builder of dynamic values behind [`Raw::to_value`](crate::Raw::to_value).

mod headers;
mod reader;
#[cfg(test)]
mod tests;
mod timestamp;
mod utf8;
mod value;
pub mod write;

pub use headers::{headers, Header, Headers};
pub(crate) use reader::Reader;
pub(crate) use timestamp::check_timestamp;
#[cfg(test)]
pub(crate) use utf8::ascii_str;
pub(crate) use utf8::{is_utf8, utf8};
pub(crate) use value::read_value;

use rmp::Marker;

/// The kind of a msgpack value, named as msgspec names it in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// `nil`
    Nil,
    /// `true` / `false`
    Bool,
    /// any integer width
    Int,
    /// float32 or float64
    Float,
    /// any str width
    Str,
    /// any bin width
    Bytes,
    /// any array width
    Array,
    /// any map width (msgspec says `object`)
    Object,
    /// any ext, including the timestamp ext `-1`
    Ext,
}

impl Kind {
    /// msgspec's name for the kind where it is *expected* (`null`, `int`, `object`, ...).
    pub(crate) fn expected_name(self) -> &'static str {
        match self {
            Kind::Nil => "null",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Str => "str",
            Kind::Bytes => "bytes",
            Kind::Array => "array",
            Kind::Object => "object",
            Kind::Ext => "ext",
        }
    }

    /// msgspec's name for the kind where it was *found*: like
    /// [`Kind::expected_name`] except that nil is spelled `None`.
    pub(crate) fn found_name(self) -> &'static str {
        match self {
            Kind::Nil => "None",
            other => other.expected_name(),
        }
    }

    /// The kind of the value starting with byte `b`, or `None` for the
    /// reserved byte `0xc1`.
    #[inline]
    pub(crate) fn of_byte(b: u8) -> Option<Kind> {
        Some(match Marker::from_u8(b) {
            Marker::FixPos(_) | Marker::FixNeg(_) => Kind::Int,
            Marker::U8 | Marker::U16 | Marker::U32 | Marker::U64 => Kind::Int,
            Marker::I8 | Marker::I16 | Marker::I32 | Marker::I64 => Kind::Int,
            Marker::Null => Kind::Nil,
            Marker::True | Marker::False => Kind::Bool,
            Marker::F32 | Marker::F64 => Kind::Float,
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => Kind::Str,
            Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => Kind::Bytes,
            Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => Kind::Array,
            Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => Kind::Object,
            Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32 => Kind::Ext,
            Marker::Reserved => return None,
        })
    }
}

/// An integer as read from the wire: msgpack distinguishes unsigned and
/// signed encodings, and the full `u64` range is legal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int {
    /// A non-negative value (any encoding of a value `>= 0`).
    U(u64),
    /// A negative value.
    I(i64),
}
