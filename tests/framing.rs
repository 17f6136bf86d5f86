//! The frame splitter and writer against the real byte streams.

use shuttle::frame::{write_frame, write_frame_with, FrameError, FrameSplitter, Split};
use shuttle::Msg;

use crate::support::fixtures;

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("bench").join(name)).unwrap()
}

#[test]
fn splits_the_recorded_stream_into_every_frame() {
    let wire = corpus("corpus-python-tractor.wire");
    let frames: Vec<&[u8]> = FrameSplitter::default()
        .frames(&wire)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(frames.len(), 1056);
    let mut rebuilt = Vec::new();
    for body in &frames {
        Msg::decode(body).unwrap();
        write_frame(&mut rebuilt, body).unwrap();
    }
    assert_eq!(rebuilt, wire);
}

#[test]
fn incremental_feeding_yields_the_same_frames() {
    let wire = corpus("corpus-small.wire");
    let splitter = FrameSplitter::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut got = 0;
    // Feed 7 bytes at a time, as a socket might deliver them.
    for chunk in wire.chunks(7) {
        buf.extend_from_slice(chunk);
        loop {
            match splitter.split(&buf).unwrap() {
                Split::Frame { body, consumed } => {
                    Msg::decode(body).unwrap();
                    got += 1;
                    buf.drain(..consumed);
                }
                Split::NeedMore { at_least } => {
                    assert!(at_least > 0);
                    break;
                }
            }
        }
    }
    assert!(buf.is_empty());
    assert_eq!(got, 1044);
}

#[test]
fn absurd_length_prefix_is_refused_before_allocation() {
    let wire = [0xff, 0xff, 0xff, 0xff, 0x80];
    let err = FrameSplitter::default().split(&wire).unwrap_err();
    assert_eq!(
        err,
        FrameError::TooLarge {
            announced: u32::MAX as u64,
            max: 64 * 1024 * 1024
        }
    );
    let small = FrameSplitter::new(16);
    assert!(matches!(
        small.split(&[17, 0, 0, 0]),
        Err(FrameError::TooLarge {
            announced: 17,
            max: 16
        })
    ));
    assert_eq!(
        small.split(&[16, 0, 0, 0]).unwrap(),
        Split::NeedMore { at_least: 16 }
    );
}

#[test]
fn truncated_stream_is_reported() {
    let mut wire = Vec::new();
    write_frame(&mut wire, b"\xc0").unwrap();
    wire.extend_from_slice(&[5, 0, 0, 0, 1, 2]);
    let items: Vec<_> = FrameSplitter::default().frames(&wire).collect();
    assert_eq!(
        items,
        vec![Ok(&b"\xc0"[..]), Err(FrameError::Truncated { missing: 3 })]
    );
}

#[test]
fn write_frame_with_patches_the_prefix_and_rolls_back_on_error() {
    let mut out = vec![9];
    write_frame_with(&mut out, |o| {
        o.extend_from_slice(b"abc");
        Ok(())
    })
    .unwrap();
    assert_eq!(out, [9, 3, 0, 0, 0, b'a', b'b', b'c']);
    let err = write_frame_with(&mut out, |o| {
        o.push(1);
        Err(shuttle::EncodeError::Payload("no".into()))
    });
    assert!(err.is_err());
    assert_eq!(out.len(), 8);
}

/// Every recorded frame, written for a vectored write, is the recorded
/// frame byte for byte, with the payload borrowed from the decoded frame
/// rather than copied.
#[test]
fn vectored_frames_are_the_recorded_frames_with_payloads_borrowed() {
    let wire = corpus("corpus-python-tractor.wire");
    let mut head = Vec::new();
    let mut borrowed = 0;
    for frame in FrameSplitter::default().frames(&wire) {
        let body = frame.unwrap();
        let msg = Msg::decode(body).unwrap();
        head.clear();
        let tail = shuttle::frame::write_frame_vectored(&mut head, &msg).unwrap();
        let mut expected = Vec::new();
        write_frame(&mut expected, body).unwrap();
        assert_eq!([&head[..], tail].concat(), expected);
        if !tail.is_empty() {
            assert!(
                body.as_ptr_range().contains(&tail.as_ptr()),
                "payload copied"
            );
            borrowed += 1;
        }
    }
    assert!(borrowed > 300, "{borrowed} payloads");
}
