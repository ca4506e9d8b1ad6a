//! Selective disclosure between agency nodes (docs/PROTOCOL.md section 14):
//! each recipient gets the protected parts its role and kind need, a
//! transit recipient gets none and stores none, every view verifies, a
//! changed disclosed value is caught, and a holder proves a part to a third
//! party (alone, or inside an evidence bundle).

use lintas_core::case::{Contact, Contacts, MedicalDetails};
use lintas_core::disclosure::{PartKind, Protected, parts};
use lintas_core::evidence::verify::verify_bundle;
use lintas_core::ids::PhoneNumber;
use lintas_core::notice::{CaseUpdate, Handling, NoticeBody, NoticeContent};
use lintas_core::pb;
use lintas_core::signing::SignedNotice;
use lintas_core::text::Text;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{ContactRelation, LegalBasis, Priority, Purpose, Tlp};
use lintas_testkit::devnet::DevNet;
use lintas_testkit::scenario;
use lintas_testkit::world::{self, IDN_KEMLU, KHM_POLICE, THA_IMMIGRATION};
use tokio_stream::StreamExt;

use crate::nodes::{eventually, reason, stages, submit_as};
use crate::support::agency;

/// Words that appear only inside protected parts of the notices below.
const MEDICAL: &str = "untreated fever";
const FAMILY_PHONE: &str = "+6281234567890";
const PASSPORT: &str = "X1234567";

/// Indonesia's case update to Cambodia (destination police) and Thailand
/// (transit immigration), carrying V-001's medical details and contacts.
pub(crate) fn case_update(now: Timestamp) -> NoticeBody {
    let mut case = scenario::scam_case(now);
    let victim = &mut case.victims[0];
    victim.medical = Some(Protected::new(MedicalDetails::new(Text::en(
        "Bruises on both forearms; untreated fever for a week.",
    ))));
    victim.contacts = Some(Protected::new(Contacts(vec![Contact::by_phone(
        ContactRelation::Family,
        Some("Her mother".to_owned()),
        PhoneNumber::parse(FAMILY_PHONE).unwrap(),
    )])));
    let case_id = case.case_id.clone();
    NoticeBody::new(
        agency(IDN_KEMLU),
        1,
        now,
        now.plus_seconds(30 * 86_400),
        vec![agency(KHM_POLICE), agency(THA_IMMIGRATION)],
        Handling::new(Tlp::Amber, Priority::High)
            .for_purpose(Purpose::Rescue, LegalBasis::VitalInterest),
        NoticeContent::CaseUpdate(CaseUpdate::new(case, Text::en("V-001 is sick."))),
    )
    .about_case(case_id)
}

/// The envelopes in `at`'s inbox, as its case system reads them.
async fn inbox(net: &DevNet, at: &str, count: usize) -> Vec<SignedNotice> {
    let mut stream = net
        .case_system(at)
        .await
        .unwrap()
        .subscribe_inbox(pb::SubscribeInboxRequest { after_cursor: 0 })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while out.len() < count {
        let item = stream.next().await.unwrap().unwrap();
        out.push(SignedNotice::try_from(item.notice.unwrap()).unwrap());
    }
    out
}

