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
use std::time::Duration;

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

/// The HTTPS client that answers CloudFormation.
pub fn answer_client() -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?)
}

pub async fn handle(store: &Store, http: &reqwest::Client, event: LambdaEvent<Value>) -> Result<Value, Error> {
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
pub async fn deliver(http: &reqwest::Client, url: &str, answer: &CfnResponse) -> Result<(), Error> {
    let body = serde_json::to_vec(answer)?;
    let mut last = String::new();
    for attempt in 0..ANSWER_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
        }
        match http.put(url).header(reqwest::header::CONTENT_TYPE, "").body(body.clone()).send().await {
            Ok(r) if r.status().is_success() => {
                tracing::info!(status = %answer.status, "answered CloudFormation");
                return Ok(());
            }
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.to_string(),
        }
        tracing::warn!(attempt, error = %last, "answering CloudFormation failed");
    }
    Err(format!("could not answer CloudFormation after {ANSWER_ATTEMPTS} tries: {last}").into())
}
