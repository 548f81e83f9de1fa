//! Amounts as processors take them: whole minor units of the currency,
//! by the processors' table (Stripe's): zero-decimal currencies (JPY, KRW,
//! VND …) in whole units, three-decimal ones (BHD, KWD …) in thousandths,
//! every other in hundredths. Exact: an amount that is not a whole number
//! of minor units is refused, never rounded here. Pure.

use crate::error::{Error, Result};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Currencies a processor counts in whole units.
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
];

/// Currencies a processor counts in thousandths.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// The decimals of `currency`'s minor unit at a processor.
pub fn exponent(currency: &str) -> u32 {
    if ZERO_DECIMAL.contains(&currency) {
        0
    } else if THREE_DECIMAL.contains(&currency) {
        3
    } else {
        2
    }
}

/// `amount` in whole minor units of `currency` (`19.99` USD → `1999`).
pub fn to_minor(amount: Decimal, currency: &str) -> Result<i64> {
    let scaled = amount
        .checked_mul(Decimal::from(10i64.pow(exponent(currency))))
        .ok_or_else(|| Error::internal(format!("{amount} {currency} is too large for a processor")))?;
    if scaled.fract() != Decimal::ZERO || scaled.is_sign_negative() {
        return Err(Error::internal(format!(
            "{amount} {currency} is not a whole number of {currency} minor units"
        )));
    }
    scaled
        .to_i64()
        .ok_or_else(|| Error::internal(format!("{amount} {currency} is too large for a processor")))
}

/// `minor` whole minor units of `currency` as an amount (`1999` USD →
/// `19.99`).
pub fn from_minor(minor: i64, currency: &str) -> Decimal {
    Decimal::new(minor, exponent(currency))
}

#[cfg(test)]
#[path = "minor_tests.rs"]
mod tests;
