//! Events and the seat inventory.
//!
//! The invariant the whole system keeps: for every event
//! `totalSeats = availableSeats + lockedSeats + pendingSeats + soldSeats`, where the last three are
//! sums over the event's holds (see [`SeatUse`]).
use serde::{Deserialize, Serialize};

use crate::domain::booking::BookingStatus;
use crate::domain::category::{Category, CategoryId, NewCategory};
use crate::domain::ids::EventId;
use crate::domain::lock::{LockStatus, Seats};
use crate::time::Timestamp;
use crate::Error;

pub const MAX_TOTAL_SEATS: i64 = 100_000;
/// The highest `maxSeatsPerUser` an event may have (the contract's 1..1000).
pub const MAX_SEATS_PER_USER_LIMIT: i64 = 1_000;
pub const NAME_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 5_000;

/// `ON_SALE` -> `SALES_CLOSED` (and back) -> `CANCELLED`. Only an event on sale takes locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventStatus {
    #[default]
    OnSale,
    SalesClosed,
    Cancelled,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::OnSale => "ON_SALE",
            EventStatus::SalesClosed => "SALES_CLOSED",
            EventStatus::Cancelled => "CANCELLED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(rename = "_id")]
    pub id: EventId,
    pub name: String,
    pub description: Option<String>,
    pub event_date: Timestamp,
    pub status: EventStatus,
    pub currency: String,
    pub max_seats_per_user: i64,
    /// Seated events (a seat map) are not sold yet: always `false`.
    pub seated: bool,
    /// The sums over the categories.
    pub total_seats: i64,
    pub available_seats: i64,
    pub categories: Vec<Category>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Event {
    pub fn terms(&self) -> Terms {
        Terms {
            event_date: self.event_date,
            max_seats_per_user: self.max_seats_per_user,
            currency: self.currency.clone(),
            prices: self.categories.iter().map(|c| (c.id.clone(), c.price)).collect(),
        }
    }

    pub fn category(&self, id: &CategoryId) -> Option<&Category> {
        self.categories.iter().find(|c| &c.id == id)
    }
}

/// What a lock must know of its event before it is written: when the event takes place (the
/// hold keeps a copy, so confirm and pay can refuse `EVENT_CLOSED` from the hold alone), how
/// many seats one user may hold, and each category's price (the lock records it). The lock's
/// write pins what it used (`eventDate = :date AND maxSeatsPerUser = :max AND
/// categories.<id>.price = :price`), so terms that are out of date can only make it refuse, never
/// decide wrongly. An event's categories and currency never change once it is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub event_date: Timestamp,
    pub max_seats_per_user: i64,
    pub currency: String,
    /// In the event's order.
    pub prices: Vec<(CategoryId, i64)>,
}

impl Terms {
    /// The category a lock takes seats of, and its price now: the one named, or the only one.
    pub fn price_for(&self, requested: Option<&CategoryId>) -> Result<(CategoryId, i64), Error> {
        match requested {
            Some(id) => self
                .prices
                .iter()
                .find(|(c, _)| c == id)
                .cloned()
                .ok_or_else(|| Error::validation(format!("categoryId {id} names no category of this event"))),
            None if self.prices.len() == 1 => Ok(self.prices[0].clone()),
            None => Err(Error::validation(format!(
                "categoryId is required: this event sells {} categories",
                self.prices.len()
            ))),
        }
    }
}

/// A validated request to create an event.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub name: String,
    pub description: Option<String>,
    pub event_date: Timestamp,
    pub max_seats_per_user: i64,
    pub currency: String,
    pub categories: Vec<NewCategory>,
}

impl NewEvent {
    pub fn total_seats(&self) -> i64 {
        self.categories.iter().map(|c| c.seats).sum()
    }
}

/// An event's seat plan as a client gave it: exactly one of `totalSeats` (with an optional
/// `price`: one `general` category, the v1 request) and `categories`.
pub enum SeatPlan<'a> {
    General { total_seats: i64, price: i64 },
    Categories(Vec<crate::domain::category::CategoryRequest<'a>>),
}

/// A client's `maxSeatsPerUser`: 1..1000.
pub fn parse_max_seats_per_user(value: i64) -> Result<i64, Error> {
    if (1..=MAX_SEATS_PER_USER_LIMIT).contains(&value) {
        Ok(value)
    } else {
        Err(Error::validation(format!("maxSeatsPerUser must be an integer from 1 to {MAX_SEATS_PER_USER_LIMIT}")))
    }
}

