//! The Merkle tree of a node's transparency log, hashed as RFC 6962
//! section 2.1 prescribes (and RFC 9162 keeps): a leaf is
//! `SHA-256(0x00 || entry)`, an inner node `SHA-256(0x01 || left || right)`,
//! the empty tree `SHA-256("")`.
//!
//! Proofs are made here from the hashes of *perfect* subtrees (2^level
//! leaves starting at a multiple of 2^level), which a log stores as they
//! complete and never changes afterwards ([`Subtrees`]); every other node
//! of a tree of any past size is computed from them. Proofs are checked
//! with the `ct-merkle` crate, an implementation of the same RFC written
//! independently of this one.

use sha2::{Digest, Sha256};

/// A SHA-256 hash in the tree.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of nothing.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// The hash of a leaf holding `entry`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// The hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Where the hashes of perfect subtrees come from: `subtree(level, index)`
/// is the hash of the leaves `index·2^level .. (index+1)·2^level` (level 0:
/// the leaf hashes).
pub trait Subtrees {
    /// Why a hash could not be read.
    type Error;

    /// The hash of a perfect subtree the log holds.
    ///
    /// # Errors
    /// The log cannot read it (or does not hold it).
    fn subtree(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// Why a proof could not be made or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError<E> {
    /// The sizes or the index do not describe a proof (index past the
    /// tree, an old tree larger than the new one, an empty tree).
    #[error("no such proof: {0}")]
    OutOfRange(String),
    /// The proof has the wrong number of hashes for its sizes.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// The proof does not lead to the root (or roots) given: the entry is
    /// not in that tree, or the old tree is not a prefix of the new one.
    #[error("the proof does not verify: {0}")]
    Mismatch(String),
    /// The log could not give a subtree hash.
    #[error("log unreadable: {0}")]
    Source(E),
}

/// The largest power of two below `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The hash of the leaves `start .. start + n` (n ≥ 1), where every
/// perfect part is aligned: as the RFC's recursion only ever asks.
fn range_hash<S: Subtrees>(s: &S, start: u64, n: u64) -> Result<Hash, ProofError<S::Error>> {
    if n.is_power_of_two() && start.is_multiple_of(n) {
        let level = n.trailing_zeros() as u8;
        return s.subtree(level, start >> level).map_err(ProofError::Source);
    }
    let k = split(n);
    let left = range_hash(s, start, k)?;
    let right = range_hash(s, start + k, n - k)?;
    Ok(node_hash(&left, &right))
}

/// The root of the tree of the first `size` leaves.
///
/// # Errors
/// A subtree hash could not be read.
pub fn root<S: Subtrees>(s: &S, size: u64) -> Result<Hash, ProofError<S::Error>> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    range_hash(s, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC
/// 6962 section 2.1.1, PATH): sibling hashes from the leaf up.
///
/// # Errors
/// `index` is not below `size`, or a subtree hash could not be read.
pub fn inclusion_proof<S: Subtrees>(
    s: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if index >= size {
        return Err(ProofError::OutOfRange(format!(
            "leaf {index} in a tree of {size}"
        )));
    }
    let mut proof = Vec::new();
    path(s, index, 0, size, &mut proof)?;
    Ok(proof)
}

fn path<S: Subtrees>(
    s: &S,
    m: u64,
    start: u64,
    n: u64,
    out: &mut Vec<Hash>,
) -> Result<(), ProofError<S::Error>> {
    if n == 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(s, m, start, k, out)?;
        out.push(range_hash(s, start + k, n - k)?);
    } else {
        path(s, m - k, start + k, n - k, out)?;
        out.push(range_hash(s, start, k)?);
    }
    Ok(())
}

/// The consistency proof from the tree of `old` leaves to the tree of
/// `new` leaves (RFC 6962 section 2.1.2, PROOF); empty when the sizes are
/// equal or the old tree is empty.
///
/// # Errors
/// `old` is larger than `new`, or a subtree hash could not be read.
pub fn consistency_proof<S: Subtrees>(
    s: &S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if old > new {
        return Err(ProofError::OutOfRange(format!(
            "from a tree of {old} to a smaller one of {new}"
        )));
    }
    let mut proof = Vec::new();
    if old > 0 && old < new {
        subproof(s, old, 0, new, true, &mut proof)?;
    }
    Ok(proof)
}

fn subproof<S: Subtrees>(
    s: &S,
    m: u64,
    start: u64,
    n: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), ProofError<S::Error>> {
    if m == n {
        if !whole {
            out.push(range_hash(s, start, n)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(s, m, start, k, whole, out)?;
        out.push(range_hash(s, start + k, n - k)?);
    } else {
        subproof(s, m - k, start + k, n - k, false, out)?;
        out.push(range_hash(s, start, k)?);
    }
    Ok(())
}

/// Checks that `entry` is leaf `index` of the tree of `size` leaves whose
/// root is `root`.
///
/// # Errors
/// [`ProofError::OutOfRange`], [`ProofError::Malformed`] or
/// [`ProofError::Mismatch`].
pub fn verify_inclusion(
    entry: &[u8],
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError<std::convert::Infallible>> {
    use ct_merkle::{InclusionProof, InclusionVerifError, RootHash};
    let digests: Vec<_> = proof.iter().map(|h| (*h).into()).collect();
    let tree = RootHash::<Sha256>::new((*root).into(), size);
    tree.verify_inclusion(&entry, index, &InclusionProof::from_digests(digests.iter()))
        .map_err(|e| match e {
            InclusionVerifError::IndexOutOfRange | InclusionVerifError::TreeEmpty => {
                ProofError::OutOfRange(format!("leaf {index} in a tree of {size}"))
            }
            InclusionVerifError::MalformedProof => ProofError::Malformed(format!(
                "{} hashes for leaf {index} in a tree of {size}",
                proof.len()
            )),
            _ => ProofError::Mismatch(format!(
                "leaf {index} is not this entry in the tree of {size} with this root"
            )),
        })
}

/// Checks that the tree of `old_size` leaves with root `old_root` is a
/// prefix of the tree of `new_size` leaves with root `new_root`. From the
/// empty tree the proof is empty and anything follows; between equal sizes
/// the proof is empty and the roots must be equal.
///
/// # Errors
/// [`ProofError::OutOfRange`], [`ProofError::Malformed`] or
/// [`ProofError::Mismatch`].
pub fn verify_consistency(
    old_size: u64,
    old_root: &Hash,
    new_size: u64,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError<std::convert::Infallible>> {
    use ct_merkle::{ConsistencyProof, ConsistencyVerifError, RootHash};
    if old_size > new_size {
        return Err(ProofError::OutOfRange(format!(
            "from a tree of {old_size} to a smaller one of {new_size}"
        )));
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::Malformed(format!(
                "{} hashes where none are needed",
                proof.len()
            )));
        }
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::Mismatch(format!(
                "two different roots for the tree of {old_size}"
            )));
        }
        if old_size == 0 && *old_root != EMPTY_ROOT {
            return Err(ProofError::Mismatch(
                "an empty tree with a root that is not empty".into(),
            ));
        }
        return Ok(());
    }
    let digests: Vec<_> = proof.iter().map(|h| (*h).into()).collect();
    let old = RootHash::<Sha256>::new((*old_root).into(), old_size);
    let new = RootHash::<Sha256>::new((*new_root).into(), new_size);
    new.verify_consistency(&old, &ConsistencyProof::from_digests(digests.iter()))
        .map_err(|e| match e {
            ConsistencyVerifError::MalformedProof => ProofError::Malformed(format!(
                "{} hashes from {old_size} to {new_size}",
                proof.len()
            )),
            ConsistencyVerifError::VerificationFailure => ProofError::Mismatch(format!(
                "the tree of {old_size} is not a prefix of the tree of {new_size} with these roots"
            )),
            other => ProofError::OutOfRange(other.to_string()),
        })
}

/// A perfect subtree: (level, index).
pub type SubtreeKey = (u8, u64);

/// Perfect subtree hashes kept in memory: for tests, and for a verifier
/// that has every entry (an evidence bundle).
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` = `subtree(l, i)`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        MemoryTree::default()
    }

    /// Appends an entry; returns its leaf index.
    pub fn push(&mut self, entry: &[u8]) -> u64 {
        self.push_hash(leaf_hash(entry))
    }

    /// Appends a leaf by its hash; returns its index. Every perfect
    /// subtree the leaf completes is stored with it.
    pub fn push_hash(&mut self, leaf: Hash) -> u64 {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let index = self.levels[0].len() as u64 - 1;
        let mut level = 0;
        while self.levels[level].len().is_multiple_of(2) {
            let n = self.levels[level].len();
            let parent = node_hash(&self.levels[level][n - 2], &self.levels[level][n - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
        index
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }
}

impl Subtrees for MemoryTree {
    type Error = String;
    fn subtree(&self, level: u8, index: u64) -> Result<Hash, String> {
        self.levels
            .get(usize::from(level))
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or_else(|| format!("no subtree at level {level}, index {index}"))
    }
}

/// Which perfect subtrees appending leaf `index` completes, as (level,
/// index) pairs from level 1 up: a log stores these with the leaf.
pub fn completed_by(index: u64) -> impl Iterator<Item = (u8, u64)> {
    let levels = (index + 1).trailing_zeros() as u8;
    (1..=levels).map(move |level| (level, (index + 1) / (1u64 << level) - 1))
}

/// The perfect subtrees a log must already hold to append `count` leaves
/// after its first `base`: the left halves of the subtrees those leaves
/// complete that the leaves do not make themselves. A store reads these
/// once, then [`append_batch`] makes the rest.
pub fn needed_for_batch(base: u64, count: u64) -> Vec<SubtreeKey> {
    let end = base + count;
    let mut needed = Vec::new();
    for index in base..end {
        for (level, i) in completed_by(index) {
            let (l, left) = (level - 1, 2 * i);
            // The left child covers leaves left << l .. (left + 1) << l;
            // one that ends in the batch is made by the batch.
            if (left + 1) << l <= base {
                needed.push((l, left));
            }
        }
    }
    needed
}

/// Appends the leaves `leaves` after the first `base`: returns every
/// perfect subtree they complete, with the leaves themselves (level 0),
/// in order. `existing` gives the subtrees of [`needed_for_batch`].
///
/// # Errors
/// `existing` lacks one of them.
pub fn append_batch(
    base: u64,
    leaves: &[Hash],
    existing: &std::collections::BTreeMap<SubtreeKey, Hash>,
) -> Result<Vec<(SubtreeKey, Hash)>, SubtreeKey> {
    let mut made: std::collections::BTreeMap<SubtreeKey, Hash> = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for (k, leaf) in leaves.iter().enumerate() {
        let index = base + k as u64;
        made.insert((0, index), *leaf);
        out.push(((0, index), *leaf));
        for (level, i) in completed_by(index) {
            let get = |key: SubtreeKey| {
                made.get(&key)
                    .or_else(|| existing.get(&key))
                    .copied()
                    .ok_or(key)
            };
            let node = node_hash(&get((level - 1, 2 * i))?, &get((level - 1, 2 * i + 1))?);
            made.insert((level, i), node);
            out.push(((level, i), node));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(hex: &str) -> Hash {
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex, &mut out).unwrap_or_else(|e| panic!("{e}"));
        out
    }

    /// The entries of the Certificate Transparency test vectors.
    fn entries() -> Vec<Vec<u8>> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|e| hex::decode(e).unwrap_or_else(|e| panic!("{e}")))
        .collect()
    }

    fn tree(n: usize) -> MemoryTree {
        let mut t = MemoryTree::new();
        for e in entries().iter().take(n) {
            t.push(e);
        }
        t
    }

    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn roots_match_the_rfc_6962_vectors_at_every_size() {
        let t = tree(8);
        for (size, expected) in ROOTS.iter().enumerate() {
            assert_eq!(root(&t, size as u64), Ok(h(expected)), "size {size}");
        }
        assert_eq!(EMPTY_ROOT, h(ROOTS[0]));
    }

    #[test]
    fn inclusion_proofs_match_the_vectors_and_verify() {
        // (leaf index, tree size, proof)
        let vectors: [(u64, u64, &[&str]); 4] = [
            (
                0,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                &[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        let t = tree(8);
        let e = entries();
        for (index, size, expected) in vectors {
            let proof = inclusion_proof(&t, index, size).unwrap_or_else(|e| panic!("{e}"));
            let expected: Vec<Hash> = expected.iter().map(|x| h(x)).collect();
            assert_eq!(proof, expected, "leaf {index} of {size}");
            let r = h(ROOTS[size as usize]);
            verify_inclusion(&e[index as usize], index, size, &proof, &r)
                .unwrap_or_else(|e| panic!("leaf {index} of {size}: {e}"));
            // Another entry, another index or another root: refused.
            assert!(verify_inclusion(b"other", index, size, &proof, &r).is_err());
            assert!(
                verify_inclusion(&e[index as usize], index, size, &proof, &h(ROOTS[1])).is_err()
            );
        }
    }

    #[test]
    fn consistency_proofs_match_the_vectors_and_verify() {
        let vectors: [(u64, u64, &[&str]); 4] = [
            (1, 1, &[]),
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        let t = tree(8);
        for (old, new, expected) in vectors {
            let proof = consistency_proof(&t, old, new).unwrap_or_else(|e| panic!("{e}"));
            let expected: Vec<Hash> = expected.iter().map(|x| h(x)).collect();
            assert_eq!(proof, expected, "{old} to {new}");
            let (r1, r2) = (h(ROOTS[old as usize]), h(ROOTS[new as usize]));
            verify_consistency(old, &r1, new, &r2, &proof)
                .unwrap_or_else(|e| panic!("{old} to {new}: {e}"));
            if old < new {
                // A forked history: the same sizes with another old root.
                assert!(matches!(
                    verify_consistency(old, &h(ROOTS[0]), new, &r2, &proof),
                    Err(ProofError::Mismatch(_))
                ));
            }
        }
    }

    #[test]
    fn every_proof_of_every_size_up_to_70_verifies() {
        let mut t = MemoryTree::new();
        let entries: Vec<Vec<u8>> = (0u16..70).map(|i| i.to_be_bytes().to_vec()).collect();
        let mut roots = vec![EMPTY_ROOT];
        for e in &entries {
            t.push(e);
            roots.push(root(&t, t.size()).unwrap_or_else(|e| panic!("{e}")));
        }
        for size in 1..=70u64 {
            // A past size's root, computed from today's tree, is the root
            // it had then.
            assert_eq!(root(&t, size), Ok(roots[size as usize]));
            for index in 0..size {
                let proof = inclusion_proof(&t, index, size).unwrap_or_else(|e| panic!("{e}"));
                verify_inclusion(
                    &entries[index as usize],
                    index,
                    size,
                    &proof,
                    &roots[size as usize],
                )
                .unwrap_or_else(|e| panic!("leaf {index} of {size}: {e}"));
            }
            for old in 0..=size {
                let proof = consistency_proof(&t, old, size).unwrap_or_else(|e| panic!("{e}"));
                verify_consistency(
                    old,
                    &roots[old as usize],
                    size,
                    &roots[size as usize],
                    &proof,
                )
                .unwrap_or_else(|e| panic!("{old} to {size}: {e}"));
            }
        }
    }

    #[test]
    fn completed_subtrees_are_the_ones_a_store_keeps() {
        assert_eq!(completed_by(0).collect::<Vec<_>>(), vec![]);
        assert_eq!(completed_by(1).collect::<Vec<_>>(), vec![(1, 0)]);
        assert_eq!(completed_by(3).collect::<Vec<_>>(), vec![(1, 1), (2, 0)]);
        assert_eq!(
            completed_by(7).collect::<Vec<_>>(),
            vec![(1, 3), (2, 1), (3, 0)]
        );
        assert_eq!(completed_by(5).collect::<Vec<_>>(), vec![(1, 2)]);
    }

    #[test]
    fn a_batch_appended_from_what_the_log_holds_is_the_same_tree() {
        for base in 0..20u64 {
            for count in 1..20u64 {
                let mut whole = MemoryTree::new();
                for i in 0..base + count {
                    whole.push(&i.to_be_bytes());
                }
                let needed = needed_for_batch(base, count);
                // Only subtrees the log held before the batch.
                for (level, i) in &needed {
                    assert!((i + 1) << level <= base, "{base}+{count}: {level}/{i}");
                }
                let existing = needed
                    .into_iter()
                    .map(|key| Ok((key, whole.subtree(key.0, key.1)?)))
                    .collect::<Result<std::collections::BTreeMap<_, _>, String>>()
                    .unwrap_or_else(|e| panic!("{e}"));
                let leaves: Vec<Hash> = (base..base + count)
                    .map(|i| leaf_hash(&i.to_be_bytes()))
                    .collect();
                let made =
                    append_batch(base, &leaves, &existing).unwrap_or_else(|k| panic!("{k:?}"));
                for ((level, i), hash) in made {
                    assert_eq!(
                        whole.subtree(level, i),
                        Ok(hash),
                        "{base}+{count}: {level}/{i}"
                    );
                }
            }
        }
    }

    #[test]
    fn impossible_requests_are_errors_not_panics() {
        let t = tree(3);
        assert!(matches!(
            inclusion_proof(&t, 3, 3),
            Err(ProofError::OutOfRange(_))
        ));
        assert!(matches!(
            consistency_proof(&t, 4, 3),
            Err(ProofError::OutOfRange(_))
        ));
        // Asking past what the log holds is the log's error.
        assert!(matches!(
            inclusion_proof(&t, 0, 9),
            Err(ProofError::Source(_))
        ));
        let r = h(ROOTS[3]);
        assert!(matches!(
            verify_inclusion(b"", 5, 3, &[], &r),
            Err(ProofError::OutOfRange(_))
        ));
        assert!(matches!(
            verify_inclusion(b"", 0, 3, &[], &r),
            Err(ProofError::Malformed(_))
        ));
        assert!(matches!(
            verify_consistency(3, &r, 2, &r, &[]),
            Err(ProofError::OutOfRange(_))
        ));
        assert!(matches!(
            verify_consistency(2, &r, 3, &r, &[]),
            Err(ProofError::Malformed(_))
        ));
    }
}
