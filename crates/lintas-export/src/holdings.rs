//! What a node holds, reduced to what an export needs: the latest record of
//! each case and the alerts sent outside a case, without withdrawn notices.

use std::collections::{BTreeMap, BTreeSet};

use lintas_core::case::{Case, FinancialIndicator, RecruitmentChannel, ScamCompound, Suspect};
use lintas_core::ids::{AgencyId, CaseId, NoticeId};
use lintas_core::notice::{NoticeBody, NoticeContent};
use lintas_core::time::Timestamp;
use lintas_core::vocab::{CaseStatus, Tlp};

/// Where an exported record comes from: the agency that recorded it and
/// its case, or the alert notice that carried it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A part of `agency`'s case `case`.
    Case {
        /// The originating agency.
        agency: AgencyId,
        /// Its case id.
        case: CaseId,
    },
    /// A part of an alert `notice` that `agency` sent outside a case.
    Alert {
        /// The sender.
        agency: AgencyId,
        /// The alert.
        notice: NoticeId,
    },
}

impl Source {
    /// The agency that recorded it.
    pub fn agency(&self) -> &AgencyId {
        match self {
            Source::Case { agency, .. } | Source::Alert { agency, .. } => agency,
        }
    }

    /// A stable text naming the source: `AGENCY/CASE` or
    /// `AGENCY/notice/HEX`.
    pub fn key(&self) -> String {
        match self {
            Source::Case { agency, case } => format!("{agency}/{case}"),
            Source::Alert { agency, notice } => format!("{agency}/notice/{notice}"),
        }
    }
}

/// A case as the latest notice carrying its whole record describes it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HeldCase {
    /// The record.
    pub case: Case,
    /// True when this node's agency sent it (its own case).
    pub own: bool,
    /// The strictest TLP of the notices the record and its closure came in.
    pub tlp: Tlp,
    /// The first notice about it this node holds.
    pub first_seen: Timestamp,
    /// The latest.
    pub last_seen: Timestamp,
}

/// Compounds, suspects, channels and financial indicators an agency sent in
/// alerts rather than in a case record.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HeldAlert {
    /// Where they come from.
    pub source: Source,
    /// The alert's TLP.
    pub tlp: Tlp,
    /// When the alert was created.
    pub created_at: Timestamp,
    /// True when this node's agency sent it.
    pub own: bool,
    /// Compounds.
    pub compounds: Vec<ScamCompound>,
    /// Suspects.
    pub suspects: Vec<Suspect>,
    /// Recruitment channels.
    pub recruitment: Vec<RecruitmentChannel>,
    /// Financial indicators.
    pub financial_indicators: Vec<FinancialIndicator>,
}

/// One notice's contribution, kept until withdrawals are known.
#[derive(Debug, Clone)]
enum Part {
    Record(Box<Case>),
    Closure(CaseStatus),
    Alert(HeldAlert),
}

#[derive(Debug, Clone)]
struct Contribution {
    id: NoticeId,
    created_at: Timestamp,
    tlp: Tlp,
    part: Part,
}

/// Collects the notices a node holds (in any order) and gives the latest
/// record of each case and the alerts, without withdrawn notices.
#[derive(Debug)]
pub struct Holdings {
    agency: AgencyId,
    cases: BTreeMap<(AgencyId, CaseId), Vec<Contribution>>,
    alerts: Vec<Contribution>,
    withdrawn: BTreeSet<NoticeId>,
    notices: usize,
}

impl Holdings {
    /// Nothing yet, for the node of `agency` (whose cases and alerts are
    /// its own).
    pub fn new(agency: AgencyId) -> Self {
        Holdings {
            agency,
            cases: BTreeMap::new(),
            alerts: Vec::new(),
            withdrawn: BTreeSet::new(),
            notices: 0,
        }
    }

