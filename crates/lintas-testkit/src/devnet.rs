//! A development network: several agency nodes on loopback, with a
//! generated development PKI (one CA, a certificate per node and per case
//! system), a roster whose endpoints are the nodes' real ports, signed by
//! two of the three development stewards.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use lintas_core::ids::{AgencyId, MemberState};
use lintas_core::roster::{Roster, TrustedRoster};
use lintas_core::time::Timestamp;
use lintas_grpc::pb::peer_exchange_client::PeerExchangeClient;
use lintas_grpc::pki::{DevCa, PemPair};
use lintas_grpc::tls::TlsMaterial;
use lintas_grpc::{Limits, Node, NodeBuilder, NodeHandle};
use tokio::net::TcpListener;
use tonic::transport::{Channel, Endpoint};

use crate::world;

/// The officer the development case systems call as.
pub const TEST_OFFICER: &str = "test.officer";

fn officer() -> lintas_grpc::Officer {
    lintas_grpc::Officer::new(TEST_OFFICER).unwrap_or_else(|e| panic!("fixture officer: {e}"))
}

/// The DNS name of an agency's case-system client certificate.
pub fn case_system_name(tls_identity: &str) -> String {
    format!("casesys.{tls_identity}")
}

/// Several nodes on loopback.
pub struct DevNet {
    /// The development CA.
    pub ca: DevCa,
    /// The roster every node trusts.
    pub roster: TrustedRoster,
    dir: PathBuf,
    addrs: BTreeMap<AgencyId, SocketAddr>,
    certs: BTreeMap<String, PemPair>,
    nodes: BTreeMap<AgencyId, NodeHandle>,
    metrics: BTreeMap<AgencyId, SocketAddr>,
    limits: Limits,
}

impl std::fmt::Debug for DevNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevNet")
            .field("nodes", &self.addrs)
            .finish_non_exhaustive()
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

impl DevNet {
    /// Starts a node for each of `agencies` (development agency ids), with
    /// stores under `dir`.
    ///
    /// # Errors
    /// Binding, PKI, roster or node start-up failures.
    pub async fn start(agencies: &[&str], dir: &Path) -> Result<DevNet, Error> {
        Self::start_with(agencies, dir, Limits::default()).await
    }

    /// As [`DevNet::start`], with limits.
    ///
    /// # Errors
    /// Binding, PKI, roster or node start-up failures.
    pub async fn start_with(
        agencies: &[&str],
        dir: &Path,
        limits: Limits,
    ) -> Result<DevNet, Error> {
        Self::start_custom(agencies, dir, limits, |_| {}).await
    }

    /// As [`DevNet::start_with`], letting `edit` change the roster (revoke a
    /// key, drop a permission) before it is signed.
    ///
    /// # Errors
    /// Binding, PKI, roster or node start-up failures.
    pub async fn start_custom(
        agencies: &[&str],
        dir: &Path,
        limits: Limits,
        edit: impl FnOnce(&mut Roster),
    ) -> Result<DevNet, Error> {
        let mut listeners = BTreeMap::new();
        let mut addrs = BTreeMap::new();
        for id in agencies {
            let agency = AgencyId::parse(id)?;
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            addrs.insert(agency.clone(), listener.local_addr()?);
            listeners.insert(agency, listener);
        }
        let mut roster = roster_with_endpoints(&addrs);
        edit(&mut roster);
        let signed = world::sign_roster(&roster, &[MemberState::Indonesia, MemberState::Cambodia]);
        let roster = TrustedRoster::bootstrap(signed, Timestamp::now())?;

        let ca = DevCa::new("Lintas development CA")?;
        let mut certs = BTreeMap::new();
        for entry in roster.roster().agencies.values() {
            certs.insert(entry.tls_identity.clone(), ca.issue(&entry.tls_identity)?);
            let client = case_system_name(&entry.tls_identity);
            certs.insert(client.clone(), ca.issue(&client)?);
        }
        let mut net = DevNet {
            ca,
            roster,
            dir: dir.to_path_buf(),
            addrs,
            certs,
            nodes: BTreeMap::new(),
            metrics: BTreeMap::new(),
            limits,
        };
        for (agency, listener) in listeners {
            let (node, metrics) = net.launch(&agency, listener).await?;
            net.nodes.insert(agency.clone(), node);
            net.metrics.insert(agency, metrics);
        }
        Ok(net)
    }

