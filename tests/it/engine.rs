//! The node engine on an in-memory network: delivery order, priority,
//! outages, restarts and batch verification, with no sockets.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lintas_core::ids::{AgencyId, CaseId, NoticeId, RecordId};
use lintas_core::notice::{Handling, NoticeBody, NoticeContent, VictimStatusUpdate};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{LegalTreatment, Priority, ReceiptStage, Tlp, VictimStatus};
use lintas_node::{Accepted, DeliveryConfig, Engine, Fault, Inbound, MemoryNetwork, Refusal};
use lintas_store::Store;
use lintas_testkit::world::{self, IDN_KEMLU, KHM_POLICE, THA_POLICE};
use tokio_util::sync::CancellationToken;

fn agency(id: &str) -> AgencyId {
    AgencyId::parse(id).unwrap()
}

/// Fast retries, small batches: many round trips in a short test.
pub(crate) fn pacing() -> DeliveryConfig {
    DeliveryConfig::default()
        .with_pipeline(4, 8)
        .with_backoff(Duration::from_millis(5), Duration::from_millis(50))
}

pub(crate) fn open(dir: &Path, id: &str) -> Engine {
    open_with(dir, id, pacing())
}

/// As [`open`], with its own delivery pacing.
pub(crate) fn open_with(dir: &Path, id: &str, delivery: DeliveryConfig) -> Engine {
    let store = Arc::new(Store::open(&dir.join(format!("{id}.redb"))).unwrap());
    Engine::open(
        agency(id),
        world::agency_key(id),
        world::trusted_roster(),
        store,
        delivery,
    )
    .unwrap()
}

/// A victim status update from `from` about `case` to `to`.
pub(crate) fn update(
    from: &str,
    to: &[&str],
    case: &str,
    victim: usize,
    priority: Priority,
) -> NoticeBody {
    let now = Timestamp::now();
    let mut body = NoticeBody::new(
        agency(from),
        0,
        now,
        now.plus_seconds(86_400),
        to.iter().map(|a| agency(a)).collect(),
        Handling::new(Tlp::Amber, priority).with_deadline(now.plus_seconds(3600)),
        NoticeContent::VictimStatusUpdate(VictimStatusUpdate::new(
            RecordId::parse(&format!("V-{victim:04}")).unwrap(),
            VictimStatus::InProtection,
            VictimStatus::InProtection,
            LegalTreatment::Victim,
            now,
        )),
    );
    body.case_id = Some(CaseId::parse(case).unwrap());
    body
}

/// Runs `engine`'s delivery loop until the returned token is cancelled.
pub(crate) fn deliver(
    engine: &Engine,
    network: &Arc<MemoryNetwork>,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let stop = CancellationToken::new();
    let transport = Arc::new(network.transport(engine.agency()));
    let task = tokio::spawn({
        let (engine, stop) = (engine.clone(), stop.clone());
        async move { engine.run_delivery(transport, stop).await }
    });
    (stop, task)
}

