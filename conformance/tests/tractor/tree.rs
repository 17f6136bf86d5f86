//! Rust actors in live tractor trees (`conformance/peers/python/tree.py`):
//! `shuttle serve --registrar` as the registrar of a Python root and its
//! children; a Rust actor registered with a Python registrar, found and
//! called by name; a Rust parent of Python children. Every channel the
//! Rust side sees is recorded and must pass `shuttle check`, and no
//! process of a tree may outlive its test (they are counted by a marker
//! in their environment).

use super::*;

use std::path::Path;

/// Marks every process of a test's tree by its working folder, a fresh
/// one each test: children inherit it, and unlike the environment (which
/// tractor's `setproctitle` overwrites in `/proc/PID/environ`) it stays
/// readable in `/proc/PID/cwd`. Dropped, it kills (SIGKILL) whatever
/// still works there, so that a failed test leaves nothing behind either.
struct Mark(tempfile::TempDir);

impl Mark {
    fn new() -> Mark {
        Mark(
            tempfile::Builder::new()
                .prefix("shuttle-tree-")
                .tempdir()
                .unwrap(),
        )
    }

    fn dir(&self) -> &Path {
        self.0.path()
    }

    /// The pids of live processes working in the marked folder.
    fn marked(&self) -> Vec<u32> {
        let mut pids = vec![];
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return pids;
        };
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if std::fs::read_link(e.path().join("cwd")).is_ok_and(|d| d == self.dir()) {
                pids.push(pid);
            }
        }
        pids.sort();
        pids
    }

    /// Waits (at most 20 s) until no process is marked; the pids left.
    fn survivors(&self) -> Vec<u32> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = self.marked();
            if left.is_empty() || Instant::now() >= deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        for pid in self.marked() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

/// The recordings in `dir`, once their number stopped growing (a channel
/// is written when it closes).
fn recordings(dir: &Path) -> Vec<PathBuf> {
    let list = || -> Vec<PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        v.sort();
        v
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = list();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = list();
        if now.len() == last.len() || Instant::now() >= deadline {
            return now;
        }
        last = now;
    }
}

/// Every recording in `dir` passes `shuttle check`; how many there were.
pub(crate) fn check_recorded(dir: &Path) -> usize {
    let recorded = recordings(dir);
    assert!(
        !recorded.is_empty(),
        "nothing recorded in {}",
        dir.display()
    );
    let out = shuttle().arg("check").args(&recorded).output().unwrap();
    let check = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "shuttle check failed:\n{check}");
    assert!(
        check
            .lines()
            .last()
            .is_some_and(|l| l == format!("{} passed, 0 failed", recorded.len())),
        "{check}"
    );
    recorded.len()
}

