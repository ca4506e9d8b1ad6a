//! The one place where refusals become gRPC statuses.
//!
//! Each refusal carries the right code and two metadata entries a caller can
//! read: `lintas-reason` (a stable snake_case reason, the same names as the
//! test vectors) and, for invalid input, `lintas-field` (the field path).

use lintas_core::ValidationError;
use lintas_node::{Refusal, RefusalClass};
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

/// The gRPC code of a refusal class.
pub fn code(class: RefusalClass) -> Code {
    match class {
        RefusalClass::InvalidArgument => Code::InvalidArgument,
        RefusalClass::PermissionDenied => Code::PermissionDenied,
        RefusalClass::FailedPrecondition => Code::FailedPrecondition,
        RefusalClass::NotFound => Code::NotFound,
        RefusalClass::ResourceExhausted => Code::ResourceExhausted,
        _ => Code::Internal,
    }
}

/// An engine refusal, with its code, reason and field.
pub fn refused(refusal: &Refusal) -> Status {
    if matches!(refusal.class(), RefusalClass::Internal) {
        tracing::error!(error = %refusal, "node failure");
    }
    with_reason(
        code(refusal.class()),
        refusal.public_message(),
        refusal.reason(),
        refusal.field(),
    )
}

/// Invalid input: `InvalidArgument`, naming the field (prefixed with the
/// request field it came in, e.g. `notice`).
pub fn invalid(error: &ValidationError, within: &str) -> Status {
    refused(&Refusal::invalid(error.clone(), within))
}

/// A required request field is absent.
pub fn missing(field: &str) -> Status {
    invalid(&ValidationError::missing(field), "")
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

/// The caller exceeded a limit.
pub fn exhausted(message: String, reason: &str) -> Status {
    with_reason(Code::ResourceExhausted, message, reason, None)
}
