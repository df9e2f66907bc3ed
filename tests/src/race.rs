//! Races at scale: many concurrent clients on a few events (the CI test: 1,000 on one) through
//! the functions' real handlers in-process, mixing every seat-moving call while the three jobs
//! run in loops through their real Lambda handlers, with short timers so expiry races the
//! clients. Then the traffic stops, the timers pass, each job runs once more, and the end state
//! is checked against what every client was told ([`run`] asserts; [`RaceReport`] counts).
//! Each event has two categories and clients lock either; meanwhile one admin raises and lowers
//! the first category's seats (lowerings below what is held are refused `SEATS_IN_USE`) and
//! closes and reopens the sales (locks in between are refused `SALES_CLOSED`).
//!
//! - Clients are tokio tasks, one per client, each with its own user. Tokens are minted with the
//!   harness's real `Tokens` (the `TEST_SECRET` key): the locks and bookings handlers need only a
//!   valid bearer token, not a stored user, and registering 1,000 users through Argon2id would
//!   take minutes.
//! - DynamoDB Local is one JVM on a small machine, so handler calls pass a semaphore of
//!   [`RaceConfig::in_flight`] permits (fair, first come first served), and new locks also a
//!   second one of [`RaceConfig::new_locks_in_flight`]: admission control, as a gateway's
//!   throttle would do. All clients start at once and wait at the gate together, but a client
//!   that holds seats is not queued behind a thousand new lock requests, so it can confirm
//!   inside a 2 s TTL whatever the machine's speed (otherwise every confirm is late and the
//!   race tests only expiry). A client holds a permit only for one call, never while it thinks
//!   or waits for a deadline. The jobs take no permits.
//! - Each client pauses a random time (mean [`RaceConfig::think`]) before each call after its
//!   lock; some wait on purpose until about a deadline, either side of it, to race the jobs.
//! - Everything is seeded ([`RaceConfig::seed`]): the same seed gives the same plans (not the
//!   same interleaving).
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use booking_shared::domain::ids::UserId;
use booking_shared::domain::user::{Email, Role, User};
use booking_shared::time::Timestamp;
use booking_shared::Deps;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use crate::recount::Recount;
use crate::{Api, Harness, Jobs, Reply};

/// The size and timing of a race.
#[derive(Debug, Clone)]
pub struct RaceConfig {
    /// Concurrent clients (tokio tasks), each its own user.
    pub clients: usize,
    /// Lock attempts per client, one after the other.
    pub rounds: usize,
    /// Events; client `i` books event `i % events`.
    pub events: usize,
    /// Seats of each event. Fewer than the clients want makes SEATS_UNAVAILABLE part of the mix.
    pub seats: i64,
    /// A lock asks for 1 to this many seats (also the `MAX_SEATS_PER_LOCK` setting).
    pub max_seats_per_lock: i64,
    pub lock_ttl_seconds: u64,
    pub payment_window_seconds: u64,
    /// Handler calls in flight at once (a semaphore); DynamoDB Local is one JVM.
    pub in_flight: usize,
    /// Of those, new lock requests at most (a second semaphore, taken first).
    pub new_locks_in_flight: usize,
    /// Mean pause before each call (uniform in 0..2x).
    pub think: Duration,
    /// Pause between two runs of the same expiry job.
    pub job_pause: Duration,
    /// Pause between two recovery runs (each recounts every hold of every event, several
    /// times while seats move, so it is the heaviest reader).
    pub recovery_pause: Duration,
    pub seed: u64,
}

impl RaceConfig {
    /// The CI size: 1,000 clients on one event of 1,000 seats, two rounds each, a 2 s lock TTL
    /// and a 3 s payment window.
    pub fn ci() -> Self {
        RaceConfig {
            clients: 1_000,
            rounds: 2,
            events: 1,
            seats: 1_000,
            max_seats_per_lock: 4,
            lock_ttl_seconds: 2,
            payment_window_seconds: 3,
            in_flight: 16,
            new_locks_in_flight: 4,
            think: Duration::from_millis(300),
            job_pause: Duration::from_millis(200),
            recovery_pause: Duration::from_secs(1),
            seed: 0x5EA7_5EA7,
        }
    }
}

