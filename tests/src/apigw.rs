//! What API Gateway (HTTP API, payload 2.0) does in front of the functions: picks the function
//! from the route table and hands it an event; here the functions' handlers are called
//! in-process with that event.
use std::collections::HashMap;

use base64::{engine::general_purpose::STANDARD, Engine};
use booking_shared::Deps;
use serde_json::{json, Value};

use crate::{Payload, Reply};

/// Which function serves a request: the gateway's routes, from the one route table; anything
/// else goes to the `$default` route.
pub fn function_for(method: &str, path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or("");
    booking_shared::http::routes::resolve(method, path)
        .map(|(route, _)| route.function)
        .unwrap_or(booking_shared::http::routes::DEFAULT_FUNCTION)
}

/// The API Gateway (HTTP API, payload 2.0) event for a request, as the gateway hands it to a
/// function.
pub fn apigw_event(method: &str, path: &str, payload: Payload, headers: &[(&str, &str)]) -> Value {
    let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
    let query_params: HashMap<String, String> =
        query.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let mut header_map: HashMap<String, String> =
        headers.iter().map(|(k, v)| (k.to_lowercase(), v.to_string())).collect();
    let (body, base64) = match payload {
        Payload::None => (Value::Null, false),
        Payload::Json(v) => {
            header_map.insert("content-type".into(), "application/json".into());
            (Value::String(v.to_string()), false)
        }
        Payload::Raw(bytes) => (Value::String(STANDARD.encode(bytes)), true),
    };
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": header_map,
        "queryStringParameters": query_params,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "localhost", "domainPrefix": "local",
            "http": { "method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "tests" },
            "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "24/Nov/2026:00:00:00 +0000", "timeEpoch": 0
        },
        "body": body,
        "isBase64Encoded": base64,
    })
}

pub(crate) async fn call_in_process(
    deps: &Deps,
    method: &str,
    path: &str,
    payload: Payload,
    headers: &[(&str, &str)],
) -> Reply {
    let event = apigw_event(method, path, payload, headers);
    let req = lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event");
    let resp = match function_for(method, path) {
        "users-api" => users_api::handle(deps, req).await,
        "events-api" => events_api::handle(deps, req).await,
        "locks-api" => locks_api::handle(deps, req).await,
        "bookings-api" => bookings_api::handle(deps, req).await,
        "admin-api" => admin_api::handle(deps, req).await,
        _ => panic!("no function serves {path}"),
    }
    .expect("handlers answer every request with a response");
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_lowercase(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = serde_json::from_slice(resp.body().as_ref())
        .unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(resp.body().as_ref()) }));
    Reply { status, body, headers }
}
