//! Errors: what an endpoint raises, what a remote actor sent back, and
//! what can go wrong locally.

use std::fmt;

use shuttle::{Error as ErrorMsg, Uid};

/// An exception raised by an endpoint, as Python would name it: the class
/// name tractor boxes (`ValueError`, `KeyError`, ...) and its text.
///
/// ```
/// use shuttle_actor::EndpointError;
/// let e = EndpointError::new("ValueError", "boom: bad value 42");
/// assert_eq!(e.to_string(), "ValueError: boom: bad value 42");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointError {
    /// The exception class name.
    pub type_name: String,
    /// Its text (`str(exc)`).
    pub message: String,
}

impl EndpointError {
    /// An exception of class `type_name` with text `message`.
    pub fn new(type_name: impl Into<String>, message: impl Into<String>) -> EndpointError {
        EndpointError {
            type_name: type_name.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.type_name)
        } else {
            write!(f, "{}: {}", self.type_name, self.message)
        }
    }
}

impl std::error::Error for EndpointError {}

/// An error a remote actor sent back (an `Error` message): tractor's
/// `RemoteActorError` and its subclasses, unboxed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteError {
    /// The class boxed at the last hop (`RemoteActorError`,
    /// `ContextCancelled`, `MsgTypeError`, `ValueError`, ...).
    pub boxed_type: String,
    /// The class of the original exception.
    pub src_type: String,
    /// The short message, if any.
    pub message: String,
    /// The remote traceback text.
    pub tb_str: String,
    /// Where the original exception was raised.
    pub src_uid: (String, String),
    /// Who packed it, source first.
    pub relay_path: Vec<(String, String)>,
    /// `ContextCancelled`: who requested the cancel.
    pub canceller: Option<(String, String)>,
}

fn pair(u: &Uid<'_>) -> (String, String) {
    (u.name.to_string(), u.uuid.to_string())
}

impl RemoteError {
    pub(crate) fn from_msg(e: &ErrorMsg<'_>) -> RemoteError {
        RemoteError {
            boxed_type: e.boxed_type_str.to_string(),
            src_type: e.src_type_str.to_string(),
            message: e.message.as_deref().unwrap_or("").to_string(),
            tb_str: e.tb_str.to_string(),
            src_uid: pair(&e.src_uid),
            relay_path: e.relay_path.iter().map(pair).collect(),
            canceller: e.canceller.as_ref().map(pair),
        }
    }

    /// The line of the remote traceback that names the exception
    /// (`ValueError: boom`): the last one starting with its class name
    /// (tractor may add notes after it, such as `( ^^^ this exc was
    /// collapsed from a group ^^^ )`), else the last line, else the class
    /// name.
    pub fn last_line(&self) -> &str {
        let t = self.src_type.as_str();
        let names_it = |l: &&str| {
            let l = l.trim();
            l == t
                || l.strip_prefix(t).is_some_and(|r| r.starts_with(':'))
                || l.split_once(": ")
                    .is_some_and(|(head, _)| head.ends_with(&format!(".{t}")))
        };
        let mut lines = self.tb_str.lines().rev();
        lines
            .clone()
            .find(names_it)
            .or_else(|| lines.find(|l| !l.trim().is_empty()))
            .map(str::trim)
            .unwrap_or(t)
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "remote {} from ('{}', '{}'): {}",
            self.boxed_type,
            self.src_uid.0,
            self.src_uid.1,
            self.last_line()
        )
    }
}

/// What a call, a stream or a context can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The remote endpoint raised (or the remote runtime refused the call).
    #[error("{0}")]
    Remote(Box<RemoteError>),
    /// The dialog was cancelled (`ContextCancelled` from the remote side).
    #[error("cancelled: {0}")]
    Cancelled(Box<RemoteError>),
    /// A payload broke the dialog's payload spec, or did not decode into
    /// the Rust type asked for.
    #[error("bad payload: {0}")]
    Payload(String),
    /// A payload or the arguments could not be encoded.
    #[error("cannot encode: {0}")]
    Encode(String),
    /// The peer broke the protocol on this dialog.
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// The channel closed before the dialog ended.
    #[error("the channel closed before the dialog ended")]
    ChannelClosed,
    /// Connecting or the socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The peer did not complete the handshake.
    #[error("no handshake from {0}")]
    Handshake(String),
    /// A child could not be spawned, or did not connect back.
    #[error("spawn failed: {0}")]
    Spawn(String),
}

/// An endpoint that meets an [`Error`] raises it on with `?`, as a tractor
/// task lets an exception propagate: a payload that broke the endpoint's
/// payload spec becomes tractor's `MsgTypeError`, a remote error keeps its
/// type, a cancellation is `ContextCancelled`, the rest `RuntimeError`.
impl From<Error> for EndpointError {
    fn from(e: Error) -> EndpointError {
        match e {
            Error::Payload(why) => EndpointError::new("MsgTypeError", why),
            Error::Remote(r) => EndpointError::new(r.src_type.clone(), r.last_line().to_string()),
            Error::Cancelled(r) => {
                EndpointError::new("ContextCancelled", r.last_line().to_string())
            }
            other => EndpointError::new("RuntimeError", other.to_string()),
        }
    }
}
