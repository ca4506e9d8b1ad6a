//! Who is given which protected parts of a notice (docs/PROTOCOL.md
//! section 14.3): the rules, in one place.
//!
//! A recipient's **role** comes from the notice: the role the case in the
//! notice gives the recipient's state, else *origin* when its state is a
//! nationality of a person the notice concerns, else *uninvolved*. The
//! rules map (role, agency kind) to the kinds of part given, then the
//! notice's purpose narrows them: medical details go only with a purpose
//! that cares for the person (rescue, victim assistance, repatriation).
//! Defaults:
//!
//! | role | agency kinds | parts |
//! |---|---|---|
//! | origin | foreign ministry, social welfare, labour protection | identity, medical, contacts |
//! | origin | police, immigration, prosecution, central authority | identity, contacts |
//! | destination | police, social welfare | identity, medical, contacts |
//! | destination | foreign ministry, immigration, prosecution, central authority | identity |
//! | transit | any | none: descriptions and route only |
//! | uninvolved | any | none |
//!
//! An agency changes a cell with [`DisclosureRules::allow`] (the `[[disclosure.rule]]`
//! tables of `lintas.toml`).

use lintas_core::disclosure::{self, Commitment, PartKind};
use lintas_core::ids::{AgencyId, MemberState};
use lintas_core::notice::{NoticeBody, NoticeContent};
use lintas_core::vocab::{AgencyKind, Purpose, StateRole};

/// A recipient's part in the matter of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Where the victims come from and return to.
    Origin,
    /// Crossed on the way.
    Transit,
    /// Where the victims are exploited.
    Destination,
    /// Not named by the notice's case, and not a state of nationality.
    Uninvolved,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [
        Role::Origin,
        Role::Transit,
        Role::Destination,
        Role::Uninvolved,
    ];

    /// The configuration name: `origin`, `transit`, `destination`,
    /// `uninvolved`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Origin => "origin",
            Role::Transit => "transit",
            Role::Destination => "destination",
            Role::Uninvolved => "uninvolved",
        }
    }

    /// Reads a configuration name.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == text)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Agency kinds the table has a column for (wire values 1..KINDS).
const KINDS: usize = 16;

fn bit(kind: PartKind) -> u8 {
    match kind {
        PartKind::Identity => 1,
        PartKind::Medical => 2,
        PartKind::Contacts => 4,
    }
}

fn column(kind: AgencyKind) -> Option<usize> {
    usize::try_from(kind.to_wire())
        .ok()
        .filter(|k| (1..KINDS).contains(k))
}

/// Which parts each (role, agency kind) is given. Small and `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisclosureRules {
    table: [[u8; KINDS]; 4],
}

impl Default for DisclosureRules {
    fn default() -> Self {
        use AgencyKind as K;
        use PartKind as P;
        let all = [P::Identity, P::Medical, P::Contacts];
        let rules = DisclosureRules {
            table: [[0; KINDS]; 4],
        };
        let origin_carers = [K::ForeignMinistry, K::SocialWelfare, K::LabourProtection];
        let origin_officials = [
            K::Police,
            K::Immigration,
            K::Prosecution,
            K::CentralAuthority,
        ];
        let destination_carers = [K::Police, K::SocialWelfare];
        let destination_officials = [
            K::ForeignMinistry,
            K::Immigration,
            K::Prosecution,
            K::CentralAuthority,
        ];
        let mut rules = rules;
        for k in origin_carers {
            rules = rules.allow(Role::Origin, k, &all);
        }
        for k in origin_officials {
            rules = rules.allow(Role::Origin, k, &[P::Identity, P::Contacts]);
        }
        for k in destination_carers {
            rules = rules.allow(Role::Destination, k, &all);
        }
        for k in destination_officials {
            rules = rules.allow(Role::Destination, k, &[P::Identity]);
        }
        rules
    }
}

impl DisclosureRules {
    /// Rules that give nobody any protected part.
    pub fn none() -> Self {
        DisclosureRules {
            table: [[0; KINDS]; 4],
        }
    }

    /// The same rules with `parts` (and only those) given to agencies of
    /// `kind` in `role`. A kind this version does not know is never given
    /// anything.
    #[must_use]
    pub fn allow(mut self, role: Role, kind: AgencyKind, parts: &[PartKind]) -> Self {
        if let Some(c) = column(kind) {
            self.table[role.index()][c] = parts.iter().fold(0, |acc, p| acc | bit(*p));
        }
        self
    }

