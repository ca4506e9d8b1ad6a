//! Development fixtures for Lintas: a roster of agencies from Indonesia,
//! Thailand and Cambodia with deterministic keys, and a realistic case of
//! online-scam trafficking with one notice of every kind, and a development
//! network that runs several nodes on loopback with mutual TLS.
//!
//! **Never use these keys outside tests**: their seeds are derived from
//! their public key ids, so anyone can recompute them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod devnet;
pub mod postgres;
pub mod proxy;
pub mod scenario;
pub mod world;
