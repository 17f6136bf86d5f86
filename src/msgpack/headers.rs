//! [`headers`]: the one walker over a value's headers, iterative.

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
