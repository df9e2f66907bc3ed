//! End to end over HTTP against the local stack (DynamoDB Local + `cargo lambda watch` on
//! :3000): the same scenarios as `fast/api.rs`, through the real router, runtime and network.
//! `infra/local/test.sh` starts the stack and runs these with `--ignored`; by hand:
//! `BOOKING_API_URL=http://localhost:3000 cargo test -p booking-tests --test e2e -- --ignored`.
#![recursion_limit = "256"]
use std::time::{Duration, Instant};

use booking_tests::job_scenarios;
use booking_tests::operator::Operator;
use booking_tests::stack::{LocalStack, StackConfig};
use booking_tests::{scenarios, Api, Jobs};

fn base() -> String {
    std::env::var("BOOKING_API_URL")
        .expect("BOOKING_API_URL must name the running local stack (infra/local/test.sh sets it)")
}

fn api() -> Api {
    Api::http(&base())
}

fn jobs() -> Jobs {
    Jobs::http(&base())
}

/// The stack's DynamoDB, for the edits an operator makes by hand.
fn dynamodb() -> (aws_sdk_dynamodb::Client, String) {
    let endpoint = std::env::var("E2E_DYNAMODB_ENDPOINT").expect("E2E_DYNAMODB_ENDPOINT (infra/local/test.sh sets it)");
    let table = std::env::var("E2E_TABLE").expect("E2E_TABLE (infra/local/test.sh sets it)");
    (booking_tests::client(&endpoint), table)
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn walkthrough() {
    scenarios::walkthrough(&api()).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn release_returns_seats_once() {
    scenarios::release(&api()).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn cancel_returns_seats_once() {
    scenarios::cancel(&api()).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn idempotent_lock_confirm_and_pay() {
    scenarios::idempotency(&api()).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn access_rules() {
    scenarios::access(&api()).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn contract_errors() {
    scenarios::errors(&api()).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn lists_and_cursors() {
    scenarios::lists(&api()).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn the_per_user_limit_holds_over_http() {
    scenarios::per_user_limit(&api()).await;
}

/// Over HTTP the change (events-api) and the locks (locks-api) run in different processes, so
/// the locks' remembered terms are out of date after it: their pins make them retry.
#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn an_admin_changes_an_event_in_one_conditional_write() {
    scenarios::update_event(&api()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn concurrent_locks_of_one_user_never_pass_its_limit() {
    scenarios::one_user_racing_its_limit(&api(), 50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn concurrent_locks_never_oversell() {
    scenarios::concurrency(&api(), 200, 50, 50).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn lock_expiry_job_returns_seats() {
    let (client, table) = dynamodb();
    job_scenarios::lock_expiry(&api(), &jobs(), &Operator { client: &client, table: &table }).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn booking_expiry_job_returns_seats() {
    let (client, table) = dynamodb();
    job_scenarios::booking_expiry(&api(), &jobs(), &Operator { client: &client, table: &table }).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn recovery_job_heals_a_crash() {
    let (client, table) = dynamodb();
    job_scenarios::recovery_heals_crash(&api(), &jobs(), &Operator { client: &client, table: &table }).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn admin_recovery_repairs_drift() {
    let (client, table) = dynamodb();
    job_scenarios::recovery_repairs_drift(&api(), &Operator { client: &client, table: &table }, false).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn closed_event_refuses_locks() {
    let (client, table) = dynamodb();
    job_scenarios::closed_event(&api(), &Operator { client: &client, table: &table }).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn a_cancelled_event_hands_every_hold_back() {
    job_scenarios::event_cancellation(&api(), &jobs()).await;
}

#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn categories_over_http() {
    scenarios::categories(&api()).await;
}

/// Starts a stack of the test's own and waits, once it answers, for its start-up recovery (what
/// CloudFormation runs on deploy) to report, so nothing the test writes races that run.
async fn start_and_recover(config: StackConfig) -> LocalStack {
    tokio::task::spawn_blocking(move || {
        let stack = LocalStack::start(&config);
        stack.wait_for_output("recovery (as on deploy)", Duration::from_secs(300));
        stack
    })
    .await
    .unwrap()
}

/// Scenario 3 (docs/API.md) as it happens: a stack runs, crashes leave a stale ACTIVE lock holding
/// seats, the stack is started again and its start-up recovery (what CloudFormation runs on
/// deploy) heals it as the stack starts. Then, with short timers, the stack's own
/// schedule expires a fresh lock with nobody invoking anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn restarted_stack_recovers_and_its_schedule_expires_locks() {
    let base = StackConfig::new("booking-restart").env("LOCK_TTL_SECONDS", "3");
    // No schedule while the leftovers are written: only the start-up recovery may heal them.
    let quiet = base.clone().env("LOCAL_SCHEDULE_SECONDS", "3600");
    let config = base.env("LOCAL_SCHEDULE_SECONDS", "1");
    let first = start_and_recover(quiet).await;
    let api = Api::http(&first.api_url);
    let admin = api.admin().await;
    let (token, user_id) = api.new_user().await;
    let event_id = api.event(&admin, 100).await;
    let client = booking_tests::client(&first.dynamodb_url);
    let op = Operator { client: &client, table: &first.table };
    let locks = job_scenarios::write_crash_leftovers(&api, &op, &admin, &event_id, &user_id).await;
    tokio::task::spawn_blocking(move || first.stop()).await.unwrap();

    let second = start_and_recover(config).await;
    let api = Api::http(&second.api_url);
    let recovery_line = second.printed();
    assert!(recovery_line.contains("\"locksExpired\":2"), "start-up recovery:\n{recovery_line}");
    job_scenarios::assert_crash_healed(&api, &admin, &token, &event_id, &locks).await;

    let lock = api.lock(&token, &event_id, 4, "left-alone").await;
    lock.expect(201);
    let lock_id = scenarios::id(lock.data());
    let started = Instant::now();
    while api.status(&token, "locks", &lock_id).await != "EXPIRED" {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the schedule never expired {lock_id}:\n{}",
            second.printed()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 100);
    tokio::task::spawn_blocking(move || second.stop()).await.unwrap();
}

/// Hostile input over HTTP (`booking_tests::hostile`): refused with the contract's 4xx, nothing
/// changed. The signing key is the stack's (stack.sh's development key unless JWT_SECRET is
/// exported), to make expired tokens.
#[tokio::test]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn hostile_input_is_refused_and_changes_nothing() {
    let (client, table) = dynamodb();
    let key = std::env::var("JWT_SECRET").unwrap_or_else(|_| booking_tests::hostile::LOCAL_STACK_JWT_SECRET.into());
    booking_tests::hostile::hostile(&api(), &Operator { client: &client, table: &table }, key.as_bytes()).await;
}
