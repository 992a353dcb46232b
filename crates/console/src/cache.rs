//! A short-lived cache of the app cards' replies (`/xapi/overview_metrics` and the five `/xapi/main_metrics`),
//! which cost a manager call and several queries per online agent. Concurrent requests for one key share one
//! computation (moka's `try_get_with` runs the first caller's and makes the others wait for it), and a reply is
//! served for `console.overview_cache_ttl_ms` at most. Access checks stay in the routes, before the cache, on every
//! request: the cache is keyed by app, so whoever may see the app gets the same reply.
//!
//! [`SharedReads`] does the same for the rows behind a trend page: the original front-end asks for the 8 system
//! charts of an agent, or the 9 charts of a process, in parallel, and each chart used to read the same week of day
//! tables. Now the first chart reads every figure the page draws and the others draw from that read, for
//! `console.trend_cache_ttl_ms` at most (each chart keeps only the rows of its own window). [`TrendRows`] adds the
//! past days: a day table of a day that is over no longer changes, so its rows are read once and kept for
//! `console.trend_day_cache_ttl_ms`, and a week's chart reads only today's rows from MySQL. [`FileHints`] keeps the
//! files list's last counts and seek points, hints that let a page read its count and its rows at once and a deep
//! page start near its rows.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use store::console_db::files::{self, ListFilter, ListHint};
use store::logs_db::osinfo::{self, OsinfoRow};
use store::logs_db::process::ProcessRow;

use crate::domain::metrics::MainMetricType;
use crate::error::ConsoleError;

/// Which card reply of an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardKey {
    Overview(u64),
    Main(u64, MainMetricType),
}

/// Bytes of cached replies at most (a main_metrics reply of 100 agents is about 20 kB).
const MAX_BYTES: u64 = 64 << 20;

/// The cached replies: each the serialized `{ok: true, data}` body. Cheap to clone.
#[derive(Clone)]
pub struct CardCache {
    /// `None`: a TTL of 0, every request computes its reply.
    replies: Option<moka::future::Cache<CardKey, Bytes>>,
}

impl CardCache {
    pub fn new(ttl: Duration) -> Self {
        let replies = (!ttl.is_zero()).then(|| {
            moka::future::Cache::builder()
                .time_to_live(ttl)
                .weigher(|_key, body: &Bytes| u32::try_from(body.len()).unwrap_or(u32::MAX))
                .max_capacity(MAX_BYTES)
                .build()
        });
        CardCache { replies }
    }

    /// The reply of `key`: a cached one younger than the TTL, the one being computed by another request, or the one
    /// `compute` gives now. A failure is not cached; every request that waited for it gets it.
    pub async fn get_or_compute<F>(&self, key: CardKey, compute: F) -> Result<Bytes, ConsoleError>
    where
        F: std::future::Future<Output = Result<Bytes, ConsoleError>>,
    {
        let Some(replies) = &self.replies else { return compute.await };
        replies.try_get_with(key, compute).await.map_err(unshare)
    }
}

/// The waiters share the first caller's error; each request needs one of its own to render.
fn unshare(shared: Arc<ConsoleError>) -> ConsoleError {
    Arc::try_unwrap(shared).unwrap_or_else(|shared| ConsoleError::Internal(shared.to_string()))
}

/// Bytes of shared trend rows at most, per kind (system, process): a week of an agent's system rows is ~3.9 MB, of
/// a process ~2.7 MB.
const MAX_ROW_BYTES: u64 = 64 << 20;

