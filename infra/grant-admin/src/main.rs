//! `TABLE_NAME=<table> cargo run -q -p grant-admin -- <email> [admin|user]`: sets the role of
//! the user registered with `<email>` (default `admin`). It reaches DynamoDB as the functions do
//! (`booking_shared::aws`): deployed, with the credentials in `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` and `AWS_REGION` (from a profile:
//! `eval "$(aws configure export-credentials --format env)"`) and the stack's `TableName`
//! output; against the local stack, with `infra/local/grant-admin.sh <email>`.
use std::process::ExitCode;

use booking_shared::domain::user::Role;
use booking_shared::store::Store;

async fn run(table: String, email: &str, role: Role) -> Result<String, String> {
    let env = booking_shared::aws::process_env;
    let sdk = booking_shared::aws::sdk_config(&env).map_err(|e| e.to_string())?;
    let store = Store::new(booking_shared::aws::dynamodb(&sdk, &env), table);
    let user = grant_admin::set_role_by_email(&store, email, role).await?;
    Ok(format!("{} ({}) is now {}", user.email.as_str(), user.id, user.role.as_str()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let role = match args.get(1).map(String::as_str) {
        None | Some("admin") => Some(Role::Admin),
        Some("user") => Some(Role::User),
        Some(_) => None,
    };
    let (Some(email), Some(role), Ok(table)) = (args.first(), role, std::env::var("TABLE_NAME")) else {
        eprintln!("usage: TABLE_NAME=<table> grant-admin <email> [admin|user]");
        return ExitCode::from(2);
    };
    match run(table, email, role).await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("grant-admin: {e}");
            ExitCode::FAILURE
        }
    }
}
