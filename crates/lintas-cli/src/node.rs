//! `lintas node`: run a node until interrupted.

use std::path::Path;

use lintas_core::ids::AgencyId;
use lintas_core::roster::{SignedRoster, TrustedRoster};
use lintas_core::time::Timestamp;
use lintas_grpc::pki::PemPair;
use lintas_grpc::tls::TlsMaterial;
use lintas_grpc::{DeliveryConfig, Limits, Node};
use tokio::net::TcpListener;
use tracing::info;

use crate::config::NodeConfig;
use crate::{Error, keyfile};

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

pub(crate) async fn run(config_path: &Path) -> Result<(), Error> {
    let config = NodeConfig::load(config_path)?;
    let agency = AgencyId::parse(&config.agency).map_err(|e| format!("config agency: {e}"))?;
    let key = keyfile::read(&config.signing_key)?;
    let roster_bytes = std::fs::read(&config.roster)
        .map_err(|e| format!("cannot read roster {}: {e}", config.roster.display()))?;
    let signed = SignedRoster::decode(&roster_bytes)
        .map_err(|e| format!("roster {}: {e}", config.roster.display()))?;
    let roster = TrustedRoster::bootstrap(signed, Timestamp::now())
        .map_err(|e| format!("roster {}: {e}", config.roster.display()))?;
    std::fs::create_dir_all(&config.data_dir)?;
    let mut limits = Limits::default();
    if let Some(bytes) = config.limits.max_message_bytes {
        limits = limits.with_max_message_bytes(bytes);
    }
    if let (Some(rate), burst) = (
        config.limits.peer_requests_per_second,
        config.limits.peer_burst,
    ) {
        limits = limits.with_peer_rate(rate, burst.unwrap_or(rate));
    }
    if let Some(items) = config.limits.max_batch_items {
        limits.max_batch_items = items;
    }
    if let Some(kib) = config.limits.peer_kib_per_day {
        limits.peer_kib_per_day = kib;
    }
    if let Some(n) = config.limits.max_connections {
        limits.max_connections = n;
    }
    if let Some(n) = config.limits.max_connections_per_address {
        limits.max_connections_per_address = n;
    }
    if let Some(ms) = config.limits.tls_handshake_timeout_ms {
        limits.tls_handshake_timeout = std::time::Duration::from_millis(ms);
    }
    if let Some(s) = config.limits.idle_timeout_s {
        limits.idle_timeout = std::time::Duration::from_secs(s);
    }
    let mut delivery = DeliveryConfig::default();
    let pacing = &config.delivery;
    if pacing.window.is_some() || pacing.batch_entries.is_some() {
        delivery = delivery.with_pipeline(
            pacing.window.unwrap_or(delivery.window),
            pacing.batch_entries.unwrap_or(delivery.batch_entries),
        );
    }
    if let Some(ms) = pacing.max_backoff_ms {
        delivery = delivery.with_backoff(delivery.base_delay, std::time::Duration::from_millis(ms));
    }
    if let Some(ms) = config.postgres.as_ref().and_then(|p| p.poll_ms) {
        delivery = delivery.with_replica_poll(std::time::Duration::from_millis(ms));
    }
    let defaults = lintas_grpc::AttachmentConfig::default();
    delivery = delivery.with_attachments(
        defaults.with_limits(
            config
                .attachments
                .max_mib
                .map_or(defaults.max_bytes, |m| m.saturating_mul(1024 * 1024)),
            config
                .attachments
                .peer_mib_per_day
                .map_or(defaults.kib_per_peer_per_day, |m| m.saturating_mul(1024)),
        ),
    );
    delivery = delivery
        .with_disclosure(config.disclosure.rules()?)
        .with_retention(config.retention.policy()?)
        .with_matching(config.matching.config()?);
    let retention_every = match config.retention.check_every_s {
        Some(0) => None,
        Some(s) => Some(std::time::Duration::from_secs(s)),
        None => Some(lintas_grpc::DEFAULT_RETENTION_EVERY),
    };
    let witness_every = match config.witness_every_s {
        Some(0) => None,
        Some(s) => Some(std::time::Duration::from_secs(s)),
        None => Some(lintas_grpc::DEFAULT_WITNESS_EVERY),
    };
    let mut builder = Node::builder(agency, key)
        .roster(roster)
        .delivery(delivery)
        .witness_every(witness_every)
        .retention_every(retention_every);
    if let Some(pg) = &config.postgres {
        let mut store = lintas_grpc::PostgresConfig::new(pg.url.clone(), pg.replica.clone());
        if let Some(secs) = pg.lease_seconds {
            store.lease = std::time::Duration::from_secs(secs.max(1));
        }
        store.ca_file.clone_from(&pg.ca_file);
        builder = builder.postgres(store);
    }
    builder = match &config.tls {
        Some(files) => builder.tls(TlsMaterial {
            ca_pem: read(&files.ca)?,
            identity: PemPair {
                cert: read(&files.cert)?,
                key: read(&files.key)?,
            },
        }),
        None => builder.insecure_plaintext_for_development(),
    };
    let mut builder = builder
        .store_path(config.data_dir.join("node.redb"))
        .limits(limits);
    if let Some(mib) = config.store_cache_mib {
        builder = builder.store_cache_bytes(mib.saturating_mul(1024 * 1024));
    }
    for client in &config.api_clients {
        builder = builder.api_client(client.clone());
    }
    for (peer, endpoint) in &config.peers {
        builder = builder.peer_endpoint(AgencyId::parse(peer)?, endpoint.clone());
    }
    if let Some(addr) = config.metrics_listen {
        let metrics = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))?;
        builder = builder.metrics(metrics);
    }
    if let Some(console) = &config.console {
        builder = builder.console(console.console()?);
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let node = builder.serve(listener).await?;
    // Scripts wait for this line to know the node is up.
    println!("listening on {}", node.local_addr());
    shutdown_signal().await;
    info!("shutting down");
    node.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
