//! Rules that need what a node has seen before: a notice may only
//! supersede or withdraw its own sender's earlier notice (superseding only
//! one of the same kind), and an assistance response answers a request
//! addressed to its sender. A node checks what it can: when it does not
//! hold the referenced notice, it cannot judge and accepts.

use lintas_core::ids::NoticeId;
use lintas_core::notice::{NoticeBody, NoticeContent};
use lintas_core::vocab::NoticeKind;
use lintas_store::StoreError;

use crate::Engine;

/// A history rule a notice breaks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// It supersedes or withdraws a notice of another sender.
    #[error("{what} {target} was sent by {owner}, not by {sender}")]
    NotOwnNotice {
        /// "superseded notice" or "withdrawn notice".
        what: &'static str,
        /// The referenced notice.
        target: NoticeId,
        /// Its sender.
        owner: String,
        /// This notice's sender.
        sender: String,
    },
    /// It supersedes a notice of another kind.
    #[error("superseded notice {target} is a {found}, not a {expected}")]
    KindChanged {
        /// The superseded notice.
        target: NoticeId,
        /// Its kind.
        found: &'static str,
        /// This notice's kind.
        expected: &'static str,
    },
    /// It answers a request that was not addressed to its sender.
    #[error("assistance request {target} was not addressed to {sender}")]
    NotAsked {
        /// The request.
        target: NoticeId,
        /// The responder.
        sender: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Engine {
    /// Checks `body` against the notices this node holds.
    pub(crate) fn check_history(&self, body: &NoticeBody) -> Result<(), HistoryError> {
        let sender = body.sender.to_string();
        if let Some(target) = body.supersedes
            && let Some(earlier) = self.store().notice(&target)?
        {
            if earlier.sender != sender {
                return Err(HistoryError::NotOwnNotice {
                    what: "superseded notice",
                    target,
                    owner: earlier.sender,
                    sender,
                });
            }
            if earlier.kind != body.kind().to_wire() {
                return Err(HistoryError::KindChanged {
                    target,
                    found: NoticeKind::from_wire(earlier.kind)
                        .map(NoticeKind::wire_name)
                        .unwrap_or("notice of unknown kind"),
                    expected: body.kind().wire_name(),
                });
            }
        }
        match &body.content {
            NoticeContent::Withdrawal(w) => {
                if let Some(earlier) = self.store().notice(&w.withdrawn)?
                    && earlier.sender != sender
                {
                    return Err(HistoryError::NotOwnNotice {
                        what: "withdrawn notice",
                        target: w.withdrawn,
                        owner: earlier.sender,
                        sender,
                    });
                }
            }
            NoticeContent::AssistanceResponse(r) => {
                if let Some(request) = self.store().notice(&r.request)?
                    && !request.recipients.contains(&sender)
                {
                    return Err(HistoryError::NotAsked {
                        target: r.request,
                        sender,
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }
}
