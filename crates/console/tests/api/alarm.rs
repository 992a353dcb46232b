//! Alarm rules, their contacts and history through the API, as the original front-end drives them (xui #41–#49),
//! with alarm rows written straight into the logs database's day tables the way the manager does.

use chrono::{DateTime, Datelike, Local, SecondsFormat, TimeDelta, Utc};
use mysql_async::prelude::Queryable;
use reqwest::Method;
use serde_json::{json, Value};
use store::console_db::strategies;

use crate::helpers::{Client, TestApp, PASSWORD};

/// The logs database as the manager creates it (the console only reads it).
async fn logs_db(app: &TestApp) -> mysql_async::Pool {
    common::mysql::ensure_database(&app.env.settings.logs_mysql).await.unwrap();
    let pool = app.env.logs_db();
    store::schema::ensure_logs(&pool).await.unwrap();
    pool
}

/// An alarm of `strategy` raised at `at`, in the day table of that day (call in time order, as alarms happen).
async fn raise(logs: &mysql_async::Pool, strategy: u64, agent: &str, pid: Option<i64>, at: DateTime<Local>, message: &str) {
    raise_into(logs, at.day(), strategy, agent, pid, at, message).await;
}

async fn raise_into(logs: &mysql_async::Pool, day: u32, strategy: u64, agent: &str, pid: Option<i64>, at: DateTime<Local>, message: &str) {
    let mut conn = logs.get_conn().await.unwrap();
    let sql = format!("INSERT INTO alarm_{day:02} (strategy, agent, message, pid, gm_create) VALUES (?, ?, ?, ?, FROM_UNIXTIME(?))");
    conn.exec_drop(sql, (strategy, agent, message, pid, at.timestamp())).await.unwrap();
}

