//! The recorder's assembly, without live processes: every committed
//! capture, taken apart into the two ends' views of each connection (the
//! sender's and the receiver's copy of every frame, framed as on the
//! socket), must come back whole; and cut, corrupt or hostile tap logs give
//! a valid capture or a clear error, never a panic.

mod support;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use shuttle_conformance::capture::Capture;
use shuttle_conformance::record::assemble::{assemble, Options, Severity};
use shuttle_conformance::record::{tap, Chunk, Side, Transport};

fn captures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["python-tractor", "python-tractor-0.1.0a5"] {
        let dir = support::repo().join("fixtures/captures").join(dir);
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|e| e == "json") && p.file_name().unwrap() != "index.json"
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_le_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

/// The two ends' views of every channel of a capture.
fn sides_of(capture: &Capture) -> Vec<Side> {
    let engine = base64::engine::general_purpose::STANDARD;
    let pid = |uuid: &str| {
        capture
            .actors
            .iter()
            .find(|a| a.uuid == uuid)
            .and_then(|a| a.pid)
    };
    let addr = |ch: &shuttle_conformance::capture::Channel, end: &str| {
        ch.addrs
            .get(end)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let mut sides = Vec::new();
    for ch in &capture.channels {
        let transport = if ch.transport == "uds" {
            Transport::Uds
        } else {
            Transport::Tcp
        };
        let mut a = Side {
            source: "a".into(),
            pid: pid(&ch.a),
            transport,
            local: addr(ch, "a"),
            remote: addr(ch, "b"),
            connected: Some(true),
            sent: vec![],
            received: Some(vec![]),
            cut: None,
            group: None,
        };
        let mut b = Side {
            source: "b".into(),
            pid: pid(&ch.b),
            transport,
            local: addr(ch, "b"),
            remote: addr(ch, "a"),
            connected: Some(false),
            sent: vec![],
            received: Some(vec![]),
            cut: None,
            group: None,
        };
        for f in &ch.frames {
            let bytes = framed(&engine.decode(&f.msgpack_b64).unwrap());
            let (from, to) = if f.from == ch.a {
                (&mut a, &mut b)
            } else {
                (&mut b, &mut a)
            };
            from.sent.push(Chunk {
                t_ns: f.t_ns,
                bytes: bytes.clone(),
            });
            // The receiver reads in two pieces, later.
            let half = bytes.len() / 2;
            let received = to.received.as_mut().unwrap();
            received.push(Chunk {
                t_ns: f.t_ns + 5,
                bytes: bytes[..half].to_vec(),
            });
            received.push(Chunk {
                t_ns: f.t_ns + 9,
                bytes: bytes[half..].to_vec(),
            });
        }
        // Interleave the sides of different channels: pairing must not rely
        // on adjacency.
        sides.insert(sides.len() / 2, a);
        sides.push(b);
    }
    sides
}

fn frames_of(c: &Capture) -> Vec<Vec<(String, u64, String, bool)>> {
    c.channels
        .iter()
        .map(|ch| {
            ch.frames
                .iter()
                .map(|f| (f.from.clone(), f.t_ns, f.msgpack_b64.clone(), f.recv_copy))
                .collect()
        })
        .collect()
}

#[test]
fn every_committed_capture_is_rebuilt_from_both_ends_views() {
    let all = captures();
    assert!(all.len() >= 37, "{} captures", all.len());
    for path in all {
        let want = Capture::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let got = assemble(&sides_of(&want), &Options::default());
        let shown = path.display();
        assert!(
            got.notes.iter().all(|n| n.severity == Severity::Info),
            "{shown}: {:?}",
            got.notes
        );
        assert_eq!(got.one_sided, 0, "{shown}");
        assert_eq!(frames_of(&got.capture), frames_of(&want), "{shown}");
        for (g, w) in got.capture.channels.iter().zip(&want.channels) {
            assert_eq!(
                (&g.a, &g.b, &g.transport),
                (&w.a, &w.b, &w.transport),
                "{shown}"
            );
            assert_eq!(g.addrs, w.addrs, "{shown}");
        }
        let actors = |c: &Capture| {
            let mut v: Vec<_> = c
                .actors
                .iter()
                .map(|a| (a.name.clone(), a.uuid.clone(), a.pid, a.probe))
                .collect();
            v.sort();
            v
        };
        assert_eq!(actors(&got.capture), actors(&want), "{shown}");
    }
}

#[test]
fn one_recorded_end_gives_the_other_ends_frames_from_its_copy() {
    let path =
        support::repo().join("fixtures/captures/python-tractor/ctx_stream_caller_stops.json");
    let want = Capture::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    // Only the accepting end (root) was recorded: the other end is, say, a
    // Rust actor without the tap.
    let sides: Vec<Side> = sides_of(&want)
        .into_iter()
        .filter(|s| s.source == "b")
        .collect();
    let got = assemble(&sides, &Options::default());
    assert_eq!(got.one_sided, want.channels.len());
    for (g, w) in got.capture.channels.iter().zip(&want.channels) {
        assert_eq!(g.frames.len(), w.frames.len());
        for (gf, wf) in g.frames.iter().zip(&w.frames) {
            assert_eq!((&gf.from, &gf.msgpack_b64), (&wf.from, &wf.msgpack_b64));
            assert_eq!(
                gf.recv_copy,
                wf.from == w.a,
                "frames of the unrecorded end are copies"
            );
        }
    }
    assert!(
        got.notes
            .iter()
            .any(|n| n.text.contains("only root's end was recorded")),
        "{:?}",
        got.notes
    );
}

#[test]
fn differing_copies_and_cut_frames_are_reported() {
    let path = support::repo().join("fixtures/captures/python-tractor/portal_run_return.json");
    let want = Capture::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut sides = sides_of(&want);
    // The receiver of ch0's second frame read a flipped byte...
    let a = sides
        .iter()
        .position(|s| s.source == "a" && s.local == want.channels[0].addrs["a"])
        .unwrap();
    let received = sides[a].received.as_mut().unwrap();
    let last = received.len() - 1;
    received[last].bytes[0] ^= 0xff;
    // ... and the sender of ch1 was killed half way through its last frame.
    let b1 = sides
        .iter()
        .position(|s| s.source == "b" && s.remote == want.channels[1].addrs["a"])
        .unwrap();
    let _ = b1;
    let a1 = sides
        .iter()
        .position(|s| s.source == "a" && s.local == want.channels[1].addrs["a"])
        .unwrap();
    let chunk = sides[a1].sent.last_mut().unwrap();
    chunk.bytes.truncate(chunk.bytes.len() - 3);
    let b1 = sides
        .iter()
        .position(|s| s.source == "b" && s.remote == want.channels[1].addrs["a"])
        .unwrap();
    let received = sides[b1].received.as_mut().unwrap();
    let last = received.len() - 1;
    let n = received[last].bytes.len();
    received[last].bytes.truncate(n - 3);
    let got = assemble(&sides, &Options::default());
    let text: Vec<String> = got.notes.iter().map(|n| n.to_string()).collect();
    assert!(got.has_problems(), "{text:?}");
    assert!(
        text.iter()
            .any(|t| t.starts_with("problem: ch0: root -> adder: the receiver read other bytes")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("warning: ch1: adder -> root ends inside a frame")),
        "{text:?}"
    );
    assert_eq!(
        got.capture.channels[1].frames.len(),
        want.channels[1].frames.len() - 1
    );
    // Everything the sender sent is kept.
    assert_eq!(
        got.capture.channels[0].frames.len(),
        want.channels[0].frames.len()
    );
}

#[test]
fn a_frame_over_the_limit_ends_its_direction() {
    let path = support::repo().join("fixtures/captures/python-tractor/payload_bytes_1mib.json");
    let want = Capture::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    let got = assemble(
        &sides_of(&want),
        &Options {
            max_frame: 1 << 20,
            ..Options::default()
        },
    );
    let text: Vec<String> = got.notes.iter().map(|n| n.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("over the limit of 1048576 bytes (--max-frame)")),
        "{text:?}"
    );
    let kept: usize = got.capture.channels.iter().map(|c| c.frames.len()).sum();
    let all: usize = want.channels.iter().map(|c| c.frames.len()).sum();
    assert!(kept < all);
}

