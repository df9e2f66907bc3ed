//! Cost that does not grow with history (issue 11): the census reads an event's live holds and
//! never its finished ones; what may go (idempotency claims, locks that finished without a
//! booking) carries the table's TTL attribute and bookings never do; recovery checks upcoming
//! events first, resumes at its bookmark, and keeps its deadline even inside one event; an
//! unreadable live hold neither breaks the count nor gets an event "repaired".
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use booking_shared::domain::ids::{HoldRef, UserId};
use booking_shared::domain::lock::{IdempotencyKey, NewLock, Seats, Window, FINISHED_HOLD_RETENTION};
use booking_shared::domain::user::{Caller, Role};
use booking_shared::jobs::{self, Budget};
use booking_shared::store::keys;
use booking_shared::store::Store;
use booking_shared::time::Timestamp;
use booking_shared::Deps;
use booking_tests::faults::{self, Faults};
use booking_tests::operator::{ago, ahead, event_id, seeded_hold, Finished, Operator, RawItem};
use booking_tests::scenarios::id;
use booking_tests::{Api, Harness};
use serde_json::json;

fn budget() -> Budget {
    Budget::for_duration(Duration::from_secs(120))
}

fn text(item: &RawItem, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_else(|| panic!("{name} in {item:?}"))
}

fn epoch(item: &RawItem) -> Option<i64> {
    item.get("expiresAtEpoch").map(|v| v.as_n().expect("a number").parse().expect("an integer"))
}

fn seconds_of(item: &RawItem, name: &str) -> i64 {
    Timestamp::parse(&text(item, name)).expect("a timestamp").unix_seconds()
}

/// A harness whose store's DynamoDB client passes through `faults`.
async fn faulty() -> (Harness, Deps, Arc<Faults>) {
    let faults = Faults::new();
    let h = Harness::new().await;
    let endpoint = booking_tests::dynamodb().await;
    let deps = Deps::new(h.deps.settings.clone(), faults::client(&endpoint, faults.clone()));
    (h, deps, faults)
}

/// The same three live holds on each event: an ACTIVE lock (2 seats), a PAYMENT_PENDING
/// booking (1) and a CONFIRMED one (3).
async fn live_holds(api: &Api, token: &str, event_id: &str) {
    let lock = api.lock(token, event_id, 2, &format!("live-lock-{event_id}")).await;
    lock.expect(201);
    let pending = api.lock(token, event_id, 1, &format!("live-pending-{event_id}")).await;
    api.confirm(token, &id(pending.data())).await;
    let paid = api.lock(token, event_id, 3, &format!("live-paid-{event_id}")).await;
    let booking = api.confirm(token, &id(paid.data())).await;
    api.pay(token, &id(&booking)).await.expect(200);
}

