//! The embedded store on redb.

use std::path::Path;

use std::sync::{RwLock, RwLockReadGuard};

use lintas_core::ids::NoticeId;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::records::{AttachmentRecord, OutboxEntry, PeerQuota, PeerRetry, StoredNotice, decode};
use crate::store::{Backend, Claimed, InboxEntry};
use crate::transaction::Transaction;
use crate::{StoreError, db};
use changes::EmbeddedChanges;

mod changes;
pub(crate) mod schema;

/// notice id -> StoredNotice.
pub(crate) const NOTICES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("notices");
/// inbox cursor -> notice id, in arrival order.
pub(crate) const INBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("inbox");
/// outbox seq -> OutboxEntry.
pub(crate) const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
/// notice id || stage || receiver -> SignedReceipt bytes.
pub(crate) const RECEIPTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("receipts");
/// case id || 0x00 || notice id -> nothing.
pub(crate) const CASES: TableDefinition<&[u8], u8> = TableDefinition::new("cases");
/// A case's notices in creation order (schema version 4, replacing
/// `cases`): key case id, 0x00, created_at seconds (8 bytes big-endian),
/// nanoseconds (4), notice id (32); no value. A timeline page reads only
/// its own entries.
pub(crate) const CASE_TIMELINE: TableDefinition<&[u8], ()> = TableDefinition::new("case_timeline");
/// counter name -> last value handed out.
pub(crate) const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
/// name -> bytes: `roster` (the trusted roster), and every version trusted
/// in turn under [`ROSTER_HISTORY_PREFIX`] and a 20-digit number.
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Where [`META`] keeps the roster versions trusted in turn.
pub(crate) const ROSTER_HISTORY_PREFIX: &str = "roster/";
/// The end of that range (`/` + 1).
pub(crate) const ROSTER_HISTORY_END: &str = "roster0";
/// peer agency id -> PeerRetry: the delivery backoff of a peer that is down.
pub(crate) const PEERS: TableDefinition<&str, &[u8]> = TableDefinition::new("peers");
/// Victims who refused notification of their state of nationality: key
/// case id, 0x00, victim id; value the alpha-3 codes of the states that
/// must receive nothing about them, comma-separated.
pub(crate) const WITHHELD: TableDefinition<&[u8], &str> = TableDefinition::new("withheld");
/// Submissions by idempotency key: the notice id (32 bytes) and sequence
/// number (8 bytes, big-endian) of the first submission with that key.
pub(crate) const SUBMISSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("submissions");
/// Outbox entries a recipient refused for good, by their outbox sequence:
/// the entry as it was, `last_error` the refusal and `next_attempt_ms` when
/// it came.
pub(crate) const DEAD_LETTERS: TableDefinition<u64, &[u8]> = TableDefinition::new("dead_letters");
/// Notices with a response deadline, by deadline: key the deadline (Unix
/// seconds, 8 bytes big-endian) then the notice id; no value. Listing what
/// is overdue reads only these.
pub(crate) const DEADLINES: TableDefinition<&[u8], ()> = TableDefinition::new("deadlines");
/// Peer agency id → `PeerQuota`: what each peer may still hand over.
pub(crate) const QUOTAS: TableDefinition<&str, &[u8]> = TableDefinition::new("quotas");
/// The transparency log: entry index → the exact entry bytes.
pub(crate) const LOG_ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("log_entries");
/// The log's perfect subtrees: `log_node_key(level, index)` → hash (level
/// 0: leaf hashes).
pub(crate) const LOG_NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("log_nodes");

/// SHA-256 of an entry's exact bytes → its index in the log.
pub(crate) const LOG_ENTRY_INDEX: TableDefinition<&[u8], u64> =
    TableDefinition::new("log_entry_index");
/// Peer agency id → the last `SignedLogCheckpoint` of its log this node
/// cosigned.
pub(crate) const WITNESSED: TableDefinition<&str, &[u8]> = TableDefinition::new("witnessed");
/// Witness agency id → size (8 bytes big-endian), then the latest
/// `CosignedLogCheckpoint` of this node's log with its cosignature.
pub(crate) const COSIGNED: TableDefinition<&str, &[u8]> = TableDefinition::new("cosigned");
/// Attachment SHA-256 → `AttachmentRecord`.
pub(crate) const ATTACHMENTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("attachments");
/// Attachment SHA-256, then piece index (4 bytes big-endian) → the piece.
pub(crate) const ATTACHMENT_CHUNKS: TableDefinition<&[u8], &[u8]> =
    TableDefinition::new("attachment_chunks");
/// Attachment SHA-256, then a number (8 bytes big-endian) → a
/// `SignedCustodyEntry`.
pub(crate) const CUSTODY: TableDefinition<&[u8], &[u8]> = TableDefinition::new("custody");

/// The key of piece `index` of an attachment.
pub(crate) fn chunk_key(sha256: &[u8; 32], index: u32) -> [u8; 36] {
    let mut key = [0u8; 36];
    key[..32].copy_from_slice(sha256);
    key[32..].copy_from_slice(&index.to_be_bytes());
    key
}

/// Alarm number → `LogForkEvidence`.
pub(crate) const LOG_ALARMS: TableDefinition<u64, &[u8]> = TableDefinition::new("log_alarms");