/// `time` as the original rendered `gm_create`.
fn iso(at: DateTime<Local>) -> String {
    DateTime::<Utc>::from_timestamp(at.timestamp(), 0).unwrap().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn rule(app_id: u64, context: &str, expression: &str) -> Value {
    json!({
        "appId": app_id, "contextType": context, "pushType": "p3", "customRuleExpr": expression,
        "customRuleDesc": format!("fired: {expression}"), "webhookPush": false, "webhookType": "dingtalk",
    })
}

async fn add_rule(client: &mut Client, body: Value) -> u64 {
    let (_, reply) = client.call(Method::POST, "/xapi/alarm_strategy", body).await;
    assert_eq!(reply["ok"], true, "{reply}");
    reply["data"]["strategyId"].as_u64().expect("the new rule's id")
}

fn merged(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[tokio::test]
async fn rules_are_added_listed_with_their_day_counts_edited_and_toggled() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let member = app.user("member@example.com").await;
    let id = app.team_app("shop", owner.id, Some(member.id), None).await;
    let logs = logs_db(&app).await;
    let mut client = app.sign_in(&member.name, PASSWORD).await;

    let cpu = add_rule(&mut client, rule(id, "system_log", "@os_cpu_usage > 80")).await;
    let hook = "https://oapi.dingtalk.com/robot/send?access_token=abc";
    let heap = add_rule(
        &mut client,
        merged(
            rule(id, "xprofiler_log", "@heap_used / @heap_limit > 0.7"),
            json!({"pushType": "p1", "webhookPush": true, "webhookAddress": hook, "webhookSign": "SEC1", "autoAction": "heapsnapshot"}),
        ),
    )
    .await;
    // Each change tells the managers' alarm engines to re-read the app's rules.
    let key = store::keys::Keys::new(app.env.settings.redis.key_prefix.clone()).alarm_rules_version(&id.to_string());
    let mut conn = app.env.redis().get().await.unwrap();
    let version: Option<u64> = deadpool_redis::redis::cmd("GET").arg(&key).query_async(&mut conn).await.unwrap();
    assert_eq!(version, Some(2), "two rules added");
    drop(conn);
    let now = Local::now();
    raise(&logs, cpu, "host-1", None, now - TimeDelta::days(3), "old").await;
    raise(&logs, cpu, "host-1", None, now - TimeDelta::hours(2), "a").await;
    raise(&logs, heap, "host-1", Some(42), now - TimeDelta::minutes(30), "b").await;
    raise(&logs, cpu, "host-1", None, now - TimeDelta::minutes(5), "c").await;

    // #41: newest first, with the alarms of the last 24 hours.
    let (_, body) = client.get("/xapi/alarm_strategies", json!({"appId": id})).await;
    let list = body["data"]["list"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0],
        json!({
            "strategyId": heap, "contextType": "xprofiler_log", "pushType": "p1", "expression": "@heap_used / @heap_limit > 0.7",
            "alarmContent": "fired: @heap_used / @heap_limit > 0.7", "status": 1, "webhookPush": true, "webhookType": "dingtalk",
            "webhookAddress": hook, "webhookSign": "SEC1", "alarmCount": 1, "autoAction": "heapsnapshot",
        })
    );
    assert_eq!(list[1]["autoAction"], "", "no automatic action");
    assert_eq!((list[1]["strategyId"].as_u64(), list[1]["alarmCount"].as_u64()), (Some(cpu), Some(2)), "the 3-day-old alarm is not counted");
    assert_eq!((list[1]["webhookPush"].as_bool(), list[1]["webhookType"].as_str()), (Some(false), Some("")), "no webhook: stored empty");

    // #43: the edit form sends no appId.
    let feishu = "https://open.feishu.cn/open-apis/bot/v2/hook/x";
    let edit = json!({
        "strategyId": cpu, "contextType": "system_log", "pushType": "p2", "customRuleExpr": "@os_cpu_usage > 90",
        "customRuleDesc": "cpu ${@os_cpu_usage}", "webhookPush": true, "webhookType": "feishu", "webhookAddress": feishu,
    });
    let (_, body) = client.call(Method::PUT, "/xapi/alarm_strategy", edit.clone()).await;
    assert_eq!(body["ok"], true, "{body}");
    let db = app.env.console_db();
    let stored = strategies::by_id(&db, cpu).await.unwrap().unwrap();
    assert_eq!((stored.app, stored.push.as_str(), stored.expression.as_str()), (id, "p2", "@os_cpu_usage > 90"));
    assert_eq!((stored.webhook, stored.wtype.as_str(), stored.waddress.as_str(), stored.wsign.as_str()), (true, "feishu", feishu, ""));
    // Turning the webhook off empties its columns, whatever else the form still carries.
    let (_, body) = client.call(Method::PUT, "/xapi/alarm_strategy", merged(edit, json!({"webhookPush": false, "webhookSign": "x"}))).await;
    assert_eq!(body["ok"], true, "{body}");
    let stored = strategies::by_id(&db, cpu).await.unwrap().unwrap();
    assert_eq!((stored.webhook, stored.wtype.as_str(), stored.waddress.as_str(), stored.wsign.as_str()), (false, "", "", ""));

    // #45: disable, enable; asking for the status a rule already has is refused with the right word.
    let toggle = |status: u64| json!({"strategyId": cpu, "status": status});
    let (_, body) = client.call(Method::PUT, "/xapi/alarm_strategy_status", toggle(0)).await;
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(strategies::by_id(&db, cpu).await.unwrap().unwrap().status, 0);
    let (_, body) = client.call(Method::PUT, "/xapi/alarm_strategy_status", toggle(0)).await;
    assert_eq!((body["ok"].as_bool(), body["message"].as_str()), (Some(false), Some("此规则已经禁用")), "{body}");
    let (_, body) = client.call(Method::PUT, "/xapi/alarm_strategy_status", toggle(1)).await;
    assert_eq!(body["ok"], true, "{body}");
    let (_, body) = client.call(Method::PUT, "/xapi/alarm_strategy_status", toggle(1)).await;
    assert_eq!((body["ok"].as_bool(), body["message"].as_str()), (Some(false), Some("此规则已经启用")), "{body}");
    let (_, body) = client.call(Method::PUT, "/xapi/alarm_strategy_status", toggle(2)).await;
    assert_eq!(body["code"], 400, "{body}");
    assert_eq!(strategies::by_id(&db, cpu).await.unwrap().unwrap().status, 1);
    app.finish().await;
}

