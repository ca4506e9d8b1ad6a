//! The `PeerExchange` service: what one agency's node offers another.

use std::sync::Arc;

use lintas_core::ids::AgencyId;
use lintas_core::pb as wire;
use lintas_core::receipt::{Receipt, SignedReceipt};
use lintas_core::roster::VerifiedNotice;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::ReceiptStage;
use lintas_store::{Direction, ReceiveOutcome, StoredNotice};
use tonic::{Request, Response, Status};
use tracing::{info, instrument, warn};

use crate::pb::peer_exchange_server::PeerExchange;
use crate::state::NodeState;
use crate::status;
use crate::tls::{PeerIdentity, caller_of};

/// The peer-exchange service of one node.
#[derive(Debug, Clone)]
pub struct PeerService {
    state: Arc<NodeState>,
}

impl PeerService {
    pub(crate) fn new(state: Arc<NodeState>) -> Self {
        PeerService { state }
    }

    /// Counts a refused notice by its reason.
    fn count_refusal(&self, status: &Status) {
        let reason = status
            .metadata()
            .get("lintas-reason")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("other")
            .to_owned();
        self.state
            .metrics
            .notices_refused
            .get_or_create(&crate::metrics::Reason { reason })
            .inc();
    }

    /// Counts and returns a refusal.
    fn refuse(&self, status: Status) -> Status {
        self.count_refusal(&status);
        status
    }

    /// The agency on the other end, or the status refusing the call.
    fn caller<T>(&self, request: &Request<T>) -> Result<AgencyId, Status> {
        let roster = self.state.roster();
        let agency = match caller_of(request, &self.state.transport, roster.roster()) {
            PeerIdentity::Agency(agency) => agency,
            other => return Err(status::peer(&other)),
        };
        if self.state.peer_rate.check_key(&agency).is_err() {
            return Err(status::exhausted(
                format!(
                    "{agency} exceeded {} requests per second; retry later",
                    self.state.limits.peer_requests_per_second
                ),
                "rate_limited",
            ));
        }
        Ok(agency)
    }
}

/// What the node keeps about a notice, for indexing.
pub(crate) fn stored(
    verified: &VerifiedNotice,
    direction: Direction,
    delivered_by: &AgencyId,
) -> StoredNotice {
    let body = &verified.body;
    StoredNotice {
        envelope: verified.envelope.encode(),
        direction: direction as i32,
        stored_at: Timestamp::now().unix_seconds(),
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
    }
}

#[tonic::async_trait]
impl PeerExchange for PeerService {
    #[instrument(skip_all, fields(node = %self.state.agency))]
    async fn deliver(
        &self,
        request: Request<wire::DeliverRequest>,
    ) -> Result<Response<wire::DeliverResponse>, Status> {
        let peer = self.caller(&request)?;
        let envelope = request
            .into_inner()
            .notice
            .ok_or_else(|| status::missing("notice"))?;
        let notice = SignedNotice::try_from(envelope).map_err(|e| status::invalid(&e, "notice"))?;
        let now = Timestamp::now();
        let me = self.state.agency.clone();

        // A duplicate (same id, same bytes) is answered with the original
        // receipt, whatever has happened since (even expiry).
        if let Some(claimed) = notice.claimed_id() {
            let existing = self
                .state
                .store(move |s| s.notice(&claimed))
                .await
                .map_err(status::store)?;
            if let Some(existing) = existing
                && existing.envelope == notice.encode()
            {
                let receipts = self
                    .state
                    .store(move |s| s.receipts(&claimed))
                    .await
                    .map_err(status::store)?;
                let accepted = receipts.into_iter().find(|(stage, receiver, _)| {
                    *stage == ReceiptStage::Accepted.to_wire() as u8 && receiver == me.as_str()
                });
                if let Some((_, _, bytes)) = accepted {
                    let receipt = SignedReceipt::decode(&bytes).map_err(|e| {
                        status::store(lintas_store::StoreError::Corrupt {
                            what: format!("receipt of {claimed}"),
                            detail: e.to_string(),
                        })
                    })?;
                    info!(notice = %claimed, %peer, "duplicate delivery answered with the original receipt");
                    self.state.metrics.notices_duplicate.inc();
                    return Ok(Response::new(wire::DeliverResponse {
                        receipt: Some(receipt.into()),
                        duplicate: true,
                    }));
                }
            }
        }

        let verified = {
            let roster = self.state.roster();
            roster.verify_notice(&notice, now).map_err(|e| {
                warn!(%peer, error = %e, "notice refused");
                let status = status::rejected(&e);
                self.count_refusal(&status);
                status
            })?
        };
        let body = &verified.body;
        let relayed = body.sender != peer;
        if relayed && !(body.handling.may_forward && body.recipients.contains(&peer)) {
            return Err(self.refuse(status::denied(
                format!(
                    "notice signed by {} delivered by {peer}, which is neither its sender nor a recipient allowed to forward it",
                    body.sender
                ),
                "sender_not_peer",
            )));
        }
        if !body.recipients.contains(&me) && !relayed {
            return Err(self.refuse(status::denied(
                format!("notice {} is not addressed to {me}", verified.id),
                "not_a_recipient",
            )));
        }

        // Only once the caller is entitled to deliver it: these checks look
        // at other notices.
        self.state
            .check_history(body)
            .await
            .map_err(|e| self.refuse(status::history(e)))?;
        let mut receipt = Receipt::new(
            verified.id,
            &notice,
            me.clone(),
            ReceiptStage::Accepted,
            now,
        );
        receipt.note = relayed.then(|| format!("forwarded by {peer}"));
        let signed = SignedReceipt::sign(&receipt, &self.state.key)
            .map_err(|e| status::invalid(&e, "receipt"))?;
        let record = stored(&verified, Direction::Received, &peer);
        let id = verified.id;
        let receipt_bytes = signed.encode();
        let me_text = me.to_string();
        let outcome = self
            .state
            .store(move |s| {
                s.record_received(
                    &id,
                    &record,
                    &me_text,
                    ReceiptStage::Accepted.to_wire() as u8,
                    &receipt_bytes,
                )
            })
            .await
            .map_err(status::store)?;
        match outcome {
            ReceiveOutcome::New { cursor } => {
                info!(notice = %id, kind = body.kind().wire_name(), sender = %body.sender, cursor, "notice accepted");
                self.state.inbox.send_replace(cursor);
                self.state.metrics.notices_accepted.inc();
                Ok(Response::new(wire::DeliverResponse {
                    receipt: Some(signed.into()),
                    duplicate: false,
                }))
            }
            ReceiveOutcome::Duplicate { receipt } => {
                let original = SignedReceipt::decode(&receipt).map_err(|e| {
                    status::store(lintas_store::StoreError::Corrupt {
                        what: format!("receipt of {id}"),
                        detail: e.to_string(),
                    })
                })?;
                Ok(Response::new(wire::DeliverResponse {
                    receipt: Some(original.into()),
                    duplicate: true,
                }))
            }
        }
    }