/// Two events with the same live holds; one of them also has a history: a hold finished by
/// each path that finishes one (release, cancel, lock expiry, booking expiry, through the real
/// calls and jobs) and 600 more seeded as those paths leave them. Both censuses read the same
/// three index items (and the same read capacity, where DynamoDB Local reports it). Before
/// LiveHoldsIndex the census read every `HOLD#` item of the partition: 607 here.
#[tokio::test]
async fn a_census_reads_the_live_holds_not_the_history() {
    let h = Harness::new().await;
    let (api, op, store) = (h.api(), h.operator(), h.store());
    let admin = api.admin().await;
    let (token, user_id) = api.new_user().await;
    let quiet = api.event(&admin, 100).await;
    let busy = api.event(&admin, 1000).await;
    live_holds(&api, &token, &quiet).await;
    live_holds(&api, &token, &busy).await;

    let released = api.lock(&token, &busy, 4, "old-released").await;
    api.delete(&format!("/api/locks/{}", id(released.data())), Some(&token)).await.expect(200);
    let cancelled = api.lock(&token, &busy, 4, "old-cancelled").await;
    let booking = api.confirm(&token, &id(cancelled.data())).await;
    api.post(&format!("/api/bookings/{}/cancel", id(&booking)), json!({}), Some(&token)).await.expect(200);
    let expired = api.lock(&token, &busy, 4, "old-expired").await;
    op.expire_lock_deadline(&id(expired.data())).await;
    let unpaid = api.lock(&token, &busy, 4, "old-unpaid").await;
    let unpaid = api.confirm(&token, &id(unpaid.data())).await;
    op.expire_payment_deadline(&id(&unpaid)).await;
    let report = jobs::recovery::run(store, Timestamp::now(), budget()).await;
    assert_eq!((report.locks_expired, report.bookings_expired, report.events_repaired), (1, 1, 0), "{report:?}");
    let (busy_id, user) = (event_id(&busy), UserId::parse(&user_id).expect("user id"));
    let kinds = [Finished::Released, Finished::Expired, Finished::Cancelled];
    let history = (0..600).map(|i| seeded_hold(&busy_id, &user, &format!("seeded-{i}"), Some(kinds[i % 3]))).collect();
    op.batch_put(history, 8).await;

    let now = Timestamp::now();
    let quiet_census = store.census(&event_id(&quiet), now).await.unwrap().expect("event");
    let busy_census = store.census(&busy_id, now).await.unwrap().expect("event");
    eprintln!(
        "census: quiet {} items, {} RCU; busy {} items, {} RCU",
        quiet_census.items_read, quiet_census.read_units, busy_census.items_read, busy_census.read_units
    );
    assert_eq!((quiet_census.items_read, busy_census.items_read), (3, 3), "only the live holds are read");
    assert_eq!(quiet_census.read_units, busy_census.read_units, "the history costs no read capacity");
    for (census, total) in [(&quiet_census, 100), (&busy_census, 1000)] {
        let inv = &census.inventory;
        assert!(census.settled && census.unreadable.is_empty());
        assert_eq!((inv.counts.locked_seats, inv.counts.pending_seats, inv.counts.sold_seats), (2, 1, 3), "{inv:?}");
        assert_eq!((inv.counts.available_seats, inv.drift()), (total - 6, 0), "{inv:?}");
    }
    let inv = api.inventory(&admin, &busy).await;
    assert_eq!(Api::assert_invariant(&inv), 994, "{inv}");
}

/// Idempotency claims carry `expiresAtEpoch` = their creation + the replay window; a lock that
/// finished without a booking (released, expired) carries it from its finish; an ACTIVE lock
/// and every booking, whatever became of it, never do. `liveSort` (the census's index) is
/// there exactly while seats are held.
#[tokio::test]
async fn what_may_go_carries_a_ttl_and_bookings_never_do() {
    assert!(FINISHED_HOLD_RETENTION >= Duration::from_secs(24 * 3600), "the replay window is at least a day");
    let window = FINISHED_HOLD_RETENTION.as_secs() as i64;
    let h = Harness::new().await;
    let (api, op) = (h.api(), h.operator());
    let admin = api.admin().await;
    let (token, user_id) = api.new_user().await;
    let event = api.event(&admin, 100).await;
    let lock = |key: &'static str| {
        let (api, token, event) = (&api, &token, &event);
        async move {
            let r = api.lock(token, event, 1, key).await;
            r.expect(201);
            id(r.data())
        }
    };
    let released = lock("ttl-released").await;
    api.delete(&format!("/api/locks/{released}"), Some(&token)).await.expect(200);
    let expired = lock("ttl-expired").await;
    op.expire_lock_deadline(&expired).await;
    let active = lock("ttl-active").await;
    let pending = lock("ttl-pending").await;
    api.confirm(&token, &pending).await;
    let paid = lock("ttl-paid").await;
    let paid_booking = api.confirm(&token, &paid).await;
    api.pay(&token, &id(&paid_booking)).await.expect(200);
    let cancelled = lock("ttl-cancelled").await;
    let cancelled_booking = api.confirm(&token, &cancelled).await;
    api.post(&format!("/api/bookings/{}/cancel", id(&cancelled_booking)), json!({}), Some(&token)).await.expect(200);
    let unpaid = lock("ttl-unpaid").await;
    let unpaid_booking = api.confirm(&token, &unpaid).await;
    op.expire_payment_deadline(&id(&unpaid_booking)).await;
    let report = jobs::recovery::run(h.store(), Timestamp::now(), budget()).await;
    assert_eq!((report.locks_expired, report.bookings_expired), (1, 1), "{report:?}");

    for key in ["ttl-released", "ttl-expired", "ttl-active", "ttl-pending", "ttl-paid", "ttl-cancelled", "ttl-unpaid"] {
        let claim = op.raw_claim(&event, &user_id, key).await.expect("the claim");
        assert_eq!(epoch(&claim), Some(seconds_of(&claim, "createdAt") + window), "claim of {key}: {claim:?}");
    }
    for (lock_id, status) in [(&released, "RELEASED"), (&expired, "EXPIRED")] {
        let item = op.raw_hold(lock_id).await;
        assert_eq!(text(&item, "lockStatus"), status);
        assert_eq!(epoch(&item), Some(seconds_of(&item, "updatedAt") + window), "{status}: {item:?}");
        assert!(!item.contains_key(keys::LIVE_SORT), "{status} holds no seats: {item:?}");
    }
    for (lock_id, live) in [(&active, true), (&pending, true), (&paid, true), (&cancelled, false), (&unpaid, false)] {
        let item = op.raw_hold(lock_id).await;
        assert_eq!(epoch(&item), None, "a lock that is or was a booking stays: {item:?}");
        assert_eq!(item.contains_key(keys::LIVE_SORT), live, "liveSort while seats are held: {item:?}");
        if live {
            assert_eq!(item[keys::LIVE_SORT], item["SK"]);
        }
    }
}

