//! Tombstone heuristics shared by the strategies: the droppable-tombstone ratio, Cassandra's
//! `worthDroppingTombstones` and `CompactionController.getFullyExpiredSSTables`.
//!
//! Cassandra estimates how many keys of an sstable lie outside its overlapping sstables from
//! its index summary; without a key index we assume keys are spread evenly over the
//! sstable's token range and use the uncovered fraction of that range instead. Memtables are
//! not visible here, so "fully expired" only considers sstables; the executor re-checks
//! before purging, as Cassandra's compaction controller does.

use std::collections::HashSet;

use super::{ranges_overlap, CommonOptions, SstableInfo, TableView};

/// Estimated fraction of the sstable's cells that are droppable tombstones at `gc_before_secs`
/// (Cassandra's `getEstimatedDroppableTombstoneRatio`).
pub(crate) fn droppable_tombstone_ratio(sstable: &SstableInfo, gc_before_secs: i64) -> f64 {
    if sstable.cell_count == 0 {
        return 0.0;
    }
    let droppable = if sstable.tombstone_drop_times.is_empty() {
        if sstable.max_local_deletion_time_secs < gc_before_secs {
            sstable.tombstone_count
        } else {
            0
        }
    } else {
        sstable
            .tombstone_drop_times
            .iter()
            .filter(|bin| bin.local_deletion_time_secs < gc_before_secs)
            .fold(0u64, |acc, bin| acc.saturating_add(bin.count))
    };
    droppable as f64 / sstable.cell_count as f64
}

/// Live sstables (compacting or not) outside `set` whose token range intersects any member.
pub(crate) fn overlapping_live<'a>(
    view: &TableView<'a>,
    set: &[&'a SstableInfo],
) -> Vec<&'a SstableInfo> {
    let members: HashSet<u64> = set.iter().map(|s| s.id).collect();
    view.live
        .iter()
        .copied()
        .filter(|other| !members.contains(&other.id))
        .filter(|other| {
            set.iter()
                .any(|s| ranges_overlap(s.token_bounds(), other.token_bounds()))
        })
        .collect()
}

/// Ids of the `candidates` that are fully expired: every cell purgeable
/// (`max_local_deletion_time < gc_before`) and all their data older than the oldest live data
/// of the `overlapping` sstables and of the other candidates.
pub(crate) fn fully_expired(
    candidates: &[&SstableInfo],
    overlapping: &[&SstableInfo],
    gc_before_secs: i64,
) -> HashSet<u64> {
    let mut min_live_timestamp = i64::MAX;
    for sstable in overlapping {
        if sstable.max_local_deletion_time_secs >= gc_before_secs {
            min_live_timestamp = min_live_timestamp.min(sstable.min_timestamp_micros);
        }
    }
    let mut expired = Vec::new();
    for candidate in candidates {
        if candidate.max_local_deletion_time_secs < gc_before_secs {
            expired.push(*candidate);
        } else {
            min_live_timestamp = min_live_timestamp.min(candidate.min_timestamp_micros);
        }
    }
    expired
        .into_iter()
        .filter(|s| s.max_timestamp_micros < min_live_timestamp)
        .map(|s| s.id)
        .collect()
}

/// Fraction of `sstable`'s token range not covered by any of `others` (in `0.0..=1.0`).
fn uncovered_fraction(sstable: &SstableInfo, others: &[&SstableInfo]) -> f64 {
    let (first, last) = sstable.token_bounds();
    let mut covered: Vec<(i128, i128)> = others
        .iter()
        .map(|o| o.token_bounds())
        .filter(|b| ranges_overlap(*b, (first, last)))
        .map(|(a, b)| (i128::from(a.max(first)), i128::from(b.min(last))))
        .collect();
    covered.sort_unstable();
    let span = i128::from(last) - i128::from(first) + 1;
    let mut covered_len: i128 = 0;
    let mut cursor = i128::from(first);
    for (start, end) in covered {
        let start = start.max(cursor);
        if end >= start {
            covered_len += end - start + 1;
            cursor = end + 1;
        }
    }
    ((span - covered_len) as f64 / span as f64).clamp(0.0, 1.0)
}

