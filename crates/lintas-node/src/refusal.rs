//! Why the engine refused something: one typed error for every refusal a
//! node gives, each with the protocol's stable reason (docs/PROTOCOL.md,
//! section 9.8) and a class that a transport maps to its own status codes.

use lintas_core::ValidationError;
use lintas_core::roster::VerifyError;
use lintas_store::StoreError;

use crate::history::HistoryError;

/// The kind of refusal, for a transport to map onto its status codes
/// (gRPC: the variant of the same name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalClass {
    /// The input is malformed or breaks a rule.
    InvalidArgument,
    /// The caller is not entitled to do this.
    PermissionDenied,
    /// Not valid now (expired, from the future, roster expired).
    FailedPrecondition,
    /// What was asked for is not here.
    NotFound,
    /// A limit was exceeded.
    ResourceExhausted,
    /// This node failed; the caller may retry.
    Internal,
}

/// A refusal, with what was wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Malformed input or a broken validation rule.
    #[error("{0}")]
    Invalid(ValidationError),
    /// A notice or receipt failed verification against the roster.
    #[error("{0}")]
    Rejected(VerifyError),
    /// A notice its sender did not allow to be forwarded, or no longer
    /// deliverable.
    #[error("{0}")]
    NotForwardable(String),
    /// A roster offered for installation is not the next trusted version.
    #[error("{0}")]
    Roster(lintas_core::roster::RosterError),
    /// A notice delivered by an agency that is neither its sender nor a
    /// recipient allowed to forward it, or a receipt reported by another
    /// agency than its signer.
    #[error(
        "{what} signed by {signer} delivered by {peer}, which is neither its sender nor a recipient allowed to forward it"
    )]
    SenderNotPeer {
        /// "notice" or "receipt".
        what: &'static str,
        /// Who signed it.
        signer: String,
        /// Who delivered it.
        peer: String,
    },
    /// The notice is not addressed to this node's agency, or a receipt
    /// comes from an agency that was not a recipient.
    #[error("{0}")]
    NotARecipient(String),
    /// A history rule (docs/PROTOCOL.md, node rules).
    #[error(transparent)]
    History(HistoryError),
    /// A receipt for other bytes than the notice that was sent.
    #[error("the receipt is for other bytes than the notice sent")]
    ReceiptDigestMismatch,
    /// Not entitled to the notice, or it is not here (the same answer, so
    /// that nobody can probe which notices exist).
    #[error("{peer} is not entitled to notice {id}, or it is not here")]
    NotEntitled {
        /// The caller.
        peer: String,
        /// The notice asked for.
        id: String,
    },
    /// Not here (agency API only: the case system is entitled to know).
    #[error("{0}")]
    NotFound(String),
    /// This node's store failed.
    #[error("the node's store failed: {0}")]
    Store(#[from] StoreError),
    /// A log checkpoint offered for witnessing by another agency than the
    /// log's.
    #[error("{peer} offered a checkpoint of {origin}'s log; only a log's own node offers it")]
    NotLogOrigin {
        /// The caller.
        peer: String,
        /// The log of the checkpoint.
        origin: String,
    },
    /// A log checkpoint that does not extend the one cosigned before: the
    /// log forked (the evidence is kept).
    #[error("{0}")]
    LogInconsistent(String),
    /// The caller is over its budget of a limited call (identifier
    /// queries).
    #[error("{0}")]
    RateLimited(String),
    /// This node holds more identifiers of the asked kind than it lists
    /// in one answer (docs/PROTOCOL.md section 14.9).
    #[error("{0}")]
    MatchSetTooLarge(String),
}

