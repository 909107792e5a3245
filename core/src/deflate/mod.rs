//! permessage-deflate (RFC 7692): negotiation and per-message compression.
//!
//! Negotiation is plain string work and always compiled; the codec needs the `deflate`
//! cargo feature (on by default). Without it a client offers nothing and a server
//! declines every offer, so the rest of the crate needs no conditional code beyond
//! holding an `Option<Deflate>`.
//!
//! Window bits: our decompressor always runs with a 32 KiB window, which reads any
//! stream a peer may send. Our compressor honours the window the peer allows us; zlib
//! cannot write raw deflate with an 8-bit window, so a server declines offers that
//! demand 8 for its own side, and a client told to use 8 sends uncompressed messages
//! (RFC 7692 lets any message go uncompressed).

#[cfg(feature = "deflate")]
mod codec;
#[cfg(feature = "deflate")]
pub use codec::{Compressor, Decompressor};

/// The compressed data is corrupt, or inflates past the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InflateError {
    /// Not a valid deflate stream (the connection fails with 1007).
    Corrupt,
    /// The message would exceed the limit (the connection fails with 1009).
    TooBig,
}

/// The negotiated extension at work on one connection: a compressor for what we send
/// and a decompressor for what we receive. Without the `deflate` feature this type has
/// no values.
///
/// Each codec is created on first use: zlib state is hundreds of KiB, and an idle
/// connection (or one whose messages stay under the threshold) should not pay for it.
#[cfg(feature = "deflate")]
pub struct PerMessageDeflate {
    compressor: Option<Compressor>,
    decompressor: Option<Decompressor>,
    agreement: Agreement,
    level: u32,
    threshold: usize,
}

/// The negotiated extension (uninhabited: the `deflate` feature is off).
#[cfg(not(feature = "deflate"))]
pub enum PerMessageDeflate {}

#[cfg(feature = "deflate")]
impl PerMessageDeflate {
    /// The codec pair for an agreement.
    pub fn new(cfg: &DeflateConfig, agreement: Agreement) -> Option<Self> {
        Some(Self {
            compressor: None,
            decompressor: None,
            agreement,
            level: cfg.level,
            threshold: cfg.threshold,
        })
    }

    /// The compressed payload for an outgoing message, or `None` to send it as is.
    pub fn compress(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        if data.len() < self.threshold {
            return None;
        }
        if self.compressor.is_none() {
            let a = self.agreement;
            // `None` for a window we cannot honour (8 bits): such messages go uncompressed.
            self.compressor = Compressor::new(self.level, a.send_window_bits, a.send_no_context_takeover);
        }
        let mut out = Vec::new();
        self.compressor.as_mut()?.compress(data, &mut out);
        Some(out)
    }

    /// Inflates a chunk of an incoming compressed message into `out` (at most `limit`).
    pub fn inflate(&mut self, chunk: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), InflateError> {
        self.decompressor().inflate(chunk, out, limit)
    }

    /// Ends an incoming compressed message.
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), InflateError> {
        self.decompressor().finish(out, limit)
    }

    fn decompressor(&mut self) -> &mut Decompressor {
        let reset = self.agreement.recv_no_context_takeover;
        self.decompressor.get_or_insert_with(|| Decompressor::new(reset))
    }
}

#[cfg(not(feature = "deflate"))]
impl PerMessageDeflate {
    /// Never: compression is compiled out.
    pub fn new(_cfg: &DeflateConfig, _agreement: Agreement) -> Option<Self> {
        None
    }

    /// Unreachable: no value of this type exists.
    pub fn compress(&mut self, _data: &[u8]) -> Option<Vec<u8>> {
        match *self {}
    }

    /// Unreachable: no value of this type exists.
    pub fn inflate(&mut self, _chunk: &[u8], _out: &mut Vec<u8>, _limit: usize) -> Result<(), InflateError> {
        match *self {}
    }

    /// Unreachable: no value of this type exists.
    pub fn finish(&mut self, _out: &mut Vec<u8>, _limit: usize) -> Result<(), InflateError> {
        match *self {}
    }
}

/// Tuning of permessage-deflate for one connection. `Default` offers (as a client) or
/// accepts (as a server) compression with context takeover and 15-bit windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Compression level, 0 (store) to 9 (best). Default 1: most of the ratio for a
    /// fraction of the CPU, as the fast WebSocket servers choose.
    pub level: u32,
    /// Messages shorter than this go uncompressed. Default 64 bytes.
    pub threshold: usize,
    /// Ask that the client reset its compression context after every message.
    pub client_no_context_takeover: bool,
    /// Ask that the server reset its compression context after every message.
    pub server_no_context_takeover: bool,
    /// Cap on the client's compression window (9–15); `None` leaves it to the peer.
    pub client_max_window_bits: Option<u8>,
    /// Cap on the server's compression window (9–15); `None` leaves it to the peer.
    pub server_max_window_bits: Option<u8>,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            level: 1,
            threshold: 64,
            client_no_context_takeover: false,
            server_no_context_takeover: false,
            client_max_window_bits: None,
            server_max_window_bits: None,
        }
    }
}

