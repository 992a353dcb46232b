//! `ezm-analyze`: the analysis crate's reports for a file on disk, for people who have a file and no console.
//!
//! `ezm-analyze heap FILE [--base OTHER] [--json]`, `ezm-analyze cpu FILE [--base OTHER] [--json]`,
//! `ezm-analyze heapprofile FILE [--json]`. Readable text by default; `--json` prints the same serde types the
//! console stores. Stage timings go to stderr when it is a terminal.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};

use analysis::heap::{HeapAnalysis, HeapReport, HeapSnapshot, ParseOptions, ReportLimits};
use analysis::{cpu, heapprofile, text};

#[derive(Parser)]
#[command(name = "ezm-analyze", about = "Analyse V8 heap snapshots, CPU profiles and sampling heap profiles")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print each stage's time and the memory held per node and edge to stderr (also when it is not a terminal).
    #[arg(long, global = true)]
    timings: bool,
}

#[derive(Subcommand)]
enum Command {
    /// A heap snapshot (.heapsnapshot, plain or gzip): totals, leak suspects, classes, largest objects.
    Heap {
        file: PathBuf,
        /// An earlier snapshot to compare with.
        #[arg(long)]
        base: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Refuse a snapshot whose header says the analysis needs more than this many MiB.
        #[arg(long)]
        budget_mib: Option<u64>,
    },
    /// A CPU profile (.cpuprofile, CDP or xprofiler): functions, files and packages by self time, call trees.
    Cpu {
        file: PathBuf,
        /// A profile to compare with: this file is the target, the base is subtracted.
        #[arg(long)]
        base: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// A sampling heap profile (.heapprofile, CDP or xprofiler): allocation tree and top allocators.
    Heapprofile {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

struct Stages {
    show: bool,
    progress: bool,
    start: Instant,
}

/// Counts the bytes read from the file and draws a percentage on a terminal.
struct Progress<R> {
    inner: R,
    read: u64,
    total: u64,
    shown: u64,
    draw: bool,
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.draw && self.total > 0 {
            let pct = self.read * 100 / self.total;
            if pct != self.shown {
                self.shown = pct;
                eprint!("\rreading {pct:>3} %");
                if pct == 100 {
                    eprintln!();
                }
            }
        }
        Ok(n)
    }
}

impl Stages {
    fn done(&self, what: &str) {
        if self.show {
            eprintln!("[{:>7.2} s] {what}", self.start.elapsed().as_secs_f64());
        }
    }
}

fn open(path: &Path) -> anyhow::Result<(File, u64)> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((file, len))
}

fn analyse_heap(path: &Path, budget_mib: Option<u64>, stages: &Stages) -> anyhow::Result<HeapAnalysis> {
    let (file, len) = open(path)?;
    let gzip = path.extension().is_some_and(|e| e == "gz");
    // A plain file's size bounds what its header may claim; a gzip file's inflated size is unknown.
    let options = ParseOptions {
        budget_bytes: budget_mib.map(|m| m << 20),
        input_bytes: (!gzip).then_some(len),
        ..ParseOptions::default()
    };
    let reader = Progress { inner: file, read: 0, total: len, shown: 0, draw: stages.progress };
    let snap = HeapSnapshot::from_reader(reader, &options).with_context(|| format!("parsing {}", path.display()))?;
    stages.done(&format!("parsed {} ({} nodes, {} edges)", path.display(), snap.node_count(), snap.edge_count()));
    let analysis = HeapAnalysis::new(snap);
    let (node_bytes, edge_bytes) = analysis.resident_bytes();
    let (nodes, edges) = (analysis.snap.node_count().max(1) as f64, analysis.snap.edge_count().max(1) as f64);
    stages.done(&format!(
        "analysed; resident {:.1} bytes per node, {:.1} per edge",
        node_bytes as f64 / nodes,
        edge_bytes as f64 / edges
    ));
    Ok(analysis)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let terminal = std::io::stderr().is_terminal();
    let stages = Stages { show: terminal || cli.timings, progress: terminal, start: Instant::now() };
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Heap { file, base, json, budget_mib } => {
            let limits = ReportLimits::default();
            let target = analyse_heap(&file, budget_mib, &stages)?;
            let report: HeapReport = target.report(&limits);
            stages.done("report");
            let comparison = match base {
                Some(base) => {
                    // The target's summary is kept; its graph is not needed for the comparison.
                    let summary = analysis::heap::diff::SnapshotSummary::of(&target);
                    drop(target);
                    let base = analyse_heap(&base, budget_mib, &stages)?;
                    let base_summary = analysis::heap::diff::SnapshotSummary::of(&base);
                    drop(base);
                    Some(analysis::heap::diff::compare(&base_summary, &summary, limits.classes))
                }
                None => None,
            };
            if json {
                let value = serde_json::json!({ "heap": report, "comparison": comparison });
                serde_json::to_writer_pretty(&mut out, &value)?;
                writeln!(out)?;
            } else {
                out.write_all(text::heap_report(&report).as_bytes())?;
                if let Some(c) = &comparison {
                    out.write_all(text::heap_comparison(c).as_bytes())?;
                }
            }
        }
        Command::Cpu { file, base, json } => {
            let target =
                cpu::CpuProfile::from_reader(open(&file)?.0).with_context(|| format!("parsing {}", file.display()))?;
            let report = target.report();
            let diff = match &base {
                Some(base) => {
                    let base = cpu::CpuProfile::from_reader(open(base)?.0)
                        .with_context(|| format!("parsing {}", base.display()))?;
                    Some(cpu::diff(&base, &target))
                }
                None => None,
            };
            if json {
                serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "cpu": report, "diff": diff }))?;
                writeln!(out)?;
            } else {
                out.write_all(text::cpu_report(&report).as_bytes())?;
                if let Some(d) = &diff {
                    out.write_all(text::cpu_diff(d).as_bytes())?;
                }
            }
        }
        Command::Heapprofile { file, json } => {
            let report = heapprofile::analyse(open(&file)?.0).with_context(|| format!("parsing {}", file.display()))?;
            if json {
                serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "heapprofile": report }))?;
                writeln!(out)?;
            } else {
                out.write_all(text::heap_profile(&report).as_bytes())?;
            }
        }
    }
    Ok(())
}
