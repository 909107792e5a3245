//! Hosts and tooling around the `steadysock` core: a blocking `std::net` driver, the
//! Autobahn runners, and (with the Session) the fault-injecting server and scenarios.

pub mod driver;
pub mod os_random;
