//! `admin-api`: operator actions over HTTP.
//!
//! - `POST /api/admin/recovery` (admin) -> 200 recovery report (`shared/src/jobs/recovery.rs`),
//!   run in this invocation. It stops taking work a few seconds before the invocation's deadline
//!   (29 s, under API Gateway's 30 s) and says so with `complete: false`; run it again, or invoke
//!   the recovery function, which has five minutes.
//! - `PUT /api/admin/users/{id}/role` (admin) `{role: "admin" | "user"}` -> 200 user with that
//!   role. It takes effect on the user's next request: admin routes read the stored role, not
//!   the token's. The first admin of a deployment is made with `infra/grant-admin`.
use std::time::Duration;

use booking_shared::domain::ids::UserId;
use booking_shared::domain::user::Role;
use booking_shared::http::{self, Operation, StatusCode};
use booking_shared::jobs::{self, Budget};
use booking_shared::time::Timestamp;
use booking_shared::{Deps, Error};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;

/// Time kept back from the deadline to answer.
const ANSWER_MARGIN: Duration = Duration::from_secs(4);
/// Budget when the request carries no deadline (tests, the local emulator without one).
const NO_DEADLINE_BUDGET: Duration = Duration::from_secs(25);

pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    http::serve("admin-api", req, |route, req| async move {
        match route.operation {
            Operation::RunRecovery => recover(deps, &req).await,
            Operation::SetUserRole => set_role(deps, &req, route.id()).await,
            other => Err(http::not_served(other)),
        }
    })
    .await
}

async fn recover(deps: &Deps, req: &Request) -> Result<Response<Body>, Error> {
    let caller = http::admin(deps, req).await?;
    let deadline_ms = req.lambda_context_ref().map(|c| c.deadline).unwrap_or(0);
    let budget = Budget::from_deadline_ms(deadline_ms, ANSWER_MARGIN, NO_DEADLINE_BUDGET);
    tracing::info!(admin = %caller.user_id, "recovery requested");
    let report = jobs::recovery::run(&deps.store, Timestamp::now(), budget).await;
    jobs::log_summary("recovery", &report);
    http::ok(StatusCode::OK, &report)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetRole {
    role: Role,
}

async fn set_role(deps: &Deps, req: &Request, id: &str) -> Result<Response<Body>, Error> {
    let caller = http::admin(deps, req).await?;
    let body: SetRole = http::json_body(req)?;
    let user_id = UserId::parse(id).ok_or(Error::NotFound("user"))?;
    let user = deps.store.set_role(&user_id, body.role).await?.ok_or(Error::NotFound("user"))?;
    tracing::info!(admin = %caller.user_id, user_id = %user.id, role = user.role.as_str(), "role set");
    http::ok(StatusCode::OK, &user)
}
