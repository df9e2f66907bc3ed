//! What the jobs write: finding stale holds through the sparse expiry indexes (never a Scan),
//! expiring them, and repairing an event's `availableSeats`. Each expiry is one transaction whose
//! condition re-checks that the hold is still in the state being expired and past its deadline,
//! so any number of concurrent runs, and recovery, return each hold's seats exactly once.
use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::Deserialize;

use super::events::{Census, SeatsBack};
use super::items::{from_item, n, s, ts, Item};
use super::keys::{self, ExpiryKind};
use super::write::WriteError;
use super::{Store, StoreError};
use crate::domain::booking::BookingStatus;
use crate::domain::category::CategoryId;
use crate::domain::ids::{BookingId, EventId, HoldRef, LockId, UserId};
use crate::domain::lock::{self, LockStatus, Seats};
use crate::time::Timestamp;

/// A hold found past its deadline.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaleHold {
    pub event_id: EventId,
    pub lock_id: LockId,
    /// Whose seats they are: the per-user counter gets them back too.
    pub user_id: UserId,
    #[serde(default)]
    pub booking_id: Option<BookingId>,
    /// Absent on holds from before categories: `general`.
    #[serde(default)]
    pub category_id: Option<CategoryId>,
    pub seats: Seats,
}

/// Where a hold a job found lives: its lock id, which must name `event_id`'s partition.
pub(crate) fn hold_ref_of(event_id: &EventId, lock_id: &LockId) -> Result<HoldRef, StoreError> {
    HoldRef::parse_lock_id(lock_id.as_str())
        .filter(|r| &r.event_id == event_id)
        .ok_or_else(|| StoreError::Invalid(format!("malformed lock id {lock_id:?}")))
}

impl StaleHold {
    pub fn category(&self) -> CategoryId {
        crate::domain::category::of_hold(self.category_id.as_ref())
    }

    pub fn hold_ref(&self) -> Result<HoldRef, StoreError> {
        hold_ref_of(&self.event_id, &self.lock_id)
    }
}

/// One page of stale holds from one bucket.
pub struct StalePage {
    pub holds: Vec<StaleHold>,
    /// Items of the page that are not holds this code can expire (a hand edit, a bug): skipped,
    /// so one bad item cannot stop the rest of its bucket.
    pub unreadable: Vec<Unreadable>,
    pub next: Option<Item>,
}

/// An item a job found and could not read: its key and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub key: String,
    pub reason: String,
}

impl Unreadable {
    pub(crate) fn of(item: &Item, reason: impl std::fmt::Display) -> Self {
        let part = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or("?");
        Unreadable { key: format!("{} / {}", part("PK"), part("SK")), reason: reason.to_string() }
    }
}

/// Did this run make the change, or had someone else (or a user) already moved the hold on?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Expired,
    AlreadyHandled,
}

impl Store {
    /// Holds of `kind` in `bucket` whose deadline is before `now`, oldest first.
    pub async fn stale_page(
        &self,
        kind: ExpiryKind,
        bucket: &str,
        now: Timestamp,
        start: Option<Item>,
        limit: i32,
    ) -> Result<StalePage, StoreError> {
        let page = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(kind.index())
            .key_condition_expression("#bucket = :bucket AND #deadline < :now")
            .expression_attribute_names("#bucket", kind.bucket_attribute())
            .expression_attribute_names("#deadline", kind.deadline_attribute())
            .expression_attribute_values(":bucket", s(bucket))
            .expression_attribute_values(":now", ts(now))
            .set_exclusive_start_key(start)
            .limit(limit)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let (mut holds, mut unreadable) = (Vec::new(), Vec::new());
        for item in page.items() {
            let hold = from_item::<StaleHold>(item.clone()).and_then(|h| h.hold_ref().map(|_| h));
            match hold {
                Ok(hold) => holds.push(hold),
                Err(e) => unreadable.push(Unreadable::of(item, crate::error::chain(&e))),
            }
        }
        Ok(StalePage { holds, unreadable, next: page.last_evaluated_key })
    }

    /// ACTIVE -> EXPIRED and the seats back, if the lock is still ACTIVE and past `expiresAt`.
    pub async fn expire_lock(&self, stale: &StaleHold, now: Timestamp) -> Result<Outcome, StoreError> {
        self.expire(self.expire_lock_writes(stale, now)?).await
    }