impl Refusal {
    /// The protocol's stable reason, as carried in `lintas-reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Invalid(_) => "invalid_argument",
            Refusal::Rejected(e) => e.reason(),
            Refusal::Roster(e) => e.reason(),
            Refusal::NotForwardable(_) => "not_forwardable",
            Refusal::SenderNotPeer { .. } => "sender_not_peer",
            Refusal::NotARecipient(_) => "not_a_recipient",
            Refusal::History(HistoryError::NotOwnNotice { .. }) => "not_own_notice",
            Refusal::History(HistoryError::KindChanged { .. }) => "supersedes_other_kind",
            Refusal::History(HistoryError::NotAsked { .. }) => "not_asked",
            Refusal::History(HistoryError::WrongKind { .. }) => "wrong_kind_referenced",
            Refusal::History(HistoryError::NotInReferenced { .. }) => "not_in_referenced",
            Refusal::History(HistoryError::NotResponsible { .. }) => "not_responsible",
            Refusal::History(HistoryError::Unreadable(_)) => "store_failure",
            Refusal::History(HistoryError::Store(_)) | Refusal::Store(_) => "store_failure",
            Refusal::ReceiptDigestMismatch => "receipt_digest_mismatch",
            Refusal::NotEntitled { .. } => "not_entitled",
            Refusal::NotFound(_) => "not_found",
            Refusal::NotLogOrigin { .. } => "not_log_origin",
            Refusal::LogInconsistent(_) => "log_inconsistent",
            Refusal::RateLimited(_) => "rate_limited",
            Refusal::MatchSetTooLarge(_) => "match_set_too_large",
        }
    }

    /// Its class.
    pub fn class(&self) -> RefusalClass {
        match self {
            Refusal::Invalid(_) => RefusalClass::InvalidArgument,
            Refusal::Rejected(e) => verify_class(e),
            Refusal::Roster(lintas_core::roster::RosterError::Invalid(_)) => {
                RefusalClass::InvalidArgument
            }
            Refusal::Roster(_) | Refusal::NotForwardable(_) => RefusalClass::FailedPrecondition,
            Refusal::SenderNotPeer { .. }
            | Refusal::NotARecipient(_)
            | Refusal::ReceiptDigestMismatch
            | Refusal::NotEntitled { .. } => RefusalClass::PermissionDenied,
            Refusal::History(
                HistoryError::KindChanged { .. }
                | HistoryError::WrongKind { .. }
                | HistoryError::NotInReferenced { .. },
            ) => RefusalClass::InvalidArgument,
            Refusal::History(HistoryError::Store(_) | HistoryError::Unreadable(_))
            | Refusal::Store(_) => RefusalClass::Internal,
            Refusal::History(_) => RefusalClass::PermissionDenied,
            Refusal::NotFound(_) => RefusalClass::NotFound,
            Refusal::NotLogOrigin { .. } => RefusalClass::PermissionDenied,
            Refusal::LogInconsistent(_) | Refusal::MatchSetTooLarge(_) => {
                RefusalClass::FailedPrecondition
            }
            Refusal::RateLimited(_) => RefusalClass::ResourceExhausted,
        }
    }

    /// The field path at fault, when the input broke a field rule.
    pub fn field(&self) -> Option<&str> {
        match self {
            Refusal::Invalid(e)
            | Refusal::Rejected(VerifyError::InvalidBody(e))
            | Refusal::Roster(lintas_core::roster::RosterError::Invalid(e)) => {
                Some(e.path.as_str())
            }
            Refusal::History(HistoryError::KindChanged { .. }) => Some("supersedes"),
            Refusal::History(HistoryError::WrongKind { field, .. }) => Some(field),
            Refusal::History(HistoryError::NotInReferenced { field, .. }) => Some(field.as_str()),
            _ => None,
        }
    }

    /// The message for the caller: this node's store failures are reported
    /// without internals (they are logged in full).
    pub fn public_message(&self) -> String {
        match self {
            Refusal::Store(_)
            | Refusal::History(HistoryError::Store(_) | HistoryError::Unreadable(_)) => {
                "the node's store failed".into()
            }
            other => other.to_string(),
        }
    }

    /// An invalid field, prefixed with the request field it came in.
    pub fn invalid(error: ValidationError, within: &str) -> Self {
        Refusal::Invalid(error.within(within))
    }
}

impl From<HistoryError> for Refusal {
    fn from(e: HistoryError) -> Self {
        Refusal::History(e)
    }
}

impl From<VerifyError> for Refusal {
    fn from(e: VerifyError) -> Self {
        Refusal::Rejected(e)
    }
}

fn verify_class(error: &VerifyError) -> RefusalClass {
    match error {
        VerifyError::RosterExpired { .. }
        | VerifyError::Expired { .. }
        | VerifyError::CreatedInFuture { .. }
        | VerifyError::UnsupportedKind(_) => RefusalClass::FailedPrecondition,
        VerifyError::UnknownSender(_)
        | VerifyError::UnknownKey { .. }
        | VerifyError::KeyRevoked { .. }
        | VerifyError::SignerNotSender { .. }
        | VerifyError::KeyNotValidAtCreation { .. }
        | VerifyError::KindNotPermitted { .. }
        | VerifyError::NotCentralAuthority(_) => RefusalClass::PermissionDenied,
        _ => RefusalClass::InvalidArgument,
    }
}

/// Whether a recipient's refusal (its `lintas-reason`) is one no retry can
/// change: the notice or receipt itself is wrong for that recipient. Such
/// an entry leaves the outbox for the dead letters at once instead of
/// holding its case back (docs/PROTOCOL.md section 9.6, rule 6). Refusals
/// that may pass later (rate limits, clocks, a roster the recipient has not
/// installed yet, its store failing) are retried.
pub(crate) fn is_permanent(reason: &str) -> bool {
    matches!(
        reason,
        "invalid_argument"
            | "invalid_body"
            | "bad_signature"
            | "id_mismatch"
            | "signer_not_sender"
            | "key_not_valid_at_creation"
            | "kind_not_permitted"
            | "not_central_authority"
            | "sender_not_peer"
            | "not_a_recipient"
            | "not_own_notice"
            | "supersedes_other_kind"
            | "not_asked"
            | "wrong_kind_referenced"
            | "not_in_referenced"
            | "not_responsible"
            | "receipt_digest_mismatch"
            | "unsupported_kind"
            | "expired"
    )
}