#[tokio::test]
async fn invalid_rules_are_refused_with_a_message_naming_the_member() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let mut client = app.sign_in(&owner.name, PASSWORD).await;
    let base = rule(id, "system_log", "@load1 > 2");
    let hook = |extra: Value| merged(json!({"webhookPush": true, "webhookAddress": "https://hooks.slack.com/services/T/B/x"}), extra);
    let cases = [
        (json!({"contextType": "cpu_log"}), "contextType"),
        (json!({"pushType": "p5"}), "pushType"),
        (json!({"customRuleExpr": "  "}), "customRuleExpr"),
        (json!({"customRuleExpr": "x".repeat(151)}), "customRuleExpr"),
        (json!({"customRuleDesc": ""}), "customRuleDesc"),
        (json!({"customRuleDesc": "告".repeat(151)}), "customRuleDesc"),
        (hook(json!({"webhookType": "msteams"})), "webhookType"),
        (hook(json!({"webhookType": "slack", "webhookAddress": "ftp://hooks.example/x"})), "webhookAddress"),
        (hook(json!({"webhookType": "webhook", "webhookAddress": "javascript:alert(1)"})), "webhookAddress"),
        (hook(json!({"webhookType": "dingtalk", "webhookAddress": "https://x.example/".to_owned() + &"a".repeat(200)})), "webhookAddress"),
        (hook(json!({"webhookType": "qywx", "webhookSign": "s".repeat(101)})), "webhookSign"),
        (json!({"webhookPush": "maybe"}), "webhookPush"),
        (json!({"autoAction": "heapsnapshot"}), "autoAction needs an xprofiler_log rule"),
        (json!({"contextType": "xprofiler_log", "autoAction": "shell"}), "autoAction must be one of"),
        (json!({"customRuleExpr": "@load1 >> 2"}), "customRuleExpr is not a valid expression: expected a value, found '>' at character 9"),
        (json!({"customRuleDesc": "load ${@load1"}), "customRuleDesc is not a valid message template: '${' is never closed by '}' at character 6"),
    ];
    for (extra, field) in cases {
        let (status, body) = client.call(Method::POST, "/xapi/alarm_strategy", merged(base.clone(), extra.clone())).await;
        assert_eq!((status, body["ok"].as_bool(), body["code"].as_u64()), (200, Some(false), Some(400)), "{extra}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(field), "{extra}: {message:?} names {field}");
    }
    let (_, body) = client.call(Method::POST, "/xapi/alarm_strategy", json!({"appId": id, "contextType": "system_log"})).await;
    assert_eq!((body["code"].as_u64(), body["message"].as_str()), (Some(400), Some("缺少参数")), "{body}");
    // A rule at the columns' sizes (in characters, not bytes) is stored; an edit is checked the same way.
    let full =
        add_rule(&mut client, merged(base.clone(), json!({"customRuleExpr": format!("@a == '{}'", "告".repeat(142)), "customRuleDesc": "d".repeat(150)})))
            .await;
    let edit = merged(base, json!({"strategyId": full, "pushType": "P3"}));
    let (_, body) = client.call(Method::PUT, "/xapi/alarm_strategy", edit).await;
    assert!(body["message"].as_str().is_some_and(|m| m.contains("pushType")), "{body}");
    let (_, body) = client.get("/xapi/alarm_strategies", json!({"appId": id})).await;
    assert_eq!(body["data"]["list"].as_array().map(Vec::len), Some(1), "only the valid rule: {body}");
    assert_eq!(body["data"]["list"][0]["pushType"], "p3", "the refused edit changed nothing");
    app.finish().await;
}

