//! Bounded channels between stages, with a "latest frame wins" option, and a
//! control lane beside each: control items (a source lost or restored) are
//! never dropped and are received before any queued data item.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};

/// What a full channel does with a new item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgePolicy {
    /// The producer waits (replays run as fast as the slowest stage, losing nothing).
    Block,
    /// The stalest queued item is discarded and counted (live sources).
    LatestWins,
}

/// The consumer has gone away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected;

/// Control items queued on an edge before [`EdgeTx::send_control`] waits.
pub const CONTROL_CAPACITY: usize = 16;

/// Sending half of an edge.
pub struct EdgeTx<T> {
    tx: Sender<T>,
    ctl: Sender<T>,
    /// Held only for `LatestWins`, to take the stale item out.
    drain: Option<Receiver<T>>,
    closed: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
}

impl<T> Clone for EdgeTx<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            ctl: self.ctl.clone(),
            drain: self.drain.clone(),
            closed: self.closed.clone(),
            dropped: self.dropped.clone(),
        }
    }
}

/// Receiving half of an edge. Dropping it tells producers it is gone.
pub struct EdgeRx<T> {
    rx: Receiver<T>,
    ctl: Receiver<T>,
    closed: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
}

impl<T> Drop for EdgeRx<T> {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::Release);
    }
}

/// A bounded edge of `capacity` items (at least 1).
pub fn edge<T>(capacity: usize, policy: EdgePolicy) -> (EdgeTx<T>, EdgeRx<T>) {
    let (tx, rx) = bounded(capacity.max(1));
    let (ctl_tx, ctl_rx) = bounded(CONTROL_CAPACITY);
    let closed = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicU64::new(0));
    let drain = (policy == EdgePolicy::LatestWins).then(|| rx.clone());
    (
        EdgeTx {
            tx,
            ctl: ctl_tx,
            drain,
            closed: closed.clone(),
            dropped: dropped.clone(),
        },
        EdgeRx {
            rx,
            ctl: ctl_rx,
            closed,
            dropped,
        },
    )
}

impl<T> EdgeTx<T> {
    /// Sends `item`, waiting or dropping the stalest queued item per the policy.
    pub fn send(&self, item: T) -> Result<(), Disconnected> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Disconnected);
        }
        let Some(drain) = &self.drain else {
            return self.tx.send(item).map_err(|_| Disconnected);
        };
        let mut item = item;
        loop {
            match self.tx.try_send(item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(_)) => return Err(Disconnected),
                Err(TrySendError::Full(back)) => {
                    if drain.try_recv().is_ok() {
                        self.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    if self.closed.load(Ordering::Acquire) {
                        return Err(Disconnected);
                    }
                    item = back;
                }
            }
        }
    }
}

impl<T> EdgeTx<T> {
    /// Sends a control item: never dropped (waits while the lane is full),
    /// received before the data items queued at that moment.
    pub fn send_control(&self, item: T) -> Result<(), Disconnected> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Disconnected);
        }
        self.ctl.send(item).map_err(|_| Disconnected)
    }
}

impl<T> EdgeRx<T> {
    /// Blocks for the next item, control items first; `None` once every
    /// producer is gone and both lanes are empty.
    pub fn recv(&self) -> Option<T> {
        if let Ok(item) = self.ctl.try_recv() {
            return Some(item);
        }
        crossbeam_channel::select_biased! {
            recv(self.ctl) -> item => item.ok().or_else(|| self.rx.recv().ok()),
            recv(self.rx) -> item => item.ok().or_else(|| self.ctl.try_recv().ok()),
        }
    }

    /// Waits at most `timeout`; `Err(true)` when every producer is gone.
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Result<T, bool> {
        self.rx.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => false,
            RecvTimeoutError::Disconnected => true,
        })
    }

    /// The underlying receiver, for `select!` over several edges.
    pub(crate) fn receiver(&self) -> &Receiver<T> {
        &self.rx
    }

    /// Items discarded at this edge so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// A shared counter of discarded items (for live statistics).
    pub fn dropped_counter(&self) -> Arc<AtomicU64> {
        self.dropped.clone()
    }

    /// Items currently queued (never more than the capacity).
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// True when nothing is queued on the data lane.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_wins_keeps_the_newest_and_counts_drops() {
        let (tx, rx) = edge::<u32>(1, EdgePolicy::LatestWins);
        for i in 0..10 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.len(), 1);
        assert_eq!(rx.recv(), Some(9));
        assert_eq!(rx.dropped(), 9);
    }

    #[test]
    fn send_fails_once_the_receiver_is_gone() {
        for policy in [EdgePolicy::Block, EdgePolicy::LatestWins] {
            let (tx, rx) = edge::<u32>(1, policy);
            drop(rx);
            assert_eq!(tx.send(1), Err(Disconnected));
        }
    }

    #[test]
    fn control_items_are_never_dropped_and_come_first() {
        let (tx, rx) = edge::<u32>(1, EdgePolicy::LatestWins);
        tx.send(1).unwrap();
        tx.send_control(100).unwrap();
        tx.send(2).unwrap();
        tx.send_control(101).unwrap();
        tx.send(3).unwrap();
        drop(tx);
        let got: Vec<u32> = std::iter::from_fn(|| rx.recv()).collect();
        assert_eq!(got, vec![100, 101, 3]);
        assert_eq!(rx.dropped(), 2);
    }

    #[test]
    fn recv_ends_when_producers_are_gone() {
        let (tx, rx) = edge::<u32>(2, EdgePolicy::Block);
        tx.send(5).unwrap();
        drop(tx);
        assert_eq!(rx.recv(), Some(5));
        assert_eq!(rx.recv(), None);
    }
}
