//! The recorded channels as they are: all accepted, with exactly their
//! known quirks.

use shuttle::dialog::{Excuse, Quirk};

use super::{channels, check};
use crate::support::captures;

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

#[test]
fn strict_mode_reports_exactly_the_known_quirks_of_the_captures() {
    let expected: &[(&str, usize, Quirk)] = &[
        ("cancel_actor_midstream ch0", 14, Quirk::StopAfterEnd),
        (
            "cancel_actor_midstream ch0",
            14,
            Quirk::SentToCancelledActor,
        ),
        (
            "ctx_error_before_started ch0",
            6,
            Quirk::RedundantCancelTask,
        ),
        ("grandchild_error_relay ch0", 7, Quirk::RedundantCancelTask),
        ("grandchild_error_relay ch2", 9, Quirk::SentToCancelledActor),
        ("grandchild_error_relay ch2", 9, Quirk::RedundantActorCancel),
        ("payload_bytes_1mib ch0", 11, Quirk::StopAfterEnd),
        ("stream_from_asyncgen ch0", 11, Quirk::RedundantCancelTask),
        ("stream_from_asyncgen_error ch0", 8, Quirk::StopAfterEnd),
        (
            "stream_from_asyncgen_error ch0",
            9,
            Quirk::RedundantCancelTask,
        ),
        (
            "typed_pld_started_send_side_check ch0",
            6,
            Quirk::RedundantCancelTask,
        ),
    ];
    let mut seen = Vec::new();
    for (label, frames) in channels() {
        let r = check(&frames, true);
        assert!(r.is_ok(), "{label}: {:?}", r.violations);
        assert!(check(&frames, false).warnings.is_empty());
        for w in r.warnings {
            seen.push((label.clone(), w.frame.unwrap(), w.quirk));
        }
        // Open at the end: only the unread second self.cancel of grandchild ch2.
        for o in &r.open {
            assert_eq!(
                (label.as_str(), o.excuse),
                ("grandchild_error_relay ch2", Some(Excuse::NeverRead))
            );
        }
    }
    let expected: Vec<_> = expected
        .iter()
        .map(|(l, i, q)| (l.to_string(), *i, *q))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn check_frames_reads_capture_channels_directly() {
    for (name, cap) in captures("python-tractor") {
        for ch in 0..cap.channels.len() {
            let frames = cap.channel_frames(ch).unwrap();
            let r = shuttle::dialog::check_frames(&frames, true);
            assert!(r.is_ok(), "{name} ch{ch}: {:?}", r.violations);
            assert_eq!(r.frames, cap.channels[ch].frames.len());
        }
    }
}
