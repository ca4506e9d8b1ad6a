//! The changes of one write transaction of the PostgreSQL store (see
//! [`crate::Transaction`] for what each does). Inserts that another
//! replica may make at the same moment use `ON CONFLICT DO NOTHING`: the
//! second waits for the first to commit and then finds its row.

use lintas_core::ids::NoticeId;
use prost::Message;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Transaction};

use super::connection::Prepared;

use super::{block, to_i64, to_u64};
use crate::StoreError;
use crate::records::{AttachmentRecord, OutboxEntry, PeerQuota, PeerRetry, StoredNotice, decode};
use crate::store::ReceiveOutcome;
use crate::transaction::Changes;

/// One open transaction of this replica.
pub(crate) struct PgChanges<'a, 't> {
    txn: &'a Transaction<'t>,
    prepared: &'a Prepared,
    replica: &'a str,
    /// Log entries appended in this transaction, written together by
    /// [`PgChanges::finish`]: the log's size when the first was appended
    /// (its counter row locked from then on), and the entries.
    log: std::cell::RefCell<Option<(u64, Vec<Vec<u8>>)>>,
}

/// Reads a `lintas_submissions` row: notice id and sequence number.
pub(crate) fn submission_row(row: &Row) -> Result<([u8; 32], u64), StoreError> {
    let id: &[u8] = row.try_get(0)?;
    let id: [u8; 32] = id.try_into().map_err(|_| StoreError::Corrupt {
        what: "submission record".into(),
        detail: format!("notice id of {} bytes", id.len()),
    })?;
    Ok((id, to_u64(row.try_get(1)?, "submission sequence")?))
}

impl<'a, 't> PgChanges<'a, 't> {
    pub(crate) fn new(txn: &'a Transaction<'t>, prepared: &'a Prepared, replica: &'a str) -> Self {
        PgChanges {
            txn,
            prepared,
            replica,
            log: std::cell::RefCell::new(None),
        }
    }

    /// Writes what the transaction appended to the log: the entries, their
    /// leaves and every perfect subtree they complete, and the new size,
    /// in one statement (after one reading the subtrees it builds on),
    /// whatever the number of entries.
    pub(crate) fn finish(&self) -> Result<(), StoreError> {
        use lintas_core::transparency::merkle;
        let Some((base, entries)) = self.log.borrow_mut().take() else {
            return Ok(());
        };
        let count = entries.len() as u64;
        let needed = merkle::needed_for_batch(base, count);
        let mut existing = std::collections::BTreeMap::new();
        // A few primary-key lookups (one per level below the batch, at
        // most 64): cheaper than one statement over an array, which the
        // server plans again at each call.
        for (level, idx) in needed {
            let row = self.query_one(
                "SELECT hash FROM lintas_log_nodes WHERE level = $1 AND idx = $2",
                &[&i16::from(level), &to_i64(idx, "log index")?],
            )?;
            existing.insert(
                (level, idx),
                crate::records::hash32(row.try_get(0)?, "log node")?,
            );
        }
        let leaves: Vec<[u8; 32]> = entries.iter().map(|e| merkle::leaf_hash(e)).collect();
        let nodes = merkle::append_batch(base, &leaves, &existing).map_err(|(level, idx)| {
            StoreError::Corrupt {
                what: format!("log subtree {level}/{idx}"),
                detail: "missing".into(),
            }
        })?;
        let entry_indices = (base..base + count)
            .map(|i| to_i64(i, "log index"))
            .collect::<Result<Vec<i64>, _>>()?;
        let node_levels: Vec<i16> = nodes.iter().map(|((l, _), _)| i16::from(*l)).collect();
        let node_indices = nodes
            .iter()
            .map(|((_, i), _)| to_i64(*i, "log index"))
            .collect::<Result<Vec<i64>, _>>()?;
        let node_hashes: Vec<&[u8]> = nodes.iter().map(|(_, h)| h.as_slice()).collect();
        self.execute(
            "WITH e AS (
                 INSERT INTO lintas_log_entries (idx, entry)
                 SELECT * FROM unnest($1::bigint[], $2::bytea[])
             ), n AS (
                 INSERT INTO lintas_log_nodes (level, idx, hash)
                 SELECT * FROM unnest($3::smallint[], $4::bigint[], $5::bytea[])
             )
             UPDATE lintas_counters SET value = $6 WHERE name = 'log'",
            &[
                &entry_indices,
                &entries,
                &node_levels,
                &node_indices,
                &node_hashes,
                &to_i64(base + count, "log size")?,
            ],
        )?;
        Ok(())
    }

    fn execute(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let statement = self.prepared.in_transaction(self.txn, sql)?;
        Ok(block(self.txn.execute(&statement, params))?)
    }

    fn query_opt(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let statement = self.prepared.in_transaction(self.txn, sql)?;
        Ok(block(self.txn.query_opt(&statement, params))?)
    }

    fn query_one(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, StoreError> {
        let statement = self.prepared.in_transaction(self.txn, sql)?;
        Ok(block(self.txn.query_one(&statement, params))?)
    }

    /// Hands out the next value of a counter; the row stays locked until
    /// the transaction ends, so values become visible in order.
    fn next(&self, name: &str) -> Result<u64, StoreError> {
        let row = self.query_one(
            "INSERT INTO lintas_counters (name, value) VALUES ($1, 1)
             ON CONFLICT (name) DO UPDATE SET value = lintas_counters.value + 1
             RETURNING value",
            &[&name],
        )?;
        to_u64(row.try_get(0)?, name)
    }

    /// Inserts a notice unless its id is stored; false if it was.
    fn insert_notice(&self, id: &NoticeId, notice: &StoredNotice) -> Result<bool, StoreError> {
        let inserted = self.execute(
            "INSERT INTO lintas_notices
                 (id, case_id, created_at, created_nanos, response_deadline, record)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            &[
                &id.as_bytes().as_slice(),
                &notice.case_id,
                &notice.created_at.max(0),
                &i32::try_from(notice.created_at_nanos).unwrap_or(i32::MAX),
                &notice.response_deadline,
                &notice.encode_to_vec(),
            ],
        )?;
        Ok(inserted == 1)
    }

    fn insert_receipt(
        &self,
        id: &NoticeId,
        stage: u8,
        receiver: &str,
        receipt: &[u8],
    ) -> Result<bool, StoreError> {
        let inserted = self.execute(
            "INSERT INTO lintas_receipts (notice_id, stage, receiver, receipt)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[
                &id.as_bytes().as_slice(),
                &i16::from(stage),
                &receiver,
                &receipt,
            ],
        )?;
        Ok(inserted == 1)
    }
}

