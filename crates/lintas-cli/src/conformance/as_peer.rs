//! The checks the harness makes as the target's peer: it serves
//! `PeerExchange` at its own roster endpoint, has the target's case
//! system submit notices addressed to it, and checks what arrives, how the
//! target takes the receipts it answers with, and that it retries after a
//! refusal that means "not now".

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lintas_core::ids::NoticeId;
use lintas_core::pb;
use lintas_core::receipt::{Receipt, SignedReceipt};
use lintas_core::roster::TrustedRoster;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::ReceiptStage;
use lintas_grpc::pb::peer_exchange_client::PeerExchangeClient;
use lintas_grpc::pb::peer_exchange_server::{PeerExchange, PeerExchangeServer};
use tokio::sync::Notify;
use tokio_stream::StreamExt;
use tonic::{Code, Request, Response, Status};

use super::expect::expect_refusal;
use super::{Harness, Report};
use crate::client::Connection;

/// How long to wait for the target to deliver or record something.
const PATIENCE: Duration = Duration::from_secs(60);

/// How long to wait, at the end, for the target to offer a checkpoint of
/// its log if it has not yet.
const CHECKPOINT_PATIENCE: Duration = Duration::from_secs(10);

/// What arrived from the target.
#[derive(Default)]
struct Arrivals {
    /// Every notice delivered, in order (repeats included).
    notices: Vec<(NoticeId, SignedNotice)>,
    /// Answer the next notice that arrives `UNAVAILABLE`.
    refuse_next: bool,
    /// The notice so refused.
    refused: Option<NoticeId>,
    /// Problems with what arrived (a notice that does not verify, a caller
    /// that is not the target).
    problems: Vec<String>,
    /// The latest checkpoint of its log the target offered for witnessing.
    offered: Option<pb::SignedLogCheckpoint>,
}

/// The harness's `PeerExchange`: it accepts the target's notices with
/// signed `ACCEPTED` receipts, as a conformant recipient does.
struct Recipient {
    me: lintas_core::ids::AgencyId,
    key: lintas_core::keys::SigningKey,
    roster: TrustedRoster,
    target_tls_name: String,
    arrivals: Arc<Mutex<Arrivals>>,
    arrived: Arc<Notify>,
}

impl Recipient {
    /// Takes one notice: `Ok(receipt)`, or `Err` to refuse the call.
    fn take(&self, wire: Option<pb::SignedNotice>) -> Result<pb::DeliverResponse, Status> {
        let wire = wire.ok_or_else(|| Status::invalid_argument("notice: missing"))?;
        let signed =
            SignedNotice::try_from(wire).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let verified = self.roster.verify_notice(&signed, Timestamp::now());
        let mut arrivals = self
            .arrivals
            .lock()
            .map_err(|_| Status::internal("harness state"))?;
        let id = match verified {
            Ok(v) => v.id,
            Err(e) => {
                arrivals.problems.push(format!(
                    "a delivered notice does not verify: {} ({e})",
                    e.reason()
                ));
                return Err(Status::invalid_argument(e.to_string()));
            }
        };
        arrivals.notices.push((id, signed.clone()));
        self.arrived.notify_waiters();
        if arrivals.refuse_next {
            arrivals.refuse_next = false;
            arrivals.refused = Some(id);
            return Err(Status::unavailable(
                "the conformance harness asks for a retry",
            ));
        }
        let receipt = Receipt::new(
            id,
            &signed,
            self.me.clone(),
            ReceiptStage::Accepted,
            Timestamp::now(),
        );
        let receipt = SignedReceipt::sign(&receipt, &self.key)
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(pb::DeliverResponse {
            receipt: Some(receipt.into()),
            duplicate: false,
        })
    }

    fn check_caller<T>(&self, request: &Request<T>) {
        let from_target = request
            .peer_certs()
            .and_then(|c| c.first().cloned())
            .is_some_and(|leaf| lintas_grpc::tls::cert_matches(&leaf, &self.target_tls_name));
        if !from_target && let Ok(mut a) = self.arrivals.lock() {
            a.problems
                .push("a call came with a certificate that is not the target's".into());
        }
    }
}

