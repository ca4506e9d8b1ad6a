//! Scam compounds.

use serde::{Deserialize, Serialize};

use super::people::optional_record;
use crate::error::{At, ValidationError};
use crate::ids::RecordId;
use crate::pb;
use crate::place::{GeoPolygon, Location};
use crate::text::{self, SHORT};
use crate::vocab::CompoundStatus;
use crate::wire;

/// A guarded site where victims are forced to run online fraud.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScamCompound {
    /// Id unique within the case.
    pub compound_id: RecordId,
    /// Name or local designation.
    pub name: String,
    /// Operating company or group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// Where it is; the country is the host country.
    pub location: Location,
    /// Outline of the site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<GeoPolygon>,
    /// Operating state.
    pub status: CompoundStatus,
    /// The new site, when relocated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relocated_to: Option<RecordId>,
}

impl ScamCompound {
    /// An active compound at a location.
    pub fn active(compound_id: RecordId, name: impl Into<String>, location: Location) -> Self {
        ScamCompound {
            compound_id,
            name: name.into(),
            operator: None,
            location,
            area: None,
            status: CompoundStatus::Active,
            relocated_to: None,
        }
    }

    /// Checks the rules that relate fields to each other.
    ///
    /// # Errors
    /// `relocated_to` set while the status is not relocated, or pointing at
    /// the compound itself.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let Some(to) = &self.relocated_to {
            if self.status != CompoundStatus::Relocated {
                return Err(ValidationError::rule(
                    "relocated_to",
                    "only allowed when status is COMPOUND_STATUS_RELOCATED",
                ));
            }
            if to == &self.compound_id {
                return Err(ValidationError::rule(
                    "relocated_to",
                    "a compound cannot relocate to itself",
                ));
            }
        }
        Ok(())
    }
}

impl TryFrom<pb::ScamCompound> for ScamCompound {
    type Error = ValidationError;
    fn try_from(c: pb::ScamCompound) -> Result<Self, Self::Error> {
        let compound = ScamCompound {
            compound_id: RecordId::from_wire(&c.compound_id).at("compound_id")?,
            name: text::required(c.name, SHORT).at("name")?,
            operator: text::optional(c.operator, SHORT).at("operator")?,
            location: wire::required(c.location, "location")?,
            area: wire::optional(c.area, "area")?,
            status: CompoundStatus::from_wire(c.status).at("status")?,
            relocated_to: optional_record(&c.relocated_to).at("relocated_to")?,
        };
        compound.validate()?;
        Ok(compound)
    }
}

impl From<ScamCompound> for pb::ScamCompound {
    fn from(c: ScamCompound) -> Self {
        pb::ScamCompound {
            compound_id: c.compound_id.to_string(),
            name: c.name,
            operator: text::or_empty(c.operator),
            location: Some(c.location.into()),
            area: c.area.map(Into::into),
            status: c.status.to_wire(),
            relocated_to: c.relocated_to.map(|r| r.to_string()).unwrap_or_default(),
        }
    }
}
