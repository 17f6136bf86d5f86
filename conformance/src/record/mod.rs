//! `shuttle record`: turning what was seen of a tractor program's
//! connections into one `tractor-capture/2` document
//! (`fixtures/captures/FORMAT.md`).
//!
//! Two sources see connections, and both are reduced to the same model
//! before anything else happens:
//!
//! * the Python tap ([`tap`]), loaded into every tractor process of a
//!   recorded program, logs for each connection the bytes that process
//!   sent and received, so every connection between two tapped processes
//!   is seen from both ends;
//! * a packet capture ([`pcap`]) sees each TCP connection once, from the
//!   wire: it gives the bytes each end sent, and nothing about what the
//!   other end read.
//!
//! Each view of one end of one connection is a [`Side`]. [`assemble`] pairs
//! the two sides of every connection, cuts the byte streams into frames,
//! cross-checks the copies, names the ends from their `Aid` handshakes and
//! writes the capture.

pub mod assemble;
pub mod cli;
pub mod pcap;
pub mod sanitize;
pub mod tap;
pub mod txt;

/// The transport of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP.
    Tcp,
    /// A Unix stream socket.
    Uds,
}

impl Transport {
    /// The word a capture uses (`"tcp"`, `"uds"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Uds => "uds",
        }
    }
}

/// Bytes one end handed to (or got from) its socket in one call, with the
/// time of the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// `CLOCK_MONOTONIC` nanoseconds for a tap; for a packet capture, the
    /// packet's timestamp in nanoseconds.
    pub t_ns: u64,
    /// The bytes, framing included (length prefixes and bodies as they
    /// went over the socket).
    pub bytes: Vec<u8>,
}

/// One end of one connection as one source saw it.
#[derive(Clone, Debug)]
pub struct Side {
    /// Where this view comes from, for reports (`"tap log 1234.tap"`,
    /// `"capture.pcap"`).
    pub source: String,
    /// The process of this end, when known.
    pub pid: Option<u64>,
    /// The transport.
    pub transport: Transport,
    /// This end's socket name: `host:port` for TCP (IPv6 as `[addr]:port`),
    /// for a Unix socket its path, `@name` for an abstract name, or `""`
    /// when unnamed.
    pub local: String,
    /// The other end's socket name, in the same form.
    pub remote: String,
    /// `Some(true)` when this end connected, `Some(false)` when it
    /// accepted, `None` when the source could not tell.
    pub connected: Option<bool>,
    /// What this end sent, in order.
    pub sent: Vec<Chunk>,
    /// What this end received, in order; `None` when the source does not
    /// see it (a packet capture gives each end's sent bytes only).
    pub received: Option<Vec<Chunk>>,
    /// Why the view ends early, when it does (a log cut by a killed
    /// process, a gap in a packet capture): bytes after that point are not
    /// known.
    pub cut: Option<String>,
    /// The unit of the program the connection belongs to, when the source
    /// knows it: under pytest, the test that opened it (`shuttle record
    /// --split-by-test` writes one capture per test).
    pub group: Option<String>,
}
