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
//! A PostgreSQL store for agencies running several node replicas will offer
//! the same operations.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod records;
pub mod schema;
mod store;
mod transaction;

pub use records::{Direction, OutboxEntry, OutboxPayload, PeerRetry, StoredNotice};
pub use store::{DEFAULT_CACHE_BYTES, InboxEntry, ReceiveOutcome, Store};
pub use transaction::Transaction;

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

/// Converts any redb error.
pub(crate) fn db<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Database(e.into())
}
