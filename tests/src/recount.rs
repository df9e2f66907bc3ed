//! An event's seats recounted from the items themselves, read straight from DynamoDB (raw
//! attribute maps, strongly consistent, no index), independently of the store's own census and
//! of the inventory endpoint, so the tests can check one against the other.
use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use booking_shared::store::keys;
use serde_json::Value;

type Item = HashMap<String, AttributeValue>;

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number(item: &Item, name: &str) -> i64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name} is not a number in {item:?}"))
}

/// One hold (a lock and, once confirmed, its booking) as stored.
#[derive(Debug, Clone)]
pub struct HoldRow {
    pub lock_id: String,
    pub user_id: String,
    /// `general` for holds from before categories.
    pub category_id: String,
    pub seats: i64,
    pub lock_status: String,
    pub booking_status: Option<String>,
}

impl HoldRow {
    /// What its seats count as, by the contract: a booking's status decides once there is one.
    pub fn seat_use(&self) -> &'static str {
        match (self.lock_status.as_str(), self.booking_status.as_deref()) {
            (_, Some("PAYMENT_PENDING")) => "pending",
            (_, Some("CONFIRMED")) => "sold",
            (_, Some(_)) => "free",
            ("ACTIVE", None) => "locked",
            _ => "free",
        }
    }

    /// One word for where the hold ended: `RELEASED`, `LOCK_EXPIRED`, `CONSUMED` (a lock with no
    /// booking, which would be a bug), `ACTIVE`, or the booking's status.
    pub fn end_state(&self) -> String {
        match (&self.booking_status, self.lock_status.as_str()) {
            (Some(b), _) => b.clone(),
            (None, "EXPIRED") => "LOCK_EXPIRED".into(),
            (None, other) => other.into(),
        }
    }
}

/// See [`Recount::ends`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Ends {
    pub sold: i64,
    pub locks_expired: u64,
    pub bookings_expired: u64,
    pub expired_seats: i64,
}

/// One category's counters on the event item, and its holds' seats by use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CategoryRecount {
    pub total: i64,
    pub available: i64,
    pub locked: i64,
    pub pending: i64,
    pub sold: i64,
}

/// The event item's counters and every hold of the event.
#[derive(Debug, Clone)]
pub struct Recount {
    pub event_id: String,
    pub total: i64,
    pub available: i64,
    pub version: i64,
    pub locked: i64,
    pub pending: i64,
    pub sold: i64,
    /// By category id: the invariant holds for each as for the event.
    pub categories: BTreeMap<String, CategoryRecount>,
    pub holds: Vec<HoldRow>,
}

