//! A node's counters, in the Prometheus text format. A transport serves
//! them (lintas-grpc on a separate management listener). They count
//! notices and deliveries; they carry no case data.

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
    /// The refusals by reason again, readable (a family's members cannot
    /// be listed).
    refusals: std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>,
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
        self.refusals
            .lock()
            .map(|r| r.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default()
    }

    pub(crate) fn count_refusal(&self, reason: &'static str) {
        self.notices_refused.get_or_create(&Reason { reason }).inc();
        if let Ok(mut r) = self.refusals.lock() {
            *r.entry(reason).or_default() += 1;
        }
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
            refusals: std::sync::Mutex::default(),
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
