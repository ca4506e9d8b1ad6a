//! # Lintas gRPC
//!
//! Agency nodes that exchange signed notices over mutual-TLS gRPC.
//!
//! What a node decides lives in the engine ([`lintas_node`]); this crate
//! is its gRPC adapter:
//!
//! - [`node`]: the node runtime and its builder: serve, store, deliver.
//! - [`peer`]: the `PeerExchange` service nodes speak to each other.
//! - [`agency`]: the `AgencyApi` service an agency's case system speaks to
//!   its own node.
//! - `delivery`: the gRPC client as the engine's transport.
//! - [`tls`]: mutual TLS and mapping a peer certificate to a roster agency.
//! - [`pki`]: a development PKI (CA and node certificates) for tests and
//!   trials; never for production.
//! - [`status`]: the one place errors become gRPC statuses.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod agency;
mod attachments;
pub mod console;
pub mod node;
pub mod officer;
mod offline;
pub mod peer;
pub mod pki;
pub mod status;
pub mod tls;

mod delivery;
mod listener;
mod metrics;
mod state;

/// Generated service stubs (`lintas.v1.PeerExchange`, `lintas.v1.AgencyApi`);
/// messages are [`lintas_core::pb`].
pub mod pb {
    #![allow(
        missing_docs,
        unreachable_pub,
        missing_debug_implementations,
        clippy::all
    )]
    include!(concat!(env!("OUT_DIR"), "/lintas.v1.rs"));

    /// The encoded descriptor set of `lintas.v1`, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/lintas_descriptor.bin"));
}

pub use lintas_node::disclosure::{DisclosureRules, Role};
pub use lintas_node::{
    AttachmentConfig, DeliveryConfig, HistoryError, InboxError, MatchingConfig, ReceivedNotice,
    Refusal,
};
pub use lintas_store::PostgresConfig;
pub use node::{
    DEFAULT_RETENTION_EVERY, DEFAULT_WITNESS_EVERY, Limits, Node, NodeBuilder, NodeError,
    NodeHandle,
};
pub use officer::{AgencyClient, Officer, agency_client};
