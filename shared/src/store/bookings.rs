//! Bookings: confirm a lock, pay, cancel, list. Confirm and pay change one hold item with one
//! conditional `UpdateItem`; cancel hands seats back, so it is one `TransactWriteItems`.
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::TransactWriteItem;

use super::events::SeatsBack;
use super::items::{decode_cursor, encode_cursor, from_item, hold_from, n, s, ts, EventItem, HoldItem};
use super::keys::{self, ExpiryKind};
use super::write::WriteError;
use super::{Store, StoreError};
use crate::domain::booking::{Booking, BookingStatus, PaymentReference};
use crate::domain::hold;
use crate::domain::ids::{HoldRef, UserId};
use crate::domain::lock::{LockStatus, Window};
use crate::domain::user::Caller;
use crate::time::Timestamp;
use crate::Error;

/// How often cancel re-reads when the booking changed under it (paid while being cancelled).
const CANCEL_ATTEMPTS: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub enum Confirmed {
    Created(Booking),
    /// The lock was confirmed before: that booking, as it is now.
    Replayed(Booking),
}

fn booking_of(item: super::items::Item) -> Result<Booking, Error> {
    from_item::<HoldItem>(item)?.booking().ok_or_else(|| Error::internal_message("written booking is incomplete"))
}

impl Store {
    /// The lock's owner turns an ACTIVE, unexpired lock into a PAYMENT_PENDING booking whose
    /// payment window is `window` (from now). The seats stay taken; the hold leaves the
    /// LockExpiryIndex and enters the BookingExpiryIndex.
    pub async fn confirm(&self, hold: &HoldRef, caller: &Caller, window: Window) -> Result<Confirmed, Error> {
        match self.update(self.confirm_request(hold, caller, window)).await {
            Ok(item) => {
                let booking = booking_of(item)?;
                tracing::info!(booking_id = %booking.id, lock_id = %booking.seat_lock_id, seats = %booking.seats, "lock confirmed");
                Ok(Confirmed::Created(booking))
            }
            Err(WriteError::Refused(old)) => {
                hold::refused_confirm(hold_from(old.first().and_then(Option::as_ref))?, caller, window.from)
                    .map(Confirmed::Replayed)
            }
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    }

    /// The one `UpdateItem` [`Store::confirm`] sends (before [`Store::update`] asks for the
    /// item back).
    pub(crate) fn confirm_request(&self, hold: &HoldRef, caller: &Caller, window: Window) -> UpdateItemFluentBuilder {
        let booking_id = hold.booking_id();
        let now = window.from;
        self.update_hold(hold)
            .update_expression(
                "SET lockStatus = :consumed, updatedAt = :now, bookingId = :booking, bookingStatus = :pending, \
                 paymentExpiresAt = :deadline, bookingCreatedAt = :now, bookingUpdatedAt = :now, \
                 bookingExpiryBucket = :bucket, userKey = :userKey, userSort = :userSort REMOVE lockExpiryBucket",
            )
            .condition_expression(
                "attribute_exists(PK) AND userId = :caller AND lockStatus = :active AND expiresAt >= :now \
                 AND (attribute_not_exists(eventDate) OR eventDate > :now)",
            )
            .expression_attribute_values(":consumed", s(LockStatus::Consumed.as_str()))
            .expression_attribute_values(":active", s(LockStatus::Active.as_str()))
            .expression_attribute_values(":pending", s(BookingStatus::PaymentPending.as_str()))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":booking", s(booking_id.as_str()))
            .expression_attribute_values(":deadline", ts(window.until))
            .expression_attribute_values(":bucket", s(ExpiryKind::Booking.bucket_for(&hold.hash)))
            .expression_attribute_values(":userKey", s(keys::user_bookings_key(&caller.user_id)))
            .expression_attribute_values(":userSort", s(keys::user_bookings_sort(now, &booking_id)))
            .expression_attribute_values(":caller", s(caller.user_id.as_str()))
    }

    /// The owner pays a PAYMENT_PENDING booking inside its window.
    pub async fn pay(
        &self,
        hold: &HoldRef,
        caller: &Caller,
        reference: &PaymentReference,
        now: Timestamp,
    ) -> Result<Booking, Error> {
        match self.update(self.pay_request(hold, caller, reference, now)).await {
            Ok(item) => {
                let booking = booking_of(item)?;
                tracing::info!(booking_id = %booking.id, seats = %booking.seats, "booking paid");
                Ok(booking)
            }
            Err(WriteError::Refused(old)) => {
                hold::refused_pay(hold_from(old.first().and_then(Option::as_ref))?, caller, reference, now)
            }
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    }

    /// The one `UpdateItem` [`Store::pay`] sends (before [`Store::update`] asks for the item back).
    pub(crate) fn pay_request(
        &self,
        hold: &HoldRef,
        caller: &Caller,
        reference: &PaymentReference,
        now: Timestamp,
    ) -> UpdateItemFluentBuilder {
        self.update_hold(hold)
            .update_expression(
                "SET bookingStatus = :confirmed, paidAt = :now, paymentReference = :ref, bookingUpdatedAt = :now \
                 REMOVE bookingExpiryBucket",
            )
            .condition_expression(
                "attribute_exists(PK) AND userId = :caller AND bookingStatus = :pending AND paymentExpiresAt >= :now \
                 AND (attribute_not_exists(eventDate) OR eventDate > :now)",
            )
            .expression_attribute_values(":confirmed", s(BookingStatus::Confirmed.as_str()))
            .expression_attribute_values(":pending", s(BookingStatus::PaymentPending.as_str()))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":ref", s(reference.as_str()))
            .expression_attribute_values(":caller", s(caller.user_id.as_str()))
    }