/// What happened: counts by outcome, and how long it took.
#[derive(Debug, Clone)]
pub struct RaceReport {
    pub config: RaceConfig,
    /// From the clients' start to the last client's last answer.
    pub traffic: Duration,
    /// Everything: set-up, traffic, waiting out the timers, the last job runs and the checks.
    pub elapsed: Duration,
    /// Outcome counts, e.g. `lock.created`, `lock.refused_seats`, `pay.ok`, `jobs.locks_expired`.
    pub counts: BTreeMap<String, u64>,
    /// Per event at the end: (total, available, sold).
    pub events: Vec<(i64, i64, i64)>,
}

impl RaceReport {
    pub fn count(&self, outcome: &str) -> u64 {
        self.counts.get(outcome).copied().unwrap_or(0)
    }

    /// Every kind of outcome the race is meant to exercise happened at least once, so a pass
    /// is not vacuous.
    #[track_caller]
    pub fn assert_every_outcome_happened(&self) {
        let needed = [
            "lock.created",
            "lock.replayed",
            "lock.refused_seats",
            "release.ok",
            "confirm.created",
            "confirm.replayed",
            "pay.ok",
            "pay.replayed",
            "pay.refused_window_closed",
            "cancel.pending_ok",
            "cancel.paid_ok",
            "jobs.locks_expired",
            "jobs.bookings_expired",
            "lock.refused_sales_closed",
            "admin.seats_raised",
            "admin.seats_lowered",
            "admin.sales_closed",
            "admin.sales_reopened",
        ];
        let missing: Vec<_> = needed.iter().filter(|k| self.count(k) == 0).collect();
        assert!(missing.is_empty(), "never happened: {missing:?}; counts: {:#?}", self.counts);
        let confirm_late = self.count("confirm.refused_expired") + self.count("confirm.refused_not_active");
        assert!(confirm_late > 0, "no confirm was ever too late; counts: {:#?}", self.counts);
    }
}

impl std::fmt::Display for RaceReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "race: {} clients x {} rounds on {} event(s) of {} seats; traffic {:.1?}, all {:.1?}",
            self.config.clients, self.config.rounds, self.config.events, self.config.seats, self.traffic, self.elapsed
        )?;
        for (k, v) in &self.counts {
            writeln!(f, "  {k:<32} {v}")?;
        }
        for (i, (total, available, sold)) in self.events.iter().enumerate() {
            writeln!(f, "  event {i}: total {total}, available {available}, sold {sold}")?;
        }
        Ok(())
    }
}

/// A bearer token for `user_id`, signed with the deps' real token service.
pub fn mint_token(deps: &Deps, user_id: &str, role: Role) -> String {
    let user = User {
        id: UserId::parse(user_id).expect("a user id"),
        name: "Race Client".into(),
        email: Email::parse(&format!("{}@example.com", user_id.to_lowercase())).expect("an email"),
        role,
        created_at: Timestamp::now(),
    };
    deps.tokens.issue(&user).expect("token").token
}

/// splitmix64: small, seeded, good enough to pick plans.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        Rng(seed ^ stream.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The categories of every race event; the admin changes the first one's seats.
const CATEGORIES: [&str; 2] = ["front", "back"];

/// What a client means to do with a lock it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Release,
    AbandonLock,
    /// Waits until about `expiresAt` (either side), then confirms and pays: races lock-expiry.
    ConfirmAtDeadline,
    AbandonBooking,
    CancelPending,
    Pay,
    PayThenCancel,
    /// Confirms, waits until about `paymentExpiresAt`, then pays: races booking-expiry.
    PayAtDeadline,
}

const PLANS: [(Plan, u64); 8] = [
    (Plan::Release, 14),
    (Plan::AbandonLock, 10),
    (Plan::ConfirmAtDeadline, 6),
    (Plan::AbandonBooking, 12),
    (Plan::CancelPending, 14),
    (Plan::Pay, 28),
    (Plan::PayThenCancel, 8),
    (Plan::PayAtDeadline, 8),
];

