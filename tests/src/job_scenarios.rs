//! The self-healing scenarios, written once and run two ways: in-process (`tests/tests/jobs.rs`,
//! each test on its own table) and end to end against the local stack (`tests/tests/e2e.rs`,
//! jobs invoked through the stack's Lambda invoke API). Deadlines are forced the way an operator
//! would, by writing them into DynamoDB (`operator.rs`).
//!
//! On the shared local stack other tests' holds and the stack's own schedule may be swept by the
//! same run, so exact report counts are asserted only when the caller runs jobs alone
//! ([`Jobs::exclusive`]); the end state (statuses, seats, the invariant) is asserted always.
use serde_json::{json, Value};

use crate::operator::{ago, Operator};
use crate::scenarios::id;
use crate::{assert_report, Api, Jobs};

fn count(report: &Value, key: &str) -> i64 {
    report[key].as_i64().unwrap_or_else(|| panic!("{key} in {report}"))
}

/// Scenario 1 (docs/API.md): lock 5 of 100 -> 95; the lock's `expiresAt` forced into the past; the
/// lock-expiry job runs -> lock EXPIRED, 100 back. Before the job runs, confirm already refuses
/// it (LOCK_EXPIRED); a live lock beside it is left alone; a second run restores nothing.
pub async fn lock_expiry(api: &Api, jobs: &Jobs, op: &Operator<'_>) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let (other, _) = api.new_user().await;
    let event_id = api.event(&admin, 100).await;
    let lock = api.lock(&token, &event_id, 5, "exp-1").await;
    lock.expect(201);
    let lock_id = id(lock.data());
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 95);
    let live = api.lock(&other, &event_id, 2, "live-1").await;
    live.expect(201);
    let live_id = id(live.data());

    op.expire_lock_deadline(&lock_id).await;
    api.post("/api/bookings/confirm", json!({"lockId": lock_id}), Some(&token)).await.expect_error(409, "LOCK_EXPIRED");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 93, "no job yet: seats still held");

    let report = jobs.run("lock-expiry").await;
    assert_report(&report);
    if jobs.exclusive() {
        assert_eq!((count(&report, "locksExpired"), count(&report, "seatsRestored")), (1, 5), "{report}");
    }
    assert_eq!(api.status(&token, "locks", &lock_id).await, "EXPIRED");
    assert_eq!(api.status(&other, "locks", &live_id).await, "ACTIVE", "a live lock is not expired");
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 98);
    assert_eq!(inv["lockedSeats"], 2);

    // The contract's "whether or not a job has run yet": the same answer after the job.
    api.post("/api/bookings/confirm", json!({"lockId": lock_id}), Some(&token)).await.expect_error(409, "LOCK_EXPIRED");
    api.delete(&format!("/api/locks/{lock_id}"), Some(&token)).await.expect_error(409, "LOCK_NOT_ACTIVE");
    let again = jobs.run("lock-expiry").await;
    if jobs.exclusive() {
        assert_eq!(count(&again, "locksExpired"), 0, "{again}");
    }
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 98, "seats returned once");
}

/// Scenario 2 (docs/API.md): lock 3 -> confirm -> PAYMENT_PENDING, 97; the payment deadline forced
/// into the past; the booking-expiry job runs -> booking EXPIRED, its lock EXPIRED, 100. Before
/// the job, pay already refuses (PAYMENT_WINDOW_CLOSED). A paid booking whose deadline has also
/// passed stays CONFIRMED.
pub async fn booking_expiry(api: &Api, jobs: &Jobs, op: &Operator<'_>) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let event_id = api.event(&admin, 100).await;
    let lock = api.lock(&token, &event_id, 3, "bexp-1").await;
    lock.expect(201);
    let lock_id = id(lock.data());
    let booking = api.confirm(&token, &lock_id).await;
    let booking_id = id(&booking);
    assert_eq!(booking["status"], "PAYMENT_PENDING");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 97);

    let paid_lock = api.lock(&token, &event_id, 4, "bexp-paid").await;
    paid_lock.expect(201);
    let paid = id(&api.confirm(&token, &id(paid_lock.data())).await);
    api.pay(&token, &paid).await.expect(200);
    op.expire_payment_deadline(&paid).await;

    op.expire_payment_deadline(&booking_id).await;
    api.pay(&token, &booking_id).await.expect_error(409, "PAYMENT_WINDOW_CLOSED");
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 93, "no job yet: seats still held");
    assert_eq!(inv["pendingSeats"], 3);

    let report = jobs.run("booking-expiry").await;
    assert_report(&report);
    if jobs.exclusive() {
        assert_eq!((count(&report, "bookingsExpired"), count(&report, "seatsRestored")), (1, 3), "{report}");
    }
    assert_eq!(api.status(&token, "bookings", &booking_id).await, "EXPIRED");
    assert_eq!(api.status(&token, "locks", &lock_id).await, "EXPIRED");
    assert_eq!(api.status(&token, "bookings", &paid).await, "CONFIRMED", "a paid booking never expires");
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 96);
    assert_eq!((inv["pendingSeats"].as_i64(), inv["soldSeats"].as_i64()), (Some(0), Some(4)));

    api.pay(&token, &booking_id).await.expect_error(409, "PAYMENT_WINDOW_CLOSED");
    api.post(&format!("/api/bookings/{booking_id}/cancel"), json!({}), Some(&token))
        .await
        .expect_error(409, "BOOKING_NOT_PENDING");
    let again = jobs.run("booking-expiry").await;
    if jobs.exclusive() {
        assert_eq!(count(&again, "bookingsExpired"), 0, "{again}");
    }
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 96, "seats returned once");
}

