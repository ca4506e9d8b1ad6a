//! Erasure on withdrawal (docs/PROTOCOL.md section 14.7): when Indonesia
//! withdraws a notice, Cambodia (a recipient) and the Indonesian police (to
//! which Cambodia forwarded it, and which is offline at the time) remove its
//! personal data and confirm with signed ERASED receipts; Indonesia lists
//! who has and has not confirmed.

use lintas_core::case::{Contact, Contacts, MedicalDetails};
use lintas_core::disclosure::{Protected, parts};
use lintas_core::ids::NoticeId;
use lintas_core::ids::PhoneNumber;
use lintas_core::notice::{CaseUpdate, Handling, NoticeBody, NoticeContent, Withdrawal};
use lintas_core::pb;
use lintas_core::receipt::SignedReceipt;
use lintas_core::text::Text;
use lintas_core::time::Timestamp;
use lintas_core::vocab::ContactRelation;
use lintas_core::vocab::{LegalBasis, Priority, Purpose, ReceiptStage, Tlp};
use lintas_testkit::devnet::DevNet;
use lintas_testkit::scenario;
use lintas_testkit::world::{self, IDN_KEMLU, IDN_POLRI, KHM_POLICE};

use crate::nodes::{eventually, submit_as};
use crate::support::agency;

const MEDICAL: &str = "Dengue fever, discharged from hospital on Monday";
const PHONE: &str = "+6281277776666";

/// The stages `holder` reported to Indonesia for `id`.
async fn reported(net: &DevNet, id: NoticeId, holder: &str) -> Vec<i32> {
    net.node(IDN_KEMLU)
        .receipts(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, receiver, _)| receiver == holder)
        .map(|(stage, _, _)| i32::from(stage))
        .collect()
}

fn confirmed(net: &DevNet, id: NoticeId) -> Vec<(String, bool)> {
    net.node(IDN_KEMLU)
        .engine()
        .erasure_status(id)
        .unwrap()
        .into_iter()
        .map(|c| (c.holder, c.confirmed))
        .collect()
}

