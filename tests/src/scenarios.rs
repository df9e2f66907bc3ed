//! The contract's scenarios, written once against [`Api`]: `tests/api.rs` runs them through the
//! handlers in-process, `tests/e2e.rs` over HTTP against the local stack.
use futures::future::join_all;
use futures::StreamExt;
use serde_json::{json, Value};

use crate::{Api, Payload};

pub fn id(v: &Value) -> String {
    v["_id"].as_str().unwrap_or_else(|| panic!("_id in {v}")).to_string()
}

/// register -> login -> me -> create event -> lock -> confirm -> pay, checking the seats and
/// the shapes at every step.
pub async fn walkthrough(api: &Api) {
    let admin = api.admin().await;
    let (token, user) = register_and_log_in(api).await;
    let event_id = api.event(&admin, 100).await;
    let event = api.get(&format!("/api/events/{event_id}"), None).await;
    event.expect(200);
    assert_eq!(event.data()["availableSeats"], 100);
    assert_eq!(event.data()["totalSeats"], 100);
    let lock = lock_five_seats(api, &admin, &token, &user, &event_id).await;
    let booking = confirm_the_lock(api, &admin, &token, &user, &event_id, &lock).await;
    pay_and_find_the_booking(api, &admin, &token, &event_id, &booking).await;
}

/// Walkthrough, step 1: a new user registers (mixed-case address), logs in with the address in
/// another case, and reads itself. (token, user).
async fn register_and_log_in(api: &Api) -> (String, Value) {
    let email = format!("Walker-{}@Example.com", ulid::Ulid::new());
    let reg =
        api.post("/api/users/register", json!({"name": "Walker", "email": email, "password": "secret1"}), None).await;
    reg.expect(201);
    let user = reg.data().clone();
    assert_eq!(user["role"], "user");
    assert_eq!(user["email"], email.as_str());
    assert!(user.get("password").is_none() && user.get("passwordHash").is_none(), "{user}");
    for key in ["_id", "name", "email", "role", "createdAt"] {
        assert!(user.get(key).is_some(), "user lacks {key}: {user}");
    }
    // Log in with the address in another case.
    let login = api.post("/api/users/login", json!({"email": email.to_lowercase(), "password": "secret1"}), None).await;
    login.expect(200);
    assert_eq!(login.data()["tokenType"], "Bearer");
    assert!(login.data()["expiresAt"].as_str().is_some_and(|t| t.ends_with('Z')));
    let token = login.data()["token"].as_str().unwrap().to_string();
    let me = api.get("/api/users/me", Some(&token)).await;
    me.expect(200);
    assert_eq!(me.data()["_id"], user["_id"]);
    (token, user)
}

/// Walkthrough, step 2: a lock of 5 seats, ACTIVE, the seats locked. The lock.
async fn lock_five_seats(api: &Api, admin: &str, token: &str, user: &Value, event_id: &str) -> Value {
    let lock = api.lock(token, event_id, 5, "walk-1").await;
    lock.expect(201);
    let lock = lock.data().clone();
    assert_eq!(lock["status"], "ACTIVE");
    assert_eq!(lock["seats"], 5);
    assert_eq!(lock["eventId"], event_id);
    assert_eq!(lock["userId"], user["_id"]);
    assert_eq!(lock["idempotencyKey"], "walk-1");
    assert!(lock["expiresAt"].as_str().unwrap() > lock["createdAt"].as_str().unwrap());
    let inv = api.inventory(admin, event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 95);
    assert_eq!(inv["lockedSeats"], 5);
    api.get(&format!("/api/locks/{}", id(&lock)), Some(token)).await.expect(200);
    lock
}

/// Walkthrough, step 3: the lock confirmed into a booking awaiting payment, the lock CONSUMED,
/// the seats pending. The booking.
async fn confirm_the_lock(api: &Api, admin: &str, token: &str, user: &Value, event_id: &str, lock: &Value) -> Value {
    let confirmed = api.post("/api/bookings/confirm", json!({"lockId": id(lock)}), Some(token)).await;
    confirmed.expect(201);
    let booking = confirmed.data().clone();
    assert_eq!(booking["status"], "PAYMENT_PENDING");
    assert_eq!(booking["seatLockId"], lock["_id"]);
    assert_eq!(booking["event"], event_id);
    assert_eq!(booking["user"], user["_id"]);
    assert_eq!(booking["seats"], 5);
    assert!(booking["paymentExpiresAt"].as_str().is_some());
    let lock_now = api.get(&format!("/api/locks/{}", id(lock)), Some(token)).await;
    assert_eq!(lock_now.data()["status"], "CONSUMED");
    let inv = api.inventory(admin, event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 95);
    assert_eq!(inv["pendingSeats"], 5);
    assert_eq!(inv["lockedSeats"], 0);
    booking
}

/// Walkthrough, step 4: the booking paid (CONFIRMED, the seats sold), in the user's list, and
/// readable by its owner and by an admin.
async fn pay_and_find_the_booking(api: &Api, admin: &str, token: &str, event_id: &str, booking: &Value) {
    let paid = api
        .post(&format!("/api/bookings/{}/pay", id(booking)), json!({"paymentReference": "pay-1"}), Some(token))
        .await;
    paid.expect(200);
    assert_eq!(paid.data()["status"], "CONFIRMED");
    assert!(paid.data()["paidAt"].as_str().is_some());
    let inv = api.inventory(admin, event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 95);
    assert_eq!(inv["soldSeats"], 5);

    let mine = api.get("/api/bookings", Some(token)).await;
    mine.expect(200);
    assert_eq!(mine.data().as_array().map(Vec::len), Some(1));
    assert_eq!(mine.data()[0]["_id"], booking["_id"]);
    assert!(mine.body.get("nextCursor").is_some());
    api.get(&format!("/api/bookings/{}", id(booking)), Some(token)).await.expect(200);
    // Admins see any booking.
    api.get(&format!("/api/bookings/{}", id(booking)), Some(admin)).await.expect(200);
}

/// Releasing a lock returns its seats once; a released lock cannot be released or confirmed.
pub async fn release(api: &Api) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let event_id = api.event(&admin, 10).await;
    let lock = api.lock(&token, &event_id, 4, "rel-1").await;
    lock.expect(201);
    let lock_id = id(lock.data());
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 6);
    let released = api
        .call(
            "DELETE",
            &format!("/api/locks/{lock_id}"),
            Payload::None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    released.expect(200);
    assert_eq!(released.data()["status"], "RELEASED");
    assert_eq!(released.data()["seats"], 4);
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 10);
    let again = api
        .call(
            "DELETE",
            &format!("/api/locks/{lock_id}"),
            Payload::None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    again.expect_error(409, "LOCK_NOT_ACTIVE");
    api.post("/api/bookings/confirm", json!({"lockId": lock_id}), Some(&token))
        .await
        .expect_error(409, "LOCK_NOT_ACTIVE");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 10, "seats returned once");
}