impl NewEvent {
    pub fn validate(
        name: &str,
        description: Option<&str>,
        event_date: &str,
        plan: SeatPlan<'_>,
        max_seats_per_user: i64,
        currency: Option<&str>,
        now: Timestamp,
    ) -> Result<Self, Error> {
        let name = parse_name(name)?;
        let description = description.map(parse_description).transpose()?;
        let date = parse_event_date(event_date, now)?;
        let categories = match plan {
            SeatPlan::General { total_seats, price } => {
                if !(1..=MAX_TOTAL_SEATS).contains(&total_seats) {
                    return Err(Error::validation(format!(
                        "totalSeats must be an integer from 1 to {MAX_TOTAL_SEATS}"
                    )));
                }
                vec![crate::domain::category::general(total_seats, price)?]
            }
            SeatPlan::Categories(requested) => crate::domain::category::validate(&requested, MAX_TOTAL_SEATS)?,
        };
        Ok(NewEvent {
            name,
            description,
            event_date: date,
            max_seats_per_user: parse_max_seats_per_user(max_seats_per_user)?,
            currency: crate::domain::category::parse_currency(currency)?,
            categories,
        })
    }
}

/// An event's name: trimmed, 1..200 characters, no control characters (at creation and in a
/// change alike).
fn parse_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        return Err(Error::validation(format!("name must be 1 to {NAME_MAX_CHARS} characters")));
    }
    if super::has_control_characters(name, false) {
        return Err(Error::validation("name must not contain control characters"));
    }
    Ok(name.to_string())
}

/// An event's description: at most 5,000 characters; line breaks and tabs are its only control
/// characters.
fn parse_description(description: &str) -> Result<String, Error> {
    if description.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(Error::validation(format!("description must be at most {DESCRIPTION_MAX_CHARS} characters")));
    }
    if super::has_control_characters(description, true) {
        return Err(Error::validation(
            "description must not contain control characters other than line breaks and tabs",
        ));
    }
    Ok(description.to_string())
}

/// An event's date: ISO-8601, and in the future (a change may not move an event into the past
/// any more than a creation may start there).
fn parse_event_date(event_date: &str, now: Timestamp) -> Result<Timestamp, Error> {
    let date = Timestamp::parse(event_date)
        .ok_or_else(|| Error::validation("eventDate must be an ISO-8601 timestamp such as 2030-01-29T19:30:00.000Z"))?;
    if date <= now {
        return Err(Error::validation("eventDate must be in the future"));
    }
    Ok(date)
}

/// What a client asked to change of one category, before validation.
pub struct CategoryChangeRequest<'a> {
    pub id: &'a str,
    pub price: Option<i64>,
    pub seats: Option<i64>,
}

/// A validated change of one category: a new price (for locks taken afterwards) and/or a new
/// total of seats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryChange {
    pub id: CategoryId,
    pub price: Option<i64>,
    pub seats: Option<i64>,
}

/// A validated `PATCH /api/events/{id}`: only what the admin named changes. Everything the
/// body alone can say is checked here; what needs the event (its categories, its total) is
/// checked by [`EventChange::seat_moves`] against the event as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub event_date: Option<Timestamp>,
    pub max_seats_per_user: Option<i64>,
    /// `Some(false)`: status `SALES_CLOSED`; `Some(true)`: `ON_SALE` again.
    pub sales_open: Option<bool>,
    pub categories: Vec<CategoryChange>,
}

/// The fields a change may carry, as the client sent them.
pub struct ChangeRequest<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub event_date: Option<&'a str>,
    pub max_seats_per_user: Option<i64>,
    pub sales_open: Option<bool>,
    pub categories: Option<Vec<CategoryChangeRequest<'a>>>,
}