fn pick(rng: &mut Rng) -> Plan {
    let mut roll = rng.below(PLANS.iter().map(|(_, w)| w).sum());
    for (plan, weight) in PLANS {
        if roll < weight {
            return plan;
        }
        roll -= weight;
    }
    unreachable!()
}

/// A lock a client was given (2xx), and what it was told afterwards.
#[derive(Debug, Clone)]
struct Held {
    event_id: String,
    lock_id: String,
    seats: i64,
    released: bool,
    /// 201 on confirm.
    confirmed: bool,
    /// 2xx on pay.
    paid: bool,
    /// 200 on cancel.
    cancelled: bool,
}

impl Held {
    /// Where the hold must end once every deadline has passed and the jobs have run: what the
    /// client was told stands, and whatever it left is expired.
    fn expected_end(&self) -> &'static str {
        match (self.released, self.confirmed, self.cancelled, self.paid) {
            (true, ..) => "RELEASED",
            (false, false, ..) => "LOCK_EXPIRED",
            (false, true, true, _) => "CANCELLED",
            (false, true, false, true) => "CONFIRMED",
            (false, true, false, false) => "EXPIRED",
        }
    }
}

#[derive(Default)]
struct ClientLog {
    counts: BTreeMap<&'static str, u64>,
    held: Vec<Held>,
    unexpected: Vec<String>,
}

impl ClientLog {
    fn bump(&mut self, outcome: &'static str) {
        *self.counts.entry(outcome).or_default() += 1;
    }

    fn odd(&mut self, what: &str, reply: &Reply) {
        self.unexpected.push(format!("{what}: {} {}", reply.status, reply.body));
    }
}

struct Ctx {
    api: Api,
    permits: Semaphore,
    new_locks: Semaphore,
    config: RaceConfig,
}

impl Ctx {
    async fn call(&self, method: &str, path: &str, body: Value, token: &str) -> Reply {
        let _gate = match path {
            "/api/locks" => Some(self.new_locks.acquire().await.expect("the semaphore is never closed")),
            _ => None,
        };
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        match method {
            "DELETE" => self.api.delete(path, Some(token)).await,
            _ => self.api.send(method, path, body, Some(token)).await,
        }
    }

    async fn think(&self, rng: &mut Rng) {
        let ms = self.config.think.as_millis() as u64;
        tokio::time::sleep(Duration::from_millis(rng.below(2 * ms + 1))).await;
    }

    /// Sleeps until about `seconds` from `since`, up to 300 ms either side.
    async fn until_about(&self, since: Instant, seconds: u64, rng: &mut Rng) {
        let target = Duration::from_millis(seconds * 1_000 - 300 + rng.below(601));
        tokio::time::sleep(target.saturating_sub(since.elapsed())).await;
    }
}

fn id_of(reply: &Reply) -> String {
    reply.data()["_id"].as_str().unwrap_or_default().to_string()
}

