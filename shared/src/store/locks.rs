//! Seat locks: take, read, release. Each state change is one `TransactWriteItems` whose
//! conditions carry the rules; see `TABLE_DESIGN.md`.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};

use super::events::SeatsBack;
use super::items::{
    from_item, hold_from, key, n, s, to_item, ts, EventItem, HoldItem, IdempotencyItem, Item, UserSeatsItem,
};
use super::keys;
use super::write::WriteError;
use super::{Store, StoreError};
use crate::domain::event::{self, Event, EventStatus, Terms};
use crate::domain::hold::{self, Hold, RefusedLock};
use crate::domain::ids::{EventId, HoldRef};
use crate::domain::lock::{self, Lock, LockStatus, NewLock, Price};
use crate::domain::user::Caller;
use crate::time::Timestamp;
use crate::Error;

#[derive(Debug, Clone, PartialEq)]
pub enum Locked {
    Created(Lock),
    /// The same request was made before with this key: the lock it made, as it is now.
    Replayed(Lock),
}

pub(crate) fn hold_key(hold: &HoldRef) -> Item {
    key(keys::event_pk(&hold.event_id), &keys::hold_sk(&hold.hash))
}

/// The key of one user's seat counter for one event (the per-user limit).
pub(crate) fn user_seats_key(event_id: &EventId, user_id: &crate::domain::ids::UserId) -> Item {
    key(keys::event_pk(event_id), &keys::user_seats_sk(user_id))
}

/// What this process has learnt of events' [`Terms`] (from a read, or from a lock refused because
/// they changed). Never trusted: every lock's condition pins the terms it was written with, so
/// stale terms cost a refusal and a second try, never a wrong answer.
#[derive(Clone, Debug, Default)]
pub(crate) struct TermsCache(Arc<Mutex<HashMap<EventId, Terms>>>);

/// Events whose terms one process remembers; past it the memory starts again (a lock of a
/// forgotten event reads its terms once more).
const TERMS_REMEMBERED: usize = 10_000;

impl TermsCache {
    fn get(&self, id: &EventId) -> Option<Terms> {
        self.0.lock().ok()?.get(id).cloned()
    }

    fn put(&self, id: &EventId, terms: Terms) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= TERMS_REMEMBERED {
                map.clear();
            }
            map.insert(id.clone(), terms);
        }
    }
}

/// A lock is written again only when the event's terms changed between the try and its write.
const LOCK_ATTEMPTS: usize = 3;

impl Store {
    /// Takes `seats` for the caller in one transaction of four writes:
    /// 1. put the hold, unless one exists for this (caller, key) on this event;
    /// 2. put the idempotency claim, unless this (caller, key) was used on any event;
    /// 3. `availableSeats -= seats` if the event exists, has that many left, has not started, and
    ///    its date and `maxSeatsPerUser` are the [`Terms`] the write was built with;
    /// 4. the caller's seat counter for the event `+= seats`, if that stays within the limit.
    ///
    /// If a condition fails DynamoDB returns the old items; the domain reads them and says why
    /// (`hold::refused_lock`): a replay, key reuse, no such event, closed, too few seats, or the
    /// per-user limit. Nothing is read first once this process knows the event's terms; the first
    /// lock of an event it has not seen reads them (one `GetItem`), and terms that changed since
    /// make the write fail and be sent again with the new ones.
    pub async fn create_lock(&self, req: &NewLock) -> Result<Locked, Error> {
        let mut terms = match self.terms.get(&req.event_id) {
            Some(terms) => terms,
            None => match self.event_item(&req.event_id).await? {
                Some(item) => self.learn_terms(Event::from(item)),
                None => return Err(Error::NotFound("event")),
            },
        };
        for _ in 0..LOCK_ATTEMPTS {
            let (lock, writes) = self.lock_writes(req, &terms)?;
            let old = match self.transact(writes).await {
                Ok(()) => return Ok(Locked::Created(lock)),
                Err(WriteError::Store(e)) => return Err(e.into()),
                Err(WriteError::Refused(old)) => old,
            };
            let event = match old.get(2) {
                Some(Some(item)) if item.is_empty() => Some(None),
                Some(Some(item)) => Some(Some(Event::from(from_item::<EventItem>(item.clone())?))),
                _ => None,
            };
            let held_seats = match old.get(3) {
                Some(Some(item)) if item.is_empty() => Some(0),
                Some(Some(item)) => Some(from_item::<UserSeatsItem>(item.clone())?.held_seats),
                _ => None,
            };
            let refused = RefusedLock {
                existing: hold_from(old.first().and_then(Option::as_ref))?,
                key_claimed: old.get(1).is_some_and(Option::is_some),
                event,
                held_seats,
            };
            // Not a replay, and the event's terms are not the ones the write pinned: send it
            // again with the terms the event has now.
            if let Some(Some(event)) = &refused.event {
                if refused.existing.is_none() && !refused.key_claimed && event.terms() != terms {
                    terms = self.learn_terms(event.clone());
                    continue;
                }
            }
            return hold::refused_lock(req, refused, &lock.category_id, terms.max_seats_per_user, req.life.from)
                .map(Locked::Replayed);
        }
        Err(Error::internal_message("the event's terms kept changing while locking"))
    }

    /// Remembers an event's terms (see [`TermsCache`]) and returns them.
    pub(crate) fn learn_terms(&self, event: Event) -> Terms {
        let terms = event.terms();
        self.terms.put(&event.id, terms.clone());
        terms
    }

