//! A function process killed in the middle of a request, and the client's retry.
//!
//! The real `locks-api` and `bookings-api` binaries run against a Lambda Runtime API of the
//! test's own (`tests/src/runtime_api.rs`) and DynamoDB Local. Each first attempt's process is
//! SIGKILLed - at a range of moments after it took the request, or after its write landed but
//! before its answer got out - and the client retries the same request (same idempotency key,
//! lock id or booking id) on a fresh process, as it would after a 5xx. The seats move once.
//!
//! The binaries are the debug ones `cargo build --bins` makes (`infra/local/test.sh` builds them
//! before the tests).
use std::time::Duration;

use booking_tests::runtime_api::{function_binary, local_env, Failure, FunctionProcess, RuntimeApi};
use booking_tests::{apigw_event, Api, Harness, Payload, Reply};
use serde_json::{json, Value};

/// One function of the workspace, started as fresh Lambda execution environments on demand.
struct Function {
    name: &'static str,
    env: Vec<(String, String)>,
}

impl Function {
    async fn new(name: &'static str, harness: &Harness) -> Self {
        let endpoint = booking_tests::dynamodb().await;
        Function { name, env: local_env(&endpoint, &harness.deps.settings.table_name) }
    }

    /// A cold process with its own Runtime API.
    async fn start(&self) -> (RuntimeApi, FunctionProcess) {
        let api = RuntimeApi::start(Duration::from_secs(30)).await;
        let process = FunctionProcess::spawn(&function_binary(self.name, false), self.name, &api, &self.env);
        (api, process)
    }
}

fn request(path: &str, body: Value, token: &str) -> Value {
    apigw_event("POST", path, Payload::Json(body), &[("authorization", &format!("Bearer {token}"))])
}

/// When the first attempt's process dies.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// After its write and its answer, before the answer reaches the client.
    BeforeTheAnswerGetsOut,
    /// This long after it took the request: before, during or after its DynamoDB write.
    After(Duration),
}

/// Runs `event` on a fresh process that is killed as `kill` says; the answer, if one got out.
async fn attempt_and_kill(function: &Function, event: &Value, kill: Kill) -> Option<Reply> {
    let (runtime, mut process) = function.start().await;
    let outcome = match kill {
        Kill::BeforeTheAnswerGetsOut => {
            runtime.withhold_next_answer();
            let outcome = runtime.invoke(event.clone()).await;
            process.kill();
            outcome
        }
        Kill::After(delay) => {
            let mut handed_out = runtime.handed_out();
            let invocation = tokio::spawn({
                let (runtime, event) = (runtime.clone(), event.clone());
                async move { runtime.invoke(event).await }
            });
            handed_out.changed().await.expect("the runtime API is serving");
            tokio::time::sleep(delay).await;
            process.kill();
            runtime.abandon_taken();
            invocation.await.expect("invocation task")
        }
    };
    match outcome {
        Ok(answer) => Some(Reply::from_lambda(&answer)),
        Err(Failure::Lost) => None,
        Err(Failure::Function(e)) => panic!("{} failed instead of answering: {e}", function.name),
    }
}

/// The client's retry, on a fresh process that is left alone.
async fn retry(function: &Function, event: &Value) -> Reply {
    let (runtime, _process) = function.start().await;
    let answer = runtime.invoke(event.clone()).await.unwrap_or_else(|e| panic!("the retry got no answer: {e:?}"));
    Reply::from_lambda(&answer)
}

/// A fresh table with an admin, a user with a token, an event of 100 seats, and the function.
struct World {
    api: Api,
    admin: String,
    token: String,
    event_id: String,
    function: Function,
}

async fn world(function: &'static str) -> World {
    let harness = Harness::new().await;
    let api = harness.api();
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    // One user takes every seat it can here: the per-user limit is not what is tested.
    let event_id = api.event_with(&admin, json!({"totalSeats": 100, "maxSeatsPerUser": 1000})).await;
    let function = Function::new(function, &harness).await;
    World { api, admin, token, event_id, function }
}

