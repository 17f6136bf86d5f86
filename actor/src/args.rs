//! Bounds on what an endpoint's keyword arguments may cost once decoded.

/// Counts the msgpack values of one encoded value (a container counts
/// itself and everything inside it), giving up with `Err(count)` as soon as
/// the count passes `cap`, so the walk itself costs at most `cap` steps.
/// Iterative (the message crate's header walker): nesting depth costs
/// nothing. Input that ends early or holds a reserved byte ends the count
/// there; decoding reports it afterwards.
pub(crate) fn count_values(bytes: &[u8], cap: usize) -> Result<usize, usize> {
    let mut count = 0;
    for _ in shuttle::msgpack::headers(bytes) {
        count += 1;
        if count > cap {
            return Err(count);
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::count_values;

    fn enc(v: &rmpv::Value) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, v).unwrap();
        out
    }

    /// The count rmpv's own tree gives.
    fn tree_count(v: &rmpv::Value) -> usize {
        let mut n = 0;
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            n += 1;
            match v {
                rmpv::Value::Array(a) => stack.extend(a.iter()),
                rmpv::Value::Map(m) => m.iter().for_each(|(k, v)| stack.extend([k, v])),
                _ => {}
            }
        }
        n
    }

    #[test]
    fn counts_every_kind_of_value_as_rmpv_does() {
        use rmpv::Value as V;
        let v = V::Map(vec![
            (V::from("x"), V::Array(vec![V::Nil; 70_000])),
            (V::from("s"), V::from("y".repeat(70_000))),
            (V::from("b"), V::Binary(vec![1; 300])),
            (
                V::from("i"),
                V::Array(vec![
                    V::from(-1),
                    V::from(300),
                    V::from(u64::MAX),
                    V::from(i64::MIN),
                ]),
            ),
            (V::from("f"), V::Array(vec![V::F32(0.5), V::F64(0.25)])),
            (
                V::from("e"),
                V::Array((0..20).map(|n| V::Ext(3, vec![0; n])).collect()),
            ),
            (
                V::from("m"),
                V::Map(
                    (0..20_000)
                        .map(|i| (V::from(i), V::Boolean(true)))
                        .collect(),
                ),
            ),
        ]);
        let bytes = enc(&v);
        assert_eq!(count_values(&bytes, usize::MAX), Ok(tree_count(&v)));
    }

    #[test]
    fn gives_up_just_past_the_cap() {
        let v = rmpv::Value::Array(vec![rmpv::Value::Nil; 1000]);
        let bytes = enc(&v);
        assert_eq!(count_values(&bytes, 1001), Ok(1001));
        assert_eq!(count_values(&bytes, 1000), Err(1001));
        assert_eq!(count_values(&bytes, 10), Err(11));
    }

    #[test]
    fn truncated_and_hostile_headers_end_the_count_without_panicking() {
        // An array announcing 2**32-1 elements with none present.
        assert_eq!(
            count_values(&[0xdd, 0xff, 0xff, 0xff, 0xff], usize::MAX),
            Ok(1)
        );
        // A str32 announcing 4 GiB.
        assert_eq!(
            count_values(&[0xdb, 0xff, 0xff, 0xff, 0xff], usize::MAX),
            Ok(1)
        );
        // A cut header (not a value yet), a reserved byte, nothing at all.
        assert_eq!(count_values(&[0xdc, 0x01], usize::MAX), Ok(0));
        assert_eq!(count_values(&[0x91, 0xc1], usize::MAX), Ok(1));
        assert_eq!(count_values(&[], usize::MAX), Ok(0));
    }
}
