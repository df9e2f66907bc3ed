//! Who is an admin: never whoever registers in a deployed stack; the first admin granted by an
//! operator's command (`infra/grant-admin`), the rest by `PUT /api/admin/users/{id}/role`; and
//! the role stored on the user, read at each admin request, so a demotion bites at once.
use booking_tests::{repo_root, Api, Harness};
use serde_json::{json, Value};

async fn set_role(api: &Api, admin: &str, user_id: &str, role: Value) -> booking_tests::Reply {
    api.send("PUT", &format!("/api/admin/users/{user_id}/role"), json!({ "role": role }), Some(admin)).await
}

fn event_body() -> Value {
    let date = booking_shared::time::Timestamp::now().plus_seconds(86_400).text();
    json!({"name": "Roles", "eventDate": date, "totalSeats": 3})
}

/// A promotion and a demotion each take effect on the user's next request, with the token they
/// already hold: admin routes read the stored role, not the token's.
#[tokio::test]
async fn a_role_change_bites_on_the_next_request() {
    let h = Harness::new().await;
    let api = h.api();
    let admin = api.admin().await;
    let (token, user_id) = api.new_user().await;
    api.post("/api/events", event_body(), Some(&token)).await.expect_error(403, "FORBIDDEN");

    let promoted = set_role(&api, &admin, &user_id, json!("admin")).await;
    promoted.expect(200);
    assert_eq!((promoted.data()["_id"].as_str(), promoted.data()["role"].as_str()), (Some(&*user_id), Some("admin")));
    let created = api.post("/api/events", event_body(), Some(&token)).await;
    created.expect(201);
    let event_id = created.data()["_id"].as_str().expect("event id").to_string();
    api.get(&format!("/api/events/{event_id}/inventory"), Some(&token)).await.expect(200);
    // As an admin now, another user's lock is visible to them.
    let (other, _) = api.new_user().await;
    let lock = api.lock(&other, &event_id, 1, "seen-by-an-admin").await;
    let lock_path = format!("/api/locks/{}", lock.data()["_id"].as_str().expect("lock id"));
    api.get(&lock_path, Some(&token)).await.expect(200);

    set_role(&api, &admin, &user_id, json!("user")).await.expect(200);
    api.post("/api/events", event_body(), Some(&token)).await.expect_error(403, "FORBIDDEN");
    api.get(&format!("/api/events/{event_id}/inventory"), Some(&token)).await.expect_error(403, "FORBIDDEN");
    api.post("/api/admin/recovery", json!({}), Some(&token)).await.expect_error(403, "FORBIDDEN");
    set_role(&api, &token, &user_id, json!("admin")).await.expect_error(403, "FORBIDDEN");
    api.get(&lock_path, Some(&token)).await.expect_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn setting_a_role_refuses_what_names_nothing_and_what_is_no_role() {
    let h = Harness::new().await;
    let api = h.api();
    let admin = api.admin().await;
    let (_, user_id) = api.new_user().await;
    set_role(&api, &admin, "01ARZ3NDEKTSV4RRFFQ69G5FAV", json!("admin")).await.expect_error(404, "NOT_FOUND");
    set_role(&api, &admin, "not-a-user-id", json!("admin")).await.expect_error(404, "NOT_FOUND");
    for bad in [json!("root"), json!("ADMIN"), json!(1), Value::Null] {
        set_role(&api, &admin, &user_id, bad.clone()).await.expect_error(400, "VALIDATION_ERROR");
    }
    let extra = json!({"role": "admin", "userId": user_id});
    let r = api.send("PUT", &format!("/api/admin/users/{user_id}/role"), extra, Some(&admin)).await;
    r.expect_error(400, "VALIDATION_ERROR");
    let me = api.get("/api/users/me", Some(&api.user(&format!("x-{}@example.com", ulid::Ulid::new())).await.0)).await;
    assert_eq!(me.data()["role"], "user");
}

/// The operator's command for a deployment's first admin: by email, any case; the user's
/// current token is an admin's at once.
#[tokio::test]
async fn the_operator_command_grants_the_first_admin() {
    let h = Harness::new().await;
    let api = h.api();
    let email = format!("first-admin-{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    let (token, user_id) = api.user(&email).await;
    api.post("/api/events", event_body(), Some(&token)).await.expect_error(403, "FORBIDDEN");

    let granted =
        grant_admin::set_role_by_email(h.store(), &email.to_uppercase(), booking_shared::domain::user::Role::Admin)
            .await
            .expect("granted");
    assert_eq!((granted.id.as_str(), granted.role.as_str()), (user_id.as_str(), "admin"));
    api.post("/api/events", event_body(), Some(&token)).await.expect(201);

    let missing =
        grant_admin::set_role_by_email(h.store(), "nobody@example.com", booking_shared::domain::user::Role::Admin)
            .await
            .expect_err("no such user");
    assert!(missing.contains("no user is registered"), "{missing}");
}

/// Deployed, registration makes no admins: the template gives the functions no `ADMIN_EMAILS`
/// (it is the local stack's setting only).
#[test]
fn the_template_grants_no_admin_by_email() {
    let template = std::fs::read_to_string(repo_root().join("template.yaml")).expect("template.yaml");
    let settings: Vec<&str> = template.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    assert!(
        !settings.iter().any(|l| l.contains("ADMIN_EMAILS") || l.contains("AdminEmails")),
        "template.yaml sets ADMIN_EMAILS"
    );
}
