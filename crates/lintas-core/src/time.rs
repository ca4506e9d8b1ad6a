//! Points in time, as on the wire (`google.protobuf.Timestamp`, UTC) and as
//! RFC 3339 text in JSON.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::ValidationError;
use crate::pb;

/// Earliest accepted time: 2000-01-01T00:00:00Z. Nothing Lintas carries
/// happened before, and a zero timestamp is a forgotten field.
const EARLIEST: i64 = 946_684_800;
/// Latest accepted time: 9999-12-31T23:59:59Z, the end of RFC 3339.
const LATEST: i64 = 253_402_300_799;

/// A UTC instant with nanosecond precision, between the years 2000 and 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

impl Timestamp {
    /// The instant `seconds` after the Unix epoch, plus `nanos`.
    ///
    /// # Errors
    /// When `nanos` is not below one second or the instant is outside
    /// 2000-01-01..=9999-12-31.
    pub fn new(seconds: i64, nanos: u32) -> Result<Self, ValidationError> {
        if nanos >= 1_000_000_000 || !(EARLIEST..=LATEST).contains(&seconds) {
            return Err(ValidationError::invalid(
                "",
                "a time between 2000-01-01 and 9999-12-31 with nanos below 1e9",
                format!("{seconds}s {nanos}ns"),
            ));
        }
        Ok(Timestamp { seconds, nanos })
    }

    /// The instant `seconds` after the Unix epoch.
    ///
    /// # Errors
    /// As [`Timestamp::new`].
    pub fn from_unix(seconds: i64) -> Result<Self, ValidationError> {
        Self::new(seconds, 0)
    }

    /// The current time from the system clock.
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        Timestamp {
            seconds: now.unix_timestamp().clamp(EARLIEST, LATEST),
            nanos: now.nanosecond(),
        }
    }

    /// Parses RFC 3339 text such as `2026-11-29T04:31:00Z`.
    ///
    /// # Errors
    /// When the text is not RFC 3339 or is out of range.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
            ValidationError::invalid("", "an RFC 3339 time such as 2026-11-29T04:31:00Z", text)
        })?;
        Self::new(parsed.unix_timestamp(), parsed.nanosecond())
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// Nanoseconds within the second.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// This instant moved by `seconds` (negative moves back), clamped to the
    /// accepted range.
    #[must_use]
    pub fn plus_seconds(&self, seconds: i64) -> Self {
        Timestamp {
            seconds: self.seconds.saturating_add(seconds).clamp(EARLIEST, LATEST),
            nanos: self.nanos,
        }
    }

    /// Reads a required wire timestamp.
    pub(crate) fn from_wire(
        value: Option<&prost_types::Timestamp>,
    ) -> Result<Self, ValidationError> {
        let value = value.ok_or_else(|| ValidationError::missing(""))?;
        let nanos = u32::try_from(value.nanos).map_err(|_| {
            ValidationError::invalid("", "nanos between 0 and 999999999", value.nanos.to_string())
        })?;
        Self::new(value.seconds, nanos)
    }

    /// Reads an optional wire timestamp.
    pub(crate) fn optional_from_wire(
        value: Option<&prost_types::Timestamp>,
    ) -> Result<Option<Self>, ValidationError> {
        value.map(|v| Self::from_wire(Some(v))).transpose()
    }

    fn to_datetime(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos),
        )
        .ok()
    }
}

