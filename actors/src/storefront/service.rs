//! Storefront flows, called by the edge.

use super::actor::{FX_RATES, FxCommand, FxRates, StoreCommand, Stores, SupervisorCommand, Supervisors};
use super::model::{self, StaffWindow, Store, StoreSpec};
use super::offers::{self, Offer, OfferDraft, Quote};
use crate::catalog::actor::{ProductCommand, Products};
use crate::catalog::attributes::AttrValue;
use crate::catalog::products::Listing;
use crate::error::{Error, Result};
use crate::identity::actor::{UserCommand, UserReply, Users};
use crate::identity::model::access::quota;
use crate::ports::Clock;
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
    clock: Arc<dyn Clock>,
}

impl Storefront {
    pub fn register_entities(builder: RuntimeBuilder, clock: Arc<dyn Clock>) -> RuntimeBuilder {
        builder
            .register(Arc::new(Stores { clock: clock.clone() }))
            .register(Arc::new(Supervisors))
            .register(Arc::new(FxRates { clock }))
    }

    pub fn new(router: Router, clock: Arc<dyn Clock>) -> Self {
        Self { router, clock }
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Creates a store supervised by `caller`, within their `max_stores`.
    pub async fn create(&self, caller: &str, max_stores: u64, spec: StoreSpec) -> Result<Store> {
        // Validate before counting against the quota.
        Store::create(String::new(), caller, &spec, 0)?;
        let id = ulid::Ulid::new().to_string();
        let add = SupervisorCommand::Add {
            store: id.clone(),
            limit: max_stores,
        };
        self.router.ask::<Supervisors>(caller, add).await?;
        let create = StoreCommand::Create {
            supervisor: caller.to_string(),
            spec,
        };
        match self.router.ask::<Stores>(&id, create).await {
            Ok(store) => Ok(store),
            Err(e) => {
                let _ = self
                    .router
                    .ask::<Supervisors>(caller, SupervisorCommand::Remove { store: id })
                    .await;
                Err(e)
            }
        }
    }

    pub async fn get(&self, id: &str) -> Result<Store> {
        self.router.ask::<Stores>(id, StoreCommand::Get).await
    }

    pub async fn update(&self, caller: &str, id: &str, spec: StoreSpec) -> Result<Store> {
        let command = StoreCommand::Update {
            caller: caller.to_string(),
            spec,
        };
        self.router.ask::<Stores>(id, command).await
    }

    pub async fn set_staff(&self, caller: &str, id: &str, user: &str, window: Option<StaffWindow>) -> Result<Store> {
        let command = StoreCommand::SetStaff {
            caller: caller.to_string(),
            user: user.to_string(),
            window,
        };
        self.router.ask::<Stores>(id, command).await
    }

    pub async fn set_hours(&self, caller: &str, id: &str, week: &[(u8, String, String)]) -> Result<Store> {
        let command = StoreCommand::SetHours {
            caller: caller.to_string(),
            hours: model::week(week)?,
        };
        self.router.ask::<Stores>(id, command).await
    }

    /// Hands a store to `to`, who must exist and have `max_stores` left.
    pub async fn transfer(&self, caller: &str, id: &str, to: &str) -> Result<Store> {
        self.get(id).await?.check_supervisor(caller)?;
        let target = match self.router.ask::<Users>(to, UserCommand::Get).await {
            Ok(UserReply::User(user)) => user,
            Ok(_) => return Err(Error::internal("unexpected reply")),
            Err(Error::NotFound { .. }) => return Err(Error::invalid("user_id", "no user has this id")),
            Err(e) => return Err(e),
        };
        let limit = quota(&target.quotas(), "max_stores");
        let add = SupervisorCommand::Add {
            store: id.to_string(),
            limit,
        };
        self.router
            .ask::<Supervisors>(to, add)
            .await
            .map_err(|e| match e.code() {
                "quota_exceeded" => Error::conflict(
                    "target_quota_exceeded",
                    format!("the new supervisor cannot take it: {e}"),
                ),
                _ => e,
            })?;
        let command = StoreCommand::Transfer {
            caller: caller.to_string(),
            to: to.to_string(),
        };
        match self.router.ask::<Stores>(id, command).await {
            Ok(store) => {
                self.router
                    .ask::<Supervisors>(caller, SupervisorCommand::Remove { store: id.to_string() })
                    .await?;
                Ok(store)
            }
            Err(e) => {
                let _ = self
                    .router
                    .ask::<Supervisors>(to, SupervisorCommand::Remove { store: id.to_string() })
                    .await;
                Err(e)
            }
        }
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

    /// The product's current attribute values and version, if it exists and
    /// is visible.
    async fn visible_product(&self, product_id: &str) -> Result<(Vec<(String, AttrValue)>, u32)> {
        let unknown = || Error::invalid("product_id", "no visible product has this id");
        match self.router.ask::<Products>(product_id, ProductCommand::Get).await {
            Ok(product) if product.readable_by(None) => {
                let current = product.current();
                Ok((current.attributes.clone(), current.version))
            }
            Ok(_) | Err(Error::NotFound { .. }) => Err(unknown()),
            Err(e) => Err(e),
        }
    }

    /// Sets a product's offer in a store (supervisor or staff).
    pub async fn set_offer(&self, caller: &str, store_id: &str, product_id: &str, draft: &OfferDraft) -> Result<Offer> {
        let store = self.get(store_id).await?;
        store.check_staff(caller, self.now())?;
        let (values, _) = self.visible_product(product_id).await?;
        let offer = Offer::parse(product_id, draft, &store.currency, &values, self.now())?;
        let command = StoreCommand::SetOffer {
            caller: caller.to_string(),
            offer: offer.clone(),
        };
        self.router.ask::<Stores>(store_id, command).await?;
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
        self.router.ask::<Stores>(store_id, command).await?;
        self.mirror(store_id, product_id, None).await
    }

    /// Copies a store's price onto the product (for search). The store is
    /// the source of truth and has answered first; the copy is idempotent,
    /// so a client retrying a failed request repairs it.
    async fn mirror(&self, store_id: &str, product_id: &str, listing: Option<Listing>) -> Result<()> {
        let command = ProductCommand::List {
            store: store_id.to_string(),
            listing,
        };
        match self.router.ask::<Products>(product_id, command).await {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The store's currency and its offers valid now.
    pub async fn offers(&self, store_id: &str) -> Result<(String, Vec<Offer>)> {
        let store = self.get(store_id).await?;
        let now = self.now();
        Ok((
            store.currency,
            store.offers.into_values().filter(|o| o.valid_at(now)).collect(),
        ))
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
        Ok(self.price(&line, currency, Rates::Current).await?.quote)
    }

    /// Prices one line: in `currency` (the store's if `None`), converting
    /// with `rates`. Errors: no valid offer (404 `no_valid_offer`), unknown
    /// product or attribute values it lacks (422).
    pub async fn price(&self, line: &LineSpec, currency: Option<&str>, rates: Rates<'_>) -> Result<PricedLine> {
        let store = self.get(&line.store_id).await?;
        let offer = store
            .offers
            .get(&line.product_id)
            .filter(|o| o.valid_at(self.now()))
            .ok_or_else(|| Error::NotFound {
                code: "no_valid_offer".into(),
                message: "this store has no valid offer for this product".into(),
            })?;
        let (values, product_version) = self.visible_product(&line.product_id).await?;
        let unit = offer.unit_price(&line.attributes, &values, &store.currency)?;
        let currency = match currency {
            Some(c) => money::currency(c).map_err(|r| Error::invalid("currency", r))?,
            None => store.currency.clone(),
        };
        let no_rates = || Error::invalid("currency", "no exchange rates are published yet");
        let fetched;
        let rates = match rates {
            _ if currency == store.currency => None,
            Rates::Current => {
                fetched = self.current_rates().await.map_err(|_| no_rates())?;
                Some(&fetched)
            }
            Rates::Snapshot(Some(r)) => Some(r),
            Rates::Snapshot(None) => return Err(no_rates()),
        };
        let quote = offers::quote(unit, line.quantity, &currency, rates)?;
        let in_store = offers::quote(unit, line.quantity, &store.currency, None)?;
        Ok(PricedLine {
            quote,
            product_version,
            store_currency: store.currency,
            store_line_total: in_store.line_total,
        })
    }
}