    fn tls_identity(&self, agency: &AgencyId) -> Result<String, Error> {
        Ok(self
            .roster
            .roster()
            .agency(agency)
            .ok_or_else(|| format!("{agency} not in roster"))?
            .tls_identity
            .clone())
    }

    /// TLS material presenting the certificate for `dns_name`.
    ///
    /// # Errors
    /// No certificate was issued for that name.
    pub fn material(&self, dns_name: &str) -> Result<TlsMaterial, Error> {
        Ok(TlsMaterial {
            ca_pem: self.ca.cert_pem(),
            identity: self
                .certs
                .get(dns_name)
                .cloned()
                .ok_or_else(|| format!("no certificate for {dns_name}"))?,
        })
    }

    async fn launch(
        &self,
        agency: &AgencyId,
        listener: TcpListener,
    ) -> Result<(NodeHandle, SocketAddr), Error> {
        self.launch_with(agency, listener, |b| b).await
    }

    async fn launch_with(
        &self,
        agency: &AgencyId,
        listener: TcpListener,
        customise: impl FnOnce(NodeBuilder) -> NodeBuilder,
    ) -> Result<(NodeHandle, SocketAddr), Error> {
        let identity = self.tls_identity(agency)?;
        let metrics = TcpListener::bind("127.0.0.1:0").await?;
        let metrics_addr = metrics.local_addr()?;
        let builder = Node::builder(agency.clone(), world::agency_key(agency.as_str()))
            .roster(self.roster.clone())
            .tls(self.material(&identity)?)
            .store_path(self.store_path(agency))
            .api_client(case_system_name(&identity))
            .limits(self.limits)
            .metrics(metrics);
        let node = customise(builder).serve(listener).await?;
        Ok((node, metrics_addr))
    }

    /// Where `agency`'s store file is.
    pub fn store_path(&self, agency: &AgencyId) -> PathBuf {
        self.dir.join(format!("{agency}.redb"))
    }

    /// The running node of `agency`.
    ///
    /// # Panics
    /// If it is not running: a test error.
    pub fn node(&self, agency: &str) -> &NodeHandle {
        self.nodes
            .iter()
            .find(|(a, _)| a.as_str() == agency)
            .map(|(_, n)| n)
            .unwrap_or_else(|| panic!("{agency} is not running"))
    }

    /// The address of `agency`'s node.
    pub fn addr(&self, agency: &str) -> Option<SocketAddr> {
        self.addrs
            .iter()
            .find(|(a, _)| a.as_str() == agency)
            .map(|(_, addr)| *addr)
    }

    /// The address of `agency`'s metrics endpoint (plain HTTP).
    pub fn metrics_addr(&self, agency: &str) -> Option<SocketAddr> {
        self.metrics
            .iter()
            .find(|(a, _)| a.as_str() == agency)
            .map(|(_, addr)| *addr)
    }

    /// Stops `agency`'s node (its store stays).
    ///
    /// # Errors
    /// Unknown agency.
    pub async fn stop(&mut self, agency: &str) -> Result<(), Error> {
        let id = AgencyId::parse(agency)?;
        let node = self.nodes.remove(&id).ok_or("not running")?;
        node.shutdown().await;
        Ok(())
    }

    /// Starts `agency`'s node again on the same port with the same store.
    ///
    /// # Errors
    /// The port could not be bound again, or start-up failed.
    pub async fn restart(&mut self, agency: &str) -> Result<(), Error> {
        self.restart_with(agency, |b| b).await
    }

    /// As [`DevNet::restart`], with `customise` applied to the node's
    /// builder (e.g. to add a notice handler).
    ///
    /// # Errors
    /// The port could not be bound again, or start-up failed.
    pub async fn restart_with(
        &mut self,
        agency: &str,
        customise: impl FnOnce(NodeBuilder) -> NodeBuilder,
    ) -> Result<(), Error> {
        let id = AgencyId::parse(agency)?;
        let addr = *self.addrs.get(&id).ok_or("unknown agency")?;
        let listener = TcpListener::bind(addr).await?;
        let (node, metrics) = self.launch_with(&id, listener, customise).await?;
        self.nodes.insert(id.clone(), node);
        self.metrics.insert(id, metrics);
        Ok(())
    }

