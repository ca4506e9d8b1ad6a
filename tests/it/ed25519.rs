//! Ed25519 edge cases that separate implementations: which of them the
//! Lintas rule (docs/PROTOCOL.md section 5.4, step 5) accepts. The vectors
//! are built here from first principles with curve25519-dalek, published in
//! `tests/vectors/lintas-v1.json` under `ed25519`, and checked two ways:
//! the cofactorless and cofactored equations recomputed independently, and
//! lintas-core's own verifier.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT as B;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

/// k = SHA-512(R || A || M) reduced mod L.
fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    let mut hash = Sha512::new();
    hash.update(r);
    hash.update(a);
    hash.update(message);
    Scalar::from_bytes_mod_order_wide(&hash.finalize().into())
}

/// A scalar derived from a label (deterministic vectors).
fn scalar(label: &str) -> Scalar {
    let mut hash = Sha512::new();
    hash.update(b"lintas ed25519 vectors:");
    hash.update(label.as_bytes());
    Scalar::from_bytes_mod_order_wide(&hash.finalize().into())
}

/// A point of order 8: [L]P for a point P whose torsion component has
/// order 8 ([L] permutes the torsion subgroup and kills the rest).
fn order_eight() -> EdwardsPoint {
    let l_minus_one = Scalar::ZERO - Scalar::ONE;
    for y in 2u8..=255 {
        let mut bytes = [0u8; 32];
        bytes[0] = y;
        let Some(p) = CompressedEdwardsY(bytes).decompress() else {
            continue;
        };
        let t = p * l_minus_one + p;
        if !(t + t + t + t).is_identity() {
            return t;
        }
    }
    unreachable!("some small y gives a point with an order-8 component")
}

fn s_plus_l(s: [u8; 32]) -> [u8; 32] {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(s[i]) + u16::from(L[i]) + carry;
        out[i] = sum as u8;
        carry = sum >> 8;
    }
    out
}

struct Case {
    name: &'static str,
    a: [u8; 32],
    message: Vec<u8>,
    r: [u8; 32],
    s: [u8; 32],
    lintas_accepts: bool,
    why: &'static str,
}

/// Signs `message` with secret scalar `a` under public key bytes `a_bytes`
/// (which may not be [a]B) and nonce point `r_point` = [r]B + extra.
fn sign(
    a: Scalar,
    a_bytes: [u8; 32],
    r: Scalar,
    r_point: EdwardsPoint,
    message: &[u8],
) -> ([u8; 32], [u8; 32]) {
    let r_bytes = r_point.compress().to_bytes();
    let k = challenge(&r_bytes, &a_bytes, message);
    (r_bytes, (r + k * a).to_bytes())
}

fn cases() -> Vec<Case> {
    let a = scalar("key");
    let a_point = B * a;
    let a_bytes = a_point.compress().to_bytes();
    let r = scalar("nonce");
    let t = order_eight();
    let mut out = Vec::new();

    let message = b"lintas: valid".to_vec();
    let (rb, sb) = sign(a, a_bytes, r, B * r, &message);
    out.push(Case {
        name: "valid",
        a: a_bytes,
        message: message.clone(),
        r: rb,
        s: sb,
        lintas_accepts: true,
        why: "an RFC 8032 signature",
    });
    out.push(Case {
        name: "s_not_canonical",
        a: a_bytes,
        message,
        r: rb,
        s: s_plus_l(sb),
        lintas_accepts: false,
        why: "S + L: both equations hold, but S must be below the group order L",
    });

    let message = b"lintas: small-order public key".to_vec();
    let identity = EdwardsPoint::default().compress().to_bytes();
    let (rb, _) = sign(a, identity, r, B * r, &message);
    out.push(Case {
        name: "small_order_public_key",
        a: identity,
        message,
        r: rb,
        s: r.to_bytes(),
        lintas_accepts: false,
        why: "A is the identity (small order): any message verifies, so a roster refuses the key",
    });

    let message = b"lintas: small-order R".to_vec();
    let k = challenge(&identity, &a_bytes, &message);
    out.push(Case {
        name: "small_order_r",
        a: a_bytes,
        message,
        r: identity,
        s: (k * a).to_bytes(),
        lintas_accepts: false,
        why: "R is the identity (small order): the equation holds but R of small order is refused",
    });

    let mixed_a = a_point + t;
    let mixed_bytes = mixed_a.compress().to_bytes();
    let mut found = (None, None);
    for i in 0u32..512 {
        let message = format!("lintas: mixed-order public key {i}").into_bytes();
        let (rb, sb) = sign(a, mixed_bytes, r, B * r, &message);
        let k = challenge(&rb, &mixed_bytes, &message);
        let divisible = k.to_bytes()[0].is_multiple_of(8);
        match (&found, divisible) {
            ((None, _), false) => found.0 = Some((message, rb, sb)),
            ((_, None), true) => found.1 = Some((message, rb, sb)),
            _ => {}
        }
        if found.0.is_some() && found.1.is_some() {
            break;
        }
    }
    if let (Some((m0, r0, s0)), Some((m1, r1, s1))) = found {
        out.push(Case {
            name: "mixed_order_public_key_cofactored_only",
            a: mixed_bytes,
            message: m0,
            r: r0,
            s: s0,
            lintas_accepts: false,
            why: "A = [a]B + T (T of order 8), k not a multiple of 8: only the cofactored equation holds; a roster refuses the key anyway",
        });
        out.push(Case {
            name: "mixed_order_public_key_both_equations",
            a: mixed_bytes,
            message: m1,
            r: r1,
            s: s1,
            lintas_accepts: false,
            why: "A = [a]B + T, k a multiple of 8: both equations hold, but a roster refuses keys outside the prime-order subgroup",
        });
    }

    let message = b"lintas: mixed-order R".to_vec();
    let (rb, sb) = sign(a, a_bytes, r, B * r + t, &message);
    out.push(Case {
        name: "mixed_order_r",
        a: a_bytes,
        message,
        r: rb,
        s: sb,
        lintas_accepts: false,
        why: "R = [r]B + T: only the cofactored equation holds; Lintas uses the cofactorless one",
    });
    out
}

