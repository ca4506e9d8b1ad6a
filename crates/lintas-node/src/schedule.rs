//! What to send next, to whom: the outbox as an index in memory, rebuilt
//! from the store at start-up and kept in step with it.
//!
//! Per peer:
//! - entries of one case go in the order they were queued: a case has
//!   entries in at most one batch in flight, and within a batch they keep
//!   their order (the receiver handles a batch in order);
//! - among the cases free to go, the most urgent entry goes first (urgent,
//!   then high, then routine; oldest first within a priority), at every
//!   moment, including the first moment a peer is back;
//! - up to `window` batches are in flight at once (pipelining);
//! - backoff belongs to the peer: when a peer does not answer, nothing more
//!   goes to it until its retry time, then one probe (its most urgent
//!   entry); when the probe is answered, everything queued for it goes;
//! - an entry the peer answered with a refusal waits on its own timer, and
//!   holds back the later entries of its case (their order is kept).
//!
//! Choosing the next batch costs O(batch · log n) for n waiting entries.
//! Time is an input (monotonic `Instant`), so the schedule is tested
//! without sleeping and survives wall-clock jumps.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use lintas_core::time::Timestamp;
use lintas_store::{OutboxEntry, Store, StoreError};
use tokio::time::Instant;

/// How deliveries are paced.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct DeliveryConfig {
    /// Batches in flight to one peer at once.
    pub window: usize,
    /// Entries in one batch.
    pub batch_entries: usize,
    /// Bytes of notices in one batch (keep under the transport's message
    /// limit).
    pub batch_bytes: usize,
    /// First retry delay after a failure.
    pub base_delay: Duration,
    /// Longest retry delay.
    pub max_delay: Duration,
    /// How long one delivery call may take.
    pub attempt_timeout: Duration,
    /// With a store shared by replicas: how often this replica looks for
    /// outbox entries and inbox arrivals the others recorded.
    pub replica_poll: Duration,
    /// Attachments: size limit, per-peer quota, retries.
    pub attachments: crate::attachments::AttachmentConfig,
    /// Which protected parts each recipient of this node's notices is
    /// given.
    pub disclosure: crate::disclosure::DisclosureRules,
    /// How long personal data is kept (docs/PROTOCOL.md section 14.6).
    pub retention: lintas_core::retention::RetentionPolicy,
    /// Identifier matching: each peer's query budget, how fresh the tags
    /// are (docs/PROTOCOL.md section 14.9).
    pub matching: crate::matching::MatchingConfig,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            window: 4,
            batch_entries: 128,
            batch_bytes: 768 * 1024,
            base_delay: Duration::from_millis(250),
            // A peer that is down costs one connection attempt a second;
            // one that comes back is found within a second.
            max_delay: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(10),
            replica_poll: Duration::from_secs(1),
            attachments: crate::attachments::AttachmentConfig::default(),
            disclosure: crate::disclosure::DisclosureRules::default(),
            retention: lintas_core::retention::RetentionPolicy::default(),
            matching: crate::matching::MatchingConfig::default(),
        }
    }
}

impl DeliveryConfig {
    /// The same with other identifier-matching limits.
    pub fn with_matching(mut self, matching: crate::matching::MatchingConfig) -> Self {
        self.matching = matching;
        self
    }

    /// The same with other retention periods.
    pub fn with_retention(mut self, retention: lintas_core::retention::RetentionPolicy) -> Self {
        self.retention = retention;
        self
    }

    /// The same with other disclosure rules.
    pub fn with_disclosure(mut self, disclosure: crate::disclosure::DisclosureRules) -> Self {
        self.disclosure = disclosure;
        self
    }

    /// The same with other attachment limits.
    pub fn with_attachments(mut self, attachments: crate::attachments::AttachmentConfig) -> Self {
        self.attachments = attachments;
        self
    }

    /// The same with another window and batch size.
    pub fn with_pipeline(mut self, window: usize, batch_entries: usize) -> Self {
        self.window = window.max(1);
        self.batch_entries = batch_entries.max(1);
        self
    }

    /// The same with other retry delays.
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// The same with another byte limit per batch.
    pub fn with_batch_bytes(mut self, bytes: usize) -> Self {
        self.batch_bytes = bytes.max(1);
        self
    }

