//! Order flows after placement (see `place.rs`), called by the edge (and
//! by payments): views and listings, cancellation, payment updates,
//! shipments, returns and the store dashboard.

use super::actor::{OrderCommand, OrderEntity, OrderReply, key_reused};
use super::index::{self, OrderIndex, OrderIndexChunk};
use super::model::{ChargeUpdate, Decision, Order, PaymentOutcome, Return, ReturnLine, ShipmentRequest, sum};
use super::place::{idempotency_key_of, request_hash};
use super::record::{self, HeldUnits, OpenOrders};
use super::refunds::ReturnRefunds;
use super::sales::SalesBook;
use super::sales_book::{SalesCommand, SalesReply, StoreSales, order_of};
use crate::cart::Carts;
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::ports::{Clock, Millis};
use crate::quota::{Owners, Tallies};
use crate::runtime::{Router, RuntimeBuilder};
use crate::shared::page::{self, Limit};
use crate::storefront::service::Storefront;
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One store's sales by order status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesFigure {
    pub orders: u64,
    pub units: u64,
    /// In the store's currency.
    pub revenue: String,
}

#[derive(Clone)]
pub struct Orders {
    pub(super) router: Router,
    pub(super) storefront: Storefront,
    pub(super) carts: Carts,
    pub(super) clock: Arc<dyn Clock>,
}

impl Orders {
    pub fn register_entities(
        builder: RuntimeBuilder,
        clock: Arc<dyn Clock>,
        lease: Millis,
        refunds: Arc<dyn ReturnRefunds>,
    ) -> RuntimeBuilder {
        let context = builder.context();
        builder
            .register(Arc::new(OrderEntity {
                clock,
                context: context.clone(),
                lease,
                refunds,
            }))
            .register(Arc::new(OrderIndex {
                context: context.clone(),
            }))
            .register(Arc::new(Owners::<OpenOrders>::new(context.clone())))
            .register(Arc::new(Tallies::<HeldUnits>::new(context.clone())))
            .register(Arc::new(OrderIndexChunk))
            .register(Arc::new(StoreSales { context }))
    }

    pub fn new(router: Router, storefront: Storefront, carts: Carts, clock: Arc<dyn Clock>) -> Self {
        Self {
            router,
            storefront,
            carts,
            clock,
        }
    }

    pub(super) async fn ask(&self, id: &str, command: OrderCommand) -> Result<OrderReply> {
        self.router.ask::<OrderEntity>(id, command).await
    }

