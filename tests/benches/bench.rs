//! The benchmark (`infra/local/bench.sh`, that is `cargo bench -p booking-tests --bench bench`;
//! figures in the README). Against DynamoDB Local, in one
//! run, printed side by side and written to `BENCH_OUT` (target/bench/results.md):
//!
//! a. lock, confirm and pay through the functions' real handlers (API Gateway events in, JSON
//!    out, JWT checked) next to the very DynamoDB request each one makes, built beforehand by the
//!    same store code and sent bare, at the same concurrency: p50/p99 latency and throughput;
//! b. DynamoDB requests per operation, counted by the SDK HTTP client (`tests/src/faults.rs`);
//! c. lock-expiry sweeping stale locks, next to the same expiry transactions sent bare at the
//!    job's concurrency (the baseline knows the keys; the job has to find them);
//! d. every function's release binary (`cargo lambda build --release`) as Lambda runs it, against
//!    a Runtime API of our own: size; init (process start to the first poll for an invocation,
//!    as Lambda counts it) and the first invocation apart, median and worst of BENCH_COLD_STARTS
//!    fresh processes; warm latency and peak memory after N invocations;
//! e. the race of `tests/src/race.rs` (1,000 clients on one event in the test command) bigger:
//!    2,000 clients x 3 rounds on two events;
//! f. the cost of checking an event against its history: one recovery check
//!    (`jobs::recovery::check_event`) and one inventory census of an event with no finished
//!    holds and of one with BENCH_HISTORY of them, both with BENCH_LIVE_HOLDS live holds;
//! g. cancelling an event of BENCH_CANCEL_HOLDS holds (a third each ACTIVE, PAYMENT_PENDING,
//!    CONFIRMED, made by the store's own writes): the booking-expiry runs (with their Lambda
//!    budget) until every hold is handed back.
//!
//! BENCH_SECTIONS (abcdefg) runs only the sections it names. Sizes: BENCH_CONCURRENCY (16),
//! BENCH_OPS (2000 per operation and variant), BENCH_SWEEP_LOCKS (10000), BENCH_COLD_STARTS (10),
//! BENCH_INVOCATIONS (1000), BENCH_RACE_CLIENTS (2000), BENCH_RACE_ROUNDS (3), BENCH_HISTORY
//! (100000), BENCH_LIVE_HOLDS (200), BENCH_HISTORY_RUNS (7), BENCH_CANCEL_HOLDS (5000).
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use booking_shared::domain::booking::PaymentReference;
use booking_shared::domain::ids::{EventId, HoldRef, UserId};
use booking_shared::domain::lock::{IdempotencyKey, NewLock, Seats, Window};
use booking_shared::domain::user::{Caller, Role};
use booking_shared::jobs;
use booking_shared::store::expiry::StaleHold;
use booking_shared::store::Store;
use booking_shared::time::Timestamp;
use booking_tests::race::{self, RaceConfig};
use booking_tests::runtime_api::{function_binary, local_env, FunctionProcess, RuntimeApi};
use booking_tests::{apigw_event, operator, request_counts, Api, Harness, Payload, Reply};
use futures::StreamExt;
use serde_json::{json, Value};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Latencies of one measured run.
struct Stats {
    n: usize,
    wall: Duration,
    sorted: Vec<Duration>,
}

impl Stats {
    fn quantile(&self, q: f64) -> Duration {
        self.sorted[((self.sorted.len() as f64 - 1.0) * q).round() as usize]
    }
    /// Two runs as one: all their latencies, their wall times added.
    fn merge(mut self, other: Stats) -> Stats {
        self.sorted.extend(other.sorted);
        self.sorted.sort();
        Stats { n: self.n + other.n, wall: self.wall + other.wall, sorted: self.sorted }
    }

