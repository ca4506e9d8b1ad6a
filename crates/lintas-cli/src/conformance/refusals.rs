//! Notices and calls built to be refused, each with the refusal PROTOCOL
//! 5.4, 5.6, 9.3, 9.4 and 9.8 give it: what a peer can provoke.

use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::notice::NoticeBody;
use lintas_core::pb;
use lintas_core::receipt::{Receipt, SignedReceipt};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::NoticeKind;
use lintas_core::vocab::ReceiptStage;
use lintas_grpc::pb::peer_exchange_client::PeerExchangeClient;
use prost::Message;
use tonic::Code;
use tonic::transport::Channel;

use super::expect::{Outcome, expect_refusal};
use super::{Harness, Report};

/// A notice built to be refused: the section it tests, what it is, the
/// envelope (or why it could not be built), and the refusal expected.
type Provocation = (
    &'static str,
    &'static str,
    Result<pb::SignedNotice, String>,
    Code,
    &'static str,
    Option<&'static str>,
);

/// Variations of a valid notice that 9.3 and 5.4 refuse, each with the
/// reason the reference verifier gives.
pub(crate) async fn refusals(
    h: &mut Harness,
    peer: &mut PeerExchangeClient<Channel>,
    report: &mut Report,
    template: &NoticeBody,
) {
    let fresh = |h: &mut Harness| {
        let mut body = template.clone();
        body.sequence = h.next_sequence();
        body.created_at = Timestamp::now();
        body
    };
    let sign = |h: &Harness, body: &NoticeBody| SignedNotice::sign(body, &h.key).map(|(_, s)| s);
    // Another roster agency than the harness and the target, if any.
    let other: Option<AgencyId> = h
        .roster
        .roster()
        .agencies
        .keys()
        .find(|a| **a != h.me && **a != h.target)
        .cloned();

    let mut cases: Vec<Provocation> = Vec::new();

    let body = fresh(h);
    let bad_signature = sign(h, &body).map(|s| {
        let mut wire: pb::SignedNotice = s.into();
        if let Some(b) = wire.signature.first_mut() {
            *b ^= 0x01;
        }
        wire
    });
    cases.push((
        "5.4",
        "a signature that does not verify",
        bad_signature.map_err(|e| e.to_string()),
        Code::InvalidArgument,
        "bad_signature",
        None,
    ));

    let body = fresh(h);
    let unknown_key = sign(h, &body).map(|s| {
        let mut wire: pb::SignedNotice = s.into();
        wire.key_id = format!("{}#unknown", h.me);
        wire
    });
    cases.push((
        "5.4",
        "a key the roster does not list",
        unknown_key.map_err(|e| e.to_string()),
        Code::PermissionDenied,
        "unknown_key",
        None,
    ));

    // A body whose id is not the hash of the rest, validly signed.
    let body = fresh(h);
    let id_mismatch = sign(h, &body).map_err(|e| e.to_string()).map(|s| {
        let mut wire: pb::SignedNotice = s.into();
        if let Some(b) = wire.body.get_mut(2) {
            *b ^= 0x01;
        }
        resign(h, &mut wire);
        wire
    });
    cases.push((
        "5.4",
        "a notice id that is not the hash of the body",
        id_mismatch,
        Code::InvalidArgument,
        "id_mismatch",
        None,
    ));

    // The target's notice, signed (validly) by the harness.
    let mut body = fresh(h);
    body.sender = h.target.clone();
    body.recipients = vec![other.clone().unwrap_or_else(|| h.me.clone())];
    if body.recipients.contains(&h.target) {
        body.recipients = vec![h.me.clone()];
    }
    let not_sender = sign(h, &body).map_err(|e| e.to_string()).map(|s| {
        let mut wire: pb::SignedNotice = s.into();
        wire.signer = h.me.to_string();
        resign(h, &mut wire);
        wire
    });
    cases.push((
        "5.4",
        "a signer that is not the body's sender",
        not_sender,
        Code::PermissionDenied,
        "signer_not_sender",
        None,
    ));

    // A sender (and signer) no roster entry names, validly signed.
    let mut body = fresh(h);
    body.sender = unknown_agency(h);
    let stranger = sign(h, &body).map_err(|e| e.to_string()).map(|s| {
        let mut wire: pb::SignedNotice = s.into();
        wire.signer = body.sender.to_string();
        wire.key_id = format!("{}#k1", body.sender);
        resign(h, &mut wire);
        wire
    });
    cases.push((
        "5.4",
        "a sender the roster does not list",
        stranger,
        Code::PermissionDenied,
        "unknown_sender",
        None,
    ));

    let mut body = fresh(h);
    body.recipients.push(unknown_agency(h));
    cases.push((
        "5.4",
        "a recipient the roster does not list",
        sign(h, &body).map(Into::into).map_err(|e| e.to_string()),
        Code::InvalidArgument,
        "unknown_recipient",
        None,
    ));

    let mut body = fresh(h);
    let now = Timestamp::now();
    body.created_at = now.plus_seconds(-7200);
    body.expires_at = now.plus_seconds(-3600);
    shift_deadline(&mut body, now.plus_seconds(-3600));
    cases.push((
        "5.4",
        "an expired notice",
        sign(h, &body).map(Into::into).map_err(|e| e.to_string()),
        Code::FailedPrecondition,
        "expired",
        None,
    ));

    let mut body = fresh(h);
    body.created_at = now.plus_seconds(3600);
    body.expires_at = now.plus_seconds(30 * 86_400);
    shift_deadline(&mut body, now.plus_seconds(7200));
    cases.push((
        "5.4",
        "a notice created an hour ahead",
        sign(h, &body).map(Into::into).map_err(|e| e.to_string()),
        Code::FailedPrecondition,
        "created_in_future",
        None,
    ));

    let body = fresh(h);
    let mut empty_key = sign(h, &body)
        .map(pb::SignedNotice::from)
        .map_err(|e| e.to_string());
    if let Ok(wire) = &mut empty_key {
        wire.key_id.clear();
    }
    cases.push((
        "9.3",
        "an envelope without a key id",
        empty_key,
        Code::InvalidArgument,
        "invalid_argument",
        Some("notice.key_id"),
    ));

    // A body that breaks a field rule (no TLP), with a correct id and a
    // valid signature: only the body's validation can refuse it.
    let body = fresh(h);
    let mut content = body.to_wire();
    if let Some(handling) = content.handling.as_mut() {
        handling.tlp = 0;
    }
    cases.push((
        "5.4",
        "a body without its TLP, validly signed",
        re_encoded(h, &body, content.encode_to_vec()),
        Code::InvalidArgument,
        "invalid_body",
        Some("handling.tlp"),
    ));

    // A body of a kind a later version may define: field 99 of NoticeBody
    // (a notice kind, 2.2 rule 4), empty, after the body's own kind.
    let body = fresh(h);
    let mut rest = body.to_wire().encode_to_vec();
    rest.extend_from_slice(&[0x9A, 0x06, 0x00]);
    cases.push((
        "2.2",
        "a notice of a kind this version does not define (field 99)",
        re_encoded(h, &body, rest),
        Code::FailedPrecondition,
        "unsupported_kind",
        None,
    ));

    // Created before the harness's key became valid.
    let valid_from = h
        .roster
        .roster()
        .agency(&h.me)
        .and_then(|a| a.keys.iter().find(|k| &k.key_id == h.key.key_id()))
        .map(|k| k.valid_from);
    if let Some(valid_from) = valid_from {
        let mut body = fresh(h);
        body.created_at = valid_from.plus_seconds(-3600);
        body.expires_at = now.plus_seconds(30 * 86_400);
        shift_deadline(&mut body, now.plus_seconds(7200));
        cases.push((
            "5.4",
            "a notice created before the signing key was valid",
            sign(h, &body).map(Into::into).map_err(|e| e.to_string()),
            Code::PermissionDenied,
            "key_not_valid_at_creation",
            None,
        ));
    }

    if let Some(other) = other.clone() {
        let mut body = fresh(h);
        body.recipients = vec![other];
        cases.push((
            "9.3",
            "a notice the target is not a recipient of",
            sign(h, &body).map(Into::into).map_err(|e| e.to_string()),
            Code::PermissionDenied,
            "not_a_recipient",
            None,
        ));
    }

    let body = fresh(h);
    match &h.revoked {
        Some(revoked) => {
            cases.push((
                "6.3",
                "a notice signed with a key the roster revoked",
                SignedNotice::sign(&body, revoked)
                    .map(|(_, s)| s.into())
                    .map_err(|e| e.to_string()),
                Code::PermissionDenied,
                "key_revoked",
                None,
            ));
        }
        None => report.skip(
            "6.3",
            "a notice signed with a key the roster revoked (key_revoked)",
            "no --revoked-key given",
        ),
    }
    if valid_from.is_none() {
        report.skip(
            "5.4",
            "a notice created before the signing key was valid (key_not_valid_at_creation)",
            "the roster does not list the harness's key",
        );
    }
    kind_not_permitted(h, peer, report).await;
    for (section, what, wire, code, expected, field) in cases {
        let outcome = match wire {
            Err(e) => Err(format!("could not build it: {e}")),
            Ok(wire) => {
                let answer = peer
                    .deliver(pb::DeliverRequest { notice: Some(wire) })
                    .await;
                expect_refusal(answer, code, expected, field)
            }
        };
        report.check(section, &format!("{what} ({expected})"), outcome);
    }
}

