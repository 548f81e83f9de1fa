//! Order flows, called by the edge (and by payments, later).
//!
//! Placing an order: validate the request; claim the idempotency key on
//! the order entity (`Begin`); price every line with one exchange-rate
//! snapshot; hold stock for every line at once — stock entities may live
//! on other nodes; if any line fails, release what was held (`Abort`) and
//! answer 409 with every failing line; otherwise `Confirm`. A crash in
//! between leaves a placement the entity's alarm releases after
//! [`super::actor::PLACING_LEASE`].

use super::actor::{OrderCommand, OrderReply, Orders, hold_id, key_reused, order_id};
use super::index::{self, OrderIndex, OrderIndexChunk};
use super::model::{
    Billing, ChargeUpdate, Contact, FxSnapshot, Line, LineStatus, Order, OrderStatus, PaymentOutcome, Return,
    ReturnLine, Shipment, Shipping, status_of, sum,
};
use crate::cart::Carts;
use crate::cart::service::problem_code;
use crate::error::{Error, FieldErrors, LineShortage, Result};
use crate::identity::model::fields;
use crate::inventory::actor::{StockCommand, StockItems, StockReply, stock_key};
use crate::money;
use crate::ports::Clock;
use crate::runtime::{Router, RuntimeBuilder, WeakRouter, encode};
use crate::storefront::service::{LineSpec, PricedLine, Rates, Storefront};
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

pub const MAX_LINES: usize = 100;
pub const PAGE_MAX: usize = 100;

/// What a buyer sends to place an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceRequest {
    /// `None`: the cart's lines.
    pub lines: Option<Vec<LineSpec>>,
    pub currency: String,
    pub shipping: Shipping,
    pub billing: Billing,
}

/// One store's sales by order status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesFigure {
    pub orders: u64,
    pub units: u64,
    /// In the store's currency.
    pub revenue: String,
}

#[derive(Clone)]
pub struct OrderService {
    router: Router,
    storefront: Storefront,
    carts: Carts,
    clock: Arc<dyn Clock>,
}

fn contact(errors: &mut FieldErrors, at: &str, c: &Contact) -> Contact {
    Contact {
        name: errors
            .check(&format!("{at}.name"), fields::display_name(&c.name))
            .unwrap_or_default(),
        email: errors
            .check(&format!("{at}.email"), fields::email(&c.email))
            .unwrap_or_default(),
        phone: errors
            .check(&format!("{at}.phone"), fields::phone(&c.phone))
            .unwrap_or_default(),
    }
}

fn address(errors: &mut FieldErrors, at: &str, a: &fields::Address) -> fields::Address {
    match fields::address(a) {
        Ok(a) => a,
        Err(reasons) => {
            for (field, reason) in reasons {
                errors.add(format!("{at}.{field}"), reason);
            }
            a.clone()
        }
    }
}

/// Checks a placement field by field; the lines are checked by pricing.
fn validate(request: &PlaceRequest, lines: &[LineSpec]) -> Result<PlaceRequest> {
    let mut errors = FieldErrors::new();
    let currency = errors.check("currency", money::currency(&request.currency));
    if lines.is_empty() {
        errors.add("lines", "order at least one line (the cart is empty)");
    }
    if lines.len() > MAX_LINES {
        errors.add("lines", format!("at most {MAX_LINES} lines"));
    }
    for (i, line) in lines.iter().enumerate() {
        if line.quantity == 0 || line.quantity > crate::storefront::offers::QUANTITY_MAX {
            errors.add(format!("lines[{i}].quantity"), "must be 1 to 10000");
        }
    }
    let shipping = Shipping {
        contact: contact(&mut errors, "shipping.contact", &request.shipping.contact),
        address: address(&mut errors, "shipping.address", &request.shipping.address),
        methods: request.shipping.methods.clone(),
    };
    for line in lines {
        match shipping.methods.get(&line.store_id).map(|m| m.trim()) {
            Some(m) if !m.is_empty() && m.len() <= 100 => {}
            _ => errors.add(
                format!("shipping.methods.{}", line.store_id),
                "name a shipping method (1 to 100 characters) for every store ordered from",
            ),
        }
    }
    let billing = Billing {
        contact: contact(&mut errors, "billing.contact", &request.billing.contact),
        address: request
            .billing
            .address
            .as_ref()
            .map(|a| address(&mut errors, "billing.address", a)),
    };
    errors.into_result()?;
    Ok(PlaceRequest {
        lines: Some(lines.to_vec()),
        currency: currency.unwrap_or_default(),
        shipping,
        billing,
    })
}

