//! Identifier matching without disclosure (docs/PROTOCOL.md section 14.9),
//! both sides: answering a peer's blinded query with this node's tags,
//! and asking peers about an identifier for the agency's case system.
//!
//! The responder's tags are kept in memory and rebuilt from the store at
//! most every [`MatchingConfig::refresh_every`]; the identifiers
//! themselves are never written anywhere by matching.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use lintas_core::ids::AgencyId;
use lintas_core::matching::{
    BlindedIdentifier, ELEMENT_BYTES, Identifier, MatchKey, MatchTag, encode_tags, identifiers_in,
    tags_contain,
};
use lintas_core::place::ContactPoint;
use lintas_core::signing::SignedNotice;
use lintas_core::vocab::IdentifierKind;
use tracing::{info, warn};

use crate::transport::{PeerRefused, Transport};
use crate::{Engine, Refusal};

/// Limits of identifier matching.
#[derive(Debug, Clone, Copy)]
pub struct MatchingConfig {
    /// Queries each peer agency may make per hour, sustained.
    pub queries_per_peer_per_hour: u32,
    /// Queries a peer may make at once above the sustained rate.
    pub burst: u32,
    /// How old the responder's tags may get before a query rebuilds them
    /// from the store (zero: every query).
    pub refresh_every: Duration,
    /// The most tags of one kind this node lists in an answer; holding
    /// more, it refuses (`match_set_too_large`) rather than answer a
    /// false "no hit".
    pub max_tags_per_kind: usize,
    /// How long the asker waits for each peer.
    pub query_timeout: Duration,
}

impl Default for MatchingConfig {
    fn default() -> Self {
        MatchingConfig {
            queries_per_peer_per_hour: 600,
            burst: 60,
            refresh_every: Duration::from_secs(60),
            // 40 000 tags of 16 bytes fit the default 1 MiB message.
            max_tags_per_kind: 40_000,
            query_timeout: Duration::from_secs(10),
        }
    }
}

/// The responder's state: key, tags, and each peer's budget.
pub(crate) struct Matching {
    key: MatchKey,
    config: MatchingConfig,
    tags: Mutex<Option<Tags>>,
    limiter: DefaultKeyedRateLimiter<AgencyId>,
}

impl std::fmt::Debug for Matching {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matching")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

struct Tags {
    built: Instant,
    by_kind: BTreeMap<IdentifierKind, Arc<Vec<u8>>>,
    counts: BTreeMap<IdentifierKind, usize>,
}

impl Matching {
    pub(crate) fn new(key: MatchKey, config: MatchingConfig) -> Self {
        let per_hour =
            NonZeroU32::new(config.queries_per_peer_per_hour.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Matching {
            key,
            config,
            tags: Mutex::new(None),
            limiter: RateLimiter::keyed(Quota::per_hour(per_hour).allow_burst(burst)),
        }
    }
}

/// The answer to one blinded query.
#[derive(Debug, Clone)]
pub struct MatchAnswer {
    /// The blinded element times this node's key.
    pub evaluated: [u8; ELEMENT_BYTES],
    /// Every tag of the asked kind, ascending, concatenated.
    pub tags: Arc<Vec<u8>>,
}

/// What one agency answered about an identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MatchOutcome {
    /// It holds a notice with the identifier: contact it.
    Hit {
        /// Its contact point in the roster.
        contact: ContactPoint,
    },
    /// It holds none.
    NoHit,
    /// Its node could not be reached, or answered nonsense.
    Unreachable(String),
    /// Its node refused the query.
    Refused(PeerRefused),
}

/// One agency's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchResult {
    /// The agency asked.
    pub agency: AgencyId,
    /// What it answered.
    pub outcome: MatchOutcome,
}

impl Engine {
    /// Answers `peer`'s blinded query for identifiers of `kind`: the
    /// evaluated element and every tag of that kind this node holds.
    /// Reads the store when the tags are older than the configured
    /// refresh (call it off the async runtime).
    ///
    /// # Errors
    /// `rate_limited` when `peer` is over its budget; `invalid_argument`
    /// for a bad element; `match_set_too_large` when this node holds more
    /// identifiers of the kind than it lists; `store_failure`.
    pub fn answer_match(
        &self,
        peer: &AgencyId,
        kind: IdentifierKind,
        blinded: &[u8],
    ) -> Result<MatchAnswer, Refusal> {
        let matching = &self.inner.matching;
        if matching.limiter.check_key(peer).is_err() {
            return Err(Refusal::RateLimited(format!(
                "{peer} made more than {} identifier queries this hour (burst {}); retry later",
                matching.config.queries_per_peer_per_hour, matching.config.burst
            )));
        }
        let evaluated = matching.key.evaluate(blinded).map_err(Refusal::Invalid)?;
        let (tags, count) = self.tags_of(kind)?;
        if count > matching.config.max_tags_per_kind {
            return Err(Refusal::MatchSetTooLarge(format!(
                "this node holds {count} identifiers of kind {}, more than the {} it lists in one answer",
                kind.wire_name(),
                matching.config.max_tags_per_kind
            )));
        }
        // Who asked and of what kind is all a responder knows of a query.
        info!(%peer, kind = kind.wire_name(), "identifier query answered");
        Ok(MatchAnswer { evaluated, tags })
    }