/// Runs `tree.py ARGS` to its end (at most 120 s), marked with `mark`;
/// its stdout, after asserting it succeeded.
fn tree_py(t: &Tractor, mark: &Mark, args: &[&str]) -> String {
    let mut cmd = t.python();
    cmd.arg(repo().join("conformance/peers/python/tree.py"))
        .args(args)
        .current_dir(mark.dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = Proc(cmd.spawn().unwrap());
    let stdout = child.0.stdout.take().unwrap();
    let stderr = child.0.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let status = child.wait_exit(Duration::from_secs(120));
    drop(child);
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(
        status.is_some_and(|s| s.success()),
        "tree.py {args:?} failed ({status:?}):\n{out}\n{err}"
    );
    out
}

fn has_line(out: &str, line: &str) {
    assert!(
        out.lines().any(|l| l == line),
        "no line {line:?} in:\n{out}"
    );
}

#[test]
fn a_python_root_and_its_children_use_shuttle_serve_as_their_registrar() {
    python_root_on_a_rust_registrar("tcp://127.0.0.1:0");
}

#[test]
fn a_python_root_uses_a_rust_registrar_over_unix_sockets() {
    let Some(t) = tractor() else { return };
    let sock = t.runtime_dir().join("rust-registrar.sock");
    python_root_on_a_rust_registrar(&format!("uds://{}", sock.display()));
}

fn python_root_on_a_rust_registrar(listen: &str) {
    let Some(t) = tractor() else { return };
    let mark = Mark::new();
    let record = tempfile::tempdir().unwrap();
    let (rust, addr) = serve(
        listen,
        &["--registrar", "--record", record.path().to_str().unwrap()],
    );
    let out = tree_py(t, &mark, &["use-registrar", "--registry", &addr]);
    // The root was accepted (a non-registrar address fails it), and the
    // two children found each other through the Rust registrar.
    for line in [
        "ok root-started py-root",
        // The children work in the marked folder: the count below sees them.
        "ok children-marked 2",
        // The registrar lists itself, as tractor's does.
        "registry py-root shuttle",
        "ok wait_for_actor alpha",
        "ok find_actor alpha",
        "ok get_registry alpha beta py-root shuttle",
        "registry beta py-root shuttle",
        "ok alpha-forgotten",
        "ok find_actor-none",
        "ok root-exited",
    ] {
        has_line(&out, line);
    }
    assert_eq!(
        mark.survivors(),
        Vec::<u32>::new(),
        "processes outlived the tree"
    );
    // Probe, registrations, lookups and unregistrations: every channel
    // passes the checks.
    let n = check_recorded(record.path());
    assert!(n >= 8, "only {n} channels recorded");
    let names: Vec<String> = recordings(record.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n.ends_with("-registry-probe.json")),
        "{names:?}"
    );
    drop(rust);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[derive(serde::Deserialize)]
struct Add {
    x: i64,
    y: i64,
}

#[derive(serde::Deserialize)]
struct N {
    n: i64,
}

#[test]
fn python_finds_a_rust_actor_through_a_python_registrar_and_streams_from_it() {
    use futures_util::stream;
    use shuttle_actor::{Actor, Address, EndpointError};
    use shuttle_conformance::live::record::Recorder;

    let Some(t) = tractor() else { return };
    let mark = Mark::new();
    // A Python root that is its own registrar.
    let mut cmd = t.python();
    cmd.arg(repo().join("conformance/peers/python/tree.py"))
        .args([
            "registrar",
            "--listen",
            &format!("tcp://127.0.0.1:{}", free_port()),
        ])
        .current_dir(mark.dir());
    let (mut registrar, reg_addr) = spawn_listening(cmd);
    let reg: Address = reg_addr.parse().unwrap();
    // The marker finds the tree's processes (so that finding none at the
    // end means something).
    assert_eq!(mark.marked(), vec![registrar.0.id()]);

    // One folder per actor: each numbers its own channels.
    let record = tempfile::tempdir().unwrap();
    let record_client = tempfile::tempdir().unwrap();
    let recorder = Recorder::new(record.path().to_path_buf(), "tcp");
    let rt = runtime();
    let worker = Actor::builder("rust-worker")
        .func("__main__", "add", |a: Add| async move {
            Ok::<_, EndpointError>(a.x + a.y)
        })
        .stream("__main__", "counter", |a: N| {
            stream::iter((0..a.n).map(Ok::<i64, EndpointError>))
        })
        .register_with(reg.clone())
        .tap(recorder.clone())
        .build();
    let listener = rt
        .block_on(shuttle_actor::Listener::bind(
            &"tcp://127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let served = rt.spawn({
        let worker = worker.clone();
        async move { worker.serve(listener).await }
    });
    // Registered before it accepts: the registrar knows it already.
    let client = Actor::builder("rust-client")
        .tap(Recorder::new(record_client.path().to_path_buf(), "tcp"))
        .build();
    let found = rt.block_on(async {
        let p = client.connect(&reg).await.unwrap();
        let mut found = None;
        for _ in 0..200 {
            found = p.find_actor("rust-worker").await.unwrap();
            if found.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        p.close().await;
        found
    });
    let found = found.expect("rust-worker registered");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(Address::from_unwrapped(&found[0]).is_some(), "{found:?}");

    // A Python program finds it by name, calls and streams from it.
    let out = std::thread::scope(|s| {
        let py = s.spawn(|| tree_py(t, &mark, &["find-rust", "--registry", &reg_addr]));
        // Keep the Rust actor served meanwhile.
        rt.block_on(async {
            while !py.is_finished() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        py.join().unwrap()
    });
    for line in [
        "ok find_actor rust-worker",
        "ok add 42",
        "ok stream 0 1 2",
        "ok root-exited",
    ] {
        has_line(&out, line);
    }
    assert!(
        out.lines()
            .any(|l| l.starts_with("registry ") && l.contains("rust-worker")),
        "{out}"
    );

    // It leaves: cancelled, it unregisters, and the registrar forgets it.
    worker.cancel();
    rt.block_on(async { served.await.unwrap().unwrap() });
    rt.block_on(async {
        let p = client.connect(&reg).await.unwrap();
        assert_eq!(p.find_actor("rust-worker").await.unwrap(), None);
        assert!(p.cancel_actor().await.unwrap());
        p.closed().await;
    });
    let status = registrar.wait_exit(Duration::from_secs(20));
    assert!(
        status.is_some_and(|s| s.success()),
        "the Python registrar did not exit after cancel_actor: {status:?}"
    );
    assert_eq!(
        mark.survivors(),
        Vec::<u32>::new(),
        "processes outlived the test"
    );
    drop(rt);
    // The worker's channels: registering, the Python finder's two,
    // unregistering; the client's: two to the registrar.
    let n = check_recorded(record.path());
    assert!(n >= 4, "only {n} channels of the worker recorded");
    assert_eq!(check_recorded(record_client.path()), 2);
}

#[derive(serde::Serialize)]
struct Relay<'a> {
    peer: &'a str,
    values: Vec<i64>,
}

#[test]
fn a_rust_root_spawns_python_children_that_stream_to_each_other_then_cancels_the_tree() {
    use shuttle_actor::{Actor, Error, NoArgs, SpawnOptions};
    use shuttle_conformance::live::record::Recorder;

    let Some(t) = tractor() else { return };
    let mark = Mark::new();
    let record = tempfile::tempdir().unwrap();
    let rt = runtime();
    // The root is the tree's registrar, as a tractor root is by default.
    let root = Actor::builder("rust-root")
        .registrar()
        .tap(Recorder::new(record.path().to_path_buf(), "tcp"))
        .build();
    let listener = rt
        .block_on(shuttle_actor::Listener::bind(
            &"tcp://127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let addr = listener.local_addr();
    let served = rt.spawn({
        let root = root.clone();
        async move { root.serve(listener).await }
    });
    let opts = SpawnOptions::new(&t.python)
        .enable_module("tree", repo().join("conformance/peers/python/tree.py"))
        .current_dir(mark.dir())
        .env("XDG_RUNTIME_DIR", t.runtime_dir())
        .env("PYTHONUNBUFFERED", "1")
        .env("NO_COLOR", "1");

    let exits = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(120), async {
            let mut nursery = root.open_nursery();
            let left = nursery.start_actor("left", &opts).await.unwrap();
            let right = nursery.start_actor("right", &opts).await.unwrap();
            assert_eq!(left.peer().name, "left");
            let pids: Vec<u32> = nursery.children().iter().filter_map(|c| c.pid()).collect();
            let live = mark.marked();
            let mut want = pids.clone();
            want.sort();
            assert_eq!(live, want, "the marker finds exactly the two children");

            // Calls over the spawn channel.
            let me: String = right
                .run_from_ns("tree", "whoami", &NoArgs {})
                .await
                .unwrap();
            assert_eq!(me, "right");
            // The children found each other through the Rust registrar
            // and stream between them through a context.
            let doubled: Vec<i64> = left
                .run_from_ns(
                    "tree",
                    "relay",
                    &Relay {
                        peer: "right",
                        values: vec![1, 2, 3],
                    },
                )
                .await
                .unwrap();
            assert_eq!(doubled, [2, 4, 6]);
            // The parent streams through a child's context too.
            let (mut ctx, first): (_, String) = left
                .open_context("tree", "doubler", &NoArgs {})
                .await
                .unwrap();
            assert_eq!(first, "left");
            ctx.open_stream();
            ctx.send(&21).await.unwrap();
            assert_eq!(ctx.recv::<i64>().await.transpose().unwrap(), Some(42));
            ctx.close_stream().await.unwrap();
            assert_eq!(ctx.result::<String>().await.unwrap(), "done");
            let names: Vec<String> = root
                .registry()
                .unwrap()
                .entries()
                .into_iter()
                .map(|e| e.name)
                .collect();
            assert!(
                names.contains(&"left".to_string()) && names.contains(&"right".to_string()),
                "{names:?}"
            );

            // A child killed with SIGKILL: its portal fails, its channel
            // closes, and the nursery reaps it and reports the signal.
            let victim = nursery.start_actor("victim", &opts).await.unwrap();
            // It answers once registered (a child registers before it
            // serves its parent's calls).
            let me: String = victim
                .run_from_ns("tree", "whoami", &NoArgs {})
                .await
                .unwrap();
            assert_eq!(me, "victim");
            let pid = nursery.children().last().unwrap().pid().unwrap();
            let killed = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap();
            assert!(killed.success());
            tokio::time::timeout(Duration::from_secs(20), victim.closed())
                .await
                .expect("the dead child's channel closes");
            match victim
                .run_from_ns::<_, String>("tree", "whoami", &NoArgs {})
                .await
            {
                Err(Error::ChannelClosed) => {}
                other => panic!("a call to a dead child: {other:?}"),
            }

            nursery.cancel(Duration::from_secs(10)).await
        })
        .await
        .expect("the whole tree within 120 s")
    });
    assert_eq!(exits.len(), 3);
    for e in &exits[..2] {
        assert!(e.cancel_acked, "{e:?}");
        assert!(!e.killed, "{e:?}");
        assert!(e.status.is_some_and(|s| s.success()), "{e:?}");
    }
    assert_eq!(exits[2].uid.name, "victim");
    assert_eq!(exits[2].signal(), Some(9), "{:?}", exits[2]);
    assert!(!exits[2].cancel_acked);
    assert_eq!(
        mark.survivors(),
        Vec::<u32>::new(),
        "processes outlived the tree"
    );
    // The cancelled children unregistered on their way out; the killed
    // one could not (tractor's registrar keeps such an entry too, until
    // a `delete_addr`).
    let names = || -> Vec<String> {
        root.registry()
            .unwrap()
            .entries()
            .into_iter()
            .map(|e| e.name)
            .collect()
    };
    assert_eq!(names(), ["rust-root", "victim"]);
    // A Python program looking the dead child up cannot connect to it and
    // has the Rust registrar delete the stale address.
    let out = std::thread::scope(|s| {
        let py = s.spawn(|| {
            tree_py(
                t,
                &mark,
                &[
                    "find-stale",
                    "--registry",
                    &addr.to_string(),
                    "--name",
                    "victim",
                ],
            )
        });
        rt.block_on(async {
            while !py.is_finished() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        py.join().unwrap()
    });
    has_line(&out, "ok find_actor-stale-none");
    has_line(&out, "registry py-finder rust-root");
    assert_eq!(names(), ["rust-root"]);
    root.cancel();
    rt.block_on(async { served.await.unwrap().unwrap() });
    drop(rt);
    // The spawn channels (Aid, Aid, SpawnSpec, calls, self.cancel), the
    // children's registrations and the siblings' lookups pass the checks.
    let n = check_recorded(record.path());
    assert!(n >= 9, "only {n} channels recorded");

    // The SpawnSpec the Rust parent sent has the fields and runtime
    // variables of the one Python tractor's parent sent in the captures.
    let ours = recordings(record.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("-left.json"))
        .find_map(|p| spawn_spec_of(&p))
        .expect("a SpawnSpec on a channel with left");
    let theirs =
        spawn_spec_of(&repo().join("fixtures/captures/python-tractor/spawn_teardown.json"))
            .expect("a SpawnSpec in the spawn_teardown capture");
    assert_eq!(ours.0, theirs.0, "runtime variables");
    assert_eq!(ours.1, theirs.1, "reg_addrs, bind_addrs");
}

/// From the first `SpawnSpec` in a `tractor-capture/1` file: the keys of
/// its `_runtime_vars` in order, and (number of `reg_addrs`, whether
/// `bind_addrs` is nil).
fn spawn_spec_of(file: &Path) -> Option<(Vec<String>, (usize, bool))> {
    use base64::Engine as _;
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    for ch in doc["channels"].as_array()? {
        for f in ch["frames"].as_array()? {
            let body = base64::engine::general_purpose::STANDARD
                .decode(f["msgpack_b64"].as_str()?)
                .ok()?;
            if let Ok(shuttle::Msg::SpawnSpec(spec)) = shuttle::Msg::decode(&body) {
                let vars = match spec.runtime_vars.raw().to_value().ok()?.into_rmpv() {
                    rmpv::Value::Map(kv) => kv
                        .iter()
                        .filter_map(|(k, _)| k.as_str().map(str::to_string))
                        .collect(),
                    _ => return None,
                };
                return Some((vars, (spec.reg_addrs.len(), spec.bind_addrs.is_none())));
            }
        }
    }
    None
}

#[test]
fn a_cancelled_rust_root_cancels_its_python_children_which_exit_by_themselves() {
    use shuttle_actor::{Actor, NoArgs, SpawnOptions};
    use shuttle_conformance::live::record::Recorder;

    let Some(t) = tractor() else { return };
    let mark = Mark::new();
    let record = tempfile::tempdir().unwrap();
    let rt = runtime();
    let root = Actor::builder("rust-root")
        .registrar()
        .tap(Recorder::new(record.path().to_path_buf(), "tcp"))
        .build();
    let listener = rt
        .block_on(shuttle_actor::Listener::bind(
            &"tcp://127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let addr = listener.local_addr();
    let served = rt.spawn({
        let root = root.clone();
        async move { root.serve(listener).await }
    });
    let opts = SpawnOptions::new(&t.python)
        .enable_module("tree", repo().join("conformance/peers/python/tree.py"))
        .current_dir(mark.dir())
        .env("XDG_RUNTIME_DIR", t.runtime_dir());
    let exits = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(120), async {
            let mut nursery = root.open_nursery();
            let kid = nursery.start_actor("kid", &opts).await.unwrap();
            let me: String = kid.run_from_ns("tree", "whoami", &NoArgs {}).await.unwrap();
            assert_eq!(me, "kid");
            assert_eq!(mark.marked().len(), 1);
            // A peer cancels the root, as `Portal.cancel_actor()` does.
            let peer = Actor::builder("canceller").build();
            let p = peer.connect(&addr).await.unwrap();
            assert!(p.cancel_actor().await.unwrap());
            root.cancelled().await;
            served.await.unwrap().unwrap();
            // The child was cancelled with it and exits by itself.
            let mut status = None;
            for _ in 0..400 {
                status = nursery.children_mut()[0].try_status().unwrap();
                if status.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            assert!(
                status.is_some_and(|s| s.success()),
                "the child did not exit: {status:?}"
            );
            nursery.cancel(Duration::from_secs(5)).await
        })
        .await
        .expect("within 120 s")
    });
    assert_eq!(exits.len(), 1);
    assert!(!exits[0].killed, "{:?}", exits[0]);
    assert!(
        exits[0].status.is_some_and(|s| s.success()),
        "{:?}",
        exits[0]
    );
    assert_eq!(mark.survivors(), Vec::<u32>::new());
    drop(rt);
    check_recorded(record.path());
}

#[derive(serde::Serialize)]
struct AddArgs {
    x: i64,
    y: i64,
}

/// A Rust child (`shuttle serve --uid ... --parent_addr ...`, on
/// `Actor::serve_as_child`) of a Rust parent: spawned with tractor's command
/// line, it takes the `SpawnSpec`, registers with the parent (the registrar)
/// and answers over the spawn channel; a Python actor finds it through the
/// registrar. Then the parent's channel is lost (closed without
/// `self.cancel`): the child exits by itself.
#[test]
fn a_rust_child_registers_serves_and_exits_when_its_parent_is_lost() {
    use shuttle_actor::{Actor, SpawnOptions};
    use shuttle_conformance::live::record::Recorder;

    let Some(t) = tractor() else { return };
    let mark = Mark::new();
    let record = tempfile::tempdir().unwrap();
    let child_record = tempfile::tempdir().unwrap();
    let rt = runtime();
    let root = Actor::builder("rust-root")
        .registrar()
        .tap(Recorder::new(record.path().to_path_buf(), "tcp"))
        .build();
    let listener = rt
        .block_on(shuttle_actor::Listener::bind(
            &"tcp://127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let addr = listener.local_addr();
    let served = rt.spawn({
        let root = root.clone();
        async move { root.serve(listener).await }
    });
    let opts = SpawnOptions::program(
        env!("CARGO_BIN_EXE_shuttle"),
        [
            "serve",
            "--quiet",
            "--record",
            child_record.path().to_str().unwrap(),
        ],
    )
    .current_dir(mark.dir());
    let mut nursery = rt.block_on(async {
        let mut nursery = root.open_nursery();
        let kid = nursery.start_actor("rust-kid", &opts).await.unwrap();
        let sum: i64 = kid
            .run_from_ns("__main__", "add", &AddArgs { x: 20, y: 22 })
            .await
            .unwrap();
        assert_eq!(sum, 42);
        nursery
    });
    assert_eq!(mark.marked(), vec![nursery.children()[0].pid().unwrap()]);
    let names: Vec<String> = root
        .registry()
        .unwrap()
        .entries()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["rust-root", "rust-kid"]);

    // A Python program finds the Rust child through the Rust registrar.
    let out = std::thread::scope(|s| {
        let py = s.spawn(|| {
            tree_py(
                t,
                &mark,
                &[
                    "find-rust",
                    "--registry",
                    &addr.to_string(),
                    "--name",
                    "rust-kid",
                ],
            )
        });
        rt.block_on(async {
            while !py.is_finished() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        py.join().unwrap()
    });
    has_line(&out, "ok find_actor rust-kid");
    has_line(&out, "ok add 42");
    has_line(&out, "ok stream 0 1 2");

    // The parent is lost: its channel to the child closes, no self.cancel.
    rt.block_on(async {
        nursery.children()[0].portal().close().await;
        let mut status = None;
        for _ in 0..400 {
            status = nursery.children_mut()[0].try_status().unwrap();
            if status.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(
            status.is_some_and(|s| s.success()),
            "the child did not exit: {status:?}"
        );
    });
    let exits = rt.block_on(nursery.cancel(Duration::from_secs(5)));
    assert!(!exits[0].killed, "{:?}", exits[0]);
    assert_eq!(mark.survivors(), Vec::<u32>::new());
    // It unregistered on its way out.
    let names: Vec<String> = root
        .registry()
        .unwrap()
        .entries()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["rust-root"]);
    root.cancel();
    rt.block_on(async { served.await.unwrap().unwrap() });
    drop(rt);
    check_recorded(record.path());
    check_recorded(child_record.path());
}
