//! Integration tests, grouped by concern. All inputs come from `fixtures/`.

mod support;

mod codec;
mod framing;
mod hostile;
mod pld_spec;
mod roundtrip_props;
mod snapshots;
