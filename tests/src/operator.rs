//! What an operator (or a crash) does to the table directly, bypassing the API: the edits the
//! jobs exist to heal. Written as raw attribute maps, the way `aws dynamodb update-item` would,
//! so the tests do not lean on the store's own item types.
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use booking_shared::domain::ids::{EventId, HoldRef, UserId};
use booking_shared::domain::lock::IdempotencyKey;
use booking_shared::store::keys::{self, ExpiryKind};
use booking_shared::time::Timestamp;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A timestamp `seconds` ago.
pub fn ago(seconds: i64) -> String {
    Timestamp::now().plus_seconds(-seconds).text()
}

/// A timestamp `seconds` from now.
pub fn ahead(seconds: i64) -> String {
    Timestamp::now().plus_seconds(seconds).text()
}

/// The typed id of an event id from the API.
pub fn event_id(id: &str) -> EventId {
    EventId::parse(id).unwrap_or_else(|| panic!("not an event id: {id:?}"))
}

/// The table key of a lock or booking id.
fn hold_key(id: &str) -> (AttributeValue, AttributeValue) {
    let at = HoldRef::parse_lock_id(id).or_else(|| HoldRef::parse_booking_id(id)).expect("a lock or booking id");
    (s(keys::event_pk(&at.event_id)), s(keys::hold_sk(&at.hash)))
}

pub struct Operator<'a> {
    pub client: &'a Client,
    pub table: &'a str,
}

impl Operator<'_> {
    async fn set_hold(&self, id: &str, attribute: &str, value: AttributeValue) {
        let (pk, sk) = hold_key(id);
        self.client
            .update_item()
            .table_name(self.table)
            .key("PK", pk)
            .key("SK", sk)
            .update_expression("SET #a = :v")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#a", attribute)
            .expression_attribute_values(":v", value)
            .send()
            .await
            .unwrap_or_else(|e| panic!("set {attribute} of {id}: {e:?}"));
    }

    /// Moves a lock's `expiresAt` into the past.
    pub async fn expire_lock_deadline(&self, lock_id: &str) {
        self.set_hold(lock_id, "expiresAt", s(ago(60))).await;
    }

    /// Moves a booking's `paymentExpiresAt` into the past.
    pub async fn expire_payment_deadline(&self, booking_id: &str) {
        self.set_hold(booking_id, "paymentExpiresAt", s(ago(60))).await;
    }

    /// Sets a booking's `paymentExpiresAt`.
    pub async fn set_payment_deadline(&self, booking_id: &str, at: &str) {
        self.set_hold(booking_id, "paymentExpiresAt", s(at)).await;
    }

    /// Adds `delta` to an event's `availableSeats` and its `general` category's (negative takes
    /// seats), as a hand edit or a half-applied write would, without touching any hold.
    pub async fn shift_available(&self, event_id: &str, delta: i64) {
        self.client
            .update_item()
            .table_name(self.table)
            .key("PK", s(keys::event_pk(&self::event_id(event_id))))
            .key("SK", s(keys::EVENT_SK))
            .update_expression(
                "SET availableSeats = availableSeats + :d, \
                 categories.#general.availableSeats = categories.#general.availableSeats + :d",
            )
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#general", "general")
            .expression_attribute_values(":d", n(delta))
            .send()
            .await
            .unwrap_or_else(|e| panic!("shift availableSeats of {event_id}: {e:?}"));
    }

    /// Adds `delta` to one category's `availableSeats` only (a hand edit, or a bug, that leaves
    /// the event's own sum as it was).
    pub async fn shift_category_available(&self, event_id: &str, category: &str, delta: i64) {
        self.client
            .update_item()
            .table_name(self.table)
            .key("PK", s(keys::event_pk(&self::event_id(event_id))))
            .key("SK", s(keys::EVENT_SK))
            .update_expression("SET categories.#c.availableSeats = categories.#c.availableSeats + :d")
            .condition_expression("attribute_exists(categories.#c)")
            .expression_attribute_names("#c", category)
            .expression_attribute_values(":d", n(delta))
            .send()
            .await
            .unwrap_or_else(|e| panic!("shift availableSeats of {event_id}/{category}: {e:?}"));
    }

    /// Writes an ACTIVE lock whose `expiresAt` has passed, without taking its seats from the
    /// event: a crash's leftovers come from pairing this with [`Self::shift_available`].
    /// `indexed` says whether it carries the attribute that lists it in LockExpiryIndex (a lock
    /// written by this code does; a hand-written one may not). It always carries `liveSort`, as
    /// every lock this code writes does, so the census counts it (a hold without it is not
    /// counted: TABLE_DESIGN.md). Returns the lock id.
    pub async fn write_stale_lock(&self, event_id: &str, user_id: &str, seats: i64, indexed: bool) -> String {
        let key = format!("crash-{}", ulid::Ulid::new());
        let user = UserId::parse(user_id).expect("a user id");
        let at = HoldRef::for_request(&self::event_id(event_id), &user, &IdempotencyKey::parse(&key).expect("a key"));
        let created = ago(600);
        let mut put = self
            .client
            .put_item()
            .table_name(self.table)
            .item("PK", s(keys::event_pk(&at.event_id)))
            .item("SK", s(keys::hold_sk(&at.hash)))
            .item("entity", s("HOLD"))
            .item("lockId", s(at.lock_id().as_str()))
            .item("eventId", s(event_id))
            .item("userId", s(user_id))
            .item("seats", n(seats))
            .item("lockStatus", s("ACTIVE"))
            .item("expiresAt", s(ago(300)))
            .item("idempotencyKey", s(key))
            .item("createdAt", s(created.clone()))
            .item("updatedAt", s(created))
            .item(keys::LIVE_SORT, s(keys::hold_sk(&at.hash)));
        if indexed {
            put = put.item("lockExpiryBucket", s(ExpiryKind::Lock.bucket_for(&at.hash)));
        }
        put.send().await.unwrap_or_else(|e| panic!("write stale lock: {e:?}"));
        at.lock_id().to_string()
    }
}

