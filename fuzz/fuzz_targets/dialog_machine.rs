//! The dialog machine over arbitrary channels: the input is cut into frames
//! (first byte of each chunk: sender and length); never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shuttle::dialog::{check_channel, End};

fuzz_target!(|data: &[u8]| {
    let mut frames: Vec<(End, &[u8])> = Vec::new();
    let mut rest = data;
    while let Some((&head, tail)) = rest.split_first() {
        let len = (head & 0x7f) as usize;
        let len = len.min(tail.len());
        let from = if head & 0x80 == 0 { End::A } else { End::B };
        frames.push((from, &tail[..len]));
        rest = &tail[len..];
    }
    let strict = data.first().is_some_and(|b| b & 1 == 1);
    let report = check_channel(&frames, strict);
    for v in &report.violations {
        assert!(v.frame.is_none_or(|f| f < frames.len()));
        assert!(!v.to_string().is_empty());
    }
});
