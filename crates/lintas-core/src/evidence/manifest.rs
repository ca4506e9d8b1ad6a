//! The exporter's signed manifest of an evidence bundle: per item, SHA-256
//! of its exact bytes and of each 256-byte piece, so that a verifier can
//! say which bytes of which item changed after export (docs/PROTOCOL.md
//! section 11.2).

use prost::Message;
use sha2::{Digest, Sha256};

use crate::ids::AgencyId;
use crate::keys::SigningKey;
use crate::pb;
use crate::signing::MANIFEST_PAYLOAD_TYPE;
use crate::transparency::checkpoint::Signed;

/// The size of the pieces the manifest hashes one by one.
pub const CHUNK_BYTES: usize = 256;

/// The manifest entry of `bytes` at `path`.
pub fn digest_of(path: String, bytes: &[u8]) -> pb::ItemDigest {
    pb::ItemDigest {
        path,
        sha256: Sha256::digest(bytes).to_vec(),
        size: bytes.len() as u64,
        chunk_sha256: bytes
            .chunks(CHUNK_BYTES)
            .map(|c| Sha256::digest(c).to_vec())
            .collect(),
    }
}

/// Signs `manifest` as `signer`.
pub(crate) fn sign(
    manifest: &pb::EvidenceManifest,
    signer: &AgencyId,
    key: &SigningKey,
) -> pb::SignedEvidenceManifest {
    let signed = Signed::sign(MANIFEST_PAYLOAD_TYPE, manifest.encode_to_vec(), signer, key);
    pb::SignedEvidenceManifest {
        manifest: signed.bytes,
        signer: signed.signer.to_string(),
        key_id: signed.key_id.to_string(),
        signature: signed.signature.to_vec(),
    }
}

/// How `bytes` differ from what the manifest entry `digest` recorded:
/// `None` if they are the same, else the changed byte ranges (half-open,
/// merged, as offsets in the item up to the longer of its recorded and
/// present lengths).
pub fn changed_ranges(digest: &pb::ItemDigest, bytes: &[u8]) -> Option<Vec<(u64, u64)>> {
    if Sha256::digest(bytes).as_slice() == digest.sha256.as_slice() {
        return None;
    }
    let recorded = usize::try_from(digest.size).unwrap_or(usize::MAX);
    let len = recorded.max(bytes.len());
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for start in (0..len).step_by(CHUNK_BYTES) {
        let end = (start + CHUNK_BYTES).min(len);
        let piece = bytes.get(start..(start + CHUNK_BYTES).min(bytes.len()));
        let same = match (piece, digest.chunk_sha256.get(start / CHUNK_BYTES)) {
            (Some(piece), Some(hash)) => Sha256::digest(piece).as_slice() == hash.as_slice(),
            _ => false,
        };
        if same {
            continue;
        }
        let (start, end) = (start as u64, end as u64);
        match ranges.last_mut() {
            Some(last) if last.1 >= start => last.1 = end,
            _ => ranges.push((start, end)),
        }
    }
    Some(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_byte_is_located_to_its_piece() {
        let original: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let digest = digest_of("notices[0]".into(), &original);
        assert_eq!(changed_ranges(&digest, &original), None);
        let mut one = original.clone();
        one[600] ^= 1;
        assert_eq!(changed_ranges(&digest, &one), Some(vec![(512, 768)]));
        let mut two = original.clone();
        two[10] ^= 1;
        two[300] ^= 1;
        assert_eq!(changed_ranges(&digest, &two), Some(vec![(0, 512)]));
        let cut = &original[..700];
        assert_eq!(changed_ranges(&digest, cut), Some(vec![(512, 1000)]));
        let mut longer = original.clone();
        longer.extend_from_slice(b"more");
        assert_eq!(changed_ranges(&digest, &longer), Some(vec![(768, 1004)]));
        // Changes in pieces apart stay apart.
        let mut apart = original.clone();
        apart[10] ^= 1;
        apart[600] ^= 1;
        assert_eq!(
            changed_ranges(&digest, &apart),
            Some(vec![(0, 256), (512, 768)])
        );
    }

    #[test]
    fn the_manifest_is_signed_by_the_exporter_over_its_exact_bytes() {
        let key_id = crate::ids::KeyId::parse("IDN.KEMLU.PWNI#1").unwrap_or_else(|e| panic!("{e}"));
        let key = SigningKey::from_seed(key_id, &zeroize::Zeroizing::new([7; 32]))
            .unwrap_or_else(|e| panic!("{e}"));
        let exporter = AgencyId::parse("IDN.KEMLU.PWNI").unwrap_or_else(|e| panic!("{e}"));
        let manifest = pb::EvidenceManifest {
            case_id: "IDN-2026-0001".into(),
            exported_by: exporter.to_string(),
            exported_at: None,
            items: vec![digest_of("notices[0]".into(), b"a notice")],
        };
        let signed = sign(&manifest, &exporter, &key);
        assert_eq!(signed.manifest, manifest.encode_to_vec());
        assert_eq!(signed.signer, "IDN.KEMLU.PWNI");
        assert_eq!(signed.key_id, "IDN.KEMLU.PWNI#1");
        let message = crate::signing::pae(
            MANIFEST_PAYLOAD_TYPE,
            &signed.signer,
            &signed.key_id,
            &signed.manifest,
        );
        assert!(key.public_key().verify_strict(&message, &signed.signature));
    }
}