/// Writes scenario 3's (docs/API.md) crash leftovers into `event_id` (100 seats): a stale ACTIVE
/// 7-seat lock listed in the expiry index and a stale 2-seat one that is not (a hand-written
/// record), both with their seats taken from `availableSeats`. Returns the two lock ids.
pub async fn write_crash_leftovers(
    api: &Api,
    op: &Operator<'_>,
    admin: &str,
    event_id: &str,
    user_id: &str,
) -> [String; 2] {
    let indexed = op.write_stale_lock(event_id, user_id, 7, true).await;
    op.shift_available(event_id, -7).await;
    let unindexed = op.write_stale_lock(event_id, user_id, 2, false).await;
    op.shift_available(event_id, -2).await;
    let inv = api.inventory(admin, event_id).await;
    assert_eq!((inv["availableSeats"].as_i64(), inv["lockedSeats"].as_i64()), (Some(91), Some(9)), "{inv}");
    [indexed, unindexed]
}

/// After recovery: both leftovers EXPIRED and all 100 seats back.
pub async fn assert_crash_healed(api: &Api, admin: &str, token: &str, event_id: &str, locks: &[String; 2]) {
    for lock_id in locks {
        assert_eq!(api.status(token, "locks", lock_id).await, "EXPIRED", "{lock_id}");
    }
    let inv = api.inventory(admin, event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 100);
    assert_eq!(inv["lockedSeats"], 0);
}

/// Scenario 3 (docs/API.md), by a recovery run: a crash left stale locks holding seats; recovery
/// expires them (the listed one through the index, the unlisted one through the event's
/// recount) and the event is whole again, without any "repair" (the seats came back by expiry).
pub async fn recovery_heals_crash(api: &Api, jobs: &Jobs, op: &Operator<'_>) {
    let admin = api.admin().await;
    let (token, user_id) = api.new_user().await;
    let event_id = api.event(&admin, 100).await;
    let locks = write_crash_leftovers(api, op, &admin, &event_id, &user_id).await;
    let report = jobs.run("recovery").await;
    assert_report(&report);
    if jobs.exclusive() {
        assert_eq!((count(&report, "locksExpired"), count(&report, "seatsRestored")), (2, 9), "{report}");
        assert_eq!((count(&report, "eventsRepaired"), count(&report, "eventsChecked")), (0, 1), "{report}");
    }
    assert_crash_healed(api, &admin, &token, &event_id, &locks).await;
}

/// Drift with no hold behind it (a hand edit, a half-applied write) is repaired by recovery run
/// on demand through `POST /api/admin/recovery`, both ways: seats missing and seats invented.
/// Only admins may run it. Live locks and sales are counted, not disturbed.
pub async fn recovery_repairs_drift(api: &Api, op: &Operator<'_>, exclusive: bool) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let short = api.event(&admin, 50).await;
    let long = api.event(&admin, 20).await;
    let lock = api.lock(&token, &short, 5, "drift-lock").await;
    lock.expect(201);
    let sold = api.lock(&token, &short, 3, "drift-sold").await;
    sold.expect(201);
    let booking = api.confirm(&token, &id(sold.data())).await;
    api.pay(&token, &id(&booking)).await.expect(200);
    op.shift_available(&short, -4).await;
    op.shift_available(&long, 6).await;
    let inv = api.inventory(&admin, &short).await;
    assert_eq!(inv["availableSeats"], 38, "drifted: {inv}");

    api.post("/api/admin/recovery", json!({}), None).await.expect_error(401, "UNAUTHORIZED");
    api.post("/api/admin/recovery", json!({}), Some(&token)).await.expect_error(403, "FORBIDDEN");
    let run = api.post("/api/admin/recovery", json!({}), Some(&admin)).await;
    run.expect(200);
    let report = run.data();
    assert_report(report);
    if exclusive {
        assert_eq!((count(report, "eventsRepaired"), count(report, "driftSeats")), (2, 10), "{report}");
        assert_eq!((count(report, "eventsChecked"), count(report, "locksExpired")), (2, 0), "{report}");
    }
    let inv = api.inventory(&admin, &short).await;
    assert_eq!(Api::assert_invariant(&inv), 42);
    assert_eq!((inv["lockedSeats"].as_i64(), inv["soldSeats"].as_i64()), (Some(5), Some(3)));
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &long).await), 20);
    assert_eq!(api.status(&token, "locks", &id(lock.data())).await, "ACTIVE");

    let again = api.post("/api/admin/recovery", json!({}), Some(&admin)).await;
    again.expect(200);
    if exclusive {
        assert_eq!(count(again.data(), "eventsRepaired"), 0, "repaired once: {}", again.body);
    }
}