    /// How often a replica sharing its store looks for the others' work
    /// (at least 10 ms).
    #[must_use]
    pub fn with_replica_poll(mut self, every: Duration) -> Self {
        self.replica_poll = every.max(Duration::from_millis(10));
        self
    }

    /// The delay before attempt `failures + 1`: exponential, capped, with
    /// jitter in its upper half so peers coming back are not hit all at
    /// once.
    pub fn backoff(&self, failures: u32) -> Duration {
        let base = u64::try_from(self.base_delay.as_millis()).unwrap_or(u64::MAX);
        let max = u64::try_from(self.max_delay.as_millis()).unwrap_or(u64::MAX);
        let ceiling = base
            .saturating_mul(1_u64 << failures.saturating_sub(1).min(20))
            .min(max);
        Duration::from_millis(ceiling / 2 + fastrand::u64(0..=ceiling / 2))
    }
}

/// Entries of one case (or one entry without a case) to one peer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum CaseKey {
    Case(Arc<str>),
    Alone(u64),
}

#[derive(Debug, Clone)]
struct Item {
    priority: u32,
    case: CaseKey,
}

#[derive(Debug, Default)]
struct CaseQueue {
    /// Waiting, in queue order.
    pending: VecDeque<u64>,
    /// In a batch in flight, in order.
    sent: Vec<u64>,
    /// Held back until then after a refusal.
    parked_until: Option<Instant>,
}

impl CaseQueue {
    fn idle(&self) -> bool {
        self.sent.is_empty() && self.parked_until.is_none()
    }
}

/// A peer that did not answer.
#[derive(Debug, Clone, Copy)]
struct Down {
    failures: u32,
    retry_at: Instant,
    probing: bool,
}

#[derive(Debug, Default)]
struct PeerQueue {
    items: BTreeMap<u64, Item>,
    cases: BTreeMap<CaseKey, CaseQueue>,
    /// (priority, seq) of the head of every idle case.
    ready: BTreeSet<(u32, u64)>,
    /// (until, case) of parked cases.
    parked: BTreeSet<(Instant, CaseKey)>,
    in_flight: usize,
    down: Option<Down>,
    contact: Option<Contact>,
}

/// When a peer last answered a call, and how long its calls take.
#[derive(Debug, Clone, Copy)]
struct Contact {
    last_answer: Timestamp,
    /// Smoothed round-trip time (as TCP keeps it: 7/8 old, 1/8 new).
    round_trip: Duration,
}

impl PeerQueue {
    fn push_head(&mut self, case: &CaseKey) {
        if let Some(queue) = self.cases.get(case)
            && queue.idle()
            && let Some(&head) = queue.pending.front()
            && let Some(item) = self.items.get(&head)
        {
            self.ready.insert((item.priority, head));
        }
    }

    fn enqueue(&mut self, seq: u64, priority: u32, case: CaseKey) {
        self.items.insert(
            seq,
            Item {
                priority,
                case: case.clone(),
            },
        );
        let queue = self.cases.entry(case.clone()).or_default();
        queue.pending.push_back(seq);
        if queue.pending.len() == 1 {
            self.push_head(&case);
        }
    }

    /// Takes up to `max` entries, most urgent first, following a case's
    /// later entries into the same batch in order.
    fn take(&mut self, max: usize) -> Vec<u64> {
        let mut batch = Vec::new();
        // Heads of cases already in this batch: eligible for this batch only.
        let mut following: BTreeSet<(u32, u64)> = BTreeSet::new();
        while batch.len() < max {
            let from_ready = self.ready.first().copied();
            let from_batch = following.first().copied();
            let pick = match (from_ready, from_batch) {
                (Some(r), Some(b)) if b < r => {
                    following.remove(&b);
                    b
                }
                (Some(r), _) => {
                    self.ready.remove(&r);
                    r
                }
                (None, Some(b)) => {
                    following.remove(&b);
                    b
                }
                (None, None) => break,
            };
            let seq = pick.1;
            let Some(item) = self.items.get(&seq) else {
                continue;
            };
            let Some(queue) = self.cases.get_mut(&item.case) else {
                continue;
            };
            if queue.pending.front() != Some(&seq) {
                continue;
            }
            queue.pending.pop_front();
            queue.sent.push(seq);
            batch.push(seq);
            if let Some(&next) = queue.pending.front()
                && let Some(next_item) = self.items.get(&next)
            {
                following.insert((next_item.priority, next));
            }
        }
        if !batch.is_empty() {
            self.in_flight += 1;
        }
        batch
    }

