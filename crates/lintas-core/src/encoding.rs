//! Rules on the exact signed bytes, before they are decoded
//! (docs/PROTOCOL.md section 2.2). Protobuf parsers accept a singular field
//! encoded twice (the last value wins) and two members of a oneof (the
//! last one wins), so two implementations could read different content from
//! the same signed bytes. Lintas refuses both, at every depth, in notice
//! bodies, receipts and rosters. Unknown fields are skipped, except a field
//! numbered 20 to 99 in a notice body: that is a notice kind from a newer
//! version of the protocol.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};

use crate::error::ValidationError;

/// Deepest nesting of messages accepted (the schema needs fewer than 10).
const MAX_DEPTH: usize = 32;
/// NoticeBody field numbers reserved for notice kinds.
pub(crate) const KIND_FIELDS: std::ops::RangeInclusive<u32> = 20..=99;

/// Why encoded bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EncodingError {
    /// A notice body of a kind this version does not define.
    UnknownKind(u32),
    /// A singular field twice, two members of a oneof, or a malformed
    /// encoding.
    Invalid(ValidationError),
}

#[derive(Debug)]
struct Field {
    name: String,
    repeated: bool,
    oneof: Option<String>,
    message: Option<String>,
}

#[derive(Debug, Default)]
struct Schema {
    messages: BTreeMap<String, BTreeMap<u32, Field>>,
}

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let bytes: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/lintas.v1.fds"));
        let set = prost_types::FileDescriptorSet::decode(bytes).unwrap_or_default();
        let mut schema = Schema::default();
        for file in &set.file {
            let package = file.package();
            for message in &file.message_type {
                add_message(&mut schema, package, message);
            }
        }
        schema
    })
}

fn add_message(schema: &mut Schema, scope: &str, message: &prost_types::DescriptorProto) {
    let name = format!(".{scope}.{}", message.name());
    let nested_scope = format!("{scope}.{}", message.name());
    for nested in &message.nested_type {
        add_message(schema, &nested_scope, nested);
    }
    let fields = message
        .field
        .iter()
        .filter_map(|f| {
            let number = u32::try_from(f.number()).ok()?;
            let oneof = f
                .oneof_index
                .and_then(|i| message.oneof_decl.get(usize::try_from(i).ok()?))
                .map(|o| o.name().to_owned());
            Some((
                number,
                Field {
                    name: f.name().to_owned(),
                    repeated: f.label() == Label::Repeated,
                    oneof,
                    message: (f.r#type() == Type::Message).then(|| f.type_name().to_owned()),
                },
            ))
        })
        .collect();
    schema.messages.insert(name, fields);
}

fn malformed(path: &str, what: &'static str) -> EncodingError {
    EncodingError::Invalid(ValidationError::invalid(
        path,
        "a well-formed protobuf encoding",
        what,
    ))
}

/// Where the walk is: field names and list indices from the top message.
/// Formatted into a field path only when a rule is broken, so a valid body
/// costs no allocation per field.
#[derive(Default)]
struct Path<'s> {
    segments: Vec<(&'s str, Option<usize>)>,
}

impl Path<'_> {
    fn show(&self, last: Option<&str>) -> String {
        let mut out = String::new();
        for (name, index) in &self.segments {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(name);
            if let Some(i) = index {
                out.push_str(&format!("[{i}]"));
            }
        }
        if let Some(last) = last {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(last);
        }
        out
    }
}

fn malformed_at(path: &Path<'_>, what: &'static str) -> EncodingError {
    malformed(&path.show(None), what)
}

fn varint_at(buf: &mut &[u8], path: &Path<'_>) -> Result<u64, EncodingError> {
    prost::encoding::decode_varint(buf).map_err(|_| malformed_at(path, "a broken varint"))
}

/// Checks `bytes`, an encoded `message` (full protobuf name such as
/// `.lintas.v1.NoticeBody`), against the exact-bytes rules.
pub(crate) fn check(bytes: &[u8], message: &str) -> Result<(), EncodingError> {
    walk(schema(), message, bytes, &mut Path::default())
}

