//! The engine's state and start-up: who this node is, the roster it
//! trusts, its store, and the shared pieces the other modules use.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use lintas_core::ids::AgencyId;
use lintas_core::keys::SigningKey;
use lintas_core::roster::{RosterError, SignedRoster, TrustedRoster, VerifiedNotice};
use lintas_core::time::Timestamp;
use lintas_store::{Direction, Store, StoreError, StoredNotice};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::Refusal;
use crate::commit::GroupCommit;
use crate::metrics::Metrics;
use crate::schedule::{DeliveryConfig, Scheduler};

/// Why an engine could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The roster offered is older than the one stored, or invalid.
    #[error("roster: {0}")]
    Roster(#[from] RosterError),
    /// This node's agency or key is not in the roster.
    #[error("{0}")]
    NotInRoster(String),
    /// The writer thread could not be started.
    #[error("cannot start the store writer: {0}")]
    Thread(#[from] std::io::Error),
}

/// What a node decides, with no transport of its own. Cheap to clone: all
/// clones are the same engine.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) agency: AgencyId,
    pub(crate) key: SigningKey,
    pub(crate) roster: RwLock<TrustedRoster>,
    /// Held while a roster update is checked, stored and swapped in.
    pub(crate) roster_install: tokio::sync::Mutex<()>,
    pub(crate) store: Arc<Store>,
    pub(crate) commit: GroupCommit,
    /// The last sequence number handed out.
    pub(crate) sequence: AtomicU64,
    /// The newest inbox cursor; followers wait on changes.
    pub(crate) inbox: watch::Sender<u64>,
    /// What to send next, to whom.
    pub(crate) scheduler: Mutex<Scheduler>,
    /// Wakes the delivery loop.
    pub(crate) outbox_wake: Notify,
    pub(crate) metrics: Arc<Metrics>,
    /// Receipts recorded for notices sent from here, as they come.
    pub(crate) receipt_events: tokio::sync::broadcast::Sender<ReceiptEvent>,
    /// Cancelled when the engine closes: inbox streams end with it.
    pub(crate) closed: CancellationToken,
    /// Checks of peers' logs waiting for a proof.
    pub(crate) witnessing: Mutex<crate::witness::Witnessing>,
    /// Attachment limits.
    pub(crate) attachments: crate::attachments::AttachmentConfig,
    /// What each peer's notices may still make this node fetch today.
    pub(crate) attachment_quota: crate::quota::PeerQuotas,
    /// Wakes the attachment fetch loop.
    pub(crate) attachment_wake: Notify,
    /// Which protected parts each recipient is given.
    pub(crate) disclosure: crate::disclosure::DisclosureRules,
    /// How long personal data is kept.
    pub(crate) retention: lintas_core::retention::RetentionPolicy,
    /// Identifier matching: key, tags, peers' budgets.
    pub(crate) matching: crate::matching::Matching,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("agency", &self.agency)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Starts the engine of `agency` (signing with `key`) on `store`.
    ///
    /// The roster kept is the newer of `offered` and the one stored; an
    /// offered version older than the stored one is refused (no rollback
    /// across restarts). The outbox and each peer's retry state are read
    /// back, so deliveries resume where they stopped.
    ///
    /// # Errors
    /// Store failure, roster rollback, or this agency and key not in the
    /// roster.
    pub fn open(
        agency: AgencyId,
        key: SigningKey,
        offered: TrustedRoster,
        store: Arc<Store>,
        delivery: DeliveryConfig,
    ) -> Result<Engine, EngineError> {
        let now = Timestamp::now();
        let roster = settle_roster(&store, offered, now)?;
        {
            let entry = roster.roster().agency(&agency).ok_or_else(|| {
                EngineError::NotInRoster(format!("agency {agency} is not in the roster"))
            })?;
            if entry.key(key.key_id()).map(|k| k.public_key) != Some(key.public_key()) {
                return Err(EngineError::NotInRoster(format!(
                    "key {} is not {agency}'s key in the roster",
                    key.key_id()
                )));
            }
        }
        let newest = store.last_inbox_cursor()?;
        let sequence = store.last_sequence()?;
        let scheduler = Scheduler::load(&store, delivery, now, tokio::time::Instant::now())?;
        let metrics = Arc::new(Metrics::new());
        metrics
            .outbox_entries
            .set(i64::try_from(scheduler.len()).unwrap_or(i64::MAX));
        let (inbox, _) = watch::channel(newest);
        let commit = GroupCommit::start(Arc::clone(&store), Arc::clone(&metrics))?;
        let attachment_quota = crate::quota::PeerQuotas::of_kind(
            delivery.attachments.kib_per_peer_per_day,
            crate::attachments::QUOTA_KIND,
        );
        attachment_quota.load(&store)?;
        let matching = crate::matching::Matching::new(
            lintas_core::matching::MatchKey::of_signing_key(&key),
            delivery.matching,
        );
        Ok(Engine {
            inner: Arc::new(Inner {
                agency,
                key,
                roster: RwLock::new(roster),
                store,
                commit,
                sequence: AtomicU64::new(sequence),
                inbox,
                scheduler: Mutex::new(scheduler),
                outbox_wake: Notify::new(),
                metrics,
                receipt_events: tokio::sync::broadcast::channel(4096).0,
                closed: CancellationToken::new(),
                roster_install: tokio::sync::Mutex::new(()),
                witnessing: Mutex::new(crate::witness::Witnessing::default()),
                attachments: delivery.attachments,
                disclosure: delivery.disclosure,
                retention: delivery.retention,
                matching,
                attachment_quota,
                attachment_wake: Notify::new(),
            }),
        })
    }

    /// This node's agency.
    pub fn agency(&self) -> &AgencyId {
        &self.inner.agency
    }

    /// The roster trusted now. A poisoned lock still holds a whole roster
    /// (it is replaced in one assignment), so it is used as is.
    pub fn roster(&self) -> RwLockReadGuard<'_, TrustedRoster> {
        self.inner.roster.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Installs the next roster version while the node runs
    /// (docs/PROTOCOL.md section 6.4): it must be exactly the trusted
    /// version + 1 and pass every update rule of section 6.3. It is stored
    /// durably first, then used for every later call: peers' TLS identities,
    /// verification, keys and revocations, what agencies may issue, their
    /// endpoints. Returns the version now trusted.
    ///
    /// # Errors
    /// [`Refusal::Roster`] when the update rules refuse it; a store failure.
    pub async fn install_roster(&self, next: SignedRoster, now: Timestamp) -> Result<u64, Refusal> {
        let _one_at_a_time = self.inner.roster_install.lock().await;
        let mut updated = self.roster().clone();
        updated.update(next, now).map_err(Refusal::Roster)?;
        let version = updated.roster().version;
        let me = self.agency().clone();
        if updated.roster().agency(&me).is_none() {
            tracing::warn!(agency = %me, version, "the installed roster no longer lists this agency: peers will refuse its notices");
        }
        let bytes = updated.signed().encode();
        self.inner
            .commit
            .write(move |txn| txn.save_roster(&bytes))
            .await?;
        *self.inner.roster.write().unwrap_or_else(|e| e.into_inner()) = updated;
        tracing::info!(version, "roster installed");
        Ok(version)
    }

    /// The store, shared (for health checks and recovery).
    pub fn store_handle(&self) -> &Arc<Store> {
        &self.inner.store
    }

    /// The store (for reads; every write goes through the engine).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The node's counters.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.inner.metrics)
    }

    /// Entries waiting in the outbox.
    pub fn outbox_len(&self) -> usize {
        self.scheduler().len()
    }

    /// Ends inbox streams and stops accepting work; the delivery loop stops
    /// with its own shutdown signal.
    pub fn close(&self) {
        self.inner.closed.cancel();
    }

    /// Closes the engine: ends inbox streams, writes what is waiting, stops
    /// the store's writer and closes the store file, so that another
    /// engine (after a restart) can open it. Calls after this fail with a
    /// store error. Stop the delivery loop first.
    pub async fn shutdown(&self) {
        self.close();
        self.inner.commit.stop().await;
        self.inner.store.close();
    }

    /// Whether [`Engine::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.is_cancelled()
    }

    pub(crate) fn scheduler(&self) -> MutexGuard<'_, Scheduler> {
        self.inner
            .scheduler
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The next sequence number of this agency's notices. Replicas sharing
    /// a store take it from the store (one number never goes to two
    /// notices); a node alone counts in memory and records the highest
    /// used with each notice.
    pub(crate) async fn next_sequence(&self) -> Result<u64, StoreError> {
        if self.inner.store.is_shared() {
            return self.inner.commit.write(|txn| txn.reserve_sequence()).await;
        }
        Ok(self.inner.sequence.fetch_add(1, Ordering::SeqCst) + 1)
    }

    pub(crate) fn count_refusal(&self, reason: &'static str) {
        self.inner.metrics.count_refusal(reason);
    }
}