    fn per_second(&self) -> f64 {
        self.n as f64 / self.wall.as_secs_f64()
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Runs `op(worker, i)` for `per_worker` values of `i` on each of `workers` tasks at once.
async fn measure<F, Fut>(workers: usize, per_worker: usize, op: F) -> Stats
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(per_worker);
                for i in 0..per_worker {
                    let t = Instant::now();
                    op(w, i).await;
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let mut sorted = Vec::new();
    for t in tasks {
        sorted.extend(t.await.expect("benchmark task"));
    }
    let wall = started.elapsed();
    sorted.sort();
    Stats { n: sorted.len(), wall, sorted }
}

/// Sends requests built beforehand, `requests[w]` one after the other by worker `w`, all
/// workers at once; only the sending is timed.
async fn send_bare<R, Fut, O, E>(requests: Vec<Vec<R>>, what: &'static str, send: fn(R) -> Fut) -> Stats
where
    R: Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
    E: std::fmt::Debug,
{
    let longest = requests.iter().map(Vec::len).max().unwrap_or(0);
    let requests = Arc::new(requests);
    measure(requests.len(), longest, move |w, i| {
        let request = requests[w].get(i).cloned();
        async move {
            if let Some(request) = request {
                send(request).await.expect(what);
            }
        }
    })
    .await
}

/// What the benchmark prints and writes.
struct Out(String);

impl Out {
    fn line(&mut self, text: impl AsRef<str>) {
        println!("{}", text.as_ref());
        self.0.push_str(text.as_ref());
        self.0.push('\n');
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_string()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_string())))
        .and_then(|kb| kb.trim_end_matches(" kB").parse::<u64>().ok())
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let ddb =
        booking_tests::dynamodb_local_dir().file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    format!("{cores} cores ({cpu}), {memory} RAM; DynamoDB Local {ddb} (in memory, same machine)")
}

struct Worker {
    token: String,
    user_id: String,
    event_id: String,
}

/// a. Handlers next to the bare requests they send.
async fn latency(out: &mut Out, workers: usize, ops: usize) {
    let harness = Harness::new().await;
    let api = Arc::new(harness.api());
    let admin = api.admin().await;
    let per_worker = (ops / workers).max(1);
    let warmup = (per_worker / 10).max(2);
    let seats = (2 * (per_worker + warmup)) as i64;
    let mut ws = Vec::new();
    for _ in 0..workers {
        let (token, user_id) = api.new_user().await;
        // One user takes every seat of its event here, so the per-user limit is the highest allowed.
        let event_id = api.event_with(&admin, json!({"totalSeats": seats, "maxSeatsPerUser": 1000})).await;
        ws.push(Worker { token, user_id, event_id });
    }
    let ws = Arc::new(ws);
    let store = harness.store().clone();
    let client = harness.client.clone();

    // A warm-up round (not reported), then two measured rounds of half the operations each:
    // handlers first in one, bare requests first in the other, so neither side gains from
    // running second (a warmer JVM, a fuller table).
    let half = (per_worker / 2).max(1);
    let mut sums: Vec<Option<(Stats, Stats)>> = vec![None, None, None];
    for (round, n, handlers_first) in [("warm-up", warmup, true), ("one", half, true), ("two", half, false)] {
        let mut pairs = Vec::new();
        let (mut h_ids, mut r_ids): (Option<Ids>, Option<Ids>) = (None, None);
        for step in 0..3 {
            let mut h_run = None;
            let mut r_run = None;
            for handlers in if handlers_first { [true, false] } else { [false, true] } {
                if handlers {
                    h_run = Some(match step {
                        0 => handler_locks(&api, &ws, round, n).await,
                        1 => handler_confirms(&api, &ws, h_ids.as_ref().expect("locks"), n).await,
                        _ => handler_pays(&api, &ws, h_ids.as_ref().expect("bookings"), n).await,
                    });
                } else {
                    r_run = Some(match step {
                        0 => raw_locks(&store, &client, &ws, round, n).await,
                        1 => raw_confirms(&store, &ws, r_ids.as_ref().expect("locks")).await,
                        _ => raw_pays(&store, &ws, r_ids.as_ref().expect("bookings")).await,
                    });
                }
            }
            let ((h_stats, h_next), (r_stats, r_next)) = (h_run.expect("handler run"), r_run.expect("bare run"));
            (h_ids, r_ids) = (Some(h_next), Some(r_next));
            pairs.push((h_stats, r_stats));
        }
        if round != "warm-up" {
            for (sum, (h, r)) in sums.iter_mut().zip(pairs) {
                *sum = Some(match sum.take() {
                    None => (h, r),
                    Some((h0, r0)) => (h0.merge(h), r0.merge(r)),
                });
            }
        }
    }
    let names = [
        "lock (`POST /api/locks`, TransactWriteItems)",
        "confirm (`POST /api/bookings/confirm`, UpdateItem)",
        "pay (`POST /api/bookings/{id}/pay`, UpdateItem)",
    ];
    let rows: Vec<(&str, (Stats, Stats))> =
        names.into_iter().zip(sums).map(|(name, s)| (name, s.expect("measured"))).collect();
    let per_worker = 2 * half;
    out.line(format!(
        "\n### a. Handlers vs the bare DynamoDB request ({workers} at a time, {} of each)\n",
        workers * per_worker
    ));
    out.line("| operation | handler p50 ms | handler p99 ms | handler ops/s | bare p50 ms | bare p99 ms | bare ops/s | overhead (p50 ratio) | throughput ratio |");
    out.line("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, (h, r)) in rows {
        out.line(format!(
            "| {name} | {} | {} | {:.0} | {} | {} | {:.0} | {:.2} | {:.2} |",
            ms(h.quantile(0.5)),
            ms(h.quantile(0.99)),
            h.per_second(),
            ms(r.quantile(0.5)),
            ms(r.quantile(0.99)),
            r.per_second(),
            h.quantile(0.5).as_secs_f64() / r.quantile(0.5).as_secs_f64(),
            h.per_second() / r.per_second(),
        ));
    }
}

type Ids = Arc<Vec<Vec<String>>>;

/// Collects one id per (worker, i) from a measured run.
fn slots(workers: usize, n: usize) -> Arc<Vec<std::sync::Mutex<Vec<String>>>> {
    Arc::new((0..workers).map(|_| std::sync::Mutex::new(vec![String::new(); n])).collect())
}

fn collect(slots: Arc<Vec<std::sync::Mutex<Vec<String>>>>) -> Ids {
    Arc::new(slots.iter().map(|s| s.lock().unwrap().clone()).collect())
}

async fn handler_locks(api: &Arc<Api>, ws: &Arc<Vec<Worker>>, round: &str, n: usize) -> (Stats, Ids) {
    let ids = slots(ws.len(), n);
    let (api, ws2, ids2, round) = (api.clone(), ws.clone(), ids.clone(), round.to_string());
    let stats = measure(ws.len(), n, move |w, i| {
        let (api, ws, ids, key) = (api.clone(), ws2.clone(), ids2.clone(), format!("h-{round}-{w}-{i}"));
        async move {
            let r = api.lock(&ws[w].token, &ws[w].event_id, 1, &key).await;
            r.expect(201);
            ids[w].lock().unwrap()[i] = r.data()["_id"].as_str().expect("lock id").to_string();
        }
    })
    .await;
    (stats, collect(ids))
}

async fn raw_locks(store: &Store, client: &Client, ws: &Arc<Vec<Worker>>, round: &str, n: usize) -> (Stats, Ids) {
    let life = Window::starting(Timestamp::now(), 600);
    let one = Seats::try_from(1).expect("one seat");
    let mut requests = Vec::new();
    let mut ids = Vec::new();
    for (w, worker) in ws.iter().enumerate() {
        let (mut reqs, mut wids) = (Vec::new(), Vec::new());
        let event_id = EventId::parse(&worker.event_id).expect("an event id");
        let terms = store.get_event(&event_id).await.expect("event").expect("event exists").terms();
        for i in 0..n {
            let new = NewLock {
                event_id: event_id.clone(),
                user_id: UserId::parse(&worker.user_id).expect("a user id"),
                category: None,
                seats: one,
                idempotency_key: IdempotencyKey::parse(&format!("r-{round}-{w}-{i}")).expect("a key"),
                life,
            };
            let (lock, writes) = store.baseline_lock(&new, &terms).expect("lock request");
            wids.push(lock.id.to_string());
            reqs.push(client.transact_write_items().set_transact_items(Some(writes)));
        }
        requests.push(reqs);
        ids.push(wids);
    }
    let stats = send_bare(requests, "bare lock transaction", |r| r.send()).await;
    (stats, Arc::new(ids))
}

async fn handler_confirms(api: &Arc<Api>, ws: &Arc<Vec<Worker>>, locks: &Ids, n: usize) -> (Stats, Ids) {
    let ids = slots(ws.len(), n);
    let (api, ws2, ids2, locks) = (api.clone(), ws.clone(), ids.clone(), locks.clone());
    let stats = measure(ws.len(), n, move |w, i| {
        let (api, ws, ids, locks) = (api.clone(), ws2.clone(), ids2.clone(), locks.clone());
        async move {
            let booking = api.confirm(&ws[w].token, &locks[w][i]).await;
            ids[w].lock().unwrap()[i] = booking["_id"].as_str().expect("booking id").to_string();
        }
    })
    .await;
    (stats, collect(ids))
}

fn caller(worker: &Worker) -> Caller {
    Caller { user_id: UserId::parse(&worker.user_id).expect("a user id"), role: Role::User }
}

async fn raw_confirms(store: &Store, ws: &Arc<Vec<Worker>>, locks: &Ids) -> (Stats, Ids) {
    let window = Window::starting(Timestamp::now(), 600);
    let mut requests = Vec::new();
    let mut ids = Vec::new();
    for (w, worker) in ws.iter().enumerate() {
        let holds: Vec<HoldRef> = locks[w].iter().map(|id| HoldRef::parse_lock_id(id).expect("lock id")).collect();
        ids.push(holds.iter().map(|h| h.booking_id().to_string()).collect());
        requests.push(holds.iter().map(|h| store.baseline_confirm(h, &caller(worker), window)).collect::<Vec<_>>());
    }
    let stats = send_bare(requests, "bare confirm update", |r| r.send()).await;
    (stats, Arc::new(ids))
}

async fn handler_pays(api: &Arc<Api>, ws: &Arc<Vec<Worker>>, bookings: &Ids, n: usize) -> (Stats, Ids) {
    let (api, ws2, bookings) = (api.clone(), ws.clone(), bookings.clone());
    let stats = measure(ws.len(), n, move |w, i| {
        let (api, ws, bookings) = (api.clone(), ws2.clone(), bookings.clone());
        async move {
            api.pay(&ws[w].token, &bookings[w][i]).await.expect(200);
        }
    })
    .await;
    (stats, Arc::new(Vec::new()))
}

async fn raw_pays(store: &Store, ws: &Arc<Vec<Worker>>, bookings: &Ids) -> (Stats, Ids) {
    let now = Timestamp::now();
    let reference = PaymentReference::parse("ref-1").expect("a reference");
    let requests: Vec<Vec<_>> = ws
        .iter()
        .enumerate()
        .map(|(w, worker)| {
            bookings[w]
                .iter()
                .map(|id| {
                    let booking = HoldRef::parse_booking_id(id).expect("booking id");
                    store.baseline_pay(&booking, &caller(worker), &reference, now)
                })
                .collect()
        })
        .collect();
    let stats = send_bare(requests, "bare pay update", |r| r.send()).await;
    (stats, Arc::new(Vec::new()))
}

/// b. DynamoDB requests per operation, counted on the wire.
async fn requests(out: &mut Out) {
    out.line("\n### b. DynamoDB requests per operation (counted by the SDK HTTP client)\n");
    out.line("| operation | answer | DynamoDB requests |");
    out.line("|---|---:|---|");
    for row in request_counts::per_operation().await {
        out.line(format!("| {} | {} | {} |", row.operation, row.status, row.requests_text()));
    }
}

/// Seeds `locks` stale one-seat locks, 100 per event, as `create_lock` would have left them with
/// an `expiresAt` in the past: the items its transaction puts (hold and idempotency claim), in
/// `BatchWriteItem`s, then each event's seats taken in one update. Their refs.
async fn seed_stale_locks(harness: &Harness, locks: usize) -> Vec<StaleHold> {
    let api = harness.api();
    let admin = api.admin().await;
    let store = harness.store();
    let now = Timestamp::now();
    // Created now, expired a minute ago: already past its deadline.
    let life = Window { from: now, until: now.plus_seconds(-60) };
    let bench_user = UserId::generate();
    let mut refs = Vec::new();
    let mut puts = Vec::new();
    for chunk in (0..locks).collect::<Vec<_>>().chunks(100) {
        let event_id = api.event(&admin, 100).await;
        let terms = store.get_event(&EventId::parse(&event_id).expect("id")).await.expect("event").expect("it").terms();
        for k in chunk {
            let new = NewLock {
                event_id: EventId::parse(&event_id).expect("an event id"),
                user_id: bench_user.clone(),
                category: None,
                seats: Seats::try_from(1).expect("one seat"),
                idempotency_key: IdempotencyKey::parse(&format!("stale-{k}")).expect("a key"),
                life,
            };
            let (lock, writes) = store.baseline_lock(&new, &terms).expect("lock request");
            refs.push(StaleHold {
                event_id: lock.event_id.clone(),
                lock_id: lock.id.clone(),
                user_id: lock.user_id.clone(),
                booking_id: None,
                category_id: Some(lock.category_id.clone()),
                seats: lock.seats,
            });
            puts.extend(writes.into_iter().filter_map(|w| w.put).map(|p| {
                let put = PutRequest::builder().set_item(Some(p.item)).build().expect("put");
                WriteRequest::builder().put_request(put).build()
            }));
        }
        operator::Operator { client: &harness.client, table: &harness.deps.settings.table_name }
            .shift_available(&event_id, -(chunk.len() as i64))
            .await;
    }
    let batches: Vec<Vec<WriteRequest>> = puts.chunks(25).map(<[_]>::to_vec).collect();
    futures::stream::iter(batches)
        .for_each_concurrent(8, |batch| async {
            let mut pending = HashMap::from([(harness.deps.settings.table_name.clone(), batch)]);
            while !pending.is_empty() {
                let out = harness.client.batch_write_item().set_request_items(Some(pending)).send().await;
                pending = out.expect("seed batch").unprocessed_items.unwrap_or_default();
            }
        })
        .await;
    refs
}

/// c. The sweeper next to the same writes sent bare.
async fn sweep(out: &mut Out, locks: usize) {
    let workers = jobs::CONCURRENCY;
    let job_world = Harness::new().await;
    let bare_world = Harness::new().await;
    let seeded = Instant::now();
    seed_stale_locks(&job_world, locks).await;
    let bare_refs = seed_stale_locks(&bare_world, locks).await;
    println!("(seeded 2 x {locks} stale locks in {:.1} s)", seeded.elapsed().as_secs_f64());

    let started = Instant::now();
    let report = booking_tests::Jobs::InProcess(job_world.store().clone()).run("lock-expiry").await;
    let job = started.elapsed();
    assert_eq!(report["locksExpired"], json!(locks), "{report}");
    assert_eq!(report["complete"], json!(true), "{report}");

    let now = Timestamp::now();
    let store = bare_world.store();
    let requests: Vec<_> = bare_refs
        .iter()
        .map(|hold| {
            let writes = store.baseline_expire_lock(hold, now).expect("expiry request");
            bare_world.client.transact_write_items().set_transact_items(Some(writes))
        })
        .collect();
    let by_worker = requests.chunks(locks.div_ceil(workers)).map(<[_]>::to_vec).collect();
    let bare = send_bare(by_worker, "bare expiry transaction", |r| r.send()).await;
    for world in [&job_world, &bare_world] {
        let mut cursor = None;
        loop {
            let (events, next) = world.store().list_events(100, cursor.as_deref()).await.expect("events");
            for event in events {
                assert_eq!(event.available_seats, 100, "every seat back on {}", event.id);
            }
            let Some(next) = next else { break };
            cursor = Some(next);
        }
    }
    let (job_rate, bare_rate) = (locks as f64 / job.as_secs_f64(), locks as f64 / bare.wall.as_secs_f64());
    out.line(format!("\n### c. Sweeper: {locks} stale locks, {workers} writes at a time\n"));
    out.line("| | wall s | locks/s | of bare |");
    out.line("|---|---:|---:|---:|");
    out.line(format!(
        "| lock-expiry (query the index, page, expire) | {:.2} | {job_rate:.0} | {:.2} |",
        job.as_secs_f64(),
        job_rate / bare_rate
    ));
    out.line(format!(
        "| bare expiry transactions (keys known) | {:.2} | {bare_rate:.0} | 1.00 |",
        bare.wall.as_secs_f64()
    ));
}

/// d. Each function binary as Lambda runs it.
async fn functions(out: &mut Out, cold_starts: usize, invocations: usize) {
    let endpoint = booking_tests::dynamodb().await;
    let harness = Harness::new().await;
    let api = harness.api();
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    // Locks rotate over four users, each well inside the event's per-user limit.
    let lockers: Vec<String> =
        futures::future::join_all((0..4).map(|_| api.new_user())).await.into_iter().map(|(t, _)| t).collect();
    let event_id = api.event_with(&admin, json!({"totalSeats": 100_000, "maxSeatsPerUser": 1000})).await;
    for i in 0..3 {
        let lock = api.lock(&token, &event_id, 1, &format!("seed-{i}")).await;
        api.confirm(&token, lock.data()["_id"].as_str().expect("lock id")).await;
    }
    let env = local_env(&endpoint, &harness.deps.settings.table_name);
    let bearer = |t: &str| format!("Bearer {t}");
    let http = |method: &str, path: &str, body: Option<Value>, t: &str| {
        let payload = body.map(Payload::Json).unwrap_or(Payload::None);
        apigw_event(method, path, payload, &[("authorization", &bearer(t))])
    };
    type MakeEvent<'a> = Box<dyn Fn(usize) -> Value + 'a>;
    let functions: Vec<(&str, MakeEvent)> = vec![
        ("users-api", Box::new(|_| http("GET", "/api/users/me", None, &token))),
        ("events-api", Box::new(|_| http("GET", &format!("/api/events/{event_id}"), None, &token))),
        (
            "locks-api",
            Box::new(|i| {
                let body = json!({"eventId": event_id, "seats": 1, "idempotencyKey": format!("bench-{i}")});
                http("POST", "/api/locks", Some(body), &lockers[i % lockers.len()])
            }),
        ),
        ("bookings-api", Box::new(|_| http("GET", "/api/bookings", None, &token))),
        ("admin-api", Box::new(|_| http("POST", "/api/admin/recovery", None, &admin))),
        ("lock-expiry", Box::new(|_| json!({}))),
        ("booking-expiry", Box::new(|_| json!({}))),
        ("recovery", Box::new(|_| json!({}))),
    ];
    out.line(format!(
        "\n### d. Function binaries (release, as packaged): {cold_starts} cold starts each, then {invocations} warm invocations\n"
    ));
    out.line("Init: process start to its first `GET /2018-06-01/runtime/invocation/next`, as Lambda counts it");
    out.line("(the process is started with posix_spawn, as a runtime is, not by forking this benchmark).");
    out.line("First invocation: that poll to the first answer. Warm: later invocations, one at a time.\n");
    out.line("| function | bytes | init median ms | init worst ms | first invocation median ms | first invocation worst ms | warm p50 ms | warm p99 ms | peak memory MiB |");
    out.line("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, make) in functions {
        let binary = function_binary(name, true);
        let size = std::fs::metadata(&binary).expect("binary").len();
        let (mut init, mut first) = (Vec::new(), Vec::new());
        let mut last = None;
        for spawn in 0..cold_starts {
            let runtime = RuntimeApi::start(Duration::from_secs(300)).await;
            let pending = tokio::spawn({
                let (runtime, event) = (runtime.clone(), make(spawn));
                async move { runtime.invoke(event).await }
            });
            let process = FunctionProcess::spawn_for_timing(&binary, name, &runtime, &env);
            let answer = pending.await.expect("invocation").unwrap_or_else(|e| panic!("{name}: {e:?}"));
            check(name, &answer);
            let polled = runtime.first_poll().expect("the function polled");
            init.push(polled - process.started);
            first.push(runtime.first_answer().expect("the function answered") - polled);
            last = Some((runtime, process));
        }
        let (runtime, process) = last.expect("BENCH_COLD_STARTS is at least 1");
        let mut warm = Vec::new();
        for i in cold_starts..cold_starts + invocations {
            let t = Instant::now();
            let answer = runtime.invoke(make(i)).await.unwrap_or_else(|e| panic!("{name}: {e:?}"));
            warm.push(t.elapsed());
            check(name, &answer);
        }
        warm.sort();
        let stats = Stats { n: warm.len(), wall: Duration::ZERO, sorted: warm };
        out.line(format!(
            "| {name} | {size} | {} | {} | {} | {} | {} | {} | {:.1} |",
            ms(median(&mut init)),
            ms(*init.iter().max().expect("samples")),
            ms(median(&mut first)),
            ms(*first.iter().max().expect("samples")),
            ms(stats.quantile(0.5)),
            ms(stats.quantile(0.99)),
            process.peak_memory_kib() as f64 / 1024.0
        ));
    }
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2
    }
}