/// One client: `rounds` lock attempts on its event, each followed by its plan.
async fn client(ctx: Arc<Ctx>, n: usize, token: String, event_id: String) -> ClientLog {
    let mut log = ClientLog::default();
    let mut rng = Rng::new(ctx.config.seed, n as u64);
    for round in 0..ctx.config.rounds {
        ctx.think(&mut rng).await;
        let seats = 1 + rng.below(ctx.config.max_seats_per_lock as u64) as i64;
        let category = CATEGORIES[rng.below(2) as usize];
        let key = format!("race-{round}");
        let body = json!({"eventId": event_id, "categoryId": category, "seats": seats, "idempotencyKey": key});
        let replies = if rng.chance(10) {
            // The same request twice at once (a client retrying before the first answer).
            log.bump("lock.concurrent_pairs");
            let (a, b) = tokio::join!(
                ctx.call("POST", "/api/locks", body.clone(), &token),
                ctx.call("POST", "/api/locks", body, &token)
            );
            vec![a, b]
        } else {
            vec![ctx.call("POST", "/api/locks", body, &token).await]
        };
        let locked_at = Instant::now();
        let mut given = Vec::new();
        for r in &replies {
            match (r.status, r.code()) {
                (201, _) => log.bump("lock.created"),
                (200, _) => log.bump("lock.replayed"),
                (409, "SEATS_UNAVAILABLE") => log.bump("lock.refused_seats"),
                // The admin closed the sales for a moment.
                (409, "SALES_CLOSED") => log.bump("lock.refused_sales_closed"),
                _ => log.odd("lock", r),
            }
            if r.status == 200 || r.status == 201 {
                given.push(r);
                // A replay answers the lock as it is now, which need not be ACTIVE any more.
                if r.data()["seats"] != seats
                    || r.data()["categoryId"] != category
                    || (r.status == 201 && r.data()["status"] != "ACTIVE")
                {
                    log.odd("lock answer", r);
                }
            }
        }
        let created = replies.iter().filter(|r| r.status == 201).count();
        if created > 1 || (created == 0 && !given.is_empty()) {
            log.unexpected.push(format!("one key, {created} locks created: {replies:?}"));
        }
        let Some(first) = given.first() else { continue };
        let lock_id = id_of(first);
        if given.iter().any(|r| id_of(r) != lock_id) {
            log.unexpected.push(format!("one key, two locks: {replies:?}"));
        }
        let mut held = Held {
            event_id: event_id.clone(),
            lock_id: lock_id.clone(),
            seats,
            released: false,
            confirmed: false,
            paid: false,
            cancelled: false,
        };
        let plan = pick(&mut rng);
        run_plan(&ctx, &mut log, &mut rng, &mut held, plan, locked_at, &token, &format!("pay-{n}-{round}")).await;
        log.held.push(held);
    }
    log
}

#[allow(clippy::too_many_arguments)]
async fn run_plan(
    ctx: &Ctx,
    log: &mut ClientLog,
    rng: &mut Rng,
    held: &mut Held,
    plan: Plan,
    locked_at: Instant,
    token: &str,
    reference: &str,
) {
    let config = &ctx.config;
    match plan {
        Plan::Release => {
            ctx.think(rng).await;
            let r = ctx.call("DELETE", &format!("/api/locks/{}", held.lock_id), Value::Null, token).await;
            match (r.status, r.code()) {
                (200, _) if r.data()["status"] == "RELEASED" => {
                    log.bump("release.ok");
                    held.released = true;
                }
                // Expired (and swept) while the client thought.
                (409, "LOCK_NOT_ACTIVE") => log.bump("release.refused_not_active"),
                _ => log.odd("release", &r),
            }
            return;
        }
        Plan::AbandonLock => {
            log.bump("lock.abandoned");
            return;
        }
        Plan::ConfirmAtDeadline => ctx.until_about(locked_at, config.lock_ttl_seconds, rng).await,
        _ => ctx.think(rng).await,
    }
    let confirm = json!({"lockId": held.lock_id});
    let r = ctx.call("POST", "/api/bookings/confirm", confirm.clone(), token).await;
    let confirmed_at = Instant::now();
    match (r.status, r.code()) {
        (201, _) if r.data()["status"] == "PAYMENT_PENDING" && r.data()["seatLockId"] == held.lock_id.as_str() => {
            log.bump("confirm.created");
            held.confirmed = true;
        }
        (409, "LOCK_EXPIRED") => log.bump("confirm.refused_expired"),
        (409, "LOCK_NOT_ACTIVE") => log.bump("confirm.refused_not_active"),
        _ => log.odd("confirm", &r),
    }
    if !held.confirmed {
        return;
    }
    let booking_id = id_of(&r);
    if rng.chance(10) {
        let again = ctx.call("POST", "/api/bookings/confirm", confirm, token).await;
        if again.status == 200 && id_of(&again) == booking_id {
            log.bump("confirm.replayed");
        } else {
            log.odd("confirm replay", &again);
        }
    }
    let cancel_path = format!("/api/bookings/{booking_id}/cancel");
    match plan {
        Plan::AbandonBooking => {
            log.bump("booking.abandoned");
            return;
        }
        Plan::CancelPending => {
            ctx.think(rng).await;
            let r = ctx.call("POST", &cancel_path, json!({}), token).await;
            match (r.status, r.code()) {
                (200, _) if r.data()["status"] == "CANCELLED" => {
                    log.bump("cancel.pending_ok");
                    held.cancelled = true;
                }
                // Its payment window closed while the client thought.
                (409, "BOOKING_NOT_PENDING") => log.bump("cancel.refused_not_pending"),
                _ => log.odd("cancel pending", &r),
            }
            return;
        }
        Plan::PayAtDeadline => ctx.until_about(confirmed_at, config.payment_window_seconds, rng).await,
        _ => ctx.think(rng).await,
    }
    let pay_path = format!("/api/bookings/{booking_id}/pay");
    let pay = json!({"paymentReference": reference});
    let r = ctx.call("POST", &pay_path, pay.clone(), token).await;
    match (r.status, r.code()) {
        (200, _) if r.data()["status"] == "CONFIRMED" => {
            log.bump("pay.ok");
            held.paid = true;
        }
        (409, "PAYMENT_WINDOW_CLOSED") => log.bump("pay.refused_window_closed"),
        _ => log.odd("pay", &r),
    }
    if !held.paid {
        return;
    }
    if rng.chance(10) {
        let again = ctx.call("POST", &pay_path, pay, token).await;
        if again.status == 200 && again.data()["status"] == "CONFIRMED" {
            log.bump("pay.replayed");
        } else {
            log.odd("pay replay", &again);
        }
    }
    if plan == Plan::PayThenCancel {
        ctx.think(rng).await;
        let r = ctx.call("POST", &cancel_path, json!({}), token).await;
        if r.status == 200 && r.data()["status"] == "CANCELLED" {
            log.bump("cancel.paid_ok");
            held.cancelled = true;
        } else {
            // A paid booking can always be cancelled by its owner.
            log.odd("cancel paid", &r);
        }
    }
}

