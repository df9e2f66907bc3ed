//! A hold is one lock and, once confirmed, the booking made from it. They are stored as one
//! record, so confirming (lock `CONSUMED`, booking `PAYMENT_PENDING`) is a single-item write and no
//! reader ever sees one without the other.
//!
//! Every transition is a conditional write (`store::locks`, `store::bookings`). When the
//! condition fails, DynamoDB hands back the records as they were; the store turns them into
//! domain values and the functions here decide what the caller is told. They never decide
//! whether to write.
use crate::domain::booking::{self, Booking, BookingStatus, PaymentReference};
use crate::domain::category::CategoryId;
use crate::domain::event::{self, Event};
use crate::domain::lock::{self, Lock, LockStatus, NewLock};
use crate::domain::user::Caller;
use crate::time::Timestamp;
use crate::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    pub lock: Lock,
    pub booking: Option<Booking>,
    /// The event's date as the lock saw it (holds written before it was kept have none).
    pub event_date: Option<Timestamp>,
    /// The event was cancelled and its cancellation handed this hold back.
    pub event_cancelled: bool,
}

impl Hold {
    /// Owners see their holds, admins see all; anyone else is told it does not exist.
    pub fn visible_to(&self, caller: &Caller) -> bool {
        caller.is_admin() || self.lock.user_id == caller.user_id
    }

    fn owned_by(&self, caller: &Caller) -> bool {
        self.lock.user_id == caller.user_id
    }
}

/// What a refused `POST /api/locks` transaction handed back, item by item.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusedLock {
    /// The hold already at this (caller, key, event): the request was made before.
    pub existing: Option<Hold>,
    /// The caller's key was already claimed (on this event or another).
    pub key_claimed: bool,
    /// The event's condition failed: `Some(None)` if there is no such event, else the event as it
    /// was. `None` if the event's condition held.
    pub event: Option<Option<Event>>,
    /// The per-user counter's condition failed: the caller's seats of the event as counted then.
    pub held_seats: Option<i64>,
}

/// `POST /api/locks` was refused. `Ok` is the idempotent answer: the same request was made before
/// with this key (same event and seats), and this is its lock, whatever has become of it since.
/// A replay is answered before any limit is looked at: it takes nothing, so it never counts twice.
/// `max_seats_per_user` is the limit the write pinned (its condition held it to the event's).
pub fn refused_lock(
    req: &NewLock,
    refused: RefusedLock,
    category: &CategoryId,
    max_seats_per_user: i64,
    now: Timestamp,
) -> Result<Lock, Error> {
    if let Some(existing) = refused.existing {
        let same = existing.lock.event_id == req.event_id
            && existing.lock.seats == req.seats
            && &existing.lock.category_id == category;
        return if same { Ok(existing.lock) } else { Err(key_reused()) };
    }
    if refused.key_claimed {
        return Err(key_reused());
    }
    match (refused.event, refused.held_seats) {
        (Some(event), _) => Err(event::refused_lock(event.as_ref(), category, req.seats, now)),
        (None, Some(held)) => Err(event::user_limit_reached(held, req.seats, max_seats_per_user)),
        (None, None) => Err(Error::internal_message("lock refused without a failed condition")),
    }
}

/// Has the event of this hold taken place? (Holds from before the date was kept: never.)
fn event_closed(hold: &Hold, now: Timestamp) -> Option<Error> {
    hold.event_date.filter(|d| !event::is_open(*d, now)).map(Error::EventClosed)
}

fn key_reused() -> Error {
    Error::IdempotencyKeyReused(
        "this idempotency key was already used for a different request (eventId, categoryId or seats differ)".into(),
    )
}

