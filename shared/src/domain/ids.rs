//! Identifiers, one type per kind. Users and events get ULIDs ([`UserId`], [`EventId`]). A lock
//! and the booking made from it share one stored record (see `hold.rs`), addressed by a
//! [`HoldRef`]: its event and a hash of (user, idempotency key), shown as
//!
//! - lock id `lk_<eventId>_<hash>` ([`LockId`]), booking id `bk_<eventId>_<hash>` ([`BookingId`])
//!
//! Clients treat them as opaque. Deriving the id from the idempotency key is what makes a replayed
//! `POST /api/locks` land on the same record, so the one conditional write that would create it
//! finds it instead (and returns it) — no read first. An id that does not parse names nothing.
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::lock::IdempotencyKey;

/// A ULID as we print them: 26 characters of Crockford base32, upper case.
fn is_ulid(s: &str) -> bool {
    s.len() == 26 && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// An id type: a string newtype, shown and (de)serialised as the bare string.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Ids this service makes itself: ULIDs.
macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        id_type!($(#[$doc])* $name);

        impl $name {
            /// A new, unique id.
            pub fn generate() -> Self {
                $name(ulid::Ulid::new().to_string())
            }

            /// `None` unless `text` is a ULID as this service prints them.
            pub fn parse(text: &str) -> Option<Self> {
                is_ulid(text).then(|| $name(text.to_string()))
            }
        }
    };
}

ulid_id!(
    /// A user's id.
    UserId
);
ulid_id!(
    /// An event's id.
    EventId
);
id_type!(
    /// A lock's id as clients see it (`lk_<eventId>_<hash>`); made from a [`HoldRef`].
    LockId
);
id_type!(
    /// A booking's id as clients see it (`bk_<eventId>_<hash>`); made from a [`HoldRef`].
    BookingId
);

/// Where a lock/booking record lives: its event and the hash of (user, idempotency key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HoldRef {
    pub event_id: EventId,
    /// 128 bits of SHA-256, hex.
    pub hash: String,
}

impl HoldRef {
    /// The record a lock request of `user` with `key` on `event_id` lands on, every time.
    pub fn for_request(event_id: &EventId, user: &UserId, key: &IdempotencyKey) -> Self {
        HoldRef { event_id: event_id.clone(), hash: hold_hash(user, key) }
    }

    pub fn lock_id(&self) -> LockId {
        LockId(format!("lk_{}_{}", self.event_id, self.hash))
    }

    pub fn booking_id(&self) -> BookingId {
        BookingId(format!("bk_{}_{}", self.event_id, self.hash))
    }

    pub fn parse_lock_id(id: &str) -> Option<Self> {
        Self::parse(id.strip_prefix("lk_")?)
    }

    pub fn parse_booking_id(id: &str) -> Option<Self> {
        Self::parse(id.strip_prefix("bk_")?)
    }

    fn parse(rest: &str) -> Option<Self> {
        let (event_id, hash) = rest.split_once('_')?;
        let hex_ok = hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let event_id = EventId::parse(event_id)?;
        hex_ok.then(|| HoldRef { event_id, hash: hash.to_string() })
    }
}

/// 128 bits of SHA-256 over the caller and their idempotency key, hex. Reached through
/// [`HoldRef::for_request`], the one way to the record a request lands on.
fn hold_hash(user: &UserId, key: &IdempotencyKey) -> String {
    let mut h = Sha256::new();
    h.update(user.as_str().as_bytes());
    h.update([0u8]);
    h.update(key.as_str().as_bytes());
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> IdempotencyKey {
        IdempotencyKey::parse(k).unwrap()
    }

    #[test]
    fn lock_and_booking_ids_round_trip() {
        let r = HoldRef::for_request(&EventId::generate(), &UserId::generate(), &key("k"));
        assert_eq!(HoldRef::parse_lock_id(r.lock_id().as_str()), Some(r.clone()));
        assert_eq!(HoldRef::parse_booking_id(r.booking_id().as_str()), Some(r.clone()));
        assert_eq!(HoldRef::parse_booking_id(r.lock_id().as_str()), None);
    }

    #[test]
    fn hash_is_scoped_to_the_caller() {
        let (u1, u2) = (UserId::generate(), UserId::generate());
        assert_eq!(hold_hash(&u1, &key("k")), hold_hash(&u1, &key("k")));
        assert_ne!(hold_hash(&u1, &key("k")), hold_hash(&u2, &key("k")));
        assert_ne!(hold_hash(&u1, &key("ab")), hold_hash(&u1, &key("a")));
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "lk_",
            "lk_x_y",
            "lk_01ARZ3NDEKTSV4RRFFQ69G5FAV_zz",
            "../etc/passwd",
            "lk_01ARZ3NDEKTSV4RRFFQ69G5FAV_' OR 1=1",
        ] {
            assert_eq!(HoldRef::parse_lock_id(bad), None, "{bad}");
        }
        assert!(EventId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").is_some());
        assert!(EventId::parse("01arz3ndektsv4rrffq69g5fav").is_none());
        assert!(UserId::parse("EVENT#01ARZ3NDEKTSV4RRFFQ69G").is_none());
    }
}