/// g. An event of `holds` one-seat holds (a third ACTIVE, a third PAYMENT_PENDING, a third
/// CONFIRMED, made by the store's own lock, confirm and pay) cancelled, then handed back by
/// booking-expiry runs of 55 s each (the deployed function's budget) until none is left.
async fn cancellation(out: &mut Out, holds: usize) {
    let harness = Harness::new().await;
    let (api, store) = (harness.api(), harness.store());
    let admin = api.admin().await;
    let event_id = api.event_with(&admin, json!({"totalSeats": holds.max(1), "maxSeatsPerUser": 1000})).await;
    let event = operator::event_id(&event_id);
    let users: Vec<UserId> = (0..holds.div_ceil(900)).map(|_| UserId::generate()).collect();
    let seeded = Instant::now();
    let make = (0..holds).map(|i| {
        let (event, user) = (event.clone(), users[i % users.len()].clone());
        async move {
            let now = Timestamp::now();
            let req = NewLock {
                event_id: event,
                user_id: user.clone(),
                category: None,
                seats: Seats::try_from(1).expect("one seat"),
                idempotency_key: IdempotencyKey::parse(&format!("cancel-{i}")).expect("key"),
                life: Window::starting(now, 3600),
            };
            store.create_lock(&req).await.expect("lock");
            if i % 3 > 0 {
                let caller = Caller { user_id: user, role: Role::User };
                let at = req.hold_ref();
                let booking = match store.confirm(&at, &caller, Window::starting(now, 3600)).await.expect("confirm") {
                    booking_shared::store::bookings::Confirmed::Created(b) => b,
                    other => panic!("{other:?}"),
                };
                if i % 3 == 2 {
                    let reference = PaymentReference::parse("bench").expect("reference");
                    store
                        .pay(&HoldRef::parse_booking_id(booking.id.as_str()).expect("id"), &caller, &reference, now)
                        .await
                        .expect("pay");
                }
            }
        }
    });
    futures::stream::iter(make).buffer_unordered(16).collect::<Vec<_>>().await;
    println!("(made {holds} holds in {:.1} s)", seeded.elapsed().as_secs_f64());
    api.post(&format!("/api/events/{event_id}/cancel"), json!({}), Some(&admin)).await.expect(200);
    let started = Instant::now();
    let mut runs = 0;
    let (mut released, mut cancelled, mut refunds) = (0, 0, 0);
    loop {
        runs += 1;
        let budget = jobs::Budget::for_duration(Duration::from_secs(55));
        let report = jobs::booking_expiry::run(store, Timestamp::now(), budget).await;
        assert_eq!(report.failures, 0, "{report:?}");
        (released, cancelled, refunds) =
            (released + report.locks_released, cancelled + report.bookings_cancelled, refunds + report.refunds);
        if report.cancellations_finished == 1 {
            break;
        }
        assert!(runs < 20, "the cancellation does not finish: {report:?}");
    }
    let took = started.elapsed();
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), holds as i64, "every seat back: {inv}");
    out.line(format!(
        "\n### g. Cancelling an event of {holds} holds (a third each ACTIVE, PAYMENT_PENDING, CONFIRMED)\n"
    ));
    out.line("| holds | runs of booking-expiry | wall s | holds/s | locks released | bookings cancelled | refunded |");
    out.line("|---:|---:|---:|---:|---:|---:|---:|");
    out.line(format!(
        "| {holds} | {runs} | {:.1} | {:.0} | {released} | {cancelled} | {refunds} |",
        took.as_secs_f64(),
        holds as f64 / took.as_secs_f64()
    ));
}