#[test]
fn only_actor_and_the_time_window_filter() {
    let path = support::repo().join("fixtures/captures/python-tractor/grandchild_error_relay.json");
    let want = Capture::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    let only = assemble(
        &sides_of(&want),
        &Options {
            only_actor: Some("leaf".into()),
            ..Options::default()
        },
    );
    assert!(!only.capture.channels.is_empty());
    for ch in &only.capture.channels {
        let names = [
            only.capture.actor_name(&ch.a),
            only.capture.actor_name(&ch.b),
        ];
        assert!(names.contains(&Some("leaf")), "{names:?}");
    }
    assert!(only.capture.channels.len() < want.channels.len());
    let window = assemble(
        &sides_of(&want),
        &Options {
            window_ms: Some((0.0, 1.0)),
            ..Options::default()
        },
    );
    let t0 = want
        .channels
        .iter()
        .filter_map(|c| c.frames.first())
        .map(|f| f.t_ns)
        .min()
        .unwrap();
    let expected = want
        .channels
        .iter()
        .flat_map(|c| &c.frames)
        .filter(|f| f.t_ns < t0 + 1_000_000)
        .count();
    let kept: usize = window.capture.channels.iter().map(|c| c.frames.len()).sum();
    assert_eq!(kept, expected);
    assert!(kept >= 1);
}