/// The access log: number → encoded access record (what the agency API
/// read of personal data, for which officer).
pub(crate) const ACCESS_LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("access_log");

/// The key of a perfect subtree in [`LOG_NODES`]: level, then index
/// big-endian.
pub(crate) fn log_node_key(level: u8, index: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = level;
    key[1..].copy_from_slice(&index.to_be_bytes());
    key
}

/// Reads a [`COSIGNED`] value: the size, then the cosigned checkpoint.
pub(crate) fn split_cosigned(value: &[u8]) -> Result<(u64, &[u8]), StoreError> {
    let size: [u8; 8] = value
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt {
            what: "cosigned checkpoint record".into(),
            detail: format!("{} bytes, expected at least 8", value.len()),
        })?;
    Ok((u64::from_be_bytes(size), &value[8..]))
}

/// Compacts until nothing more moves.
fn compact_fully(database: &mut Database) -> Result<(), redb::CompactionError> {
    for _ in 0..64 {
        if !database.compact()? {
            break;
        }
    }
    Ok(())
}

/// The page cache a store keeps in memory unless told otherwise.
pub const DEFAULT_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// The embedded store: one redb file.
#[derive(Debug)]
pub(crate) struct Embedded {
    /// `None` once closed.
    db: RwLock<Option<Database>>,
    /// Where it lives and its cache, to open it again after a failure.
    path: std::path::PathBuf,
    cache_bytes: usize,
    /// Set when a write failed in the database (not in a change): the disk
    /// is full or failing. Cleared by [`crate::Store::recover`].
    failing: std::sync::atomic::AtomicBool,
    /// Test hook: every write fails as on a full disk while set.
    injected_fault: std::sync::atomic::AtomicBool,
}

/// The open database, for the length of one call.
struct Open<'a>(RwLockReadGuard<'a, Option<Database>>);

impl std::ops::Deref for Open<'_> {
    type Target = Database;
    fn deref(&self) -> &Database {
        match self.0.as_ref() {
            Some(db) => db,
            // `Store::db` hands out an `Open` only while the database is open.
            None => unreachable!("store closed while in use"),
        }
    }
}

pub(crate) fn receipt_key(id: &NoticeId, stage: u8, receiver: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(33 + receiver.len());
    key.extend_from_slice(id.as_bytes());
    key.push(stage);
    key.extend_from_slice(receiver.as_bytes());
    key
}

pub(crate) fn case_key(case_id: &str, notice: &StoredNotice, id: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(case_id.len() + 45);
    key.extend_from_slice(case_id.as_bytes());
    key.push(0);
    key.extend_from_slice(&notice.created_at.max(0).to_be_bytes());
    key.extend_from_slice(&notice.created_at_nanos.to_be_bytes());
    key.extend_from_slice(id);
    key
}

fn notice_id(bytes: &[u8], what: &str) -> Result<NoticeId, StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map(NoticeId::from_bytes)
        .map_err(|_| StoreError::Corrupt {
            what: what.to_owned(),
            detail: format!("notice id of {} bytes", bytes.len()),
        })
}

impl Embedded {
    /// Indexes, by digest, the log entries appended since the last time
    /// (the `log_indexed` counter), at most 65,536 per transaction.
    fn catch_up_log_index(&self) -> Result<(), StoreError> {
        use sha2::{Digest, Sha256};
        loop {
            let txn = self.db()?.begin_write().map_err(db)?;
            let done = {
                let mut counters = txn.open_table(COUNTERS).map_err(db)?;
                let indexed = counters
                    .get("log_indexed")
                    .map_err(db)?
                    .map_or(0, |v| v.value());
                let size = counters.get("log").map_err(db)?.map_or(0, |v| v.value());
                if indexed >= size {
                    true
                } else {
                    let end = size.min(indexed + 65_536);
                    let entries = txn.open_table(LOG_ENTRIES).map_err(db)?;
                    let mut index = txn.open_table(LOG_ENTRY_INDEX).map_err(db)?;
                    for i in indexed..end {
                        let entry =
                            entries
                                .get(i)
                                .map_err(db)?
                                .ok_or_else(|| StoreError::Corrupt {
                                    what: format!("log entry {i}"),
                                    detail: "missing".into(),
                                })?;
                        let digest: [u8; 32] = Sha256::digest(entry.value()).into();
                        index.insert(digest.as_slice(), i).map_err(db)?;
                    }
                    counters.insert("log_indexed", end).map_err(db)?;
                    end == size
                }
            };
            txn.commit().map_err(db)?;
            if done {
                return Ok(());
            }
        }
    }

