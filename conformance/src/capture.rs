//! The capture format: real dialogs recorded from tractor processes
//! (`spec/PROTOCOL.md#captures`, `fixtures/captures/FORMAT.md`). Parsing
//! only; reading files is the caller's business.
//!
//! Two versions are read. `tractor-capture/2` (written by `shuttle record`)
//! adds to `/1` what real channels need: each frame names the end that
//! sent it (`end`), so that an actor connected to itself (both ends one
//! uuid) is told apart; a channel may say that one of its ends was not
//! recorded (`unrecorded`); and an end that never announced an identity is
//! listed as an `unnamed` actor with a placeholder uuid.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

pub use shuttle::dialog::{DecodedFrame, End};

/// The format string of the capture documents written now.
pub const FORMAT: &str = "tractor-capture/2";

/// The format string of the first version, still read.
pub const FORMAT_V1: &str = "tractor-capture/1";

/// Whether a document's `format` is a capture format this module reads.
pub fn is_format(format: &str) -> bool {
    format == FORMAT || format == FORMAT_V1
}

/// One capture document: real dialogs recorded from Python tractor actor
/// trees, every frame of every channel with its exact msgpack body.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[schemars(extend(
    "if" = {"properties": {"format": {"const": "tractor-capture/2"}}},
    "then" = {"properties": {"channels": {"items": {"properties": {"frames": {"items": {"required": ["end"]}}}}}}}
))]
pub struct Capture {
    /// `tractor-capture/2`, or `tractor-capture/1` (whose frames carry no
    /// `end`).
    #[schemars(extend("enum" = ["tractor-capture/2", "tractor-capture/1"]))]
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
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
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
    /// An end that never announced an identity (its channel ended before
    /// its handshake): `name` is `?` and `uuid` a placeholder unique in the
    /// capture (version 2).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unnamed: bool,
}

/// One transport connection.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct Channel {
    /// uuid of the connecting end.
    pub a: String,
    /// uuid of the accepting end.
    pub b: String,
    /// `tcp` or `uds`.
    #[schemars(extend("enum" = ["tcp", "uds"]))]
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
    /// The end that was not recorded: its frames are known only from the
    /// other end's copy, each marked `_recv_copy` (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unrecorded: Option<End>,
}

/// One recorded frame.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct Frame {
    /// uuid of the sender.
    pub from: String,
    /// The end that sent it (required in version 2, absent in version 1,
    /// where `from` says it): tells the two ends of a self-connection
    /// apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<End>,
    /// Sender's monotonic clock, nanoseconds.
    pub t_ns: u64,
    /// The msgpack body, standard base64.
    #[schemars(extend("contentEncoding" = "base64"))]
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
    #[error("unsupported format {0:?} (expected {FORMAT:?} or {FORMAT_V1:?})")]
    Format(String),
    /// A version 2 frame without its `end`.
    #[error("channel {channel} frame {frame}: no `end` (required in {FORMAT})")]
    NoEnd {
        /// Channel index.
        channel: usize,
        /// Frame index within the channel.
        frame: usize,
    },
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

