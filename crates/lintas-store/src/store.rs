//! The store a node uses, whichever kind it is: the embedded file or a
//! shared PostgreSQL database. Both offer the same operations with the
//! same guarantees (see the crate documentation); the node does not know
//! which it has, except that a shared store asks it to claim outbox entries
//! before sending them and to look for work other replicas left.

use std::path::Path;

use lintas_core::ids::NoticeId;

use crate::StoreError;
use crate::records::{AttachmentRecord, OutboxEntry, PeerQuota, PeerRetry, StoredNotice};
use crate::transaction::Transaction;

/// The result of recording a received notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiveOutcome {
    /// First time: stored with this inbox cursor.
    New {
        /// Its inbox cursor.
        cursor: u64,
    },
    /// Seen before: the receipt given the first time.
    Duplicate {
        /// The original ACCEPTED receipt (SignedReceipt bytes).
        receipt: Vec<u8>,
    },
}

/// A received notice in the inbox.
#[derive(Debug, Clone)]
pub struct InboxEntry {
    /// Its cursor.
    pub cursor: u64,
    /// Its id.
    pub id: NoticeId,
    /// The stored notice.
    pub notice: StoredNotice,
}

/// What a replica may send now of the outbox entries it asked to claim
/// ([`Store::claim`]). Entries in neither list have left the outbox
/// (delivered, dead-lettered or dropped by another replica).
#[derive(Debug, Clone, Default)]
pub struct Claimed {
    /// Entries this replica holds until the lease ends, as they are now
    /// (attempts and retry time as another replica may have left them).
    pub entries: Vec<OutboxEntry>,
    /// Entries another replica holds, or whose retry time (set by another
    /// replica) has not come: (seq, Unix milliseconds to look again).
    pub busy: Vec<(u64, i64)>,
}

