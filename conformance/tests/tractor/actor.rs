//! The Rust actor crate (`shuttle-actor`) against live Python tractor: a
//! Rust portal calls the endpoints of the Python daemon
//! (`conformance/peers/python/shuttle_peer.py`) of every kind, over TCP
//! and over a Unix socket, with errors, a payload spec and cancellation.

use super::*;

use serde::{Deserialize, Serialize};
use shuttle_actor::{Actor, Address, Error, NoArgs};
use shuttle_conformance::live::record::Recorder;

#[derive(Serialize)]
struct Add {
    x: i64,
    y: i64,
}

#[derive(Serialize)]
struct N {
    n: i64,
}

#[derive(Serialize)]
struct Name<'a> {
    name: &'a str,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Greeted {
    greeted: String,
    count: i64,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `f` with a portal from a fresh Rust actor to the Python daemon
/// started on `listen`; checks that the daemon exits after the portal's
/// `cancel_actor`.
fn against_python(listen: &str) {
    let Some(t) = tractor() else { return };
    let (mut peer, addr) = python_peer(t, listen);
    let addr: Address = addr.parse().unwrap();
    let rt = runtime();
    // The channel is recorded, to be judged by `shuttle check` at the end.
    let recorded = tempfile::tempdir().unwrap();
    let transport = if listen.starts_with("uds://") {
        "uds"
    } else {
        "tcp"
    };
    let recorder = Recorder::new(recorded.path().to_path_buf(), transport);
    let all = async {
        let me = Actor::builder("rust-caller").tap(recorder).build();
        let portal = me.connect(&addr).await.unwrap();
        assert_eq!(portal.peer().name, "shuttle-peer");

        // asyncfunc
        let sum: i64 = portal
            .run_from_ns("__main__", "add", &Add { x: 20, y: 22 })
            .await
            .unwrap();
        assert_eq!(sum, 42);
        let big: u64 = portal
            .run_from_ns(
                "__main__",
                "add",
                &serde_json::json!({"x": u64::MAX - 1, "y": 1}),
            )
            .await
            .unwrap();
        assert_eq!(big, u64::MAX);

        // A remote error, boxed as tractor boxes it.
        match portal
            .run_from_ns::<_, ()>("__main__", "boom", &NoArgs {})
            .await
        {
            Err(Error::Remote(e)) => {
                assert_eq!(e.src_type, "ValueError");
                assert_eq!(e.last_line(), "ValueError: boom: bad value 42");
                assert_eq!(e.src_uid.0, "shuttle-peer");
                assert!(!e.relay_path.is_empty());
            }
            other => panic!("boom: {other:?}"),
        }
        // The channel still serves.
        let ok: String = portal
            .run_from_ns("__main__", "ok", &NoArgs {})
            .await
            .unwrap();
        assert_eq!(ok, "still alive");
        match portal
            .run_from_ns::<_, ()>("__main__", "no_such_fn", &NoArgs {})
            .await
        {
            Err(Error::Remote(e)) => assert_eq!(e.src_type, "AttributeError", "{e:?}"),
            other => panic!("no_such_fn: {other:?}"),
        }
        match portal
            .run_from_ns::<_, ()>("not_exposed", "add", &NoArgs {})
            .await
        {
            Err(Error::Remote(e)) => assert_eq!(e.src_type, "ModuleNotExposed", "{e:?}"),
            other => panic!("not_exposed: {other:?}"),
        }

        // asyncgen, whole and broken off early.
        let mut s = portal
            .open_stream_from("__main__", "counter", &N { n: 5 })
            .await
            .unwrap();
        let mut got = vec![];
        while let Some(v) = s.recv::<i64>().await {
            got.push(v.unwrap());
        }
        assert_eq!(got, [0, 1, 2, 3, 4]);
        let mut s = portal
            .open_stream_from("__main__", "counter", &N { n: 100_000 })
            .await
            .unwrap();
        for i in 0..3 {
            assert_eq!(s.recv::<i64>().await.unwrap().unwrap(), i);
        }
        drop(s); // cancels the remote generator
        let ok: String = portal
            .run_from_ns("__main__", "ok", &NoArgs {})
            .await
            .unwrap();
        assert_eq!(ok, "still alive");
        let mut s = portal
            .open_stream_from("__main__", "flaky_gen", &NoArgs {})
            .await
            .unwrap();
        assert_eq!(s.recv::<String>().await.unwrap().unwrap(), "one");
        assert_eq!(s.recv::<String>().await.unwrap().unwrap(), "two");
        match s.recv::<String>().await {
            Some(Err(Error::Remote(e))) => assert_eq!(e.src_type, "IndexError"),
            other => panic!("flaky_gen: {other:?}"),
        }

        // context: started, result.
        let (ctx, first): (_, String) = portal
            .open_context("__main__", "greet", &Name { name: "rust" })
            .await
            .unwrap();
        assert_eq!(first, "hello rust");
        let r: Greeted = ctx.result().await.unwrap();
        assert_eq!(
            r,
            Greeted {
                greeted: "rust".into(),
                count: 1
            }
        );

        // context: a two-way stream, several at once on one channel.
        let (mut a, ()) = portal
            .open_context("__main__", "doubler", &NoArgs {})
            .await
            .unwrap();
        let (mut b, ()) = portal
            .open_context("__main__", "doubler", &NoArgs {})
            .await
            .unwrap();
        a.open_stream();
        b.open_stream();
        for i in 0..10i64 {
            a.send(&i).await.unwrap();
            b.send(&(100 + i)).await.unwrap();
            assert_eq!(a.recv::<i64>().await.unwrap().unwrap(), 2 * i);
            assert_eq!(b.recv::<i64>().await.unwrap().unwrap(), 2 * (100 + i));
        }
        assert_eq!(a.result::<String>().await.unwrap(), "done");
        assert_eq!(b.result::<String>().await.unwrap(), "done");

        // context errors, before and after started.
        match portal
            .open_context::<_, ()>("__main__", "fails_early", &NoArgs {})
            .await
        {
            Err(Error::Remote(e)) => assert_eq!(e.src_type, "KeyError"),
            other => panic!("fails_early: {other:?}"),
        }
        let (mut ctx, one): (_, i64) = portal
            .open_context("__main__", "fails_midstream", &NoArgs {})
            .await
            .unwrap();
        assert_eq!(one, 1);
        ctx.open_stream();
        assert_eq!(ctx.recv::<String>().await.unwrap().unwrap(), "a");
        assert_eq!(ctx.recv::<String>().await.unwrap().unwrap(), "b");
        match ctx.result::<()>().await {
            Err(Error::Remote(e)) => assert_eq!(e.last_line(), "RuntimeError: midstream failure"),
            other => panic!("fails_midstream: {other:?}"),
        }

        // A payload spec on the callee's side (`pld_spec=Point|None`): a
        // valid point is doubled, an item that is not one fails the
        // context with tractor's `MsgTypeError`.
        #[derive(Debug, Deserialize, PartialEq, Serialize)]
        struct Point {
            x: i64,
            y: i64,
        }
        let (mut ctx, origin): (_, Point) = portal
            .open_context("__main__", "point_doubler", &NoArgs {})
            .await
            .unwrap();
        assert_eq!(origin, Point { x: 0, y: 0 });
        ctx.open_stream();
        ctx.send(&Point { x: 1, y: -2 }).await.unwrap();
        assert_eq!(
            ctx.recv::<Point>().await.unwrap().unwrap(),
            Point { x: 2, y: -4 }
        );
        ctx.send("not a point").await.unwrap();
        let failed = match ctx.recv::<Point>().await {
            Some(Err(e)) => e,
            None => ctx.result::<()>().await.unwrap_err(),
            Some(Ok(p)) => panic!("a bad item was doubled: {p:?}"),
        };
        match failed {
            Error::Remote(e) => assert_eq!(e.boxed_type, "MsgTypeError", "{e:?}"),
            other => panic!("point_doubler: {other:?}"),
        }

        // A payload spec on the caller's side: the second item breaks it.
        let spec =
            shuttle::pld_spec::PldSpec::parse("dict[str, str]", &serde_json::Value::Null).unwrap();
        let (mut ctx, _first): (_, serde_json::Value) = portal
            .open_context_with("__main__", "streamer", &NoArgs {}, Some(spec))
            .await
            .unwrap();
        ctx.open_stream();
        let item: serde_json::Value = ctx.recv().await.unwrap().unwrap();
        assert_eq!(item, serde_json::json!({"field": "first"}));
        match ctx.recv::<serde_json::Value>().await {
            Some(Err(Error::Payload(why))) => {
                assert!(why.contains("Expected `object`, got `int`"), "{why}")
            }
            other => panic!("streamer: {other:?}"),
        }
        ctx.cancel().await.unwrap();
        match ctx.result::<()>().await {
            Err(Error::Cancelled(e)) => assert_eq!(e.boxed_type, "ContextCancelled"),
            other => panic!("streamer cancel: {other:?}"),
        }

        // ctx.cancel() of a sleeping context.
        let (mut ctx, s): (_, String) = portal
            .open_context("__main__", "sleeper", &NoArgs {})
            .await
            .unwrap();
        assert_eq!(s, "sleeping");
        ctx.cancel().await.unwrap();
        match ctx.result::<()>().await {
            Err(Error::Cancelled(e)) => {
                assert_eq!(e.boxed_type, "ContextCancelled");
                assert_eq!(
                    e.canceller.as_ref().map(|c| c.0.as_str()),
                    Some("rust-caller")
                );
            }
            other => panic!("sleeper: {other:?}"),
        }

        // A 1 MiB payload both ways.
        let (mut ctx, size): (_, u64) = portal
            .open_context("__main__", "blob_echo", &NoArgs {})
            .await
            .unwrap();
        assert_eq!(size, 1 << 20);
        ctx.open_stream();
        let blob = serde_bytes::ByteBuf::from(vec![7u8; 1 << 20]);
        ctx.send(&blob).await.unwrap();
        let digest: String = ctx.recv().await.unwrap().unwrap();
        assert_eq!(digest.len(), 64);
        let back: serde_bytes::ByteBuf = ctx.recv().await.unwrap().unwrap();
        assert_eq!(back, blob);
        assert_eq!(ctx.result::<String>().await.unwrap(), "ok");

        // Last: self.cancel, after which a tractor actor exits, closing
        // the channel (and the recording of it is written).
        assert!(portal.cancel_actor().await.unwrap());
        portal.closed().await;
    };
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(120), all)
            .await
            .expect("the whole exchange within 120 s")
    });
    let status = peer.wait_exit(Duration::from_secs(20));
    assert!(
        status.is_some_and(|s| s.success()),
        "the Python daemon did not exit after cancel_actor: {status:?}"
    );
    // The channel ended with the daemon: its recording passes the codec
    // and dialog checks the captures pass.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let file = loop {
        let found = std::fs::read_dir(recorded.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "json"));
        match found {
            Some(f) => break f,
            None if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            None => panic!("the channel was not recorded"),
        }
    };
    drop(rt);
    let out = shuttle().arg("check").arg(&file).output().unwrap();
    let check = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "shuttle check failed:\n{check}");
    assert!(check.ends_with("1 passed, 0 failed\n"), "{check}");
}

#[test]
fn a_rust_portal_calls_python_tractor_over_tcp() {
    against_python(&format!("tcp://127.0.0.1:{}", free_port()));
}

#[test]
fn a_rust_portal_calls_python_tractor_over_unix_sockets() {
    let Some(t) = tractor() else { return };
    let sock = t.runtime_dir().join("rust-portal.sock");
    against_python(&format!("uds://{}", sock.display()));
}