#[tokio::test]
async fn contacts_are_the_apps_people_and_go_with_their_rule() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let member = app.user("member@example.com").await;
    let invitee = app.user("invitee@example.com").await;
    let stranger = app.user("stranger@example.com").await;
    let id = app.team_app("shop", owner.id, Some(member.id), Some(invitee.id)).await;
    let mut client = app.sign_in(&owner.name, PASSWORD).await;
    let strategy = add_rule(&mut client, rule(id, "error_log", "@error_type == \"TypeError\"")).await;
    let person = |u: &store::console_db::users::User| json!({"userId": u.id, "userInfo": u.nick});

    // #46: nobody yet; the owner and everyone with a members row (invited too) may be added.
    let (_, body) = client.get("/xapi/alarm_strategy_contacts", json!({"strategyId": strategy})).await;
    assert_eq!(body["data"], json!({"contacts": [], "remainMembers": [person(&owner), person(&member), person(&invitee)]}));

    // #47
    let contact = |user: u64| json!({"strategyId": strategy, "userId": user});
    for user in [member.id, invitee.id] {
        let (_, body) = client.call(Method::POST, "/xapi/alarm_strategy_contact", contact(user)).await;
        assert_eq!(body["ok"], true, "{body}");
    }
    let (status, body) = client.call(Method::POST, "/xapi/alarm_strategy_contact", contact(member.id)).await;
    assert_eq!((status, body["ok"].as_bool()), (200, Some(false)), "a duplicate is a refusal, not a 500: {body}");
    assert_eq!(body["message"], format!("用户 {} 已经是此规则的联系人", member.id));
    let (_, body) = client.call(Method::POST, "/xapi/alarm_strategy_contact", contact(stranger.id)).await;
    assert_eq!(body["message"], format!("用户 {} 不在此应用成员列表中", stranger.id), "{body}");
    let (_, body) = client.get("/xapi/alarm_strategy_contacts", json!({"strategyId": strategy.to_string()})).await;
    assert_eq!(body["data"], json!({"contacts": [person(&member), person(&invitee)], "remainMembers": [person(&owner)]}));

    // #48
    let (_, body) = client.call(Method::DELETE, "/xapi/alarm_strategy_contact", contact(invitee.id)).await;
    assert_eq!(body["ok"], true, "{body}");
    let (_, body) = client.call(Method::DELETE, "/xapi/alarm_strategy_contact", contact(invitee.id)).await;
    assert_eq!(body["message"], format!("用户 {} 不是此规则的联系人", invitee.id), "{body}");

    // #44: the rule goes with its contacts (the original left them behind).
    let db = app.env.console_db();
    let mut conn = db.get_conn().await.unwrap();
    let contacts = |n: u64| format!("SELECT COUNT(*) FROM contacts WHERE strategy = {n}");
    assert_eq!(conn.query_first::<u64, _>(contacts(strategy)).await.unwrap(), Some(1));
    let (_, body) = client.call(Method::DELETE, "/xapi/alarm_strategy", json!({"strategyId": strategy})).await;
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(conn.query_first::<u64, _>(contacts(strategy)).await.unwrap(), Some(0));
    assert_eq!(strategies::by_id(&db, strategy).await.unwrap(), None);
    let (_, body) = client.get("/xapi/alarm_strategy_contacts", json!({"strategyId": strategy})).await;
    assert_eq!((body["code"].as_u64(), body["message"].as_str()), (Some(404), Some("规则不存在")), "{body}");
    drop(conn);
    app.finish().await;
}

