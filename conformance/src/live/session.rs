//! The harness's side of one connection: framed send and receive with
//! timeouts, and the transcript of everything exchanged.

use std::fmt;
use std::time::Duration;

use shuttle::Msg;
use tokio::io::AsyncWriteExt as _;

use super::transport::{self, Conn, FrameReader, ReadError, WriteHalf, MAX_FRAME};

/// What was exchanged on a connection, one line per frame.
#[derive(Clone, Debug, Default)]
pub struct Transcript {
    lines: Vec<String>,
}

impl Transcript {
    /// Records a frame sent by the harness.
    pub fn sent(&mut self, what: &str) {
        self.lines.push(format!("-> {what}"));
    }

    /// Records a frame received from the peer.
    pub fn received(&mut self, what: String) {
        self.lines.push(format!("<- {what}"));
    }

    /// Records an event.
    pub fn note(&mut self, what: String) {
        self.lines.push(format!("   {what}"));
    }

    /// Appends a verdict to the last line.
    pub fn mark_last(&mut self, mark: &str) {
        if let Some(l) = self.lines.last_mut() {
            l.push_str("   [");
            l.push_str(mark);
            l.push(']');
        }
    }

    /// The lines.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}

/// Why receiving failed.
#[derive(Debug)]
pub enum RecvError {
    /// Nothing arrived in time.
    Timeout(Duration),
    /// The stream failed or broke the framing.
    Read(ReadError),
}

impl RecvError {
    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, RecvError::Timeout(_))
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Timeout(d) => write!(f, "no frame within {} ms", d.as_millis()),
            RecvError::Read(e) => write!(f, "{e}"),
        }
    }
}

/// One connection to (or from) a peer, as the harness drives it.
pub struct Session {
    reader: FrameReader,
    writer: WriteHalf,
    /// What was exchanged so far.
    pub transcript: Transcript,
    /// How long one send may block (a peer that stops reading).
    pub send_timeout: Duration,
    received: usize,
    closed: bool,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("transcript", &self.transcript.lines.len())
            .finish()
    }
}

impl Session {
    /// Wraps a connection.
    pub fn new(conn: Conn) -> Session {
        Session {
            reader: FrameReader::new(conn.read, MAX_FRAME),
            writer: conn.write,
            transcript: Transcript::default(),
            send_timeout: Duration::from_secs(10),
            received: 0,
            closed: false,
        }
    }

    /// Whether the peer closed (or reset) the connection, as seen by a read
    /// or a failed send, before sending a single frame: a peer going away as the connection came in, e.g. an
    /// actor exiting after `self.cancel` while its listener still accepted.
    pub fn closed_before_any_frame(&self) -> bool {
        self.closed && self.received == 0
    }

    /// Sends one frame body, noting it in the transcript.
    pub async fn send(&mut self, body: &[u8], note: &str) -> std::io::Result<()> {
        self.transcript.sent(note);
        let r = match tokio::time::timeout(
            self.send_timeout,
            transport::write_frame(&mut self.writer, body),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the peer did not take the frame in time",
            )),
        };
        if let Err(e) = &r {
            if e.kind() != std::io::ErrorKind::TimedOut {
                self.closed = true;
            }
        }
        r
    }

    /// Sends raw bytes (no framing added): for hostile input.
    pub async fn send_raw(&mut self, bytes: &[u8], note: &str) -> std::io::Result<()> {
        self.transcript.sent(note);
        self.writer.write_all(bytes).await?;
        self.writer.flush().await
    }

    /// Closes the harness's sending direction (the peer sees end of stream).
    pub async fn shutdown_write(&mut self) -> std::io::Result<()> {
        self.transcript
            .note("(harness closed its sending side)".into());
        self.writer.shutdown().await
    }

    /// Receives one frame body (`None`: the peer closed the connection),
    /// noting it in the transcript.
    pub async fn recv(&mut self, timeout: Duration) -> Result<Option<Vec<u8>>, RecvError> {
        match tokio::time::timeout(timeout, self.reader.next()).await {
            Err(_) => {
                self.transcript
                    .note(format!("(nothing within {} ms)", timeout.as_millis()));
                Err(RecvError::Timeout(timeout))
            }
            Ok(Ok(Some(body))) => {
                self.transcript.received(summarize(&body));
                self.received += 1;
                Ok(Some(body))
            }
            Ok(Ok(None)) => {
                self.transcript.note("(peer closed the connection)".into());
                self.closed = true;
                Ok(None)
            }
            Ok(Err(e)) => {
                self.closed = true;
                self.transcript.note(format!("(connection failed: {e})"));
                Err(RecvError::Read(e))
            }
        }
    }
}

fn short(s: &str) -> String {
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s.to_string()
    }
}

fn val(raw: &shuttle::Raw<'_>) -> String {
    match raw.to_value() {
        Ok(v) => short(&super::pattern::show(&v)),
        Err(_) => "<undecodable>".into(),
    }
}

fn uid(u: &shuttle::Uid<'_>) -> String {
    format!("[{}, {}]", u.name, short(&u.uuid))
}

/// One line describing a frame body: the message type, its cid and its
/// main fields (or why it does not decode).
pub fn summarize(body: &[u8]) -> String {
    let m = match Msg::decode(body) {
        Ok(m) => m,
        Err(e) => return format!("<{} bytes, not a message: {e}>", body.len()),
    };
    let cid = m.cid().map(|c| c.to_string()).unwrap_or_else(|| "-".into());
    let rest = match &m {
        Msg::Aid(a) => format!(
            "name={:?} uuid={} pid={} is_registrar={} is_probe={}",
            a.name,
            a.uuid,
            match a.pid {
                Some(shuttle::Int::U(p)) => p.to_string(),
                Some(shuttle::Int::I(p)) => p.to_string(),
                None => "None".into(),
            },
            match a.is_registrar {
                Some(b) => b.to_string(),
                None => "None".into(),
            },
            a.is_probe
        ),
        Msg::SpawnSpec(_) => String::new(),
        Msg::Start(s) => {
            let kw: Vec<String> = s
                .kwargs
                .iter()
                .map(|(k, v)| format!("{k}={}", val(&v)))
                .collect();
            format!("{}.{}({}) uid={}", s.ns, s.func, kw.join(", "), uid(&s.uid))
        }
        Msg::StartAck(a) => a.functype.as_str().to_string(),
        Msg::Started(p) => format!("pld={}", val(&p.pld)),
        Msg::Yield(p) => format!("pld={}", val(&p.pld)),
        Msg::Return(p) => format!("pld={}", val(&p.pld)),
        Msg::Stop(_) => String::new(),
        Msg::CancelAck(c) => format!("pld={}", c.pld),
        Msg::Error(e) => format!(
            "{} (src {}) src_uid={} relay_path=[{}] canceller={} message={:?} tb_str ends {:?}",
            e.boxed_type_str,
            e.src_type_str,
            uid(&e.src_uid),
            e.relay_path.iter().map(uid).collect::<Vec<_>>().join(", "),
            e.canceller
                .as_ref()
                .map(uid)
                .unwrap_or_else(|| "None".into()),
            short(e.message.as_deref().unwrap_or("")),
            e.tb_str
                .trim_end()
                .rsplit('\n')
                .next()
                .map(short)
                .unwrap_or_default(),
        ),
        other => format!("{:?}", other.msg_type()),
    };
    format!("{} cid={} {}", m.msg_type().as_str(), cid, rest)
        .trim_end()
        .to_string()
}
