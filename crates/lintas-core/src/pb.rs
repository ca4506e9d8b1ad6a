//! Generated protobuf types for `lintas.v1` (the wire contract).
//!
//! These types are the wire format only. The rest of the crate works with
//! validated domain types; convert with `TryFrom` (wire to domain, with
//! field-path errors) and `From` (domain to wire).
#![allow(
    missing_docs,
    unreachable_pub,
    missing_debug_implementations,
    clippy::all
)]

include!(concat!(env!("OUT_DIR"), "/lintas.v1.rs"));