/// Runs `job` again and again until `done`, at least once; its reports.
async fn job_loop(jobs: &Jobs, job: &str, pause: Duration, done: &AtomicBool) -> Vec<Value> {
    let mut reports = Vec::new();
    while reports.is_empty() || !done.load(Ordering::SeqCst) {
        reports.push(jobs.run(job).await);
        tokio::time::sleep(pause).await;
    }
    reports
}

/// Reads every event's inventory again and again until `done`, as an admin watching the sale
/// would, asserting each answer adds up (`total = available + locked + pending + sold`, none
/// negative) while seats move under it; how many reads it made.
async fn inventory_loop(api: &Api, admin: &str, events: &[String], done: &AtomicBool) -> u64 {
    let mut reads = 0;
    while reads == 0 || !done.load(Ordering::SeqCst) {
        for event_id in events {
            Api::assert_invariant(&api.inventory(admin, event_id).await);
            reads += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    reads
}

/// One admin changing the events while the clients buy, until `done`: raises the first
/// category's seats by 10 and lowers them by up to 10 available ones, tries to lower it below the seats it has held (one fewer than
/// held: `409 SEATS_IN_USE` unless seats came back in between), and closes the sales for a
/// moment and reopens them. Every answer must be 200 or `SEATS_IN_USE` and show no negative
/// count. Outcome counts, and any answer the contract does not allow.
async fn admin_loop(api: &Api, admin: &str, events: &[String], done: &AtomicBool) -> ClientLog {
    let mut log = ClientLog::default();
    let mut round = 0u64;
    while round < 4 || !done.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(150)).await;
        for event_id in events {
            let event = api.get(&format!("/api/events/{event_id}"), None).await;
            let front = &event.data()["categories"][0];
            let (total, available) =
                (front["totalSeats"].as_i64().unwrap_or(0), front["availableSeats"].as_i64().unwrap_or(0));
            let change = |seats: i64| json!({"categories": [{"id": CATEGORIES[0], "seats": seats}]});
            let (body, ok) = match round % 4 {
                0 => (change(total + 10), "admin.seats_raised"),
                // By up to 10 of the seats available when read: refused only if locks took
                // them in between.
                1 if available > 0 => (change(total - available.min(10)), "admin.seats_lowered"),
                1 => continue,
                2 if total - available > 1 => (change(total - available - 1), "admin.seats_lowered_below_held"),
                2 => continue,
                _ => (json!({"salesOpen": false}), "admin.sales_closed"),
            };
            let r = api.send("PATCH", &format!("/api/events/{event_id}"), body, Some(admin)).await;
            match (r.status, r.code()) {
                (200, _) => log.bump(ok),
                (409, "SEATS_IN_USE") => log.bump("admin.lower_refused_seats_in_use"),
                _ => log.odd("admin change", &r),
            }
            if r.status == 200 {
                let counts = std::iter::once(r.data()).chain(r.data()["categories"].as_array().into_iter().flatten());
                if counts.clone().any(|c| c["availableSeats"].as_i64().is_none_or(|n| n < 0)) {
                    log.odd("a negative count", &r);
                }
            }
            if round % 4 == 3 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let r = api
                    .send("PATCH", &format!("/api/events/{event_id}"), json!({"salesOpen": true}), Some(admin))
                    .await;
                match r.status {
                    200 if r.data()["status"] == "ON_SALE" => log.bump("admin.sales_reopened"),
                    _ => log.odd("reopen", &r),
                }
            }
        }
        round += 1;
    }
    log
}

