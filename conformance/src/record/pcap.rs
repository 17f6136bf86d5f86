//! Reading a packet capture (classic pcap or pcapng) of loopback tractor
//! traffic into [`Side`]s: two per TCP connection, one per end, each with
//! the bytes that end sent.
//!
//! The file is parsed with the `pcap-file` crate, the packet headers with
//! `etherparse`. Supported link types: Ethernet, Linux cooked capture (SLL
//! and SLL2, what `tcpdump -i any` writes), BSD loopback (NULL and LOOP)
//! and raw IPv4/IPv6. Packets other than TCP over IPv4 or IPv6 are ignored,
//! and so are packets whose headers do not parse (a packet cut short by a
//! small snap length, say): the bytes they carried show up as a gap.
//!
//! Each direction of a connection is reassembled from the sequence
//! numbers: from the SYN, or from the first packet seen when the SYN is not
//! in the capture. Retransmitted bytes are dropped, segments that arrive
//! out of order are put in order, and sequence numbers may wrap around. A
//! gap that is never filled ends the direction there, and its
//! [`Side::cut`] says at which offset. A connection is its 4-tuple; a SYN
//! on a 4-tuple whose connection saw a FIN or a RST (or a SYN with a new
//! initial sequence number) starts a new connection.
//!
//! A packet capture cannot tell apart the two ends of a TCP connection a
//! socket made to itself (same address and port at both ends): all its
//! bytes count as sent by one end.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::{IpAddr, SocketAddr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use byteorder::{BigEndian, LittleEndian};
use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::{
    ENHANCED_PACKET_BLOCK, INTERFACE_DESCRIPTION_BLOCK, PACKET_BLOCK, SECTION_HEADER_BLOCK,
    SIMPLE_PACKET_BLOCK,
};
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{DataLink, Endianness, TsResolution};

use super::{Chunk, Side, Transport};

/// Bounds on what [`read`] keeps in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes kept for one direction of one connection (delivered
    /// and waiting for a gap to be filled together). Bytes past this offset
    /// are dropped and the direction's [`Side::cut`] says so. Default:
    /// 1 GiB.
    pub max_bytes_per_direction: usize,
    /// The most TCP connections a capture may hold; one more is an error
    /// ([`PcapError::TooManyConnections`]). Default: 65,536.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes_per_direction: 1 << 30,
            max_connections: 65_536,
        }
    }
}

/// Why a packet capture could not be read.
///
/// Packets are numbered from 1 in file order (as Wireshark numbers them);
/// an error about a record that is not a packet names the number the next
/// packet would have. Byte offsets count from the start of the file.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    /// The file could not be opened or read.
    #[error("cannot read packet capture {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file starts with neither a pcap nor a pcapng magic number.
    #[error("{path} is not a packet capture (pcap or pcapng): {reason}")]
    NotACapture {
        /// The file.
        path: String,
        /// What was found instead.
        reason: String,
    },
    /// A record of the file is malformed or cut short.
    #[error("{path}: malformed {what} (packet {packet}, byte offset {offset}): {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// The number of the packet being read.
        packet: u64,
        /// Where the record starts.
        offset: u64,
        /// Which kind of record (`"pcap file header"`, `"pcapng block"`,
        /// ...).
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A packet of a link type this reader does not know.
    #[error(
        "{path}: packet {packet} (byte offset {offset}) has link type {link_type} ({name}), \
         which is not supported (supported: Ethernet, Linux cooked SLL and SLL2, \
         BSD loopback NULL and LOOP, raw IPv4/IPv6)"
    )]
    UnsupportedLinkType {
        /// The file.
        path: String,
        /// The packet.
        packet: u64,
        /// Where its record starts (for a classic pcap, the file header's
        /// link type field).
        offset: u64,
        /// The `LINKTYPE_` number.
        link_type: u32,
        /// The link type's name, as far as known.
        name: String,
    },
    /// A pcapng packet names an interface its section does not describe.
    #[error(
        "{path}: packet {packet} (byte offset {offset}) names interface {interface}, \
         but its section describes {count} interface(s)"
    )]
    UnknownInterface {
        /// The file.
        path: String,
        /// The packet.
        packet: u64,
        /// Where its block starts.
        offset: u64,
        /// The interface number the packet names.
        interface: u32,
        /// How many interfaces the section describes.
        count: usize,
    },
    /// The capture holds more TCP connections than
    /// [`Limits::max_connections`].
    #[error(
        "{path}: packet {packet} (byte offset {offset}) opens TCP connection {connection}, \
         one more than the limit of {limit} connections"
    )]
    TooManyConnections {
        /// The file.
        path: String,
        /// The packet that would open one connection too many.
        packet: u64,
        /// Where its record starts.
        offset: u64,
        /// The connection, `a -> b`.
        connection: String,
        /// The limit.
        limit: usize,
    },
    /// The parser failed unexpectedly on this input; it is reported rather
    /// than allowed to end the program.
    #[error(
        "{path}: cannot parse the capture at packet {packet} (byte offset {offset}): {reason}"
    )]
    ParserFailure {
        /// The file.
        path: String,
        /// The packet being read.
        packet: u64,
        /// Where its record starts.
        offset: u64,
        /// What the parser said.
        reason: String,
    },
}