pub(crate) async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..600 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// (case, sequence) of every notice in `engine`'s inbox, in inbox order.
pub(crate) fn inbox(engine: &Engine) -> Vec<(String, u64, NoticeId)> {
    engine
        .inbox_after(0, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|e| {
            let envelope = SignedNotice::decode(&e.notice.envelope).unwrap();
            let (_, body) =
                lintas_core::signing::decode_notice_body(envelope.body_bytes()).unwrap();
            (e.notice.case_id, body.sequence, e.id)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_case_arrives_in_order_once_under_pipelining_delays_and_failures() {
    let dir = tempfile::tempdir().unwrap();
    let network = MemoryNetwork::new();
    let sender = open(dir.path(), KHM_POLICE);
    let origin = open(dir.path(), IDN_KEMLU);
    let transit = open(dir.path(), THA_POLICE);
    for e in [&sender, &origin, &transit] {
        network.attach(e);
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    network.set_faults(move |_, _, _| {
        counted.fetch_add(1, Ordering::SeqCst);
        match fastrand::u8(0..10) {
            0 => Fault::Drop,
            1 => Fault::LoseAnswer,
            2..=4 => Fault::Delay(Duration::from_millis(fastrand::u64(0..5))),
            _ => Fault::None,
        }
    });
    // Everything is queued first, so each case has a queue that failed
    // batches must go back to the front of.
    let mut sent = Vec::new();
    for i in 0..240 {
        let to: &[&str] = if i % 3 == 0 {
            &[IDN_KEMLU, THA_POLICE]
        } else {
            &[IDN_KEMLU]
        };
        let body = update(
            KHM_POLICE,
            to,
            &format!("CASE-{}", i % 12),
            i,
            Priority::Routine,
        );
        sent.push((
            sender.submit(body, Timestamp::now()).await.unwrap(),
            to.len(),
        ));
    }
    let (stop, task) = deliver(&sender, &network);
    until("the outbox empties", || sender.outbox_len() == 0).await;
    stop.cancel();
    task.await.unwrap();

    for (recipient, expected) in [(&origin, 240), (&transit, 80)] {
        let got = inbox(recipient);
        assert_eq!(got.len(), expected, "each notice handed over once");
        let ids: BTreeSet<NoticeId> = got.iter().map(|(_, _, id)| *id).collect();
        assert_eq!(ids.len(), expected, "no duplicates in the inbox");
        let mut last: BTreeMap<String, u64> = BTreeMap::new();
        for (case, sequence, _) in got {
            let previous = last.insert(case.clone(), sequence).unwrap_or(0);
            assert!(sequence > previous, "{case}: {sequence} after {previous}");
        }
    }
    let accepted = ReceiptStage::Accepted.to_wire() as u8;
    for (submitted, recipients) in sent {
        let held = sender
            .receipts(&submitted.id)
            .unwrap()
            .into_iter()
            .filter(|(stage, _, _)| *stage == accepted)
            .count();
        assert_eq!(held, recipients, "a verified receipt from every recipient");
    }
    assert!(calls.load(Ordering::SeqCst) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_down_costs_no_per_entry_retries_and_an_urgent_notice_goes_first_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let network = MemoryNetwork::new();
    let sender = open(dir.path(), KHM_POLICE);
    let origin = open(dir.path(), IDN_KEMLU);
    network.attach(&sender);
    network.detach(origin.agency());
    let (stop, task) = deliver(&sender, &network);
    for i in 0..300 {
        let body = update(
            KHM_POLICE,
            &[IDN_KEMLU],
            &format!("BACKLOG-{}", i % 30),
            i,
            Priority::Routine,
        );
        sender.submit(body, Timestamp::now()).await.unwrap();
    }
    until("the peer is seen down", || {
        sender.peer_status(origin.agency()).failures >= 3
    })
    .await;
    let urgent = sender
        .submit(
            update(
                KHM_POLICE,
                &[IDN_KEMLU],
                "RESCUE-NOW",
                999,
                Priority::Urgent,
            ),
            Timestamp::now(),
        )
        .await
        .unwrap();

    // The outage is one record for the peer, not a timer per entry.
    let retries = sender.store().peer_retries().unwrap();
    assert_eq!(retries.len(), 1);
    assert_eq!(retries[0].0, IDN_KEMLU);
    assert!(retries[0].1.failures >= 3);
    let outbox = sender.store().outbox().unwrap();
    assert_eq!(outbox.len(), 301);
    assert!(
        outbox
            .iter()
            .all(|e| e.attempts == 0 && e.next_attempt_ms == 0)
    );

    network.attach(&origin);
    until("the backlog drains", || sender.outbox_len() == 0).await;
    stop.cancel();
    task.await.unwrap();
    let got = inbox(&origin);
    assert_eq!(got.len(), 301);
    assert_eq!(
        got[0].2, urgent.id,
        "the urgent notice is the first one delivered"
    );
    assert!(sender.store().peer_retries().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_while_answers_are_lost_lose_nothing_and_duplicate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let network = MemoryNetwork::new();
    let mut sender = open(dir.path(), KHM_POLICE);
    let mut origin = open(dir.path(), IDN_KEMLU);
    network.attach(&sender);
    network.attach(&origin);
    // Every third call is handled and committed by the recipient, but its
    // answer never reaches the sender: the sender must send again and get
    // the original receipts.
    let n = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&n);
    network.set_faults(move |_, _, _| {
        if counter.fetch_add(1, Ordering::SeqCst).is_multiple_of(3) {
            Fault::LoseAnswer
        } else {
            Fault::None
        }
    });
    let mut submitted = Vec::new();
    for round in 0..4 {
        let (stop, task) = deliver(&sender, &network);
        for i in 0..40 {
            let body = update(
                KHM_POLICE,
                &[IDN_KEMLU],
                &format!("R-{}", i % 5),
                round * 100 + i,
                Priority::High,
            );
            submitted.push(sender.submit(body, Timestamp::now()).await.unwrap().id);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Both nodes stop mid-delivery and start again from their stores.
        stop.cancel();
        task.await.unwrap();
        sender.shutdown().await;
        origin.shutdown().await;
        sender = open(dir.path(), KHM_POLICE);
        origin = open(dir.path(), IDN_KEMLU);
        network.attach(&sender);
        network.attach(&origin);
    }
    let (stop, task) = deliver(&sender, &network);
    until("the outbox empties", || sender.outbox_len() == 0).await;
    stop.cancel();
    task.await.unwrap();
    let got = inbox(&origin);
    let ids: BTreeSet<NoticeId> = got.iter().map(|(_, _, id)| *id).collect();
    assert_eq!(
        got.len(),
        submitted.len(),
        "every notice handed over exactly once"
    );
    assert_eq!(ids, submitted.iter().copied().collect());
    let cursors: Vec<u64> = origin
        .inbox_after(0, usize::MAX)
        .unwrap()
        .iter()
        .map(|e| e.cursor)
        .collect();
    assert_eq!(cursors, (1..=submitted.len() as u64).collect::<Vec<_>>());
    let sequences: Vec<u64> = got.iter().map(|(_, s, _)| *s).collect();
    let mut sorted = sequences.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        sequences.len(),
        "sequence numbers never reused across restarts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_in_a_batch_refuses_only_that_notice() {
    let dir = tempfile::tempdir().unwrap();
    let origin = open(dir.path(), IDN_KEMLU);
    let key = world::agency_key(KHM_POLICE);
    let sign = |i: usize| {
        let mut body = update(KHM_POLICE, &[IDN_KEMLU], "B-1", i, Priority::High);
        body.sequence = i as u64;
        SignedNotice::sign(&body, &key).unwrap().1
    };
    let good = [sign(1), sign(2), sign(4)];
    let mut bad = lintas_core::pb::SignedNotice::from(sign(3));
    bad.signature[7] ^= 0x20;
    let bad = SignedNotice::try_from(bad).unwrap();
    let items = vec![
        Inbound::Notice(good[0].clone()),
        Inbound::Notice(good[1].clone()),
        Inbound::Notice(bad),
        Inbound::Notice(good[2].clone()),
    ];
    let answers = origin
        .receive(&agency(KHM_POLICE), items, Timestamp::now())
        .await;
    assert_eq!(answers.len(), 4);
    for i in [0, 1, 3] {
        assert!(
            matches!(
                &answers[i],
                Ok(Accepted::Notice {
                    duplicate: false,
                    ..
                })
            ),
            "{i}: {:?}",
            answers[i]
        );
    }
    match &answers[2] {
        Err(refusal @ Refusal::Rejected(_)) => assert_eq!(refusal.reason(), "bad_signature"),
        other => panic!("expected bad_signature, got {other:?}"),
    }
    assert_eq!(inbox(&origin).len(), 3, "the three good notices are stored");

    // The same batch again: three duplicates with the original receipts, and
    // the same refusal.
    let again = origin
        .receive(
            &agency(KHM_POLICE),
            good.iter().cloned().map(Inbound::Notice).collect(),
            Timestamp::now(),
        )
        .await;
    for (first, second) in [&answers[0], &answers[1], &answers[3]]
        .into_iter()
        .zip(&again)
    {
        match (first, second) {
            (
                Ok(Accepted::Notice { receipt: a, .. }),
                Ok(Accepted::Notice {
                    receipt: b,
                    duplicate: true,
                }),
            ) => assert_eq!(a.encode(), b.encode()),
            other => panic!("expected a duplicate with the original receipt: {other:?}"),
        }
    }
    assert_eq!(inbox(&origin).len(), 3);
}
