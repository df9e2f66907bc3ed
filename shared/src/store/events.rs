//! Events: creation, reads, the soonest-first list and the seat census.
use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    KeysAndAttributes, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use rand::Rng;

use super::expiry::{StaleHold, Unreadable};
use super::items::{decode_cursor, encode_cursor, from_item, key, n, s, to_item, ts, CategoryItem, EventItem, Item};
use super::keys;
use super::write::WriteError;
use super::{Store, StoreError};
use crate::domain::booking::{self, BookingStatus};
use crate::domain::category::CategoryId;
use crate::domain::event::{self, seat_use, Event, EventChange, EventStatus, Inventory, NewEvent, SeatMove};
use crate::domain::ids::{BookingId, EventId, HoldRef, LockId, UserId};
use crate::domain::lock::{self, LockStatus, Seats};
use crate::jobs::Budget;
use crate::time::Timestamp;
use crate::Error;

/// A hold that still holds seats, as LiveHoldsIndex lists it: what the census counts and the
/// cancellation job hands back. All of it is projected into the index, so the query never
/// fetches from the table.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveHold {
    pub lock_id: LockId,
    pub user_id: UserId,
    #[serde(default)]
    pub booking_id: Option<BookingId>,
    #[serde(default)]
    pub category_id: Option<CategoryId>,
    pub seats: Seats,
    pub lock_status: LockStatus,
    #[serde(default)]
    pub booking_status: Option<BookingStatus>,
    pub expires_at: Timestamp,
    #[serde(default)]
    pub payment_expires_at: Option<Timestamp>,
}

impl LiveHold {
    pub fn category(&self) -> CategoryId {
        crate::domain::category::of_hold(self.category_id.as_ref())
    }

    pub fn hold_ref(&self, event_id: &EventId) -> Result<HoldRef, StoreError> {
        super::expiry::hold_ref_of(event_id, &self.lock_id)
    }
}

/// One page of an event's live holds: those that decode, those that do not (logged by the
/// caller, never silently dropped), where the next page starts, and what the page cost.
pub struct LivePage {
    pub holds: Vec<LiveHold>,
    pub unreadable: Vec<Unreadable>,
    pub next: Option<Item>,
    /// Index items read (`ScannedCount`) and read capacity (`ConsumedCapacity`, where reported).
    pub items_read: u64,
    pub read_units: f64,
}

/// How many times a census re-reads when seats moved while it counted.
const CENSUS_ATTEMPTS: usize = 5;
/// The pause before counting again, in milliseconds, drawn at random from this range. A count
/// of live holds takes milliseconds, so a short pause at a random moment gives a busy event a
/// real chance of a quiet window; a fixed one could keep meeting the same rhythm of writes.
const CENSUS_PAUSE_MS: std::ops::RangeInclusive<u64> = 5..=40;
/// What a query of LiveHoldsIndex asks for (every attribute of [`LiveHold`]).
const LIVE_HOLD_PROJECTION: &str =
    "PK, SK, lockId, userId, bookingId, categoryId, seats, lockStatus, bookingStatus, expiresAt, paymentExpiresAt";

/// A consistent count of an event's seats: nothing moved between the two reads of `version`.
#[derive(Debug, Clone)]
pub struct Census {
    pub inventory: Inventory,
    pub version: i64,
    /// False if seats kept moving through every attempt; the counts are then approximate.
    pub settled: bool,
    /// Holds past their deadline but still holding seats (ACTIVE locks, PAYMENT_PENDING
    /// bookings), found among the event's live holds, so recovery can expire them even if an
    /// expiry index never listed them (an item written by hand without its bucket, say).
    pub stale: Vec<StaleHold>,
    /// Live holds that could not be read (a hand edit, a bug), logged with their keys and left
    /// out of the counts. With any of them the counts are short by what they hold, which
    /// nobody can know, so recovery repairs nothing from this census.
    pub unreadable: Vec<Unreadable>,
    /// What the counting pass read: index items (DynamoDB's `ScannedCount`) and read capacity
    /// (`ConsumedCapacity`, where the endpoint reports it). Bounded by the live holds, never
    /// by the event's history; the tests and the benchmark check that.
    pub items_read: u64,
    pub read_units: f64,
}

