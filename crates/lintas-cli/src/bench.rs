//! `lintas bench`: a load generator. It sets up a development network,
//! starts real `lintas node` processes (mutual TLS, durable stores) on
//! loopback, drives notices through their agency API, and prints what it
//! measured beside the single-core Ed25519 rates of the same run.
//!
//! Scenarios: steady load (and latency at half of it), idle latency, a
//! raid, a backlog after an outage, a broadcast, store growth. Node CPU
//! time and peak memory are read from `/proc`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use lintas_core::ids::{AgencyId, CaseId, RecordId};
use lintas_core::notice::{Handling, NoticeBody, NoticeContent, VictimStatusUpdate};
use lintas_core::pb;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{AgencyKind, LegalTreatment, Priority, ReceiptStage, Tlp, VictimStatus};

use lintas_grpc::pki::PemPair;
use lintas_grpc::tls::TlsMaterial;
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::sync::Notify;
use tokio_stream::StreamExt;
use tonic::transport::Endpoint;

use crate::Error;
use crate::setup::{case_system_name, create, dns_name};

/// Which scenario to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scenario {
    /// Notices as fast as two nodes take them; then latency at half that rate.
    Steady,
    /// One urgent notice at a time between two idle nodes.
    Idle,
    /// 5,000 victim status updates over 50 cases to 5 origin agencies.
    Raid,
    /// A peer down while notices queue, then back.
    Backlog,
    /// One alert to 50 agencies.
    Broadcast,
    /// Ingest rate, lookup latency and memory as the store grows.
    Growth,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Small sizes: finishes within a minute.
    #[arg(long)]
    quick: bool,
    /// Print one JSON object instead of a report.
    #[arg(long)]
    json: bool,
    /// Scenarios to run (repeat the flag); all if none is given.
    #[arg(long = "scenario", value_enum)]
    scenarios: Vec<Scenario>,
    /// Keep configs, stores and node logs here instead of a temporary
    /// directory.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Each node's per-peer rate limit (items per second, burst four times
    /// that); unlimited if absent, so that the limit is not what is
    /// measured.
    #[arg(long)]
    peer_rate: Option<u32>,
    /// Delivery calls in flight to one peer (the nodes' `[delivery]
    /// window`); the node's default if absent.
    #[arg(long)]
    window: Option<usize>,
}

/// The `--window` of this run, for every network it creates.
static WINDOW: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();

/// One node process and how to reach its agency API.
struct Running {
    child: Child,
    client: lintas_grpc::AgencyClient,
}

/// A development network of node processes.
struct Net {
    dir: PathBuf,
    agencies: Vec<(AgencyId, u16)>,
    nodes: BTreeMap<AgencyId, Running>,
}

/// `count` distinct free ports (all held until every one is chosen, so the
/// system cannot hand out one twice).
fn free_ports(count: usize) -> Result<Vec<u16>, Error> {
    let held = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(held
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<Vec<_>, _>>()?)
}

impl Net {
    /// Writes a network of `count` agencies under `dir` (none started).
    fn create(dir: &Path, count: usize) -> Result<Net, Error> {
        Net::create_limited(dir, count, None)
    }

    fn create_limited(dir: &Path, count: usize, peer_rate: Option<u32>) -> Result<Net, Error> {
        let states = [
            "IDN", "KHM", "THA", "PHL", "VNM", "MMR", "LAO", "MYS", "SGP", "BRN",
        ];
        let mut agencies = Vec::new();
        for (i, port) in free_ports(count)?.into_iter().enumerate() {
            let state = states[i % states.len()];
            let id = AgencyId::parse(&format!("{state}.BENCH.N{i}"))?;
            agencies.push((id, port));
        }
        let spec: Vec<(AgencyId, AgencyKind, u16)> = agencies
            .iter()
            .map(|(id, port)| (id.clone(), AgencyKind::Police, *port))
            .collect();
        // A load test: limits high enough not to be what is measured,
        // unless asked for.
        let (rate, burst) = peer_rate.map_or((1_000_000, 1_000_000), |r| (r, r.saturating_mul(4)));
        let extra = format!(
            "\n[limits]\npeer_requests_per_second = {rate}\npeer_burst = {burst}\npeer_kib_per_day = {}\n",
            u32::MAX
        );
        create(dir, &spec, &extra)?;
        Ok(Net {
            dir: dir.to_path_buf(),
            agencies,
            nodes: BTreeMap::new(),
        })
    }

