//! The node runtime: a builder that wires the store, the trusted roster,
//! TLS, the services and the delivery loop, and a handle to the running
//! node.
//!
//! ```no_run
//! # async fn run(
//! #     agency: lintas_core::ids::AgencyId,
//! #     key: lintas_core::keys::SigningKey,
//! #     roster: lintas_core::roster::TrustedRoster,
//! #     tls: lintas_grpc::tls::TlsMaterial,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let node = lintas_grpc::Node::builder(agency, key)
//!     .roster(roster)
//!     .tls(tls)
//!     .store_path("node.redb")
//!     .api_client("casesys.pwni.kemlu.lintas.test")
//!     .serve(listener)
//!     .await?;
//! println!("serving on {}", node.local_addr());
//! node.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::keys::SigningKey;
use lintas_core::notice::NoticeBody;
use lintas_core::roster::{RosterError, TrustedRoster};
use lintas_core::time::Timestamp;
use lintas_node::{DeliveryConfig, Engine, EngineError, Refusal};
use lintas_store::{InboxEntry, Store, StoreError};
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::transport::Server;
use tracing::{error, info};

use crate::agency::AgencyService;
use crate::pb::agency_api_server::AgencyApiServer;
use crate::pb::peer_exchange_server::PeerExchangeServer;
use crate::peer::PeerService;
use crate::state::NodeState;
use crate::tls::{TlsMaterial, Transport};

/// How often a node offers its log's checkpoint to its peers unless told
/// otherwise ([`NodeBuilder::witness_every`]).
pub const DEFAULT_WITNESS_EVERY: Duration = Duration::from_secs(60);

/// Limits a node enforces on every connection.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Limits {
    /// Largest message accepted or sent, in bytes.
    pub max_message_bytes: usize,
    /// Concurrent HTTP/2 streams per connection.
    pub max_concurrent_streams: u32,
    /// Requests in flight per connection.
    pub concurrency_per_connection: usize,
    /// Request timeout on the server.
    pub request_timeout: Duration,
    /// Sustained items (notices and receipts, one per unary call) per
    /// second allowed to each peer agency on the peer-exchange service.
    pub peer_requests_per_second: u32,
    /// Items a peer may burst above the sustained rate (at least
    /// `max_batch_items`, or full batches are always refused).
    pub peer_burst: u32,
    /// Items taken in one `DeliverBatch` call.
    pub max_batch_items: u32,
    /// What one peer agency may hand over per day, in KiB of messages on
    /// the peer-exchange service (its quota of this node's disk): a day's
    /// worth may come at once, then it refills evenly over the day. Not
    /// kept across restarts.
    pub peer_kib_per_day: u32,
    /// Open connections in all; a connection over the cap is closed as it
    /// arrives.
    pub max_connections: usize,
    /// Open connections from one source address.
    pub max_connections_per_address: usize,
    /// Time a client has to complete the TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// A connection on which the client sends nothing (not even an answer
    /// to the node's HTTP/2 keepalive ping) for this long is closed.
    pub idle_timeout: Duration,
    /// How often the node pings each client connection (HTTP/2 keepalive);
    /// an unanswered ping closes the connection after 10 s.
    pub keepalive_interval: Duration,
    /// The largest offline bundle the agency API imports (held in memory
    /// while it is checked).
    pub max_offline_bundle_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 1024 * 1024,
            max_concurrent_streams: 64,
            concurrency_per_connection: 32,
            request_timeout: Duration::from_secs(30),
            peer_requests_per_second: 1000,
            peer_burst: 2000,
            max_batch_items: 256,
            peer_kib_per_day: 512 * 1024,
            max_connections: 1024,
            max_connections_per_address: 64,
            tls_handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            keepalive_interval: Duration::from_secs(30),
            max_offline_bundle_bytes: 256 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The same limits with another per-peer rate.
    pub fn with_peer_rate(mut self, per_second: u32, burst: u32) -> Self {
        self.peer_requests_per_second = per_second;
        self.peer_burst = burst;
        self
    }

    /// The defaults with another message size limit.
    pub fn with_max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// A required builder step was skipped.
    #[error("node configuration incomplete: {0}")]
    Incomplete(&'static str),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The roster offered is older than the one stored, or invalid.
    #[error("roster: {0}")]
    Roster(#[from] RosterError),
    /// This node's agency or key is not in the roster.
    #[error("{0}")]
    NotInRoster(String),
    /// TLS or listener setup failed.
    #[error("transport: {0}")]
    Transport(String),
}

impl From<EngineError> for NodeError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Store(e) => NodeError::Store(e),
            EngineError::Roster(e) => NodeError::Roster(e),
            EngineError::NotInRoster(m) => NodeError::NotInRoster(m),
            other => NodeError::Transport(other.to_string()),
        }
    }
}