/// How a census that may run out of time ended.
#[derive(Debug, Clone)]
pub enum Counted {
    Census(Census),
    NoSuchEvent,
    /// The budget ran out between two pages or two attempts. What was counted so far is thrown
    /// away: half a count must never be compared with `availableSeats`.
    OutOfTime,
}

/// One counting pass over an event's live holds.
struct Pass {
    unreadable: Vec<Unreadable>,
    items_read: u64,
    read_units: f64,
}

impl Census {
    /// The inventory to show an admin. Settled: as counted, `availableSeats` as stored, so drift
    /// (which recovery repairs) is visible. Not settled (seats moved through every attempt):
    /// each hold was counted once, in the state it was read in, but `availableSeats` was read
    /// at other moments, so the figures would not add up; `availableSeats` is then what the
    /// holds imply, the one view in which every seat is counted once.
    pub fn view(&self) -> Inventory {
        let mut inventory = self.inventory.clone();
        if !self.settled {
            inventory.counts.available_seats = inventory.expected_available();
            for c in &mut inventory.categories {
                c.counts.available_seats = c.counts.expected_available();
            }
        }
        inventory
    }
}

/// How many times a change is read and written when another admin's change moved a total it
/// pinned in between. Admins rarely change one event at the same moment; past this, `500`.
const CHANGE_ATTEMPTS: usize = 5;

/// Seats a hold hands back: whose, of which category, how many.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeatsBack<'a> {
    pub category: &'a CategoryId,
    pub user_id: &'a UserId,
    pub seats: Seats,
}

impl Store {
    pub async fn create_event(&self, new: &NewEvent, id: &EventId, now: Timestamp) -> Result<Event, Error> {
        let item = EventItem {
            pk: keys::event_pk(id),
            sk: keys::EVENT_SK.into(),
            entity: "EVENT".into(),
            event_id: id.clone(),
            name: new.name.clone(),
            description: new.description.clone(),
            event_date: new.event_date,
            max_seats_per_user: new.max_seats_per_user,
            status: EventStatus::OnSale,
            currency: new.currency.clone(),
            total_seats: new.total_seats(),
            available_seats: new.total_seats(),
            categories: new
                .categories
                .iter()
                .map(|c| {
                    let item = CategoryItem {
                        name: c.name.clone(),
                        price: c.price,
                        total_seats: c.seats,
                        available_seats: c.seats,
                    };
                    (c.id.clone(), item)
                })
                .collect(),
            category_order: new.categories.iter().map(|c| c.id.clone()).collect(),
            version: 0,
            created_at: now,
            updated_at: now,
            list_key: keys::EVENT_LIST_KEY.into(),
            list_sort: keys::event_list_sort(new.event_date, id),
        };
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(item.into())
    }

    /// An admin's change of an event (`PATCH /api/events/{id}`), as one conditional `UpdateItem`
    /// carrying every part of it, so it applies whole or not at all and no lock can slip between
    /// two halves of it.
    ///
    /// The event is read first (consistently) only to learn the totals a new `seats` moves from;
    /// the write pins each of them (`categories.#cN.totalSeats = :fromN`) and moves the
    /// category's and the event's `totalSeats` and `availableSeats` by the difference, with
    /// `ADD version 1` (the census must see every write that moves seats). A lowering also
    /// requires `categories.#cN.availableSeats >= :dropN`: DynamoDB checks it against the
    /// counter as it is at the write, after every lock before it, so a lock racing the change
    /// cannot drive a count negative or the category oversold; it only decides which of the
    /// two is refused (`409 SEATS_IN_USE` for the change, `SEATS_UNAVAILABLE` for the lock). A
    /// refusal is explained from the event as it was (`ALL_OLD`); a total that moved since the
    /// read (another admin) means read again and retry. Prices, the limit and the date are
    /// pinned by every lock, so a lock built from the old ones fails and retries with the new
    /// ones (`locks.rs`).
    pub async fn update_event(&self, id: &EventId, change: &EventChange, now: Timestamp) -> Result<Event, Error> {
        for _ in 0..CHANGE_ATTEMPTS {
            let Some(item) = self.event_item(id).await? else { return Err(Error::NotFound("event")) };
            let moves = change.seat_moves(&Event::from(item))?;
            let request = self.event_change(id, change, &moves, now);
            match self.update(request).await {
                Ok(new) => {
                    let event = Event::from(from_item::<EventItem>(new)?);
                    // This process's own next lock uses the new terms without a refusal first.
                    self.learn_terms(event.clone());
                    return Ok(event);
                }
                Err(WriteError::Store(e)) => return Err(e.into()),
                Err(WriteError::Refused(old)) => {
                    let old = match old.into_iter().next().flatten() {
                        Some(item) if !item.is_empty() => Some(Event::from(from_item::<EventItem>(item)?)),
                        _ => None,
                    };
                    if let Some(answer) = event::refused_change(old.as_ref(), &moves) {
                        return Err(answer);
                    }
                    tracing::info!(event_id = %id, "a seat total moved while changing the event; reading it again");
                }
            }
        }
        Err(Error::internal_message("the event's seat totals kept changing while changing it"))
    }

