//! Structured requests to freeze, preserve, take down or disclose, and
//! their answers per target.

use serde::{Deserialize, Serialize};

use crate::case::{FinancialIndicator, RecruitmentChannel};
use crate::error::{At, ValidationError};
use crate::ids::{NoticeId, PhoneNumber, RecordId};
use crate::pb;
use crate::pb::action_target::Target as PbTarget;
use crate::place::{Handle, Money};
use crate::text::{self, SHORT, Text};
use crate::time::Timestamp;
use crate::vocab::{ActionKind, TargetOutcome};
use crate::wire;

/// What an action target is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Target {
    /// An account or wallet.
    Financial(FinancialIndicator),
    /// An advert or recruitment channel.
    Channel(RecruitmentChannel),
    /// An account on a platform.
    Handle(Handle),
    /// A phone number.
    PhoneNumber(PhoneNumber),
}

/// One thing an action request is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionTarget {
    /// Id unique within the request.
    pub target_id: RecordId,
    /// The target.
    pub target: Target,
    /// Amount to freeze.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// Start of the period of interest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_from: Option<Timestamp>,
    /// End of the period of interest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_until: Option<Timestamp>,
}

impl ActionTarget {
    /// A target with nothing else set.
    pub fn new(target_id: RecordId, target: Target) -> Self {
        ActionTarget {
            target_id,
            target,
            amount: None,
            period_from: None,
            period_until: None,
        }
    }
}

impl TryFrom<pb::ActionTarget> for ActionTarget {
    type Error = ValidationError;
    fn try_from(t: pb::ActionTarget) -> Result<Self, Self::Error> {
        let target = match t.target {
            None => return Err(ValidationError::missing("target")),
            Some(PbTarget::Financial(f)) => {
                Target::Financial(FinancialIndicator::try_from(f).at("financial")?)
            }
            Some(PbTarget::Channel(c)) => {
                let channel = RecruitmentChannel::try_from(c).at("channel")?;
                channel.validate().at("channel")?;
                Target::Channel(channel)
            }
            Some(PbTarget::Handle(h)) => Target::Handle(Handle::try_from(h).at("handle")?),
            Some(PbTarget::PhoneNumber(p)) => {
                Target::PhoneNumber(PhoneNumber::parse(&p).at("phone_number")?)
            }
        };
        let target = ActionTarget {
            target_id: RecordId::from_wire(&t.target_id).at("target_id")?,
            target,
            amount: wire::optional(t.amount, "amount")?,
            period_from: Timestamp::optional_from_wire(t.period_from.as_ref()).at("period_from")?,
            period_until: Timestamp::optional_from_wire(t.period_until.as_ref())
                .at("period_until")?,
        };
        if let (Some(from), Some(until)) = (target.period_from, target.period_until)
            && until <= from
        {
            return Err(ValidationError::rule(
                "period_until",
                "must be after period_from",
            ));
        }
        Ok(target)
    }
}

impl From<ActionTarget> for pb::ActionTarget {
    fn from(t: ActionTarget) -> Self {
        pb::ActionTarget {
            target_id: t.target_id.to_string(),
            target: Some(match t.target {
                Target::Financial(f) => PbTarget::Financial(f.into()),
                Target::Channel(c) => PbTarget::Channel(c.into()),
                Target::Handle(h) => PbTarget::Handle(h.into()),
                Target::PhoneNumber(p) => PbTarget::PhoneNumber(p.to_string()),
            }),
            amount: t.amount.map(Into::into),
            period_from: t.period_from.map(Into::into),
            period_until: t.period_until.map(Into::into),
        }
    }
}

/// A structured request to freeze, preserve, take down or disclose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionRequest {
    /// What is asked.
    pub action: ActionKind,
    /// The targets; at least one.
    pub targets: Vec<ActionTarget>,
    /// Law or instrument relied on.
    pub legal_basis: String,
    /// The authority that asks.
    pub requesting_authority: String,
    /// When it must be done by.
    pub deadline: Timestamp,
    /// The facts that justify it.
    pub grounds: Text,
}

impl ActionRequest {
    /// A request to do `action` to `targets` by `deadline`.
    pub fn new(
        action: ActionKind,
        targets: Vec<ActionTarget>,
        legal_basis: impl Into<String>,
        requesting_authority: impl Into<String>,
        deadline: Timestamp,
        grounds: Text,
    ) -> Self {
        ActionRequest {
            action,
            targets,
            legal_basis: legal_basis.into(),
            requesting_authority: requesting_authority.into(),
            deadline,
            grounds,
        }
    }

    /// The target with this id.
    pub fn target(&self, id: &RecordId) -> Option<&ActionTarget> {
        self.targets.iter().find(|t| &t.target_id == id)
    }

