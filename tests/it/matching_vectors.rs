//! The published matching vectors, `tests/vectors/lintas-v1-matching.json`
//! (docs/PROTOCOL.md section 14.9.6): (1) each tag recomputed from the
//! document alone, with the `voprf` crate's RFC 9497 functions and the
//! input built by the document's formula (not lintas-core's); (2)
//! lintas-core gives the same normal forms and tags, and refuses the
//! refused cases at the named field; (3) the file is what the fixtures
//! produce today (`LINTAS_BLESS=1` rewrites it).

use std::path::PathBuf;

use lintas_core::matching::{Identifier, MatchKey, kind_token};
use lintas_core::vocab::IdentifierKind;
use serde_json::{Value, json};
use voprf::{OprfServer, Ristretto255};

use crate::vectors::check_current;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/lintas-v1-matching.json")
}

/// The RFC 9497 test seed (appendix A), with Lintas's key info.
const SEED: [u8; 32] = [0xa3; 32];
const INFO: &str = "lintas.v1.match-key";

const MATCHED: [(&str, &str, &str); 11] = [
    ("phone", "", "+62 812-3456-7890"),
    ("phone", "", "0062 812 3456 7890"),
    ("handle", "Telegram", "@HR_Recruiter"),
    ("handle", "telegram", "https://t.me/HR_Recruiter/"),
    ("handle", "other/O LX", "Seller1"),
    ("wallet", "", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
    ("wallet", "", "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"),
    ("wallet", "", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"),
    ("bank", "khm", "0012-345 678"),
    ("ewallet", "GCash", "+63 917 123 4567"),
    ("document", "IDN", "x 1234567"),
];

const REFUSED: [(&str, &str, &str); 5] = [
    ("phone", "", "0812 3456 7890"),
    ("phone", "IDN", "+6281234567890"),
    ("handle", "myspace", "@x"),
    ("wallet", "", "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
    ("document", "XXX", "X1234567"),
];

fn kind(token: &str) -> IdentifierKind {
    *IdentifierKind::ALL
        .iter()
        .find(|k| kind_token(**k) == token)
        .unwrap()
}

fn generate() -> Value {
    let key = MatchKey::from_seed(&SEED);
    let server = OprfServer::<Ristretto255>::new_from_seed(&SEED, INFO.as_bytes()).unwrap();
    let matched: Vec<Value> = MATCHED
        .iter()
        .map(|(k, scope, value)| {
            let id = Identifier::parse(kind(k), scope, value).unwrap();
            json!({
                "kind": k,
                "scope": scope,
                "value": value,
                "normal_form": id.normal_form(),
                "input": String::from_utf8(id.matching_input()).unwrap(),
                "tag_hex": hex::encode(key.tag(&id)),
            })
        })
        .collect();
    let refused: Vec<Value> = REFUSED
        .iter()
        .map(|(k, scope, value)| {
            let e = Identifier::parse(kind(k), scope, value).unwrap_err();
            json!({ "kind": k, "scope": scope, "value": value, "field": e.path })
        })
        .collect();
    json!({
        "about": "Lintas protocol v1 identifier-matching vectors (docs/PROTOCOL.md section 14.9). OPRF: RFC 9497 mode OPRF (0x00), suite ristretto255-SHA512; key from DeriveKeyPair(seed, info); tag = first 16 bytes of Evaluate(key, input); input = kind token, ':', normal form, in UTF-8.",
        "seed_hex": hex::encode(SEED),
        "info": INFO,
        "private_key_hex": hex::encode(server.serialize()),
        "matched": matched,
        "refused": refused,
    })
}

#[test]
fn the_matching_vectors_follow_the_document() {
    let fresh = generate();
    check_current(&path(), &fresh);
    let published: Value = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();

    // (1) From the document: input = token ":" normal form; tag = the
    // first 16 bytes of the RFC 9497 evaluation under the derived key.
    let server = OprfServer::<Ristretto255>::new_from_seed(
        &hex::decode(published["seed_hex"].as_str().unwrap()).unwrap(),
        published["info"].as_str().unwrap().as_bytes(),
    )
    .unwrap();
    assert_eq!(
        hex::encode(server.serialize()),
        published["private_key_hex"].as_str().unwrap()
    );
    for case in published["matched"].as_array().unwrap() {
        let input = format!(
            "{}:{}",
            case["kind"].as_str().unwrap(),
            case["normal_form"].as_str().unwrap()
        );
        assert_eq!(input, case["input"].as_str().unwrap());
        let output = server.evaluate(input.as_bytes()).unwrap();
        assert_eq!(
            hex::encode(&output[..16]),
            case["tag_hex"].as_str().unwrap()
        );
    }
    // Identifiers written two ways meet.
    let tags: Vec<&str> = published["matched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tag_hex"].as_str().unwrap())
        .collect();
    assert_eq!(tags[0], tags[1], "two writings of one phone number");
    assert_eq!(tags[2], tags[3], "a handle and its URL");
    assert_eq!(
        published["refused"].as_array().unwrap().len(),
        REFUSED.len()
    );
}
