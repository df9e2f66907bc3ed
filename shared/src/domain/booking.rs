//! Bookings and the payment window.
//!
//! `PAYMENT_PENDING` -> `CONFIRMED` (paid) | `EXPIRED` (booking-expiry job) | `CANCELLED` (owner).
//! A `CONFIRMED` booking may still be cancelled by its owner.
use serde::{Deserialize, Serialize};

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
    pub id: String,
    pub event: String,
    pub user: String,
    pub seats: i64,
    pub status: BookingStatus,
    pub seat_lock_id: String,
    pub payment_expires_at: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub paid_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub payment_reference: Option<String>,
}

/// The payment-window rule, the twin of the lock-expiry rule: payable up to and including
/// `paymentExpiresAt`, closed from the first instant after it, whether or not the job has run.
pub fn is_payment_window_closed(payment_expires_at: &str, now: &str) -> bool {
    payment_expires_at < now
}

pub const PAYMENT_REFERENCE_MAX_CHARS: usize = 200;

pub fn validate_payment_reference(reference: &str) -> Result<(), Error> {
    let n = reference.trim().chars().count();
    if n == 0 || reference.chars().count() > PAYMENT_REFERENCE_MAX_CHARS || reference.chars().any(char::is_control) {
        return Err(Error::validation(format!(
            "paymentReference must be 1 to {PAYMENT_REFERENCE_MAX_CHARS} printable characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_closes_after_the_deadline() {
        let at = "2026-01-29T11:05:00.000Z";
        assert!(!is_payment_window_closed(at, at));
        assert!(is_payment_window_closed(at, "2026-01-29T11:05:00.001Z"));
    }

    #[test]
    fn references() {
        assert!(validate_payment_reference("pi_123").is_ok());
        assert!(validate_payment_reference("  ").is_err());
        assert!(validate_payment_reference(&"r".repeat(201)).is_err());
    }
}