/// Reads a pcap or pcapng file of loopback tractor traffic and returns two
/// [`Side`]s per TCP connection found.
///
/// Each connection gives one `Side` per end: `source` is `path` as text,
/// `pid` is `None`, `local` and `remote` are `host:port` (IPv6 as
/// `[addr]:port`), `connected` is `Some(true)` for the end that sent the
/// SYN and `Some(false)` for the other (`None` when the capture holds no
/// SYN of the connection), `sent` holds the end's payload bytes, one
/// [`Chunk`] per segment delivered in order with the packet's timestamp in
/// nanoseconds since the epoch, `received` is `None`, and `cut` tells why
/// the bytes end early, when they do (a gap in the capture, or more bytes
/// than [`Limits::max_bytes_per_direction`]).
///
/// Connections come in the order of their first packet's timestamp, the
/// two sides of one connection next to each other, the connecting side
/// first when known (else the side that sent the first packet). Connections
/// without any payload are returned too.
pub fn read(path: &Path, limits: &Limits) -> Result<Vec<Side>, PcapError> {
    let name = path.display().to_string();
    let io = |source| PcapError::Io {
        path: name.clone(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut head = Vec::with_capacity(12);
    (&mut file).take(12).read_to_end(&mut head).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let Some(magic) = head.get(..4) else {
        return Err(PcapError::NotACapture {
            path: name,
            reason: format!("the file holds only {} byte(s)", head.len()),
        });
    };
    let magic = [magic[0], magic[1], magic[2], magic[3]];
    let mut tracker = Tracker::new(&name, limits);
    let outcome = catch_unwind(AssertUnwindSafe(|| match magic {
        [0x0a, 0x0d, 0x0d, 0x0a] => read_pcapng(file, &head, &mut tracker),
        [0xa1, 0xb2, 0xc3, 0xd4]
        | [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d]
        | [0x4d, 0x3c, 0xb2, 0xa1] => read_pcap(file, &mut tracker),
        _ => Err(PcapError::NotACapture {
            path: name.clone(),
            reason: format!(
                "it starts with the bytes {:02x} {:02x} {:02x} {:02x}",
                magic[0], magic[1], magic[2], magic[3]
            ),
        }),
    }));
    match outcome {
        Ok(result) => result?,
        Err(payload) => {
            let reason = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown failure".to_string());
            let (packet, offset) = tracker.at;
            return Err(PcapError::ParserFailure {
                path: name,
                packet,
                offset,
                reason,
            });
        }
    }
    Ok(tracker.finish())
}

/// Reads a classic pcap file.
fn read_pcap(file: File, tracker: &mut Tracker) -> Result<(), PcapError> {
    let path = tracker.path.to_string();
    let mut reader = PcapReader::new(file).map_err(|e| PcapError::Malformed {
        path: path.clone(),
        packet: 1,
        offset: 0,
        what: "pcap file header",
        reason: describe(e),
    })?;
    let header = reader.header();
    // The upper bits of the field may carry FCS information.
    let link = DataLink::from(u32::from(header.datalink) & 0xffff);
    if !supported(link) {
        return Err(PcapError::UnsupportedLinkType {
            path,
            packet: 1,
            offset: 20,
            link_type: u32::from(link),
            name: format!("{link:?}"),
        });
    }
    let nanos = header.ts_resolution == TsResolution::NanoSecond;
    let mut offset: u64 = 24;
    let mut packet: u64 = 0;
    loop {
        packet += 1;
        tracker.at = (packet, offset);
        let Some(record) = reader.next_raw_packet() else {
            return Ok(());
        };
        let record = record.map_err(|e| PcapError::Malformed {
            path: path.clone(),
            packet,
            offset,
            what: "pcap packet record",
            reason: describe(e),
        })?;
        let frac = u64::from(record.ts_frac);
        let t_ns =
            u64::from(record.ts_sec) * 1_000_000_000 + if nanos { frac } else { frac * 1000 };
        offset += 16 + record.data.len() as u64;
        tracker.packet(link, t_ns, &record.data)?;
    }
}

/// What a pcapng interface description says that matters here.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link: DataLink,
    /// `if_tsresol` (6, microseconds, when absent).
    tsresol: u8,
    /// `if_tsoffset`, seconds.
    tsoffset: u64,
}

impl Interface {
    fn of(block: &InterfaceDescriptionBlock<'_>) -> Interface {
        let mut interface = Interface {
            link: block.linktype,
            tsresol: 6,
            tsoffset: 0,
        };
        for option in &block.options {
            match option {
                InterfaceDescriptionOption::IfTsResol(r) => interface.tsresol = *r,
                InterfaceDescriptionOption::IfTsOffset(o) => interface.tsoffset = *o,
                _ => {}
            }
        }
        interface
    }

    /// A raw pcapng timestamp as nanoseconds since the epoch (saturating).
    fn nanos(&self, raw: u64) -> u64 {
        let raw = u128::from(raw);
        let ns = if self.tsresol & 0x80 == 0 {
            let exp = u32::from(self.tsresol);
            if exp <= 9 {
                raw * 10u128.pow(9 - exp)
            } else {
                10u128.checked_pow(exp - 9).map_or(0, |d| raw / d)
            }
        } else {
            (raw * 1_000_000_000)
                .checked_shr(u32::from(self.tsresol & 0x7f))
                .unwrap_or(0)
        };
        let total = ns.saturating_add(u128::from(self.tsoffset) * 1_000_000_000);
        u64::try_from(total).unwrap_or(u64::MAX)
    }
}

/// Reads a pcapng file; `head` is up to its first 12 bytes.
fn read_pcapng(file: File, head: &[u8], tracker: &mut Tracker) -> Result<(), PcapError> {
    let path = tracker.path.to_string();
    tracker.at = (1, 0);
    let mut reader = PcapNgReader::new(file).map_err(|e| PcapError::Malformed {
        path: path.clone(),
        packet: 1,
        offset: 0,
        what: "pcapng section header block",
        reason: describe(e),
    })?;
    // The reader has consumed the first section header block: its length
    // (in the byte order its magic number at offset 8 gives) is where the
    // next block starts.
    let first_len = match (head.get(4..8), reader.section().endianness) {
        (Some(b), Endianness::Big) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        (Some(b), Endianness::Little) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        (None, _) => 0,
    };
    let mut offset = u64::from(first_len);
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut packets: u64 = 0;
    loop {
        let endianness = reader.section().endianness;
        let packet = packets + 1;
        tracker.at = (packet, offset);
        let Some(raw) = reader.next_raw_block() else {
            return Ok(());
        };
        let block_offset = offset;
        let path_ref = &path;
        let malformed = move |what, e| PcapError::Malformed {
            path: path_ref.clone(),
            packet,
            offset: block_offset,
            what,
            reason: describe(e),
        };
        let raw = raw.map_err(|e| malformed("pcapng block", e))?;
        offset += u64::from(raw.initial_len);
        match raw.type_ {
            SECTION_HEADER_BLOCK | INTERFACE_DESCRIPTION_BLOCK => {
                // The reader keeps the section's interfaces; copy them once
                // the block is no longer borrowed.
            }
            ENHANCED_PACKET_BLOCK | SIMPLE_PACKET_BLOCK | PACKET_BLOCK => {
                packets = packet;
                let block = match endianness {
                    Endianness::Big => raw.try_into_block::<BigEndian>(),
                    Endianness::Little => raw.try_into_block::<LittleEndian>(),
                }
                .map_err(|e| malformed("pcapng packet block", e))?;
                let (interface, raw_ts, data) = match block {
                    Block::EnhancedPacket(b) => (
                        b.interface_id,
                        // pcap-file keeps the raw count as nanoseconds.
                        Some(u64::try_from(b.timestamp.as_nanos()).unwrap_or(u64::MAX)),
                        b.data,
                    ),
                    Block::Packet(b) => (u32::from(b.interface_id), Some(b.timestamp), b.data),
                    Block::SimplePacket(b) => (0, None, b.data),
                    _ => continue,
                };
                let Some(iface) = interfaces.get(interface as usize).copied() else {
                    return Err(PcapError::UnknownInterface {
                        path,
                        packet,
                        offset: block_offset,
                        interface,
                        count: interfaces.len(),
                    });
                };
                if !supported(iface.link) {
                    return Err(PcapError::UnsupportedLinkType {
                        path,
                        packet,
                        offset: block_offset,
                        link_type: u32::from(iface.link),
                        name: format!("{:?}", iface.link),
                    });
                }
                // A simple packet block has no timestamp: it gets the one
                // of the packet before it.
                let t_ns = raw_ts.map_or(tracker.last_t_ns, |r| iface.nanos(r));
                tracker.packet(iface.link, t_ns, &data)?;
                continue;
            }
            _ => continue,
        }
        interfaces = reader.interfaces().iter().map(Interface::of).collect();
    }
}

/// The parser's error in words.
fn describe(e: pcap_file::PcapError) -> String {
    match e {
        pcap_file::PcapError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends inside this record (truncated file, or a bogus length)".to_string()
        }
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(&other);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

/// Whether [`slice`] knows the link type.
fn supported(link: DataLink) -> bool {
    matches!(
        link,
        DataLink::ETHERNET
            | DataLink::LINUX_SLL
            | DataLink::LINUX_SLL2
            | DataLink::NULL
            | DataLink::LOOP
            | DataLink::RAW
            | DataLink::IPV4
            | DataLink::IPV6
    )
}

/// The headers of one packet, `None` when they do not parse.
fn slice(link: DataLink, data: &[u8]) -> Option<SlicedPacket<'_>> {
    match link {
        DataLink::ETHERNET => SlicedPacket::from_ethernet(data).ok(),
        DataLink::LINUX_SLL => SlicedPacket::from_linux_sll(data).ok(),
        DataLink::LINUX_SLL2 => {
            // A 20-byte header that starts with the payload's EtherType.
            let ether_type = EtherType(u16::from_be_bytes([*data.first()?, *data.get(1)?]));
            SlicedPacket::from_ether_type(ether_type, data.get(20..)?).ok()
        }
        // A 4-byte address family (whose IPv6 value differs between
        // systems), then the IP packet, whose version tells the family.
        DataLink::NULL | DataLink::LOOP => SlicedPacket::from_ip(data.get(4..)?).ok(),
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => SlicedPacket::from_ip(data).ok(),
        _ => None,
    }
}

/// The TCP fields of one packet that reassembly uses.
struct Segment<'a> {
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    rst: bool,
    payload: &'a [u8],
}