fn sum(reports: &[Value], key: &str) -> u64 {
    reports.iter().map(|r| r[key].as_u64().unwrap_or_else(|| panic!("{key} in {r}"))).sum()
}

/// Runs the race described by `config` on a fresh table and checks the end state; panics on
/// any violation. The checks, once traffic has stopped, every deadline has passed and each job
/// has run once more:
///
/// - every answer was one the contract allows for that call (no 5xx, no surprise code);
/// - every inventory an admin read during the traffic added up;
/// - per event, `total = available + locked + pending + sold`, all non-negative, recounted from
///   the hold items themselves and equal to the inventory endpoint's answer; nothing is left
///   locked or pending;
/// - the event's holds are exactly the locks clients were given (a replayed key made one hold),
///   each ended where its client's answers put it: a paid booking CONFIRMED, a cancelled one
///   CANCELLED, a released lock RELEASED, everything left unpaid or unconfirmed EXPIRED;
/// - `sold` is the seats of the CONFIRMED bookings, which are the ones clients paid and did
///   not cancel; `available = total - sold`;
/// - the jobs returned exactly the seats of the holds that ended EXPIRED (none twice), and no
///   recovery run, during the traffic or after, repaired anything.
pub async fn run(config: RaceConfig) -> RaceReport {
    let started = Instant::now();
    let world = race_world(&config).await;
    let traffic_started = Instant::now();
    let traffic = traffic_with_the_jobs_looping(&world, &config).await;
    let traffic_time = traffic_started.elapsed();
    let reports = last_job_runs_after_every_deadline(&world.jobs, &config, &traffic).await;
    let (mut counts, held) = merge_client_logs(traffic.logs, traffic.inventory_reads);
    let (final_events, locks_expired, bookings_expired, expired_seats) =
        assert_every_event_ended_as_its_clients_were_told(&world, &held).await;
    assert_eq!(sum(&reports, "locksExpired"), locks_expired, "each abandoned lock expired once");
    assert_eq!(sum(&reports, "bookingsExpired"), bookings_expired, "each unpaid booking expired once");
    assert_eq!(sum(&reports, "seatsRestored"), expired_seats as u64, "the jobs returned each expired seat once");

    counts.insert("jobs.lock_expiry_runs".into(), traffic.lock_runs.len() as u64);
    counts.insert("jobs.booking_expiry_runs".into(), traffic.booking_runs.len() as u64);
    counts.insert("jobs.recovery_runs".into(), traffic.recovery_runs.len() as u64);
    counts.insert("jobs.locks_expired".into(), sum(&reports, "locksExpired"));
    counts.insert("jobs.bookings_expired".into(), sum(&reports, "bookingsExpired"));
    counts.insert("jobs.seats_restored".into(), sum(&reports, "seatsRestored"));
    counts.insert("jobs.already_handled".into(), sum(&reports, "alreadyHandled"));
    counts.insert("jobs.recounts_skipped".into(), sum(&reports, "eventsSkipped"));
    RaceReport { config, traffic: traffic_time, elapsed: started.elapsed(), counts, events: final_events }
}

