//! The self-healing jobs. Each returns a [`Report`] and logs one structured line per record it
//! changes, plus a summary.
//!
//! - `lock_expiry.rs`: every minute, ACTIVE locks past `expiresAt` -> EXPIRED, seats back.
//! - `booking_expiry.rs`: every minute, PAYMENT_PENDING bookings past `paymentExpiresAt` ->
//!   EXPIRED with their locks, seats back.
//! - `event_cancellation.rs`: every minute (in booking-expiry's run), the holds of cancelled
//!   events handed back: locks released, bookings cancelled, paid ones refunded.
//! - `recovery.rs`: on deploy and on demand, both sweeps, then every event's seats recounted and
//!   any drift repaired.
//!
//! Work is found through the sparse expiry indexes (never a Scan), a page at a time, processed
//! with bounded concurrency, and a run stops taking work when its [`Budget`] runs out (the Lambda
//! deadline less a margin), leaving the rest to the next run and saying so (`complete: false`).
//! Every change is a conditional transaction, so overlapping runs are safe.
pub mod booking_expiry;
pub mod event_cancellation;
pub mod lock_expiry;
pub mod recovery;
mod sweep;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::store::Store;

/// Holds expired at once by one run.
pub const CONCURRENCY: usize = 16;
/// Index items read per page.
pub const PAGE_SIZE: i32 = 100;
/// Time left for the summary and the answer after the last piece of work is started.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(5);

/// Until when a run may start new work.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    stop_at: std::time::Instant,
}

impl Budget {
    pub fn for_duration(d: Duration) -> Self {
        Budget { stop_at: std::time::Instant::now() + d }
    }

    /// From a Lambda invocation deadline (ms since the epoch), less `margin`. A deadline that is
    /// missing (0) or not in the future gives `fallback`: Lambda's is always ahead, but the local
    /// emulator (`cargo lambda watch`) sends its timeout (e.g. 600000) where the epoch time belongs.
    pub fn from_deadline_ms(deadline_ms: u64, margin: Duration, fallback: Duration) -> Self {
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        if deadline_ms <= now_ms {
            return Self::for_duration(fallback);
        }
        let left = Duration::from_millis(deadline_ms - now_ms);
        Self::for_duration(left.saturating_sub(margin))
    }

    pub fn exhausted(&self) -> bool {
        std::time::Instant::now() >= self.stop_at
    }
}

/// What a run found and did. The first six fields are the contract's; the rest say more.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub locks_expired: u64,
    pub bookings_expired: u64,
    pub seats_restored: i64,
    pub events_checked: u64,
    pub events_repaired: u64,
    /// Sum over repaired events of |availableSeats - what the holds say it should be|.
    pub drift_seats: i64,
    pub locks_found: u64,
    pub bookings_found: u64,
    /// Found stale, but already moved on by someone else (another run, the owner) when written.
    pub already_handled: u64,
    /// Events whose seats kept moving through every recount, or that cannot be repaired
    /// automatically; left for the next run.
    pub events_skipped: u64,
    /// Writes that failed (after retries); they are retried by the next run.
    pub failures: u64,
    /// Stale items that could not be read as holds (hand edits, bugs): logged with their keys and
    /// skipped, every run, until a person mends or removes them. The rest of the sweep goes on.
    pub unreadable_items: u64,
    /// Cancelled events whose every hold has now been handed back (taken off the list).
    pub cancellations_finished: u64,
    /// ACTIVE locks of cancelled events RELEASED.
    pub locks_released: u64,
    /// PAYMENT_PENDING and CONFIRMED bookings of cancelled events CANCELLED.
    pub bookings_cancelled: u64,
    /// Of those, CONFIRMED bookings refunded.
    pub refunds: u64,
    /// False if the run stopped at its deadline and left work for the next run.
    pub complete: bool,
}

impl Report {
    pub fn started() -> Self {
        Report { complete: true, ..Report::default() }
    }

    /// The run as CloudWatch metrics (`telemetry::emit_metrics`); `template.yaml` alarms on
    /// `JobFailures` and `UnreadableItems`.
    pub fn metrics(&self) -> Vec<(&'static str, i64)> {
        vec![
            ("JobFailures", self.failures as i64),
            ("UnreadableItems", self.unreadable_items as i64),
            ("EventsSkipped", self.events_skipped as i64),
            ("EventsRepaired", self.events_repaired as i64),
            ("SeatsRestored", self.seats_restored),
            ("RunIncomplete", i64::from(!self.complete)),
        ]
    }

