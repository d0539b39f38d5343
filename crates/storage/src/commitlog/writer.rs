//! The writing side of the commit log: appends, group commit, the periodic sync thread, the
//! segment allocator thread and segment release.
//!
//! Concurrency design: one mutex guards all state. Appenders encode records into a bounded
//! write buffer under it (no system call per append); the buffer is written to the segment
//! file with `pwrite` when it is full, on segment rotation and before every fsync. fsyncs run
//! with the mutex released, by one *leader* at a time: it writes the buffer out, notes the end
//! position, fsyncs, then publishes that position as synced. Appenders that wait for
//! durability (batch mode) and arrive while an fsync runs keep appending; the next leader
//! fsyncs for all of them at once (group commit).
//!
//! Segment files are created by an allocator thread that keeps one preallocated spare ready,
//! so rotation is a pointer swap and `ENOSPC` surfaces at preallocation (a clean,
//! non-poisoning error) rather than in the middle of a record.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::config::{CommitLogConfig, SyncMode};
use super::error::CommitLogError;
use super::fault::{FaultInjector, InjectedFault};
use super::format::{encode_record_header, RECORD_HEADER_LEN_BYTES, SEGMENT_HEADER_LEN_BYTES};
use super::replay::Replay;
use super::segment::{create_segment, list_segments, PreparedSegment};
use super::CommitLogPosition;

/// Upper bound of the in-memory write buffer (smaller if the segment is smaller). The append
/// that fills it writes it out while holding the log's mutex, so every other writer waits for
/// that `pwrite`: 128 KiB keeps the wait short (1 MiB made it the largest part of the p99
/// write latency at a steady 37k writes/s).
pub const WRITE_BUFFER_LIMIT_BYTES: usize = 128 * 1024;

/// Name of the file locked to keep a second log out of the directory.
const LOCK_FILE_NAME: &str = "CommitLog.lock";

/// How often idle background threads re-check their state even without a notification.
const IDLE_RECHECK: Duration = Duration::from_secs(1);

/// Counters and sizes describing a running log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitLogStats {
    /// Live segment files: the active one and those not yet released.
    pub segments: u64,
    /// Bytes of the live segment files.
    pub bytes_live: u64,
    /// Preallocated spare segments ready for rotation (0 or 1).
    pub spare_segments: u64,
    /// fsyncs of segment files (excluding the preallocation ones).
    pub fsyncs: u64,
    /// Records appended since open.
    pub appends: u64,
    /// Bytes appended since open, framing included.
    pub bytes_appended: u64,
    /// Segment files deleted by `mark_flushed_up_to` since open.
    pub segments_deleted: u64,
    /// Position just past the last appended record.
    pub current_position: CommitLogPosition,
    /// Every record at or before this position is known durable.
    pub synced_position: CommitLogPosition,
    /// Whether a write or fsync failure has poisoned the log.
    pub poisoned: bool,
}

/// The commit log. Thread-safe: share it by reference or `Arc`.
///
/// Lifecycle contract with the engine:
/// 1. [`CommitLog::open`] returns the log and a [`Replay`] of the segments that existed; the
///    engine re-applies every replayed record it has not already flushed.
/// 2. Every mutation is appended before it is applied; the returned position identifies it.
/// 3. Once every record at or before position `p` is durable elsewhere (for all tables: the
///    engine passes the minimum over tables), the engine calls
///    [`CommitLog::mark_flushed_up_to`]`(p)`, which deletes the segments wholly covered.
///    Replay must be finished before that call reaches the replayed segments.
#[derive(Debug)]
pub struct CommitLog {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    /// Holds the directory lock for the lifetime of the log.
    _lock_file: File,
    closed: bool,
}

#[derive(Debug)]
struct Shared {
    config: CommitLogConfig,
    buffer_limit_bytes: usize,
    state: Mutex<State>,
    /// Signalled when a sync completes, a spare segment is ready, an allocation failed,
    /// space was released or the log was poisoned.
    progress: Condvar,
    /// Wakes the allocator thread.
    allocator_wake: Condvar,
    /// Wakes the periodic sync thread (shutdown).
    sync_thread_wake: Condvar,
    faults: FaultInjector,
}