/// f. One event's check and census with no history and with `history` finished holds, both
/// with `live` live holds (ACTIVE locks made by the store's own lock transaction). The history
/// is seeded with BatchWriteItem (25 items a request, 16 requests at once) as released,
/// expired and cancelled holds look when this code has finished them.
async fn history(out: &mut Out, history: usize, live: usize, runs: usize) {
    let harness = Harness::new().await;
    let (api, op, store) = (harness.api(), harness.operator(), harness.store());
    let admin = api.admin().await;
    let user = UserId::generate();
    let mut events = Vec::new();
    for finished in [0, history] {
        // One user holds every live hold here: the per-user limit is not what is measured.
        let seats = json!({"totalSeats": (live as i64).max(1) * 2, "maxSeatsPerUser": 1000});
        let event = operator::event_id(&api.event_with(&admin, seats).await);
        let locks = (0..live).map(|i| {
            let req = NewLock {
                event_id: event.clone(),
                user_id: user.clone(),
                category: None,
                seats: Seats::try_from(1).expect("one seat"),
                idempotency_key: IdempotencyKey::parse(&format!("live-{finished}-{i}")).expect("key"),
                life: Window::starting(Timestamp::now(), 3600),
            };
            async move { store.create_lock(&req).await.expect("lock") }
        });
        futures::stream::iter(locks).buffer_unordered(16).collect::<Vec<_>>().await;
        let seeded = Instant::now();
        let kinds = [operator::Finished::Released, operator::Finished::Expired, operator::Finished::Cancelled];
        let items = (0..finished)
            .map(|i| operator::seeded_hold(&event, &user, &format!("done-{i}"), Some(kinds[i % 3])))
            .collect();
        op.batch_put(items, 16).await;
        if finished > 0 {
            println!("(seeded {finished} finished holds in {:.1} s)", seeded.elapsed().as_secs_f64());
        }
        events.push((event, finished));
    }
    out.line(format!("\n### f. Checking an event: {live} live holds, with and without history, median of {runs}\n"));
    out.line("| event | finished holds | recovery check ms | inventory census ms | items the census read |");
    out.line("|---|---:|---:|---:|---:|");
    for (event, finished) in &events {
        let (mut checks, mut censuses, mut read) = (Vec::new(), Vec::new(), 0);
        for _ in 0..runs {
            let started = Instant::now();
            let report = jobs::recovery::check_event(
                store,
                event,
                Timestamp::now(),
                jobs::Budget::for_duration(Duration::from_secs(600)),
            )
            .await;
            checks.push(started.elapsed());
            assert_eq!((report.events_checked, report.events_repaired, report.events_skipped), (1, 0, 0), "{report:?}");
            let started = Instant::now();
            let census = store.census(event, Timestamp::now()).await.expect("census").expect("event");
            censuses.push(started.elapsed());
            assert_eq!(census.inventory.counts.locked_seats, live as i64);
            read = census.items_read;
        }
        let name = if *finished == 0 { "no history" } else { "long history" };
        out.line(format!(
            "| {name} | {finished} | {} | {} | {read} |",
            ms(median(&mut checks)),
            ms(median(&mut censuses))
        ));
    }
}

