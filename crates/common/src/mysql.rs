//! MySQL pools (mysql_async) built from [`MysqlSettings`].

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{OptsBuilder, Pool, PoolConstraints, PoolOpts, SslOpts};
use secrecy::ExposeSecret;

use crate::settings::{MysqlSettings, MysqlTls};

/// A pool on the configured database. Connections are made lazily, so this never fails.
pub fn pool(settings: &MysqlSettings) -> Pool {
    Pool::new(opts(settings, Some(&settings.database)))
}

fn opts(settings: &MysqlSettings, database: Option<&str>) -> OptsBuilder {
    let constraints = PoolConstraints::new(1, settings.pool_max.max(1)).expect("min 1 <= max");
    let pool_opts = PoolOpts::default()
        .with_constraints(constraints)
        .with_inactive_connection_ttl(Duration::from_secs(60))
        // No COM_RESET_CONNECTION when a connection goes back to the pool: the reset drops the server's prepared
        // statements, so every query was prepared again (one more round trip and a parse each: a week's system
        // chart prepared 8 statements per request). Nothing here changes session state (no session variables,
        // isolation levels or temporary tables), and mysql_async rolls back a transaction left open without it.
        .with_reset_connection(false);
    OptsBuilder::default()
        .ip_or_hostname(settings.host.clone())
        .tcp_port(settings.port)
        .user(Some(settings.user.clone()))
        .pass(Some(settings.password.expose_secret().to_owned()).filter(|p| !p.is_empty()))
        .db_name(database.map(str::to_owned))
        .prefer_socket(false)
        .wait_timeout(Some(28_800))
        // Prepared statements each connection keeps (LRU). They live on the server too, where
        // `max_prepared_stmt_count` (16,382 by default) bounds them for all clients: 4 pools of 10 connections
        // keep at most 2,560.
        .stmt_cache_size(64)
        .pool_opts(pool_opts)
        .ssl_opts(ssl_opts(settings))
}

fn ssl_opts(settings: &MysqlSettings) -> Option<SslOpts> {
    let opts = match settings.tls {
        MysqlTls::Disabled => return None,
        MysqlTls::Required => SslOpts::default().with_danger_accept_invalid_certs(true).with_danger_skip_domain_validation(true),
        MysqlTls::VerifyIdentity => match settings.tls_ca_file.as_str() {
            "" => SslOpts::default(),
            path => SslOpts::default().with_root_certs(vec![std::path::PathBuf::from(path).into()]),
        },
    };
    // rustls needs one process-wide crypto provider, and two are compiled in (ring through reqwest, aws-lc-rs
    // through tokio-rustls): without a choice the first TLS handshake panics. Installing twice is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Some(opts)
}

/// Creates the configured database if it is missing (utf8mb4, so emoji in error texts do not fail inserts).
pub async fn ensure_database(settings: &MysqlSettings) -> Result<(), mysql_async::Error> {
    let name = &settings.database;
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(mysql_async::Error::Other(format!("database name {name:?} must be [A-Za-z0-9_]").into()));
    }
    let mut conn = mysql_async::Conn::new(opts(settings, None)).await?;
    conn.query_drop(format!("CREATE DATABASE IF NOT EXISTS `{name}` DEFAULT CHARACTER SET utf8mb4")).await?;
    conn.disconnect().await
}

/// `SELECT 1` on the pool, for `/readyz`.
pub async fn ping(pool: &Pool) -> Result<(), mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.query_drop("SELECT 1").await
}