    /// Opens the store at `path` with a page cache of `cache_bytes`,
    /// refusing a file that is not a Lintas store (see
    /// [`crate::Store::open`]).
    pub(crate) fn open(path: &Path, cache_bytes: usize) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let not_a_store = |why: String| StoreError::NotAStore {
            path: shown.clone(),
            why,
        };
        let existed = match std::fs::metadata(path) {
            Ok(meta) if meta.len() == 0 => {
                return Err(not_a_store(
                    "the file is empty (an interrupted copy or a full disk?); move it away to start a new store, or restore a backup".into(),
                ));
            }
            Ok(_) => true,
            Err(_) => false,
        };
        // The database library may panic on some damaged files: that is a
        // damaged store, reported as such, not a crash.
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            redb::Builder::new()
                .set_cache_size(cache_bytes)
                .create(path)
        }));
        let database = match opened {
            Ok(Ok(database)) => database,
            Ok(Err(redb::DatabaseError::DatabaseAlreadyOpen)) => {
                return Err(db(redb::DatabaseError::DatabaseAlreadyOpen));
            }
            Ok(Err(e)) if existed => return Err(not_a_store(e.to_string())),
            Ok(Err(e)) => return Err(db(e)),
            Err(_) => {
                return Err(not_a_store(
                    "the database library could not read it (damaged file)".into(),
                ));
            }
        };
        // Migrating reads and writes pages the open did not touch.
        let migrated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            schema::migrate(&database, &shown)
        }));
        match migrated {
            Ok(result) => result?,
            Err(_) => {
                close_quietly(database);
                return Err(not_a_store(
                    "the database library could not read it (damaged file)".into(),
                ));
            }
        }
        Ok(Embedded {
            db: RwLock::new(Some(database)),
            path: path.to_path_buf(),
            cache_bytes,
            failing: std::sync::atomic::AtomicBool::new(false),
            injected_fault: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn db(&self) -> Result<Open<'_>, StoreError> {
        let guard = self.db.read().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            return Err(StoreError::Closed);
        }
        Ok(Open(guard))
    }
}

