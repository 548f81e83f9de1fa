//! Reports over the payments: a day's reconciliation against the
//! processors. Read-only: nothing is created or changed by reading them.

use super::*;
use crate::payments::minor::to_minor;
use crate::payments::ports::{ProcessorError, RefundStatus};
use crate::payments::reconcile::{self, Found, Ours, Report, Theirs};
use crate::runtime::Entity;
use crate::shared::money::Money;
use futures::StreamExt;

/// Processor reads in flight at once while a report is built.
const READS_AT_ONCE: usize = 32;
/// Records read per scan page.
const SCAN_PAGE: usize = 500;

/// What to ask a processor about one record.
enum Ask {
    Payment(String),
    Refund(String),
    Transfer(String),
}

fn found<T>(answer: std::result::Result<T, ProcessorError>, theirs: impl FnOnce(T) -> Theirs) -> Found {
    match answer {
        Ok(t) => Found::Reported(theirs(t)),
        Err(ProcessorError::Refused { .. }) => Found::Unknown,
        Err(ProcessorError::Unknown(why)) => Found::Unreachable(why),
    }
}

impl Payments {
    /// Every state of kind `E`, all shards.
    async fn scan_all<E: Entity>(&self) -> Result<Vec<(String, E::State)>> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.router.scan::<E>(cursor.as_ref(), SCAN_PAGE).await?;
            all.extend(page.items);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// The day `date`'s charges, refunds and transfers, ours against what
    /// their processors report.
    pub async fn reconciliation(&self, date: &str) -> Result<Report> {
        let (from, to) = reconcile::day(date)?;
        let mut records: Vec<(Ours, Option<Ask>)> = Vec::new();
        for (_, charge) in self.scan_all::<ChargeEntity>().await? {
            if !(from..to).contains(&charge.intent.created_at) {
                continue;
            }
            let ask = charge.processor_payment_id.clone().map(Ask::Payment);
            records.push((
                Ours {
                    kind: "charge",
                    id: charge.intent.charge_id.clone(),
                    processor: charge.intent.processor.clone(),
                    processor_id: charge.processor_payment_id.clone(),
                    currency: charge.intent.currency.clone(),
                    amount: charge.captured_minor,
                    status: charge.status.as_str().to_string(),
                    settled: charge.status.is_final() && !charge.has_steps(),
                    at: charge.intent.created_at,
                },
                ask,
            ));
        }
        for (_, refund) in self.scan_all::<RefundEntity>().await? {
            if !(from..to).contains(&refund.claim.created_at) {
                continue;
            }
            let currency = &refund.claim.currency;
            for part in &refund.parts {
                let amount = to_minor(Money::stored(&part.amount, currency)?.amount(), currency)?;
                let processor_id = part.refund.as_ref().map(|r| r.id.clone());
                let status = part.refund.as_ref().map_or(RefundStatus::Pending, |r| r.status);
                let status = match (&part.refused, status) {
                    (Some(_), _) => "failed",
                    (None, RefundStatus::Pending) => "pending",
                    (None, RefundStatus::Succeeded) => "succeeded",
                    (None, RefundStatus::Failed) => "failed",
                };
                records.push((
                    Ours {
                        kind: "refund",
                        id: format!("{}:{}", refund.claim.refund_id, part.charge_id),
                        processor: part.processor.clone().unwrap_or_default(),
                        processor_id: processor_id.clone(),
                        currency: currency.clone(),
                        amount,
                        status: status.to_string(),
                        settled: !part.open() && !refund.has_steps(),
                        at: refund.claim.created_at,
                    },
                    processor_id.map(Ask::Refund),
                ));
            }
        }
        for (store, funds) in self.scan_all::<FundsEntity>().await? {
            let Some(account) = funds.account.as_ref().filter(|_| funds.payouts > 0) else {
                continue;
            };
            let lines = expect_reply!(
                self.funds(&store, FundsCommand::PayoutLines { from, to }).await?,
                FundsReply::Lines(l) => l
            )?;
            for (at, line) in lines.into_iter().filter(|(_, l)| l.line.amount > 0) {
                let settled = line.done;
                records.push((
                    Ours {
                        kind: "transfer",
                        id: line.line.key.clone(),
                        processor: account.processor.clone(),
                        processor_id: line.transfer_id.clone(),
                        currency: line.line.currency.clone(),
                        amount: if line.refused.is_some() { 0 } else { line.line.amount },
                        status: match (&line.refused, &line.transfer_id) {
                            (Some(_), _) => "refused",
                            (None, Some(_)) => "paid",
                            (None, None) => "pending",
                        }
                        .to_string(),
                        settled,
                        at,
                    },
                    line.transfer_id.map(Ask::Transfer),
                ));
            }
        }
        let answers: Vec<(Ours, Found)> = futures::stream::iter(records)
            .map(|(ours, ask)| async move {
                let found = match (ask, self.processors.adapter(&ours.processor)) {
                    (None, _) => Found::NotAsked,
                    (Some(_), Err(_)) => Found::Unreachable(format!("no processor {}", ours.processor)),
                    (Some(Ask::Payment(id)), Ok(p)) => found(p.get(&id).await, |t| Theirs {
                        amount: t.captured_minor,
                        status: t.status.as_str().to_string(),
                    }),
                    (Some(Ask::Refund(id)), Ok(p)) => found(p.get_refund(&id).await, |t| Theirs {
                        amount: t.amount_minor,
                        status: match t.status {
                            RefundStatus::Pending => "pending",
                            RefundStatus::Succeeded => "succeeded",
                            RefundStatus::Failed => "failed",
                        }
                        .to_string(),
                    }),
                    (Some(Ask::Transfer(id)), Ok(p)) => found(p.get_transfer(&id).await, |t| Theirs {
                        amount: t.amount_minor,
                        status: "paid".into(),
                    }),
                };
                (ours, found)
            })
            .buffered(READS_AT_ONCE)
            .collect()
            .await;
        let mut report = Report::new(from, to);
        for (ours, found) in &answers {
            report.add(ours, found.clone());
        }
        Ok(report)
    }
}

impl Payments {
    /// The store's sales (staff) of charges captured from the day `from`
    /// through the day `to` (UTC dates, both optional).
    pub async fn store_sales(
        &self,
        caller: &str,
        admin: bool,
        store_id: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<crate::payments::funds::SalesRow>> {
        if !admin {
            self.storefront
                .get(store_id)
                .await?
                .check_staff(caller, self.clock.now())?;
        }
        let from_ms = from.map(|d| reconcile::day(d).map(|r| r.0)).transpose()?.unwrap_or(0);
        let to_ms = to
            .map(|d| reconcile::day(d).map(|r| r.1))
            .transpose()?
            .unwrap_or(Millis::MAX);
        if from_ms >= to_ms {
            return Err(Error::invalid("to", "must not be before from"));
        }
        expect_reply!(
            self.funds(store_id, FundsCommand::Sales { from: from_ms, to: to_ms }).await?,
            FundsReply::Sales(rows) => rows
        )
    }
}
