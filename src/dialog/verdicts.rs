//! Per-dialog limiting: each dialog's spec is chosen by the endpoint
//! (`ns`, `func`) its `Start` names, and applies to that dialog's
//! `Started`/`Yield`/`Return` payloads in both directions. `CancelAck.pld`
//! (always a bool, checked by the envelope) and runtime messages are never
//! limited.

use std::collections::HashMap;

use serde::Deserialize;

use super::DecodedFrame;
use crate::error::DecodeError;
use crate::pld_spec::{PldSpec, SpecError};
use crate::{Msg, MsgType};

/// One endpoint's spec.
#[derive(Clone, Debug)]
pub struct EndpointSpec {
    /// The endpoint's namespace (`Start.ns`), e.g. `__main__`.
    pub ns: String,
    /// The endpoint's function (`Start.func`).
    pub func: String,
    /// Its payload spec.
    pub spec: PldSpec,
}

/// The payload specs of a set of endpoints, as listed in a capture's
/// `pld_specs` (`{"ns", "func", "spec", "structs"}` entries).
#[derive(Clone, Debug, Default)]
pub struct EndpointSpecs {
    entries: Vec<EndpointSpec>,
}

#[derive(Deserialize)]
struct Entry {
    ns: String,
    func: String,
    spec: String,
    #[serde(default)]
    structs: serde_json::Value,
}

impl EndpointSpecs {
    /// No endpoint is limited (every payload is `Any`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Limits endpoint (`ns`, `func`) to `spec` (replacing an earlier entry).
    pub fn insert(&mut self, ns: impl Into<String>, func: impl Into<String>, spec: PldSpec) {
        let (ns, func) = (ns.into(), func.into());
        self.entries.retain(|e| !(e.ns == ns && e.func == func));
        self.entries.push(EndpointSpec { ns, func, spec });
    }

    /// Reads a capture's `pld_specs` list; every spec must compile.
    pub fn from_json(pld_specs: &[serde_json::Value]) -> Result<Self, SpecError> {
        let mut out = Self::new();
        for v in pld_specs {
            let e: Entry = serde_json::from_value(v.clone())
                .map_err(|err| SpecError::syntax(format!("bad pld_specs entry {v}: {err}")))?;
            let spec = PldSpec::parse(&e.spec, &e.structs)?;
            out.insert(e.ns, e.func, spec);
        }
        Ok(out)
    }

    /// The spec of endpoint (`ns`, `func`), if it is limited.
    pub fn get(&self, ns: &str, func: &str) -> Option<&PldSpec> {
        self.entries
            .iter()
            .find(|e| e.ns == ns && e.func == func)
            .map(|e| &e.spec)
    }

    /// Every entry.
    pub fn iter(&self) -> impl Iterator<Item = &EndpointSpec> {
        self.entries.iter()
    }

    /// True when no endpoint is limited.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The limiter's verdict on one payload frame.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameVerdict {
    /// Channel index in the capture.
    pub channel: usize,
    /// Frame index within the channel.
    pub frame: usize,
    /// The dialog.
    pub cid: String,
    /// `Started`, `Yield` or `Return`.
    pub msg_type: MsgType,
    /// Accepted, or msgspec's error.
    pub result: Result<(), DecodeError>,
}

impl FrameVerdict {
    /// True when the payload conforms.
    pub fn ok(&self) -> bool {
        self.result.is_ok()
    }

    /// msgspec's text of the error, if any.
    pub fn error_text(&self) -> Option<String> {
        self.result.as_ref().err().map(|e| e.msgspec_text())
    }

    /// The capture's `pld_verdicts` entry form:
    /// `{channel, frame, cid, msg_type, ok, error?}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "channel": self.channel,
            "frame": self.frame,
            "cid": self.cid,
            "msg_type": self.msg_type.as_str(),
            "ok": self.ok(),
        });
        if let (Some(text), serde_json::Value::Object(m)) = (self.error_text(), &mut v) {
            m.insert("error".into(), text.into());
        }
        v
    }
}

/// Walks one channel's frames (in order), picks each dialog's spec from
/// the endpoint of its `Start`, and validates every `Started`, `Yield` and
/// `Return` payload of a limited dialog, whichever end sent it. Frames that
/// do not decode as messages are skipped (the envelope checks report them).
pub fn dialog_verdicts(
    channel: usize,
    frames: &[DecodedFrame],
    specs: &EndpointSpecs,
) -> Vec<FrameVerdict> {
    let mut dialogs: HashMap<String, &PldSpec> = HashMap::new();
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let Ok(msg) = Msg::decode(&f.body) else {
            continue;
        };
        let (cid, pld) = match &msg {
            Msg::Start(s) => {
                // A new `Start` on a cid opens a new dialog: its endpoint
                // decides, even if the cid was limited before.
                match specs.get(&s.ns, &s.func) {
                    Some(spec) => dialogs.insert(s.cid.to_string(), spec),
                    None => dialogs.remove(s.cid.as_ref()),
                };
                continue;
            }
            Msg::Started(m) => (&m.cid, &m.pld),
            Msg::Yield(m) => (&m.cid, &m.pld),
            Msg::Return(m) => (&m.cid, &m.pld),
            _ => continue,
        };
        if let Some(spec) = dialogs.get(cid.as_ref()) {
            out.push(FrameVerdict {
                channel,
                frame: i,
                cid: cid.to_string(),
                msg_type: msg.msg_type(),
                result: spec.validate(pld.as_bytes()),
            });
        }
    }
    out
}
