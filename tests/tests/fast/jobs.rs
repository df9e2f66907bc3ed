//! The jobs against a real DynamoDB Local, in-process through the functions' handlers: the
//! three self-healing scenarios of docs/API.md, drift repair, duplicate and concurrent runs, the races the
//! conditions must settle, injected TransactionConflicts, and the CloudFormation answer.
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use booking_shared::jobs::{self, Budget, Report};
use booking_shared::time::Timestamp;
use booking_shared::Deps;
use booking_tests::fake_http::{self, Received};
use booking_tests::faults::{self, Faults};
use booking_tests::scenarios::id;
use booking_tests::{job_scenarios, Api, Harness, Reply};
use futures::future::join_all;
use futures::StreamExt;
use serde_json::{json, Value};

fn budget() -> Budget {
    Budget::for_duration(Duration::from_secs(120))
}

/// A time well past every deadline the tests set, for runs that must see holds as stale while
/// the API, at the real time, still sees them as live.
fn later() -> Timestamp {
    Timestamp::now().plus_seconds(2 * 3600)
}

#[tokio::test]
async fn lock_expiry_returns_the_seats_of_expired_locks() {
    let h = Harness::new().await;
    job_scenarios::lock_expiry(&h.api(), &h.jobs(), &h.operator()).await;
}

#[tokio::test]
async fn booking_expiry_returns_the_seats_of_unpaid_bookings() {
    let h = Harness::new().await;
    job_scenarios::booking_expiry(&h.api(), &h.jobs(), &h.operator()).await;
}

#[tokio::test]
async fn expired_holds_give_their_seats_back_to_the_user_limit() {
    let h = Harness::new().await;
    job_scenarios::expiry_returns_seats_to_the_user_limit(&h.api(), &h.jobs(), &h.operator()).await;
}

#[tokio::test]
async fn recovery_repairs_each_category_s_counter() {
    let h = Harness::new().await;
    job_scenarios::recovery_repairs_each_category(&h.api(), &h.operator(), true).await;
}

#[tokio::test]
async fn a_cancelled_event_hands_every_hold_back_within_one_run() {
    let h = Harness::new().await;
    job_scenarios::event_cancellation(&h.api(), &h.jobs()).await;
}

/// An event with `holds` holds (a third each ACTIVE, PAYMENT_PENDING, CONFIRMED) cancelled, then
/// handed back by runs that overlap and run out of time: every hold is handed back exactly once,
/// every seat returns once, and the event leaves the list.
#[tokio::test]
async fn event_cancellation_is_resumable_and_safe_to_run_twice() {
    let h = Harness::new().await;
    let api = h.api();
    let admin = api.admin().await;
    let users: Vec<_> = join_all((0..4).map(|_| api.new_user())).await;
    let holds = 240;
    let event_id = api.event_with(&admin, json!({"totalSeats": holds, "maxSeatsPerUser": 1000})).await;
    let work = (0..holds).map(|i| {
        let (token, _) = users[i as usize % users.len()].clone();
        let (api, event_id) = (&api, event_id.clone());
        async move {
            let lock = api.lock(&token, &event_id, 1, &format!("cx-{i}")).await;
            lock.expect(201);
            if i % 3 > 0 {
                let booking = api.confirm(&token, &id(lock.data())).await;
                if i % 3 == 2 {
                    api.pay(&token, &id(&booking)).await.expect(200);
                }
            }
        }
    });
    futures::stream::iter(work).buffer_unordered(16).collect::<Vec<_>>().await;
    api.post(&format!("/api/events/{event_id}/cancel"), json!({}), Some(&admin)).await.expect(200);

    let store = h.store();
    let now = Timestamp::now();
    // First, runs that run out of time at once: they stop and say so, and hand back little.
    let short = jobs::booking_expiry::run(store, now, Budget::for_duration(Duration::ZERO)).await;
    assert!(!short.complete, "{short:?}");
    // Then three overlapping runs, then one more: together they finish the job.
    let mut reports: Vec<Report> = join_all((0..3).map(|_| jobs::booking_expiry::run(store, now, budget()))).await;
    reports.push(short);
    reports.push(jobs::booking_expiry::run(store, now, budget()).await);
    assert!(reports.iter().all(|r| r.failures == 0), "{reports:?}");
    let handed_back = total(&reports, |r| (r.locks_released + r.bookings_cancelled) as i64);
    assert_eq!(handed_back, holds, "each hold handed back once: {reports:?}");
    assert_eq!(total(&reports, |r| r.locks_released as i64), holds / 3);
    assert_eq!(total(&reports, |r| r.refunds as i64), holds / 3);
    assert_eq!(total(&reports, |r| r.seats_restored), holds, "each seat returned once");
    assert_eq!(total(&reports, |r| r.cancellations_finished as i64), 1, "{reports:?}");
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), holds, "{inv}");
    let last = jobs::booking_expiry::run(store, now, budget()).await;
    assert_eq!((last.locks_released, last.bookings_cancelled, last.cancellations_finished), (0, 0, 0), "{last:?}");
}