#[tokio::test]
async fn history_pages_run_newest_first_across_the_retained_day_tables() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let logs = logs_db(&app).await;
    let mut client = app.sign_in(&owner.name, PASSWORD).await;
    let strategy = add_rule(&mut client, rule(id, "xprofiler_log", "@cpu_60 > 90")).await;
    let other = add_rule(&mut client, rule(id, "xprofiler_log", "@gc_60 > 15")).await;

    let now = Local::now();
    let old = [now - TimeDelta::days(3) - TimeDelta::hours(1), now - TimeDelta::days(3)];
    let recent = [now - TimeDelta::minutes(30), now - TimeDelta::minutes(20), now - TimeDelta::minutes(10)];
    // Outside the window: a row of 8 days ago, and a month-old row still in today's table (the ring's previous turn).
    raise_into(&logs, now.day(), strategy, "host-1", Some(1), now - TimeDelta::days(31), "stale").await;
    raise(&logs, strategy, "host-1", Some(1), now - TimeDelta::days(8), "expired").await;
    for (i, at) in old.iter().enumerate() {
        raise(&logs, strategy, "host-2", Some(7), *at, &format!("old {i}")).await;
    }
    for (i, at) in recent.iter().enumerate() {
        raise(&logs, strategy, "host-1", Some(42), *at, &format!("recent {i}")).await;
    }
    raise(&logs, other, "host-1", Some(42), now - TimeDelta::minutes(5), "another rule").await;

    let page = |n: u64| json!({"strategyId": strategy, "currentPage": n, "pageSize": 2});
    let contents = |body: &Value| -> Vec<String> {
        body["data"]["list"].as_array().unwrap_or_else(|| panic!("{body}")).iter().map(|a| a["alarmContent"].as_str().unwrap().to_owned()).collect()
    };
    let (_, body) = client.get("/xapi/alarm_strategy_history", page(1)).await;
    assert_eq!(body["data"]["count"], 5, "{body}");
    assert_eq!(contents(&body), ["recent 2", "recent 1"]);
    assert_eq!(
        body["data"]["list"][0],
        json!({
            "time": iso(recent[2]), "contextType": "xprofiler_log", "agentId": "host-1", "alarmContent": "recent 2",
            "detailPath": format!("/app/{id}/instance?tab=process&agentId=host-1&pid=42"), "appInfo": id,
        })
    );
    let (_, body) = client.get("/xapi/alarm_strategy_history", page(2)).await;
    assert_eq!(contents(&body), ["recent 0", "old 1"], "a page across two day tables");
    assert_eq!(body["data"]["list"][1]["time"], iso(old[1]));
    assert_eq!(body["data"]["list"][1]["detailPath"], format!("/app/{id}/instance?tab=process&agentId=host-2&pid=7"));
    let (_, body) = client.get("/xapi/alarm_strategy_history", page(3)).await;
    assert_eq!((contents(&body), body["data"]["count"].as_u64()), (vec!["old 0".to_owned()], Some(5)));
    let (_, body) = client.get("/xapi/alarm_strategy_history", page(4)).await;
    assert_eq!((contents(&body), body["data"]["count"].as_u64()), (Vec::<String>::new(), Some(5)));
    // The front-end's own page size, and the defaults.
    let (_, body) = client.get("/xapi/alarm_strategy_history", json!({"strategyId": strategy, "currentPage": 1, "pageSize": 50})).await;
    assert_eq!(contents(&body), ["recent 2", "recent 1", "recent 0", "old 1", "old 0"]);
    let (_, body) = client.get("/xapi/alarm_strategy_history", json!({"strategyId": strategy})).await;
    assert_eq!(body["data"]["count"], 5);
    for bad in [json!({"currentPage": 0}), json!({"pageSize": 0}), json!({"pageSize": 100_000})] {
        let (_, body) = client.get("/xapi/alarm_strategy_history", merged(json!({"strategyId": strategy}), bad.clone())).await;
        assert_eq!(body["code"], 400, "{bad}: {body}");
    }

    // The list counts only the last 24 hours.
    let (_, body) = client.get("/xapi/alarm_strategies", json!({"appId": id})).await;
    let counts: Vec<(u64, u64)> =
        body["data"]["list"].as_array().unwrap().iter().map(|s| (s["strategyId"].as_u64().unwrap(), s["alarmCount"].as_u64().unwrap())).collect();
    assert_eq!(counts, [(other, 1), (strategy, 3)]);
    app.finish().await;
}

