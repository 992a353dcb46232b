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
//! Unknown keys and bad values are refused with an error naming the key (`configuration: unknown key
//! ws_server.pingg_interval_secs (in the environment)`). Every key has a default, so `defaults.toml` is also the
//! list of known keys. [`Settings::load`] checks what all services share; each service checks its own section with
//! [`Settings::check_for`].
//!
//! The loader takes the environment as a map, so tests pass a literal map and never touch the process env.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("defaults.toml");
const DEFAULT_FILE: &str = "/etc/easy-monitor/config.toml";
/// The original's shared secret. Public knowledge, so it must be replaced in production.
pub const PUBLIC_DEFAULT_SECRET: &str = "easy-monitor::xprofiler";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub console_mysql: MysqlSettings,
    pub logs_mysql: MysqlSettings,
    pub redis: RedisSettings,
    pub shared: SharedSettings,
    pub ws_server: WsServerSettings,
    pub manager: ManagerSettings,
    pub alarm: AlarmSettings,
    pub console: ConsoleSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
    /// How long a forward keeps being retried while the manager is unreachable or failing (its MySQL or Redis
    /// down, say); meanwhile the agent's socket is not read (push-back). After it, the message is counted as failed.
    pub forward_max_wait_secs: u64,
    /// Gather forwarded messages into `/xtransit/batch` calls (ours). Off, or against a manager without that route,
    /// every message is one call on the original routes.
    pub forward_batch: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Keep the covering indexes of the process charts on the `process` day tables (added behind the start where
    /// missing); false drops them: each stored row costs ~25 % less to write, a process chart's first view of a week
    /// reads every row instead (~10x slower on tables larger than MySQL's buffer pool).
    pub process_trend_indexes: bool,
    /// Metric rows are written by a batching writer: at most this many rows per INSERT.
    pub insert_batch_rows: usize,
    /// Base URL of an npm-compatible registry whose bulk advisory endpoint audits the agents' lock files. Empty:
    /// no audit and no outbound call.
    pub audit_registry_url: String,
    /// How long an audit result is kept (the original's 5400 s); a package file is audited again after this.
    pub audit_cache_secs: u64,
}

/// The manager's alarm engine: evaluation, delivery and its channels.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmSettings {
    /// The console's address as its users reach it, for the links in alarm messages (the original's
    /// `xprofilerConsole`). Empty: messages carry no links.
    pub console_public_url: String,
    /// Logs waiting to be evaluated; beyond this they are not evaluated (counted), ingestion never waits.
    pub queue: usize,
    /// How often an app's cached rules are checked against the version the console bumps on every change.
    pub rules_check_secs: u64,
    /// Cached rules are re-read after this long even without a bump (rules changed by an original console).
    pub rules_max_age_secs: u64,
    /// Debounce window per rule, agent and channel (the original's `debounceWait`).
    pub debounce_secs: u64,
    /// How often held-back messages whose window ended are sent.
    pub flush_interval_secs: u64,
    /// Mails per app, rule and local day (the original's `messageLimit.mailer`); 0: no limit.
    pub mail_daily_limit: u64,
    /// Webhook messages per app, rule, channel and local day; 0: no limit.
    pub webhook_daily_limit: u64,
    /// Retries of a failed delivery (backing off from 1 s).
    pub send_retries: u32,
    pub send_timeout_ms: u64,
    /// Allow webhooks to loopback, private and link-local addresses (off: such addresses are refused).
    pub allow_private_webhooks: bool,
    /// How often the registry is scanned for agents whose heartbeat stopped (`manager.agent_offline_secs`).
    pub offline_check_secs: u64,
    /// A rule's automatic action runs at most once per process in this many seconds.
    pub action_interval_secs: u64,
    /// SMTP server for alarm mail; empty: no mail.
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    /// A PEM CA certificate to trust for the relay beside the public roots (a company CA); empty: the public roots.
    pub smtp_tls_ca_file: String,
    pub smtp_user: String,
    pub smtp_password: SecretString,
    /// Sender address; empty: `smtp_user`.
    pub smtp_from: String,
}

