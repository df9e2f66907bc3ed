//! Settings, read once at start-up from the environment (names as in `docs/API.md`).
//! A bad value stops the function with a message naming the variable; nothing secret is printed.
use std::env;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required but not set")]
    Missing(&'static str),
    #[error("{name} must be {expected}, got {value:?}")]
    Invalid { name: &'static str, expected: &'static str, value: String },
    #[error("could not read the JWT signing key from Secrets Manager ({arn}): {reason}")]
    Secret { arn: String, reason: String },
}

/// Where the JWT signing key comes from: `JWT_SECRET` itself (local development, tests), or,
/// when only `JWT_SECRET_ARN` is set (deployed: template.yaml), the Secrets Manager secret it
/// names, read once at cold start so the key never sits in the template or the environment.
/// The Secrets Manager client is built only then.
pub async fn resolve_jwt_secret(
    sdk: &aws_types::SdkConfig,
    get: &impl crate::aws::Env,
) -> Result<Option<String>, ConfigError> {
    if let Some(inline) = get("JWT_SECRET") {
        return Ok(Some(inline));
    }
    let Some(arn) = get("JWT_SECRET_ARN").filter(|a| !a.trim().is_empty()) else {
        return Ok(None);
    };
    let client = crate::aws::secrets_manager(sdk, get);
    let out = client.get_secret_value().secret_id(&arn).send().await.map_err(|e| ConfigError::Secret {
        arn: arn.clone(),
        reason: aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string(),
    })?;
    out.secret_string()
        .map(|s| Some(s.to_string()))
        .ok_or(ConfigError::Secret { arn, reason: "the secret has no SecretString".into() })
}

#[derive(Clone)]
pub struct Settings {
    pub table_name: String,
    pub lock_ttl_seconds: u64,
    pub payment_window_seconds: u64,
    pub max_seats_per_lock: u32,
    /// An event's `maxSeatsPerUser` when its creator gives none.
    pub max_seats_per_user: i64,
    pub jwt_secret: String,
    pub token_ttl_seconds: u64,
    /// Lower-cased.
    pub admin_emails: Vec<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("table_name", &self.table_name)
            .field("lock_ttl_seconds", &self.lock_ttl_seconds)
            .field("payment_window_seconds", &self.payment_window_seconds)
            .field("max_seats_per_lock", &self.max_seats_per_lock)
            .field("max_seats_per_user", &self.max_seats_per_user)
            .field("jwt_secret", &"<redacted>")
            .field("token_ttl_seconds", &self.token_ttl_seconds)
            .field("admin_emails", &self.admin_emails.len())
            .finish()
    }
}

/// Shortest accepted JWT signing secret, in bytes (HS256 wants at least its 256-bit output).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    /// The same rules over any source of variables (tests use a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name: &'static str, default: u64, min: u64, max: u64| -> Result<u64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => raw
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|v| (min..=max).contains(v))
                    .ok_or(ConfigError::Invalid { name, expected: "a whole number in its allowed range", value: raw }),
            }
        };
        let table_name =
            get("TABLE_NAME").filter(|t| !t.trim().is_empty()).ok_or(ConfigError::Missing("TABLE_NAME"))?;
        let jwt_secret = get("JWT_SECRET").ok_or(ConfigError::Missing("JWT_SECRET"))?;
        if jwt_secret.len() < MIN_JWT_SECRET_BYTES {
            return Err(ConfigError::Invalid {
                name: "JWT_SECRET",
                expected: "at least 32 bytes",
                value: format!("<{} bytes>", jwt_secret.len()),
            });
        }
        Ok(Settings {
            table_name,
            lock_ttl_seconds: number("LOCK_TTL_SECONDS", 300, 1, 86_400)?,
            payment_window_seconds: number("PAYMENT_WINDOW_SECONDS", 600, 1, 7 * 86_400)?,
            max_seats_per_lock: number("MAX_SEATS_PER_LOCK", 10, 1, 100_000)? as u32,
            max_seats_per_user: number(
                "MAX_SEATS_PER_USER",
                20,
                1,
                crate::domain::event::MAX_SEATS_PER_USER_LIMIT as u64,
            )? as i64,
            jwt_secret,
            token_ttl_seconds: number("TOKEN_TTL_SECONDS", 3600, 1, 30 * 86_400)?,
            admin_emails: get("ADMIN_EMAILS")
                .unwrap_or_default()
                .split(',')
                .map(|e| e.trim().to_lowercase())
                .filter(|e| !e.is_empty())
                .collect(),
        })
    }

    pub fn is_admin_email(&self, email: &crate::domain::user::Email) -> bool {
        let key = email.key();
        self.admin_emails.iter().any(|a| a == key.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_follow_the_contract() {
        let s = settings(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET)]).unwrap();
        assert_eq!(s.lock_ttl_seconds, 300);
        assert_eq!(s.payment_window_seconds, 600);
        assert_eq!(s.max_seats_per_lock, 10);
        assert_eq!(s.max_seats_per_user, 20);
        assert_eq!(s.token_ttl_seconds, 3600);
        assert!(s.admin_emails.is_empty());
    }

    #[test]
    fn no_secret_no_start_and_the_secret_is_never_printed() {
        assert!(matches!(settings(&[("TABLE_NAME", "t")]), Err(ConfigError::Missing("JWT_SECRET"))));
        let short = settings(&[("TABLE_NAME", "t"), ("JWT_SECRET", "short-secret")]).err().unwrap();
        assert!(!short.to_string().contains("short-secret"));
        let ok = settings(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET)]).unwrap();
        assert!(!format!("{ok:?}").contains(SECRET));
    }

    #[test]
    fn bad_numbers_name_the_variable() {
        let e = settings(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET), ("LOCK_TTL_SECONDS", "soon")]).err().unwrap();
        assert!(e.to_string().contains("LOCK_TTL_SECONDS"));
    }

    #[test]
    fn admin_emails_are_case_insensitive() {
        let s =
            settings(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET), ("ADMIN_EMAILS", " Admin@Example.com ,b@x.io")])
                .unwrap();
        let email = |e: &str| crate::domain::user::Email::parse(e).unwrap();
        assert!(s.is_admin_email(&email("admin@example.COM")));
        assert!(!s.is_admin_email(&email("c@x.io")));
    }
}
