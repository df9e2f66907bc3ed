//! A DynamoDB client with faults injected on purpose, and every request counted.
//!
//! DynamoDB Local never raises `TransactionConflict` (the real service does, when two
//! transactions touch one item at once), so the retry path is tested by answering the first N
//! `TransactWriteItems` (or `UpdateItem`) calls with the real service's conflict error instead
//! of sending them. The same client counts requests per operation (`X-Amz-Target`).
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// What to inject, and what was seen.
#[derive(Debug, Default)]
pub struct Faults {
    /// `TransactWriteItems` calls still to answer with a TransactionConflict cancellation.
    pub transact_conflicts: AtomicU32,
    /// `UpdateItem` calls still to answer with TransactionConflictException.
    pub update_conflicts: AtomicU32,
    /// Every request panics (a bug somewhere below the caller).
    pub panic: AtomicBool,
    /// Requests whose body contains this text (an event's key, say) are sent only after this
    /// pause: one slow partition, to run a job's budget out at a chosen place.
    pub slow: Mutex<Option<(String, std::time::Duration)>>,
    injected: AtomicU32,
    counts: Mutex<HashMap<String, u64>>,
}

impl Faults {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Requests sent (or answered with a fault) for `operation`, e.g. "TransactWriteItems".
    pub fn count(&self, operation: &str) -> u64 {
        self.counts.lock().unwrap().get(operation).copied().unwrap_or(0)
    }

    /// All requests, by operation.
    pub fn counts(&self) -> HashMap<String, u64> {
        self.counts.lock().unwrap().clone()
    }

    pub fn reset_counts(&self) {
        self.counts.lock().unwrap().clear();
    }

    /// Makes every request that mentions `text` wait `pause` first; `None` ends it.
    pub fn slow_down(&self, slow: Option<(&str, std::time::Duration)>) {
        *self.slow.lock().unwrap() = slow.map(|(text, pause)| (text.to_string(), pause));
    }

    /// Faults answered so far.
    pub fn injected(&self) -> u32 {
        self.injected.load(Ordering::SeqCst)
    }
}

/// Takes one from `left` if any remain.
fn take(left: &AtomicU32) -> bool {
    left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

#[derive(Debug)]
struct FaultyClient {
    inner: SharedHttpClient,
    faults: Arc<Faults>,
}

#[derive(Debug)]
struct FaultyConnector {
    inner: SharedHttpConnector,
    faults: Arc<Faults>,
}

impl HttpClient for FaultyClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector {
            inner: self.inner.http_connector(settings, components),
            faults: self.faults.clone(),
        })
    }
}

fn canned(body: &str) -> HttpResponse {
    let mut response = HttpResponse::new(StatusCode::try_from(400).expect("status"), SdkBody::from(body.to_string()));
    response.headers_mut().insert("content-type", "application/x-amz-json-1.0");
    response
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation =
            request.headers().get("x-amz-target").and_then(|t| t.rsplit('.').next()).unwrap_or("unknown").to_string();
        *self.faults.counts.lock().unwrap().entry(operation.clone()).or_default() += 1;
        if self.faults.panic.load(Ordering::SeqCst) {
            panic!("injected fault: {operation} panics");
        }
        let fault = match operation.as_str() {
            "TransactWriteItems" if take(&self.faults.transact_conflicts) => Some(canned(
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]","CancellationReasons":[{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"},{"Code":"None"}]}"#,
            )),
            "UpdateItem" if take(&self.faults.update_conflicts) => Some(canned(
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionConflictException","message":"Transaction is ongoing for the item"}"#,
            )),
            _ => None,
        };
        match fault {
            Some(response) => {
                self.faults.injected.fetch_add(1, Ordering::SeqCst);
                HttpConnectorFuture::ready(Ok(response))
            }
            None => {
                let pause = self.faults.slow.lock().unwrap().as_ref().and_then(|(text, pause)| {
                    let body = request.body().bytes().unwrap_or_default();
                    body.windows(text.len()).any(|w| w == text.as_bytes()).then_some(*pause)
                });
                match pause {
                    Some(pause) => {
                        let inner = self.inner.clone();
                        HttpConnectorFuture::new(async move {
                            tokio::time::sleep(pause).await;
                            inner.call(request).await
                        })
                    }
                    None => self.inner.call(request),
                }
            }
        }
    }
}

/// A client for DynamoDB at `endpoint` whose requests pass through `faults`.
pub fn client(endpoint: &str, faults: Arc<Faults>) -> Client {
    let inner = aws_smithy_http_client::Builder::new().build_http();
    let conf = crate::local_config(endpoint).http_client(FaultyClient { inner, faults }).build();
    Client::from_conf(conf)
}
