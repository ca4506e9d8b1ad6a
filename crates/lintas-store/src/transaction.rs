//! Changes to the store that are made together: everything done through one
//! [`Transaction`] becomes durable at once, or not at all. The node's group
//! commit runs the changes of many concurrent requests in one transaction,
//! so one disk flush (or one database commit) serves them all.

use lintas_core::ids::NoticeId;
use lintas_core::transparency::entry::{LogEntry, LogEntryKind};

use crate::StoreError;
use crate::records::{AttachmentRecord, OutboxEntry, PeerQuota, PeerRetry, StoredNotice};
use crate::store::ReceiveOutcome;

/// The changes each kind of store makes inside one of its transactions;
/// [`Transaction`] documents each.
pub(crate) trait Changes {
    fn enqueue(&self, entry: OutboxEntry) -> Result<OutboxEntry, StoreError>;
    fn reserve_sequence(&self) -> Result<u64, StoreError>;
    fn note_sequence(&self, sequence: u64) -> Result<(), StoreError>;
    fn has_notice(&self, id: &NoticeId) -> Result<bool, StoreError>;
    /// Stores a notice this node signed (with its case and deadline
    /// indexes); false, changing nothing, if the id is stored.
    fn store_sent(&self, id: &NoticeId, notice: &StoredNotice) -> Result<bool, StoreError>;
    fn replace_notice(&self, id: &NoticeId, notice: &StoredNotice) -> Result<(), StoreError>;
    fn notice(&self, id: &NoticeId) -> Result<Option<StoredNotice>, StoreError>;
    fn record_received(
        &self,
        id: &NoticeId,
        notice: &StoredNotice,
        receiver: &str,
        accepted_stage: u8,
        receipt: &[u8],
    ) -> Result<ReceiveOutcome, StoreError>;
    fn store_receipt(
        &self,
        id: &NoticeId,
        stage: u8,
        receiver: &str,
        receipt: &[u8],
        report: Option<OutboxEntry>,
    ) -> Result<Option<Option<OutboxEntry>>, StoreError>;
    fn complete(
        &self,
        seq: u64,
        receipt: Option<(&NoticeId, u8, &str, &[u8])>,
    ) -> Result<(), StoreError>;
    fn reschedule(
        &self,
        seq: u64,
        attempts: u32,
        next_attempt_ms: i64,
        error: &str,
    ) -> Result<(), StoreError>;
    fn bury(&self, seq: u64, at_ms: i64, error: &str) -> Result<(), StoreError>;
    fn unbury(&self, seq: u64) -> Result<Option<OutboxEntry>, StoreError>;
    fn set_peer_retry(&self, peer: &str, retry: Option<&PeerRetry>) -> Result<(), StoreError>;
    fn append_log(&self, entry: &[u8]) -> Result<u64, StoreError>;
    fn witnessed(&self, origin: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn set_witnessed(&self, origin: &str, checkpoint: &[u8]) -> Result<(), StoreError>;
    fn record_cosigned(&self, witness: &str, size: u64, cosigned: &[u8]) -> Result<(), StoreError>;
    fn raise_log_alarm(&self, evidence: &[u8]) -> Result<u64, StoreError>;
    fn record_access(&self, record: &[u8]) -> Result<u64, StoreError>;
    fn attachment(&self, sha256: &[u8; 32]) -> Result<Option<AttachmentRecord>, StoreError>;
    fn put_attachment(
        &self,
        sha256: &[u8; 32],
        record: &AttachmentRecord,
    ) -> Result<(), StoreError>;
    fn put_attachment_chunk(
        &self,
        sha256: &[u8; 32],
        index: u32,
        data: &[u8],
    ) -> Result<(), StoreError>;
    fn remove_attachment(&self, sha256: &[u8; 32]) -> Result<(), StoreError>;
    fn add_custody(&self, sha256: &[u8; 32], signed_entry: &[u8]) -> Result<(), StoreError>;
    fn settle_quota(
        &self,
        peer: &str,
        used_kib: f64,
        capacity_kib: f64,
        refill_kib_per_ms: f64,
        now_ms: i64,
    ) -> Result<PeerQuota, StoreError>;
    fn withhold(&self, case_id: &str, victim_id: &str, states: &[String])
    -> Result<(), StoreError>;
    fn submission(&self, key: &str) -> Result<Option<([u8; 32], u64)>, StoreError>;
    fn record_submission(&self, key: &str, id: &NoticeId, sequence: u64) -> Result<(), StoreError>;
    fn save_roster(&self, signed_roster: &[u8]) -> Result<(), StoreError>;
}

/// One open write transaction. Obtained from [`crate::Store::write`].
pub struct Transaction<'t> {
    changes: &'t dyn Changes,
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction").finish_non_exhaustive()
    }
}

