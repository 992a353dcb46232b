//! Apps, teams and settings through the API, as the original front-end drives them.

use reqwest::Method;
use serde_json::json;
use store::console_db::{apps, members};

use crate::helpers::{TestApp, PASSWORD};

#[tokio::test]
async fn an_app_is_created_with_its_agent_configuration_and_listed() {
    let app = TestApp::start().await;
    app.user("owner@example.com").await;
    let mut owner = app.sign_in("owner@example.com", PASSWORD).await;
    let (_, body) = owner.call(Method::POST, "/xapi/app", json!({"newAppName": "  shop  "})).await;
    let data = &body["data"];
    assert_eq!(data["appName"], "shop", "{body}");
    let id = data["appId"].as_u64().unwrap();
    let secret = data["appSecret"].as_str().unwrap();
    assert_eq!(secret.len(), 32);
    assert_eq!(data["agentConfig"]["appId"], id);
    assert_eq!(data["agentConfig"]["server"], "ws://127.0.0.1:9190");
    assert!(data["agentConfig"]["file"].as_str().unwrap().contains(secret));

    let (_, body) = owner.call(Method::POST, "/xapi/app", json!({"newAppName": "shop"})).await;
    assert_eq!((body["ok"].as_bool(), body["message"].as_str()), (Some(false), Some("不能创建重复应用")));
    assert_eq!(body["reason"], "duplicateApp", "a stable key next to the message, for the UI to translate: {body}");
    let (_, body) = owner.call(Method::POST, "/xapi/app", json!({"newAppName": ""})).await;
    assert_eq!((&body["code"], &body["reason"]), (&json!(400), &json!("appNameEmpty")), "{body}");

    let (_, body) = owner.get("/xapi/apps", json!({"type": "myApps"})).await;
    assert_eq!(body["data"]["list"], json!([{"name": "shop", "appId": id}]));
    let (_, body) = owner.get("/xapi/app", json!({"appId": id.to_string()})).await;
    assert_eq!(body["data"], json!({"appName": "shop", "currentUserIsOwner": true}));
    let (_, body) = owner.get("/xapi/settings", json!({"appId": id})).await;
    assert_eq!(body["data"]["secret"], secret);
    app.finish().await;
}

