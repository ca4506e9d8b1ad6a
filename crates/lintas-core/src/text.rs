//! Rules for text: bounded length, no control characters, no invisible
//! characters that can disguise a name, and descriptive text that carries
//! its language ([`Text`]) with optional translations beside it.

use serde::{Deserialize, Serialize};

use crate::error::{At, ValidationError};
use crate::ids::LanguageTag;
use crate::pb;
use crate::wire;

/// Longest name-like field (names, handles, titles), in bytes.
pub(crate) const SHORT: usize = 256;
/// Longest descriptive field (summaries, advert text, notes), in bytes.
pub(crate) const LONG: usize = 8 * 1024;
/// Most translations beside one text.
pub(crate) const MAX_TRANSLATIONS: usize = 8;

/// Bidirectional embedding, override and isolate controls: refused in all
/// text, because they reorder what a reader sees.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Invisible formatting characters refused in name-like text, where they
/// make two different values look the same (docs/PROTOCOL.md section 3.1).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Zero-width joiner and non-joiner: needed to write some scripts, so
/// allowed in names only between two characters that are neither ASCII nor
/// white space.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

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
            format!("{} bytes", value.len()),
        ));
    }
    let name_like = max == SHORT;
    let chars: Vec<char> = value.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let layout = matches!(c, '\n' | '\t' | '\r');
        let control = c.is_control() && (name_like || !layout);
        if control {
            return Err(ValidationError::invalid(
                "",
                if name_like {
                    "name-like text without control characters (no line breaks or tabs)"
                } else {
                    "text without control characters other than line feed, carriage return and tab"
                },
                value.escape_default().to_string(),
            ));
        }
        if is_bidi_control(c) {
            return Err(ValidationError::invalid(
                "",
                "text without bidirectional embedding, override or isolate controls (U+202A-U+202E, U+2066-U+2069)",
                value.escape_unicode().to_string(),
            ));
        }
        if name_like {
            let scripted =
                |n: Option<&char>| n.is_some_and(|n| !n.is_ascii() && !n.is_whitespace());
            let joiner_ok = is_joiner(c)
                && scripted(i.checked_sub(1).and_then(|p| chars.get(p)))
                && scripted(chars.get(i + 1));
            if is_invisible(c) || (is_joiner(c) && !joiner_ok) {
                return Err(ValidationError::invalid(
                    "",
                    "name-like text without invisible formatting characters",
                    format!("U+{:04X} at character {i}", u32::from(c)),
                ));
            }
        }
    }
    Ok(value)
}

/// The wire form of an optional text field.
pub(crate) fn or_empty(value: Option<String>) -> String {
    value.unwrap_or_default()
}

/// Descriptive text in a known language, with translations beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Text {
    /// The text as written.
    pub text: String,
    /// Its language.
    pub language: LanguageTag,
    /// Translations, each marked with its language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub translations: Vec<Translation>,
}

/// A translation kept beside the original.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Translation {
    /// The translated text.
    pub text: String,
    /// Its language.
    pub language: LanguageTag,
    /// Produced by machine translation and not checked by a person.
    #[serde(default)]
    pub machine: bool,
}

impl Text {
    /// `text` written in `language` (a BCP 47 tag such as `"en"` or `"km"`).
    ///
    /// # Errors
    /// When `language` is not a well-formed tag.
    pub fn new(language: &str, text: impl Into<String>) -> Result<Self, ValidationError> {
        Ok(Text {
            text: text.into(),
            language: LanguageTag::parse(language).at("language")?,
            translations: Vec::new(),
        })
    }

    /// English text (a shorthand for examples and tests).
    pub fn en(text: impl Into<String>) -> Self {
        Text {
            text: text.into(),
            language: LanguageTag::english(),
            translations: Vec::new(),
        }
    }

    /// The same text with a translation into `language` added beside it.
    ///
    /// # Errors
    /// When `language` is not a well-formed tag.
    pub fn with_translation(
        mut self,
        language: &str,
        text: impl Into<String>,
        machine: bool,
    ) -> Result<Self, ValidationError> {
        self.translations.push(Translation {
            text: text.into(),
            language: LanguageTag::parse(language).at("language")?,
            machine,
        });
        Ok(self)
    }

    /// Reads an optional wire Text.
    pub(crate) fn optional(value: Option<pb::Text>) -> Result<Option<Text>, ValidationError> {
        value.map(Text::try_from).transpose()
    }
}

