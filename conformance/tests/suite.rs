//! Every case of the embedded suite as an ordinary test against the
//! built-in testee: `cargo test -p shuttle-conformance --test suite -- decode/golden`.

use libtest_mimic::{Arguments, Failed, Trial};
use shuttle_conformance::case::Suite;
use shuttle_conformance::runner::{run_case, Outcome};
use shuttle_conformance::testee::Builtin;

fn main() {
    let args = Arguments::from_args();
    let suite = Suite::embedded().expect("the embedded suite loads");
    let trials = suite
        .cases
        .into_iter()
        .enumerate()
        .map(|(i, case)| {
            let id = case.id.clone();
            let kind = case.body.kind();
            Trial::test(id, move || {
                let mut testee = Builtin::default();
                let r = run_case(&mut testee, &case, i as u64 + 1);
                match r.outcome {
                    Outcome::Passed => Ok(()),
                    Outcome::Skipped(_) | Outcome::NotApplicable(_) => Ok(()),
                    o => Err(Failed::from(format!(
                        "{}: {}",
                        case.title,
                        o.failure_text().unwrap_or("")
                    ))),
                }
            })
            .with_kind(kind)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
