//! Small synchronisation primitives the server is built on.
//!
//! * [`Trigger`]: a one-way flag many tasks can wait on (shutdown phases, "this connection
//!   is closing"). Once fired it stays fired, so a late waiter returns at once.
//! * [`TaskCounter`]: counts live tasks so a graceful shutdown can wait for all of them.
//!   The count is taken *before* a task is spawned, so a waiter never misses a task that is
//!   about to start.
//! * [`catch_unwind`]: runs a future and turns a panic inside it into an `Err` with the panic
//!   message, so a panicking handler costs one request, not the connection.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A one-way, cloneable flag with async waiting.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trigger {
    inner: Arc<TriggerInner>,
}

#[derive(Debug, Default)]
struct TriggerInner {
    fired: AtomicBool,
    notify: Notify,
}

impl Trigger {
    /// A trigger that has not fired.
    pub(crate) fn new() -> Trigger {
        Trigger::default()
    }

    /// Fires the trigger, waking every waiter. Idempotent.
    pub(crate) fn fire(&self) {
        if !self.inner.fired.swap(true, Ordering::SeqCst) {
            self.inner.notify.notify_waiters();
        }
    }

    /// True once [`Trigger::fire`] was called.
    pub(crate) fn is_fired(&self) -> bool {
        self.inner.fired.load(Ordering::SeqCst)
    }

    /// Completes when the trigger has fired.
    pub(crate) async fn fired(&self) {
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            // Register before checking the flag so a concurrent `fire` cannot be missed.
            notified.as_mut().enable();
            if self.is_fired() {
                return;
            }
            notified.await;
        }
    }
}

/// Counts live tasks; see the module docs.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskCounter {
    inner: Arc<CounterInner>,
}

#[derive(Debug, Default)]
struct CounterInner {
    active: AtomicUsize,
    notify: Notify,
}

/// Keeps one task counted until dropped.
#[derive(Debug)]
pub(crate) struct TaskGuard {
    inner: Arc<CounterInner>,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if self.inner.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.inner.notify.notify_waiters();
        }
    }
}

impl TaskCounter {
    /// Counts one more task until the guard is dropped.
    pub(crate) fn enter(&self) -> TaskGuard {
        self.inner.active.fetch_add(1, Ordering::SeqCst);
        TaskGuard {
            inner: Arc::clone(&self.inner),
        }
    }

    /// Tasks currently counted.
    pub(crate) fn active(&self) -> usize {
        self.inner.active.load(Ordering::SeqCst)
    }

    /// Completes when no task is counted.
    pub(crate) async fn idle(&self) {
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.active() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Spawns `future` on the current runtime, counted until it completes (or is dropped
    /// unfinished by a runtime shutdown).
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let guard = self.enter();
        tokio::spawn(async move {
            let _guard = guard;
            future.await
        })
    }
}

/// Polls `future` to completion, catching a panic raised while polling it.
pub(crate) async fn catch_unwind<F: Future>(future: F) -> Result<F::Output, String> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    })
    .await
}

/// Runs `f`, catching a panic.
pub(crate) fn catch_unwind_sync<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| panic_message(payload.as_ref()))
}

/// The text of a panic payload (`panic!("...")` produces `&str` or `String`).
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn trigger_wakes_early_and_late_waiters() {
        let trigger = Trigger::new();
        let waiter = {
            let t = trigger.clone();
            tokio::spawn(async move { t.fired().await })
        };
        tokio::task::yield_now().await;
        assert!(!trigger.is_fired());
        trigger.fire();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
        // A waiter arriving after the fire returns at once.
        tokio::time::timeout(Duration::from_secs(5), trigger.fired())
            .await
            .unwrap();
        trigger.fire();
        assert!(trigger.is_fired());
    }

    #[tokio::test]
    async fn counter_waits_for_all_tasks() {
        let counter = TaskCounter::default();
        counter.idle().await;
        let gate = Arc::new(Notify::new());
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let gate = Arc::clone(&gate);
                counter.spawn(async move { gate.notified().await })
            })
            .collect();
        assert_eq!(counter.active(), 3);
        let idle = tokio::time::timeout(Duration::from_millis(50), counter.idle()).await;
        assert!(idle.is_err(), "tasks are still running");
        tokio::task::yield_now().await;
        gate.notify_waiters();
        tokio::time::timeout(Duration::from_secs(5), counter.idle())
            .await
            .unwrap();
        assert_eq!(counter.active(), 0);
        for h in handles {
            h.await.unwrap();
        }
    }

    #[tokio::test]
    async fn panics_become_errors() {
        assert_eq!(catch_unwind(async { 7 }).await, Ok(7));
        let err = catch_unwind(async {
            tokio::task::yield_now().await;
            panic!("boom {}", 42);
        })
        .await;
        assert_eq!(err, Err::<(), _>("boom 42".to_owned()));
        assert_eq!(
            catch_unwind_sync(|| -> u8 { panic!("static") }),
            Err("static".to_owned())
        );
    }
}
