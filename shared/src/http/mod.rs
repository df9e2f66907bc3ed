//! The API Gateway edge shared by the HTTP functions: [`serve`] (the one way a function answers
//! a request: route, dispatch, respond), body and query parsing, bearer auth, and the
//! `{success, data}` envelope. Each error's status is the error's own (`Error::contract`).
//! Handlers return `Ok(response)` for every outcome the caller caused; only a failure of the
//! function itself would be an `Err` (and none is produced here).
use std::future::Future;

use lambda_http::http::header::{AUTHORIZATION, CONTENT_TYPE};
use lambda_http::http::HeaderValue;
pub use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use tracing::Instrument;

use crate::domain::user::Caller;
use crate::error::chain;
use crate::{Deps, Error};

pub mod routes;

pub use routes::Operation;

pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const DEFAULT_PAGE_LIMIT: i32 = 20;
pub const MAX_PAGE_LIMIT: i32 = 100;

/// A request matched to its route in [`routes::ROUTES`]: what to do, and the path's `{id}`.
#[derive(Debug, Clone)]
pub struct Matched {
    pub operation: Operation,
    params: Vec<String>,
}

impl Matched {
    /// The path's `{id}` (empty for a route without one).
    pub fn id(&self) -> &str {
        self.params.first().map(String::as_str).unwrap_or_default()
    }
}

/// The one way an HTTP function answers: the route table picks the operation (405 for a known
/// path with another method, 404 for an unknown path or another function's route), `dispatch`
/// does it, and every outcome becomes a response, logged once.
pub async fn serve<F, Fut>(
    function: &'static str,
    req: Request,
    dispatch: F,
) -> Result<Response<Body>, lambda_http::Error>
where
    F: FnOnce(Matched, Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Error>>,
{
    let span = tracing::info_span!("request", function, method = %req.method(), path = %req.uri().path());
    async move {
        let result = match route(&req, function) {
            Ok(matched) => dispatch(matched, req).await,
            Err(e) => Err(e),
        };
        Ok(respond(result))
    }
    .instrument(span)
    .await
}

/// What a function answers for an operation of the table that is not its own; [`serve`] never
/// dispatches one, so this only completes a `match`.
pub fn not_served(operation: Operation) -> Error {
    tracing::error!(?operation, "dispatched to a function that does not serve it");
    Error::NotFound("route")
}

fn json_response(status: StatusCode, body: Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `{"success": true, "data": ...}`
pub fn ok<T: Serialize>(status: StatusCode, data: &T) -> Result<Response<Body>, Error> {
    let data = serde_json::to_value(data).map_err(|e| Error::internal("response encoding failed", e))?;
    Ok(json_response(status, json!({ "success": true, "data": data })))
}

/// `{"success": true, "data": [...], "nextCursor": ...}`
pub fn page<T: Serialize>(items: &[T], next_cursor: Option<String>) -> Result<Response<Body>, Error> {
    let data = serde_json::to_value(items).map_err(|e| Error::internal("response encoding failed", e))?;
    Ok(json_response(StatusCode::OK, json!({ "success": true, "data": data, "nextCursor": next_cursor })))
}

/// `{"success": false, "error": {code, message}}`. A 500 is logged with its whole chain of
/// causes and answered without them.
pub fn error_response(e: &Error) -> Response<Body> {
    let (code, status) = e.contract();
    let message = match e {
        Error::Internal { .. } => {
            tracing::error!(error = %chain(e), "internal error");
            crate::telemetry::emit_metrics(&[(crate::telemetry::INTERNAL_ERRORS, 1)]);
            "internal error".to_string()
        }
        other => {
            tracing::info!(code, status = status.as_u16(), "request refused");
            other.to_string()
        }
    };
    let mut response =
        json_response(status, json!({ "success": false, "error": { "code": code, "message": message } }));
    if let Error::TooManyAttempts { retry_after_seconds } = e {
        crate::telemetry::emit_metrics(&[(crate::telemetry::LOGINS_THROTTLED, 1)]);
        let value = HeaderValue::from(*retry_after_seconds);
        response.headers_mut().insert(lambda_http::http::header::RETRY_AFTER, value);
    }
    response
}

pub fn respond(result: Result<Response<Body>, Error>) -> Response<Body> {
    result.unwrap_or_else(|e| error_response(&e))
}

/// The route this function serves for the request. A request for another function's route
/// (which the gateway never sends) is answered 404 like any unknown path.
fn route(req: &Request, function: &str) -> Result<Matched, Error> {
    let (route, params) = routes::resolve(req.method().as_str(), req.uri().path())?;
    if route.function != function {
        return Err(Error::NotFound("route"));
    }
    Ok(Matched { operation: route.operation, params })
}

fn body_bytes(req: &Request) -> Result<&[u8], Error> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Error::PayloadTooLarge);
    }
    Ok(bytes)
}

/// Parses a JSON object body into `T` (whose serde attributes reject unknown fields), whatever
/// the `Content-Type`. Syntax errors are `INVALID_JSON`; a wrong shape is `VALIDATION_ERROR`.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    let bytes = body_bytes(req)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::InvalidJson("a JSON body is required".into()));
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| Error::InvalidJson(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Error::validation("the body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| Error::validation(e.to_string()))
}

/// Like [`json_body`], but an empty body reads as `{}`.
pub fn optional_json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    if body_bytes(req)?.iter().all(u8::is_ascii_whitespace) {
        return serde_json::from_value(json!({})).map_err(|e| Error::validation(e.to_string()));
    }
    json_body(req)
}

