//! Attachments (docs/PROTOCOL.md section 13) on an in-memory network: a
//! 50 MB file across a connection cut halfway, a copy with one byte
//! changed, a non-entitled agency, the per-peer quota, and the chain of
//! custody in each node's log.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lintas_core::custody::{CustodyEntry, CustodyEvent};
use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::notice::{AttachmentRef, NoticeBody};
use lintas_core::time::Timestamp;
use lintas_core::transparency::entry::LogEntry;
use lintas_core::vocab::Priority;
use lintas_node::{AttachmentConfig, Engine, Fault, MemoryNetwork, PIECE_BYTES, Transport};
use lintas_testkit::world::{self, IDN_KEMLU, KHM_POLICE, THA_POLICE};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::engine::{deliver, open_with, pacing, until, update};

fn quick(attachments: AttachmentConfig) -> lintas_node::DeliveryConfig {
    pacing().with_attachments(
        attachments.with_retry(Duration::from_millis(10), Duration::from_millis(50)),
    )
}

fn open(dir: &Path, id: &str) -> Engine {
    open_with(dir, id, quick(AttachmentConfig::default()))
}

/// Bytes that do not compress or repeat.
fn file(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..len).map(|_| rng.u8(..)).collect()
}

/// Indonesia uploads `files` and sends Cambodia a notice naming them.
async fn send_with(idn: &Engine, files: &[&[u8]]) -> (NoticeId, Vec<[u8; 32]>) {
    let mut body: NoticeBody = update(IDN_KEMLU, &[KHM_POLICE], "CASE-A", 1, Priority::Routine);
    let mut digests = Vec::new();
    for f in files {
        let (sha, size) = idn
            .upload_attachment(f.to_vec(), "image/jpeg", "casesys.test", Timestamp::now())
            .await
            .unwrap();
        assert_eq!(sha, <[u8; 32]>::from(Sha256::digest(f)));
        body.attachments.push(AttachmentRef::new(
            sha,
            "image/jpeg",
            size,
            body.created_at,
            AgencyId::parse(IDN_KEMLU).unwrap(),
        ));
        digests.push(sha);
    }
    let sent = idn.submit(body, Timestamp::now()).await.unwrap();
    (sent.id, digests)
}

/// Runs Cambodia's fetch loop until `stop`.
fn fetching(khm: &Engine, network: &Arc<MemoryNetwork>) -> CancellationToken {
    let stop = CancellationToken::new();
    let transport = Arc::new(network.transport(khm.agency()));
    let (engine, token) = (khm.clone(), stop.clone());
    tokio::spawn(async move { engine.run_attachment_fetch(transport, token).await });
    stop
}

fn complete(engine: &Engine, sha: &[u8; 32]) -> bool {
    engine
        .store()
        .attachment(sha)
        .unwrap()
        .is_some_and(|r| r.complete)
}