impl<'t> Transaction<'t> {
    pub(crate) fn new(changes: &'t dyn Changes) -> Self {
        Transaction { changes }
    }

    /// Queues `entry` (its `seq` is assigned here) and returns it. Sequence
    /// numbers of the outbox increase in commit order, also across
    /// replicas.
    ///
    /// # Errors
    /// Database failure.
    pub fn enqueue(&self, entry: OutboxEntry) -> Result<OutboxEntry, StoreError> {
        self.changes.enqueue(entry)
    }

    /// Reserves the next per-sender sequence number. A number reserved by a
    /// notice that is then never stored leaves a gap, which is allowed: the
    /// numbers only have to increase.
    ///
    /// # Errors
    /// Database failure.
    pub fn reserve_sequence(&self) -> Result<u64, StoreError> {
        self.changes.reserve_sequence()
    }

    /// Records that sequence numbers up to `sequence` were used (the stored
    /// counter only moves up).
    ///
    /// # Errors
    /// Database failure.
    pub fn note_sequence(&self, sequence: u64) -> Result<(), StoreError> {
        self.changes.note_sequence(sequence)
    }

    /// Whether a notice with this id is stored.
    ///
    /// # Errors
    /// Database failure.
    pub fn has_notice(&self, id: &NoticeId) -> Result<bool, StoreError> {
        self.changes.has_notice(id)
    }

    /// Stores a notice this node signed and queues one delivery per
    /// recipient. Returns the queued entries; storing the same id again
    /// changes nothing and returns none.
    ///
    /// # Errors
    /// Database failure.
    pub fn record_sent(
        &self,
        id: &NoticeId,
        notice: &StoredNotice,
        priority: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        if !self.changes.store_sent(id, notice)? {
            return Ok(Vec::new());
        }
        self.log(
            LogEntryKind::NoticeSent,
            id,
            &lintas_core::signing::logged_bytes(&notice.envelope),
        )?;
        notice
            .recipients
            .iter()
            .map(|recipient| {
                self.changes
                    .enqueue(OutboxEntry::delivery(id, notice, recipient, priority))
            })
            .collect()
    }

    /// Adds to a stored notice's record what further agencies were given
    /// of its protected parts (a recipient forwarding it). Nothing if the
    /// notice is not stored.
    ///
    /// # Errors
    /// Database failure.
    pub fn record_given(
        &self,
        id: &NoticeId,
        given: &[crate::records::GivenParts],
    ) -> Result<(), StoreError> {
        if let Some(mut notice) = self.changes.notice(id)? {
            notice.given.extend_from_slice(given);
            self.changes.replace_notice(id, &notice)?;
        }
        Ok(())
    }

    /// Replaces a stored notice's record with `purged` (its envelope removed,
    /// its tombstone set) and appends the PURGED log entry naming the
    /// tombstone, in this transaction.
    ///
    /// # Errors
    /// Database failure.
    pub fn purge(&self, id: &NoticeId, purged: &StoredNotice) -> Result<(), StoreError> {
        // First the same record with every envelope byte zeroed, then the
        // purged one: a database that rewrites a page in place leaves what
        // follows a shrunk record in the page's slack, and those bytes are
        // then zeros, not the notice.
        if let Some(mut zeroed) = self.changes.notice(id)? {
            zeroed.envelope.iter_mut().for_each(|b| *b = 0);
            self.changes.replace_notice(id, &zeroed)?;
        }
        self.changes.replace_notice(id, purged)?;
        self.log(LogEntryKind::Purged, id, &purged.tombstone)
    }

    /// Replaces notice `id`'s record with `redacted` (the same notice with
    /// fewer disclosures), zeroing the old bytes first as [`Self::purge`]
    /// does. The log is unchanged: its entries commit to the notice
    /// without disclosures.
    ///
    /// # Errors
    /// Database failure.
    pub fn redact(&self, id: &NoticeId, redacted: &StoredNotice) -> Result<(), StoreError> {
        if let Some(mut zeroed) = self.changes.notice(id)? {
            zeroed.envelope.iter_mut().for_each(|b| *b = 0);
            self.changes.replace_notice(id, &zeroed)?;
        }
        self.changes.replace_notice(id, redacted)
    }