/// Cancelling returns the seats, from PAYMENT_PENDING and from CONFIRMED; only once.
pub async fn cancel(api: &Api) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let event_id = api.event(&admin, 10).await;
    for (key, pay) in [("c-pending", false), ("c-paid", true)] {
        let lock = api.lock(&token, &event_id, 3, key).await;
        lock.expect(201);
        let booking = api.post("/api/bookings/confirm", json!({"lockId": id(lock.data())}), Some(&token)).await;
        booking.expect(201);
        let bid = id(booking.data());
        if pay {
            api.post(&format!("/api/bookings/{bid}/pay"), json!({"paymentReference": "p"}), Some(&token))
                .await
                .expect(200);
        }
        assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 7);
        let cancelled = api.post(&format!("/api/bookings/{bid}/cancel"), json!({}), Some(&token)).await;
        cancelled.expect(200);
        assert_eq!(cancelled.data()["status"], "CANCELLED");
        assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 10);
        let again = api
            .call(
                "POST",
                &format!("/api/bookings/{bid}/cancel"),
                Payload::None,
                &[("authorization", &format!("Bearer {token}"))],
            )
            .await;
        again.expect_error(409, "BOOKING_NOT_PENDING");
        api.post(&format!("/api/bookings/{bid}/pay"), json!({"paymentReference": "p"}), Some(&token))
            .await
            .expect_error(409, "BOOKING_NOT_PENDING");
        assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 10);
    }
}

/// Idempotency of lock, confirm and pay.
pub async fn idempotency(api: &Api) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let event_id = api.event(&admin, 20).await;
    let other_event = api.event(&admin, 20).await;
    let first = api.lock(&token, &event_id, 2, "idem-1").await;
    first.expect(201);
    let again = api.lock(&token, &event_id, 2, "idem-1").await;
    again.expect(200);
    assert_eq!(again.data(), first.data(), "a replay returns the same lock");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 18, "seats taken once");
    api.lock(&token, &event_id, 3, "idem-1").await.expect_error(422, "IDEMPOTENCY_KEY_REUSED");
    api.lock(&token, &other_event, 2, "idem-1").await.expect_error(422, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &other_event).await), 20);
    // Keys are scoped to the caller: another user may use the same key.
    let (token2, _) = api.new_user().await;
    api.lock(&token2, &event_id, 2, "idem-1").await.expect(201);
    // The key may come in a header instead.
    let auth = format!("Bearer {token}");
    let hdr = [("authorization", auth.as_str()), ("idempotency-key", "idem-hdr")];
    let body = json!({"eventId": event_id, "seats": 1});
    api.call("POST", "/api/locks", Payload::Json(body.clone()), &hdr).await.expect(201);
    api.call("POST", "/api/locks", Payload::Json(body), &hdr).await.expect(200);
    let both = json!({"eventId": event_id, "seats": 1, "idempotencyKey": "other"});
    api.call("POST", "/api/locks", Payload::Json(both), &hdr).await.expect_error(400, "VALIDATION_ERROR");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 15);

    let lock_id = id(first.data());
    let b1 = api.post("/api/bookings/confirm", json!({"lockId": lock_id}), Some(&token)).await;
    b1.expect(201);
    let b2 = api.post("/api/bookings/confirm", json!({"lockId": lock_id}), Some(&token)).await;
    b2.expect(200);
    assert_eq!(b1.data(), b2.data(), "confirming again returns the same booking");
    // After confirm, replaying the lock request still names the same (now consumed) lock.
    let replay = api.lock(&token, &event_id, 2, "idem-1").await;
    replay.expect(200);
    assert_eq!(replay.data()["status"], "CONSUMED");
    let bid = id(b1.data());
    let p1 = api.post(&format!("/api/bookings/{bid}/pay"), json!({"paymentReference": "ref-A"}), Some(&token)).await;
    p1.expect(200);
    let p2 = api.post(&format!("/api/bookings/{bid}/pay"), json!({"paymentReference": "ref-A"}), Some(&token)).await;
    p2.expect(200);
    assert_eq!(p1.data(), p2.data(), "paying again with the same reference changes nothing");
    api.post(&format!("/api/bookings/{bid}/pay"), json!({"paymentReference": "ref-B"}), Some(&token))
        .await
        .expect_error(409, "BOOKING_NOT_PENDING");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 15);
}

/// Who may see and do what: 401, 403 and 404 (never 403 for other users' records).
pub async fn access(api: &Api) {
    let admin = api.admin().await;
    let (alice, alice_id) = api.new_user().await;
    let (bob, _) = api.new_user().await;
    let event_id = api.event(&admin, 10).await;

    api.get("/api/users/me", None).await.expect_error(401, "UNAUTHORIZED");
    api.get("/api/users/me", Some("garbage")).await.expect_error(401, "UNAUTHORIZED");
    let basic = api.call("GET", "/api/users/me", Payload::None, &[("authorization", "Basic abc")]).await;
    basic.expect_error(401, "UNAUTHORIZED");
    api.lock("not-a-token", &event_id, 1, "k").await.expect_error(401, "UNAUTHORIZED");
    let date = booking_shared::time::Timestamp::now().plus_seconds(86_400).text();
    api.post("/api/events", json!({"name": "X", "eventDate": date, "totalSeats": 5}), Some(&alice))
        .await
        .expect_error(403, "FORBIDDEN");
    api.get(&format!("/api/events/{event_id}/inventory"), Some(&alice)).await.expect_error(403, "FORBIDDEN");
    let as_other =
        json!({"eventId": event_id, "seats": 1, "idempotencyKey": "k", "userId": "01ARZ3NDEKTSV4RRFFQ69G5FAV"});
    api.post("/api/locks", as_other, Some(&alice)).await.expect_error(403, "FORBIDDEN");
    let as_self = json!({"eventId": event_id, "seats": 1, "idempotencyKey": "self", "userId": alice_id});
    api.post("/api/locks", as_self, Some(&alice)).await.expect(201);

    let lock = api.lock(&alice, &event_id, 2, "mine").await;
    lock.expect(201);
    let lock_id = id(lock.data());
    api.get(&format!("/api/locks/{lock_id}"), Some(&bob)).await.expect_error(404, "NOT_FOUND");
    api.get(&format!("/api/locks/{lock_id}"), Some(&admin)).await.expect(200);
    let bob_auth = format!("Bearer {bob}");
    api.call("DELETE", &format!("/api/locks/{lock_id}"), Payload::None, &[("authorization", &bob_auth)])
        .await
        .expect_error(404, "NOT_FOUND");
    api.post("/api/bookings/confirm", json!({"lockId": lock_id}), Some(&bob)).await.expect_error(404, "NOT_FOUND");
    let booking = api.post("/api/bookings/confirm", json!({"lockId": lock_id}), Some(&alice)).await;
    booking.expect(201);
    let bid = id(booking.data());
    api.get(&format!("/api/bookings/{bid}"), Some(&bob)).await.expect_error(404, "NOT_FOUND");
    api.post(&format!("/api/bookings/{bid}/pay"), json!({"paymentReference": "x"}), Some(&bob))
        .await
        .expect_error(404, "NOT_FOUND");
    api.post(&format!("/api/bookings/{bid}/cancel"), json!({}), Some(&bob)).await.expect_error(404, "NOT_FOUND");
    let bobs = api.get("/api/bookings", Some(&bob)).await;
    bobs.expect(200);
    assert_eq!(bobs.data(), &json!([]));
    // Nothing Bob tried changed anything.
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 7);
    assert_eq!(inv["pendingSeats"], 2);
}

