//! The fault suite: a workload among three agencies while connections are
//! cut mid-call by a proxy, a recipient restarts twice and another is down
//! for a while. At the end every notice is in each recipient's inbox
//! exactly once and every sender holds a verified ACCEPTED receipt for each
//! delivery. Prints its counts.
//!
//! The size is modest so that CI can afford it; `LINTAS_FAULT_SCALE=10`
//! runs ten times the notices.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lintas_core::ids::{AgencyId, CaseId, NoticeId};
use lintas_core::notice::NoticeContent;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{NoticeKind, ReceiptStage};
use lintas_node::Counts;
use lintas_testkit::devnet::DevNet;
use lintas_testkit::proxy::{FaultyProxy, ProxyFaults};
use lintas_testkit::scenario;
use lintas_testkit::world::{IDN_KEMLU, KHM_POLICE, THA_POLICE};
use tokio::net::TcpListener;

fn scale() -> usize {
    std::env::var("LINTAS_FAULT_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// A victim status update from `from` to `to` in case `case`.
fn update(from: &str, to: &[&str], case: usize) -> lintas_core::notice::NoticeBody {
    let mut body = scenario::one_of_each_kind(Timestamp::now())
        .into_iter()
        .find(|b| b.kind() == NoticeKind::VictimStatusUpdate)
        .unwrap();
    body.sender = AgencyId::parse(from).unwrap();
    body.recipients = to.iter().map(|r| AgencyId::parse(r).unwrap()).collect();
    body.created_at = Timestamp::now();
    body.expires_at = body.created_at.plus_seconds(86_400);
    if let NoticeContent::VictimStatusUpdate(u) = &mut body.content {
        u.effective_at = body.created_at;
    }
    body.case_id = Some(CaseId::parse(&format!("FAULT-{case}")).unwrap());
    body
}

#[derive(Default)]
struct Totals(Mutex<Counts>);

impl Totals {
    fn add(&self, c: Counts) {
        let mut t = self.0.lock().unwrap();
        t.accepted += c.accepted;
        t.duplicates += c.duplicates;
        t.sent += c.sent;
        t.delivered += c.delivered;
        t.refused += c.refused;
        t.dead_letters += c.dead_letters;
        t.failed += c.failed;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_notice_arrives_once_with_a_receipt_through_cuts_restarts_and_outages() {
    let dir = tempfile::tempdir().unwrap();
    // Cambodia is reached through the proxy by everyone.
    let proxy_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_addr = proxy_listener.local_addr().unwrap();
    let real = Arc::new(Mutex::new(None::<String>));
    let seen = Arc::clone(&real);
    let mut net = DevNet::start_custom(
        &[IDN_KEMLU, KHM_POLICE, THA_POLICE],
        dir.path(),
        lintas_grpc::Limits::default(),
        move |roster| {
            let khm = AgencyId::parse(KHM_POLICE).unwrap();
            let entry = roster.agencies.get_mut(&khm).unwrap();
            *seen.lock().unwrap() = Some(entry.endpoint.clone());
            entry.endpoint = format!("https://{proxy_addr}");
        },
    )
    .await
    .unwrap();
    let target: SocketAddr = real
        .lock()
        .unwrap()
        .clone()
        .unwrap()
        .trim_start_matches("https://")
        .parse()
        .unwrap();
    let proxy =
        FaultyProxy::start_on(proxy_listener, vec![target], ProxyFaults::cutting(30, 300)).unwrap();
    let totals = Totals::default();

    // What each sender sent to whom.
    let mut sent: BTreeMap<NoticeId, (&str, Vec<&str>)> = BTreeMap::new();
    let n = 150 * scale();

    // Cambodia sends its part first, then goes down and up twice while the
    // others send.
    for i in 0..n / 3 {
        let (id, _) = net
            .node(KHM_POLICE)
            .submit(update(KHM_POLICE, &[IDN_KEMLU], i % 10))
            .await
            .unwrap();
        sent.insert(id, (KHM_POLICE, vec![IDN_KEMLU]));
    }
    for round in 0..2 {
        for i in 0..n {
            let (id, _) = net
                .node(IDN_KEMLU)
                .submit(update(IDN_KEMLU, &[KHM_POLICE, THA_POLICE], i % 20))
                .await
                .unwrap();
            sent.insert(id, (IDN_KEMLU, vec![KHM_POLICE, THA_POLICE]));
            if i % 3 == 0 {
                let (id, _) = net
                    .node(THA_POLICE)
                    .submit(update(THA_POLICE, &[KHM_POLICE], i % 7))
                    .await
                    .unwrap();
                sent.insert(id, (THA_POLICE, vec![KHM_POLICE]));
            }
            if i == n / 2 {
                // Cambodia restarts; the proxy refuses connections meanwhile.
                proxy.set_down(true);
                totals.add(net.node(KHM_POLICE).engine().metrics().counts());
                net.stop(KHM_POLICE).await.unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;
                net.restart(KHM_POLICE).await.unwrap();
                proxy.set_down(false);
            }
        }
        if round == 0 {
            // Thailand is down for a second.
            totals.add(net.node(THA_POLICE).engine().metrics().counts());
            net.stop(THA_POLICE).await.unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
            net.restart(THA_POLICE).await.unwrap();
        }
    }

    // Everything settles.
    let agencies = [IDN_KEMLU, KHM_POLICE, THA_POLICE];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let mut pending = 0;
        for a in agencies {
            pending += net.node(a).outbox_len().await.unwrap();
        }
        if pending == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{pending} deliveries still pending after two minutes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Each recipient holds each notice exactly once.
    let mut inboxes: BTreeMap<&str, BTreeMap<NoticeId, usize>> = BTreeMap::new();
    for a in agencies {
        let mut ids = BTreeMap::new();
        let mut cursor = 0;
        loop {
            let page = net.node(a).inbox_after(cursor).await.unwrap();
            let Some(last) = page.last() else { break };
            cursor = last.cursor;
            for entry in page {
                *ids.entry(entry.id).or_insert(0) += 1;
            }
        }
        inboxes.insert(a, ids);
    }
    let mut deliveries = 0;
    let accepted = ReceiptStage::Accepted.to_wire() as u8;
    for (id, (sender, recipients)) in &sent {
        for r in recipients {
            if inboxes[r].get(id) != Some(&1) {
                let receipts = net.node(sender).receipts(*id).await.unwrap();
                let stored = net.node(r).engine().store().notice(id).unwrap();
                let dead = net.node(sender).engine().dead_letters().unwrap();
                panic!(
                    "{id} at {r}: inbox count {:?}; sender {sender} receipts {:?}; stored at {r}: {:?}; dead letters {}",
                    inboxes[r].get(id),
                    receipts
                        .iter()
                        .map(|(s, r, _)| (*s, r.clone()))
                        .collect::<Vec<_>>(),
                    stored.map(|n| (n.direction, n.delivered_by)),
                    dead.len()
                );
            }
            deliveries += 1;
            let receipts = net.node(sender).receipts(*id).await.unwrap();
            assert!(
                receipts
                    .iter()
                    .any(|(stage, receiver, _)| *stage == accepted && receiver == r),
                "{sender} holds no ACCEPTED receipt from {r} for {id}"
            );
        }
    }
    let expected: usize = inboxes.values().map(BTreeMap::len).sum();
    assert_eq!(deliveries, expected, "no notice arrived that was not sent");

    for a in agencies {
        totals.add(net.node(a).engine().metrics().counts());
    }
    let t = *totals.0.lock().unwrap();
    println!(
        "fault suite: {} notices sent, {} deliveries, each once with its receipt; {} duplicate deliveries suppressed, {} calls failed (peer unreachable or cut), {} connections cut by the proxy, {} refused, {} dead letters",
        sent.len(),
        deliveries,
        t.duplicates,
        t.failed,
        proxy.cuts(),
        t.refused,
        t.dead_letters
    );
    assert_eq!(t.dead_letters, 0);
    net.shutdown().await;
}
