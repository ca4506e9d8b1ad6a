//! How the engine reaches its peers: a small trait a transport implements
//! (lintas-grpc's client; an offline bundle writer later), and an
//! in-memory network of engines for tests and simulations.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::receipt::SignedReceipt;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;

use lintas_core::transparency::merkle::Hash;
use lintas_core::transparency::proofs::InclusionProof;

use lintas_core::matching::ELEMENT_BYTES;
use lintas_core::vocab::IdentifierKind;

use crate::matching::MatchAnswer;
use crate::witness::{WitnessAnswer, WitnessRequest};
use crate::{Accepted, Engine, Inbound, Refusal};

/// Something to hand a peer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outbound {
    /// A notice for the peer to accept.
    Notice(SignedNotice),
    /// A receipt for a notice the peer sent.
    Receipt(SignedReceipt),
}

/// A peer's answer to one item.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Answer {
    /// The notice was accepted (or had been): the peer's signed receipt.
    Accepted {
        /// The receipt.
        receipt: SignedReceipt,
        /// Whether the peer had it already.
        duplicate: bool,
    },
    /// The receipt was recorded.
    ReceiptRecorded,
    /// The peer refused the item.
    Refused {
        /// The protocol's reason (`lintas-reason`).
        reason: String,
        /// The peer's message.
        message: String,
    },
}

/// The peer could not be reached, or its answer was lost or malformed:
/// nothing is known about what it did with the items.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub String);

/// A peer refused a call, with the protocol's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRefused {
    /// The protocol's reason (`lintas-reason`).
    pub reason: String,
    /// The peer's message.
    pub message: String,
}

impl From<Refusal> for PeerRefused {
    fn from(r: Refusal) -> Self {
        PeerRefused {
            reason: r.reason().to_owned(),
            message: r.public_message(),
        }
    }
}

/// A call's outcome: unreachable, refused, or answered.
pub type PeerCall<T> = Result<Result<T, PeerRefused>, Unreachable>;

/// A way to hand items to a peer's node.
pub trait Transport: Send + Sync + 'static {
    /// Hands `items` to `to`, which handles them in order and answers each
    /// in the same order. The whole call either answers every item or
    /// fails.
    fn deliver(
        &self,
        to: &AgencyId,
        items: Vec<Outbound>,
    ) -> impl Future<Output = Result<Vec<Answer>, Unreachable>> + Send;

    /// Offers this node's checkpoint to `to` for witnessing.
    fn witness(
        &self,
        to: &AgencyId,
        request: WitnessRequest,
    ) -> impl Future<Output = PeerCall<WitnessAnswer>> + Send;

    /// Asks `to` to prove its log of `old_size` entries a prefix of its
    /// log of `new_size`.
    fn prove_consistency(
        &self,
        to: &AgencyId,
        old_size: u64,
        new_size: u64,
    ) -> impl Future<Output = PeerCall<Vec<Hash>>> + Send;

    /// Asks `to` for a piece of attachment `sha256` of notice `notice_id`,
    /// from `offset` to the end of the piece holding it.
    fn fetch_attachment(
        &self,
        to: &AgencyId,
        notice_id: NoticeId,
        sha256: [u8; 32],
        offset: u64,
    ) -> impl Future<Output = PeerCall<Vec<u8>>> + Send;

    /// Asks `to` to prove `entry` (an encoded `LogEntry`) is in its log.
    fn prove_inclusion(
        &self,
        to: &AgencyId,
        entry: Vec<u8>,
    ) -> impl Future<Output = PeerCall<InclusionProof>> + Send;

    /// Asks `to` to evaluate a blinded identifier of `kind` and list its
    /// tags of that kind (docs/PROTOCOL.md section 14.9).
    fn match_identifier(
        &self,
        to: &AgencyId,
        kind: IdentifierKind,
        blinded: [u8; ELEMENT_BYTES],
    ) -> impl Future<Output = PeerCall<MatchAnswer>> + Send;
}

impl From<Outbound> for Inbound {
    fn from(item: Outbound) -> Self {
        match item {
            Outbound::Notice(n) => Inbound::Notice(n),
            Outbound::Receipt(r) => Inbound::Receipt(r),
        }
    }
}

/// What the in-memory network does to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Nothing: delivered and answered.
    None,
    /// The call fails before reaching the peer.
    Drop,
    /// The peer handles the call, but the answer is lost.
    LoseAnswer,
    /// The call is delayed, then delivered.
    Delay(Duration),
}

type FaultFn = Box<dyn FnMut(&AgencyId, &AgencyId, usize) -> Fault + Send>;

/// Engines wired to each other in memory: for tests and simulations of
/// several agencies with no sockets. Agencies can be taken down and
/// brought back, and faults injected per call.
#[derive(Default)]
pub struct MemoryNetwork {
    nodes: Mutex<BTreeMap<AgencyId, Option<Engine>>>,
    faults: Mutex<Option<FaultFn>>,
}

impl std::fmt::Debug for MemoryNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryNetwork").finish_non_exhaustive()
    }
}

impl MemoryNetwork {
    /// An empty network.
    pub fn new() -> Arc<Self> {
        Arc::new(MemoryNetwork::default())
    }

