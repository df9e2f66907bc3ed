//! `events-api`: create (admin), list and read events (public), inventory (admin).
//!
//! - `POST /api/events` (admin) -> 201 event
//! - `GET /api/events` -> 200 list, soonest first
//! - `GET /api/events/{id}` -> 200 event
//! - `GET /api/events/{id}/inventory` (admin) -> 200 inventory
use booking_shared::domain::{event::NewEvent, ids};
use booking_shared::http::{self, StatusCode};
use booking_shared::{time, Deps, Error};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

#[tracing::instrument(skip_all, fields(method = %req.method(), path = %req.uri().path()))]
pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    Ok(http::respond(route(deps, &req).await))
}

async fn route(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let (route, params) = http::route(req, "events-api")?;
    let id = params.first().map(String::as_str).unwrap_or_default();
    match route {
        "/api/events" if req.method() == "POST" => create(deps, req).await,
        "/api/events" => list(deps, req).await,
        "/api/events/{id}" => get(deps, id).await,
        "/api/events/{id}/inventory" => inventory(deps, req, id).await,
        _ => Err(Error::NotFound("route")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateEvent {
    name: String,
    #[serde(default)]
    description: Option<String>,
    event_date: String,
    total_seats: i64,
}

async fn create(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    http::admin(deps, req)?;
    let body: CreateEvent = http::json_body(req)?;
    let now = time::now();
    let new = NewEvent::validate(&body.name, body.description.as_deref(), &body.event_date, body.total_seats, now)?;
    let event = deps.store.create_event(&new, &ids::new_id(), &time::format(now)).await?;
    tracing::info!(event_id = %event.id, total_seats = event.total_seats, "event created");
    http::ok(StatusCode::CREATED, &event)
}

async fn list(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let (limit, cursor) = http::page_params(req)?;
    let (events, next) = deps.store.list_events(limit, cursor.as_deref()).await?;
    http::page(&events, next)
}

async fn get(deps: &Deps, id: &str) -> Result<Response<Body>, Error> {
    let event = if ids::is_ulid(id) { deps.store.get_event(id).await? } else { None };
    http::ok(StatusCode::OK, &event.ok_or(Error::NotFound("event"))?)
}

async fn inventory(deps: &Deps, req: &Request, id: &str) -> Result<Response<Body>, Error> {
    http::admin(deps, req)?;
    let now = time::format(time::now());
    let census = if ids::is_ulid(id) { deps.store.census(id, &now).await? } else { None };
    http::ok(StatusCode::OK, &census.ok_or(Error::NotFound("event"))?.view())
}
