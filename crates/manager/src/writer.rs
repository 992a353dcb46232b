//! The metric writer: batches rows from concurrent requests into multi-row INSERTs.
//!
//! A request hands its rows over and waits until they are committed, so a reply of `{ok:true}` always means stored.
//! Batching is what lets one manager store thousands of rows per second: one INSERT (and one commit) per table per
//! batch instead of one per row. A batch that fails is retried row group by row group, so one bad request never
//! takes the others down with it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Pool, Value};
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::rows::{Cell, Row, OSINFO_COLUMNS, PROCESS_COLUMNS};
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
    /// Starts `workers` writer tasks on `pool`.
    pub fn start(pool: Pool, workers: usize, batch_rows: usize, stats: Arc<Stats>) -> Self {
        // The queue is bounded: when MySQL falls behind, requests wait here, and the ws-server in turn stops
        // reading agent sockets (push-back instead of silent loss).
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..workers.max(1) {
            tokio::spawn(run(pool.clone(), rx.clone(), batch_rows.max(1), stats.clone()));
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

async fn run(pool: Pool, rx: Arc<Mutex<mpsc::Receiver<Job>>>, batch_rows: usize, stats: Arc<Stats>) {
    loop {
        let mut jobs = Vec::new();
        {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut rows = first.rows.len();
            jobs.push(first);
            while rows < batch_rows {
                match rx.try_recv() {
                    Ok(job) => {
                        rows += job.rows.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
        }
        write_batch(&pool, jobs, &stats).await;
    }
}

async fn write_batch(pool: &Pool, jobs: Vec<Job>, stats: &Stats) {
    let all: Vec<&Row> = jobs.iter().flat_map(|j| j.rows.iter()).collect();
    let result = insert_with_retry(pool, &all).await;
    match result {
        Ok(()) => {
            stats.rows_stored(&all);
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
                    Ok(()) => stats.rows_stored(&rows),
                    Err(e) => {
                        stats.rows_failed(rows.len());
                        tracing::error!(rows = rows.len(), error = %e, "metric insert failed");
                    }
                }
                let _ = job.done.send(result);
            }
        }
    }
}

/// Retries connection-level failures (MySQL restarting) for a few seconds; a rejected statement is not retried.
async fn insert_with_retry(pool: &Pool, rows: &[&Row]) -> Result<(), String> {
    let mut delay = Duration::from_millis(100);
    for attempt in 0.. {
        match insert(pool, rows).await {
            Ok(()) => return Ok(()),
            Err(e) if is_transient(&e) && attempt < 6 => {
                tracing::warn!(attempt, error = %e, "mysql unavailable, retrying metric insert");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    unreachable!("the loop returns")
}

fn is_transient(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Io(_) | mysql_async::Error::Driver(_))
}

async fn insert(pool: &Pool, rows: &[&Row]) -> Result<(), mysql_async::Error> {
    let mut by_table: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in rows {
        by_table.entry(row.table.as_str()).or_default().push(row);
    }
    let mut conn = pool.get_conn().await?;
    let mut tx = conn.start_transaction(mysql_async::TxOpts::default()).await?;
    for (table, rows) in by_table {
        let columns = match table.starts_with("process_") {
            true => PROCESS_COLUMNS,
            false => OSINFO_COLUMNS,
        };
        // Text protocol with values rendered by the driver's own escaping: one round trip, and no prepared
        // statement per distinct batch size.
        let mut sql = format!("INSERT INTO `{table}` ({columns}) VALUES ");
        for (i, row) in rows.iter().enumerate() {
            sql.push_str(if i == 0 { "(" } else { ",(" });
            for (j, cell) in row.cells.iter().enumerate() {
                if j > 0 {
                    sql.push(',');
                }
                sql.push_str(&to_value(cell).as_sql(false));
            }
            sql.push(')');
        }
        tx.query_drop(sql).await?;
    }
    tx.commit().await
}

fn to_value(cell: &Cell) -> Value {
    match cell {
        Cell::Int(i) => Value::Int(*i),
        Cell::UInt(u) => Value::UInt(*u),
        Cell::Dec(f) => Value::Double(*f),
        Cell::Text(s) => Value::Bytes(s.as_bytes().to_vec()),
    }
}
