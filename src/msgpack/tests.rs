//! The reader's skipping, the UTF-8 fast paths and the `Any` check,
//! against independent oracles (rmp-serde's encoder, the standard
//! library's UTF-8 check) and each other.

use proptest::prelude::*;

use super::{any_fast, ascii_str, check_any, is_utf8, utf8, Hash, Reader, Unhashable, MAX_DEPTH};

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

/// The exact check of [`check_any`] on `bytes` read as a map key: its
/// verdict, the error's text and where the reader stopped.
fn exact(bytes: &[u8]) -> (Result<Hash, String>, usize) {
    let mut r = Reader::new(bytes);
    let v = check_any(&mut r, true, 0, MAX_DEPTH).map_err(|e| e.msgspec_text());
    (v, r.pos())
}

#[test]
fn any_check_leaves_the_reader_after_the_value() {
    // [1, 2] followed by `true`.
    assert_eq!(exact(&[0x92, 0x01, 0x02, 0xc3]), (Ok(None), 3));
}

#[test]
fn any_check_reports_what_python_cannot_hash() {
    let dict = Ok(Some(Unhashable::Dict));
    assert_eq!(exact(&[0x80]).0, dict, "an empty dict");
    assert_eq!(exact(&[0x91, 0x80]).0, dict, "a tuple holding a dict");
    let ext = Ok(Some(Unhashable::Ext));
    assert_eq!(exact(&[0x92, 0x01, 0xd4, 0x05, 0x00]).0, ext, "an Ext");
    // A timestamp is a datetime, hashable; an array in a key a tuple.
    assert_eq!(exact(&[0xd6, 0xff, 0, 0, 0, 0]).0, Ok(None));
    assert_eq!(exact(&[0x92, 0x01, 0xa1, b'a']).0, Ok(None));
    // Outside a key an array is a list.
    let mut r = Reader::new(&[0x90]);
    assert_eq!(
        check_any(&mut r, false, 0, MAX_DEPTH),
        Ok(Some(Unhashable::List))
    );
    // msgspec reads a tuple of more than 16 items as a list first, so its
    // items are no longer keys: an array among them is a list.
    let mut long = vec![0xdc, 0, 17, 0x90];
    long.extend([0x01; 16]);
    assert_eq!(exact(&long).0, Ok(Some(Unhashable::List)));
    long[2] = 16;
    long.pop();
    assert_eq!(exact(&long).0, Ok(None));
}

#[test]
fn any_check_words_msgspec_errors() {
    // msgspec words malformed data without a path, however deep.
    // {"a": [1, {[{}]: 1}]}: the key of the inner map holds a dict.
    let bytes = [0x81, 0xa1, b'a', 0x92, 0x01, 0x81, 0x91, 0x80, 0x01];
    assert_eq!(
        exact(&bytes).0,
        Err("MessagePack data is malformed: map keys must be hashable (byte 9)".into())
    );
    // [1, "\xff"]: invalid UTF-8 in the second item.
    let (v, _) = exact(&[0x92, 0x01, 0xa1, 0xff]);
    assert_eq!(
        v,
        Err("'utf-8' codec can't decode byte 0xff in position 0: invalid start byte".into())
    );
    // One level past the limit, below two levels already open.
    let mut deep = vec![0x91; MAX_DEPTH - 1];
    deep.push(0x90);
    let mut r = Reader::new(&deep);
    assert!(check_any(&mut r, false, 1, MAX_DEPTH).is_ok());
    let mut r = Reader::new(&deep);
    let e = check_any(&mut r, false, 2, MAX_DEPTH).unwrap_err();
    assert_eq!(e.python_type(), "RecursionError");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Where the one-loop check says yes, the exact check agrees and stops
    /// at the same byte; on arbitrary bytes neither panics.
    #[test]
    fn any_fast_agrees_with_the_exact_check(bytes in prop::collection::vec(any::<u8>(), 0..48)) {
        let mut r = Reader::new(&bytes);
        let fast = any_fast::<false>(&mut r, 0, 4);
        let mut e = Reader::new(&bytes);
        let exact = check_any(&mut e, false, 0, 4);
        if fast {
            prop_assert!(exact.is_ok(), "{:?}", exact);
            prop_assert_eq!(r.pos(), e.pos());
        } else {
            prop_assert_eq!(r.pos(), 0);
        }
    }
}
