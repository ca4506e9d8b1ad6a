//! The controlled vocabularies of the schema: every enum of the wire
//! contract as a domain enum.
//!
//! Closed enums change how a message is handled (TLP, priority, a victim's
//! status): an unknown value is refused. Open enums describe (platforms,
//! control methods): a value from a newer peer is kept as `Unrecognized`
//! rather than refusing a whole rescue request over a new platform name.
//! In both, `*_UNSPECIFIED` (0) is refused: it means the sender forgot.

use serde::{Deserialize, Serialize};

use crate::error::{Problem, ValidationError};
use crate::pb;

/// Declares a closed domain enum mirroring a protobuf enum.
macro_rules! closed_enum {
    (
        $(#[$meta:meta])*
        $name:ident => $pb:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $pbv:ident ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in wire order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Reads the wire value; refuses UNSPECIFIED and unknown numbers.
            ///
            /// # Errors
            /// [`Problem::Missing`] for 0, [`Problem::UnknownEnumValue`] for
            /// a number this version does not define.
            pub fn from_wire(value: i32) -> Result<Self, ValidationError> {
                match pb::$pb::try_from(value) {
                    $( Ok(pb::$pb::$pbv) => Ok($name::$variant), )+
                    Ok(pb::$pb::Unspecified) => Err(ValidationError::missing("")),
                    Err(_) => Err(ValidationError::new("", Problem::UnknownEnumValue {
                        enumeration: stringify!($name),
                        value,
                    })),
                }
            }

            /// The wire value.
            pub fn to_wire(self) -> i32 {
                match self {
                    $( $name::$variant => pb::$pb::$pbv as i32, )+
                }
            }

            /// The protobuf name of the value, e.g. `TLP_AMBER_STRICT`.
            pub fn wire_name(self) -> &'static str {
                match self {
                    $( $name::$variant => pb::$pb::$pbv.as_str_name(), )+
                }
            }

            /// The value for people: its protobuf name without the enum's
            /// prefix, in lower case with spaces, e.g. `amber strict`.
            pub fn label(self) -> String {
                label(pb::$pb::Unspecified.as_str_name(), self.wire_name())
            }
        }
    };
}

/// `wire` without the prefix `unspecified` shows (`TLP_` of
/// `TLP_UNSPECIFIED`), lower-cased, `_` as spaces.
fn label(unspecified: &str, wire: &str) -> String {
    let prefix = unspecified.trim_end_matches("UNSPECIFIED");
    wire.strip_prefix(prefix)
        .unwrap_or(wire)
        .to_ascii_lowercase()
        .replace('_', " ")
}

/// Declares an open domain enum: unknown numbers are kept.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident => $pb:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $pbv:ident ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value defined by a newer version of the protocol, kept as
            /// its wire number.
            #[serde(untagged)]
            Unrecognized(i32),
        }

        impl $name {
            /// Every value this version defines, in wire order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Reads the wire value; refuses UNSPECIFIED, keeps unknown
            /// numbers as [`Self::Unrecognized`].
            ///
            /// # Errors
            /// [`Problem::Missing`] for 0.
            pub fn from_wire(value: i32) -> Result<Self, ValidationError> {
                match pb::$pb::try_from(value) {
                    $( Ok(pb::$pb::$pbv) => Ok($name::$variant), )+
                    Ok(pb::$pb::Unspecified) => Err(ValidationError::missing("")),
                    Err(_) => Ok($name::Unrecognized(value)),
                }
            }

            /// The wire value.
            pub fn to_wire(self) -> i32 {
                match self {
                    $( $name::$variant => pb::$pb::$pbv as i32, )+
                    $name::Unrecognized(value) => value,
                }
            }

            /// The protobuf name of the value, or `"UNRECOGNIZED"` for a
            /// value this version does not define.
            pub fn wire_name(self) -> &'static str {
                match self {
                    $( $name::$variant => pb::$pb::$pbv.as_str_name(), )+
                    $name::Unrecognized(_) => "UNRECOGNIZED",
                }
            }

            /// The value for people: its protobuf name without the enum's
            /// prefix, in lower case with spaces, e.g. `rescue request`;
            /// `value N` for one this version does not define.
            pub fn label(self) -> String {
                match self {
                    $name::Unrecognized(n) => format!("value {n}"),
                    known => label(pb::$pb::Unspecified.as_str_name(), known.wire_name()),
                }
            }
        }
    };
}

open_enum! {
    /// How a contact relates to the person it reaches.
    ContactRelation => ContactRelation {
        /// The person themself.
        Myself = Self_,
        /// Family.
        Family = Family,
        /// Legal guardian of a child.
        Guardian = Guardian,
        /// Lawyer.
        Lawyer = Lawyer,
        /// An NGO or shelter worker assisting the person.
        CaseWorker = CaseWorker,
        /// Anyone else.
        Other = Other,
    }
}

