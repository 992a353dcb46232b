//! Layered configuration, lowest layer first:
//! 1. defaults compiled into the binary (`defaults.toml`);
//! 2. an optional operator file (`EZM_CONFIG=/path/config.toml`, or `/etc/easy-monitor/config.toml` if it exists);
//! 3. the environment names of the reference deployments (`CONSOLE_MYSQL_HOST`, `REDIS_SERVER`, …), translated by
//!    one table ([`LEGACY_ENV`]);
//! 4. structured environment variables `EZM__SECTION__KEY` (e.g. `EZM__WS_SERVER__PING_INTERVAL_SECS=10`).
//!
//! Any of these names may instead be given as `<NAME>_FILE=/path` (the Docker and Kubernetes secrets convention,
//! e.g. `DB_PASSWORD_FILE=/run/secrets/db_password`): the file's content, without its trailing newline, is the
//! value. A name set to a non-empty value wins over its `_FILE` form.
//!
//! The loader takes the environment as a map, so tests pass a literal map and never touch the process env.

use std::collections::HashMap;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("defaults.toml");
const DEFAULT_FILE: &str = "/etc/easy-monitor/config.toml";
/// The original's shared secret. Public knowledge, so it must be replaced in production.
pub const PUBLIC_DEFAULT_SECRET: &str = "easy-monitor::xprofiler";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub console_mysql: MysqlSettings,
    pub logs_mysql: MysqlSettings,
    pub redis: RedisSettings,
    pub shared: SharedSettings,
    pub ws_server: WsServerSettings,
    pub manager: ManagerSettings,
    pub console: ConsoleSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MysqlSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: SecretString,
    pub database: String,
    pub pool_max: usize,
    /// TLS to the server (MySQL's `ssl-mode`): `disabled`, `required` or `verify_identity`.
    pub tls: MysqlTls,
    /// PEM file of the CA that signed the server's certificate (`verify_identity`; public roots are trusted too).
    pub tls_ca_file: String,
}

/// How the services use TLS to MySQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MysqlTls {
    /// Plain TCP (with `caching_sha2_password` the password then travels RSA-encrypted with a key the server sends).
    Disabled,
    /// Encrypted, without checking the server's certificate (protects against listeners, not impostors).
    Required,
    /// Encrypted, the certificate checked against `tls_ca_file` (or public roots) and the host name.
    VerifyIdentity,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    /// `host:port[,host:port…]`; more than one address means Redis Cluster.
    pub servers: String,
    pub password: SecretString,
    pub db: i64,
    /// Prepended to every key (tests use a unique one; production leaves it empty to share keys with the original).
    pub key_prefix: String,
    pub pool_max: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SharedSettings {
    /// HMAC-SHA1 secret the services sign their calls to each other with.
    pub secret: SecretString,
    /// Timeout of calls between services when the call names none.
    pub http_timeout_ms: u64,
}

