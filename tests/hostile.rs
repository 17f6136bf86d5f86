//! Hostile input: every answer is a clear error, never a panic, never a
//! stack overflow, never an allocation beyond the input's size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use shuttle::{Msg, Raw};

use crate::support::current_frames;

/// Counts the bytes allocated by the current thread.
struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + layout.size()));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated by `f` on this thread.
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATED.with(|a| a.get());
    let out = f();
    (out, ALLOCATED.with(|a| a.get()) - before)
}

#[test]
fn every_truncation_of_real_frames_is_an_error() {
    let mut checked = 0;
    for (label, f) in current_frames() {
        let body = &f.body;
        // Every prefix of ordinary frames; a sample of prefixes of the big ones.
        let cuts: Vec<usize> = if body.len() <= 4096 {
            (0..body.len()).collect()
        } else {
            (0..64)
                .chain((64..body.len()).step_by(body.len() / 64))
                .collect()
        };
        for cut in cuts {
            let err = Msg::decode(&body[..cut]).expect_err(&label);
            assert!(!err.to_string().is_empty());
            checked += 1;
        }
    }
    assert!(checked > 50_000, "{checked}");
}

#[test]
fn decoding_allocates_nothing_that_grows_with_the_input() {
    let mut biggest_frame = 0;
    for (label, f) in current_frames() {
        let (msg, bytes) = allocated_by(|| Msg::decode(&f.body).unwrap());
        // Envelopes borrow their strings and payloads from the frame; only
        // the uid/address vectors and the walk of `Any` fields allocate, a
        // few hundred bytes whatever the frame's size (up to 1 MiB here).
        assert!(
            bytes <= 1024,
            "{label}: {bytes} bytes allocated for a {}-byte frame",
            f.body.len()
        );
        if matches!(msg, Msg::Yield(_)) && f.body.len() > 1 << 20 {
            assert_eq!(bytes, 0, "{label}: a raw payload of any size is borrowed");
        }
        biggest_frame = biggest_frame.max(f.body.len());
        drop(msg);
    }
    assert!(biggest_frame > 1 << 20);
}

fn nested_arrays(depth: usize) -> Vec<u8> {
    let mut v = vec![0x91; depth];
    v.push(0xc0);
    v
}

#[test]
fn deeply_nested_payloads_neither_overflow_nor_allocate() {
    let pld = nested_arrays(100_000);
    let mut body = b"\x83\xa8msg_type\xa5Yield\xa3cid\xa2c1\xa3pld".to_vec();
    body.extend_from_slice(&pld);
    // The raw payload is skipped without recursion: accepted, borrowed.
    let (msg, bytes) = allocated_by(|| Msg::decode(&body).unwrap());
    assert!(bytes < 1024, "{bytes}");
    let Msg::Yield(y) = msg else { panic!() };
    assert_eq!(y.pld.as_bytes().len(), 100_001);
    // Decoding it as a value hits the depth limit with a clear error.
    let err = y.pld.to_value().unwrap_err();
    assert_eq!(
        err.msgspec_text(),
        "maximum recursion depth exceeded while deserializing an object"
    );
    // Inside a field typed `Any` (Start.kwargs) the limit applies at once.
    let mut start = b"\x86\xa8msg_type\xa5Start\xa3cid\xa2c1\xa2ns\xa1m\xa4func\xa1f\xa3uid\x92\xa1a\xa1u\xa6kwargs\x81\xa1x".to_vec();
    start.extend_from_slice(&pld);
    let err = Msg::decode(&start).unwrap_err();
    assert_eq!(err.python_type(), "RecursionError");
    // And a truncated deep payload is truncated, not a crash.
    let mut cut = body.clone();
    cut.pop();
    assert_eq!(
        Msg::decode(&cut).unwrap_err().msgspec_text(),
        "Input data was truncated"
    );
}

#[test]
fn huge_collection_lengths_are_checked_against_the_input() {
    // array32 / map32 / str32 / bin32 announcing 4 GiB inside a payload.
    for header in [
        &b"\xdd\xff\xff\xff\xff"[..],
        b"\xdf\xff\xff\xff\xff",
        b"\xdb\xff\xff\xff\xff",
        b"\xc6\xff\xff\xff\xff",
        b"\xc9\xff\xff\xff\xff\x01",
    ] {
        let mut body = b"\x83\xa8msg_type\xa5Yield\xa3cid\xa2c1\xa3pld".to_vec();
        body.extend_from_slice(header);
        let (err, bytes) = allocated_by(|| Msg::decode(&body).unwrap_err());
        assert_eq!(err.msgspec_text(), "Input data was truncated");
        assert!(bytes < 1024);
        assert!(Raw::from_slice(header).is_err());
    }
}

