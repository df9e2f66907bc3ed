//! What every handler gets: settings, the store and the token service, built once per
//! execution environment (outside the handler) and borrowed by each invocation.
use crate::auth::token::Tokens;
use crate::config::{ConfigError, Settings};
use crate::store::Store;

#[derive(Clone)]
pub struct Deps {
    pub settings: Settings,
    pub store: Store,
    pub tokens: Tokens,
}

impl Deps {
    pub fn new(settings: Settings, client: aws_sdk_dynamodb::Client) -> Self {
        Deps {
            store: Store::new(client, settings.table_name.clone()),
            tokens: Tokens::new(settings.jwt_secret.as_bytes(), settings.token_ttl_seconds),
            settings,
        }
    }

    /// Settings from the environment (the signing key from Secrets Manager when only
    /// `JWT_SECRET_ARN` is set) and one SDK client (the SDK honours `AWS_ENDPOINT_URL_DYNAMODB`,
    /// which points it at DynamoDB Local).
    pub async fn from_env() -> Result<Self, ConfigError> {
        let sdk = aws_config::load_from_env().await;
        let env = |name: &str| std::env::var(name).ok();
        let secret = crate::config::resolve_jwt_secret(&sdk, env).await?;
        let settings = Settings::from_lookup(|name| if name == "JWT_SECRET" { secret.clone() } else { env(name) })?;
        Ok(Deps::new(settings, aws_sdk_dynamodb::Client::new(&sdk)))
    }
}
