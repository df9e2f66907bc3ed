//! One test's world: a fresh table on the shared DynamoDB Local, so tests run in parallel and in
//! any order, with the settings, the API, the jobs and the operator's hand edits on it.
use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use booking_shared::config::Settings;
use booking_shared::store::Store;
use booking_shared::Deps;

use crate::{client, dynamodb, operator, Api, Jobs, ADMIN_EMAIL, TEST_SECRET};

pub fn settings(table: &str) -> Settings {
    let vars = HashMap::from([
        ("TABLE_NAME", table.to_string()),
        ("JWT_SECRET", TEST_SECRET.to_string()),
        ("ADMIN_EMAILS", ADMIN_EMAIL.to_string()),
    ]);
    Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings")
}

/// One test's world: its own table on the shared DynamoDB Local.
pub struct Harness {
    pub deps: Deps,
    pub client: Client,
}

impl Harness {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    /// A harness whose settings are adjusted first (shorter timers, say).
    pub async fn with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let endpoint = dynamodb().await;
        let client = client(&endpoint);
        let table = format!("test-{}", ulid::Ulid::new().to_string().to_lowercase());
        let mut s = settings(&table);
        adjust(&mut s);
        Store::new(client.clone(), &table).create_table().await.expect("create table");
        Harness { deps: Deps::new(s, client.clone()), client }
    }

    pub fn api(&self) -> Api {
        Api::InProcess(Box::new(self.deps.clone()))
    }

    pub fn store(&self) -> &Store {
        &self.deps.store
    }

    pub fn jobs(&self) -> Jobs {
        Jobs::InProcess(self.deps.store.clone())
    }

    pub fn operator(&self) -> operator::Operator<'_> {
        operator::Operator { client: &self.client, table: &self.deps.settings.table_name }
    }
}