/// What both ends agreed to, seen from one end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreement {
    /// Our compressor's window (8–15).
    pub send_window_bits: u8,
    /// Our compressor resets after every message.
    pub send_no_context_takeover: bool,
    /// The peer resets its compressor after every message (so may our decompressor).
    pub recv_no_context_takeover: bool,
}

const NAME: &str = "permessage-deflate";

/// One extension offer or response: its parameters, in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Params {
    client_no_context_takeover: bool,
    server_no_context_takeover: bool,
    /// `None`: absent. `Some(None)`: present without value (client offers only).
    client_max_window_bits: Option<Option<u8>>,
    server_max_window_bits: Option<u8>,
}

fn parse_bits(v: Option<&str>) -> Result<Option<u8>, String> {
    match v {
        None => Ok(None),
        Some(v) => {
            let v = v.trim().trim_matches('"');
            match v.parse::<u8>() {
                Ok(n @ 8..=15) if !v.starts_with('0') => Ok(Some(n)),
                _ => Err(format!("invalid window bits {}", crate::excerpt::quote(v.as_bytes()))),
            }
        }
    }
}

/// Parses the parameters of one `permessage-deflate` element (after its name).
fn parse_params<'a>(params: impl Iterator<Item = &'a str>) -> Result<Params, String> {
    let mut p = Params::default();
    let mut seen = Vec::new();
    for raw in params {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let (k, v) = match raw.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v)),
            None => (raw, None),
        };
        let k = k.to_ascii_lowercase();
        if seen.contains(&k) {
            return Err(format!("duplicate parameter {}", crate::excerpt::quote(k.as_bytes())));
        }
        match k.as_str() {
            "client_no_context_takeover" | "server_no_context_takeover" if v.is_some() => {
                return Err(format!("{k} takes no value"))
            }
            "client_no_context_takeover" => p.client_no_context_takeover = true,
            "server_no_context_takeover" => p.server_no_context_takeover = true,
            "client_max_window_bits" => p.client_max_window_bits = Some(parse_bits(v)?),
            "server_max_window_bits" => match parse_bits(v)? {
                Some(n) => p.server_max_window_bits = Some(n),
                None => return Err("server_max_window_bits needs a value".into()),
            },
            other => return Err(format!("unknown parameter {}", crate::excerpt::quote(other.as_bytes()))),
        }
        seen.push(k);
    }
    Ok(p)
}

/// Splits an extensions header value into (name, parameters) elements.
fn elements(header: &str) -> impl Iterator<Item = (&str, std::str::Split<'_, char>)> {
    header.split(',').filter(|e| !e.trim().is_empty()).map(|e| {
        let mut parts = e.split(';');
        let name = parts.next().unwrap_or("").trim();
        (name, parts)
    })
}

/// The client's offer header value, or `None` when compression is compiled out.
pub fn client_offer(cfg: &DeflateConfig) -> Option<String> {
    if !cfg!(feature = "deflate") {
        return None;
    }
    let mut s = String::from(NAME);
    if cfg.client_no_context_takeover {
        s.push_str("; client_no_context_takeover");
    }
    if cfg.server_no_context_takeover {
        s.push_str("; server_no_context_takeover");
    }
    if let Some(b) = cfg.server_max_window_bits {
        s.push_str(&format!("; server_max_window_bits={}", b.clamp(9, 15)));
    }
    match cfg.client_max_window_bits {
        Some(b) => s.push_str(&format!("; client_max_window_bits={}", b.clamp(9, 15))),
        None => s.push_str("; client_max_window_bits"),
    }
    Some(s)
}

/// Client: judges the server's `Sec-WebSocket-Extensions` value against our offer.
pub fn client_accept(cfg: &DeflateConfig, response: &str) -> Result<Agreement, String> {
    let mut agreed = None;
    for (name, params) in elements(response) {
        if !name.eq_ignore_ascii_case(NAME) {
            return Err(format!(
                "the server accepted extension {} that was not offered",
                crate::excerpt::quote(name.as_bytes())
            ));
        }
        if agreed.is_some() {
            return Err("permessage-deflate accepted twice".into());
        }
        let p = parse_params(params)?;
        if let (Some(asked), Some(got)) = (cfg.server_max_window_bits, p.server_max_window_bits) {
            if got > asked.clamp(9, 15) {
                return Err("server_max_window_bits above what was offered".into());
            }
        }
        let send_window_bits = match p.client_max_window_bits {
            Some(Some(n)) => n.min(cfg.client_max_window_bits.unwrap_or(15)),
            Some(None) => return Err("client_max_window_bits without a value in a response".into()),
            None => cfg.client_max_window_bits.unwrap_or(15),
        };
        agreed = Some(Agreement {
            send_window_bits,
            send_no_context_takeover: p.client_no_context_takeover || cfg.client_no_context_takeover,
            recv_no_context_takeover: p.server_no_context_takeover,
        });
    }
    agreed.ok_or_else(|| "empty Sec-WebSocket-Extensions".into())
}

