//! Users as older schema versions stored them, each upgraded to the next:
//! version 1 with a (long unused) list of failed sign-ins where version 2
//! keeps the grants revision; version 2 without the groups the user belongs
//! to and the expiry of their roles and quota overrides (version 3);
//! version 3 without the deletion time (version 4).

use super::{Address, Millis, PendingReset, SecretHash, Session, User};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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

impl From<UserV1> for UserV2 {
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

#[derive(Clone, Serialize, Deserialize)]
pub struct UserV2 {
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
    pub grants_revision: u64,
    pub sessions: Vec<Session>,
    pub email_token: Option<SecretHash>,
    pub reset: Option<PendingReset>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct UserV3 {
    pub v2: UserV2,
    pub groups: BTreeSet<String>,
    pub role_expiry: BTreeMap<String, Millis>,
    pub quota_expiry: BTreeMap<String, Millis>,
}

impl From<UserV2> for UserV3 {
    fn from(v2: UserV2) -> Self {
        Self {
            v2,
            groups: BTreeSet::new(),
            role_expiry: BTreeMap::new(),
            quota_expiry: BTreeMap::new(),
        }
    }
}

impl From<UserV3> for User {
    fn from(v3: UserV3) -> Self {
        let v2 = v3.v2;
        Self {
            id: v2.id,
            username: v2.username,
            email: v2.email,
            email_verified: v2.email_verified,
            display_name: v2.display_name,
            password_hash: v2.password_hash,
            roles: v2.roles,
            quota_overrides: v2.quota_overrides,
            phones: v2.phones,
            addresses: v2.addresses,
            created_at: v2.created_at,
            disabled: v2.disabled,
            grants_revision: v2.grants_revision,
            sessions: v2.sessions,
            email_token: v2.email_token,
            reset: v2.reset,
            groups: v3.groups,
            role_expiry: v3.role_expiry,
            quota_expiry: v3.quota_expiry,
            deleted_at: None,
            purge_failures: 0,
        }
    }
}
