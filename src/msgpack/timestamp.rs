//! The timestamp extension (ext `-1`), checked as msgspec checks it when it
//! builds a `datetime`.

use crate::error::{DecodeError, ErrorKind};

/// Smallest epoch second msgspec turns into a `datetime` (0001-01-01).
const EPOCH_MIN: i64 = -62_135_596_800;
/// 10000-01-01: the first second Python's `datetime` cannot hold.
const EPOCH_YEAR_10000: i64 = 253_402_300_800;

/// Checks a msgpack timestamp (ext `-1`) as msgspec does when it builds a
/// `datetime` from it.
pub(crate) fn check_timestamp(data: &[u8]) -> Result<(), DecodeError> {
    let (secs, nanos): (i64, u32) = match data.len() {
        4 => (
            u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as i64,
            0,
        ),
        8 => {
            let v = u64::from_be_bytes([
                data[0], data[1], data[2], data[3], data[4], data[5], data[6], data[7],
            ]);
            ((v & 0x3_ffff_ffff) as i64, (v >> 34) as u32)
        }
        12 => (
            i64::from_be_bytes([
                data[4], data[5], data[6], data[7], data[8], data[9], data[10], data[11],
            ]),
            u32::from_be_bytes([data[0], data[1], data[2], data[3]]),
        ),
        _ => {
            return Err(DecodeError::new(ErrorKind::Other(
                "Invalid MessagePack timestamp".into(),
            )))
        }
    };
    if nanos >= 1_000_000_000 {
        return Err(DecodeError::new(ErrorKind::Other(
            "Invalid MessagePack timestamp: nanoseconds out of range".into(),
        )));
    }
    if !(EPOCH_MIN..=EPOCH_YEAR_10000).contains(&secs) {
        return Err(DecodeError::new(ErrorKind::Other(
            "Timestamp is out of range ".into(),
        )));
    }
    let rounded = secs + i64::from((nanos + 500) / 1000 >= 1_000_000);
    if rounded >= EPOCH_YEAR_10000 {
        return Err(DecodeError::new(ErrorKind::ValueError(
            "year 10000 is out of range".into(),
        )));
    }
    Ok(())
}
