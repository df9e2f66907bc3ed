//! Identifiers. Users and events get ULIDs. A lock and the booking made from it share one stored
//! record (see `hold.rs`), addressed by its event and a hash of (user, idempotency key):
//!
//! - lock id `lk_<eventId>_<hash>`, booking id `bk_<eventId>_<hash>`
//!
//! Clients treat them as opaque. Deriving the id from the idempotency key is what makes a replayed
//! `POST /api/locks` land on the same record, so the one conditional write that would create it
//! finds it instead (and returns it) — no read first.
use sha2::{Digest, Sha256};

pub fn new_id() -> String {
    ulid::Ulid::new().to_string()
}

/// A ULID as we print them: 26 characters of Crockford base32, upper case.
pub fn is_ulid(s: &str) -> bool {
    s.len() == 26 && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// 128 bits of SHA-256 over the caller and their idempotency key, hex.
pub fn hold_hash(user_id: &str, idempotency_key: &str) -> String {
    let mut h = Sha256::new();
    h.update(user_id.as_bytes());
    h.update([0u8]);
    h.update(idempotency_key.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Where a lock/booking record lives: its event and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRef {
    pub event_id: String,
    pub hash: String,
}

impl HoldRef {
    pub fn lock_id(&self) -> String {
        format!("lk_{}_{}", self.event_id, self.hash)
    }

    pub fn booking_id(&self) -> String {
        format!("bk_{}_{}", self.event_id, self.hash)
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
        (is_ulid(event_id) && hex_ok).then(|| HoldRef { event_id: event_id.to_string(), hash: hash.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_and_booking_ids_round_trip() {
        let r = HoldRef { event_id: new_id(), hash: hold_hash("u", "k") };
        assert_eq!(HoldRef::parse_lock_id(&r.lock_id()), Some(r.clone()));
        assert_eq!(HoldRef::parse_booking_id(&r.booking_id()), Some(r.clone()));
        assert_eq!(HoldRef::parse_booking_id(&r.lock_id()), None);
    }

    #[test]
    fn hash_is_scoped_to_the_caller() {
        assert_eq!(hold_hash("u1", "k"), hold_hash("u1", "k"));
        assert_ne!(hold_hash("u1", "k"), hold_hash("u2", "k"));
        // The separator keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(hold_hash("ab", "c"), hold_hash("a", "bc"));
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
    }
}
