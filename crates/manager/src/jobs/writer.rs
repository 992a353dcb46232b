//! The metric writer: batches rows from concurrent requests into multi-row INSERTs.
//!
//! A request hands its rows over and waits until they are committed, so a reply of `{ok:true}` always means stored.
//! Batching is what lets one manager store thousands of rows per second: one INSERT (and one commit) per table per
//! batch instead of one per row. A batch that fails is retried row group by row group, so one bad request never
//! takes the others down with it. A row whose sample is stored already (the same process or system sample sent again
//! after a restart of the manager, MySQL or Redis) is skipped by the insert and counted, never stored twice.

use std::sync::Arc;
use std::time::Duration;

use common::batch::Batcher;
use common::retry::Backoff;
use mysql_async::Pool;
use store::logs_db::{self, Row, Skipped};
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::stats::Stats;

/// Rows of one request, and where to report the outcome.
struct Job {
    rows: Vec<Row>,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Clone)]
pub struct MetricWriter {
    tx: mpsc::Sender<Job>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("metric writer stopped")]
    Stopped,
    #[error("insert failed: {0}")]
    Insert(String),
}

impl MetricWriter {
    /// Starts `workers` writer tasks on `pool`, each writing at most about `batch_rows` rows per INSERT.
    pub fn start(pool: Pool, workers: usize, batch_rows: usize, stats: Arc<Stats>) -> Self {
        // The queue is bounded: when MySQL falls behind, requests wait here, and the ws-server in turn stops
        // reading agent sockets (push-back instead of silent loss).
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let batches = Arc::new(Mutex::new(Batcher::new(rx, usize::MAX, batch_rows, |job: &Job| job.rows.len())));
        for _ in 0..workers.max(1) {
            tokio::spawn(run(pool.clone(), batches.clone(), stats.clone()));
        }
        MetricWriter { tx }
    }

    /// Stores `rows` and returns once they are committed.
    pub async fn write(&self, rows: Vec<Row>) -> Result<(), WriteError> {
        if rows.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        self.tx.send(Job { rows, done }).await.map_err(|_| WriteError::Stopped)?;
        wait.await.map_err(|_| WriteError::Stopped)?.map_err(WriteError::Insert)
    }
}

async fn run(pool: Pool, batches: Arc<Mutex<Batcher<Job>>>, stats: Arc<Stats>) {
    loop {
        let Some(jobs) = batches.lock().await.next().await else { return };
        write_batch(&pool, jobs, &stats).await;
    }
}

async fn write_batch(pool: &Pool, jobs: Vec<Job>, stats: &Stats) {
    let all: Vec<&Row> = jobs.iter().flat_map(|j| j.rows.iter()).collect();
    let result = insert_with_retry(pool, &all).await;
    match result {
        Ok(skipped) => {
            stats.rows_stored(&all, skipped);
            for job in jobs {
                let _ = job.done.send(Ok(()));
            }
        }
        Err(e) if jobs.len() == 1 => {
            stats.rows_failed(all.len());
            tracing::error!(rows = all.len(), error = %e, "metric insert failed");
            let job = jobs.into_iter().next().expect("one job");
            let _ = job.done.send(Err(e));
        }
        Err(_) => {
            // Isolate the request at fault: write each job on its own.
            for job in jobs {
                let rows: Vec<&Row> = job.rows.iter().collect();
                let result = insert_with_retry(pool, &rows).await;
                match &result {
                    Ok(skipped) => stats.rows_stored(&rows, *skipped),
                    Err(e) => {
                        stats.rows_failed(rows.len());
                        tracing::error!(rows = rows.len(), error = %e, "metric insert failed");
                    }
                }
                let _ = job.done.send(result.map(|_| ()));
            }
        }
    }
}

/// Retries connection-level failures (MySQL restarting) for a few seconds; a rejected statement is not retried.
async fn insert_with_retry(pool: &Pool, rows: &[&Row]) -> Result<Skipped, String> {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2), 6);
    loop {
        match logs_db::insert(pool, rows).await {
            Ok(skipped) => return Ok(skipped),
            Err(e) if logs_db::is_transient(&e) && backoff.can_retry() => {
                tracing::warn!(error = %e, "mysql unavailable, retrying metric insert");
                backoff.wait().await;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}
