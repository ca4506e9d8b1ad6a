//! Each peer agency's daily quota of what it may hand over to this node
//! (docs/PROTOCOL.md section 9.9): a bucket of KiB per peer that refills
//! evenly over a day up to one day's worth.
//!
//! Charges are decided in memory, on the call's path; every few seconds
//! the node settles them into the store ([`PeerQuotas::settle`]), which
//! keeps the quota across restarts and, on a store shared by an agency's
//! replicas, adds up what every replica let the peer hand over: each
//! replica then continues from the shared figure. Between two settlements
//! replicas together may let a peer run over by what each admitted
//! meanwhile; the next settlement charges it all.

use std::collections::BTreeMap;
use std::sync::Mutex;

use lintas_core::ids::AgencyId;
use lintas_core::time::Timestamp;
use lintas_store::{Store, StoreError};

use crate::schedule::unix_ms;

/// One peer's quota as this node sees it.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// KiB left at `at_ms` (negative when overdrawn by replicas).
    available: f64,
    at_ms: i64,
    /// Charged here since the last settlement.
    unsettled: f64,
}

/// Every peer's daily quota.
#[derive(Debug)]
pub struct PeerQuotas {
    capacity_kib: f64,
    refill_kib_per_ms: f64,
    buckets: Mutex<BTreeMap<AgencyId, Bucket>>,
    /// Prefixed to each peer's id in the store, so that quotas of several
    /// kinds (messages, attachments) keep apart.
    kind: &'static str,
}

impl PeerQuotas {
    /// A quota of `kib_per_day` (at least 1) for each peer: what it may
    /// hand over in messages.
    pub fn new(kib_per_day: u32) -> Self {
        Self::of_kind(kib_per_day, "")
    }

    /// A quota of another kind, kept in the store under `kind` followed by
    /// each peer's id (`kind` ends in a character no agency id has, such as
    /// `/`).
    pub(crate) fn of_kind(kib_per_day: u32, kind: &'static str) -> Self {
        let capacity = f64::from(kib_per_day.max(1));
        PeerQuotas {
            capacity_kib: capacity,
            refill_kib_per_ms: capacity / 86_400_000.0,
            buckets: Mutex::new(BTreeMap::new()),
            kind,
        }
    }

    /// The peer a stored row is of, if it is of this kind.
    fn peer_of(&self, row: &str) -> Option<AgencyId> {
        AgencyId::parse(row.strip_prefix(self.kind)?).ok()
    }

    /// The configured quota, KiB per day.
    pub fn kib_per_day(&self) -> f64 {
        self.capacity_kib
    }

    /// Takes up the quotas the store kept (from before a restart, or from
    /// the other replicas).
    ///
    /// # Errors
    /// The store could not be read.
    pub fn load(&self, store: &Store) -> Result<(), StoreError> {
        let stored = store.quotas()?;
        let mut buckets = self.lock();
        for (peer, quota) in stored {
            // A row of another kind, or for an id that is no longer valid,
            // is left alone.
            let Some(peer) = self.peer_of(&peer) else {
                continue;
            };
            buckets.insert(
                peer,
                Bucket {
                    available: quota.available_kib,
                    at_ms: quota.at_ms,
                    unsettled: 0.0,
                },
            );
        }
        Ok(())
    }

    /// Charges `kib` to `peer` at `now` if its quota holds that much;
    /// `false` (and nothing charged) if it does not.
    pub fn charge(&self, peer: &AgencyId, kib: u64, now: Timestamp) -> bool {
        let now_ms = unix_ms(now);
        let mut buckets = self.lock();
        let bucket = buckets.entry(peer.clone()).or_insert(Bucket {
            available: self.capacity_kib,
            at_ms: now_ms,
            unsettled: 0.0,
        });
        self.refill(bucket, now_ms);
        let kib = kib as f64;
        if bucket.available < kib {
            return false;
        }
        bucket.available -= kib;
        bucket.unsettled += kib;
        true
    }

