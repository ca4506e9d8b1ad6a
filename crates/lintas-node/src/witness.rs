//! Witnessing (docs/PROTOCOL.md sections 10.5, 10.7 and 10.8): this node
//! signs checkpoints of its log and offers them to every peer, which checks
//! each against the last one it cosigned and cosigns it; it does the same
//! for its peers' logs, compares what other witnesses pass on with what it
//! saw itself, and raises an alarm (kept as evidence, logged, counted, and
//! listed through the agency API) when a log forked.

use std::collections::BTreeMap;
use std::time::Duration;

use lintas_core::ValidationError;
use lintas_core::ids::AgencyId;
use lintas_core::time::Timestamp;
use lintas_core::transparency::checkpoint::{
    Checkpoint, CosignedCheckpoint, SignedCheckpoint, SignedCosignature, WitnessError,
    check_extension,
};
use lintas_core::transparency::entry::LogEntry;
use lintas_core::transparency::merkle::{self, Hash};
use lintas_core::transparency::proofs::{Comparison, ForkEvidence, InclusionProof, compare};
use lintas_store::StoreError;
use tokio_util::sync::CancellationToken;

use crate::transport::{PeerRefused, Transport};
use crate::{Engine, Refusal};

/// Alarms kept per log: a node that keeps showing forked checkpoints of
/// its own log cannot fill the witness's disk with evidence against
/// itself; the first ones prove the fork.
pub const MAX_ALARMS_PER_LOG: usize = 16;

/// A checkpoint offered for witnessing.
#[derive(Debug, Clone)]
pub struct WitnessRequest {
    /// The caller's checkpoint.
    pub checkpoint: SignedCheckpoint,
    /// The size the caller believes the witness last cosigned (0: none).
    pub old_size: u64,
    /// Consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The latest checkpoints of other logs the caller cosigned.
    pub gossip: Vec<SignedCheckpoint>,
}

/// A witness's answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WitnessAnswer {
    /// Checked and cosigned.
    Cosigned(SignedCosignature),
    /// The witness last cosigned a checkpoint of this size, not
    /// `old_size`: offer again with a proof from it.
    KnownSize(u64),
}

/// What one witnessing round did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WitnessRound {
    /// The size of the checkpoint offered.
    pub size: u64,
    /// Peers that cosigned it.
    pub cosigned_by: Vec<AgencyId>,
    /// Peers that could not be reached or refused.
    pub failed: Vec<AgencyId>,
    /// Alarms raised in this round (including by checks of gossip).
    pub alarms: u64,
}

/// A checkpoint passed on by another witness that this node could not
/// compare with its own yet: the log's node must prove one extends the
/// other.
#[derive(Debug, Clone)]
pub(crate) struct PendingCheck {
    /// The last checkpoint of the log this node cosigned.
    pub(crate) own: SignedCheckpoint,
    /// The one passed on.
    pub(crate) other: SignedCheckpoint,
    /// Who passed it on.
    pub(crate) shown_by: AgencyId,
}

/// Witnessing state kept in memory: checks waiting for a proof (one per
/// log, the newest replacing the older, so they stay bounded by the
/// roster).
#[derive(Debug, Default)]
pub(crate) struct Witnessing {
    pub(crate) pending: BTreeMap<AgencyId, PendingCheck>,
}

/// The stored decision of a witness check.
enum Verdict {
    Cosign,
    KnownSize(u64),
    Fork(Box<ForkEvidence>),
}

fn read_checkpoint(bytes: &[u8], what: &str) -> Result<SignedCheckpoint, StoreError> {
    SignedCheckpoint::from_bytes(bytes).map_err(|e| corrupt_store(what, e))
}

impl Engine {
    /// Signs a checkpoint of this node's log as it is now.
    ///
    /// # Errors
    /// A store failure or a damaged log.
    pub fn sign_checkpoint(&self, now: Timestamp) -> Result<SignedCheckpoint, Refusal> {
        let store = self.store();
        let size = store.log_size()?;
        let root = merkle::root(store, size).map_err(proof_failure)?;
        let checkpoint = Checkpoint {
            origin: self.agency().clone(),
            size,
            root,
            at: now,
        };
        Ok(SignedCheckpoint::sign(&checkpoint, &self.inner.key))
    }

