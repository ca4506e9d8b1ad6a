//! # Lintas exports
//!
//! Standard exports of what a Lintas node holds, for the systems around
//! it (docs/EXPORTS.md):
//!
//! - [`stix`]: STIX 2.1 bundles for threat-intelligence platforms: scam
//!   compounds (infrastructure at a location), suspects (threat actors),
//!   recruitment channels (identities), and the handles, advert links and
//!   financial accounts they use (indicators), marked TLP 2.0, with ids
//!   derived from content so that an export is repeatable. Nothing about a
//!   victim is ever exported.
//! - [`statistics`]: aggregated figures for regional reporting with HTCDS
//!   v2.0 field names (cases by status and route; victims by citizenship,
//!   gender, age band, type of exploitation and route), with cells under a
//!   threshold suppressed, as JSON or CSV.
//!
//! Both start from [`Holdings`]: the notices a node holds (read through
//! `AgencyApi.ListNotices`), reduced to the latest record of each case and
//! the alerts, without withdrawn notices.
//!
//! ```
//! use lintas_core::ids::{AgencyId, NoticeId};
//! use lintas_export::Holdings;
//! use lintas_export::statistics::{StatisticsOptions, statistics};
//! use lintas_export::stix::{StixOptions, bundle};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The Indonesian foreign ministry's node holds its rescue request.
//! let now = lintas_testkit::world::fixed_now();
//! let me = AgencyId::parse("IDN.KEMLU.PWNI")?;
//! let mut holdings = Holdings::new(me.clone());
//! holdings.add(NoticeId::from_bytes([7; 32]), &lintas_testkit::scenario::rescue_request(now));
//! let (cases, alerts) = holdings.finish();
//!
//! // STIX: the compound, the recruiter, the advert, their handles.
//! let stix = bundle(&me, &cases, &alerts, StixOptions::default());
//! let objects = stix["objects"].as_array().map(Vec::len).unwrap_or(0);
//! assert!(objects > 5);
//! assert!(stix.to_string().contains("infrastructure--"));
//!
//! // Statistics: two victims is below the default threshold of 5.
//! let figures = statistics(&cases, &StatisticsOptions::default())?;
//! let csv = figures.to_csv()?;
//! assert!(csv.contains("victims_by_citizenship,victims,prs_Citizenship,(total),suppressed"));
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod holdings;
pub mod statistics;
pub mod stix;

pub use holdings::{HeldAlert, HeldCase, Holdings, Source};

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// An option out of its range.
    #[error("{option}: expected {expected}, found {found}")]
    Option {
        /// The option.
        option: &'static str,
        /// What it takes.
        expected: &'static str,
        /// What was given.
        found: String,
    },
    /// Writing CSV failed.
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
}
