//! Identifier matching without disclosure (docs/PROTOCOL.md section
//! 14.9): hits and misses across three agency nodes, an identifier only in
//! a part withheld from one of them, no plaintext identifier in the store
//! of an agency that did not hold it, refusals by field, and each peer's
//! query budget.

use std::sync::Arc;
use std::time::Duration;

use lintas_core::matching::Identifier;
use lintas_core::pb;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::IdentifierKind;
use lintas_node::{DeliveryConfig, Inbound, MatchOutcome, MatchingConfig, MemoryNetwork};
use lintas_testkit::devnet::DevNet;
use lintas_testkit::scenario;
use lintas_testkit::world::{self, IDN_KEMLU, KHM_POLICE, THA_IMMIGRATION, THA_POLICE};

use crate::disclosure_nodes::case_update;
use crate::nodes::{eventually, reason, stages, submit_as};
use crate::support::agency;

/// The family phone number inside V-001's protected contacts: given to
/// Cambodia's police, withheld from Thailand's immigration.
const FAMILY_PHONE: &str = "+62 812-3456-7890";
/// A number nobody holds.
const UNKNOWN_PHONE: &str = "+62 812 9999 1111";

fn query(kind: IdentifierKind, scope: &str, value: &str) -> pb::FindIdentifierRequest {
    pb::FindIdentifierRequest {
        kind: kind.to_wire(),
        scope: scope.to_owned(),
        value: value.to_owned(),
        agencies: Vec::new(),
    }
}

/// The agencies whose nodes run in the test below; the roster's others
/// are down.
const RUNNING: [&str; 3] = [IDN_KEMLU, KHM_POLICE, THA_IMMIGRATION];

