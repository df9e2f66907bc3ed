//! Wiring only: invoked every minute by EventBridge Scheduler; the rule and the sweep are in
//! `shared/src/jobs/lock_expiry.rs`.
use lambda_runtime::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    booking_shared::telemetry::init();
    let store = booking_shared::jobs::store_from_env().await?;
    run(service_fn(|event| booking_shared::jobs::lock_expiry::handle(&store, event))).await
}
