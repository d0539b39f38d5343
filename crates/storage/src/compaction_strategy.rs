//! Compaction strategies: Cassandra's size-tiered (STCS), leveled (LCS) and time-window (TWCS)
//! strategies as pure decision logic.
//!
//! Given a table's live sstables (described by [`SstableInfo`]), the set already being
//! compacted and the clock, [`next_task`] decides which sstables to compact next and where the
//! output goes; [`major_compaction_tasks`] builds a user-requested major compaction. Nothing
//! here performs I/O: the storage engine executes the returned [`CompactionTask`]s (and, as
//! Cassandra's `CompactionController` does, decides per row what it can actually purge).
//!
//! Invariants of every returned task (checked by a property test):
//! - inputs are unique ids of sstables from the given slice, none of them in `compacting`;
//! - [`TaskKind::Regular`] tasks have at least two inputs; the single-sstable kinds
//!   ([`TaskKind::TombstoneCleanup`], [`TaskKind::Promote`]) exactly one; all tasks at least one;
//! - `output_level` is 0 for STCS/TWCS and below [`LCS_LEVEL_COUNT`] for LCS.
//!
//! The decision logic mirrors Cassandra (4.x/5.0 code paths); where it cannot (no read
//! meters, no per-key index, no memtables) the approximation is documented on the item. Input
//! metadata is treated as untrusted: duplicate ids keep their first occurrence, inverted token
//! bounds are normalised, LCS levels beyond L8 and overlapping sstables within a level are
//! treated as L0 (Cassandra sends those back to L0), and nothing panics or overflows.
//!
//! Strategies that choose round-robin (LCS) or rate-limit work (TWCS's expired-sstable check)
//! keep a little memory between calls in [`StrategyState`]; [`next_task`] uses a fresh state,
//! [`next_task_with_state`] a caller-owned one (reset it when the table's strategy changes).

mod leveled;
mod options;
mod size_tiered;
mod time_window;
mod tombstones;

use std::collections::HashSet;

pub use leveled::LeveledState;
pub use options::{
    CommonOptions, CompactionStrategyConfig, LcsOptions, ProvideOverlappingTombstones,
    SizeTieredOptions, StcsOptions, StrategyError, StrategyKind, TimestampResolution, TwcsOptions,
    WindowUnit, CASSANDRA_COMPACTION_PACKAGE, DEFAULT_BUCKET_HIGH, DEFAULT_BUCKET_LOW,
    DEFAULT_COMPACTION_WINDOW_SIZE, DEFAULT_EXPIRED_SSTABLE_CHECK_FREQUENCY_SECS,
    DEFAULT_FANOUT_SIZE, DEFAULT_MAX_THRESHOLD, DEFAULT_MIN_SSTABLE_SIZE_BYTES,
    DEFAULT_MIN_THRESHOLD, DEFAULT_SSTABLE_SIZE_IN_MB, DEFAULT_TOMBSTONE_COMPACTION_INTERVAL_SECS,
    DEFAULT_TOMBSTONE_THRESHOLD, LCS_LEVEL_COUNT,
};
pub use time_window::TimeWindowState;

/// One bin of an sstable's tombstone drop-time histogram (Cassandra's
/// `estimatedTombstoneDropTime`): `count` tombstones or expiring cells become purgeable at
/// `local_deletion_time_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TombstoneDropTimeBin {
    /// Local deletion time (seconds since the epoch) of the bin.
    pub local_deletion_time_secs: i64,
    /// Number of tombstones / expiring cells in the bin.
    pub count: u64,
}

