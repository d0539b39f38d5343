//! Time-window compaction (Cassandra's `TimeWindowCompactionStrategy`).
//!
//! Each sstable belongs to the window (of `compaction_window_size` units) containing its max
//! timestamp. The current window is the newest one seen, not the wall clock (as in Cassandra,
//! where it is the highest window seen so far). Windows are examined newest first:
//! - the current window, once it holds `min_threshold` sstables, is size-tiered (STCS);
//! - an older window holding at least two sstables is compacted whole (its `max_threshold`
//!   smallest sstables at a time), so each older window converges to one sstable.
//!
//! Fully expired sstables (found at most every `expired_sstable_check_frequency_seconds`) are
//! added to whatever is chosen, or compacted on their own so the executor can drop them. With
//! nothing else to do, the smallest sstable worth a tombstone compaction is compacted alone,
//! but only when `tombstone_threshold` or `tombstone_compaction_interval` was set explicitly.
//!
//! Window starts are computed with floor division, which matches Cassandra for all
//! non-negative timestamps.

use std::collections::{BTreeMap, HashSet};

use super::size_tiered::{get_buckets, most_interesting_bucket, Tiering};
use super::tombstones::{fully_expired, overlapping_live, worth_dropping_tombstones};
use super::{make_task, CompactionTask, SstableInfo, TableView, TaskKind, TwcsOptions};

/// TWCS memory between calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeWindowState {
    highest_window_start_secs: Option<i64>,
    last_expired_check_secs: Option<i64>,
}

impl TimeWindowState {
    /// Start (seconds since the epoch) of the newest window seen so far.
    pub fn highest_window_start_secs(&self) -> Option<i64> {
        self.highest_window_start_secs
    }

    /// When fully expired sstables were last looked for (seconds since the epoch).
    pub fn last_expired_check_secs(&self) -> Option<i64> {
        self.last_expired_check_secs
    }
}

/// Start of the window containing the sstable's max timestamp, seconds since the epoch.
fn window_start_secs(sstable: &SstableInfo, options: &TwcsOptions) -> i64 {
    let secs = options
        .effective_timestamp_resolution()
        .to_secs(sstable.max_timestamp_micros);
    let window = options.window_secs().max(1);
    secs - secs.rem_euclid(window)
}

/// Cassandra's `newestBucket`: the sstables to compact among the non-expired candidates.
fn newest_bucket<'a>(
    candidates: &[&'a SstableInfo],
    options: &TwcsOptions,
    current_window: i64,
) -> Option<Vec<&'a SstableInfo>> {
    let (min_threshold, max_threshold) = options.common.clamped_thresholds();
    let mut windows: BTreeMap<i64, Vec<&'a SstableInfo>> = BTreeMap::new();
    for sstable in candidates {
        windows
            .entry(window_start_secs(sstable, options))
            .or_default()
            .push(sstable);
    }
    let tiering = Tiering::from_options(&options.size_tiered);
    for (window, sstables) in windows.into_iter().rev() {
        if window >= current_window && sstables.len() >= min_threshold {
            let buckets = get_buckets(&sstables, tiering);
            if let Some(bucket) = most_interesting_bucket(buckets, min_threshold, max_threshold) {
                return Some(bucket);
            }
        } else if window < current_window && sstables.len() >= 2 {
            let mut smallest = sstables;
            smallest.sort_by_key(|s| (s.size_bytes, s.id));
            smallest.truncate(max_threshold);
            return Some(smallest);
        }
    }
    None
}