impl Capture {
    /// Parses a capture document and checks its format string.
    pub fn from_json(text: &str) -> Result<Capture, CaptureError> {
        let cap: Capture = serde_json::from_str(text)?;
        if cap.format == FORMAT {
            for (channel, ch) in cap.channels.iter().enumerate() {
                if let Some(frame) = ch.frames.iter().position(|f| f.end.is_none()) {
                    return Err(CaptureError::NoEnd { channel, frame });
                }
            }
        } else if cap.format != FORMAT_V1 {
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
                let from = if let Some(end) = f.end {
                    end
                } else if f.from == ch.a {
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

// ---------------------------------------------------------------------------
// A capture's payload verdicts: its `pld_specs` applied to its channels.

use shuttle::dialog::{dialog_verdicts, EndpointSpecs, FrameVerdict};
use shuttle::pld_spec::SpecError;

/// Why a capture's verdicts could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerdictError {
    /// A `pld_specs` entry does not compile.
    #[error("pld_specs: {0}")]
    Spec(#[from] SpecError),
    /// A frame could not be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

/// Applies a capture's `pld_specs` to every channel; the result is
/// comparable with its `pld_verdicts` (see [`FrameVerdict::to_json`](shuttle::dialog::FrameVerdict::to_json)).
pub fn capture_verdicts(cap: &Capture) -> Result<Vec<FrameVerdict>, VerdictError> {
    let specs = EndpointSpecs::from_json(&cap.pld_specs)?;
    let mut out = Vec::new();
    if specs.is_empty() {
        return Ok(out);
    }
    for ch in 0..cap.channels.len() {
        out.extend(dialog_verdicts(ch, &cap.channel_frames(ch)?, &specs));
    }
    Ok(out)
}

/// One payload frame, as recorded in a capture's `pld_verdicts` and as
/// computed by [`capture_verdicts`].
#[derive(Clone, Debug, PartialEq)]
pub struct VerdictCheck {
    /// Channel index.
    pub channel: usize,
    /// Frame index within the channel.
    pub frame: usize,
    /// The capture's entry (`None`: the capture has no verdict for it).
    pub expected: Option<serde_json::Value>,
    /// Ours (`None`: we did not limit this frame).
    pub got: Option<serde_json::Value>,
}

impl VerdictCheck {
    /// True when both sides have the same entry.
    pub fn agrees(&self) -> bool {
        self.expected.is_some() && self.expected == self.got
    }
}

/// Compares our verdicts on a capture with its recorded `pld_verdicts`,
/// frame by frame (ordered by channel, then frame). A capture without
/// `pld_specs` gives an empty list.
pub fn check_capture(cap: &Capture) -> Result<Vec<VerdictCheck>, VerdictError> {
    type Checks = std::collections::BTreeMap<(usize, usize), VerdictCheck>;
    fn slot(map: &mut Checks, channel: usize, frame: usize) -> &mut VerdictCheck {
        map.entry((channel, frame)).or_insert(VerdictCheck {
            channel,
            frame,
            expected: None,
            got: None,
        })
    }
    let mut map = Checks::new();
    let recorded = cap
        .pld_verdicts
        .as_ref()
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    for v in recorded {
        let at = |k: &str| v.get(k).and_then(|x| x.as_u64()).unwrap_or(u64::MAX) as usize;
        let (channel, frame) = (at("channel"), at("frame"));
        slot(&mut map, channel, frame).expected = Some(v);
    }
    for v in capture_verdicts(cap)? {
        slot(&mut map, v.channel, v.frame).got = Some(v.to_json());
    }
    Ok(map.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(format: &str, frames: &str) -> String {
        format!(
            r#"{{"format": "{format}", "source": {{}}, "scenario": "s",
                "actors": [{{"name": "me", "uuid": "u"}}],
                "channels": [{{"a": "u", "b": "u", "transport": "tcp", "frames": [{frames}]}}]}}"#
        )
    }

    #[test]
    fn version_2_tells_the_ends_of_a_self_connection_apart() {
        let frames = r#"{"from": "u", "end": "a", "t_ns": 1, "msgpack_b64": "wA=="},
                        {"from": "u", "end": "b", "t_ns": 2, "msgpack_b64": "wg=="}"#;
        let cap = Capture::from_json(&doc(FORMAT, frames)).unwrap();
        let ends: Vec<End> = cap
            .channel_frames(0)
            .unwrap()
            .iter()
            .map(|f| f.from)
            .collect();
        assert_eq!(ends, [End::A, End::B]);
        // Version 1 could only say "u", which is both ends.
        let v1 = r#"{"from": "u", "t_ns": 1, "msgpack_b64": "wA=="},
                    {"from": "u", "t_ns": 2, "msgpack_b64": "wg=="}"#;
        let cap = Capture::from_json(&doc(FORMAT_V1, v1)).unwrap();
        let ends: Vec<End> = cap
            .channel_frames(0)
            .unwrap()
            .iter()
            .map(|f| f.from)
            .collect();
        assert_eq!(ends, [End::A, End::A]);
    }

    #[test]
    fn a_version_2_frame_must_name_its_end() {
        let frames = r#"{"from": "u", "end": "a", "t_ns": 1, "msgpack_b64": "wA=="},
                        {"from": "u", "t_ns": 2, "msgpack_b64": "wg=="}"#;
        let err = Capture::from_json(&doc(FORMAT, frames)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "channel 0 frame 1: no `end` (required in tractor-capture/2)"
        );
        let err = Capture::from_json(&doc("tractor-capture/9", "")).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("unsupported format \"tractor-capture/9\""));
    }
}
