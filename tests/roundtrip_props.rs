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

/// Values built to exercise the skipper's runs: lists of same-width ints,
/// maps of same-width keys and values, with containers and other widths
/// breaking the runs anywhere.
fn runny() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        (0u64..128).prop_map(serde_json::Value::from),
        (128u64..256).prop_map(serde_json::Value::from),
        (256u64..65536).prop_map(serde_json::Value::from),
        "[a-z]{0,6}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
    ];
    leaf.prop_recursive(4, 200, 40, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..40).prop_map(serde_json::Value::Array),
            prop::collection::vec(("k[0-9]{1,4}", inner), 0..40)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Skipping a value consumes exactly its bytes, whatever follows it.
    #[test]
    fn skipping_consumes_exactly_one_value(a in runny(), b in runny()) {
        let first = Raw::encode(&a).unwrap();
        let mut both = first.as_bytes().to_vec();
        both.extend_from_slice(Raw::encode(&b).unwrap().as_bytes());
        let mut r = shuttle::msgpack::Reader::new(&both);
        prop_assert_eq!(r.raw().unwrap(), first.as_bytes());
        r.raw().unwrap();
        prop_assert!(r.finish().is_ok());
        // A truncated value is never taken for a complete one.
        if first.as_bytes().len() > 1 {
            let cut = &first.as_bytes()[..first.as_bytes().len() - 1];
            prop_assert!(Raw::from_slice(cut).is_err());
        }
    }
}

/// Byte strings near the short-string fast paths' edges (word sizes, the
/// fixstr and 64-byte limits), mostly ASCII with a few bytes of any value.
fn near_ascii() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![8 => 0x20u8..0x7f, 1 => any::<u8>(), 1 => 0x80u8..0xc0],
        0..80,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The UTF-8 fast paths agree with the standard library, and a str
    /// read through the reader (fixstr, str8 or str16) is exactly the
    /// bytes written.
    #[test]
    fn utf8_checks_agree_with_std(bytes in near_ascii(), width in 0usize..3) {
        let std_ok = std::str::from_utf8(&bytes).is_ok();
        prop_assert_eq!(shuttle::msgpack::utf8(&bytes, 0).is_ok(), std_ok);
        prop_assert_eq!(shuttle::msgpack::is_utf8(&bytes), std_ok);
        prop_assert_eq!(shuttle::msgpack::ascii_str(&bytes).is_some(), bytes.is_ascii() && bytes.len() < 64);
        let mut wire = Vec::new();
        match width {
            0 if bytes.len() < 32 => wire.push(0xa0 | bytes.len() as u8),
            0 | 1 => wire.extend_from_slice(&[0xd9, bytes.len() as u8]),
            _ => {
                wire.push(0xda);
                wire.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
            }
        }
        wire.extend_from_slice(&bytes);
        let mut r = shuttle::msgpack::Reader::new(&wire);
        match r.str() {
            Ok(s) => {
                prop_assert!(std_ok);
                prop_assert_eq!(s.as_bytes(), &bytes[..]);
                prop_assert!(r.finish().is_ok());
            }
            Err(_) => prop_assert!(!std_ok),
        }
        // Cut short, it is never read as a str.
        if !bytes.is_empty() {
            prop_assert!(shuttle::msgpack::Reader::new(&wire[..wire.len() - 1]).str().is_err());
        }
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