/// A kind the roster does not let the harness's agency issue, if there is
/// one with a template.
async fn kind_not_permitted(
    h: &mut Harness,
    peer: &mut PeerExchangeClient<Channel>,
    report: &mut Report,
) {
    let check = "a kind the roster does not let the sender issue (kind_not_permitted)";
    let forbidden = h.roster.roster().agency(&h.me).and_then(|a| {
        NoticeKind::ALL
            .iter()
            .find(|k| !a.may_issue.contains(k))
            .copied()
    });
    let Some(kind) = forbidden else {
        report.skip(
            "5.4",
            check,
            &format!("the roster lets {} issue every kind", h.me),
        );
        return;
    };
    let name = kind.label().replace(' ', "_");
    let outcome = match h.notice(&name) {
        Err(e) => Err(format!("template {name}: {e}")),
        Ok(body) => match SignedNotice::sign(&body, &h.key) {
            Err(e) => Err(e.to_string()),
            Ok((_, signed)) => expect_refusal(
                peer.deliver(pb::DeliverRequest {
                    notice: Some(signed.into()),
                })
                .await,
                Code::PermissionDenied,
                "kind_not_permitted",
                None,
            ),
        },
    };
    report.check("5.4", check, outcome);
}

/// A receipt the target signed, handed back to it by the harness: a
/// receipt comes from the agency that signed it.
pub(crate) async fn someone_elses_receipt(
    peer: &mut PeerExchangeClient<Channel>,
    receipt: Option<pb::SignedReceipt>,
) -> Outcome {
    let Some(receipt) = receipt else {
        return Err("the target's answer carried no receipt".into());
    };
    report_expecting(peer, receipt, "sender_not_peer").await
}