/// What a kept row holds beyond its struct (text on the heap), for the caches' weighers.
pub trait HeapBytes {
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl HeapBytes for OsinfoRow {
    fn heap_bytes(&self) -> usize {
        self.disks.capacity()
    }
}

impl HeapBytes for ProcessRow {}

/// The weight of kept rows: what they hold, plus a fixed cost per entry (its key, the cache's own bookkeeping), so
/// that even empty reads count against the capacity.
fn weight<R: HeapBytes>(rows: &[R]) -> u32 {
    let bytes = 512 + std::mem::size_of_val(rows) + rows.iter().map(HeapBytes::heap_bytes).sum::<usize>();
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// Rows read once for every request of one key (`K`: whose rows from when) within the TTL. Access is checked by the
/// routes before they ask. Cheap to clone.
#[derive(Clone)]
pub struct SharedReads<K, R> {
    /// `None`: a TTL of 0, every request reads its own rows.
    reads: Option<moka::future::Cache<K, Arc<Vec<R>>>>,
}

impl<K, R> SharedReads<K, R>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    R: HeapBytes + Send + Sync + 'static,
{
    pub fn new(ttl: Duration) -> Self {
        let reads = (!ttl.is_zero())
            .then(|| moka::future::Cache::builder().time_to_live(ttl).weigher(|_key, rows: &Arc<Vec<R>>| weight(rows)).max_capacity(MAX_ROW_BYTES).build());
        SharedReads { reads }
    }

    /// Whether reads are shared (a TTL above 0): a route then reads what the whole page needs.
    pub fn is_on(&self) -> bool {
        self.reads.is_some()
    }

    /// The rows of `key`: read by a request of the last TTL, being read by another request, or read by `read` now.
    /// A failure is not kept; every request that waited for it gets it.
    pub async fn get_or_read<F>(&self, key: K, read: F) -> Result<Arc<Vec<R>>, ConsoleError>
    where
        F: std::future::Future<Output = Result<Vec<R>, ConsoleError>>,
    {
        let Some(reads) = &self.reads else { return read.await.map(Arc::new) };
        // Kept at their length, so that the weigher's count is what they hold.
        let kept = async {
            let mut rows = read.await?;
            rows.shrink_to_fit();
            Ok::<_, ConsoleError>(Arc::new(rows))
        };
        reads.try_get_with(key, kept).await.map_err(unshare)
    }
}

/// How long after a local midnight the day before counts as complete: the manager writes a minute's samples a few
/// seconds after the minute, and the last ones of a day land after midnight.
const DAY_SETTLES_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// The rows of a trend window: the past days it covers kept (each day read once, from the window's start or its
/// midnight to its end, and kept `console.trend_day_cache_ttl_ms`), the rest (today, and yesterday for the first
/// minutes after midnight) read for every request, or shared by the charts of a page for
/// `console.trend_cache_ttl_ms`. Rows before the window's start may be among them (a kept day may start earlier, a
/// shared read may be older): the routes filter by `log_time`.
#[derive(Clone)]
pub struct TrendRows<K, R> {
    days: Option<KeptDays<K, R>>,
    live: SharedReads<(K, LiveStart), R>,
}

/// (key, day) → the day's rows from a time of that day (its midnight, or the start of the window that read it first)
/// to its end.
type KeptDays<K, R> = moka::future::Cache<(K, chrono::NaiveDate), (chrono::NaiveDateTime, Arc<Vec<R>>)>;

/// Where the part of a window read from MySQL starts: at a midnight (after the whole days), or at the window's own
/// start, which moves every second, so such reads are shared by window length (as the charts of a page ask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum LiveStart {
    Midnight(chrono::NaiveDateTime),
    Window { minutes: i64 },
}

/// The local time before which a day that ended counts as complete (`DAY_SETTLES_AFTER` before `now`; taken on the
/// instant, so a midnight that a daylight-saving change skips still waits).
pub fn settled_before(now: &chrono::DateTime<chrono::Local>) -> chrono::NaiveDateTime {
    (*now - DAY_SETTLES_AFTER).naive_local()
}

impl<K, R> TrendRows<K, R>
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
    R: HeapBytes + Send + Sync + 'static,
{
    /// `day_bytes`: how many bytes of whole days' rows are kept at most.
    pub fn new(live_ttl: Duration, day_ttl: Duration, day_bytes: u64) -> Self {
        let days = (!day_ttl.is_zero() && day_bytes > 0).then(|| {
            moka::future::Cache::builder()
                .time_to_live(day_ttl)
                .weigher(|_key, (_, rows): &(chrono::NaiveDateTime, Arc<Vec<R>>)| weight(rows))
                .max_capacity(day_bytes)
                .build()
        });
        TrendRows { days, live: SharedReads::new(live_ttl) }
    }

    /// Whether the charts of a page share their reads: a route then reads what the whole page needs.
    pub fn is_shared(&self) -> bool {
        self.live.is_on()
    }

    /// The rows of `key` in `[from, to)` (local wall-clock times), as chunks, day by day in time order (within a
    /// chunk, in the order `read` gives them); a day that ended before `settled` ([`settled_before`]) is taken
    /// whole. `read(from, to)` reads a span from the day tables.
    pub async fn rows<F, Fut>(
        &self,
        key: K,
        (from, to): (chrono::NaiveDateTime, chrono::NaiveDateTime),
        settled: chrono::NaiveDateTime,
        read: F,
    ) -> Result<Vec<Arc<Vec<R>>>, ConsoleError>
    where
        F: Fn(chrono::NaiveDateTime, chrono::NaiveDateTime) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<R>, ConsoleError>>,
    {
        let read = &read;
        let mut whole = Vec::new();
        let mut live_from = from;
        if let Some(days) = &self.days {
            // Every day that ended (and settled) is read to its end, from the window's start or its midnight, and
            // kept; a later window (starting later) finds it, an earlier one reads it again from its own start.
            for span in store::logs_db::day_spans(from, to) {
                let day = span.from.date();
                let midnight = day.succ_opt().map(|next| next.and_time(chrono::NaiveTime::MIN));
                if midnight != Some(span.to) || span.to > settled {
                    break;
                }
                whole.push(kept_day(days, (key.clone(), day), span.from, read(span.from, span.to)));
                live_from = span.to;
            }
        }
        let start = match live_from == from {
            true => LiveStart::Window { minutes: (to - from).num_minutes() },
            false => LiveStart::Midnight(live_from),
        };
        let live = async {
            match live_from < to {
                true => self.live.get_or_read((key.clone(), start), read(live_from, to)).await,
                false => Ok(Arc::new(Vec::new())),
            }
        };
        let (whole, live) = futures_util::future::join(futures_util::future::try_join_all(whole), live).await;
        let mut chunks = whole?;
        chunks.push(live?);
        Ok(chunks)
    }
}

/// The rows of one day from `need` on: kept ones that start no later, else read by `read` and kept. Calls for one
/// day run one after the other (moka's per-key lock), so the charts of a page asking at once read it once; a
/// failure is not kept.
async fn kept_day<K, R, Fut>(days: &KeptDays<K, R>, key: (K, chrono::NaiveDate), need: chrono::NaiveDateTime, read: Fut) -> Result<Arc<Vec<R>>, ConsoleError>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    R: Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<R>, ConsoleError>>,
{
    use moka::ops::compute::{CompResult, Op};
    let computed = days
        .entry(key)
        .and_try_compute_with(|kept| async move {
            if kept.as_ref().is_some_and(|e| e.value().0 <= need) {
                return Ok(Op::Nop);
            }
            let mut rows = read.await?;
            rows.shrink_to_fit();
            Ok::<_, ConsoleError>(Op::Put((need, Arc::new(rows))))
        })
        .await?;
    match computed {
        CompResult::Unchanged(e) | CompResult::Inserted(e) | CompResult::ReplacedWith(e) => Ok(e.into_value().1),
        CompResult::StillNone(_) | CompResult::Removed(_) => Err(ConsoleError::Internal("a kept trend day vanished".into())),
    }
}

/// Which columns a trend read selects: a static list of figure names (the page's, or one chart's).
pub type Columns = &'static [&'static str];