/// Indonesia sends `update` to Cambodia, which forwards it to the
/// Indonesian police; returns once the police hold it and Indonesia heard
/// of the forward.
async fn send_then_forward_to_police(net: &DevNet, update: &NoticeBody) -> NoticeId {
    let id = submit_as(net, IDN_KEMLU, update).await;
    let accepted = ReceiptStage::Accepted.to_wire();
    eventually("Cambodia accepted", || async {
        reported(net, id, KHM_POLICE).await.contains(&accepted)
    })
    .await;
    net.node(KHM_POLICE)
        .engine()
        .forward(id, vec![agency(IDN_POLRI)], Timestamp::now())
        .await
        .unwrap();
    let forwarded = ReceiptStage::Forwarded.to_wire();
    eventually("Indonesia heard of the forward", || async {
        reported(net, id, KHM_POLICE).await.contains(&forwarded)
    })
    .await;
    eventually("the Indonesian police hold the notice", || async {
        net.node(IDN_POLRI)
            .engine()
            .store()
            .notice(&id)
            .unwrap()
            .is_some()
    })
    .await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_erases_the_notice_at_every_holder_who_confirms_even_after_being_offline() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = DevNet::start(&[IDN_KEMLU, KHM_POLICE, IDN_POLRI], dir.path())
        .await
        .unwrap();
    let now = Timestamp::now();
    let mut case = scenario::scam_case(now);
    case.victims[0].medical = Some(Protected::new(MedicalDetails::new(Text::en(MEDICAL))));
    case.victims[0].contacts = Some(Protected::new(Contacts(vec![Contact::by_phone(
        ContactRelation::Family,
        Some("Her brother".to_owned()),
        PhoneNumber::parse(PHONE).unwrap(),
    )])));
    let case_id = case.case_id.clone();
    let update = NoticeBody::new(
        agency(IDN_KEMLU),
        1,
        now,
        now.plus_seconds(30 * 86_400),
        vec![agency(KHM_POLICE)],
        Handling::new(Tlp::Amber, Priority::High)
            .forwardable()
            .for_purpose(Purpose::Rescue, LegalBasis::VitalInterest),
        NoticeContent::CaseUpdate(CaseUpdate::new(case, Text::en("V-001 is in hospital."))),
    )
    .about_case(case_id.clone());
    // Cambodia forwards it to the Indonesian police, which its rules give
    // the contacts (origin police) but not the medical details.
    let id = send_then_forward_to_police(&net, &update).await;
    // Cambodia recorded what it passed on: the contacts only.
    let passed = net.node(KHM_POLICE).engine().disclosed_to(id).unwrap();
    assert_eq!(passed.len(), 1);
    assert_eq!((passed[0].0.as_str(), passed[0].1.len()), (IDN_POLRI, 1));
    assert_eq!(
        confirmed(&net, id),
        vec![
            (KHM_POLICE.to_owned(), false),
            (IDN_POLRI.to_owned(), false)
        ]
    );

    // The Indonesian police go offline; Indonesia's foreign ministry
    // withdraws the notice.
    net.stop(IDN_POLRI).await.unwrap();
    let mut withdrawal = NoticeBody::new(
        agency(IDN_KEMLU),
        2,
        Timestamp::now(),
        Timestamp::now().plus_seconds(30 * 86_400),
        vec![agency(KHM_POLICE)],
        Handling::new(Tlp::Amber, Priority::High),
        NoticeContent::Withdrawal(Withdrawal::new(
            id,
            Text::en("Sent about the wrong person: erase it."),
        )),
    );
    withdrawal.case_id = Some(case_id);
    let withdrawal_id = submit_as(&net, IDN_KEMLU, &withdrawal).await;
    let erased = ReceiptStage::Erased.to_wire();
    eventually("Cambodia confirmed", || async {
        reported(&net, id, KHM_POLICE).await.contains(&erased)
    })
    .await;
    assert_eq!(
        confirmed(&net, id),
        vec![(KHM_POLICE.to_owned(), true), (IDN_POLRI.to_owned(), false)]
    );
    let cambodia = net.node(KHM_POLICE).engine();
    let tombstone = cambodia.tombstone(id).unwrap().unwrap();
    assert_eq!(tombstone.retention_days, 0, "an erasure, not retention");

    // Back online, the police get the withdrawal from Cambodia and confirm.
    net.restart(IDN_POLRI).await.unwrap();
    eventually("the Indonesian police confirmed", || async {
        reported(&net, id, IDN_POLRI).await.contains(&erased)
    })
    .await;
    assert!(confirmed(&net, id).iter().all(|(_, c)| *c));
    // The case system asks the same through the agency API.
    let status = net
        .case_system(IDN_KEMLU)
        .await
        .unwrap()
        .get_erasure_status(pb::GetErasureStatusRequest {
            notice_id: id.as_bytes().to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.holders.len(), 2);
    assert!(status.holders.iter().all(|h| h.confirmed));
    assert!(
        net.node(IDN_POLRI)
            .engine()
            .tombstone(id)
            .unwrap()
            .is_some()
    );

    // Each confirmation is signed by the holder and names the notice's body.
    let roster = world::trusted_roster();
    for (stage, receiver, bytes) in net.node(IDN_KEMLU).receipts(id).await.unwrap() {
        if i32::from(stage) != erased {
            continue;
        }
        let receipt = roster
            .verify_receipt(&SignedReceipt::decode(&bytes).unwrap(), Timestamp::now())
            .unwrap();
        assert_eq!(receipt.receiver.as_str(), receiver);
        assert_eq!(receipt.body_sha256, tombstone.body_sha256);
    }
    // A second delivery of the withdrawal changes nothing (no new receipt).
    let before = net.node(IDN_KEMLU).receipts(id).await.unwrap().len();
    let envelope = lintas_core::signing::SignedNotice::decode(
        &net.node(IDN_KEMLU)
            .engine()
            .store()
            .notice(&withdrawal_id)
            .unwrap()
            .unwrap()
            .envelope,
    )
    .unwrap();
    let again = net
        .peer(IDN_KEMLU, KHM_POLICE)
        .await
        .unwrap()
        .deliver(pb::DeliverRequest {
            notice: Some(envelope.into()),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(again.duplicate);

    // The bytes are gone from both holders' files once compacted.
    for at in [KHM_POLICE, IDN_POLRI] {
        net.node(at).engine().store().compact().unwrap();
        net.stop(at).await.unwrap();
        let bytes = std::fs::read(net.store_path(&agency(at))).unwrap();
        for secret in [MEDICAL, PHONE] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} still in {at}'s store"
            );
        }
    }
    assert_eq!(
        net.node(IDN_KEMLU).receipts(id).await.unwrap().len(),
        before
    );
    net.shutdown().await;
}

