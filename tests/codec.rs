//! Decode and re-encode against real bytes: every captured frame and the
//! golden vectors.

use shuttle::{Functype, Int, Msg, MsgType, Raw};

use crate::support::{current_frames, fixtures, unhex, value_bytes};

#[test]
fn every_captured_frame_round_trips_byte_identically() {
    let frames = current_frames();
    assert!(
        frames.len() > 1000,
        "expected the full capture set, got {}",
        frames.len()
    );
    let mut seen = std::collections::BTreeSet::new();
    for (label, f) in &frames {
        let msg = Msg::decode(&f.body).unwrap_or_else(|e| panic!("{label}: {e}"));
        seen.insert(msg.msg_type());
        let again = msg.to_vec().unwrap();
        assert!(
            again == f.body,
            "{label}: re-encoding differs\n  in:  {}\n  out: {}",
            hex::encode(&f.body),
            hex::encode(&again)
        );
        // A payload as a dynamic value is what rmpv's own reader makes of it.
        let pld = match &msg {
            Msg::Started(m) => Some(&m.pld),
            Msg::Yield(m) => Some(&m.pld),
            Msg::Return(m) => Some(&m.pld),
            _ => None,
        };
        if let Some(pld) = pld {
            let ours = pld.to_value().unwrap_or_else(|e| panic!("{label}: {e}"));
            let rmpv = rmpv::decode::read_value(&mut pld.as_bytes()).unwrap();
            // Compared as bytes: NaN is not equal to itself.
            assert_eq!(value_bytes(&ours), value_bytes(&rmpv), "{label}");
            assert_eq!(
                format!("{:?}", ours.as_rmpv()),
                format!("{rmpv:?}"),
                "{label}"
            );
        }
        // Each message type encodes itself the same way.
        let direct = match &msg {
            Msg::Aid(m) => m.to_vec(),
            Msg::SpawnSpec(m) => m.to_vec(),
            Msg::Start(m) => m.to_vec(),
            Msg::StartAck(m) => m.to_vec(),
            Msg::Started(m) => m.to_vec().unwrap(),
            Msg::Yield(m) => m.to_vec().unwrap(),
            Msg::Stop(m) => m.to_vec(),
            Msg::Return(m) => m.to_vec().unwrap(),
            Msg::CancelAck(m) => m.to_vec(),
            Msg::Error(m) => m.to_vec(),
            other => panic!("{label}: no encoder for {:?}", other.msg_type()),
        };
        assert_eq!(direct, f.body, "{label}");
    }
    assert_eq!(
        seen.len(),
        10,
        "every message type appears in the captures: {seen:?}"
    );
}

