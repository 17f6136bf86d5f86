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
            .prop_map(|(name, uuid, pid, is_registrar, is_probe)| Msg::Aid({
                let mut m = Aid::new(name, uuid);
                m.pid = pid;
                m.is_registrar = is_registrar;
                m.is_probe = is_probe;
                m
            })),
        (
            prop::collection::vec((s(), s()), 0..4),
            prop::collection::vec(addr(), 0..3),
            prop::option::of(prop::collection::vec(addr(), 0..3))
        )
            .prop_map(|(enable_modules, reg_addrs, bind_addrs)| Msg::SpawnSpec(
                SpawnSpec::new(
                    AnyMap::empty(),
                    StrMap::encode(&serde_json::json!({"_is_root": false, "_debug_mode": true}))
                        .unwrap(),
                    enable_modules,
                    reg_addrs,
                    bind_addrs
                )
            )),
        (s(), s(), s(), uid(), s()).prop_map(|(cid, ns, func, uid, pld_spec)| Msg::Start({
            let mut m = Start::new(
                cid,
                ns,
                func,
                StrMap::encode(&serde_json::json!({"x": 1, "y": [2.5, "z"]})).unwrap(),
                uid,
            );
            m.pld_spec = pld_spec;
            m
        })),
        (s(), functype).prop_map(|(cid, functype)| Msg::StartAck(StartAck::new(cid, functype))),
        (s(), raw()).prop_map(|(c, p)| Msg::Started(Started::new(c, p))),
        (s(), raw()).prop_map(|(c, p)| Msg::Yield(Yield::new(c, p))),
        s().prop_map(|cid| Msg::Stop(Stop::new(cid))),
        (s(), raw()).prop_map(|(c, p)| Msg::Return(Return::new(c, p))),
        (s(), any::<bool>()).prop_map(|(cid, pld)| Msg::CancelAck(CancelAck::new(cid, pld))),
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
                    Msg::from({
                        let mut m = Error::new(src_uid, src_type_str, boxed_type_str, relay_path);
                        m.message = message;
                        m.tb_str = tb_str;
                        m.canceller = canceller;
                        m.sender = sender;
                        m.cid = cid;
                        m.bad_msg = bad_msg;
                        m
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

/// Every float in a decoded value, in order (iteratively).
fn floats(v: &rmpv::Value) -> Vec<(bool, f64)> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            rmpv::Value::F32(f) => out.push((false, f64::from(*f))),
            rmpv::Value::F64(f) => out.push((true, *f)),
            rmpv::Value::Array(a) => stack.extend(a.iter().rev()),
            rmpv::Value::Map(m) => m.iter().rev().for_each(|(k, v)| stack.extend([v, k])),
            _ => {}
        }
    }
    out
}

#[derive(serde::Serialize, Debug, Clone)]
struct Mixed {
    name: String,
    ratio: f32,
    samples: Vec<f32>,
    nested: Vec<(u64, Option<f32>, String)>,
    #[serde(with = "serde_bytes")]
    blob: Vec<u8>,
}

proptest! {
    /// msgspec writes every float as float64: `Raw::encode` widens `f32`s
    /// wherever they sit, and leaves everything else as rmp-serde wrote it.
    #[test]
    fn raw_encode_writes_every_float_as_float64(
        name in ".{0,40}",
        ratio in any::<f32>(),
        samples in prop::collection::vec(any::<f32>(), 0..20),
        nested in prop::collection::vec((any::<u64>(), any::<Option<f32>>(), "[a-z]{0,40}"), 0..5),
        blob in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let m = Mixed { name, ratio, samples, nested, blob };
        let raw = Raw::encode(&m).unwrap();
        let v = raw.to_value().unwrap();
        let fl = floats(&v);
        prop_assert!(fl.iter().all(|(wide, _)| *wide), "a float32 left: {v:?}");
        // The same floats, in order, as the f32s widened.
        let mut want: Vec<f64> = vec![f64::from(m.ratio)];
        want.extend(m.samples.iter().map(|f| f64::from(*f)));
        want.extend(m.nested.iter().filter_map(|(_, f, _)| f.map(f64::from)));
        let got: Vec<f64> = fl.iter().map(|(_, f)| *f).collect();
        prop_assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            prop_assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()));
        }
        // Without floats, the bytes are rmp-serde's own.
        let plain = (&m.name, &m.nested.iter().map(|(a, _, c)| (a, c)).collect::<Vec<_>>());
        let (ours, theirs) = (Raw::encode(&plain).unwrap(), rmp_serde::to_vec_named(&plain).unwrap());
        prop_assert_eq!(ours.as_bytes(), theirs.as_slice());
    }
}
