//! Storefront rules: stores, their staff and opening hours. Pure: callers
//! pass times; time zones come from the bundled IANA database.

use super::offers::Offer;
use crate::error::{Error, FieldErrors, Result};
use crate::identity::model::fields::{self, Address};
use crate::ports::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::shared::money::currency;

pub fn timezone(raw: &str) -> std::result::Result<String, String> {
    jiff::tz::TimeZone::get(raw.trim())
        .map(|_| raw.trim().to_string())
        .map_err(|_| "must be an IANA time zone such as Asia/Taipei".into())
}

/// Opening hours of one weekday (0 = Monday … 6 = Sunday), minutes after
/// midnight, local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hours {
    pub day: u8,
    pub open: u16,
    pub close: u16,
}

/// `"HH:MM"` → minutes after midnight.
pub fn clock_time(raw: &str) -> std::result::Result<u16, String> {
    let invalid = || "must be a time such as 09:30".to_string();
    let (h, m) = raw.split_once(':').ok_or_else(invalid)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| invalid())?, m.parse().map_err(|_| invalid())?);
    if h > 23 || m > 59 || raw.len() != 5 {
        return Err(invalid());
    }
    Ok(h * 60 + m)
}

pub fn format_clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Checks a week of opening hours: days 0-6, each at most once, closing
/// after opening.
pub fn week(raw: &[(u8, String, String)]) -> Result<Vec<Hours>> {
    if raw.len() > 7 {
        return Err(Error::invalid("hours", "at most one entry per day of the week"));
    }
    let mut errors = FieldErrors::new();
    let mut hours = Vec::new();
    let mut seen = [false; 7];
    for (i, (day, open, close)) in raw.iter().enumerate() {
        let field = |f: &str| format!("[{i}].{f}");
        if *day > 6 {
            errors.add(field("day"), "must be 0 (Monday) to 6 (Sunday)");
            continue;
        }
        if std::mem::replace(&mut seen[*day as usize], true) {
            errors.add(field("day"), "this day is listed twice");
        }
        let open = errors.check(&field("open"), clock_time(open));
        let close = errors.check(&field("close"), clock_time(close));
        if let (Some(open), Some(close)) = (open, close) {
            if close <= open {
                errors.add(field("close"), "must be after open");
            }
            hours.push(Hours { day: *day, open, close });
        }
    }
    errors.into_result()?;
    hours.sort_by_key(|h| h.day);
    Ok(hours)
}

/// A staff member's rights hold inside this window only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffWindow {
    pub valid_from: Millis,
    pub valid_until: Option<Millis>,
}

impl StaffWindow {
    pub fn covers(&self, now: Millis) -> bool {
        self.valid_from <= now && self.valid_until.is_none_or(|until| now < until)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoreStatus {
    Draft,
    Active,
}

impl StoreStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreStatus::Draft => "draft",
            StoreStatus::Active => "active",
        }
    }

    /// A status a client asks for: whether the store is to be active.
    pub fn parse(raw: &str) -> std::result::Result<bool, String> {
        match raw {
            "active" => Ok(true),
            "draft" => Ok(false),
            _ => Err("must be active or draft".into()),
        }
    }
}

/// A store offered to another supervisor, until they accept it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTransfer {
    /// The supervisor who offered it (the transfer holds only while they
    /// still supervise the store).
    pub from: String,
    pub to: String,
    pub since: Millis,
}

impl PendingTransfer {
    /// Only the user it was offered to accepts it, while the one who
    /// offered it still supervises the store.
    pub fn check_accept(&self, caller: &str, supervisor: &str) -> Result<()> {
        if self.to != caller {
            return Err(Error::not_found("transfer"));
        }
        if self.from != supervisor {
            return Err(Error::conflict(
                "transfer_stale",
                "the store changed hands since this transfer was offered",
            ));
        }
        Ok(())
    }
}

/// What one viewer may see of a store: everyone the public part, its
/// supervisor also the contacts and staff ([`Store::view_for`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreView {
    /// The store without its contacts, staff and offers unless the viewer
    /// is its supervisor (then `supervisor` is set).
    pub store: Store,
    pub open_now: bool,
    pub supervisor: Option<SupervisorView>,
}