/// e. The race of the test command, bigger.
async fn race(out: &mut Out, clients: usize, rounds: usize) {
    let config = RaceConfig { clients, rounds, events: 2, seats: clients as i64 / 2, ..RaceConfig::ci() };
    let report = race::run(config).await;
    report.assert_every_outcome_happened();
    out.line(format!(
        "\n### e. Race: {clients} clients x {rounds} rounds on 2 events of {} seats, jobs looping (`tests/src/race.rs`)\n",
        clients / 2
    ));
    out.line(format!(
        "Traffic {:.1} s, all {:.1} s (set-up, timers, last job runs, checks). Every check of the test held:",
        report.traffic.as_secs_f64(),
        report.elapsed.as_secs_f64()
    ));
    out.line("invariant on every event, recount equal, no seat sold twice, every acknowledged answer kept.\n");
    out.line("| outcome | count |");
    out.line("|---|---:|");
    for (outcome, n) in &report.counts {
        out.line(format!("| {outcome} | {n} |"));
    }
    for (i, (total, available, sold)) in report.events.iter().enumerate() {
        out.line(format!("| event {i}: total / available / sold at the end | {total} / {available} / {sold} |"));
    }
}

/// An answer must be a success: 2xx for HTTP functions, a report for jobs.
fn check(name: &str, answer: &Value) {
    if answer.get("statusCode").is_some() {
        let reply = Reply::from_lambda(answer);
        assert!(reply.status < 300, "{name} answered {}: {}", reply.status, reply.body);
    } else {
        assert!(answer.get("failures").is_some(), "{name} answered {answer}");
    }
}

