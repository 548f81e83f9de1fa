//! A user as schema version 1 stored it: with a (long unused) list of
//! failed sign-ins where version 2 keeps the grants revision.

use super::{Address, Millis, PendingReset, SecretHash, Session, User};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Serialize, Deserialize)]
pub struct UserV1 {
    pub id: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub quota_overrides: BTreeMap<String, u64>,
    pub phones: Vec<String>,
    pub addresses: Vec<Address>,
    pub created_at: Millis,
    pub disabled: bool,
    pub failed_logins: Vec<Millis>,
    pub sessions: Vec<Session>,
    pub email_token: Option<SecretHash>,
    pub reset: Option<PendingReset>,
}

impl From<UserV1> for User {
    fn from(v1: UserV1) -> Self {
        Self {
            id: v1.id,
            username: v1.username,
            email: v1.email,
            email_verified: v1.email_verified,
            display_name: v1.display_name,
            password_hash: v1.password_hash,
            roles: v1.roles,
            quota_overrides: v1.quota_overrides,
            phones: v1.phones,
            addresses: v1.addresses,
            created_at: v1.created_at,
            disabled: v1.disabled,
            grants_revision: 0,
            sessions: v1.sessions,
            email_token: v1.email_token,
            reset: v1.reset,
        }
    }
}
