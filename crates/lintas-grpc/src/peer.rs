//! The `PeerExchange` service: what one agency's node offers another. Each
//! method identifies the calling agency from its certificate, checks its
//! rate, converts the request and hands it to the engine.

use std::sync::Arc;

use lintas_core::ids::AgencyId;
use lintas_core::pb as wire;
use lintas_core::receipt::SignedReceipt;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::transparency::checkpoint::SignedCheckpoint;
use lintas_core::transparency::entry::LogEntry;
use lintas_core::transparency::proofs::read_hashes;
use lintas_node::{Accepted, Inbound, Refusal, WitnessAnswer, WitnessRequest};
use tonic::{Request, Response, Status};
use tracing::instrument;

use crate::pb::peer_exchange_server::PeerExchange;
use crate::state::NodeState;
use crate::status;
use crate::tls::{PeerIdentity, caller_of};
use lintas_core::pb::{
    BatchAnswer, BatchRefusal, DeliverBatchRequest, DeliverBatchResponse, batch_answer, batch_item,
};

/// The peer-exchange service of one node.
#[derive(Debug, Clone)]
pub struct PeerService {
    state: Arc<NodeState>,
}

impl PeerService {
    pub(crate) fn new(state: Arc<NodeState>) -> Self {
        PeerService { state }
    }

    /// The agency on the other end, if it may hand over `items` now.
    fn caller<T: prost::Message>(
        &self,
        request: &Request<T>,
        items: u32,
    ) -> Result<AgencyId, Status> {
        let agency = {
            let roster = self.state.engine.roster();
            match caller_of(request, &self.state.transport, roster.roster()) {
                PeerIdentity::Agency(agency) => agency,
                other => return Err(status::unidentified(&other)),
            }
        };
        let limits = &self.state.limits;
        if items > limits.max_batch_items {
            return Err(status::exhausted(
                format!(
                    "{items} items in one call; at most {} are taken",
                    limits.max_batch_items
                ),
                "batch_too_large",
            ));
        }
        let allowed = std::num::NonZeroU32::new(items.max(1))
            .map(|n| self.state.peer_rate.check_key_n(&agency, n));
        if !matches!(allowed, Some(Ok(Ok(())))) {
            return Err(status::exhausted(
                format!(
                    "{agency} exceeded {} items per second; retry later",
                    limits.peer_requests_per_second
                ),
                "rate_limited",
            ));
        }
        let kib = u32::try_from(request.get_ref().encoded_len().div_ceil(1024))
            .unwrap_or(u32::MAX)
            .max(1);
        if !self
            .state
            .peer_quotas
            .charge(&agency, u64::from(kib), Timestamp::now())
        {
            return Err(status::exhausted(
                format!(
                    "{agency} used its quota of {} KiB per day on this node; retry later",
                    limits.peer_kib_per_day
                ),
                "quota_exceeded",
            ));
        }
        Ok(agency)
    }

    /// Hands one item to the engine and returns its answer.
    async fn one(&self, peer: &AgencyId, item: Inbound) -> Result<Accepted, Status> {
        let answer = self
            .state
            .engine
            .receive(peer, vec![item], Timestamp::now())
            .await
            .pop()
            .unwrap_or_else(|| Err(Refusal::Store(lintas_store::StoreError::GroupAborted)));
        answer.map_err(|r| status::refused(&r))
    }
}

fn delivered(receipt: SignedReceipt, duplicate: bool) -> wire::DeliverResponse {
    wire::DeliverResponse {
        receipt: Some(receipt.into()),
        duplicate,
    }
}

