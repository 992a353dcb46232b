//! The test harness itself: a test that passes drops its databases and Redis keys without calling `finish()`.

use common::testing::TestEnv;
use mysql_async::prelude::Queryable;

#[tokio::test]
async fn a_passing_test_leaves_no_databases_or_keys_behind() {
    let env = TestEnv::new(&[]).await;
    let (console_db, logs_db) = (env.settings.console_mysql.database.clone(), env.settings.logs_mysql.database.clone());
    let prefix = env.settings.redis.key_prefix.clone();
    let pool = env.console_db();
    let mut admin = {
        let mut probe = env.settings.console_mysql.clone();
        probe.database = "mysql".into();
        common::mysql::pool(&probe).get_conn().await.unwrap()
    };
    for db in [&console_db, &logs_db] {
        admin.query_drop(format!("CREATE DATABASE `{db}`")).await.unwrap();
    }
    let mut redis = env.redis().get().await.unwrap();
    deadpool_redis::redis::cmd("SET").arg(format!("{prefix}x")).arg(1).query_async::<()>(&mut redis).await.unwrap();
    drop(pool);
    drop(env); // as a passing test's end does

    let left: Vec<String> =
        admin.exec("SELECT schema_name FROM information_schema.schemata WHERE schema_name IN (?, ?)", (&console_db, &logs_db)).await.unwrap();
    assert!(left.is_empty(), "databases left: {left:?}");
    let keys: Vec<String> = deadpool_redis::redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut redis).await.unwrap();
    assert!(keys.is_empty(), "keys left: {keys:?}");
}
