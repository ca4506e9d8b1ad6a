//! Helpers shared by the wire-to-domain conversions.

use std::collections::BTreeSet;

use crate::error::{At, ValidationError};

/// Most elements of any repeated field (docs/PROTOCOL.md section 3.4);
/// recipients have a smaller limit.
pub(crate) const MAX_ITEMS: usize = 1000;

/// Refuses a repeated field longer than [`MAX_ITEMS`].
pub(crate) fn bounded<T>(values: &[T], field: &str) -> Result<(), ValidationError> {
    at_most(values, field, MAX_ITEMS)
}

/// Refuses a repeated field longer than `max`.
pub(crate) fn at_most<T>(values: &[T], field: &str, max: usize) -> Result<(), ValidationError> {
    if values.len() > max {
        return Err(ValidationError::new(
            field,
            crate::error::Problem::TooMany {
                max,
                found: values.len(),
            },
        ));
    }
    Ok(())
}

/// Converts each element of a repeated message field, naming the element
/// that fails.
pub(crate) fn convert_list<W, D>(values: Vec<W>, field: &str) -> Result<Vec<D>, ValidationError>
where
    D: TryFrom<W, Error = ValidationError>,
{
    bounded(&values, field)?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| D::try_from(v).at_item(field, i))
        .collect()
}

/// Parses each element of a repeated scalar field (strings, enum numbers)
/// with `parse`, naming the element that fails.
pub(crate) fn parse_list<W, D>(
    values: Vec<W>,
    field: &str,
    parse: impl Fn(W) -> Result<D, ValidationError>,
) -> Result<Vec<D>, ValidationError> {
    bounded(&values, field)?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| parse(v).at_item(field, i))
        .collect()
}

/// Reads a required sub-message and converts it.
pub(crate) fn required<W, D>(value: Option<W>, field: &str) -> Result<D, ValidationError>
where
    D: TryFrom<W, Error = ValidationError>,
{
    value
        .ok_or_else(|| ValidationError::missing(""))
        .and_then(D::try_from)
        .at(field)
}

/// Reads an optional sub-message and converts it.
pub(crate) fn optional<W, D>(value: Option<W>, field: &str) -> Result<Option<D>, ValidationError>
where
    D: TryFrom<W, Error = ValidationError>,
{
    value.map(D::try_from).transpose().at(field)
}

/// Reads an optional enum field: 0 (UNSPECIFIED) means absent.
pub(crate) fn optional_enum<D>(
    value: i32,
    field: &str,
    parse: impl Fn(i32) -> Result<D, ValidationError>,
) -> Result<Option<D>, ValidationError> {
    if value == 0 {
        Ok(None)
    } else {
        parse(value).map(Some).at(field)
    }
}

/// Refuses an empty list.
pub(crate) fn non_empty<T>(values: &[T], field: &str) -> Result<(), ValidationError> {
    if values.is_empty() {
        Err(ValidationError::missing(field))
    } else {
        Ok(())
    }
}

/// Refuses a list whose keys repeat, naming the second occurrence.
pub(crate) fn unique<'a, T, K>(
    values: &'a [T],
    field: &str,
    key: impl Fn(&'a T) -> K,
) -> Result<(), ValidationError>
where
    K: Ord + ToString,
{
    let mut seen = BTreeSet::new();
    for (i, value) in values.iter().enumerate() {
        let k = key(value);
        let shown = k.to_string();
        if !seen.insert(k) {
            return Err(ValidationError::duplicate("", shown).within_item(field, i));
        }
    }
    Ok(())
}

/// Converts a list of domain values to wire values.
pub(crate) fn to_wire_list<D, W: From<D>>(values: Vec<D>) -> Vec<W> {
    values.into_iter().map(W::from).collect()
}

/// Converts a list of domain values to their wire strings.
pub(crate) fn to_strings<D: ToString>(values: &[D]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

/// Reads a 64-byte Ed25519 signature field.
pub(crate) fn signature(bytes: &[u8]) -> Result<[u8; 64], ValidationError> {
    <[u8; 64]>::try_from(bytes).map_err(|_| {
        ValidationError::invalid(
            "signature",
            "an Ed25519 signature of 64 bytes",
            format!("{} bytes", bytes.len()),
        )
    })
}

/// Decodes a protobuf message, reporting a bad encoding as a validation
/// error.
pub(crate) fn decode<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, ValidationError> {
    M::decode(bytes)
        .map_err(|e| ValidationError::new("", crate::error::Problem::Decode(e.to_string())))
}
