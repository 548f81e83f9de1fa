//! The sellers' money: merchant accounts, payouts and their statements,
//! disputes, reports, and the sandbox's connected accounts and disputes.

use super::*;
use actors::payments::minor;

/// An amount in minor units of `currency`, as the API shows money.
pub(crate) fn money(minor_units: i64, currency: &str) -> String {
    minor::from_minor(minor_units, currency).to_string()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentAccountRequest {
    /// Default: the platform's default processor.
    pub processor: Option<String>,
    /// Where the processor sends the store back once onboarding is done.
    pub return_url: String,
    /// Where it sends the store when the link expired (ask again there).
    pub refresh_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct PaymentAccountDto {
    pub processor: String,
    pub account_id: String,
    /// `pending`, `active` or `restricted`.
    pub status: String,
    /// What the processor still needs.
    pub requirements: Vec<String>,
    pub onboarding_url: Option<String>,
    pub onboarding_expires_at: Option<String>,
    pub updated_at: String,
}

impl From<&actors::payments::account::Account> for PaymentAccountDto {
    fn from(a: &actors::payments::account::Account) -> Self {
        PaymentAccountDto {
            processor: a.processor.clone(),
            account_id: a.account_id.clone(),
            status: a.status.as_str().to_string(),
            requirements: a.requirements.clone(),
            onboarding_url: a.onboarding_url.clone(),
            onboarding_expires_at: a.onboarding_expires_at.map(rfc3339),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutScheduleRequest {
    /// `daily`, `weekly` or `manual`.
    pub every: String,
}

#[derive(Serialize, ToSchema)]
pub struct PayoutScheduleDto {
    pub every: String,
    pub next_payout_at: Option<String>,
}

impl From<&actors::payments::funds::Funds> for PayoutScheduleDto {
    fn from(f: &actors::payments::funds::Funds) -> Self {
        PayoutScheduleDto {
            every: f.every.as_str().to_string(),
            next_payout_at: f.next_payout_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AmountDto {
    pub currency: String,
    pub amount: String,
}

fn amounts(per_currency: &BTreeMap<String, i64>) -> Vec<AmountDto> {
    per_currency
        .iter()
        .map(|(currency, a)| AmountDto {
            currency: currency.clone(),
            amount: money(*a, currency),
        })
        .collect()
}

/// One line's figures in one currency.
#[derive(Serialize, ToSchema)]
pub struct StatementAmountsDto {
    pub currency: String,
    /// The store's share: its lines less refunds before the payout.
    pub share: String,
    /// The platform's fee on the share.
    pub fee: String,
    /// The store's debt netted from this line.
    pub debt_netted: String,
    /// Transferred.
    pub amount: String,
}

#[derive(Serialize, ToSchema)]
pub struct StatementLineDto {
    pub charge_id: String,
    pub order_id: String,
    /// The store's lines in the charge (charge currency).
    pub gross: String,
    /// Refunded before the payout.
    pub refunded: String,
    /// In the charge's currency.
    pub charge: StatementAmountsDto,
    /// In the store's currency at the order's exchange-rate snapshot.
    pub store: StatementAmountsDto,
    pub transfer_id: Option<String>,
    /// The processor refused the transfer: the charge stays payable.
    pub refused: Option<String>,
    /// Since the payout (charge currency): refunds and lost disputes of the
    /// charge, what they took back from the transfer (`reversed`, and
    /// `reversing` still being asked); the rest became the store's debt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_payout: Option<AfterPayoutDto>,
}

#[derive(Serialize, ToSchema)]
pub struct AfterPayoutDto {
    pub refunded: String,
    pub reversed: String,
    pub reversing: String,
}

#[derive(Serialize, ToSchema)]
pub struct PayoutDto {
    pub id: String,
    /// `in_progress` or `paid`.
    pub status: String,
    /// A user's id, or `schedule`.
    pub requested_by: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// Transferred, per currency.
    pub totals: Vec<AmountDto>,
    pub lines: Vec<StatementLineDto>,
}

impl From<&actors::payments::funds::Payout> for PayoutDto {
    fn from(p: &actors::payments::funds::Payout) -> Self {
        let lines = p
            .lines
            .iter()
            .map(|l| {
                let c = &l.line.currency;
                let [share, fee, debt, amount] = l.store_amounts;
                StatementLineDto {
                    charge_id: l.line.charge_id.clone(),
                    order_id: l.order_id.clone(),
                    gross: money(l.gross, c),
                    refunded: money(l.refunded, c),
                    charge: StatementAmountsDto {
                        currency: c.clone(),
                        share: money(l.line.share, c),
                        fee: money(l.line.fee, c),
                        debt_netted: money(l.line.debt_netted, c),
                        amount: money(l.line.amount, c),
                    },
                    store: StatementAmountsDto {
                        currency: l.store_currency.clone(),
                        share: money(share, &l.store_currency),
                        fee: money(fee, &l.store_currency),
                        debt_netted: money(debt, &l.store_currency),
                        amount: money(amount, &l.store_currency),
                    },
                    transfer_id: l.transfer_id.clone(),
                    refused: l.refused.clone(),
                    after_payout: l.after.as_ref().map(|a| AfterPayoutDto {
                        refunded: money(a.refunded, c),
                        reversed: money(a.reversed, c),
                        reversing: money(a.reversing, c),
                    }),
                }
            })
            .collect();
        PayoutDto {
            id: p.id.clone(),
            status: p.status.as_str().to_string(),
            requested_by: p.requested_by.clone(),
            created_at: rfc3339(p.created_at),
            finished_at: p.finished_at.map(rfc3339),
            totals: amounts(&p.totals()),
            lines,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PayoutList {
    pub items: Vec<PayoutDto>,
    /// Pass as `after` for the next page.
    pub next_cursor: Option<String>,
    /// What the store owes the platform (netted from its next payouts).
    pub debt: Vec<AmountDto>,
    pub schedule: PayoutScheduleDto,
}

#[derive(Deserialize, IntoParams)]
pub struct PayoutQuery {
    pub after: Option<String>,
    pub limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct SandboxTransferDto {
    pub id: String,
    pub idempotency_key: String,
    pub amount: String,
    pub currency: String,
    pub reversed: String,
    pub transfer_group: String,
    pub source_transaction: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SandboxAccountDto {
    pub id: String,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub requirements: Vec<String>,
    pub balances: Vec<AmountDto>,
    /// How many transfers it received.
    pub transfer_count: u64,
    pub transfers: Vec<SandboxTransferDto>,
}

impl SandboxAccountDto {
    pub fn of(
        a: &actors::payments::sandbox_accounts::SandboxAccount,
        transfers: &[actors::payments::sandbox_accounts::BookedTransfer],
    ) -> Self {
        let r = &a.account.reported;
        SandboxAccountDto {
            id: a.account.id.clone(),
            charges_enabled: r.charges_enabled,
            payouts_enabled: r.payouts_enabled,
            requirements: r.currently_due.clone(),
            balances: amounts(&a.balances),
            transfer_count: a.transfers,
            transfers: transfers
                .iter()
                .map(|b| SandboxTransferDto {
                    id: b.transfer.id.clone(),
                    idempotency_key: b.request.idempotency_key.clone(),
                    amount: money(b.transfer.amount_minor, &b.transfer.currency),
                    currency: b.transfer.currency.clone(),
                    reversed: money(b.transfer.reversed_minor, &b.transfer.currency),
                    transfer_group: b.request.transfer_group.clone(),
                    source_transaction: b.request.source_payment_id.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxWithdrawRequest {
    /// e.g. `"12.50"`.
    pub amount: String,
    pub currency: String,
}

#[derive(Serialize, ToSchema)]
pub struct StoreDisputeDto {
    pub id: String,
    pub charge_id: String,
    pub order_id: String,
    pub currency: String,
    /// The whole disputed amount, and the store's part of it.
    pub amount: String,
    pub store_part: String,
    pub status: String,
    pub reason: String,
    /// Lost: the store's part was taken back like a refund.
    pub lost: bool,
    pub opened_at: String,
    pub closed_at: Option<String>,
}

impl From<&actors::payments::funds::StoreDispute> for StoreDisputeDto {
    fn from(d: &actors::payments::funds::StoreDispute) -> Self {
        StoreDisputeDto {
            id: d.dispute_id.clone(),
            charge_id: d.charge_id.clone(),
            order_id: d.order_id.clone(),
            currency: d.currency.clone(),
            amount: money(d.amount, &d.currency),
            store_part: money(d.store_part, &d.currency),
            status: d.status.clone(),
            reason: d.reason.clone(),
            lost: d.lost,
            opened_at: rfc3339(d.opened_at),
            closed_at: d.closed_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StoreDisputeList {
    pub items: Vec<StoreDisputeDto>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxDisputeRequest {
    pub processor_payment_id: String,
    /// In the payment's currency, e.g. `"10.00"`.
    pub amount: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxCloseDisputeRequest {
    pub won: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SandboxDisputeDto {
    pub id: String,
    pub processor_payment_id: String,
    pub amount: String,
    pub currency: String,
    pub status: String,
}

impl From<&actors::payments::ports::ProcessorDispute> for SandboxDisputeDto {
    fn from(d: &actors::payments::ports::ProcessorDispute) -> Self {
        SandboxDisputeDto {
            id: d.id.clone(),
            processor_payment_id: d.payment_id.clone(),
            amount: money(d.amount_minor, &d.currency),
            currency: d.currency.clone(),
            status: d.status.clone(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct SalesQuery {
    /// First day (UTC, `YYYY-MM-DD`) whose captures count.
    pub from: Option<String>,
    /// Last day counted.
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SalesRowDto {
    pub product_id: String,
    pub currency: String,
    pub units_sold: u64,
    pub units_refunded: u64,
    pub gross: String,
    pub refunded: String,
    /// The platform's fees on what was paid out.
    pub fees: String,
    /// gross − refunded − fees.
    pub net: String,
    /// What reached the store (transferred less reversed).
    pub paid_out: String,
}

impl From<&actors::payments::funds::SalesRow> for SalesRowDto {
    fn from(r: &actors::payments::funds::SalesRow) -> Self {
        let m = |a: i64| money(a, &r.currency);
        SalesRowDto {
            product_id: r.product_id.clone(),
            currency: r.currency.clone(),
            units_sold: r.units_sold,
            units_refunded: r.units_refunded,
            gross: m(r.gross),
            refunded: m(r.refunded),
            fees: m(r.fees),
            net: m(r.net),
            paid_out: m(r.paid_out),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SalesReport {
    pub items: Vec<SalesRowDto>,
}

#[derive(Deserialize, IntoParams)]
pub struct ReconciliationQuery {
    /// The day (UTC), `YYYY-MM-DD`.
    pub date: String,
}

#[derive(Serialize, ToSchema)]
pub struct TallyDto {
    pub count: u64,
    /// Our totals per currency, and the processors'.
    pub ours: Vec<AmountDto>,
    pub processor: Vec<AmountDto>,
}

#[derive(Serialize, ToSchema)]
pub struct MismatchDto {
    /// `charge`, `refund` or `transfer`.
    pub kind: String,
    pub id: String,
    pub processor_id: Option<String>,
    /// `amount`, `status` or `missing`.
    pub what: String,
    pub ours: String,
    pub processor: String,
}

#[derive(Serialize, ToSchema)]
pub struct StuckDto {
    pub kind: String,
    pub id: String,
    pub status: String,
    pub since: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReconciliationDto {
    pub date: String,
    pub charges: TallyDto,
    pub refunds: TallyDto,
    pub transfers: TallyDto,
    pub mismatches: Vec<MismatchDto>,
    /// Records in a non-final state.
    pub stuck: Vec<StuckDto>,
    /// Records whose processor could not be asked (then the report is partial).
    pub unreachable: u64,
}

impl ReconciliationDto {
    pub fn of(date: &str, r: &actors::payments::reconcile::Report) -> Self {
        let tally = |kind: &str| {
            let t = r.tallies.get(kind).cloned().unwrap_or_default();
            TallyDto {
                count: t.count,
                ours: amounts(&t.ours),
                processor: amounts(&t.processor),
            }
        };
        ReconciliationDto {
            date: date.to_string(),
            charges: tally("charge"),
            refunds: tally("refund"),
            transfers: tally("transfer"),
            mismatches: r
                .mismatches
                .iter()
                .map(|m| MismatchDto {
                    kind: m.kind.clone(),
                    id: m.id.clone(),
                    processor_id: m.processor_id.clone(),
                    what: m.what.clone(),
                    ours: m.ours.clone(),
                    processor: m.processor.clone(),
                })
                .collect(),
            stuck: r
                .stuck
                .iter()
                .map(|s| StuckDto {
                    kind: s.kind.clone(),
                    id: s.id.clone(),
                    status: s.status.clone(),
                    since: rfc3339(s.since),
                })
                .collect(),
            unreachable: r.unreachable,
        }
    }
}
