//! Stores, staff, hours, exchange rates, offers and quotes.

use super::*;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreRequest {
    pub name: Option<String>,
    /// ISO 4217, e.g. `TWD`.
    pub currency: Option<String>,
    /// IANA, e.g. `Asia/Taipei`.
    pub timezone: Option<String>,
    pub emails: Option<Vec<String>>,
    /// E.164.
    pub phones: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<AddressDto>)]
    pub address: Option<Option<AddressDto>>,
    /// `active` (needs a name, an e-mail, a phone and an address) or `draft`.
    pub status: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct HoursDto {
    /// 0 = Monday … 6 = Sunday.
    pub day: u8,
    /// `HH:MM`, local time.
    pub open: String,
    pub close: String,
}

#[derive(Serialize, ToSchema)]
pub struct StaffDto {
    pub user_id: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub active_now: bool,
}

#[derive(Serialize, ToSchema)]
pub struct StoreResponse {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub timezone: String,
    /// `draft` or `active`.
    pub status: &'static str,
    pub hours: Vec<HoursDto>,
    /// Whether the store is open now, in its time zone.
    pub open_now: bool,
    /// For the supervisor only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<StoreInternals>,
}

#[derive(Serialize, ToSchema)]
pub struct StoreInternals {
    pub supervisor_id: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub address: Option<AddressDto>,
    pub staff: Vec<StaffDto>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffRequest {
    /// RFC 3339.
    pub valid_from: String,
    pub valid_until: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StaffList {
    pub items: Vec<StaffDto>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The new supervisor's user id.
    pub user_id: String,
}

/// A store offered to another supervisor, waiting for them to accept.
#[derive(Serialize, ToSchema)]
pub struct TransferResponse {
    pub store_id: String,
    pub from: String,
    pub to: String,
    pub offered_at: String,
}

/// A set of exchange rates: units of each currency per one `base`, as
/// decimal strings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatesRequest {
    pub base: String,
    pub rates: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct RatesResponse {
    /// Orders snapshot a set by this id.
    pub id: u64,
    pub base: String,
    pub rates: BTreeMap<String, String>,
    pub published_at: String,
}

impl From<actors::shared::money::RateSet> for RatesResponse {
    fn from(r: actors::shared::money::RateSet) -> Self {
        Self {
            id: r.id,
            base: r.base,
            rates: r.rates,
            published_at: rfc3339(r.at),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SurchargeDto {
    pub attribute_id: String,
    /// One of the product's values for this attribute.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    /// Decimal string in the store's currency.
    pub amount: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferRequest {
    /// Decimal string in the store's currency.
    pub price: String,
    #[serde(default)]
    pub attribute_charges: Vec<SurchargeDto>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OfferResponse {
    pub product_id: String,
    pub currency: String,
    pub price: String,
    pub attribute_charges: Vec<SurchargeDto>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
}

impl OfferResponse {
    pub fn new(o: actors::storefront::offers::Offer, currency: &str) -> Self {
        Self {
            product_id: o.product_id,
            currency: currency.to_string(),
            price: o.price,
            attribute_charges: o
                .surcharges
                .into_iter()
                .map(|c| SurchargeDto {
                    attribute_id: c.attribute_id,
                    value: c.value.to_json(),
                    amount: c.amount,
                })
                .collect(),
            valid_from: o.valid_from.map(rfc3339),
            valid_until: o.valid_until.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OfferList {
    pub items: Vec<OfferResponse>,
}

#[derive(Serialize, ToSchema)]
pub struct QuoteResponse {
    pub product_id: String,
    pub currency: String,
    pub quantity: u32,
    /// Base price plus the chosen values' charges, converted and rounded once.
    pub unit_price: String,
    /// Unit price times quantity, converted and rounded once (not the
    /// rounded unit price times quantity).
    pub line_total: String,
    /// The exchange-rate set used, when converted.
    pub fx_rates_id: Option<u64>,
}
