//! The `AgencyApi` service: an agency's own case system talking to its
//! node. Each method checks the caller's certificate, converts the request
//! and hands it to the engine.

use lintas_node::access::AccessRecord;
use std::pin::Pin;
use std::sync::Arc;

use lintas_core::ValidationError;
use lintas_core::ids::{AgencyId, CaseId, NoticeId};
use lintas_core::notice::NoticeBody;
use lintas_core::pb as wire;
use lintas_core::text::Text;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{AssistanceOutcome, ReceiptStage, Tlp};
use lintas_node::{Acknowledgement, InboxError, Page, Submitted};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};
use tracing::instrument;

use crate::pb::agency_api_server::AgencyApi;

/// The pieces an evidence bundle is streamed in.
const EVIDENCE_PIECE_BYTES: usize = 256 * 1024;

/// An evidence bundle, piece by piece.
type EvidenceStream = Pin<Box<dyn Stream<Item = Result<wire::EvidencePiece, Status>> + Send>>;
use crate::state::NodeState;
use crate::status;
use crate::tls::{PeerIdentity, Transport, cert_matches};

/// The agency API of one node.
#[derive(Debug, Clone)]
pub struct AgencyService {
    state: Arc<NodeState>,
}

/// The metadata key naming the officer of an agency API call.
pub const OFFICER_HEADER: &str = "lintas-officer";

impl AgencyService {
    pub(crate) fn new(state: Arc<NodeState>) -> Self {
        AgencyService { state }
    }

    /// Only the agency's configured case-system clients may call.
    fn authorise<T>(&self, request: &Request<T>) -> Result<(), Status> {
        self.case_system(request).map(drop)
    }

    /// The case-system client and the officer of a call that reads
    /// personal data: the officer's case-system user id is required in the
    /// `lintas-officer` metadata (docs/PROTOCOL.md section 14.8).
    fn reader<T>(&self, request: &Request<T>) -> Result<(String, String), Status> {
        let case_system = self.case_system(request)?;
        let officer = request
            .metadata()
            .get(OFFICER_HEADER)
            .ok_or_else(|| status::missing(OFFICER_HEADER))?
            .to_str()
            .map_err(|_| {
                status::invalid(
                    &lintas_core::ValidationError::invalid(
                        OFFICER_HEADER,
                        "visible ASCII",
                        "bytes that are not",
                    ),
                    "",
                )
            })?
            .to_owned();
        lintas_node::access::check_officer(&officer).map_err(|e| status::invalid(&e, ""))?;
        Ok((case_system, officer))
    }

    /// Records a read of personal data; nothing is handed out unless the
    /// record is on disk.
    async fn record(&self, record: AccessRecord) -> Result<(), Status> {
        self.state
            .engine
            .record_access(record)
            .await
            .map(drop)
            .map_err(|r| status::refused(&r))
    }

    /// Records `record` naming those of `notices` that carry personal
    /// data; nothing is recorded when none does.
    async fn record_personal<'a>(
        &self,
        mut record: AccessRecord,
        notices: impl Iterator<Item = (NoticeId, &'a lintas_core::signing::SignedNotice)>,
    ) -> Result<(), Status> {
        record.notices = notices
            .filter(|(_, envelope)| {
                envelope
                    .open_body()
                    .is_ok_and(|(_, b)| b.content.carries_personal_data())
            })
            .map(|(id, _)| id)
            .collect();
        if record.notices.is_empty() {
            return Ok(());
        }
        self.record(record).await
    }