open_enum! {
    /// What the personal data in a notice may be used for.
    Purpose => Purpose {
        /// Locating and rescuing victims.
        Rescue = Rescue,
        /// Investigating and prosecuting the crime.
        Investigation = Investigation,
        /// Protecting and assisting a victim.
        VictimAssistance = VictimAssistance,
        /// Verifying nationality and returning the person home.
        Repatriation = Repatriation,
        /// Stopping people on their way to a compound.
        Prevention = Prevention,
    }
}

open_enum! {
    /// The legal ground on which a notice's personal data is shared.
    LegalBasis => LegalBasis {
        /// Prevention, investigation or prosecution of crime.
        LawEnforcement = LawEnforcement,
        /// The vital interest (life, safety) of the person.
        VitalInterest = VitalInterest,
        /// The person's consent to sharing.
        Consent = Consent,
        /// A task in the public interest or an official authority.
        PublicTask = PublicTask,
        /// A legal obligation of the sender.
        LegalObligation = LegalObligation,
    }
}

open_enum! {
    /// The kind of government body an agency is.
    AgencyKind => AgencyKind {
        /// Police, including cybercrime and anti-trafficking units.
        Police = Police,
        /// Foreign ministry, consular and citizen-protection units.
        ForeignMinistry = ForeignMinistry,
        /// Immigration and border control.
        Immigration = Immigration,
        /// Social welfare: shelters, protection, rehabilitation.
        SocialWelfare = SocialWelfare,
        /// Public prosecution.
        Prosecution = Prosecution,
        /// Financial intelligence unit.
        FinancialIntelligenceUnit = FinancialIntelligenceUnit,
        /// Labour or migrant-worker protection agency.
        LabourProtection = LabourProtection,
        /// Communications regulator.
        CommunicationsRegulator = CommunicationsRegulator,
        /// Central authority for mutual legal assistance.
        CentralAuthority = CentralAuthority,
    }
}

closed_enum! {
    /// Traffic Light Protocol 2.0 marking.
    Tlp => Tlp {
        /// May be shared without restriction.
        Clear = Clear,
        /// Within the community.
        Green = Green,
        /// Recipient organisations and their clients, need to know.
        Amber = Amber,
        /// Recipient organisations only.
        AmberStrict = AmberStrict,
        /// Named recipients only.
        Red = Red,
    }
}

closed_enum! {
    /// How fast recipients are expected to respond.
    Priority => Priority {
        /// Life or safety at stake.
        Urgent = Urgent,
        /// Needs attention soon.
        High = High,
        /// Normal handling.
        Routine = Routine,
    }
}

open_enum! {
    /// The typed kinds of notice.
    NoticeKind => NoticeKind {
        /// Urgent request to locate and rescue victims.
        RescueRequest = RescueRequest,
        /// A victim's status changed.
        VictimStatusUpdate = VictimStatusUpdate,
        /// Alert about suspects or recruiters.
        SuspectAlert = SuspectAlert,
        /// Alert about a scam compound.
        CompoundAlert = CompoundAlert,
        /// Prevention alert about a recruitment modus operandi.
        ModusOperandiAlert = ModusOperandiAlert,
        /// Watch request for border checkpoints and routes.
        TransitWatchRequest = TransitWatchRequest,
        /// Repatriation plan and its steps.
        RepatriationPlan = RepatriationPlan,
        /// Mutual-assistance request.
        AssistanceRequest = AssistanceRequest,
        /// Answer to a mutual-assistance request.
        AssistanceResponse = AssistanceResponse,
        /// Withdrawal of an earlier notice.
        Withdrawal = Withdrawal,
        /// A person identified as a victim.
        VictimIdentified = VictimIdentified,
        /// Request to verify nationality.
        NationalityVerificationRequest = NationalityVerificationRequest,
        /// Answer to a nationality verification request, per person.
        NationalityVerificationAnswer = NationalityVerificationAnswer,
        /// Sighting at a watched checkpoint.
        SightingReport = SightingReport,
        /// Progress of one repatriation step, by its responsible agency.
        RepatriationStepReport = RepatriationStepReport,
        /// The sender's case record changed.
        CaseUpdate = CaseUpdate,
        /// The sender closed its case.
        CaseClosure = CaseClosure,
        /// Freeze, preserve, take down or disclose.
        ActionRequest = ActionRequest,
        /// Answer to an action request, per target.
        ActionAnswer = ActionAnswer,
    }
}

open_enum! {
    /// Online platforms (HTCDS vic_RecruitmentWebsitesAndApps, extended).
    Platform => Platform {
        /// Facebook.
        Facebook = Facebook,
        /// Instagram.
        Instagram = Instagram,
        /// WhatsApp.
        Whatsapp = Whatsapp,
        /// Telegram.
        Telegram = Telegram,
        /// Facebook Messenger.
        FacebookMessenger = FacebookMessenger,
        /// Viber.
        Viber = Viber,
        /// Snapchat.
        Snapchat = Snapchat,
        /// LINE.
        Line = Line,
        /// 4Sale (HTCDS value `4Sale`).
        #[serde(rename = "4sale")]
        FourSale = Platform4sale,
        /// WeChat.
        Wechat = Wechat,
        /// QQ.
        Qq = Qq,
        /// Qzone.
        Qzone = Qzone,
        /// TikTok.
        Tiktok = Tiktok,
        /// Twitter / X.
        Twitter = Twitter,
        /// Another platform, named in `platform_name`.
        Other = Other,
        /// Signal (extension).
        Signal = Signal,
        /// Zalo (extension).
        Zalo = Zalo,
        /// KakaoTalk (extension).
        Kakaotalk = Kakaotalk,
        /// LinkedIn (extension).
        Linkedin = Linkedin,
        /// A job board, named in `platform_name` (extension).
        JobSite = JobSite,
        /// A dating app (extension).
        DatingApp = DatingApp,
    }
}

