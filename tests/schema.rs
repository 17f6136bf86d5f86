//! The generated JSON Schemas and documentation of `spec/`: in step with
//! the code, and true to every recorded frame.

use std::path::Path;

use serde_json::{json, Value};
use shuttle::{Msg, MsgType, Raw, Yield};

use crate::support::{captures, current_frames, fixtures, unhex};

/// The schema files, as `shuttle schema` writes them: the message crate's
/// and the harness's (the capture format among them). The rendered
/// documentation beside them has its tests in the harness.
fn generated() -> Vec<(String, String)> {
    shuttle_conformance::spec_files()
        .into_iter()
        .filter(|(path, _)| path.starts_with("schema/"))
        .collect()
}

fn schema(name: &str) -> Value {
    let file = format!("schema/{name}.schema.json");
    let (_, text) = generated()
        .into_iter()
        .find(|(n, _)| *n == file)
        .unwrap_or_else(|| panic!("{file} is not generated"));
    serde_json::from_str(&text).unwrap()
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&schema(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

// That the committed `spec/` equals what `shuttle schema` writes (these
// schemas plus those of the conformance crate) is checked by the
// conformance crate's tests.

#[test]
fn generation_is_deterministic() {
    assert_eq!(generated(), generated());
}

#[test]
fn every_schema_is_valid_draft_2020_12() {
    for (name, text) in generated() {
        if let Some(stem) = name.strip_suffix(".schema.json") {
            let s: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                s["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{stem}"
            );
            jsonschema::meta::validate(&s).unwrap_or_else(|e| panic!("{stem}: {e}"));
        }
    }
}

#[test]
fn every_recorded_frame_validates_against_the_union_and_its_own_schema() {
    let union = validator("Msg");
    let own: Vec<(MsgType, jsonschema::Validator, Vec<String>)> = MsgType::ALL
        .iter()
        .map(|t| {
            let order = schema(t.as_str())["x-wire-order"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect();
            (*t, validator(t.as_str()), order)
        })
        .collect();
    let frames = current_frames();
    assert!(frames.len() > 1000);
    for (label, f) in &frames {
        let msg = Msg::decode(&f.body).unwrap_or_else(|e| panic!("{label}: {e}"));
        let doc = msg.to_json();
        let errs = errors(&union, &doc);
        assert!(errs.is_empty(), "{label}: {errs:?}\n{doc}");
        let (_, v, order) = own.iter().find(|(t, _, _)| *t == msg.msg_type()).unwrap();
        assert!(v.is_valid(&doc), "{label}: {:?}", errors(v, &doc));
        // The tag comes first and the keys follow the wire order.
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys, order.iter().collect::<Vec<_>>(), "{label}");
    }
}

#[test]
fn every_capture_document_validates_against_the_capture_schema() {
    let v = validator("Capture");
    for dir in ["python-tractor", "python-tractor-0.1.0a5"] {
        for (name, _) in captures(dir) {
            let path = fixtures()
                .join("captures")
                .join(dir)
                .join(format!("{name}.json"));
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let errs = errors(&v, &doc);
            assert!(errs.is_empty(), "{dir}/{name}: {errs:?}");
        }
    }
    let bad = json!({"format": "tractor-capture/3", "source": {}, "scenario": "x", "actors": [], "channels": []});
    assert!(!v.is_valid(&bad));
    // Version 2 frames say which end sent them.
    let frame = json!({"from": "u", "t_ns": 1, "msgpack_b64": "wA=="});
    let v2 = |frame: Value| {
        json!({"format": "tractor-capture/2", "source": {}, "scenario": "x",
               "actors": [{"name": "n", "uuid": "u"}],
               "channels": [{"a": "u", "b": "u", "transport": "tcp", "frames": [frame]}]})
    };
    assert!(!v.is_valid(&v2(frame.clone())));
    let mut with_end = frame;
    with_end["end"] = json!("b");
    assert!(
        v.is_valid(&v2(with_end)),
        "{:?}",
        errors(&v, &v2(json!({})))
    );
}

fn golden_hexes() -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join("golden/golden_vectors.txt")).unwrap();
    text.lines().skip(2).step_by(3).map(str::to_owned).collect()
}

#[test]
fn schema_examples_are_golden_vectors_and_valid() {
    let golden = golden_hexes();
    let union = validator("Msg");
    for tag in MsgType::ALL {
        let s = schema(tag.as_str());
        let hexes = s["x-msgpack-examples"].as_array().unwrap();
        let examples = s["examples"].as_array().unwrap();
        assert!(!hexes.is_empty() && hexes.len() == examples.len(), "{tag}");
        for (hex, example) in hexes.iter().zip(examples) {
            let hex = hex.as_str().unwrap();
            assert!(
                golden.iter().any(|g| g == hex),
                "{tag}: example is not a golden vector"
            );
            let bytes = unhex(hex);
            let msg = Msg::decode(&bytes).unwrap();
            assert_eq!(msg.msg_type(), tag);
            assert_eq!(&msg.to_json(), example);
            assert_eq!(msg.to_vec().unwrap(), bytes);
            assert!(union.is_valid(example), "{tag}");
        }
    }
}