    /// The configured case-system client calling (its TLS name), for the
    /// records that name who did something.
    fn case_system<T>(&self, request: &Request<T>) -> Result<String, Status> {
        if matches!(self.state.transport, Transport::PlaintextForDevelopment) {
            return Ok("case system (plaintext development mode)".into());
        }
        let Some(leaf) = request.peer_certs().and_then(|c| c.first().cloned()) else {
            return Err(status::unidentified(&PeerIdentity::NoCertificate));
        };
        self.state
            .api_clients
            .iter()
            .find(|name| cert_matches(&leaf, name))
            .cloned()
            .ok_or_else(|| {
                status::denied(
                    "this certificate is not a case-system client of this node".into(),
                    "not_an_api_client",
                )
            })
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

fn submitted(s: Submitted) -> wire::SubmitNoticeResponse {
    wire::SubmitNoticeResponse {
        notice_id: s.id.as_bytes().to_vec(),
        sequence: s.sequence,
    }
}

fn timestamp(seconds: i64, nanos: u32) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds,
        nanos: i32::try_from(nanos).unwrap_or(0),
    }
}

type InboxStream = Pin<Box<dyn Stream<Item = Result<wire::InboxItem, Status>> + Send>>;
type ReceiptStream = Pin<Box<dyn Stream<Item = Result<wire::ReceiptEvent, Status>> + Send>>;

#[tonic::async_trait]
impl AgencyApi for AgencyService {
    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn submit_notice(
        &self,
        request: Request<wire::SubmitNoticeRequest>,
    ) -> Result<Response<wire::SubmitNoticeResponse>, Status> {
        self.authorise(&request)?;
        let me = self.state.engine.agency().clone();
        let request = request.into_inner();
        let idempotency_key =
            (!request.idempotency_key.is_empty()).then_some(request.idempotency_key);
        let mut draft = request.draft.ok_or_else(|| status::missing("draft"))?;
        if !draft.notice_id.is_empty() {
            return Err(status::invalid(
                &ValidationError::rule("notice_id", "must be empty: the node derives it"),
                "draft",
            ));
        }
        if !draft.sender.is_empty() && draft.sender != me.as_str() {
            return Err(status::invalid(
                &ValidationError::rule("sender", "must be empty or this node's agency"),
                "draft",
            ));
        }
        if draft.sequence != 0 {
            return Err(status::invalid(
                &ValidationError::rule("sequence", "must be 0: the node assigns it"),
                "draft",
            ));
        }
        // Placeholders the node replaces, so the draft passes validation.
        let now = Timestamp::now();
        draft.notice_id = vec![0; 32];
        draft.sender = me.to_string();
        draft.sequence = 1;
        if draft.created_at.is_none() {
            draft.created_at = Some(now.into());
        }
        let (_, body) = NoticeBody::from_wire(draft).map_err(|e| status::invalid(&e, "draft"))?;
        let sent = self
            .state
            .engine
            .submit_once(body, idempotency_key.as_deref(), now)
            .await
            .map_err(|r| status::refused(&r))?;
        Ok(Response::new(submitted(sent)))
    }

