//! `sink` mode: a small WebSocket server that stands in for the ws-server when testing the load generator itself.
//! It verifies every frame with the `protocol` crate (parse, byte-exact signature, timestamp window, log payloads),
//! counts them, optionally sends the built-in commands to each agent and checks the responses, and can send
//! `shutdown` to some agents. It is not a ws-server: nothing is forwarded anywhere.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use protocol::logs::AgentLog;
use protocol::{AgentFrame, MessageKind, ServerFrame};
use serde::Serialize;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::cli::{SinkArgs, MAX_DURATION_SECS};
use crate::frame::now_ms;

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    frames: AtomicU64,
    bytes: AtomicU64,
    heartbeats: AtomicU64,
    responses: AtomicU64,
    actions: AtomicU64,
    malformed: AtomicU64,
    bad_signatures: AtomicU64,
    stale_or_future: AtomicU64,
    bad_log_payloads: AtomicU64,
    xprofiler_entries: AtomicU64,
    process_rows: AtomicU64,
    error_entries: AtomicU64,
    commands_sent: AtomicU64,
    responses_ok: AtomicU64,
    responses_bad: AtomicU64,
    responses_unmatched: AtomicU64,
    shutdowns_sent: AtomicU64,
    clean_closes: AtomicU64,
    abrupt_closes: AtomicU64,
}

#[derive(Debug, Default)]
struct Sets {
    agents: HashSet<String>,
    log_kinds: BTreeMap<String, u64>,
    first_problem: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SinkSummary {
    pub mode: &'static str,
    pub listen: String,
    pub connections: u64,
    pub distinct_agents: u64,
    pub frames: u64,
    pub bytes: u64,
    pub heartbeats: u64,
    pub logs: BTreeMap<String, u64>,
    pub responses: u64,
    pub actions: u64,
    pub malformed: u64,
    pub bad_signatures: u64,
    pub stale_or_future: u64,
    pub bad_log_payloads: u64,
    pub xprofiler_entries: u64,
    /// Distinct pids per xprofiler_log, summed: the manager's process rows.
    pub process_rows: u64,
    pub error_entries: u64,
    pub commands_sent: u64,
    pub responses_ok: u64,
    pub responses_bad: u64,
    pub responses_unmatched: u64,
    pub shutdowns_sent: u64,
    pub clean_closes: u64,
    pub abrupt_closes: u64,
    pub first_problem: Option<String>,
}

struct State {
    secret: Vec<u8>,
    commands: bool,
    shutdown_one_in: u64,
    counters: Counters,
    sets: Mutex<Sets>,
}

impl State {
    fn problem(&self, text: String) {
        if let Ok(mut sets) = self.sets.lock() {
            if sets.first_problem.is_none() {
                sets.first_problem = Some(text);
            }
        }
    }
}

/// Binds the listener (loopback only) and returns it with its address.
pub async fn bind(listen: &str) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let addr: SocketAddr = listen.parse().with_context(|| format!("--listen {listen:?} is not ip:port"))?;
    if !addr.ip().is_loopback() {
        bail!("--listen must be a loopback address");
    }
    let listener = TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Serves until `duration` passes or `stop` turns true, then waits up to 3 s for open connections and reports.
pub async fn serve(listener: TcpListener, args: &SinkArgs, mut stop: watch::Receiver<bool>) -> anyhow::Result<SinkSummary> {
    if args.duration_secs == 0 || args.duration_secs > MAX_DURATION_SECS {
        bail!("--duration-secs must be between 1 and {MAX_DURATION_SECS}");
    }
    let listen = listener.local_addr()?.to_string();
    let state = Arc::new(State {
        secret: args.app_secret.as_bytes().to_vec(),
        commands: args.commands,
        shutdown_one_in: args.shutdown_one_in,
        counters: Counters::default(),
        sets: Mutex::new(Sets::default()),
    });
    let open = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.duration_secs);
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = crate::run::flagged(&mut stop) => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let n = state.counters.connections.fetch_add(1, Relaxed) + 1;
                let (state, open) = (state.clone(), open.clone());
                open.fetch_add(1, Relaxed);
                tokio::spawn(async move {
                    handle(stream, n, &state).await;
                    open.fetch_sub(1, Relaxed);
                });
            }
        }
    }
    drop(listener);
    let give_up = Instant::now() + Duration::from_secs(3);
    while open.load(Relaxed) > 0 && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(summary(&state, listen))
}

