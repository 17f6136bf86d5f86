//! Placeholder for msgspec's parsers of the str forms (replaced by the
//! full parsers).
#![allow(dead_code)]

/// Whether a parsed datetime or time carries a UTC offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tz {
    Naive,
    Aware,
}

pub(crate) fn datetime(_s: &[u8]) -> Result<Tz, &'static str> {
    Err("Invalid RFC3339 encoded datetime")
}
pub(crate) fn date(_s: &[u8]) -> Result<(), &'static str> {
    Err("Invalid RFC3339 encoded date")
}
pub(crate) fn time(_s: &[u8]) -> Result<Tz, &'static str> {
    Err("Invalid RFC3339 encoded time")
}
pub(crate) fn duration(_s: &[u8]) -> Result<(), &'static str> {
    Err("Invalid ISO8601 duration")
}
pub(crate) fn uuid(_s: &[u8]) -> Result<(), &'static str> {
    Err("Invalid UUID")
}
pub(crate) fn uuid_bytes(b: &[u8]) -> Result<(), &'static str> {
    if b.len() == 16 {
        Ok(())
    } else {
        Err("Invalid UUID bytes")
    }
}
pub(crate) fn decimal(_s: &str) -> Result<(), &'static str> {
    Err("Invalid decimal string")
}