impl Operator<'_> {
    /// Writes an item that sits in LockExpiryIndex in the same bucket as `lock_id`, ahead of it
    /// (an older `expiresAt`), but is no hold the code can read: `seats` is text, as a careless
    /// hand edit might leave it. Returns its sort key.
    pub async fn write_broken_stale_item(&self, event_id: &str, lock_id: &str) -> String {
        let at = HoldRef::parse_lock_id(lock_id).expect("a lock id");
        let bucket = s(ExpiryKind::Lock.bucket_for(&at.hash));
        self.write_broken_hold(event_id, ago(3600), |_| ("lockExpiryBucket", bucket)).await
    }

    /// A hold item with `seats` as text, which no code can read, expiring at `expires_at`, plus
    /// the one attribute `listed` gives it (from its sort key) that puts it in an index. Its SK.
    async fn write_broken_hold(
        &self,
        event_id: &str,
        expires_at: String,
        listed: impl FnOnce(&str) -> (&'static str, AttributeValue),
    ) -> String {
        let sk = format!("HOLD#broken-{}", ulid::Ulid::new());
        let (index_attribute, index_value) = listed(&sk);
        self.client
            .put_item()
            .table_name(self.table)
            .item("PK", s(keys::event_pk(&self::event_id(event_id))))
            .item("SK", s(sk.clone()))
            .item("entity", s("HOLD"))
            .item("lockId", s("lk_broken"))
            .item("eventId", s(event_id))
            .item("seats", s("two"))
            .item("lockStatus", s("ACTIVE"))
            .item("expiresAt", s(expires_at))
            .item(index_attribute, index_value)
            .send()
            .await
            .unwrap_or_else(|e| panic!("write broken hold {sk}: {e:?}"));
        sk
    }

    /// Sets an event's `eventDate` (e.g. into the past, closing it), and the copy of it in the
    /// EventListIndex sort key, as the table design says an edit of the date must.
    pub async fn set_event_date(&self, event_id: &str, at: &str) {
        self.client
            .update_item()
            .table_name(self.table)
            .key("PK", s(keys::event_pk(&self::event_id(event_id))))
            .key("SK", s(keys::EVENT_SK))
            .update_expression("SET eventDate = :d, listSort = :sort")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":d", s(at))
            .expression_attribute_values(
                ":sort",
                s(keys::event_list_sort(Timestamp::parse(at).expect("a timestamp"), &self::event_id(event_id))),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("set eventDate of {event_id}: {e:?}"));
    }
}

/// A raw table item, as `aws dynamodb get-item` shows it.
pub type RawItem = std::collections::HashMap<String, AttributeValue>;

/// What a seeded hold looks like when it is finished: the three ways this code leaves one.
#[derive(Debug, Clone, Copy)]
pub enum Finished {
    /// Released by its owner: no index attribute left, a TTL set.
    Released,
    /// Expired by the job: the same.
    Expired,
    /// A booking cancelled by its owner: kept for good (no TTL), still in UserBookingsIndex.
    Cancelled,
}