#[tonic::async_trait]
impl PeerExchange for Recipient {
    async fn deliver(
        &self,
        request: Request<pb::DeliverRequest>,
    ) -> Result<Response<pb::DeliverResponse>, Status> {
        self.check_caller(&request);
        self.take(request.into_inner().notice).map(Response::new)
    }

    async fn deliver_batch(
        &self,
        request: Request<pb::DeliverBatchRequest>,
    ) -> Result<Response<pb::DeliverBatchResponse>, Status> {
        use pb::batch_answer::Answer;
        use pb::batch_item::Item;
        self.check_caller(&request);
        let mut answers = Vec::new();
        for item in request.into_inner().items {
            let answer = match item.item {
                Some(Item::Notice(n)) => match self.take(Some(n)) {
                    Ok(delivered) => Answer::Delivered(delivered),
                    // "Not now" refuses the whole call, as a node that
                    // cannot take anything would.
                    Err(s) if s.code() == Code::Unavailable => return Err(s),
                    Err(s) => Answer::Refused(pb::BatchRefusal {
                        code: s.code() as u32,
                        reason: "invalid_argument".into(),
                        message: s.message().into(),
                        field: String::new(),
                    }),
                },
                Some(Item::Receipt(_)) => Answer::ReceiptRecorded(pb::ReportReceiptResponse {}),
                None => Answer::Refused(pb::BatchRefusal {
                    code: Code::InvalidArgument as u32,
                    reason: "invalid_argument".into(),
                    message: "an item with neither a notice nor a receipt".into(),
                    field: String::new(),
                }),
            };
            answers.push(pb::BatchAnswer {
                answer: Some(answer),
            });
        }
        Ok(Response::new(pb::DeliverBatchResponse { answers }))
    }

    async fn report_receipt(
        &self,
        _request: Request<pb::ReportReceiptRequest>,
    ) -> Result<Response<pb::ReportReceiptResponse>, Status> {
        Ok(Response::new(pb::ReportReceiptResponse {}))
    }

    async fn fetch_notice(
        &self,
        _request: Request<pb::FetchNoticeRequest>,
    ) -> Result<Response<pb::FetchNoticeResponse>, Status> {
        Err(Status::permission_denied(
            "the harness holds nothing to fetch",
        ))
    }

    async fn witness_checkpoint(
        &self,
        request: Request<pb::WitnessCheckpointRequest>,
    ) -> Result<Response<pb::WitnessCheckpointResponse>, Status> {
        self.check_caller(&request);
        // Kept, to offer back as the harness's own (not_log_origin).
        if let Ok(mut arrivals) = self.arrivals.lock() {
            arrivals.offered = request.into_inner().checkpoint;
        }
        Err(Status::unimplemented("the harness does not witness"))
    }

    async fn prove_log_consistency(
        &self,
        _request: Request<pb::ProveLogConsistencyRequest>,
    ) -> Result<Response<pb::ProveLogConsistencyResponse>, Status> {
        Err(Status::unimplemented("the harness keeps no log"))
    }

    async fn prove_log_inclusion(
        &self,
        _request: Request<pb::ProveLogInclusionRequest>,
    ) -> Result<Response<pb::LogInclusionProof>, Status> {
        Err(Status::unimplemented("the harness keeps no log"))
    }

    async fn fetch_attachment(
        &self,
        _request: Request<pb::FetchAttachmentRequest>,
    ) -> Result<Response<pb::FetchAttachmentResponse>, Status> {
        Err(Status::unimplemented("the harness holds no attachments"))
    }

    async fn match_identifier(
        &self,
        _request: Request<pb::MatchIdentifierRequest>,
    ) -> Result<Response<pb::MatchIdentifierResponse>, Status> {
        Err(Status::unimplemented("the harness holds no identifiers"))
    }
}

