//! Multi-node tests: agency nodes on loopback with mutual TLS exchanging
//! notices, receipts and acknowledgements, and refusing what they must.

use std::time::Duration;

use lintas_core::ids::NoticeId;
use lintas_core::pb;
use lintas_core::receipt::SignedReceipt;
use lintas_core::signing::SignedNotice;
use lintas_core::vocab::ReceiptStage;
use lintas_testkit::devnet::DevNet;
use lintas_testkit::scenario;
use lintas_testkit::world::{IDN_CENTRAL, IDN_KEMLU, KHM_CENTRAL, KHM_POLICE, THA_POLICE};
use tokio_stream::StreamExt;

/// Polls `check` until it holds, for at most ten seconds.
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

pub(crate) fn draft(body: &lintas_core::notice::NoticeBody) -> pb::NoticeBody {
    let mut wire = body.to_wire();
    wire.sender.clear();
    wire.sequence = 0;
    wire
}

/// Submits `body` as a draft through `from`'s case system; its id.
pub(crate) async fn submit_as(
    net: &DevNet,
    from: &str,
    body: &lintas_core::notice::NoticeBody,
) -> NoticeId {
    let submitted = net
        .case_system(from)
        .await
        .unwrap()
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(draft(body)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    NoticeId::from_bytes(submitted.notice_id.as_slice().try_into().unwrap())
}

pub(crate) async fn stages(net: &DevNet, at: &str, id: NoticeId) -> Vec<(u8, String)> {
    net.node(at)
        .receipts(id)
        .await
        .unwrap()
        .into_iter()
        .map(|(stage, receiver, _)| (stage, receiver))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rescue_request_reaches_its_recipients_with_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[IDN_KEMLU, THA_POLICE, KHM_POLICE], dir.path())
        .await
        .unwrap();

    // Indonesia's case system submits the rescue request to its node.
    let mut indonesia = net.case_system(IDN_KEMLU).await.unwrap();
    let request = scenario::rescue_request(lintas_core::time::Timestamp::now());
    let submitted = indonesia
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(draft(&request)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let id = NoticeId::from_bytes(submitted.notice_id.as_slice().try_into().unwrap());
    assert_eq!(submitted.sequence, 1);

    // Cambodia's case system sees it in its inbox.
    let mut cambodia = net.case_system(KHM_POLICE).await.unwrap();
    let mut inbox = cambodia
        .subscribe_inbox(pb::SubscribeInboxRequest { after_cursor: 0 })
        .await
        .unwrap()
        .into_inner();
    let item = tokio::time::timeout(Duration::from_secs(10), inbox.next())
        .await
        .expect("inbox item in time")
        .unwrap()
        .unwrap();
    assert_eq!(item.cursor, 1);
    assert_eq!(item.notice_id, id.as_bytes().to_vec());
    let envelope = SignedNotice::try_from(item.notice.unwrap()).unwrap();
    let verified = net
        .roster
        .verify_notice(&envelope, lintas_core::time::Timestamp::now())
        .unwrap();
    assert_eq!(
        verified.body.content, request.content,
        "the case system gets exactly what was sent"
    );

    // Indonesia holds verified ACCEPTED receipts from both recipients.
    eventually("accepted receipts from both recipients", || async {
        stages(&net, IDN_KEMLU, id).await.len() == 2
    })
    .await;
    for (_, _, bytes) in net.node(IDN_KEMLU).receipts(id).await.unwrap() {
        let receipt = net
            .roster
            .verify_receipt(
                &SignedReceipt::decode(&bytes).unwrap(),
                lintas_core::time::Timestamp::now(),
            )
            .unwrap();
        assert_eq!(receipt.stage, ReceiptStage::Accepted);
        assert_eq!(receipt.notice_id, id);
    }

    // Cambodia reads it and acts on it; Indonesia gets both receipts.
    for stage in [ReceiptStage::Read, ReceiptStage::ActionStarted] {
        cambodia
            .acknowledge(pb::AcknowledgeRequest {
                notice_id: id.as_bytes().to_vec(),
                stage: stage.to_wire(),
                note: "team dispatched".into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    eventually("read and action-started receipts from Cambodia", || async {
        let got = stages(&net, IDN_KEMLU, id).await;
        got.contains(&(ReceiptStage::Read.to_wire() as u8, KHM_POLICE.to_string()))
            && got.contains(&(
                ReceiptStage::ActionStarted.to_wire() as u8,
                KHM_POLICE.to_string(),
            ))
    })
    .await;

    // The case timeline at Indonesia lists the notice with its receipts.
    let timeline = indonesia
        .get_case_timeline(pb::GetCaseTimelineRequest {
            case_id: scenario::CASE_ID.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(timeline.entries.len(), 1);
    assert_eq!(timeline.entries[0].receipts.len(), 4);

    // Standard gRPC tooling works: health checking and reflection.
    let channel = net
        .channel("casesys.athp.moi.lintas.test", KHM_POLICE)
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    for service in ["lintas.v1.PeerExchange", "lintas.v1.AgencyApi"] {
        let answer = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            answer.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
    }
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let Some(Ok(response)) = responses.next().await else {
        panic!("no reflection answer")
    };
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"lintas.v1.PeerExchange".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"lintas.v1.AgencyApi".to_string()),
        "{names:?}"
    );
    net.shutdown().await;
}

/// A notice body of `kind` from `sender` to `recipients`, created now.
fn body_now(
    kind: lintas_core::vocab::NoticeKind,
    sender: &str,
    recipients: &[&str],
) -> lintas_core::notice::NoticeBody {
    let now = lintas_core::time::Timestamp::now();
    let mut body = scenario::one_of_each_kind(now)
        .into_iter()
        .find(|b| b.kind() == kind)
        .unwrap();
    body.sender = lintas_core::ids::AgencyId::parse(sender).unwrap();
    body.recipients = recipients
        .iter()
        .map(|r| lintas_core::ids::AgencyId::parse(r).unwrap())
        .collect();
    body
}

/// Signs `body` with its sender's development key.
fn sign_body(body: &lintas_core::notice::NoticeBody) -> (NoticeId, SignedNotice) {
    SignedNotice::sign(
        body,
        &lintas_testkit::world::agency_key(body.sender.as_str()),
    )
    .unwrap()
}

/// A notice of `kind` from `sender` to `recipients`, created now, signed
/// with the sender's development key.
fn signed_now(
    kind: lintas_core::vocab::NoticeKind,
    sender: &str,
    recipients: &[&str],
) -> (NoticeId, SignedNotice) {
    sign_body(&body_now(kind, sender, recipients))
}

fn deliver_request(notice: &SignedNotice) -> pb::DeliverRequest {
    pb::DeliverRequest {
        notice: Some(notice.clone().into()),
    }
}

/// Describes how `result` differs from a refusal with `code` and `why`.
fn check(
    what: &str,
    result: Result<tonic::Response<pb::DeliverResponse>, tonic::Status>,
    code: tonic::Code,
    why: &str,
) -> Option<String> {
    match result {
        Ok(_) => Some(format!("{what}: accepted")),
        Err(status) if status.code() != code || reason(&status) != why => Some(format!(
            "{what}: expected {code:?}/{why}, got {:?}/{} ({})",
            status.code(),
            reason(&status),
            status.message()
        )),
        Err(_) => None,
    }
}

fn field(status: &tonic::Status) -> String {
    status
        .metadata()
        .get("lintas-field")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

pub(crate) fn reason(status: &tonic::Status) -> String {
    status
        .metadata()
        .get("lintas-reason")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_delivery_gets_the_original_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[KHM_POLICE], dir.path()).await.unwrap();
    let (id, notice) = signed_now(
        lintas_core::vocab::NoticeKind::VictimStatusUpdate,
        IDN_KEMLU,
        &[KHM_POLICE],
    );
    let mut peer = net.peer(IDN_KEMLU, KHM_POLICE).await.unwrap();
    let first = peer
        .deliver(deliver_request(&notice))
        .await
        .unwrap()
        .into_inner();
    let second = peer
        .deliver(deliver_request(&notice))
        .await
        .unwrap()
        .into_inner();
    assert!(!first.duplicate);
    assert!(second.duplicate);
    assert_eq!(
        first.receipt, second.receipt,
        "the original receipt, byte for byte"
    );
    // Still the ACCEPTED receipt after Cambodia signed later stages.
    for stage in [ReceiptStage::Delivered, ReceiptStage::Read] {
        net.node(KHM_POLICE)
            .engine()
            .acknowledge(id, stage, None, lintas_core::time::Timestamp::now())
            .await
            .unwrap();
    }
    let third = peer
        .deliver(deliver_request(&notice))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.receipt, third.receipt, "after later stages");
    // The same body under a broken signature is not a duplicate: it is
    // refused, not answered with the stored receipt.
    let mut forged = pb::SignedNotice::from(notice.clone());
    forged.signature[0] ^= 1;
    let status = peer
        .deliver(pb::DeliverRequest {
            notice: Some(forged),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "bad_signature");
    // Another member that got hold of a copy gets no receipt and learns
    // nothing: refused as for any notice it did not sign.
    let mut thailand = net.peer(THA_POLICE, KHM_POLICE).await.unwrap();
    let status = thailand
        .deliver(deliver_request(&notice))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::PermissionDenied, "sender_not_peer")
    );
    let receipt = SignedReceipt::try_from(first.receipt.unwrap()).unwrap();
    let receipt = net
        .roster
        .verify_receipt(&receipt, lintas_core::time::Timestamp::now())
        .unwrap();
    assert_eq!(
        (receipt.notice_id, receipt.stage),
        (id, ReceiptStage::Accepted)
    );
    assert_eq!(net.node(KHM_POLICE).inbox_after(0).await.unwrap().len(), 1);

    // The metrics endpoint counts one accepted notice and two duplicates.
    let metrics = scrape(net.metrics_addr(KHM_POLICE).unwrap()).await;
    assert!(
        metrics.contains("lintas_notices_accepted_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("lintas_notices_duplicate_total 2"),
        "{metrics}"
    );
    net.shutdown().await;
}

/// GET /metrics over plain HTTP/1.1.
pub(crate) async fn scrape(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_is_down_gets_the_notice_when_it_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = DevNet::start(&[IDN_KEMLU, KHM_POLICE], dir.path())
        .await
        .unwrap();
    net.stop(KHM_POLICE).await.unwrap();

    let request = scenario::rescue_request(lintas_core::time::Timestamp::now());
    let mut only_cambodia = request.clone();
    only_cambodia.recipients = vec![lintas_core::ids::AgencyId::parse(KHM_POLICE).unwrap()];
    let (id, _) = net.node(IDN_KEMLU).submit(only_cambodia).await.unwrap();
    // It waits in the outbox while Cambodia is down, across failed attempts.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(net.node(IDN_KEMLU).outbox_len().await.unwrap(), 1);

    net.restart(KHM_POLICE).await.unwrap();
    eventually("delivery after the peer came back", || async {
        net.node(IDN_KEMLU).outbox_len().await.unwrap() == 0
    })
    .await;
    let inbox = net.node(KHM_POLICE).inbox_after(0).await.unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].id, id);
    assert_eq!(
        stages(&net, IDN_KEMLU, id).await,
        vec![(1, KHM_POLICE.to_string())]
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_the_sender_mid_delivery_loses_nothing_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = DevNet::start(&[IDN_KEMLU, KHM_POLICE, THA_POLICE], dir.path())
        .await
        .unwrap();
    net.stop(KHM_POLICE).await.unwrap();
    // Three notices to Cambodia (down) and Thailand (up).
    let now = lintas_core::time::Timestamp::now();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (id, _) = net
            .node(IDN_KEMLU)
            .submit(scenario::rescue_request(now))
            .await
            .unwrap();
        ids.push(id);
    }
    eventually("Thailand has all three", || async {
        net.node(THA_POLICE).inbox_after(0).await.unwrap().len() == 3
    })
    .await;
    // The sender goes down with Cambodia's deliveries still queued, and
    // comes back; then Cambodia comes back.
    net.stop(IDN_KEMLU).await.unwrap();
    net.restart(IDN_KEMLU).await.unwrap();
    assert_eq!(
        net.node(IDN_KEMLU).outbox_len().await.unwrap(),
        3,
        "the outbox survived"
    );
    net.restart(KHM_POLICE).await.unwrap();
    eventually("Cambodia has all three", || async {
        net.node(IDN_KEMLU).outbox_len().await.unwrap() == 0
    })
    .await;
    // Also restart Cambodia after delivery: its inbox keeps one of each.
    net.stop(KHM_POLICE).await.unwrap();
    net.restart(KHM_POLICE).await.unwrap();
    for agency in [KHM_POLICE, THA_POLICE] {
        let inbox = net.node(agency).inbox_after(0).await.unwrap();
        let got: Vec<NoticeId> = inbox.iter().map(|e| e.id).collect();
        assert_eq!(got, ids, "{agency}: each notice once, in order");
        let cursors: Vec<u64> = inbox.iter().map(|e| e.cursor).collect();
        assert_eq!(cursors, vec![1, 2, 3]);
    }
    // A new sequence number after restart continues from the stored one.
    let (_, sequence) = net
        .node(IDN_KEMLU)
        .submit(scenario::rescue_request(now))
        .await
        .unwrap();
    assert_eq!(sequence, 4);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_the_right_status_and_store_nothing() {
    use lintas_core::vocab::NoticeKind::{RescueRequest, VictimStatusUpdate};
    use tonic::Code;

    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start_custom(
        &[KHM_POLICE],
        dir.path(),
        lintas_grpc::Limits::default().with_max_message_bytes(64 * 1024),
        |roster| {
            let tha = lintas_core::ids::AgencyId::parse(THA_POLICE).unwrap();
            roster.agencies.get_mut(&tha).unwrap().keys[0].revocation =
                Some(lintas_core::roster::Revocation {
                    revoked_at: lintas_core::time::Timestamp::now(),
                    reason: "key compromised".into(),
                });
        },
    )
    .await
    .unwrap();
    let mut as_indonesia = net.peer(IDN_KEMLU, KHM_POLICE).await.unwrap();
    let mut as_thailand = net.peer(THA_POLICE, KHM_POLICE).await.unwrap();
    let mut failures = Vec::new();

    // The Thai police deliver a notice the Indonesian ministry signed, not
    // forwardable: the sender is not the authenticated peer.
    let (_, from_indonesia) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
    failures.extend(check(
        "sender/certificate mismatch",
        as_thailand.deliver(deliver_request(&from_indonesia)).await,
        Code::PermissionDenied,
        "sender_not_peer",
    ));

    // Signed with the Thai key, which the roster revoked.
    let (_, revoked) = signed_now(VictimStatusUpdate, THA_POLICE, &[KHM_POLICE]);
    failures.extend(check(
        "revoked key",
        as_thailand.deliver(deliver_request(&revoked)).await,
        Code::PermissionDenied,
        "key_revoked",
    ));

    // A sender the roster does not know.
    let (_, mut stranger) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
    {
        let mut wire = pb::SignedNotice::from(stranger);
        wire.signer = "PHL.PNP.ACG".into();
        stranger = SignedNotice::try_from(wire).unwrap();
    }
    failures.extend(check(
        "unknown sender",
        as_indonesia.deliver(deliver_request(&stranger)).await,
        Code::PermissionDenied,
        "unknown_sender",
    ));

    // Expired.
    let expired = {
        let now = lintas_core::time::Timestamp::now();
        let mut body = body_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
        body.created_at = now.plus_seconds(-7200);
        body.expires_at = now.plus_seconds(-60);
        if let lintas_core::notice::NoticeContent::VictimStatusUpdate(u) = &mut body.content {
            u.effective_at = body.created_at;
        }
        sign_body(&body).1
    };
    failures.extend(check(
        "expired notice",
        as_indonesia.deliver(deliver_request(&expired)).await,
        Code::FailedPrecondition,
        "expired",
    ));

    // Tampered bytes.
    let (_, good) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
    let mut wire = pb::SignedNotice::from(good.clone());
    let last = wire.body.len() - 1;
    wire.body[last] ^= 1;
    failures.extend(check(
        "tampered bytes",
        as_indonesia
            .deliver(pb::DeliverRequest { notice: Some(wire) })
            .await,
        Code::InvalidArgument,
        "bad_signature",
    ));

    // Malformed envelope: the field is named.
    let mut short_signature = pb::SignedNotice::from(good.clone());
    short_signature.signature.truncate(10);
    match as_indonesia
        .deliver(pb::DeliverRequest {
            notice: Some(short_signature),
        })
        .await
    {
        Err(status) => {
            assert_eq!(status.code(), Code::InvalidArgument);
            assert_eq!(
                status.metadata().get("lintas-field").unwrap(),
                "notice.signature"
            );
        }
        Ok(_) => failures.push("short signature accepted".into()),
    }

    // Not addressed to Cambodia.
    let (_, elsewhere) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[THA_POLICE]);
    failures.extend(check(
        "not a recipient",
        as_indonesia.deliver(deliver_request(&elsewhere)).await,
        Code::PermissionDenied,
        "not_a_recipient",
    ));

    // Oversized.
    let mut huge = pb::SignedNotice::from(good.clone());
    huge.body.extend(std::iter::repeat_n(0u8, 100 * 1024));
    match as_indonesia
        .deliver(pb::DeliverRequest { notice: Some(huge) })
        .await
    {
        // tonic refuses an over-limit message while decoding, before any
        // handler runs, with OUT_OF_RANGE and the sizes in the message.
        Err(status)
            if status.code() == Code::OutOfRange && status.message().contains("too large") => {}
        other => failures.push(format!("oversized: {other:?}")),
    }

    // Nothing of the above was stored.
    assert_eq!(net.node(KHM_POLICE).inbox_after(0).await.unwrap().len(), 0);

    // A non-recipient asking for a notice is refused; a recipient is served.
    let (id, to_cambodia) = signed_now(RescueRequest, IDN_KEMLU, &[KHM_POLICE]);
    as_indonesia
        .deliver(deliver_request(&to_cambodia))
        .await
        .unwrap();
    let mut thai_fetch = net.peer(THA_POLICE, KHM_POLICE).await.unwrap();
    match thai_fetch
        .fetch_notice(pb::FetchNoticeRequest {
            notice_id: id.as_bytes().to_vec(),
        })
        .await
    {
        Err(status) => {
            assert_eq!(status.code(), Code::PermissionDenied);
            assert_eq!(reason(&status), "not_entitled");
        }
        Ok(_) => failures.push("non-recipient served".into()),
    }
    let served = as_indonesia
        .fetch_notice(pb::FetchNoticeRequest {
            notice_id: id.as_bytes().to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        SignedNotice::try_from(served.notice.unwrap()).unwrap(),
        to_cambodia
    );

    // A notice of a kind from a newer version (NoticeBody field 60), and
    // one whose signed bytes set two kinds: refused before decoding.
    let appended = |extra: &[u8]| {
        let body = body_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
        let (_, mut bytes) = lintas_core::signing::encode_notice_body(&body).unwrap();
        bytes.extend_from_slice(extra);
        let id = lintas_core::signing::notice_id_of(&bytes[34..]);
        bytes[2..34].copy_from_slice(id.as_bytes());
        let key = lintas_testkit::world::agency_key(IDN_KEMLU);
        let envelope = crate::support::raw_envelope(IDN_KEMLU, key.key_id().as_str(), bytes, &key);
        pb::DeliverRequest {
            notice: Some(envelope),
        }
    };
    failures.extend(check(
        "kind from a newer version",
        as_indonesia.deliver(appended(&[0xE2, 0x03, 0x00])).await,
        Code::FailedPrecondition,
        "unsupported_kind",
    ));
    failures.extend(check(
        "two kinds in the signed bytes",
        as_indonesia.deliver(appended(&[0xEA, 0x01, 0x00])).await,
        Code::InvalidArgument,
        "invalid_body",
    ));

    // A node's certificate is not a case-system client.
    let channel = net
        .channel("atpd.rtp.lintas.test", KHM_POLICE)
        .await
        .unwrap();
    let mut api = lintas_grpc::pb::agency_api_client::AgencyApiClient::new(channel);
    match api.list_overdue(pb::ListOverdueRequest::default()).await {
        Err(status) => assert_eq!(status.code(), Code::PermissionDenied),
        Ok(_) => failures.push("peer certificate used the agency API".into()),
    }

    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let metrics = scrape(net.metrics_addr(KHM_POLICE).unwrap()).await;
    for reason in [
        "sender_not_peer",
        "key_revoked",
        "unknown_sender",
        "expired",
        "bad_signature",
        "not_a_recipient",
    ] {
        assert!(
            metrics.contains(&format!(
                "lintas_notices_refused_total{{reason=\"{reason}\"}} 1"
            )),
            "{reason}: {metrics}"
        );
    }
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_from_another_ca_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[KHM_POLICE], dir.path()).await.unwrap();
    // A certificate for the Indonesian ministry's name, from a CA nobody
    // trusts.
    let rogue = lintas_grpc::pki::DevCa::new("rogue").unwrap();
    let material = lintas_grpc::tls::TlsMaterial {
        ca_pem: net.ca.cert_pem(),
        identity: rogue.issue("pwni.kemlu.lintas.test").unwrap(),
    };
    let addr = net.addr(KHM_POLICE).unwrap();
    let channel = tonic::transport::Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(material.client_config("athp.moi.lintas.test"))
        .unwrap()
        .connect()
        .await;
    let refused = match channel {
        Err(_) => true,
        Ok(channel) => {
            let (_, notice) = signed_now(
                lintas_core::vocab::NoticeKind::VictimStatusUpdate,
                IDN_KEMLU,
                &[KHM_POLICE],
            );
            lintas_grpc::pb::peer_exchange_client::PeerExchangeClient::new(channel)
                .deliver(deliver_request(&notice))
                .await
                .is_err()
        }
    };
    assert!(
        refused,
        "a certificate from another CA must not get through"
    );
    assert_eq!(net.node(KHM_POLICE).inbox_after(0).await.unwrap().len(), 0);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_over_its_rate_is_told_to_slow_down() {
    let dir = tempfile::tempdir().unwrap();
    let limits = lintas_grpc::Limits::default().with_peer_rate(1, 3);
    let net = DevNet::start_with(&[KHM_POLICE], dir.path(), limits)
        .await
        .unwrap();
    let mut peer = net.peer(IDN_KEMLU, KHM_POLICE).await.unwrap();
    let mut codes = Vec::new();
    for _ in 0..6 {
        let (_, notice) = signed_now(
            lintas_core::vocab::NoticeKind::VictimStatusUpdate,
            IDN_KEMLU,
            &[KHM_POLICE],
        );
        codes.push(match peer.deliver(deliver_request(&notice)).await {
            Ok(_) => tonic::Code::Ok,
            Err(status) => {
                assert_eq!(reason(&status), "rate_limited");
                status.code()
            }
        });
    }
    assert_eq!(&codes[..3], &[tonic::Code::Ok; 3], "the burst is allowed");
    assert!(
        codes[3..].contains(&tonic::Code::ResourceExhausted),
        "{codes:?}"
    );
    // Other peers have their own allowance.
    let (_, notice) = signed_now(
        lintas_core::vocab::NoticeKind::VictimStatusUpdate,
        THA_POLICE,
        &[KHM_POLICE],
    );
    net.peer(THA_POLICE, KHM_POLICE)
        .await
        .unwrap()
        .deliver(deliver_request(&notice))
        .await
        .unwrap();
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_handler_gets_each_verified_notice_once_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = DevNet::start(&[IDN_KEMLU, KHM_POLICE], dir.path())
        .await
        .unwrap();
    // Cambodia's case system embeds the node and records the last cursor it
    // handled.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    net.stop(KHM_POLICE).await.unwrap();
    let first = tx.clone();
    net.restart_with(KHM_POLICE, move |b| {
        b.on_notice(0, move |n| first.send(n).unwrap())
    })
    .await
    .unwrap();
    let now = lintas_core::time::Timestamp::now();
    let mut request = scenario::rescue_request(now);
    request.recipients = vec![lintas_core::ids::AgencyId::parse(KHM_POLICE).unwrap()];
    let (id, _) = net.node(IDN_KEMLU).submit(request.clone()).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.id, got.cursor), (id, 1));
    assert_eq!(got.body.content, request.content);
    assert_eq!(got.delivered_by, IDN_KEMLU);
    let last = got.cursor;

    // Restarted, resuming from its cursor: only new notices arrive.
    net.stop(KHM_POLICE).await.unwrap();
    let second = tx.clone();
    net.restart_with(KHM_POLICE, move |b| {
        b.on_notice(last, move |n| second.send(n).unwrap())
    })
    .await
    .unwrap();
    let (next, _) = net.node(IDN_KEMLU).submit(request).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.id, got.cursor), (next, 2), "no repeat of cursor 1");

    // The Rust inbox stream gives the same, from any cursor.
    let mut stream = Box::pin(net.node(KHM_POLICE).inbox(0));
    let ids: Vec<NoticeId> = vec![
        stream.next().await.unwrap().unwrap().id,
        stream.next().await.unwrap().unwrap().id,
    ];
    assert_eq!(ids, vec![id, next]);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plaintext_header_means_nothing_under_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[KHM_POLICE], dir.path()).await.unwrap();
    // A case-system certificate (no agency) claiming to be a ministry.
    let channel = net
        .channel("casesys.athp.moi.lintas.test", KHM_POLICE)
        .await
        .unwrap();
    let mut client = lintas_grpc::pb::peer_exchange_client::PeerExchangeClient::new(channel);
    let (_, notice) = signed_now(
        lintas_core::vocab::NoticeKind::VictimStatusUpdate,
        IDN_KEMLU,
        &[KHM_POLICE],
    );
    let mut request = tonic::Request::new(deliver_request(&notice));
    request.metadata_mut().insert(
        lintas_grpc::tls::DEV_AGENCY_HEADER,
        IDN_KEMLU.parse().unwrap(),
    );
    let status = client.deliver(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    assert_eq!(reason(&status), "peer_not_in_roster");
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_may_relay_a_forwardable_notice() {
    use lintas_core::vocab::NoticeKind::ModusOperandiAlert;
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[KHM_POLICE], dir.path()).await.unwrap();
    // Indonesia's GREEN, forwardable alert to Thailand; Thailand relays it
    // to Cambodia, which is not listed.
    let (id, alert) = signed_now(ModusOperandiAlert, IDN_KEMLU, &[THA_POLICE]);
    let mut thailand = net.peer(THA_POLICE, KHM_POLICE).await.unwrap();
    let response = thailand
        .deliver(deliver_request(&alert))
        .await
        .unwrap()
        .into_inner();
    let receipt = SignedReceipt::try_from(response.receipt.unwrap()).unwrap();
    let receipt = net
        .roster
        .verify_receipt(&receipt, lintas_core::time::Timestamp::now())
        .unwrap();
    assert_eq!(receipt.notice_id, id);
    assert_eq!(receipt.note.as_deref(), Some("forwarded by THA.RTP.ATPD"));
    let inbox = net.node(KHM_POLICE).inbox_after(0).await.unwrap();
    assert_eq!(inbox[0].notice.delivered_by, THA_POLICE);
    // The same relay with a notice that may not be forwarded is refused.
    let (_, private) = signed_now(
        lintas_core::vocab::NoticeKind::VictimStatusUpdate,
        IDN_KEMLU,
        &[THA_POLICE],
    );
    let status = thailand
        .deliver(deliver_request(&private))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "sender_not_peer");
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_development_mode_works_only_when_asked_for() {
    use lintas_core::ids::{AgencyId, MemberState};
    use lintas_core::roster::TrustedRoster;
    let dir = tempfile::tempdir().unwrap();
    let mut addrs = std::collections::BTreeMap::new();
    let mut listeners = Vec::new();
    for agency in [IDN_KEMLU, KHM_POLICE] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.insert(
            AgencyId::parse(agency).unwrap(),
            listener.local_addr().unwrap(),
        );
        listeners.push((agency, listener));
    }
    let roster = lintas_testkit::devnet::roster_with_endpoints(&addrs);
    let signed = lintas_testkit::world::sign_roster(
        &roster,
        &[MemberState::Indonesia, MemberState::Cambodia],
    );
    let trusted = TrustedRoster::bootstrap(signed, lintas_core::time::Timestamp::now()).unwrap();

    // Without TLS and without the explicit flag, a node does not start.
    let refused = lintas_grpc::Node::builder(
        AgencyId::parse(IDN_KEMLU).unwrap(),
        lintas_testkit::world::agency_key(IDN_KEMLU),
    )
    .roster(trusted.clone())
    .store_path(dir.path().join("refused.redb"))
    .serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
    .await;
    assert!(matches!(
        refused,
        Err(lintas_grpc::NodeError::Incomplete(_))
    ));

    let mut nodes = Vec::new();
    for (agency, listener) in listeners {
        let node = lintas_grpc::Node::builder(
            AgencyId::parse(agency).unwrap(),
            lintas_testkit::world::agency_key(agency),
        )
        .roster(trusted.clone())
        .insecure_plaintext_for_development()
        .store_path(dir.path().join(format!("{agency}.redb")))
        .serve(listener)
        .await
        .unwrap();
        nodes.push(node);
    }
    let mut request = scenario::rescue_request(lintas_core::time::Timestamp::now());
    request.recipients = vec![AgencyId::parse(KHM_POLICE).unwrap()];
    let (id, _) = nodes[0].submit(request).await.unwrap();
    nodes[1].wait_for_inbox(0).await;
    assert_eq!(nodes[1].inbox_after(0).await.unwrap()[0].id, id);

    // Over plaintext a caller names itself (PROTOCOL.md 9.1); one that
    // does not, or names an agency outside the roster, is refused.
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{}", nodes[1].local_addr()))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let (_, notice) = signed_now(
        lintas_core::vocab::NoticeKind::VictimStatusUpdate,
        IDN_KEMLU,
        &[KHM_POLICE],
    );
    let mut anonymous = lintas_grpc::pb::peer_exchange_client::PeerExchangeClient::new(channel);
    let status = anonymous
        .deliver(deliver_request(&notice))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::Unauthenticated, "no_client_certificate")
    );
    let mut stranger = tonic::Request::new(deliver_request(&notice));
    stranger
        .metadata_mut()
        .insert("lintas-dev-agency", "SGP.NOBODY".parse().unwrap());
    let status = anonymous.deliver(stranger).await.unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::PermissionDenied, "peer_not_in_roster")
    );
    eventually("receipt back in plaintext mode", || async {
        nodes[0].outbox_len().await.unwrap() == 0
    })
    .await;
    for node in nodes {
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_to_start_on_an_older_roster_than_it_stored() {
    use lintas_core::ids::{AgencyId, MemberState};
    use lintas_core::roster::TrustedRoster;
    let dir = tempfile::tempdir().unwrap();
    let now = lintas_core::time::Timestamp::now();
    let v1 = lintas_testkit::world::roster(1, now.plus_seconds(-3600));
    let mut v2 = v1.clone();
    v2.version = 2;
    let sign =
        |r| lintas_testkit::world::sign_roster(r, &[MemberState::Indonesia, MemberState::Thailand]);
    let trusted_v1 = TrustedRoster::bootstrap(sign(&v1), now).unwrap();
    let mut trusted_v2 = trusted_v1.clone();
    trusted_v2.update(sign(&v2), now).unwrap();
    let start = |roster: TrustedRoster| {
        let path = dir.path().join("node.redb");
        async move {
            lintas_grpc::Node::builder(
                AgencyId::parse(KHM_POLICE).unwrap(),
                lintas_testkit::world::agency_key(KHM_POLICE),
            )
            .roster(roster)
            .insecure_plaintext_for_development()
            .store_path(path)
            .serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
            .await
        }
    };
    start(trusted_v1.clone()).await.unwrap().shutdown().await;
    start(trusted_v2).await.unwrap().shutdown().await;
    match start(trusted_v1).await {
        Err(lintas_grpc::NodeError::Roster(lintas_core::roster::RosterError::Rollback {
            trusted: 2,
            offered: 1,
        })) => {}
        other => panic!("expected a rollback refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assistance_is_answered_and_overdue_notices_are_listed() {
    use lintas_core::vocab::NoticeKind;
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[IDN_CENTRAL, KHM_CENTRAL], dir.path())
        .await
        .unwrap();
    let now = lintas_core::time::Timestamp::now();

    // Indonesia's police ask Cambodia for records, with a deadline two
    // seconds away.
    let mut ask = scenario::one_of_each_kind(now)
        .into_iter()
        .find(|b| b.kind() == NoticeKind::AssistanceRequest)
        .unwrap();
    ask.handling.response_deadline = Some(now.plus_seconds(2));
    let (asked, _) = net.node(IDN_CENTRAL).submit(ask).await.unwrap();
    net.node(KHM_CENTRAL).wait_for_inbox(0).await;

    // Both sides list it as overdue once the deadline passes.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let mut police = net.case_system(IDN_CENTRAL).await.unwrap();
    let mut cambodia = net.case_system(KHM_CENTRAL).await.unwrap();
    let overdue = police
        .list_overdue(pb::ListOverdueRequest::default())
        .await
        .unwrap()
        .into_inner()
        .notices;
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].notice_id, asked.as_bytes().to_vec());
    assert_eq!(overdue[0].awaiting, vec![KHM_CENTRAL.to_string()]);
    let owed = cambodia
        .list_overdue(pb::ListOverdueRequest::default())
        .await
        .unwrap()
        .into_inner()
        .notices;
    assert_eq!(owed[0].direction, pb::Direction::Received as i32);

    // Cambodia answers; the answer reaches Indonesia as a signed notice.
    let answer = cambodia
        .answer_assistance(pb::AnswerAssistanceRequest {
            request: asked.as_bytes().to_vec(),
            outcome: lintas_core::vocab::AssistanceOutcome::Granted.to_wire(),
            answer: Some(lintas_core::text::Text::en("Exchange records sent.").into()),
            tlp: 0,
        })
        .await
        .unwrap()
        .into_inner();
    net.node(IDN_CENTRAL).wait_for_inbox(0).await;
    let received = net.node(IDN_CENTRAL).inbox_after(0).await.unwrap();
    assert_eq!(received[0].id.as_bytes().to_vec(), answer.notice_id);
    assert_eq!(
        received[0].notice.kind,
        NoticeKind::AssistanceResponse.to_wire()
    );

    // Acting on it clears it from both lists.
    cambodia
        .acknowledge(pb::AcknowledgeRequest {
            notice_id: asked.as_bytes().to_vec(),
            stage: ReceiptStage::ActionCompleted.to_wire(),
            note: "answered".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        cambodia
            .list_overdue(pb::ListOverdueRequest::default())
            .await
            .unwrap()
            .into_inner()
            .notices
            .is_empty()
    );
    eventually("Indonesia sees the ACTION_COMPLETED receipt", || async {
        police
            .clone()
            .list_overdue(pb::ListOverdueRequest::default())
            .await
            .unwrap()
            .into_inner()
            .notices
            .is_empty()
    })
    .await;

    // Answering something that is not an assistance request, or an unknown
    // notice, or acknowledging ACCEPTED, is refused with a reason.
    let status = cambodia
        .answer_assistance(pb::AnswerAssistanceRequest {
            request: vec![7; 32],
            outcome: 1,
            answer: Some(lintas_core::text::Text::en("x").into()),
            tlp: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    let status = cambodia
        .acknowledge(pb::AcknowledgeRequest {
            notice_id: asked.as_bytes().to_vec(),
            stage: ReceiptStage::Accepted.to_wire(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_system_is_told_exactly_what_is_wrong_with_its_draft() {
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(
        &[IDN_KEMLU, lintas_testkit::world::THA_IMMIGRATION],
        dir.path(),
    )
    .await
    .unwrap();
    let mut indonesia = net.case_system(IDN_KEMLU).await.unwrap();
    let request = scenario::rescue_request(lintas_core::time::Timestamp::now());

    let mut bad = draft(&request);
    if let Some(pb::notice_body::Kind::RescueRequest(r)) = bad.kind.as_mut() {
        r.case.as_mut().unwrap().victims[0].nationalities[0] = "XXZ".into();
    }
    let status = indonesia
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(bad),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        status.metadata().get("lintas-field").unwrap(),
        "draft.rescue_request.case.victims[0].nationalities[0]"
    );
    assert!(
        status.message().contains("found \"XXZ\""),
        "{}",
        status.message()
    );

    let mut numbered = draft(&request);
    numbered.sequence = 5;
    let status = indonesia
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(numbered),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        status.metadata().get("lintas-field").unwrap(),
        "draft.sequence"
    );

    let mut stranger = draft(&request);
    stranger.recipients.push("MYS.PDRM.D3".into());
    let status = indonesia
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(stranger),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::InvalidArgument, "unknown_recipient")
    );

    // Thai immigration may not issue rescue requests: refused before queueing.
    let mut thailand = net
        .case_system(lintas_testkit::world::THA_IMMIGRATION)
        .await
        .unwrap();
    let status = thailand
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(draft(&request)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::PermissionDenied, "kind_not_permitted")
    );
    assert_eq!(
        net.node(lintas_testkit::world::THA_IMMIGRATION)
            .outbox_len()
            .await
            .unwrap(),
        0
    );
    assert_eq!(net.node(IDN_KEMLU).outbox_len().await.unwrap(), 0);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_sender_supersedes_or_withdraws_its_own_notices() {
    use lintas_core::notice::{NoticeContent, Withdrawal};
    use lintas_core::vocab::NoticeKind::{SuspectAlert, VictimStatusUpdate};
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[KHM_POLICE], dir.path()).await.unwrap();
    let mut indonesia = net.peer(IDN_KEMLU, KHM_POLICE).await.unwrap();
    let mut thailand = net.peer(THA_POLICE, KHM_POLICE).await.unwrap();
    let (original, notice) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
    indonesia.deliver(deliver_request(&notice)).await.unwrap();

    let sign = |mut body: lintas_core::notice::NoticeBody, sender: &str| {
        body.sender = lintas_core::ids::AgencyId::parse(sender).unwrap();
        sign_body(&body).1
    };
    let kind = |k| body_now(k, IDN_KEMLU, &[KHM_POLICE]);

    // Thailand withdrawing Indonesia's notice.
    let mut withdrawal = kind(lintas_core::vocab::NoticeKind::Withdrawal);
    withdrawal.content = NoticeContent::Withdrawal(Withdrawal::new(
        original,
        lintas_core::text::Text::en("not yours"),
    ));
    let status = thailand
        .deliver(deliver_request(&sign(withdrawal.clone(), THA_POLICE)))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::PermissionDenied, "not_own_notice")
    );
    // Thailand superseding it.
    let mut update = kind(VictimStatusUpdate);
    update.supersedes = Some(original);
    let status = thailand
        .deliver(deliver_request(&sign(update.clone(), THA_POLICE)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "not_own_notice");
    // Indonesia superseding it with another kind.
    let mut alert = kind(SuspectAlert);
    alert.supersedes = Some(original);
    let status = indonesia
        .deliver(deliver_request(&sign(alert, IDN_KEMLU)))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::InvalidArgument, "supersedes_other_kind")
    );
    // Indonesia superseding and withdrawing its own: accepted.
    indonesia
        .deliver(deliver_request(&sign(update, IDN_KEMLU)))
        .await
        .unwrap();
    indonesia
        .deliver(deliver_request(&sign(withdrawal, IDN_KEMLU)))
        .await
        .unwrap();
    assert_eq!(net.node(KHM_POLICE).inbox_after(0).await.unwrap().len(), 3);

    // Thailand answering a freeze request that was put to Cambodia.
    let (asked, request) = signed_now(
        lintas_core::vocab::NoticeKind::ActionRequest,
        IDN_KEMLU,
        &[KHM_POLICE],
    );
    indonesia.deliver(deliver_request(&request)).await.unwrap();
    let answer_with = |target: &str| {
        let mut answer = kind(lintas_core::vocab::NoticeKind::ActionAnswer);
        answer.content = NoticeContent::ActionAnswer(lintas_core::notice::ActionAnswer::new(
            asked,
            vec![lintas_core::notice::TargetResult::new(
                lintas_core::ids::RecordId::parse(target).unwrap(),
                lintas_core::vocab::TargetOutcome::InProgress,
            )],
        ));
        answer
    };
    let status = thailand
        .deliver(deliver_request(&sign(answer_with("T-01"), THA_POLICE)))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::PermissionDenied, "not_asked")
    );
    // Thailand, asked together with Cambodia, answering about a target the
    // request does not have.
    let mut both = body_now(
        lintas_core::vocab::NoticeKind::ActionRequest,
        IDN_KEMLU,
        &[KHM_POLICE, THA_POLICE],
    );
    both.sequence += 100;
    let (asked_both, request) = sign_body(&both);
    indonesia.deliver(deliver_request(&request)).await.unwrap();
    let mut wrong_target = answer_with("T-99");
    if let NoticeContent::ActionAnswer(a) = &mut wrong_target.content {
        a.request = asked_both;
    }
    let status = thailand
        .deliver(deliver_request(&sign(wrong_target, THA_POLICE)))
        .await
        .unwrap_err();
    assert_eq!(
        (
            status.code(),
            reason(&status).as_str(),
            field(&status).as_str()
        ),
        (
            tonic::Code::InvalidArgument,
            "not_in_referenced",
            "results[0].target_id"
        )
    );

    // A sighting that answers something other than a transit watch.
    let mut sighting = kind(lintas_core::vocab::NoticeKind::SightingReport);
    if let NoticeContent::SightingReport(r) = &mut sighting.content {
        r.watch = asked;
    }
    let status = thailand
        .deliver(deliver_request(&sign(sighting, THA_POLICE)))
        .await
        .unwrap_err();
    assert_eq!(
        (
            status.code(),
            reason(&status).as_str(),
            field(&status).as_str()
        ),
        (
            tonic::Code::InvalidArgument,
            "wrong_kind_referenced",
            "watch"
        )
    );

    // A step report from an agency that is not responsible for the step.
    let (plan_id, plan) = signed_now(
        lintas_core::vocab::NoticeKind::RepatriationPlan,
        IDN_KEMLU,
        &[KHM_POLICE],
    );
    indonesia.deliver(deliver_request(&plan)).await.unwrap();
    let mut report = kind(lintas_core::vocab::NoticeKind::RepatriationStepReport);
    if let NoticeContent::RepatriationStepReport(r) = &mut report.content {
        r.plan = plan_id;
    }
    let status = thailand
        .deliver(deliver_request(&sign(report, THA_POLICE)))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::PermissionDenied, "not_responsible")
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_answered_item_by_item_and_an_oversized_one_is_refused_whole() {
    use lintas_core::pb::{BatchItem, DeliverBatchRequest, batch_answer, batch_item};
    use lintas_core::vocab::NoticeKind::VictimStatusUpdate;

    let dir = tempfile::tempdir().unwrap();
    let mut limits = lintas_grpc::Limits::default();
    limits.max_batch_items = 8;
    let net = DevNet::start_with(&[KHM_POLICE], dir.path(), limits)
        .await
        .unwrap();
    let mut peer = net.peer(IDN_KEMLU, KHM_POLICE).await.unwrap();
    let item = |n: &SignedNotice| BatchItem {
        item: Some(batch_item::Item::Notice(n.clone().into())),
    };
    let (good_id, good) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
    let (_, elsewhere) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[THA_POLICE]);
    let mut tampered =
        pb::SignedNotice::from(signed_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]).1);
    tampered.signature[3] ^= 1;
    let request = DeliverBatchRequest {
        items: vec![
            item(&good),
            BatchItem {
                item: Some(batch_item::Item::Notice(tampered)),
            },
            item(&elsewhere),
            BatchItem { item: None },
            item(&good),
        ],
    };
    let answers = peer
        .deliver_batch(request)
        .await
        .unwrap()
        .into_inner()
        .answers;
    let summary: Vec<String> = answers
        .iter()
        .map(|a| match &a.answer {
            Some(batch_answer::Answer::Delivered(d)) => {
                format!("delivered duplicate={}", d.duplicate)
            }
            Some(batch_answer::Answer::Refused(r)) => {
                format!("{} {} {}", r.code, r.reason, r.field)
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            "delivered duplicate=false".to_string(),
            format!("{} bad_signature ", tonic::Code::InvalidArgument as u32),
            format!("{} not_a_recipient ", tonic::Code::PermissionDenied as u32),
            format!(
                "{} invalid_argument items[3].item",
                tonic::Code::InvalidArgument as u32
            ),
            "delivered duplicate=true".to_string(),
        ]
    );
    let inbox = net.node(KHM_POLICE).inbox_after(0).await.unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].id, good_id);

    let too_many = DeliverBatchRequest {
        items: (0..9).map(|_| item(&good)).collect(),
    };
    let refused = peer.deliver_batch(too_many).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    assert_eq!(reason(&refused), "batch_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_made_before_any_handler_still_carry_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut limits = lintas_grpc::Limits::default();
    limits.max_message_bytes = 64 * 1024;
    limits.request_timeout = Duration::from_millis(500);
    let net = DevNet::start_with(&[KHM_POLICE], dir.path(), limits)
        .await
        .unwrap();
    let channel = net
        .channel("pwni.kemlu.lintas.test", KHM_POLICE)
        .await
        .unwrap();

    // A message over the size limit: refused by tonic while decoding.
    let mut peer = lintas_grpc::pb::peer_exchange_client::PeerExchangeClient::new(channel.clone());
    let status = peer
        .deliver(pb::DeliverRequest {
            notice: Some(pb::SignedNotice {
                body: vec![0; 100_000],
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::OutOfRange, "message_too_large")
    );

    // Bytes that are not a DeliverRequest (field 1 as a varint).
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let codec =
        tonic_prost::ProstCodec::<pb::SubscribeInboxRequest, pb::DeliverResponse>::default();
    let status = grpc
        .unary(
            tonic::Request::new(pb::SubscribeInboxRequest { after_cursor: 5 }),
            http::uri::PathAndQuery::from_static("/lintas.v1.PeerExchange/Deliver"),
            codec,
        )
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::Internal, "undecodable")
    );

    // A method the node does not serve.
    grpc.ready().await.unwrap();
    let status = grpc
        .unary(
            tonic::Request::new(pb::DeliverRequest::default()),
            http::uri::PathAndQuery::from_static("/lintas.v1.PeerExchange/Withdraw"),
            tonic_prost::ProstCodec::<pb::DeliverRequest, pb::DeliverResponse>::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::Unimplemented, "unimplemented")
    );

    // A request whose message never comes runs past the time limit.
    let started = std::time::Instant::now();
    grpc.ready().await.unwrap();
    let status = grpc
        .client_streaming(
            tonic::Request::new(tokio_stream::pending::<pb::DeliverRequest>()),
            http::uri::PathAndQuery::from_static("/lintas.v1.PeerExchange/Deliver"),
            tonic_prost::ProstCodec::<pb::DeliverRequest, pb::DeliverResponse>::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "request_timeout", "{status:?}");
    assert!(matches!(
        status.code(),
        tonic::Code::Cancelled | tonic::Code::DeadlineExceeded
    ));
    assert!(started.elapsed() >= Duration::from_millis(500));
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_roster_version_takes_effect_without_a_restart() {
    use lintas_core::ids::MemberState;
    use lintas_core::roster::Revocation;
    use lintas_core::vocab::NoticeKind::VictimStatusUpdate;

    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[KHM_POLICE], dir.path()).await.unwrap();
    let mut cambodia = net.case_system(KHM_POLICE).await.unwrap();
    let mut indonesia = net.peer(IDN_KEMLU, KHM_POLICE).await.unwrap();

    // Accepted under version 1.
    let (_, before) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
    indonesia.deliver(deliver_request(&before)).await.unwrap();

    // The stewards publish version 2, revoking the Indonesian key.
    let mut next = net.roster.roster().clone();
    next.version = 2;
    next.issued_at = lintas_core::time::Timestamp::now();
    let idn = lintas_core::ids::AgencyId::parse(IDN_KEMLU).unwrap();
    next.agencies.get_mut(&idn).unwrap().keys[0].revocation = Some(Revocation {
        revoked_at: lintas_core::time::Timestamp::now(),
        reason: "laptop stolen".into(),
    });
    let signed =
        lintas_testkit::world::sign_roster(&next, &[MemberState::Indonesia, MemberState::Cambodia]);

    // Version 1 again is a rollback; version 2 is installed.
    let stale = cambodia
        .install_roster(pb::InstallRosterRequest {
            roster: Some(net.roster.signed().clone().into()),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (stale.code(), reason(&stale).as_str()),
        (tonic::Code::FailedPrecondition, "roster_rollback")
    );

    // Each other rule of PROTOCOL.md 6.3, on the running node.
    let both = [MemberState::Indonesia, MemberState::Cambodia];
    let variant = |change: &dyn Fn(&mut lintas_core::roster::Roster), stewards: &[MemberState]| {
        let mut r = next.clone();
        change(&mut r);
        lintas_testkit::world::sign_roster(&r, stewards)
    };
    let current = net.roster.roster().clone();
    let undecodable = lintas_core::pb::SignedRoster {
        roster: vec![0xFF; 8],
        signatures: Vec::new(),
    };
    let cases = [
        (
            variant(&|r| r.version = 3, &both).into(),
            tonic::Code::FailedPrecondition,
            "roster_version_gap",
        ),
        (
            variant(&|_| {}, &[MemberState::Indonesia]).into(),
            tonic::Code::FailedPrecondition,
            "roster_threshold_not_met",
        ),
        (
            variant(
                &|r| r.issued_at = current.issued_at.plus_seconds(-60),
                &both,
            )
            .into(),
            tonic::Code::FailedPrecondition,
            "roster_issued_before_trusted",
        ),
        (
            variant(
                &|r| {
                    r.issued_at = current.issued_at.plus_seconds(1);
                    r.expires_at = current.issued_at.plus_seconds(2);
                },
                &both,
            )
            .into(),
            tonic::Code::FailedPrecondition,
            "roster_expired",
        ),
        (undecodable, tonic::Code::InvalidArgument, "roster_invalid"),
    ];
    for (roster, code, why) in cases {
        let refused = cambodia
            .install_roster(pb::InstallRosterRequest {
                roster: Some(roster),
            })
            .await
            .unwrap_err();
        assert_eq!((refused.code(), reason(&refused).as_str()), (code, why));
    }

    // A peer's certificate does not open the agency API.
    let channel = net
        .channel("pwni.kemlu.lintas.test", KHM_POLICE)
        .await
        .unwrap();
    let refused = lintas_grpc::pb::agency_api_client::AgencyApiClient::new(channel)
        .list_dead_letters(pb::ListDeadLettersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        (refused.code(), reason(&refused).as_str()),
        (tonic::Code::PermissionDenied, "not_an_api_client")
    );
    let installed = cambodia
        .install_roster(pb::InstallRosterRequest {
            roster: Some(signed.into()),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(installed.version, 2);

    // The revoked key now verifies nothing, on the running node.
    let (_, after) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
    let status = indonesia
        .deliver(deliver_request(&after))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "key_revoked");

    // The node trusts version 2 from now on (it is stored for restarts).
    assert_eq!(net.node(KHM_POLICE).engine().roster().roster().version, 2);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarding_recipient_tells_the_sender_whom_it_forwarded_to() {
    use lintas_core::vocab::NoticeKind::{ModusOperandiAlert, VictimStatusUpdate};
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[IDN_KEMLU, THA_POLICE, KHM_POLICE], dir.path())
        .await
        .unwrap();
    let mut thailand = net.case_system(THA_POLICE).await.unwrap();

    // Indonesia sends a GREEN, forwardable alert to Thailand only.
    let alert = body_now(ModusOperandiAlert, IDN_KEMLU, &[THA_POLICE]);
    let (id, _) = net.node(IDN_KEMLU).submit(alert).await.unwrap();
    net.node(THA_POLICE).wait_for_inbox(0).await;

    // Thailand forwards it to Cambodia.
    let receipt = thailand
        .forward_notice(pb::ForwardNoticeRequest {
            notice_id: id.as_bytes().to_vec(),
            to: vec![KHM_POLICE.into()],
        })
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    let receipt = SignedReceipt::try_from(receipt)
        .unwrap()
        .receipt_unverified()
        .unwrap();
    assert_eq!(receipt.stage, ReceiptStage::Forwarded);
    assert_eq!(receipt.forwarded_to[0].as_str(), KHM_POLICE);

    // Cambodia holds it, relayed by Thailand, and Indonesia learns of it.
    net.node(KHM_POLICE).wait_for_inbox(0).await;
    let inbox = net.node(KHM_POLICE).inbox_after(0).await.unwrap();
    assert_eq!(
        (inbox[0].id, inbox[0].notice.delivered_by.as_str()),
        (id, THA_POLICE)
    );
    eventually("Indonesia holds Thailand's FORWARDED receipt", || async {
        stages(&net, IDN_KEMLU, id).await.contains(&(
            ReceiptStage::Forwarded.to_wire() as u8,
            THA_POLICE.to_string(),
        ))
    })
    .await;

    // Forwarding again, or forwarding what may not be forwarded, is refused.
    let again = thailand
        .forward_notice(pb::ForwardNoticeRequest {
            notice_id: id.as_bytes().to_vec(),
            to: vec![IDN_POLRI_ID.into()],
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&again), "not_forwardable");
    let private = body_now(VictimStatusUpdate, IDN_KEMLU, &[THA_POLICE]);
    let (private_id, _) = net.node(IDN_KEMLU).submit(private).await.unwrap();
    eventually("Thailand holds the private notice", || async {
        net.node(THA_POLICE)
            .inbox_after(0)
            .await
            .unwrap()
            .iter()
            .any(|e| e.id == private_id)
    })
    .await;
    let status = thailand
        .forward_notice(pb::ForwardNoticeRequest {
            notice_id: private_id.as_bytes().to_vec(),
            to: vec![KHM_POLICE.into()],
        })
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::FailedPrecondition, "not_forwardable")
    );
    net.shutdown().await;
}

