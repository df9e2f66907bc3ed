//! Seat locks (holds) and the lock-expiry rule.
//!
//! `ACTIVE` -> `CONSUMED` (confirmed into a booking) | `EXPIRED` (lock-expiry job) | `RELEASED` (owner).
use serde::{Deserialize, Serialize};

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
    pub id: String,
    pub event_id: String,
    pub user_id: String,
    pub seats: i64,
    pub status: LockStatus,
    pub expires_at: String,
    pub idempotency_key: String,
    pub created_at: String,
    pub updated_at: String,
}

/// **The lock-expiry rule.** A lock holds its seats up to and including `expiresAt`; from the
/// first instant after it, it is expired, whether or not the job has marked it yet. Confirm
/// refuses it (`LOCK_EXPIRED`) and the lock-expiry job returns its seats. Both sides of the rule
/// are also written as DynamoDB conditions (`store::locks`), over the same fixed-width strings:
/// confirm requires `expiresAt >= :now`, the job requires `expiresAt < :now`.
pub fn is_expired(expires_at: &str, now: &str) -> bool {
    expires_at < now
}

pub const IDEMPOTENCY_KEY_MAX_CHARS: usize = 255;

pub fn validate_seats(seats: i64, max_seats_per_lock: u32) -> Result<(), Error> {
    if !(1..=i64::from(max_seats_per_lock)).contains(&seats) {
        return Err(Error::validation(format!("seats must be an integer from 1 to {max_seats_per_lock}")));
    }
    Ok(())
}

pub fn validate_idempotency_key(key: &str) -> Result<(), Error> {
    let n = key.chars().count();
    if n == 0 || n > IDEMPOTENCY_KEY_MAX_CHARS || key.chars().any(char::is_control) {
        return Err(Error::validation(format!(
            "idempotencyKey must be 1 to {IDEMPOTENCY_KEY_MAX_CHARS} printable characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_alive_through_its_expiry_instant() {
        let at = "2026-01-29T11:05:00.000Z";
        assert!(!is_expired(at, "2026-01-29T11:04:59.999Z"));
        assert!(!is_expired(at, at));
        assert!(is_expired(at, "2026-01-29T11:05:00.001Z"));
    }

    #[test]
    fn seats_and_keys() {
        assert!(validate_seats(1, 10).is_ok());
        assert!(validate_seats(10, 10).is_ok());
        assert!(validate_seats(0, 10).is_err());
        assert!(validate_seats(11, 10).is_err());
        assert!(validate_seats(-1, 10).is_err());
        assert!(validate_idempotency_key("order-17").is_ok());
        assert!(validate_idempotency_key("").is_err());
        assert!(validate_idempotency_key("a\nb").is_err());
        assert!(validate_idempotency_key(&"k".repeat(256)).is_err());
    }
}
