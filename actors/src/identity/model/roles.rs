//! Custom roles: named sets of permissions, created, replaced and deleted
//! by administrators (who may grant only what they hold: see `access.rs`).

use super::Millis;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub permissions: BTreeSet<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum RoleRequest {
    Create(BTreeSet<String>),
    Replace(BTreeSet<String>),
    Delete,
    Get,
}

/// What a request does to a role's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleChange {
    Keep,
    Put,
    Delete,
}

/// Decides a request on role `name` (`state`: `None` if there is none);
/// answers the change and the role as it is after it.
pub fn decide(name: &str, state: Option<&Role>, request: RoleRequest, now: Millis) -> Result<(RoleChange, Role)> {
    match (request, state) {
        (RoleRequest::Create(permissions), None) => {
            let role = Role {
                name: name.to_string(),
                permissions,
                created_at: now,
                updated_at: now,
            };
            Ok((RoleChange::Put, role))
        }
        (RoleRequest::Create(_), Some(_)) => Err(Error::conflict("role_exists", "a role with this name exists")),
        (RoleRequest::Replace(permissions), Some(role)) => {
            let next = Role {
                permissions,
                updated_at: now,
                ..role.clone()
            };
            Ok((RoleChange::Put, next))
        }
        (RoleRequest::Delete, Some(role)) => Ok((RoleChange::Delete, role.clone())),
        (RoleRequest::Get, Some(role)) => Ok((RoleChange::Keep, role.clone())),
        (_, None) => Err(Error::not_found("role")),
    }
}

#[cfg(test)]
#[path = "roles_tests.rs"]
mod tests;
