//! Test harness for the services' integration tests: each test gets its own databases and Redis key prefix on the
//! real MariaDB and Redis, and `finish()` drops them when the test passed. A failed test leaves them for inspection
//! (their names are printed). A missing MariaDB or Redis fails the test with the command that starts it.

use std::collections::HashMap;

use deadpool_redis::redis;
use mysql_async::prelude::Queryable;
use secrecy::SecretString;

use crate::redis::RedisPool;
use crate::settings::Settings;

pub const START_MARIADB: &str = "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd";
pub const START_REDIS: &str = "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no";

pub struct TestEnv {
    pub id: String,
    pub settings: Settings,
}

impl TestEnv {
    /// Settings for one test: unique databases and Redis prefix, every port 0 (the OS picks), loopback only,
    /// a random shared secret. `overrides` are extra `EZM__…` variables.
    pub async fn new(overrides: &[(&str, &str)]) -> TestEnv {
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let secret = uuid::Uuid::new_v4().simple().to_string();
        let mut env: HashMap<String, String> = [
            ("EZM__CONSOLE_MYSQL__DATABASE", format!("ezm_t_{id}_console")),
            ("EZM__LOGS_MYSQL__DATABASE", format!("ezm_t_{id}_logs")),
            ("EZM__REDIS__KEY_PREFIX", format!("ezm_t_{id}:")),
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
        for (k, v) in overrides {
            env.insert(k.to_string(), v.to_string());
        }
        let settings = Settings::load(&env).expect("test settings are valid");
        let env = TestEnv { id, settings };
        eprintln!("test env {}: databases {} / {}, redis prefix {}", env.id, env.settings.console_mysql.database, env.settings.logs_mysql.database, env.settings.redis.key_prefix);
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

    /// Drops this test's databases and Redis keys. Call it last: a test that panicked before keeps them.
    pub async fn finish(self) {
        let mut probe = self.settings.console_mysql.clone();
        probe.database = "mysql".into();
        let pool = crate::mysql::pool(&probe);
        if let Ok(mut conn) = pool.get_conn().await {
            for db in [&self.settings.console_mysql.database, &self.settings.logs_mysql.database] {
                let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS `{db}`")).await;
            }
        }
        let redis = self.redis();
        if let Ok(mut conn) = redis.get().await {
            let pattern = format!("{}*", self.settings.redis.key_prefix);
            let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query_async(&mut conn).await.unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await;
            }
        }
    }
}

async fn check_services(settings: &Settings) {
    let mut probe = settings.console_mysql.clone();
    probe.database = "mysql".into();
    if let Err(e) = crate::mysql::ping(&crate::mysql::pool(&probe)).await {
        panic!("MariaDB at {}:{} is not answering ({e}); start it with: {START_MARIADB}", probe.host, probe.port);
    }
    let redis = RedisPool::new(&settings.redis).expect("redis settings are valid");
    if let Err(e) = redis.ping().await {
        panic!("Redis at {} is not answering ({e}); start it with: {START_REDIS}", settings.redis.servers);
    }
}