    /// Stores a verified received notice, its inbox entry and the ACCEPTED
    /// receipt answering it, unless the id is already known: then nothing
    /// changes and the original receipt is returned.
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
        let outcome =
            self.changes
                .record_received(id, notice, receiver, accepted_stage, receipt)?;
        if matches!(outcome, ReceiveOutcome::New { .. }) {
            self.log(
                LogEntryKind::NoticeReceived,
                id,
                &lintas_core::signing::logged_bytes(&notice.envelope),
            )?;
            self.log(LogEntryKind::Receipt, id, receipt)?;
        }
        Ok(outcome)
    }

    /// Stores a receipt unless one for the same (notice, stage, receiver)
    /// exists, and optionally queues `report` (a receipt to send to the
    /// notice's sender). Returns `None` if the receipt was known, else the
    /// queued entry (if any).
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
    ) -> Result<Option<Option<OutboxEntry>>, StoreError> {
        let stored = self
            .changes
            .store_receipt(id, stage, receiver, receipt, report)?;
        if stored.is_some() {
            self.log(LogEntryKind::Receipt, id, receipt)?;
        }
        Ok(stored)
    }

    /// Removes a delivered outbox entry and stores the receipt that proves
    /// delivery (if any, and if new). An entry already gone (another
    /// replica finished it) is not an error.
    ///
    /// # Errors
    /// Database failure.
    pub fn complete(
        &self,
        seq: u64,
        receipt: Option<(&NoticeId, u8, &str, &[u8])>,
    ) -> Result<(), StoreError> {
        self.changes.complete(seq, None)?;
        if let Some((id, stage, receiver, bytes)) = receipt {
            self.store_receipt(id, stage, receiver, bytes, None)?;
        }
        Ok(())
    }

    /// Appends what was just stored to the transparency log, in the same
    /// transaction: a notice or receipt is in the log exactly when it is
    /// in the store.
    fn log(&self, kind: LogEntryKind, id: &NoticeId, stored: &[u8]) -> Result<(), StoreError> {
        self.changes
            .append_log(&LogEntry::of(kind, *id, stored).encode())
            .map(drop)
    }

    /// Records a refused attempt of one entry and when to try it again
    /// (and lets go of its claim).
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
        self.changes
            .reschedule(seq, attempts, next_attempt_ms, error)
    }

    /// Moves outbox entry `seq` to the dead letters: its recipient refused
    /// it for good (`error`, at `at_ms`). Nothing else of its case waits for
    /// it any more. A missing entry is not an error (already moved).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn bury(&self, seq: u64, at_ms: i64, error: &str) -> Result<(), StoreError> {
        self.changes.bury(seq, at_ms, error)
    }

    /// Takes dead letter `seq` out of the dead letters; returns it (or
    /// `None` when there is none with that sequence).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn unbury(&self, seq: u64) -> Result<Option<OutboxEntry>, StoreError> {
        self.changes.unbury(seq)
    }

    /// Records a peer's delivery backoff, or clears it (`None`) once the
    /// peer answers again.
    ///
    /// # Errors
    /// Database failure.
    pub fn set_peer_retry(&self, peer: &str, retry: Option<&PeerRetry>) -> Result<(), StoreError> {
        self.changes.set_peer_retry(peer, retry)
    }

    /// Appends `entry` to the transparency log and returns its index:
    /// the entry, its leaf hash and every perfect subtree it completes are
    /// stored with the transaction. Appends are numbered in commit order,
    /// also across replicas.
    ///
    /// # Errors
    /// Database failure or a damaged log.
    pub fn append_log(&self, entry: &[u8]) -> Result<u64, StoreError> {
        self.changes.append_log(entry)
    }

    /// The last checkpoint this node cosigned from `origin`'s log (an
    /// encoded `SignedLogCheckpoint`), read so that it stays as read until
    /// this transaction ends (replicas witnessing the same log at once
    /// take turns).
    ///
    /// # Errors
    /// Database failure.
    pub fn witnessed(&self, origin: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.changes.witnessed(origin)
    }

    /// Records `checkpoint` (an encoded `SignedLogCheckpoint`) as the last
    /// one cosigned from `origin`'s log.
    ///
    /// # Errors
    /// Database failure.
    pub fn set_witnessed(&self, origin: &str, checkpoint: &[u8]) -> Result<(), StoreError> {
        self.changes.set_witnessed(origin, checkpoint)
    }

    /// Keeps `cosigned` (an encoded `CosignedLogCheckpoint` of this node's
    /// log, of `size` entries, with `witness`'s cosignature) as that
    /// witness's latest, unless one of a larger size is kept already.
    ///
    /// # Errors
    /// Database failure.
    pub fn record_cosigned(
        &self,
        witness: &str,
        size: u64,
        cosigned: &[u8],
    ) -> Result<(), StoreError> {
        self.changes.record_cosigned(witness, size, cosigned)
    }

    /// The record of attachment `sha256`, read in this transaction.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn attachment(&self, sha256: &[u8; 32]) -> Result<Option<AttachmentRecord>, StoreError> {
        self.changes.attachment(sha256)
    }

    /// Writes the record of attachment `sha256`.
    ///
    /// # Errors
    /// Database failure.
    pub fn put_attachment(
        &self,
        sha256: &[u8; 32],
        record: &AttachmentRecord,
    ) -> Result<(), StoreError> {
        self.changes.put_attachment(sha256, record)
    }

    /// Writes piece `index` of attachment `sha256`.
    ///
    /// # Errors
    /// Database failure.
    pub fn put_attachment_chunk(
        &self,
        sha256: &[u8; 32],
        index: u32,
        data: &[u8],
    ) -> Result<(), StoreError> {
        self.changes.put_attachment_chunk(sha256, index, data)
    }

    /// Removes attachment `sha256`: its record and every piece.
    ///
    /// # Errors
    /// Database failure.
    pub fn remove_attachment(&self, sha256: &[u8; 32]) -> Result<(), StoreError> {
        self.changes.remove_attachment(sha256)
    }

    /// Keeps a signed custody entry of attachment `sha256` and appends it
    /// to the log (`CUSTODY`, for `notice`; an upload's entry is logged
    /// under the zero notice id).
    ///
    /// # Errors
    /// Database failure.
    pub fn add_custody(
        &self,
        sha256: &[u8; 32],
        notice: Option<&NoticeId>,
        signed_entry: &[u8],
    ) -> Result<(), StoreError> {
        self.changes.add_custody(sha256, signed_entry)?;
        let id = notice.copied().unwrap_or(NoticeId::from_bytes([0; 32]));
        self.log(LogEntryKind::Custody, &id, signed_entry)
    }

    /// Appends an access record (an encoded `AccessRecord`: a read of
    /// personal data through the agency API) and returns its number.
    /// Records are never removed by the node.
    ///
    /// # Errors
    /// Database failure.
    pub fn record_access(&self, record: &[u8]) -> Result<u64, StoreError> {
        self.changes.record_access(record)
    }

    /// Keeps `evidence` (an encoded `LogForkEvidence`) and returns its
    /// number. Alarms are never removed by the node.
    ///
    /// # Errors
    /// Database failure.
    pub fn raise_log_alarm(&self, evidence: &[u8]) -> Result<u64, StoreError> {
        self.changes.raise_log_alarm(evidence)
    }

    /// Charges `used_kib` to `peer`'s stored quota (see
    /// [`PeerQuota::settled`]) and returns it; replicas settling at the same
    /// time are serialised on the peer's row, so each charge counts once.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn settle_quota(
        &self,
        peer: &str,
        used_kib: f64,
        capacity_kib: f64,
        refill_kib_per_ms: f64,
        now_ms: i64,
    ) -> Result<PeerQuota, StoreError> {
        self.changes
            .settle_quota(peer, used_kib, capacity_kib, refill_kib_per_ms, now_ms)
    }

    /// Records the states that must receive nothing about a victim of a
    /// case (an empty list lifts the restriction): the latest record of the
    /// victim's consent decides.
    ///
    /// # Errors
    /// Database failure.
    pub fn withhold(
        &self,
        case_id: &str,
        victim_id: &str,
        states: &[String],
    ) -> Result<(), StoreError> {
        self.changes.withhold(case_id, victim_id, states)
    }

    /// The first submission made with idempotency key `key`, if any. In a
    /// shared store this also holds the key until the transaction ends, so
    /// two replicas given the same key at once make one notice.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn submission(&self, key: &str) -> Result<Option<([u8; 32], u64)>, StoreError> {
        self.changes.submission(key)
    }

    /// Records that idempotency key `key` produced notice `id` with
    /// `sequence`.
    ///
    /// # Errors
    /// Database failure.
    pub fn record_submission(
        &self,
        key: &str,
        id: &NoticeId,
        sequence: u64,
    ) -> Result<(), StoreError> {
        self.changes.record_submission(key, id, sequence)
    }

    /// Saves the trusted roster (SignedRoster bytes).
    ///
    /// # Errors
    /// Database failure.
    pub fn save_roster(&self, signed_roster: &[u8]) -> Result<(), StoreError> {
        self.changes.save_roster(signed_roster)
    }
}
