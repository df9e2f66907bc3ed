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

async fn login(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let body: Login = http::json_body(req)?;
    let found = match EmailKey::for_login(&body.email) {
        Some(key) => deps.store.find_login(&key).await?,
        None => None,
    };
    let (found_user, hash) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    // Unknown email and wrong password take the same time and get the same answer.
    let verified = password::verify(body.password, hash).await;
    let found_user = found_user.filter(|_| verified).ok_or(Error::InvalidCredentials)?;
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
