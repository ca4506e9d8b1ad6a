//! Lintas integration tests: wire round trips for every notice kind, every
//! validation rule, tamper detection, the trust roster, the published test
//! vectors, property tests that no input panics the decoders, the node
//! engine on an in-memory network, and multi-node tests over gRPC.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod access_log;
mod attachment_nodes;
mod attachments;
mod disclosure_nodes;
mod disclosure_vectors;
mod ed25519;
mod engine;
mod erasure;
mod evidence;
mod evidence_vectors;
mod exports;
mod faults;
mod log_vectors;
mod matching;
mod matching_vectors;
mod nodes;
mod offline;
mod offline_vectors;
mod properties;
mod protocol_doc;
mod replicas;
mod retention;
mod roster;
mod round_trip;
mod stores;
mod support;
mod tamper;
mod templates;
mod transparency;
mod validation;
mod vectors;
mod witness_nodes;
mod witnessing;
