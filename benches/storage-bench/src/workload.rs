//! The measured loops: blind writes and point reads from several threads, each thread
//! recording per-operation latency in its own histogram (merged at the end).
//!
//! Timing covers exactly the operations: threads start together at a barrier and the clock
//! stops when the last one finishes. Loading data for read runs and waiting for background
//! work happen outside these loops.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};

use crate::error::BenchError;
use crate::keys::{KeySpace, ValuePool, KEY_LEN_BYTES};
use crate::store::KvStore;

/// Highest latency the histograms track (longer operations are clamped to it).
const MAX_TRACKED_LATENCY_NANOS: u64 = 60_000_000_000;
/// Significant figures of the histograms.
const HISTOGRAM_SIGFIGS: u8 = 3;
/// How many times a write rejected with `Overloaded` is retried before the run fails.
const MAX_OVERLOAD_RETRIES_PER_WRITE: u32 = 30;

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKED_LATENCY_NANOS, HISTOGRAM_SIGFIGS)
        .expect("constant histogram bounds are valid")
}

/// Outcome of a measured run.
pub struct RunResult {
    /// Operations done.
    pub ops: u64,
    /// Threads that did them.
    pub threads: usize,
    /// Wall-clock time from the start barrier to the last thread's end.
    pub elapsed: Duration,
    /// Per-operation latency in nanoseconds.
    pub latency_nanos: Histogram<u64>,
    /// Writes that Meridian rejected with `Overloaded` and that were retried.
    pub overload_retries: u64,
}

impl RunResult {
    /// Operations per second.
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Latency quantile in microseconds.
    pub fn quantile_micros(&self, q: f64) -> f64 {
        self.latency_nanos.value_at_quantile(q) as f64 / 1000.0
    }
}

/// Which keys a write run writes.
#[derive(Clone, Copy, Debug)]
pub enum WriteKeys {
    /// Key `i` for write `i`: every key new (blind inserts of distinct random keys).
    Distinct,
    /// A uniformly random key among the first `key_space` keys (overwrites).
    Uniform {
        /// Number of distinct keys.
        key_space: u64,
    },
}

/// Progress callback: called with the number of operations done so far, every 10%.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// What a write run does.
#[derive(Clone, Copy)]
pub struct WriteSpec<'a> {
    /// Key family.
    pub keys: KeySpace,
    /// Which keys of it.
    pub write_keys: WriteKeys,
    /// Where values come from.
    pub values: &'a ValuePool,
    /// Writes in all.
    pub count: u64,
    /// Writer threads.
    pub threads: usize,
    /// Seed of random key choices.
    pub seed: u64,
}

/// Does the writes of `spec`, split evenly among its threads.
pub fn run_writes(
    store: &dyn KvStore,
    spec: &WriteSpec<'_>,
    progress: Option<Progress<'_>>,
) -> Result<RunResult, BenchError> {
    let WriteSpec {
        keys,
        write_keys,
        values,
        count,
        threads,
        seed,
    } = *spec;
    let threads = threads.max(1);
    let barrier = Barrier::new(threads + 1);
    let done = AtomicU64::new(0);
    let report_every = (count / 10).max(1);
    let overloads = AtomicU64::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                let done = &done;
                let overloads = &overloads;
                // Thread t writes indexes t, t + threads, t + 2 * threads, ...
                scope.spawn(move || -> Result<Histogram<u64>, BenchError> {
                    let mut hist = new_histogram();
                    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed ^ ((t as u64) << 32));
                    barrier.wait();
                    let mut i = t as u64;
                    while i < count {
                        let key: [u8; KEY_LEN_BYTES] = match write_keys {
                            WriteKeys::Distinct => keys.key(i),
                            WriteKeys::Uniform { key_space } => {
                                keys.key(rng.random_range(0..key_space.max(1)))
                            }
                        };
                        let value = values.value(i);
                        let started = Instant::now();
                        let mut attempts = 0;
                        loop {
                            match store.put(&key, value) {
                                Ok(()) => break,
                                Err(e)
                                    if e.is_overloaded()
                                        && attempts < MAX_OVERLOAD_RETRIES_PER_WRITE =>
                                {
                                    attempts += 1;
                                    overloads.fetch_add(1, Ordering::Relaxed);
                                }
                                Err(e) => return Err(e),
                            }
                        }
                        let nanos = started.elapsed().as_nanos() as u64;
                        hist.saturating_record(nanos.max(1));
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if n.is_multiple_of(report_every) {
                            if let Some(p) = progress {
                                p(n);
                            }
                        }
                        i += threads as u64;
                    }
                    Ok(hist)
                })
            })
            .collect();
        barrier.wait();
        let started = Instant::now();
        let mut merged = new_histogram();
        let mut first_error = None;
        for h in handles {
            match h.join() {
                Ok(Ok(hist)) => {
                    merged.add(&hist).expect("histograms share bounds");
                }
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(_) => {
                    first_error.get_or_insert(BenchError::ThreadPanicked);
                }
            }
        }
        let elapsed = started.elapsed();
        if let Some(e) = first_error {
            return Err(e);
        }
        Ok(RunResult {
            ops: count,
            threads,
            elapsed,
            latency_nanos: merged,
            overload_retries: overloads.load(Ordering::Relaxed),
        })
    })
}

