//! `record::pcap`: packet captures written here (classic pcap and pcapng,
//! several link types, IPv4 and IPv6) are read back into the bytes each end
//! sent; reordered, retransmitted and missing segments, sequence
//! wraparound, reused 4-tuples, limits, malformed files (proptest too), and
//! a real loopback capture taken with tcpdump.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use etherparse::{LinuxSllPacketType, PacketBuilder, PacketBuilderStep};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, TsResolution};
use proptest::prelude::*;
use shuttle_conformance::record::pcap::{read, Limits, PcapError};
use shuttle_conformance::record::{Side, Transport};

// ---------------------------------------------------------------- packets

/// One TCP packet, before it is given a link layer.
#[derive(Clone, Debug)]
struct Pkt {
    t_ns: u64,
    from: SocketAddr,
    to: SocketAddr,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    rst: bool,
    payload: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Link {
    Ethernet,
    Sll,
    Sll2,
    Null,
    Raw,
}

impl Link {
    fn data_link(self) -> DataLink {
        match self {
            Link::Ethernet => DataLink::ETHERNET,
            Link::Sll => DataLink::LINUX_SLL,
            Link::Sll2 => DataLink::LINUX_SLL2,
            Link::Null => DataLink::NULL,
            Link::Raw => DataLink::RAW,
        }
    }
}

/// The packet as a frame of `link`.
fn frame(link: Link, p: &Pkt) -> Vec<u8> {
    let ip = |step: Option<PacketBuilderStep<etherparse::LinuxSllHeader>>,
              eth: Option<PacketBuilderStep<etherparse::Ethernet2Header>>|
     -> PacketBuilderStep<etherparse::IpHeaders> {
        match (p.from, p.to) {
            (SocketAddr::V4(a), SocketAddr::V4(b)) => {
                let (s, d) = (a.ip().octets(), b.ip().octets());
                match (step, eth) {
                    (Some(sll), _) => sll.ipv4(s, d, 64),
                    (_, Some(e)) => e.ipv4(s, d, 64),
                    _ => PacketBuilder::ipv4(s, d, 64),
                }
            }
            (SocketAddr::V6(a), SocketAddr::V6(b)) => {
                let (s, d) = (a.ip().octets(), b.ip().octets());
                match (step, eth) {
                    (Some(sll), _) => sll.ipv6(s, d, 64),
                    (_, Some(e)) => e.ipv6(s, d, 64),
                    _ => PacketBuilder::ipv6(s, d, 64),
                }
            }
            _ => panic!("mixed address families"),
        }
    };
    let step = match link {
        Link::Ethernet => ip(None, Some(PacketBuilder::ethernet2([0; 6], [0; 6]))),
        Link::Sll => ip(
            Some(PacketBuilder::linux_sll(
                LinuxSllPacketType::HOST,
                6,
                [0; 8],
            )),
            None,
        ),
        _ => ip(None, None),
    };
    let mut tcp = step.tcp(p.from.port(), p.to.port(), p.seq, 65535);
    if p.syn {
        tcp = tcp.syn();
    }
    if p.fin {
        tcp = tcp.fin();
    }
    if p.rst {
        tcp = tcp.rst();
    }
    if let Some(a) = p.ack {
        tcp = tcp.ack(a);
    }
    let mut body = Vec::new();
    tcp.write(&mut body, &p.payload).unwrap();
    let v6 = p.from.is_ipv6();
    match link {
        Link::Null => {
            // The address family in the capturing host's byte order.
            let af: u32 = if v6 { 30 } else { 2 };
            [af.to_ne_bytes().to_vec(), body].concat()
        }
        Link::Sll2 => {
            let mut h = Vec::with_capacity(20);
            h.extend_from_slice(&(if v6 { 0x86ddu16 } else { 0x0800 }).to_be_bytes());
            h.extend_from_slice(&[0, 0]); // reserved
            h.extend_from_slice(&1u32.to_be_bytes()); // interface index
            h.extend_from_slice(&772u16.to_be_bytes()); // ARPHRD_LOOPBACK
            h.push(0); // packet type: to us
            h.push(0); // address length
            h.extend_from_slice(&[0; 8]);
            [h, body].concat()
        }
        _ => body,
    }
}

fn write_pcap(path: &Path, link: Link, packets: &[Pkt]) {
    write_pcap_with(path, link, packets, TsResolution::NanoSecond);
}

fn write_pcap_with(path: &Path, link: Link, packets: &[Pkt], res: TsResolution) {
    let header = PcapHeader {
        datalink: link.data_link(),
        snaplen: 262_144,
        ts_resolution: res,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(File::create(path).unwrap(), header).unwrap();
    for p in packets {
        let data = frame(link, p);
        let ts = Duration::from_nanos(p.t_ns);
        w.write_packet(&PcapPacket::new(ts, data.len() as u32, &data))
            .unwrap();
    }
}

/// A pcapng file; `tsresol` `None` leaves the default (microseconds).
fn write_pcapng(path: &Path, link: Link, packets: &[Pkt], tsresol: Option<u8>) {
    let mut w = PcapNgWriter::new(File::create(path).unwrap()).unwrap();
    let mut idb = InterfaceDescriptionBlock::new(link.data_link(), 0);
    if let Some(r) = tsresol {
        idb.options.push(InterfaceDescriptionOption::IfTsResol(r));
    }
    w.write_pcapng_block(idb).unwrap();
    for p in packets {
        let data = frame(link, p);
        let raw = match tsresol {
            Some(9) => p.t_ns,
            None => p.t_ns / 1000,
            Some(r) => panic!("tsresol {r} not used here"),
        };
        w.write_pcapng_block(EnhancedPacketBlock {
            interface_id: 0,
            // pcap-file writes this count as is, in the interface's unit.
            timestamp: Duration::from_nanos(raw),
            original_len: data.len() as u32,
            data: Cow::Owned(data),
            options: vec![],
        })
        .unwrap();
    }
}

/// A scripted TCP conversation.
struct Conv {
    client: SocketAddr,
    server: SocketAddr,
    /// Next sequence number of the client and of the server.
    next: [u32; 2],
    t_ns: u64,
    out: Vec<Pkt>,
}

impl Conv {
    fn new(client: &str, server: &str, isn: [u32; 2], t_ns: u64) -> Conv {
        Conv {
            client: client.parse().unwrap(),
            server: server.parse().unwrap(),
            next: isn,
            t_ns,
            out: Vec::new(),
        }
    }

    fn tick(&mut self) -> u64 {
        self.t_ns += 1_000;
        self.t_ns
    }

    fn ends(&self, from_client: bool) -> (SocketAddr, SocketAddr, usize) {
        if from_client {
            (self.client, self.server, 0)
        } else {
            (self.server, self.client, 1)
        }
    }

    fn handshake(&mut self) {
        let t = self.tick();
        self.out.push(Pkt {
            t_ns: t,
            from: self.client,
            to: self.server,
            seq: self.next[0],
            ack: None,
            syn: true,
            fin: false,
            rst: false,
            payload: vec![],
        });
        self.next[0] = self.next[0].wrapping_add(1);
        let t = self.tick();
        self.out.push(Pkt {
            t_ns: t,
            from: self.server,
            to: self.client,
            seq: self.next[1],
            ack: Some(self.next[0]),
            syn: true,
            fin: false,
            rst: false,
            payload: vec![],
        });
        self.next[1] = self.next[1].wrapping_add(1);
        self.ack(true);
    }

    /// A pure ACK.
    fn ack(&mut self, from_client: bool) {
        let (from, to, i) = self.ends(from_client);
        let t = self.tick();
        self.out.push(Pkt {
            t_ns: t,
            from,
            to,
            seq: self.next[i],
            ack: Some(self.next[1 - i]),
            syn: false,
            fin: false,
            rst: false,
            payload: vec![],
        });
    }

    /// A data segment; returns its index in `out`.
    fn send(&mut self, from_client: bool, bytes: &[u8]) -> usize {
        let (from, to, i) = self.ends(from_client);
        let t = self.tick();
        self.out.push(Pkt {
            t_ns: t,
            from,
            to,
            seq: self.next[i],
            ack: Some(self.next[1 - i]),
            syn: false,
            fin: false,
            rst: false,
            payload: bytes.to_vec(),
        });
        self.next[i] = self.next[i].wrapping_add(bytes.len() as u32);
        self.out.len() - 1
    }

    /// FIN from each end, in turn, and the last ACK.
    fn close(&mut self) {
        for from_client in [true, false] {
            let (from, to, i) = self.ends(from_client);
            let t = self.tick();
            self.out.push(Pkt {
                t_ns: t,
                from,
                to,
                seq: self.next[i],
                ack: Some(self.next[1 - i]),
                syn: false,
                fin: true,
                rst: false,
                payload: vec![],
            });
            self.next[i] = self.next[i].wrapping_add(1);
        }
        self.ack(true);
    }
}

fn bytes(side: &Side) -> Vec<u8> {
    side.sent.iter().flat_map(|c| c.bytes.clone()).collect()
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn read_ok(path: &Path) -> Vec<Side> {
    read(path, &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The usual exchange: handshake, two messages each way, close.
fn exchange(client: &str, server: &str) -> Conv {
    let mut c = Conv::new(client, server, [1000, 5000], 1_700_000_000_000_000_000);
    c.handshake();
    c.send(true, b"hello ");
    c.send(false, b"welcome");
    c.send(true, b"world");
    c.send(false, b"!");
    c.ack(true);
    c.close();
    c
}

fn assert_exchange(sides: &[Side], path: &Path, client: &str, server: &str) {
    assert_eq!(sides.len(), 2, "{sides:#?}");
    let (c, s) = (&sides[0], &sides[1]);
    assert_eq!(c.local, client);
    assert_eq!(c.remote, server);
    assert_eq!(s.local, server);
    assert_eq!(s.remote, client);
    assert_eq!(c.connected, Some(true));
    assert_eq!(s.connected, Some(false));
    assert_eq!(bytes(c), b"hello world");
    assert_eq!(bytes(s), b"welcome!");
    for side in sides {
        assert_eq!(side.source, path.display().to_string());
        assert_eq!(side.pid, None);
        assert_eq!(side.transport, Transport::Tcp);
        assert!(side.received.is_none());
        assert_eq!(side.cut, None);
    }
    // One chunk per segment, with the packet's timestamp.
    assert_eq!(c.sent.len(), 2);
    assert_eq!(c.sent[0].bytes, b"hello ");
    assert_eq!(c.sent[0].t_ns, 1_700_000_000_000_004_000);
}

// ------------------------------------------------------------------ tests

#[test]
fn every_link_type_in_pcap_and_pcapng_over_ipv4_and_ipv6() {
    let dir = tmp();
    for (client, server) in [
        ("127.0.0.1:5000", "127.0.0.1:6000"),
        ("[::1]:5000", "[::1]:6000"),
    ] {
        let conv = exchange(client, server);
        for link in [Link::Ethernet, Link::Sll, Link::Sll2, Link::Null, Link::Raw] {
            let p = dir
                .path()
                .join(format!("{link:?}-{}.pcap", conv.client.is_ipv6()));
            write_pcap(&p, link, &conv.out);
            assert_exchange(&read_ok(&p), &p, client, server);

            let p = dir
                .path()
                .join(format!("{link:?}-{}.pcapng", conv.client.is_ipv6()));
            write_pcapng(&p, link, &conv.out, Some(9));
            assert_exchange(&read_ok(&p), &p, client, server);
        }
    }
}

#[test]
fn timestamps_in_microseconds_become_nanoseconds() {
    let dir = tmp();
    let conv = exchange("127.0.0.1:5000", "127.0.0.1:6000");
    let p = dir.path().join("us.pcap");
    write_pcap_with(&p, Link::Ethernet, &conv.out, TsResolution::MicroSecond);
    let sides = read_ok(&p);
    assert_eq!(sides[0].sent[0].t_ns, 1_700_000_000_000_004_000);
    // pcapng without if_tsresol: microseconds.
    let p = dir.path().join("us.pcapng");
    write_pcapng(&p, Link::Ethernet, &conv.out, None);
    let sides = read_ok(&p);
    assert_eq!(sides[0].sent[0].t_ns, 1_700_000_000_000_004_000);
    assert_eq!(sides[1].sent[0].t_ns, 1_700_000_000_000_005_000);
}

#[test]
fn out_of_order_and_retransmitted_segments_are_reassembled() {
    let dir = tmp();
    let mut c = Conv::new("127.0.0.1:5000", "127.0.0.1:6000", [7, 9], 1_000_000);
    c.handshake();
    let a = c.send(true, b"aaaa");
    let b = c.send(true, b"bbbb");
    let d = c.send(true, b"cccc");
    let xy = c.send(false, b"xy");
    let z = c.send(false, b"z");
    c.close();
    let p = &c.out;
    // A retransmission overlapping two segments.
    let mut overlap = p[a].clone();
    overlap.seq = overlap.seq.wrapping_add(2);
    overlap.payload = b"aabbbbcc".to_vec();
    // After the handshake: cccc, bbbb, aaaa, aaaa again, xy, xy again
    // (before z), the overlap, cccc again, z, z again, then the close.
    let mut out = p[..a].to_vec();
    for q in [
        &p[d], &p[b], &p[a], &p[a], &p[xy], &p[xy], &overlap, &p[d], &p[z], &p[z],
    ] {
        out.push(q.clone());
    }
    out.extend(p[z + 1..].iter().cloned());
    let p = dir.path().join("reorder.pcap");
    write_pcap(&p, Link::Ethernet, &out);
    let sides = read_ok(&p);
    assert_eq!(sides.len(), 2);
    assert_eq!(bytes(&sides[0]), b"aaaabbbbcccc");
    assert_eq!(bytes(&sides[1]), b"xyz");
    assert_eq!(sides[0].cut, None);
    assert_eq!(sides[1].cut, None);
    // Delivered in order, one chunk per segment.
    let chunks: Vec<&[u8]> = sides[0].sent.iter().map(|c| &c.bytes[..]).collect();
    assert_eq!(chunks, [&b"aaaa"[..], b"bbbb", b"cccc"]);
}

#[test]
fn a_gap_never_filled_cuts_the_direction_there() {
    let dir = tmp();
    let mut c = Conv::new("127.0.0.1:5000", "127.0.0.1:6000", [100, 200], 1_000_000);
    c.handshake();
    c.send(true, b"aaa");
    let lost = c.send(true, b"bbb");
    c.send(true, b"ccc");
    c.send(false, b"fine");
    c.close();
    c.out.remove(lost);
    let p = dir.path().join("gap.pcap");
    write_pcap(&p, Link::Ethernet, &c.out);
    let sides = read_ok(&p);
    assert_eq!(bytes(&sides[0]), b"aaa");
    assert_eq!(
        sides[0].cut.as_deref(),
        Some("packet capture misses bytes at offset 3 of 127.0.0.1:5000 -> 127.0.0.1:6000")
    );
    assert_eq!(bytes(&sides[1]), b"fine");
    assert_eq!(sides[1].cut, None);
}

#[test]
fn a_lost_last_segment_shows_in_the_other_ends_acknowledgement() {
    let dir = tmp();
    let mut c = Conv::new("127.0.0.1:5000", "127.0.0.1:6000", [100, 200], 1_000_000);
    c.handshake();
    c.send(false, b"12345");
    let lost = c.send(false, b"678");
    c.ack(true); // acknowledges all 8 bytes; no FIN follows
    c.out.remove(lost);
    let p = dir.path().join("tail.pcapng");
    write_pcapng(&p, Link::Ethernet, &c.out, Some(9));
    let sides = read_ok(&p);
    assert_eq!(sides[1].local, "127.0.0.1:6000");
    assert_eq!(bytes(&sides[1]), b"12345");
    assert_eq!(
        sides[1].cut.as_deref(),
        Some("packet capture misses bytes at offset 5 of 127.0.0.1:6000 -> 127.0.0.1:5000")
    );
    assert_eq!(sides[0].cut, None);
}

#[test]
fn sequence_numbers_wrap_around() {
    let dir = tmp();
    let mut c = Conv::new(
        "[::1]:40000",
        "[::1]:6000",
        [u32::MAX - 6, u32::MAX],
        1_000_000,
    );
    c.handshake();
    let a = c.send(true, b"0123");
    let b = c.send(true, b"4567"); // crosses 2^32
    c.send(true, b"89");
    c.send(false, b"server");
    c.close();
    assert!(c.out[b].seq > c.out[a].seq && c.out[b].seq.wrapping_add(4) < c.out[b].seq);
    c.out.swap(a, b);
    let p = dir.path().join("wrap.pcap");
    write_pcap(&p, Link::Raw, &c.out);
    let sides = read_ok(&p);
    assert_eq!(sides[0].local, "[::1]:40000");
    assert_eq!(bytes(&sides[0]), b"0123456789");
    assert_eq!(bytes(&sides[1]), b"server");
    assert!(sides.iter().all(|s| s.cut.is_none()));
}

#[test]
fn a_new_syn_after_fin_or_rst_on_the_same_tuple_is_a_new_connection() {
    let dir = tmp();
    let mut first = Conv::new("127.0.0.1:5000", "127.0.0.1:6000", [10, 20], 1_000_000);
    first.handshake();
    first.send(true, b"first");
    first.send(false, b"one");
    first.close();
    let mut second = Conv::new("127.0.0.1:5000", "127.0.0.1:6000", [9999, 77], 2_000_000);
    second.handshake();
    second.send(true, b"second");
    second.send(false, b"two");
    // This one ends with a RST.
    let mut rst = second.out.last().unwrap().clone();
    rst.payload.clear();
    rst.rst = true;
    rst.seq = second.next[1];
    second.out.push(rst);
    let mut third = Conv::new("127.0.0.1:5000", "127.0.0.1:6000", [500, 600], 3_000_000);
    third.handshake();
    third.send(true, b"third");
    let all: Vec<Pkt> = [first.out, second.out, third.out].concat();
    let p = dir.path().join("reuse.pcapng");
    write_pcapng(&p, Link::Sll2, &all, Some(9));
    let sides = read_ok(&p);
    let got: Vec<(Vec<u8>, Option<bool>)> = sides.iter().map(|s| (bytes(s), s.connected)).collect();
    assert_eq!(
        got,
        [
            (b"first".to_vec(), Some(true)),
            (b"one".to_vec(), Some(false)),
            (b"second".to_vec(), Some(true)),
            (b"two".to_vec(), Some(false)),
            (b"third".to_vec(), Some(true)),
            (vec![], Some(false)),
        ]
    );
    assert!(sides.iter().all(|s| s.cut.is_none()));
}

#[test]
fn connections_are_ordered_by_first_packet_and_empty_ones_are_kept() {
    let dir = tmp();
    // Written first, but later in time.
    let mut late = Conv::new("127.0.0.1:5001", "127.0.0.1:6000", [1, 2], 5_000_000);
    late.handshake();
    late.send(false, b"late");
    late.close();
    // No payload at all.
    let mut empty = Conv::new("127.0.0.1:5002", "127.0.0.1:6000", [3, 4], 1_000_000);
    empty.handshake();
    empty.close();
    // Seen from the middle: no SYN, the server's packet comes first.
    let mut mid = Conv::new("127.0.0.1:5003", "127.0.0.1:6000", [5, 6], 3_000_000);
    mid.handshake();
    mid.send(false, b"srv");
    mid.send(true, b"cli");
    mid.out.drain(..3);
    let all: Vec<Pkt> = [late.out, empty.out, mid.out].concat();
    let p = dir.path().join("order.pcap");
    write_pcap(&p, Link::Null, &all);
    let sides = read_ok(&p);
    let got: Vec<(&str, Option<bool>, Vec<u8>)> = sides
        .iter()
        .map(|s| (s.local.as_str(), s.connected, bytes(s)))
        .collect();
    assert_eq!(
        got,
        [
            ("127.0.0.1:5002", Some(true), vec![]),
            ("127.0.0.1:6000", Some(false), vec![]),
            ("127.0.0.1:6000", None, b"srv".to_vec()),
            ("127.0.0.1:5003", None, b"cli".to_vec()),
            ("127.0.0.1:5001", Some(true), vec![]),
            ("127.0.0.1:6000", Some(false), b"late".to_vec()),
        ]
    );
}

#[test]
fn non_tcp_packets_are_ignored() {
    let dir = tmp();
    let conv = exchange("127.0.0.1:5000", "127.0.0.1:6000");
    let p = dir.path().join("udp.pcap");
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        snaplen: 262_144,
        ts_resolution: TsResolution::NanoSecond,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(File::create(&p).unwrap(), header).unwrap();
    let mut udp = Vec::new();
    PacketBuilder::ethernet2([0; 6], [0; 6])
        .ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64)
        .udp(53, 53)
        .write(&mut udp, b"not tcp")
        .unwrap();
    let garbage = vec![0xffu8; 40];
    for (i, pkt) in conv.out.iter().enumerate() {
        let data = frame(Link::Ethernet, pkt);
        let ts = Duration::from_nanos(pkt.t_ns);
        w.write_packet(&PcapPacket::new(ts, data.len() as u32, &data))
            .unwrap();
        if i == 2 {
            w.write_packet(&PcapPacket::new(ts, udp.len() as u32, &udp))
                .unwrap();
            w.write_packet(&PcapPacket::new(ts, 40, &garbage)).unwrap();
        }
    }
    drop(w);
    assert_exchange(&read_ok(&p), &p, "127.0.0.1:5000", "127.0.0.1:6000");
}

#[test]
fn limits_cut_a_direction_and_refuse_too_many_connections() {
    let dir = tmp();
    let mut c = Conv::new("127.0.0.1:5000", "127.0.0.1:6000", [1, 2], 1_000_000);
    c.handshake();
    c.send(true, b"0123456");
    c.send(true, b"789abcdef");
    c.send(false, b"ok");
    c.close();
    let p = dir.path().join("limit.pcap");
    write_pcap(&p, Link::Ethernet, &c.out);
    let limits = Limits {
        max_bytes_per_direction: 10,
        ..Limits::default()
    };
    let sides = read(&p, &limits).unwrap();
    assert_eq!(bytes(&sides[0]), b"0123456789");
    let cut = sides[0].cut.as_deref().unwrap();
    assert!(cut.contains("limit of 10 bytes"), "{cut}");
    assert!(cut.contains("127.0.0.1:5000 -> 127.0.0.1:6000"), "{cut}");
    assert_eq!(bytes(&sides[1]), b"ok");
    assert_eq!(sides[1].cut, None);

    let mut other = Conv::new("127.0.0.1:5001", "127.0.0.1:6000", [1, 2], 2_000_000);
    other.handshake();
    let all = [c.out.clone(), other.out].concat();
    let p = dir.path().join("two.pcap");
    write_pcap(&p, Link::Ethernet, &all);
    let limits = Limits {
        max_connections: 1,
        ..Limits::default()
    };
    let err = read(&p, &limits).unwrap_err();
    assert!(
        matches!(
            err,
            PcapError::TooManyConnections {
                limit: 1,
                packet,
                ..
            } if packet == c.out.len() as u64 + 1
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("127.0.0.1:5001 -> 127.0.0.1:6000"));
    assert_eq!(read(&p, &Limits::default()).unwrap().len(), 4);
}

#[test]
fn an_unsupported_link_type_is_an_error() {
    let dir = tmp();
    let p = dir.path().join("wifi.pcap");
    let header = PcapHeader {
        datalink: DataLink::IEEE802_11,
        ..Default::default()
    };
    PcapWriter::with_header(File::create(&p).unwrap(), header).unwrap();
    let err = read(&p, &Limits::default()).unwrap_err();
    assert!(
        matches!(err, PcapError::UnsupportedLinkType { link_type: 105, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("not supported"), "{err}");
}

#[test]
fn garbage_truncated_and_bogus_files_are_errors() {
    let dir = tmp();
    let limits = Limits::default();
    let missing = dir.path().join("missing.pcap");
    assert!(matches!(read(&missing, &limits), Err(PcapError::Io { .. })));

    let write = |name: &str, data: &[u8]| -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    let err = read(&write("empty", b""), &limits).unwrap_err();
    assert!(matches!(err, PcapError::NotACapture { .. }), "{err:?}");
    let err = read(&write("text", b"this is not a capture at all"), &limits).unwrap_err();
    assert!(matches!(err, PcapError::NotACapture { .. }), "{err:?}");
    assert!(err.to_string().contains("74 68 69 73"), "{err}");

    let conv = exchange("127.0.0.1:5000", "127.0.0.1:6000");
    for ext in ["pcap", "pcapng"] {
        let good = dir.path().join(format!("good.{ext}"));
        if ext == "pcap" {
            write_pcap(&good, Link::Ethernet, &conv.out);
        } else {
            write_pcapng(&good, Link::Ethernet, &conv.out, Some(9));
        }
        let full = std::fs::read(&good).unwrap();
        // Cut inside the third packet's record.
        let first = frame(Link::Ethernet, &conv.out[0]).len();
        let second = frame(Link::Ethernet, &conv.out[1]).len();
        let cut_at = if ext == "pcap" {
            24 + 16 + first + 16 + second + 10
        } else {
            full.len() - 7
        };
        let p = write(&format!("cut.{ext}"), &full[..cut_at]);
        let err = read(&p, &limits).unwrap_err();
        match &err {
            PcapError::Malformed { packet, offset, .. } => {
                if ext == "pcap" {
                    assert_eq!(*packet, 3);
                    assert_eq!(*offset, (24 + 16 + first + 16 + second) as u64);
                } else {
                    assert_eq!(*packet, conv.out.len() as u64);
                }
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains(&p.display().to_string()), "{err}");
        assert!(err.to_string().contains("byte offset"), "{err}");
    }

    // A record that claims 4 GiB.
    let good = std::fs::read(dir.path().join("good.pcap")).unwrap();
    let mut bogus = good.clone();
    bogus[24 + 8..24 + 12].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
    let err = read(&write("bogus.pcap", &bogus), &limits).unwrap_err();
    assert!(
        matches!(
            err,
            PcapError::Malformed {
                packet: 1,
                offset: 24,
                ..
            }
        ),
        "{err:?}"
    );
    // A pcapng block whose length is not a multiple of 4.
    let good = std::fs::read(dir.path().join("good.pcapng")).unwrap();
    let mut bogus = good.clone();
    bogus[4] = bogus[4].wrapping_add(1);
    assert!(read(&write("bogus.pcapng", &bogus), &limits).is_err());
}

fn no_panic(path: &Path) {
    let limits = Limits {
        max_bytes_per_direction: 1 << 20,
        max_connections: 64,
    };
    if let Err(e) = read(path, &limits) {
        assert!(!matches!(e, PcapError::ParserFailure { .. }), "{e}");
        assert!(!e.to_string().is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Random bytes, bare or after a valid pcap or pcapng header, and
    /// valid captures with random bytes changed, never make `read` panic
    /// (not even inside, where it would be reported as `ParserFailure`).
    #[test]
    fn arbitrary_input_never_panics(
        kind in 0u8..4,
        noise in proptest::collection::vec(any::<u8>(), 0..600),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..16),
    ) {
        let dir = tmp();
        let p = dir.path().join("x");
        let data = match kind {
            0 => noise,
            1 => {
                let mut d = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                 0, 0, 4, 0, 1, 0, 0, 0];
                d.extend(noise);
                d
            }
            _ => {
                let conv = exchange("127.0.0.1:5000", "127.0.0.1:6000");
                if kind == 2 {
                    write_pcap(&p, Link::Sll, &conv.out);
                } else {
                    write_pcapng(&p, Link::Ethernet, &conv.out, Some(9));
                }
                let mut d = std::fs::read(&p).unwrap();
                for (at, v) in flips {
                    let n = d.len();
                    d[at % n] = v;
                }
                d.extend(noise);
                d
            }
        };
        std::fs::write(&p, &data).unwrap();
        no_panic(&p);
    }
}

// ------------------------------------------------------------- tcpdump

/// Whether tcpdump can be used; prints why not and returns false when it
/// cannot, unless SHUTTLE_REQUIRE_TCPDUMP=1 makes that a failure.
fn tcpdump_unavailable(why: &str) -> bool {
    if std::env::var("SHUTTLE_REQUIRE_TCPDUMP").as_deref() == Ok("1") {
        panic!("SHUTTLE_REQUIRE_TCPDUMP=1, but {why}");
    }
    eprintln!("note: skipping the live tcpdump capture test: {why}");
    true
}

#[test]
fn a_real_loopback_capture_taken_with_tcpdump() {
    live_capture("lo");
}

/// `tcpdump -i any` writes Linux cooked captures (SLL2 with libpcap 1.10).
#[test]
fn a_real_capture_on_any_interface_taken_with_tcpdump() {
    live_capture("any");
}

/// Captures one connection over loopback with `tcpdump -i interface` and
/// checks that `read` gives back exactly the bytes each end sent.
fn live_capture(interface: &str) {
    let dir = tmp();
    let file = dir.path().join("lo.pcap");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let spawned = Command::new("tcpdump")
        .args(["-i", interface, "-w"])
        .arg(&file)
        // --immediate-mode: packets reach the file as they come, not in
        // blocks that a SIGTERM would leave unwritten; -B (KiB): a kernel
        // buffer large enough that no packet is dropped.
        .args(["-U", "--immediate-mode", "-B", "65536", "-Z", "root"])
        .args(["tcp", "port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tcpdump_unavailable("tcpdump is not on PATH");
            return;
        }
        Err(e) => panic!("cannot start tcpdump: {e}"),
    };
    // Wait until it captures.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            let _ = child.wait();
            if said.contains("ermission") || said.contains("not permitted") {
                tcpdump_unavailable(&format!("tcpdump cannot capture: {said}"));
                return;
            }
            panic!("tcpdump exited before capturing: {said}");
        }
        said.push_str(&line);
        if line.contains("listening on") {
            break;
        }
    }
    // Drain the rest of its stderr so it never blocks.
    let drain = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });

    let pattern = |n: usize, k: u8| -> Vec<u8> { (0..n).map(|i| (i % 251) as u8 ^ k).collect() };
    let client_msgs: Vec<Vec<u8>> =
        vec![b"hello".to_vec(), pattern(100_000, 0x5a), b"bye".to_vec()];
    let server_msgs: Vec<Vec<u8>> =
        vec![b"welcome".to_vec(), pattern(70_000, 0xa5), b"ok".to_vec()];
    let client_all = client_msgs.concat();
    let server_all = server_msgs.concat();

    let expected_from_client = client_all.len();
    let server_out = server_msgs.clone();
    let server = std::thread::spawn(move || {
        let (mut s, peer) = listener.accept().unwrap();
        let mut got = vec![0u8; expected_from_client];
        s.read_exact(&mut got).unwrap();
        for m in &server_out {
            s.write_all(m).unwrap();
        }
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        (got, peer)
    });
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let client_addr = client.local_addr().unwrap();
    for m in &client_msgs {
        client.write_all(m).unwrap();
    }
    let mut got = Vec::new();
    client.read_to_end(&mut got).unwrap();
    drop(client);
    let (server_got, peer) = server.join().unwrap();
    assert_eq!(server_got, client_all);
    assert_eq!(got, server_all);
    assert_eq!(peer, client_addr);

    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    child.wait().unwrap();
    let tcpdump_said = drain.join().unwrap();

    let sides = read(&file, &Limits::default()).unwrap_or_else(|e| panic!("{e}\n{tcpdump_said}"));
    assert_eq!(sides.len(), 2, "{tcpdump_said}\n{sides:#?}");
    let server_addr = format!("127.0.0.1:{port}");
    let (c, s) = (&sides[0], &sides[1]);
    assert_eq!(c.local, client_addr.to_string());
    assert_eq!(c.remote, server_addr);
    assert_eq!(c.connected, Some(true));
    assert_eq!(s.local, server_addr);
    assert_eq!(s.remote, client_addr.to_string());
    assert_eq!(s.connected, Some(false));
    assert_eq!(c.cut, None, "{tcpdump_said}");
    assert_eq!(s.cut, None, "{tcpdump_said}");
    same_bytes(&bytes(c), &client_all, "client", &file);
    same_bytes(&bytes(s), &server_all, "server", &file);
    assert!(c.sent.iter().all(|ch| ch.t_ns > 1_600_000_000_000_000_000));
}

/// Asserts equal byte strings, saying where they first differ.
fn same_bytes(got: &[u8], want: &[u8], who: &str, file: &Path) {
    if got != want {
        let at = got.iter().zip(want).take_while(|(a, b)| a == b).count();
        let keep = std::env::temp_dir().join("shuttle-pcap-test-failure.pcap");
        let _ = std::fs::copy(file, &keep);
        panic!(
            "the {who}'s bytes differ: {} read, {} sent, first difference at offset {at} \
             (capture kept as {})",
            got.len(),
            want.len(),
            keep.display()
        );
    }
}