/// A lock on an event whose date has passed is refused (EVENT_CLOSED), and nothing changes.
pub async fn closed_event(api: &Api, op: &Operator<'_>) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let event_id = api.event(&admin, 10).await;
    op.set_event_date(&event_id, &ago(60)).await;
    api.lock(&token, &event_id, 1, "closed-1").await.expect_error(409, "EVENT_CLOSED");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 10);
}

/// Seats the expiry jobs return also come off the holder's per-user count: a user at the
/// event's limit can lock again once the job has expired an abandoned lock, and again once it
/// has expired an unpaid booking.
pub async fn expiry_returns_seats_to_the_user_limit(api: &Api, jobs: &Jobs, op: &Operator<'_>) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let event_id = api.event_with(&admin, json!({"totalSeats": 100, "maxSeatsPerUser": 4})).await;
    let lock = api.lock(&token, &event_id, 4, "at-limit-1").await;
    lock.expect(201);
    api.lock(&token, &event_id, 1, "at-limit-2").await.expect_error(409, "USER_LIMIT_REACHED");
    op.expire_lock_deadline(&id(lock.data())).await;
    assert_report(&jobs.run("lock-expiry").await);
    assert_eq!(api.status(&token, "locks", &id(lock.data())).await, "EXPIRED");
    let again = api.lock(&token, &event_id, 4, "at-limit-3").await;
    again.expect(201);
    let booking = api.confirm(&token, &id(again.data())).await;
    api.lock(&token, &event_id, 1, "at-limit-4").await.expect_error(409, "USER_LIMIT_REACHED");
    op.expire_payment_deadline(&id(&booking)).await;
    assert_report(&jobs.run("booking-expiry").await);
    assert_eq!(api.status(&token, "bookings", &id(&booking)).await, "EXPIRED");
    api.lock(&token, &event_id, 4, "at-limit-5").await.expect(201);
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 96);
}

/// Recovery checks each category's counter as well as the event's: seats moved from one category
/// to another by hand (the event's sum unchanged) are put back, and nothing in flight is touched.
pub async fn recovery_repairs_each_category(api: &Api, op: &Operator<'_>, exclusive: bool) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let categories = json!([
        {"id": "vip", "name": "VIP", "price": 9000, "seats": 4},
        {"id": "std", "name": "Standard", "price": 3000, "seats": 20}
    ]);
    let event_id = api.event_with(&admin, json!({"categories": categories})).await;
    let body = json!({"eventId": event_id, "seats": 2, "categoryId": "vip", "idempotencyKey": "cat-drift-1"});
    api.post("/api/locks", body, Some(&token)).await.expect(201);
    op.shift_category_available(&event_id, "vip", 2).await;
    op.shift_category_available(&event_id, "std", -2).await;
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!((inv["categories"][0]["availableSeats"].as_i64(), inv["availableSeats"].as_i64()), (Some(4), Some(22)));

    let run = api.post("/api/admin/recovery", json!({}), Some(&admin)).await;
    run.expect(200);
    if exclusive {
        assert_eq!((count(run.data(), "eventsRepaired"), count(run.data(), "driftSeats")), (1, 4), "{}", run.body);
    }
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 22);
    let vip = &inv["categories"][0];
    assert_eq!(
        (vip["id"].as_str(), vip["availableSeats"].as_i64(), vip["lockedSeats"].as_i64()),
        (Some("vip"), Some(2), Some(2))
    );
    assert_eq!(inv["categories"][1]["availableSeats"], 20);
}

