//! Rules that need what a node has seen before (docs/PROTOCOL.md section
//! 5.6): a notice may only supersede or withdraw its own sender's earlier
//! notice (superseding only one of the same kind); an answer (assistance
//! response, nationality verification answer, action answer, sighting
//! report) answers a notice of the right kind addressed to its sender and
//! names only what that notice names; a repatriation step report comes from
//! the agency responsible for that step of the plan. A node checks what it
//! can: when it does not hold the referenced notice, it cannot judge and
//! accepts.

use lintas_core::ids::NoticeId;
use lintas_core::notice::{NoticeBody, NoticeContent};
use lintas_core::signing::SignedNotice;
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
    #[error("request {target} was not addressed to {sender}")]
    NotAsked {
        /// The request.
        target: NoticeId,
        /// The responder.
        sender: String,
    },
    /// It answers or reports on a notice of the wrong kind.
    #[error("{field} {target} is a {found}, not a {expected}")]
    WrongKind {
        /// The field naming the notice.
        field: &'static str,
        /// The referenced notice.
        target: NoticeId,
        /// Its kind.
        found: &'static str,
        /// The kind it must be.
        expected: &'static str,
    },
    /// It names something the referenced notice does not have.
    #[error("{field}: {value} is not in {target}")]
    NotInReferenced {
        /// Field path in this notice.
        field: String,
        /// The value.
        value: String,
        /// The referenced notice.
        target: NoticeId,
    },
    /// A step report from an agency not responsible for the step.
    #[error("step {step} of plan {plan} is the responsibility of {responsible}, not {sender}")]
    NotResponsible {
        /// The plan.
        plan: NoticeId,
        /// Step index.
        step: u32,
        /// The responsible agency.
        responsible: String,
        /// This notice's sender.
        sender: String,
    },
    /// A referenced notice held by this node cannot be read.
    #[error("stored notice {0} cannot be decoded")]
    Unreadable(NoticeId),
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
                self.answered(
                    "request",
                    &r.request,
                    NoticeKind::AssistanceRequest,
                    &sender,
                )?;
            }
            NoticeContent::NationalityVerificationAnswer(a) => {
                if let Some(NoticeContent::NationalityVerificationRequest(request)) = self
                    .answered(
                        "request",
                        &a.request,
                        NoticeKind::NationalityVerificationRequest,
                        &sender,
                    )?
                {
                    let ids: Vec<_> = a.results.iter().map(|r| &r.victim_id).collect();
                    all_named(&ids, "results", ".victim_id", a.request, |id| {
                        request.persons.iter().any(|p| &&p.victim_id == id)
                    })?;
                }
            }
            NoticeContent::ActionAnswer(a) => {
                if let Some(NoticeContent::ActionRequest(request)) =
                    self.answered("request", &a.request, NoticeKind::ActionRequest, &sender)?
                {
                    let ids: Vec<_> = a.results.iter().map(|r| &r.target_id).collect();
                    all_named(&ids, "results", ".target_id", a.request, |id| {
                        request.target(id).is_some()
                    })?;
                }
            }
            NoticeContent::SightingReport(r) => {
                if let Some(NoticeContent::TransitWatchRequest(watch)) =
                    self.answered("watch", &r.watch, NoticeKind::TransitWatchRequest, &sender)?
                {
                    all_named(&r.victims, "victims", "", r.watch, |v| {
                        watch.victims.contains(v)
                    })?;
                    all_named(&r.suspects, "suspects", "", r.watch, |s| {
                        watch.suspects.iter().any(|w| &w.suspect_id == s)
                    })?;
                }
            }
            NoticeContent::RepatriationStepReport(r) => {
                if let Some(content) =
                    self.referenced("plan", &r.plan, NoticeKind::RepatriationPlan)?
                    && let NoticeContent::RepatriationPlan(plan) = content
                {
                    let step = plan.steps.get(r.step as usize).ok_or_else(|| {
                        HistoryError::NotInReferenced {
                            field: "step".to_owned(),
                            value: r.step.to_string(),
                            target: r.plan,
                        }
                    })?;
                    if step.kind != r.kind {
                        return Err(HistoryError::NotInReferenced {
                            field: "kind".to_owned(),
                            value: format!("{} at step {}", r.kind.wire_name(), r.step),
                            target: r.plan,
                        });
                    }
                    if step.responsible_agency.as_str() != sender {
                        return Err(HistoryError::NotResponsible {
                            plan: r.plan,
                            step: r.step,
                            responsible: step.responsible_agency.to_string(),
                            sender,
                        });
                    }
                    all_named(&r.victims, "victims", "", r.plan, |v| {
                        plan.victims.contains(v)
                    })?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The content of a held notice `target` that must be of `kind`; `None`
    /// when this node does not hold it.
    fn referenced(
        &self,
        field: &'static str,
        target: &NoticeId,
        kind: NoticeKind,
    ) -> Result<Option<NoticeContent>, HistoryError> {
        let Some(stored) = self.store().notice(target)? else {
            return Ok(None);
        };
        if stored.kind != kind.to_wire() {
            return Err(HistoryError::WrongKind {
                field,
                target: *target,
                found: NoticeKind::from_wire(stored.kind)
                    .map(NoticeKind::wire_name)
                    .unwrap_or("notice of unknown kind"),
                expected: kind.wire_name(),
            });
        }
        let body = SignedNotice::decode(&stored.envelope)
            .ok()
            .and_then(|n| n.open_body().ok())
            .ok_or(HistoryError::Unreadable(*target))?;
        Ok(Some(body.1.content))
    }

    /// As [`Engine::referenced`], and the referenced request was addressed
    /// to `sender`.
    fn answered(
        &self,
        field: &'static str,
        target: &NoticeId,
        kind: NoticeKind,
        sender: &str,
    ) -> Result<Option<NoticeContent>, HistoryError> {
        if let Some(stored) = self.store().notice(target)?
            && stored.kind == kind.to_wire()
            && !stored.recipients.iter().any(|r| r == sender)
        {
            return Err(HistoryError::NotAsked {
                target: *target,
                sender: sender.to_owned(),
            });
        }
        self.referenced(field, target, kind)
    }
}

/// Refuses the first of `names` (the list `list`, each element's `suffix`
/// field) that `known` says the referenced notice `target` does not have.
fn all_named<T: std::fmt::Display>(
    names: &[T],
    list: &str,
    suffix: &str,
    target: NoticeId,
    known: impl Fn(&T) -> bool,
) -> Result<(), HistoryError> {
    match names.iter().position(|n| !known(n)) {
        Some(i) => Err(HistoryError::NotInReferenced {
            field: format!("{list}[{i}]{suffix}"),
            value: names[i].to_string(),
            target,
        }),
        None => Ok(()),
    }
}
