//! End to end over HTTP against the local stack (DynamoDB Local + `cargo lambda watch` on
//! :3000): the same scenarios as `api.rs`, through the real router, runtime and network.
//! `infra/local/test.sh` starts the stack and runs these with `--ignored`; by hand:
//! `BOOKING_API_URL=http://localhost:3000 cargo test -p booking-tests --test e2e -- --ignored`.
#![recursion_limit = "256"]
use booking_tests::{scenarios, Api};

fn api() -> Api {
    let base = std::env::var("BOOKING_API_URL")
        .expect("BOOKING_API_URL must name the running local stack (infra/local/test.sh sets it)");
    Api::http(&base)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the local stack: infra/local/test.sh runs it"]
async fn concurrent_locks_never_oversell() {
    scenarios::concurrency(&api(), 200, 50, 50).await;
}
