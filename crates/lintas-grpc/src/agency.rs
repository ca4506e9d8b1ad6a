//! The `AgencyApi` service: an agency's own case system talking to its
//! node.

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::Arc;

use lintas_core::ValidationError;
use lintas_core::ids::{CaseId, NoticeId};
use lintas_core::notice::{AssistanceResponse, Handling, NoticeBody, NoticeContent};
use lintas_core::pb as wire;
use lintas_core::receipt::{Receipt, SignedReceipt};
use lintas_core::signing::{SignedNotice, decode_notice_body};
use lintas_core::time::Timestamp;
use lintas_core::vocab::{AssistanceOutcome, NoticeKind, Priority, ReceiptStage, Tlp};
use lintas_store::{Direction, OutboxEntry, OutboxPayload, StoredNotice};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};
use tracing::{info, instrument};

use crate::pb::agency_api_server::AgencyApi;
use crate::state::NodeState;
use crate::status;
use crate::tls::{PeerIdentity, Transport, cert_matches};

/// The agency API of one node.
#[derive(Debug, Clone)]
pub struct AgencyService {
    state: Arc<NodeState>,
}

impl AgencyService {
    pub(crate) fn new(state: Arc<NodeState>) -> Self {
        AgencyService { state }
    }

    /// Only the agency's configured case-system clients may call.
    fn authorise<T>(&self, request: &Request<T>) -> Result<(), Status> {
        if matches!(self.state.transport, Transport::PlaintextForDevelopment) {
            return Ok(());
        }
        let Some(certs) = request.peer_certs() else {
            return Err(status::peer(&PeerIdentity::NoCertificate));
        };
        let Some(leaf) = certs.first() else {
            return Err(status::peer(&PeerIdentity::NoCertificate));
        };
        if self
            .state
            .api_clients
            .iter()
            .any(|name| cert_matches(leaf, name))
        {
            Ok(())
        } else {
            Err(status::denied(
                "this certificate is not a case-system client of this node".into(),
                "not_an_api_client",
            ))
        }
    }

    async fn received(
        &self,
        id: NoticeId,
    ) -> Result<(StoredNotice, SignedNotice, NoticeBody), Status> {
        let notice = self
            .state
            .store(move |s| s.notice(&id))
            .await
            .map_err(status::store)?
            .filter(|n| n.direction == Direction::Received as i32)
            .ok_or_else(|| status::not_found(format!("no received notice {id}")))?;
        let envelope =
            SignedNotice::decode(&notice.envelope).map_err(|e| status::invalid(&e, "stored"))?;
        let (_, body) = decode_notice_body(envelope.body_bytes()).map_err(|e| {
            status::invalid(
                &ValidationError::rule("", "stored notice unreadable").within(&e.to_string()),
                "",
            )
        })?;
        Ok((notice, envelope, body))
    }
}

/// Reads a 32-byte notice id from a request field.
pub(crate) fn notice_id(bytes: &[u8], field: &str) -> Result<NoticeId, Status> {
    <[u8; 32]>::try_from(bytes)
        .map(NoticeId::from_bytes)
        .map_err(|_| {
            status::invalid(
                &ValidationError::invalid(
                    field,
                    "a notice id of 32 bytes",
                    format!("{} bytes", bytes.len()),
                ),
                "",
            )
        })
}

type InboxStream = Pin<Box<dyn Stream<Item = Result<wire::InboxItem, Status>> + Send>>;

#[tonic::async_trait]
impl AgencyApi for AgencyService {
    #[instrument(skip_all, fields(node = %self.state.agency))]
    async fn submit_notice(
        &self,
        request: Request<wire::SubmitNoticeRequest>,
    ) -> Result<Response<wire::SubmitNoticeResponse>, Status> {
        self.authorise(&request)?;
        let mut draft = request
            .into_inner()
            .draft
            .ok_or_else(|| status::missing("draft"))?;
        if !draft.notice_id.is_empty() {
            return Err(status::invalid(
                &ValidationError::rule("notice_id", "must be empty: the node derives it"),
                "draft",
            ));
        }
        if !draft.sender.is_empty() && draft.sender != self.state.agency.as_str() {
            return Err(status::invalid(
                &ValidationError::rule("sender", "must be empty or this node's agency"),
                "draft",
            ));
        }
        // Placeholders the node replaces, so the draft passes validation.
        draft.notice_id = vec![0; 32];
        draft.sender = self.state.agency.to_string();
        draft.sequence = 1;
        if draft.created_at.is_none() {
            draft.created_at = Some(Timestamp::now().into());
        }
        let (_, body) = NoticeBody::from_wire(draft).map_err(|e| status::invalid(&e, "draft"))?;
        let (id, sequence) = self
            .state
            .sign_and_queue(body)
            .await
            .map_err(|e| status::submit(e, "draft"))?;
        Ok(Response::new(wire::SubmitNoticeResponse {
            notice_id: id.as_bytes().to_vec(),
            sequence,
        }))
    }

