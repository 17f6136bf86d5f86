//! Python actors in a Rust tree: a Rust root (the tree's registrar)
//! spawns two Python tractor children, which find each other through it
//! and stream between them; then the root cancels the tree.
//!
//! ```sh
//! cargo run -p shuttle-actor --example tree -- /path/to/python-with-tractor
//! ```
//!
//! The children run `python -m tractor._child` and expose
//! `actor/examples/tree_workers.py`. `README.md` ("Python actors in a
//! Rust tree") walks through it.

use std::time::Duration;

use serde::Serialize;
use shuttle_actor::{Actor, Address, Listener, NoArgs, SpawnOptions};

#[derive(Serialize)]
struct Relay<'a> {
    peer: &'a str,
    values: Vec<i64>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let python = std::env::args().nth(1).unwrap_or_else(|| "python3".into());
    // Tractor's Unix sockets and locks live here; it must be a private folder.
    let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR").unwrap_or_else(|| "/tmp".into());
    let root = Actor::builder("rust-root").registrar().build();
    let listener = Listener::bind(&"tcp://127.0.0.1:0".parse::<Address>()?).await?;
    let served = tokio::spawn({
        let root = root.clone();
        async move { root.serve(listener).await }
    });

    let module = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tree_workers.py");
    let opts = SpawnOptions::new(python)
        .enable_module("tree_workers", module)
        .env("XDG_RUNTIME_DIR", runtime_dir);
    let mut nursery = root.open_nursery();
    let left = nursery.start_actor("left", &opts).await?;
    let _right = nursery.start_actor("right", &opts).await?;

    // `left` finds `right` through the Rust registrar and streams through
    // right's `doubler` context.
    let doubled: Vec<i64> = left
        .run_from_ns(
            "tree_workers",
            "relay",
            &Relay {
                peer: "right",
                values: vec![1, 2, 3],
            },
        )
        .await?;
    println!("left relayed through right: {doubled:?}"); // [2, 4, 6]

    // The root streams through a child's context too.
    let (mut ctx, started): (_, String) = left
        .open_context("tree_workers", "doubler", &NoArgs {})
        .await?;
    ctx.open_stream();
    ctx.send(&21).await?;
    println!(
        "{started} doubled 21: {:?}",
        ctx.recv::<i64>().await.transpose()?
    ); // Some(42)
    ctx.close_stream().await?;
    println!(
        "{started}'s doubler returned {:?}",
        ctx.result::<String>().await?
    ); // "done"

    // Cancel the tree: self.cancel to each child, wait, kill after 5 s.
    for exit in nursery.cancel(Duration::from_secs(5)).await {
        println!("{} exited: {:?}", exit.uid.name, exit.status);
    }
    root.cancel();
    served.await??;
    Ok(())
}
