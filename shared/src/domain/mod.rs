//! The booking domain: entities, their state machines and the rules, with no AWS types.
//!
//! - `lock.rs`: a seat lock (hold) and **the lock-expiry rule**.
//! - `booking.rs`: a booking and its payment window.
//! - `hold.rs`: a lock and the booking made from it, stored together; what each refused
//!   transition means for the caller.
//! - `event.rs`: events and the seat inventory invariant.
//! - `user.rs`: users, roles and registration rules.
//! - `ids.rs`: identifier formats.
pub mod booking;
pub mod event;
pub mod hold;
pub mod ids;
pub mod lock;
pub mod user;