impl Platform {
    /// Whether a `platform_name` must say which platform is meant.
    pub fn needs_name(self) -> bool {
        matches!(self, Platform::Other | Platform::JobSite)
    }
}

closed_enum! {
    /// The kinds of identifier that can be matched without disclosure
    /// (docs/PROTOCOL.md section 14.9).
    IdentifierKind => IdentifierKind {
        /// A phone number (E.164).
        PhoneNumber = PhoneNumber,
        /// A messaging or social-media account on a platform.
        Handle = Handle,
        /// A crypto-asset wallet address.
        CryptoWallet = CryptoWallet,
        /// A bank account number in a country.
        BankAccount = BankAccount,
        /// An account with an e-wallet or payment-app provider.
        EWallet = EWallet,
        /// An identity document number of an issuing state.
        IdentityDocument = IdentityDocument,
    }
}

closed_enum! {
    /// The part a member state plays in a case.
    StateRole => StateRole {
        /// Where victims come from and return to.
        Origin = Origin,
        /// Crossed on the way.
        Transit = Transit,
        /// Where victims are exploited.
        Destination = Destination,
    }
}

closed_enum! {
    /// HTCDS cas_Status.
    CaseStatus => CaseStatus {
        /// Being worked.
        Active = Active,
        /// Waiting for follow-up.
        FollowUp = FollowUp,
        /// Closed.
        Closed = Closed,
        /// Closed and referred to another organisation.
        ClosedReferred = ClosedReferred,
    }
}

closed_enum! {
    /// A person's age band.
    AgeBand => AgeBand {
        /// Not known.
        Unknown = Unknown,
        /// 0 to 11.
        Under12 = Under12,
        /// 12 to 17.
        From12To17 = AgeBand12To17,
        /// 18 to 24.
        From18To24 = AgeBand18To24,
        /// 25 to 34.
        From25To34 = AgeBand25To34,
        /// 35 to 49.
        From35To49 = AgeBand35To49,
        /// 50 and over.
        From50 = AgeBand50AndOver,
    }
}

impl AgeBand {
    /// True for the bands below 18: the person is a child.
    pub fn is_child(self) -> bool {
        matches!(self, AgeBand::Under12 | AgeBand::From12To17)
    }
}

open_enum! {
    /// HTCDS prs_Gender.
    Gender => Gender {
        /// Feminine.
        Feminine = Feminine,
        /// Masculine.
        Masculine = Masculine,
        /// Transgender feminine.
        TransgenderFeminine = TransgenderFeminine,
        /// Transgender masculine.
        TransgenderMasculine = TransgenderMasculine,
        /// Non-conforming.
        NonConforming = NonConforming,
        /// Not specified or unknown.
        NonSpecifiedUnknown = NonSpecifiedUnknown,
    }
}

closed_enum! {
    /// How far a victim's claimed nationality has been verified.
    NationalityVerification => NationalityVerification {
        /// Stated by the person or a third party only.
        Claimed = Claimed,
        /// An identity or travel document has been seen.
        DocumentsSeen = DocumentsSeen,
        /// Confirmed by the state of nationality.
        ConfirmedByState = ConfirmedByState,
    }
}

open_enum! {
    /// A victim's vulnerabilities.
    Vulnerability => Vulnerability {
        /// Under 18.
        Child = Child,
        /// Pregnant.
        Pregnant = Pregnant,
        /// Disability or physical illness.
        DisabilityOrPhysicalHealth = DisabilityOrPhysicalHealth,
        /// Mental health needs.
        MentalHealth = MentalHealth,
        /// Injured.
        Injured = Injured,
        /// Addiction.
        Addiction = Addiction,
        /// Without identity or travel documents.
        Undocumented = Undocumented,
        /// In debt.
        Debt = Debt,
        /// Does not speak the local language.
        LanguageBarrier = LanguageBarrier,
        /// Other.
        Other = Other,
    }
}

closed_enum! {
    /// How urgently a person needs medical care.
    MedicalUrgency => MedicalUrgency {
        /// No known need.
        NoneKnown = NoneKnown,
        /// Needs care, not urgently.
        NonUrgent = NonUrgent,
        /// Needs care urgently.
        Urgent = Urgent,
        /// Life-threatening.
        LifeThreatening = LifeThreatening,
    }
}