/// Which keys a read run asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadKeys {
    /// Uniformly random keys among the `loaded` keys written: every read must find a value.
    Present,
    /// Keys that were never written: every read must find nothing.
    Absent,
}

impl ReadKeys {
    fn label(self) -> &'static str {
        match self {
            ReadKeys::Present => "present",
            ReadKeys::Absent => "absent",
        }
    }
}

/// What a read run does.
#[derive(Clone, Copy, Debug)]
pub struct ReadSpec {
    /// Key family the data was loaded with.
    pub keys: KeySpace,
    /// Keys `0..loaded` of it were written.
    pub loaded: u64,
    /// Present or absent keys.
    pub read_keys: ReadKeys,
    /// Length of every stored value.
    pub value_len_bytes: usize,
    /// Reads in all.
    pub count: u64,
    /// Reader threads.
    pub threads: usize,
    /// Seed of random key choices.
    pub seed: u64,
}

/// Does the reads of `spec`, split evenly among its threads, checking every answer: a
/// present key must come back with a value of `value_len_bytes`, an absent key with nothing.
pub fn run_reads(store: &dyn KvStore, spec: &ReadSpec) -> Result<RunResult, BenchError> {
    let ReadSpec {
        keys,
        loaded,
        read_keys,
        value_len_bytes,
        count,
        threads,
        seed,
    } = *spec;
    let threads = threads.max(1);
    let barrier = Barrier::new(threads + 1);
    let per_thread = count / threads as u64;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                let extra = u64::from((t as u64) < count % threads as u64);
                let mine = per_thread + extra;
                scope.spawn(move || -> Result<Histogram<u64>, BenchError> {
                    let mut hist = new_histogram();
                    let mut rng =
                        rand::rngs::SmallRng::seed_from_u64(seed.wrapping_add(t as u64 * 7919));
                    barrier.wait();
                    for _ in 0..mine {
                        let index = match read_keys {
                            ReadKeys::Present => rng.random_range(0..loaded.max(1)),
                            ReadKeys::Absent => rng.random::<u64>(),
                        };
                        let key = match read_keys {
                            ReadKeys::Present => keys.key(index),
                            ReadKeys::Absent => keys.absent_key(index),
                        };
                        let started = Instant::now();
                        let got = store.get(&key)?;
                        let nanos = started.elapsed().as_nanos() as u64;
                        hist.saturating_record(nanos.max(1));
                        let correct = match read_keys {
                            ReadKeys::Present => got == Some(value_len_bytes),
                            ReadKeys::Absent => got.is_none(),
                        };
                        if !correct {
                            return Err(BenchError::WrongRead {
                                engine: store.name(),
                                what: read_keys.label(),
                                index,
                                detail: format!("got a value of {got:?} bytes"),
                            });
                        }
                    }
                    Ok(hist)
                })
            })
            .collect();
        barrier.wait();
        let started = Instant::now();
        let mut merged = new_histogram();
        let mut first_error = None;
        for h in handles {
            match h.join() {
                Ok(Ok(hist)) => {
                    merged.add(&hist).expect("histograms share bounds");
                }
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(_) => {
                    first_error.get_or_insert(BenchError::ThreadPanicked);
                }
            }
        }
        let elapsed = started.elapsed();
        if let Some(e) = first_error {
            return Err(e);
        }
        Ok(RunResult {
            ops: count,
            threads,
            elapsed,
            latency_nanos: merged,
            overload_retries: 0,
        })
    })
}
