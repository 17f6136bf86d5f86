//! The check of a value typed `Any`: what msgspec accepts when it decodes
//! msgpack with no type (well-formed msgpack, UTF-8 strs, valid timestamps,
//! hashable map keys, nesting within [`MAX_DEPTH`]), with its exact errors.
//!
//! Two walkers share the rules: [`any_fast`], one loop with no path
//! bookkeeping that answers yes or "not sure", and [`check`], an explicit
//! stack that words the error and its path. The envelope's `Any`-typed
//! fields, [`Raw::decode`](crate::Raw::decode) and the payload-spec walker
//! (for every position typed `Any`) all use them.

use crate::error::{DecodeError, ErrorKind, PathSegment};

use super::{check_timestamp, is_utf8, utf8, Reader};

/// Deepest nesting of non-empty containers accepted, matching where
/// CPython's recursion limit (1000) stops msgspec on Python 3.11: 998
/// levels pass, the 999th raises `RecursionError`.
pub(crate) const MAX_DEPTH: usize = 998;

/// Checks a value typed `Any` (not a map key) in one loop: structure,
/// UTF-8 of strs, timestamps, the nesting limit, and no container or
/// non-timestamp ext as a map key. Returns `false` at the first doubt
/// (including keys that are containers, which are rare), leaving the exact
/// verdict and error to the frame walker; the reader moves only on `true`.
/// With `STR_KEYS` the keys of the outermost map must be strs (Python
/// `dict[str, Any]`).
pub(crate) fn any_fast<const STR_KEYS: bool>(
    r: &mut Reader<'_>,
    depth: usize,
    max_depth: usize,
) -> bool {
    /// Containers tracked without allocating; deeper values take the
    /// general path.
    const MAX_OPEN: usize = 32;
    let buf = r.buf();
    let mut pos = r.pos();
    // Each open container as `rem << 1 | is_map` (counts fit: at most
    // twice a u32).
    let mut open = [0usize; MAX_OPEN];
    let mut sp = 0;
    let (mut rem, mut is_map) = (1usize, false);
    // Reads a big-endian length of `N` bytes at `at`.
    let be = |at: usize, n: usize| -> Option<usize> {
        let s = buf.get(at..at + n)?;
        Some(s.iter().fold(0usize, |acc, &x| acc << 8 | x as usize))
    };
    loop {
        while rem == 0 {
            if sp == 0 {
                r.skip_to(pos);
                return true;
            }
            sp -= 1;
            (rem, is_map) = (open[sp] >> 1, open[sp] & 1 == 1);
        }
        let in_key = is_map && rem % 2 == 0;
        rem -= 1;
        let Some(&b) = buf.get(pos) else {
            return false;
        };
        if STR_KEYS && in_key && sp == 1 && !matches!(b, 0xa0..=0xbf | 0xd9..=0xdb) {
            return false;
        }
        // Every value below takes at least one byte, so the loop is bounded
        // by the input whatever the announced lengths.
        let (children, child_is_map) = match b {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => {
                pos += 1;
                continue;
            }
            0xa0..=0xbf | 0xd9..=0xdb => {
                let (start, n) = match b {
                    0xd9 => (pos + 2, be(pos + 1, 1)),
                    0xda => (pos + 3, be(pos + 1, 2)),
                    0xdb => (pos + 5, be(pos + 1, 4)),
                    _ => (pos + 1, Some((b & 0x1f) as usize)),
                };
                match n.and_then(|n| buf.get(start..start + n)) {
                    Some(s) if is_utf8(s) => pos = start + s.len(),
                    _ => return false,
                }
                continue;
            }
            0x90..=0x9f if !in_key => {
                pos += 1;
                ((b & 0x0f) as usize, false)
            }
            0x80..=0x8f if !in_key => {
                pos += 1;
                (2 * (b & 0x0f) as usize, true)
            }
            0xca..=0xd3 => {
                pos += match b {
                    0xcc | 0xd0 => 2,
                    0xcd | 0xd1 => 3,
                    0xce | 0xd2 | 0xca => 5,
                    _ => 9,
                };
                if pos > buf.len() {
                    return false;
                }
                continue;
            }
            0xc4..=0xc6 => {
                let w = 1 << (b - 0xc4);
                match be(pos + 1, w) {
                    Some(n) if pos + 1 + w + n <= buf.len() => pos += 1 + w + n,
                    _ => return false,
                }
                continue;
            }
            0xd4..=0xd8 | 0xc7..=0xc9 => {
                let mut t = r.clone();
                t.skip_to(pos);
                match t.ext() {
                    Ok(Some((-1, data))) if check_timestamp(data).is_ok() => {}
                    Ok(Some((code, _))) if code != -1 && !in_key => {}
                    _ => return false,
                }
                pos = t.pos();
                continue;
            }
            0xdc | 0xdd if !in_key => {
                let w = if b == 0xdc { 2 } else { 4 };
                let Some(n) = be(pos + 1, w) else {
                    return false;
                };
                pos += 1 + w;
                (n, false)
            }
            0xde | 0xdf if !in_key => {
                let w = if b == 0xde { 2 } else { 4 };
                let Some(n) = be(pos + 1, w) else {
                    return false;
                };
                pos += 1 + w;
                (n.saturating_mul(2), true)
            }
            _ => return false,
        };
        if children > 0 {
            if sp == MAX_OPEN || depth + sp + 1 > max_depth {
                return false;
            }
            open[sp] = rem << 1 | is_map as usize;
            sp += 1;
            (rem, is_map) = (children, child_is_map);
        }
    }
}

