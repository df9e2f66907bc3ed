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
    /// `JWT_SECRET_ARN` is set) and one DynamoDB client (`crate::aws`; `AWS_ENDPOINT_URL_DYNAMODB`
    /// points it at DynamoDB Local).
    pub async fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&crate::aws::process_env).await
    }

    /// [`Deps::from_env`] over any source of variables. When the key comes from Secrets Manager,
    /// the DynamoDB connection is opened at the same time, so the first invocation does not open
    /// it after Secrets Manager has answered.
    pub async fn from_lookup(env: &impl crate::aws::Env) -> Result<Self, ConfigError> {
        let sdk = crate::aws::sdk_config(env)?;
        let client = crate::aws::dynamodb(&sdk, env);
        let secret = match (env("JWT_SECRET"), env("TABLE_NAME")) {
            (None, Some(table)) if env("JWT_SECRET_ARN").is_some() => {
                let store = Store::new(client.clone(), table);
                let (secret, ()) = tokio::join!(crate::config::resolve_jwt_secret(&sdk, env), store.open_connection());
                secret?
            }
            (inline, _) => inline,
        };
        let settings = Settings::from_lookup(|name| if name == "JWT_SECRET" { secret.clone() } else { env(name) })?;
        Ok(Deps::new(settings, client))
    }
}
