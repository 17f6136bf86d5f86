//! Checks on the project itself: the declared minimum Rust version covers
//! every locked dependency.

use std::process::Command;

mod support;

/// `1.89` and `1.89.0` alike, as (major, minor, patch).
fn version(v: &str) -> (u64, u64, u64) {
    let mut parts = v.split('.').map(|p| p.parse().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

#[test]
fn the_declared_rust_version_covers_every_locked_dependency() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(support::repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let (needed, by) = packages
        .iter()
        .filter(|p| !members.contains(&p["id"].as_str().unwrap()))
        .filter_map(|p| Some((version(p["rust_version"].as_str()?), p["name"].as_str()?)))
        .max()
        .unwrap();
    for p in packages
        .iter()
        .filter(|p| members.contains(&p["id"].as_str().unwrap()))
    {
        let declared = p["rust_version"]
            .as_str()
            .unwrap_or_else(|| panic!("{} declares no rust-version", p["name"]));
        assert!(
            version(declared) >= needed,
            "{} declares rust-version {declared}, but the locked {by} needs {needed:?}: raise [workspace.package] rust-version",
            p["name"]
        );
    }
}

fn shuttle(args: &[&str]) -> std::process::Output {
    support::bin().args(args).output().unwrap()
}

fn readme() -> String {
    std::fs::read_to_string(support::repo().join("README.md")).unwrap()
}

/// The subcommands `shuttle --help` lists (without `help`).
fn subcommands() -> Vec<String> {
    let help = String::from_utf8(shuttle(&["--help"]).stdout).unwrap();
    let list = help
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    list.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn the_readme_lists_every_subcommand_and_the_exit_statuses_of_help() {
    let readme = readme();
    let subs = subcommands();
    assert!(subs.len() >= 10, "{subs:?}");
    for sub in &subs {
        assert!(
            readme.contains(&format!("| `shuttle {sub}")),
            "README's table of commands has no row for `shuttle {sub}`"
        );
    }
    let help = String::from_utf8(shuttle(&["--help"]).stdout).unwrap();
    let status = &help[help.find("Exit status:").unwrap()..];
    assert!(
        readme.contains(status.trim_end()),
        "README's exit statuses differ from --help:\n{status}"
    );
}

#[test]
fn completions_and_manual_pages_cover_every_subcommand() {
    let subs = subcommands();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = shuttle(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        for sub in &subs {
            assert!(script.contains(sub.as_str()), "{shell} script lacks {sub}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let man = dir.path().join("man");
    let out = shuttle(&["man", "--out", man.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    for page in
        std::iter::once("shuttle".to_string()).chain(subs.iter().map(|s| format!("shuttle-{s}")))
    {
        let text = std::fs::read_to_string(man.join(format!("{page}.1")))
            .unwrap_or_else(|e| panic!("{page}.1: {e}"));
        assert!(
            text.starts_with(".ie") || text.contains(".TH"),
            "{page}.1: {text}"
        );
    }
    // A folder whose parent is missing is refused, not created.
    let out = shuttle(&["man", "--out", "/nonexistent/dir/man"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

/// The `cargo run ... -- ARGS` lines of the README's shell blocks, with
/// whether each is started in the background (`&`).
fn readme_commands() -> Vec<(String, bool)> {
    const PREFIX: &str = "cargo run --release -p shuttle-conformance -- ";
    let mut in_sh = false;
    let mut out = Vec::new();
    for line in readme().lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if let Some(rest) = line.trim().strip_prefix(PREFIX).filter(|_| in_sh) {
            let rest = rest.split(" #").next().unwrap().trim();
            match rest.strip_suffix('&') {
                Some(bg) => out.push((bg.trim().to_string(), true)),
                None => out.push((rest.to_string(), false)),
            }
        }
    }
    out
}

#[test]
fn the_readme_commands_run_as_written() {
    let commands = readme_commands();
    assert!(commands.len() >= 5, "{commands:?}");
    let mut background = Vec::new();
    for (args, bg) in &commands {
        // The arguments as the shell splits them (quotes included).
        let line = format!("exec {} {args}", env!("CARGO_BIN_EXE_shuttle"));
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &line]).current_dir(support::repo());
        if *bg {
            let mut child = cmd
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            // Wait until it serves.
            let mut first = String::new();
            std::io::BufRead::read_line(
                &mut std::io::BufReader::new(child.stdout.take().unwrap()),
                &mut first,
            )
            .unwrap();
            assert!(first.starts_with("listening on "), "{args}: {first:?}");
            background.push(child);
            continue;
        }
        let out = cmd.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "README command `shuttle {args}` failed ({}):\n{text}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.lines()
                .last()
                .is_some_and(|l| l.contains(" passed, 0 failed")),
            "`shuttle {args}`:\n{text}"
        );
    }
    for mut child in background {
        let _ = child.kill();
        let _ = child.wait();
    }
}
