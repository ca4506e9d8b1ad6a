//! A realistic online-scam trafficking case and one notice of every kind
//! about it.
//!
//! Two Indonesians answer a Facebook advert for "customer service" work in
//! Bangkok. A recruiter on Telegram arranges their flights; in Bangkok they
//! are driven to the Aranyaprathet-Poipet crossing and taken to a guarded
//! compound in Sihanoukville, Cambodia, where they are forced to run
//! crypto-investment scams. One manages to message her family. Indonesia is
//! the origin state, Thailand the transit state, Cambodia the destination.
//! Names, numbers, handles and addresses are invented.

use lintas_core::case::{
    Case, CaseReference, Contact, Contacts, FinancialIndicator, IdentityDocument, Instrument,
    MedicalDetails, PersonIdentity, PersonName, RecruitmentChannel, ScamCompound, Suspect, Victim,
};
use lintas_core::disclosure::Protected;
use lintas_core::ids::{
    AgencyId, CaseId, Country, Currency, Language, Nationality, PhoneNumber, RecordId,
};
use lintas_core::notice::{
    ActionAnswer, ActionRequest, ActionTarget, AssistanceRequest, AssistanceResponse, CaseClosure,
    CaseUpdate, Checkpoint, CompoundAlert, Handling, ModusOperandiAlert,
    NationalityVerificationAnswer, NationalityVerificationRequest, NoticeBody, NoticeContent,
    PersonToVerify, RepatriationPlan, RepatriationStep, RepatriationStepReport, RescueRequest,
    SightingReport, SuspectAlert, Target, TargetResult, TransitWatchRequest, VerificationResult,
    VictimIdentified, VictimStatusUpdate, Withdrawal,
};
use lintas_core::place::{GeoPoint, Handle, Location, Money};
use lintas_core::signing::SignedNotice;
use lintas_core::text::Text;
use lintas_core::time::{Date, Timestamp};
use lintas_core::vocab::*;

use crate::world::{
    IDN_CENTRAL, IDN_KEMLU, IDN_POLRI, KHM_CENTRAL, KHM_POLICE, THA_IMMIGRATION, THA_POLICE,
};

/// The case id used throughout the scenario.
pub const CASE_ID: &str = "IDN-KEMLU-2026-0417";

fn id(text: &str) -> RecordId {
    RecordId::parse(text).unwrap_or_else(|e| panic!("fixture record id {text}: {e}"))
}

/// Text in `language` (fixture helper).
pub fn text(language: &str, text: &str) -> Text {
    Text::new(language, text).unwrap_or_else(|e| panic!("fixture text: {e}"))
}

fn country(code: &str) -> Country {
    Country::parse(code).unwrap_or_else(|e| panic!("fixture country {code}: {e}"))
}

fn agency(text: &str) -> AgencyId {
    AgencyId::parse(text).unwrap_or_else(|e| panic!("fixture agency {text}: {e}"))
}

fn place(code: &str, admin_area: &str, locality: &str, point: Option<(f64, f64)>) -> Location {
    let mut location = Location::in_country(country(code));
    location.admin_area = Some(admin_area.to_owned());
    location.locality = Some(locality.to_owned());
    location.point = point.and_then(|(lat, lon)| GeoPoint::new(lat, lon).ok());
    location
}

/// The scam compound in Sihanoukville.
pub fn compound() -> ScamCompound {
    let mut compound = ScamCompound::active(
        id("C-01"),
        "Golden Coast Tower compound (invented name)",
        place(
            "KHM",
            "Preah Sihanouk",
            "Sihanoukville",
            Some((10.6093, 103.5296)),
        ),
    );
    compound.operator = Some("unregistered company, operators known as 'Boss Lim'".to_owned());
    compound
}

