//! Exponential back-off between retries, the one used for every retried call (forwards to the manager, metric
//! inserts while MySQL restarts).

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    delay: Duration,
    max: Duration,
    left: u32,
}

impl Backoff {
    /// `retries` retries, waiting `first`, then twice as long each time, up to `max`.
    pub fn new(first: Duration, max: Duration, retries: u32) -> Self {
        Backoff { delay: first, max, left: retries }
    }

    /// True while a retry is left.
    pub fn can_retry(&self) -> bool {
        self.left > 0
    }

    /// Waits before the next attempt; false (without waiting) when no retry is left.
    pub async fn wait(&mut self) -> bool {
        if self.left == 0 {
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
}