    /// This node's tags of `kind` and how many there are, rebuilt from the
    /// store when stale.
    fn tags_of(&self, kind: IdentifierKind) -> Result<(Arc<Vec<u8>>, usize), Refusal> {
        let matching = &self.inner.matching;
        let mut guard = matching
            .tags
            .lock()
            .map_err(|_| Refusal::NotFound("matching tags unavailable".into()))?;
        let stale = guard
            .as_ref()
            .is_none_or(|t| t.built.elapsed() >= matching.config.refresh_every);
        if stale {
            *guard = Some(self.build_tags()?);
        }
        let tags = guard.as_ref().map(|t| {
            (
                t.by_kind.get(&kind).cloned().unwrap_or_default(),
                t.counts.get(&kind).copied().unwrap_or(0),
            )
        });
        Ok(tags.unwrap_or_default())
    }

    /// Every identifier in every notice this node holds (sent or
    /// received, not purged), as tags under its key.
    fn build_tags(&self) -> Result<Tags, Refusal> {
        let key = &self.inner.matching.key;
        let mut found: BTreeMap<IdentifierKind, BTreeSet<MatchTag>> = BTreeMap::new();
        let mut after = None;
        loop {
            let page = self.inner.store.notices_after(after.as_ref(), 256)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(*last);
            for (id, stored) in &page {
                if stored.is_purged() {
                    continue;
                }
                let body = SignedNotice::decode(&stored.envelope)
                    .ok()
                    .and_then(|n| n.open_body().ok());
                let Some((_, body)) = body else {
                    warn!(notice = %id, "a stored notice could not be read for matching");
                    continue;
                };
                for identifier in identifiers_in(&body) {
                    found
                        .entry(identifier.kind())
                        .or_default()
                        .insert(key.tag(&identifier));
                }
            }
        }
        Ok(Tags {
            built: Instant::now(),
            counts: found.iter().map(|(k, t)| (*k, t.len())).collect(),
            by_kind: found
                .into_iter()
                .map(|(k, t)| (k, Arc::new(encode_tags(t))))
                .collect(),
        })
    }

    /// Asks each of `agencies` (every other agency in the roster when
    /// empty) whether it holds `identifier`, blinded afresh for each.
    /// Answers in agency order.
    pub async fn find_identifier<T: Transport>(
        &self,
        transport: Arc<T>,
        identifier: &Identifier,
        agencies: &[AgencyId],
    ) -> Vec<MatchResult> {
        let (targets, contacts) = {
            let roster = self.roster();
            let roster = roster.roster();
            let targets: Vec<AgencyId> = if agencies.is_empty() {
                roster
                    .agencies
                    .keys()
                    .filter(|a| *a != self.agency())
                    .cloned()
                    .collect()
            } else {
                agencies.to_vec()
            };
            let contacts: BTreeMap<AgencyId, ContactPoint> = targets
                .iter()
                .filter_map(|a| roster.agency(a).map(|e| (a.clone(), e.contact.clone())))
                .collect();
            (targets, contacts)
        };
        let timeout = self.inner.matching.config.query_timeout;
        let mut calls = tokio::task::JoinSet::new();
        for agency in targets {
            let Some(contact) = contacts.get(&agency).cloned() else {
                calls.spawn(async move {
                    let outcome =
                        MatchOutcome::Unreachable(format!("{agency} is not in the roster"));
                    MatchResult { agency, outcome }
                });
                continue;
            };
            let query = BlindedIdentifier::new(identifier);
            let (transport, kind) = (Arc::clone(&transport), identifier.kind());
            calls.spawn(async move {
                let call = transport.match_identifier(&agency, kind, query.element());
                let outcome = match tokio::time::timeout(timeout, call).await {
                    Err(_) => MatchOutcome::Unreachable(format!("no answer within {timeout:?}")),
                    Ok(Err(unreachable)) => MatchOutcome::Unreachable(unreachable.0),
                    Ok(Ok(Err(refused))) => MatchOutcome::Refused(refused),
                    Ok(Ok(Ok(answer))) => judge(&query, &answer, contact),
                };
                MatchResult { agency, outcome }
            });
        }
        let mut results = Vec::new();
        while let Some(done) = calls.join_next().await {
            if let Ok(result) = done {
                results.push(result);
            }
        }
        results.sort_by(|a, b| a.agency.cmp(&b.agency));
        results
    }
}

/// Hit or no hit, from a peer's answer.
fn judge(query: &BlindedIdentifier, answer: &MatchAnswer, contact: ContactPoint) -> MatchOutcome {
    let found = query
        .finish(&answer.evaluated)
        .and_then(|tag| tags_contain(&answer.tags, &tag));
    match found {
        Ok(true) => MatchOutcome::Hit { contact },
        Ok(false) => MatchOutcome::NoHit,
        Err(e) => MatchOutcome::Unreachable(format!("malformed answer: {e}")),
    }
}