#[derive(Debug)]
struct State {
    active: ActiveSegment,
    /// Segments before the active one that are not released yet, in id order.
    sealed: VecDeque<SealedSegment>,
    spare: Option<PreparedSegment>,
    alloc: AllocState,
    next_segment_id: u64,
    /// Bytes of all segment files: active, sealed, spare and one being preallocated.
    bytes_on_disk: u64,
    synced: CommitLogPosition,
    sync_in_progress: bool,
    poison: Option<Poison>,
    shutdown: bool,
    appends: u64,
    bytes_appended: u64,
    fsyncs: u64,
    segments_deleted: u64,
}

#[derive(Debug)]
struct ActiveSegment {
    segment_id: u64,
    path: PathBuf,
    file: Arc<File>,
    size_bytes: u64,
    /// Offset just past the last appended record.
    end: u64,
    /// Bytes before this offset are in the file; `[written, end)` is in `buffer`.
    written: u64,
    buffer: Vec<u8>,
}

#[derive(Debug)]
struct SealedSegment {
    segment_id: u64,
    path: PathBuf,
    /// `None` for segments of a previous run (fsynced at open).
    file: Option<Arc<File>>,
    size_bytes: u64,
    /// End of the data, known for segments sealed by this process.
    end: Option<u64>,
    needs_sync: bool,
}

/// What one sync round fsyncs and the position it makes durable.
struct SyncRound {
    targets: Vec<SyncTarget>,
    upto: CommitLogPosition,
}

/// Second half of a sync round, under the mutex: publishes the synced position, or poisons
/// the log if an fsync failed. A sealed segment stays marked for sync unless the round
/// covered all of its data.
fn finish_sync_round(
    state: &mut State,
    round: SyncRound,
    result: Result<(), (PathBuf, io::Error)>,
) {
    match result {
        Ok(()) => {
            for sealed in state.sealed.iter_mut() {
                let covered = round.targets.iter().any(|t| {
                    t.segment_id == sealed.segment_id
                        && sealed.end.is_some_and(|end| end <= t.covered_end)
                });
                if covered {
                    sealed.needs_sync = false;
                }
            }
            state.synced = state.synced.max(round.upto);
        }
        Err((path, e)) => {
            state.poison("fsync", path, e);
        }
    }
}

/// A segment file to fsync in a sync round.
struct SyncTarget {
    segment_id: u64,
    path: PathBuf,
    file: Arc<File>,
    /// End of the segment's data when the round started.
    covered_end: u64,
}

#[derive(Debug, Default)]
struct AllocState {
    attempts_started: u64,
    failure: Option<AllocFailure>,
    retry_requested: bool,
}

#[derive(Debug)]
struct AllocFailure {
    attempt: u64,
    path: PathBuf,
    cause: Arc<io::Error>,
}

#[derive(Debug, Clone)]
struct Poison {
    operation: &'static str,
    path: PathBuf,
    cause: Arc<io::Error>,
}

impl Poison {
    fn to_error(&self) -> CommitLogError {
        CommitLogError::Poisoned {
            operation: self.operation,
            path: self.path.clone(),
            cause: Arc::clone(&self.cause),
        }
    }
}

impl ActiveSegment {
    fn from_prepared(segment: PreparedSegment, buffer: Vec<u8>) -> Self {
        ActiveSegment {
            segment_id: segment.segment_id,
            path: segment.path,
            file: segment.file,
            size_bytes: segment.size_bytes,
            end: SEGMENT_HEADER_LEN_BYTES,
            written: SEGMENT_HEADER_LEN_BYTES,
            buffer,
        }
    }

    fn end_position(&self) -> CommitLogPosition {
        CommitLogPosition {
            segment_id: self.segment_id,
            offset: self.end,
        }
    }

