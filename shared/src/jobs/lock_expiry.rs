//! The lock-expiry job (every minute): every ACTIVE lock whose `expiresAt` is before now becomes
//! EXPIRED and its seats return, one transaction per lock (rule: `domain::lock::is_expired`).
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use super::{sweep, Budget, Report, DEADLINE_MARGIN};
use crate::store::keys::ExpiryKind;
use crate::store::Store;
use crate::time::Timestamp;

pub async fn run(store: &Store, now: Timestamp, budget: Budget) -> Report {
    let mut report = Report::started();
    sweep::sweep(store, ExpiryKind::Lock, now, budget, &mut report).await;
    report
}

/// The Lambda handler; the EventBridge Scheduler payload carries nothing it needs.
pub async fn handle(store: &Store, event: LambdaEvent<Value>) -> Result<Report, lambda_runtime::Error> {
    let budget = Budget::from_deadline_ms(event.context.deadline, DEADLINE_MARGIN, std::time::Duration::from_secs(50));
    super::finish("lock-expiry", run(store, Timestamp::now(), budget).await)
}
