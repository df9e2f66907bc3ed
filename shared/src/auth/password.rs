//! Argon2id password hashes in PHC string format (salt and parameters inside the string).
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::Error;

/// Hashes on a blocking thread: Argon2 is deliberately slow and must not stall the runtime.
pub async fn hash(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::internal("password hashing failed", e.to_string()))
    })
    .await
    .map_err(|e| Error::internal("password hashing task failed", e))?
}

/// `false` for a wrong password or an unreadable hash. With `None` it burns the same time
/// against a fixed hash, so a login for an unknown email takes as long as one with a wrong password.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let ok = PasswordHash::new(&stored)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        known && ok
    })
    .await
    .unwrap_or(false)
}

/// A well-formed Argon2id hash (default parameters) whose digest was made up: no password matches it.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Y0kP1GH6wBxbiuQfoOdR/mT0ZgvJRVVPX4hmn1Aw5p8";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("secret1".into()).await.unwrap();
        let b = hash("secret1".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("secret1".into(), Some(a.clone())).await);
        assert!(!verify("secret2".into(), Some(a)).await);
        assert!(!verify("anything".into(), None).await);
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
