//! Typed custom attributes: definitions and the values products give them.
//! Pure rules, part of the catalog model.

use crate::error::{Error, FieldErrors, Result};
use crate::ports::Millis;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::str::FromStr;

pub const ATTRIBUTE_NAME_MAX: usize = 64;
pub const ENUM_VALUES_MAX: usize = 200;
pub const STRING_VALUE_MAX: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttrKind {
    Integer,
    Decimal,
    String,
    Boolean,
    Enum,
}

impl AttrKind {
    pub fn parse(raw: &str) -> std::result::Result<Self, String> {
        match raw {
            "integer" => Ok(Self::Integer),
            "decimal" => Ok(Self::Decimal),
            "string" => Ok(Self::String),
            "boolean" => Ok(Self::Boolean),
            "enum" => Ok(Self::Enum),
            _ => Err("must be one of integer, decimal, string, boolean, enum".into()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Integer => "integer",
            Self::Decimal => "decimal",
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Enum => "enum",
        }
    }
}

/// A value a product gives an attribute. Decimals are kept as their
/// normalised decimal string (exact, and independent of any float).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttrValue {
    Integer(i64),
    Decimal(String),
    String(String),
    Boolean(bool),
    Enum(String),
}

impl AttrValue {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Integer(i) => serde_json::json!(i),
            Self::Decimal(d) => serde_json::json!(d),
            Self::String(s) | Self::Enum(s) => serde_json::json!(s),
            Self::Boolean(b) => serde_json::json!(b),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeDef {
    pub id: String,
    pub name: String,
    pub kind: AttrKind,
    /// The allowed values of an enum attribute.
    pub values: Vec<String>,
    pub unit: Option<String>,
    /// How many products give this attribute a value (each is a member
    /// record of the attribute's entity).
    pub uses: u64,
    pub created_at: Millis,
}

/// An attribute as schema version 1 stored it: every product using it in
/// the record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttributeDefV1 {
    pub id: String,
    pub name: String,
    pub kind: AttrKind,
    pub values: Vec<String>,
    pub unit: Option<String>,
    pub used_by: BTreeSet<String>,
    pub created_at: Millis,
}

impl AttributeDefV1 {
    /// The attribute, and the products using it (to become members).
    pub fn upgraded(self) -> (AttributeDef, BTreeSet<String>) {
        let def = AttributeDef {
            id: self.id,
            name: self.name,
            kind: self.kind,
            values: self.values,
            unit: self.unit,
            uses: self.used_by.len() as u64,
            created_at: self.created_at,
        };
        (def, self.used_by)
    }
}

/// A product starting (`uses`) or stopping to use something it is
/// (`member`) or is not counted as using: the change of the count, if any.
pub fn use_change(member: bool, uses: bool) -> Option<bool> {
    (member != uses).then_some(uses)
}

/// What a client sends to define or change an attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeSpec {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub values: Option<Vec<String>>,
    /// `Some(None)` removes the unit.
    pub unit: Option<Option<String>>,
}

fn label(raw: &str) -> std::result::Result<String, String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > ATTRIBUTE_NAME_MAX || name.chars().any(char::is_control) {
        return Err(format!("must be 1 to {ATTRIBUTE_NAME_MAX} printable characters"));
    }
    Ok(name.to_string())
}

fn enum_values(kind: AttrKind, raw: &[String]) -> std::result::Result<Vec<String>, String> {
    if kind != AttrKind::Enum {
        return if raw.is_empty() {
            Ok(Vec::new())
        } else {
            Err("only enum attributes have values".into())
        };
    }
    // The count first: an over-long list is refused before it is read.
    if raw.is_empty() || raw.len() > ENUM_VALUES_MAX {
        return Err(format!("an enum needs 1 to {ENUM_VALUES_MAX} values"));
    }
    let mut values: Vec<String> = Vec::with_capacity(raw.len());
    let mut seen = std::collections::HashSet::with_capacity(raw.len());
    for v in raw {
        let v = v.trim();
        if v.is_empty() || v.chars().count() > ATTRIBUTE_NAME_MAX {
            return Err(format!("each value must be 1 to {ATTRIBUTE_NAME_MAX} characters"));
        }
        if !seen.insert(v) {
            return Err(format!("'{v}' is listed twice"));
        }
        values.push(v.to_string());
    }
    Ok(values)
}

fn in_use() -> Error {
    Error::conflict("attribute_in_use", "products use this attribute")
}