    /// Puts the unsent entries of a batch back at the front of their cases.
    fn unsend(&mut self, seqs: &[u64]) -> BTreeSet<CaseKey> {
        let mut touched = BTreeSet::new();
        for seq in seqs.iter().rev() {
            if let Some(item) = self.items.get(seq)
                && let Some(queue) = self.cases.get_mut(&item.case)
            {
                queue.sent.retain(|s| s != seq);
                queue.pending.push_front(*seq);
                touched.insert(item.case.clone());
            }
        }
        touched
    }

    fn remove(&mut self, seq: u64) -> Option<CaseKey> {
        let item = self.items.remove(&seq)?;
        if let Some(queue) = self.cases.get_mut(&item.case) {
            queue.sent.retain(|s| *s != seq);
            queue.pending.retain(|s| *s != seq);
        }
        Some(item.case)
    }

    fn tidy(&mut self, case: &CaseKey) {
        let empty = self
            .cases
            .get(case)
            .is_some_and(|q| q.pending.is_empty() && q.sent.is_empty() && q.parked_until.is_none());
        if empty {
            self.cases.remove(case);
        } else {
            self.push_head(case);
        }
    }
}

/// How one entry of a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryOutcome {
    /// Delivered (or dropped as expired): it leaves the outbox.
    Done,
    /// The peer answered with a refusal (or a bad receipt): retry the entry
    /// at this time; its case waits.
    Refused(Instant),
    /// Not sent, or its answer was lost: back to the queue as it was.
    NotSent,
}

/// Every peer's queue.
#[derive(Debug)]
pub(crate) struct Scheduler {
    config: DeliveryConfig,
    peers: BTreeMap<String, PeerQueue>,
    len: usize,
    loaded_up_to: u64,
}

/// A peer's delivery state, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerStatus {
    /// Entries waiting.
    pub queued: usize,
    /// Batches in flight.
    pub in_flight: usize,
    /// Consecutive failures while the peer does not answer (0 if it does).
    pub failures: u32,
    /// Entries waiting, by priority rank (1 urgent, 2 high, 3 routine;
    /// receipts queued for the peer count as high).
    pub queued_by_priority: BTreeMap<u32, usize>,
    /// When the peer last answered a delivery call (with receipts or
    /// refusals), since the node started.
    pub last_answer: Option<Timestamp>,
    /// Its calls' smoothed round-trip time: the whole call, a batch
    /// carried and answered.
    pub round_trip: Option<Duration>,
}

impl Scheduler {
    /// Rebuilds the schedule from the store's outbox and peer retry state.
    /// Retry times stored as wall-clock times become delays from `mono`,
    /// never longer than the longest backoff, so a clock that jumped while
    /// the node was down cannot stall delivery.
    pub(crate) fn load(
        store: &Store,
        config: DeliveryConfig,
        now: Timestamp,
        mono: Instant,
    ) -> Result<Self, StoreError> {
        let mut scheduler = Scheduler {
            config,
            peers: BTreeMap::new(),
            len: 0,
            loaded_up_to: 0,
        };
        let outbox = store.outbox()?;
        scheduler.loaded_up_to = outbox.last().map_or(0, |e| e.seq);
        scheduler.adopt(&outbox, now, mono);
        let now_ms = unix_ms(now);
        for (peer, retry) in store.peer_retries()? {
            let retry_at = mono + scheduler.delay_until(retry.retry_at_ms, now_ms);
            let queue = scheduler.peers.entry(peer).or_default();
            queue.down = Some(Down {
                failures: retry.failures,
                retry_at,
                probing: false,
            });
        }
        Ok(scheduler)
    }

    /// Adds entries read from the store (at start-up, or queued by another
    /// replica): one whose retry time has not come waits for it, never
    /// longer than the longest backoff from `mono`.
    pub(crate) fn adopt(&mut self, entries: &[OutboxEntry], now: Timestamp, mono: Instant) {
        let now_ms = unix_ms(now);
        let mut parked = Vec::new();
        for entry in entries {
            if entry.attempts > 0 && entry.next_attempt_ms > now_ms {
                parked.push((entry.recipient.clone(), entry.seq, entry.next_attempt_ms));
            }
            self.enqueue(entry);
        }
        for (peer, seq, at_ms) in parked {
            let until = mono + self.delay_until(at_ms, now_ms);
            if let Some(queue) = self.peers.get_mut(&peer)
                && let Some(item) = queue.items.get(&seq).cloned()
                && let Some(case) = queue.cases.get_mut(&item.case)
                && case.pending.front() == Some(&seq)
            {
                case.parked_until = Some(until);
                queue.ready.remove(&(item.priority, seq));
                queue.parked.insert((until, item.case));
            }
        }
    }

