//! Signing a notice as this node's agency and queueing it for delivery.

use lintas_core::ValidationError;
use lintas_core::ids::NoticeId;
use lintas_core::notice::NoticeBody;
use lintas_core::roster::VerifyError;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::Priority;
use lintas_store::{Direction, StoreError};
use tracing::info;

use crate::peer::stored;
use crate::state::NodeState;

/// Why a notice could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The draft is invalid.
    #[error("invalid notice: {0}")]
    Invalid(#[from] ValidationError),
    /// The roster would make every recipient refuse it (kind not permitted,
    /// unknown recipient, key not valid...).
    #[error("recipients would refuse this notice: {0}")]
    Refused(#[from] VerifyError),
    /// The node's store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// It breaks a rule about earlier notices.
    #[error(transparent)]
    History(#[from] crate::HistoryError),
}

impl NodeState {
    /// Signs `body` as this agency with the next sequence number and queues
    /// it to every recipient. The sender and sequence in `body` are
    /// replaced.
    pub(crate) async fn sign_and_queue(
        &self,
        mut body: NoticeBody,
    ) -> Result<(NoticeId, u64), SubmitError> {
        body.sender = self.agency.clone();
        let sequence = self.store(|s| s.reserve_sequence()).await?;
        body.sequence = sequence;
        let (id, signed) = SignedNotice::sign(&body, &self.key)?;
        // Check against the roster as a recipient will, so a notice every
        // recipient refuses is never queued.
        let verified = self.roster().verify_notice(&signed, Timestamp::now())?;
        self.check_history(&verified.body).await?;
        let priority = match body.handling.priority {
            Priority::Urgent => 1,
            Priority::High => 2,
            Priority::Routine => 3,
        };
        let record = stored(&verified, Direction::Sent, &self.agency);
        self.store(move |s| s.record_sent(&id, &record, priority))
            .await?;
        info!(notice = %id, kind = body.kind().wire_name(), sequence, recipients = body.recipients.len(), "notice signed and queued");
        self.metrics.notices_sent.inc();
        self.outbox_wake.notify_one();
        Ok((id, sequence))
    }
}