fn store_bytes(net: &DevNet, at: &str) -> Vec<u8> {
    std::fs::read(net.store_path(&agency(at))).unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_recipient_gets_only_what_its_role_needs_and_every_view_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = DevNet::start(&[IDN_KEMLU, KHM_POLICE, THA_IMMIGRATION], dir.path())
        .await
        .unwrap();
    let now = Timestamp::now();
    let update = submit_as(&net, IDN_KEMLU, &case_update(now)).await;
    // Cambodia identifies V-001 to Indonesia (her state of nationality)
    // and tells Thailand's immigration, which is not involved by this
    // notice: the identity record goes to Indonesia only.
    let mut identified = NoticeBody::new(
        agency(KHM_POLICE),
        1,
        now,
        now.plus_seconds(30 * 86_400),
        vec![agency(IDN_KEMLU), agency(THA_IMMIGRATION)],
        Handling::new(Tlp::AmberStrict, Priority::High)
            .for_purpose(Purpose::VictimAssistance, LegalBasis::LawEnforcement),
        NoticeContent::VictimIdentified(scenario::victim_identified(now)),
    );
    identified.case_id = Some(scenario::scam_case(now).case_id);
    let identification = submit_as(&net, KHM_POLICE, &identified).await;
    for (at, id) in [(IDN_KEMLU, update), (KHM_POLICE, identification)] {
        eventually("accepted by both recipients", || async {
            stages(&net, at, id).await.len() == 2
        })
        .await;
    }

    // What each recipient was given is recorded at the sender.
    let given = net.node(IDN_KEMLU).engine().disclosed_to(update).unwrap();
    assert_eq!(given.len(), 2);
    let to = |who: &str| {
        given
            .iter()
            .find(|(r, _)| r == who)
            .map(|(_, c)| c.len())
            .unwrap()
    };
    assert_eq!((to(KHM_POLICE), to(THA_IMMIGRATION)), (2, 0));
    let given = net
        .node(KHM_POLICE)
        .engine()
        .disclosed_to(identification)
        .unwrap();
    assert!(given.iter().any(|(r, c)| r == IDN_KEMLU && c.len() == 3));
    assert!(
        given
            .iter()
            .any(|(r, c)| r == THA_IMMIGRATION && c.is_empty())
    );

    let roster = world::trusted_roster();
    let at = Timestamp::now();
    // Thailand: both notices verify, every protected part withheld.
    let thailand = inbox(&net, THA_IMMIGRATION, 2).await;
    for envelope in &thailand {
        assert!(envelope.disclosures().is_empty());
        let verified = roster.verify_notice(envelope, at).unwrap();
        let held = parts(&verified.body);
        assert!(!held.is_empty());
        assert!(held.iter().all(|p| !p.disclosed && p.commitment.is_some()));
        let json = serde_json::to_string(&verified.body).unwrap();
        for secret in [MEDICAL, FAMILY_PHONE, PASSPORT] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
    }
    // Cambodia (destination police) got the medical details and contacts.
    let cambodia = inbox(&net, KHM_POLICE, 1).await.remove(0);
    let verified = roster.verify_notice(&cambodia, at).unwrap();
    let held = parts(&verified.body);
    assert_eq!(held.len(), 2);
    assert!(held.iter().all(|p| p.disclosed));
    // Indonesia (origin foreign ministry) got the identity, medical details
    // and contacts of the identification.
    let indonesia = inbox(&net, IDN_KEMLU, 1).await.remove(0);
    let kinds: Vec<PartKind> = parts(&roster.verify_notice(&indonesia, at).unwrap().body)
        .iter()
        .filter(|p| p.disclosed)
        .map(|p| p.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![PartKind::Medical, PartKind::Contacts, PartKind::Identity]
    );

    // A changed disclosed value is caught, by a verifier and by a node.
    let mut wire = pb::SignedNotice::from(cambodia.clone());
    let last = wire.disclosures[0].value.len() - 1;
    wire.disclosures[0].value[last] ^= 1;
    let tampered = SignedNotice::try_from(wire).unwrap();
    let error = roster.verify_notice(&tampered, at).unwrap_err().to_string();
    assert!(error.contains("disclosures[0]"), "{error}");
    let refused = net
        .peer(IDN_KEMLU, KHM_POLICE)
        .await
        .unwrap()
        .deliver(pb::DeliverRequest {
            notice: Some(
                // A fresh notice, so the duplicate check does not answer.
                {
                    let mut body = case_update(now);
                    body.sequence = 99;
                    let (_, signed) =
                        SignedNotice::sign(&body, &world::agency_key(IDN_KEMLU)).unwrap();
                    let mut wire = pb::SignedNotice::from(signed);
                    wire.disclosures[1].salt[0] ^= 1;
                    wire
                },
            ),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    assert_eq!(reason(&refused), "invalid_body");
    let field = refused
        .metadata()
        .get("lintas-field")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(field.starts_with("disclosures[1]"), "{field}");

    // Cambodia proves the medical details alone to a third party: the view
    // with that one disclosure verifies against the roster.
    let medical = held
        .iter()
        .find(|p| p.kind == PartKind::Medical)
        .and_then(|p| p.commitment)
        .unwrap();
    let proof = cambodia.view(&[medical]);
    let shown = parts(&roster.verify_notice(&proof, at).unwrap().body);
    assert_eq!(
        shown
            .iter()
            .filter(|p| p.disclosed)
            .map(|p| p.kind)
            .collect::<Vec<_>>(),
        vec![PartKind::Medical]
    );

    // Cambodia's evidence bundle carries what it was given, checked.
    let mut pieces = net
        .case_system(KHM_POLICE)
        .await
        .unwrap()
        .export_evidence(pb::ExportEvidenceRequest {
            case_id: scenario::CASE_ID.to_owned(),
            with_attachments: false,
        })
        .await
        .unwrap()
        .into_inner();
    let mut file = Vec::new();
    while let Some(piece) = pieces.next().await {
        file.extend(piece.unwrap().data);
    }
    let report = verify_bundle(&file, None);
    let text = report.to_text();
    let update_finding = report
        .notices
        .iter()
        .find(|n| n.id.as_deref() == Some(update.to_string().as_str()))
        .unwrap();
    assert!(update_finding.verified, "{text}");
    assert_eq!(update_finding.disclosed.len(), 2, "{text}");
    assert!(text.contains("Protected parts disclosed"), "{text}");

    // Nothing Thailand received or stored holds a protected value; the
    // destination's store does (the test would find them).
    for agency_id in [THA_IMMIGRATION, KHM_POLICE] {
        net.stop(agency_id).await.unwrap();
    }
    let thai_store = store_bytes(&net, THA_IMMIGRATION);
    for secret in [MEDICAL, FAMILY_PHONE, PASSPORT] {
        assert!(
            !contains(&thai_store, secret),
            "{secret} in Thailand's store"
        );
    }
    let khm_store = store_bytes(&net, KHM_POLICE);
    assert!(contains(&khm_store, MEDICAL));
    net.shutdown().await;
}