/// `POST /api/events/{id}/cancel`: the event is CANCELLED at once (new locks refused with
/// EVENT_CANCELLED; cancelling again answers the same); the next event-cancellation run (in
/// booking-expiry's schedule) releases every ACTIVE lock, cancels every PAYMENT_PENDING booking,
/// and cancels and refunds every CONFIRMED one; all seats return; late confirm, pay, cancel and
/// release are told EVENT_CANCELLED; a second run changes nothing.
pub async fn event_cancellation(api: &Api, jobs: &Jobs) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let categories = json!([
        {"id": "vip", "name": "VIP", "price": 10000, "seats": 10},
        {"id": "std", "name": "Standard", "price": 2500, "seats": 40}
    ]);
    let event_id = api.event_with(&admin, json!({"categories": categories})).await;
    let lock = |category: &str, seats: i64, key: &str| {
        let body = json!({"eventId": event_id, "seats": seats, "categoryId": category, "idempotencyKey": key});
        api.post("/api/locks", body, Some(&token))
    };
    let active = lock("vip", 2, "cx-active").await;
    active.expect(201);
    let pending_lock = lock("std", 3, "cx-pending").await;
    let pending = api.confirm(&token, &id(pending_lock.data())).await;
    let paid_lock = lock("vip", 4, "cx-paid").await;
    let paid = api.confirm(&token, &id(paid_lock.data())).await;
    api.pay(&token, &id(&paid)).await.expect(200);
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 41);

    let path = format!("/api/events/{event_id}/cancel");
    api.post(&path, json!({}), Some(&token)).await.expect_error(403, "FORBIDDEN");
    api.post("/api/events/01KFZ6Y3J8W7D9Q5X2M4N1R0TA/cancel", json!({}), Some(&admin))
        .await
        .expect_error(404, "NOT_FOUND");
    api.post(&path, json!({"reason": "x"}), Some(&admin)).await.expect_error(400, "VALIDATION_ERROR");
    let cancelled = api.post(&path, json!({}), Some(&admin)).await;
    cancelled.expect(200);
    assert_eq!(cancelled.data()["status"], "CANCELLED");
    let again = api.post(&path, json!({}), Some(&admin)).await;
    again.expect(200);
    assert_eq!(again.data(), cancelled.data(), "cancelling again changes nothing");
    lock("std", 1, "cx-late").await.expect_error(409, "EVENT_CANCELLED");
    assert_eq!(api.get(&format!("/api/events/{event_id}"), None).await.data()["status"], "CANCELLED");

    let report = jobs.run("booking-expiry").await;
    assert_report(&report);
    if jobs.exclusive() {
        let got = ["locksReleased", "bookingsCancelled", "refunds", "cancellationsFinished", "seatsRestored"]
            .map(|k| count(&report, k));
        assert_eq!(got, [1, 2, 1, 1, 9], "{report}");
    }
    assert_eq!(api.status(&token, "locks", &id(active.data())).await, "RELEASED");
    let token_ref = &token;
    let b = |booking: &Value| {
        let path = format!("/api/bookings/{}", id(booking));
        async move { api.get(&path, Some(token_ref)).await.data().clone() }
    };
    let (pending_now, paid_now) = (b(&pending).await, b(&paid).await);
    assert_eq!((pending_now["status"].as_str(), pending_now["refundedAt"].is_string()), (Some("CANCELLED"), false));
    assert_eq!(
        (paid_now["status"].as_str(), paid_now["refundedAt"].is_string()),
        (Some("CANCELLED"), true),
        "refunded in full"
    );
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 50, "every seat back: {inv}");

    // Whatever comes late is told why.
    api.post("/api/bookings/confirm", json!({"lockId": id(active.data())}), Some(&token))
        .await
        .expect_error(409, "EVENT_CANCELLED");
    api.pay(&token, &id(&pending)).await.expect_error(409, "EVENT_CANCELLED");
    api.post(&format!("/api/bookings/{}/cancel", id(&paid)), json!({}), Some(&token))
        .await
        .expect_error(409, "EVENT_CANCELLED");
    api.delete(&format!("/api/locks/{}", id(active.data())), Some(&token)).await.expect_error(409, "EVENT_CANCELLED");

    let second = jobs.run("booking-expiry").await;
    if jobs.exclusive() {
        let got =
            ["locksReleased", "bookingsCancelled", "cancellationsFinished", "seatsRestored"].map(|k| count(&second, k));
        assert_eq!(got, [0, 0, 0, 0], "a second run changes nothing: {second}");
    }
    assert_eq!(api.inventory(&admin, &event_id).await, inv);
}
