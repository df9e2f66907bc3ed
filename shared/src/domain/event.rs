//! Events and the seat inventory.
//!
//! The invariant the whole system keeps: for every event
//! `totalSeats = availableSeats + lockedSeats + pendingSeats + soldSeats`, where the last three are
//! sums over the event's holds (see [`SeatUse`]).
use serde::{Deserialize, Serialize};

use crate::domain::booking::BookingStatus;
use crate::domain::ids::EventId;
use crate::domain::lock::{LockStatus, Seats};
use crate::time::Timestamp;
use crate::Error;

pub const MAX_TOTAL_SEATS: i64 = 100_000;
/// The highest `maxSeatsPerUser` an event may have (the contract's 1..1000).
pub const MAX_SEATS_PER_USER_LIMIT: i64 = 1_000;
pub const NAME_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 5_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(rename = "_id")]
    pub id: EventId,
    pub name: String,
    pub description: Option<String>,
    pub event_date: Timestamp,
    pub max_seats_per_user: i64,
    pub total_seats: i64,
    pub available_seats: i64,
    pub created_at: Timestamp,
}

impl Event {
    pub fn terms(&self) -> Terms {
        Terms { event_date: self.event_date, max_seats_per_user: self.max_seats_per_user }
    }
}

/// What a lock must know of its event before it is written: when the event takes place (the
/// hold keeps a copy, so confirm and pay can refuse `EVENT_CLOSED` from the hold alone) and how
/// many seats one user may hold. The lock's write pins both (`eventDate = :date AND
/// maxSeatsPerUser = :max`), so terms that are out of date can only make it refuse, never
/// decide wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub event_date: Timestamp,
    pub max_seats_per_user: i64,
}

/// A validated request to create an event.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub name: String,
    pub description: Option<String>,
    pub event_date: Timestamp,
    pub total_seats: i64,
    pub max_seats_per_user: i64,
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
        total_seats: i64,
        max_seats_per_user: i64,
        now: Timestamp,
    ) -> Result<Self, Error> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
            return Err(Error::validation(format!("name must be 1 to {NAME_MAX_CHARS} characters")));
        }
        if super::has_control_characters(name, false) {
            return Err(Error::validation("name must not contain control characters"));
        }
        if description.is_some_and(|d| d.chars().count() > DESCRIPTION_MAX_CHARS) {
            return Err(Error::validation(format!("description must be at most {DESCRIPTION_MAX_CHARS} characters")));
        }
        if description.is_some_and(|d| super::has_control_characters(d, true)) {
            return Err(Error::validation(
                "description must not contain control characters other than line breaks and tabs",
            ));
        }
        let date = Timestamp::parse(event_date).ok_or_else(|| {
            Error::validation("eventDate must be an ISO-8601 timestamp such as 2030-01-29T19:30:00.000Z")
        })?;
        if date <= now {
            return Err(Error::validation("eventDate must be in the future"));
        }
        if !(1..=MAX_TOTAL_SEATS).contains(&total_seats) {
            return Err(Error::validation(format!("totalSeats must be an integer from 1 to {MAX_TOTAL_SEATS}")));
        }
        Ok(NewEvent {
            name: name.to_string(),
            description: description.map(str::to_string),
            event_date: date,
            total_seats,
            max_seats_per_user: parse_max_seats_per_user(max_seats_per_user)?,
        })
    }
}

/// Is the event still taking locks at `now`?
pub fn is_open(event_date: Timestamp, now: Timestamp) -> bool {
    event_date > now
}

/// The event's side of a refused lock: the event as it was when the write was refused (`None`:
/// there is no such event). Why it could not give `requested` seats at `now`.
pub fn refused_lock(event: Option<&Event>, requested: Seats, now: Timestamp) -> Error {
    match event {
        None => Error::NotFound("event"),
        Some(e) if !is_open(e.event_date, now) => Error::EventClosed(e.event_date),
        Some(e) => Error::SeatsUnavailable { available: e.available_seats, requested: requested.get() },
    }
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    pub event_id: EventId,
    pub total_seats: i64,
    pub available_seats: i64,
    pub locked_seats: i64,
    pub pending_seats: i64,
    pub sold_seats: i64,
}

impl Inventory {
    pub fn new(event_id: &EventId, total_seats: i64, available_seats: i64) -> Self {
        Inventory {
            event_id: event_id.clone(),
            total_seats,
            available_seats,
            locked_seats: 0,
            pending_seats: 0,
            sold_seats: 0,
        }
    }

    pub fn add(&mut self, seats: Seats, used: SeatUse) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse("2026-06-01T00:00:00Z").unwrap()
    }

    fn seats(n: i64) -> Seats {
        Seats::try_from(n).unwrap()
    }

    #[test]
    fn new_event_rules() {
        let ok = NewEvent::validate(" Gig ", None, "2027-01-01T20:00:00+02:00", 100, 20, now()).unwrap();
        assert_eq!(ok.name, "Gig");
        assert_eq!(ok.event_date.text(), "2027-01-01T18:00:00.000Z");
        assert!(NewEvent::validate("Gig", None, "2026-05-01T00:00:00Z", 100, 20, now()).is_err());
        assert!(NewEvent::validate("Gig", None, "next week", 100, 20, now()).is_err());
        assert!(NewEvent::validate("Gig", None, "2027-01-01T00:00:00Z", 0, 20, now()).is_err());
        assert!(NewEvent::validate("Gig", None, "2027-01-01T00:00:00Z", 100_001, 20, now()).is_err());
        assert!(NewEvent::validate("", None, "2027-01-01T00:00:00Z", 1, 20, now()).is_err());
        assert!(NewEvent::validate("Gig", None, "2027-01-01T00:00:00Z", 1, 0, now()).is_err());
        assert!(NewEvent::validate("Gig", None, "2027-01-01T00:00:00Z", 1, 1_001, now()).is_err());
        assert_eq!(
            NewEvent::validate("Gig", None, "2027-01-01T00:00:00Z", 1, 1_000, now()).unwrap().max_seats_per_user,
            1_000
        );
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
        let event = |date: &str, available| Event {
            id: EventId::generate(),
            name: "Gig".into(),
            description: None,
            event_date: Timestamp::parse(date).unwrap(),
            max_seats_per_user: 20,
            total_seats: 10,
            available_seats: available,
            created_at: now(),
        };
        assert_eq!(refused_lock(None, seats(2), now()).code(), "NOT_FOUND");
        assert_eq!(refused_lock(Some(&event("2026-05-31T00:00:00Z", 10)), seats(2), now()).code(), "EVENT_CLOSED");
        assert!(matches!(
            refused_lock(Some(&event("2026-07-01T00:00:00Z", 1)), seats(2), now()),
            Error::SeatsUnavailable { available: 1, requested: 2 }
        ));
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
    fn drift_is_available_minus_expected() {
        let mut inv = Inventory::new(&EventId::generate(), 100, 90);
        inv.add(seats(5), SeatUse::Locked);
        inv.add(seats(3), SeatUse::Pending);
        inv.add(seats(2), SeatUse::Sold);
        assert_eq!(inv.expected_available(), 90);
        assert_eq!(inv.drift(), 0);
        inv.available_seats = 83;
        assert_eq!(inv.drift(), -7);
    }
}
