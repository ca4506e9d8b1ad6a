//! The limits a peer can run into (PROTOCOL 9.9), only when asked:
//! - `--flood CALLS`: cheap calls from several tasks at once until the
//!   target refuses one with `RESOURCE_EXHAUSTED` `rate_limited`, or CALLS
//!   have gone unrefused;
//! - `--flood-mib MIB`: large messages one after another until the target
//!   refuses one with `quota_exceeded`, or MIB mebibytes have gone.
//!
//! Run last: the harness's agency is then out of credit at the target for
//! a moment (the rate), or for the rest of the day (the quota).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use lintas_core::pb;
use lintas_grpc::pb::peer_exchange_client::PeerExchangeClient;
use tonic::Code;
use tonic::transport::Channel;

use super::expect::{Outcome, reason};
use super::{Harness, Report};

/// Calls in flight at once: below the 32 requests in flight a connection
/// may carry (9.9), so that only the rate can refuse them.
const TASKS: usize = 16;

/// Floods the target with up to `calls` calls and reports whether its rate
/// limit refused one.
pub(crate) async fn run(h: &Harness, calls: u64, report: &mut Report) {
    let check = "calls beyond the agency's rate are refused (rate_limited)";
    let outcome = match h.channel(true).await {
        Err(e) => Err(format!("cannot connect: {e}")),
        Ok(channel) => flood(channel, calls).await,
    };
    report.check("9.9", check, outcome);
}

/// Sends large messages to the target until it refuses one for the
/// agency's quota, at most `mib` MiB; waits out the rate limit when it
/// meets it.
pub(crate) async fn quota(h: &Harness, mib: u64, report: &mut Report) {
    let check = "messages beyond the agency's daily quota are refused (quota_exceeded)";
    let outcome = match h.channel(true).await {
        Err(e) => Err(format!("cannot connect: {e}")),
        Ok(channel) => {
            let size = (600 << 10).min(h.max_message_bytes.saturating_sub(4 << 10));
            fill(channel, size, mib.saturating_mul(1 << 20)).await
        }
    };
    report.check("9.9", check, outcome);
}

async fn fill(channel: Channel, size: usize, most: u64) -> Outcome {
    let mut peer = PeerExchangeClient::new(channel)
        .max_encoding_message_size(usize::MAX)
        .max_decoding_message_size(1 << 20);
    let mut sent: u64 = 0;
    let mut waits = 0;
    while sent < most {
        // Not a notice at all: refused as invalid, but its bytes are
        // charged before it is read.
        let answer = peer
            .deliver(pb::DeliverRequest {
                notice: Some(pb::SignedNotice {
                    body: vec![0; size],
                    ..Default::default()
                }),
            })
            .await;
        match answer {
            Err(status) if status.code() == Code::ResourceExhausted => match reason(&status)
                .as_str()
            {
                "quota_exceeded" => {
                    return Ok(format!(
                        "ResourceExhausted quota_exceeded after {} KiB",
                        sent >> 10
                    ));
                }
                "rate_limited" if waits < 100 => {
                    waits += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
                other => return Err(format!("ResourceExhausted {other} ({})", status.message())),
            },
            Err(status) if status.code() == Code::Unavailable => {
                return Err(format!(
                    "the target became unavailable: {}",
                    status.message()
                ));
            }
            _ => sent += size as u64,
        }
    }
    Err(format!(
        "{} KiB sent, none refused for the quota",
        sent >> 10
    ))
}

async fn flood(channel: Channel, calls: u64) -> Outcome {
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let (sent, stop) = (Arc::clone(&sent), Arc::clone(&stop));
        let mut peer = PeerExchangeClient::new(channel.clone());
        tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) && sent.fetch_add(1, Ordering::Relaxed) < calls {
                // A notice nobody has: answered not_entitled, cheaply.
                let answer = peer
                    .fetch_notice(pb::FetchNoticeRequest {
                        notice_id: vec![0x3c; 32],
                    })
                    .await;
                match answer {
                    Err(status) if status.code() == Code::ResourceExhausted => {
                        stop.store(true, Ordering::Relaxed);
                        return Some(reason(&status));
                    }
                    Err(status) if status.code() == Code::PermissionDenied => {}
                    Err(status) => {
                        stop.store(true, Ordering::Relaxed);
                        return Some(super::expect::refused(&status));
                    }
                    Ok(_) => {}
                }
            }
            None
        });
    }
    let mut seen = None;
    while let Some(done) = tasks.join_next().await {
        if let Ok(Some(answer)) = done {
            seen.get_or_insert(answer);
        }
    }
    let count = sent.load(Ordering::Relaxed).min(calls);
    let elapsed = started.elapsed().as_secs_f64();
    match seen {
        Some(r) if r == "rate_limited" => Ok(format!(
            "ResourceExhausted rate_limited after about {count} calls in {elapsed:.1} s"
        )),
        Some(other) => Err(format!("after about {count} calls: {other}")),
        None => Err(format!(
            "{count} calls in {elapsed:.1} s, none refused: no rate limit below {:.0} calls a second",
            count as f64 / elapsed.max(0.001)
        )),
    }
}