impl EventChange {
    /// The creation rules for every field given. A body that changes nothing (`{}`, or a
    /// category entry with neither `price` nor `seats`) is a `400`: an admin who sends one
    /// meant something, and a `200` would hide the mistake.
    pub fn validate(req: ChangeRequest<'_>, now: Timestamp) -> Result<Self, Error> {
        let mut categories: Vec<CategoryChange> = Vec::new();
        for c in req.categories.unwrap_or_default() {
            let id = CategoryId::parse(c.id)?;
            if categories.iter().any(|seen| seen.id == id) {
                return Err(Error::validation(format!("category id {id} appears twice")));
            }
            if c.price.is_none() && c.seats.is_none() {
                return Err(Error::validation(format!("category {id}: give its new price, seats or both")));
            }
            if c.seats.is_some_and(|s| !(1..=MAX_TOTAL_SEATS).contains(&s)) {
                return Err(Error::validation(format!(
                    "a category's seats must be an integer from 1 to {MAX_TOTAL_SEATS}"
                )));
            }
            let price = c.price.map(crate::domain::category::parse_price).transpose()?;
            categories.push(CategoryChange { id, price, seats: c.seats });
        }
        let change = EventChange {
            name: req.name.map(parse_name).transpose()?,
            description: req.description.map(parse_description).transpose()?,
            event_date: req.event_date.map(|d| parse_event_date(d, now)).transpose()?,
            max_seats_per_user: req.max_seats_per_user.map(parse_max_seats_per_user).transpose()?,
            sales_open: req.sales_open,
            categories,
        };
        if change == EventChange::default() {
            return Err(Error::validation("nothing to change: give at least one field"));
        }
        Ok(change)
    }

    /// The seat totals this change moves, against `event` as read: every category it names must
    /// be the event's (`400` otherwise) and the event's seats together stay within 100,000. A
    /// category whose new total is its total already moves nothing.
    pub fn seat_moves(&self, event: &Event) -> Result<Vec<SeatMove>, Error> {
        let mut moves = Vec::new();
        let mut total = event.total_seats;
        for c in &self.categories {
            let Some(current) = event.category(&c.id) else {
                return Err(Error::validation(format!("categories: {} names no category of this event", c.id)));
            };
            if let Some(to) = c.seats.filter(|to| *to != current.total_seats) {
                total += to - current.total_seats;
                moves.push(SeatMove { category: c.id.clone(), from: current.total_seats, to });
            }
        }
        if total > MAX_TOTAL_SEATS {
            return Err(Error::validation(format!("the categories' seats together must be at most {MAX_TOTAL_SEATS}")));
        }
        Ok(moves)
    }
}

/// One category's total going from `from` (as read, and pinned by the write's condition) to
/// `to`. The difference moves `availableSeats` with it: raising adds seats to sell at once,
/// lowering takes only seats nobody holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatMove {
    pub category: CategoryId,
    pub from: i64,
    pub to: i64,
}

impl SeatMove {
    pub fn delta(&self) -> i64 {
        self.to - self.from
    }
}

/// Why a change's one write was refused, from the event as it was then (`None`: no such event):
/// `Some(the answer)`, or `None` when a total it pinned has moved since it was read (another
/// admin's change): read again and send it again, which decides afresh.
pub fn refused_change(event: Option<&Event>, moves: &[SeatMove]) -> Option<Error> {
    let Some(e) = event else { return Some(Error::NotFound("event")) };
    if e.status == EventStatus::Cancelled {
        return Some(Error::EventCancelled);
    }
    let current = |m: &SeatMove| e.category(&m.category);
    if moves.iter().any(|m| current(m).is_none_or(|c| c.total_seats != m.from)) {
        return None;
    }
    for m in moves {
        let c = current(m)?;
        let drop = -m.delta();
        if drop > c.available_seats {
            let held = c.total_seats - c.available_seats;
            return Some(Error::SeatsInUse { category: m.category.to_string(), held, requested: m.to });
        }
    }
    let net_drop = -moves.iter().map(SeatMove::delta).sum::<i64>();
    if net_drop > e.available_seats {
        let held = e.total_seats - e.available_seats;
        return Some(Error::SeatsInUse { category: "the event".into(), held, requested: e.total_seats - net_drop });
    }
    None
}

/// Is the event still taking locks at `now`?
pub fn is_open(event_date: Timestamp, now: Timestamp) -> bool {
    event_date > now
}

/// The event's side of a refused lock: the event as it was when the write was refused (`None`:
/// there is no such event). Why it could not give `requested` seats at `now`.
pub fn refused_lock(event: Option<&Event>, category: &CategoryId, requested: Seats, now: Timestamp) -> Error {
    let Some(e) = event else { return Error::NotFound("event") };
    match e.status {
        EventStatus::Cancelled => return Error::EventCancelled,
        EventStatus::SalesClosed => return Error::SalesClosed,
        EventStatus::OnSale => {}
    }
    if !is_open(e.event_date, now) {
        return Error::EventClosed(e.event_date);
    }
    let available = e.category(category).map_or(0, |c| c.available_seats).min(e.available_seats);
    Error::SeatsUnavailable { available, requested: requested.get() }
}

