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
