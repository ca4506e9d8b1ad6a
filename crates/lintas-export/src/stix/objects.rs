//! How each part of a case becomes STIX objects (the table in
//! docs/EXPORTS.md).

use lintas_core::case::{
    FinancialIndicator, Instrument, RecruitmentChannel, ScamCompound, Suspect,
};
use lintas_core::matching::{Identifier, kind_token};
use lintas_core::place::{Handle, Location};
use lintas_core::vocab::{NameKind, SuspectRole};
use serde_json::{Map, Value, json};

use super::{Objects, Origin, stix_id};

/// Adds the objects of one case's (or alert's) parts.
pub(crate) fn add_parts(
    objects: &mut Objects,
    origin: &Origin,
    compounds: &[ScamCompound],
    suspects: &[Suspect],
    recruitment: &[RecruitmentChannel],
    financial: &[FinancialIndicator],
) {
    let scope = origin.source.key();
    let compound_id = |record: &str| stix_id("infrastructure", &format!("{scope}|{record}"));
    for compound in compounds {
        let id = compound_id(compound.compound_id.as_str());
        add_compound(objects, origin, &id, compound);
        if let Some(to) = &compound.relocated_to {
            let target = compound_id(to.as_str());
            if compounds.iter().any(|c| &c.compound_id == to) {
                objects.relate(&id, "related-to", &target, origin);
            }
        }
    }
    for suspect in suspects {
        let id = stix_id(
            "threat-actor",
            &format!("{scope}|{}", suspect.suspect_id.as_str()),
        );
        add_suspect(objects, origin, &id, suspect);
        for compound in &suspect.linked_compounds {
            if compounds.iter().any(|c| &c.compound_id == compound) {
                objects.relate(&id, "uses", &compound_id(compound.as_str()), origin);
            }
        }
        for handle in &suspect.handles {
            if let Some(indicator) = add_handle(objects, origin, handle) {
                objects.relate(&indicator, "indicates", &id, origin);
            }
        }
    }
    for channel in recruitment {
        let id = stix_id(
            "identity",
            &format!("{scope}|{}", channel.channel_id.as_str()),
        );
        add_channel(objects, origin, &id, channel);
        for handle in &channel.contact_handles {
            if let Some(indicator) = add_handle(objects, origin, handle) {
                objects.relate(&indicator, "related-to", &id, origin);
            }
        }
        if let Some(url) = &channel.advert_url {
            let pattern = format!("[url:value = {}]", literal(url));
            let indicator = add_indicator(
                objects,
                origin,
                &pattern,
                "Recruitment advert link",
                "The link of a fake job advert that lured people into scam compounds.",
            );
            objects.relate(&indicator, "related-to", &id, origin);
        }
    }
    for indicator in financial {
        add_financial(objects, origin, indicator);
    }
}

/// A STIX pattern string literal: quoted, `\` and `'` escaped.
pub(crate) fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn base(kind: &str, id: &str) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("type".into(), json!(kind));
    p.insert("id".into(), json!(id));
    p
}

fn add_compound(objects: &mut Objects, origin: &Origin, id: &str, compound: &ScamCompound) {
    let mut p = base("infrastructure", id);
    p.insert("name".into(), json!(compound.name));
    p.insert("infrastructure_types".into(), json!(["scam-compound"]));
    let mut description = format!(
        "Scam compound where people are held and forced to run online scams; status: {}.",
        compound.status.label()
    );
    if let Some(operator) = &compound.operator {
        description.push_str(&format!(" Operated by {operator}."));
    }
    p.insert("description".into(), json!(description));
    objects.add(id, p, origin, Vec::new());
    let location = add_location(objects, origin, &compound.location);
    objects.relate(id, "located-at", &location, origin);
}