    /// Writes the buffered records to the file.
    fn write_out(&mut self, faults: &FaultInjector) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        faults.check(InjectedFault::Write)?;
        self.file.write_all_at(&self.buffer, self.written)?;
        self.written += self.buffer.len() as u64;
        self.buffer.clear();
        Ok(())
    }
}

impl State {
    /// Records the first write/fsync failure and returns the error for the caller.
    fn poison(
        &mut self,
        operation: &'static str,
        path: PathBuf,
        cause: io::Error,
    ) -> CommitLogError {
        let poison = self.poison.get_or_insert_with(|| {
            tracing::error!(
                path = %path.display(),
                "commit log {operation} failed, the log is poisoned: {cause}"
            );
            Poison {
                operation,
                path,
                cause: Arc::new(cause),
            }
        });
        poison.to_error()
    }

    fn live_bytes(&self) -> u64 {
        self.active.size_bytes + self.sealed.iter().map(|s| s.size_bytes).sum::<u64>()
    }
}

impl CommitLog {
    /// Opens (or creates) the log in `config.dir`.
    ///
    /// Returns the log, writing into a new segment, and a lazy [`Replay`] of every segment
    /// that existed. Existing segments are fsynced first (after a process crash their last
    /// writes may be only in the page cache).
    pub fn open(config: CommitLogConfig) -> Result<(CommitLog, Replay), CommitLogError> {
        config.validate()?;
        let dir = config.dir.clone();
        fs::create_dir_all(&dir).map_err(|e| CommitLogError::io("creating directory", &dir, e))?;
        let lock_path = dir.join(LOCK_FILE_NAME);
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| CommitLogError::io("opening lock file", &lock_path, e))?;
        match lock_file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(CommitLogError::DirectoryLocked { path: lock_path })
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(CommitLogError::io("locking", &lock_path, e))
            }
        }

        let existing = list_segments(&dir)?;
        for segment in &existing {
            File::open(&segment.path)
                .and_then(|f| f.sync_all())
                .map_err(|e| CommitLogError::io("syncing existing segment", &segment.path, e))?;
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 2));
        let after_existing = existing
            .last()
            .map_or(1, |s| s.segment_id.saturating_add(1));
        let first_id = now_ms.max(after_existing);

        let faults = FaultInjector::default();
        let first = create_segment(&dir, first_id, config.segment_size_bytes, &faults)
            .map_err(|e| CommitLogError::io("preallocating segment", e.path, e.source))?;
        let buffer_limit_bytes = WRITE_BUFFER_LIMIT_BYTES
            .min(usize::try_from(config.segment_size_bytes).unwrap_or(usize::MAX));
        let bytes_on_disk = existing.iter().map(|s| s.size_bytes).sum::<u64>() + first.size_bytes;
        let sealed = existing
            .iter()
            .map(|s| SealedSegment {
                segment_id: s.segment_id,
                path: s.path.clone(),
                file: None,
                size_bytes: s.size_bytes,
                end: None,
                needs_sync: false,
            })
            .collect();
        let active = ActiveSegment::from_prepared(first, Vec::with_capacity(buffer_limit_bytes));
        let synced = active.end_position();
        let state = State {
            active,
            sealed,
            spare: None,
            alloc: AllocState::default(),
            next_segment_id: first_id + 1,
            bytes_on_disk,
            synced,
            sync_in_progress: false,
            poison: None,
            shutdown: false,
            appends: 0,
            bytes_appended: 0,
            fsyncs: 0,
            segments_deleted: 0,
        };
        let shared = Arc::new(Shared {
            config,
            buffer_limit_bytes,
            state: Mutex::new(state),
            progress: Condvar::new(),
            allocator_wake: Condvar::new(),
            sync_thread_wake: Condvar::new(),
            faults,
        });

        let mut log = CommitLog {
            shared: Arc::clone(&shared),
            threads: Vec::new(),
            _lock_file: lock_file,
            closed: false,
        };
        let spawn_error = |e| CommitLogError::io("spawning thread for", &dir, e);
        let allocator_shared = Arc::clone(&shared);
        log.threads.push(
            thread::Builder::new()
                .name("commitlog-alloc".to_owned())
                .spawn(move || allocator_shared.allocator_loop())
                .map_err(spawn_error)?,
        );
        if let SyncMode::Periodic { period } = shared.config.sync_mode {
            let sync_shared = Arc::clone(&shared);
            log.threads.push(
                thread::Builder::new()
                    .name("commitlog-sync".to_owned())
                    .spawn(move || sync_shared.periodic_sync_loop(period))
                    .map_err(spawn_error)?,
            );
        }
        tracing::info!(
            dir = %dir.display(),
            existing_segments = existing.len(),
            first_segment_id = first_id,
            "commit log opened"
        );
        Ok((log, Replay::new(existing)))
    }

    /// Appends one record and returns its position (just past it).
    ///
    /// Batch mode: returns once the record is fsynced. Periodic mode: returns at once; the
    /// record is durable after the next periodic sync or [`CommitLog::sync`].
    ///
    /// Errors: [`CommitLogError::RecordTooLarge`] (nothing written),
    /// [`CommitLogError::SpaceExhausted`], [`CommitLogError::Timeout`] or
    /// [`CommitLogError::Io`] for a failed segment preallocation (nothing written, may be
    /// retried), [`CommitLogError::Poisoned`] after any write or fsync failure. A batch-mode
    /// `Timeout` or `Poisoned` error after the record was buffered leaves its fate unknown:
    /// it may or may not be replayed.
    pub fn append(&self, record: &[u8]) -> Result<CommitLogPosition, CommitLogError> {
        let shared = &*self.shared;
        let size_bytes = record.len() as u64;
        if size_bytes > shared.config.max_record_size_bytes {
            return Err(CommitLogError::RecordTooLarge {
                size_bytes,
                max_bytes: shared.config.max_record_size_bytes,
            });
        }
        let mut st = shared.state.lock();
        let position = shared.append_locked(&mut st, record)?;
        if let SyncMode::Batch { window } = shared.config.sync_mode {
            shared.sync_to(&mut st, position, window)?;
        }
        Ok(position)
    }

    /// Writes out and fsyncs everything appended so far; returns the position now durable.
    pub fn sync(&self) -> Result<CommitLogPosition, CommitLogError> {
        let mut st = self.shared.state.lock();
        let target = st.active.end_position();
        self.shared.sync_to(&mut st, target, Duration::ZERO)?;
        Ok(target)
    }

    /// Declares every record at or before `position` durable elsewhere and deletes the
    /// segments holding only such records (the active segment is never deleted). Returns
    /// how many segment files were deleted.
    ///
    /// Contract: the engine calls this only when all records with a position `<= position`
    /// are flushed for every table. Deletions are not fsynced: after a crash a deleted
    /// segment may reappear and be replayed again, so replayed records must be applied
    /// idempotently or filtered by the engine's flushed positions.
    pub fn mark_flushed_up_to(&self, position: CommitLogPosition) -> Result<usize, CommitLogError> {
        let shared = &*self.shared;
        let mut doomed = Vec::new();
        {
            let mut st = shared.state.lock();
            let end = st.active.end_position();
            if position > end {
                return Err(CommitLogError::PositionBeyondEnd { position, end });
            }
            while let Some(front) = st.sealed.front() {
                let covered = front.segment_id < position.segment_id
                    || (front.segment_id == position.segment_id
                        && front.end.is_some_and(|e| position.offset >= e));
                if !covered {
                    break;
                }
                doomed.extend(st.sealed.pop_front());
            }
        }
        if doomed.is_empty() {
            return Ok(0);
        }
        let mut deleted = 0usize;
        let mut freed_bytes = 0u64;
        let mut failed = Vec::new();
        let mut first_error = None;
        for segment in doomed {
            match fs::remove_file(&segment.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    tracing::warn!(path = %segment.path.display(), "cannot delete flushed commit log segment: {e}");
                    if first_error.is_none() {
                        first_error = Some(CommitLogError::io(
                            "deleting flushed segment",
                            &segment.path,
                            e,
                        ));
                    }
                    failed.push(segment);
                }
                _ => {
                    tracing::debug!(path = %segment.path.display(), "deleted flushed commit log segment");
                    deleted += 1;
                    freed_bytes += segment.size_bytes;
                }
            }
        }
        {
            let mut st = shared.state.lock();
            st.bytes_on_disk = st.bytes_on_disk.saturating_sub(freed_bytes);
            st.segments_deleted += deleted as u64;
            if !failed.is_empty() {
                // Keep them to retry with the next call.
                for segment in failed.into_iter().rev() {
                    st.sealed.push_front(segment);
                }
                st.sealed.make_contiguous().sort_by_key(|s| s.segment_id);
            }
        }
        shared.allocator_wake.notify_all();
        shared.progress.notify_all();
        match first_error {
            Some(e) => Err(e),
            None => Ok(deleted),
        }
    }

    /// The position just past the last appended record.
    pub fn current_position(&self) -> CommitLogPosition {
        self.shared.state.lock().active.end_position()
    }

    /// Counters and sizes.
    pub fn stats(&self) -> CommitLogStats {
        let st = self.shared.state.lock();
        CommitLogStats {
            segments: st.sealed.len() as u64 + 1,
            bytes_live: st.live_bytes(),
            spare_segments: u64::from(st.spare.is_some()),
            fsyncs: st.fsyncs,
            appends: st.appends,
            bytes_appended: st.bytes_appended,
            segments_deleted: st.segments_deleted,
            current_position: st.active.end_position(),
            synced_position: st.synced,
            poisoned: st.poison.is_some(),
        }
    }

    /// The configuration the log runs with.
    pub fn config(&self) -> &CommitLogConfig {
        &self.shared.config
    }

    /// Failure testing: makes the next `count` operations of kind `fault` fail as if the
    /// device had returned an error. Never used in production.
    pub fn inject_faults(&self, fault: InjectedFault, count: u32) {
        self.shared.faults.arm(fault, count);
    }

    /// Stops the background threads, writes out and fsyncs what is buffered, and removes
    /// the unused spare segment. Dropping the log does the same, logging errors.
    pub fn close(mut self) -> Result<(), CommitLogError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), CommitLogError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let shared = &*self.shared;
        {
            let mut st = shared.state.lock();
            st.shutdown = true;
        }
        shared.allocator_wake.notify_all();
        shared.sync_thread_wake.notify_all();
        shared.progress.notify_all();
        for handle in self.threads.drain(..) {
            if handle.join().is_err() {
                tracing::error!("a commit log background thread panicked");
            }
        }
        let (result, spare) = {
            let mut st = shared.state.lock();
            let result = match &st.poison {
                Some(poison) => Err(poison.to_error()),
                None => {
                    let target = st.active.end_position();
                    shared.sync_to(&mut st, target, Duration::ZERO)
                }
            };
            let spare = st.spare.take();
            if let Some(spare) = &spare {
                st.bytes_on_disk = st.bytes_on_disk.saturating_sub(spare.size_bytes);
            }
            (result, spare)
        };
        if let Some(spare) = spare {
            if let Err(e) = fs::remove_file(&spare.path) {
                tracing::warn!(path = %spare.path.display(), "cannot remove unused spare segment: {e}");
            }
        }
        result
    }
}

