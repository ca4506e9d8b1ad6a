//! Places, contacts, money and online handles.

use serde::{Deserialize, Serialize};

use crate::error::{At, ValidationError};
use crate::ids::{Country, Currency, PhoneNumber};
use crate::pb;
use crate::text::{self, SHORT};
use crate::vocab::Platform;

/// A point on the WGS 84 ellipsoid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Degrees, -90 to 90.
    pub latitude: f64,
    /// Degrees, -180 to 180.
    pub longitude: f64,
}

impl GeoPoint {
    /// A checked point.
    ///
    /// # Errors
    /// When a coordinate is out of range or not a number.
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, ValidationError> {
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(ValidationError::invalid(
                "latitude",
                "degrees from -90 to 90",
                latitude.to_string(),
            ));
        }
        if !(-180.0..=180.0).contains(&longitude) {
            return Err(ValidationError::invalid(
                "longitude",
                "degrees from -180 to 180",
                longitude.to_string(),
            ));
        }
        Ok(GeoPoint {
            latitude,
            longitude,
        })
    }
}

impl TryFrom<pb::GeoPoint> for GeoPoint {
    type Error = ValidationError;
    fn try_from(value: pb::GeoPoint) -> Result<Self, Self::Error> {
        GeoPoint::new(value.latitude, value.longitude)
    }
}

impl From<GeoPoint> for pb::GeoPoint {
    fn from(value: GeoPoint) -> Self {
        pb::GeoPoint {
            latitude: value.latitude,
            longitude: value.longitude,
        }
    }
}

/// A closed area of at least three distinct vertices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoPolygon {
    vertices: Vec<GeoPoint>,
}

impl GeoPolygon {
    /// Most vertices accepted in one outline.
    pub const MAX_VERTICES: usize = 1000;

    /// A checked polygon.
    ///
    /// # Errors
    /// Fewer than three distinct vertices, or more than [`Self::MAX_VERTICES`].
    pub fn new(vertices: Vec<GeoPoint>) -> Result<Self, ValidationError> {
        if vertices.len() > Self::MAX_VERTICES {
            return Err(ValidationError::invalid(
                "vertices",
                "at most 1000 vertices",
                vertices.len().to_string(),
            ));
        }
        let mut distinct: Vec<(u64, u64)> = vertices
            .iter()
            .map(|p| (p.latitude.to_bits(), p.longitude.to_bits()))
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 3 {
            return Err(ValidationError::rule(
                "vertices",
                "a polygon needs at least three distinct vertices",
            ));
        }
        Ok(GeoPolygon { vertices })
    }

    /// The vertices; the last joins the first.
    pub fn vertices(&self) -> &[GeoPoint] {
        &self.vertices
    }
}

impl TryFrom<pb::GeoPolygon> for GeoPolygon {
    type Error = ValidationError;
    fn try_from(value: pb::GeoPolygon) -> Result<Self, Self::Error> {
        let vertices = value
            .vertices
            .into_iter()
            .enumerate()
            .map(|(i, p)| GeoPoint::try_from(p).at_item("vertices", i))
            .collect::<Result<Vec<_>, _>>()?;
        GeoPolygon::new(vertices)
    }
}

impl From<GeoPolygon> for pb::GeoPolygon {
    fn from(value: GeoPolygon) -> Self {
        pb::GeoPolygon {
            vertices: value.vertices.into_iter().map(Into::into).collect(),
        }
    }
}

/// A place; at least the country is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// Country.
    pub country: Country,
    /// Province, state or other first-level area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_area: Option<String>,
    /// District, city or town.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// Street address or directions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Coordinates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<GeoPoint>,
}

impl Location {
    /// A place known only by its country; fill in the rest as known.
    pub fn in_country(country: Country) -> Self {
        Location {
            country,
            admin_area: None,
            locality: None,
            address: None,
            point: None,
        }
    }
}

impl TryFrom<pb::Location> for Location {
    type Error = ValidationError;
    fn try_from(value: pb::Location) -> Result<Self, Self::Error> {
        Ok(Location {
            country: Country::from_wire(&value.country).at("country")?,
            admin_area: text::optional(value.admin_area, SHORT).at("admin_area")?,
            locality: text::optional(value.locality, SHORT).at("locality")?,
            address: text::optional(value.address, text::LONG).at("address")?,
            point: value
                .point
                .map(GeoPoint::try_from)
                .transpose()
                .at("point")?,
        })
    }
}

impl From<Location> for pb::Location {
    fn from(value: Location) -> Self {
        pb::Location {
            country: value.country.as_str().to_owned(),
            admin_area: text::or_empty(value.admin_area),
            locality: text::or_empty(value.locality),
            address: text::or_empty(value.address),
            point: value.point.map(Into::into),
        }
    }
}

