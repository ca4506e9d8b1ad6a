//! Three agency nodes, one case: origin, transit and destination states
//! working together over mutual-TLS gRPC.
//!
//! Indonesia's foreign ministry (origin), Thailand's immigration bureau
//! (transit) and Cambodia's anti-trafficking police (destination) each run a
//! node on loopback, with a freshly generated development PKI and a roster
//! signed by two of three member-state stewards. Indonesia asks for a
//! rescue and a transit watch; Cambodia reports the victims located,
//! rescued and in protection; Indonesia plans the repatriation through
//! Thailand; Thailand reports the handover. Every delivery is answered with
//! a signed receipt, and each case system acknowledges what it read and
//! acted on. At the end, each node's view of the case timeline is printed.
//!
//! Run: `cargo run --example three_states`

use std::time::Duration;

use lintas_core::ids::{AgencyId, RecordId};
use lintas_core::notice::{Handling, NoticeBody, NoticeContent, VictimStatusUpdate};
use lintas_core::pb;
use lintas_core::receipt::SignedReceipt;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{LegalTreatment, NoticeKind, Priority, ReceiptStage, Tlp, VictimStatus};
use lintas_testkit::devnet::DevNet;
use lintas_testkit::scenario;
use lintas_testkit::world::{IDN_KEMLU, KHM_POLICE, THA_IMMIGRATION};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn agency(id: &str) -> Result<AgencyId, Error> {
    Ok(AgencyId::parse(id)?)
}

fn pick(kind: NoticeKind, now: Timestamp) -> Result<NoticeBody, Error> {
    Ok(scenario::one_of_each_kind(now)
        .into_iter()
        .find(|b| b.kind() == kind)
        .ok_or("scenario lacks a kind")?)
}

