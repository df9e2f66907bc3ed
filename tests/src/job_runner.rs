//! The three jobs, run in-process through their real handlers or over the local stack's Lambda
//! invoke API, and the check every job report passes.
use std::time::Duration;

use booking_shared::store::Store;
use serde_json::{json, Value};

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