impl Drop for CommitLog {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!("commit log close failed: {e}");
        }
    }
}

impl Shared {
    fn append_locked(
        &self,
        st: &mut MutexGuard<'_, State>,
        record: &[u8],
    ) -> Result<CommitLogPosition, CommitLogError> {
        let framed_bytes = RECORD_HEADER_LEN_BYTES + record.len() as u64;
        self.ensure_room(st, framed_bytes)?;
        let header = encode_record_header(record);
        let state = &mut **st;
        let active = &mut state.active;
        let framed = framed_bytes as usize;
        if active.buffer.len() + framed > self.buffer_limit_bytes {
            if let Err(e) = active.write_out(&self.faults) {
                let path = active.path.clone();
                return Err(state.poison("write", path, e));
            }
        }
        if framed <= self.buffer_limit_bytes {
            active.buffer.extend_from_slice(&header);
            active.buffer.extend_from_slice(record);
        } else {
            // Larger than the whole buffer (which is empty now): write it directly.
            let direct = self
                .faults
                .check(InjectedFault::Write)
                .and_then(|()| active.file.write_all_at(&header, active.written))
                .and_then(|()| {
                    active
                        .file
                        .write_all_at(record, active.written + RECORD_HEADER_LEN_BYTES)
                });
            if let Err(e) = direct {
                let path = active.path.clone();
                return Err(state.poison("write", path, e));
            }
            active.written += framed_bytes;
        }
        active.end += framed_bytes;
        let position = active.end_position();
        state.appends += 1;
        state.bytes_appended += framed_bytes;
        Ok(position)
    }

