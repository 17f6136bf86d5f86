//! MTE
/// x
#[derive(Debug)] pub struct MsgTypeError;
/// x
#[derive(Debug)] pub struct MsgTypeErrorView;