/// A location object for `place`; the same place is one object.
fn add_location(objects: &mut Objects, origin: &Origin, place: &Location) -> String {
    let point = place
        .point
        .map(|p| format!("{},{}", p.latitude, p.longitude))
        .unwrap_or_default();
    let parts = [
        place.country.alpha2(),
        place.admin_area.as_deref().unwrap_or(""),
        place.locality.as_deref().unwrap_or(""),
        place.address.as_deref().unwrap_or(""),
        &point,
    ];
    let id = stix_id("location", &parts.join("|"));
    let mut p = base("location", &id);
    let mut name: Vec<&str> = Vec::new();
    name.extend(place.locality.as_deref());
    name.extend(place.admin_area.as_deref());
    name.push(place.country.name());
    p.insert("name".into(), json!(name.join(", ")));
    p.insert("country".into(), json!(place.country.alpha2()));
    p.insert("region".into(), json!(region(place.country.alpha2())));
    if let Some(area) = &place.admin_area {
        p.insert("administrative_area".into(), json!(area));
    }
    if let Some(city) = &place.locality {
        p.insert("city".into(), json!(city));
    }
    if let Some(street) = &place.address {
        p.insert("street_address".into(), json!(street));
    }
    if let Some(point) = place.point {
        p.insert("latitude".into(), json!(point.latitude));
        p.insert("longitude".into(), json!(point.longitude));
    }
    objects.add(&id, p, origin, Vec::new());
    id
}

/// The STIX `region-ov` value for a country: the ASEAN states are
/// south-eastern Asia; others are not placed in a region.
fn region(alpha2: &str) -> &'static str {
    match alpha2 {
        "BN" | "KH" | "ID" | "LA" | "MY" | "MM" | "PH" | "SG" | "TH" | "VN" | "TL" => {
            "south-eastern-asia"
        }
        "CN" | "HK" | "MO" | "TW" | "JP" | "KR" | "KP" | "MN" => "eastern-asia",
        "IN" | "BD" | "PK" | "LK" | "NP" | "BT" | "MV" | "AF" | "IR" => "southern-asia",
        _ => "unknown",
    }
}

fn add_suspect(objects: &mut Objects, origin: &Origin, id: &str, suspect: &Suspect) {
    let mut p = base("threat-actor", id);
    let names: Vec<(NameKind, &str)> = suspect
        .identity
        .iter()
        .flat_map(|i| i.names.iter().map(|n| (n.kind, n.latin.as_str())))
        .collect();
    let primary = names
        .iter()
        .find(|(kind, _)| *kind == NameKind::Primary)
        .or(names.first())
        .map(|(_, name)| (*name).to_owned());
    let name = primary
        .clone()
        .unwrap_or_else(|| format!("Suspect {} ({})", suspect.suspect_id, origin.source.key()));
    let aliases: Vec<&str> = names
        .iter()
        .map(|(_, n)| *n)
        .filter(|n| Some(*n) != primary.as_deref())
        .collect();
    p.insert("name".into(), json!(name));
    p.insert("threat_actor_types".into(), json!(["crime-syndicate"]));
    if !aliases.is_empty() {
        p.insert("aliases".into(), json!(aliases));
    }
    let mut roles: Vec<&str> = suspect.roles.iter().filter_map(|r| role(*r)).collect();
    roles.sort_unstable();
    roles.dedup();
    if !roles.is_empty() {
        p.insert("roles".into(), json!(roles));
    }
    let said: Vec<String> = suspect.roles.iter().map(|r| r.label()).collect();
    p.insert(
        "description".into(),
        json!(format!(
            "Suspected trafficker in a scam-compound case; role: {}.",
            said.join(", ")
        )),
    );
    objects.add(id, p, origin, Vec::new());
}

/// The STIX `threat-actor-role-ov` value nearest a suspect's role.
fn role(role: SuspectRole) -> Option<&'static str> {
    match role {
        SuspectRole::Recruiter | SuspectRole::Transporter | SuspectRole::Broker => Some("agent"),
        SuspectRole::Enforcer => Some("agent"),
        SuspectRole::CompoundOperator => Some("director"),
        SuspectRole::Financier => Some("sponsor"),
        SuspectRole::Other | SuspectRole::Unrecognized(_) => None,
    }
}

