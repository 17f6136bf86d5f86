//! Loading fixtures.

use std::path::{Path, PathBuf};

use shuttle_conformance::capture::{Capture, DecodedFrame};

/// The repository's `fixtures/` folder.
pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every capture of a folder under `fixtures/captures/`, sorted by name.
pub(crate) fn captures(dir: &str) -> Vec<(String, Capture)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures().join("captures").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("index.json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no captures in {dir}");
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let cap = Capture::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_stem().unwrap().to_string_lossy().into_owned(), cap)
        })
        .collect()
}

/// Every frame of every current-protocol capture: (label, frame).
pub(crate) fn current_frames() -> Vec<(String, DecodedFrame)> {
    let mut out = Vec::new();
    for (name, cap) in captures("python-tractor") {
        for ch in 0..cap.channels.len() {
            for (i, f) in cap.channel_frames(ch).unwrap().into_iter().enumerate() {
                out.push((format!("{name} ch{ch} frame {i}"), f));
            }
        }
    }
    out
}

/// Hex to bytes.
pub(crate) fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim()).unwrap()
}

/// A dynamic msgpack value's encoding (rmpv writes the smallest forms).
pub(crate) fn value_bytes(v: &rmpv::Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).unwrap();
    out
}