impl TryFrom<pb::Text> for Text {
    type Error = ValidationError;
    fn try_from(t: pb::Text) -> Result<Self, Self::Error> {
        let language = LanguageTag::from_wire(&t.language).at("language")?;
        if t.translations.len() > MAX_TRANSLATIONS {
            return Err(ValidationError::invalid(
                "translations",
                "at most 8 translations",
                t.translations.len().to_string(),
            ));
        }
        let translations: Vec<Translation> = wire::convert_list(t.translations, "translations")?;
        wire::unique(&translations, "translations", |t| {
            t.language.as_str().to_ascii_lowercase()
        })?;
        if let Some(i) = translations
            .iter()
            .position(|x| x.language.as_str().eq_ignore_ascii_case(language.as_str()))
        {
            return Err(ValidationError::rule(
                "language",
                "a translation must be into another language than the original",
            )
            .within_item("translations", i));
        }
        Ok(Text {
            text: required(t.text, LONG).at("text")?,
            language,
            translations,
        })
    }
}

impl TryFrom<pb::Translation> for Translation {
    type Error = ValidationError;
    fn try_from(t: pb::Translation) -> Result<Self, Self::Error> {
        Ok(Translation {
            text: required(t.text, LONG).at("text")?,
            language: LanguageTag::from_wire(&t.language).at("language")?,
            machine: t.machine,
        })
    }
}

impl From<Text> for pb::Text {
    fn from(t: Text) -> Self {
        pb::Text {
            text: t.text,
            language: t.language.to_string(),
            translations: t
                .translations
                .into_iter()
                .map(|x| pb::Translation {
                    text: x.text,
                    language: x.language.to_string(),
                    machine: x.machine,
                })
                .collect(),
        }
    }
}

/// Reads a required wire Text.
pub(crate) fn required_text(value: Option<pb::Text>) -> Result<Text, ValidationError> {
    value
        .ok_or_else(|| ValidationError::missing(""))
        .and_then(Text::try_from)
}

/// The wire form of an optional Text.
pub(crate) fn text_to_wire(value: Option<Text>) -> Option<pb::Text> {
    value.map(Into::into)
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
        assert!(required("line one\nline two".into(), SHORT).is_err());
        assert!(required("x".repeat(SHORT + 1), SHORT).is_err());
        assert!(required("x".repeat(SHORT), SHORT).is_ok());
    }

    #[test]
    fn bidi_controls_are_refused_everywhere() {
        // "invoice_\u{202E}fdp.exe" shows as "invoice_exe.pdf".
        assert!(required("invoice_\u{202E}fdp.exe".into(), LONG).is_err());
        assert!(required("a\u{2067}b".into(), SHORT).is_err());
    }

    #[test]
    fn invisible_characters_are_refused_in_names_only() {
        assert!(required("adm\u{200B}in".into(), SHORT).is_err());
        assert!(required("\u{FEFF}Somchai".into(), SHORT).is_err());
        // A joiner between Latin letters disguises; between Sinhala or
        // Devanagari letters it shapes the text.
        assert!(required("ad\u{200D}min".into(), SHORT).is_err());
        assert!(required("\u{0D9A}\u{0DCA}\u{200D}\u{0DBB}".into(), SHORT).is_ok());
        // Khmer and Myanmar running text uses zero-width spaces between words.
        assert!(required("\u{1780}\u{200B}\u{1781}".into(), LONG).is_ok());
    }

    #[test]
    fn text_carries_a_well_formed_language_and_distinct_translations() {
        let wire = |language: &str, translations: Vec<(&str, &str)>| pb::Text {
            text: "hello".into(),
            language: language.into(),
            translations: translations
                .into_iter()
                .map(|(l, t)| pb::Translation {
                    text: t.into(),
                    language: l.into(),
                    machine: false,
                })
                .collect(),
        };
        assert!(Text::try_from(wire("km", vec![("en", "x")])).is_ok());
        assert_eq!(
            Text::try_from(wire("", vec![])).map_err(|e| e.path),
            Err("language".to_owned())
        );
        assert_eq!(
            Text::try_from(wire("en_US", vec![])).map_err(|e| e.path),
            Err("language".to_owned())
        );
        assert_eq!(
            Text::try_from(wire("km", vec![("en", "x"), ("EN", "y")])).map_err(|e| e.path),
            Err("translations[1]".to_owned())
        );
        assert_eq!(
            Text::try_from(wire("en", vec![("en", "x")])).map_err(|e| e.path),
            Err("translations[0].language".to_owned())
        );
        let nine = (0..9).map(|_| ("th", "x")).collect();
        assert_eq!(
            Text::try_from(wire("en", nine)).map_err(|e| e.path),
            Err("translations".to_owned())
        );
    }
}