open_enum! {
    /// What a person is asked to agree to.
    ConsentPurpose => ConsentPurpose {
        /// Sharing their case data with agencies of other states.
        ShareWithAgencies = ShareWithAgencies,
        /// Notifying their state(s) of nationality of the identification.
        NotifyStateOfNationality = NotifyStateOfNationality,
        /// Contact by their consulate.
        ConsularContact = ConsularContact,
        /// Referral to services.
        ReferralToServices = ReferralToServices,
        /// Anonymised use for research and statistics.
        Research = Research,
    }
}

closed_enum! {
    /// A person's answer to a consent question.
    ConsentDecision => ConsentDecision {
        /// Given.
        Given = Given,
        /// Refused.
        Refused = Refused,
        /// Not yet asked.
        NotYetAsked = NotYetAsked,
        /// The person cannot decide.
        UnableToDecide = UnableToDecide,
    }
}

closed_enum! {
    /// The legal ground on which a person's data is shared.
    SharingBasis => SharingBasis {
        /// The person agreed.
        Consent = Consent,
        /// Life or safety at risk.
        VitalInterest = VitalInterest,
        /// A law requires or permits it.
        LegalObligation = LegalObligation,
        /// Prevention, investigation or prosecution of crime.
        LawEnforcement = LawEnforcement,
        /// A child's best interests.
        ChildProtection = ChildProtection,
    }
}

closed_enum! {
    /// Where a victim is in the protection lifecycle; see
    /// [`VictimStatus::may_follow`] for the steps allowed.
    VictimStatus => VictimStatus {
        /// Whereabouts known, not yet reached.
        Located = Located,
        /// Identified as a (possible) victim.
        Identified = Identified,
        /// Rescued or intercepted.
        Rescued = RescuedOrIntercepted,
        /// In a shelter or under protection.
        InProtection = InProtection,
        /// Held by police or immigration.
        Detained = Detained,
        /// Contact lost.
        LostContact = LostContact,
        /// Declined assistance.
        DeclinedAssistance = DeclinedAssistance,
        /// Returned home.
        Repatriated = Repatriated,
        /// Reintegrated in the community.
        Reintegrated = Reintegrated,
        /// Trafficked again.
        ReTrafficked = ReTrafficked,
        /// Deceased: final.
        Deceased = Deceased,
    }
}

impl VictimStatus {
    /// The statuses that may follow this one (besides itself, which may
    /// be repeated to report a new location or note). The table of
    /// docs/PROTOCOL.md section 3.3.
    pub fn successors(self) -> &'static [VictimStatus] {
        use VictimStatus::*;
        match self {
            Located => &[Identified, Rescued, LostContact, Deceased],
            Identified => &[
                Rescued,
                InProtection,
                Detained,
                LostContact,
                DeclinedAssistance,
                Repatriated,
                Deceased,
            ],
            Rescued => &[
                Identified,
                InProtection,
                Detained,
                LostContact,
                DeclinedAssistance,
                Repatriated,
                Deceased,
            ],
            InProtection => &[
                Detained,
                LostContact,
                DeclinedAssistance,
                Repatriated,
                Deceased,
            ],
            Detained => &[
                Identified,
                InProtection,
                LostContact,
                DeclinedAssistance,
                Repatriated,
                Deceased,
            ],
            LostContact => &[
                Located,
                Identified,
                Rescued,
                InProtection,
                Repatriated,
                ReTrafficked,
                Deceased,
            ],
            DeclinedAssistance => &[
                InProtection,
                LostContact,
                Repatriated,
                ReTrafficked,
                Deceased,
            ],
            Repatriated => &[
                InProtection,
                Reintegrated,
                LostContact,
                ReTrafficked,
                Deceased,
            ],
            Reintegrated => &[LostContact, ReTrafficked, Deceased],
            ReTrafficked => &[Located, Identified, Rescued, LostContact, Deceased],
            Deceased => &[],
        }
    }

    /// Whether a victim may go from `previous` to this status.
    pub fn may_follow(self, previous: VictimStatus) -> bool {
        (self == previous && self != VictimStatus::Deceased)
            || previous.successors().contains(&self)
    }
}

closed_enum! {
    /// How authorities currently treat a person.
    LegalTreatment => LegalTreatment {
        /// Treated as a victim.
        Victim = Victim,
        /// Treated as a suspect.
        Suspect = Suspect,
        /// Being assessed.
        UnderAssessment = UnderAssessment,
    }
}

open_enum! {
    /// Who decided a person's trafficking status (HTCDS
    /// vic_TraffickingStatusDecisionMakingOrg).
    StatusDecidedBy => StatusDecidedBy {
        /// Police.
        Police = Police,
        /// An NGO.
        Ngo = Ngo,
        /// A court or prosecutor.
        CourtOrProsecution = CourtOrProsecution,
        /// Another government body.
        NonPoliceGovernment = NonPoliceGovernment,
        /// Other.
        Other = Other,
    }
}