/// What to do when a second live connection shows up for the same appId + agentId with another clientId.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateAgentPolicy {
    /// Keep both connections. Commands go to the clientId the manager registered last. The default: nothing dies.
    KeepBoth,
    /// Close the older socket (the agent reconnects after U[0, reconnectBaseTime) s and may take over again).
    CloseOld,
    /// Send `shutdown` to the older agent, which kills a CLI agent for good: the original's behaviour.
    ShutdownOld,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsServerSettings {
    pub host: String,
    pub port: u16,
    /// `host:port` the manager uses to reach this ws-server's `/xapi/*` (set it in containers and Kubernetes,
    /// e.g. to the pod IP). Empty: the first non-loopback IPv4 of this host and the listening port.
    pub advertise_address: String,
    pub manager_base_url: String,
    pub app_secret_ttl_secs: u64,
    pub ping_interval_secs: u64,
    /// A socket that has answered no ping for this long is closed.
    pub client_timeout_secs: u64,
    pub max_message_bytes: usize,
    /// Future timestamps up to this far ahead are accepted (clock skew between agent and server).
    pub future_skew_ms: i64,
    pub duplicate_agent_policy: DuplicateAgentPolicy,
    /// Agent messages being forwarded to the manager at once, across all sockets; beyond this, sockets stop being read.
    pub forward_concurrency: usize,
    /// How many times a forward is retried when the manager is unreachable or failing.
    pub forward_retries: u32,
    /// Gather forwarded messages into `/xtransit/batch` calls (ours). Off, or against a manager without that route,
    /// every message is one call on the original routes.
    pub forward_batch: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ManagerSettings {
    pub host: String,
    pub port: u16,
    pub retention_days: u32,
    pub retention_hour: u32,
    pub error_log_limit: isize,
    pub error_log_days: i64,
    pub package_days: u64,
    pub agent_offline_secs: i64,
    pub max_body_bytes: usize,
    pub command_timeout_ms: u64,
    /// Create missing databases and tables at start-up.
    pub create_schema: bool,
    /// Metric rows are written by a batching writer: at most this many rows per INSERT.
    pub insert_batch_rows: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConsoleSettings {
    pub host: String,
    pub port: u16,
    pub base_url: String,
    pub manager_base_url: String,
    /// Where uploaded profiles are kept (relative paths are from the working directory). One console node only.
    pub storage_dir: String,
    /// Largest agent upload, all parts together (the original allowed 4 GiB).
    pub max_upload_bytes: u64,
    /// An agent upload's timestamp may be this old, or this far ahead (clock skew); its nonce is remembered as long.
    pub upload_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `json` (production) or `pretty` (local).
    pub format: String,
    /// A tracing filter, e.g. `info` or `info,manager=debug`. `RUST_LOG` wins when set.
    pub filter: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: {0}")]
    Invalid(String),
}

/// The reference deployments' variable names, and where they land. One name may feed several keys.
pub const LEGACY_ENV: &[(&str, &[&str])] = &[
    ("CONSOLE_MYSQL_HOST", &["console_mysql.host"]),
    ("CONSOLE_MYSQL_PORT", &["console_mysql.port"]),
    ("CONSOLE_MYSQL_USER", &["console_mysql.user"]),
    ("CONSOLE_MYSQL_PASSWORD", &["console_mysql.password"]),
    ("CONSOLE_MYSQL_DATABASE", &["console_mysql.database"]),
    ("LOGS_MYSQL_HOST", &["logs_mysql.host"]),
    ("LOGS_MYSQL_PORT", &["logs_mysql.port"]),
    ("LOGS_MYSQL_USER", &["logs_mysql.user"]),
    ("LOGS_MYSQL_PASSWORD", &["logs_mysql.password"]),
    ("LOGS_MYSQL_DATABASE", &["logs_mysql.database"]),
    ("REDIS_SERVER", &["redis.servers"]),
    ("REDIS_PASSWORD", &["redis.password"]),
    ("REDIS_DB", &["redis.db"]),
    ("CONSOLE_BASE_URL", &["console.base_url"]),
    ("MANAGER_BASE_URL", &["ws_server.manager_base_url", "console.manager_base_url"]),
    ("CONSOLE_PORT", &["console.port"]),
    ("MANAGER_PORT", &["manager.port"]),
    ("WSS_PORT", &["ws_server.port"]),
    // X-Profiler/all-in-one
    ("DB_SERVER_HOST", &["console_mysql.host", "logs_mysql.host"]),
    ("DB_USERNAME", &["console_mysql.user", "logs_mysql.user"]),
    ("DB_PASSWORD", &["console_mysql.password", "logs_mysql.password"]),
    ("REDIS_SERVER_HOST", &["redis.servers"]),
    ("EZM_SECRET", &["shared.secret"]),
];

impl Settings {
    /// Loads the settings from the layers described above, with `env` standing for the process environment.
    pub fn load(env: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let env = &with_file_values(env)?;
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        builder = match env.get("EZM_CONFIG") {
            Some(path) => builder.add_source(config::File::with_name(path).required(true)),
            None => builder.add_source(config::File::with_name(DEFAULT_FILE).required(false)),
        };
        // Structured names first; a reference name fills a key only when no structured name sets it.
        let mut structured: HashMap<String, String> =
            env.iter().filter(|(k, _)| k.starts_with("EZM__")).map(|(k, v)| (k.clone(), v.clone())).collect();
        for (name, keys) in LEGACY_ENV {
            let Some(value) = env.get(*name) else { continue };
            let value = match *name {
                // all-in-one gives a bare host; the port is fixed there.
                "REDIS_SERVER_HOST" if !value.contains(':') => format!("{value}:6379"),
                _ => value.clone(),
            };
            for key in *keys {
                let env_name = format!("EZM__{}", key.replace('.', "__").to_uppercase());
                structured.entry(env_name).or_insert_with(|| value.clone());
            }
        }
        builder = builder.add_source(
            config::Environment::with_prefix("EZM")
                .prefix_separator("__")
                .separator("__")
                .source(Some(structured)),
        );
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Loads from the process environment.
    pub fn from_process_env() -> Result<Self, SettingsError> {
        Self::load(&std::env::vars().collect())
    }

    fn validate(&self) -> Result<(), SettingsError> {
        if self.shared.secret.expose_secret().is_empty() {
            return Err(SettingsError::Invalid("shared.secret is empty: set EZM__SHARED__SECRET".into()));
        }
        if self.redis.servers.trim().is_empty() {
            return Err(SettingsError::Invalid("redis.servers is empty: set REDIS_SERVER=host:port".into()));
        }
        if self.ws_server.max_message_bytes < 1024 * 1024 {
            return Err(SettingsError::Invalid("ws_server.max_message_bytes below 1 MiB refuses real agents' package logs".into()));
        }
        Ok(())
    }

    /// True while the shared secret is still the original's public default.
    pub fn uses_public_secret(&self) -> bool {
        self.shared.secret.expose_secret() == PUBLIC_DEFAULT_SECRET
    }

    /// Logs the effective configuration (secrets redacted by their `Debug`) and warns about unsafe defaults.
    pub fn log_startup(&self, service: &str) {
        tracing::info!(service, settings = ?self, "effective configuration");
        if self.uses_public_secret() {
            tracing::warn!(
                service,
                "UNSAFE: the inter-service secret is the public default 'easy-monitor::xprofiler'; anyone who can reach \
                 the manager or ws-server can forge calls. Set EZM__SHARED__SECRET (or EZM_SECRET) to a long random \
                 value, the same for all three services"
            );
        }
    }
}

/// Resolves `<NAME>_FILE` variables of the names the loader reads (reference names and `EZM__…`) into `<NAME>`.
fn with_file_values(env: &HashMap<String, String>) -> Result<HashMap<String, String>, SettingsError> {
    let mut out = env.clone();
    for (file_var, path) in env {
        let Some(name) = file_var.strip_suffix("_FILE") else { continue };
        let known = name.starts_with("EZM__") || LEGACY_ENV.iter().any(|(legacy, _)| *legacy == name);
        if !known || env.get(name).is_some_and(|v| !v.is_empty()) {
            continue;
        }
        let content = std::fs::read_to_string(path)
            .map_err(|e| SettingsError::Invalid(format!("{file_var}={path}: cannot read the file: {e}")))?;
        out.insert(name.to_string(), content.trim_end_matches(['\r', '\n']).to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_are_the_reference_ports_and_databases() {
        let s = Settings::load(&env(&[])).unwrap();
        assert_eq!((s.ws_server.port, s.manager.port, s.console.port), (9190, 8543, 8443));
        assert_eq!(s.console_mysql.database, "xprofiler_console");
        assert_eq!(s.logs_mysql.database, "xprofiler_logs");
        assert_eq!(s.manager.retention_days, 8);
        assert!(s.uses_public_secret());
    }

    #[test]
    fn reference_environment_names_work_unchanged() {
        let s = Settings::load(&env(&[
            ("CONSOLE_MYSQL_HOST", "db1"),
            ("LOGS_MYSQL_PORT", "3307"),
            ("REDIS_SERVER", "r1:7000,r2:7001"),
            ("REDIS_DB", "2"),
            ("MANAGER_BASE_URL", "http://manager:8543"),
            ("WSS_PORT", "9999"),
        ]))
        .unwrap();
        assert_eq!(s.console_mysql.host, "db1");
        assert_eq!(s.logs_mysql.port, 3307);
        assert_eq!(s.redis.servers, "r1:7000,r2:7001");
        assert_eq!(s.redis.db, 2);
        assert_eq!(s.ws_server.manager_base_url, "http://manager:8543");
        assert_eq!(s.console.manager_base_url, "http://manager:8543");
        assert_eq!(s.ws_server.port, 9999);
    }

    #[test]
    fn all_in_one_names_fill_both_databases() {
        let s = Settings::load(&env(&[
            ("DB_SERVER_HOST", "mysql"),
            ("DB_USERNAME", "ezm"),
            ("DB_PASSWORD", "pw"),
            ("REDIS_SERVER_HOST", "redis"),
            ("EZM_SECRET", "s3cret"),
        ]))
        .unwrap();
        assert_eq!((s.console_mysql.host.as_str(), s.logs_mysql.host.as_str()), ("mysql", "mysql"));
        assert_eq!(s.logs_mysql.user, "ezm");
        assert_eq!(s.console_mysql.password.expose_secret(), "pw");
        assert_eq!(s.redis.servers, "redis:6379");
        assert!(!s.uses_public_secret());
    }

    #[test]
    fn structured_names_win_over_reference_names() {
        let s = Settings::load(&env(&[
            ("WSS_PORT", "9999"),
            ("EZM__WS_SERVER__PORT", "9191"),
            ("EZM__WS_SERVER__DUPLICATE_AGENT_POLICY", "shutdown_old"),
        ]))
        .unwrap();
        assert_eq!(s.ws_server.port, 9191);
        assert_eq!(s.ws_server.duplicate_agent_policy, DuplicateAgentPolicy::ShutdownOld);
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = Settings::load(&env(&[("DB_PASSWORD", "hunter2"), ("EZM_SECRET", "topsecret")])).unwrap();
        let text = format!("{s:?}");
        assert!(!text.contains("hunter2") && !text.contains("topsecret"), "{text}");
    }

    #[test]
    fn file_forms_read_secrets_from_files() {
        let dir = std::env::temp_dir().join(format!("ezm-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret = dir.join("secret");
        std::fs::write(&secret, "from-file\n").unwrap();
        let path = secret.to_str().unwrap();
        let s = Settings::load(&env(&[("EZM_SECRET_FILE", path), ("DB_PASSWORD_FILE", path), ("DB_PASSWORD", "")]))
            .unwrap();
        assert_eq!(s.shared.secret.expose_secret(), "from-file");
        assert_eq!(s.logs_mysql.password.expose_secret(), "from-file");
        // a value set directly wins; unknown *_FILE names are left alone
        let s = Settings::load(&env(&[("EZM_SECRET_FILE", path), ("EZM_SECRET", "direct"), ("HOME_FILE", "/nope")]))
            .unwrap();
        assert_eq!(s.shared.secret.expose_secret(), "direct");
        let err = Settings::load(&env(&[("EZM__SHARED__SECRET_FILE", "/nonexistent/ezm")])).unwrap_err();
        assert!(err.to_string().contains("EZM__SHARED__SECRET_FILE"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let err = Settings::load(&env(&[("WSS_PORT", "not-a-port")])).unwrap_err();
        assert!(err.to_string().contains("port"), "{err}");
        let err = Settings::load(&env(&[("EZM__SHARED__SECRET", "")])).unwrap_err();
        assert!(err.to_string().contains("EZM__SHARED__SECRET"), "{err}");
    }
}
