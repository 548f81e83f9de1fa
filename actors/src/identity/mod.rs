//! Identity: accounts, sign-in, tokens, roles, permissions and quotas.
//!
//! - `model.rs` and `model/` — the rules: accounts and sessions, fields,
//!   permissions and quotas (`access.rs`), unique keys, custom roles,
//!   groups (`groups.rs`: the tree, effective access, delegation).
//! - `actor.rs` — the entities (users, unique keys, roles), private.
//! - `keys.rs` — the JWT key ring; `ports.rs` — hasher, mailer, clock.
//! - `service.rs`, `admin.rs` — [`Identity`]: sign-up/in flows and
//!   administration, and what other domains may know of a user;
//!   `groups.rs` — the group entities and their flows; `lifecycle.rs` —
//!   deleting and restoring accounts; `recovery.rs` — e-mail verification,
//!   username recovery and password reset.

mod actor;

/// The user entity itself, only for tools that measure it
/// (`examples/entity_memory.rs`); other domains use [`Identity`].
#[doc(hidden)]
pub mod entity {
    pub use super::actor::{UserCommand, Users};
}
mod admin;
pub mod groups;
pub use admin::Grants;
pub mod keys;
mod lifecycle;
pub mod model;
pub mod ports;
mod recovery;
pub mod service;
mod standings;
#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;

pub use keys::{AccessClaims, KeyRing, KeySource};
pub use service::{Identity, NewAccount, Ports, Profile, RoleView, TokenPair};