    fn id(&self, i: usize) -> AgencyId {
        self.agencies[i].0.clone()
    }

    /// Starts the node of agency `i` and waits until its API answers.
    async fn start(&mut self, i: usize) -> Result<(), Error> {
        let (id, port) = self.agencies[i].clone();
        let log = std::fs::File::create(self.dir.join(format!("{id}.log")))?;
        let child = Command::new(std::env::current_exe()?)
            .arg("node")
            .arg("--config")
            .arg(self.dir.join(format!("{id}/lintas.toml")))
            .env("LINTAS_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?;
        let tls = TlsMaterial {
            ca_pem: std::fs::read_to_string(self.dir.join("pki/ca.pem"))?,
            identity: PemPair {
                cert: std::fs::read_to_string(
                    self.dir.join(format!("pki/{}.pem", case_system_name(&id))),
                )?,
                key: std::fs::read_to_string(
                    self.dir.join(format!("pki/{}.key", case_system_name(&id))),
                )?,
            },
        };
        let endpoint = Endpoint::from_shared(format!("https://127.0.0.1:{port}"))?
            .tls_config(tls.client_config(&dns_name(&id)))?
            .tcp_nodelay(true);
        let started = Instant::now();
        let channel = loop {
            match endpoint.connect().await {
                Ok(channel) => break channel,
                Err(_) if started.elapsed() < Duration::from_secs(20) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => return Err(format!("node {id} did not start: {e}").into()),
            }
        };
        self.nodes.insert(
            id,
            Running {
                child,
                client: lintas_grpc::agency_client(channel, bench_officer()?),
            },
        );
        Ok(())
    }

    fn client(&self, i: usize) -> Result<lintas_grpc::AgencyClient, Error> {
        Ok(self
            .nodes
            .get(&self.agencies[i].0)
            .ok_or("node not running")?
            .client
            .clone())
    }

    /// (CPU seconds so far, peak resident MiB) of each running node.
    fn usage(&self) -> Vec<(f64, f64)> {
        self.nodes
            .values()
            .filter_map(|n| n.child.id())
            .map(|pid| {
                (
                    cpu_seconds(pid).unwrap_or(0.0),
                    peak_rss_mib(pid).unwrap_or(0.0),
                )
            })
            .collect()
    }

    async fn shutdown(mut self) {
        for (_, mut node) in std::mem::take(&mut self.nodes) {
            let _ = node.child.kill().await;
        }
    }
}

/// User plus system CPU time of a process (Linux; 100 ticks a second).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Peak resident memory of a process, MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// A victim status update from `from` to `to` about `case`.
fn update(
    from: &AgencyId,
    to: &[AgencyId],
    case: &str,
    victim: usize,
    priority: Priority,
) -> Result<pb::NoticeBody, Error> {
    let now = Timestamp::now();
    let content = NoticeContent::VictimStatusUpdate(VictimStatusUpdate::new(
        RecordId::parse(&format!("V-{victim:05}"))?,
        VictimStatus::InProtection,
        VictimStatus::InProtection,
        LegalTreatment::Victim,
        now,
    ));
    let mut body = NoticeBody::new(
        from.clone(),
        1,
        now,
        now.plus_seconds(7 * 86_400),
        to.to_vec(),
        Handling::new(Tlp::Amber, priority).with_deadline(now.plus_seconds(86_400)),
        content,
    );
    body.case_id = Some(CaseId::parse(case)?);
    let mut wire = body.to_wire();
    wire.sender.clear();
    wire.sequence = 0;
    Ok(wire)
}

/// `count` routine updates from node 0 to node 1, spread over `cases` cases
/// named `<prefix>-<n>`.
fn routine_updates(
    net: &Net,
    prefix: &str,
    count: usize,
    cases: usize,
) -> Result<Vec<pb::NoticeBody>, Error> {
    let (from, to) = (net.id(0), net.id(1));
    (0..count)
        .map(|i| {
            update(
                &from,
                std::slice::from_ref(&to),
                &format!("{prefix}-{}", i % cases),
                i,
                Priority::Routine,
            )
        })
        .collect()
}

/// When each receipt arrived, by notice id, as the sender's node reports
/// them.
#[derive(Default)]
struct Receipts {
    arrived: Mutex<BTreeMap<Vec<u8>, Vec<Instant>>>,
    count: Mutex<u64>,
    changed: Notify,
}

impl Receipts {
    /// Follows `client`'s ACCEPTED receipts until the returned handle is
    /// aborted.
    async fn follow(client: &mut lintas_grpc::AgencyClient) -> Result<Arc<Receipts>, Error> {
        let receipts = Arc::new(Receipts::default());
        let mut stream = client
            .subscribe_receipts(pb::SubscribeReceiptsRequest {})
            .await?
            .into_inner();
        let r = Arc::clone(&receipts);
        tokio::spawn(async move {
            while let Some(Ok(event)) = stream.next().await {
                let now = Instant::now();
                if event.missed > 0 {
                    if let Ok(mut c) = r.count.lock() {
                        *c += event.missed;
                    }
                } else if event.stage == ReceiptStage::Accepted.to_wire() {
                    if let Ok(mut a) = r.arrived.lock() {
                        a.entry(event.notice_id).or_default().push(now);
                    }
                    if let Ok(mut c) = r.count.lock() {
                        *c += 1;
                    }
                }
                r.changed.notify_waiters();
            }
        });
        Ok(receipts)
    }