/// Server: picks the first acceptable offer among the client's extension header
/// values, returning the response value and the agreement. `None`: no compression.
pub fn server_accept<'a>(cfg: &DeflateConfig, offers: impl Iterator<Item = &'a str>) -> Option<(String, Agreement)> {
    if !cfg!(feature = "deflate") {
        return None;
    }
    for header in offers {
        for (name, params) in elements(header) {
            if !name.eq_ignore_ascii_case(NAME) {
                continue;
            }
            let Ok(p) = parse_params(params) else { continue };
            let server_bits = match (p.server_max_window_bits, cfg.server_max_window_bits) {
                (Some(a), Some(b)) => Some(a.min(b.clamp(9, 15))),
                (a, b) => a.or(b.map(|b| b.clamp(9, 15))),
            };
            if server_bits == Some(8) {
                continue; // zlib cannot write an 8-bit raw deflate window: decline.
            }
            let client_bits = match (p.client_max_window_bits, cfg.client_max_window_bits) {
                (Some(offered), Some(ours)) => Some(ours.clamp(9, 15).min(offered.unwrap_or(15))),
                _ => None,
            };
            let server_no_ctx = p.server_no_context_takeover || cfg.server_no_context_takeover;
            let client_no_ctx = p.client_no_context_takeover || cfg.client_no_context_takeover;
            let mut response = String::from(NAME);
            if server_no_ctx {
                response.push_str("; server_no_context_takeover");
            }
            if client_no_ctx {
                response.push_str("; client_no_context_takeover");
            }
            if let Some(b) = server_bits {
                response.push_str(&format!("; server_max_window_bits={b}"));
            }
            if let Some(b) = client_bits {
                response.push_str(&format!("; client_max_window_bits={b}"));
            }
            let agreement = Agreement {
                send_window_bits: server_bits.unwrap_or(15),
                send_no_context_takeover: server_no_ctx,
                recv_no_context_takeover: client_no_ctx,
            };
            return Some((response, agreement));
        }
    }
    None
}

#[cfg(all(test, feature = "deflate"))]
mod tests {
    use super::*;

    #[test]
    fn default_client_offer() {
        assert_eq!(
            client_offer(&DeflateConfig::default()).unwrap(),
            "permessage-deflate; client_max_window_bits"
        );
    }

    #[test]
    fn client_judges_responses() {
        let cfg = DeflateConfig::default();
        let a = client_accept(&cfg, "permessage-deflate").unwrap();
        assert_eq!(
            (
                a.send_window_bits,
                a.send_no_context_takeover,
                a.recv_no_context_takeover
            ),
            (15, false, false)
        );
        let a = client_accept(
            &cfg,
            "permessage-deflate; client_max_window_bits=9; client_no_context_takeover; server_no_context_takeover",
        )
        .unwrap();
        assert_eq!(
            (
                a.send_window_bits,
                a.send_no_context_takeover,
                a.recv_no_context_takeover
            ),
            (9, true, true)
        );
        for bad in [
            "x-webkit-deflate-frame",
            "permessage-deflate, permessage-deflate",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; foo",
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
        ] {
            assert!(client_accept(&cfg, bad).is_err(), "{bad}");
        }
        let capped = DeflateConfig {
            server_max_window_bits: Some(10),
            ..cfg
        };
        assert!(client_accept(&capped, "permessage-deflate; server_max_window_bits=12").is_err());
    }

    #[test]
    fn server_picks_the_first_acceptable_offer() {
        let cfg = DeflateConfig::default();
        let (resp, a) = server_accept(&cfg, ["permessage-deflate; client_max_window_bits"].into_iter()).unwrap();
        assert_eq!(resp, "permessage-deflate");
        assert_eq!(a.send_window_bits, 15);
        let (resp, a) = server_accept(
            &cfg,
            ["permessage-deflate; server_max_window_bits=8, permessage-deflate; server_no_context_takeover; server_max_window_bits=9"]
                .into_iter(),
        )
        .unwrap();
        assert_eq!(
            resp,
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=9"
        );
        assert_eq!((a.send_window_bits, a.send_no_context_takeover), (9, true));
        assert!(server_accept(&cfg, ["permessage-deflate; bogus", "x-other"].into_iter()).is_none());
        let strict = DeflateConfig {
            client_max_window_bits: Some(10),
            client_no_context_takeover: true,
            ..cfg
        };
        let (resp, a) = server_accept(&strict, ["permessage-deflate; client_max_window_bits"].into_iter()).unwrap();
        assert_eq!(
            resp,
            "permessage-deflate; client_no_context_takeover; client_max_window_bits=10"
        );
        assert!(a.recv_no_context_takeover);
    }
}