/// Builds a node. Security choices are explicit steps: a roster and TLS
/// material are required; there is no plaintext default.
pub struct NodeBuilder {
    agency: AgencyId,
    key: SigningKey,
    roster: Option<TrustedRoster>,
    transport: Option<Transport>,
    store_path: Option<PathBuf>,
    postgres: Option<lintas_store::PostgresConfig>,
    api_clients: Vec<String>,
    endpoints: BTreeMap<AgencyId, String>,
    limits: Limits,
    delivery: DeliveryConfig,
    store_cache_bytes: usize,
    metrics: Option<TcpListener>,
    console: Option<crate::console::Console>,
    handler: Option<(u64, NoticeHandler)>,
    witness_every: Option<Duration>,
    retention_every: Option<Duration>,
}

/// How often a node looks for personal data past its retention period,
/// unless told otherwise ([`NodeBuilder::retention_every`]).
pub const DEFAULT_RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// A function the embedding agency gives to receive verified notices.
type NoticeHandler = Box<dyn FnMut(crate::ReceivedNotice) + Send + 'static>;

impl std::fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBuilder")
            .field("agency", &self.agency)
            .finish_non_exhaustive()
    }
}

/// Entry point.
#[derive(Debug)]
pub struct Node;

impl Node {
    /// A builder for the node of `agency`, signing with `key`.
    pub fn builder(agency: AgencyId, key: SigningKey) -> NodeBuilder {
        NodeBuilder {
            agency,
            key,
            roster: None,
            transport: None,
            store_path: None,
            postgres: None,
            api_clients: Vec::new(),
            endpoints: BTreeMap::new(),
            limits: Limits::default(),
            delivery: DeliveryConfig::default(),
            store_cache_bytes: lintas_store::DEFAULT_CACHE_BYTES,
            metrics: None,
            console: None,
            handler: None,
            witness_every: Some(DEFAULT_WITNESS_EVERY),
            retention_every: Some(DEFAULT_RETENTION_EVERY),
        }
    }
}

impl NodeBuilder {
    /// The roster to trust. If the store holds a newer trusted version,
    /// that one is kept; an older one is refused (no rollback across
    /// restarts).
    pub fn roster(mut self, roster: TrustedRoster) -> Self {
        self.roster = Some(roster);
        self
    }

    /// TLS material: CA, certificate and key.
    pub fn tls(mut self, tls: TlsMaterial) -> Self {
        self.transport = Some(Transport::MutualTls(tls));
        self
    }

    /// **Development only.** Serves and connects without TLS: traffic is
    /// readable by anyone on the path and peers are trusted to name
    /// themselves. Never use with real case data. The node logs a warning
    /// at start-up.
    pub fn insecure_plaintext_for_development(mut self) -> Self {
        self.transport = Some(Transport::PlaintextForDevelopment);
        self
    }

