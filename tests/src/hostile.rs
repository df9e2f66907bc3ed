//! Hostile input, written once against [`Api`]: `tests/hostile.rs` runs it through the handlers
//! in-process, `tests/e2e.rs` over HTTP against the local stack.
//!
//! Every case must be refused with a 4xx, the contract's envelope and code, and must change
//! nothing: the event's inventory, every record the parties can see through the API, and the
//! table's items that belong to them ([`Snapshot`]) are the same before and after each group.
//! The contract's ordinary errors are in [`crate::scenarios::errors`]; these are the attacks:
//! numbers out of every range, oversized and malformed bodies, injection strings and key-shaped
//! strings in ids and idempotency keys, forged, expired, unsigned and edited tokens.
use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use booking_shared::auth::token::Tokens;
use booking_shared::domain::ids::{EventId, HoldRef, UserId};
use booking_shared::domain::lock::IdempotencyKey;
use booking_shared::domain::user::{Email, Role, User};
use booking_shared::time::Timestamp;
use serde_json::{json, Value};

use crate::operator::Operator;
use crate::scenarios::id;
use crate::{Api, Payload, Reply};

/// The signing key of the local stack (`infra/local/stack.sh`) unless `JWT_SECRET` is exported.
pub const LOCAL_STACK_JWT_SECRET: &str = "local-development-only-secret-do-not-deploy";

/// Asserts that `reply` refuses `what` with `status`, the error envelope and `code`.
#[track_caller]
fn refused(what: &str, reply: &Reply, status: u16, code: &str) {
    assert_eq!((reply.status, reply.code()), (status, code), "{what}: {}", reply.body);
    assert_eq!(reply.body["success"], json!(false), "{what}: {}", reply.body);
    assert!(
        reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: no message in {}",
        reply.body
    );
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for a path segment.
pub fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The people and records the attacks aim at: Alice holds an ACTIVE lock and a booking awaiting
/// payment on a 5-seat event (2 seats left); Bob is the attacker.
pub struct World {
    pub admin: String,
    pub alice: (String, String),
    pub bob: (String, String),
    pub event_id: String,
    pub alice_lock: String,
    pub alice_booked_lock: String,
    pub alice_booking: String,
    /// In the name of every event an attack tries to create, to find any that got through.
    pub tag: String,
}

const ALICE_KEY: &str = "alice-hold";

impl World {
    pub async fn new(api: &Api) -> Self {
        let admin = api.admin().await;
        let alice = api.new_user().await;
        let bob = api.new_user().await;
        let event_id = api.event(&admin, 5).await;
        let lock = api.lock(&alice.0, &event_id, 2, ALICE_KEY).await;
        lock.expect(201);
        let booked = api.lock(&alice.0, &event_id, 1, "alice-booked").await;
        booked.expect(201);
        let booking = api.confirm(&alice.0, &id(booked.data())).await;
        let world = World {
            admin,
            alice,
            bob,
            event_id,
            alice_lock: id(lock.data()),
            alice_booked_lock: id(booked.data()),
            alice_booking: id(&booking),
            tag: format!("hostile-{}", ulid::Ulid::new()),
        };
        assert_eq!(Api::assert_invariant(&api.inventory(&world.admin, &world.event_id).await), 2);
        world
    }

    fn alice_hash(&self) -> String {
        HoldRef::parse_lock_id(&self.alice_lock).expect("a lock id").hash
    }

    /// The lock Bob's request with `key` would create on the event.
    fn bobs_lock_for(&self, key: &str) -> String {
        let event = EventId::parse(&self.event_id).expect("an event id");
        let bob = UserId::parse(&self.bob.1).expect("a user id");
        HoldRef::for_request(&event, &bob, &IdempotencyKey::parse(key).expect("a valid key")).lock_id().to_string()
    }
}

/// Everything an attack could have changed, as the API and the table show it.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    api: Value,
    items: Vec<BTreeMap<String, AttributeValue>>,
}

async fn data(api: &Api, path: &str, token: &str) -> Value {
    let r = api.get(path, Some(token)).await;
    r.expect(200);
    r.body.clone()
}

impl Snapshot {
    pub async fn take(api: &Api, db: &Operator<'_>, w: &World) -> Self {
        let (alice, bob) = (&w.alice.0, &w.bob.0);
        let mut view = json!({
            "inventory": api.inventory(&w.admin, &w.event_id).await,
            "event": data(api, &format!("/api/events/{}", w.event_id), bob).await,
            "aliceLock": data(api, &format!("/api/locks/{}", w.alice_lock), alice).await,
            "aliceBookedLock": data(api, &format!("/api/locks/{}", w.alice_booked_lock), alice).await,
            "aliceBooking": data(api, &format!("/api/bookings/{}", w.alice_booking), alice).await,
            "aliceBookings": data(api, "/api/bookings?limit=100", alice).await,
            "bobBookings": data(api, "/api/bookings?limit=100", bob).await,
            "aliceMe": data(api, "/api/users/me", alice).await,
            "bobMe": data(api, "/api/users/me", bob).await,
        });
        if let Api::InProcess(_) = api {
            // The table is this test's own: every event there is.
            view["events"] = all_events(api).await;
        }
        Snapshot { api: view, items: items(api, db, w).await }
    }
}

async fn all_events(api: &Api) -> Value {
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/events?limit=100&cursor={c}"),
            None => "/api/events?limit=100".to_string(),
        };
        let page = api.get(&path, None).await;
        page.expect(200);
        events.extend(page.data().as_array().expect("a page").iter().cloned());
        cursor = page.body["nextCursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            return Value::Array(events);
        }
    }
}

