//! Mutual TLS for nodes, and mapping a peer's certificate to its agency.
//!
//! Every peer connection is mutually authenticated: the server requires a
//! client certificate chaining to the configured CA, and the client checks
//! the server's certificate against the recipient's roster `tls_identity`.
//! The certificate's DNS name is what identifies an agency.

use std::sync::Arc;

use lintas_core::ids::AgencyId;
use lintas_core::roster::Roster;
use rustls_pki_types::{CertificateDer, ServerName};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::pki::PemPair;

/// The TLS material of a node: its CA bundle, certificate and key (PEM).
#[derive(Clone)]
pub struct TlsMaterial {
    /// CA certificates trusted for peers (PEM, one or more).
    pub ca_pem: String,
    /// This node's certificate and key.
    pub identity: PemPair,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial").finish_non_exhaustive()
    }
}

impl TlsMaterial {
    /// Server side: present our certificate, require a client certificate
    /// signed by the CA.
    pub fn server_config(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(Identity::from_pem(&self.identity.cert, &self.identity.key))
            .client_ca_root(Certificate::from_pem(&self.ca_pem))
    }

    /// Client side: present our certificate and expect the server to be
    /// `server_name`.
    pub fn client_config(&self, server_name: &str) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca_pem))
            .identity(Identity::from_pem(&self.identity.cert, &self.identity.key))
            .domain_name(server_name)
    }
}

/// Whether the end-entity certificate is valid for DNS name `name`. The
/// chain itself was verified by the TLS handshake.
pub fn cert_matches(cert: &CertificateDer<'_>, name: &str) -> bool {
    let Ok(server_name) = ServerName::try_from(name) else {
        return false;
    };
    match webpki::EndEntityCert::try_from(cert) {
        Ok(ee) => ee.verify_is_valid_for_subject_name(&server_name).is_ok(),
        Err(_) => false,
    }
}

/// The roster agency whose `tls_identity` the peer's certificate carries.
pub fn peer_agency(
    certs: Option<Arc<Vec<CertificateDer<'static>>>>,
    roster: &Roster,
) -> PeerIdentity {
    let Some(certs) = certs else {
        return PeerIdentity::NoCertificate;
    };
    let Some(leaf) = certs.first() else {
        return PeerIdentity::NoCertificate;
    };
    match roster
        .agencies
        .values()
        .find(|a| cert_matches(leaf, &a.tls_identity))
    {
        Some(agency) => PeerIdentity::Agency(agency.agency_id.clone()),
        None => PeerIdentity::NotInRoster,
    }
}

/// Who is on the other end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerIdentity {
    /// No client certificate was presented.
    NoCertificate,
    /// A certificate from the CA, but for no agency in the roster.
    NotInRoster,
    /// The agency whose roster TLS identity the certificate carries.
    Agency(AgencyId),
}

/// How a node's connections are protected.
#[derive(Clone, Debug)]
pub enum Transport {
    /// Mutual TLS: the only setting for real use.
    MutualTls(TlsMaterial),
    /// No encryption and no authentication: peers name themselves in the
    /// `lintas-dev-agency` request header. For trying Lintas on one
    /// machine only; the node logs a warning when it starts.
    PlaintextForDevelopment,
}

/// The request header naming the calling agency in plaintext development
/// mode (ignored under mutual TLS).
pub const DEV_AGENCY_HEADER: &str = "lintas-dev-agency";

/// Who the caller of `request` is, under `transport`.
pub(crate) fn caller_of<T>(
    request: &tonic::Request<T>,
    transport: &Transport,
    roster: &Roster,
) -> PeerIdentity {
    match transport {
        Transport::MutualTls(_) => peer_agency(request.peer_certs(), roster),
        Transport::PlaintextForDevelopment => {
            let claimed = request
                .metadata()
                .get(DEV_AGENCY_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| AgencyId::parse(v).ok());
            match claimed {
                None => PeerIdentity::NoCertificate,
                Some(agency) if roster.agency(&agency).is_some() => PeerIdentity::Agency(agency),
                Some(_) => PeerIdentity::NotInRoster,
            }
        }
    }
}