    /// Where the store file lives.
    pub fn store_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.store_path = Some(path.into());
        self
    }

    /// Keeps the store in a PostgreSQL database shared with the agency's
    /// other replicas instead of a file (the store path is then unused).
    pub fn postgres(mut self, config: lintas_store::PostgresConfig) -> Self {
        self.postgres = Some(config);
        self
    }

    /// Allows a case-system client certificate with this DNS name on the
    /// agency API.
    pub fn api_client(mut self, dns_name: impl Into<String>) -> Self {
        self.api_clients.push(dns_name.into());
        self
    }

    /// Reaches `agency` at `endpoint` instead of its roster endpoint (for
    /// tests and networks with address translation).
    pub fn peer_endpoint(mut self, agency: AgencyId, endpoint: impl Into<String>) -> Self {
        self.endpoints.insert(agency, endpoint.into());
        self
    }

    /// Serves Prometheus metrics (`GET /metrics`, plain HTTP) on this
    /// listener; keep it on a management address.
    pub fn metrics(mut self, listener: TcpListener) -> Self {
        self.metrics = Some(listener);
        self
    }

    /// Serves the operator console (docs/CONSOLE.md) on the metrics
    /// listener, under `/console/`: without a metrics listener the node
    /// does not start.
    pub fn console(mut self, console: crate::console::Console) -> Self {
        self.console = Some(console);
        self
    }

    /// Calls `handler` with every received notice after cursor `after`, in
    /// order, then with each new one as it arrives. The handler should
    /// record each notice's cursor with it, and pass the last one as
    /// `after` when the node starts again, so nothing is handled twice.
    pub fn on_notice(
        mut self,
        after: u64,
        handler: impl FnMut(crate::ReceivedNotice) + Send + 'static,
    ) -> Self {
        self.handler = Some((after, Box::new(handler)));
        self
    }

    /// Limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Memory for the store's page cache (32 MiB by default). The node's
    /// memory does not grow with its store beyond this.
    pub fn store_cache_bytes(mut self, bytes: usize) -> Self {
        self.store_cache_bytes = bytes;
        self
    }

    /// How deliveries to peers are paced (window, batch size, backoff).
    pub fn delivery(mut self, delivery: DeliveryConfig) -> Self {
        self.delivery = delivery;
        self
    }

    /// How often the node removes the personal data of notices past their
    /// retention period (docs/PROTOCOL.md section 14.6): every hour by
    /// default, and once at start; `None` never (the operator then runs it).
    pub fn retention_every(mut self, every: Option<Duration>) -> Self {
        self.retention_every = every;
        self
    }

    /// How often the node signs a checkpoint of its log and offers it to
    /// its peers to witness (and settles the checks of what other
    /// witnesses passed on): every 60 s by default; `None` never (a node
    /// whose log nobody witnesses can show partners different histories
    /// unseen).
    pub fn witness_every(mut self, every: Option<Duration>) -> Self {
        self.witness_every = every;
        self
    }

    /// Opens the store, settles the roster, and serves on `listener` until
    /// [`NodeHandle::shutdown`].
    ///
    /// # Errors
    /// Missing configuration, store failure, roster rollback, or TLS setup.
    pub async fn serve(self, listener: TcpListener) -> Result<NodeHandle, NodeError> {
        if self.console.is_some() && self.metrics.is_none() {
            return Err(NodeError::Incomplete(
                "metrics listener (the console is served on it)",
            ));
        }
        let offered = self.roster.ok_or(NodeError::Incomplete("roster"))?;
        let transport = self.transport.ok_or(NodeError::Incomplete(
            "tls (or the explicit plaintext development mode)",
        ))?;
        let store = match self.postgres {
            Some(config) => tokio::task::spawn_blocking(move || Store::connect(&config)).await,
            None => {
                let path = self.store_path.ok_or(NodeError::Incomplete("store_path"))?;
                let cache = self.store_cache_bytes;
                tokio::task::spawn_blocking(move || Store::open_with_cache(&path, cache)).await
            }
        }
        .map_err(|e| NodeError::Transport(e.to_string()))??;
        // Calls carry at most one message of notices: keep batches under it.
        let delivery = self.delivery.with_batch_bytes(
            self.delivery
                .batch_bytes
                .min(self.limits.max_message_bytes / 2),
        );
        let peer_quotas = lintas_node::PeerQuotas::new(self.limits.peer_kib_per_day);
        peer_quotas.load(&store)?;
        let engine = Engine::open(self.agency, self.key, offered, Arc::new(store), delivery)?;
        let state = Arc::new(NodeState {
            engine,
            transport,
            api_clients: self.api_clients,
            endpoints: self.endpoints,
            limits: self.limits,
            shutdown: CancellationToken::new(),
            peer_rate: peer_rate_limiter(&self.limits),
            peer_quotas,
        });
        let local_addr = listener
            .local_addr()
            .map_err(|e| NodeError::Transport(e.to_string()))?;

        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<PeerExchangeServer<PeerService>>()
            .await;
        health.set_serving::<AgencyApiServer<AgencyService>>().await;
        let watched = Arc::clone(&state);
        let reporter = health.clone();
        let stop_watch = state.shutdown.clone();
        tokio::spawn(async move {
            watch_store(watched, reporter, stop_watch).await;
        });
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| NodeError::Transport(e.to_string()))?;

        let limits = state.limits;
        if limits.max_message_bytes < 2 * lintas_core::signing::MAX_BODY_BYTES {
            tracing::warn!(
                max_message_bytes = limits.max_message_bytes,
                "the message limit is below 512 KiB: a valid notice of up to 256 KiB with its envelope, or a batch of them, may not fit (docs/PROTOCOL.md section 9.9)"
            );
        }
        let peer = PeerExchangeServer::new(PeerService::new(Arc::clone(&state)))
            .max_decoding_message_size(limits.max_message_bytes)
            .max_encoding_message_size(limits.max_message_bytes);
        let agency = AgencyApiServer::new(AgencyService::new(Arc::clone(&state)))
            .max_decoding_message_size(limits.max_message_bytes)
            .max_encoding_message_size(limits.max_message_bytes);

        let shutdown = state.shutdown.clone();
        let tasks = TaskTracker::new();
        let mut server = Server::builder();
        match &state.transport {
            Transport::MutualTls(tls) => {
                server = server
                    .tls_config(tls.server_config().timeout(limits.tls_handshake_timeout))
                    .map_err(|e| NodeError::Transport(e.to_string()))?;
            }
            Transport::PlaintextForDevelopment => {
                tracing::warn!(
                    node = %state.engine.agency(),
                    "PLAINTEXT DEVELOPMENT MODE: no encryption, peers are NOT authenticated; never use with real case data"
                );
            }
        }
        let router = server
            .http2_keepalive_interval(Some(limits.keepalive_interval))
            .http2_keepalive_timeout(Some(Duration::from_secs(10)))
            .max_concurrent_streams(limits.max_concurrent_streams)
            .concurrency_limit_per_connection(limits.concurrency_per_connection)
            .layer(tower::util::MapResponseLayer::new(
                crate::status::fill_reason,
            ))
            .layer(tower::util::MapFutureLayer::new(move |call| {
                crate::status::within(limits.request_timeout, call)
            }))
            .add_service(health_service)
            .add_service(reflection)
            .add_service(peer)
            .add_service(agency);
        let stop = shutdown.clone();
        let me = state.engine.agency().clone();
        tasks.spawn(async move {
            // Connection caps, idle timeout and TCP_NODELAY: src/listener.rs.
            let incoming = crate::listener::guarded(
                listener,
                crate::listener::ConnectionLimits {
                    total: limits.max_connections,
                    per_address: limits.max_connections_per_address,
                    idle: limits.idle_timeout,
                },
            );
            if let Err(e) = router
                .serve_with_incoming_shutdown(incoming, stop.cancelled_owned())
                .await
            {
                error!(node = %me, error = %e, "server stopped with an error");
            }
        });
        tasks.spawn(settle_quotas(Arc::clone(&state), shutdown.clone()));
        let transport = Arc::new(crate::delivery::GrpcTransport::new(Arc::clone(&state)));
        if let Some(every) = self.witness_every {
            let (engine, stop, transport) = (
                state.engine.clone(),
                shutdown.clone(),
                Arc::clone(&transport),
            );
            tasks.spawn(async move { engine.run_witnessing(transport, every, stop).await });
        }
        {
            let (engine, stop, transport) = (
                state.engine.clone(),
                shutdown.clone(),
                Arc::clone(&transport),
            );
            tasks.spawn(async move { engine.run_attachment_fetch(transport, stop).await });
        }
        if let Some(every) = self.retention_every {
            let (engine, stop) = (state.engine.clone(), shutdown.clone());
            tasks.spawn(async move { engine.run_retention(every, stop).await });
        }
        let engine = state.engine.clone();
        let stop = shutdown.clone();
        tasks.spawn(async move { engine.run_delivery(transport, stop).await });
        if let Some((after, mut handler)) = self.handler {
            let mut notices = Box::pin(state.engine.inbox(after));
            let me = state.engine.agency().clone();
            tasks.spawn(async move {
                while let Some(item) = notices.next().await {
                    match item {
                        Ok(notice) => handler(notice),
                        Err(e) => {
                            error!(node = %me, error = %e, "notice handler stopped");
                            return;
                        }
                    }
                }
            });
        }
        if let Some(listener) = self.metrics {
            let console = self
                .console
                .map(|c| crate::console::routes(c, state.engine.clone()));
            tasks.spawn(crate::metrics::serve(
                state.engine.metrics(),
                listener,
                console,
                shutdown.clone(),
            ));
        }
        tasks.close();
        let mode = match state.transport {
            Transport::MutualTls(_) => "mutual TLS",
            Transport::PlaintextForDevelopment => "PLAINTEXT, development only",
        };
        info!(node = %state.engine.agency(), %local_addr, mode, "node serving");
        Ok(NodeHandle {
            state,
            local_addr,
            shutdown,
            tasks,
        })
    }
}

