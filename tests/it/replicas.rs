//! Several node replicas of one agency sharing a PostgreSQL store, on the
//! in-memory network: each notice reaches its recipient once whichever
//! replica queued it, a replica that dies hands its work to the others
//! within a lease, and the case system can read from any replica.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use lintas_core::ids::{AgencyId, CaseId, RecordId};
use lintas_core::notice::{Handling, NoticeBody, NoticeContent, VictimStatusUpdate};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{LegalTreatment, Priority, ReceiptStage, Tlp, VictimStatus};
use lintas_node::{DeliveryConfig, Engine, MemoryNetwork};
use lintas_store::{PostgresConfig, Store};
use lintas_testkit::world::{self, IDN_KEMLU, KHM_POLICE};
use tokio_util::sync::CancellationToken;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn agency(id: &str) -> AgencyId {
    AgencyId::parse(id).unwrap()
}

fn pacing() -> DeliveryConfig {
    DeliveryConfig::default()
        .with_pipeline(4, 8)
        .with_backoff(Duration::from_millis(5), Duration::from_millis(50))
        .with_replica_poll(Duration::from_millis(50))
}

fn embedded(dir: &Path, id: &str) -> Result<Engine> {
    let store = Arc::new(Store::open(&dir.join(format!("{id}.redb")))?);
    Ok(Engine::open(
        agency(id),
        world::agency_key(id),
        world::trusted_roster(),
        store,
        pacing(),
    )?)
}

/// Replica `name` of the Indonesian foreign ministry on database `url`.
fn replica(url: &str, name: &str, lease: Duration) -> Result<Engine> {
    let mut config = PostgresConfig::new(url, name);
    config.lease = lease;
    let store = Arc::new(Store::connect(&config)?);
    Ok(Engine::open(
        agency(IDN_KEMLU),
        world::agency_key(IDN_KEMLU),
        world::trusted_roster(),
        store,
        pacing(),
    )?)
}

