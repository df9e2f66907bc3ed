//! The booking-expiry job (every minute): every PAYMENT_PENDING booking whose `paymentExpiresAt`
//! is before now becomes EXPIRED, its lock EXPIRED, its seats returned, in one transaction each
//! (rule: `domain::booking::is_payment_window_closed`). Then, on the same schedule, the holds of
//! cancelled events are handed back (`event_cancellation.rs`).
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use super::{sweep, Budget, Report, DEADLINE_MARGIN};
use crate::store::keys::ExpiryKind;
use crate::store::Store;
use crate::time::Timestamp;

pub async fn run(store: &Store, now: Timestamp, budget: Budget) -> Report {
    let mut report = Report::started();
    sweep::sweep(store, ExpiryKind::Booking, now, budget, &mut report).await;
    super::event_cancellation::run(store, now, budget, &mut report).await;
    report
}

pub async fn handle(store: &Store, event: LambdaEvent<Value>) -> Result<Report, lambda_runtime::Error> {
    let budget = Budget::from_deadline_ms(event.context.deadline, DEADLINE_MARGIN, std::time::Duration::from_secs(50));
    super::finish("booking-expiry", run(store, Timestamp::now(), budget).await)
}
