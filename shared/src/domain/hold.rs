//! A hold is one lock and, once confirmed, the booking made from it. They are stored as one
//! record, so confirming (lock `CONSUMED`, booking `PAYMENT_PENDING`) is a single-item write and no
//! reader ever sees one without the other.
//!
//! Every transition is a conditional write (`store::locks`, `store::bookings`). When the
//! condition fails, DynamoDB hands back the record as it was; the functions here read that record
//! and decide what the caller is told. They never decide whether to write.
use crate::domain::booking::{self, Booking, BookingStatus};
use crate::domain::lock::{self, Lock, LockStatus};
use crate::domain::user::Caller;
use crate::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    pub lock: Lock,
    pub booking: Option<Booking>,
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

/// `POST /api/locks` found the caller's key already used. Same event and seats: the same lock,
/// whatever has become of it since. Anything else: the key was reused for a different request.
pub fn replayed_lock(existing: Hold, event_id: &str, seats: i64) -> Result<Lock, Error> {
    if existing.lock.event_id == event_id && existing.lock.seats == seats {
        Ok(existing.lock)
    } else {
        Err(key_reused())
    }
}

pub fn key_reused() -> Error {
    Error::IdempotencyKeyReused(
        "this idempotency key was already used for a different request (eventId or seats differ)".into(),
    )
}

/// Confirm was refused. `Ok` is the idempotent answer: the lock was confirmed before.
pub fn refused_confirm(hold: Option<Hold>, caller: &Caller, now: &str) -> Result<Booking, Error> {
    let hold = hold.filter(|h| h.owned_by(caller)).ok_or(Error::NotFound("lock"))?;
    if let Some(booking) = hold.booking {
        return Ok(booking);
    }
    Err(match hold.lock.status {
        LockStatus::Active | LockStatus::Expired if lock::is_expired(&hold.lock.expires_at, now) => {
            Error::LockExpired(hold.lock.expires_at)
        }
        status => Error::LockNotActive(status),
    })
}

/// Release was refused.
pub fn refused_release(hold: Option<Hold>, caller: &Caller) -> Error {
    match hold.filter(|h| h.owned_by(caller)) {
        None => Error::NotFound("lock"),
        Some(h) => Error::LockNotActive(h.lock.status),
    }
}

/// Pay was refused. `Ok` is the idempotent answer: already paid with this reference.
pub fn refused_pay(hold: Option<Hold>, caller: &Caller, reference: &str, now: &str) -> Result<Booking, Error> {
    let booking = hold.filter(|h| h.owned_by(caller)).and_then(|h| h.booking).ok_or(Error::NotFound("booking"))?;
    match booking.status {
        BookingStatus::Confirmed if booking.payment_reference.as_deref() == Some(reference) => Ok(booking),
        BookingStatus::PaymentPending | BookingStatus::Expired
            if booking::is_payment_window_closed(&booking.payment_expires_at, now) =>
        {
            Err(Error::PaymentWindowClosed(booking.payment_expires_at))
        }
        status => Err(Error::BookingNotPending(status)),
    }
}

