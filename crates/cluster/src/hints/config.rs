//! Configuration of the hint store, the hint window rule and the wall clock it reads.
//!
//! Invariant established by [`HintConfig::validate`]: a hint of the maximum size
//! ([`HintConfig::max_mutation_bytes`]) fits in an empty segment, and the disk quota holds at
//! least one full segment.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::error::HintError;
use super::format::{RECORD_OVERHEAD_BYTES, SEGMENT_HEADER_LEN_BYTES};
use super::segment::MAX_HINT_RECORD_BYTES;

/// Default hint window, Cassandra's `max_hint_window` (3 hours).
pub const DEFAULT_MAX_HINT_WINDOW: Duration = Duration::from_secs(3 * 60 * 60);
/// Default disk quota of all hint files (1 GiB).
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 1024 * 1024 * 1024;
/// Default size at which a segment is closed and a new one started (32 MiB).
pub const DEFAULT_MAX_SEGMENT_BYTES: u64 = 32 * 1024 * 1024;
/// Smallest accepted `max_segment_bytes`.
pub const MIN_SEGMENT_BYTES: u64 = 1024;
/// Largest accepted `max_segment_bytes`.
pub const MAX_SEGMENT_BYTES: u64 = 1024 * 1024 * 1024;
/// Largest accepted hint window (the window in microseconds must fit an `i64` comfortably).
pub const MAX_HINT_WINDOW: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Settings of a [`super::HintStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HintConfig {
    /// How long hints are kept, and how long a node may be down and still receive hints
    /// (Cassandra's `max_hint_window`). Hints older than this are dropped, never delivered.
    pub max_hint_window: Duration,
    /// Disk quota: the bytes of all hint segment files together. A hint that would exceed it
    /// is refused with [`HintError::QuotaExceeded`].
    pub max_total_bytes: u64,
    /// A segment that would grow beyond this size is closed and a new one started. Also
    /// bounds the size of one hint.
    pub max_segment_bytes: u64,
    /// `true`: a hint is fsynced before `store` returns (concurrent stores to one target
    /// share an fsync). `false`: `store` returns once the hint is written to the operating
    /// system, which survives a process crash but not a machine crash; segments are fsynced
    /// when they are closed and by [`super::HintStore::sync`].
    pub sync: bool,
}

impl Default for HintConfig {
    fn default() -> Self {
        HintConfig {
            max_hint_window: DEFAULT_MAX_HINT_WINDOW,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_segment_bytes: DEFAULT_MAX_SEGMENT_BYTES,
            sync: true,
        }
    }
}

impl HintConfig {
    /// Checks the settings (see the module docs).
    pub fn validate(&self) -> Result<(), HintError> {
        let invalid = |reason: String| Err(HintError::InvalidConfig { reason });
        if self.max_hint_window.is_zero() || self.max_hint_window > MAX_HINT_WINDOW {
            return invalid(format!(
                "max_hint_window must be between 1 us and {} s, got {:?}",
                MAX_HINT_WINDOW.as_secs(),
                self.max_hint_window
            ));
        }
        if !(MIN_SEGMENT_BYTES..=MAX_SEGMENT_BYTES).contains(&self.max_segment_bytes) {
            return invalid(format!(
                "max_segment_bytes must be between {MIN_SEGMENT_BYTES} and {MAX_SEGMENT_BYTES}, \
                 got {}",
                self.max_segment_bytes
            ));
        }
        if self.max_total_bytes < self.max_segment_bytes {
            return invalid(format!(
                "max_total_bytes ({}) must be at least max_segment_bytes ({})",
                self.max_total_bytes, self.max_segment_bytes
            ));
        }
        Ok(())
    }

    /// The hint window in microseconds.
    pub fn max_hint_window_micros(&self) -> i64 {
        i64::try_from(self.max_hint_window.as_micros()).unwrap_or(i64::MAX)
    }

    /// Largest mutation a hint may carry: its record, in an empty segment, must fit in
    /// `max_segment_bytes`, and stay within [`MAX_HINT_RECORD_BYTES`].
    pub fn max_mutation_bytes(&self) -> u64 {
        (self.max_segment_bytes - SEGMENT_HEADER_LEN_BYTES).min(MAX_HINT_RECORD_BYTES)
            - RECORD_OVERHEAD_BYTES
    }

    /// Whether a write missed by `target` should be stored as a hint: yes when the target is
    /// up (the write timed out, `down_since` is `None`) or has been down for at most
    /// `max_hint_window` (Cassandra's rule: a node down longer than the window needs a
    /// repair anyway, so hints would only fill the disk).
    pub fn should_hint(&self, down_since: Option<Instant>, now: Instant) -> bool {
        match down_since {
            None => true,
            Some(since) => now.saturating_duration_since(since) <= self.max_hint_window,
        }
    }

    /// The creation time before which a hint has expired at wall-clock time `now_micros`.
    pub(crate) fn expiry_cutoff_micros(&self, now_micros: i64) -> i64 {
        now_micros.saturating_sub(self.max_hint_window_micros())
    }
}

/// Source of wall-clock time (microseconds since the Unix epoch) for hint expiry; the same
/// clock as hint creation times.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now, in microseconds since the Unix epoch.
    fn now_micros(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_micros(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_micros()).map_or(i64::MIN, |m| -m),
        }
    }
}

/// A clock that moves only when told to: for tests and deterministic simulation.
#[derive(Debug, Default)]
pub struct ManualClock {
    now_micros: AtomicI64,
}

impl ManualClock {
    /// A clock reading `now_micros`.
    pub fn new(now_micros: i64) -> Self {
        ManualClock {
            now_micros: AtomicI64::new(now_micros),
        }
    }

    /// Sets the time.
    pub fn set_micros(&self, now_micros: i64) {
        self.now_micros.store(now_micros, Ordering::SeqCst);
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        let _ = self
            .now_micros
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(micros))
            });
    }
}

impl Clock for ManualClock {
    fn now_micros(&self) -> i64 {
        self.now_micros.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rejects_unusable_settings() {
        assert!(HintConfig::default().validate().is_ok());
        let bad = [
            HintConfig {
                max_hint_window: Duration::ZERO,
                ..HintConfig::default()
            },
            HintConfig {
                max_segment_bytes: MIN_SEGMENT_BYTES - 1,
                ..HintConfig::default()
            },
            HintConfig {
                max_segment_bytes: MAX_SEGMENT_BYTES + 1,
                ..HintConfig::default()
            },
            HintConfig {
                max_total_bytes: DEFAULT_MAX_SEGMENT_BYTES - 1,
                ..HintConfig::default()
            },
        ];
        for config in bad {
            assert!(
                matches!(config.validate(), Err(HintError::InvalidConfig { .. })),
                "{config:?}"
            );
        }
    }

    #[test]
    fn max_mutation_fits_an_empty_segment() {
        let config = HintConfig {
            max_segment_bytes: MIN_SEGMENT_BYTES,
            max_total_bytes: MIN_SEGMENT_BYTES,
            ..HintConfig::default()
        };
        assert_eq!(
            config.max_mutation_bytes() + RECORD_OVERHEAD_BYTES + SEGMENT_HEADER_LEN_BYTES,
            MIN_SEGMENT_BYTES
        );
        assert_eq!(
            HintConfig {
                max_segment_bytes: MAX_SEGMENT_BYTES,
                max_total_bytes: MAX_SEGMENT_BYTES,
                ..HintConfig::default()
            }
            .max_mutation_bytes(),
            MAX_HINT_RECORD_BYTES - RECORD_OVERHEAD_BYTES
        );
    }

    #[test]
    fn should_hint_follows_the_window() {
        let config = HintConfig {
            max_hint_window: Duration::from_secs(60),
            ..HintConfig::default()
        };
        let start = Instant::now();
        assert!(config.should_hint(None, start));
        assert!(config.should_hint(Some(start), start + Duration::from_secs(60)));
        assert!(!config.should_hint(Some(start), start + Duration::from_secs(61)));
        // A down_since in the future (clock skew between threads) counts as just down.
        assert!(config.should_hint(Some(start + Duration::from_secs(5)), start));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(10);
        assert_eq!(clock.now_micros(), 10);
        clock.advance(Duration::from_millis(2));
        assert_eq!(clock.now_micros(), 2_010);
        clock.set_micros(-1);
        assert_eq!(clock.now_micros(), -1);
        assert!(SystemClock.now_micros() > 1_600_000_000_000_000);
    }
}