/// A receipt recorded for a notice this node sent.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReceiptEvent {
    /// The notice.
    pub notice_id: lintas_core::ids::NoticeId,
    /// The recipient that signed it.
    pub receiver: String,
    /// Its stage.
    pub stage: lintas_core::vocab::ReceiptStage,
    /// The signed receipt.
    pub receipt: lintas_core::receipt::SignedReceipt,
}

impl Engine {
    /// Receipts for notices sent from here as they are recorded, from now
    /// on. A subscriber that falls more than 4,096 events behind gets
    /// `Err(missed)` and continues.
    pub fn receipt_events(
        &self,
    ) -> impl tokio_stream::Stream<Item = Result<ReceiptEvent, u64>> + use<> {
        use tokio::sync::broadcast::error::RecvError;
        let mut events = self.inner.receipt_events.subscribe();
        let closed = self.inner.closed.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    () = closed.cancelled() => return,
                    () = tx.closed() => return,
                    next = events.recv() => next,
                };
                let item = match next {
                    Ok(event) => Ok(event),
                    Err(RecvError::Lagged(missed)) => Err(missed),
                    Err(RecvError::Closed) => return,
                };
                if tx.send(item).await.is_err() {
                    return;
                }
            }
        });
        tokio_stream::wrappers::ReceiverStream::new(rx)
    }

    pub(crate) fn publish_receipt(&self, event: ReceiptEvent) {
        self.inner.metrics.count_receipt("received", event.stage);
        // Nobody listening is fine.
        let _ = self.inner.receipt_events.send(event);
    }
}