/// Docs/PROTOCOL.md section 14.7.1: erasing one person from a case. Every
/// holder (Cambodia, and the Indonesian police Cambodia forwarded the
/// notice to, offline at the time) removes that person's protected parts
/// and confirms; the notice stays, still verifies, and keeps the other
/// victim's parts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_a_person_removes_only_their_parts_at_every_holder_who_confirms() {
    const OTHER_PHONE: &str = "+6281233334444";
    let dir = tempfile::tempdir().unwrap();
    let mut net = DevNet::start(&[IDN_KEMLU, KHM_POLICE, IDN_POLRI], dir.path())
        .await
        .unwrap();
    let now = Timestamp::now();
    let mut case = scenario::scam_case(now);
    case.victims[0].medical = Some(Protected::new(MedicalDetails::new(Text::en(MEDICAL))));
    case.victims[0].contacts = Some(Protected::new(Contacts(vec![Contact::by_phone(
        ContactRelation::Family,
        Some("Her brother".to_owned()),
        PhoneNumber::parse(PHONE).unwrap(),
    )])));
    case.victims[1].contacts = Some(Protected::new(Contacts(vec![Contact::by_phone(
        ContactRelation::Family,
        Some("His father".to_owned()),
        PhoneNumber::parse(OTHER_PHONE).unwrap(),
    )])));
    let case_id = case.case_id.clone();
    let first = case.victims[0].victim_id.clone();
    let second = case.victims[1].victim_id.clone();
    let update = NoticeBody::new(
        agency(IDN_KEMLU),
        1,
        now,
        now.plus_seconds(30 * 86_400),
        vec![agency(KHM_POLICE)],
        Handling::new(Tlp::Amber, Priority::High)
            .forwardable()
            .for_purpose(Purpose::Rescue, LegalBasis::VitalInterest),
        NoticeContent::CaseUpdate(CaseUpdate::new(case, Text::en("Both are in hospital."))),
    )
    .about_case(case_id.clone());
    let id = send_then_forward_to_police(&net, &update).await;
    net.stop(IDN_POLRI).await.unwrap();

    // Indonesia's case system erases V-001 from the case.
    let erasures = net
        .case_system(IDN_KEMLU)
        .await
        .unwrap()
        .erase_persons(pb::ErasePersonsRequest {
            case_id: case_id.to_string(),
            persons: vec![first.to_string()],
            reason: Some(Text::en("V-001 asked for her data to be erased.").into()),
        })
        .await
        .unwrap()
        .into_inner()
        .erasures;
    assert_eq!(erasures.len(), 1);
    assert_eq!(erasures[0].notice_id, id.as_bytes().to_vec());
    let withdrawal = NoticeId::from_bytes(erasures[0].withdrawal_id.as_slice().try_into().unwrap());
    let erased = ReceiptStage::Erased.to_wire();
    eventually("Cambodia confirmed", || async {
        reported(&net, withdrawal, KHM_POLICE)
            .await
            .contains(&erased)
    })
    .await;
    assert_eq!(
        confirmed(&net, withdrawal),
        vec![(KHM_POLICE.to_owned(), true), (IDN_POLRI.to_owned(), false)]
    );
    net.restart(IDN_POLRI).await.unwrap();
    eventually("the Indonesian police confirmed", || async {
        reported(&net, withdrawal, IDN_POLRI)
            .await
            .contains(&erased)
    })
    .await;
    assert!(confirmed(&net, withdrawal).iter().all(|(_, c)| *c));

    // Every copy, the sender's too, still verifies; V-001's parts are
    // withheld everywhere, V-002's contacts kept where they were given.
    let roster = world::trusted_roster();
    for at in [IDN_KEMLU, KHM_POLICE, IDN_POLRI] {
        let stored = net.node(at).engine().store().notice(&id).unwrap().unwrap();
        assert!(!stored.is_purged(), "{at}: the notice stays");
        let envelope = lintas_core::signing::SignedNotice::decode(&stored.envelope).unwrap();
        let verified = roster.verify_notice(&envelope, Timestamp::now()).unwrap();
        for part in parts(&verified.body) {
            if part.victim_id.as_ref() == Some(&first) {
                assert!(!part.disclosed, "{at}: {}", part.path);
            } else if part.victim_id.as_ref() == Some(&second) {
                assert!(part.disclosed, "{at} lost {}", part.path);
            }
        }
    }
    // Each confirmation is the holder's signed ERASED receipt for the
    // withdrawal.
    for (stage, receiver, bytes) in net.node(IDN_KEMLU).receipts(withdrawal).await.unwrap() {
        if i32::from(stage) == erased {
            let receipt = roster
                .verify_receipt(&SignedReceipt::decode(&bytes).unwrap(), Timestamp::now())
                .unwrap();
            assert_eq!(receipt.receiver.as_str(), receiver);
            assert_eq!(receipt.notice_id, withdrawal);
        }
    }
    // V-001's data has left the store files (each node compacts after an
    // erasure); V-002's is still there.
    for at in [IDN_KEMLU, KHM_POLICE, IDN_POLRI] {
        let path = net.store_path(&agency(at));
        eventually("the erased bytes left the file", || async {
            let bytes = std::fs::read(&path).unwrap();
            [MEDICAL, PHONE]
                .iter()
                .all(|s| !bytes.windows(s.len()).any(|w| w == s.as_bytes()))
        })
        .await;
    }
    let cambodia = std::fs::read(net.store_path(&agency(KHM_POLICE))).unwrap();
    assert!(
        cambodia
            .windows(OTHER_PHONE.len())
            .any(|w| w == OTHER_PHONE.as_bytes())
    );

    // Nothing of a person no notice names: refused, nothing sent.
    let refused = net
        .case_system(IDN_KEMLU)
        .await
        .unwrap()
        .erase_persons(pb::ErasePersonsRequest {
            case_id: case_id.to_string(),
            persons: vec!["V-999".to_owned()],
            reason: Some(Text::en("No such person.").into()),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound);
    net.shutdown().await;
}
