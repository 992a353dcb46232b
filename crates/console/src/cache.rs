//! A short-lived cache of the app cards' replies (`/xapi/overview_metrics` and the five `/xapi/main_metrics`),
//! which cost a manager call and several queries per online agent. Concurrent requests for one key share one
//! computation (moka's `try_get_with` runs the first caller's and makes the others wait for it), and a reply is
//! served for `console.overview_cache_ttl_ms` at most. Access checks stay in the routes, before the cache, on every
//! request: the cache is keyed by app, so whoever may see the app gets the same reply.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

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
        replies.try_get_with(key, compute).await.map_err(|shared: Arc<ConsoleError>| {
            // The waiters share the first caller's error; each request needs one of its own to render.
            Arc::try_unwrap(shared).unwrap_or_else(|shared| ConsoleError::Internal(shared.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

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
}
