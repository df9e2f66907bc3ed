//! A Lambda Runtime API of the tests' own: the HTTP interface a function binary polls inside
//! Lambda (`GET /2018-06-01/runtime/invocation/next`, then `POST .../{id}/response` or
//! `.../{id}/error`). With it the tests and the benchmark run the real `bootstrap` binaries as
//! Lambda runs them - one process, one invocation at a time - and can do what Lambda's fleet
//! does to them: start them cold, measure them, and kill them in the middle of a request.
use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

/// Why an invocation has no answer.
#[derive(Debug)]
pub enum Failure {
    /// The function reported an error (`.../error` or `init/error`): its JSON.
    Function(Value),
    /// The process that took the invocation went away without answering (what API Gateway
    /// turns into a 5xx for the client).
    Lost,
}

struct Invocation {
    event: Value,
    answer: oneshot::Sender<Result<Value, Failure>>,
}

struct State {
    queue_tx: mpsc::UnboundedSender<Invocation>,
    queue_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    taken: Mutex<HashMap<String, oneshot::Sender<Result<Value, Failure>>>>,
    next_id: AtomicU64,
    handed_out: watch::Sender<u64>,
    withhold_next: AtomicBool,
    timeout: Duration,
    /// When the first `GET .../invocation/next` arrived: the end of init, as Lambda counts it.
    first_poll: OnceLock<Instant>,
    /// When the first answer (`.../response` or `.../error`) arrived.
    first_answer: OnceLock<Instant>,
}

/// One Runtime API endpoint, for one function process ([`FunctionProcess::spawn`]) at a time:
/// a killed process's last poll may linger in the server, so a new process gets a new endpoint.
#[derive(Clone)]
pub struct RuntimeApi {
    state: Arc<State>,
    address: String,
}

