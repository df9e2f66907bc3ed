//! Recovery (on every deploy and on demand): both sweeps over everything stale, then every event
//! recounted from its live holds, and `availableSeats` repaired where it drifted.
//!
//! Why the check cannot introduce drift under live traffic: the count is a census
//! (`store::events`), read with strongly consistent queries of the event's live holds
//! (LiveHoldsIndex, a local index, so no index lag) between two reads of the event's `version`,
//! which every seat-moving write bumps. A repair is a write conditional on that same `version`:
//! if any seat moved since the count began, the repair is refused and the event is counted again.
//!
//! The order and the deadline: the events are walked upcoming first, soonest first, then past,
//! most recent first (`store::event_walk`), so a run that cannot finish has spent its time where
//! seats are still sold. The budget is checked before each page of events, inside each event's
//! census (after every page of its holds and between attempts) and between an event's
//! recounts; an event whose count was cut short is neither counted as checked nor repaired. A
//! run that stops saves a bookmark, and the next run resumes there; a run that finishes the
//! walk deletes it.
use futures::stream::{self, StreamExt};

use super::sweep::{self, expire_one, record};
use super::{Budget, Report};
use crate::domain::ids::EventId;
use crate::error::chain;
use crate::store::event_walk::{Bookmark, Phase};
use crate::store::events::Counted;
use crate::store::keys::ExpiryKind;
use crate::store::Store;
use crate::time::Timestamp;

/// Events checked at once.
const EVENT_CONCURRENCY: usize = 4;
/// Events read per page of the walk.
const EVENT_PAGE: i32 = 50;
/// How long one event may be recounted before it is left for the next run. A count of live
/// holds takes milliseconds, and the census pauses a random moment between attempts, so a busy
/// event gets many tries at a quiet window: measured on DynamoDB Local against a client that
/// locks and releases back to back, about one count in ten settles, and most events settle at
/// the first. Bounded so a run's time goes to the other events too.
const BUSY_EVENT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// How one phase of the walk ended.
enum Walked {
    Done,
    /// Out of time; the next run resumes after `after` (or at the phase's start).
    Stopped {
        after: Option<String>,
    },
    /// The event list could not be read (logged, counted); the bookmark is left as it was.
    Failed,
}

pub async fn run(store: &Store, now: Timestamp, budget: Budget) -> Report {
    let mut report = Report::started();
    sweep::sweep(store, ExpiryKind::Lock, now, budget, &mut report).await;
    sweep::sweep(store, ExpiryKind::Booking, now, budget, &mut report).await;
    let bookmark = match store.recovery_bookmark().await {
        Ok(b) => b,
        Err(e) => {
            report.failures += 1;
            tracing::error!(error = %chain(&e), "could not read the recovery bookmark; starting from the top");
            None
        }
    };
    let phases = match bookmark {
        Some(Bookmark { phase: Phase::Past, after }) => vec![(Phase::Past, after)],
        Some(Bookmark { phase: Phase::Upcoming, after }) => vec![(Phase::Upcoming, after), (Phase::Past, None)],
        None => vec![(Phase::Upcoming, None), (Phase::Past, None)],
    };
    for (phase, after) in phases {
        match walk(store, phase, after, now, budget, &mut report).await {
            Walked::Done => {}
            Walked::Stopped { after } => {
                report.complete = false;
                let bookmark = Bookmark { phase, after };
                tracing::info!(?bookmark, "out of time; the next run resumes here");
                if let Err(e) = store.save_recovery_bookmark(&bookmark, now).await {
                    report.failures += 1;
                    tracing::error!(error = %chain(&e), "could not save the recovery bookmark");
                }
                return report;
            }
            Walked::Failed => return report,
        }
    }
    if let Err(e) = store.clear_recovery_bookmark().await {
        report.failures += 1;
        tracing::error!(error = %chain(&e), "could not clear the recovery bookmark");
    }
    report
}

