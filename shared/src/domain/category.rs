//! Ticket categories (tiers such as VIP, standard, reduced): each has its own price and seats, and
//! an event's seats are the sum of its categories'. A v1 event (`totalSeats`, optional `price`)
//! has one category, `general`. A lock takes seats of one category and records the price it had
//! at that moment; the booking carries it.
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;

/// At most this many categories per event.
pub const MAX_CATEGORIES: usize = 20;
/// The highest price, in the currency's smallest unit (cents): 1,000,000.00.
pub const MAX_PRICE: i64 = 100_000_000;
pub const NAME_MAX_CHARS: usize = 100;
pub const GENERAL_ID: &str = "general";
pub const GENERAL_NAME: &str = "General admission";
pub const DEFAULT_CURRENCY: &str = "eur";

/// A category's id: `[a-z0-9-]{1,32}`, unique within its event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CategoryId(String);

impl CategoryId {
    pub fn parse(id: &str) -> Result<Self, Error> {
        let ok = (1..=32).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(CategoryId(id.to_string()))
        } else {
            Err(Error::validation("a category id must be 1 to 32 characters of a-z, 0-9 and -"))
        }
    }

    pub fn general() -> Self {
        CategoryId(GENERAL_ID.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CategoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The category a stored hold takes seats of: the one it records, or `general` for a hold
/// written before categories existed.
pub fn of_hold(stored: Option<&CategoryId>) -> CategoryId {
    stored.cloned().unwrap_or_else(CategoryId::general)
}

/// A category as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub price: i64,
    pub total_seats: i64,
    pub available_seats: i64,
}

/// A validated category of a new event.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCategory {
    pub id: CategoryId,
    pub name: String,
    pub price: i64,
    pub seats: i64,
}

/// A price in the currency's smallest unit: 0..100,000,000.
pub fn parse_price(price: i64) -> Result<i64, Error> {
    if (0..=MAX_PRICE).contains(&price) {
        Ok(price)
    } else {
        Err(Error::validation(format!("price must be an integer from 0 to {MAX_PRICE} (in cents)")))
    }
}

/// A currency: three lower-case letters (ISO 4217, as Stripe spells them), default `eur`.
pub fn parse_currency(currency: Option<&str>) -> Result<String, Error> {
    let currency = currency.unwrap_or(DEFAULT_CURRENCY);
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(currency.to_string())
    } else {
        Err(Error::validation("currency must be three lower-case letters, such as eur"))
    }
}

/// What a client asked for, before validation: (id, name, price, seats).
pub struct CategoryRequest<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub price: i64,
    pub seats: i64,
}

/// The rules for an event's categories: 1..20 of them, unique ids, names 1..100 characters
/// without control characters, prices 0..100,000,000, seats at least 1 each and at most
/// `max_total` together.
pub fn validate(requested: &[CategoryRequest<'_>], max_total: i64) -> Result<Vec<NewCategory>, Error> {
    if requested.is_empty() || requested.len() > MAX_CATEGORIES {
        return Err(Error::validation(format!("categories must hold 1 to {MAX_CATEGORIES} categories")));
    }
    let mut seen = std::collections::HashSet::new();
    let mut total = 0i64;
    let mut out = Vec::with_capacity(requested.len());
    for c in requested {
        let id = CategoryId::parse(c.id)?;
        if !seen.insert(id.clone()) {
            return Err(Error::validation(format!("category id {id} appears twice")));
        }
        let name = c.name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
            return Err(Error::validation(format!("a category name must be 1 to {NAME_MAX_CHARS} characters")));
        }
        if super::has_control_characters(name, false) {
            return Err(Error::validation("a category name must not contain control characters"));
        }
        if !(1..=max_total).contains(&c.seats) {
            return Err(Error::validation(format!("a category's seats must be an integer from 1 to {max_total}")));
        }
        total += c.seats;
        out.push(NewCategory { id, name: name.to_string(), price: parse_price(c.price)?, seats: c.seats });
    }
    if total > max_total {
        return Err(Error::validation(format!("the categories' seats together must be at most {max_total}")));
    }
    Ok(out)
}

/// A v1 event's one category.
pub fn general(seats: i64, price: i64) -> Result<NewCategory, Error> {
    Ok(NewCategory { id: CategoryId::general(), name: GENERAL_NAME.into(), price: parse_price(price)?, seats })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c<'a>(id: &'a str, price: i64, seats: i64) -> CategoryRequest<'a> {
        CategoryRequest { id, name: "Tier", price, seats }
    }

    #[test]
    fn category_rules() {
        assert_eq!(validate(&[c("vip", 5000, 10), c("standard", 0, 90)], 100_000).unwrap().len(), 2);
        assert!(validate(&[], 100_000).is_err(), "none");
        let many: Vec<String> = (0..21).map(|i| format!("c{i}")).collect();
        let many: Vec<_> = many.iter().map(|id| c(id, 1, 1)).collect();
        assert!(validate(&many[..20], 100_000).is_ok());
        assert!(validate(&many, 100_000).is_err(), "21 categories");
        assert!(validate(&[c("vip", 1, 1), c("vip", 1, 1)], 100_000).is_err(), "duplicate id");
        assert!(validate(&[c("VIP", 1, 1)], 100_000).is_err(), "upper case");
        assert!(validate(&[c(&"a".repeat(33), 1, 1)], 100_000).is_err(), "id too long");
        assert!(validate(&[c("vip", -1, 1)], 100_000).is_err(), "negative price");
        assert!(validate(&[c("vip", MAX_PRICE + 1, 1)], 100_000).is_err(), "price too high");
        assert!(validate(&[c("vip", MAX_PRICE, 1)], 100_000).is_ok());
        assert!(validate(&[c("vip", 1, 0)], 100_000).is_err(), "no seats");
        assert!(validate(&[c("a", 1, 60_000), c("b", 1, 40_001)], 100_000).is_err(), "over the total");
        assert!(validate(&[c("a", 1, 60_000), c("b", 1, 40_000)], 100_000).is_ok());
        let blank = CategoryRequest { id: "x", name: "  ", price: 1, seats: 1 };
        assert!(validate(&[blank], 100_000).is_err(), "blank name");
    }

    #[test]
    fn currencies_are_three_lower_case_letters() {
        assert_eq!(parse_currency(None).unwrap(), "eur");
        assert_eq!(parse_currency(Some("usd")).unwrap(), "usd");
        for bad in ["EUR", "euro", "e1r", ""] {
            assert!(parse_currency(Some(bad)).is_err(), "{bad}");
        }
    }
}