/// What only a store's supervisor sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisorView {
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub address: Option<Address>,
    /// Each staff member's window, and whether it covers now.
    pub staff: Vec<(String, StaffWindow, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    pub id: String,
    pub supervisor_id: String,
    pub name: String,
    pub currency: String,
    pub timezone: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub address: Option<Address>,
    pub status: StoreStatus,
    pub staff: BTreeMap<String, StaffWindow>,
    pub hours: Vec<Hours>,
    /// How many offers the store's price list holds (each is a member
    /// record of the store's entity, by product id).
    pub offer_count: u64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A store as schema version 1 stored it: its whole price list inside.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreV1 {
    pub id: String,
    pub supervisor_id: String,
    pub name: String,
    pub currency: String,
    pub timezone: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub address: Option<Address>,
    pub status: StoreStatus,
    pub staff: BTreeMap<String, StaffWindow>,
    pub hours: Vec<Hours>,
    pub offers: BTreeMap<String, Offer>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl StoreV1 {
    /// The store, and its offers (to become members).
    pub fn upgraded(self) -> (Store, BTreeMap<String, Offer>) {
        let store = Store {
            id: self.id,
            supervisor_id: self.supervisor_id,
            name: self.name,
            currency: self.currency,
            timezone: self.timezone,
            emails: self.emails,
            phones: self.phones,
            address: self.address,
            status: self.status,
            staff: self.staff,
            hours: self.hours,
            offer_count: self.offers.len() as u64,
            created_at: self.created_at,
            updated_at: self.updated_at,
        };
        (store, self.offers)
    }
}

impl Store {
    /// The store as `viewer` (`None`: anonymous) may see it at `now`.
    pub fn view_for(&self, viewer: Option<&str>, now: Millis) -> StoreView {
        let supervisor = (viewer == Some(self.supervisor_id.as_str())).then(|| SupervisorView {
            emails: self.emails.clone(),
            phones: self.phones.clone(),
            address: self.address.clone(),
            staff: self
                .staff
                .iter()
                .map(|(user, window)| (user.clone(), *window, window.covers(now)))
                .collect(),
        });
        let public = Store {
            emails: Vec::new(),
            phones: Vec::new(),
            address: None,
            staff: BTreeMap::new(),
            ..self.clone()
        };
        StoreView {
            open_now: self.open_at(now),
            store: public,
            supervisor,
        }
    }
}

/// A store's fields as a client sends them; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreSpec {
    pub name: Option<String>,
    pub currency: Option<String>,
    pub timezone: Option<String>,
    pub emails: Option<Vec<String>>,
    pub phones: Option<Vec<String>>,
    pub address: Option<Option<Address>>,
    /// `Some(true)` asks to activate, `Some(false)` to return to draft.
    pub active: Option<bool>,
}

const NAME_MAX: usize = 100;
/// Most offers one store keeps.
pub const OFFERS_MAX: u64 = 100_000;
const CONTACTS_MAX: usize = 5;

fn store_name(raw: &str) -> std::result::Result<String, String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        Err(format!("must be 1 to {NAME_MAX} printable characters"))
    } else {
        Ok(name.to_string())
    }
}

impl Store {
    /// A new store in draft, supervised by its creator.
    pub fn create(id: String, supervisor: &str, spec: &StoreSpec, now: Millis) -> Result<Self> {
        let mut errors = FieldErrors::new();
        for (field, given) in [
            ("name", spec.name.is_some()),
            ("currency", spec.currency.is_some()),
            ("timezone", spec.timezone.is_some()),
        ] {
            if !given {
                errors.add(field, "is required");
            }
        }
        let blank = Self {
            id,
            supervisor_id: supervisor.to_string(),
            name: String::new(),
            currency: String::new(),
            timezone: String::new(),
            emails: Vec::new(),
            phones: Vec::new(),
            address: None,
            status: StoreStatus::Draft,
            staff: BTreeMap::new(),
            hours: Vec::new(),
            offer_count: 0,
            created_at: now,
            updated_at: now,
        };
        // Report what is missing and what is invalid together.
        let store = blank.with_spec(spec, now);
        if let Err(Error::Validation { fields }) = &store {
            for (field, reason) in fields {
                errors.add(field.clone(), reason.clone());
            }
        }
        errors.into_result()?;
        store
    }

