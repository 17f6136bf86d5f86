//! The frame splitter over arbitrary byte streams, whole and fed in pieces.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shuttle::frame::{FrameSplitter, Split};

fuzz_target!(|data: &[u8]| {
    let splitter = FrameSplitter::new(1 << 16);
    let whole: Vec<_> = splitter.frames(data).collect();
    // Incrementally, one byte at a time, the same frames come out.
    let mut buf = Vec::new();
    let mut got = Vec::new();
    for b in data {
        buf.push(*b);
        loop {
            match splitter.split(&buf) {
                Ok(Split::Frame { body, consumed }) => {
                    got.push(body.to_vec());
                    buf.drain(..consumed);
                }
                Ok(Split::NeedMore { .. }) | Err(_) => break,
            }
        }
    }
    let ok: Vec<Vec<u8>> = whole.iter().filter_map(|f| f.as_ref().ok().map(|b| b.to_vec())).collect();
    assert_eq!(ok, got);
});
