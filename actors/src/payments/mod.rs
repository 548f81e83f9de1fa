//! Payments: charges through payment processors, their states, refunds.
//!
//! - `model.rs` — a charge's states and the only moves it may make;
//! - `charge.rs` — which units of an order a charge may take, and for how
//!   much; `refund.rs` — a refund spread over the charges that paid, and a
//!   refund's record; `ledger.rs` — an order's one writer of claims and
//!   refunds; `record.rs` — a charge's record and its transitions;
//! - `account.rs` — a store's merchant account: who may onboard, its
//!   status from the processor's report, link renewal;
//! - `payout.rs` — a store's earnings, payouts, reversals and debts;
//! - `minor.rs` — amounts in the processors' minor units, per currency;
//! - `signature.rs` — signing and verifying webhooks (Stripe's scheme);
//!   `events.rs` — webhook events and Stripe's status names;
//! - `ports.rs` — the `PaymentProcessor` port; `processors.rs` — the
//!   configured ones; `sandbox.rs` — the built-in processor and
//!   `delivery.rs` its webhook sender; `stripe.rs` — Stripe's HTTP API;
//! - `actor.rs` — the ledger, charge and refund entities (thin);
//!   `service.rs` — [`Payments`], what the edge calls.

pub mod account;
pub mod actor;
pub mod charge;
pub mod delivery;
pub mod dispute;
pub mod events;
pub mod funds;
pub mod ledger;
pub mod minor;
pub mod model;
pub mod payout;
pub mod ports;
pub mod processors;
pub mod reconcile;
pub mod record;
pub mod refund;
pub mod sandbox;
pub mod sandbox_accounts;
pub mod sandbox_disputes;
pub mod service;
pub mod signature;
pub mod stripe;

pub use service::Payments;