/// Bytes that arrived ahead of a gap.
#[derive(Debug)]
struct Pending {
    t_ns: u64,
    bytes: Vec<u8>,
}

/// One direction of a connection.
#[derive(Debug, Default)]
struct Direction {
    /// The sequence number of offset 0 (the byte after the SYN, or the
    /// first byte of the first packet seen).
    base: Option<u32>,
    /// The initial sequence number, when the SYN was seen.
    isn: Option<u32>,
    /// Bytes delivered in order so far (the offset of the next byte).
    next: u64,
    /// Bytes past a gap, by offset; never overlapping, all past `next`.
    pending: BTreeMap<u64, Pending>,
    /// The bytes delivered in order.
    chunks: Vec<Chunk>,
    /// The offset of the FIN, when seen.
    fin_at: Option<u64>,
    /// The highest offset the other end acknowledged.
    acked: u64,
    /// Whether bytes past the limit were dropped.
    over_limit: bool,
}

impl Direction {
    /// The offset of sequence number `seq`: the one nearest to `next`
    /// modulo 2^32, so sequence numbers may wrap around.
    fn offset(&self, seq: u32) -> Option<i64> {
        let base = self.base?;
        let expected = base.wrapping_add(self.next as u32);
        let diff = i64::from(seq.wrapping_sub(expected) as i32);
        Some(self.next as i64 + diff)
    }

