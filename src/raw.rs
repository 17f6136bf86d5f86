//! [`Raw`]: msgpack bytes kept exactly as they arrived (tractor's
//! `msgspec.Raw`), and [`EncodePld`], what a payload must do to be sent.

use std::borrow::Cow;

use serde::de::DeserializeSeed;
use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, EncodeError};
use crate::msgpack::Reader;
use crate::value::Value;

/// One complete msgpack value, kept as its exact bytes.
///
/// This is the default payload of [`Started`](crate::Started),
/// [`Yield`](crate::Yield) and [`Return`](crate::Return): decoding a frame
/// only checks that the payload is well-formed msgpack and borrows its bytes
/// from the frame, without copying or decoding them. Decode it later with
/// [`Raw::decode`] (serde), [`Raw::to_value`] (a dynamic [`Value`]) or validate it
/// against a payload spec. Re-encoding writes the same bytes back, so a relay
/// never changes a payload's encoding.
///
/// ```
/// use shuttle::Raw;
/// let raw = Raw::from_slice(&[0x92, 0x01, 0xa1, b'x']).unwrap();
/// let (n, s): (u8, String) = raw.decode().unwrap();
/// assert_eq!((n, s.as_str()), (1, "x"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Raw<'a> {
    bytes: Cow<'a, [u8]>,
}

impl<'a> Raw<'a> {
    /// Wraps bytes that are known to hold exactly one well-formed value.
    pub(crate) fn from_checked(bytes: &'a [u8]) -> Self {
        Raw {
            bytes: Cow::Borrowed(bytes),
        }
    }

    /// Checks that `bytes` hold exactly one well-formed msgpack value and
    /// borrows them.
    pub fn from_slice(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.raw()?;
        r.finish()?;
        Ok(Self::from_checked(bytes))
    }

    /// The payload `nil` (Python `None`).
    pub fn nil() -> Raw<'static> {
        Raw {
            bytes: Cow::Borrowed(&[0xc0]),
        }
    }

    /// Encodes a serde value the way msgspec would encode the equivalent
    /// Python value: structs as maps, the smallest int forms, and every
    /// float as float64 (Python has no float32: an `f32` is widened).
    ///
    /// A Python `bytes` is a msgpack bin, which serde writes only for types
    /// that say so: use `serde_bytes::ByteBuf` (or `#[serde(with =
    /// "serde_bytes")]`) for it. A plain `Vec<u8>` is a sequence, written
    /// as an array of ints, which is a Python `list[int]`.
    ///
    /// ```
    /// use shuttle::Raw;
    /// assert_eq!(Raw::encode(&0.5f32).unwrap().as_bytes(), [0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]);
    /// assert_eq!(Raw::encode(&vec![1u8, 2]).unwrap().as_bytes(), [0x92, 0x01, 0x02]);
    /// assert_eq!(
    ///     Raw::encode(&serde_bytes::ByteBuf::from(vec![1u8, 2])).unwrap().as_bytes(),
    ///     [0xc4, 0x02, 0x01, 0x02]
    /// );
    /// ```
    pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Raw<'static>, EncodeError> {
        let mut out = Vec::new();
        value.encode_pld(&mut out)?;
        Ok(Raw {
            bytes: Cow::Owned(out),
        })
    }

    /// The exact msgpack bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Decodes the payload into a serde type (rmp-serde: structs from maps
    /// or arrays), as deep as the protocol nests values
    /// ([`DEFAULT_MAX_DEPTH`](crate::DEFAULT_MAX_DEPTH); deeper is a
    /// `RecursionError`). Serde recurses once or more per level of nesting,
    /// so a decode that could outgrow the stack left on its thread runs on
    /// a fresh stack segment ([stacker]): it fits any thread.
    ///
    /// ```
    /// use shuttle::Raw;
    /// let raw = Raw::encode(&("a", [1, 2])).unwrap();
    /// let (s, v): (String, Vec<u8>) = raw.decode().unwrap();
    /// assert_eq!((s.as_str(), v), ("a", vec![1, 2]));
    /// let err = raw.decode::<u8>().unwrap_err();
    /// assert_eq!(err.python_type(), "ValidationError");
    /// ```
    ///
    /// [stacker]: https://docs.rs/stacker
    pub fn decode<'de, T: Deserialize<'de>>(&'de self) -> Result<T, DecodeError> {
        self.decode_seed(std::marker::PhantomData)
    }

    /// [`Raw::decode`] through a serde `DeserializeSeed` (for decoding
    /// with state, e.g. `serde_ignored`'s report of unknown fields).
    pub fn decode_seed<'de, S: DeserializeSeed<'de>>(
        &'de self,
        seed: S,
    ) -> Result<S::Value, DecodeError> {
        use crate::error::ErrorKind;
        let bytes: &'de [u8] = &self.bytes;
        let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
        // (rmp-serde refuses the level that brings its count to the limit.)
        de.set_max_depth(crate::DEFAULT_MAX_DEPTH + 1);
        // The stack to have at hand: a value of n bytes nests at most n
        // levels, and a structure-only skip (no UTF-8 checks) tells a
        // shallow one.
        let shallow = bytes.len() <= SHALLOW || Reader::new(bytes).skip_nested(0, SHALLOW).is_ok();
        let need = if shallow {
            SHALLOW
        } else {
            crate::DEFAULT_MAX_DEPTH
        } * STACK_PER_LEVEL;
        let decoded = stacker::maybe_grow(need, need + (1 << 20), || seed.deserialize(&mut de));
        decoded.map_err(|e| match e {
            rmp_serde::decode::Error::DepthLimitExceeded => DecodeError::new(ErrorKind::TooDeep {
                limit: crate::DEFAULT_MAX_DEPTH,
            }),
            e => DecodeError::new(ErrorKind::Other(e.to_string())),
        })
    }

    /// Decodes the payload into a dynamic value, without recursion, up to
    /// [`DEFAULT_MAX_DEPTH`](crate::DEFAULT_MAX_DEPTH) levels (deeper is a
    /// `RecursionError`, as in msgspec). Strs must be UTF-8 and map keys
    /// hashable, as when msgspec decodes it as `Any`.
    pub fn to_value(&self) -> Result<Value, DecodeError> {
        let mut r = Reader::new(&self.bytes);
        crate::msgpack::any_value(&mut r)?;
        r.finish()?;
        crate::msgpack::read_value(&self.bytes, crate::DEFAULT_MAX_DEPTH).map(Value::from)
    }

    /// A copy that owns its bytes.
    pub fn into_owned(self) -> Raw<'static> {
        Raw {
            bytes: Cow::Owned(self.bytes.into_owned()),
        }
    }
}

