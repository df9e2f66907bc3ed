//! The API's errors: one variant per code of the contract (`docs/API.md`), each with its HTTP
//! status beside its code ([`Error::contract`]), so adding a code is a change in this file only.
//! An internal error keeps its cause as a `source`: the edge logs the whole chain
//! ([`chain`]) and answers `INTERNAL` without it.
use lambda_http::http::StatusCode;

use crate::domain::{booking::BookingStatus, lock::LockStatus};
use crate::time::Timestamp;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

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
    #[error("you hold {held} seats of this event; {requested} more would exceed its limit of {limit} per user")]
    UserLimitReached { limit: i64, held: i64, requested: i64 },
    #[error("the event took place at {0}; its seats can no longer be locked, confirmed, paid or cancelled")]
    EventClosed(Timestamp),
    #[error("sales of this event are closed")]
    SalesClosed,
    #[error("this event was cancelled")]
    EventCancelled,
    /// An admin lowered a category's seats below what locks and bookings hold of it.
    #[error("{held} seats of {category} are held or sold; its seats cannot go down to {requested}")]
    SeatsInUse { category: String, held: i64, requested: i64 },
    #[error("the lock expired at {0}")]
    LockExpired(Timestamp),
    #[error("the lock is {0:?} and can no longer be changed")]
    LockNotActive(LockStatus),
    #[error("the payment window closed at {0}")]
    PaymentWindowClosed(Timestamp),
    #[error("the booking is {0:?}")]
    BookingNotPending(BookingStatus),
    #[error("{0}")]
    IdempotencyKeyReused(String),
    #[error("the body is larger than 64 KiB")]
    PayloadTooLarge,
    #[error("too many failed logins for this email; try again in {retry_after_seconds} seconds")]
    TooManyAttempts { retry_after_seconds: i64 },
    /// Anything the caller cannot fix. What failed, and why (the source), are logged, never sent.
    #[error("{context}")]
    Internal {
        context: &'static str,
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// The contract's machine-readable code and HTTP status for this error.
    pub fn contract(&self) -> (&'static str, StatusCode) {
        match self {
            Error::Validation(_) => ("VALIDATION_ERROR", StatusCode::BAD_REQUEST),
            Error::InvalidJson(_) => ("INVALID_JSON", StatusCode::BAD_REQUEST),
            Error::Unauthorized(_) => ("UNAUTHORIZED", StatusCode::UNAUTHORIZED),
            Error::InvalidCredentials => ("INVALID_CREDENTIALS", StatusCode::UNAUTHORIZED),
            Error::Forbidden(_) => ("FORBIDDEN", StatusCode::FORBIDDEN),
            Error::NotFound(_) => ("NOT_FOUND", StatusCode::NOT_FOUND),
            Error::MethodNotAllowed(_) => ("METHOD_NOT_ALLOWED", StatusCode::METHOD_NOT_ALLOWED),
            Error::EmailTaken => ("EMAIL_TAKEN", StatusCode::CONFLICT),
            Error::SeatsUnavailable { .. } => ("SEATS_UNAVAILABLE", StatusCode::CONFLICT),
            Error::UserLimitReached { .. } => ("USER_LIMIT_REACHED", StatusCode::CONFLICT),
            Error::EventClosed(_) => ("EVENT_CLOSED", StatusCode::CONFLICT),
            Error::SalesClosed => ("SALES_CLOSED", StatusCode::CONFLICT),
            Error::EventCancelled => ("EVENT_CANCELLED", StatusCode::CONFLICT),
            Error::SeatsInUse { .. } => ("SEATS_IN_USE", StatusCode::CONFLICT),
            Error::LockExpired(_) => ("LOCK_EXPIRED", StatusCode::CONFLICT),
            Error::LockNotActive(_) => ("LOCK_NOT_ACTIVE", StatusCode::CONFLICT),
            Error::PaymentWindowClosed(_) => ("PAYMENT_WINDOW_CLOSED", StatusCode::CONFLICT),
            Error::BookingNotPending(_) => ("BOOKING_NOT_PENDING", StatusCode::CONFLICT),
            Error::IdempotencyKeyReused(_) => ("IDEMPOTENCY_KEY_REUSED", StatusCode::UNPROCESSABLE_ENTITY),
            Error::PayloadTooLarge => ("PAYLOAD_TOO_LARGE", StatusCode::PAYLOAD_TOO_LARGE),
            Error::TooManyAttempts { .. } => ("TOO_MANY_ATTEMPTS", StatusCode::TOO_MANY_REQUESTS),
            Error::Internal { .. } => ("INTERNAL", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// The contract's machine-readable code.
    pub fn code(&self) -> &'static str {
        self.contract().0
    }

    pub fn status(&self) -> StatusCode {
        self.contract().1
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Error::Validation(message.into())
    }

    /// An internal error: `context` says what failed, `source` why.
    pub fn internal(context: &'static str, source: impl Into<BoxError>) -> Self {
        Error::Internal { context, source: Some(source.into()) }
    }

    /// An internal error with no underlying cause (a state that should not happen).
    pub fn internal_message(context: &'static str) -> Self {
        Error::Internal { context, source: None }
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Self {
        Error::internal("the store failed", e)
    }
}

/// An error and all its sources, `outer: inner: innermost`: what a log line should carry.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let part = cause.to_string();
        // Some errors repeat their source's text in their own; say it once.
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_keep_their_cause_as_a_source() {
        let cause = std::io::Error::other("disk on fire");
        let e = Error::internal("could not save", cause);
        assert_eq!(e.code(), "INTERNAL");
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.to_string(), "could not save");
        assert_eq!(chain(&e), "could not save: disk on fire");
    }

    #[test]
    fn every_code_has_its_status() {
        assert_eq!(Error::EmailTaken.contract(), ("EMAIL_TAKEN", StatusCode::CONFLICT));
        assert_eq!(Error::PayloadTooLarge.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(Error::IdempotencyKeyReused(String::new()).status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
