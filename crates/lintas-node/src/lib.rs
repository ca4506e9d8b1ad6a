//! # Lintas node engine
//!
//! Everything an agency node decides, with no network of its own: accept a
//! delivered notice (verify, authorise, history rules, store, sign the
//! ACCEPTED receipt) or refuse it with the protocol's reason; answer a
//! duplicate; sign and queue a submitted notice; acknowledge; answer
//! mutual-assistance requests; serve a fetch; list overdue deadlines; keep
//! the outbox's schedule and deliver it through a [`Transport`]; follow the
//! inbox.
//!
//! Transports are adapters around it: `lintas-grpc` maps TLS identities to
//! agency ids, the engine's [`Refusal`]s to gRPC statuses, and implements
//! [`Transport`] with its gRPC client. [`MemoryNetwork`] wires engines to
//! each other in memory, for tests and simulations.
//!
//! - [`receive`](Engine::receive): what a peer hands this node;
//! - [`local`](Engine::submit): what the agency's own case system asks;
//! - [`schedule`]: what to send next, to whom; [`delivery`](Engine::run_delivery): sending it;
//! - group commit: concurrent changes share one durable transaction;
//! - [`witnessing`](Engine::witness_round): checkpoints of the log offered
//!   to peers and theirs checked and cosigned, forks raised as alarms.
//!
//! Two agencies exchanging a notice in memory:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use lintas_core::time::Timestamp;
//! use lintas_node::{DeliveryConfig, Engine, MemoryNetwork};
//! use lintas_testkit::{scenario, world};
//!
//! let dir = tempfile::tempdir()?;
//! let roster = world::trusted_roster();
//! let network = MemoryNetwork::new();
//! let mut engines = Vec::new();
//! for agency in [world::IDN_KEMLU, world::KHM_POLICE] {
//!     let id = lintas_core::ids::AgencyId::parse(agency)?;
//!     let store = Arc::new(lintas_store::Store::open(&dir.path().join(agency))?);
//!     let engine = Engine::open(id.clone(), world::agency_key(agency), roster.clone(), store,
//!                               DeliveryConfig::default())?;
//!     network.attach(&engine);
//!     engines.push(engine);
//! }
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let sender = engines[0].clone();
//! let transport = Arc::new(network.transport(sender.agency()));
//! let delivery = tokio::spawn({
//!     let (sender, shutdown) = (sender.clone(), shutdown.clone());
//!     async move { sender.run_delivery(transport, shutdown).await }
//! });
//!
//! // Indonesia's foreign ministry asks Cambodia for a rescue.
//! let body = scenario::rescue_request(Timestamp::now());
//! let sent = sender.submit(body, Timestamp::now()).await?;
//! engines[1].wait_for_inbox(0).await;
//! let received = engines[1].inbox_after(0, 10)?;
//! assert_eq!(received[0].id, sent.id);
//! shutdown.cancel();
//! delivery.await?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod access;
mod attachments;
mod commit;
mod dead_letters;
mod delivery;
pub mod disclosure;
mod engine;
mod erasure;
mod evidence;
mod history;
mod inbox;
mod local;
mod matching;
mod metrics;
mod offline;
mod query;
mod quota;
mod receive;
mod refusal;
mod replicas;
mod retention;
pub mod schedule;
mod transport;
mod withheld;
mod witness;

pub use attachments::{AttachmentConfig, PIECE_BYTES};
pub use dead_letters::DeadLetter;
pub use engine::{Engine, EngineError, ReceiptEvent};
pub use erasure::{ErasureConfirmation, PersonErasure};
pub use evidence::ExportedEvidence;
pub use history::HistoryError;
pub use inbox::{InboxError, ReceivedNotice};
pub use local::{Acknowledgement, Submitted};
pub use matching::{MatchAnswer, MatchOutcome, MatchResult, MatchingConfig};
pub use metrics::{Counts, Metrics, REFUSAL_BUCKET_SECONDS, ReceiptCount, RefusalBucket};
pub use offline::{MAX_OFFLINE_ITEMS, OfflineExport, OfflineImport};
pub use query::{HeldNotice, Overdue, Page, TimelineEntry};
pub use quota::PeerQuotas;
pub use receive::{Accepted, Inbound};
pub use refusal::{Refusal, RefusalClass};
pub use retention::PurgeReport;
pub use schedule::{DeliveryConfig, PeerStatus};
pub use transport::{
    Answer, Fault, MemoryNetwork, MemoryTransport, Outbound, PeerCall, PeerRefused, Transport,
    Unreachable,
};
pub use witness::{MAX_ALARMS_PER_LOG, WitnessAnswer, WitnessRequest, WitnessRound};
