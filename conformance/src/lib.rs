//! The conformance harness of the tractor shuttle protocol.
//!
//! * [`case`]: the case format (`shuttle-cases/1`) and the embedded suite;
//! * [`protocol`]: the testee protocol (`shuttle-testee/1`);
//! * [`testee`]: the built-in testee and subprocess testees;
//! * [`runner`]: running cases and judging answers;
//! * [`report`]: JSON and JUnit reports;
//! * [`import`]: turning captures and vectors into cases;
//! * [`live`]: live peer mode (`shuttle replay`, `shuttle serve`);
//! * [`record`]: `shuttle record`, captures of a running tractor program.

pub mod capture;
pub mod case;
pub mod children;
pub mod diff;
pub mod docs;
pub mod import;
pub mod live;
pub mod protocol;
pub mod record;
pub mod report;
pub mod runner;
pub mod testee;
pub mod vectors;

/// Every file of `spec/` that `shuttle schema` writes: the message crate's
/// schemas and their rendered docs, plus the schemas of the capture
/// format, the case format, the testee protocol and the run report.
pub fn spec_files() -> Vec<(String, String)> {
    use shuttle::schema::schema_for;
    docs::generate_with(vec![
        ("Capture".into(), schema_for::<capture::Capture>()),
        ("CaseFile".into(), schema_for::<case::CaseFile>()),
        ("TesteeRequest".into(), schema_for::<protocol::Request>()),
        ("TesteeHello".into(), schema_for::<protocol::Hello>()),
        ("TesteeResponse".into(), schema_for::<protocol::Response>()),
        ("RunReport".into(), schema_for::<report::Report>()),
    ])
}