fn summary(state: &State, listen: String) -> SinkSummary {
    let c = &state.counters;
    let l = |a: &AtomicU64| a.load(Relaxed);
    let (distinct_agents, logs, first_problem) = match state.sets.lock() {
        Ok(s) => (s.agents.len() as u64, s.log_kinds.clone(), s.first_problem.clone()),
        Err(_) => (0, BTreeMap::new(), Some("stats lock poisoned".into())),
    };
    SinkSummary {
        mode: "sink",
        listen,
        connections: l(&c.connections),
        distinct_agents,
        frames: l(&c.frames),
        bytes: l(&c.bytes),
        heartbeats: l(&c.heartbeats),
        logs,
        responses: l(&c.responses),
        actions: l(&c.actions),
        malformed: l(&c.malformed),
        bad_signatures: l(&c.bad_signatures),
        stale_or_future: l(&c.stale_or_future),
        bad_log_payloads: l(&c.bad_log_payloads),
        xprofiler_entries: l(&c.xprofiler_entries),
        process_rows: l(&c.process_rows),
        error_entries: l(&c.error_entries),
        commands_sent: l(&c.commands_sent),
        responses_ok: l(&c.responses_ok),
        responses_bad: l(&c.responses_bad),
        responses_unmatched: l(&c.responses_unmatched),
        shutdowns_sent: l(&c.shutdowns_sent),
        clean_closes: l(&c.clean_closes),
        abrupt_closes: l(&c.abrupt_closes),
        first_problem,
    }
}

/// The test commands sent to each agent, with the check of each response `data`.
/// Checks one response `data`.
type Check = fn(&Value) -> bool;

fn test_commands(pid: &str) -> Vec<(String, Check)> {
    fn os_info(d: &Value) -> bool {
        d["ok"] == true
            && d["data"]["stderr"] == ""
            && d["data"]["stdout"]
                .as_str()
                .and_then(|s| serde_json::from_str::<Value>(s.trim_end()).ok())
                .is_some_and(|v| v["nodeVersion"].is_string() && v["xtransitVersion"].is_string())
    }
    fn alive(d: &Value) -> bool {
        d["ok"] == true
            && d["data"]["stdout"]
                .as_str()
                .and_then(|s| serde_json::from_str::<Value>(s.trim_end()).ok())
                .is_some_and(|v| v["999999"] == false && v.as_object().is_some_and(|o| o.len() == 2))
    }
    fn processes(d: &Value) -> bool {
        d["ok"] == true && d["data"]["stdout"].as_str().is_some_and(|s| s.contains('\u{0}') && s.ends_with('\n'))
    }
    fn unknown(d: &Value) -> bool {
        d["ok"] == false && d["message"].as_str().is_some_and(|m| m.starts_with("file no_such_command.js not exists in ["))
    }
    vec![
        ("get_os_info".to_owned(), os_info as Check),
        (format!("check_processes_alive {pid} 999999"), alive as Check),
        ("get_node_processes".to_owned(), processes as Check),
        ("no_such_command".to_owned(), unknown as Check),
    ]
}