#[test]
fn non_map_bodies_and_unknown_tags_are_errors() {
    for (body, text) in [
        (&b""[..], "Input data was truncated"),
        (
            b"\xc1",
            "MessagePack data is malformed: invalid opcode '\\xc1' (byte 0)",
        ),
        (b"\x92\xa4root\xa2u1", "Expected `object`, got `array`"),
        (b"\xa4Stop", "Expected `object`, got `str`"),
        (
            b"\x81\xa8msg_type\xa9PldMsgXYZ",
            "Invalid value 'PldMsgXYZ' - at `$.msg_type`",
        ),
        (
            b"\x81\xa8msg_type\x05",
            "Expected `str`, got `int` - at `$.msg_type`",
        ),
        (
            b"\x81\xa8msg_type\xaaPayloadMsg",
            "Invalid value 'PayloadMsg' - at `$.msg_type`",
        ),
        // An empty map followed by what looks like a tag is trailing data.
        (
            b"\x80\xa8msg_type\xa4Stop",
            "Object missing required field `msg_type`",
        ),
        // More entries announced than the input can hold.
        (b"\x8f\xa8msg_type\xa4Stop", "Input data was truncated"),
        (b"\x82\xa8msg_type\xa4Stop", "Input data was truncated"),
    ] {
        assert_eq!(Msg::decode(body).unwrap_err().msgspec_text(), text);
    }
}

/// For one frame of each message type, every field replaced by a value of
/// the wrong type is rejected with that field in the error path.
#[test]
fn every_field_with_a_wrong_type_is_named_in_the_error() {
    use rmpv::Value;
    let frames = current_frames();
    let mut done = std::collections::BTreeSet::new();
    let mut checked = 0;
    for (label, f) in &frames {
        let msg = Msg::decode(&f.body).unwrap();
        if !done.insert(msg.msg_type()) {
            continue;
        }
        let value = rmpv::decode::read_value(&mut &f.body[..]).unwrap();
        let Value::Map(entries) = value else { panic!() };
        for i in 1..entries.len() {
            let key = entries[i].0.as_str().unwrap().to_string();
            if key == "pld" && msg.msg_type().is_payload() {
                continue; // a raw payload may be anything
            }
            // A float is wrong for every envelope field; so is a bin.
            for wrong in [Value::F64(1.5), Value::Binary(vec![1])] {
                let mut mutated = entries.clone();
                mutated[i].1 = wrong.clone();
                let body = crate::support::value_bytes(&Value::Map(mutated));
                let err = Msg::decode(&body).expect_err(&format!("{label} {key} {wrong}"));
                assert_eq!(err.msg_type(), Some(msg.msg_type().as_str()));
                assert_eq!(
                    err.path_string().as_deref(),
                    Some(format!("$.{key}").as_str()),
                    "{label}: {err}"
                );
                assert!(err.to_string().contains("Expected `"), "{err}");
                checked += 1;
            }
        }
    }
    assert_eq!(done.len(), 10);
    assert!(checked >= 40, "{checked}");
}

#[test]
fn the_depth_limit_is_exact_and_the_deepest_value_decodes() {
    let limit = shuttle::DEFAULT_MAX_DEPTH;
    let deepest = nested_arrays(limit);
    let ok = Raw::from_slice(&deepest).unwrap();
    let v = ok.to_value().unwrap();
    assert!(v.is_array());
    let deeper = nested_arrays(limit + 1);
    let too_deep = Raw::from_slice(&deeper).unwrap();
    let err = too_deep.to_value().unwrap_err();
    assert_eq!(err.python_type(), "RecursionError");
    // The same limit in an `Any` field of the envelope.
    let mut start = b"\x86\xa8msg_type\xa5Start\xa3cid\xa2c1\xa2ns\xa1m\xa4func\xa1f\xa3uid\x92\xa1a\xa1u\xa6kwargs\x81\xa1x".to_vec();
    let base = start.len();
    start.extend_from_slice(&nested_arrays(limit));
    assert!(Msg::decode(&start).is_ok());
    start.truncate(base);
    start.extend_from_slice(&nested_arrays(limit + 1));
    assert_eq!(
        Msg::decode(&start).unwrap_err().python_type(),
        "RecursionError"
    );
}

