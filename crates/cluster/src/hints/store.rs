//! The hint store: per-target segment bookkeeping, appends with group-committed fsyncs,
//! replay with a durable delivery watermark, expiry and removal.
//!
//! Locking: `HintStore::targets` (the map) is locked only to look up, insert or remove a
//! target, and never while a target's lock is waited for, except by `drop_target` and
//! `truncate_all`, which take the map and then the target (the only order ever used). A
//! target's `inner` lock covers appends and the bookkeeping of a replay batch, never a
//! delivery callback nor a group-commit fsync. A segment's `sync` lock serializes its
//! fsyncs.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

use super::config::{Clock, HintConfig, SystemClock};
use super::error::{HintError, ReplayError};
use super::format::{
    decode_progress, encode_progress, encode_record, encode_segment_header,
    parse_segment_file_name, parse_target_dir_name, segment_file_name, Progress,
    CREATED_AT_LEN_BYTES, HINT_FORMAT_VERSION, LOCK_FILE_NAME, PROGRESS_FILE_NAME,
    PROGRESS_LEN_BYTES, PROGRESS_TEMP_FILE_NAME, SEGMENT_HEADER_LEN_BYTES,
};
use super::segment::{DamageKind, SegmentDamage, SegmentReader, Step};
use super::{Hint, HintBacklog, HintMetrics, RecoveryReport, ReplayOutcome};
use crate::ids::HostId;

/// Most buffer space reserved up front for the payloads of one replay batch (the buffer grows
/// beyond it if the batch limit is larger).
const BATCH_BUFFER_RESERVE_BYTES: usize = 16 * 1024 * 1024;

/// Durable hints for every target node; see the [module docs](super).
///
/// All methods take `&self` and may be called from many threads at once; they block on file
/// I/O.
#[derive(Debug)]
pub struct HintStore {
    dir: PathBuf,
    config: HintConfig,
    clock: Arc<dyn Clock>,
    targets: Mutex<BTreeMap<HostId, Arc<Target>>>,
    /// Bytes of all segment files (reserved before they are written).
    used_bytes: AtomicU64,
    /// Sequence number of the next segment, of any target.
    next_seq: AtomicU64,
    counters: Counters,
    recovery: RecoveryReport,
    /// Holds the directory lock for the lifetime of the store.
    _lock_file: File,
}

/// The hints of one target node.
#[derive(Debug)]
struct Target {
    host: HostId,
    dir: PathBuf,
    inner: Mutex<TargetInner>,
    /// Set while a replay (or an expiry purge) works on the segments.
    busy: AtomicBool,
}

#[derive(Debug)]
struct TargetInner {
    /// Dropped from the store: nothing may be written or recorded any more.
    removed: bool,
    /// Whether the target directory is known to exist.
    dir_exists: bool,
    /// Segments in sequence order; the one being written, if any, is the last.
    segments: VecDeque<SegmentMeta>,
    /// The segment being written, if any.
    writer: Option<Arc<SegmentFile>>,
}

/// Bookkeeping of one segment file.
#[derive(Debug, Clone)]
struct SegmentMeta {
    seq: u64,
    path: PathBuf,
    /// Size of the file, as accounted in `HintStore::used_bytes`.
    file_bytes: u64,
    /// Offset of the first undelivered record.
    start_offset: u64,
    /// End of the readable records (a damaged tail lies beyond).
    end_offset: u64,
    /// Undelivered hints and their record bytes.
    hints: u64,
    record_bytes: u64,
    /// Creation times of the oldest and newest hint (of the undelivered part when known at
    /// open, else of the whole segment).
    oldest_micros: Option<i64>,
    newest_micros: Option<i64>,
}

impl SegmentMeta {
    fn add_record(&mut self, record_bytes: u64, created_at_micros: i64) {
        self.hints += 1;
        self.record_bytes += record_bytes;
        self.oldest_micros = Some(
            self.oldest_micros
                .map_or(created_at_micros, |o| o.min(created_at_micros)),
        );
        self.newest_micros = Some(
            self.newest_micros
                .map_or(created_at_micros, |n| n.max(created_at_micros)),
        );
    }
}

/// The open file of the segment being written (shared with stores waiting on its fsync).
#[derive(Debug)]
struct SegmentFile {
    seq: u64,
    path: PathBuf,
    file: File,
    /// Bytes written so far (updated under the target lock).
    written_bytes: AtomicU64,
    sync: Mutex<SyncState>,
}

#[derive(Debug)]
struct SyncState {
    synced_bytes: u64,
    /// A failed fsync: never retried, reported to every later waiter.
    failure: Option<Arc<io::Error>>,
}

impl SegmentFile {
    /// Makes the first `end` bytes durable. Concurrent callers share fsyncs: whoever holds
    /// the lock fsyncs everything written when it starts, and the others find themselves
    /// covered.
    fn sync_through(&self, end: u64) -> Result<(), HintError> {
        let mut state = self.sync.lock();
        if let Some(cause) = &state.failure {
            return Err(HintError::SyncFailed {
                path: self.path.clone(),
                cause: Arc::clone(cause),
            });
        }
        if state.synced_bytes >= end {
            return Ok(());
        }
        let written = self.written_bytes.load(Ordering::Acquire);
        match self.file.sync_data() {
            Ok(()) => {
                state.synced_bytes = written;
                Ok(())
            }
            Err(e) => {
                let cause = Arc::new(e);
                state.failure = Some(Arc::clone(&cause));
                Err(HintError::SyncFailed {
                    path: self.path.clone(),
                    cause,
                })
            }
        }
    }
}