    fn count(&self) -> u64 {
        self.count.lock().map(|c| *c).unwrap_or(0)
    }

    async fn wait_for(&self, count: u64, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            if self.count() >= count {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(
                    format!("only {} of {count} receipts in {timeout:?}", self.count()).into(),
                );
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
        }
    }

    /// The last receipt's arrival for `id`, once all `expected` are in.
    fn arrival(&self, id: &[u8], expected: usize) -> Option<Instant> {
        let arrived = self.arrived.lock().ok()?;
        let times = arrived.get(id)?;
        (times.len() >= expected).then(|| times.iter().max().copied())?
    }
}

/// Submits `bodies` through up to `concurrency` calls at once; returns the
/// id and start time of each.
async fn submit_all(
    client: &lintas_grpc::AgencyClient,
    bodies: Vec<pb::NoticeBody>,
    concurrency: usize,
) -> Result<Vec<(Vec<u8>, Instant)>, Error> {
    let queue = Arc::new(Mutex::new(
        bodies.into_iter().enumerate().collect::<Vec<_>>(),
    ));
    if let Ok(mut q) = queue.lock() {
        q.reverse();
    }
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let queue = Arc::clone(&queue);
        let mut client = client.clone();
        tasks.spawn(async move {
            let mut done = Vec::new();
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((i, body)) = next else { break };
                let start = Instant::now();
                let response = client
                    .submit_notice(pb::SubmitNoticeRequest {
                        draft: Some(body),
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| format!("submit: {:?} {}", e.code(), e.message()))?;
                done.push((i, response.into_inner().notice_id, start));
            }
            Ok::<_, String>(done)
        });
    }
    let mut all = Vec::new();
    while let Some(result) = tasks.join_next().await {
        all.extend(result??);
    }
    all.sort_by_key(|(i, _, _)| *i);
    Ok(all.into_iter().map(|(_, id, start)| (id, start)).collect())
}

/// Latency percentiles in milliseconds.
fn percentiles(mut ms: Vec<f64>) -> Value {
    if ms.is_empty() {
        return json!(null);
    }
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let i = ((ms.len() as f64 - 1.0) * p).round() as usize;
        (ms[i.min(ms.len() - 1)] * 1000.0).round() / 1000.0
    };
    json!({"p50_ms": at(0.50), "p99_ms": at(0.99), "p999_ms": at(0.999), "max_ms": at(1.0), "count": ms.len()})
}

fn latencies(receipts: &Receipts, sent: &[(Vec<u8>, Instant)], expected: usize) -> Vec<f64> {
    sent.iter()
        .filter_map(|(id, start)| {
            receipts
                .arrival(id, expected)
                .map(|t| t.saturating_duration_since(*start).as_secs_f64() * 1000.0)
        })
        .collect()
}