    /// Makes sure the active segment has room for `framed_bytes`, rotating to the spare
    /// segment (waiting for one, bounded) if needed.
    fn ensure_room(
        &self,
        st: &mut MutexGuard<'_, State>,
        framed_bytes: u64,
    ) -> Result<(), CommitLogError> {
        // (wait start, allocation attempts started before the wait)
        let mut waiting: Option<(Instant, u64)> = None;
        loop {
            if let Some(poison) = &st.poison {
                return Err(poison.to_error());
            }
            if st.active.end + framed_bytes <= st.active.size_bytes {
                return Ok(());
            }
            if let Some(spare) = st.spare.take() {
                self.rotate(st, spare)?;
                self.allocator_wake.notify_all();
                continue;
            }
            let now = Instant::now();
            let (started, attempts_before) =
                *waiting.get_or_insert((now, st.alloc.attempts_started));
            if let Some(failure) = &st.alloc.failure {
                if failure.attempt > attempts_before {
                    // An allocation attempted on our behalf failed: report it, unpoisoned.
                    return Err(CommitLogError::io(
                        "preallocating segment",
                        failure.path.clone(),
                        io::Error::new(failure.cause.kind(), Arc::clone(&failure.cause)),
                    ));
                }
                // An older failure: ask for a new attempt (space may have been freed).
                st.alloc.failure = None;
                st.alloc.retry_requested = true;
                self.allocator_wake.notify_all();
            }
            let deadline = started + self.config.append_wait_timeout;
            if now >= deadline {
                let waited_ms = now.duration_since(started).as_millis() as u64;
                let needed = st
                    .bytes_on_disk
                    .saturating_add(self.config.segment_size_bytes);
                return Err(if needed > self.config.total_space_bytes_max {
                    CommitLogError::SpaceExhausted {
                        live_bytes: st.bytes_on_disk,
                        max_bytes: self.config.total_space_bytes_max,
                        waited_ms,
                    }
                } else {
                    CommitLogError::Timeout {
                        waiting_for: "a new segment",
                        waited_ms,
                    }
                });
            }
            self.allocator_wake.notify_all();
            self.progress.wait_until(st, deadline);
        }
    }