/// The recruiter.
pub fn recruiter() -> Suspect {
    let mut suspect = Suspect::new(id("S-01"), SuspectRole::Recruiter);
    let mut identity = PersonIdentity::new(
        PersonName::alias("Kak Rina"),
        Sex::Female,
        country("IDN").into(),
    );
    identity.phone_numbers.push(
        PhoneNumber::parse("+6281200000001").unwrap_or_else(|e| panic!("fixture phone: {e}")),
    );
    suspect.identity = Some(identity);
    suspect
        .handles
        .push(Handle::new(Platform::Telegram, "@lowongan_cs_bkk_example"));
    suspect
}

/// The fake job advert.
pub fn advert() -> RecruitmentChannel {
    let mut channel = RecruitmentChannel::new(id("R-01"), RecruitmentMethod::OnlineAdvertisement);
    channel.platform = Some(Platform::Facebook);
    channel.advert_text = Some(
        text(
            "id",
            "Dibutuhkan customer service untuk perusahaan di Bangkok. Gaji 25 juta/bulan, tiket \
         dan visa ditanggung. Hubungi Telegram.",
        )
        .with_translation(
            "en",
            "Customer service wanted for a company in Bangkok. Salary 25 million a month, ticket \
         and visa paid. Contact on Telegram.",
            false,
        )
        .unwrap_or_else(|e| panic!("fixture translation: {e}")),
    );
    channel.job_offered = Some("Customer service, Bangkok".to_owned());
    channel.promised_monthly_salary = Some(Money::new(
        Currency::parse("IDR").unwrap_or_else(|e| panic!("fixture currency: {e}")),
        2_500_000_000, // IDR 25,000,000.00
        2,
    ));
    channel
        .contact_handles
        .push(Handle::new(Platform::Telegram, "@lowongan_cs_bkk_example"));
    channel
}