/// What the node keeps about a notice, for indexing.
pub(crate) fn stored(
    verified: &VerifiedNotice,
    direction: Direction,
    delivered_by: &AgencyId,
    now: Timestamp,
) -> StoredNotice {
    let body = &verified.body;
    StoredNotice {
        envelope: verified.envelope.encode(),
        direction: direction as i32,
        stored_at: now.unix_seconds(),
        case_id: body
            .case_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        kind: body.kind().to_wire(),
        sender: body.sender.to_string(),
        recipients: body.recipients.iter().map(ToString::to_string).collect(),
        created_at: body.created_at.unix_seconds(),
        response_deadline: body
            .handling
            .response_deadline
            .map(|d| d.unix_seconds())
            .unwrap_or(0),
        expires_at: body.expires_at.unix_seconds(),
        inbox_cursor: 0,
        delivered_by: delivered_by.to_string(),
        created_at_nanos: body.created_at.subsec_nanos(),
        given: Vec::new(),
        tombstone: Vec::new(),
    }
}

impl Engine {
    /// What each of `recipients` is given of the protected parts of
    /// `body` (opened: this node holds the values), by this node's rules.
    pub(crate) fn views(
        &self,
        body: &lintas_core::notice::NoticeBody,
        recipients: &[AgencyId],
    ) -> Vec<lintas_store::GivenParts> {
        let roster = self.roster();
        recipients
            .iter()
            .map(|r| {
                let kind = roster
                    .roster()
                    .agency(r)
                    .map(|a| a.kind)
                    .unwrap_or(lintas_core::vocab::AgencyKind::Unrecognized(0));
                lintas_store::GivenParts {
                    recipient: r.to_string(),
                    commitments: self
                        .inner
                        .disclosure
                        .view(body, r, kind)
                        .iter()
                        .map(|c| c.as_bytes().to_vec())
                        .collect(),
                }
            })
            .collect()
    }
}

/// Keeps the newer of the offered roster and the stored one; refuses an
/// offered version older than the stored one.
fn settle_roster(
    store: &Store,
    offered: TrustedRoster,
    now: Timestamp,
) -> Result<TrustedRoster, EngineError> {
    let Some(bytes) = store.roster()? else {
        store.save_roster(&offered.signed().encode())?;
        return Ok(offered);
    };
    let signed = SignedRoster::decode(&bytes).map_err(RosterError::Invalid)?;
    let mut stored = TrustedRoster::bootstrap(signed, now)?;
    let stored_version = stored.roster().version;
    let offered_version = offered.roster().version;
    if offered_version < stored_version {
        return Err(RosterError::Rollback {
            trusted: stored_version,
            offered: offered_version,
        }
        .into());
    }
    if offered_version > stored_version {
        stored.update(offered.signed().clone(), now)?;
        store.save_roster(&stored.signed().encode())?;
    }
    Ok(stored)
}
