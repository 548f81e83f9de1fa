//! Identity: accounts, sign-in, tokens, roles, permissions and quotas.

mod actor;

/// The user entity itself, only for tools that measure it
/// (`examples/entity_memory.rs`); other domains use [`Identity`].
#[doc(hidden)]
pub mod entity {
    pub use super::actor::{UserCommand, Users};
}
mod admin;
pub mod keys;
pub mod model;
pub mod ports;
pub mod service;
#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;

pub use keys::{AccessClaims, KeyRing, KeySource};
pub use service::{Identity, NewAccount, Ports, Profile, RoleView, TokenPair};