    type SubscribeInboxStream = InboxStream;

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn subscribe_inbox(
        &self,
        request: Request<wire::SubscribeInboxRequest>,
    ) -> Result<Response<Self::SubscribeInboxStream>, Status> {
        let (case_system, officer) = self.reader(&request)?;
        let after = request.into_inner().after_cursor;
        let engine = self.state.engine.clone();
        let stream = self.state.engine.inbox(after).then(move |item| {
            let (engine, case_system, officer) =
                (engine.clone(), case_system.clone(), officer.clone());
            async move {
                match item {
                    Ok(n) => {
                        if n.body.content.carries_personal_data() {
                            let mut record = AccessRecord::new(
                                Timestamp::now(),
                                &officer,
                                &case_system,
                                "SubscribeInbox",
                            );
                            record.case_id = n.body.case_id.as_ref().map(ToString::to_string);
                            record.notices = vec![n.id];
                            engine
                                .record_access(record)
                                .await
                                .map_err(|r| status::refused(&r))?;
                        }
                        Ok(wire::InboxItem {
                            cursor: n.cursor,
                            notice_id: n.id.as_bytes().to_vec(),
                            notice: Some(n.envelope.into()),
                            received_at: Some(n.received_at.into()),
                        })
                    }
                    Err(InboxError::Store(e)) => {
                        Err(status::refused(&lintas_node::Refusal::Store(e)))
                    }
                    Err(e) => Err(Status::internal(e.to_string())),
                }
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn get_case_timeline(
        &self,
        request: Request<wire::GetCaseTimelineRequest>,
    ) -> Result<Response<wire::GetCaseTimelineResponse>, Status> {
        let (case_system, officer) = self.reader(&request)?;
        let request = request.into_inner();
        let case_id =
            CaseId::parse(&request.case_id).map_err(|e| status::invalid(&e, "case_id"))?;
        let page = Page {
            size: request.page_size as usize,
            token: request.page_token,
            bytes: (self.state.limits.max_message_bytes / 2).min(512 * 1024),
        };
        let (entries, next) = self
            .state
            .read(move |e| e.case_timeline_page(&case_id, &page))
            .await?;
        let mut record =
            AccessRecord::new(Timestamp::now(), &officer, &case_system, "GetCaseTimeline");
        record.case_id = Some(request.case_id.clone());
        self.record_personal(record, entries.iter().map(|e| (e.id, &e.envelope)))
            .await?;
        let entries = entries
            .into_iter()
            .map(|e| wire::TimelineEntry {
                notice_id: e.id.as_bytes().to_vec(),
                kind: e.notice.kind,
                sender: e.notice.sender.clone(),
                recipients: e.notice.recipients.clone(),
                created_at: Some(timestamp(e.notice.created_at, e.notice.created_at_nanos)),
                direction: e.notice.direction,
                receipts: e.receipts.into_iter().map(Into::into).collect(),
                notice: Some(e.envelope.into()),
            })
            .collect();
        Ok(Response::new(wire::GetCaseTimelineResponse {
            entries,
            next_page_token: next.unwrap_or_default(),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn list_notices(
        &self,
        request: Request<wire::ListNoticesRequest>,
    ) -> Result<Response<wire::ListNoticesResponse>, Status> {
        let (case_system, officer) = self.reader(&request)?;
        let request = request.into_inner();
        let page = Page {
            size: request.page_size as usize,
            token: request.page_token,
            bytes: (self.state.limits.max_message_bytes / 2).min(512 * 1024),
        };
        let (held, next) = self.state.read(move |e| e.notices_page(&page)).await?;
        let record = AccessRecord::new(Timestamp::now(), &officer, &case_system, "ListNotices");
        self.record_personal(record, held.iter().map(|n| (n.id, &n.envelope)))
            .await?;
        let notices = held
            .into_iter()
            .map(|n| wire::HeldNotice {
                notice_id: n.id.as_bytes().to_vec(),
                direction: n.notice.direction,
                stored_at: Some(timestamp(n.notice.stored_at, 0)),
                notice: Some(n.envelope.into()),
            })
            .collect();
        Ok(Response::new(wire::ListNoticesResponse {
            notices,
            next_page_token: next.unwrap_or_default(),
            agency: self.state.engine.agency().to_string(),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn acknowledge(
        &self,
        request: Request<wire::AcknowledgeRequest>,
    ) -> Result<Response<wire::AcknowledgeResponse>, Status> {
        self.authorise(&request)?;
        let request = request.into_inner();
        let id = notice_id(&request.notice_id, "notice_id")?;
        let stage =
            ReceiptStage::from_wire(request.stage).map_err(|e| status::invalid(&e, "stage"))?;
        let mut ack = Acknowledgement::new(stage);
        ack.note = (!request.note.is_empty()).then_some(request.note);
        ack.reason = request
            .reason
            .map(Text::try_from)
            .transpose()
            .map_err(|e| status::invalid(&e, "reason"))?;
        ack.refer_to = if request.refer_to.is_empty() {
            None
        } else {
            Some(AgencyId::parse(&request.refer_to).map_err(|e| status::invalid(&e, "refer_to"))?)
        };
        let receipt = self
            .state
            .engine
            .acknowledge_with(id, ack, Timestamp::now())
            .await
            .map_err(|r| status::refused(&r))?;
        Ok(Response::new(wire::AcknowledgeResponse {
            receipt: Some(receipt.into()),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn answer_assistance(
        &self,
        request: Request<wire::AnswerAssistanceRequest>,
    ) -> Result<Response<wire::SubmitNoticeResponse>, Status> {
        self.authorise(&request)?;
        let request = request.into_inner();
        let id = notice_id(&request.request, "request")?;
        let outcome = AssistanceOutcome::from_wire(request.outcome)
            .map_err(|e| status::invalid(&e, "outcome"))?;
        let answer = request
            .answer
            .ok_or_else(|| ValidationError::missing(""))
            .and_then(Text::try_from)
            .map_err(|e| status::invalid(&e, "answer"))?;
        let tlp = if request.tlp == 0 {
            None
        } else {
            Some(Tlp::from_wire(request.tlp).map_err(|e| status::invalid(&e, "tlp"))?)
        };
        let sent = self
            .state
            .engine
            .answer_assistance(id, outcome, answer, tlp, Timestamp::now())
            .await
            .map_err(|r| status::refused(&r))?;
        Ok(Response::new(submitted(sent)))
    }

    type SubscribeReceiptsStream = ReceiptStream;

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn subscribe_receipts(
        &self,
        request: Request<wire::SubscribeReceiptsRequest>,
    ) -> Result<Response<Self::SubscribeReceiptsStream>, Status> {
        self.authorise(&request)?;
        let events = self.state.engine.receipt_events().map(|event| {
            Ok(match event {
                Ok(e) => wire::ReceiptEvent {
                    notice_id: e.notice_id.as_bytes().to_vec(),
                    receiver: e.receiver,
                    stage: e.stage.to_wire(),
                    receipt: Some(e.receipt.into()),
                    missed: 0,
                },
                Err(missed) => wire::ReceiptEvent {
                    missed,
                    ..Default::default()
                },
            })
        });
        Ok(Response::new(Box::pin(events)))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn list_overdue(
        &self,
        request: Request<wire::ListOverdueRequest>,
    ) -> Result<Response<wire::ListOverdueResponse>, Status> {
        self.authorise(&request)?;
        let now = Timestamp::now();
        let request = request.into_inner();
        let page = Page {
            size: request.page_size as usize,
            token: request.page_token,
            bytes: 0,
        };
        let (notices, next) = self.state.read(move |e| e.overdue_page(now, &page)).await?;
        let notices = notices
            .into_iter()
            .map(|o| wire::OverdueNotice {
                notice_id: o.id.as_bytes().to_vec(),
                kind: o.notice.kind,
                direction: o.notice.direction,
                response_deadline: Some(timestamp(o.notice.response_deadline, 0)),
                awaiting: o.awaiting,
            })
            .collect();
        Ok(Response::new(wire::ListOverdueResponse {
            notices,
            next_page_token: next.unwrap_or_default(),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn install_roster(
        &self,
        request: Request<wire::InstallRosterRequest>,
    ) -> Result<Response<wire::InstallRosterResponse>, Status> {
        self.authorise(&request)?;
        let roster = request
            .into_inner()
            .roster
            .ok_or_else(|| status::missing("roster"))?;
        let signed = lintas_core::roster::SignedRoster::try_from(roster)
            .map_err(|e| status::invalid(&e, "roster"))?;
        let version = self
            .state
            .engine
            .install_roster(signed, Timestamp::now())
            .await
            .map_err(|r| status::refused(&r))?;
        Ok(Response::new(wire::InstallRosterResponse { version }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn forward_notice(
        &self,
        request: Request<wire::ForwardNoticeRequest>,
    ) -> Result<Response<wire::ForwardNoticeResponse>, Status> {
        self.authorise(&request)?;
        let request = request.into_inner();
        let id = notice_id(&request.notice_id, "notice_id")?;
        let to = request
            .to
            .iter()
            .enumerate()
            .map(|(i, a)| {
                AgencyId::parse(a).map_err(|e| status::invalid(&e.within_item("to", i), ""))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let receipt = self
            .state
            .engine
            .forward(id, to, Timestamp::now())
            .await
            .map_err(|r| status::refused(&r))?;
        Ok(Response::new(wire::ForwardNoticeResponse {
            receipt: Some(receipt.into()),
        }))
    }

    type ExportEvidenceStream = EvidenceStream;
    type ExportOfflineStream = crate::offline::OfflineStream;
    type GetAttachmentStream = crate::attachments::PieceStream;

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn upload_attachment(
        &self,
        request: Request<tonic::Streaming<wire::AttachmentUpload>>,
    ) -> Result<Response<wire::AttachmentUploaded>, Status> {
        let who = self.case_system(&request)?;
        crate::attachments::upload(&self.state, request.into_inner(), &who)
            .await
            .map(Response::new)
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn get_attachment(
        &self,
        request: Request<wire::GetAttachmentRequest>,
    ) -> Result<Response<Self::GetAttachmentStream>, Status> {
        let (who, officer) = self.reader(&request)?;
        let request = request.into_inner();
        let mut record = AccessRecord::new(Timestamp::now(), &officer, &who, "GetAttachment");
        if let Ok(sha) = <[u8; 32]>::try_from(request.sha256.as_slice()) {
            record.attachments = vec![sha];
        }
        let response = crate::attachments::get(&self.state, request, &who).await?;
        self.record(record).await?;
        Ok(Response::new(response))
    }
    type ImportOfflineStream = crate::offline::ImportStream;

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn export_offline(
        &self,
        request: Request<wire::ExportOfflineRequest>,
    ) -> Result<Response<Self::ExportOfflineStream>, Status> {
        let (case_system, officer) = self.reader(&request)?;
        let response = crate::offline::export(&self.state, request.into_inner()).await?;
        self.record(AccessRecord::new(
            Timestamp::now(),
            &officer,
            &case_system,
            "ExportOffline",
        ))
        .await?;
        Ok(Response::new(response))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn import_offline(
        &self,
        request: Request<tonic::Streaming<wire::OfflinePiece>>,
    ) -> Result<Response<Self::ImportOfflineStream>, Status> {
        self.authorise(&request)?;
        crate::offline::import(&self.state, request.into_inner())
            .await
            .map(Response::new)
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn export_evidence(
        &self,
        request: Request<wire::ExportEvidenceRequest>,
    ) -> Result<Response<Self::ExportEvidenceStream>, Status> {
        let (case_system, officer) = self.reader(&request)?;
        let request = request.into_inner();
        let (case_id, with_attachments) = (request.case_id, request.with_attachments);
        let case = CaseId::parse(&case_id).map_err(|e| status::invalid(&e, "case_id"))?;
        let transport = crate::delivery::GrpcTransport::new(Arc::clone(&self.state));
        let exported = self
            .state
            .engine
            .export_evidence(
                case.as_str(),
                with_attachments,
                &transport,
                Timestamp::now(),
            )
            .await
            .map_err(|r| status::refused(&r))?;
        let mut record =
            AccessRecord::new(Timestamp::now(), &officer, &case_system, "ExportEvidence");
        record.case_id = Some(case_id.clone());
        self.record(record).await?;
        for missing in &exported.missing_proofs {
            tracing::warn!(case = %case_id, %missing, "evidence bundle without a proof from another node");
        }
        let total = exported.file.len() as u64;
        let notices = u32::try_from(exported.notices).unwrap_or(u32::MAX);
        let pieces: Vec<Result<wire::EvidencePiece, Status>> = exported
            .file
            .chunks(EVIDENCE_PIECE_BYTES)
            .enumerate()
            .map(|(i, data)| {
                Ok(wire::EvidencePiece {
                    data: data.to_vec(),
                    notices: if i == 0 { notices } else { 0 },
                    total_bytes: if i == 0 { total } else { 0 },
                })
            })
            .collect();
        Ok(Response::new(Box::pin(tokio_stream::iter(pieces))))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn list_log_alarms(
        &self,
        request: Request<wire::ListLogAlarmsRequest>,
    ) -> Result<Response<wire::ListLogAlarmsResponse>, Status> {
        self.authorise(&request)?;
        let alarms = self.state.read(|e| e.log_alarms()).await?;
        Ok(Response::new(wire::ListLogAlarmsResponse {
            alarms: alarms.into_iter().map(Into::into).collect(),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn list_access_log(
        &self,
        request: Request<wire::ListAccessLogRequest>,
    ) -> Result<Response<wire::ListAccessLogResponse>, Status> {
        self.reader(&request)?;
        let request = request.into_inner();
        let (after, size) = (request.after, request.page_size as usize);
        let records = self.state.read(move |e| e.access_log(after, size)).await?;
        Ok(Response::new(wire::ListAccessLogResponse { records }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn find_identifier(
        &self,
        request: Request<wire::FindIdentifierRequest>,
    ) -> Result<Response<wire::FindIdentifierResponse>, Status> {
        let (case_system, officer) = self.reader(&request)?;
        let request = request.into_inner();
        let kind = lintas_core::vocab::IdentifierKind::from_wire(request.kind)
            .map_err(|e| status::invalid(&e.within("kind"), ""))?;
        let identifier =
            lintas_core::matching::Identifier::parse(kind, &request.scope, &request.value)
                .map_err(|e| status::invalid(&e, ""))?;
        let mut agencies = Vec::with_capacity(request.agencies.len());
        for (i, a) in request.agencies.iter().enumerate() {
            let agency = AgencyId::parse(a)
                .map_err(|e| status::invalid(&e.within_item("agencies", i), ""))?;
            if self
                .state
                .engine
                .roster()
                .roster()
                .agency(&agency)
                .is_none()
            {
                return Err(status::invalid(
                    &ValidationError::unknown_reference(
                        "",
                        "an agency in the roster",
                        agency.as_str(),
                    )
                    .within_item("agencies", i),
                    "",
                ));
            }
            agencies.push(agency);
        }
        // Recorded before asking, without the identifier: who asked and
        // when.
        let record = AccessRecord::new(Timestamp::now(), &officer, &case_system, "FindIdentifier");
        self.record(record).await?;
        let transport = Arc::new(crate::delivery::GrpcTransport::new(Arc::clone(&self.state)));
        let results = self
            .state
            .engine
            .find_identifier(transport, &identifier, &agencies)
            .await;
        Ok(Response::new(wire::FindIdentifierResponse {
            normal_form: identifier.normal_form().to_owned(),
            answers: results.into_iter().map(match_to_wire).collect(),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn erase_persons(
        &self,
        request: Request<wire::ErasePersonsRequest>,
    ) -> Result<Response<wire::ErasePersonsResponse>, Status> {
        self.authorise(&request)?;
        let request = request.into_inner();
        let case = CaseId::parse(&request.case_id)
            .map_err(|e| status::invalid(&e.within("case_id"), ""))?;
        let mut persons = Vec::with_capacity(request.persons.len());
        for (i, p) in request.persons.iter().enumerate() {
            persons.push(
                lintas_core::ids::RecordId::parse(p)
                    .map_err(|e| status::invalid(&e.within_item("persons", i), ""))?,
            );
        }
        let reason = request
            .reason
            .ok_or_else(|| ValidationError::missing("reason"))
            .and_then(|t| Text::try_from(t).map_err(|e| e.within("reason")))
            .map_err(|e| status::invalid(&e, ""))?;
        let erasures = self
            .state
            .engine
            .erase_persons(&case, &persons, reason, Timestamp::now())
            .await
            .map_err(|r| status::refused(&r))?;
        Ok(Response::new(wire::ErasePersonsResponse {
            erasures: erasures
                .into_iter()
                .map(|e| wire::PersonErasure {
                    notice_id: e.notice.as_bytes().to_vec(),
                    withdrawal_id: e.withdrawal.as_bytes().to_vec(),
                })
                .collect(),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn get_erasure_status(
        &self,
        request: Request<wire::GetErasureStatusRequest>,
    ) -> Result<Response<wire::GetErasureStatusResponse>, Status> {
        self.authorise(&request)?;
        let id = notice_id(&request.into_inner().notice_id, "notice_id")?;
        let holders = self.state.read(move |e| e.erasure_status(id)).await?;
        Ok(Response::new(wire::GetErasureStatusResponse {
            holders: holders
                .into_iter()
                .map(|h| wire::ErasureConfirmation {
                    holder: h.holder,
                    confirmed: h.confirmed,
                })
                .collect(),
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn list_dead_letters(
        &self,
        request: Request<wire::ListDeadLettersRequest>,
    ) -> Result<Response<wire::ListDeadLettersResponse>, Status> {
        self.authorise(&request)?;
        let request = request.into_inner();
        let page = Page {
            size: request.page_size as usize,
            token: request.page_token,
            bytes: 0,
        };
        let (page, next) = self.state.read(move |e| e.dead_letters_page(&page)).await?;
        let next = next.unwrap_or_default();
        let dead_letters = page
            .into_iter()
            .map(|d| wire::DeadLetter {
                seq: d.seq,
                recipient: d.recipient,
                case_id: d.case_id,
                notice_id: d
                    .notice_id
                    .map(|n| n.as_bytes().to_vec())
                    .unwrap_or_default(),
                error: d.error,
                refused_at: Some(prost_types::Timestamp {
                    seconds: d.refused_at_ms.div_euclid(1000),
                    nanos: i32::try_from(d.refused_at_ms.rem_euclid(1000) * 1_000_000).unwrap_or(0),
                }),
            })
            .collect();
        Ok(Response::new(wire::ListDeadLettersResponse {
            dead_letters,
            next_page_token: next,
        }))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn retry_dead_letter(
        &self,
        request: Request<wire::DeadLetterRequest>,
    ) -> Result<Response<wire::DeadLetterResponse>, Status> {
        self.authorise(&request)?;
        self.state
            .engine
            .retry_dead_letter(request.into_inner().seq)
            .await
            .map_err(|r| status::refused(&r))?;
        Ok(Response::new(wire::DeadLetterResponse {}))
    }

    #[instrument(skip_all, fields(node = %self.state.engine.agency()))]
    async fn drop_dead_letter(
        &self,
        request: Request<wire::DeadLetterRequest>,
    ) -> Result<Response<wire::DeadLetterResponse>, Status> {
        self.authorise(&request)?;
        self.state
            .engine
            .drop_dead_letter(request.into_inner().seq)
            .await
            .map_err(|r| status::refused(&r))?;
        Ok(Response::new(wire::DeadLetterResponse {}))
    }
}

fn match_to_wire(result: lintas_node::MatchResult) -> wire::IdentifierMatch {
    use lintas_node::MatchOutcome;
    let mut out = wire::IdentifierMatch {
        agency: result.agency.to_string(),
        ..Default::default()
    };
    let outcome = match result.outcome {
        MatchOutcome::Hit { contact } => {
            out.contact = Some(contact.into());
            wire::MatchOutcome::Hit
        }
        MatchOutcome::NoHit => wire::MatchOutcome::NoHit,
        MatchOutcome::Unreachable(message) => {
            out.message = message;
            wire::MatchOutcome::Unreachable
        }
        MatchOutcome::Refused(refused) => {
            out.reason = refused.reason;
            out.message = refused.message;
            wire::MatchOutcome::Refused
        }
        _ => wire::MatchOutcome::Unspecified,
    };
    out.outcome = outcome as i32;
    out
}
