//! Attachments (docs/PROTOCOL.md section 13): files that travel beside a
//! notice. The case system uploads a file to its node; a notice names it
//! by digest; each recipient's node fetches it from the sender's node piece
//! by piece (resuming where a broken connection left off), verifies the
//! whole against the digest before it is kept or shown, within the
//! sender's daily quota; the sender's node serves it only to the notice's
//! sender and recipients. Every hand-over is a signed custody entry in the
//! log.

use std::time::Duration;

use lintas_core::ValidationError;
use lintas_core::custody::{CustodyEntry, CustodyEvent};
use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::notice::{AttachmentRef, NoticeBody};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_store::{AttachmentRecord, StoreError};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::transport::Transport;
use crate::{Engine, Refusal};

/// How the attachment quota is kept in the store: this, then the peer's id.
pub(crate) const QUOTA_KIND: &str = "attachments/";

/// The pieces a file is stored, served and fetched in.
pub const PIECE_BYTES: usize = 256 * 1024;

/// Limits on the attachments a node takes.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AttachmentConfig {
    /// The largest file uploaded or fetched (256 MiB by default).
    pub max_bytes: u64,
    /// What one peer's notices may make this node fetch and keep per day,
    /// KiB (4 GiB by default): a day's worth at once, refilling evenly.
    pub kib_per_peer_per_day: u32,
    /// First wait after a failed fetch; doubles up to `max_retry`.
    pub base_retry: Duration,
    /// Longest wait between fetch attempts.
    pub max_retry: Duration,
}

impl Default for AttachmentConfig {
    fn default() -> Self {
        AttachmentConfig {
            max_bytes: 256 * 1024 * 1024,
            kib_per_peer_per_day: 4 * 1024 * 1024,
            base_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(300),
        }
    }
}

impl AttachmentConfig {
    /// The same with another size limit and daily per-peer quota.
    pub fn with_limits(mut self, max_bytes: u64, kib_per_peer_per_day: u32) -> Self {
        self.max_bytes = max_bytes;
        self.kib_per_peer_per_day = kib_per_peer_per_day;
        self
    }

    /// The same with other retry waits.
    pub fn with_retry(mut self, base: Duration, max: Duration) -> Self {
        self.base_retry = base;
        self.max_retry = max;
        self
    }

    fn retry_after(&self, attempts: u32) -> Duration {
        let factor = 1u32 << attempts.saturating_sub(1).min(16);
        self.base_retry.saturating_mul(factor).min(self.max_retry)
    }
}

fn ms(t: Timestamp) -> i64 {
    t.unix_seconds().saturating_mul(1000)
}

fn not_here(sha256: &[u8; 32]) -> Refusal {
    Refusal::NotFound(format!("attachment {} is not here", hex::encode(sha256)))
}

/// How a fetch attempt ended.
enum Fetched {
    Complete,
    Later(String),
}

impl Engine {
    /// The largest attachment this node takes.
    pub fn attachment_limit(&self) -> u64 {
        self.inner.attachments.max_bytes
    }

    /// Stores a file the agency's case system (`uploader`, its TLS
    /// identity) hands over: its digest and size, for a notice to name.
    /// Uploading a file already here changes nothing.
    ///
    /// # Errors
    /// An empty file or one over the size limit (`invalid_argument`), or a
    /// store failure.
    pub async fn upload_attachment(
        &self,
        bytes: Vec<u8>,
        media_type: &str,
        uploader: &str,
        now: Timestamp,
    ) -> Result<([u8; 32], u64), Refusal> {
        let size = bytes.len() as u64;
        let max = self.inner.attachments.max_bytes;
        if size == 0 || size > max {
            return Err(Refusal::Invalid(ValidationError::invalid(
                "file",
                "1 byte to the node's attachment limit",
                format!("{size} bytes (limit {max})"),
            )));
        }
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();
        let custody = CustodyEntry::new(
            sha256,
            None,
            CustodyEvent::Uploaded,
            self.agency().clone(),
            uploader,
            now,
            size,
        )
        .sign(&self.inner.key);
        let media_type = media_type.to_owned();
        self.inner
            .commit
            .write(move |txn| {
                if txn.attachment(&sha256)?.is_some_and(|r| r.complete) {
                    return Ok(());
                }
                for (i, piece) in bytes.chunks(PIECE_BYTES).enumerate() {
                    txn.put_attachment_chunk(&sha256, piece_index(i)?, piece)?;
                }
                txn.put_attachment(
                    &sha256,
                    &AttachmentRecord {
                        size,
                        received: size,
                        complete: true,
                        media_type: media_type.clone(),
                        ..AttachmentRecord::default()
                    },
                )?;
                txn.add_custody(&sha256, None, &custody)
            })
            .await?;
        Ok((sha256, size))
    }