/// How the manager talks to its SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain SMTP (a relay on a trusted network, or a local sink).
    None,
    /// Plain connection upgraded with STARTTLS (port 587), required.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    pub host: String,
    pub port: u16,
    pub base_url: String,
    /// The path prefix the web UI is reached under (`/`, or e.g. `/ezm/` behind a proxy that strips it): written
    /// into the UI's `<base href>` when `index.html` is served. Starts and ends with `/`.
    pub base_path: String,
    /// A front-end build served instead of the embedded web UI (a customised xui, say): a directory with
    /// `index.html` at its top, or an xprofiler-console tree (`app/view/index.html` + `app/public/`). Empty: the
    /// embedded UI.
    pub ui_dir: String,
    pub manager_base_url: String,
    /// The ws-server address agents are told to use in the configuration a new app shows (`server` of xtransit).
    pub agent_server_url: String,
    /// Where uploaded profiles are kept (relative paths are from the working directory). One console node only.
    pub storage_dir: String,
    /// Largest agent upload, all parts together (the original allowed 4 GiB).
    pub max_upload_bytes: u64,
    /// An agent upload's timestamp may be this old, or this far ahead (clock skew); its nonce is remembered as long.
    pub upload_window_secs: u64,
    /// Where profiles are kept: `local` (`storage_dir`, one console replica) or `s3` (any S3-compatible store).
    pub storage_backend: StorageBackend,
    pub s3_bucket: String,
    pub s3_region: String,
    /// For S3-compatible stores other than AWS (MinIO, Ceph, …): their URL. Empty: AWS for `s3_region`.
    pub s3_endpoint: String,
    /// Empty: credentials from the environment or instance metadata, as the AWS SDKs look for them.
    pub s3_access_key_id: String,
    pub s3_secret_access_key: SecretString,
    /// Prepended to every object name (e.g. `profiles/`).
    pub s3_prefix: String,
    /// Allow an `http://` endpoint (a store on a trusted network or on loopback).
    pub s3_allow_http: bool,
    /// A signed-in session ends after this long without a request.
    pub session_idle_secs: u64,
    /// … and this long after sign-in at the latest.
    pub session_max_secs: u64,
    /// Accept HTTP Basic credentials (scripts, the original front-end). Off: only the session cookie.
    pub basic_auth: bool,
    /// Answer the page and API calls without a session or credentials with the HTTP Basic challenge, as the
    /// original did: for a front-end without a sign-in page of its own (the original xui). Needs `basic_auth`.
    pub basic_challenge: bool,
    /// An unknown e-mail signing in creates an account, as the original did. Off by default.
    pub self_registration: bool,
    /// The first administrator, created at start-up if no user has this name (`CONSOLE_ADMIN_USER`). Empty with
    /// no user in the database: a one-time password is generated for `admin@localhost` and logged once.
    pub admin_user: String,
    pub admin_password: SecretString,
    /// Failed sign-ins allowed per account, and per client address, within `signin_window_secs`.
    pub signin_max_failures_per_account: u32,
    pub signin_max_failures_per_address: u32,
    pub signin_window_secs: u64,
    /// How long the app cards' replies (`/xapi/overview_metrics`, `/xapi/main_metrics`) are served from memory;
    /// concurrent requests for one app share one computation. 0: computed for every request.
    pub overview_cache_ttl_ms: u64,
    /// How long the rows one trend chart read serve the other charts of its page (the front-end asks for the 8
    /// system charts or the 9 process charts at once). 0: every chart reads its own.
    pub trend_cache_ttl_ms: u64,
    /// How long the rows of a past day (a day table that no longer changes) serve the trend charts; today's rows
    /// are always read. 0: every chart reads its whole window.
    pub trend_day_cache_ttl_ms: u64,
    /// Megabytes of past days' rows kept at most, for the system charts and again for the process charts (a week
    /// of one agent's system rows is ~4 MB, of one process's ~3 MB).
    pub trend_day_cache_mb: u64,
}

/// Where the console keeps profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageBackend {
    Local,
    S3,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `info,manager=debug`. `RUST_LOG` wins when set.
    pub filter: String,
}

/// How the services write their logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One JSON object a line (production).
    Json,
    /// Human-readable lines (local).
    Pretty,
}