    /// The one `TransactWriteItems` [`Store::create_lock`] sends for an event with `terms`, and the
    /// lock it makes if it succeeds.
    pub(crate) fn lock_writes(&self, req: &NewLock, terms: &Terms) -> Result<(Lock, Vec<TransactWriteItem>), Error> {
        let (category_id, unit_price) = terms.price_for(req.category.as_ref())?;
        let price = Price { category_id, unit_price, currency: terms.currency.clone() };
        let record = req.hold_ref();
        let hold = HoldItem::new_lock(&record, req, terms.event_date, &price);
        let claim = IdempotencyItem {
            pk: keys::idempotency_pk(&req.user_id, &record.hash),
            sk: keys::IDEMPOTENCY_SK.into(),
            entity: "IDEMPOTENCY".into(),
            lock_id: hold.lock_id.clone(),
            event_id: req.event_id.clone(),
            seats: req.seats,
            created_at: req.life.from,
            expires_at_epoch: lock::retained_until(req.life.from),
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
        let now = req.life.from;
        let take_seats = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(keys::event_pk(&req.event_id), keys::EVENT_SK)))
            .update_expression(
                "SET availableSeats = availableSeats - :seats, \
                 categories.#cat.availableSeats = categories.#cat.availableSeats - :seats, \
                 updatedAt = :now ADD #version :one",
            )
            .condition_expression(
                "attribute_exists(PK) AND #status = :onSale AND eventDate > :now \
                 AND availableSeats >= :seats AND categories.#cat.availableSeats >= :seats \
                 AND eventDate = :date AND maxSeatsPerUser = :max AND categories.#cat.price = :price",
            )
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#cat", price.category_id.as_str())
            .expression_attribute_values(":onSale", s(EventStatus::OnSale.as_str()))
            .expression_attribute_values(":price", n(price.unit_price))
            .expression_attribute_values(":seats", n(req.seats.get()))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":date", ts(terms.event_date))
            .expression_attribute_values(":max", n(terms.max_seats_per_user))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::from)?;
        // The per-user limit: `heldSeats + seats <= max`, written as `heldSeats <= max - seats`. A
        // lock alone over the limit has no room at any count; `heldSeats <= :room` with a
        // negative room then fails whether or not the counter exists.
        let (limit, room) = match event::room_for(req.seats, terms.max_seats_per_user) {
            Some(room) => ("attribute_not_exists(heldSeats) OR heldSeats <= :room", room),
            None => ("heldSeats <= :room", terms.max_seats_per_user - req.seats.get()),
        };
        let count_seats = Update::builder()
            .table_name(self.table())
            .set_key(Some(user_seats_key(&req.event_id, &req.user_id)))
            .update_expression("SET updatedAt = :now ADD heldSeats :seats")
            .condition_expression(limit)
            .expression_attribute_values(":seats", n(req.seats.get()))
            .expression_attribute_values(":room", n(room))
            .expression_attribute_values(":now", ts(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::from)?;
        let writes = vec![
            put_new(to_item(&hold)?)?,
            put_new(to_item(&claim)?)?,
            TransactWriteItem::builder().update(take_seats).build(),
            TransactWriteItem::builder().update(count_seats).build(),
        ];
        Ok((hold.lock(), writes))
    }

    pub async fn get_hold(&self, hold: &HoldRef) -> Result<Option<Hold>, Error> {
        Ok(self.hold_item(hold).await?.map(|h| h.hold()))
    }

    pub(crate) async fn hold_item(&self, hold: &HoldRef) -> Result<Option<HoldItem>, StoreError> {
        self.read(hold_key(hold)).await
    }

    /// An `UpdateItem` on a hold, for the single-item transitions (confirm, pay).
    pub(crate) fn update_hold(&self, hold: &HoldRef) -> UpdateItemFluentBuilder {
        self.client().update_item().table_name(self.table()).set_key(Some(hold_key(hold)))
    }

    /// The hold half of a transaction that also hands seats back.
    pub(crate) fn hold_transition(&self, hold: &HoldRef) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(self.table())
            .set_key(Some(hold_key(hold)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
    }

    /// The owner releases an ACTIVE lock; its seats go back in the same transaction.
    /// The read only finds the seat count and renders the answer: the conditions decide.
    pub async fn release_lock(&self, hold: &HoldRef, caller: &Caller, now: Timestamp) -> Result<Lock, Error> {
        let current = self.hold_item(hold).await?.filter(|h| h.user_id == caller.user_id);
        let Some(current) = current else {
            return Err(hold::refused_release(None, caller));
        };
        let release = self
            .hold_transition(hold)
            .update_expression(
                "SET lockStatus = :released, updatedAt = :now, expiresAtEpoch = :gone REMOVE lockExpiryBucket, liveSort",
            )
            .condition_expression(
                "attribute_exists(PK) AND userId = :caller AND lockStatus = :active AND seats = :seats",
            )
            .expression_attribute_values(":released", s(LockStatus::Released.as_str()))
            .expression_attribute_values(":active", s(LockStatus::Active.as_str()))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":gone", n(lock::retained_until(now)))
            .expression_attribute_values(":caller", s(caller.user_id.as_str()))
            .expression_attribute_values(":seats", n(current.seats.get()))
            .build()
            .map_err(StoreError::from)?;
        let mut writes = vec![TransactWriteItem::builder().update(release).build()];
        let category = current.category();
        let back = SeatsBack { category: &category, user_id: &current.user_id, seats: current.seats };
        writes.extend(self.return_seats(&hold.event_id, &back, now)?);
        match self.transact(writes).await {
            Ok(()) => {
                let mut lock = current.lock();
                lock.status = LockStatus::Released;
                lock.updated_at = now;
                tracing::info!(lock_id = %lock.id, event_id = %lock.event_id, seats = %lock.seats, "lock released");
                Ok(lock)
            }
            Err(WriteError::Refused(old)) => {
                Err(hold::refused_release(hold_from(old.first().and_then(Option::as_ref))?, caller))
            }
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    }
}
