//! Everything the booking functions share. The module names are the architecture:
//!
//! - [`domain`]: entities, state machines and the rules (lock expiry, seat accounting); no AWS types.
//! - [`store`]: the DynamoDB single table: keys, items and the conditional writes that carry the rules.
//!   The table design is written down in `store/TABLE_DESIGN.md`.
//! - [`http`]: the API Gateway edge: request parsing, auth, the `{success, data}` envelope and the
//!   one function that maps errors to status codes.
//! - [`auth`]: Argon2id password hashes and HS256 bearer tokens.
//! - [`jobs`]: lock expiry, booking expiry and recovery.
//! - [`config`]: settings read once from the environment; [`app`]: the dependencies a handler gets;
//!   [`aws`]: the SDK clients, built from the Lambda environment.
pub mod app;
pub mod auth;
pub mod aws;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod store;
pub mod telemetry;
pub mod time;

pub use app::Deps;
pub use error::Error;