    /// Seals the active segment and makes `spare` active.
    fn rotate(
        &self,
        st: &mut MutexGuard<'_, State>,
        spare: PreparedSegment,
    ) -> Result<(), CommitLogError> {
        let state = &mut **st;
        if let Err(e) = state.active.write_out(&self.faults) {
            state.spare = Some(spare);
            let path = state.active.path.clone();
            return Err(state.poison("write", path, e));
        }
        let buffer = std::mem::take(&mut state.active.buffer);
        let old = std::mem::replace(
            &mut state.active,
            ActiveSegment::from_prepared(spare, buffer),
        );
        let needs_sync = state.synced < old.end_position();
        tracing::debug!(
            sealed_segment_id = old.segment_id,
            new_segment_id = state.active.segment_id,
            "commit log segment rotation"
        );
        state.sealed.push_back(SealedSegment {
            segment_id: old.segment_id,
            path: old.path,
            file: Some(old.file),
            size_bytes: old.size_bytes,
            end: Some(old.end),
            needs_sync,
        });
        Ok(())
    }

    /// Returns once everything up to `target` is durable, leading an fsync if none is in
    /// progress. `window` is the group-commit wait of a leader.
    fn sync_to(
        &self,
        st: &mut MutexGuard<'_, State>,
        target: CommitLogPosition,
        window: Duration,
    ) -> Result<(), CommitLogError> {
        let started = Instant::now();
        let deadline = started + self.config.append_wait_timeout;
        loop {
            if st.synced >= target {
                return Ok(());
            }
            if let Some(poison) = &st.poison {
                return Err(poison.to_error());
            }
            if !st.sync_in_progress {
                self.lead_sync(st, window);
                continue;
            }
            if Instant::now() >= deadline {
                return Err(CommitLogError::Timeout {
                    waiting_for: "a commit log fsync",
                    waited_ms: started.elapsed().as_millis() as u64,
                });
            }
            self.progress.wait_until(st, deadline);
        }
    }

