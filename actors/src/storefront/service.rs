//! Storefront flows, called by the edge.

use super::actor::{
    FX_RATES, FxCommand, FxRates, StoreCommand, StoreQuota, StoreReply, Stores, TransferCommand, Transfers,
};
use super::model::{self, PendingTransfer, StaffWindow, Store, StoreSpec};
use super::offers::{self, Offer, OfferDraft, Quote};
use crate::catalog::Catalog;
use crate::catalog::products::Listing;
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::identity::Identity;
use crate::ports::Clock;
use crate::quota::{self, Owners};
use crate::runtime::{Router, RuntimeBuilder};
use crate::shared::money::{self, RateSet};

use std::collections::BTreeMap;
use std::sync::Arc;

pub use crate::shared::lines::LineSpec;

/// Which exchange rates convert a price.
#[derive(Clone, Copy)]
pub enum Rates<'a> {
    /// The latest published set.
    Current,
    /// One set taken beforehand (an order prices every line with one set).
    Snapshot(Option<&'a RateSet>),
}

/// Why a line cannot be priced now: what carts show per line, what an
/// order counts as a line it cannot have, and what a quote answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceProblem {
    UnknownStore,
    /// The store has no offer for the product valid now.
    NoValidOffer,
    /// No visible product has this id.
    UnknownProduct,
    /// Chosen attribute values the product does not have: field → reason.
    AttributeValues(BTreeMap<String, String>),
    /// The currency is not one we price in, or no rates convert to it.
    NoExchangeRate(String),
    /// The quantity, or an amount too large to price.
    Invalid(BTreeMap<String, String>),
}

impl PriceProblem {
    /// The stable code a cart line shows.
    pub fn code(&self) -> &'static str {
        match self {
            PriceProblem::UnknownStore => "unknown_store",
            PriceProblem::NoValidOffer => "no_valid_offer",
            PriceProblem::UnknownProduct => "unknown_product",
            PriceProblem::AttributeValues(_) => "attribute_values_changed",
            PriceProblem::NoExchangeRate(_) => "no_exchange_rate",
            PriceProblem::Invalid(_) => "invalid",
        }
    }

    /// Whether the request itself is wrong (422), rather than the line
    /// being unavailable now.
    pub fn is_invalid_request(&self) -> bool {
        !matches!(self, PriceProblem::UnknownStore | PriceProblem::NoValidOffer)
    }

    /// The problem as the error a quote answers: 404 for a store or offer
    /// that is not there, 422 naming the field otherwise.
    pub fn into_error(self) -> Error {
        match self {
            PriceProblem::UnknownStore => Error::not_found("store"),
            PriceProblem::NoValidOffer => Error::NotFound {
                code: "no_valid_offer".into(),
                message: "this store has no valid offer for this product".into(),
            },
            PriceProblem::UnknownProduct => Error::invalid("product_id", "no visible product has this id"),
            PriceProblem::NoExchangeRate(reason) => Error::invalid("currency", reason),
            PriceProblem::AttributeValues(fields) | PriceProblem::Invalid(fields) => Error::Validation { fields },
        }
    }
}

/// A validation error of a pricing step as the problem it means.
fn invalid(error: Error, problem: fn(BTreeMap<String, String>) -> PriceProblem) -> Result<PriceProblem> {
    match error {
        Error::Validation { fields } => Ok(problem(fields)),
        other => Err(other),
    }
}

/// A priced line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    pub quote: Quote,
    pub product_version: u32,
    pub store_currency: String,
    /// The line total in the store's currency (for its revenue).
    pub store_line_total: String,
}

#[derive(Clone)]
pub struct Storefront {
    router: Router,
    catalog: Catalog,
    clock: Arc<dyn Clock>,
}

impl Storefront {
    pub fn register_entities(builder: RuntimeBuilder, clock: Arc<dyn Clock>) -> RuntimeBuilder {
        let context = builder.context();
        builder
            .register(Arc::new(Stores {
                clock: clock.clone(),
                context: context.clone(),
            }))
            .register(Arc::new(Owners::<StoreQuota>::new(context.clone())))
            .register(Arc::new(Transfers))
            .register(Arc::new(FxRates {
                clock,
                context: context.clone(),
            }))
    }

