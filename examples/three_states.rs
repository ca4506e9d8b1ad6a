//! Origin, transit and destination states working one case after a raid,
//! each agency on its own node, over mutual-TLS gRPC.
//!
//! Cambodian police (destination) raid a scam compound in Sihanoukville.
//! They notify Indonesia's foreign ministry (origin) of each Indonesian
//! victim they identify, except the one who asked that her state not be
//! told: her node refuses to send anything about her there. Cambodia asks
//! Indonesia to verify nationality, and Indonesia answers per person,
//! issuing a travel document. Indonesian police ask Cambodia to freeze the
//! ransom wallet and get an answer per target; they ask Thai immigration
//! (transit) to watch the border for the recruiter, and Thailand reports a
//! sighting at a checkpoint. Indonesia plans the return through Bangkok;
//! each agency reports the step it carries out. Indonesia closes the case.
//! Every delivery is answered with a signed receipt, and each case system
//! acknowledges what it read and acted on. At the end each node's case
//! timeline is printed.
//!
//! Run: `cargo run --example three_states`

use std::time::Duration;

use lintas_core::case::Victim;
use lintas_core::ids::{AgencyId, CaseId, NoticeId, RecordId};
use lintas_core::notice::{
    ActionAnswer, CaseClosure, Handling, NationalityVerificationAnswer,
    NationalityVerificationRequest, NoticeBody, NoticeContent, PersonToVerify, RepatriationPlan,
    RepatriationStep, RepatriationStepReport, SightingReport, TargetResult, VerificationResult,
    VictimIdentified,
};
use lintas_core::pb;
use lintas_core::receipt::SignedReceipt;
use lintas_core::text::Text;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{
    CaseOutcome, ConsentDecision, ConsentPurpose, IdentificationBasis, NoticeKind, Priority,
    ReceiptStage, RepatriationStepKind, SightingAction, StepStatus, TargetOutcome, Tlp,
    VerificationOutcome, VictimStatus,
};
use lintas_testkit::devnet::DevNet;
use lintas_testkit::scenario;
use lintas_testkit::world::{IDN_KEMLU, IDN_POLRI, KHM_POLICE, THA_IMMIGRATION};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn agency(id: &str) -> Result<AgencyId, Error> {
    Ok(AgencyId::parse(id)?)
}

fn record(id: &str) -> Result<RecordId, Error> {
    Ok(RecordId::parse(id)?)
}

/// A draft about the scenario's case, from `from` to `to`; the node fills in
/// the sequence number when it signs.
fn draft(
    from: &str,
    to: &[&str],
    priority: Priority,
    content: NoticeContent,
) -> Result<NoticeBody, Error> {
    let now = Timestamp::now();
    let mut handling = Handling::new(Tlp::AmberStrict, priority);
    if priority == Priority::Urgent {
        handling = handling.with_deadline(now.plus_seconds(12 * 3600));
    }
    if content.carries_personal_data() {
        // Personal data travels with a stated purpose and legal basis.
        handling = handling.for_purpose(
            scenario::purpose_of(content.kind()),
            lintas_core::vocab::LegalBasis::LawEnforcement,
        );
    }
    let recipients = to.iter().map(|r| agency(r)).collect::<Result<_, _>>()?;
    Ok(NoticeBody::new(
        agency(from)?,
        0,
        now,
        now.plus_seconds(30 * 86_400),
        recipients,
        handling,
        content,
    )
    .about_case(CaseId::parse(scenario::CASE_ID)?))
}

/// Submits a draft and waits until every outbox is empty.
async fn send(net: &DevNet, agencies: &[&str], body: NoticeBody) -> Result<NoticeId, Error> {
    let from = body.sender.to_string();
    let (id, _) = net.node(&from).submit(body).await?;
    settle(net, agencies).await?;
    Ok(id)
}

