//! # Lintas core
//!
//! The shared schema, validation, signing and trust roster of Lintas, the
//! protocol through which ASEAN member states' agencies exchange signed
//! notices about trafficking in persons driven by online scams.
//!
//! This crate is pure: no network, no async runtime, no database. Agencies
//! embed it to build, sign, verify and validate notices; the gRPC node
//! builds on it.
//!
//! - [`case`]: the case schema (victims, suspects, scam compounds,
//!   recruitment, money trail, timeline), mapped to IOM HTCDS v2.0, and who
//!   a person is ([`case::PersonIdentity`]), kept apart from the
//!   pseudonymous victim record.
//! - [`notice`]: the typed notice kinds (from rescue requests to
//!   nationality verification, sightings, freeze requests and case
//!   closures) and their handling rules.
//! - [`text`]: descriptive text with its language and translations, and the
//!   character rules for names.
//! - [`signing`]: the signing rules, in one file; the exact-bytes rules
//!   checked before any body is decoded.
//! - [`roster`]: the threshold-signed trust roster and notice verification.
//! - [`receipt`]: signed receipts for each stage of handling a notice.
//! - [`pb`]: the generated wire types; convert them with `TryFrom`.
//!
//! ```
//! use lintas_core::ids::{AgencyId, CaseId, KeyId, RecordId, Country};
//! use lintas_core::case::{Case, Victim};
//! use lintas_core::notice::{Handling, NoticeBody, NoticeContent, RescueRequest};
//! use lintas_core::signing::{SignedNotice, decode_notice_body};
//! use lintas_core::keys::SigningKey;
//! use lintas_core::time::Timestamp;
//! use lintas_core::vocab::{LegalBasis, Priority, Purpose, RescueAction, StateRole, Tlp};
//! use zeroize::Zeroizing;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let now = Timestamp::parse("2026-11-29T04:00:00Z")?;
//! let sender = AgencyId::parse("IDN.KEMLU.PWNI")?;
//! let mut case = Case::open(CaseId::parse("IDN-2026-0001")?, sender.clone(), now, StateRole::Origin);
//! case.victims.push(Victim::identified(RecordId::parse("V1")?, Country::parse("IDN")?));
//! let request = RescueRequest::new(case, vec![RecordId::parse("V1")?], vec![RescueAction::Rescue]);
//! let body = NoticeBody::new(
//!     sender,
//!     1,
//!     now,
//!     now.plus_seconds(86_400),
//!     vec![AgencyId::parse("KHM.MOI.ATHP")?],
//!     Handling::new(Tlp::AmberStrict, Priority::Urgent)
//!         .with_deadline(now.plus_seconds(3_600))
//!         // A victim record is personal data: say why it is shared.
//!         .for_purpose(Purpose::Rescue, LegalBasis::VitalInterest),
//!     NoticeContent::RescueRequest(request),
//! )
//! .about_case(CaseId::parse("IDN-2026-0001")?);
//! let key = SigningKey::from_seed(KeyId::parse("IDN.KEMLU.PWNI#1")?, &Zeroizing::new([1; 32]))?;
//! let (id, signed) = SignedNotice::sign(&body, &key)?;
//! assert_eq!(decode_notice_body(signed.body_bytes())?.0, id);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod case;
pub mod custody;
pub mod disclosure;
pub mod error;
pub mod evidence;
pub mod ids;
pub mod keys;
pub mod matching;
pub mod notice;
pub mod offline;
pub mod pb;
pub mod place;
pub mod receipt;
pub mod retention;
pub mod roster;
pub mod signing;
pub mod time;
pub mod transparency;
pub mod vocab;

mod encoding;
pub mod text;
mod wire;

pub use error::{Problem, ValidationError};
pub use zeroize::Zeroizing;