/// The cofactorless and cofactored equations, evaluated independently.
fn equations(a: &[u8; 32], message: &[u8], r: &[u8; 32], s: &[u8; 32]) -> (bool, bool) {
    let (Some(a_point), Some(r_point)) = (
        CompressedEdwardsY(*a).decompress(),
        CompressedEdwardsY(*r).decompress(),
    ) else {
        return (false, false);
    };
    let s = Scalar::from_bytes_mod_order(*s);
    let k = challenge(r, a, message);
    let lhs = B * s - a_point * k;
    let cofactorless = lhs.compress().to_bytes() == *r;
    let cofactored = (lhs - r_point).mul_by_cofactor().is_identity();
    (cofactorless, cofactored)
}

/// The `ed25519` section of the vector file.
pub(crate) fn vectors() -> Vec<Value> {
    cases()
        .into_iter()
        .map(|c| {
            let (cofactorless, cofactored) = equations(&c.a, &c.message, &c.r, &c.s);
            let mut signature = c.r.to_vec();
            signature.extend_from_slice(&c.s);
            json!({
                "name": c.name,
                "public_key_hex": hex::encode(c.a),
                "message_hex": hex::encode(&c.message),
                "signature_hex": hex::encode(signature),
                "cofactorless_equation_holds": cofactorless,
                "cofactored_equation_holds": cofactored,
                "lintas": if c.lintas_accepts { "accept" } else { "reject" },
                "why": c.why,
            })
        })
        .collect()
}

#[test]
fn the_edge_cases_cover_what_separates_verifiers() {
    let all = vectors();
    let names: Vec<&str> = all.iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(names.len(), 7, "{names:?}");
    // Each case is what its name says.
    let flags = |name: &str| {
        let v = all.iter().find(|v| v["name"] == name).unwrap();
        (
            v["cofactorless_equation_holds"].as_bool().unwrap(),
            v["cofactored_equation_holds"].as_bool().unwrap(),
        )
    };
    assert_eq!(flags("valid"), (true, true));
    assert_eq!(flags("s_not_canonical"), (true, true));
    assert_eq!(flags("small_order_public_key"), (true, true));
    assert_eq!(flags("small_order_r"), (true, true));
    assert_eq!(
        flags("mixed_order_public_key_cofactored_only"),
        (false, true)
    );
    assert_eq!(flags("mixed_order_public_key_both_equations"), (true, true));
    assert_eq!(flags("mixed_order_r"), (false, true));
}

#[test]
fn lintas_core_applies_the_documented_rule_to_each_edge_case() {
    for v in crate::vectors::load()["ed25519"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let key = hex::decode(v["public_key_hex"].as_str().unwrap()).unwrap();
        let message = hex::decode(v["message_hex"].as_str().unwrap()).unwrap();
        let signature = hex::decode(v["signature_hex"].as_str().unwrap()).unwrap();
        let accepted = lintas_core::keys::PublicKey::from_bytes(&key)
            .is_ok_and(|k| k.verify_strict(&message, &signature));
        assert_eq!(
            if accepted { "accept" } else { "reject" },
            v["lintas"].as_str().unwrap(),
            "{name}"
        );
        // The published equation flags are what the bytes say.
        let key: [u8; 32] = key.try_into().unwrap();
        let r: [u8; 32] = signature[..32].try_into().unwrap();
        let s: [u8; 32] = signature[32..].try_into().unwrap();
        assert_eq!(
            equations(&key, &message, &r, &s),
            (
                v["cofactorless_equation_holds"].as_bool().unwrap(),
                v["cofactored_equation_holds"].as_bool().unwrap()
            ),
            "{name}"
        );
    }
}
