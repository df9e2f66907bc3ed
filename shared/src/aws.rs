//! The AWS SDK clients, built from the Lambda environment alone.
//!
//! Inside Lambda everything a client needs is in the environment: `AWS_REGION` and the execution
//! role's credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), which
//! Lambda keeps valid for the life of the execution environment (SnapStart, not used here, would
//! need the container credentials provider instead). So the functions do not link
//! `aws-config`: its profile-file, SSO, STS and IMDS providers are about 1.4 MiB of code that a
//! function never uses, and it reads profile files at every cold start.
//!
//! The one HTTP client is rustls on ring rather than the SDK's default aws-lc: one crypto library
//! in the binary instead of two, and no CPU-jitter entropy collection at the first TLS handshake.
//! Root certificates load at the first HTTPS connection, not at start-up.
//!
//! Locally the same variables point the clients elsewhere: `AWS_ENDPOINT_URL_DYNAMODB`,
//! `AWS_ENDPOINT_URL_SECRETS_MANAGER` or `AWS_ENDPOINT_URL` (the SDK's own names). Operators'
//! commands (`create-table`) take credentials the same way; `aws configure export-credentials
//! --format env` turns a profile into them.
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_types::region::Region;
use aws_types::SdkConfig;

use crate::config::ConfigError;

/// A source of environment variables (`std::env::var` in the functions, a map in tests).
pub trait Env: Fn(&str) -> Option<String> {}
impl<F: Fn(&str) -> Option<String>> Env for F {}

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Region, credentials and the HTTP client every client of this process shares.
pub fn sdk_config(env: &impl Env) -> Result<SdkConfig, ConfigError> {
    let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")).ok_or(ConfigError::Missing("AWS_REGION"))?;
    let access_key = env("AWS_ACCESS_KEY_ID").ok_or(ConfigError::Missing("AWS_ACCESS_KEY_ID"))?;
    let secret_key = env("AWS_SECRET_ACCESS_KEY").ok_or(ConfigError::Missing("AWS_SECRET_ACCESS_KEY"))?;
    let credentials = Credentials::new(access_key, secret_key, env("AWS_SESSION_TOKEN"), None, "environment");
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    Ok(SdkConfig::builder()
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(http)
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .build())
}

/// The endpoint the SDK's environment variables give `service` (`DYNAMODB`, `SECRETS_MANAGER`).
fn endpoint(env: &impl Env, service: &str) -> Option<String> {
    env(&format!("AWS_ENDPOINT_URL_{service}")).or_else(|| env("AWS_ENDPOINT_URL"))
}

pub fn dynamodb(sdk: &SdkConfig, env: &impl Env) -> aws_sdk_dynamodb::Client {
    let mut config = aws_sdk_dynamodb::config::Builder::from(sdk);
    if let Some(url) = endpoint(env, "DYNAMODB") {
        config = config.endpoint_url(url);
    }
    aws_sdk_dynamodb::Client::from_conf(config.build())
}

pub fn secrets_manager(sdk: &SdkConfig, env: &impl Env) -> aws_sdk_secretsmanager::Client {
    let mut config = aws_sdk_secretsmanager::config::Builder::from(sdk);
    if let Some(url) = endpoint(env, "SECRETS_MANAGER") {
        config = config.endpoint_url(url);
    }
    aws_sdk_secretsmanager::Client::from_conf(config.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Env {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn region_and_credentials_are_required_and_named() {
        let missing = sdk_config(&env(&[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "s")])).err().unwrap();
        assert!(missing.to_string().contains("AWS_REGION"));
        let missing = sdk_config(&env(&[("AWS_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "a")])).err().unwrap();
        assert!(missing.to_string().contains("AWS_SECRET_ACCESS_KEY"));
        let sdk = sdk_config(&env(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ]))
        .unwrap();
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
    }

    #[test]
    fn a_service_endpoint_wins_over_the_general_one() {
        let both = env(&[("AWS_ENDPOINT_URL", "http://all:1"), ("AWS_ENDPOINT_URL_DYNAMODB", "http://ddb:2")]);
        assert_eq!(endpoint(&both, "DYNAMODB").as_deref(), Some("http://ddb:2"));
        assert_eq!(endpoint(&both, "SECRETS_MANAGER").as_deref(), Some("http://all:1"));
        assert_eq!(endpoint(&env(&[]), "DYNAMODB"), None);
    }
}
