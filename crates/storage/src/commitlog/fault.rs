//! Fault injection for failure tests: makes the next N writes, fsyncs or segment
//! preallocations fail as if the device had returned an error.
//!
//! Production code never arms it; an unarmed injector costs one relaxed atomic load per
//! write or fsync system call (not per append).

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};

/// An I/O operation whose next executions can be made to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFault {
    /// Writes of records into a segment fail with an I/O error (poisons the log).
    Write,
    /// fsyncs of segments fail with an I/O error (poisons the log).
    Sync,
    /// Preallocation of a new segment fails with "no space left on device" (does not poison).
    Allocate,
}

/// Counters of pending injected failures.
#[derive(Debug, Default)]
pub(crate) struct FaultInjector {
    write: AtomicU32,
    sync: AtomicU32,
    allocate: AtomicU32,
}

impl FaultInjector {
    fn counter(&self, fault: InjectedFault) -> &AtomicU32 {
        match fault {
            InjectedFault::Write => &self.write,
            InjectedFault::Sync => &self.sync,
            InjectedFault::Allocate => &self.allocate,
        }
    }

    /// Makes the next `count` operations of kind `fault` fail.
    pub(crate) fn arm(&self, fault: InjectedFault, count: u32) {
        self.counter(fault).store(count, Ordering::SeqCst);
    }

    /// Fails if a failure of kind `fault` is pending (consuming it).
    pub(crate) fn check(&self, fault: InjectedFault) -> io::Result<()> {
        let counter = self.counter(fault);
        if counter.load(Ordering::Relaxed) == 0 {
            return Ok(());
        }
        let consumed = counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if !consumed {
            return Ok(());
        }
        Err(match fault {
            InjectedFault::Write => io::Error::other("injected write failure"),
            InjectedFault::Sync => io::Error::other("injected fsync failure"),
            InjectedFault::Allocate => io::Error::new(
                io::ErrorKind::StorageFull,
                "injected: no space left on device",
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armed_faults_fire_exactly_count_times() {
        let faults = FaultInjector::default();
        assert!(faults.check(InjectedFault::Write).is_ok());
        faults.arm(InjectedFault::Write, 2);
        assert!(faults.check(InjectedFault::Sync).is_ok());
        assert!(faults.check(InjectedFault::Write).is_err());
        assert!(faults.check(InjectedFault::Write).is_err());
        assert!(faults.check(InjectedFault::Write).is_ok());
        faults.arm(InjectedFault::Allocate, 1);
        let err = faults.check(InjectedFault::Allocate).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    }
}