/// What the strategies need to know about one live sstable (from its statistics metadata).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SstableInfo {
    /// Generation: unique id of the sstable within the table.
    pub id: u64,
    /// Size on disk, bytes.
    pub size_bytes: u64,
    /// LCS level (0 for flushed sstables and for every sstable under STCS/TWCS).
    pub level: u32,
    /// Token of the first partition.
    pub min_token: i64,
    /// Token of the last partition.
    pub max_token: i64,
    /// Smallest write timestamp. Microseconds for CQL writes; for TWCS it is read in the
    /// table's `timestamp_resolution`.
    pub min_timestamp_micros: i64,
    /// Largest write timestamp (same unit as `min_timestamp_micros`). TWCS windows use it.
    pub max_timestamp_micros: i64,
    /// Largest local deletion time (seconds) of any tombstone or expiring cell; when it is
    /// below `gc_before_secs` every tombstone in the sstable is purgeable. Use `i64::MAX` when
    /// the sstable has no tombstones and no TTLs.
    pub max_local_deletion_time_secs: i64,
    /// Number of tombstones and expiring cells.
    pub tombstone_count: u64,
    /// Number of cells (the denominator of the droppable-tombstone ratio).
    pub cell_count: u64,
    /// Creation time of the data file, seconds since the epoch.
    pub created_at_secs: i64,
    /// Added: read hotness, reads per second per partition key (Cassandra's two-hour read
    /// rate divided by estimated keys). STCS prefers hot buckets. `0.0` when unknown; negative
    /// or NaN values count as `0.0`.
    pub hotness_reads_per_sec_per_key: f64,
    /// Added: drop-time histogram of the tombstones, for an exact droppable-tombstone
    /// estimate. When empty, all `tombstone_count` tombstones count as droppable once
    /// `max_local_deletion_time_secs < gc_before_secs`, none before.
    pub tombstone_drop_times: Vec<TombstoneDropTimeBin>,
}

impl SstableInfo {
    /// Token bounds `(first, last)`, normalised so that `first <= last`.
    pub fn token_bounds(&self) -> (i64, i64) {
        (
            self.min_token.min(self.max_token),
            self.min_token.max(self.max_token),
        )
    }
}

/// Why a task was chosen and how the executor should run it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// Merge the inputs (at least two) into new sstables at `output_level`.
    Regular,
    /// Rewrite a single sstable whose droppable-tombstone ratio exceeds `tombstone_threshold`,
    /// keeping its level.
    TombstoneCleanup,
    /// LCS: move a single sstable that overlaps nothing in the next level to `output_level`.
    /// With `rewrite == false` (`single_sstable_uplevel`) only its level metadata changes;
    /// otherwise it is rewritten like a regular compaction.
    Promote {
        /// Whether the sstable's data is rewritten (true) or only relabelled (false).
        rewrite: bool,
    },
    /// TWCS: every input is fully expired (all data shadowed or TTL'd past gc_before, and
    /// nothing older elsewhere); the executor may simply delete them.
    ExpiredOnly,
    /// A user-requested major compaction of every non-compacting sstable.
    Major,
}

/// A compaction the strategy chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactionTask {
    /// Ids of the input sstables, ascending.
    pub inputs: Vec<u64>,
    /// LCS level of the output sstables (always 0 for STCS/TWCS). For an LCS major
    /// compaction this is the first level written; like Cassandra's
    /// `MajorLeveledCompactionWriter`, the executor moves on to the next level whenever the
    /// bytes written exceed the current level's capacity.
    pub output_level: u32,
    /// Split the output into sstables of about this size (LCS); `None` = one output.
    pub max_output_sstable_bytes: Option<u64>,
    /// Why the task was chosen.
    pub kind: TaskKind,
}

/// Memory the strategies keep between calls (LCS round-robin cursors and starvation counters,
/// TWCS highest window and expired-check clock). Start with `Default` and keep one per table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrategyState {
    /// LCS state.
    pub leveled: LeveledState,
    /// TWCS state.
    pub time_window: TimeWindowState,
}

/// The live sstables of a table, deduplicated, plus what is being compacted.
pub(crate) struct TableView<'a> {
    /// Live sstables in input order, first occurrence of each id.
    pub(crate) live: Vec<&'a SstableInfo>,
    compacting: &'a HashSet<u64>,
    /// Current time, seconds since the epoch.
    pub(crate) now_secs: i64,
    /// Tombstones deleted before this time (seconds) are purgeable.
    pub(crate) gc_before_secs: i64,
}

impl<'a> TableView<'a> {
    fn new(
        sstables: &'a [SstableInfo],
        compacting: &'a HashSet<u64>,
        now_secs: i64,
        gc_before_secs: i64,
    ) -> Self {
        let mut seen = HashSet::with_capacity(sstables.len());
        let live = sstables.iter().filter(|s| seen.insert(s.id)).collect();
        TableView {
            live,
            compacting,
            now_secs,
            gc_before_secs,
        }
    }

    pub(crate) fn is_compacting(&self, sstable: &SstableInfo) -> bool {
        self.compacting.contains(&sstable.id)
    }

    /// Live sstables not being compacted.
    pub(crate) fn uncompacting(&self) -> Vec<&'a SstableInfo> {
        self.live
            .iter()
            .copied()
            .filter(|s| !self.is_compacting(s))
            .collect()
    }
}

