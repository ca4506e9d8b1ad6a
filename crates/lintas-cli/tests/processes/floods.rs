//! The adversarial suite against a running `lintas node` process
//! (Cambodia's): floods of connections, TLS handshakes, streams, oversized
//! messages and deeply nested messages, from strangers and from a member
//! agency gone bad (Thailand, with a valid certificate and key), each while
//! an honest peer (Indonesia) delivers notices over its own connection.
//!
//! Checks that every honest delivery is accepted, that the flood is refused
//! with the documented status and reason, and that nothing the flood sent
//! is stored. Prints, per flood, what was sent, the honest peer's latency
//! as a ratio of its latency with no flood in the same run, and the node
//! process's resident memory and open file descriptors.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lintas_core::Zeroizing;
use lintas_core::ids::{AgencyId, KeyId};
use lintas_core::keys::SigningKey;
use lintas_core::notice::{NoticeBody, NoticeContent};
use lintas_core::pb;
use lintas_core::signing::{NOTICE_PAYLOAD_TYPE, SignedNotice, notice_id_of, pae};
use lintas_core::time::Timestamp;
use lintas_core::vocab::NoticeKind;

use lintas_grpc::pb::peer_exchange_client::PeerExchangeClient;
use lintas_grpc::pki::PemPair;
use lintas_grpc::tls::TlsMaterial;
use tokio::task::JoinSet;
use tokio_stream::StreamExt;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

use super::{NodeProcess, dev_setup, dns, free_port};

const IDN: &str = "IDN.KEMLU.PWNI";
const KHM: &str = "KHM.MOI.ATHP";
const THA: &str = "THA.RTP.ATPD";

/// How long the honest peer delivers during each phase.
const PHASE: Duration = Duration::from_secs(3);

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A signing key from a `dev-setup` key file.
fn key(dir: &Path, agency: &str) -> (SigningKey, [u8; 32]) {
    let json: serde_json::Value =
        serde_json::from_str(&read(&dir.join("keys").join(format!("{agency}.json")))).unwrap();
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(json["seed_hex"].as_str().unwrap(), seed.as_mut()).unwrap();
    let key_id = KeyId::parse(json["key_id"].as_str().unwrap()).unwrap();
    (SigningKey::from_seed(key_id, &seed).unwrap(), *seed)
}

/// A channel to `addr` with `identity` (a node's or a case system's PEM
/// files under pki/, by DNS name), or with no client certificate.
fn endpoint(dir: &Path, addr: SocketAddr, identity: Option<&str>) -> Endpoint {
    let pki = dir.join("pki");
    let tls = match identity {
        Some(name) => TlsMaterial {
            ca_pem: read(&pki.join("ca.pem")),
            identity: PemPair {
                cert: read(&pki.join(format!("{name}.pem"))),
                key: read(&pki.join(format!("{name}.key"))),
            },
        }
        .client_config(&dns(KHM)),
        None => ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(read(
                &pki.join("ca.pem"),
            )))
            .domain_name(dns(KHM)),
    };
    Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
}

/// A victim status update from Indonesia to Cambodia, created now.
fn honest_notice(template: &NoticeBody, key: &SigningKey) -> SignedNotice {
    let mut body = template.clone();
    body.sender = AgencyId::parse(IDN).unwrap();
    body.recipients = vec![AgencyId::parse(KHM).unwrap()];
    body.created_at = Timestamp::now();
    body.expires_at = body.created_at.plus_seconds(86_400);
    if let NoticeContent::VictimStatusUpdate(u) = &mut body.content {
        u.effective_at = body.created_at;
    }
    SignedNotice::sign(&body, key).unwrap().1
}

/// Signed body bytes that are a valid id and signature around `rest`:
/// only the exact-bytes walk can refuse them.
fn signed_raw(rest: &[u8], signer: &str, key_id: &str, seed: &[u8; 32]) -> pb::SignedNotice {
    let mut body = vec![0x0A, 0x20];
    body.extend_from_slice(notice_id_of(rest).as_bytes());
    body.extend_from_slice(rest);
    let message = pae(NOTICE_PAYLOAD_TYPE, signer, key_id, &body);
    let signature = {
        use ed25519_dalek::Signer;
        ed25519_dalek::SigningKey::from_bytes(seed).sign(&message)
    };
    pb::SignedNotice {
        payload_type: NOTICE_PAYLOAD_TYPE.into(),
        signer: signer.into(),
        key_id: key_id.into(),
        body,
        signature: signature.to_bytes().to_vec(),
        disclosures: Vec::new(),
    }
}