    /// The highest outbox sequence read at start-up (where following other
    /// replicas' work begins).
    pub(crate) fn loaded_up_to(&self) -> u64 {
        self.loaded_up_to
    }

    fn delay_until(&self, at_ms: i64, now_ms: i64) -> Duration {
        let ms = u64::try_from(at_ms.saturating_sub(now_ms)).unwrap_or(0);
        Duration::from_millis(ms).min(self.config.max_delay)
    }

    /// Its configuration.
    pub(crate) fn config(&self) -> &DeliveryConfig {
        &self.config
    }

    /// Entries waiting, to every peer.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds a queued outbox entry.
    pub(crate) fn enqueue(&mut self, entry: &OutboxEntry) {
        let case = if entry.case_id.is_empty() {
            CaseKey::Alone(entry.seq)
        } else {
            CaseKey::Case(Arc::from(entry.case_id.as_str()))
        };
        let queue = self.peers.entry(entry.recipient.clone()).or_default();
        if queue.items.contains_key(&entry.seq) {
            return;
        }
        queue.enqueue(entry.seq, entry.priority, case);
        self.len += 1;
    }

    /// The batches to send now (each: peer, entries in order), and the
    /// next moment something becomes due if nothing else happens.
    pub(crate) fn poll(&mut self, now: Instant) -> (Vec<(String, Vec<u64>)>, Option<Instant>) {
        let mut batches = Vec::new();
        let mut wake: Option<Instant> = None;
        let mut soonest = |at: Instant| wake = Some(wake.map_or(at, |w: Instant| w.min(at)));
        for (peer, queue) in &mut self.peers {
            while let Some(&(until, ref case)) = queue.parked.first() {
                if until > now {
                    soonest(until);
                    break;
                }
                let case = case.clone();
                queue.parked.remove(&(until, case.clone()));
                if let Some(q) = queue.cases.get_mut(&case) {
                    q.parked_until = None;
                }
                queue.push_head(&case);
            }
            if let Some(down) = queue.down {
                if down.retry_at > now {
                    soonest(down.retry_at);
                    continue;
                }
                if down.probing || queue.in_flight > 0 {
                    continue;
                }
                let probe = queue.take(1);
                if !probe.is_empty() {
                    queue.down = Some(Down {
                        probing: true,
                        ..down
                    });
                    batches.push((peer.clone(), probe));
                }
                continue;
            }
            while queue.in_flight < self.config.window {
                let batch = queue.take(self.config.batch_entries);
                if batch.is_empty() {
                    break;
                }
                batches.push((peer.clone(), batch));
            }
        }
        (batches, wake)
    }

    /// Records the outcome of entries answered outside a batch (an offline
    /// bundle's answers): those done leave the schedule; the others stay
    /// where they are. Nothing was in flight, and the peer's state is
    /// unchanged.
    pub(crate) fn settle(&mut self, peer: &str, outcomes: &[(u64, EntryOutcome)]) {
        let Some(queue) = self.peers.get_mut(peer) else {
            return;
        };
        let mut touched = BTreeSet::new();
        for (seq, outcome) in outcomes {
            if *outcome == EntryOutcome::Done
                && let Some(case) = queue.remove(*seq)
            {
                self.len = self.len.saturating_sub(1);
                touched.insert(case);
            }
        }
        for case in touched {
            queue.tidy(&case);
        }
    }

