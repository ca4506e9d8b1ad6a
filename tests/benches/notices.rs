//! What a notice costs, measured against the cryptography it cannot avoid.
//!
//! Prints the median time per operation over repeated batches, and each as
//! a multiple of one strict Ed25519 verification of the same message in the
//! same run (the floor any verifier pays). Then an end-to-end figure: notices
//! delivered between two nodes on loopback with mutual TLS and receipts.
//!
//! Run: `cargo bench -p lintas-integration --bench notices`

use std::hint::black_box;
use std::time::{Duration, Instant};

use lintas_core::notice::NoticeBody;
use lintas_core::signing::{SignedNotice, decode_notice_body};
use lintas_core::time::Timestamp;
use lintas_core::vocab::NoticeKind;
use lintas_testkit::devnet::DevNet;
use lintas_testkit::{scenario, world};

/// Median nanoseconds per call of `f`, over 15 batches of `n` calls.
fn median_ns(n: u32, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..15)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(n)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn report(name: &str, ns: f64, floor: f64) {
    println!(
        "{name:<46} {:>10.1} µs   {:>6.2} × verify",
        ns / 1000.0,
        ns / floor
    );
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let now = world::fixed_now();
    let roster = {
        let r = world::roster(1, now.plus_seconds(-3600));
        lintas_core::roster::TrustedRoster::bootstrap(
            world::sign_roster(
                &r,
                &[
                    lintas_core::ids::MemberState::Indonesia,
                    lintas_core::ids::MemberState::Thailand,
                ],
            ),
            now,
        )?
    };
    let bodies = scenario::one_of_each_kind(now);
    let pick = |kind: NoticeKind| -> Result<NoticeBody, &'static str> {
        bodies
            .iter()
            .find(|b| b.kind() == kind)
            .cloned()
            .ok_or("kind missing")
    };

    for (label, body) in [
        (
            "victim status update",
            pick(NoticeKind::VictimStatusUpdate)?,
        ),
        (
            "rescue request (full case)",
            pick(NoticeKind::RescueRequest)?,
        ),
    ] {
        let key = world::agency_key(body.sender.as_str());
        let (_, signed) = SignedNotice::sign(&body, &key)?;
        let message = signed.signed_message();
        let public = ed25519_dalek::VerifyingKey::from_bytes(key.public_key().as_bytes())?;
        let signature = ed25519_dalek::Signature::from_bytes(signed.signature());
        let floor = median_ns(200, || {
            black_box(public.verify_strict(black_box(&message), &signature)).ok();
        });
        println!("\n{label}: {} body bytes", signed.body_bytes().len());
        report("ed25519 verify_strict (the floor)", floor, floor);
        report(
            "sign (validate, encode, id, sign)",
            median_ns(100, || {
                black_box(SignedNotice::sign(black_box(&body), &key)).ok();
            }),
            floor,
        );
        report(
            "verify_notice (roster, signature, rules)",
            median_ns(100, || {
                black_box(roster.verify_notice(black_box(&signed), now)).ok();
            }),
            floor,
        );
        report(
            "exact-bytes check alone (PROTOCOL.md 2.2)",
            median_ns(500, || {
                black_box(lintas_core::signing::check_body_encoding(black_box(
                    signed.body_bytes(),
                )))
                .ok();
            }),
            floor,
        );
        report(
            "decode + validate body only",
            median_ns(200, || {
                black_box(decode_notice_body(black_box(signed.body_bytes()))).ok();
            }),
            floor,
        );
        let wire = signed.encode();
        report(
            "envelope decode from protobuf",
            median_ns(500, || {
                black_box(SignedNotice::decode(black_box(&wire))).ok();
            }),
            floor,
        );
        report(
            "JSON export of the body",
            median_ns(100, || {
                black_box(serde_json::to_vec(black_box(&body))).ok();
            }),
            floor,
        );
    }

    // 64 notices arriving together: one by one, and batch-verified.
    {
        let template = pick(NoticeKind::VictimStatusUpdate)?;
        let key = world::agency_key(template.sender.as_str());
        let notices: Vec<SignedNotice> = (1..=64u64)
            .map(|i| {
                let mut body = template.clone();
                body.sequence = i;
                SignedNotice::sign(&body, &key).map(|(_, s)| s)
            })
            .collect::<Result<_, _>>()?;
        let first = &notices[0];
        let public = ed25519_dalek::VerifyingKey::from_bytes(key.public_key().as_bytes())?;
        let message = first.signed_message();
        let signature = ed25519_dalek::Signature::from_bytes(first.signature());
        let floor = median_ns(200, || {
            black_box(public.verify_strict(black_box(&message), &signature)).ok();
        });
        println!(
            "
64 status updates arriving together (per notice):"
        );
        report("ed25519 verify_strict (the floor)", floor, floor);
        report(
            "verify_notice, one by one",
            median_ns(5, || {
                for n in &notices {
                    black_box(roster.verify_notice(black_box(n), now)).ok();
                }
            }) / 64.0,
            floor,
        );
        report(
            "verify_notices, batch",
            median_ns(5, || {
                black_box(roster.verify_notices(black_box(&notices), now));
            }) / 64.0,
            floor,
        );
    }

    // End to end: N notices from Indonesia to Cambodia, each verified,
    // stored, receipted, the receipt verified and stored.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let net = DevNet::start(&[world::IDN_KEMLU, world::KHM_POLICE], dir.path()).await?;
        let n = 200;
        let mut template = pick(NoticeKind::VictimStatusUpdate)?;
        template.recipients = vec![lintas_core::ids::AgencyId::parse(world::KHM_POLICE)?];
        let start = Instant::now();
        for _ in 0..n {
            let mut body = template.clone();
            body.created_at = Timestamp::now();
            net.node(world::IDN_KEMLU).submit(body).await?;
        }
        let submitted = start.elapsed();
        let deadline = Instant::now() + Duration::from_secs(120);
        while net.node(world::IDN_KEMLU).outbox_len().await? > 0 {
            if Instant::now() > deadline {
                return Err("deliveries did not finish".into());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let total = start.elapsed();
        println!(
            "\nend to end, {n} status updates IDN -> KHM over mutual TLS with receipts:\n  \
             submitted in {:.0} ms, all receipted in {:.0} ms: {:.0} notices/s, {:.2} ms each",
            submitted.as_secs_f64() * 1000.0,
            total.as_secs_f64() * 1000.0,
            f64::from(n) / total.as_secs_f64(),
            total.as_secs_f64() * 1000.0 / f64::from(n),
        );
        net.shutdown().await;
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    })?;
    Ok(())
}
