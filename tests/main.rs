//! Integration tests, grouped by concern. All inputs come from `fixtures/`.

mod support;

mod codec;
mod framing;
mod hostile;
mod roundtrip_props;
#[cfg(feature = "schema")]
mod schema;
mod snapshots;
