//! Financial indicators: bank accounts, e-wallets and crypto wallets.

use serde::{Deserialize, Serialize};

use crate::error::{At, ValidationError};
use crate::ids::{Country, RecordId};
use crate::pb;
use crate::pb::financial_indicator::Instrument as PbInstrument;
use crate::text::{self, SHORT};
use crate::vocab::{Chain, FinancialUse};
use crate::wire;

/// A money trail recipients may act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FinancialIndicator {
    /// Id unique within the case (or alert).
    pub indicator_id: RecordId,
    /// What the account was used for.
    #[serde(rename = "use")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<FinancialUse>,
    /// The account.
    pub instrument: Instrument,
}

impl FinancialIndicator {
    /// An indicator.
    pub fn new(indicator_id: RecordId, usage: FinancialUse, instrument: Instrument) -> Self {
        FinancialIndicator {
            indicator_id,
            usage: Some(usage),
            instrument,
        }
    }
}

/// The kind of account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum Instrument {
    /// A bank account.
    BankAccount {
        /// Bank's country.
        country: Country,
        /// Bank's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bank_name: Option<String>,
        /// Account number.
        account_number: String,
        /// Account holder's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        holder_name: Option<String>,
        /// SWIFT/BIC.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bic: Option<String>,
    },
    /// An e-wallet or payment-app account.
    EWallet {
        /// Provider, e.g. "GCash".
        provider: String,
        /// Account in the provider.
        account: String,
        /// Country.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        country: Option<Country>,
    },
    /// A crypto-asset wallet.
    CryptoWallet {
        /// Chain.
        chain: Chain,
        /// Chain name for other chains.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chain_name: Option<String>,
        /// Address.
        address: String,
        /// Asset ticker, e.g. "USDT".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        asset: Option<String>,
    },
}

impl TryFrom<pb::FinancialIndicator> for FinancialIndicator {
    type Error = ValidationError;
    fn try_from(f: pb::FinancialIndicator) -> Result<Self, Self::Error> {
        let indicator_id = RecordId::from_wire(&f.indicator_id).at("indicator_id")?;
        let usage = wire::optional_enum(f.r#use, "use", FinancialUse::from_wire)?;
        let instrument = match f.instrument {
            None => return Err(ValidationError::missing("instrument")),
            Some(PbInstrument::BankAccount(b)) => bank(b).at("bank_account")?,
            Some(PbInstrument::EWallet(w)) => Instrument::EWallet {
                provider: text::required(w.provider, SHORT).at("provider")?,
                account: text::required(w.account, SHORT).at("account")?,
                country: Country::optional_from_wire(&w.country).at("country")?,
            }
            .checked()
            .at("e_wallet")?,
            Some(PbInstrument::CryptoWallet(c)) => crypto(c).at("crypto_wallet")?,
        };
        Ok(FinancialIndicator {
            indicator_id,
            usage,
            instrument,
        })
    }
}

fn bank(b: pb::BankAccount) -> Result<Instrument, ValidationError> {
    let bic = text::optional(b.bic, SHORT).at("bic")?;
    if let Some(code) = &bic {
        // ISO 9362: 8 or 11 characters, letters and digits.
        let ok = (code.len() == 8 || code.len() == 11)
            && code
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !ok {
            return Err(ValidationError::invalid(
                "bic",
                "a SWIFT/BIC code of 8 or 11 upper-case letters and digits",
                code,
            ));
        }
    }
    Ok(Instrument::BankAccount {
        country: Country::from_wire(&b.country).at("country")?,
        bank_name: text::optional(b.bank_name, SHORT).at("bank_name")?,
        account_number: text::required(b.account_number, SHORT).at("account_number")?,
        holder_name: text::optional(b.holder_name, SHORT).at("holder_name")?,
        bic,
    })
}

fn crypto(c: pb::CryptoWallet) -> Result<Instrument, ValidationError> {
    let wallet = Instrument::CryptoWallet {
        chain: Chain::from_wire(c.chain).at("chain")?,
        chain_name: text::optional(c.chain_name, SHORT).at("chain_name")?,
        address: text::required(c.address, SHORT).at("address")?,
        asset: text::optional(c.asset, SHORT).at("asset")?,
    };
    wallet.checked()
}

impl Instrument {
    /// Checks the rules that relate fields to each other.
    fn checked(self) -> Result<Self, ValidationError> {
        if let Instrument::CryptoWallet {
            chain,
            chain_name,
            address,
            ..
        } = &self
        {
            if address.contains(char::is_whitespace) {
                return Err(ValidationError::invalid(
                    "address",
                    "a wallet address without white space",
                    address,
                ));
            }
            if *chain == Chain::Other && chain_name.is_none() {
                return Err(ValidationError::rule(
                    "chain_name",
                    "required when chain is CHAIN_OTHER",
                ));
            }
        }
        Ok(self)
    }
}

impl From<FinancialIndicator> for pb::FinancialIndicator {
    fn from(f: FinancialIndicator) -> Self {
        let instrument = match f.instrument {
            Instrument::BankAccount {
                country,
                bank_name,
                account_number,
                holder_name,
                bic,
            } => PbInstrument::BankAccount(pb::BankAccount {
                country: country.to_string(),
                bank_name: text::or_empty(bank_name),
                account_number,
                holder_name: text::or_empty(holder_name),
                bic: text::or_empty(bic),
            }),
            Instrument::EWallet {
                provider,
                account,
                country,
            } => PbInstrument::EWallet(pb::EWallet {
                provider,
                account,
                country: country.map(|c| c.to_string()).unwrap_or_default(),
            }),
            Instrument::CryptoWallet {
                chain,
                chain_name,
                address,
                asset,
            } => PbInstrument::CryptoWallet(pb::CryptoWallet {
                chain: chain.to_wire(),
                chain_name: text::or_empty(chain_name),
                address,
                asset: text::or_empty(asset),
            }),
        };
        pb::FinancialIndicator {
            indicator_id: f.indicator_id.to_string(),
            r#use: f.usage.map(FinancialUse::to_wire).unwrap_or(0),
            instrument: Some(instrument),
        }
    }
}
