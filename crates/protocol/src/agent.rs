//! The agent ↔ ws-server envelope (reference: xtransit-protocol §2): parsing, byte-exact signature check,
//! timestamp window, and the unsigned frames the server sends back.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::ids::{AgentId, AppId, ClientId};
use crate::sign::{split_trailing_signature, verify_hmac_sha1_hex};

/// Messages older than this are dropped (the original's window).
pub const MAX_AGE_MS: i64 = 5 * 60 * 1000;

/// The four message types an agent sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Heartbeat,
    Log,
    Response,
    Action,
}

impl MessageKind {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "heartbeat" => Some(Self::Heartbeat),
            "log" => Some(Self::Log),
            "response" => Some(Self::Response),
            "action" => Some(Self::Action),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Heartbeat => "heartbeat",
            Self::Log => "log",
            Self::Response => "response",
            Self::Action => "action",
        }
    }
}

/// Why an agent frame was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame is not a JSON object: {0}")]
    Malformed(String),
    #[error("frame has no appId")]
    MissingAppId,
    #[error("frame has no clientId")]
    MissingClientId,
    #[error("frame has no agentId")]
    MissingAgentId,
    #[error("frame has no timestamp")]
    MissingTimestamp,
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("frame does not end with a signature member")]
    MissingSignature,
    #[error("signature mismatch")]
    BadSignature,
    #[error("timestamp {timestamp} is {age_ms} ms old")]
    Stale { timestamp: i64, age_ms: i64 },
    #[error("timestamp {timestamp} is {ahead_ms} ms in the future")]
    FromTheFuture { timestamp: i64, ahead_ms: i64 },
}

#[derive(Deserialize)]
struct WireEnvelope<'a> {
    #[serde(rename = "appId")]
    app_id: Option<AppId>,
    #[serde(rename = "agentId", borrow)]
    agent_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "traceId", borrow)]
    trace_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "clientId", borrow)]
    client_id: Option<std::borrow::Cow<'a, str>>,
    timestamp: Option<f64>,
    #[serde(rename = "type", borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// One parsed agent frame. `data` borrows the raw JSON text of the frame, so it can be forwarded as is.
#[derive(Debug)]
pub struct AgentFrame<'a> {
    raw: &'a str,
    pub app_id: AppId,
    pub agent_id: AgentId,
    pub trace_id: String,
    pub client_id: ClientId,
    pub timestamp: i64,
    pub kind: MessageKind,
    pub data: &'a RawValue,
}

impl<'a> AgentFrame<'a> {
    /// Parses the envelope. Identity checks (appId, clientId) come first, as in the original.
    pub fn parse(raw: &'a str) -> Result<Self, FrameError> {
        let wire: WireEnvelope<'a> = serde_json::from_str(raw).map_err(|e| FrameError::Malformed(e.to_string()))?;
        let app_id = wire.app_id.ok_or(FrameError::MissingAppId)?;
        let client_id = wire.client_id.filter(|c| !c.is_empty()).ok_or(FrameError::MissingClientId)?;
        let agent_id = wire.agent_id.filter(|a| !a.is_empty()).ok_or(FrameError::MissingAgentId)?;
        let timestamp = wire.timestamp.ok_or(FrameError::MissingTimestamp)? as i64;
        let kind_text = wire.kind.unwrap_or_default();
        let kind = MessageKind::parse(&kind_text).ok_or_else(|| FrameError::UnknownType(kind_text.to_string()))?;
        const EMPTY: &str = "{}";
        let data = match wire.data {
            Some(d) => d,
            None => serde_json::from_str::<&RawValue>(EMPTY).expect("`{}` is valid JSON"),
        };
        Ok(AgentFrame {
            raw,
            app_id,
            agent_id: AgentId::new(agent_id.into_owned()),
            trace_id: wire.trace_id.map(|t| t.into_owned()).unwrap_or_default(),
            client_id: ClientId::new(client_id.into_owned()),
            timestamp,
            kind,
            data,
        })
    }

    /// Byte-exact check: the signed text is the raw frame with its trailing signature member removed.
    pub fn verify_signature(&self, app_secret: &[u8]) -> Result<(), FrameError> {
        let (prefix, sig) = split_trailing_signature(self.raw).ok_or(FrameError::MissingSignature)?;
        match verify_hmac_sha1_hex(app_secret, &[prefix.as_bytes(), b"}"], sig) {
            true => Ok(()),
            false => Err(FrameError::BadSignature),
        }
    }

    /// The original's window: drop anything older than 5 minutes; allow `future_skew_ms` of clock skew ahead.
    pub fn check_timestamp(&self, now_ms: i64, future_skew_ms: i64) -> Result<(), FrameError> {
        let age_ms = now_ms - self.timestamp;
        if age_ms > MAX_AGE_MS {
            return Err(FrameError::Stale { timestamp: self.timestamp, age_ms });
        }
        if -age_ms > future_skew_ms {
            return Err(FrameError::FromTheFuture { timestamp: self.timestamp, ahead_ms: -age_ms });
        }
        Ok(())
    }

    /// For `log` frames: the `type` member of `data` (`system_log`, `xprofiler_log`, …).
    pub fn log_type(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Head<'b> {
            #[serde(rename = "type", borrow)]
            kind: Option<std::borrow::Cow<'b, str>>,
        }
        let head: Head<'_> = serde_json::from_str(self.data.get()).ok()?;
        head.kind.map(|k| k.into_owned())
    }
}

/// A frame the server sends to an agent: `{"traceId","type","data"}`, unsigned.
#[derive(Debug, Serialize)]
pub struct ServerFrame<'a, T: Serialize> {
    #[serde(rename = "traceId")]
    pub trace_id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
}

