//! Evidence bundles (docs/PROTOCOL.md section 11): a three-state case
//! exported by one node and checked offline, and every kind of tampering
//! caught and named by where it is.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use lintas_core::evidence::verify::verify_bundle;
use lintas_core::ids::AgencyId;
use lintas_core::pb;
use lintas_core::time::Timestamp;
use lintas_core::vocab::ReceiptStage;
use lintas_node::{DeliveryConfig, Engine, MemoryNetwork};
use lintas_store::Store;
use lintas_testkit::{scenario, world};
use prost::Message;
use tokio_util::sync::CancellationToken;
use world::{IDN_KEMLU, KHM_POLICE, THA_POLICE};

fn open(dir: &Path, id: &str, roster: &lintas_core::roster::TrustedRoster) -> Engine {
    let store = Arc::new(Store::open(&dir.join(format!("{id}.redb"))).unwrap());
    Engine::open(
        AgencyId::parse(id).unwrap(),
        world::agency_key(id),
        roster.clone(),
        store,
        DeliveryConfig::default(),
    )
    .unwrap()
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Indonesia asks Cambodia and Thailand for a rescue; both accept, Cambodia
/// starts acting; every node witnesses the others. Returns Indonesia's
/// exported bundle and the roster every node trusts (published by the
/// stewards: what a court obtains independently of the bundle).
async fn exported_case() -> (Vec<u8>, Vec<u8>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let network = MemoryNetwork::new();
    let roster = world::trusted_roster();
    let [idn, khm, tha] = [IDN_KEMLU, KHM_POLICE, THA_POLICE].map(|a| open(dir.path(), a, &roster));
    let stop = CancellationToken::new();
    for e in [&idn, &khm, &tha] {
        network.attach(e);
        let (e, stop) = (e.clone(), stop.clone());
        let transport = Arc::new(network.transport(e.agency()));
        tokio::spawn(async move { e.run_delivery(transport, stop).await });
    }
    // A photo attached: 600 KiB, three pieces.
    let mut rng = fastrand::Rng::with_seed(9);
    let photo: Vec<u8> = (0..600 * 1024).map(|_| rng.u8(..)).collect();
    let (sha, size) = idn
        .upload_attachment(photo, "image/jpeg", "casesys.idn.test", Timestamp::now())
        .await
        .unwrap();
    let mut body = scenario::rescue_request(Timestamp::now());
    body.attachments
        .push(lintas_core::notice::AttachmentRef::new(
            sha,
            "image/jpeg",
            size,
            body.created_at,
            AgencyId::parse(IDN_KEMLU).unwrap(),
        ));
    for e in [&khm, &tha] {
        let (e, stop) = (e.clone(), stop.clone());
        let transport = Arc::new(network.transport(e.agency()));
        tokio::spawn(async move { e.run_attachment_fetch(transport, stop).await });
    }
    let sent = idn.submit(body, Timestamp::now()).await.unwrap();
    until("both recipients hold it", || {
        khm.inbox_after(0, 10).unwrap().len() == 1 && tha.inbox_after(0, 10).unwrap().len() == 1
    })
    .await;
    khm.acknowledge(sent.id, ReceiptStage::ActionStarted, None, Timestamp::now())
        .await
        .unwrap();
    until("Indonesia holds three receipts", || {
        idn.receipts(&sent.id).unwrap().len() == 3
    })
    .await;
    until("both recipients fetched the photo", || {
        [&khm, &tha].iter().all(|e| {
            e.store()
                .attachment(&sha)
                .unwrap()
                .is_some_and(|r| r.complete)
        })
    })
    .await;
    for e in [&idn, &khm, &tha] {
        e.witness_round(&network.transport(e.agency()), Timestamp::now())
            .await;
    }
    let exported = idn
        .export_evidence(
            scenario::CASE_ID,
            true,
            &network.transport(idn.agency()),
            Timestamp::now(),
        )
        .await
        .unwrap();
    assert!(
        exported.missing_proofs.is_empty(),
        "{:?}",
        exported.missing_proofs
    );
    assert_eq!(exported.notices, 1);
    stop.cancel();
    (exported.file, roster.signed().encode(), dir)
}

fn tampered(file: &[u8], change: impl FnOnce(&mut pb::EvidenceBundle)) -> Vec<u8> {
    let mut bundle = pb::EvidenceBundle::decode(file).unwrap();
    change(&mut bundle);
    bundle.encode_to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_state_case_is_exported_and_verified_offline() {
    let (file, pinned, _dir) = exported_case().await;
    let report = verify_bundle(&file, Some(&pinned));
    assert!(report.ok, "{}", report.to_text());
    assert!(report.roster_pinned && report.manifest_verified);
    assert_eq!(report.case_id.as_deref(), Some(scenario::CASE_ID));
    let notice = &report.notices[0];
    assert_eq!(notice.kind.as_deref(), Some("NOTICE_KIND_RESCUE_REQUEST"));
    assert_eq!(notice.sender.as_deref(), Some(IDN_KEMLU));
    assert_eq!(notice.recipients, vec![KHM_POLICE, THA_POLICE]);
    assert!(notice.verified);
    // Logged by the sender and by both recipients, each log witnessed by
    // the two other agencies.
    let logs: Vec<&str> = notice.logged.iter().map(|l| l.log.as_str()).collect();
    assert_eq!(logs, vec![IDN_KEMLU, KHM_POLICE, THA_POLICE]);
    for l in &notice.logged {
        assert_eq!(l.witnesses.len(), 2, "{l:?}");
    }
    // Who received it and acted on it.
    let mut stages: Vec<(String, String)> = notice
        .receipts
        .iter()
        .map(|r| (r.receiver.clone().unwrap(), r.stage.clone().unwrap()))
        .collect();
    stages.sort();
    assert_eq!(
        stages,
        vec![
            (KHM_POLICE.into(), "RECEIPT_STAGE_ACCEPTED".into()),
            (KHM_POLICE.into(), "RECEIPT_STAGE_ACTION_STARTED".into()),
            (THA_POLICE.into(), "RECEIPT_STAGE_ACCEPTED".into()),
        ]
    );
    for r in &notice.receipts {
        assert!(r.verified);
        assert_eq!(
            r.logged.len(),
            2,
            "in the signer's log and the sender's: {r:?}"
        );
    }
    // The photo: carried, exactly the file Indonesia named, uploaded by
    // its case system and served to both recipients, each step signed and
    // in Indonesia's log.
    let photo = &notice.attachments[0];
    assert!(photo.included && photo.verified, "{photo:?}");
    let events: Vec<&str> = photo.custody.iter().map(|c| c.event.as_str()).collect();
    assert_eq!(
        events,
        vec![
            "CUSTODY_EVENT_UPLOADED",
            "CUSTODY_EVENT_SERVED",
            "CUSTODY_EVENT_SERVED"
        ]
    );
    for c in &photo.custody {
        assert_eq!(c.logged.len(), 1, "{c:?}");
    }
    let text = report.to_text();
    assert!(text.contains("exactly the file the sender named"), "{text}");
    assert!(
        text.contains("NOTICE_KIND_RESCUE_REQUEST sent by IDN.KEMLU.PWNI"),
        "{text}"
    );
    assert!(text.contains("Result: every check passed"), "{text}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["ok"], true);
}

/// A problem as (path, what, changed bytes).
type Found = (String, String, Vec<(u64, u64)>);

/// The problems `file` has.
fn problems(file: &[u8], pinned: &[u8]) -> Vec<Found> {
    let report = verify_bundle(file, Some(pinned));
    assert!(!report.ok);
    report
        .problems
        .into_iter()
        .map(|p| (p.path, p.what, p.changed_bytes))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_tampering_is_caught_and_named() {
    let (file, pinned, _dir) = exported_case().await;
    let problems = |file: &[u8]| problems(file, &pinned);

    // A byte of the notice: the signature fails, and the manifest locates
    // the change.
    let notice_byte = tampered(&file, |b| {
        let n = &mut b.notices[0].signed_notice;
        let at = n.len() / 2;
        n[at] ^= 0x20;
    });
    let found = problems(&notice_byte);
    let middle = (pb::EvidenceBundle::decode(file.as_slice()).unwrap().notices[0]
        .signed_notice
        .len()
        / 2) as u64;
    assert!(
        found.iter().any(|(path, what, bytes)| path == "notices[0]"
            && what.contains("does not match the content")
            && bytes.iter().any(|(a, b)| *a <= middle && middle < *b)),
        "{found:?}"
    );

    // The signature's last byte: the content is intact, the signature not.
    let signature_byte = tampered(&file, |b| {
        let n = &mut b.notices[0].signed_notice;
        let last = n.len() - 1;
        n[last] ^= 0x01;
    });
    let found = problems(&signature_byte);
    assert!(
        found.iter().any(|(path, what, bytes)| path == "notices[0]"
            && what.contains("does not verify (bad_signature)")
            && !bytes.is_empty()),
        "{found:?}"
    );

    // A receipt's byte.
    let receipt = tampered(&file, |b| {
        let r = &mut b.notices[0].receipts[1].signed_receipt;
        let last = r.len() - 1;
        r[last] ^= 0x01;
    });
    let found = problems(&receipt);
    assert!(
        found
            .iter()
            .any(|(path, what, _)| path == "notices[0].receipts[1]"
                && what.contains("does not verify")),
        "{found:?}"
    );

    // A hash of an inclusion proof.
    let proof = tampered(&file, |b| {
        let p = b.notices[0].proofs[1].proof.as_mut().unwrap();
        p.proof[0][0] ^= 0x01;
    });
    let found = problems(&proof);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "notices[0].proofs[1].proof");
    assert!(found[0].1.contains("KHM.MOI.ATHP's log"), "{found:?}");

    // A checkpoint's root.
    let checkpoint = tampered(&file, |b| {
        let c = b.notices[0].receipts[0].proofs[0]
            .proof
            .as_mut()
            .unwrap()
            .checkpoint
            .as_mut()
            .unwrap()
            .checkpoint
            .as_mut()
            .unwrap();
        let mut wire = pb::LogCheckpoint::decode(c.checkpoint.as_slice()).unwrap();
        wire.root[0] ^= 0x01;
        c.checkpoint = wire.encode_to_vec();
    });
    let found = problems(&checkpoint);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "notices[0].receipts[0].proofs[0].proof");
    assert!(found[0].1.contains("checkpoint"), "{found:?}");

    // A cosignature swapped to another checkpoint's.
    let cosignature = tampered(&file, |b| {
        let other = b.notices[0].proofs[0]
            .proof
            .clone()
            .unwrap()
            .checkpoint
            .unwrap()
            .cosignatures[0]
            .clone();
        let mut replaced = other.clone();
        replaced.signature[0] ^= 0x01;
        b.notices[0].proofs[1]
            .proof
            .as_mut()
            .unwrap()
            .checkpoint
            .as_mut()
            .unwrap()
            .cosignatures[0] = replaced;
    });
    let found = problems(&cosignature);
    assert!(
        found
            .iter()
            .any(|(path, what, _)| path == "notices[0].proofs[1].proof"
                && what.contains("cosignatures[0]")),
        "{found:?}"
    );

    // A roster byte.
    let roster = tampered(&file, |b| {
        let r = &mut b.rosters[0];
        let at = r.len() / 3;
        r[at] ^= 0x01;
    });
    let found = problems(&roster);
    assert!(
        found
            .iter()
            .any(|(path, _, bytes)| path == "rosters[0]" && !bytes.is_empty()),
        "{found:?}"
    );

    // A byte of the attached photo.
    let photo = tampered(&file, |b| {
        b.notices[0].attachments[0].data[300_000] ^= 0x01;
    });
    let found = problems(&photo);
    assert!(
        found
            .iter()
            .any(|(path, what, bytes)| path == "notices[0].attachments[0]"
                && what.contains("not to the digest the sender signed")
                && bytes.iter().any(|(a, b)| *a <= 300_000 && 300_000 < *b)),
        "{found:?}"
    );
    // A custody entry's signature.
    let custody = tampered(&file, |b| {
        let c = &mut b.notices[0].attachments[0].custody[1].signed_custody_entry;
        let last = c.len() - 1;
        c[last] ^= 0x01;
    });
    let found = problems(&custody);
    assert!(
        found.iter().any(
            |(path, what, _)| path == "notices[0].attachments[0].custody[1]"
                && what.contains("does not verify")
        ),
        "{found:?}"
    );

    // A receipt removed, or one added.
    let removed = tampered(&file, |b| {
        b.notices[0].receipts.pop();
    });
    let found = problems(&removed);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "notices[0].receipts[2]");
    assert!(found[0].1.contains("missing"), "{found:?}");
    let added = tampered(&file, |b| {
        let copy = b.notices[0].receipts[0].clone();
        b.notices[0].receipts.push(copy);
    });
    let found = problems(&added);
    assert!(
        found
            .iter()
            .any(|(path, what, _)| path == "notices[0].receipts[3]" && what.contains("added")),
        "{found:?}"
    );

    // The manifest changed to match a changed notice: its signature fails.
    let forged_manifest = tampered(&notice_byte, |b| {
        let signed = b.manifest.as_mut().unwrap();
        let mut manifest = pb::EvidenceManifest::decode(signed.manifest.as_slice()).unwrap();
        let n = &b.notices[0].signed_notice;
        manifest.items[1] = lintas_core::evidence::manifest::digest_of("notices[0]".into(), n);
        signed.manifest = manifest.encode_to_vec();
    });
    let found = problems(&forged_manifest);
    assert!(
        found
            .iter()
            .any(|(path, what, _)| path == "manifest" && what.contains("does not verify")),
        "{found:?}"
    );

    // Another roster given as the trusted one.
    let mut other = world::roster(2, Timestamp::now().plus_seconds(-60));
    other.version = 9;
    let other = world::sign_roster(
        &other,
        &[
            lintas_core::ids::MemberState::Indonesia,
            lintas_core::ids::MemberState::Cambodia,
        ],
    )
    .encode();
    let report = verify_bundle(&file, Some(&other));
    assert!(!report.ok);
    assert_eq!(report.problems[0].path, "rosters");

    // Not a bundle at all.
    assert_eq!(problems(b"\xff\xff\xff")[0].0, "file");
}
