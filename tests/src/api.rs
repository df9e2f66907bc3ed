//! The API as a client sees it: the same calls either in-process through the functions' real
//! handlers (fed real API Gateway v2 events, `apigw.rs`) or over HTTP against the local stack,
//! so one scenario runs both ways.
use std::time::Duration;

use base64::{engine::general_purpose::STANDARD, Engine};
use booking_shared::Deps;
use serde_json::{json, Value};

use crate::apigw::call_in_process;
use crate::ADMIN_EMAIL;

/// A response as a client sees it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// What API Gateway makes of a function's answer (`{statusCode, headers, body, isBase64Encoded}`).
    pub fn from_lambda(answer: &Value) -> Reply {
        let status = answer["statusCode"].as_u64().unwrap_or_else(|| panic!("no statusCode in {answer}")) as u16;
        let text = answer["body"].as_str().unwrap_or("");
        let bytes = if answer["isBase64Encoded"] == json!(true) {
            STANDARD.decode(text).expect("a base64 body")
        } else {
            text.as_bytes().to_vec()
        };
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(&bytes) }));
        let headers = answer["headers"]
            .as_object()
            .map(|h| h.iter().map(|(k, v)| (k.to_lowercase(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        Reply { status, body, headers }
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A reply made of a value (a job's report), for tables that list replies.
    pub fn of(status: u16, body: Value) -> Reply {
        Reply { status, body, headers: Vec::new() }
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the status (and, for errors, the envelope), returning `self` for chaining.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        assert_eq!(self.body["success"], json!(status < 400), "envelope: {}", self.body);
        self
    }

    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> &Self {
        self.expect(status);
        assert_eq!(self.code(), code, "body: {}", self.body);
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        self
    }
}

/// A request body: JSON, or raw bytes for malformed-input tests.
/// Header names lower-cased, values as text.
pub fn header_list(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers.iter().map(|(k, v)| (k.as_str().to_lowercase(), v.to_str().unwrap_or_default().to_string())).collect()
}

pub enum Payload {
    None,
    Json(Value),
    Raw(Vec<u8>),
}

pub enum Api {
    /// The functions' handlers, called with real API Gateway v2 events.
    InProcess(Box<Deps>),
    /// The local stack (or any deployment) over HTTP.
    Http { base: String, client: reqwest::Client },
}

impl Api {
    pub fn http(base: &str) -> Self {
        Api::Http {
            base: base.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder().timeout(Duration::from_secs(120)).build().expect("http client"),
        }
    }

    pub async fn call(&self, method: &str, path: &str, payload: Payload, headers: &[(&str, &str)]) -> Reply {
        match self {
            Api::InProcess(deps) => call_in_process(deps, method, path, payload, headers).await,
            Api::Http { base, client } => {
                let mut req = client.request(method.parse().expect("method"), format!("{base}{path}"));
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                req = match payload {
                    Payload::None => req,
                    Payload::Json(v) => req.header("content-type", "application/json").body(v.to_string()),
                    Payload::Raw(bytes) => req.body(bytes),
                };
                let resp = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
                let status = resp.status().as_u16();
                let headers = header_list(resp.headers());
                let text = resp.text().await.unwrap_or_default();
                let body = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text }));
                Reply { status, body, headers }
            }
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.call("GET", path, Payload::None, &headers).await
    }

    pub async fn send(&self, method: &str, path: &str, body: Value, token: Option<&str>) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.call(method, path, Payload::Json(body), &headers).await
    }

    pub async fn post(&self, path: &str, body: Value, token: Option<&str>) -> Reply {
        self.send("POST", path, body, token).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.call("DELETE", path, Payload::None, &headers).await
    }

    /// Confirms a lock; the booking (asserting 201).
    pub async fn confirm(&self, token: &str, lock_id: &str) -> Value {
        let r = self.post("/api/bookings/confirm", json!({"lockId": lock_id}), Some(token)).await;
        r.expect(201);
        r.data().clone()
    }

    pub async fn pay(&self, token: &str, booking_id: &str) -> Reply {
        self.post(&format!("/api/bookings/{booking_id}/pay"), json!({"paymentReference": "ref-1"}), Some(token)).await
    }

    /// `status` of a lock or booking as its owner sees it.
    pub async fn status(&self, token: &str, kind: &str, id: &str) -> String {
        let r = self.get(&format!("/api/{kind}/{id}"), Some(token)).await;
        r.expect(200);
        r.data()["status"].as_str().expect("status").to_string()
    }

    /// Registers (or, if the address is taken, logs in) and returns (token, user id).
    pub async fn user(&self, email: &str) -> (String, String) {
        let password = "secret1";
        let reg = self
            .post("/api/users/register", json!({"name": "Test User", "email": email, "password": password}), None)
            .await;
        assert!(reg.status == 201 || reg.code() == "EMAIL_TAKEN", "register: {}", reg.body);
        let login = self.post("/api/users/login", json!({"email": email, "password": password}), None).await;
        login.expect(200);
        (
            login.data()["token"].as_str().expect("token").to_string(),
            login.data()["user"]["_id"].as_str().expect("user id").to_string(),
        )
    }

    /// A new user with a unique address.
    pub async fn new_user(&self) -> (String, String) {
        self.user(&format!("u-{}@example.com", ulid::Ulid::new().to_string().to_lowercase())).await
    }

    pub async fn admin(&self) -> String {
        self.user(ADMIN_EMAIL).await.0
    }

    /// Creates an event a day ahead and returns its id.
    pub async fn event(&self, admin: &str, seats: i64) -> String {
        self.event_with(admin, json!({"totalSeats": seats})).await
    }

    /// An event tomorrow with `fields` (e.g. `totalSeats`, `maxSeatsPerUser`) on top of a name and
    /// date; its id.
    pub async fn event_with(&self, admin: &str, fields: Value) -> String {
        let date = booking_shared::time::Timestamp::now().plus_seconds(86_400).text();
        let mut body = json!({"name": "Concert", "eventDate": date});
        body.as_object_mut().expect("object").extend(fields.as_object().expect("fields").clone());
        let r = self.post("/api/events", body, Some(admin)).await;
        r.expect(201);
        r.data()["_id"].as_str().expect("event id").to_string()
    }

    pub async fn lock(&self, token: &str, event_id: &str, seats: i64, key: &str) -> Reply {
        self.post("/api/locks", json!({"eventId": event_id, "seats": seats, "idempotencyKey": key}), Some(token)).await
    }

    pub async fn inventory(&self, admin: &str, event_id: &str) -> Value {
        let r = self.get(&format!("/api/events/{event_id}/inventory"), Some(admin)).await;
        r.expect(200);
        r.data().clone()
    }

    /// Asserts `total = available + locked + pending + sold` and returns `availableSeats`.
    #[track_caller]
    pub fn assert_invariant(inventory: &Value) -> i64 {
        let counts = |of: &Value| {
            let n = |k: &str| of[k].as_i64().unwrap_or_else(|| panic!("{k} in {inventory}"));
            assert_eq!(
                n("totalSeats"),
                n("availableSeats") + n("lockedSeats") + n("pendingSeats") + n("soldSeats"),
                "inventory invariant broken: {inventory}"
            );
            assert!(n("availableSeats") >= 0, "negative availableSeats: {inventory}");
            ["totalSeats", "availableSeats", "lockedSeats", "pendingSeats", "soldSeats"].map(n)
        };
        let event = counts(inventory);
        // The invariant holds for each category too, and the event's figures are their sums.
        let categories = inventory["categories"].as_array().unwrap_or_else(|| panic!("categories in {inventory}"));
        let mut sums = [0i64; 5];
        for category in categories {
            for (sum, n) in sums.iter_mut().zip(counts(category)) {
                *sum += n;
            }
        }
        assert_eq!(sums, event, "the categories add up to the event: {inventory}");
        event[1]
    }
}