closed_enum! {
    /// HTCDS vic_TraffickingStatus.
    TraffickingStatus => TraffickingStatus {
        /// Indicators present, not verified.
        PossibleVictim = PossibleVictim,
        /// Verified victim.
        ActualVictim = ActualVictim,
        /// Found not to be a victim.
        NotAVictim = NotAVictim,
    }
}

open_enum! {
    /// HTCDS vic_TypeOfExploitation, plus forced criminality.
    Exploitation => Exploitation {
        /// Forced labour.
        ForcedLabour = ForcedLabour,
        /// Sexual exploitation.
        SexualExploitation = SexualExploitation,
        /// Child labour.
        ChildLabour = ChildLabour,
        /// Forced marriage.
        ForcedMarriage = ForcedMarriage,
        /// Servitude.
        Servitude = Servitude,
        /// Forced military service by non-state actors.
        ForcedMilitaryByNonStateActors = ForcedMilitaryByNonStateActors,
        /// Organ removal.
        OrganRemoval = OrganRemoval,
        /// Forced begging.
        ForcedBegging = ForcedBegging,
        /// Forced adoption.
        ForcedAdoption = ForcedAdoption,
        /// Surrogacy.
        Surrogacy = Surrogacy,
        /// Other.
        Other = Other,
        /// Forced to commit crimes such as online fraud (extension).
        ForcedCriminality = ForcedCriminality,
    }
}

open_enum! {
    /// HTCDS vic_MethodsOfControl, plus scam-compound extensions.
    ControlMethod => ControlMethod {
        /// Physical threats.
        PhysicalThreats = PhysicalThreats,
        /// Threats of law enforcement.
        ThreatsLawEnforcement = ThreatsLawEnforcement,
        /// Threatens children or family.
        ThreatensChildrenFamily = ThreatensChildrenFamily,
        /// Debt bondage.
        DebtBondage = DebtBondage,
        /// False promises, e.g. a fake job offer.
        FalsePromises = FalsePromises,
        /// Physical abuse.
        PhysicalAbuse = PhysicalAbuse,
        /// Sexual abuse.
        SexualAbuse = SexualAbuse,
        /// Takes earnings.
        TakesEarnings = TakesEarnings,
        /// Restricts financial access.
        RestrictsFinancialAccess = RestrictsFinancialAccess,
        /// Restricts medical care.
        RestrictsMedicalCare = RestrictsMedicalCare,
        /// Withholds necessities.
        WithholdsNecessities = WithholdsNecessities,
        /// Psychological abuse.
        PsychologicalAbuse = PsychologicalAbuse,
        /// Psychoactive substances.
        PsychoactiveSubstance = PsychoactiveSubstance,
        /// Excessive working hours.
        ExcessiveWorkingHours = ExcessiveWorkingHours,
        /// Withholds documents.
        WithholdsDocuments = WithholdsDocuments,
        /// Other.
        Other = Other,
        /// Confined to a guarded site (extension).
        Confinement = Confinement,
        /// Phone taken away (extension).
        PhoneConfiscation = PhoneConfiscation,
        /// Watched or tracked (extension).
        Surveillance = Surveillance,
        /// Scam quotas and fines for missing them (extension).
        QuotasAndFines = QuotasAndFines,
        /// Threat of being sold to another compound (extension).
        ThreatOfResale = ThreatOfResale,
        /// Ransom demanded for release (extension).
        RansomDemand = RansomDemand,
    }
}

open_enum! {
    /// Kinds of fraud victims were forced to run.
    ScamType => ScamType {
        /// Romance or investment grooming ("pig butchering").
        RomanceInvestment = RomanceInvestment,
        /// Crypto investment fraud.
        CryptoInvestment = CryptoInvestment,
        /// Illegal online gambling.
        IllegalGambling = IllegalGambling,
        /// Phishing.
        Phishing = Phishing,
        /// Impersonating officials or companies.
        Impersonation = Impersonation,
        /// Fake jobs or paid tasks.
        FakeJobOrTask = FakeJobOrTask,
        /// Loan fraud.
        Loan = Loan,
        /// Other.
        Other = Other,
    }
}

open_enum! {
    /// Roles of suspects.
    SuspectRole => SuspectRole {
        /// Recruiter or intermediary.
        Recruiter = Recruiter,
        /// Moves victims.
        Transporter = Transporter,
        /// Runs a compound.
        CompoundOperator = CompoundOperator,
        /// Finances or launders.
        Financier = Financier,
        /// Broker or travel agent.
        Broker = Broker,
        /// Guard or enforcer.
        Enforcer = Enforcer,
        /// Other.
        Other = Other,
    }
}

closed_enum! {
    /// Operating state of a scam compound.
    CompoundStatus => CompoundStatus {
        /// Operating.
        Active = Active,
        /// Raided by authorities.
        Raided = Raided,
        /// Moved to another site.
        Relocated = Relocated,
    }
}

