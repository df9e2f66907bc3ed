//! Deployed, the functions get `JWT_SECRET_ARN` (template.yaml) and read the signing key from
//! Secrets Manager at cold start; locally and in tests `JWT_SECRET` is set directly. Secrets
//! Manager is stood in for by a local HTTP server speaking its JSON protocol to the real SDK.
use std::collections::HashMap;

use booking_shared::config::{resolve_jwt_secret, ConfigError, Settings};
use booking_tests::fake_http;

const KEY: &str = "generated-by-cloudformation-0123456789abcdefghijklmnopqrstuvwxyz";
const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:JwtSecret-AbCdEf";

/// The SDK configuration the functions build (`booking_shared::aws`), pointed at `endpoint`.
fn sdk(endpoint: &str) -> aws_types::SdkConfig {
    let env = vars(&[("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")]);
    booking_shared::aws::sdk_config(&|k: &str| env.get(k).cloned())
        .unwrap()
        .into_builder()
        .endpoint_url(endpoint)
        .build()
}

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn the_signing_key_is_read_from_secrets_manager_when_only_its_arn_is_set() {
    let answer = serde_json::json!({"ARN": ARN, "Name": "JwtSecret", "SecretString": KEY, "VersionId": "v1"});
    let (url, mut requests) = fake_http::serve(vec![(200, answer.to_string())]).await;
    let env = vars(&[("TABLE_NAME", "t"), ("JWT_SECRET_ARN", ARN)]);
    let secret = resolve_jwt_secret(&sdk(&url), &|k: &str| env.get(k).cloned()).await.unwrap();
    assert_eq!(secret.as_deref(), Some(KEY));
    let request = requests.recv().await.unwrap();
    assert_eq!(request.header("x-amz-target").as_deref(), Some("secretsmanager.GetSecretValue"));
    assert_eq!(request.body["SecretId"], ARN);
    let settings =
        Settings::from_lookup(|k| if k == "JWT_SECRET" { secret.clone() } else { env.get(k).cloned() }).unwrap();
    assert_eq!(settings.jwt_secret, KEY);
}

#[tokio::test]
async fn jwt_secret_set_directly_wins_and_nothing_is_fetched() {
    let (url, mut requests) = fake_http::serve(vec![(500, "{}".into())]).await;
    let env = vars(&[("JWT_SECRET", "direct-direct-direct-direct-direct!"), ("JWT_SECRET_ARN", ARN)]);
    let secret = resolve_jwt_secret(&sdk(&url), &|k: &str| env.get(k).cloned()).await.unwrap();
    assert_eq!(secret.as_deref(), Some("direct-direct-direct-direct-direct!"));
    assert!(requests.try_recv().is_err(), "no request to Secrets Manager");
}

#[tokio::test]
async fn an_unreadable_secret_stops_the_function_with_a_clear_error() {
    let denied =
        r#"{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}"#;
    let (url, _requests) = fake_http::serve(vec![(400, denied.into())]).await;
    let env = vars(&[("JWT_SECRET_ARN", ARN)]);
    let err = resolve_jwt_secret(&sdk(&url), &|k: &str| env.get(k).cloned()).await.unwrap_err();
    assert!(matches!(&err, ConfigError::Secret { arn, .. } if arn == ARN), "{err}");
    assert!(err.to_string().contains("ResourceNotFoundException"), "{err}");

    let nothing = vars(&[("TABLE_NAME", "t")]);
    assert_eq!(resolve_jwt_secret(&sdk(&url), &|k: &str| nothing.get(k).cloned()).await.unwrap(), None);
    assert!(matches!(Settings::from_lookup(|k| nothing.get(k).cloned()), Err(ConfigError::Missing("JWT_SECRET"))));
}

/// What Lambda gives every function (region, the role's credentials, the table), plus `extra`.
fn lambda_env(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env = vars(&[
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("TABLE_NAME", "t"),
    ]);
    env.extend(vars(extra));
    env
}

/// Deployed, the key comes from Secrets Manager at cold start. The DynamoDB connection is opened
/// while Secrets Manager answers, not after: here Secrets Manager takes 400 ms, and DynamoDB's
/// warm-up request arrives well inside them.
#[tokio::test]
async fn the_dynamodb_connection_opens_while_secrets_manager_answers() {
    let slow = std::time::Duration::from_millis(400);
    let answer = serde_json::json!({"ARN": ARN, "Name": "JwtSecret", "SecretString": KEY, "VersionId": "v1"});
    let (secrets_url, mut secrets) = fake_http::serve_slowly(vec![(200, answer.to_string())], slow).await;
    let (dynamodb_url, mut dynamodb) = fake_http::serve(vec![(200, "{}".into())]).await;
    let env = lambda_env(&[
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &secrets_url),
        ("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb_url),
        ("JWT_SECRET_ARN", ARN),
    ]);
    let deps = booking_shared::Deps::from_lookup(&|k: &str| env.get(k).cloned()).await.unwrap();
    assert_eq!(deps.settings.jwt_secret, KEY);
    let secret_asked = secrets.recv().await.unwrap();
    let warm_up = dynamodb.recv().await.unwrap();
    assert_eq!(warm_up.header("x-amz-target").as_deref(), Some("DynamoDB_20120810.GetItem"));
    assert!(
        warm_up.at < secret_asked.at + slow / 2,
        "DynamoDB was reached {:?} after Secrets Manager was asked, not while it answered",
        warm_up.at - secret_asked.at
    );
}

/// Locally (`JWT_SECRET` set) there is nothing to wait for, and no warm-up request either.
#[tokio::test]
async fn with_the_key_inline_start_up_sends_no_request() {
    let (dynamodb_url, mut dynamodb) = fake_http::serve(vec![(200, "{}".into())]).await;
    let env = lambda_env(&[("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb_url), ("JWT_SECRET", KEY)]);
    booking_shared::Deps::from_lookup(&|k: &str| env.get(k).cloned()).await.unwrap();
    assert!(dynamodb.try_recv().is_err(), "no request at start-up");
}
