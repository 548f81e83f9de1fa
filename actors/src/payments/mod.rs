//! Payments (issue 14, in progress): charges through payment processors,
//! their states, refunds. So far the pure rules the flows will stand on:
//!
//! - `model.rs` — a charge's states and the only moves it may make;
//! - `charge.rs` — which units of an order a charge may take, and for how
//!   much; `refund.rs` — a refund spread over the charges that paid;
//! - `minor.rs` — amounts in the processors' minor units, per currency;
//! - `signature.rs` — signing and verifying webhooks (Stripe's scheme);
//! - `ports.rs` — the `PaymentProcessor` port; `sandbox.rs` — the built-in,
//!   deterministic processor;
//! - `events.rs` — webhook events and Stripe's status names.

pub mod charge;
pub mod events;
pub mod minor;
pub mod model;
pub mod ports;
pub mod refund;
pub mod sandbox;
pub mod signature;