    /// The one `TransactWriteItems` [`Store::expire_lock`] sends.
    pub(crate) fn expire_lock_writes(
        &self,
        stale: &StaleHold,
        now: Timestamp,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let (hold, seats) = (&stale.hold_ref()?, stale.seats);
        let expire = self
            .hold_transition(hold)
            .update_expression(
                "SET lockStatus = :expired, updatedAt = :now, expiresAtEpoch = :gone REMOVE lockExpiryBucket, liveSort",
            )
            .condition_expression("lockStatus = :active AND expiresAt < :now AND seats = :seats")
            .expression_attribute_values(":expired", s(LockStatus::Expired.as_str()))
            .expression_attribute_values(":active", s(LockStatus::Active.as_str()))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":gone", n(lock::retained_until(now)))
            .expression_attribute_values(":seats", n(seats.get()))
            .build()?;
        let mut writes = vec![TransactWriteItem::builder().update(expire).build()];
        let category = stale.category();
        let back = SeatsBack { category: &category, user_id: &stale.user_id, seats };
        writes.extend(self.return_seats(&hold.event_id, &back, now)?);
        Ok(writes)
    }

    /// PAYMENT_PENDING -> EXPIRED (and its lock EXPIRED) and the seats back, if still pending
    /// and past `paymentExpiresAt`.
    pub async fn expire_booking(&self, stale: &StaleHold, now: Timestamp) -> Result<Outcome, StoreError> {
        let (hold, seats) = (&stale.hold_ref()?, stale.seats);
        let expire = self
            .hold_transition(hold)
            .update_expression(
                "SET bookingStatus = :expired, lockStatus = :lockExpired, bookingUpdatedAt = :now, updatedAt = :now \
                 REMOVE bookingExpiryBucket, liveSort",
            )
            .condition_expression("bookingStatus = :pending AND paymentExpiresAt < :now AND seats = :seats")
            .expression_attribute_values(":expired", s(BookingStatus::Expired.as_str()))
            .expression_attribute_values(":lockExpired", s(LockStatus::Expired.as_str()))
            .expression_attribute_values(":pending", s(BookingStatus::PaymentPending.as_str()))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":seats", n(seats.get()))
            .build()?;
        let mut writes = vec![TransactWriteItem::builder().update(expire).build()];
        let category = stale.category();
        let back = SeatsBack { category: &category, user_id: &stale.user_id, seats };
        writes.extend(self.return_seats(&hold.event_id, &back, now)?);
        self.expire(writes).await
    }

    async fn expire(&self, writes: Vec<TransactWriteItem>) -> Result<Outcome, StoreError> {
        match self.transact(writes).await {
            Ok(()) => Ok(Outcome::Expired),
            Err(WriteError::Refused(_)) => Ok(Outcome::AlreadyHandled),
            Err(WriteError::Store(e)) => Err(e),
        }
    }

    /// Sets the event's `availableSeats` to what `census` counted, only if no seat moved since
    /// (its `version` unchanged); `false` if one did, and the census must be taken again.
    pub async fn repair_available(&self, census: &Census, now: Timestamp) -> Result<bool, StoreError> {
        let expected = census.inventory.expected_available();
        // The event's counter and every category's, set together to what the holds say.
        let mut set = String::from("SET availableSeats = :expected, updatedAt = :now");
        let mut request = self.client().update_item();
        for (i, c) in census.inventory.categories.iter().enumerate() {
            set += &format!(", categories.#c{i}.availableSeats = :e{i}");
            request = request
                .expression_attribute_names(format!("#c{i}"), c.id.as_str())
                .expression_attribute_values(format!(":e{i}"), n(c.counts.expected_available()));
        }
        let request = request
            .table_name(self.table())
            .set_key(Some(super::items::key(keys::event_pk(&census.inventory.event_id), keys::EVENT_SK)))
            .update_expression(format!("{set} ADD #version :one"))
            .condition_expression("#version = :seen")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":seen", n(census.version))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":one", n(1));
        match self.update(request).await {
            Ok(_) => Ok(true),
            Err(WriteError::Refused(_)) => Ok(false),
            Err(WriteError::Store(e)) => Err(e),
        }
    }
}
