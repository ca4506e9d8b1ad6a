//! The roster a party trusts now, how it moves forward, and verifying
//! notices against it.

use super::{AgencyKey, Roster, RosterAgency, SignedRoster};
use crate::error::ValidationError;
use crate::ids::{AgencyId, KeyId, NoticeId};
use crate::keys::PublicKey;
use crate::notice::NoticeBody;
use crate::receipt::{Receipt, SignedReceipt};
use crate::signing::{BodyError, SignedNotice};
use crate::time::Timestamp;
use crate::vocab::NoticeKind;

/// How far ahead of the verifier's clock a notice's creation time may be.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

/// Why a roster version was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RosterError {
    /// The roster bytes or signature list are malformed or break a rule.
    #[error("invalid roster: {0}")]
    Invalid(#[source] ValidationError),
    /// Too few distinct steward keys signed.
    #[error("roster version {version} has {valid} valid signatures from {whose}, {needed} needed")]
    ThresholdNotMet {
        /// The version being checked.
        version: u64,
        /// Whose stewards were counted: "its own" or "version N".
        whose: String,
        /// Distinct valid signatures found.
        valid: usize,
        /// Threshold.
        needed: u32,
    },
    /// The offered version is not newer than the trusted one.
    #[error("roster version {offered} refused: version {trusted} is already trusted (rollback)")]
    Rollback {
        /// Trusted version.
        trusted: u64,
        /// Offered version.
        offered: u64,
    },
    /// The offered version skips versions.
    #[error("roster version {offered} refused: versions move one at a time, next is {expected}")]
    VersionGap {
        /// The only acceptable next version.
        expected: u64,
        /// Offered version.
        offered: u64,
    },
    /// The offered version was issued before the trusted one.
    #[error("roster version {offered} was issued before the trusted version")]
    IssuedBeforeTrusted {
        /// Offered version.
        offered: u64,
    },
    /// The roster's validity has ended.
    #[error("roster version {version} expired at {expires_at}")]
    Expired {
        /// The version.
        version: u64,
        /// When it expired.
        expires_at: Timestamp,
    },
}

/// Why a notice was refused. Each variant is a distinct reason a receiving
/// node reports back to the sender (and maps to a distinct status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The trusted roster has expired: nothing verifies until a newer one
    /// is installed.
    #[error("the trusted roster (version {version}) expired at {expires_at}")]
    RosterExpired {
        /// Version.
        version: u64,
        /// Expiry.
        expires_at: Timestamp,
    },
    /// The signer is not in the roster.
    #[error("sender {0} is not in the roster")]
    UnknownSender(AgencyId),
    /// The key id is not one of the signer's keys.
    #[error("key {key_id} is not a key of {agency}")]
    UnknownKey {
        /// The signer.
        agency: AgencyId,
        /// The key id.
        key_id: KeyId,
    },
    /// The key has been revoked.
    #[error("key {key_id} was revoked at {revoked_at}: {reason}")]
    KeyRevoked {
        /// The key id.
        key_id: KeyId,
        /// When.
        revoked_at: Timestamp,
        /// Why.
        reason: String,
    },
    /// The signature does not verify over the exact bytes.
    #[error("signature by {key_id} does not verify")]
    BadSignature {
        /// The key id.
        key_id: KeyId,
    },
    /// The body's notice id is not the hash of its content.
    #[error("notice id {claimed} does not match the content, whose id is {computed}")]
    IdMismatch {
        /// Claimed id.
        claimed: NoticeId,
        /// Content's id.
        computed: NoticeId,
    },
    /// The signed body is not a valid notice.
    #[error("invalid notice: {0}")]
    InvalidBody(#[source] ValidationError),
    /// The envelope's signer is not the body's sender.
    #[error("signed by {signer} but the notice says its sender is {sender}")]
    SignerNotSender {
        /// Envelope signer.
        signer: AgencyId,
        /// Body sender.
        sender: AgencyId,
    },
    /// The key was not valid when the notice was created.
    #[error(
        "key {key_id} is valid from {valid_from} until {valid_until}, notice created at {created_at}"
    )]
    KeyNotValidAtCreation {
        /// Key id.
        key_id: KeyId,
        /// Key validity start.
        valid_from: Timestamp,
        /// Key validity end.
        valid_until: Timestamp,
        /// Notice creation time.
        created_at: Timestamp,
    },
    /// The sender may not issue this kind of notice.
    #[error("{sender} may not issue {} notices", kind.wire_name())]
    KindNotPermitted {
        /// Sender.
        sender: AgencyId,
        /// Kind.
        kind: NoticeKind,
    },
    /// A recipient is not in the roster.
    #[error("recipient {0} is not in the roster")]
    UnknownRecipient(AgencyId),
    /// A notice of a kind this version does not define, from a newer peer.
    #[error(
        "notice of a kind this node does not implement (NoticeBody field {0}); the sender must not retry it until this node is upgraded"
    )]
    UnsupportedKind(u32),
    /// A mutual legal assistance request not between central authorities.
    #[error(
        "{0} is not a central authority (AGENCY_KIND_CENTRAL_AUTHORITY): mutual legal assistance requests go between central authorities"
    )]
    NotCentralAuthority(AgencyId),
    /// The notice has expired.
    #[error("notice expired at {expires_at}")]
    Expired {
        /// Expiry.
        expires_at: Timestamp,
    },
    /// The notice was created later than the verifier's clock allows.
    #[error(
        "notice created at {created_at}, more than {MAX_CLOCK_SKEW_SECONDS}s ahead of now ({now})"
    )]
    CreatedInFuture {
        /// Creation time.
        created_at: Timestamp,
        /// Verifier's time.
        now: Timestamp,
    },
}

