//! The fault suite with real processes. Three agencies exchange a workload
//! of notices through `lintas node` processes while faults are injected at
//! random points: a node killed with SIGKILL and restarted, a replica of
//! Thailand's PostgreSQL replica set killed (the other takes its work over),
//! a peer unreachable for a while, a proxy between the nodes that delays
//! and cuts connections, and Indonesia's disk filling up and freeing again.
//! At the end every notice is in each recipient's inbox exactly once, every
//! sender holds a verified ACCEPTED receipt for each delivery, no dead
//! letter was made, and every store opens again after one more SIGKILL with
//! the same contents. Prints its counts.
//!
//! 500 notices per agency by default; `LINTAS_FAULT_SCALE=10` runs ten
//! times as many, `LINTAS_FAULT_SEED` replays one schedule of faults.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lintas_core::ids::{AgencyId, CaseId, NoticeId};
use lintas_core::notice::{NoticeBody, NoticeContent};
use lintas_core::pb;
use lintas_core::receipt::{SignedReceipt, body_digest};
use lintas_core::roster::{SignedRoster, TrustedRoster};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{NoticeKind, ReceiptStage};

use lintas_grpc::pki::PemPair;
use lintas_grpc::tls::TlsMaterial;
use lintas_testkit::proxy::{FaultyProxy, ProxyFaults};
use tokio::sync::Mutex;
use tokio_stream::StreamExt;
use tonic::transport::Endpoint;

use super::{NodeProcess, dev_setup, dns, free_port};

const IDN: &str = "IDN.KEMLU.PWNI";
const KHM: &str = "KHM.MOI.ATHP";
const THA: &str = "THA.RTP.ATPD";
const AGENCIES: [&str; 3] = [IDN, KHM, THA];

