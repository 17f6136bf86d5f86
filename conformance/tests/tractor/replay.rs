//! `shuttle replay` against the Python tractor daemon.

#[allow(unused_imports)]
use super::*;