    /// One human line, e.g. for CloudFormation's `Reason`.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{} locks and {} bookings expired, {} seats restored; {} events checked, {} repaired ({} seats of drift)",
            self.locks_expired,
            self.bookings_expired,
            self.seats_restored,
            self.events_checked,
            self.events_repaired,
            self.drift_seats
        );
        if self.events_skipped > 0 {
            line += &format!("; {} events left for the next run", self.events_skipped);
        }
        if self.failures > 0 {
            line += &format!("; {} writes failed (logged) and are retried by the next run", self.failures);
        }
        if self.locks_released + self.bookings_cancelled > 0 || self.cancellations_finished > 0 {
            line += &format!(
                "; cancelled events: {} locks released, {} bookings cancelled ({} refunded), {} cancellations finished",
                self.locks_released, self.bookings_cancelled, self.refunds, self.cancellations_finished
            );
        }
        if self.unreadable_items > 0 {
            line += &format!("; {} unreadable items skipped (logged with their keys)", self.unreadable_items);
        }
        if !self.complete {
            line += "; stopped at its deadline, the next run continues";
        }
        line
    }
}

/// The store for a job: jobs need only `TABLE_NAME` (and no signing key).
pub async fn store_from_env() -> Result<Store, ConfigError> {
    let table =
        std::env::var("TABLE_NAME").ok().filter(|t| !t.trim().is_empty()).ok_or(ConfigError::Missing("TABLE_NAME"))?;
    let env = crate::aws::process_env;
    let sdk = crate::aws::sdk_config(&env)?;
    Ok(Store::new(crate::aws::dynamodb(&sdk, &env), table))
}

/// Logs a run's summary line.
pub fn log_summary(job: &str, report: &Report) {
    tracing::info!(
        job,
        locks_found = report.locks_found,
        locks_expired = report.locks_expired,
        bookings_found = report.bookings_found,
        bookings_expired = report.bookings_expired,
        seats_restored = report.seats_restored,
        events_checked = report.events_checked,
        events_repaired = report.events_repaired,
        drift_seats = report.drift_seats,
        already_handled = report.already_handled,
        events_skipped = report.events_skipped,
        failures = report.failures,
        unreadable_items = report.unreadable_items,
        complete = report.complete,
        "job finished"
    );
    crate::telemetry::emit_metrics(&report.metrics());
}

/// Turns a run's report into the invocation's result: failures make the invocation fail, so
/// the Lambda error metric (and its alarm) sees them; the report is logged either way.
pub fn finish(job: &str, report: Report) -> Result<Report, lambda_runtime::Error> {
    log_summary(job, &report);
    if report.failures > 0 {
        return Err(format!("{job}: {} writes failed; the next run retries them", report.failures).into());
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch_ms_in(d: Duration) -> u64 {
        (SystemTime::now() + d).duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
    }

    #[test]
    fn budget_follows_the_invocation_deadline_less_the_margin() {
        let margin = Duration::from_secs(5);
        let minute = Duration::from_secs(60);
        assert!(!Budget::from_deadline_ms(epoch_ms_in(minute), margin, Duration::ZERO).exhausted());
        assert!(Budget::from_deadline_ms(epoch_ms_in(Duration::from_secs(3)), margin, minute).exhausted());
    }

    #[test]
    fn a_deadline_that_is_not_ahead_falls_back() {
        let margin = Duration::from_secs(5);
        // cargo lambda watch sends its timeout where the epoch deadline belongs.
        assert!(!Budget::from_deadline_ms(600_000, margin, Duration::from_secs(60)).exhausted());
        assert!(!Budget::from_deadline_ms(0, margin, Duration::from_secs(60)).exhausted());
        assert!(Budget::from_deadline_ms(600_000, margin, Duration::ZERO).exhausted());
    }

    #[test]
    fn the_summary_says_what_was_left() {
        let mut r = Report::started();
        r.locks_expired = 2;
        r.seats_restored = 5;
        assert_eq!(
            r.summary(),
            "2 locks and 0 bookings expired, 5 seats restored; 0 events checked, 0 repaired (0 seats of drift)"
        );
        r.failures = 1;
        r.complete = false;
        assert!(r.summary().ends_with(
            "1 writes failed (logged) and are retried by the next run; stopped at its deadline, the next run continues"
        ));
    }
}