/// Moves an event to `at` (its date and its place in the event list); its list sort key.
async fn date_event(op: &Operator<'_>, event: &str, at: &str) -> String {
    op.set_event_date(event, at).await;
    keys::event_list_sort(Timestamp::parse(at).expect("a time"), &event_id(event))
}

/// The bookmark a stopped run left, as (phase, after).
async fn bookmark(op: &Operator<'_>) -> Option<(String, Option<String>)> {
    let item = op.raw_item("RECOVERY", "BOOKMARK").await?;
    Some((text(&item, "phase"), item.get("after").map(|v| v.as_s().expect("text").clone())))
}

/// Five events, each drifted by one seat: three upcoming (U1 soonest) and two past (P1 the more
/// recent). A repair is what shows an event was checked. One event at a time is made slow
/// (every request naming it waits 2.5 s), so a 3 s budget runs out inside that event's count:
///
/// 1. U3 slow: U1 and U2 are repaired, U3 is left half-counted and unrepaired, no past event is
///    touched (upcoming first), the run returns within one slow request of its deadline, and
///    the bookmark points after U2.
/// 2. P2 slow: the run resumes there (U3, not U1 or U2), then goes on to the past events most
///    recent first: P1 is repaired, P2 is left, and the bookmark points after P1.
/// 3. Nothing slow: only P2 is checked; the walk is finished and the bookmark deleted.
/// 4. The next run starts from the top: all five checked, nothing left to repair.
#[tokio::test]
async fn recovery_checks_upcoming_events_first_and_resumes_at_its_bookmark() {
    let (h, deps, faults) = faulty().await;
    let (api, op, store) = (h.api(), h.operator(), &deps.store);
    let admin = api.admin().await;
    let mut events = Vec::new();
    for at in [ahead(3600), ahead(7200), ahead(10_800), ago(3600), ago(7200)] {
        let event = api.event(&admin, 10).await;
        let sort = date_event(&op, &event, &at).await;
        op.shift_available(&event, -1).await;
        events.push((event, sort));
    }
    let [u1, u2, u3, p1, p2] = [0, 1, 2, 3, 4].map(|i| events[i].0.clone());
    let repaired = |event: String| {
        let (api, admin) = (&api, &admin);
        async move { api.inventory(admin, &event).await["availableSeats"] == 10 }
    };
    let slow = |event: &str| faults.slow_down(Some((&format!("EVENT#{event}"), Duration::from_millis(2500))));
    let deadline = Duration::from_secs(3);

    slow(&u3);
    let started = Instant::now();
    let first = jobs::recovery::run(store, Timestamp::now(), Budget::for_duration(deadline)).await;
    let took = started.elapsed();
    assert!(!first.complete, "{first:?}");
    assert_eq!((first.events_checked, first.events_repaired, first.failures), (2, 2, 0), "{first:?}");
    assert!(took < deadline + Duration::from_millis(2500) + Duration::from_millis(1500), "took {took:?}");
    faults.slow_down(None);
    for (event, want) in [(&u1, true), (&u2, true), (&u3, false), (&p1, false), (&p2, false)] {
        assert_eq!(repaired(event.clone()).await, want, "after run 1: {event}");
    }
    assert_eq!(bookmark(&op).await, Some(("UPCOMING".into(), Some(events[1].1.clone()))));

    slow(&p2);
    let second = jobs::recovery::run(store, Timestamp::now(), Budget::for_duration(deadline)).await;
    faults.slow_down(None);
    assert!(!second.complete, "{second:?}");
    assert_eq!((second.events_checked, second.events_repaired), (2, 2), "U3 and P1: {second:?}");
    assert!(repaired(u3.clone()).await && repaired(p1.clone()).await && !repaired(p2.clone()).await);
    assert_eq!(bookmark(&op).await, Some(("PAST".into(), Some(events[3].1.clone()))), "most recent first");

    let third = jobs::recovery::run(store, Timestamp::now(), budget()).await;
    assert!(third.complete, "{third:?}");
    assert_eq!((third.events_checked, third.events_repaired), (1, 1), "only P2: {third:?}");
    assert!(repaired(p2.clone()).await);
    assert_eq!(bookmark(&op).await, None, "a finished walk leaves no bookmark");

    let fourth = jobs::recovery::run(store, Timestamp::now(), budget()).await;
    assert!(fourth.complete, "{fourth:?}");
    assert_eq!((fourth.events_checked, fourth.events_repaired), (5, 0), "from the top: {fourth:?}");
}

