//! Bookings and the payment window.
//!
//! `PAYMENT_PENDING` -> `CONFIRMED` (paid) | `EXPIRED` (booking-expiry job) | `CANCELLED` (owner).
//! A `CONFIRMED` booking may still be cancelled by its owner.
use serde::{Deserialize, Serialize};

use crate::domain::category::CategoryId;
use crate::domain::ids::{BookingId, EventId, LockId, UserId};
use crate::domain::lock::Seats;
use crate::time::Timestamp;
use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BookingStatus {
    PaymentPending,
    Confirmed,
    Expired,
    Cancelled,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::PaymentPending => "PAYMENT_PENDING",
            BookingStatus::Confirmed => "CONFIRMED",
            BookingStatus::Expired => "EXPIRED",
            BookingStatus::Cancelled => "CANCELLED",
        }
    }
}

/// A booking as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    #[serde(rename = "_id")]
    pub id: BookingId,
    pub event: EventId,
    pub user: UserId,
    pub category_id: CategoryId,
    pub seats: Seats,
    /// Chosen seats of a seated event; general admission: always empty.
    pub seat_ids: Vec<String>,
    /// What the lock priced the seats at (`unitPrice x seats`), in the currency's smallest unit.
    pub amount: i64,
    pub currency: String,
    pub status: BookingStatus,
    pub seat_lock_id: LockId,
    pub payment_expires_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub paid_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub payment_reference: Option<PaymentReference>,
    /// When the payment of a cancelled CONFIRMED booking was refunded (with the `dev` provider,
    /// in the write that cancels it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refunded_at: Option<Timestamp>,
}

/// The payment-window rule, the twin of the lock-expiry rule: payable up to and including
/// `paymentExpiresAt`, closed from the first instant after it, whether or not the job has run.
pub fn is_payment_window_closed(payment_expires_at: Timestamp, now: Timestamp) -> bool {
    payment_expires_at < now
}

pub const PAYMENT_REFERENCE_MAX_CHARS: usize = 200;

/// What the client says paid for a booking: 1 to 200 printable characters, not all blank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PaymentReference(String);

impl PaymentReference {
    pub fn parse(reference: &str) -> Result<Self, Error> {
        let n = reference.trim().chars().count();
        if n == 0
            || reference.chars().count() > PAYMENT_REFERENCE_MAX_CHARS
            || super::has_control_characters(reference, false)
        {
            return Err(Error::validation(format!(
                "paymentReference must be 1 to {PAYMENT_REFERENCE_MAX_CHARS} printable characters"
            )));
        }
        Ok(PaymentReference(reference.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_closes_after_the_deadline() {
        let deadline = Timestamp::parse("2026-01-29T11:05:00.000Z").unwrap();
        assert!(!is_payment_window_closed(deadline, deadline));
        assert!(is_payment_window_closed(deadline, Timestamp::parse("2026-01-29T11:05:00.001Z").unwrap()));
    }

    #[test]
    fn references() {
        assert!(PaymentReference::parse("pi_123").is_ok());
        assert!(PaymentReference::parse("  ").is_err());
        assert!(PaymentReference::parse("a\u{7}b").is_err());
        assert!(PaymentReference::parse(&"r".repeat(201)).is_err());
    }
}
