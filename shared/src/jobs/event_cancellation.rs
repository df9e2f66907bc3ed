//! Event cancellation (every minute, in the booking-expiry function's run): for every event on the
//! cancellation list (`POST /api/events/{id}/cancel` put it there when it made the event
//! `CANCELLED`), every live hold is handed back, one conditional transaction each
//! (`Store::cancel_hold`): ACTIVE locks RELEASED, PAYMENT_PENDING bookings CANCELLED, CONFIRMED
//! bookings CANCELLED with a full refund; all seats return. When a pass over the event's live
//! holds finds none, the event leaves the list.
//!
//! Resumable and safe to run twice: the live holds are read from LiveHoldsIndex (a hold leaves
//! it in the write that hands it back), each write is conditional on the state it was read in,
//! and a run that meets its deadline leaves the rest for the next one.
use futures::stream::{self, StreamExt};

use super::{Budget, Report, CONCURRENCY};
use crate::domain::booking::BookingStatus;
use crate::domain::ids::EventId;
use crate::error::chain;
use crate::store::events::LiveHold;
use crate::store::expiry::Outcome;
use crate::store::{Store, StoreError};
use crate::time::Timestamp;

/// Passes over one event's live holds per run: a hold that moved on while it was being handed
/// back (confirmed, say) is still live and is met again on the next pass.
const PASSES: usize = 3;

pub async fn run(store: &Store, now: Timestamp, budget: Budget, report: &mut Report) {
    let mut start = None;
    loop {
        if budget.exhausted() {
            report.complete = false;
            return;
        }
        let (events, next) = match store.cancellations_page(start).await {
            Ok(page) => page,
            Err(e) => {
                report.failures += 1;
                tracing::error!(error = %chain(&e), "could not read the cancellation list");
                return;
            }
        };
        for event_id in events {
            if !cancel_event_holds(store, &event_id, now, budget, report).await {
                return;
            }
        }
        start = next;
        if start.is_none() {
            return;
        }
    }
}

/// Hands back the event's live holds; `false` if the budget ran out.
async fn cancel_event_holds(
    store: &Store,
    event_id: &EventId,
    now: Timestamp,
    budget: Budget,
    report: &mut Report,
) -> bool {
    for _ in 0..PASSES {
        let (mut found, mut blocked) = (0, false);
        let mut start = None;
        loop {
            if budget.exhausted() {
                report.complete = false;
                return false;
            }
            let page = match store.live_holds_page(event_id, start).await {
                Ok(page) => page,
                Err(e) => {
                    report.failures += 1;
                    tracing::error!(%event_id, error = %chain(&e), "could not read the live holds of a cancelled event");
                    return true;
                }
            };
            for bad in &page.unreadable {
                report.unreadable_items += 1;
                blocked = true;
                tracing::error!(%event_id, key = %bad.key, reason = %bad.reason, "a live hold of a cancelled event cannot be read; it needs a person");
            }
            found += page.holds.len();
            let outcomes: Vec<_> = stream::iter(page.holds)
                .map(|hold| async move {
                    let outcome = store.cancel_hold(event_id, &hold, now).await;
                    (hold, outcome)
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            for (hold, outcome) in outcomes {
                blocked |= record(report, event_id, &hold, outcome);
            }
            start = page.next;
            if start.is_none() {
                break;
            }
        }
        if blocked {
            // An unreadable hold or a failed write: the event stays on the list for the next run.
            return true;
        }
        if found == 0 {
            match store.finish_cancellation(event_id).await {
                Ok(true) => {
                    report.cancellations_finished += 1;
                    tracing::info!(%event_id, "event cancellation complete: every hold handed back");
                }
                Ok(false) => {}
                Err(e) => {
                    report.failures += 1;
                    tracing::error!(%event_id, error = %chain(&e), "could not take the event off the cancellation list");
                }
            }
            return true;
        }
    }
    true
}

/// Records one hold's outcome; `true` if it failed (the event then stays listed).
fn record(report: &mut Report, event_id: &EventId, hold: &LiveHold, outcome: Result<Outcome, StoreError>) -> bool {
    match outcome {
        Ok(Outcome::Expired) => {
            match hold.booking_status {
                None => report.locks_released += 1,
                Some(status) => {
                    report.bookings_cancelled += 1;
                    if status == BookingStatus::Confirmed {
                        report.refunds += 1;
                    }
                }
            }
            report.seats_restored += hold.seats.get();
            tracing::info!(
                %event_id,
                lock_id = %hold.lock_id,
                booking_id = hold.booking_id.as_ref().map(|b| b.as_str()).unwrap_or(""),
                refunded = hold.booking_status == Some(BookingStatus::Confirmed),
                seats_restored = hold.seats.get(),
                "hold of a cancelled event handed back"
            );
            false
        }
        Ok(Outcome::AlreadyHandled) => {
            report.already_handled += 1;
            false
        }
        Err(e) => {
            report.failures += 1;
            tracing::error!(%event_id, lock_id = %hold.lock_id, error = %chain(&e), "could not hand back a hold of a cancelled event; the next run retries");
            true
        }
    }
}
