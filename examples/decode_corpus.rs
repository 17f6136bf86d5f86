//! Decodes a wire corpus repeatedly (for profiling):
//! `cargo run --release --example decode_corpus -- fixtures/bench/corpus-small.wire 1000`.

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "fixtures/bench/corpus-small.wire".into());
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let wire = std::fs::read(&path).expect("corpus");
    let bodies: Vec<&[u8]> = shuttle::frame::FrameSplitter::default()
        .frames(&wire)
        .collect::<Result<_, _>>()
        .expect("frames");
    let started = std::time::Instant::now();
    let mut n = 0usize;
    for _ in 0..rounds {
        for b in &bodies {
            let m = shuttle::Msg::decode(b).expect("decodes");
            n += m.cid().map_or(0, str::len);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} frames in {secs:.3}s: {:.2} M frames/s ({n})",
        rounds * bodies.len(),
        (rounds * bodies.len()) as f64 / secs / 1e6
    );
}