/// Reports `receipt` to the target, expecting `PERMISSION_DENIED` `reason`.
async fn report_expecting(
    peer: &mut PeerExchangeClient<Channel>,
    receipt: pb::SignedReceipt,
    reason: &str,
) -> Outcome {
    let answer = peer
        .report_receipt(pb::ReportReceiptRequest {
            receipt: Some(receipt),
        })
        .await;
    expect_refusal(answer, Code::PermissionDenied, reason, None)
}

/// A signed receipt for a notice the target never sent.
pub(crate) async fn unknown_receipt(
    h: &Harness,
    peer: &mut PeerExchangeClient<Channel>,
    some: &SignedNotice,
) -> Outcome {
    let receipt = Receipt::new(
        NoticeId::from_bytes([0x6b; 32]),
        some,
        h.me.clone(),
        ReceiptStage::Read,
        Timestamp::now(),
    );
    let signed = SignedReceipt::sign(&receipt, &h.key).map_err(|e| e.to_string())?;
    report_expecting(peer, signed.into(), "not_a_recipient").await
}

pub(crate) async fn too_large(h: &Harness, peer: &mut PeerExchangeClient<Channel>) -> Outcome {
    let notice = pb::SignedNotice {
        body: vec![0; h.max_message_bytes + 1024],
        ..Default::default()
    };
    expect_refusal(
        peer.deliver(pb::DeliverRequest {
            notice: Some(notice),
        })
        .await,
        Code::OutOfRange,
        "message_too_large",
        None,
    )
}

