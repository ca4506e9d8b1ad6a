//! The one place where errors become gRPC statuses.
//!
//! Each refusal carries the right code and two metadata entries a caller can
//! read: `lintas-reason` (a stable snake_case reason, the same names as the
//! test vectors) and, for invalid input, `lintas-field` (the field path).

use lintas_core::ValidationError;
use lintas_core::roster::VerifyError;
use lintas_store::StoreError;
use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

use crate::tls::PeerIdentity;

fn with_reason(code: Code, message: String, reason: &str, field: Option<&str>) -> Status {
    let mut status = Status::new(code, message);
    if let Ok(value) = MetadataValue::try_from(reason) {
        status.metadata_mut().insert("lintas-reason", value);
    }
    if let Some(field) = field.and_then(|f| MetadataValue::try_from(f).ok()) {
        status.metadata_mut().insert("lintas-field", field);
    }
    status
}

/// Invalid input: `InvalidArgument`, naming the field (prefixed with the
/// request field it came in, e.g. `notice`).
pub fn invalid(error: &ValidationError, within: &str) -> Status {
    let error = error.clone().within(within);
    with_reason(
        Code::InvalidArgument,
        error.to_string(),
        "invalid_argument",
        Some(&error.path),
    )
}

/// A required request field is absent.
pub fn missing(field: &str) -> Status {
    invalid(&ValidationError::missing(field), "")
}

/// A notice or receipt that failed verification.
pub fn rejected(error: &VerifyError) -> Status {
    let (code, reason) = match error {
        VerifyError::RosterExpired { .. } => (Code::FailedPrecondition, "roster_expired"),
        VerifyError::UnknownSender(_) => (Code::PermissionDenied, "unknown_sender"),
        VerifyError::UnknownKey { .. } => (Code::PermissionDenied, "unknown_key"),
        VerifyError::KeyRevoked { .. } => (Code::PermissionDenied, "key_revoked"),
        VerifyError::BadSignature { .. } => (Code::InvalidArgument, "bad_signature"),
        VerifyError::IdMismatch { .. } => (Code::InvalidArgument, "id_mismatch"),
        VerifyError::InvalidBody(_) => (Code::InvalidArgument, "invalid_body"),
        VerifyError::SignerNotSender { .. } => (Code::PermissionDenied, "signer_not_sender"),
        VerifyError::KeyNotValidAtCreation { .. } => {
            (Code::PermissionDenied, "key_not_valid_at_creation")
        }
        VerifyError::KindNotPermitted { .. } => (Code::PermissionDenied, "kind_not_permitted"),
        VerifyError::UnknownRecipient(_) => (Code::InvalidArgument, "unknown_recipient"),
        VerifyError::Expired { .. } => (Code::FailedPrecondition, "expired"),
        VerifyError::CreatedInFuture { .. } => (Code::FailedPrecondition, "created_in_future"),
        _ => (Code::InvalidArgument, "rejected"),
    };
    let field = match error {
        VerifyError::InvalidBody(e) => Some(e.path.as_str()),
        _ => None,
    };
    with_reason(code, error.to_string(), reason, field)
}

/// A caller whose certificate does not identify an acceptable party.
pub fn peer(identity: &PeerIdentity) -> Status {
    match identity {
        PeerIdentity::NoCertificate => with_reason(
            Code::Unauthenticated,
            "a client certificate is required".into(),
            "no_client_certificate",
            None,
        ),
        PeerIdentity::NotInRoster => with_reason(
            Code::PermissionDenied,
            "the client certificate names no agency in the roster".into(),
            "peer_not_in_roster",
            None,
        ),
        PeerIdentity::Agency(agency) => with_reason(
            Code::PermissionDenied,
            format!("{agency} may not call this service"),
            "peer_not_allowed",
            None,
        ),
    }
}

/// Refused for who the caller is, with a reason.
pub fn denied(message: String, reason: &str) -> Status {
    with_reason(Code::PermissionDenied, message, reason, None)
}

/// Something asked for is not here.
pub fn not_found(message: String) -> Status {
    with_reason(Code::NotFound, message, "not_found", None)
}

/// The caller exceeded a limit.
pub fn exhausted(message: String, reason: &str) -> Status {
    with_reason(Code::ResourceExhausted, message, reason, None)
}

/// A failure of this node's storage: logged in full, reported without
/// internals.
pub fn store(error: StoreError) -> Status {
    tracing::error!(%error, "store failure");
    with_reason(
        Code::Internal,
        "the node's store failed".into(),
        "store_failure",
        None,
    )
}

/// A notice this node was asked to send and could not.
pub fn submit(error: crate::outbound::SubmitError, within: &str) -> Status {
    use crate::outbound::SubmitError;
    match error {
        SubmitError::Invalid(e) => invalid(&e, within),
        SubmitError::Refused(e) => rejected(&e),
        SubmitError::Store(e) => store(e),
        SubmitError::History(e) => history(e),
    }
}

/// A notice breaking a rule about earlier notices.
pub fn history(error: crate::history::HistoryError) -> Status {
    use crate::history::HistoryError;
    match error {
        HistoryError::NotOwnNotice { .. } => denied(error.to_string(), "not_own_notice"),
        HistoryError::KindChanged { .. } => with_reason(
            Code::InvalidArgument,
            error.to_string(),
            "supersedes_other_kind",
            Some("supersedes"),
        ),
        HistoryError::NotAsked { .. } => denied(error.to_string(), "not_asked"),
        HistoryError::Store(e) => store(e),
    }
}
