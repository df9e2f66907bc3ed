//! The DynamoDB store: one table, designed in `TABLE_DESIGN.md`, defined once in
//! `infra/dynamodb/table.json` (the local stack, the tests and `template.yaml` all use it).
//!
//! - `keys.rs`: every key and index value, built in one place.
//! - `items.rs`: the stored items (serde_dynamo) and their mapping to domain types.
//! - `write.rs`: conditional writes, reading why a condition failed, retrying conflicts.
//! - `users.rs`, `events.rs`, `locks.rs`, `bookings.rs`: one conditional write per state change.
//! - `cancellations.rs`: cancelling an event, and handing its holds back.
//! - `expiry.rs`: what the jobs write (expiring stale holds, repairing drift).
//! - `event_walk.rs`: recovery's walk over the events (upcoming first) and its bookmark.
//! - `baseline.rs` (feature `bench`): the handlers' requests, exposed for the benchmark only.
#[cfg(feature = "bench")]
pub mod baseline;
pub mod bookings;
pub mod cancellations;
pub mod event_walk;
pub mod events;
pub mod expiry;
pub mod items;
pub mod keys;
pub mod locks;
pub mod table;
pub mod users;
pub mod write;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::Client;

use crate::error::BoxError;

/// What went wrong talking to the table. The SDK's error is kept whole as the source, so the
/// log line (`error::chain`) carries DynamoDB's own code and message.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB request failed")]
    Sdk(#[source] BoxError),
    #[error("stored item does not match its shape")]
    Item(#[from] serde_dynamo::Error),
    #[error("DynamoDB request could not be built")]
    Build(#[from] aws_sdk_dynamodb::error::BuildError),
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    pub fn sdk<E, R>(e: SdkError<E, R>) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        StoreError::Sdk(Box::new(e))
    }
}

/// The table and the client to reach it; cheap to clone (clones share the event terms).
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
    terms: locks::TermsCache,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Store { client, table: table.into(), terms: locks::TermsCache::default() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The item at `key`, read consistently and decoded, or `None` if there is none: every
    /// single-item read of the store.
    pub(crate) async fn read<T: serde::de::DeserializeOwned>(&self, key: items::Item) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        out.item.map(items::from_item).transpose()
    }

    /// Opens the connection to DynamoDB (DNS, TCP, TLS) ahead of the first invocation with one
    /// `GetItem` of a key no item ever has. Only a warm-up: a failure is logged and the first
    /// invocation connects as usual.
    pub async fn open_connection(&self) {
        let key = items::key("WARMUP".into(), "WARMUP");
        let out = self.client.get_item().table_name(&self.table).set_key(Some(key)).send().await;
        if let Err(e) = out {
            tracing::warn!(error = %crate::error::chain(&e), "could not open the DynamoDB connection at start-up");
        }
    }
}