/// Monotonic counters behind [`HintMetrics`].
#[derive(Debug, Default)]
struct Counters {
    hints_stored: AtomicU64,
    bytes_stored: AtomicU64,
    hints_replayed: AtomicU64,
    bytes_replayed: AtomicU64,
    hints_dropped_expired: AtomicU64,
    hints_dropped_quota: AtomicU64,
    hints_dropped_removed: AtomicU64,
    hints_dropped_damaged: AtomicU64,
    damaged_segments: AtomicU64,
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// Marks a target busy (replaying or purging) until dropped.
struct BusyGuard<'a>(&'a AtomicBool);

impl<'a> BusyGuard<'a> {
    fn acquire(flag: &'a AtomicBool) -> Option<Self> {
        flag.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| BusyGuard(flag))
    }
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Result of an append, for the work done after releasing the target lock.
struct Appended {
    target: Arc<Target>,
    file: Arc<SegmentFile>,
    end: u64,
    /// The segment closed to make room, if any.
    closed: Option<Arc<SegmentFile>>,
}

/// A segment to replay, copied out of the bookkeeping.
struct SegmentRef {
    seq: u64,
    path: PathBuf,
    start_offset: u64,
    end_offset: u64,
}

/// What the scan of one target directory at open found.
struct OpenedTarget {
    segments: VecDeque<SegmentMeta>,
    max_seq: u64,
}

impl HintStore {
    /// Opens (or creates) the store in `dir`, reading the system clock.
    pub fn open(dir: &Path, config: HintConfig) -> Result<HintStore, HintError> {
        HintStore::open_with_clock(dir, config, Arc::new(SystemClock))
    }

