//! `users-api`: register, log in, who am I.
//!
//! - `POST /api/users/register` -> 201 user
//! - `POST /api/users/login` -> 200 `{token, tokenType, expiresAt, user}`
//! - `GET /api/users/me` (auth) -> 200 user
use booking_shared::auth::password;
use booking_shared::domain::{ids, user};
use booking_shared::http::{self, StatusCode};
use booking_shared::{time, Deps, Error};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

/// The Lambda handler: every outcome is an `Ok` HTTP response.
#[tracing::instrument(skip_all, fields(method = %req.method(), path = %req.uri().path()))]
pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    Ok(http::respond(route(deps, &req).await))
}

async fn route(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let (route, _) = http::route(req, "users-api")?;
    match route {
        "/api/users/register" => register(deps, req).await,
        "/api/users/login" => login(deps, req).await,
        "/api/users/me" => me(deps, req).await,
        _ => Err(Error::NotFound("route")),
    }
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
    let email = user::validate_email(&body.email)?;
    user::validate_password(&body.password)?;
    let role = if deps.settings.is_admin_email(&email) { user::Role::Admin } else { user::Role::User };
    let new_user = user::User { id: ids::new_id(), name, email, role, created_at: time::format(time::now()) };
    let hash = password::hash(body.password).await?;
    deps.store.create_user(&new_user, &user::email_key(&new_user.email), &hash).await?;
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
    let found = match user::login_key(&body.email) {
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
