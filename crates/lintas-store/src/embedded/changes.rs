//! The changes of one write transaction of the embedded store (see
//! [`crate::Transaction`] for what each does).

use std::cell::RefCell;

use lintas_core::ids::NoticeId;
use prost::Message;
use redb::{Key, ReadableTable, Table, TableDefinition, Value, WriteTransaction};

use super::{
    ACCESS_LOG, ATTACHMENT_CHUNKS, ATTACHMENTS, COSIGNED, COUNTERS, CUSTODY, INBOX, LOG_ALARMS,
    LOG_ENTRIES, LOG_NODES, META, NOTICES, OUTBOX, PEERS, QUOTAS, RECEIPTS, ROSTER_HISTORY_END,
    ROSTER_HISTORY_PREFIX, WITNESSED, case_key, chunk_key, log_node_key, receipt_key,
    split_cosigned,
};
use crate::records::{AttachmentRecord, OutboxEntry, PeerQuota, PeerRetry, StoredNotice, decode};
use crate::store::ReceiveOutcome;
use crate::transaction::Changes;
use crate::{StoreError, db};

/// A table of the transaction, opened on first use and kept open until the
/// transaction ends: a group commit makes hundreds of changes to the same
/// few tables, and opening and closing a table for each costs more than
/// many of the changes.
type Lazy<'t, K, V> = RefCell<Option<Table<'t, K, V>>>;

/// One open write transaction of the embedded store.
pub(crate) struct EmbeddedChanges<'t> {
    txn: &'t WriteTransaction,
    notices: Lazy<'t, &'static [u8], &'static [u8]>,
    inbox: Lazy<'t, u64, &'static [u8]>,
    outbox: Lazy<'t, u64, &'static [u8]>,
    receipts: Lazy<'t, &'static [u8], &'static [u8]>,
    cases: Lazy<'t, &'static [u8], ()>,
    counters: Lazy<'t, &'static str, u64>,
    meta: Lazy<'t, &'static str, &'static [u8]>,
    peers: Lazy<'t, &'static str, &'static [u8]>,
    quotas: Lazy<'t, &'static str, &'static [u8]>,
    log_entries: Lazy<'t, u64, &'static [u8]>,
    log_nodes: Lazy<'t, &'static [u8], &'static [u8]>,
    withheld: Lazy<'t, &'static [u8], &'static str>,
    submissions: Lazy<'t, &'static str, &'static [u8]>,
    dead_letters: Lazy<'t, u64, &'static [u8]>,
    deadlines: Lazy<'t, &'static [u8], ()>,
}

/// Reads a submissions-table value: notice id and sequence number.
pub(crate) fn decode_submission(value: &[u8]) -> Result<([u8; 32], u64), StoreError> {
    let damaged = || StoreError::Corrupt {
        what: "submission record".into(),
        detail: format!("{} bytes, expected 40", value.len()),
    };
    let id: [u8; 32] = value
        .get(..32)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(damaged)?;
    let seq: [u8; 8] = value
        .get(32..40)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(damaged)?;
    Ok((id, u64::from_be_bytes(seq)))
}

/// The key of a victim of a case in the withheld table.
pub(crate) fn victim_key(case_id: &str, victim_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(case_id.len() + 1 + victim_id.len());
    key.extend_from_slice(case_id.as_bytes());
    key.push(0);
    key.extend_from_slice(victim_id.as_bytes());
    key
}

/// Runs `f` on the table in `cell`, opening it in `txn` first if needed.
fn with<'t, K, V, R>(
    txn: &'t WriteTransaction,
    cell: &Lazy<'t, K, V>,
    definition: TableDefinition<'static, K, V>,
    f: impl FnOnce(&mut Table<'t, K, V>) -> Result<R, StoreError>,
) -> Result<R, StoreError>
where
    K: Key + 'static,
    V: Value + 'static,
{
    let mut slot = cell.borrow_mut();
    let table = match slot.take() {
        Some(table) => table,
        None => txn.open_table(definition).map_err(db)?,
    };
    let table = slot.insert(table);
    f(table)
}

