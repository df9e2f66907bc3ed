//! Wiring only: logs, settings (fail fast), one DynamoDB client, then the handler.
use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    booking_shared::telemetry::init();
    let deps = booking_shared::Deps::from_env().await?;
    run(service_fn(|req| admin_api::handle(&deps, req))).await
}