fn add_channel(objects: &mut Objects, origin: &Origin, id: &str, channel: &RecruitmentChannel) {
    let mut p = base("identity", id);
    let platform = channel
        .platform_name
        .clone()
        .or_else(|| channel.platform.map(|p| p.label()));
    let name = match (&channel.job_offered, &platform) {
        (Some(job), Some(platform)) => format!("Recruiter offering \"{job}\" on {platform}"),
        (Some(job), None) => format!("Recruiter offering \"{job}\""),
        (None, Some(platform)) => format!("Recruiter on {platform}"),
        (None, None) => format!("Recruitment channel {}", channel.channel_id),
    };
    p.insert("name".into(), json!(name));
    p.insert("identity_class".into(), json!("unknown"));
    let mut description = String::from("A recruitment channel luring people into scam compounds");
    if let Some(method) = channel.method {
        description.push_str(&format!(" ({})", method.label()));
    }
    description.push('.');
    if let Some(advert) = &channel.advert_text {
        description.push_str(&format!(" Advert: \"{}\"", advert.text));
    }
    p.insert("description".into(), json!(description));
    let contacts: Vec<String> = channel
        .contact_handles
        .iter()
        .map(|h| format!("{}: {}", platform_of(h), h.handle))
        .collect();
    if !contacts.is_empty() {
        p.insert("contact_information".into(), json!(contacts.join("; ")));
    }
    objects.add(id, p, origin, Vec::new());
}

fn platform_of(handle: &Handle) -> String {
    handle
        .platform_name
        .clone()
        .unwrap_or_else(|| handle.platform.label())
}

/// An indicator for a handle, by its normal form (PROTOCOL 14.9.2), so that
/// the same account written differently is one indicator; `None` for a
/// handle without one.
fn add_handle(objects: &mut Objects, origin: &Origin, handle: &Handle) -> Option<String> {
    let normal = Identifier::handle(
        handle.platform,
        handle.platform_name.as_deref(),
        &handle.handle,
    )?;
    let (platform, account) = normal.normal_form().split_once(':')?;
    let pattern = format!(
        "[user-account:account_type = {} AND user-account:account_login = {}]",
        literal(platform),
        literal(account)
    );
    let name = format!("{} account {}", platform_of(handle), handle.handle);
    Some(add_indicator(
        objects,
        origin,
        &pattern,
        &name,
        "An account traffickers used to recruit or control people held in scam compounds.",
    ))
}

fn add_financial(objects: &mut Objects, origin: &Origin, indicator: &FinancialIndicator) {
    let (identifier, what) = match &indicator.instrument {
        Instrument::BankAccount {
            country,
            account_number,
            bank_name,
            ..
        } => (
            Identifier::bank_account(*country, account_number),
            format!(
                "Bank account {account_number}{}",
                bank_name
                    .as_deref()
                    .map(|b| format!(" at {b}"))
                    .unwrap_or_default()
            ),
        ),
        Instrument::EWallet {
            provider, account, ..
        } => (
            Identifier::e_wallet(provider, account),
            format!("{provider} e-wallet {account}"),
        ),
        Instrument::CryptoWallet { address, asset, .. } => (
            Identifier::crypto_wallet(address),
            format!(
                "Crypto wallet {address}{}",
                asset
                    .as_deref()
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default()
            ),
        ),
        // An instrument a newer version defines: nothing to match it by.
        _ => return,
    };
    let Some(identifier) = identifier else {
        return;
    };
    let pattern = format!(
        "[x-lintas-identifier:kind = {} AND x-lintas-identifier:value = {}]",
        literal(kind_token(identifier.kind())),
        literal(identifier.normal_form())
    );
    let name = match indicator.usage {
        Some(usage) => format!("{what}, used for {}", usage.label()),
        None => what,
    };
    add_indicator(
        objects,
        origin,
        &pattern,
        &name,
        "An account in the money trail of a scam-compound case. The pattern's value is the \
         account's normal form (docs/PROTOCOL.md 14.9.2), which an agency can ask other \
         agencies about with FindIdentifier.",
    );
}

/// An indicator for `pattern`; one object per pattern.
fn add_indicator(
    objects: &mut Objects,
    origin: &Origin,
    pattern: &str,
    name: &str,
    description: &str,
) -> String {
    let id = stix_id("indicator", pattern);
    let mut p = base("indicator", &id);
    p.insert("name".into(), json!(name));
    p.insert("description".into(), json!(description));
    p.insert("indicator_types".into(), json!(["malicious-activity"]));
    p.insert("pattern".into(), json!(pattern));
    p.insert("pattern_type".into(), json!("stix"));
    p.insert(
        "valid_from".into(),
        json!(super::stix_time(origin.first_seen)),
    );
    objects.add(&id, p, origin, Vec::new());
    id
}
