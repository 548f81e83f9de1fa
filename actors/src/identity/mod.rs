//! Identity: accounts, sign-in, tokens, roles, permissions and quotas.

pub mod actor;
mod admin;
pub mod keys;
pub mod model;
pub mod ports;
pub mod service;
#[cfg(test)]
mod tests;

pub use keys::{AccessClaims, KeyRing, KeySource};
pub use service::{Identity, NewAccount, Ports, Profile, RoleView, TokenPair};
