//! Roles, permissions and quotas.
//!
//! A permission is a `domain:action` string. Roles are named sets of
//! permissions: three are built in, others are created by administrators.
//! Quotas bound how much a user may own; each has a default that an
//! administrator can override per user.

use std::collections::{BTreeMap, BTreeSet};

/// Every permission the platform knows. Custom roles may hold only these.
pub const PERMISSIONS: &[&str] = &[
    "cart:use",
    "order:create",
    "return:create",
    "catalog:write",
    "catalog:admin",
    "store:create",
    "media:upload",
    "identity:admin",
    "identity:groups",
    "cluster:admin",
    "fx:admin",
    "payment:admin",
];

const CUSTOMER: &[&str] = &["cart:use", "order:create", "return:create"];
const SELLER_EXTRA: &[&str] = &["catalog:write", "store:create", "media:upload"];

pub const BUILTIN_ROLES: &[&str] = &["customer", "seller", "admin"];
/// Most roles one user holds.
pub const ROLES_MAX: usize = 20;
pub const DEFAULT_ROLE: &str = "customer";

/// The permissions of a built-in role, or `None` for any other name.
pub fn builtin_permissions(role: &str) -> Option<BTreeSet<String>> {
    let perms: Vec<&str> = match role {
        "customer" => CUSTOMER.to_vec(),
        "seller" => CUSTOMER.iter().chain(SELLER_EXTRA).copied().collect(),
        "admin" => PERMISSIONS.to_vec(),
        _ => return None,
    };
    Some(perms.into_iter().map(String::from).collect())
}

pub fn is_builtin_role(role: &str) -> bool {
    BUILTIN_ROLES.contains(&role)
}

/// A custom role's name: 2 to 32 of `[a-z0-9_-]`, not a built-in name.
pub fn role_name(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_lowercase();
    if !(2..=32).contains(&name.len())
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        return Err("must be 2 to 32 of a-z, 0-9, '_' and '-'".into());
    }
    if is_builtin_role(&name) {
        return Err("is the name of a built-in role".into());
    }
    Ok(name)
}

/// A custom role's permissions: known, deduplicated, at least one.
pub fn role_permissions(raw: &[String]) -> Result<BTreeSet<String>, String> {
    let unknown: Vec<&str> = raw
        .iter()
        .map(String::as_str)
        .filter(|p| !PERMISSIONS.contains(p))
        .collect();
    if !unknown.is_empty() {
        return Err(format!("unknown permissions: {}", unknown.join(", ")));
    }
    if raw.is_empty() {
        return Err("must hold at least one permission".into());
    }
    Ok(raw.iter().cloned().collect())
}

/// Nobody grants what they do not hold: the permissions in `wanted` that
/// `granter` lacks, empty when the grant is allowed.
pub fn missing_permissions(granter: &BTreeSet<String>, wanted: &BTreeSet<String>) -> Vec<String> {
    wanted.difference(granter).cloned().collect()
}

/// Quota names and their defaults.
pub const QUOTAS: &[(&str, u64)] = &[
    ("max_addresses", 10),
    ("max_phones", 5),
    ("max_stores", 3),
    ("max_products", 1_000),
    ("max_upload_bytes", 10 * 1024 * 1024),
    ("max_open_orders", 20),
    ("max_held_units", 1_000),
    ("max_charges_per_order", 5),
];

/// Defaults with a user's overrides applied.
pub fn effective_quotas(overrides: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    QUOTAS
        .iter()
        .map(|(name, default)| (name.to_string(), overrides.get(*name).copied().unwrap_or(*default)))
        .collect()
}

/// Checks an administrator's quota overrides: known names only.
pub fn quota_overrides(raw: &BTreeMap<String, u64>) -> Result<BTreeMap<String, u64>, Vec<(String, String)>> {
    let unknown: Vec<(String, String)> = raw
        .keys()
        .filter(|name| !QUOTAS.iter().any(|(known, _)| known == name))
        .map(|name| (name.clone(), "is not a known quota".to_string()))
        .collect();
    if unknown.is_empty() {
        Ok(raw.clone())
    } else {
        Err(unknown)
    }
}

pub fn quota(quotas: &BTreeMap<String, u64>, name: &str) -> u64 {
    quotas.get(name).copied().unwrap_or(0)
}
