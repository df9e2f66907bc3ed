//! The fast tier: what plain `cargo test --workspace` runs while you work. Everything here is
//! in-process - the functions' real handlers and jobs against a real DynamoDB Local that the
//! harness starts once for this binary (one table per test, so they run in parallel) - and
//! quick. The slow proofs are in `tests/tests/slow/` and `e2e.rs`, run by `infra/local/test.sh`.
#![recursion_limit = "256"]

/// The contract through the real handlers.
mod api;
/// The signing key from Secrets Manager.
mod config;
/// Cost bounded by live holds, not history: the census, TTL, recovery's order, bookmark, deadline.
mod history;
/// Hostile input refused, nothing changed.
mod hostile;
/// Expiry, recovery, duplicate and racing runs, injected conflicts, the CloudFormation answer.
mod jobs;
/// What operations relies on: alarms on emitted metrics, least-privilege IAM, CORS in prod.
mod operations;
/// DynamoDB requests per operation, counted on the wire.
mod requests;
/// Who is an admin, and when a role change takes effect.
mod roles;
/// One set of routes and one table everywhere they are written down.
mod routes;