/// Every other error of the contract that needs no clock or database tricks.
pub async fn errors(api: &Api) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let event_id = api.event(&admin, 3).await;
    user_errors(api).await;
    event_errors(api, &admin).await;
    lock_errors(api, &token, &event_id).await;
    body_errors(api, &token, &event_id).await;
    route_errors(api, &token).await;
    // Only the one good lock changed anything.
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 2);
}

/// Errors, users: a taken address (in another case), wrong credentials, invalid registrations.
async fn user_errors(api: &Api) {
    let email = format!("dup-{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    api.post("/api/users/register", json!({"name": "A", "email": email, "password": "secret1"}), None)
        .await
        .expect(201);
    api.post("/api/users/register", json!({"name": "A", "email": email.to_uppercase(), "password": "secret1"}), None)
        .await
        .expect_error(409, "EMAIL_TAKEN");
    api.post("/api/users/login", json!({"email": email, "password": "wrong-1"}), None)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
    api.post("/api/users/login", json!({"email": "nobody@example.com", "password": "secret1"}), None)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
    for bad in [
        json!({"name": "A", "email": "not-an-email", "password": "secret1"}),
        json!({"name": "A", "email": "a@example.com", "password": "12345"}),
        json!({"name": "", "email": "a@example.com", "password": "secret1"}),
        json!({"email": "a@example.com", "password": "secret1"}),
        json!({"name": "A", "email": "a@example.com", "password": "secret1", "admin": true}),
        json!({"name": 7, "email": "a@example.com", "password": "secret1"}),
    ] {
        api.post("/api/users/register", bad, None).await.expect_error(400, "VALIDATION_ERROR");
    }
}

/// Errors, events: invalid events, unknown ids, bad paging.
async fn event_errors(api: &Api, admin: &str) {
    let date = booking_shared::time::Timestamp::now().plus_seconds(86_400).text();
    for bad in [
        json!({"name": "X", "eventDate": "2001-01-01T00:00:00Z", "totalSeats": 5}),
        json!({"name": "X", "eventDate": "soon", "totalSeats": 5}),
        json!({"name": "X", "eventDate": date, "totalSeats": 0}),
        json!({"name": "X", "eventDate": date, "totalSeats": 100001}),
        json!({"name": "X", "eventDate": date, "totalSeats": -5}),
        json!({"name": "X", "eventDate": date, "totalSeats": 1.5}),
        json!({"name": "X", "eventDate": date, "totalSeats": "5"}),
        json!({"name": "X", "eventDate": date, "totalSeats": 1e30}),
    ] {
        api.post("/api/events", bad, Some(admin)).await.expect_error(400, "VALIDATION_ERROR");
    }
    api.get("/api/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", None).await.expect_error(404, "NOT_FOUND");
    api.get("/api/events/not-an-id", None).await.expect_error(404, "NOT_FOUND");
    api.get("/api/events?limit=0", None).await.expect_error(400, "VALIDATION_ERROR");
    api.get("/api/events?limit=101", None).await.expect_error(400, "VALIDATION_ERROR");
    api.get("/api/events?cursor=bogus", None).await.expect_error(400, "VALIDATION_ERROR");
}

/// Errors, locks and bookings: invalid locks, unknown or hostile ids, too many seats.
async fn lock_errors(api: &Api, token: &str, event_id: &str) {
    for bad in [
        json!({"eventId": event_id, "seats": 0, "idempotencyKey": "k"}),
        json!({"eventId": event_id, "seats": 11, "idempotencyKey": "k"}),
        json!({"eventId": event_id, "seats": -1, "idempotencyKey": "k"}),
        json!({"eventId": event_id, "seats": 99999999999999999999u128 as f64, "idempotencyKey": "k"}),
        json!({"eventId": event_id, "seats": 1}),
        json!({"eventId": event_id, "seats": 1, "idempotencyKey": ""}),
        json!({"eventId": event_id, "seats": "1", "idempotencyKey": "k"}),
        json!({"seats": 1, "idempotencyKey": "k"}),
        json!({"eventId": event_id, "seats": 1, "idempotencyKey": "k", "extra": 1}),
    ] {
        api.post("/api/locks", bad, Some(token)).await.expect_error(400, "VALIDATION_ERROR");
    }
    api.lock(token, "01ARZ3NDEKTSV4RRFFQ69G5FAV", 1, "ghost").await.expect_error(404, "NOT_FOUND");
    api.lock(token, "'; DROP TABLE events; --", 1, "inj").await.expect_error(404, "NOT_FOUND");
    api.lock(token, event_id, 4, "too-many").await.expect_error(409, "SEATS_UNAVAILABLE");
    api.get("/api/locks/lk_nonsense", Some(token)).await.expect_error(404, "NOT_FOUND");
    api.post(
        "/api/bookings/confirm",
        json!({"lockId": "lk_01ARZ3NDEKTSV4RRFFQ69G5FAV_0123456789abcdef0123456789abcdef"}),
        Some(token),
    )
    .await
    .expect_error(404, "NOT_FOUND");
    api.post("/api/bookings/confirm", json!({}), Some(token)).await.expect_error(400, "VALIDATION_ERROR");
    api.get("/api/bookings/bk_../../etc", Some(token)).await.expect_error(404, "NOT_FOUND");
}

/// Errors, bodies: broken, empty, non-object, deeply nested and oversized bodies; a JSON body
/// with another Content-Type is accepted (the one good lock).
async fn body_errors(api: &Api, token: &str, event_id: &str) {
    let auth = format!("Bearer {token}");
    let h = [("authorization", auth.as_str())];
    api.call("POST", "/api/locks", Payload::Raw(b"{\"eventId\":".to_vec()), &h).await.expect_error(400, "INVALID_JSON");
    api.call("POST", "/api/locks", Payload::Raw(b"".to_vec()), &h).await.expect_error(400, "INVALID_JSON");
    api.call("POST", "/api/locks", Payload::Raw(b"[1,2]".to_vec()), &h).await.expect_error(400, "VALIDATION_ERROR");
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    api.call("POST", "/api/locks", Payload::Raw(nested.into_bytes()), &h).await.expect_error(400, "INVALID_JSON");
    let big = json!({"eventId": event_id, "seats": 1, "idempotencyKey": "x".repeat(70 * 1024)});
    api.call("POST", "/api/locks", Payload::Json(big), &h).await.expect_error(413, "PAYLOAD_TOO_LARGE");
    // A JSON body is accepted whatever its Content-Type.
    let ct = [("authorization", auth.as_str()), ("content-type", "text/plain")];
    let plain = format!(r#"{{"eventId":"{event_id}","seats":1,"idempotencyKey":"plain"}}"#);
    api.call("POST", "/api/locks", Payload::Raw(plain.into_bytes()), &ct).await.expect(201);
}

/// Errors, routes: an unknown path is 404, a known path with another method 405.
async fn route_errors(api: &Api, token: &str) {
    let auth = format!("Bearer {token}");
    let h = [("authorization", auth.as_str())];
    api.get("/api/nowhere", None).await.expect_error(404, "NOT_FOUND");
    api.call("PUT", "/api/locks", Payload::None, &h).await.expect_error(405, "METHOD_NOT_ALLOWED");
    api.call("DELETE", "/api/events", Payload::None, &h).await.expect_error(405, "METHOD_NOT_ALLOWED");
    api.call("GET", "/api/users/login", Payload::None, &[]).await.expect_error(405, "METHOD_NOT_ALLOWED");
}

/// Lists: soonest event first with working cursors; bookings newest first.
pub async fn lists(api: &Api) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    // Far-future dates, unique to this run, so the order is known whatever else exists.
    let base = booking_shared::time::Timestamp::now().plus_seconds(86_400 * (3000 + (rand_suffix() % 1000) as i64));
    let mut ids = Vec::new();
    for days in [3, 1, 2] {
        let date = base.plus_seconds(86_400 * days).text();
        let r = api
            .post("/api/events", json!({"name": format!("E{days}"), "eventDate": date, "totalSeats": 5}), Some(&admin))
            .await;
        r.expect(201);
        ids.push((date, id(r.data())));
    }
    ids.sort();
    // Walk every page of size 2 and keep ours, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut last_date = String::new();
    for _ in 0..10_000 {
        let path = match &cursor {
            Some(c) => format!("/api/events?limit=2&cursor={c}"),
            None => "/api/events?limit=2".to_string(),
        };
        let page = api.get(&path, None).await;
        page.expect(200);
        for e in page.data().as_array().unwrap() {
            let d = e["eventDate"].as_str().unwrap().to_string();
            assert!(d >= last_date, "events are soonest first");
            last_date = d;
            if ids.iter().any(|(_, i)| i == e["_id"].as_str().unwrap()) {
                seen.push(id(e));
            }
        }
        cursor = page.body["nextCursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ids.iter().map(|(_, i)| i.clone()).collect::<Vec<_>>());

    let event_id = &ids[0].1;
    let mut booking_ids = Vec::new();
    for k in ["b1", "b2", "b3"] {
        let lock = api.lock(&token, event_id, 1, k).await;
        let b = api.post("/api/bookings/confirm", json!({"lockId": id(lock.data())}), Some(&token)).await;
        b.expect(201);
        booking_ids.push(id(b.data()));
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let first = api.get("/api/bookings?limit=2", Some(&token)).await;
    first.expect(200);
    let cursor = first.body["nextCursor"].as_str().expect("a second page").to_string();
    let second = api.get(&format!("/api/bookings?limit=2&cursor={cursor}"), Some(&token)).await;
    second.expect(200);
    let listed: Vec<String> =
        first.data().as_array().unwrap().iter().chain(second.data().as_array().unwrap()).map(id).collect();
    booking_ids.reverse();
    assert_eq!(listed, booking_ids, "newest first");
    // Another user's cursor is refused, not followed into the first user's bookings.
    let (other, _) = api.new_user().await;
    api.get(&format!("/api/bookings?limit=2&cursor={cursor}"), Some(&other))
        .await
        .expect_error(400, "VALIDATION_ERROR");
}

fn rand_suffix() -> u64 {
    ulid::Ulid::new().random() as u64
}

/// 200 concurrent one-seat locks on a 50-seat event: exactly 50 win, 150 get SEATS_UNAVAILABLE,
/// and `availableSeats` ends at 0, never below. Then 20 identical requests with one key: one lock.
/// At most `in_flight` requests are open at once (the local Lambda emulator wedges when more
/// than about 100 wait on one function; in-process there is no such limit).
pub async fn concurrency(api: &Api, clients: usize, seats: i64, in_flight: usize) {
    let admin = api.admin().await;
    let users: Vec<(String, String)> = join_all((0..10).map(|_| api.new_user())).await;
    let event_id = api.event(&admin, seats).await;
    let attempts = (0..clients).map(|i| {
        let token = users[i % users.len()].0.clone();
        let event_id = event_id.clone();
        async move { api.lock(&token, &event_id, 1, &format!("race-{i}")).await }
    });
    let replies: Vec<_> = futures::stream::iter(attempts).buffer_unordered(in_flight).collect().await;
    let won = replies.iter().filter(|r| r.status == 201).count();
    let sold_out = replies.iter().filter(|r| r.status == 409 && r.code() == "SEATS_UNAVAILABLE").count();
    assert_eq!(won, seats as usize, "exactly the seats on sale are locked");
    assert_eq!(sold_out, clients - seats as usize, "everyone else is told the seats are gone");
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 0);
    assert_eq!(inv["lockedSeats"], seats);

    let event2 = api.event(&admin, 10).await;
    let (token, _) = &users[0];
    let same = (0..20).map(|_| api.lock(token, &event2, 3, "same-key"));
    let replies = join_all(same).await;
    assert!(
        replies.iter().all(|r| r.status == 201 || r.status == 200),
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 1, "one request creates the lock");
    let first_id = replies[0].data()["_id"].clone();
    assert!(replies.iter().all(|r| r.data()["_id"] == first_id), "every reply names the same lock");
    let inv = api.inventory(&admin, &event2).await;
    assert_eq!(Api::assert_invariant(&inv), 7, "seats taken once");
}

/// The per-user limit (`maxSeatsPerUser`): a user's seats of one event in ACTIVE locks,
/// PAYMENT_PENDING and CONFIRMED bookings plus a new lock may not exceed it; seats come off the
/// count when they return; replays never count twice; other users and events are not affected.
pub async fn per_user_limit(api: &Api) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let (other, _) = api.new_user().await;
    let default_event = api.event(&admin, 100).await;
    let event = api.get(&format!("/api/events/{default_event}"), None).await;
    assert_eq!(event.data()["maxSeatsPerUser"], 20, "MAX_SEATS_PER_USER is the default");
    let event_id = api.event_with(&admin, json!({"totalSeats": 100, "maxSeatsPerUser": 5})).await;
    let event = api.get(&format!("/api/events/{event_id}"), None).await;
    assert_eq!(event.data()["maxSeatsPerUser"], 5);

    let first = api.lock(&token, &event_id, 3, "limit-1").await;
    first.expect(201);
    let refused = api.lock(&token, &event_id, 3, "limit-2").await;
    refused.expect_error(409, "USER_LIMIT_REACHED");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 97, "a refusal takes nothing");
    // The same request again is its own answer, and does not count the seats a second time.
    api.lock(&token, &event_id, 3, "limit-1").await.expect(200);
    let second = api.lock(&token, &event_id, 2, "limit-3").await;
    second.expect(201);
    api.lock(&token, &event_id, 1, "limit-4").await.expect_error(409, "USER_LIMIT_REACHED");
    // Someone else, and the same user on another event, are not limited by these seats.
    api.lock(&other, &event_id, 5, "limit-other").await.expect(201);
    api.lock(&token, &default_event, 10, "limit-elsewhere").await.expect(201);

    // Bookings count: confirmed and paid seats still hold their place under the limit.
    let booking = api.confirm(&token, &id(first.data())).await;
    api.pay(&token, &id(&booking)).await.expect(200);
    api.lock(&token, &event_id, 1, "limit-5").await.expect_error(409, "USER_LIMIT_REACHED");
    // Released seats come off the count at once...
    api.delete(&format!("/api/locks/{}", id(second.data())), Some(&token)).await.expect(200);
    let third = api.lock(&token, &event_id, 2, "limit-6").await;
    third.expect(201);
    api.lock(&token, &event_id, 1, "limit-7").await.expect_error(409, "USER_LIMIT_REACHED");
    // ...and so do cancelled ones.
    api.post(&format!("/api/bookings/{}/cancel", id(&booking)), json!({}), Some(&token)).await.expect(200);
    api.lock(&token, &event_id, 3, "limit-8").await.expect(201);
    api.lock(&token, &event_id, 1, "limit-9").await.expect_error(409, "USER_LIMIT_REACHED");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 90);

    // Out of range at creation: a 400 that creates nothing.
    for bad in [json!(0), json!(1001), json!("5"), json!(2.5)] {
        let date = crate::operator::ahead(86_400);
        let body = json!({"name": "Gig", "eventDate": date, "totalSeats": 10, "maxSeatsPerUser": bad});
        let r = api.post("/api/events", body, Some(&admin)).await;
        assert_eq!(r.status, 400, "maxSeatsPerUser {bad}: {}", r.body);
    }
}