#[tokio::test]
async fn recovery_heals_a_crash_s_leftovers() {
    let h = Harness::new().await;
    job_scenarios::recovery_heals_crash(&h.api(), &h.jobs(), &h.operator()).await;
}

#[tokio::test]
async fn recovery_repairs_drift_with_no_hold_behind_it() {
    let h = Harness::new().await;
    job_scenarios::recovery_repairs_drift(&h.api(), &h.operator(), true).await;
}

#[tokio::test]
async fn a_closed_event_takes_no_locks() {
    let h = Harness::new().await;
    job_scenarios::closed_event(&h.api(), &h.operator()).await;
}

/// Stale holds on two events: `locks` ACTIVE locks and `bookings` PAYMENT_PENDING bookings,
/// `seats_each` seats each, all past their deadlines as of [`later`]. Returns (admin, events).
async fn stale_world(api: &Api, locks: usize, bookings: usize, seats_each: i64) -> (String, Vec<String>) {
    let admin = api.admin().await;
    let users: Vec<_> = join_all((0..4).map(|_| api.new_user())).await;
    // A few users hold many seats each here; the per-user limit is not what is tested.
    let roomy = json!({"totalSeats": 500, "maxSeatsPerUser": 1000});
    let events = vec![api.event_with(&admin, roomy.clone()).await, api.event_with(&admin, roomy).await];
    let work = (0..locks + bookings).map(|i| {
        let (token, _) = users[i % users.len()].clone();
        let event_id = events[i % events.len()].clone();
        async move {
            let lock = api.lock(&token, &event_id, seats_each, &format!("stale-{i}")).await;
            lock.expect(201);
            if i >= locks {
                api.confirm(&token, &id(lock.data())).await;
            }
        }
    });
    futures::stream::iter(work).buffer_unordered(16).collect::<Vec<_>>().await;
    (admin, events)
}

fn total(reports: &[Report], f: impl Fn(&Report) -> i64) -> i64 {
    reports.iter().map(f).sum()
}

/// At-least-once delivery: ten copies of each expiry job and two recoveries run at once over the
/// same stale holds; every hold is expired by exactly one of them and its seats come back once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_copies_of_each_job_and_recovery_return_every_seat_once() {
    let h = Harness::new().await;
    let api = h.api();
    let (locks, bookings, seats) = (30, 20, 2);
    let (admin, events) = stale_world(&api, locks, bookings, seats).await;
    let at = later();
    let store = h.store();
    let runs = (0..22).map(|i| async move {
        match i % 11 {
            10 => jobs::recovery::run(store, at, budget()).await,
            n if n % 2 == 0 => jobs::lock_expiry::run(store, at, budget()).await,
            _ => jobs::booking_expiry::run(store, at, budget()).await,
        }
    });
    let reports: Vec<Report> = join_all(runs).await;
    assert!(reports.iter().all(|r| r.failures == 0 && r.complete), "{reports:?}");
    assert_eq!(total(&reports, |r| r.locks_expired as i64), locks as i64, "each lock expired once");
    assert_eq!(total(&reports, |r| r.bookings_expired as i64), bookings as i64, "each booking expired once");
    assert_eq!(total(&reports, |r| r.seats_restored), (locks + bookings) as i64 * seats, "seats returned once");
    assert_eq!(total(&reports, |r| r.events_repaired as i64), 0, "nothing needed repair: {reports:?}");
    let found = total(&reports, |r| (r.locks_found + r.bookings_found) as i64);
    let settled = total(&reports, |r| (r.locks_expired + r.bookings_expired + r.already_handled) as i64);
    assert_eq!(found, settled, "every hold found was either expired or seen already handled");
    for event_id in &events {
        let inv = api.inventory(&admin, event_id).await;
        assert_eq!(Api::assert_invariant(&inv), 500, "{inv}");
    }
}

