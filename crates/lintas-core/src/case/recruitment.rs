//! Recruitment channels: how victims were lured.

use serde::{Deserialize, Serialize};

use crate::error::{At, ValidationError};
use crate::ids::RecordId;
use crate::pb;
use crate::place::{Handle, Money, check_platform_name};
use crate::text::Text;
use crate::text::{self, SHORT};
use crate::time::Timestamp;
use crate::vocab::{Platform, RecruitmentMethod};
use crate::wire;

/// The channel, advert and fake job through which victims were recruited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecruitmentChannel {
    /// Id unique within the case (or alert).
    pub channel_id: RecordId,
    /// How recruitment happened, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<RecruitmentMethod>,
    /// Platform, for online recruitment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Platform name for other platforms and job sites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_name: Option<String>,
    /// Advert text as posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advert_text: Option<Text>,
    /// Advert URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advert_url: Option<String>,
    /// The job offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_offered: Option<String>,
    /// Promised monthly salary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_monthly_salary: Option<Money>,
    /// Recruiters' contact handles.
    #[serde(default)]
    pub contact_handles: Vec<Handle>,
    /// When the channel was first seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
}

impl RecruitmentChannel {
    /// A channel known by its method only; add what is known.
    pub fn new(channel_id: RecordId, method: RecruitmentMethod) -> Self {
        RecruitmentChannel {
            channel_id,
            method: Some(method),
            platform: None,
            platform_name: None,
            advert_text: None,
            advert_url: None,
            job_offered: None,
            promised_monthly_salary: None,
            contact_handles: Vec::new(),
            first_seen: None,
        }
    }

    /// Checks the rules that relate fields to each other.
    ///
    /// # Errors
    /// A platform that needs a name without one; an advert URL that is not
    /// http(s).
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let Some(platform) = self.platform {
            check_platform_name(platform, &self.platform_name)?;
        }
        if let Some(url) = &self.advert_url {
            check_url(url).at("advert_url")?;
        }
        Ok(())
    }
}

impl TryFrom<pb::RecruitmentChannel> for RecruitmentChannel {
    type Error = ValidationError;
    fn try_from(r: pb::RecruitmentChannel) -> Result<Self, Self::Error> {
        let channel = RecruitmentChannel {
            channel_id: RecordId::from_wire(&r.channel_id).at("channel_id")?,
            method: wire::optional_enum(r.method, "method", RecruitmentMethod::from_wire)?,
            platform: wire::optional_enum(r.platform, "platform", Platform::from_wire)?,
            platform_name: text::optional(r.platform_name, SHORT).at("platform_name")?,
            advert_text: Text::optional(r.advert_text).at("advert_text")?,
            advert_url: text::optional(r.advert_url, SHORT * 8).at("advert_url")?,
            job_offered: text::optional(r.job_offered, SHORT).at("job_offered")?,
            promised_monthly_salary: wire::optional(
                r.promised_monthly_salary,
                "promised_monthly_salary",
            )?,
            contact_handles: wire::convert_list(r.contact_handles, "contact_handles")?,
            first_seen: Timestamp::optional_from_wire(r.first_seen.as_ref()).at("first_seen")?,
        };
        channel.validate()?;
        Ok(channel)
    }
}

impl From<RecruitmentChannel> for pb::RecruitmentChannel {
    fn from(r: RecruitmentChannel) -> Self {
        pb::RecruitmentChannel {
            channel_id: r.channel_id.to_string(),
            method: r.method.map(RecruitmentMethod::to_wire).unwrap_or(0),
            platform: r.platform.map(Platform::to_wire).unwrap_or(0),
            platform_name: text::or_empty(r.platform_name),
            advert_text: text::text_to_wire(r.advert_text),
            advert_url: text::or_empty(r.advert_url),
            job_offered: text::or_empty(r.job_offered),
            promised_monthly_salary: r.promised_monthly_salary.map(Into::into),
            contact_handles: wire::to_wire_list(r.contact_handles),
            first_seen: r.first_seen.map(Into::into),
        }
    }
}

/// The URL rule of docs/PROTOCOL.md section 3.1: `http://` or `https://`
/// (lower case), then at least one character, no white space; the text rules
/// (no control characters) and at most 2048 bytes apply too.
pub(crate) fn check_url(url: &str) -> Result<(), ValidationError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !url.contains(char::is_whitespace) => Ok(()),
        _ => Err(ValidationError::invalid(
            "",
            "a URL starting http:// or https:// followed by at least one character, without white space",
            url,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn url_rule_is_the_documented_one() {
        assert!(check_url("http://a").is_ok());
        assert!(check_url("https://jobs.example/offer?id=1").is_ok());
        assert!(check_url("https://").is_err());
        assert!(check_url("HTTP://a").is_err());
        assert!(check_url("ftp://a").is_err());
        assert!(check_url("https://a b").is_err());
    }
}