#[tonic::async_trait]
impl PeerExchange for PeerService {
    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn deliver(
        &self,
        request: Request<wire::DeliverRequest>,
    ) -> Result<Response<wire::DeliverResponse>, Status> {
        let peer = self.caller(&request, 1)?;
        let envelope = request
            .into_inner()
            .notice
            .ok_or_else(|| status::missing("notice"))?;
        let notice = SignedNotice::try_from(envelope).map_err(|e| status::invalid(&e, "notice"))?;
        match self.one(&peer, Inbound::Notice(notice)).await? {
            Accepted::Notice { receipt, duplicate } => {
                Ok(Response::new(delivered(receipt, duplicate)))
            }
            _ => Err(Status::internal("unexpected answer")),
        }
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn report_receipt(
        &self,
        request: Request<wire::ReportReceiptRequest>,
    ) -> Result<Response<wire::ReportReceiptResponse>, Status> {
        let peer = self.caller(&request, 1)?;
        let signed = request
            .into_inner()
            .receipt
            .ok_or_else(|| status::missing("receipt"))?;
        let signed = SignedReceipt::try_from(signed).map_err(|e| status::invalid(&e, "receipt"))?;
        self.one(&peer, Inbound::Receipt(signed)).await?;
        Ok(Response::new(wire::ReportReceiptResponse {}))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn fetch_notice(
        &self,
        request: Request<wire::FetchNoticeRequest>,
    ) -> Result<Response<wire::FetchNoticeResponse>, Status> {
        let peer = self.caller(&request, 1)?;
        let id = crate::agency::notice_id(&request.into_inner().notice_id, "notice_id")?;
        let notice = self.state.read(move |e| e.fetch(&peer, id)).await?;
        Ok(Response::new(wire::FetchNoticeResponse {
            notice: Some(notice.into()),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn deliver_batch(
        &self,
        request: Request<DeliverBatchRequest>,
    ) -> Result<Response<DeliverBatchResponse>, Status> {
        let count = u32::try_from(request.get_ref().items.len()).unwrap_or(u32::MAX);
        let peer = self.caller(&request, count)?;
        let items = request.into_inner().items;
        // Items that do not even decode are answered in place; the rest go
        // to the engine together.
        let mut answers: Vec<Option<batch_answer::Answer>> = Vec::with_capacity(items.len());
        let mut inbound = Vec::with_capacity(items.len());
        let mut positions = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let within = format!("items[{i}]");
            let decoded = match item.item {
                Some(batch_item::Item::Notice(n)) => SignedNotice::try_from(n)
                    .map(Inbound::Notice)
                    .map_err(|e| Refusal::invalid(e, &format!("{within}.notice"))),
                Some(batch_item::Item::Receipt(r)) => SignedReceipt::try_from(r)
                    .map(Inbound::Receipt)
                    .map_err(|e| Refusal::invalid(e, &format!("{within}.receipt"))),
                None => Err(Refusal::invalid(
                    lintas_core::ValidationError::missing("item"),
                    &within,
                )),
            };
            match decoded {
                Ok(item) => {
                    positions.push(i);
                    inbound.push(item);
                    answers.push(None);
                }
                Err(refusal) => answers.push(Some(refusal_answer(&refusal))),
            }
        }
        let results = self
            .state
            .engine
            .receive(&peer, inbound, Timestamp::now())
            .await;
        for (i, result) in positions.into_iter().zip(results) {
            answers[i] = Some(match result {
                Ok(Accepted::Notice { receipt, duplicate }) => {
                    batch_answer::Answer::Delivered(delivered(receipt, duplicate))
                }
                Ok(_) => batch_answer::Answer::ReceiptRecorded(wire::ReportReceiptResponse {}),
                Err(refusal) => refusal_answer(&refusal),
            });
        }
        Ok(Response::new(DeliverBatchResponse {
            answers: answers
                .into_iter()
                .map(|answer| BatchAnswer { answer })
                .collect(),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn witness_checkpoint(
        &self,
        request: Request<wire::WitnessCheckpointRequest>,
    ) -> Result<Response<wire::WitnessCheckpointResponse>, Status> {
        self.witness_checkpoint_call(request).await
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn prove_log_consistency(
        &self,
        request: Request<wire::ProveLogConsistencyRequest>,
    ) -> Result<Response<wire::ProveLogConsistencyResponse>, Status> {
        self.caller(&request, 1)?;
        let wire::ProveLogConsistencyRequest { old_size, new_size } = request.into_inner();
        let proof = self
            .state
            .read(move |e| e.prove_consistency(old_size, new_size))
            .await?;
        Ok(Response::new(wire::ProveLogConsistencyResponse {
            proof: proof.iter().map(|h| h.to_vec()).collect(),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn match_identifier(
        &self,
        request: Request<wire::MatchIdentifierRequest>,
    ) -> Result<Response<wire::MatchIdentifierResponse>, Status> {
        let peer = self.caller(&request, 1)?;
        let message = request.into_inner();
        let kind = lintas_core::vocab::IdentifierKind::from_wire(message.kind)
            .map_err(|e| status::invalid(&e.within("kind"), ""))?;
        let blinded = message.blinded_element;
        let answer = self
            .state
            .read(move |e| e.answer_match(&peer, kind, &blinded))
            .await?;
        Ok(Response::new(wire::MatchIdentifierResponse {
            evaluated_element: answer.evaluated.to_vec(),
            tags: answer.tags.as_ref().clone(),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn fetch_attachment(
        &self,
        request: Request<wire::FetchAttachmentRequest>,
    ) -> Result<Response<wire::FetchAttachmentResponse>, Status> {
        // A piece counts as the data it returns against the peer's quota.
        let peer = self.caller(&request, 1)?;
        let message = request.into_inner();
        let id = crate::agency::notice_id(&message.notice_id, "notice_id")?;
        let sha256: [u8; 32] = message.sha256.as_slice().try_into().map_err(|_| {
            status::invalid(
                &lintas_core::ValidationError::invalid(
                    "sha256",
                    "32 bytes",
                    format!("{} bytes", message.sha256.len()),
                ),
                "",
            )
        })?;
        if !message
            .offset
            .is_multiple_of(lintas_node::PIECE_BYTES as u64)
        {
            return Err(status::invalid(
                &lintas_core::ValidationError::invalid(
                    "offset",
                    "a multiple of 262144",
                    message.offset.to_string(),
                ),
                "",
            ));
        }
        let data = self
            .state
            .engine
            .serve_attachment(&peer, id, sha256, message.offset, Timestamp::now())
            .await
            .map_err(|r| status::refused(&r))?;
        let kib = (data.len() as u64).div_ceil(1024);
        if !self.state.peer_quotas.charge(&peer, kib, Timestamp::now()) {
            return Err(status::exhausted(
                format!("{peer} used its quota on this node; retry later"),
                "quota_exceeded",
            ));
        }
        Ok(Response::new(wire::FetchAttachmentResponse { data }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn prove_log_inclusion(
        &self,
        request: Request<wire::ProveLogInclusionRequest>,
    ) -> Result<Response<wire::LogInclusionProof>, Status> {
        self.caller(&request, 1)?;
        let entry = request.into_inner().entry;
        LogEntry::decode(&entry).map_err(|e| status::invalid(&e, "entry"))?;
        let proof = self
            .state
            .read(move |e| e.prove_inclusion(&entry, Timestamp::now()))
            .await?;
        Ok(Response::new(proof.into()))
    }
}

impl PeerService {
    async fn witness_checkpoint_call(
        &self,
        request: Request<wire::WitnessCheckpointRequest>,
    ) -> Result<Response<wire::WitnessCheckpointResponse>, Status> {
        let peer = self.caller(&request, 1)?;
        let message = request.into_inner();
        let checkpoint = message
            .checkpoint
            .ok_or_else(|| status::missing("checkpoint"))
            .and_then(|c| {
                SignedCheckpoint::try_from(c).map_err(|e| status::invalid(&e, "checkpoint"))
            })?;
        let proof = read_hashes(message.consistency_proof, "consistency_proof")
            .map_err(|e| status::invalid(&e, ""))?;
        let gossip = message
            .gossip
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                SignedCheckpoint::try_from(c)
                    .map_err(|e| status::invalid(&e, &format!("gossip[{i}]")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let answer = self
            .state
            .engine
            .witness(
                &peer,
                WitnessRequest {
                    checkpoint,
                    old_size: message.old_size,
                    proof,
                    gossip,
                },
                Timestamp::now(),
            )
            .await
            .map_err(|r| status::refused(&r))?;
        let answer = match answer {
            WitnessAnswer::Cosigned(c) => {
                wire::witness_checkpoint_response::Answer::Cosignature(c.into())
            }
            WitnessAnswer::KnownSize(size) => {
                wire::witness_checkpoint_response::Answer::KnownSize(size)
            }
            _ => return Err(Status::internal("unexpected answer")),
        };
        Ok(Response::new(wire::WitnessCheckpointResponse {
            answer: Some(answer),
        }))
    }
}

fn refusal_answer(refusal: &Refusal) -> batch_answer::Answer {
    let status = status::refused(refusal);
    batch_answer::Answer::Refused(BatchRefusal {
        code: status.code() as u32,
        reason: refusal.reason().to_owned(),
        message: refusal.public_message(),
        field: refusal.field().unwrap_or_default().to_owned(),
    })
}
