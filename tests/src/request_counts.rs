//! DynamoDB requests per operation, counted on the wire by the SDK HTTP client of
//! `faults.rs`, through the functions' real handlers and the lock-expiry job. The benchmark
//! prints them; `tests/tests/requests.rs` holds them to one request per state change.
use booking_shared::Deps;
use serde_json::json;

use crate::{faults, operator, Api, Harness, Jobs, Reply};

/// One operation and what it cost.
pub struct Row {
    pub operation: &'static str,
    pub status: u16,
    /// (DynamoDB operation, requests), sorted by name.
    pub requests: Vec<(String, u64)>,
}

impl Row {
    pub fn total(&self) -> u64 {
        self.requests.iter().map(|(_, n)| n).sum()
    }

    pub fn requests_text(&self) -> String {
        self.requests.iter().map(|(op, n)| format!("{n} {op}")).collect::<Vec<_>>().join(", ")
    }
}

/// Runs each operation once on a fresh table and counts the requests it sent.
pub async fn per_operation() -> Vec<Row> {
    let endpoint = crate::dynamodb().await;
    let harness = Harness::new().await;
    let counter = faults::Faults::new();
    let deps = Deps::new(harness.deps.settings.clone(), faults::client(&endpoint, counter.clone()));
    let jobs = Jobs::InProcess(deps.store.clone());
    let api = Api::InProcess(Box::new(deps));
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    // 5 seats, at most 4 a user: room for every refusal below.
    let event_id = api.event_with(&admin, json!({"totalSeats": 5, "maxSeatsPerUser": 4})).await;
    let (other_user, _) = api.new_user().await;

    let mut rows = Vec::new();
    let mut count = |operation: &'static str, reply: &Reply| {
        let mut requests: Vec<_> = counter.counts().into_iter().collect();
        requests.sort();
        rows.push(Row { operation, status: reply.status, requests });
        counter.reset_counts();
    };
    counter.reset_counts();
    let lock = api.lock(&token, &event_id, 2, "count-1").await;
    count("lock, the first of an event this process has not seen", &lock);
    let second = api.lock(&token, &event_id, 1, "count-1b").await;
    count("lock", &second);
    let replay = api.lock(&token, &event_id, 2, "count-1").await;
    count("lock again, same key (replay)", &replay);
    let over = api.lock(&token, &event_id, 2, "count-2").await;
    count("lock refused (USER_LIMIT_REACHED)", &over);
    let refused = api.lock(&other_user, &event_id, 3, "count-2").await;
    count("lock refused (SEATS_UNAVAILABLE)", &refused);
    let lock_id = lock.data()["_id"].as_str().expect("lock id").to_string();
    let confirm = api.post("/api/bookings/confirm", json!({"lockId": lock_id}), Some(&token)).await;
    count("confirm", &confirm);
    let again = api.post("/api/bookings/confirm", json!({"lockId": lock_id}), Some(&token)).await;
    count("confirm again (replay)", &again);
    let booking_id = confirm.data()["_id"].as_str().expect("booking id").to_string();
    let pay = api.pay(&token, &booking_id).await;
    count("pay", &pay);
    let pay_again = api.pay(&token, &booking_id).await;
    count("pay again, same reference (replay)", &pay_again);
    let cancel = api.post(&format!("/api/bookings/{booking_id}/cancel"), json!({}), Some(&token)).await;
    count("cancel", &cancel);
    let other = api.lock(&token, &event_id, 1, "count-3").await;
    counter.reset_counts();
    let release =
        api.delete(&format!("/api/locks/{}", other.data()["_id"].as_str().expect("lock id")), Some(&token)).await;
    count("release", &release);

    let stale = api.lock(&token, &event_id, 1, "count-4").await;
    operator::Operator { client: &harness.client, table: &harness.deps.settings.table_name }
        .expire_lock_deadline(stale.data()["_id"].as_str().expect("lock id"))
        .await;
    counter.reset_counts();
    let report = jobs.run("lock-expiry").await;
    assert_eq!(report["locksExpired"], 1, "{report}");
    count("lock-expiry run expiring 1 lock", &Reply::of(200, report));

    // The admin's writes: each reads the caller's stored role first (admin routes check it at
    // request time).
    let path = format!("/api/events/{event_id}");
    let patch = api.send("PATCH", &path, json!({"categories": [{"id": "general", "seats": 8}]}), Some(&admin)).await;
    count("change an event (PATCH: raise seats)", &patch);
    let cancel_event = api.post(&format!("{path}/cancel"), json!({}), Some(&admin)).await;
    count("cancel an event", &cancel_event);
    let report = jobs.run("booking-expiry").await;
    assert_eq!(report["locksReleased"], 1, "{report}");
    count("booking-expiry run handing back the 1 live hold of a cancelled event", &Reply::of(200, report));
    rows
}
