//! The officer of agency API calls (docs/PROTOCOL.md section 14.8): a case
//! system names the user on whose behalf it calls in the `lintas-officer`
//! metadata; calls that read personal data need it, and the node logs it.

use tonic::metadata::AsciiMetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::agency::OFFICER_HEADER;
use crate::pb::agency_api_client::AgencyApiClient;

/// Adds an officer's id to every call of a client.
#[derive(Debug, Clone)]
pub struct Officer(AsciiMetadataValue);

impl Officer {
    /// The officer `id`: 1 to 128 characters from `A-Z a-z 0-9 . _ - @ : /
    /// +` (the case system's own user id).
    ///
    /// # Errors
    /// Any other text.
    pub fn new(id: &str) -> Result<Self, lintas_core::ValidationError> {
        lintas_node::access::check_officer(id)?;
        id.parse()
            .map(Officer)
            .map_err(|_| lintas_core::ValidationError::invalid(OFFICER_HEADER, "visible ASCII", id))
    }
}

impl tonic::service::Interceptor for Officer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert(OFFICER_HEADER, self.0.clone());
        Ok(request)
    }
}

/// An agency API client whose calls name their officer.
pub type AgencyClient = AgencyApiClient<InterceptedService<Channel, Officer>>;

/// An agency API client over `channel` whose calls name `officer`.
pub fn agency_client(channel: Channel, officer: Officer) -> AgencyClient {
    AgencyApiClient::with_interceptor(channel, officer)
}
