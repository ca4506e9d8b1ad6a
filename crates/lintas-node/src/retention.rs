//! Retention (docs/PROTOCOL.md section 14.6): removing the personal data of
//! notices past their period, keeping a tombstone of each, in one place.
//!
//! A walk over every stored notice, a page at a time: each notice that
//! carries personal data and whose period (this node's
//! [`RetentionPolicy`]) ran out loses its envelope (body and disclosures)
//! and gets its tombstone, with a PURGED log entry, in one transaction per
//! page. Then the store gives the space back, so the removed bytes are no
//! longer in its files.

use std::time::Duration;

use lintas_core::ids::NoticeId;
use lintas_core::retention::{RetentionPolicy, Tombstone};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_store::StoredNotice;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{Engine, Refusal};

/// Notices read per page of the walk.
const PAGE: usize = 256;

/// What one retention run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgeReport {
    /// Notices looked at.
    pub checked: usize,
    /// Notices whose personal data was removed, in id order.
    pub purged: Vec<NoticeId>,
}

impl Engine {
    /// This node's retention periods.
    pub fn retention(&self) -> RetentionPolicy {
        self.inner.retention
    }

    /// The tombstone of notice `id`, if this node removed its personal
    /// data.
    ///
    /// # Errors
    /// Store failure, or a damaged tombstone.
    pub fn tombstone(&self, id: NoticeId) -> Result<Option<Tombstone>, Refusal> {
        match self.store().notice(&id)? {
            Some(n) if n.is_purged() => Tombstone::decode(&n.tombstone).map(Some).map_err(|e| {
                Refusal::Store(lintas_store::StoreError::Corrupt {
                    what: format!("tombstone of {id}"),
                    detail: e.to_string(),
                })
            }),
            _ => Ok(None),
        }
    }

    /// Removes the personal data of every stored notice whose retention
    /// period ran out at `now`, keeping its tombstone, and gives the space
    /// back. A notice already purged, or without personal data, is left as
    /// it is.
    ///
    /// # Errors
    /// Store failure (what was purged before it stays purged).
    pub async fn purge_due(&self, now: Timestamp) -> Result<PurgeReport, Refusal> {
        let policy = self.inner.retention;
        let mut report = PurgeReport::default();
        let mut after: Option<NoticeId> = None;
        loop {
            let page = self.store().notices_after(after.as_ref(), PAGE)?;
            let Some((last, _)) = page.last() else {
                break;
            };
            after = Some(*last);
            report.checked += page.len();
            let purges: Vec<(NoticeId, StoredNotice)> = page
                .into_iter()
                .filter_map(|(id, stored)| due(&policy, id, stored, now))
                .collect();
            if purges.is_empty() {
                continue;
            }
            let ids: Vec<NoticeId> = purges.iter().map(|(id, _)| *id).collect();
            self.inner
                .commit
                .write(move |txn| {
                    for (id, purged) in &purges {
                        txn.purge(id, purged)?;
                    }
                    Ok(())
                })
                .await?;
            report.purged.extend(ids);
        }
        if !report.purged.is_empty() {
            let store = std::sync::Arc::clone(&self.inner.store);
            tokio::task::spawn_blocking(move || store.compact())
                .await
                .map_err(|e| {
                    Refusal::Store(lintas_store::StoreError::Corrupt {
                        what: "the store (compaction)".into(),
                        detail: e.to_string(),
                    })
                })??;
            info!(
                purged = report.purged.len(),
                checked = report.checked,
                "personal data past its retention period removed"
            );
        }
        Ok(report)
    }
}

/// The purged record of `stored` if its period ran out at `now`.
fn due(
    policy: &RetentionPolicy,
    id: NoticeId,
    stored: StoredNotice,
    now: Timestamp,
) -> Option<(NoticeId, StoredNotice)> {
    if stored.is_purged() {
        return None;
    }
    // The record's index fields say whether the period can have run out;
    // only then is the envelope decoded (most of a store is not due).
    let days = lintas_core::vocab::NoticeKind::from_wire(stored.kind)
        .map_or(lintas_core::retention::MAX_RETENTION_DAYS, |k| {
            policy.days(k)
        });
    let ends = stored
        .created_at
        .saturating_add(i64::from(days) * 86_400)
        .max(stored.expires_at);
    if now.unix_seconds() < ends {
        return None;
    }
    let envelope = SignedNotice::decode(&stored.envelope).ok()?;
    let (_, body) = envelope.open_body().ok()?;
    if !policy.is_due(&body, now) {
        return None;
    }
    let tombstone = Tombstone::of(id, &envelope, &body, now, policy.days(body.kind()));
    let mut purged = stored;
    purged.envelope = Vec::new();
    purged.tombstone = tombstone.encode();
    Some((id, purged))
}

impl Engine {
    /// Runs [`Engine::purge_due`] now and then every `every` until `stop`.
    pub async fn run_retention(&self, every: Duration, stop: CancellationToken) {
        loop {
            if let Err(e) = self.purge_due(Timestamp::now()).await {
                warn!(error = %e, "retention run failed; trying again next time");
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}