/// A contact point that answers at any hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactPoint {
    /// Desk or role.
    pub name: String,
    /// Phone.
    pub phone: PhoneNumber,
    /// E-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Staffed 24 hours a day, 7 days a week.
    pub around_the_clock: bool,
}

impl ContactPoint {
    /// A contact point.
    pub fn new(name: impl Into<String>, phone: PhoneNumber, around_the_clock: bool) -> Self {
        ContactPoint {
            name: name.into(),
            phone,
            email: None,
            around_the_clock,
        }
    }
}

impl TryFrom<pb::ContactPoint> for ContactPoint {
    type Error = ValidationError;
    fn try_from(value: pb::ContactPoint) -> Result<Self, Self::Error> {
        let email = text::optional(value.email, SHORT).at("email")?;
        if let Some(email) = &email {
            let ok = email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
            });
            if !ok {
                return Err(ValidationError::invalid(
                    "email",
                    "an e-mail address",
                    email,
                ));
            }
        }
        Ok(ContactPoint {
            name: text::required(value.name, SHORT).at("name")?,
            phone: PhoneNumber::from_wire(&value.phone).at("phone")?,
            email,
            around_the_clock: value.around_the_clock,
        })
    }
}

impl From<ContactPoint> for pb::ContactPoint {
    fn from(value: ContactPoint) -> Self {
        pb::ContactPoint {
            name: value.name,
            phone: value.phone.as_str().to_owned(),
            email: text::or_empty(value.email),
            around_the_clock: value.around_the_clock,
        }
    }
}

/// An amount of money or crypto-asset: `amount_minor` × 10^-`decimals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// ISO 4217 currency or crypto-asset ticker.
    pub currency: Currency,
    /// Amount in units of 10^-`decimals`.
    pub amount_minor: i64,
    /// Decimal places carried by `amount_minor`, 0 to 18.
    pub decimals: u32,
}

impl Money {
    /// `amount_minor` × 10^-`decimals` of `currency`.
    pub fn new(currency: Currency, amount_minor: i64, decimals: u32) -> Self {
        Money {
            currency,
            amount_minor,
            decimals,
        }
    }
}

impl TryFrom<pb::Money> for Money {
    type Error = ValidationError;
    fn try_from(value: pb::Money) -> Result<Self, Self::Error> {
        if value.amount_minor < 0 {
            return Err(ValidationError::invalid(
                "amount_minor",
                "an amount of zero or more",
                value.amount_minor.to_string(),
            ));
        }
        if value.decimals > 18 {
            return Err(ValidationError::invalid(
                "decimals",
                "0 to 18 decimal places",
                value.decimals.to_string(),
            ));
        }
        Ok(Money {
            currency: Currency::from_wire(&value.currency).at("currency")?,
            amount_minor: value.amount_minor,
            decimals: value.decimals,
        })
    }
}

impl From<Money> for pb::Money {
    fn from(value: Money) -> Self {
        pb::Money {
            currency: value.currency.as_str().to_owned(),
            amount_minor: value.amount_minor,
            decimals: value.decimals,
        }
    }
}

/// An account on a messaging or social platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Handle {
    /// The platform.
    pub platform: Platform,
    /// The platform's name, for [`Platform::Other`] and [`Platform::JobSite`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_name: Option<String>,
    /// Account name, number or URL.
    pub handle: String,
}

impl Handle {
    /// A handle on a named platform.
    pub fn new(platform: Platform, handle: impl Into<String>) -> Self {
        Handle {
            platform,
            platform_name: None,
            handle: handle.into(),
        }
    }
}

/// Checks that a platform that needs a name has one.
pub(crate) fn check_platform_name(
    platform: Platform,
    name: &Option<String>,
) -> Result<(), ValidationError> {
    if platform.needs_name() && name.is_none() {
        return Err(ValidationError::rule(
            "platform_name",
            "required when platform is PLATFORM_OTHER or PLATFORM_JOB_SITE",
        ));
    }
    Ok(())
}

impl TryFrom<pb::Handle> for Handle {
    type Error = ValidationError;
    fn try_from(value: pb::Handle) -> Result<Self, Self::Error> {
        let platform = Platform::from_wire(value.platform).at("platform")?;
        let platform_name = text::optional(value.platform_name, SHORT).at("platform_name")?;
        check_platform_name(platform, &platform_name)?;
        Ok(Handle {
            platform,
            platform_name,
            handle: text::required(value.handle, SHORT).at("handle")?,
        })
    }
}

impl From<Handle> for pb::Handle {
    fn from(value: Handle) -> Self {
        pb::Handle {
            platform: value.platform.to_wire(),
            platform_name: text::or_empty(value.platform_name),
            handle: value.handle,
        }
    }
}
