//! The embedded store on redb.

use std::path::Path;

use lintas_core::ids::NoticeId;
use prost::Message;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use crate::records::{OutboxEntry, OutboxPayload, StoredNotice, decode};
use crate::{StoreError, db};

/// notice id -> StoredNotice.
const NOTICES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("notices");
/// inbox cursor -> notice id, in arrival order.
const INBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("inbox");
/// outbox seq -> OutboxEntry.
const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
/// notice id || stage || receiver -> SignedReceipt bytes.
const RECEIPTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("receipts");
/// case id || 0x00 || notice id -> nothing.
const CASES: TableDefinition<&[u8], u8> = TableDefinition::new("cases");
/// counter name -> last value handed out.
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
/// name -> bytes (the trusted roster).
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

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

/// A node's durable store: one file.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

fn receipt_key(id: &NoticeId, stage: u8, receiver: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(33 + receiver.len());
    key.extend_from_slice(id.as_bytes());
    key.push(stage);
    key.extend_from_slice(receiver.as_bytes());
    key
}

fn case_key(case_id: &str, id: &NoticeId) -> Vec<u8> {
    let mut key = Vec::with_capacity(case_id.len() + 33);
    key.extend_from_slice(case_id.as_bytes());
    key.push(0);
    key.extend_from_slice(id.as_bytes());
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

/// Hands out the next value of a counter, inside `txn`.
fn next(txn: &WriteTransaction, name: &str) -> Result<u64, StoreError> {
    let mut counters = txn.open_table(COUNTERS).map_err(db)?;
    let value = counters
        .get(name)
        .map_err(db)?
        .map(|v| v.value())
        .unwrap_or(0)
        + 1;
    counters.insert(name, value).map_err(db)?;
    Ok(value)
}

fn enqueue(txn: &WriteTransaction, mut entry: OutboxEntry) -> Result<u64, StoreError> {
    let seq = next(txn, "outbox")?;
    entry.seq = seq;
    let mut outbox = txn.open_table(OUTBOX).map_err(db)?;
    outbox
        .insert(seq, entry.encode_to_vec().as_slice())
        .map_err(db)?;
    Ok(seq)
}

impl Store {
    /// Opens the store at `path`, creating it if needed.
    ///
    /// # Errors
    /// The file cannot be created, opened or locked (another node process
    /// has it open).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let database = Database::create(path).map_err(db)?;
        let txn = database.begin_write().map_err(db)?;
        txn.open_table(NOTICES).map_err(db)?;
        txn.open_table(INBOX).map_err(db)?;
        txn.open_table(OUTBOX).map_err(db)?;
        txn.open_table(RECEIPTS).map_err(db)?;
        txn.open_table(CASES).map_err(db)?;
        txn.open_table(COUNTERS).map_err(db)?;
        txn.open_table(META).map_err(db)?;
        txn.commit().map_err(db)?;
        Ok(Store { db: database })
    }

    /// Reserves the next per-sender sequence number. A number reserved by a
    /// notice that is then never stored leaves a gap, which is allowed: the
    /// numbers only have to increase.
    ///
    /// # Errors
    /// Database failure.
    pub fn reserve_sequence(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let value = next(&txn, "sequence")?;
        txn.commit().map_err(db)?;
        Ok(value)
    }

    /// Stores a notice this node signed and queues one delivery per
    /// recipient, in one transaction. Storing the same id again changes
    /// nothing.
    ///
    /// # Errors
    /// Database failure.
    pub fn record_sent(
        &self,
        id: &NoticeId,
        notice: &StoredNotice,
        priority: u32,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut notices = txn.open_table(NOTICES).map_err(db)?;
            if notices.get(id.as_bytes().as_slice()).map_err(db)?.is_some() {
                return Ok(());
            }
            notices
                .insert(id.as_bytes().as_slice(), notice.encode_to_vec().as_slice())
                .map_err(db)?;
        }
        if !notice.case_id.is_empty() {
            let mut cases = txn.open_table(CASES).map_err(db)?;
            cases
                .insert(case_key(&notice.case_id, id).as_slice(), 0)
                .map_err(db)?;
        }
        for recipient in &notice.recipients {
            enqueue(
                &txn,
                OutboxEntry {
                    seq: 0,
                    recipient: recipient.clone(),
                    case_id: notice.case_id.clone(),
                    priority,
                    attempts: 0,
                    next_attempt_ms: 0,
                    last_error: String::new(),
                    expires_at: notice.expires_at,
                    payload: Some(OutboxPayload::Notice(id.as_bytes().to_vec())),
                },
            )?;
        }
        txn.commit().map_err(db)?;
        Ok(())
    }

    /// Stores a verified received notice, its inbox entry and the ACCEPTED
    /// receipt answering it, in one transaction, unless the id is already
    /// known: then nothing changes and the original receipt is returned.
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
        let txn = self.db.begin_write().map_err(db)?;
        let key = receipt_key(id, accepted_stage, receiver);
        {
            let notices = txn.open_table(NOTICES).map_err(db)?;
            if notices.get(id.as_bytes().as_slice()).map_err(db)?.is_some() {
                let receipts = txn.open_table(RECEIPTS).map_err(db)?;
                let original = receipts
                    .get(key.as_slice())
                    .map_err(db)?
                    .map(|v| v.value().to_vec())
                    .ok_or_else(|| StoreError::Corrupt {
                        what: format!("receipt for {id}"),
                        detail: "notice stored without its receipt".into(),
                    })?;
                return Ok(ReceiveOutcome::Duplicate { receipt: original });
            }
        }
        let cursor = next(&txn, "inbox")?;
        let mut stored = notice.clone();
        stored.inbox_cursor = cursor;
        {
            let mut notices = txn.open_table(NOTICES).map_err(db)?;
            notices
                .insert(id.as_bytes().as_slice(), stored.encode_to_vec().as_slice())
                .map_err(db)?;
            let mut inbox = txn.open_table(INBOX).map_err(db)?;
            inbox.insert(cursor, id.as_bytes().as_slice()).map_err(db)?;
            let mut receipts = txn.open_table(RECEIPTS).map_err(db)?;
            receipts.insert(key.as_slice(), receipt).map_err(db)?;
            if !stored.case_id.is_empty() {
                let mut cases = txn.open_table(CASES).map_err(db)?;
                cases
                    .insert(case_key(&stored.case_id, id).as_slice(), 0)
                    .map_err(db)?;
            }
        }
        txn.commit().map_err(db)?;
        Ok(ReceiveOutcome::New { cursor })
    }

    /// The stored notice with this id.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn notice(&self, id: &NoticeId) -> Result<Option<StoredNotice>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let notices = txn.open_table(NOTICES).map_err(db)?;
        notices
            .get(id.as_bytes().as_slice())
            .map_err(db)?
            .map(|v| decode(v.value(), &format!("notice {id}")))
            .transpose()
    }

    /// Up to `limit` inbox entries with a cursor above `after`, in order.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn inbox_after(&self, after: u64, limit: usize) -> Result<Vec<InboxEntry>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
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

    /// Every notice sent or received about `case_id`.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn case_notices(&self, case_id: &str) -> Result<Vec<(NoticeId, StoredNotice)>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let cases = txn.open_table(CASES).map_err(db)?;
        let notices = txn.open_table(NOTICES).map_err(db)?;
        let mut start = case_id.as_bytes().to_vec();
        start.push(0);
        let mut end = case_id.as_bytes().to_vec();
        end.push(1);
        let mut out = Vec::new();
        for row in cases.range(start.as_slice()..end.as_slice()).map_err(db)? {
            let (key, _) = row.map_err(db)?;
            let key = key.value();
            let id = notice_id(&key[key.len().saturating_sub(32)..], "case index")?;
            if let Some(n) = notices.get(id.as_bytes().as_slice()).map_err(db)? {
                out.push((id, decode(n.value(), "case notice")?));
            }
        }
        Ok(out)
    }

    /// Every stored notice (for deadline reports).
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn all_notices(&self) -> Result<Vec<(NoticeId, StoredNotice)>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
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

    /// The receipts stored for a notice: (stage, receiver, SignedReceipt
    /// bytes).
    ///
    /// # Errors
    /// Database failure.
    pub fn receipts(&self, id: &NoticeId) -> Result<Vec<(u8, String, Vec<u8>)>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
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

    /// Stores a receipt unless one for the same (notice, stage, receiver)
    /// exists, and optionally queues `report` (a receipt to send to the
    /// notice's sender) in the same transaction. Returns whether it was new.
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
        let txn = self.db.begin_write().map_err(db)?;
        let key = receipt_key(id, stage, receiver);
        {
            let mut receipts = txn.open_table(RECEIPTS).map_err(db)?;
            if receipts.get(key.as_slice()).map_err(db)?.is_some() {
                return Ok(false);
            }
            receipts.insert(key.as_slice(), receipt).map_err(db)?;
        }
        if let Some(entry) = report {
            enqueue(&txn, entry)?;
        }
        txn.commit().map_err(db)?;
        Ok(true)
    }

    /// Everything in the outbox, in enqueue order.
    ///
    /// # Errors
    /// Database failure or a damaged record.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let outbox = txn.open_table(OUTBOX).map_err(db)?;
        let mut out = Vec::new();
        for row in outbox.iter().map_err(db)? {
            let (_, value) = row.map_err(db)?;
            out.push(decode(value.value(), "outbox entry")?);
        }
        Ok(out)
    }

    /// Removes a delivered outbox entry and, in the same transaction,
    /// stores the receipt that proves delivery (if any, and if new).
    ///
    /// # Errors
    /// Database failure.
    pub fn complete(
        &self,
        seq: u64,
        receipt: Option<(&NoticeId, u8, &str, &[u8])>,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut outbox = txn.open_table(OUTBOX).map_err(db)?;
            outbox.remove(seq).map_err(db)?;
            if let Some((id, stage, receiver, bytes)) = receipt {
                let mut receipts = txn.open_table(RECEIPTS).map_err(db)?;
                let key = receipt_key(id, stage, receiver);
                if receipts.get(key.as_slice()).map_err(db)?.is_none() {
                    receipts.insert(key.as_slice(), bytes).map_err(db)?;
                }
            }
        }
        txn.commit().map_err(db)?;
        Ok(())
    }

    /// Records a failed attempt and when to try again.
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
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut outbox = txn.open_table(OUTBOX).map_err(db)?;
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
        }
        txn.commit().map_err(db)?;
        Ok(())
    }

    /// The trusted roster as last saved (SignedRoster bytes).
    ///
    /// # Errors
    /// Database failure.
    pub fn roster(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let meta = txn.open_table(META).map_err(db)?;
        Ok(meta.get("roster").map_err(db)?.map(|v| v.value().to_vec()))
    }

    /// Saves the trusted roster (SignedRoster bytes).
    ///
    /// # Errors
    /// Database failure.
    pub fn save_roster(&self, signed_roster: &[u8]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut meta = txn.open_table(META).map_err(db)?;
            meta.insert("roster", signed_roster).map_err(db)?;
        }
        txn.commit().map_err(db)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Direction;

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
