//! Cart flows, called by the edge: every line is priced by its store's
//! offer when it is set and again each time the cart is shown.

use super::actor::{CartCommand, CartEntity};
use super::model::{CartLine, check_quantity};
use crate::error::{Error, Result};
use crate::ports::Clock;
use crate::runtime::{Router, RuntimeBuilder};
use crate::storefront::offers::Quote;
use crate::storefront::service::{LineSpec, PriceProblem, Rates, Storefront};
use futures::future::join_all;
use std::sync::Arc;

/// A cart line as shown: its current quote (in the store's currency), or
/// why it cannot be bought now.
#[derive(Debug, Clone)]
pub struct ShownLine {
    pub line: CartLine,
    pub quote: Option<Quote>,
    /// The unit price differs from the one seen when the line was set.
    pub price_changed: bool,
    /// Why the line has no quote (`no_valid_offer`, `unknown_product`, …).
    pub problem: Option<String>,
}

#[derive(Clone)]
pub struct Carts {
    router: Router,
    storefront: Storefront,
}

impl Carts {
    pub fn register_entities(builder: RuntimeBuilder, clock: Arc<dyn Clock>) -> RuntimeBuilder {
        builder.register(Arc::new(CartEntity { clock }))
    }

    pub fn new(router: Router, storefront: Storefront) -> Self {
        Self { router, storefront }
    }

    async fn ask(&self, user: &str, command: CartCommand) -> Result<Vec<CartLine>> {
        self.router.ask::<CartEntity>(user, command).await
    }

    /// The lines, unpriced.
    pub async fn lines(&self, user: &str) -> Result<Vec<CartLine>> {
        self.ask(user, CartCommand::Get).await
    }

    /// The cart with every line quoted now.
    pub async fn show(&self, user: &str) -> Result<Vec<ShownLine>> {
        let lines = self.lines(user).await?;
        self.quote(lines).await
    }

    async fn quote(&self, lines: Vec<CartLine>) -> Result<Vec<ShownLine>> {
        let priced = join_all(
            lines
                .iter()
                .map(|l| self.storefront.price(&l.spec, None, Rates::Current)),
        )
        .await;
        lines
            .into_iter()
            .zip(priced)
            .map(|(line, priced)| match priced? {
                Ok(p) => Ok(ShownLine {
                    price_changed: p.quote.unit_price != line.unit_price,
                    quote: Some(p.quote),
                    problem: None,
                    line,
                }),
                Err(problem) => Ok(ShownLine {
                    line,
                    quote: None,
                    price_changed: false,
                    problem: Some(problem.code().to_string()),
                }),
            })
            .collect()
    }

    /// Sets a line's quantity (0 removes it). The product must exist, have
    /// the chosen values and a valid offer in the store (422 otherwise).
    pub async fn set(&self, user: &str, spec: LineSpec) -> Result<Vec<ShownLine>> {
        check_quantity(spec.quantity)?;
        let (unit_price, currency) = if spec.quantity == 0 {
            (String::new(), String::new())
        } else {
            let priced =
                self.storefront
                    .price(&spec, None, Rates::Current)
                    .await?
                    .map_err(|problem| match problem {
                        PriceProblem::NoValidOffer => {
                            Error::invalid("product_id", "this store has no valid offer for this product")
                        }
                        PriceProblem::UnknownStore => Error::invalid("store_id", "no store has this id"),
                        other => other.into_error(),
                    })?;
            (priced.quote.unit_price, priced.quote.currency)
        };
        let command = CartCommand::Set {
            spec,
            unit_price,
            currency,
        };
        let lines = self.ask(user, command).await?;
        self.quote(lines).await
    }

    pub async fn remove(&self, user: &str, line_id: &str) -> Result<Vec<ShownLine>> {
        let command = CartCommand::Remove {
            line_id: line_id.to_string(),
        };
        let lines = self.ask(user, command).await?;
        self.quote(lines).await
    }

    pub async fn clear(&self, user: &str) -> Result<()> {
        self.ask(user, CartCommand::Clear).await.map(|_| ())
    }

    /// Removes lines that were ordered.
    pub async fn drop_lines(&self, user: &str, line_ids: Vec<String>) -> Result<()> {
        self.ask(user, CartCommand::Drop { line_ids }).await.map(|_| ())
    }
}