/// How often the peers' quotas are settled into the store.
const QUOTA_SETTLEMENT: Duration = Duration::from_secs(2);

/// Settles the peers' quotas into the store every [`QUOTA_SETTLEMENT`]
/// and once more when the node stops (lintas-node's quota.rs says why). With a shared store every peer's figure is read back, so each
/// replica learns what the others admitted.
async fn settle_quotas(state: Arc<NodeState>, shutdown: CancellationToken) {
    loop {
        let stopping = tokio::select! {
            () = shutdown.cancelled() => true,
            () = tokio::time::sleep(QUOTA_SETTLEMENT) => false,
        };
        let me = Arc::clone(&state);
        let settled = tokio::task::spawn_blocking(move || {
            let store = me.engine.store_handle();
            let now = lintas_core::time::Timestamp::now();
            me.peer_quotas.settle(store, now, store.is_shared())
        })
        .await;
        if let Ok(Err(e)) = settled {
            tracing::warn!(error = %e, "peer quotas not settled; retried at the next settlement");
        }
        if stopping {
            return;
        }
    }
}

/// Reports the node `NOT_SERVING` while its store cannot write (a full or
/// failing disk) and tries every second to recover it; `SERVING` again as
/// soon as a write goes through.
async fn watch_store(
    state: Arc<NodeState>,
    health: tonic_health::server::HealthReporter,
    shutdown: CancellationToken,
) {
    let mut serving = true;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        let store = Arc::clone(state.engine.store_handle());
        if !store.is_failing() {
            continue;
        }
        if serving {
            tracing::error!(node = %state.engine.agency(), "the store cannot write: reporting NOT_SERVING until it can");
            health
                .set_not_serving::<PeerExchangeServer<PeerService>>()
                .await;
            health
                .set_not_serving::<AgencyApiServer<AgencyService>>()
                .await;
            serving = false;
        }
        let recovered = tokio::task::spawn_blocking(move || store.recover()).await;
        if matches!(recovered, Ok(Ok(()))) {
            tracing::info!(node = %state.engine.agency(), "the store writes again: SERVING");
            health
                .set_serving::<PeerExchangeServer<PeerService>>()
                .await;
            health.set_serving::<AgencyApiServer<AgencyService>>().await;
            serving = true;
        }
    }
}

