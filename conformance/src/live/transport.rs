//! Addresses (`tcp://HOST:PORT`, `uds:///PATH`) and tractor's framing
//! (u32 little-endian length prefix, one msgpack body) over tokio streams,
//! split with the message crate's sans-IO [`FrameSplitter`].

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;

use shuttle::frame::{FrameError, FrameSplitter, Split};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

/// Largest frame body the live tools accept by default (64 MiB; a 1 MiB
/// payload is the largest recorded).
pub const MAX_FRAME: usize = shuttle::frame::DEFAULT_MAX_FRAME;

/// Where a live peer listens: `tcp://HOST:PORT` or `uds:///PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// A TCP socket address, `host:port` (host may be a name or an IP
    /// literal; `[::1]:port` for IPv6).
    Tcp(String),
    /// A Unix stream socket path.
    Uds(PathBuf),
}

impl std::str::FromStr for Address {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = s.strip_prefix("tcp://") {
            let ok = rest
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            if !ok {
                return Err(format!("bad TCP address {s:?}: expected tcp://HOST:PORT"));
            }
            Ok(Address::Tcp(rest.to_string()))
        } else if let Some(rest) = s.strip_prefix("uds://") {
            if !rest.starts_with('/') {
                return Err(format!(
                    "bad Unix socket address {s:?}: expected uds:///ABSOLUTE/PATH"
                ));
            }
            Ok(Address::Uds(PathBuf::from(rest)))
        } else {
            Err(format!(
                "bad address {s:?}: expected tcp://HOST:PORT or uds:///PATH"
            ))
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp(a) => write!(f, "tcp://{a}"),
            Address::Uds(p) => write!(f, "uds://{}", p.display()),
        }
    }
}

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

impl Conn {
    fn tcp(s: TcpStream) -> Conn {
        let _ = s.set_nodelay(true);
        let peer = s
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "?".into());
        let (r, w) = s.into_split();
        Conn {
            read: Box::pin(r),
            write: Box::pin(w),
            peer,
        }
    }

    fn unix(s: UnixStream) -> Conn {
        let (r, w) = s.into_split();
        Conn {
            read: Box::pin(r),
            write: Box::pin(w),
            peer: "unix".into(),
        }
    }
}

/// Connects once.
pub async fn connect(addr: &Address) -> io::Result<Conn> {
    match addr {
        Address::Tcp(a) => Ok(Conn::tcp(TcpStream::connect(a.as_str()).await?)),
        Address::Uds(p) => Ok(Conn::unix(UnixStream::connect(p).await?)),
    }
}

/// A bound listener.
#[derive(Debug)]
pub enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// Unix socket (the file is removed when the listener is dropped).
    Uds(UnixListener, PathBuf),
}

impl Listener {
    /// Binds `addr`. A stale Unix socket file at the path (one nothing
    /// answers on) is replaced; a live server's socket is never taken over.
    pub async fn bind(addr: &Address) -> io::Result<Listener> {
        let named =
            |e: io::Error| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"));
        match addr {
            Address::Tcp(a) => Ok(Listener::Tcp(
                TcpListener::bind(a.as_str()).await.map_err(named)?,
            )),
            Address::Uds(p) => {
                use std::os::unix::fs::FileTypeExt as _;
                if let Ok(meta) = std::fs::symlink_metadata(p) {
                    if meta.file_type().is_socket() && UnixStream::connect(p).await.is_err() {
                        std::fs::remove_file(p).map_err(named)?;
                    }
                }
                Ok(Listener::Uds(
                    UnixListener::bind(p).map_err(named)?,
                    p.clone(),
                ))
            }
        }
    }

    /// The address actually bound (with the real port for `:0`).
    pub fn local_addr(&self) -> Address {
        match self {
            Listener::Tcp(l) => match l.local_addr() {
                Ok(a) => Address::Tcp(a.to_string()),
                Err(_) => Address::Tcp("?:0".into()),
            },
            Listener::Uds(_, p) => Address::Uds(p.clone()),
        }
    }

    /// Accepts one connection.
    pub async fn accept(&self) -> io::Result<Conn> {
        match self {
            Listener::Tcp(l) => Ok(Conn::tcp(l.accept().await?.0)),
            Listener::Uds(l, _) => Ok(Conn::unix(l.accept().await?.0)),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Uds(_, p) = self {
            let _ = std::fs::remove_file(p);
        }
    }
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

    #[test]
    fn addresses_parse_and_print() {
        for text in ["tcp://127.0.0.1:1616", "tcp://[::1]:0", "uds:///tmp/x.sock"] {
            let a: Address = text.parse().unwrap();
            assert_eq!(a.to_string(), text);
        }
        for bad in [
            "127.0.0.1:1616",
            "tcp://127.0.0.1",
            "tcp://:80",
            "tcp://h:99999",
            "uds://relative.sock",
            "udp://x:1",
        ] {
            assert!(bad.parse::<Address>().is_err(), "{bad}");
        }
    }

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
