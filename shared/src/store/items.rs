//! The items as stored, (de)serialised with serde_dynamo, and their mapping to domain types.
//! Optional attributes are left out when `None`: the index attributes in particular must be absent,
//! not null, for the sparse indexes to drop an item.
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};

use super::keys::{self, ExpiryKind};
use super::StoreError;
use crate::domain::booking::{Booking, BookingStatus, PaymentReference};
use crate::domain::category::{Category, CategoryId};
use crate::domain::event::{Event, EventStatus};
use crate::domain::hold::Hold;
use crate::domain::ids::{BookingId, EventId, HoldRef, LockId, UserId};
use crate::domain::lock::{IdempotencyKey, Lock, LockStatus, NewLock, Price, Seats};
use crate::domain::user::{Email, Role, User};
use crate::time::Timestamp;
use crate::Error;

pub type Item = HashMap<String, AttributeValue>;

fn default_currency() -> String {
    crate::domain::category::DEFAULT_CURRENCY.to_string()
}

pub fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    Ok(serde_dynamo::to_item(value)?)
}

pub fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    Ok(serde_dynamo::from_item(item)?)
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A timestamp as stored: its fixed-width text, so conditions and sort keys compare it as time.
pub fn ts(value: Timestamp) -> AttributeValue {
    AttributeValue::S(value.text())
}

pub fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("PK".to_string(), s(pk)), ("SK".to_string(), s(sk))])
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub event_id: EventId,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    pub event_date: Timestamp,
    /// Pinned by every lock's condition (see `domain::event::Terms`).
    pub max_seats_per_user: i64,
    #[serde(default)]
    pub status: EventStatus,
    pub currency: String,
    /// The sums over `categories`, kept in the same writes.
    pub total_seats: i64,
    pub available_seats: i64,
    /// By id, so a lock's update can name its category's counter (`categories.#cat.availableSeats`).
    pub categories: HashMap<CategoryId, CategoryItem>,
    /// The ids in the order the event was created with.
    pub category_order: Vec<CategoryId>,
    /// Bumped by every write that moves seats; the recovery check and the inventory read use it
    /// to know that nothing moved while they counted.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub list_key: String,
    pub list_sort: String,
}

/// One category of an event item.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryItem {
    pub name: String,
    pub price: i64,
    pub total_seats: i64,
    pub available_seats: i64,
}

impl From<EventItem> for Event {
    fn from(mut i: EventItem) -> Self {
        let categories = i
            .category_order
            .iter()
            .filter_map(|id| {
                i.categories.remove(id).map(|c| Category {
                    id: id.clone(),
                    name: c.name,
                    price: c.price,
                    total_seats: c.total_seats,
                    available_seats: c.available_seats,
                })
            })
            .collect();
        Event {
            id: i.event_id,
            name: i.name,
            description: i.description,
            event_date: i.event_date,
            status: i.status,
            currency: i.currency,
            max_seats_per_user: i.max_seats_per_user,
            seated: false,
            total_seats: i.total_seats,
            available_seats: i.available_seats,
            categories,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// A lock and (after confirm) its booking: one item, `PK = EVENT#<eventId>`, `SK = HOLD#<hash>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub lock_id: LockId,
    pub event_id: EventId,
    pub user_id: UserId,
    /// Absent on holds from before categories: `general`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub category_id: Option<CategoryId>,
    pub seats: Seats,
    #[serde(default)]
    pub unit_price: i64,
    #[serde(default)]
    pub amount: i64,
    #[serde(default = "default_currency")]
    pub currency: String,
    pub lock_status: LockStatus,
    pub expires_at: Timestamp,
    pub idempotency_key: IdempotencyKey,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The event's date when the lock was taken (pinned by the lock's condition): confirm, pay
    /// and their refusals read it here, so they stay one request.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub event_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub booking_id: Option<BookingId>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub booking_status: Option<BookingStatus>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub payment_expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub booking_created_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub booking_updated_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub paid_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub payment_reference: Option<PaymentReference>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refunded_at: Option<Timestamp>,
    /// Set when the event's cancellation handed this hold back.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub event_cancelled: Option<bool>,
    /// LockExpiryIndex (sorted on `expiresAt`): present only while the lock is ACTIVE.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lock_expiry_bucket: Option<String>,
    /// BookingExpiryIndex (sorted on `paymentExpiresAt`): present only while PAYMENT_PENDING.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub booking_expiry_bucket: Option<String>,
    /// UserBookingsIndex: present once a booking exists.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_sort: Option<String>,
    /// LiveHoldsIndex (the census): the hold's own SK, present exactly while it holds seats
    /// (ACTIVE, PAYMENT_PENDING, CONFIRMED). Every write that hands the seats back removes it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub live_sort: Option<String>,
    /// The table's TTL attribute (epoch seconds): set only when a lock finishes without ever
    /// becoming a booking (released, expired), [`FINISHED_HOLD_RETENTION`] later. A booking
    /// never carries it: bookings stay.
    ///
    /// [`FINISHED_HOLD_RETENTION`]: crate::domain::lock::FINISHED_HOLD_RETENTION
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expires_at_epoch: Option<i64>,
}

impl HoldItem {
    /// The fresh ACTIVE lock a request makes, at its record `hold` (`req.hold_ref()`), for an
    /// event on `event_date`.
    pub fn new_lock(hold: &HoldRef, req: &NewLock, event_date: Timestamp, price: &Price) -> Self {
        let sk = keys::hold_sk(&hold.hash);
        HoldItem {
            pk: keys::event_pk(&hold.event_id),
            live_sort: Some(sk.clone()),
            expires_at_epoch: None,
            sk,
            entity: "HOLD".into(),
            lock_id: hold.lock_id(),
            event_id: hold.event_id.clone(),
            user_id: req.user_id.clone(),
            category_id: Some(price.category_id.clone()),
            seats: req.seats,
            unit_price: price.unit_price,
            amount: price.amount(req.seats),
            currency: price.currency.clone(),
            lock_status: LockStatus::Active,
            expires_at: req.life.until,
            idempotency_key: req.idempotency_key.clone(),
            created_at: req.life.from,
            updated_at: req.life.from,
            event_date: Some(event_date),
            booking_id: None,
            booking_status: None,
            payment_expires_at: None,
            booking_created_at: None,
            booking_updated_at: None,
            paid_at: None,
            payment_reference: None,
            refunded_at: None,
            event_cancelled: None,
            lock_expiry_bucket: Some(ExpiryKind::Lock.bucket_for(&hold.hash)),
            booking_expiry_bucket: None,
            user_key: None,
            user_sort: None,
        }
    }