/// Cassandra's `worthDroppingTombstones`: old enough, droppable ratio above the threshold, and
/// (unless `unchecked_tombstone_compaction`) the tombstones are not shadowing data elsewhere.
pub(crate) fn worth_dropping_tombstones(
    sstable: &SstableInfo,
    view: &TableView<'_>,
    common: &CommonOptions,
) -> bool {
    let interval_secs =
        i64::try_from(common.effective_tombstone_compaction_interval_secs()).unwrap_or(i64::MAX);
    if view.now_secs < sstable.created_at_secs.saturating_add(interval_secs) {
        return false;
    }
    let threshold = common.effective_tombstone_threshold();
    let ratio = droppable_tombstone_ratio(sstable, view.gc_before_secs);
    if ratio <= threshold {
        return false;
    }
    if common.effective_unchecked_tombstone_compaction() {
        return true;
    }
    let overlaps = overlapping_live(view, &[sstable]);
    if overlaps.is_empty() {
        return true;
    }
    if !fully_expired(&[sstable], &overlaps, view.gc_before_secs).is_empty() {
        return true;
    }
    let (first, last) = sstable.token_bounds();
    if first == last {
        // A single partition, all of it shadowed: too few keys to estimate (Cassandra's
        // "index summary smaller than 2" case).
        return false;
    }
    uncovered_fraction(sstable, &overlaps) * ratio > threshold
}

#[cfg(test)]
mod tests {
    use super::super::TombstoneDropTimeBin;
    use super::*;

    fn sst(id: u64, tokens: (i64, i64)) -> SstableInfo {
        SstableInfo {
            id,
            size_bytes: 100,
            min_token: tokens.0,
            max_token: tokens.1,
            max_local_deletion_time_secs: i64::MAX,
            cell_count: 100,
            ..Default::default()
        }
    }

    #[test]
    fn ratio_uses_histogram_when_present() {
        let mut s = sst(1, (0, 10));
        s.tombstone_count = 40;
        s.max_local_deletion_time_secs = 500;
        assert_eq!(droppable_tombstone_ratio(&s, 400), 0.0);
        assert_eq!(droppable_tombstone_ratio(&s, 501), 0.4);
        s.tombstone_drop_times = vec![
            TombstoneDropTimeBin {
                local_deletion_time_secs: 100,
                count: 10,
            },
            TombstoneDropTimeBin {
                local_deletion_time_secs: 500,
                count: 30,
            },
        ];
        assert_eq!(droppable_tombstone_ratio(&s, 400), 0.1);
        assert_eq!(droppable_tombstone_ratio(&s, 501), 0.4);
        s.cell_count = 0;
        assert_eq!(droppable_tombstone_ratio(&s, 501), 0.0);
    }

    #[test]
    fn uncovered_fraction_of_token_range() {
        let s = sst(1, (0, 99));
        assert_eq!(uncovered_fraction(&s, &[]), 1.0);
        let a = sst(2, (-50, 24));
        let b = sst(3, (20, 49));
        assert!((uncovered_fraction(&s, &[&a, &b]) - 0.5).abs() < 1e-9);
        let all = sst(4, (i64::MIN, i64::MAX));
        assert_eq!(uncovered_fraction(&s, &[&all]), 0.0);
        let huge = sst(5, (i64::MIN, i64::MAX));
        assert_eq!(uncovered_fraction(&huge, &[]), 1.0);
    }

    #[test]
    fn fully_expired_needs_older_data_than_overlaps() {
        let mut old = sst(1, (0, 10));
        old.max_local_deletion_time_secs = 50;
        old.min_timestamp_micros = 10;
        old.max_timestamp_micros = 20;
        let mut newer = sst(2, (5, 15));
        newer.min_timestamp_micros = 30;
        newer.max_timestamp_micros = 40;
        assert_eq!(fully_expired(&[&old], &[&newer], 100), HashSet::from([1]));
        newer.min_timestamp_micros = 15;
        assert!(fully_expired(&[&old], &[&newer], 100).is_empty());
        // Not purgeable yet.
        assert!(fully_expired(&[&old], &[], 50).is_empty());
    }
}
