//! Test harness for the services' integration tests: each test gets its own databases and Redis key prefix on the
//! real MariaDB and Redis, dropped when the test passed (when its `TestEnv` is dropped without a panic, or earlier
//! by `finish()`). A failed test leaves them for inspection (their names are printed). A missing MariaDB or Redis
//! fails the test with the command that starts it.
//!
//! Names carry their creation time (`ezm_t_{unix_secs}_{8 hex}`), so the first test of each process can drop what
//! failed runs left behind ([`STALE_AFTER`]) without touching the data of tests running at the same time.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deadpool_redis::redis;
use mysql_async::prelude::Queryable;
use secrecy::SecretString;

use crate::redis::{RedisConn, RedisPool};
use crate::settings::Settings;

pub const START_MARIADB: &str = "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd";
pub const START_REDIS: &str = "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no";
/// Test databases and Redis keys older than this are left over from an earlier run (no test runs this long).
pub const STALE_AFTER: Duration = Duration::from_secs(2 * 60 * 60);
/// Prefix of every test database and Redis key.
const PREFIX: &str = "ezm_t_";

pub struct TestEnv {
    pub id: String,
    pub settings: Settings,
    /// Set once the databases and keys are dropped.
    cleaned: bool,
}

impl TestEnv {
    /// Settings for one test: unique databases and Redis prefix, every port 0 (the OS picks), loopback only,
    /// a random shared secret. `overrides` are extra `EZM__…` variables.
    pub async fn new(overrides: &[(&str, &str)]) -> TestEnv {
        let id = format!("{}_{}", unix_secs(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let secret = uuid::Uuid::new_v4().simple().to_string();
        let mut env: HashMap<String, String> = [
            ("EZM__CONSOLE_MYSQL__DATABASE", format!("{PREFIX}{id}_console")),
            ("EZM__LOGS_MYSQL__DATABASE", format!("{PREFIX}{id}_logs")),
            ("EZM__REDIS__KEY_PREFIX", format!("{PREFIX}{id}:")),
            ("EZM__SHARED__SECRET", secret),
            ("EZM__WS_SERVER__HOST", "127.0.0.1".into()),
            ("EZM__WS_SERVER__PORT", "0".into()),
            ("EZM__MANAGER__HOST", "127.0.0.1".into()),
            ("EZM__MANAGER__PORT", "0".into()),
            ("EZM__CONSOLE__HOST", "127.0.0.1".into()),
            ("EZM__CONSOLE__PORT", "0".into()),
            ("EZM__LOG__FORMAT", "pretty".into()),
            ("EZM__LOG__FILTER", std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        // The machine's services are probed with the base settings, before a test points somewhere else on purpose.
        let base = Settings::load(&env).expect("test settings are valid");
        crate::telemetry::init(&base.log);
        check_services(&base).await;
        // Once per process, what failed runs left behind.
        static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
        SWEPT.get_or_init(|| drop_stale(&base)).await;
        for (k, v) in overrides {
            env.insert(k.to_string(), v.to_string());
        }
        let settings = Settings::load(&env).expect("test settings are valid");
        let env = TestEnv { id, settings, cleaned: false };
        eprintln!(
            "test env {}: databases {} / {}, redis prefix {}",
            env.id, env.settings.console_mysql.database, env.settings.logs_mysql.database, env.settings.redis.key_prefix
        );
        env
    }

    pub fn secret(&self) -> &SecretString {
        &self.settings.shared.secret
    }

    /// A pool on this test's console database (created by the manager at start-up).
    pub fn console_db(&self) -> mysql_async::Pool {
        crate::mysql::pool(&self.settings.console_mysql)
    }

    pub fn logs_db(&self) -> mysql_async::Pool {
        crate::mysql::pool(&self.settings.logs_mysql)
    }

    pub fn redis(&self) -> RedisPool {
        RedisPool::new(&self.settings.redis).expect("redis settings are valid")
    }

    /// Adds app `id` with `secret` (owner 1) to this test's console database.
    pub async fn add_app(&self, id: u64, secret: &str) {
        store::console_db::apps::insert(&self.console_db(), id, &format!("app{id}"), 1, secret).await.expect("app inserted");
    }

    /// The first column of the first row of `sql` on this test's logs database, as a count (0 for no row).
    pub async fn count(&self, sql: &str) -> u64 {
        let mut conn = self.logs_db().get_conn().await.expect("logs database answers");
        conn.query_first::<u64, _>(sql).await.expect("count query runs").unwrap_or(0)
    }

    /// Drops this test's databases and Redis keys now (a test that stops its services first says so by calling
    /// it last). Without it they are dropped when the `TestEnv` is, unless the test panicked.
    pub async fn finish(mut self) {
        clean(&self.settings).await;
        self.cleaned = true;
    }
}

/// A test that passed drops its databases and keys without having to remember `finish()`; one that panicked keeps
/// them for inspection.
impl Drop for TestEnv {
    fn drop(&mut self) {
        if self.cleaned || std::thread::panicking() {
            return;
        }
        let settings = self.settings.clone();
        // Dropped inside the test's runtime, which cannot be blocked on: the clean-up runs on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for the clean-up");
            runtime.block_on(clean(&settings));
        });
        let _ = cleanup.join();
    }
}

async fn clean(settings: &Settings) {
    let pool = admin_pool(settings);
    if let Ok(mut conn) = pool.get_conn().await {
        for db in [&settings.console_mysql.database, &settings.logs_mysql.database] {
            let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS `{db}`")).await;
        }
    }
    let _ = pool.disconnect().await;
    if let Ok(pool) = RedisPool::new(&settings.redis) {
        if let Ok(mut conn) = pool.get().await {
            let pattern = format!("{}*", settings.redis.key_prefix);
            if let Ok(keys) = scan(&mut conn, &pattern).await {
                let _ = delete(&mut conn, &keys).await;
            }
        }
    }
}

/// Polls `check` every 100 ms until it holds; fails the test after `secs` seconds.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..secs * 10 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// The frames captured from the real xtransit 3.1.0 agent (`crates/protocol/fixtures`), one per line.
pub const CAPTURED_FRAMES: &str = include_str!("../../protocol/fixtures/agent-frames.jsonl");

/// The `data` of every captured `log` frame, with its kind (`system_log`, `xprofiler_log`, …).
pub fn captured_logs() -> Vec<(String, serde_json::Value)> {
    CAPTURED_FRAMES
        .lines()
        .filter_map(|line| {
            let frame = protocol::AgentFrame::parse(line).ok()?;
            let kind = frame.log_type()?;
            Some((kind, serde_json::from_str(frame.data.get()).ok()?))
        })
        .collect()
}

/// The first captured log of `kind` that carries data, with its collection time set to now.
pub fn captured_log(kind: &str) -> serde_json::Value {
    let found =
        captured_logs().into_iter().find(|(k, log)| k == kind && !(kind == "xprofiler_log" && log["data"]["logs"].as_array().is_none_or(|l| l.is_empty())));
    fresh(found.unwrap_or_else(|| panic!("no captured {kind}")).1)
}

/// A captured log with its collection time moved to now (so it lands in today's tables).
pub fn fresh(mut log: serde_json::Value) -> serde_json::Value {
    if let Some(data) = log.get_mut("data").and_then(serde_json::Value::as_object_mut) {
        if data.contains_key("log_timestamp") {
            data.insert("log_timestamp".into(), serde_json::json!(now_ms()));
        }
    }
    log
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A pool on the server of the console database, without choosing a database.
fn admin_pool(settings: &Settings) -> mysql_async::Pool {
    let mut probe = settings.console_mysql.clone();
    probe.database = "mysql".into();
    crate::mysql::pool(&probe)
}

fn unix_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970").as_secs()
}

/// When a test database or Redis key was created, from its name; `None` for names of another form (the old
/// `ezm_t_{12 hex}`).
fn created(name: &str) -> Option<u64> {
    let (secs, rest) = name.strip_prefix(PREFIX)?.split_once('_')?;
    let random = rest.get(..8)?;
    if !secs.bytes().all(|b| b.is_ascii_digit()) || !random.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    secs.parse().ok()
}

/// True for names of test data created more than [`STALE_AFTER`] before `now`, or of no known form.
fn is_stale(name: &str, now: u64) -> bool {
    created(name).is_none_or(|secs| now.saturating_sub(secs) > STALE_AFTER.as_secs())
}

/// Drops the test databases and Redis keys that earlier runs left behind, naming each on stderr.
async fn drop_stale(settings: &Settings) {
    let now = unix_secs();
    if let Err(e) = drop_stale_databases(settings, now).await {
        eprintln!("test env: could not drop stale test databases: {e}");
    }
    if let Err(e) = drop_stale_keys(settings, now).await {
        eprintln!("test env: could not drop stale test Redis keys: {e}");
    }
}

async fn drop_stale_databases(settings: &Settings, now: u64) -> Result<(), mysql_async::Error> {
    let pool = admin_pool(settings);
    let mut conn = pool.get_conn().await?;
    let names: Vec<String> = conn.query(r"SHOW DATABASES LIKE 'ezm\_t\_%'").await?;
    for name in names.iter().filter(|n| n.starts_with(PREFIX) && is_stale(n, now)) {
        conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`")).await?;
        eprintln!("test env: dropped stale database {name}");
    }
    drop(conn);
    pool.disconnect().await
}

async fn drop_stale_keys(settings: &Settings, now: u64) -> Result<(), crate::redis::RedisError> {
    let mut conn = RedisPool::new(&settings.redis)?.get().await?;
    let mut keys = scan(&mut conn, &format!("{PREFIX}*")).await?;
    keys.retain(|k| is_stale(k, now));
    delete(&mut conn, &keys).await?;
    for key in &keys {
        eprintln!("test env: dropped stale Redis key {key}");
    }
    Ok(())
}

/// The keys matching `pattern`, by SCAN (which, unlike KEYS, does not block the server).
async fn scan(conn: &mut RedisConn, pattern: &str) -> Result<Vec<String>, redis::RedisError> {
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(1000).query_async(conn).await?;
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    // SCAN may return a key more than once
    keys.sort_unstable();
    keys.dedup();
    Ok(keys)
}

async fn delete(conn: &mut RedisConn, keys: &[String]) -> Result<(), redis::RedisError> {
    for chunk in keys.chunks(500) {
        redis::cmd("DEL").arg(chunk).query_async::<()>(conn).await?;
    }
    Ok(())
}

async fn check_services(settings: &Settings) {
    let probe = &settings.console_mysql;
    if let Err(e) = crate::mysql::ping(&admin_pool(settings)).await {
        panic!("MariaDB at {}:{} is not answering ({e}); start it with: {START_MARIADB}", probe.host, probe.port);
    }
    let redis = RedisPool::new(&settings.redis).expect("redis settings are valid");
    if let Err(e) = redis.ping().await {
        panic!("Redis at {} is not answering ({e}); start it with: {START_REDIS}", settings.redis.servers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tell_their_age() {
        let now = 1_750_000_000;
        assert_eq!(created("ezm_t_1749999000_0a1b2c3d_console"), Some(1_749_999_000));
        assert_eq!(created("ezm_t_1749999000_0a1b2c3d:agents:1"), Some(1_749_999_000));
        assert!(!is_stale("ezm_t_1749999000_0a1b2c3d_logs", now), "a live test's data is kept");
        assert!(!is_stale("ezm_t_1750000100_0a1b2c3d_logs", now), "a clock a bit ahead is no reason to drop");
        assert!(is_stale("ezm_t_1749990000_0a1b2c3d_logs", now), "older than two hours");
        // the old form, even when its 12 hex digits happen to be decimal ones
        assert!(is_stale("ezm_t_0a1b2c3d4e5f_console", now));
        assert!(is_stale("ezm_t_012345678901_console", now));
        assert!(is_stale("ezm_t_012345678901:agents", now));
        assert!(is_stale("ezm_t_0a1b2c3d4e5f:agents:1", now));
    }

    #[test]
    fn names_fit_mysql() {
        let id = format!("{}_{}", unix_secs(), "0a1b2c3d");
        let name = format!("{PREFIX}{id}_console");
        assert!(name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{name}");
    }
}
