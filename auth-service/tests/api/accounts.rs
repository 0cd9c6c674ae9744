//! Register, login, profile, password change.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn register_normalises_the_email_and_returns_the_user_without_secrets() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/api/auth/register",
            json!({"email": "  Alice@Example.COM ", "password": PASSWORD, "first_name": "Alice"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let user: serde_json::Value = response.json().await.unwrap();
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["first_name"], "Alice");
    assert_eq!(user["last_name"], serde_json::Value::Null);
    assert_eq!(user["role"], "user");
    assert_eq!(user["is_active"], true);
    let keys: Vec<&String> = user.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "created_at",
            "email",
            "first_name",
            "id",
            "is_active",
            "last_name",
            "role",
            "updated_at"
        ]
    );
    assert!(uuid::Uuid::parse_str(user["id"].as_str().unwrap()).is_ok());
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_taken_email_is_409_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.register("bob@example.com").await;
    let again = app
        .post(
            "/api/auth/register",
            json!({"email": "BOB@example.com ", "password": PASSWORD}),
        )
        .await;
    problem(again, 409).await;
}

#[tokio::test]
async fn passwords_follow_nist_800_63b() {
    let app = TestApp::spawn().await;
    for (password, why) in [
        ("short", "under 8 characters"),
        ("password1", "a common password"),
        ("Password123", "a common password, any case"),
        ("carol@example.com", "the email itself"),
    ] {
        let response = app
            .post(
                "/api/auth/register",
                json!({"email": "carol@example.com", "password": password}),
            )
            .await;
        let body = problem(response, 422).await;
        assert_eq!(error_fields(&body), ["password"], "{why}");
    }
    let long = "x".repeat(129);
    let body = problem(
        app.post(
            "/api/auth/register",
            json!({"email": "carol@example.com", "password": long}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&body), ["password"]);
    // 128 characters, multi-byte ones counted as one each, are fine.
    let long_ok = "é".repeat(128);
    let response = app
        .post(
            "/api/auth/register",
            json!({"email": "carol@example.com", "password": long_ok}),
        )
        .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn invalid_fields_are_422_naming_each_field() {
    let app = TestApp::spawn().await;
    for email in ["not-an-email", "a@localhost", "", "a b@example.com"] {
        let body = problem(
            app.post(
                "/api/auth/register",
                json!({"email": email, "password": PASSWORD}),
            )
            .await,
            422,
        )
        .await;
        assert_eq!(error_fields(&body), ["email"], "{email:?}");
    }
    let body = problem(
        app.post(
            "/api/auth/register",
            json!({"email": "x", "password": "short", "last_name": "n".repeat(101)}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&body), ["email", "password", "last_name"]);
    let body = problem(
        app.post(
            "/api/auth/register",
            json!({"email": 42, "password": PASSWORD}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&body), ["email"]);
    let body = problem(
        app.post("/api/auth/register", json!({"email": "d@example.com"}))
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&body), ["password"]);
}

#[tokio::test]
async fn malformed_json_is_400_and_other_media_types_415() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    problem(response, 400).await;
    let response = app
        .client
        .post(app.url("/api/auth/register"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(response, 415).await;
    let response = app
        .client
        .post(app.url("/api/auth/register"))
        .header("content-type", "application/json; charset=utf-8")
        .body(json!({"email": "e@example.com", "password": PASSWORD}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "a charset parameter is fine");
}

#[tokio::test]
async fn login_returns_the_contract_shape_and_tokens_of_the_contract() {
    let app = TestApp::spawn().await;
    let user = app.register("dave@example.com").await;
    let response = app.login("DAVE@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["id"], user["id"]);

    let access = body["access_token"].as_str().unwrap();
    let h = header(access);
    assert_eq!(h["alg"], "RS256");
    assert_eq!(h["typ"], "at+jwt");
    let c = claims(access);
    assert_eq!(c["iss"], "http://auth.test");
    assert_eq!(c["aud"], "todo-api");
    assert_eq!(c["sub"], user["id"]);
    assert_eq!(c["role"], "user");
    assert_eq!(c["email"], "dave@example.com");
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900);
    for claim in ["nbf", "jti", "sid"] {
        assert!(!c[claim].is_null(), "{claim}");
    }

    let refresh = body["refresh_token"].as_str().unwrap();
    assert_eq!(header(refresh)["typ"], "rt+jwt");
    let r = claims(refresh);
    assert_eq!(
        r["aud"], "http://auth.test",
        "a refresh token is for the issuer only"
    );
    assert_eq!(r["sid"], c["sid"]);
    assert_eq!(
        r["exp"].as_i64().unwrap() - r["iat"].as_i64().unwrap(),
        2_592_000
    );
    assert!(r.get("role").is_none() && r.get("email").is_none());
}

#[tokio::test]
async fn unknown_email_and_wrong_password_are_the_same_401_in_about_the_same_time() {
    let app = TestApp::spawn().await;
    app.register("erin@example.com").await;
    let wrong = app.login("erin@example.com", "not the password").await;
    let unknown = app.login("nobody@example.com", "not the password").await;
    let wrong = problem(wrong, 401).await;
    let unknown = problem(unknown, 401).await;
    assert_eq!(wrong, unknown);

    // Both paths run one argon2id verification; without the dummy hash the unknown email
    // would answer in a small fraction of the time.
    let mut wrong_times = Vec::new();
    let mut unknown_times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        app.login("erin@example.com", "not the password").await;
        wrong_times.push(start.elapsed());
        let start = Instant::now();
        app.login("nobody@example.com", "not the password").await;
        unknown_times.push(start.elapsed());
    }
    wrong_times.sort();
    unknown_times.sort();
    let (wrong, unknown) = (wrong_times[2], unknown_times[2]);
    assert!(
        unknown * 2 > wrong && wrong * 2 > unknown,
        "medians: wrong password {wrong:?}, unknown email {unknown:?}"
    );
}

#[tokio::test]
async fn a_deactivated_account_gets_403_after_a_correct_password_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin("root@example.com").await;
    let user = app.register("frank@example.com").await;
    let id = user["id"].as_str().unwrap();
    let response = app
        .patch(
            &format!("/api/admin/users/{id}"),
            &admin.access,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(response.status(), 200);
    problem(app.login("frank@example.com", PASSWORD).await, 403).await;
    problem(app.login("frank@example.com", "wrong password!").await, 401).await;
}

#[tokio::test]
async fn the_profile_is_read_and_its_names_changed() {
    let app = TestApp::spawn().await;
    let tokens = app.user("gina@example.com").await;
    let profile: serde_json::Value = app
        .get("/api/auth/profile", &tokens.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["email"], "gina@example.com");

    let response = app
        .patch(
            "/api/auth/profile",
            &tokens.access,
            json!({"first_name": " Gina ", "last_name": "Lopez"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let updated: serde_json::Value = response.json().await.unwrap();
    assert_eq!(updated["first_name"], "Gina");
    assert_eq!(updated["last_name"], "Lopez");
    assert_ne!(updated["updated_at"], profile["updated_at"]);

    let cleared: serde_json::Value = app
        .patch(
            "/api/auth/profile",
            &tokens.access,
            json!({"first_name": null}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["first_name"], serde_json::Value::Null);
    assert_eq!(
        cleared["last_name"], "Lopez",
        "absent fields are left alone"
    );

    let body = problem(
        app.patch(
            "/api/auth/profile",
            &tokens.access,
            json!({"first_name": "x".repeat(101)}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&body), ["first_name"]);
    problem(
        app.patch("/api/auth/profile", &tokens.access, json!({"last_name": 5}))
            .await,
        422,
    )
    .await;
}

#[tokio::test]
async fn bearer_endpoints_answer_401_with_the_rfc_6750_challenge() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/api/auth/profile"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    problem(response, 401).await;
    let response = app.get("/api/auth/profile", "garbage").await;
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    problem(response, 401).await;
    // A refresh token is not an access token.
    let tokens = app.user("hank@example.com").await;
    let response = app.get("/api/auth/profile", &tokens.refresh).await;
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    problem(response, 401).await;
}

#[tokio::test]
async fn changing_the_password_checks_the_current_one_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let here = app.user("ivy@example.com").await;
    let elsewhere = app.tokens("ivy@example.com", PASSWORD).await;

    let wrong = app
        .post_auth(
            "/api/auth/password/change",
            &here.access,
            json!({"current_password": "not it at all", "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(
        error_fields(&problem(wrong, 422).await),
        ["current_password"]
    );
    let weak = app
        .post_auth(
            "/api/auth/password/change",
            &here.access,
            json!({"current_password": PASSWORD, "new_password": "password"}),
        )
        .await;
    assert_eq!(error_fields(&problem(weak, 422).await), ["new_password"]);

    let response = app
        .post_auth(
            "/api/auth/password/change",
            &here.access,
            json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(response.status(), 204);

    problem(app.refresh(&elsewhere.refresh).await, 401).await;
    assert_eq!(
        app.refresh(&here.refresh).await.status(),
        200,
        "this session goes on"
    );
    problem(app.login("ivy@example.com", PASSWORD).await, 401).await;
    assert_eq!(
        app.login("ivy@example.com", "a brand new passphrase")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_hash_made_with_older_parameters_is_upgraded_at_the_next_login() {
    let db = std::sync::Arc::new(service_kit::test_db::TestDb::new().await);
    let mut weak = settings(&db);
    weak.argon2_memory_kib = 8_192;
    weak.argon2_iterations = 1;
    let mut old = TestApp::start(weak, std::sync::Arc::clone(&db)).await;
    old.register("jack@example.com").await;
    old.stop().await;

    let app = TestApp::start(settings(&db), std::sync::Arc::clone(&db)).await;
    let stored = || async {
        let conn = service_kit::db::connect(&service_kit::db::DbConfig::new(db.url.clone()))
            .await
            .unwrap();
        use sea_orm::EntityTrait;
        let users = auth_service::store::entities::user::Entity::find()
            .all(&conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        users[0].password_hash.clone()
    };
    assert!(stored().await.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"));
    assert_eq!(app.login("jack@example.com", PASSWORD).await.status(), 200);
    eventually("the hash is upgraded", || async {
        stored()
            .await
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    })
    .await;
    assert_eq!(app.login("jack@example.com", PASSWORD).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test]
async fn registration_ignores_a_role_in_the_body() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/api/auth/register",
            json!({"email": "mallory@example.com", "password": PASSWORD, "role": "admin", "is_active": true}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let user: serde_json::Value = response.json().await.unwrap();
    assert_eq!(user["role"], "user");
    let tokens = app.tokens("mallory@example.com", PASSWORD).await;
    assert_eq!(claims(&tokens.access)["role"], "user");
    problem(app.get("/api/admin/users", &tokens.access).await, 403).await;
}