    /// One group-commit round: write out the buffer, fsync every segment with unsynced data
    /// (mutex released meanwhile), publish the synced position or poison the log.
    fn lead_sync(&self, st: &mut MutexGuard<'_, State>, window: Duration) {
        st.sync_in_progress = true;
        if !window.is_zero() {
            MutexGuard::unlocked(st, || thread::sleep(window));
        }
        self.sync_round(st);
        st.sync_in_progress = false;
        self.progress.notify_all();
    }

    fn sync_round(&self, st: &mut MutexGuard<'_, State>) {
        let Some(round) = self.prepare_sync_round(st) else {
            return;
        };
        let faults = &self.faults;
        let (done, result) = MutexGuard::unlocked(st, || {
            let mut done = 0u64;
            for target in &round.targets {
                done += 1;
                if let Err(e) = faults
                    .check(InjectedFault::Sync)
                    .and_then(|()| target.file.sync_data())
                {
                    return (done, Err((target.path.clone(), e)));
                }
            }
            (done, Ok(()))
        });
        st.fsyncs += done;
        finish_sync_round(st, round, result);
    }

    /// First half of a sync round, under the mutex: writes the buffer out and lists what to
    /// fsync. `None` if there is nothing to do or the log is (now) poisoned.
    fn prepare_sync_round(&self, state: &mut State) -> Option<SyncRound> {
        if state.poison.is_some() {
            return None;
        }
        if let Err(e) = state.active.write_out(&self.faults) {
            let path = state.active.path.clone();
            state.poison("write", path, e);
            return None;
        }
        let upto = state.active.end_position();
        if state.synced >= upto {
            return None;
        }
        // Each file with the end of the data its fsync covers: the active segment may get
        // more records, and be sealed, while the fsync runs.
        let mut targets: Vec<SyncTarget> = state
            .sealed
            .iter()
            .filter(|s| s.needs_sync)
            .filter_map(|s| {
                Some(SyncTarget {
                    segment_id: s.segment_id,
                    path: s.path.clone(),
                    file: Arc::clone(s.file.as_ref()?),
                    covered_end: s.end?,
                })
            })
            .collect();
        if state.active.end > SEGMENT_HEADER_LEN_BYTES {
            targets.push(SyncTarget {
                segment_id: state.active.segment_id,
                path: state.active.path.clone(),
                file: Arc::clone(&state.active.file),
                covered_end: state.active.end,
            });
        }
        Some(SyncRound { targets, upto })
    }

    /// Background fsync every `period` (periodic mode).
    fn periodic_sync_loop(&self, period: Duration) {
        let mut st = self.state.lock();
        loop {
            let deadline = Instant::now() + period;
            while !st.shutdown && Instant::now() < deadline {
                self.sync_thread_wake.wait_until(&mut st, deadline);
            }
            if st.shutdown {
                return;
            }
            if st.poison.is_some() {
                continue;
            }
            let target = st.active.end_position();
            if let Err(e) = self.sync_to(&mut st, target, Duration::ZERO) {
                if !matches!(e, CommitLogError::Poisoned { .. }) {
                    tracing::warn!("periodic commit log sync failed: {e}");
                }
            }
        }
    }