/// Single-core Ed25519 rates (sign, verify_strict) per second, measured
/// over `seconds` each.
fn ed25519_rates(seconds: f64) -> (f64, f64) {
    use ed25519_dalek::{Signer, SigningKey};
    let key = SigningKey::from_bytes(&[7; 32]);
    let message = vec![0x5a_u8; 300];
    let rate = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed().as_secs_f64() < seconds {
            for _ in 0..64 {
                f();
            }
            n += 64;
        }
        n as f64 / start.elapsed().as_secs_f64()
    };
    let sign = rate(&mut || {
        std::hint::black_box(key.sign(std::hint::black_box(&message)));
    });
    let signature = key.sign(&message);
    let public = key.verifying_key();
    let verify = rate(&mut || {
        let ok = public.verify_strict(std::hint::black_box(&message), &signature);
        std::hint::black_box(ok.is_ok());
    });
    (sign, verify)
}

/// `lintas bench`.
pub(crate) async fn run(args: &BenchArgs) -> Result<(), Error> {
    let scenarios: Vec<Scenario> = if args.scenarios.is_empty() {
        Scenario::value_variants().to_vec()
    } else {
        args.scenarios.clone()
    };
    let temp;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            temp = TempDir::new()?;
            temp.0.clone()
        }
    };
    let quick = args.quick;
    let _ = WINDOW.set(args.window);
    let say = |line: String| {
        if !args.json {
            eprintln!("{line}");
        }
    };
    let crypto_seconds = if quick { 0.3 } else { 1.0 };
    let (sign_rate, verify_rate) = ed25519_rates(crypto_seconds);
    say(format!(
        "ed25519 single core: sign {sign_rate:.0}/s, verify_strict {verify_rate:.0}/s"
    ));
    let mut report = serde_json::Map::new();
    report.insert("machine".into(), json!(machine()));
    report.insert("quick".into(), json!(quick));
    report.insert("sign_per_s".into(), json!(sign_rate.round()));
    report.insert("verify_strict_per_s".into(), json!(verify_rate.round()));
    let mut scenario_reports = serde_json::Map::new();
    for (n, scenario) in scenarios.iter().enumerate() {
        let sub = dir.join(format!("{n}-{scenario:?}").to_lowercase());
        std::fs::create_dir_all(&sub)?;
        say(format!("== {scenario:?}"));
        let outcome = match scenario {
            Scenario::Steady => steady(&sub, quick).await,
            Scenario::Idle => idle(&sub, quick, args.peer_rate).await,
            Scenario::Raid => raid(&sub, quick).await,
            Scenario::Backlog => backlog(&sub, quick).await,
            Scenario::Broadcast => broadcast(&sub, quick).await,
            Scenario::Growth => growth(&sub, quick).await,
        };
        // One failed scenario is reported; the others still run.
        let result = outcome.unwrap_or_else(|e| json!({"error": e.to_string()}));
        say(serde_json::to_string_pretty(&result)?);
        if *scenario == Scenario::Steady {
            let rate = result["notices_per_s"].as_f64().unwrap_or(0.0);
            report.insert("notices_per_s".into(), json!(rate.round()));
            report.insert(
                "ratio".into(),
                json!(((rate / verify_rate) * 1000.0).round() / 1000.0),
            );
            for key in ["p50_ms", "p99_ms", "p999_ms"] {
                report.insert(key.into(), result["latency"][key].clone());
            }
            report.insert(
                "cpu_us_per_notice".into(),
                result["cpu_us_per_notice"].clone(),
            );
        }
        if *scenario == Scenario::Idle {
            report.insert("idle_p50_ms".into(), result["latency"]["p50_ms"].clone());
            report.insert("idle_p99_ms".into(), result["latency"]["p99_ms"].clone());
        }
        let peak = result["rss_peak_mib"].as_f64().unwrap_or(0.0);
        let so_far = report
            .get("rss_peak_mib")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        report.insert("rss_peak_mib".into(), json!(peak.max(so_far)));
        scenario_reports.insert(format!("{scenario:?}").to_lowercase(), result);
    }
    let failed: Vec<String> = scenario_reports
        .iter()
        .filter(|(_, r)| r.get("error").is_some())
        .map(|(name, _)| name.clone())
        .collect();
    report.insert("scenarios".into(), Value::Object(scenario_reports));
    let report = Value::Object(report);
    if !failed.is_empty() {
        if args.json {
            println!("{}", serde_json::to_string(&report)?);
        }
        return Err(format!("scenarios failed: {}", failed.join(", ")).into());
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", summary(&report));
    }
    Ok(())
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(String::new(), |kib| {
            format!(", {:.0} GiB", kib / 1024.0 / 1024.0)
        });
    format!("{cores} cores{memory}")
}