    /// Takes the bytes of one segment, starting at offset `at`.
    fn add(&mut self, at: i64, payload: &[u8], t_ns: u64, max: usize) {
        let end = at + payload.len() as i64;
        let floor = self.next as i64;
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        if end > limit {
            self.over_limit = true;
        }
        let start = at.max(floor);
        let end = end.min(limit);
        if start >= end {
            return;
        }
        let (start, end) = (start as u64, end as u64);
        let from = |s: u64, e: u64| &payload[(s as i64 - at) as usize..(e as i64 - at) as usize];
        // Keep only what no pending segment already holds.
        let mut pieces = Vec::new();
        let mut cursor = start;
        let first = self
            .pending
            .range(..=start)
            .next_back()
            .map_or(start, |(k, _)| *k);
        for (&s, seg) in self.pending.range(first..end) {
            let e = s + seg.bytes.len() as u64;
            if e <= cursor {
                continue;
            }
            if s > cursor {
                pieces.push((cursor, s));
            }
            cursor = e;
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        for (s, e) in pieces {
            self.pending.insert(
                s,
                Pending {
                    t_ns,
                    bytes: from(s, e).to_vec(),
                },
            );
        }
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            let Pending { t_ns, bytes } = entry.remove();
            self.next += bytes.len() as u64;
            self.chunks.push(Chunk { t_ns, bytes });
        }
    }