fn request_hash<T: Serialize>(value: &T) -> Result<u64> {
    Ok(xxhash_rust::xxh3::xxh3_64(&encode(value)?))
}

/// How a pricing failure counts: a line that cannot be had (409) or an
/// invalid request (422, named after the line).
fn pricing_failure(index: usize, error: Error) -> std::result::Result<LineShortage, Error> {
    match error {
        Error::Validation { fields } => Err(Error::Validation {
            fields: fields
                .into_iter()
                .map(|(field, reason)| (format!("lines[{index}].{field}"), reason))
                .collect(),
        }),
        other => match problem_code(&other) {
            Some(reason) => Ok(LineShortage {
                index,
                reason,
                available: 0,
            }),
            None => Err(other),
        },
    }
}

impl OrderService {
    pub fn register_entities(
        builder: RuntimeBuilder,
        clock: Arc<dyn Clock>,
        router: Arc<OnceLock<WeakRouter>>,
    ) -> RuntimeBuilder {
        builder
            .register(Arc::new(Orders {
                clock,
                router: router.clone(),
            }))
            .register(Arc::new(OrderIndex { router }))
            .register(Arc::new(OrderIndexChunk))
    }

    pub fn new(router: Router, storefront: Storefront, carts: Carts, clock: Arc<dyn Clock>) -> Self {
        Self {
            router,
            storefront,
            carts,
            clock,
        }
    }

    async fn ask(&self, id: &str, command: OrderCommand) -> Result<OrderReply> {
        self.router.ask::<Orders>(id, command).await
    }

    async fn order(&self, id: &str, command: OrderCommand) -> Result<Order> {
        match self.ask(id, command).await? {
            OrderReply::Order(order) => Ok(*order),
            other => Err(Error::internal(format!("order answered {other:?}"))),
        }
    }

    /// Places an order; `Ok((order, false))` for a replay of a placed one.
    pub async fn place(&self, buyer: &str, idempotency_key: &str, request: PlaceRequest) -> Result<(Order, bool)> {
        let key = idempotency_key.trim();
        if key.is_empty() || key.len() > 255 {
            return Err(Error::invalid("Idempotency-Key", "send a key of 1 to 255 characters"));
        }
        let hash = request_hash(&request)?;
        let from_cart = request.lines.is_none();
        let cart = match &request.lines {
            Some(_) => Vec::new(),
            None => self.carts.lines(buyer).await?,
        };
        let lines: Vec<LineSpec> = match &request.lines {
            Some(lines) => lines.clone(),
            None => cart.iter().map(|l| l.spec.clone()).collect(),
        };
        let id = order_id(buyer, key);
        let held_lines = lines
            .iter()
            .map(|l| (l.store_id.clone(), l.product_id.clone()))
            .collect();
        let begin = OrderCommand::Begin {
            buyer: buyer.to_string(),
            request_hash: hash,
            lines: held_lines,
        };
        // A replay is answered before the body is checked again.
        let attempt = match self.ask(&id, begin).await? {
            OrderReply::Order(order) => return Ok((*order, false)),
            OrderReply::Attempt(n) => n,
            other => return Err(Error::internal(format!("order answered {other:?}"))),
        };
        match self.attempt(&id, attempt, buyer, &request, &lines).await {
            Ok(order) => {
                if from_cart {
                    let ordered = cart.into_iter().map(|l| l.line_id).collect();
                    if let Err(error) = self.carts.drop_lines(buyer, ordered).await {
                        tracing::warn!(%error, "ordered lines could not be removed from the cart");
                    }
                }
                Ok((order, true))
            }
            Err(error) => {
                match self.ask(&id, OrderCommand::Abort { attempt }).await {
                    Ok(_) => self.flush(&id).await,
                    // The entity's alarm releases the holds after the lease.
                    Err(abort) => tracing::warn!(%abort, "aborting a placement failed"),
                }
                Err(error)
            }
        }
    }

