//! The processors a node is configured with, by name, and how webhooks
//! from each are verified. Secrets stay in here: nothing prints them.

use super::events::Webhook;
use super::ports::{CaptureMode, PaymentProcessor};
use crate::error::{Error, Result};
use crate::ports::Millis;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A secret that never shows in logs or debug output.
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(value: &str) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// `[payments]` as the domain uses it.
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    pub default_processor: String,
    pub capture: CaptureMode,
    /// How often a charge not settled asks its processor.
    pub reconcile_every: Millis,
    /// How often each processor's disputes are swept (`dispute_watch.rs`).
    pub dispute_sweep_every: Millis,
    /// How long an authorization may wait for its capture.
    pub authorization_days: u32,
    /// The platform's fee on each payout line (`0.1`: ten per cent).
    pub fee_rate: rust_decimal::Decimal,
    /// A store's share becomes payable this long after capture.
    pub payout_hold_days: u32,
    /// The built-in sandbox, if enabled.
    pub sandbox: Option<SandboxSettings>,
    pub stripe: Option<StripeSettings>,
}

#[derive(Debug, Clone)]
pub struct SandboxSettings {
    /// Each webhook twice, in shuffled order.
    pub duplicate_webhooks: bool,
    /// `false`: every webhook is lost (to try the sweeps).
    pub send_webhooks: bool,
    /// The first signs; every one verifies (a rotation).
    pub webhook_secrets: Vec<Secret>,
}

#[derive(Debug, Clone)]
pub struct StripeSettings {
    pub base_url: String,
    pub secret_key: Secret,
    /// The current endpoint secret and, during a rotation, the previous one.
    pub webhook_secrets: Vec<Secret>,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Self {
            default_processor: "sandbox".into(),
            capture: CaptureMode::Automatic,
            reconcile_every: 60_000,
            dispute_sweep_every: 3_600_000,
            authorization_days: 7,
            fee_rate: rust_decimal::Decimal::ZERO,
            payout_hold_days: 7,
            sandbox: Some(SandboxSettings {
                duplicate_webhooks: false,
                send_webhooks: true,
                webhook_secrets: vec![Secret::new(&random_secret())],
            }),
            stripe: None,
        }
    }
}

/// A fresh secret (for a sandbox whose secret is not configured).
pub fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("whsec_{hex}")
}

/// One configured processor.
#[derive(Clone)]
pub struct Configured {
    pub adapter: Arc<dyn PaymentProcessor>,
    pub webhook_secrets: Vec<Secret>,
    /// Takes raw card numbers (the sandbox alone).
    pub raw_cards: bool,
}

/// Every processor of the node, by name.
#[derive(Clone, Default)]
pub struct Processors {
    by_name: BTreeMap<String, Configured>,
}

impl Processors {
    pub fn with(mut self, name: &str, processor: Configured) -> Self {
        self.by_name.insert(name.to_string(), processor);
        self
    }

    /// The processor `name` (404 if none is configured by that name).
    pub fn get(&self, name: &str) -> Result<&Configured> {
        self.by_name
            .get(name)
            .ok_or_else(|| Error::not_found("payment processor"))
    }

    /// The configured processors' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn adapter(&self, name: &str) -> Result<Arc<dyn PaymentProcessor>> {
        Ok(self.get(name)?.adapter.clone())
    }

    /// A webhook from `name`, verified against its secrets at `now`
    /// (unix seconds) and parsed.
    pub fn webhook(&self, name: &str, signature_header: Option<&str>, body: &[u8], now: i64) -> Result<Webhook> {
        let processor = self.get(name)?;
        let secrets: Vec<String> = processor
            .webhook_secrets
            .iter()
            .map(|s| s.expose().to_string())
            .collect();
        processor.adapter.webhook(signature_header, body, &secrets, now)
    }
}