/// The operations every kind of store provides. A store's own transaction
/// type implements [`crate::transaction::Changes`].
pub(crate) trait Backend: Send + Sync + std::fmt::Debug {
    fn write(
        &self,
        changes: &mut dyn FnMut(&Transaction<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    fn schema_version(&self) -> Result<u64, StoreError>;
    fn close(&self);
    fn is_failing(&self) -> bool;
    fn recover(&self) -> Result<(), StoreError>;
    fn inject_disk_full(&self, on: bool);
    fn shared(&self) -> bool;
    fn claim(&self, seqs: &[u64], now_ms: i64) -> Result<Claimed, StoreError>;
    fn outbox_from_others(&self, after: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;
    fn last_sequence(&self) -> Result<u64, StoreError>;
    fn last_inbox_cursor(&self) -> Result<u64, StoreError>;
    fn notices(&self, ids: &[NoticeId]) -> Result<Vec<Option<StoredNotice>>, StoreError>;
    fn outbox_entries(&self, seqs: &[u64]) -> Result<Vec<OutboxEntry>, StoreError>;
    fn peer_retries(&self) -> Result<Vec<(String, PeerRetry)>, StoreError>;
    fn quotas(&self) -> Result<Vec<(String, PeerQuota)>, StoreError>;
    fn log_size(&self) -> Result<u64, StoreError>;
    fn log_entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError>;
    fn log_node(&self, level: u8, index: u64) -> Result<Option<[u8; 32]>, StoreError>;
    fn log_index_of(&self, entry_sha256: &[u8; 32]) -> Result<Option<u64>, StoreError>;
    fn witnessed_logs(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    fn cosigned(&self) -> Result<Vec<(String, u64, Vec<u8>)>, StoreError>;
    fn log_alarms(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    fn access_log(&self, after: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    fn attachment(&self, sha256: &[u8; 32]) -> Result<Option<AttachmentRecord>, StoreError>;
    fn attachment_chunk(
        &self,
        sha256: &[u8; 32],
        index: u32,
    ) -> Result<Option<Vec<u8>>, StoreError>;
    fn attachments_to_fetch(&self) -> Result<Vec<([u8; 32], AttachmentRecord)>, StoreError>;
    fn custody(&self, sha256: &[u8; 32]) -> Result<Vec<Vec<u8>>, StoreError>;
    fn inbox_after(&self, after: u64, limit: usize) -> Result<Vec<InboxEntry>, StoreError>;
    fn case_page(
        &self,
        case_id: &str,
        after: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, NoticeId, StoredNotice)>, StoreError>;
    fn all_notices(&self) -> Result<Vec<(NoticeId, StoredNotice)>, StoreError>;
    fn notices_after(
        &self,
        after: Option<&NoticeId>,
        limit: usize,
    ) -> Result<Vec<(NoticeId, StoredNotice)>, StoreError>;
    fn compact(&self) -> Result<(), StoreError>;
    fn deadlines_until(
        &self,
        until: i64,
        after: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, NoticeId, StoredNotice)>, StoreError>;
    fn receipts(&self, id: &NoticeId) -> Result<Vec<(u8, String, Vec<u8>)>, StoreError>;
    fn outbox_after(&self, after: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;
    fn withheld_from(&self, case_id: &str, victim_id: &str) -> Result<Vec<String>, StoreError>;
    fn submission(&self, key: &str) -> Result<Option<([u8; 32], u64)>, StoreError>;
    fn dead_letters(&self) -> Result<Vec<OutboxEntry>, StoreError>;
    fn roster(&self) -> Result<Option<Vec<u8>>, StoreError>;
    fn roster_history(&self) -> Result<Vec<Vec<u8>>, StoreError>;
}

/// A node's durable store: the embedded file ([`Store::open`]) or a
/// PostgreSQL database shared by the replicas of one agency
/// ([`Store::connect`]).
#[derive(Debug)]
pub struct Store {
    backend: Box<dyn Backend>,
}

/// How many outbox entries one read of [`Store::outbox`] takes at a time.
const OUTBOX_PAGE: usize = 4096;

impl Store {
    /// Runs one call into the backend. Some damaged files make the
    /// database library panic when a page is read, long after the file
    /// opened: that panic becomes [`StoreError::Corrupt`] naming the call,
    /// not a crash of the node.
    fn guarded<R>(
        &self,
        call: &'static str,
        run: impl FnOnce(&dyn Backend) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&*self.backend)))
            .unwrap_or_else(|_| {
                Err(StoreError::Corrupt {
                    what: format!("the store ({call})"),
                    detail: "the database library failed on a damaged page".into(),
                })
            })
    }

    /// Opens the embedded store at `path`, creating it if needed, with the
    /// default page cache ([`crate::DEFAULT_CACHE_BYTES`]).
    ///
    /// # Errors
    /// The file cannot be created, opened or locked (another node process
    /// has it open), is not a Lintas store, or was written by a newer
    /// version.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(path, crate::DEFAULT_CACHE_BYTES)
    }

    /// Opens the embedded store at `path` with a page cache of
    /// `cache_bytes`: the store's share of the node's memory, whatever the
    /// size of the file (the operating system's file cache serves the
    /// rest).
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<Self, StoreError> {
        Ok(Store {
            backend: Box::new(crate::embedded::Embedded::open(path, cache_bytes)?),
        })
    }

    /// Connects to a PostgreSQL store shared by the replicas of one agency,
    /// creating or migrating its tables (see [`crate::postgres`]).
    /// `replica` names this replica among them (it marks the outbox entries
    /// it holds); two running replicas must not share a name.
    ///
    /// # Errors
    /// The database cannot be reached or refuses the login, its tables are
    /// not a Lintas store's, or were written by a newer version.
    pub fn connect(config: &crate::postgres::PostgresConfig) -> Result<Self, StoreError> {
        Ok(Store {
            backend: Box::new(crate::postgres::Postgres::connect(config)?),
        })
    }

    /// Runs `changes` in one write transaction and commits it (durably)
    /// if they succeed; on error nothing is written.
    ///
    /// # Errors
    /// What `changes` returned, or a database failure.
    pub fn write<R>(
        &self,
        changes: impl FnOnce(&Transaction<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut changes = Some(changes);
        let mut result = None;
        self.guarded("write", |b| {
            b.write(&mut |txn| {
                let change = changes.take().ok_or(StoreError::GroupAborted)?;
                result = Some(change(txn)?);
                Ok(())
            })
        })?;
        result.ok_or(StoreError::GroupAborted)
    }

    /// The schema version of the store: for the embedded store see
    /// [`crate::schema`], for PostgreSQL [`crate::postgres`].
    ///
    /// # Errors
    /// Database failure.
    pub fn schema_version(&self) -> Result<u64, StoreError> {
        self.guarded("schema_version", |b| b.schema_version())
    }

    /// Closes the store now (another process may open the file next);
    /// every later call answers [`StoreError::Closed`].
    pub fn close(&self) {
        self.backend.close();
    }

    /// Whether a write failed in the database (a full or failing disk, a
    /// lost database connection) since the last successful
    /// [`Store::recover`].
    pub fn is_failing(&self) -> bool {
        self.backend.is_failing()
    }

    /// After a failed write: opens the database again (the embedded
    /// database refuses every write after an I/O error until it is
    /// reopened; a PostgreSQL connection may have been lost) and proves a
    /// write goes through; clears [`Store::is_failing`] if it does.
    /// Nothing committed is lost: a failed transaction wrote nothing.
    ///
    /// # Errors
    /// The store still refuses writes.
    pub fn recover(&self) -> Result<(), StoreError> {
        self.guarded("recover", |b| b.recover())
    }

    /// Test hook: while `on`, every write fails as on a full disk (the
    /// fault suites use it where they cannot fill a real disk).
    #[doc(hidden)]
    pub fn inject_disk_full(&self, on: bool) {
        self.backend.inject_disk_full(on);
    }

    /// Whether several node replicas may share this store (PostgreSQL):
    /// they then claim outbox entries before sending ([`Store::claim`]),
    /// take sequence numbers from the store, and look for outbox entries
    /// and inbox arrivals the others recorded
    /// ([`Store::outbox_from_others`], [`Store::last_inbox_cursor`]).
    pub fn is_shared(&self) -> bool {
        self.backend.shared()
    }

    /// Claims outbox entries `seqs` for this replica for the store's lease
    /// (PostgreSQL: rows locked with `FOR UPDATE SKIP LOCKED`, so two
    /// replicas never hold one entry at once; a replica that dies holds
    /// its entries no longer than the lease). The embedded store has one
    /// node: every entry still in the outbox is claimed.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn claim(&self, seqs: &[u64], now_ms: i64) -> Result<Claimed, StoreError> {
        self.guarded("claim", |b| b.claim(seqs, now_ms))
    }

    /// Up to `limit` outbox entries above `after` (in order) that other
    /// replicas queued; always empty for the embedded store.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn outbox_from_others(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.guarded("outbox_from_others", |b| b.outbox_from_others(after, limit))
    }

    /// See [`Transaction::reserve_sequence`].
    ///
    /// # Errors
    /// Database failure.
    pub fn reserve_sequence(&self) -> Result<u64, StoreError> {
        self.write(|t| t.reserve_sequence())
    }

    /// See [`Transaction::record_sent`].
    ///
    /// # Errors
    /// Database failure.
    pub fn record_sent(
        &self,
        id: &NoticeId,
        notice: &StoredNotice,
        priority: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.write(|t| t.record_sent(id, notice, priority))
    }

    /// See [`Transaction::record_received`].
    ///
    /// # Errors
    /// Database failure, or a stored duplicate without its receipt.
    pub fn record_received(
        &self,
        id: &NoticeId,
        notice: &StoredNotice,
        receiver: &str,
        accepted_stage: u8,
        receipt: &[u8],
    ) -> Result<ReceiveOutcome, StoreError> {
        self.write(|t| t.record_received(id, notice, receiver, accepted_stage, receipt))
    }

    /// See [`Transaction::store_receipt`]; returns whether it was new.
    ///
    /// # Errors
    /// Database failure.
    pub fn store_receipt(
        &self,
        id: &NoticeId,
        stage: u8,
        receiver: &str,
        receipt: &[u8],
        report: Option<OutboxEntry>,
    ) -> Result<bool, StoreError> {
        self.write(|t| t.store_receipt(id, stage, receiver, receipt, report))
            .map(|r| r.is_some())
    }

    /// See [`Transaction::complete`].
    ///
    /// # Errors
    /// Database failure.
    pub fn complete(
        &self,
        seq: u64,
        receipt: Option<(&NoticeId, u8, &str, &[u8])>,
    ) -> Result<(), StoreError> {
        self.write(|t| t.complete(seq, receipt))
    }

    /// See [`Transaction::reschedule`].
    ///
    /// # Errors
    /// Database failure.
    pub fn reschedule(
        &self,
        seq: u64,
        attempts: u32,
        next_attempt_ms: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.write(|t| t.reschedule(seq, attempts, next_attempt_ms, error))
    }

    /// Saves the trusted roster (SignedRoster bytes).
    ///
    /// # Errors
    /// Database failure.
    pub fn save_roster(&self, signed_roster: &[u8]) -> Result<(), StoreError> {
        self.write(|t| t.save_roster(signed_roster))
    }

    /// The last sequence number this node's agency used (0 if none).
    ///
    /// # Errors
    /// Database failure.
    pub fn last_sequence(&self) -> Result<u64, StoreError> {
        self.guarded("last_sequence", |b| b.last_sequence())
    }

    /// The newest inbox cursor (0 when the inbox is empty), without reading
    /// the inbox.
    ///
    /// # Errors
    /// Database failure.
    pub fn last_inbox_cursor(&self) -> Result<u64, StoreError> {
        self.guarded("last_inbox_cursor", |b| b.last_inbox_cursor())
    }

    /// The stored notices with these ids, in one read (absent ones are
    /// `None`).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn notices(&self, ids: &[NoticeId]) -> Result<Vec<Option<StoredNotice>>, StoreError> {
        self.guarded("notices", |b| b.notices(ids))
    }

    /// The stored notice with this id.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn notice(&self, id: &NoticeId) -> Result<Option<StoredNotice>, StoreError> {
        Ok(self
            .guarded("notices", |b| b.notices(&[*id]))?
            .into_iter()
            .next()
            .flatten())
    }