    #[instrument(skip_all, fields(node = %self.state.agency))]
    async fn report_receipt(
        &self,
        request: Request<wire::ReportReceiptRequest>,
    ) -> Result<Response<wire::ReportReceiptResponse>, Status> {
        let peer = self.caller(&request)?;
        let signed = request
            .into_inner()
            .receipt
            .ok_or_else(|| status::missing("receipt"))?;
        let signed = SignedReceipt::try_from(signed).map_err(|e| status::invalid(&e, "receipt"))?;
        if signed.signer() != &peer {
            return Err(status::denied(
                format!("receipt signed by {} reported by {peer}", signed.signer()),
                "sender_not_peer",
            ));
        }
        let receipt = {
            let roster = self.state.roster();
            roster
                .verify_receipt(&signed, Timestamp::now())
                .map_err(|e| status::rejected(&e))?
        };
        let id = receipt.notice_id;
        let notice = self
            .state
            .store(move |s| s.notice(&id))
            .await
            .map_err(status::store)?
            .ok_or_else(|| status::not_found(format!("no notice {id} here")))?;
        if notice.direction != Direction::Sent as i32
            || !notice.recipients.iter().any(|r| r == peer.as_str())
        {
            return Err(status::denied(
                format!("{peer} is not a recipient of a notice {id} sent from here"),
                "not_a_recipient",
            ));
        }
        let digest = lintas_core::receipt::body_digest(
            &SignedNotice::decode(&notice.envelope).map_err(|e| status::invalid(&e, "stored"))?,
        );
        if digest != receipt.body_sha256 {
            return Err(status::denied(
                "the receipt is for other bytes than the notice sent".into(),
                "receipt_digest_mismatch",
            ));
        }
        let bytes = signed.encode();
        let stage = receipt.stage.to_wire() as u8;
        let receiver = peer.to_string();
        self.state
            .store(move |s| s.store_receipt(&id, stage, &receiver, &bytes, None))
            .await
            .map_err(status::store)?;
        info!(notice = %id, %peer, stage = receipt.stage.wire_name(), "receipt recorded");
        Ok(Response::new(wire::ReportReceiptResponse {}))
    }

    #[instrument(skip_all, fields(node = %self.state.agency))]
    async fn fetch_notice(
        &self,
        request: Request<wire::FetchNoticeRequest>,
    ) -> Result<Response<wire::FetchNoticeResponse>, Status> {
        let peer = self.caller(&request)?;
        let id = crate::agency::notice_id(&request.into_inner().notice_id, "notice_id")?;
        let notice = self
            .state
            .store(move |s| s.notice(&id))
            .await
            .map_err(status::store)?;
        // The same answer for "absent" and "not yours", so a stranger cannot
        // probe which notices exist.
        let entitled = notice.as_ref().is_some_and(|n| {
            n.sender == peer.as_str() || n.recipients.iter().any(|r| r == peer.as_str())
        });
        match notice {
            Some(n) if entitled => {
                let envelope =
                    SignedNotice::decode(&n.envelope).map_err(|e| status::invalid(&e, "stored"))?;
                Ok(Response::new(wire::FetchNoticeResponse {
                    notice: Some(envelope.into()),
                }))
            }
            _ => Err(status::denied(
                format!("{peer} is not entitled to notice {id}, or it is not here"),
                "not_entitled",
            )),
        }
    }
}