impl Changes for PgChanges<'_, '_> {
    fn enqueue(&self, mut entry: OutboxEntry) -> Result<OutboxEntry, StoreError> {
        entry.seq = self.next("outbox")?;
        self.execute(
            "INSERT INTO lintas_outbox (seq, created_by, entry) VALUES ($1, $2, $3)",
            &[
                &to_i64(entry.seq, "outbox sequence")?,
                &self.replica,
                &entry.encode_to_vec(),
            ],
        )?;
        Ok(entry)
    }

    fn reserve_sequence(&self) -> Result<u64, StoreError> {
        self.next("sequence")
    }

    fn note_sequence(&self, sequence: u64) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO lintas_counters (name, value) VALUES ('sequence', $1)
             ON CONFLICT (name) DO UPDATE
             SET value = greatest(lintas_counters.value, EXCLUDED.value)",
            &[&to_i64(sequence, "sequence")?],
        )?;
        Ok(())
    }

    fn notice(&self, id: &NoticeId) -> Result<Option<StoredNotice>, StoreError> {
        let row = self.query_opt(
            "SELECT record FROM lintas_notices WHERE id = $1",
            &[&id.as_bytes().as_slice()],
        )?;
        row.map(|r| {
            let bytes: Vec<u8> = r.try_get(0)?;
            StoredNotice::decode(bytes.as_slice()).map_err(|e| StoreError::Corrupt {
                what: format!("notice {id}"),
                detail: e.to_string(),
            })
        })
        .transpose()
    }

    fn has_notice(&self, id: &NoticeId) -> Result<bool, StoreError> {
        let row = self.query_opt(
            "SELECT 1 FROM lintas_notices WHERE id = $1",
            &[&id.as_bytes().as_slice()],
        )?;
        Ok(row.is_some())
    }

    fn store_sent(&self, id: &NoticeId, notice: &StoredNotice) -> Result<bool, StoreError> {
        self.insert_notice(id, notice)
    }

    fn replace_notice(&self, id: &NoticeId, notice: &StoredNotice) -> Result<(), StoreError> {
        self.execute(
            "UPDATE lintas_notices SET record = $2 WHERE id = $1",
            &[&id.as_bytes().as_slice(), &notice.encode_to_vec()],
        )?;
        Ok(())
    }

    fn record_received(
        &self,
        id: &NoticeId,
        notice: &StoredNotice,
        receiver: &str,
        accepted_stage: u8,
        receipt: &[u8],
    ) -> Result<ReceiveOutcome, StoreError> {
        if !self.insert_notice(id, notice)? {
            let original = self.query_opt(
                "SELECT receipt FROM lintas_receipts
                 WHERE notice_id = $1 AND stage = $2 AND receiver = $3",
                &[
                    &id.as_bytes().as_slice(),
                    &i16::from(accepted_stage),
                    &receiver,
                ],
            )?;
            let original = original.ok_or_else(|| StoreError::Corrupt {
                what: format!("receipt for {id}"),
                detail: "notice stored without its receipt".into(),
            })?;
            return Ok(ReceiveOutcome::Duplicate {
                receipt: original.try_get(0)?,
            });
        }
        // The cursor is taken only for a new notice, so cursors have no
        // gaps from duplicates; the record then learns it.
        let cursor = self.next("inbox")?;
        let mut stored = notice.clone();
        stored.inbox_cursor = cursor;
        self.execute(
            "UPDATE lintas_notices SET record = $2 WHERE id = $1",
            &[&id.as_bytes().as_slice(), &stored.encode_to_vec()],
        )?;
        self.execute(
            "INSERT INTO lintas_inbox (cursor, notice_id) VALUES ($1, $2)",
            &[&to_i64(cursor, "inbox cursor")?, &id.as_bytes().as_slice()],
        )?;
        self.insert_receipt(id, accepted_stage, receiver, receipt)?;
        Ok(ReceiveOutcome::New { cursor })
    }

    fn store_receipt(
        &self,
        id: &NoticeId,
        stage: u8,
        receiver: &str,
        receipt: &[u8],
        report: Option<OutboxEntry>,
    ) -> Result<Option<Option<OutboxEntry>>, StoreError> {
        if !self.insert_receipt(id, stage, receiver, receipt)? {
            return Ok(None);
        }
        let queued = report.map(|entry| self.enqueue(entry)).transpose()?;
        Ok(Some(queued))
    }

    fn complete(
        &self,
        seq: u64,
        receipt: Option<(&NoticeId, u8, &str, &[u8])>,
    ) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM lintas_outbox WHERE seq = $1",
            &[&to_i64(seq, "outbox sequence")?],
        )?;
        if let Some((id, stage, receiver, bytes)) = receipt {
            self.insert_receipt(id, stage, receiver, bytes)?;
        }
        Ok(())
    }

    fn reschedule(
        &self,
        seq: u64,
        attempts: u32,
        next_attempt_ms: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        let key = to_i64(seq, "outbox sequence")?;
        let row = self.query_opt(
            "SELECT entry FROM lintas_outbox WHERE seq = $1 FOR UPDATE",
            &[&key],
        )?;
        let Some(row) = row else { return Ok(()) };
        let mut entry: OutboxEntry = decode(row.try_get::<_, &[u8]>(0)?, "outbox entry")?;
        entry.attempts = attempts;
        entry.next_attempt_ms = next_attempt_ms;
        entry.last_error = error.chars().take(512).collect();
        self.execute(
            "UPDATE lintas_outbox SET entry = $2, claimed_by = NULL, claim_until = 0
             WHERE seq = $1",
            &[&key, &entry.encode_to_vec()],
        )?;
        Ok(())
    }

    fn bury(&self, seq: u64, at_ms: i64, error: &str) -> Result<(), StoreError> {
        let key = to_i64(seq, "outbox sequence")?;
        let row = self.query_opt(
            "DELETE FROM lintas_outbox WHERE seq = $1 RETURNING entry",
            &[&key],
        )?;
        let Some(row) = row else { return Ok(()) };
        let mut entry: OutboxEntry = decode(row.try_get::<_, &[u8]>(0)?, "outbox entry")?;
        entry.last_error = error.chars().take(512).collect();
        entry.next_attempt_ms = at_ms;
        self.execute(
            "INSERT INTO lintas_dead_letters (seq, entry) VALUES ($1, $2)
             ON CONFLICT (seq) DO UPDATE SET entry = EXCLUDED.entry",
            &[&key, &entry.encode_to_vec()],
        )?;
        Ok(())
    }

    fn unbury(&self, seq: u64) -> Result<Option<OutboxEntry>, StoreError> {
        let row = self.query_opt(
            "DELETE FROM lintas_dead_letters WHERE seq = $1 RETURNING entry",
            &[&to_i64(seq, "dead letter sequence")?],
        )?;
        row.map(|r| decode(r.try_get::<_, &[u8]>(0)?, "dead letter"))
            .transpose()
    }

    fn set_peer_retry(&self, peer: &str, retry: Option<&PeerRetry>) -> Result<(), StoreError> {
        match retry {
            Some(r) => self.execute(
                "INSERT INTO lintas_peers (peer, retry) VALUES ($1, $2)
                 ON CONFLICT (peer) DO UPDATE SET retry = EXCLUDED.retry",
                &[&peer, &r.encode_to_vec()],
            )?,
            None => self.execute("DELETE FROM lintas_peers WHERE peer = $1", &[&peer])?,
        };
        Ok(())
    }

    fn append_log(&self, entry: &[u8]) -> Result<u64, StoreError> {
        let mut log = self.log.borrow_mut();
        if log.is_none() {
            // Lock the counter row for the rest of the transaction, so
            // that appends are numbered in commit order across replicas.
            let row = self.query_one(
                "INSERT INTO lintas_counters (name, value) VALUES ('log', 0)
                 ON CONFLICT (name) DO UPDATE SET value = lintas_counters.value
                 RETURNING value",
                &[],
            )?;
            *log = Some((to_u64(row.try_get(0)?, "log")?, Vec::new()));
        }
        let (base, entries) = log.as_mut().ok_or(StoreError::GroupAborted)?;
        entries.push(entry.to_vec());
        Ok(*base + entries.len() as u64 - 1)
    }

    fn witnessed(&self, origin: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self.query_opt(
            "SELECT checkpoint FROM lintas_witnessed WHERE origin = $1 FOR UPDATE",
            &[&origin],
        )?;
        Ok(row.map(|r| r.try_get::<_, Vec<u8>>(0)).transpose()?)
    }

    fn set_witnessed(&self, origin: &str, checkpoint: &[u8]) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO lintas_witnessed (origin, checkpoint) VALUES ($1, $2)
             ON CONFLICT (origin) DO UPDATE SET checkpoint = EXCLUDED.checkpoint",
            &[&origin, &checkpoint],
        )?;
        Ok(())
    }

    fn record_cosigned(&self, witness: &str, size: u64, cosigned: &[u8]) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO lintas_cosigned (witness, size, cosigned) VALUES ($1, $2, $3)
             ON CONFLICT (witness) DO UPDATE
             SET size = EXCLUDED.size, cosigned = EXCLUDED.cosigned
             WHERE lintas_cosigned.size <= EXCLUDED.size",
            &[&witness, &to_i64(size, "log size")?, &cosigned],
        )?;
        Ok(())
    }

    fn attachment(&self, sha256: &[u8; 32]) -> Result<Option<AttachmentRecord>, StoreError> {
        let row = self.query_opt(
            "SELECT record FROM lintas_attachments WHERE sha256 = $1 FOR UPDATE",
            &[&sha256.as_slice()],
        )?;
        match row {
            Some(r) => Ok(Some(decode(r.try_get(0)?, "attachment")?)),
            None => Ok(None),
        }
    }

    fn put_attachment(
        &self,
        sha256: &[u8; 32],
        record: &AttachmentRecord,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO lintas_attachments (sha256, record) VALUES ($1, $2)
             ON CONFLICT (sha256) DO UPDATE SET record = EXCLUDED.record",
            &[&sha256.as_slice(), &record.encode_to_vec()],
        )?;
        Ok(())
    }

    fn put_attachment_chunk(
        &self,
        sha256: &[u8; 32],
        index: u32,
        data: &[u8],
    ) -> Result<(), StoreError> {
        let idx = i32::try_from(index).map_err(|_| StoreError::Corrupt {
            what: "attachment piece".into(),
            detail: format!("index {index} too large"),
        })?;
        self.execute(
            "INSERT INTO lintas_attachment_chunks (sha256, idx, data) VALUES ($1, $2, $3)
             ON CONFLICT (sha256, idx) DO UPDATE SET data = EXCLUDED.data",
            &[&sha256.as_slice(), &idx, &data],
        )?;
        Ok(())
    }

    fn remove_attachment(&self, sha256: &[u8; 32]) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM lintas_attachment_chunks WHERE sha256 = $1",
            &[&sha256.as_slice()],
        )?;
        self.execute(
            "DELETE FROM lintas_attachments WHERE sha256 = $1",
            &[&sha256.as_slice()],
        )?;
        Ok(())
    }

    fn add_custody(&self, sha256: &[u8; 32], signed_entry: &[u8]) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO lintas_custody (sha256, entry) VALUES ($1, $2)",
            &[&sha256.as_slice(), &signed_entry],
        )?;
        Ok(())
    }

    fn record_access(&self, record: &[u8]) -> Result<u64, StoreError> {
        let row = self.query_one(
            "INSERT INTO lintas_access_log (record) VALUES ($1) RETURNING seq",
            &[&record],
        )?;
        to_u64(row.try_get(0)?, "access record")
    }

    fn raise_log_alarm(&self, evidence: &[u8]) -> Result<u64, StoreError> {
        let row = self.query_one(
            "INSERT INTO lintas_log_alarms (evidence) VALUES ($1) RETURNING seq",
            &[&evidence],
        )?;
        to_u64(row.try_get(0)?, "log alarm")
    }

    fn settle_quota(
        &self,
        peer: &str,
        used_kib: f64,
        capacity_kib: f64,
        refill_kib_per_ms: f64,
        now_ms: i64,
    ) -> Result<PeerQuota, StoreError> {
        // A row to lock first (a full quota for a peer never seen), so
        // that replicas settling the same peer at once wait for each
        // other and every charge counts.
        self.execute(
            "INSERT INTO lintas_peer_quotas (peer, available_kib, at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (peer) DO NOTHING",
            &[&peer, &capacity_kib, &now_ms],
        )?;
        let row = self.query_one(
            "SELECT available_kib, at_ms FROM lintas_peer_quotas WHERE peer = $1 FOR UPDATE",
            &[&peer],
        )?;
        let previous = PeerQuota {
            available_kib: row.try_get(0)?,
            at_ms: row.try_get(1)?,
        };
        let next = PeerQuota::settled(
            Some(&previous),
            used_kib,
            capacity_kib,
            refill_kib_per_ms,
            now_ms,
        );
        self.execute(
            "UPDATE lintas_peer_quotas SET available_kib = $2, at_ms = $3 WHERE peer = $1",
            &[&peer, &next.available_kib, &next.at_ms],
        )?;
        Ok(next)
    }

    fn withhold(
        &self,
        case_id: &str,
        victim_id: &str,
        states: &[String],
    ) -> Result<(), StoreError> {
        if states.is_empty() {
            self.execute(
                "DELETE FROM lintas_withheld WHERE case_id = $1 AND victim_id = $2",
                &[&case_id, &victim_id],
            )?;
        } else {
            self.execute(
                "INSERT INTO lintas_withheld (case_id, victim_id, states) VALUES ($1, $2, $3)
                 ON CONFLICT (case_id, victim_id) DO UPDATE SET states = EXCLUDED.states",
                &[&case_id, &victim_id, &states.join(",")],
            )?;
        }
        Ok(())
    }

    fn submission(&self, key: &str) -> Result<Option<([u8; 32], u64)>, StoreError> {
        // Held until the transaction ends: a second replica given the same
        // key waits here, then finds the first submission.
        self.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            &[&key],
        )?;
        let row = self.query_opt(
            "SELECT notice_id, sequence FROM lintas_submissions WHERE key = $1",
            &[&key],
        )?;
        row.map(|r| submission_row(&r)).transpose()
    }

    fn record_submission(&self, key: &str, id: &NoticeId, sequence: u64) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO lintas_submissions (key, notice_id, sequence) VALUES ($1, $2, $3)",
            &[
                &key,
                &id.as_bytes().as_slice(),
                &to_i64(sequence, "sequence")?,
            ],
        )?;
        Ok(())
    }

    fn save_roster(&self, signed_roster: &[u8]) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO lintas_meta (name, value) VALUES ('roster', $1)
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            &[&signed_roster],
        )?;
        // Every version trusted in turn, numbered by a counter whose row
        // lock orders replicas saving at once.
        let n = self.query_one(
            "INSERT INTO lintas_counters (name, value) VALUES ('roster_history', 0)
             ON CONFLICT (name) DO UPDATE SET value = lintas_counters.value
             RETURNING value",
            &[],
        )?;
        let n: i64 = n.try_get(0)?;
        let last = self.query_opt(
            "SELECT value FROM lintas_meta WHERE name LIKE 'roster/%' ORDER BY name DESC LIMIT 1",
            &[],
        )?;
        let same = match last {
            Some(row) => row.try_get::<_, &[u8]>(0)? == signed_roster,
            None => false,
        };
        if !same {
            let next = n + 1;
            self.execute(
                "UPDATE lintas_counters SET value = $1 WHERE name = 'roster_history'",
                &[&next],
            )?;
            self.execute(
                "INSERT INTO lintas_meta (name, value) VALUES ($1, $2)",
                &[&format!("roster/{next:020}"), &signed_roster],
            )?;
        }
        Ok(())
    }
}
