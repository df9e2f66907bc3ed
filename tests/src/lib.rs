//! Test harness shared by the tests that cross crates, by concern:
//!
//! - [`dynamodb`]: a real DynamoDB Local (started once per test process, or `DYNAMODB_ENDPOINT`).
//! - [`harness`]: [`Harness::new`], a fresh table for one test, so tests run in parallel and in
//!   any order.
//! - [`api`]: [`Api`], the same calls either in-process through the functions' real handlers or
//!   over HTTP against the local stack, so one scenario runs both ways; [`apigw`] builds the
//!   API Gateway v2 events and picks the function for the in-process calls.
//! - [`job_runner`]: [`Jobs`], the three jobs in-process or through the stack's invoke API.
//! - the scenarios the test binaries run (`scenarios`, `job_scenarios`, `hostile`, `race`, ...)
//!   and the fault and process harnesses the slow proofs use.
#![recursion_limit = "256"]
use std::path::PathBuf;

pub mod api;
pub mod apigw;
pub mod disk_dynamodb;
pub mod dynamodb;
pub mod fake_http;
pub mod faults;
pub mod harness;
pub mod hostile;
pub mod job_runner;
pub mod job_scenarios;
pub mod operator;
pub mod race;
pub mod recount;
pub mod request_counts;
pub mod runtime_api;
pub mod scenarios;
pub mod stack;

pub use api::{Api, Payload, Reply};
pub use apigw::{apigw_event, function_for};
pub use dynamodb::{
    client, die_with_parent, dynamodb, dynamodb_local_command, dynamodb_local_dir, free_port, local_config,
};
pub use harness::{settings, Harness};
pub use job_runner::{assert_report, Jobs};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret!";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