/// A value Python cannot hash, named as its `TypeError` names it
/// (`unhashable type: 'dict'`). Asked of map keys and set items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unhashable {
    Dict,
    List,
    Set,
    ByteArray,
    Ext,
    /// A struct class that is not frozen: its index in the payload spec's
    /// struct table, named by the spec.
    Struct(u32),
}

impl Unhashable {
    /// Python's name for the type, for all but structs.
    pub(crate) fn builtin_name(self) -> Option<&'static str> {
        Some(match self {
            Unhashable::Dict => "dict",
            Unhashable::List => "list",
            Unhashable::Set => "set",
            Unhashable::ByteArray => "bytearray",
            Unhashable::Ext => "msgspec.msgpack.Ext",
            Unhashable::Struct(_) => return None,
        })
    }
}

/// Whether a value is hashable: `None`, or what makes it not.
pub(crate) type Hash = Option<Unhashable>;

/// What makes the next value of `r` unhashable when it is read outside a
/// key, where an array is a list and a map a dict whatever they hold: its
/// header says it (the value itself is not checked; `r` does not move).
pub(crate) fn hash_outside_key(r: &Reader<'_>) -> Hash {
    match r.peek_byte().ok()? {
        0x90..=0x9f | 0xdc | 0xdd => Some(Unhashable::List),
        0x80..=0x8f | 0xde | 0xdf => Some(Unhashable::Dict),
        // A timestamp is a datetime; any other ext an `Ext`.
        0xd4..=0xd8 | 0xc7..=0xc9 => match r.clone().ext() {
            Ok(Some((-1, _))) => None,
            _ => Some(Unhashable::Ext),
        },
        _ => None,
    }
}

/// One open container of [`check`].
#[derive(Debug)]
struct Open {
    len: usize,
    done: usize,
    map: bool,
    at_value: bool,
    /// An array decoded as a tuple (inside a map key or a set item); else
    /// a list.
    tuple: bool,
    /// The first unhashable item of a tuple; a map's current key.
    unhashable: Hash,
}

impl Open {
    fn seg(&self) -> PathSegment {
        match (self.map, self.at_value) {
            (false, _) => PathSegment::Index(self.done),
            (true, false) => PathSegment::Key,
            (true, true) => PathSegment::DictValue,
        }
    }

    /// Whether the next child is read as a key: a map's keys, and the
    /// items of a tuple of at most 16 (msgspec reads a longer tuple as a
    /// list first, its items as plain values).
    fn child_in_key(&self) -> bool {
        if self.map {
            !self.at_value
        } else {
            self.tuple && self.len <= 16
        }
    }
}

fn with_path(mut e: DecodeError, stack: &[Open]) -> DecodeError {
    for f in stack.iter().rev() {
        e = e.at(f.seg());
    }
    e
}

/// What reading the start of a value did.
enum Start {
    /// A complete value was read.
    Done(Hash),
    /// A non-empty container was opened.
    Open { len: usize, map: bool },
}