/// `at`'s case system asks; the answers of running nodes as (agency,
/// outcome name). Agencies whose nodes are down are reported unreachable,
/// never as a miss.
async fn ask(net: &DevNet, at: &str, request: pb::FindIdentifierRequest) -> Vec<(String, String)> {
    let answer = net
        .case_system(at)
        .await
        .unwrap()
        .find_identifier(request)
        .await
        .unwrap()
        .into_inner();
    answer
        .answers
        .into_iter()
        .map(|a| {
            let outcome = pb::MatchOutcome::try_from(a.outcome)
                .unwrap()
                .as_str_name()
                .to_owned();
            if outcome == "MATCH_OUTCOME_HIT" {
                // Whom to contact: the agency's contact point in the roster.
                let roster = world::trusted_roster();
                let entry = roster.roster().agency(&agency(&a.agency)).unwrap();
                assert_eq!(a.contact.unwrap().phone, entry.contact.phone.as_str());
            }
            (a.agency, outcome)
        })
        .filter(|(a, outcome)| {
            let running = RUNNING.contains(&a.as_str());
            assert!(
                running || outcome == "MATCH_OUTCOME_UNREACHABLE",
                "{a}: {outcome}"
            );
            running
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, o)| ((*a).to_owned(), format!("MATCH_OUTCOME_{o}")))
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_agencies_find_who_holds_an_identifier_without_revealing_it() {
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&RUNNING, dir.path()).await.unwrap();
    // Indonesia's case update to Cambodia (destination police, given the
    // contacts) and Thailand (transit immigration, given nothing
    // protected). The case names the recruiter's phone and Telegram
    // handle, a TRON wallet and an Indonesian bank account in the open.
    let update = submit_as(&net, IDN_KEMLU, &case_update(Timestamp::now())).await;
    eventually("accepted by both recipients", || async {
        stages(&net, IDN_KEMLU, update).await.len() == 2
    })
    .await;

    // The protected family phone: Indonesia holds it, Thailand was not
    // given it.
    assert_eq!(
        ask(
            &net,
            KHM_POLICE,
            query(IdentifierKind::PhoneNumber, "", FAMILY_PHONE)
        )
        .await,
        pairs(&[(IDN_KEMLU, "HIT"), (THA_IMMIGRATION, "NO_HIT")])
    );
    // Open parts every holder has, written differently from the notice.
    for (kind, scope, value) in [
        (
            IdentifierKind::CryptoWallet,
            "",
            "TLintasExampleWa11etAddre55000001",
        ),
        (
            IdentifierKind::Handle,
            "Telegram",
            "LOWONGAN_CS_BKK_EXAMPLE",
        ),
        (IdentifierKind::PhoneNumber, "", "0062 812 0000 0001"),
    ] {
        assert_eq!(
            ask(&net, THA_IMMIGRATION, query(kind, scope, value)).await,
            pairs(&[(IDN_KEMLU, "HIT"), (KHM_POLICE, "HIT")]),
            "{value}"
        );
    }
    assert_eq!(
        ask(
            &net,
            IDN_KEMLU,
            query(IdentifierKind::BankAccount, "idn", "0000 1234 5678")
        )
        .await,
        pairs(&[(KHM_POLICE, "HIT"), (THA_IMMIGRATION, "HIT")])
    );
    // Misses: an unknown number; the same account in another country; a
    // handle on another platform.
    for (kind, scope, value) in [
        (IdentifierKind::PhoneNumber, "", UNKNOWN_PHONE),
        (IdentifierKind::BankAccount, "KHM", "0000 1234 5678"),
        (
            IdentifierKind::Handle,
            "whatsapp",
            "@lowongan_cs_bkk_example",
        ),
    ] {
        assert_eq!(
            ask(&net, KHM_POLICE, query(kind, scope, value)).await,
            pairs(&[(IDN_KEMLU, "NO_HIT"), (THA_IMMIGRATION, "NO_HIT")]),
            "{value}"
        );
    }
    // Asking one agency only.
    let mut one = query(IdentifierKind::PhoneNumber, "", FAMILY_PHONE);
    one.agencies = vec![THA_IMMIGRATION.to_owned()];
    assert_eq!(
        ask(&net, KHM_POLICE, one).await,
        pairs(&[(THA_IMMIGRATION, "NO_HIT")])
    );

    // No node that did not hold an identifier has it in its store now:
    // Thailand never saw the family phone, nobody the unknown number (the
    // responders were sent blinded elements only; the asker keeps nothing).
    let store = |at: &str| std::fs::read(net.store_path(&agency(at))).unwrap();
    let thailand = store(THA_IMMIGRATION);
    for text in ["6281234567890", "812-3456-7890"] {
        assert!(!contains(&thailand, text), "{text} in Thailand's store");
    }
    for at in [IDN_KEMLU, KHM_POLICE, THA_IMMIGRATION] {
        assert!(
            !contains(&store(at), "6281299991111"),
            "asked number in {at}'s store"
        );
    }
    // Cambodia does hold the family phone (it was given the contacts):
    // the check above would see it if it were there.
    assert!(contains(&store(KHM_POLICE), "+6281234567890"));

    // The asker's access log records who asked, not what.
    let log = net
        .case_system(KHM_POLICE)
        .await
        .unwrap()
        .list_access_log(pb::ListAccessLogRequest {
            after: 0,
            page_size: 100,
        })
        .await
        .unwrap()
        .into_inner()
        .records;
    let asked: Vec<_> = log.iter().filter(|r| r.call == "FindIdentifier").collect();
    assert_eq!(asked.len(), 5);
    assert!(asked.iter().all(|r| r.officer == "test.officer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_query_is_refused_by_field_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[IDN_KEMLU, KHM_POLICE], dir.path())
        .await
        .unwrap();
    let mut client = net.case_system(KHM_POLICE).await.unwrap();
    let mut unknown_agency = query(IdentifierKind::PhoneNumber, "", FAMILY_PHONE);
    unknown_agency.agencies = vec![IDN_KEMLU.to_owned(), "MMR-NOBODY".to_owned()];
    let mut no_kind = query(IdentifierKind::PhoneNumber, "", FAMILY_PHONE);
    no_kind.kind = 0;
    for (request, field) in [
        (
            query(IdentifierKind::PhoneNumber, "", "0812 3456 7890"),
            "value",
        ),
        (
            query(IdentifierKind::PhoneNumber, "IDN", FAMILY_PHONE),
            "scope",
        ),
        (query(IdentifierKind::Handle, "myspace", "x"), "scope"),
        (
            query(
                IdentifierKind::CryptoWallet,
                "",
                "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            ),
            "value",
        ),
        (
            query(IdentifierKind::IdentityDocument, "XXX", "X1234567"),
            "scope",
        ),
        (no_kind, "kind"),
        (unknown_agency, "agencies[1]"),
    ] {
        let status = client.find_identifier(request).await.unwrap_err();
        assert_eq!(
            status.code(),
            tonic::Code::InvalidArgument,
            "{field}: {status:?}"
        );
        let got = status
            .metadata()
            .get("lintas-field")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(got, field, "{status:?}");
    }
    // A peer's node refuses a malformed element by its field.
    let mut peer = net.peer(KHM_POLICE, IDN_KEMLU).await.unwrap();
    let status = peer
        .match_identifier(pb::MatchIdentifierRequest {
            kind: IdentifierKind::PhoneNumber.to_wire(),
            blinded_element: vec![0; 32],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(reason(&status), "invalid_argument");
    let status = peer
        .match_identifier(pb::MatchIdentifierRequest {
            kind: 0,
            blinded_element: vec![0; 32],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
}

/// The engine on an in-memory network: Indonesia holds the rescue request
/// it sent; Cambodia asks Indonesia and Thailand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_peer_has_a_query_budget_and_a_full_answer_or_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let network = MemoryNetwork::new();
    let limited = MatchingConfig {
        queries_per_peer_per_hour: 2,
        burst: 2,
        refresh_every: Duration::ZERO,
        ..MatchingConfig::default()
    };
    let indonesia = crate::engine::open_with(
        dir.path(),
        IDN_KEMLU,
        DeliveryConfig::default().with_matching(limited),
    );
    let thailand = crate::engine::open_with(
        dir.path(),
        THA_POLICE,
        DeliveryConfig::default().with_matching(MatchingConfig {
            max_tags_per_kind: 0,
            refresh_every: Duration::ZERO,
            ..MatchingConfig::default()
        }),
    );
    let cambodia = crate::engine::open(dir.path(), KHM_POLICE);
    for e in [&indonesia, &thailand, &cambodia] {
        network.attach(e);
    }
    let wallet = Identifier::parse(
        IdentifierKind::CryptoWallet,
        "",
        "TLintasExampleWa11etAddre55000001",
    )
    .unwrap();
    let both = [agency(IDN_KEMLU), agency(THA_POLICE)];
    let transport = |from: &str| Arc::new(network.transport(&agency(from)));

    // Before Indonesia holds anything: no hit anywhere (Thailand holds
    // nothing, so its empty list is within its limit of zero).
    let answers = cambodia
        .find_identifier(transport(KHM_POLICE), &wallet, &both)
        .await;
    assert!(
        answers.iter().all(|a| a.outcome == MatchOutcome::NoHit),
        "{answers:?}"
    );

    // Indonesia sends a rescue request naming the wallet: the next query
    // finds it (tags rebuilt on every query here).
    indonesia
        .submit(scenario::rescue_request(Timestamp::now()), Timestamp::now())
        .await
        .unwrap();
    let answers = cambodia
        .find_identifier(transport(KHM_POLICE), &wallet, &[agency(IDN_KEMLU)])
        .await;
    assert!(
        matches!(answers[0].outcome, MatchOutcome::Hit { .. }),
        "{answers:?}"
    );

    // Cambodia's third query within the hour is refused; Thailand's first
    // is answered.
    let answers = cambodia
        .find_identifier(transport(KHM_POLICE), &wallet, &[agency(IDN_KEMLU)])
        .await;
    match &answers[0].outcome {
        MatchOutcome::Refused(r) => assert_eq!(r.reason, "rate_limited"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let answers = thailand
        .find_identifier(transport(THA_POLICE), &wallet, &[agency(IDN_KEMLU)])
        .await;
    assert!(
        matches!(answers[0].outcome, MatchOutcome::Hit { .. }),
        "{answers:?}"
    );

    // A node holding more identifiers of a kind than it lists refuses
    // rather than answer a false "no hit".
    let (_, signed) = SignedNotice::sign(
        &scenario::rescue_request(Timestamp::now()),
        &world::agency_key(IDN_KEMLU),
    )
    .unwrap();
    let received = thailand
        .receive(
            &agency(IDN_KEMLU),
            vec![Inbound::Notice(signed)],
            Timestamp::now(),
        )
        .await;
    assert!(received[0].is_ok(), "{received:?}");
    let handle = Identifier::parse(IdentifierKind::Handle, "telegram", "@x").unwrap();
    let answers = cambodia
        .find_identifier(transport(KHM_POLICE), &handle, &[agency(THA_POLICE)])
        .await;
    match &answers[0].outcome {
        MatchOutcome::Refused(r) => assert_eq!(r.reason, "match_set_too_large"),
        other => panic!("expected a refusal, got {other:?}"),
    }

    // An agency that is down is reported as unreachable, not as a miss.
    network.detach(&agency(THA_POLICE));
    let answers = cambodia
        .find_identifier(transport(KHM_POLICE), &wallet, &[agency(THA_POLICE)])
        .await;
    assert!(
        matches!(answers[0].outcome, MatchOutcome::Unreachable(_)),
        "{answers:?}"
    );
}
