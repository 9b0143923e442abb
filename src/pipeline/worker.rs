//! Background workers: a named thread fed by a bounded queue, for work that
//! must never hold up the pipeline (slow disks, networks).
//!
//! The app layer may not start threads or make channels itself (clippy.toml);
//! it asks for a worker here. A producer uses [`WorkerTx::try_send`] when it
//! must never wait (a full queue drops the item and counts it) or
//! [`WorkerTx::send`] when waiting is fine. The worker's body gets a
//! [`WorkerRx`] and runs until it returns; [`Worker::join`] waits for it.
//! Names no stage and no protocol: generic over the item type.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};

use super::error::PipelineError;

/// Why an item was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerSendError {
    /// The queue was full: the item was dropped (and counted).
    Full,
    /// The worker has ended.
    Gone,
}

/// Why nothing was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerRecvError {
    /// Nothing arrived in time.
    Timeout,
    /// Every sender is gone and the queue is empty.
    Disconnected,
}

/// Sending half of a worker's queue (cheap to clone).
pub struct WorkerTx<T> {
    tx: Sender<T>,
    dropped: Arc<AtomicU64>,
}

impl<T> Clone for WorkerTx<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            dropped: self.dropped.clone(),
        }
    }
}

impl<T> WorkerTx<T> {
    /// Queues `item` without waiting; a full queue drops it and counts it.
    pub fn try_send(&self, item: T) -> Result<(), WorkerSendError> {
        match self.tx.try_send(item) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                Err(WorkerSendError::Full)
            }
            Err(TrySendError::Disconnected(_)) => Err(WorkerSendError::Gone),
        }
    }

    /// Queues `item`, waiting while the queue is full.
    pub fn send(&self, item: T) -> Result<(), WorkerSendError> {
        self.tx.send(item).map_err(|_| WorkerSendError::Gone)
    }

    /// Items dropped by [`WorkerTx::try_send`] on a full queue so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Receiving half of a worker's queue, owned by the worker's body.
pub struct WorkerRx<T> {
    rx: Receiver<T>,
}

impl<T> WorkerRx<T> {
    /// Waits for the next item; `None` once every sender is gone.
    pub fn recv(&self) -> Option<T> {
        self.rx.recv().ok()
    }

    /// Waits at most `timeout` for the next item.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, WorkerRecvError> {
        self.rx.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => WorkerRecvError::Timeout,
            RecvTimeoutError::Disconnected => WorkerRecvError::Disconnected,
        })
    }

    /// The next item if one is queued.
    pub fn try_recv(&self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// A running background thread.
pub struct Worker {
    name: String,
    handle: JoinHandle<()>,
}

impl Worker {
    /// The thread's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the body has returned.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits for the body to return; a panic in it becomes an error.
    pub fn join(self) -> Result<(), PipelineError> {
        self.handle.join().map_err(|p| PipelineError::Panicked {
            stage: self.name.clone(),
            what: panic_text(p.as_ref()),
        })
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// Starts thread `name` running `body` over a queue of `capacity` items (at
/// least 1), and returns the queue's sending half with the thread.
pub fn spawn_worker<T, F>(
    name: &str,
    capacity: usize,
    body: F,
) -> Result<(WorkerTx<T>, Worker), PipelineError>
where
    T: Send + 'static,
    F: FnOnce(WorkerRx<T>) + Send + 'static,
{
    let (tx, rx) = bounded(capacity.max(1));
    let worker = spawn_task(name, move || body(WorkerRx { rx }))?;
    Ok((
        WorkerTx {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        },
        worker,
    ))
}

/// Starts thread `name` running `body`, with no queue (it talks to others
/// through [`WorkerTx`] clones it owns).
pub fn spawn_task<F>(name: &str, body: F) -> Result<Worker, PipelineError>
where
    F: FnOnce() + Send + 'static,
{
    let handle = thread::Builder::new()
        .name(name.to_string())
        .spawn(body)
        .map_err(|e| PipelineError::Thread {
            name: name.to_string(),
            message: e.to_string(),
        })?;
    Ok(Worker {
        name: name.to_string(),
        handle,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_reach_the_worker_in_order_and_it_ends_with_its_senders() {
        let (out_tx, out_rx) = bounded::<Vec<u32>>(1);
        let (tx, worker) = spawn_worker("test-worker", 4, move |rx: WorkerRx<u32>| {
            let mut seen = Vec::new();
            while let Some(i) = rx.recv() {
                seen.push(i);
            }
            let _ = out_tx.send(seen);
        })
        .unwrap();
        for i in 0..10 {
            tx.send(i).unwrap();
        }
        drop(tx);
        worker.join().unwrap();
        assert_eq!(out_rx.recv().unwrap(), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_waiting() {
        let (gate_tx, gate_rx) = bounded::<()>(0);
        let (tx, worker) = spawn_worker("test-full", 1, move |rx: WorkerRx<u32>| {
            let _ = gate_rx.recv();
            while rx.recv().is_some() {}
        })
        .unwrap();
        tx.try_send(1).unwrap();
        assert_eq!(tx.try_send(2), Err(WorkerSendError::Full));
        assert_eq!(tx.dropped(), 1);
        gate_tx.send(()).unwrap();
        drop(tx);
        worker.join().unwrap();
    }

    #[test]
    fn a_panicking_body_is_an_error_naming_it() {
        let worker = spawn_task("test-panic", || panic!("boom")).unwrap();
        let err = worker.join().unwrap_err().to_string();
        assert!(err.contains("test-panic") && err.contains("boom"), "{err}");
    }
}
