//! Rules for free-text fields: bounded length, no control characters.

use crate::error::ValidationError;

/// Longest name-like field (names, handles, titles), in bytes.
pub(crate) const SHORT: usize = 256;
/// Longest descriptive field (summaries, advert text, notes), in bytes.
pub(crate) const LONG: usize = 8 * 1024;

/// Checks an optional text field; empty means absent.
pub(crate) fn optional(value: String, max: usize) -> Result<Option<String>, ValidationError> {
    if value.is_empty() {
        return Ok(None);
    }
    required(value, max).map(Some)
}

/// Checks a required text field.
pub(crate) fn required(value: String, max: usize) -> Result<String, ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::missing(""));
    }
    if value.len() > max {
        return Err(ValidationError::invalid(
            "",
            if max == SHORT {
                "text of at most 256 bytes"
            } else {
                "text of at most 8192 bytes"
            },
            value,
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(ValidationError::invalid(
            "",
            "text without control characters",
            value.escape_default().to_string(),
        ));
    }
    Ok(value)
}

/// Checks each element of a repeated text field.
pub(crate) fn list(
    values: Vec<String>,
    field: &str,
    max: usize,
) -> Result<Vec<String>, ValidationError> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| required(v, max).map_err(|e| e.within_item(field, i)))
        .collect()
}

/// The wire form of an optional text field.
pub(crate) fn or_empty(value: Option<String>) -> String {
    value.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert_eq!(optional(String::new(), SHORT), Ok(None));
        assert!(required("  ".into(), SHORT).is_err());
        assert!(required("a\u{0}b".into(), SHORT).is_err());
        assert!(required("line one\nline two".into(), LONG).is_ok());
        assert!(required("x".repeat(SHORT + 1), SHORT).is_err());
        assert!(required("x".repeat(SHORT), SHORT).is_ok());
    }
}