/// The contenders of a race against a job: an admin, a user and `n` of the user's locks of
/// `seats` each on a fresh event of 100 seats.
struct Contenders {
    admin: String,
    token: String,
    event_id: String,
    locks: Vec<String>,
}

async fn contenders(api: &Api, n: usize, seats: i64, key_prefix: &str) -> Contenders {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    // One user holds up to all 100 seats: the limit is not what is tested.
    let event_id = api.event_with(&admin, json!({"totalSeats": 100, "maxSeatsPerUser": 1000})).await;
    let mut locks = Vec::new();
    for i in 0..n {
        let lock = api.lock(&token, &event_id, seats, &format!("{key_prefix}-{i}")).await;
        lock.expect(201);
        locks.push(id(lock.data()));
    }
    Contenders { admin, token, event_id, locks }
}

/// Which clients won their race (answered `won`); every loser must have been refused with `code`.
fn winners(replies: &[Reply], won: u16, code: &str) -> Vec<bool> {
    for r in replies.iter().filter(|r| r.status != won) {
        r.expect_error(409, code);
    }
    replies.iter().map(|r| r.status == won).collect()
}

/// Pay racing booking expiry: for each booking exactly one wins. A paid booking is CONFIRMED
/// and keeps its seats; an expired one is EXPIRED with its lock, and its seats are back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pay_racing_booking_expiry_has_one_winner_per_booking() {
    let h = Harness::new().await;
    let api = h.api();
    let Contenders { admin, token, event_id, locks } = contenders(&api, 24, 2, "race-pay").await;
    let mut bookings = Vec::new();
    for lock in locks {
        let booking = id(&api.confirm(&token, &lock).await);
        bookings.push((lock, booking));
    }
    // Payment deadlines are minutes away for `pay` (real time), already passed for the job (`later`).
    let at = later();
    let store = h.store();
    let pays = join_all(bookings.iter().map(|(_, b)| api.pay(&token, b)));
    let expiries = join_all((0..3).map(|_| jobs::booking_expiry::run(store, at, budget())));
    let (pays, reports) = tokio::join!(pays, expiries);
    let paid = winners(&pays, 200, "BOOKING_NOT_PENDING");
    let expired = total(&reports, |r| r.bookings_expired as i64);
    assert_eq!(paid.iter().filter(|p| **p).count() as i64 + expired, 24, "exactly one winner per booking");
    for ((lock_id, booking_id), paid) in bookings.iter().zip(&paid) {
        let (booking, lock) = if *paid { ("CONFIRMED", "CONSUMED") } else { ("EXPIRED", "EXPIRED") };
        assert_eq!(api.status(&token, "bookings", booking_id).await, booking);
        assert_eq!(api.status(&token, "locks", lock_id).await, lock);
    }
    let sold = paid.iter().filter(|p| **p).count() as i64 * 2;
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 100 - sold);
    assert_eq!((inv["soldSeats"].as_i64(), inv["pendingSeats"].as_i64()), (Some(sold), Some(0)));
}

