//! A node's counters, in the Prometheus text format. A transport serves
//! them (lintas-grpc on a separate management listener). They count
//! notices and deliveries; they carry no case data.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use lintas_core::time::Timestamp;
use lintas_core::vocab::ReceiptStage;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Label: why a notice was refused.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Reason {
    pub(crate) reason: &'static str,
}

/// Label: a receipt's stage, and whether this node gave it or a peer did.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StageOf {
    pub(crate) stage: &'static str,
    pub(crate) direction: &'static str,
}

/// Label: how a delivery attempt ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Outcome {
    pub(crate) outcome: &'static str,
}

/// A node's metrics.
pub struct Metrics {
    registry: Registry,
    pub(crate) notices_accepted: Counter,
    pub(crate) notices_duplicate: Counter,
    pub(crate) notices_refused: Family<Reason, Counter>,
    pub(crate) notices_sent: Counter,
    pub(crate) deliveries: Family<Outcome, Counter>,
    pub(crate) outbox_entries: Gauge,
    pub(crate) batches_received: Counter,
    pub(crate) store_commits: Counter,
    pub(crate) store_commit_changes: Counter,
    pub(crate) store_commit_micros: Counter,
    pub(crate) log_alarms: Counter,
    pub(crate) attachments_fetched: Counter,
    pub(crate) attachments_refused: Counter,
    pub(crate) receipts: Family<StageOf, Counter>,
    /// The refusals by reason again, readable (a family's members cannot
    /// be listed).
    refusals: Tally<&'static str>,
    /// The refusals by reason per stretch of time, the latest day.
    refusal_history: Mutex<VecDeque<RefusalBucket>>,
    /// The receipts by (direction, stage) again, readable.
    receipt_tally: Tally<(&'static str, &'static str)>,
}

/// A count per key, readable at any time.
type Tally<K> = Mutex<BTreeMap<K, u64>>;

fn add<K: Ord>(tally: &Tally<K>, key: K) {
    if let Ok(mut t) = tally.lock() {
        *t.entry(key).or_default() += 1;
    }
}

fn read<K: Ord + Clone>(tally: &Tally<K>) -> Vec<(K, u64)> {
    tally
        .lock()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default()
}

/// How long one stretch of the refusal history is, in seconds.
pub const REFUSAL_BUCKET_SECONDS: i64 = 600;
/// How many stretches are kept (a day).
const REFUSAL_BUCKETS: usize = 144;

/// The notices refused in one stretch of [`REFUSAL_BUCKET_SECONDS`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefusalBucket {
    /// When the stretch began (a multiple of the stretch length).
    pub start: Timestamp,
    /// Refusals in it, by reason (PROTOCOL 9.8).
    pub counts: BTreeMap<&'static str, u64>,
}

/// Receipts counted since the node started, by stage.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiptCount {
    /// `given` (this node signed it) or `received` (a peer's, verified).
    pub direction: &'static str,
    /// The stage's label (`accepted`, `read`, ...).
    pub stage: &'static str,
    /// How many.
    pub count: u64,
}

/// The main counters of a node since it started, for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Notices received, verified and stored.
    pub accepted: u64,
    /// Deliveries of a notice already stored (answered with its receipt).
    pub duplicates: u64,
    /// Notices this node signed.
    pub sent: u64,
    /// Outbox entries delivered and receipted.
    pub delivered: u64,
    /// Entries a recipient refused (to be retried).
    pub refused: u64,
    /// Entries moved to the dead letters.
    pub dead_letters: u64,
    /// Calls that failed without an answer (the peer unreachable).
    pub failed: u64,
}

impl Metrics {
    /// The main counters since the node started.
    pub fn counts(&self) -> Counts {
        let outcome =
            |outcome: &'static str| self.deliveries.get_or_create(&Outcome { outcome }).get();
        Counts {
            accepted: self.notices_accepted.get(),
            duplicates: self.notices_duplicate.get(),
            sent: self.notices_sent.get(),
            delivered: outcome("delivered"),
            refused: outcome("refused"),
            dead_letters: outcome("dead_letter"),
            failed: outcome("failed"),
        }
    }

    /// Notices refused since the node started, by reason (PROTOCOL 9.8).
    pub fn refusals(&self) -> Vec<(&'static str, u64)> {
        read(&self.refusals)
    }

