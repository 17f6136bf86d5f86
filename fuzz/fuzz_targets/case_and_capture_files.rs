//! Case files and capture files as text: parsed or refused, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(file) = shuttle_conformance::case::parse(text) {
            let _ = shuttle_conformance::case::to_text(&file);
        }
        if let Ok(cap) = shuttle_conformance::capture::Capture::from_json(text) {
            for i in 0..cap.channels.len() {
                let _ = cap.channel_frames(i);
            }
        }
    }
});