    /// Why the bytes of this direction end early, if they do.
    fn cut(&self, from: &str, to: &str, max: usize) -> Option<String> {
        let mut known_end = self
            .pending
            .last_key_value()
            .map_or(0, |(k, p)| k + p.bytes.len() as u64);
        known_end = known_end.max(match self.fin_at {
            Some(fin) => fin,
            // An acknowledgement may count a FIN the capture misses.
            None => self.acked.saturating_sub(1),
        });
        let max = max as u64;
        if self.next < known_end.min(max) {
            Some(format!(
                "packet capture misses bytes at offset {} of {from} -> {to}",
                self.next
            ))
        } else if self.over_limit {
            Some(format!(
                "packet capture holds more than the limit of {max} bytes for {from} -> {to}; \
                 bytes from offset {max} on are not kept"
            ))
        } else {
            None
        }
    }
}

/// One TCP connection.
#[derive(Debug)]
struct Connection {
    first_t_ns: u64,
    /// `ends[0]` sent the first packet seen.
    ends: [SocketAddr; 2],
    /// `dirs[i]`: what `ends[i]` sent.
    dirs: [Direction; 2],
    /// The index of the end that connected, when known.
    client: Option<usize>,
    /// Whether a FIN or RST was seen.
    closed: bool,
}

impl Connection {
    fn segment(&mut self, from: SocketAddr, t_ns: u64, seg: &Segment<'_>, max: usize) {
        let i = usize::from(from != self.ends[0]);
        if seg.syn {
            // A SYN without ACK comes from the connecting end, a SYN-ACK
            // from the accepting one.
            let client = if seg.ack.is_none() { i } else { 1 - i };
            self.client.get_or_insert(client);
            let dir = &mut self.dirs[i];
            if dir.base.is_none() {
                dir.base = Some(seg.seq.wrapping_add(1));
                dir.isn = Some(seg.seq);
            }
        }
        if seg.fin || seg.rst {
            self.closed = true;
        }
        let dir = &mut self.dirs[i];
        let data_seq = seg.seq.wrapping_add(u32::from(seg.syn));
        dir.base.get_or_insert(data_seq);
        if let Some(at) = dir.offset(data_seq) {
            if !seg.payload.is_empty() && !seg.rst {
                dir.add(at, seg.payload, t_ns, max);
            }
            let end = at + seg.payload.len() as i64;
            if seg.fin && end >= 0 {
                dir.fin_at.get_or_insert(end as u64);
            }
        }
        if let Some(ack) = seg.ack {
            let other = &mut self.dirs[1 - i];
            if let Some(at) = other.offset(ack) {
                if at > 0 {
                    other.acked = other.acked.max(at as u64);
                }
            }
        }
    }

