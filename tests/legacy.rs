//! The dict dialect of tractor 0.1.0a5, against its recorded captures.

use shuttle::legacy::{self, LegacyMsg};
use shuttle::{Msg, MsgType};
use shuttle_conformance::capture::End;

use crate::support::{captures, unhex};

#[test]
fn every_recorded_frame_round_trips_byte_identically() {
    let mut n = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for (name, cap) in captures("python-tractor-0.1.0a5") {
        for ch in 0..cap.channels.len() {
            for (i, f) in cap.channel_frames(ch).unwrap().iter().enumerate() {
                let msg = LegacyMsg::decode(&f.body)
                    .unwrap_or_else(|e| panic!("{name} ch{ch} frame {i}: {e}"));
                assert_eq!(msg.to_vec(), f.body, "{name} ch{ch} frame {i}");
                kinds.insert(msg.kind());
                n += 1;
            }
        }
    }
    assert_eq!(n, 314);
    assert_eq!(kinds.len(), 10, "{kinds:?}");
}

#[test]
fn golden_bytes_of_the_reference() {
    for hexed in [
        "92a4726f6f74a27531",
        "81a3636d6495a36d6f64a361646481a1780192a4726f6f74a27531a26331",
        "82a866756e6374797065a96173796e6366756e63a3636964a26331",
        "82a473746f70c3a3636964a26331",
        "82a672657475726e03a3636964a26331",
        "c0",
    ] {
        let bytes = unhex(hexed);
        assert_eq!(
            hex::encode(LegacyMsg::decode(&bytes).unwrap().to_vec()),
            hexed
        );
    }
}

#[test]
fn malformed_dict_messages_are_errors() {
    for (hexed, text) in [
        (
            "81a3666f6f01",
            "unknown message of the dict dialect (first key \"foo\")",
        ),
        (
            "82a473746f70c2a3636964a26331",
            "`stop` must be true - at `$.stop`",
        ),
        (
            "81a3636d6493a36d6f64a361646480",
            "Expected `array` of length 5, got 3 - at `$.cmd`",
        ),
        (
            "82a3636964a26331a473746f70c3",
            "expected the keys [\"stop\", \"cid\"] in this order",
        ),
        ("01", "Expected `object | array | null`, got `int`"),
    ] {
        let err = LegacyMsg::decode(&unhex(hexed)).unwrap_err();
        assert!(
            err.msgspec_text().starts_with(text),
            "{hexed}: {}",
            err.msgspec_text()
        );
    }
}

/// Every recorded dialog translates into typed messages that encode, with
/// the losses stated; cancel RPC answers become `CancelAck`.
#[test]
fn recorded_dialogs_translate_to_the_typed_protocol() {
    let mut cancel_acks = 0;
    let mut lossless = 0;
    let mut total = 0;
    for (name, cap) in captures("python-tractor-0.1.0a5") {
        for ch in 0..cap.channels.len() {
            let frames = cap.channel_frames(ch).unwrap();
            let decoded: Vec<(End, LegacyMsg<'_>)> = frames
                .iter()
                .map(|f| (f.from, LegacyMsg::decode(&f.body).unwrap()))
                .collect();
            let typed = legacy::translate(&decoded);
            assert_eq!(typed.len(), decoded.len());
            for (i, (t, (_, l))) in typed.iter().zip(&decoded).enumerate() {
                total += 1;
                match &t.msg {
                    Some(m) => {
                        let bytes = m.to_vec().unwrap();
                        let back = Msg::decode(&bytes).unwrap();
                        assert_eq!(&back, m, "{name} ch{ch} frame {i}");
                        assert_eq!(back.cid(), l.cid(), "{name} ch{ch} frame {i}");
                        if back.msg_type() == MsgType::CancelAck {
                            cancel_acks += 1;
                        }
                        // And back to the dict dialect where nothing was lost.
                        if t.losses.is_empty() {
                            lossless += 1;
                            assert_eq!(
                                legacy::from_typed(m).as_ref(),
                                Some(l),
                                "{name} ch{ch} frame {i}"
                            );
                        }
                    }
                    None => {
                        // Only the nil sentinel and a repeated stop have no typed form.
                        assert!(
                            matches!(l, LegacyMsg::Terminate | LegacyMsg::Stop { .. }),
                            "{l:?}"
                        );
                        assert!(!t.losses.is_empty());
                    }
                }
            }
        }
    }
    assert!(cancel_acks >= 8, "{cancel_acks}");
    assert!(lossless > 200, "{lossless} of {total}");
}

/// Every recorded channel of the dict dialect, translated, follows the
/// typed dialog rules; the only frames dropped are the nil sentinel and the
/// documented repeated `stop`.
#[test]
fn translated_channels_pass_the_typed_dialog_machine() {
    use shuttle::dialog::check_channel;
    let mut channels = 0;
    let mut repeats = 0;
    for (name, cap) in captures("python-tractor-0.1.0a5") {
        for ch in 0..cap.channels.len() {
            let frames = cap.channel_frames(ch).unwrap();
            let mut typed = Vec::new();
            for (from, t) in legacy::translate_channel(&frames).unwrap() {
                match t.msg {
                    Some(m) => typed.push((from, m.to_vec().unwrap())),
                    None => {
                        repeats += t.losses.contains(&legacy::REPEATED_STOP) as usize;
                    }
                }
            }
            let input: Vec<(End, &[u8])> = typed.iter().map(|(e, b)| (*e, b.as_slice())).collect();
            let report = check_channel(&input, false);
            assert!(
                report.violations.is_empty(),
                "{name} ch{ch}: {:?}",
                report.violations
            );
            channels += 1;
        }
    }
    assert_eq!(channels, 24);
    assert_eq!(repeats, 2);
}