fn record(kind: u8, conn: u32, t: u64, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![kind];
    v.extend_from_slice(&conn.to_le_bytes());
    v.extend_from_slice(&t.to_le_bytes());
    v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    v.extend_from_slice(payload);
    v
}

fn write_log(dir: &Path, name: &str, records: &[Vec<u8>]) -> PathBuf {
    let path = dir.join(name);
    let mut bytes = tap::MAGIC.to_vec();
    for r in records {
        bytes.extend_from_slice(r);
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_log_cut_inside_a_record_keeps_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    let frame = framed(&[0x80]);
    let records = [
        record(b'P', 0, 1, br#"{"pid": 7, "ppid": 1}"#),
        record(b'O', 1, 2, br#"{"transport": "tcp", "local": "127.0.0.1:1", "remote": "127.0.0.1:2", "connected": true}"#),
        record(b'S', 1, 3, &frame),
        record(b'S', 1, 4, &frame),
    ];
    let full = write_log(dir.path(), "7-1.tap", &records);
    let log = tap::read_log(&full, 1 << 20).unwrap();
    assert_eq!(log.sides[0].sent.len(), 2);
    assert_eq!(log.sides[0].cut, None);
    let bytes = std::fs::read(&full).unwrap();
    // The last record spans the last 22 bytes: 17 of header, 5 of frame.
    for cut in [bytes.len() - 1, bytes.len() - 5, bytes.len() - 20] {
        std::fs::write(&full, &bytes[..cut]).unwrap();
        let log = tap::read_log(&full, 1 << 20).unwrap();
        assert_eq!(log.process.as_ref().unwrap().pid, 7);
        assert_eq!(log.sides[0].sent.len(), 1, "cut at {cut}");
        let why = log.sides[0].cut.as_deref().unwrap();
        assert!(why.contains("the log ends inside a record"), "{why}");
    }
}

#[test]
fn malformed_logs_are_errors_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "not-a-log.tap",
            b"hello world, not a tap log".to_vec(),
            "byte 0: not a shuttle-tap/1 log",
        ),
        (
            "unknown.tap",
            [tap::MAGIC, &record(b'Z', 0, 0, b"")].concat(),
            "byte 14: unknown record kind 'Z'",
        ),
        (
            "no-open.tap",
            [tap::MAGIC, &record(b'S', 9, 0, b"ab")].concat(),
            "connection 9, never opened",
        ),
        (
            "bad-json.tap",
            [tap::MAGIC, &record(b'O', 1, 0, b"{")].concat(),
            "connection record",
        ),
        (
            "huge.tap",
            {
                let mut r = record(b'S', 1, 0, b"");
                r[13..17].copy_from_slice(&u32::MAX.to_le_bytes());
                [
                    tap::MAGIC,
                    &record(
                        b'O',
                        1,
                        0,
                        br#"{"transport": "tcp", "local": "", "remote": "", "connected": null}"#,
                    ),
                    &r,
                ]
                .concat()
            },
            "passes the limit of 1048576 bytes",
        ),
    ];
    for (name, bytes, want) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = tap::read_log(&path, 1 << 20).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Whatever a log holds, reading and assembling it ends without a panic.
    #[test]
    fn arbitrary_logs_never_panic(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512), opens in 0usize..3) {
        let dir = tempfile::tempdir().unwrap();
        let mut records = Vec::new();
        for i in 0..opens {
            records.push(record(b'O', i as u32 + 1, 0, br#"{"transport": "uds", "local": "", "remote": "", "connected": null}"#));
        }
        let path = write_log(dir.path(), "1-1.tap", &records);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&tail);
        std::fs::write(&path, bytes).unwrap();
        if let Ok(log) = tap::read_log(&path, 1 << 16) {
            let _ = assemble(&log.sides, &Options::default());
        }
    }

    /// Arbitrary sent and received bytes on a connection never panic the
    /// assembly.
    #[test]
    fn arbitrary_streams_never_panic(a in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), split in 0usize..300) {
        let side = |local: &str, remote: &str, sent: &[u8], received: &[u8]| Side {
            source: "x".into(),
            pid: None,
            transport: Transport::Tcp,
            local: local.into(),
            remote: remote.into(),
            connected: None,
            sent: vec![Chunk { t_ns: 1, bytes: sent.to_vec() }],
            received: Some(vec![Chunk { t_ns: 2, bytes: received[..split.min(received.len())].to_vec() }]),
            cut: None,
            group: None,
        };
        let sides = [side("x:1", "y:2", &a, &b), side("y:2", "x:1", &b, &a)];
        let _ = assemble(&sides, &Options::default());
    }
}