/// **The per-user limit.** A user's seats of one event (ACTIVE locks, PAYMENT_PENDING and
/// CONFIRMED bookings: every hold that still holds seats) plus a new lock's may not exceed the
/// event's `maxSeatsPerUser`. The store keeps the first sum in one counter item per (event, user),
/// changed in the same transaction as the seats themselves, and the lock's condition on it is
/// `attribute_not_exists(heldSeats) OR heldSeats <= :room` with `room` from here: `None` means no
/// count can make room (the lock alone is over the limit).
pub fn room_for(requested: Seats, max_seats_per_user: i64) -> Option<i64> {
    let room = max_seats_per_user - requested.get();
    (room >= 0).then_some(room)
}

/// The counter's side of a refused lock: the user already holds `held` seats of the event.
pub fn user_limit_reached(held: i64, requested: Seats, max_seats_per_user: i64) -> Error {
    Error::UserLimitReached { limit: max_seats_per_user, held, requested: requested.get() }
}

/// What a hold's seats count as in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatUse {
    Locked,
    Pending,
    Sold,
    /// Returned to the event (released, expired, cancelled).
    Free,
}

/// The seat accounting rule. Once a booking exists its status decides; before that the lock's.
pub fn seat_use(lock: LockStatus, booking: Option<BookingStatus>) -> SeatUse {
    match (lock, booking) {
        (_, Some(BookingStatus::PaymentPending)) => SeatUse::Pending,
        (_, Some(BookingStatus::Confirmed)) => SeatUse::Sold,
        (_, Some(BookingStatus::Expired | BookingStatus::Cancelled)) => SeatUse::Free,
        (LockStatus::Active, None) => SeatUse::Locked,
        // A consumed lock always has a booking; without one its seats are not accounted for.
        (LockStatus::Consumed | LockStatus::Expired | LockStatus::Released, None) => SeatUse::Free,
    }
}

/// Seats of one category (or of the whole event) by what holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub total_seats: i64,
    pub available_seats: i64,
    pub locked_seats: i64,
    pub pending_seats: i64,
    pub sold_seats: i64,
}

impl Counts {
    fn new(total_seats: i64, available_seats: i64) -> Self {
        Counts { total_seats, available_seats, locked_seats: 0, pending_seats: 0, sold_seats: 0 }
    }

    fn add(&mut self, seats: Seats, used: SeatUse) {
        match used {
            SeatUse::Locked => self.locked_seats += seats.get(),
            SeatUse::Pending => self.pending_seats += seats.get(),
            SeatUse::Sold => self.sold_seats += seats.get(),
            SeatUse::Free => {}
        }
    }

    /// What `availableSeats` should be, given the holds counted.
    pub fn expected_available(&self) -> i64 {
        self.total_seats - self.locked_seats - self.pending_seats - self.sold_seats
    }

    /// `availableSeats` minus what it should be: positive means seats were handed back twice,
    /// negative means seats are blocked with nothing holding them.
    pub fn drift(&self) -> i64 {
        self.available_seats - self.expected_available()
    }
}

/// One category's counts in the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryCounts {
    pub id: CategoryId,
    #[serde(flatten)]
    pub counts: Counts,
}

/// The event's seats by what holds them, for the event and for each category; the invariant holds
/// for each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    pub event_id: EventId,
    #[serde(flatten)]
    pub counts: Counts,
    pub categories: Vec<CategoryCounts>,
    /// Seats of holds naming a category the event does not have (a hand edit): counted for the
    /// event, and a reason not to repair it automatically.
    #[serde(skip)]
    pub unknown_category_seats: i64,
}

impl Inventory {
    /// Nothing counted yet: the event's totals and what it says is available, overall and per
    /// category (`(id, total, available)`).
    pub fn new(
        event_id: &EventId,
        total_seats: i64,
        available_seats: i64,
        categories: Vec<(CategoryId, i64, i64)>,
    ) -> Self {
        Inventory {
            event_id: event_id.clone(),
            counts: Counts::new(total_seats, available_seats),
            categories: categories
                .into_iter()
                .map(|(id, total, available)| CategoryCounts { id, counts: Counts::new(total, available) })
                .collect(),
            unknown_category_seats: 0,
        }
    }

