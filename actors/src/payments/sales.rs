//! A store's sales, per product and currency, from what each charge
//! earned it: its lines, what was given back of them (a refund against the
//! lines it returned, a lost dispute over all of them), and the fee and
//! transfer of its payout spread over the lines by what is left of them.
//! Pure.

use super::funds::Earned;
use crate::ports::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One order line's part of a charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoldLine {
    pub line_id: String,
    pub product_id: String,
    pub units: u64,
    pub gross: i64,
}

/// `amount` shared over `weights` in proportion, the last taking the
/// rounding (all to the last when the weights add up to nothing).
pub fn share_out(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i64 = weights.iter().sum();
    let mut left = amount;
    let count = weights.len();
    weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let part = match (i + 1 == count, total) {
                (true, _) => left,
                (false, 0) => 0,
                (false, t) => ((i128::from(*w) * i128::from(amount)) / i128::from(t)) as i64,
            };
            left -= part;
            part
        })
        .collect()
}

impl Earned {
    /// Records `amount` given back for `lines` (line id, units) of the
    /// charge — spread by their prices — or, with no lines (a lost
    /// dispute), over all its lines by their gross.
    pub fn returned(&mut self, lines: &[(String, u64)], amount: i64) {
        let picked: Vec<(&SoldLine, u64)> = match lines.is_empty() {
            true => self.lines.iter().map(|l| (l, 0)).collect(),
            false => lines
                .iter()
                .filter_map(|(id, units)| Some((self.lines.iter().find(|l| &l.line_id == id)?, *units)))
                .collect(),
        };
        let weights: Vec<i64> = picked
            .iter()
            .map(|(l, units)| match (*units, l.units) {
                (0, _) | (_, 0) => l.gross,
                (u, all) => l.gross * u as i64 / all as i64,
            })
            .collect();
        let parts = share_out(amount, &weights);
        let updates: Vec<(String, u64, i64)> = picked
            .iter()
            .zip(parts)
            .map(|((l, units), part)| (l.product_id.clone(), *units, part))
            .collect();
        for (product, units, part) in updates {
            let entry = self.returned.entry(product).or_default();
            entry.0 += units;
            entry.1 += part;
        }
    }
}

/// One row of a store's sales report: a product in a currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesRow {
    pub product_id: String,
    pub currency: String,
    pub units_sold: u64,
    pub units_refunded: u64,
    pub gross: i64,
    pub refunded: i64,
    pub fees: i64,
    pub net: i64,
    pub paid_out: i64,
}

/// The sales of charges captured in `[from, to)`, per product and
/// currency. A charge's fee and what reached the store (transferred less
/// reversed) are spread over its lines by what is left of them after
/// returns.
pub fn sales<'a>(earned: impl Iterator<Item = &'a Earned>, from: Millis, to: Millis) -> Vec<SalesRow> {
    let mut rows: BTreeMap<(String, String), SalesRow> = BTreeMap::new();
    for e in earned.filter(|e| (from..to).contains(&e.earning.captured_at)) {
        let currency = &e.earning.currency;
        // Each line's part of the share: its gross less its product's
        // returns (spread over the product's lines by gross).
        let mut product_gross: BTreeMap<&str, i64> = BTreeMap::new();
        for l in &e.lines {
            *product_gross.entry(&l.product_id).or_default() += l.gross;
        }
        let weights: Vec<i64> = e
            .lines
            .iter()
            .map(|l| {
                let returned = e.returned.get(&l.product_id).map_or(0, |r| r.1);
                let all = product_gross.get(l.product_id.as_str()).copied().unwrap_or(0).max(1);
                (l.gross - (i128::from(returned) * i128::from(l.gross) / i128::from(all)) as i64).max(0)
            })
            .collect();
        let (fee, paid) = e
            .earning
            .paid
            .as_ref()
            .map_or((0, 0), |p| (p.fee, p.transferred - p.reversed));
        let fees = share_out(fee, &weights);
        let paid = share_out(paid, &weights);
        for ((line, fee), paid) in e.lines.iter().zip(fees).zip(paid) {
            let row = rows
                .entry((line.product_id.clone(), currency.clone()))
                .or_insert_with(|| SalesRow {
                    product_id: line.product_id.clone(),
                    currency: currency.clone(),
                    ..SalesRow::default()
                });
            row.units_sold += line.units;
            row.gross += line.gross;
            row.fees += fee;
            row.paid_out += paid;
        }
        for (product, (units, amount)) in &e.returned {
            let row = rows
                .entry((product.clone(), currency.clone()))
                .or_insert_with(|| SalesRow {
                    product_id: product.clone(),
                    currency: currency.clone(),
                    ..SalesRow::default()
                });
            row.units_refunded += units;
            row.refunded += amount;
        }
    }
    rows.into_values()
        .map(|mut r| {
            r.net = r.gross - r.refunded - r.fees;
            r
        })
        .collect()
}
