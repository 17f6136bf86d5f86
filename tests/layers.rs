//! The message crate's modules depend one way: each may use only the
//! layers below it (the order is written in the crate docs, "Layout").
//! Read from the source: every `crate::` path outside comments and unit
//! tests, in every file of a top-level module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules of `src/`, lowest first, by layer.
const LAYERS: &[&[&str]] = &[
    &["error"],
    &["msgpack"],
    &["value"],
    &["raw"],
    &["json", "python"],
    &["msg"],
    &["frame", "schema", "pld_spec"],
    &["dialog"],
    &["legacy"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Every `(from, to)` module pair with the lines (`file:line: text`) that
/// make it.
fn edges() -> BTreeMap<(String, String), Vec<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    // Items re-exported at the root (`crate::Msg`) belong to their module.
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for line in lib.lines().filter(|l| l.starts_with("pub use ")) {
        let rest = &line["pub use ".len()..];
        let (module, items) = rest.split_once("::").unwrap();
        for item in items.split(|c: char| !c.is_alphanumeric() && c != '_') {
            if !item.is_empty() {
                owner.insert(item.to_string(), module.to_string());
            }
        }
    }
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_string_lossy().to_string();
        if module == "lib" {
            continue;
        }
        assert!(
            layer_of(&module).is_some(),
            "src/{module} is in no layer: add it to LAYERS here and to the crate docs"
        );
        let files = if path.is_dir() {
            rust_files(&path)
        } else {
            vec![path.clone()]
        };
        for file in files {
            if file.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                let mut targets = BTreeSet::new();
                for (at, _) in code.match_indices("crate::") {
                    let rest = &code[at + "crate::".len()..];
                    if let Some(brace) = rest.strip_prefix('{') {
                        for item in brace.split(|c: char| !c.is_alphanumeric() && c != '_') {
                            targets.insert(item.to_string());
                        }
                    } else {
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        targets.insert(name);
                    }
                }
                for t in targets {
                    let to = if layer_of(&t).is_some() {
                        t
                    } else if let Some(m) = owner.get(&t) {
                        m.clone()
                    } else {
                        continue;
                    };
                    if to != module {
                        let at = format!("{}:{}: {}", file.display(), i + 1, line.trim());
                        out.entry((module.clone(), to)).or_default().push(at);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn modules_depend_only_on_lower_layers() {
    let edges = edges();
    assert!(
        edges.contains_key(&("msg".into(), "msgpack".into())),
        "the scan found no edge it must find: {edges:?}"
    );
    let mut wrong = Vec::new();
    for ((from, to), lines) in &edges {
        let (f, t) = (layer_of(from).unwrap(), layer_of(to).unwrap());
        if t < f {
            continue;
        }
        wrong.extend(lines.iter().map(|l| format!("{from} -> {to}: {l}")));
    }
    assert!(
        wrong.is_empty(),
        "dependencies against the layers:\n{}",
        wrong.join("\n")
    );
}
