//! Arbitrary bytes on a channel never take an actor down: whatever one
//! connection sends (garbage, cut frames, lying length prefixes, valid
//! frames in any order), the actor keeps serving another connection.

use std::time::Duration;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use shuttle_actor::{Actor, Address, EndpointError, Listener};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[derive(Deserialize, Serialize)]
struct Add {
    x: i64,
    y: i64,
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// Bodies worth mixing in: the handshake, a call, and near-misses.
fn pieces() -> Vec<Vec<u8>> {
    let uid = shuttle::Uid::new("h", "00000000-0000-4000-8000-000000000001");
    let aid = shuttle::Aid::new("h", "00000000-0000-4000-8000-000000000001").to_vec();
    let kwargs = shuttle::StrMap::encode(&rmpv::Value::Map(vec![
        ("x".into(), 1.into()),
        ("y".into(), 2.into()),
    ]))
    .unwrap();
    let start = shuttle::Start::new("c1", "__main__", "add", kwargs, uid).to_vec();
    let stop = shuttle::Stop::new("c1").to_vec();
    vec![
        frame(&aid),
        frame(&start),
        frame(&stop),
        frame(&[0x93, 0x01, 0x02, 0x03]),
        frame(&[0xc1]),
        frame(&[]),
        frame(&start[..start.len() / 2]),
        u32::MAX.to_le_bytes().to_vec(),
        (64u32 << 20).to_le_bytes().to_vec(),
        vec![0x05, 0x00],
    ]
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    let pieces = pieces();
    let n = pieces.len();
    prop::collection::vec(
        prop_oneof![
            (0..n).prop_map(move |i| pieces[i].clone()),
            prop::collection::vec(any::<u8>(), 0..64),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

async fn add_on_fresh_connection(addr: &Address) -> i64 {
    let me = Actor::builder("checker").build();
    let portal = tokio::time::timeout(Duration::from_secs(10), me.connect(addr))
        .await
        .expect("connect in time")
        .expect("connect");
    tokio::time::timeout(
        Duration::from_secs(10),
        portal.run_from_ns::<_, i64>("__main__", "add", &Add { x: 20, y: 22 }),
    )
    .await
    .expect("answered in time")
    .expect("answered")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_on_one_channel_leave_the_actor_serving(bytes in input()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let dir = tempfile::tempdir().unwrap();
            let addr: Address = format!("uds://{}", dir.path().join("a.sock").display()).parse().unwrap();
            let listener = Listener::bind(&addr).await.unwrap();
            let actor = Actor::builder("target")
                .func("__main__", "add", |a: Add| async move {
                    Ok::<_, EndpointError>(a.x + a.y)
                })
                .build();
            let served = actor.clone();
            tokio::spawn(async move { served.serve(listener).await });
            // The hostile connection: everything at once, then half-close,
            // and read whatever comes back for a moment.
            let path = dir.path().join("a.sock");
            let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
            let _ = s.write_all(&bytes).await;
            let _ = s.shutdown().await;
            let mut sink = Vec::new();
            let _ = tokio::time::timeout(Duration::from_millis(50), s.read_to_end(&mut sink)).await;
            // Another connection is served as if nothing happened.
            assert_eq!(add_on_fresh_connection(&addr).await, 42);
            drop(s);
            actor.cancel();
        });
    }
}

/// A list nested `depth` levels (`[]` is one).
fn nested(depth: usize) -> rmpv::Value {
    let mut v = rmpv::Value::Array(vec![]);
    for _ in 1..depth {
        v = rmpv::Value::Array(vec![v]);
    }
    v
}

/// How many lists deep `v` goes, counted with a loop.
fn depth_of(mut v: &rmpv::Value) -> i64 {
    let mut d = 0;
    while let rmpv::Value::Array(items) = v {
        d += 1;
        match items.first() {
            Some(x) => v = x,
            None => break,
        }
    }
    d
}

#[derive(Deserialize, Serialize)]
struct Deep {
    v: rmpv::Value,
}

/// Arguments and stream items as deep as the protocol accepts (998 levels,
/// the `kwargs` map counting as one) reach the endpoints whole; one level
/// more is answered with a clear `RecursionError`-worded error, never a
/// stack overflow, and the actor goes on serving.
#[test]
fn the_deepest_accepted_arguments_and_items_reach_the_endpoints() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let addr: Address = format!("uds://{}", dir.path().join("d.sock").display())
            .parse()
            .unwrap();
        let listener = Listener::bind(&addr).await.unwrap();
        let actor = Actor::builder("target")
            .func("__main__", "add", |a: Add| async move {
                Ok::<_, EndpointError>(a.x + a.y)
            })
            .func("__main__", "depth", |a: Deep| async move {
                let v = shuttle::Value::from(a.v); // dropped with a loop
                Ok::<_, EndpointError>(depth_of(&v))
            })
            .context(
                "__main__",
                "depths",
                |mut ctx: shuttle_actor::Context, _: shuttle_actor::NoArgs| async move {
                    ctx.started(&()).await.ok();
                    ctx.open_stream().await.ok();
                    while let Some(item) = ctx.recv::<rmpv::Value>().await {
                        let said = match item {
                            Ok(v) => depth_of(&shuttle::Value::from(v)).to_string(),
                            Err(e) => e.to_string(),
                        };
                        ctx.send(&said).await.ok();
                    }
                    Ok::<_, EndpointError>("done")
                },
            )
            .build();
        let served = actor.clone();
        tokio::spawn(async move { served.serve(listener).await });

        let me = Actor::builder("caller").build();
        let portal = me.connect(&addr).await.unwrap();
        let ok = Deep { v: nested(997) };
        let got = portal.run_from_ns::<_, i64>("__main__", "depth", &ok).await;
        assert_eq!(got.unwrap(), 997);
        let over = Deep { v: nested(998) };
        let got = portal
            .run_from_ns::<_, i64>("__main__", "depth", &over)
            .await;
        let err = got.unwrap_err().to_string();
        assert!(err.contains("maximum recursion depth exceeded"), "{err}");

        let (mut ctx, ()) = portal
            .open_context::<_, ()>("__main__", "depths", &shuttle_actor::NoArgs {})
            .await
            .unwrap();
        ctx.open_stream();
        for d in [998, 999, 3] {
            ctx.send(&nested(d)).await.unwrap();
            let said: String = ctx.recv().await.unwrap().unwrap();
            match d {
                999 => assert!(said.contains("maximum recursion depth exceeded"), "{said}"),
                d => assert_eq!(said, d.to_string()),
            }
        }
        ctx.close_stream().await.unwrap();
        assert_eq!(ctx.result::<String>().await.unwrap(), "done");
        assert_eq!(add_on_fresh_connection(&addr).await, 42);
        actor.cancel();
    });
}
