//! `command` mode: measures `exec_command` round trips through the manager. Each request is a signed
//! `POST /xprofiler/agent_osinfo {"appId":"1","agentId":"<random simulated agent>"}`; the manager asks the ws-server,
//! which asks the agent, and the reply must be `{"ok":true,"data":{"ok":true,"data":{"stdout":…}}}`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::Rng;
use serde::Serialize;
use serde_json::Value;

use crate::cli::CommandArgs;
use crate::net;
use crate::stats::round3;

pub const ROUTE: &str = "/xprofiler/agent_osinfo";

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "appId")]
    app_id: &'a str,
    #[serde(rename = "agentId")]
    agent_id: &'a str,
}

#[derive(Debug, Serialize)]
pub struct CommandSummary {
    pub mode: &'static str,
    pub manager: String,
    pub route: &'static str,
    pub count: u64,
    pub concurrency: u64,
    pub ok: u64,
    pub failures: u64,
    /// Failure reasons (shortened) → count.
    pub failure_reasons: BTreeMap<String, u64>,
    pub first_failure: Option<String>,
    pub latency_ms: Latency,
    pub elapsed_secs: f64,
    pub requests_per_sec: f64,
}

/// Latency of all requests (successful or not), in milliseconds.
#[derive(Debug, Default, Serialize)]
pub struct Latency {
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(mut samples: Vec<f64>) -> Self {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_by(|a, b| a.total_cmp(b));
        // Nearest-rank percentile.
        let pct = |p: f64| {
            let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
            samples[rank.clamp(1, samples.len()) - 1]
        };
        Latency {
            min: round3(samples[0]),
            mean: round3(samples.iter().sum::<f64>() / samples.len() as f64),
            p50: round3(pct(50.0)),
            p90: round3(pct(90.0)),
            p99: round3(pct(99.0)),
            max: round3(samples[samples.len() - 1]),
        }
    }
}

/// Checks a manager reply; returns a short failure reason.
pub fn check_reply(status: u16, body: &str) -> Result<(), String> {
    if status != 200 {
        return Err(format!("http status {status}"));
    }
    let v: Value = serde_json::from_str(body).map_err(|_| "reply is not JSON".to_owned())?;
    if v["ok"] != Value::Bool(true) {
        return Err(format!("manager ok=false: {}", v["message"].as_str().unwrap_or("")));
    }
    let data = &v["data"];
    if data["ok"] != Value::Bool(true) {
        return Err(format!("agent reply ok!=true: {}", data["message"].as_str().unwrap_or("(no reply)")));
    }
    let stdout = data["data"]["stdout"].as_str().ok_or_else(|| "agent reply has no stdout".to_owned())?;
    let os: Value = serde_json::from_str(stdout.trim_end()).map_err(|_| "stdout is not JSON".to_owned())?;
    if !os["nodeVersion"].is_string() {
        return Err("stdout has no nodeVersion".to_owned());
    }
    Ok(())
}

