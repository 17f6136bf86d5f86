//! [`Reader`]: a cursor that walks msgpack bytes without building a value
//! tree, checking every length against the bytes that remain and skipping
//! nested values iteratively.

use super::utf8::utf8;
use super::{Int, Kind};
use crate::error::{DecodeError, ErrorKind};

/// A cursor over msgpack bytes. Positions in errors are absolute offsets
/// into the slice the reader was made from.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    #[inline]
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Current offset.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The whole underlying slice.
    #[inline]
    pub(crate) fn buf(&self) -> &'a [u8] {
        self.buf
    }

    /// Moves to an absolute offset (at most the end of the input).
    pub(crate) fn skip_to(&mut self, pos: usize) {
        self.pos = pos.min(self.buf.len());
    }

    /// Bytes not yet read.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Error unless every byte was consumed (msgspec: "trailing characters").
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(DecodeError::new(ErrorKind::TrailingBytes { at: self.pos }))
        }
    }

    /// The next byte, not consumed.
    #[inline]
    pub(crate) fn peek_byte(&self) -> Result<u8, DecodeError> {
        match self.buf.get(self.pos) {
            Some(b) => Ok(*b),
            None => Err(DecodeError::truncated()),
        }
    }

    /// The kind of the next value, not consumed; the reserved byte `0xc1` is
    /// an error.
    #[inline]
    pub(crate) fn peek_kind(&self) -> Result<Kind, DecodeError> {
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
    pub(crate) fn skip_bytes(&mut self, n: usize) -> Result<(), DecodeError> {
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
    pub(crate) fn str_bytes_fast(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
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
    pub(crate) fn str_bytes(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
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
    pub(crate) fn eat_key(&mut self, key: &str) -> bool {
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
    pub(crate) fn str(&mut self) -> Result<&'a str, DecodeError> {
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
    pub(crate) fn bin(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
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
    pub(crate) fn map_len(&mut self) -> Result<Option<usize>, DecodeError> {
        let n = self.map_header()?;
        if n.is_some_and(|n| n.saturating_mul(2) > self.remaining()) {
            return Err(DecodeError::truncated());
        }
        Ok(n)
    }

    /// Reads an array header; `None` (consuming nothing) if not an array.
    /// The length is checked against the remaining bytes.
    #[inline]
    pub(crate) fn array_len(&mut self) -> Result<Option<usize>, DecodeError> {
        let n = self.array_header()?;
        if n.is_some_and(|n| n > self.remaining()) {
            return Err(DecodeError::truncated());
        }
        Ok(n)
    }

    /// Reads an array header without checking its length against the
    /// remaining input; `None` (consuming nothing) if not an array.
    #[inline]
    pub(crate) fn array_header(&mut self) -> Result<Option<usize>, DecodeError> {
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
    pub(crate) fn map_header(&mut self) -> Result<Option<usize>, DecodeError> {
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
    pub(crate) fn int(&mut self) -> Result<Option<Int>, DecodeError> {
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
    pub(crate) fn float(&mut self) -> Result<Option<f64>, DecodeError> {
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
    pub(crate) fn bool(&mut self) -> Result<Option<bool>, DecodeError> {
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
    pub(crate) fn nil(&mut self) -> Result<bool, DecodeError> {
        if self.peek_byte()? == 0xc0 {
            self.pos += 1;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Reads an ext header and body: `(type code, data)`; `None` if not ext.
    pub(crate) fn ext(&mut self) -> Result<Option<(i8, &'a [u8])>, DecodeError> {
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
    pub(crate) fn expected(&self, what: &'static str) -> DecodeError {
        match self.peek_kind() {
            Ok(kind) => DecodeError::expected(what, kind),
            Err(e) => e,
        }
    }

    /// Skips one complete value, checking only its structure (as msgspec
    /// does for `Raw` and for unknown struct fields), and returns its bytes.
    #[inline(always)]
    pub(crate) fn raw(&mut self) -> Result<&'a [u8], DecodeError> {
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

    /// Skips one value, checking only its structure and the nesting limit
    /// (`depth` containers are open around it), not the UTF-8 of its strs:
    /// how msgspec passes over a value it does not validate (an unknown
    /// struct field, a value before a tag, trailing array items), and how
    /// `Raw::decode` bounds a payload's depth.
    pub(crate) fn skip_nested(
        &mut self,
        depth: usize,
        max_depth: usize,
    ) -> Result<(), DecodeError> {
        // Values still to skip in each container opened while skipping.
        let mut open: Vec<usize> = Vec::new();
        let mut left = 1usize;
        loop {
            while left == 0 {
                match open.pop() {
                    Some(l) => left = l,
                    None => return Ok(()),
                }
            }
            left -= 1;
            let children = match self.peek_byte()? {
                0x90..=0x9f | 0xdc | 0xdd => self.array_header()?.unwrap_or(0),
                0x80..=0x8f | 0xde | 0xdf => self.map_header()?.unwrap_or(0).saturating_mul(2),
                _ => {
                    self.skip_values_lazy(1)?;
                    continue;
                }
            };
            if children > 0 {
                if depth + open.len() + 1 > max_depth {
                    return Err(DecodeError::new(ErrorKind::TooDeep { limit: max_depth }));
                }
                open.push(left);
                left = children;
            }
        }
    }

    /// Skips `n` complete values without recursion.
    pub(crate) fn skip_values(&mut self, n: usize) -> Result<(), DecodeError> {
        self.skip_impl(n, true)
    }

    /// Like [`Reader::skip_values`], but container counts are not checked
    /// against the remaining input up front: as msgspec does, the values
    /// are read one by one, so a reserved byte before the end of the input
    /// is reported as such rather than as truncation. Still bounded: every
    /// value takes at least one byte.
    pub(crate) fn skip_values_lazy(&mut self, n: usize) -> Result<(), DecodeError> {
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

#[inline]
fn signed(v: i64) -> Int {
    if v >= 0 {
        Int::U(v as u64)
    } else {
        Int::I(v)
    }
}