/// Waits until every outbox is empty: everything delivered and receipted.
async fn settle(net: &DevNet, agencies: &[&str]) -> Result<(), Error> {
    for _ in 0..200 {
        let mut pending = 0;
        for a in agencies {
            pending += net.node(a).outbox_len().await?;
        }
        if pending == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("deliveries did not settle".into())
}

/// The stages a case system reports for a notice of `kind`: requests are
/// acted on, answers and reports are read.
fn stages_for(kind: Result<NoticeKind, lintas_core::ValidationError>) -> Vec<ReceiptStage> {
    let mut stages = vec![ReceiptStage::Delivered, ReceiptStage::Read];
    if matches!(
        kind,
        Ok(NoticeKind::NationalityVerificationRequest
            | NoticeKind::ActionRequest
            | NoticeKind::TransitWatchRequest
            | NoticeKind::RepatriationPlan)
    ) {
        stages.extend([ReceiptStage::ActionStarted, ReceiptStage::ActionCompleted]);
    }
    stages
}

/// Each case system reads its inbox and acknowledges every new notice.
async fn acknowledge_all(net: &DevNet, agencies: &[&str], seen: &mut [u64]) -> Result<(), Error> {
    for (i, a) in agencies.iter().enumerate() {
        let mut api = net.case_system(a).await?;
        for entry in net.node(a).inbox_after(seen[i]).await? {
            seen[i] = entry.cursor;
            let kind = NoticeKind::from_wire(entry.notice.kind);
            let shown = kind
                .clone()
                .map_or_else(|_| "notice".to_owned(), NoticeKind::label);
            println!(
                "  {a} case system received a {shown} from {}",
                entry.notice.sender
            );
            for stage in stages_for(kind) {
                api.acknowledge(pb::AcknowledgeRequest {
                    notice_id: entry.id.as_bytes().to_vec(),
                    stage: stage.to_wire(),
                    ..Default::default()
                })
                .await?;
            }
        }
    }
    settle(net, agencies).await
}

/// The three Indonesian victims the raid found, as Cambodian police record
/// them: V-001 and V-002 agree to their state being notified; V-003 does
/// not.
fn raid_victims(now: Timestamp) -> Result<Vec<Victim>, Error> {
    let case = scenario::scam_case(now);
    let mut victims = case.victims;
    let mut third = victims.first().cloned().ok_or("scenario has victims")?;
    third.victim_id = record("V-003")?;
    third.record_consent(
        ConsentPurpose::NotifyStateOfNationality,
        ConsentDecision::Refused,
    );
    victims.push(third);
    for v in &mut victims {
        v.status = VictimStatus::Identified;
        if v.consent(ConsentPurpose::NotifyStateOfNationality)
            .is_none()
        {
            v.record_consent(
                ConsentPurpose::NotifyStateOfNationality,
                ConsentDecision::Given,
            );
        }
        v.record_consent(ConsentPurpose::ConsularContact, ConsentDecision::Given);
    }
    Ok(victims)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    let agencies = [IDN_KEMLU, IDN_POLRI, THA_IMMIGRATION, KHM_POLICE];
    let net = DevNet::start(&agencies, dir.path()).await?;
    println!("Four agency nodes on loopback with mutual TLS:");
    for a in agencies {
        println!("  {a:<20} https://{}", net.addr(a).ok_or("no address")?);
    }
    let mut seen = [0u64; 4];
    let now = Timestamp::now();

    println!(
        "\n1. Cambodian police raid the compound and notify Indonesia of each identification."
    );
    for victim in raid_victims(now)? {
        let who = victim.victim_id.to_string();
        let mut identified = VictimIdentified::new(
            victim,
            agency(KHM_POLICE)?,
            IdentificationBasis::RescueOperation,
            now,
        );
        identified.note = Some(
            Text::new("km", "បានសង្គ្រោះក្នុងប្រតិបត្តិការនៅក្រុងព្រះសីហនុ")?.with_translation(
                "en",
                "Rescued in the Sihanoukville operation",
                false,
            )?,
        );
        let body = draft(
            KHM_POLICE,
            &[IDN_KEMLU],
            Priority::High,
            NoticeContent::VictimIdentified(identified),
        )?;
        match net.node(KHM_POLICE).submit(body).await {
            Ok(_) => println!("  {who}: identification sent to {IDN_KEMLU}"),
            Err(refusal) => println!(
                "  {who}: refused by Cambodia's own node, nothing sent to Indonesia ({}: {})",
                refusal.reason(),
                refusal.field().unwrap_or("")
            ),
        }
    }
    settle(&net, &agencies).await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;

    println!("\n2. Cambodia asks Indonesia to verify nationality; Indonesia answers per person.");
    let persons = vec![
        PersonToVerify::new(
            record("V-001")?,
            scenario::victim_identity(),
            lintas_core::ids::Country::parse("IDN")?,
        ),
        PersonToVerify::new(
            record("V-002")?,
            {
                let mut id = scenario::victim_identity();
                id.names = vec![lintas_core::case::PersonName::latin("Budi Santoso")];
                id.documents.clear();
                id.sex = lintas_core::vocab::Sex::Male;
                id
            },
            lintas_core::ids::Country::parse("IDN")?,
        ),
    ];
    let request = send(
        &net,
        &agencies,
        draft(
            KHM_POLICE,
            &[IDN_KEMLU],
            Priority::High,
            NoticeContent::NationalityVerificationRequest(NationalityVerificationRequest::new(
                persons, true,
            )),
        )?,
    )
    .await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;
    let mut confirmed = VerificationResult::new(record("V-001")?, VerificationOutcome::Confirmed);
    confirmed.document_issued = Some(lintas_core::case::IdentityDocument::new(
        lintas_core::vocab::DocumentType::EmergencyTravelDocument,
        "SPLP-PP-2026-00417",
        lintas_core::ids::Country::parse("IDN")?,
    ));
    let mut more =
        VerificationResult::new(record("V-002")?, VerificationOutcome::MoreInformationNeeded);
    more.note = Some(Text::en(
        "No civil registry match: please send a photo and his parents' names.",
    ));
    send(
        &net,
        &agencies,
        draft(
            IDN_KEMLU,
            &[KHM_POLICE],
            Priority::High,
            NoticeContent::NationalityVerificationAnswer(NationalityVerificationAnswer::new(
                request,
                vec![confirmed, more],
            )),
        )?,
    )
    .await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;

    println!(
        "\n3. Indonesian police ask Cambodia to freeze the ransom wallet; Cambodia answers per target."
    );
    let freeze = send(
        &net,
        &agencies,
        draft(
            IDN_POLRI,
            &[KHM_POLICE],
            Priority::Urgent,
            NoticeContent::ActionRequest(scenario::freeze_request(Timestamp::now())),
        )?,
    )
    .await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;
    let mut frozen = TargetResult::new(record("T-01")?, TargetOutcome::Done);
    frozen.amount = Some(scenario::usdt(12_000));
    frozen.done_at = Some(Timestamp::now());
    frozen.reference = Some("KHM-FREEZE-2026-118".to_owned());
    send(
        &net,
        &agencies,
        draft(
            KHM_POLICE,
            &[IDN_POLRI],
            Priority::High,
            NoticeContent::ActionAnswer(ActionAnswer::new(freeze, vec![frozen])),
        )?,
    )
    .await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;

    println!(
        "\n4. Indonesian police ask Thai immigration to watch for the recruiter; Thailand reports a sighting."
    );
    let mut watch = scenario::one_of_each_kind(Timestamp::now())
        .into_iter()
        .find(|b| b.kind() == NoticeKind::TransitWatchRequest)
        .ok_or("scenario lacks a transit watch")?;
    watch.sequence = 0;
    watch.created_at = Timestamp::now();
    let watch_id = send(&net, &agencies, watch).await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;
    let mut sighting = SightingReport::new(
        watch_id,
        Timestamp::now(),
        lintas_core::notice::Checkpoint::new(
            "Aranyaprathet - Poipet",
            lintas_core::vocab::CheckpointKind::LandBorder,
            lintas_core::place::Location::in_country(lintas_core::ids::Country::parse("THA")?),
        ),
        SightingAction::Screened,
    );
    sighting.suspects = vec![record("S-01")?];
    send(
        &net,
        &agencies,
        draft(
            THA_IMMIGRATION,
            &[IDN_POLRI],
            Priority::High,
            NoticeContent::SightingReport(sighting),
        )?,
    )
    .await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;

    println!(
        "\n5. Indonesia plans V-001's return through Bangkok; each agency reports its own step."
    );
    let soon = |days: i64| Some(Timestamp::now().plus_seconds(days * 86_400));
    let plan = RepatriationPlan::new(
        record("P-01")?,
        vec![record("V-001")?],
        vec![
            RepatriationStep::planned(
                RepatriationStepKind::TravelDocument,
                agency(IDN_KEMLU)?,
                soon(1),
            ),
            RepatriationStep::planned(
                RepatriationStepKind::TransitHandover,
                agency(THA_IMMIGRATION)?,
                soon(2),
            ),
            RepatriationStep::planned(RepatriationStepKind::Arrival, agency(IDN_KEMLU)?, soon(3)),
        ],
    );
    let plan = send(
        &net,
        &agencies,
        draft(
            IDN_KEMLU,
            &[KHM_POLICE, THA_IMMIGRATION],
            Priority::High,
            NoticeContent::RepatriationPlan(plan),
        )?,
    )
    .await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;
    for (from, step, kind) in [
        (IDN_KEMLU, 0, RepatriationStepKind::TravelDocument),
        (THA_IMMIGRATION, 1, RepatriationStepKind::TransitHandover),
        (IDN_KEMLU, 2, RepatriationStepKind::Arrival),
    ] {
        let report =
            RepatriationStepReport::new(plan, step, kind, StepStatus::Done, Timestamp::now());
        let to: Vec<&str> = [IDN_KEMLU, THA_IMMIGRATION, KHM_POLICE]
            .into_iter()
            .filter(|a| *a != from)
            .collect();
        send(
            &net,
            &agencies,
            draft(
                from,
                &to,
                Priority::Routine,
                NoticeContent::RepatriationStepReport(report),
            )?,
        )
        .await?;
        println!("  {from} reported step {step} ({}) done", kind.label());
    }
    acknowledge_all(&net, &agencies, &mut seen).await?;

    println!("\n6. Indonesia closes the case, with Cambodia's reference for it.");
    let mut closure = draft(
        IDN_KEMLU,
        &[KHM_POLICE, THA_IMMIGRATION, IDN_POLRI],
        Priority::Routine,
        NoticeContent::CaseClosure(CaseClosure::new(
            vec![
                CaseOutcome::VictimsRepatriated,
                CaseOutcome::ProsecutionStarted,
            ],
            Timestamp::now(),
            Text::en("V-001 home and referred to rehabilitation; recruiter charged in Jakarta."),
        )),
    )?;
    closure.references = vec![scenario::khm_reference()];
    send(&net, &agencies, closure).await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;

    println!("\nThe case timeline as each node sees it:");
    for a in agencies {
        let mut api = net.case_system(a).await?;
        println!("\n  {a}");
        let mut page_token = Vec::new();
        loop {
            let page = api
                .get_case_timeline(pb::GetCaseTimelineRequest {
                    case_id: scenario::CASE_ID.into(),
                    page_size: 10,
                    page_token,
                })
                .await?
                .into_inner();
            for entry in page.entries {
                print_entry(&net, entry);
            }
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    net.shutdown().await;
    Ok(())
}

fn print_entry(net: &DevNet, entry: pb::TimelineEntry) {
    let kind =
        NoticeKind::from_wire(entry.kind).map_or_else(|_| "notice".to_owned(), NoticeKind::label);
    let direction = if entry.direction == pb::Direction::Sent as i32 {
        "sent"
    } else {
        "received"
    };
    let receipts: Vec<lintas_core::receipt::Receipt> = entry
        .receipts
        .into_iter()
        .filter_map(|r| SignedReceipt::try_from(r).ok())
        .filter_map(|r| net.roster.verify_receipt(&r, Timestamp::now()).ok())
        .collect();
    println!(
        "    {direction:<8} {kind:<32} from {:<19} {}…",
        entry.sender,
        hex_prefix(&entry.notice_id),
    );
    // Each recipient's furthest stage, in the order stages happen.
    for (who, stage, at) in lintas_core::receipt::furthest_stages(&receipts) {
        let time = at.to_string();
        println!(
            "             {:<19} {:<16} at {}",
            who.as_str(),
            stage.label(),
            time.get(11..19).unwrap_or(&time)
        );
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}