/// Confirm racing lock expiry: each lock is either confirmed (a PAYMENT_PENDING booking holds
/// its seats) or expired (seats back), never both.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirm_racing_lock_expiry_has_one_winner_per_lock() {
    let h = Harness::new().await;
    let api = h.api();
    let Contenders { admin, token, event_id, locks } = contenders(&api, 24, 3, "race-confirm").await;
    let at = later();
    let store = h.store();
    let confirms =
        join_all(locks.iter().map(|l| api.post("/api/bookings/confirm", json!({"lockId": l}), Some(&token))));
    let expiries = join_all((0..3).map(|_| jobs::lock_expiry::run(store, at, budget())));
    let (confirms, reports) = tokio::join!(confirms, expiries);
    let confirmed = winners(&confirms, 201, "LOCK_NOT_ACTIVE");
    let expired = total(&reports, |r| r.locks_expired as i64);
    assert_eq!(confirmed.iter().filter(|c| **c).count() as i64 + expired, 24, "exactly one winner per lock");
    for (lock_id, confirmed) in locks.iter().zip(&confirmed) {
        let want = if *confirmed { "CONSUMED" } else { "EXPIRED" };
        assert_eq!(api.status(&token, "locks", lock_id).await, want);
    }
    let pending = confirmed.iter().filter(|c| **c).count() as i64 * 3;
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 100 - pending);
    assert_eq!((inv["pendingSeats"].as_i64(), inv["lockedSeats"].as_i64()), (Some(pending), Some(0)));
}

/// One client of the live traffic: 12 to 250 rounds (within the event's seats: at most about 500
/// of them held by one client) of a lock that is then released, confirmed, paid or cancelled,
/// going on until recovery has run at least three times during the traffic, however fast or
/// slow this machine is (a run recounts a busy event for up to `BUSY_EVENT_PATIENCE`).
async fn live_client(api: &Api, u: usize, token: &str, event_id: &str, runs: &std::sync::atomic::AtomicUsize) {
    for i in (0..250).take_while(|i| *i < 12 || runs.load(Ordering::SeqCst) < 3) {
        let lock = api.lock(token, event_id, 1 + (i % 3), &format!("live-{u}-{i}")).await;
        lock.expect(201);
        let lock_id = id(lock.data());
        match (u + i as usize) % 4 {
            0 => {
                api.delete(&format!("/api/locks/{lock_id}"), Some(token)).await.expect(200);
            }
            1 => {
                api.confirm(token, &lock_id).await;
            }
            2 => {
                let booking = api.confirm(token, &lock_id).await;
                api.pay(token, &id(&booking)).await.expect(200);
            }
            _ => {
                let booking = api.confirm(token, &lock_id).await;
                api.post(&format!("/api/bookings/{}/cancel", id(&booking)), json!({}), Some(token)).await.expect(200);
            }
        }
    }
}

/// Recovery at the real time, again and again until `done` (and at least once); its reports.
async fn recovery_until(
    store: &booking_shared::store::Store,
    done: &std::sync::atomic::AtomicBool,
    runs: &std::sync::atomic::AtomicUsize,
) -> Vec<Report> {
    let mut reports = Vec::new();
    while !done.load(Ordering::SeqCst) || reports.is_empty() {
        reports.push(jobs::recovery::run(store, Timestamp::now(), budget()).await);
        runs.fetch_add(1, Ordering::SeqCst);
    }
    reports
}

/// Recovery's recount and repair run again and again while clients lock, release, confirm, pay
/// and cancel on the same event: it must never "repair" seats that were merely in flight.
/// (A recount that read the holds and the event at different moments, or trusted an index,
/// would see drift here and write it in.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recovery_during_live_traffic_repairs_nothing() {
    let h = Harness::new().await;
    let api = h.api();
    let admin = api.admin().await;
    let users: Vec<_> = join_all((0..8).map(|_| api.new_user())).await;
    // Each user may end up holding hundreds of the seats: the limit is not what is tested.
    let event_id = api.event_with(&admin, json!({"totalSeats": 5000, "maxSeatsPerUser": 1000})).await;
    let done = std::sync::atomic::AtomicBool::new(false);
    let runs = std::sync::atomic::AtomicUsize::new(0);
    let traffic = async {
        join_all(users.iter().enumerate().map(|(u, (token, _))| live_client(&api, u, token, &event_id, &runs))).await;
        done.store(true, Ordering::SeqCst);
    };
    let store = h.store();
    let ((), reports) = tokio::join!(traffic, recovery_until(store, &done, &runs));
    assert!(reports.len() >= 2, "recovery ran during the traffic: {} runs", reports.len());
    for r in &reports {
        assert_eq!((r.events_repaired, r.drift_seats, r.failures), (0, 0, 0), "{r:?}");
    }
    let inv = api.inventory(&admin, &event_id).await;
    Api::assert_invariant(&inv);
    let last = jobs::recovery::run(store, Timestamp::now(), budget()).await;
    assert_eq!((last.events_checked, last.events_repaired), (1, 0), "{last:?}");
    eprintln!(
        "{} recovery runs during the traffic; {} recounts skipped because seats were moving",
        reports.len(),
        reports.iter().map(|r| r.events_skipped).sum::<u64>()
    );
}