/// 50 concurrent one-seat locks of one user on an event that allows 20 a user: exactly 20 pass.
pub async fn one_user_racing_its_limit(api: &Api, in_flight: usize) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let event_id = api.event_with(&admin, json!({"totalSeats": 100, "maxSeatsPerUser": 20})).await;
    let attempts = (0..50).map(|i| {
        let (token, event_id) = (token.clone(), event_id.clone());
        async move { api.lock(&token, &event_id, 1, &format!("hoard-{i}")).await }
    });
    let replies: Vec<_> = futures::stream::iter(attempts).buffer_unordered(in_flight).collect().await;
    let won = replies.iter().filter(|r| r.status == 201).count();
    let limited = replies.iter().filter(|r| r.status == 409 && r.code() == "USER_LIMIT_REACHED").count();
    assert_eq!((won, limited), (20, 30), "{:?}", replies.iter().map(|r| &r.body).collect::<Vec<_>>());
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 80);
    assert_eq!(inv["lockedSeats"], 20);
}

/// When the event's date passes, its seats can no longer be locked, confirmed, paid or cancelled
/// (`409 EVENT_CLOSED`), whatever the lock's or the payment window's own deadline says, and
/// nothing moves. The event is created `seconds_ahead` seconds ahead and the test waits for it.
pub async fn event_date_closes_the_sale(api: &Api, seconds_ahead: i64) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let date = crate::operator::ahead(seconds_ahead);
    let r = api.post("/api/events", json!({"name": "Soon", "eventDate": date, "totalSeats": 10}), Some(&admin)).await;
    r.expect(201);
    let event_id = id(r.data());
    let unconfirmed = api.lock(&token, &event_id, 1, "soon-1").await;
    unconfirmed.expect(201);
    let pending_lock = api.lock(&token, &event_id, 2, "soon-2").await;
    let pending = api.confirm(&token, &id(pending_lock.data())).await;
    let paid_lock = api.lock(&token, &event_id, 3, "soon-3").await;
    let paid = api.confirm(&token, &id(paid_lock.data())).await;
    api.pay(&token, &id(&paid)).await.expect(200);
    let until = booking_shared::time::Timestamp::parse(&date).expect("date");
    while booking_shared::time::Timestamp::now() <= until {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let before = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&before), 4);
    api.lock(&token, &event_id, 1, "soon-4").await.expect_error(409, "EVENT_CLOSED");
    api.post("/api/bookings/confirm", json!({"lockId": id(unconfirmed.data())}), Some(&token))
        .await
        .expect_error(409, "EVENT_CLOSED");
    api.pay(&token, &id(&pending)).await.expect_error(409, "EVENT_CLOSED");
    api.post(&format!("/api/bookings/{}/cancel", id(&paid)), json!({}), Some(&token))
        .await
        .expect_error(409, "EVENT_CLOSED");
    api.post(&format!("/api/bookings/{}/cancel", id(&pending)), json!({}), Some(&token))
        .await
        .expect_error(409, "EVENT_CLOSED");
    assert_eq!(api.status(&token, "locks", &id(unconfirmed.data())).await, "ACTIVE");
    assert_eq!(api.status(&token, "bookings", &id(&pending)).await, "PAYMENT_PENDING");
    assert_eq!(api.status(&token, "bookings", &id(&paid)).await, "CONFIRMED");
    assert_eq!(api.inventory(&admin, &event_id).await, before, "nothing moved");
}