    pub fn lock(&self) -> Lock {
        Lock {
            id: self.lock_id.clone(),
            event_id: self.event_id.clone(),
            user_id: self.user_id.clone(),
            category_id: self.category(),
            seats: self.seats,
            seat_ids: Vec::new(),
            unit_price: self.unit_price,
            amount: self.amount,
            currency: self.currency.clone(),
            status: self.lock_status,
            expires_at: self.expires_at,
            idempotency_key: self.idempotency_key.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn booking(&self) -> Option<Booking> {
        Some(Booking {
            id: self.booking_id.clone()?,
            event: self.event_id.clone(),
            user: self.user_id.clone(),
            category_id: self.category(),
            seats: self.seats,
            seat_ids: Vec::new(),
            amount: self.amount,
            currency: self.currency.clone(),
            status: self.booking_status?,
            seat_lock_id: self.lock_id.clone(),
            payment_expires_at: self.payment_expires_at?,
            created_at: self.booking_created_at?,
            updated_at: self.booking_updated_at?,
            paid_at: self.paid_at,
            payment_reference: self.payment_reference.clone(),
            refunded_at: self.refunded_at,
        })
    }

    /// The category whose seats this hold takes.
    pub fn category(&self) -> CategoryId {
        crate::domain::category::of_hold(self.category_id.as_ref())
    }

    pub fn hold(&self) -> Hold {
        Hold {
            lock: self.lock(),
            booking: self.booking(),
            event_date: self.event_date,
            event_cancelled: self.event_cancelled.unwrap_or(false),
        }
    }
}

/// Parses an item returned by DynamoDB (for example the old item of a failed condition).
pub fn hold_from(item: Option<&Item>) -> Result<Option<Hold>, StoreError> {
    item.filter(|i| !i.is_empty()).map(|i| from_item::<HoldItem>(i.clone()).map(|h| h.hold())).transpose()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub user_id: UserId,
    pub name: String,
    pub email: Email,
    pub role: Role,
    pub password_hash: String,
    pub created_at: Timestamp,
}

impl UserItem {
    pub fn user(&self) -> User {
        User {
            id: self.user_id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            role: self.role,
            created_at: self.created_at,
        }
    }
}

/// Claims an email address (lower-cased) for one user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub user_id: UserId,
}

/// One user's seats of one event that still hold seats (ACTIVE locks, PAYMENT_PENDING and
/// CONFIRMED bookings): the per-user limit's counter, `PK = EVENT#<eventId>`,
/// `SK = SEATS#<userId>`. Created by the user's first lock of the event (`ADD`), moved in the same
/// transaction as the seats every time, never deleted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSeatsItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub held_seats: i64,
}

/// Claims an idempotency key for one caller, whichever event it was first used for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub lock_id: LockId,
    pub event_id: EventId,
    pub seats: Seats,
    pub created_at: Timestamp,
    /// The table's TTL attribute: `createdAt` + [`FINISHED_HOLD_RETENTION`], the replay window.
    ///
    /// [`FINISHED_HOLD_RETENTION`]: crate::domain::lock::FINISHED_HOLD_RETENTION
    pub expires_at_epoch: i64,
}