/// The case as the Indonesian foreign ministry knows it at `now`.
pub fn scam_case(now: Timestamp) -> Case {
    let opened = now.plus_seconds(-3 * 86_400);
    let mut case = Case::open(
        CaseId::parse(CASE_ID).unwrap_or_else(|e| panic!("fixture case id: {e}")),
        agency(IDN_KEMLU),
        opened,
        StateRole::Origin,
    );
    case.states.push(lintas_core::case::StateInvolvement {
        state: lintas_core::ids::MemberState::Thailand,
        role: StateRole::Transit,
    });
    case.states.push(lintas_core::case::StateInvolvement {
        state: lintas_core::ids::MemberState::Cambodia,
        role: StateRole::Destination,
    });

    let mut first = Victim::identified(id("V-001"), country("IDN"));
    first.nationality_verification = NationalityVerification::DocumentsSeen;
    first.age_band = AgeBand::From25To34;
    first.gender = Gender::Feminine;
    first.languages = vec![lang("ind"), lang("jav")];
    first.record_consent(ConsentPurpose::ShareWithAgencies, ConsentDecision::Given);
    first.record_consent(
        ConsentPurpose::NotifyStateOfNationality,
        ConsentDecision::Given,
    );
    first.sharing_basis = SharingBasis::Consent;
    first.trafficking_status_decided_by = Some(StatusDecidedBy::Police);
    first.held_in_compound = Some(id("C-01"));
    first.status = VictimStatus::Located;
    first.legal_treatment = LegalTreatment::Victim;
    first.non_punishment = true;
    first.exploitation = vec![Exploitation::ForcedCriminality, Exploitation::ForcedLabour];
    first.control_methods = vec![
        ControlMethod::FalsePromises,
        ControlMethod::WithholdsDocuments,
        ControlMethod::Confinement,
        ControlMethod::PhoneConfiscation,
        ControlMethod::QuotasAndFines,
        ControlMethod::RansomDemand,
    ];
    first.forced_scam_types = vec![ScamType::CryptoInvestment, ScamType::RomanceInvestment];
    first.last_known_location = Some(compound().location);

    let mut second = Victim::identified(id("V-002"), country("IDN"));
    second.age_band = AgeBand::From18To24;
    second.gender = Gender::Masculine;
    second.languages = vec![lang("ind")];
    second.vulnerabilities = vec![Vulnerability::Injured, Vulnerability::Undocumented];
    second.medical_urgency = MedicalUrgency::Urgent;
    second.record_consent(
        ConsentPurpose::ShareWithAgencies,
        ConsentDecision::NotYetAsked,
    );
    second.sharing_basis = SharingBasis::VitalInterest;
    second.held_in_compound = Some(id("C-01"));
    second.exploitation = vec![Exploitation::ForcedCriminality];
    second.control_methods = vec![ControlMethod::PhysicalAbuse, ControlMethod::Confinement];

    case.victims = vec![first, second];
    let mut operator = Suspect::new(id("S-02"), SuspectRole::CompoundOperator);
    operator.identity = Some(PersonIdentity::new(
        PersonName::alias("Boss Lim"),
        Sex::Male,
        Nationality::Unknown,
    ));
    operator.linked_compounds.push(id("C-01"));
    case.suspects = vec![recruiter(), operator];
    case.compounds = vec![compound()];
    case.recruitment = vec![advert()];
    case.financial_indicators = vec![
        FinancialIndicator::new(
            id("F-01"),
            FinancialUse::Ransom,
            Instrument::CryptoWallet {
                chain: Chain::Tron,
                chain_name: None,
                address: "TLintasExampleWa11etAddre55000001".to_owned(),
                asset: Some("USDT".to_owned()),
            },
        ),
        FinancialIndicator::new(
            id("F-02"),
            FinancialUse::RecruitmentFee,
            Instrument::BankAccount {
                country: country("IDN"),
                bank_name: Some("Example Bank".to_owned()),
                account_number: "0000-1234-5678".to_owned(),
                holder_name: Some("R. (recruiter's nominee)".to_owned()),
                bic: None,
            },
        ),
    ];
    let mut recruited = lintas_core::case::TimelineEvent::new(
        now.plus_seconds(-40 * 86_400),
        EventKind::Recruitment,
    );
    recruited.location = Some(place("IDN", "Jawa Barat", "Bekasi", None));
    recruited.victims = vec![id("V-001"), id("V-002")];
    let mut flew =
        lintas_core::case::TimelineEvent::new(now.plus_seconds(-30 * 86_400), EventKind::Transit);
    flew.location = Some(place("THA", "Samut Prakan", "Suvarnabhumi Airport", None));
    flew.victims = vec![id("V-001"), id("V-002")];
    let mut crossed =
        lintas_core::case::TimelineEvent::new(now.plus_seconds(-29 * 86_400), EventKind::Transit);
    crossed.location = Some(place(
        "THA",
        "Sa Kaeo",
        "Aranyaprathet",
        Some((13.6582, 102.5530)),
    ));
    crossed.description = Some(Text::en("Driven across the border to Poipet at night"));
    crossed.victims = vec![id("V-001"), id("V-002")];
    case.timeline = vec![recruited, flew, crossed];
    case.summary = Some(Text::en(
        "Two Indonesians recruited through a fake customer-service advert, moved through \
         Thailand and held in a scam compound in Sihanoukville. V-001 messaged her family on \
         the date of this notice; V-002 is injured.",
    ));
    case
}

fn lang(code: &str) -> Language {
    Language::parse(code).unwrap_or_else(|e| panic!("fixture language {code}: {e}"))
}

fn body(
    sender: &str,
    sequence: u64,
    now: Timestamp,
    recipients: &[&str],
    handling: Handling,
    content: NoticeContent,
) -> NoticeBody {
    let mut body = NoticeBody::new(
        agency(sender),
        sequence,
        now,
        now.plus_seconds(30 * 86_400),
        recipients.iter().map(|r| agency(r)).collect(),
        handling,
        content,
    );
    if !matches!(
        body.kind(),
        NoticeKind::CompoundAlert | NoticeKind::ModusOperandiAlert | NoticeKind::SuspectAlert
    ) {
        body.case_id = Some(CaseId::parse(CASE_ID).unwrap_or_else(|e| panic!("case id: {e}")));
    }
    if body.content.carries_personal_data() && body.handling.purpose.is_none() {
        body.handling = body
            .handling
            .for_purpose(purpose_of(body.kind()), LegalBasis::LawEnforcement);
    }
    body
}

