//! `recovery`: both sweeps over everything stale, then every event recounted and its drift
//! repaired (the work is `shared/src/jobs/recovery.rs`). Two ways in:
//!
//! - CloudFormation, on every deploy (custom resource `RecoveryRun` in template.yaml): the event
//!   carries a `ResponseURL`, and the function always PUTs an answer there - SUCCESS with the
//!   report, or FAILED with the reason - even when the run panics, because a custom resource that
//!   never answers hangs the stack for up to an hour. `Delete` is answered at once: there is
//!   nothing to undo. A run that stops at its deadline, or has writes that failed, still answers
//!   SUCCESS (the per-minute jobs and the next run finish the work; failing would roll the deploy
//!   back, and the rollback would run recovery again); the reason says what was left.
//! - Directly (`aws lambda invoke`, `infra/local/run-job.sh recovery`): returns the report, and
//!   fails the invocation if any write failed.
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;

use booking_shared::jobs::{self, Budget, Report};
use booking_shared::store::Store;
use booking_shared::time::Timestamp;
use lambda_runtime::{Error, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Physical id of the one `Custom::Recovery` resource; constant, so an Update never replaces it.
pub const PHYSICAL_RESOURCE_ID: &str = "booking-recovery";
/// Time kept back from the invocation deadline to answer CloudFormation.
const ANSWER_MARGIN: Duration = Duration::from_secs(15);
/// Budget when the invocation has no deadline (local runs).
const NO_DEADLINE_BUDGET: Duration = Duration::from_secs(280);
/// How long one try at delivering the answer may take.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries at delivering the answer.
const ANSWER_ATTEMPTS: u32 = 4;

/// A CloudFormation custom resource request (the fields the answer needs). Everything defaults,
/// so even a malformed request gets an answer as long as it names a `ResponseURL`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CfnRequest {
    pub request_type: String,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub physical_resource_id: Option<String>,
}

/// The answer CloudFormation expects at `ResponseURL`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct CfnResponse {
    pub status: String,
    pub reason: String,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub data: Value,
}

/// The HTTPS client that answers CloudFormation: hyper with rustls on ring, the stack the SDK
/// client already links. Built at the first answer, so the scheduled and direct runs (no
/// `ResponseURL`) never load the root certificates.
#[derive(Default)]
pub struct AnswerClient {
    client: OnceLock<Result<Https, String>>,
}

type Https = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

impl AnswerClient {
    fn client(&self) -> Result<&Https, String> {
        let built = self.client.get_or_init(|| {
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
                .map_err(|e| format!("no TLS root certificates: {e}"))?
                .https_or_http()
                .enable_http1()
                .build();
            Ok(hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector))
        });
        built.as_ref().map_err(Clone::clone)
    }

    /// PUTs `body` to `url` with an empty content type; the status, or why there is none.
    async fn put(&self, url: &str, body: Vec<u8>) -> Result<hyper::StatusCode, String> {
        let request = hyper::Request::put(url)
            .header(hyper::header::CONTENT_TYPE, "")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("bad answer URL: {e}"))?;
        let sent = tokio::time::timeout(ANSWER_TIMEOUT, self.client()?.request(request)).await;
        match sent {
            Err(_) => Err(format!("no answer within {ANSWER_TIMEOUT:?}")),
            Ok(Err(e)) => Err(booking_shared::error::chain(&e)),
            Ok(Ok(response)) => Ok(response.status()),
        }
    }
}

pub fn answer_client() -> Result<AnswerClient, Error> {
    Ok(AnswerClient::default())
}

pub async fn handle(store: &Store, http: &AnswerClient, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let deadline = event.context.deadline;
    if event.payload.get("ResponseURL").and_then(Value::as_str).is_some() {
        let url = event.payload["ResponseURL"].as_str().unwrap_or_default().to_string();
        let mut request: CfnRequest = serde_json::from_value(event.payload).unwrap_or_default();
        request.response_url = url;
        let budget = Budget::from_deadline_ms(deadline, ANSWER_MARGIN, NO_DEADLINE_BUDGET);
        let answer = custom_resource(store, &request, budget).await;
        deliver(http, &request.response_url, &answer).await?;
        return Ok(serde_json::to_value(answer)?);
    }
    let budget = Budget::from_deadline_ms(deadline, jobs::DEADLINE_MARGIN, NO_DEADLINE_BUDGET);
    let report = run_guarded(store, budget).await.map_err(Error::from)?;
    Ok(serde_json::to_value(jobs::finish("recovery", report)?)?)
}

/// What to tell CloudFormation about `request`.
pub async fn custom_resource(store: &Store, request: &CfnRequest, budget: Budget) -> CfnResponse {
    let answer = |status: &str, reason: String, data: Value| CfnResponse {
        status: status.into(),
        reason,
        physical_resource_id: request.physical_resource_id.clone().unwrap_or_else(|| PHYSICAL_RESOURCE_ID.into()),
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
        data,
    };
    tracing::info!(request_type = %request.request_type, stack_id = %request.stack_id, "custom resource request");
    match request.request_type.as_str() {
        "Delete" => answer("SUCCESS", "nothing to undo: recovery changes no resources".into(), json!({})),
        "Create" | "Update" => match run_guarded(store, budget).await {
            Ok(report) => {
                jobs::log_summary("recovery", &report);
                let data = serde_json::to_value(&report).unwrap_or_else(|_| json!({}));
                answer("SUCCESS", format!("recovery: {}", report.summary()), data)
            }
            Err(reason) => answer("FAILED", reason, json!({})),
        },
        other => answer("FAILED", format!("unknown RequestType {other:?}"), json!({})),
    }
}

/// Runs recovery on its own task, so a panic becomes a reason to report instead of a dead
/// invocation that never answers.
async fn run_guarded(store: &Store, budget: Budget) -> Result<Report, String> {
    let store = store.clone();
    let now = Timestamp::now();
    tokio::spawn(async move { jobs::recovery::run(&store, now, budget).await }).await.map_err(|e| {
        tracing::error!(error = %e, "recovery did not finish");
        if e.is_panic() {
            "recovery panicked; see the recovery function's log".to_string()
        } else {
            "recovery was cancelled".to_string()
        }
    })
}

/// PUTs the answer to the pre-signed URL. The URL is signed without a content type, so none is
/// sent. Retried with back-off; if it still fails the invocation fails, and Lambda's retry of
/// the asynchronous invocation answers again.
pub async fn deliver(http: &AnswerClient, url: &str, answer: &CfnResponse) -> Result<(), Error> {
    let body = serde_json::to_vec(answer)?;
    let mut last = String::new();
    for attempt in 0..ANSWER_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
        }
        match http.put(url, body.clone()).await {
            Ok(status) if status.is_success() => {
                tracing::info!(status = %answer.status, "answered CloudFormation");
                return Ok(());
            }
            Ok(status) => last = format!("HTTP {status}"),
            Err(e) => last = e,
        }
        tracing::warn!(attempt, error = %last, "answering CloudFormation failed");
    }
    Err(format!("could not answer CloudFormation after {ANSWER_ATTEMPTS} tries: {last}").into())
}