    /// Puts `engine` on the network (replacing an earlier one of its
    /// agency), reachable by the others.
    pub fn attach(&self, engine: &Engine) {
        if let Ok(mut nodes) = self.nodes.lock() {
            nodes.insert(engine.agency().clone(), Some(engine.clone()));
        }
    }

    /// Takes `agency` off the network: calls to it fail until it is
    /// attached again.
    pub fn detach(&self, agency: &AgencyId) {
        if let Ok(mut nodes) = self.nodes.lock() {
            nodes.insert(agency.clone(), None);
        }
    }

    /// Decides the fate of each call: `fault(from, to, items)`.
    pub fn set_faults(
        &self,
        fault: impl FnMut(&AgencyId, &AgencyId, usize) -> Fault + Send + 'static,
    ) {
        if let Ok(mut faults) = self.faults.lock() {
            *faults = Some(Box::new(fault));
        }
    }

    /// The transport `from` uses to reach the others.
    pub fn transport(self: &Arc<Self>, from: &AgencyId) -> MemoryTransport {
        MemoryTransport {
            from: from.clone(),
            network: Arc::clone(self),
        }
    }
}

/// One agency's way into a [`MemoryNetwork`].
#[derive(Debug, Clone)]
pub struct MemoryTransport {
    from: AgencyId,
    network: Arc<MemoryNetwork>,
}

impl MemoryTransport {
    /// The engine of `to`, if it is up and the network lets the call
    /// through.
    fn target(&self, to: &AgencyId) -> Result<Engine, Unreachable> {
        self.network
            .nodes
            .lock()
            .ok()
            .and_then(|nodes| nodes.get(to).cloned().flatten())
            .ok_or_else(|| Unreachable(format!("{to} is not reachable")))
    }

    /// Faults for calls other than deliveries: only whether it gets
    /// through.
    fn admit(&self, to: &AgencyId) -> Result<Engine, Unreachable> {
        let fault = self
            .network
            .faults
            .lock()
            .ok()
            .and_then(|mut f| f.as_mut().map(|f| f(&self.from, to, 0)))
            .unwrap_or(Fault::None);
        if matches!(fault, Fault::Drop | Fault::LoseAnswer) {
            return Err(Unreachable("dropped by the network".into()));
        }
        self.target(to)
    }
}

impl Transport for MemoryTransport {
    async fn deliver(
        &self,
        to: &AgencyId,
        items: Vec<Outbound>,
    ) -> Result<Vec<Answer>, Unreachable> {
        let fault = self
            .network
            .faults
            .lock()
            .ok()
            .and_then(|mut f| f.as_mut().map(|f| f(&self.from, to, items.len())))
            .unwrap_or(Fault::None);
        match fault {
            Fault::Drop => return Err(Unreachable("dropped by the network".into())),
            Fault::Delay(d) => tokio::time::sleep(d).await,
            Fault::None | Fault::LoseAnswer => {}
        }
        let target = self.target(to)?;
        let answers = target
            .receive(
                &self.from,
                items.into_iter().map(Inbound::from).collect(),
                Timestamp::now(),
            )
            .await;
        if fault == Fault::LoseAnswer {
            return Err(Unreachable("answer lost".into()));
        }
        Ok(answers
            .into_iter()
            .map(|a| match a {
                Ok(Accepted::Notice { receipt, duplicate }) => {
                    Answer::Accepted { receipt, duplicate }
                }
                Ok(Accepted::Receipt) => Answer::ReceiptRecorded,
                Err(refusal) => Answer::Refused {
                    reason: refusal.reason().to_owned(),
                    message: refusal.public_message(),
                },
            })
            .collect())
    }

    async fn witness(&self, to: &AgencyId, request: WitnessRequest) -> PeerCall<WitnessAnswer> {
        let target = self.admit(to)?;
        Ok(target
            .witness(&self.from, request, Timestamp::now())
            .await
            .map_err(PeerRefused::from))
    }

    async fn prove_consistency(
        &self,
        to: &AgencyId,
        old_size: u64,
        new_size: u64,
    ) -> PeerCall<Vec<Hash>> {
        let target = self.admit(to)?;
        Ok(target
            .prove_consistency(old_size, new_size)
            .map_err(PeerRefused::from))
    }

    async fn fetch_attachment(
        &self,
        to: &AgencyId,
        notice_id: NoticeId,
        sha256: [u8; 32],
        offset: u64,
    ) -> PeerCall<Vec<u8>> {
        let target = self.admit(to)?;
        Ok(target
            .serve_attachment(&self.from, notice_id, sha256, offset, Timestamp::now())
            .await
            .map_err(PeerRefused::from))
    }

    async fn prove_inclusion(&self, to: &AgencyId, entry: Vec<u8>) -> PeerCall<InclusionProof> {
        let target = self.admit(to)?;
        Ok(target
            .prove_inclusion(&entry, Timestamp::now())
            .map_err(PeerRefused::from))
    }

    async fn match_identifier(
        &self,
        to: &AgencyId,
        kind: IdentifierKind,
        blinded: [u8; ELEMENT_BYTES],
    ) -> PeerCall<MatchAnswer> {
        let target = self.admit(to)?;
        let from = self.from.clone();
        let answer =
            tokio::task::spawn_blocking(move || target.answer_match(&from, kind, &blinded))
                .await
                .map_err(|e| Unreachable(e.to_string()))?;
        Ok(answer.map_err(PeerRefused::from))
    }
}