/// Why each kind of notice in the scenario shares personal data.
pub fn purpose_of(kind: NoticeKind) -> Purpose {
    match kind {
        NoticeKind::RescueRequest | NoticeKind::VictimStatusUpdate => Purpose::Rescue,
        NoticeKind::NationalityVerificationRequest
        | NoticeKind::RepatriationPlan
        | NoticeKind::RepatriationStepReport => Purpose::Repatriation,
        NoticeKind::VictimIdentified => Purpose::VictimAssistance,
        NoticeKind::TransitWatchRequest => Purpose::Prevention,
        _ => Purpose::Investigation,
    }
}

/// The urgent rescue request from Indonesia's foreign ministry to the
/// Cambodian and Thai police.
pub fn rescue_request(now: Timestamp) -> NoticeBody {
    let mut request = RescueRequest::new(
        scam_case(now),
        vec![id("V-001"), id("V-002")],
        vec![
            RescueAction::Locate,
            RescueAction::Rescue,
            RescueAction::MedicalCare,
            RescueAction::ConsularAccess,
            RescueAction::ProtectFromProsecution,
        ],
    );
    request.situation = Some(Text::en(
        "V-001 sent her location to her family through a borrowed phone; guards demand \
         USD 3,000 each for release.",
    ));
    body(
        IDN_KEMLU,
        1,
        now,
        &[KHM_POLICE, THA_POLICE],
        Handling::new(Tlp::AmberStrict, Priority::Urgent).with_deadline(now.plus_seconds(6 * 3600)),
        NoticeContent::RescueRequest(request),
    )
}