const IDN_POLRI_ID: &str = lintas_testkit::world::IDN_POLRI;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_about_a_victim_who_declined_goes_to_their_state() {
    use lintas_core::notice::NoticeContent;
    use lintas_core::vocab::{ConsentDecision, ConsentPurpose, NoticeKind};
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[KHM_POLICE, THA_POLICE], dir.path())
        .await
        .unwrap();

    // Cambodia identifies V-001, who refuses to have Indonesia notified,
    // and tells Thailand.
    let mut identified = body_now(NoticeKind::VictimIdentified, KHM_POLICE, &[THA_POLICE]);
    if let NoticeContent::VictimIdentified(v) = &mut identified.content {
        v.victim.record_consent(
            ConsentPurpose::NotifyStateOfNationality,
            ConsentDecision::Refused,
        );
    }
    let mut to_indonesia = identified.clone();
    to_indonesia.recipients = vec![lintas_core::ids::AgencyId::parse(IDN_KEMLU).unwrap()];
    let refused = net.node(KHM_POLICE).submit(to_indonesia).await.unwrap_err();
    assert_eq!(refused.field(), Some("draft.recipients[0]"));
    net.node(KHM_POLICE).submit(identified).await.unwrap();
    net.node(THA_POLICE).wait_for_inbox(0).await;

    // A later status update names V-001 by id only: refused to Indonesia by
    // both the node that signed the record and the node that received it.
    let update = |from: &str, to: &str| {
        let mut body = body_now(NoticeKind::VictimStatusUpdate, from, &[to]);
        if let NoticeContent::VictimStatusUpdate(u) = &mut body.content {
            u.victim_id = lintas_core::ids::RecordId::parse("V-001").unwrap();
        }
        body
    };
    for from in [KHM_POLICE, THA_POLICE] {
        let refused = net
            .node(from)
            .submit(update(from, IDN_KEMLU))
            .await
            .unwrap_err();
        assert_eq!(
            (refused.reason(), refused.field()),
            ("invalid_argument", Some("draft.recipients[0]")),
            "{from}"
        );
    }
    // To another state it goes.
    net.node(THA_POLICE)
        .submit(update(THA_POLICE, KHM_POLICE))
        .await
        .unwrap();
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_case_timeline_and_the_list_of_notices_come_in_pages() {
    use lintas_core::vocab::NoticeKind::VictimStatusUpdate;
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[KHM_POLICE], dir.path()).await.unwrap();
    let mut indonesia = net.peer(IDN_KEMLU, KHM_POLICE).await.unwrap();
    let mut cambodia = net.case_system(KHM_POLICE).await.unwrap();
    let mut sent = Vec::new();
    for i in 0..7u64 {
        let mut body = body_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
        body.sequence += i;
        body.created_at = body.created_at.plus_seconds(i as i64 - 10);
        if let lintas_core::notice::NoticeContent::VictimStatusUpdate(u) = &mut body.content {
            u.effective_at = body.created_at;
        }
        let (id, notice) = sign_body(&body);
        indonesia.deliver(deliver_request(&notice)).await.unwrap();
        sent.push(id.as_bytes().to_vec());
    }

    // Pages of three: 3, 3, 1, in creation order, each entry once.
    let mut seen = Vec::new();
    let mut token = Vec::new();
    let mut pages = 0;
    loop {
        let page = cambodia
            .get_case_timeline(pb::GetCaseTimelineRequest {
                case_id: scenario::CASE_ID.into(),
                page_size: 3,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        assert!(page.entries.len() <= 3);
        seen.extend(page.entries.into_iter().map(|e| e.notice_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!((pages, seen), (3, sent.clone()));

    // Everything the node holds, for exports: pages of three in notice-id
    // order, each notice once, naming the node's agency.
    let mut listed = Vec::new();
    let mut token = Vec::new();
    let mut pages = 0;
    loop {
        let page = cambodia
            .list_notices(pb::ListNoticesRequest {
                page_size: 3,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        assert_eq!(page.agency, KHM_POLICE);
        assert!(page.notices.len() <= 3);
        for held in page.notices {
            assert_eq!(held.direction, pb::Direction::Received as i32);
            assert!(held.notice.is_some() && held.stored_at.is_some());
            listed.push(held.notice_id);
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let mut by_id = sent.clone();
    by_id.sort();
    assert_eq!((pages, listed), (3, by_id));
    let status = cambodia
        .list_notices(pb::ListNoticesRequest {
            page_size: 0,
            page_token: vec![9; 31],
        })
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), self::field(&status).as_str()),
        (tonic::Code::InvalidArgument, "page_token")
    );

    // The byte budget ends a page early, but never before its first entry.
    let case = lintas_core::ids::CaseId::parse(scenario::CASE_ID).unwrap();
    let (first, next) = net
        .node(KHM_POLICE)
        .engine()
        .case_timeline_page(
            &case,
            &lintas_node::Page {
                size: 0,
                token: Vec::new(),
                bytes: 1,
            },
        )
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(next.is_some());

    // A page size over the limit and a token the node did not issue are
    // refused with their field.
    for (size, token, field) in [
        (501, Vec::new(), "page_size"),
        (0, vec![1, 2, 3], "page_token"),
    ] {
        let status = cambodia
            .get_case_timeline(pb::GetCaseTimelineRequest {
                case_id: scenario::CASE_ID.into(),
                page_size: size,
                page_token: token,
            })
            .await
            .unwrap_err();
        assert_eq!(
            (status.code(), self::field(&status).as_str()),
            (tonic::Code::InvalidArgument, field)
        );
    }
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_can_decline_or_say_whom_to_ask_instead() {
    use lintas_core::vocab::NoticeKind::{ActionRequest, RescueRequest};
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[IDN_KEMLU, KHM_POLICE], dir.path())
        .await
        .unwrap();
    let mut cambodia = net.case_system(KHM_POLICE).await.unwrap();
    let reason_text = |t: &str| Some(lintas_core::text::Text::en(t).into());

    let (rescue, _) = net
        .node(IDN_KEMLU)
        .submit(body_now(RescueRequest, IDN_KEMLU, &[KHM_POLICE]))
        .await
        .unwrap();
    let (freeze, _) = net
        .node(IDN_KEMLU)
        .submit(body_now(ActionRequest, IDN_KEMLU, &[KHM_POLICE]))
        .await
        .unwrap();
    eventually("Cambodia holds both", || async {
        net.node(KHM_POLICE).inbox_after(0).await.unwrap().len() == 2
    })
    .await;

    // Declining without a reason, or naming an agency to try, is refused.
    let status = cambodia
        .acknowledge(pb::AcknowledgeRequest {
            notice_id: rescue.as_bytes().to_vec(),
            stage: ReceiptStage::Declined.to_wire(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field(&status), "reason");
    let status = cambodia
        .acknowledge(pb::AcknowledgeRequest {
            notice_id: rescue.as_bytes().to_vec(),
            stage: ReceiptStage::Declined.to_wire(),
            reason: reason_text("Operation already under way by the army"),
            refer_to: IDN_POLRI_ID.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field(&status), "refer_to");

    // Cambodia's police cannot freeze: not competent, ask the FIU.
    cambodia
        .acknowledge(pb::AcknowledgeRequest {
            notice_id: freeze.as_bytes().to_vec(),
            stage: ReceiptStage::NotCompetent.to_wire(),
            reason: reason_text("Freezing orders are issued by the financial intelligence unit"),
            refer_to: "KHM.CAFIU".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    cambodia
        .acknowledge(pb::AcknowledgeRequest {
            notice_id: rescue.as_bytes().to_vec(),
            stage: ReceiptStage::Declined.to_wire(),
            reason: reason_text("Operation already under way by the army"),
            ..Default::default()
        })
        .await
        .unwrap();

    // Indonesia holds both signed answers with their reasons.
    eventually("Indonesia holds the NOT_COMPETENT receipt", || async {
        stages(&net, IDN_KEMLU, freeze).await.contains(&(
            ReceiptStage::NotCompetent.to_wire() as u8,
            KHM_POLICE.to_string(),
        ))
    })
    .await;
    let receipts = net.node(IDN_KEMLU).receipts(freeze).await.unwrap();
    let (_, _, bytes) = receipts
        .iter()
        .find(|(stage, _, _)| *stage == ReceiptStage::NotCompetent.to_wire() as u8)
        .unwrap();
    let receipt = net
        .roster
        .verify_receipt(
            &SignedReceipt::decode(bytes).unwrap(),
            lintas_core::time::Timestamp::now(),
        )
        .unwrap();
    assert_eq!(receipt.refer_to.unwrap().as_str(), "KHM.CAFIU");
    assert!(
        receipt
            .reason
            .unwrap()
            .text
            .contains("financial intelligence")
    );
    eventually("Indonesia holds the DECLINED receipt", || async {
        stages(&net, IDN_KEMLU, rescue).await.contains(&(
            ReceiptStage::Declined.to_wire() as u8,
            KHM_POLICE.to_string(),
        ))
    })
    .await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_cannot_lock_peers_out() {
    use lintas_core::vocab::NoticeKind::VictimStatusUpdate;
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let mut limits = lintas_grpc::Limits::default();
    limits.max_connections_per_address = 8;
    limits.tls_handshake_timeout = Duration::from_millis(500);
    let net = DevNet::start_with(&[KHM_POLICE], dir.path(), limits)
        .await
        .unwrap();
    let addr = net.addr(KHM_POLICE).unwrap();

    // A stranger on 127.0.0.2 opens 100 connections and never speaks.
    let mut silent = Vec::new();
    for _ in 0..100 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        silent.push(socket.connect(addr).await.unwrap());
    }

    // A peer from another address is served meanwhile.
    let mut indonesia = net.peer(IDN_KEMLU, KHM_POLICE).await.unwrap();
    let (_, notice) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
    indonesia.deliver(deliver_request(&notice)).await.unwrap();

    // The node closes every silent connection within seconds: those over
    // the address's cap at once, the others when the handshake times out.
    let mut closed = 0;
    for mut stream in silent {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await;
        if let Ok(Ok(0) | Err(_)) = read {
            closed += 1;
        }
    }
    assert_eq!(closed, 100);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_do_not_reveal_which_notices_exist_and_relaying_back_is_no_alarm() {
    use lintas_core::vocab::NoticeKind::{ModusOperandiAlert, VictimStatusUpdate};
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[IDN_KEMLU], dir.path()).await.unwrap();
    let mut thailand = net.peer(THA_POLICE, IDN_KEMLU).await.unwrap();
    let idn = lintas_core::ids::AgencyId::parse(IDN_KEMLU).unwrap();
    let tha = lintas_core::ids::AgencyId::parse(THA_POLICE).unwrap();

    // Indonesia sends a forwardable alert to Thailand, and an update to
    // Cambodia only.
    let (alert, _) = net
        .node(IDN_KEMLU)
        .submit(body_now(ModusOperandiAlert, IDN_KEMLU, &[THA_POLICE]))
        .await
        .unwrap();
    let (update, _) = net
        .node(IDN_KEMLU)
        .submit(body_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]))
        .await
        .unwrap();

    // Thailand reports receipts for the update (not sent to it) and for an
    // id that does not exist: the same answer for both.
    let envelope = net.node(IDN_KEMLU).engine().fetch(&idn, update).unwrap();
    let key = lintas_testkit::world::agency_key(THA_POLICE);
    let receipt_for = |id: NoticeId| {
        let receipt = lintas_core::receipt::Receipt::new(
            id,
            &envelope,
            tha.clone(),
            ReceiptStage::Read,
            lintas_core::time::Timestamp::now(),
        );
        pb::ReportReceiptRequest {
            receipt: Some(SignedReceipt::sign(&receipt, &key).unwrap().into()),
        }
    };
    let mut answers = Vec::new();
    for id in [update, NoticeId::from_bytes([9; 32])] {
        let status = thailand.report_receipt(receipt_for(id)).await.unwrap_err();
        answers.push((status.code(), reason(&status)));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].1, "not_a_recipient");

    // A receipt for the alert Thailand did receive, but over other bytes.
    let alert_envelope = net.node(IDN_KEMLU).engine().fetch(&tha, alert).unwrap();
    let mut wrong_digest = lintas_core::receipt::Receipt::new(
        alert,
        &alert_envelope,
        tha.clone(),
        ReceiptStage::Read,
        lintas_core::time::Timestamp::now(),
    );
    wrong_digest.body_sha256[0] ^= 1;
    let status = thailand
        .report_receipt(pb::ReportReceiptRequest {
            receipt: Some(SignedReceipt::sign(&wrong_digest, &key).unwrap().into()),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::PermissionDenied, "receipt_digest_mismatch")
    );
    // The right receipt is taken, and Indonesia holds it.
    let mut events = Box::pin(net.node(IDN_KEMLU).engine().receipt_events());
    let read = lintas_core::receipt::Receipt::new(
        alert,
        &alert_envelope,
        tha.clone(),
        ReceiptStage::Read,
        lintas_core::time::Timestamp::now(),
    );
    thailand
        .report_receipt(pb::ReportReceiptRequest {
            receipt: Some(SignedReceipt::sign(&read, &key).unwrap().into()),
        })
        .await
        .unwrap();
    let held = net.node(IDN_KEMLU).receipts(alert).await.unwrap();
    let read_stage = ReceiptStage::Read.to_wire() as u8;
    assert!(
        held.iter()
            .any(|(stage, receiver, _)| *stage == read_stage && receiver == THA_POLICE)
    );
    let event = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((event.notice_id, event.stage), (alert, ReceiptStage::Read));

    // Thailand relays Indonesia's own alert back to it: refused plainly,
    // not a store failure.
    let own = net.node(IDN_KEMLU).engine().fetch(&tha, alert).unwrap();
    let status = thailand.deliver(deliver_request(&own)).await.unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::PermissionDenied, "not_a_recipient")
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_submission_with_its_key_signs_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = DevNet::start(&[IDN_KEMLU], dir.path()).await.unwrap();
    let request = scenario::rescue_request(lintas_core::time::Timestamp::now());
    let submit = |key: &str| pb::SubmitNoticeRequest {
        draft: Some(draft(&request)),
        idempotency_key: key.into(),
    };
    let mut indonesia = net.case_system(IDN_KEMLU).await.unwrap();
    let first = indonesia
        .submit_notice(submit("case-17/rescue-1"))
        .await
        .unwrap()
        .into_inner();
    let again = indonesia
        .submit_notice(submit("case-17/rescue-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first);

    // The node dies and comes back; the case system retries.
    net.stop(IDN_KEMLU).await.unwrap();
    net.restart(IDN_KEMLU).await.unwrap();
    let mut indonesia = net.case_system(IDN_KEMLU).await.unwrap();
    let after_restart = indonesia
        .submit_notice(submit("case-17/rescue-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after_restart, first);

    // Another key is another notice; a malformed key is refused.
    let other = indonesia
        .submit_notice(submit("case-17/rescue-2"))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(other.notice_id, first.notice_id);
    assert_eq!(other.sequence, first.sequence + 1);
    let status = indonesia
        .submit_notice(submit("no spaces please"))
        .await
        .unwrap_err();
    assert_eq!(field(&status), "idempotency_key");
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_refused_for_good_leaves_the_outbox_and_does_not_block_its_case() {
    use lintas_core::notice::{NoticeContent, Withdrawal};
    use lintas_core::vocab::NoticeKind::{VictimStatusUpdate, Withdrawal as WithdrawalKind};
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[IDN_KEMLU, KHM_POLICE], dir.path())
        .await
        .unwrap();
    let mut indonesia = net.case_system(IDN_KEMLU).await.unwrap();

    // Cambodia holds a Thai notice of the case.
    let mut thailand = net.peer(THA_POLICE, KHM_POLICE).await.unwrap();
    let (thai, notice) = signed_now(VictimStatusUpdate, THA_POLICE, &[KHM_POLICE]);
    thailand.deliver(deliver_request(&notice)).await.unwrap();

    // Indonesia withdraws it by mistake: Cambodia refuses for good
    // (not_own_notice). A later notice of the same case still arrives.
    let mut withdrawal = body_now(WithdrawalKind, IDN_KEMLU, &[KHM_POLICE]);
    withdrawal.content = NoticeContent::Withdrawal(Withdrawal::new(
        thai,
        lintas_core::text::Text::en("wrong notice"),
    ));
    net.node(IDN_KEMLU).submit(withdrawal).await.unwrap();
    let (update, _) = net
        .node(IDN_KEMLU)
        .submit(body_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]))
        .await
        .unwrap();
    eventually("the later notice of the case arrives", || async {
        net.node(KHM_POLICE)
            .inbox_after(0)
            .await
            .unwrap()
            .iter()
            .any(|e| e.id == update)
    })
    .await;
    eventually("the outbox is empty", || async {
        net.node(IDN_KEMLU).outbox_len().await.unwrap() == 0
    })
    .await;

    // The operator sees the dead letter, retries it (refused again), then
    // drops it.
    let list = |api: &mut lintas_grpc::pb::agency_api_client::AgencyApiClient<_>| {
        let mut api = api.clone();
        async move {
            api.list_dead_letters(pb::ListDeadLettersRequest::default())
                .await
                .unwrap()
                .into_inner()
                .dead_letters
        }
    };
    let dead = list(&mut indonesia).await;
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].error.starts_with("not_own_notice"),
        "{}",
        dead[0].error
    );
    assert_eq!(dead[0].recipient, KHM_POLICE);
    indonesia
        .retry_dead_letter(pb::DeadLetterRequest { seq: dead[0].seq })
        .await
        .unwrap();
    let again = loop {
        let now = list(&mut indonesia).await;
        if now.len() == 1 && now[0].seq != dead[0].seq {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    indonesia
        .drop_dead_letter(pb::DeadLetterRequest { seq: again[0].seq })
        .await
        .unwrap();
    assert!(list(&mut indonesia).await.is_empty());
    let status = indonesia
        .drop_dead_letter(pb::DeadLetterRequest { seq: again[0].seq })
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (tonic::Code::NotFound, "not_found")
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_used_its_daily_quota_is_refused_and_others_are_not() {
    use lintas_core::vocab::NoticeKind::VictimStatusUpdate;
    let dir = tempfile::tempdir().unwrap();
    let mut limits = lintas_grpc::Limits::default();
    limits.peer_kib_per_day = 16;
    let mut net = DevNet::start_with(&[KHM_POLICE], dir.path(), limits)
        .await
        .unwrap();
    let mut indonesia = net.peer(IDN_KEMLU, KHM_POLICE).await.unwrap();
    let mut accepted = 0;
    let refusal = loop {
        let (_, notice) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
        match indonesia.deliver(deliver_request(&notice)).await {
            Ok(_) => accepted += 1,
            Err(status) => break status,
        }
        assert!(accepted <= 16, "the quota did not hold");
    };
    assert!(accepted >= 1);
    assert_eq!(
        (refusal.code(), reason(&refusal).as_str()),
        (tonic::Code::ResourceExhausted, "quota_exceeded")
    );
    // A restart does not give the peer a new day's quota: it was kept in
    // the store.
    net.stop(KHM_POLICE).await.unwrap();
    net.restart(KHM_POLICE).await.unwrap();
    let mut indonesia = net.peer(IDN_KEMLU, KHM_POLICE).await.unwrap();
    let (_, notice) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
    let refusal = indonesia
        .deliver(deliver_request(&notice))
        .await
        .unwrap_err();
    assert_eq!(reason(&refusal), "quota_exceeded", "after a restart");
    // Another peer's quota is its own.
    let mut thailand = net.peer(THA_POLICE, KHM_POLICE).await.unwrap();
    let (_, notice) = signed_now(VictimStatusUpdate, THA_POLICE, &[KHM_POLICE]);
    thailand.deliver(deliver_request(&notice)).await.unwrap();
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_disk_is_full_says_not_serving_and_recovers_by_itself() {
    use lintas_core::vocab::NoticeKind::VictimStatusUpdate;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[KHM_POLICE], dir.path()).await.unwrap();
    let mut indonesia = net.peer(IDN_KEMLU, KHM_POLICE).await.unwrap();
    let health = HealthClient::new(
        net.channel("pwni.kemlu.lintas.test", KHM_POLICE)
            .await
            .unwrap(),
    );
    let status = |health: &HealthClient<_>| {
        let mut health = health.clone();
        async move {
            health
                .check(HealthCheckRequest {
                    service: "lintas.v1.PeerExchange".into(),
                })
                .await
                .unwrap()
                .into_inner()
                .status
        }
    };
    assert_eq!(status(&health).await, ServingStatus::Serving as i32);

    // The disk fills: writes fail, the node says so and refuses plainly.
    let store = net.node(KHM_POLICE).engine().store_handle().clone();
    store.inject_disk_full(true);
    let (_, notice) = signed_now(VictimStatusUpdate, IDN_KEMLU, &[KHM_POLICE]);
    let refused = indonesia
        .deliver(deliver_request(&notice))
        .await
        .unwrap_err();
    assert_eq!(
        (refused.code(), reason(&refused).as_str()),
        (tonic::Code::Internal, "store_failure")
    );
    eventually("health says NOT_SERVING", || async {
        status(&health).await == ServingStatus::NotServing as i32
    })
    .await;

    // Space comes back: the node recovers without a restart.
    store.inject_disk_full(false);
    eventually("health says SERVING again", || async {
        status(&health).await == ServingStatus::Serving as i32
    })
    .await;
    indonesia.deliver(deliver_request(&notice)).await.unwrap();
    assert_eq!(net.node(KHM_POLICE).inbox_after(0).await.unwrap().len(), 1);
    net.shutdown().await;
}