fn summary(report: &Value) -> String {
    let f = |k: &str| {
        report[k]
            .as_f64()
            .map_or("-".to_owned(), |v| format!("{v}"))
    };
    format!(
        "lintas bench ({}): steady {} notices/s = {}x verify_strict ({}/s); \
         p50 {} ms, p99 {} ms, p99.9 {} ms; idle p50 {} ms, p99 {} ms; \
         {} us CPU per notice; peak RSS {} MiB",
        report["machine"].as_str().unwrap_or(""),
        f("notices_per_s"),
        f("ratio"),
        f("verify_strict_per_s"),
        f("p50_ms"),
        f("p99_ms"),
        f("p999_ms"),
        f("idle_p50_ms"),
        f("idle_p99_ms"),
        f("cpu_us_per_notice"),
        f("rss_peak_mib"),
    )
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "lintas-bench-{}-{}",
            std::process::id(),
            Timestamp::now().unix_seconds()
        ));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Adds each node's peak memory to a scenario's result and stops the nodes.
async fn finish(net: Net, mut result: Value) -> Result<Value, Error> {
    result["rss_peak_mib"] = json!(peak(&net));
    result["rss_peak_mib_each"] = peaks(&net);
    net.shutdown().await;
    Ok(result)
}

fn peak(net: &Net) -> f64 {
    net.usage().iter().map(|(_, rss)| *rss).fold(0.0, f64::max)
}

/// Peak resident MiB of each node, by agency.
fn peaks(net: &Net) -> Value {
    let mut each = serde_json::Map::new();
    for (id, node) in &net.nodes {
        if let Some(rss) = node.child.id().and_then(peak_rss_mib) {
            each.insert(id.to_string(), json!((rss * 10.0).round() / 10.0));
        }
    }
    Value::Object(each)
}

fn cpu(net: &Net) -> f64 {
    net.usage().iter().map(|(c, _)| *c).sum()
}

/// Sends `count` notices from node 0 to node 1 over `cases` cases as fast
/// as `concurrency` submitters go; returns (rate, latencies, seconds).
async fn load(
    net: &Net,
    receipts: &Receipts,
    count: usize,
    cases: usize,
    concurrency: usize,
) -> Result<(f64, Vec<f64>, f64), Error> {
    let bodies = routine_updates(net, "BENCH", count, cases)?;
    let before = receipts.count();
    let start = Instant::now();
    let sent = submit_all(&net.client(0)?, bodies, concurrency).await?;
    receipts
        .wait_for(before + count as u64, Duration::from_secs(600))
        .await?;
    let seconds = start.elapsed().as_secs_f64();
    Ok((
        count as f64 / seconds,
        latencies(receipts, &sent, 1),
        seconds,
    ))
}

async fn steady(dir: &Path, quick: bool) -> Result<Value, Error> {
    let mut net = Net::create(dir, 2)?;
    net.start(0).await?;
    net.start(1).await?;
    let receipts = Receipts::follow(&mut net.client(0)?).await?;
    let count = if quick { 3_000 } else { 30_000 };
    // Warm up connections and caches.
    load(&net, &receipts, 200, 50, 32).await?;
    let cpu_before = cpu(&net);
    let (rate, lat, seconds) = load(&net, &receipts, count, 500, 128).await?;
    let cpu_used = cpu(&net) - cpu_before;
    // Half of the measured peak, paced.
    let half = rate / 2.0;
    let paced_count = if quick { 1_000 } else { 10_000 };
    let (from, to) = (net.id(0), net.id(1));
    let client = net.client(0)?;
    let interval = Duration::from_secs_f64(1.0 / half);
    let before = receipts.count();
    let mut tasks = tokio::task::JoinSet::new();
    let start = Instant::now();
    for i in 0..paced_count {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let body = update(
            &from,
            std::slice::from_ref(&to),
            &format!("HALF-{}", i % 500),
            i,
            Priority::Routine,
        )?;
        let mut client = client.clone();
        tasks.spawn(async move {
            let t = Instant::now();
            client
                .submit_notice(pb::SubmitNoticeRequest {
                    draft: Some(body),
                    ..Default::default()
                })
                .await
                .map(|r| (r.into_inner().notice_id, t))
        });
    }
    let mut sent = Vec::new();
    while let Some(r) = tasks.join_next().await {
        sent.push(r?.map_err(|e| format!("submit: {e}"))?);
    }
    receipts
        .wait_for(before + paced_count as u64, Duration::from_secs(300))
        .await?;
    let half_lat = latencies(&receipts, &sent, 1);
    let result = json!({
        "notices": count,
        "seconds": seconds,
        "notices_per_s": rate,
        "latency": percentiles(lat),
        "half_load": {"notices_per_s": half, "latency": percentiles(half_lat)},
        "cpu_us_per_notice": (cpu_used / count as f64 * 1e6).round(),
    });
    finish(net, result).await
}

