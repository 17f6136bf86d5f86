//! The actor's frame handling: arbitrary byte streams cut by the frame
//! splitter and fed to the sans-IO channel engine an actor runs per
//! connection (`shuttle::dialog::Channel`), as the accepting end, with
//! its events and answers drained after every frame and its timers run.
//! Half of the inputs start with a valid handshake, so that dialogs open.
#![no_main]
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use shuttle::dialog::{Channel, ChannelConfig, End};
use shuttle::frame::{FrameSplitter, Split};
use shuttle::{Aid, Msg};

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let mut ch = Channel::new(End::B, &Aid::new("callee", "ub"), ChannelConfig::default(), now);
    let mut stream = Vec::new();
    if data.first().is_some_and(|b| b & 1 == 1) {
        let aid = Msg::from(Aid::new("caller", "ua")).to_vec().expect("an Aid encodes");
        shuttle::frame::write_frame(&mut stream, &aid).expect("a small frame");
    }
    stream.extend_from_slice(data.get(1..).unwrap_or(&[]));
    let splitter = FrameSplitter::new(1 << 16);
    let mut rest = &stream[..];
    let mut t = now;
    loop {
        match splitter.split(rest) {
            Ok(Split::Frame { body, consumed }) => {
                ch.handle_frame(body, t);
                rest = &rest[consumed..];
            }
            Ok(Split::NeedMore { .. }) | Err(_) => break,
        }
        while ch.poll_event().is_some() {}
        while let Some(out) = ch.poll_transmit() {
            // Whatever the engine answers is a well-formed message.
            Msg::decode(&out).expect("the engine sends only messages it can decode");
        }
        t += Duration::from_millis(10);
    }
    ch.handle_timeout(t + Duration::from_secs(3600));
    while ch.poll_event().is_some() {}
    while ch.poll_transmit().is_some() {}
});