/// A hold item of `event_id` as this code writes it (`store::items::HoldItem`), for the
/// seeded histories of the tests and the benchmark: `live` ACTIVE one-seat locks that hold
/// their seats (in LockExpiryIndex and LiveHoldsIndex, expiring in an hour), or `finished` ones
/// in no index but UserBookingsIndex. The key is `key` under a fixed user.
pub fn seeded_hold(event_id: &EventId, user: &UserId, key: &str, finished: Option<Finished>) -> RawItem {
    let at = HoldRef::for_request(event_id, user, &IdempotencyKey::parse(key).expect("a key"));
    let created = ago(7200);
    let mut item = RawItem::from([
        ("PK".to_string(), s(keys::event_pk(event_id))),
        ("SK".to_string(), s(keys::hold_sk(&at.hash))),
        ("entity".to_string(), s("HOLD")),
        ("lockId".to_string(), s(at.lock_id().as_str())),
        ("eventId".to_string(), s(event_id.as_str())),
        ("userId".to_string(), s(user.as_str())),
        ("seats".to_string(), n(1)),
        ("idempotencyKey".to_string(), s(key)),
        ("createdAt".to_string(), s(created.clone())),
        ("updatedAt".to_string(), s(created.clone())),
    ]);
    let gone = n(Timestamp::now().unix_seconds() + 7 * 86_400);
    let mut set = |k: &str, v: AttributeValue| item.insert(k.to_string(), v);
    match finished {
        None => {
            set("lockStatus", s("ACTIVE"));
            set("expiresAt", s(ahead(3600)));
            set("lockExpiryBucket", s(ExpiryKind::Lock.bucket_for(&at.hash)));
            set(keys::LIVE_SORT, s(keys::hold_sk(&at.hash)));
        }
        Some(Finished::Released) => {
            set("lockStatus", s("RELEASED"));
            set("expiresAt", s(ago(6900)));
            set("expiresAtEpoch", gone);
        }
        Some(Finished::Expired) => {
            set("lockStatus", s("EXPIRED"));
            set("expiresAt", s(ago(6900)));
            set("expiresAtEpoch", gone);
        }
        Some(Finished::Cancelled) => {
            let booking = at.booking_id();
            set("lockStatus", s("CONSUMED"));
            set("expiresAt", s(ago(6900)));
            set("bookingId", s(booking.as_str()));
            set("bookingStatus", s("CANCELLED"));
            set("paymentExpiresAt", s(ago(6000)));
            set("bookingCreatedAt", s(created.clone()));
            set("bookingUpdatedAt", s(ago(6500)));
            set("userKey", s(keys::user_bookings_key(user)));
            set("userSort", s(keys::user_bookings_sort(Timestamp::parse(&created).expect("time"), &booking)));
        }
    }
    item
}

impl Operator<'_> {
    /// The item at (`pk`, `sk`), read consistently.
    pub async fn raw_item(&self, pk: &str, sk: &str) -> Option<RawItem> {
        let out = self
            .client
            .get_item()
            .table_name(self.table)
            .key("PK", s(pk))
            .key("SK", s(sk))
            .consistent_read(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get {pk} / {sk}: {e:?}"));
        out.item
    }

    /// The item of a lock or booking id.
    pub async fn raw_hold(&self, id: &str) -> RawItem {
        let (pk, sk) = hold_key(id);
        let (pk, sk) = (pk.as_s().expect("pk").clone(), sk.as_s().expect("sk").clone());
        self.raw_item(&pk, &sk).await.unwrap_or_else(|| panic!("no item for {id}"))
    }

    /// The idempotency claim of (`user_id`, `key`), made by a lock on `event_id`.
    pub async fn raw_claim(&self, event_id: &str, user_id: &str, key: &str) -> Option<RawItem> {
        let user = UserId::parse(user_id).expect("a user id");
        let at = HoldRef::for_request(&self::event_id(event_id), &user, &IdempotencyKey::parse(key).expect("a key"));
        self.raw_item(&keys::idempotency_pk(&user, &at.hash), keys::IDEMPOTENCY_SK).await
    }

    /// Writes `items` with BatchWriteItem, 25 to a request, `concurrency` requests at once,
    /// re-sending what DynamoDB leaves unprocessed.
    pub async fn batch_put(&self, items: Vec<RawItem>, concurrency: usize) {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        use futures::StreamExt;
        let chunks: Vec<Vec<RawItem>> = items.chunks(25).map(<[_]>::to_vec).collect();
        futures::stream::iter(chunks)
            .map(|chunk| async move {
                let mut pending: Vec<WriteRequest> = chunk
                    .into_iter()
                    .map(|item| {
                        let put = PutRequest::builder().set_item(Some(item)).build().expect("put request");
                        WriteRequest::builder().put_request(put).build()
                    })
                    .collect();
                while !pending.is_empty() {
                    let out = self
                        .client
                        .batch_write_item()
                        .request_items(self.table, pending)
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("batch write: {e:?}"));
                    pending = out.unprocessed_items.and_then(|mut u| u.remove(self.table)).unwrap_or_default();
                }
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<()>>()
            .await;
    }

    /// Writes a hold that holds seats (it carries `liveSort`, so the census reads it) but that
    /// no code can read: `seats` is text, as a careless hand edit might leave it. Returns its
    /// sort key.
    pub async fn write_broken_live_hold(&self, event_id: &str) -> String {
        self.write_broken_hold(event_id, ahead(3600), |sk| (keys::LIVE_SORT, s(sk))).await
    }
}
