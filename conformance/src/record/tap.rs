//! The Python tap and its logs.
//!
//! [`SOURCE`] is the tap itself: a `sitecustomize` module that
//! `shuttle record` writes into a fresh folder and puts first on
//! `PYTHONPATH`, so that every Python process of the recorded program loads
//! it (tractor's subactors inherit the environment). It wraps the socket
//! stream of each new tractor transport and writes what the process sends
//! and receives to a log of its own in the folder named by [`DIR_VAR`].
//! [`read_log`] turns one such log into the [`Side`]s of the process's
//! connections.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::{Chunk, Side, Transport};

/// The tap's source (`conformance/src/record/tap/sitecustomize.py`).
pub const SOURCE: &str = include_str!("tap/sitecustomize.py");

/// The environment variable naming the folder the tap writes its logs to.
pub const DIR_VAR: &str = "SHUTTLE_RECORD_DIR";

/// The environment variable bounding one process's log (bytes of frames).
pub const MAX_BYTES_VAR: &str = "SHUTTLE_RECORD_MAX_BYTES";

/// The first line of every log.
pub const MAGIC: &[u8] = b"shuttle-tap/1\n";

/// Bytes of a record header: kind (1), connection (4), time (8), length (4).
const HEAD: usize = 17;

/// A log that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The log.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a tap log, or a record in it is malformed.
    #[error("{path}: byte {offset}: {what}")]
    Malformed {
        /// The log.
        path: String,
        /// Where in the file.
        offset: u64,
        /// What is wrong.
        what: String,
    },
}

/// What a process's log says about the process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Process {
    /// The process id.
    pub pid: u64,
    /// Its parent's.
    pub ppid: u64,
    /// `sys.argv`.
    pub argv: Vec<String>,
    /// The Python version.
    pub python: String,
    /// `sys.prefix` (the virtual environment).
    pub prefix: String,
    /// `sys.base_prefix` (the Python installation).
    pub base_prefix: String,
    /// The working folder.
    pub cwd: String,
    /// The home folder.
    pub home: String,
    /// `$USER`.
    pub user: String,
    /// The host name.
    pub host: String,
    /// `$XDG_RUNTIME_DIR`.
    pub runtime_dir: String,
    /// Installed versions of tractor, msgspec and trio, by distribution name.
    pub versions: BTreeMap<String, String>,
}

/// One log read: the process and the sides of its connections.
#[derive(Clone, Debug, Default)]
pub struct Log {
    /// The process (`None` for a log cut before its first record).
    pub process: Option<Process>,
    /// Its connections, in the order they were opened.
    pub sides: Vec<Side>,
}

