//! Integration tests, grouped by concern. All inputs come from `fixtures/`.

mod support;

mod codec;
mod dialog;
mod framing;
mod hostile;
mod legacy;
mod roundtrip_props;
#[cfg(feature = "schema")]
mod schema;
mod snapshots;
