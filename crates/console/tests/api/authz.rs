//! The authorization matrix: every route of the table × anonymous, stranger, invitee, member, owner, administrator.
//! Built from `console::routes::ROUTES`, so a new route is checked as soon as it is in the table (and a route can
//! only be registered through the table).

use console::routes::{Guard, ROUTES};
use reqwest::Method;
use serde_json::json;
use store::console_db::strategies;

use crate::helpers::{refused, TestApp, ADMIN, PASSWORD};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    Stranger,
    Invitee,
    Member,
    Owner,
    Admin,
}

fn allowed(guard: Guard, who: Who) -> bool {
    use Who::*;
    match guard {
        Guard::Public | Guard::AgentSignature => true,
        Guard::User => who != Anonymous,
        Guard::Invitee => who == Invitee,
        Guard::Member | Guard::Strategy | Guard::File => matches!(who, Member | Owner | Admin),
        Guard::Owner => matches!(who, Owner | Admin),
        Guard::Admin => who == Admin,
    }
}

#[tokio::test]
async fn every_route_lets_in_exactly_who_its_guard_names() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let member = app.user("member@example.com").await;
    let invitee = app.user("invitee@example.com").await;
    let stranger = app.user("stranger@example.com").await;
    let extra = app.user("extra@example.com").await;
    let mut clients = [
        (Who::Anonymous, app.anonymous()),
        (Who::Stranger, app.sign_in(&stranger.name, PASSWORD).await),
        (Who::Invitee, app.sign_in(&invitee.name, PASSWORD).await),
        (Who::Member, app.sign_in(&member.name, PASSWORD).await),
        (Who::Owner, app.sign_in(&owner.name, PASSWORD).await),
        (Who::Admin, app.sign_in(ADMIN, PASSWORD).await),
    ];
    let mut checked = 0;
    for route in ROUTES.iter().filter(|r| !matches!(r.guard, Guard::Public | Guard::AgentSignature)) {
        for (who, client) in clients.iter_mut() {
            // A fresh app per request: allowed calls may delete or hand over the app.
            let n = checked;
            let id = app.team_app(&format!("app-{n}"), owner.id, Some(member.id), Some(invitee.id)).await;
            // And a fresh alarm rule in it, for the `Strategy` routes; the rule members make add and edit valid.
            let rule = strategies::Rule { context: "system_log", push: "p3", expression: "@load1 > 2", content: "load", webhook: None };
            let strategy = strategies::insert(&app.env.console_db(), id, &rule).await.unwrap();
            // … with a file in it, created on the agent (the file routes name it).
            let file = app.file(id, "cpuprofile", 1).await;
            let params = json!({
                "appId": id, "userId": member.id, "newAppName": format!("renamed-{n}"), "status": 1, "type": "myApps",
                "strategyId": strategy, "contextType": "system_log", "pushType": "p3", "customRuleExpr": "@load1 > 3",
                "customRuleDesc": "load is ${@load1}", "webhookPush": false, "webhookType": "dingtalk",
                "fileId": file, "fileType": "cpuprofile", "files": [{"fileId": file, "fileType": "cpuprofile", "status": 1, "index": 0}],
            });
            let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
            let (status, body) = client.call(method, route.path, params).await;
            assert!(status < 500, "{} {} as {who:?}: HTTP {status} {body}", route.method, route.path);
            let expected = allowed(route.guard, *who);
            assert_eq!(!refused(status, &body), expected, "{} {} ({:?}) as {who:?}: HTTP {status} {body}", route.method, route.path, route.guard);
            checked += 1;
        }
    }
    // The team invitation route takes an identity, not a database id: an extra user keeps it meaningful.
    let _ = extra;
    assert!(checked >= 6 * 10, "{checked}");
    let file_routes = ROUTES.iter().filter(|r| r.guard == Guard::File).count();
    assert!(file_routes >= 8, "the file routes are in the matrix: {file_routes}");
    app.finish().await;
}

/// The second pass: a signed-in stranger names an app, rule or file that exists but is not theirs, with the route's
/// own parameters left out or junk. Every guarded route refuses with 403 or 404 before it looks at them: never a
/// 400 that tells the stranger which parameters the route takes.
#[tokio::test]
async fn a_stranger_is_refused_before_the_routes_own_parameters_are_read() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let stranger = app.user("stranger@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let rule = strategies::Rule { context: "system_log", push: "p3", expression: "@load1 > 2", content: "load", webhook: None };
    let strategy = strategies::insert(&app.env.console_db(), id, &rule).await.unwrap();
    let file = app.file(id, "cpuprofile", 1).await;
    let mut client = app.sign_in(&stranger.name, PASSWORD).await;
    let guarded = [Guard::Invitee, Guard::Member, Guard::Owner, Guard::Strategy, Guard::File, Guard::Admin];
    let mut checked = 0;
    for route in ROUTES.iter().filter(|r| guarded.contains(&r.guard)) {
        let refs = json!({"appId": id, "strategyId": strategy, "fileId": file, "fileType": "cpuprofile"});
        let mut junk = refs.clone();
        for name in [
            "userId",
            "status",
            "newAppName",
            "type",
            "contextType",
            "pushType",
            "customRuleExpr",
            "customRuleDesc",
            "webhookPush",
            "currentPage",
            "pageSize",
            "agentId",
            "pid",
            "action",
            "trendType",
            "duration",
            "favor",
            "errorFile",
            "moduleFile",
            "downloadPath",
            "selectedTab",
            "filterType",
        ] {
            junk[name] = json!({"junk": [1, "x"]});
        }
        for params in [refs, junk] {
            let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
            let (status, body) = client.call(method, route.path, params.clone()).await;
            let code = body["code"].as_u64().unwrap_or(status as u64);
            assert!(
                matches!(code, 403 | 404) && !matches!(status, 400 | 401),
                "{} {} ({:?}) as a stranger with {params}: HTTP {status} {body}",
                route.method,
                route.path,
                route.guard
            );
            checked += 1;
        }
    }
    assert!(checked >= 2 * 40, "{checked}");
    app.finish().await;
}

#[tokio::test]
async fn public_routes_answer_anonymous_callers() {
    let app = TestApp::start().await;
    let mut anon = app.anonymous();
    // The UI's file routes (`/assets/{file:.+}`) take a file name: `ui.rs` checks them with the files of the build.
    let fixed = |r: &&console::routes::RouteSpec| !r.path.contains('{');
    for route in ROUTES.iter().filter(|r| r.guard == Guard::Public && r.method == actix_web::http::Method::GET).filter(fixed) {
        let (status, _) = anon.get(route.path, json!({})).await;
        assert!(status == 200 || route.path == "/readyz", "{} answered {status}", route.path);
    }
    anon.get("/xapi/user", json!({})).await;
    let metrics = reqwest::get(format!("{}/metrics", app.console.base)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"ezm_console_requests_total{route="/xapi/user",method="GET",status="401"} 1"#), "{metrics}");
    assert!(metrics.contains("ezm_console_request_duration_seconds_bucket"), "{metrics}");
    app.finish().await;
}