    /// Checks that every attachment a notice to be signed names is here,
    /// whole, with the size it states.
    pub(crate) fn check_attachments(&self, body: &NoticeBody) -> Result<(), Refusal> {
        for (i, a) in body.attachments.iter().enumerate() {
            let here = self.store().attachment(&a.sha256)?;
            let problem = match here {
                Some(r) if r.complete && r.size == a.size => continue,
                Some(r) if r.complete => {
                    format!("{} bytes here, the notice says {}", r.size, a.size)
                }
                _ => "not uploaded to this node".to_owned(),
            };
            return Err(Refusal::Invalid(
                ValidationError::invalid("sha256", "an attachment uploaded to this node", problem)
                    .within_item("attachments", i)
                    .within("draft"),
            ));
        }
        Ok(())
    }

    /// Serves a piece of an attachment to `peer`: from `offset` to the end
    /// of the piece holding it. Only to the notice's sender and recipients,
    /// only for a file the notice names; the last piece served records a
    /// custody entry.
    ///
    /// # Errors
    /// Not entitled, or not here (the same answer, `not_entitled`), an
    /// offset past the end, or a store failure.
    pub async fn serve_attachment(
        &self,
        peer: &AgencyId,
        notice_id: NoticeId,
        sha256: [u8; 32],
        offset: u64,
        now: Timestamp,
    ) -> Result<Vec<u8>, Refusal> {
        let refused = || Refusal::NotEntitled {
            peer: peer.to_string(),
            id: format!("{notice_id} (attachment {})", hex::encode(sha256)),
        };
        let named = self
            .store()
            .notice(&notice_id)?
            .filter(|n| {
                n.sender == peer.as_str() || n.recipients.iter().any(|r| r == peer.as_str())
            })
            .and_then(|n| SignedNotice::decode(&n.envelope).ok())
            .and_then(|n| n.open_body().ok())
            .is_some_and(|(_, body)| body.attachments.iter().any(|a| a.sha256 == sha256));
        let record = self.store().attachment(&sha256)?;
        let Some(record) = record.filter(|r| named && r.complete) else {
            return Err(refused());
        };
        if offset >= record.size {
            return Err(Refusal::Invalid(ValidationError::invalid(
                "offset",
                "below the attachment's size",
                format!("{offset} (size {})", record.size),
            )));
        }
        let index = offset / PIECE_BYTES as u64;
        let piece = self
            .store()
            .attachment_chunk(&sha256, u32::try_from(index).unwrap_or(u32::MAX))?
            .ok_or_else(|| {
                Refusal::Store(StoreError::Corrupt {
                    what: format!("attachment {} piece {index}", hex::encode(sha256)),
                    detail: "missing".into(),
                })
            })?;
        let start = usize::try_from(offset % PIECE_BYTES as u64).unwrap_or(0);
        let data = piece.get(start..).unwrap_or_default().to_vec();
        if offset + data.len() as u64 >= record.size
            && !self.served_before(peer, notice_id, &sha256)?
        {
            let entry = CustodyEntry::new(
                sha256,
                Some(notice_id),
                CustodyEvent::Served,
                self.agency().clone(),
                peer.as_str(),
                now,
                record.size,
            )
            .sign(&self.inner.key);
            self.inner
                .commit
                .write(move |txn| txn.add_custody(&sha256, Some(&notice_id), &entry))
                .await?;
        }
        Ok(data)
    }

    /// Whether this node already recorded serving this file with this
    /// notice to `peer` (a peer asking for the last piece again and again
    /// must not grow the log).
    fn served_before(
        &self,
        peer: &AgencyId,
        notice_id: NoticeId,
        sha256: &[u8; 32],
    ) -> Result<bool, Refusal> {
        Ok(self.store().custody(sha256)?.iter().any(|bytes| {
            CustodyEntry::read(bytes).is_ok_and(|e| {
                e.event == CustodyEvent::Served
                    && e.counterparty == peer.as_str()
                    && e.notice_id == Some(notice_id)
            })
        }))
    }

    /// Records the attachments a notice just accepted names, to be fetched
    /// from its sender (in the transaction that stores the notice).
    pub(crate) fn want_attachments(
        txn: &lintas_store::Transaction<'_>,
        id: &NoticeId,
        sender: &str,
        attachments: &[AttachmentRef],
    ) -> Result<(), StoreError> {
        for a in attachments {
            if txn.attachment(&a.sha256)?.is_some() {
                continue;
            }
            txn.put_attachment(
                &a.sha256,
                &AttachmentRecord {
                    size: a.size,
                    fetch_from: sender.to_owned(),
                    notice_id: id.as_bytes().to_vec(),
                    media_type: a.media_type.clone(),
                    ..AttachmentRecord::default()
                },
            )?;
        }
        Ok(())
    }