    /// Proves this node's log of `old_size` entries is a prefix of its log
    /// of `new_size` entries.
    ///
    /// # Errors
    /// Sizes out of order or beyond the log; a store failure.
    pub fn prove_consistency(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, Refusal> {
        let size = self.store().log_size()?;
        if new_size > size {
            return Err(Refusal::Invalid(ValidationError::invalid(
                "new_size",
                "at most the log's size",
                format!("{new_size} (the log has {size} entries)"),
            )));
        }
        if old_size > new_size {
            return Err(Refusal::Invalid(ValidationError::invalid(
                "old_size",
                "at most new_size",
                old_size.to_string(),
            )));
        }
        merkle::consistency_proof(self.store(), old_size, new_size).map_err(proof_failure)
    }

    /// Proves that `entry` (the exact encoded `LogEntry`) is in this node's
    /// log, against the largest checkpoint its witnesses cosigned, or a
    /// checkpoint signed now (no cosignatures yet) when the entry is newer
    /// than that.
    ///
    /// # Errors
    /// No such entry (`not_found`), or a store failure.
    pub fn prove_inclusion(&self, entry: &[u8], now: Timestamp) -> Result<InclusionProof, Refusal> {
        let index = self
            .store()
            .log_index_of(&LogEntry::digest_of(entry))?
            .ok_or_else(|| Refusal::NotFound("no such entry in this node's log".into()))?;
        let checkpoint = match self.cosigned_checkpoint()? {
            Some(c) if c.0 > index => c.1,
            _ => CosignedCheckpoint {
                checkpoint: self.sign_checkpoint(now)?,
                cosignatures: Vec::new(),
            },
        };
        let size = checkpoint
            .checkpoint
            .checkpoint_unverified()
            .map_err(|e| corrupt("checkpoint", e))?
            .size;
        let proof = merkle::inclusion_proof(self.store(), index, size).map_err(proof_failure)?;
        Ok(InclusionProof {
            index,
            proof,
            checkpoint,
        })
    }

    /// The largest checkpoint of this node's log its witnesses cosigned,
    /// with every cosignature gathered for it, and its size.
    ///
    /// # Errors
    /// A store failure or a damaged record.
    pub fn cosigned_checkpoint(&self) -> Result<Option<(u64, CosignedCheckpoint)>, Refusal> {
        let mut best: Option<(u64, CosignedCheckpoint)> = None;
        for (_, size, bytes) in self.store().cosigned()? {
            let cosigned = CosignedCheckpoint::from_bytes(&bytes)
                .map_err(|e| corrupt("cosigned checkpoint", e))?;
            match &mut best {
                Some((_, b)) if b.checkpoint == cosigned.checkpoint => {
                    b.cosignatures.extend(cosigned.cosignatures);
                }
                Some((s, _)) if *s >= size => {}
                _ => best = Some((size, cosigned)),
            }
        }
        Ok(best)
    }

    /// Every alarm this node raised, oldest first.
    ///
    /// # Errors
    /// A store failure or a damaged record.
    pub fn log_alarms(&self) -> Result<Vec<ForkEvidence>, Refusal> {
        self.store()
            .log_alarms()?
            .into_iter()
            .map(|(_, bytes)| ForkEvidence::from_bytes(&bytes).map_err(|e| corrupt("log alarm", e)))
            .collect()
    }

    /// Witnesses `request`, offered by `from`: checks the checkpoint is
    /// `from`'s, signed with a key valid in the roster, and extends the
    /// last checkpoint cosigned from that log; compares the gossip with
    /// what this node cosigned itself; and cosigns.
    ///
    /// # Errors
    /// A bad signature, another agency's log (`not_log_origin`), too much
    /// gossip, a log that does not extend what was cosigned before
    /// (`log_inconsistent`: the alarm is raised and the evidence kept), or
    /// a store failure.
    pub async fn witness(
        &self,
        from: &AgencyId,
        request: WitnessRequest,
        now: Timestamp,
    ) -> Result<WitnessAnswer, Refusal> {
        let offered = request.checkpoint.verify(&self.roster(), now)?;
        if &offered.origin != from {
            return Err(Refusal::NotLogOrigin {
                peer: from.to_string(),
                origin: offered.origin.to_string(),
            });
        }
        let limit = self.roster().roster().agencies.len();
        let mut origins = std::collections::BTreeSet::new();
        let repeated = request
            .gossip
            .iter()
            .find(|g| !origins.insert(g.signer().clone()));
        let found = match repeated {
            Some(g) => Some(format!("two checkpoints of {}'s log", g.signer())),
            None if request.gossip.len() > limit => {
                Some(format!("{} checkpoints", request.gossip.len()))
            }
            None => None,
        };
        if let Some(found) = found {
            return Err(Refusal::Invalid(ValidationError::invalid(
                "gossip",
                "at most one checkpoint per roster agency",
                found,
            )));
        }
        let keep_evidence = self.alarms_about(from)? < MAX_ALARMS_PER_LOG;
        let verdict = {
            let signed = request.checkpoint.clone();
            let offered = offered.clone();
            let (old_size, proof) = (request.old_size, request.proof.clone());
            let from = from.clone();
            self.inner
                .commit
                .write(move |txn| {
                    let seen = match txn.witnessed(from.as_str())? {
                        Some(bytes) => Some(read_checkpoint(&bytes, "witnessed checkpoint")?),
                        None => None,
                    };
                    let verdict = judge(seen.as_ref(), &signed, &offered, old_size, &proof, now)?;
                    match &verdict {
                        Verdict::Cosign => {
                            txn.set_witnessed(from.as_str(), &signed.to_bytes())?;
                        }
                        Verdict::Fork(evidence) if keep_evidence => {
                            txn.raise_log_alarm(&evidence.to_bytes())?;
                        }
                        Verdict::Fork(_) => {}
                        Verdict::KnownSize(_) => {}
                    }
                    Ok(verdict)
                })
                .await?
        };
        self.check_gossip(from, request.gossip, now).await?;
        match verdict {
            Verdict::Cosign => Ok(WitnessAnswer::Cosigned(SignedCosignature::sign(
                &request.checkpoint,
                self.agency(),
                now,
                &self.inner.key,
            ))),
            Verdict::KnownSize(size) => Ok(WitnessAnswer::KnownSize(size)),
            Verdict::Fork(evidence) => {
                self.alarm(&evidence);
                Err(Refusal::LogInconsistent(evidence.detail))
            }
        }
    }

    /// Compares each checkpoint a witness passed on with the last one this
    /// node cosigned from the same log: one size with two roots raises the
    /// alarm at once; different sizes wait for the log's node to prove one
    /// extends the other (the next round asks it).
    async fn check_gossip(
        &self,
        shown_by: &AgencyId,
        gossip: Vec<SignedCheckpoint>,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        if gossip.is_empty() {
            return Ok(());
        }
        let witnessed: BTreeMap<String, Vec<u8>> =
            self.store().witnessed_logs()?.into_iter().collect();
        for other in gossip {
            let Ok(theirs) = other.verify(&self.roster(), now) else {
                // A checkpoint that does not verify proves nothing about
                // its log; the witness passing it on is not the origin.
                continue;
            };
            if &theirs.origin == self.agency() || &theirs.origin == shown_by {
                continue;
            }
            let Some(own_bytes) = witnessed.get(theirs.origin.as_str()) else {
                continue;
            };
            let own = read_checkpoint(own_bytes, "witnessed checkpoint")?;
            let ours = own
                .checkpoint_unverified()
                .map_err(|e| corrupt("witnessed checkpoint", e))?;
            match compare(&ours, &theirs) {
                Comparison::Same => {}
                Comparison::Fork => {
                    let evidence = ForkEvidence {
                        origin: theirs.origin.clone(),
                        earlier: own,
                        later: other,
                        proof: Vec::new(),
                        detail: format!(
                            "two checkpoints of {} entries with different roots",
                            theirs.size
                        ),
                        detected_at: now,
                        shown_by: shown_by.clone(),
                    };
                    self.keep_alarm(evidence).await?;
                }
                Comparison::NeedsProof { .. } => {
                    if let Ok(mut w) = self.inner.witnessing.lock() {
                        w.pending.insert(
                            theirs.origin.clone(),
                            PendingCheck {
                                own,
                                other,
                                shown_by: shown_by.clone(),
                            },
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// How many alarms are kept about `origin`'s log.
    fn alarms_about(&self, origin: &AgencyId) -> Result<usize, Refusal> {
        Ok(self
            .log_alarms()?
            .iter()
            .filter(|a| &a.origin == origin)
            .count())
    }

    /// Stores the evidence (up to [`MAX_ALARMS_PER_LOG`] per log) and
    /// raises the alarm.
    async fn keep_alarm(&self, evidence: ForkEvidence) -> Result<(), Refusal> {
        if self.alarms_about(&evidence.origin)? >= MAX_ALARMS_PER_LOG {
            self.alarm(&evidence);
            return Ok(());
        }
        let bytes = evidence.to_bytes();
        self.inner
            .commit
            .write(move |txn| txn.raise_log_alarm(&bytes))
            .await?;
        self.alarm(&evidence);
        Ok(())
    }

    /// The alarm an operator sees: an error in the node's log and a metric.
    fn alarm(&self, evidence: &ForkEvidence) {
        self.inner.metrics.log_alarms.inc();
        tracing::error!(
            origin = %evidence.origin,
            shown_by = %evidence.shown_by,
            detail = %evidence.detail,
            "LOG FORK: {}'s log does not extend the checkpoint this node cosigned; evidence kept (ListLogAlarms)",
            evidence.origin
        );
    }

    /// One witnessing round: signs a checkpoint of the log, offers it to
    /// every other agency in the roster with the gossip of what this node
    /// cosigned, keeps the cosignatures, and asks the nodes of logs whose
    /// passed-on checkpoints wait for a proof to prove them.
    pub async fn witness_round<T: Transport>(&self, transport: &T, now: Timestamp) -> WitnessRound {
        let mut round = WitnessRound::default();
        let alarms_before = self.inner.metrics.log_alarms.get();
        match self.offer_checkpoint(transport, now, &mut round).await {
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "cannot sign a checkpoint of the log"),
        }
        self.settle_pending(transport, now).await;
        round.alarms = self.inner.metrics.log_alarms.get() - alarms_before;
        round
    }

    async fn offer_checkpoint<T: Transport>(
        &self,
        transport: &T,
        now: Timestamp,
        round: &mut WitnessRound,
    ) -> Result<(), Refusal> {
        let signed = self.sign_checkpoint(now)?;
        let checkpoint = signed
            .checkpoint_unverified()
            .map_err(|e| corrupt("checkpoint", e))?;
        round.size = checkpoint.size;
        let gossip: Vec<SignedCheckpoint> = self
            .store()
            .witnessed_logs()?
            .iter()
            .filter_map(|(_, bytes)| read_checkpoint(bytes, "witnessed checkpoint").ok())
            .collect();
        let known: BTreeMap<String, u64> = self
            .store()
            .cosigned()?
            .into_iter()
            .map(|(w, size, _)| (w, size))
            .collect();
        let peers: Vec<AgencyId> = self
            .roster()
            .roster()
            .agencies
            .keys()
            .filter(|a| *a != self.agency())
            .cloned()
            .collect();
        for peer in peers {
            let mut old_size = known.get(peer.as_str()).copied().unwrap_or(0);
            let mut outcome = Err(String::new());
            // Offered at most twice: again from the size the witness says
            // it knows.
            for _ in 0..2 {
                let proof =
                    match self.prove_consistency(old_size.min(checkpoint.size), checkpoint.size) {
                        Ok(p) => p,
                        Err(e) => {
                            outcome = Err(e.to_string());
                            break;
                        }
                    };
                let request = WitnessRequest {
                    checkpoint: signed.clone(),
                    old_size,
                    proof,
                    gossip: gossip.clone(),
                };
                match transport.witness(&peer, request).await {
                    Ok(Ok(WitnessAnswer::Cosigned(c))) => {
                        outcome = self
                            .keep_cosignature(&peer, &signed, c, checkpoint.size, now)
                            .await;
                        break;
                    }
                    Ok(Ok(WitnessAnswer::KnownSize(size)))
                        if size != old_size && size <= checkpoint.size =>
                    {
                        old_size = size;
                    }
                    Ok(Ok(WitnessAnswer::KnownSize(size))) => {
                        outcome = Err(format!(
                            "{peer} last cosigned a checkpoint of {size} entries; this log has {}",
                            checkpoint.size
                        ));
                        break;
                    }
                    Ok(Err(PeerRefused { reason, message })) => {
                        if reason == "log_inconsistent" {
                            tracing::error!(%peer, %message, "a witness found this node's log inconsistent with what it cosigned before");
                        }
                        outcome = Err(format!("{reason}: {message}"));
                        break;
                    }
                    Err(unreachable) => {
                        outcome = Err(unreachable.to_string());
                        break;
                    }
                }
            }
            match outcome {
                Ok(()) => round.cosigned_by.push(peer),
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "checkpoint not cosigned");
                    round.failed.push(peer);
                }
            }
        }
        Ok(())
    }

    async fn keep_cosignature(
        &self,
        peer: &AgencyId,
        signed: &SignedCheckpoint,
        cosignature: SignedCosignature,
        size: u64,
        now: Timestamp,
    ) -> Result<(), String> {
        let c = cosignature
            .verify(signed, &self.roster(), now)
            .map_err(|e| format!("the cosignature does not verify: {e}"))?;
        if &c.witness != peer {
            return Err(format!("a cosignature by {} from {peer}", c.witness));
        }
        let bytes = CosignedCheckpoint {
            checkpoint: signed.clone(),
            cosignatures: vec![cosignature],
        }
        .to_bytes();
        let witness = peer.to_string();
        self.inner
            .commit
            .write(move |txn| txn.record_cosigned(&witness, size, &bytes))
            .await
            .map_err(|e| e.to_string())
    }

    /// Asks the node of each log with a passed-on checkpoint waiting for a
    /// proof to prove one checkpoint extends the other; a proof that fails
    /// raises the alarm, an unreachable node is asked again next round.
    async fn settle_pending<T: Transport>(&self, transport: &T, now: Timestamp) {
        let pending: Vec<(AgencyId, PendingCheck)> = match self.inner.witnessing.lock() {
            Ok(w) => w
                .pending
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Err(_) => return,
        };
        for (origin, check) in pending {
            let (Ok(own), Ok(other)) = (
                check.own.checkpoint_unverified(),
                check.other.checkpoint_unverified(),
            ) else {
                self.forget_pending(&origin);
                continue;
            };
            let (earlier, later, e, l) = if own.size <= other.size {
                (&check.own, &check.other, own, other)
            } else {
                (&check.other, &check.own, other, own)
            };
            let proof = match transport.prove_consistency(&origin, e.size, l.size).await {
                Ok(Ok(proof)) => proof,
                Ok(Err(refused)) => {
                    // The node refuses to prove what it signed: the
                    // evidence stands with no proof.
                    tracing::warn!(%origin, reason = %refused.reason, "a log's node refused a consistency proof");
                    Vec::new()
                }
                Err(_) => continue,
            };
            self.forget_pending(&origin);
            if merkle::verify_consistency(e.size, &e.root, l.size, &l.root, &proof).is_ok() {
                continue;
            }
            let evidence = ForkEvidence {
                origin: origin.clone(),
                earlier: earlier.clone(),
                later: later.clone(),
                proof,
                detail: format!(
                    "{origin}'s node gave no valid proof that its checkpoint of {} entries is a prefix of its checkpoint of {} entries (one cosigned here, the other shown by {})",
                    e.size, l.size, check.shown_by
                ),
                detected_at: now,
                shown_by: check.shown_by.clone(),
            };
            if let Err(e) = self.keep_alarm(evidence).await {
                tracing::error!(%origin, error = %e, "cannot keep the evidence of a log fork");
            }
        }
    }

    fn forget_pending(&self, origin: &AgencyId) {
        if let Ok(mut w) = self.inner.witnessing.lock() {
            w.pending.remove(origin);
        }
    }

    /// Runs [`Engine::witness_round`] every `every` until `shutdown`.
    pub async fn run_witnessing<T: Transport>(
        &self,
        transport: std::sync::Arc<T>,
        every: Duration,
        shutdown: CancellationToken,
    ) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            let round = self.witness_round(&*transport, Timestamp::now()).await;
            tracing::debug!(
                size = round.size,
                cosigned = round.cosigned_by.len(),
                failed = round.failed.len(),
                "witnessing round"
            );
        }
    }
}

/// What a witness decides about `offered` (signed as `signed`), given the
/// last checkpoint it cosigned from that log.
fn judge(
    seen: Option<&SignedCheckpoint>,
    signed: &SignedCheckpoint,
    offered: &Checkpoint,
    old_size: u64,
    proof: &[Hash],
    now: Timestamp,
) -> Result<Verdict, StoreError> {
    let Some(seen_signed) = seen else {
        // The first checkpoint seen from this log: trusted on first use.
        return Ok(if old_size == 0 {
            Verdict::Cosign
        } else {
            Verdict::KnownSize(0)
        });
    };
    let seen = seen_signed
        .checkpoint_unverified()
        .map_err(|e| corrupt_store("witnessed checkpoint", e))?;
    if old_size != seen.size {
        return Ok(Verdict::KnownSize(seen.size));
    }
    match check_extension(&seen, offered, proof) {
        Ok(()) => Ok(Verdict::Cosign),
        Err(e @ (WitnessError::Shrunk { .. } | WitnessError::Inconsistent(_))) => {
            Ok(Verdict::Fork(Box::new(ForkEvidence {
                origin: offered.origin.clone(),
                earlier: seen_signed.clone(),
                later: signed.clone(),
                proof: proof.to_vec(),
                detail: e.to_string(),
                detected_at: now,
                shown_by: offered.origin.clone(),
            })))
        }
        Err(e) => Err(corrupt_store("witnessed checkpoint", e)),
    }
}

fn corrupt_store(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what: what.to_owned(),
        detail: e.to_string(),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Refusal {
    Refusal::Store(corrupt_store(what, e))
}

fn proof_failure<E: std::fmt::Display>(e: merkle::ProofError<E>) -> Refusal {
    match e {
        merkle::ProofError::OutOfRange(detail) => {
            Refusal::Invalid(ValidationError::invalid("size", "within the log", detail))
        }
        other => corrupt("log", other),
    }
}
