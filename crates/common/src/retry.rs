//! Exponential back-off between retries, the one used for every retried call (forwards to the manager, metric
//! inserts while MySQL restarts).

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    delay: Duration,
    max: Duration,
    left: u32,
    /// With a time budget: no retry starts after this.
    until: Option<tokio::time::Instant>,
}

impl Backoff {
    /// `retries` retries, waiting `first`, then twice as long each time, up to `max`.
    pub fn new(first: Duration, max: Duration, retries: u32) -> Self {
        Backoff { delay: first, max, left: retries, until: None }
    }

    /// Retries for as long as `budget` from now (the next wait must end within it), waiting as [`Backoff::new`].
    pub fn for_duration(first: Duration, max: Duration, budget: Duration) -> Self {
        Backoff { delay: first, max, left: u32::MAX, until: Some(tokio::time::Instant::now() + budget) }
    }

    /// True while a retry is left.
    pub fn can_retry(&self) -> bool {
        self.left > 0 && self.until.is_none_or(|until| tokio::time::Instant::now() + self.delay <= until)
    }

    /// Waits before the next attempt; false (without waiting) when no retry is left.
    pub async fn wait(&mut self) -> bool {
        if !self.can_retry() {
            return false;
        }
        self.left -= 1;
        tokio::time::sleep(self.delay).await;
        self.delay = (self.delay * 2).min(self.max);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn delays_double_up_to_the_cap_and_the_retries_run_out() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(300), 3);
        let start = tokio::time::Instant::now();
        assert!(b.wait().await && b.wait().await && b.wait().await);
        assert_eq!(start.elapsed(), Duration::from_millis(100 + 200 + 300));
        assert!(!b.can_retry());
        assert!(!b.wait().await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_time_budget_bounds_the_retries_instead_of_a_count() {
        let mut b = Backoff::for_duration(Duration::from_millis(200), Duration::from_secs(5), Duration::from_secs(60));
        let start = tokio::time::Instant::now();
        let mut tries = 0;
        while b.wait().await {
            tries += 1;
        }
        // 0.2 + 0.4 + 0.8 + 1.6 + 3.2 + 5 × 10 = 56.2 s: one more 5 s wait would end past the minute.
        assert_eq!(tries, 15);
        assert_eq!(start.elapsed(), Duration::from_millis(56_200));
    }
}
