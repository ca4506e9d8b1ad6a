//! Following the inbox: received notices in arrival order from a cursor,
//! then new ones as they arrive. The gRPC `SubscribeInbox` stream and the
//! embedded Rust API are both [`Engine::inbox`].
//!
//! A notice enters the inbox once (the store deduplicates by id), with the
//! next cursor. A case system that records the cursor of the last notice it
//! handled, with the notice, and resumes from it, sees every notice exactly
//! once across disconnects and restarts on either side.

use lintas_core::ids::NoticeId;
use lintas_core::notice::NoticeBody;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_store::StoreError;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;

use crate::Engine;

/// How many entries one read of the store returns.
const BATCH: usize = 64;

/// A received notice, verified by the node when it arrived.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReceivedNotice {
    /// Its inbox cursor.
    pub cursor: u64,
    /// Its id.
    pub id: NoticeId,
    /// The envelope exactly as received.
    pub envelope: SignedNotice,
    /// The decoded body.
    pub body: NoticeBody,
    /// The agency whose node delivered it (the sender or a permitted relay).
    pub delivered_by: String,
    /// When this node stored it.
    pub received_at: Timestamp,
}

/// Why following the inbox stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InboxError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored notice could not be read back.
    #[error("stored notice {cursor} unreadable: {detail}")]
    Unreadable {
        /// Its cursor.
        cursor: u64,
        /// What failed.
        detail: String,
    },
}

impl Engine {
    /// Received notices after cursor `after`, in order, then each new one as
    /// it arrives, until the engine closes or the stream is dropped. Record
    /// each notice's cursor with it and resume from there.
    pub fn inbox(
        &self,
        after: u64,
    ) -> impl Stream<Item = Result<ReceivedNotice, InboxError>> + use<> {
        follow(self.clone(), after)
    }

    /// Up to `limit` received notices with a cursor above `after`.
    ///
    /// # Errors
    /// Store failure.
    pub fn inbox_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<lintas_store::InboxEntry>, StoreError> {
        self.store().inbox_after(after, limit)
    }

    /// Waits until the inbox holds a cursor above `after` (or the engine
    /// closes).
    pub async fn wait_for_inbox(&self, after: u64) {
        let mut newest = self.inner.inbox.subscribe();
        while *newest.borrow_and_update() <= after {
            tokio::select! {
                changed = newest.changed() => if changed.is_err() { return },
                () = self.inner.closed.cancelled() => return,
            }
        }
    }
}

fn follow(engine: Engine, after: u64) -> impl Stream<Item = Result<ReceivedNotice, InboxError>> {
    let (tx, rx) = tokio::sync::mpsc::channel(BATCH);
    let mut newest = engine.inner.inbox.subscribe();
    tokio::spawn(async move {
        let mut cursor = after;
        loop {
            let from = cursor;
            let reader = engine.clone();
            let read = tokio::task::spawn_blocking(move || reader.store().inbox_after(from, BATCH))
                .await
                .unwrap_or_else(|e| {
                    Err(StoreError::Corrupt {
                        what: "inbox read".into(),
                        detail: e.to_string(),
                    })
                });
            let batch = match read {
                Ok(batch) => batch,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            if batch.is_empty() {
                tokio::select! {
                    () = engine.inner.closed.cancelled() => return,
                    changed = newest.changed() => if changed.is_err() { return },
                    () = tx.closed() => return,
                }
                continue;
            }
            for entry in batch {
                cursor = entry.cursor;
                if entry.notice.is_purged() {
                    // Removed under retention before the case system read
                    // it: nothing left to hand over.
                    continue;
                }
                let item = SignedNotice::decode(&entry.notice.envelope)
                    .map_err(|e| e.to_string())
                    .and_then(|envelope| {
                        let (_, body) = envelope.open_body().map_err(|e| e.to_string())?;
                        Ok(ReceivedNotice {
                            cursor: entry.cursor,
                            id: entry.id,
                            envelope,
                            body,
                            delivered_by: entry.notice.delivered_by.clone(),
                            received_at: Timestamp::from_unix(entry.notice.stored_at)
                                .unwrap_or_else(|_| Timestamp::now()),
                        })
                    })
                    .map_err(|detail| InboxError::Unreadable {
                        cursor: entry.cursor,
                        detail,
                    });
                if tx.send(item).await.is_err() {
                    return; // the follower went away
                }
            }
        }
    });
    ReceiverStream::new(rx)
}