fn walk<'s>(
    schema: &'s Schema,
    message: &str,
    mut buf: &[u8],
    path: &mut Path<'s>,
) -> Result<(), EncodingError> {
    if path.segments.len() > MAX_DEPTH {
        return Err(malformed_at(path, "messages nested too deep"));
    }
    let Some(fields) = schema.messages.get(message) else {
        // Not described (cannot happen for the lintas.v1 schema): nothing
        // to check inside.
        return Ok(());
    };
    let notice_body = message == ".lintas.v1.NoticeBody";
    // Occurrences so far per field number, and the member seen per oneof;
    // messages have few fields, so small vectors beat maps.
    let mut seen: Vec<(u32, usize)> = Vec::new();
    let mut oneofs: Vec<(&str, u32)> = Vec::new();
    while !buf.is_empty() {
        let key = varint_at(&mut buf, path)?;
        let number = u32::try_from(key >> 3).unwrap_or(0);
        if number == 0 {
            return Err(malformed_at(path, "field number 0"));
        }
        let payload: &[u8] = match key & 7 {
            0 => {
                varint_at(&mut buf, path)?;
                &[]
            }
            1 | 5 => {
                let n = if key & 7 == 1 { 8 } else { 4 };
                if buf.len() < n {
                    return Err(malformed_at(path, "a truncated fixed-width field"));
                }
                buf = &buf[n..];
                &[]
            }
            2 => {
                let len = usize::try_from(varint_at(&mut buf, path)?).unwrap_or(usize::MAX);
                if buf.len() < len {
                    return Err(malformed_at(path, "a truncated length-delimited field"));
                }
                let (payload, rest) = buf.split_at(len);
                buf = rest;
                payload
            }
            _ => return Err(malformed_at(path, "a group or an unknown wire type")),
        };
        let Some(field) = fields.get(&number) else {
            if notice_body && KIND_FIELDS.contains(&number) {
                return Err(EncodingError::UnknownKind(number));
            }
            continue;
        };
        let index = match seen.iter_mut().find(|(n, _)| *n == number) {
            Some((_, count)) => {
                *count += 1;
                *count - 1
            }
            None => {
                seen.push((number, 1));
                0
            }
        };
        if !field.repeated && index > 0 {
            return Err(EncodingError::Invalid(ValidationError::rule(
                &path.show(Some(&field.name)),
                "a singular field is encoded more than once in the signed bytes",
            )));
        }
        if let Some(oneof) = &field.oneof {
            match oneofs.iter().find(|(o, _)| *o == oneof.as_str()) {
                Some((_, first)) if *first != number => {
                    return Err(EncodingError::Invalid(ValidationError::rule(
                        &path.show(Some(oneof)),
                        "more than one field of the oneof is set in the signed bytes",
                    )));
                }
                Some(_) => {}
                None => oneofs.push((oneof.as_str(), number)),
            }
        }
        if let Some(sub) = &field.message
            && key & 7 == 2
        {
            path.segments
                .push((field.name.as_str(), field.repeated.then_some(index)));
            let result = walk(schema, sub, payload, path);
            path.segments.pop();
            result?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Vec<u8> {
        // sequence = 1, then a case_id.
        let mut b = vec![0x18, 0x01];
        b.extend_from_slice(&[0x42, 0x02, b'C', b'1']);
        b
    }

    #[test]
    fn the_schema_is_embedded() {
        assert!(schema().messages.contains_key(".lintas.v1.NoticeBody"));
        assert!(schema().messages.contains_key(".google.protobuf.Timestamp"));
    }

    #[test]
    fn a_well_formed_body_passes() {
        assert_eq!(check(&body(), ".lintas.v1.NoticeBody"), Ok(()));
    }

    #[test]
    fn a_singular_field_twice_is_refused() {
        let mut b = body();
        b.extend_from_slice(&[0x18, 0x02]);
        let Err(EncodingError::Invalid(e)) = check(&b, ".lintas.v1.NoticeBody") else {
            panic!("accepted")
        };
        assert_eq!(e.path, "sequence");
    }

    #[test]
    fn a_repeated_field_may_repeat() {
        let mut b = body();
        b.extend_from_slice(&[0x32, 0x01, b'A', 0x32, 0x01, b'B']);
        assert_eq!(check(&b, ".lintas.v1.NoticeBody"), Ok(()));
    }

    #[test]
    fn two_kinds_are_refused() {
        // withdrawal (29) and then rescue_request (20), both empty.
        let mut b = body();
        b.extend_from_slice(&[0xEA, 0x01, 0x00, 0xA2, 0x01, 0x00]);
        let Err(EncodingError::Invalid(e)) = check(&b, ".lintas.v1.NoticeBody") else {
            panic!("accepted")
        };
        assert_eq!(e.path, "kind");
    }

    #[test]
    fn nested_duplicates_name_their_path() {
        // handling (7) { tlp = 1, tlp = 2 }
        let mut b = body();
        b.extend_from_slice(&[0x3A, 0x04, 0x08, 0x01, 0x08, 0x02]);
        let Err(EncodingError::Invalid(e)) = check(&b, ".lintas.v1.NoticeBody") else {
            panic!("accepted")
        };
        assert_eq!(e.path, "handling.tlp");
    }

    #[test]
    fn a_kind_from_a_newer_version_is_recognised() {
        let mut b = body();
        // field 60, length-delimited, empty.
        b.extend_from_slice(&[0xE2, 0x03, 0x00]);
        assert_eq!(
            check(&b, ".lintas.v1.NoticeBody"),
            Err(EncodingError::UnknownKind(60))
        );
        // An unknown field outside the kind range is skipped.
        let mut b = body();
        b.extend_from_slice(&[0xA0, 0x06, 0x01]); // field 100, varint
        assert_eq!(check(&b, ".lintas.v1.NoticeBody"), Ok(()));
    }

    #[test]
    fn malformed_bytes_are_refused_without_panicking() {
        for bad in [
            vec![0x18],
            vec![0x42, 0x05, b'x'],
            vec![0x0B],
            vec![0x00, 0x01],
            vec![0x19, 1, 2, 3],
        ] {
            assert!(check(&bad, ".lintas.v1.NoticeBody").is_err(), "{bad:?}");
        }
    }
}
