//! What the services and the delivery loop share.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use lintas_core::ids::AgencyId;
use lintas_core::keys::SigningKey;
use lintas_core::roster::TrustedRoster;
use lintas_store::{Store, StoreError};
use tokio::sync::{Notify, watch};

use crate::node::Limits;
use crate::tls::Transport;

/// A rate limiter with one bucket per peer agency.
pub(crate) type PeerRateLimiter = governor::DefaultKeyedRateLimiter<AgencyId>;

/// The state of one running node.
pub(crate) struct NodeState {
    /// This node's agency.
    pub(crate) agency: AgencyId,
    /// Its notice-signing key.
    pub(crate) key: SigningKey,
    /// The roster it trusts now.
    pub(crate) roster: RwLock<TrustedRoster>,
    /// Durable storage.
    pub(crate) store: Arc<Store>,
    /// Mutual TLS (or, for development only, plaintext).
    pub(crate) transport: Transport,
    /// DNS names of case-system clients allowed on the agency API.
    pub(crate) api_clients: Vec<String>,
    /// Endpoint overrides (agency -> https://host:port), else the roster's.
    pub(crate) endpoints: BTreeMap<AgencyId, String>,
    /// The newest inbox cursor; subscribers wait on changes.
    pub(crate) inbox: watch::Sender<u64>,
    /// Wakes the delivery loop when the outbox grows.
    pub(crate) outbox_wake: Notify,
    /// Limits.
    pub(crate) limits: Limits,
    /// Per-peer request rate on the peer-exchange service.
    pub(crate) peer_rate: PeerRateLimiter,
    /// Counters and gauges for monitoring.
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
    /// Cancelled when the node stops: long-lived streams end with it.
    pub(crate) shutdown: tokio_util::sync::CancellationToken,
}

impl std::fmt::Debug for NodeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeState")
            .field("agency", &self.agency)
            .finish_non_exhaustive()
    }
}

impl NodeState {
    /// The trusted roster. A poisoned lock still holds a whole roster (it is
    /// replaced in one assignment), so it is used as is.
    pub(crate) fn roster(&self) -> RwLockReadGuard<'_, TrustedRoster> {
        self.roster.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a store operation on the blocking pool, off the async runtime.
    pub(crate) async fn store<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(result) => result,
            Err(join) => Err(StoreError::Corrupt {
                what: "store task".into(),
                detail: join.to_string(),
            }),
        }
    }

    /// The endpoint of `agency`'s node.
    pub(crate) fn endpoint_of(&self, agency: &AgencyId) -> Option<(String, String)> {
        let roster = self.roster();
        let entry = roster.roster().agency(agency)?;
        let endpoint = self
            .endpoints
            .get(agency)
            .cloned()
            .unwrap_or_else(|| entry.endpoint.clone());
        Some((endpoint, entry.tls_identity.clone()))
    }
}