#[derive(Debug, Serialize)]
pub struct ExecCommandData<'a> {
    pub command: &'a str,
    #[serde(rename = "expiredTime")]
    pub expired_time: u64,
}

impl ServerFrame<'_, ()> {
    /// `{"traceId":…,"type":"shutdown"}`: a permanent kill for CLI agents (reference §1.8).
    pub fn shutdown_text(trace_id: &str) -> String {
        serde_json::to_string(&ServerFrame::<()> { trace_id, kind: "shutdown", data: None }).expect("a frame of strings always serializes")
    }

    /// `{"traceId":…,"type":"exec_command","data":{"command":…,"expiredTime":…}}`.
    pub fn exec_command_text(trace_id: &str, command: &str, expired_time: u64) -> String {
        let frame = ServerFrame { trace_id, kind: "exec_command", data: Some(ExecCommandData { command, expired_time }) };
        serde_json::to_string(&frame).expect("a frame of strings and numbers always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret";
    const HEARTBEAT_NUMERIC: &str = r#"{"appId":1,"agentId":"vm","traceId":"312a863d-3bb9-417e-bcc5-0d3cd584fab7","clientId":"de7e5efef286721e1a06b0b4d543283c","timestamp":1795628290084,"type":"heartbeat","data":{},"signature":"977aa2bf0ae2f7ad79d81e2392ca982c5c45e4b0"}"#;
    const HEARTBEAT_TEXT_ID: &str = r#"{"appId":"7","agentId":"vm","traceId":"429f4b6a-9cae-4082-9c32-973c149ffd0c","clientId":"eedff4f59b477a5c4b8b184befe3d328","timestamp":1795628362736,"type":"heartbeat","data":{},"signature":"79fcd39593e587cbd4180f526735d82ae7e0cab8"}"#;

    #[test]
    fn reference_heartbeat_vectors_verify() {
        for (raw, app) in [(HEARTBEAT_NUMERIC, AppId::Number(1)), (HEARTBEAT_TEXT_ID, AppId::Text("7".into()))] {
            let frame = AgentFrame::parse(raw).unwrap();
            assert_eq!(frame.app_id, app);
            assert_eq!(frame.kind, MessageKind::Heartbeat);
            assert_eq!(frame.agent_id, "vm");
            assert_eq!(frame.data.get(), "{}");
            frame.verify_signature(SECRET).unwrap();
        }
    }

    #[test]
    fn a_wrong_secret_or_a_changed_byte_fails() {
        let frame = AgentFrame::parse(HEARTBEAT_NUMERIC).unwrap();
        assert_eq!(frame.verify_signature(b"other"), Err(FrameError::BadSignature));
        let tampered = HEARTBEAT_NUMERIC.replace("\"vm\"", "\"vn\"");
        let frame = AgentFrame::parse(&tampered).unwrap();
        assert_eq!(frame.verify_signature(SECRET), Err(FrameError::BadSignature));
    }

    #[test]
    fn identity_is_checked_before_anything_else() {
        assert_eq!(AgentFrame::parse(r#"{"clientId":"c","agentId":"a"}"#).unwrap_err(), FrameError::MissingAppId);
        assert_eq!(AgentFrame::parse(r#"{"appId":1,"agentId":"a"}"#).unwrap_err(), FrameError::MissingClientId);
        assert!(matches!(AgentFrame::parse("not json").unwrap_err(), FrameError::Malformed(_)));
        assert!(matches!(AgentFrame::parse("[1]").unwrap_err(), FrameError::Malformed(_)));
    }

    #[test]
    fn unsigned_frames_are_refused() {
        let raw = r#"{"appId":1,"agentId":"vm","traceId":"t","clientId":"c","timestamp":1,"type":"heartbeat","data":{}}"#;
        let frame = AgentFrame::parse(raw).unwrap();
        assert_eq!(frame.verify_signature(SECRET), Err(FrameError::MissingSignature));
    }

    #[test]
    fn timestamp_window_drops_old_and_far_future_frames() {
        let frame = AgentFrame::parse(HEARTBEAT_NUMERIC).unwrap();
        let ts = frame.timestamp;
        assert!(frame.check_timestamp(ts + MAX_AGE_MS, 60_000).is_ok());
        assert!(matches!(frame.check_timestamp(ts + MAX_AGE_MS + 1, 60_000), Err(FrameError::Stale { .. })));
        assert!(frame.check_timestamp(ts - 60_000, 60_000).is_ok());
        assert!(matches!(frame.check_timestamp(ts - 60_001, 60_000), Err(FrameError::FromTheFuture { .. })));
    }

    #[test]
    fn server_frames_have_the_reference_shape() {
        assert_eq!(ServerFrame::shutdown_text("t1"), r#"{"traceId":"t1","type":"shutdown"}"#);
        assert_eq!(
            ServerFrame::exec_command_text("t2", "get_os_info", 15000),
            r#"{"traceId":"t2","type":"exec_command","data":{"command":"get_os_info","expiredTime":15000}}"#
        );
    }

    #[test]
    fn every_captured_frame_parses_and_verifies() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        let mut seen = 0;
        for name in ["agent-frames.jsonl", "agent-frames-profiling.jsonl"] {
            let text = std::fs::read_to_string(format!("{dir}/{name}")).expect("fixtures ship with the crate");
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let frame = AgentFrame::parse(line).unwrap_or_else(|e| panic!("{name}: {e}: {line:.200}"));
                frame.verify_signature(SECRET).unwrap_or_else(|e| panic!("{name}: {e}: {line:.200}"));
                seen += 1;
            }
        }
        assert_eq!(seen, 37);
    }
}
