//! The identifiers a notice holds: every phone number of a person or a
//! contact, every handle, wallet, bank or e-wallet account and identity
//! document anywhere in its body, including the protected parts this
//! holder was given (docs/PROTOCOL.md section 14.9.4). Parts withheld from
//! the holder hold nothing it can match.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::case::{IdentityDocument, Instrument};
use crate::ids::PhoneNumber;
use crate::notice::NoticeBody;
use crate::place::Handle;

use super::identifier::Identifier;

/// Every identifier in `body`, in normal form, each once. Values that
/// cannot be put in normal form are left out (they cannot be matched).
pub fn identifiers_in(body: &NoticeBody) -> BTreeSet<Identifier> {
    let mut out = BTreeSet::new();
    // The JSON form names every record by its fields, so one walk finds
    // them wherever the schema puts them (and wherever it will).
    if let Ok(value) = serde_json::to_value(&body.content) {
        walk(&value, &mut out);
    }
    out
}

fn walk(value: &Value, out: &mut BTreeSet<Identifier>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
        Value::Object(fields) => {
            record(value, out);
            for (name, field) in fields {
                if name == "phone_numbers" {
                    phones(field, out);
                } else {
                    walk(field, out);
                }
            }
        }
        _ => {}
    }
}

fn phones(value: &Value, out: &mut BTreeSet<Identifier>) {
    if let Value::Array(items) = value {
        let found = items
            .iter()
            .filter_map(|v| serde_json::from_value::<PhoneNumber>(v.clone()).ok())
            .filter_map(|n| Identifier::phone_number(&n));
        out.extend(found);
    }
}

/// The identifier a record is, if it is a handle, an account or a
/// document.
fn record(value: &Value, out: &mut BTreeSet<Identifier>) {
    let has = |k: &str| value.get(k).is_some();
    if has("platform") && has("handle") {
        if let Ok(h) = serde_json::from_value::<Handle>(value.clone()) {
            out.extend(Identifier::handle(
                h.platform,
                h.platform_name.as_deref(),
                &h.handle,
            ));
        }
    } else if has("document_type") && has("number") {
        if let Ok(d) = serde_json::from_value::<IdentityDocument>(value.clone()) {
            out.extend(Identifier::identity_document(d.issuing_state, &d.number));
        }
    } else if has("type") {
        match serde_json::from_value::<Instrument>(value.clone()) {
            Ok(Instrument::BankAccount {
                country,
                account_number,
                ..
            }) => out.extend(Identifier::bank_account(country, &account_number)),
            Ok(Instrument::EWallet {
                provider, account, ..
            }) => out.extend(Identifier::e_wallet(&provider, &account)),
            Ok(Instrument::CryptoWallet { address, .. }) => {
                out.extend(Identifier::crypto_wallet(&address));
            }
            _ => {}
        }
    }
}
