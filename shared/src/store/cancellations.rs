//! Cancelling an event: the event becomes `CANCELLED` at once (no lock passes its condition
//! after that), and the event goes on a work list (`PK = CANCELLATIONS`, `SK = EVENT#<id>`) in
//! the same transaction. The event-cancellation job (`jobs/event_cancellation.rs`) then hands
//! back every live hold of each listed event, one conditional transaction per hold, and takes
//! the event off the list when none is left.
use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::events::{LiveHold, SeatsBack};
use super::expiry::{Outcome, Unreadable};
use super::items::{from_item, key, n, s, to_item, ts, EventItem, Item};
use super::keys;
use super::write::WriteError;
use super::{Store, StoreError};
use crate::domain::booking::BookingStatus;
use crate::domain::event::{Event, EventStatus};
use crate::domain::ids::EventId;
use crate::domain::lock::{self, LockStatus};
use crate::time::Timestamp;
use crate::Error;

const LIST_PK: &str = "CANCELLATIONS";

/// An event on the work list.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    event_id: EventId,
    cancelled_at: Timestamp,
}

impl Store {
    /// `POST /api/events/{id}/cancel`: status `CANCELLED` and the event on the work list, in one
    /// transaction whose condition is that it was not cancelled before. Cancelling again answers
    /// with the event as it is and writes nothing.
    pub async fn cancel_event(&self, id: &EventId, now: Timestamp) -> Result<Event, Error> {
        let cancel = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(keys::event_pk(id), keys::EVENT_SK)))
            .update_expression("SET #status = :cancelled, updatedAt = :now")
            .condition_expression("attribute_exists(PK) AND #status <> :cancelled")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":cancelled", s(EventStatus::Cancelled.as_str()))
            .expression_attribute_values(":now", ts(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::from)?;
        let listed = ListedItem {
            pk: LIST_PK.into(),
            sk: keys::event_pk(id),
            entity: "CANCELLATION".into(),
            event_id: id.clone(),
            cancelled_at: now,
        };
        let list = Put::builder()
            .table_name(self.table())
            .set_item(Some(to_item(&listed)?))
            .build()
            .map_err(StoreError::from)?;
        let writes =
            vec![TransactWriteItem::builder().update(cancel).build(), TransactWriteItem::builder().put(list).build()];
        match self.transact(writes).await {
            Ok(()) => {
                tracing::info!(event_id = %id, "event cancelled; its holds are handed back by the event-cancellation job");
            }
            Err(WriteError::Refused(old)) => match old.first() {
                Some(Some(item)) if !item.is_empty() => {
                    // Cancelled before: the answer is the event as it is.
                    return Ok(Event::from(from_item::<EventItem>(item.clone())?));
                }
                _ => return Err(Error::NotFound("event")),
            },
            Err(WriteError::Store(e)) => return Err(e.into()),
        }
        self.get_event(id).await?.ok_or(Error::NotFound("event"))
    }

    /// One page of the events whose cancellation is not finished (a strongly consistent query of
    /// one small partition).
    pub async fn cancellations_page(&self, start: Option<Item>) -> Result<(Vec<EventId>, Option<Item>), StoreError> {
        let page = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(LIST_PK))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let mut ids = Vec::new();
        for item in page.items() {
            match from_item::<ListedItem>(item.clone()) {
                Ok(listed) => ids.push(listed.event_id),
                Err(e) => {
                    tracing::error!(key = %Unreadable::of(item, "").key, error = %crate::error::chain(&e), "skipped an unreadable item of the cancellation list")
                }
            }
        }
        Ok((ids, page.last_evaluated_key))
    }

    /// Hands one live hold of a cancelled event back, in one transaction: an ACTIVE lock becomes
    /// RELEASED, a PAYMENT_PENDING booking CANCELLED, a CONFIRMED booking CANCELLED and refunded
    /// (`refundedAt`: with the `dev` provider the refund is complete at once); the hold is marked
    /// `eventCancelled` (so a late confirm, pay or cancel is told why) and its seats return. The
    /// condition pins the state that was read; if the hold moved on meanwhile, nothing is written
    /// and the next page (or run) sees it as it is now.
    pub async fn cancel_hold(
        &self,
        event_id: &EventId,
        hold: &LiveHold,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        let update = self.hold_transition(&hold.hold_ref(event_id)?);
        let update = match hold.booking_status {
            None if hold.lock_status == LockStatus::Active => update
                .update_expression(
                    "SET lockStatus = :released, updatedAt = :now, eventCancelled = :yes, expiresAtEpoch = :gone \
                     REMOVE lockExpiryBucket, liveSort",
                )
                .condition_expression("lockStatus = :active AND attribute_not_exists(bookingStatus) AND seats = :seats")
                .expression_attribute_values(":released", s(LockStatus::Released.as_str()))
                .expression_attribute_values(":active", s(LockStatus::Active.as_str()))
                .expression_attribute_values(":gone", n(lock::retained_until(now))),
            Some(status @ (BookingStatus::PaymentPending | BookingStatus::Confirmed)) => {
                let refund = if status == BookingStatus::Confirmed { ", refundedAt = :now" } else { "" };
                update
                    .update_expression(format!(
                        "SET bookingStatus = :cancelled, bookingUpdatedAt = :now, updatedAt = :now, eventCancelled = :yes{refund} \
                         REMOVE bookingExpiryBucket, liveSort"
                    ))
                    .condition_expression("bookingStatus = :seen AND seats = :seats")
                    .expression_attribute_values(":cancelled", s(BookingStatus::Cancelled.as_str()))
                    .expression_attribute_values(":seen", s(status.as_str()))
            }
            // Listed as live but holding nothing the cancellation knows: leave it to recovery.
            _ => return Ok(Outcome::AlreadyHandled),
        }
        .expression_attribute_values(":now", ts(now))
        .expression_attribute_values(":yes", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        .expression_attribute_values(":seats", n(hold.seats.get()))
        .build()?;
        let category = hold.category();
        let back = SeatsBack { category: &category, user_id: &hold.user_id, seats: hold.seats };
        let mut writes = vec![TransactWriteItem::builder().update(update).build()];
        writes.extend(self.return_seats(event_id, &back, now)?);
        match self.transact(writes).await {
            Ok(()) => Ok(Outcome::Expired),
            Err(WriteError::Refused(_)) => Ok(Outcome::AlreadyHandled),
            Err(WriteError::Store(e)) => Err(e),
        }
    }

    /// Takes the event off the work list: its cancellation is complete. `false` if another run
    /// took it off first.
    pub async fn finish_cancellation(&self, event_id: &EventId) -> Result<bool, StoreError> {
        let out = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(LIST_PK.into(), &keys::event_pk(event_id))))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(StoreError::sdk(e)),
        }
    }
}