type Item = BTreeMap<String, AttributeValue>;

async fn scan(db: &Operator<'_>) -> Vec<Item> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let req = db.client.scan().table_name(db.table).consistent_read(true).set_exclusive_start_key(start);
        let page = req.send().await.expect("scan");
        out.extend(page.items().iter().map(|i| i.clone().into_iter().collect::<Item>()));
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return out;
        }
    }
}

/// The table's items an attack could write: in-process the whole (own) table; on the shared
/// stack the event's partition, the parties' users and idempotency records, and any event whose
/// name carries the world's tag.
async fn items(api: &Api, db: &Operator<'_>, w: &World) -> Vec<Item> {
    let mut items = if let Api::InProcess(_) = api {
        scan(db).await
    } else {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = db
                .client
                .query()
                .table_name(db.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(format!("EVENT#{}", w.event_id)))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("query the event's partition");
            items.extend(page.items().iter().map(|i| i.clone().into_iter().collect::<Item>()));
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        let parties = "begins_with(PK, :ia) OR begins_with(PK, :ib) OR PK = :ua OR PK = :ub OR contains(#n, :tag)";
        let values = vec![
            (":ia", format!("IDEMPOTENCY#{}#", w.alice.1)),
            (":ib", format!("IDEMPOTENCY#{}#", w.bob.1)),
            (":ua", format!("USER#{}", w.alice.1)),
            (":ub", format!("USER#{}", w.bob.1)),
            (":tag", w.tag.clone()),
        ];
        let mut page = scan_named(db, parties, values).await;
        items.append(&mut page);
        items
    };
    items.sort_by_key(|i| format!("{:?}{:?}", i.get("PK"), i.get("SK")));
    items
}

async fn scan_named(db: &Operator<'_>, expression: &str, values: Vec<(&str, String)>) -> Vec<Item> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let mut req = db
            .client
            .scan()
            .table_name(db.table)
            .consistent_read(true)
            .filter_expression(expression)
            .expression_attribute_names("#n", "name")
            .set_exclusive_start_key(start);
        for (name, value) in &values {
            req = req.expression_attribute_values(*name, AttributeValue::S(value.clone()));
        }
        let page = req.send().await.expect("scan");
        out.extend(page.items().iter().map(|i| i.clone().into_iter().collect::<Item>()));
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return out;
        }
    }
}

/// Runs every group against one world, checking after each that nothing changed.
/// `signing_key` is the key the API signs tokens with (to make expired ones).
pub async fn hostile(api: &Api, db: &Operator<'_>, signing_key: &[u8]) {
    let w = World::new(api).await;
    let before = Snapshot::take(api, db, &w).await;
    numbers(api, &w).await;
    assert_eq!(Snapshot::take(api, db, &w).await, before, "numbers changed something");
    changes(api, &w).await;
    assert_eq!(Snapshot::take(api, db, &w).await, before, "refused event changes changed something");
    cancellations(api, &w).await;
    assert_eq!(Snapshot::take(api, db, &w).await, before, "refused cancellations changed something");
    bodies(api, &w).await;
    assert_eq!(Snapshot::take(api, db, &w).await, before, "bodies changed something");
    ids(api, &w).await;
    assert_eq!(Snapshot::take(api, db, &w).await, before, "ids changed something");
    keys(api, &w).await;
    assert_eq!(Snapshot::take(api, db, &w).await, before, "idempotency keys changed something");
    tokens(api, &w, signing_key).await;
    assert_eq!(Snapshot::take(api, db, &w).await, before, "tokens changed something");
    // Last: it registers a user of its own and leaves failure counts, so only what the API
    // shows of the world is compared.
    guesses(api, &w).await;
    assert_eq!(Snapshot::take(api, db, &w).await.api, before.api, "password guessing changed something");
    assert_eq!(Api::assert_invariant(&api.inventory(&w.admin, &w.event_id).await), 2);
}

/// Password guessing. Five failed logins for one email inside 15 minutes close its logins:
/// `429 TOO_MANY_ATTEMPTS` with `Retry-After`, for a registered email and an unknown one alike
/// (the same answers, so the throttle tells nobody which emails exist), for the right password
/// too, and in any case of the address. Other emails log in as before.
pub async fn guesses(api: &Api, w: &World) {
    let login = |email: String, password: &'static str| async move {
        api.post("/api/users/login", json!({"email": email, "password": password}), None).await
    };
    let known = format!("{}-guessed@example.com", w.tag);
    let registered = json!({"name": "Guessed", "email": known, "password": "secret1"});
    api.post("/api/users/register", registered, None).await.expect(201);
    let unknown = format!("{}-nobody@example.com", w.tag);
    let mut answers = Vec::new();
    for email in [&known, &unknown] {
        for guess in ["guess-1", "guess-2", "guess-3", "guess-4", "guess-5"] {
            refused(&format!("{guess} for {email}"), &login(email.clone(), guess).await, 401, "INVALID_CREDENTIALS");
        }
        let throttled = login(email.clone(), "guess-6").await;
        refused(&format!("a sixth guess for {email}"), &throttled, 429, "TOO_MANY_ATTEMPTS");
        let wait: i64 = throttled.header("retry-after").and_then(|v| v.parse().ok()).expect("a Retry-After in seconds");
        assert!((1..=900).contains(&wait), "Retry-After {wait}");
        let message = throttled.body["error"]["message"].as_str().unwrap_or_default();
        answers.push(message.replace(|c: char| c.is_ascii_digit(), "#"));
    }
    assert_eq!(answers[0], answers[1], "registered and unknown emails are throttled with the same words");
    refused("the right password while throttled", &login(known.clone(), "secret1").await, 429, "TOO_MANY_ATTEMPTS");
    refused("another case of the address", &login(known.to_uppercase(), "secret1").await, 429, "TOO_MANY_ATTEMPTS");
    api.new_user().await; // registers and logs in: other emails are not throttled
}