    /// A batch to `peer` finished: each entry ended as its outcome says.
    /// `reached` says whether the peer answered at all; if it did not, the
    /// peer waits out its backoff, and the retry state to persist is
    /// returned (consecutive failures, delay).
    pub(crate) fn finish(
        &mut self,
        peer: &str,
        outcomes: &[(u64, EntryOutcome)],
        reached: bool,
        now: Instant,
    ) -> Option<(u32, Duration)> {
        let config = self.config;
        let queue = self.peers.get_mut(peer)?;
        queue.in_flight = queue.in_flight.saturating_sub(1);
        let mut touched = BTreeSet::new();
        let mut not_sent = Vec::new();
        let mut parked: BTreeMap<CaseKey, Instant> = BTreeMap::new();
        for (seq, outcome) in outcomes {
            match outcome {
                EntryOutcome::Done => {
                    if let Some(case) = queue.remove(*seq) {
                        self.len = self.len.saturating_sub(1);
                        touched.insert(case);
                    }
                }
                EntryOutcome::Refused(at) => {
                    not_sent.push(*seq);
                    if let Some(item) = queue.items.get(seq) {
                        let slot = parked.entry(item.case.clone()).or_insert(*at);
                        *slot = (*slot).max(*at);
                    }
                }
                EntryOutcome::NotSent => not_sent.push(*seq),
            }
        }
        not_sent.sort_unstable();
        touched.extend(queue.unsend(&not_sent));
        for (case, until) in parked {
            if let Some(q) = queue.cases.get_mut(&case) {
                q.parked_until = Some(until);
                queue.parked.insert((until, case));
            }
        }
        for case in touched {
            queue.tidy(&case);
        }
        if reached {
            queue.down = None;
            return None;
        }
        let failures = match queue.down {
            // Other batches that were in flight fail too; count the outage
            // once until the next probe.
            Some(down) if down.retry_at > now && !down.probing => down.failures,
            Some(down) => down.failures.saturating_add(1),
            None => 1,
        };
        let delay = match queue.down {
            Some(down) if down.retry_at > now && !down.probing => down.retry_at - now,
            _ => config.backoff(failures),
        };
        queue.down = Some(Down {
            failures,
            retry_at: now + delay,
            probing: false,
        });
        Some((failures, delay))
    }

    #[cfg(test)]
    fn answered(&mut self, peer: &str, outcomes: &[(u64, EntryOutcome)]) {
        self.finish(peer, outcomes, true, Instant::now());
    }

    #[cfg(test)]
    fn unreachable(&mut self, peer: &str, seqs: &[u64], now: Instant) -> (u32, Duration) {
        let outcomes: Vec<_> = seqs.iter().map(|s| (*s, EntryOutcome::NotSent)).collect();
        self.finish(peer, &outcomes, false, now)
            .unwrap_or((0, Duration::ZERO))
    }

    /// `peer` was heard from (it called us): if it was down, probe it now
    /// instead of waiting out its backoff.
    pub(crate) fn heard_from(&mut self, peer: &str, now: Instant) -> bool {
        if let Some(queue) = self.peers.get_mut(peer)
            && let Some(down) = &mut queue.down
            && down.retry_at > now
            && !down.probing
        {
            down.retry_at = now;
            return true;
        }
        false
    }

    /// The delivery state of `peer`.
    pub(crate) fn status(&self, peer: &str) -> PeerStatus {
        self.peers.get(peer).map_or(
            PeerStatus {
                queued: 0,
                in_flight: 0,
                failures: 0,
                queued_by_priority: BTreeMap::new(),
                last_answer: None,
                round_trip: None,
            },
            |q| {
                let mut queued_by_priority = BTreeMap::new();
                for item in q.items.values() {
                    *queued_by_priority.entry(item.priority).or_insert(0) += 1;
                }
                PeerStatus {
                    queued: q.items.len(),
                    in_flight: q.in_flight,
                    failures: q.down.map_or(0, |d| d.failures),
                    queued_by_priority,
                    last_answer: q.contact.map(|c| c.last_answer),
                    round_trip: q.contact.map(|c| c.round_trip),
                }
            },
        )
    }

    /// Notes that `peer` answered a call at `at` after `round_trip`.
    pub(crate) fn record_round_trip(&mut self, peer: &str, at: Timestamp, round_trip: Duration) {
        let Some(queue) = self.peers.get_mut(peer) else {
            return;
        };
        let round_trip = match queue.contact {
            Some(c) => (c.round_trip * 7 + round_trip) / 8,
            None => round_trip,
        };
        queue.contact = Some(Contact {
            last_answer: at,
            round_trip,
        });
    }
}