    async fn attempt(
        &self,
        id: &str,
        attempt: u32,
        buyer: &str,
        request: &PlaceRequest,
        lines: &[LineSpec],
    ) -> Result<Order> {
        let request = validate(request, lines)?;
        let now = self.clock.now();
        let rates = self.storefront.current_rates().await.ok();
        let priced = join_all(lines.iter().map(|l| {
            self.storefront
                .price(l, Some(&request.currency), Rates::Snapshot(rates.as_ref()))
        }))
        .await;
        let mut shortages = Vec::new();
        let mut prices: Vec<Option<PricedLine>> = Vec::new();
        for (i, p) in priced.into_iter().enumerate() {
            match p {
                Ok(p) => prices.push(Some(p)),
                Err(e) => {
                    shortages.push(pricing_failure(i, e)?);
                    prices.push(None);
                }
            }
        }
        let holds = join_all(lines.iter().enumerate().map(|(i, l)| {
            let command = StockCommand::Reserve {
                id: hold_id(id, attempt, i),
                quantity: u64::from(l.quantity),
            };
            let key = stock_key(&l.store_id, &l.product_id);
            async move { self.router.ask::<StockItems>(&key, command).await }
        }))
        .await;
        let mut held = Vec::new();
        let mut failure = None;
        for (i, h) in holds.into_iter().enumerate() {
            match h {
                Ok(StockReply::Reserved(h)) => held.push(h),
                Ok(StockReply::Refused(s)) => shortages.push(LineShortage {
                    index: i,
                    reason: s.reason,
                    available: s.available,
                }),
                Ok(other) => failure = Some(Error::internal(format!("stock answered {other:?}"))),
                Err(e) => failure = Some(e),
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        if !shortages.is_empty() {
            shortages.sort_by_key(|s| s.index);
            return Err(Error::Shortage { lines: shortages });
        }
        let mut converted = false;
        let order_lines: Vec<Line> = lines
            .iter()
            .zip(prices.into_iter().flatten())
            .zip(held)
            .enumerate()
            .map(|(i, ((spec, price), hold))| {
                converted |= price.quote.rates_id.is_some();
                Line {
                    line_id: format!("l{}", i + 1),
                    store_id: spec.store_id.clone(),
                    product_id: spec.product_id.clone(),
                    product_version: price.product_version,
                    attributes: spec.attributes.clone(),
                    quantity: hold.quantity,
                    unit_price: price.quote.unit_price,
                    line_total: price.quote.line_total,
                    store_currency: price.store_currency,
                    store_line_total: price.store_line_total,
                    hold: hold_id(id, attempt, i),
                    reserved_until: hold.until,
                    warranty_days: hold.warranty_days,
                    status: LineStatus::Reserved,
                    paid: 0,
                    returning: 0,
                    shipment_id: None,
                    delivered_at: None,
                }
            })
            .collect();
        let order = Order {
            id: id.to_string(),
            buyer: buyer.to_string(),
            created_at: now,
            currency: request.currency.clone(),
            fx: rates.filter(|_| converted).map(|r| FxSnapshot {
                rates_id: r.id,
                base: r.base,
                rates: r.rates,
            }),
            shipping: request.shipping,
            billing: request.billing,
            lines: order_lines,
            cancelled: false,
            charges: BTreeMap::new(),
            shipments: Vec::new(),
            returns: Vec::new(),
            updated_at: now,
        };
        self.act(
            id,
            OrderCommand::Confirm {
                attempt,
                order: Box::new(order),
            },
        )
        .await
    }

    /// The order as `caller` may see it: the buyer sees it whole, store
    /// staff see their stores' lines (`Some(stores)`); others get 404.
    pub async fn view(&self, caller: &str, id: &str) -> Result<(Order, Option<Vec<String>>)> {
        let order = self.order(id, OrderCommand::Get).await?;
        if order.buyer == caller {
            return Ok((order, None));
        }
        let mut mine = Vec::new();
        for store in order.stores() {
            if self.is_staff(caller, &store).await? {
                mine.push(store);
            }
        }
        if mine.is_empty() {
            return Err(Error::not_found("order"));
        }
        Ok((order, Some(mine)))
    }

    async fn is_staff(&self, caller: &str, store_id: &str) -> Result<bool> {
        match self.storefront.get(store_id).await {
            Ok(store) => Ok(store.check_staff(caller, self.clock.now()).is_ok()),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn check_staff(&self, caller: &str, store_id: &str) -> Result<()> {
        let store = self.storefront.get(store_id).await?;
        store.check_staff(caller, self.clock.now())
    }

    /// Orders of an index, newest first, read from the orders themselves.
    async fn listing(&self, name: &str, cursor: Option<&str>, limit: usize) -> Result<(Vec<Order>, Option<String>)> {
        let before = match cursor {
            Some(c) => Some(
                c.parse::<u64>()
                    .map_err(|_| Error::bad_request("invalid_cursor", "the cursor is not one this server issued"))?,
            ),
            None => None,
        };
        let (entries, next) = index::page(&self.router, name, before, limit.clamp(1, PAGE_MAX)).await?;
        let orders = join_all(entries.iter().map(|(_, id)| self.order(id, OrderCommand::Get))).await;
        let mut out = Vec::new();
        for order in orders {
            match order {
                Ok(o) => out.push(o),
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((out, next.map(|n| n.to_string())))
    }

    pub async fn mine(&self, buyer: &str, cursor: Option<&str>, limit: usize) -> Result<(Vec<Order>, Option<String>)> {
        self.listing(&format!("buyer:{buyer}"), cursor, limit).await
    }

    pub async fn of_store(
        &self,
        caller: &str,
        store_id: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Order>, Option<String>)> {
        self.check_staff(caller, store_id).await?;
        self.listing(&format!("store:{store_id}"), cursor, limit).await
    }

    /// Runs a command, then carries out the steps it left pending (if that
    /// fails, the order's alarm retries them).
    async fn act(&self, id: &str, command: OrderCommand) -> Result<Order> {
        let order = self.order(id, command).await?;
        self.flush(id).await;
        Ok(order)
    }

    async fn flush(&self, id: &str) {
        if let Err(error) = self.ask(id, OrderCommand::Flush).await {
            tracing::warn!(order = id, %error, "order steps left to the alarm");
        }
    }

    pub async fn cancel(&self, buyer: &str, id: &str) -> Result<Order> {
        self.act(id, OrderCommand::Cancel { buyer: buyer.into() }).await
    }

    /// Payments tell the order what a charge has paid so far (cumulative
    /// units per line, with a version that grows with every update).
    pub async fn record_payment(
        &self,
        id: &str,
        charge_id: &str,
        update: ChargeUpdate,
    ) -> Result<(Order, PaymentOutcome)> {
        let command = OrderCommand::Pay {
            charge_id: charge_id.into(),
            update,
        };
        let reply = self.ask(id, command).await?;
        self.flush(id).await;
        match reply {
            OrderReply::Paid(order, outcome) => Ok((*order, outcome)),
            other => Err(Error::internal(format!("order answered {other:?}"))),
        }
    }

    pub async fn ship(
        &self,
        caller: &str,
        store_id: &str,
        id: &str,
        line_ids: Vec<String>,
        carrier: String,
        tracking: String,
    ) -> Result<(Order, String)> {
        self.check_staff(caller, store_id).await?;
        let current = self.order(id, OrderCommand::Get).await?;
        let shipment_id = format!("shp_{}", current.shipments.len() + 1);
        let shipment = Shipment {
            id: shipment_id,
            store_id: store_id.into(),
            line_ids,
            carrier: carrier.trim().into(),
            tracking: tracking.trim().into(),
            shipped_at: self.clock.now(),
            delivered_at: None,
        };
        let order = self
            .act(
                id,
                OrderCommand::Ship {
                    store_id: store_id.into(),
                    shipment,
                },
            )
            .await?;
        let made = order.shipments.last().map(|s| s.id.clone()).unwrap_or_default();
        Ok((order, made))
    }

    pub async fn deliver(&self, caller: &str, store_id: &str, id: &str, shipment_id: &str) -> Result<Order> {
        self.check_staff(caller, store_id).await?;
        let command = OrderCommand::Deliver {
            store_id: store_id.into(),
            shipment_id: shipment_id.into(),
        };
        self.act(id, command).await
    }

    /// Asks to return units of paid lines; idempotent per key.
    pub async fn request_return(
        &self,
        buyer: &str,
        id: &str,
        idempotency_key: &str,
        lines: Vec<(String, u64, String)>,
    ) -> Result<(Order, Return)> {
        let key = idempotency_key.trim();
        if key.is_empty() || key.len() > 255 {
            return Err(Error::invalid("Idempotency-Key", "send a key of 1 to 255 characters"));
        }
        let suffix = id.strip_prefix("ord_").ok_or_else(|| Error::not_found("order"))?;
        let return_id = format!("ret_{suffix}_{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()));
        let request_hash = request_hash(&lines)?;
        let ret_lines: Vec<ReturnLine> = lines
            .into_iter()
            .map(|(line_id, quantity, reason)| ReturnLine {
                line_id,
                quantity,
                reason: reason.trim().to_string(),
                approved: None,
                rejected: None,
                decision_reason: None,
            })
            .collect();
        let current = self.order(id, OrderCommand::Get).await?;
        if current.buyer != buyer {
            return Err(Error::not_found("order"));
        }
        let refund_amount = sum(
            ret_lines
                .iter()
                .filter_map(|r| {
                    let line = current.line(&r.line_id)?;
                    let unit = money::decimal(&line.unit_price).ok()?;
                    Some(money::format(
                        unit * rust_decimal::Decimal::from(r.quantity),
                        &current.currency,
                    ))
                })
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
            &current.currency,
        );
        let ret = Return {
            id: return_id.clone(),
            request_hash,
            lines: ret_lines,
            refund_amount,
            created_at: self.clock.now(),
        };
        let order = self
            .act(
                id,
                OrderCommand::RequestReturn {
                    buyer: buyer.into(),
                    ret,
                },
            )
            .await?;
        let ret = order
            .returns
            .iter()
            .find(|r| r.id == return_id)
            .cloned()
            .ok_or_else(key_reused)?;
        Ok((order, ret))
    }

    /// A store decides its lines of a return.
    pub async fn decide(
        &self,
        caller: &str,
        store_id: &str,
        return_id: &str,
        decisions: Vec<(String, u64, u64, String, bool)>,
    ) -> Result<(Order, Return)> {
        self.check_staff(caller, store_id).await?;
        let order_id = return_id
            .strip_prefix("ret_")
            .and_then(|r| r.split_once('_'))
            .map(|(order, _)| format!("ord_{order}"))
            .ok_or_else(|| Error::not_found("return"))?;
        let command = OrderCommand::Decide {
            store_id: store_id.into(),
            return_id: return_id.into(),
            decisions,
        };
        let order = self.act(&order_id, command).await.map_err(|e| match e {
            Error::NotFound { .. } => Error::not_found("return"),
            other => other,
        })?;
        let ret = order
            .returns
            .iter()
            .find(|r| r.id == return_id)
            .cloned()
            .ok_or_else(|| Error::not_found("return"))?;
        Ok((order, ret))
    }

    /// The store's orders, units and revenue by status of its part of each
    /// order, counted from the orders themselves.
    pub async fn dashboard(&self, caller: &str, store_id: &str) -> Result<(String, BTreeMap<String, SalesFigure>)> {
        self.check_staff(caller, store_id).await?;
        let currency = self.storefront.get(store_id).await?.currency;
        let name = format!("store:{store_id}");
        let mut figures: BTreeMap<OrderStatus, (u64, u64, Vec<String>)> = BTreeMap::new();
        let mut cursor = None;
        loop {
            let (orders, next) = self.listing(&name, cursor.as_deref(), PAGE_MAX).await?;
            for order in &orders {
                let lines = order.lines.iter().filter(|l| l.store_id == store_id);
                let status = status_of(lines.clone(), order.cancelled);
                let figure = figures.entry(status).or_default();
                figure.0 += 1;
                figure.1 += lines.clone().map(|l| l.quantity).sum::<u64>();
                figure.2.extend(lines.map(|l| l.store_line_total.clone()));
            }
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        let out = figures
            .into_iter()
            .map(|(status, (orders, units, totals))| {
                let revenue = sum(totals.iter().map(String::as_str), &currency);
                (status.as_str().to_string(), SalesFigure { orders, units, revenue })
            })
            .collect();
        Ok((currency, out))
    }
}