    /// A channel to `to`'s node presenting the certificate for `as_name`.
    ///
    /// # Errors
    /// Unknown names or connection failure.
    pub async fn channel(&self, as_name: &str, to: &str) -> Result<Channel, Error> {
        let to_id = AgencyId::parse(to)?;
        let addr = *self.addrs.get(&to_id).ok_or("unknown agency")?;
        self.channel_at(as_name, to, addr).await
    }

    /// A channel to a node of agency `to` at `addr` (a replica not in the
    /// roster), presenting the certificate for `as_name`.
    ///
    /// # Errors
    /// Unknown names or connection failure.
    pub async fn channel_at(
        &self,
        as_name: &str,
        to: &str,
        addr: SocketAddr,
    ) -> Result<Channel, Error> {
        let to_id = AgencyId::parse(to)?;
        let server_name = self.tls_identity(&to_id)?;
        let channel = Endpoint::from_shared(format!("https://{addr}"))?
            .tls_config(self.material(as_name)?.client_config(&server_name))?
            .connect()
            .await?;
        Ok(channel)
    }

    /// The case-system client of `agency`'s own node.
    ///
    /// # Errors
    /// Connection failure.
    pub async fn case_system(&self, agency: &str) -> Result<lintas_grpc::AgencyClient, Error> {
        let identity = self.tls_identity(&AgencyId::parse(agency)?)?;
        Ok(lintas_grpc::agency_client(
            self.channel(&case_system_name(&identity), agency).await?,
            officer(),
        ))
    }

    /// The case-system client of `agency` talking to its replica at
    /// `addr`.
    ///
    /// # Errors
    /// Connection failure.
    pub async fn case_system_at(
        &self,
        agency: &str,
        addr: SocketAddr,
    ) -> Result<lintas_grpc::AgencyClient, Error> {
        let identity = self.tls_identity(&AgencyId::parse(agency)?)?;
        Ok(lintas_grpc::agency_client(
            self.channel_at(&case_system_name(&identity), agency, addr)
                .await?,
            officer(),
        ))
    }

    /// Starts another replica of `agency` on a new loopback port, built as
    /// the others and then changed by `customise` (a replica shares its
    /// store with the agency's other nodes: give it the same PostgreSQL
    /// store). Peers reach the agency at the roster's address, not this
    /// one; its case system can call it at the returned address.
    ///
    /// # Errors
    /// Binding or start-up failure.
    pub async fn start_replica(
        &self,
        agency: &str,
        customise: impl FnOnce(NodeBuilder) -> NodeBuilder,
    ) -> Result<(NodeHandle, SocketAddr), Error> {
        let id = AgencyId::parse(agency)?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (node, _) = self.launch_with(&id, listener, customise).await?;
        Ok((node, addr))
    }

    /// A peer client to `to`'s node authenticated as agency `as_agency`.
    ///
    /// # Errors
    /// Connection failure.
    pub async fn peer(
        &self,
        as_agency: &str,
        to: &str,
    ) -> Result<PeerExchangeClient<Channel>, Error> {
        let identity = self.tls_identity(&AgencyId::parse(as_agency)?)?;
        Ok(PeerExchangeClient::new(self.channel(&identity, to).await?))
    }

    /// Stops every node.
    pub async fn shutdown(mut self) {
        for (_, node) in std::mem::take(&mut self.nodes) {
            node.shutdown().await;
        }
    }
}

/// The development roster (version 1, issued an hour ago) with every
/// agency's endpoint set to its node's address in `addrs`.
pub fn roster_with_endpoints(addrs: &BTreeMap<AgencyId, SocketAddr>) -> Roster {
    let mut roster = world::roster(1, Timestamp::now().plus_seconds(-3600));
    for (agency, addr) in addrs {
        if let Some(entry) = roster.agencies.get_mut(agency) {
            entry.endpoint = format!("https://{addr}");
        }
    }
    roster
}