/// A harness whose DynamoDB client passes through `faults`.
async fn faulty(faults: Arc<Faults>) -> (Harness, Deps) {
    let h = Harness::new().await;
    let endpoint = booking_tests::dynamodb().await;
    let deps = Deps::new(h.deps.settings.clone(), faults::client(&endpoint, faults));
    (h, deps)
}

/// The real service cancels a transaction with TransactionConflict when another touches the
/// same item; DynamoDB Local never does, so the conflict is injected. Lock, pay and the expiry
/// job retry with back-off and succeed, taking or returning seats once; a conflict that outlasts
/// every retry fails the request cleanly and changes nothing.
#[tokio::test]
async fn transaction_conflicts_are_retried() {
    let faults = Faults::new();
    let (h, deps) = faulty(faults.clone()).await;
    let api = Api::InProcess(Box::new(deps.clone()));
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let event_id = api.event(&admin, 10).await;

    faults.reset_counts();
    faults.transact_conflicts.store(3, Ordering::SeqCst);
    let lock = api.lock(&token, &event_id, 4, "conflict-1").await;
    lock.expect(201);
    assert_eq!(faults.injected(), 3);
    assert_eq!(faults.count("TransactWriteItems"), 4, "three conflicts, then the write: {:?}", faults.counts());
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 6, "seats taken once");

    faults.update_conflicts.store(2, Ordering::SeqCst);
    let booking = api.confirm(&token, &id(lock.data())).await;
    api.pay(&token, &id(&booking)).await.expect(200);
    assert_eq!(faults.injected(), 5);

    let stale = api.lock(&token, &event_id, 2, "conflict-2").await;
    stale.expect(201);
    h.operator().expire_lock_deadline(&id(stale.data())).await;
    faults.transact_conflicts.store(2, Ordering::SeqCst);
    let report = jobs::lock_expiry::run(&deps.store, Timestamp::now(), budget()).await;
    assert_eq!((report.locks_expired, report.seats_restored, report.failures), (1, 2, 0), "{report:?}");
    assert_eq!(faults.injected(), 7);

    faults.transact_conflicts.store(1_000, Ordering::SeqCst);
    let refused = api.lock(&token, &event_id, 1, "conflict-3").await;
    assert!(refused.status >= 500, "a conflict that never clears is a server-side failure: {}", refused.body);
    assert_eq!(refused.body["success"], false);
    faults.transact_conflicts.store(0, Ordering::SeqCst);
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 6, "the failed lock took nothing: {inv}");
    assert_eq!(api.lock(&token, &event_id, 1, "conflict-3").await.status, 201, "the client's retry works");
}

/// A job whose writes keep failing reports them, fails the invocation (so the error alarm
/// fires), and the next run finishes the work.
#[tokio::test]
async fn a_failed_expiry_is_reported_and_retried_by_the_next_run() {
    let faults = Faults::new();
    let (h, deps) = faulty(faults.clone()).await;
    let api = Api::InProcess(Box::new(deps.clone()));
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let event_id = api.event(&admin, 10).await;
    let lock = api.lock(&token, &event_id, 3, "fail-1").await;
    lock.expect(201);
    h.operator().expire_lock_deadline(&id(lock.data())).await;

    faults.transact_conflicts.store(1_000, Ordering::SeqCst);
    let event = lambda_runtime::LambdaEvent::new(json!({}), lambda_runtime::Context::default());
    let failed = jobs::lock_expiry::handle(&deps.store, event).await;
    assert!(failed.is_err(), "the invocation fails: {failed:?}");
    faults.transact_conflicts.store(0, Ordering::SeqCst);
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 7);
    let report = h.jobs().run("lock-expiry").await;
    assert_eq!((report["locksExpired"].as_i64(), report["seatsRestored"].as_i64()), (Some(1), Some(3)));
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 10);
}