    /// The kinds of part given to agencies of `kind` in `role`.
    pub fn parts(&self, role: Role, kind: AgencyKind) -> Vec<PartKind> {
        let bits = column(kind).map_or(0, |c| self.table[role.index()][c]);
        PartKind::ALL
            .into_iter()
            .filter(|p| bits & bit(*p) != 0)
            .collect()
    }

    /// The commitments of `body`'s parts that `recipient` (an agency of
    /// `kind`) is given: the parts its role and kind allow, narrowed by
    /// the purpose, among those this node holds the value of.
    pub fn view(
        &self,
        body: &NoticeBody,
        recipient: &AgencyId,
        kind: AgencyKind,
    ) -> Vec<Commitment> {
        let role = role_of(body, recipient);
        let mut allowed = self.parts(role, kind);
        if !cares_for_person(body.handling.purpose) {
            allowed.retain(|p| *p != PartKind::Medical);
        }
        disclosure::parts(body)
            .into_iter()
            .filter(|p| p.disclosed && allowed.contains(&p.kind))
            .filter_map(|p| p.commitment)
            .collect()
    }
}

/// Whether a purpose looks after the person (and so may need their
/// medical details).
fn cares_for_person(purpose: Option<Purpose>) -> bool {
    matches!(
        purpose,
        Some(Purpose::Rescue | Purpose::VictimAssistance | Purpose::Repatriation)
    )
}

/// The role of `recipient`'s state in the matter of `body`.
pub fn role_of(body: &NoticeBody, recipient: &AgencyId) -> Role {
    let state = recipient.state();
    let case = match &body.content {
        NoticeContent::RescueRequest(r) => Some(&r.case),
        NoticeContent::CaseUpdate(u) => Some(&u.case),
        _ => None,
    };
    let roles: Vec<StateRole> = case
        .map(|c| {
            c.states
                .iter()
                .filter(|s| s.state == state)
                .map(|s| s.role)
                .collect()
        })
        .unwrap_or_default();
    if roles.contains(&StateRole::Origin) || is_nationality(body, state) {
        Role::Origin
    } else if roles.contains(&StateRole::Destination) {
        Role::Destination
    } else if roles.contains(&StateRole::Transit) {
        Role::Transit
    } else {
        Role::Uninvolved
    }
}

/// Whether `state` is a nationality of a person the notice concerns.
fn is_nationality(body: &NoticeBody, state: MemberState) -> bool {
    let country = state.country();
    let victims = body
        .content
        .victims()
        .into_iter()
        .flat_map(|v| v.nationalities.iter())
        .any(|n| n.country() == Some(country));
    let claimed = match &body.content {
        NoticeContent::NationalityVerificationRequest(r) => {
            r.persons.iter().any(|p| p.claimed_nationality == country)
        }
        _ => false,
    };
    victims || claimed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_transit_nothing_and_origin_carers_everything() {
        let rules = DisclosureRules::default();
        for kind in AgencyKind::ALL {
            assert!(rules.parts(Role::Transit, *kind).is_empty(), "{kind:?}");
            assert!(rules.parts(Role::Uninvolved, *kind).is_empty(), "{kind:?}");
        }
        assert_eq!(
            rules.parts(Role::Origin, AgencyKind::ForeignMinistry),
            PartKind::ALL.to_vec()
        );
        assert_eq!(
            rules.parts(Role::Origin, AgencyKind::Police),
            vec![PartKind::Identity, PartKind::Contacts]
        );
        assert_eq!(
            rules.parts(Role::Destination, AgencyKind::Immigration),
            vec![PartKind::Identity]
        );
        assert!(
            rules
                .parts(Role::Origin, AgencyKind::FinancialIntelligenceUnit)
                .is_empty()
        );
    }

    #[test]
    fn a_cell_can_be_changed_and_unknown_kinds_get_nothing() {
        let rules = DisclosureRules::default().allow(
            Role::Transit,
            AgencyKind::Immigration,
            &[PartKind::Identity],
        );
        assert_eq!(
            rules.parts(Role::Transit, AgencyKind::Immigration),
            vec![PartKind::Identity]
        );
        assert!(rules.parts(Role::Transit, AgencyKind::Police).is_empty());
        let odd = AgencyKind::Unrecognized(77);
        let rules = rules.allow(Role::Origin, odd, &PartKind::ALL);
        assert!(rules.parts(Role::Origin, odd).is_empty());
        assert!(
            DisclosureRules::none()
                .parts(Role::Origin, AgencyKind::ForeignMinistry)
                .is_empty()
        );
    }
}
