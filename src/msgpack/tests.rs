//! The reader's skipping and the UTF-8 fast paths, against independent
//! oracles (rmp-serde's encoder, the standard library's UTF-8 check).

use proptest::prelude::*;

use super::{ascii_str, is_utf8, utf8, Reader};

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
        let first = crate::Raw::encode(&a).unwrap();
        let mut both = first.as_bytes().to_vec();
        both.extend_from_slice(crate::Raw::encode(&b).unwrap().as_bytes());
        let mut r = Reader::new(&both);
        prop_assert_eq!(r.raw().unwrap(), first.as_bytes());
        r.raw().unwrap();
        prop_assert!(r.finish().is_ok());
        // A truncated value is never taken for a complete one.
        if first.as_bytes().len() > 1 {
            let cut = &first.as_bytes()[..first.as_bytes().len() - 1];
            prop_assert!(crate::Raw::from_slice(cut).is_err());
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
        prop_assert_eq!(utf8(&bytes, 0).is_ok(), std_ok);
        prop_assert_eq!(is_utf8(&bytes), std_ok);
        prop_assert_eq!(ascii_str(&bytes).is_some(), bytes.is_ascii() && bytes.len() < 64);
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
        let mut r = Reader::new(&wire);
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
            prop_assert!(Reader::new(&wire[..wire.len() - 1]).str().is_err());
        }
    }
}