/// An event with 5,000 live holds (more than one page of its count) and a seat of drift, whose
/// requests are slow: a check with a 2 s budget stops between two pages of the count, within
/// one slow request of its deadline, says `complete: false`, does not call the event checked,
/// and repairs nothing from the half count. Without the delay the same check counts every
/// page and repairs the drift.
#[tokio::test]
async fn the_deadline_holds_inside_one_event() {
    let (h, deps, faults) = faulty().await;
    let (api, op, store) = (h.api(), h.operator(), &deps.store);
    let admin = api.admin().await;
    let event = api.event(&admin, 6000).await;
    let (id_, user) = (event_id(&event), UserId::generate());
    let live = (0..5000).map(|i| seeded_hold(&id_, &user, &format!("many-{i}"), None)).collect();
    op.batch_put(live, 8).await;
    op.shift_available(&event, -5001).await;

    let full = store.census(&id_, Timestamp::now()).await.unwrap().expect("event");
    assert_eq!((full.items_read, full.inventory.counts.locked_seats, full.inventory.drift()), (5000, 5000, -1));
    faults.reset_counts();
    store.census(&id_, Timestamp::now()).await.unwrap();
    let pages = faults.count("Query");
    assert!(pages >= 2, "5,000 live holds take more than one page: {pages}");

    faults.reset_counts();
    let pause = Duration::from_millis(1500);
    faults.slow_down(Some((&format!("EVENT#{event}"), pause)));
    let deadline = Duration::from_secs(2);
    let started = Instant::now();
    let cut = jobs::recovery::check_event(store, &id_, Timestamp::now(), Budget::for_duration(deadline)).await;
    let took = started.elapsed();
    faults.slow_down(None);
    assert!(!cut.complete, "{cut:?}");
    assert_eq!((cut.events_checked, cut.events_repaired, cut.failures), (0, 0, 0), "{cut:?}");
    assert!(faults.count("Query") < pages, "stopped between pages: {:?}", faults.counts());
    assert!(took < deadline + pause + Duration::from_millis(1500), "took {took:?}");
    assert_eq!(api.inventory(&admin, &event).await["availableSeats"], 999, "no repair from a half count");

    let whole = jobs::recovery::check_event(store, &id_, Timestamp::now(), budget()).await;
    assert!(whole.complete, "{whole:?}");
    assert_eq!((whole.events_checked, whole.events_repaired, whole.drift_seats), (1, 1, 1), "{whole:?}");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event).await), 1000);
}

