//! `shuttle attack` against the Python tractor daemon: every resource
//! attack ends as `conformance/peers/python/attack-expected.txt` says
//! (which ones kill tractor, and of what), and the rest are survived.

use super::*;

const EXPECTED: &str = "conformance/peers/python/attack-expected.txt";

#[test]
fn resource_attacks_end_against_python_tractor_as_listed() {
    let Some(t) = tractor() else { return };
    let listen = format!("tcp://127.0.0.1:{}", free_port());
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("attack.json");
    let out = shuttle()
        .args([
            "attack",
            "--connect",
            &listen,
            "--peer-command",
            &python_peer_command(t, &listen),
            "--expected-failures",
            EXPECTED,
            "--timeout-ms",
            "15000",
            "--json",
            json.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    let listed: Vec<String> = std::fs::read_to_string(repo().join(EXPECTED))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("attack/"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        shuttle_conformance::live::attack::CASES.len()
    );
    for r in results {
        let id = r["id"].as_str().unwrap();
        let verdict = r["report"]["verdict"].as_str().unwrap();
        if listed.iter().any(|l| l == id) {
            assert_eq!(r["expected"], true, "{id}: {r}\n{text}");
            assert_ne!(verdict, "survived", "{id}: {r}");
        } else {
            assert_eq!(verdict, "survived", "{id}: {r}\n{text}");
        }
    }
    assert!(
        text.trim_end().ends_with(&format!("{} not as expected", 0)),
        "{text}"
    );
}
