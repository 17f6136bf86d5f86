//! Integration tests, grouped by concern. All inputs come from `fixtures/`.

mod support;

mod codec;
mod dialog;
mod framing;
mod hostile;
mod layers;
mod legacy;
mod pld_spec;
mod roundtrip_props;
mod schema;
mod snapshots;