/// One notice of every kind, in the order the case unfolds.
pub fn one_of_each_kind(now: Timestamp) -> Vec<NoticeBody> {
    let routine = Handling::new(Tlp::Amber, Priority::Routine);
    let high = Handling::new(Tlp::AmberStrict, Priority::High);

    let mut rescued = VictimStatusUpdate::new(
        id("V-002"),
        VictimStatus::Located,
        VictimStatus::Rescued,
        LegalTreatment::Victim,
        now,
    );
    rescued.non_punishment = true;
    rescued.location = Some(place(
        "KHM",
        "Preah Sihanouk",
        "Provincial police shelter",
        None,
    ));

    let mut suspect_alert = SuspectAlert::new(vec![recruiter()]);
    suspect_alert.recruitment = vec![advert()];
    suspect_alert.summary = Some(Text::en("Recruiter still posting the same advert"));

    let mut compound_alert = CompoundAlert::new(compound());
    compound_alert.estimated_people_held = Some(300);
    compound_alert.victim_nationalities = vec![country("IDN"), country("VNM"), country("CHN")];
    compound_alert.scam_types = vec![ScamType::CryptoInvestment];

    let mut mo = ModusOperandiAlert::new(vec![advert()]);
    mo.targeted_nationalities = vec![country("IDN")];
    mo.advice = Some(Text::en(
        "Verify overseas job offers with the labour ministry before travelling.",
    ));

    let mut checkpoint_location = place("THA", "Sa Kaeo", "Aranyaprathet", None);
    checkpoint_location.address = Some("Rong Kluea border crossing".to_owned());
    let mut watch = TransitWatchRequest::new(
        vec![Checkpoint::new(
            "Aranyaprathet - Poipet",
            CheckpointKind::LandBorder,
            checkpoint_location,
        )],
        now,
        now.plus_seconds(14 * 86_400),
        WatchAction::ScreenAndProtect,
    );
    watch.suspects = vec![recruiter()];

    let plan = RepatriationPlan::new(
        id("P-01"),
        vec![id("V-002")],
        vec![
            RepatriationStep::planned(
                RepatriationStepKind::NationalityVerification,
                agency(IDN_KEMLU),
                Some(now.plus_seconds(86_400)),
            ),
            RepatriationStep::planned(
                RepatriationStepKind::TravelDocument,
                agency(IDN_KEMLU),
                Some(now.plus_seconds(2 * 86_400)),
            ),
            RepatriationStep::planned(
                RepatriationStepKind::TransitHandover,
                agency(THA_IMMIGRATION),
                Some(now.plus_seconds(3 * 86_400)),
            ),
            RepatriationStep::planned(
                RepatriationStepKind::Arrival,
                agency(IDN_KEMLU),
                Some(now.plus_seconds(4 * 86_400)),
            ),
            RepatriationStep::planned(
                RepatriationStepKind::ReferralToRehabilitation,
                agency(IDN_KEMLU),
                None,
            ),
        ],
    );

    let mut mla = AssistanceRequest::new(
        AssistanceKind::FinancialRecords,
        "ASEAN Treaty on Mutual Legal Assistance in Criminal Matters (2004)",
        "Bareskrim Polri, Directorate of General Crimes",
        Text::en("Records of the wallet used to collect ransom (F-01) from exchanges in Cambodia."),
        Text::en(
            "Two Indonesian nationals were held in a scam compound in Sihanoukville; USD 3,000 \
             ransom each was demanded through wallet F-01 (trafficking in persons, Law 21/2007).",
        ),
        Text::en("Criminal investigation of the recruiter S-01 for trafficking in persons."),
    );
    mla.confidentiality = Some(Text::en(
        "Do not notify the account holder: the recruiter is still active.",
    ));
    mla.time_limit = Some(now.plus_seconds(20 * 86_400));
    let assistance = body(
        IDN_CENTRAL,
        1,
        now,
        &[KHM_CENTRAL],
        high,
        NoticeContent::AssistanceRequest(mla),
    );
    let transit = body(
        IDN_POLRI,
        2,
        now,
        &[THA_IMMIGRATION],
        high,
        NoticeContent::TransitWatchRequest(watch),
    );
    let plan = body(
        IDN_KEMLU,
        3,
        now,
        &[KHM_POLICE, THA_IMMIGRATION],
        high,
        NoticeContent::RepatriationPlan(plan),
    );
    let verification = body(
        KHM_POLICE,
        4,
        now,
        &[IDN_KEMLU],
        high,
        NoticeContent::NationalityVerificationRequest(NationalityVerificationRequest::new(
            vec![PersonToVerify::new(
                id("V-001"),
                victim_identity(),
                country("IDN"),
            )],
            true,
        )),
    );
    let freeze = body(
        IDN_POLRI,
        3,
        now,
        &[KHM_POLICE],
        Handling::new(Tlp::AmberStrict, Priority::Urgent).with_deadline(now.plus_seconds(86_400)),
        NoticeContent::ActionRequest(freeze_request(now)),
    );
    let assistance_id = notice_id(&assistance);
    let transit_id = notice_id(&transit);
    let plan_id = notice_id(&plan);
    let verification_id = notice_id(&verification);
    let freeze_id = notice_id(&freeze);

    let mut confirmed = VerificationResult::new(id("V-001"), VerificationOutcome::Confirmed);
    let mut travel_document = IdentityDocument::new(
        DocumentType::EmergencyTravelDocument,
        "SPLP-PP-2026-00417",
        country("IDN"),
    );
    travel_document.issued_on = Date::ymd(2026, 11, 29).ok();
    travel_document.expires_on = Date::ymd(2027, 2, 28).ok();
    confirmed.document_issued = Some(travel_document);

    let mut sighting = SightingReport::new(
        transit_id,
        now,
        Checkpoint::new(
            "Aranyaprathet - Poipet",
            CheckpointKind::LandBorder,
            place("THA", "Sa Kaeo", "Aranyaprathet", None),
        ),
        SightingAction::Screened,
    );
    sighting.suspects = vec![id("S-01")];
    sighting.description = Some(Text::en(
        "Crossed into Thailand on foot at 06:40 with two young women; questioned and released.",
    ));

    let mut handover = RepatriationStepReport::new(
        plan_id,
        2,
        RepatriationStepKind::TransitHandover,
        StepStatus::Done,
        now,
    );
    handover.location = Some(place("THA", "Bangkok", "Suvarnabhumi Airport", None));

    let mut update = CaseUpdate::new(
        scam_case(now),
        Text::en("V-001 identified and her nationality confirmed; V-002 rescued."),
    );
    update.case.status = CaseStatus::FollowUp;
    let mut update = body(
        IDN_KEMLU,
        5,
        now,
        &[KHM_POLICE, THA_POLICE],
        routine,
        NoticeContent::CaseUpdate(update),
    );
    update.references = vec![khm_reference()];

    let mut closure = body(
        IDN_KEMLU,
        6,
        now,
        &[KHM_POLICE, THA_POLICE],
        routine,
        NoticeContent::CaseClosure(CaseClosure::new(
            vec![
                CaseOutcome::VictimsRepatriated,
                CaseOutcome::ProsecutionStarted,
            ],
            now,
            Text::en(
                "Both victims home and referred to rehabilitation; recruiter charged in Jakarta.",
            ),
        )),
    );
    closure.references = vec![khm_reference()];

    let mut frozen = TargetResult::new(id("T-01"), TargetOutcome::Done);
    frozen.amount = Some(usdt(12_000));
    frozen.done_at = Some(now);
    frozen.reference = Some("KHM-FREEZE-2026-118".to_owned());

    vec![
        rescue_request(now),
        body(
            KHM_POLICE,
            1,
            now,
            &[IDN_KEMLU],
            high,
            NoticeContent::VictimStatusUpdate(rescued),
        ),
        body(
            IDN_POLRI,
            1,
            now,
            &[THA_POLICE, KHM_POLICE],
            routine,
            NoticeContent::SuspectAlert(suspect_alert),
        ),
        body(
            KHM_POLICE,
            2,
            now,
            &[IDN_KEMLU, THA_POLICE],
            routine,
            NoticeContent::CompoundAlert(compound_alert),
        ),
        body(
            IDN_KEMLU,
            2,
            now,
            &[THA_POLICE, KHM_POLICE, IDN_POLRI],
            Handling::new(Tlp::Green, Priority::Routine).forwardable(),
            NoticeContent::ModusOperandiAlert(mo),
        ),
        transit,
        plan,
        assistance,
        body(
            KHM_CENTRAL,
            1,
            now,
            &[IDN_CENTRAL],
            routine,
            NoticeContent::AssistanceResponse(AssistanceResponse::new(
                assistance_id,
                AssistanceOutcome::PartiallyGranted,
                Text::en(
                    "Exchange records for F-01 sent through the formal channel; KYC data pending \
                     court order.",
                ),
            )),
        ),
        body(
            KHM_POLICE,
            3,
            now,
            &[IDN_KEMLU],
            high,
            NoticeContent::VictimIdentified(victim_identified(now)),
        ),
        verification,
        body(
            IDN_KEMLU,
            4,
            now,
            &[KHM_POLICE],
            high,
            NoticeContent::NationalityVerificationAnswer(NationalityVerificationAnswer::new(
                verification_id,
                vec![confirmed],
            )),
        ),
        body(
            THA_IMMIGRATION,
            1,
            now,
            &[IDN_POLRI],
            high,
            NoticeContent::SightingReport(sighting),
        ),
        body(
            THA_IMMIGRATION,
            2,
            now,
            &[IDN_KEMLU, KHM_POLICE],
            high,
            NoticeContent::RepatriationStepReport(handover),
        ),
        freeze,
        body(
            KHM_POLICE,
            5,
            now,
            &[IDN_POLRI],
            high,
            NoticeContent::ActionAnswer(ActionAnswer::new(freeze_id, vec![frozen])),
        ),
        update,
        closure,
        body(
            IDN_POLRI,
            4,
            now,
            &[THA_IMMIGRATION],
            routine,
            NoticeContent::Withdrawal(Withdrawal::new(
                transit_id,
                Text::en("Suspect arrested in Jakarta"),
            )),
        ),
    ]
}

