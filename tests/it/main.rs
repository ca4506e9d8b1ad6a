//! Lintas integration tests: wire round trips for every notice kind, every
//! validation rule, tamper detection, the trust roster, the published test
//! vectors and property tests that no input panics the decoders.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod nodes;
mod properties;
mod roster;
mod round_trip;
mod support;
mod tamper;
mod templates;
mod validation;
mod vectors;
