//! A tractor actor in Rust that Python tractor code can call.
//!
//! ```sh
//! cargo run -p shuttle-actor --example worker -- tcp://127.0.0.1:6116
//! ```
//!
//! With a registrar's address after its own (`-- tcp://127.0.0.1:0
//! tcp://127.0.0.1:1616`), it registers there as `worker` (and leaves on
//! exit), so that Python code finds it by name: `actor/examples/find_worker.py`.
//!
//! It serves `__main__.add` (`portal.run`), `__main__.count` (a stream,
//! `portal.open_stream_from`) and `__main__.doubler` (a context with a
//! two-way stream, `portal.open_context`) until a caller sends
//! `portal.cancel_actor()`. `README.md` ("Write a tractor actor in Rust")
//! shows the Python side.

use futures_util::stream;
use serde::Deserialize;
use shuttle_actor::{Actor, Address, Context, EndpointError, Listener, NoArgs};

#[derive(Deserialize)]
struct Add {
    x: i64,
    y: i64,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: Address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tcp://127.0.0.1:6116".into())
        .parse()?;
    let registrar: Option<Address> = std::env::args().nth(2).map(|a| a.parse()).transpose()?;
    let mut builder = Actor::builder("worker");
    if let Some(r) = registrar {
        builder = builder.register_with(r);
    }
    let worker = builder
        // async def add(x: int, y: int) -> int
        .func("__main__", "add", |a: Add| async move {
            a.x.checked_add(a.y)
                .ok_or_else(|| EndpointError::new("OverflowError", "int too large"))
        })
        // async def count(n: int): yield 0; yield 1; ...
        .stream("__main__", "count", |c: Count| {
            stream::iter((0..c.n).map(Ok::<i64, EndpointError>))
        })
        // @tractor.context async def doubler(ctx): started, then 2*x per item
        .context(
            "__main__",
            "doubler",
            |mut ctx: Context, _: NoArgs| async move {
                ctx.started(&()).await.ok();
                ctx.open_stream().await.ok();
                while let Some(item) = ctx.recv::<i64>().await {
                    let x = item.map_err(|e| EndpointError::new("TypeError", e.to_string()))?;
                    ctx.send(&(2 * x)).await.ok();
                }
                Ok::<_, EndpointError>("done")
            },
        )
        .build();
    let listener = Listener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr());
    worker.serve(listener).await?; // returns after `portal.cancel_actor()`
    Ok(())
}