async fn idle(dir: &Path, quick: bool, peer_rate: Option<u32>) -> Result<Value, Error> {
    let mut net = Net::create_limited(dir, 2, peer_rate)?;
    net.start(0).await?;
    net.start(1).await?;
    let receipts = Receipts::follow(&mut net.client(0)?).await?;
    let (from, to) = (net.id(0), net.id(1));
    let mut client = net.client(0)?;
    let count = if quick { 300 } else { 3_000 };
    let mut lat = Vec::with_capacity(count);
    let mut submit_lat: Vec<f64> = Vec::with_capacity(count);
    for i in 0..count + 20 {
        let body = update(
            &from,
            std::slice::from_ref(&to),
            &format!("IDLE-{i}"),
            i,
            Priority::Urgent,
        )?;
        let before = receipts.count();
        let start = Instant::now();
        let id = client
            .submit_notice(pb::SubmitNoticeRequest {
                draft: Some(body),
                ..Default::default()
            })
            .await?
            .into_inner()
            .notice_id;
        let submitted = start.elapsed().as_secs_f64() * 1000.0;
        receipts
            .wait_for(before + 1, Duration::from_secs(30))
            .await?;
        if i >= 20
            && let Some(t) = receipts.arrival(&id, 1)
        {
            lat.push(t.saturating_duration_since(start).as_secs_f64() * 1000.0);
            submit_lat.push(submitted);
        }
    }
    // Calibration: the round trip of a call that does almost nothing.
    let mut trivial = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        client
            .get_case_timeline(pb::GetCaseTimelineRequest {
                case_id: "NO-SUCH-CASE".into(),
                ..Default::default()
            })
            .await?;
        trivial.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let result = json!({
        "notices": count,
        "latency": percentiles(lat),
        "submit_answered": percentiles(submit_lat),
        "empty_call_round_trip": percentiles(trivial),
    });
    finish(net, result).await
}