open_enum! {
    /// HTCDS vic_MethodOfRecruitment, extended.
    RecruitmentMethod => RecruitmentMethod {
        /// At a place of business.
        AtAPlaceOfBusiness = AtAPlaceOfBusiness,
        /// At an educational institution.
        AtAnEducationalInstitution = AtAnEducationalInstitution,
        /// At work.
        AtWork = AtWork,
        /// Through online social networks.
        OnlineSocialNetworks = OnlineSocialNetworks,
        /// Through an online advertisement.
        OnlineAdvertisement = OnlineAdvertisement,
        /// Through a television advert.
        TelevisionAdvert = TelevisionAdvert,
        /// Through a newspaper advert.
        NewspaperAdvert = NewspaperAdvert,
        /// Through family.
        FamilyOrFamilyEvents = FamilyOrFamilyEvents,
        /// Through friends.
        FriendsOrSocialEvents = FriendsOrSocialEvents,
        /// Other.
        Other = Other,
        /// Through a recruitment agency (extension).
        RecruitmentAgency = RecruitmentAgency,
        /// A job offer sent over a messaging app (extension).
        MessagingAppJobOffer = MessagingAppJobOffer,
        /// Abduction (extension).
        Abduction = Abduction,
    }
}

open_enum! {
    /// Blockchain networks.
    Chain => Chain {
        /// Bitcoin.
        Bitcoin = Bitcoin,
        /// Ethereum.
        Ethereum = Ethereum,
        /// TRON.
        Tron = Tron,
        /// BNB Smart Chain.
        BnbSmartChain = BnbSmartChain,
        /// Solana.
        Solana = Solana,
        /// Polygon.
        Polygon = Polygon,
        /// Another chain, named in `chain_name`.
        Other = Other,
    }
}

open_enum! {
    /// What a financial indicator was used for.
    FinancialUse => FinancialUse {
        /// Money taken from people defrauded.
        FraudProceeds = FraudProceeds,
        /// Ransom or "debt" paid for release.
        Ransom = Ransom,
        /// Fees charged for the fake job.
        RecruitmentFee = RecruitmentFee,
        /// Salary.
        Salary = Salary,
        /// Other.
        Other = Other,
    }
}

open_enum! {
    /// What happened at a point of a case.
    EventKind => EventKind {
        /// Recruitment.
        Recruitment = Recruitment,
        /// Transit.
        Transit = Transit,
        /// Exploitation.
        Exploitation = Exploitation,
        /// Escape.
        Escape = Escape,
        /// Rescue.
        Rescue = Rescue,
        /// Arrest.
        Arrest = Arrest,
        /// Detention.
        Detention = Detention,
        /// Sold on to another compound.
        Resale = Resale,
        /// Repatriation.
        Repatriation = Repatriation,
        /// Other.
        Other = Other,
    }
}

open_enum! {
    /// What a rescue request asks for.
    RescueAction => RescueAction {
        /// Find the person.
        Locate = Locate,
        /// Get the person out.
        Rescue = Rescue,
        /// Medical care.
        MedicalCare = MedicalCare,
        /// Shelter.
        Shelter = Shelter,
        /// Consular access for the state of nationality.
        ConsularAccess = ConsularAccess,
        /// Apply the non-punishment principle.
        ProtectFromProsecution = ProtectFromProsecution,
    }
}

open_enum! {
    /// Kinds of border checkpoint.
    CheckpointKind => CheckpointKind {
        /// Airport.
        Airport = Airport,
        /// Land border.
        LandBorder = LandBorder,
        /// Seaport.
        Seaport = Seaport,
        /// River crossing.
        RiverCrossing = RiverCrossing,
    }
}

open_enum! {
    /// What a transit watch asks the watching state to do.
    WatchAction => WatchAction {
        /// Notify the sender when seen.
        Notify = Notify,
        /// Screen for trafficking indicators and protect.
        ScreenAndProtect = ScreenAndProtect,
        /// Intercept the suspect.
        Intercept = Intercept,
    }
}

closed_enum! {
    /// Steps of a repatriation.
    RepatriationStepKind => RepatriationStepKind {
        /// Verify nationality.
        NationalityVerification = NationalityVerification,
        /// Issue a travel document.
        TravelDocument = TravelDocument,
        /// Hand over in a transit state.
        TransitHandover = TransitHandover,
        /// Arrival home.
        Arrival = Arrival,
        /// Referral to rehabilitation services.
        ReferralToRehabilitation = ReferralToRehabilitation,
    }
}

closed_enum! {
    /// Progress of a repatriation step.
    StepStatus => StepStatus {
        /// Planned.
        Planned = Planned,
        /// Under way.
        InProgress = InProgress,
        /// Done.
        Done = Done,
        /// Cancelled.
        Cancelled = Cancelled,
    }
}

open_enum! {
    /// Kinds of mutual assistance.
    AssistanceKind => AssistanceKind {
        /// Evidence.
        Evidence = Evidence,
        /// Subscriber information from a platform or carrier.
        SubscriberInformation = SubscriberInformation,
        /// Bank or wallet records.
        FinancialRecords = FinancialRecords,
        /// Locate a person.
        LocatePerson = LocatePerson,
        /// Take a statement.
        TakeStatement = TakeStatement,
        /// Freeze assets.
        FreezeAssets = FreezeAssets,
        /// Other.
        Other = Other,
    }
}

