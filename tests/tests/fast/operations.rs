//! What operations relies on, checked where it is written down: the alarms watch metrics the code
//! really emits, each function's IAM grants stay inside the key spaces it uses (the expiry jobs
//! get only what they call), and a prod stack cannot allow every CORS origin.
use std::collections::BTreeSet;

use booking_shared::jobs::Report;
use booking_shared::telemetry;
use booking_tests::repo_root;
use serde_json::Value;

fn template() -> Value {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).expect("template.yaml");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("template.yaml parses");
    serde_json::to_value(doc).expect("YAML as JSON")
}

fn resources(t: &Value) -> &serde_json::Map<String, Value> {
    t["Resources"].as_object().expect("Resources")
}

/// (namespace, metric) of every metric an alarm watches, directly or in metric math.
fn watched(t: &Value) -> BTreeSet<(String, String)> {
    let mut seen = BTreeSet::new();
    for r in resources(t).values().filter(|r| r["Type"] == "AWS::CloudWatch::Alarm") {
        let p = &r["Properties"];
        if let Some(name) = p["MetricName"].as_str() {
            seen.insert((p["Namespace"].as_str().expect("Namespace").to_string(), name.to_string()));
        }
        for m in p["Metrics"].as_array().into_iter().flatten() {
            let metric = &m["MetricStat"]["Metric"];
            if let Some(name) = metric["MetricName"].as_str() {
                seen.insert((metric["Namespace"].as_str().expect("Namespace").to_string(), name.to_string()));
            }
        }
    }
    seen
}

#[test]
fn the_alarms_watch_metrics_the_code_emits() {
    let t = template();
    let ours: BTreeSet<String> = watched(&t)
        .into_iter()
        .filter(|(namespace, _)| namespace == telemetry::METRIC_NAMESPACE)
        .map(|(_, name)| name)
        .collect();
    let emitted: BTreeSet<String> = Report::started()
        .metrics()
        .into_iter()
        .map(|(name, _)| name.to_string())
        .chain([telemetry::INTERNAL_ERRORS.to_string(), telemetry::LOGINS_THROTTLED.to_string()])
        .collect();
    assert!(ours.is_subset(&emitted), "alarms on metrics nothing emits: {:?}", ours.difference(&emitted));
    for needed in ["JobFailures", "UnreadableItems", telemetry::INTERNAL_ERRORS, telemetry::LOGINS_THROTTLED] {
        assert!(ours.contains(needed), "no alarm watches {needed}");
    }
    let aws = watched(&t);
    for (namespace, metric) in [
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
        ("AWS/ApiGateway", "4xx"),
        ("AWS/ApiGateway", "5xx"),
    ] {
        assert!(aws.contains(&(namespace.to_string(), metric.to_string())), "no alarm on {namespace} {metric}");
    }
}

/// The DynamoDB statements of a function: (actions, resources as text, has a LeadingKeys condition).
fn dynamodb_statements(t: &Value, function: &str) -> Vec<(BTreeSet<String>, String, bool)> {
    let policies = &resources(t)[function]["Properties"]["Policies"];
    let mut out = Vec::new();
    for policy in policies.as_array().expect("Policies") {
        for st in policy["Statement"].as_array().expect("Statement") {
            let actions: BTreeSet<String> = match &st["Action"] {
                Value::String(a) => [a.clone()].into(),
                Value::Array(a) => a.iter().map(|v| v.as_str().expect("action").to_string()).collect(),
                other => panic!("{function}: Action {other}"),
            };
            if actions.iter().any(|a| a.starts_with("dynamodb:")) {
                let leading = st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"].is_array();
                out.push((actions, st["Resource"].to_string(), leading));
            }
        }
    }
    out
}

#[test]
fn every_table_grant_is_limited_to_the_key_spaces_its_function_uses() {
    let t = template();
    let functions: Vec<&String> =
        resources(&t).iter().filter(|(_, r)| r["Type"] == "AWS::Serverless::Function").map(|(n, _)| n).collect();
    assert_eq!(functions.len(), 8);
    for function in functions {
        for (actions, resource, leading) in dynamodb_statements(&t, function) {
            let on_table = !resource.contains("/index/");
            assert!(!on_table || leading, "{function}: {actions:?} on the table without dynamodb:LeadingKeys");
        }
    }
    // The expiry jobs: their own index, and updates in events' partitions; booking-expiry also
    // carries out event cancellations (the list's partition: Query, DeleteItem; LiveHoldsIndex).
    // Nothing else.
    let own = |a: &str| (a.to_string(), true);
    let table = |a: &str| (a.to_string(), false);
    for (function, index, wanted, other_index) in [
        ("LockExpiryFunction", "LockExpiryIndex", vec![table("dynamodb:UpdateItem"), own("dynamodb:Query")], None),
        (
            "BookingExpiryFunction",
            "BookingExpiryIndex",
            vec![
                table("dynamodb:UpdateItem"),
                own("dynamodb:Query"),
                table("dynamodb:Query"),
                table("dynamodb:DeleteItem"),
            ],
            Some("LiveHoldsIndex"),
        ),
    ] {
        let statements = dynamodb_statements(&t, function);
        let granted: BTreeSet<(String, bool)> = statements
            .iter()
            .filter(|(_, resource, _)| {
                other_index.is_none_or(|other| !resource.contains(other)) || resource.contains(index)
            })
            .flat_map(|(actions, resource, _)| actions.iter().map(move |a| (a.clone(), resource.contains(index))))
            .collect();
        assert_eq!(granted, wanted.into_iter().collect::<BTreeSet<_>>(), "{function}");
        assert!(
            statements.iter().all(|(_, r, _)| !r.contains("/index/")
                || r.contains(index)
                || other_index.is_some_and(|o| r.contains(o))),
            "{function}: another index"
        );
    }
}

#[test]
fn a_prod_stack_cannot_allow_every_cors_origin() {
    let t = template();
    let rule = &t["Rules"]["ProdPinsCorsOrigins"];
    assert!(rule["RuleCondition"].to_string().contains("prod"), "{rule}");
    let assertion = rule["Assertions"][0]["Assert"].to_string();
    assert!(assertion.contains("CorsAllowOrigins") && assertion.contains('*'), "{assertion}");
    let samconfig = std::fs::read_to_string(repo_root().join("samconfig.toml")).expect("samconfig.toml");
    let config: toml::Value = toml::from_str(&samconfig).expect("samconfig.toml parses");
    let overrides = config["prod"]["deploy"]["parameters"]["parameter_overrides"].as_str().expect("prod overrides");
    assert!(overrides.split_whitespace().any(|o| o == "Environment=prod"), "{overrides}");
}
