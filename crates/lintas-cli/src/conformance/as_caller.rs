//! The checks the harness makes as a caller of the target's
//! `PeerExchange`: transport, deliveries of every kind and their receipts,
//! duplicates, batches, and the refusals a peer can provoke.

use lintas_core::ids::NoticeId;
use lintas_core::notice::NoticeBody;
use lintas_core::pb;
use lintas_core::receipt::{Receipt, SignedReceipt, body_digest};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::ReceiptStage;
use lintas_grpc::pb::agency_api_client::AgencyApiClient;
use lintas_grpc::pb::peer_exchange_client::PeerExchangeClient;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic::transport::Channel;

use super::expect::{Outcome, code_of, expect_refusal, reason};
use super::history::{history, references};
use super::refusals::{
    refusals, someone_elses_receipt, too_large, undecodable, unimplemented, unknown_receipt,
};
use super::{Harness, Report, kinds};

pub(crate) async fn run(h: &mut Harness, report: &mut Report) {
    let channel = match h.channel(true).await {
        Ok(channel) => channel,
        Err(e) => {
            report.check(
                "9.1",
                "connect with mutual TLS",
                Err(format!("cannot connect to {}: {e}", h.target_url)),
            );
            return;
        }
    };
    report.check("9.1", "connect with mutual TLS", Ok("connected".into()));
    report.check(
        "9",
        "health reports PeerExchange serving",
        health(&channel).await,
    );
    report.check(
        "9",
        "reflection lists PeerExchange",
        reflection(&channel).await,
    );
    report.check(
        "9.1",
        "a client without a certificate is refused in the TLS handshake",
        without_certificate(h).await,
    );

    let mut peer = PeerExchangeClient::new(channel.clone())
        .max_decoding_message_size(16 << 20)
        .max_encoding_message_size(usize::MAX);
    let mut accepted: Vec<(NoticeBody, NoticeId, SignedNotice, pb::DeliverResponse)> = Vec::new();
    for kind in kinds() {
        let outcome = deliver_kind(h, &mut peer, kind).await;
        if let Ok(Some(done)) = &outcome.1 {
            accepted.push(done.clone());
        }
        report.check(
            "9.3",
            &format!("deliver {}", with_article(&kind.replace('_', " "))),
            outcome.0,
        );
    }
    let Some((first_body, _, first, first_answer)) = accepted.first().cloned() else {
        report.check(
            "9.3",
            "further checks",
            Err("no notice was accepted, so nothing further can be checked".into()),
        );
        return;
    };
    report.check(
        "9.3",
        "a duplicate gets the original receipt, marked duplicate",
        duplicate(&mut peer, &first, &first_answer).await,
    );
    report.check(
        "9.5",
        "a batch is answered item by item, in order",
        batch(h, &mut peer, &first).await,
    );
    report.check(
        "9.5",
        "a batch over the limit is refused whole (batch_too_large)",
        batch_too_large(h, &mut peer).await,
    );
    refusals(h, &mut peer, report, &first_body).await;
    let delivered: Vec<(NoticeBody, NoticeId)> = accepted
        .iter()
        .map(|(body, id, _, _)| (body.clone(), *id))
        .collect();
    h.unforwardable = delivered
        .iter()
        .find(|(body, _)| !body.handling.may_forward)
        .map(|(_, id)| *id);
    history(h, &mut peer, report, &delivered).await;
    references(h, &mut peer, report, &delivered).await;
    super::lookups::run(&mut peer, report, &delivered).await;
    super::lookups::too_many(h, &mut peer, report, h.match_limit).await;
    super::witnessing::run(h, &mut peer, report).await;
    report.check(
        "9.4",
        "FetchNotice of a notice the caller may not have (not_entitled)",
        expect_refusal(
            peer.fetch_notice(pb::FetchNoticeRequest {
                notice_id: vec![0x5a; 32],
            })
            .await,
            Code::PermissionDenied,
            "not_entitled",
            None,
        ),
    );
    report.check(
        "9.4",
        "ReportReceipt for a notice the target never sent (not_a_recipient)",
        unknown_receipt(h, &mut peer, &first).await,
    );
    report.check(
        "9.4",
        "ReportReceipt of a receipt the target signed (sender_not_peer)",
        someone_elses_receipt(&mut peer, first_answer.receipt.clone()).await,
    );
    report.check(
        "9.7",
        "the agency API with a peer's certificate (not_an_api_client)",
        expect_refusal(
            AgencyApiClient::new(channel.clone())
                .list_dead_letters(pb::ListDeadLettersRequest::default())
                .await,
            Code::PermissionDenied,
            "not_an_api_client",
            None,
        ),
    );
    let check = "a caller whose certificate names no roster agency (peer_not_in_roster)";
    match &h.stranger {
        None => report.skip("9.1", check, "no --stranger-cert given"),
        Some(stranger) => {
            let outcome = match h.channel_as(stranger).await {
                Err(e) => Err(format!("cannot connect: {e}")),
                Ok(channel) => expect_refusal(
                    PeerExchangeClient::new(channel)
                        .deliver(pb::DeliverRequest {
                            notice: Some(first.clone().into()),
                        })
                        .await,
                    Code::PermissionDenied,
                    "peer_not_in_roster",
                    None,
                ),
            };
            report.check("9.1", check, outcome);
        }
    }
    report.check(
        "9.8",
        "a message over the size limit (message_too_large)",
        too_large(h, &mut peer).await,
    );
    report.check(
        "9.8",
        "a method the node does not serve (unimplemented)",
        unimplemented(&channel).await,
    );
    report.check(
        "9.8",
        "bytes that are not the request (undecodable)",
        undecodable(&channel).await,
    );
}

