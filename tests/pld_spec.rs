//! Payload-spec limiter: pld-vectors, typed captures, properties, MsgTypeError.

use shuttle_conformance::vectors::{run, VectorFile};

use crate::support::fixtures;

fn vector_file(name: &str) -> VectorFile {
    let text = std::fs::read_to_string(fixtures().join("vectors").join(name)).unwrap();
    VectorFile::from_json(&text).unwrap()
}

fn assert_all_agree(name: &str) {
    assert_file_agrees(name, vector_file(name));
}

fn assert_file_agrees(name: &str, file: VectorFile) {
    let report = run(&file);
    let bad: Vec<String> = report
        .disagreements()
        .map(|o| {
            format!(
                "  {}\n    msgspec: {}\n    ours:    {}",
                o.id, o.expected, o.got
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{name}: {} of {} disagree:\n{}",
        bad.len(),
        report.total(),
        bad.join("\n")
    );
    // Even the texts of Python's own errors (RecursionError, ValueError,
    // UnicodeDecodeError), which the format only asks to reject, match.
    let inexact: Vec<&str> = report
        .cases
        .iter()
        .chain(&report.invalid_specs)
        .filter(|o| !o.exact)
        .map(|o| o.id.as_str())
        .collect();
    assert!(inexact.is_empty(), "{name}: inexact texts: {inexact:?}");
    assert!(
        report.total() > 100,
        "{name}: only {} entries",
        report.total()
    );
}

#[test]
fn shared_vectors_all_agree() {
    assert_all_agree("pld-vectors.json");
}

#[test]
fn extra_vectors_all_agree() {
    assert_all_agree("extra-pld-vectors.json");
}

/// Any vector file, e.g. a differential fuzzing round
/// (`python3 conformance/tools/fuzz_pld_vectors.py SEED COUNT OUT.json`):
/// `SHUTTLE_PLD_VECTORS=OUT.json cargo test --test shuttle -- --ignored
/// vectors_from_env`.
#[test]
#[ignore = "needs SHUTTLE_PLD_VECTORS, a vector file to check"]
fn vectors_from_env() {
    let path =
        std::env::var("SHUTTLE_PLD_VECTORS").expect("SHUTTLE_PLD_VECTORS names a vector file");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_file_agrees(&path, VectorFile::from_json(&text).unwrap());
}

/// The committed extra vectors are exactly what msgspec decides today
/// (`conformance/tools/gen_pld_vectors.py --check`). Skipped when python3
/// with msgspec is not installed, except under CI where that is an error.
#[test]
fn extra_vectors_are_msgspec_verdicts() {
    use std::process::Command;
    let root = env!("CARGO_MANIFEST_DIR");
    let has_msgspec = Command::new("python3")
        .args(["-c", "import msgspec"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_msgspec {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but `python3 -c 'import msgspec'` fails: install conformance/requirements.txt"
        );
        eprintln!("skipping: python3 with msgspec is not available");
        return;
    }
    let out = Command::new("python3")
        .args(["conformance/tools/gen_pld_vectors.py", "--check"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "extra vectors are stale:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

mod captures {
    use shuttle::pld_spec::{MsgTypeError, MsgTypeErrorView, PldSpec};
    use shuttle::{Msg, Uid};
    use shuttle_conformance::capture::capture_verdicts;

    use crate::support::captures;

    /// Every capture with `pld_specs`: our verdicts are exactly its
    /// `pld_verdicts` (same frames, same verdicts, same error texts).
    #[test]
    fn typed_capture_verdicts_agree() {
        let mut checked = 0;
        for (name, cap) in captures("python-tractor") {
            if cap.pld_specs.is_empty() {
                continue;
            }
            let ours: Vec<serde_json::Value> = capture_verdicts(&cap)
                .unwrap()
                .iter()
                .map(|v| v.to_json())
                .collect();
            let theirs = cap.pld_verdicts.clone().unwrap_or(serde_json::json!([]));
            assert_eq!(serde_json::Value::Array(ours), theirs, "{name}");
            let checks = shuttle_conformance::capture::check_capture(&cap).unwrap();
            assert!(checks.iter().all(|c| c.agrees()), "{name}: {checks:?}");
            checked += 1;
        }
        assert!(checked >= 4, "only {checked} typed captures");
    }

    /// The real send-side MsgTypeError `Error` frame: rebuilding it from its
    /// `_bad_msg`, the endpoint's spec and its uids gives the same message,
    /// byte for byte once `tb_str` is copied over.
    #[test]
    fn real_msg_type_error_frames_rebuild() {
        let mut seen = 0;
        for (name, cap) in captures("python-tractor") {
            if cap.pld_specs.is_empty() {
                continue;
            }
            let entry = &cap.pld_specs[0];
            let spec = PldSpec::parse(entry["spec"].as_str().unwrap(), &entry["structs"]).unwrap();
            for ch in 0..cap.channels.len() {
                for f in cap.channel_frames(ch).unwrap() {
                    let Ok(Msg::Error(err)) = Msg::decode(&f.body) else {
                        continue;
                    };
                    let Some(view) = MsgTypeErrorView::from_error(&err) else {
                        continue;
                    };
                    seen += 1;
                    let bad = view.bad_msg().expect("_bad_msg shipped").clone();
                    assert_eq!(view.expected_msg_type(), Some(shuttle::MsgType::Started));
                    assert_eq!(view.spec_str(), Some("PldMsg|NoneType"), "{name}");
                    assert!(!view.is_reshipped());
                    assert!(
                        view.revalidate(&spec).unwrap().is_err(),
                        "{name}: payload passes?"
                    );
                    let packer = view.relay_path()[0].clone();
                    let mut mte = MsgTypeError::new(bad, &spec, view.src_uid().clone(), packer);
                    mte.tb_str = err.tb_str.to_string();
                    let rebuilt = mte.to_error();
                    assert_eq!(rebuilt, *err, "{name}");
                    let mut wire = Vec::new();
                    rebuilt.encode(&mut wire);
                    assert_eq!(wire, f.body, "{name}: re-encoding differs");
                }
            }
        }
        assert!(seen >= 1, "no MsgTypeError frame in the typed captures");
    }

    /// Build a receive-side MTE for a bad `Yield`, send it, read it back.
    #[test]
    fn msg_type_error_round_trip() {
        let spec = PldSpec::parse(
            "Point | None",
            &serde_json::json!({"Point": {"fields": [["x", "int"], ["y", "int"]]}}),
        )
        .unwrap();
        let pld =
            shuttle::Raw::encode(&serde_json::json!({"x": 1.5, "y": "a", "z": [1, b'x']})).unwrap();
        let err = spec.validate(pld.as_bytes()).unwrap_err();
        assert_eq!(err.msgspec_text(), "Expected `int`, got `float` - at `$.x`");
        let bad = shuttle::BadMsg::Yield(shuttle::Yield::new("cid-1", pld.clone()));
        let mte = MsgTypeError::new(bad, &spec, Uid::new("peer", "u1"), Uid::new("me", "u2"));
        assert_eq!(
            mte.message(),
            "invalid `Yield` msg payload\n\n{'x': 1.5, 'y': 'a', 'z': [1, 120]}\n\nhas type <class 'dict'>\n\nand does not match type-spec `Yield.pld: Point|NoneType`"
        );
        let mut wire = Vec::new();
        mte.to_error().encode(&mut wire);
        let Msg::Error(back) = Msg::decode(&wire).unwrap() else {
            panic!("not an Error")
        };
        let view = MsgTypeErrorView::from_error(&back).unwrap();
        assert_eq!(view.cid(), Some("cid-1"));
        assert_eq!(view.src_uid(), &Uid::new("peer", "u1"));
        assert_eq!(view.relay_path(), &[Uid::new("me", "u2")]);
        assert_eq!(view.expected_msg_type(), Some(shuttle::MsgType::Yield));
        assert_eq!(view.payload().unwrap().as_bytes(), pld.as_bytes());
        assert_eq!(view.spec_str(), Some("Point|NoneType"));
        assert_eq!(view.revalidate(&spec).unwrap().unwrap_err(), err);
        assert_eq!(back.src_type_str, "MsgTypeError");

        // §3.5 D: the callee re-ships it when its task died from it.
        let callee = Uid::new("callee", "u3");
        let d = mte.to_reshipped_error(callee.clone());
        assert_eq!(
            d.message.as_deref(),
            Some("remote task raised a 'MsgTypeError'\n")
        );
        assert_eq!(d.relay_path, vec![callee.clone(), callee.clone()]);
        let view = MsgTypeErrorView::from_error(&d).unwrap();
        assert!(view.is_reshipped());
        assert_eq!(view.spec_str(), None);
        assert_eq!(view.expected_msg_type(), Some(shuttle::MsgType::Yield));

        // Only payload messages are limited.
        let y = Msg::Yield(shuttle::Yield::new("c", pld.clone()));
        assert!(shuttle::pld_spec::validate_msg(&y, &spec).unwrap().is_err());
        let stop = Msg::Stop(shuttle::Stop::new("c"));
        assert!(shuttle::pld_spec::validate_msg(&stop, &spec).is_none());
    }
}

mod typed {
    use serde::Deserialize;
    use shuttle::pld_spec::{decode_typed, spec_of, PldSpec, TypedSpec};
    use shuttle::Raw;

    #[derive(Debug, Deserialize, schemars::JsonSchema, PartialEq)]
    struct Point {
        x: i64,
        y: i64,
    }

    #[derive(Debug, Deserialize, schemars::JsonSchema, PartialEq)]
    struct Polyline {
        name: String,
        points: Vec<Point>,
        note: Option<String>,
    }

    #[derive(Debug, Deserialize, schemars::JsonSchema, PartialEq)]
    #[serde(tag = "type")]
    enum Pet {
        Cat { name: String },
        Dog { name: String, good: bool },
    }

    fn raw(v: serde_json::Value) -> Raw<'static> {
        Raw::encode(&v).unwrap()
    }

    #[test]
    fn static_decode_and_msgspec_errors() {
        let p: Polyline = decode_typed(&raw(serde_json::json!(
            {"name": "l", "points": [{"x": 1, "y": 2}], "note": null}
        )))
        .unwrap();
        assert_eq!(p.points, vec![Point { x: 1, y: 2 }]);
        let e = decode_typed::<Polyline>(&raw(serde_json::json!(
            {"name": "l", "points": [{"x": 1, "y": 2}, {"x": 1, "y": "2"}]}
        )))
        .unwrap_err();
        assert_eq!(
            e.msgspec_text(),
            "Expected `int`, got `str` - at `$.points[1].y`"
        );
        let e = decode_typed::<Point>(&raw(serde_json::json!([1, 2]))).unwrap_err();
        assert_eq!(e.msgspec_text(), "Expected `object`, got `array`");
        let e = decode_typed::<Point>(&raw(serde_json::json!({"x": 1}))).unwrap_err();
        assert_eq!(e.msgspec_text(), "Object missing required field `y`");
    }

    #[test]
    fn tagged_enum_becomes_tagged_union() {
        let spec = TypedSpec::<Pet>::new().unwrap();
        let dog = spec
            .decode(&raw(
                serde_json::json!({"type": "Dog", "name": "rex", "good": true}),
            ))
            .unwrap();
        assert_eq!(
            dog,
            Pet::Dog {
                name: "rex".into(),
                good: true
            }
        );
        let e = spec
            .decode(&raw(serde_json::json!({"type": "Cow", "name": "x"})))
            .unwrap_err();
        assert_eq!(e.msgspec_text(), "Invalid value 'Cow' - at `$.type`");
    }

    #[test]
    fn derived_spec_agrees_with_handwritten() {
        let derived = spec_of::<Point>().unwrap();
        let written = PldSpec::parse(
            "Point",
            &serde_json::json!({"Point": {"fields": [["x", "int"], ["y", "int"]]}}),
        )
        .unwrap();
        for v in [
            serde_json::json!({"x": 1, "y": 2}),
            serde_json::json!({"x": 1}),
            serde_json::json!({"x": 1.0, "y": 2}),
            serde_json::json!(null),
        ] {
            let r = raw(v);
            assert_eq!(
                derived.validate(r.as_bytes()),
                written.validate(r.as_bytes())
            );
        }
    }

    #[test]
    fn json_schema_round_trips_through_from_schema() {
        let spec = PldSpec::parse(
            "list[Cat | Dog] | None",
            &serde_json::json!({
                "Cat": {"fields": [["name", "str"]], "tag": true},
                "Dog": {"fields": [["name", "str"], ["good", "bool", true]], "tag": true}
            }),
        )
        .unwrap();
        let schema = spec.json_schema();
        assert_eq!(schema["$defs"]["Cat"]["properties"]["type"]["const"], "Cat");
        let back = PldSpec::from_schema(&schema).unwrap();
        for v in [
            serde_json::json!([{"type": "Cat", "name": "a"}, {"type": "Dog", "name": "b"}]),
            serde_json::json!([{"type": "Cow", "name": "a"}]),
            serde_json::json!([{"type": "Dog", "name": 1}]),
            serde_json::json!(null),
            serde_json::json!(3),
        ] {
            let r = raw(v.clone());
            assert_eq!(
                back.validate(r.as_bytes()).map_err(|e| e.msgspec_text()),
                spec.validate(r.as_bytes()).map_err(|e| e.msgspec_text()),
                "{v}"
            );
        }
    }
}

mod api {
    use proptest::prelude::*;
    use shuttle::pld_spec::{PldSpec, Stage};

    #[test]
    fn depth_limit_is_configurable_and_reports_recursion_error() {
        let spec = PldSpec::any().with_max_depth(3);
        assert!(spec.validate(&[0x91, 0x91, 0x91, 0x01]).is_ok());
        let err = spec.validate(&[0x91, 0x91, 0x91, 0x91, 0x01]).unwrap_err();
        assert_eq!(err.python_type(), "RecursionError");
        assert_eq!(
            err.msgspec_text(),
            "maximum recursion depth exceeded while deserializing an object"
        );
        // Empty containers do not count, as in msgspec.
        assert!(spec.validate(&[0x91, 0x91, 0x91, 0x90]).is_ok());
    }

    #[test]
    fn spec_errors_name_their_stage() {
        let e = PldSpec::parse("list[", &serde_json::json!({})).unwrap_err();
        assert_eq!(e.stage(), Stage::Syntax);
        let e = PldSpec::parse("Nope", &serde_json::json!({})).unwrap_err();
        assert_eq!(e.stage(), Stage::Syntax);
        let e = PldSpec::parse(
            "Literal[123456789012345678901234567890123456789012]",
            &serde_json::json!({}),
        )
        .unwrap_err();
        assert_eq!(e.error_type(), "NotImplementedError");
        let e = PldSpec::parse("str | bytes", &serde_json::json!({})).unwrap_err();
        assert_eq!((e.stage(), e.error_type()), (Stage::Decoder, "TypeError"));
        assert!(e
            .message()
            .ends_with(" - type `str | bytes` is not supported"));
    }

    #[test]
    fn specs_are_shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PldSpec>();
        assert_send_sync::<shuttle::dialog::EndpointSpecs>();
        let spec = std::sync::Arc::new(
            PldSpec::parse("list[list[int]]", &serde_json::Value::Null).unwrap(),
        );
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let spec = spec.clone();
                std::thread::spawn(move || spec.validate(&[0x91, 0x91, i as u8]).is_ok())
            })
            .collect();
        assert!(handles.into_iter().all(|h| h.join().unwrap()));
    }

    #[test]
    fn tractor_spec_strings() {
        let s = serde_json::json!({"PldMsg": {"fields": [["field", "str"]]}});
        assert_eq!(
            PldSpec::parse("PldMsg | None", &s)
                .unwrap()
                .tractor_spec_str(),
            "PldMsg|NoneType"
        );
        assert_eq!(
            PldSpec::parse("int | str", &s).unwrap().tractor_spec_str(),
            "int|str"
        );
        assert_eq!(PldSpec::any().tractor_spec_str(), "Any");
    }

    proptest! {
        /// Arbitrary spec strings and struct tables never panic the parser.
        #[test]
        fn arbitrary_specs_never_panic(
            spec in "[a-zA-Z_\\[\\]|, .()'0-9-]{0,40}",
            field_ty in "[a-zA-Z_\\[\\]|, .()'0-9-]{0,20}",
        ) {
            let table = serde_json::json!({"S": {"fields": [["a", field_ty]], "tag": true}});
            if let Ok(s) = PldSpec::parse(&spec, &table) {
                let _ = s.validate(&[0x81, 0xa1, b'a', 0x01]);
                let _ = s.json_schema();
            }
        }
    }
}

mod repr {
    use shuttle::python::payload_repr;
    use shuttle::Raw;

    fn r(bytes: &[u8]) -> (String, &'static str) {
        payload_repr(&Raw::from_slice(bytes).unwrap())
    }

    /// Python's own `repr()` of the same values (checked with CPython 3.11).
    #[test]
    fn python_reprs() {
        assert_eq!(
            r(b"\xd6\xff\x65\x53\xf1\x00"),
            (
                "datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.timezone.utc)".into(),
                "<class 'datetime.datetime'>"
            )
        );
        assert_eq!(
            r(b"\xd7\xff\x1d\x6f\x34\x54\x65\x53\xf1\x00").0,
            "datetime.datetime(2023, 11, 14, 22, 13, 20, 123457, tzinfo=datetime.timezone.utc)"
        );
        assert_eq!(
            r(b"\xc7\x0c\xff\x00\x00\x00\x01\xff\xff\xff\xf1\x88\x6e\x09\x00").0,
            "datetime.datetime(1, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)"
        );
        let list = Raw::encode(&(1.5f64, 1e-5f64, 1e16f64, 123456789.0f64, -0.0f64)).unwrap();
        assert_eq!(
            payload_repr(&list).0,
            "[1.5, 1e-05, 1e+16, 123456789.0, -0.0]"
        );
        assert_eq!(r(b"\xc4\x03a'\\").0, "b\"a'\\\\\"");
        assert_eq!(r(b"\x81\x92\x01\x02\xc0").0, "{(1, 2): None}");
        assert_eq!(
            r(b"\xd4\x05\x00"),
            ("Ext(5, b'\\x00')".into(), "<class 'msgspec.msgpack.Ext'>")
        );
    }
}

mod schema_import {
    use serde::Deserialize;
    use shuttle::pld_spec::{spec_of, TypedSpec};
    use shuttle::Raw;

    #[derive(Debug, Deserialize, schemars::JsonSchema, PartialEq)]
    enum Cmd {
        Stop,
        Move { x: i64, y: i64 },
        Say(String),
    }

    #[derive(Debug, Deserialize, schemars::JsonSchema, PartialEq)]
    struct Envelope {
        id: u32,
        cmd: Cmd,
        pair: (String, i64),
        tags: std::collections::HashMap<String, f64>,
        next: Option<Box<Envelope>>,
    }

    /// serde's default (externally tagged) enums and other common shapes
    /// derive a usable spec.
    #[test]
    fn common_serde_shapes() {
        let spec = TypedSpec::<Envelope>::new().unwrap();
        let ok = serde_json::json!({
            "id": 1, "cmd": {"Move": {"x": 1, "y": 2}}, "pair": ["a", 2],
            "tags": {"t": 1.5}, "next": {"id": 2, "cmd": "Stop", "pair": ["b", 3], "tags": {}, "next": null}
        });
        let env = spec.decode(&Raw::encode(&ok).unwrap()).unwrap();
        assert_eq!(env.cmd, Cmd::Move { x: 1, y: 2 });
        let bad = serde_json::json!({"id": 1, "cmd": "Stop", "pair": ["a", "b"], "tags": {}, "next": null});
        let e = spec.decode(&Raw::encode(&bad).unwrap()).unwrap_err();
        assert_eq!(
            e.msgspec_text(),
            "Expected `int`, got `str` - at `$.pair[1]`"
        );
        assert!(spec_of::<Cmd>().is_ok());
    }
}

mod dialogs {
    use shuttle::dialog::{dialog_verdicts, EndpointSpecs};
    use shuttle::pld_spec::PldSpec;
    use shuttle::{CancelAck, Msg, MsgType, Raw, Start, StrMap, Uid, Yield};
    use shuttle_conformance::capture::{DecodedFrame, End};

    fn frame(from: End, msg: Msg<'_>) -> DecodedFrame {
        DecodedFrame {
            from,
            body: msg.to_vec().unwrap(),
        }
    }

    fn start(cid: &str, func: &str) -> Msg<'static> {
        Msg::Start(Start::new(
            cid.to_string(),
            "mod",
            func.to_string(),
            StrMap::empty(),
            Uid::new("caller", "u1"),
        ))
    }

    fn pld(v: serde_json::Value) -> Raw<'static> {
        Raw::encode(&v).unwrap()
    }

    /// Both directions are limited; CancelAck and other dialogs are not; a
    /// cid reused by a `Start` of an unlimited endpoint is no longer limited.
    #[test]
    fn per_dialog_limiting() {
        let mut specs = EndpointSpecs::new();
        specs.insert(
            "mod",
            "typed",
            PldSpec::parse("int", &serde_json::Value::Null).unwrap(),
        );
        let frames = vec![
            frame(End::A, start("c1", "typed")),
            frame(End::A, start("c2", "free")),
            frame(
                End::B,
                Msg::Started(shuttle::Started::new("c1", pld(serde_json::json!(1)))),
            ),
            frame(
                End::A,
                Msg::Yield(Yield::new("c1", pld(serde_json::json!("x")))),
            ),
            frame(
                End::B,
                Msg::Yield(Yield::new("c2", pld(serde_json::json!("x")))),
            ),
            frame(End::B, Msg::CancelAck(CancelAck::new("c1", true))),
            frame(
                End::B,
                Msg::Return(shuttle::Return::new("c1", pld(serde_json::json!(null)))),
            ),
            frame(End::A, start("c1", "free")),
            frame(
                End::B,
                Msg::Yield(Yield::new("c1", pld(serde_json::json!("y")))),
            ),
        ];
        let v = dialog_verdicts(3, &frames, &specs);
        let got: Vec<(usize, MsgType, Option<String>)> = v
            .iter()
            .map(|v| (v.frame, v.msg_type, v.error_text()))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, MsgType::Started, None),
                (3, MsgType::Yield, Some("Expected `int`, got `str`".into())),
                (
                    6,
                    MsgType::Return,
                    Some("Expected `int`, got `None`".into())
                ),
            ]
        );
        assert!(v.iter().all(|v| v.channel == 3 && v.cid == "c1"));
        assert_eq!(
            v[1].to_json(),
            serde_json::json!({"channel": 3, "frame": 3, "cid": "c1", "msg_type": "Yield", "ok": false, "error": "Expected `int`, got `str`"})
        );
    }
}
