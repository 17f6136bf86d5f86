//! Framing, sans-IO: a 4-byte little-endian length, then that many bytes of
//! msgpack (`spec/PROTOCOL.md#framing`).
//!
//! [`FrameSplitter`] cuts frames out of whatever bytes the caller has read so
//! far; it never allocates and checks the announced length against
//! [`FrameSplitter::max_frame`] before the caller sizes anything from it.
//!
//! ```
//! use shuttle::frame::{FrameSplitter, Split, write_frame};
//! let mut wire = Vec::new();
//! write_frame(&mut wire, b"\xc0").unwrap();
//! write_frame(&mut wire, b"\x01").unwrap();
//! let splitter = FrameSplitter::default();
//! let Split::Frame { body, consumed } = splitter.split(&wire).unwrap() else { panic!() };
//! assert_eq!((body, consumed), (&b"\xc0"[..], 5));
//! assert_eq!(splitter.split(&wire[..3]).unwrap(), Split::NeedMore { at_least: 1 });
//! ```

use crate::error::EncodeError;
use crate::Msg;

/// Size of the length prefix.
pub const PREFIX_LEN: usize = 4;

/// Default largest frame body accepted: 64 MiB.
pub const DEFAULT_MAX_FRAME: usize = 64 * 1024 * 1024;

/// What [`FrameSplitter::split`] found at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Split<'a> {
    /// A complete frame: its body, and how many bytes (prefix included) to
    /// drop from the buffer.
    Frame {
        /// The msgpack body.
        body: &'a [u8],
        /// Prefix plus body length.
        consumed: usize,
    },
    /// The buffer holds only part of a frame: read at least this many more
    /// bytes.
    NeedMore {
        /// Bytes missing to complete the header or the body.
        at_least: usize,
    },
}

/// A framing error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The length prefix announces more than the configured maximum.
    #[error("frame length {announced} exceeds the maximum of {max} bytes")]
    TooLarge {
        /// The announced body length.
        announced: u64,
        /// The configured maximum.
        max: usize,
    },
    /// The stream ended inside a frame.
    #[error("stream ends inside a frame: {missing} more bytes were announced")]
    Truncated {
        /// How many bytes are missing.
        missing: usize,
    },
}

/// Splits a byte stream into frames.
#[derive(Clone, Copy, Debug)]
pub struct FrameSplitter {
    max_frame: usize,
}

impl Default for FrameSplitter {
    fn default() -> Self {
        FrameSplitter {
            max_frame: DEFAULT_MAX_FRAME,
        }
    }
}

impl FrameSplitter {
    /// A splitter refusing bodies longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        FrameSplitter { max_frame }
    }

    /// The largest body accepted.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// Looks at the start of `buf`.
    pub fn split<'a>(&self, buf: &'a [u8]) -> Result<Split<'a>, FrameError> {
        let Some(prefix) = buf.first_chunk::<PREFIX_LEN>() else {
            return Ok(Split::NeedMore {
                at_least: PREFIX_LEN - buf.len(),
            });
        };
        let len = u32::from_le_bytes(*prefix) as usize;
        if len > self.max_frame {
            return Err(FrameError::TooLarge {
                announced: len as u64,
                max: self.max_frame,
            });
        }
        let end = PREFIX_LEN + len;
        match buf.get(PREFIX_LEN..end) {
            Some(body) => Ok(Split::Frame {
                body,
                consumed: end,
            }),
            None => Ok(Split::NeedMore {
                at_least: end - buf.len(),
            }),
        }
    }

    /// Iterates over the frames of a complete stream (a `.wire` file).
    /// A partial frame at the end is reported as [`FrameError::Truncated`].
    pub fn frames<'a>(&self, stream: &'a [u8]) -> Frames<'a> {
        Frames {
            splitter: *self,
            rest: stream,
            failed: false,
        }
    }
}

/// Iterator over the frame bodies of a complete stream.
#[derive(Debug)]
pub struct Frames<'a> {
    splitter: FrameSplitter,
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<&'a [u8], FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        match self.splitter.split(self.rest) {
            Ok(Split::Frame { body, consumed }) => {
                self.rest = &self.rest[consumed..];
                Some(Ok(body))
            }
            Ok(Split::NeedMore { at_least }) => {
                self.failed = true;
                Some(Err(FrameError::Truncated { missing: at_least }))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Appends one frame (prefix and body) to `out`.
pub fn write_frame(out: &mut Vec<u8>, body: &[u8]) -> Result<(), EncodeError> {
    let len = u32::try_from(body.len()).map_err(|_| EncodeError::FrameTooLarge(body.len()))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(body);
    Ok(())
}

/// Appends the length prefix and the start of `msg`'s encoding to `head`
/// and returns the rest, a raw payload borrowed from `msg`: `head` then the
/// returned bytes are the frame, ready for one vectored write (`writev`,
/// [`std::io::Write::write_vectored`]) with no copy of the payload, however
/// large. On error (a frame over 4 GiB) `head` is left as it was.
///
/// ```
/// use shuttle::{frame, Msg, Raw, Yield};
///
/// let big = Raw::encode(&vec![7u8; 1 << 20]).unwrap();
/// let msg = Msg::from(Yield::new("c1", big));
/// let mut head = Vec::new();
/// let tail = frame::write_frame_vectored(&mut head, &msg).unwrap();
/// assert!(head.len() < 64 && tail.len() > 1 << 20);
/// assert_eq!([head, tail.to_vec()].concat(), {
///     let mut whole = Vec::new();
///     frame::write_frame(&mut whole, &msg.to_vec().unwrap()).unwrap();
///     whole
/// });
/// ```
pub fn write_frame_vectored<'m>(
    head: &mut Vec<u8>,
    msg: &'m Msg<'_>,
) -> Result<&'m [u8], EncodeError> {
    let start = head.len();
    head.extend_from_slice(&[0; PREFIX_LEN]);
    let tail = msg.encode_split(head);
    let len = head.len() - start - PREFIX_LEN + tail.len();
    let Ok(len32) = u32::try_from(len) else {
        head.truncate(start);
        return Err(EncodeError::FrameTooLarge(len));
    };
    head[start..start + PREFIX_LEN].copy_from_slice(&len32.to_le_bytes());
    Ok(tail)
}

/// Appends one frame whose body is written in place by `encode` (no copy):
/// the prefix is reserved first and filled in afterwards.
pub fn write_frame_with(
    out: &mut Vec<u8>,
    encode: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = out.len();
    out.extend_from_slice(&[0; PREFIX_LEN]);
    if let Err(e) = encode(out) {
        out.truncate(start);
        return Err(e);
    }
    let len = out.len() - start - PREFIX_LEN;
    let Ok(len32) = u32::try_from(len) else {
        out.truncate(start);
        return Err(EncodeError::FrameTooLarge(len));
    };
    out[start..start + PREFIX_LEN].copy_from_slice(&len32.to_le_bytes());
    Ok(())
}
