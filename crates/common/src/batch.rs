//! Gathering queued items into batches: whatever is waiting when a batch can go out goes in it (no added delay),
//! up to a number of items and a total weight (rows, bytes). Used by the manager's metric writer and the
//! ws-server's forwarder.

use tokio::sync::mpsc;

pub struct Batcher<T> {
    rx: mpsc::Receiver<T>,
    /// An item too heavy to join the previous batch: it starts the next one.
    held: Option<T>,
    max_items: usize,
    max_weight: usize,
    weight: fn(&T) -> usize,
}

impl<T> Batcher<T> {
    pub fn new(rx: mpsc::Receiver<T>, max_items: usize, max_weight: usize, weight: fn(&T) -> usize) -> Self {
        Batcher { rx, held: None, max_items: max_items.max(1), max_weight: max_weight.max(1), weight }
    }

    /// Waits for one item, then takes the items already queued while the batch stays within its limits (a single
    /// item over the weight limit still goes, alone). `None` once every sender is gone.
    pub async fn next(&mut self) -> Option<Vec<T>> {
        let first = match self.held.take() {
            Some(item) => item,
            None => self.rx.recv().await?,
        };
        let mut weight = (self.weight)(&first);
        let mut items = vec![first];
        while items.len() < self.max_items && weight < self.max_weight {
            let Ok(item) = self.rx.try_recv() else { break };
            let w = (self.weight)(&item);
            if weight + w > self.max_weight {
                self.held = Some(item);
                break;
            }
            weight += w;
            items.push(item);
        }
        Some(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_stay_within_their_limits() {
        let (tx, rx) = mpsc::channel(16);
        for w in [3, 3, 3, 9, 1, 1, 1, 1] {
            tx.send(w).await.unwrap();
        }
        drop(tx);
        let mut b = Batcher::new(rx, 3, 8, |w: &usize| *w);
        assert_eq!(b.next().await.unwrap(), [3, 3]);
        assert_eq!(b.next().await.unwrap(), [3]);
        assert_eq!(b.next().await.unwrap(), [9]);
        assert_eq!(b.next().await.unwrap(), [1, 1, 1]);
        assert_eq!(b.next().await.unwrap(), [1]);
        assert!(b.next().await.is_none());
    }
}