    /// A whole attachment, for the agency's case system (`who`, its TLS
    /// identity): only once fetched and verified. Records the hand-over.
    ///
    /// # Errors
    /// Not here or not yet verified (`not_found`), or a store failure.
    pub async fn hand_over_attachment(
        &self,
        sha256: [u8; 32],
        who: &str,
        now: Timestamp,
    ) -> Result<AttachmentRecord, Refusal> {
        let record = self
            .store()
            .attachment(&sha256)?
            .filter(|r| r.complete)
            .ok_or_else(|| not_here(&sha256))?;
        let notice = NoticeId::optional_from_bytes(&record.notice_id);
        let entry = CustodyEntry::new(
            sha256,
            notice,
            CustodyEvent::HandedOver,
            self.agency().clone(),
            who,
            now,
            record.size,
        )
        .sign(&self.inner.key);
        self.inner
            .commit
            .write(move |txn| txn.add_custody(&sha256, notice.as_ref(), &entry))
            .await?;
        Ok(record)
    }

    /// Piece `index` of a verified attachment.
    ///
    /// # Errors
    /// Not here, or a store failure.
    pub fn attachment_piece(&self, sha256: &[u8; 32], index: u32) -> Result<Vec<u8>, Refusal> {
        self.store()
            .attachment_chunk(sha256, index)?
            .ok_or_else(|| not_here(sha256))
    }

    /// Fetches the attachments waiting to be fetched, until `shutdown`:
    /// each from where it stopped, retried with backoff.
    pub async fn run_attachment_fetch<T: Transport>(
        &self,
        transport: std::sync::Arc<T>,
        shutdown: CancellationToken,
    ) {
        loop {
            let next = self.fetch_due(&*transport, &shutdown).await;
            let wait = next.unwrap_or(Duration::from_secs(60));
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.inner.attachment_wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One pass: fetches every attachment due; returns how long until the
    /// next is due.
    pub(crate) async fn fetch_due<T: Transport>(
        &self,
        transport: &T,
        shutdown: &CancellationToken,
    ) -> Option<Duration> {
        let pending = match self.store().attachments_to_fetch() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the attachments to fetch");
                return Some(Duration::from_secs(1));
            }
        };
        let mut next: Option<i64> = None;
        for (sha256, record) in pending {
            if shutdown.is_cancelled() {
                return None;
            }
            let now = Timestamp::now();
            if record.retry_at_ms > ms(now) {
                next = Some(next.map_or(record.retry_at_ms, |n| n.min(record.retry_at_ms)));
                continue;
            }
            match self.fetch_one(transport, sha256, record.clone()).await {
                Fetched::Complete => {}
                Fetched::Later(error) => {
                    let attempts = record.attempts.saturating_add(1);
                    let wait = self.inner.attachments.retry_after(attempts);
                    let retry_at =
                        ms(Timestamp::now()) + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                    tracing::warn!(attachment = %hex::encode(sha256), from = %record.fetch_from, attempts, %error, "attachment not fetched yet");
                    let failed = self
                        .inner
                        .commit
                        .write(move |txn| {
                            if let Some(mut r) = txn.attachment(&sha256)? {
                                r.attempts = attempts;
                                r.retry_at_ms = retry_at;
                                r.last_error = error.chars().take(512).collect();
                                txn.put_attachment(&sha256, &r)?;
                            }
                            Ok(())
                        })
                        .await;
                    if let Err(e) = failed {
                        tracing::warn!(error = %e, "cannot record a failed attachment fetch");
                    }
                    next = Some(next.map_or(retry_at, |n| n.min(retry_at)));
                }
            }
        }
        next.map(|at| {
            Duration::from_millis(
                u64::try_from(at - ms(Timestamp::now()))
                    .unwrap_or(0)
                    .max(50),
            )
        })
    }