/// Next TWCS task.
pub(crate) fn next_task(
    options: &TwcsOptions,
    state: &mut TimeWindowState,
    view: &TableView<'_>,
) -> Option<CompactionTask> {
    let uncompacting = view.uncompacting();
    if uncompacting.is_empty() {
        return None;
    }

    let check_due = state.last_expired_check_secs.is_none_or(|last| {
        view.now_secs.saturating_sub(last)
            > i64::try_from(options.effective_expired_check_frequency_secs()).unwrap_or(i64::MAX)
    });
    let expired: HashSet<u64> = if check_due {
        state.last_expired_check_secs = Some(view.now_secs);
        let overlapping = if options.unsafe_aggressive_sstable_expiration == Some(true) {
            Vec::new()
        } else {
            overlapping_live(view, &uncompacting)
        };
        fully_expired(&uncompacting, &overlapping, view.gc_before_secs)
    } else {
        HashSet::new()
    };

    let highest_live = view
        .live
        .iter()
        .map(|s| window_start_secs(s, options))
        .max();
    let current_window = match (state.highest_window_start_secs, highest_live) {
        (Some(seen), Some(live)) => seen.max(live),
        (seen, live) => seen.or(live).unwrap_or(i64::MIN),
    };
    state.highest_window_start_secs = Some(current_window);

    let candidates: Vec<&SstableInfo> = uncompacting
        .iter()
        .copied()
        .filter(|s| !expired.contains(&s.id))
        .collect();
    let (chosen, kind) = match newest_bucket(&candidates, options, current_window) {
        Some(bucket) => (bucket.iter().map(|s| s.id).collect(), TaskKind::Regular),
        None => {
            let tombstone = options
                .tombstone_compactions_enabled()
                .then(|| {
                    candidates
                        .iter()
                        .filter(|s| worth_dropping_tombstones(s, view, &options.common))
                        .min_by_key(|s| (s.size_bytes, s.id))
                })
                .flatten();
            match tombstone {
                Some(s) => (vec![s.id], TaskKind::TombstoneCleanup),
                None => (Vec::new(), TaskKind::ExpiredOnly),
            }
        }
    };

    let kind = match (chosen.is_empty(), expired.is_empty()) {
        (true, true) => return None,
        (true, false) => TaskKind::ExpiredOnly,
        (false, true) => kind,
        (false, false) => TaskKind::Regular,
    };
    Some(make_task(chosen.into_iter().chain(expired), 0, None, kind))
}

#[cfg(test)]
mod tests {
    use super::super::{
        next_task_with_state, CommonOptions, CompactionStrategyConfig, StrategyState, WindowUnit,
    };
    use super::*;

    const HOUR_MICROS: i64 = 3_600 * 1_000_000;

    /// An sstable written during hour `hour` (max timestamp in that hour).
    fn at_hour(id: u64, hour: i64, size_bytes: u64) -> SstableInfo {
        SstableInfo {
            id,
            size_bytes,
            min_token: 0,
            max_token: 1000,
            min_timestamp_micros: hour * HOUR_MICROS,
            max_timestamp_micros: hour * HOUR_MICROS + 1,
            max_local_deletion_time_secs: i64::MAX,
            cell_count: 100,
            ..Default::default()
        }
    }

    fn hourly() -> TwcsOptions {
        TwcsOptions {
            compaction_window_unit: Some(WindowUnit::Hours),
            ..Default::default()
        }
    }

    fn run(
        options: &TwcsOptions,
        state: &mut StrategyState,
        sstables: &[SstableInfo],
        compacting: &[u64],
        now_secs: i64,
        gc_before_secs: i64,
    ) -> Option<CompactionTask> {
        let compacting: HashSet<u64> = compacting.iter().copied().collect();
        next_task_with_state(
            &CompactionStrategyConfig::TimeWindow(options.clone()),
            state,
            sstables,
            &compacting,
            now_secs,
            gc_before_secs,
        )
    }

    #[test]
    fn windows_follow_unit_and_size() {
        let mut options = hourly();
        options.compaction_window_size = Some(6);
        let s = at_hour(1, 13, 1);
        assert_eq!(window_start_secs(&s, &options), 12 * 3600);
        options.compaction_window_unit = Some(WindowUnit::Days);
        options.compaction_window_size = None;
        assert_eq!(window_start_secs(&at_hour(1, 30, 1), &options), 86_400);
        options.timestamp_resolution = Some(super::super::TimestampResolution::Milliseconds);
        let mut ms = at_hour(1, 0, 1);
        ms.max_timestamp_micros = 2 * 86_400 * 1000 + 5;
        assert_eq!(window_start_secs(&ms, &options), 2 * 86_400);
    }

    #[test]
    fn current_window_uses_stcs_with_min_threshold() {
        let ssts: Vec<SstableInfo> = (0..3).map(|i| at_hour(i, 10, 1000)).collect();
        let mut state = StrategyState::default();
        assert_eq!(run(&hourly(), &mut state, &ssts, &[], 0, 0), None);
        let mut ssts = ssts;
        ssts.push(at_hour(3, 10, 1000));
        let task = run(&hourly(), &mut state, &ssts, &[], 0, 0).unwrap();
        assert_eq!(task.inputs, vec![0, 1, 2, 3]);
        assert_eq!(task.kind, TaskKind::Regular);
        assert_eq!(task.output_level, 0);
    }