impl RosterError {
    /// The protocol's stable name for this refusal (docs/PROTOCOL.md 6.3
    /// and 9.8).
    pub fn reason(&self) -> &'static str {
        match self {
            RosterError::Invalid(_) => "roster_invalid",
            RosterError::ThresholdNotMet { .. } => "roster_threshold_not_met",
            RosterError::Rollback { .. } => "roster_rollback",
            RosterError::VersionGap { .. } => "roster_version_gap",
            RosterError::IssuedBeforeTrusted { .. } => "roster_issued_before_trusted",
            RosterError::Expired { .. } => "roster_expired",
        }
    }
}

impl VerifyError {
    /// The protocol's stable name for this refusal (docs/PROTOCOL.md 5.4
    /// and 9.8; the `reason` of the rejected test vectors).
    pub fn reason(&self) -> &'static str {
        match self {
            VerifyError::RosterExpired { .. } => "roster_expired",
            VerifyError::UnknownSender(_) => "unknown_sender",
            VerifyError::UnknownKey { .. } => "unknown_key",
            VerifyError::KeyRevoked { .. } => "key_revoked",
            VerifyError::BadSignature { .. } => "bad_signature",
            VerifyError::IdMismatch { .. } => "id_mismatch",
            VerifyError::InvalidBody(_) => "invalid_body",
            VerifyError::SignerNotSender { .. } => "signer_not_sender",
            VerifyError::KeyNotValidAtCreation { .. } => "key_not_valid_at_creation",
            VerifyError::KindNotPermitted { .. } => "kind_not_permitted",
            VerifyError::UnknownRecipient(_) => "unknown_recipient",
            VerifyError::NotCentralAuthority(_) => "not_central_authority",
            VerifyError::UnsupportedKind(_) => "unsupported_kind",
            VerifyError::Expired { .. } => "expired",
            VerifyError::CreatedInFuture { .. } => "created_in_future",
        }
    }
}

/// A notice that passed every check against a trusted roster.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VerifiedNotice {
    /// The content-derived id.
    pub id: NoticeId,
    /// The validated body.
    pub body: NoticeBody,
    /// The envelope as received, for storing and forwarding unchanged.
    pub envelope: SignedNotice,
    /// The roster version it was verified against.
    pub roster_version: u64,
}

impl serde::Serialize for VerifiedNotice {
    /// Exports what was verified: id, signer, key, roster version and the
    /// body (the signature bytes stay in the envelope).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("VerifiedNotice", 5)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("signer", self.envelope.signer())?;
        out.serialize_field("key_id", self.envelope.key_id())?;
        out.serialize_field("roster_version", &self.roster_version)?;
        out.serialize_field("body", &self.body)?;
        out.end()
    }
}

/// The roster version a party trusts now. It only moves forward.
#[derive(Debug, Clone)]
pub struct TrustedRoster {
    roster: Roster,
    signed: SignedRoster,
}

impl TrustedRoster {
    /// Starts trusting a roster obtained through a trusted channel (the
    /// first version, or the latest version this party stored itself). It
    /// must carry a threshold of its own stewards' signatures and not be
    /// expired.
    ///
    /// # Errors
    /// Invalid roster, threshold not met, or expired.
    pub fn bootstrap(signed: SignedRoster, now: Timestamp) -> Result<Self, RosterError> {
        let roster = signed.roster().map_err(RosterError::Invalid)?;
        check_threshold(&signed, &roster, &roster, "its own stewards")?;
        check_not_expired(&roster, now)?;
        Ok(TrustedRoster { roster, signed })
    }

