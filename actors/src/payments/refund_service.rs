//! Refunds: those store staff ask for, and those approved returns ask for
//! through the orders domain (its `ReturnRefunds`). Each is one refund
//! entity (`actor/refund.rs`), claimed first on the order's ledger.

use super::*;

/// What a store asks to refund.
#[derive(Debug, Clone, Serialize)]
pub struct RefundRequest {
    pub order_id: String,
    pub lines: Vec<ChargeLine>,
    pub reason: String,
}

/// The id of the refund of line `line_id` approved in return `return_id`.
pub fn return_refund_id(return_id: &str, line_id: &str) -> String {
    let hash = xxhash_rust::xxh3::xxh3_128(format!("return\0{return_id}\0{line_id}").as_bytes());
    format!("rf_{hash:032x}")
}

/// Refunds approved returns for the orders domain (its `ReturnRefunds`).
pub(super) struct ReturnRefunder {
    pub(super) context: EntityContext,
}

impl ReturnRefunds for ReturnRefunder {
    fn refund(&self, order: Order, refund: ReturnRefund) -> BoxFuture<'static, Result<()>> {
        let router = self.context.router();
        Box::pin(async move {
            let router = router?;
            let refund_id = return_refund_id(&refund.return_id, &refund.line_id);
            let order_id = order.id.clone();
            // A disputed charge's money is not given back twice: the step
            // fails and the order retries it once the dispute closed.
            let ledger = expect_reply!(
                router.ask::<LedgerEntity>(&order_id, LedgerCommand::Get).await?,
                LedgerReply::Ledger(l) => *l
            )?;
            for claim in ledger
                .claims
                .iter()
                .filter(|c| c.intent.stores.contains(&refund.store_id))
            {
                let disputes = router
                    .ask::<DisputesEntity>(&claim.intent.charge_id, DisputeCommand::Get)
                    .await?;
                if disputes.open() {
                    return Err(Error::conflict(
                        "charge_disputed",
                        "the charge is disputed; the return's refund waits until the dispute closes",
                    ));
                }
            }
            let ask = LedgerCommand::AskRefund {
                order: Box::new(order),
                refund_id: refund_id.clone(),
                request_hash: xxhash_rust::xxh3::xxh3_64(format!("{}\0{}", refund.line_id, refund.units).as_bytes()),
                store_id: refund.store_id,
                lines: vec![ChargeLine {
                    line_id: refund.line_id,
                    quantity: refund.units,
                }],
                reason: format!("return {} approved", refund.return_id),
            };
            let claim = match router.ask::<LedgerEntity>(&order_id, ask).await {
                Ok(LedgerReply::Refund(claim)) => claim,
                Ok(other) => return Err(Error::unexpected_reply(&other)),
                Err(error @ (Error::Conflict { .. } | Error::Validation { .. })) => {
                    tracing::warn!(order = order_id, refund = refund_id, %error, "nothing to refund for a return");
                    return Ok(());
                }
                Err(error) => return Err(error),
            };
            // The refund goes on by itself: the order waiting here must not
            // wait for it (it tells the order when it is done). Cut short,
            // the ledger's alarm creates it.
            tokio::spawn(async move {
                let create = RefundCommand::Create { order_id, claim };
                let made = router.ask::<RefundEntity>(&refund_id, create).await;
                if made.is_ok()
                    && let Err(error) = router.ask::<RefundEntity>(&refund_id, RefundCommand::Work).await
                {
                    tracing::warn!(refund = refund_id, %error, "refund steps left to the alarm");
                }
            });
            Ok(())
        })
    }
}

/// The id of the refund asked with `idempotency_key` by `store_id`.
pub fn refund_id(store_id: &str, idempotency_key: &str) -> String {
    let hash = xxhash_rust::xxh3::xxh3_128(format!("{store_id}\0{idempotency_key}").as_bytes());
    format!("rf_{hash:032x}")
}

impl Payments {
    /// Store staff refund units of their store's lines (idempotent per key).
    pub async fn refund(
        &self,
        caller: &str,
        store_id: &str,
        idempotency_key: &str,
        request: RefundRequest,
    ) -> Result<RefundRecord> {
        let key = idempotency_key_of(idempotency_key)?;
        let store = self.storefront.get(store_id).await?;
        store.check_staff(caller, self.clock.now())?;
        let order = self.store_order(caller, store_id, &request.order_id).await?;
        let refund_id = refund_id(store_id, key);
        let _flying = self.in_flight.enter(&refund_id)?;
        self.refuse_disputed(&request.order_id, store_id).await?;
        let ask = LedgerCommand::AskRefund {
            order: Box::new(order),
            refund_id: refund_id.clone(),
            request_hash: request_hash(&request)?,
            store_id: store_id.to_string(),
            lines: request.lines.clone(),
            reason: request.reason.clone(),
        };
        let claim = expect_reply!(
            self.router.ask::<LedgerEntity>(&request.order_id, ask).await?,
            LedgerReply::Refund(c) => *c
        )?;
        let create = RefundCommand::Create {
            order_id: request.order_id.clone(),
            claim: Box::new(claim),
        };
        let record = self.refund_command(&refund_id, create).await?;
        if record.has_steps() {
            return self.refund_command(&refund_id, RefundCommand::Work).await;
        }
        Ok(record)
    }

    /// The order, if `caller` is staff of `store_id` and it has lines there.
    async fn store_order(&self, caller: &str, store_id: &str, order_id: &str) -> Result<Order> {
        match self.orders.view(caller, order_id).await {
            Ok((order, Some(stores))) if stores.iter().any(|s| s == store_id) => Ok(order),
            Ok(_) | Err(Error::NotFound { .. }) => {
                Err(Error::invalid("order_id", "no order of this store has this id"))
            }
            Err(e) => Err(e),
        }
    }

    /// The order's refunds, oldest first: all for the buyer, their
    /// store's for staff.
    pub async fn order_refunds(&self, caller: &str, order_id: &str) -> Result<Vec<RefundRecord>> {
        let (_, stores) = self.orders.view(caller, order_id).await?;
        let ledger = self.ledger(order_id).await?;
        let shown = ledger
            .refunds
            .iter()
            .filter(|r| stores.as_ref().is_none_or(|s| s.contains(&r.store_id)));
        let records = join_all(shown.map(|r| self.refund_command(&r.refund_id, RefundCommand::Get))).await;
        let mut out = Vec::new();
        for record in records {
            match record {
                Ok(r) => out.push(r),
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