impl Recount {
    /// Reads the event item, then every `HOLD#` item of its partition.
    pub async fn read(client: &Client, table: &str, event_id: &str) -> Self {
        let event = client
            .get_item()
            .table_name(table)
            .key("PK", AttributeValue::S(keys::event_pk(&crate::operator::event_id(event_id))))
            .key("SK", AttributeValue::S(keys::EVENT_SK.into()))
            .consistent_read(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("read event {event_id}: {e:?}"))
            .item
            .unwrap_or_else(|| panic!("event {event_id} is missing"));
        let mut recount = Recount {
            event_id: event_id.to_string(),
            total: number(&event, "totalSeats"),
            available: number(&event, "availableSeats"),
            version: number(&event, "version"),
            locked: 0,
            pending: 0,
            sold: 0,
            categories: BTreeMap::new(),
            holds: Vec::new(),
        };
        let categories = event.get("categories").and_then(|c| c.as_m().ok()).cloned().unwrap_or_default();
        for (id, category) in categories {
            let category = category.as_m().unwrap_or_else(|_| panic!("category {id} of {event_id}"));
            recount.categories.insert(
                id,
                CategoryRecount {
                    total: number(category, "totalSeats"),
                    available: number(category, "availableSeats"),
                    ..CategoryRecount::default()
                },
            );
        }
        let mut start = None;
        loop {
            let page = client
                .query()
                .table_name(table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :hold)")
                .expression_attribute_values(
                    ":pk",
                    AttributeValue::S(keys::event_pk(&crate::operator::event_id(event_id))),
                )
                .expression_attribute_values(":hold", AttributeValue::S(keys::HOLD_SK_PREFIX.into()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap_or_else(|e| panic!("query holds of {event_id}: {e:?}"));
            for item in page.items() {
                let row = HoldRow {
                    lock_id: text(item, "lockId").expect("lockId"),
                    user_id: text(item, "userId").expect("userId"),
                    category_id: text(item, "categoryId").unwrap_or_else(|| "general".into()),
                    seats: number(item, "seats"),
                    lock_status: text(item, "lockStatus").expect("lockStatus"),
                    booking_status: text(item, "bookingStatus"),
                };
                let category = recount.categories.entry(row.category_id.clone()).or_default();
                match row.seat_use() {
                    "locked" => (recount.locked += row.seats, category.locked += row.seats),
                    "pending" => (recount.pending += row.seats, category.pending += row.seats),
                    "sold" => (recount.sold += row.seats, category.sold += row.seats),
                    _ => ((), ()),
                };
                recount.holds.push(row);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        recount
    }

    /// Seats the holds say are taken.
    pub fn held(&self) -> i64 {
        self.locked + self.pending + self.sold
    }

    /// `total = available + locked + pending + sold`, every term non-negative, nothing sold twice.
    #[track_caller]
    pub fn assert_invariant(&self) {
        let Recount { total, available, locked, pending, sold, .. } = *self;
        assert!(
            available >= 0 && locked >= 0 && pending >= 0 && sold >= 0,
            "a negative count on {}: {self:?}",
            self.event_id
        );
        assert!(sold <= total, "more seats sold than exist on {}: sold {sold} of {total}", self.event_id);
        assert_eq!(
            total,
            available + locked + pending + sold,
            "event {}: availableSeats {available} does not match its holds (locked {locked}, pending {pending}, \
             sold {sold}, total {total})",
            self.event_id
        );
        for (id, c) in &self.categories {
            assert!(
                c.available >= 0 && c.sold <= c.total,
                "category {id} of {}: available {} or sold {} of {}",
                self.event_id,
                c.available,
                c.sold,
                c.total
            );
            assert_eq!(
                c.total,
                c.available + c.locked + c.pending + c.sold,
                "category {id} of {}: its counters do not match its holds: {c:?}",
                self.event_id
            );
        }
        let sum = |f: fn(&CategoryRecount) -> i64| self.categories.values().map(f).sum::<i64>();
        assert_eq!((sum(|c| c.total), sum(|c| c.available)), (total, available), "the categories add up to the event");
    }

    /// The inventory endpoint's answer says what the items say.
    #[track_caller]
    pub fn assert_matches(&self, inventory: &Value) {
        let got = |k: &str| inventory[k].as_i64().unwrap_or_else(|| panic!("{k} in {inventory}"));
        assert_eq!(
            (got("totalSeats"), got("availableSeats"), got("lockedSeats"), got("pendingSeats"), got("soldSeats")),
            (self.total, self.available, self.locked, self.pending, self.sold),
            "inventory of {} differs from the recount of its items",
            self.event_id
        );
        for c in inventory["categories"].as_array().unwrap_or_else(|| panic!("categories in {inventory}")) {
            let id = c["id"].as_str().expect("a category id");
            let got = |k: &str| c[k].as_i64().unwrap_or_else(|| panic!("{k} in {c}"));
            let mine = self.categories.get(id).copied().unwrap_or_default();
            assert_eq!(
                (got("totalSeats"), got("availableSeats"), got("lockedSeats"), got("pendingSeats"), got("soldSeats")),
                (mine.total, mine.available, mine.locked, mine.pending, mine.sold),
                "inventory of category {id} of {} differs from the recount of its items",
                self.event_id
            );
        }
    }

    /// Where the holds ended, tallied: the seats of CONFIRMED bookings, and the locks and
    /// bookings that ended expired (the jobs' work) with their seats.
    pub fn ends(&self) -> Ends {
        let mut ends = Ends::default();
        for row in &self.holds {
            match row.end_state().as_str() {
                "CONFIRMED" => ends.sold += row.seats,
                "LOCK_EXPIRED" => {
                    ends.locks_expired += 1;
                    ends.expired_seats += row.seats;
                }
                "EXPIRED" => {
                    ends.bookings_expired += 1;
                    ends.expired_seats += row.seats;
                }
                _ => {}
            }
        }
        ends
    }

    /// Holds by lock id.
    pub fn by_lock_id(&self) -> HashMap<&str, &HoldRow> {
        self.holds.iter().map(|h| (h.lock_id.as_str(), h)).collect()
    }
}