/// The golden vectors file: `### Name (N bytes)`, a JSON line, a hex line.
fn golden() -> Vec<(String, serde_json::Value, Vec<u8>)> {
    let text = std::fs::read_to_string(fixtures().join("golden/golden_vectors.txt")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for chunk in lines.chunks(3) {
        let name = chunk[0]
            .trim_start_matches("### ")
            .split(' ')
            .next()
            .unwrap()
            .to_string();
        let json: serde_json::Value = serde_json::from_str(chunk[1]).unwrap();
        out.push((name, json, unhex(chunk[2])));
    }
    out
}

#[test]
fn golden_vectors_decode_to_documented_values_and_encode_to_documented_bytes() {
    let vectors = golden();
    assert_eq!(vectors.len(), 12);
    for (name, json, bytes) in vectors {
        let msg = Msg::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(msg.msg_type().as_str(), name);
        assert_eq!(json["msg_type"], name);
        assert_eq!(msg.to_vec().unwrap(), bytes, "{name}: encoding differs");
        // Field by field against the documented JSON.
        let s = |k: &str| json[k].as_str().unwrap().to_string();
        match &msg {
            Msg::Aid(m) => {
                assert_eq!(m.name, s("name"));
                assert_eq!(m.uuid, s("uuid"));
                assert_eq!(m.pid, Some(Int::U(json["pid"].as_u64().unwrap())));
                assert_eq!(m.is_registrar, json["is_registrar"].as_bool());
                assert_eq!(m.is_probe, json["is_probe"].as_bool().unwrap());
            }
            Msg::SpawnSpec(m) => {
                assert_eq!(m.enable_modules.len(), 1);
                assert_eq!(m.enable_modules[0].0, "__main__");
                assert_eq!(m.enable_modules[0].1, "/app/main.py");
                assert_eq!(m.reg_addrs.len(), 1);
                assert_eq!(m.reg_addrs[0].host, "127.0.0.1");
                assert_eq!(m.reg_addrs[0].port, shuttle::AddrPort::Int(Int::U(1616)));
                assert!(m.bind_addrs.is_none());
                let rv: serde_json::Value = m.runtime_vars.raw().decode().unwrap();
                assert_eq!(rv, json["_runtime_vars"]);
                let pmd: serde_json::Value = m.parent_main_data.raw().decode().unwrap();
                assert_eq!(pmd, json["_parent_main_data"]);
            }
            Msg::Start(m) => {
                assert_eq!(m.cid, s("cid"));
                assert_eq!(m.ns, s("ns"));
                assert_eq!(m.func, s("func"));
                assert_eq!(m.uid.name, json["uid"][0].as_str().unwrap());
                assert_eq!(m.uid.uuid, json["uid"][1].as_str().unwrap());
                assert_eq!(m.pld_spec, "typing.Any");
                let kwargs: serde_json::Value = m.kwargs.raw().decode().unwrap();
                assert_eq!(kwargs, json["kwargs"]);
            }
            Msg::StartAck(m) => {
                assert_eq!(m.cid, s("cid"));
                assert_eq!(m.functype, Functype::Context);
            }
            Msg::Started(m) => assert_pld(&m.pld, &json["pld"]),
            Msg::Return(m) => assert_pld(&m.pld, &json["pld"]),
            Msg::Yield(m) => {
                // [1, 2.5, "three", b"\x04", None]: bytes have no JSON form.
                let v = m.pld.to_value().unwrap();
                assert_eq!(v.to_string(), "[1, 2.5, \"three\", [4], nil]");
            }
            Msg::Stop(m) => assert_eq!(m.cid, s("cid")),
            Msg::CancelAck(m) => assert!(m.pld),
            Msg::Error(m) => {
                assert_eq!(m.src_uid.name, json["src_uid"][0].as_str().unwrap());
                assert_eq!(m.src_type_str, s("src_type_str"));
                assert_eq!(m.boxed_type_str, s("boxed_type_str"));
                assert_eq!(m.relay_path.len(), 1);
                assert_eq!(m.message.as_deref(), json["message"].as_str());
                assert_eq!(m.tb_str, s("tb_str"));
                assert_eq!(m.cid.as_deref(), json["cid"].as_str());
                assert_eq!(m.canceller.is_some(), !json["canceller"].is_null());
                match &m.bad_msg {
                    Some(bad) => {
                        assert_eq!(bad.msg_type(), MsgType::Yield);
                        assert_eq!(bad.parts().0, json["_bad_msg"]["cid"].as_str().unwrap());
                        assert_pld(bad.parts().1, &json["_bad_msg"]["pld"]);
                    }
                    None => assert!(json["_bad_msg"].is_null()),
                }
            }
            other => panic!("no check for {:?}", other.msg_type()),
        }
    }
}

fn assert_pld(pld: &Raw<'_>, json: &serde_json::Value) {
    let v: serde_json::Value = pld.decode().unwrap();
    assert_eq!(&v, json);
}

/// The short golden forms from the protocol reference (cid "c1").
#[test]
fn short_golden_forms_encode_exactly() {
    use shuttle::*;
    let cases: Vec<(Msg<'_>, &str)> = vec![
        (Stop::new("c1").into(), "82a86d73675f74797065a453746f70a3636964a26331"),
        (StartAck::new("c1", Functype::AsyncFunc).into(), "83a86d73675f74797065a8537461727441636ba3636964a26331a866756e6374797065a96173796e6366756e63"),
        (Started::new("c1", Raw::encode(&1).unwrap()).into(), "83a86d73675f74797065a753746172746564a3636964a26331a3706c6401"),
        (Yield::new("c1", Raw::encode("hi").unwrap()).into(), "83a86d73675f74797065a55969656c64a3636964a26331a3706c64a26869"),
        (Return::new("c1", Raw::nil()).into(), "83a86d73675f74797065a652657475726ea3636964a26331a3706c64c0"),
        (CancelAck::new("c1", true).into(), "83a86d73675f74797065a943616e63656c41636ba3636964a26331a3706c64c3"),
        ({
 let mut m = Aid::new("root", "abc");
 m.pid = Some(Int::U(123));
 m
}.into(),
         "86a86d73675f74797065a3416964a46e616d65a4726f6f74a475756964a3616263a37069647bac69735f726567697374726172c0a869735f70726f6265c2"),
        (Error::new(Uid::new("a", "u"), "ValueError", "ValueError", vec![Uid::new("a", "u")]).into(),
         "8ca86d73675f74797065a54572726f72a77372635f75696492a161a175ac7372635f747970655f737472aa56616c75654572726f72ae626f7865645f747970655f737472aa56616c75654572726f72aa72656c61795f706174689192a161a175a76d657373616765c0a674625f737472a0a963616e63656c6c6572c0a673656e646572c0a3636964c0a85f6261645f6d7367c0b05f6261645f6d73675f61735f64696374c0"),
        (Start::new("c1", "mymod", "f", StrMap::encode(&std::collections::BTreeMap::from([("x", 1)])).unwrap(), Uid::new("root", "abc")).into(),
         "87a86d73675f74797065a55374617274a3636964a26331a26e73a56d796d6f64a466756e63a166a66b776172677381a17801a375696492a4726f6f74a3616263a8706c645f73706563aa747970696e672e416e79"),
    ];
    for (msg, hexed) in cases {
        assert_eq!(
            hex::encode(msg.to_vec().unwrap()),
            hexed,
            "{:?}",
            msg.msg_type()
        );
        assert_eq!(Msg::decode(&unhex(hexed)).unwrap(), msg);
    }
}

#[test]
fn decoding_is_lenient_like_msgspec() {
    use shuttle::Stop;
    // Tag last, unknown key, non-minimal str header, duplicate key (last wins).
    let mut body = vec![0x84];
    body.extend_from_slice(b"\xa3cid\xd9\x02c0");
    body.extend_from_slice(b"\xa5extra\x93\x01\x02\x03");
    body.extend_from_slice(b"\xa3cid\xa2c1");
    body.extend_from_slice(b"\xa8msg_type\xa4Stop");
    let msg = Msg::decode(&body).unwrap();
    assert_eq!(msg, Msg::Stop(Stop::new("c1")));
    // Missing defaulted fields are filled; non-minimal ints and float32 elsewhere are accepted.
    let aid = b"\x83\xa8msg_type\xa3Aid\xa4name\xa1a\xa4uuid\xa1u";
    let Msg::Aid(a) = Msg::decode(aid).unwrap() else {
        panic!()
    };
    assert_eq!((a.pid, a.is_registrar, a.is_probe), (None, None, false));
    let aid = b"\x84\xa8msg_type\xa3Aid\xa4name\xa1a\xa4uuid\xa1u\xa3pid\xcd\x00\x01";
    let Msg::Aid(a) = Msg::decode(aid).unwrap() else {
        panic!()
    };
    assert_eq!(a.pid, Some(Int::U(1)));
}

#[test]
fn decoding_is_strict_like_msgspec() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"\x82\xa8msg_type\xa4Stop\xa3cid\xc4\x02c1",
            "invalid `Stop`: Expected `str`, got `bytes` - at `$.cid`",
        ),
        (
            b"\x82\xa8msg_type\xa4Stop\xa3cid\x01",
            "invalid `Stop`: Expected `str`, got `int` - at `$.cid`",
        ),
        (
            b"\x81\xa8msg_type\xa4Stop",
            "invalid `Stop`: Object missing required field `cid`",
        ),
        (
            b"\x81\xa8msg_type\xa3Foo",
            "Invalid value 'Foo' - at `$.msg_type`",
        ),
        (
            b"\x81\xa8msg_type\xa4stop",
            "Invalid value 'stop' - at `$.msg_type`",
        ),
        (
            b"\x81\xa3cid\xa2c1",
            "Object missing required field `msg_type`",
        ),
        (b"\x01", "Expected `object`, got `int`"),
        (b"\x90", "Expected `object`, got `array`"),
        (b"\xc0", "Expected `object`, got `None`"),
        (
            b"\x83\xa8msg_type\xa8StartAck\xa3cid\xa2c1\xa8functype\xa3gen",
            "invalid `StartAck`: Invalid enum value 'gen' - at `$.functype`",
        ),
        (
            b"\x84\xa8msg_type\xa3Aid\xa4name\xa1a\xa4uuid\xa1u\xa3pid\xcb\x3f\xf0\0\0\0\0\0\0",
            "invalid `Aid`: Expected `int | null`, got `float` - at `$.pid`",
        ),
        (
            b"\x84\xa8msg_type\xa3Aid\xa4name\xa1a\xa4uuid\xa1u\xa8is_probe\xc0",
            "invalid `Aid`: Expected `bool`, got `None` - at `$.is_probe`",
        ),
        (
            b"\x84\xa8msg_type\xa3Aid\xa4name\xa1a\xa4uuid\xa1u\xacis_registrar\x01",
            "invalid `Aid`: Expected `bool | null`, got `int` - at `$.is_registrar`",
        ),
        (
            b"\x83\xa8msg_type\xa9CancelAck\xa3cid\xa2c1\xa3pld\xa1x",
            "invalid `CancelAck`: Expected `bool`, got `str` - at `$.pld`",
        ),
        (
            b"\x82\xa8msg_type\xa4Stop\x01\xa2c1",
            "invalid `Stop`: Expected `str`, got `int` - at `key` in `$`",
        ),
        (
            b"\x82\xa8msg_type\xa4Stop\xa3cid\xa2c1\x00",
            "MessagePack data is malformed: trailing characters (byte 22)",
        ),
    ];
    for (bytes, text) in cases {
        let err = Msg::decode(bytes).expect_err(text);
        assert_eq!(err.to_string(), *text, "{}", hex::encode(bytes));
    }
}