    fn validate(&self) -> Result<(), ValidationError> {
        wire::non_empty(&self.targets, "targets")?;
        wire::unique(&self.targets, "targets", |t| &t.target_id)?;
        for (i, t) in self.targets.iter().enumerate() {
            let fits = match self.action {
                ActionKind::Freeze => matches!(t.target, Target::Financial(_)),
                ActionKind::TakeDown => matches!(t.target, Target::Channel(_) | Target::Handle(_)),
                ActionKind::Preserve | ActionKind::SubscriberInformation => true,
            };
            if !fits {
                return Err(ValidationError::rule(
                    "target",
                    "ACTION_KIND_FREEZE targets financial indicators; ACTION_KIND_TAKE_DOWN targets channels or handles",
                )
                .within_item("targets", i));
            }
            if t.amount.is_some() && self.action != ActionKind::Freeze {
                return Err(
                    ValidationError::rule("amount", "only for ACTION_KIND_FREEZE")
                        .within_item("targets", i),
                );
            }
        }
        Ok(())
    }
}

impl TryFrom<pb::ActionRequest> for ActionRequest {
    type Error = ValidationError;
    fn try_from(r: pb::ActionRequest) -> Result<Self, Self::Error> {
        let request = ActionRequest {
            action: ActionKind::from_wire(r.action).at("action")?,
            targets: wire::convert_list(r.targets, "targets")?,
            legal_basis: text::required(r.legal_basis, SHORT).at("legal_basis")?,
            requesting_authority: text::required(r.requesting_authority, SHORT)
                .at("requesting_authority")?,
            deadline: Timestamp::from_wire(r.deadline.as_ref()).at("deadline")?,
            grounds: text::required_text(r.grounds).at("grounds")?,
        };
        request.validate()?;
        Ok(request)
    }
}

impl From<ActionRequest> for pb::ActionRequest {
    fn from(r: ActionRequest) -> Self {
        pb::ActionRequest {
            action: r.action.to_wire(),
            targets: wire::to_wire_list(r.targets),
            legal_basis: r.legal_basis,
            requesting_authority: r.requesting_authority,
            deadline: Some(r.deadline.into()),
            grounds: Some(r.grounds.into()),
        }
    }
}

/// What was done about one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TargetResult {
    /// The target, from the request.
    pub target_id: RecordId,
    /// What was done.
    pub outcome: TargetOutcome,
    /// The amount frozen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<Timestamp>,
    /// The recipient's own reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

impl TargetResult {
    /// A result for `target_id`.
    pub fn new(target_id: RecordId, outcome: TargetOutcome) -> Self {
        TargetResult {
            target_id,
            outcome,
            amount: None,
            done_at: None,
            reference: None,
            note: None,
        }
    }
}

impl TryFrom<pb::TargetResult> for TargetResult {
    type Error = ValidationError;
    fn try_from(r: pb::TargetResult) -> Result<Self, Self::Error> {
        let result = TargetResult {
            target_id: RecordId::from_wire(&r.target_id).at("target_id")?,
            outcome: TargetOutcome::from_wire(r.outcome).at("outcome")?,
            amount: wire::optional(r.amount, "amount")?,
            done_at: Timestamp::optional_from_wire(r.done_at.as_ref()).at("done_at")?,
            reference: text::optional(r.reference, SHORT).at("reference")?,
            note: Text::optional(r.note).at("note")?,
        };
        let done = matches!(
            result.outcome,
            TargetOutcome::Done | TargetOutcome::PartiallyDone
        );
        if result.amount.is_some() && !done {
            return Err(ValidationError::rule(
                "amount",
                "only with outcome TARGET_OUTCOME_DONE or TARGET_OUTCOME_PARTIALLY_DONE",
            ));
        }
        if matches!(
            result.outcome,
            TargetOutcome::Refused | TargetOutcome::NotCompetent
        ) && result.note.is_none()
        {
            return Err(ValidationError::rule(
                "note",
                "required with outcome TARGET_OUTCOME_REFUSED or TARGET_OUTCOME_NOT_COMPETENT",
            ));
        }
        Ok(result)
    }
}

impl From<TargetResult> for pb::TargetResult {
    fn from(r: TargetResult) -> Self {
        pb::TargetResult {
            target_id: r.target_id.to_string(),
            outcome: r.outcome.to_wire(),
            amount: r.amount.map(Into::into),
            done_at: r.done_at.map(Into::into),
            reference: text::or_empty(r.reference),
            note: text::text_to_wire(r.note),
        }
    }
}

/// The answer to an action request, per target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionAnswer {
    /// The request answered.
    pub request: NoticeId,
    /// Results; at least one.
    pub results: Vec<TargetResult>,
}

impl ActionAnswer {
    /// An answer to `request`.
    pub fn new(request: NoticeId, results: Vec<TargetResult>) -> Self {
        ActionAnswer { request, results }
    }
}

impl TryFrom<pb::ActionAnswer> for ActionAnswer {
    type Error = ValidationError;
    fn try_from(a: pb::ActionAnswer) -> Result<Self, Self::Error> {
        let results: Vec<TargetResult> = wire::convert_list(a.results, "results")?;
        wire::non_empty(&results, "results")?;
        wire::unique(&results, "results", |r| &r.target_id)?;
        Ok(ActionAnswer {
            request: NoticeId::from_wire(&a.request).at("request")?,
            results,
        })
    }
}

impl From<ActionAnswer> for pb::ActionAnswer {
    fn from(a: ActionAnswer) -> Self {
        pb::ActionAnswer {
            request: a.request.as_bytes().to_vec(),
            results: wire::to_wire_list(a.results),
        }
    }
}
