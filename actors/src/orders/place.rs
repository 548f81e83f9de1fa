//! Placing an order: validate the request; claim the idempotency key on
//! the order entity (`Begin`); price every line with one exchange-rate
//! snapshot; hold stock for every line at once — stock entities may live
//! on other nodes; if any line fails, release what was held (`Abort`) and
//! answer 409 with every failing line; otherwise `Confirm`. A crash in
//! between leaves a placement the entity's alarm releases after
//! the placement lease ([`super::record::PLACING_LEASE`] by default).

use super::actor::{OrderCommand, OrderReply, hold_id, order_id};
use super::model::Order;
use super::placement::PlaceRequest;
use super::placement::Placement;
use super::record::{HeldUnits, OpenLimits, OpenOrders};
use super::service::Orders;
use crate::error::{Error, LineShortage, Result};
use crate::inventory::Inventory;
use crate::quota;
use crate::runtime::encode;
use crate::shared::lines::{self, ORDER_LINES_MAX};
use crate::storefront::service::{LineSpec, PriceProblem, PricedLine, Rates};
use futures::future::join_all;
use serde::Serialize;

/// An `Idempotency-Key` as sent: 1 to 255 characters.
pub fn idempotency_key_of(raw: &str) -> Result<&str> {
    let key = raw.trim();
    if key.is_empty() || key.len() > 255 {
        return Err(Error::invalid("Idempotency-Key", "send a key of 1 to 255 characters"));
    }
    Ok(key)
}

pub fn request_hash<T: Serialize>(value: &T) -> Result<u64> {
    Ok(xxhash_rust::xxh3::xxh3_64(&encode(value)?))
}

/// How a pricing problem counts: a line that cannot be had now (409, in
/// `lines`) or an invalid request (422, named after the line).
fn pricing_failure(index: usize, problem: PriceProblem) -> std::result::Result<LineShortage, Error> {
    if !problem.is_invalid_request() {
        return Ok(LineShortage {
            index,
            reason: problem.code().to_string(),
            available: 0,
        });
    }
    match problem.into_error() {
        Error::Validation { fields } => Err(Error::Validation {
            fields: fields
                .into_iter()
                .map(|(field, reason)| (format!("lines[{index}].{field}"), reason))
                .collect(),
        }),
        other => Err(other),
    }
}

/// Why an attempt failed, and the lines whose holds were surely not taken
/// (refused by stock, or never asked for), which need no release.
struct Failed {
    error: Error,
    untaken: Vec<usize>,
}

impl From<Error> for Failed {
    /// Failing before any hold was asked for: nothing was taken.
    fn from(error: Error) -> Self {
        Failed {
            error,
            untaken: (0..ORDER_LINES_MAX).collect(),
        }
    }
}

/// A placement with its lines priced: a price per line, or the reason it
/// cannot be had now.
struct Priced {
    placement: Placement,
    prices: Vec<Option<PricedLine>>,
    shortages: Vec<LineShortage>,
    rates: Option<crate::shared::money::RateSet>,
}

