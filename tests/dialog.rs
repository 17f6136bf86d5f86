//! The dialog state machine against every recorded channel, systematic
//! mutations of them, and dialogs generated from the grammar.

use shuttle::capture::End;
use shuttle::dialog::{check_channel, ChannelReport};

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

fn check(frames: &[(End, Vec<u8>)], strict: bool) -> ChannelReport {
    let refs: Vec<(End, &[u8])> = frames.iter().map(|(e, b)| (*e, b.as_slice())).collect();
    check_channel(&refs, strict)
}

#[test]
fn every_capture_channel_is_accepted() {
    let mut bad = Vec::new();
    for (label, frames) in channels() {
        let r = check(&frames, true);
        for v in &r.violations {
            bad.push(format!("{label}: {v}"));
        }
        for w in &r.warnings {
            eprintln!("{label}: {w}");
        }
        for o in &r.open {
            eprintln!("{label}: open {} {:?} {:?}", o.cid, o.rpc, o.excuse);
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
