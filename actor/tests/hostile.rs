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