#[test]
fn wrong_tuple_length_and_nested_bad_msg_tag_are_rejected() {
    use shuttle::*;
    let mut e = {
        let mut m = Error::new(Uid::new("a", "u"), "X", "X", vec![Uid::new("a", "u")]);
        m.cid = Some("c".into());
        m
    };
    let good = Msg::from(e.clone()).to_vec().unwrap();
    // relay_path[0] with three elements.
    let bad = hex::encode(&good).replace("9192a161a175", "9193a161a175a178");
    let err = Msg::decode(&unhex(&bad)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid `Error`: Expected `array` of length 2, got 3 - at `$.relay_path[0]`"
    );
    // A `Stop` nested in `_bad_msg`.
    e.bad_msg = Some(BadMsg::Yield(Yield::new("c", Raw::nil())));
    let good = hex::encode(Msg::from(e).to_vec().unwrap());
    let bad = good.replace("a55969656c64", "a453746f70");
    let err = Msg::decode(&unhex(&bad)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid `Error`: Invalid value 'Stop' - at `$._bad_msg.msg_type`"
    );
}

/// `kwargs` is `dict[str, Any]`: checked in one loop when it can be, and
/// by the exact walker otherwise (non-str keys at the top, container keys
/// deeper down, bad UTF-8), with msgspec's verdicts (msgspec 0.22.0).
#[test]
fn kwargs_are_checked_like_msgspec_on_every_path() {
    let start = |kwargs: &str| {
        unhex(&format!(
            "87a86d73675f74797065a55374617274a3636964a163a26e73a16da466756e63a166\
             a375696492a161a162a8706c645f73706563aa747970696e672e416e79a66b7761726773{kwargs}"
        ))
    };
    // {1: 2}
    let err = Msg::decode(&start("810102")).unwrap_err();
    assert_eq!(
        err.msgspec_text(),
        "Expected `str`, got `int` - at `key` in `$.kwargs`"
    );
    // {"a": {1: [1, 2]}}, {"a": [{"b": {(1, 2): 3}}]}, {"a": b"\xff"}
    for ok in [
        "81a16181019201 02",
        "81a1619181a16281920102 03",
        "81a161c401ff",
    ] {
        let body = start(&ok.replace(' ', ""));
        let Msg::Start(m) = Msg::decode(&body).unwrap() else {
            panic!("not a Start")
        };
        assert_eq!(
            m.kwargs.raw().as_bytes(),
            &body[body.len() - ok.replace(' ', "").len() / 2..]
        );
    }
    // {"a": "\xff"} (a str that is not UTF-8)
    let err = Msg::decode(&start("81a161a1ff")).unwrap_err();
    assert!(err.is_malformed(), "{err}");
    // {"a": [[[...]]]} nested deeper than the one-loop check tracks
    let mut deep = "81a161".to_owned();
    deep.push_str(&"91".repeat(40));
    deep.push_str("01");
    assert!(Msg::decode(&start(&deep)).is_ok());
}

