//! Validation errors: what was wrong and where.
//!
//! Every error raised while turning wire data into domain types names the
//! field path (`rescue_request.case.victims[0].nationality`) and what was
//! expected, so the sending desk can fix its input.

use std::fmt;

/// The longest piece of offending input quoted back in an error message.
const MAX_QUOTED: usize = 80;

/// A field of a message failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem}", if path.is_empty() { "(message)" } else { path.as_str() })]
#[non_exhaustive]
pub struct ValidationError {
    /// Dotted path from the validated message to the field, with list
    /// indices in brackets, e.g. `case.victims[2].nationality`.
    pub path: String,
    /// What was wrong with it.
    pub problem: Problem,
}

/// What was wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A required field is absent or empty.
    Missing,
    /// The value is not of the expected form.
    Invalid {
        /// What the protocol expects here.
        expected: &'static str,
        /// The value found (shortened if long).
        found: String,
    },
    /// An enum field holds a number this version does not know, in a closed
    /// enum where an unknown value would change how the message is handled.
    UnknownEnumValue {
        /// The enum's name.
        enumeration: &'static str,
        /// The number found.
        value: i32,
    },
    /// A value that must be unique appears more than once.
    Duplicate {
        /// The repeated value.
        value: String,
    },
    /// A reference to something that is not there (e.g. a victim id that is
    /// not in the case).
    UnknownReference {
        /// What the reference should point to.
        expected: &'static str,
        /// The dangling reference.
        found: String,
    },
    /// A rule relating this field to others is broken (e.g. a deadline
    /// before the creation time).
    Rule(&'static str),
    /// A repeated field has more elements than the protocol allows.
    TooMany {
        /// The limit.
        max: usize,
        /// How many there were.
        found: usize,
    },
    /// The bytes are not a valid protobuf encoding of the message.
    Decode(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => f.write_str("required field is missing or empty"),
            Problem::Invalid { expected, found } => {
                write!(f, "expected {expected}, found {found:?}")
            }
            Problem::UnknownEnumValue { enumeration, value } => {
                write!(f, "expected a known {enumeration} value, found {value}")
            }
            Problem::Duplicate { value } => write!(f, "duplicate value {value:?}"),
            Problem::UnknownReference { expected, found } => {
                write!(f, "expected {expected}, found {found:?} which is not there")
            }
            Problem::Rule(rule) => f.write_str(rule),
            Problem::TooMany { max, found } => {
                write!(f, "expected at most {max} elements, found {found}")
            }
            Problem::Decode(detail) => write!(f, "not a valid protobuf encoding: {detail}"),
        }
    }
}

impl ValidationError {
    /// An error at the field `field` (a path segment, may be empty).
    pub fn new(field: &str, problem: Problem) -> Self {
        ValidationError {
            path: field.to_owned(),
            problem,
        }
    }

    /// A required field is missing.
    pub fn missing(field: &str) -> Self {
        Self::new(field, Problem::Missing)
    }

    /// A value is not of the expected form.
    pub fn invalid(field: &str, expected: &'static str, found: impl AsRef<str>) -> Self {
        Self::new(
            field,
            Problem::Invalid {
                expected,
                found: quote(found.as_ref()),
            },
        )
    }

    /// A cross-field rule is broken.
    pub fn rule(field: &str, rule: &'static str) -> Self {
        Self::new(field, Problem::Rule(rule))
    }

    /// A value appears twice where it must be unique.
    pub fn duplicate(field: &str, value: impl AsRef<str>) -> Self {
        Self::new(
            field,
            Problem::Duplicate {
                value: quote(value.as_ref()),
            },
        )
    }

    /// A reference points at nothing.
    pub fn unknown_reference(field: &str, expected: &'static str, found: impl AsRef<str>) -> Self {
        Self::new(
            field,
            Problem::UnknownReference {
                expected,
                found: quote(found.as_ref()),
            },
        )
    }

    /// Prefix the path with the enclosing field `segment`.
    #[must_use]
    pub fn within(mut self, segment: &str) -> Self {
        if segment.is_empty() {
            return self;
        }
        self.path = match (self.path.is_empty(), self.path.starts_with('[')) {
            (true, _) => segment.to_owned(),
            (false, true) => format!("{segment}{}", self.path),
            (false, false) => format!("{segment}.{}", self.path),
        };
        self
    }

    /// Prefix the path with the list element `segment[index]`.
    #[must_use]
    pub fn within_item(self, segment: &str, index: usize) -> Self {
        self.within(&format!("{segment}[{index}]"))
    }
}

/// Shortens input quoted back in errors, on a character boundary.
fn quote(found: &str) -> String {
    match found.char_indices().nth(MAX_QUOTED) {
        Some((cut, _)) => format!("{}…", &found[..cut]),
        None => found.to_owned(),
    }
}

/// Adds path context to validation results.
pub(crate) trait At<T> {
    /// Prefix any error's path with `segment`.
    fn at(self, segment: &str) -> Result<T, ValidationError>;
    /// Prefix any error's path with `segment[index]`.
    fn at_item(self, segment: &str, index: usize) -> Result<T, ValidationError>;
}

impl<T> At<T> for Result<T, ValidationError> {
    fn at(self, segment: &str) -> Result<T, ValidationError> {
        self.map_err(|e| e.within(segment))
    }
    fn at_item(self, segment: &str, index: usize) -> Result<T, ValidationError> {
        self.map_err(|e| e.within_item(segment, index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_compose_outward() {
        let e = ValidationError::missing("nationality")
            .within_item("victims", 2)
            .within("case");
        assert_eq!(e.path, "case.victims[2].nationality");
        assert_eq!(
            e.to_string(),
            "case.victims[2].nationality: required field is missing or empty"
        );
        let top = ValidationError::missing("").within_item("recipients", 0);
        assert_eq!(top.path, "recipients[0]");
    }

    #[test]
    fn long_input_is_shortened_in_messages() {
        let e = ValidationError::invalid("x", "something short", "é".repeat(500));
        let Problem::Invalid { found, .. } = &e.problem else {
            panic!("wrong problem")
        };
        assert_eq!(found.chars().count(), MAX_QUOTED + 1);
    }
}
