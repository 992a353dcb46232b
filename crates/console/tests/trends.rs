//! The console's metric data against a real MariaDB: rows in two day tables for two pids, read with the store's
//! trend queries and turned into points, the process list and the system overview by the console's domain.

use std::collections::HashSet;

use chrono::{DateTime, Local, NaiveDateTime, TimeDelta, TimeZone};
use common::testing::TestEnv;
use console::domain::metrics::{self, NodeProcess};
use console::domain::trends::{self, ProcessTrendType, SystemTrendType};
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};
use store::logs_db::osinfo::{self, Half, OsinfoRow};
use store::logs_db::process::{self, ProcessRow};
use store::logs_db::DaySpan;

const APP: i64 = 7;

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// Half past midnight on 15 January: the day tables 14 and 15, and no daylight-saving change in any zone.
fn now() -> DateTime<Local> {
    Local.from_local_datetime(&at("2026-01-15 00:30:00")).earliest().unwrap()
}

fn text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Inserts a `process_DD` row (the table of its day) with the given metric columns; the others stay NULL.
async fn insert_process(conn: &mut mysql_async::Conn, agent: &str, pid: i64, log_time: NaiveDateTime, metrics: &[(&str, f64)]) {
    let table = format!("process_{}", log_time.format("%d"));
    let names: String = metrics.iter().map(|(c, _)| format!(", `{c}`")).collect();
    let marks: String = metrics.iter().map(|_| ", ?").collect();
    let sql = format!("INSERT INTO `{table}` (app, agent, pid, log_time, version{names}) VALUES (?, ?, ?, ?, '3.1.0'{marks})");
    let mut params: Vec<mysql_async::Value> = vec![APP.into(), agent.into(), pid.into(), text(log_time).into()];
    params.extend(metrics.iter().map(|(_, v)| mysql_async::Value::from(*v)));
    conn.exec_drop(sql, params).await.unwrap();
}

async fn insert_osinfo(conn: &mut mysql_async::Conn, position: u8, log_time: NaiveDateTime, disks: &str, metrics: &[(&str, f64)]) {
    let table = format!("osinfo_{}", log_time.format("%d"));
    let names: String = metrics.iter().map(|(c, _)| format!(", `{c}`")).collect();
    let marks: String = metrics.iter().map(|_| ", ?").collect();
    let sql = format!("INSERT INTO `{table}` (app, agent, uptime, log_time, position, disks{names}) VALUES (?, 'vm', 100, ?, ?, ?{marks})");
    let mut params: Vec<mysql_async::Value> = vec![APP.into(), text(log_time).into(), position.into(), disks.into()];
    params.extend(metrics.iter().map(|(_, v)| mysql_async::Value::from(*v)));
    conn.exec_drop(sql, params).await.unwrap();
}

