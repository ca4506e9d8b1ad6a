//! The calls that look things up in what the target holds (PROTOCOL 13.2
//! and 14.9), against the notices the harness delivered earlier in the
//! run: identifier matching finds an identifier the harness gave the
//! target and not one nobody gave it; attachments are served only for
//! what a notice names.

use std::time::{Duration, Instant};

use lintas_core::ids::NoticeId;
use lintas_core::matching::{BlindedIdentifier, Identifier, identifiers_in, tags_contain};
use lintas_core::notice::NoticeBody;
use lintas_core::pb;
use lintas_core::vocab::IdentifierKind;
use lintas_grpc::pb::peer_exchange_client::PeerExchangeClient;
use tonic::Code;
use tonic::transport::Channel;

use super::expect::{Outcome, expect_refusal};
use super::{Harness, Report};

/// How long a responder may answer from tags built before the harness's
/// notices arrived (14.9.3: rebuilt at most once a minute), and a margin.
const STALE_TAGS: Duration = Duration::from_secs(70);

/// Matching and attachment checks.
pub(crate) async fn run(
    peer: &mut PeerExchangeClient<Channel>,
    report: &mut Report,
    delivered: &[(NoticeBody, NoticeId)],
) {
    let given = delivered
        .iter()
        .flat_map(|(body, _)| identifiers_in(body))
        .next();
    let check = "an identifier the harness gave the target is a hit";
    match &given {
        None => report.skip(
            "14.9",
            check,
            "the target accepted no notice of the harness's with an identifier",
        ),
        Some(identifier) => report.check("14.9", check, hit(peer, identifier).await),
    }
    let nobody = Identifier::parse(IdentifierKind::PhoneNumber, "", "+6590000000001");
    report.check(
        "14.9",
        "an identifier nobody gave the target is no hit",
        match nobody {
            Err(e) => Err(e.to_string()),
            Ok(nobody) => match ask(peer, &nobody).await {
                Ok(false) => Ok("no hit".into()),
                Ok(true) => Err("a hit for an identifier nobody gave it".into()),
                Err(e) => Err(e),
            },
        },
    );
    report.check(
        "14.9",
        "a blinded element that is the identity (invalid_argument)",
        expect_refusal(
            peer.match_identifier(pb::MatchIdentifierRequest {
                kind: IdentifierKind::PhoneNumber.to_wire(),
                blinded_element: vec![0; 32],
            })
            .await,
            Code::InvalidArgument,
            "invalid_argument",
            Some("blinded_element"),
        ),
    );
    match delivered.first() {
        None => report.skip(
            "13.2",
            "an attachment no notice names (not_entitled)",
            "the target accepted no notice of the harness's",
        ),
        Some((_, id)) => report.check(
            "13.2",
            "an attachment no notice names (not_entitled)",
            expect_refusal(
                peer.fetch_attachment(pb::FetchAttachmentRequest {
                    notice_id: id.as_bytes().to_vec(),
                    sha256: vec![0x42; 32],
                    offset: 0,
                })
                .await,
                Code::PermissionDenied,
                "not_entitled",
                None,
            ),
        ),
    }
}