impl Orders {
    /// Places an order; `Ok((order, false))` for a replay of a placed one.
    /// `limits`: the buyer's quotas on orders awaiting payment.
    pub async fn place(
        &self,
        buyer: &str,
        idempotency_key: &str,
        request: PlaceRequest,
        limits: OpenLimits,
    ) -> Result<(Order, bool)> {
        let key = idempotency_key_of(idempotency_key)?;
        // A request that cannot be placed is refused before anything is
        // stored (a replay's body checks the same; a cart's lines are
        // checked once its replay is ruled out).
        if let Some(lines) = &request.lines {
            Placement::validate(&request, lines)?;
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
        let held_lines = lines::merged(&lines)
            .into_iter()
            .map(|(_, l)| (l.store_id, l.product_id))
            .collect();
        let begin = OrderCommand::Begin {
            buyer: buyer.to_string(),
            request_hash: hash,
            lines: held_lines,
        };
        // A replay is answered with the first answer.
        let attempt = match self.ask(&id, begin).await? {
            OrderReply::Order(order) => return Ok((order.as_placed(), false)),
            OrderReply::Attempt(n) => n,
            other => return Err(Error::unexpected_reply(&other)),
        };
        // Counted before anything is held: over a quota, nothing is.
        let units = lines::merged(&lines)
            .iter()
            .fold(0u64, |t, (_, l)| t.saturating_add(u64::from(l.quantity)));
        // Both quotas at once, and meanwhile the lines are priced (reads).
        let counted = async {
            let (orders, units) = futures::join!(
                quota::count::<OpenOrders>(&self.router, buyer, &id, limits.orders),
                quota::tally::<HeldUnits>(&self.router, buyer, &id, units, limits.units),
            );
            orders.and(units)
        };
        let (counted, priced) = futures::join!(counted, self.price(&request, &lines));
        let placed = match (counted, priced) {
            (Ok(()), Ok(priced)) => self.attempt(&id, attempt, buyer, priced).await,
            (Err(error), _) | (_, Err(error)) => Err(Failed::from(error)),
        };
        match placed {
            Ok(order) => {
                if from_cart {
                    let ordered = cart.into_iter().map(|l| l.line_id).collect();
                    if let Err(error) = self.carts.drop_lines(buyer, ordered).await {
                        tracing::warn!(%error, "ordered lines could not be removed from the cart");
                    }
                }
                Ok((order, true))
            }
            Err(Failed { error, untaken }) => {
                match self.ask(&id, OrderCommand::Abort { attempt, untaken }).await {
                    Ok(_) => self.flush(&id).await,
                    // The entity's alarm releases the holds after the lease.
                    Err(abort) => tracing::warn!(%abort, "aborting a placement failed"),
                }
                Err(error)
            }
        }
    }

    /// Prices every line with one exchange-rate snapshot (reads only).
    async fn price(&self, request: &PlaceRequest, lines: &[LineSpec]) -> Result<Priced> {
        let placement = Placement::validate(request, lines)?;
        let origin = &placement.origin;
        let rates = self.storefront.current_rates().await.ok();
        let priced = join_all(placement.lines.iter().map(|l| {
            self.storefront
                .price(l, Some(placement.currency.code()), Rates::Snapshot(rates.as_ref()))
        }))
        .await;
        let mut shortages = Vec::new();
        let mut prices: Vec<Option<PricedLine>> = Vec::new();
        for (i, p) in priced.into_iter().enumerate() {
            match p? {
                Ok(p) => prices.push(Some(p)),
                Err(problem) => {
                    shortages.push(pricing_failure(origin[i], problem)?);
                    prices.push(None);
                }
            }
        }
        Ok(Priced {
            placement,
            prices,
            shortages,
            rates,
        })
    }

    /// Holds stock for every line at once, then confirms the order.
    async fn attempt(&self, id: &str, attempt: u32, buyer: &str, priced: Priced) -> std::result::Result<Order, Failed> {
        let Priced {
            placement,
            prices,
            mut shortages,
            rates,
        } = priced;
        let origin = &placement.origin;
        let now = self.clock.now();
        let holds = join_all(placement.lines.iter().enumerate().map(|(i, l)| {
            let hold = hold_id(id, attempt, i);
            let quantity = u64::from(l.quantity);
            async move { Inventory::hold(&self.router, &l.store_id, &l.product_id, &hold, quantity).await }
        }))
        .await;
        let mut held = Vec::new();
        let mut untaken = Vec::new();
        let mut failure = None;
        for (i, h) in holds.into_iter().enumerate() {
            match h {
                Ok(Ok(h)) => held.push(h),
                Ok(Err(s)) => {
                    untaken.push(i);
                    shortages.push(LineShortage {
                        index: origin[i],
                        reason: s.reason,
                        available: s.available,
                    })
                }
                // The outcome is unknown: the hold is released to be sure.
                Err(e) => failure = Some(e),
            }
        }
        if let Some(error) = failure {
            return Err(Failed { error, untaken });
        }
        if !shortages.is_empty() {
            shortages.sort_by_key(|s| s.index);
            let error = Error::Shortage { lines: shortages };
            return Err(Failed { error, untaken });
        }
        let priced: Vec<PricedLine> = prices.into_iter().flatten().collect();
        let order = placement.order(id, attempt, buyer, priced, held, rates, now);
        let confirm = OrderCommand::Confirm {
            attempt,
            order: Box::new(order),
        };
        // A confirmation that failed leaves every hold to be released.
        self.act(id, confirm).await.map_err(|error| Failed {
            error,
            untaken: Vec::new(),
        })
    }
}