closed_enum! {
    /// Outcome of a mutual-assistance request.
    AssistanceOutcome => AssistanceOutcome {
        /// Granted.
        Granted = Granted,
        /// Partly granted.
        PartiallyGranted = PartiallyGranted,
        /// Refused.
        Refused = Refused,
        /// More information needed.
        MoreInformationNeeded = MoreInformationNeeded,
    }
}

closed_enum! {
    /// How a recipient has handled a notice.
    ReceiptStage => ReceiptStage {
        /// Verified and stored by the recipient's node.
        Accepted = Accepted,
        /// Handed to the recipient agency's case system.
        Delivered = Delivered,
        /// Read by an officer.
        Read = Read,
        /// Action started.
        ActionStarted = ActionStarted,
        /// Action completed.
        ActionCompleted = ActionCompleted,
        /// The recipient will not act.
        Declined = Declined,
        /// Not the recipient's competence.
        NotCompetent = NotCompetent,
        /// Forwarded to other agencies.
        Forwarded = Forwarded,
        /// The holder removed the notice's personal data after its sender
        /// withdrew it.
        Erased = Erased,
    }
}

impl ReceiptStage {
    /// Whether the stage answers a response deadline: action started or
    /// completed, declined, not competent.
    pub fn is_response(self) -> bool {
        matches!(
            self,
            ReceiptStage::ActionStarted
                | ReceiptStage::ActionCompleted
                | ReceiptStage::Declined
                | ReceiptStage::NotCompetent
        )
    }

    /// Whether a case system may report this stage through its node
    /// (ACCEPTED, FORWARDED and ERASED are signed by the node itself).
    pub fn reported_by_case_system(self) -> bool {
        !matches!(
            self,
            ReceiptStage::Accepted | ReceiptStage::Forwarded | ReceiptStage::Erased
        )
    }
}

closed_enum! {
    /// Sex as recorded in identity documents.
    Sex => Sex {
        /// F.
        Female = Female,
        /// M.
        Male = Male,
        /// X: unspecified or another marker.
        Other = Other,
        /// Not known.
        Unknown = Unknown,
    }
}

open_enum! {
    /// What a name is.
    NameKind => NameKind {
        /// The name the person uses and is documented under.
        Primary = Primary,
        /// An alias or nickname.
        Alias = Alias,
        /// A former name.
        Former = Former,
    }
}

open_enum! {
    /// Kinds of identity document.
    DocumentType => DocumentType {
        /// Passport.
        Passport = Passport,
        /// National identity card.
        NationalIdCard = NationalIdCard,
        /// Birth certificate.
        BirthCertificate = BirthCertificate,
        /// Emergency travel document or laissez-passer.
        EmergencyTravelDocument = EmergencyTravelDocument,
        /// Residence permit.
        ResidencePermit = ResidencePermit,
        /// Work permit.
        WorkPermit = WorkPermit,
        /// Seafarer identity document.
        SeafarerId = SeafarerId,
        /// Other.
        Other = Other,
    }
}

open_enum! {
    /// Organisations a victim is referred to.
    ServiceProvider => ServiceProvider {
        /// Government shelter.
        GovernmentShelter = GovernmentShelter,
        /// NGO.
        Ngo = Ngo,
        /// Health service.
        HealthService = HealthService,
        /// Legal service.
        LegalService = LegalService,
        /// International organisation.
        InternationalOrganisation = InternationalOrganisation,
        /// Other.
        Other = Other,
    }
}

open_enum! {
    /// Services a referral is for (HTCDS spl_Type, extended).
    SupportType => SupportType {
        /// Education.
        Education = Education,
        /// Financial.
        Financial = Financial,
        /// Health.
        Health = Health,
        /// Labour-exploitation rehabilitation.
        LabourExploitationRehabilitation = LabourExploitationRehabilitation,
        /// Legal.
        Legal = Legal,
        /// Livelihood.
        Livelihood = Livelihood,
        /// Rights-based training.
        RightsBasedTraining = RightsBasedTraining,
        /// Sexual-exploitation rehabilitation.
        SexualExploitationRehabilitation = SexualExploitationRehabilitation,
        /// Social care.
        SocialCare = SocialCare,
        /// Shelter (extension).
        Shelter = Shelter,
        /// Psychosocial support (extension).
        Psychosocial = Psychosocial,
    }
}

closed_enum! {
    /// Why a victim was referred (HTCDS ReasonForOutgoingReferral).
    ReferralReason => ReferralReason {
        /// More services needed.
        AdditionalServicesRequired = AdditionalServicesRequired,
        /// The person moved.
        MigrationOrChangeOfLocation = MigrationOrChangeOfLocation,
        /// Other.
        Other = Other,
    }
}

