//! Static limiting.
use crate::{DecodeError, Raw};
/// Decodes.
pub fn decode_typed<T>(_raw: &Raw<'_>) -> Result<T, DecodeError> { todo!() }
