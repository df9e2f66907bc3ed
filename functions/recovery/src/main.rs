//! Wiring only: logs, the table, an HTTPS client for CloudFormation's answer, then the handler.
use lambda_runtime::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    booking_shared::telemetry::init();
    let store = booking_shared::jobs::store_from_env().await?;
    let http = recovery::answer_client()?;
    run(service_fn(|event| recovery::handle(&store, &http, event))).await
}