#[tokio::test]
async fn without_the_managers_logs_database_rules_still_list_with_no_history() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let mut client = app.sign_in(&owner.name, PASSWORD).await;
    let strategy = add_rule(&mut client, rule(id, "system_log", "@load1 > 2")).await;
    let (_, body) = client.get("/xapi/alarm_strategies", json!({"appId": id})).await;
    assert_eq!(body["data"]["list"][0]["alarmCount"], 0, "{body}");
    let (_, body) = client.get("/xapi/alarm_strategy_history", json!({"strategyId": strategy, "currentPage": 1, "pageSize": 50})).await;
    assert_eq!(body["data"], json!({"list": [], "count": 0}), "{body}");
    app.finish().await;
}

#[tokio::test]
async fn a_member_of_one_app_cannot_reach_the_rules_of_another() {
    let app = TestApp::start().await;
    let owner_a = app.user("a@example.com").await;
    let owner_b = app.user("b@example.com").await;
    let member_a = app.user("member-a@example.com").await;
    let app_a = app.team_app("a", owner_a.id, Some(member_a.id), None).await;
    let app_b = app.team_app("b", owner_b.id, None, None).await;
    let mut b = app.sign_in(&owner_b.name, PASSWORD).await;
    let rule_b = add_rule(&mut b, rule(app_b, "system_log", "@load1 > 2")).await;
    let mut a = app.sign_in(&member_a.name, PASSWORD).await;
    add_rule(&mut a, rule(app_a, "system_log", "@load1 > 4")).await;

    let edit = merged(rule(app_a, "system_log", "@load1 > 9"), json!({"strategyId": rule_b}));
    let calls = [
        (Method::PUT, "/xapi/alarm_strategy", edit),
        (Method::PUT, "/xapi/alarm_strategy_status", json!({"strategyId": rule_b, "status": 0})),
        (Method::DELETE, "/xapi/alarm_strategy", json!({"strategyId": rule_b})),
        (Method::GET, "/xapi/alarm_strategy_history", json!({"strategyId": rule_b, "currentPage": 1, "pageSize": 50})),
        (Method::GET, "/xapi/alarm_strategy_contacts", json!({"strategyId": rule_b})),
        (Method::POST, "/xapi/alarm_strategy_contact", json!({"strategyId": rule_b, "userId": member_a.id})),
        (Method::DELETE, "/xapi/alarm_strategy_contact", json!({"strategyId": rule_b, "userId": owner_b.id})),
    ];
    for (method, path, params) in calls {
        let (_, body) = a.call(method.clone(), path, params.clone()).await;
        assert_eq!((body["code"].as_u64(), body["message"].as_str()), (Some(403), Some("您没有此规则的访问权限")), "{method} {path}: {body}");
        let missing = merged(params, json!({"strategyId": 999_999}));
        let (_, body) = a.call(method.clone(), path, missing).await;
        assert_eq!((body["code"].as_u64(), body["message"].as_str()), (Some(404), Some("规则不存在")), "{method} {path}: {body}");
    }
    let (_, body) = a.get("/xapi/alarm_strategies", json!({"appId": app_b})).await;
    assert_eq!(body["code"], 403, "{body}");
    let (_, body) = a.call(Method::POST, "/xapi/alarm_strategy", rule(app_b, "system_log", "@load1 > 1")).await;
    assert_eq!(body["code"], 403, "{body}");
    let untouched = strategies::by_id(&app.env.console_db(), rule_b).await.unwrap().unwrap();
    assert_eq!((untouched.app, untouched.expression.as_str(), untouched.status), (app_b, "@load1 > 2", 1));
    let (_, body) = b.get("/xapi/alarm_strategies", json!({"appId": app_b})).await;
    assert_eq!(body["data"]["list"].as_array().map(Vec::len), Some(1), "{body}");
    app.finish().await;
}