    pub fn add(&mut self, category: &CategoryId, seats: Seats, used: SeatUse) {
        self.counts.add(seats, used);
        match self.categories.iter_mut().find(|c| &c.id == category) {
            Some(c) => c.counts.add(seats, used),
            None if used != SeatUse::Free => self.unknown_category_seats += seats.get(),
            None => {}
        }
    }

    /// What the event's `availableSeats` should be, given the holds counted.
    pub fn expected_available(&self) -> i64 {
        self.counts.expected_available()
    }

    /// The event's drift (see [`Counts::drift`]).
    pub fn drift(&self) -> i64 {
        self.counts.drift()
    }

    /// Seats out of place, over the categories and the event's own sum: 0 when every counter
    /// matches its holds.
    pub fn drift_seats(&self) -> i64 {
        let categories: i64 = self.categories.iter().map(|c| c.counts.drift().abs()).sum();
        categories.max(self.drift().abs())
    }

    /// More seats held than exist, somewhere: no counter value is right, a person decides.
    pub fn oversold(&self) -> bool {
        self.expected_available() < 0 || self.categories.iter().any(|c| c.counts.expected_available() < 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse("2026-06-01T00:00:00Z").unwrap()
    }

    fn seats(n: i64) -> Seats {
        Seats::try_from(n).unwrap()
    }

    fn plan(total_seats: i64) -> SeatPlan<'static> {
        SeatPlan::General { total_seats, price: 0 }
    }

    #[test]
    fn new_event_rules() {
        let ok = NewEvent::validate(" Gig ", None, "2027-01-01T20:00:00+02:00", plan(100), 20, None, now()).unwrap();
        assert_eq!(ok.name, "Gig");
        assert_eq!(ok.event_date.text(), "2027-01-01T18:00:00.000Z");
        assert!(NewEvent::validate("Gig", None, "2026-05-01T00:00:00Z", plan(100), 20, None, now()).is_err());
        assert!(NewEvent::validate("Gig", None, "next week", plan(100), 20, None, now()).is_err());
        assert!(NewEvent::validate("Gig", None, "2027-01-01T00:00:00Z", plan(0), 20, None, now()).is_err());
        assert!(NewEvent::validate("Gig", None, "2027-01-01T00:00:00Z", plan(100_001), 20, None, now()).is_err());
        assert!(NewEvent::validate("", None, "2027-01-01T00:00:00Z", plan(1), 20, None, now()).is_err());
        assert!(NewEvent::validate("Gig", None, "2027-01-01T00:00:00Z", plan(1), 0, None, now()).is_err());
        assert!(NewEvent::validate("Gig", None, "2027-01-01T00:00:00Z", plan(1), 1_001, None, now()).is_err());
        let priced = SeatPlan::General { total_seats: 10, price: 2500 };
        let one = NewEvent::validate("Gig", None, "2027-01-01T00:00:00Z", priced, 20, Some("usd"), now()).unwrap();
        assert_eq!(
            (one.categories[0].id.as_str(), one.categories[0].price, one.currency.as_str()),
            ("general", 2500, "usd")
        );
        let negative = SeatPlan::General { total_seats: 10, price: -1 };
        assert!(NewEvent::validate("Gig", None, "2027-01-01T00:00:00Z", negative, 20, None, now()).is_err());
        assert_eq!(
            NewEvent::validate("Gig", None, "2027-01-01T00:00:00Z", plan(1), 1_000, None, now())
                .unwrap()
                .max_seats_per_user,
            1_000
        );
    }

    fn change(categories: Vec<CategoryChangeRequest<'_>>) -> Result<EventChange, Error> {
        EventChange::validate(ChangeRequest { categories: Some(categories), ..no_fields() }, now())
    }

