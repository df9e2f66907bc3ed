//! HS256 bearer tokens (RFC 7519 JWTs). Only HS256 is accepted (`alg: none` and every other
//! algorithm fail), the expiry is required and checked without leeway.
//!
//! Written out here rather than taken from a JWT crate: HS256 is one HMAC-SHA256 over two
//! base64url segments, and the general crates link RSA and elliptic-curve code this service never
//! uses. The signature is compared in constant time (`Mac::verify_slice`).
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::domain::ids::UserId;
use crate::domain::user::{Caller, Role, User};
use crate::time::Timestamp;
use crate::Error;

type HmacSha256 = Hmac<Sha256>;

/// `{"alg":"HS256","typ":"JWT"}`, the one header this service signs.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Clone)]
pub struct Tokens {
    key: HmacSha256,
    ttl_seconds: u64,
}

pub struct Issued {
    pub token: String,
    pub expires_at: Timestamp,
}

impl Tokens {
    pub fn new(secret: &[u8], ttl_seconds: u64) -> Self {
        let key = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
        Tokens { key, ttl_seconds }
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
        let claims = serde_json::to_vec(&claims).map_err(|e| Error::internal("token claims", e))?;
        let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(HEADER), URL_SAFE_NO_PAD.encode(claims));
        let signature = URL_SAFE_NO_PAD.encode(self.mac(&signed).finalize().into_bytes());
        Ok(Issued { token: format!("{signed}.{signature}"), expires_at: expires })
    }

    pub fn verify(&self, token: &str) -> Result<Caller, Error> {
        self.verify_at(token, Timestamp::now())
    }

    fn verify_at(&self, token: &str, now: Timestamp) -> Result<Caller, Error> {
        let invalid = || Error::Unauthorized("the bearer token is invalid or expired".into());
        let (signed, signature) = token.rsplit_once('.').ok_or_else(invalid)?;
        let (header, claims) = signed.split_once('.').ok_or_else(invalid)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid())?;
        self.mac(signed).verify_slice(&signature).map_err(|_| invalid())?;
        // Signed by us, so the header is ours; checked all the same, as RFC 8725 asks.
        let header: Header = decode_segment(header).ok_or_else(invalid)?;
        let claims: Claims = decode_segment(claims).ok_or_else(invalid)?;
        if header.alg != "HS256" || claims.exp < now.unix_seconds() {
            return Err(invalid());
        }
        // Only this service signs tokens, and always for a user id it made.
        let user_id = UserId::parse(&claims.sub).ok_or_else(invalid)?;
        Ok(Caller { user_id, role: claims.role })
    }

    fn mac(&self, signed: &str) -> HmacSha256 {
        let mut mac = self.key.clone();
        mac.update(signed.as_bytes());
        mac
    }
}

fn decode_segment<T: serde::de::DeserializeOwned>(segment: &str) -> Option<T> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).ok()?).ok()
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

    #[test]
    fn expiry_is_exact_and_claims_are_required() {
        let tokens = Tokens::new(b"0123456789abcdef0123456789abcdef", 60);
        let at = Timestamp::now();
        let issued = tokens.issue_at(&user(), at).unwrap();
        assert!(tokens.verify_at(&issued.token, at.plus_seconds(60)).is_ok(), "valid up to exp");
        assert!(tokens.verify_at(&issued.token, at.plus_seconds(61)).is_err(), "expired after exp");

        // Correctly signed, but without `exp`, or with another algorithm named in the header.
        let sign = |header: &str, claims: &str| {
            let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
            format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tokens.mac(&signed).finalize().into_bytes()))
        };
        let sub = user().id;
        assert!(tokens.verify(&sign(HEADER, &format!(r#"{{"sub":"{sub}","role":"user","iat":0}}"#))).is_err());
        let far = Timestamp::now().unix_seconds() + 600;
        let claims = format!(r#"{{"sub":"{sub}","role":"user","iat":0,"exp":{far}}}"#);
        assert!(tokens.verify(&sign(HEADER, &claims)).is_ok());
        assert!(tokens.verify(&sign(r#"{"alg":"HS512","typ":"JWT"}"#, &claims)).is_err());
        // A flipped bit anywhere breaks the signature.
        let good = sign(HEADER, &claims);
        let mut bad = good.into_bytes();
        let i = bad.len() / 2;
        bad[i] ^= 1;
        assert!(tokens.verify(&String::from_utf8_lossy(&bad)).is_err());
    }
}