impl Backend for Embedded {
    /// The schema version of the store (see [`crate::schema`]).
    ///
    /// # Errors
    /// Database failure.
    fn schema_version(&self) -> Result<u64, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let meta = txn.open_table(META).map_err(db)?;
        schema::read_version(&meta)
    }

    /// Closes the database file now (another process may open it next);
    /// every later call answers [`StoreError::Closed`].
    fn close(&self) {
        let mut guard = self.db.write().unwrap_or_else(|e| e.into_inner());
        if let Some(database) = guard.take() {
            close_quietly(database);
        }
    }

    /// Runs `changes` in one write transaction and commits it (durably)
    /// if they succeed; on error nothing is written.
    ///
    /// # Errors
    /// What `changes` returned, or a database failure.
    fn write(
        &self,
        changes: &mut dyn FnMut(&Transaction<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let failed = |e: StoreError| {
            if matches!(e, StoreError::Database(_)) {
                self.failing.store(true, Ordering::SeqCst);
            }
            e
        };
        if self.injected_fault.load(Ordering::SeqCst) {
            return Err(failed(db(redb::StorageError::Io(
                std::io::Error::from_raw_os_error(
                    28, // ENOSPC: no space left on device
                ),
            ))));
        }
        let txn = self.db()?.begin_write().map_err(db).map_err(failed)?;
        {
            // Its tables close (writing their roots) when it is dropped,
            // before the commit.
            let open = EmbeddedChanges::new(&txn);
            changes(&Transaction::new(&open)).map_err(failed)?;
        }
        txn.commit().map_err(db).map_err(failed)?;
        Ok(())
    }

    /// Whether a write failed in the database (a full or failing disk) since
    /// the last successful [`crate::Store::recover`].
    fn is_failing(&self) -> bool {
        self.failing.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// After a failed write: opens the database file again (the database
    /// refuses every write after an I/O error until it is reopened) and
    /// proves a write goes through; clears [`crate::Store::is_failing`] if it
    /// does. Nothing committed is lost: a failed transaction wrote nothing.
    ///
    /// # Errors
    /// The disk still refuses writes, or the file cannot be opened.
    fn recover(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        /// Free space the store's disk must have before it counts as
        /// writable again.
        const RECOVERY_HEADROOM: u64 = 1 << 20;
        if self.injected_fault.load(Ordering::SeqCst) {
            return Err(db(redb::StorageError::Io(
                std::io::Error::from_raw_os_error(28),
            )));
        }
        {
            let mut guard = self.db.write().unwrap_or_else(|e| e.into_inner());
            if guard.is_none() {
                return Err(StoreError::Closed);
            }
            // Close first: the file is locked while open.
            if let Some(database) = guard.take() {
                close_quietly(database);
            }
            let reopened = redb::Builder::new()
                .set_cache_size(self.cache_bytes)
                .create(&self.path)
                .map_err(db)?;
            *guard = Some(reopened);
        }
        // Writable again only with some room to spare: a disk with a few
        // pages free would otherwise flip between SERVING and NOT_SERVING
        // at every probe, as the probe fits and the next notice does not.
        let free = free_space(&self.path);
        if free.is_some_and(|free| free < RECOVERY_HEADROOM) {
            return Err(db(redb::StorageError::Io(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                format!(
                    "{} bytes free on the store's disk, waiting for {RECOVERY_HEADROOM}",
                    free.unwrap_or(0)
                ),
            ))));
        }
        let txn = self.db()?.begin_write().map_err(db)?;
        {
            let mut meta = txn.open_table(META).map_err(db)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            meta.insert("write_probe", now.to_be_bytes().as_slice())
                .map_err(db)?;
        }
        txn.commit().map_err(db)?;
        self.failing.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// Test hook: while `on`, every write fails as on a full disk (the
    /// fault suites use it where they cannot fill a real disk).
    #[doc(hidden)]
    fn inject_disk_full(&self, on: bool) {
        self.injected_fault
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// The last sequence number this node's agency used (0 if none).
    ///
    /// # Errors
    /// Database failure.
    fn last_sequence(&self) -> Result<u64, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let counters = txn.open_table(COUNTERS).map_err(db)?;
        Ok(counters
            .get("sequence")
            .map_err(db)?
            .map_or(0, |v| v.value()))
    }

    /// The newest inbox cursor (0 when the inbox is empty), without reading
    /// the inbox.
    ///
    /// # Errors
    /// Database failure.
    fn last_inbox_cursor(&self) -> Result<u64, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let inbox = txn.open_table(INBOX).map_err(db)?;
        Ok(inbox.last().map_err(db)?.map_or(0, |(k, _)| k.value()))
    }

    /// The stored notices with these ids, in one read (absent ones are
    /// `None`).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    fn notices(&self, ids: &[NoticeId]) -> Result<Vec<Option<StoredNotice>>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let notices = txn.open_table(NOTICES).map_err(db)?;
        ids.iter()
            .map(|id| {
                notices
                    .get(id.as_bytes().as_slice())
                    .map_err(db)?
                    .map(|v| decode(v.value(), &format!("notice {id}")))
                    .transpose()
            })
            .collect()
    }

    /// The outbox entries with these sequence numbers, in one read (entries
    /// already gone are left out).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    fn outbox_entries(&self, seqs: &[u64]) -> Result<Vec<OutboxEntry>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let outbox = txn.open_table(OUTBOX).map_err(db)?;
        let mut out = Vec::with_capacity(seqs.len());
        for seq in seqs {
            if let Some(v) = outbox.get(*seq).map_err(db)? {
                out.push(decode(v.value(), "outbox entry")?);
            }
        }
        Ok(out)
    }

    /// The delivery backoff of every peer that was down when last tried.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    fn log_size(&self) -> Result<u64, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let counters = txn.open_table(COUNTERS).map_err(db)?;
        Ok(counters.get("log").map_err(db)?.map_or(0, |v| v.value()))
    }

    fn log_entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let entries = txn.open_table(LOG_ENTRIES).map_err(db)?;
        Ok(entries.get(index).map_err(db)?.map(|v| v.value().to_vec()))
    }

    fn log_node(&self, level: u8, index: u64) -> Result<Option<[u8; 32]>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let nodes = txn.open_table(LOG_NODES).map_err(db)?;
        match nodes
            .get(log_node_key(level, index).as_slice())
            .map_err(db)?
        {
            Some(v) => Ok(Some(crate::records::hash32(v.value(), "log node")?)),
            None => Ok(None),
        }
    }

    fn log_index_of(&self, entry_sha256: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        let find = || -> Result<Option<u64>, StoreError> {
            let txn = self.db()?.begin_read().map_err(db)?;
            let index = txn.open_table(LOG_ENTRY_INDEX).map_err(db)?;
            Ok(index
                .get(entry_sha256.as_slice())
                .map_err(db)?
                .map(|v| v.value()))
        };
        if let Some(found) = find()? {
            return Ok(Some(found));
        }
        // The index is brought up to date only when asked, so that storing
        // a notice or receipt pays nothing for it.
        self.catch_up_log_index()?;
        find()
    }

    fn witnessed_logs(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let table = txn.open_table(WITNESSED).map_err(db)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            out.push((k.value().to_owned(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn cosigned(&self) -> Result<Vec<(String, u64, Vec<u8>)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let table = txn.open_table(COSIGNED).map_err(db)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            let (size, cosigned) = split_cosigned(v.value())?;
            out.push((k.value().to_owned(), size, cosigned.to_vec()));
        }
        Ok(out)
    }

    fn attachment(&self, sha256: &[u8; 32]) -> Result<Option<AttachmentRecord>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let table = txn.open_table(ATTACHMENTS).map_err(db)?;
        match table.get(sha256.as_slice()).map_err(db)? {
            Some(v) => Ok(Some(decode(v.value(), "attachment")?)),
            None => Ok(None),
        }
    }

    fn attachment_chunk(
        &self,
        sha256: &[u8; 32],
        index: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let table = txn.open_table(ATTACHMENT_CHUNKS).map_err(db)?;
        Ok(table
            .get(chunk_key(sha256, index).as_slice())
            .map_err(db)?
            .map(|v| v.value().to_vec()))
    }

    fn attachments_to_fetch(&self) -> Result<Vec<([u8; 32], AttachmentRecord)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let table = txn.open_table(ATTACHMENTS).map_err(db)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            let record: AttachmentRecord = decode(v.value(), "attachment")?;
            if !record.complete && !record.fetch_from.is_empty() {
                out.push((crate::records::hash32(k.value(), "attachment key")?, record));
            }
        }
        Ok(out)
    }

    fn custody(&self, sha256: &[u8; 32]) -> Result<Vec<Vec<u8>>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let table = txn.open_table(CUSTODY).map_err(db)?;
        let mut end = sha256.to_vec();
        end.extend_from_slice(&[0xff; 9]);
        let mut out = Vec::new();
        for row in table.range(sha256.as_slice()..end.as_slice()).map_err(db)? {
            out.push(row.map_err(db)?.1.value().to_vec());
        }
        Ok(out)
    }

    fn access_log(&self, after: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let table = txn.open_table(ACCESS_LOG).map_err(db)?;
        let mut out = Vec::new();
        for row in table.range(after.saturating_add(1)..).map_err(db)? {
            if out.len() == limit {
                break;
            }
            let (k, v) = row.map_err(db)?;
            out.push((k.value(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn log_alarms(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let table = txn.open_table(LOG_ALARMS).map_err(db)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            out.push((k.value(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn quotas(&self) -> Result<Vec<(String, PeerQuota)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let quotas = txn.open_table(QUOTAS).map_err(db)?;
        let mut out = Vec::new();
        for row in quotas.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            out.push((k.value().to_owned(), decode(v.value(), "peer quota")?));
        }
        Ok(out)
    }

    fn peer_retries(&self) -> Result<Vec<(String, PeerRetry)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let peers = txn.open_table(PEERS).map_err(db)?;
        let mut out = Vec::new();
        for row in peers.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            out.push((k.value().to_owned(), decode(v.value(), "peer retry")?));
        }
        Ok(out)
    }

    /// Up to `limit` inbox entries with a cursor above `after`, in order.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    fn inbox_after(&self, after: u64, limit: usize) -> Result<Vec<InboxEntry>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let inbox = txn.open_table(INBOX).map_err(db)?;
        let notices = txn.open_table(NOTICES).map_err(db)?;
        let mut out = Vec::new();
        for row in inbox
            .range(after.saturating_add(1)..)
            .map_err(db)?
            .take(limit)
        {
            let (cursor, id) = row.map_err(db)?;
            let id = notice_id(id.value(), "inbox entry")?;
            let notice = notices
                .get(id.as_bytes().as_slice())
                .map_err(db)?
                .ok_or_else(|| StoreError::Corrupt {
                    what: format!("inbox entry {}", cursor.value()),
                    detail: "notice missing".into(),
                })?;
            out.push(InboxEntry {
                cursor: cursor.value(),
                id,
                notice: decode(notice.value(), "inbox notice")?,
            });
        }
        Ok(out)
    }

    /// Up to `limit` notices of a case in creation order (created_at,
    /// nanoseconds, id), after the position `after` (44 bytes: seconds,
    /// nanoseconds, id, as returned with each entry; empty for the start).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    fn case_page(
        &self,
        case_id: &str,
        after: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, NoticeId, StoredNotice)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let index = txn.open_table(CASE_TIMELINE).map_err(db)?;
        let notices = txn.open_table(NOTICES).map_err(db)?;
        let prefix_len = case_id.len() + 1;
        let mut start = case_id.as_bytes().to_vec();
        start.push(0);
        start.extend_from_slice(after);
        let mut end = case_id.as_bytes().to_vec();
        end.push(1);
        let mut out = Vec::new();
        for row in index.range(start.as_slice()..end.as_slice()).map_err(db)? {
            let (key, _) = row.map_err(db)?;
            let position = key.value().get(prefix_len..).unwrap_or_default().to_vec();
            if position.as_slice() == after {
                continue;
            }
            let id = notice_id(position.get(12..).unwrap_or_default(), "case timeline key")?;
            if let Some(n) = notices.get(id.as_bytes().as_slice()).map_err(db)? {
                out.push((position, id, decode(n.value(), "case notice")?));
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Every stored notice (for deadline reports).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    fn notices_after(
        &self,
        after: Option<&NoticeId>,
        limit: usize,
    ) -> Result<Vec<(NoticeId, StoredNotice)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let notices = txn.open_table(NOTICES).map_err(db)?;
        let rows = match after {
            Some(id) => notices.range::<&[u8]>(id.as_bytes().as_slice()..),
            None => notices.range::<&[u8]>(..),
        }
        .map_err(db)?;
        let mut out = Vec::with_capacity(limit.min(1024));
        for row in rows {
            let (key, n) = row.map_err(db)?;
            let id = notice_id(key.value(), "notice key")?;
            if Some(&id) == after {
                continue;
            }
            if out.len() == limit {
                break;
            }
            out.push((id, decode(n.value(), "notice")?));
        }
        Ok(out)
    }

    fn compact(&self) -> Result<(), StoreError> {
        // A read transaction another thread has not dropped yet (a result
        // still being read) makes redb refuse; it ends soon: try again for
        // up to about two seconds before giving up.
        const ATTEMPTS: u32 = 100;
        for attempt in 1..=ATTEMPTS {
            {
                let mut guard = self.db.write().unwrap_or_else(|e| e.into_inner());
                let Some(database) = guard.as_mut() else {
                    return Err(StoreError::Closed);
                };
                // Pages freed by the purge move out of the file: compaction
                // fills free space with pages from the end and truncates it.
                match compact_fully(database) {
                    Err(redb::CompactionError::TransactionInProgress) if attempt < ATTEMPTS => {}
                    other => return other.map_err(|e| StoreError::Database(e.into())),
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Ok(())
    }

    fn all_notices(&self) -> Result<Vec<(NoticeId, StoredNotice)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let notices = txn.open_table(NOTICES).map_err(db)?;
        let mut out = Vec::new();
        for row in notices.iter().map_err(db)? {
            let (id, n) = row.map_err(db)?;
            out.push((
                notice_id(id.value(), "notice key")?,
                decode(n.value(), "notice")?,
            ));
        }
        Ok(out)
    }

    /// Up to `limit` notices whose response deadline is at or before
    /// `until` (Unix seconds), in (deadline, id) order, after the index key
    /// `after` (empty: from the start); with each, its index key (the token
    /// to continue after it).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    fn deadlines_until(
        &self,
        until: i64,
        after: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, NoticeId, StoredNotice)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let index = txn.open_table(DEADLINES).map_err(db)?;
        let notices = txn.open_table(NOTICES).map_err(db)?;
        let mut end = until.max(0).to_be_bytes().to_vec();
        end.extend_from_slice(&[0xff; 32]);
        let mut out = Vec::new();
        let rows = if after.is_empty() {
            index.range::<&[u8]>(..=end.as_slice()).map_err(db)?
        } else {
            index.range::<&[u8]>(after..=end.as_slice()).map_err(db)?
        };
        for row in rows {
            let (key, _) = row.map_err(db)?;
            let key = key.value().to_vec();
            if key.as_slice() == after {
                continue;
            }
            let id = notice_id(key.get(8..).unwrap_or_default(), "deadline key")?;
            if let Some(n) = notices.get(id.as_bytes().as_slice()).map_err(db)? {
                out.push((key, id, decode(n.value(), "notice")?));
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The receipts stored for a notice: (stage, receiver, SignedReceipt
    /// bytes).
    ///
    /// # Errors
    /// Database failure.
    fn receipts(&self, id: &NoticeId) -> Result<Vec<(u8, String, Vec<u8>)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let receipts = txn.open_table(RECEIPTS).map_err(db)?;
        let start = id.as_bytes().to_vec();
        let mut end = start.clone();
        end.push(0xff);
        let mut out = Vec::new();
        for row in receipts
            .range(start.as_slice()..end.as_slice())
            .map_err(db)?
        {
            let (key, value) = row.map_err(db)?;
            let key = key.value();
            if key.len() < 33 || key[..32] != start[..] {
                continue;
            }
            let receiver = String::from_utf8_lossy(&key[33..]).into_owned();
            out.push((key[32], receiver, value.value().to_vec()));
        }
        Ok(out)
    }

    fn outbox_after(&self, after: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let outbox = txn.open_table(OUTBOX).map_err(db)?;
        let mut out = Vec::new();
        for row in outbox
            .range(after.saturating_add(1)..)
            .map_err(db)?
            .take(limit)
        {
            let (_, value) = row.map_err(db)?;
            out.push(decode(value.value(), "outbox entry")?);
        }
        Ok(out)
    }

    /// The alpha-3 codes of the states that must receive nothing about
    /// `victim_id` of `case_id` (empty when none).
    ///
    /// # Errors
    /// Database failure.
    fn withheld_from(&self, case_id: &str, victim_id: &str) -> Result<Vec<String>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let table = txn.open_table(WITHHELD).map_err(db)?;
        let key = changes::victim_key(case_id, victim_id);
        Ok(table
            .get(key.as_slice())
            .map_err(db)?
            .map(|v| v.value().split(',').map(str::to_owned).collect())
            .unwrap_or_default())
    }

    /// The first submission made with idempotency key `key`: its notice id
    /// and sequence number.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    fn submission(&self, key: &str) -> Result<Option<([u8; 32], u64)>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let table = txn.open_table(SUBMISSIONS).map_err(db)?;
        table
            .get(key)
            .map_err(db)?
            .map(|v| changes::decode_submission(v.value()))
            .transpose()
    }

    /// The dead letters: entries a recipient refused for good, oldest
    /// first, each with the refusal in `last_error` and its time (Unix
    /// milliseconds) in `next_attempt_ms`.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    fn dead_letters(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let table = txn.open_table(DEAD_LETTERS).map_err(db)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(db)? {
            let (_, value) = row.map_err(db)?;
            out.push(decode(value.value(), "dead letter")?);
        }
        Ok(out)
    }

    /// The stored roster (SignedRoster bytes), if any.
    ///
    /// # Errors
    /// Database failure.
    fn shared(&self) -> bool {
        false
    }

    fn claim(&self, seqs: &[u64], _now_ms: i64) -> Result<Claimed, StoreError> {
        Ok(Claimed {
            entries: self.outbox_entries(seqs)?,
            busy: Vec::new(),
        })
    }

    fn outbox_from_others(
        &self,
        _after: u64,
        _limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        Ok(Vec::new())
    }

    fn roster(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let meta = txn.open_table(META).map_err(db)?;
        Ok(meta.get("roster").map_err(db)?.map(|v| v.value().to_vec()))
    }

    fn roster_history(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db)?;
        let meta = txn.open_table(META).map_err(db)?;
        let mut out = Vec::new();
        for row in meta
            .range(ROSTER_HISTORY_PREFIX..ROSTER_HISTORY_END)
            .map_err(db)?
        {
            out.push(row.map_err(db)?.1.value().to_vec());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Direction;
    use crate::{ReceiveOutcome, Store};

    fn notice(case: &str, recipients: &[&str]) -> StoredNotice {
        StoredNotice {
            envelope: vec![1, 2, 3],
            direction: Direction::Received as i32,
            case_id: case.into(),
            recipients: recipients.iter().map(|r| r.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_received_notice_enters_the_inbox_once() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("node.redb");
        let id = NoticeId::from_bytes([9; 32]);
        {
            let store = Store::open(&path)?;
            let first =
                store.record_received(&id, &notice("C1", &["KHM.X"]), "KHM.X", 1, b"receipt")?;
            assert_eq!(first, ReceiveOutcome::New { cursor: 1 });
        }
        // Reopen, as after a restart: the duplicate finds the original.
        let store = Store::open(&path)?;
        let again = store.record_received(&id, &notice("C1", &["KHM.X"]), "KHM.X", 1, b"other")?;
        assert_eq!(
            again,
            ReceiveOutcome::Duplicate {
                receipt: b"receipt".to_vec()
            }
        );
        let inbox = store.inbox_after(0, 10)?;
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].notice.inbox_cursor, 1);
        assert_eq!(store.case_notices("C1")?.len(), 1);
        assert_eq!(
            store.case_notices("C")?.len(),
            0,
            "prefixes do not match other cases"
        );
        Ok(())
    }

    #[test]
    fn sent_notices_queue_one_delivery_per_recipient() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("node.redb"))?;
        let id = NoticeId::from_bytes([1; 32]);
        store.record_sent(&id, &notice("C1", &["A", "B"]), 1)?;
        store.record_sent(&id, &notice("C1", &["A", "B"]), 1)?;
        let outbox = store.outbox()?;
        assert_eq!(outbox.len(), 2, "storing twice queues once");
        store.reschedule(outbox[0].seq, 1, 5_000, "connection refused")?;
        store.complete(outbox[1].seq, Some((&id, 1, "B", b"r")))?;
        let outbox = store.outbox()?;
        assert_eq!(outbox.len(), 1);
        assert_eq!((outbox[0].attempts, outbox[0].next_attempt_ms), (1, 5_000));
        assert_eq!(
            store.receipts(&id)?,
            vec![(1, "B".to_string(), b"r".to_vec())]
        );
        assert_eq!(store.reserve_sequence()?, 1);
        assert_eq!(store.reserve_sequence()?, 2);
        Ok(())
    }
}

#[cfg(test)]
mod deadline_tests {
    use super::*;
    use crate::Store;
    use crate::records::Direction;

    fn with_deadline(deadline: i64) -> StoredNotice {
        StoredNotice {
            envelope: vec![1],
            direction: Direction::Sent as i32,
            case_id: "C1".into(),
            recipients: vec!["KHM.X".into()],
            response_deadline: deadline,
            ..Default::default()
        }
    }

    #[test]
    fn only_notices_with_a_passed_deadline_are_read_in_deadline_order()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("node.redb"))?;
        for (i, deadline) in [(1u8, 300), (2, 100), (3, 0), (4, 200), (5, 900)] {
            let id = NoticeId::from_bytes([i; 32]);
            store.write(|t| t.record_sent(&id, &with_deadline(deadline), 3))?;
        }
        let due = store.deadlines_until(500, &[], 10)?;
        let ids: Vec<u8> = due.iter().map(|(_, id, _)| id.as_bytes()[0]).collect();
        assert_eq!(ids, vec![2, 4, 1]);
        // Paging: after the first key, the rest.
        let rest = store.deadlines_until(500, &due[0].0, 10)?;
        assert_eq!(rest.len(), 2);
        assert_eq!(store.deadlines_until(500, &[], 1)?.len(), 1);
        Ok(())
    }

    #[test]
    fn migrating_from_version_2_rebuilds_the_deadline_and_case_indexes()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("node.redb");
        {
            let store = Store::open(&path)?;
            let id = NoticeId::from_bytes([7; 32]);
            store.write(|t| t.record_sent(&id, &with_deadline(100), 3))?;
            store.close();
        }
        // Make it look like a version 2 store: no deadline index.
        {
            let database = redb::Database::create(&path)?;
            let txn = database.begin_write()?;
            txn.delete_table(DEADLINES)?;
            txn.delete_table(CASE_TIMELINE)?;
            {
                let mut meta = txn.open_table(META)?;
                meta.insert("schema_version", 2u64.to_be_bytes().as_slice())?;
            }
            txn.commit()?;
        }
        let store = Store::open(&path)?;
        assert_eq!(store.schema_version()?, crate::schema::CURRENT_VERSION);
        assert_eq!(store.deadlines_until(500, &[], 10)?.len(), 1);
        // Version 4 rebuilt the case timeline index too.
        assert_eq!(store.case_page("C1", &[], 10)?.len(), 1);
        Ok(())
    }
}