/// Of a one-half system read: its position and the (step, phase) of its sampled minutes (`osinfo::Half`, whose
/// minutes read whole are left out: they lie in today's rows, which are read again soon).
pub type KeptHalf = (u8, Option<(u32, u32)>);

/// The rows behind the trend pages.
#[derive(Clone)]
pub struct TrendReads {
    /// (app, agent, columns, half): the agent's `osinfo` rows (the position `figures_between` reads fully, when it
    /// reads only one half, and the step and phase of its sampled minutes).
    pub system: TrendRows<(u64, String, Columns, Option<KeptHalf>), OsinfoRow>,
    /// (app, agent, pid, columns): the process's rows.
    pub process: TrendRows<(u64, String, i64, Columns), ProcessRow>,
}

impl TrendReads {
    pub fn new(live_ttl: Duration, day_ttl: Duration, day_bytes: u64) -> Self {
        TrendReads { system: TrendRows::new(live_ttl, day_ttl, day_bytes), process: TrendRows::new(live_ttl, day_ttl, day_bytes) }
    }
}

/// What the files list learnt per (app, filter) (`store::console_db::files::ListHint`): the last count, which lets
/// the next page read its count and its rows at once, and the seek points of a long list's deep pages. A stale hint
/// costs a second read, never a wrong answer (the store checks points against the list's signature before it uses
/// them). Weighed by seek points, so that lists of millions of rows fit too.
#[derive(Clone)]
pub struct FileHints {
    hints: moka::future::Cache<(u64, ListFilter), ListHint>,
    taking: TakingLists,
    /// The lists whose points could not be kept (longer than the store keeps points for, or dates it does not order):
    /// not tried again in the background for a while.
    unseekable: moka::future::Cache<(u64, ListFilter), ()>,
}

