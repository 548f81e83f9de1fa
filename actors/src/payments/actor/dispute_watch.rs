//! The dispute sweep entity, one per processor (`payments/dispute_watch.rs`
//! decides): its alarm lists the processor's recent disputes, reads the
//! open ones again, and records each as its webhook would have.

use super::PaymentContext;
use super::dispute::{processor_unknown, record_dispute};
use crate::error::Result;
use crate::payments::dispute_watch::DisputeWatch;
use crate::payments::ports::{ProcessorDispute, ProcessorError};
use crate::ports::Millis;
use crate::runtime::{Entity, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum WatchCommand {
    /// Makes sure the watch exists (and so its alarm).
    Start,
    /// A webhook recorded this dispute, open or closed.
    Seen {
        dispute_id: String,
        open: bool,
    },
    /// The alarm: sweep now.
    Sweep,
    Get,
}

pub struct DisputeWatchEntity(pub PaymentContext);

impl DisputeWatchEntity {
    /// Lists the disputes created since `since`, reads again those known
    /// open and not listed, and records every one: those open now.
    async fn sweep(&self, processor: &str, watch: &DisputeWatch, now: Millis) -> Result<BTreeSet<String>> {
        let router = self.0.context.router()?;
        let adapter = self.0.processors.adapter(processor)?;
        let mut found: BTreeMap<String, ProcessorDispute> = BTreeMap::new();
        let mut page = None;
        loop {
            let listed = adapter
                .list_disputes(watch.since(now) / 1000, page)
                .await
                .map_err(processor_unknown)?;
            found.extend(listed.disputes.into_iter().map(|d| (d.id.clone(), d)));
            match listed.next {
                Some(next) => page = Some(next),
                None => break,
            }
        }
        let unlisted: Vec<&String> = watch.open.iter().filter(|id| !found.contains_key(*id)).collect();
        for id in unlisted {
            match adapter.get_dispute(id).await {
                Ok(d) => {
                    found.insert(d.id.clone(), d);
                }
                // Gone at the processor: nothing more to learn of it.
                Err(ProcessorError::Refused { .. }) => {}
                Err(e) => return Err(processor_unknown(e)),
            }
        }
        let open = found.values().filter(|d| d.open()).map(|d| d.id.clone()).collect();
        for dispute in found.into_values() {
            record_dispute(&router, adapter.as_ref(), processor, dispute).await?;
        }
        Ok(open)
    }
}

impl Entity for DisputeWatchEntity {
    const KIND: &'static str = "dispute_watch";
    type State = DisputeWatch;
    type Command = WatchCommand;
    type Reply = DisputeWatch;

    fn due(&self, watch: &DisputeWatch) -> Option<Millis> {
        Some(watch.due(self.0.dispute_sweep_every))
    }

    fn wake(&self) -> Option<WatchCommand> {
        Some(WatchCommand::Sweep)
    }

    async fn handle(
        &self,
        processor: &str,
        state: Option<&DisputeWatch>,
        command: WatchCommand,
    ) -> Result<Outcome<DisputeWatch, DisputeWatch>> {
        let current = state.cloned().unwrap_or_default();
        let now = self.0.clock.now();
        let next = match command {
            WatchCommand::Get => return Ok(Outcome::read(current)),
            WatchCommand::Start if state.is_some() => return Ok(Outcome::read(current)),
            WatchCommand::Start => current.clone(),
            WatchCommand::Seen { dispute_id, open } => current.seen(&dispute_id, open),
            WatchCommand::Sweep if current.due(self.0.dispute_sweep_every) > now => current.clone(),
            WatchCommand::Sweep => match self.sweep(processor, &current, now).await {
                Ok(open) => current.swept(now, open),
                Err(error) => {
                    tracing::warn!(processor, %error, "the dispute sweep failed; it is tried again in a minute");
                    current.failed(now)
                }
            },
        };
        Ok(match state == Some(&next) {
            true => Outcome::read(next),
            false => Outcome::write(next.clone(), next),
        })
    }
}