/// List cursors: the `LastEvaluatedKey`, opaque to clients (base64url of its string attributes).
pub fn encode_cursor(last_key: Option<&Item>) -> Option<String> {
    let key = last_key?;
    let plain: HashMap<&String, &String> = key.iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k, s))).collect();
    serde_json::to_vec(&plain).ok().map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
}

/// What one attribute of a cursor must look like.
pub type CursorRule<'a> = (&'a str, &'a dyn Fn(&str) -> bool);

/// The longest key value a cursor may carry: DynamoDB's limit for a sort key (a partition key may
/// have 2048 bytes). Every key this store writes is far shorter.
pub const MAX_CURSOR_KEY_BYTES: usize = 1024;

/// Decodes a cursor made by [`encode_cursor`]: exactly the `rules`' attributes, each passing its
/// check, so a forged cursor can neither reach DynamoDB as a malformed start key nor start a
/// page in someone else's partition. Whatever the rules, a value must be one DynamoDB accepts
/// as a key (not empty, at most [`MAX_CURSOR_KEY_BYTES`]); DynamoDB refuses any other start key
/// with a `ValidationException`, which would be a 500 instead of the client's 400.
pub fn decode_cursor(cursor: &str, rules: &[CursorRule<'_>]) -> Result<Item, Error> {
    let invalid = || Error::validation("cursor is not valid; pass the nextCursor of a previous page");
    let bytes = URL_SAFE_NO_PAD.decode(cursor.as_bytes()).map_err(|_| invalid())?;
    let plain: HashMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let key_value = |v: &str| !v.is_empty() && v.len() <= MAX_CURSOR_KEY_BYTES;
    let valid = plain.len() == rules.len()
        && rules.iter().all(|(name, check)| plain.get(*name).is_some_and(|v| key_value(v) && check(v)));
    if !valid {
        return Err(invalid());
    }
    Ok(plain.into_iter().map(|(k, v)| (k, s(v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_lock_is_in_the_expiry_index_and_not_the_user_index() {
        let t0 = Timestamp::parse("2026-01-29T11:00:00Z").unwrap();
        let req = NewLock {
            event_id: EventId::generate(),
            user_id: UserId::generate(),
            category: None,
            seats: Seats::try_from(2).unwrap(),
            idempotency_key: IdempotencyKey::parse("k").unwrap(),
            life: crate::domain::lock::Window::starting(t0, 300),
        };
        let price = Price { category_id: CategoryId::general(), unit_price: 1500, currency: "eur".into() };
        let item = to_item(&HoldItem::new_lock(&req.hold_ref(), &req, t0.plus_seconds(86_400), &price)).unwrap();
        assert_eq!((item["unitPrice"].clone(), item["amount"].clone()), (n(1500), n(3000)));
        assert!(item.contains_key("lockExpiryBucket"));
        assert!(!item.contains_key("bookingExpiryBucket"));
        assert_eq!(item["expiresAt"], s("2026-01-29T11:05:00.000Z"));
        assert_eq!(item["seats"], n(2));
        assert!(!item.contains_key("userKey"), "sparse index attributes must be absent, not null");
        assert!(!item.contains_key("bookingId"));
        assert_eq!(item["liveSort"], item["SK"], "a new lock holds seats, so the census sees it");
        assert!(!item.contains_key("expiresAtEpoch"), "a live lock never expires from the table");
        let back: HoldItem = from_item(item).unwrap();
        assert_eq!(back.hold().booking, None);
        assert_eq!(back.lock().status, LockStatus::Active);
    }

    #[test]
    fn cursors_round_trip_and_reject_tampering() {
        let last = key("EVENT#1".into(), "EVENT");
        let c = encode_cursor(Some(&last)).unwrap();
        let any = |_: &str| true;
        let event_pk = |v: &str| v.starts_with("EVENT#");
        assert_eq!(decode_cursor(&c, &[("PK", &event_pk), ("SK", &any)]).unwrap(), last);
        assert!(decode_cursor(&c, &[("PK", &any), ("SK", &any), ("listKey", &any)]).is_err());
        let user_pk = |v: &str| v.starts_with("USER#");
        assert!(decode_cursor(&c, &[("PK", &user_pk), ("SK", &any)]).is_err(), "values are checked");
        assert!(decode_cursor("!!", &[("PK", &any)]).is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("[1]"), &[("PK", &any)]).is_err());
        // Values DynamoDB refuses as keys are refused here, whatever the rules let through.
        let forged = |sk: &str| URL_SAFE_NO_PAD.encode(serde_json::json!({"PK": "EVENT#1", "SK": sk}).to_string());
        assert!(decode_cursor(&forged(""), &[("PK", &event_pk), ("SK", &any)]).is_err(), "empty key");
        let long = "x".repeat(MAX_CURSOR_KEY_BYTES + 1);
        assert!(decode_cursor(&forged(&long), &[("PK", &event_pk), ("SK", &any)]).is_err(), "over-long key");
        let longest = "x".repeat(MAX_CURSOR_KEY_BYTES);
        assert!(decode_cursor(&forged(&longest), &[("PK", &event_pk), ("SK", &any)]).is_ok());
    }
}