/// A process row whose every read column holds a different value, and the row the store must decode from it.
fn distinct_process(pid: i64, log_time: NaiveDateTime) -> (Vec<(&'static str, f64)>, ProcessRow) {
    let columns = [
        "uptime",
        "cpu_now",
        "cpu_15",
        "cpu_30",
        "cpu_60",
        "rss",
        "heap_used",
        "heap_total",
        "heap_limit",
        "amount_of_external_allocated_memory",
        "new_space_size",
        "old_space_size",
        "code_space_size",
        "map_space_size",
        "lo_space_size",
        "read_only_space_size",
        "new_lo_space_size",
        "code_lo_space_size",
        "gc_time_during_last_record",
        "scavange_duration_last_record",
        "marksweep_duration_last_record",
        "active_handles",
        "active_timer_handles",
        "active_tcp_handles",
        "active_udp_handles",
        "http_response_sent",
    ];
    // cpu columns are DECIMAL(5,2): fractions survive; the others are integers
    let values: Vec<(&str, f64)> =
        columns.iter().enumerate().map(|(i, c)| (*c, if c.starts_with("cpu") { i as f64 + 0.25 } else { (i as f64 + 1.0) * 1000.0 })).collect();
    let v = |name: &str| values.iter().find(|(c, _)| *c == name).unwrap().1;
    let row = ProcessRow {
        pid,
        log_time,
        uptime: v("uptime"),
        cpu_now: v("cpu_now"),
        cpu_15: v("cpu_15"),
        cpu_30: v("cpu_30"),
        cpu_60: v("cpu_60"),
        rss: v("rss"),
        heap_used: v("heap_used"),
        heap_total: v("heap_total"),
        heap_limit: v("heap_limit"),
        amount_of_external_allocated_memory: v("amount_of_external_allocated_memory"),
        new_space_size: v("new_space_size"),
        old_space_size: v("old_space_size"),
        code_space_size: v("code_space_size"),
        map_space_size: v("map_space_size"),
        lo_space_size: v("lo_space_size"),
        read_only_space_size: v("read_only_space_size"),
        new_lo_space_size: v("new_lo_space_size"),
        code_lo_space_size: v("code_lo_space_size"),
        gc_time_during_last_record: v("gc_time_during_last_record"),
        scavange_duration_last_record: v("scavange_duration_last_record"),
        marksweep_duration_last_record: v("marksweep_duration_last_record"),
        active_handles: v("active_handles"),
        active_timer_handles: v("active_timer_handles"),
        active_tcp_handles: v("active_tcp_handles"),
        active_udp_handles: v("active_udp_handles"),
        http_response_sent: v("http_response_sent"),
    };
    (values, row)
}

/// The value of `label` at the point whose time is the local `time`, if that point has it.
fn point_value(list: &[Value], time: &str, label: &str) -> Option<f64> {
    let ms = Local.from_local_datetime(&at(time)).earliest().unwrap().timestamp_millis();
    let point = list.iter().find(|p| p["time"] == json!(ms)).unwrap_or_else(|| panic!("no point at {time}"));
    point.get(label).and_then(Value::as_f64)
}

async fn index_count(env: &TestEnv, table: &str) -> u64 {
    env.count(&format!(
        "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}' \
         AND INDEX_NAME = 'app_agent_log_time'"
    ))
    .await
}

#[tokio::test]
async fn trends_overview_and_process_list_come_from_two_day_tables() {
    let env = TestEnv::new(&[]).await;
    common::mysql::ensure_database(&env.settings.logs_mysql).await.unwrap();
    let pool = env.logs_db();
    store::schema::ensure_logs(&pool).await.unwrap();
    let mut conn = pool.get_conn().await.unwrap();

    // pid 100: a row a minute from 23:50 on the 14th to 00:29 on the 15th (the 23:59 one in the day's last
    // second), heap_used 1000 + minutes since 23:50
    let first = at("2026-01-14 23:50:00");
    for i in 0..40 {
        let t = first + TimeDelta::minutes(i) + TimeDelta::seconds(if i == 9 { 59 } else { 0 });
        insert_process(&mut conn, "vm", 100, t, &[("heap_used", 1000.0 + i as f64), ("heap_limit", 2048.0 * 1048576.0), ("uptime", 3600.0)]).await;
    }
    // pid 200 died at noon on the 14th; pid 400 wrote before the window; another agent's pid 100
    insert_process(&mut conn, "vm", 200, at("2026-01-14 12:00:00"), &[("heap_used", 1.0)]).await;
    insert_process(&mut conn, "vm", 200, at("2026-01-14 12:01:00"), &[("heap_used", 2.0), ("uptime", 60.0)]).await;
    insert_process(&mut conn, "vm", 400, at("2026-01-14 00:00:00"), &[("heap_used", 9.0)]).await;
    insert_process(&mut conn, "other", 100, at("2026-01-15 00:15:00"), &[("heap_used", 1.0e9)]).await;
    let (distinct, expected_distinct) = distinct_process(300, at("2026-01-15 00:10:00"));
    insert_process(&mut conn, "vm", 300, at("2026-01-15 00:10:00"), &distinct).await;

    // osinfo: both halves every minute from 23:57 to 00:28, the system half again at 00:29
    for i in 0..32 {
        let t = at("2026-01-14 23:57:00") + TimeDelta::minutes(i);
        let system = [("used_cpu", 0.5), ("cpu_count", 4.0), ("total_memory", 8.0 * 1073741824.0), ("free_memory", 2.0 * 1073741824.0), ("load1", 1.5)];
        insert_osinfo(&mut conn, osinfo::SYSTEM, t, r#"{"/":40,"/data":70}"#, &system).await;
        let xprofiler = [
            ("http_response_sent", 120.0),
            ("scavange_duration_last_record", 3.0),
            ("marksweep_duration_last_record", 5.0),
            ("http_rt", 1075.5),
            ("total_gc_times", 9.0),
        ];
        insert_osinfo(&mut conn, osinfo::XPROFILER, t, "{}", &xprofiler).await;
    }
    insert_osinfo(
        &mut conn,
        osinfo::SYSTEM,
        at("2026-01-15 00:29:00"),
        r#"{"/":41,"/data":90}"#,
        &[("used_cpu", 0.85), ("cpu_count", 4.0), ("total_memory", 100.0), ("free_memory", 25.0), ("load1", 2.0)],
    )
    .await;
    drop(conn);

    let now = now();
    let window = trends::window(&now, 24);
    assert_eq!(
        trends::periods(&now, 24),
        [
            DaySpan { day: 14, from: at("2026-01-14 00:30:00"), to: at("2026-01-15 00:00:00") },
            DaySpan { day: 15, from: at("2026-01-15 00:00:00"), to: at("2026-01-15 00:30:00") },
        ]
    );

    // process rows across both tables, oldest first, the day's last second included
    let rows = process::rows_between(&pool, APP, "vm", 100, window.from, window.to).await.unwrap();
    assert_eq!(rows.len(), 40);
    assert!(rows.windows(2).all(|w| w[0].log_time < w[1].log_time));
    assert_eq!(rows[9].log_time, at("2026-01-14 23:59:59"));
    let decoded = process::rows_between(&pool, APP, "vm", 300, window.from, window.to).await.unwrap();
    assert_eq!(decoded, std::slice::from_ref(&expected_distinct), "every column decodes into its field");
    // the charts' reads from the covering indexes: each chart from one, a page's shared read from both joined by row
    for (name, kind) in ProcessTrendType::ALL {
        let read = process::figures_between(&pool, APP, "vm", 100, (window.from, window.to), kind.columns()).await.unwrap();
        assert_eq!(read.len(), 40, "{name}");
        assert_eq!(trends::process_trend(kind, &read, &now, 24), trends::process_trend(kind, &rows, &now, 24), "{name}");
    }
    let page = process::figures_between(&pool, APP, "vm", 100, (window.from, window.to), &process::TREND_FIGURES).await.unwrap();
    assert_eq!(page, rows.iter().map(|r| r.only(&process::TREND_FIGURES)).collect::<Vec<_>>(), "both indexes, joined by row");
    let page = process::figures_between(&pool, APP, "vm", 300, (window.from, window.to), &process::TREND_FIGURES).await.unwrap();
    assert_eq!(page, [expected_distinct.only(&process::TREND_FIGURES)]);

    let heap = trends::process_trend(ProcessTrendType::Heap, &rows, &now, 24);
    assert_eq!(heap.list.len(), 720);
    assert_eq!(heap.limit, Some(2048 * 1048576));
    assert_eq!(heap.extra.as_deref(), Some("2.00GB"));
    // two-minute buckets at even minutes: (value of the first minute + the second) / 2
    assert_eq!(point_value(&heap.list, "2026-01-14 23:48:00", "heap_used"), None, "before the first row");
    assert_eq!(point_value(&heap.list, "2026-01-14 23:50:00", "heap_used"), Some(1000.5));
    assert_eq!(point_value(&heap.list, "2026-01-14 23:58:00", "heap_used"), Some(1008.5), "23:59:59 counts as 23:59");
    assert_eq!(point_value(&heap.list, "2026-01-15 00:28:00", "heap_used"), Some(1038.5));
    assert_eq!(heap.list.iter().filter(|p| p.get("heap_used").is_some()).count(), 20);
    // the week view: 14-minute buckets from 00:30 on the 8th; the one of 00:16 holds 00:16 … 00:29
    let week = process::rows_between(&pool, APP, "vm", 100, trends::window(&now, 168).from, now.naive_local()).await.unwrap();
    let uv = trends::process_trend(ProcessTrendType::Uv, &week, &now, 168);
    assert_eq!(uv.list.len(), 720);
    let heap_week = trends::process_trend(ProcessTrendType::Heap, &week, &now, 168);
    let expected: f64 = (26..40).map(|i| 1000.0 + i as f64).sum::<f64>() / 14.0;
    assert_eq!(point_value(&heap_week.list, "2026-01-15 00:16:00", "heap_used"), Some(expected));

    // latest row per pid of the last 24 h, and the process list
    let latest = process::latest_per_pid(&pool, APP, "vm", now.naive_local() - TimeDelta::hours(24), now.naive_local()).await.unwrap();
    let pids: Vec<(i64, NaiveDateTime)> = latest.iter().map(|r| (r.pid, r.log_time)).collect();
    assert_eq!(pids, [(100, at("2026-01-15 00:29:00")), (200, at("2026-01-14 12:01:00")), (300, at("2026-01-15 00:10:00"))]);
    let alive: HashSet<i64> = [100].into();
    let running = [NodeProcess { pid: 100, command: "node app.js".into() }];
    let list = serde_json::to_value(metrics::process_list(&latest, &alive, &running, &now)).unwrap();
    let listed: Vec<(&str, Option<&str>)> = list["list"].as_array().unwrap().iter().map(|p| (p["pid"].as_str().unwrap(), p["cmd"].as_str())).collect();
    assert_eq!(listed, [("100", Some("node app.js")), ("200", None), ("300", None)]);
    assert_eq!(list["list"][0]["startTime"], json!(now.timestamp_millis() - 3_600_000));
    assert_eq!(list["nodes"], json!([]));

    // system trends from both halves, merged per minute
    let os_rows = osinfo::rows_between(&pool, APP, "vm", window.from, window.to).await.unwrap();
    assert_eq!(os_rows.len(), 65);
    let cpu = trends::system_trend(SystemTrendType::OsCpu, &os_rows, &now, 24);
    assert_eq!(cpu.extra.as_deref(), Some("4 Cores"));
    // the 00:29 minute has no xprofiler half, so it is left out and the 00:28 bucket averages one minute
    assert_eq!(point_value(&cpu.list, "2026-01-14 23:58:00", "os_cpu"), Some(50.0));
    assert_eq!(point_value(&cpu.list, "2026-01-15 00:28:00", "os_cpu"), Some(25.0));
    let qps = trends::system_trend(SystemTrendType::Qps, &os_rows, &now, 24);
    assert_eq!(point_value(&qps.list, "2026-01-15 00:00:00", "qps"), Some(2.0));
    let disks = trends::system_trend(SystemTrendType::DiskUsage, &os_rows, &now, 24);
    assert_eq!(disks.y_axis, Some(vec!["/".to_string(), "/data".to_string()]));
    assert_eq!(point_value(&disks.list, "2026-01-15 00:00:00", "/data"), Some(70.0));
    // the route's read (one half with the chart's columns, the other half's minutes from the key) draws the same
    for (name, kind) in SystemTrendType::ALL {
        let read = osinfo::figures_between(&pool, APP, "vm", (window.from, window.to), kind.columns(), Some(Half::all(kind.half()))).await.unwrap();
        assert_eq!(read.len(), 65, "{name}");
        assert_eq!(trends::system_trend(kind, &read, &now, 24), trends::system_trend(kind, &os_rows, &now, 24), "{name}");
    }
    // the disks chart reads the disks of each bucket's first minute and the one after, and of the last bucket's
    // minutes, only; 2-minute buckets (24 h) read every minute's
    assert_eq!(trends::disk_sample(&now, 24), None);
    for (hours, expected_step) in [(72, 6), (168, 14)] {
        let window = trends::window(&now, hours);
        let sample = trends::disk_sample(&now, hours).expect("no change of offset in the window");
        let (step, phase) = (i64::from(sample.step), i64::from(sample.phase));
        assert_eq!(step, expected_step, "{hours} h");
        let kind = SystemTrendType::DiskUsage;
        let read =
            osinfo::figures_between(&pool, APP, "vm", (window.from, window.to), kind.columns(), Some(Half::sampled(osinfo::SYSTEM, sample))).await.unwrap();
        let all = osinfo::rows_between(&pool, APP, "vm", window.from, window.to).await.unwrap();
        assert_eq!(read.len(), all.len(), "{hours} h: every row, of most only the minute");
        let minute = |t: NaiveDateTime| t.and_utc().timestamp().div_euclid(60);
        let first_of_bucket = |t: NaiveDateTime| minute(t).rem_euclid(step) == phase || t >= sample.whole_from;
        for row in &read {
            let carries = !row.disks.is_empty();
            if row.position == osinfo::SYSTEM && first_of_bucket(row.log_time) {
                assert!(carries, "{hours} h: {row:?}");
            } else if carries {
                // the minute after a bucket's first, which lacks a half or lies before the read
                assert!(row.position == osinfo::SYSTEM && minute(row.log_time).rem_euclid(step) == (phase + 1) % step, "{hours} h: {row:?}");
            }
        }
        assert!(read.iter().filter(|r| !r.disks.is_empty()).count() < all.iter().filter(|r| r.position == osinfo::SYSTEM).count());
        let drawn = |rows: &[OsinfoRow]| trends::system_trend(kind, rows, &now, hours);
        assert_eq!(drawn(&read), drawn(&all), "{hours} h");
        // a bucket whose first minute is missing takes the next minute's disks, in both reads
        let gap = all
            .iter()
            .map(|r| r.log_time)
            .find(|t| {
                let present = |t: NaiveDateTime| all.iter().any(|r| r.log_time == t);
                minute(*t).rem_euclid(step) == phase && *t < sample.whole_from && present(*t - TimeDelta::minutes(1)) && present(*t + TimeDelta::minutes(1))
            })
            .expect("a bucket's first minute with data either side");
        let (table, next) = (format!("osinfo_{}", gap.format("%d")), gap + TimeDelta::minutes(1));
        let mut conn = pool.get_conn().await.unwrap();
        conn.exec_drop(format!("DELETE FROM `{table}` WHERE app = ? AND log_time = ?"), (APP, text(gap))).await.unwrap();
        let table = format!("osinfo_{}", next.format("%d"));
        conn.exec_drop(format!("UPDATE `{table}` SET disks = '{{\"/\":41,\"/data\":71}}' WHERE app = ? AND position = 0 AND log_time = ?"), (APP, text(next)))
            .await
            .unwrap();
        drop(conn);
        let read_gap =
            osinfo::figures_between(&pool, APP, "vm", (window.from, window.to), kind.columns(), Some(Half::sampled(osinfo::SYSTEM, sample))).await.unwrap();
        let all_gap = osinfo::rows_between(&pool, APP, "vm", window.from, window.to).await.unwrap();
        assert_ne!(drawn(&all_gap), drawn(&all), "{hours} h: the gap at {gap} changes the chart");
        assert_eq!(drawn(&read_gap), drawn(&all_gap), "{hours} h: gap at {gap}");
        assert!(read_gap.iter().any(|r| r.log_time == next && r.position == osinfo::SYSTEM && !r.disks.is_empty()), "{hours} h: {next} read after");
        // the mounts' row (the newest complete minute, 00:28), whose disks the route reads when the read left them out
        let mounts = trends::mounts_row(&read).expect("a system row");
        assert_eq!(mounts.log_time, at("2026-01-15 00:28:00"));
        assert_eq!(osinfo::disks_at(&pool, APP, "vm", mounts.log_time).await.unwrap().as_deref(), Some(r#"{"/":40,"/data":70}"#));
        assert_eq!(osinfo::disks_at(&pool, APP, "vm", at("2026-01-15 00:28:30")).await.unwrap(), None);
    }

    // the overview: the latest system half (00:29) with the latest xprofiler half (00:28)
    let halves = osinfo::latest_halves(&pool, APP, "vm", now.naive_local() - TimeDelta::minutes(3), now.naive_local()).await.unwrap();
    let times: Vec<(u8, NaiveDateTime)> = halves.iter().map(|r: &OsinfoRow| (r.position, r.log_time)).collect();
    assert_eq!(times, [(0, at("2026-01-15 00:29:00")), (1, at("2026-01-15 00:28:00"))]);
    let overview = serde_json::to_value(metrics::system_overview(&halves).unwrap()).unwrap();
    assert_eq!((overview["osCpu"].clone(), overview["osMem"].clone(), overview["maxDisk"].clone()), (json!(85), json!(75), json!(90)));
    assert_eq!((overview["qps"].clone(), overview["rtAverage"].clone(), overview["scavengeAverage"].clone()), (json!(2), json!(1075.5), json!(3)));

    // a missing day table is skipped
    let mut conn = pool.get_conn().await.unwrap();
    conn.query_drop("DROP TABLE process_14").await.unwrap();
    let rows = process::rows_between(&pool, APP, "vm", 100, window.from, window.to).await.unwrap();
    assert_eq!(rows.len(), 30, "the rows of the 15th");

    // a day table without the covering indexes (an upgrade: the manager adds them behind its start) is read without
    conn.query_drop("ALTER TABLE process_15 DROP INDEX trend_heap_cpu").await.unwrap();
    conn.query_drop("ALTER TABLE osinfo_15 DROP INDEX trend_figures").await.unwrap();
    drop(conn);
    let page = process::figures_between(&pool, APP, "vm", 100, (window.from, window.to), &process::TREND_FIGURES).await.unwrap();
    assert_eq!(page, rows.iter().map(|r| r.only(&process::TREND_FIGURES)).collect::<Vec<_>>(), "the 15th read without its index");
    let cpu = ProcessTrendType::Cpu.columns();
    let read = process::figures_between(&pool, APP, "vm", 100, (window.from, window.to), cpu).await.unwrap();
    assert_eq!(read, rows.iter().map(|r| r.only(cpu)).collect::<Vec<_>>());
    let os_cpu = SystemTrendType::OsCpu.columns();
    let read = osinfo::figures_between(&pool, APP, "vm", (window.from, window.to), os_cpu, None).await.unwrap();
    let all = osinfo::rows_between(&pool, APP, "vm", window.from, window.to).await.unwrap();
    assert_eq!(read.len(), all.len());
    let drawn = |rows: &[OsinfoRow]| trends::system_trend(SystemTrendType::OsCpu, rows, &now, 24);
    assert_eq!(drawn(&read), drawn(&all));
    // manager.process_trend_indexes = false drops the process charts' indexes everywhere, and true puts them back
    let trend_indexes = "SELECT COUNT(DISTINCT TABLE_NAME, INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
                         AND INDEX_NAME IN ('trend_heap_cpu', 'trend_spaces_handles')";
    store::schema::add_read_indexes(&pool, false).await.unwrap();
    assert_eq!(env.count(trend_indexes).await, 0);
    let read = process::figures_between(&pool, APP, "vm", 100, (window.from, window.to), cpu).await.unwrap();
    assert_eq!(read, rows.iter().map(|r| r.only(cpu)).collect::<Vec<_>>(), "read without the indexes");
    store::schema::add_read_indexes(&pool, true).await.unwrap();
    assert_eq!(env.count(trend_indexes).await, 2 * 31, "the template and its day tables (process_14 was dropped above)");
    let back = env
        .count(
            "SELECT COUNT(DISTINCT TABLE_NAME, INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME IN ('process_15', 'osinfo_15') AND INDEX_NAME IN ('trend_heap_cpu', 'trend_figures')",
        )
        .await;
    assert_eq!(back, 2, "put back");
    let mut conn = pool.get_conn().await.unwrap();

    // the added index: on every day table, and put back where it is missing (an original database)
    assert_eq!(index_count(&env, "osinfo_05").await, 3);
    conn.query_drop("ALTER TABLE osinfo_05 DROP INDEX app_agent_log_time").await.unwrap();
    conn.query_drop("ALTER TABLE process DROP INDEX app_agent_log_time").await.unwrap();
    drop(conn);
    store::schema::ensure_logs(&pool).await.unwrap();
    assert_eq!((index_count(&env, "osinfo_05").await, index_count(&env, "process").await, index_count(&env, "process_14").await), (3, 3, 3));
    store::schema::ensure_logs(&pool).await.unwrap();
    assert_eq!(index_count(&env, "osinfo_05").await, 3, "idempotent");

    pool.disconnect().await.unwrap();
    env.finish().await;
}
