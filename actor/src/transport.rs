//! Addresses (`tcp://HOST:PORT`, `uds:///PATH`), listeners and tractor's
//! framing (a u32 little-endian length, then one msgpack body) as a
//! `tokio_util` codec that allocates only what arrives.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

/// Where an actor listens: `tcp://HOST:PORT` or `uds:///PATH`.
///
/// ```
/// use shuttle_actor::Address;
/// let a: Address = "tcp://127.0.0.1:1616".parse().unwrap();
/// assert_eq!(a.to_string(), "tcp://127.0.0.1:1616");
/// assert!("localhost".parse::<Address>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Address {
    /// A TCP socket address `host:port` (tractor wants an IP literal host).
    Tcp(String),
    /// A Unix stream socket path.
    Uds(PathBuf),
}

impl std::str::FromStr for Address {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = s.strip_prefix("tcp://") {
            match rest.rsplit_once(':') {
                Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok() => {
                    Ok(Address::Tcp(rest.to_string()))
                }
                _ => Err(format!("bad TCP address {s:?}: expected tcp://HOST:PORT")),
            }
        } else if let Some(rest) = s.strip_prefix("uds://") {
            if rest.starts_with('/') {
                Ok(Address::Uds(PathBuf::from(rest)))
            } else {
                Err(format!(
                    "bad Unix socket address {s:?}: expected uds:///ABSOLUTE/PATH"
                ))
            }
        } else {
            Err(format!(
                "bad address {s:?}: expected tcp://HOST:PORT or uds:///PATH"
            ))
        }
    }
}

impl Address {
    /// The address as tractor's `Address.unwrap()` gives it, the form
    /// registrars keep and `SpawnSpec`s carry: `[host, port]` for TCP,
    /// `[folder, file]` for a Unix socket.
    ///
    /// ```
    /// use shuttle_actor::Address;
    /// let a: Address = "tcp://127.0.0.1:1616".parse().unwrap();
    /// assert_eq!(a.unwrapped().to_string(), r#"["127.0.0.1", 1616]"#);
    /// assert_eq!(Address::from_unwrapped(&a.unwrapped()), Some(a));
    /// ```
    pub fn unwrapped(&self) -> rmpv::Value {
        use rmpv::Value;
        match self {
            Address::Tcp(a) => {
                let (h, p) = a.rsplit_once(':').unwrap_or((a.as_str(), "0"));
                let h = h.trim_start_matches('[').trim_end_matches(']');
                Value::Array(vec![h.into(), p.parse::<u16>().unwrap_or(0).into()])
            }
            Address::Uds(p) => {
                let dir = p
                    .parent()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default();
                let file = p
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Value::Array(vec![dir.into(), file.into()])
            }
        }
    }