/// Confirm was refused. `Ok` is the idempotent answer: the lock was confirmed before.
pub fn refused_confirm(hold: Option<Hold>, caller: &Caller, now: Timestamp) -> Result<Booking, Error> {
    let hold = hold.filter(|h| h.owned_by(caller)).ok_or(Error::NotFound("lock"))?;
    if let Some(booking) = hold.booking {
        return Ok(booking);
    }
    if hold.event_cancelled {
        return Err(Error::EventCancelled);
    }
    if let Some(closed) = event_closed(&hold, now).filter(|_| hold.lock.status == LockStatus::Active) {
        return Err(closed);
    }
    Err(match hold.lock.status {
        LockStatus::Active | LockStatus::Expired if lock::is_expired(hold.lock.expires_at, now) => {
            Error::LockExpired(hold.lock.expires_at)
        }
        status => Error::LockNotActive(status),
    })
}

/// Release was refused (or there was nothing of the caller's to release).
pub fn refused_release(hold: Option<Hold>, caller: &Caller) -> Error {
    match hold.filter(|h| h.owned_by(caller)) {
        None => Error::NotFound("lock"),
        Some(h) if h.event_cancelled => Error::EventCancelled,
        Some(h) => Error::LockNotActive(h.lock.status),
    }
}

/// Pay was refused. `Ok` is the idempotent answer: already paid with this reference.
pub fn refused_pay(
    hold: Option<Hold>,
    caller: &Caller,
    reference: &PaymentReference,
    now: Timestamp,
) -> Result<Booking, Error> {
    let hold = hold.filter(|h| h.owned_by(caller)).ok_or(Error::NotFound("booking"))?;
    let closed = event_closed(&hold, now);
    let cancelled = hold.event_cancelled;
    let booking = hold.booking.ok_or(Error::NotFound("booking"))?;
    match booking.status {
        BookingStatus::Confirmed if booking.payment_reference.as_ref() == Some(reference) => Ok(booking),
        BookingStatus::Cancelled if cancelled => Err(Error::EventCancelled),
        BookingStatus::PaymentPending if closed.is_some() => Err(closed.expect("checked")),
        BookingStatus::PaymentPending | BookingStatus::Expired
            if booking::is_payment_window_closed(booking.payment_expires_at, now) =>
        {
            Err(Error::PaymentWindowClosed(booking.payment_expires_at))
        }
        status => Err(Error::BookingNotPending(status)),
    }
}

/// Cancel was refused (or there was no booking of the caller's to cancel).
pub fn refused_cancel(hold: Option<Hold>, caller: &Caller, now: Timestamp) -> Error {
    let Some(hold) = hold.filter(|h| h.owned_by(caller)) else {
        return Error::NotFound("booking");
    };
    if hold.event_cancelled {
        return Error::EventCancelled;
    }
    let Some(booking) = hold.booking else {
        return Error::NotFound("booking");
    };
    match booking.status {
        // Past its window it is expired, whether or not the job has marked it yet.
        BookingStatus::PaymentPending if booking::is_payment_window_closed(booking.payment_expires_at, now) => {
            Error::BookingNotPending(BookingStatus::Expired)
        }
        status => Error::BookingNotPending(status),
    }
}

