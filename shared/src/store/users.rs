//! Users: registration claims the email address and creates the user in one transaction.
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::items::{from_item, key, to_item, EmailItem, UserItem};
use super::keys;
use super::write::WriteError;
use super::{Store, StoreError};
use crate::domain::ids::UserId;
use crate::domain::user::{self, EmailKey, User};
use crate::Error;

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
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(keys::email_pk(email), keys::EMAIL_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let email: EmailItem = from_item(item)?;
        Ok(self.user_item(&email.user_id).await?.map(|u| (u.user(), u.password_hash)))
    }

    async fn user_item(&self, user_id: &UserId) -> Result<Option<UserItem>, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(keys::user_pk(user_id), keys::USER_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        out.item.map(from_item).transpose()
    }
}
