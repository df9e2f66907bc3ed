//! The sweep shared by both expiry jobs and recovery.
use futures::stream::{self, StreamExt};

use super::{Budget, Report, CONCURRENCY, PAGE_SIZE};
use crate::error::chain;
use crate::store::expiry::{Outcome, StaleHold};
use crate::store::keys::ExpiryKind;
use crate::store::{Store, StoreError};
use crate::time::Timestamp;

/// Expires one stale hold of `kind` (the condition re-checks everything).
pub(crate) async fn expire_one(
    store: &Store,
    kind: ExpiryKind,
    hold: &StaleHold,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    match kind {
        ExpiryKind::Lock => store.expire_lock(hold, now).await,
        ExpiryKind::Booking => store.expire_booking(hold, now).await,
    }
}

/// Records one expiry's outcome in the report and the log.
pub(crate) fn record(report: &mut Report, kind: ExpiryKind, hold: &StaleHold, outcome: Result<Outcome, StoreError>) {
    match outcome {
        Ok(Outcome::Expired) => {
            match kind {
                ExpiryKind::Lock => report.locks_expired += 1,
                ExpiryKind::Booking => report.bookings_expired += 1,
            }
            report.seats_restored += hold.seats.get();
            tracing::info!(
                kind = ?kind,
                lock_id = %hold.lock_id,
                booking_id = hold.booking_id.as_ref().map(|b| b.as_str()).unwrap_or(""),
                event_id = %hold.event_id,
                seats_restored = hold.seats.get(),
                "expired; seats returned"
            );
        }
        Ok(Outcome::AlreadyHandled) => report.already_handled += 1,
        Err(e) => {
            report.failures += 1;
            tracing::error!(kind = ?kind, lock_id = %hold.lock_id, error = %chain(&e), "expiry failed; the next run retries");
        }
    }
}

/// Every hold of `kind` past its deadline at `now`, bucket by bucket, page by page, until done
/// or out of budget.
pub(crate) async fn sweep(store: &Store, kind: ExpiryKind, now: Timestamp, budget: Budget, report: &mut Report) {
    for bucket in kind.buckets() {
        let mut start = None;
        loop {
            if budget.exhausted() {
                report.complete = false;
                return;
            }
            let page = match store.stale_page(kind, &bucket, now, start, PAGE_SIZE).await {
                Ok(page) => page,
                Err(e) => {
                    report.failures += 1;
                    tracing::error!(kind = ?kind, bucket, error = %chain(&e), "could not read stale holds");
                    break;
                }
            };
            match kind {
                ExpiryKind::Lock => report.locks_found += page.holds.len() as u64,
                ExpiryKind::Booking => report.bookings_found += page.holds.len() as u64,
            }
            for bad in &page.unreadable {
                report.unreadable_items += 1;
                tracing::error!(kind = ?kind, key = %bad.key, reason = %bad.reason, "skipped an unreadable stale hold; it needs a person");
            }
            let outcomes: Vec<_> = stream::iter(page.holds)
                .map(|hold| async move {
                    let outcome = expire_one(store, kind, &hold, now).await;
                    (hold, outcome)
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            for (hold, outcome) in outcomes {
                record(report, kind, &hold, outcome);
            }
            start = page.next;
            if start.is_none() {
                break;
            }
        }
    }
}