fn scale() -> usize {
    std::env::var("LINTAS_FAULT_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// A tmpfs for Indonesia's store, so that its disk can be filled.
/// Mounting needs root (as on the CI machine); without it the suite runs
/// without that fault and says so.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=512m", "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk(dir.to_path_buf()))
    }

    /// Writes a filler file until the disk is full; returns its size.
    fn fill(&self) -> u64 {
        let mut file = std::fs::File::create(self.0.join("filler")).unwrap();
        let mut written = 0u64;
        for chunk in [1 << 20, 4096, 64] {
            let block = vec![0u8; chunk];
            while file.write_all(&block).is_ok() {
                written += chunk as u64;
            }
        }
        written
    }

    fn free(&self) {
        std::fs::remove_file(self.0.join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily, so that a node still holding its store open cannot keep
        // the mount behind after a failed run.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// One node process of the network: an agency's node or one replica.
struct Slot {
    name: &'static str,
    config: PathBuf,
    api: SocketAddr,
    metrics: SocketAddr,
    process: Option<NodeProcess>,
    kills: u32,
}

/// Counters of the node processes, summed over every process that ran
/// (read just before each SIGKILL and at the end).
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    duplicates: u64,
    failed: u64,
    refused: u64,
    dead_letters: u64,
}

impl Totals {
    fn add(&mut self, metrics: &str) {
        for line in metrics.lines() {
            let Some((name, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let value = value as u64;
            match name {
                "lintas_notices_duplicate_total" => self.duplicates += value,
                "lintas_deliveries_total{outcome=\"failed\"}" => self.failed += value,
                "lintas_deliveries_total{outcome=\"refused\"}" => self.refused += value,
                "lintas_deliveries_total{outcome=\"dead_letter\"}" => self.dead_letters += value,
                _ => {}
            }
        }
    }
}

/// `GET /metrics` on a node's metrics listener; empty if it does not answer.
fn scrape(addr: SocketAddr) -> String {
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: lintas\r\n\r\n");
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}

struct Network {
    slots: Vec<Slot>,
    totals: Totals,
}

impl Network {
    fn slot(&mut self, name: &str) -> &mut Slot {
        self.slots.iter_mut().find(|s| s.name == name).unwrap()
    }

    async fn start(&mut self, name: &str) {
        let config = self.slot(name).config.clone();
        let process = tokio::task::spawn_blocking(move || NodeProcess::start_config(&config))
            .await
            .unwrap();
        self.slot(name).process = Some(process);
    }

    /// SIGKILL, after reading the process's counters.
    async fn kill(&mut self, name: &str) {
        let slot = self.slot(name);
        let metrics = slot.metrics;
        let process = slot.process.take();
        slot.kills += 1;
        let text = tokio::task::spawn_blocking(move || scrape(metrics))
            .await
            .unwrap();
        self.totals.add(&text);
        if let Some(p) = process {
            tokio::task::spawn_blocking(move || p.kill()).await.unwrap();
        }
    }

    async fn start_all_stopped(&mut self) {
        let stopped: Vec<&'static str> = self
            .slots
            .iter()
            .filter(|s| s.process.is_none())
            .map(|s| s.name)
            .collect();
        for name in stopped {
            self.start(name).await;
        }
    }
}

/// The case system of one agency: its nodes' agency API (both replicas for
/// Thailand) with its client certificate.
#[derive(Clone)]
struct CaseSystem {
    agency: &'static str,
    clients: Vec<lintas_grpc::AgencyClient>,
}

impl CaseSystem {
    fn new(dir: &Path, agency: &'static str, nodes: &[SocketAddr]) -> CaseSystem {
        let pki = dir.join("pki");
        let client = format!("casesys.{}", dns(agency));
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        let tls = TlsMaterial {
            ca_pem: read(pki.join("ca.pem")),
            identity: PemPair {
                cert: read(pki.join(format!("{client}.pem"))),
                key: read(pki.join(format!("{client}.key"))),
            },
        };
        let clients = nodes
            .iter()
            .map(|addr| {
                let channel = Endpoint::from_shared(format!("https://{addr}"))
                    .unwrap()
                    .tls_config(tls.client_config(&dns(agency)))
                    .unwrap()
                    .connect_timeout(Duration::from_secs(2))
                    .timeout(Duration::from_secs(10))
                    .connect_lazy();
                lintas_grpc::agency_client(
                    channel,
                    lintas_grpc::Officer::new("fault.test").unwrap(),
                )
            })
            .collect();
        CaseSystem { agency, clients }
    }

    /// Submits with an idempotency key, retrying (on the next replica, if
    /// any) until a node answers, as a case system does. Returns the
    /// notice id and the number of failed attempts.
    async fn submit(&mut self, draft: pb::NoticeBody, key: String) -> (NoticeId, u64) {
        let start = Instant::now();
        let mut failures = 0u64;
        loop {
            let n = self.clients.len();
            let client = &mut self.clients[failures as usize % n];
            let answer = client
                .submit_notice(pb::SubmitNoticeRequest {
                    draft: Some(draft.clone()),
                    idempotency_key: key.clone(),
                })
                .await;
            match answer {
                Ok(response) => {
                    let id = notice_id(&response.into_inner().notice_id);
                    return (id, failures);
                }
                Err(status) => {
                    failures += 1;
                    assert!(
                        start.elapsed() < Duration::from_secs(90),
                        "{}: submission {key} still failing after 90 s: {status:?}",
                        self.agency
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// How many times each notice is in the inbox (any replica), read
    /// from the first cursor.
    async fn inbox(&mut self) -> Result<BTreeMap<NoticeId, usize>, tonic::Status> {
        let mut stream = self.clients[0]
            .subscribe_inbox(pb::SubscribeInboxRequest { after_cursor: 0 })
            .await?
            .into_inner();
        let mut ids = BTreeMap::new();
        // The stream stays open for new items: stop once it is quiet.
        while let Ok(Some(item)) =
            tokio::time::timeout(Duration::from_millis(500), stream.next()).await
        {
            let item = item?;
            *ids.entry(notice_id(&item.notice_id)).or_insert(0) += 1;
        }
        Ok(ids)
    }

    /// (notice, recipient) pairs of this agency's sent notices for which
    /// it holds an ACCEPTED receipt that verifies against the roster and
    /// names the exact body sent.
    async fn accepted(
        &mut self,
        cases: &BTreeSet<String>,
        roster: &TrustedRoster,
    ) -> Result<BTreeSet<(NoticeId, String)>, tonic::Status> {
        let mut pairs = BTreeSet::new();
        for case in cases {
            let mut page_token = Vec::new();
            loop {
                let page = self.clients[0]
                    .get_case_timeline(pb::GetCaseTimelineRequest {
                        case_id: case.clone(),
                        page_size: 500,
                        page_token,
                    })
                    .await?
                    .into_inner();
                for entry in page.entries {
                    if entry.direction != pb::Direction::Sent as i32 {
                        continue;
                    }
                    let notice = SignedNotice::try_from(entry.notice.unwrap()).unwrap();
                    let digest = body_digest(&notice);
                    for r in entry.receipts {
                        let signed = SignedReceipt::try_from(r).unwrap();
                        let receipt = roster
                            .verify_receipt(&signed, Timestamp::now())
                            .unwrap_or_else(|e| {
                                panic!("a receipt held by {} does not verify: {e}", self.agency)
                            });
                        if receipt.stage == ReceiptStage::Accepted {
                            assert_eq!(receipt.body_sha256, digest, "receipt for another body");
                            pairs.insert((receipt.notice_id, receipt.receiver.to_string()));
                        }
                    }
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
        }
        Ok(pairs)
    }

    async fn dead_letters(&mut self) -> usize {
        self.clients[0]
            .list_dead_letters(pb::ListDeadLettersRequest {
                page_size: 500,
                page_token: Vec::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .dead_letters
            .len()
    }
}

fn notice_id(bytes: &[u8]) -> NoticeId {
    NoticeId::from_bytes(bytes.try_into().unwrap())
}

/// A victim status update from `from` to the two other agencies.
fn draft(template: &NoticeBody, from: &str, case: &str) -> pb::NoticeBody {
    let mut body = template.clone();
    body.recipients = AGENCIES
        .iter()
        .filter(|a| **a != from)
        .map(|a| AgencyId::parse(a).unwrap())
        .collect();
    body.created_at = Timestamp::now();
    body.expires_at = body.created_at.plus_seconds(86_400);
    if let NoticeContent::VictimStatusUpdate(u) = &mut body.content {
        u.effective_at = body.created_at;
    }
    body.case_id = Some(CaseId::parse(case).unwrap());
    let mut wire = body.to_wire();
    wire.sender.clear();
    wire.sequence = 0;
    wire
}

/// The kinds of fault the schedule draws from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    /// SIGKILL a node (or replica), restart it after a random pause.
    Kill(&'static str),
    /// The proxy in front of an agency refuses connections for a while.
    Unreachable(&'static str),
    /// Indonesia's disk is full for a while.
    DiskFull,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_arrive_once_with_receipts_through_kills_outages_cuts_and_a_full_disk() {
    let seed = std::env::var("LINTAS_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    println!("fault schedule seed {seed} (LINTAS_FAULT_SEED={seed} replays it)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let per_agency = 500 * scale();

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    dev_setup(&dir, &[KHM, THA]);
    let disk = SmallDisk::mount(&dir.join("idn-disk"));
    if disk.is_none() {
        println!("not root: no tmpfs to fill, so this run has no full disk");
    }
    let database = lintas_testkit::postgres::database()
        .unwrap_or_else(|e| panic!("PostgreSQL for Thailand's replicas: {}", e.0));

    // Each agency is reached by its peers through a proxy that delays and
    // cuts connections; Thailand's balances over its two replicas.
    let mut listeners = BTreeMap::new();
    for agency in AGENCIES {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listeners.insert(agency, l);
    }
    let peers: String = listeners
        .iter()
        .map(|(a, l)| format!("\"{a}\" = \"https://{}\"\n", l.local_addr().unwrap()))
        .collect();
    let mut slots = Vec::new();
    for (name, agency) in [(IDN, IDN), (KHM, KHM), ("THA-a", THA), ("THA-b", THA)] {
        let (api, metrics) = (free_port(), free_port());
        let base = dir.join(agency).join("lintas.toml");
        let mut text = std::fs::read_to_string(&base).unwrap();
        text = text
            .lines()
            .map(|l| {
                if l.starts_with("listen = ") {
                    // Top-level keys go before the first table.
                    format!(
                        "listen = \"127.0.0.1:{api}\"\nmetrics_listen = \"127.0.0.1:{metrics}\""
                    )
                } else if l.starts_with("data_dir = ") && agency == IDN && disk.is_some() {
                    format!("data_dir = \"{}\"", dir.join("idn-disk").display())
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        text.push_str(&format!(
            "\n\n[peers]\n{peers}\n[delivery]\nmax_backoff_ms = 1000\n"
        ));
        if agency == THA {
            let replica = name.to_lowercase();
            text.push_str(&format!(
                "\n[postgres]\nurl = \"{database}\"\nreplica = \"{replica}\"\nlease_seconds = 2\npoll_ms = 200\n"
            ));
        }
        let config = dir
            .join(agency)
            .join(format!("{}.toml", name.to_lowercase()));
        std::fs::write(&config, text).unwrap();
        slots.push(Slot {
            name,
            config,
            api: format!("127.0.0.1:{api}").parse().unwrap(),
            metrics: format!("127.0.0.1:{metrics}").parse().unwrap(),
            process: None,
            kills: 0,
        });
    }
    let backends = |agency: &str| -> Vec<SocketAddr> {
        slots
            .iter()
            .filter(|s| s.name.starts_with(&agency[..3]))
            .map(|s| s.api)
            .collect()
    };
    let faults = ProxyFaults {
        cut_after_ms: Some((200, 3_000)),
        delay_ms: 5,
    };
    let mut proxies = BTreeMap::new();
    for (agency, listener) in listeners {
        let proxy = FaultyProxy::start_on(listener, backends(agency), faults).unwrap();
        proxies.insert(agency, proxy);
    }
    let case_systems: BTreeMap<&str, CaseSystem> = AGENCIES
        .iter()
        .map(|a| (*a, CaseSystem::new(&dir, a, &backends(a))))
        .collect();
    let network = Arc::new(Mutex::new(Network {
        slots,
        totals: Totals::default(),
    }));
    network.lock().await.start_all_stopped().await;

    // The workload: each case system submits its notices, paced so that
    // the faults fall among them.
    let template = lintas_testkit::scenario::one_of_each_kind(Timestamp::now())
        .into_iter()
        .find(|b| b.kind() == NoticeKind::VictimStatusUpdate)
        .unwrap();
    let retries = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for agency in AGENCIES {
        let mut cs = case_systems[agency].clone();
        let template = template.clone();
        let retries = Arc::clone(&retries);
        workers.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for i in 0..per_agency {
                let case = format!("FAULT-{}-{}", &agency[..3], i % 10);
                let (id, failed) = cs
                    .submit(draft(&template, agency, &case), format!("{agency}-{i}"))
                    .await;
                retries.fetch_add(failed, Ordering::SeqCst);
                sent.push((id, case));
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            sent
        }));
    }

    // The faults, one at a time at random moments until the workload is
    // submitted: every kind in each round, in random order.
    let chaos = {
        let network = Arc::clone(&network);
        let done = Arc::clone(&done);
        let proxies = Arc::new(proxies);
        let schedule_proxies = Arc::clone(&proxies);
        let disk = disk.map(Arc::new);
        let schedule_disk = disk.clone();
        let handle = tokio::spawn(async move {
            let mut log: Vec<(Fault, Duration)> = Vec::new();
            let mut disk_filled = 0u64;
            while !done.load(Ordering::SeqCst) {
                let mut round = vec![
                    Fault::Kill(IDN),
                    Fault::Kill(KHM),
                    Fault::Kill(if rng.bool() { "THA-a" } else { "THA-b" }),
                    Fault::Unreachable(AGENCIES[rng.usize(0..3)]),
                    Fault::DiskFull,
                ];
                rng.shuffle(&mut round);
                for fault in round {
                    if done.load(Ordering::SeqCst) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(rng.u64(500..1_500))).await;
                    let hold = Duration::from_millis(rng.u64(200..2_500));
                    match fault {
                        Fault::Kill(name) => {
                            let mut net = network.lock().await;
                            net.kill(name).await;
                            tokio::time::sleep(hold).await;
                            net.start(name).await;
                        }
                        Fault::Unreachable(agency) => {
                            schedule_proxies[agency].set_down(true);
                            tokio::time::sleep(hold).await;
                            schedule_proxies[agency].set_down(false);
                        }
                        Fault::DiskFull => {
                            let Some(disk) = &schedule_disk else { continue };
                            disk_filled += disk.fill();
                            tokio::time::sleep(hold).await;
                            disk.free();
                        }
                    }
                    log.push((fault, hold));
                }
            }
            (log, disk_filled)
        });
        (handle, proxies, disk)
    };

    let mut sent: Vec<(&str, NoticeId, String)> = Vec::new();
    for (agency, worker) in AGENCIES.iter().zip(workers) {
        for (id, case) in worker.await.unwrap() {
            sent.push((agency, id, case));
        }
    }
    done.store(true, Ordering::SeqCst);
    let (handle, proxies, disk) = chaos;
    let (log, disk_filled) = handle.await.unwrap();
    network.lock().await.start_all_stopped().await;
    let submitted = Instant::now();

    // Everything settles: each recipient holds each notice once, each
    // sender a verified ACCEPTED receipt from each recipient.
    let roster = TrustedRoster::bootstrap(
        SignedRoster::decode(&std::fs::read(dir.join("roster.bin")).unwrap()).unwrap(),
        Timestamp::now(),
    )
    .unwrap();
    let mut expected_inbox: BTreeMap<&str, BTreeSet<NoticeId>> = BTreeMap::new();
    let mut expected_receipts: BTreeMap<&str, BTreeSet<(NoticeId, String)>> = BTreeMap::new();
    let mut cases: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (sender, id, case) in &sent {
        for r in AGENCIES.iter().filter(|a| *a != sender) {
            expected_inbox.entry(r).or_default().insert(*id);
            expected_receipts
                .entry(sender)
                .or_default()
                .insert((*id, (*r).to_owned()));
        }
        cases.entry(sender).or_default().insert(case.clone());
    }
    let mut case_systems = case_systems;
    let mut pending = AGENCIES.to_vec();
    while !pending.is_empty() {
        assert!(
            submitted.elapsed() < Duration::from_secs(180),
            "not settled three minutes after the workload: {pending:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut still = Vec::new();
        for agency in pending {
            let cs = case_systems.get_mut(agency).unwrap();
            let inbox = cs.inbox().await;
            let receipts = cs.accepted(&cases[agency], &roster).await;
            let complete = match (inbox, receipts) {
                (Ok(inbox), Ok(receipts)) => {
                    let arrived: BTreeSet<NoticeId> = inbox.keys().copied().collect();
                    arrived == expected_inbox[agency]
                        && receipts.is_superset(&expected_receipts[agency])
                }
                _ => false,
            };
            if !complete {
                still.push(agency);
            }
        }
        pending = still;
    }
    let settled = submitted.elapsed();

    // Exactly once, no dead letter, and every store holds the same after
    // one more SIGKILL of every process and a restart.
    let mut inboxes = BTreeMap::new();
    for agency in AGENCIES {
        let cs = case_systems.get_mut(agency).unwrap();
        let inbox = cs.inbox().await.unwrap();
        let twice: Vec<_> = inbox.iter().filter(|(_, n)| **n != 1).collect();
        assert!(
            twice.is_empty(),
            "{agency} holds notices more than once: {twice:?}"
        );
        assert_eq!(cs.dead_letters().await, 0, "{agency} made dead letters");
        inboxes.insert(agency, inbox);
    }
    let mut net = network.lock().await;
    let names: Vec<&'static str> = net.slots.iter().map(|s| s.name).collect();
    for name in &names {
        net.kill(name).await;
    }
    net.start_all_stopped().await;
    for agency in AGENCIES {
        let cs = case_systems.get_mut(agency).unwrap();
        let again = cs.inbox().await.unwrap();
        assert_eq!(
            again, inboxes[agency],
            "{agency}'s store after a last SIGKILL"
        );
    }
    for name in &names {
        let text = scrape(net.slot(name).metrics);
        net.totals.add(&text);
    }

    let deliveries: usize = expected_inbox.values().map(BTreeSet::len).sum();
    let kills: Vec<String> = net
        .slots
        .iter()
        .map(|s| format!("{} {}", s.name, s.kills - 1))
        .collect();
    let count = |f: fn(&Fault) -> bool| log.iter().filter(|(fault, _)| f(fault)).count();
    let t = net.totals;
    println!(
        "process fault suite: {} notices, {} deliveries, each handed once to the recipient's case system with a verified ACCEPTED receipt at the sender; settled {:.1} s after the last submission",
        sent.len(),
        deliveries,
        settled.as_secs_f64()
    );
    println!(
        "faults: {} SIGKILLs ({}), {} peers unreachable, {} full disks ({} MiB of filler), {} connections cut and {} refused by the proxies",
        count(|f| matches!(f, Fault::Kill(_))),
        kills.join(", "),
        count(|f| matches!(f, Fault::Unreachable(_))),
        count(|f| matches!(f, Fault::DiskFull)),
        disk_filled >> 20,
        proxies.values().map(FaultyProxy::cuts).sum::<u64>(),
        proxies.values().map(FaultyProxy::refused).sum::<u64>(),
    );
    println!(
        "counts: {} duplicate deliveries suppressed, {} delivery calls failed, {} refused (retried), {} dead letters, {} submissions retried by the case systems",
        t.duplicates,
        t.failed,
        t.refused,
        t.dead_letters,
        retries.load(Ordering::SeqCst)
    );
    assert_eq!(t.dead_letters, 0);
    assert!(
        log.iter().any(|(f, _)| matches!(f, Fault::Kill(_))),
        "no node was killed during the workload"
    );
    // The nodes stop before Indonesia's disk is unmounted.
    for slot in &mut net.slots {
        slot.process.take();
    }
    drop(disk);
}
