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
//! cannot overflow the stack; the UTF-8 fast paths; the check of a value
//! typed `Any`, with msgspec's errors; and the iterative builder of
//! dynamic values behind [`Raw::to_value`](crate::Raw::to_value).

mod any;
mod headers;
mod reader;
#[cfg(test)]
mod tests;
mod timestamp;
mod utf8;
mod value;
pub mod write;

pub(crate) use any::{
    any_fast, any_str_map, any_value, check as check_any, hash_outside_key, Hash, Unhashable,
    MAX_DEPTH,
};
pub use headers::{headers, Header, Headers};
pub(crate) use reader::Reader;
pub(crate) use timestamp::check_timestamp;
#[cfg(test)]
pub(crate) use utf8::ascii_str;
pub(crate) use utf8::{is_utf8, utf8};
pub(crate) use value::read_value;

pub(crate) use crate::error::Kind;

/// An integer as read from the wire: msgpack distinguishes unsigned and
/// signed encodings, and the full `u64` range is legal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int {
    /// A non-negative value (any encoding of a value `>= 0`).
    U(u64),
    /// A negative value.
    I(i64),
}