/// The race's table (with its short timers), an admin, its events and the clients' context.
struct RaceWorld {
    h: Harness,
    api: Api,
    jobs: Jobs,
    admin: String,
    events: Vec<String>,
    ctx: Arc<Ctx>,
}

async fn race_world(config: &RaceConfig) -> RaceWorld {
    let h = Harness::with(|s| {
        s.lock_ttl_seconds = config.lock_ttl_seconds;
        s.payment_window_seconds = config.payment_window_seconds;
        s.max_seats_per_lock = config.max_seats_per_lock as u32;
    })
    .await;
    let api = h.api();
    // A registered admin: admin routes check the role stored on the user.
    let admin = api.admin().await;
    let mut events = Vec::new();
    // Two categories of (about) half the seats each; clients lock either.
    let first = (config.seats + 1) / 2;
    for _ in 0..config.events {
        let categories = json!({"categories": [
            {"id": CATEGORIES[0], "name": "A", "price": 5000, "seats": first},
            {"id": CATEGORIES[1], "name": "B", "price": 2500, "seats": config.seats - first}
        ]});
        events.push(api.event_with(&admin, categories).await);
    }
    let ctx = Arc::new(Ctx {
        api: h.api(),
        permits: Semaphore::new(config.in_flight),
        new_locks: Semaphore::new(config.new_locks_in_flight),
        config: config.clone(),
    });
    let jobs = h.jobs();
    RaceWorld { h, api, jobs, admin, events, ctx }
}

/// What happened while the clients ran: their logs, the jobs' reports and the inventory reads.
struct Traffic {
    logs: Vec<ClientLog>,
    lock_runs: Vec<Value>,
    booking_runs: Vec<Value>,
    recovery_runs: Vec<Value>,
    inventory_reads: u64,
}

/// Every client at once, while the three jobs run in loops, an admin reads the inventory and
/// another changes the events (seats up and down, sales closed and reopened), until the last
/// client is done.
async fn traffic_with_the_jobs_looping(w: &RaceWorld, config: &RaceConfig) -> Traffic {
    let handles: Vec<_> = (0..config.clients)
        .map(|n| {
            let token = mint_token(&w.h.deps, &ulid::Ulid::new().to_string(), Role::User);
            tokio::spawn(client(w.ctx.clone(), n, token, w.events[n % w.events.len()].clone()))
        })
        .collect();
    let done = AtomicBool::new(false);
    let traffic = async {
        let mut logs = Vec::new();
        for handle in handles {
            logs.push(handle.await.expect("a client task panicked"));
        }
        done.store(true, Ordering::SeqCst);
        logs
    };
    let (mut logs, lock_runs, booking_runs, recovery_runs, inventory_reads, admin) = tokio::join!(
        traffic,
        job_loop(&w.jobs, "lock-expiry", config.job_pause, &done),
        job_loop(&w.jobs, "booking-expiry", config.job_pause, &done),
        job_loop(&w.jobs, "recovery", config.recovery_pause, &done),
        inventory_loop(&w.api, &w.admin, &w.events, &done),
        admin_loop(&w.api, &w.admin, &w.events, &done),
    );
    logs.push(admin);
    Traffic { logs, lock_runs, booking_runs, recovery_runs, inventory_reads }
}

/// Traffic has stopped: let every deadline pass, then each job once more, and recovery a last
/// time finding nothing left. No run of any job repaired anything. Every report.
async fn last_job_runs_after_every_deadline(jobs: &Jobs, config: &RaceConfig, traffic: &Traffic) -> Vec<Value> {
    let last_deadline = config.lock_ttl_seconds.max(config.payment_window_seconds);
    tokio::time::sleep(Duration::from_millis(last_deadline * 1_000 + 1_100)).await;
    let mut reports = traffic.lock_runs.clone();
    reports.extend(traffic.booking_runs.iter().cloned());
    reports.extend(traffic.recovery_runs.iter().cloned());
    for job in ["lock-expiry", "booking-expiry", "recovery"] {
        reports.push(jobs.run(job).await);
    }
    let last_recovery = jobs.run("recovery").await;
    assert_eq!((last_recovery["locksExpired"].as_u64(), last_recovery["bookingsExpired"].as_u64()), (Some(0), Some(0)));
    reports.push(last_recovery.clone());
    for r in &reports {
        crate::assert_report(r);
        assert_eq!((r["eventsRepaired"].as_u64(), r["driftSeats"].as_u64()), (Some(0), Some(0)), "a repair: {r}");
    }
    assert_eq!(last_recovery["eventsChecked"], json!(config.events), "{last_recovery}");
    reports
}

