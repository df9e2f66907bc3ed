//! Hostile input through the functions' real handlers against a real DynamoDB Local: every
//! attack is refused with the contract's 4xx and changes nothing (`booking_tests::hostile`).
//! The same scenario runs over HTTP in `e2e.rs`.
use booking_tests::{hostile, Harness, TEST_SECRET};

#[tokio::test]
async fn hostile_input_is_refused_and_changes_nothing() {
    let h = Harness::new().await;
    hostile::hostile(&h.api(), &h.operator(), TEST_SECRET.as_bytes()).await;
}
