//! Connections and tractor's framing (u32 little-endian length prefix, one
//! msgpack body) over tokio streams, split with the message crate's sans-IO
//! [`FrameSplitter`].
//!
//! Addresses (`tcp://HOST:PORT`, `uds:///PATH`), connecting and listening
//! are the actor crate's ([`Address`], [`Listener`]): a [`Conn`] is its
//! [`Connection`] split into halves. The frame reader stays here, as the
//! live tools need what the actor's codec does not give: a frame log for
//! recording, and a truncated frame told apart from a clean end.

use std::fmt;
use std::io;
use std::pin::Pin;

use shuttle::frame::{FrameError, FrameSplitter, Split};
pub use shuttle_actor::{Address, Connection, Listener};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest frame body the live tools accept by default (64 MiB; a 1 MiB
/// payload is the largest recorded).
pub const MAX_FRAME: usize = shuttle::frame::DEFAULT_MAX_FRAME;

/// The read half of a connection.
pub type ReadHalf = Pin<Box<dyn AsyncRead + Send>>;
/// The write half of a connection.
pub type WriteHalf = Pin<Box<dyn AsyncWrite + Send>>;

/// One accepted or connected stream, split into halves.
pub struct Conn {
    /// Bytes from the peer.
    pub read: ReadHalf,
    /// Bytes to the peer.
    pub write: WriteHalf,
    /// The peer's address, for logs.
    pub peer: String,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn").field("peer", &self.peer).finish()
    }
}

impl From<Connection> for Conn {
    fn from(c: Connection) -> Conn {
        let peer = c.peer().to_string();
        let (r, w) = c.into_split();
        Conn {
            read: Box::pin(r),
            write: Box::pin(w),
            peer,
        }
    }
}

/// Connects once.
pub async fn connect(addr: &Address) -> io::Result<Conn> {
    Ok(Connection::connect(addr).await?.into())
}

/// Accepts one connection.
pub async fn accept(listener: &Listener) -> io::Result<Conn> {
    Ok(listener.accept().await?.into())
}

/// Why reading a frame failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The length prefix announces more than the maximum.
    #[error("{0}")]
    Frame(#[from] FrameError),
    /// The stream ended inside a frame (after `got` of `want` bytes).
    #[error("stream ended inside a frame ({got} of {want} bytes read)")]
    Truncated {
        /// Bytes of the frame (prefix included) that arrived.
        got: usize,
        /// Bytes the frame needs (prefix included; 4 when the prefix itself is cut).
        want: usize,
    },
    /// The socket failed.
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
}

/// Reads frames from a stream.
pub struct FrameReader {
    inner: ReadHalf,
    splitter: FrameSplitter,
    /// Bytes read and not yet handed out start at `start`: a frame is
    /// taken by moving `start`, and the buffer is compacted only before
    /// reading more, so many frames in one read cost no more than one.
    buf: Vec<u8>,
    start: usize,
    record: Option<super::record::ChannelLog>,
}

impl fmt::Debug for FrameReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameReader")
            .field("buffered", &(self.buf.len() - self.start))
            .finish()
    }
}

impl FrameReader {
    /// A reader refusing bodies over `max_frame` bytes.
    pub fn new(inner: ReadHalf, max_frame: usize) -> Self {
        FrameReader {
            inner,
            splitter: FrameSplitter::new(max_frame),
            buf: Vec::new(),
            start: 0,
            record: None,
        }
    }

    /// Records every frame read from now on into `log`, as the peer's.
    pub fn record(&mut self, log: super::record::ChannelLog) {
        self.record = Some(log);
    }

    /// The next frame body; `Ok(None)` on a clean end of stream (at a frame
    /// boundary). The length prefix is checked against the maximum before
    /// anything is allocated for the body.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, ReadError> {
        loop {
            match self.splitter.split(&self.buf[self.start..])? {
                Split::Frame { body, consumed } => {
                    let body = body.to_vec();
                    self.start += consumed;
                    if let Some(log) = &self.record {
                        log.frame(super::record::From::Peer, &body);
                    }
                    // Frames already buffered come without awaiting the
                    // socket: let other tasks run between them.
                    tokio::task::consume_budget().await;
                    return Ok(Some(body));
                }
                Split::NeedMore { at_least } => {
                    self.buf.drain(..self.start);
                    self.start = 0;
                    let want = self.buf.len() + at_least;
                    self.buf.reserve(at_least.clamp(4096, 1 << 20));
                    let n = self.inner.read_buf(&mut self.buf).await?;
                    if n == 0 {
                        if self.buf.is_empty() {
                            return Ok(None);
                        }
                        return Err(ReadError::Truncated {
                            got: self.buf.len(),
                            want,
                        });
                    }
                }
            }
        }
    }
}

/// Writes one frame (prefix and body) and flushes.
pub async fn write_frame(w: &mut WriteHalf, body: &[u8]) -> io::Result<()> {
    let mut out = Vec::with_capacity(body.len() + 4);
    shuttle::frame::write_frame(&mut out, body)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    w.write_all(&out).await?;
    w.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: &[u8]) -> FrameReader {
        FrameReader::new(Box::pin(std::io::Cursor::new(bytes.to_vec())), 16)
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn frames_split_and_end_cleanly() {
        let mut r = reader(b"\x01\x00\x00\x00\xc0\x00\x00\x00\x00");
        run(async {
            assert_eq!(r.next().await.unwrap(), Some(vec![0xc0]));
            assert_eq!(r.next().await.unwrap(), Some(vec![]));
            assert_eq!(r.next().await.unwrap(), None);
        });
    }

    #[test]
    fn many_small_frames_after_a_large_one_all_arrive() {
        // One 8 MiB frame, then 200,000 small ones in the same buffer.
        let mut bytes = Vec::new();
        shuttle::frame::write_frame(&mut bytes, &vec![0x90; 8 << 20]).unwrap();
        for i in 0..200_000u32 {
            shuttle::frame::write_frame(&mut bytes, &i.to_le_bytes()).unwrap();
        }
        let mut r = FrameReader::new(Box::pin(std::io::Cursor::new(bytes)), MAX_FRAME);
        let t = std::time::Instant::now();
        run(async {
            assert_eq!(r.next().await.unwrap().unwrap().len(), 8 << 20);
            for i in 0..200_000u32 {
                assert_eq!(r.next().await.unwrap().unwrap(), i.to_le_bytes());
            }
            assert_eq!(r.next().await.unwrap(), None);
        });
        eprintln!("200,000 frames after an 8 MiB one: {:?}", t.elapsed());
    }

    #[test]
    fn oversized_and_truncated_frames_are_errors() {
        let mut r = reader(b"\xff\xff\xff\xff\x82");
        let e = run(r.next()).unwrap_err();
        assert!(
            matches!(e, ReadError::Frame(FrameError::TooLarge { .. })),
            "{e}"
        );
        let mut r = reader(b"\x05\x00\x00\x00\x82\xa1");
        let e = run(r.next()).unwrap_err();
        assert!(matches!(e, ReadError::Truncated { got: 6, want: 9 }), "{e}");
        let mut r = reader(b"\x05\x00");
        assert!(matches!(
            run(r.next()).unwrap_err(),
            ReadError::Truncated { got: 2, want: 4 }
        ));
    }
}