closed_enum! {
    /// What became of a referral.
    ReferralOutcome => ReferralOutcome {
        /// Pending.
        Pending = Pending,
        /// Accepted.
        Accepted = Accepted,
        /// The service could not take the person.
        DeclinedByService = DeclinedByService,
        /// The person did not want it.
        DeclinedByPerson = DeclinedByPerson,
    }
}

open_enum! {
    /// How a victim came to be identified.
    IdentificationBasis => IdentificationBasis {
        /// Screening interview.
        ScreeningInterview = ScreeningInterview,
        /// During a rescue or raid.
        RescueOperation = RescueOperation,
        /// The person came forward.
        SelfReferral = SelfReferral,
        /// Referred by an NGO or international organisation.
        NgoReferral = NgoReferral,
        /// Referred by another agency.
        AgencyReferral = AgencyReferral,
        /// Reported by family.
        FamilyReport = FamilyReport,
        /// Other.
        Other = Other,
    }
}

closed_enum! {
    /// A verifying state's finding for one person.
    VerificationOutcome => VerificationOutcome {
        /// A national.
        Confirmed = Confirmed,
        /// Not a national.
        NotANational = NotANational,
        /// Records do not allow a finding.
        UnableToVerify = UnableToVerify,
        /// Still checking.
        InProgress = InProgress,
        /// More information needed.
        MoreInformationNeeded = MoreInformationNeeded,
    }
}

open_enum! {
    /// What a checkpoint did about a sighting.
    SightingAction => SightingAction {
        /// Seen and let through.
        Observed = Observed,
        /// Stopped and screened.
        Screened = Screened,
        /// Referred to protection.
        ReferredToProtection = ReferredToProtection,
        /// Intercepted.
        Intercepted = Intercepted,
    }
}

open_enum! {
    /// How a case ended.
    CaseOutcome => CaseOutcome {
        /// Every victim returned home.
        VictimsRepatriated = VictimsRepatriated,
        /// Prosecution started.
        ProsecutionStarted = ProsecutionStarted,
        /// Conviction.
        Conviction = Conviction,
        /// Acquittal.
        Acquittal = Acquittal,
        /// No further action.
        NoFurtherAction = NoFurtherAction,
        /// Insufficient evidence.
        InsufficientEvidence = InsufficientEvidence,
        /// Handed to another agency.
        Referred = Referred,
        /// Merged into another case.
        Merged = Merged,
        /// Other.
        Other = Other,
    }
}

closed_enum! {
    /// What an action request asks for.
    ActionKind => ActionKind {
        /// Freeze funds.
        Freeze = Freeze,
        /// Preserve stored data.
        Preserve = Preserve,
        /// Take content or an account down.
        TakeDown = TakeDown,
        /// Disclose subscriber information.
        SubscriberInformation = SubscriberInformation,
    }
}

closed_enum! {
    /// What was done about one target of an action request.
    TargetOutcome => TargetOutcome {
        /// Done.
        Done = Done,
        /// Done in part.
        PartiallyDone = PartiallyDone,
        /// In progress.
        InProgress = InProgress,
        /// Not found.
        NotFound = NotFound,
        /// Refused.
        Refused = Refused,
        /// Not the recipient's competence.
        NotCompetent = NotCompetent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_enums_refuse_unspecified_and_unknown() {
        assert_eq!(Tlp::from_wire(5), Ok(Tlp::Red));
        assert_eq!(
            Tlp::from_wire(0).map_err(|e| e.problem),
            Err(Problem::Missing)
        );
        assert!(matches!(
            Tlp::from_wire(99).map_err(|e| e.problem),
            Err(Problem::UnknownEnumValue { value: 99, .. })
        ));
        for tlp in Tlp::ALL {
            assert_eq!(Tlp::from_wire(tlp.to_wire()), Ok(*tlp));
        }
    }

    #[test]
    fn open_enums_keep_unknown_values() {
        assert_eq!(Platform::from_wire(99), Ok(Platform::Unrecognized(99)));
        assert_eq!(Platform::Unrecognized(99).label(), "value 99");
        assert_eq!(NoticeKind::RescueRequest.label(), "rescue request");
        assert_eq!(Tlp::AmberStrict.label(), "amber strict");
        assert_eq!(ReceiptStage::ActionStarted.label(), "action started");
        assert_eq!(Platform::Unrecognized(99).to_wire(), 99);
        assert!(Platform::from_wire(0).is_err());
        assert_eq!(Platform::from_wire(9), Ok(Platform::FourSale));
    }

    #[test]
    fn enums_serialise_as_snake_case_names() -> Result<(), serde_json::Error> {
        assert_eq!(
            serde_json::to_string(&Tlp::AmberStrict)?,
            "\"amber_strict\""
        );
        assert_eq!(serde_json::to_string(&Platform::FourSale)?, "\"4sale\"");
        assert_eq!(serde_json::to_string(&Platform::Unrecognized(42))?, "42");
        let back: Platform = serde_json::from_str("42")?;
        assert_eq!(back, Platform::Unrecognized(42));
        let known: Platform = serde_json::from_str("\"telegram\"")?;
        assert_eq!(known, Platform::Telegram);
        Ok(())
    }
}