impl<'t> EmbeddedChanges<'t> {
    pub(crate) fn new(txn: &'t WriteTransaction) -> Self {
        EmbeddedChanges {
            txn,
            notices: RefCell::new(None),
            inbox: RefCell::new(None),
            outbox: RefCell::new(None),
            receipts: RefCell::new(None),
            cases: RefCell::new(None),
            counters: RefCell::new(None),
            meta: RefCell::new(None),
            peers: RefCell::new(None),
            quotas: RefCell::new(None),
            log_entries: RefCell::new(None),
            log_nodes: RefCell::new(None),
            withheld: RefCell::new(None),
            submissions: RefCell::new(None),
            dead_letters: RefCell::new(None),
            deadlines: RefCell::new(None),
        }
    }

    fn counters<R>(
        &self,
        f: impl FnOnce(&mut Table<'t, &'static str, u64>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        with(self.txn, &self.counters, COUNTERS, f)
    }

    fn notices<R>(
        &self,
        f: impl FnOnce(&mut Table<'t, &'static [u8], &'static [u8]>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        with(self.txn, &self.notices, NOTICES, f)
    }

    fn receipts<R>(
        &self,
        f: impl FnOnce(&mut Table<'t, &'static [u8], &'static [u8]>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        with(self.txn, &self.receipts, RECEIPTS, f)
    }

    fn outbox<R>(
        &self,
        f: impl FnOnce(&mut Table<'t, u64, &'static [u8]>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        with(self.txn, &self.outbox, OUTBOX, f)
    }

    /// Hands out the next value of a counter.
    fn next(&self, name: &str) -> Result<u64, StoreError> {
        self.counters(|counters| {
            let value = counters
                .get(name)
                .map_err(db)?
                .map(|v| v.value())
                .unwrap_or(0)
                .saturating_add(1);
            counters.insert(name, value).map_err(db)?;
            Ok(value)
        })
    }

    fn index_case(&self, notice: &StoredNotice, id: &NoticeId) -> Result<(), StoreError> {
        if notice.case_id.is_empty() {
            return Ok(());
        }
        let key = case_key(&notice.case_id, notice, id.as_bytes());
        with(self.txn, &self.cases, super::CASE_TIMELINE, |cases| {
            cases.insert(key.as_slice(), ()).map_err(db)?;
            Ok(())
        })
    }

    /// Adds a notice with a response deadline to the deadline index.
    fn index_deadline(&self, notice: &StoredNotice, id: &NoticeId) -> Result<(), StoreError> {
        if notice.response_deadline == 0 {
            return Ok(());
        }
        let key = super::schema::deadline_key(notice.response_deadline, id.as_bytes());
        with(self.txn, &self.deadlines, super::DEADLINES, |table| {
            table.insert(key.as_slice(), ()).map_err(db)?;
            Ok(())
        })
    }
}

impl Changes for EmbeddedChanges<'_> {
    /// Queues `entry` (its `seq` is assigned here) and returns it.
    ///
    /// # Errors
    /// Database failure.
    fn enqueue(&self, mut entry: OutboxEntry) -> Result<OutboxEntry, StoreError> {
        entry.seq = self.next("outbox")?;
        self.outbox(|outbox| {
            outbox
                .insert(entry.seq, entry.encode_to_vec().as_slice())
                .map_err(db)?;
            Ok(())
        })?;
        Ok(entry)
    }

    /// Reserves the next per-sender sequence number. A number reserved by a
    /// notice that is then never stored leaves a gap, which is allowed: the
    /// numbers only have to increase.
    ///
    /// # Errors
    /// Database failure.
    fn reserve_sequence(&self) -> Result<u64, StoreError> {
        self.next("sequence")
    }

    /// Records that sequence numbers up to `sequence` were used (the stored
    /// counter only moves up).
    ///
    /// # Errors
    /// Database failure.
    fn note_sequence(&self, sequence: u64) -> Result<(), StoreError> {
        self.counters(|counters| {
            let current = counters
                .get("sequence")
                .map_err(db)?
                .map(|v| v.value())
                .unwrap_or(0);
            if sequence > current {
                counters.insert("sequence", sequence).map_err(db)?;
            }
            Ok(())
        })
    }

    /// Whether a notice with this id is stored.
    ///
    /// # Errors
    /// Database failure.
    fn notice(&self, id: &NoticeId) -> Result<Option<StoredNotice>, StoreError> {
        self.notices(|notices| {
            notices
                .get(id.as_bytes().as_slice())
                .map_err(db)?
                .map(|v| crate::embedded::decode(v.value(), &format!("notice {id}")))
                .transpose()
        })
    }

    fn has_notice(&self, id: &NoticeId) -> Result<bool, StoreError> {
        self.notices(|notices| Ok(notices.get(id.as_bytes().as_slice()).map_err(db)?.is_some()))
    }

    /// Stores a notice this node signed with its case and deadline
    /// indexes; false, changing nothing, if the id is stored.
    ///
    /// # Errors
    /// Database failure.
    fn store_sent(&self, id: &NoticeId, notice: &StoredNotice) -> Result<bool, StoreError> {
        if self.has_notice(id)? {
            return Ok(false);
        }
        self.notices(|notices| {
            notices
                .insert(id.as_bytes().as_slice(), notice.encode_to_vec().as_slice())
                .map_err(db)?;
            Ok(())
        })?;
        self.index_case(notice, id)?;
        self.index_deadline(notice, id)?;
        Ok(true)
    }

    /// Overwrites a stored notice's record (its indexes stay: case id,
    /// times and deadline do not change).
    ///
    /// # Errors
    /// Database failure.
    fn replace_notice(&self, id: &NoticeId, notice: &StoredNotice) -> Result<(), StoreError> {
        self.notices(|notices| {
            notices
                .insert(id.as_bytes().as_slice(), notice.encode_to_vec().as_slice())
                .map_err(db)?;
            Ok(())
        })
    }

    /// Stores a verified received notice, its inbox entry and the ACCEPTED
    /// receipt answering it, unless the id is already known: then nothing
    /// changes and the original receipt is returned.
    ///
    /// # Errors
    /// Database failure, or a stored duplicate without its receipt.
    fn record_received(
        &self,
        id: &NoticeId,
        notice: &StoredNotice,
        receiver: &str,
        accepted_stage: u8,
        receipt: &[u8],
    ) -> Result<ReceiveOutcome, StoreError> {
        let key = receipt_key(id, accepted_stage, receiver);
        if self.has_notice(id)? {
            let original = self.receipts(|receipts| {
                Ok(receipts
                    .get(key.as_slice())
                    .map_err(db)?
                    .map(|v| v.value().to_vec()))
            })?;
            let original = original.ok_or_else(|| StoreError::Corrupt {
                what: format!("receipt for {id}"),
                detail: "notice stored without its receipt".into(),
            })?;
            return Ok(ReceiveOutcome::Duplicate { receipt: original });
        }
        let cursor = self.next("inbox")?;
        let mut stored = notice.clone();
        stored.inbox_cursor = cursor;
        self.notices(|notices| {
            notices
                .insert(id.as_bytes().as_slice(), stored.encode_to_vec().as_slice())
                .map_err(db)?;
            Ok(())
        })?;
        with(self.txn, &self.inbox, INBOX, |inbox| {
            inbox.insert(cursor, id.as_bytes().as_slice()).map_err(db)?;
            Ok(())
        })?;
        self.receipts(|receipts| {
            receipts.insert(key.as_slice(), receipt).map_err(db)?;
            Ok(())
        })?;
        self.index_case(&stored, id)?;
        self.index_deadline(&stored, id)?;
        Ok(ReceiveOutcome::New { cursor })
    }

    /// Stores a receipt unless one for the same (notice, stage, receiver)
    /// exists, and optionally queues `report` (a receipt to send to the
    /// notice's sender). Returns `None` if the receipt was known, else the
    /// queued entry (if any).
    ///
    /// # Errors
    /// Database failure.
    fn store_receipt(
        &self,
        id: &NoticeId,
        stage: u8,
        receiver: &str,
        receipt: &[u8],
        report: Option<OutboxEntry>,
    ) -> Result<Option<Option<OutboxEntry>>, StoreError> {
        let key = receipt_key(id, stage, receiver);
        let new = self.receipts(|receipts| {
            if receipts.get(key.as_slice()).map_err(db)?.is_some() {
                return Ok(false);
            }
            receipts.insert(key.as_slice(), receipt).map_err(db)?;
            Ok(true)
        })?;
        if !new {
            return Ok(None);
        }
        let queued = report.map(|entry| self.enqueue(entry)).transpose()?;
        Ok(Some(queued))
    }

    /// Removes a delivered outbox entry and stores the receipt that proves
    /// delivery (if any, and if new).
    ///
    /// # Errors
    /// Database failure.
    fn complete(
        &self,
        seq: u64,
        receipt: Option<(&NoticeId, u8, &str, &[u8])>,
    ) -> Result<(), StoreError> {
        self.outbox(|outbox| {
            outbox.remove(seq).map_err(db)?;
            Ok(())
        })?;
        if let Some((id, stage, receiver, bytes)) = receipt {
            let key = receipt_key(id, stage, receiver);
            self.receipts(|receipts| {
                if receipts.get(key.as_slice()).map_err(db)?.is_none() {
                    receipts.insert(key.as_slice(), bytes).map_err(db)?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Records a refused attempt of one entry and when to try it again.
    ///
    /// # Errors
    /// Database failure.
    fn reschedule(
        &self,
        seq: u64,
        attempts: u32,
        next_attempt_ms: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.outbox(|outbox| {
            let current = outbox.get(seq).map_err(db)?.map(|v| v.value().to_vec());
            if let Some(bytes) = current {
                let mut entry: OutboxEntry = decode(&bytes, "outbox entry")?;
                entry.attempts = attempts;
                entry.next_attempt_ms = next_attempt_ms;
                entry.last_error = error.chars().take(512).collect();
                outbox
                    .insert(seq, entry.encode_to_vec().as_slice())
                    .map_err(db)?;
            }
            Ok(())
        })
    }

    /// Moves outbox entry `seq` to the dead letters: its recipient refused
    /// it for good (`error`, at `at_ms`). Nothing else of its case waits for
    /// it any more. A missing entry is not an error (already moved).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    fn bury(&self, seq: u64, at_ms: i64, error: &str) -> Result<(), StoreError> {
        let removed =
            self.outbox(|outbox| Ok(outbox.remove(seq).map_err(db)?.map(|v| v.value().to_vec())))?;
        let Some(bytes) = removed else {
            return Ok(());
        };
        let mut entry: OutboxEntry = decode(&bytes, "outbox entry")?;
        entry.last_error = error.chars().take(512).collect();
        entry.next_attempt_ms = at_ms;
        with(self.txn, &self.dead_letters, super::DEAD_LETTERS, |table| {
            table
                .insert(seq, entry.encode_to_vec().as_slice())
                .map_err(db)?;
            Ok(())
        })
    }

    /// Takes dead letter `seq` out of the dead letters; returns it (or
    /// `None` when there is none with that sequence).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    fn unbury(&self, seq: u64) -> Result<Option<OutboxEntry>, StoreError> {
        let removed = with(self.txn, &self.dead_letters, super::DEAD_LETTERS, |table| {
            Ok(table.remove(seq).map_err(db)?.map(|v| v.value().to_vec()))
        })?;
        removed
            .map(|bytes| decode(&bytes, "dead letter"))
            .transpose()
    }

    /// Records a peer's delivery backoff, or clears it (`None`) once the
    /// peer answers again.
    ///
    /// # Errors
    /// Database failure.
    fn set_peer_retry(&self, peer: &str, retry: Option<&PeerRetry>) -> Result<(), StoreError> {
        with(self.txn, &self.peers, PEERS, |peers| {
            match retry {
                Some(r) => {
                    peers
                        .insert(peer, r.encode_to_vec().as_slice())
                        .map_err(db)?;
                }
                None => {
                    peers.remove(peer).map_err(db)?;
                }
            }
            Ok(())
        })
    }

    fn append_log(&self, entry: &[u8]) -> Result<u64, StoreError> {
        use lintas_core::transparency::merkle;
        let index = self.next("log")? - 1;
        with(self.txn, &self.log_entries, LOG_ENTRIES, |entries| {
            entries.insert(index, entry).map_err(db)?;
            Ok(())
        })?;

        with(self.txn, &self.log_nodes, LOG_NODES, |nodes| {
            let leaf = merkle::leaf_hash(entry);
            nodes
                .insert(log_node_key(0, index).as_slice(), leaf.as_slice())
                .map_err(db)?;
            for (level, i) in merkle::completed_by(index) {
                let child = |j: u64| -> Result<[u8; 32], StoreError> {
                    let key = log_node_key(level - 1, j);
                    let value = nodes.get(key.as_slice()).map_err(db)?.ok_or_else(|| {
                        StoreError::Corrupt {
                            what: format!("log subtree {}/{j}", level - 1),
                            detail: "missing".into(),
                        }
                    })?;
                    crate::records::hash32(value.value(), "log node")
                };
                let parent = merkle::node_hash(&child(2 * i)?, &child(2 * i + 1)?);
                nodes
                    .insert(log_node_key(level, i).as_slice(), parent.as_slice())
                    .map_err(db)?;
            }
            Ok(index)
        })
    }

    fn witnessed(&self, origin: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let table = self.txn.open_table(WITNESSED).map_err(db)?;
        Ok(table.get(origin).map_err(db)?.map(|v| v.value().to_vec()))
    }

    fn set_witnessed(&self, origin: &str, checkpoint: &[u8]) -> Result<(), StoreError> {
        let mut table = self.txn.open_table(WITNESSED).map_err(db)?;
        table.insert(origin, checkpoint).map_err(db)?;
        Ok(())
    }

    fn record_cosigned(&self, witness: &str, size: u64, cosigned: &[u8]) -> Result<(), StoreError> {
        let mut table = self.txn.open_table(COSIGNED).map_err(db)?;
        let kept = match table.get(witness).map_err(db)? {
            Some(v) => Some(split_cosigned(v.value())?.0),
            None => None,
        };
        if kept.is_some_and(|kept| kept > size) {
            return Ok(());
        }
        let mut value = size.to_be_bytes().to_vec();
        value.extend_from_slice(cosigned);
        table.insert(witness, value.as_slice()).map_err(db)?;
        Ok(())
    }

    fn attachment(&self, sha256: &[u8; 32]) -> Result<Option<AttachmentRecord>, StoreError> {
        let table = self.txn.open_table(ATTACHMENTS).map_err(db)?;
        match table.get(sha256.as_slice()).map_err(db)? {
            Some(v) => Ok(Some(decode(v.value(), "attachment")?)),
            None => Ok(None),
        }
    }

    fn put_attachment(
        &self,
        sha256: &[u8; 32],
        record: &AttachmentRecord,
    ) -> Result<(), StoreError> {
        let mut table = self.txn.open_table(ATTACHMENTS).map_err(db)?;
        table
            .insert(sha256.as_slice(), record.encode_to_vec().as_slice())
            .map_err(db)?;
        Ok(())
    }

    fn put_attachment_chunk(
        &self,
        sha256: &[u8; 32],
        index: u32,
        data: &[u8],
    ) -> Result<(), StoreError> {
        let mut table = self.txn.open_table(ATTACHMENT_CHUNKS).map_err(db)?;
        table
            .insert(chunk_key(sha256, index).as_slice(), data)
            .map_err(db)?;
        Ok(())
    }

    fn remove_attachment(&self, sha256: &[u8; 32]) -> Result<(), StoreError> {
        let mut records = self.txn.open_table(ATTACHMENTS).map_err(db)?;
        records.remove(sha256.as_slice()).map_err(db)?;
        let mut chunks = self.txn.open_table(ATTACHMENT_CHUNKS).map_err(db)?;
        let (start, end) = (chunk_key(sha256, 0), chunk_key(sha256, u32::MAX));
        chunks
            .retain_in(start.as_slice()..=end.as_slice(), |_, _| false)
            .map_err(db)?;
        Ok(())
    }

    fn add_custody(&self, sha256: &[u8; 32], signed_entry: &[u8]) -> Result<(), StoreError> {
        let n = self.next("custody")?;
        let mut key = sha256.to_vec();
        key.extend_from_slice(&n.to_be_bytes());
        let mut table = self.txn.open_table(CUSTODY).map_err(db)?;
        table.insert(key.as_slice(), signed_entry).map_err(db)?;
        Ok(())
    }

    fn record_access(&self, record: &[u8]) -> Result<u64, StoreError> {
        let number = self.next("access")?;
        let mut table = self.txn.open_table(ACCESS_LOG).map_err(db)?;
        table.insert(number, record).map_err(db)?;
        Ok(number)
    }

    fn raise_log_alarm(&self, evidence: &[u8]) -> Result<u64, StoreError> {
        let number = self.next("log_alarm")?;
        let mut table = self.txn.open_table(LOG_ALARMS).map_err(db)?;
        table.insert(number, evidence).map_err(db)?;
        Ok(number)
    }

    fn settle_quota(
        &self,
        peer: &str,
        used_kib: f64,
        capacity_kib: f64,
        refill_kib_per_ms: f64,
        now_ms: i64,
    ) -> Result<PeerQuota, StoreError> {
        with(self.txn, &self.quotas, QUOTAS, |quotas| {
            let previous: Option<PeerQuota> = match quotas.get(peer).map_err(db)? {
                Some(bytes) => Some(decode(bytes.value(), "peer quota")?),
                None => None,
            };
            let next = PeerQuota::settled(
                previous.as_ref(),
                used_kib,
                capacity_kib,
                refill_kib_per_ms,
                now_ms,
            );
            quotas
                .insert(peer, next.encode_to_vec().as_slice())
                .map_err(db)?;
            Ok(next)
        })
    }

    /// Records the states that must receive nothing about a victim of a
    /// case (an empty list lifts the restriction): the latest record of the
    /// victim's consent decides.
    ///
    /// # Errors
    /// Database failure.
    fn withhold(
        &self,
        case_id: &str,
        victim_id: &str,
        states: &[String],
    ) -> Result<(), StoreError> {
        let key = victim_key(case_id, victim_id);
        with(self.txn, &self.withheld, super::WITHHELD, |table| {
            if states.is_empty() {
                table.remove(key.as_slice()).map_err(db)?;
            } else {
                table
                    .insert(key.as_slice(), states.join(",").as_str())
                    .map_err(db)?;
            }
            Ok(())
        })
    }

    /// The first submission made with idempotency key `key`, if any.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    fn submission(&self, key: &str) -> Result<Option<([u8; 32], u64)>, StoreError> {
        with(self.txn, &self.submissions, super::SUBMISSIONS, |table| {
            table
                .get(key)
                .map_err(db)?
                .map(|v| decode_submission(v.value()))
                .transpose()
        })
    }

    /// Records that idempotency key `key` produced notice `id` with
    /// `sequence`.
    ///
    /// # Errors
    /// Database failure.
    fn record_submission(&self, key: &str, id: &NoticeId, sequence: u64) -> Result<(), StoreError> {
        let mut value = Vec::with_capacity(40);
        value.extend_from_slice(id.as_bytes());
        value.extend_from_slice(&sequence.to_be_bytes());
        with(self.txn, &self.submissions, super::SUBMISSIONS, |table| {
            table.insert(key, value.as_slice()).map_err(db)?;
            Ok(())
        })
    }

    /// Saves the trusted roster (SignedRoster bytes).
    ///
    /// # Errors
    /// Database failure.
    fn save_roster(&self, signed_roster: &[u8]) -> Result<(), StoreError> {
        let last_kept = with(self.txn, &self.meta, META, |meta| {
            meta.insert("roster", signed_roster).map_err(db)?;
            let last = meta
                .range(ROSTER_HISTORY_PREFIX..ROSTER_HISTORY_END)
                .map_err(db)?
                .next_back()
                .transpose()
                .map_err(db)?
                .map(|(_, v)| v.value() == signed_roster);
            Ok(last)
        })?;
        if last_kept != Some(true) {
            let n = self.next("roster_history")?;
            with(self.txn, &self.meta, META, |meta| {
                meta.insert(
                    format!("{ROSTER_HISTORY_PREFIX}{n:020}").as_str(),
                    signed_roster,
                )
                .map_err(db)?;
                Ok(())
            })?;
        }
        Ok(())
    }
}