pub(crate) async fn unimplemented(channel: &Channel) -> Outcome {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| format!("the channel is not ready: {e}"))?;
    let codec =
        tonic_prost::ProstCodec::<pb::FetchNoticeRequest, pb::FetchNoticeResponse>::default();
    let answer = grpc
        .unary(
            tonic::Request::new(pb::FetchNoticeRequest::default()),
            http::uri::PathAndQuery::from_static("/lintas.v1.PeerExchange/NoSuchMethod"),
            codec,
        )
        .await;
    expect_refusal(answer, Code::Unimplemented, "unimplemented", None)
}

/// A message whose field 1 is a number where `DeliverRequest` has a
/// message: bytes that do not decode as the request.
#[derive(Clone, PartialEq, prost::Message)]
struct NotADeliverRequest {
    #[prost(uint64, tag = "1")]
    number: u64,
}

pub(crate) async fn undecodable(channel: &Channel) -> Outcome {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| format!("the channel is not ready: {e}"))?;
    let codec = tonic_prost::ProstCodec::<NotADeliverRequest, pb::DeliverResponse>::default();
    let answer = grpc
        .unary(
            tonic::Request::new(NotADeliverRequest { number: 7 }),
            http::uri::PathAndQuery::from_static("/lintas.v1.PeerExchange/Deliver"),
            codec,
        )
        .await;
    expect_refusal(answer, Code::Internal, "undecodable", None)
}

/// Signs `wire` again with the harness's key, over its signer, key id and
/// body as they now are (PROTOCOL 4): a valid signature on an envelope
/// that breaks a later rule.
fn resign(h: &Harness, wire: &mut pb::SignedNotice) {
    use ed25519_dalek::Signer;
    let message = lintas_core::signing::pae(
        lintas_core::signing::NOTICE_PAYLOAD_TYPE,
        &wire.signer,
        &wire.key_id,
        &wire.body,
    );
    let key = ed25519_dalek::SigningKey::from_bytes(&h.key.seed());
    wire.signature = key.sign(&message).to_bytes().to_vec();
}

/// `body` signed by the harness, with its encoding after the id replaced
/// by `rest`: the id made its hash again and the envelope signed again,
/// so that only the body's own checks can refuse it.
fn re_encoded(h: &Harness, body: &NoticeBody, rest: Vec<u8>) -> Result<pb::SignedNotice, String> {
    let (_, signed) = SignedNotice::sign(body, &h.key).map_err(|e| e.to_string())?;
    let mut wire: pb::SignedNotice = signed.into();
    let id = lintas_core::signing::notice_id_of(&rest);
    let mut bytes = lintas_core::signing::NOTICE_BODY_PREFIX.to_vec();
    bytes.extend_from_slice(id.as_bytes());
    bytes.extend_from_slice(&rest);
    wire.body = bytes;
    resign(h, &mut wire);
    Ok(wire)
}

/// An agency id of a member state that no roster entry uses.
fn unknown_agency(h: &Harness) -> AgencyId {
    (1..)
        .map(|n| format!("SGP.CONFORMANCE.NOBODY{n}"))
        .filter_map(|id| AgencyId::parse(&id).ok())
        .find(|id| !h.roster.roster().agencies.contains_key(id))
        .unwrap_or_else(|| h.me.clone())
}

/// Keeps a response deadline after the creation time when times move.
fn shift_deadline(body: &mut NoticeBody, deadline: Timestamp) {
    if body.handling.response_deadline.is_some() {
        body.handling.response_deadline = Some(deadline);
    }
}
