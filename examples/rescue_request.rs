//! An urgent rescue request, end to end, without a network.
//!
//! Indonesia's foreign ministry (origin state) asks the Cambodian police
//! (destination) and the Royal Thai Police (transit) to rescue two
//! Indonesians held in a scam compound in Sihanoukville. The example builds
//! the case, signs the request, verifies it the way the Cambodian node
//! would against a roster signed by two of three member-state stewards,
//! prints it as JSON, and shows a tampered copy being refused.
//!
//! Run: `cargo run --example rescue_request`

use lintas_core::ids::MemberState;
use lintas_core::roster::TrustedRoster;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_testkit::{scenario, world};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = Timestamp::now();

    // The roster: agencies of Indonesia, Thailand and Cambodia, signed by
    // the Indonesian and Cambodian stewards (threshold 2 of 3). Each node
    // starts from a copy obtained through a trusted channel.
    let roster = world::roster(1, now.plus_seconds(-3_600));
    let signed_roster =
        world::sign_roster(&roster, &[MemberState::Indonesia, MemberState::Cambodia]);
    let trusted = TrustedRoster::bootstrap(signed_roster, now)?;
    println!(
        "Roster version {} trusted: {} agencies, {} of {} steward signatures required.",
        trusted.roster().version,
        trusted.roster().agencies.len(),
        trusted.roster().threshold,
        trusted.roster().stewards.len(),
    );

    // Indonesia's foreign ministry builds and signs the rescue request.
    let request = scenario::rescue_request(now);
    let key = world::agency_key(world::IDN_KEMLU);
    let (id, signed) = SignedNotice::sign(&request, &key)?;
    println!(
        "\nSigned {} notice {id}\n  by {} with key {}, {} body bytes, to {}.",
        request.kind().wire_name(),
        signed.signer(),
        signed.key_id(),
        signed.body_bytes().len(),
        request
            .recipients
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    );

    // What travels is the protobuf envelope; the Cambodian node decodes and
    // verifies it.
    let on_the_wire = signed.encode();
    let received = SignedNotice::decode(&on_the_wire)?;
    let verified = trusted.verify_notice(&received, now)?;
    println!(
        "\nCambodia verified notice {} against roster version {}:",
        verified.id, verified.roster_version
    );
    println!("{}", serde_json::to_string_pretty(&verified)?);

    // Someone changes the victims' compound on the way: one byte of the
    // signed body. The signature no longer covers the bytes.
    let mut tampered = on_the_wire.clone();
    let needle = b"Sihanoukville";
    let at = tampered
        .windows(needle.len())
        .position(|w| w == needle)
        .ok_or("the encoded notice should mention Sihanoukville")?;
    tampered[at] = b'X';
    let tampered = SignedNotice::decode(&tampered)?;
    match trusted.verify_notice(&tampered, now) {
        Ok(_) => return Err("a tampered notice verified".into()),
        Err(e) => println!("\nTampered copy refused: {e}"),
    }

    // A notice signed with the right key but kept past its expiry.
    let late = now.plus_seconds(31 * 86_400);
    match trusted.verify_notice(&received, late) {
        Ok(_) => return Err("an expired notice verified".into()),
        Err(e) => println!("Same notice a month later refused: {e}"),
    }
    Ok(())
}