    /// Keeps one preallocated spare segment ready while space allows.
    fn allocator_loop(&self) {
        let mut st = self.state.lock();
        loop {
            if st.shutdown {
                return;
            }
            let wanted = st.spare.is_none()
                && st.poison.is_none()
                && (st.alloc.failure.is_none() || st.alloc.retry_requested);
            let fits = st
                .bytes_on_disk
                .saturating_add(self.config.segment_size_bytes)
                <= self.config.total_space_bytes_max;
            if !(wanted && fits) {
                self.allocator_wake.wait_for(&mut st, IDLE_RECHECK);
                continue;
            }
            let segment_id = st.next_segment_id;
            st.next_segment_id += 1;
            st.bytes_on_disk += self.config.segment_size_bytes;
            st.alloc.attempts_started += 1;
            st.alloc.retry_requested = false;
            let attempt = st.alloc.attempts_started;
            let result = MutexGuard::unlocked(&mut st, || {
                create_segment(
                    &self.config.dir,
                    segment_id,
                    self.config.segment_size_bytes,
                    &self.faults,
                )
            });
            match result {
                Ok(segment) => {
                    st.spare = Some(segment);
                    st.alloc.failure = None;
                }
                Err(e) => {
                    st.bytes_on_disk -= self.config.segment_size_bytes;
                    tracing::warn!(
                        path = %e.path.display(),
                        "commit log segment preallocation failed: {}", e.source
                    );
                    st.alloc.failure = Some(AllocFailure {
                        attempt,
                        path: e.path,
                        cause: Arc::new(e.source),
                    });
                }
            }
            self.progress.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet_config(dir: &std::path::Path) -> CommitLogConfig {
        CommitLogConfig {
            sync_mode: SyncMode::Periodic {
                period: Duration::from_secs(3600),
            },
            ..CommitLogConfig::new(dir).with_segment_size(4096)
        }
    }

    /// Records appended to a segment while an fsync of it runs, before it is sealed, are not
    /// covered by that fsync: the sealed segment must stay marked for the next one.
    #[test]
    fn segment_sealed_during_an_fsync_stays_marked_for_sync() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _replay) = CommitLog::open(quiet_config(dir.path())).unwrap();
        let shared = Arc::clone(&log.shared);
        let first = log.append(&[1u8; 100]).unwrap();
        let round = {
            let mut st = shared.state.lock();
            shared.prepare_sync_round(&mut st).unwrap()
        };
        assert_eq!(round.upto, first);
        // "During the fsync": more records, filling the segment and sealing it.
        let mut last = first;
        while last.segment_id == first.segment_id {
            last = log.append(&[2u8; 500]).unwrap();
        }
        {
            let mut st = shared.state.lock();
            finish_sync_round(&mut st, round, Ok(()));
            assert_eq!(st.synced, first);
            let sealed = st.sealed.back().unwrap();
            assert_eq!(sealed.segment_id, first.segment_id);
            assert!(
                sealed.needs_sync,
                "uncovered records would never be fsynced"
            );
        }
        log.sync().unwrap();
        let st = shared.state.lock();
        assert!(st.sealed.iter().all(|s| !s.needs_sync));
        assert_eq!(st.synced, last);
    }

    #[test]
    fn sealed_segment_covered_by_a_round_is_no_longer_marked() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _replay) = CommitLog::open(quiet_config(dir.path())).unwrap();
        let shared = Arc::clone(&log.shared);
        let first = log.append(&[1u8; 100]).unwrap();
        let mut last = first;
        while last.segment_id == first.segment_id {
            last = log.append(&[2u8; 500]).unwrap();
        }
        assert!(shared.state.lock().sealed.back().unwrap().needs_sync);
        let fsyncs = log.stats().fsyncs;
        assert_eq!(log.sync().unwrap(), last);
        assert_eq!(log.stats().fsyncs, fsyncs + 2, "sealed and active segments");
        assert!(!shared.state.lock().sealed.back().unwrap().needs_sync);
    }
}
