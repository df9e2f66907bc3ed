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
    ///
    /// When the key comes from Secrets Manager, the DynamoDB connection is opened at the same
    /// time, so the first invocation does not pay for it after Secrets Manager has answered.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let env = crate::aws::process_env;
        let sdk = crate::aws::sdk_config(&env)?;
        let client = crate::aws::dynamodb(&sdk, &env);
        let table = env("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?;
        let secret = if env("JWT_SECRET").is_none() && env("JWT_SECRET_ARN").is_some() {
            let store = Store::new(client.clone(), table);
            let (secret, ()) = tokio::join!(crate::config::resolve_jwt_secret(&sdk, &env), store.open_connection());
            secret?
        } else {
            env("JWT_SECRET")
        };
        let settings = Settings::from_lookup(|name| if name == "JWT_SECRET" { secret.clone() } else { env(name) })?;
        Ok(Deps::new(settings, client))
    }
}
