//! Redis key names: the original manager's and console's, so both can share one Redis, behind the configured prefix
//! (the services' `RedisPool` is built with the same prefix; tests use a unique one).

/// Builds full key names under one prefix.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: impl Into<String>) -> Self {
        Keys { prefix: prefix.into() }
    }

    fn key(&self, name: std::fmt::Arguments<'_>) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Set of the appIds that have registered agents.
    pub fn apps(&self) -> String {
        self.key(format_args!("XTRANSIT_APP"))
    }

    /// Hash agentId → `{clientId, server, timestamp}` of an app's online agents.
    pub fn clients(&self, app: &str) -> String {
        self.key(format_args!("XTRANSIT_CLIENT::{app}"))
    }

    /// Set of every agent's log-file hash key.
    pub fn log_file_sets(&self) -> String {
        self.key(format_args!("XTRANSIT_LOG"))
    }

    /// Hash path → `{appId, agentId, type, timestamp}` of the files an agent reported.
    pub fn log_files(&self, app: &str, agent: &str) -> String {
        self.key(format_args!("XTRANSIT_LOG_FILE::{app}::{agent}"))
    }

    /// List of an error-log file's entries, newest first.
    pub fn error_log(&self, app: &str, agent: &str, file: &str) -> String {
        self.key(format_args!("XTRANSIT_ERROR_LOG::{app}::{agent}::{file}"))
    }

    /// `{pkg, lock}` texts of one package.json.
    pub fn package(&self, app: &str, file: &str) -> String {
        self.key(format_args!("XTRANSIT_PKG_LOG::{app}::{file}"))
    }

    /// `{risk, riskModules}` of an agent's package file's last dependency audit.
    pub fn package_audit(&self, app: &str, agent: &str, file: &str) -> String {
        self.key(format_args!("XTRANSIT_PKG_AUDIT::{app}::{agent}::{file}"))
    }

    /// Ours: marks a forwarded log (by the agent frame's traceId) as stored, so a retried post is not stored twice.
    pub fn ingested(&self, trace_id: &str) -> String {
        self.key(format_args!("EZM_INGESTED::{trace_id}"))
    }

    /// Alarm debounce: set while a rule's window is open for an agent and channel (the original's name).
    pub fn debounce_flag(&self, app: &str, strategy: u64, agent: &str, channel: &str) -> String {
        self.key(format_args!("XTRANSIT_DEBOUNCE_FLAG::{app}::{strategy}::{agent}::{channel}"))
    }

    /// Alarm debounce: the messages held back while the window is open (the original's name).
    pub fn debounce_list(&self, app: &str, strategy: u64, agent: &str, channel: &str) -> String {
        self.key(format_args!("XTRANSIT_DEBOUNCE_LIST::{app}::{strategy}::{agent}::{channel}"))
    }

    /// Ours: sorted set of the debounce lists holding messages, scored by when their window ends (ms), so
    /// they are sent when no later alarm comes. Members are `{app}::{strategy}::{agent}::{channel}`.
    pub fn debounce_pending(&self) -> String {
        self.key(format_args!("EZM_DEBOUNCE_PENDING"))
    }

    /// Messages sent on a channel for one rule on one local day (`YYYYMMDD`). The original's name, four colons
    /// included.
    pub fn message_limit(&self, date: &str, app: &str, strategy: u64, channel: &str) -> String {
        self.key(format_args!("XTRANSIT_MESSAGE_LIMIT::::{date}::{app}::{strategy}::{channel}"))
    }

    /// Ours: bumped by the console whenever an app's alarm rules change, so the managers reload them.
    pub fn alarm_rules_version(&self, app: &str) -> String {
        self.key(format_args!("EZM_ALARM_RULES_VERSION::{app}"))
    }

    /// Ours: set (NX) by the one manager that raises an agent's offline alarm for a connection.
    pub fn agent_offline(&self, app: &str, agent: &str, client: &str) -> String {
        self.key(format_args!("EZM_AGENT_OFFLINE::{app}::{agent}::{client}"))
    }

    /// Ours: set (NX) while an automatic action of a rule on a process is within its interval (rate limit).
    pub fn alarm_action(&self, app: &str, agent: &str, pid: i64, strategy: u64) -> String {
        self.key(format_args!("EZM_ALARM_ACTION::{app}::{agent}::{pid}::{strategy}"))
    }

    /// Ours: set (NX) by the one manager that sends a given alarm message on a channel.
    pub fn alarm_sent(&self, digest: &str) -> String {
        self.key(format_args!("EZM_ALARM_SENT::{digest}"))
    }

    /// A console session, by the SHA-256 (hex) of its token.
    pub fn session(&self, token_sha256: &str) -> String {
        self.key(format_args!("EZM_SESSION::{token_sha256}"))
    }

    /// Failed console sign-ins of an `account` or an `address` (`scope`) in the current window.
    pub fn signin_failures(&self, scope: &str, who: &str) -> String {
        self.key(format_args!("EZM_SIGNIN_FAIL::{scope}::{who}"))
    }

    /// A spent upload nonce (console).
    pub fn upload_nonce(&self, nonce: &str) -> String {
        self.key(format_args!("XTRANSIT_UPLOAD_NONCE::{nonce}"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_the_originals_behind_the_prefix() {
        let k = super::Keys::new("p:");
        assert_eq!(k.clients("1"), "p:XTRANSIT_CLIENT::1");
        assert_eq!(k.error_log("1", "a", "/x.log"), "p:XTRANSIT_ERROR_LOG::1::a::/x.log");
        assert_eq!(super::Keys::default().apps(), "XTRANSIT_APP");
        assert_eq!(k.debounce_flag("1", 2, "a", "mailer"), "p:XTRANSIT_DEBOUNCE_FLAG::1::2::a::mailer");
        assert_eq!(k.message_limit("20240301", "1", 2, "mailer"), "p:XTRANSIT_MESSAGE_LIMIT::::20240301::1::2::mailer");
    }
}
