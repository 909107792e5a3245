//! Memory held by an idle open connection: steadysock's `Connection` (and `Session`)
//! against tungstenite's and fastwebsockets' `WebSocket`.
//!
//! A counting global allocator tracks the bytes requested from the system allocator that
//! are still live. For each kind of connection, 1000 are opened (after a real opening
//! handshake for steadysock; tungstenite and fastwebsockets start from an already
//! upgraded socket) and kept in a pre-sized `Vec`; the bytes per connection are
//! `(live heap after - live heap before) / 1000 + size_of` the struct. The transport is
//! a zero-sized stream, so only the WebSocket's own state counts. Allocator overhead
//! (size classes, headers) is not included: these are bytes asked for.
//!
//! Writes `target/bench/rust-memory.jsonl` and prints the numbers.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use steadysock::session::{Output, Session, SessionConfig, State as SessionState, TransportKind};
use steadysock::{Accept, Config, Connection, Event, SeededRandom};
use steadysock_bench::*;

struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Relaxed);
            LIVE_BLOCKS.fetch_add(1, Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Relaxed);
            LIVE_BLOCKS.fetch_add(1, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size() as isize, Relaxed);
        LIVE_BLOCKS.fetch_sub(1, Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const N: usize = 1000;

/// One measured kind of connection.
struct Measured {
    case: &'static str,
    implementation: &'static str,
    heap: f64,
    blocks: f64,
    struct_size: usize,
}

/// Opens `N` connections with `make`, keeps them, and measures what they hold.
fn measure<T>(case: &'static str, implementation: &'static str, mut make: impl FnMut() -> T) -> Measured {
    // One first, dropped, so that lazily initialised globals are not counted.
    drop(make());
    let mut keep: Vec<T> = Vec::with_capacity(N);
    let (b0, k0) = (LIVE_BYTES.load(Relaxed), LIVE_BLOCKS.load(Relaxed));
    for _ in 0..N {
        keep.push(make());
    }
    let (b1, k1) = (LIVE_BYTES.load(Relaxed), LIVE_BLOCKS.load(Relaxed));
    std::hint::black_box(&keep);
    drop(keep);
    Measured {
        case,
        implementation,
        heap: (b1 - b0) as f64 / N as f64,
        blocks: (k1 - k0) as f64 / N as f64,
        struct_size: std::mem::size_of::<T>(),
    }
}

fn deflate_config() -> Config {
    Config::default()
}

/// An open steadysock pair; checks that permessage-deflate was negotiated iff asked.
fn steadysock_open(deflate: bool, server_side: bool) -> Connection {
    let cfg = if deflate { deflate_config() } else { plain_config() };
    assert_eq!(cfg.deflate.is_some(), deflate);
    let (client, server) = open_pair(cfg.clone(), cfg);
    if server_side {
        server
    } else {
        client
    }
}

/// An open server connection after one 1 KiB text message each way (compressed when
/// `deflate`): what a connection holds once it has been used, not only opened.
fn steadysock_used(deflate: bool) -> Connection {
    let cfg = if deflate { deflate_config() } else { plain_config() };
    let (mut client, mut server) = open_pair(cfg.clone(), cfg);
    let text = text_payload(1024);
    client.send_text(&text).unwrap();
    while let Some(b) = client.poll_transmit() {
        server.handle_input(&b, 0);
    }
    assert!(matches!(server.poll_event(), Some(Event::Message(m)) if m.len() == 1024));
    server.send_text(&text).unwrap();
    while let Some(b) = server.poll_transmit() {
        client.handle_input(&b, 0);
    }
    assert!(matches!(client.poll_event(), Some(Event::Message(m)) if m.len() == 1024));
    server
}

/// Checks once that the default config really negotiates permessage-deflate (a
/// compressible message goes out with RSV1 set).
fn assert_deflate_negotiated() {
    let (mut client, _server) = open_pair(deflate_config(), deflate_config());
    client.send_text(&"a".repeat(1000)).unwrap();
    let wire = client.poll_transmit().unwrap();
    assert!(wire[0] & 0x40 != 0, "permessage-deflate was not negotiated");
    assert!(wire.len() < 200, "message was not compressed");
}

/// An idle open client `Session` over a byte transport, after a real handshake.
fn session_open(deflate: bool) -> Session {
    let cfg = if deflate { deflate_config() } else { plain_config() };
    let config = SessionConfig::new("ws://x/", TransportKind::Bytes(cfg.clone()));
    let mut s = Session::new(config, Box::new(SeededRandom::new(3)), 0);
    s.connect(0);
    let id = std::iter::from_fn(|| s.poll_output())
        .find_map(|o| match o {
            Output::OpenTransport { id, .. } => Some(id),
            _ => None,
        })
        .expect("OpenTransport");
    s.handle_transport_connected(id, 0);
    let mut server = Connection::server(cfg, Box::new(SeededRandom::new(4)), 0);
    for _ in 0..4 {
        while let Some(o) = s.poll_output() {
            if let Output::Transmit { bytes, .. } = o {
                server.handle_input(&bytes, 0);
            }
        }
        while let Some(ev) = server.poll_event() {
            if let Event::Request(_) = ev {
                server.accept(Accept::default(), 0).expect("accept");
            }
        }
        while let Some(b) = server.poll_transmit() {
            s.handle_transport_bytes(id, &b, 0);
        }
    }
    while s.poll_output().is_some() {}
    assert_eq!(s.state(), SessionState::Open);
    s
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful: both run.
    assert_deflate_negotiated();
    let tung_small = tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4 << 10);
    let results = vec![
        measure("idle server, no compression", "steadysock", || {
            steadysock_open(false, true)
        }),
        measure("idle server, no compression", "tungstenite", || {
            tungstenite::protocol::WebSocket::from_raw_socket(NullStream, tungstenite::protocol::Role::Server, None)
        }),
        measure("idle server, no compression", "tungstenite (4 KiB read buffer)", || {
            tungstenite::protocol::WebSocket::from_raw_socket(
                NullStream,
                tungstenite::protocol::Role::Server,
                Some(tung_small),
            )
        }),
        measure("idle server, no compression", "fastwebsockets", || {
            fastwebsockets::WebSocket::after_handshake(NullStream, fastwebsockets::Role::Server)
        }),
        measure("idle server, permessage-deflate", "steadysock", || {
            steadysock_open(true, true)
        }),
        measure("server after 1 KiB each way, no compression", "steadysock", || {
            steadysock_used(false)
        }),
        measure("server after 1 KiB each way, permessage-deflate", "steadysock", || {
            steadysock_used(true)
        }),
        measure("idle client, no compression", "steadysock", || {
            steadysock_open(false, false)
        }),
        measure("idle client, no compression", "tungstenite", || {
            tungstenite::protocol::WebSocket::from_raw_socket(NullStream, tungstenite::protocol::Role::Client, None)
        }),
        measure("idle client, no compression", "tungstenite (4 KiB read buffer)", || {
            tungstenite::protocol::WebSocket::from_raw_socket(
                NullStream,
                tungstenite::protocol::Role::Client,
                Some(tung_small),
            )
        }),
        measure("idle client, no compression", "fastwebsockets", || {
            fastwebsockets::WebSocket::after_handshake(NullStream, fastwebsockets::Role::Client)
        }),
        measure("idle client, permessage-deflate", "steadysock", || {
            steadysock_open(true, false)
        }),
        measure("idle client Session, no compression", "steadysock", || {
            session_open(false)
        }),
        measure("idle client Session, permessage-deflate", "steadysock", || {
            session_open(true)
        }),
    ];
    let mut records = Vec::new();
    println!(
        "{:<50} {:<32} {:>10} {:>8} {:>8} {:>7}",
        "case", "impl", "total B", "heap B", "struct", "blocks"
    );
    for m in &results {
        let total = m.heap + m.struct_size as f64;
        println!(
            "{:<50} {:<32} {:>10.0} {:>8.0} {:>8} {:>7.1}",
            m.case, m.implementation, total, m.heap, m.struct_size, m.blocks
        );
        let mut extra = serde_json::Map::new();
        extra.insert("heap_bytes".into(), m.heap.into());
        extra.insert("struct_bytes".into(), m.struct_size.into());
        extra.insert("heap_blocks".into(), m.blocks.into());
        extra.insert("connections".into(), N.into());
        records.push(Record {
            suite: "rust".into(),
            group: "memory".into(),
            case: m.case.into(),
            size: 0,
            implementation: m.implementation.into(),
            value: total,
            unit: "B".into(),
            higher_is_better: false,
            extra,
        });
    }
    match write_records("rust-memory", &records) {
        Ok(p) => eprintln!("wrote {} records to {}", records.len(), p.display()),
        Err(e) => eprintln!("could not write records: {e}"),
    }
}