/// Unix milliseconds of `t`.
pub(crate) fn unix_ms(t: Timestamp) -> i64 {
    t.unix_seconds()
        .saturating_mul(1000)
        .saturating_add(i64::from(t.subsec_nanos() / 1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, recipient: &str, case: &str, priority: u32) -> OutboxEntry {
        OutboxEntry {
            seq,
            recipient: recipient.into(),
            case_id: case.into(),
            priority,
            ..Default::default()
        }
    }

    fn scheduler(window: usize, batch: usize) -> Scheduler {
        Scheduler {
            config: DeliveryConfig::default().with_pipeline(window, batch),
            peers: BTreeMap::new(),
            len: 0,
            loaded_up_to: 0,
        }
    }

    #[test]
    fn urgent_first_never_ahead_of_its_own_case_and_cases_follow_in_order() {
        let mut s = scheduler(1, 10);
        for e in [
            entry(1, "A", "C1", 3),
            entry(2, "A", "C1", 1), // urgent, but C1's routine entry is first
            entry(3, "A", "C2", 1), // urgent, own case: first
            entry(4, "A", "", 2),
            entry(5, "B", "C1", 3),
        ] {
            s.enqueue(&e);
        }
        let (batches, _) = s.poll(Instant::now());
        assert_eq!(
            batches,
            vec![("A".into(), vec![3, 4, 1, 2]), ("B".into(), vec![5])]
        );
    }

    #[test]
    fn status_counts_entries_by_priority_and_smooths_the_round_trip() {
        let mut s = scheduler(1, 10);
        for e in [
            entry(1, "A", "C1", 3),
            entry(2, "A", "C2", 1),
            entry(3, "A", "C3", 3),
        ] {
            s.enqueue(&e);
        }
        let status = s.status("A");
        assert_eq!(status.queued_by_priority, BTreeMap::from([(1, 1), (3, 2)]));
        assert_eq!((status.last_answer, status.round_trip), (None, None));
        let at = Timestamp::now();
        s.record_round_trip("A", at, Duration::from_millis(80));
        assert_eq!(s.status("A").round_trip, Some(Duration::from_millis(80)));
        s.record_round_trip("A", at, Duration::from_millis(160));
        // 7/8 of 80 ms and 1/8 of 160 ms.
        let status = s.status("A");
        assert_eq!(status.round_trip, Some(Duration::from_millis(90)));
        assert_eq!(status.last_answer, Some(at));
        // A peer with nothing queued has no queue to remember it by.
        s.record_round_trip("B", at, Duration::from_millis(5));
        assert_eq!(s.status("B").round_trip, None);
    }

    #[test]
    fn a_case_is_in_one_batch_at_a_time_and_batches_pipeline() {
        let mut s = scheduler(3, 2);
        for seq in 1..=4 {
            s.enqueue(&entry(seq, "A", "C1", 3));
        }
        s.enqueue(&entry(5, "A", "C2", 3));
        s.enqueue(&entry(6, "A", "C3", 3));
        let now = Instant::now();
        let (batches, _) = s.poll(now);
        // C1 goes in order in one batch; C2 and C3 ride in a second batch.
        assert_eq!(
            batches,
            vec![("A".into(), vec![1, 2]), ("A".into(), vec![5, 6])]
        );
        assert_eq!(s.status("A").in_flight, 2);
        s.answered("A", &[(1, EntryOutcome::Done), (2, EntryOutcome::Done)]);
        let (batches, _) = s.poll(now);
        assert_eq!(batches, vec![("A".into(), vec![3, 4])]);
    }

    #[test]
    fn a_refusal_holds_its_case_and_not_sent_keeps_order() {
        let mut s = scheduler(2, 10);
        for seq in 1..=3 {
            s.enqueue(&entry(seq, "A", "C1", 3));
        }
        s.enqueue(&entry(4, "A", "C2", 3));
        let now = Instant::now();
        let (batches, _) = s.poll(now);
        assert_eq!(batches, vec![("A".into(), vec![1, 2, 3, 4])]);
        let later = now + Duration::from_secs(5);
        s.answered(
            "A",
            &[
                (1, EntryOutcome::Done),
                (2, EntryOutcome::Refused(later)),
                (3, EntryOutcome::NotSent),
                (4, EntryOutcome::Done),
            ],
        );
        let (batches, wake) = s.poll(now);
        assert!(batches.is_empty(), "{batches:?}");
        assert_eq!(wake, Some(later));
        let (batches, _) = s.poll(later);
        assert_eq!(batches, vec![("A".into(), vec![2, 3])]);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn a_peer_down_gets_one_probe_then_everything() {
        let mut s = scheduler(4, 1);
        for seq in 1..=10 {
            s.enqueue(&entry(seq, "A", "", 3));
        }
        s.enqueue(&entry(11, "A", "", 1));
        let t0 = Instant::now();
        let (batches, _) = s.poll(t0);
        assert_eq!(batches.len(), 4);
        for (_, seqs) in &batches {
            s.unreachable("A", seqs, t0);
        }
        assert_eq!(s.status("A").failures, 1, "one outage, counted once");
        let (batches, wake) = s.poll(t0);
        assert!(batches.is_empty());
        let retry = wake.unwrap_or(t0);
        assert!(retry > t0 && retry <= t0 + Duration::from_millis(250));
        // The probe is the most urgent entry, alone.
        let (batches, _) = s.poll(retry);
        assert_eq!(batches, vec![("A".into(), vec![11])]);
        let (batches, _) = s.poll(retry);
        assert!(batches.is_empty(), "one probe at a time");
        s.answered("A", &[(11, EntryOutcome::Done)]);
        let (batches, _) = s.poll(retry);
        assert_eq!(batches.len(), 4, "the whole window opens");
        assert_eq!(s.status("A").failures, 0);
    }

    #[test]
    fn hearing_from_a_peer_that_was_down_probes_it_at_once() {
        let mut s = scheduler(1, 1);
        s.enqueue(&entry(1, "A", "", 3));
        let t0 = Instant::now();
        let (batches, _) = s.poll(t0);
        s.unreachable("A", &batches[0].1, t0);
        let (failures, _) = s.unreachable("A", &[], t0 + Duration::from_secs(60));
        assert_eq!(failures, 2);
        let soon = t0 + Duration::from_secs(60) + Duration::from_millis(1);
        assert!(s.heard_from("A", soon));
        let (batches, _) = s.poll(soon);
        assert_eq!(batches, vec![("A".into(), vec![1])]);
    }

    #[test]
    fn retry_state_survives_a_restart_and_a_clock_jump_cannot_stall_it()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("s.redb"))?;
        let now = Timestamp::now();
        let now_ms = unix_ms(now);
        store.write(|t| {
            for (seq, peer, case) in [
                (1, "A", "C1"),
                (2, "A", "C1"),
                (3, "B", "C2"),
                (4, "C", "C3"),
            ] {
                t.enqueue(OutboxEntry {
                    seq,
                    recipient: peer.into(),
                    case_id: case.into(),
                    priority: 3,
                    ..Default::default()
                })?;
            }
            // A was down: its next probe is due in 400 ms.
            t.set_peer_retry(
                "A",
                Some(&lintas_store::PeerRetry {
                    failures: 3,
                    retry_at_ms: now_ms + 400,
                    last_error: "connection refused".into(),
                }),
            )?;
            // B's entry was refused; its retry was stored a day ahead (the
            // wall clock has since jumped back).
            t.reschedule(3, 2, now_ms + 86_400_000, "created_in_future")?;
            Ok(())
        })?;
        let mono = Instant::now();
        let mut s = Scheduler::load(&store, DeliveryConfig::default(), now, mono)?;
        assert_eq!(s.len(), 4);
        assert_eq!(s.status("A").failures, 3);
        let (batches, wake) = s.poll(mono);
        assert_eq!(
            batches,
            vec![("C".into(), vec![4])],
            "only the peer with no retry state"
        );
        let wake = wake.ok_or("a wake-up is due")?;
        assert!(wake <= mono + Duration::from_millis(400));
        // No wait outlives the longest backoff, whatever the stored times.
        let (batches, _) = s.poll(mono + DeliveryConfig::default().max_delay);
        assert_eq!(
            batches,
            vec![("A".into(), vec![1]), ("B".into(), vec![3])],
            "A's probe (one entry) and B's refused entry, at most a second later"
        );
        Ok(())
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let config = DeliveryConfig::default();
        for failures in 1..40 {
            let d = config.backoff(failures).as_millis();
            let ceiling = (250u128 << (failures - 1).min(20)).min(1_000);
            assert!(d >= ceiling / 2 && d <= ceiling, "{failures}: {d}");
        }
    }
}
