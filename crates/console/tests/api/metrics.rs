//! Metric routes over HTTP: history answers from the day tables while the agent is offline.

use chrono::{Local, TimeDelta};
use mysql_async::prelude::Queryable;
use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

#[tokio::test]
async fn trends_overview_and_process_list_answer_for_an_offline_agent() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let mut client = app.sign_in("owner@example.com", PASSWORD).await;
    let mut conn = app.env.logs_db().get_conn().await.unwrap();
    let now = Local::now().naive_local();
    for minutes_ago in [1i64, 2, 3, 30] {
        let t = now - TimeDelta::minutes(minutes_ago);
        let (day, text) = (t.format("%d").to_string(), t.format("%Y-%m-%d %H:%M:%S").to_string());
        conn.exec_drop(
            format!("INSERT INTO process_{day} (app, agent, pid, log_time, version, cpu_60, heap_used, heap_limit, uptime) VALUES (?, 'vm', 42, ?, '3.1.0', 12.5, 100, 1000, 60)"),
            (id, &text),
        )
        .await
        .unwrap();
        conn.exec_drop(
            format!("INSERT INTO osinfo_{day} (app, agent, log_time, position, used_cpu, total_memory, free_memory, disks, cpu_count, uptime) VALUES (?, 'vm', ?, 0, 0.25, 1000, 400, '{{\"/\":35}}', 2, 1)"),
            (id, &text),
        )
        .await
        .unwrap();
    }
    drop(conn);
    let (_, body) = client.get("/xapi/process_trend", json!({"appId": id, "agentId": "vm", "pid": "42", "trendType": "cpuTrend", "duration": 24})).await;
    let list = body["data"]["list"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(list.len(), 720, "{body}");
    assert!(list.iter().any(|p| p["cpu_60"].as_f64().is_some()), "points with data");
    // The page's other charts draw from the first chart's read (`console.trend_cache_ttl_ms`): it holds every figure.
    let (_, body) = client.get("/xapi/process_trend", json!({"appId": id, "agentId": "vm", "pid": "42", "trendType": "heapTrend", "duration": 24})).await;
    assert_eq!(body["data"]["limit"], 1000, "{body}");
    assert!(body["data"]["list"].as_array().is_some_and(|l| l.iter().any(|p| p["heap_used"].as_f64().is_some_and(|v| v > 0.0))), "{body}");
    let (_, body) = client.get("/xapi/process_trend", json!({"appId": id, "agentId": "vm", "pid": "42", "trendType": "nope", "duration": 24})).await;
    assert_eq!(body["code"], 400, "{body}");
    let (_, body) = client.get("/xapi/system_trend", json!({"appId": id, "agentId": "vm", "trendType": "osCpuTrend", "duration": 168})).await;
    assert_eq!(body["data"]["list"].as_array().map(Vec::len), Some(720), "{body}");
    assert_eq!(body["data"]["extra"], "2 Cores", "{body}");
    let (_, body) = client.get("/xapi/system_trend", json!({"appId": id, "agentId": "vm", "trendType": "osMemoryTrend", "duration": 168})).await;
    assert!(body["data"]["list"].as_array().is_some_and(|l| l.iter().any(|p| p["os_memory"].as_f64().is_some_and(|v| v > 0.0))), "{body}");
    let (_, body) = client.get("/xapi/system_trend", json!({"appId": id, "agentId": "vm", "trendType": "diskUsageTrend", "duration": 168})).await;
    assert_eq!(body["data"]["yAxis"], json!(["/"]), "the disks chart reads its own rows: {body}");
    let (_, body) = client.get("/xapi/system_overview", json!({"appId": id, "agentId": "vm"})).await;
    assert_eq!(body["data"]["osCpu"], 25.0, "{body}");
    assert_eq!(body["data"]["maxDisk"], 35.0, "{body}");
    // The agent is offline: the instance list still names it (ours), with when it reported last.
    let (_, body) = client.get("/xapi/agents", json!({"appId": id})).await;
    let agents = body["data"]["list"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(agents.len(), 1, "{body}");
    assert_eq!((agents[0]["agentId"].as_str(), agents[0]["online"].as_bool()), (Some("vm"), Some(false)), "{body}");
    let last_seen = agents[0]["lastSeen"].as_i64().unwrap_or_else(|| panic!("{body}"));
    let expected = Local::now().timestamp_millis() - 60_000;
    assert!((last_seen - expected).abs() < 90_000, "lastSeen {last_seen} about a minute ago: {body}");
    // The agent is offline: the process list still shows what it reported, as no longer alive.
    let (_, body) = client.get("/xapi/xprofiler_processes", json!({"appId": id, "agentId": "vm"})).await;
    let list = body["data"]["list"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(list.len(), 1, "{body}");
    assert_eq!(list[0]["pid"], "42");
    let (_, body) = client.get("/xapi/overview_metrics", json!({"appId": id})).await;
    assert_eq!(body["data"]["instanceCount"], false, "no agent online: {body}");
    let (_, body) = client.get("/xapi/main_metrics", json!({"appId": id, "type": "processCpuUsage"})).await;
    assert_eq!(body["data"]["list"], json!([]), "eggs only for online agents: {body}");
    app.finish().await;
}

#[tokio::test]
async fn module_files_carry_the_audit_the_manager_keeps() {
    use deadpool_redis::redis;
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let mut client = app.sign_in("owner@example.com", PASSWORD).await;
    // What the manager keeps once the agent reported two package files and the audit ran for one of them.
    let keys = store::keys::Keys::new(&app.env.settings.redis.key_prefix);
    let now = Local::now().timestamp_millis();
    let mut conn = app.env.redis().get().await.unwrap();
    for file in ["/srv/a/package.json", "/srv/b/package.json"] {
        let entry = json!({"appId": id, "agentId": "vm", "type": "package", "timestamp": now}).to_string();
        redis::cmd("HSET").arg(keys.log_files(&id.to_string(), "vm")).arg(file).arg(entry).query_async::<()>(&mut conn).await.unwrap();
    }
    let audit = json!({"risk": {"vulnerabilities": {"critical": 1, "high": 2, "moderate": 0, "low": 0}, "totalDependencies": 3, "scanTime": "2026-12-02 10:00:00"},
                       "riskModules": {"lodash": {"severity": "critical"}}});
    redis::cmd("SET").arg(keys.package_audit(&id.to_string(), "vm", "/srv/a/package.json")).arg(audit.to_string()).query_async::<()>(&mut conn).await.unwrap();
    drop(conn);
    let (_, body) = client.get("/xapi/module_files", json!({"appId": id, "agentId": "vm"})).await;
    let mut list = body["data"]["list"].as_array().cloned().unwrap_or_else(|| panic!("{body}"));
    list.sort_by_key(|f| f["value"].as_str().unwrap_or_default().to_owned());
    assert_eq!(list.len(), 2, "{body}");
    assert_eq!(list[0]["risk"], audit["risk"], "{body}");
    assert_eq!(list[0]["riskModules"], audit["riskModules"], "{body}");
    assert_eq!((&list[1]["risk"], &list[1]["riskModules"]), (&json!(null), &json!({})), "not audited: {body}");
    app.finish().await;
}

/// Seeds `process` rows of (`app`, vm, 42) with cpu_60 = `cpu` for the 30 minutes from `start`: a 7-day chart's
/// bucket of 14 minutes averages its 14 minute slots, so at least one bucket shows `cpu` exactly.
async fn process_rows(conn: &mut mysql_async::Conn, app: u64, start: chrono::NaiveDateTime, cpu: f64) {
    for minute in 0..30 {
        let t = start + TimeDelta::minutes(minute);
        let (day, text) = (t.format("%d").to_string(), t.format("%Y-%m-%d %H:%M:%S").to_string());
        conn.exec_drop(
            format!("INSERT INTO process_{day} (app, agent, pid, log_time, version, cpu_60, heap_used, heap_limit, uptime) VALUES (?, 'vm', 42, ?, '3.1.0', ?, 100, 1000, 60)"),
            (app, &text, cpu),
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn past_days_are_read_once_and_today_every_time() {
    // Charts do not share their reads here, so what is read live shows at once.
    let app = TestApp::start_with(&[("EZM__CONSOLE__TREND_CACHE_TTL_MS", "0")]).await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let mut client = app.sign_in("owner@example.com", PASSWORD).await;
    let mut conn = app.env.logs_db().get_conn().await.unwrap();
    let now = Local::now().naive_local();
    if now.time() < chrono::NaiveTime::from_hms_opt(2, 0, 0).unwrap() {
        // The rows of "today" below start 90 minutes back: before 02:00 some would fall into yesterday, which the
        // first read keeps whole, and the check of what shows at once would not hold.
        eprintln!("skipped: within two hours after midnight");
        app.finish().await;
        return;
    }
    for (ago, cpu) in [(TimeDelta::days(3) + TimeDelta::hours(1), 11.0), (TimeDelta::days(2), 23.0), (TimeDelta::minutes(40), 37.0)] {
        process_rows(&mut conn, id, now - ago, cpu).await;
    }
    let query = json!({"appId": id, "agentId": "vm", "pid": "42", "trendType": "cpuTrend", "duration": 168});
    let points = |body: &serde_json::Value| -> Vec<f64> {
        let list = body["data"]["list"].as_array().unwrap_or_else(|| panic!("{body}"));
        // The buckets wholly inside a seeded run: the seeded figures are primes over 14, so a partly covered
        // bucket (k of 14 minutes) never averages to a whole number.
        let mut values: Vec<f64> = list.iter().filter_map(|p| p["cpu_60"].as_f64()).filter(|v| v.fract() == 0.0).collect();
        values.dedup();
        values
    };
    let (_, body) = client.get("/xapi/process_trend", query.clone()).await;
    assert_eq!(points(&body), [11.0, 23.0, 37.0], "whole past days and today: {body}");
    // A row written later into a past day (only after a MySQL outage) shows once that day's rows expire
    // (`console.trend_day_cache_ttl_ms`); a new row of today shows at once.
    process_rows(&mut conn, id, now - TimeDelta::days(2) + TimeDelta::hours(1), 29.0).await;
    process_rows(&mut conn, id, now - TimeDelta::minutes(90), 31.0).await;
    let (_, body) = client.get("/xapi/process_trend", query.clone()).await;
    assert_eq!(points(&body), [11.0, 23.0, 31.0, 37.0], "{body}");
    // Another window over the same days is drawn from the same day rows, cut at its own start.
    let (_, body) = client.get("/xapi/process_trend", json!({"appId": id, "agentId": "vm", "pid": "42", "trendType": "cpuTrend", "duration": 72})).await;
    assert_eq!(points(&body), [23.0, 31.0, 37.0], "{body}");
    drop(conn);
    app.finish().await;
}