/// The three services, for [`Settings::check_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    WsServer,
    Manager,
    Console,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    /// A key no section has: a typo, or a setting of another version.
    #[error("configuration: unknown key {key}{}", within(.origin))]
    UnknownKey { key: String, origin: Option<String> },
    /// A value of the wrong type, or not one of an enum's names.
    #[error("configuration: bad value for {key}: {reason}{}", within(.origin))]
    BadValue { key: String, reason: String, origin: Option<String> },
    #[error("configuration: {0}")]
    Invalid(String),
}

/// ` (in <origin>)`: the environment, or the file a value came from.
fn within(origin: &Option<String>) -> String {
    origin.as_ref().map(|o| format!(" (in {o})")).unwrap_or_default()
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
    // ours: the console's first administrator, the agents' ws-server address
    ("CONSOLE_ADMIN_USER", &["console.admin_user"]),
    ("AGENT_SERVER_URL", &["console.agent_server_url"]),
    ("CONSOLE_ADMIN_PASSWORD", &["console.admin_password"]),
];

impl Settings {
    /// Loads the settings from the layers described above, with `env` standing for the process environment.
    pub fn load(env: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let env = &with_file_values(env)?;
        let mut builder = config::Config::builder().add_source(defaults_source());
        builder = match env.get("EZM_CONFIG") {
            Some(path) => builder.add_source(config::File::with_name(path).required(true)),
            None => builder.add_source(config::File::with_name(DEFAULT_FILE).required(false)),
        };
        // Structured names first; a reference name fills a key only when no structured name sets it.
        // `<NAME>_FILE` forms are resolved above; passed on they would be unknown keys.
        let mut structured: HashMap<String, String> =
            env.iter().filter(|(k, _)| k.starts_with("EZM__") && file_form(k).is_none()).map(|(k, v)| (k.clone(), v.clone())).collect();
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
        builder = builder.add_source(config::Environment::with_prefix("EZM").prefix_separator("__").separator("__").source(Some(structured)));
        let settings = parse(builder.build()?)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Loads from the process environment.
    pub fn from_process_env() -> Result<Self, SettingsError> {
        Self::load(&std::env::vars().collect())
    }

    /// The checks every service needs ([`Settings::load`] runs them).
    fn validate(&self) -> Result<(), SettingsError> {
        if self.shared.secret.expose_secret().is_empty() {
            return Err(SettingsError::Invalid("shared.secret is empty: set EZM__SHARED__SECRET".into()));
        }
        if self.redis.servers.trim().is_empty() {
            return Err(SettingsError::Invalid("redis.servers is empty: set REDIS_SERVER=host:port".into()));
        }
        Ok(())
    }

    /// Checks the section of `service`, to be called by its `main` after [`Settings::load`] (a service does not
    /// care about the other services' sections). All problems are reported at once.
    pub fn check_for(&self, service: Service) -> Result<(), SettingsError> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, problem: &str| {
            if !ok {
                problems.push(problem.to_owned());
            }
        };
        match service {
            Service::WsServer => {
                let s = &self.ws_server;
                check(s.max_message_bytes >= 1024 * 1024, "ws_server.max_message_bytes below 1 MiB refuses real agents' package logs");
                check(s.ping_interval_secs >= 1, "ws_server.ping_interval_secs must be at least 1");
                check(s.client_timeout_secs > s.ping_interval_secs, "ws_server.client_timeout_secs must be greater than ws_server.ping_interval_secs");
                let url = is_http_url(&s.manager_base_url);
                check(url, "ws_server.manager_base_url must start with http:// or https://");
            }
            Service::Manager => {
                let s = &self.manager;
                check(s.retention_hour <= 23, "manager.retention_hour must be an hour of the day, 0 to 23");
                check(s.retention_days >= 1, "manager.retention_days must be at least 1");
                check(s.insert_batch_rows >= 1, "manager.insert_batch_rows must be at least 1");
                let audit = s.audit_registry_url.is_empty() || is_http_url(&s.audit_registry_url);
                check(audit, "manager.audit_registry_url must be empty or start with http:// or https://");
                let a = &self.alarm;
                let url = a.console_public_url.is_empty() || is_http_url(&a.console_public_url);
                check(url, "alarm.console_public_url must be empty or start with http:// or https://");
                check(a.queue >= 1, "alarm.queue must be at least 1");
                check(a.rules_check_secs >= 1, "alarm.rules_check_secs must be at least 1");
                check(a.debounce_secs >= 1, "alarm.debounce_secs must be at least 1");
                check(a.flush_interval_secs >= 1, "alarm.flush_interval_secs must be at least 1");
                check(a.offline_check_secs >= 1, "alarm.offline_check_secs must be at least 1");
            }
            Service::Console => {
                let s = &self.console;
                check(s.upload_window_secs >= 1, "console.upload_window_secs must be at least 1");
                check(s.max_upload_bytes >= 1, "console.max_upload_bytes must be at least 1");
                check(is_http_url(&s.base_url), "console.base_url must start with http:// or https://");
                check(is_http_url(&s.manager_base_url), "console.manager_base_url must start with http:// or https://");
                check(is_base_path(&s.base_path), "console.base_path must start and end with / and hold only letters, digits, - . _ ~ and single /");
                let ws = s.agent_server_url.starts_with("ws://") || s.agent_server_url.starts_with("wss://");
                check(ws, "console.agent_server_url must start with ws:// or wss://");
                let s3 = s.storage_backend == StorageBackend::S3;
                check(!s3 || !s.s3_bucket.trim().is_empty(), "console.s3_bucket is empty but console.storage_backend is s3");
                check(s.session_idle_secs >= 60, "console.session_idle_secs must be at least 60");
                check(s.session_max_secs >= s.session_idle_secs, "console.session_max_secs must be at least console.session_idle_secs");
                let admin = (s.admin_user.trim().is_empty(), s.admin_password.expose_secret().is_empty());
                check(admin.0 == admin.1, "set both CONSOLE_ADMIN_USER and CONSOLE_ADMIN_PASSWORD, or neither");
                check(s.signin_window_secs >= 1, "console.signin_window_secs must be at least 1");
                check(!s.basic_challenge || s.basic_auth, "console.basic_challenge needs console.basic_auth");
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SettingsError::Invalid(problems.join("; ")))
        }
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

fn is_http_url(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// `/` or `/a/b/`: safe to write into an HTML attribute as it is, and a path a proxy prefix can be.
fn is_base_path(path: &str) -> bool {
    let plain = path.chars().all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c));
    plain && path.starts_with('/') && path.ends_with('/') && !path.contains("//")
}

/// Every key as `section.key`, with its default.
fn defaults() -> &'static BTreeMap<String, config::Value> {
    static DEFAULT_KEYS: OnceLock<BTreeMap<String, config::Value>> = OnceLock::new();
    DEFAULT_KEYS.get_or_init(|| {
        let config = config::Config::builder().add_source(defaults_source()).build().expect("defaults.toml parses");
        keys(&config).expect("defaults.toml is a table of sections")
    })
}