    /// Moves to the next version: exactly one more than the trusted one,
    /// issued no earlier, signed by a threshold of the trusted version's
    /// stewards and by a threshold of its own, and not expired.
    ///
    /// # Errors
    /// Rollback, version gap, threshold not met, expired, invalid. The
    /// trusted roster is unchanged on error.
    pub fn update(&mut self, next: SignedRoster, now: Timestamp) -> Result<(), RosterError> {
        let roster = next.roster().map_err(RosterError::Invalid)?;
        let trusted = self.roster.version;
        if roster.version <= trusted {
            return Err(RosterError::Rollback {
                trusted,
                offered: roster.version,
            });
        }
        if roster.version != trusted + 1 {
            return Err(RosterError::VersionGap {
                expected: trusted + 1,
                offered: roster.version,
            });
        }
        if roster.issued_at < self.roster.issued_at {
            return Err(RosterError::IssuedBeforeTrusted {
                offered: roster.version,
            });
        }
        check_threshold(&next, &roster, &self.roster, &format!("version {trusted}"))?;
        check_threshold(&next, &roster, &roster, "its own stewards")?;
        check_not_expired(&roster, now)?;
        self.roster = roster;
        self.signed = next;
        Ok(())
    }

    /// The trusted roster.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The trusted roster as signed, for storing and passing on.
    pub fn signed(&self) -> &SignedRoster {
        &self.signed
    }

    /// Verifies a signed notice: sender and key in the roster, key not
    /// revoked and valid when the notice was created, signature over the
    /// exact bytes, id matches content, body valid, signer is the sender,
    /// sender allowed to issue the kind, recipients known, not expired and
    /// not from the future.
    ///
    /// # Errors
    /// The first check that fails, as a [`VerifyError`].
    pub fn verify_notice(
        &self,
        notice: &SignedNotice,
        now: Timestamp,
    ) -> Result<VerifiedNotice, VerifyError> {
        self.verify_notices(std::slice::from_ref(notice), now)
            .pop()
            .unwrap_or_else(|| {
                Err(VerifyError::BadSignature {
                    key_id: notice.key_id().clone(),
                })
            })
    }

    /// Checks a notice this party has just signed with `key` itself, as a
    /// recipient would check it, except for the signature (made a moment
    /// ago by `key`, so checking it again would only cost time): sender and
    /// key in the roster and matching `key`, key not revoked and valid at
    /// creation, id, body, kind permitted, recipients known, not expired,
    /// not from the future.
    ///
    /// # Errors
    /// The first check that fails, as [`TrustedRoster::verify_notice`]
    /// would report it.
    pub fn check_own_notice(
        &self,
        notice: &SignedNotice,
        key: &crate::keys::SigningKey,
        now: Timestamp,
    ) -> Result<VerifiedNotice, VerifyError> {
        self.check_current(now)?;
        let (agency, roster_key) = self.signing_key(notice.signer(), notice.key_id())?;
        if roster_key.public_key != key.public_key() || notice.key_id() != key.key_id() {
            return Err(VerifyError::BadSignature {
                key_id: notice.key_id().clone(),
            });
        }
        self.check_notice(notice, agency, roster_key, now)
    }

    /// Verifies many notices at once, with the same answer for each as
    /// [`TrustedRoster::verify_notice`]: the signatures are checked with
    /// batch verification, falling back to one by one when the batch
    /// fails, so a bad notice refuses only itself.
    pub fn verify_notices(
        &self,
        notices: &[SignedNotice],
        now: Timestamp,
    ) -> Vec<Result<VerifiedNotice, VerifyError>> {
        if let Err(e) = self.check_current(now) {
            return notices.iter().map(|_| Err(e.clone())).collect();
        }
        let messages: Vec<Vec<u8>> = notices.iter().map(SignedNotice::signed_message).collect();
        let signed = self.authenticate_many(
            notices
                .iter()
                .zip(&messages)
                .map(|(n, m)| (n.signer(), n.key_id(), m.as_slice(), n.signature())),
        );
        notices
            .iter()
            .zip(signed)
            .map(|(notice, authenticated)| {
                let (agency, key) = authenticated?;
                self.check_notice(notice, agency, key, now)
            })
            .collect()
    }

