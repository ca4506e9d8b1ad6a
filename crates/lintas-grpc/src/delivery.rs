//! The gRPC client as the engine's [`lintas_node::Transport`]: one
//! long-lived HTTP/2 connection per peer (mutual TLS), each batch one
//! `DeliverBatch` call. A peer that does not offer `DeliverBatch` gets the
//! unary `Deliver` and `ReportReceipt` calls, one item after another.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::matching::ELEMENT_BYTES;
use lintas_core::pb as wire;
use lintas_core::receipt::SignedReceipt;
use lintas_core::transparency::checkpoint::{SignedCheckpoint, SignedCosignature};
use lintas_core::transparency::merkle::Hash;
use lintas_core::transparency::proofs::{InclusionProof, read_hashes};
use lintas_core::vocab::IdentifierKind;
use lintas_node::{
    Answer, MatchAnswer, Outbound, PeerCall, PeerRefused, Transport as EngineTransport,
    Unreachable, WitnessAnswer, WitnessRequest,
};
use tonic::transport::{Channel, Endpoint};

use crate::pb::peer_exchange_client::PeerExchangeClient;
use crate::state::NodeState;
use crate::tls::Transport;
use lintas_core::pb::{BatchItem, DeliverBatchRequest, batch_answer, batch_item};

/// How long connecting to a peer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The gRPC transport of one node.
#[derive(Debug)]
pub(crate) struct GrpcTransport {
    state: Arc<NodeState>,
    channels: Mutex<BTreeMap<AgencyId, Channel>>,
    /// Peers that answered `DeliverBatch` with UNIMPLEMENTED.
    unary_only: Mutex<std::collections::BTreeSet<AgencyId>>,
    /// Peers that answered `DeliverBatch`: no copy of a batch is kept for
    /// the fallback.
    batch_ok: Mutex<std::collections::BTreeSet<AgencyId>>,
}

impl GrpcTransport {
    pub(crate) fn new(state: Arc<NodeState>) -> Self {
        GrpcTransport {
            state,
            channels: Mutex::default(),
            unary_only: Mutex::default(),
            batch_ok: Mutex::default(),
        }
    }

    fn client(&self, recipient: &AgencyId) -> Result<PeerExchangeClient<Channel>, Unreachable> {
        let limits = self.state.limits;
        let wrap = |channel: Channel| {
            PeerExchangeClient::new(channel)
                .max_decoding_message_size(limits.max_message_bytes)
                .max_encoding_message_size(limits.max_message_bytes)
        };
        let mut cache = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(channel) = cache.get(recipient) {
            return Ok(wrap(channel.clone()));
        }
        let (endpoint, tls_name) = self
            .state
            .endpoint_of(recipient)
            .ok_or_else(|| Unreachable(format!("recipient {recipient} is not in the roster")))?;
        let broken = |e: &dyn std::fmt::Display| Unreachable(format!("endpoint {endpoint}: {e}"));
        let endpoint = match &self.state.transport {
            Transport::MutualTls(tls) => Endpoint::from_shared(endpoint.clone())
                .map_err(|e| broken(&e))?
                .tls_config(tls.client_config(&tls_name))
                .map_err(|e| broken(&e))?,
            Transport::PlaintextForDevelopment => {
                let plain = endpoint.replacen("https://", "http://", 1);
                Endpoint::from_shared(plain).map_err(|e| broken(&e))?
            }
        };
        let channel = endpoint
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true)
            .connect_lazy();
        cache.insert(recipient.clone(), channel.clone());
        Ok(wrap(channel))
    }

    /// Forgets a peer's connection after a transport failure, so the next
    /// attempt connects afresh.
    fn forget(&self, recipient: &AgencyId) {
        self.channels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(recipient);
    }

    /// A request; in plaintext development mode it names this node's
    /// agency, since there is no certificate to do so.
    fn identify<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if matches!(self.state.transport, Transport::PlaintextForDevelopment)
            && let Ok(value) = self.state.engine.agency().as_str().parse()
        {
            request
                .metadata_mut()
                .insert(crate::tls::DEV_AGENCY_HEADER, value);
        }
        request
    }

    async fn batch(
        &self,
        client: &mut PeerExchangeClient<Channel>,
        items: Vec<Outbound>,
    ) -> Result<Vec<Answer>, tonic::Status> {
        let items = items
            .into_iter()
            .map(|item| BatchItem {
                item: Some(match item {
                    Outbound::Notice(n) => batch_item::Item::Notice(n.into()),
                    Outbound::Receipt(r) => batch_item::Item::Receipt(r.into()),
                    // A kind of item this transport does not know yet: sent
                    // empty, so the peer refuses it and the entry waits on
                    // its own timer instead of holding back the batch.
                    _ => batch_item::Item::Receipt(wire::SignedReceipt::default()),
                }),
            })
            .collect();
        let response = client
            .deliver_batch(self.identify(DeliverBatchRequest { items }))
            .await?
            .into_inner();
        Ok(response
            .answers
            .into_iter()
            .map(|a| match a.answer {
                Some(batch_answer::Answer::Delivered(d)) => answer_delivered(d),
                Some(batch_answer::Answer::ReceiptRecorded(_)) => Answer::ReceiptRecorded,
                Some(batch_answer::Answer::Refused(r)) => Answer::Refused {
                    reason: r.reason,
                    message: r.message,
                },
                None => refused("empty_answer", "the peer sent an empty answer"),
            })
            .collect())
    }

    async fn one_by_one(
        &self,
        client: &mut PeerExchangeClient<Channel>,
        items: Vec<Outbound>,
    ) -> Result<Vec<Answer>, tonic::Status> {
        let mut answers = Vec::with_capacity(items.len());
        for item in items {
            let answer = match item {
                Outbound::Notice(n) => client
                    .deliver(self.identify(wire::DeliverRequest {
                        notice: Some(n.into()),
                    }))
                    .await
                    .map(|r| answer_delivered(r.into_inner())),
                Outbound::Receipt(r) => client
                    .report_receipt(self.identify(wire::ReportReceiptRequest {
                        receipt: Some(r.into()),
                    }))
                    .await
                    .map(|_| Answer::ReceiptRecorded),
                _ => Ok(refused("unsupported", "item of an unknown kind")),
            };
            answers.push(match answer {
                Ok(a) => a,
                Err(status) if transient(&status) => return Err(status),
                Err(status) => refused_by(&status),
            });
        }
        Ok(answers)
    }
}