    /// The owner cancels a PAYMENT_PENDING (inside its window) or CONFIRMED booking before the event
    /// date; the seats go back in the same transaction, whose event update carries the date rule
    /// (`eventDate > :now`, else `EVENT_CLOSED`). The condition pins the status that was read, so
    /// the answer rendered from that read is exact; if it changed meanwhile (paid while
    /// cancelling), read again and cancel the paid booking, refund included. A CONFIRMED booking
    /// is refunded in the same write (`refundedAt`: with the `dev` provider the refund is
    /// complete at once), so no booking is ever paid and cancelled without its refund.
    pub async fn cancel(&self, hold: &HoldRef, caller: &Caller, now: Timestamp) -> Result<Booking, Error> {
        for _ in 0..CANCEL_ATTEMPTS {
            let current = self.hold_item(hold).await?.filter(|h| h.user_id == caller.user_id);
            let Some(seen) = current.as_ref().and_then(HoldItem::booking) else {
                return Err(hold::refused_cancel(current.map(|h| h.hold()), caller, now));
            };
            let refund = if seen.status == BookingStatus::Confirmed { ", refundedAt = :now" } else { "" };
            let cancel = self
                .hold_transition(hold)
                .update_expression(format!(
                    "SET bookingStatus = :cancelled, bookingUpdatedAt = :now{refund} REMOVE bookingExpiryBucket, liveSort"
                ))
                .condition_expression(
                    "attribute_exists(PK) AND userId = :caller AND seats = :seats AND bookingStatus = :seen \
                     AND (bookingStatus = :confirmed OR (bookingStatus = :pending AND paymentExpiresAt >= :now))",
                )
                .expression_attribute_values(":cancelled", s(BookingStatus::Cancelled.as_str()))
                .expression_attribute_values(":confirmed", s(BookingStatus::Confirmed.as_str()))
                .expression_attribute_values(":pending", s(BookingStatus::PaymentPending.as_str()))
                .expression_attribute_values(":seen", s(seen.status.as_str()))
                .expression_attribute_values(":now", ts(now))
                .expression_attribute_values(":caller", s(caller.user_id.as_str()))
                .expression_attribute_values(":seats", n(seen.seats.get()))
                .build()
                .map_err(StoreError::from)?;
            let mut writes = vec![TransactWriteItem::builder().update(cancel).build()];
            let back = SeatsBack { category: &seen.category_id, user_id: &seen.user, seats: seen.seats };
            writes.extend(self.return_seats_if(
                &hold.event_id,
                &back,
                now,
                "attribute_exists(PK) AND eventDate > :now",
            )?);
            match self.transact(writes).await {
                Ok(()) => {
                    let refunded_at = (seen.status == BookingStatus::Confirmed).then_some(now);
                    tracing::info!(booking_id = %seen.id, seats = %seen.seats, refunded = refunded_at.is_some(), "booking cancelled");
                    return Ok(Booking { status: BookingStatus::Cancelled, updated_at: now, refunded_at, ..seen });
                }
                Err(WriteError::Store(e)) => return Err(e.into()),
                Err(WriteError::Refused(old)) => {
                    if let Some(Some(event)) = old.get(1).filter(|e| e.as_ref().is_some_and(|e| !e.is_empty())) {
                        let event = from_item::<EventItem>(event.clone())?;
                        return Err(Error::EventClosed(event.event_date));
                    }
                    let old = hold_from(old.first().and_then(Option::as_ref))?;
                    if !hold::cancel_raced_payment(seen.status, old.as_ref()) {
                        return Err(hold::refused_cancel(old, caller, now));
                    }
                }
            }
        }
        Err(Error::internal_message("booking kept changing while being cancelled"))
    }

    /// The caller's bookings, newest first.
    pub async fn list_bookings(
        &self,
        user_id: &UserId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<(Vec<Booking>, Option<String>), Error> {
        // The cursor must be one of this caller's pages.
        let mine = keys::user_bookings_key(user_id);
        let event_pk = |v: &str| v.starts_with(keys::EVENT_PK_PREFIX);
        let hold_sk = |v: &str| v.starts_with(keys::HOLD_SK_PREFIX);
        let user_key = |v: &str| v == mine;
        let any = |_: &str| true;
        let start = cursor
            .map(|c| {
                decode_cursor(c, &[("PK", &event_pk), ("SK", &hold_sk), ("userKey", &user_key), ("userSort", &any)])
            })
            .transpose()?;
        let page = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(keys::USER_BOOKINGS_INDEX)
            .key_condition_expression("userKey = :k")
            .expression_attribute_values(":k", s(keys::user_bookings_key(user_id)))
            .scan_index_forward(false)
            .set_exclusive_start_key(start)
            .limit(limit)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let bookings = page.items().iter().map(|i| booking_of(i.clone())).collect::<Result<Vec<_>, _>>()?;
        Ok((bookings, encode_cursor(page.last_evaluated_key())))
    }
}