async fn health(channel: &Channel) -> Outcome {
    use tonic_health::pb::health_check_response::ServingStatus;
    let answer = tonic_health::pb::health_client::HealthClient::new(channel.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: "lintas.v1.PeerExchange".into(),
        })
        .await
        .map_err(|s| format!("health check failed: {s}"))?
        .into_inner();
    if answer.status == ServingStatus::Serving as i32 {
        Ok("SERVING".into())
    } else {
        Err(format!("status {} instead of SERVING", answer.status))
    }
}

async fn reflection(channel: &Channel) -> Outcome {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = ServerReflectionClient::new(channel.clone())
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .map_err(|s| format!("reflection failed: {s}"))?
        .into_inner();
    let Some(Ok(answer)) = answers.next().await else {
        return Err("no reflection answer".into());
    };
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        return Err("the answer is not a list of services".into());
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    if names.iter().any(|n| n == "lintas.v1.PeerExchange") {
        Ok(names.join(", "))
    } else {
        Err(format!("lintas.v1.PeerExchange not among {names:?}"))
    }
}

async fn without_certificate(h: &Harness) -> Outcome {
    let answer = match h.channel(false).await {
        // The handshake may fail on connecting or on the first call.
        Err(e) => return Ok(format!("refused on connecting: {e}")),
        Ok(channel) => {
            PeerExchangeClient::new(channel)
                .fetch_notice(pb::FetchNoticeRequest {
                    notice_id: vec![0; 32],
                })
                .await
        }
    };
    match answer {
        Ok(_) => Err("the call was answered".into()),
        Err(status) if status.metadata().get("lintas-reason").is_some() => Err(format!(
            "a Lintas refusal ({}), so the call got past TLS",
            reason(&status)
        )),
        Err(status) => Ok(format!("transport error: {:?}", status.code())),
    }
}

type Accepted = (NoticeBody, NoticeId, SignedNotice, pb::DeliverResponse);

/// Delivers the template of `kind`; the expected answer is the reference
/// verifier's.
async fn deliver_kind(
    h: &mut Harness,
    peer: &mut PeerExchangeClient<Channel>,
    kind: &str,
) -> (Outcome, Result<Option<Accepted>, ()>) {
    let body = match h.notice(kind) {
        Ok(body) => body,
        Err(e) => return (Err(format!("template: {e}")), Err(())),
    };
    let (id, signed) = match SignedNotice::sign(&body, &h.key) {
        Ok(signed) => signed,
        Err(e) => return (Err(format!("cannot sign the template: {e}")), Err(())),
    };
    let expected = h.roster.verify_notice(&signed, Timestamp::now());
    let answer = peer
        .deliver(pb::DeliverRequest {
            notice: Some(signed.clone().into()),
        })
        .await;
    match (expected, answer) {
        (Ok(_), Ok(answer)) => {
            let answer = answer.into_inner();
            let outcome = accepted_receipt(h, &signed, id, answer.receipt.clone());
            let done = outcome.as_ref().ok().map(|_| (body, id, signed, answer));
            (outcome, Ok(done))
        }
        (Ok(_), Err(status)) => (
            Err(format!(
                "refused ({:?}, {}: {}), but the reference accepts it",
                status.code(),
                reason(&status),
                status.message()
            )),
            Ok(None),
        ),
        (Err(e), answer) => (
            expect_refusal(answer, code_of(e.reason()), e.reason(), None),
            Ok(None),
        ),
    }
}

