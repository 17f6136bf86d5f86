//! Low-level msgpack reading and writing shared by the envelope codec, the
//! raw payload and the payload-spec limiter.
//!
//! The [`Reader`] walks a byte slice without building a value tree. It
//! classifies each value by its first byte ([`rmp::Marker`]), checks every
//! length against the bytes that remain before anything is sized from it,
//! and skips nested values iteratively (a counter of values still to skip,
//! no recursion), so hostile nesting cannot overflow the stack.
//!
//! Writing uses [`rmp::encode`], which always picks the smallest header, as
//! msgspec does.

use rmp::Marker;

use crate::error::{DecodeError, ErrorKind};

/// The kind of a msgpack value, named as msgspec names it in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
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
    pub fn expected_name(self) -> &'static str {
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
    pub fn found_name(self) -> &'static str {
        match self {
            Kind::Nil => "None",
            other => other.expected_name(),
        }
    }

    /// The kind of the value starting with byte `b`, or `None` for the
    /// reserved byte `0xc1`.
    #[inline]
    pub fn of_byte(b: u8) -> Option<Kind> {
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

/// A cursor over msgpack bytes. Positions in errors are absolute offsets
/// into the slice the reader was made from.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    #[inline]
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Current offset.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The whole underlying slice.
    #[inline]
    pub fn buf(&self) -> &'a [u8] {
        self.buf
    }

    /// Moves to an absolute offset (at most the end of the input).
    pub fn skip_to(&mut self, pos: usize) {
        self.pos = pos.min(self.buf.len());
    }

    /// Bytes not yet read.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Error unless every byte was consumed (msgspec: "trailing characters").
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(DecodeError::new(ErrorKind::TrailingBytes { at: self.pos }))
        }
    }

    /// The next byte, not consumed.
    #[inline]
    pub fn peek_byte(&self) -> Result<u8, DecodeError> {
        match self.buf.get(self.pos) {
            Some(b) => Ok(*b),
            None => Err(DecodeError::truncated()),
        }
    }

    /// The kind of the next value, not consumed; the reserved byte `0xc1` is
    /// an error.
    #[inline]
    pub fn peek_kind(&self) -> Result<Kind, DecodeError> {
        let b = self.peek_byte()?;
        Kind::of_byte(b).ok_or_else(|| DecodeError::new(ErrorKind::ReservedByte { at: self.pos }))
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::truncated());
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline(always)]
    fn be<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    #[inline]
    fn len8(&mut self) -> Result<usize, DecodeError> {
        Ok(self.be::<1>()?[0] as usize)
    }
    #[inline]
    fn len16(&mut self) -> Result<usize, DecodeError> {
        Ok(u16::from_be_bytes(self.be()?) as usize)
    }
    #[inline]
    fn len32(&mut self) -> Result<usize, DecodeError> {
        Ok(u32::from_be_bytes(self.be()?) as usize)
    }

    /// Skips `n` raw bytes (the caller knows what they hold).
    #[inline]
    pub fn skip_bytes(&mut self, n: usize) -> Result<(), DecodeError> {
        self.take(n).map(|_| ())
    }

    /// The body's bounds of a fixstr or str8 at the reader's position (the
    /// common cases: names, keys, and uuids and cids, which are 36-byte
    /// str8s), if that is what is there and it is complete.
    #[inline(always)]
    fn short_str_at(&self) -> Option<(&'a [u8], usize)> {
        let p = self.pos;
        let (start, n) = match *self.buf.get(p)? {
            b if b & 0xe0 == 0xa0 => (p + 1, (b & 0x1f) as usize),
            0xd9 => (p + 2, *self.buf.get(p + 1)? as usize),
            _ => return None,
        };
        Some((self.buf.get(start..start + n)?, start + n))
    }

    /// Reads a str header and body like [`Reader::str_bytes`], with the
    /// common fixstr and str8 cases inlined at the call site.
    #[inline(always)]
    pub fn str_bytes_fast(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        match self.short_str_at() {
            Some((body, end)) => {
                self.pos = end;
                Ok(Some(body))
            }
            None => self.str_bytes(),
        }
    }

    /// Reads a str header and body. Returns `Ok(None)` (consuming nothing)
    /// when the next value is not a str. The bytes are not checked for UTF-8.
    #[inline(always)]
    pub fn str_bytes(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        let b = self.peek_byte()?;
        let start = self.pos;
        let n = match b {
            0xa0..=0xbf => {
                self.pos += 1;
                (b & 0x1f) as usize
            }
            0xd9 => {
                self.pos += 1;
                self.len8()?
            }
            0xda => {
                self.pos += 1;
                self.len16()?
            }
            0xdb => {
                self.pos += 1;
                self.len32()?
            }
            _ => return Ok(None),
        };
        match self.take(n) {
            Ok(s) => Ok(Some(s)),
            Err(e) => {
                self.pos = start;
                Err(e)
            }
        }
    }

    /// Consumes the next value if it is exactly `key` written as a fixstr
    /// (how msgspec writes every struct key), comparing the header and the
    /// bytes in one go. `key` must be shorter than 32 bytes.
    #[inline(always)]
    pub fn eat_key(&mut self, key: &str) -> bool {
        let k = key.as_bytes();
        let end = self.pos + 1 + k.len();
        match self.buf.get(self.pos..end) {
            Some(s) if s[0] == 0xa0 | k.len() as u8 && &s[1..] == k => {
                self.pos = end;
                true
            }
            _ => false,
        }
    }

    /// Reads a str, checking UTF-8; `Expected `str`, got ...` otherwise.
    #[inline(always)]
    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        let at = self.pos;
        if let Some((body, end)) = self.short_str_at() {
            self.pos = end;
            return utf8(body, at);
        }
        match self.str_bytes()? {
            Some(b) => utf8(b, at),
            None => Err(self.expected("str")),
        }
    }

    /// Reads a bin header and body; `None` (consuming nothing) if not bin.
    pub fn bin(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        let n = match self.peek_byte()? {
            0xc4 => {
                self.pos += 1;
                self.len8()?
            }
            0xc5 => {
                self.pos += 1;
                self.len16()?
            }
            0xc6 => {
                self.pos += 1;
                self.len32()?
            }
            _ => return Ok(None),
        };
        self.take(n).map(Some)
    }

    /// Reads a map header; `None` (consuming nothing) if not a map. The
    /// length is checked against the remaining bytes (each entry takes at
    /// least two bytes).
    #[inline]
    pub fn map_len(&mut self) -> Result<Option<usize>, DecodeError> {
        let n = self.map_header()?;
        if n.is_some_and(|n| n.saturating_mul(2) > self.remaining()) {
            return Err(DecodeError::truncated());
        }
        Ok(n)
    }

    /// Reads an array header; `None` (consuming nothing) if not an array.
    /// The length is checked against the remaining bytes.
    #[inline]
    pub fn array_len(&mut self) -> Result<Option<usize>, DecodeError> {
        let n = self.array_header()?;
        if n.is_some_and(|n| n > self.remaining()) {
            return Err(DecodeError::truncated());
        }
        Ok(n)
    }

    /// Reads an array header without checking its length against the
    /// remaining input; `None` (consuming nothing) if not an array.
    #[inline]
    pub fn array_header(&mut self) -> Result<Option<usize>, DecodeError> {
        let b = self.peek_byte()?;
        Ok(Some(match b {
            0x90..=0x9f => {
                self.pos += 1;
                (b & 0x0f) as usize
            }
            0xdc => {
                self.pos += 1;
                self.len16()?
            }
            0xdd => {
                self.pos += 1;
                self.len32()?
            }
            _ => return Ok(None),
        }))
    }

    /// Reads a map header without checking its length against the
    /// remaining input; `None` (consuming nothing) if not a map.
    #[inline]
    pub fn map_header(&mut self) -> Result<Option<usize>, DecodeError> {
        let b = self.peek_byte()?;
        Ok(Some(match b {
            0x80..=0x8f => {
                self.pos += 1;
                (b & 0x0f) as usize
            }
            0xde => {
                self.pos += 1;
                self.len16()?
            }
            0xdf => {
                self.pos += 1;
                self.len32()?
            }
            _ => return Ok(None),
        }))
    }

    /// Reads an integer of any width; `None` (consuming nothing) if the next
    /// value is not an int.
    #[inline(always)]
    pub fn int(&mut self) -> Result<Option<Int>, DecodeError> {
        // Inlined: fixints and the unsigned widths a pid or port takes.
        let p = self.pos;
        match self.buf.get(p) {
            Some(&b) if b < 0x80 => {
                self.pos = p + 1;
                return Ok(Some(Int::U(b as u64)));
            }
            Some(&b @ 0xcc..=0xce) => {
                let n = 1usize << (b - 0xcc);
                if let Some(s) = self.buf.get(p + 1..p + 1 + n) {
                    let v = match *s {
                        [a] => a as u64,
                        [a, b] => u16::from_be_bytes([a, b]) as u64,
                        [a, b, c, d] => u32::from_be_bytes([a, b, c, d]) as u64,
                        _ => return self.int_slow(),
                    };
                    self.pos = p + 1 + n;
                    return Ok(Some(Int::U(v)));
                }
            }
            _ => {}
        }
        self.int_slow()
    }

    #[inline(never)]
    fn int_slow(&mut self) -> Result<Option<Int>, DecodeError> {
        let b = self.peek_byte()?;
        let v = match b {
            0x00..=0x7f => {
                self.pos += 1;
                Int::U(b as u64)
            }
            0xe0..=0xff => {
                self.pos += 1;
                Int::I(b as i8 as i64)
            }
            0xcc => {
                self.pos += 1;
                Int::U(self.be::<1>()?[0] as u64)
            }
            0xcd => {
                self.pos += 1;
                Int::U(u16::from_be_bytes(self.be()?) as u64)
            }
            0xce => {
                self.pos += 1;
                Int::U(u32::from_be_bytes(self.be()?) as u64)
            }
            0xcf => {
                self.pos += 1;
                Int::U(u64::from_be_bytes(self.be()?))
            }
            0xd0 => {
                self.pos += 1;
                signed(self.be::<1>()?[0] as i8 as i64)
            }
            0xd1 => {
                self.pos += 1;
                signed(i16::from_be_bytes(self.be()?) as i64)
            }
            0xd2 => {
                self.pos += 1;
                signed(i32::from_be_bytes(self.be()?) as i64)
            }
            0xd3 => {
                self.pos += 1;
                signed(i64::from_be_bytes(self.be()?))
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    /// Reads a float (float32 widened, float64); `None` if not a float.
    pub fn float(&mut self) -> Result<Option<f64>, DecodeError> {
        match self.peek_byte()? {
            0xca => {
                self.pos += 1;
                Ok(Some(f32::from_be_bytes(self.be()?) as f64))
            }
            0xcb => {
                self.pos += 1;
                Ok(Some(f64::from_be_bytes(self.be()?)))
            }
            _ => Ok(None),
        }
    }

    /// Reads a bool; `None` (consuming nothing) if not a bool.
    #[inline(always)]
    pub fn bool(&mut self) -> Result<Option<bool>, DecodeError> {
        match self.peek_byte()? {
            0xc2 => {
                self.pos += 1;
                Ok(Some(false))
            }
            0xc3 => {
                self.pos += 1;
                Ok(Some(true))
            }
            _ => Ok(None),
        }
    }

    /// Consumes a nil if the next value is nil.
    #[inline(always)]
    pub fn nil(&mut self) -> Result<bool, DecodeError> {
        if self.peek_byte()? == 0xc0 {
            self.pos += 1;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Reads an ext header and body: `(type code, data)`; `None` if not ext.
    pub fn ext(&mut self) -> Result<Option<(i8, &'a [u8])>, DecodeError> {
        let n = match self.peek_byte()? {
            0xd4 => 1,
            0xd5 => 2,
            0xd6 => 4,
            0xd7 => 8,
            0xd8 => 16,
            0xc7 => {
                self.pos += 1;
                let n = self.len8()?;
                return self.ext_body(n).map(Some);
            }
            0xc8 => {
                self.pos += 1;
                let n = self.len16()?;
                return self.ext_body(n).map(Some);
            }
            0xc9 => {
                self.pos += 1;
                let n = self.len32()?;
                return self.ext_body(n).map(Some);
            }
            _ => return Ok(None),
        };
        self.pos += 1;
        self.ext_body(n).map(Some)
    }

    fn ext_body(&mut self, n: usize) -> Result<(i8, &'a [u8]), DecodeError> {
        let code = self.be::<1>()?[0] as i8;
        Ok((code, self.take(n)?))
    }

    /// The error "Expected `what`, got `<kind of the next value>`" (or the
    /// read error if the next value cannot even be classified).
    pub fn expected(&self, what: &'static str) -> DecodeError {
        match self.peek_kind() {
            Ok(kind) => DecodeError::expected(what, kind),
            Err(e) => e,
        }
    }

    /// Skips one complete value, checking only its structure (as msgspec
    /// does for `Raw` and for unknown struct fields), and returns its bytes.
    #[inline(always)]
    pub fn raw(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        // Inlined: a value whose first byte tells its size, the usual
        // payload (an int, `None`, a short str).
        if let Some(&b) = self.buf.get(start) {
            let size = fixed_size(b);
            if size != 0 {
                if let Some(v) = self.buf.get(start..start + size) {
                    self.pos = start + size;
                    return Ok(v);
                }
            }
        }
        self.skip_values(1)?;
        Ok(&self.buf[start..self.pos])
    }

    /// Skips `n` complete values without recursion.
    pub fn skip_values(&mut self, n: usize) -> Result<(), DecodeError> {
        self.skip_impl(n, true)
    }

    /// Like [`Reader::skip_values`], but container counts are not checked
    /// against the remaining input up front: as msgspec does, the values
    /// are read one by one, so a reserved byte before the end of the input
    /// is reported as such rather than as truncation. Still bounded: every
    /// value takes at least one byte.
    pub fn skip_values_lazy(&mut self, n: usize) -> Result<(), DecodeError> {
        self.skip_impl(n, false)
    }

    /// After a fixed-size value of `size` bytes: skips the run of values
    /// that follows it when they repeat its size (a list of same-width
    /// ints) or alternate with one other size (a map of same-width keys and
    /// values). The stride is known before the loop, so the next position
    /// never waits for a loaded byte: the loop runs as fast as the loads
    /// can be issued, instead of one dependent load per value.
    #[inline(always)]
    fn skip_runs(&mut self, n: &mut usize, size: usize) {
        let buf = self.buf;
        let (mut pos, mut left) = (self.pos, *n);
        let Some(&next) = buf.get(pos) else { return };
        let other = fixed_size(next);
        if other == 0 {
            return;
        }
        // The same first byte again is the common case and the cheapest test.
        let same = |b: u8, first: u8, size: usize| b == first || fixed_size(b) == size;
        if other == size {
            while left > 0 && pos + size <= buf.len() && same(buf[pos], next, size) {
                pos += size;
                left -= 1;
            }
        } else {
            let pair = other + size;
            let Some(&first) = buf.get(pos + other) else {
                return;
            };
            if fixed_size(first) != size {
                return;
            }
            while left >= 2
                && pos + pair <= buf.len()
                && same(buf[pos], next, other)
                && same(buf[pos + other], first, size)
            {
                pos += pair;
                left -= 2;
            }
        }
        self.pos = pos;
        *n = left;
    }

    fn skip_impl(&mut self, mut n: usize, eager: bool) -> Result<(), DecodeError> {
        while n > 0 {
            // Fast path: values whose size the first byte tells (ints,
            // floats, nil, bools, fixstrs, fixexts), the bulk of any payload.
            let b = self.peek_byte()?;
            let size = fixed_size(b);
            if size != 0 {
                if size > self.remaining() {
                    return Err(DecodeError::truncated());
                }
                self.pos += size;
                n -= 1;
                if n > 0 {
                    self.skip_runs(&mut n, size);
                }
                continue;
            }
            n -= 1;
            let (skip, children): (usize, usize) = match b {
                0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (1, 0),
                0x80..=0x8f => (1, 2 * (b & 0x0f) as usize),
                0x90..=0x9f => (1, (b & 0x0f) as usize),
                0xa0..=0xbf => (1 + (b & 0x1f) as usize, 0),
                0xc1 => return Err(DecodeError::new(ErrorKind::ReservedByte { at: self.pos })),
                0xcc | 0xd0 => (2, 0),
                0xcd | 0xd1 => (3, 0),
                0xce | 0xd2 | 0xca => (5, 0),
                0xcf | 0xd3 | 0xcb => (9, 0),
                0xd4 => (3, 0),
                0xd5 => (4, 0),
                0xd6 => (6, 0),
                0xd7 => (10, 0),
                0xd8 => (18, 0),
                0xc4 | 0xd9 => {
                    self.pos += 1;
                    (self.len8()?, 0)
                }
                0xc5 | 0xda => {
                    self.pos += 1;
                    (self.len16()?, 0)
                }
                0xc6 | 0xdb => {
                    self.pos += 1;
                    (self.len32()?, 0)
                }
                0xc7 => {
                    self.pos += 1;
                    (self.len8()? + 1, 0)
                }
                0xc8 => {
                    self.pos += 1;
                    (self.len16()? + 1, 0)
                }
                0xc9 => {
                    self.pos += 1;
                    (self.len32()? + 1, 0)
                }
                0xdc => {
                    self.pos += 1;
                    (0, self.len16()?)
                }
                0xdd => {
                    self.pos += 1;
                    (0, self.len32()?)
                }
                0xde => {
                    self.pos += 1;
                    (0, 2 * self.len16()?)
                }
                0xdf => {
                    self.pos += 1;
                    (0, 2 * self.len32()?)
                }
            };
            self.take(skip)?;
            if children > 0 {
                // Every value takes at least one byte: a count larger than
                // what is left is truncated input, found before any work.
                n = n.saturating_add(children);
                if eager && n > self.remaining() {
                    return Err(DecodeError::truncated());
                }
            }
        }
        Ok(())
    }
}

/// The total size of a value that the first byte alone tells (`0`: the
/// size needs more bytes, or the value is a container or the reserved byte).
/// Branches rather than a table: for the long runs of same-typed values in
/// payloads the branch is predicted, so the next position does not wait for
/// this byte to load.
#[inline(always)]
fn fixed_size(b: u8) -> usize {
    if !(0x80..0xe0).contains(&b) {
        return 1;
    }
    match b {
        0xcd | 0xd1 => 3,
        0xcc | 0xd0 => 2,
        0xce | 0xd2 | 0xca => 5,
        0xcf | 0xd3 | 0xcb => 9,
        0xc0 | 0xc2 | 0xc3 => 1,
        0xa0..=0xbf => 1 + (b & 0x1f) as usize,
        0xd4 => 3,
        0xd5 => 4,
        0xd6 => 6,
        0xd7 => 10,
        0xd8 => 18,
        _ => 0,
    }
}

/// True if every byte of a short slice (under 64 bytes) is ASCII: a fixed
/// set of word loads for each size class, the second half overlapping the
/// first, so there is no loop to run.
#[inline(always)]
fn is_ascii_short(b: &[u8]) -> bool {
    const HI: u64 = 0x8080_8080_8080_8080;
    let n = b.len();
    let w = |i: usize| -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(a)
    };
    let acc = if n > 32 {
        // 33..=63: 32 bytes from the front, 32 from the back.
        w(0) | w(8) | w(16) | w(24) | w(n - 32) | w(n - 24) | w(n - 16) | w(n - 8)
    } else if n > 16 {
        w(0) | w(8) | w(n - 16) | w(n - 8)
    } else if n >= 8 {
        w(0) | w(n - 8)
    } else if n >= 4 {
        let h = |i: usize| -> u64 {
            let mut a = [0u8; 4];
            a.copy_from_slice(&b[i..i + 4]);
            u32::from_le_bytes(a) as u64
        };
        h(0) | h(n - 4)
    } else {
        return b.iter().all(|&c| c < 0x80);
    };
    acc & HI == 0
}

/// The slice as a str if it is short and ASCII (the envelope's usual
/// strings: names, uuids, cids, keys); `None` sends the caller to [`utf8`].
#[inline(always)]
pub fn ascii_str(b: &[u8]) -> Option<&str> {
    if b.len() < 64 && is_ascii_short(b) {
        // SAFETY: every byte is ASCII, and ASCII is valid UTF-8.
        #[allow(unsafe_code)]
        return Some(unsafe { std::str::from_utf8_unchecked(b) });
    }
    None
}

/// UTF-8 validation: a word-at-a-time ASCII check for the short strings
/// that make up most of an envelope (inlined), SIMD for long ones; the
/// slower standard check runs only to word an error.
#[inline(always)]
pub fn utf8(b: &[u8], at: usize) -> Result<&str, DecodeError> {
    match ascii_str(b) {
        Some(s) => Ok(s),
        None => utf8_long(b, at),
    }
}

#[inline(never)]
fn utf8_long(b: &[u8], at: usize) -> Result<&str, DecodeError> {
    match simdutf8::basic::from_utf8(b) {
        Ok(s) => Ok(s),
        Err(_) => match std::str::from_utf8(b) {
            Ok(s) => Ok(s),
            Err(e) => Err(DecodeError::utf8(b, e, at)),
        },
    }
}

/// True if `b` is valid UTF-8 (the fast checks of [`utf8`], no error).
#[inline]
pub fn is_utf8(b: &[u8]) -> bool {
    ascii_str(b).is_some() || simdutf8::basic::from_utf8(b).is_ok()
}

#[inline]
fn signed(v: i64) -> Int {
    if v >= 0 {
        Int::U(v as u64)
    } else {
        Int::I(v)
    }
}

/// Writers for msgpack headers and scalars, smallest form first (as msgspec
/// writes them). Writing into a `Vec<u8>` cannot fail, so these return
/// nothing.
pub mod write {
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
}

/// Builds a dynamic value from one msgpack value, iteratively (no
/// recursion, whatever the nesting), refusing nesting deeper than
/// `max_depth` containers. Strs are not checked for UTF-8 here (rmpv keeps
/// invalid ones as bytes); use [`crate::pld_spec::PldSpec::any_value`] first to check them.
pub fn read_value(bytes: &[u8], max_depth: usize) -> Result<rmpv::Value, DecodeError> {
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

/// One value's header in an encoding, as [`headers`] meets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Offset of the value's first (marker) byte.
    pub offset: usize,
    /// The marker byte (`0xca` a float32, `0x90..=0x9f` a fixarray, ...).
    pub marker: u8,
    /// Bytes of the header: the marker, and any length or ext-type bytes.
    pub header_len: usize,
    /// Bytes after the header that are the value's own: a str's, bin's or
    /// ext's data, a number's bytes; 0 for containers and one-byte values.
    pub body_len: u64,
    /// Values directly inside a container (a map's keys and values both
    /// counted); 0 for anything else.
    pub items: u64,
}

/// Walks the headers of one encoded value, depth first (a container before
/// its items), without building anything and without recursion: the one
/// walker for code that needs every value's position and kind (counting
/// values, finding float32s, explaining a difference). Stops at the end of
/// the value, or where the input ends early or holds the reserved byte
/// `0xc1` (see [`Headers::complete`]).
///
/// ```
/// let kinds: Vec<u8> = shuttle::msgpack::headers(&[0x92, 0x01, 0xca, 0, 0, 0, 0])
///     .map(|h| h.marker)
///     .collect();
/// assert_eq!(kinds, [0x92, 0x01, 0xca]);
/// ```
pub fn headers(bytes: &[u8]) -> Headers<'_> {
    Headers {
        bytes,
        pos: 0,
        pending: 1,
        broken: false,
    }
}

/// The iterator of [`headers`].
#[derive(Clone, Debug)]
pub struct Headers<'a> {
    bytes: &'a [u8],
    pos: usize,
    pending: u64,
    broken: bool,
}

impl Headers<'_> {
    /// Whether the walk reached the end of the value with every byte of it
    /// present (false while it is under way, or when it stopped early).
    pub fn complete(&self) -> bool {
        self.pending == 0 && !self.broken && self.pos <= self.bytes.len()
    }

    /// Bytes walked so far (after the whole value: its length).
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl Iterator for Headers<'_> {
    type Item = Header;

    fn next(&mut self) -> Option<Header> {
        use rmp::Marker;
        if self.pending == 0 || self.broken {
            return None;
        }
        let bytes = self.bytes;
        let offset = self.pos;
        let len = |at: usize, n: usize| -> Option<u64> {
            let b = bytes.get(at..at.checked_add(n)?)?;
            Some(b.iter().fold(0, |a, &x| a << 8 | u64::from(x)))
        };
        let Some(&m) = bytes.get(offset) else {
            self.broken = true;
            return None;
        };
        // (header bytes after the marker, body bytes, items)
        let shape: Option<(usize, u64, u64)> = match Marker::from_u8(m) {
            Marker::FixPos(_) | Marker::FixNeg(_) | Marker::Null | Marker::True | Marker::False => {
                Some((0, 0, 0))
            }
            Marker::U8 | Marker::I8 => Some((0, 1, 0)),
            Marker::U16 | Marker::I16 => Some((0, 2, 0)),
            Marker::U32 | Marker::I32 | Marker::F32 => Some((0, 4, 0)),
            Marker::U64 | Marker::I64 | Marker::F64 => Some((0, 8, 0)),
            Marker::FixStr(n) => Some((0, u64::from(n), 0)),
            Marker::Str8 | Marker::Bin8 => len(offset + 1, 1).map(|n| (1, n, 0)),
            Marker::Str16 | Marker::Bin16 => len(offset + 1, 2).map(|n| (2, n, 0)),
            Marker::Str32 | Marker::Bin32 => len(offset + 1, 4).map(|n| (4, n, 0)),
            Marker::FixArray(n) => Some((0, 0, u64::from(n))),
            Marker::Array16 => len(offset + 1, 2).map(|n| (2, 0, n)),
            Marker::Array32 => len(offset + 1, 4).map(|n| (4, 0, n)),
            Marker::FixMap(n) => Some((0, 0, 2 * u64::from(n))),
            Marker::Map16 => len(offset + 1, 2).map(|n| (2, 0, 2 * n)),
            Marker::Map32 => len(offset + 1, 4).map(|n| (4, 0, 2 * n)),
            Marker::FixExt1 => Some((1, 1, 0)),
            Marker::FixExt2 => Some((1, 2, 0)),
            Marker::FixExt4 => Some((1, 4, 0)),
            Marker::FixExt8 => Some((1, 8, 0)),
            Marker::FixExt16 => Some((1, 16, 0)),
            Marker::Ext8 => len(offset + 1, 1).map(|n| (2, n, 0)),
            Marker::Ext16 => len(offset + 1, 2).map(|n| (3, n, 0)),
            Marker::Ext32 => len(offset + 1, 4).map(|n| (5, n, 0)),
            Marker::Reserved => None,
        };
        let Some((extra, body_len, items)) = shape else {
            self.broken = true;
            return None;
        };
        let header_len = 1 + extra;
        let end = usize::try_from(body_len)
            .ok()
            .and_then(|b| (offset + header_len).checked_add(b));
        match end {
            Some(end) if end <= bytes.len() => self.pos = end,
            // The value's bytes run past the input: it is reported, and
            // the walk ends with it.
            _ => {
                self.pos = bytes.len() + 1;
                self.broken = true;
            }
        }
        self.pending = (self.pending - 1).saturating_add(items);
        Some(Header {
            offset,
            marker: m,
            header_len,
            body_len,
            items,
        })
    }
}
