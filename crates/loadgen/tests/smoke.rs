//! End-to-end smoke test of the load generator against its own verifying sink on 127.0.0.1: frames flow, every
//! signature verifies, commands are answered with the right traceId and shape, `shutdown` stops an agent, and the
//! run closes every socket cleanly within its bound.

use clap::Parser;
use loadgen::cli::{Cli, Mode};
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_talk_to_the_sink() {
    let sink_cli = Cli::try_parse_from([
        "ezm-loadgen",
        "sink",
        "--listen",
        "127.0.0.1:0",
        "--app-secret",
        "smoke-secret",
        "--duration-secs",
        "60",
        "--commands",
        "--shutdown-one-in",
        "5",
    ])
    .expect("sink args");
    let Some(Mode::Sink(sink_args)) = sink_cli.mode else { panic!("sink mode") };
    let (listener, addr) = loadgen::sink::bind(&sink_args.listen).await.expect("bind");
    let (sink_stop_tx, sink_stop_rx) = watch::channel(false);
    let sink = tokio::spawn(async move { loadgen::sink::serve(listener, &sink_args, sink_stop_rx).await });

    let url = format!("ws://{addr}/chat");
    let cli = Cli::try_parse_from([
        "ezm-loadgen",
        "--url",
        &url,
        "--app-secret",
        "smoke-secret",
        "--agents",
        "20",
        "--ramp-per-sec",
        "100",
        "--duration-secs",
        "4",
        "--heartbeat-secs",
        "1",
        "--log-interval-secs",
        "1",
        "--processes",
        "3",
        "--errors",
        "--package",
        "--reconnect-base-secs",
        "0",
        "--progress-secs",
        "0",
        "--app-id",
        "7",
    ])
    .expect("agent args");
    let (_interrupt_tx, interrupt_rx) = watch::channel(false);
    let summary = loadgen::run::run_agents(&cli.agents, interrupt_rx).await.expect("run");
    sink_stop_tx.send(true).expect("sink alive");
    let sink = sink.await.expect("sink task").expect("sink ran");

    let s = serde_json::to_value(&summary).expect("summary json");
    let k = serde_json::to_value(&sink).expect("sink json");
    eprintln!("{}\n{}", serde_json::to_string_pretty(&s).unwrap_or_default(), serde_json::to_string_pretty(&k).unwrap_or_default());

    // Every agent connected; 1 in 5 got shutdown and stopped; the rest closed cleanly at the end.
    assert_eq!(summary.agents_connected, 20);
    assert_eq!(summary.connect_failures, 0);
    assert_eq!(summary.shutdowns_received, 4);
    assert_eq!(sink.shutdowns_sent, 4);
    assert_eq!(summary.closed_cleanly, 20);
    assert_eq!(summary.agents_not_finished, 0);
    assert_eq!(summary.disconnects_by_server, 0);
    for name in ["get_os_info", "check_processes_alive", "get_node_processes", "unknown"] {
        assert_eq!(summary.commands_answered[name], 20, "{name}");
    }

    // The sink saw exactly what the agents sent, all verified.
    assert_eq!(sink.connections, 20);
    assert_eq!(sink.distinct_agents, 20);
    assert_eq!(sink.frames, summary.frames_sent.total);
    assert_eq!(sink.bytes, summary.bytes_sent);
    assert_eq!((sink.malformed, sink.bad_signatures, sink.stale_or_future, sink.bad_log_payloads), (0, 0, 0, 0), "{:?}", sink.first_problem);
    assert_eq!(sink.responses_ok, 80);
    assert_eq!((sink.responses_bad, sink.responses_unmatched), (0, 0), "{:?}", sink.first_problem);
    assert_eq!(sink.heartbeats, summary.frames_sent.heartbeat);
    let xprofiler = summary.frames_sent.log_kinds["xprofiler_log"].as_u64().unwrap_or(0);
    assert!(xprofiler >= 16, "most agents sent several xprofiler_log frames ({xprofiler})");
    assert_eq!(sink.logs.get("xprofiler_log").copied(), Some(xprofiler));
    assert_eq!(sink.process_rows, summary.expected_process_rows);
    assert_eq!(summary.expected_process_rows, xprofiler * 3);
    assert_eq!(sink.xprofiler_entries, xprofiler * 3 * loadgen::payload::METRICS_PER_PROCESS as u64);
    assert_eq!(sink.error_entries, summary.expected_error_entries);
    assert_eq!(sink.logs.get("package").copied(), summary.frames_sent.log_kinds["package"].as_u64());
    assert_eq!(sink.clean_closes, 20);
    assert!(summary.elapsed_secs < 4.0 + 5.0 + 2.5);
}
