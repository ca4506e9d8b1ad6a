//! The delivery loop: everything a node sends waits in the outbox until the
//! recipient's node answers with a valid receipt.
//!
//! The loop asks the schedule ([`crate::schedule`]) what may go now, hands
//! each batch to the transport in its own task (up to the window per
//! peer), checks the receipts that come back (batch-verified), and records
//! the outcome of the whole batch in one durable transaction: an entry
//! leaves the outbox only together with the receipt that proves its
//! delivery. Entries whose notice has expired are dropped (no recipient
//! could accept them).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::receipt::{SignedReceipt, body_digest};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_store::{OutboxEntry, OutboxPayload, PeerRetry};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::schedule::{EntryOutcome, unix_ms};
use crate::transport::{Answer, Outbound, Transport};
use crate::{Engine, metrics};

/// What the receipt for a notice must name: its id and body digest.
pub(crate) type Expected = Option<(NoticeId, [u8; 32])>;
/// A verified receipt to store: notice, stage, SignedReceipt bytes.
type ReceiptRecord = (NoticeId, u8, Vec<u8>);

/// One entry of a batch, ready to go.
pub(crate) struct Ready {
    pub(crate) seq: u64,
    pub(crate) attempts: u32,
    pub(crate) item: Outbound,
    /// For a notice: its id and body digest, to check the receipt against.
    pub(crate) expects: Expected,
    size: usize,
}

/// A receipt a peer returned, to verify: entry, receipt, and the notice id
/// and body digest it must name.
pub(crate) type ReturnedReceipt = (u64, SignedReceipt, NoticeId, [u8; 32]);

/// What became of one entry.
pub(crate) enum EntryResult {
    Delivered(Option<ReceiptRecord>),
    Refused(String, u32),
    /// Refused for a reason no retry can change: to the dead letters.
    Dead(String),
    /// Held by another replica (or locked at this instant): look again at
    /// this time (Unix milliseconds). Nothing is recorded.
    Busy(i64),
    NotSent,
}

/// An outbox entry as the item to send, with what its answer must name
/// and its size; `None` if its notice is gone or it is unreadable.
pub(crate) fn prepare(
    entry: &OutboxEntry,
    notices: &BTreeMap<NoticeId, SignedNotice>,
) -> Option<(Outbound, Expected, usize)> {
    match &entry.payload {
        Some(OutboxPayload::Notice(id)) => <[u8; 32]>::try_from(id.as_slice())
            .ok()
            .map(NoticeId::from_bytes)
            .and_then(|id| notices.get(&id).map(|n| (id, view_for(n, entry))))
            .map(|(id, n)| {
                let size = n.body_bytes().len() + 256;
                let digest = body_digest(&n);
                (Outbound::Notice(n), Some((id, digest)), size)
            }),
        Some(OutboxPayload::Receipt(bytes)) => SignedReceipt::decode(bytes)
            .ok()
            .map(|r| (Outbound::Receipt(r), None, bytes.len() + 64)),
        None => None,
    }
}

/// The copy of a stored notice `entry`'s recipient gets: the signed notice
/// with only the disclosures chosen for it (docs/PROTOCOL.md section 14.3).
fn view_for(notice: &SignedNotice, entry: &OutboxEntry) -> SignedNotice {
    notice.view(&commitments(&entry.disclosed))
}

/// Stored commitments (32 bytes each; anything else is ignored).
pub(crate) fn commitments(stored: &[Vec<u8>]) -> Vec<lintas_core::disclosure::Commitment> {
    stored
        .iter()
        .filter_map(|c| <[u8; 32]>::try_from(c.as_slice()).ok())
        .map(lintas_core::disclosure::Commitment::from_bytes)
        .collect()
}