fn kills() -> Vec<Kill> {
    let mut kills = vec![Kill::BeforeTheAnswerGetsOut];
    kills.extend([0, 1, 2, 3, 5, 8, 12, 20, 30, 50, 80].map(|ms| Kill::After(Duration::from_millis(ms))));
    kills
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow proof: infra/local/test.sh runs it (cargo test --test slow -- --ignored)"]
async fn a_lock_retried_after_its_process_was_killed_takes_the_seats_once() {
    let World { api, admin, token, event_id, function: locks } = world("locks-api").await;

    let (mut taken, mut landed_unanswered, mut answered) = (0, 0, 0);
    for (i, kill) in kills().into_iter().enumerate() {
        let seats = 1 + (i % 3) as i64;
        let key = format!("crash-{i}");
        let event = request("/api/locks", json!({"eventId": event_id, "seats": seats, "idempotencyKey": key}), &token);
        let first = attempt_and_kill(&locks, &event, kill).await;
        let again = retry(&locks, &event).await;

        assert!(again.status == 200 || again.status == 201, "{kill:?}: retry answered {}", again.body);
        assert_eq!(again.data()["idempotencyKey"], json!(key));
        assert_eq!(again.data()["seats"], json!(seats));
        match &first {
            Some(first) => {
                first.expect(201);
                answered += 1;
                assert_eq!(again.status, 200, "{kill:?}: the retry of an answered lock is a replay");
                assert_eq!(again.data()["_id"], first.data()["_id"], "{kill:?}: the retry found another lock");
            }
            None if again.status == 200 => landed_unanswered += 1,
            None => {}
        }
        taken += seats;
        let inventory = api.inventory(&admin, &event_id).await;
        assert_eq!(Api::assert_invariant(&inventory), 100 - taken, "{kill:?}: seats taken once: {inventory}");
        assert_eq!(inventory["lockedSeats"], json!(taken), "{kill:?}: {inventory}");
    }
    // The withheld answer makes this certain: at least one write landed with nobody told.
    assert!(landed_unanswered >= 1, "no attempt died between its write and its answer");
    println!("{} attempts: {answered} answered before the kill, {landed_unanswered} wrote but never answered, {} died before writing", kills().len(), kills().len() - answered - landed_unanswered);
}

/// Confirms `lock_id` on a process killed as `kill` says, then retries: one booking, whose
/// seats moved from locked to pending once. The booking's id.
async fn confirm_through_a_kill(w: &World, kill: Kill, lock_id: &str, pending: i64) -> String {
    let confirm = request("/api/bookings/confirm", json!({"lockId": lock_id}), &w.token);
    let first = attempt_and_kill(&w.function, &confirm, kill).await;
    let booking = retry(&w.function, &confirm).await;
    assert!(booking.status == 200 || booking.status == 201, "{kill:?}: confirm retry answered {}", booking.body);
    assert_eq!(booking.data()["status"], json!("PAYMENT_PENDING"));
    if let Some(first) = first {
        first.expect(201);
        assert_eq!(booking.data()["_id"], first.data()["_id"], "{kill:?}: the retry made another booking");
    }
    let booking_id = booking.data()["_id"].as_str().expect("booking id").to_string();
    let inventory = w.api.inventory(&w.admin, &w.event_id).await;
    Api::assert_invariant(&inventory);
    assert_eq!(inventory["pendingSeats"], json!(pending), "{kill:?}: {inventory}");
    assert_eq!(inventory["lockedSeats"], json!(0), "{kill:?}: {inventory}");
    booking_id
}

/// Pays `booking_id` on a process killed as `kill` says, then retries: paid once, its seats
/// moved from pending to sold once.
async fn pay_through_a_kill(w: &World, kill: Kill, i: usize, booking_id: &str, pending: i64, sold: i64) {
    let pay =
        request(&format!("/api/bookings/{booking_id}/pay"), json!({"paymentReference": format!("ref-{i}")}), &w.token);
    let first = attempt_and_kill(&w.function, &pay, kill).await;
    let paid = retry(&w.function, &pay).await;
    paid.expect(200);
    assert_eq!(paid.data()["status"], json!("CONFIRMED"));
    if let Some(first) = first {
        first.expect(200);
        assert_eq!(paid.data()["paidAt"], first.data()["paidAt"], "{kill:?}: paid twice");
    }
    let inventory = w.api.inventory(&w.admin, &w.event_id).await;
    assert_eq!(Api::assert_invariant(&inventory), 100 - sold, "{kill:?}: {inventory}");
    assert_eq!(inventory["soldSeats"], json!(sold), "{kill:?}: seats sold once: {inventory}");
    assert_eq!(inventory["pendingSeats"], json!(pending), "{kill:?}: {inventory}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow proof: infra/local/test.sh runs it (cargo test --test slow -- --ignored)"]
async fn a_confirm_or_payment_retried_after_its_process_was_killed_moves_the_seats_once() {
    let w = world("bookings-api").await;

    let (mut pending, mut sold) = (0, 0);
    for (i, kill) in kills().into_iter().enumerate() {
        let seats = 1 + (i % 3) as i64;
        let lock = w.api.lock(&w.token, &w.event_id, seats, &format!("pay-crash-{i}")).await;
        lock.expect(201);
        let lock_id = lock.data()["_id"].as_str().expect("lock id").to_string();

        pending += seats;
        let booking_id = confirm_through_a_kill(&w, kill, &lock_id, pending).await;
        pending -= seats;
        sold += seats;
        pay_through_a_kill(&w, kill, i, &booking_id, pending, sold).await;
    }
}
