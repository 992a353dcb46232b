//! `ezm-loadgen`: the load generator's command line (see crates/loadgen/README.md).

use std::path::Path;

use anyhow::Context;
use clap::Parser;
use loadgen::cli::{Cli, Mode};
use serde::Serialize;
use tokio::sync::watch;

/// Prints the summary to stdout and, if asked, writes it to a file.
fn report<T: Serialize>(summary: &T, file: Option<&Path>) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(summary).context("summary serializes")?;
    println!("{text}");
    if let Some(path) = file {
        std::fs::write(path, format!("{text}\n")).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// A watch channel that turns true on Ctrl-C.
fn interrupt_on_ctrl_c() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("ezm-loadgen: interrupted, closing");
            let _ = tx.send(true);
        }
        // Keep the sender alive so receivers do not see a closed channel as a stop.
        std::future::pending::<()>().await;
    });
    rx
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ezm-loadgen: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.mode {
        None => {
            let summary = loadgen::run::run_agents(&cli.agents, interrupt_on_ctrl_c()).await?;
            report(&summary, cli.agents.summary_json.as_deref())
        }
        Some(Mode::Command(args)) => {
            let summary = loadgen::command::run_command(&args).await?;
            report(&summary, args.summary_json.as_deref())
        }
        Some(Mode::Sink(args)) => {
            let (listener, addr) = loadgen::sink::bind(&args.listen).await?;
            eprintln!("ezm-loadgen sink: listening on ws://{addr}/ for {} s", args.duration_secs);
            let summary = loadgen::sink::serve(listener, &args, interrupt_on_ctrl_c()).await?;
            report(&summary, args.summary_json.as_deref())
        }
    }
}