/// What a peer's answer means for its entry: a receipt to verify (into
/// `receipts`), or the entry's result (into `results`).
pub(crate) fn judge_answer(
    seq: u64,
    attempts: u32,
    expects: Expected,
    answer: Answer,
    results: &mut BTreeMap<u64, EntryResult>,
    receipts: &mut Vec<ReturnedReceipt>,
) {
    let result = match (answer, expects) {
        (Answer::Accepted { receipt, .. }, Some((id, digest))) => {
            receipts.push((seq, receipt, id, digest));
            return;
        }
        (Answer::ReceiptRecorded, None) => EntryResult::Delivered(None),
        (Answer::Refused { reason, message }, _) if crate::refusal::is_permanent(&reason) => {
            EntryResult::Dead(format!("{reason}: {message}"))
        }
        (Answer::Refused { reason, message }, _) => {
            EntryResult::Refused(format!("{reason}: {message}"), attempts)
        }
        (_, _) => EntryResult::Refused("answer of the wrong kind".into(), attempts),
    };
    results.insert(seq, result);
}

impl Engine {
    /// Runs the delivery loop over `transport` until `shutdown`, then waits
    /// for the calls in flight (each bounded by the attempt timeout).
    pub async fn run_delivery<T: Transport>(&self, transport: Arc<T>, shutdown: CancellationToken) {
        let tasks = TaskTracker::new();
        if self.store().is_shared() {
            let engine = self.clone();
            let stop = shutdown.clone();
            tasks.spawn(async move { engine.follow_replicas(stop).await });
        }
        loop {
            let (batches, wake) = self.scheduler().poll(Instant::now());
            for (peer, seqs) in batches {
                let engine = self.clone();
                let transport = Arc::clone(&transport);
                tasks.spawn(async move {
                    engine.send_batch(&*transport, &peer, seqs).await;
                    engine.inner.outbox_wake.notify_one();
                });
            }
            let wake = wake.unwrap_or_else(|| Instant::now() + Duration::from_secs(30));
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.inner.outbox_wake.notified() => {}
                () = tokio::time::sleep_until(wake) => {}
            }
        }
        tasks.close();
        tasks.wait().await;
    }

    /// Sends one batch to `peer` and records what became of each entry.
    async fn send_batch<T: Transport>(&self, transport: &T, peer: &str, seqs: Vec<u64>) {
        let now = Timestamp::now();
        let loader = self.clone();
        let wanted = seqs.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let mut results: BTreeMap<u64, EntryResult> = BTreeMap::new();
            loader
                .load_batch(&wanted, now, &mut results)
                .map(|ready| (ready, results))
        })
        .await
        .unwrap_or_else(|e| {
            Err(lintas_store::StoreError::Corrupt {
                what: "outbox read".into(),
                detail: e.to_string(),
            })
        });
        let (ready, mut results) = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                warn!(error = %e, peer, "cannot read the outbox");
                self.finish_batch(peer, &seqs, BTreeMap::new(), Some(e.to_string()), now)
                    .await;
                return;
            }
        };
        let Ok(to) = AgencyId::parse(peer) else {
            self.finish_batch(
                peer,
                &seqs,
                results,
                Some(format!("{peer} is not an agency id")),
                now,
            )
            .await;
            return;
        };
        let config = *self.scheduler().config();
        let mut unreachable = None;
        let mut receipts: Vec<ReturnedReceipt> = Vec::new();
        for chunk in chunks(ready, config.batch_bytes) {
            if unreachable.is_some() {
                for r in chunk {
                    results.insert(r.seq, EntryResult::NotSent);
                }
                continue;
            }
            let meta: Vec<(u64, u32, Expected)> = chunk
                .iter()
                .map(|r| (r.seq, r.attempts, r.expects))
                .collect();
            let items: Vec<Outbound> = chunk.into_iter().map(|r| r.item).collect();
            let count = items.len();
            let started = Instant::now();
            let answer =
                tokio::time::timeout(config.attempt_timeout, transport.deliver(&to, items)).await;
            if let Ok(Ok(_)) = &answer {
                self.scheduler()
                    .record_round_trip(peer, Timestamp::now(), started.elapsed());
            }
            let answers = match answer {
                Ok(Ok(answers)) if answers.len() == count => answers,
                Ok(Ok(answers)) => {
                    unreachable = Some(format!(
                        "{count} items answered with {} answers",
                        answers.len()
                    ));
                    Vec::new()
                }
                Ok(Err(e)) => {
                    unreachable = Some(e.to_string());
                    Vec::new()
                }
                Err(_) => {
                    unreachable = Some(format!("no answer within {:?}", config.attempt_timeout));
                    Vec::new()
                }
            };
            if answers.is_empty() {
                for (seq, _, _) in meta {
                    results.insert(seq, EntryResult::NotSent);
                }
                continue;
            }
            for ((seq, attempts, expects), answer) in meta.into_iter().zip(answers) {
                judge_answer(seq, attempts, expects, answer, &mut results, &mut receipts);
            }
        }
        self.check_receipts(&to, receipts, now, &mut results);
        self.finish_batch(peer, &seqs, results, unreachable, now)
            .await;
    }

    /// Claims the batch's entries (a shared store: for this replica, for
    /// the lease) and reads the notices they carry. Entries gone from the
    /// outbox, and expired ones, are done; entries another replica holds
    /// wait.
    pub(crate) fn load_batch(
        &self,
        seqs: &[u64],
        now: Timestamp,
        results: &mut BTreeMap<u64, EntryResult>,
    ) -> Result<Vec<Ready>, lintas_store::StoreError> {
        let claimed = self.store().claim(seqs, unix_ms(now))?;
        for (seq, until) in claimed.busy {
            results.insert(seq, EntryResult::Busy(until));
        }
        let entries: BTreeMap<u64, OutboxEntry> =
            claimed.entries.into_iter().map(|e| (e.seq, e)).collect();
        let notices = self.notices_of(entries.values())?;
        let mut ready = Vec::with_capacity(seqs.len());
        for seq in seqs {
            let Some(entry) = entries.get(seq) else {
                results.entry(*seq).or_insert(EntryResult::Delivered(None));
                continue;
            };
            if entry.expires_at > 0 && now.unix_seconds() >= entry.expires_at {
                warn!(seq, recipient = %entry.recipient, "dropping an expired outbox entry");
                results.insert(*seq, EntryResult::Delivered(None));
                continue;
            }
            match prepare(entry, &notices) {
                Some((item, expects, size)) => ready.push(Ready {
                    seq: *seq,
                    attempts: entry.attempts,
                    item,
                    expects,
                    size,
                }),
                None => {
                    warn!(seq, "outbox entry unreadable; dropped");
                    results.insert(*seq, EntryResult::Delivered(None));
                }
            }
        }
        Ok(ready)
    }

    /// The notices the entries carry, by id.
    pub(crate) fn notices_of<'e>(
        &self,
        entries: impl Iterator<Item = &'e OutboxEntry>,
    ) -> Result<BTreeMap<NoticeId, SignedNotice>, lintas_store::StoreError> {
        let ids: Vec<NoticeId> = entries
            .filter_map(|e| match &e.payload {
                Some(OutboxPayload::Notice(id)) => <[u8; 32]>::try_from(id.as_slice())
                    .ok()
                    .map(NoticeId::from_bytes),
                _ => None,
            })
            .collect();
        Ok(ids
            .iter()
            .zip(self.store().notices(&ids)?)
            .filter_map(|(id, n)| {
                let envelope = SignedNotice::decode(&n?.envelope).ok()?;
                Some((*id, envelope))
            })
            .collect())
    }

    /// Verifies the receipts a peer returned (together), each against the
    /// notice it answers.
    pub(crate) fn check_receipts(
        &self,
        peer: &AgencyId,
        receipts: Vec<ReturnedReceipt>,
        now: Timestamp,
        results: &mut BTreeMap<u64, EntryResult>,
    ) {
        if receipts.is_empty() {
            return;
        }
        let signed: Vec<SignedReceipt> = receipts.iter().map(|(_, r, _, _)| r.clone()).collect();
        let verified = self.roster().verify_receipts(&signed, now);
        for ((seq, signed, id, digest), result) in receipts.into_iter().zip(verified) {
            let outcome = match result {
                Ok(r) if r.notice_id == id && &r.receiver == peer && r.body_sha256 == digest => {
                    debug!(notice = %id, %peer, "delivered; receipt verified");
                    EntryResult::Delivered(Some((id, r.stage.to_wire() as u8, signed.encode())))
                }
                Ok(_) => EntryResult::Refused(
                    "bad receipt: for another notice, recipient or body".into(),
                    0,
                ),
                Err(e) => EntryResult::Refused(format!("bad receipt: {e}"), 0),
            };
            results.insert(seq, outcome);
        }
    }

    /// Records a batch's outcome durably, then in the schedule.
    pub(crate) async fn finish_batch(
        &self,
        peer: &str,
        seqs: &[u64],
        results: BTreeMap<u64, EntryResult>,
        unreachable: Option<String>,
        now: Timestamp,
    ) {
        self.record_outcomes(peer, seqs, results, unreachable, now, true)
            .await;
    }

    /// Records the outcome of entries durably, then in the schedule: as a
    /// batch that was in flight (`in_flight`), or as answers that came
    /// another way (an offline bundle), which leave the peer's state as it
    /// is.
    pub(crate) async fn record_outcomes(
        &self,
        peer: &str,
        seqs: &[u64],
        results: BTreeMap<u64, EntryResult>,
        unreachable: Option<String>,
        now: Timestamp,
        in_flight: bool,
    ) {
        let mono = Instant::now();
        let config = *self.scheduler().config();
        let reached =
            results.values().any(|r| !matches!(r, EntryResult::NotSent)) || unreachable.is_none();
        let mut completes: Vec<(u64, Option<ReceiptRecord>)> = Vec::new();
        let mut reschedules = Vec::new();
        let mut buried = Vec::new();
        let mut outcomes = Vec::with_capacity(seqs.len());
        let (mut delivered, mut refused) = (0u64, 0u64);
        for seq in seqs {
            match results.get(seq) {
                Some(EntryResult::Delivered(receipt)) => {
                    delivered += 1;
                    completes.push((*seq, receipt.clone()));
                    outcomes.push((*seq, EntryOutcome::Done));
                }
                Some(EntryResult::Refused(error, attempts)) => {
                    refused += 1;
                    let attempts = attempts.saturating_add(1);
                    let delay = config.backoff(attempts);
                    warn!(seq, peer, attempts, delay_ms = delay.as_millis() as u64, %error, "delivery refused; will retry");
                    let at_ms = unix_ms(now) + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                    reschedules.push((*seq, attempts, at_ms, error.clone()));
                    outcomes.push((*seq, EntryOutcome::Refused(mono + delay)));
                }
                Some(EntryResult::Dead(error)) => {
                    warn!(seq, peer, %error, "delivery refused for good; moved to the dead letters");
                    buried.push((*seq, error.clone()));
                    // Out of the schedule: the rest of its case goes on.
                    outcomes.push((*seq, EntryOutcome::Done));
                }
                Some(EntryResult::Busy(until_ms)) => {
                    let wait = u64::try_from(until_ms.saturating_sub(unix_ms(now))).unwrap_or(0);
                    // Look again by the end of the other replica's lease,
                    // or sooner: the holder usually finishes well before
                    // (and this case's later entries wait behind it).
                    let wait = Duration::from_millis(wait).min(config.replica_poll);
                    debug!(
                        seq,
                        peer,
                        wait_ms = wait.as_millis() as u64,
                        "held by another replica"
                    );
                    outcomes.push((*seq, EntryOutcome::Refused(mono + wait)));
                }
                Some(EntryResult::NotSent) | None => outcomes.push((*seq, EntryOutcome::NotSent)),
            }
        }
        let backoff = if reached {
            None
        } else {
            // Decided by the schedule below; persisted with the batch.
            Some(())
        };
        let now_ms = unix_ms(now);
        let dead = buried.len();
        let events: Vec<ReceiptRecord> = completes.iter().filter_map(|(_, r)| r.clone()).collect();
        let peer_owned = peer.to_owned();
        let mut schedule_outcomes = outcomes.clone();
        let written = self
            .inner
            .commit
            .write(move |txn| {
                for (seq, receipt) in &completes {
                    match receipt {
                        Some((id, stage, bytes)) => {
                            txn.complete(*seq, Some((id, *stage, &peer_owned, bytes)))?
                        }
                        None => txn.complete(*seq, None)?,
                    }
                }
                for (seq, attempts, at_ms, error) in &reschedules {
                    txn.reschedule(*seq, *attempts, *at_ms, error)?;
                }
                for (seq, error) in &buried {
                    txn.bury(*seq, now_ms, error)?;
                }
                if backoff.is_none() {
                    txn.set_peer_retry(&peer_owned, None)?;
                }
                Ok(())
            })
            .await;
        match written {
            Ok(()) => {
                for (id, stage, bytes) in events {
                    if let (Ok(receipt), Ok(stage)) = (
                        SignedReceipt::decode(&bytes),
                        lintas_core::vocab::ReceiptStage::from_wire(i32::from(stage)),
                    ) {
                        self.publish_receipt(crate::ReceiptEvent {
                            notice_id: id,
                            receiver: peer.to_owned(),
                            stage,
                            receipt,
                        });
                    }
                }
            }
            Err(e) => {
                warn!(error = %e, peer, "could not record deliveries; they will be sent again (the peer deduplicates)");
                schedule_outcomes = seqs.iter().map(|s| (*s, EntryOutcome::NotSent)).collect();
            }
        }
        let retry = if in_flight {
            self.scheduler()
                .finish(peer, &schedule_outcomes, reached, mono)
        } else {
            self.scheduler().settle(peer, &schedule_outcomes);
            None
        };
        let m = &self.inner.metrics;
        m.deliveries
            .get_or_create(&metrics::Outcome {
                outcome: "delivered",
            })
            .inc_by(delivered);
        m.deliveries
            .get_or_create(&metrics::Outcome { outcome: "refused" })
            .inc_by(refused);
        m.deliveries
            .get_or_create(&metrics::Outcome {
                outcome: "dead_letter",
            })
            .inc_by(u64::try_from(dead).unwrap_or(u64::MAX));
        m.outbox_entries
            .set(i64::try_from(self.outbox_len()).unwrap_or(i64::MAX));
        if let Some((failures, delay)) = retry {
            m.deliveries
                .get_or_create(&metrics::Outcome { outcome: "failed" })
                .inc();
            let error = unreachable.unwrap_or_default();
            info!(peer, failures, retry_in_ms = delay.as_millis() as u64, %error, "peer unreachable; backing off");
            let record = PeerRetry {
                failures,
                retry_at_ms: unix_ms(Timestamp::now())
                    + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX),
                last_error: error.chars().take(512).collect(),
            };
            let peer_owned = peer.to_owned();
            if let Err(e) = self
                .inner
                .commit
                .write(move |txn| txn.set_peer_retry(&peer_owned, Some(&record)))
                .await
            {
                warn!(error = %e, peer, "could not record the peer's backoff");
            }
        }
    }
}

/// Splits a batch so that no call carries more than `max_bytes` of items
/// (a single larger item goes alone).
fn chunks(ready: Vec<Ready>, max_bytes: usize) -> Vec<Vec<Ready>> {
    let mut out: Vec<Vec<Ready>> = Vec::new();
    let mut size = 0;
    for r in ready {
        if out.is_empty() || size + r.size > max_bytes {
            out.push(Vec::new());
            size = 0;
        }
        size += r.size;
        if let Some(last) = out.last_mut() {
            last.push(r);
        }
    }
    out
}
