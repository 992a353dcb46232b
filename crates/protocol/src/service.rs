//! Signed JSON bodies between the services (`/xapi/*`, `/xtransit/*`, `/xprofiler/*`) and their reply envelope.
//!
//! The original signs `JSON.stringify(body)` with HMAC-SHA1 under a shared secret, then sends the same object with
//! `signature` appended as its last member. We sign the same way, so the original services accept our bodies, and
//! we verify on the raw text (no re-serialization), falling back to the original's re-serialize-and-compare for
//! senders that put the member elsewhere.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::ids::{AgentId, AppId, ClientId};
use crate::lenient;
use crate::sign::{hmac_sha1_hex, split_trailing_signature, verify_hmac_sha1_hex};

/// Why a signed body was refused. The messages are the original's (they are shown to callers as is).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignError {
    #[error("需要签名")]
    Missing,
    #[error("签名错误")]
    Mismatch,
    #[error("body is not a JSON object")]
    NotAnObject,
}

/// Serializes `body` compactly and appends `"signature"` as its last member.
pub fn sign_body<T: Serialize>(secret: &[u8], body: &T) -> String {
    let text = serde_json::to_string(body).expect("service bodies are made of strings, integers, arrays and maps");
    sign_text(secret, &text)
}

/// Same as [`sign_body`] for an already serialized JSON object.
pub fn sign_text(secret: &[u8], object_text: &str) -> String {
    let sig = hmac_sha1_hex(secret, &[object_text.as_bytes()]);
    let inner = object_text.strip_suffix('}').expect("a serialized JSON object ends with `}`");
    match inner.trim() == "{" {
        true => format!("{{\"signature\":\"{sig}\"}}"),
        false => format!("{inner},\"signature\":\"{sig}\"}}"),
    }
}

/// Verifies a signed body.
pub fn verify_body(secret: &[u8], raw: &str) -> Result<(), SignError> {
    if let Some((prefix, sig)) = split_trailing_signature(raw) {
        if verify_hmac_sha1_hex(secret, &[prefix.as_bytes(), b"}"], sig) {
            return Ok(());
        }
    }
    // Fallback: the original's own method (parse, drop `signature`, stringify, compare).
    let mut object: Map<String, Value> = serde_json::from_str(raw).map_err(|_| SignError::NotAnObject)?;
    let sig = match object.shift_remove("signature") {
        Some(Value::String(s)) => s,
        _ => return Err(SignError::Missing),
    };
    let text = serde_json::to_string(&object).expect("a parsed JSON map always serializes");
    match verify_hmac_sha1_hex(secret, &[text.as_bytes()], &sig) {
        true => Ok(()),
        false => Err(SignError::Mismatch),
    }
}

/// The reply envelope of every service route: `{"ok":true,"data":…}` or `{"ok":false,"message":…,"code":…}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Reply<T> {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Value>,
}

impl<T> Reply<T> {
    pub fn ok(data: T) -> Self {
        Reply { ok: true, data: Some(data), message: None, code: None }
    }

    pub fn fail(message: impl Into<String>, code: Option<Value>) -> Self {
        Reply { ok: false, data: None, message: Some(message.into()), code }
    }
}

impl Reply<()> {
    /// `{"ok":true}` with no data.
    pub fn done() -> Self {
        Reply { ok: true, data: None, message: None, code: None }
    }
}

// ---- ws-server → manager -------------------------------------------------------------------------------------

/// `/xtransit/update_client`, sent for every heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateClient {
    pub app_id: AppId,
    pub agent_id: AgentId,
    pub client_id: ClientId,
    /// `host:port` of the ws-server's HTTP API, without a scheme (as the original).
    pub server: String,
    #[serde(deserialize_with = "lenient::int")]
    pub timestamp: i64,
}

/// `/xtransit/remove_client`, sent when a socket closes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveClient {
    pub app_id: AppId,
    pub agent_id: AgentId,
    pub client_id: ClientId,
}