/// The constructors start every defaulted field at its wire default: a map
/// holding only the required keys decodes to exactly what `new` builds.
#[test]
fn constructors_agree_with_the_decoders_defaults() {
    use rmpv::Value as V;
    let encode = |entries: Vec<(&str, V)>| {
        value_bytes(&V::Map(
            entries.into_iter().map(|(k, v)| (V::from(k), v)).collect(),
        ))
    };
    let uid = || V::Array(vec![V::from("root"), V::from("u1")]);
    let aid = encode(vec![
        ("msg_type", "Aid".into()),
        ("name", "root".into()),
        ("uuid", "u1".into()),
    ]);
    assert_eq!(
        Msg::decode(&aid).unwrap(),
        Msg::from(shuttle::Aid::new("root", "u1"))
    );
    let start = encode(vec![
        ("msg_type", "Start".into()),
        ("cid", "c1".into()),
        ("ns", "self".into()),
        ("func", "cancel".into()),
        ("kwargs", V::Map(vec![])),
        ("uid", uid()),
    ]);
    let built = shuttle::Start::new(
        "c1",
        "self",
        "cancel",
        shuttle::StrMap::empty(),
        shuttle::Uid::new("root", "u1"),
    );
    assert_eq!(Msg::decode(&start).unwrap(), Msg::from(built));
    let error = encode(vec![
        ("msg_type", "Error".into()),
        ("src_uid", uid()),
        ("src_type_str", "ValueError".into()),
        ("boxed_type_str", "ValueError".into()),
        ("relay_path", V::Array(vec![uid()])),
    ]);
    let root = shuttle::Uid::new("root", "u1");
    let built = shuttle::Error::new(root.clone(), "ValueError", "ValueError", vec![root]);
    assert_eq!(Msg::decode(&error).unwrap(), Msg::from(built));
    // Messages without defaulted fields: `new` writes what tractor writes.
    assert_eq!(
        Msg::decode(&shuttle::StartAck::new("c1", Functype::Context).to_vec()).unwrap(),
        Msg::from(shuttle::StartAck::new("c1", Functype::Context))
    );
    assert_eq!(
        shuttle::CancelAck::new("c1", true).to_vec(),
        unhex("83a86d73675f74797065a943616e63656c41636ba3636964a26331a3706c64c3")
    );
}

