//! Following the other replicas of this agency (a store shared by several
//! node replicas, see `lintas_store::postgres`).
//!
//! Each replica schedules what it queued itself at once. What the others
//! queued it learns here, every [`crate::DeliveryConfig::replica_poll`]:
//! the new outbox entries (so that if the replica that queued them dies,
//! this one sends them once their claim lapses), and the newest inbox
//! cursor (so that a case system following this replica's inbox sees
//! notices the others received), and a newer roster another replica
//! installed (trusted as the stored roster is at start-up). Which replica
//! sends an entry is settled by claims in the store, never here.

use lintas_core::time::Timestamp;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::Engine;

/// Most entries taken from the others in one look.
const PAGE: usize = 1024;

impl Engine {
    /// Looks for the other replicas' work until `shutdown`. Run by
    /// [`Engine::run_delivery`] when the store is shared.
    pub(crate) async fn follow_replicas(&self, shutdown: CancellationToken) {
        let every = self.scheduler().config().replica_poll;
        let mut after = self.scheduler().loaded_up_to();
        let mut roster_seen = self.roster().signed().encode();
        loop {
            self.follow_roster(&mut roster_seen).await;
            match self.look_at_replicas(after).await {
                Ok((seen, more)) => {
                    after = seen;
                    if more {
                        continue;
                    }
                }
                Err(e) => warn!(error = %e, "cannot read the other replicas' work"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.inner.closed.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Takes up a newer roster another replica stored (`seen`: the stored
    /// bytes last looked at).
    async fn follow_roster(&self, seen: &mut Vec<u8>) {
        let engine = self.clone();
        let stored = tokio::task::spawn_blocking(move || engine.store().roster()).await;
        let Ok(Ok(Some(bytes))) = stored else { return };
        if bytes == *seen {
            return;
        }
        let current = self.roster().roster().version;
        let newer = lintas_core::roster::SignedRoster::decode(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|signed| {
                lintas_core::roster::TrustedRoster::bootstrap(signed, Timestamp::now())
                    .map_err(|e| e.to_string())
            });
        // Not while this replica installs one itself.
        let _one_at_a_time = self.inner.roster_install.lock().await;
        match newer {
            Ok(roster) if roster.roster().version > current => {
                let version = roster.roster().version;
                *self.inner.roster.write().unwrap_or_else(|e| e.into_inner()) = roster;
                info!(version, "roster installed by another replica taken up");
            }
            Ok(_) => {}
            Err(e) => warn!(error = %e, "the stored roster is unreadable"),
        }
        *seen = bytes;
    }

    /// One look: adopts the others' outbox entries above `after` and moves
    /// the inbox cursor up. Returns the highest outbox sequence seen and
    /// whether a full page came (more to read now).
    async fn look_at_replicas(&self, after: u64) -> Result<(u64, bool), lintas_store::StoreError> {
        let engine = self.clone();
        let (entries, newest) = tokio::task::spawn_blocking(move || {
            let store = engine.store();
            Ok::<_, lintas_store::StoreError>((
                store.outbox_from_others(after, PAGE)?,
                store.last_inbox_cursor()?,
            ))
        })
        .await
        .map_err(|e| lintas_store::StoreError::Config(format!("replica follower: {e}")))??;
        self.inner.inbox.send_if_modified(|cursor| {
            if newest > *cursor {
                *cursor = newest;
                true
            } else {
                false
            }
        });
        let full = entries.len() == PAGE;
        let seen = entries.last().map_or(after, |e| e.seq);
        if !entries.is_empty() {
            debug!(
                entries = entries.len(),
                "adopting outbox entries other replicas queued"
            );
            let len = {
                let mut scheduler = self.scheduler();
                scheduler.adopt(&entries, Timestamp::now(), Instant::now());
                scheduler.len()
            };
            self.inner
                .metrics
                .outbox_entries
                .set(i64::try_from(len).unwrap_or(i64::MAX));
            self.inner.outbox_wake.notify_one();
        }
        Ok((seen, full))
    }
}
