//! steadysock