fn refused(reason: &str, message: &str) -> Answer {
    Answer::Refused {
        reason: reason.into(),
        message: message.into(),
    }
}

fn refused_by(status: &tonic::Status) -> Answer {
    let reason = status
        .metadata()
        .get("lintas-reason")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("refused");
    refused(reason, status.message())
}

fn answer_delivered(d: wire::DeliverResponse) -> Answer {
    match d.receipt.map(SignedReceipt::try_from) {
        Some(Ok(receipt)) => Answer::Accepted {
            receipt,
            duplicate: d.duplicate,
        },
        Some(Err(e)) => refused("bad_receipt", &e.to_string()),
        None => refused("bad_receipt", "no receipt"),
    }
}

/// Statuses that say nothing about the items: the peer is unreachable,
/// overloaded or failing.
fn transient(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::Unavailable
            | tonic::Code::Unknown
            | tonic::Code::DeadlineExceeded
            | tonic::Code::ResourceExhausted
            | tonic::Code::Internal
            | tonic::Code::Cancelled
            | tonic::Code::Aborted
    )
}

/// The outcome of a call that is not a delivery: a refusal with its
/// reason, or unreachable when the status says nothing about the request.
fn call_outcome<T>(result: Result<T, tonic::Status>) -> PeerCall<T> {
    match result {
        Ok(t) => Ok(Ok(t)),
        Err(status) if transient(&status) || status.code() == tonic::Code::Unimplemented => Err(
            Unreachable(format!("{:?}: {}", status.code(), status.message())),
        ),
        Err(status) => Ok(Err(PeerRefused {
            reason: status
                .metadata()
                .get("lintas-reason")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("refused")
                .to_owned(),
            message: status.message().to_owned(),
        })),
    }
}

/// A malformed answer: nothing is known.
fn malformed(what: &str, e: impl std::fmt::Display) -> Unreachable {
    Unreachable(format!("malformed {what} in the answer: {e}"))
}

impl EngineTransport for GrpcTransport {
    async fn match_identifier(
        &self,
        to: &AgencyId,
        kind: IdentifierKind,
        blinded: [u8; ELEMENT_BYTES],
    ) -> PeerCall<MatchAnswer> {
        let mut client = self.client(to)?;
        let answer = call_outcome(
            client
                .match_identifier(self.identify(wire::MatchIdentifierRequest {
                    kind: kind.to_wire(),
                    blinded_element: blinded.to_vec(),
                }))
                .await
                .map(tonic::Response::into_inner),
        )?;
        Ok(match answer {
            Ok(a) => {
                let evaluated: [u8; ELEMENT_BYTES] =
                    a.evaluated_element.as_slice().try_into().map_err(|_| {
                        malformed(
                            "evaluated_element",
                            format!("{} bytes, not 32", a.evaluated_element.len()),
                        )
                    })?;
                Ok(MatchAnswer {
                    evaluated,
                    tags: Arc::new(a.tags),
                })
            }
            Err(refused) => Err(refused),
        })
    }