    type SubscribeInboxStream = InboxStream;

    #[instrument(skip_all, fields(node = %self.state.agency))]
    async fn subscribe_inbox(
        &self,
        request: Request<wire::SubscribeInboxRequest>,
    ) -> Result<Response<Self::SubscribeInboxStream>, Status> {
        self.authorise(&request)?;
        let after = request.into_inner().after_cursor;
        let stream = crate::inbox::follow(Arc::clone(&self.state), after).map(|item| match item {
            Ok(n) => Ok(wire::InboxItem {
                cursor: n.cursor,
                notice_id: n.id.as_bytes().to_vec(),
                notice: Some(n.envelope.into()),
                received_at: Some(n.received_at.into()),
            }),
            Err(crate::inbox::InboxError::Store(e)) => Err(status::store(e)),
            Err(e) => Err(Status::internal(e.to_string())),
        });
        Ok(Response::new(Box::pin(stream)))
    }

    #[instrument(skip_all, fields(node = %self.state.agency))]
    async fn get_case_timeline(
        &self,
        request: Request<wire::GetCaseTimelineRequest>,
    ) -> Result<Response<wire::GetCaseTimelineResponse>, Status> {
        self.authorise(&request)?;
        let case_id = CaseId::parse(&request.into_inner().case_id)
            .map_err(|e| status::invalid(&e, "case_id"))?;
        let key = case_id.to_string();
        let notices = self
            .state
            .store(move |s| s.case_notices(&key))
            .await
            .map_err(status::store)?;
        let mut entries = Vec::new();
        for (id, notice) in notices {
            let receipts = self
                .state
                .store(move |s| s.receipts(&id))
                .await
                .map_err(status::store)?
                .into_iter()
                .filter_map(|(_, _, bytes)| SignedReceipt::decode(&bytes).ok().map(Into::into))
                .collect();
            let envelope = SignedNotice::decode(&notice.envelope)
                .map_err(|e| status::invalid(&e, "stored"))?;
            entries.push(wire::TimelineEntry {
                notice_id: id.as_bytes().to_vec(),
                kind: notice.kind,
                sender: notice.sender.clone(),
                recipients: notice.recipients.clone(),
                created_at: Some(prost_types::Timestamp {
                    seconds: notice.created_at,
                    nanos: i32::try_from(notice.created_at_nanos).unwrap_or(0),
                }),
                direction: notice.direction,
                receipts,
                notice: Some(envelope.into()),
            });
        }
        entries.sort_by_key(|e| {
            (
                e.created_at.map(|t| (t.seconds, t.nanos)),
                e.notice_id.clone(),
            )
        });
        Ok(Response::new(wire::GetCaseTimelineResponse { entries }))
    }

