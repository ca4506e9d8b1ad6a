//! Offline exchange (docs/PROTOCOL.md section 12): a bundle written from
//! one node's outbox, imported on the peer after part of it went live;
//! nothing duplicated, each case's order kept, receipts coming back as a
//! bundle; and bundles that must not be imported.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use lintas_core::ids::AgencyId;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{Priority, ReceiptStage};
use lintas_node::{Fault, MemoryNetwork};
use lintas_testkit::world::{IDN_KEMLU, KHM_POLICE, THA_POLICE};

use crate::engine::{deliver, inbox, open, open_with, pacing, until, update};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_imported_after_part_went_live_duplicates_nothing_and_receipts_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let network = MemoryNetwork::new();
    // Batches of two, one at a time: the live link carries exactly one
    // batch before it breaks.
    let idn = open_with(dir.path(), IDN_KEMLU, pacing().with_pipeline(1, 2));
    let khm = open(dir.path(), KHM_POLICE);
    network.attach(&idn);
    let khm_id = AgencyId::parse(KHM_POLICE).unwrap();
    let mut sent = Vec::new();
    for i in 0..6 {
        let body = update(
            IDN_KEMLU,
            &[KHM_POLICE],
            &format!("CASE-{}", i % 2),
            i,
            Priority::Routine,
        );
        sent.push(idn.submit(body, Timestamp::now()).await.unwrap().id);
    }

    // The border post's operator writes the bundle while the link is down.
    let bundle = idn
        .export_offline(&khm_id, Vec::new(), Timestamp::now())
        .unwrap();
    assert_eq!(bundle.items, 6);

    // The link comes up for one batch of two, then breaks again.
    network.attach(&khm);
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    network.set_faults(move |_, _, _| {
        if counted.fetch_add(1, Ordering::SeqCst) == 0 {
            Fault::None
        } else {
            Fault::Drop
        }
    });
    let (stop, task) = deliver(&idn, &network);
    until("two delivered live", || inbox(&khm).len() == 2).await;
    stop.cancel();
    task.await.unwrap();
    assert_eq!(idn.outbox_len(), 4);

    // Cambodia reads one of the two it has: a READ receipt waits in its
    // outbox for Indonesia.
    let first_live = inbox(&khm)[0].2;
    khm.acknowledge(first_live, ReceiptStage::Read, None, Timestamp::now())
        .await
        .unwrap();

    // Cambodia imports the bundle: the two it has are recognised, the four
    // others accepted, each case in order.
    let mut seen = Vec::new();
    let imported = khm
        .import_offline(&bundle.file, Timestamp::now(), |done, total| {
            seen.push((done, total))
        })
        .await
        .unwrap();
    assert_eq!(
        (imported.accepted, imported.duplicates, imported.refused),
        (4, 2, 0)
    );
    assert_eq!(seen.last(), Some(&(6, 6)), "progress reported to the end");
    let got = inbox(&khm);
    assert_eq!(got.len(), 6, "nothing duplicated");
    let mut last = std::collections::BTreeMap::new();
    for (case, sequence, _) in &got {
        let previous = last.insert(case.clone(), *sequence).unwrap_or(0);
        assert!(*sequence > previous, "{case}: {sequence} after {previous}");
    }
    // The reply: six answers and the READ receipt.
    assert_eq!((imported.reply.answers, imported.reply.items), (6, 1));

    // Indonesia imports the reply: its outbox empties, and it holds a
    // verified ACCEPTED receipt for each notice and the READ receipt.
    let back = idn
        .import_offline(&imported.reply.file, Timestamp::now(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        back.answers_applied, 4,
        "the two delivered live were done already"
    );
    assert_eq!(back.receipts, 1);
    assert_eq!(idn.outbox_len(), 0);
    let accepted = ReceiptStage::Accepted.to_wire() as u8;
    let read = ReceiptStage::Read.to_wire() as u8;
    for id in &sent {
        let stages: Vec<u8> = idn
            .receipts(id)
            .unwrap()
            .iter()
            .map(|(s, _, _)| *s)
            .collect();
        assert!(stages.contains(&accepted), "{id}: {stages:?}");
    }
    assert!(
        idn.receipts(&first_live)
            .unwrap()
            .iter()
            .any(|(s, _, _)| *s == read)
    );

    // Indonesia's reply answers the READ receipt; Cambodia's outbox empties.
    assert_eq!(back.reply.answers, 1);
    khm.import_offline(&back.reply.file, Timestamp::now(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(khm.outbox_len(), 0);

    // The same bundle again changes nothing.
    let again = khm
        .import_offline(&bundle.file, Timestamp::now(), |_, _| {})
        .await
        .unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 6));
    assert_eq!(inbox(&khm).len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundles_that_must_not_be_imported_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let idn = open(dir.path(), IDN_KEMLU);
    let khm = open(dir.path(), KHM_POLICE);
    let tha = open(dir.path(), THA_POLICE);
    let body = update(IDN_KEMLU, &[KHM_POLICE], "CASE-1", 1, Priority::Routine);
    idn.submit(body, Timestamp::now()).await.unwrap();
    let khm_id = AgencyId::parse(KHM_POLICE).unwrap();
    let bundle = idn
        .export_offline(&khm_id, Vec::new(), Timestamp::now())
        .unwrap();

    // For another agency.
    let refused = tha
        .import_offline(&bundle.file, Timestamp::now(), |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(refused.reason(), "not_a_recipient");
    // A byte changed anywhere: the signature, or the encoding, fails.
    for at in [bundle.file.len() / 2, bundle.file.len() - 1] {
        let mut tampered = bundle.file.clone();
        tampered[at] ^= 0x01;
        let refused = khm
            .import_offline(&tampered, Timestamp::now(), |_, _| {})
            .await
            .unwrap_err();
        assert!(
            ["bad_signature", "invalid_argument", "invalid_body"].contains(&refused.reason()),
            "{}: {refused}",
            refused.reason()
        );
    }
    assert!(inbox(&khm).is_empty(), "nothing imported");
    // Not a bundle.
    let refused = khm
        .import_offline(b"not a bundle", Timestamp::now(), |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(refused.reason(), "invalid_argument");
    // No bundle for oneself.
    assert!(
        idn.export_offline(
            &AgencyId::parse(IDN_KEMLU).unwrap(),
            Vec::new(),
            Timestamp::now()
        )
        .is_err()
    );
}
