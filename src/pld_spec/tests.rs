//! Properties of the payload-spec limiter over values its samplers make:
//! generated values validate, poisoned ones do not, the shortcuts agree
//! with the general walker. (Unit tests: the samplers and the reference
//! walker are internal.)
use crate::pld_spec::PldSpec;
use proptest::prelude::*;

/// A value re-encoded by rmpv, to compare values holding NaN.
fn value_bytes(v: &rmpv::Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).unwrap();
    out
}

/// Specs exercised by the properties (every shape of the grammar).
fn specs() -> Vec<PldSpec> {
    let structs = serde_json::json!({
        "Point": {"fields": [["x", "int"], ["y", "int"]]},
        "Cat": {"fields": [["name", "str"]], "tag": true},
        "Dog": {"fields": [["name", "str"], ["good", "bool", true]], "tag": true},
        "V1": {"fields": [["body", "str"]], "tag": 1, "tag_field": "version"},
        "V2": {"fields": [["body", "str"], ["n", "int"]], "tag": 2, "tag_field": "version"},
        "Vec3": {"fields": [["x", "int"], ["y", "int", 0], ["z", "float", 0]], "array_like": true},
        "CatArr": {"fields": [["name", "str"]], "tag": true, "array_like": true},
        "DogArr": {"fields": [["name", "str"], ["good", "bool", true]], "tag": true, "array_like": true},
        "Node": {"fields": [["value", "int"], ["next", "Node | None", null]]},
        "Tree": {"fields": [["value", "int"], ["children", "list[Tree]", []]]},
        "Strict": {"fields": [["a", "int"], ["b", "str | None", null]], "forbid_unknown_fields": true},
        "Renamed": {"fields": [["user_id", "int"], ["is_admin", "bool", false]], "rename": "camel"},
        "Config": {"fields": [["name", "str"], ["retries", "int", 3], ["tags", "list[str]", []],
                              ["limits", "dict[str, int]", {}], ["note", "str | None", null]]},
        "Color": {"kind": "enum", "members": {"RED": "red", "GREEN": "green"}},
        "Level": {"kind": "enum", "members": {"LOW": 1, "HIGH": 2}},
        "UserId": {"kind": "newtype", "type": "int"},
        "Movie": {"kind": "typeddict", "fields": [["title", "str"], ["year", "typing.NotRequired[int]"]]},
        "Pos": {"kind": "dataclass", "fields": [["x", "int"], ["y", "int", 0]]},
        "Pair": {"kind": "namedtuple", "fields": [["a", "int"], ["b", "str", "x"]]}
    });
    [
        "int",
        "float",
        "str",
        "bytes",
        "bool",
        "None",
        "int | None",
        "Literal['a', 'b', 1]",
        "Literal['x'] | int | None",
        "list[int]",
        "list[Any]",
        "tuple[int, str, bool]",
        "tuple[float, ...]",
        "tuple[()]",
        "dict[str, int]",
        "dict[int, list[str]]",
        "dict[tuple[int, str], float]",
        "dict[Literal[1, 2], bool | None]",
        "Point | None",
        "list[Cat | Dog]",
        "V1 | V2",
        "list[Vec3]",
        "CatArr | DogArr | None",
        "Node",
        "Tree",
        "dict[str, Strict]",
        "Renamed",
        "Config",
        "str | list[Point] | dict[str, Any] | None",
        "dict[str, list[dict[str, int | float]]]",
        "set[int]",
        "frozenset[str | None]",
        "set[tuple[int, bytes]]",
        "datetime.datetime | None",
        "list[datetime.date]",
        "dict[str, datetime.time]",
        "datetime.timedelta",
        "uuid.UUID",
        "decimal.Decimal",
        "bytearray | None",
        "memoryview",
        "msgspec.msgpack.Ext | int",
        "msgspec.Raw",
        "list[Color | None]",
        "Level",
        "UserId",
        "Movie",
        "Pos | None",
        "Pair",
        "set[Pair]",
    ]
    .iter()
    .map(|s| PldSpec::parse(s, &structs).unwrap())
    .collect()
}