    #[test]
    fn older_windows_compact_to_one_newest_first() {
        let ssts = [
            at_hour(1, 7, 10),
            at_hour(2, 7, 20_000),
            at_hour(3, 8, 10),
            at_hour(4, 8, 5_000_000),
            at_hour(5, 9, 10), // current window, a single sstable
        ];
        let mut state = StrategyState::default();
        let task = run(&hourly(), &mut state, &ssts, &[], 0, 0).unwrap();
        assert_eq!(task.inputs, vec![3, 4]);
        // Once hour 8 is busy, hour 7 is next.
        let task = run(&hourly(), &mut state, &ssts, &[3], 0, 0).unwrap();
        assert_eq!(task.inputs, vec![1, 2]);
        // A lone sstable in an old window is left alone.
        assert_eq!(run(&hourly(), &mut state, &ssts, &[3, 1], 0, 0), None);
    }

    #[test]
    fn old_window_is_trimmed_to_smallest_max_threshold() {
        let mut options = hourly();
        options.common = CommonOptions {
            min_threshold: 2,
            max_threshold: 3,
            ..CommonOptions::default()
        };
        let mut ssts: Vec<SstableInfo> = (0..5).map(|i| at_hour(i, 1, 100 - i)).collect();
        ssts.push(at_hour(9, 2, 1));
        let task = run(&options, &mut StrategyState::default(), &ssts, &[], 0, 0).unwrap();
        assert_eq!(task.inputs, vec![2, 3, 4]);
    }

    #[test]
    fn highest_window_seen_is_remembered() {
        // Hour 5 was seen; later only hour-4 sstables are left: hour 4 is an old window.
        let mut state = StrategyState::default();
        let early = [at_hour(1, 4, 10), at_hour(2, 4, 10), at_hour(3, 5, 10)];
        assert_eq!(
            run(&hourly(), &mut state, &early, &[], 0, 0).map(|t| t.inputs),
            Some(vec![1, 2])
        );
        let later = [at_hour(1, 4, 10), at_hour(2, 4, 10)];
        assert_eq!(
            run(&hourly(), &mut state, &later, &[], 0, 0).map(|t| t.inputs),
            Some(vec![1, 2])
        );
        assert_eq!(
            state.time_window.highest_window_start_secs(),
            Some(5 * 3600)
        );
        // A fresh state treats hour 4 as current: 2 < min_threshold, nothing to do.
        assert_eq!(
            run(&hourly(), &mut StrategyState::default(), &later, &[], 0, 0),
            None
        );
    }

    #[test]
    fn fully_expired_sstables_are_dropped() {
        let mut expired = at_hour(1, 1, 10);
        expired.max_local_deletion_time_secs = 100;
        let live = at_hour(2, 9, 10);
        let ssts = [expired, live];
        let mut state = StrategyState::default();
        let task = run(&hourly(), &mut state, &ssts, &[], 1_000, 500).unwrap();
        assert_eq!(task.inputs, vec![1]);
        assert_eq!(task.kind, TaskKind::ExpiredOnly);
        // The next check is only due after expired_sstable_check_frequency_seconds.
        assert_eq!(run(&hourly(), &mut state, &ssts, &[], 1_300, 500), None);
        assert!(run(&hourly(), &mut state, &ssts, &[], 1_601, 500).is_some());
        // Not expired while overlapping newer data is older than its newest write.
        let mut shadowed = ssts.clone();
        shadowed[1].min_timestamp_micros = 0;
        assert_eq!(
            run(
                &hourly(),
                &mut StrategyState::default(),
                &shadowed,
                &[],
                1_000,
                500
            ),
            None
        );
    }

    #[test]
    fn tombstone_compaction_needs_explicit_option() {
        let mut s = at_hour(1, 1, 10);
        s.tombstone_count = 90;
        s.max_local_deletion_time_secs = 100;
        s.max_timestamp_micros = i64::MAX; // newer than anything: never fully expired
        let mut bigger = s.clone();
        bigger.id = 2;
        bigger.size_bytes = 20;
        bigger.min_token = 5_000;
        bigger.max_token = 6_000;
        let ssts = [s, bigger];
        assert_eq!(
            run(
                &hourly(),
                &mut StrategyState::default(),
                &ssts,
                &[],
                1_000_000,
                500
            ),
            None
        );
        let mut options = hourly();
        options.common.tombstone_threshold = Some(0.2);
        let task = run(
            &options,
            &mut StrategyState::default(),
            &ssts,
            &[],
            1_000_000,
            500,
        )
        .unwrap();
        // TWCS takes the smallest candidate.
        assert_eq!(task.inputs, vec![1]);
        assert_eq!(task.kind, TaskKind::TombstoneCleanup);
    }
}
