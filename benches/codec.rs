//! Throughput of the codec on the real corpora in `fixtures/bench/`.
//! `python3 benches/compare_msgspec.py` runs these and msgspec on the same
//! frames and prints the ratios.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use shuttle::frame::FrameSplitter;
use shuttle::Msg;

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/bench")
            .join(name),
    )
    .expect("corpus")
}

fn frames(wire: &[u8]) -> Vec<&[u8]> {
    FrameSplitter::default()
        .frames(wire)
        .collect::<Result<_, _>>()
        .expect("frames")
}

/// The `Point | None` payloads of the typed capture, as recorded.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Point {
    x: i64,
    y: i64,
}

fn codec(c: &mut Criterion) {
    for (label, file) in [
        ("small", "corpus-small.wire"),
        ("all", "corpus-python-tractor.wire"),
    ] {
        let wire = corpus(file);
        let bodies = frames(&wire);
        let n = bodies.len() as u64;
        let bytes: u64 = bodies.iter().map(|b| b.len() as u64).sum();
        let msgs: Vec<Msg<'_>> = bodies.iter().map(|b| Msg::decode(b).unwrap()).collect();

        let mut g = c.benchmark_group(label);
        g.throughput(Throughput::Elements(n));
        g.bench_function("decode_envelope", |b| {
            b.iter(|| {
                for body in &bodies {
                    black_box(Msg::decode(black_box(body)).unwrap());
                }
            })
        });
        g.bench_function("decode_full", |b| {
            b.iter(|| {
                for body in &bodies {
                    let msg = Msg::decode(black_box(body)).unwrap();
                    let v = match &msg {
                        Msg::Started(m) => Some(m.pld.to_value().unwrap()),
                        Msg::Yield(m) => Some(m.pld.to_value().unwrap()),
                        Msg::Return(m) => Some(m.pld.to_value().unwrap()),
                        _ => None,
                    };
                    black_box((msg, v));
                }
            })
        });
        let mut out = Vec::with_capacity(bytes as usize * 2);
        g.bench_function("encode", |b| {
            b.iter(|| {
                out.clear();
                for m in &msgs {
                    m.encode(&mut out).unwrap();
                }
                black_box(out.len())
            })
        });
        g.bench_function("frame", |b| {
            b.iter(|| {
                out.clear();
                for m in &msgs {
                    shuttle::frame::write_frame_with(&mut out, |o| m.encode(o)).unwrap();
                }
                black_box(out.len())
            })
        });
        // The frames as a vectored write would send them: prefixes and
        // envelopes in one buffer, payloads borrowed.
        let mut tails: Vec<&[u8]> = Vec::with_capacity(msgs.len());
        g.bench_function("frame_vectored", |b| {
            b.iter(|| {
                out.clear();
                tails.clear();
                for m in &msgs {
                    tails.push(shuttle::frame::write_frame_vectored(&mut out, m).unwrap());
                }
                black_box((out.len(), tails.len()))
            })
        });
        g.bench_function("split", |b| {
            b.iter(|| {
                let mut k = 0;
                for f in FrameSplitter::default().frames(black_box(&wire)) {
                    k += f.unwrap().len();
                }
                black_box(k)
            })
        });
        g.finish();
    }

    // The dialog machine over every recorded channel.
    let channels = recorded_channels();
    let frames_total: usize = channels.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("dialog");
    g.throughput(Throughput::Elements(frames_total as u64));
    g.bench_function("check_channels", |b| {
        b.iter(|| {
            for ch in &channels {
                let input: Vec<(shuttle::dialog::End, &[u8])> =
                    ch.iter().map(|(e, body)| (*e, body.as_slice())).collect();
                black_box(shuttle::dialog::check_channel(&input, false));
            }
        })
    });
    g.finish();

    // Typed payloads: the recorded `Point | None` payloads.
    let typed: Vec<Vec<u8>> = typed_payloads();
    let mut g = c.benchmark_group("typed");
    g.throughput(Throughput::Elements(typed.len() as u64));
    g.bench_function("decode_serde", |b| {
        b.iter(|| {
            for p in &typed {
                black_box(rmp_serde::from_slice::<Option<Point>>(black_box(p)).unwrap());
            }
        })
    });
    // The same through Raw::decode (depth bound and stack check included).
    let raws: Vec<shuttle::Raw<'_>> = typed
        .iter()
        .map(|p| shuttle::Raw::from_slice(p).unwrap())
        .collect();
    g.bench_function("decode_raw", |b| {
        b.iter(|| {
            for r in &raws {
                black_box(black_box(r).decode::<Option<Point>>().unwrap());
            }
        })
    });
    let spec = shuttle::pld_spec::PldSpec::parse(
        "Point | None",
        &serde_json::json!({"Point": {"fields": [["x", "int"], ["y", "int"]]}}),
    )
    .unwrap();
    g.bench_function("validate", |b| {
        b.iter(|| {
            for p in &typed {
                spec.validate(black_box(p)).unwrap();
            }
        })
    });
    g.finish();
}

/// Every channel of every current-protocol capture.
fn recorded_channels() -> Vec<Vec<(shuttle::dialog::End, Vec<u8>)>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures/python-tractor");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("index.json"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let cap =
            shuttle_conformance::capture::Capture::from_json(&std::fs::read_to_string(p).unwrap())
                .unwrap();
        for i in 0..cap.channels.len() {
            out.push(
                cap.channel_frames(i)
                    .unwrap()
                    .into_iter()
                    .map(|f| (f.from, f.body))
                    .collect(),
            );
        }
    }
    out
}

/// Payload bytes of the `Started`/`Yield`/`Return` frames of the typed
/// capture whose endpoint is limited to `Point | None`.
fn typed_payloads() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/captures/python-tractor/typed_pld_valid.json"),
    )
    .unwrap();
    let cap = shuttle_conformance::capture::Capture::from_json(&text).unwrap();
    let mut out = Vec::new();
    for f in cap.channel_frames(0).unwrap() {
        match Msg::decode(&f.body).unwrap() {
            Msg::Started(m) => out.push(m.pld.as_bytes().to_vec()),
            Msg::Yield(m) => out.push(m.pld.as_bytes().to_vec()),
            Msg::Return(m) => out.push(m.pld.as_bytes().to_vec()),
            _ => {}
        }
    }
    out
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .sample_size(20);
    targets = codec
}
criterion_main!(benches);