/// The clients' counts added up and the holds they were given; every answer was one the
/// contract allows.
fn merge_client_logs(logs: Vec<ClientLog>, inventory_reads: u64) -> (BTreeMap<String, u64>, Vec<Held>) {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    counts.insert("inventory.reads_during_traffic".into(), inventory_reads);
    let mut unexpected = Vec::new();
    let mut held: Vec<Held> = Vec::new();
    for log in logs {
        for (k, v) in log.counts {
            *counts.entry(k.to_string()).or_default() += v;
        }
        unexpected.extend(log.unexpected);
        held.extend(log.held);
    }
    assert!(
        unexpected.is_empty(),
        "{} answers the contract does not allow, e.g.:\n{}",
        unexpected.len(),
        unexpected.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
    (counts, held)
}

/// Each event recounted from its items: nothing locked or pending any more, its holds exactly
/// the locks clients were given, each ended where its answers said, and its seats add up.
/// (total, available, sold) per event, and the locks, bookings and seats that expired.
async fn assert_every_event_ended_as_its_clients_were_told(
    w: &RaceWorld,
    held: &[Held],
) -> (Vec<(i64, i64, i64)>, u64, u64, i64) {
    let mut final_events = Vec::new();
    let mut expired_seats = 0;
    let (mut locks_expired, mut bookings_expired) = (0, 0);
    for event_id in &w.events {
        let recount = Recount::read(&w.h.client, &w.h.deps.settings.table_name, event_id).await;
        recount.assert_invariant();
        let inventory = w.api.inventory(&w.admin, event_id).await;
        recount.assert_matches(&inventory);
        assert_eq!((recount.locked, recount.pending), (0, 0), "every deadline passed and the jobs ran: {recount:?}");

        let mine: HashMap<&str, &Held> =
            held.iter().filter(|h| &h.event_id == event_id).map(|h| (h.lock_id.as_str(), h)).collect();
        let stored = recount.by_lock_id();
        assert_eq!(stored.len(), recount.holds.len(), "two items with one lock id");
        let stored_ids: HashSet<&str> = stored.keys().copied().collect();
        let given_ids: HashSet<&str> = mine.keys().copied().collect();
        assert_eq!(
            stored_ids.symmetric_difference(&given_ids).count(),
            0,
            "the event's holds are not exactly the locks clients were given: stored only {:?}, given only {:?}",
            stored_ids.difference(&given_ids).take(5).collect::<Vec<_>>(),
            given_ids.difference(&stored_ids).take(5).collect::<Vec<_>>()
        );
        for (lock_id, h) in &mine {
            let row = stored[lock_id];
            assert_eq!(row.seats, h.seats, "{lock_id}: seats");
            assert_eq!(row.end_state(), h.expected_end(), "{lock_id} ended elsewhere than its answers said: {h:?}");
        }
        // Every stored hold is a client's and ended where its answers said, so the tally of
        // the stored holds is the tally of what clients were told.
        let ends = recount.ends();
        let sold = ends.sold;
        locks_expired += ends.locks_expired;
        bookings_expired += ends.bookings_expired;
        expired_seats += ends.expired_seats;
        assert_eq!(recount.sold, sold, "sold is the seats of the bookings clients paid for and kept");
        assert_eq!(recount.available, recount.total - sold, "{recount:?}");
        final_events.push((recount.total, recount.available, recount.sold));
    }
    (final_events, locks_expired, bookings_expired, expired_seats)
}
