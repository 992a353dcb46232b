//! One agent connection: a single loop over incoming frames, commands to send, and a ping timer.
//!
//! Every frame is checked in the original's order (identity, app secret, timestamp window, signature) before it is
//! dispatched. Frames that fail identity or signature checks close the socket with a reason (the agent reconnects
//! later); `shutdown` is never sent here, because it kills a CLI agent for good.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_http::ws::{Codec, Frame, Item, ProtocolError};
use actix_web::dev::Payload;
use actix_web::web::{self, BytesMut};
use actix_ws::{CloseCode, CloseReason, Session};
use futures_util::StreamExt;
use protocol::service::{ForwardLog, RemoveClient, UpdateActionStatus, UpdateClient};
use protocol::{AgentFrame, FrameError, MessageKind};
use tokio_util::codec::Decoder;
use tracing::Instrument;

use crate::clients::secrets::Secret;
use crate::domain::registry::ClientKey;
use crate::state::AppState;

/// Why a connection is closed by us.
struct Reject {
    code: CloseCode,
    reason: String,
}

/// Serves one agent socket. The events that matter to an operator (refusals, timeouts, closes) name the peer and,
/// once a frame is verified, the app and agent themselves; the socket's span is a debug one, since a live span per
/// socket costs ~450 bytes in tracing's registry for the whole life of every connection.
pub async fn run(state: web::Data<AppState>, session: Session, payload: Payload, peer: Option<SocketAddr>) {
    let span = tracing::debug_span!("agent_socket", peer = ?peer, conn_id = tracing::field::Empty);
    serve(state, session, payload, peer).instrument(span).await
}

/// The agent's frames, decoded from the request payload by actix-http's WebSocket codec (the one actix-ws uses).
///
/// Not actix-ws's `MessageStream`: its read buffer keeps the capacity of the largest read (a 10 KB log frame) for
/// the life of the socket. Here the buffer is let go as soon as it has been decoded to the end, so an idle socket
/// holds no read buffer; a frame's bytes live only while it is handled.
struct Frames {
    payload: Payload,
    buf: BytesMut,
    codec: Codec,
    max_bytes: usize,
    /// A message sent in continuation frames: whether it is text, and its bytes so far.
    partial: Option<(bool, BytesMut)>,
}

impl Frames {
    fn new(payload: Payload, max_bytes: usize) -> Self {
        Frames { payload, buf: BytesMut::new(), codec: Codec::new().max_size(max_bytes), max_bytes, partial: None }
    }

    /// The next whole message (continuations joined); `None` when the peer has gone. Cancel-safe: what was read is
    /// kept in `self`, so it can be a `select!` branch.
    async fn next(&mut self) -> Option<Result<Frame, ProtocolError>> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(frame)) => match self.join(frame) {
                    Ok(Some(message)) => return Some(Ok(message)),
                    Ok(None) => continue,
                    Err(e) => return Some(Err(e)),
                },
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
            if self.buf.is_empty() {
                // Everything read was decoded: release the allocation (decoded frames share it until dropped).
                self.buf = BytesMut::new();
            }
            match self.payload.next().await? {
                Ok(chunk) => self.buf.extend_from_slice(&chunk),
                Err(e) => return Some(Err(ProtocolError::Io(std::io::Error::other(e)))),
            }
        }
    }

    /// Joins continuation frames into one text or binary frame (at most `max_bytes`); other frames pass.
    fn join(&mut self, frame: Frame) -> Result<Option<Frame>, ProtocolError> {
        let (text, first) = match frame {
            Frame::Continuation(Item::FirstText(b)) => (true, b),
            Frame::Continuation(Item::FirstBinary(b)) => (false, b),
            Frame::Continuation(Item::Continue(_) | Item::Last(_)) if self.partial.is_none() => {
                return Err(ProtocolError::ContinuationNotStarted);
            }
            Frame::Continuation(Item::Continue(b)) => {
                self.extend_partial(&b)?;
                return Ok(None);
            }
            Frame::Continuation(Item::Last(b)) => {
                self.extend_partial(&b)?;
                let (text, bytes) = self.partial.take().expect("checked above");
                let bytes = bytes.freeze();
                return Ok(Some(if text { Frame::Text(bytes) } else { Frame::Binary(bytes) }));
            }
            other => return Ok(Some(other)),
        };
        if self.partial.is_some() {
            return Err(ProtocolError::ContinuationStarted);
        }
        self.partial = Some((text, BytesMut::new()));
        self.extend_partial(&first)?;
        Ok(None)
    }

    fn extend_partial(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        let (_, so_far) = self.partial.as_mut().expect("a continuation was started");
        if so_far.len() + bytes.len() > self.max_bytes {
            return Err(ProtocolError::Overflow);
        }
        so_far.extend_from_slice(bytes);
        Ok(())
    }
}

