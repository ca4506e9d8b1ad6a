//! Retention (docs/PROTOCOL.md section 14.6): removing the personal data of
//! notices past their period, keeping a tombstone of each, in one place.
//!
//! A walk over every stored notice, a page at a time: each notice that
//! carries personal data and whose period (this node's
//! [`RetentionPolicy`]) ran out loses its envelope (body and disclosures)
//! and gets its tombstone, with a PURGED log entry, in one transaction per
//! page. Then the store gives the space back, so the removed bytes are no
//! longer in its files.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use lintas_core::ids::NoticeId;
use lintas_core::retention::{RetentionPolicy, Tombstone};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_store::{Store, StoreError, StoredNotice};
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
    /// Attachments removed with them (those no other notice held here
    /// names).
    pub files_removed: usize,
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
        let mut files_of_purged = BTreeSet::new();
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
                .map(|(id, stored, files)| {
                    files_of_purged.extend(files);
                    (id, stored)
                })
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
            report.files_removed = self.remove_unnamed_files(files_of_purged).await?;
            // The purge is committed whatever happens here: a failed
            // compaction is logged, not reported as a failed run.
            let store = std::sync::Arc::clone(&self.inner.store);
            match tokio::task::spawn_blocking(move || store.compact()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => warn!(error = %e, "compaction after a purge failed"),
                Err(e) => warn!(error = %e, "compaction after a purge did not finish"),
            }
            info!(
                purged = report.purged.len(),
                checked = report.checked,
                "personal data past its retention period removed"
            );
        }
        Ok(report)
    }
}

/// The purged record of `stored` if its period ran out at `now`, with the
/// attachments it named.
fn due(
    policy: &RetentionPolicy,
    id: NoticeId,
    stored: StoredNotice,
    now: Timestamp,
) -> Option<(NoticeId, StoredNotice, Vec<[u8; 32]>)> {
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
    let files = body.attachments.iter().map(|a| a.sha256).collect();
    Some((id, purged, files))
}

impl Engine {
    /// Removes the files of `candidates` that no notice this node still
    /// holds names (the files of notices just purged or erased), record
    /// and pieces; returns how many it removed. A file another held notice
    /// names stays.
    async fn remove_unnamed_files(&self, candidates: BTreeSet<[u8; 32]>) -> Result<usize, Refusal> {
        if candidates.is_empty() {
            return Ok(0);
        }
        let store = Arc::clone(&self.inner.store);
        let unnamed = tokio::task::spawn_blocking(move || unnamed_files(&store, candidates))
            .await
            .map_err(|e| {
                Refusal::Store(StoreError::Corrupt {
                    what: "the store (attachment walk)".into(),
                    detail: e.to_string(),
                })
            })??;
        let removed = unnamed.len();
        if removed > 0 {
            self.inner
                .commit
                .write(move |txn| {
                    for sha256 in &unnamed {
                        txn.remove_attachment(sha256)?;
                    }
                    Ok(())
                })
                .await?;
            info!(removed, "files of removed notices deleted");
        }
        Ok(removed)
    }

    /// After an erasure: removes the erased notices' files in the
    /// background, then gives the space back, so that the erased bytes
    /// leave the store's files (a failure is logged; nothing retries it,
    /// see docs/RELIABILITY.md).
    pub(crate) fn after_erasure(&self, files: BTreeSet<[u8; 32]>) {
        let engine = self.clone();
        tokio::spawn(async move {
            if let Err(e) = engine.remove_unnamed_files(files).await {
                warn!(error = %e, "the files of an erased notice were not removed");
            }
            let store = Arc::clone(&engine.inner.store);
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.compact()).await {
                warn!(error = %e, "compaction after an erasure failed");
            }
        });
    }
}

/// Those of `candidates` stored here that no unpurged notice names.
fn unnamed_files(
    store: &Store,
    mut candidates: BTreeSet<[u8; 32]>,
) -> Result<BTreeSet<[u8; 32]>, StoreError> {
    let mut after: Option<NoticeId> = None;
    while !candidates.is_empty() {
        let page = store.notices_after(after.as_ref(), PAGE)?;
        let Some((last, _)) = page.last() else { break };
        after = Some(*last);
        for (_, stored) in &page {
            if stored.is_purged() {
                continue;
            }
            let Some((_, body)) = SignedNotice::decode(&stored.envelope)
                .ok()
                .and_then(|n| n.open_body().ok())
            else {
                // Unreadable: keep whatever it might name.
                return Ok(BTreeSet::new());
            };
            for a in &body.attachments {
                candidates.remove(&a.sha256);
            }
        }
    }
    let mut present = BTreeSet::new();
    for sha256 in candidates {
        if store.attachment(&sha256)?.is_some() {
            present.insert(sha256);
        }
    }
    Ok(present)
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