    async fn witness(&self, to: &AgencyId, request: WitnessRequest) -> PeerCall<WitnessAnswer> {
        let mut client = self.client(to)?;
        let message = wire::WitnessCheckpointRequest {
            checkpoint: Some(request.checkpoint.into()),
            old_size: request.old_size,
            consistency_proof: request.proof.iter().map(|h| h.to_vec()).collect(),
            gossip: request
                .gossip
                .into_iter()
                .map(SignedCheckpoint::into)
                .collect(),
        };
        let answer = call_outcome(
            client
                .witness_checkpoint(self.identify(message))
                .await
                .map(tonic::Response::into_inner),
        )?;
        Ok(match answer {
            Ok(response) => Ok(match response.answer {
                Some(wire::witness_checkpoint_response::Answer::Cosignature(c)) => {
                    WitnessAnswer::Cosigned(
                        SignedCosignature::try_from(c).map_err(|e| malformed("cosignature", e))?,
                    )
                }
                Some(wire::witness_checkpoint_response::Answer::KnownSize(size)) => {
                    WitnessAnswer::KnownSize(size)
                }
                None => return Err(malformed("answer", "neither set")),
            }),
            Err(refused) => Err(refused),
        })
    }

    async fn prove_consistency(
        &self,
        to: &AgencyId,
        old_size: u64,
        new_size: u64,
    ) -> PeerCall<Vec<Hash>> {
        let mut client = self.client(to)?;
        let answer = call_outcome(
            client
                .prove_log_consistency(
                    self.identify(wire::ProveLogConsistencyRequest { old_size, new_size }),
                )
                .await
                .map(tonic::Response::into_inner),
        )?;
        Ok(match answer {
            Ok(r) => Ok(read_hashes(r.proof, "proof").map_err(|e| malformed("proof", e))?),
            Err(refused) => Err(refused),
        })
    }

    async fn fetch_attachment(
        &self,
        to: &AgencyId,
        notice_id: NoticeId,
        sha256: [u8; 32],
        offset: u64,
    ) -> PeerCall<Vec<u8>> {
        let mut client = self.client(to)?;
        let answer = call_outcome(
            client
                .fetch_attachment(self.identify(wire::FetchAttachmentRequest {
                    notice_id: notice_id.as_bytes().to_vec(),
                    sha256: sha256.to_vec(),
                    offset,
                }))
                .await
                .map(tonic::Response::into_inner),
        )?;
        Ok(answer.map(|r| r.data))
    }

    async fn prove_inclusion(&self, to: &AgencyId, entry: Vec<u8>) -> PeerCall<InclusionProof> {
        let mut client = self.client(to)?;
        let answer = call_outcome(
            client
                .prove_log_inclusion(self.identify(wire::ProveLogInclusionRequest { entry }))
                .await
                .map(tonic::Response::into_inner),
        )?;
        Ok(match answer {
            Ok(p) => Ok(InclusionProof::try_from(p).map_err(|e| malformed("proof", e))?),
            Err(refused) => Err(refused),
        })
    }

    async fn deliver(
        &self,
        to: &AgencyId,
        items: Vec<Outbound>,
    ) -> Result<Vec<Answer>, Unreachable> {
        let mut client = self.client(to)?;
        let unary = self
            .unary_only
            .lock()
            .map(|u| u.contains(to))
            .unwrap_or(false);
        let known = self
            .batch_ok
            .lock()
            .map(|b| b.contains(to))
            .unwrap_or(false);
        let result = if unary {
            self.one_by_one(&mut client, items).await
        } else if known {
            self.batch(&mut client, items).await
        } else {
            match self.batch(&mut client, items.clone()).await {
                Err(status) if status.code() == tonic::Code::Unimplemented => {
                    if let Ok(mut u) = self.unary_only.lock() {
                        u.insert(to.clone());
                    }
                    self.one_by_one(&mut client, items).await
                }
                Ok(answers) => {
                    if let Ok(mut b) = self.batch_ok.lock() {
                        b.insert(to.clone());
                    }
                    Ok(answers)
                }
                other => other,
            }
        };
        result.map_err(|status| {
            if matches!(
                status.code(),
                tonic::Code::Unavailable | tonic::Code::Unknown
            ) {
                self.forget(to);
            }
            let reason = status
                .metadata()
                .get("lintas-reason")
                .and_then(|v| v.to_str().ok())
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            Unreachable(format!("{:?}{reason}: {}", status.code(), status.message()))
        })
    }
}