/// Pay and cancel of the same booking at the same moment, `n` times: whoever wins, no booking
/// ends paid and cancelled without its refund, and every seat comes back exactly once.
pub async fn cancel_racing_payment(api: &Api, n: usize) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let event_id = api.event_with(&admin, json!({"totalSeats": 2 * n as i64, "maxSeatsPerUser": 1000})).await;
    let mut bookings = Vec::new();
    for i in 0..n {
        let lock = api.lock(&token, &event_id, 2, &format!("race-cancel-{i}")).await;
        bookings.push(id(&api.confirm(&token, &id(lock.data())).await));
    }
    let races = bookings.iter().map(|b| {
        let token = token.clone();
        async move {
            let path = format!("/api/bookings/{b}/cancel");
            let (pay, cancel) = futures::join!(api.pay(&token, b), api.post(&path, json!({}), Some(&token)));
            (pay, cancel)
        }
    });
    let outcomes = join_all(races).await;
    let mut paid_first = 0;
    for (b, (pay, cancel)) in bookings.iter().zip(&outcomes) {
        cancel.expect(200);
        assert!(pay.status == 200 || pay.code() == "BOOKING_NOT_PENDING", "pay of {b}: {}", pay.body);
        let now = api.get(&format!("/api/bookings/{b}"), Some(&token)).await;
        let booking = now.data();
        assert_eq!(booking["status"], "CANCELLED", "{booking}");
        if pay.status == 200 {
            paid_first += 1;
            assert!(booking["paidAt"].is_string(), "{booking}");
        }
        assert_eq!(
            booking["paidAt"].is_string(),
            booking["refundedAt"].is_string(),
            "paid and cancelled means refunded: {booking}"
        );
        assert_eq!(cancel.data()["refundedAt"], booking["refundedAt"], "the cancel said so");
    }
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 2 * n as i64, "every seat back once ({paid_first} paid first)");
}