pub(crate) async fn run(h: &mut Harness, profile: &str, report: &mut Report) {
    let arrivals = Arc::new(Mutex::new(Arrivals::default()));
    let arrived = Arc::new(Notify::new());
    let key = match lintas_core::keys::SigningKey::from_seed(h.key.key_id().clone(), &h.key.seed())
    {
        Ok(key) => key,
        Err(e) => {
            report.check(
                "9.6",
                "serve as the target's peer",
                Err(format!("key: {e}")),
            );
            return;
        }
    };
    let recipient = Recipient {
        me: h.me.clone(),
        key,
        roster: h.roster.clone(),
        target_tls_name: h.target_tls_name.clone(),
        arrivals: Arc::clone(&arrivals),
        arrived: Arc::clone(&arrived),
    };
    let server = tonic::transport::Server::builder()
        .tls_config(h.tls.server_config())
        .map(|mut b| b.add_service(PeerExchangeServer::new(recipient)));
    let server = match server {
        Ok(router) => router,
        Err(e) => {
            report.check(
                "9.6",
                "serve as the target's peer",
                Err(format!("TLS: {e}")),
            );
            return;
        }
    };
    let listener = match tokio::net::TcpListener::bind(h.listen).await {
        Ok(l) => l,
        Err(e) => {
            report.check(
                "9.6",
                "serve as the target's peer",
                Err(format!(
                    "cannot listen on {} (is this agency's node running?): {e}",
                    h.listen
                )),
            );
            return;
        }
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        let _ = server
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            })
            .await;
    });

    let conn = Connection::for_profile(profile);
    let mut case_system = match crate::client::connect(&conn).await {
        Ok(c) => c,
        Err(e) => {
            report.check("9.6", "reach the target's case system", Err(e.to_string()));
            let _ = stop.send(());
            return;
        }
    };
    let mut receipts = match case_system
        .subscribe_receipts(pb::SubscribeReceiptsRequest {})
        .await
    {
        Ok(stream) => Some(stream.into_inner()),
        Err(e) => {
            report.check(
                "9.7",
                "subscribe to the target's receipts",
                Err(e.to_string()),
            );
            None
        }
    };

    // 1. A notice the target's case system addresses to the harness.
    let submitted = submit(h, &mut case_system, "compound_alert").await;
    let delivered = match submitted {
        Err(e) => {
            report.check(
                "9.6",
                "the target delivers a notice to its recipient",
                Err(e),
            );
            None
        }
        Ok(id) => {
            let outcome = wait_for(&arrivals, &arrived, id, 1).await;
            report.check(
                "9.6",
                "the target delivers a notice to its recipient",
                outcome
                    .as_ref()
                    .map(|_| format!("notice {id} arrived"))
                    .map_err(Clone::clone),
            );
            outcome.ok().map(|signed| (id, signed))
        }
    };
    if let Some((id, signed)) = &delivered {
        report.check(
            "5.4",
            "the delivered notice verifies, from the target, to the harness",
            delivered_notice(h, signed),
        );
        if let Some(stream) = receipts.as_mut() {
            report.check(
                "9.6",
                "the target records the harness's ACCEPTED receipt",
                wait_for_receipt(stream, *id, &h.me, ReceiptStage::Accepted).await,
            );
        }
        report.check(
            "9.4",
            "the target takes a later stage reported by its recipient",
            report_read(h, *id, signed, receipts.as_mut()).await,
        );
        report.check(
            "9.4",
            "a receipt naming another body digest (receipt_digest_mismatch)",
            report_wrong_digest(h, *id).await,
        );
        report.check(
            "5.6",
            "withdrawing the target's own notice is refused (not_own_notice)",
            withdraw_theirs(h, *id).await,
        );
    }

    // The harness's notice, which the target may not forward.
    let check = "forwarding a notice its sender did not let go further (not_forwardable)";
    match h.unforwardable {
        None => report.skip(
            "9.7",
            check,
            "the target accepted no notice of the harness's",
        ),
        Some(id) => report.check(
            "9.7",
            check,
            expect_refusal(
                case_system
                    .forward_notice(pb::ForwardNoticeRequest {
                        notice_id: id.as_bytes().to_vec(),
                        to: vec![h.me.to_string()],
                    })
                    .await,
                Code::FailedPrecondition,
                "not_forwardable",
                None,
            ),
        ),
    }

    // The agency API's own refusals: an unknown notice, and rosters.
    report.check(
        "9.7",
        "acknowledging a notice the target does not hold (not_found)",
        expect_refusal(
            case_system
                .acknowledge(pb::AcknowledgeRequest {
                    notice_id: vec![0x2d; 32],
                    stage: ReceiptStage::Read.to_wire(),
                    ..Default::default()
                })
                .await,
            Code::NotFound,
            "not_found",
            None,
        ),
    );
    super::rosters::run(h, &mut case_system, report).await;
    let check = "an attachment larger than the node takes (resource_exhausted)";
    match h.attachment_limit_mib {
        None => report.skip("9.9", check, "no --attachment-limit-mib given"),
        Some(mib) => report.check("9.9", check, too_large_a_file(&mut case_system, mib).await),
    }
    let check = "a request held open past the node's time limit (request_timeout)";
    match h.request_timeout {
        None => report.skip("9.9", check, "no --request-timeout-s given"),
        Some(limit) => report.check("9.9", check, stalled_upload(&mut case_system, limit).await),
    }

    // 2. A delivery answered UNAVAILABLE is tried again.
    let retry = async {
        let id = submit_refused_once(h, &mut case_system, &arrivals).await?;
        wait_for(&arrivals, &arrived, id, 2).await?;
        let refused = arrivals.lock().ok().and_then(|a| a.refused);
        if refused != Some(id) {
            return Err(format!(
                "the notice refused was {refused:?}, not the one submitted"
            ));
        }
        Ok::<String, String>(format!("notice {id} came again after UNAVAILABLE"))
    };
    report.check(
        "9.6",
        "a delivery refused with UNAVAILABLE is retried",
        retry.await,
    );

    // 3. The target's own checkpoint, offered back to it by the harness.
    let check = "a checkpoint of another agency's log offered as the caller's (not_log_origin)";
    let waited = std::time::Instant::now();
    let offered = loop {
        let offered = arrivals.lock().ok().and_then(|a| a.offered.clone());
        if offered.is_some() || waited.elapsed() >= CHECKPOINT_PATIENCE {
            break offered;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    match offered {
        None => report.skip(
            "10.5",
            check,
            &format!(
                "the target offered no checkpoint of its log during the run and {} s more (a node offers one every so often: the reference every 60 s by default)",
                CHECKPOINT_PATIENCE.as_secs()
            ),
        ),
        Some(theirs) => {
            let outcome = match h.channel(true).await {
                Err(e) => Err(e.to_string()),
                Ok(channel) => expect_refusal(
                    PeerExchangeClient::new(channel)
                        .witness_checkpoint(pb::WitnessCheckpointRequest {
                            checkpoint: Some(theirs),
                            ..Default::default()
                        })
                        .await,
                    Code::PermissionDenied,
                    "not_log_origin",
                    None,
                ),
            };
            report.check("10.5", check, outcome);
        }
    }

    let problems = arrivals
        .lock()
        .map(|a| a.problems.clone())
        .unwrap_or_default();
    report.check(
        "9.1",
        "every call came from the target and every notice verified",
        if problems.is_empty() {
            Ok("no problems".into())
        } else {
            Err(problems.join("; "))
        },
    );
    let _ = stop.send(());
    let _ = serving.await;
}

/// Submits the template of `kind` to the target's node, addressed to the
/// harness; its notice id.
async fn submit(
    h: &mut Harness,
    case_system: &mut lintas_grpc::AgencyClient,
    kind: &str,
) -> Result<NoticeId, String> {
    let mut body = super::template(kind, Timestamp::now()).map_err(|e| e.to_string())?;
    body.recipients = vec![h.me.clone()];
    let mut draft = body.to_wire();
    draft.sender.clear();
    draft.sequence = 0;
    let answer = case_system
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(draft),
            idempotency_key: String::new(),
        })
        .await
        .map_err(|s| {
            format!(
                "the target's node refused the submission: {}",
                crate::client::status(s)
            )
        })?
        .into_inner();
    let id = <[u8; 32]>::try_from(answer.notice_id.as_slice())
        .map_err(|_| "the submission's answer has no notice id".to_owned())?;
    Ok(NoticeId::from_bytes(id))
}

