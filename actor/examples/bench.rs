//! The Rust side of `benches/actor_compare.py`: the same two endpoints as
//! `benches/actor_peer.py` (`__main__.noop`, `__main__.ticks(n)`), served or
//! called.
//!
//! ```sh
//! cargo run --release -p shuttle-actor --example bench -- serve tcp://127.0.0.1:6200
//! cargo run --release -p shuttle-actor --example bench -- call tcp://127.0.0.1:6200 CALLS ITEMS
//! ```
//!
//! `call` times `CALLS` round trips of `portal.run(noop)` (after 100 warm-up
//! calls) and one stream of `ITEMS` `Yield`s from `ticks`, then sends
//! `cancel_actor` and prints one JSON line: `{"rtt_us": [...], "items": N,
//! "stream_s": S}`.

use std::time::Instant;

use futures_util::stream;
use serde::{Deserialize, Serialize};
use shuttle_actor::{Actor, Address, EndpointError, Listener, NoArgs};

#[derive(Deserialize, Serialize)]
struct Ticks {
    n: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench serve ADDR | bench call ADDR CALLS ITEMS";
    let (mode, addr) = match (args.first(), args.get(1)) {
        (Some(m), Some(a)) => (m.as_str(), a.parse::<Address>()?),
        _ => return Err(usage.into()),
    };
    match mode {
        "serve" => {
            let actor = Actor::builder("bench-rust")
                .func("__main__", "noop", |_: NoArgs| async {
                    Ok::<_, EndpointError>(())
                })
                .stream("__main__", "ticks", |t: Ticks| {
                    stream::iter((0..t.n).map(Ok::<u64, EndpointError>))
                })
                .build();
            let listener = Listener::bind(&addr).await?;
            println!("listening on {}", listener.local_addr());
            actor.serve(listener).await?;
        }
        "call" => {
            let number = |i: usize| -> Result<u64, Box<dyn std::error::Error>> {
                Ok(args.get(i).ok_or(usage)?.parse()?)
            };
            let (calls, items) = (number(2)?, number(3)?);
            let me = Actor::builder("bench-rust-caller").build();
            let portal = me.connect(&addr).await?;
            for _ in 0..100 {
                let () = portal.run_from_ns("__main__", "noop", &NoArgs {}).await?;
            }
            let mut rtt_us = Vec::with_capacity(calls as usize);
            for _ in 0..calls {
                let t = Instant::now();
                let () = portal.run_from_ns("__main__", "noop", &NoArgs {}).await?;
                rtt_us.push(t.elapsed().as_secs_f64() * 1e6);
            }
            let t = Instant::now();
            let mut s = portal
                .open_stream_from("__main__", "ticks", &Ticks { n: items })
                .await?;
            let mut got = 0u64;
            while let Some(v) = s.recv::<u64>().await {
                if v? != got {
                    return Err(format!("item {got} out of order").into());
                }
                got += 1;
            }
            let stream_s = t.elapsed().as_secs_f64();
            let _ = portal.cancel_actor().await;
            println!("{{\"rtt_us\": {rtt_us:?}, \"items\": {got}, \"stream_s\": {stream_s}}}");
        }
        _ => return Err(usage.into()),
    }
    Ok(())
}