fn peer_rate_limiter(limits: &Limits) -> crate::state::PeerRateLimiter {
    use std::num::NonZeroU32;
    let per_second = NonZeroU32::new(limits.peer_requests_per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(limits.peer_burst).unwrap_or(per_second);
    governor::RateLimiter::keyed(governor::Quota::per_second(per_second).allow_burst(burst))
}

/// A running node. Dropping it stops the node without waiting; call
/// [`NodeHandle::shutdown`] to wait for in-flight work.
#[derive(Debug)]
pub struct NodeHandle {
    state: Arc<NodeState>,
    local_addr: SocketAddr,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Drop for NodeHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.state.engine.close();
    }
}

impl NodeHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Its agency.
    pub fn agency(&self) -> &AgencyId {
        self.state.engine.agency()
    }

    /// The engine: everything the node decides, for embedding agencies
    /// that call it directly.
    pub fn engine(&self) -> &Engine {
        &self.state.engine
    }

    /// Runs one witnessing round now (as the node does every
    /// [`NodeBuilder::witness_every`]): offers a checkpoint of its log to
    /// every peer, keeps their cosignatures, and settles the checks of what
    /// other witnesses passed on.
    pub async fn witness_now(&self) -> lintas_node::WitnessRound {
        let transport = crate::delivery::GrpcTransport::new(Arc::clone(&self.state));
        self.state
            .engine
            .witness_round(&transport, Timestamp::now())
            .await
    }

    /// Signs `body` as this node's agency and queues it for delivery (the
    /// sender and sequence in `body` are replaced).
    ///
    /// # Errors
    /// Invalid notice, refused by the roster's rules, or store failure.
    pub async fn submit(&self, body: NoticeBody) -> Result<(NoticeId, u64), Refusal> {
        let sent = self.state.engine.submit(body, Timestamp::now()).await?;
        Ok((sent.id, sent.sequence))
    }

    /// Received notices with a cursor above `after`, in order (for an
    /// embedding case system; the gRPC `SubscribeInbox` streams the same).
    ///
    /// # Errors
    /// Store failure.
    pub async fn inbox_after(&self, after: u64) -> Result<Vec<InboxEntry>, StoreError> {
        self.state.engine.inbox_after(after, 1024)
    }

    /// Received notices after `after`, then each new one as it arrives,
    /// until the node stops: the embedded equivalent of `SubscribeInbox`.
    /// Record each notice's cursor with it and resume from there.
    pub fn inbox(
        &self,
        after: u64,
    ) -> impl tokio_stream::Stream<Item = Result<crate::ReceivedNotice, crate::InboxError>> + use<>
    {
        self.state.engine.inbox(after)
    }

    /// Waits until the inbox holds a cursor above `after`.
    pub async fn wait_for_inbox(&self, after: u64) {
        self.state.engine.wait_for_inbox(after).await;
    }

    /// Entries waiting in the outbox.
    ///
    /// # Errors
    /// Never today; kept fallible for stores that read it remotely.
    pub async fn outbox_len(&self) -> Result<usize, StoreError> {
        Ok(self.state.engine.outbox_len())
    }

    /// Receipts stored for a notice: (stage, receiver, SignedReceipt bytes).
    ///
    /// # Errors
    /// Store failure.
    pub async fn receipts(&self, id: NoticeId) -> Result<Vec<(u8, String, Vec<u8>)>, StoreError> {
        self.state.engine.receipts(&id)
    }

    /// Stops serving and delivering, ends inbox streams, and waits (at
    /// most ten seconds) for in-flight requests and deliveries to finish.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.state.engine.close();
        let tasks = self.tasks.clone();
        if tokio::time::timeout(Duration::from_secs(10), tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(node = %self.state.engine.agency(), "stopped without waiting for every connection to close");
        }
        self.state.engine.shutdown().await;
        info!(node = %self.state.engine.agency(), "node stopped");
    }
}
