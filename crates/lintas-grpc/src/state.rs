//! What the services and the gRPC transport share: the engine, and what
//! only the gRPC side knows (TLS, who may call, limits).

use std::collections::BTreeMap;

use lintas_core::ids::AgencyId;
use lintas_node::Engine;

use crate::node::Limits;
use crate::tls::Transport;

/// A rate limiter with one bucket per peer agency.
pub(crate) type PeerRateLimiter = governor::DefaultKeyedRateLimiter<AgencyId>;

/// The gRPC side of one running node.
pub(crate) struct NodeState {
    /// What the node decides.
    pub(crate) engine: Engine,
    /// Mutual TLS (or, for development only, plaintext).
    pub(crate) transport: Transport,
    /// DNS names of case-system clients allowed on the agency API.
    pub(crate) api_clients: Vec<String>,
    /// Endpoint overrides (agency -> https://host:port), else the roster's.
    pub(crate) endpoints: BTreeMap<AgencyId, String>,
    /// Limits.
    pub(crate) limits: Limits,
    /// Per-peer rate of notices and receipts on the peer-exchange service.
    pub(crate) peer_rate: PeerRateLimiter,
    /// Each peer's daily quota of KiB handed over, kept in the store.
    pub(crate) peer_quotas: lintas_node::PeerQuotas,
    /// Cancelled when the node stops: long-lived streams end with it.
    pub(crate) shutdown: tokio_util::sync::CancellationToken,
}

impl std::fmt::Debug for NodeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeState")
            .field("agency", self.engine.agency())
            .finish_non_exhaustive()
    }
}

impl NodeState {
    /// Runs a read of the engine's store on the blocking pool, off the
    /// async runtime, and maps a refusal to its status.
    pub(crate) async fn read<T, F>(&self, read: F) -> Result<T, tonic::Status>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> Result<T, lintas_node::Refusal> + Send + 'static,
    {
        let engine = self.engine.clone();
        match tokio::task::spawn_blocking(move || read(&engine)).await {
            Ok(result) => result.map_err(|r| crate::status::refused(&r)),
            Err(e) => Err(crate::status::refused(&lintas_node::Refusal::Store(
                lintas_store::StoreError::Corrupt {
                    what: "store read".into(),
                    detail: e.to_string(),
                },
            ))),
        }
    }

    /// The endpoint of `agency`'s node and the TLS name it must present.
    pub(crate) fn endpoint_of(&self, agency: &AgencyId) -> Option<(String, String)> {
        let roster = self.engine.roster();
        let entry = roster.roster().agency(agency)?;
        let endpoint = self
            .endpoints
            .get(agency)
            .cloned()
            .unwrap_or_else(|| entry.endpoint.clone());
        Some((endpoint, entry.tls_identity.clone()))
    }
}