    /// The one `UpdateItem` of [`Store::update_event`]: the change, with `moves` against the
    /// totals it read.
    fn event_change(
        &self,
        id: &EventId,
        change: &EventChange,
        moves: &[SeatMove],
        now: Timestamp,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let mut sets = vec!["updatedAt = :now".to_string()];
        let mut conditions = vec!["attribute_exists(PK) AND #status <> :cancelled".to_string()];
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(keys::event_pk(id), keys::EVENT_SK)))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":cancelled", s(EventStatus::Cancelled.as_str()))
            .expression_attribute_values(":now", ts(now));
        if let Some(name) = &change.name {
            sets.push("#name = :name".into());
            request = request.expression_attribute_names("#name", "name").expression_attribute_values(":name", s(name));
        }
        if let Some(description) = &change.description {
            sets.push("#description = :description".into());
            request = request
                .expression_attribute_names("#description", "description")
                .expression_attribute_values(":description", s(description));
        }
        if let Some(date) = change.event_date {
            // The list sorts on the date: it moves with it, in the same write.
            sets.push("eventDate = :date, listSort = :listSort".into());
            request = request
                .expression_attribute_values(":date", ts(date))
                .expression_attribute_values(":listSort", s(keys::event_list_sort(date, id)));
        }
        if let Some(max) = change.max_seats_per_user {
            sets.push("maxSeatsPerUser = :max".into());
            request = request.expression_attribute_values(":max", n(max));
        }
        if let Some(open) = change.sales_open {
            let status = if open { EventStatus::OnSale } else { EventStatus::SalesClosed };
            sets.push("#status = :status".into());
            request = request.expression_attribute_values(":status", s(status.as_str()));
        }
        for (i, c) in change.categories.iter().enumerate() {
            let seat_move = moves.iter().find(|m| m.category == c.id);
            if c.price.is_none() && seat_move.is_none() {
                // Its total asked for is its total already: nothing to write, and DynamoDB
                // refuses a name the expressions do not use.
                continue;
            }
            request = request.expression_attribute_names(format!("#c{i}"), c.id.as_str());
            if let Some(price) = c.price {
                sets.push(format!("categories.#c{i}.price = :price{i}"));
                request = request.expression_attribute_values(format!(":price{i}"), n(price));
            }
            let Some(m) = seat_move else { continue };
            sets.push(format!(
                "categories.#c{i}.totalSeats = :to{i}, \
                 categories.#c{i}.availableSeats = categories.#c{i}.availableSeats + :delta{i}"
            ));
            conditions.push(format!("categories.#c{i}.totalSeats = :from{i}"));
            request = request
                .expression_attribute_values(format!(":to{i}"), n(m.to))
                .expression_attribute_values(format!(":from{i}"), n(m.from))
                .expression_attribute_values(format!(":delta{i}"), n(m.delta()));
            if m.delta() < 0 {
                conditions.push(format!("categories.#c{i}.availableSeats >= :drop{i}"));
                request = request.expression_attribute_values(format!(":drop{i}"), n(-m.delta()));
            }
        }
        let mut adds = "";
        if !moves.is_empty() {
            let delta: i64 = moves.iter().map(SeatMove::delta).sum();
            sets.push("totalSeats = totalSeats + :delta, availableSeats = availableSeats + :delta".into());
            adds = " ADD #version :one";
            request = request
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":delta", n(delta))
                .expression_attribute_values(":one", n(1));
            if delta < 0 {
                conditions.push("availableSeats >= :netDrop".into());
                request = request.expression_attribute_values(":netDrop", n(-delta));
            }
        }
        request
            .update_expression(format!("SET {}{adds}", sets.join(", ")))
            .condition_expression(conditions.join(" AND "))
    }

    pub async fn get_event(&self, id: &EventId) -> Result<Option<Event>, Error> {
        Ok(self.event_item(id).await?.map(Event::from))
    }

    pub(crate) async fn event_item(&self, id: &EventId) -> Result<Option<EventItem>, StoreError> {
        self.read(key(keys::event_pk(id), keys::EVENT_SK)).await
    }

    /// Soonest first. The index holds keys only (so seat changes never write to it); the page's
    /// events are then read consistently from the table, so `availableSeats` is current.
    pub async fn list_events(&self, limit: i32, cursor: Option<&str>) -> Result<(Vec<Event>, Option<String>), Error> {
        let event_pk = |v: &str| v.starts_with(keys::EVENT_PK_PREFIX);
        let event_sk = |v: &str| v == keys::EVENT_SK;
        let list_key = |v: &str| v == keys::EVENT_LIST_KEY;
        let any = |_: &str| true;
        let start = cursor
            .map(|c| {
                decode_cursor(c, &[("PK", &event_pk), ("SK", &event_sk), ("listKey", &list_key), ("listSort", &any)])
            })
            .transpose()?;
        let page = self.event_list_page(start, limit).await?;
        let keys_in_order: Vec<Item> = page
            .items()
            .iter()
            .map(|i| i.iter().filter(|(k, _)| *k == "PK" || *k == "SK").map(|(k, v)| (k.clone(), v.clone())).collect())
            .collect();
        let mut found = self.batch_get(keys_in_order.clone()).await?;
        let events = keys_in_order
            .iter()
            .filter_map(|k| k.get("PK").and_then(|pk| pk.as_s().ok()).and_then(|pk| found.remove(pk)))
            .map(|item| from_item::<EventItem>(item).map(Event::from))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((events, encode_cursor(page.last_evaluated_key())))
    }

    /// One page of EventListIndex (keys only), soonest first: what `GET /api/events` and
    /// recovery's walk over every event both read.
    pub(crate) async fn event_list_page(
        &self,
        start: Option<Item>,
        limit: i32,
    ) -> Result<aws_sdk_dynamodb::operation::query::QueryOutput, StoreError> {
        self.client()
            .query()
            .table_name(self.table())
            .index_name(keys::EVENT_LIST_INDEX)
            .key_condition_expression("listKey = :k")
            .expression_attribute_values(":k", s(keys::EVENT_LIST_KEY))
            .set_exclusive_start_key(start)
            .limit(limit)
            .send()
            .await
            .map_err(StoreError::sdk)
    }

    /// Consistent BatchGetItem, following UnprocessedKeys; results by PK.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<HashMap<String, Item>, StoreError> {
        let mut found = HashMap::new();
        let mut pending = keys;
        let mut rounds = 0;
        while !pending.is_empty() {
            rounds += 1;
            if rounds > 10 {
                return Err(StoreError::Invalid("BatchGetItem kept returning unprocessed keys".into()));
            }
            let request = KeysAndAttributes::builder().set_keys(Some(pending)).consistent_read(true).build()?;
            let out = self
                .client()
                .batch_get_item()
                .request_items(self.table(), request)
                .send()
                .await
                .map_err(StoreError::sdk)?;
            for item in out.responses.and_then(|mut r| r.remove(self.table())).unwrap_or_default() {
                if let Some(pk) = item.get("PK").and_then(|pk| pk.as_s().ok()).cloned() {
                    found.insert(pk, item);
                }
            }
            pending = out.unprocessed_keys.and_then(|mut u| u.remove(self.table())).map(|k| k.keys).unwrap_or_default();
        }
        Ok(found)
    }

    /// The writes every transaction that hands seats back (release, cancel, both expiry jobs)
    /// adds to its hold's own conditional update: the event's `availableSeats` up by `seats` and
    /// its `version` bumped, and the holder's per-user counter down by `seats`. In one transaction
    /// with the hold's update, so the seats come back exactly once.
    pub(crate) fn return_seats(
        &self,
        event_id: &EventId,
        back: &SeatsBack<'_>,
        now: Timestamp,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        self.return_seats_if(event_id, back, now, "attribute_exists(PK)")
    }

    /// [`Store::return_seats`] with the event's own condition (which may use `:now`); if it
    /// fails, the event as it was comes back.
    pub(crate) fn return_seats_if(
        &self,
        event_id: &EventId,
        back: &SeatsBack<'_>,
        now: Timestamp,
        event_condition: &str,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let SeatsBack { category, user_id, seats } = *back;
        let event = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(keys::event_pk(event_id), keys::EVENT_SK)))
            .update_expression(
                "SET availableSeats = availableSeats + :seats, \
                 categories.#cat.availableSeats = categories.#cat.availableSeats + :seats, \
                 updatedAt = :now ADD #version :one",
            )
            .condition_expression(event_condition)
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#cat", category.as_str())
            .expression_attribute_values(":seats", n(seats.get()))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":one", n(1))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()?;
        // No condition: a seat return is never refused for the counter's sake (a counter lost to
        // a hand edit would otherwise block the seats for good).
        let counter = Update::builder()
            .table_name(self.table())
            .set_key(Some(super::locks::user_seats_key(event_id, user_id)))
            .update_expression("SET updatedAt = :now ADD heldSeats :back")
            .expression_attribute_values(":back", n(-seats.get()))
            .expression_attribute_values(":now", ts(now))
            .build()?;
        Ok(vec![
            TransactWriteItem::builder().update(event).build(),
            TransactWriteItem::builder().update(counter).build(),
        ])
    }

    /// Counts the event's seats, for the inventory endpoint: no deadline but the request's own.
    pub async fn census(&self, event_id: &EventId, now: Timestamp) -> Result<Option<Census>, Error> {
        match self.census_within(event_id, now, None).await? {
            Counted::Census(census) => Ok(Some(census)),
            Counted::NoSuchEvent => Ok(None),
            Counted::OutOfTime => Err(Error::internal_message("a census without a budget ran out of time")),
        }
    }

    /// Counts the event's seats from its live holds (LiveHoldsIndex, a local index, read with
    /// strongly consistent queries, so no index lag), between two reads of the event's
    /// `version`. If `version` moved, seats moved while counting: pause a moment, count again.
    /// With a `budget`, it is checked before each attempt and after each page, so a job stays
    /// inside its deadline even in an event with many live holds.
    pub async fn census_within(
        &self,
        event_id: &EventId,
        now: Timestamp,
        budget: Option<Budget>,
    ) -> Result<Counted, Error> {
        let out_of_time = || budget.is_some_and(|b| b.exhausted());
        let mut last = None;
        for attempt in 0..CENSUS_ATTEMPTS {
            if attempt > 0 {
                let pause = rand::thread_rng().gen_range(CENSUS_PAUSE_MS);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            if out_of_time() {
                return Ok(Counted::OutOfTime);
            }
            let Some(before) = self.event_item(event_id).await? else { return Ok(Counted::NoSuchEvent) };
            let categories = before
                .category_order
                .iter()
                .filter_map(|id| before.categories.get(id).map(|c| (id.clone(), c.total_seats, c.available_seats)))
                .collect();
            let mut inventory = Inventory::new(event_id, before.total_seats, before.available_seats, categories);
            let mut stale = Vec::new();
            let pass = self
                .for_each_live_hold(event_id, budget, |h| {
                    inventory.add(&h.category(), h.seats, seat_use(h.lock_status, h.booking_status));
                    let lock_stale = h.lock_status == LockStatus::Active
                        && h.booking_status.is_none()
                        && lock::is_expired(h.expires_at, now);
                    let booking_stale = h.booking_status == Some(BookingStatus::PaymentPending)
                        && h.payment_expires_at.is_some_and(|d| booking::is_payment_window_closed(d, now));
                    if lock_stale || booking_stale {
                        stale.push(StaleHold {
                            event_id: event_id.clone(),
                            lock_id: h.lock_id,
                            user_id: h.user_id,
                            booking_id: h.booking_id,
                            category_id: h.category_id,
                            seats: h.seats,
                        });
                    }
                })
                .await?;
            let Some(Pass { unreadable, items_read, read_units }) = pass else { return Ok(Counted::OutOfTime) };
            let Some(after) = self.event_item(event_id).await? else { return Ok(Counted::NoSuchEvent) };
            let settled = after.version == before.version;
            last =
                Some(Census { inventory, version: before.version, settled, stale, unreadable, items_read, read_units });
            if settled {
                break;
            }
        }
        Ok(last.map_or(Counted::NoSuchEvent, Counted::Census))
    }

    /// Visits every live hold of the event, page by page ([`Store::live_holds_page`]). An item
    /// that does not decode is logged with its key and returned, not visited: one bad item must
    /// not make the inventory endpoint or recovery fail for the whole event. `None` if `budget`
    /// ran out after a page.
    async fn for_each_live_hold(
        &self,
        event_id: &EventId,
        budget: Option<Budget>,
        mut visit: impl FnMut(LiveHold),
    ) -> Result<Option<Pass>, StoreError> {
        let mut pass = Pass { unreadable: Vec::new(), items_read: 0, read_units: 0.0 };
        let mut start = None;
        loop {
            let page = self.live_holds_page(event_id, start).await?;
            pass.items_read += page.items_read;
            pass.read_units += page.read_units;
            page.holds.into_iter().for_each(&mut visit);
            for bad in page.unreadable {
                tracing::error!(%event_id, key = %bad.key, reason = %bad.reason, "census skipped an unreadable live hold; it needs a person");
                pass.unreadable.push(bad);
            }
            if budget.is_some_and(|b| b.exhausted()) {
                return Ok(None);
            }
            start = page.next;
            if start.is_none() {
                return Ok(Some(pass));
            }
        }
    }

    /// One page of the event's live holds: a strongly consistent query of LiveHoldsIndex (a
    /// local index, so no lag). Finished holds are not in it, so reading every page costs the
    /// live holds (at most the event's seats' worth), however long the event's history. Each
    /// item is decoded on its own.
    pub async fn live_holds_page(&self, event_id: &EventId, start: Option<Item>) -> Result<LivePage, StoreError> {
        let page = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(keys::LIVE_HOLDS_INDEX)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(keys::event_pk(event_id)))
            .projection_expression(LIVE_HOLD_PROJECTION)
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let (mut holds, mut unreadable) = (Vec::new(), Vec::new());
        for item in page.items() {
            match from_item::<LiveHold>(item.clone()) {
                Ok(hold) => holds.push(hold),
                Err(e) => unreadable.push(Unreadable::of(item, crate::error::chain(&e))),
            }
        }
        Ok(LivePage {
            holds,
            unreadable,
            items_read: page.scanned_count().max(0) as u64,
            read_units: page.consumed_capacity().and_then(|c| c.capacity_units()).unwrap_or(0.0),
            next: page.last_evaluated_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::SeatUse;

    fn census(available: i64, settled: bool) -> Census {
        let general = CategoryId::general();
        let mut inventory = Inventory::new(&EventId::generate(), 10, available, vec![(general.clone(), 10, available)]);
        inventory.add(&general, Seats::try_from(3).unwrap(), SeatUse::Locked);
        inventory.add(&general, Seats::try_from(2).unwrap(), SeatUse::Sold);
        Census {
            inventory,
            version: 7,
            settled,
            stale: Vec::new(),
            unreadable: Vec::new(),
            items_read: 2,
            read_units: 0.5,
        }
    }

    #[test]
    fn a_settled_census_shows_available_as_stored_so_drift_is_visible() {
        assert_eq!(census(4, true).view().counts.available_seats, 4);
    }

    #[test]
    fn an_unsettled_census_shows_the_view_that_adds_up() {
        let view = census(4, false).view();
        assert_eq!(view.counts.available_seats, 5);
        assert_eq!(view.categories[0].counts.available_seats, 5);
        let c = &view.counts;
        assert_eq!(c.total_seats, c.available_seats + c.locked_seats + c.pending_seats + c.sold_seats);
    }
}