async fn raw_post(api: &Api, path: &str, token: &str, body: &str) -> Reply {
    let auth = bearer(token);
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    api.call("POST", path, Payload::Raw(body.as_bytes().to_vec()), &headers).await
}

/// Numbers past every range, as raw JSON (most cannot be written as a `serde_json::Value`).
pub async fn numbers(api: &Api, w: &World) {
    let bob = &w.bob.0;
    // Valid JSON whose number fits no seat count: 400 VALIDATION_ERROR.
    for (i, seats) in [
        "9223372036854775807",  // i64::MAX
        "9223372036854775808",  // i64::MAX + 1
        "-9223372036854775809", // i64::MIN - 1
        "18446744073709551616", // u64::MAX + 1
        "1.5",
        "1.0",
        "-0",
        "1e-400",
        "null",
        "true",
        "[1]",
        "{\"$gt\":0}",
    ]
    .iter()
    .enumerate()
    {
        let body = format!(r#"{{"eventId":"{}","seats":{seats},"idempotencyKey":"n-{i}"}}"#, w.event_id);
        refused(&format!("seats {seats}"), &raw_post(api, "/api/locks", bob, &body).await, 400, "VALIDATION_ERROR");
    }
    // Beyond what the JSON parser represents at all: the body does not parse.
    for seats in ["1e400", "-1e400"] {
        let body = format!(r#"{{"eventId":"{}","seats":{seats},"idempotencyKey":"n"}}"#, w.event_id);
        refused(&format!("seats {seats}"), &raw_post(api, "/api/locks", bob, &body).await, 400, "INVALID_JSON");
    }

    let date = Timestamp::now().plus_seconds(2 * 86_400).text();
    for (total, code) in [
        ("9223372036854775807", "VALIDATION_ERROR"),
        ("9223372036854775808", "VALIDATION_ERROR"),
        ("-1", "VALIDATION_ERROR"),
        ("0.5", "VALIDATION_ERROR"),
        ("100000.5", "VALIDATION_ERROR"),
        ("1e400", "INVALID_JSON"),
    ] {
        let body = format!(r#"{{"name":"{} {total}","eventDate":"{date}","totalSeats":{total}}}"#, w.tag);
        let r = raw_post(api, "/api/events", &w.admin, &body).await;
        refused(&format!("totalSeats {total}"), &r, 400, code);
    }
    // The per-user limit: 1..1000, a whole number.
    for (i, (max, code)) in [
        ("0", "VALIDATION_ERROR"),
        ("1001", "VALIDATION_ERROR"),
        ("-1", "VALIDATION_ERROR"),
        ("9223372036854775808", "VALIDATION_ERROR"),
        ("2.5", "VALIDATION_ERROR"),
        ("\"20\"", "VALIDATION_ERROR"),
        ("[20]", "VALIDATION_ERROR"),
        ("1e400", "INVALID_JSON"),
    ]
    .iter()
    .enumerate()
    {
        let body =
            format!(r#"{{"name":"{} max {i}","eventDate":"{date}","totalSeats":10,"maxSeatsPerUser":{max}}}"#, w.tag);
        let r = raw_post(api, "/api/events", &w.admin, &body).await;
        refused(&format!("maxSeatsPerUser {max}"), &r, 400, code);
    }

    // Categories: prices and seats at their limits and beyond, 21 categories, duplicate ids.
    let cat = |id: &str, price: &str, seats: &str| {
        format!(r#"{{"id":"{id}","name":"Tier","price":{price},"seats":{seats}}}"#)
    };
    let twenty_one = (0..21).map(|i| cat(&format!("c{i}"), "100", "1")).collect::<Vec<_>>().join(",");
    for (i, (categories, code)) in [
        (cat("vip", "-1", "1"), "VALIDATION_ERROR"),
        (cat("vip", "100000001", "1"), "VALIDATION_ERROR"),
        (cat("vip", "9223372036854775808", "1"), "VALIDATION_ERROR"),
        (cat("vip", "1.5", "1"), "VALIDATION_ERROR"),
        (cat("vip", "100", "0"), "VALIDATION_ERROR"),
        (cat("vip", "100", "100001"), "VALIDATION_ERROR"),
        (format!("{},{}", cat("a", "1", "60000"), cat("b", "1", "40001")), "VALIDATION_ERROR"),
        (format!("{},{}", cat("vip", "1", "1"), cat("vip", "2", "2")), "VALIDATION_ERROR"),
        (cat("VIP", "1", "1"), "VALIDATION_ERROR"),
        (cat("v i p", "1", "1"), "VALIDATION_ERROR"),
        (cat(&"a".repeat(33), "1", "1"), "VALIDATION_ERROR"),
        (twenty_one, "VALIDATION_ERROR"),
        (String::new(), "VALIDATION_ERROR"),
    ]
    .into_iter()
    .enumerate()
    {
        let body = format!(r#"{{"name":"{} cat {i}","eventDate":"{date}","categories":[{categories}]}}"#, w.tag);
        let r = raw_post(api, "/api/events", &w.admin, &body).await;
        refused(&format!("categories [{categories}]"), &r, 400, code);
    }
    for (i, (price, code)) in
        [("-1", "VALIDATION_ERROR"), ("100000001", "VALIDATION_ERROR"), ("\"5\"", "VALIDATION_ERROR")]
            .iter()
            .enumerate()
    {
        let body = format!(r#"{{"name":"{} price {i}","eventDate":"{date}","totalSeats":5,"price":{price}}}"#, w.tag);
        refused(&format!("price {price}"), &raw_post(api, "/api/events", &w.admin, &body).await, 400, code);
    }
    let body = format!(r#"{{"eventId":"{}","seats":1,"categoryId":"A B","idempotencyKey":"bad-cat"}}"#, w.event_id);
    refused("categoryId A B", &raw_post(api, "/api/locks", bob, &body).await, 400, "VALIDATION_ERROR");

    for limit in
        ["-1", "1.5", "1e2", "2147483648", "9223372036854775808", "99999999999999999999", "0x10", "5abc", "NaN", "%205"]
    {
        for (path, token) in [("/api/events", None), ("/api/bookings", Some(bob.as_str()))] {
            let r = api.get(&format!("{path}?limit={limit}"), token).await;
            refused(&format!("{path}?limit={limit}"), &r, 400, "VALIDATION_ERROR");
        }
    }
}

/// `PATCH /api/events/{id}` refused: numbers and types out of range, unknown fields, categories
/// the event does not have or names twice, a past date, control characters, a user who is no
/// admin, and a lowering below the seats Alice holds (`409 SEATS_IN_USE`). Each must leave the
/// event exactly as it was (its `updatedAt` included).
pub async fn changes(api: &Api, w: &World) {
    let patch = |token: &str, body: String| {
        let auth = bearer(token);
        let path = format!("/api/events/{}", w.event_id);
        async move {
            let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
            api.call("PATCH", &path, Payload::Raw(body.into_bytes()), &headers).await
        }
    };
    let past = Timestamp::now().plus_seconds(-60).text();
    let seats = |seats: &str| format!(r#"{{"categories":[{{"id":"general","seats":{seats}}}]}}"#);
    let price = |price: &str| format!(r#"{{"categories":[{{"id":"general","price":{price}}}]}}"#);
    let mut cases: Vec<(String, &str)> = Vec::new();
    for n in ["0", "-1", "100001", "9223372036854775808", "1.5", "\"3\"", "null", "true"] {
        cases.push((seats(n), "VALIDATION_ERROR"));
    }
    for n in ["-1", "100000001", "9223372036854775808", "2.5", "\"5\""] {
        cases.push((price(n), "VALIDATION_ERROR"));
    }
    for n in ["0", "1001", "-1", "2.5", "\"20\"", "[20]"] {
        cases.push((format!(r#"{{"maxSeatsPerUser":{n}}}"#), "VALIDATION_ERROR"));
    }
    cases.extend([
        (seats("1e400"), "INVALID_JSON"),
        (format!(r#"{{"eventDate":"{past}"}}"#), "VALIDATION_ERROR"),
        (r#"{"eventDate":"tomorrow"}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"totalSeats":10}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"name":"x","status":"CANCELLED"}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"availableSeats":1000}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"categories":[{"id":"general","seats":6,"availableSeats":6}]}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"categories":[{"id":"balcony","seats":6}]}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"categories":[{"id":"general","seats":6},{"id":"general","price":1}]}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"categories":[{"id":"General","price":1}]}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"categories":[{"id":"general"}]}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"categories":"general"}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"name":"bell\u0007"}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"name":"line\nbreak"}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"name":"   "}"#.to_string(), "VALIDATION_ERROR"),
        (format!(r#"{{"name":"{}"}}"#, "n".repeat(201)), "VALIDATION_ERROR"),
        (r#"{"description":"esc\u001b[31m"}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"salesOpen":"false"}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"salesOpen":0}"#.to_string(), "VALIDATION_ERROR"),
        (r#"{}"#.to_string(), "VALIDATION_ERROR"),
        (r#"[]"#.to_string(), "VALIDATION_ERROR"),
        (r#"{"name":"x""#.to_string(), "INVALID_JSON"),
    ]);
    for (body, code) in &cases {
        refused(&format!("PATCH {body}"), &patch(&w.admin, body.clone()).await, 400, code);
    }
    // A valid change, from someone who is not an admin.
    refused("PATCH by a user", &patch(&w.bob.0, r#"{"name":"Mine"}"#.into()).await, 403, "FORBIDDEN");
    // Alice holds 3 of the 5 seats: 2 are available, so the category cannot go below 3, even
    // with other changes in the same body.
    for body in [seats("2"), format!(r#"{{"name":"Shrunk","salesOpen":false,{}"#, &seats("1")[1..])] {
        refused(&format!("PATCH {body}"), &patch(&w.admin, body.clone()).await, 409, "SEATS_IN_USE");
    }
}

/// `POST /api/events/{id}/cancel` refused: a user who is no admin, a body with fields or of the
/// wrong shape, an id that names nothing. The event stays on sale.
pub async fn cancellations(api: &Api, w: &World) {
    let path = format!("/api/events/{}/cancel", w.event_id);
    refused("cancel as a user", &raw_post(api, &path, &w.bob.0, "{}").await, 403, "FORBIDDEN");
    for (body, code) in
        [(r#"{"reason":"rain"}"#, "VALIDATION_ERROR"), ("[]", "VALIDATION_ERROR"), ("{", "INVALID_JSON")]
    {
        refused(&format!("cancel with {body}"), &raw_post(api, &path, &w.admin, body).await, 400, code);
    }
    for id in ["nope", "01KFZ6Y3J8W7D9Q5X2M4N1R0TA", "%00"] {
        let r = raw_post(api, &format!("/api/events/{id}/cancel"), &w.admin, "{}").await;
        refused(&format!("cancel of {id}"), &r, 404, "NOT_FOUND");
    }
}

/// Bodies: far too large, just too large, deeply nested, not UTF-8, broken escapes.
pub async fn bodies(api: &Api, w: &World) {
    let (bob, admin) = (&w.bob.0, &w.admin);
    let in_process = matches!(api, Api::InProcess(_));

    // 10 MB of valid JSON. Over HTTP the local emulator may refuse such a body before any function
    // sees it, with a status of its own; only a 4xx (413 is right) is accepted there.
    let pad = "x".repeat(10 * 1024 * 1024);
    let ten_mb = format!(r#"{{"eventId":"{}","seats":1,"idempotencyKey":"big","pad":"{pad}"}}"#, w.event_id);
    for (path, token) in [("/api/locks", bob), ("/api/events", admin), ("/api/users/register", bob)] {
        let r = raw_post(api, path, token, &ten_mb).await;
        if in_process {
            refused(&format!("10 MB to {path}"), &r, 413, "PAYLOAD_TOO_LARGE");
        } else {
            assert!((400..500).contains(&r.status), "10 MB to {path}: {} {}", r.status, r.body);
        }
    }
    // The limit is 64 KiB exactly: one byte over is 413, at the limit the body is read (and this
    // one has an unknown field).
    let at_limit = |len: usize| {
        let head = format!(r#"{{"eventId":"{}","seats":1,"idempotencyKey":"edge","pad":""#, w.event_id);
        let pad = "y".repeat(len - head.len() - 2);
        let body = format!("{head}{pad}\"}}");
        assert_eq!(body.len(), len);
        body
    };
    let limit = booking_shared::http::MAX_BODY_BYTES;
    refused("64 KiB + 1", &raw_post(api, "/api/locks", bob, &at_limit(limit + 1)).await, 413, "PAYLOAD_TOO_LARGE");
    refused("64 KiB", &raw_post(api, "/api/locks", bob, &at_limit(limit)).await, 400, "VALIDATION_ERROR");

    // Nested far past the parser's depth limit, inside a field, on every body-reading route.
    let arrays = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    let pay = format!("/api/bookings/{}/pay", w.alice_booking);
    let cancel = format!("/api/bookings/{}/cancel", w.alice_booking);
    for nested in [&arrays, &objects] {
        for (path, token, field) in [
            ("/api/locks", bob, "eventId"),
            ("/api/events", admin, "name"),
            ("/api/users/register", bob, "email"),
            ("/api/users/login", bob, "email"),
            ("/api/bookings/confirm", bob, "lockId"),
            (pay.as_str(), bob, "paymentReference"),
            (cancel.as_str(), bob, "x"),
        ] {
            let r = raw_post(api, path, token, &format!(r#"{{"{field}":{nested}}}"#)).await;
            refused(&format!("nested {} deep to {path}", nested.len() / 2), &r, 400, "INVALID_JSON");
        }
    }
    // Nested within the limit but of the wrong type.
    let shallow = format!(
        r#"{{"eventId":"{}","seats":{}1{},"idempotencyKey":"k"}}"#,
        w.event_id,
        "[".repeat(100),
        "]".repeat(100)
    );
    refused("seats nested 100 deep", &raw_post(api, "/api/locks", bob, &shallow).await, 400, "VALIDATION_ERROR");

    // Not UTF-8: a stray byte, an overlong '/', a UTF-16 surrogate encoded as UTF-8. Sent as
    // binary, which is how a gateway hands a non-text body to the function (base64-encoded).
    // In-process they are also sent as JSON: the local emulator cannot carry a non-UTF-8 body
    // under a text Content-Type to a function at all (infra/local/fuzz_hooks.py).
    let auth = bearer(bob);
    for bytes in [&b"\xff\xfe"[..], b"\xc0\xaf", b"\xed\xa0\x80"] {
        let mut body = format!(r#"{{"eventId":"{}","seats":1,"idempotencyKey":""#, w.event_id).into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\"}");
        let mut types = vec!["application/octet-stream"];
        if in_process {
            types.push("application/json");
        }
        for content_type in types {
            let headers = [("authorization", auth.as_str()), ("content-type", content_type)];
            let r = api.call("POST", "/api/locks", Payload::Raw(body.clone()), &headers).await;
            refused(&format!("{bytes:x?} as {content_type}"), &r, 400, "INVALID_JSON");
        }
    }
    // Valid UTF-8 whose escapes name no character (lone surrogates), and a NUL that does.
    for key in [r"\ud800", r"\udfff", r"\ud800\u0041"] {
        let body = format!(r#"{{"eventId":"{}","seats":1,"idempotencyKey":"{key}"}}"#, w.event_id);
        refused(&format!("escape {key}"), &raw_post(api, "/api/locks", bob, &body).await, 400, "INVALID_JSON");
    }
    let body = format!(r#"{{"eventId":"{}","seats":1,"idempotencyKey":"a\u0000b"}}"#, w.event_id);
    refused("NUL in the key", &raw_post(api, "/api/locks", bob, &body).await, 400, "VALIDATION_ERROR");
    // Control characters in what people read: names and descriptions (a description keeps its
    // line breaks and tabs, so those are not among them).
    let date = crate::operator::ahead(86_400);
    for (what, escaped) in
        [("NUL", r"\u0000"), ("ESC", r"\u001b[2J"), ("backspace", r"\b"), ("DEL", "\u{7f}"), ("NEL", r"\u0085")]
    {
        let name = format!(r#"{{"name":"{} {what}{escaped}end","eventDate":"{date}","totalSeats":5}}"#, w.tag);
        refused(
            &format!("{what} in an event name"),
            &raw_post(api, "/api/events", admin, &name).await,
            400,
            "VALIDATION_ERROR",
        );
        let described =
            format!(r#"{{"name":"{} {what}","description":"a{escaped}b","eventDate":"{date}","totalSeats":5}}"#, w.tag);
        let r = raw_post(api, "/api/events", admin, &described).await;
        refused(&format!("{what} in an event description"), &r, 400, "VALIDATION_ERROR");
        let user =
            format!(r#"{{"name":"{0} {what}{escaped}end","email":"{0}-{what}@x.io","password":"secret1"}}"#, w.tag);
        refused(
            &format!("{what} in a user name"),
            &raw_post(api, "/api/users/register", bob, &user).await,
            400,
            "VALIDATION_ERROR",
        );
    }
    let newline = format!(r#"{{"name":"{} two\nlines","eventDate":"{date}","totalSeats":5}}"#, w.tag);
    refused(
        "a line break in an event name",
        &raw_post(api, "/api/events", admin, &newline).await,
        400,
        "VALIDATION_ERROR",
    );
}

/// Strings that try to be something else wherever an id goes: SQL and NoSQL injection, paths,
/// this table's own key syntax, ids of Alice's own records altered, very long and unicode ids.
fn hostile_ids(w: &World) -> Vec<String> {
    let hash = w.alice_hash();
    let (alice, event) = (&w.alice.1, &w.event_id);
    let mut ids: Vec<String> = [
        "' OR 1=1 --",
        "\" OR \"\"=\"",
        r#"{"$gt":""}"#,
        r#"{"$ne":null}"#,
        "../../etc/passwd",
        "..",
        "#",
        "*",
        "%",
        "\u{0}",
        "EVENT#x",
        "LOCK#0",
        "EMAIL#admin@example.com",
        "lk_",
        "bk_",
        "🎟️席",
        "Ǖ𝔘𝕃𝕀𝔻",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    ids.extend([
        format!("EVENT#{event}"),
        format!("HOLD#{hash}"),
        format!("EVENT#{event}#HOLD#{hash}"),
        format!("USER#{alice}"),
        format!("IDEMPOTENCY#{alice}#{hash}"),
        format!("{event}#{hash}"),
        event.to_lowercase(),
        format!("{event} "),
        format!("{event}\u{0}"),
        w.alice_lock.to_uppercase(),
        format!("{}x", w.alice_lock),
        format!("{}/", w.alice_lock),
        format!("lk_{event}_{}", &hash[..31]),
        format!("lk_{event}__{hash}"),
        format!("lk_{event}_{hash}_{hash}"),
        "x".repeat(4000),
    ]);
    ids
}

/// Injection and key-shaped strings as path and body ids, sent by Alice, who owns the real
/// records they imitate (so a loose match would find something). Every one names nothing: 404.
pub async fn ids(api: &Api, w: &World) {
    let (alice, admin) = (&w.alice.0, &w.admin);
    let auth = bearer(alice);
    let h = [("authorization", auth.as_str())];
    for raw in hostile_ids(w) {
        let seg = encode(&raw);
        let what = |route: &str| format!("{route} with id {raw:?}");
        refused(&what("GET event"), &api.get(&format!("/api/events/{seg}"), None).await, 404, "NOT_FOUND");
        let inventory = api.get(&format!("/api/events/{seg}/inventory"), Some(admin)).await;
        refused(&what("GET inventory"), &inventory, 404, "NOT_FOUND");
        refused(&what("GET lock"), &api.get(&format!("/api/locks/{seg}"), Some(alice)).await, 404, "NOT_FOUND");
        let release = api.call("DELETE", &format!("/api/locks/{seg}"), Payload::None, &h).await;
        refused(&what("DELETE lock"), &release, 404, "NOT_FOUND");
        refused(&what("GET booking"), &api.get(&format!("/api/bookings/{seg}"), Some(alice)).await, 404, "NOT_FOUND");
        let pay = api.post(&format!("/api/bookings/{seg}/pay"), json!({"paymentReference": "p"}), Some(alice)).await;
        refused(&what("pay"), &pay, 404, "NOT_FOUND");
        let cancel = api.post(&format!("/api/bookings/{seg}/cancel"), json!({}), Some(alice)).await;
        refused(&what("cancel"), &cancel, 404, "NOT_FOUND");
        if raw.len() > 1000 {
            continue; // in a body, a 4000-character id is just a long string; once is enough
        }
        let lock = api.lock(alice, &raw, 1, "id-attack").await;
        refused(&what("lock eventId"), &lock, 404, "NOT_FOUND");
        let confirm = api.post("/api/bookings/confirm", json!({"lockId": raw}), Some(alice)).await;
        refused(&what("confirm lockId"), &confirm, 404, "NOT_FOUND");
        let as_other = json!({"eventId": w.event_id, "seats": 1, "idempotencyKey": "id-attack", "userId": raw});
        refused(&what("lock userId"), &api.post("/api/locks", as_other, Some(alice)).await, 403, "FORBIDDEN");
    }
    let long = "x".repeat(60_000);
    let lock = api.lock(alice, &long, 1, "id-attack").await;
    refused("lock eventId of 60000 characters", &lock, 404, "NOT_FOUND");
    let confirm = api.post("/api/bookings/confirm", json!({"lockId": long}), Some(alice)).await;
    refused("confirm lockId of 60000 characters", &confirm, 404, "NOT_FOUND");
    // Alice's booking id as a lock id and back: the prefixes are not interchangeable.
    let as_lock = api.get(&format!("/api/locks/{}", w.alice_booking), Some(alice)).await;
    refused("booking id as a lock id", &as_lock, 404, "NOT_FOUND");
    let as_booking = api.get(&format!("/api/bookings/{}", w.alice_lock), Some(alice)).await;
    refused("lock id as a booking id", &as_booking, 404, "NOT_FOUND");

    // Forged list cursors: a cursor is a start key, and DynamoDB refuses empty or over-long keys
    // outright; one of those must be the client's 400, not a 500.
    let cursor = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let long_key = "E".repeat(3000);
    for (label, forged) in [
        ("empty sort key", json!({"PK": "EVENT#x", "SK": "EVENT", "listKey": "EVENT", "listSort": ""})),
        (
            "over-long key",
            json!({"PK": format!("EVENT#{long_key}"), "SK": "EVENT", "listKey": "EVENT", "listSort": "z"}),
        ),
        ("other attribute", json!({"PK": "EVENT#x", "SK": "EVENT", "listKey": "EVENT", "userKey": "z"})),
        ("number", json!({"PK": "EVENT#x", "SK": "EVENT", "listKey": "EVENT", "listSort": 1})),
    ] {
        let r = api.get(&format!("/api/events?cursor={}", cursor(forged)), None).await;
        refused(&format!("events cursor with {label}"), &r, 400, "VALIDATION_ERROR");
    }
    let mine = format!("USER#{}", w.alice.1);
    for (label, forged) in [
        ("empty sort key", json!({"PK": "EVENT#x", "SK": "HOLD#x", "userKey": mine, "userSort": ""})),
        ("over-long key", json!({"PK": "EVENT#x", "SK": "HOLD#x", "userKey": mine, "userSort": long_key})),
    ] {
        let r = api.get(&format!("/api/bookings?cursor={}", cursor(forged)), Some(alice)).await;
        refused(&format!("bookings cursor with {label}"), &r, 400, "VALIDATION_ERROR");
    }
    // Login looks the address up as a key: one longer than any registration accepts must be a
    // wrong login like any other, not a key DynamoDB refuses.
    let email = format!("{}@example.com", "a".repeat(3000));
    let r = api.post("/api/users/login", json!({"email": email, "password": "secret1"}), None).await;
    refused("login with a 3012-character email", &r, 401, "INVALID_CREDENTIALS");
}

/// Idempotency keys that imitate this table's keys or Alice's records. A key is the caller's
/// own name for a request, hashed into the record's key, so whatever it looks like it can only
/// name Bob's own lock: asking for more seats than are left (3 of 2) is refused and creates
/// nothing, neither for Bob nor at Alice's records. Then keys the contract does not accept.
pub async fn keys(api: &Api, w: &World) {
    let bob = &w.bob.0;
    let hash = w.alice_hash();
    let (alice, event) = (&w.alice.1, &w.event_id);
    let shaped = [
        ALICE_KEY.to_string(),
        w.alice_lock.clone(),
        hash.clone(),
        format!("HOLD#{hash}"),
        format!("EVENT#{event}"),
        format!("IDEMPOTENCY#{alice}#{hash}"),
        format!("USER#{alice}"),
        "LOCK#0".to_string(),
        "' OR 1=1 --".to_string(),
        r#"{"$gt":""}"#.to_string(),
        "../../etc/passwd".to_string(),
        "#".to_string(),
        "🎟️席".to_string(),
        "k".repeat(255),
        "界".repeat(255),
    ];
    let auth = bearer(bob);
    for key in &shaped {
        let r = api.lock(bob, &w.event_id, 3, key).await;
        refused(&format!("key {key:?} for 3 of 2 seats"), &r, 409, "SEATS_UNAVAILABLE");
        if key.is_ascii() {
            let headers = [("authorization", auth.as_str()), ("idempotency-key", key.as_str())];
            let body = json!({"eventId": w.event_id, "seats": 3});
            let r = api.call("POST", "/api/locks", Payload::Json(body), &headers).await;
            refused(&format!("header key {key:?} for 3 of 2 seats"), &r, 409, "SEATS_UNAVAILABLE");
        }
        let ghost = api.get(&format!("/api/locks/{}", w.bobs_lock_for(key)), Some(bob)).await;
        refused(&format!("the lock key {key:?} would have made"), &ghost, 404, "NOT_FOUND");
    }
    // Keys the contract refuses: too long (in characters, however few bytes), control characters.
    for key in ["k".repeat(256), "界".repeat(256), "x".repeat(10_000), "a\u{7}b".into(), "\u{85}".into(), "a\nb".into()]
    {
        let r = api.lock(bob, &w.event_id, 1, &key).await;
        let start: String = key.chars().take(8).collect();
        refused(&format!("key {start:?}... of {} characters", key.chars().count()), &r, 400, "VALIDATION_ERROR");
    }
    let body = json!({"eventId": w.event_id, "seats": 1});
    let headers = [("authorization", auth.as_str()), ("idempotency-key", "")];
    let r = api.call("POST", "/api/locks", Payload::Json(body.clone()), &headers).await;
    refused("empty Idempotency-Key header", &r, 400, "VALIDATION_ERROR");
    let long = "k".repeat(256);
    let headers = [("authorization", auth.as_str()), ("idempotency-key", long.as_str())];
    let r = api.call("POST", "/api/locks", Payload::Json(body.clone()), &headers).await;
    refused("Idempotency-Key header of 256 characters", &r, 400, "VALIDATION_ERROR");
    if let Api::InProcess(_) = api {
        // Not ASCII in a header: the local emulator cannot hand such a header to a function at
        // all (infra/local/fuzz_hooks.py), so this runs in-process only.
        let headers = [("authorization", auth.as_str()), ("idempotency-key", "clé-ÿ")];
        let r = api.call("POST", "/api/locks", Payload::Json(body), &headers).await;
        refused("non-ASCII Idempotency-Key header", &r, 400, "VALIDATION_ERROR");
    }
}

fn user(id: &str, role: Role) -> User {
    User {
        id: UserId::parse(id).expect("a user id"),
        name: "x".into(),
        email: Email::parse("x@example.com").expect("an email"),
        role,
        created_at: Timestamp::now(),
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Replaces a token's claims with `edit`ed ones, keeping its header and signature.
fn edited(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT: {token}");
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64")).expect("json");
    edit(&mut claims);
    format!("{}.{}.{}", parts[0], b64(&claims), parts[2])
}

/// Tokens that must not authenticate anyone: signed with another key, expired (by an hour, and
/// by two seconds), unsigned (`alg: none`), or with claims edited after signing. Each is tried
/// where it would change something: releasing Alice's lock, cancelling her booking, creating an
/// event, locking seats, and reading who it claims to be.
pub async fn tokens(api: &Api, w: &World, signing_key: &[u8]) {
    let now = Timestamp::now();
    let (alice_id, bob) = (&w.alice.1, &w.bob.0);
    let real = Tokens::new(signing_key, 3600);
    // The control: a token made with this key now is accepted, so the refusals below are about
    // what was done to each token, not a wrong key.
    let fresh = real.issue(&user(alice_id, Role::User)).expect("issue").token;
    let me = api.get("/api/users/me", Some(&fresh)).await;
    assert_eq!(me.status, 200, "the signing key given to the test is not the API's: {}", me.body);
    assert_eq!(me.data()["_id"], json!(alice_id));

    let exp = now.plus_seconds(600).unix_seconds();
    let unsigned_claims = json!({"sub": alice_id, "role": "admin", "iat": now.unix_seconds(), "exp": exp});
    let mut forged: Vec<(String, String)> = vec![
        ("signed with another key", {
            Tokens::new(b"another-key-another-key-another-key!", 3600)
                .issue(&user(alice_id, Role::Admin))
                .unwrap()
                .token
        }),
        (
            "expired an hour ago",
            real.issue_at(&user(alice_id, Role::Admin), now.plus_seconds(-2 * 3600)).unwrap().token,
        ),
        ("expired two seconds ago", {
            Tokens::new(signing_key, 60).issue_at(&user(alice_id, Role::User), now.plus_seconds(-62)).unwrap().token
        }),
        ("role edited to admin", edited(bob, |c| c["role"] = json!("admin"))),
        ("sub edited to Alice", edited(bob, |c| c["sub"] = json!(alice_id))),
        ("expiry edited a year ahead", edited(&fresh, |c| c["exp"] = json!(exp + 365 * 86_400))),
        ("signature of another token", {
            let other = real.issue(&user(alice_id, Role::Admin)).unwrap().token;
            let sig = other.rsplit('.').next().unwrap().to_string();
            let mut parts: Vec<&str> = bob.split('.').collect();
            parts[2] = &sig;
            parts.join(".")
        }),
        ("signature removed", format!("{}.", bob.rsplit_once('.').unwrap().0)),
        ("signature only", bob.rsplit('.').next().unwrap().to_string()),
    ]
    .into_iter()
    .map(|(label, token)| (label.to_string(), token))
    .collect();
    let claims = b64(&unsigned_claims);
    let signature = bob.rsplit('.').next().unwrap();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(&json!({"alg": alg, "typ": "JWT"}));
        forged.push((format!("alg {alg}"), format!("{header}.{claims}.")));
        forged.push((format!("alg {alg} with a signature"), format!("{header}.{claims}.{signature}")));
    }
    let hs256 = b64(&json!({"alg": "HS256", "typ": "JWT"}));
    forged.push(("alg HS256 and no signature".to_string(), format!("{hs256}.{claims}.")));

    let date = now.plus_seconds(2 * 86_400).text();
    for (label, token) in &forged {
        let what = |action: &str| format!("{action} with a token {label}");
        let auth = bearer(token);
        let h = [("authorization", auth.as_str())];
        refused(&what("GET me"), &api.get("/api/users/me", Some(token)).await, 401, "UNAUTHORIZED");
        let release = api.call("DELETE", &format!("/api/locks/{}", w.alice_lock), Payload::None, &h).await;
        refused(&what("release Alice's lock"), &release, 401, "UNAUTHORIZED");
        let cancel = api.post(&format!("/api/bookings/{}/cancel", w.alice_booking), json!({}), Some(token)).await;
        refused(&what("cancel Alice's booking"), &cancel, 401, "UNAUTHORIZED");
        let pay = api
            .post(&format!("/api/bookings/{}/pay", w.alice_booking), json!({"paymentReference": "free"}), Some(token))
            .await;
        refused(&what("pay Alice's booking"), &pay, 401, "UNAUTHORIZED");
        let event = json!({"name": format!("{} {label}", w.tag), "eventDate": date, "totalSeats": 5});
        refused(&what("create an event"), &api.post("/api/events", event, Some(token)).await, 401, "UNAUTHORIZED");
        let inventory = api.get(&format!("/api/events/{}/inventory", w.event_id), Some(token)).await;
        refused(&what("read the inventory"), &inventory, 401, "UNAUTHORIZED");
        refused(&what("lock seats"), &api.lock(token, &w.event_id, 1, "forged").await, 401, "UNAUTHORIZED");
    }
}
