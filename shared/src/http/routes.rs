//! Every route of the API and the function that serves it: the one list that the functions'
//! routers dispatch on, and that `template.yaml`, `openapi.yaml` and the local router in
//! `Cargo.toml` are checked against (`tests/tests/routes.rs`).
//!
//! API Gateway sends a request no route names to `$default`, served by [`DEFAULT_FUNCTION`];
//! whichever function gets a request it does not serve answers from this table: 405 if the path
//! is known with other methods, else 404.
use crate::Error;

/// What a route does: the name each function's handler dispatches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Register,
    Login,
    Me,
    CreateEvent,
    ListEvents,
    GetEvent,
    UpdateEvent,
    EventInventory,
    CancelEvent,
    CreateLock,
    GetLock,
    ReleaseLock,
    ConfirmLock,
    ListBookings,
    GetBooking,
    PayBooking,
    CancelBooking,
    RunRecovery,
    SetUserRole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// With `{name}` for a path parameter.
    pub path: &'static str,
    pub function: &'static str,
    pub operation: Operation,
}

const fn r(method: &'static str, path: &'static str, function: &'static str, operation: Operation) -> Route {
    Route { method, path, function, operation }
}

use Operation as Op;

pub const ROUTES: &[Route] = &[
    r("POST", "/api/users/register", "users-api", Op::Register),
    r("POST", "/api/users/login", "users-api", Op::Login),
    r("GET", "/api/users/me", "users-api", Op::Me),
    r("POST", "/api/events", "events-api", Op::CreateEvent),
    r("GET", "/api/events", "events-api", Op::ListEvents),
    r("GET", "/api/events/{id}", "events-api", Op::GetEvent),
    r("PATCH", "/api/events/{id}", "events-api", Op::UpdateEvent),
    r("GET", "/api/events/{id}/inventory", "events-api", Op::EventInventory),
    r("POST", "/api/events/{id}/cancel", "events-api", Op::CancelEvent),
    r("POST", "/api/locks", "locks-api", Op::CreateLock),
    r("GET", "/api/locks/{id}", "locks-api", Op::GetLock),
    r("DELETE", "/api/locks/{id}", "locks-api", Op::ReleaseLock),
    r("POST", "/api/bookings/confirm", "bookings-api", Op::ConfirmLock),
    r("GET", "/api/bookings", "bookings-api", Op::ListBookings),
    r("GET", "/api/bookings/{id}", "bookings-api", Op::GetBooking),
    r("POST", "/api/bookings/{id}/pay", "bookings-api", Op::PayBooking),
    r("POST", "/api/bookings/{id}/cancel", "bookings-api", Op::CancelBooking),
    r("POST", "/api/admin/recovery", "admin-api", Op::RunRecovery),
    r("PUT", "/api/admin/users/{id}/role", "admin-api", Op::SetUserRole),
];

/// Serves API Gateway's `$default` route: paths that no route names.
pub const DEFAULT_FUNCTION: &str = "users-api";

/// Matches a concrete path against a template; the parameters in order.
pub fn match_path(template: &str, path: &str) -> Option<Vec<String>> {
    let t: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let p: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = Vec::new();
    for (t, p) in t.iter().zip(&p) {
        if t.starts_with('{') && t.ends_with('}') {
            params.push((*p).to_string());
        } else if t != p {
            return None;
        }
    }
    Some(params)
}

/// The route for (method, path), preferring literal segments over parameters
/// (`/api/bookings/confirm` over `/api/bookings/{id}`).
pub fn resolve(method: &str, path: &str) -> Result<(&'static Route, Vec<String>), Error> {
    let mut candidates: Vec<(&'static Route, Vec<String>)> =
        ROUTES.iter().filter_map(|r| match_path(r.path, path).map(|p| (r, p))).collect();
    if candidates.is_empty() {
        return Err(Error::NotFound("route"));
    }
    // Fewest parameters first: a literal segment beats a parameter.
    candidates.sort_by_key(|(_, params)| params.len());
    let best = candidates[0].1.len();
    candidates
        .into_iter()
        .filter(|(_, params)| params.len() == best)
        .find(|(r, _)| r.method.eq_ignore_ascii_case(method))
        .ok_or_else(|| Error::MethodNotAllowed(method.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_literals_before_parameters() {
        let (route, params) = resolve("POST", "/api/bookings/confirm").unwrap();
        assert_eq!(route.path, "/api/bookings/confirm");
        assert!(params.is_empty());
        let (route, params) = resolve("GET", "/api/bookings/bk_1").unwrap();
        assert_eq!(route.path, "/api/bookings/{id}");
        assert_eq!(params, vec!["bk_1"]);
    }

    #[test]
    fn known_paths_with_other_methods_are_405_unknown_are_404() {
        assert_eq!(resolve("PUT", "/api/locks").unwrap_err().code(), "METHOD_NOT_ALLOWED");
        assert_eq!(resolve("GET", "/api/bookings/confirm").unwrap_err().code(), "METHOD_NOT_ALLOWED");
        assert_eq!(resolve("GET", "/api/nowhere").unwrap_err().code(), "NOT_FOUND");
        assert_eq!(resolve("GET", "/api/events/a/b/c").unwrap_err().code(), "NOT_FOUND");
    }

    #[test]
    fn every_route_and_every_operation_is_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{a:?} twice");
                assert_ne!(a.operation, b.operation, "{a:?} and {b:?}");
            }
        }
    }
}
