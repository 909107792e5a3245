//! Hosts and tooling around the `steadysock` core: a blocking `std::net` driver for
//! [`Connection`](steadysock::Connection), a blocking host for
//! [`Session`](steadysock::session::Session), the Autobahn runners, a fault-injecting
//! server, the interpreter of the Session scenario table and the Rust agent it drives.

pub mod agent;
pub mod driver;
pub mod fault_server;
pub mod scenario;
pub mod session_host;
