//! `locks-api`: seat locks (holds).
//!
//! - `POST /api/locks` (auth) -> 201 new lock, 200 the same lock on a replayed idempotency key
//! - `GET /api/locks/{id}` (owner or admin) -> 200 lock
//! - `DELETE /api/locks/{id}` (owner) -> 200 lock, `RELEASED`, seats returned
use booking_shared::domain::ids::{self, HoldRef};
use booking_shared::domain::lock;
use booking_shared::http::{self, StatusCode};
use booking_shared::store::locks::{Locked, NewLock};
use booking_shared::{time, Deps, Error};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

#[tracing::instrument(skip_all, fields(method = %req.method(), path = %req.uri().path()))]
pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    Ok(http::respond(route(deps, &req).await))
}

async fn route(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let (route, params) = http::route(req, "locks-api")?;
    let id = params.first().map(String::as_str).unwrap_or_default();
    match route {
        "/api/locks" => create_lock(deps, req).await,
        "/api/locks/{id}" if req.method() == "GET" => get_lock(deps, req, id).await,
        "/api/locks/{id}" => release_lock(deps, req, id).await,
        _ => Err(Error::NotFound("route")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateLock {
    event_id: String,
    seats: i64,
    #[serde(default)]
    idempotency_key: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
}

/// `POST /api/locks`: takes the seats and creates the lock in one transaction.
async fn create_lock(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let caller = http::caller(deps, req)?;
    let body: CreateLock = http::json_body(req)?;
    let header_key = req
        .headers()
        .get("idempotency-key")
        .map(|v| v.to_str().map_err(|_| Error::validation("the Idempotency-Key header must be printable text")))
        .transpose()?;
    let key = match (body.idempotency_key.as_deref(), header_key) {
        (Some(b), Some(h)) if b != h => {
            return Err(Error::validation("idempotencyKey in the body and the Idempotency-Key header differ"))
        }
        (Some(k), _) | (None, Some(k)) => k.to_string(),
        (None, None) => {
            return Err(Error::validation("idempotencyKey is required (in the body or an Idempotency-Key header)"))
        }
    };
    lock::validate_idempotency_key(&key)?;
    lock::validate_seats(body.seats, deps.settings.max_seats_per_lock)?;
    if body.user_id.as_ref().is_some_and(|u| u != &caller.user_id) {
        return Err(Error::Forbidden("userId must be your own".into()));
    }
    if !ids::is_ulid(&body.event_id) {
        return Err(Error::NotFound("event"));
    }
    let now = time::now();
    let expires_at = time::format(time::plus_seconds(now, deps.settings.lock_ttl_seconds));
    let request = NewLock { event_id: body.event_id, user_id: caller.user_id, seats: body.seats, idempotency_key: key };
    match deps.store.create_lock(&request, &time::format(now), &expires_at).await? {
        Locked::Created(lock) => {
            tracing::info!(lock_id = %lock.id, event_id = %lock.event_id, seats = lock.seats, "lock created");
            http::ok(StatusCode::CREATED, &lock)
        }
        Locked::Replayed(lock) => http::ok(StatusCode::OK, &lock),
    }
}

async fn get_lock(deps: &Deps, req: &Request, id: &str) -> Result<Response<Body>, Error> {
    let caller = http::caller(deps, req)?;
    let hold = match HoldRef::parse_lock_id(id) {
        Some(at) => deps.store.get_hold(&at).await?,
        None => None,
    };
    let hold = hold.filter(|h| h.visible_to(&caller)).ok_or(Error::NotFound("lock"))?;
    http::ok(StatusCode::OK, &hold.lock)
}

async fn release_lock(deps: &Deps, req: &Request, id: &str) -> Result<Response<Body>, Error> {
    let caller = http::caller(deps, req)?;
    let at = HoldRef::parse_lock_id(id).ok_or(Error::NotFound("lock"))?;
    let lock = deps.store.release_lock(&at, &caller, &time::format(time::now())).await?;
    http::ok(StatusCode::OK, &lock)
}