impl Default for FileHints {
    fn default() -> Self {
        FileHints {
            hints: moka::future::Cache::builder()
                // An entry weighs 1 plus its points (24 bytes each): some 30 MB at most.
                .max_capacity(1_000_000)
                .weigher(|_, hint: &ListHint| 1 + hint.seeks.as_ref().map_or(0, |s| u32::try_from(s.len()).unwrap_or(u32::MAX)))
                // A hint is checked against the list whenever it is used, so it may be kept as long as it is used.
                .time_to_idle(Duration::from_secs(3600))
                .build(),
            taking: Arc::default(),
            unseekable: moka::future::Cache::builder().max_capacity(100_000).time_to_live(Duration::from_secs(600)).build(),
        }
    }
}

/// The lists whose seek points a task is taking ([`FileHints::take_points`]); `true`: take them again when done (the
/// list changed meanwhile).
type TakingLists = Arc<std::sync::Mutex<std::collections::HashMap<(u64, ListFilter), bool>>>;

/// Removes a list from [`FileHints::taking`] however its task ends (a panic, or its runtime stopping), unless the task
/// did so itself: a list left there would never be taken in the background again.
struct Taking {
    taking: TakingLists,
    key: (u64, ListFilter),
    done: bool,
}

impl Drop for Taking {
    fn drop(&mut self) {
        if !self.done {
            lock(&self.taking).remove(&self.key);
        }
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FileHints {
    pub async fn get(&self, app: u64, filter: &ListFilter) -> ListHint {
        self.hints.get(&(app, filter.clone())).await.unwrap_or_default()
    }

    /// Keeps what a page of the list returned (`hint`), given the points it was given (`given`), and says whether the
    /// list is left without points that it could have (then [`FileHints::take_points`] is worth it). Points the page
    /// took or moved replace those kept; points it only passed on leave those kept meanwhile (newer, taken in the
    /// background); points it dropped are dropped; a page that had none leaves those kept.
    pub async fn keep_page(&self, app: u64, filter: ListFilter, given: Option<Arc<files::SeekPoints>>, hint: ListHint) -> bool {
        use moka::ops::compute::Op;
        let passed_on = matches!((&hint.seeks, &given), (Some(p), Some(g)) if Arc::ptr_eq(p, g));
        let dropped = hint.seeks.is_none() && given.is_some();
        let entry = self
            .hints
            .entry((app, filter))
            .and_compute_with(|kept| {
                let kept = kept.and_then(|k| k.into_value().seeks);
                let seeks = match (hint.seeks.clone(), dropped) {
                    (Some(page), _) if passed_on => kept.or(Some(page)),
                    (Some(page), _) => Some(page),
                    (None, true) => None,
                    (None, false) => kept,
                };
                std::future::ready(Op::Put(ListHint { count: hint.count, seeks }))
            })
            .await;
        let without = match entry {
            moka::ops::compute::CompResult::Inserted(e) | moka::ops::compute::CompResult::ReplacedWith(e) => e.value().seeks.is_none(),
            _ => true,
        };
        without && !dropped
    }

    /// Takes the seek points of (app, filter) in a task of its own and keeps them: the first deep page of a long list
    /// then reads from them instead of taking them itself (~50-100 ms for 100,000 rows). A list whose points are being
    /// taken is taken once more after (it may have changed since the task's snapshot); one the store keeps no points
    /// for is left alone for 10 minutes. A failure is logged: it only means the deep page takes them.
    pub fn take_points(&self, pool: mysql_async::Pool, app: u64, filter: ListFilter, seeking: files::Seeking) {
        let key = (app, filter);
        if self.unseekable.contains_key(&key) {
            return;
        }
        {
            let mut taking = lock(&self.taking);
            if let Some(again) = taking.get_mut(&key) {
                *again = true;
                return;
            }
            taking.insert(key.clone(), false);
        }
        let hints = self.clone();
        actix_web::rt::spawn(async move {
            let mut task = Taking { taking: hints.taking.clone(), key: key.clone(), done: false };
            loop {
                match files::seek_points(&pool, key.0, &key.1, seeking).await {
                    Ok(Some(points)) => hints.hints.insert(key.clone(), ListHint { count: Some(points.list_count()), seeks: Some(points) }).await,
                    Ok(None) => hints.unseekable.insert(key.clone(), ()).await,
                    Err(e) => tracing::warn!(app = key.0, error = %e, "could not take the files list's seek points"),
                }
                let mut taking = lock(&hints.taking);
                match taking.get_mut(&key) {
                    Some(again) if *again => *again = false,
                    _ => {
                        taking.remove(&key);
                        task.done = true;
                        break;
                    }
                }
            }
        });
    }

    /// After a change below the first seek point of `app`'s lists (a file deleted, a favourite toggled: `only` the
    /// list that changed, or all of them), the points kept for them are taken again in the background, so that the
    /// next deep page does not take them itself.
    pub fn retake_points(&self, pool: &mysql_async::Pool, app: u64, only: Option<&ListFilter>, seeking: files::Seeking) {
        let kept: Vec<ListFilter> = self
            .hints
            .iter()
            .filter(|(key, hint)| key.0 == app && hint.seeks.is_some() && only.is_none_or(|f| *f == key.1))
            .map(|(key, _)| key.1.clone())
            .collect();
        for filter in kept {
            self.take_points(pool.clone(), app, filter, seeking);
        }
    }
}

/// What a system page's shared read selects: the `trend_figures` index's figures (all after its key), so the read
/// is answered from the index alone.
pub const SYSTEM_PAGE_FIGURES: &[&str] = osinfo::TREND_FIGURES.split_at(4).1;

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    impl HeapBytes for chrono::NaiveDateTime {}
    impl HeapBytes for u8 {}

    #[tokio::test]
    async fn concurrent_requests_share_one_computation_until_the_ttl() {
        let cache = CardCache::new(Duration::from_millis(300));
        let runs = AtomicUsize::new(0);
        let compute = || async {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(Bytes::from_static(b"{}"))
        };
        let asks = (0..20).map(|_| cache.get_or_compute(CardKey::Overview(1), compute()));
        let replies = futures_util::future::join_all(asks).await;
        assert!(replies.iter().all(|r| r.as_ref().is_ok_and(|b| b.as_ref() == b"{}")));
        assert_eq!(runs.load(Ordering::SeqCst), 1, "one computation for 20 concurrent requests");
        cache.get_or_compute(CardKey::Main(1, MainMetricType::DiskUsage), compute()).await.expect("computed");
        assert_eq!(runs.load(Ordering::SeqCst), 2, "another key computes its own");
        tokio::time::sleep(Duration::from_millis(400)).await;
        cache.get_or_compute(CardKey::Overview(1), compute()).await.expect("computed");
        assert_eq!(runs.load(Ordering::SeqCst), 3, "expired after the TTL");
    }

    #[tokio::test]
    async fn a_page_of_charts_reads_its_rows_once() {
        let shared: SharedReads<(u64, u32), u8> = SharedReads::new(Duration::from_millis(300));
        assert!(shared.is_on());
        let reads = AtomicUsize::new(0);
        let read = || async {
            reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(vec![1, 2, 3])
        };
        let charts = (0..9).map(|_| shared.get_or_read((1, 168), read()));
        let rows = futures_util::future::join_all(charts).await;
        assert!(rows.iter().all(|r| r.as_ref().is_ok_and(|rows| **rows == [1, 2, 3])));
        assert_eq!(reads.load(Ordering::SeqCst), 1, "one read for the 9 charts of a page");
        shared.get_or_read((1, 24), read()).await.expect("read");
        assert_eq!(reads.load(Ordering::SeqCst), 2, "another duration reads its own");
        let failed = shared.get_or_read((2, 24), async { Err(ConsoleError::Internal("down".into())) }).await;
        assert!(matches!(failed, Err(ConsoleError::Internal(m)) if m == "down"));
        shared.get_or_read((2, 24), read()).await.expect("a failure is not kept");
        let off: SharedReads<u64, u8> = SharedReads::new(Duration::ZERO);
        assert!(!off.is_on());
        for _ in 0..2 {
            off.get_or_read(1, read()).await.expect("read");
        }
        assert_eq!(reads.load(Ordering::SeqCst), 5, "a TTL of 0 reads every time");
    }

    #[tokio::test]
    async fn failures_are_not_cached_and_a_zero_ttl_computes_every_time() {
        let cache = CardCache::new(Duration::from_secs(60));
        let failed = cache.get_or_compute(CardKey::Overview(2), async { Err(ConsoleError::Internal("down".into())) }).await;
        assert!(matches!(failed, Err(ConsoleError::Internal(m)) if m == "down"));
        let ok = cache.get_or_compute(CardKey::Overview(2), async { Ok(Bytes::from_static(b"1")) }).await;
        assert_eq!(ok.expect("computed again").as_ref(), b"1");
        let off = CardCache::new(Duration::ZERO);
        for n in [b"1", b"2"] {
            let got = off.get_or_compute(CardKey::Overview(3), async { Ok(Bytes::from_static(n)) }).await;
            assert_eq!(got.expect("computed").as_ref(), n);
        }
    }

    #[tokio::test]
    async fn whole_past_days_are_read_once_and_the_rest_every_time() {
        use chrono::NaiveDate;
        let at = |d: u32, h: u32, m: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap().and_hms_opt(h, m, 0).unwrap();
        let rows: TrendRows<u8, chrono::NaiveDateTime> = TrendRows::new(Duration::ZERO, Duration::from_secs(60), 1 << 20);
        let spans = std::sync::Mutex::new(Vec::new());
        // What was read: recorded when a read runs (a read that is not needed is made but never run).
        let spans_ref = &spans;
        let read = |from, to| async move {
            spans_ref.lock().unwrap().push((from, to));
            Ok(vec![from])
        };
        // 3 days back from 12:00 on the 10th: the 7th from 12:00, the 8th and the 9th whole, then the 10th up to
        // now.
        let settled = |now: chrono::NaiveDateTime| now - DAY_SETTLES_AFTER;
        let now = at(10, 12, 0);
        let chunks = rows.rows(1, (at(7, 12, 0), now), settled(now), read).await.unwrap();
        assert_eq!(chunks.iter().map(|c| c[0]).collect::<Vec<_>>(), [at(7, 12, 0), at(8, 0, 0), at(9, 0, 0), at(10, 0, 0)]);
        assert_eq!(spans.lock().unwrap().last(), Some(&(at(10, 0, 0), now)));
        spans.lock().unwrap().clear();
        let later = at(10, 12, 5);
        rows.rows(1, (at(7, 12, 5), later), settled(later), read).await.unwrap();
        assert_eq!(*spans.lock().unwrap(), [(at(10, 0, 0), later)], "only today is read again");
        // A longer window needs more of the 7th: read again from its start (and kept so), the other days not.
        spans.lock().unwrap().clear();
        rows.rows(1, (at(7, 6, 0), later), settled(later), read).await.unwrap();
        assert_eq!(*spans.lock().unwrap(), [(at(7, 6, 0), at(8, 0, 0)), (at(10, 0, 0), later)]);
        // The charts of a page ask at once: each day is read once.
        spans.lock().unwrap().clear();
        let page = (0..8).map(|_| rows.rows(3, (at(7, 12, 0), now), settled(now), read));
        futures_util::future::try_join_all(page).await.unwrap();
        let mut days: Vec<_> = spans.lock().unwrap().iter().filter(|(from, _)| from.date() != now.date()).copied().collect();
        days.sort();
        assert_eq!(days, [(at(7, 12, 0), at(8, 0, 0)), (at(8, 0, 0), at(9, 0, 0)), (at(9, 0, 0), at(10, 0, 0))]);
        // Just after midnight the day before is not settled yet: it is read with today.
        spans.lock().unwrap().clear();
        let early = at(11, 0, 5);
        rows.rows(2, (at(10, 0, 5), early), settled(early), read).await.unwrap();
        assert_eq!(*spans.lock().unwrap(), [(at(10, 0, 5), early)]);
        // Off: the window is read as asked.
        let off: TrendRows<u8, chrono::NaiveDateTime> = TrendRows::new(Duration::ZERO, Duration::ZERO, 1 << 20);
        spans.lock().unwrap().clear();
        off.rows(1, (at(7, 12, 0), now), settled(now), read).await.unwrap();
        assert_eq!(*spans.lock().unwrap(), [(at(7, 12, 0), now)]);
    }
}