/// Cancel was refused.
pub fn refused_cancel(hold: Option<Hold>, caller: &Caller, now: &str) -> Error {
    let Some(booking) = hold.filter(|h| h.owned_by(caller)).and_then(|h| h.booking) else {
        return Error::NotFound("booking");
    };
    match booking.status {
        // Past its window it is expired, whether or not the job has marked it yet.
        BookingStatus::PaymentPending if booking::is_payment_window_closed(&booking.payment_expires_at, now) => {
            Error::BookingNotPending(BookingStatus::Expired)
        }
        status => Error::BookingNotPending(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Role;

    const T0: &str = "2026-01-29T11:00:00.000Z";
    const EXP: &str = "2026-01-29T11:05:00.000Z";
    const LATE: &str = "2026-01-29T11:06:00.000Z";

    fn caller(id: &str) -> Caller {
        Caller { user_id: id.into(), role: Role::User }
    }

    fn hold(status: LockStatus, booking: Option<BookingStatus>) -> Hold {
        Hold {
            lock: Lock {
                id: "lk".into(),
                event_id: "e".into(),
                user_id: "u".into(),
                seats: 2,
                status,
                expires_at: EXP.into(),
                idempotency_key: "k".into(),
                created_at: T0.into(),
                updated_at: T0.into(),
            },
            booking: booking.map(|status| Booking {
                id: "bk".into(),
                event: "e".into(),
                user: "u".into(),
                seats: 2,
                status,
                seat_lock_id: "lk".into(),
                payment_expires_at: EXP.into(),
                created_at: T0.into(),
                updated_at: T0.into(),
                paid_at: None,
                payment_reference: (status == BookingStatus::Confirmed).then(|| "ref-1".into()),
            }),
        }
    }

    #[test]
    fn replay_needs_the_same_event_and_seats() {
        assert!(replayed_lock(hold(LockStatus::Active, None), "e", 2).is_ok());
        assert!(matches!(replayed_lock(hold(LockStatus::Active, None), "e", 3), Err(Error::IdempotencyKeyReused(_))));
        assert!(matches!(replayed_lock(hold(LockStatus::Active, None), "f", 2), Err(Error::IdempotencyKeyReused(_))));
    }

    #[test]
    fn confirm_refusals() {
        let me = caller("u");
        assert!(matches!(refused_confirm(None, &me, T0), Err(Error::NotFound(_))));
        assert!(matches!(
            refused_confirm(Some(hold(LockStatus::Active, None)), &caller("x"), T0),
            Err(Error::NotFound(_))
        ));
        // Expired by the clock, whether or not the job has marked it.
        assert!(matches!(refused_confirm(Some(hold(LockStatus::Active, None)), &me, LATE), Err(Error::LockExpired(_))));
        assert!(matches!(
            refused_confirm(Some(hold(LockStatus::Expired, None)), &me, LATE),
            Err(Error::LockExpired(_))
        ));
        assert!(matches!(
            refused_confirm(Some(hold(LockStatus::Released, None)), &me, T0),
            Err(Error::LockNotActive(LockStatus::Released))
        ));
        // Confirmed before: the same booking.
        let replay =
            refused_confirm(Some(hold(LockStatus::Consumed, Some(BookingStatus::PaymentPending))), &me, T0).unwrap();
        assert_eq!(replay.id, "bk");
    }

    #[test]
    fn pay_refusals() {
        let me = caller("u");
        let paid = Some(hold(LockStatus::Consumed, Some(BookingStatus::Confirmed)));
        assert!(refused_pay(paid.clone(), &me, "ref-1", T0).is_ok());
        assert!(matches!(refused_pay(paid, &me, "ref-2", T0), Err(Error::BookingNotPending(_))));
        let pending = Some(hold(LockStatus::Consumed, Some(BookingStatus::PaymentPending)));
        assert!(matches!(refused_pay(pending, &me, "r", LATE), Err(Error::PaymentWindowClosed(_))));
        let expired = Some(hold(LockStatus::Expired, Some(BookingStatus::Expired)));
        assert!(matches!(refused_pay(expired, &me, "r", LATE), Err(Error::PaymentWindowClosed(_))));
        let cancelled = Some(hold(LockStatus::Consumed, Some(BookingStatus::Cancelled)));
        assert!(matches!(refused_pay(cancelled, &me, "r", T0), Err(Error::BookingNotPending(_))));
        assert!(matches!(refused_pay(Some(hold(LockStatus::Active, None)), &me, "r", T0), Err(Error::NotFound(_))));
    }

    #[test]
    fn release_and_cancel_refusals() {
        let me = caller("u");
        assert!(matches!(refused_release(Some(hold(LockStatus::Released, None)), &me), Error::LockNotActive(_)));
        assert!(matches!(refused_release(Some(hold(LockStatus::Active, None)), &caller("x")), Error::NotFound(_)));
        let cancelled = Some(hold(LockStatus::Consumed, Some(BookingStatus::Cancelled)));
        assert!(matches!(refused_cancel(cancelled, &me, T0), Error::BookingNotPending(BookingStatus::Cancelled)));
    }

    #[test]
    fn admins_see_everything_owners_see_their_own() {
        let h = hold(LockStatus::Active, None);
        assert!(h.visible_to(&caller("u")));
        assert!(!h.visible_to(&caller("x")));
        assert!(h.visible_to(&Caller { user_id: "x".into(), role: Role::Admin }));
    }
}
