//! Accounts, sessions, profiles, roles and administration.

use super::*;
use actors::shared::page::Limit;

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
pub struct DeleteMeRequest {
    pub current_password: String,
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
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
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
    /// Where each role comes from: `own`, or `group:<id>` (the user belongs
    /// to that group or to one of its descendants). On `/me` and on a
    /// user as administrators read it, for a member of any group (without
    /// groups every role and quota is the user's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_sources: Option<BTreeMap<String, Vec<String>>>,
    /// Where each quota's value comes from (as `role_sources`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_sources: Option<BTreeMap<String, String>>,
    /// The user's own roles granted until a time, and until when.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub role_expires_at: BTreeMap<String, String>,
    /// The user's own quota overrides granted until a time.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub quota_expires_at: BTreeMap<String, String>,
}

fn source_name(s: &actors::identity::model::groups::Source) -> String {
    match s {
        actors::identity::model::groups::Source::Own => "own".into(),
        actors::identity::model::groups::Source::Group(id) => format!("group:{id}"),
    }
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
            role_sources: p.sources.as_ref().map(|e| {
                e.roles
                    .iter()
                    .map(|(role, from)| (role.clone(), from.iter().map(source_name).collect()))
                    .collect()
            }),
            role_expires_at: p.role_expiry.iter().map(|(r, at)| (r.clone(), rfc3339(*at))).collect(),
            quota_expires_at: p.quota_expiry.iter().map(|(q, at)| (q.clone(), rfc3339(*at))).collect(),
            quota_sources: p.sources.as_ref().map(|e| {
                e.quotas
                    .iter()
                    .map(|(name, (_, from))| (name.clone(), source_name(from)))
                    .collect()
            }),
        }
    }
}

/// Everything the platform holds about a user (`GET /api/v1/me/export`).
#[derive(Serialize, ToSchema)]
pub struct ExportResponse {
    pub profile: ProfileResponse,
    /// The groups they belong to (ids).
    pub groups: Vec<String>,
    /// Their orders (each keeps its own copy of the contacts given).
    pub order_ids: Vec<String>,
    pub exported_at: String,
}

/// A user as administrators see it.
#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    #[serde(flatten)]
    pub profile: ProfileResponse,
    pub disabled: bool,
    /// When the account was deleted (`null` unless it is); it can be
    /// restored until `purge_at`, when its personal data goes for good.
    pub deleted_at: Option<String>,
    pub purge_at: Option<String>,
}

impl From<Profile> for UserResponse {
    fn from(p: Profile) -> Self {
        Self {
            disabled: p.disabled,
            deleted_at: p.deleted_at.map(rfc3339),
            purge_at: p.purge_at.map(rfc3339),
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

impl PageQuery {
    /// The page size asked for: 1–100, 20 when absent.
    pub fn limit(&self) -> Result<Limit, actors::Error> {
        match self.limit {
            None => Ok(Limit::DEFAULT),
            Some(n) => Limit::new(n).map_err(|reason| actors::Error::invalid("limit", reason)),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRolesRequest {
    /// Role names, or `{role, expires_at}` for one granted until a time
    /// (never the built-in `admin`).
    pub roles: Vec<RoleItem>,
}

/// A role: its name, or granted until a time.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum RoleItem {
    Name(String),
    Until {
        role: String,
        /// RFC 3339.
        expires_at: Option<String>,
    },
}

/// A quota override: a limit, or one granted until a time.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum QuotaItem {
    Limit(u64),
    Until {
        limit: u64,
        /// RFC 3339.
        expires_at: Option<String>,
    },
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
