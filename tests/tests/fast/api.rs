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

#[tokio::test]
async fn the_per_user_limit_counts_every_seat_held_and_frees_returned_ones() {
    scenarios::per_user_limit(&Harness::new().await.api()).await;
}

#[tokio::test]
async fn fifty_concurrent_locks_of_one_user_cannot_pass_its_limit_together() {
    scenarios::one_user_racing_its_limit(&Harness::new().await.api(), 50).await;
}

#[tokio::test]
async fn after_the_event_date_nothing_is_locked_confirmed_paid_or_cancelled() {
    scenarios::event_date_closes_the_sale(&Harness::new().await.api(), 3).await;
}

#[tokio::test]
async fn a_cancel_racing_a_payment_never_leaves_a_paid_booking_unrefunded() {
    scenarios::cancel_racing_payment(&Harness::new().await.api(), 30).await;
}

#[tokio::test]
async fn categories_have_their_own_prices_and_seats() {
    scenarios::categories(&Harness::new().await.api()).await;
}

#[tokio::test]
async fn an_admin_changes_an_event_in_one_conditional_write() {
    scenarios::update_event(&Harness::new().await.api()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lowering_seats_while_locks_pour_in_never_oversells_or_goes_negative() {
    scenarios::lower_while_locking(&Harness::new().await.api(), 100).await;
}
