//! proptest: messages built from arbitrary field values round-trip, as
//! values and as bytes.

use std::borrow::Cow;

use proptest::prelude::*;
use shuttle::*;

fn s() -> impl Strategy<Value = Cow<'static, str>> {
    prop_oneof![
        "[a-z0-9-]{0,40}".prop_map(Cow::Owned),
        any::<String>().prop_map(Cow::Owned),
        // Long enough for str8/str16 headers.
        "[a-z]{200,300}".prop_map(Cow::Owned),
    ]
}

fn int() -> impl Strategy<Value = Int> {
    prop_oneof![
        any::<u64>().prop_map(Int::U),
        (i64::MIN..0).prop_map(Int::I)
    ]
}

fn uid() -> impl Strategy<Value = Uid<'static>> {
    (s(), s()).prop_map(|(n, u)| Uid::new(n, u))
}

/// A payload: an arbitrary JSON-like value, encoded canonically.
fn raw() -> impl Strategy<Value = Raw<'static>> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec(("[a-z]{1,5}", inner), 0..6)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
    .prop_map(|v| Raw::encode(&v).unwrap())
}

fn addr() -> impl Strategy<Value = Addr<'static>> {
    (
        s(),
        prop_oneof![int().prop_map(AddrPort::Int), s().prop_map(AddrPort::Str)],
    )
        .prop_map(|(host, port)| Addr { host, port })
}

fn msg() -> impl Strategy<Value = Msg<'static>> {
    let functype = prop_oneof![
        Just(Functype::AsyncFunc),
        Just(Functype::AsyncGen),
        Just(Functype::Context)
    ];
    prop_oneof![
        (
            s(),
            s(),
            prop::option::of(int()),
            prop::option::of(any::<bool>()),
            any::<bool>()
        )
            .prop_map(|(name, uuid, pid, is_registrar, is_probe)| Msg::Aid(Aid {
                name,
                uuid,
                pid,
                is_registrar,
                is_probe
            })),
        (
            prop::collection::vec((s(), s()), 0..4),
            prop::collection::vec(addr(), 0..3),
            prop::option::of(prop::collection::vec(addr(), 0..3))
        )
            .prop_map(|(enable_modules, reg_addrs, bind_addrs)| Msg::SpawnSpec(
                SpawnSpec {
                    parent_main_data: AnyMap::empty(),
                    runtime_vars: StrMap::encode(
                        &serde_json::json!({"_is_root": false, "_debug_mode": true})
                    )
                    .unwrap(),
                    enable_modules,
                    reg_addrs,
                    bind_addrs,
                }
            )),
        (s(), s(), s(), uid(), s()).prop_map(|(cid, ns, func, uid, pld_spec)| Msg::Start(Start {
            cid,
            ns,
            func,
            kwargs: StrMap::encode(&serde_json::json!({"x": 1, "y": [2.5, "z"]})).unwrap(),
            uid,
            pld_spec,
        })),
        (s(), functype).prop_map(|(cid, functype)| Msg::StartAck(StartAck { cid, functype })),
        (s(), raw()).prop_map(|(c, p)| Msg::Started(Started::new(c, p))),
        (s(), raw()).prop_map(|(c, p)| Msg::Yield(Yield::new(c, p))),
        s().prop_map(|cid| Msg::Stop(Stop { cid })),
        (s(), raw()).prop_map(|(c, p)| Msg::Return(Return::new(c, p))),
        (s(), any::<bool>()).prop_map(|(cid, pld)| Msg::CancelAck(CancelAck { cid, pld })),
        (
            uid(),
            s(),
            s(),
            prop::collection::vec(uid(), 0..4),
            prop::option::of(s()),
            s(),
            prop::option::of(uid()),
            prop::option::of(uid()),
            prop::option::of(s()),
            prop::option::of((0..3u8, s(), raw()))
        )
            .prop_map(
                |(
                    src_uid,
                    src_type_str,
                    boxed_type_str,
                    relay_path,
                    message,
                    tb_str,
                    canceller,
                    sender,
                    cid,
                    bad,
                )| {
                    let bad_msg = bad.map(|(k, c, p)| match k {
                        0 => BadMsg::Started(Started::new(c, p)),
                        1 => BadMsg::Yield(Yield::new(c, p)),
                        _ => BadMsg::Return(Return::new(c, p)),
                    });
                    Msg::Error(Error {
                        src_uid,
                        src_type_str,
                        boxed_type_str,
                        relay_path,
                        message,
                        tb_str,
                        canceller,
                        sender,
                        cid,
                        bad_msg,
                        bad_msg_as_dict: None,
                    })
                }
            ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn messages_round_trip_as_values_and_bytes(m in msg()) {
        let bytes = m.to_vec().unwrap();
        let back = Msg::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(back.to_vec().unwrap(), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = Msg::decode(&bytes);
        let _ = Raw::from_slice(&bytes);
    }
}