    #[instrument(skip_all, fields(node = %self.state.agency))]
    async fn acknowledge(
        &self,
        request: Request<wire::AcknowledgeRequest>,
    ) -> Result<Response<wire::AcknowledgeResponse>, Status> {
        self.authorise(&request)?;
        let request = request.into_inner();
        let id = notice_id(&request.notice_id, "notice_id")?;
        let stage =
            ReceiptStage::from_wire(request.stage).map_err(|e| status::invalid(&e, "stage"))?;
        if stage == ReceiptStage::Accepted {
            return Err(status::invalid(
                &ValidationError::rule(
                    "stage",
                    "the node itself records ACCEPTED; acknowledge DELIVERED, READ or ACTIONED",
                ),
                "",
            ));
        }
        let (stored, envelope, body) = self.received(id).await?;
        let mut receipt = Receipt::new(
            id,
            &envelope,
            self.state.agency.clone(),
            stage,
            Timestamp::now(),
        );
        receipt.note = (!request.note.is_empty()).then_some(request.note);
        let signed =
            SignedReceipt::sign(&receipt, &self.state.key).map_err(|e| status::invalid(&e, ""))?;
        let bytes = signed.encode();
        let report = OutboxEntry {
            seq: 0,
            recipient: body.sender.to_string(),
            case_id: stored.case_id.clone(),
            priority: 2,
            attempts: 0,
            next_attempt_ms: 0,
            last_error: String::new(),
            expires_at: body.expires_at.unix_seconds(),
            payload: Some(OutboxPayload::Receipt(bytes.clone())),
        };
        let receiver = self.state.agency.to_string();
        let stage_byte = stage.to_wire() as u8;
        let new = self
            .state
            .store(move |s| s.store_receipt(&id, stage_byte, &receiver, &bytes, Some(report)))
            .await
            .map_err(status::store)?;
        if new {
            info!(notice = %id, stage = stage.wire_name(), "acknowledged; receipt queued for the sender");
            self.state.outbox_wake.notify_one();
        }
        Ok(Response::new(wire::AcknowledgeResponse {
            receipt: Some(signed.into()),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.agency))]
    async fn answer_assistance(
        &self,
        request: Request<wire::AnswerAssistanceRequest>,
    ) -> Result<Response<wire::SubmitNoticeResponse>, Status> {
        self.authorise(&request)?;
        let request = request.into_inner();
        let id = notice_id(&request.request, "request")?;
        let outcome = AssistanceOutcome::from_wire(request.outcome)
            .map_err(|e| status::invalid(&e, "outcome"))?;
        let tlp = if request.tlp == 0 {
            None
        } else {
            Some(Tlp::from_wire(request.tlp).map_err(|e| status::invalid(&e, "tlp"))?)
        };
        let (_, _, asked) = self.received(id).await?;
        if asked.kind() != NoticeKind::AssistanceRequest {
            return Err(status::invalid(
                &ValidationError::rule("request", "is not a mutual-assistance request"),
                "",
            ));
        }
        let now = Timestamp::now();
        let mut body = NoticeBody::new(
            self.state.agency.clone(),
            0,
            now,
            now.plus_seconds(30 * 86_400),
            vec![asked.sender.clone()],
            Handling::new(tlp.unwrap_or(asked.handling.tlp), Priority::High),
            NoticeContent::AssistanceResponse(AssistanceResponse::new(id, outcome, request.answer)),
        );
        body.case_id = asked.case_id.clone();
        let (notice, sequence) = self
            .state
            .sign_and_queue(body)
            .await
            .map_err(|e| status::submit(e, ""))?;
        Ok(Response::new(wire::SubmitNoticeResponse {
            notice_id: notice.as_bytes().to_vec(),
            sequence,
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.agency))]
    async fn list_overdue(
        &self,
        request: Request<wire::ListOverdueRequest>,
    ) -> Result<Response<wire::ListOverdueResponse>, Status> {
        self.authorise(&request)?;
        let now = Timestamp::now().unix_seconds();
        let notices = self
            .state
            .store(|s| s.all_notices())
            .await
            .map_err(status::store)?;
        let me = self.state.agency.to_string();
        let actioned = ReceiptStage::Actioned.to_wire() as u8;
        let mut out = Vec::new();
        for (id, notice) in notices {
            if notice.response_deadline == 0 || notice.response_deadline > now {
                continue;
            }
            let done: BTreeSet<String> = self
                .state
                .store(move |s| s.receipts(&id))
                .await
                .map_err(status::store)?
                .into_iter()
                .filter(|(stage, _, _)| *stage >= actioned)
                .map(|(_, receiver, _)| receiver)
                .collect();
            let awaiting: Vec<String> = if notice.direction == Direction::Sent as i32 {
                notice
                    .recipients
                    .iter()
                    .filter(|r| !done.contains(*r))
                    .cloned()
                    .collect()
            } else if done.contains(&me) {
                Vec::new()
            } else {
                vec![me.clone()]
            };
            if awaiting.is_empty() {
                continue;
            }
            out.push(wire::OverdueNotice {
                notice_id: id.as_bytes().to_vec(),
                kind: notice.kind,
                direction: notice.direction,
                response_deadline: Some(prost_types::Timestamp {
                    seconds: notice.response_deadline,
                    nanos: 0,
                }),
                awaiting,
            });
        }
        Ok(Response::new(wire::ListOverdueResponse { notices: out }))
    }
}
