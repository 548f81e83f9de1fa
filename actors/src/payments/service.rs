//! [`Payments`]: the flows the edge calls — charging an order, reading
//! charges, webhooks, refunds, and the sandbox's own endpoints.

use super::actor::*;
use super::charge::ChargeLine;
use super::delivery::{self, Endpoint};
use super::events::Event;
use super::ledger::Ledger;
use super::ports::CaptureMode;
use super::processors::{Configured, PaymentSettings, Processors};
use super::record::{Charge, Intent};
use super::refund::RefundRecord;
use super::sandbox::{Sandbox, SandboxEntity};
use super::sandbox_accounts::SandboxAccounts;
use super::sandbox_disputes::SandboxDisputes;
use super::stripe::Stripe;
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::orders::Orders;
use crate::orders::model::Order;
use crate::orders::place::{idempotency_key_of, request_hash};
use crate::orders::refunds::{ReturnRefund, ReturnRefunds};
use crate::ports::{Clock, Millis};
use crate::runtime::{EntityContext, Router, RuntimeBuilder};
use crate::storefront::service::Storefront;
use futures::future::BoxFuture;
use futures::future::join_all;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

#[path = "refund_service.rs"]
mod refund_service;
#[path = "report_service.rs"]
mod report_service;
#[path = "store_service.rs"]
mod store_service;
use refund_service::ReturnRefunder;
pub use refund_service::{RefundRequest, refund_id, return_refund_id};
pub use store_service::payout_id;

/// Where the sandbox's buyers authenticate (`/{payment_id}`).
pub const AUTHENTICATE_PATH: &str = "/api/v1/payments/sandbox/authenticate";
/// The sandbox's connected accounts (`/{account_id}/complete` onboards).
pub const ACCOUNTS_PATH: &str = "/api/v1/payments/sandbox/accounts";

/// What a buyer asks a charge to take and how.
#[derive(Debug, Clone, Serialize)]
pub struct ChargeRequest {
    /// `None`: every unit not yet paid nor in a live charge.
    pub lines: Option<Vec<ChargeLine>>,
    pub payment_method: String,
    /// `None`: the configured default.
    pub processor: Option<String>,
    pub return_url: Option<String>,
}

/// The id of the charge asked with `idempotency_key` on `order_id`.
pub fn charge_id(order_id: &str, idempotency_key: &str) -> String {
    let hash = xxhash_rust::xxh3::xxh3_128(format!("{order_id}\0{idempotency_key}").as_bytes());
    format!("ch_{hash:032x}")
}

/// Requests being answered on this node, by the charge or refund they
/// make: a second one with the same key meanwhile is 409 (DESIGN.md).
#[derive(Clone, Default)]
struct InFlight(Arc<std::sync::Mutex<std::collections::HashSet<String>>>);

/// Held while a request is answered; lets go of its id when dropped.
struct Flying(InFlight, String);

impl InFlight {
    fn enter(&self, id: &str) -> Result<Flying> {
        let mut ids = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !ids.insert(id.to_string()) {
            return Err(Error::conflict(
                "request_in_flight",
                "a request with this Idempotency-Key is still being answered; retry it shortly",
            ));
        }
        Ok(Flying(self.clone(), id.to_string()))
    }
}

impl Drop for Flying {
    fn drop(&mut self) {
        self.0.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.1);
    }
}

#[derive(Clone)]
pub struct Payments {
    in_flight: InFlight,
    router: Router,
    orders: Orders,
    storefront: Storefront,
    processors: Processors,
    settings: Arc<PaymentSettings>,
    clock: Arc<dyn Clock>,
    sandbox: Option<Sandbox>,
}

impl Payments {
    /// The processors `settings` configure, reaching the runtime of
    /// `context` (where the sandbox keeps its books).
    pub fn processors(settings: &PaymentSettings, context: &EntityContext, clock: &Arc<dyn Clock>) -> Processors {
        let mut processors = Processors::default();
        if let Some(sandbox) = &settings.sandbox {
            processors = processors.with(
                "sandbox",
                Configured {
                    adapter: Arc::new(Self::sandbox_at(context, clock)),
                    webhook_secrets: sandbox.webhook_secrets.clone(),
                    raw_cards: true,
                },
            );
        }
        if let Some(stripe) = &settings.stripe {
            processors = processors.with(
                "stripe",
                Configured {
                    adapter: Arc::new(Stripe::new(&stripe.base_url, stripe.secret_key.clone())),
                    webhook_secrets: stripe.webhook_secrets.clone(),
                    raw_cards: false,
                },
            );
        }
        processors
    }