    /// Applies an edit. Activation needs a name, an email, a phone and an
    /// address: the error names each that is missing.
    pub fn with_spec(&self, spec: &StoreSpec, now: Millis) -> Result<Self> {
        let mut errors = FieldErrors::new();
        let mut next = self.clone();
        if let Some(name) = spec.name.as_deref().and_then(|n| errors.check("name", store_name(n))) {
            next.name = name;
        }
        if let Some(code) = spec
            .currency
            .as_deref()
            .and_then(|c| errors.check("currency", currency(c)))
        {
            next.currency = code;
        }
        if let Some(tz) = spec
            .timezone
            .as_deref()
            .and_then(|t| errors.check("timezone", timezone(t)))
        {
            next.timezone = tz;
        }
        for (field, list) in [("emails", &spec.emails), ("phones", &spec.phones)] {
            if list.as_ref().is_some_and(|l| l.len() > CONTACTS_MAX) {
                return Err(Error::invalid(field, format!("at most {CONTACTS_MAX}")));
            }
        }
        if let Some(emails) = &spec.emails {
            next.emails = emails
                .iter()
                .enumerate()
                .filter_map(|(i, e)| errors.check(&format!("emails[{i}]"), fields::email(e)))
                .collect();
        }
        if let Some(phones) = &spec.phones {
            next.phones = phones
                .iter()
                .enumerate()
                .filter_map(|(i, p)| errors.check(&format!("phones[{i}]"), fields::phone(p)))
                .collect();
        }
        if let Some(address) = &spec.address {
            next.address = match address {
                None => None,
                Some(a) => match fields::address(a) {
                    Ok(a) => Some(a),
                    Err(reasons) => {
                        for (field, reason) in reasons {
                            errors.add(format!("address.{field}"), reason);
                        }
                        None
                    }
                },
            };
        }
        errors.into_result()?;
        let wants_active = spec.active.unwrap_or(next.status == StoreStatus::Active);
        if wants_active {
            let mut missing = FieldErrors::new();
            if next.emails.is_empty() {
                missing.add("emails", "an active store needs an e-mail address");
            }
            if next.phones.is_empty() {
                missing.add("phones", "an active store needs a phone number");
            }
            if next.address.is_none() {
                missing.add("address", "an active store needs an address");
            }
            missing.into_result()?;
        }
        next.status = if wants_active {
            StoreStatus::Active
        } else {
            StoreStatus::Draft
        };
        next.updated_at = now;
        Ok(next)
    }

    pub fn check_supervisor(&self, caller: &str) -> Result<()> {
        if self.supervisor_id == caller {
            Ok(())
        } else {
            Err(Error::forbidden(
                "not_supervisor",
                "only the store's supervisor may do this",
            ))
        }
    }

    /// The supervisor, or staff inside their window.
    pub fn check_staff(&self, caller: &str, now: Millis) -> Result<()> {
        if self.supervisor_id == caller || self.staff.get(caller).is_some_and(|w| w.covers(now)) {
            Ok(())
        } else {
            Err(Error::forbidden("not_staff", "only the store's staff may do this"))
        }
    }

    pub fn with_staff(&self, user: &str, window: Option<StaffWindow>, now: Millis) -> Result<Self> {
        let mut next = self.clone();
        match window {
            Some(w) => {
                if w.valid_until.is_some_and(|until| until <= w.valid_from) {
                    return Err(Error::invalid("valid_until", "must be after valid_from"));
                }
                next.staff.insert(user.to_string(), w);
            }
            None => {
                if next.staff.remove(user).is_none() {
                    return Err(Error::not_found("staff member"));
                }
            }
        }
        next.updated_at = now;
        Ok(next)
    }

    /// Hands the store to another supervisor.
    pub fn with_supervisor(&self, to: &str, now: Millis) -> Result<Self> {
        if to == self.supervisor_id {
            return Err(Error::invalid("user_id", "already supervises this store"));
        }
        let mut next = self.clone();
        next.supervisor_id = to.to_string();
        next.staff.remove(to);
        next.updated_at = now;
        Ok(next)
    }

    /// Setting an offer for a product that has one (`exists`) or not.
    pub fn with_offer(&self, exists: bool, now: Millis) -> Result<Self> {
        if self.offer_count >= OFFERS_MAX && !exists {
            return Err(Error::conflict(
                "too_many_offers",
                format!("a store has at most {OFFERS_MAX} offers"),
            ));
        }
        let mut next = self.clone();
        next.offer_count += u64::from(!exists);
        next.updated_at = now;
        Ok(next)
    }

    /// Removing the offer of a product that has one (`exists`) or not.
    pub fn without_offer(&self, exists: bool, now: Millis) -> Result<Self> {
        if !exists {
            return Err(Error::not_found("offer"));
        }
        let mut next = self.clone();
        next.offer_count = next.offer_count.saturating_sub(1);
        next.updated_at = now;
        Ok(next)
    }

    pub fn with_hours(&self, hours: Vec<Hours>, now: Millis) -> Self {
        let mut next = self.clone();
        next.hours = hours;
        next.updated_at = now;
        next
    }

    /// Whether the store is open at `now`, in its own time zone.
    pub fn open_at(&self, now: Millis) -> bool {
        let Ok(tz) = jiff::tz::TimeZone::get(&self.timezone) else {
            return false;
        };
        let Ok(instant) = jiff::Timestamp::from_millisecond(now) else {
            return false;
        };
        let local = instant.to_zoned_datetime(tz);
        let day = local.weekday().to_monday_zero_offset() as u8;
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        self.hours
            .iter()
            .any(|h| h.day == day && h.open <= minute && minute < h.close)
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