impl RuntimeApi {
    /// Serves on a free port; invocations get `timeout` as their deadline.
    pub async fn start(timeout: Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("addr").to_string();
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            taken: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            handed_out: watch::channel(0).0,
            withhold_next: AtomicBool::new(false),
            timeout,
            first_poll: OnceLock::new(),
            first_answer: OnceLock::new(),
        });
        let serving = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| serve(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RuntimeApi { state, address }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Queues `event` for the next poll and waits for the function's answer.
    pub async fn invoke(&self, event: Value) -> Result<Value, Failure> {
        let (answer, rx) = oneshot::channel();
        self.state.queue_tx.send(Invocation { event, answer }).expect("the runtime API is serving");
        rx.await.unwrap_or(Err(Failure::Lost))
    }

    /// Invocations handed out to a function so far; `changed()` wakes at the next one.
    pub fn handed_out(&self) -> watch::Receiver<u64> {
        self.state.handed_out.subscribe()
    }

    /// The next answer the function posts is received but not delivered: the invoker sees
    /// [`Failure::Lost`], as when a process dies after its work but before its answer got out.
    pub fn withhold_next_answer(&self) {
        self.state.withhold_next.store(true, Ordering::SeqCst);
    }

    /// When the function first asked for an invocation (its init ended), if it has.
    pub fn first_poll(&self) -> Option<Instant> {
        self.state.first_poll.get().copied()
    }

    /// When the function first answered an invocation, if it has.
    pub fn first_answer(&self) -> Option<Instant> {
        self.state.first_answer.get().copied()
    }

    /// Every invocation a function has taken and not answered is lost (its process was killed).
    pub fn abandon_taken(&self) {
        self.state.taken.lock().unwrap().clear();
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

async fn serve(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let arrived = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let parts: Vec<&str> = path.trim_start_matches("/2018-06-01/runtime/").split('/').collect();
    let response = match (method, parts.as_slice()) {
        (Method::GET, ["invocation", "next"]) => {
            state.first_poll.get_or_init(|| arrived);
            // Cancel-safe: a poller that goes away while waiting takes nothing.
            let invocation = state.queue_rx.lock().await.recv().await;
            let Some(Invocation { event, answer }) = invocation else {
                return Ok(reply(StatusCode::GONE, "stopped"));
            };
            let id = format!("req-{}", state.next_id.fetch_add(1, Ordering::SeqCst));
            state.taken.lock().unwrap().insert(id.clone(), answer);
            state.handed_out.send_modify(|n| *n += 1);
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock") + state.timeout;
            let mut r = reply(StatusCode::OK, event.to_string());
            let h = r.headers_mut();
            h.insert("content-type", "application/json".parse().expect("header"));
            h.insert("lambda-runtime-aws-request-id", id.parse().expect("header"));
            h.insert("lambda-runtime-deadline-ms", deadline.as_millis().to_string().parse().expect("header"));
            h.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:local".parse().expect("header"),
            );
            h.insert("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000".parse().expect("header"));
            r
        }
        (Method::POST, ["invocation", id, outcome @ ("response" | "error")]) => {
            state.first_answer.get_or_init(|| arrived);
            let answer = state.taken.lock().unwrap().remove(*id);
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if state.withhold_next.swap(false, Ordering::SeqCst) {
                drop(answer);
            } else if let Some(answer) = answer {
                let _ = answer.send(if *outcome == "response" { Ok(value) } else { Err(Failure::Function(value)) });
            }
            reply(StatusCode::ACCEPTED, "{\"status\":\"OK\"}")
        }
        (Method::POST, ["init", "error"]) => {
            eprintln!("function init error: {}", String::from_utf8_lossy(&body));
            reply(StatusCode::ACCEPTED, "{\"status\":\"OK\"}")
        }
        _ => reply(StatusCode::NOT_FOUND, "not a Runtime API path"),
    };
    Ok(response)
}

/// A function binary running against a [`RuntimeApi`], as one Lambda execution environment.
pub struct FunctionProcess {
    child: Child,
    /// When the process was started (a cold start counts from here).
    pub started: Instant,
}

impl FunctionProcess {
    /// Starts `binary` as function `name` with the Lambda environment plus `env`. The process
    /// dies with the test process.
    pub fn spawn(binary: &Path, name: &str, api: &RuntimeApi, env: &[(String, String)]) -> Self {
        Self::start(binary, name, api, env, true)
    }

    /// As [`FunctionProcess::spawn`], but started the way Lambda starts a runtime, for timing:
    /// without the `pre_exec` hook that ties it to this process, so the standard library starts
    /// it with `posix_spawn` (vfork and exec) instead of forking this whole multi-threaded
    /// process inside the timed window. It is killed when dropped.
    pub fn spawn_for_timing(binary: &Path, name: &str, api: &RuntimeApi, env: &[(String, String)]) -> Self {
        Self::start(binary, name, api, env, false)
    }

    fn start(binary: &Path, name: &str, api: &RuntimeApi, env: &[(String, String)], tie_to_parent: bool) -> Self {
        let mut cmd = Command::new(binary);
        cmd.env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("RUST_LOG", std::env::var("FUNCTION_RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("FUNCTION_LOGS").is_some() { Stdio::inherit() } else { Stdio::null() });
        for (k, v) in env {
            cmd.env(k, v);
        }
        if tie_to_parent {
            crate::die_with_parent(&mut cmd);
        }
        let started = Instant::now();
        let child = cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        FunctionProcess { child, started }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident memory so far (`VmHWM`), in KiB.
    pub fn peak_memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc status")
    }

    /// SIGKILL, as when Lambda's host loses the environment; waits until it is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A function binary of this workspace: the release build `cargo lambda build --release`
/// packages (`target/lambda/<name>/bootstrap`, or `$LAMBDA_BINARIES/<name>/bootstrap` to measure
/// another build), or the debug one `cargo build --bins` makes.
pub fn function_binary(name: &str, release: bool) -> PathBuf {
    let root = crate::repo_root().join("target");
    let packaged = std::env::var_os("LAMBDA_BINARIES").map(PathBuf::from).unwrap_or_else(|| root.join("lambda"));
    let path = if release { packaged.join(name).join("bootstrap") } else { root.join("debug").join(name) };
    assert!(
        path.exists(),
        "{} is missing: build it first ({})",
        path.display(),
        if release { "cargo lambda build --release" } else { "cargo build --bins" }
    );
    path
}

/// The environment a function needs to run against DynamoDB Local `endpoint`, table `table`.
pub fn local_env(endpoint: &str, table: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("TABLE_NAME", table),
        ("JWT_SECRET", crate::TEST_SECRET),
        ("ADMIN_EMAILS", crate::ADMIN_EMAIL),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}