    /// The outbox entries with these sequence numbers, in one read (entries
    /// already gone are left out).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn outbox_entries(&self, seqs: &[u64]) -> Result<Vec<OutboxEntry>, StoreError> {
        self.guarded("outbox_entries", |b| b.outbox_entries(seqs))
    }

    /// The delivery backoff of every peer that was down when last tried.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn peer_retries(&self) -> Result<Vec<(String, PeerRetry)>, StoreError> {
        self.guarded("peer_retries", |b| b.peer_retries())
    }

    /// Number of entries in the transparency log.
    ///
    /// # Errors
    /// Database failure.
    pub fn log_size(&self) -> Result<u64, StoreError> {
        self.guarded("log_size", |b| b.log_size())
    }

    /// The exact bytes of log entry `index`, if the log has it.
    ///
    /// # Errors
    /// Database failure.
    pub fn log_entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.guarded("log_entry", |b| b.log_entry(index))
    }

    /// The index of the log entry whose exact bytes have this SHA-256. The
    /// embedded store indexes entries by digest only when asked (appending
    /// pays nothing for it), so a lookup may first index what was appended
    /// since the last one, in its own write transactions.
    ///
    /// # Errors
    /// Database failure.
    pub fn log_index_of(&self, entry_sha256: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        self.guarded("log_index_of", |b| b.log_index_of(entry_sha256))
    }

    /// The last checkpoint cosigned from each peer's log: origin and
    /// encoded `SignedLogCheckpoint`, by origin.
    ///
    /// # Errors
    /// Database failure.
    pub fn witnessed_logs(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.guarded("witnessed_logs", |b| b.witnessed_logs())
    }

    /// Each witness's latest cosigned checkpoint of this node's log:
    /// witness, size and encoded `CosignedLogCheckpoint`, by witness.
    ///
    /// # Errors
    /// Database failure.
    pub fn cosigned(&self) -> Result<Vec<(String, u64, Vec<u8>)>, StoreError> {
        self.guarded("cosigned", |b| b.cosigned())
    }

    /// The record of attachment `sha256`.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn attachment(&self, sha256: &[u8; 32]) -> Result<Option<AttachmentRecord>, StoreError> {
        self.guarded("attachment", |b| b.attachment(sha256))
    }

    /// Piece `index` of attachment `sha256`.
    ///
    /// # Errors
    /// Database failure.
    pub fn attachment_chunk(
        &self,
        sha256: &[u8; 32],
        index: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.guarded("attachment_chunk", |b| b.attachment_chunk(sha256, index))
    }

    /// Attachments still to fetch from peers (incomplete, with a peer to
    /// fetch them from).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn attachments_to_fetch(&self) -> Result<Vec<([u8; 32], AttachmentRecord)>, StoreError> {
        self.guarded("attachments_to_fetch", |b| b.attachments_to_fetch())
    }

    /// The signed custody entries this node made for attachment `sha256`,
    /// oldest first.
    ///
    /// # Errors
    /// Database failure.
    pub fn custody(&self, sha256: &[u8; 32]) -> Result<Vec<Vec<u8>>, StoreError> {
        self.guarded("custody", |b| b.custody(sha256))
    }

    /// Every log alarm raised, oldest first: number and encoded
    /// `LogForkEvidence`.
    ///
    /// # Errors
    /// Database failure.
    pub fn log_alarms(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.guarded("log_alarms", |b| b.log_alarms())
    }

    /// Up to `limit` access records numbered after `after`, in order: (number,
    /// encoded record).
    ///
    /// # Errors
    /// Database failure.
    pub fn access_log(&self, after: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.guarded("access_log", |b| b.access_log(after, limit))
    }

    /// Each peer's stored quota, as last settled (see
    /// [`crate::Transaction::settle_quota`]).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn quotas(&self) -> Result<Vec<(String, PeerQuota)>, StoreError> {
        self.guarded("quotas", |b| b.quotas())
    }

    /// Up to `limit` inbox entries with a cursor above `after`, in order.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn inbox_after(&self, after: u64, limit: usize) -> Result<Vec<InboxEntry>, StoreError> {
        self.guarded("inbox_after", |b| b.inbox_after(after, limit))
    }

    /// Every notice sent or received about `case_id`.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn case_notices(&self, case_id: &str) -> Result<Vec<(NoticeId, StoredNotice)>, StoreError> {
        Ok(self
            .case_page(case_id, &[], usize::MAX)?
            .into_iter()
            .map(|(_, id, notice)| (id, notice))
            .collect())
    }

    /// Up to `limit` notices of a case in creation order (created_at,
    /// nanoseconds, id), after the position `after` (44 bytes: seconds,
    /// nanoseconds, id, as returned with each entry; empty for the start).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn case_page(
        &self,
        case_id: &str,
        after: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, NoticeId, StoredNotice)>, StoreError> {
        self.guarded("case_page", |b| b.case_page(case_id, after, limit))
    }

    /// Every stored notice.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn all_notices(&self) -> Result<Vec<(NoticeId, StoredNotice)>, StoreError> {
        self.guarded("all_notices", |b| b.all_notices())
    }

    /// Up to `limit` stored notices in id order, after `after` (from the
    /// first when `None`): a page of a walk over every notice.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn notices_after(
        &self,
        after: Option<&NoticeId>,
        limit: usize,
    ) -> Result<Vec<(NoticeId, StoredNotice)>, StoreError> {
        self.guarded("notices_after", |b| b.notices_after(after, limit))
    }

    /// Gives back the space of removed records, so that what was removed
    /// (personal data past its retention) is no longer in the store's
    /// files: the embedded file is compacted (reads and writes wait
    /// meanwhile); PostgreSQL vacuums the notices table (its write-ahead
    /// log and backups follow the database's own retention).
    ///
    /// # Errors
    /// Database failure.
    pub fn compact(&self) -> Result<(), StoreError> {
        self.guarded("compact", |b| b.compact())
    }

    /// Up to `limit` notices whose response deadline is at or before
    /// `until` (Unix seconds), in (deadline, id) order, after the index key
    /// `after` (empty: from the start); with each, its index key (the token
    /// to continue after it: the deadline as 8 bytes big-endian, then the
    /// notice id).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn deadlines_until(
        &self,
        until: i64,
        after: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, NoticeId, StoredNotice)>, StoreError> {
        self.guarded("deadlines_until", |b| {
            b.deadlines_until(until, after, limit)
        })
    }

    /// The receipts stored for a notice: (stage, receiver, SignedReceipt
    /// bytes), by stage then receiver.
    ///
    /// # Errors
    /// Database failure.
    pub fn receipts(&self, id: &NoticeId) -> Result<Vec<(u8, String, Vec<u8>)>, StoreError> {
        self.guarded("receipts", |b| b.receipts(id))
    }

    /// Everything in the outbox, in enqueue order (read page by page).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut out: Vec<OutboxEntry> = Vec::new();
        loop {
            let after = out.last().map_or(0, |e| e.seq);
            let page = self.guarded("outbox_after", |b| b.outbox_after(after, OUTBOX_PAGE))?;
            let full = page.len() == OUTBOX_PAGE;
            out.extend(page);
            if !full {
                return Ok(out);
            }
        }
    }

    /// Up to `limit` outbox entries with a sequence above `after`, in
    /// order.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn outbox_after(&self, after: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.guarded("outbox_after", |b| b.outbox_after(after, limit))
    }

    /// The alpha-3 codes of the states that must receive nothing about
    /// `victim_id` of `case_id` (empty when none).
    ///
    /// # Errors
    /// Database failure.
    pub fn withheld_from(&self, case_id: &str, victim_id: &str) -> Result<Vec<String>, StoreError> {
        self.guarded("withheld_from", |b| b.withheld_from(case_id, victim_id))
    }

    /// The first submission made with idempotency key `key`: its notice id
    /// and sequence number.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn submission(&self, key: &str) -> Result<Option<([u8; 32], u64)>, StoreError> {
        self.guarded("submission", |b| b.submission(key))
    }

    /// The dead letters: entries a recipient refused for good, oldest
    /// first, each with the refusal in `last_error` and its time (Unix
    /// milliseconds) in `next_attempt_ms`.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn dead_letters(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.guarded("dead_letters", |b| b.dead_letters())
    }

    /// The stored roster (SignedRoster bytes), if any.
    ///
    /// # Errors
    /// Database failure.
    pub fn roster(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.guarded("roster", |b| b.roster())
    }

    /// Every roster version trusted in turn (SignedRoster bytes), oldest
    /// first: what an evidence bundle needs to verify old signatures.
    /// Stores from before this was kept start with the version trusted when
    /// they were first opened by this build.
    ///
    /// # Errors
    /// Database failure.
    pub fn roster_history(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.guarded("roster_history", |b| b.roster_history())
    }
}

/// The log's perfect subtrees, for proofs
/// (`lintas_core::transparency::merkle`).
impl lintas_core::transparency::merkle::Subtrees for Store {
    type Error = StoreError;
    fn subtree(&self, level: u8, index: u64) -> Result<[u8; 32], StoreError> {
        self.guarded("log_node", |b| b.log_node(level, index))?
            .ok_or_else(|| StoreError::Corrupt {
                what: format!("log subtree {level}/{index}"),
                detail: "not in the store".into(),
            })
    }
}
