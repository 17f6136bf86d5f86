//! Payload-spec limiter: pld-vectors, typed captures, properties, MsgTypeError.

use shuttle::pld_spec::vectors::{run, VectorFile};

use crate::support::fixtures;

fn vector_file(name: &str) -> VectorFile {
    let text = std::fs::read_to_string(fixtures().join("vectors").join(name)).unwrap();
    VectorFile::from_json(&text).unwrap()
}

fn assert_all_agree(name: &str) {
    let file = vector_file(name);
    let report = run(&file);
    let bad: Vec<String> = report
        .disagreements()
        .map(|o| format!("  {}\n    msgspec: {}\n    ours:    {}", o.id, o.expected, o.got))
        .collect();
    assert!(
        bad.is_empty(),
        "{name}: {} of {} disagree:\n{}",
        bad.len(),
        report.total(),
        bad.join("\n")
    );
}

#[test]
fn shared_vectors_all_agree() {
    assert_all_agree("pld-vectors.json");
}

#[test]
fn extra_vectors_all_agree() {
    assert_all_agree("extra-pld-vectors.json");
}

/// The committed extra vectors are exactly what msgspec decides today
/// (`conformance/tools/gen_pld_vectors.py --check`). Skipped when python3
/// with msgspec is not installed, except under CI where that is an error.
#[test]
fn extra_vectors_are_msgspec_verdicts() {
    use std::process::Command;
    let root = env!("CARGO_MANIFEST_DIR");
    let has_msgspec = Command::new("python3")
        .args(["-c", "import msgspec"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_msgspec {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but `python3 -c 'import msgspec'` fails: install conformance/requirements.txt"
        );
        eprintln!("skipping: python3 with msgspec is not available");
        return;
    }
    let out = Command::new("python3")
        .args(["conformance/tools/gen_pld_vectors.py", "--check"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "extra vectors are stale:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
