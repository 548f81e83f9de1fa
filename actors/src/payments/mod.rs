//! Payments: charges through payment processors, their states, refunds;
//! the sellers' money — merchant accounts, payouts, reversals, debts,
//! disputes — and reports.
//!
//! - `model.rs` — a charge's states and the only moves it may make;
//! - `charge.rs` — which units of an order a charge may take, and for how
//!   much; `refund.rs` — a refund spread over the charges that paid, and a
//!   refund's record; `ledger.rs` — an order's one writer of claims and
//!   refunds; `record.rs` — a charge's record and its transitions;
//! - `account.rs` — a store's merchant account: who may onboard, its
//!   status from the processor's report, link renewal;
//! - `payout.rs` — a store's earnings, payouts, reversals and debts;
//!   `funds.rs` — a store's funds record around it (earnings with their
//!   lines, payouts and statements, schedule; `sales.rs` the sales
//!   report over them); `dispute.rs` — a
//!   charge's disputes and the stores' shares of a loss; `reconcile.rs` —
//!   a day's records against the processors';
//! - `minor.rs` — amounts in the processors' minor units, per currency;
//! - `signature.rs` — signing and verifying webhooks (Stripe's scheme);
//!   `events.rs` — webhook events and Stripe's status names;
//! - `ports.rs` — the `PaymentProcessor` port; `processors.rs` — the
//!   configured ones; `sandbox.rs` — the built-in processor (with its
//!   connected accounts, `sandbox_accounts.rs`, and disputes,
//!   `sandbox_disputes.rs`) and `delivery.rs` its webhook sender;
//!   `stripe.rs` — Stripe's HTTP API, Connect included;
//! - `actor.rs` — the ledger, charge, refund, store funds and charge
//!   disputes entities (thin); `service.rs` — [`Payments`], what the edge
//!   calls, with `store_service.rs` (accounts, payouts, disputes) and
//!   `report_service.rs` (reconciliation, sales).

pub mod account;
pub mod actor;
pub mod charge;
pub mod delivery;
pub mod dispute;
pub mod dispute_watch;
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
pub mod sales;
pub mod sandbox;
pub mod sandbox_accounts;
pub mod sandbox_disputes;
pub mod service;
pub mod signature;
pub mod stripe;

pub use service::Payments;