/// A victim status update from `from` to `to`.
fn status_update(
    from: &str,
    to: &[&str],
    victim: &str,
    status: VictimStatus,
    note: &str,
) -> Result<NoticeBody, Error> {
    let now = Timestamp::now();
    let mut update = VictimStatusUpdate::new(
        RecordId::parse(victim)?,
        status,
        LegalTreatment::Victim,
        now,
    );
    update.non_punishment = true;
    update.note = Some(note.to_owned());
    let recipients = to.iter().map(|r| agency(r)).collect::<Result<_, _>>()?;
    Ok(NoticeBody::new(
        agency(from)?,
        0,
        now,
        now.plus_seconds(30 * 86_400),
        recipients,
        Handling::new(Tlp::AmberStrict, Priority::High),
        NoticeContent::VictimStatusUpdate(update),
    )
    .about_case(lintas_core::ids::CaseId::parse(scenario::CASE_ID)?))
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

/// Each case system reads its inbox and acknowledges every new notice:
/// READ for all, ACTIONED for rescue requests, watches and plans.
async fn acknowledge_all(net: &DevNet, agencies: &[&str], seen: &mut [u64]) -> Result<(), Error> {
    for (i, a) in agencies.iter().enumerate() {
        let mut api = net.case_system(a).await?;
        for entry in net.node(a).inbox_after(seen[i]).await? {
            seen[i] = entry.cursor;
            let kind = pb::NoticeKind::try_from(entry.notice.kind)
                .map(|k| k.as_str_name())
                .unwrap_or("?");
            println!(
                "  {a} case system received {kind} from {}",
                entry.notice.sender
            );
            let mut stages = vec![ReceiptStage::Delivered, ReceiptStage::Read];
            if matches!(
                NoticeKind::from_wire(entry.notice.kind),
                Ok(NoticeKind::RescueRequest
                    | NoticeKind::TransitWatchRequest
                    | NoticeKind::RepatriationPlan)
            ) {
                stages.push(ReceiptStage::Actioned);
            }
            for stage in stages {
                api.acknowledge(pb::AcknowledgeRequest {
                    notice_id: entry.id.as_bytes().to_vec(),
                    stage: stage.to_wire(),
                    note: String::new(),
                })
                .await?;
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    let agencies = [IDN_KEMLU, THA_IMMIGRATION, KHM_POLICE];
    let net = DevNet::start(&agencies, dir.path()).await?;
    println!("Three nodes on loopback with mutual TLS:");
    for a in agencies {
        println!("  {a:<16} https://{}", net.addr(a).ok_or("no address")?);
    }
    let mut seen = [0u64; 3];
    let now = Timestamp::now();

    println!(
        "\n1. Indonesia asks Cambodia and Thailand to rescue two citizens, and Thailand to watch the border."
    );
    let mut rescue = scenario::rescue_request(now);
    rescue.recipients = vec![agency(KHM_POLICE)?, agency(THA_IMMIGRATION)?];
    net.node(IDN_KEMLU).submit(rescue).await?;
    let mut watch = pick(NoticeKind::TransitWatchRequest, Timestamp::now())?;
    watch.recipients = vec![agency(THA_IMMIGRATION)?];
    net.node(IDN_KEMLU).submit(watch).await?;
    settle(&net, &agencies).await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;

    println!("\n2. Cambodia reports the victims located, rescued and in protection.");
    for (victim, status, note) in [
        (
            "V-001",
            VictimStatus::Located,
            "confirmed inside the compound",
        ),
        (
            "V-002",
            VictimStatus::Rescued,
            "taken to hospital, injuries treated",
        ),
        ("V-001", VictimStatus::Rescued, "released during the raid"),
        ("V-002", VictimStatus::InProtection, "provincial shelter"),
    ] {
        net.node(KHM_POLICE)
            .submit(status_update(
                KHM_POLICE,
                &[IDN_KEMLU],
                victim,
                status,
                note,
            )?)
            .await?;
    }
    settle(&net, &agencies).await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;

    println!("\n3. Indonesia plans V-002's repatriation through Thailand.");
    let mut plan = pick(NoticeKind::RepatriationPlan, Timestamp::now())?;
    plan.recipients = vec![agency(KHM_POLICE)?, agency(THA_IMMIGRATION)?];
    net.node(IDN_KEMLU).submit(plan).await?;
    settle(&net, &agencies).await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;

    println!("\n4. Thailand reports the transit handover; Indonesia reports V-002 home.");
    net.node(THA_IMMIGRATION)
        .submit(status_update(
            THA_IMMIGRATION,
            &[IDN_KEMLU, KHM_POLICE],
            "V-002",
            VictimStatus::InProtection,
            "handed over at Suvarnabhumi to the Indonesian embassy escort",
        )?)
        .await?;
    net.node(IDN_KEMLU)
        .submit(status_update(
            IDN_KEMLU,
            &[KHM_POLICE, THA_IMMIGRATION],
            "V-002",
            VictimStatus::Repatriated,
            "arrived in Jakarta, referred to the social ministry",
        )?)
        .await?;
    settle(&net, &agencies).await?;
    acknowledge_all(&net, &agencies, &mut seen).await?;
    settle(&net, &agencies).await?;

    println!("\nThe case timeline as each node sees it:");
    for a in agencies {
        let mut api = net.case_system(a).await?;
        let timeline = api
            .get_case_timeline(pb::GetCaseTimelineRequest {
                case_id: scenario::CASE_ID.into(),
            })
            .await?
            .into_inner();
        println!("\n  {a}");
        for entry in timeline.entries {
            let kind = pb::NoticeKind::try_from(entry.kind)
                .map(|k| k.as_str_name())
                .unwrap_or("?");
            let direction = if entry.direction == pb::Direction::Sent as i32 {
                "sent"
            } else {
                "received"
            };
            let mut receipts: Vec<String> = entry
                .receipts
                .into_iter()
                .filter_map(|r| SignedReceipt::try_from(r).ok())
                .filter_map(|r| net.roster.verify_receipt(&r, Timestamp::now()).ok())
                .map(|r| {
                    format!(
                        "{}:{}",
                        r.receiver,
                        r.stage
                            .wire_name()
                            .trim_start_matches("RECEIPT_STAGE_")
                            .to_lowercase()
                    )
                })
                .collect();
            receipts.sort();
            println!(
                "    {direction:<8} {:<37} from {:<16} {}…  receipts: {}",
                kind.trim_start_matches("NOTICE_KIND_"),
                entry.sender,
                &hex_prefix(&entry.notice_id),
                receipts.join(", ")
            );
        }
    }
    net.shutdown().await;
    Ok(())
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}
