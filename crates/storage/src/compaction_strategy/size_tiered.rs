//! Size-tiered compaction (Cassandra's `SizeTieredCompactionStrategy`), also used for L0 of
//! LCS and inside the current TWCS window.
//!
//! Sstables are sorted by size and grouped into buckets: a sstable joins the first bucket whose
//! average size `avg` satisfies `bucket_low * avg < size < bucket_high * avg`, or when both it
//! and the bucket average are below `min_sstable_size`; otherwise it starts a new bucket. Buckets
//! with at least `min_threshold` sstables, trimmed to their `max_threshold` hottest members, are
//! candidates; the hottest (sum of read hotness) wins. Without a candidate, the largest sstable
//! worth a tombstone compaction is compacted alone.
//!
//! Deviations, for determinism: buckets are tried in creation order (Cassandra iterates a hash
//! map), and among equally hot buckets the one with the smallest average size wins, which is
//! what Cassandra's comparator comment intends ("compacting the smallest sstables first").

use super::tombstones::worth_dropping_tombstones;
use super::{
    make_task, CompactionTask, SizeTieredOptions, SstableInfo, StcsOptions, TableView, TaskKind,
};

/// Effective bucketing parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tiering {
    bucket_low: f64,
    bucket_high: f64,
    min_sstable_size_bytes: u64,
}

impl Tiering {
    pub(crate) fn from_options(options: &SizeTieredOptions) -> Self {
        Tiering {
            bucket_low: options.effective_bucket_low(),
            bucket_high: options.effective_bucket_high(),
            min_sstable_size_bytes: options.effective_min_sstable_size_bytes(),
        }
    }
}

/// Groups sstables of similar size (Cassandra's `getBuckets`).
pub(crate) fn get_buckets<'a>(
    sstables: &[&'a SstableInfo],
    tiering: Tiering,
) -> Vec<Vec<&'a SstableInfo>> {
    let mut sorted = sstables.to_vec();
    sorted.sort_by_key(|s| (s.size_bytes, s.id));
    // (average size, members)
    let mut buckets: Vec<(u64, Vec<&'a SstableInfo>)> = Vec::new();
    for sstable in sorted {
        let size = sstable.size_bytes;
        let fits = |average: u64| {
            let (size_f, average_f) = (size as f64, average as f64);
            (size_f > average_f * tiering.bucket_low && size_f < average_f * tiering.bucket_high)
                || (size < tiering.min_sstable_size_bytes
                    && average < tiering.min_sstable_size_bytes)
        };
        match buckets.iter_mut().find(|(average, _)| fits(*average)) {
            Some((average, members)) => {
                let count = members.len() as u128;
                let total = u128::from(*average) * count + u128::from(size);
                *average = u64::try_from(total / (count + 1)).unwrap_or(u64::MAX);
                members.push(sstable);
            }
            None => buckets.push((size, vec![sstable])),
        }
    }
    buckets.into_iter().map(|(_, members)| members).collect()
}

fn hotness(sstable: &SstableInfo) -> f64 {
    let h = sstable.hotness_reads_per_sec_per_key;
    if h.is_finite() && h > 0.0 {
        h
    } else {
        0.0
    }
}

fn average_size(sstables: &[&SstableInfo]) -> u128 {
    let total: u128 = sstables.iter().map(|s| u128::from(s.size_bytes)).sum();
    total / sstables.len().max(1) as u128
}

/// Cassandra's `mostInterestingBucket`: trims each bucket to its `max_threshold` hottest
/// sstables, drops those with fewer than `min_threshold`, returns the hottest remaining one.
pub(crate) fn most_interesting_bucket(
    buckets: Vec<Vec<&SstableInfo>>,
    min_threshold: usize,
    max_threshold: usize,
) -> Option<Vec<&SstableInfo>> {
    buckets
        .into_iter()
        .filter_map(|mut bucket| {
            bucket.sort_by(|a, b| {
                hotness(b)
                    .total_cmp(&hotness(a))
                    .then(a.size_bytes.cmp(&b.size_bytes))
                    .then(a.id.cmp(&b.id))
            });
            bucket.truncate(max_threshold);
            (bucket.len() >= min_threshold).then(|| {
                let heat: f64 = bucket.iter().map(|s| hotness(s)).sum();
                (heat, bucket)
            })
        })
        .min_by(|(heat_a, a), (heat_b, b)| {
            heat_b
                .total_cmp(heat_a)
                .then(average_size(a).cmp(&average_size(b)))
                .then(
                    a.iter()
                        .map(|s| s.id)
                        .min()
                        .cmp(&b.iter().map(|s| s.id).min()),
                )
        })
        .map(|(_, bucket)| bucket)
}