    /// Everything about a notice after its signature checked out.
    fn check_notice(
        &self,
        notice: &SignedNotice,
        agency: &RosterAgency,
        key: &AgencyKey,
        now: Timestamp,
    ) -> Result<VerifiedNotice, VerifyError> {
        let roster = &self.roster;
        // Only now, with the bytes authenticated, are they decoded.
        let (id, body) = notice.open_body().map_err(|e| match e {
            BodyError::IdMismatch { claimed, computed } => {
                VerifyError::IdMismatch { claimed, computed }
            }
            BodyError::Invalid(v) => VerifyError::InvalidBody(v),
            BodyError::UnsupportedKind(field) => VerifyError::UnsupportedKind(field),
        })?;
        if &body.sender != notice.signer() {
            return Err(VerifyError::SignerNotSender {
                signer: notice.signer().clone(),
                sender: body.sender.clone(),
            });
        }
        key_valid_at(key, body.created_at)?;
        if !agency.may_issue.contains(&body.kind()) {
            return Err(VerifyError::KindNotPermitted {
                sender: body.sender.clone(),
                kind: body.kind(),
            });
        }
        if let Some(unknown) = body.recipients.iter().find(|r| roster.agency(r).is_none()) {
            return Err(VerifyError::UnknownRecipient(unknown.clone()));
        }
        if body.kind() == NoticeKind::AssistanceRequest {
            let central = |a: &AgencyId| {
                roster
                    .agency(a)
                    .is_some_and(|e| e.kind == crate::vocab::AgencyKind::CentralAuthority)
            };
            if let Some(other) = std::iter::once(&body.sender)
                .chain(&body.recipients)
                .find(|a| !central(a))
            {
                return Err(VerifyError::NotCentralAuthority(other.clone()));
            }
        }
        if now >= body.expires_at {
            return Err(VerifyError::Expired {
                expires_at: body.expires_at,
            });
        }
        if body.created_at > now.plus_seconds(MAX_CLOCK_SKEW_SECONDS) {
            return Err(VerifyError::CreatedInFuture {
                created_at: body.created_at,
                now,
            });
        }
        Ok(VerifiedNotice {
            id,
            body,
            envelope: notice.clone(),
            roster_version: roster.version,
        })
    }
}

impl TrustedRoster {
    /// The roster agency and key that `signer` and `key_id` name, if the
    /// key is not revoked.
    fn signing_key(
        &self,
        signer: &AgencyId,
        key_id: &KeyId,
    ) -> Result<(&RosterAgency, &AgencyKey), VerifyError> {
        let agency = self
            .roster
            .agency(signer)
            .ok_or_else(|| VerifyError::UnknownSender(signer.clone()))?;
        let key = agency.key(key_id).ok_or_else(|| VerifyError::UnknownKey {
            agency: agency.agency_id.clone(),
            key_id: key_id.clone(),
        })?;
        if let Some(revocation) = &key.revocation {
            return Err(VerifyError::KeyRevoked {
                key_id: key.key_id.clone(),
                revoked_at: revocation.revoked_at,
                reason: revocation.reason.clone(),
            });
        }
        Ok((agency, key))
    }

