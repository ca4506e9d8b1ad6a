//! The PostgreSQL store's tables and their migrations, applied in order
//! when a replica connects. The database records the number of migrations
//! applied (`schema_version` in `lintas_meta`, 8 bytes big-endian, as in
//! the embedded store); a database whose version is newer than this
//! build's is refused, never misread.
//!
//! Replicas starting together take an advisory lock for the migration, so
//! one of them migrates and the others find the work done. To change the
//! layout, append a migration to [`MIGRATIONS`]; it runs in the same
//! transaction that records the new version.
//!
//! Every table is named `lintas_…`, so the store can share a database with
//! other applications. Identifiers (notice ids) are `bytea`; counters,
//! cursors and sequence numbers `bigint`; records the node reads whole
//! (notices, outbox entries, peer retry state) are the same protobuf
//! encodings the embedded store keeps.

use tokio_postgres::Transaction;

use super::block;
use crate::StoreError;

/// Version 1: the whole layout of embedded schema version 4.
///
/// - `lintas_notices`: a notice by id with the columns it is listed by (the
///   case timeline index in creation order, the deadline index);
/// - `lintas_inbox`: received notices by inbox cursor;
/// - `lintas_outbox`: what waits to be sent, with the replica that queued
///   it and the replica that holds it until `claim_until` (Unix ms);
/// - `lintas_counters`: the inbox cursor, outbox sequence and per-sender
///   sequence number, each handed out under the row's lock so numbers
///   become visible in the order they were handed out;
/// - receipts, dead letters, peer retry state, withheld victims,
///   submissions by idempotency key and meta (roster, schema version).
const V1: &str = r#"
CREATE TABLE lintas_counters (
    name text PRIMARY KEY,
    value bigint NOT NULL
);
CREATE TABLE lintas_notices (
    id bytea PRIMARY KEY,
    case_id text NOT NULL,
    created_at bigint NOT NULL,
    created_nanos integer NOT NULL,
    response_deadline bigint NOT NULL,
    record bytea NOT NULL
);
CREATE INDEX lintas_notices_timeline
    ON lintas_notices (case_id, created_at, created_nanos, id) WHERE case_id <> '';
CREATE INDEX lintas_notices_deadline
    ON lintas_notices (response_deadline, id) WHERE response_deadline <> 0;
CREATE TABLE lintas_inbox (
    cursor bigint PRIMARY KEY,
    notice_id bytea NOT NULL REFERENCES lintas_notices (id)
);
CREATE TABLE lintas_outbox (
    seq bigint PRIMARY KEY,
    created_by text NOT NULL,
    claimed_by text,
    claim_until bigint NOT NULL DEFAULT 0,
    entry bytea NOT NULL
);
CREATE TABLE lintas_receipts (
    notice_id bytea NOT NULL,
    stage smallint NOT NULL,
    receiver text COLLATE "C" NOT NULL,
    receipt bytea NOT NULL,
    PRIMARY KEY (notice_id, stage, receiver)
);
CREATE TABLE lintas_dead_letters (
    seq bigint PRIMARY KEY,
    entry bytea NOT NULL
);
CREATE TABLE lintas_peers (
    peer text PRIMARY KEY,
    retry bytea NOT NULL
);
CREATE TABLE lintas_withheld (
    case_id text NOT NULL,
    victim_id text NOT NULL,
    states text NOT NULL,
    PRIMARY KEY (case_id, victim_id)
);
CREATE TABLE lintas_submissions (
    key text PRIMARY KEY,
    notice_id bytea NOT NULL,
    sequence bigint NOT NULL
);
"#;

/// The migrations, in order: after applying the first n, a database is at
/// version n.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];

/// Version 6: the access log of personal-data reads.
const V6: &str = r#"
CREATE TABLE lintas_access_log (
    seq bigserial PRIMARY KEY,
    record bytea NOT NULL
);
"#;

/// Version 5: attachments (records and pieces) and their custody entries.
const V5: &str = r#"
CREATE TABLE lintas_attachments (
    sha256 bytea PRIMARY KEY,
    record bytea NOT NULL
);
CREATE TABLE lintas_attachment_chunks (
    sha256 bytea NOT NULL,
    idx integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (sha256, idx)
);
CREATE TABLE lintas_custody (
    seq bigserial PRIMARY KEY,
    sha256 bytea NOT NULL,
    entry bytea NOT NULL
);
CREATE INDEX lintas_custody_by_attachment ON lintas_custody (sha256, seq);
"#;