/// Runs `f` on a thread with a 64 KiB stack: a recursion per level of
/// nesting would overflow it (an abort, not a panic).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(64 << 10)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn decoding_rendering_and_printing_payloads_of_any_accepted_depth_fit_a_small_stack() {
    use shuttle::json::{json_to_msgpack, RENDER_MAX_DEPTH};
    use shuttle::DEFAULT_MAX_DEPTH;
    for depth in [
        RENDER_MAX_DEPTH - 1,
        RENDER_MAX_DEPTH,
        RENDER_MAX_DEPTH + 1,
        128,
        129,
        DEFAULT_MAX_DEPTH,
        DEFAULT_MAX_DEPTH + 10,
    ] {
        let pld = nested_arrays(depth);
        on_small_stack(move || {
            let raw = Raw::from_slice(&pld).unwrap();
            let msg = Msg::from(shuttle::Yield::new("c1", raw));
            let mut deep_json = None;
            let frame = msg.to_vec().unwrap();
            // JSON rendering, both ways, byte for byte.
            let json = msg.to_json();
            assert_eq!(
                Msg::msgpack_from_json(&json).unwrap(),
                frame,
                "depth {depth}"
            );
            let deep = json["pld"].get("$msgpack").is_some();
            assert_eq!(deep, depth > RENDER_MAX_DEPTH, "depth {depth}");
            let text = json.to_string();
            drop(json);
            // Debug of the message and of its payload.
            let debug = format!("{msg:?}");
            assert!(debug.contains("Yield"), "depth {depth}");
            let shuttle::Msg::Yield(y) = &msg else {
                unreachable!()
            };
            // The dynamic value: built, compared, printed and dropped.
            match y.pld.to_value() {
                Ok(v) => {
                    assert!(depth <= DEFAULT_MAX_DEPTH, "depth {depth}");
                    let w = y.pld.to_value().unwrap();
                    assert_eq!(v, w, "depth {depth}");
                    let debug = format!("{v:?}");
                    let shown = if depth > RENDER_MAX_DEPTH {
                        "Value({\"$msgpack\":"
                    } else {
                        "Value([["
                    };
                    assert!(debug.starts_with(shown), "depth {depth}: {debug}");
                }
                Err(e) => {
                    assert!(depth > DEFAULT_MAX_DEPTH, "depth {depth}: {e}");
                    assert_eq!(e.python_type(), "RecursionError");
                }
            }
            // Python's repr, in a MsgTypeError's text, for a payload that
            // breaks the spec `int`.
            let spec = shuttle::pld_spec::PldSpec::parse("int", &Default::default()).unwrap();
            let bad = shuttle::BadMsg::Yield(y.clone());
            let uid = shuttle::Uid::new("a", "u");
            let mte = shuttle::pld_spec::MsgTypeError::new(bad, &spec, uid.clone(), uid);
            let said = mte.message();
            if depth <= DEFAULT_MAX_DEPTH {
                let inner = "[".repeat(depth) + "None" + &"]".repeat(depth);
                assert!(said.contains(&inner), "depth {depth}");
                assert!(said.contains("has type <class 'list'>"), "depth {depth}");
            }
            // Serde follows the same levels and refuses the rest.
            let serde = y.pld.decode::<rmpv::Value>();
            let serde_json = y.pld.decode::<serde_json::Value>();
            if depth <= DEFAULT_MAX_DEPTH {
                let v = serde.unwrap_or_else(|e| panic!("depth {depth}: {e}"));
                // rmpv's drop recurses: shuttle::Value takes it apart with a loop.
                drop(shuttle::Value::from(v));
                // serde_json's drop recurses too: it is dropped on the caller's stack.
                deep_json = Some(serde_json.unwrap());
            } else {
                let e = serde.unwrap_err();
                assert_eq!(e.python_type(), "RecursionError", "depth {depth}: {e}");
                assert_eq!(serde_json.unwrap_err().python_type(), "RecursionError");
            }
            drop(msg);
            (text.len(), deep_json)
        });
    }
    // JSON nested deeper than the rendering writes is refused, not
    // followed down (built and dropped on this thread's larger stack).
    let mut v = serde_json::Value::Null;
    for _ in 0..1_000 {
        v = serde_json::Value::Array(vec![v]);
    }
    let v = std::sync::Arc::new(v);
    let w = v.clone();
    let err = on_small_stack(move || {
        let mut out = Vec::new();
        json_to_msgpack(&w, &mut out).unwrap_err().to_string()
    });
    assert!(err.contains("nested deeper than 32 levels"), "{err}");
}

#[test]
fn the_header_walker_covers_every_recorded_frame_and_stops_at_any_cut() {
    for (_, f) in current_frames() {
        let frame = &f.body;
        let mut walk = shuttle::msgpack::headers(frame);
        let n = walk.by_ref().count();
        assert!(n >= 2, "a frame is a map with entries");
        assert!(walk.complete());
        assert_eq!(walk.position(), frame.len());
        // Every cut: no panic, never complete, positions inside the input.
        for cut in (0..frame.len()).step_by(frame.len() / 16 + 1) {
            let mut walk = shuttle::msgpack::headers(&frame[..cut]);
            for h in walk.by_ref() {
                assert!(h.offset < cut);
            }
            assert!(!walk.complete(), "cut at {cut} of {}", frame.len());
        }
    }
    // Hostile lengths and the reserved byte.
    for bytes in [
        &[0xdd, 0xff, 0xff, 0xff, 0xff][..],
        &[0xdb, 0xff, 0xff, 0xff, 0xff],
        &[0x91, 0xc1],
    ] {
        let mut walk = shuttle::msgpack::headers(bytes);
        assert!(walk.by_ref().count() <= 1);
        assert!(!walk.complete());
    }
}