/// A broken item at the head of a bucket (a hand edit) is logged, counted and skipped: the
/// stale lock behind it in the same bucket is still expired, by this run and by the next.
#[tokio::test]
async fn an_unreadable_item_does_not_stop_its_bucket() {
    let h = Harness::new().await;
    let api = h.api();
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let event_id = api.event(&admin, 10).await;
    let lock = api.lock(&token, &event_id, 3, "behind-a-broken-one").await;
    lock.expect(201);
    let lock_id = id(lock.data());
    h.operator().expire_lock_deadline(&lock_id).await;
    h.operator().write_broken_stale_item(&event_id, &lock_id).await;

    let report = jobs::lock_expiry::run(h.store(), Timestamp::now(), budget()).await;
    assert_eq!((report.locks_expired, report.seats_restored, report.unreadable_items), (1, 3, 1), "{report:?}");
    assert_eq!(report.failures, 0, "the rest of the sweep went on: {report:?}");
    assert!(report.summary().contains("1 unreadable items skipped"), "{}", report.summary());
    assert_eq!(api.status(&token, "locks", &lock_id).await, "EXPIRED");
    let event = api.get(&format!("/api/events/{event_id}"), Some(&token)).await;
    assert_eq!(event.data()["availableSeats"], 10, "the seats came back");
    // Still there, still skipped, every run, until a person mends it.
    let again = jobs::lock_expiry::run(h.store(), Timestamp::now(), budget()).await;
    assert_eq!((again.locks_expired, again.unreadable_items, again.failures), (0, 1, 0), "{again:?}");
}

/// A run out of time stops taking work, says so, and the next run finishes.
#[tokio::test]
async fn a_run_out_of_time_leaves_the_rest_for_the_next() {
    let h = Harness::new().await;
    let api = h.api();
    let (admin, events) = stale_world(&api, 6, 0, 1).await;
    let at = later();
    let spent = jobs::lock_expiry::run(h.store(), at, Budget::for_duration(Duration::ZERO)).await;
    assert!(!spent.complete, "{spent:?}");
    assert_eq!(spent.locks_expired, 0);
    let next = jobs::lock_expiry::run(h.store(), at, budget()).await;
    assert!(next.complete);
    assert_eq!(next.locks_expired, 6);
    for event_id in &events {
        assert_eq!(Api::assert_invariant(&api.inventory(&admin, event_id).await), 500);
    }
}

/// A stand-in for CloudFormation's pre-signed S3 URL that refuses the first `fail_first` PUTs.
async fn fake_response_url(fail_first: usize) -> (String, tokio::sync::mpsc::UnboundedReceiver<Received>) {
    let mut answers = vec![(500, String::new()); fail_first];
    answers.push((200, String::new()));
    let (base, rx) = fake_http::serve(answers).await;
    (format!("{base}/cfn-response?X-Amz-Signature=abc"), rx)
}

fn cfn_event(request_type: &str, url: &str) -> lambda_runtime::LambdaEvent<Value> {
    let mut payload = json!({
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:booking-recovery",
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/booking/guid",
        "RequestId": format!("req-{request_type}"),
        "ResourceType": "Custom::Recovery",
        "LogicalResourceId": "RecoveryRun",
        "ResourceProperties": {"ServiceToken": "arn", "DeployId": "1764000000"}
    });
    if request_type != "Create" {
        payload["PhysicalResourceId"] = json!(recovery::PHYSICAL_RESOURCE_ID);
    }
    lambda_runtime::LambdaEvent::new(payload, lambda_runtime::Context::default())
}

/// A fresh table with an admin, a user, an event of 100 seats, and a crash's leftover on it: a
/// stale lock of 7 seats.
struct CfnWorld {
    h: Harness,
    api: Api,
    admin: String,
    token: String,
    event_id: String,
    leftover: String,
    http: recovery::AnswerClient,
}

async fn cfn_world() -> CfnWorld {
    let h = Harness::new().await;
    let api = h.api();
    let admin = api.admin().await;
    let (token, user_id) = api.new_user().await;
    let event_id = api.event(&admin, 100).await;
    let op = h.operator();
    let leftover = op.write_stale_lock(&event_id, &user_id, 7, true).await;
    op.shift_available(&event_id, -7).await;
    let http = recovery::answer_client().unwrap();
    CfnWorld { h, api, admin, token, event_id, leftover, http }
}

