//! The JSON shapes of the API. Requests reject unknown fields so that a typo
//! in a field name is an error rather than a silent no-op.

use actors::identity::model::Address;
use actors::identity::{Profile, RoleView, TokenPair};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// RFC 3339 UTC, e.g. `2026-11-24T23:39:28.123Z`.
pub fn rfc3339(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3–32 of `[a-z0-9_.-]`, case-insensitive.
    pub username: String,
    pub email: String,
    /// 12–128 characters, not common, not containing the username.
    pub password: String,
    pub display_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AccountResponse {
    pub id: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub roles: Vec<String>,
    pub created_at: String,
}

impl From<Profile> for AccountResponse {
    fn from(p: Profile) -> Self {
        Self {
            id: p.id,
            username: p.username,
            email: p.email,
            email_verified: p.email_verified,
            roles: p.roles,
            created_at: rfc3339(p.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or e-mail address.
    pub login: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub refresh_token: String,
}

impl From<TokenPair> for TokenResponse {
    fn from(t: TokenPair) -> Self {
        Self {
            access_token: t.access_token,
            token_type: "Bearer",
            expires_in: t.expires_in,
            refresh_token: t.refresh_token,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    pub token: String,
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// A postal address.
#[derive(Serialize, Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct AddressDto {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

impl From<AddressDto> for Address {
    fn from(a: AddressDto) -> Self {
        Address {
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

impl From<Address> for AddressDto {
    fn from(a: Address) -> Self {
        AddressDto {
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

/// Fields left out stay as they are; `display_name: null` clears it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMeRequest {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    /// E.164 numbers; replaces the list.
    pub phones: Option<Vec<String>>,
    /// Replaces the list.
    pub addresses: Option<Vec<AddressDto>>,
}

/// Distinguishes a field sent as `null` (`Some(None)`) from one left out.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Serialize, ToSchema)]
pub struct ProfileResponse {
    pub id: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    pub quotas: BTreeMap<String, u64>,
    pub phones: Vec<String>,
    pub addresses: Vec<AddressDto>,
    pub created_at: String,
}

impl From<Profile> for ProfileResponse {
    fn from(p: Profile) -> Self {
        Self {
            id: p.id,
            username: p.username,
            email: p.email,
            email_verified: p.email_verified,
            display_name: p.display_name,
            roles: p.roles,
            permissions: p.permissions.into_iter().collect(),
            quotas: p.quotas,
            phones: p.phones,
            addresses: p.addresses.into_iter().map(AddressDto::from).collect(),
            created_at: rfc3339(p.created_at),
        }
    }
}

/// A user as administrators see it.
#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    #[serde(flatten)]
    pub profile: ProfileResponse,
    pub disabled: bool,
}

impl From<Profile> for UserResponse {
    fn from(p: Profile) -> Self {
        Self {
            disabled: p.disabled,
            profile: p.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// 1–100, default 20.
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRolesRequest {
    pub roles: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleRequest {
    pub name: String,
    pub permissions: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceRoleRequest {
    pub permissions: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RoleResponse {
    pub name: String,
    pub permissions: Vec<String>,
    pub builtin: bool,
}

impl From<RoleView> for RoleResponse {
    fn from(r: RoleView) -> Self {
        Self {
            name: r.name,
            permissions: r.permissions.into_iter().collect(),
            builtin: r.builtin,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoleList {
    pub items: Vec<RoleResponse>,
}

/// The cluster as one node sees it.
#[derive(Serialize, ToSchema)]
pub struct ClusterStatusResponse {
    /// The node answering.
    pub node: String,
    /// The shard table's version.
    pub epoch: u64,
    pub members: Vec<ClusterMember>,
    /// Shards moved ahead of the next table (hand-offs under way).
    pub handoffs: Vec<HandoffDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ClusterMember {
    pub name: String,
    /// `up`, `suspect` (silent, e.g. frozen) or `down` (no session).
    pub status: String,
    pub shards: usize,
    pub cluster_addr: String,
    pub http_addr: String,
}

#[derive(Serialize, ToSchema)]
pub struct HandoffDto {
    pub shard: u32,
    pub to: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OwnerQuery {
    /// An entity kind, e.g. `user`.
    pub kind: String,
    /// Its key, e.g. a user id.
    pub key: String,
}

/// Where one entity lives.
#[derive(Serialize, ToSchema)]
pub struct OwnerResponse {
    pub kind: String,
    pub key: String,
    pub shard: u32,
    pub owner: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTagRequest {
    /// 1–64 characters, unique among its siblings (case-insensitive).
    pub name: String,
    pub parent_id: Option<String>,
}

/// Fields left out stay; `parent_id: null` makes the tag a root.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTagRequest {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TagQuery {
    /// How many levels of descendants to include (1–16, default 1).
    pub descendants_depth: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct TagRefDto {
    pub id: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct TagNodeDto {
    pub id: String,
    pub name: String,
    #[schema(no_recursion)]
    pub children: Vec<TagNodeDto>,
}

impl From<actors::catalog::model::TagNode> for TagNodeDto {
    fn from(n: actors::catalog::model::TagNode) -> Self {
        Self {
            id: n.id,
            name: n.name,
            children: n.children.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TagResponse {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// From the root down to the parent.
    pub ancestors: Vec<TagRefDto>,
    pub children: Vec<TagNodeDto>,
}

impl From<actors::catalog::model::TagView> for TagResponse {
    fn from(v: actors::catalog::model::TagView) -> Self {
        Self {
            id: v.id,
            name: v.name,
            parent_id: v.parent_id,
            ancestors: v
                .ancestors
                .into_iter()
                .map(|a| TagRefDto { id: a.id, name: a.name })
                .collect(),
            children: v.children.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TagList {
    pub items: Vec<TagNodeDto>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAttributeRequest {
    pub name: String,
    /// `integer`, `decimal`, `string`, `boolean` or `enum`.
    pub kind: String,
    /// The allowed values of an `enum`.
    pub values: Option<Vec<String>>,
    pub unit: Option<String>,
}

/// Fields left out stay; `unit: null` removes the unit.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAttributeRequest {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub values: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub unit: Option<Option<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct AttributeResponse {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub values: Vec<String>,
    pub unit: Option<String>,
    /// Whether products use it (then its kind cannot change).
    pub in_use: bool,
    pub created_at: String,
}

impl From<actors::catalog::attributes::AttributeDef> for AttributeResponse {
    fn from(d: actors::catalog::attributes::AttributeDef) -> Self {
        Self {
            in_use: !d.used_by.is_empty(),
            kind: d.kind.as_str(),
            id: d.id,
            name: d.name,
            values: d.values,
            unit: d.unit,
            created_at: rfc3339(d.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AttributeList {
    pub items: Vec<AttributeResponse>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttributeQuery {
    /// Part of the name, case-insensitive.
    pub q: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<usize>,
}

/// One attribute value of a product.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProductAttributeInput {
    pub attribute_id: String,
    /// Of the attribute's kind: a JSON integer, number or decimal string,
    /// string, boolean, or one of an enum's values.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

/// A product as sent. For PATCH, fields left out stay as they are; for PUT
/// and POST, they take their defaults (`name` is required).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub visible: Option<bool>,
    pub tag_ids: Option<Vec<String>>,
    pub attributes: Option<Vec<ProductAttributeInput>>,
    pub media_ids: Option<Vec<String>>,
}

impl From<ProductRequest> for actors::catalog::products::ProductDraft {
    fn from(r: ProductRequest) -> Self {
        Self {
            name: r.name,
            description: r.description,
            visible: r.visible,
            tag_ids: r.tag_ids,
            attributes: r.attributes.map(|list| {
                list.into_iter()
                    .map(|a| (a.attribute_id, a.value.to_string()))
                    .collect()
            }),
            media_ids: r.media_ids,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProductTag {
    pub id: String,
    pub name: String,
    pub ancestors: Vec<TagRefDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductAttribute {
    pub attribute_id: String,
    pub name: String,
    pub kind: &'static str,
    pub unit: Option<String>,
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct ProductResponse {
    pub id: String,
    pub owner_id: String,
    pub version: u32,
    pub name: String,
    pub description: String,
    pub visible: bool,
    pub tags: Vec<ProductTag>,
    pub attributes: Vec<ProductAttribute>,
    pub media_ids: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<actors::catalog::product_flows::ProductView> for ProductResponse {
    fn from(p: actors::catalog::product_flows::ProductView) -> Self {
        Self {
            id: p.id,
            owner_id: p.owner_id,
            version: p.version.version,
            name: p.version.name,
            description: p.version.description,
            visible: p.version.visible,
            tags: p
                .tags
                .into_iter()
                .map(|t| ProductTag {
                    id: t.id,
                    name: t.name,
                    ancestors: t
                        .ancestors
                        .into_iter()
                        .map(|a| TagRefDto { id: a.id, name: a.name })
                        .collect(),
                })
                .collect(),
            attributes: p
                .attributes
                .into_iter()
                .map(|(def, value)| ProductAttribute {
                    value: value.to_json(),
                    attribute_id: def.id,
                    name: def.name,
                    kind: def.kind.as_str(),
                    unit: def.unit,
                })
                .collect(),
            media_ids: p.version.media_ids,
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.version.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProductPage {
    pub items: Vec<ProductResponse>,
    pub next_cursor: Option<String>,
}

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

impl From<actors::money::RateSet> for RatesResponse {
    fn from(r: actors::money::RateSet) -> Self {
        Self {
            id: r.id,
            base: r.base,
            rates: r.rates,
            published_at: rfc3339(r.at),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChargeDto {
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
    pub attribute_charges: Vec<ChargeDto>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OfferResponse {
    pub product_id: String,
    pub currency: String,
    pub price: String,
    pub attribute_charges: Vec<ChargeDto>,
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
                .charges
                .into_iter()
                .map(|c| ChargeDto {
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