/// Ticket categories: each has its own price and seats; a lock names its category (optional when
/// there is one), takes seats of that category and of the event in one write, and records
/// `unitPrice`, `amount` and `currency`; the booking carries them; the inventory reports each
/// category. v1 requests (`totalSeats`, optional `price`) make one `general` category.
pub async fn categories(api: &Api) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let date = crate::operator::ahead(86_400);
    let body = json!({"name": "Tiers", "eventDate": date, "currency": "eur", "categories": [
        {"id": "vip", "name": "VIP", "price": 12000, "seats": 2},
        {"id": "std", "name": "Standard", "price": 4500, "seats": 10}
    ]});
    let created = api.post("/api/events", body, Some(&admin)).await;
    created.expect(201);
    let event = created.data();
    let event_id = id(event);
    assert_eq!((event["totalSeats"].as_i64(), event["availableSeats"].as_i64()), (Some(12), Some(12)));
    assert_eq!(
        (event["status"].as_str(), event["seated"].as_bool(), event["currency"].as_str()),
        (Some("ON_SALE"), Some(false), Some("eur"))
    );
    assert_eq!(
        event["categories"],
        json!([
            {"id": "vip", "name": "VIP", "price": 12000, "totalSeats": 2, "availableSeats": 2},
            {"id": "std", "name": "Standard", "price": 4500, "totalSeats": 10, "availableSeats": 10}
        ])
    );
    let lock = |seats: i64, category: Option<&str>, key: &str| {
        let mut body = json!({"eventId": event_id, "seats": seats, "idempotencyKey": key});
        if let Some(c) = category {
            body["categoryId"] = json!(c);
        }
        api.post("/api/locks", body, Some(&token))
    };
    lock(1, None, "tier-0").await.expect_error(400, "VALIDATION_ERROR");
    lock(1, Some("balcony"), "tier-0").await.expect_error(400, "VALIDATION_ERROR");
    let vip = lock(2, Some("vip"), "tier-1").await;
    vip.expect(201);
    let v = vip.data();
    assert_eq!(
        (v["categoryId"].as_str(), v["unitPrice"].as_i64(), v["amount"].as_i64()),
        (Some("vip"), Some(12000), Some(24000))
    );
    assert_eq!((v["currency"].as_str(), v["seatIds"].clone()), (Some("eur"), json!([])));
    // VIP is sold out while Standard still has seats.
    lock(1, Some("vip"), "tier-2").await.expect_error(409, "SEATS_UNAVAILABLE");
    let std = lock(3, Some("std"), "tier-3").await;
    std.expect(201);
    assert_eq!(std.data()["amount"], 13500);
    // The same key for another category is another request.
    lock(2, Some("std"), "tier-1").await.expect_error(422, "IDEMPOTENCY_KEY_REUSED");
    lock(2, Some("vip"), "tier-1").await.expect(200);
    let now = api.get(&format!("/api/events/{event_id}"), None).await;
    assert_eq!(now.data()["categories"][0]["availableSeats"], 0);
    assert_eq!(now.data()["categories"][1]["availableSeats"], 7);
    assert_eq!(now.data()["availableSeats"], 7);

    let booking = api.confirm(&token, &id(v)).await;
    assert_eq!(
        (booking["categoryId"].as_str(), booking["amount"].as_i64(), booking["currency"].as_str()),
        (Some("vip"), Some(24000), Some("eur"))
    );
    assert_eq!(booking["seatIds"], json!([]));
    let paid = api.pay(&token, &id(&booking)).await;
    paid.expect(200);
    assert_eq!(paid.data()["amount"], 24000);
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 7);
    assert_eq!(
        (inv["categories"][0]["id"].as_str(), inv["categories"][0]["soldSeats"].as_i64()),
        (Some("vip"), Some(2))
    );
    assert_eq!(
        (inv["categories"][1]["id"].as_str(), inv["categories"][1]["lockedSeats"].as_i64()),
        (Some("std"), Some(3))
    );
    api.delete(&format!("/api/locks/{}", id(std.data())), Some(&token)).await.expect(200);
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 10);
    assert_eq!(inv["categories"][1]["availableSeats"], 10);

    // v1: one `general` category, at `price` (default 0); a lock needs no categoryId.
    for (price, want) in [(Some(1500), 1500), (None, 0)] {
        let mut fields = json!({"totalSeats": 5});
        if let Some(p) = price {
            fields["price"] = json!(p);
        }
        let v1 = api.event_with(&admin, fields).await;
        let event = api.get(&format!("/api/events/{v1}"), None).await;
        assert_eq!(event.data()["categories"][0]["id"], "general");
        assert_eq!(event.data()["categories"][0]["name"], "General admission");
        let l = api.lock(&token, &v1, 2, &format!("v1-{want}")).await;
        l.expect(201);
        assert_eq!((l.data()["categoryId"].as_str(), l.data()["amount"].as_i64()), (Some("general"), Some(2 * want)));
    }
    // Exactly one seat plan.
    let both = json!({"name": "x", "eventDate": date, "totalSeats": 5, "categories": [{"id": "a", "name": "A", "price": 1, "seats": 1}]});
    api.post("/api/events", both, Some(&admin)).await.expect_error(400, "VALIDATION_ERROR");
    let neither = json!({"name": "x", "eventDate": date});
    api.post("/api/events", neither, Some(&admin)).await.expect_error(400, "VALIDATION_ERROR");
}