fn good_start() -> Value {
    json!({
        "msg_type": "Start", "cid": "c1", "ns": "mymod", "func": "f",
        "kwargs": {"x": 1}, "uid": ["root", "abc"], "pld_spec": "typing.Any"
    })
}

#[test]
fn wrong_documents_are_rejected() {
    let union = validator("Msg");
    assert!(union.is_valid(&good_start()));
    let with = |key: &str, value: Value| {
        let mut d = good_start();
        d[key] = value;
        d
    };
    let without = |key: &str| {
        let mut d = good_start();
        d.as_object_mut().unwrap().remove(key);
        d
    };
    let error = |bad_msg: Value| {
        json!({
            "msg_type": "Error", "src_uid": ["a", "u"], "src_type_str": "MsgTypeError",
            "boxed_type_str": "MsgTypeError", "relay_path": [["a", "u"]], "message": null,
            "tb_str": "", "canceller": null, "sender": null, "cid": "c1",
            "_bad_msg": bad_msg, "_bad_msg_as_dict": null
        })
    };
    assert!(union.is_valid(&error(
        json!({"msg_type": "Yield", "cid": "c1", "pld": {"$bytes": "AQ=="}})
    )));
    let wrong = [
        ("unknown tag", with("msg_type", json!("Begin"))),
        ("tag case", with("msg_type", json!("start"))),
        ("missing required key", without("cid")),
        (
            "missing defaulted key (senders write every key)",
            without("pld_spec"),
        ),
        ("unknown key", with("extra", json!(1))),
        ("cid not a str", with("cid", json!(123))),
        (
            "uid of three items",
            with("uid", json!(["root", "abc", "x"])),
        ),
        ("uid of one item", with("uid", json!(["root"]))),
        ("kwargs not a map", with("kwargs", json!([1]))),
        (
            "kwargs with an unknown $ form",
            with("kwargs", json!({"$x": 1})),
        ),
        ("not a map", json!([1, 2])),
        ("no tag", json!({"cid": "c1"})),
        (
            "bad functype",
            json!({"msg_type": "StartAck", "cid": "c1", "functype": "gen"}),
        ),
        (
            "CancelAck pld not a bool",
            json!({"msg_type": "CancelAck", "cid": "c1", "pld": 1}),
        ),
        (
            "bin not base64 text",
            json!({"msg_type": "Yield", "cid": "c1", "pld": {"$bytes": 1}}),
        ),
        (
            "ext without data",
            json!({"msg_type": "Yield", "cid": "c1", "pld": {"$ext": 5}}),
        ),
        (
            "Stop in _bad_msg",
            error(json!({"msg_type": "Stop", "cid": "c1"})),
        ),
        (
            "Aid pid a float",
            json!({"msg_type": "Aid", "name": "a", "uuid": "u", "pid": 1.5, "is_registrar": null, "is_probe": false}),
        ),
        (
            "Aid is_probe nil",
            json!({"msg_type": "Aid", "name": "a", "uuid": "u", "pid": null, "is_registrar": null, "is_probe": null}),
        ),
    ];
    for (why, doc) in wrong {
        assert!(!union.is_valid(&doc), "accepted ({why}): {doc}");
    }
}

/// A payload holding every msgpack kind that JSON cannot carry as is.
#[test]
fn payloads_render_with_the_documented_mapping() {
    let mut pld = vec![0x9a];
    pld.extend([0xc4, 0x02, 0x00, 0xff]); // bin
    pld.extend([0xd6, 0xff, 0, 0, 0, 1]); // timestamp ext -1
    pld.extend([0xa2, 0xff, 0xfe]); // str, invalid UTF-8
    pld.extend([0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]); // NaN
    pld.extend([0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0]); // -inf
    pld.extend([0x81, 0x01, 0xa1, b'a']); // int key
    pld.extend([0x82, 0xa1, b'k', 0x01, 0xa1, b'k', 0x02]); // duplicate key
    pld.extend([0x81, 0xa2, b'$', b'k', 0xc0]); // `$` key
    pld.extend([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]); // u64::MAX
    pld.extend([0xca, 0x3f, 0x80, 0, 0]); // float32 1.0
    let raw = Raw::from_slice(&pld).unwrap();
    let msg = Msg::from(Yield::new("c1", raw));
    let doc = msg.to_json();
    assert_eq!(
        doc["pld"],
        json!([
            {"$bytes": "AP8="},
            {"$ext": -1, "data": "AAAAAQ=="},
            {"$str": "//4="},
            {"$float": "nan"},
            {"$float": "-inf"},
            {"$map": [[1, "a"]]},
            {"$map": [["k", 1], ["k", 2]]},
            {"$map": [["$k", null]]},
            u64::MAX,
            1.0
        ])
    );
    assert!(
        doc.to_string().contains(",1.0]"),
        "floats keep their fraction: {doc}"
    );
    assert!(validator("Msg").is_valid(&doc));

    // Deeper than the decoder's depth limit: kept as its bytes.
    let mut deep = vec![0x91; shuttle::DEFAULT_MAX_DEPTH + 10];
    deep.push(0xc0);
    let raw = Raw::from_slice(&deep).unwrap();
    let doc = Msg::from(Yield::new("c1", raw)).to_json();
    assert!(doc["pld"]["$msgpack"].is_string());
    assert!(validator("Msg").is_valid(&doc));
}