/// Reads a scalar whole, or a container's header.
fn start(r: &mut Reader<'_>, in_key: bool) -> Result<Start, DecodeError> {
    Ok(match r.peek_byte()? {
        0xa0..=0xbf | 0xd9..=0xdb => {
            if let Some(s) = r.str_bytes()? {
                utf8(s, 0)?;
            }
            Start::Done(None)
        }
        0x90..=0x9f | 0xdc | 0xdd => match r.array_header()?.unwrap_or(0) {
            0 if in_key => Start::Done(None),
            0 => Start::Done(Some(Unhashable::List)),
            len => Start::Open { len, map: false },
        },
        0x80..=0x8f | 0xde | 0xdf => match r.map_header()?.unwrap_or(0) {
            0 => Start::Done(Some(Unhashable::Dict)),
            len => Start::Open { len, map: true },
        },
        0xd4..=0xd8 | 0xc7..=0xc9 => match r.ext()? {
            Some((-1, data)) => {
                check_timestamp(data)?;
                Start::Done(None)
            }
            _ => Start::Done(Some(Unhashable::Ext)),
        },
        0xc1 => return Err(DecodeError::new(ErrorKind::ReservedByte { at: r.pos() })),
        _ => {
            r.skip_values_lazy(1)?;
            Start::Done(None)
        }
    })
}

/// Checks the next value of `r` as a value typed `Any`, inside `depth`
/// open containers, with msgspec's exact errors, and returns what would
/// make it unhashable (asked of map keys and set items). `in_key`: the
/// value is read as a key (arrays become tuples). Errors carry the path
/// from the value down.
pub(crate) fn check(
    r: &mut Reader<'_>,
    in_key: bool,
    depth: usize,
    max_depth: usize,
) -> Result<Hash, DecodeError> {
    let mut stack: Vec<Open> = Vec::new();
    let mut in_key = in_key;
    loop {
        let mut done = match start(r, in_key) {
            Ok(Start::Done(u)) => u,
            Ok(Start::Open { len, map }) => {
                if depth + stack.len() >= max_depth {
                    let e = DecodeError::new(ErrorKind::TooDeep { limit: max_depth });
                    return Err(with_path(e, &stack));
                }
                let f = Open {
                    len,
                    done: 0,
                    map,
                    at_value: false,
                    tuple: in_key,
                    unhashable: None,
                };
                in_key = f.child_in_key();
                stack.push(f);
                continue;
            }
            Err(e) => return Err(with_path(e, &stack)),
        };
        // Feed the finished value upwards until a container wants another
        // child.
        loop {
            let Some(top) = stack.last_mut() else {
                return Ok(done);
            };
            if !top.map {
                top.done += 1;
                top.unhashable = top.unhashable.or(done);
            } else if top.at_value {
                top.at_value = false;
                top.done += 1;
                if top.unhashable.is_some() {
                    stack.pop();
                    let e = DecodeError::new(ErrorKind::UnhashableKey { at: r.pos() });
                    return Err(with_path(e, &stack));
                }
            } else {
                top.at_value = true;
                top.unhashable = done;
            }
            if top.done < top.len {
                in_key = top.child_in_key();
                break;
            }
            done = match stack.pop() {
                Some(f) if f.map => Some(Unhashable::Dict),
                Some(f) if f.tuple => f.unhashable,
                _ => Some(Unhashable::List),
            };
        }
    }
}

/// Checks the next value of `r` as a value typed `Any` (the envelope's
/// `Any`-typed fields) and returns its bytes.
pub(crate) fn any_value<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
    let start = r.pos();
    // Scalars other than ext need no more than their bytes (the usual
    // kwarg); strs only UTF-8. Everything else goes through one loop, and
    // the exact walker only for what it doubts (and to word the error).
    match r.peek_byte()? {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2..=0xc6 | 0xca..=0xd3 => r.skip_values(1)?,
        0xa0..=0xbf | 0xd9..=0xdb => {
            r.str()?;
        }
        _ => {
            if !any_fast::<false>(r, 0, MAX_DEPTH) {
                check(r, false, 0, MAX_DEPTH)?;
            }
        }
    }
    Ok(&r.buf()[start..r.pos()])
}

/// Like [`any_value`] for a map whose keys must be strs (Python
/// `dict[str, Any]`) when the whole map passes the one-loop check; `None`
/// (consuming nothing) sends the caller to the exact, entry-by-entry check
/// that words any error.
pub(crate) fn any_str_map<'a>(r: &mut Reader<'a>) -> Option<&'a [u8]> {
    let start = r.pos();
    any_fast::<true>(r, 0, MAX_DEPTH).then(|| &r.buf()[start..r.pos()])
}
