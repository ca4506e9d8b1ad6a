//! Reading a refusal: its code, `lintas-reason` and `lintas-field`, and
//! whether it is the one PROTOCOL 9.8 says.

use tonic::Code;

/// A check's outcome: what was seen when it passed, why when it failed.
pub(crate) type Outcome = Result<String, String>;

/// The gRPC code PROTOCOL 9.8 gives a reason.
pub(crate) fn code_of(reason: &str) -> Code {
    match reason {
        "no_client_certificate" => Code::Unauthenticated,
        "invalid_argument"
        | "bad_signature"
        | "id_mismatch"
        | "invalid_body"
        | "unknown_recipient"
        | "supersedes_other_kind"
        | "wrong_kind_referenced"
        | "not_in_referenced"
        | "roster_invalid" => Code::InvalidArgument,
        "expired"
        | "created_in_future"
        | "roster_expired"
        | "unsupported_kind"
        | "not_forwardable"
        | "roster_rollback"
        | "roster_version_gap"
        | "roster_threshold_not_met"
        | "roster_issued_before_trusted"
        | "log_inconsistent"
        | "match_set_too_large" => Code::FailedPrecondition,
        "rate_limited" | "quota_exceeded" | "batch_too_large" | "resource_exhausted" => {
            Code::ResourceExhausted
        }
        "not_found" => Code::NotFound,
        "message_too_large" => Code::OutOfRange,
        "store_failure" | "undecodable" => Code::Internal,
        "unimplemented" => Code::Unimplemented,
        "unavailable" => Code::Unavailable,
        _ => Code::PermissionDenied,
    }
}

/// A refusal for a report line: `refused: CODE REASON (MESSAGE)`.
pub(crate) fn refused(status: &tonic::Status) -> String {
    format!(
        "refused: {:?} {} ({})",
        status.code(),
        reason(status),
        status.message()
    )
}

/// The `lintas-reason` of a refusal, or `(none)`.
pub(crate) fn reason(status: &tonic::Status) -> String {
    status
        .metadata()
        .get("lintas-reason")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("(none)")
        .to_owned()
}

pub(crate) fn field(status: &tonic::Status) -> String {
    status
        .metadata()
        .get("lintas-field")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Passes when `answer` is a refusal with `code`, `reason` and (when
/// given) `field`.
pub(crate) fn expect_refusal<T>(
    answer: Result<tonic::Response<T>, tonic::Status>,
    code: Code,
    expected: &str,
    expected_field: Option<&str>,
) -> Outcome {
    let status = match answer {
        Ok(_) => return Err(format!("accepted; expected {code:?} {expected}")),
        Err(status) => status,
    };
    let got = (status.code(), reason(&status));
    if got != (code, expected.to_owned()) {
        return Err(format!(
            "{:?} {} ({}); expected {code:?} {expected}",
            got.0,
            got.1,
            status.message()
        ));
    }
    if let Some(want) = expected_field
        && field(&status) != want
    {
        return Err(format!("field {:?}; expected {want:?}", field(&status)));
    }
    Ok(match expected_field {
        Some(f) => format!("{code:?} {expected}, field {f}"),
        None => format!("{code:?} {expected}"),
    })
}