#[tokio::main]
async fn main() {
    let workers = setting("BENCH_CONCURRENCY", 16);
    let ops = setting("BENCH_OPS", 2000);
    let sweep_locks = setting("BENCH_SWEEP_LOCKS", 10_000);
    let invocations = setting("BENCH_INVOCATIONS", 1000);
    let path = PathBuf::from(
        std::env::var("BENCH_OUT")
            .unwrap_or_else(|_| booking_tests::repo_root().join("target/bench/results.md").display().to_string()),
    );
    let mut out = Out(String::new());
    let started = Instant::now();
    out.line(format!("## Benchmark, {}\n", Timestamp::now()));
    out.line(format!("Machine: {}.", machine()));
    out.line("Command: `./infra/local/bench.sh` (release build; settings BENCH_* in `tests/benches/bench.rs`).");

    let sections = std::env::var("BENCH_SECTIONS").unwrap_or_else(|_| "abcdefg".into());
    if sections.contains('a') {
        latency(&mut out, workers, ops).await;
    }
    if sections.contains('b') {
        requests(&mut out).await;
    }
    if sections.contains('c') {
        sweep(&mut out, sweep_locks).await;
    }
    if sections.contains('d') {
        functions(&mut out, setting("BENCH_COLD_STARTS", 10).max(1), invocations).await;
    }
    if sections.contains('e') {
        race(&mut out, setting("BENCH_RACE_CLIENTS", 2000), setting("BENCH_RACE_ROUNDS", 3)).await;
    }
    if sections.contains('f') {
        history(
            &mut out,
            setting("BENCH_HISTORY", 100_000),
            setting("BENCH_LIVE_HOLDS", 200),
            setting("BENCH_HISTORY_RUNS", 7),
        )
        .await;
    }

    if sections.contains('g') {
        cancellation(&mut out, setting("BENCH_CANCEL_HOLDS", 5000)).await;
    }

    out.line(format!("\nTotal benchmark time: {:.0} s.", started.elapsed().as_secs_f64()));
    std::fs::create_dir_all(path.parent().expect("parent")).expect("results folder");
    std::fs::write(&path, &out.0).expect("write results");
    println!("\nwritten to {}", path.display());
}
