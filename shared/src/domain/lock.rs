//! Seat locks (holds), the values a lock request is made of, and **the lock-expiry rule**.
//!
//! `ACTIVE` -> `CONSUMED` (confirmed into a booking) | `EXPIRED` (lock-expiry job) | `RELEASED` (owner).
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::category::CategoryId;
use crate::domain::ids::{EventId, HoldRef, LockId, UserId};
use crate::time::Timestamp;
use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LockStatus {
    Active,
    Consumed,
    Expired,
    Released,
}

impl LockStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LockStatus::Active => "ACTIVE",
            LockStatus::Consumed => "CONSUMED",
            LockStatus::Expired => "EXPIRED",
            LockStatus::Released => "RELEASED",
        }
    }
}

/// A lock as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lock {
    #[serde(rename = "_id")]
    pub id: LockId,
    pub event_id: EventId,
    pub user_id: UserId,
    pub category_id: CategoryId,
    pub seats: Seats,
    /// Chosen seats of a seated event; general admission (all there is yet): always empty.
    pub seat_ids: Vec<String>,
    /// The category's price when the lock was taken, in the currency's smallest unit.
    pub unit_price: i64,
    /// `unitPrice x seats`.
    pub amount: i64,
    pub currency: String,
    pub status: LockStatus,
    pub expires_at: Timestamp,
    pub idempotency_key: IdempotencyKey,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// **The lock-expiry rule.** A lock holds its seats up to and including `expiresAt`; from the
/// first instant after it, it is expired, whether or not the job has marked it yet. Confirm
/// refuses it (`LOCK_EXPIRED`) and the lock-expiry job returns its seats. Both sides of the rule
/// are also written as DynamoDB conditions (`store::locks`), over the same fixed-width strings:
/// confirm requires `expiresAt >= :now`, the job requires `expiresAt < :now`.
pub fn is_expired(expires_at: Timestamp, now: Timestamp) -> bool {
    expires_at < now
}

/// **The idempotency replay window.** How long an idempotency claim (from its creation) and a
/// lock that finished without ever becoming a booking (released by its owner, expired by the job;
/// from its finish) stay in the table. After it, DynamoDB TTL may delete them (`expiresAtEpoch`):
/// the key may then be used again, as a new request, and `GET /api/locks/{id}` of such a lock
/// answers 404. A client retries a lost answer within minutes, and a replay window of at least
/// 24 hours is the contract; 7 days covers a client that retries after a weekend's outage, and
/// costs little (a few hundred bytes per lock, deleted by TTL for free). Bookings are never
/// given a TTL: they stay.
pub const FINISHED_HOLD_RETENTION: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// The `expiresAtEpoch` (Unix seconds) of something that may go [`FINISHED_HOLD_RETENTION`]
/// after `from`.
pub fn retained_until(from: Timestamp) -> i64 {
    from.unix_seconds() + FINISHED_HOLD_RETENTION.as_secs() as i64
}

/// From `from` until `until`: a lock's life (created, expires) or a booking's payment window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Timestamp,
    pub until: Timestamp,
}

impl Window {
    pub fn starting(from: Timestamp, seconds: u64) -> Self {
        Window { from, until: from.plus_seconds(seconds as i64) }
    }
}

/// A number of seats a hold takes: at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Seats(u32);

impl Seats {
    /// A client's request for `requested` seats, at most `max_per_lock`.
    pub fn parse(requested: i64, max_per_lock: u32) -> Result<Self, Error> {
        u32::try_from(requested)
            .ok()
            .filter(|n| (1..=max_per_lock).contains(n))
            .map(Seats)
            .ok_or_else(|| Error::validation(format!("seats must be an integer from 1 to {max_per_lock}")))
    }

    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

impl TryFrom<i64> for Seats {
    type Error = String;

    /// A stored count: any positive number (the per-lock limit may have changed since).
    fn try_from(n: i64) -> Result<Self, String> {
        u32::try_from(n).ok().filter(|n| *n >= 1).map(Seats).ok_or_else(|| format!("seats must be positive, got {n}"))
    }
}

impl From<Seats> for i64 {
    fn from(s: Seats) -> i64 {
        s.get()
    }
}

impl fmt::Display for Seats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

pub const IDEMPOTENCY_KEY_MAX_CHARS: usize = 255;

/// A client's idempotency key: 1 to 255 printable characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(key: &str) -> Result<Self, Error> {
        let n = key.chars().count();
        if n == 0 || n > IDEMPOTENCY_KEY_MAX_CHARS || super::has_control_characters(key, false) {
            return Err(Error::validation(format!(
                "idempotencyKey must be 1 to {IDEMPOTENCY_KEY_MAX_CHARS} printable characters"
            )));
        }
        Ok(IdempotencyKey(key.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated `POST /api/locks`: who, what, and the lock's life.
#[derive(Debug, Clone)]
pub struct NewLock {
    pub event_id: EventId,
    pub user_id: UserId,
    /// The category asked for; `None` means the event's only one.
    pub category: Option<CategoryId>,
    pub seats: Seats,
    pub idempotency_key: IdempotencyKey,
    pub life: Window,
}

/// What a lock takes its price from: its category, that category's price at lock time, and the
/// event's currency (`domain::event::Terms::price_for`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub category_id: CategoryId,
    pub unit_price: i64,
    pub currency: String,
}

impl Price {
    pub fn amount(&self, seats: Seats) -> i64 {
        self.unit_price * seats.get()
    }
}

impl NewLock {
    /// The record this request lands on, every time it is made.
    pub fn hold_ref(&self) -> HoldRef {
        HoldRef::for_request(&self.event_id, &self.user_id, &self.idempotency_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn a_lock_is_alive_through_its_expiry_instant() {
        let expiry = at("2026-01-29T11:05:00.000Z");
        assert!(!is_expired(expiry, at("2026-01-29T11:04:59.999Z")));
        assert!(!is_expired(expiry, expiry));
        assert!(is_expired(expiry, at("2026-01-29T11:05:00.001Z")));
    }

    #[test]
    fn seats_and_keys() {
        assert_eq!(Seats::parse(1, 10).unwrap().get(), 1);
        assert_eq!(Seats::parse(10, 10).unwrap().get(), 10);
        for bad in [0, 11, -1, i64::MAX, i64::from(u32::MAX) + 1] {
            assert_eq!(Seats::parse(bad, 10).unwrap_err().code(), "VALIDATION_ERROR", "{bad}");
        }
        assert!(Seats::try_from(0).is_err());
        assert!(IdempotencyKey::parse("order-17").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("a\nb").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse(&"é".repeat(255)).is_ok());
    }

    #[test]
    fn a_window_starts_now_and_lasts_its_seconds() {
        let w = Window::starting(at("2026-01-29T11:00:00Z"), 300);
        assert_eq!(w.until, at("2026-01-29T11:05:00Z"));
    }
}