async fn handle(stream: TcpStream, conn_no: u64, state: &State) {
    let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(stream, Some(crate::net::ws_config())).await else {
        state.counters.abrupt_closes.fetch_add(1, Relaxed);
        return;
    };
    let c = &state.counters;
    let mut first_pid: Option<String> = None;
    let mut commands_sent = false;
    let mut pending: HashMap<String, Check> = HashMap::new();
    let mut shutdown_sent = false;
    loop {
        let msg = match ws.next().await {
            Some(Ok(m)) => m,
            Some(Err(_)) | None => {
                c.abrupt_closes.fetch_add(1, Relaxed);
                return;
            }
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => {
                c.clean_closes.fetch_add(1, Relaxed);
                // Let tungstenite send the close reply.
                while let Some(Ok(_)) = ws.next().await {}
                return;
            }
            _ => continue,
        };
        c.frames.fetch_add(1, Relaxed);
        c.bytes.fetch_add(text.len() as u64, Relaxed);
        let frame = match AgentFrame::parse(&text) {
            Ok(f) => f,
            Err(e) => {
                c.malformed.fetch_add(1, Relaxed);
                state.problem(format!("malformed: {e}"));
                continue;
            }
        };
        if let Err(e) = frame.verify_signature(&state.secret) {
            c.bad_signatures.fetch_add(1, Relaxed);
            state.problem(format!("{e}: {text:.200}"));
        }
        if frame.check_timestamp(now_ms(), 60_000).is_err() {
            c.stale_or_future.fetch_add(1, Relaxed);
        }
        if let Ok(mut sets) = state.sets.lock() {
            if !sets.agents.contains(frame.agent_id.as_str()) {
                sets.agents.insert(frame.agent_id.to_string());
            }
        }
        match frame.kind {
            MessageKind::Heartbeat => {
                c.heartbeats.fetch_add(1, Relaxed);
            }
            MessageKind::Action => {
                c.actions.fetch_add(1, Relaxed);
            }
            MessageKind::Log => match AgentLog::parse(frame.data.get()) {
                Ok(log) => {
                    if let Ok(mut sets) = state.sets.lock() {
                        *sets.log_kinds.entry(log.kind().to_owned()).or_default() += 1;
                    }
                    match &log {
                        AgentLog::Xprofiler(_) => {
                            let v: Value = serde_json::from_str(frame.data.get()).unwrap_or_default();
                            let entries = v["data"]["logs"].as_array().cloned().unwrap_or_default();
                            let pids: HashSet<u64> = entries.iter().filter_map(|e| e["pid"].as_u64()).collect();
                            c.xprofiler_entries.fetch_add(entries.len() as u64, Relaxed);
                            c.process_rows.fetch_add(pids.len() as u64, Relaxed);
                            if first_pid.is_none() {
                                first_pid = pids.iter().min().map(|p| p.to_string());
                            }
                        }
                        AgentLog::Error(_) => {
                            let v: Value = serde_json::from_str(frame.data.get()).unwrap_or_default();
                            let n: usize = v["data"].as_object().map(|o| o.values().filter_map(|a| a.as_array()).map(Vec::len).sum::<usize>()).unwrap_or(0);
                            c.error_entries.fetch_add(n as u64, Relaxed);
                        }
                        _ => {}
                    }
                }
                Err(e) => {
                    c.bad_log_payloads.fetch_add(1, Relaxed);
                    state.problem(format!("log payload: {e}"));
                }
            },
            MessageKind::Response => {
                c.responses.fetch_add(1, Relaxed);
                match pending.remove(&frame.trace_id) {
                    Some(check) => {
                        let data: Value = serde_json::from_str(frame.data.get()).unwrap_or_default();
                        if check(&data) {
                            c.responses_ok.fetch_add(1, Relaxed);
                        } else {
                            c.responses_bad.fetch_add(1, Relaxed);
                            state.problem(format!("bad response: {}", frame.data.get()));
                        }
                    }
                    None => {
                        c.responses_unmatched.fetch_add(1, Relaxed);
                    }
                }
            }
        }
        // Commands once the agent is known (after its heartbeat).
        if state.commands && !commands_sent && frame.kind == MessageKind::Heartbeat {
            commands_sent = true;
            let pid = first_pid.clone().unwrap_or_else(|| "1".to_owned());
            for (i, (command, check)) in test_commands(&pid).into_iter().enumerate() {
                let trace = format!("sink-{conn_no}-{i}");
                let text = ServerFrame::exec_command_text(&trace, &command, 15_000);
                if ws.send(Message::Text(text)).await.is_err() {
                    c.abrupt_closes.fetch_add(1, Relaxed);
                    return;
                }
                c.commands_sent.fetch_add(1, Relaxed);
                pending.insert(trace, check);
            }
        }
        let want_shutdown = conn_no.checked_rem(state.shutdown_one_in) == Some(0);
        if want_shutdown && !shutdown_sent && (commands_sent || !state.commands) && pending.is_empty() {
            shutdown_sent = true;
            let text = ServerFrame::shutdown_text(&format!("sink-{conn_no}-shutdown"));
            if ws.send(Message::Text(text)).await.is_ok() {
                c.shutdowns_sent.fetch_add(1, Relaxed);
            }
        }
    }
}
