//! The entity keeping each store's sales book (`store_sales/{store}`):
//! thin; the rules are in `sales.rs`. Each order's last figure for the
//! store is a member record, so a book costs the same at any size. The
//! members are named by the order's creation time, newest first
//! ([`listing_key`]), so the book is also the store's order listing.

use super::sales::{SalesBook, StoreFigure};
use crate::error::Result;
use crate::ports::Millis;
use crate::runtime::{Entity, EntityContext, Outcome, encode};
use serde::{Deserialize, Serialize};

pub struct StoreSales {
    pub context: EntityContext,
}

/// The member name of an order created at `created_at`: the time inverted
/// and zero-padded (so that member order is newest first), then the id.
pub fn listing_key(created_at: Millis, order_id: &str) -> String {
    format!("{:020}{order_id}", u64::MAX - created_at.max(0) as u64)
}

/// The order id in a member name.
pub fn order_of(key: &str) -> &str {
    key.get(20..).unwrap_or_default()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SalesCommand {
    /// Order `order_id`'s part is now `figure`. With `if_absent`, only for
    /// an order the book has not counted yet (counting in older orders).
    Apply {
        order_id: String,
        created_at: Millis,
        figure: StoreFigure,
        if_absent: bool,
    },
    /// Every order placed before the book existed is counted in.
    Seeded,
    Get,
    /// Up to `limit` orders after member `after`, newest first.
    Page {
        after: Option<String>,
        limit: u32,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SalesReply {
    Book(SalesBook),
    /// Member names (see [`listing_key`]).
    Orders(Vec<String>),
}

impl Entity for StoreSales {
    const KIND: &'static str = "store_sales";
    type State = SalesBook;
    type Command = SalesCommand;
    type Reply = SalesReply;

    async fn handle(
        &self,
        key: &str,
        state: Option<&SalesBook>,
        command: SalesCommand,
    ) -> Result<Outcome<SalesBook, SalesReply>> {
        let book = state.cloned().unwrap_or_default();
        let write = |next: SalesBook| Outcome::write(next.clone(), SalesReply::Book(next));
        Ok(match command {
            SalesCommand::Apply {
                order_id,
                created_at,
                figure,
                if_absent,
            } => {
                let member = listing_key(created_at, &order_id);
                let old: Option<StoreFigure> = self.context.members(Self::KIND, key)?.decoded(&member)?;
                if old.as_ref() == Some(&figure) || (if_absent && old.is_some()) {
                    Outcome::read(SalesReply::Book(book))
                } else {
                    let next = book.apply(old.as_ref(), Some(&figure))?;
                    write(next).with_members(vec![(member, Some(encode(&figure)?))])
                }
            }
            SalesCommand::Seeded if !book.seeded => write(SalesBook { seeded: true, ..book }),
            SalesCommand::Seeded | SalesCommand::Get => Outcome::read(SalesReply::Book(book)),
            SalesCommand::Page { after, limit } => {
                let page = self
                    .context
                    .members(Self::KIND, key)?
                    .page(after.as_deref(), limit as usize)?;
                Outcome::read(SalesReply::Orders(page.into_iter().map(|(k, _)| k).collect()))
            }
        })
    }
}

#[cfg(test)]
#[path = "sales_book_tests.rs"]
mod tests;