pub async fn run_command(args: &CommandArgs) -> anyhow::Result<CommandSummary> {
    if args.agents == 0 || args.count == 0 || args.concurrency == 0 {
        bail!("--agents, --count and --concurrency must be at least 1");
    }
    let base: reqwest::Url = args.manager.parse().with_context(|| format!("--manager {:?} is not a URL", args.manager))?;
    if base.scheme() != "http" {
        bail!("--manager must be an http:// URL");
    }
    let host = base.host_str().context("--manager has no host")?.trim_start_matches('[').trim_end_matches(']').to_owned();
    net::resolve_loopback(&host, base.port_or_known_default().unwrap_or(80)).await?;
    let url = base.join(ROUTE).context("cannot build the route URL")?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(args.timeout_secs.max(1)))
        .pool_max_idle_per_host(args.concurrency as usize)
        .build()
        .context("cannot build the HTTP client")?;
    let width = (args.first_index + args.agents - 1).to_string().len().max(6);

    let next = Arc::new(AtomicU64::new(0));
    let results = Arc::new(Mutex::new((Vec::<f64>::with_capacity(args.count as usize), BTreeMap::<String, u64>::new(), None::<String>)));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency.min(args.count) {
        let (client, url, next, results, args) = (client.clone(), url.clone(), next.clone(), results.clone(), args.clone());
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Relaxed) < args.count {
                let index = args.first_index + rand::thread_rng().gen_range(0..args.agents);
                let agent_id = format!("{}{:0width$}", args.agent_prefix, index);
                let body = protocol::service::sign_body(args.secret.as_bytes(), &Body { app_id: &args.app_id, agent_id: &agent_id });
                let t0 = Instant::now();
                let outcome = match client.post(url.clone()).header("content-type", "application/json").body(body).send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        match resp.text().await {
                            // Reasons are grouped without the agent id (messages like "app 1 agent <id> not connected!").
                            Ok(text) => check_reply(status, &text).map_err(|e| (e.replace(&agent_id, "<agent>"), format!("{agent_id}: {text:.300}"))),
                            Err(e) => Err((format!("reading reply: {}", short(&e)), format!("{agent_id}: {e}"))),
                        }
                    }
                    Err(e) => Err((format!("request: {}", short(&e)), format!("{agent_id}: {e}"))),
                };
                let ms = t0.elapsed().as_secs_f64() * 1000.0;
                if let Ok(mut r) = results.lock() {
                    r.0.push(ms);
                    if let Err((reason, detail)) = outcome {
                        *r.1.entry(reason).or_default() += 1;
                        if r.2.is_none() {
                            r.2 = Some(detail);
                        }
                    }
                }
            }
        }));
    }
    for w in workers {
        w.await.context("a request worker panicked")?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (latencies, reasons, first_failure) = {
        let mut r = results.lock().map_err(|_| anyhow::anyhow!("results lock poisoned"))?;
        (std::mem::take(&mut r.0), std::mem::take(&mut r.1), r.2.take())
    };
    let failures: u64 = reasons.values().sum();
    let count = latencies.len() as u64;
    Ok(CommandSummary {
        mode: "command",
        manager: args.manager.clone(),
        route: ROUTE,
        count,
        concurrency: args.concurrency,
        ok: count - failures,
        failures,
        failure_reasons: reasons,
        first_failure,
        latency_ms: Latency::of(latencies),
        elapsed_secs: round3(elapsed),
        requests_per_sec: round3(count as f64 / elapsed.max(1e-9)),
    })
}

fn short(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_decode() || e.is_body() {
        "body"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_checked() {
        let good = r#"{"ok":true,"data":{"ok":true,"data":{"stdout":"{\"nodeVersion\":\"20.20.2\",\"xtransitVersion\":\"3.1.0\"}\n","stderr":""}}}"#;
        assert_eq!(check_reply(200, good), Ok(()));
        assert!(check_reply(500, good).is_err());
        assert!(check_reply(200, r#"{"ok":true,"data":{"ok":false,"message":"app 1 agent x not connected!"}}"#).is_err_and(|e| e.contains("not connected")));
        assert!(check_reply(200, r#"{"ok":true}"#).is_err());
        assert!(check_reply(200, r#"{"ok":false,"message":"签名错误"}"#).is_err());
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let l = Latency::of((1..=100).map(f64::from).collect());
        assert_eq!((l.min, l.p50, l.p90, l.p99, l.max), (1.0, 50.0, 90.0, 99.0, 100.0));
        assert_eq!(l.mean, 50.5);
        assert_eq!(Latency::of(vec![]).max, 0.0);
    }

    #[test]
    fn bodies_are_signed_like_the_services() {
        let body = protocol::service::sign_body(b"k", &Body { app_id: "1", agent_id: "load-000042" });
        assert!(body.starts_with(r#"{"appId":"1","agentId":"load-000042","signature":""#), "{body}");
        assert_eq!(protocol::service::verify_body(b"k", &body), Ok(()));
    }
}
