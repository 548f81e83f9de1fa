//! One entity per store × product: its stock and policy (its holds are
//! member records, see [`StockRecord`]). Due holds are returned before
//! every command, so what it answers is always current; its alarm wakes it
//! when the earliest hold falls due, so expired units return to stock even
//! if nobody asks (also after a restart).

use super::model::{Batch, ENDED_KEPT, Ended, Hold, Policy, Shortage, Stock};
use super::model::{Held, StockItem, StockStatus};
use crate::error::Result;
use crate::ports::{Clock, Millis};
use crate::runtime::{Entity, EntityContext, MemberWrite, Members, Outcome, decode, encode};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum StockCommand {
    Adjust {
        delta: i64,
        expires_at: Option<i64>,
    },
    SetPolicy(Policy),
    Get,
    /// Holds `quantity` units for hold `id` (one order line) for the
    /// policy's hold time, if the policy allows that quantity.
    /// Repeating it answers the same hold.
    Hold {
        id: String,
        quantity: u64,
    },
    /// Ends hold `id`: sold or returned to stock. Idempotent.
    End {
        id: String,
        how: Ended,
    },
    /// Ends hold `id` selling `sold` units and returning the rest.
    Settle {
        id: String,
        sold: u64,
    },
    /// Puts units of an approved return back, once per return line.
    Restock {
        return_line: String,
        quantity: u64,
    },
    /// The alarm: due holds expire.
    Wake,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StockReply {
    Status(StockStatus),
    Holding(Held),
    Refused(Shortage),
    Done,
}

pub struct StockItems {
    pub clock: Arc<dyn Clock>,
    pub context: EntityContext,
}

/// What one stock entity stores (schema 2): its batches and policy, and
/// when its earliest hold falls due. Its holds, the holds that ended and
/// the return lines put back are member records (a popular product has
/// thousands of open holds: a command reads and writes only those it
/// touches):
/// `h:{id}` a hold, `d:{until}:{id}` its place in due order, `e:{id}` an
/// ended hold, `x:{at}:{id}` its place in the order they ended (forgotten
/// [`ENDED_KEPT`] later), `r:{return line}` units put back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockRecord {
    pub batches: Vec<Batch>,
    pub policy: Option<Policy>,
    pub next_due: Option<Millis>,
}

/// Due holds returned by one command at most (the alarm comes back for more).
const DUE_PER_COMMAND: usize = 256;
/// Ended holds forgotten by one command at most.
const FORGOTTEN_PER_COMMAND: usize = 32;

fn hold_key(id: &str) -> String {
    format!("h:{id}")
}

fn due_key(until: Millis, id: &str) -> String {
    format!("d:{:020}:{id}", until.max(0))
}

fn ended_key(id: &str) -> String {
    format!("e:{id}")
}

fn ended_at_key(at: Millis, id: &str) -> String {
    format!("x:{:020}:{id}", at.max(0))
}

fn restocked_key(line: &str) -> String {
    format!("r:{line}")
}

/// `(time, id)` of a `d:` or `x:` member key.
fn timed(key: &str, prefix: &str) -> Option<(Millis, String)> {
    let (at, id) = key.strip_prefix(prefix)?.split_once(':')?;
    Some((at.parse().ok()?, id.to_string()))
}

/// The members to write so that storage holds `after` where `before`
/// (what this command read) was.
fn member_writes(before: &Stock, after: &Stock) -> Result<Vec<MemberWrite>> {
    let mut writes = Vec::new();
    for (id, hold) in &before.holds {
        if after.holds.get(id).is_none_or(|h| h.until != hold.until) {
            writes.push((due_key(hold.until, id), None));
        }
        if !after.holds.contains_key(id) {
            writes.push((hold_key(id), None));
        }
    }
    for (id, hold) in &after.holds {
        if before.holds.get(id) != Some(hold) {
            writes.push((hold_key(id), Some(encode(hold)?)));
            writes.push((due_key(hold.until, id), Some(Vec::new())));
        }
    }
    for (id, (_, at)) in &before.ended {
        if after.ended.get(id).is_none_or(|(_, a)| a != at) {
            writes.push((ended_at_key(*at, id), None));
        }
        if !after.ended.contains_key(id) {
            writes.push((ended_key(id), None));
        }
    }
    for (id, ended) in &after.ended {
        if before.ended.get(id) != Some(ended) {
            writes.push((ended_key(id), Some(encode(ended)?)));
            writes.push((ended_at_key(ended.1, id), Some(Vec::new())));
        }
    }
    for (line, units) in &after.restocked {
        if before.restocked.get(line) != Some(units) {
            writes.push((restocked_key(line), Some(encode(units)?)));
        }
    }
    Ok(writes)
}

/// Members in key order after `prefix`, while they start with it.
fn prefixed(members: &Members, prefix: &str, limit: usize) -> Result<Vec<String>> {
    Ok(members
        .page(Some(prefix), limit)?
        .into_iter()
        .map(|(k, _)| k)
        .take_while(|k| k.starts_with(prefix))
        .collect())
}

