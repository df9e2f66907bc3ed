//! Seat locks: take, read, release. Each state change is one `TransactWriteItems` whose
//! conditions carry the rules; see `TABLE_DESIGN.md`.
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};

use super::items::{from_item, hold_from, key, n, s, to_item, HoldItem, IdempotencyItem, Item};
use super::keys;
use super::write::WriteError;
use super::{Store, StoreError};
use crate::domain::event;
use crate::domain::hold::{self, Hold};
use crate::domain::ids::{self, HoldRef};
use crate::domain::lock::{Lock, LockStatus};
use crate::domain::user::Caller;
use crate::Error;

#[derive(Debug, Clone)]
pub struct NewLock {
    pub event_id: String,
    pub user_id: String,
    pub seats: i64,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Locked {
    Created(Lock),
    /// The same request was made before with this key: the lock it made, as it is now.
    Replayed(Lock),
}

pub(crate) fn hold_key(at: &HoldRef) -> Item {
    key(keys::event_pk(&at.event_id), &keys::hold_sk(&at.hash))
}

impl Store {
    /// Takes `seats` for the caller in one transaction of three writes:
    /// 1. put the hold, unless one exists for this (caller, key) on this event;
    /// 2. put the idempotency claim, unless this (caller, key) was used on any event;
    /// 3. `availableSeats -= seats` if the event exists, has that many left and has not started.
    ///
    /// If a condition fails DynamoDB returns the old items, and they say why: an existing hold is
    /// a replay (or key reuse), an existing claim is key reuse, else the event decides between
    /// NOT_FOUND, EVENT_CLOSED and SEATS_UNAVAILABLE. Nothing is read first.
    pub async fn create_lock(&self, req: &NewLock, now: &str, expires_at: &str) -> Result<Locked, Error> {
        let (lock, writes) = self.lock_writes(req, now, expires_at)?;
        let old = match self.transact(writes).await {
            Ok(()) => return Ok(Locked::Created(lock)),
            Err(WriteError::Store(e)) => return Err(e.into()),
            Err(WriteError::Refused(old)) => old,
        };
        if let Some(existing) = hold_from(old.first().and_then(Option::as_ref))? {
            return hold::replayed_lock(existing, &req.event_id, req.seats).map(Locked::Replayed);
        }
        if old.get(1).is_some_and(Option::is_some) {
            return Err(hold::key_reused());
        }
        match old.get(2) {
            Some(Some(event_item)) if event_item.is_empty() => Err(Error::NotFound("event")),
            Some(Some(event_item)) => {
                let event: super::items::EventItem = from_item(event_item.clone())?;
                if !event::is_open(&event.event_date, now) {
                    Err(Error::EventClosed(event.event_date))
                } else {
                    Err(Error::SeatsUnavailable { available: event.available_seats, requested: req.seats })
                }
            }
            _ => Err(Error::Internal("lock refused without a failed condition".into())),
        }
    }

    /// The one `TransactWriteItems` [`Store::create_lock`] sends, and the lock it makes if it
    /// succeeds (the benchmark sends it bare as its baseline).
    pub fn lock_writes(
        &self,
        req: &NewLock,
        now: &str,
        expires_at: &str,
    ) -> Result<(Lock, Vec<TransactWriteItem>), Error> {
        let at = HoldRef { event_id: req.event_id.clone(), hash: ids::hold_hash(&req.user_id, &req.idempotency_key) };
        let hold = HoldItem::new_lock(&at, &req.user_id, req.seats, &req.idempotency_key, now, expires_at);
        let claim = IdempotencyItem {
            pk: keys::idempotency_pk(&req.user_id, &at.hash),
            sk: keys::IDEMPOTENCY_SK.into(),
            entity: "IDEMPOTENCY".into(),
            lock_id: at.lock_id(),
            event_id: req.event_id.clone(),
            seats: req.seats,
            created_at: now.into(),
        };
        let put_new = |item| -> Result<TransactWriteItem, StoreError> {
            Ok(TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(self.table())
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(PK)")
                        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                        .build()?,
                )
                .build())
        };
        let take_seats = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(keys::event_pk(&req.event_id), keys::EVENT_SK)))
            .update_expression("SET availableSeats = availableSeats - :seats, updatedAt = :now ADD #version :one")
            .condition_expression("attribute_exists(PK) AND availableSeats >= :seats AND eventDate > :now")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":seats", n(req.seats))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":one", n(1))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::from)?;
        let writes = vec![
            put_new(to_item(&hold)?)?,
            put_new(to_item(&claim)?)?,
            TransactWriteItem::builder().update(take_seats).build(),
        ];
        Ok((hold.lock(), writes))
    }

    pub async fn get_hold(&self, at: &HoldRef) -> Result<Option<Hold>, Error> {
        Ok(self.hold_item(at).await?.map(|h| h.hold()))
    }

    pub(crate) async fn hold_item(&self, at: &HoldRef) -> Result<Option<HoldItem>, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(hold_key(at)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        out.item.map(from_item).transpose()
    }

    /// An `UpdateItem` on a hold, for the single-item transitions (confirm, pay).
    pub(crate) fn update_hold(&self, at: &HoldRef) -> UpdateItemFluentBuilder {
        self.client().update_item().table_name(self.table()).set_key(Some(hold_key(at)))
    }

    /// The hold half of a transaction that also hands seats back.
    pub(crate) fn hold_transition(&self, at: &HoldRef) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(self.table())
            .set_key(Some(hold_key(at)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
    }

    /// The owner releases an ACTIVE lock; its seats go back in the same transaction.
    /// The read only finds the seat count and renders the answer: the conditions decide.
    pub async fn release_lock(&self, at: &HoldRef, caller: &Caller, now: &str) -> Result<Lock, Error> {
        let current =
            self.hold_item(at).await?.filter(|h| h.user_id == caller.user_id).ok_or(Error::NotFound("lock"))?;
        let release = self
            .hold_transition(at)
            .update_expression("SET lockStatus = :released, updatedAt = :now REMOVE lockExpiryBucket")
            .condition_expression(
                "attribute_exists(PK) AND userId = :caller AND lockStatus = :active AND seats = :seats",
            )
            .expression_attribute_values(":released", s(LockStatus::Released.as_str()))
            .expression_attribute_values(":active", s(LockStatus::Active.as_str()))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":caller", s(&caller.user_id))
            .expression_attribute_values(":seats", n(current.seats))
            .build()
            .map_err(StoreError::from)?;
        let writes = vec![
            TransactWriteItem::builder().update(release).build(),
            self.return_seats(&at.event_id, current.seats, now)?,
        ];
        match self.transact(writes).await {
            Ok(()) => {
                let mut lock = current.lock();
                lock.status = LockStatus::Released;
                lock.updated_at = now.into();
                tracing::info!(lock_id = %lock.id, event_id = %lock.event_id, seats = lock.seats, "lock released");
                Ok(lock)
            }
            Err(WriteError::Refused(old)) => {
                Err(hold::refused_release(hold_from(old.first().and_then(Option::as_ref))?, caller))
            }
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    }
}
