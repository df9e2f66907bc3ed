//! The first admin of a deployment. Registration never makes an admin in a deployed stack
//! (`ADMIN_EMAILS` is a local-stack setting only), so an operator with AWS credentials for the
//! table runs this once; admins then promote and demote others with
//! `PUT /api/admin/users/{id}/role`. Admin routes read the stored role on every request, so the
//! user's current token works as an admin's at once.
use booking_shared::domain::user::{EmailKey, Role, User};
use booking_shared::store::Store;

/// Sets the role of the user registered with `email` (any case); the user as now stored.
pub async fn set_role_by_email(store: &Store, email: &str, role: Role) -> Result<User, String> {
    let key = EmailKey::for_login(email).ok_or_else(|| format!("{email:?} is longer than any registered email"))?;
    let (user, _) = store
        .find_login(&key)
        .await
        .map_err(|e| booking_shared::error::chain(&e))?
        .ok_or_else(|| format!("no user is registered with {email:?}; register first, then grant"))?;
    store
        .set_role(&user.id, role)
        .await
        .map_err(|e| booking_shared::error::chain(&e))?
        .ok_or_else(|| format!("user {} disappeared while being granted", user.id))
}
