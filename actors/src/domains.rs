//! Every business domain, declared once: its entity kinds and its service.
//! Start-up registers [`Domains::register_entities`] with the runtime,
//! then builds [`Domains::start`]; the HTTP edge holds the [`Domains`] and
//! its route table lists each domain's router. Adding a domain means adding
//! it here and its router to `http-edge/src/routes/mod.rs` — nothing else.

use crate::cart::Carts;
use crate::catalog::Catalog;
use crate::error::Result;
use crate::identity::{Identity, KeyRing, Ports};
use crate::inventory::Inventory;
use crate::media::Media;
use crate::media::service::MediaSettings;
use crate::orders::Orders;
use crate::payments::Payments;
use crate::payments::delivery::Endpoint;
use crate::payments::processors::PaymentSettings;
use crate::ports::{Clock, Millis};
use crate::runtime::{Runtime, RuntimeBuilder, Storage};
use crate::search::Search;
use crate::storefront::Storefront;
use std::sync::Arc;

/// What the domains need from the node's configuration.
pub struct DomainSettings {
    /// Identity's password hasher, mailer and clock; the clock is every
    /// domain's.
    pub ports: Ports,
    pub key_rotation_secs: u64,
    pub access_token_ttl_secs: u64,
    /// `[orders] placement_lease_ms`.
    pub placement_lease: Millis,
    /// Where the search index reports its size.
    pub search_index_bytes: prometheus_client::metrics::gauge::Gauge,
    /// `[payments]`.
    pub payments: PaymentSettings,
    /// Where the sandbox sends its webhooks (set once the node listens).
    pub webhook_endpoint: Endpoint,
    /// `[media]` and the data directory its files go under.
    pub media: MediaSettings,
}

impl DomainSettings {
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.ports.clock.clone()
    }
}

/// Every domain's service on one node. Cheap to clone.
#[derive(Clone)]
pub struct Domains {
    pub identity: Identity,
    pub catalog: Catalog,
    pub storefront: Storefront,
    pub search: Search,
    pub inventory: Inventory,
    pub carts: Carts,
    pub orders: Orders,
    pub payments: Payments,
    pub media: Media,
    /// The cluster's signing keys (identity's), for key rotation and peers.
    pub keys: Arc<KeyRing>,
}

impl Domains {
    /// Registers every domain's entity kinds with the runtime being built.
    pub fn register_entities(builder: RuntimeBuilder, settings: &DomainSettings) -> RuntimeBuilder {
        let clock = settings.clock();
        let builder = Identity::register_entities(builder, &settings.ports);
        let builder = Catalog::register_entities(builder, clock.clone());
        let builder = Storefront::register_entities(builder, clock.clone());
        let builder = Inventory::register_entities(builder, clock.clone());
        let builder = Carts::register_entities(builder, clock.clone());
        let refunds = Payments::return_refunds(&builder);
        let builder = Orders::register_entities(builder, clock.clone(), settings.placement_lease, refunds);
        let builder = Payments::register_entities(
            builder,
            &settings.payments,
            clock.clone(),
            settings.webhook_endpoint.clone(),
        );
        Media::register_entities(builder, clock, &settings.media)
    }

    /// Builds every domain's service on the started runtime, each given the
    /// services of the domains it asks.
    pub async fn start(runtime: &Runtime, storage: &Storage, settings: DomainSettings) -> Result<Self> {
        let clock = settings.clock();
        let router = runtime.router();
        let media = Media::new(router.clone(), clock.clone(), settings.media.clone());
        let catalog = Catalog::new(router.clone(), Arc::new(media.clone()));
        let storefront = Storefront::new(router.clone(), catalog.clone(), clock.clone());
        let search = Search::new(
            router.clone(),
            storefront.clone(),
            clock.clone(),
            settings.search_index_bytes.clone(),
        )?;
        let inventory = Inventory::new(router.clone(), storefront.clone(), catalog.clone(), clock.clone());
        let carts = Carts::new(router.clone(), storefront.clone());
        let orders = Orders::new(router.clone(), storefront.clone(), carts.clone(), clock.clone());
        let payments = Payments::new(
            router.clone(),
            orders.clone(),
            storefront.clone(),
            settings.payments.clone(),
            clock.clone(),
        );
        let keys = Arc::new(KeyRing::open(storage, settings.key_rotation_secs, settings.access_token_ttl_secs).await?);
        let identity = Identity::new(router, keys.clone(), settings.ports);
        Ok(Self {
            identity,
            catalog,
            storefront,
            search,
            inventory,
            carts,
            orders,
            payments,
            media,
            keys,
        })
    }
}
