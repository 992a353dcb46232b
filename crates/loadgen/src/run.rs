//! Agent mode: ramps up the simulated agents, keeps them running until the duration bound, closes every socket and
//! returns the summary.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

use crate::agent::{run_agent, AgentConfig, Shared};
use crate::cli::{AgentsArgs, MAX_DURATION_SECS};
use crate::frame::json_str;
use crate::net;
use crate::stats::{RunInfo, Summary};

/// Resolves when the flag turns true; never when its sender is gone without having set it.
pub async fn flagged(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Validates the arguments into the shared agent settings.
pub async fn config_from_args(args: &AgentsArgs) -> anyhow::Result<AgentConfig> {
    let url = args.url.clone().context("--url is required")?;
    let secret = args.app_secret.clone().context("--app-secret is required")?;
    let duration = args.duration_secs.context("--duration-secs is required")?;
    if duration == 0 || duration > MAX_DURATION_SECS {
        bail!("--duration-secs must be between 1 and {MAX_DURATION_SECS}");
    }
    if args.agents == 0 {
        bail!("--agents must be at least 1");
    }
    if !(args.ramp_per_sec > 0.0 && args.ramp_per_sec.is_finite()) {
        bail!("--ramp-per-sec must be a positive number");
    }
    if args.heartbeat_secs == 0 || args.log_interval_secs == 0 {
        bail!("--heartbeat-secs and --log-interval-secs must be at least 1");
    }
    if args.processes > 1000 {
        bail!("--processes is at most 1000");
    }
    if !(args.reconnect_base_secs >= 0.0 && args.reconnect_base_secs <= 3600.0) {
        bail!("--reconnect-base-secs must be within 0..=3600");
    }
    let app_id_json = match (args.app_id_string, args.app_id.parse::<u64>()) {
        (false, Ok(n)) => n.to_string(),
        _ => json_str(&args.app_id),
    };
    let (host, port) = net::ws_host_port(&url)?;
    let dest = net::resolve_loopback(&host, port).await?;
    let source_ips = net::source_ips(args.source_ips.as_deref(), args.agents, args.conns_per_source_ip, dest)?;
    let last_index = args.first_index + args.agents - 1;
    Ok(AgentConfig {
        url,
        dest,
        source_ips,
        secret: secret.into_bytes(),
        app_id_json,
        agent_prefix: args.agent_prefix.clone(),
        id_width: last_index.to_string().len().max(6),
        heartbeat: Duration::from_secs(args.heartbeat_secs),
        log_interval: Duration::from_secs(args.log_interval_secs),
        processes: args.processes,
        error_path: args.errors.then(|| args.error_log_path.clone()),
        package: args.package,
        reconnect_base: Duration::from_secs_f64(args.reconnect_base_secs),
        connect_timeout: Duration::from_secs(args.connect_timeout_secs.max(1)),
        close_timeout: Duration::from_secs(args.close_timeout_secs.max(1)),
        command_latency: Duration::from_millis(args.command_latency_ms),
    })
}

/// Runs the simulation. `interrupt` ends it early (Ctrl-C in the binary).
pub async fn run_agents(args: &AgentsArgs, mut interrupt: watch::Receiver<bool>) -> anyhow::Result<Summary> {
    let cfg = config_from_args(args).await?;
    let duration = Duration::from_secs(args.duration_secs.unwrap_or(1));
    let agents = args.agents;
    let nofile = net::raise_nofile_limit(agents + 256);
    if let Some(limit) = nofile {
        if limit < agents + 64 {
            eprintln!("ezm-loadgen: warning: RLIMIT_NOFILE is {limit}, fewer than {agents} agents need; raise it (ulimit -n) or expect connect failures");
        }
    }
    let source_ips: Vec<String> = cfg.source_ips.iter().map(|ip| ip.to_string()).collect();
    let agent_ids = format!(
        "{} .. {}",
        format_args!("{}{:0w$}", cfg.agent_prefix, args.first_index, w = cfg.id_width),
        format_args!("{}{:0w$}", cfg.agent_prefix, args.first_index + agents - 1, w = cfg.id_width)
    );
    let url = cfg.url.clone();
    let shared = Arc::new(Shared::new(cfg));
    let (stop_tx, stop_rx) = watch::channel(false);

    let start = Instant::now();
    let deadline = start + duration;
    let progress = spawn_progress(shared.clone(), args.progress_secs, start);

    // Ramp: agent i starts at start + i/R, until all are started or the run is over.
    let mut interrupted = false;
    for i in 0..agents {
        let due = start + Duration::from_secs_f64(i as f64 / args.ramp_per_sec);
        if due >= deadline {
            break;
        }
        if due > Instant::now() {
            tokio::select! {
                _ = sleep_until(due) => {}
                _ = flagged(&mut interrupt) => { interrupted = true; break; }
            }
        }
        tokio::spawn(run_agent(shared.clone(), args.first_index + i, stop_rx.clone()));
    }
    let ramp_secs = start.elapsed().as_secs_f64();
    if !interrupted {
        tokio::select! {
            _ = sleep_until(deadline) => {}
            _ = flagged(&mut interrupt) => {}
        }
    }

    // Stop: every agent closes its socket (bounded by the close timeout).
    let connected_at_end = shared.stats.connected_now.load(Relaxed);
    let _ = stop_tx.send(true);
    let give_up = Instant::now() + shared.cfg.close_timeout + Duration::from_secs(2);
    while shared.running.load(Relaxed) > 0 && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if let Some(p) = progress {
        p.abort();
    }
    let unfinished = shared.running.load(Relaxed);
    if unfinished > 0 {
        eprintln!("ezm-loadgen: warning: {unfinished} agents were still closing when the run ended");
    }
    let mut summary = shared.stats.summary(RunInfo {
        url,
        app_id: args.app_id.clone(),
        agent_ids,
        source_ips,
        agents_requested: agents,
        processes: args.processes,
        errors: args.errors,
        elapsed_secs: start.elapsed().as_secs_f64(),
        ramp_secs,
        connected_at_end,
        nofile_limit: nofile,
    });
    summary.agents_not_finished = unfinished;
    Ok(summary)
}

fn spawn_progress(shared: Arc<Shared>, every_secs: u64, start: Instant) -> Option<tokio::task::JoinHandle<()>> {
    if every_secs == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(start + Duration::from_secs(every_secs), Duration::from_secs(every_secs));
        loop {
            tick.tick().await;
            let s = &shared.stats;
            let logs: u64 = s.logs_sent.iter().map(|c| c.load(Relaxed)).sum();
            eprintln!(
                "ezm-loadgen: t={:.0}s started={} connected_now={} connect_failures={} server_disconnects={} heartbeats={} logs={} responses={} MB_sent={:.1}",
                start.elapsed().as_secs_f64(),
                s.agents_started.load(Relaxed),
                s.connected_now.load(Relaxed),
                s.connect_failures.load(Relaxed),
                s.disconnects_by_server.load(Relaxed),
                s.heartbeats_sent.load(Relaxed),
                logs,
                s.responses_sent.load(Relaxed),
                s.bytes_sent.load(Relaxed) as f64 / 1e6,
            );
        }
    }))
}