/// Nesting up to which a serde decode is taken as shallow.
const SHALLOW: usize = 128;

/// The stack a serde decode may need per level of nesting (about 2 KiB
/// into `rmpv::Value` in an unoptimised build, twice that for margin).
const STACK_PER_LEVEL: usize = 4 << 10;

/// A payload that can be written into a message: [`Raw`] writes its bytes
/// back unchanged; any serde type is encoded as msgspec would encode it.
pub trait EncodePld {
    /// Appends the payload's msgpack encoding to `out`.
    fn encode_pld(&self, out: &mut Vec<u8>) -> Result<(), EncodeError>;
}

impl EncodePld for Raw<'_> {
    fn encode_pld(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.bytes);
        Ok(())
    }
}

impl<T: Serialize + ?Sized> EncodePld for T {
    fn encode_pld(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let mut ser = rmp_serde::Serializer::new(&mut *out).with_struct_map();
        self.serialize(&mut ser)
            .map_err(|e| EncodeError::Payload(e.to_string()))?;
        widen_f32(out, start);
        Ok(())
    }
}

/// Rewrites every float32 of the msgpack written at `out[start..]` as the
/// float64 msgspec would write (rmp-serde keeps an `f32` as float32, and
/// has no setting to widen it). One pass over the value's headers; the
/// bytes are rebuilt only when a float32 is there. Input that does not
/// parse is left as it is.
fn widen_f32(out: &mut Vec<u8>, start: usize) {
    let bytes = &out[start..];
    let mut walk = crate::msgpack::headers(bytes);
    let at: Vec<usize> = walk
        .by_ref()
        .filter(|h| h.marker == 0xca)
        .map(|h| h.offset)
        .collect();
    // (A value cut short is not rmp-serde's output: left as it is.)
    if at.is_empty() || !walk.complete() {
        return;
    }
    let mut widened = Vec::with_capacity(bytes.len() + 4 * at.len());
    let mut from = 0;
    for i in at {
        widened.extend_from_slice(&bytes[from..i]);
        let mut f = [0u8; 4];
        f.copy_from_slice(&bytes[i + 1..i + 5]);
        widened.push(0xcb);
        widened.extend_from_slice(&f64::from(f32::from_be_bytes(f)).to_be_bytes());
        from = i + 5;
    }
    widened.extend_from_slice(&bytes[from..]);
    out.truncate(start);
    out.extend_from_slice(&widened);
}
