//! One cart entity per user (keyed by user id).

use super::model::{Cart, CartLine};
use crate::error::Result;
use crate::ports::Clock;
use crate::runtime::{Entity, Outcome};
use crate::storefront::service::LineSpec;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CartCommand {
    Set {
        spec: LineSpec,
        unit_price: String,
        currency: String,
    },
    Remove {
        line_id: String,
    },
    /// Removes ordered lines; unknown ones are ignored.
    Drop {
        line_ids: Vec<String>,
    },
    Clear,
    Get,
}

pub struct CartEntity {
    pub clock: Arc<dyn Clock>,
}

fn save(cart: Cart) -> Outcome<Cart, Vec<CartLine>> {
    if cart.lines.is_empty() {
        Outcome::delete(Vec::new())
    } else {
        Outcome::write(cart.clone(), cart.lines)
    }
}

impl Entity for CartEntity {
    const KIND: &'static str = "cart";
    type State = Cart;
    type Command = CartCommand;
    type Reply = Vec<CartLine>;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&Cart>,
        command: CartCommand,
    ) -> Result<Outcome<Cart, Vec<CartLine>>> {
        let cart = state.cloned().unwrap_or_default();
        Ok(match command {
            CartCommand::Set {
                spec,
                unit_price,
                currency,
            } => save(cart.set(spec, &unit_price, &currency, self.clock.now())?),
            CartCommand::Remove { line_id } => save(cart.remove(&line_id)?),
            CartCommand::Drop { line_ids } if state.is_some() => save(cart.without(&line_ids)),
            CartCommand::Clear if state.is_some() => save(Cart::default()),
            CartCommand::Drop { .. } | CartCommand::Clear | CartCommand::Get => Outcome::read(cart.lines),
        })
    }
}

#[cfg(test)]
#[path = "actor_tests.rs"]
mod tests;
