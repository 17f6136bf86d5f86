//! Envelope decoding: never panics; whatever decodes re-encodes to bytes
//! that decode to the same message (whole or split for a vectored write),
//! and renders as JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shuttle::Msg;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = Msg::decode(data) {
        let bytes = msg.to_vec().expect("a decoded message encodes");
        let again = Msg::decode(&bytes).expect("an encoded message decodes");
        assert_eq!(again, msg);
        assert_eq!(again.to_vec().unwrap(), bytes);
        if let Msg::Yield(y) = &msg {
            let _ = y.pld.to_value();
        }
        // The JSON rendering reads payloads as dynamic values unchecked.
        let _ = msg.to_json();
        // The vectored frame is the frame.
        let mut head = Vec::new();
        let tail = shuttle::frame::write_frame_vectored(&mut head, &msg).unwrap();
        assert_eq!([&head[4..], tail].concat(), bytes);
    }
});