    pub fn new(router: Router, catalog: Catalog, clock: Arc<dyn Clock>) -> Self {
        Self { router, catalog, clock }
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Creates a store supervised by `caller`, within their `max_stores`.
    pub async fn create(&self, caller: &str, max_stores: u64, spec: StoreSpec) -> Result<Store> {
        // Validate before counting against the quota.
        Store::create(String::new(), caller, &spec, 0)?;
        let id = ulid::Ulid::new().to_string();
        let create = StoreCommand::Create {
            supervisor: caller.to_string(),
            spec,
        };
        let made = self.store(&id, create);
        quota::counted::<StoreQuota, _>(&self.router, caller, &id, max_stores, made).await
    }

    pub async fn get(&self, id: &str) -> Result<Store> {
        self.store(id, StoreCommand::Get).await
    }

    /// Runs a store command that answers the store.
    async fn store(&self, id: &str, command: StoreCommand) -> Result<Store> {
        expect_reply!(self.router.ask::<Stores>(id, command).await?, StoreReply::Store(store) => store)
    }

    pub async fn update(&self, caller: &str, id: &str, spec: StoreSpec) -> Result<Store> {
        let command = StoreCommand::Update {
            caller: caller.to_string(),
            spec,
        };
        self.store(id, command).await
    }

    pub async fn set_staff(&self, caller: &str, id: &str, user: &str, window: Option<StaffWindow>) -> Result<Store> {
        let command = StoreCommand::SetStaff {
            caller: caller.to_string(),
            user: user.to_string(),
            window,
        };
        self.store(id, command).await
    }

    pub async fn set_hours(&self, caller: &str, id: &str, week: &[(u8, String, String)]) -> Result<Store> {
        let command = StoreCommand::SetHours {
            caller: caller.to_string(),
            hours: model::week(week)?,
        };
        self.store(id, command).await
    }

    /// Offers a store to `to`, who must exist, be enabled and hold
    /// `store:create`; it moves only once they accept
    /// ([`Storefront::accept_transfer`]). A new offer replaces an older one.
    pub async fn offer_transfer(&self, caller: &str, id: &str, to: &str) -> Result<PendingTransfer> {
        let store = self.get(id).await?;
        store.check_supervisor(caller)?;
        if to == caller {
            return Err(Error::invalid("user_id", "already supervises this store"));
        }
        let grants = Identity::grants_of(&self.router, to, self.clock.now())
            .await?
            .filter(|g| !g.disabled)
            .ok_or_else(|| Error::invalid("user_id", "no user has this id"))?;
        if !grants.permissions.contains("store:create") {
            return Err(Error::invalid("user_id", "this user may not run stores (store:create)"));
        }
        let pending = PendingTransfer {
            from: caller.to_string(),
            to: to.to_string(),
            since: self.now(),
        };
        self.router
            .ask::<Transfers>(id, TransferCommand::Offer(pending))
            .await?;
        let offered = self.router.ask::<Transfers>(id, TransferCommand::Get).await?;
        offered.ok_or_else(|| Error::internal("an offered transfer is gone"))
    }

    /// The store's transfer offered and not yet accepted, if any.
    pub async fn pending_transfer(&self, id: &str) -> Result<Option<PendingTransfer>> {
        self.router.ask::<Transfers>(id, TransferCommand::Get).await
    }

    /// The user a store was offered to takes it, within their `max_stores`.
    pub async fn accept_transfer(&self, caller: &str, id: &str, max_stores: u64) -> Result<Store> {
        let store = self.get(id).await?;
        let pending = self
            .pending_transfer(id)
            .await?
            .ok_or_else(|| Error::not_found("transfer"))?;
        pending.check_accept(caller, &store.supervisor_id)?;
        let command = StoreCommand::Transfer {
            caller: pending.from.clone(),
            to: caller.to_string(),
        };
        let moved = self.store(id, command);
        let store = quota::counted::<StoreQuota, _>(&self.router, caller, id, max_stores, moved).await?;
        quota::uncount::<StoreQuota>(&self.router, &pending.from, id).await?;
        self.router.ask::<Transfers>(id, TransferCommand::Clear).await?;
        Ok(store)
    }

    /// Publishes a new set of exchange rates; older sets stay readable.
    pub async fn publish_rates(&self, base: &str, rates: BTreeMap<String, String>) -> Result<RateSet> {
        let command = FxCommand::Publish {
            base: base.to_string(),
            rates,
        };
        self.router.ask::<FxRates>(FX_RATES, command).await
    }

    pub async fn current_rates(&self) -> Result<RateSet> {
        self.router.ask::<FxRates>(FX_RATES, FxCommand::Current).await
    }

    pub async fn rates(&self, id: u64) -> Result<RateSet> {
        self.router.ask::<FxRates>(FX_RATES, FxCommand::Get { id }).await
    }

    /// Sets a product's offer in a store (supervisor or staff).
    pub async fn set_offer(&self, caller: &str, store_id: &str, product_id: &str, draft: &OfferDraft) -> Result<Offer> {
        let store = self.get(store_id).await?;
        store.check_staff(caller, self.now())?;
        let product = self
            .catalog
            .visible_product(product_id)
            .await?
            .ok_or_else(|| PriceProblem::UnknownProduct.into_error())?;
        let offer = Offer::parse(product_id, draft, &store.currency, &product.values, self.now())?;
        let command = StoreCommand::SetOffer {
            caller: caller.to_string(),
            offer: offer.clone(),
        };
        self.store(store_id, command).await?;
        let listing = Listing {
            currency: store.currency,
            price: offer.price.clone(),
            valid_from: offer.valid_from,
            valid_until: offer.valid_until,
        };
        self.mirror(store_id, product_id, Some(listing)).await?;
        Ok(offer)
    }

    pub async fn remove_offer(&self, caller: &str, store_id: &str, product_id: &str) -> Result<()> {
        let command = StoreCommand::RemoveOffer {
            caller: caller.to_string(),
            product_id: product_id.to_string(),
        };
        self.store(store_id, command).await?;
        self.mirror(store_id, product_id, None).await
    }

    /// Copies a store's price onto the product (for search). The store is
    /// the source of truth and has answered first; the copy is idempotent,
    /// so a client retrying a failed request repairs it.
    async fn mirror(&self, store_id: &str, product_id: &str, listing: Option<Listing>) -> Result<()> {
        self.catalog.set_listing(product_id, store_id, listing).await
    }

    /// The store's currency and its offers valid now.
    pub async fn offers(&self, store_id: &str) -> Result<(String, Vec<Offer>)> {
        let store = self.get(store_id).await?;
        let now = self.now();
        let mut valid = Vec::new();
        let mut after = None;
        loop {
            let page = StoreCommand::Offers {
                after: after.clone(),
                limit: 1_000,
            };
            let offers = expect_reply!(self.router.ask::<Stores>(store_id, page).await?, StoreReply::Offers(o) => o)?;
            let Some(last) = offers.last() else { break };
            after = Some(last.product_id.clone());
            valid.extend(offers.into_iter().filter(|o| o.valid_at(now)));
        }
        Ok((store.currency, valid))
    }

    /// The exact price of `quantity` units with the chosen attribute values,
    /// in `currency` (the store's if `None`), rounded once.
    pub async fn quote(
        &self,
        store_id: &str,
        product_id: &str,
        quantity: u32,
        chosen: &BTreeMap<String, String>,
        currency: Option<&str>,
    ) -> Result<Quote> {
        let line = LineSpec {
            store_id: store_id.to_string(),
            product_id: product_id.to_string(),
            attributes: chosen.clone(),
            quantity,
        };
        match self.price(&line, currency, Rates::Current).await? {
            Ok(priced) => Ok(priced.quote),
            Err(problem) => Err(problem.into_error()),
        }
    }

    /// Prices one line: in `currency` (the store's if `None`), converting
    /// with `rates`. `Ok(Err(problem))` when the line cannot be priced now;
    /// `Err` only when the answer is unknown (a node is down, a fault).
    pub async fn price(
        &self,
        line: &LineSpec,
        currency: Option<&str>,
        rates: Rates<'_>,
    ) -> Result<std::result::Result<PricedLine, PriceProblem>> {
        let get = StoreCommand::GetOffer {
            product_id: line.product_id.clone(),
        };
        let (store, offer) = match self.router.ask::<Stores>(&line.store_id, get).await {
            Ok(StoreReply::Offer(store, offer)) => (store, offer),
            Ok(other) => return Err(Error::unexpected_reply(&other)),
            Err(Error::NotFound { .. }) => return Ok(Err(PriceProblem::UnknownStore)),
            Err(e) => return Err(e),
        };
        let Some(offer) = offer.filter(|o| o.valid_at(self.now())) else {
            return Ok(Err(PriceProblem::NoValidOffer));
        };
        let Some(product) = self.catalog.visible_product(&line.product_id).await? else {
            return Ok(Err(PriceProblem::UnknownProduct));
        };
        let unit = match offer.unit_price(&line.attributes, &product.values, &store.currency) {
            Ok(unit) => unit,
            Err(e) => return invalid(e, PriceProblem::AttributeValues).map(Err),
        };
        let currency = match currency.map(money::currency).transpose() {
            Ok(c) => c.unwrap_or_else(|| store.currency.clone()),
            Err(reason) => return Ok(Err(PriceProblem::NoExchangeRate(reason))),
        };
        let no_rates = || {
            Ok(Err(PriceProblem::NoExchangeRate(
                "no exchange rates are published yet".into(),
            )))
        };
        let fetched;
        let rates = match rates {
            _ if currency == store.currency => None,
            Rates::Current => match self.current_rates().await {
                Ok(r) => {
                    fetched = r;
                    Some(&fetched)
                }
                Err(Error::NotFound { .. }) => return no_rates(),
                Err(e) => return Err(e),
            },
            Rates::Snapshot(Some(r)) => Some(r),
            Rates::Snapshot(None) => return no_rates(),
        };
        let quoted = offers::quote(unit, line.quantity, &currency, rates)
            .and_then(|quote| Ok((quote, offers::quote(unit, line.quantity, &store.currency, None)?)));
        let (quote, in_store) = match quoted {
            Ok(both) => both,
            Err(Error::Validation { fields }) if fields.contains_key("currency") => {
                return Ok(Err(PriceProblem::NoExchangeRate(fields["currency"].clone())));
            }
            Err(e) => return invalid(e, PriceProblem::Invalid).map(Err),
        };
        Ok(Ok(PricedLine {
            quote,
            product_version: product.version,
            store_currency: store.currency,
            store_line_total: in_store.line_total,
        }))
    }
}
