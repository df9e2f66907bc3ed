//! The table definition, from `infra/dynamodb/table.json`: the one source of truth for the local
//! stack, the tests and (checked by a test) `template.yaml`.
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, LocalSecondaryIndex, Projection,
    ProjectionType, ScalarAttributeType,
};
use serde::Deserialize;

use super::{Store, StoreError};

pub const DEFINITION_JSON: &str = include_str!("../../../infra/dynamodb/table.json");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableDefinition {
    pub attribute_definitions: Vec<AttributeDef>,
    pub key_schema: Vec<KeyDef>,
    /// Local indexes exist only from the table's creation (see `TABLE_DESIGN.md`).
    #[serde(default)]
    pub local_secondary_indexes: Vec<IndexDef>,
    pub global_secondary_indexes: Vec<IndexDef>,
    pub billing_mode: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDef {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyDef {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexDef {
    pub index_name: String,
    pub key_schema: Vec<KeyDef>,
    pub projection: ProjectionDef,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionDef {
    pub projection_type: String,
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

pub fn definition() -> TableDefinition {
    serde_json::from_str(DEFINITION_JSON).expect("infra/dynamodb/table.json is valid (checked by tests)")
}

fn projection(def: &ProjectionDef) -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::from(def.projection_type.as_str()))
        .set_non_key_attributes((!def.non_key_attributes.is_empty()).then(|| def.non_key_attributes.clone()))
        .build()
}

fn key_schema(keys: &[KeyDef]) -> Result<Vec<KeySchemaElement>, StoreError> {
    keys.iter()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()?)
        })
        .collect()
}

impl Store {
    /// Creates the table from the definition (local stack and tests; AWS uses `template.yaml`).
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let def = definition();
        let mut req = self
            .client()
            .create_table()
            .table_name(self.table())
            .billing_mode(BillingMode::from(def.billing_mode.as_str()))
            .set_key_schema(Some(key_schema(&def.key_schema)?));
        for a in &def.attribute_definitions {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(&a.attribute_name)
                    .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                    .build()?,
            );
        }
        for index in &def.local_secondary_indexes {
            req = req.local_secondary_indexes(
                LocalSecondaryIndex::builder()
                    .index_name(&index.index_name)
                    .set_key_schema(Some(key_schema(&index.key_schema)?))
                    .projection(projection(&index.projection))
                    .build()?,
            );
        }
        for index in &def.global_secondary_indexes {
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(&index.index_name)
                    .set_key_schema(Some(key_schema(&index.key_schema)?))
                    .projection(projection(&index.projection))
                    .build()?,
            );
        }
        req.send().await.map_err(StoreError::sdk)?;
        Ok(())
    }
}