#[tokio::test]
async fn invitations_are_accepted_declined_and_ownership_moves() {
    let app = TestApp::start().await;
    let owner_user = app.user("owner@example.com").await;
    let guest = app.user("guest@example.com").await;
    let id = app.team_app("shop", owner_user.id, None, None).await;
    let mut owner = app.sign_in("owner@example.com", PASSWORD).await;
    let mut guest_c = app.sign_in("guest@example.com", PASSWORD).await;

    let (_, body) = owner.call(Method::POST, "/xapi/team_member", json!({"appId": id, "userId": owner_user.identity})).await;
    assert_eq!(body["message"], "您已经在团队中", "inviting yourself: {body}");
    let (_, body) = owner.call(Method::POST, "/xapi/team_member", json!({"appId": id, "userId": "000000"})).await;
    assert_eq!(body["message"], "用户 000000 不存在");
    assert_eq!((&body["reason"], &body["args"]), (&json!("userNotFound"), &json!({"user": "000000"})), "{body}");
    let (_, body) = owner.call(Method::POST, "/xapi/team_member", json!({"appId": id, "userId": guest.identity})).await;
    assert_eq!(body["ok"], true, "{body}");
    let (_, body) = owner.call(Method::POST, "/xapi/team_member", json!({"appId": id, "userId": guest.identity})).await;
    assert_eq!(body["message"], "不能重复邀请用户");

    // The guest sees the invitation, cannot enter the app yet, then accepts.
    let (_, body) = guest_c.get("/xapi/apps", json!({"type": "myApps"})).await;
    assert_eq!(body["data"]["invitations"], json!([{"appId": id, "appName": "shop", "ownerInfo": "owner"}]));
    let (_, body) = guest_c.get("/xapi/app", json!({"appId": id})).await;
    assert_eq!(body["code"], 403);
    let (_, body) = guest_c.call(Method::PUT, "/xapi/invitation", json!({"appId": id, "status": 1})).await;
    assert_eq!(body["ok"], true, "{body}");
    let (_, body) = guest_c.get("/xapi/apps", json!({"type": "joinedApps"})).await;
    assert_eq!(body["data"]["list"], json!([{"name": "shop", "appId": id}]));

    let (_, body) = owner.get("/xapi/team_members", json!({"appId": id})).await;
    let list = body["data"]["list"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{body}");
    assert_eq!(body["data"]["currentUserId"], owner_user.id);
    // Every row's time is real: the app's creation for the owner, the acceptance for the member (within this test's
    // minutes, never the epoch).
    let now_ms = chrono::Utc::now().timestamp_millis();
    for row in list {
        let ms = row["timestamp"].as_i64().unwrap_or_else(|| panic!("a time on every row: {body}"));
        assert!((now_ms - 600_000..=now_ms + 60_000).contains(&ms), "a time of this test: {row}");
    }

    // Ownership moves to the guest; the old owner stays as a member.
    let (_, body) = owner.call(Method::POST, "/xapi/team_ownership", json!({"appId": id, "userId": guest.id})).await;
    assert_eq!(body["ok"], true, "{body}");
    let db = app.env.console_db();
    assert_eq!(apps::by_id(&db, id).await.unwrap().unwrap().owner, guest.id);
    assert_eq!(members::status(&db, id, owner_user.id).await.unwrap(), Some(members::JOINED));
    let (_, body) = owner.get("/xapi/settings", json!({"appId": id})).await;
    assert_eq!(body["code"], 403, "no longer the owner: {body}");
    let (_, body) = owner.call(Method::DELETE, "/xapi/leave_team", json!({"appId": id})).await;
    assert_eq!(body["ok"], true);
    assert_eq!(members::status(&db, id, owner_user.id).await.unwrap(), None);
    app.finish().await;
}

#[tokio::test]
async fn renaming_rotating_and_deleting_an_app() {
    let app = TestApp::start().await;
    let owner_user = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner_user.id, None, None).await;
    app.team_app("other", owner_user.id, None, None).await;
    let mut owner = app.sign_in("owner@example.com", PASSWORD).await;
    let (_, body) = owner.call(Method::PUT, "/xapi/settings_app_name", json!({"appId": id, "newAppName": "other"})).await;
    assert_eq!((body["ok"].as_bool(), body["message"].as_str()), (Some(false), Some("不能创建重复应用")), "no 500: {body}");
    let (_, body) = owner.call(Method::PUT, "/xapi/settings_app_name", json!({"appId": id, "newAppName": "shop2"})).await;
    assert_eq!(body["ok"], true);

    let db = app.env.console_db();
    let before = apps::secret(&db, id).await.unwrap().unwrap();
    let (_, body) = owner.call(Method::PUT, "/xapi/settings_app_secret", json!({"appId": id})).await;
    let after = body["data"]["secret"].as_str().unwrap().to_owned();
    assert_ne!(before, after);
    assert_eq!(apps::secret(&db, id).await.unwrap().unwrap(), after);

    // Deleting takes the files, their stored objects and the alarm rules with their contacts along.
    std::fs::write(app.console.storage.join("u-1-u-x.cpuprofile"), b"gz").unwrap();
    let mut conn = db.get_conn().await.unwrap();
    use mysql_async::prelude::Queryable;
    conn.exec_drop("INSERT INTO files (app, agent, type, file, storage, user, status) VALUES (?, 'vm', 'cpuprofile', '/x', 'u-1-u-x.cpuprofile', 1, 3)", (id,))
        .await
        .unwrap();
    conn.exec_drop("INSERT INTO strategies (app, context, push, expression, content) VALUES (?, 'system_log', 'p3', '@load1 > 1', 'x')", (id,)).await.unwrap();
    let strategy = conn.last_insert_id().unwrap();
    conn.exec_drop("INSERT INTO contacts (strategy, user) VALUES (?, 1)", (strategy,)).await.unwrap();
    let (_, body) = owner.call(Method::DELETE, "/xapi/settings_app", json!({"appId": id})).await;
    assert_eq!(body["ok"], true, "{body}");
    for table in ["apps", "files", "strategies", "contacts"] {
        let n: u64 = conn
            .query_first(format!(
                "SELECT COUNT(*) FROM {table} WHERE {} = {}",
                if table == "contacts" {
                    "strategy"
                } else if table == "apps" {
                    "id"
                } else {
                    "app"
                },
                if table == "contacts" { strategy } else { id }
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    assert!(!app.console.storage.join("u-1-u-x.cpuprofile").exists());
    drop(conn);
    app.finish().await;
}
