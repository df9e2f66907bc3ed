//! One set of routes and one table, everywhere they are written down: the route table the
//! functions dispatch on (`shared/src/http/routes.rs`), the HttpApi events of `template.yaml`,
//! the paths of `openapi.yaml` and the local router in `Cargo.toml`; and the table definition
//! the local stack creates (`infra/dynamodb/table.json`) against the one `template.yaml` deploys.
use std::collections::BTreeSet;

use booking_shared::http::routes::{DEFAULT_FUNCTION, ROUTES};
use booking_tests::repo_root;
use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &str) -> Value {
    let doc: serde_yaml::Value = serde_yaml::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::to_value(doc).expect("YAML as JSON")
}

type Routes = BTreeSet<(String, String, String)>;

fn route_table() -> Routes {
    ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string(), r.function.to_string())).collect()
}

/// (method, path, binary) of every HttpApi event in the template; `$default` apart.
fn template_routes() -> (Routes, Vec<String>) {
    let template = yaml("template.yaml");
    let mut routes = Routes::new();
    let mut default = Vec::new();
    for (name, resource) in template["Resources"].as_object().expect("Resources") {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} names no Binary"))
            .to_string();
        let Some(events) = resource["Properties"]["Events"].as_object() else { continue };
        for event in events.values().filter(|e| e["Type"] == "HttpApi") {
            let props = &event["Properties"];
            let path = props["Path"].as_str().expect("Path").to_string();
            if path == "$default" {
                default.push(binary.clone());
            } else {
                routes.insert((props["Method"].as_str().expect("Method").to_string(), path, binary.clone()));
            }
        }
    }
    (routes, default)
}

#[test]
fn template_routes_are_the_route_table() {
    let (routes, default) = template_routes();
    assert_eq!(routes, route_table(), "template.yaml HttpApi events vs shared/src/http/routes.rs");
    assert_eq!(default, vec![DEFAULT_FUNCTION.to_string()], "one $default route, on {DEFAULT_FUNCTION}");
}

#[test]
fn every_function_crate_is_deployed_and_every_deployed_binary_exists() {
    let template = yaml("template.yaml");
    let deployed: BTreeSet<String> = template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::Serverless::Function")
        .map(|r| r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_string())
        .collect();
    let crates: BTreeSet<String> = std::fs::read_dir(repo_root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(deployed, crates);
    for f in &deployed {
        let meta = &template["Resources"]
            .as_object()
            .unwrap()
            .values()
            .find(|r| r["Metadata"]["BuildProperties"]["Binary"] == f.as_str())
            .unwrap()["Metadata"];
        assert_eq!(meta["BuildMethod"], "rust-cargolambda", "{f}");
    }
}

#[test]
fn openapi_paths_are_the_route_table() {
    let spec = yaml("openapi.yaml");
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let built: BTreeSet<_> = ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    assert_eq!(documented, built, "openapi.yaml paths vs shared/src/http/routes.rs");
}

#[test]
fn the_local_router_sends_every_path_where_api_gateway_does() {
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).expect("Cargo.toml");
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"].as_table().expect("watch router");
    let local: BTreeSet<(String, String)> =
        router.iter().map(|(path, f)| (path.clone(), f.as_str().expect("function").to_string())).collect();
    let mut expected: BTreeSet<(String, String)> =
        ROUTES.iter().map(|r| (r.path.to_string(), r.function.to_string())).collect();
    expected.insert(("/{*path}".to_string(), DEFAULT_FUNCTION.to_string()));
    assert_eq!(local, expected, "Cargo.toml [workspace.metadata.lambda.watch.router] vs routes.rs");
}

#[test]
fn the_deployed_table_is_the_local_table() {
    let local: Value = serde_json::from_str(&read("infra/dynamodb/table.json")).expect("table.json");
    let template = yaml("template.yaml");
    let deployed = &template["Resources"]["BookingTable"]["Properties"];
    for key in ["AttributeDefinitions", "KeySchema", "LocalSecondaryIndexes", "GlobalSecondaryIndexes", "BillingMode"] {
        assert_eq!(local[key], deployed[key], "{key}: infra/dynamodb/table.json vs template.yaml BookingTable");
    }
    let extra: Vec<_> = local.as_object().unwrap().keys().filter(|k| deployed.get(k.as_str()).is_none()).collect();
    assert!(extra.is_empty(), "table.json sets what the template does not: {extra:?}");
    assert_eq!(deployed["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
}