/// Whether two inclusive token ranges intersect.
pub(crate) fn ranges_overlap(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

/// Smallest range covering all the sstables; `None` when there are none.
pub(crate) fn token_span<'a>(
    sstables: impl IntoIterator<Item = &'a SstableInfo>,
) -> Option<(i64, i64)> {
    sstables
        .into_iter()
        .map(SstableInfo::token_bounds)
        .reduce(|acc, b| (acc.0.min(b.0), acc.1.max(b.1)))
}

/// Sum of sizes, saturating.
pub(crate) fn total_bytes<'a>(sstables: impl IntoIterator<Item = &'a SstableInfo>) -> u64 {
    sstables
        .into_iter()
        .fold(0u64, |acc, s| acc.saturating_add(s.size_bytes))
}

/// Builds a task with sorted, deduplicated inputs.
pub(crate) fn make_task(
    inputs: impl IntoIterator<Item = u64>,
    output_level: u32,
    max_output_sstable_bytes: Option<u64>,
    kind: TaskKind,
) -> CompactionTask {
    let mut inputs: Vec<u64> = inputs.into_iter().collect();
    inputs.sort_unstable();
    inputs.dedup();
    CompactionTask {
        inputs,
        output_level,
        max_output_sstable_bytes,
        kind,
    }
}

/// The next background compaction for the table, or `None` when nothing needs compacting or
/// background compaction is disabled (`enabled: false`). Uses a fresh [`StrategyState`], so
/// LCS starts its round-robin where Cassandra does after a restart.
///
/// `now_secs` is the current time and `gc_before_secs` the purge horizon (`now -
/// gc_grace_seconds`), both in seconds since the epoch.
pub fn next_task(
    config: &CompactionStrategyConfig,
    sstables: &[SstableInfo],
    compacting: &HashSet<u64>,
    now_secs: i64,
    gc_before_secs: i64,
) -> Option<CompactionTask> {
    next_task_with_state(
        config,
        &mut StrategyState::default(),
        sstables,
        compacting,
        now_secs,
        gc_before_secs,
    )
}

/// [`next_task`] with state kept by the caller between calls for the same table: LCS then
/// walks each level round-robin by token and pulls in starved high-level sstables, and TWCS
/// looks for fully expired sstables at most every `expired_sstable_check_frequency_seconds`.
/// The state assumes every returned task is executed.
pub fn next_task_with_state(
    config: &CompactionStrategyConfig,
    state: &mut StrategyState,
    sstables: &[SstableInfo],
    compacting: &HashSet<u64>,
    now_secs: i64,
    gc_before_secs: i64,
) -> Option<CompactionTask> {
    if !config.common().is_enabled() {
        return None;
    }
    let view = TableView::new(sstables, compacting, now_secs, gc_before_secs);
    match config {
        CompactionStrategyConfig::SizeTiered(options) => size_tiered::next_task(options, &view),
        CompactionStrategyConfig::Leveled(options) => {
            leveled::next_task(options, &mut state.leveled, &view)
        }
        CompactionStrategyConfig::TimeWindow(options) => {
            time_window::next_task(options, &mut state.time_window, &view)
        }
    }
}

/// A user-requested major compaction: every live sstable not already being compacted, in one
/// task of kind [`TaskKind::Major`] (empty when there is nothing to compact). It runs even when
/// background compaction is disabled, as in Cassandra. STCS and TWCS write one output at level
/// 0; LCS writes sstables of `sstable_size_in_mb` starting at level 1 (see
/// [`CompactionTask::output_level`]).
pub fn major_compaction_tasks(
    config: &CompactionStrategyConfig,
    sstables: &[SstableInfo],
    compacting: &HashSet<u64>,
) -> Vec<CompactionTask> {
    let view = TableView::new(sstables, compacting, 0, 0);
    let inputs: Vec<u64> = view.uncompacting().iter().map(|s| s.id).collect();
    if inputs.is_empty() {
        return Vec::new();
    }
    let task = match config {
        CompactionStrategyConfig::SizeTiered(_) | CompactionStrategyConfig::TimeWindow(_) => {
            make_task(inputs, 0, None, TaskKind::Major)
        }
        CompactionStrategyConfig::Leveled(options) => make_task(
            inputs,
            1,
            Some(options.sstable_size_bytes()),
            TaskKind::Major,
        ),
    };
    vec![task]
}

#[cfg(test)]
mod tests;