    fn cat(id: &str, price: Option<i64>, seats: Option<i64>) -> CategoryChangeRequest<'_> {
        CategoryChangeRequest { id, price, seats }
    }

    fn two_categories() -> Event {
        let c = |id: &str, total, available| Category {
            id: CategoryId::parse(id).unwrap(),
            name: id.into(),
            price: 100,
            total_seats: total,
            available_seats: available,
        };
        Event {
            id: EventId::generate(),
            name: "Gig".into(),
            description: None,
            event_date: Timestamp::parse("2026-07-01T00:00:00Z").unwrap(),
            status: EventStatus::OnSale,
            currency: "eur".into(),
            max_seats_per_user: 20,
            seated: false,
            total_seats: 30,
            available_seats: 22,
            categories: vec![c("vip", 10, 5), c("std", 20, 17)],
            created_at: now(),
            updated_at: now(),
        }
    }

    #[test]
    fn a_change_follows_the_creation_rules_and_must_change_something() {
        assert!(EventChange::validate(no_fields(), now()).is_err(), "{{}} changes nothing");
        let renamed = ChangeRequest { name: Some(" New "), ..no_fields() };
        assert_eq!(EventChange::validate(renamed, now()).unwrap().name.as_deref(), Some("New"));
        for bad in [
            ChangeRequest { name: Some("a\u{7}b"), ..no_fields() },
            ChangeRequest { name: Some("  "), ..no_fields() },
            ChangeRequest { event_date: Some("2026-05-01T00:00:00Z"), ..no_fields() },
            ChangeRequest { max_seats_per_user: Some(0), ..no_fields() },
            ChangeRequest { max_seats_per_user: Some(1_001), ..no_fields() },
        ] {
            assert!(EventChange::validate(bad, now()).is_err());
        }
        assert!(change(vec![cat("vip", Some(-1), None)]).is_err(), "negative price");
        assert!(change(vec![cat("vip", Some(100_000_001), None)]).is_err(), "price too high");
        for seats in [0, -1, 100_001] {
            assert!(change(vec![cat("vip", None, Some(seats))]).is_err(), "{seats} seats");
        }
        assert!(change(vec![cat("vip", Some(1), None), cat("vip", None, Some(2))]).is_err(), "twice");
        assert!(change(vec![cat("vip", None, None)]).is_err(), "a category entry that changes nothing");
        assert!(change(vec![cat("VIP", Some(1), None)]).is_err(), "not an id");
        assert!(change(vec![]).is_err(), "an empty list changes nothing");
    }

    fn no_fields() -> ChangeRequest<'static> {
        ChangeRequest {
            name: None,
            description: None,
            event_date: None,
            max_seats_per_user: None,
            sales_open: None,
            categories: None,
        }
    }

    #[test]
    fn seat_moves_are_checked_against_the_event_as_read() {
        let event = two_categories();
        let moves = change(vec![cat("vip", None, Some(12)), cat("std", Some(5), Some(20))]).unwrap();
        assert_eq!(
            moves.seat_moves(&event).unwrap(),
            vec![SeatMove { category: CategoryId::parse("vip").unwrap(), from: 10, to: 12 }],
            "an unchanged total moves nothing"
        );
        assert_eq!(
            change(vec![cat("balcony", Some(1), None)]).unwrap().seat_moves(&event).unwrap_err().code(),
            "VALIDATION_ERROR"
        );
        let over = change(vec![cat("std", None, Some(MAX_TOTAL_SEATS - 9))]).unwrap();
        assert!(over.seat_moves(&event).is_err(), "the event's total stays within 100,000");
        let exactly = change(vec![cat("std", None, Some(MAX_TOTAL_SEATS - 10))]).unwrap();
        assert!(exactly.seat_moves(&event).is_ok());
    }

    #[test]
    fn a_refused_change_is_explained_by_the_event_as_it_was() {
        let event = two_categories();
        let vip = CategoryId::parse("vip").unwrap();
        let lower = |to| vec![SeatMove { category: vip.clone(), from: 10, to }];
        assert_eq!(refused_change(None, &lower(6)).unwrap().code(), "NOT_FOUND");
        let cancelled = Event { status: EventStatus::Cancelled, ..event.clone() };
        assert_eq!(refused_change(Some(&cancelled), &lower(6)).unwrap().code(), "EVENT_CANCELLED");
        assert!(matches!(
            refused_change(Some(&event), &lower(4)),
            Some(Error::SeatsInUse { held: 5, requested: 4, .. })
        ));
        assert_eq!(refused_change(Some(&event), &lower(4)).unwrap().code(), "SEATS_IN_USE");
        let moved = vec![SeatMove { category: vip, from: 9, to: 4 }];
        assert!(refused_change(Some(&event), &moved).is_none(), "another admin moved the total: retry");
    }

    #[test]
    fn seat_accounting() {
        use BookingStatus as B;
        use LockStatus as L;
        assert_eq!(seat_use(L::Active, None), SeatUse::Locked);
        assert_eq!(seat_use(L::Consumed, Some(B::PaymentPending)), SeatUse::Pending);
        assert_eq!(seat_use(L::Consumed, Some(B::Confirmed)), SeatUse::Sold);
        assert_eq!(seat_use(L::Consumed, Some(B::Cancelled)), SeatUse::Free);
        assert_eq!(seat_use(L::Expired, Some(B::Expired)), SeatUse::Free);
        assert_eq!(seat_use(L::Released, None), SeatUse::Free);
        assert_eq!(seat_use(L::Expired, None), SeatUse::Free);
    }

    #[test]
    fn a_refused_lock_is_explained_by_the_event_as_it_was() {
        let general = CategoryId::general();
        let event = |date: &str, available, status| Event {
            id: EventId::generate(),
            name: "Gig".into(),
            description: None,
            event_date: Timestamp::parse(date).unwrap(),
            status,
            currency: "eur".into(),
            max_seats_per_user: 20,
            seated: false,
            total_seats: 10,
            available_seats: available,
            categories: vec![Category {
                id: CategoryId::general(),
                name: "General admission".into(),
                price: 0,
                total_seats: 10,
                available_seats: available,
            }],
            created_at: now(),
            updated_at: now(),
        };
        let on_sale = EventStatus::OnSale;
        assert_eq!(refused_lock(None, &general, seats(2), now()).code(), "NOT_FOUND");
        let past = event("2026-05-31T00:00:00Z", 10, on_sale);
        assert_eq!(refused_lock(Some(&past), &general, seats(2), now()).code(), "EVENT_CLOSED");
        assert!(matches!(
            refused_lock(Some(&event("2026-07-01T00:00:00Z", 1, on_sale)), &general, seats(2), now()),
            Error::SeatsUnavailable { available: 1, requested: 2 }
        ));
        let closed = event("2026-07-01T00:00:00Z", 10, EventStatus::SalesClosed);
        assert_eq!(refused_lock(Some(&closed), &general, seats(2), now()).code(), "SALES_CLOSED");
        let cancelled = event("2026-07-01T00:00:00Z", 10, EventStatus::Cancelled);
        assert_eq!(refused_lock(Some(&cancelled), &general, seats(2), now()).code(), "EVENT_CANCELLED");
    }

    #[test]
    fn the_per_user_limit_leaves_room_for_what_fits() {
        assert_eq!(room_for(seats(2), 20), Some(18));
        assert_eq!(room_for(seats(20), 20), Some(0));
        assert_eq!(room_for(seats(3), 2), None, "a lock alone over the limit has no room at any count");
        assert!(matches!(
            user_limit_reached(19, seats(2), 20),
            Error::UserLimitReached { limit: 20, held: 19, requested: 2 }
        ));
        assert_eq!(user_limit_reached(19, seats(2), 20).code(), "USER_LIMIT_REACHED");
    }

    #[test]
    fn drift_is_available_minus_expected_for_the_event_and_each_category() {
        let (vip, std) = (CategoryId::parse("vip").unwrap(), CategoryId::parse("std").unwrap());
        let mut inv = Inventory::new(&EventId::generate(), 100, 90, vec![(vip.clone(), 20, 15), (std.clone(), 80, 75)]);
        inv.add(&vip, seats(5), SeatUse::Locked);
        inv.add(&std, seats(3), SeatUse::Pending);
        inv.add(&std, seats(2), SeatUse::Sold);
        inv.add(&std, seats(4), SeatUse::Free);
        assert_eq!(inv.expected_available(), 90);
        assert_eq!((inv.drift(), inv.drift_seats()), (0, 0));
        inv.counts.available_seats = 83;
        assert_eq!(inv.drift(), -7);
        assert_eq!(inv.drift_seats(), 7);
        // Seats moved between categories: the event's sum is right, each category is not.
        inv.counts.available_seats = 90;
        inv.categories[0].counts.available_seats = 17;
        inv.categories[1].counts.available_seats = 73;
        assert_eq!((inv.drift(), inv.drift_seats()), (0, 4));
        assert!(!inv.oversold());
        inv.add(&vip, seats(20), SeatUse::Sold);
        assert!(inv.oversold(), "25 of 20 VIP seats held");
    }
}
