//! Users: registration claims the email address and creates the user in one transaction.
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::items::{from_item, key, n, s, to_item, ts, EmailItem, UserItem};
use super::keys;
use super::write::WriteError;
use super::{Store, StoreError};
use crate::domain::ids::UserId;
use crate::domain::user::{self, EmailKey, LoginFailures, User, LOGIN_WINDOW_SECONDS};
use crate::time::Timestamp;
use crate::Error;

/// How long a login-failure count outlives its window before DynamoDB's TTL may delete it
/// (deletion is lazy; the window is always judged by its timestamps, never by the item's presence).
const LOGIN_FAILURES_KEPT_SECONDS: i64 = LOGIN_WINDOW_SECONDS + 24 * 3600;

impl Store {
    /// Refused (`user::refused_registration`) if the address, in any case, is already claimed.
    pub async fn create_user(&self, user: &User, password_hash: &str) -> Result<(), Error> {
        let user_item = UserItem {
            pk: keys::user_pk(&user.id),
            sk: keys::USER_SK.into(),
            entity: "USER".into(),
            user_id: user.id.clone(),
            name: user.name.clone(),
            email: user.email.clone(),
            role: user.role,
            password_hash: password_hash.into(),
            created_at: user.created_at,
        };
        let email_item = EmailItem {
            pk: keys::email_pk(&user.email.key()),
            sk: keys::EMAIL_SK.into(),
            entity: "EMAIL".into(),
            user_id: user.id.clone(),
        };
        let put = |item| -> Result<TransactWriteItem, StoreError> {
            Ok(TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(self.table())
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(PK)")
                        .build()?,
                )
                .build())
        };
        match self.transact(vec![put(to_item(&user_item)?)?, put(to_item(&email_item)?)?]).await {
            Ok(()) => Ok(()),
            Err(WriteError::Refused(_)) => Err(user::refused_registration()),
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    }

    pub async fn get_user(&self, user_id: &UserId) -> Result<Option<User>, Error> {
        Ok(self.user_item(user_id).await?.map(|u| u.user()))
    }

    /// The user and their password hash, by email address (any case).
    pub async fn find_login(&self, email: &EmailKey) -> Result<Option<(User, String)>, Error> {
        let Some(email) = self.read::<EmailItem>(key(keys::email_pk(email), keys::EMAIL_SK)).await? else {
            return Ok(None);
        };
        Ok(self.user_item(&email.user_id).await?.map(|u| (u.user(), u.password_hash)))
    }

    async fn user_item(&self, user_id: &UserId) -> Result<Option<UserItem>, StoreError> {
        self.read(key(keys::user_pk(user_id), keys::USER_SK)).await
    }

    /// Sets a user's role (an admin's `PUT /api/admin/users/{id}/role`, the `grant-admin`
    /// command): one conditional `UpdateItem` that returns the user as it now is; `None` if there
    /// is no such user. Admin routes read the role from here at every request.
    pub async fn set_role(&self, user_id: &UserId, role: user::Role) -> Result<Option<User>, Error> {
        let request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(keys::user_pk(user_id), keys::USER_SK)))
            .update_expression("SET #role = :role")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":role", s(role.as_str()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        match self.update(request).await {
            Ok(item) => Ok(Some(from_item::<UserItem>(item)?.user())),
            Err(WriteError::Refused(_)) => Ok(None),
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    }

    /// The failed logins counted for `email`, if any (a consistent read).
    pub async fn login_failures(&self, email: &EmailKey) -> Result<Option<LoginFailures>, Error> {
        #[derive(serde::Deserialize)]
        struct Stored {
            failures: u32,
            since: Timestamp,
        }
        let stored: Option<Stored> = self.read(key(keys::login_failures_pk(email), keys::LOGIN_FAILURES_SK)).await?;
        Ok(stored.map(|s| LoginFailures { count: s.failures, since: s.since }))
    }

    /// Counts a failed login for `email` at `now`: one more in the open window, or the first of a
    /// new one. Each is one conditional `UpdateItem`; a concurrent failure that opened a window
    /// first sends this one back to counting in it.
    pub async fn record_login_failure(&self, email: &EmailKey, now: Timestamp) -> Result<(), Error> {
        let cutoff = now.plus_seconds(-LOGIN_WINDOW_SECONDS);
        let expires = n(now.plus_seconds(LOGIN_FAILURES_KEPT_SECONDS).unix_seconds());
        let update = || {
            self.client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key(keys::login_failures_pk(email), keys::LOGIN_FAILURES_SK)))
                .expression_attribute_values(":cutoff", ts(cutoff))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":expires", expires.clone())
        };
        for _ in 0..3 {
            let count = update()
                .update_expression("SET failures = failures + :one, expiresAtEpoch = :expires")
                .condition_expression("attribute_exists(PK) AND since > :cutoff");
            match self.update(count).await {
                Ok(_) => return Ok(()),
                Err(WriteError::Store(e)) => return Err(e.into()),
                Err(WriteError::Refused(_)) => {}
            }
            let open = update()
                .update_expression("SET entity = :entity, failures = :one, since = :now, expiresAtEpoch = :expires")
                .condition_expression("attribute_not_exists(PK) OR since <= :cutoff")
                .expression_attribute_values(":entity", s("LOGIN_FAILURES"))
                .expression_attribute_values(":now", ts(now));
            match self.update(open).await {
                Ok(_) => return Ok(()),
                Err(WriteError::Store(e)) => return Err(e.into()),
                Err(WriteError::Refused(_)) => {}
            }
        }
        Err(Error::internal_message("the login-failure count kept changing"))
    }

    /// Forgets the failed logins of `email` (after a login succeeded).
    pub async fn clear_login_failures(&self, email: &EmailKey) -> Result<(), Error> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(keys::login_failures_pk(email), keys::LOGIN_FAILURES_SK)))
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(())
    }
}
