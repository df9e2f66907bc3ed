//! Structured JSON logs, one line per event, level from `RUST_LOG` (default `info`).
//!
//! `RUST_LOG` takes `level` or `target=level` directives separated by commas (`warn`,
//! `info,booking_shared::store=debug`): tracing-subscriber's `Targets`, which needs no regex
//! engine in the binary (its `EnvFilter` does). An unreadable `RUST_LOG` falls back to `info`.
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    let format = tracing_subscriber::fmt::layer().json().with_current_span(false).with_target(false);
    let _ = tracing_subscriber::registry().with(format).with(filter).try_init();
}

/// The CloudWatch namespace of the service's own metrics.
pub const METRIC_NAMESPACE: &str = "BookingService";
/// One per `500 INTERNAL` answer.
pub const INTERNAL_ERRORS: &str = "InternalErrors";
/// One per login refused `429 TOO_MANY_ATTEMPTS`.
pub const LOGINS_THROTTLED: &str = "LoginsThrottled";

/// One CloudWatch Embedded Metric Format line: `values` as metrics of this function (dimension
/// `FunctionName`, from `AWS_LAMBDA_FUNCTION_NAME`; `local` outside Lambda). Written to stdout,
/// which Lambda sends to CloudWatch Logs, where the metrics are extracted: no SDK call, no
/// permission, nothing on the request path but a line of output. `template.yaml`'s alarms watch them.
pub fn metric_line(values: &[(&str, i64)]) -> serde_json::Value {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    let timestamp =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let definitions: Vec<_> =
        values.iter().map(|(name, _)| serde_json::json!({"Name": name, "Unit": "Count"})).collect();
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp as u64,
            "CloudWatchMetrics": [{
                "Namespace": METRIC_NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": definitions,
            }],
        },
        "FunctionName": function,
    });
    for (name, value) in values {
        line[*name] = serde_json::json!(value);
    }
    line
}

/// Writes [`metric_line`] to stdout.
pub fn emit_metrics(values: &[(&str, i64)]) {
    println!("{}", metric_line(values));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_line_is_embedded_metric_format() {
        let line = metric_line(&[("JobFailures", 2), ("UnreadableItems", 0)]);
        let definition = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(definition["Namespace"], METRIC_NAMESPACE);
        assert_eq!(definition["Dimensions"], serde_json::json!([["FunctionName"]]));
        assert_eq!(definition["Metrics"][0], serde_json::json!({"Name": "JobFailures", "Unit": "Count"}));
        assert!(line["_aws"]["Timestamp"].as_u64().is_some_and(|t| t > 1_700_000_000_000));
        assert!(line["FunctionName"].is_string());
        assert_eq!((line["JobFailures"].as_i64(), line["UnreadableItems"].as_i64()), (Some(2), Some(0)));
    }
}