/// Delete: answered, nothing done (the leftover stays until a Create/Update or the jobs).
async fn delete_is_answered_without_work(w: &CfnWorld) {
    let (url, mut rx) = fake_response_url(0).await;
    recovery::handle(w.h.store(), &w.http, cfn_event("Delete", &url)).await.unwrap();
    let got = rx.recv().await.unwrap();
    assert!(got.head.starts_with("PUT /cfn-response?X-Amz-Signature=abc "), "{}", got.head);
    assert_eq!(got.body["Status"], "SUCCESS");
    assert_eq!(got.body["PhysicalResourceId"], recovery::PHYSICAL_RESOURCE_ID);
    assert_eq!(got.body["RequestId"], "req-Delete");
    assert_eq!(got.body["LogicalResourceId"], "RecoveryRun");
    assert_eq!(w.api.status(&w.token, "locks", &w.leftover).await, "ACTIVE");
}

/// Update (a deploy), with the first answer refused: recovery runs, the answer is re-sent.
async fn update_runs_recovery_and_sends_a_refused_answer_again(w: &CfnWorld) {
    let (url, mut rx) = fake_response_url(1).await;
    recovery::handle(w.h.store(), &w.http, cfn_event("Update", &url)).await.unwrap();
    let refused = rx.recv().await.unwrap();
    let got = rx.recv().await.unwrap();
    assert_eq!(refused.body, got.body, "the same answer, sent again");
    assert!(got.header("content-type").is_none_or(|v| v.is_empty()), "the URL is signed without one: {}", got.head);
    assert_eq!(got.body["Status"], "SUCCESS", "{}", got.body);
    assert_eq!(got.body["StackId"], "arn:aws:cloudformation:us-east-1:123456789012:stack/booking/guid");
    assert_eq!(got.body["Data"]["locksExpired"], 1);
    assert_eq!(got.body["Data"]["seatsRestored"], 7);
    assert!(got.body["Reason"].as_str().unwrap().contains("1 locks and 0 bookings expired"), "{}", got.body);
    assert_eq!(w.api.status(&w.token, "locks", &w.leftover).await, "EXPIRED");
    assert_eq!(Api::assert_invariant(&w.api.inventory(&w.admin, &w.event_id).await), 100);
}

/// Create, with recovery panicking inside (a fault in its DynamoDB client): FAILED, answered.
async fn create_with_recovery_panicking_answers_failed(w: &CfnWorld) {
    let faults = Faults::new();
    faults.panic.store(true, Ordering::SeqCst);
    let endpoint = booking_tests::dynamodb().await;
    let broken = booking_shared::store::Store::new(faults::client(&endpoint, faults), &w.h.deps.settings.table_name);
    let (url, mut rx) = fake_response_url(0).await;
    recovery::handle(&broken, &w.http, cfn_event("Create", &url)).await.unwrap();
    let got = rx.recv().await.unwrap();
    assert_eq!(got.body["Status"], "FAILED", "{}", got.body);
    assert!(got.body["Reason"].as_str().unwrap().contains("panicked"), "{}", got.body);
    assert_eq!(got.body["PhysicalResourceId"], recovery::PHYSICAL_RESOURCE_ID);
}

/// On deploy, recovery runs as a custom resource and always answers CloudFormation at the
/// ResponseURL: Create/Update run recovery and answer SUCCESS with the report; Delete answers
/// at once without work; a run that panics answers FAILED with the reason; an answer the URL
/// refuses is sent again.
#[tokio::test]
async fn recovery_always_answers_cloudformation() {
    let w = cfn_world().await;
    delete_is_answered_without_work(&w).await;
    update_runs_recovery_and_sends_a_refused_answer_again(&w).await;
    create_with_recovery_panicking_answers_failed(&w).await;

    // A direct invoke (no ResponseURL) returns the report.
    let report = w.h.jobs().run("recovery").await;
    assert_eq!(report["eventsChecked"], 1);
    assert_eq!(report["complete"], true);
}
