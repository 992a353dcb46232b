//! Command-line interface of `ezm-loadgen`: the agent simulation (default mode), `command` (round trips through the
//! manager) and `sink` (a tiny verifying WebSocket server for smoke tests of the load generator itself).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Longest run allowed, in seconds (runs must be bounded).
pub const MAX_DURATION_SECS: u64 = 3600;

#[derive(Debug, Parser)]
#[command(
    name = "ezm-loadgen",
    version,
    about = "Simulates many xtransit 3.1.0 agents against an easy-monitor ws-server (loopback only)",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub mode: Option<Mode>,
    #[command(flatten)]
    pub agents: AgentsArgs,
}

#[derive(Debug, Subcommand)]
pub enum Mode {
    /// Measure `exec_command` round trips through the manager (`/xprofiler/agent_osinfo`).
    Command(CommandArgs),
    /// Run a small WebSocket sink that verifies and counts agent frames (to smoke-test the load generator).
    Sink(SinkArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AgentsArgs {
    /// ws-server URL, e.g. ws://127.0.0.1:9190/ (must resolve to a loopback address).
    #[arg(long, required = true)]
    pub url: Option<String>,
    /// Application id of all simulated agents.
    #[arg(long, default_value = "1")]
    pub app_id: String,
    /// Send appId as a JSON string ("1") instead of a JSON number (1); the agent does either, by config.
    #[arg(long)]
    pub app_id_string: bool,
    /// Application secret (the HMAC-SHA1 key of every frame).
    #[arg(long, required = true)]
    pub app_secret: Option<String>,
    /// Number of simulated agents.
    #[arg(long, default_value_t = 100)]
    pub agents: u64,
    /// Agent ids are <prefix><index>, index zero-padded to 6 digits: load-000000, load-000001, …
    #[arg(long, default_value = "load-")]
    pub agent_prefix: String,
    /// First agent index (to split one population over several load generator processes).
    #[arg(long, default_value_t = 0)]
    pub first_index: u64,
    /// Connections opened per second during the ramp.
    #[arg(long, default_value_t = 200.0)]
    pub ramp_per_sec: f64,
    /// Total run time in seconds (ramp included); then every socket is closed. Mandatory, at most 3600.
    #[arg(long, required = true)]
    pub duration_secs: Option<u64>,
    /// Heartbeat period (the agent's heartbeatInterval).
    #[arg(long, default_value_t = 60)]
    pub heartbeat_secs: u64,
    /// Log collector period (system_log, xprofiler_log, error_log, core_files).
    #[arg(long, default_value_t = 60)]
    pub log_interval_secs: u64,
    /// Node.js processes per agent in xprofiler_log (each with the full metric key set).
    #[arg(long, default_value_t = 2)]
    pub processes: u32,
    /// Put one new error into every error_log (else error_log is `{}`, as with no error file configured).
    #[arg(long)]
    pub errors: bool,
    /// The error-log path reported with --errors.
    #[arg(long, default_value = "/srv/load/logs/app-error.log")]
    pub error_log_path: String,
    /// Also send the `package` log (small package.json + lock) at the first collector run and hourly.
    #[arg(long)]
    pub package: bool,
    /// Reconnect after U[0, base) seconds when the server closes the socket, as the agent (default 60); 0 = never.
    #[arg(long, default_value_t = 60.0)]
    pub reconnect_base_secs: f64,
    /// TCP connect and WebSocket handshake timeout, each.
    #[arg(long, default_value_t = 10)]
    pub connect_timeout_secs: u64,
    /// How long the closing handshake may take at the end of the run.
    #[arg(long, default_value_t = 5)]
    pub close_timeout_secs: u64,
    /// Simulated run time of a command's child process before its response is sent.
    #[arg(long, default_value_t = 0)]
    pub command_latency_ms: u64,
    /// Comma-separated loopback source addresses, used round-robin (default: 127.0.0.1, 127.0.0.2, … as needed).
    #[arg(long)]
    pub source_ips: Option<String>,
    /// Connections per source address when --source-ips is not given.
    #[arg(long, default_value_t = crate::net::CONNS_PER_SOURCE_IP)]
    pub conns_per_source_ip: u64,
    /// Print a progress line to stderr every N seconds (0 = never).
    #[arg(long, default_value_t = 10)]
    pub progress_secs: u64,
    /// Also write the JSON summary to this file.
    #[arg(long)]
    pub summary_json: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct CommandArgs {
    /// Manager base URL, e.g. http://127.0.0.1:8543 (must resolve to a loopback address).
    #[arg(long)]
    pub manager: String,
    /// The services' shared secret (signs the request body).
    #[arg(long)]
    pub secret: String,
    #[arg(long, default_value = "1")]
    pub app_id: String,
    #[arg(long, default_value = "load-")]
    pub agent_prefix: String,
    /// Agents to pick from at random: indexes first-index .. first-index+agents.
    #[arg(long)]
    pub agents: u64,
    #[arg(long, default_value_t = 0)]
    pub first_index: u64,
    /// Number of round trips.
    #[arg(long, default_value_t = 200)]
    pub count: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 1)]
    pub concurrency: u64,
    /// Per-request timeout.
    #[arg(long, default_value_t = 30)]
    pub timeout_secs: u64,
    #[arg(long)]
    pub summary_json: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct SinkArgs {
    /// Listen address (loopback only).
    #[arg(long, default_value = "127.0.0.1:9190")]
    pub listen: String,
    /// App secret to verify signatures with.
    #[arg(long)]
    pub app_secret: String,
    /// Stop after this many seconds (at most 3600).
    #[arg(long)]
    pub duration_secs: u64,
    /// After each connection's first heartbeat, send get_os_info, check_processes_alive, get_node_processes and an
    /// unknown command, and check the responses.
    #[arg(long)]
    pub commands: bool,
    /// After the command responses, send `shutdown` to one connection in N (0 = never).
    #[arg(long, default_value_t = 0)]
    pub shutdown_one_in: u64,
    #[arg(long)]
    pub summary_json: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_mode_needs_url_secret_and_duration_but_subcommands_do_not() {
        assert!(Cli::try_parse_from(["ezm-loadgen", "--agents", "3"]).is_err());
        let cli = Cli::try_parse_from(["ezm-loadgen", "--url", "ws://127.0.0.1:9190", "--app-secret", "s", "--duration-secs", "5", "--agents", "3"])
            .expect("agent mode parses");
        assert!(cli.mode.is_none());
        assert_eq!(cli.agents.agents, 3);
        let cli = Cli::try_parse_from(["ezm-loadgen", "command", "--manager", "http://127.0.0.1:8543", "--secret", "x", "--agents", "10"])
            .expect("command mode parses");
        assert!(matches!(cli.mode, Some(Mode::Command(ref c)) if c.count == 200 && c.concurrency == 1));
        let cli = Cli::try_parse_from(["ezm-loadgen", "sink", "--app-secret", "s", "--duration-secs", "3"]).expect("sink");
        assert!(matches!(cli.mode, Some(Mode::Sink(_))));
    }
}
