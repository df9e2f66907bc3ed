//! `locks-api`: seat locks (holds).
//!
//! - `POST /api/locks` (auth) -> 201 new lock, 200 the same lock on a replayed idempotency key
//! - `GET /api/locks/{id}` (owner or admin) -> 200 lock
//! - `DELETE /api/locks/{id}` (owner) -> 200 lock, `RELEASED`, seats returned
use booking_shared::domain::category::CategoryId;
use booking_shared::domain::hold;
use booking_shared::domain::ids::{EventId, HoldRef};
use booking_shared::domain::lock::{IdempotencyKey, NewLock, Seats, Window};
use booking_shared::http::{self, Operation, StatusCode};
use booking_shared::store::locks::Locked;
use booking_shared::time::Timestamp;
use booking_shared::{Deps, Error};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    http::serve("locks-api", req, |route, req| async move {
        match route.operation {
            Operation::CreateLock => create_lock(deps, &req).await,
            Operation::GetLock => get_lock(deps, &req, route.id()).await,
            Operation::ReleaseLock => release_lock(deps, &req, route.id()).await,
            other => Err(http::not_served(other)),
        }
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateLock {
    event_id: String,
    seats: i64,
    #[serde(default)]
    category_id: Option<String>,
    #[serde(default)]
    idempotency_key: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
}

/// The key from the body or the `Idempotency-Key` header (the same if both are given).
fn idempotency_key(req: &Request, in_body: Option<&str>) -> Result<IdempotencyKey, Error> {
    let header = req
        .headers()
        .get("idempotency-key")
        .map(|v| v.to_str().map_err(|_| Error::validation("the Idempotency-Key header must be printable text")))
        .transpose()?;
    match (in_body, header) {
        (Some(b), Some(h)) if b != h => {
            Err(Error::validation("idempotencyKey in the body and the Idempotency-Key header differ"))
        }
        (Some(k), _) | (None, Some(k)) => IdempotencyKey::parse(k),
        (None, None) => Err(Error::validation("idempotencyKey is required (in the body or an Idempotency-Key header)")),
    }
}

/// `POST /api/locks`: takes the seats and creates the lock in one transaction.
async fn create_lock(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let caller = http::caller(deps, req)?;
    let body: CreateLock = http::json_body(req)?;
    let idempotency_key = idempotency_key(req, body.idempotency_key.as_deref())?;
    let seats = Seats::parse(body.seats, deps.settings.max_seats_per_lock)?;
    if body.user_id.is_some_and(|u| u != caller.user_id.as_str()) {
        return Err(Error::Forbidden("userId must be your own".into()));
    }
    let event_id = EventId::parse(&body.event_id).ok_or(Error::NotFound("event"))?;
    let category = body.category_id.as_deref().map(CategoryId::parse).transpose()?;
    let request = NewLock {
        event_id,
        user_id: caller.user_id,
        category,
        seats,
        idempotency_key,
        life: Window::starting(Timestamp::now(), deps.settings.lock_ttl_seconds),
    };
    match deps.store.create_lock(&request).await? {
        Locked::Created(lock) => {
            tracing::info!(lock_id = %lock.id, event_id = %lock.event_id, seats = %lock.seats, "lock created");
            http::ok(StatusCode::CREATED, &lock)
        }
        Locked::Replayed(lock) => http::ok(StatusCode::OK, &lock),
    }
}

async fn get_lock(deps: &Deps, req: &Request, id: &str) -> Result<Response<Body>, Error> {
    let caller = http::caller(deps, req)?;
    let hold = match HoldRef::parse_lock_id(id) {
        Some(lock) => deps.store.get_hold(&lock).await?,
        None => None,
    };
    let hold = http::visible_hold(deps, &caller, hold).await?.ok_or(Error::NotFound("lock"))?;
    http::ok(StatusCode::OK, &hold.lock)
}

async fn release_lock(deps: &Deps, req: &Request, id: &str) -> Result<Response<Body>, Error> {
    let caller = http::caller(deps, req)?;
    let Some(lock) = HoldRef::parse_lock_id(id) else {
        return Err(hold::refused_release(None, &caller));
    };
    let released = deps.store.release_lock(&lock, &caller, Timestamp::now()).await?;
    http::ok(StatusCode::OK, &released)
}
