//! The dialog state machine against every recorded channel, systematic
//! mutations of them, hand-built channels and dialogs generated from the
//! grammar. The helpers here read the recorded channels and judge one.

mod builder;
mod captures;
mod field_mutations;
mod grammar;
mod mutations;
mod rules;

use shuttle::dialog::{check_channel, ChannelReport};
use shuttle_conformance::capture::End;

use crate::support::captures;

/// One channel's frames with their senders.
type Frames = Vec<(End, Vec<u8>)>;

/// Every channel of every current-protocol capture: (label, frames).
fn channels() -> Vec<(String, Frames)> {
    let mut out = Vec::new();
    for (name, cap) in captures("python-tractor") {
        for ch in 0..cap.channels.len() {
            let frames = cap
                .channel_frames(ch)
                .unwrap()
                .into_iter()
                .map(|f| (f.from, f.body))
                .collect();
            out.push((format!("{name} ch{ch}"), frames));
        }
    }
    out
}

/// The report on one channel, in strict mode (quirks as warnings) or not.
fn check(frames: &[(End, Vec<u8>)], strict: bool) -> ChannelReport {
    let refs: Vec<(End, &[u8])> = frames.iter().map(|(e, b)| (*e, b.as_slice())).collect();
    check_channel(&refs, strict)
}