    async fn fetch_one<T: Transport>(
        &self,
        transport: &T,
        sha256: [u8; 32],
        mut record: AttachmentRecord,
    ) -> Fetched {
        let Ok(from) = AgencyId::parse(&record.fetch_from) else {
            return Fetched::Later(format!("{} is not an agency id", record.fetch_from));
        };
        let Some(notice_id) = NoticeId::optional_from_bytes(&record.notice_id) else {
            return Fetched::Later("no notice to fetch it with".into());
        };
        if record.size > self.inner.attachments.max_bytes {
            return Fetched::Later(format!(
                "{} bytes, over this node's attachment limit of {}",
                record.size, self.inner.attachments.max_bytes
            ));
        }
        if record.received == 0 {
            let now = Timestamp::now();
            if !self
                .inner
                .attachment_quota
                .charge(&from, record.size.div_ceil(1024), now)
            {
                return Fetched::Later(format!(
                    "{from} used its daily attachment quota on this node"
                ));
            }
            // Kept at once (charges are rare): a restart does not hand the
            // peer a new day's worth, and replicas share one quota.
            let engine = self.clone();
            let shared = self.store().is_shared();
            let settled = tokio::task::spawn_blocking(move || {
                engine
                    .inner
                    .attachment_quota
                    .settle(engine.store(), now, shared)
            })
            .await;
            if let Ok(Err(e)) = settled {
                tracing::warn!(error = %e, "attachment quota not settled; settled with the next charge");
            }
        }
        while record.received < record.size {
            let offset = record.received;
            let expected = usize::try_from((record.size - offset).min(PIECE_BYTES as u64))
                .unwrap_or(PIECE_BYTES);
            let data = match transport
                .fetch_attachment(&from, notice_id, sha256, offset)
                .await
            {
                Ok(Ok(data)) => data,
                Ok(Err(refused)) => {
                    return Fetched::Later(format!("{}: {}", refused.reason, refused.message));
                }
                Err(unreachable) => return Fetched::Later(unreachable.to_string()),
            };
            if data.len() != expected {
                return Fetched::Later(format!(
                    "{from} served {} bytes at offset {offset}, expected {expected}",
                    data.len()
                ));
            }
            let index = match piece_index(
                usize::try_from(offset / PIECE_BYTES as u64).unwrap_or(usize::MAX),
            ) {
                Ok(i) => i,
                Err(e) => return Fetched::Later(e.to_string()),
            };
            record.received = offset + data.len() as u64;
            let progress = record.clone();
            let stored = self
                .inner
                .commit
                .write(move |txn| {
                    txn.put_attachment_chunk(&sha256, index, &data)?;
                    txn.put_attachment(&sha256, &progress)
                })
                .await;
            if let Err(e) = stored {
                return Fetched::Later(format!("cannot store a piece: {e}"));
            }
        }
        self.verify_fetched(sha256, record, &from, notice_id).await
    }

    /// Hashes the whole file as stored; keeps it (with a custody entry) if
    /// it is the file the notice names, else discards every piece.
    async fn verify_fetched(
        &self,
        sha256: [u8; 32],
        mut record: AttachmentRecord,
        from: &AgencyId,
        notice_id: NoticeId,
    ) -> Fetched {
        let mut hasher = Sha256::new();
        let pieces = usize::try_from(record.size.div_ceil(PIECE_BYTES as u64)).unwrap_or(0);
        for i in 0..pieces {
            match piece_index(i).map(|index| self.store().attachment_chunk(&sha256, index)) {
                Ok(Ok(Some(piece))) => hasher.update(&piece),
                _ => return Fetched::Later(format!("piece {i} missing from the store")),
            }
        }
        let digest: [u8; 32] = hasher.finalize().into();
        if digest != sha256 {
            self.inner.metrics.attachments_refused.inc();
            record.received = 0;
            let reset = record.clone();
            let _ = self
                .inner
                .commit
                .write(move |txn| {
                    txn.remove_attachment(&sha256)?;
                    txn.put_attachment(&sha256, &reset)
                })
                .await;
            return Fetched::Later(format!(
                "the bytes {from} served hash to {}, not to the digest the notice names: discarded",
                hex::encode(digest)
            ));
        }
        record.complete = true;
        record.last_error.clear();
        let entry = CustodyEntry::new(
            sha256,
            Some(notice_id),
            CustodyEvent::Received,
            self.agency().clone(),
            from.as_str(),
            Timestamp::now(),
            record.size,
        )
        .sign(&self.inner.key);
        let kept = self
            .inner
            .commit
            .write(move |txn| {
                txn.put_attachment(&sha256, &record)?;
                txn.add_custody(&sha256, Some(&notice_id), &entry)
            })
            .await;
        match kept {
            Ok(()) => {
                self.inner.metrics.attachments_fetched.inc();
                tracing::info!(attachment = %hex::encode(sha256), %from, "attachment fetched and verified");
                Fetched::Complete
            }
            Err(e) => Fetched::Later(format!("cannot record the verified attachment: {e}")),
        }
    }
}

fn piece_index(i: usize) -> Result<u32, StoreError> {
    u32::try_from(i).map_err(|_| StoreError::Corrupt {
        what: "attachment piece".into(),
        detail: format!("index {i} too large"),
    })
}
