//! HS256 bearer tokens. Only HS256 is accepted (`alg: none` and every other algorithm fail), the
//! expiry is required and checked without leeway.
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::ids::UserId;
use crate::domain::user::{Caller, Role, User};
use crate::time::Timestamp;
use crate::Error;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    iat: i64,
    exp: i64,
}

#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_seconds: u64,
}

pub struct Issued {
    pub token: String,
    pub expires_at: Timestamp,
}

impl Tokens {
    pub fn new(secret: &[u8], ttl_seconds: u64) -> Self {
        Tokens { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), ttl_seconds }
    }

    pub fn issue(&self, user: &User) -> Result<Issued, Error> {
        self.issue_at(user, Timestamp::now())
    }

    /// Issues a token as if at `issued_at` (tests use it to make expired tokens).
    pub fn issue_at(&self, user: &User, issued_at: Timestamp) -> Result<Issued, Error> {
        let expires = issued_at.plus_seconds(self.ttl_seconds as i64);
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.role,
            iat: issued_at.unix_seconds(),
            exp: expires.unix_seconds(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::internal("token signing failed", e))?;
        Ok(Issued { token, expires_at: expires })
    }

    pub fn verify(&self, token: &str) -> Result<Caller, Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let invalid = || Error::Unauthorized("the bearer token is invalid or expired".into());
        let data = decode::<Claims>(token, &self.decoding, &validation).map_err(|_| invalid())?;
        // Only this service signs tokens, and always for a user id it made.
        let user_id = UserId::parse(&data.claims.sub).ok_or_else(invalid)?;
        Ok(Caller { user_id, role: data.claims.role })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

    fn user() -> User {
        User {
            id: UserId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap(),
            name: "Ann".into(),
            email: crate::domain::user::Email::parse("a@x.io").unwrap(),
            role: Role::Admin,
            created_at: Timestamp::now(),
        }
    }

    #[test]
    fn round_trip() {
        let tokens = Tokens::new(b"0123456789abcdef0123456789abcdef", 60);
        let issued = tokens.issue(&user()).unwrap();
        let caller = tokens.verify(&issued.token).unwrap();
        assert_eq!(caller, Caller { user_id: user().id, role: Role::Admin });
    }

    #[test]
    fn rejects_expired_forged_and_unsigned_tokens() {
        let tokens = Tokens::new(b"0123456789abcdef0123456789abcdef", 60);
        let old = tokens.issue_at(&user(), Timestamp::now().plus_seconds(-2 * 3600)).unwrap();
        assert!(tokens.verify(&old.token).is_err());

        let other = Tokens::new(b"another-secret-another-secret-xx", 60);
        assert!(tokens.verify(&other.issue(&user()).unwrap().token).is_err());

        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"u1","role":"admin","iat":0,"exp":{}}}"#,
            Timestamp::now().unix_seconds() + 600
        ));
        assert!(tokens.verify(&format!("{header}.{body}.")).is_err());
        assert!(tokens.verify("not-a-token").is_err());
    }
}
