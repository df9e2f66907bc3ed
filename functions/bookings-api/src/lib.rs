//! `bookings-api`: confirm a lock into a booking, pay, cancel, read and list.
//!
//! - `POST /api/bookings/confirm` (lock owner) -> 201 booking, 200 the same booking again
//! - `POST /api/bookings/{id}/pay` (owner) -> 200 `CONFIRMED`
//! - `POST /api/bookings/{id}/cancel` (owner) -> 200 `CANCELLED`, seats returned
//! - `GET /api/bookings/{id}` (owner or admin), `GET /api/bookings` (the caller's, newest first)
use booking_shared::domain::booking::PaymentReference;
use booking_shared::domain::ids::HoldRef;
use booking_shared::domain::lock::Window;
use booking_shared::http::{self, Operation, StatusCode};
use booking_shared::store::bookings::Confirmed;
use booking_shared::time::Timestamp;
use booking_shared::{Deps, Error};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    http::serve("bookings-api", req, |route, req| async move {
        match route.operation {
            Operation::ConfirmLock => confirm(deps, &req).await,
            Operation::ListBookings => list(deps, &req).await,
            Operation::GetBooking => get(deps, &req, route.id()).await,
            Operation::PayBooking => pay(deps, &req, route.id()).await,
            Operation::CancelBooking => cancel(deps, &req, route.id()).await,
            other => Err(http::not_served(other)),
        }
    })
    .await
}

/// The booking a path id names; one that does not parse names nothing.
fn booking_ref(id: &str) -> Result<HoldRef, Error> {
    HoldRef::parse_booking_id(id).ok_or(Error::NotFound("booking"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Confirm {
    lock_id: String,
}

async fn confirm(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let caller = http::caller(deps, req)?;
    let body: Confirm = http::json_body(req)?;
    let lock = HoldRef::parse_lock_id(&body.lock_id).ok_or(Error::NotFound("lock"))?;
    let window = Window::starting(Timestamp::now(), deps.settings.payment_window_seconds);
    match deps.store.confirm(&lock, &caller, window).await? {
        Confirmed::Created(b) => http::ok(StatusCode::CREATED, &b),
        Confirmed::Replayed(b) => http::ok(StatusCode::OK, &b),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Pay {
    payment_reference: String,
}

async fn pay(deps: &Deps, req: &Request, id: &str) -> Result<Response<Body>, Error> {
    let caller = http::caller(deps, req)?;
    let body: Pay = http::json_body(req)?;
    let reference = PaymentReference::parse(&body.payment_reference)?;
    let booking = booking_ref(id)?;
    let paid = deps.store.pay(&booking, &caller, &reference, Timestamp::now()).await?;
    http::ok(StatusCode::OK, &paid)
}

/// Cancel takes no fields; an empty body or `{}` is fine.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cancel {}

async fn cancel(deps: &Deps, req: &Request, id: &str) -> Result<Response<Body>, Error> {
    let caller = http::caller(deps, req)?;
    let _: Cancel = http::optional_json_body(req)?;
    let booking = booking_ref(id)?;
    let cancelled = deps.store.cancel(&booking, &caller, Timestamp::now()).await?;
    http::ok(StatusCode::OK, &cancelled)
}

async fn get(deps: &Deps, req: &Request, id: &str) -> Result<Response<Body>, Error> {
    let caller = http::caller(deps, req)?;
    let hold = deps.store.get_hold(&booking_ref(id)?).await?;
    let hold = http::visible_hold(deps, &caller, hold).await?;
    let booking = hold.and_then(|h| h.booking).ok_or(Error::NotFound("booking"))?;
    http::ok(StatusCode::OK, &booking)
}

async fn list(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let caller = http::caller(deps, req)?;
    let (limit, cursor) = http::page_params(req)?;
    let (bookings, next) = deps.store.list_bookings(&caller.user_id, limit, cursor.as_deref()).await?;
    http::page(&bookings, next)
}