    pub(super) async fn order(&self, id: &str, command: OrderCommand) -> Result<Order> {
        expect_reply!(self.ask(id, command).await?, OrderReply::Order(order) => *order)
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
    async fn listing(&self, name: &str, cursor: Option<&str>, limit: Limit) -> Result<(Vec<Order>, Option<String>)> {
        let before = cursor.map(page::parsed_position::<u64>).transpose()?;
        let (entries, next) = index::page(&self.router, name, before, limit.get()).await?;
        let orders = self.orders_by_id(entries.iter().map(|(_, id)| id.as_str())).await?;
        Ok((orders, next.map(|n| page::cursor(&n.to_string()))))
    }

    /// The orders with these ids, in this order (any that is gone left out).
    async fn orders_by_id(&self, ids: impl Iterator<Item = &str>) -> Result<Vec<Order>> {
        let orders = join_all(ids.map(|id| self.order(id, OrderCommand::Get))).await;
        let mut out = Vec::new();
        for order in orders {
            match order {
                Ok(o) => out.push(o),
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    pub async fn mine(&self, buyer: &str, cursor: Option<&str>, limit: Limit) -> Result<(Vec<Order>, Option<String>)> {
        self.listing(&format!("buyer:{buyer}"), cursor, limit).await
    }

    pub async fn of_store(
        &self,
        caller: &str,
        store_id: &str,
        cursor: Option<&str>,
        limit: Limit,
    ) -> Result<(Vec<Order>, Option<String>)> {
        self.check_staff(caller, store_id).await?;
        self.store_listing(store_id, cursor, limit).await
    }

    /// A store's orders, newest first, from its sales book (which counts in
    /// the orders placed before books were kept, once, on first use).
    async fn store_listing(
        &self,
        store_id: &str,
        cursor: Option<&str>,
        limit: Limit,
    ) -> Result<(Vec<Order>, Option<String>)> {
        self.book(store_id).await?;
        let after = cursor.map(page::position).transpose()?;
        let page = SalesCommand::Page {
            after,
            limit: u32::try_from(limit.get() + 1).unwrap_or(u32::MAX),
        };
        let keys = expect_reply!(
            self.router.ask::<StoreSales>(store_id, page).await?,
            SalesReply::Orders(keys) => keys
        )?;
        let shown = &keys[..keys.len().min(limit.get())];
        let out = self.orders_by_id(shown.iter().map(|k| order_of(k))).await?;
        let next = (keys.len() > limit.get())
            .then(|| shown.last().map(|k| page::cursor(k)))
            .flatten();
        Ok((out, next))
    }

    /// A store's sales book, counting in older orders first if it has not.
    async fn book(&self, store_id: &str) -> Result<SalesBook> {
        let book = expect_reply!(
            self.router.ask::<StoreSales>(store_id, SalesCommand::Get).await?,
            SalesReply::Book(book) => book
        )?;
        if book.seeded {
            return Ok(book);
        }
        self.seed_sales(store_id).await
    }

    /// Runs a command, then carries out the steps it left pending (if that
    /// fails, the order's alarm retries them).
    pub(super) async fn act(&self, id: &str, command: OrderCommand) -> Result<Order> {
        let order = self.order(id, command).await?;
        self.flush(id).await;
        Ok(order)
    }

    pub(super) async fn flush(&self, id: &str) {
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
        Self::tell_payment(&self.router, id, charge_id, update).await
    }

    /// [`Orders::record_payment`] for callers that hold only a router (the
    /// payment entities).
    pub async fn tell_payment(
        router: &Router,
        id: &str,
        charge_id: &str,
        update: ChargeUpdate,
    ) -> Result<(Order, PaymentOutcome)> {
        let command = OrderCommand::Pay {
            charge_id: charge_id.into(),
            update,
        };
        let reply = router.ask::<OrderEntity>(id, command).await?;
        if let Err(error) = router.ask::<OrderEntity>(id, OrderCommand::Flush).await {
            tracing::warn!(order = id, %error, "order steps left to the alarm");
        }
        expect_reply!(reply, OrderReply::Paid(order, outcome) => (*order, outcome))
    }

    /// The order as it is, for callers that hold only a router (payments).
    pub async fn read_with(router: &Router, id: &str) -> Result<Order> {
        expect_reply!(
            router.ask::<OrderEntity>(id, OrderCommand::Get).await?,
            OrderReply::Order(order) => *order
        )
    }

    /// Tells the order that a refund gave back the money of `units`
    /// (idempotent per refund), for callers that hold only a router.
    pub async fn tell_refund(router: &Router, id: &str, refund_id: &str, units: BTreeMap<String, u64>) -> Result<()> {
        let command = OrderCommand::Refunded {
            refund_id: refund_id.into(),
            units,
        };
        router.ask::<OrderEntity>(id, command).await?;
        if let Err(error) = router.ask::<OrderEntity>(id, OrderCommand::Flush).await {
            tracing::warn!(order = id, %error, "order steps left to the alarm");
        }
        Ok(())
    }

    /// Ships lines of the store's part of an order; answers the order and
    /// the new shipment's id.
    pub async fn ship(
        &self,
        caller: &str,
        store_id: &str,
        id: &str,
        shipment: ShipmentRequest,
    ) -> Result<(Order, String)> {
        self.check_staff(caller, store_id).await?;
        let command = OrderCommand::Ship {
            store_id: store_id.into(),
            shipment,
        };
        let order = self.act(id, command).await?;
        // The reply is the order just after this shipment: its last one.
        let made = order
            .shipments
            .last()
            .map(|s| s.id.clone())
            .ok_or_else(|| Error::internal("a shipped order has no shipment"))?;
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
        let key = idempotency_key_of(idempotency_key)?;
        let return_id = record::return_id(id, key)?;
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
        let ret = Return {
            id: return_id.clone(),
            request_hash,
            lines: ret_lines,
            refund_amount: String::new(),
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
        decisions: Vec<Decision>,
    ) -> Result<(Order, Return)> {
        self.check_staff(caller, store_id).await?;
        let order_id = record::order_of_return(return_id)?;
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
        let book = self.book(store_id).await?;
        let out = figures(book, &currency)?;
        Ok((currency, out))
    }

    /// The dashboard's figures recomputed from every order of the store,
    /// as the orders themselves say (slow: for checks and audits).
    pub async fn recount_sales(&self, caller: &str, store_id: &str) -> Result<(String, BTreeMap<String, SalesFigure>)> {
        self.check_staff(caller, store_id).await?;
        let currency = self.storefront.get(store_id).await?.currency;
        let mut book = SalesBook::default();
        let mut cursor = None;
        loop {
            let (orders, next) = self.store_listing(store_id, cursor.as_deref(), Limit::MAX).await?;
            for order in &orders {
                book = book.apply(None, order.store_figure(store_id)?.as_ref())?;
            }
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        Ok((currency.clone(), figures(book, &currency)?))
    }

    /// Counts into a store's book the orders placed before books were
    /// kept (once per store: each only if the book has not counted it).
    async fn seed_sales(&self, store_id: &str) -> Result<SalesBook> {
        let name = format!("store:{store_id}");
        let mut cursor = None;
        loop {
            let (orders, next) = self.listing(&name, cursor.as_deref(), Limit::MAX).await?;
            for order in &orders {
                if let Some(figure) = order.store_figure(store_id)? {
                    let apply = SalesCommand::Apply {
                        order_id: order.id.clone(),
                        created_at: order.created_at,
                        figure,
                        if_absent: true,
                    };
                    self.router.ask::<StoreSales>(store_id, apply).await?;
                }
            }
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        expect_reply!(
            self.router.ask::<StoreSales>(store_id, SalesCommand::Seeded).await?,
            SalesReply::Book(book) => book
        )
    }
}

/// A book's figures as the dashboard shows them, revenue in `currency`.
fn figures(book: SalesBook, currency: &str) -> Result<BTreeMap<String, SalesFigure>> {
    book.by_status
        .into_iter()
        .map(|(status, totals)| {
            let revenue = sum(std::iter::once(totals.revenue.as_str()), currency)?;
            let figure = SalesFigure {
                orders: totals.orders,
                units: totals.units,
                revenue,
            };
            Ok((status.as_str().to_string(), figure))
        })
        .collect()
}
