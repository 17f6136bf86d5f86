//! The `tractor-capture/1` format: real dialogs recorded from Python tractor
//! processes (`spec/PROTOCOL.md#captures`). Parsing only; reading files is
//! the caller's business.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The format string of a capture document.
pub const FORMAT: &str = "tractor-capture/1";

/// One capture document: real dialogs recorded from Python tractor actor
/// trees, every frame of every channel with its exact msgpack body.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Capture {
    /// Always `tractor-capture/1`.
    #[cfg_attr(feature = "schema", schemars(extend("const" = "tractor-capture/1")))]
    pub format: String,
    /// The implementation that produced the bytes.
    pub source: serde_json::Map<String, serde_json::Value>,
    /// File stem; unique within a directory.
    pub scenario: String,
    /// Prose.
    #[serde(default)]
    pub description: String,
    /// Every identity that appears as a channel end.
    pub actors: Vec<Actor>,
    /// One entry per transport connection.
    pub channels: Vec<Channel>,
    /// Payload specs of typed endpoints (typed scenarios only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pld_specs: Vec<serde_json::Value>,
    /// Per-frame payload verdicts of typed scenarios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pld_verdicts: Option<serde_json::Value>,
}

/// An actor identity in a capture.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Actor {
    /// Actor name.
    pub name: String,
    /// Actor uuid.
    pub uuid: String,
    /// OS process id.
    #[serde(default)]
    pub pid: Option<u64>,
    /// The throw-away identity of a registrar probe.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub probe: bool,
}

/// One transport connection.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Channel {
    /// uuid of the connecting end.
    pub a: String,
    /// uuid of the accepting end.
    pub b: String,
    /// `tcp` or `uds`.
    #[cfg_attr(feature = "schema", schemars(extend("enum" = ["tcp", "uds"])))]
    pub transport: String,
    /// Socket names (informational).
    #[serde(default)]
    pub addrs: serde_json::Map<String, serde_json::Value>,
    /// Every frame sent, both directions, merged by time.
    #[serde(default)]
    pub frames: Vec<Frame>,
    /// A connection on which no frame was sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty: bool,
}

/// One recorded frame.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Frame {
    /// uuid of the sender.
    pub from: String,
    /// Sender's monotonic clock, nanoseconds.
    pub t_ns: u64,
    /// The msgpack body, standard base64.
    #[cfg_attr(feature = "schema", schemars(extend("contentEncoding" = "base64")))]
    pub msgpack_b64: String,
    /// Known only from the receiver's copy.
    #[serde(
        default,
        rename = "_recv_copy",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub recv_copy: bool,
}

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// Not JSON of the expected shape.
    #[error("not a {FORMAT} document: {0}")]
    Json(#[from] serde_json::Error),
    /// A different format string.
    #[error("unsupported format {0:?} (expected {FORMAT:?})")]
    Format(String),
    /// A frame whose body is not valid base64.
    #[error("channel {channel} frame {frame}: invalid base64: {error}")]
    Base64 {
        /// Channel index.
        channel: usize,
        /// Frame index within the channel.
        frame: usize,
        /// The decoder's complaint.
        error: base64::DecodeError,
    },
    /// A frame whose sender is neither end of its channel.
    #[error("channel {channel} frame {frame}: sender {from} is not an end of the channel")]
    Sender {
        /// Channel index.
        channel: usize,
        /// Frame index within the channel.
        frame: usize,
        /// The sender named.
        from: String,
    },
}

/// Which end of a channel sent a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum End {
    /// The connecting end (`a`).
    A,
    /// The accepting end (`b`).
    B,
}

impl End {
    /// The other end.
    pub fn peer(self) -> End {
        match self {
            End::A => End::B,
            End::B => End::A,
        }
    }
}

/// A frame body with its sender, decoded from base64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedFrame {
    /// Which end sent it.
    pub from: End,
    /// The msgpack body.
    pub body: Vec<u8>,
}

impl Capture {
    /// Parses a capture document and checks its format string.
    pub fn from_json(text: &str) -> Result<Capture, CaptureError> {
        let cap: Capture = serde_json::from_str(text)?;
        if cap.format != FORMAT {
            return Err(CaptureError::Format(cap.format));
        }
        Ok(cap)
    }

    /// The actor name for a uuid, if listed.
    pub fn actor_name(&self, uuid: &str) -> Option<&str> {
        self.actors
            .iter()
            .find(|a| a.uuid == uuid)
            .map(|a| a.name.as_str())
    }

    /// Every frame of channel `index`, decoded, with its sender.
    pub fn channel_frames(&self, index: usize) -> Result<Vec<DecodedFrame>, CaptureError> {
        let ch = &self.channels[index];
        ch.frames
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let from = if f.from == ch.a {
                    End::A
                } else if f.from == ch.b {
                    End::B
                } else {
                    return Err(CaptureError::Sender {
                        channel: index,
                        frame: i,
                        from: f.from.clone(),
                    });
                };
                let body = base64::engine::general_purpose::STANDARD
                    .decode(&f.msgpack_b64)
                    .map_err(|error| CaptureError::Base64 {
                        channel: index,
                        frame: i,
                        error,
                    })?;
                Ok(DecodedFrame { from, body })
            })
            .collect()
    }
}