/// The two races of tractor (spec/quirks.md) are in real recordings of
/// its test suite, and `shuttle check --strict` names them where they are
/// (plain `check` accepts them).
#[test]
fn the_recorded_races_are_named_quirks() {
    let dir = support::repo().join("fixtures/captures/tractor-suite");
    for (file, want) in [
        (
            "tests_test_advanced_streaming_py__test_local_task_fanout_from_stream.json",
            "ch0 frame 363 cid=8069efd5-f071-4b3c-ab93-4c0e0ec7f256: quirk yield-after-stop",
        ),
        (
            "tests_test_inter_peer_cancellation_py__test_peer_spawns_and_cancels_service_subactor_None-None_.json",
            "ch5 frame 8 cid=af56a7db-5bed-4629-97c1-cd4fabe25d98: quirk duplicate-stop",
        ),
    ] {
        let path = dir.join(file);
        let path = path.to_str().unwrap();
        let (code, out) = support::shuttle(&["check", "--strict", path]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains(want), "{out}");
        let (code, out) = support::shuttle(&["check", path]);
        assert_eq!(code, 0, "{out}");
    }
}

#[test]
fn pld_specs_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let out = dir.path().join("out.json");
    let cases = [
        ("number.json", "42", "neither an array nor a capture"),
        (
            "no-field.json",
            r#"{"format": "x"}"#,
            "an object without a \"pld_specs\" array",
        ),
        (
            "bad-entry.json",
            r#"[{"ns": "__main__", "spec": "int"}]"#,
            "entry 0 has no string \"func\"",
        ),
        ("not-json.json", "{", "not JSON"),
    ];
    for (name, text, want) in cases {
        let specs = dir.path().join(name);
        std::fs::write(&specs, text).unwrap();
        let (code, said) = support::shuttle(&[
            "record",
            "--from-logs",
            logs.to_str().unwrap(),
            "--pld-specs",
            specs.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{said}");
        assert!(said.contains(want) && said.contains(name), "{said}");
    }
    // A capture's own field is taken as it is.
    let fixture = support::repo().join("fixtures/captures/python-tractor/typed_pld_valid.json");
    let (code, said) = support::shuttle(&[
        "record",
        "--from-logs",
        logs.to_str().unwrap(),
        "--pld-specs",
        fixture.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{said}");
    let cap = Capture::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(cap.pld_specs[0]["func"], "point_doubler");
}