    fn sandbox_at(context: &EntityContext, clock: &Arc<dyn Clock>) -> Sandbox {
        Sandbox::new(context.clone(), AUTHENTICATE_PATH, ACCOUNTS_PATH, clock.clone())
    }

    /// What orders ask to give back the money of returned units.
    pub fn return_refunds(builder: &RuntimeBuilder) -> Arc<dyn ReturnRefunds> {
        Arc::new(ReturnRefunder {
            context: builder.context(),
        })
    }

    /// Registers the payment entities, and the sandbox's books (whose
    /// webhooks go to `endpoint` once it is known).
    pub fn register_entities(
        builder: RuntimeBuilder,
        settings: &PaymentSettings,
        clock: Arc<dyn Clock>,
        endpoint: Endpoint,
    ) -> RuntimeBuilder {
        let context = PaymentContext {
            clock: clock.clone(),
            context: builder.context(),
            processors: Self::processors(settings, &builder.context(), &clock),
            reconcile_every: settings.reconcile_every,
            dispute_sweep_every: settings.dispute_sweep_every,
            authorization: Millis::from(settings.authorization_days) * crate::orders::model::DAY,
            fee_rate: settings.fee_rate,
            payout_hold: Millis::from(settings.payout_hold_days) * crate::orders::model::DAY,
        };
        let signing = settings.sandbox.as_ref().and_then(|s| s.webhook_secrets.first());
        let outbox = match (&settings.sandbox, signing) {
            (Some(sandbox), Some(secret)) if sandbox.send_webhooks => Some(delivery::start(
                endpoint,
                secret.clone(),
                sandbox.duplicate_webhooks,
                clock,
            )),
            _ => None,
        };
        let context_of_sandbox = builder.context();
        let builder = match &settings.sandbox {
            Some(_) => builder
                .register(Arc::new(SandboxEntity { outbox: outbox.clone() }))
                .register(Arc::new(SandboxDisputes { outbox: outbox.clone() }))
                .register(Arc::new(SandboxAccounts {
                    outbox,
                    context: context_of_sandbox,
                })),
            None => builder,
        };
        builder
            .register(Arc::new(FundsEntity(context.clone())))
            .register(Arc::new(DisputesEntity(context.clone())))
            .register(Arc::new(DisputeWatchEntity(context.clone())))
            .register(Arc::new(LedgerEntity(context.clone())))
            .register(Arc::new(ChargeEntity(context.clone())))
            .register(Arc::new(RefundEntity(context)))
    }

    pub fn new(
        router: Router,
        orders: Orders,
        storefront: Storefront,
        settings: PaymentSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let context = EntityContext::of(&router);
        let processors = Self::processors(&settings, &context, &clock);
        let sandbox = settings.sandbox.as_ref().map(|_| Self::sandbox_at(&context, &clock));
        Self::start_dispute_sweeps(&context, &processors);
        Self {
            in_flight: InFlight::default(),
            router,
            orders,
            storefront,
            processors,
            settings: Arc::new(settings),
            clock,
            sandbox,
        }
    }

