//! Agent frames built byte for byte as xtransit 3.1.0 builds them (reference: xtransit-protocol §1.2, §2.1, §2.2).
//!
//! The envelope keys come in the agent's order (appId, agentId, traceId, clientId, timestamp, type, data); the compact
//! JSON text is signed with HMAC-SHA1 under the app secret and `,"signature":"<40 hex>"` is inserted before the final
//! `}`, exactly what `JSON.stringify` plus the agent's `signature` member produce.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};

/// The identity one simulated agent puts in every frame. `app_id_json` is the appId already rendered as JSON
/// (`1` or `"1"`), so that the agent's JSON type is preserved.
#[derive(Debug, Clone)]
pub struct Identity {
    pub app_id_json: String,
    pub agent_id: String,
    pub client_id: String,
}

/// Milliseconds since the epoch, as `Date.now()`.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A fresh uuid v4, as the agent's `traceId`.
pub fn trace_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The agent's clientId: hex MD5 of `"<uuid v4>::<Date.now()>"` (reference §1.2).
pub fn client_id(uuid: &str, ms: i64) -> String {
    hex::encode(Md5::digest(format!("{uuid}::{ms}").as_bytes()))
}

/// A fresh clientId for a new agent object.
pub fn new_client_id() -> String {
    client_id(&trace_id(), now_ms())
}

/// Renders a string as a JSON string literal (the agent's ids are plain ASCII; this stays correct for any text).
pub fn json_str(s: &str) -> String {
    // Serializing a &str cannot fail.
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

/// Builds and signs one frame. `data_json` is the compact JSON of `data`, in the agent's key order.
pub fn build_frame(secret: &[u8], id: &Identity, trace_id: &str, timestamp: i64, kind: &str, data_json: &str) -> String {
    let mut text = String::with_capacity(200 + data_json.len());
    text.push_str("{\"appId\":");
    text.push_str(&id.app_id_json);
    text.push_str(",\"agentId\":");
    text.push_str(&json_str(&id.agent_id));
    text.push_str(",\"traceId\":");
    text.push_str(&json_str(trace_id));
    text.push_str(",\"clientId\":");
    text.push_str(&json_str(&id.client_id));
    // Writing into a String cannot fail.
    let _ = write!(text, ",\"timestamp\":{timestamp},\"type\":");
    text.push_str(&json_str(kind));
    text.push_str(",\"data\":");
    text.push_str(data_json);
    text.push('}');
    // The agent signs the object, then appends `signature` as its last member: the services' own signing.
    protocol::service::sign_text(secret, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret";

    #[test]
    fn reproduces_the_reference_heartbeat_vectors() {
        let id = Identity { app_id_json: "1".into(), agent_id: "vm".into(), client_id: "de7e5efef286721e1a06b0b4d543283c".into() };
        let frame = build_frame(SECRET, &id, "312a863d-3bb9-417e-bcc5-0d3cd584fab7", 1795628290084, "heartbeat", "{}");
        assert_eq!(
            frame,
            r#"{"appId":1,"agentId":"vm","traceId":"312a863d-3bb9-417e-bcc5-0d3cd584fab7","clientId":"de7e5efef286721e1a06b0b4d543283c","timestamp":1795628290084,"type":"heartbeat","data":{},"signature":"977aa2bf0ae2f7ad79d81e2392ca982c5c45e4b0"}"#
        );

        let id = Identity { app_id_json: "\"7\"".into(), agent_id: "vm".into(), client_id: "eedff4f59b477a5c4b8b184befe3d328".into() };
        let frame = build_frame(SECRET, &id, "429f4b6a-9cae-4082-9c32-973c149ffd0c", 1795628362736, "heartbeat", "{}");
        assert!(frame.ends_with(r#","signature":"79fcd39593e587cbd4180f526735d82ae7e0cab8"}"#), "{frame}");
    }

    #[test]
    fn frames_verify_with_the_protocol_parser() {
        let id = Identity { app_id_json: "42".into(), agent_id: "load-000001".into(), client_id: new_client_id() };
        let data = r#"{"type":"core_files","data":{"list":[]}}"#;
        let frame = build_frame(b"s3cret", &id, &trace_id(), now_ms(), "log", data);
        let parsed = protocol::AgentFrame::parse(&frame).expect("our frame parses");
        parsed.verify_signature(b"s3cret").expect("our frame verifies");
        assert_eq!(parsed.verify_signature(b"other"), Err(protocol::FrameError::BadSignature));
        assert_eq!(parsed.app_id, protocol::AppId::Number(42));
        assert_eq!(parsed.agent_id, "load-000001");
        assert_eq!(parsed.kind, protocol::MessageKind::Log);
        assert_eq!(parsed.log_type().as_deref(), Some("core_files"));
        assert_eq!(parsed.data.get(), data);
    }

    #[test]
    fn client_ids_are_md5_of_uuid_and_time() {
        // md5("a::1")
        assert_eq!(client_id("a", 1), hex::encode(Md5::digest(b"a::1")));
        let c = new_client_id();
        assert_eq!(c.len(), 32);
        assert!(c.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}
