//! What a testee writes back: frames of msgpack the harness must read
//! without panicking or allocating beyond its limit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shuttle_conformance::protocol::{read_frame, Hello, Response};

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    while let Ok(Some(body)) = read_frame(&mut input, 1 << 16) {
        let _ = rmp_serde::from_slice::<Response>(&body);
        let _ = rmp_serde::from_slice::<Hello>(&body);
    }
});