/// Submits a notice the harness refuses once with `UNAVAILABLE`: the
/// first notice to arrive after the harness is told to.
async fn submit_refused_once(
    h: &mut Harness,
    case_system: &mut lintas_grpc::AgencyClient,
    arrivals: &Arc<Mutex<Arrivals>>,
) -> Result<NoticeId, String> {
    if let Ok(mut a) = arrivals.lock() {
        a.refuse_next = true;
    }
    let id = submit(h, case_system, "modus_operandi_alert").await?;
    Ok(id)
}

/// Waits until notice `id` has arrived `times` times.
async fn wait_for(
    arrivals: &Arc<Mutex<Arrivals>>,
    arrived: &Arc<Notify>,
    id: NoticeId,
    times: usize,
) -> Result<SignedNotice, String> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let notified = arrived.notified();
        if let Ok(a) = arrivals.lock() {
            let seen: Vec<&SignedNotice> = a
                .notices
                .iter()
                .filter(|(n, _)| *n == id)
                .map(|(_, s)| s)
                .collect();
            if seen.len() >= times
                && let Some(signed) = seen.first()
            {
                return Ok((*signed).clone());
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Err(format!(
                "notice {id} did not arrive {times} time(s) within {} s",
                PATIENCE.as_secs()
            ));
        }
    }
}

