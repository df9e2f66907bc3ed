//! Recovery (on every deploy and on demand): both sweeps over everything stale, then every event
//! recounted from its holds, and `availableSeats` repaired where it drifted.
//!
//! Why the check cannot introduce drift under live traffic: the count is a census
//! (`store::events`), read with strongly consistent queries of the event's own partition (no
//! index, so no index lag) between two reads of the event's `version`, which every seat-moving
//! write bumps. A repair is a write conditional on that same `version`: if any seat moved since
//! the count began, the repair is refused and the event is counted again.
use futures::stream::{self, StreamExt};

use super::sweep::{self, expire_one, record};
use super::{Budget, Report};
use crate::domain::ids::EventId;
use crate::error::chain;
use crate::store::keys::ExpiryKind;
use crate::store::Store;
use crate::time::Timestamp;

/// Events checked at once.
const EVENT_CONCURRENCY: usize = 4;
/// Recounts per event before it is left for the next run.
const CHECK_ATTEMPTS: usize = 4;

pub async fn run(store: &Store, now: Timestamp, budget: Budget) -> Report {
    let mut report = Report::started();
    sweep::sweep(store, ExpiryKind::Lock, now, budget, &mut report).await;
    sweep::sweep(store, ExpiryKind::Booking, now, budget, &mut report).await;
    let mut start = None;
    loop {
        if budget.exhausted() {
            report.complete = false;
            break;
        }
        let (ids, next) = match store.event_ids_page(start, 50).await {
            Ok(page) => page,
            Err(e) => {
                report.failures += 1;
                tracing::error!(error = %chain(&e), "could not list events");
                break;
            }
        };
        let checks: Vec<Report> = stream::iter(ids)
            .map(|id| async move { check_event(store, &id, now).await })
            .buffer_unordered(EVENT_CONCURRENCY)
            .collect()
            .await;
        for c in checks {
            merge(&mut report, c);
        }
        start = next;
        if start.is_none() {
            break;
        }
    }
    report
}

fn merge(into: &mut Report, from: Report) {
    into.locks_expired += from.locks_expired;
    into.bookings_expired += from.bookings_expired;
    into.seats_restored += from.seats_restored;
    into.events_checked += from.events_checked;
    into.events_repaired += from.events_repaired;
    into.drift_seats += from.drift_seats;
    into.locks_found += from.locks_found;
    into.bookings_found += from.bookings_found;
    into.already_handled += from.already_handled;
    into.events_skipped += from.events_skipped;
    into.failures += from.failures;
}

/// Recounts one event; expires stale holds the indexes did not list; repairs drift.
pub async fn check_event(store: &Store, event_id: &EventId, now: Timestamp) -> Report {
    let mut report = Report::default();
    for _ in 0..CHECK_ATTEMPTS {
        let census = match store.census(event_id, now).await {
            Ok(Some(c)) => c,
            Ok(None) => return report,
            Err(e) => {
                report.failures += 1;
                tracing::error!(%event_id, error = %chain(&e), "census failed");
                return report;
            }
        };
        if !census.stale.is_empty() {
            for hold in &census.stale {
                let kind = if hold.booking_id.is_some() { ExpiryKind::Booking } else { ExpiryKind::Lock };
                match kind {
                    ExpiryKind::Lock => report.locks_found += 1,
                    ExpiryKind::Booking => report.bookings_found += 1,
                }
                record(&mut report, kind, hold, expire_one(store, kind, hold, now).await);
            }
            continue;
        }
        if !census.settled {
            continue;
        }
        let inventory = &census.inventory;
        let drift = inventory.drift();
        if drift == 0 {
            report.events_checked += 1;
            return report;
        }
        let expected = inventory.expected_available();
        if expected < 0 {
            // More seats held than exist: no value of availableSeats is right. A person decides.
            tracing::error!(
                %event_id,
                total_seats = inventory.total_seats,
                held = inventory.total_seats - expected,
                "event is oversold; not repaired automatically"
            );
            report.events_checked += 1;
            report.events_skipped += 1;
            return report;
        }
        match store.repair_available(&census, now).await {
            Ok(true) => {
                tracing::warn!(
                    %event_id,
                    available_before = inventory.available_seats,
                    available_after = expected,
                    drift,
                    locked = inventory.locked_seats,
                    pending = inventory.pending_seats,
                    sold = inventory.sold_seats,
                    "availableSeats drifted; repaired"
                );
                report.events_checked += 1;
                report.events_repaired += 1;
                report.drift_seats += drift.abs();
                return report;
            }
            Ok(false) => continue,
            Err(e) => {
                report.failures += 1;
                tracing::error!(%event_id, error = %chain(&e), "repair failed");
                return report;
            }
        }
    }
    tracing::info!(%event_id, "seats kept moving during every recount; left for the next run");
    report.events_checked += 1;
    report.events_skipped += 1;
    report
}
