//! A real tractor program driving `shuttle serve` and the Python daemon side by side.

#[allow(unused_imports)]
use super::*;
