//! Retention (docs/PROTOCOL.md section 14.6): once a notice's period has
//! run out, every node that held it has removed its personal data, none of
//! it can be found in the store files, and the tombstone left behind
//! matches the node's log and the notice's signed receipts.

use lintas_core::case::{Contact, Contacts, MedicalDetails};
use lintas_core::disclosure::Protected;
use lintas_core::ids::PhoneNumber;
use lintas_core::notice::{CaseUpdate, Handling, NoticeBody, NoticeContent};
use lintas_core::pb;
use lintas_core::receipt::SignedReceipt;
use lintas_core::retention::DEFAULT_RETENTION_DAYS;
use lintas_core::text::Text;
use lintas_core::time::Timestamp;
use lintas_core::transparency::entry::{LogEntry, LogEntryKind};
use lintas_core::vocab::{ContactRelation, LegalBasis, NoticeKind, Priority, Purpose, Tlp};
use lintas_testkit::devnet::DevNet;
use lintas_testkit::scenario;
use lintas_testkit::world::{self, IDN_KEMLU, KHM_POLICE, THA_IMMIGRATION};

use crate::nodes::{eventually, stages, submit_as};
use crate::support::agency;

const MEDICAL: &str = "Malaria, treated in the compound clinic";
const PHONE: &str = "+6281299990000";
const CHANGES: &str = "V-001 moved to the shelter in Phnom Penh.";

fn update(now: Timestamp) -> NoticeBody {
    let mut case = scenario::scam_case(now);
    case.victims[0].medical = Some(Protected::new(MedicalDetails::new(Text::en(MEDICAL))));
    case.victims[0].contacts = Some(Protected::new(Contacts(vec![Contact::by_phone(
        ContactRelation::Myself,
        None,
        PhoneNumber::parse(PHONE).unwrap(),
    )])));
    let case_id = case.case_id.clone();
    NoticeBody::new(
        agency(IDN_KEMLU),
        1,
        now,
        now.plus_seconds(30 * 86_400),
        vec![agency(KHM_POLICE), agency(THA_IMMIGRATION)],
        Handling::new(Tlp::Amber, Priority::Routine)
            .for_purpose(Purpose::VictimAssistance, LegalBasis::PublicTask),
        NoticeContent::CaseUpdate(CaseUpdate::new(case, Text::en(CHANGES))),
    )
    .about_case(case_id)
}

fn found(path: &std::path::Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_past_its_period_is_gone_from_every_store_and_tombstones_verify() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = DevNet::start(&[IDN_KEMLU, KHM_POLICE, THA_IMMIGRATION], dir.path())
        .await
        .unwrap();
    let now = Timestamp::now();
    let id = submit_as(&net, IDN_KEMLU, &update(now)).await;
    // A notice without personal data, which retention leaves alone.
    let alert = scenario::one_of_each_kind(now)
        .into_iter()
        .find(|b| b.kind() == NoticeKind::ModusOperandiAlert)
        .unwrap();
    assert!(!alert.content.carries_personal_data());
    let kept = submit_as(&net, IDN_KEMLU, &alert).await;
    eventually("both recipients accepted", || async {
        stages(&net, IDN_KEMLU, id).await.len() == 2
    })
    .await;

    // Not yet due: nothing changes.
    for at in [IDN_KEMLU, KHM_POLICE, THA_IMMIGRATION] {
        let report = net
            .node(at)
            .engine()
            .purge_due(Timestamp::now())
            .await
            .unwrap();
        assert!(report.purged.is_empty(), "{at}: {report:?}");
    }
    let later = now.plus_seconds(i64::from(DEFAULT_RETENTION_DAYS) * 86_400 + 60);
    let roster = world::trusted_roster();
    for at in [IDN_KEMLU, KHM_POLICE, THA_IMMIGRATION] {
        let engine = net.node(at).engine();
        let report = engine.purge_due(later).await.unwrap();
        assert_eq!(report.purged, vec![id], "{at}");
        // Idempotent: a second run finds nothing more.
        assert!(engine.purge_due(later).await.unwrap().purged.is_empty());

        let tombstone = engine.tombstone(id).unwrap().unwrap();
        assert_eq!(tombstone.kind, NoticeKind::CaseUpdate);
        assert_eq!(tombstone.retention_days, DEFAULT_RETENTION_DAYS);
        // The log still proves the notice it held, by the digest the
        // tombstone kept, and records the removal itself.
        let kind = if at == IDN_KEMLU {
            LogEntryKind::NoticeSent
        } else {
            LogEntryKind::NoticeReceived
        };
        let held = LogEntry {
            kind,
            notice_id: id,
            sha256: tombstone.logged_sha256,
        };
        assert!(tombstone.matches(&held));
        engine.prove_inclusion(&held.encode(), later).unwrap();
        engine
            .prove_inclusion(&tombstone.log_entry().encode(), later)
            .unwrap();
        // Every signed receipt still names the body the tombstone names.
        let receipts = engine.receipts(&id).unwrap();
        assert!(!receipts.is_empty());
        for (_, _, bytes) in receipts {
            let receipt = roster
                .verify_receipt(&SignedReceipt::decode(&bytes).unwrap(), now)
                .unwrap();
            assert_eq!(receipt.body_sha256, tombstone.body_sha256);
        }
        // Nothing of it is shown any more, in a timeline or in the list
        // exports read.
        assert!(
            engine
                .case_timeline(&scenario::scam_case(now).case_id)
                .unwrap()
                .iter()
                .all(|e| e.id != id)
        );
        let (held, _) = engine.notices_page(&lintas_node::Page::default()).unwrap();
        assert!(
            held.iter().all(|n| n.id != id),
            "{at} lists a purged notice"
        );
        if at == IDN_KEMLU {
            assert!(
                held.iter().any(|n| n.id == kept),
                "the sender lists what it kept"
            );
        }
    }
    // The sender kept the notice without personal data.
    let alert_record = net
        .node(IDN_KEMLU)
        .engine()
        .store()
        .notice(&kept)
        .unwrap()
        .unwrap();
    assert!(!alert_record.is_purged() && !alert_record.envelope.is_empty());
    // Cambodia can no longer fetch it from Indonesia.
    let refused = net
        .peer(KHM_POLICE, IDN_KEMLU)
        .await
        .unwrap()
        .fetch_notice(pb::FetchNoticeRequest {
            notice_id: id.as_bytes().to_vec(),
        })
        .await;
    assert!(refused.is_err());

    // The bytes are gone from the files themselves.
    for at in [IDN_KEMLU, KHM_POLICE, THA_IMMIGRATION] {
        net.stop(at).await.unwrap();
        let path = net.store_path(&agency(at));
        for secret in [MEDICAL, PHONE, CHANGES] {
            assert!(!found(&path, secret), "{secret} still in {at}'s store");
        }
    }
    net.shutdown().await;
}
