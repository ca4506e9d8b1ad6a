//! Identifier matching without disclosure (docs/PROTOCOL.md section 14.9).
//!
//! An agency asks its peers "is this phone number (handle, wallet, bank
//! account, e-wallet, identity document) linked to a case you hold?"
//! without telling them the identifier. Each responder holds a matching
//! key (an RFC 9497 oblivious PRF key); the asker blinds the identifier's
//! normal form, the responder evaluates it blind and lists the tags of
//! every identifier of that kind it holds, and the asker unblinds the
//! answer and looks its tag up. The responder learns only that a query of
//! that kind came; the asker learns hit or no hit, and can test a
//! candidate identifier only by asking again (which the responder
//! rate-limits).
//!
//! ```
//! use lintas_core::matching::{BlindedIdentifier, Identifier, MatchKey, encode_tags, tags_contain};
//! use lintas_core::vocab::IdentifierKind;
//!
//! // The responder holds a recruiter's Telegram handle.
//! let responder = MatchKey::from_seed(&[42; 32]);
//! let held = Identifier::parse(IdentifierKind::Handle, "telegram", "@HR_Recruiter").unwrap();
//! let tags = encode_tags([responder.tag(&held)]);
//!
//! // The asker has it written another way; it sends only the blinded element.
//! let asked = Identifier::parse(IdentifierKind::Handle, "Telegram", "hr_recruiter").unwrap();
//! let query = BlindedIdentifier::new(&asked);
//! let evaluated = responder.evaluate(&query.element()).unwrap();
//! let tag = query.finish(&evaluated).unwrap();
//! assert!(tags_contain(&tags, &tag).unwrap());
//! ```

mod extract;
mod identifier;
mod oprf;

pub use extract::identifiers_in;
pub use identifier::{Identifier, MAX_NORMAL_FORM_BYTES, kind_token};
pub use oprf::{
    BlindedIdentifier, ELEMENT_BYTES, KEY_INFO, KEY_SEED_DOMAIN, MatchKey, MatchTag, TAG_BYTES,
    encode_tags, tags_contain,
};