impl AttributeDef {
    pub fn create(id: String, spec: &AttributeSpec, now: Millis) -> Result<Self> {
        let mut errors = FieldErrors::new();
        let name = match &spec.name {
            Some(n) => errors.check("name", label(n)),
            None => {
                errors.add("name", "is required");
                None
            }
        };
        let kind = match &spec.kind {
            Some(k) => errors.check("kind", AttrKind::parse(k)),
            None => {
                errors.add("kind", "is required");
                None
            }
        };
        let values = kind.and_then(|k| errors.check("values", enum_values(k, spec.values.as_deref().unwrap_or(&[]))));
        let unit = spec
            .unit
            .clone()
            .flatten()
            .and_then(|u| errors.check("unit", label(&u)));
        errors.into_result()?;
        Ok(Self {
            id,
            name: name.unwrap_or_default(),
            kind: kind.unwrap_or(AttrKind::String),
            values: values.unwrap_or_default(),
            unit,
            uses: 0,
            created_at: now,
        })
    }

    /// Renames or changes an attribute. Changing its kind, or dropping enum
    /// values, while products use it is a conflict.
    pub fn update(&self, spec: &AttributeSpec) -> Result<Self> {
        let mut errors = FieldErrors::new();
        let mut next = self.clone();
        if let Some(n) = &spec.name
            && let Some(n) = errors.check("name", label(n))
        {
            next.name = n;
        }
        if let Some(k) = &spec.kind
            && let Some(k) = errors.check("kind", AttrKind::parse(k))
        {
            next.kind = k;
        }
        let values = spec.values.clone().unwrap_or_else(|| {
            if next.kind == self.kind {
                self.values.clone()
            } else {
                Vec::new()
            }
        });
        if let Some(values) = errors.check("values", enum_values(next.kind, &values)) {
            next.values = values;
        }
        if let Some(unit) = &spec.unit {
            next.unit = unit.as_deref().and_then(|u| errors.check("unit", label(u)));
        }
        errors.into_result()?;
        let dropped_values = self.values.iter().any(|v| !next.values.contains(v));
        if self.uses > 0 && (next.kind != self.kind || dropped_values) {
            return Err(in_use());
        }
        Ok(next)
    }

    pub fn check_deletable(&self) -> Result<()> {
        if self.uses == 0 { Ok(()) } else { Err(in_use()) }
    }

    /// Checks a value a product gives this attribute: it must be of the
    /// attribute's kind — the string `"5"` is not an integer.
    pub fn check_value(&self, value: &serde_json::Value) -> std::result::Result<AttrValue, String> {
        use serde_json::Value as J;
        let expected = || format!("must be a {} value", self.kind.as_str());
        match (self.kind, value) {
            (AttrKind::Integer, J::Number(n)) => n.as_i64().map(AttrValue::Integer).ok_or_else(expected),
            (AttrKind::Decimal, J::Number(n)) => decimal(&n.to_string()).ok_or_else(expected),
            (AttrKind::Decimal, J::String(s)) => decimal(s).ok_or_else(expected),
            (AttrKind::String, J::String(s)) if s.chars().count() <= STRING_VALUE_MAX => {
                Ok(AttrValue::String(s.clone()))
            }
            (AttrKind::String, J::String(_)) => Err(format!("must be at most {STRING_VALUE_MAX} characters")),
            (AttrKind::Boolean, J::Bool(b)) => Ok(AttrValue::Boolean(*b)),
            (AttrKind::Enum, J::String(s)) if self.values.contains(s) => Ok(AttrValue::Enum(s.clone())),
            (AttrKind::Enum, _) => Err(format!("must be one of: {}", self.values.join(", "))),
            _ => Err(expected()),
        }
    }

    /// A product that is (`member`) or is not counted starts or stops
    /// using the attribute: the attribute after, or `None` if unchanged.
    pub fn with_user(&self, member: bool, uses: bool) -> Option<Self> {
        let starts = use_change(member, uses)?;
        let mut next = self.clone();
        next.uses = if starts {
            next.uses + 1
        } else {
            next.uses.saturating_sub(1)
        };
        Some(next)
    }
}

fn decimal(text: &str) -> Option<AttrValue> {
    let parsed = Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()?;
    Some(AttrValue::Decimal(parsed.normalize().to_string()))
}

#[cfg(test)]
#[path = "attributes_tests.rs"]
mod tests;