/// Checks an `ACCEPTED` receipt for `signed` (id `id`) from the target.
fn accepted_receipt(
    h: &Harness,
    signed: &SignedNotice,
    id: NoticeId,
    receipt: Option<pb::SignedReceipt>,
) -> Outcome {
    let receipt = receipt.ok_or("accepted without a receipt")?;
    let receipt = SignedReceipt::try_from(receipt)
        .map_err(|e| format!("the receipt does not convert: {e}"))?;
    let receipt: Receipt = h
        .roster
        .verify_receipt(&receipt, Timestamp::now())
        .map_err(|e| format!("the receipt does not verify: {} ({e})", e.reason()))?;
    if receipt.receiver != h.target {
        return Err(format!(
            "the receipt names {} as receiver",
            receipt.receiver
        ));
    }
    if receipt.notice_id != id {
        return Err(format!("the receipt names notice {}", receipt.notice_id));
    }
    if receipt.stage != ReceiptStage::Accepted {
        return Err(format!("the receipt's stage is {}", receipt.stage.label()));
    }
    if receipt.body_sha256 != body_digest(signed) {
        return Err("the receipt's body digest is not that of the bytes sent".into());
    }
    Ok("ACCEPTED; the signed receipt verifies and names the notice and its body".into())
}

async fn duplicate(
    peer: &mut PeerExchangeClient<Channel>,
    first: &SignedNotice,
    first_answer: &pb::DeliverResponse,
) -> Outcome {
    let again = peer
        .deliver(pb::DeliverRequest {
            notice: Some(first.clone().into()),
        })
        .await
        .map_err(|s| format!("refused: {} {}", reason(&s), s.message()))?
        .into_inner();
    if !again.duplicate {
        return Err("duplicate is false".into());
    }
    if again.receipt != first_answer.receipt {
        return Err("the receipt differs from the first one".into());
    }
    Ok("duplicate = true, the same receipt".into())
}

/// Two new notices, the first again, and an empty item.
async fn batch(
    h: &mut Harness,
    peer: &mut PeerExchangeClient<Channel>,
    _first: &SignedNotice,
) -> Outcome {
    let mut signed = Vec::new();
    for _ in 0..2 {
        let body = h.notice("compound_alert").map_err(|e| e.to_string())?;
        signed.push(SignedNotice::sign(&body, &h.key).map_err(|e| e.to_string())?);
    }
    let item = |n: &SignedNotice| pb::BatchItem {
        item: Some(pb::batch_item::Item::Notice(n.clone().into())),
    };
    let items = vec![
        item(&signed[0].1),
        item(&signed[1].1),
        item(&signed[0].1),
        pb::BatchItem { item: None },
    ];
    let answers = peer
        .deliver_batch(pb::DeliverBatchRequest { items })
        .await
        .map_err(|s| format!("the call was refused: {} {}", reason(&s), s.message()))?
        .into_inner()
        .answers;
    if answers.len() != 4 {
        return Err(format!("{} answers to 4 items", answers.len()));
    }
    use pb::batch_answer::Answer;
    let delivered = |i: usize| match &answers[i].answer {
        Some(Answer::Delivered(d)) => Ok(d.clone()),
        other => Err(format!("items[{i}]: {other:?} instead of delivered")),
    };
    for (i, (id, notice)) in signed.iter().enumerate() {
        let d = delivered(i)?;
        if d.duplicate {
            return Err(format!("items[{i}]: a new notice answered as a duplicate"));
        }
        accepted_receipt(h, notice, *id, d.receipt).map_err(|e| format!("items[{i}]: {e}"))?;
    }
    let again = delivered(2)?;
    if !again.duplicate || again.receipt != delivered(0)?.receipt {
        return Err(
            "items[2]: the same notice again is not a duplicate with the same receipt".into(),
        );
    }
    match &answers[3].answer {
        Some(Answer::Refused(r))
            if r.code == Code::InvalidArgument as u32
                && r.reason == "invalid_argument"
                && r.field == "items[3].item" =>
        {
            Ok("delivered, delivered, duplicate, refused items[3].item".into())
        }
        other => Err(format!(
            "items[3] (no item): {other:?} instead of INVALID_ARGUMENT invalid_argument items[3].item"
        )),
    }
}

async fn batch_too_large(h: &Harness, peer: &mut PeerExchangeClient<Channel>) -> Outcome {
    let items = vec![pb::BatchItem { item: None }; h.max_batch + 1];
    expect_refusal(
        peer.deliver_batch(pb::DeliverBatchRequest { items }).await,
        Code::ResourceExhausted,
        "batch_too_large",
        None,
    )
}

/// `a rescue request`, `an action answer`.
fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}