/// A live hold no code can read (a hand edit left `seats` as text) in an event that also
/// drifted: the inventory endpoint still answers, from what it could read; recovery counts the
/// item, leaves the event unrepaired (nobody knows what that hold holds) and says so.
#[tokio::test]
async fn an_unreadable_live_hold_is_counted_and_blocks_only_its_event_s_repair() {
    let h = Harness::new().await;
    let (api, op, store) = (h.api(), h.operator(), h.store());
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let broken = api.event(&admin, 10).await;
    let sound = api.event(&admin, 10).await;
    api.lock(&token, &broken, 3, "beside-a-broken-one").await.expect(201);
    op.write_broken_live_hold(&broken).await;
    op.shift_available(&broken, -2).await;
    op.shift_available(&sound, -2).await;

    let inv = api.inventory(&admin, &broken).await;
    assert_eq!((inv["lockedSeats"].as_i64(), inv["availableSeats"].as_i64()), (Some(3), Some(5)), "{inv}");
    let census = store.census(&event_id(&broken), Timestamp::now()).await.unwrap().expect("event");
    assert_eq!(census.unreadable.len(), 1, "{:?}", census.unreadable);
    assert!(census.unreadable[0].key.contains("HOLD#broken-"), "{:?}", census.unreadable);

    let report = jobs::recovery::run(store, Timestamp::now(), budget()).await;
    assert_eq!((report.unreadable_items, report.events_skipped), (1, 1), "{report:?}");
    assert_eq!((report.events_checked, report.events_repaired, report.failures), (2, 1, 0), "{report:?}");
    assert!(report.complete, "{report:?}");
    assert_eq!(api.inventory(&admin, &broken).await["availableSeats"], 5, "not repaired from a partial count");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &sound).await), 10, "the other event was repaired");
}

/// A continuously busy event: one task locks and releases on it in a loop (real store calls,
/// every one moving seats and bumping `version`) while recovery checks it again and again.
/// With the count bounded by the live holds it takes milliseconds, and the census's short
/// jittered pause between attempts finds a quiet moment: every check ends checked, none
/// skipped, nothing "repaired", and the seats add up when the traffic stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_busy_event_is_still_checked() {
    let h = Harness::new().await;
    let api = h.api();
    let admin = api.admin().await;
    let event = api.event(&admin, 100).await;
    let (id_, user) = (event_id(&event), UserId::generate());
    let caller = Caller { user_id: user.clone(), role: Role::User };
    let store: &Store = h.store();
    let stop = AtomicBool::new(false);
    let rounds = std::sync::atomic::AtomicUsize::new(0);
    let traffic = async {
        let mut i = 0;
        while !stop.load(Ordering::SeqCst) {
            let key = IdempotencyKey::parse(&format!("busy-{i}")).expect("key");
            let req = NewLock {
                event_id: id_.clone(),
                user_id: user.clone(),
                category: None,
                seats: Seats::try_from(1 + i % 3).expect("seats"),
                idempotency_key: key.clone(),
                life: Window::starting(Timestamp::now(), 300),
            };
            store.create_lock(&req).await.expect("lock");
            let hold = HoldRef::for_request(&id_, &user, &key);
            store.release_lock(&hold, &caller, Timestamp::now()).await.expect("release");
            rounds.fetch_add(1, Ordering::SeqCst);
            i += 1;
        }
    };
    let checks = async {
        while rounds.load(Ordering::SeqCst) < 5 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut reports = Vec::new();
        for _ in 0..10 {
            reports.push(jobs::recovery::check_event(store, &id_, Timestamp::now(), budget()).await);
        }
        stop.store(true, Ordering::SeqCst);
        reports
    };
    let ((), reports) = tokio::join!(traffic, checks);
    let moved = rounds.load(Ordering::SeqCst);
    eprintln!(
        "{moved} lock-and-release rounds during 10 checks; skipped {}",
        reports.iter().filter(|r| r.events_skipped > 0).count()
    );
    assert!(moved >= 20, "the event was busy throughout: {moved} rounds");
    for r in &reports {
        assert!(r.complete, "{r:?}");
        assert_eq!((r.events_checked, r.events_skipped, r.events_repaired, r.failures), (1, 0, 0, 0), "{r:?}");
    }
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event).await), 100);
}