/// A cancel was refused because the booking changed after it was read; `true` if it became
/// CONFIRMED (paid meanwhile), so reading it again and cancelling the paid booking is right.
pub fn cancel_raced_payment(seen: BookingStatus, now_is: Option<&Hold>) -> bool {
    now_is.and_then(|h| h.booking.as_ref()).is_some_and(|b| b.status != seen && b.status == BookingStatus::Confirmed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{EventId, UserId};
    use crate::domain::lock::{IdempotencyKey, Seats, Window};
    use crate::domain::user::Role;

    const T0: &str = "2026-01-29T11:00:00.000Z";
    const EXP: &str = "2026-01-29T11:05:00.000Z";
    const LATE: &str = "2026-01-29T11:06:00.000Z";
    const EVENT: &str = "2026-02-01T20:00:00.000Z";
    const AFTER_EVENT: &str = "2026-02-01T20:00:00.001Z";

    fn t(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn seats(n: i64) -> Seats {
        Seats::try_from(n).unwrap()
    }

    struct World {
        owner: UserId,
        event: EventId,
    }

    impl World {
        fn new() -> Self {
            World { owner: UserId::generate(), event: EventId::generate() }
        }

        fn caller(&self) -> Caller {
            Caller { user_id: self.owner.clone(), role: Role::User }
        }

        fn request(&self, event: &EventId, n: i64) -> NewLock {
            NewLock {
                event_id: event.clone(),
                user_id: self.owner.clone(),
                category: None,
                seats: seats(n),
                idempotency_key: IdempotencyKey::parse("k").unwrap(),
                life: Window { from: t(T0), until: t(EXP) },
            }
        }

        fn hold(&self, status: LockStatus, booking: Option<BookingStatus>) -> Hold {
            let at = self.request(&self.event, 2).hold_ref();
            Hold {
                lock: Lock {
                    id: at.lock_id(),
                    event_id: self.event.clone(),
                    user_id: self.owner.clone(),
                    category_id: CategoryId::general(),
                    seats: seats(2),
                    seat_ids: Vec::new(),
                    unit_price: 1000,
                    amount: 2000,
                    currency: "eur".into(),
                    status,
                    expires_at: t(EXP),
                    idempotency_key: IdempotencyKey::parse("k").unwrap(),
                    created_at: t(T0),
                    updated_at: t(T0),
                },
                booking: booking.map(|status| Booking {
                    id: at.booking_id(),
                    event: self.event.clone(),
                    user: self.owner.clone(),
                    category_id: CategoryId::general(),
                    seats: seats(2),
                    seat_ids: Vec::new(),
                    amount: 2000,
                    currency: "eur".into(),
                    status,
                    seat_lock_id: at.lock_id(),
                    payment_expires_at: t(EXP),
                    created_at: t(T0),
                    updated_at: t(T0),
                    paid_at: None,
                    payment_reference: (status == BookingStatus::Confirmed).then(|| reference("ref-1")),
                    refunded_at: None,
                }),
                event_date: Some(t(EVENT)),
                event_cancelled: false,
            }
        }
    }

    fn stranger() -> Caller {
        Caller { user_id: UserId::generate(), role: Role::User }
    }

    fn reference(r: &str) -> PaymentReference {
        PaymentReference::parse(r).unwrap()
    }

    fn replay(existing: Hold) -> RefusedLock {
        RefusedLock { existing: Some(existing), key_claimed: true, event: None, held_seats: None }
    }

    #[test]
    fn replay_needs_the_same_event_and_seats() {
        let w = World::new();
        let existing = w.hold(LockStatus::Active, None);
        assert!(
            refused_lock(&w.request(&w.event, 2), replay(existing.clone()), &CategoryId::general(), 20, t(T0)).is_ok()
        );
        // A replay is the replay, whatever the counter says: it takes nothing.
        let at_limit = RefusedLock { held_seats: Some(20), ..replay(existing.clone()) };
        assert!(refused_lock(&w.request(&w.event, 2), at_limit, &CategoryId::general(), 20, t(T0)).is_ok());
        let more = refused_lock(&w.request(&w.event, 3), replay(existing.clone()), &CategoryId::general(), 20, t(T0));
        assert!(matches!(more, Err(Error::IdempotencyKeyReused(_))));
        let elsewhere = refused_lock(
            &w.request(&EventId::generate(), 2),
            replay(existing.clone()),
            &CategoryId::general(),
            20,
            t(T0),
        );
        assert!(matches!(elsewhere, Err(Error::IdempotencyKeyReused(_))));
        // The same key for another category of the same event is another request.
        let vip = CategoryId::parse("vip").unwrap();
        let other_category = refused_lock(&w.request(&w.event, 2), replay(existing), &vip, 20, t(T0));
        assert!(matches!(other_category, Err(Error::IdempotencyKeyReused(_))));
    }

    #[test]
    fn lock_refusals_come_from_the_key_claim_then_the_event() {
        let w = World::new();
        let req = w.request(&w.event, 2);
        let claimed = RefusedLock { existing: None, key_claimed: true, event: Some(None), held_seats: None };
        assert!(matches!(
            refused_lock(&req, claimed, &CategoryId::general(), 20, t(T0)),
            Err(Error::IdempotencyKeyReused(_))
        ));
        let no_event = RefusedLock { existing: None, key_claimed: false, event: Some(None), held_seats: Some(20) };
        assert!(matches!(
            refused_lock(&req, no_event, &CategoryId::general(), 20, t(T0)),
            Err(Error::NotFound("event"))
        ));
        let over = RefusedLock { existing: None, key_claimed: false, event: None, held_seats: Some(19) };
        assert!(matches!(
            refused_lock(&req, over, &CategoryId::general(), 20, t(T0)),
            Err(Error::UserLimitReached { limit: 20, held: 19, requested: 2 })
        ));
        let nothing = RefusedLock { existing: None, key_claimed: false, event: None, held_seats: None };
        assert_eq!(refused_lock(&req, nothing, &CategoryId::general(), 20, t(T0)).unwrap_err().code(), "INTERNAL");
    }

    #[test]
    fn confirm_refusals() {
        let w = World::new();
        let me = w.caller();
        assert!(matches!(refused_confirm(None, &me, t(T0)), Err(Error::NotFound(_))));
        assert!(matches!(
            refused_confirm(Some(w.hold(LockStatus::Active, None)), &stranger(), t(T0)),
            Err(Error::NotFound(_))
        ));
        // Expired by the clock, whether or not the job has marked it.
        let active = Some(w.hold(LockStatus::Active, None));
        assert!(matches!(refused_confirm(active, &me, t(LATE)), Err(Error::LockExpired(_))));
        let expired = Some(w.hold(LockStatus::Expired, None));
        assert!(matches!(refused_confirm(expired, &me, t(LATE)), Err(Error::LockExpired(_))));
        assert!(matches!(
            refused_confirm(Some(w.hold(LockStatus::Released, None)), &me, t(T0)),
            Err(Error::LockNotActive(LockStatus::Released))
        ));
        // Confirmed before: the same booking.
        let confirmed = w.hold(LockStatus::Consumed, Some(BookingStatus::PaymentPending));
        let replay = refused_confirm(Some(confirmed.clone()), &me, t(T0)).unwrap();
        assert_eq!(Some(replay), confirmed.booking);
    }

    #[test]
    fn pay_refusals() {
        let w = World::new();
        let me = w.caller();
        let paid = Some(w.hold(LockStatus::Consumed, Some(BookingStatus::Confirmed)));
        assert!(refused_pay(paid.clone(), &me, &reference("ref-1"), t(T0)).is_ok());
        assert!(matches!(refused_pay(paid, &me, &reference("ref-2"), t(T0)), Err(Error::BookingNotPending(_))));
        let pending = Some(w.hold(LockStatus::Consumed, Some(BookingStatus::PaymentPending)));
        assert!(matches!(refused_pay(pending, &me, &reference("r"), t(LATE)), Err(Error::PaymentWindowClosed(_))));
        let expired = Some(w.hold(LockStatus::Expired, Some(BookingStatus::Expired)));
        assert!(matches!(refused_pay(expired, &me, &reference("r"), t(LATE)), Err(Error::PaymentWindowClosed(_))));
        let cancelled = Some(w.hold(LockStatus::Consumed, Some(BookingStatus::Cancelled)));
        assert!(matches!(refused_pay(cancelled, &me, &reference("r"), t(T0)), Err(Error::BookingNotPending(_))));
        let lock_only = Some(w.hold(LockStatus::Active, None));
        assert!(matches!(refused_pay(lock_only, &me, &reference("r"), t(T0)), Err(Error::NotFound(_))));
    }

    #[test]
    fn after_the_event_date_confirm_and_pay_are_refused_as_closed() {
        let w = World::new();
        let me = w.caller();
        let with_date = |status, booking, date: &str| Hold { event_date: Some(t(date)), ..w.hold(status, booking) };
        // A lock still inside its life, but the event began.
        let lock = with_date(LockStatus::Active, None, T0);
        assert!(matches!(refused_confirm(Some(lock), &me, t(T0)), Err(Error::EventClosed(_))));
        let lock = with_date(LockStatus::Active, None, EVENT);
        assert!(matches!(refused_confirm(Some(lock.clone()), &me, t(AFTER_EVENT)), Err(Error::EventClosed(_))));
        // A confirmed lock is still answered with its booking; a released one is still not active.
        let confirmed = with_date(LockStatus::Consumed, Some(BookingStatus::PaymentPending), T0);
        assert!(refused_confirm(Some(confirmed.clone()), &me, t(T0)).is_ok());
        let released = with_date(LockStatus::Released, None, T0);
        assert!(matches!(refused_confirm(Some(released), &me, t(T0)), Err(Error::LockNotActive(_))));
        // Pay: a pending booking of a past event is closed; a paid one is still its own replay.
        assert!(matches!(refused_pay(Some(confirmed), &me, &reference("r"), t(T0)), Err(Error::EventClosed(_))));
        let paid = with_date(LockStatus::Consumed, Some(BookingStatus::Confirmed), T0);
        assert!(refused_pay(Some(paid), &me, &reference("ref-1"), t(T0)).is_ok());
        // Holds written before the date was kept are judged as before.
        let undated = Hold { event_date: None, ..w.hold(LockStatus::Active, None) };
        assert!(matches!(refused_confirm(Some(undated), &me, t(LATE)), Err(Error::LockExpired(_))));
    }

    #[test]
    fn release_and_cancel_refusals() {
        let w = World::new();
        let me = w.caller();
        assert!(matches!(refused_release(Some(w.hold(LockStatus::Released, None)), &me), Error::LockNotActive(_)));
        assert!(matches!(refused_release(Some(w.hold(LockStatus::Active, None)), &stranger()), Error::NotFound(_)));
        let cancelled = Some(w.hold(LockStatus::Consumed, Some(BookingStatus::Cancelled)));
        assert!(matches!(refused_cancel(cancelled, &me, t(T0)), Error::BookingNotPending(BookingStatus::Cancelled)));
        let pending = Some(w.hold(LockStatus::Consumed, Some(BookingStatus::PaymentPending)));
        let late = refused_cancel(pending, &me, t(LATE));
        assert!(matches!(late, Error::BookingNotPending(BookingStatus::Expired)));
    }

    #[test]
    fn a_cancel_is_tried_again_only_when_the_booking_was_paid_meanwhile() {
        let w = World::new();
        let paid = w.hold(LockStatus::Consumed, Some(BookingStatus::Confirmed));
        assert!(cancel_raced_payment(BookingStatus::PaymentPending, Some(&paid)));
        assert!(!cancel_raced_payment(BookingStatus::Confirmed, Some(&paid)));
        let expired = w.hold(LockStatus::Expired, Some(BookingStatus::Expired));
        assert!(!cancel_raced_payment(BookingStatus::PaymentPending, Some(&expired)));
        assert!(!cancel_raced_payment(BookingStatus::PaymentPending, None));
    }

    #[test]
    fn admins_see_everything_owners_see_their_own() {
        let w = World::new();
        let h = w.hold(LockStatus::Active, None);
        assert!(h.visible_to(&w.caller()));
        assert!(!h.visible_to(&stranger()));
        assert!(h.visible_to(&Caller { user_id: UserId::generate(), role: Role::Admin }));
    }
}