fn defaults_source() -> config::File<config::FileSourceString, config::FileFormat> {
    config::File::from_str(DEFAULTS, config::FileFormat::Toml)
}

/// The values of `config` by `section.key` (a section given as a plain value is listed under its name).
fn keys(config: &config::Config) -> Result<BTreeMap<String, config::Value>, config::ConfigError> {
    let mut out = BTreeMap::new();
    for (section, value) in config::Source::collect(config)? {
        match value.kind {
            config::ValueKind::Table(table) => {
                out.extend(table.into_iter().map(|(key, value)| (format!("{section}.{key}"), value)));
            }
            _ => {
                out.insert(section, value);
            }
        }
    }
    Ok(out)
}

/// Deserializes the merged layers, with errors naming the key. config names the key of a value of the wrong type,
/// but neither an unknown key's section nor the key of an unknown enum name, so unknown keys are found by comparing
/// with the defaults, and an unknown enum name by applying the given values to the defaults one at a time.
fn parse(config: config::Config) -> Result<Settings, SettingsError> {
    let given = keys(&config)?;
    let origin = |key: &str| given.get(key).and_then(|value| value.origin()).map(String::from);
    if let Some(key) = given.keys().find(|key| !defaults().contains_key(*key)) {
        return Err(SettingsError::UnknownKey { key: key.clone(), origin: origin(key) });
    }
    let error = match config.try_deserialize() {
        Ok(settings) => return Ok(settings),
        Err(error) => error,
    };
    let (key, reason) = match error {
        config::ConfigError::Type { key: Some(key), unexpected, expected, .. } => (key, format!("{unexpected}, expected {expected}")),
        error => match given.iter().find(|(key, value)| parse_alone(key, value).is_err()) {
            Some((key, _)) => (key.clone(), error.to_string()),
            None => return Err(error.into()),
        },
    };
    Err(SettingsError::BadValue { origin: origin(&key), key, reason })
}

