//! The TLP 2.0 marking definitions, as OASIS publishes them for STIX 2.1
//! (the TLP 2.0 extension of the cti-stix-common-objects repository): fixed
//! ids and contents that every consumer recognises, never generated.

use lintas_core::vocab::Tlp;
use serde_json::{Value, json};

/// The TLP 2.0 extension definition.
pub const TLP_2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The id of the published marking definition of `tlp`.
pub fn marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The `tlp_2_0` value and the name of `tlp`'s marking.
fn level(tlp: Tlp) -> (&'static str, &'static str) {
    match tlp {
        Tlp::Clear => ("clear", "TLP:CLEAR"),
        Tlp::Green => ("green", "TLP:GREEN"),
        Tlp::Amber => ("amber", "TLP:AMBER"),
        Tlp::AmberStrict => ("amber+strict", "TLP:AMBER+STRICT"),
        Tlp::Red => ("red", "TLP:RED"),
    }
}

/// The published marking-definition object of `tlp`, carried in every
/// bundle that uses it (STIX 2.1 predefines only TLP 1.0).
pub fn marking_definition(tlp: Tlp) -> Value {
    let (value, name) = level(tlp);
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id(tlp),
        "created": "2022-10-01T00:00:00.000Z",
        "name": name,
        "extensions": {
            TLP_2_EXTENSION: {
                "extension_type": "property-extension",
                "tlp_2_0": value,
            }
        }
    })
}
