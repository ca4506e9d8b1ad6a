//! The store-and-forward delivery loop.
//!
//! Everything a node sends waits in the outbox until the recipient's node
//! has answered with a valid receipt. The loop:
//!
//! - sends to each recipient one entry at a time, so entries of one case
//!   reach a recipient in the order they were queued;
//! - among the entries each recipient can take next, sends urgent before
//!   high before routine;
//! - retries failures with exponential backoff and jitter, persisted in the
//!   store, so retries survive restarts;
//! - drops entries whose notice has expired (they could never be accepted).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::pb as wire;
use lintas_core::receipt::{SignedReceipt, body_digest};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_store::{OutboxEntry, OutboxPayload};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::transport::{Channel, Endpoint};
use tracing::{info, warn};

use crate::pb::peer_exchange_client::PeerExchangeClient;
use crate::state::NodeState;
use crate::tls::Transport;

/// First retry delay.
const BASE_DELAY_MS: i64 = 250;
/// Longest retry delay.
const MAX_DELAY_MS: i64 = 60_000;
/// How long one delivery attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The delay before attempt `attempts + 1`: exponential, capped, with
/// jitter in its upper half so peers coming back are not hit all at once.
pub fn backoff_ms(attempts: u32) -> i64 {
    let exp = BASE_DELAY_MS.saturating_mul(1_i64 << attempts.min(20));
    let ceiling = exp.min(MAX_DELAY_MS);
    ceiling / 2 + fastrand::i64(0..=ceiling / 2)
}

fn now_ms() -> i64 {
    let now = Timestamp::now();
    now.unix_seconds() * 1000 + i64::from(now.subsec_nanos() / 1_000_000)
}

/// Chooses what to send now: per recipient, the entries not blocked by an
/// earlier entry of the same case to the same recipient; among those that
/// are due, the most urgent (then the oldest). Recipients already busy are
/// skipped.
pub fn next_batch(
    outbox: &[OutboxEntry],
    busy: &BTreeSet<String>,
    now_ms: i64,
) -> (Vec<OutboxEntry>, Option<i64>) {
    let mut blocked: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut best: BTreeMap<&str, &OutboxEntry> = BTreeMap::new();
    let mut earliest: Option<i64> = None;
    for entry in outbox {
        let case_key = (entry.recipient.as_str(), entry.case_id.as_str());
        let ordered = !entry.case_id.is_empty();
        if ordered && !blocked.insert(case_key) {
            continue; // an earlier entry of this case to this recipient goes first
        }
        if busy.contains(&entry.recipient) {
            continue;
        }
        if entry.next_attempt_ms > now_ms {
            earliest =
                Some(earliest.map_or(entry.next_attempt_ms, |e| e.min(entry.next_attempt_ms)));
            continue;
        }
        let slot = best.entry(entry.recipient.as_str()).or_insert(entry);
        if (entry.priority, entry.seq) < (slot.priority, slot.seq) {
            *slot = entry;
        }
    }
    (best.into_values().cloned().collect(), earliest)
}

/// Runs the loop until `shutdown`.
pub(crate) async fn run(state: Arc<NodeState>, shutdown: CancellationToken) {
    let tasks = TaskTracker::new();
    let busy: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let channels: Arc<Mutex<BTreeMap<AgencyId, Channel>>> = Arc::default();
    loop {
        let outbox = match state.store(|s| s.outbox()).await {
            Ok(o) => o,
            Err(e) => {
                warn!(error = %e, "cannot read the outbox; retrying");
                Vec::new()
            }
        };
        state
            .metrics
            .outbox_entries
            .set(i64::try_from(outbox.len()).unwrap_or(i64::MAX));
        let (batch, earliest) = {
            let busy = busy.lock().await;
            next_batch(&outbox, &busy, now_ms())
        };
        for entry in batch {
            busy.lock().await.insert(entry.recipient.clone());
            let state = Arc::clone(&state);
            let busy = Arc::clone(&busy);
            let channels = Arc::clone(&channels);
            tasks.spawn(async move {
                let recipient = entry.recipient.clone();
                attempt(&state, &channels, entry).await;
                busy.lock().await.remove(&recipient);
                state.outbox_wake.notify_one();
            });
        }
        let wait = earliest
            .map(|at| Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0).max(10)))
            .unwrap_or(Duration::from_secs(30));
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = state.outbox_wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
    tasks.close();
    tasks.wait().await;
}