    /// Makes sure each processor's dispute sweep exists (its alarm keeps it
    /// going from then), retrying while the node or its cluster starts.
    fn start_dispute_sweeps(context: &EntityContext, processors: &Processors) {
        let context = context.clone();
        let names: Vec<String> = processors.names().map(str::to_string).collect();
        tokio::spawn(async move {
            for name in names {
                let mut wait = Duration::from_secs(1);
                loop {
                    // Only while the runtime runs.
                    let Ok(router) = context.router() else { return };
                    match router.ask::<DisputeWatchEntity>(&name, WatchCommand::Start).await {
                        Ok(_) => break,
                        Err(error) if wait >= Duration::from_secs(30) => {
                            tracing::warn!(processor = name, %error, "the dispute sweep is not started yet")
                        }
                        Err(_) => {}
                    }
                    drop(router);
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(30));
                }
            }
        });
    }

    async fn charge_command(&self, id: &str, command: ChargeCommand) -> Result<Charge> {
        expect_reply!(self.router.ask::<ChargeEntity>(id, command).await?, ChargeReply::Charge(c) => *c)
    }

    async fn refund_command(&self, id: &str, command: RefundCommand) -> Result<RefundRecord> {
        expect_reply!(self.router.ask::<RefundEntity>(id, command).await?, RefundReply::Refund(r) => *r)
    }

    async fn ledger(&self, order_id: &str) -> Result<Ledger> {
        expect_reply!(
            self.router.ask::<LedgerEntity>(order_id, LedgerCommand::Get).await?,
            LedgerReply::Ledger(l) => *l
        )
    }

    /// Works a charge until nothing is left that can be done now: the
    /// processor's answer recorded, then the order and ledger told. An
    /// unknown outcome is left to the alarm (the same request, later).
    async fn settle_charge(&self, mut charge: Charge) -> Result<Charge> {
        for _ in 0..2 {
            if !charge.has_steps() {
                break;
            }
            charge = self
                .charge_command(&charge.intent.charge_id, ChargeCommand::Work)
                .await?;
            if charge.must_send() {
                break;
            }
        }
        Ok(charge)
    }

    /// The buyer charges their order (idempotent per key).
    pub async fn charge(
        &self,
        buyer: &str,
        order_id: &str,
        idempotency_key: &str,
        request: ChargeRequest,
        limit: u64,
    ) -> Result<Charge> {
        let key = idempotency_key_of(idempotency_key)?;
        let processor = request
            .processor
            .clone()
            .unwrap_or_else(|| self.settings.default_processor.clone());
        let configured = self
            .processors
            .get(&processor)
            .map_err(|_| Error::invalid("processor", "no processor of this name is configured"))?;
        let method = request.payment_method.trim();
        if method.is_empty() || method.len() > 200 {
            return Err(Error::invalid("payment_method", "must be 1 to 200 characters"));
        }
        if super::ports::is_card_number(method) && !configured.raw_cards {
            return Err(Error::invalid(
                "payment_method",
                "raw card numbers are taken by the sandbox only; send a payment method id",
            ));
        }
        if let Some(url) = &request.return_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(Error::invalid("return_url", "must be an http(s) URL"));
        }
        let _flying = self.in_flight.enter(&charge_id(order_id, key))?;
        let (order, stores) = self.orders.view(buyer, order_id).await?;
        if stores.is_some() {
            return Err(Error::not_found("order"));
        }
        let paying: std::collections::BTreeSet<String> = order
            .lines
            .iter()
            .filter(|l| match &request.lines {
                Some(asked) => asked.iter().any(|a| a.line_id == l.line_id),
                None => l.paid < l.quantity,
            })
            .map(|l| l.store_id.clone())
            .collect();
        self.refuse_stores_without_account(&paying.into_iter().collect::<Vec<_>>())
            .await?;
        let intent = Intent {
            charge_id: charge_id(order_id, key),
            order_id: order_id.to_string(),
            buyer: buyer.to_string(),
            stores: Vec::new(),
            lines: Vec::new(),
            amount: String::new(),
            currency: String::new(),
            unit_prices: order
                .lines
                .iter()
                .map(|l| (l.line_id.clone(), l.unit_price.clone()))
                .collect(),
            payment_method: method.to_string(),
            processor,
            capture: self.settings.capture,
            return_url: request.return_url.clone(),
            created_at: self.clock.now(),
        };
        let open = LedgerCommand::Open {
            order: Box::new(order),
            intent: Box::new(intent),
            asked: request.lines.clone(),
            request_hash: request_hash(&request)?,
            limit,
        };
        let claim = expect_reply!(
            self.router.ask::<LedgerEntity>(order_id, open).await?,
            LedgerReply::Claim(c) => *c
        )?;
        let id = claim.intent.charge_id.clone();
        let charge = self
            .charge_command(&id, ChargeCommand::Create(Box::new(claim.intent)))
            .await?;
        self.settle_charge(charge).await
    }

    /// Whether `caller` may see `charge`: its buyer, staff of a store in
    /// it, or a payments administrator.
    async fn may_see(&self, caller: &str, admin: bool, stores: &[String], buyer: &str) -> Result<bool> {
        if admin || buyer == caller {
            return Ok(true);
        }
        for store in stores {
            match self.storefront.get(store).await {
                Ok(s) if s.check_staff(caller, self.clock.now()).is_ok() => return Ok(true),
                Ok(_) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    pub async fn get_charge(&self, caller: &str, admin: bool, id: &str) -> Result<Charge> {
        let charge = self.charge_command(id, ChargeCommand::Get).await?;
        if self
            .may_see(caller, admin, &charge.intent.stores, &charge.intent.buyer)
            .await?
        {
            Ok(charge)
        } else {
            Err(Error::not_found("charge"))
        }
    }

    /// The order's charges, oldest first: all of them for the buyer, those
    /// touching their stores for staff.
    pub async fn order_charges(&self, caller: &str, order_id: &str) -> Result<Vec<Charge>> {
        let (_, stores) = self.orders.view(caller, order_id).await?;
        let ledger = self.ledger(order_id).await?;
        let charges = join_all(
            ledger
                .claims
                .iter()
                .map(|c| self.charge_command(&c.intent.charge_id, ChargeCommand::Get)),
        )
        .await;
        let mut out = Vec::new();
        for charge in charges {
            match charge {
                Ok(c)
                    if stores
                        .as_ref()
                        .is_none_or(|s| c.intent.stores.iter().any(|x| s.contains(x))) =>
                {
                    out.push(c)
                }
                Ok(_) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// A processor's webhook: verified, applied once per event id.
    pub async fn webhook(&self, processor: &str, signature: Option<&str>, body: &[u8]) -> Result<()> {
        let now = self.clock.now() / 1000;
        let webhook = self.processors.webhook(processor, signature, body, now)?;
        match webhook.event {
            Event::Payment { metadata, .. } => {
                let Some(charge_id) = metadata.get("charge_id") else {
                    return Ok(());
                };
                let command = ChargeCommand::Webhook {
                    event_id: webhook.event_id,
                };
                let charge = match self.charge_command(charge_id, command).await {
                    Err(Error::NotFound { .. }) => return Ok(()),
                    other => other?,
                };
                // What follows is the charge's own steps: its alarm retries them.
                if let Err(error) = self.settle_charge(charge).await {
                    tracing::warn!(charge = charge_id, %error, "charge steps left to the alarm");
                }
            }
            Event::Refund { metadata, .. } => {
                if let Some(refund_id) = metadata.get("refund_id") {
                    match self.refund_command(refund_id, RefundCommand::Work).await {
                        Ok(_) | Err(Error::NotFound { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Event::Account(account) => self.account_reported(account).await?,
            Event::Dispute { id, .. } => self.dispute_event(processor, &id).await?,
            Event::Other => {}
        }
        Ok(())
    }

    fn sandbox(&self) -> Result<&Sandbox> {
        self.sandbox.as_ref().ok_or_else(|| Error::not_found("sandbox"))
    }

    /// The sandbox's buyer authenticates a payment (or fails to).
    pub async fn sandbox_authenticate(
        &self,
        payment_id: &str,
        succeed: bool,
    ) -> Result<super::ports::ProcessorPayment> {
        self.sandbox()?
            .authenticate(payment_id, succeed)
            .await
            .map_err(|_| Error::not_found("sandbox payment"))
    }

    /// How many payments the sandbox created under the key of `charge_id`.
    pub async fn sandbox_created(&self, charge_id: &str) -> Result<u32> {
        self.sandbox()?.created_for(&format!("charge:{charge_id}")).await
    }

    /// After a shipment or a cancellation: the order's authorizations are
    /// captured or voided now (their alarm would, within a sweep).
    pub async fn review_order(&self, order_id: &str) {
        let ledger = match self.ledger(order_id).await {
            Ok(ledger) => ledger,
            Err(error) => {
                tracing::warn!(order = order_id, %error, "authorizations left to their alarms");
                return;
            }
        };
        let held = ledger
            .claims
            .iter()
            .filter(|c| c.status == super::model::ChargeStatus::Authorized);
        for claim in held {
            let id = &claim.intent.charge_id;
            let reviewed = match self.charge_command(id, ChargeCommand::Review).await {
                Ok(charge) => self.settle_charge(charge).await.map(|_| ()),
                Err(error) => Err(error),
            };
            if let Err(error) = reviewed {
                tracing::warn!(charge = id, %error, "an authorization is left to its alarm");
            }
        }
    }

    /// How the charges of this node capture.
    pub fn capture_mode(&self) -> CaptureMode {
        self.settings.capture
    }
}
