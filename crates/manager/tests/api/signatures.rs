//! The signed-call contract: the original's reply shapes for unsigned, mis-signed and incomplete calls.

use serde_json::json;

use crate::helpers::TestManager;

#[actix_web::test]
async fn unsigned_mis_signed_and_incomplete_calls_get_the_original_replies() {
    let m = TestManager::start().await;
    let (status, body) = m.post_raw("/xtransit/app_secret", r#"{"appId":1}"#).await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"ok":false,"message":"需要签名","code":401}"#);

    let forged = format!(r#"{{"appId":1,"signature":"{}"}}"#, "0".repeat(40));
    let (status, body) = m.post_raw("/xtransit/app_secret", &forged).await;
    assert_eq!((status, body.as_str()), (200, r#"{"ok":false,"message":"签名错误","code":401}"#));

    let reply = m.call("/xtransit/update_client", json!({"appId": 1, "agentId": "a"})).await;
    assert_eq!(reply, json!({"ok": false, "message": "缺少参数", "code": 400}));

    let (status, _) = m.post_raw("/xtransit/nothing", "{}").await;
    assert_eq!(status, 404);
    m.finish().await;
}

#[actix_web::test]
async fn app_secret_answers_known_and_unknown_apps() {
    let m = TestManager::start().await;
    m.add_app(7, "s3cret").await;
    assert_eq!(m.call("/xtransit/app_secret", json!({"appId": "7"})).await, json!({"ok": true, "data": {"secret": "s3cret"}}));
    assert_eq!(m.call("/xtransit/app_secret", json!({"appId": 7})).await, json!({"ok": true, "data": {"secret": "s3cret"}}));
    assert_eq!(m.call("/xtransit/app_secret", json!({"appId": 8})).await, json!({"ok": true, "data": {}}));
    m.finish().await;
}

#[actix_web::test]
async fn an_unreachable_redis_gives_a_non_json_500_and_the_service_stays_up() {
    // Port 1 on loopback: nothing listens there.
    let m = TestManager::start_with(&[("EZM__REDIS__SERVERS", "127.0.0.1:1")]).await;
    let (status, body) = {
        let body = protocol::service::sign_body(
            secrecy::ExposeSecret::expose_secret(m.env.secret()).as_bytes(),
            &json!({"appId": 1, "agentId": "a", "clientId": "c", "server": "127.0.0.1:1", "timestamp": 1}),
        );
        m.post_raw("/xtransit/update_client", &body).await
    };
    assert_eq!(status, 500);
    assert!(serde_json::from_str::<serde_json::Value>(&body).is_err(), "not JSON, so an original ws-server never reads it as an answer: {body}");
    let health = reqwest::get(format!("{}/healthz", m.base)).await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(format!("{}/readyz", m.base)).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["console_mysql"], "ok");
    assert_ne!(body["redis"], "ok");
    // The settings point Redis at port 1, so finish() cannot clean Redis; nothing was written there.
    m.finish().await;
}