/// One delivery attempt; records success or schedules a retry.
async fn attempt(
    state: &NodeState,
    channels: &Mutex<BTreeMap<AgencyId, Channel>>,
    entry: OutboxEntry,
) {
    let seq = entry.seq;
    if entry.expires_at > 0 && Timestamp::now().unix_seconds() >= entry.expires_at {
        warn!(seq, recipient = %entry.recipient, "dropping an expired outbox entry");
        if let Err(e) = state.store(move |s| s.complete(seq, None)).await {
            warn!(error = %e, "cannot drop an expired outbox entry");
        }
        return;
    }
    let result = send(state, channels, &entry).await;
    let outcome = if result.is_ok() {
        "delivered"
    } else {
        "failed"
    };
    state
        .metrics
        .deliveries
        .get_or_create(&crate::metrics::Outcome { outcome })
        .inc();
    match result {
        Ok(receipt) => {
            let stored = state
                .store(move |s| match &receipt {
                    Some((id, stage, receiver, bytes)) => {
                        s.complete(seq, Some((id, *stage, receiver.as_str(), bytes.as_slice())))
                    }
                    None => s.complete(seq, None),
                })
                .await;
            if let Err(e) = stored {
                warn!(error = %e, seq, "delivered but could not record it; will resend (the peer deduplicates)");
            }
        }
        Err(error) => {
            let attempts = entry.attempts.saturating_add(1);
            let delay = backoff_ms(entry.attempts);
            warn!(seq, recipient = %entry.recipient, attempts, delay_ms = delay, %error, "delivery failed; will retry");
            if matches!(&error, AttemptError::Transport(_))
                && let Ok(agency) = AgencyId::parse(&entry.recipient)
            {
                channels.lock().await.remove(&agency);
            }
            let next = now_ms() + delay;
            let message = error.to_string();
            if let Err(e) = state
                .store(move |s| s.reschedule(seq, attempts, next, &message))
                .await
            {
                warn!(error = %e, "cannot reschedule");
            }
        }
    }
}

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error("recipient {0} is not in the roster")]
    UnknownRecipient(String),
    #[error("cannot connect: {0}")]
    Transport(String),
    #[error("refused: {0}")]
    Refused(tonic::Status),
    #[error("bad receipt: {0}")]
    BadReceipt(String),
    #[error("store: {0}")]
    Store(String),
}

type ReceiptRecord = (NoticeId, u8, String, Vec<u8>);

async fn client(
    state: &NodeState,
    channels: &Mutex<BTreeMap<AgencyId, Channel>>,
    recipient: &AgencyId,
) -> Result<PeerExchangeClient<Channel>, AttemptError> {
    let mut cache = channels.lock().await;
    let wrap = |channel: Channel| {
        PeerExchangeClient::new(channel)
            .max_decoding_message_size(state.limits.max_message_bytes)
            .max_encoding_message_size(state.limits.max_message_bytes)
    };
    if let Some(channel) = cache.get(recipient) {
        return Ok(wrap(channel.clone()));
    }
    let (endpoint, tls_name) = state
        .endpoint_of(recipient)
        .ok_or_else(|| AttemptError::UnknownRecipient(recipient.to_string()))?;
    let endpoint = match &state.transport {
        Transport::MutualTls(tls) => Endpoint::from_shared(endpoint)
            .map_err(|e| AttemptError::Transport(e.to_string()))?
            .tls_config(tls.client_config(&tls_name))
            .map_err(|e| AttemptError::Transport(e.to_string()))?,
        Transport::PlaintextForDevelopment => {
            let plain = endpoint.replacen("https://", "http://", 1);
            Endpoint::from_shared(plain).map_err(|e| AttemptError::Transport(e.to_string()))?
        }
    };
    let channel = endpoint
        .connect_timeout(Duration::from_secs(5))
        .timeout(ATTEMPT_TIMEOUT)
        .connect_lazy();
    cache.insert(recipient.clone(), channel.clone());
    Ok(wrap(channel))
}

