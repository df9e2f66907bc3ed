//! `events-api`: create (admin), list and read events (public), inventory (admin).
//!
//! - `POST /api/events` (admin) -> 201 event
//! - `GET /api/events` -> 200 list, soonest first
//! - `GET /api/events/{id}` -> 200 event
//! - `PATCH /api/events/{id}` (admin) -> 200 event as changed
//! - `GET /api/events/{id}/inventory` (admin) -> 200 inventory
//! - `POST /api/events/{id}/cancel` (admin) -> 200 event, `CANCELLED` (again: the same)
use booking_shared::domain::category::CategoryRequest;
use booking_shared::domain::event::{CategoryChangeRequest, ChangeRequest, EventChange, NewEvent, SeatPlan};
use booking_shared::domain::ids::EventId;
use booking_shared::http::{self, Operation, StatusCode};
use booking_shared::time::Timestamp;
use booking_shared::{Deps, Error};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    http::serve("events-api", req, |route, req| async move {
        match route.operation {
            Operation::CreateEvent => create(deps, &req).await,
            Operation::ListEvents => list(deps, &req).await,
            Operation::GetEvent => get(deps, route.id()).await,
            Operation::UpdateEvent => update(deps, &req, route.id()).await,
            Operation::EventInventory => inventory(deps, &req, route.id()).await,
            Operation::CancelEvent => cancel(deps, &req, route.id()).await,
            other => Err(http::not_served(other)),
        }
    })
    .await
}

/// The event a path id names; one that does not parse names nothing.
fn event_id(id: &str) -> Result<EventId, Error> {
    EventId::parse(id).ok_or(Error::NotFound("event"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateEvent {
    name: String,
    #[serde(default)]
    description: Option<String>,
    event_date: String,
    /// The v1 plan: one `general` category of this many seats, at `price`.
    #[serde(default)]
    total_seats: Option<i64>,
    #[serde(default)]
    price: Option<i64>,
    #[serde(default)]
    categories: Option<Vec<CreateCategory>>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    max_seats_per_user: Option<i64>,
}

/// A body that may be `{}` and nothing more.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NoFields {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateCategory {
    id: String,
    name: String,
    price: i64,
    seats: i64,
}

async fn create(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    http::admin(deps, req).await?;
    let body: CreateEvent = http::json_body(req)?;
    let now = Timestamp::now();
    let plan = match (body.total_seats, &body.categories, body.price) {
        (Some(total_seats), None, price) => SeatPlan::General { total_seats, price: price.unwrap_or(0) },
        (None, Some(categories), None) => SeatPlan::Categories(
            categories
                .iter()
                .map(|c| CategoryRequest { id: &c.id, name: &c.name, price: c.price, seats: c.seats })
                .collect(),
        ),
        (None, Some(_), Some(_)) => {
            return Err(Error::validation("price goes on each category when categories are given"))
        }
        _ => return Err(Error::validation("give exactly one of totalSeats and categories")),
    };
    let new = NewEvent::validate(
        &body.name,
        body.description.as_deref(),
        &body.event_date,
        plan,
        body.max_seats_per_user.unwrap_or(deps.settings.max_seats_per_user),
        body.currency.as_deref(),
        now,
    )?;
    let event = deps.store.create_event(&new, &EventId::generate(), now).await?;
    tracing::info!(event_id = %event.id, total_seats = event.total_seats, categories = event.categories.len(), "event created");
    http::ok(StatusCode::CREATED, &event)
}

/// `PATCH /api/events/{id}`: every field optional, unknown ones refused. A JSON `null` is the
/// same as leaving the field out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UpdateEvent {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    event_date: Option<String>,
    #[serde(default)]
    max_seats_per_user: Option<i64>,
    #[serde(default)]
    sales_open: Option<bool>,
    #[serde(default)]
    categories: Option<Vec<UpdateCategory>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UpdateCategory {
    id: String,
    #[serde(default)]
    price: Option<i64>,
    /// The category's new total.
    #[serde(default)]
    seats: Option<i64>,
}

/// Validates everything the body says before touching the table (a `400` changes nothing),
/// then the store's one conditional write decides.
async fn update(deps: &Deps, req: &Request, id: &str) -> Result<Response<Body>, Error> {
    http::admin(deps, req).await?;
    let body: UpdateEvent = http::json_body(req)?;
    let now = Timestamp::now();
    let change = EventChange::validate(
        ChangeRequest {
            name: body.name.as_deref(),
            description: body.description.as_deref(),
            event_date: body.event_date.as_deref(),
            max_seats_per_user: body.max_seats_per_user,
            sales_open: body.sales_open,
            categories: body.categories.as_ref().map(|cs| {
                cs.iter().map(|c| CategoryChangeRequest { id: &c.id, price: c.price, seats: c.seats }).collect()
            }),
        },
        now,
    )?;
    let event = deps.store.update_event(&event_id(id)?, &change, now).await?;
    tracing::info!(event_id = %event.id, status = event.status.as_str(), total_seats = event.total_seats, "event changed");
    http::ok(StatusCode::OK, &event)
}

async fn list(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let (limit, cursor) = http::page_params(req)?;
    let (events, next) = deps.store.list_events(limit, cursor.as_deref()).await?;
    http::page(&events, next)
}

async fn get(deps: &Deps, id: &str) -> Result<Response<Body>, Error> {
    let event = deps.store.get_event(&event_id(id)?).await?;
    http::ok(StatusCode::OK, &event.ok_or(Error::NotFound("event"))?)
}

async fn inventory(deps: &Deps, req: &Request, id: &str) -> Result<Response<Body>, Error> {
    http::admin(deps, req).await?;
    let census = deps.store.census(&event_id(id)?, Timestamp::now()).await?;
    http::ok(StatusCode::OK, &census.ok_or(Error::NotFound("event"))?.view())
}

/// `POST /api/events/{id}/cancel`: the event is `CANCELLED` at once (no lock passes after it);
/// within one schedule period the event-cancellation job hands every hold back. The body is
/// optional: empty, or `{}`.
async fn cancel(deps: &Deps, req: &Request, id: &str) -> Result<Response<Body>, Error> {
    http::admin(deps, req).await?;
    let _: NoFields = http::optional_json_body(req)?;
    let event = deps.store.cancel_event(&event_id(id)?, Timestamp::now()).await?;
    http::ok(StatusCode::OK, &event)
}