/// How the main loop of a socket ended.
enum End {
    /// Close the socket with this reason (`None`: it is gone, or closed by the other side).
    Close(Option<CloseReason>),
    /// The server is stopping: the close has been sent, frames already on the way are still handled.
    Drain,
}

async fn serve(state: web::Data<AppState>, session: Session, payload: Payload, peer: Option<SocketAddr>) {
    let settings = state.sessions;
    let mut frames = Frames::new(payload, settings.max_message_bytes);
    let conn_id = state.registry.next_conn_id();
    tracing::Span::current().record("conn_id", conn_id);
    let mut conn = Conn { state: &state, conn_id, peer, session, identities: Vec::new() };
    state.stats.connections_opened.inc();
    tracing::debug!("agent connected");

    match conn.serve(&mut frames).await {
        End::Close(close) => {
            if let Some(reason) = &close {
                let (app_id, agent_id) = conn.who();
                tracing::info!(peer = %conn.peer(), app_id, agent_id, code = ?reason.code, reason = ?reason.description, "closing agent socket");
            }
            let _ = conn.session.clone().close(close).await;
        }
        End::Drain => {
            // At most 5 s for what the agent had already sent; it reconnects to another replica.
            let _ = tokio::time::timeout(Duration::from_secs(5), conn.drain(&mut frames)).await;
        }
    }
    conn.finish().await;
}

/// The reports xtransit 3.1.0 sends every minute even when it has nothing to say (no error file configured, no new
/// core dump), byte for byte. The manager would store nothing for them, so they are not forwarded.
const EMPTY_REPORTS: [&str; 2] = [r#"{"type":"error_log","data":{}}"#, r#"{"type":"core_files","data":{"list":[]}}"#];

fn carries_nothing(log: &str) -> bool {
    EMPTY_REPORTS.contains(&log)
}

struct Conn<'a> {
    state: &'a AppState,
    conn_id: u64,
    peer: Option<SocketAddr>,
    /// actix-ws's sending half: pings and pongs go through it, and the registry's copy carries commands.
    session: Session,
    /// The clients seen on this socket (an agent sends one identity; a test may send several): a Vec, not a set,
    /// since it holds one key almost always (no hash table per connection).
    identities: Vec<ClientKey>,
}