async fn send(
    state: &NodeState,
    channels: &Mutex<BTreeMap<AgencyId, Channel>>,
    entry: &OutboxEntry,
) -> Result<Option<ReceiptRecord>, AttemptError> {
    let recipient = AgencyId::parse(&entry.recipient)
        .map_err(|_| AttemptError::UnknownRecipient(entry.recipient.clone()))?;
    let mut client = client(state, channels, &recipient).await?;
    match &entry.payload {
        Some(OutboxPayload::Notice(id)) => {
            let id = <[u8; 32]>::try_from(id.as_slice())
                .map(NoticeId::from_bytes)
                .map_err(|_| AttemptError::Store("outbox notice id".into()))?;
            let stored = state
                .store(move |s| s.notice(&id))
                .await
                .map_err(|e| AttemptError::Store(e.to_string()))?
                .ok_or_else(|| AttemptError::Store(format!("notice {id} missing")))?;
            let envelope = SignedNotice::decode(&stored.envelope)
                .map_err(|e| AttemptError::Store(e.to_string()))?;
            let request = identify(
                state,
                wire::DeliverRequest {
                    notice: Some(envelope.clone().into()),
                },
            );
            let response = client
                .deliver(request)
                .await
                .map_err(classify)?
                .into_inner();
            let signed = response
                .receipt
                .ok_or_else(|| AttemptError::BadReceipt("no receipt".into()))?;
            let signed = SignedReceipt::try_from(signed)
                .map_err(|e| AttemptError::BadReceipt(e.to_string()))?;
            let receipt = state
                .roster()
                .verify_receipt(&signed, Timestamp::now())
                .map_err(|e| AttemptError::BadReceipt(e.to_string()))?;
            if receipt.notice_id != id
                || receipt.receiver != recipient
                || receipt.body_sha256 != body_digest(&envelope)
            {
                return Err(AttemptError::BadReceipt(
                    "receipt is for another notice, recipient or body".into(),
                ));
            }
            info!(notice = %id, %recipient, duplicate = response.duplicate, "delivered; receipt verified");
            Ok(Some((
                id,
                receipt.stage.to_wire() as u8,
                recipient.to_string(),
                signed.encode(),
            )))
        }
        Some(OutboxPayload::Receipt(bytes)) => {
            let signed =
                SignedReceipt::decode(bytes).map_err(|e| AttemptError::Store(e.to_string()))?;
            let request = identify(
                state,
                wire::ReportReceiptRequest {
                    receipt: Some(signed.into()),
                },
            );
            client.report_receipt(request).await.map_err(classify)?;
            info!(%recipient, "receipt reported");
            Ok(None)
        }
        None => Err(AttemptError::Store("outbox entry without payload".into())),
    }
}

/// A request; in plaintext development mode it names this node's agency,
/// since there is no certificate to do so.
fn identify<T>(state: &NodeState, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if matches!(state.transport, Transport::PlaintextForDevelopment)
        && let Ok(value) = state.agency.as_str().parse()
    {
        request
            .metadata_mut()
            .insert(crate::tls::DEV_AGENCY_HEADER, value);
    }
    request
}

fn classify(status: tonic::Status) -> AttemptError {
    match status.code() {
        tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::DeadlineExceeded => {
            AttemptError::Transport(status.message().to_owned())
        }
        _ => AttemptError::Refused(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, recipient: &str, case: &str, priority: u32, next: i64) -> OutboxEntry {
        OutboxEntry {
            seq,
            recipient: recipient.into(),
            case_id: case.into(),
            priority,
            next_attempt_ms: next,
            ..Default::default()
        }
    }

    #[test]
    fn urgent_first_but_never_ahead_of_its_own_case() {
        let outbox = vec![
            entry(1, "A", "C1", 3, 0),
            entry(2, "A", "C1", 1, 0), // urgent, but C1's routine notice is first
            entry(3, "A", "C2", 1, 0), // urgent, own case: goes now
            entry(4, "B", "C1", 3, 0),
        ];
        let (batch, _) = next_batch(&outbox, &BTreeSet::new(), 10);
        let picked: Vec<u64> = batch.iter().map(|e| e.seq).collect();
        assert_eq!(picked, vec![3, 4]);
    }

    #[test]
    fn waiting_entries_still_block_their_case_and_report_when_due() {
        let outbox = vec![entry(1, "A", "C1", 3, 5_000), entry(2, "A", "C1", 1, 0)];
        let (batch, earliest) = next_batch(&outbox, &BTreeSet::new(), 10);
        assert!(batch.is_empty());
        assert_eq!(earliest, Some(5_000));
        let busy = BTreeSet::from(["A".to_string()]);
        let (batch, _) = next_batch(&[entry(9, "A", "", 1, 0)], &busy, 10);
        assert!(batch.is_empty(), "one delivery at a time per recipient");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempts in 0..40 {
            let d = backoff_ms(attempts);
            let ceiling = (BASE_DELAY_MS << attempts.min(20)).min(MAX_DELAY_MS);
            assert!(d >= ceiling / 2 && d <= ceiling, "{attempts}: {d}");
        }
    }
}