/// `depth` groups of field 15, each inside the last: a nesting no schema
/// bounds, since a decoder must match every start with its end.
fn nested_groups(depth: usize) -> Vec<u8> {
    let mut bytes = vec![0x7Bu8; depth]; // field 15, start group
    bytes.extend(std::iter::repeat_n(0x7Cu8, depth)); // field 15, end group
    bytes
}

/// Raw bytes as a gRPC request, for messages no generated type can make.
#[derive(Clone, Default)]
struct RawCodec;

struct RawEncoder;
struct RawDecoder;

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf;
        let mut out = vec![0u8; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

async fn raw_deliver(channel: Channel, bytes: Vec<u8>) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    grpc.unary(
        tonic::Request::new(bytes),
        http::uri::PathAndQuery::from_static("/lintas.v1.PeerExchange/Deliver"),
        RawCodec,
    )
    .await
    .map(tonic::Response::into_inner)
}

fn reason(status: &tonic::Status) -> String {
    status
        .metadata()
        .get("lintas-reason")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// What the node process holds: resident memory (KiB) and open files.
fn resources(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64);
    (rss, fds)
}

/// What one flood did, by outcome (refusal reason, "closed", ...).
#[derive(Default)]
struct Tally(std::sync::Mutex<BTreeMap<String, u64>>);

impl Tally {
    fn add(&self, what: &str) {
        *self.0.lock().unwrap().entry(what.to_owned()).or_insert(0) += 1;
    }

    fn outcome(&self, result: Result<Vec<u8>, tonic::Status>) {
        match result {
            Ok(_) => self.add("accepted"),
            Err(status) => match reason(&status) {
                // No answer from the node: the client library's own error
                // (a handshake refused, a call cut when the flood stops).
                r if r.is_empty() => self.add(&format!("{:?} (no answer)", status.code())),
                r => self.add(&format!("{:?}/{r}", status.code())),
            },
        }
    }

