//! `cargo run -q -p create-table`: creates the table named `TABLE_NAME` from
//! `infra/dynamodb/table.json` if it is missing, leaves an existing one alone, and waits until it
//! is ACTIVE. It reaches DynamoDB as the functions do (shared/src/aws.rs): `AWS_ENDPOINT_URL_DYNAMODB`
//! (DynamoDB Local, as `infra/local/stack.sh` sets it) or the account of the credentials in
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` (from a profile:
//! `eval "$(aws configure export-credentials --format env)"`); `AWS_REGION`, else us-east-1.
//!
//! The creation itself is `Store::create_table` (shared/src/store/table.rs), the same code the
//! tests create their tables with, so there is one implementation. Not a Lambda function: it
//! lives outside `functions/`, and nothing deploys it.
use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::TableStatus;
use aws_sdk_dynamodb::Client;
use booking_shared::store::Store;

/// How long to wait for the table to become ACTIVE (boto3's waiter allowed 25 x 20 s).
const WAIT: Duration = Duration::from_secs(500);

/// The table's status, or `None` if there is no such table.
async fn status(client: &Client, table: &str) -> Result<Option<TableStatus>, String> {
    match client.describe_table().table_name(table).send().await {
        Ok(out) => Ok(Some(out.table().and_then(|t| t.table_status()).cloned().unwrap_or(TableStatus::Active))),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(None),
        Err(e) => Err(match e.as_service_error() {
            Some(e) => format!("describe table {table}: {}: {}", e.code().unwrap_or("?"), e.message().unwrap_or("")),
            None => format!("describe table {table}: {}", DisplayErrorContext(e)),
        }),
    }
}

async fn run(table: &str) -> Result<&'static str, String> {
    let env = |name: &str| {
        booking_shared::aws::process_env(name).or_else(|| (name == "AWS_REGION").then(|| "us-east-1".to_string()))
    };
    let sdk = booking_shared::aws::sdk_config(&env).map_err(|e| e.to_string())?;
    let client = booking_shared::aws::dynamodb(&sdk, &env);
    let outcome = if status(&client, table).await?.is_some() {
        "already exists"
    } else {
        match Store::new(client.clone(), table).create_table().await {
            Ok(()) => "created",
            // Created meanwhile by someone else: that table is the one to wait for.
            Err(_) if status(&client, table).await?.is_some() => "already exists",
            Err(e) => return Err(format!("create table {table}: {}", booking_shared::error::chain(&e))),
        }
    };
    let started = std::time::Instant::now();
    while status(&client, table).await? != Some(TableStatus::Active) {
        if started.elapsed() > WAIT {
            return Err(format!("table {table} did not become ACTIVE within {WAIT:?}"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(outcome)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Ok(table) = std::env::var("TABLE_NAME") else {
        eprintln!("create-table: set TABLE_NAME");
        return ExitCode::from(2);
    };
    match run(&table).await {
        Ok(outcome) => {
            println!("table {table} {outcome}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("create-table: {e}");
            ExitCode::FAILURE
        }
    }
}