fn delivered_notice(h: &Harness, signed: &SignedNotice) -> Result<String, String> {
    h.roster
        .verify_notice(signed, Timestamp::now())
        .map_err(|e| format!("{} ({e})", e.reason()))?;
    let (_, body) = signed.open_body().map_err(|e| e.to_string())?;
    if body.sender != h.target {
        return Err(format!("sent by {}", body.sender));
    }
    if !body.recipients.contains(&h.me) {
        return Err("the harness is not among its recipients".into());
    }
    Ok("verifies against the roster; sender the target, recipient the harness".into())
}

/// Waits on the target's receipt stream for `receiver`'s `stage` receipt
/// of `id`.
async fn wait_for_receipt(
    stream: &mut tonic::Streaming<pb::ReceiptEvent>,
    id: NoticeId,
    receiver: &lintas_core::ids::AgencyId,
    stage: ReceiptStage,
) -> Result<String, String> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let event = tokio::time::timeout_at(deadline, stream.next())
            .await
            .map_err(|_| {
                format!(
                    "no {} receipt within {} s",
                    stage.label(),
                    PATIENCE.as_secs()
                )
            })?
            .ok_or("the receipt stream ended")?
            .map_err(|s| format!("the receipt stream failed: {s}"))?;
        if event.notice_id == id.as_bytes().as_slice()
            && event.receiver == receiver.as_str()
            && event.stage == stage.to_wire()
        {
            return Ok(format!("{} receipt recorded", stage.label()));
        }
    }
}

/// Reports a `READ` receipt for the target's notice.
async fn report_read(
    h: &Harness,
    id: NoticeId,
    signed: &SignedNotice,
    receipts: Option<&mut tonic::Streaming<pb::ReceiptEvent>>,
) -> Result<String, String> {
    let receipt = Receipt::new(
        id,
        signed,
        h.me.clone(),
        ReceiptStage::Read,
        Timestamp::now(),
    );
    let receipt = SignedReceipt::sign(&receipt, &h.key).map_err(|e| e.to_string())?;
    let channel = h.channel(true).await.map_err(|e| e.to_string())?;
    PeerExchangeClient::new(channel)
        .report_receipt(pb::ReportReceiptRequest {
            receipt: Some(receipt.into()),
        })
        .await
        .map_err(|s| super::expect::refused(&s))?;
    match receipts {
        Some(stream) => wait_for_receipt(stream, id, &h.me, ReceiptStage::Read).await,
        None => Ok("accepted".into()),
    }
}