    /// Writes what was charged since the last settlement to the store, in
    /// one transaction, and continues from the stored figures (which, on a
    /// shared store, include the other replicas' charges). With `all`,
    /// every stored figure is read back too (replicas, to learn what the
    /// others admitted, also for peers this one has not seen).
    ///
    /// # Errors
    /// The store failed; the charges stay to be settled next time.
    pub fn settle(&self, store: &Store, now: Timestamp, all: bool) -> Result<(), StoreError> {
        let now_ms = unix_ms(now);
        let pending: Vec<(AgencyId, f64)> = self
            .lock()
            .iter()
            .filter(|(_, b)| b.unsettled > 0.0)
            .map(|(peer, b)| (peer.clone(), b.unsettled))
            .collect();
        if all {
            // What the other replicas admitted, for peers with nothing
            // pending here (including peers this replica has not seen).
            let stored = store.quotas()?;
            let mut buckets = self.lock();
            for (peer, quota) in stored {
                let Some(peer) = self.peer_of(&peer) else {
                    continue;
                };
                if pending.iter().any(|(p, _)| *p == peer) {
                    continue;
                }
                let since = buckets.get(&peer).map_or(0.0, |b| b.unsettled);
                buckets.insert(
                    peer,
                    Bucket {
                        available: quota.available_kib - since,
                        at_ms: quota.at_ms,
                        unsettled: since,
                    },
                );
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        let settled = store.write(|t| {
            pending
                .iter()
                .map(|(peer, used)| {
                    t.settle_quota(
                        &format!("{}{peer}", self.kind),
                        *used,
                        self.capacity_kib,
                        self.refill_kib_per_ms,
                        now_ms,
                    )
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        let mut buckets = self.lock();
        for ((peer, used), quota) in pending.iter().zip(settled) {
            if let Some(bucket) = buckets.get_mut(peer) {
                // Charges made while the store was written stay pending.
                let since = (bucket.unsettled - used).max(0.0);
                *bucket = Bucket {
                    available: quota.available_kib - since,
                    at_ms: quota.at_ms,
                    unsettled: since,
                };
            }
        }
        Ok(())
    }

    fn refill(&self, bucket: &mut Bucket, now_ms: i64) {
        let elapsed = now_ms.saturating_sub(bucket.at_ms).max(0) as f64;
        bucket.available =
            (bucket.available + elapsed * self.refill_kib_per_ms).min(self.capacity_kib);
        bucket.at_ms = bucket.at_ms.max(now_ms);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<AgencyId, Bucket>> {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> AgencyId {
        AgencyId::parse("THA.RTP.ATPD").unwrap_or_else(|e| panic!("{e}"))
    }

    /// `ms` milliseconds after a fixed moment (2026-01-01).
    fn at(ms: i64) -> Timestamp {
        const START: i64 = 1_767_225_600;
        Timestamp::new(START + ms / 1000, (ms % 1000) as u32 * 1_000_000)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn store(dir: &std::path::Path) -> Store {
        Store::open(&dir.join("node.redb")).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_quota_refuses_what_is_over_and_refills_over_the_day() {
        let quotas = PeerQuotas::new(86_400); // 1 KiB a second
        assert!(quotas.charge(&peer(), 86_000, at(0)));
        assert!(quotas.charge(&peer(), 400, at(0)));
        assert!(!quotas.charge(&peer(), 1, at(0)), "used up");
        assert!(
            !quotas.charge(&peer(), 2, at(1_000)),
            "one KiB back after a second"
        );
        assert!(quotas.charge(&peer(), 1, at(1_000)));
        // Another peer has its own.
        let other = AgencyId::parse("KHM.MOI.ATHP").unwrap_or_else(|e| panic!("{e}"));
        assert!(quotas.charge(&other, 86_400, at(1_000)));
    }

    #[test]
    fn a_restart_does_not_give_a_peer_a_new_quota() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = store(dir.path());
        let before = PeerQuotas::new(1_000);
        assert!(before.charge(&peer(), 900, at(0)));
        before
            .settle(&store, at(0), false)
            .unwrap_or_else(|e| panic!("{e}"));

        let after = PeerQuotas::new(1_000);
        after.load(&store).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !after.charge(&peer(), 200, at(0)),
            "100 KiB left, not 1,000"
        );
        assert!(after.charge(&peer(), 100, at(0)));
    }

    #[test]
    fn charges_made_while_settling_are_kept_for_the_next_settlement() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = store(dir.path());
        let quotas = PeerQuotas::new(1_000);
        assert!(quotas.charge(&peer(), 100, at(0)));
        quotas
            .settle(&store, at(0), false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(quotas.charge(&peer(), 50, at(0)));
        quotas
            .settle(&store, at(0), false)
            .unwrap_or_else(|e| panic!("{e}"));
        let stored = store.quotas().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stored[0].1.available_kib, 850.0);
        // Nothing pending: a settlement writes nothing and changes nothing.
        quotas
            .settle(&store, at(0), false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(quotas.charge(&peer(), 850, at(0)));
        assert!(!quotas.charge(&peer(), 1, at(0)));
    }
}
