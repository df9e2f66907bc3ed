//! The slow tier: proofs under load and faults, minutes each on a small machine. Every test is
//! `#[ignore]`d so plain `cargo test --workspace` only compiles them; `infra/local/test.sh` (and
//! CI) runs them with
//!
//! ```sh
//! cargo build --bins   # function_crash runs the debug function binaries
//! cargo test -p booking-tests --test slow -- --ignored
//! ```
#![recursion_limit = "256"]

/// Killing DynamoDB Local mid-load.
mod dynamodb_restart;
/// Killing a function process mid-request.
mod function_crash;
/// 1,000 concurrent clients with the jobs looping.
mod races;
