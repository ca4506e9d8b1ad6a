//! A node's transparency log: every notice it sends or receives and every
//! receipt it issues or holds is appended, in order, to a Merkle tree whose
//! root the node signs (a checkpoint) and its peers check and cosign, so
//! that no node can show two partners two different histories
//! (docs/PROTOCOL.md section 10).
//!
//! - [`merkle`]: RFC 6962 hashing, inclusion and consistency proofs.
//! - [`checkpoint`]: signed checkpoints, witnesses' cosignatures, and what
//!   a witness checks before cosigning.
//! - [`entry`]: what each leaf records.
//! - [`proofs`]: inclusion proofs against checkpoints, and the evidence of
//!   a fork.

pub mod checkpoint;
pub mod entry;
pub mod merkle;
pub mod proofs;
