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
    if refusal.reason() == "store_failure" {
        // The engine logs a store failure where it happens, once until
        // the store recovers, not once per refused call.
        tracing::debug!(error = %refusal, "refused: store failure");
    } else if matches!(refusal.class(), RefusalClass::Internal) {
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

/// A caller whose certificate (in plaintext development mode, its
/// self-naming header) identifies no agency of the roster: none at all
/// (`no_client_certificate`) or one the roster does not hold
/// (`peer_not_in_roster`).
pub fn unidentified(identity: &PeerIdentity) -> Status {
    match identity {
        PeerIdentity::NoCertificate => with_reason(
            Code::Unauthenticated,
            "a client certificate is required".into(),
            "no_client_certificate",
            None,
        ),
        PeerIdentity::NotInRoster | PeerIdentity::Agency(_) => with_reason(
            Code::PermissionDenied,
            "the client certificate names no agency in the roster".into(),
            "peer_not_in_roster",
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

/// Answers a request that ran past `limit` with `CANCELLED`,
/// `request_timeout`. A layer of the node's own (rather than tonic's
/// server timeout, whose answer is made outside every layer and so
/// carried no reason).
pub async fn within<F, E>(
    limit: std::time::Duration,
    call: F,
) -> Result<http::Response<tonic::body::Body>, E>
where
    F: std::future::Future<Output = Result<http::Response<tonic::body::Body>, E>>,
{
    match tokio::time::timeout(limit, call).await {
        Ok(answer) => answer,
        Err(_) => Ok(with_reason(
            Code::Cancelled,
            format!("the request ran past the node's limit of {limit:?}"),
            "request_timeout",
            None,
        )
        .into_http()),
    }
}

/// The `lintas-reason` of a status that tonic or a transport layer
/// produced before any Lintas handler ran (so without a reason): a message
/// over the size limit, bytes that do not decode, an unknown method, a
/// request over its time limit.
fn transport_reason(code: i32, message: &[u8]) -> &'static str {
    let message = String::from_utf8_lossy(message);
    match code {
        11 => "message_too_large",
        13 if message.contains("decode") => "undecodable",
        12 => "unimplemented",
        1 | 4 => "request_timeout",
        8 => "resource_exhausted",
        14 => "unavailable",
        _ => "unspecified",
    }
}

/// Gives every refusal a `lintas-reason`, including those tonic answers by
/// itself (docs/PROTOCOL.md section 9.8): applied to every response of the
/// server; a response that already has one, or no `grpc-status` in its
/// headers (a successful or streaming answer), is left as it is.
pub fn fill_reason(
    mut response: http::Response<tonic::body::Body>,
) -> http::Response<tonic::body::Body> {
    let headers = response.headers();
    let Some(code) = headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
    else {
        return response;
    };
    if code == 0 || headers.contains_key("lintas-reason") {
        return response;
    }
    let message = headers
        .get("grpc-message")
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    let reason = transport_reason(code, &message);
    response
        .headers_mut()
        .insert("lintas-reason", http::HeaderValue::from_static(reason));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_made_before_any_handler_get_the_reason_of_their_code() {
        // The node's own integration tests provoke the first four on a
        // running node; the reference's own limits answer with their own
        // reasons, so a bare RESOURCE_EXHAUSTED or UNAVAILABLE comes only
        // from the transport.
        let cases = [
            (11, "decoded message length too large", "message_too_large"),
            (13, "failed to decode Protobuf message", "undecodable"),
            (12, "", "unimplemented"),
            (1, "Timeout expired", "request_timeout"),
            (4, "", "request_timeout"),
            (8, "", "resource_exhausted"),
            (14, "", "unavailable"),
            (13, "something else", "unspecified"),
            (2, "", "unspecified"),
        ];
        for (code, message, reason) in cases {
            assert_eq!(
                transport_reason(code, message.as_bytes()),
                reason,
                "{code} {message}"
            );
        }
    }
}
