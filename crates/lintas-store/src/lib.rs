//! Durable storage for a Lintas node.
//!
//! The embedded default keeps everything in one [redb](https://docs.rs/redb)
//! file: no server to run. Every state change is one transaction, so a crash
//! at any point leaves either the whole change or none of it:
//!
//! - a received notice, its inbox entry and the receipt answering it are
//!   written together, keyed by notice id, so a duplicate delivery can only
//!   ever find the original and a notice enters the inbox once;
//! - a sent notice and one outbox entry per recipient are written together;
//! - an outbox entry leaves the outbox in the same transaction that stores
//!   the receipt proving its delivery.
//!
//! Agencies running several node replicas keep the same records in one
//! PostgreSQL database instead ([`Store::connect`], [`postgres`]): the
//! replicas share the inbox, outbox, receipts, cursors and sequence numbers,
//! and claim outbox entries so each is sent by one replica at a time. The
//! node sees the same operations and guarantees either way.
//!
//! ```
//! use lintas_core::ids::NoticeId;
//! use lintas_store::{Direction, ReceiveOutcome, Store, StoredNotice};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(&dir.path().join("node.redb"))?;
//!
//! // A verified notice from Cambodia, stored with the receipt answering it.
//! let id = NoticeId::from_bytes([7; 32]);
//! let notice = StoredNotice {
//!     direction: Direction::Received as i32,
//!     case_id: "KHM-MOI-2026-0031".into(),
//!     sender: "KHM.MOI.ATHP".into(),
//!     ..Default::default()
//! };
//! let first = store.record_received(&id, &notice, "KHM.MOI.ATHP", 1, b"receipt")?;
//! assert_eq!(first, ReceiveOutcome::New { cursor: 1 });
//!
//! // Delivered again: nothing changes, the first receipt answers.
//! let again = store.record_received(&id, &notice, "KHM.MOI.ATHP", 1, b"other")?;
//! assert_eq!(again, ReceiveOutcome::Duplicate { receipt: b"receipt".to_vec() });
//!
//! // The case system reads its inbox from a cursor.
//! let inbox = store.inbox_after(0, 100)?;
//! assert_eq!(inbox.len(), 1);
//! assert_eq!(inbox[0].id, id);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod embedded;
pub mod postgres;
mod records;
mod store;
mod transaction;

pub use embedded::DEFAULT_CACHE_BYTES;
pub use postgres::PostgresConfig;
pub use records::{
    AttachmentRecord, Direction, GivenParts, OutboxEntry, OutboxPayload, PeerQuota, PeerRetry,
    StoredNotice,
};
pub use store::{Claimed, InboxEntry, ReceiveOutcome, Store};
pub use transaction::Transaction;

/// Schema versions: each kind of store records how many of its migrations
/// were applied, applies the missing ones when opened (in the transaction
/// that records the new version) and refuses a store written by a newer
/// build ([`StoreError::TooNew`]).
pub mod schema {
    /// The embedded store's schema version this build writes.
    pub const CURRENT_VERSION: u64 = crate::embedded::schema::CURRENT_VERSION;
    /// The PostgreSQL store's schema version this build writes.
    pub const POSTGRES_VERSION: u64 = crate::postgres::schema::CURRENT_VERSION;
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file could not be read or written.
    #[error("database error: {0}")]
    Database(#[from] redb::Error),
    /// A stored record could not be decoded: the file is damaged or was
    /// written by an incompatible version.
    #[error("stored record {what} is unreadable: {detail}")]
    Corrupt {
        /// Which record.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// A failure shared by every change in one group transaction.
    #[error(transparent)]
    Shared(std::sync::Arc<StoreError>),
    /// The store's writer has stopped (the node is shutting down).
    #[error("the store is closed")]
    Closed,
    /// A change in a group transaction failed, so the group was not
    /// committed (each change is then retried alone).
    #[error("a change in the group failed")]
    GroupAborted,
    /// The file is not a Lintas store (empty, or not a database the store
    /// can read): the node refuses to start rather than begin a new one and
    /// lose its cursors, sequence numbers and roster.
    #[error("{path} is not a Lintas store: {why}")]
    NotAStore {
        /// The file.
        path: String,
        /// What was found.
        why: String,
    },
    /// A PostgreSQL call failed (a refused statement, or a lost
    /// connection: see [`Store::is_failing`]).
    #[error("database error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// The store's settings are unusable (connection settings, replica
    /// name), or a fault was injected for a test.
    #[error("store settings: {0}")]
    Config(String),
    /// The store was written by a newer version of Lintas.
    #[error(
        "{path} was written by a newer Lintas (store schema version {found}; this version reads up to {supported}): run the newer version, or restore a backup"
    )]
    TooNew {
        /// The file.
        path: String,
        /// The schema version in the file.
        found: u64,
        /// The newest this build reads.
        supported: u64,
    },
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Converts any redb error.
pub(crate) fn db<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Database(e.into())
}
