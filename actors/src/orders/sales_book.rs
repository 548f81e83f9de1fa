//! The entity keeping each store's sales book (`store_sales/{store}`):
//! thin; the rules are in `sales.rs`. Each order's last figure for the
//! store is a member record, so a book costs the same at any size.

use super::sales::{SalesBook, StoreFigure};
use crate::error::Result;
use crate::runtime::{Entity, EntityContext, Outcome, decode, encode};
use serde::{Deserialize, Serialize};

pub struct StoreSales {
    pub context: EntityContext,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SalesCommand {
    /// Order `order_id`'s part is now `figure`. With `if_absent`, only for
    /// an order the book has not counted yet (counting in older orders).
    Apply {
        order_id: String,
        figure: StoreFigure,
        if_absent: bool,
    },
    /// Every order placed before the book existed is counted in.
    Seeded,
    Get,
}

impl Entity for StoreSales {
    const KIND: &'static str = "store_sales";
    type State = SalesBook;
    type Command = SalesCommand;
    type Reply = SalesBook;

    async fn handle(
        &self,
        key: &str,
        state: Option<&SalesBook>,
        command: SalesCommand,
    ) -> Result<Outcome<SalesBook, SalesBook>> {
        let book = state.cloned().unwrap_or_default();
        Ok(match command {
            SalesCommand::Apply {
                order_id,
                figure,
                if_absent,
            } => {
                let old: Option<StoreFigure> = self
                    .context
                    .members(Self::KIND, key)?
                    .get(&order_id)?
                    .map(|v| decode(&v))
                    .transpose()?;
                if old.as_ref() == Some(&figure) || (if_absent && old.is_some()) {
                    Outcome::read(book)
                } else {
                    let next = book.apply(old.as_ref(), Some(&figure))?;
                    let member = (order_id, Some(encode(&figure)?));
                    Outcome::write(next.clone(), next).with_members(vec![member])
                }
            }
            SalesCommand::Seeded if !book.seeded => {
                let next = SalesBook { seeded: true, ..book };
                Outcome::write(next.clone(), next)
            }
            SalesCommand::Seeded | SalesCommand::Get => Outcome::read(book),
        })
    }
}