    /// The address of an unwrapped one (`[host, port]` or `[folder,
    /// file]`), or `None` when it is neither.
    pub fn from_unwrapped(v: &rmpv::Value) -> Option<Address> {
        let rmpv::Value::Array(parts) = v else {
            return None;
        };
        match parts.as_slice() {
            [rmpv::Value::String(h), port] if port.as_u64().is_some() => {
                let port = u16::try_from(port.as_u64()?).ok()?;
                let h = h.as_str()?;
                Some(if h.contains(':') {
                    Address::Tcp(format!("[{h}]:{port}"))
                } else {
                    Address::Tcp(format!("{h}:{port}"))
                })
            }
            [rmpv::Value::String(dir), rmpv::Value::String(file)] => Some(Address::Uds(
                PathBuf::from(dir.as_str()?).join(file.as_str()?),
            )),
            _ => None,
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

/// Any byte stream a channel runs over.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// A connected stream.
pub(crate) type Stream = Pin<Box<dyn Io>>;

/// Connects to `addr` (TCP with `TCP_NODELAY`).
pub(crate) async fn connect(addr: &Address) -> io::Result<Connection> {
    Ok(match addr {
        Address::Tcp(a) => Connection::tcp(TcpStream::connect(a.as_str()).await?),
        Address::Uds(p) => Connection::unix(UnixStream::connect(p).await?),
    })
}

/// A bound listener.
#[derive(Debug)]
pub struct Listener {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Tcp(TcpListener),
    Uds(UnixListener, PathBuf),
}

impl Listener {
    /// Binds `addr` (`tcp://127.0.0.1:0` picks a free port). A Unix socket
    /// path is taken over only when nothing answers there: a live server's
    /// socket is never stolen.
    pub async fn bind(addr: &Address) -> io::Result<Listener> {
        let named =
            |e: io::Error| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"));
        let inner = match addr {
            Address::Tcp(a) => Inner::Tcp(TcpListener::bind(a.as_str()).await.map_err(named)?),
            Address::Uds(p) => {
                use std::os::unix::fs::FileTypeExt as _;
                if let Ok(meta) = std::fs::symlink_metadata(p) {
                    if meta.file_type().is_socket() && UnixStream::connect(p).await.is_err() {
                        std::fs::remove_file(p).map_err(named)?;
                    }
                }
                Inner::Uds(UnixListener::bind(p).map_err(named)?, p.clone())
            }
        };
        Ok(Listener { inner })
    }

    /// The address actually bound (with the real port for `:0`).
    pub fn local_addr(&self) -> Address {
        match &self.inner {
            Inner::Tcp(l) => Address::Tcp(
                l.local_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_else(|_| "?:0".into()),
            ),
            Inner::Uds(_, p) => Address::Uds(p.clone()),
        }
    }

    /// The next connection a peer made, for
    /// [`Actor::serve_connection`](crate::Actor::serve_connection) (when a
    /// program runs its own accept loop; [`Actor::serve`](crate::Actor::serve)
    /// does this for you).
    pub async fn accept(&self) -> io::Result<Connection> {
        Ok(match &self.inner {
            Inner::Tcp(l) => Connection::tcp(l.accept().await?.0),
            Inner::Uds(l, _) => Connection::unix(l.accept().await?.0),
        })
    }
}

/// A connected stream, not yet served: accepted ([`Listener::accept`]) or
/// made ([`Connection::connect`]).
pub struct Connection {
    pub(crate) stream: Stream,
    peer: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .finish()
    }
}

impl Connection {
    fn tcp(s: TcpStream) -> Connection {
        let _ = s.set_nodelay(true);
        let peer = s
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "?".into());
        Connection {
            stream: Box::pin(s),
            peer,
        }
    }

    fn unix(s: UnixStream) -> Connection {
        Connection {
            stream: Box::pin(s),
            peer: "unix".into(),
        }
    }

    /// Connects to `addr` (TCP with `TCP_NODELAY`), for a program that
    /// speaks on the stream itself rather than through an
    /// [`Actor`](crate::Actor) (which connects with
    /// [`Actor::connect`](crate::Actor::connect)).
    pub async fn connect(addr: &Address) -> io::Result<Connection> {
        connect(addr).await
    }

    /// The peer's address, for logs: `HOST:PORT` for TCP (`?` when the
    /// socket cannot tell), `unix` for a Unix socket.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The stream's two halves, to read and write it from different tasks.
    pub fn into_split(
        self,
    ) -> (
        impl AsyncRead + Send + Unpin + 'static,
        impl AsyncWrite + Send + Unpin + 'static,
    ) {
        tokio::io::split(self.stream)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Inner::Uds(_, p) = &self.inner {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// How much of an announced frame is reserved ahead of its bytes.
const RESERVE_AHEAD: usize = 64 << 10;

/// tractor's framing: a u32 little-endian length prefix, then the body, up
/// to `max_frame` bytes.
///
/// The prefix is read by the message crate's sans-IO
/// [`FrameSplitter`](shuttle::frame::FrameSplitter). Not tokio-util's `LengthDelimitedCodec`, which
/// reserves the whole announced length as soon as it reads a prefix: four
/// bytes announcing 64 MiB would cost 64 MiB per connection. Here memory
/// follows the bytes that actually arrive (at most [`RESERVE_AHEAD`] more),
/// and a prefix over the limit is refused at once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameCodec {
    max_frame: usize,
}

pub(crate) fn codec(max_frame: usize) -> FrameCodec {
    FrameCodec { max_frame }
}

impl tokio_util::codec::Decoder for FrameCodec {
    type Item = bytes::BytesMut;
    type Error = io::Error;

    fn decode(&mut self, src: &mut bytes::BytesMut) -> io::Result<Option<Self::Item>> {
        use shuttle::frame::{FrameError, FrameSplitter, Split, PREFIX_LEN};
        match FrameSplitter::new(self.max_frame).split(src) {
            Ok(Split::Frame { consumed, .. }) => {
                let mut frame = src.split_to(consumed);
                let _ = frame.split_to(PREFIX_LEN);
                Ok(Some(frame))
            }
            Ok(Split::NeedMore { at_least }) => {
                src.reserve(at_least.min(RESERVE_AHEAD));
                Ok(None)
            }
            Err(FrameError::TooLarge { announced, max }) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a frame of {announced} bytes announced, over the limit of {max} bytes"),
            )),
            Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
        }
    }
}

impl tokio_util::codec::Encoder<bytes::Bytes> for FrameCodec {
    type Error = io::Error;

    fn encode(&mut self, body: bytes::Bytes, dst: &mut bytes::BytesMut) -> io::Result<()> {
        let n = u32::try_from(body.len())
            .ok()
            .filter(|&n| n as usize <= self.max_frame)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "a frame of {} bytes, over the limit of {} bytes",
                        body.len(),
                        self.max_frame
                    ),
                )
            })?;
        dst.reserve(4 + body.len());
        dst.extend_from_slice(&n.to_le_bytes());
        dst.extend_from_slice(&body);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_util::codec::{Decoder as _, Encoder as _};

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

    #[test]
    fn an_announced_frame_costs_only_the_bytes_that_arrived() {
        let mut c = codec(64 << 20);
        let mut buf = bytes::BytesMut::from(&((64u32 << 20) - 1).to_le_bytes()[..]);
        assert!(c.decode(&mut buf).unwrap().is_none());
        assert!(buf.capacity() <= 4 + RESERVE_AHEAD, "{}", buf.capacity());
        let mut over = bytes::BytesMut::from(&u32::MAX.to_le_bytes()[..]);
        let e = c.decode(&mut over).unwrap_err();
        assert!(e.to_string().contains("4294967295 bytes announced"), "{e}");
    }

    #[test]
    fn frames_round_trip_and_split_where_the_prefix_says() {
        let mut c = codec(16);
        let mut buf = bytes::BytesMut::new();
        c.encode(bytes::Bytes::from_static(b"\x81\xa1a\x01"), &mut buf)
            .unwrap();
        c.encode(bytes::Bytes::from_static(b""), &mut buf).unwrap();
        assert_eq!(&buf[..4], &4u32.to_le_bytes());
        let mut partial = buf.split_to(6);
        assert!(c.decode(&mut partial).unwrap().is_none());
        partial.extend_from_slice(&buf);
        assert_eq!(
            &c.decode(&mut partial).unwrap().unwrap()[..],
            b"\x81\xa1a\x01"
        );
        assert_eq!(&c.decode(&mut partial).unwrap().unwrap()[..], b"");
        assert!(c.decode(&mut partial).unwrap().is_none());
        assert!(c.encode(bytes::Bytes::from(vec![0; 17]), &mut buf).is_err());
    }
}