    fn summary(&self) -> String {
        let map = self.0.lock().unwrap();
        map.iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn get(&self, what: &str) -> u64 {
        self.0.lock().unwrap().get(what).copied().unwrap_or(0)
    }
}

/// The honest peer's latencies over one phase, and the node's peak memory
/// and file descriptors meanwhile.
struct Phase {
    latencies: Vec<Duration>,
    peak_rss_kib: u64,
    peak_fds: u64,
}

impl Phase {
    fn percentile(&self, p: usize) -> Duration {
        let mut l = self.latencies.clone();
        l.sort();
        l[(l.len() * p / 100).min(l.len() - 1)]
    }
}

async fn honest_phase(
    peer: &mut PeerExchangeClient<Channel>,
    template: &NoticeBody,
    key: &SigningKey,
    pid: u32,
    delivered: &mut u64,
) -> Phase {
    let start = Instant::now();
    let mut phase = Phase {
        latencies: Vec::new(),
        peak_rss_kib: 0,
        peak_fds: 0,
    };
    while start.elapsed() < PHASE {
        let notice = honest_notice(template, key);
        let sent = Instant::now();
        let answer = peer
            .deliver(pb::DeliverRequest {
                notice: Some(notice.into()),
            })
            .await;
        let took = sent.elapsed();
        phase.latencies.push(took);
        if let Err(status) = answer {
            panic!("the honest peer was refused: {status:?}");
        }
        // Not a latency target (those are in the printed figures), but a
        // peer made to wait seconds is a peer locked out.
        assert!(
            took < Duration::from_secs(1),
            "an honest delivery took {took:?}"
        );
        *delivered += 1;
        let (rss, fds) = resources(pid);
        phase.peak_rss_kib = phase.peak_rss_kib.max(rss);
        phase.peak_fds = phase.peak_fds.max(fds);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    phase
}

/// A flood running on its own tasks until ended.
struct Flood {
    tasks: JoinSet<()>,
    stop: Arc<AtomicBool>,
}

impl Flood {
    /// Runs `attack(i)` on `tasks` tasks until [`Flood::end`].
    fn start<F, Fut>(tasks: usize, attack: F) -> Flood
    where
        F: Fn(usize) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let mut set = JoinSet::new();
        for i in 0..tasks {
            let stop = Arc::clone(&stop);
            let one = attack(i);
            set.spawn(async move {
                let one = std::pin::pin!(one);
                tokio::select! {
                    () = one => {}
                    () = async { while !stop.load(Ordering::SeqCst) { tokio::time::sleep(Duration::from_millis(20)).await } } => {}
                }
            });
        }
        Flood { tasks: set, stop }
    }

    async fn end(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.tasks.join_all().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_are_refused_and_an_honest_peer_is_served_meanwhile() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    dev_setup(&dir, &[KHM, THA]);
    let port = free_port();
    let config = dir.join(KHM).join("lintas.toml");
    let text = read(&config).replace("127.0.0.1:2\"", &format!("127.0.0.1:{port}\""));
    std::fs::write(&config, text).unwrap();
    let node = NodeProcess::start_config(&config);
    let pid = node.pid();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();

    let template = lintas_testkit::scenario::one_of_each_kind(Timestamp::now())
        .into_iter()
        .find(|b| b.kind() == NoticeKind::VictimStatusUpdate)
        .unwrap();
    let (idn_key, _) = key(&dir, IDN);
    let (tha_key, tha_seed) = key(&dir, THA);
    let tha_key_id = tha_key.key_id().to_string();
    let idn_channel = endpoint(&dir, addr, Some(&dns(IDN)))
        .connect()
        .await
        .unwrap();
    let mut honest = PeerExchangeClient::new(idn_channel);
    let mut delivered = 0u64;

    // Warm up, then the honest peer alone.
    honest_phase(&mut honest, &template, &idn_key, pid, &mut delivered).await;
    let baseline = honest_phase(&mut honest, &template, &idn_key, pid, &mut delivered).await;

    let mut report = Vec::new();
    let mut run = |name: &str, what: String, phase: Phase| {
        report.push(format!(
            "| {name} | {what} | {:.2} ms ({:.1}×) | {:.2} ms ({:.1}×) | {} MiB | {} |",
            phase.percentile(50).as_secs_f64() * 1e3,
            phase.percentile(50).as_secs_f64() / baseline.percentile(50).as_secs_f64(),
            phase.percentile(99).as_secs_f64() * 1e3,
            phase.percentile(99).as_secs_f64() / baseline.percentile(99).as_secs_f64(),
            phase.peak_rss_kib / 1024,
            phase.peak_fds
        ));
        phase
    };
    run(
        "none",
        "the honest peer alone".into(),
        Phase {
            latencies: baseline.latencies.clone(),
            peak_rss_kib: baseline.peak_rss_kib,
            peak_fds: baseline.peak_fds,
        },
    );

    // 1. Connections: strangers on 16 addresses open TCP connections as
    // fast as they can and never speak.
    let tally = Arc::new(Tally::default());
    let flood = Flood::start(16, |i| {
        let tally = Arc::clone(&tally);
        async move {
            let source: SocketAddr = format!("127.0.0.{}:0", i + 2).parse().unwrap();
            let mut held = std::collections::VecDeque::new();
            loop {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind(source).unwrap();
                match socket.connect(addr).await {
                    Ok(stream) => {
                        tally.add("opened");
                        held.push_back(stream);
                        if held.len() > 100 {
                            held.pop_front();
                        }
                    }
                    Err(_) => tally.add("connect failed"),
                }
                tokio::task::yield_now().await;
            }
        }
    });
    let phase = honest_phase(&mut honest, &template, &idn_key, pid, &mut delivered).await;
    flood.end().await;
    let phase = run(
        "connections",
        format!(
            "{} silent TCP connections opened from 16 addresses",
            tally.get("opened")
        ),
        phase,
    );
    assert!(
        phase.peak_fds < 1_024 + 64,
        "the connection caps held: {} files",
        phase.peak_fds
    );

    // 2. TLS handshakes: a stranger completes handshakes without a client
    // certificate, 8 at a time, as fast as it can.
    let tally = Arc::new(Tally::default());
    let flood = Flood::start(8, |_| {
        let tally = Arc::clone(&tally);
        let endpoint = endpoint(&dir, addr, None);
        async move {
            loop {
                match endpoint.connect().await {
                    Ok(channel) => {
                        let mut client = PeerExchangeClient::new(channel);
                        let answer = client.deliver(pb::DeliverRequest::default()).await;
                        tally.outcome(answer.map(|_| Vec::new()));
                    }
                    Err(_) => tally.add("handshake refused"),
                }
            }
        }
    });
    let phase = honest_phase(&mut honest, &template, &idn_key, pid, &mut delivered).await;
    flood.end().await;
    assert_eq!(tally.get("accepted"), 0);
    run(
        "TLS handshakes",
        format!(
            "handshakes without a client certificate: {}",
            tally.summary()
        ),
        phase,
    );

    // 3. Streams: Thailand's node (a valid member) opens one connection and
    // keeps 512 calls in flight on it.
    let tally = Arc::new(Tally::default());
    let tha_channel = endpoint(&dir, addr, Some(&dns(THA)))
        .connect()
        .await
        .unwrap();
    let flood = Flood::start(512, |_| {
        let tally = Arc::clone(&tally);
        let mut client = PeerExchangeClient::new(tha_channel.clone());
        async move {
            loop {
                let answer = client.deliver(pb::DeliverRequest::default()).await;
                tally.outcome(answer.map(|_| Vec::new()));
            }
        }
    });
    let phase = honest_phase(&mut honest, &template, &idn_key, pid, &mut delivered).await;
    flood.end().await;
    assert_eq!(tally.get("accepted"), 0);
    run(
        "streams",
        format!("512 calls in flight on one connection: {}", tally.summary()),
        phase,
    );

    // 4. Oversized messages: 4 MiB Deliver calls, 4 at a time.
    let tally = Arc::new(Tally::default());
    let flood = Flood::start(4, |_| {
        let tally = Arc::clone(&tally);
        let channel = tha_channel.clone();
        async move {
            loop {
                let big = pb::DeliverRequest {
                    notice: Some(pb::SignedNotice {
                        body: vec![0x55; 4 << 20],
                        ..Default::default()
                    }),
                };
                let answer = PeerExchangeClient::new(channel.clone())
                    .max_encoding_message_size(8 << 20)
                    .deliver(big)
                    .await;
                tally.outcome(answer.map(|_| Vec::new()));
            }
        }
    });
    let phase = honest_phase(&mut honest, &template, &idn_key, pid, &mut delivered).await;
    flood.end().await;
    assert_eq!(tally.get("accepted"), 0);
    run(
        "oversized messages",
        format!("4 MiB messages: {}", tally.summary()),
        phase,
    );

    // 5. Deeply nested messages: a validly signed body of 20,000 nested
    // groups, and a request that is 20,000 nested groups.
    let tally = Arc::new(Tally::default());
    let deep_body = signed_raw(&nested_groups(20_000), THA, &tha_key_id, &tha_seed);
    let groups = nested_groups(20_000);
    let flood = Flood::start(4, |i| {
        let tally = Arc::clone(&tally);
        let channel = tha_channel.clone();
        let deep_body = deep_body.clone();
        let groups = groups.clone();
        async move {
            loop {
                let answer = if i % 2 == 0 {
                    PeerExchangeClient::new(channel.clone())
                        .deliver(pb::DeliverRequest {
                            notice: Some(deep_body.clone()),
                        })
                        .await
                        .map(|_| Vec::new())
                } else {
                    raw_deliver(channel.clone(), groups.clone()).await
                };
                tally.outcome(answer);
            }
        }
    });
    let phase = honest_phase(&mut honest, &template, &idn_key, pid, &mut delivered).await;
    flood.end().await;
    assert_eq!(tally.get("accepted"), 0);
    run(
        "nested messages",
        format!("20,000 levels deep: {}", tally.summary()),
        phase,
    );

    // Nothing of the floods was stored: Cambodia's inbox holds exactly the
    // honest peer's notices.
    let case_system = endpoint(&dir, addr, Some(&format!("casesys.{}", dns(KHM))))
        .connect()
        .await
        .unwrap();
    let mut inbox = lintas_grpc::agency_client(
        case_system,
        lintas_grpc::Officer::new("flood.test").unwrap(),
    )
    .subscribe_inbox(pb::SubscribeInboxRequest { after_cursor: 0 })
    .await
    .unwrap()
    .into_inner();
    let mut stored = 0u64;
    while let Ok(Some(item)) = tokio::time::timeout(Duration::from_secs(1), inbox.next()).await {
        let item = item.unwrap();
        let notice = SignedNotice::try_from(item.notice.unwrap()).unwrap();
        assert_eq!(notice.signer().as_str(), IDN, "a flood's notice was stored");
        stored += 1;
    }
    assert_eq!(stored, delivered, "the honest notices, each once");

    println!(
        "adversarial suite: {delivered} honest deliveries, all accepted, {stored} stored, nothing else"
    );
    println!(
        "| flood | what the attacker sent, and how it was answered | honest p50 (× alone) | honest p99 (× alone) | node RSS peak | node open files peak |"
    );
    println!("|---|---|---|---|---|---|");
    for line in &report {
        println!("{line}");
    }
    drop(node);
}