async fn raid(dir: &Path, quick: bool) -> Result<Value, Error> {
    let mut net = Net::create(dir, 6)?;
    for i in 0..6 {
        net.start(i).await?;
    }
    let receipts = Receipts::follow(&mut net.client(0)?).await?;
    let count = if quick { 1_000 } else { 5_000 };
    let from = net.id(0);
    let origins: Vec<AgencyId> = (1..6).map(|i| net.id(i)).collect();
    let bodies = (0..count)
        .map(|i| {
            let case = i % 50;
            update(
                &from,
                std::slice::from_ref(&origins[case % 5]),
                &format!("RAID-{case}"),
                i,
                Priority::High,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let cpu_before = cpu(&net);
    let start = Instant::now();
    let sent = submit_all(&net.client(0)?, bodies, 64).await?;
    receipts
        .wait_for(count as u64, Duration::from_secs(600))
        .await?;
    let seconds = start.elapsed().as_secs_f64();
    let result = json!({
        "notices": count, "cases": 50, "recipients": 5, "seconds": seconds,
        "notices_per_s": count as f64 / seconds,
        "latency": percentiles(latencies(&receipts, &sent, 1)),
        "cpu_us_per_notice": ((cpu(&net) - cpu_before) / count as f64 * 1e6).round(),
    });
    finish(net, result).await
}

async fn backlog(dir: &Path, quick: bool) -> Result<Value, Error> {
    let mut net = Net::create(dir, 2)?;
    net.start(0).await?;
    let receipts = Receipts::follow(&mut net.client(0)?).await?;
    let count = if quick { 5_000 } else { 100_000 };
    let (from, to) = (net.id(0), net.id(1));
    let bodies = routine_updates(&net, "BACKLOG", count, 1000)?;
    let queued_start = Instant::now();
    submit_all(&net.client(0)?, bodies, 64).await?;
    let urgent = update(
        &from,
        std::slice::from_ref(&to),
        "BACKLOG-URGENT",
        0,
        Priority::Urgent,
    )?;
    let urgent_id = net
        .client(0)?
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(urgent),
            ..Default::default()
        })
        .await?
        .into_inner()
        .notice_id;
    let queue_seconds = queued_start.elapsed().as_secs_f64();
    let back = Instant::now();
    net.start(1).await?;
    receipts
        .wait_for(count as u64 + 1, Duration::from_secs(1200))
        .await?;
    let drained = back.elapsed().as_secs_f64();
    let (first, urgent_at) = {
        let arrived = receipts.arrived.lock().map_err(|_| "lock")?;
        let first = arrived.values().flatten().min().copied();
        (
            first,
            arrived.get(&urgent_id).and_then(|t| t.first().copied()),
        )
    };
    let first_s = first.map(|t| t.saturating_duration_since(back).as_secs_f64());
    let urgent_s = urgent_at.map(|t| t.saturating_duration_since(back).as_secs_f64());
    let drain_rate = first_s.map(|f| count as f64 / (drained - f).max(1e-9));
    let result = json!({
        "queued": count,
        "queued_per_s": count as f64 / queue_seconds,
        "first_delivery_after_restart_s": first_s,
        "urgent_delivered_after_restart_s": urgent_s,
        "urgent_was_first": urgent_at.is_some() && urgent_at == first,
        "drain_notices_per_s": drain_rate,
    });
    finish(net, result).await
}

async fn broadcast(dir: &Path, quick: bool) -> Result<Value, Error> {
    let recipients = if quick { 10 } else { 50 };
    let mut net = Net::create(dir, recipients + 1)?;
    for i in 0..=recipients {
        net.start(i).await?;
    }
    let receipts = Receipts::follow(&mut net.client(0)?).await?;
    let to: Vec<AgencyId> = (1..=recipients).map(|i| net.id(i)).collect();
    let body = update(&net.id(0), &to, "BROADCAST", 1, Priority::Urgent)?;
    let start = Instant::now();
    let id = net
        .client(0)?
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(body),
            ..Default::default()
        })
        .await?
        .into_inner()
        .notice_id;
    receipts
        .wait_for(recipients as u64, Duration::from_secs(120))
        .await?;
    let all = receipts
        .arrival(&id, recipients)
        .map(|t| t.saturating_duration_since(start).as_secs_f64() * 1000.0);
    let result = json!({
        "recipients": recipients,
        "all_receipts_ms": all,
    });
    finish(net, result).await
}

async fn growth(dir: &Path, quick: bool) -> Result<Value, Error> {
    let mut net = Net::create(dir, 2)?;
    net.start(0).await?;
    net.start(1).await?;
    let receipts = Receipts::follow(&mut net.client(0)?).await?;
    let levels: &[usize] = if quick {
        &[1_000, 10_000]
    } else {
        &[10_000, 100_000, 1_000_000]
    };
    let mut stored = 0usize;
    let mut rows = Vec::new();
    for &level in levels {
        let step = level - stored;
        let (rate, _, _) = load(&net, &receipts, step, 10_000, 128).await?;
        stored = level;
        // Lookups on the receiving node: one case's timeline.
        let mut client = net.client(1)?;
        let mut lat = Vec::new();
        for i in 0..200 {
            let start = Instant::now();
            client
                .get_case_timeline(pb::GetCaseTimelineRequest {
                    case_id: format!("BENCH-{}", i * 37 % 10_000),
                    ..Default::default()
                })
                .await?;
            lat.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        let usage = net.usage();
        rows.push(json!({
            "stored": level,
            "ingest_notices_per_s": rate,
            "timeline_lookup": percentiles(lat),
            "rss_mib": usage.iter().map(|(_, r)| *r).collect::<Vec<_>>(),
        }));
    }
    finish(net, json!({ "levels": rows })).await
}

/// The officer the load generator's case systems call as.
fn bench_officer() -> Result<lintas_grpc::Officer, Error> {
    lintas_grpc::Officer::new("lintas.bench").map_err(|e| e.to_string().into())
}