/// Closes a database whose library may have panicked on a damaged page:
/// closing then writes the allocator state under a poisoned lock and
/// panics again, which must not take the node down.
fn close_quietly(database: redb::Database) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(database)));
}

impl Drop for Embedded {
    fn drop(&mut self) {
        let slot = self.db.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(database) = slot.take() {
            close_quietly(database);
        }
    }
}

/// Bytes an unprivileged process may still write on the file system
/// holding `path`; `None` where that cannot be asked.
fn free_space(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let stat = rustix::fs::statvfs(dir).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

#[cfg(test)]
mod disk_full_tests {
    use super::*;
    use crate::Store;
    use crate::records::Direction;

    /// A 4 MiB tmpfs, unmounted on drop. Mounting needs root: without it
    /// the test says so and checks nothing (the injected fault of the node
    /// tests covers the node's side everywhere).
    struct SmallDisk(std::path::PathBuf);

    impl SmallDisk {
        fn mount() -> Option<SmallDisk> {
            let dir =
                std::env::temp_dir().join(format!("lintas-small-disk-{}", std::process::id()));
            std::fs::create_dir_all(&dir).ok()?;
            let ok = std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
                .arg(&dir)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            ok.then_some(SmallDisk(dir))
        }
    }

    impl Drop for SmallDisk {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
            let _ = std::fs::remove_dir(&self.0);
        }
    }

    #[test]
    fn a_full_disk_fails_writes_and_the_store_recovers_when_space_returns() {
        let Some(disk) = SmallDisk::mount() else {
            eprintln!("not root: no tmpfs to fill; the injected-fault node test covers recovery");
            return;
        };
        let filler = disk.0.join("filler");
        std::fs::write(&filler, vec![0u8; 2 * 1024 * 1024]).unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(&disk.0.join("node.redb")).unwrap_or_else(|e| panic!("{e}"));
        let notice = |i: u32| StoredNotice {
            envelope: vec![i as u8; 16 * 1024],
            direction: Direction::Received as i32,
            case_id: format!("C{i}"),
            ..Default::default()
        };
        let mut written = 0u32;
        let error = loop {
            let id = NoticeId::from_bytes({
                let mut b = [0u8; 32];
                b[..4].copy_from_slice(&written.to_be_bytes());
                b
            });
            match store.write(|t| t.record_received(&id, &notice(written), "X", 1, b"r")) {
                Ok(_) => written += 1,
                Err(e) => break e,
            }
            assert!(written < 10_000, "the disk never filled");
        };
        assert!(matches!(error, StoreError::Database(_)), "{error}");
        assert!(store.is_failing());
        // While the disk is full, recovery fails (a few free pages inside
        // the file are not enough room to report it writable again).
        assert!(store.recover().is_err());
        assert!(store.is_failing());

        std::fs::remove_file(&filler).unwrap_or_else(|e| panic!("{e}"));
        store.recover().unwrap_or_else(|e| panic!("{e}"));
        assert!(!store.is_failing());
        // Everything committed before the failure is there, and writes work.
        assert_eq!(store.last_inbox_cursor().ok(), Some(u64::from(written)));
        let id = NoticeId::from_bytes([0xEE; 32]);
        store
            .write(|t| t.record_received(&id, &notice(1), "X", 1, b"r"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[cfg(test)]
mod damaged_file_tests {
    use crate::records::{Direction, StoredNotice};
    use crate::{Store, StoreError};
    use lintas_core::ids::NoticeId;

    /// A store file with notices sent and received, receipts and outbox
    /// entries.
    fn image(dir: &std::path::Path) -> Vec<u8> {
        let path = dir.join("image.redb");
        let store = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
        for i in 0u8..8 {
            let id = NoticeId::from_bytes([i; 32]);
            let notice = StoredNotice {
                envelope: vec![i; 300],
                direction: if i % 2 == 0 {
                    Direction::Sent
                } else {
                    Direction::Received
                } as i32,
                case_id: format!("C{}", i % 2),
                sender: "IDN.KEMLU.PWNI".into(),
                recipients: vec!["KHM.MOI.ATHP".into()],
                response_deadline: 1_700_000_000,
                ..Default::default()
            };
            store
                .write(|t| {
                    if i % 2 == 0 {
                        t.record_sent(&id, &notice, 2).map(|_| ())
                    } else {
                        t.record_received(&id, &notice, "KHM.MOI.ATHP", 1, b"receipt")
                            .map(|_| ())
                    }
                })
                .unwrap_or_else(|e| panic!("{e}"));
        }
        store.close();
        drop(store);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Every read a node makes; the number of answers that were a panic
    /// inside the database library turned into an error.
    fn read_everything(store: &Store) -> usize {
        let answers: Vec<Result<(), StoreError>> = vec![
            store.last_sequence().map(drop),
            store.last_inbox_cursor().map(drop),
            store.outbox().map(drop),
            store.dead_letters().map(drop),
            store.peer_retries().map(drop),
            store.roster().map(drop),
            store.inbox_after(0, 100).map(drop),
            store.deadlines_until(i64::MAX, &[], 100).map(drop),
            store.case_notices("C0").map(drop),
            store.all_notices().map(drop),
            store.receipts(&NoticeId::from_bytes([1; 32])).map(drop),
            store.write(|t| t.reserve_sequence()).map(drop),
        ];
        answers
            .iter()
            .filter(|a| matches!(a, Err(StoreError::Corrupt { detail, .. }) if detail.contains("damaged page")))
            .count()
    }

    #[test]
    fn a_damaged_page_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let image = image(dir.path());
        let path = dir.path().join("damaged.redb");
        let (mut opened, mut caught) = (0, 0);
        // One damaged byte at a time through the file, until a few reads
        // have met a damaged page.
        for at in (0..image.len()).step_by(61) {
            if caught >= 3 {
                break;
            }
            let mut file = image.clone();
            file[at] ^= 0x5A;
            std::fs::write(&path, &file).unwrap_or_else(|e| panic!("{e}"));
            if let Ok(store) = Store::open(&path) {
                opened += 1;
                caught += read_everything(&store);
            }
        }
        // The damage reached pages that only reads touch, and each such
        // read answered with an error.
        assert!(opened > 0);
        assert!(
            caught > 0,
            "no read met a damaged page ({opened} files opened)"
        );
    }
}