fn protocol_md() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/PROTOCOL.md")).unwrap()
}

/// The lines of every fenced block of `PROTOCOL.md` with info string `info`.
fn fenced(text: &str, info: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim() == format!("```{info}") => current = Some(Vec::new()),
            Some(block) if line.trim() == "```" => {
                out.push(std::mem::take(block));
                current = None;
            }
            Some(block) => block.push(line.trim().to_owned()),
            None => {}
        }
    }
    out
}

#[test]
fn protocol_md_hex_examples_decode_and_re_encode_exactly() {
    let text = protocol_md();
    let blocks = fenced(&text, "hex");
    assert!(blocks.len() >= 10, "one example per message at least");
    let mut seen = std::collections::BTreeSet::new();
    for lines in blocks {
        let hex = lines.concat();
        let bytes = unhex(&hex);
        let msg = Msg::decode(&bytes).unwrap_or_else(|e| panic!("{hex}: {e}"));
        seen.insert(msg.msg_type());
        assert_eq!(msg.to_vec().unwrap(), bytes, "{hex}");
    }
    assert_eq!(seen.len(), 10, "{seen:?}");
    // Legacy examples: one msgpack value per line, after an optional
    // `label:` (no typed decoding: the dict dialect has no tags).
    let legacy: Vec<String> = fenced(&text, "hex-legacy").concat();
    assert!(legacy.len() >= 6);
    for line in legacy {
        let hex = line.rsplit(' ').next().unwrap();
        Raw::from_slice(&unhex(hex)).unwrap_or_else(|e| panic!("{line}: {e}"));
    }
}

#[test]
fn protocol_md_has_the_stable_anchors() {
    let text = protocol_md();
    let anchors = [
        "framing",
        "messages",
        "aid",
        "spawnspec",
        "start",
        "startack",
        "started",
        "yield",
        "stop",
        "return",
        "cancelack",
        "error",
        "captures",
        "payload-limiting",
        "dialogs",
        "handshake",
        "asyncfunc",
        "asyncgen",
        "context",
        "cancellation",
        "errors",
        "relays",
        "discovery",
        "versions",
        "legacy-dict-dialect",
        "hazards",
        "quirks",
        "json-rendering",
        "encoding",
        "decoding",
    ];
    for a in anchors {
        let tag = format!("<a id=\"{a}\"></a>");
        assert_eq!(text.matches(&tag).count(), 1, "anchor {a}");
    }
    // Every in-page link points at an anchor that exists.
    for link in text.split("](#").skip(1) {
        let target = link.split(')').next().unwrap();
        assert!(
            text.contains(&format!("<a id=\"{target}\"></a>")),
            "dangling link #{target}"
        );
    }
}

#[test]
fn every_recorded_frame_survives_json_text_and_back_byte_for_byte() {
    for (label, f) in current_frames() {
        let msg = Msg::decode(&f.body).unwrap();
        let text = msg.to_json().to_string();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let body = shuttle::Msg::msgpack_from_json(&doc).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert!(body == f.body, "{label}: differs after JSON\n  {text}");
    }
}

#[test]
fn json_documents_that_are_not_messages_or_not_the_mapping_are_refused() {
    let message_to_msgpack = shuttle::Msg::msgpack_from_json;
    let bad = [
        json!({"msg_type": "Stop"}),
        json!({"msg_type": "Begin", "cid": "c1"}),
        json!([1]),
        json!({"msg_type": "Yield", "cid": "c1", "pld": {"$bytes": "not base64!"}}),
        json!({"msg_type": "Yield", "cid": "c1", "pld": {"$ext": 300, "data": ""}}),
        json!({"msg_type": "Yield", "cid": "c1", "pld": {"$map": [[1]]}}),
        json!({"msg_type": "Yield", "cid": "c1", "pld": {"$what": 1}}),
        json!({"msg_type": "Yield", "cid": "c1", "pld": {"$bytes": "", "x": 1}}),
        json!({"msg_type": "Yield", "cid": "c1", "pld": {"$msgpack": "wQ=="}}),
    ];
    for doc in bad {
        assert!(message_to_msgpack(&doc).is_err(), "accepted {doc}");
    }
    let err = message_to_msgpack(
        &json!({"msg_type": "Yield", "cid": "c1", "pld": [0, {"$float": "big"}]}),
    )
    .unwrap_err();
    assert_eq!(err.path, "$.pld[1].$float");
}
