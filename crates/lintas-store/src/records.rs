//! The records kept in the store, encoded with protobuf (prost) so they can
//! grow new fields without migrations.

use prost::Message;

use crate::StoreError;

/// Whether this node sent or received a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, prost::Enumeration)]
#[repr(i32)]
pub enum Direction {
    /// Unknown (never stored).
    Unspecified = 0,
    /// Signed and sent by this node's agency.
    Sent = 1,
    /// Received from a peer.
    Received = 2,
}

/// A notice as stored: the exact envelope plus what the node indexes it by.
#[derive(Clone, PartialEq, Message)]
pub struct StoredNotice {
    /// The `SignedNotice` envelope, exactly as signed or received.
    #[prost(bytes = "vec", tag = "1")]
    pub envelope: Vec<u8>,
    /// Sent or received.
    #[prost(enumeration = "Direction", tag = "2")]
    pub direction: i32,
    /// When this node stored it (Unix seconds).
    #[prost(int64, tag = "3")]
    pub stored_at: i64,
    /// Case id, empty if none.
    #[prost(string, tag = "4")]
    pub case_id: String,
    /// Notice kind (wire value).
    #[prost(int32, tag = "5")]
    pub kind: i32,
    /// Sender agency id.
    #[prost(string, tag = "6")]
    pub sender: String,
    /// Recipient agency ids.
    #[prost(string, repeated, tag = "7")]
    pub recipients: Vec<String>,
    /// Creation time (Unix seconds).
    #[prost(int64, tag = "8")]
    pub created_at: i64,
    /// Response deadline (Unix seconds), 0 if none.
    #[prost(int64, tag = "9")]
    pub response_deadline: i64,
    /// Expiry (Unix seconds).
    #[prost(int64, tag = "10")]
    pub expires_at: i64,
    /// Inbox cursor, for received notices.
    #[prost(uint64, tag = "11")]
    pub inbox_cursor: u64,
    /// The agency that delivered it to us (the sender, or a relay).
    #[prost(string, tag = "12")]
    pub delivered_by: String,
    /// Nanoseconds of the creation time.
    #[prost(uint32, tag = "13")]
    pub created_at_nanos: u32,
    /// For a notice this node signed: the protected parts each recipient
    /// was given (docs/PROTOCOL.md section 14.3).
    #[prost(message, repeated, tag = "14")]
    pub given: Vec<GivenParts>,
    /// Set once the notice's personal data was removed (docs/PROTOCOL.md
    /// section 14.6): the encoded `Tombstone`; `envelope` is then empty.
    #[prost(bytes = "vec", tag = "15")]
    pub tombstone: Vec<u8>,
}

/// The protected parts of a notice one recipient was given.
#[derive(Clone, PartialEq, Message)]
pub struct GivenParts {
    /// The recipient's agency id.
    #[prost(string, tag = "1")]
    pub recipient: String,
    /// The commitments disclosed to it (32 bytes each).
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub commitments: Vec<Vec<u8>>,
}

impl StoredNotice {
    /// Whether the notice's personal data was removed: only the tombstone
    /// and the index fields are left.
    pub fn is_purged(&self) -> bool {
        !self.tombstone.is_empty()
    }

    /// The commitments `recipient` was given, as recorded (none if not
    /// recorded).
    pub fn given_to(&self, recipient: &str) -> Vec<Vec<u8>> {
        self.given
            .iter()
            .find(|g| g.recipient == recipient)
            .map(|g| g.commitments.clone())
            .unwrap_or_default()
    }
}

/// What an outbox entry carries.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum OutboxPayload {
    /// Deliver this notice (by id; the envelope is in the notices table).
    #[prost(bytes, tag = "10")]
    Notice(Vec<u8>),
    /// Report this signed receipt to the notice's sender.
    #[prost(bytes, tag = "11")]
    Receipt(Vec<u8>),
}

/// Something waiting to be sent to a peer.
#[derive(Clone, PartialEq, Message)]
pub struct OutboxEntry {
    /// Position in the outbox (assigned by the store; order of enqueueing).
    #[prost(uint64, tag = "1")]
    pub seq: u64,
    /// The agency to send it to.
    #[prost(string, tag = "2")]
    pub recipient: String,
    /// Case id, empty if none: entries of one case go to a recipient in
    /// order.
    #[prost(string, tag = "3")]
    pub case_id: String,
    /// 1 urgent, 2 high, 3 routine: lower goes first.
    #[prost(uint32, tag = "4")]
    pub priority: u32,
    /// Delivery attempts so far.
    #[prost(uint32, tag = "5")]
    pub attempts: u32,
    /// Not before this time (Unix milliseconds).
    #[prost(int64, tag = "6")]
    pub next_attempt_ms: i64,
    /// The last failure, for operators.
    #[prost(string, tag = "7")]
    pub last_error: String,
    /// After this time (Unix seconds) the entry is dropped: the notice has
    /// expired.
    #[prost(int64, tag = "8")]
    pub expires_at: i64,
    /// What to send.
    #[prost(oneof = "OutboxPayload", tags = "10, 11")]
    pub payload: Option<OutboxPayload>,
    /// For a notice: the commitments of the protected parts to disclose to
    /// this recipient (docs/PROTOCOL.md section 14.3); none when empty.
    #[prost(bytes = "vec", repeated, tag = "12")]
    pub disclosed: Vec<Vec<u8>>,
}