    /// Notices refused in each stretch of [`REFUSAL_BUCKET_SECONDS`] of the
    /// latest day, oldest first; stretches without a refusal are left out.
    pub fn refusals_over_time(&self) -> Vec<RefusalBucket> {
        self.refusal_history
            .lock()
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Receipts this node gave and received since it started, by stage.
    pub fn receipts(&self) -> Vec<ReceiptCount> {
        read(&self.receipt_tally)
            .into_iter()
            .map(|((direction, stage), count)| ReceiptCount {
                direction,
                stage,
                count,
            })
            .collect()
    }

    pub(crate) fn count_refusal(&self, reason: &'static str) {
        self.notices_refused.get_or_create(&Reason { reason }).inc();
        add(&self.refusals, reason);
        self.note_refusal_at(reason, Timestamp::now());
    }

    fn note_refusal_at(&self, reason: &'static str, at: Timestamp) {
        let start = at.unix_seconds() - at.unix_seconds().rem_euclid(REFUSAL_BUCKET_SECONDS);
        let Ok(mut history) = self.refusal_history.lock() else {
            return;
        };
        if history.back().map(|b| b.start.unix_seconds()) != Some(start) {
            let Ok(start) = Timestamp::from_unix(start) else {
                return;
            };
            history.push_back(RefusalBucket {
                start,
                counts: BTreeMap::new(),
            });
        }
        let oldest = start - REFUSAL_BUCKET_SECONDS * (REFUSAL_BUCKETS as i64 - 1);
        while history
            .front()
            .is_some_and(|b| b.start.unix_seconds() < oldest)
        {
            history.pop_front();
        }
        if let Some(bucket) = history.back_mut() {
            *bucket.counts.entry(reason).or_default() += 1;
        }
    }

    /// Counts a receipt at `stage`: `given` by this node or `received`
    /// from a peer.
    pub(crate) fn count_receipt(&self, direction: &'static str, stage: ReceiptStage) {
        let stage = stage_label(stage);
        self.receipts
            .get_or_create(&StageOf { stage, direction })
            .inc();
        add(&self.receipt_tally, (direction, stage));
    }

    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("lintas");
        let m = Metrics {
            notices_accepted: Counter::default(),
            notices_duplicate: Counter::default(),
            notices_refused: Family::default(),
            notices_sent: Counter::default(),
            deliveries: Family::default(),
            outbox_entries: Gauge::default(),
            batches_received: Counter::default(),
            store_commits: Counter::default(),
            store_commit_changes: Counter::default(),
            store_commit_micros: Counter::default(),
            registry: Registry::default(),
            log_alarms: Counter::default(),
            attachments_fetched: Counter::default(),
            attachments_refused: Counter::default(),
            receipts: Family::default(),
            refusals: Mutex::default(),
            refusal_history: Mutex::default(),
            receipt_tally: Mutex::default(),
        };
        registry.register(
            "notices_accepted",
            "Notices received, verified and stored",
            m.notices_accepted.clone(),
        );
        registry.register(
            "notices_duplicate",
            "Duplicate deliveries answered with the original receipt",
            m.notices_duplicate.clone(),
        );
        registry.register(
            "notices_refused",
            "Notices refused, by reason",
            m.notices_refused.clone(),
        );
        registry.register(
            "notices_sent",
            "Notices signed and queued by this node",
            m.notices_sent.clone(),
        );
        registry.register(
            "deliveries",
            "Delivery attempts to peers, by outcome",
            m.deliveries.clone(),
        );
        registry.register(
            "outbox_entries",
            "Entries waiting in the outbox",
            m.outbox_entries.clone(),
        );
        registry.register(
            "batches_received",
            "Deliveries received (each a batch of one or more notices and receipts)",
            m.batches_received.clone(),
        );
        registry.register(
            "store_commits",
            "Durable store transactions (each serves one or more changes: group commit)",
            m.store_commits.clone(),
        );
        registry.register(
            "store_commit_changes",
            "Changes written by those transactions",
            m.store_commit_changes.clone(),
        );
        registry.register(
            "store_commit_microseconds",
            "Time spent writing and flushing those transactions",
            m.store_commit_micros.clone(),
        );
        registry.register(
            "log_alarms",
            "Alarms raised while witnessing peers' logs: a log that forked (evidence listed by ListLogAlarms)",
            m.log_alarms.clone(),
        );
        registry.register(
            "attachments_fetched",
            "Attachments fetched from peers and verified against their digest",
            m.attachments_fetched.clone(),
        );
        registry.register(
            "attachments_refused",
            "Attachments fetched whose bytes did not match the digest the notice names (discarded)",
            m.attachments_refused.clone(),
        );
        registry.register(
            "receipts",
            "Receipts by stage: given by this node, or received from peers and verified",
            m.receipts.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// A stage's label as a Prometheus label value.
fn stage_label(stage: ReceiptStage) -> &'static str {
    match stage {
        ReceiptStage::Accepted => "accepted",
        ReceiptStage::Delivered => "delivered",
        ReceiptStage::Read => "read",
        ReceiptStage::ActionStarted => "action started",
        ReceiptStage::ActionCompleted => "action completed",
        ReceiptStage::Declined => "declined",
        ReceiptStage::NotCompetent => "not competent",
        ReceiptStage::Forwarded => "forwarded",
        ReceiptStage::Erased => "erased",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix(seconds).unwrap_or_else(|_| Timestamp::now())
    }

    #[test]
    fn refusals_are_kept_per_ten_minutes_for_a_day() {
        let m = Metrics::new();
        let day = 1_800_000_000 - 1_800_000_000 % REFUSAL_BUCKET_SECONDS;
        m.note_refusal_at("bad_signature", at(day + 5));
        m.note_refusal_at("bad_signature", at(day + 599));
        m.note_refusal_at("expired", at(day + 600));
        let history = m.refusals_over_time();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].start, at(day));
        assert_eq!(history[0].counts, BTreeMap::from([("bad_signature", 2)]));
        assert_eq!(history[1].counts, BTreeMap::from([("expired", 1)]));
        // A day later the first two stretches have gone.
        m.note_refusal_at("expired", at(day + 600 + 86_400));
        let history = m.refusals_over_time();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].start, at(day + 600 + 86_400));
    }

    #[test]
    fn receipts_are_counted_by_direction_and_stage() {
        let m = Metrics::new();
        m.count_receipt("given", ReceiptStage::Accepted);
        m.count_receipt("received", ReceiptStage::ActionStarted);
        m.count_receipt("received", ReceiptStage::ActionStarted);
        let counts: Vec<_> = m
            .receipts()
            .into_iter()
            .map(|r| (r.direction, r.stage, r.count))
            .collect();
        assert_eq!(
            counts,
            vec![("given", "accepted", 1), ("received", "action started", 2)]
        );
        assert!(
            m.render().contains(
                "lintas_receipts_total{stage=\"action started\",direction=\"received\"} 2"
            )
        );
    }
}
