//! Signing in and out: sessions, HTTP Basic, the original's MD5 passwords, failure limits, CSRF, the first admin.

use reqwest::Method;
use serde_json::json;
use store::console_db::users;

use crate::helpers::{refused, Client, TestApp, ADMIN, PASSWORD};

#[tokio::test]
async fn a_session_signs_in_and_signing_out_ends_it_server_side() {
    let app = TestApp::start().await;
    let mut anon = app.anonymous();
    let (status, body) = anon.get("/xapi/user", json!({})).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!((&body["message"], &body["reason"]), (&json!("请先登录"), &json!("signInRequired")), "{body}");

    let mut admin = app.sign_in(ADMIN, PASSWORD).await;
    let (_, body) = admin.get("/xapi/user", json!({})).await;
    assert_eq!(body["data"]["admin"], true, "{body}");
    assert_eq!(body["data"]["name"], "root");
    assert_eq!(body["data"]["id"].as_str().map(str::len), Some(6), "the identity: {body}");

    let token = admin.session.clone().unwrap();
    let (_, body) = admin.call(Method::POST, "/xapi/signout", json!({})).await;
    assert_eq!(body["ok"], true);
    // The old cookie, replayed, no longer works: the session is gone from Redis.
    let mut replay = Client { base: app.console.base.clone(), session: Some(token), basic: None };
    let (status, _) = replay.get("/xapi/user", json!({})).await;
    assert_eq!(status, 401);
    // A forged session token is refused the same way.
    let mut forged = Client { base: app.console.base.clone(), session: Some("ab".repeat(32)), basic: None };
    assert_eq!(forged.get("/xapi/user", json!({})).await.0, 401);
    app.finish().await;
}

#[tokio::test]
async fn an_original_md5_password_works_once_and_is_upgraded_to_argon2id() {
    let app = TestApp::start().await;
    let db = app.env.console_db();
    // md5("123456"), as an original database holds it
    let new = users::NewUser { name: "old@example.com", nick: "old", pass: "e10adc3949ba59abbe56e057f20f883e", mail: "old@example.com" };
    users::insert(&db, &new, || "654321".into()).await.unwrap().unwrap();
    app.sign_in("old@example.com", "123456").await;
    let stored = users::by_name(&db, "old@example.com").await.unwrap().unwrap().pass;
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    app.sign_in("old@example.com", "123456").await;
    app.finish().await;
}

#[tokio::test]
async fn http_basic_works_for_scripts_and_can_be_turned_off() {
    let app = TestApp::start().await;
    let mut script = app.anonymous();
    script.basic = Some((ADMIN.into(), PASSWORD.into()));
    let (status, body) = script.get("/xapi/user", json!({})).await;
    assert_eq!((status, body["ok"].as_bool()), (200, Some(true)), "{body}");
    script.basic = Some((ADMIN.into(), "wrong".into()));
    let (status, _) = script.get("/xapi/user", json!({})).await;
    assert_eq!(status, 401);
    app.finish().await;

    let app = TestApp::start_with(&[("EZM__CONSOLE__BASIC_AUTH", "false")]).await;
    let mut script = app.anonymous();
    script.basic = Some((ADMIN.into(), PASSWORD.into()));
    assert_eq!(script.get("/xapi/user", json!({})).await.0, 401);
    app.finish().await;
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_account_with_a_clear_message() {
    let app = TestApp::start_with(&[("EZM__CONSOLE__SIGNIN_MAX_FAILURES_PER_ACCOUNT", "3")]).await;
    let mut anon = app.anonymous();
    for _ in 0..3 {
        let (status, body) = anon.call(Method::POST, "/xapi/signin", json!({"name": ADMIN, "password": "nope"})).await;
        assert_eq!(status, 401, "{body}");
    }
    let (status, body) = anon.call(Method::POST, "/xapi/signin", json!({"name": ADMIN, "password": PASSWORD})).await;
    assert_eq!(status, 429, "even the right password waits: {body}");
    assert!(body["message"].as_str().unwrap().contains("分钟后再试"), "{body}");
    assert_eq!((&body["reason"], body["args"]["minutes"].as_str().is_some()), (&json!("tooManyAttempts"), true), "the UI's key: {body}");
    app.finish().await;
}

#[tokio::test]
async fn state_changes_need_the_csrf_token_and_unknown_users_do_not_register_by_default() {
    let app = TestApp::start().await;
    let mut anon = app.anonymous();
    let (status, body) = anon.call_with(Method::POST, "/xapi/signin", json!({"name": ADMIN, "password": PASSWORD}), false).await;
    assert_eq!(status, 403, "{body}");
    assert!(anon.session.is_none());
    let (status, _) = anon.call(Method::POST, "/xapi/signin", json!({"name": "new@example.com", "password": "whatever"})).await;
    assert_eq!(status, 401, "self-registration is off by default");
    // A failed sign-in form must not ask for HTTP Basic credentials (a browser would pop up its own dialog).
    let form = reqwest::Client::new()
        .post(format!("{}/xapi/signin", app.console.base))
        .header("cookie", "csrfToken=t")
        .header("x-csrf-token", "t")
        .json(&json!({"name": ADMIN, "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 401);
    assert!(form.headers().get("www-authenticate").is_none());
    // The sign-in page sets the CSRF cookie for the form.
    let page = reqwest::get(format!("{}/signin", app.console.base)).await.unwrap();
    let cookie = page.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(cookie.starts_with("csrfToken=") && !cookie.contains("HttpOnly"), "{cookie}");
    app.finish().await;

    let app = TestApp::start_with(&[("EZM__CONSOLE__SELF_REGISTRATION", "true")]).await;
    let mut user = app.sign_in("john.doe@example.com", "a password").await;
    let (_, body) = user.get("/xapi/user", json!({})).await;
    assert_eq!((body["data"]["name"].as_str(), body["data"]["admin"].as_bool()), (Some("john.doe"), Some(false)), "{body}");
    assert!(!refused(200, &body));
    app.finish().await;
}

#[tokio::test]
async fn without_any_user_a_one_time_administrator_is_generated() {
    let env = common::testing::TestEnv::new(&[]).await;
    let console = console::testing::TestConsole::start(env.settings.clone(), &env.id).await;
    let db = env.console_db();
    let admin = users::by_name(&db, console::accounts::GENERATED_ADMIN).await.unwrap().expect("generated");
    assert!(admin.pass.starts_with("$argon2id$"));
    assert!(users::is_admin(&db, admin.id).await.unwrap());
    console.stop();
    env.finish().await;
}
