//! Envelope decoding: never panics; whatever decodes re-encodes to bytes
//! that decode to the same message (whole or split for a vectored write),
//! and renders as JSON; a payload's dynamic value, serde decode and
//! Python repr never panic.
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
            // The dynamic value and the serde decode agree on what is
            // accepted within the depth limit, and on the value itself.
            let value = y.pld.to_value();
            let serde = y.pld.decode::<rmpv::Value>();
            if let (Ok(v), Ok(s)) = (&value, serde) {
                // (Compared as bytes: NaN is not equal to itself.)
                let (mut a, mut b) = (Vec::new(), Vec::new());
                shuttle::msgpack::write::value(&mut a, v);
                shuttle::msgpack::write::value(&mut b, &s);
                assert_eq!(a, b, "{v:?}");
                drop(shuttle::Value::from(s));
            }
            if let Ok(v) = value {
                let _ = format!("{v:?}");
            }
            let _ = shuttle::python::payload_repr(&y.pld);
        }
        // The JSON rendering reads payloads as dynamic values unchecked.
        let _ = msg.to_json();
        // The vectored frame is the frame.
        let mut head = Vec::new();
        let tail = shuttle::frame::write_frame_vectored(&mut head, &msg).unwrap();
        assert_eq!([&head[4..], tail].concat(), bytes);
    }
});
