//! Shapes every domain shares for people and places: e-mail addresses,
//! E.164 phones, names, postal addresses and contacts. Parse, don't
//! validate: each function returns the normalised value or a reason for the
//! client.

use crate::error::FieldErrors;
use serde::{Deserialize, Serialize};

pub const DISPLAY_NAME_MAX: usize = 64;

/// An e-mail address, trimmed. Its uniqueness key is [`crate::identity::model::fields::email_key`].
pub fn email(raw: &str) -> Result<String, String> {
    let email = raw.trim();
    let valid = email.len() <= 254
        && email_address::EmailAddress::parse_with_options(
            email,
            email_address::Options::default().without_display_text(),
        )
        .is_ok()
        && email
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.') && !domain.starts_with('[') && !domain.ends_with('.'));
    // The mailer must be able to send to it, too (no quoted local parts).
    if valid && email.parse::<lettre::Address>().is_ok() && !email.contains('"') {
        Ok(email.to_string())
    } else {
        Err("must be a valid e-mail address such as name@example.com".into())
    }
}

/// Characters that reorder how text around them is displayed (used to
/// disguise names and file extensions).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}')
}

/// A person's name as shown to others: 1 to 64 printable characters.
pub fn display_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > DISPLAY_NAME_MAX {
        return Err(format!("must be 1 to {DISPLAY_NAME_MAX} characters"));
    }
    if name.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err("must not contain control or text-direction characters".into());
    }
    Ok(name.to_string())
}

/// An E.164 phone number: `+`, then 8 to 15 digits, the first not 0.
pub fn phone(raw: &str) -> Result<String, String> {
    let digits = raw.strip_prefix('+').unwrap_or("");
    let valid =
        (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
    if valid {
        Ok(raw.to_string())
    } else {
        Err("must be an E.164 number such as +14155550100".into())
    }
}

/// A postal address, the same shape in every domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
}

/// Checks every field of an address; reasons are keyed by the field name.
pub fn address(raw: &Address) -> Result<Address, Vec<(&'static str, String)>> {
    let mut reasons = Vec::new();
    let mut text = |field: &'static str, value: &str, max: usize| -> String {
        let v = value.trim();
        if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
            reasons.push((field, format!("must be 1 to {max} printable characters")));
        }
        v.to_string()
    };
    let line1 = text("line1", &raw.line1, 200);
    let line2 = raw.line2.as_deref().map(|l| text("line2", l, 200));
    let city = text("city", &raw.city, 100);
    let region = raw.region.as_deref().map(|r| text("region", r, 100));
    let postal_code = text("postal_code", &raw.postal_code, 20);
    let country = raw.country.trim().to_uppercase();
    if !is_country_code(&country) {
        reasons.push(("country", "must be an ISO 3166-1 alpha-2 code such as US".into()));
    }
    if reasons.is_empty() {
        Ok(Address {
            line1,
            line2,
            city,
            region,
            postal_code,
            country,
        })
    } else {
        Err(reasons)
    }
}

/// ISO 3166-1 alpha-2 codes officially assigned.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

pub fn is_country_code(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.split(' ').any(|c| c == code)
}

/// Someone to reach about an order or a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// Checks a contact field by field, recording reasons under `at.<field>`.
pub fn contact(errors: &mut FieldErrors, at: &str, c: &Contact) -> Contact {
    Contact {
        name: errors
            .check(&format!("{at}.name"), display_name(&c.name))
            .unwrap_or_default(),
        email: errors
            .check(&format!("{at}.email"), email(&c.email))
            .unwrap_or_default(),
        phone: errors
            .check(&format!("{at}.phone"), phone(&c.phone))
            .unwrap_or_default(),
    }
}

/// Checks an address, recording reasons under `at.<field>`.
pub fn address_field(errors: &mut FieldErrors, at: &str, a: &Address) -> Address {
    match address(a) {
        Ok(a) => a,
        Err(reasons) => {
            for (field, reason) in reasons {
                errors.add(format!("{at}.{field}"), reason);
            }
            a.clone()
        }
    }
}

#[cfg(test)]
#[path = "contact_tests.rs"]
mod tests;