/// Version 4: witnessing (the checkpoints cosigned from peers' logs, the
/// cosignatures gathered for this node's, alarms), and the log's entries
/// found by the SHA-256 of their bytes.
const V4: &str = r#"
CREATE TABLE lintas_witnessed (
    origin text PRIMARY KEY,
    checkpoint bytea NOT NULL
);
CREATE TABLE lintas_cosigned (
    witness text PRIMARY KEY,
    size bigint NOT NULL,
    cosigned bytea NOT NULL
);
CREATE TABLE lintas_log_alarms (
    seq bigserial PRIMARY KEY,
    evidence bytea NOT NULL
);
CREATE INDEX lintas_log_entries_by_digest ON lintas_log_entries (sha256(entry));
"#;

/// Version 3: the transparency log's entries and perfect subtrees (level
/// 0: leaf hashes); appends are numbered by the `log` counter, whose row
/// lock orders them across replicas.
const V3: &str = r#"
CREATE TABLE lintas_log_entries (
    idx bigint PRIMARY KEY,
    entry bytea NOT NULL
);
CREATE TABLE lintas_log_nodes (
    level smallint NOT NULL,
    idx bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (level, idx)
);
"#;

/// Version 2: each peer's daily quota, shared by the replicas.
const V2: &str = r#"
CREATE TABLE lintas_peer_quotas (
    peer text PRIMARY KEY,
    available_kib double precision NOT NULL,
    at_ms bigint NOT NULL
);
"#;

/// The schema version this build writes.
pub const CURRENT_VERSION: u64 = MIGRATIONS.len() as u64;

/// The table every version has, created before anything else.
const META: &str =
    "CREATE TABLE IF NOT EXISTS lintas_meta (name text PRIMARY KEY, value bytea NOT NULL)";

/// A fixed key for the migration's advisory lock ("lintas" in ASCII).
const MIGRATION_LOCK: i64 = 0x6c69_6e74_6173;

/// Reads the schema version (0 when the database has none).
pub(crate) fn read_version(txn: &Transaction<'_>) -> Result<u64, StoreError> {
    let row = block(txn.query_opt(
        "SELECT value FROM lintas_meta WHERE name = 'schema_version'",
        &[],
    ))?;
    row.map_or(Ok(0), |r| decode_version(&r))
}

/// Reads the schema version from a `lintas_meta` value row.
pub(crate) fn decode_version(row: &tokio_postgres::Row) -> Result<u64, StoreError> {
    let value: &[u8] = row.try_get(0)?;
    let bytes: [u8; 8] = value.try_into().map_err(|_| StoreError::Corrupt {
        what: "schema version".into(),
        detail: format!("{} bytes, expected 8", value.len()),
    })?;
    Ok(u64::from_be_bytes(bytes))
}

/// Brings the database to [`CURRENT_VERSION`], or refuses a newer one or
/// one whose `lintas_` tables were not made by these migrations.
pub(crate) fn migrate(txn: &Transaction<'_>, shown: &str) -> Result<(), StoreError> {
    block(txn.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]))?;
    let had_meta = block(txn.query_one(
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'lintas_meta'",
        &[],
    ))?
    .try_get::<_, i64>(0)?
        > 0;
    let others: i64 = block(txn.query_one(
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'lintas\\_%' AND tablename <> 'lintas_meta'",
        &[],
    ))?
    .try_get(0)?;
    block(txn.batch_execute(META))?;
    let found = read_version(txn)?;
    if found > CURRENT_VERSION {
        return Err(StoreError::TooNew {
            path: shown.to_owned(),
            found,
            supported: CURRENT_VERSION,
        });
    }
    if found == 0 && (others > 0 || had_meta) {
        return Err(StoreError::NotAStore {
            path: shown.to_owned(),
            why: format!(
                "it holds {others} lintas_ tables but no schema version: not made by Lintas, or damaged; use another database or schema"
            ),
        });
    }
    for migration in MIGRATIONS
        .iter()
        .skip(usize::try_from(found).unwrap_or(usize::MAX))
    {
        block(txn.batch_execute(migration))?;
    }
    if found != CURRENT_VERSION {
        block(txn.execute(
            "INSERT INTO lintas_meta (name, value) VALUES ('schema_version', $1)
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            &[&CURRENT_VERSION.to_be_bytes().as_slice()],
        ))?;
    }
    Ok(())
}