/// The file as the node hands it to its case system.
async fn handed_over(engine: &Engine, sha: [u8; 32]) -> Vec<u8> {
    let record = engine
        .hand_over_attachment(sha, "casesys.khm.test", Timestamp::now())
        .await
        .unwrap();
    let pieces = record.size.div_ceil(PIECE_BYTES as u64) as u32;
    (0..pieces)
        .flat_map(|i| engine.attachment_piece(&sha, i).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_file_arrives_intact_across_a_connection_cut_halfway() {
    let dir = tempfile::tempdir().unwrap();
    let network = MemoryNetwork::new();
    let (idn, khm) = (open(dir.path(), IDN_KEMLU), open(dir.path(), KHM_POLICE));
    network.attach(&idn);
    network.attach(&khm);
    let original = file(50 * 1024 * 1024, 7);
    let pieces = original.len().div_ceil(PIECE_BYTES);
    // Every call Cambodia makes to Indonesia for a piece is counted; the
    // one halfway through is cut.
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&fetches);
    let khm_id = khm.agency().clone();
    network.set_faults(move |from, _, items| {
        if from == &khm_id && items == 0 && counted.fetch_add(1, Ordering::SeqCst) == pieces / 2 {
            Fault::Drop
        } else {
            Fault::None
        }
    });
    let (id, digests) = send_with(&idn, &[&original]).await;
    let (stop_delivery, delivery) = deliver(&idn, &network);
    let stop_fetch = fetching(&khm, &network);
    until("the attachment is fetched and verified", || {
        complete(&khm, &digests[0])
    })
    .await;
    stop_delivery.cancel();
    stop_fetch.cancel();
    delivery.await.unwrap();

    assert_eq!(handed_over(&khm, digests[0]).await, original, "intact");
    // Resumed where the cut left it: every piece fetched once, plus the
    // call that was cut.
    assert_eq!(fetches.load(Ordering::SeqCst), pieces + 1);

    // The chain of custody: uploaded and served at Indonesia, received and
    // handed over at Cambodia, each signed and in its node's log.
    let roster = world::trusted_roster();
    for (engine, events) in [
        (&idn, vec![CustodyEvent::Uploaded, CustodyEvent::Served]),
        (&khm, vec![CustodyEvent::Received, CustodyEvent::HandedOver]),
    ] {
        let entries = engine.store().custody(&digests[0]).unwrap();
        let got: Vec<CustodyEvent> = entries
            .iter()
            .map(|e| {
                CustodyEntry::verify(e, &roster, Timestamp::now())
                    .unwrap()
                    .event
            })
            .collect();
        assert_eq!(got, events, "{}", engine.agency());
        for e in &entries {
            let entry = CustodyEntry::read(e).unwrap();
            let logged = LogEntry::of(
                lintas_core::transparency::entry::LogEntryKind::Custody,
                entry.notice_id.unwrap_or(NoticeId::from_bytes([0; 32])),
                e,
            );
            assert!(
                engine
                    .store()
                    .log_index_of(&LogEntry::digest_of(&logged.encode()))
                    .unwrap()
                    .is_some(),
                "custody entry in {}'s log",
                engine.agency()
            );
        }
    }
    let received = CustodyEntry::read(&khm.store().custody(&digests[0]).unwrap()[0]).unwrap();
    assert_eq!(received.notice_id, Some(id));
    assert_eq!(received.counterparty, IDN_KEMLU);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_with_one_byte_changed_is_refused_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let network = MemoryNetwork::new();
    let (idn, khm) = (open(dir.path(), IDN_KEMLU), open(dir.path(), KHM_POLICE));
    network.attach(&idn);
    network.attach(&khm);
    let original = file(3 * PIECE_BYTES + 1000, 11);
    let (_, digests) = send_with(&idn, &[&original]).await;
    // Indonesia's stored copy has one byte changed.
    let mut piece = idn.attachment_piece(&digests[0], 1).unwrap();
    piece[500] ^= 0x01;
    idn.store()
        .write(|t| t.put_attachment_chunk(&digests[0], 1, &piece))
        .unwrap();
    let (stop_delivery, delivery) = deliver(&idn, &network);
    let stop_fetch = fetching(&khm, &network);
    until("the fetch failed on the digest", || {
        khm.store()
            .attachment(&digests[0])
            .unwrap()
            .is_some_and(|r| r.last_error.contains("not to the digest the notice names"))
    })
    .await;
    stop_delivery.cancel();
    stop_fetch.cancel();
    delivery.await.unwrap();
    assert!(!complete(&khm, &digests[0]));
    assert!(
        khm.metrics()
            .render()
            .contains("lintas_attachments_refused_total")
    );
    let refused = khm
        .hand_over_attachment(digests[0], "casesys.khm.test", Timestamp::now())
        .await
        .unwrap_err();
    assert_eq!(refused.reason(), "not_found", "never shown");
    assert!(khm.store().custody(&digests[0]).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_notices_sender_and_recipients_can_fetch_its_attachments() {
    let dir = tempfile::tempdir().unwrap();
    let network = MemoryNetwork::new();
    let (idn, khm, tha) = (
        open(dir.path(), IDN_KEMLU),
        open(dir.path(), KHM_POLICE),
        open(dir.path(), THA_POLICE),
    );
    for e in [&idn, &khm, &tha] {
        network.attach(e);
    }
    let original = file(1000, 3);
    let (id, digests) = send_with(&idn, &[&original]).await;
    let (stop, delivery) = deliver(&idn, &network);
    until("delivered", || idn.outbox_len() == 0).await;
    stop.cancel();
    delivery.await.unwrap();
    // Thailand is not a party to the notice.
    let refused = network
        .transport(tha.agency())
        .fetch_attachment(idn.agency(), id, digests[0], 0)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.reason, "not_entitled");
    // Cambodia is, but not for a file the notice does not name.
    let other: [u8; 32] = Sha256::digest(b"another file").into();
    let refused = network
        .transport(khm.agency())
        .fetch_attachment(idn.agency(), id, other, 0)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.reason, "not_entitled");
    let data = network
        .transport(khm.agency())
        .fetch_attachment(idn.agency(), id, digests[0], 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(data, original);
    // Served whole to Cambodia once more: the log records it once.
    let served = || {
        idn.store()
            .custody(&digests[0])
            .unwrap()
            .iter()
            .filter(|e| CustodyEntry::read(e).unwrap().event == CustodyEvent::Served)
            .count()
    };
    let before = idn.store().log_size().unwrap();
    network
        .transport(khm.agency())
        .fetch_attachment(idn.agency(), id, digests[0], 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(served(), 1);
    assert_eq!(idn.store().log_size().unwrap(), before);
    // A notice naming a file never uploaded is refused at submission.
    let mut body = update(IDN_KEMLU, &[KHM_POLICE], "CASE-B", 2, Priority::Routine);
    body.attachments.push(AttachmentRef::new(
        other,
        "image/png",
        12,
        body.created_at,
        AgencyId::parse(IDN_KEMLU).unwrap(),
    ));
    let refused = idn.submit(body, Timestamp::now()).await.unwrap_err();
    assert_eq!(refused.field(), Some("draft.attachments[0].sha256"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_cannot_make_a_node_fetch_more_than_its_daily_quota() {
    let dir = tempfile::tempdir().unwrap();
    let network = MemoryNetwork::new();
    let idn = open(dir.path(), IDN_KEMLU);
    // Cambodia takes 1 MiB a day of Indonesia's attachments.
    let khm = open_with(
        dir.path(),
        KHM_POLICE,
        quick(AttachmentConfig::default().with_limits(64 * 1024 * 1024, 1024)),
    );
    network.attach(&idn);
    network.attach(&khm);
    let (a, b) = (file(700 * 1024, 1), file(700 * 1024, 2));
    let (_, digests) = send_with(&idn, &[&a, &b]).await;
    let (stop_delivery, delivery) = deliver(&idn, &network);
    let stop_fetch = fetching(&khm, &network);
    until("one fetched, the other held by the quota", || {
        let records: Vec<_> = digests
            .iter()
            .filter_map(|d| khm.store().attachment(d).unwrap())
            .collect();
        records.iter().filter(|r| r.complete).count() == 1
            && records
                .iter()
                .any(|r| r.last_error.contains("daily attachment quota"))
    })
    .await;
    stop_delivery.cancel();
    stop_fetch.cancel();
    delivery.await.unwrap();

    // Restarted, Cambodia's node still counts what Indonesia used today: a
    // third file waits too.
    network.detach(khm.agency());
    khm.shutdown().await;
    drop(khm);
    let khm = open_with(
        dir.path(),
        KHM_POLICE,
        quick(AttachmentConfig::default().with_limits(64 * 1024 * 1024, 1024)),
    );
    network.attach(&khm);
    let c = file(700 * 1024, 3);
    let (_, third) = send_with(&idn, &[&c]).await;
    let (stop_delivery, delivery) = deliver(&idn, &network);
    let stop_fetch = fetching(&khm, &network);
    until("the third held by the quota after the restart", || {
        khm.store()
            .attachment(&third[0])
            .unwrap()
            .is_some_and(|r| r.last_error.contains("daily attachment quota"))
    })
    .await;
    assert!(!complete(&khm, &third[0]));
    stop_delivery.cancel();
    stop_fetch.cancel();
    delivery.await.unwrap();
}