/// `/xtransit/log` as the ws-server sends it: the agent's `data` is passed through untouched.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardLog<'a> {
    pub app_id: &'a AppId,
    pub agent_id: &'a AgentId,
    pub log: &'a RawValue,
    /// Ours, ignored by the original manager: the agent frame's traceId, so a retried forward is stored once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<&'a str>,
}

/// `/xtransit/log` as the manager reads it ([`ForwardLog`] on the other side).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogPost {
    pub app_id: AppId,
    pub agent_id: AgentId,
    pub log: Box<RawValue>,
    #[serde(default)]
    pub trace_id: Option<String>,
}

/// `/xtransit/update_action_status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateActionStatus {
    pub app_id: AppId,
    pub agent_id: AgentId,
    pub file_path: String,
}

/// `/xtransit/app_secret`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSecretQuery {
    pub app_id: AppId,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AppSecret {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `/xtransit/batch` (ours; the original manager does not have it): several of the calls above in one signed
/// request. `route` is the last path segment (`update_client`, `log`, `update_action_status`, `remove_client`),
/// `body` the body that route takes. The reply's `data.results` has one entry per item, in order.
#[derive(Debug, Serialize, Deserialize)]
pub struct Batch<'a> {
    #[serde(borrow)]
    pub items: Vec<BatchItem<'a>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BatchItem<'a> {
    pub route: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub body: &'a RawValue,
    /// Set when the item was sent before and may have been stored: only then must the manager look for a duplicate.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retry: bool,
}

/// One item's outcome. `retry` is set when the manager failed for a reason of its own (MySQL or Redis down), so the
/// item may succeed later; otherwise a failed item was refused for good.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retry: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchResults {
    pub results: Vec<ItemResult>,
}

// ---- manager → ws-server -------------------------------------------------------------------------------------

/// `/xapi/exec_command`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecCommandRequest {
    pub app_id: AppId,
    pub agent_id: AgentId,
    pub client_id: ClientId,
    #[serde(deserialize_with = "lenient::text")]
    pub command: String,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_uint")]
    pub expired_time: Option<u64>,
}

/// `/xapi/shutdown`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShutdownRequest {
    pub app_id: AppId,
    pub agent_id: AgentId,
    pub old_client_id: ClientId,
}

/// One client in `/xapi/check_client_alive`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientRef {
    pub app_id: AppId,
    pub agent_id: AgentId,
    pub client_id: ClientId,
}

/// `/xapi/check_client_alive`; the reply `data` is `{"0":true,"1":false,…}` by position.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckClientAlive {
    pub clients: Vec<ClientRef>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_uint")]
    pub expired_time: Option<u64>,
}

// ---- console → manager (`/xprofiler/*`) ----------------------------------------------------------------------

/// `/xprofiler/clients`: the app's live agents.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppQuery {
    pub app_id: AppId,
}

/// `/xprofiler/client`: one agent's registry entry, if it is live (`agentId` may be left out, as the original).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientQuery {
    pub app_id: AppId,
    #[serde(default)]
    pub agent_id: AgentId,
}

/// The two kinds of files an agent reports in its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFileKind {
    Error,
    Package,
}

/// `/xprofiler/files`: the error-log or package files the agent reported recently.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilesQuery {
    pub app_id: AppId,
    pub agent_id: AgentId,
    #[serde(rename = "type")]
    pub kind: LogFileKind,
}

/// `/xprofiler/errors`: one page of an error file, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorsQuery {
    pub app_id: AppId,
    pub agent_id: AgentId,
    pub error_file: String,
    #[serde(deserialize_with = "lenient::uint")]
    pub current_page: u64,
    #[serde(deserialize_with = "lenient::uint")]
    pub page_size: u64,
}

/// `/xprofiler/modules`: the dependencies of one package file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModulesQuery {
    pub app_id: AppId,
    pub agent_id: AgentId,
    pub module_file: String,
}

/// The agent a command goes to, and how long to wait for its answer. Every command route takes these members.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandTarget {
    pub app_id: AppId,
    pub agent_id: AgentId,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_uint")]
    pub expired_time: Option<u64>,
}