fn update(from: &str, to: &str, case: &str, victim: usize) -> NoticeBody {
    let now = Timestamp::now();
    let mut body = NoticeBody::new(
        agency(from),
        0,
        now,
        now.plus_seconds(86_400),
        vec![agency(to)],
        Handling::new(Tlp::Amber, Priority::Routine),
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

fn deliver(engine: &Engine, network: &Arc<MemoryNetwork>) -> CancellationToken {
    let stop = CancellationToken::new();
    let transport = Arc::new(network.transport(engine.agency()));
    let (engine, token) = (engine.clone(), stop.clone());
    tokio::spawn(async move { engine.run_delivery(transport, token).await });
    stop
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..800 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// (sender, sequence) of each notice in `engine`'s inbox.
fn arrivals(engine: &Engine) -> Vec<(String, u64)> {
    engine
        .inbox_after(0, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|e| {
            let envelope = SignedNotice::decode(&e.notice.envelope).unwrap();
            let (_, body) =
                lintas_core::signing::decode_notice_body(envelope.body_bytes()).unwrap();
            (body.sender.to_string(), body.sequence)
        })
        .collect()
}

/// Cambodia's node and two replicas of Indonesia's foreign ministry on one
/// database (A at Indonesia's address), all delivering until dropped.
struct TwoReplicas {
    khm: Engine,
    a: Engine,
    b: Engine,
    stops: Vec<CancellationToken>,
    _dir: tempfile::TempDir,
}

impl TwoReplicas {
    fn start() -> Result<Self> {
        let url = lintas_testkit::postgres::database()?;
        let dir = tempfile::tempdir()?;
        let network = MemoryNetwork::new();
        let khm = embedded(dir.path(), KHM_POLICE)?;
        let a = replica(&url, "idn-a", Duration::from_secs(30))?;
        let b = replica(&url, "idn-b", Duration::from_secs(30))?;
        network.attach(&khm);
        network.attach(&a);
        let stops = [&khm, &a, &b].map(|e| deliver(e, &network)).to_vec();
        Ok(TwoReplicas {
            khm,
            a,
            b,
            stops,
            _dir: dir,
        })
    }
}

impl Drop for TwoReplicas {
    fn drop(&mut self) {
        for stop in &self.stops {
            stop.cancel();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_live_replicas_send_each_notice_once() -> Result {
    let net = TwoReplicas::start()?;
    let (khm, a, b) = (&net.khm, &net.a, &net.b);
    // The case system submits to either replica, as a load balancer would
    // send it.
    let mut ids = Vec::new();
    for i in 0..60 {
        let node = if i % 2 == 0 { &a } else { &b };
        let body = update(IDN_KEMLU, KHM_POLICE, &format!("CASE-{}", i % 6), i);
        ids.push(node.submit(body, Timestamp::now()).await?);
    }
    let sequences: BTreeSet<u64> = ids.iter().map(|s| s.sequence).collect();
    assert_eq!(sequences.len(), 60, "one sequence number per notice");
    until("Cambodia has all 60", || {
        khm.inbox_after(0, usize::MAX).unwrap().len() == 60
    })
    .await;
    // Every delivery receipt is recorded in the shared store, and the
    // outbox drains on both replicas.
    until(
        "both replicas hold every receipt and an empty outbox",
        || {
            ids.iter().all(|s| {
                a.receipts(&s.id)
                    .unwrap()
                    .iter()
                    .any(|(stage, _, _)| *stage == ReceiptStage::Accepted.to_wire() as u8)
            }) && a.outbox_len() == 0
                && b.outbox_len() == 0
        },
    )
    .await;
    let khm_counts = khm.metrics().counts();
    assert_eq!(khm_counts.accepted, 60);
    assert_eq!(
        khm_counts.duplicates, 0,
        "no notice was sent by two replicas"
    );
    let arrived: BTreeSet<(String, u64)> = arrivals(khm).into_iter().collect();
    assert_eq!(arrived.len(), 60);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_dies_hands_its_work_to_another_within_the_lease() -> Result {
    let url = lintas_testkit::postgres::database()?;
    let dir = tempfile::tempdir()?;
    let network = MemoryNetwork::new();
    let khm = embedded(dir.path(), KHM_POLICE)?;
    let lease = Duration::from_millis(800);
    let a = replica(&url, "idn-a", lease)?;
    network.attach(&khm);
    network.attach(&a);
    let khm_stop = deliver(&khm, &network);
    // Cambodia reports to Indonesia while replica A serves it.
    let from_khm = khm
        .submit(
            update(KHM_POLICE, IDN_KEMLU, "CASE-KHM", 1),
            Timestamp::now(),
        )
        .await?;
    until("A received Cambodia's notice", || {
        a.inbox_after(0, 10).unwrap().len() == 1
    })
    .await;
    // A queues 20 notices and claims half of them, then dies before
    // sending any (its delivery loop never ran).
    let mut queued = Vec::new();
    for i in 0..20 {
        let body = update(IDN_KEMLU, KHM_POLICE, &format!("CASE-{}", i % 4), i);
        queued.push(a.submit(body, Timestamp::now()).await?);
    }
    let held: Vec<u64> = a
        .store()
        .outbox()?
        .iter()
        .map(|e| e.seq)
        .filter(|s| s % 2 == 0)
        .collect();
    let claimed = a.store().claim(&held, now_ms())?;
    assert_eq!(claimed.entries.len(), held.len());
    let died = std::time::Instant::now();
    a.shutdown().await;
    // B starts, takes A's place on the network and sends everything: the
    // unclaimed entries at once, the claimed ones once the lease lapses.
    let b = replica(&url, "idn-b", lease)?;
    network.attach(&b);
    let b_stop = deliver(&b, &network);
    until("Cambodia has all 20", || {
        arrivals(&khm)
            .iter()
            .filter(|(sender, _)| sender == IDN_KEMLU)
            .count()
            == 20
    })
    .await;
    let took = died.elapsed();
    assert!(
        took >= lease,
        "claimed entries waited for their lease ({took:?})"
    );
    until("B's outbox is empty", || b.outbox_len() == 0).await;
    assert_eq!(khm.metrics().counts().duplicates, 0);
    for s in &queued {
        let receipts = b.receipts(&s.id)?;
        assert!(
            receipts
                .iter()
                .any(|(stage, _, _)| *stage == ReceiptStage::Accepted.to_wire() as u8),
            "B holds the receipt of {}",
            s.id
        );
    }
    // The case system, now talking to B, reads what A received.
    let inbox = b.inbox_after(0, 10)?;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].id, from_khm.id);
    // Sequence numbers continue where A stopped.
    let next = b
        .submit(
            update(IDN_KEMLU, KHM_POLICE, "CASE-0", 99),
            Timestamp::now(),
        )
        .await?;
    assert_eq!(next.sequence, 21);
    khm_stop.cancel();
    b_stop.cancel();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_system_following_one_replica_sees_what_another_received() -> Result {
    let net = TwoReplicas::start()?;
    let (khm, b) = (&net.khm, &net.b);
    // The case system waits on B's inbox; the notice arrives at A.
    let waiting = tokio::spawn({
        let b = b.clone();
        async move { b.wait_for_inbox(0).await }
    });
    let sent = khm
        .submit(update(KHM_POLICE, IDN_KEMLU, "CASE-X", 7), Timestamp::now())
        .await?;
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .map_err(|_| "B's inbox did not move within 10 s")??;
    let seen = b.inbox_after(0, 10)?;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].id, sent.id);
    assert_eq!(khm.metrics().counts().sent, 1);
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The body of a draft the case system submits (sender and sequence are
/// the node's to fill).
fn draft(body: &NoticeBody) -> lintas_core::pb::NoticeBody {
    let mut wire = body.to_wire();
    wire.sender.clear();
    wire.sequence = 0;
    wire
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_replicas_share_one_database_over_grpc() -> Result {
    use lintas_core::pb;
    use lintas_testkit::devnet::DevNet;

    let url = lintas_testkit::postgres::database()?;
    let dir = tempfile::tempdir()?;
    let mut net = DevNet::start(&[IDN_KEMLU, KHM_POLICE], dir.path())
        .await
        .map_err(|e| e.to_string())?;
    let shared = |name: &str| {
        let mut config = PostgresConfig::new(url.clone(), name);
        config.lease = Duration::from_secs(2);
        config
    };
    let pacing = DeliveryConfig::default()
        .with_backoff(Duration::from_millis(10), Duration::from_millis(200))
        .with_replica_poll(Duration::from_millis(100));
    // Indonesia's node at the roster's address becomes replica A; replica
    // B runs beside it on the same database.
    net.stop(IDN_KEMLU).await.map_err(|e| e.to_string())?;
    net.restart_with(IDN_KEMLU, |b| b.postgres(shared("idn-a")).delivery(pacing))
        .await
        .map_err(|e| e.to_string())?;
    let (b_node, b_addr) = net
        .start_replica(IDN_KEMLU, |b| b.postgres(shared("idn-b")).delivery(pacing))
        .await
        .map_err(|e| e.to_string())?;
    let mut via_a = net
        .case_system(IDN_KEMLU)
        .await
        .map_err(|e| e.to_string())?;
    let mut via_b = net
        .case_system_at(IDN_KEMLU, b_addr)
        .await
        .map_err(|e| e.to_string())?;
    let mut ids = Vec::new();
    let mut sequences = BTreeSet::new();
    for i in 0..10 {
        let client = if i % 2 == 0 { &mut via_a } else { &mut via_b };
        let body = update(IDN_KEMLU, KHM_POLICE, &format!("CASE-{}", i % 3), i);
        let answer = client
            .submit_notice(pb::SubmitNoticeRequest {
                draft: Some(draft(&body)),
                ..Default::default()
            })
            .await?
            .into_inner();
        sequences.insert(answer.sequence);
        ids.push(lintas_core::ids::NoticeId::from_bytes(
            answer.notice_id.as_slice().try_into()?,
        ));
    }
    assert_eq!(sequences, (1..=10).collect::<BTreeSet<u64>>());
    let khm = net.node(KHM_POLICE);
    for _ in 0..400 {
        if khm.inbox_after(0).await?.len() == 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(khm.inbox_after(0).await?.len(), 10);
    // Each replica shows every delivery receipt, whichever sent it.
    for id in &ids {
        let mut seen = false;
        for _ in 0..400 {
            seen = b_node
                .receipts(*id)
                .await?
                .iter()
                .any(|(stage, receiver, _)| {
                    *stage == ReceiptStage::Accepted.to_wire() as u8 && receiver == KHM_POLICE
                });
            if seen {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(seen, "replica B holds the receipt of {id}");
    }
    assert_eq!(
        khm.engine().metrics().counts().duplicates,
        0,
        "no notice went out twice"
    );
    // Cambodia answers Indonesia (delivered to A); the case system reading
    // B's inbox stream sees it.
    let mut inbox = via_b
        .subscribe_inbox(pb::SubscribeInboxRequest { after_cursor: 0 })
        .await?
        .into_inner();
    let mut cambodia = net
        .case_system(KHM_POLICE)
        .await
        .map_err(|e| e.to_string())?;
    cambodia
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(draft(&update(KHM_POLICE, IDN_KEMLU, "CASE-KHM", 3))),
            ..Default::default()
        })
        .await?;
    let item = tokio::time::timeout(Duration::from_secs(10), inbox.message())
        .await
        .map_err(|_| "nothing on B's inbox stream within 10 s")??
        .ok_or("B's inbox stream ended")?;
    assert_eq!(item.cursor, 1);
    b_node.shutdown().await;
    net.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roster_installed_through_one_replica_reaches_the_others() -> Result {
    use lintas_core::ids::MemberState;

    let url = lintas_testkit::postgres::database()?;
    let network = MemoryNetwork::new();
    let a = replica(&url, "idn-a", Duration::from_secs(30))?;
    let b = replica(&url, "idn-b", Duration::from_secs(30))?;
    let stops = [deliver(&a, &network), deliver(&b, &network)];
    let mut next = world::trusted_roster().roster().clone();
    next.version = 2;
    next.issued_at = Timestamp::now();
    let signed = world::sign_roster(&next, &[MemberState::Indonesia, MemberState::Cambodia]);
    assert_eq!(a.install_roster(signed, Timestamp::now()).await?, 2);
    until("replica B trusts version 2", || {
        b.roster().roster().version == 2
    })
    .await;
    for stop in stops {
        stop.cancel();
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_a_peers_daily_quota() -> Result {
    use lintas_core::pb;
    use lintas_grpc::pb::peer_exchange_client::PeerExchangeClient;
    use lintas_testkit::devnet::DevNet;

    let url = lintas_testkit::postgres::database()?;
    let dir = tempfile::tempdir()?;
    let mut net = DevNet::start(&[KHM_POLICE], dir.path())
        .await
        .map_err(|e| e.to_string())?;
    let mut limits = lintas_grpc::Limits::default();
    limits.peer_kib_per_day = 16;
    let shared = |name: &str| PostgresConfig::new(url.clone(), name);
    net.stop(KHM_POLICE).await.map_err(|e| e.to_string())?;
    net.restart_with(KHM_POLICE, |b| b.postgres(shared("khm-a")).limits(limits))
        .await
        .map_err(|e| e.to_string())?;
    let (_b, b_addr) = net
        .start_replica(KHM_POLICE, |b| b.postgres(shared("khm-b")).limits(limits))
        .await
        .map_err(|e| e.to_string())?;
    let indonesia = "pwni.kemlu.lintas.test";
    let mut at_a = PeerExchangeClient::new(
        net.channel(indonesia, KHM_POLICE)
            .await
            .map_err(|e| e.to_string())?,
    );
    let mut at_b = PeerExchangeClient::new(
        net.channel_at(indonesia, KHM_POLICE, b_addr)
            .await
            .map_err(|e| e.to_string())?,
    );
    let key = world::agency_key(IDN_KEMLU);
    let notice = |i: usize| -> Result<pb::DeliverRequest> {
        let mut body = update(IDN_KEMLU, KHM_POLICE, "CASE-Q", i);
        body.sequence = i as u64 + 1;
        let (_, signed) = SignedNotice::sign(&body, &key)?;
        Ok(pb::DeliverRequest {
            notice: Some(signed.into()),
        })
    };

    // Indonesia uses up its day's quota through replica A.
    let mut i = 0;
    let refusal = loop {
        match at_a.deliver(notice(i)?).await {
            Ok(_) => i += 1,
            Err(status) => break status,
        }
        assert!(i <= 16, "the quota did not hold at A");
    };
    assert_eq!(
        refusal
            .metadata()
            .get("lintas-reason")
            .and_then(|v| v.to_str().ok()),
        Some("quota_exceeded")
    );
    // Once both replicas have settled (every 2 s), replica B refuses it
    // too, though Indonesia never called B before: one quota per agency,
    // not one per replica.
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    let refusal = at_b
        .deliver(notice(i + 1)?)
        .await
        .err()
        .ok_or("B accepted")?;
    assert_eq!(
        refusal
            .metadata()
            .get("lintas-reason")
            .and_then(|v| v.to_str().ok()),
        Some("quota_exceeded")
    );
    net.shutdown().await;
    Ok(())
}