    /// For each (signer, key id, message, signature): the signer and key in
    /// the roster, not revoked, and the signature strictly valid over the
    /// message. Signatures are checked together (see
    /// [`PublicKey::verify_strict_many`]).
    fn authenticate_many<'m>(
        &self,
        items: impl Iterator<Item = (&'m AgencyId, &'m KeyId, &'m [u8], &'m [u8; 64])>,
    ) -> Vec<Result<(&RosterAgency, &AgencyKey), VerifyError>> {
        let items: Vec<_> = items.collect();
        let mut found: Vec<Result<(&RosterAgency, &AgencyKey), VerifyError>> = items
            .iter()
            .map(|(signer, key_id, _, _)| self.signing_key(signer, key_id))
            .collect();
        let checked: Vec<usize> = (0..items.len()).filter(|&i| found[i].is_ok()).collect();
        let batch: Vec<(&PublicKey, &[u8], &[u8; 64])> = checked
            .iter()
            .filter_map(|&i| {
                let (_, key) = found[i].as_ref().ok()?;
                Some((&key.public_key, items[i].2, items[i].3))
            })
            .collect();
        let valid = PublicKey::verify_strict_many(&batch);
        for (&i, ok) in checked.iter().zip(valid) {
            if !ok && let Ok((_, key)) = &found[i] {
                found[i] = Err(VerifyError::BadSignature {
                    key_id: key.key_id.clone(),
                });
            }
        }
        found
    }

    /// Verifies a signed receipt: signer and key in the roster, key not
    /// revoked and valid at the receipt's time, strict signature over the
    /// exact bytes, receipt valid, its receiver the signer, not from the
    /// future.
    ///
    /// # Errors
    /// The first check that fails.
    pub fn verify_receipt(
        &self,
        signed: &SignedReceipt,
        now: Timestamp,
    ) -> Result<Receipt, VerifyError> {
        self.verify_receipts(std::slice::from_ref(signed), now)
            .pop()
            .unwrap_or_else(|| {
                Err(VerifyError::BadSignature {
                    key_id: signed.key_id().clone(),
                })
            })
    }

    /// Verifies many receipts at once, with the same answer for each as
    /// [`TrustedRoster::verify_receipt`] (signatures batch-checked).
    pub fn verify_receipts(
        &self,
        receipts: &[SignedReceipt],
        now: Timestamp,
    ) -> Vec<Result<Receipt, VerifyError>> {
        if let Err(e) = self.check_current(now) {
            return receipts.iter().map(|_| Err(e.clone())).collect();
        }
        let messages: Vec<Vec<u8>> = receipts.iter().map(SignedReceipt::signed_message).collect();
        let signed = self.authenticate_many(
            receipts
                .iter()
                .zip(&messages)
                .map(|(r, m)| (r.signer(), r.key_id(), m.as_slice(), r.signature())),
        );
        receipts
            .iter()
            .zip(signed)
            .map(|(signed, authenticated)| {
                let (_, key) = authenticated?;
                let receipt = signed
                    .receipt_unverified()
                    .map_err(VerifyError::InvalidBody)?;
                if &receipt.receiver != signed.signer() {
                    return Err(VerifyError::SignerNotSender {
                        signer: signed.signer().clone(),
                        sender: receipt.receiver.clone(),
                    });
                }
                key_valid_at(key, receipt.at)?;
                if receipt.at > now.plus_seconds(MAX_CLOCK_SKEW_SECONDS) {
                    return Err(VerifyError::CreatedInFuture {
                        created_at: receipt.at,
                        now,
                    });
                }
                Ok(receipt)
            })
            .collect()
    }
}

impl TrustedRoster {
    /// Verifies a signature an agency made over `message` at time `at`
    /// with its key `key_id`: the roster current at `now`, signer and key
    /// in it, key not revoked and valid at `at`, strict signature, `at` not
    /// from the future. For the statements other than notices and receipts
    /// (log checkpoints and cosignatures).
    ///
    /// # Errors
    /// The first check that fails.
    pub fn verify_statement(
        &self,
        signer: &AgencyId,
        key_id: &KeyId,
        message: &[u8],
        signature: &[u8; 64],
        at: Timestamp,
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        self.check_current(now)?;
        let (_, key) = self
            .authenticate_many(std::iter::once((signer, key_id, message, signature)))
            .pop()
            .unwrap_or_else(|| {
                Err(VerifyError::BadSignature {
                    key_id: key_id.clone(),
                })
            })?;
        key_valid_at(key, at)?;
        if at > now.plus_seconds(MAX_CLOCK_SKEW_SECONDS) {
            return Err(VerifyError::CreatedInFuture {
                created_at: at,
                now,
            });
        }
        Ok(())
    }

    /// Refuses all verification once the trusted roster has expired.
    fn check_current(&self, now: Timestamp) -> Result<(), VerifyError> {
        if now >= self.roster.expires_at {
            return Err(VerifyError::RosterExpired {
                version: self.roster.version,
                expires_at: self.roster.expires_at,
            });
        }
        Ok(())
    }
}

/// Refuses a signature by a key outside its validity window at `at`.
fn key_valid_at(key: &AgencyKey, at: Timestamp) -> Result<(), VerifyError> {
    if key.valid_at(at) {
        return Ok(());
    }
    Err(VerifyError::KeyNotValidAtCreation {
        key_id: key.key_id.clone(),
        valid_from: key.valid_from,
        valid_until: key.valid_until,
        created_at: at,
    })
}

fn check_threshold(
    signed: &SignedRoster,
    roster: &Roster,
    counted_by: &Roster,
    whose: &str,
) -> Result<(), RosterError> {
    let valid = signed.valid_signers(&counted_by.stewards).len();
    if valid < counted_by.threshold as usize {
        return Err(RosterError::ThresholdNotMet {
            version: roster.version,
            whose: whose.to_owned(),
            valid,
            needed: counted_by.threshold,
        });
    }
    Ok(())
}

fn check_not_expired(roster: &Roster, now: Timestamp) -> Result<(), RosterError> {
    if now >= roster.expires_at {
        return Err(RosterError::Expired {
            version: roster.version,
            expires_at: roster.expires_at,
        });
    }
    Ok(())
}