impl OutboxEntry {
    /// A delivery of notice `id` (stored as `notice`) to `recipient`, not
    /// yet numbered or tried.
    pub(crate) fn delivery(
        id: &lintas_core::ids::NoticeId,
        notice: &StoredNotice,
        recipient: &str,
        priority: u32,
    ) -> Self {
        OutboxEntry {
            seq: 0,
            recipient: recipient.to_owned(),
            case_id: notice.case_id.clone(),
            priority,
            attempts: 0,
            next_attempt_ms: 0,
            last_error: String::new(),
            expires_at: notice.expires_at,
            payload: Some(OutboxPayload::Notice(id.as_bytes().to_vec())),
            disclosed: notice.given_to(recipient),
        }
    }
}

/// The delivery backoff of a peer that did not answer: while it is down,
/// one probe goes out at `retry_at_ms`; when it answers, the record is
/// removed and everything queued for it goes.
#[derive(Clone, PartialEq, Message)]
pub struct PeerRetry {
    /// Consecutive failed attempts.
    #[prost(uint32, tag = "1")]
    pub failures: u32,
    /// The next probe (Unix milliseconds). After a restart the node waits
    /// no longer than one maximum backoff from its start, whatever the
    /// wall clock did meanwhile.
    #[prost(int64, tag = "2")]
    pub retry_at_ms: i64,
    /// The last failure, for operators.
    #[prost(string, tag = "3")]
    pub last_error: String,
}

/// An attachment this node holds, or is fetching from a peer.
#[derive(Clone, PartialEq, Message)]
pub struct AttachmentRecord {
    /// Its size in bytes (as the notice declares it, or as uploaded).
    #[prost(uint64, tag = "1")]
    pub size: u64,
    /// Bytes stored so far, from the start (all of them when complete).
    #[prost(uint64, tag = "2")]
    pub received: u64,
    /// True once all bytes are stored and verified against the digest.
    #[prost(bool, tag = "3")]
    pub complete: bool,
    /// The agency to fetch it from; empty when uploaded here.
    #[prost(string, tag = "4")]
    pub fetch_from: String,
    /// The notice it came with (32 bytes; empty when uploaded here).
    #[prost(bytes = "vec", tag = "5")]
    pub notice_id: Vec<u8>,
    /// Failed attempts to fetch it.
    #[prost(uint32, tag = "6")]
    pub attempts: u32,
    /// Not before this (Unix milliseconds).
    #[prost(int64, tag = "7")]
    pub retry_at_ms: i64,
    /// The last failure, for operators.
    #[prost(string, tag = "8")]
    pub last_error: String,
    /// Its media type.
    #[prost(string, tag = "9")]
    pub media_type: String,
}

/// What a peer may still hand over to this node (its daily quota), as the
/// agency's replicas last settled it together.
#[derive(Clone, PartialEq, Message)]
pub struct PeerQuota {
    /// KiB left; negative when replicas together let the peer run over.
    #[prost(double, tag = "1")]
    pub available_kib: f64,
    /// When `available_kib` was computed (Unix milliseconds).
    #[prost(int64, tag = "2")]
    pub at_ms: i64,
}

impl PeerQuota {
    /// The quota after `used_kib` more at `now_ms`: first refilled for the
    /// time since it was computed (`refill_kib_per_ms`, up to
    /// `capacity_kib`), then charged. A clock that went back refills
    /// nothing.
    pub fn settled(
        previous: Option<&PeerQuota>,
        used_kib: f64,
        capacity_kib: f64,
        refill_kib_per_ms: f64,
        now_ms: i64,
    ) -> PeerQuota {
        let (available, at) =
            previous.map_or((capacity_kib, now_ms), |q| (q.available_kib, q.at_ms));
        let elapsed = now_ms.saturating_sub(at).max(0) as f64;
        let refilled = (available + elapsed * refill_kib_per_ms).min(capacity_kib);
        PeerQuota {
            available_kib: refilled - used_kib,
            at_ms: at.max(now_ms),
        }
    }
}

/// Reads a stored 32-byte hash, naming it if it is damaged.
pub(crate) fn hash32(bytes: &[u8], what: &str) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt {
        what: what.to_owned(),
        detail: format!("{} bytes, expected 32", bytes.len()),
    })
}

/// Decodes a stored record, naming it if it is damaged.
pub(crate) fn decode<M: Message + Default>(bytes: &[u8], what: &str) -> Result<M, StoreError> {
    M::decode(bytes).map_err(|e| StoreError::Corrupt {
        what: what.to_owned(),
        detail: e.to_string(),
    })
}