/// `/xprofiler/agent_osinfo`, `/xprofiler/agent_node_processes`: a command without arguments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentCommand {
    #[serde(flatten)]
    pub target: CommandTarget,
}

/// `/xprofiler/check_process_status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessCommand {
    #[serde(flatten)]
    pub target: CommandTarget,
    #[serde(deserialize_with = "lenient::text")]
    pub pid: String,
}

/// `/xprofiler/check_processes_alive`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessesCommand {
    #[serde(flatten)]
    pub target: CommandTarget,
    #[serde(deserialize_with = "lenient::texts")]
    pub pids: Vec<String>,
}

/// `/xprofiler/check_file_status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileStatusCommand {
    #[serde(flatten)]
    pub target: CommandTarget,
    #[serde(rename = "filePath", deserialize_with = "lenient::text")]
    pub file_path: String,
}

/// `/xprofiler/take_action`: an `xprofctl` command (`start_cpu_profiling`, `heapdump`, …) for one process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TakeAction {
    #[serde(flatten)]
    pub target: CommandTarget,
    #[serde(deserialize_with = "lenient::text")]
    pub pid: String,
    #[serde(deserialize_with = "lenient::text")]
    pub command: String,
    pub options: Value,
}

/// `/xprofiler/transfer_file`: the agent uploads `filePath` to `server` (the console) with the one-time `token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferFile {
    #[serde(flatten)]
    pub target: CommandTarget,
    #[serde(deserialize_with = "lenient::text")]
    pub file_id: String,
    #[serde(deserialize_with = "lenient::text")]
    pub file_type: String,
    #[serde(deserialize_with = "lenient::text")]
    pub file_path: String,
    #[serde(deserialize_with = "lenient::text")]
    pub server: String,
    #[serde(deserialize_with = "lenient::text")]
    pub token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"easy-monitor::xprofiler";

    #[test]
    fn signed_bodies_verify_and_keep_the_signature_last() {
        let body =
            UpdateClient { app_id: AppId::Number(1), agent_id: "vm".into(), client_id: "c".into(), server: "127.0.0.1:9190".into(), timestamp: 1795628290084 };
        let signed = sign_body(SECRET, &body);
        assert!(signed.starts_with(r#"{"appId":1,"agentId":"vm","clientId":"c","server":"127.0.0.1:9190","timestamp":1795628290084,"signature":""#));
        verify_body(SECRET, &signed).unwrap();
        assert_eq!(verify_body(b"other", &signed), Err(SignError::Mismatch));
    }

    #[test]
    fn an_empty_object_signs_like_javascript() {
        let signed = sign_text(SECRET, "{}");
        assert!(signed.starts_with(r#"{"signature":""#));
        verify_body(SECRET, &signed).unwrap();
    }

    #[test]
    fn a_signature_that_is_not_last_verifies_through_reserialization() {
        let sig = hmac_sha1_hex(SECRET, &[br#"{"appId":"1","agentId":"a"}"#]);
        let raw = format!(r#"{{"appId":"1","signature":"{sig}","agentId":"a"}}"#);
        verify_body(SECRET, &raw).unwrap();
    }

    #[test]
    fn unsigned_and_non_object_bodies_are_refused() {
        assert_eq!(verify_body(SECRET, r#"{"appId":1}"#), Err(SignError::Missing));
        assert_eq!(verify_body(SECRET, "[]"), Err(SignError::NotAnObject));
        assert_eq!(verify_body(SECRET, r#"{"signature":1}"#), Err(SignError::Missing));
    }

    #[test]
    fn replies_have_the_original_shape() {
        assert_eq!(serde_json::to_string(&Reply::done()).unwrap(), r#"{"ok":true}"#);
        let fail: Reply<()> = Reply::fail("缺少参数", Some(400.into()));
        assert_eq!(serde_json::to_string(&fail).unwrap(), r#"{"ok":false,"message":"缺少参数","code":400}"#);
    }
}
