//! Conditional writes and what their failures mean.
//!
//! A refused write is not an error: DynamoDB returns the item as it was
//! (`ReturnValuesOnConditionCheckFailure = ALL_OLD`) and the domain reads it to tell the caller
//! why. A `TransactionConflict` (another transaction touched the same item at the same moment) is
//! retried with jittered exponential backoff; the conditions make a retry safe.
use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use rand::Rng;

use super::items::Item;
use super::{Store, StoreError};

/// How many times a conflicting write is tried in all.
pub const MAX_ATTEMPTS: u32 = 6;
const BASE_DELAY_MS: u64 = 20;

#[derive(Debug)]
pub enum WriteError {
    /// A condition failed. For a transaction: per item, in request order, the old item if that
    /// item's condition failed. For a single write: one entry.
    Refused(Vec<Option<Item>>),
    Store(StoreError),
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        WriteError::Store(e)
    }
}

async fn backoff(attempt: u32) {
    let cap = BASE_DELAY_MS << attempt.min(6);
    let ms = rand::thread_rng().gen_range(cap / 2..=cap);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// An `UpdateItem` as [`Store::update`] sends it: the new item back on success, the old one on
/// a refusal (so a refusal is explained without another read).
pub(crate) fn returning_items(request: UpdateItemFluentBuilder) -> UpdateItemFluentBuilder {
    request
        .return_values(ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
}

impl Store {
    /// One `TransactWriteItems`, retried only on conflicts.
    pub async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), WriteError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.client().transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let err = match result {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() {
                let reasons = cancelled.cancellation_reasons();
                if reasons.iter().any(|r| r.code() == Some("ConditionalCheckFailed")) {
                    return Err(WriteError::Refused(
                        reasons
                            .iter()
                            .map(|r| {
                                (r.code() == Some("ConditionalCheckFailed"))
                                    .then(|| r.item().cloned().unwrap_or_default())
                            })
                            .collect(),
                    ));
                }
                if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) && attempt < MAX_ATTEMPTS {
                    tracing::warn!(attempt, "transaction conflict; retrying");
                    backoff(attempt).await;
                    continue;
                }
            }
            if matches!(err.as_service_error(), Some(TransactWriteItemsError::TransactionInProgressException(_)))
                && attempt < MAX_ATTEMPTS
            {
                backoff(attempt).await;
                continue;
            }
            return Err(WriteError::Store(StoreError::sdk(err)));
        }
    }

    /// One conditional `UpdateItem` returning the new item, retried only on conflicts.
    pub async fn update(&self, request: UpdateItemFluentBuilder) -> Result<Item, WriteError> {
        let request = returning_items(request);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match request.clone().send().await {
                Ok(out) => return Ok(out.attributes.unwrap_or_default()),
                Err(err) => match err.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(e)) => {
                        return Err(WriteError::Refused(vec![Some(e.item.clone().unwrap_or_default())]));
                    }
                    Some(UpdateItemError::TransactionConflictException(_)) if attempt < MAX_ATTEMPTS => {
                        tracing::warn!(attempt, "write conflicts with a transaction; retrying");
                        backoff(attempt).await;
                    }
                    _ => return Err(WriteError::Store(StoreError::sdk(err))),
                },
            }
        }
    }
}