/// Uploads a file one 256 KiB piece larger than `mib` MiB through the
/// target's agency API.
async fn too_large_a_file(
    case_system: &mut lintas_grpc::AgencyClient,
    mib: u64,
) -> Result<String, String> {
    const PIECE: usize = 256 << 10;
    let pieces =
        usize::try_from(mib.saturating_mul(4).saturating_add(1)).map_err(|e| e.to_string())?;
    let upload = tokio_stream::iter((0..pieces).map(|_| pb::AttachmentUpload {
        data: vec![0x5a; PIECE],
        media_type: "application/octet-stream".into(),
    }));
    expect_refusal(
        case_system.upload_attachment(upload).await,
        Code::ResourceExhausted,
        "resource_exhausted",
        None,
    )
}

/// Starts an upload through the target's agency API, sends one piece and
/// then nothing: the node ends the call at its time limit (`CANCELLED`
/// `request_timeout`, PROTOCOL 9.8), at the latest 15 s after `limit`.
async fn stalled_upload(
    case_system: &mut lintas_grpc::AgencyClient,
    limit: Duration,
) -> Result<String, String> {
    let first = pb::AttachmentUpload {
        data: vec![0x5a; 1024],
        media_type: "application/octet-stream".into(),
    };
    let upload = tokio_stream::iter([first]).chain(tokio_stream::pending());
    let started = std::time::Instant::now();
    let answer = tokio::time::timeout(
        limit + Duration::from_secs(15),
        case_system.upload_attachment(upload),
    )
    .await
    .map_err(|_| {
        format!(
            "the call was still open {} s on",
            (limit + Duration::from_secs(15)).as_secs()
        )
    })?;
    let seen = expect_refusal(answer, Code::Cancelled, "request_timeout", None)?;
    Ok(format!(
        "{seen}, after {:.1} s",
        started.elapsed().as_secs_f64()
    ))
}

/// Reports a receipt for the target's notice `id` that names a body digest
/// other than the notice's.
async fn report_wrong_digest(h: &Harness, id: NoticeId) -> Result<String, String> {
    let receipt = Receipt::for_digest(
        id,
        [0x11; 32],
        h.me.clone(),
        ReceiptStage::ActionStarted,
        Timestamp::now(),
    );
    let receipt = SignedReceipt::sign(&receipt, &h.key).map_err(|e| e.to_string())?;
    let channel = h.channel(true).await.map_err(|e| e.to_string())?;
    expect_refusal(
        PeerExchangeClient::new(channel)
            .report_receipt(pb::ReportReceiptRequest {
                receipt: Some(receipt.into()),
            })
            .await,
        Code::PermissionDenied,
        "receipt_digest_mismatch",
        None,
    )
}

/// Delivers a withdrawal of the target's own notice `theirs`.
async fn withdraw_theirs(h: &mut Harness, theirs: NoticeId) -> Result<String, String> {
    let mut body = h.notice("withdrawal").map_err(|e| e.to_string())?;
    if let lintas_core::notice::NoticeContent::Withdrawal(w) = &mut body.content {
        w.withdrawn = theirs;
        w.persons.clear();
    }
    let (_, signed) = SignedNotice::sign(&body, &h.key).map_err(|e| e.to_string())?;
    let channel = h.channel(true).await.map_err(|e| e.to_string())?;
    expect_refusal(
        PeerExchangeClient::new(channel)
            .deliver(pb::DeliverRequest {
                notice: Some(signed.into()),
            })
            .await,
        Code::PermissionDenied,
        "not_own_notice",
        None,
    )
}