/// The defaults with just `key` set to `value`.
fn parse_alone(key: &str, value: &config::Value) -> Result<Settings, config::ConfigError> {
    let config = config::Config::builder().add_source(defaults_source()).set_override(key, value.clone())?.build()?;
    config.try_deserialize()
}

/// The name a `<NAME>_FILE` variable stands for, if it is one: a reference name, or the `EZM__…` name of a key.
/// `EZM__CONSOLE_MYSQL__TLS_CA_FILE` is the key `console_mysql.tls_ca_file` itself, not a file form.
fn file_form(var: &str) -> Option<&str> {
    let name = var.strip_suffix("_FILE")?;
    if LEGACY_ENV.iter().any(|(legacy, _)| *legacy == name) {
        return Some(name);
    }
    let is_key = |name: &str| name.strip_prefix("EZM__").is_some_and(|rest| defaults().contains_key(&rest.to_lowercase().replace("__", ".")));
    (is_key(name) && !is_key(var)).then_some(name)
}

/// Resolves `<NAME>_FILE` variables of the names the loader reads (reference names and `EZM__…`) into `<NAME>`.
fn with_file_values(env: &HashMap<String, String>) -> Result<HashMap<String, String>, SettingsError> {
    let mut out = env.clone();
    for (file_var, path) in env {
        let Some(name) = file_form(file_var) else { continue };
        if env.get(name).is_some_and(|v| !v.is_empty()) {
            continue;
        }
        let content = std::fs::read_to_string(path).map_err(|e| SettingsError::Invalid(format!("{file_var}={path}: cannot read the file: {e}")))?;
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

    /// The keys `deploy/configuration.md`'s key table names: the backticked names of each row's first column after the
    /// `| key | default | meaning |` header, with `section.a/b/c` meaning `section.a`, `section.b`, `section.c` and
    /// `section.*` every key of the section.
    fn documented_keys(doc: &str, known: &BTreeMap<String, config::Value>) -> std::collections::BTreeSet<String> {
        let mut keys = std::collections::BTreeSet::new();
        let rows = doc.lines().skip_while(|l| !l.starts_with("| key | default | meaning |")).skip(2);
        for row in rows.take_while(|l| l.starts_with('|')) {
            let first = row.trim_start_matches('|').split('|').next().unwrap_or_default();
            for name in first.split('`').skip(1).step_by(2) {
                let Some((section, rest)) = name.split_once('.') else { continue };
                if rest == "*" {
                    keys.extend(known.keys().filter(|k| k.starts_with(&format!("{section}."))).cloned());
                    continue;
                }
                keys.extend(rest.split('/').map(|key| format!("{section}.{key}")));
            }
        }
        keys
    }

    #[test]
    fn the_configuration_reference_documents_every_key_and_no_other() {
        let doc = include_str!("../../../deploy/configuration.md");
        let known = defaults();
        let documented = documented_keys(doc, known);
        let missing: Vec<_> = known.keys().filter(|k| !documented.contains(*k)).collect();
        let unknown: Vec<_> = documented.iter().filter(|k| !known.contains_key(*k)).collect();
        assert!(missing.is_empty(), "keys of defaults.toml not in deploy/configuration.md's key table: {missing:?}");
        assert!(unknown.is_empty(), "keys deploy/configuration.md documents that the services do not read: {unknown:?}");
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
        let s = Settings::load(&env(&[("WSS_PORT", "9999"), ("EZM__WS_SERVER__PORT", "9191"), ("EZM__WS_SERVER__DUPLICATE_AGENT_POLICY", "shutdown_old")]))
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
        let s = Settings::load(&env(&[("EZM_SECRET_FILE", path), ("DB_PASSWORD_FILE", path), ("DB_PASSWORD", "")])).unwrap();
        assert_eq!(s.shared.secret.expose_secret(), "from-file");
        assert_eq!(s.logs_mysql.password.expose_secret(), "from-file");
        // a value set directly wins; unknown *_FILE names are left alone
        let s = Settings::load(&env(&[("EZM_SECRET_FILE", path), ("EZM_SECRET", "direct"), ("HOME_FILE", "/nope")])).unwrap();
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

    #[test]
    fn bad_values_name_their_key() {
        let err = Settings::load(&env(&[("WSS_PORT", "not-a-port")])).unwrap_err();
        assert_eq!(err.to_string(), "configuration: bad value for ws_server.port: string \"not-a-port\", expected an integer (in the environment)");
        let err = Settings::load(&env(&[("EZM__MANAGER__CREATE_SCHEMA", "maybe")])).unwrap_err();
        assert!(err.to_string().starts_with("configuration: bad value for manager.create_schema: "), "{err}");
        let err = Settings::load(&env(&[("EZM__LOGS_MYSQL__TLS", "sometimes")])).unwrap_err();
        assert!(err.to_string().starts_with("configuration: bad value for logs_mysql.tls: "), "{err}");
    }

    #[test]
    fn log_format_is_json_or_pretty() {
        let s = Settings::load(&env(&[])).unwrap();
        assert_eq!(s.log.format, LogFormat::Json);
        let s = Settings::load(&env(&[("EZM__LOG__FORMAT", "pretty")])).unwrap();
        assert_eq!(s.log.format, LogFormat::Pretty);
        let err = Settings::load(&env(&[("EZM__LOG__FORMAT", "xml")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration: bad value for log.format: enum LogFormat does not have variant constructor xml \
             (in the environment)"
        );
    }

    #[test]
    fn unknown_keys_are_refused_naming_section_and_key() {
        let err = Settings::load(&env(&[("EZM__WS_SERVER__PINGG_INTERVAL_SECS", "10")])).unwrap_err();
        assert_eq!(err.to_string(), "configuration: unknown key ws_server.pingg_interval_secs (in the environment)");
        let err = Settings::load(&env(&[("EZM__WSSERVER__PORT", "1")])).unwrap_err();
        assert!(err.to_string().contains("unknown key wsserver.port"), "{err}");
        // a `_FILE` form of no key is no file form: refused as the key it spells
        let err = Settings::load(&env(&[("EZM__SHARED__SECRETT_FILE", "/nope")])).unwrap_err();
        assert!(err.to_string().contains("unknown key shared.secrett_file"), "{err}");
    }

    #[test]
    fn unknown_keys_in_the_operator_file_are_refused() {
        let dir = std::env::temp_dir().join(format!("ezm-settings-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config.toml");
        std::fs::write(&file, "[manager]\nretention_days = 9\nretention_dayz = 9\n").unwrap();
        let path = file.to_str().unwrap();
        // config names the file relative to the working directory
        let err = Settings::load(&env(&[("EZM_CONFIG", path)])).unwrap_err().to_string();
        assert!(err.starts_with("configuration: unknown key manager.retention_dayz (in "), "{err}");
        assert!(err.ends_with(&format!("{}/config.toml)", dir.file_name().unwrap().to_str().unwrap())), "{err}");
        std::fs::write(&file, "[manager]\nretention_days = 9\n").unwrap();
        assert_eq!(Settings::load(&env(&[("EZM_CONFIG", path)])).unwrap().manager.retention_days, 9);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_structs_refuse_unknown_fields_themselves() {
        let config = config::Config::builder().add_source(defaults_source()).set_override("log.extra", 1).unwrap().build().unwrap();
        let err = config.try_deserialize::<Settings>().unwrap_err();
        assert!(err.to_string().contains("unknown field `extra`"), "{err}");
    }

    #[test]
    fn structured_file_forms_are_no_keys() {
        let dir = std::env::temp_dir().join(format!("ezm-settings-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret = dir.join("secret");
        std::fs::write(&secret, "structured-from-file\n").unwrap();
        let path = secret.to_str().unwrap();
        let s = Settings::load(&env(&[("EZM__SHARED__SECRET_FILE", path)])).unwrap();
        assert_eq!(s.shared.secret.expose_secret(), "structured-from-file");
        let s = Settings::load(&env(&[("EZM__SHARED__SECRET_FILE", path), ("EZM__SHARED__SECRET", "direct")])).unwrap();
        assert_eq!(s.shared.secret.expose_secret(), "direct");
        // a key whose name ends in _FILE is that key, not a file form
        let s = Settings::load(&env(&[("EZM__CONSOLE_MYSQL__TLS_CA_FILE", path)])).unwrap();
        assert_eq!(s.console_mysql.tls_ca_file, path);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn defaults_pass_every_service_check() {
        let s = Settings::load(&env(&[])).unwrap();
        for service in [Service::WsServer, Service::Manager, Service::Console] {
            s.check_for(service).unwrap();
        }
    }

    #[test]
    fn service_checks_name_the_key() {
        let refused = |pairs: &[(&str, &str)], service: Service, key: &str| {
            let s = Settings::load(&env(pairs)).unwrap();
            let err = s.check_for(service).unwrap_err().to_string();
            assert!(err.starts_with("configuration: ") && err.contains(key), "{err}");
        };
        refused(&[("EZM__WS_SERVER__MAX_MESSAGE_BYTES", "1000")], Service::WsServer, "ws_server.max_message_bytes");
        refused(&[("EZM__WS_SERVER__PING_INTERVAL_SECS", "0")], Service::WsServer, "ws_server.ping_interval_secs");
        refused(&[("EZM__WS_SERVER__CLIENT_TIMEOUT_SECS", "20")], Service::WsServer, "ws_server.client_timeout_secs");
        refused(&[("MANAGER_BASE_URL", "manager:8543")], Service::WsServer, "ws_server.manager_base_url");
        refused(&[("EZM__MANAGER__RETENTION_HOUR", "24")], Service::Manager, "manager.retention_hour");
        refused(&[("EZM__MANAGER__RETENTION_DAYS", "0")], Service::Manager, "manager.retention_days");
        refused(&[("EZM__MANAGER__INSERT_BATCH_ROWS", "0")], Service::Manager, "manager.insert_batch_rows");
        refused(&[("EZM__CONSOLE__UPLOAD_WINDOW_SECS", "0")], Service::Console, "console.upload_window_secs");
        refused(&[("EZM__CONSOLE__MAX_UPLOAD_BYTES", "0")], Service::Console, "console.max_upload_bytes");
        refused(&[("CONSOLE_BASE_URL", "console.example.com")], Service::Console, "console.base_url");
        refused(&[("EZM__CONSOLE__MANAGER_BASE_URL", "ftp://manager")], Service::Console, "console.manager_base_url");
        for bad in ["ezm/", "/ezm", "", "//", "/a//b/", "/a\"b/", "/<x>/", "/a b/"] {
            refused(&[("EZM__CONSOLE__BASE_PATH", bad)], Service::Console, "console.base_path");
        }
        for good in ["/", "/ezm/", "/a/b-c_d.e~f/"] {
            let s = Settings::load(&env(&[("EZM__CONSOLE__BASE_PATH", good)])).unwrap();
            assert!(s.check_for(Service::Console).is_ok(), "{good}");
        }
        // every problem at once
        let s = Settings::load(&env(&[("EZM__MANAGER__RETENTION_HOUR", "24"), ("EZM__MANAGER__RETENTION_DAYS", "0")])).unwrap();
        let err = s.check_for(Service::Manager).unwrap_err().to_string();
        assert!(err.contains("manager.retention_hour") && err.contains("manager.retention_days"), "{err}");
    }

    #[test]
    fn a_service_ignores_the_other_sections() {
        let pairs = [("EZM__MANAGER__RETENTION_HOUR", "24"), ("EZM__WS_SERVER__CLIENT_TIMEOUT_SECS", "1")];
        let s = Settings::load(&env(&pairs)).unwrap();
        s.check_for(Service::Console).unwrap();
        assert!(s.check_for(Service::WsServer).is_err() && s.check_for(Service::Manager).is_err());
    }
}