    /// Whether a SYN from `from` starts a new connection on this 4-tuple.
    fn restarted_by(&self, from: SocketAddr, seg: &Segment<'_>) -> bool {
        if !seg.syn || seg.ack.is_some() {
            return false;
        }
        let dir = &self.dirs[usize::from(from != self.ends[0])];
        self.closed || dir.isn.is_some_and(|isn| isn != seg.seq)
    }
}

/// The connections seen so far.
struct Tracker<'a> {
    path: &'a str,
    limits: &'a Limits,
    /// The packet number and byte offset being read, for reports.
    at: (u64, u64),
    last_t_ns: u64,
    connections: Vec<Connection>,
    /// The open connection of each 4-tuple (lower address first).
    by_tuple: HashMap<(SocketAddr, SocketAddr), usize>,
}

impl<'a> Tracker<'a> {
    fn new(path: &'a str, limits: &'a Limits) -> Self {
        Tracker {
            path,
            limits,
            at: (0, 0),
            last_t_ns: 0,
            connections: Vec::new(),
            by_tuple: HashMap::new(),
        }
    }

    /// Takes one captured packet.
    fn packet(&mut self, link: DataLink, t_ns: u64, data: &[u8]) -> Result<(), PcapError> {
        self.last_t_ns = t_ns;
        let Some(sliced) = slice(link, data) else {
            return Ok(());
        };
        let (src, dst) = match &sliced.net {
            Some(NetSlice::Ipv4(ip)) => (
                IpAddr::V4(ip.header().source_addr()),
                IpAddr::V4(ip.header().destination_addr()),
            ),
            Some(NetSlice::Ipv6(ip)) => (
                IpAddr::V6(ip.header().source_addr()),
                IpAddr::V6(ip.header().destination_addr()),
            ),
            _ => return Ok(()),
        };
        let Some(TransportSlice::Tcp(tcp)) = &sliced.transport else {
            return Ok(());
        };
        let from = SocketAddr::new(src, tcp.source_port());
        let to = SocketAddr::new(dst, tcp.destination_port());
        let seg = Segment {
            seq: tcp.sequence_number(),
            ack: tcp.ack().then(|| tcp.acknowledgment_number()),
            syn: tcp.syn(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            payload: tcp.payload(),
        };
        let key = if from <= to { (from, to) } else { (to, from) };
        let index = match self.by_tuple.get(&key) {
            Some(&i) if !self.connections[i].restarted_by(from, &seg) => i,
            _ => {
                if self.connections.len() >= self.limits.max_connections {
                    let (packet, offset) = self.at;
                    return Err(PcapError::TooManyConnections {
                        path: self.path.to_string(),
                        packet,
                        offset,
                        connection: format!("{from} -> {to}"),
                        limit: self.limits.max_connections,
                    });
                }
                self.connections.push(Connection {
                    first_t_ns: t_ns,
                    ends: [from, to],
                    dirs: Default::default(),
                    client: None,
                    closed: false,
                });
                let i = self.connections.len() - 1;
                self.by_tuple.insert(key, i);
                i
            }
        };
        self.connections[index].segment(from, t_ns, &seg, self.limits.max_bytes_per_direction);
        Ok(())
    }

    /// The two sides of every connection, in order.
    fn finish(self) -> Vec<Side> {
        let mut connections = self.connections;
        connections.sort_by_key(|c| c.first_t_ns);
        let max = self.limits.max_bytes_per_direction;
        let mut sides = Vec::with_capacity(connections.len() * 2);
        for mut c in connections {
            let order = match c.client {
                Some(k) => [k, 1 - k],
                None => [0, 1],
            };
            for i in order {
                let local = c.ends[i].to_string();
                let remote = c.ends[1 - i].to_string();
                let cut = c.dirs[i].cut(&local, &remote, max);
                sides.push(Side {
                    source: self.path.to_string(),
                    pid: None,
                    transport: Transport::Tcp,
                    local,
                    remote,
                    connected: c.client.map(|k| k == i),
                    sent: std::mem::take(&mut c.dirs[i].chunks),
                    received: None,
                    cut,
                    group: None,
                });
            }
        }
        sides
    }
}
