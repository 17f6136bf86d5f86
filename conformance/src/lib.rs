//! The conformance harness of the tractor shuttle protocol.
//!
//! * [`case`]: the case format (`shuttle-cases/1`) and the embedded suite;
//! * [`protocol`]: the testee protocol (`shuttle-testee/1`);
//! * [`testee`]: the built-in testee and subprocess testees;
//! * [`runner`]: running cases and judging answers;
//! * [`report`]: JSON and JUnit reports;
//! * [`import`]: turning captures and vectors into cases;
//! * [`live`]: live peer mode (`shuttle replay`, `shuttle serve`).

pub mod case;
pub mod import;
pub mod live;
pub mod protocol;
pub mod report;
pub mod runner;
pub mod testee;
