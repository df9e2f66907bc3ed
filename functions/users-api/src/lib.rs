//! `users-api`: register, log in, who am I.
//!
//! - `POST /api/users/register` -> 201 user
//! - `POST /api/users/login` -> 200 `{token, tokenType, expiresAt, user}`
//! - `GET /api/users/me` (auth) -> 200 user
use booking_shared::auth::password;
use booking_shared::domain::ids::UserId;
use booking_shared::domain::user::{self, Email, EmailKey};
use booking_shared::http::{self, Operation, StatusCode};
use booking_shared::time::Timestamp;
use booking_shared::{Deps, Error};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

/// The Lambda handler: every outcome is an `Ok` HTTP response.
pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    http::serve("users-api", req, |route, req| async move {
        match route.operation {
            Operation::Register => register(deps, &req).await,
            Operation::Login => login(deps, &req).await,
            Operation::Me => me(deps, &req).await,
            other => Err(http::not_served(other)),
        }
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Register {
    name: String,
    email: String,
    password: String,
}

async fn register(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let body: Register = http::json_body(req)?;
    let name = user::validate_name(&body.name)?;
    let email = Email::parse(&body.email)?;
    user::validate_password(&body.password)?;
    let role = if deps.settings.is_admin_email(&email) { user::Role::Admin } else { user::Role::User };
    let new_user = user::User { id: UserId::generate(), name, email, role, created_at: Timestamp::now() };
    let hash = password::hash(body.password).await?;
    deps.store.create_user(&new_user, &hash).await?;
    tracing::info!(user_id = %new_user.id, role = ?new_user.role, "user registered");
    http::ok(StatusCode::CREATED, &new_user)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

/// Logins are throttled per email (`user::LoginFailures`): the count is read with the user,
/// a refused login checks no password, and registered and unknown emails are treated alike.
async fn login(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let body: Login = http::json_body(req)?;
    let now = Timestamp::now();
    // `None` only for an address too long for any account; nothing to count it under.
    let email = EmailKey::for_login(&body.email);
    let (found, failures) = match &email {
        Some(key) => {
            let (found, failures) = tokio::join!(deps.store.find_login(key), deps.store.login_failures(key));
            (found?, failures?)
        }
        None => (None, None),
    };
    if let Some(refused) = failures.and_then(|f| f.refusal(now)) {
        tracing::warn!(code = refused.code(), "login refused: too many failures for the email");
        return Err(refused);
    }
    let (found_user, hash) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    // Unknown email and wrong password take the same time and get the same answer.
    let verified = password::verify(body.password, hash).await;
    let Some(found_user) = found_user.filter(|_| verified) else {
        if let Some(key) = &email {
            deps.store.record_login_failure(key, now).await?;
        }
        return Err(Error::InvalidCredentials);
    };
    if let (Some(key), Some(_)) = (&email, failures) {
        if let Err(e) = deps.store.clear_login_failures(key).await {
            tracing::warn!(error = %booking_shared::error::chain(&e), "could not clear the failed-login count");
        }
    }
    let issued = deps.tokens.issue(&found_user)?;
    http::ok(
        StatusCode::OK,
        &json!({ "token": issued.token, "tokenType": "Bearer", "expiresAt": issued.expires_at, "user": found_user }),
    )
}

async fn me(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let caller = http::caller(deps, req)?;
    let me = deps.store.get_user(&caller.user_id).await?.ok_or(Error::NotFound("user"))?;
    http::ok(StatusCode::OK, &me)
}