/// `PATCH /api/events/{id}` as an admin; the reply.
pub async fn patch_event(api: &Api, admin: &str, event_id: &str, body: Value) -> crate::Reply {
    api.send("PATCH", &format!("/api/events/{event_id}"), body, Some(admin)).await
}

/// A lock of `seats` seats of `category`.
async fn lock_of(api: &Api, token: &str, event_id: &str, category: &str, seats: i64, key: &str) -> crate::Reply {
    let body = json!({"eventId": event_id, "categoryId": category, "seats": seats, "idempotencyKey": key});
    api.post("/api/locks", body, Some(token)).await
}

/// An admin changes an event (`PATCH /api/events/{id}`): rename, re-date, the per-user limit, a
/// category's price (new locks only) and seats (raise at once; lower only from available seats,
/// else `409 SEATS_IN_USE` and nothing changes), sales closed and reopened. Each change shows in
/// the answer, in `GET`, in the inventory and in the next lock.
pub async fn update_event(api: &Api) {
    let admin = api.admin().await;
    let (token, _) = api.new_user().await;
    let (other, _) = api.new_user().await;
    let date = crate::operator::ahead(86_400);
    let body = json!({"name": "Tiers", "eventDate": date, "maxSeatsPerUser": 20, "categories": [
        {"id": "vip", "name": "VIP", "price": 12000, "seats": 10},
        {"id": "std", "name": "Standard", "price": 4500, "seats": 20}
    ]});
    let created = api.post("/api/events", body, Some(&admin)).await;
    created.expect(201);
    let event_id = id(created.data());
    let read = || async { api.get(&format!("/api/events/{event_id}"), None).await.data().clone() };

    // Who may, and what is refused before anything is written.
    patch_event(api, &token, &event_id, json!({"name": "Mine"})).await.expect_error(403, "FORBIDDEN");
    let nobody = ulid::Ulid::new().to_string();
    patch_event(api, &admin, &nobody, json!({"name": "Nobody"})).await.expect_error(404, "NOT_FOUND");
    patch_event(api, &admin, &event_id, json!({"categories": [{"id": "balcony", "seats": 5}]}))
        .await
        .expect_error(400, "VALIDATION_ERROR");
    let past = crate::operator::ahead(-60);
    patch_event(api, &admin, &event_id, json!({"eventDate": past})).await.expect_error(400, "VALIDATION_ERROR");
    patch_event(api, &admin, &event_id, json!({})).await.expect_error(400, "VALIDATION_ERROR");
    assert_eq!(read().await, *created.data(), "refusals changed nothing");

    // Rename and re-date.
    let renamed =
        patch_event(api, &admin, &event_id, json!({"name": " Renamed ", "description": "Now two days"})).await;
    renamed.expect(200);
    assert_eq!(
        (renamed.data()["name"].as_str(), renamed.data()["description"].as_str()),
        (Some("Renamed"), Some("Now two days"))
    );
    let later = booking_shared::time::Timestamp::now().plus_seconds(2 * 86_400).text();
    let redated = patch_event(api, &admin, &event_id, json!({"eventDate": later})).await;
    redated.expect(200);
    assert_eq!(redated.data()["eventDate"], later.as_str());
    assert_eq!(read().await["eventDate"], later.as_str());
    assert_eq!(read().await["name"], "Renamed");

    // The per-user limit: the next lock obeys the new one.
    let first = lock_of(api, &token, &event_id, "vip", 2, "patch-1").await;
    first.expect(201);
    assert_eq!(first.data()["unitPrice"], 12000);
    patch_event(api, &admin, &event_id, json!({"maxSeatsPerUser": 3})).await.expect(200);
    lock_of(api, &token, &event_id, "std", 2, "patch-2").await.expect_error(409, "USER_LIMIT_REACHED");
    lock_of(api, &token, &event_id, "std", 1, "patch-3").await.expect(201);
    let limited = patch_event(api, &admin, &event_id, json!({"maxSeatsPerUser": 20})).await;
    limited.expect(200);
    assert_eq!(limited.data()["maxSeatsPerUser"], 20);

    // A new price applies to the next lock; the lock taken before keeps its own, into its booking.
    let priced = patch_event(api, &admin, &event_id, json!({"categories": [{"id": "vip", "price": 15000}]})).await;
    priced.expect(200);
    assert_eq!(priced.data()["categories"][0]["price"], 15000);
    let dearer = lock_of(api, &other, &event_id, "vip", 1, "patch-4").await;
    dearer.expect(201);
    assert_eq!((dearer.data()["unitPrice"].as_i64(), dearer.data()["amount"].as_i64()), (Some(15000), Some(15000)));
    let kept = api.get(&format!("/api/locks/{}", id(first.data())), Some(&token)).await;
    assert_eq!((kept.data()["unitPrice"].as_i64(), kept.data()["amount"].as_i64()), (Some(12000), Some(24000)));
    let booking = api.confirm(&token, &id(first.data())).await;
    assert_eq!(booking["amount"], 24000, "the booking keeps the lock's price");
    api.pay(&token, &id(&booking)).await.expect(200);

    // Seats: vip has 3 held (2 sold, 1 locked) of 10.
    let raised = patch_event(api, &admin, &event_id, json!({"categories": [{"id": "vip", "seats": 14}]})).await;
    raised.expect(200);
    let vip = &raised.data()["categories"][0];
    assert_eq!((vip["totalSeats"].as_i64(), vip["availableSeats"].as_i64()), (Some(14), Some(11)), "available at once");
    assert_eq!((raised.data()["totalSeats"].as_i64(), raised.data()["availableSeats"].as_i64()), (Some(34), Some(30)));
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 30);
    let lowered = patch_event(api, &admin, &event_id, json!({"categories": [{"id": "vip", "seats": 5}]})).await;
    lowered.expect(200);
    assert_eq!(lowered.data()["categories"][0]["availableSeats"], 2, "lowered from the available seats");
    assert_eq!(Api::assert_invariant(&api.inventory(&admin, &event_id).await), 21);
    let before = read().await;
    let inv_before = api.inventory(&admin, &event_id).await;
    let too_low = json!({"name": "Not this", "categories": [{"id": "std", "price": 1}, {"id": "vip", "seats": 2}]});
    patch_event(api, &admin, &event_id, too_low).await.expect_error(409, "SEATS_IN_USE");
    assert_eq!(read().await, before, "a refused change changes nothing, not even its other fields");
    assert_eq!(api.inventory(&admin, &event_id).await, inv_before);
    // Down to exactly what is held is allowed.
    patch_event(api, &admin, &event_id, json!({"categories": [{"id": "vip", "seats": 3}]})).await.expect(200);
    lock_of(api, &other, &event_id, "vip", 1, "patch-5").await.expect_error(409, "SEATS_UNAVAILABLE");
    patch_event(api, &admin, &event_id, json!({"categories": [{"id": "vip", "seats": 6}]})).await.expect(200);

    // Sales closed: no new lock, but holds already taken are confirmed and paid.
    let closed = patch_event(api, &admin, &event_id, json!({"salesOpen": false})).await;
    closed.expect(200);
    assert_eq!(closed.data()["status"], "SALES_CLOSED");
    lock_of(api, &other, &event_id, "std", 1, "patch-6").await.expect_error(409, "SALES_CLOSED");
    let held = api.confirm(&other, &id(dearer.data())).await;
    assert_eq!(held["amount"], 15000);
    api.pay(&other, &id(&held)).await.expect(200);
    let reopened = patch_event(api, &admin, &event_id, json!({"salesOpen": true})).await;
    reopened.expect(200);
    assert_eq!(reopened.data()["status"], "ON_SALE");
    lock_of(api, &other, &event_id, "std", 1, "patch-6").await.expect(201);
    let inv = api.inventory(&admin, &event_id).await;
    assert_eq!(Api::assert_invariant(&inv), 3 + 18);
    assert_eq!(inv["categories"][0]["soldSeats"], 3);
}