    /// Opens (or creates) the store in `dir` with the given wall clock.
    ///
    /// Reads and checks every segment file (so open reads all stored hints once; damage is
    /// logged, reported in [`HintStore::recovery_report`] and skipped), deletes segments with
    /// nothing left to deliver, and fsyncs the kept ones (after a process crash their last
    /// writes may be only in the page cache).
    pub fn open_with_clock(
        dir: &Path,
        config: HintConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<HintStore, HintError> {
        config.validate()?;
        fs::create_dir_all(dir).map_err(|e| HintError::io("creating directory", dir, e))?;
        let lock_path = dir.join(LOCK_FILE_NAME);
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| HintError::io("opening lock file", &lock_path, e))?;
        match lock_file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(HintError::DirectoryLocked { path: lock_path })
            }
            Err(fs::TryLockError::Error(e)) => return Err(HintError::io("locking", &lock_path, e)),
        }

        let cutoff_micros = config.expiry_cutoff_micros(clock.now_micros());
        let mut report = RecoveryReport::default();
        let mut targets = BTreeMap::new();
        let mut used_bytes = 0u64;
        let mut max_seq = 0u64;
        let entries = fs::read_dir(dir).map_err(|e| HintError::io("listing directory", dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| HintError::io("listing directory", dir, e))?;
            let path = entry.path();
            let Some(host) = entry.file_name().to_str().and_then(parse_target_dir_name) else {
                continue;
            };
            let file_type = entry
                .file_type()
                .map_err(|e| HintError::io("inspecting", &path, e))?;
            if !file_type.is_dir() {
                continue;
            }
            let opened = open_target(host, &path, cutoff_micros, &mut report)?;
            report.targets += 1;
            max_seq = max_seq.max(opened.max_seq);
            for meta in &opened.segments {
                used_bytes += meta.file_bytes;
                report.segments += 1;
                report.hints += meta.hints;
                report.bytes += meta.record_bytes;
            }
            targets.insert(
                host,
                Arc::new(Target {
                    host,
                    dir: path,
                    inner: Mutex::new(TargetInner {
                        removed: false,
                        dir_exists: true,
                        segments: opened.segments,
                        writer: None,
                    }),
                    busy: AtomicBool::new(false),
                }),
            );
        }
        let counters = Counters::default();
        bump(&counters.hints_dropped_expired, report.hints_expired);
        bump(&counters.damaged_segments, report.damages.len() as u64);
        if report.hints > 0 || !report.damages.is_empty() {
            tracing::info!(
                dir = %dir.display(),
                targets = report.targets,
                segments = report.segments,
                hints = report.hints,
                damaged = report.damages.len(),
                expired = report.hints_expired,
                "opened hint store"
            );
        }
        Ok(HintStore {
            dir: dir.to_path_buf(),
            config,
            clock,
            targets: Mutex::new(targets),
            used_bytes: AtomicU64::new(used_bytes),
            next_seq: AtomicU64::new(max_seq + 1),
            counters,
            recovery: report,
            _lock_file: lock_file,
        })
    }

    /// The directory of the store.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration in use.
    pub fn config(&self) -> &HintConfig {
        &self.config
    }

    /// What open found (damage, expired and removed segments).
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// Bytes of all segment files, the figure held against `max_total_bytes`. Includes the
    /// delivered prefix of partly delivered segments and damaged tails, which stay on disk
    /// until their segment is deleted.
    pub fn disk_usage_bytes(&self) -> u64 {
        self.used_bytes.load(Ordering::Acquire)
    }

    /// A snapshot of the counters.
    pub fn metrics(&self) -> HintMetrics {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        HintMetrics {
            hints_stored: get(&c.hints_stored),
            bytes_stored: get(&c.bytes_stored),
            hints_replayed: get(&c.hints_replayed),
            bytes_replayed: get(&c.bytes_replayed),
            hints_dropped_expired: get(&c.hints_dropped_expired),
            hints_dropped_quota: get(&c.hints_dropped_quota),
            hints_dropped_removed: get(&c.hints_dropped_removed),
            hints_dropped_damaged: get(&c.hints_dropped_damaged),
            damaged_segments: get(&c.damaged_segments),
        }
    }

    /// Whether a write missed by a target down since `down_since` (`None`: up but timed
    /// out) should be hinted; see [`HintConfig::should_hint`].
    pub fn should_hint(
        &self,
        down_since: Option<std::time::Instant>,
        now: std::time::Instant,
    ) -> bool {
        self.config.should_hint(down_since, now)
    }

    /// Stores a hint for `target`. Returns once the hint is written, and fsynced if
    /// [`HintConfig::sync`].
    ///
    /// Refuses hints larger than [`HintConfig::max_mutation_bytes`], hints already older
    /// than the hint window, and hints that would push the files beyond the disk quota.
    pub fn store(&self, target: HostId, hint: Hint) -> Result<(), HintError> {
        let size_bytes = hint.mutation.len() as u64;
        let max_bytes = self.config.max_mutation_bytes();
        if size_bytes > max_bytes {
            return Err(HintError::HintTooLarge {
                size_bytes,
                max_bytes,
            });
        }
        let now_micros = self.clock.now_micros();
        if hint.created_at_micros < self.config.expiry_cutoff_micros(now_micros) {
            bump(&self.counters.hints_dropped_expired, 1);
            return Err(HintError::WindowExceeded {
                created_at_micros: hint.created_at_micros,
                age_micros: now_micros.saturating_sub(hint.created_at_micros),
                window_micros: self.config.max_hint_window_micros(),
            });
        }
        let record = encode_record(hint.created_at_micros, &hint.mutation);
        let appended = loop {
            let entry = self.target_entry(target);
            let mut inner = entry.inner.lock();
            if inner.removed {
                // Dropped meanwhile; the map now holds a fresh entry (or none yet).
                continue;
            }
            let result = self.append_locked(&entry, &mut inner, &record, hint.created_at_micros);
            drop(inner);
            break result?;
        };
        if let Some(closed) = &appended.closed {
            if !self.config.sync {
                let written = closed.written_bytes.load(Ordering::Acquire);
                if let Err(e) = closed.sync_through(written) {
                    tracing::warn!("closing hint segment: {e}");
                }
            }
        }
        if self.config.sync {
            if let Err(e) = appended.file.sync_through(appended.end) {
                let mut inner = appended.target.inner.lock();
                if inner
                    .writer
                    .as_ref()
                    .is_some_and(|w| Arc::ptr_eq(w, &appended.file))
                {
                    inner.writer = None;
                }
                return Err(e);
            }
        }
        bump(&self.counters.hints_stored, 1);
        bump(&self.counters.bytes_stored, record.len() as u64);
        Ok(())
    }

    /// The target's entry, created if absent.
    fn target_entry(&self, host: HostId) -> Arc<Target> {
        let mut targets = self.targets.lock();
        Arc::clone(targets.entry(host).or_insert_with(|| {
            Arc::new(Target {
                host,
                dir: self.dir.join(host.to_string()),
                inner: Mutex::new(TargetInner {
                    removed: false,
                    dir_exists: false,
                    segments: VecDeque::new(),
                    writer: None,
                }),
                busy: AtomicBool::new(false),
            })
        }))
    }

    /// Appends `record` to the target's current segment (starting a new one if there is
    /// none or it is full), after reserving its space against the quota.
    fn append_locked(
        &self,
        target: &Arc<Target>,
        inner: &mut TargetInner,
        record: &[u8],
        created_at_micros: i64,
    ) -> Result<Appended, HintError> {
        let record_bytes = record.len() as u64;
        let full = inner.writer.as_ref().is_some_and(|w| {
            w.written_bytes.load(Ordering::Acquire) + record_bytes > self.config.max_segment_bytes
        });
        let closed = if full { inner.writer.take() } else { None };
        let needed_bytes = record_bytes
            + if inner.writer.is_none() {
                SEGMENT_HEADER_LEN_BYTES
            } else {
                0
            };
        self.reserve(needed_bytes)?;
        let writer = match &inner.writer {
            Some(w) => Arc::clone(w),
            None => match self.create_segment(target, inner) {
                Ok(w) => w,
                Err(e) => {
                    self.release(needed_bytes);
                    return Err(e);
                }
            },
        };
        let offset = writer.written_bytes.load(Ordering::Acquire);
        let meta = inner
            .segments
            .back_mut()
            .filter(|m| m.seq == writer.seq)
            .ok_or_else(|| {
                HintError::io(
                    "appending to",
                    &writer.path,
                    io::Error::other("the segment being written is not the target's newest"),
                )
            });
        let meta = match meta {
            Ok(meta) => meta,
            Err(e) => {
                self.release(record_bytes);
                inner.writer = None;
                return Err(e);
            }
        };
        if let Err(source) = writer.file.write_all_at(record, offset) {
            // Cut the partial record off so the file stays readable; close the segment so
            // nothing is ever appended after a possible tear.
            if writer.file.set_len(offset).is_ok() {
                self.release(record_bytes);
            } else {
                meta.file_bytes += record_bytes;
            }
            inner.writer = None;
            tracing::warn!(
                target_host = %target.host,
                path = %writer.path.display(),
                "writing a hint failed ({source}); the segment is closed"
            );
            return Err(HintError::io("writing hint to", &writer.path, source));
        }
        let end = offset + record_bytes;
        writer.written_bytes.store(end, Ordering::Release);
        meta.file_bytes += record_bytes;
        meta.end_offset = end;
        meta.add_record(record_bytes, created_at_micros);
        Ok(Appended {
            target: Arc::clone(target),
            file: writer,
            end,
            closed,
        })
    }

    /// Creates the target's next segment (its header written, and with `sync` fsynced along
    /// with its directory entry) and makes it the one being written.
    fn create_segment(
        &self,
        target: &Target,
        inner: &mut TargetInner,
    ) -> Result<Arc<SegmentFile>, HintError> {
        if !inner.dir_exists {
            fs::create_dir_all(&target.dir)
                .map_err(|e| HintError::io("creating directory", &target.dir, e))?;
            if self.config.sync {
                sync_dir(&self.dir).map_err(|e| HintError::io("syncing", &self.dir, e))?;
            }
            inner.dir_exists = true;
        }
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let path = target.dir.join(segment_file_name(seq));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| HintError::io("creating segment", &path, e))?;
        let written = file
            .write_all_at(&encode_segment_header(target.host, seq), 0)
            .and_then(|()| {
                if self.config.sync {
                    file.sync_data()?;
                    sync_dir(&target.dir)?;
                }
                Ok(())
            });
        if let Err(e) = written {
            let _ = fs::remove_file(&path);
            return Err(HintError::io("creating segment", &path, e));
        }
        let segment = Arc::new(SegmentFile {
            seq,
            path: path.clone(),
            file,
            written_bytes: AtomicU64::new(SEGMENT_HEADER_LEN_BYTES),
            sync: Mutex::new(SyncState {
                synced_bytes: if self.config.sync {
                    SEGMENT_HEADER_LEN_BYTES
                } else {
                    0
                },
                failure: None,
            }),
        });
        inner.segments.push_back(SegmentMeta {
            seq,
            path,
            file_bytes: SEGMENT_HEADER_LEN_BYTES,
            start_offset: SEGMENT_HEADER_LEN_BYTES,
            end_offset: SEGMENT_HEADER_LEN_BYTES,
            hints: 0,
            record_bytes: 0,
            oldest_micros: None,
            newest_micros: None,
        });
        inner.writer = Some(Arc::clone(&segment));
        Ok(segment)
    }

    /// Reserves `needed_bytes` of the quota, or refuses.
    fn reserve(&self, needed_bytes: u64) -> Result<(), HintError> {
        let quota_bytes = self.config.max_total_bytes;
        self.used_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(needed_bytes)
                    .filter(|&total| total <= quota_bytes)
            })
            .map(|_| ())
            .map_err(|used_bytes| {
                bump(&self.counters.hints_dropped_quota, 1);
                HintError::QuotaExceeded {
                    used_bytes,
                    needed_bytes,
                    quota_bytes,
                }
            })
    }

    /// Gives back `bytes` of the quota.
    fn release(&self, bytes: u64) {
        let _ = self
            .used_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(bytes))
            });
    }

    /// fsyncs every segment being written (for `sync = false`: call periodically and at
    /// shutdown). Closed segments were fsynced when they were closed.
    pub fn sync(&self) -> Result<(), HintError> {
        let targets: Vec<Arc<Target>> = self.targets.lock().values().cloned().collect();
        let mut first_error = None;
        for target in targets {
            let writer = target.inner.lock().writer.clone();
            if let Some(writer) = writer {
                let written = writer.written_bytes.load(Ordering::Acquire);
                if let Err(e) = writer.sync_through(written) {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The undelivered hints of every target that has some, in host id order.
    pub fn pending(&self) -> Vec<(HostId, HintBacklog)> {
        let targets: Vec<Arc<Target>> = self.targets.lock().values().cloned().collect();
        targets
            .iter()
            .filter_map(|t| backlog(&t.inner.lock()).map(|b| (t.host, b)))
            .collect()
    }

    /// The undelivered hints of `target`, if any.
    pub fn pending_for(&self, target: HostId) -> Option<HintBacklog> {
        let entry = self.targets.lock().get(&target).cloned()?;
        let inner = entry.inner.lock();
        backlog(&inner)
    }

    /// Replays the hints of `target` stored before this call, oldest segment first, in
    /// batches of about `batch_limit_bytes` record bytes (at least one hint per batch).
    ///
    /// `deliver` gets each batch in store order; expired hints are left out (and dropped).
    /// Only after `deliver` returns `Ok` is the batch recorded as delivered (durably); a fully
    /// delivered segment is then deleted. If `deliver` fails, the replay stops and the batch
    /// and everything after it stay pending for the next replay. Hints stored during the
    /// replay go to a new segment and wait for the next call. Throttling, if wanted, is the
    /// callback's business.
    pub fn replay<E, F>(
        &self,
        target: HostId,
        batch_limit_bytes: u64,
        mut deliver: F,
    ) -> Result<ReplayOutcome, ReplayError<E>>
    where
        F: FnMut(&[Hint]) -> Result<(), E>,
    {
        let mut outcome = ReplayOutcome::default();
        let Some(entry) = self.targets.lock().get(&target).cloned() else {
            return Ok(outcome);
        };
        let Some(_busy) = BusyGuard::acquire(&entry.busy) else {
            return Err(ReplayError::Store {
                error: HintError::ReplayInProgress { target },
                outcome,
            });
        };
        let (last_seq, closed) = {
            let mut inner = entry.inner.lock();
            if inner.removed {
                outcome.target_removed = true;
                return Ok(outcome);
            }
            let writer_seq = inner.writer.as_ref().map(|w| w.seq);
            let writer_has_hints = inner
                .segments
                .back()
                .is_some_and(|m| Some(m.seq) == writer_seq && m.hints > 0);
            // Close it: the replay reads it while new hints go to a new segment.
            let closed = if writer_has_hints {
                inner.writer.take()
            } else {
                None
            };
            let writer_seq = inner.writer.as_ref().map(|w| w.seq);
            let last_seq = inner
                .segments
                .iter()
                .map(|m| m.seq)
                .filter(|&seq| Some(seq) != writer_seq)
                .max();
            (last_seq, closed)
        };
        if let Some(closed) = closed.filter(|_| !self.config.sync) {
            let written = closed.written_bytes.load(Ordering::Acquire);
            if let Err(e) = closed.sync_through(written) {
                tracing::warn!("closing hint segment for replay: {e}");
            }
        }
        let Some(last_seq) = last_seq else {
            return Ok(outcome);
        };
        let batch_limit_bytes = batch_limit_bytes.max(1);
        loop {
            let next = {
                let inner = entry.inner.lock();
                if inner.removed {
                    outcome.target_removed = true;
                    return Ok(outcome);
                }
                inner
                    .segments
                    .front()
                    .filter(|m| m.seq <= last_seq)
                    .map(|m| SegmentRef {
                        seq: m.seq,
                        path: m.path.clone(),
                        start_offset: m.start_offset,
                        end_offset: m.end_offset,
                    })
            };
            let Some(segment) = next else {
                return Ok(outcome);
            };
            self.replay_segment(
                &entry,
                &segment,
                batch_limit_bytes,
                &mut deliver,
                &mut outcome,
            )?;
            if outcome.target_removed {
                return Ok(outcome);
            }
        }
    }

    /// Replays one segment from its first undelivered record; returns once it is fully
    /// delivered and deleted (or the target was removed).
    fn replay_segment<E, F>(
        &self,
        target: &Target,
        segment: &SegmentRef,
        batch_limit_bytes: u64,
        deliver: &mut F,
        outcome: &mut ReplayOutcome,
    ) -> Result<(), ReplayError<E>>
    where
        F: FnMut(&[Hint]) -> Result<(), E>,
    {
        let store_error = |error: HintError, outcome: &ReplayOutcome| ReplayError::Store {
            error,
            outcome: *outcome,
        };
        let mut reader = match SegmentReader::open(
            &segment.path,
            target.host,
            segment.seq,
            segment.start_offset,
            Some(segment.end_offset),
        ) {
            Ok(Ok(reader)) => Some(reader),
            Ok(Err(kind)) => {
                self.note_replay_damage(target, &segment.path, 0, kind);
                None
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::warn!(
                    target_host = %target.host,
                    path = %segment.path.display(),
                    "hint segment vanished before replay; its hints are lost"
                );
                None
            }
            Err(e) => {
                return Err(store_error(
                    HintError::io("opening segment", &segment.path, e),
                    outcome,
                ))
            }
        };
        // Payloads of a batch are read into one buffer; the hints' mutations are slices of it.
        let buffer_capacity = usize::try_from(batch_limit_bytes)
            .unwrap_or(usize::MAX)
            .min(BATCH_BUFFER_RESERVE_BYTES);
        let mut batch: Vec<Hint> = Vec::new();
        let mut records: Vec<(i64, usize, usize)> = Vec::new();
        loop {
            let cutoff_micros = self.config.expiry_cutoff_micros(self.clock.now_micros());
            batch.clear();
            records.clear();
            let mut buffer = Vec::with_capacity(buffer_capacity);
            let mut read_hints = 0u64;
            let mut read_bytes = 0u64;
            let mut expired = 0u64;
            let mut batch_bytes = 0u64;
            let mut finished = reader.is_none();
            if let Some(reader) = reader.as_mut() {
                while read_bytes < batch_limit_bytes {
                    match reader.next_record(&mut buffer) {
                        Ok(Step::Record {
                            start,
                            end,
                            created_at_micros,
                            payload_start,
                        }) => {
                            let record_bytes = end - start;
                            read_hints += 1;
                            read_bytes += record_bytes;
                            if created_at_micros < cutoff_micros {
                                expired += 1;
                                buffer.truncate(payload_start);
                                continue;
                            }
                            batch_bytes += record_bytes;
                            records.push((
                                created_at_micros,
                                payload_start + CREATED_AT_LEN_BYTES as usize,
                                buffer.len(),
                            ));
                        }
                        Ok(Step::End) => {
                            finished = true;
                            break;
                        }
                        Ok(Step::Damage(kind)) => {
                            let offset = reader.offset();
                            self.note_replay_damage(target, reader.path(), offset, kind);
                            finished = true;
                            break;
                        }
                        Err(e) => {
                            return Err(store_error(
                                HintError::io("reading segment", &segment.path, e),
                                outcome,
                            ))
                        }
                    }
                }
            }
            let buffer = Bytes::from(buffer);
            batch.extend(records.iter().map(|&(created_at_micros, from, to)| Hint {
                created_at_micros,
                mutation: buffer.slice(from..to),
            }));
            if !batch.is_empty() {
                if let Err(error) = deliver(&batch) {
                    return Err(ReplayError::Delivery {
                        error,
                        outcome: *outcome,
                    });
                }
            }

            // Record the delivery, under the target lock so that a concurrent drop waits.
            let mut inner = target.inner.lock();
            if inner.removed {
                outcome.target_removed = true;
                return Ok(());
            }
            let position = reader
                .as_ref()
                .map_or(segment.end_offset, SegmentReader::offset);
            let progress = if finished {
                Progress {
                    seq: segment.seq + 1,
                    offset: 0,
                }
            } else {
                Progress {
                    seq: segment.seq,
                    offset: position,
                }
            };
            write_progress(&target.dir, progress).map_err(|e| store_error(e, outcome))?;
            let index = inner.segments.iter().position(|m| m.seq == segment.seq);
            if finished {
                if let Some(meta) = index.and_then(|i| inner.segments.remove(i)) {
                    let lost = meta.hints.saturating_sub(read_hints);
                    bump(&self.counters.hints_dropped_damaged, lost);
                    self.release(meta.file_bytes);
                }
            } else if let Some(meta) = index.and_then(|i| inner.segments.get_mut(i)) {
                meta.start_offset = position;
                meta.hints = meta.hints.saturating_sub(read_hints);
                meta.record_bytes = meta.record_bytes.saturating_sub(read_bytes);
                if meta.hints == 0 {
                    meta.oldest_micros = None;
                }
            }
            drop(inner);
            if !batch.is_empty() {
                outcome.batches += 1;
            }
            outcome.hints_delivered += batch.len() as u64;
            outcome.bytes_delivered += batch_bytes;
            outcome.hints_expired += expired;
            bump(&self.counters.hints_replayed, batch.len() as u64);
            bump(&self.counters.bytes_replayed, batch_bytes);
            bump(&self.counters.hints_dropped_expired, expired);
            if finished {
                // Should the deletion fail or not reach the disk, the next open deletes the
                // file: the watermark is already past it.
                remove_file_if_present(&segment.path).map_err(|e| store_error(e, outcome))?;
                outcome.segments_completed += 1;
                return Ok(());
            }
        }
    }

    fn note_replay_damage(&self, target: &Target, path: &Path, offset: u64, kind: DamageKind) {
        SegmentDamage {
            target: target.host,
            path: path.to_path_buf(),
            offset,
            kind,
        }
        .warn("replaying");
        bump(&self.counters.damaged_segments, 1);
    }

    /// Deletes the closed segments whose hints have all expired (or that hold none), for
    /// every target not being replayed. Returns the number of expired hints dropped.
    pub fn purge_expired(&self) -> Result<u64, HintError> {
        let cutoff_micros = self.config.expiry_cutoff_micros(self.clock.now_micros());
        let targets: Vec<Arc<Target>> = self.targets.lock().values().cloned().collect();
        let mut dropped = 0u64;
        for target in targets {
            let Some(_busy) = BusyGuard::acquire(&target.busy) else {
                continue;
            };
            let mut inner = target.inner.lock();
            if inner.removed {
                continue;
            }
            let writer_seq = inner.writer.as_ref().map(|w| w.seq);
            let (purged, kept): (VecDeque<SegmentMeta>, VecDeque<SegmentMeta>) =
                std::mem::take(&mut inner.segments)
                    .into_iter()
                    .partition(|m| {
                        Some(m.seq) != writer_seq
                            && m.newest_micros.is_none_or(|n| n < cutoff_micros)
                    });
            inner.segments = kept;
            for meta in purged {
                let result = remove_file_if_present(&meta.path);
                self.release(meta.file_bytes);
                dropped += meta.hints;
                if let Err(e) = result {
                    // The file stays on disk; forget its hints anyway (they are expired).
                    tracing::warn!("deleting an expired hint segment: {e}");
                }
            }
        }
        bump(&self.counters.hints_dropped_expired, dropped);
        Ok(dropped)
    }

    /// Deletes every hint of `target` (a node removed from the cluster). Returns the number
    /// of hints dropped. A replay of the target in progress stops at its next batch.
    pub fn drop_target(&self, target: HostId) -> Result<u64, HintError> {
        let mut targets = self.targets.lock();
        let Some(entry) = targets.remove(&target) else {
            return Ok(0);
        };
        let result = self.delete_target(&entry);
        drop(targets);
        result
    }

    /// Deletes every hint of every target. Returns the number of hints dropped.
    pub fn truncate_all(&self) -> Result<u64, HintError> {
        let mut targets = self.targets.lock();
        let mut dropped = 0u64;
        let mut first_error = None;
        for (_, entry) in std::mem::take(&mut *targets) {
            match self.delete_target(&entry) {
                Ok(n) => dropped += n,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        drop(targets);
        first_error.map_or(Ok(dropped), Err)
    }

    /// Marks a target (already out of the map) removed and deletes its files; the caller
    /// holds the map lock, so no new entry for the host writes into the directory meanwhile.
    fn delete_target(&self, entry: &Target) -> Result<u64, HintError> {
        let mut inner = entry.inner.lock();
        inner.removed = true;
        inner.writer = None;
        let mut dropped = 0u64;
        let mut first_error = None;
        for meta in std::mem::take(&mut inner.segments) {
            dropped += meta.hints;
            self.release(meta.file_bytes);
            if let Err(e) = remove_file_if_present(&meta.path) {
                first_error.get_or_insert(e);
            }
        }
        for name in [PROGRESS_FILE_NAME, PROGRESS_TEMP_FILE_NAME] {
            if let Err(e) = remove_file_if_present(&entry.dir.join(name)) {
                first_error.get_or_insert(e);
            }
        }
        match fs::remove_dir(&entry.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(
                dir = %entry.dir.display(),
                "hint directory of a dropped target not removed: {e}"
            ),
        }
        bump(&self.counters.hints_dropped_removed, dropped);
        first_error.map_or(Ok(dropped), Err)
    }
}

/// The backlog of one target, if it has undelivered hints.
fn backlog(inner: &TargetInner) -> Option<HintBacklog> {
    let mut result: Option<HintBacklog> = None;
    for meta in inner.segments.iter().filter(|m| m.hints > 0) {
        let oldest = meta.oldest_micros.unwrap_or(i64::MAX);
        let b = result.get_or_insert(HintBacklog {
            hints: 0,
            bytes: 0,
            oldest_micros: oldest,
        });
        b.hints += meta.hints;
        b.bytes += meta.record_bytes;
        b.oldest_micros = b.oldest_micros.min(oldest);
    }
    result
}

/// Per-record figures gathered by the scan at open.
#[derive(Debug, Clone, Copy, Default)]
struct ScanStats {
    hints: u64,
    record_bytes: u64,
    oldest_micros: Option<i64>,
    newest_micros: Option<i64>,
}

impl ScanStats {
    fn add(&mut self, record_bytes: u64, created_at_micros: i64) {
        self.hints += 1;
        self.record_bytes += record_bytes;
        self.oldest_micros = Some(
            self.oldest_micros
                .map_or(created_at_micros, |o| o.min(created_at_micros)),
        );
        self.newest_micros = Some(
            self.newest_micros
                .map_or(created_at_micros, |n| n.max(created_at_micros)),
        );
    }
}

/// Scans the directory of `host` at open: reads the progress watermark, checks every
/// segment, deletes those with nothing left to deliver.
fn open_target(
    host: HostId,
    dir: &Path,
    cutoff_micros: i64,
    report: &mut RecoveryReport,
) -> Result<OpenedTarget, HintError> {
    let mut files = Vec::new();
    let mut progress = None;
    let entries = fs::read_dir(dir).map_err(|e| HintError::io("listing directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| HintError::io("listing directory", dir, e))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if let Some((version, seq)) = parse_segment_file_name(&name) {
            if version == HINT_FORMAT_VERSION {
                files.push((seq, path));
            } else {
                tracing::warn!(
                    path = %path.display(),
                    "hint segment of unsupported format version {version} ignored"
                );
            }
        } else if name == PROGRESS_FILE_NAME {
            progress = read_progress(&path)?;
        } else if name == PROGRESS_TEMP_FILE_NAME {
            remove_file_if_present(&path)?;
        }
    }
    files.sort();
    let mut max_seq = progress.map_or(0, |p| p.seq);
    let mut segments = VecDeque::new();
    for (seq, path) in files {
        max_seq = max_seq.max(seq);
        if progress.is_some_and(|p| seq < p.seq) {
            // Delivered; the deletion did not reach the disk before a crash.
            remove_file_if_present(&path)?;
            report.segments_removed += 1;
            continue;
        }
        let start_from = match progress {
            Some(p) if p.seq == seq => p.offset.max(SEGMENT_HEADER_LEN_BYTES),
            _ => SEGMENT_HEADER_LEN_BYTES,
        };
        let scan = scan_segment(host, seq, &path, start_from)?;
        if let Some(damage) = scan.damage {
            damage.warn("opening");
            report.damages.push(damage);
        }
        let (start_offset, stats) = if scan.boundary_found {
            (start_from, scan.after)
        } else {
            tracing::warn!(
                path = %path.display(),
                offset = start_from,
                "hint progress does not point at a record boundary; the whole segment will be \
                 delivered again"
            );
            (SEGMENT_HEADER_LEN_BYTES, scan.all)
        };
        let expired = stats.newest_micros.is_some_and(|n| n < cutoff_micros);
        if stats.hints == 0 || expired {
            remove_file_if_present(&path)?;
            report.segments_removed += 1;
            if expired {
                report.hints_expired += stats.hints;
            }
            continue;
        }
        File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(|e| HintError::io("syncing", &path, e))?;
        segments.push_back(SegmentMeta {
            seq,
            path,
            file_bytes: scan.file_bytes,
            start_offset,
            end_offset: scan.end_offset,
            hints: stats.hints,
            record_bytes: stats.record_bytes,
            oldest_micros: stats.oldest_micros,
            newest_micros: stats.newest_micros,
        });
    }
    Ok(OpenedTarget { segments, max_seq })
}

/// What the scan of one segment found.
struct SegmentScan {
    file_bytes: u64,
    /// End of the last intact record.
    end_offset: u64,
    /// All intact records.
    all: ScanStats,
    /// Intact records starting at or after the requested start.
    after: ScanStats,
    /// Whether the requested start is a record boundary (or the header's end).
    boundary_found: bool,
    damage: Option<SegmentDamage>,
}

fn scan_segment(
    host: HostId,
    seq: u64,
    path: &Path,
    start_from: u64,
) -> Result<SegmentScan, HintError> {
    let io_error = |e| HintError::io("reading segment", path, e);
    let file_bytes = fs::metadata(path).map_err(io_error)?.len();
    let mut scan = SegmentScan {
        file_bytes,
        end_offset: SEGMENT_HEADER_LEN_BYTES,
        all: ScanStats::default(),
        after: ScanStats::default(),
        boundary_found: start_from == SEGMENT_HEADER_LEN_BYTES,
        damage: None,
    };
    let mut reader = match SegmentReader::open(path, host, seq, SEGMENT_HEADER_LEN_BYTES, None)
        .map_err(io_error)?
    {
        Ok(reader) => reader,
        Err(kind) => {
            scan.boundary_found = false;
            scan.damage = Some(SegmentDamage {
                target: host,
                path: path.to_path_buf(),
                offset: 0,
                kind,
            });
            return Ok(scan);
        }
    };
    let mut payload = Vec::new();
    loop {
        payload.clear();
        match reader.next_record(&mut payload).map_err(io_error)? {
            Step::Record {
                start,
                end,
                created_at_micros,
                ..
            } => {
                let record_bytes = end - start;
                scan.all.add(record_bytes, created_at_micros);
                if start >= start_from {
                    scan.after.add(record_bytes, created_at_micros);
                }
                if end == start_from {
                    scan.boundary_found = true;
                }
                scan.end_offset = end;
            }
            Step::End => break,
            Step::Damage(kind) => {
                scan.damage = Some(SegmentDamage {
                    target: host,
                    path: path.to_path_buf(),
                    offset: reader.offset(),
                    kind,
                });
                break;
            }
        }
    }
    Ok(scan)
}

/// Reads the progress watermark; a damaged file is logged and ignored (the hints are then
/// delivered again, which is harmless).
fn read_progress(path: &Path) -> Result<Option<Progress>, HintError> {
    let file = File::open(path).map_err(|e| HintError::io("reading", path, e))?;
    let mut bytes = Vec::with_capacity(PROGRESS_LEN_BYTES + 1);
    // One byte more than the format, to recognize a file that is too long.
    file.take(PROGRESS_LEN_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| HintError::io("reading", path, e))?;
    let progress = decode_progress(&bytes);
    if progress.is_none() {
        tracing::warn!(
            path = %path.display(),
            "hint progress file is damaged; the target's hints will be delivered again"
        );
    }
    Ok(progress)
}

/// Replaces the progress file atomically and durably.
fn write_progress(dir: &Path, progress: Progress) -> Result<(), HintError> {
    let temp = dir.join(PROGRESS_TEMP_FILE_NAME);
    let path = dir.join(PROGRESS_FILE_NAME);
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)?;
        file.write_all(&encode_progress(progress))?;
        file.sync_data()?;
        fs::rename(&temp, &path)?;
        sync_dir(dir)
    };
    write().map_err(|e| HintError::io("recording replay progress in", &path, e))
}

fn remove_file_if_present(path: &Path) -> Result<(), HintError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(HintError::io("deleting", path, e)),
    }
}

/// fsyncs a directory so that entries created, renamed or removed in it are durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