fn rng_from(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Values generated from a spec validate against it, and read as a
    /// dynamic value they are what rmpv's own reader makes of them
    /// (compared re-encoded: NaN is not equal to itself).
    #[test]
    fn generated_values_validate(which in 0usize..64, seed in any::<u64>()) {
        let specs = specs();
        let spec = &specs[which % specs.len()];
        let payload = spec.sample(&mut rng_from(seed));
        prop_assert!(spec.validate(&payload).is_ok(), "{}: {:?} rejected: {:?}",
            spec.spec_str(), hex::encode(&payload), spec.validate(&payload));
        let ours = crate::Raw::from_slice(&payload).unwrap().to_value().unwrap();
        let theirs = rmpv::decode::read_value(&mut &payload[..]).unwrap();
        prop_assert_eq!(
            value_bytes(&ours),
            value_bytes(&theirs),
            "{}",
            hex::encode(&payload)
        );
    }

    /// A generated value with one typed position replaced by an ext is a
    /// ValidationError naming `ext` as what was found.
    #[test]
    fn mutated_values_do_not_validate(which in 0usize..64, seed in any::<u64>(), k in 0usize..64) {
        let specs = specs();
        let spec = &specs[which % specs.len()];
        if let Some(payload) = spec.sample_invalid(&mut rng_from(seed), k) {
            let err = spec.validate(&payload).unwrap_err();
            prop_assert_eq!(err.python_type(), "ValidationError");
            prop_assert!(err.msgspec_text().contains(", got `ext`"), "{}", err.msgspec_text());
        }
    }

    /// Every strict prefix and every extension by one byte of a valid
    /// payload is malformed msgpack (msgpack is prefix-free).
    #[test]
    fn truncated_or_extended_values_are_malformed(which in 0usize..64, seed in any::<u64>(), cut in any::<prop::sample::Index>(), extra in any::<u8>()) {
        let specs = specs();
        let spec = &specs[which % specs.len()];
        let payload = spec.sample(&mut rng_from(seed));
        let short = &payload[..cut.index(payload.len())];
        let err = spec.validate(short).unwrap_err();
        prop_assert_eq!(err.msgspec_text(), "Input data was truncated");
        let mut long = payload.clone();
        long.push(extra);
        let err = spec.validate(&long).unwrap_err();
        prop_assert_eq!(err.msgspec_text(), format!("MessagePack data is malformed: trailing characters (byte {})", payload.len()));
    }

    /// The shortcuts (size tables, flat structs, the `Any` loop) change
    /// nothing: same verdict and error as the general walker, on valid,
    /// poisoned, cut and arbitrary payloads.
    #[test]
    fn shortcuts_agree_with_reference(which in 0usize..64, seed in any::<u64>(), k in 0usize..64,
                                      cut in any::<prop::sample::Index>(), noise in prop::collection::vec(any::<u8>(), 0..48)) {
        let specs = specs();
        let spec = &specs[which % specs.len()];
        let mut rng = rng_from(seed);
        let mut payloads = vec![spec.sample(&mut rng), noise];
        if let Some(p) = spec.sample_invalid(&mut rng, k) {
            payloads.push(p);
        }
        let whole = payloads[0].clone();
        payloads.push(whole[..cut.index(whole.len())].to_vec());
        for p in payloads {
            prop_assert_eq!(spec.validate(&p), spec.validate_reference(&p), "{} {}", spec.spec_str(), hex::encode(&p));
        }
    }

    /// Arbitrary bytes never panic, whatever the spec.
    #[test]
    fn arbitrary_bytes_never_panic(which in 0usize..64, bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let specs = specs();
        let spec = &specs[which % specs.len()];
        let _ = spec.validate(&bytes);
    }
}

/// Every vector payload gets the same result with and without the
/// validator's shortcuts.
#[test]
fn vectors_shortcuts_agree_with_reference() {
    use base64::Engine;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vectors");
    let mut seen = 0;
    for name in ["pld-vectors.json", "extra-pld-vectors.json"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        for case in file["cases"].as_array().unwrap() {
            let Ok(spec) = PldSpec::parse(case["spec"].as_str().unwrap(), &case["structs"]) else {
                continue;
            };
            let p = base64::engine::general_purpose::STANDARD
                .decode(case["payload_b64"].as_str().unwrap())
                .unwrap();
            assert_eq!(
                spec.validate(&p),
                spec.validate_reference(&p),
                "{}",
                case["id"]
            );
            seen += 1;
        }
    }
    assert!(seen > 500, "{seen}");
}