#[derive(serde::Deserialize)]
struct ProcessJson {
    pid: u64,
    #[serde(default)]
    ppid: u64,
    #[serde(default)]
    argv: Vec<String>,
    #[serde(default)]
    python: String,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    base_prefix: String,
    #[serde(default)]
    cwd: String,
    #[serde(default)]
    home: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    runtime_dir: String,
    #[serde(default)]
    versions: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
struct OpenedJson {
    transport: String,
    local: String,
    remote: String,
    connected: Option<bool>,
    #[serde(default)]
    test: Option<String>,
}

/// Reads one tap log. At most `max_bytes` bytes of frames are kept (the
/// tap's own limit is the same number); a log that ends inside a record
/// (its process was killed while writing) gives the sides read so far, each
/// still open one with a [`Side::cut`] saying so.
pub fn read_log(path: &Path, max_bytes: u64) -> Result<Log, LogError> {
    let shown = path.display().to_string();
    let io = |source| LogError::Io {
        path: shown.clone(),
        source,
    };
    let malformed = |offset: u64, what: String| LogError::Malformed {
        path: shown.clone(),
        offset,
        what,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    if !file.metadata().map_err(io)?.is_file() {
        return Err(malformed(0, "not a regular file".into()));
    }
    let mut input = std::io::BufReader::with_capacity(1 << 16, file);
    let mut magic = [0u8; MAGIC.len()];
    let got = read_full(&mut input, &mut magic).map_err(io)?;
    if got < MAGIC.len() || magic != MAGIC {
        if got < MAGIC.len() && MAGIC.starts_with(&magic[..got]) {
            // Killed before the first record was complete.
            return Ok(Log::default());
        }
        return Err(malformed(0, "not a shuttle-tap/1 log".into()));
    }
    let mut log = Log::default();
    let mut by_conn: BTreeMap<u32, usize> = BTreeMap::new();
    let mut closed: Vec<bool> = Vec::new();
    let mut offset = MAGIC.len() as u64;
    let mut kept = 0u64;
    let mut limit_note: Option<String> = None;
    loop {
        let mut head = [0u8; HEAD];
        let got = read_full(&mut input, &mut head).map_err(io)?;
        if got == 0 {
            break;
        }
        let cut_here = |log: &mut Log, closed: &[bool], why: String| {
            for (side, done) in log.sides.iter_mut().zip(closed) {
                if !done && side.cut.is_none() {
                    side.cut = Some(why.clone());
                }
            }
        };
        let killed = || {
            format!("{shown}: the log ends inside a record at byte {offset} (the process was killed while writing it)")
        };
        if got < HEAD {
            cut_here(&mut log, &closed, killed());
            break;
        }
        let kind = head[0];
        let conn = u32::from_le_bytes(head[1..5].try_into().expect("4 bytes"));
        let t_ns = u64::from_le_bytes(head[5..13].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(head[13..17].try_into().expect("4 bytes")) as u64;
        let data_kind = matches!(kind, b'S' | b'R');
        if data_kind && kept + len > max_bytes {
            return Err(malformed(
                offset,
                format!(
                    "a record of {len} bytes passes the limit of {max_bytes} bytes of frames per log"
                ),
            ));
        }
        if !data_kind && len > 1 << 20 {
            return Err(malformed(
                offset,
                format!(
                    "a '{}' record of {len} bytes (at most 1 MiB)",
                    kind.escape_ascii()
                ),
            ));
        }
        let mut payload = Vec::new();
        let got = (&mut input)
            .take(len)
            .read_to_end(&mut payload)
            .map_err(io)?;
        if (got as u64) < len {
            cut_here(&mut log, &closed, killed());
            break;
        }
        let side_of = |by_conn: &BTreeMap<u32, usize>| {
            by_conn.get(&conn).copied().ok_or_else(|| {
                malformed(
                    offset,
                    format!("a record for connection {conn}, never opened"),
                )
            })
        };
        match kind {
            b'P' => {
                let p: ProcessJson = serde_json::from_slice(&payload)
                    .map_err(|e| malformed(offset, format!("process record: {e}")))?;
                log.process = Some(Process {
                    pid: p.pid,
                    ppid: p.ppid,
                    argv: p.argv,
                    python: p.python,
                    prefix: p.prefix,
                    base_prefix: p.base_prefix,
                    cwd: p.cwd,
                    home: p.home,
                    user: p.user,
                    host: p.host,
                    runtime_dir: p.runtime_dir,
                    versions: p.versions,
                });
            }
            b'O' => {
                let o: OpenedJson = serde_json::from_slice(&payload)
                    .map_err(|e| malformed(offset, format!("connection record: {e}")))?;
                let transport = match o.transport.as_str() {
                    "tcp" => Transport::Tcp,
                    "uds" => Transport::Uds,
                    other => return Err(malformed(offset, format!("unknown transport {other:?}"))),
                };
                if by_conn.contains_key(&conn) {
                    return Err(malformed(offset, format!("connection {conn} opened twice")));
                }
                by_conn.insert(conn, log.sides.len());
                closed.push(false);
                log.sides.push(Side {
                    source: shown.clone(),
                    pid: log.process.as_ref().map(|p| p.pid),
                    transport,
                    local: o.local,
                    remote: o.remote,
                    connected: o.connected,
                    sent: Vec::new(),
                    received: Some(Vec::new()),
                    cut: None,
                    group: o.test,
                });
            }
            b'S' | b'R' => {
                let i = side_of(&by_conn)?;
                kept += len;
                let chunk = Chunk {
                    t_ns,
                    bytes: payload,
                };
                let side = &mut log.sides[i];
                if kind == b'S' {
                    side.sent.push(chunk);
                } else if let Some(received) = side.received.as_mut() {
                    received.push(chunk);
                }
            }
            b'F' => {
                let i = side_of(&by_conn)?;
                let side = &mut log.sides[i];
                // The bytes of a failed send may or may not have left: the
                // assembler takes them from the receiver's copy, if any.
                if let Some(last) = side.sent.pop() {
                    side.cut.get_or_insert_with(|| {
                        format!(
                            "a send of {} bytes failed ({}); what the peer did not read of it is left out",
                            last.bytes.len(),
                            String::from_utf8_lossy(&payload)
                        )
                    });
                }
            }
            b'E' | b'C' => {
                let i = side_of(&by_conn)?;
                closed[i] = true;
            }
            b'L' => {
                let why = format!(
                    "{shown}: the tap's limit of {} bytes of frames per process was reached",
                    String::from_utf8_lossy(&payload)
                );
                cut_here(&mut log, &closed, why.clone());
                limit_note = Some(why);
            }
            other => {
                return Err(malformed(
                    offset,
                    format!("unknown record kind '{}'", other.escape_ascii()),
                ))
            }
        }
        offset += HEAD as u64 + len;
    }
    if let Some(why) = limit_note {
        // Connections opened after the limit recorded nothing either.
        for side in &mut log.sides {
            side.cut.get_or_insert_with(|| why.clone());
        }
    }
    Ok(log)
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