/// The verified caller from `Authorization: Bearer <token>`.
pub fn caller(deps: &Deps, req: &Request) -> Result<Caller, Error> {
    let unauthorized = |m: &str| Error::Unauthorized(m.to_string());
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| unauthorized("an Authorization: Bearer <token> header is required"))?;
    let value = header.to_str().map_err(|_| unauthorized("the Authorization header is malformed"))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| unauthorized("the Authorization header must be 'Bearer <token>'"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(unauthorized("the Authorization header must be 'Bearer <token>'"));
    }
    deps.tokens.verify(token.trim())
}

/// The caller, who must be an admin now: the role stored on the user decides, not the one the
/// token was issued with, so a demotion bites on the next request (one `GetItem`).
pub async fn admin(deps: &Deps, req: &Request) -> Result<Caller, Error> {
    let caller = with_stored_role(deps, caller(deps, req)?).await?;
    if !caller.is_admin() {
        return Err(Error::Forbidden("this route is for admins only".into()));
    }
    Ok(caller)
}

/// `hold` if `caller` may see it: its owner, or an admin now (the stored role, read only when
/// the record is someone else's).
pub async fn visible_hold(
    deps: &Deps,
    caller: &Caller,
    hold: Option<crate::domain::hold::Hold>,
) -> Result<Option<crate::domain::hold::Hold>, Error> {
    match hold {
        Some(h) if h.lock.user_id != caller.user_id => {
            let now = with_stored_role(deps, caller.clone()).await?;
            Ok(Some(h).filter(|h| h.visible_to(&now)))
        }
        other => Ok(other),
    }
}

/// `caller` with the role stored on the user now (for reads an admin may make of others'
/// records). A user that no longer exists has no rights: `401`.
pub async fn with_stored_role(deps: &Deps, caller: Caller) -> Result<Caller, Error> {
    let user = deps.store.get_user(&caller.user_id).await?;
    let user = user.ok_or_else(|| Error::Unauthorized("the token's user no longer exists".into()))?;
    Ok(Caller { role: user.role, ..caller })
}

/// `?limit=` (1..=100, default 20) and `?cursor=`.
pub fn page_params(req: &Request) -> Result<(i32, Option<String>), Error> {
    let query = req.query_string_parameters();
    let limit = match query.first("limit") {
        None => DEFAULT_PAGE_LIMIT,
        Some(raw) => raw
            .parse::<i32>()
            .ok()
            .filter(|l| (1..=MAX_PAGE_LIMIT).contains(l))
            .ok_or_else(|| Error::validation(format!("limit must be an integer from 1 to {MAX_PAGE_LIMIT}")))?,
    };
    let cursor = query.first("cursor").filter(|c| !c.is_empty()).map(str::to_string);
    Ok((limit, cursor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Thing {
        #[allow(dead_code)]
        n: i64,
    }

    fn req(body: &str) -> Request {
        let mut r = Request::new(Body::Text(body.to_string()));
        *r.method_mut() = lambda_http::http::Method::POST;
        r
    }

    #[test]
    fn body_errors_have_the_contract_codes() {
        assert_eq!(json_body::<Thing>(&req("{")).unwrap_err().code(), "INVALID_JSON");
        assert_eq!(json_body::<Thing>(&req("")).unwrap_err().code(), "INVALID_JSON");
        assert_eq!(json_body::<Thing>(&req("[1]")).unwrap_err().code(), "VALIDATION_ERROR");
        assert_eq!(json_body::<Thing>(&req(r#"{"n":"1"}"#)).unwrap_err().code(), "VALIDATION_ERROR");
        assert_eq!(json_body::<Thing>(&req(r#"{"n":1,"x":2}"#)).unwrap_err().code(), "VALIDATION_ERROR");
        assert_eq!(json_body::<Thing>(&req(r#"{"n":1e400}"#)).unwrap_err().code(), "INVALID_JSON");
        assert_eq!(json_body::<Thing>(&req(&"[".repeat(10_000))).unwrap_err().code(), "INVALID_JSON");
        let big = format!(r#"{{"n":1,"pad":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(json_body::<Thing>(&req(&big)).unwrap_err().code(), "PAYLOAD_TOO_LARGE");
        assert!(json_body::<Thing>(&req(r#"{"n":1}"#)).is_ok());
        let invalid_utf8 = Request::new(Body::Binary(vec![b'{', 0xff, 0xfe, b'}']));
        assert_eq!(json_body::<Thing>(&invalid_utf8).unwrap_err().code(), "INVALID_JSON");
    }

    #[test]
    fn internal_errors_hide_their_detail() {
        let r = error_response(&Error::internal("the store failed", "secret table name".to_string()));
        assert_eq!(r.status(), 500);
        let body = String::from_utf8(r.body().to_vec()).unwrap();
        assert!(!body.contains("secret"));
        assert!(body.contains("INTERNAL"));
    }
}