/// Next STCS task.
pub(crate) fn next_task(options: &StcsOptions, view: &TableView<'_>) -> Option<CompactionTask> {
    let candidates = view.uncompacting();
    let (min_threshold, max_threshold) = options.common.clamped_thresholds();
    let buckets = get_buckets(&candidates, Tiering::from_options(&options.size_tiered));
    if let Some(bucket) = most_interesting_bucket(buckets, min_threshold, max_threshold) {
        return Some(make_task(
            bucket.iter().map(|s| s.id),
            0,
            None,
            TaskKind::Regular,
        ));
    }
    candidates
        .iter()
        .filter(|s| worth_dropping_tombstones(s, view, &options.common))
        .max_by(|a, b| a.size_bytes.cmp(&b.size_bytes).then(b.id.cmp(&a.id)))
        .map(|s| make_task([s.id], 0, None, TaskKind::TombstoneCleanup))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sized(id: u64, size_bytes: u64) -> SstableInfo {
        SstableInfo {
            id,
            size_bytes,
            max_local_deletion_time_secs: i64::MAX,
            ..Default::default()
        }
    }

    fn ids(bucket: &[&SstableInfo]) -> Vec<u64> {
        let mut ids: Vec<u64> = bucket.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids
    }

    const TIERING: Tiering = Tiering {
        bucket_low: 0.5,
        bucket_high: 1.5,
        min_sstable_size_bytes: 2,
    };

    /// Cassandra's `SizeTieredCompactionStrategyTest.testGetBuckets`.
    #[test]
    fn buckets_like_cassandra_test() {
        let sizes = [1, 4, 8, 8, 4, 1];
        let ssts: Vec<SstableInfo> = sizes
            .iter()
            .enumerate()
            .map(|(i, s)| sized(i as u64, *s))
            .collect();
        let refs: Vec<&SstableInfo> = ssts.iter().collect();
        let buckets = get_buckets(&refs, TIERING);
        assert_eq!(buckets.len(), 3);
        for bucket in &buckets {
            assert_eq!(bucket.len(), 2);
            assert_eq!(bucket[0].size_bytes, bucket[1].size_bytes);
        }

        let sizes = [3, 8, 3, 8, 8, 3];
        let ssts: Vec<SstableInfo> = sizes
            .iter()
            .enumerate()
            .map(|(i, s)| sized(i as u64, *s))
            .collect();
        let refs: Vec<&SstableInfo> = ssts.iter().collect();
        let buckets = get_buckets(&refs, TIERING);
        assert_eq!(buckets.len(), 2);
        assert!(buckets.iter().all(|b| b.len() == 3));

        // Everything below min_sstable_size lands in one bucket.
        let small = Tiering {
            min_sstable_size_bytes: 10,
            ..TIERING
        };
        assert_eq!(get_buckets(&refs, small).len(), 1);
    }

    #[test]
    fn bucket_average_moves_with_members() {
        // 100 starts a bucket; 140 joins (avg 120); 170 joins (< 180, avg 136); 210 does not
        // (>= 204) and starts its own bucket.
        let ssts = [sized(1, 100), sized(2, 140), sized(3, 170), sized(4, 210)];
        let refs: Vec<&SstableInfo> = ssts.iter().collect();
        let buckets = get_buckets(&refs, TIERING);
        assert_eq!(buckets.len(), 2);
        assert_eq!(ids(&buckets[0]), vec![1, 2, 3]);
        assert_eq!(ids(&buckets[1]), vec![4]);
    }

    #[test]
    fn most_interesting_prefers_hot_then_small() {
        let mut ssts: Vec<SstableInfo> = (0..4).map(|i| sized(i, 1000)).collect();
        ssts.extend((4..8).map(|i| sized(i, 100_000)));
        let refs: Vec<&SstableInfo> = ssts.iter().collect();
        // All cold: smallest average wins.
        let chosen = most_interesting_bucket(get_buckets(&refs, TIERING), 4, 32).unwrap();
        assert_eq!(ids(&chosen), vec![0, 1, 2, 3]);
        // Reads on the big sstables make their bucket the hottest.
        for s in &mut ssts[4..] {
            s.hotness_reads_per_sec_per_key = 1.0;
        }
        let refs: Vec<&SstableInfo> = ssts.iter().collect();
        let chosen = most_interesting_bucket(get_buckets(&refs, TIERING), 4, 32).unwrap();
        assert_eq!(ids(&chosen), vec![4, 5, 6, 7]);
        // Below min_threshold nothing qualifies.
        assert!(most_interesting_bucket(get_buckets(&refs, TIERING), 5, 32).is_none());
    }

    #[test]
    fn trimming_keeps_the_hottest() {
        let mut ssts: Vec<SstableInfo> = (0..6).map(|i| sized(i, 1000)).collect();
        ssts[5].hotness_reads_per_sec_per_key = 3.0;
        ssts[4].hotness_reads_per_sec_per_key = 2.0;
        ssts[3].hotness_reads_per_sec_per_key = f64::NAN;
        let refs: Vec<&SstableInfo> = ssts.iter().collect();
        let chosen = most_interesting_bucket(get_buckets(&refs, TIERING), 2, 3).unwrap();
        assert_eq!(ids(&chosen), vec![0, 4, 5]);
    }
}
