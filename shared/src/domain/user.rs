//! Users and the registration rules.
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::ids::UserId;
use crate::time::Timestamp;
use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

/// Failed logins counted before logins for an email are refused.
pub const LOGIN_FAILURE_LIMIT: u32 = 5;
/// How long a run of failed logins counts, from its first failure.
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;

/// **The login throttle.** The failed logins for one email (any case, registered or not): once
/// [`LOGIN_FAILURE_LIMIT`] have failed within [`LOGIN_WINDOW_SECONDS`] of the first, every login
/// for that email is refused `429 TOO_MANY_ATTEMPTS` until the window ends, the right password
/// too (or the answer would tell which guess was right). Refused logins check no password, for
/// registered and unknown emails alike. A login that succeeds clears the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailures {
    pub count: u32,
    /// The first failure of the window.
    pub since: Timestamp,
}

impl LoginFailures {
    pub fn window_end(&self) -> Timestamp {
        self.since.plus_seconds(LOGIN_WINDOW_SECONDS)
    }

    /// The refusal a login for this email gets at `now`, if any, with whole seconds to wait.
    pub fn refusal(&self, now: Timestamp) -> Option<Error> {
        let end = self.window_end();
        (self.count >= LOGIN_FAILURE_LIMIT && now < end)
            .then(|| Error::TooManyAttempts { retry_after_seconds: (end.unix_seconds() - now.unix_seconds()).max(1) })
    }
}

/// A user as the API shows it (never with the password hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(rename = "_id")]
    pub id: UserId,
    pub name: String,
    pub email: Email,
    pub role: Role,
    pub created_at: Timestamp,
}

pub const NAME_MAX_CHARS: usize = 100;
pub const PASSWORD_MIN_CHARS: usize = 6;
pub const PASSWORD_MAX_CHARS: usize = 128;
pub const EMAIL_MAX_CHARS: usize = 254;

pub fn validate_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 || n > NAME_MAX_CHARS {
        return Err(Error::validation(format!("name must be 1 to {NAME_MAX_CHARS} characters")));
    }
    if super::has_control_characters(name, false) {
        return Err(Error::validation("name must not contain control characters"));
    }
    Ok(name.to_string())
}

/// An email address of the shape registration accepts (one `@`, a dotted domain, no spaces),
/// trimmed, case kept as given. Uniqueness is case-insensitive: see [`EmailKey`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(email: &str) -> Result<Self, Error> {
        let email = email.trim();
        let valid = email.chars().count() <= EMAIL_MAX_CHARS
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && match email.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                }
                None => false,
            };
        if !valid {
            return Err(Error::validation("email must be a valid email address"));
        }
        Ok(Email(email.to_string()))
    }

    /// The case-insensitive identity of the address.
    pub fn key(&self) -> EmailKey {
        EmailKey(self.0.to_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An address lower-cased: what makes two registrations the same, and what login looks up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailKey(String);

impl EmailKey {
    /// The key to look a login up by, or `None` for an address that no registration could have
    /// accepted because it is too long ([`Email::parse`]'s limit). Login does not validate the
    /// address otherwise (any wrong one is `INVALID_CREDENTIALS`), but one of any length must not
    /// reach the store: as a key it can pass DynamoDB's 2048 bytes, which it refuses outright.
    pub fn for_login(email: &str) -> Option<Self> {
        let email = email.trim();
        (email.chars().count() <= EMAIL_MAX_CHARS).then(|| EmailKey(email.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Registration was refused: the address (in any case) is already registered.
pub fn refused_registration() -> Error {
    Error::EmailTaken
}

pub fn validate_password(password: &str) -> Result<(), Error> {
    let n = password.chars().count();
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&n) {
        return Err(Error::validation(format!(
            "password must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(Email::parse(" Ann@Example.com ").unwrap().as_str(), "Ann@Example.com");
        for bad in ["", "ann", "ann@", "@x.io", "a@b", "a b@x.io", "a@x..io", "a@@x.io", "a@.x.io"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Email::parse("Ann@Example.COM").unwrap().key().as_str(), "ann@example.com");
    }

    #[test]
    fn login_keys_are_those_registration_can_produce() {
        let key = |e: &str| EmailKey::for_login(e).map(|k| k.as_str().to_string());
        assert_eq!(key(" Ann@Example.COM ").as_deref(), Some("ann@example.com"));
        assert_eq!(key("not an email").as_deref(), Some("not an email"), "no other validation");
        let longest = format!("{}@x.io", "é".repeat(EMAIL_MAX_CHARS - 5));
        let registered = Email::parse(&longest).unwrap();
        assert_eq!(EmailKey::for_login(&longest), Some(registered.key()));
        assert_eq!(EmailKey::for_login(&format!("a{longest}")), None);
    }

    #[test]
    fn passwords_and_names() {
        assert!(validate_password("123456").is_ok());
        assert!(validate_password("12345").is_err());
        assert!(validate_password(&"x".repeat(129)).is_err());
        assert!(validate_name("   ").is_err());
        assert!(validate_name(&"é".repeat(100)).is_ok());
        assert!(validate_name(&"é".repeat(101)).is_err());
    }

    #[test]
    fn the_fifth_failure_inside_the_window_closes_logins_until_it_ends() {
        let since = Timestamp::now();
        let failures = |count| LoginFailures { count, since };
        assert!(failures(4).refusal(since.plus_seconds(60)).is_none(), "four failures: logins go on");
        let refused = failures(5).refusal(since.plus_seconds(60)).expect("five failures: refused");
        assert!(matches!(refused, Error::TooManyAttempts { retry_after_seconds: 840 }), "{refused:?}");
        assert!(failures(9).refusal(since.plus_seconds(LOGIN_WINDOW_SECONDS - 1)).is_some());
        assert!(failures(9).refusal(since.plus_seconds(LOGIN_WINDOW_SECONDS)).is_none(), "the window ended");
    }
}

/// Who is calling, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub role: Role,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}