impl StockItems {
    /// The stock as this command needs it: the batches, the holds due by
    /// `now`, the hold or return line the command names, and ended holds
    /// old enough to forget.
    fn load(&self, members: &Members, record: &StockRecord, command: &StockCommand, now: Millis) -> Result<Stock> {
        let mut stock = Stock {
            batches: record.batches.clone(),
            ..Stock::default()
        };
        let load_hold = |stock: &mut Stock, id: &str| -> Result<()> {
            if let Some(hold) = members.decoded::<Hold>(&hold_key(id))? {
                stock.holds.insert(id.to_string(), hold);
            }
            if let Some(ended) = members.decoded::<(Ended, Millis)>(&ended_key(id))? {
                stock.ended.insert(id.to_string(), ended);
            }
            Ok(())
        };
        if record.next_due.is_some_and(|at| at <= now) {
            for key in prefixed(members, "d:", DUE_PER_COMMAND)? {
                match timed(&key, "d:") {
                    Some((until, id)) if until <= now => load_hold(&mut stock, &id)?,
                    _ => break,
                }
            }
        }
        match command {
            StockCommand::Hold { id, .. } | StockCommand::End { id, .. } | StockCommand::Settle { id, .. } => {
                load_hold(&mut stock, id)?
            }
            StockCommand::Restock { return_line, .. } => {
                if let Some(units) = members.decoded::<u64>(&restocked_key(return_line))? {
                    stock.restocked.insert(return_line.clone(), units);
                }
            }
            _ => {}
        }
        for key in prefixed(members, "x:", FORGOTTEN_PER_COMMAND)? {
            match timed(&key, "x:") {
                Some((at, id)) if now - at >= ENDED_KEPT => load_hold(&mut stock, &id)?,
                _ => break,
            }
        }
        Ok(stock)
    }

    /// When the earliest hold falls due once `writes` are applied.
    fn next_due(members: &Members, writes: &[MemberWrite]) -> Result<Option<Millis>> {
        let removed: Vec<&str> = writes
            .iter()
            .filter(|(k, v)| v.is_none() && k.starts_with("d:"))
            .map(|(k, _)| k.as_str())
            .collect();
        let stored = prefixed(members, "d:", removed.len() + 1)?
            .into_iter()
            .find(|k| !removed.contains(&k.as_str()))
            .and_then(|k| timed(&k, "d:").map(|(at, _)| at));
        let added = writes
            .iter()
            .filter(|(k, v)| v.is_some() && k.starts_with("d:"))
            .filter_map(|(k, _)| timed(k, "d:").map(|(at, _)| at))
            .min();
        Ok(stored.into_iter().chain(added).min())
    }
}

impl Entity for StockItems {
    const KIND: &'static str = "stock";
    /// 2: holds, ended holds and restocked lines are member records.
    const SCHEMA_VERSION: u32 = 2;
    type State = StockRecord;
    type Command = StockCommand;
    type Reply = StockReply;

    fn upgrade_members(schema_version: u32, body: &[u8]) -> Result<Option<(StockRecord, Vec<MemberWrite>)>> {
        if schema_version != 1 {
            return Ok(None);
        }
        let old: StockItem = decode(body)?;
        let record = StockRecord {
            batches: old.stock.batches.clone(),
            policy: old.policy,
            next_due: old.stock.next_due(),
        };
        let empty = Stock {
            batches: old.stock.batches.clone(),
            ..Stock::default()
        };
        Ok(Some((record, member_writes(&empty, &old.stock)?)))
    }

    fn due(&self, record: &StockRecord) -> Option<Millis> {
        record.next_due
    }

    fn wake(&self) -> Option<StockCommand> {
        Some(StockCommand::Wake)
    }

    async fn handle(
        &self,
        key: &str,
        state: Option<&StockRecord>,
        command: StockCommand,
    ) -> Result<Outcome<StockRecord, StockReply>> {
        let now = self.clock.now();
        let members = self.context.members(Self::KIND, key)?;
        let record = state.cloned().unwrap_or_default();
        let loaded = self.load(&members, &record, &command, now)?;
        let mut item = StockItem {
            stock: loaded.clone(),
            policy: record.policy,
        };
        let (current, _) = item.stock.expire(now);
        item.stock = current;
        item.stock.tidy(now);
        let status = |item: &StockItem| StockReply::Status(item.status(now));
        let (item, reply) = match command {
            StockCommand::Adjust { delta, expires_at } => {
                item.stock = item.stock.adjust(delta, expires_at, now)?;
                let reply = status(&item);
                (item, reply)
            }
            StockCommand::SetPolicy(policy) => {
                policy.check()?;
                item.policy = Some(policy);
                let reply = status(&item);
                (item, reply)
            }
            StockCommand::Get => {
                let reply = status(&item);
                (item, reply)
            }
            StockCommand::Hold { id, quantity } => {
                let (next, held) = item.hold(&id, quantity, now);
                let reply = match held {
                    Ok(held) => StockReply::Holding(held),
                    Err(shortage) => StockReply::Refused(shortage),
                };
                (next, reply)
            }
            StockCommand::End { id, how } => {
                item.stock = item.stock.end(&id, how, now);
                (item, StockReply::Done)
            }
            StockCommand::Settle { id, sold } => {
                item.stock = item.stock.settle(&id, sold, now);
                (item, StockReply::Done)
            }
            StockCommand::Restock { return_line, quantity } => {
                item.stock = item.stock.restock(&return_line, quantity, now)?;
                (item, StockReply::Done)
            }
            StockCommand::Wake => (item, StockReply::Done),
        };
        let writes = member_writes(&loaded, &item.stock)?;
        let next = StockRecord {
            batches: item.stock.batches,
            policy: item.policy,
            next_due: Self::next_due(&members, &writes)?,
        };
        Ok(if writes.is_empty() && state == Some(&next) {
            Outcome::read(reply)
        } else {
            Outcome::write(next, reply).with_members(writes)
        })
    }
}

#[cfg(test)]
#[path = "actor_tests.rs"]
mod tests;