/// Asks until `identifier` is a hit, for as long as the target may answer
/// from tags built before the harness's notices arrived.
async fn hit(peer: &mut PeerExchangeClient<Channel>, identifier: &Identifier) -> Outcome {
    let started = Instant::now();
    loop {
        if ask(peer, identifier).await? {
            return Ok(format!(
                "hit for a {} after {:.0} s",
                identifier.kind().label(),
                started.elapsed().as_secs_f64()
            ));
        }
        if started.elapsed() > STALE_TAGS {
            return Err(format!(
                "no hit for a {} the harness delivered, {} s on",
                identifier.kind().label(),
                STALE_TAGS.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

/// One query (14.9.1): whether the target holds `identifier`. A malformed
/// answer is an error.
async fn ask(
    peer: &mut PeerExchangeClient<Channel>,
    identifier: &Identifier,
) -> Result<bool, String> {
    let blinded = BlindedIdentifier::new(identifier);
    let answer = peer
        .match_identifier(pb::MatchIdentifierRequest {
            kind: identifier.kind().to_wire(),
            blinded_element: blinded.element().to_vec(),
        })
        .await
        .map_err(|s| super::expect::refused(&s))?
        .into_inner();
    let tag = blinded
        .finish(&answer.evaluated_element)
        .map_err(|e| format!("malformed answer: {e}"))?;
    tags_contain(&answer.tags, &tag).map_err(|e| format!("malformed answer: {e}"))
}

/// With `--match-limit N`: the harness gives the target more than N phone
/// numbers (suspect alerts of 1,000 numbers each, none used before), then
/// asks about one: a responder that holds more identifiers of a kind than
/// it lists in one answer refuses rather than answer a false no hit.
pub(crate) async fn too_many(
    h: &mut Harness,
    peer: &mut PeerExchangeClient<Channel>,
    report: &mut Report,
    limit: Option<usize>,
) {
    let check = "more identifiers of one kind than an answer lists (match_set_too_large)";
    let Some(limit) = limit else {
        report.skip("14.9", check, "no --match-limit given");
        return;
    };
    report.check("14.9", check, flood_with_phones(h, peer, limit).await);
}

async fn flood_with_phones(
    h: &mut Harness,
    peer: &mut PeerExchangeClient<Channel>,
    limit: usize,
) -> Outcome {
    const PER_NOTICE: usize = 1_000;
    let notices = limit / PER_NOTICE + 1;
    let first = (h.next_sequence() % 1_000) * 10_000_000;
    let mut asked = None;
    for n in 0..notices {
        let body = h.notice("suspect_alert").map_err(|e| e.to_string())?;
        let mut value = serde_json::to_value(&body).map_err(|e| e.to_string())?;
        let numbers: Vec<String> = (0..PER_NOTICE)
            .map(|i| format!("+659{:09}", first + (n * PER_NOTICE + i) as u64))
            .collect();
        let identity = value
            .pointer_mut("/content/suspect_alert/suspects/0/identity")
            .ok_or("the suspect alert template has no suspect identity")?;
        identity["phone_numbers"] = serde_json::json!(numbers);
        let body: NoticeBody = serde_json::from_value(value).map_err(|e| e.to_string())?;
        let (_, signed) =
            lintas_core::signing::SignedNotice::sign(&body, &h.key).map_err(|e| e.to_string())?;
        peer.deliver(pb::DeliverRequest {
            notice: Some(signed.into()),
        })
        .await
        .map_err(|s| {
            format!(
                "a suspect alert of {PER_NOTICE} numbers: {}",
                super::expect::refused(&s)
            )
        })?;
        asked.get_or_insert_with(|| numbers[0].clone());
    }
    let number = asked.ok_or("no notice was sent")?;
    let identifier =
        Identifier::parse(IdentifierKind::PhoneNumber, "", &number).map_err(|e| e.to_string())?;
    // The target may answer from tags built before these notices arrived.
    let started = Instant::now();
    loop {
        let blinded = BlindedIdentifier::new(&identifier);
        let answer = peer
            .match_identifier(pb::MatchIdentifierRequest {
                kind: identifier.kind().to_wire(),
                blinded_element: blinded.element().to_vec(),
            })
            .await;
        match answer {
            Err(status) => {
                return expect_refusal(
                    Err::<tonic::Response<()>, _>(status),
                    Code::FailedPrecondition,
                    "match_set_too_large",
                    None,
                );
            }
            Ok(_) if started.elapsed() > STALE_TAGS => {
                return Err(format!(
                    "answered with {} more phone numbers than --match-limit {limit}, {} s on",
                    notices * PER_NOTICE - limit,
                    STALE_TAGS.as_secs()
                ));
            }
            Ok(_) => tokio::time::sleep(Duration::from_secs(5)).await,
        }
    }
}
