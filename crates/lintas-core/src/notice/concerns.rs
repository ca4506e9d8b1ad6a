//! Whom or what a notice concerns, for people reading a timeline: the
//! victims it names (by record id only), the suspects, the targets of an
//! action request or answer, the compound of an alert. Nothing personal
//! beyond record ids.

use std::fmt;

use serde::Serialize;

use super::NoticeContent;
use crate::ids::RecordId;

/// What a notice is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Concerns {
    /// Victims named, by record id.
    pub victims: Vec<String>,
    /// Suspects named, by record id.
    pub suspects: Vec<String>,
    /// Targets of an action request or answer.
    pub targets: Vec<TargetConcern>,
    /// The compound an alert is about, by name.
    pub compound: Option<String>,
}

impl Concerns {
    /// What `content` is about.
    pub fn of(content: &NoticeContent) -> Self {
        let ids = |list: &[RecordId]| list.iter().map(ToString::to_string).collect::<Vec<_>>();
        let suspect_ids = |list: &[crate::case::Suspect]| {
            list.iter()
                .map(|s| s.suspect_id.to_string())
                .collect::<Vec<_>>()
        };
        let mut c = Concerns {
            victims: content
                .victims()
                .iter()
                .map(|v| v.victim_id.to_string())
                .collect(),
            ..Concerns::default()
        };
        match content {
            NoticeContent::RescueRequest(r) => c.suspects = suspect_ids(&r.case.suspects),
            NoticeContent::CaseUpdate(u) => c.suspects = suspect_ids(&u.case.suspects),
            NoticeContent::VictimStatusUpdate(u) => c.victims.push(u.victim_id.to_string()),
            NoticeContent::SuspectAlert(a) => c.suspects = suspect_ids(&a.suspects),
            NoticeContent::TransitWatchRequest(t) => {
                c.victims = ids(&t.victims);
                c.suspects = suspect_ids(&t.suspects);
            }
            NoticeContent::CompoundAlert(a) => c.compound = Some(a.compound.name.clone()),
            NoticeContent::RepatriationPlan(p) => c.victims = ids(&p.victims),
            NoticeContent::RepatriationStepReport(r) => c.victims = ids(&r.victims),
            NoticeContent::NationalityVerificationRequest(n) => {
                c.victims = n.persons.iter().map(|p| p.victim_id.to_string()).collect();
            }
            NoticeContent::SightingReport(s) => {
                c.victims = ids(&s.victims);
                c.suspects = ids(&s.suspects);
            }
            NoticeContent::ActionRequest(a) => {
                c.targets = a
                    .targets
                    .iter()
                    .map(|t| TargetConcern {
                        target_id: t.target_id.to_string(),
                        action: Some(a.action.label()),
                        outcome: None,
                    })
                    .collect();
            }
            NoticeContent::ActionAnswer(a) => {
                c.targets = a
                    .results
                    .iter()
                    .map(|r| TargetConcern {
                        target_id: r.target_id.to_string(),
                        action: None,
                        outcome: Some(r.outcome.label()),
                    })
                    .collect();
            }
            _ => {}
        }
        c
    }

    /// True when it names nothing.
    pub fn is_empty(&self) -> bool {
        self.victims.is_empty()
            && self.suspects.is_empty()
            && self.targets.is_empty()
            && self.compound.is_none()
    }
}

/// `victims V-001, V-002; suspects S-01; targets T-01 (freeze)`.
impl fmt::Display for Concerns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.victims.is_empty() {
            parts.push(format!("victims {}", self.victims.join(", ")));
        }
        if !self.suspects.is_empty() {
            parts.push(format!("suspects {}", self.suspects.join(", ")));
        }
        if !self.targets.is_empty() {
            let targets: Vec<String> = self.targets.iter().map(ToString::to_string).collect();
            parts.push(format!("targets {}", targets.join(", ")));
        }
        if let Some(name) = &self.compound {
            parts.push(format!("compound {name}"));
        }
        f.write_str(&parts.join("; "))
    }
}

/// An action target a notice concerns: what is asked of it (a request) or
/// what became of it (an answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TargetConcern {
    /// The target's record id.
    pub target_id: String,
    /// The action asked (`freeze`, `take down`, ...), for a request.
    pub action: Option<String>,
    /// Its outcome's label (`done`, `refused`, ...), for an answer.
    pub outcome: Option<String>,
}

/// `T-01 (freeze)` for a request, `T-01 done` for an answer.
impl fmt::Display for TargetConcern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.target_id)?;
        if let Some(action) = &self.action {
            write!(f, " ({action})")?;
        }
        if let Some(outcome) = &self.outcome {
            write!(f, " {outcome}")?;
        }
        Ok(())
    }
}