/// The tag matcher knows exactly the ten names: every near miss (a byte
/// short, a byte more, the last byte changed, another case) is no tag.
#[test]
fn tags_are_matched_exactly() {
    let names: Vec<&str> = MsgType::ALL.iter().map(|t| t.as_str()).collect();
    for t in MsgType::ALL {
        let s = t.as_str().as_bytes();
        assert_eq!(MsgType::from_wire(s), Some(t));
        let mut near: Vec<Vec<u8>> = vec![
            s[..s.len() - 1].to_vec(),
            [s, b"x"].concat(),
            s.to_ascii_lowercase(),
            s.to_ascii_uppercase(),
        ];
        let mut last = s.to_vec();
        *last.last_mut().unwrap() ^= 1;
        near.push(last);
        for n in near {
            let expected = names
                .iter()
                .position(|name| name.as_bytes() == n.as_slice())
                .map(|i| MsgType::ALL[i]);
            assert_eq!(
                MsgType::from_wire(&n),
                expected,
                "{:?}",
                String::from_utf8_lossy(&n)
            );
        }
    }
    for odd in [
        &b""[..],
        b"\0",
        b"SpawnSpecs",
        b"CancelAckX",
        b"Error\0\0\0\0",
    ] {
        assert_eq!(MsgType::from_wire(odd), None);
    }
}