/// Cambodian police's own reference for the case.
pub fn khm_reference() -> CaseReference {
    CaseReference::new(
        agency(KHM_POLICE),
        CaseId::parse("KHM-ATHP-2026-0412").unwrap_or_else(|e| panic!("fixture case id: {e}")),
    )
}

/// An amount of USDT, with six decimals as the token carries them.
pub fn usdt(whole: i64) -> Money {
    Money::new(
        Currency::parse("USDT").unwrap_or_else(|e| panic!("fixture currency: {e}")),
        whole * 1_000_000,
        6,
    )
}

/// Who V-001 is: names in Latin script, a passport seen by Cambodian
/// police.
pub fn victim_identity() -> PersonIdentity {
    let mut identity = PersonIdentity::new(
        PersonName::latin("Siti Rahmawati"),
        Sex::Female,
        country("IDN").into(),
    );
    identity.birth_date = Date::ymd(1998, 4, 12).ok();
    let mut passport = IdentityDocument::new(DocumentType::Passport, "X1234567", country("IDN"));
    passport.expires_on = Date::ymd(2029, 6, 30).ok();
    passport.seen = true;
    identity.documents.push(passport);
    identity
}

/// Cambodia's identification of V-001 after the raid: she agrees to her
/// state being notified and to consular contact.
pub fn victim_identified(now: Timestamp) -> VictimIdentified {
    let mut victim = scam_case(now).victims.remove(0);
    victim.status = VictimStatus::Identified;
    victim.trafficking_status = TraffickingStatus::ActualVictim;
    victim.record_consent(ConsentPurpose::ConsularContact, ConsentDecision::Given);
    let mut identified = VictimIdentified::new(
        victim,
        agency(KHM_POLICE),
        IdentificationBasis::RescueOperation,
        now,
    );
    identified.identity = Some(Protected::new(victim_identity()));
    identified.victim.medical = Some(Protected::new(MedicalDetails::new(Text::en(
        "Bruises on both forearms; untreated fever for a week; no medication known.",
    ))));
    identified.victim.contacts = Some(Protected::new(Contacts(vec![Contact::by_phone(
        ContactRelation::Family,
        Some("Mother (name withheld by the victim)".to_owned()),
        phone("+6281234567890"),
    )])));
    identified.location = Some(place("KHM", "Preah Sihanouk", "Sihanoukville", None));
    identified
}

/// A request to freeze the ransom wallet F-01.
pub fn freeze_request(now: Timestamp) -> ActionRequest {
    let wallet = scam_case(now)
        .financial_indicators
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("fixture case has a wallet"));
    let mut target = ActionTarget::new(id("T-01"), Target::Financial(wallet));
    target.amount = Some(usdt(12_000));
    ActionRequest::new(
        ActionKind::Freeze,
        vec![target],
        "Law 21/2007 on trafficking in persons, Art. 32 (blocking of proceeds)",
        "Bareskrim Polri, Directorate of General Crimes",
        now.plus_seconds(86_400),
        Text::en("Ransom for two trafficking victims was paid to this wallet on 20 November 2026."),
    )
}

/// The id `body` gets when its sender's development key signs it (the
/// key matters: it derives the salts of the protected parts).
fn notice_id(body: &NoticeBody) -> lintas_core::ids::NoticeId {
    SignedNotice::sign(body, &crate::world::agency_key(body.sender.as_str()))
        .unwrap_or_else(|e| panic!("fixture notice invalid: {e}"))
        .0
}

fn phone(number: &str) -> PhoneNumber {
    PhoneNumber::parse(number).unwrap_or_else(|e| panic!("fixture phone {number}: {e}"))
}
