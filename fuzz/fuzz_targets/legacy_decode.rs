//! The dict dialect: never panics; decoded messages re-encode stably.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shuttle::legacy::{translate, LegacyMsg};

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = LegacyMsg::decode(data) {
        let bytes = msg.to_vec();
        let again = LegacyMsg::decode(&bytes).expect("an encoded message decodes");
        assert_eq!(again, msg);
        let _ = translate(&[(shuttle::dialog::End::A, msg)]);
    }
});