/// Checks the events of one phase in walk order, a page at a time (the list is never held
/// whole), until done or out of time. `after` tracks the last event such that it and every
/// event before it were checked: that is where the next run resumes. Events after an unfinished
/// one in the same page that did finish (at most `EVENT_CONCURRENCY - 1`) are checked again by
/// the next run: a bookmark is one key, and a check is safe to repeat.
async fn walk(
    store: &Store,
    phase: Phase,
    mut after: Option<String>,
    now: Timestamp,
    budget: Budget,
    report: &mut Report,
) -> Walked {
    let resume_from = after.clone();
    let mut start = None;
    loop {
        if budget.exhausted() {
            return Walked::Stopped { after };
        }
        let (events, next) = match store.event_walk_page(phase, resume_from.as_deref(), now, start, EVENT_PAGE).await {
            Ok(page) => page,
            Err(e) => {
                report.failures += 1;
                tracing::error!(?phase, error = %chain(&e), "could not list events");
                return Walked::Failed;
            }
        };
        let checks: Vec<(String, Report)> = stream::iter(events)
            .map(|event| async move { (event.sort, check_event(store, &event.id, now, budget).await) })
            .buffered(EVENT_CONCURRENCY)
            .collect()
            .await;
        let mut unfinished = false;
        for (sort, check) in checks {
            unfinished |= !check.complete;
            if !unfinished {
                after = Some(sort);
            }
            merge(report, check);
        }
        if unfinished {
            return Walked::Stopped { after };
        }
        start = next;
        if start.is_none() {
            return Walked::Done;
        }
    }
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
    into.unreadable_items += from.unreadable_items;
    into.complete &= from.complete;
}

/// Recounts one event; expires stale holds the indexes did not list; repairs drift. Stops
/// when `budget` runs out, even inside the event's count (the report then says
/// `complete: false`, and nothing was repaired from the half count). An event with an
/// unreadable live hold is not repaired: nobody can know what that hold holds.
pub async fn check_event(store: &Store, event_id: &EventId, now: Timestamp, budget: Budget) -> Report {
    let mut report = Report::started();
    let patience = std::time::Instant::now() + BUSY_EVENT_PATIENCE;
    while std::time::Instant::now() < patience {
        let census = match store.census_within(event_id, now, Some(budget)).await {
            Ok(Counted::Census(c)) => c,
            Ok(Counted::NoSuchEvent) => return report,
            Ok(Counted::OutOfTime) => {
                tracing::info!(%event_id, "out of time while counting; not checked, the next run starts here");
                report.complete = false;
                return report;
            }
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
        if !census.unreadable.is_empty() {
            // Each was logged with its key by the census.
            tracing::error!(
                %event_id,
                unreadable = census.unreadable.len(),
                "event has live holds that cannot be read; not repaired automatically"
            );
            report.unreadable_items += census.unreadable.len() as u64;
            report.events_checked += 1;
            report.events_skipped += 1;
            return report;
        }
        if !census.settled {
            continue;
        }
        let inventory = &census.inventory;
        let drift_seats = inventory.drift_seats();
        if drift_seats == 0 {
            report.events_checked += 1;
            return report;
        }
        let expected = inventory.expected_available();
        if inventory.oversold() || inventory.unknown_category_seats > 0 {
            // More seats held than exist (in the event or a category), or holds of a category the
            // event does not have: no value of the counters is right. A person decides.
            tracing::error!(
                %event_id,
                total_seats = inventory.counts.total_seats,
                held = inventory.counts.total_seats - expected,
                unknown_category_seats = inventory.unknown_category_seats,
                "event is oversold or holds seats of an unknown category; not repaired automatically"
            );
            report.events_checked += 1;
            report.events_skipped += 1;
            return report;
        }
        match store.repair_available(&census, now).await {
            Ok(true) => {
                tracing::warn!(
                    %event_id,
                    available_before = inventory.counts.available_seats,
                    available_after = expected,
                    drift = inventory.drift(),
                    drift_seats,
                    categories = ?inventory
                        .categories
                        .iter()
                        .filter(|c| c.counts.drift() != 0)
                        .map(|c| (c.id.as_str(), c.counts.available_seats, c.counts.expected_available()))
                        .collect::<Vec<_>>(),
                    locked = inventory.counts.locked_seats,
                    pending = inventory.counts.pending_seats,
                    sold = inventory.counts.sold_seats,
                    "availableSeats drifted; repaired"
                );
                report.events_checked += 1;
                report.events_repaired += 1;
                report.drift_seats += drift_seats;
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