/// Lowering a category while locks pour in: `clients` one-seat locks of category `a` (over ten
/// users, each allowed plenty) race an admin who lowers and raises `a`'s seats again and again.
/// Every change is answered 200 or `409 SEATS_IN_USE`, every lock 201 or `409
/// SEATS_UNAVAILABLE`; no answer ever shows a negative count; and at the end the invariant holds
/// for the event and each category, with `a`'s locked plus available seats equal to its final
/// total.
pub async fn lower_while_locking(api: &Api, clients: usize) {
    let admin = api.admin().await;
    let users: Vec<(String, String)> = join_all((0..10).map(|_| api.new_user())).await;
    let date = crate::operator::ahead(86_400);
    let body = json!({"name": "Shrinking", "eventDate": date, "maxSeatsPerUser": 1000, "categories": [
        {"id": "a", "name": "A", "price": 100, "seats": 60},
        {"id": "b", "name": "B", "price": 200, "seats": 40}
    ]});
    let created = api.post("/api/events", body, Some(&admin)).await;
    created.expect(201);
    let event_id = id(created.data());
    let locks = (0..clients).map(|i| {
        let token = users[i % users.len()].0.clone();
        let event_id = event_id.clone();
        async move {
            // Spread over two seconds, so the changes land among the locks, not after them.
            tokio::time::sleep(std::time::Duration::from_millis((i * 2000 / clients) as u64)).await;
            lock_of(api, &token, &event_id, "a", 1, &format!("shrink-{i}")).await
        }
    });
    let done = std::sync::atomic::AtomicBool::new(false);
    let locking = async {
        let replies = futures::stream::iter(locks).buffer_unordered(clients).collect::<Vec<_>>().await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        replies
    };
    let changing = async {
        let mut answers = Vec::new();
        let mut round = 0;
        // Down (below what the locks soon hold) and back up, for as long as the locks come.
        while !done.load(std::sync::atomic::Ordering::SeqCst) || round < 6 {
            let seats = [40, 60, 25, 55, 10, 60][round % 6];
            let r = patch_event(api, &admin, &event_id, json!({"categories": [{"id": "a", "seats": seats}]})).await;
            answers.push(r);
            round += 1;
        }
        answers
    };
    let (locked, changes) = futures::join!(locking, changing);
    for r in &changes {
        assert!(r.status == 200 || r.code() == "SEATS_IN_USE", "a change: {}", r.body);
        if r.status == 200 {
            for c in r.data()["categories"].as_array().expect("categories") {
                assert!(c["availableSeats"].as_i64().expect("available") >= 0, "negative: {}", r.body);
            }
            assert!(r.data()["availableSeats"].as_i64().expect("available") >= 0, "negative: {}", r.body);
        }
    }
    for r in &locked {
        assert!(r.status == 201 || r.code() == "SEATS_UNAVAILABLE", "a lock: {}", r.body);
    }
    let won = locked.iter().filter(|r| r.status == 201).count() as i64;
    let applied = changes.iter().filter(|r| r.status == 200).count();
    assert!(applied > 0, "some changes went through");
    let inv = api.inventory(&admin, &event_id).await;
    Api::assert_invariant(&inv);
    let a = &inv["categories"][0];
    assert_eq!(a["id"], "a");
    assert_eq!(a["lockedSeats"], won, "every lock answered 201 holds its seat");
    assert_eq!(
        a["lockedSeats"].as_i64().unwrap() + a["availableSeats"].as_i64().unwrap(),
        a["totalSeats"].as_i64().unwrap(),
        "seats locked + available = the final total: {inv}"
    );
    let b = &inv["categories"][1];
    assert_eq!((b["totalSeats"].as_i64(), b["availableSeats"].as_i64()), (Some(40), Some(40)), "b untouched");
}
