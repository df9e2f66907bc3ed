//! Every key and index attribute value, in one place. See `TABLE_DESIGN.md` for the why.
use crate::domain::ids::{BookingId, EventId, UserId};
use crate::domain::user::EmailKey;
use crate::time::Timestamp;

pub const LOCK_EXPIRY_INDEX: &str = "LockExpiryIndex";
pub const BOOKING_EXPIRY_INDEX: &str = "BookingExpiryIndex";
pub const USER_BOOKINGS_INDEX: &str = "UserBookingsIndex";
pub const EVENT_LIST_INDEX: &str = "EventListIndex";
/// The local index of the holds that hold seats (`liveSort`), which the census reads.
pub const LIVE_HOLDS_INDEX: &str = "LiveHoldsIndex";

/// Holds that can expire are spread over this many index partitions per kind, so one busy
/// minute of locks does not pile onto one index partition. The jobs query every bucket.
pub const EXPIRY_SHARDS: u32 = 4;

pub fn event_pk(event_id: &EventId) -> String {
    format!("EVENT#{event_id}")
}
pub const EVENT_PK_PREFIX: &str = "EVENT#";

/// The event an `EVENT#<id>` partition key names.
pub fn event_id_of(pk: &str) -> Option<EventId> {
    EventId::parse(pk.strip_prefix(EVENT_PK_PREFIX)?)
}
pub const EVENT_SK: &str = "EVENT";

pub fn hold_sk(hash: &str) -> String {
    format!("HOLD#{hash}")
}
pub const HOLD_SK_PREFIX: &str = "HOLD#";

/// One user's seats of one event (the per-user limit's counter), in the event's partition.
pub fn user_seats_sk(user_id: &UserId) -> String {
    format!("SEATS#{user_id}")
}

/// The attribute that lists a hold in LiveHoldsIndex, present exactly while the hold holds
/// seats. Its value is the hold's own sort key: the index needs a sort key, and this one is
/// unique in the partition and says which hold an index entry is.
pub const LIVE_SORT: &str = "liveSort";

pub fn user_pk(user_id: &UserId) -> String {
    format!("USER#{user_id}")
}
pub const USER_SK: &str = "USER";

/// Email uniqueness: one item per lower-cased address.
pub fn email_pk(email: &EmailKey) -> String {
    format!("EMAIL#{}", email.as_str())
}
pub const EMAIL_SK: &str = "EMAIL";

/// Failed logins for one email (any case), registered or not: see `domain::user::LoginFailures`.
pub fn login_failures_pk(email: &EmailKey) -> String {
    format!("LOGIN#{}", email.as_str())
}
pub const LOGIN_FAILURES_SK: &str = "FAILURES";

/// Idempotency key scope: one item per (caller, key), whichever event it was used for.
pub fn idempotency_pk(user_id: &UserId, hash: &str) -> String {
    format!("IDEMPOTENCY#{user_id}#{hash}")
}
pub const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryKind {
    Lock,
    Booking,
}

impl ExpiryKind {
    fn prefix(self) -> &'static str {
        match self {
            ExpiryKind::Lock => "LOCK",
            ExpiryKind::Booking => "BOOKING",
        }
    }

    /// The sparse index of what can expire of this kind.
    pub fn index(self) -> &'static str {
        match self {
            ExpiryKind::Lock => LOCK_EXPIRY_INDEX,
            ExpiryKind::Booking => BOOKING_EXPIRY_INDEX,
        }
    }

    /// The attribute that puts a hold in [`Self::index`] (present only while it can expire).
    pub fn bucket_attribute(self) -> &'static str {
        match self {
            ExpiryKind::Lock => "lockExpiryBucket",
            ExpiryKind::Booking => "bookingExpiryBucket",
        }
    }

    /// The deadline the index sorts on: the hold's own attribute, so an operator who edits the
    /// deadline moves the hold in the index too.
    pub fn deadline_attribute(self) -> &'static str {
        match self {
            ExpiryKind::Lock => "expiresAt",
            ExpiryKind::Booking => "paymentExpiresAt",
        }
    }

    /// The bucket of a hold with this hash.
    pub fn bucket_for(self, hash: &str) -> String {
        let shard = hash.bytes().fold(0u32, |acc, b| acc.wrapping_mul(31).wrapping_add(b as u32)) % EXPIRY_SHARDS;
        self.bucket(shard)
    }

    pub fn bucket(self, shard: u32) -> String {
        format!("{}#{shard}", self.prefix())
    }

    pub fn buckets(self) -> impl Iterator<Item = String> {
        (0..EXPIRY_SHARDS).map(move |s| self.bucket(s))
    }
}

pub fn user_bookings_key(user_id: &UserId) -> String {
    format!("USER#{user_id}")
}

pub fn user_bookings_sort(created_at: Timestamp, booking_id: &BookingId) -> String {
    format!("{created_at}#{booking_id}")
}

pub const EVENT_LIST_KEY: &str = "EVENT";

pub fn event_list_sort(event_date: Timestamp, event_id: &EventId) -> String {
    format!("{event_date}#{event_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_shard_and_are_stable() {
        let all: Vec<String> = ExpiryKind::Lock.buckets().collect();
        assert_eq!(all.len(), EXPIRY_SHARDS as usize);
        let b = ExpiryKind::Lock.bucket_for("0123456789abcdef0123456789abcdef");
        assert!(all.contains(&b));
        assert_eq!(b, ExpiryKind::Lock.bucket_for("0123456789abcdef0123456789abcdef"));
        assert!(ExpiryKind::Booking.bucket_for("x").starts_with("BOOKING#"));
    }
}
