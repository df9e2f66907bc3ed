//! The API's errors: one variant per code of the contract (`shared/API.md`). The HTTP edge maps
//! them to statuses in one place (`http::error_status`).
use crate::domain::{booking::BookingStatus, lock::LockStatus};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    InvalidJson(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("method {0} is not allowed on this path")]
    MethodNotAllowed(String),
    #[error("this email is already registered")]
    EmailTaken,
    #[error("only {available} seats available, {requested} requested")]
    SeatsUnavailable { available: i64, requested: i64 },
    #[error("the event took place at {0}; it takes no more locks")]
    EventClosed(String),
    #[error("the lock expired at {0}")]
    LockExpired(String),
    #[error("the lock is {0:?} and can no longer be changed")]
    LockNotActive(LockStatus),
    #[error("the payment window closed at {0}")]
    PaymentWindowClosed(String),
    #[error("the booking is {0:?}")]
    BookingNotPending(BookingStatus),
    #[error("{0}")]
    IdempotencyKeyReused(String),
    #[error("the body is larger than 64 KiB")]
    PayloadTooLarge,
    /// Anything the caller cannot fix. The message is logged, never returned.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The contract's machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation(_) => "VALIDATION_ERROR",
            Error::InvalidJson(_) => "INVALID_JSON",
            Error::Unauthorized(_) => "UNAUTHORIZED",
            Error::InvalidCredentials => "INVALID_CREDENTIALS",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::NotFound(_) => "NOT_FOUND",
            Error::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            Error::EmailTaken => "EMAIL_TAKEN",
            Error::SeatsUnavailable { .. } => "SEATS_UNAVAILABLE",
            Error::EventClosed(_) => "EVENT_CLOSED",
            Error::LockExpired(_) => "LOCK_EXPIRED",
            Error::LockNotActive(_) => "LOCK_NOT_ACTIVE",
            Error::PaymentWindowClosed(_) => "PAYMENT_WINDOW_CLOSED",
            Error::BookingNotPending(_) => "BOOKING_NOT_PENDING",
            Error::IdempotencyKeyReused(_) => "IDEMPOTENCY_KEY_REUSED",
            Error::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Error::Internal(_) => "INTERNAL",
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Error::Validation(message.into())
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Self {
        Error::Internal(e.to_string())
    }
}