    /// Adds a notice the node holds. Notices without case records or
    /// alert content (receipts of work, verification requests, action
    /// requests) add nothing.
    pub fn add(&mut self, id: NoticeId, body: &NoticeBody) {
        self.notices += 1;
        let tlp = body.handling.tlp;
        let created_at = body.created_at;
        let contribution = |part| Contribution {
            id,
            created_at,
            tlp,
            part,
        };
        let alert = |compounds, suspects, recruitment, financial_indicators| {
            Part::Alert(HeldAlert {
                source: Source::Alert {
                    agency: body.sender.clone(),
                    notice: id,
                },
                tlp,
                created_at,
                own: body.sender == self.agency,
                compounds,
                suspects,
                recruitment,
                financial_indicators,
            })
        };
        match &body.content {
            NoticeContent::RescueRequest(r) => self.record(&r.case, contribution),
            NoticeContent::CaseUpdate(u) => self.record(&u.case, contribution),
            NoticeContent::CaseClosure(c) => {
                if let Some(case) = &body.case_id {
                    self.cases
                        .entry((body.sender.clone(), case.clone()))
                        .or_default()
                        .push(contribution(Part::Closure(c.status)));
                }
            }
            NoticeContent::CompoundAlert(a) => {
                let part = alert(vec![a.compound.clone()], Vec::new(), Vec::new(), Vec::new());
                self.alerts.push(contribution(part));
            }
            NoticeContent::SuspectAlert(a) => {
                let part = alert(
                    Vec::new(),
                    a.suspects.clone(),
                    a.recruitment.clone(),
                    a.financial_indicators.clone(),
                );
                self.alerts.push(contribution(part));
            }
            NoticeContent::TransitWatchRequest(t) => {
                let part = alert(Vec::new(), t.suspects.clone(), Vec::new(), Vec::new());
                self.alerts.push(contribution(part));
            }
            NoticeContent::ModusOperandiAlert(m) => {
                let part = alert(Vec::new(), Vec::new(), m.channels.clone(), Vec::new());
                self.alerts.push(contribution(part));
            }
            // Erasing persons keeps the notice (its other parts still
            // hold); withdrawing it whole takes it out of every export.
            NoticeContent::Withdrawal(w) if w.persons.is_empty() => {
                self.withdrawn.insert(w.withdrawn);
            }
            _ => {}
        }
    }

    fn record(&mut self, case: &Case, contribution: impl FnOnce(Part) -> Contribution) {
        self.cases
            .entry((case.originating_agency.clone(), case.case_id.clone()))
            .or_default()
            .push(contribution(Part::Record(Box::new(case.clone()))));
    }

    /// The agency whose node holds these notices.
    pub fn agency(&self) -> &AgencyId {
        &self.agency
    }

    /// How many notices were added.
    pub fn notices(&self) -> usize {
        self.notices
    }

    /// The latest record of every case (in originating agency, case id
    /// order), with the status of a later closure applied, and the alerts
    /// (in time order); withdrawn notices are left out. A case whose every
    /// record was withdrawn is left out.
    pub fn finish(self) -> (Vec<HeldCase>, Vec<HeldAlert>) {
        let withdrawn = &self.withdrawn;
        let mut cases = Vec::new();
        for ((agency, _), mut parts) in self.cases {
            parts.retain(|c| !withdrawn.contains(&c.id));
            parts.sort_by_key(|c| (c.created_at, c.id));
            let latest_record = parts.iter().rev().find_map(|c| match &c.part {
                Part::Record(case) => Some((c.created_at, case)),
                _ => None,
            });
            let Some((recorded_at, record)) = latest_record else {
                continue;
            };
            let mut case = (**record).clone();
            if let Some(status) = parts.iter().rev().find_map(|c| match c.part {
                Part::Closure(status) if c.created_at >= recorded_at => Some(status),
                _ => None,
            }) {
                case.status = status;
            }
            let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
                continue;
            };
            cases.push(HeldCase {
                own: agency == self.agency,
                tlp: parts.iter().map(|c| c.tlp).max().unwrap_or(Tlp::Red),
                first_seen: first.created_at,
                last_seen: last.created_at,
                case,
            });
        }
        let mut alerts: Vec<Contribution> = self
            .alerts
            .into_iter()
            .filter(|c| !withdrawn.contains(&c.id))
            .collect();
        alerts.sort_by_key(|c| (c.created_at, c.id));
        let alerts = alerts
            .into_iter()
            .filter_map(|c| match c.part {
                Part::Alert(a) => Some(a),
                _ => None,
            })
            .collect();
        (cases, alerts)
    }
}