impl From<Timestamp> for prost_types::Timestamp {
    fn from(value: Timestamp) -> Self {
        prost_types::Timestamp {
            seconds: value.seconds,
            // Below 1e9 by construction, so it fits.
            nanos: i32::try_from(value.nanos).unwrap_or(0),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_datetime().and_then(|d| d.format(&Rfc3339).ok()) {
            Some(text) => f.write_str(&text),
            None => write!(f, "@{}.{:09}", self.seconds, self.nanos),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() -> Result<(), ValidationError> {
        let t = Timestamp::parse("2026-11-29T04:31:00.25Z")?;
        assert_eq!(t.unix_seconds(), 1_795_926_660);
        assert_eq!(t.subsec_nanos(), 250_000_000);
        assert_eq!(Timestamp::parse(&t.to_string())?, t);
        Ok(())
    }

    #[test]
    fn out_of_range_is_refused() {
        assert!(Timestamp::new(0, 0).is_err(), "zero is a forgotten field");
        assert!(Timestamp::new(EARLIEST, 1_000_000_000).is_err());
        assert!(Timestamp::new(LATEST + 1, 0).is_err());
        let negative_nanos = prost_types::Timestamp {
            seconds: EARLIEST,
            nanos: -1,
        };
        assert!(Timestamp::from_wire(Some(&negative_nanos)).is_err());
        assert!(Timestamp::from_wire(None).is_err());
        assert!(Timestamp::parse("yesterday").is_err());
    }
}

/// A calendar date without time zone, 1900 to 2200. In a birth date the
/// month, or the day, may be unknown (0 on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month 1-12, or 0 when unknown (birth dates only).
    pub month: u8,
    /// Day of the month, or 0 when unknown (birth dates only).
    pub day: u8,
}

impl Date {
    /// A complete date.
    ///
    /// # Errors
    /// When the date does not exist or is outside 1900..=2200.
    pub fn ymd(year: u16, month: u8, day: u8) -> Result<Self, ValidationError> {
        Self::check(u32::from(year), u32::from(month), u32::from(day), false)
    }

    fn check(year: u32, month: u32, day: u32, partial: bool) -> Result<Self, ValidationError> {
        if !(1900..=2200).contains(&year) {
            return Err(ValidationError::invalid(
                "year",
                "a year from 1900 to 2200",
                year.to_string(),
            ));
        }
        // A partial birth date: day unknown (month known or not).
        let unknown_ok = partial && day == 0;
        if unknown_ok {
            if month > 12 {
                return Err(ValidationError::invalid(
                    "month",
                    "a month from 1 to 12",
                    month.to_string(),
                ));
            }
        } else {
            let m = u8::try_from(month)
                .ok()
                .and_then(|m| time::Month::try_from(m).ok())
                .ok_or_else(|| {
                    ValidationError::invalid(
                        "month",
                        if partial {
                            "a month from 1 to 12, or 0 with day 0 when unknown"
                        } else {
                            "a month from 1 to 12"
                        },
                        month.to_string(),
                    )
                })?;
            let y = i32::try_from(year).unwrap_or(1900);
            let d = u8::try_from(day).unwrap_or(0);
            if d == 0 || time::Date::from_calendar_date(y, m, d).is_err() {
                return Err(ValidationError::invalid(
                    "day",
                    "a day that exists in that month",
                    day.to_string(),
                ));
            }
        }
        Ok(Date {
            year: u16::try_from(year).unwrap_or(1900),
            month: u8::try_from(month).unwrap_or(0),
            day: u8::try_from(day).unwrap_or(0),
        })
    }

    /// Reads a complete wire date.
    pub(crate) fn from_wire(d: &pb::Date) -> Result<Self, ValidationError> {
        Self::check(d.year, d.month, d.day, false)
    }

    /// Reads a wire birth date, where month and day may be 0.
    pub(crate) fn birth_from_wire(d: &pb::Date) -> Result<Self, ValidationError> {
        Self::check(d.year, d.month, d.day, true)
    }
}

impl From<Date> for pb::Date {
    fn from(d: Date) -> Self {
        pb::Date {
            year: u32::from(d.year),
            month: u32::from(d.month),
            day: u32::from(d.day),
        }
    }
}

#[cfg(test)]
mod date_tests {
    use super::*;

    fn wire(year: u32, month: u32, day: u32) -> pb::Date {
        pb::Date { year, month, day }
    }

    #[test]
    fn dates_must_exist_and_birth_dates_may_be_partial() {
        assert!(Date::from_wire(&wire(2024, 2, 29)).is_ok());
        assert_eq!(
            Date::from_wire(&wire(2023, 2, 29)).map_err(|e| e.path),
            Err("day".into())
        );
        assert_eq!(
            Date::from_wire(&wire(1899, 1, 1)).map_err(|e| e.path),
            Err("year".into())
        );
        assert_eq!(
            Date::from_wire(&wire(2000, 0, 0)).map_err(|e| e.path),
            Err("month".into())
        );
        assert!(Date::birth_from_wire(&wire(1990, 0, 0)).is_ok());
        assert!(Date::birth_from_wire(&wire(1990, 7, 0)).is_ok());
        assert_eq!(
            Date::birth_from_wire(&wire(1990, 0, 5)).map_err(|e| e.path),
            Err("month".into())
        );
        assert_eq!(
            Date::birth_from_wire(&wire(1990, 13, 0)).map_err(|e| e.path),
            Err("month".into())
        );
    }
}
