//! Per-dialog limiting.
/// x
#[derive(Debug)] pub struct EndpointSpec;
/// x
#[derive(Debug)] pub struct EndpointSpecs;
/// x
#[derive(Debug)] pub struct FrameVerdict;
/// x
pub fn dialog_verdicts() {}
/// x
pub fn capture_verdicts() {}