impl Conn<'_> {
    /// One loop over incoming frames, the ping timer and the server's shutdown, until the socket is to close.
    async fn serve(&mut self, frames: &mut Frames) -> End {
        let settings = self.state.sessions;
        let ping_every = Duration::from_secs(settings.ping_interval_secs.max(1));
        let mut ping = tokio::time::interval(ping_every);
        ping.tick().await;
        let timeout = Duration::from_secs(settings.client_timeout_secs.max(settings.ping_interval_secs + 1));
        let mut last_seen = Instant::now();
        let mut shutdown = self.state.shutdown.clone();
        loop {
            tokio::select! {
                frame = frames.next() => {
                    last_seen = Instant::now();
                    match frame {
                        // The agent only sends text, but JSON in a binary frame is still JSON (the codec does not
                        // check UTF-8, so both are checked here).
                        Some(Ok(Frame::Text(bytes) | Frame::Binary(bytes))) => {
                            if let Err(reject) = self.text(&bytes).await {
                                return End::Close(Some(CloseReason { code: reject.code, description: Some(reject.reason) }));
                            }
                            // A frame waits for the manager's answer (minutes in an outage: push-back) without
                            // reading the socket: that wait is ours, not silence of the agent's, so the ping timeout
                            // starts now.
                            last_seen = Instant::now();
                        }
                        Some(Ok(Frame::Ping(bytes))) => {
                            if self.session.pong(&bytes).await.is_err() {
                                return End::Close(None);
                            }
                        }
                        Some(Ok(Frame::Pong(_) | Frame::Continuation(_))) => {}
                        Some(Ok(Frame::Close(reason))) => {
                            tracing::debug!(?reason, "agent closed the socket");
                            return End::Close(None);
                        }
                        Some(Err(e)) => {
                            let (app_id, agent_id) = self.who();
                            tracing::warn!(peer = %self.peer(), app_id, agent_id, error = %e, "websocket protocol error");
                            return End::Close(Some(CloseReason { code: CloseCode::Size, description: Some(e.to_string()) }));
                        }
                        None => return End::Close(None),
                    }
                }
                _ = shutdown.changed() => {
                    let reason = CloseReason { code: CloseCode::Away, description: Some("server shutting down".into()) };
                    return match self.session.clone().close(Some(reason)).await {
                        Ok(()) => End::Drain,
                        Err(_) => End::Close(None),
                    };
                }
                _ = ping.tick() => {
                    let idle = last_seen.elapsed();
                    if idle > timeout {
                        self.state.stats.pings_timed_out.inc();
                        let (app_id, agent_id) = self.who();
                        tracing::info!(peer = %self.peer(), app_id, agent_id, idle_secs = idle.as_secs(), "closing a socket that stopped answering pings");
                        return End::Close(Some(CloseReason { code: CloseCode::Away, description: Some("ping timeout".into()) }));
                    }
                    // An agent that sent something within the last period is alive: ping only quiet sockets. A
                    // session closed from outside (a newer socket of the same client, the duplicate-agent policy)
                    // fails here, within one period, if the agent does not answer the close itself.
                    if idle >= ping_every && self.session.ping(b"").await.is_err() {
                        return End::Close(None);
                    }
                }
            }
        }
    }

    /// The server is stopping and the close was sent: handle the frames still coming until the agent closes.
    async fn drain(&mut self, frames: &mut Frames) {
        while let Some(Ok(frame)) = frames.next().await {
            match frame {
                Frame::Text(bytes) | Frame::Binary(bytes) if self.text(&bytes).await.is_err() => return,
                Frame::Close(_) => return,
                _ => {}
            }
        }
    }

    /// A text or binary frame: UTF-8 JSON, verified and dispatched.
    async fn text(&mut self, bytes: &[u8]) -> Result<(), Reject> {
        match std::str::from_utf8(bytes) {
            // Boxed: the frame-handling future (which waits for the manager) then costs memory only while a frame
            // is in flight, not for the whole life of every connection.
            Ok(text) => Box::pin(self.handle(text)).await,
            Err(_) => Err(Reject { code: CloseCode::Invalid, reason: "frame is not UTF-8 JSON".into() }),
        }
    }

    /// The peer's address, for a log line.
    fn peer(&self) -> String {
        self.peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string())
    }

    /// The app and agent of the socket's first verified frame, for a log line (empty before one).
    fn who(&self) -> (String, String) {
        self.identities.first().map_or_else(Default::default, |k| (k.app.to_string(), k.agent.to_string()))
    }

    async fn handle(&mut self, text: &str) -> Result<(), Reject> {
        let stats = &self.state.stats;
        stats.frames.inc();
        let frame = AgentFrame::parse(text).map_err(|e| self.reject(CloseCode::Policy, e))?;
        let secret = match self.state.secrets.get(&frame.app_id, None).await {
            Ok(Secret::Known(secret)) => secret,
            Ok(Secret::UnknownApp) => return Err(self.reject(CloseCode::Policy, format!("appId {} not exists", frame.app_id))),
            Err(e) => {
                // Without the secret the frame cannot be trusted; the agent stays connected and sends again.
                stats.frames_unverifiable.inc();
                tracing::warn!(peer = %self.peer(), app_id = %frame.app_id, error = %e, "dropping a frame: app secret unavailable");
                return Ok(());
            }
        };
        let now = chrono::Utc::now().timestamp_millis();
        if let Err(e) = frame.check_timestamp(now, self.state.sessions.future_skew_ms) {
            stats.frames_stale.inc();
            tracing::info!(peer = %self.peer(), app_id = %frame.app_id, agent_id = %frame.agent_id, kind = frame.kind.as_str(), error = %e, "dropping a frame outside the time window");
            return Ok(());
        }
        if frame.verify_signature(secret.as_bytes()).is_err() {
            // The secret may have just been changed in the console: look again once before refusing.
            let fresh = self.state.secrets.get(&frame.app_id, Some(Duration::from_secs(5))).await;
            let verified = matches!(&fresh, Ok(Secret::Known(s)) if frame.verify_signature(s.as_bytes()).is_ok());
            if !verified {
                return Err(self.reject(CloseCode::Policy, FrameError::BadSignature));
            }
        }
        let key = ClientKey { app: frame.app_id.clone(), agent: frame.agent_id.clone(), client: frame.client_id.clone() };
        if !self.identities.contains(&key) {
            if let Some(old) = self.state.registry.register(key.clone(), self.conn_id, self.session.clone()) {
                // The same clientId on a new socket: the old socket is dead or half-open; close it.
                let reason = "replaced by a newer connection of the same client";
                let _ = old.close(Some(CloseReason { code: CloseCode::Normal, description: Some(reason.into()) })).await;
            }
            // Room for exactly one key: the agent's (a Vec's first growth would make room for four).
            self.identities.reserve_exact(1);
            self.identities.push(key);
        }
        self.dispatch(&frame).await;
        Ok(())
    }

    async fn dispatch(&self, frame: &AgentFrame<'_>) {
        let forward = &self.state.forwarder;
        match frame.kind {
            MessageKind::Heartbeat => {
                let body = UpdateClient {
                    app_id: frame.app_id.clone(),
                    agent_id: frame.agent_id.clone(),
                    client_id: frame.client_id.clone(),
                    server: self.state.advertise.clone(),
                    timestamp: frame.timestamp,
                };
                forward.send("update_client", &body).await;
            }
            MessageKind::Log => {
                if carries_nothing(frame.data.get()) {
                    self.state.stats.empty_reports.inc();
                    return;
                }
                let trace_id = Some(frame.trace_id.as_str()).filter(|t| !t.is_empty());
                let body = ForwardLog { app_id: &frame.app_id, agent_id: &frame.agent_id, log: frame.data, trace_id };
                forward.send("log", &body).await;
            }
            MessageKind::Action => {
                #[derive(serde::Deserialize)]
                struct Action {
                    #[serde(rename = "filePath")]
                    file_path: Option<String>,
                }
                // An action without filePath follows a command that made no file: nothing to record.
                let Ok(Action { file_path: Some(file_path) }) = serde_json::from_str(frame.data.get()) else { return };
                let body = UpdateActionStatus { app_id: frame.app_id.clone(), agent_id: frame.agent_id.clone(), file_path };
                forward.send("update_action_status", &body).await;
            }
            MessageKind::Response => {
                if !self.state.registry.resolve(&frame.trace_id, frame.data.get().to_owned()) {
                    tracing::debug!(trace_id = %frame.trace_id, "response for no pending command (late or unknown)");
                }
            }
        }
    }

    fn reject(&self, code: CloseCode, reason: impl ToString) -> Reject {
        let reason = reason.to_string();
        self.state.stats.frames_rejected.inc();
        let (app_id, agent_id) = self.who();
        tracing::warn!(peer = %self.peer(), app_id, agent_id, reason = %reason, "refusing agent frame");
        Reject { code, reason }
    }

    /// The socket is gone: forget its clients here and at the manager.
    async fn finish(self) {
        self.state.stats.connections_closed.inc();
        for key in &self.identities {
            if !self.state.registry.unregister(key, self.conn_id) {
                continue; // the same client already reconnected on another socket
            }
            let body = RemoveClient { app_id: key.app.clone(), agent_id: key.agent.clone(), client_id: key.client.clone() };
            self.state.forwarder.send("remove_client", &body).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_http::ws::{Codec, Frame, Message};
    use actix_web::web::{Bytes, BytesMut};
    use tokio_util::codec::Encoder;

    /// What an agent sends: masked frames (client mode), in the chunks the socket delivers them in.
    fn payload(messages: Vec<Message>, chunk: usize) -> actix_web::dev::Payload {
        let mut codec = Codec::new().client_mode();
        let mut wire = BytesMut::new();
        for m in messages {
            codec.encode(m, &mut wire).unwrap();
        }
        let chunks: Vec<Result<Bytes, actix_web::error::PayloadError>> = wire.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let stream: actix_http::BoxedPayloadStream = Box::pin(futures_util::stream::iter(chunks));
        stream.into()
    }

    #[actix_web::test]
    async fn frames_are_decoded_across_chunks_and_the_buffer_is_released() {
        use actix_http::ws::Item;
        let big = "x".repeat(10_000);
        let messages = vec![
            Message::Text(big.clone().into()),
            Message::Continuation(Item::FirstText(Bytes::from_static(b"{\"a\":"))),
            Message::Continuation(Item::Last(Bytes::from_static(b"1}"))),
            Message::Ping(Bytes::from_static(b"p")),
        ];
        let mut frames = super::Frames::new(payload(messages, 1000), 64 * 1024);
        assert!(matches!(frames.next().await, Some(Ok(Frame::Text(b))) if b == big.as_bytes()));
        // The 10 KB frame was decoded to the end: no capacity is kept for the socket's life.
        assert!(matches!(frames.next().await, Some(Ok(Frame::Text(b))) if &b[..] == b"{\"a\":1}"));
        assert!(matches!(frames.next().await, Some(Ok(Frame::Ping(b))) if &b[..] == b"p"));
        assert!(frames.next().await.is_none());
        assert_eq!(frames.buf.capacity(), 0);
    }

    #[actix_web::test]
    async fn frames_over_the_limit_are_refused() {
        let mut frames = super::Frames::new(payload(vec![Message::Text("y".repeat(2000).into())], 512), 1024);
        assert!(matches!(frames.next().await, Some(Err(actix_http::ws::ProtocolError::Overflow))));
    }

    #[test]
    fn only_the_agents_exact_empty_reports_are_skipped() {
        assert!(super::carries_nothing(r#"{"type":"error_log","data":{}}"#));
        assert!(super::carries_nothing(r#"{"type":"core_files","data":{"list":[]}}"#));
        assert!(!super::carries_nothing(r#"{"type":"core_files","data":{"list":[{"core_path":"/c"}]}}"#));
        assert!(!super::carries_nothing(r#"{"type":"error_log","data":{"/a.log":[]}}"#));
        assert!(!super::carries_nothing(r#"{"type":"xprofiler_log","data":{"logs":[]},"lines":0}"#));
    }
}
