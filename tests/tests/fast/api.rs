//! The contract through the functions' real handlers against a real DynamoDB Local
//! (one table per test, so they run in parallel).
use booking_tests::{scenarios, Harness};

#[tokio::test]
async fn walkthrough() {
    scenarios::walkthrough(&Harness::new().await.api()).await;
}

#[tokio::test]
async fn release_returns_seats_once() {
    scenarios::release(&Harness::new().await.api()).await;
}

#[tokio::test]
async fn cancel_returns_seats_once() {
    scenarios::cancel(&Harness::new().await.api()).await;
}

#[tokio::test]
async fn idempotent_lock_confirm_and_pay() {
    scenarios::idempotency(&Harness::new().await.api()).await;
}

#[tokio::test]
async fn access_rules() {
    scenarios::access(&Harness::new().await.api()).await;
}

#[tokio::test]
async fn contract_errors() {
    scenarios::errors(&Harness::new().await.api()).await;
}

#[tokio::test]
async fn lists_and_cursors() {
    scenarios::lists(&Harness::new().await.api()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_locks_never_oversell() {
    scenarios::concurrency(&Harness::new().await.api(), 200, 50, 200).await;
}
