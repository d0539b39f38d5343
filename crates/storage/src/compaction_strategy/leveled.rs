//! Leveled compaction (Cassandra's `LeveledCompactionStrategy` / `LeveledManifest`).
//!
//! Levels L1..L8 hold non-overlapping sstables of about `sstable_size_in_mb`; level `n` may hold
//! `fanout^n * sstable_size` bytes. Decision order, as in `getCompactionCandidates`:
//! 1. From L8 down to L1, the first level whose score (bytes not being compacted / capacity)
//!    exceeds 1.001 is compacted: if L0 holds more than 32 sstables, size-tier L0 first
//!    (thresholds 4..32, output stays in L0); otherwise take the next sstable of that level
//!    round-robin by token plus the sstables it overlaps in the next level, output one level
//!    up. Every 25 rounds without compacting into the highest non-empty level, one of its
//!    sstables lying within the compaction's token range is pulled in (starvation guard).
//! 2. Otherwise L0: oldest-first (by max timestamp) up to 32 sstables together with the L0
//!    sstables they overlap; when they hold more than one sstable size, the overlapping L1
//!    sstables join and the output goes to L1, else the output stays in L0. At least two
//!    inputs are needed; with none possible, size-tier L0 if it holds more than 32.
//! 3. Otherwise one sstable worth a tombstone compaction, searched from the highest level down.
//!
//! Sstables claiming a level above L8, or overlapping a same-level neighbour, are handled as L0.
//! The last level (L8) is never promoted further (Cassandra would fail); Cassandra's bootstrap
//! mode and suspect sstables do not exist here.

use std::collections::{HashMap, HashSet};

use super::size_tiered::{get_buckets, most_interesting_bucket, Tiering};
use super::tombstones::{droppable_tombstone_ratio, worth_dropping_tombstones};
use super::{
    make_task, ranges_overlap, token_span, total_bytes, CompactionTask, LcsOptions, SstableInfo,
    TableView, TaskKind, LCS_LEVEL_COUNT,
};

/// Most L0 sstables compacted at once, and the L0 size beyond which L0 is size-tiered.
const MAX_COMPACTING_L0: usize = 32;
/// Rounds without compacting into the highest level before starved sstables are pulled in.
const NO_COMPACTION_LIMIT: u32 = 25;
/// Size-tiering thresholds of the L0 fallback (fixed in Cassandra).
const L0_STCS_MIN_THRESHOLD: usize = 4;
const L0_STCS_MAX_THRESHOLD: usize = 32;
/// A level is compacted once its score exceeds this.
const SCORE_TRIGGER: f64 = 1.001;

/// LCS memory between calls: the round-robin cursor of each level (token of the last
/// partition compacted out of it) and, per level, the number of compactions since one last
/// wrote into it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeveledState {
    initialized: bool,
    last_compacted_token: [Option<i64>; LCS_LEVEL_COUNT],
    rounds_without_compaction: [u32; LCS_LEVEL_COUNT],
}

impl LeveledState {
    /// Token where the round-robin over `level` resumes (`None`: from the lowest token).
    pub fn last_compacted_token(&self, level: u32) -> Option<i64> {
        self.last_compacted_token
            .get(level as usize)
            .copied()
            .flatten()
    }

    /// Compactions chosen since the last one writing into `level`.
    pub fn rounds_without_compaction(&self, level: u32) -> u32 {
        self.rounds_without_compaction
            .get(level as usize)
            .copied()
            .unwrap_or(0)
    }
}

/// The sstables by effective level.
struct Manifest<'a> {
    levels: Vec<Vec<&'a SstableInfo>>,
    level_by_id: HashMap<u64, usize>,
}

impl<'a> Manifest<'a> {
    /// Files every sstable under its level; each level above 0 is sorted by first token and
    /// sstables overlapping their predecessor go to L0 (Cassandra's `repairOverlappingSSTables`).
    fn build(live: &[&'a SstableInfo]) -> Self {
        let mut levels: Vec<Vec<&'a SstableInfo>> = vec![Vec::new(); LCS_LEVEL_COUNT];
        for sstable in live {
            let level = sstable.level as usize;
            let level = if level < LCS_LEVEL_COUNT { level } else { 0 };
            levels[level].push(sstable);
        }
        let mut demoted = Vec::new();
        for level in levels.iter_mut().skip(1) {
            level.sort_by_key(|s| (s.token_bounds(), s.id));
            let mut kept: Vec<&'a SstableInfo> = Vec::with_capacity(level.len());
            for sstable in level.drain(..) {
                match kept.last() {
                    Some(previous) if sstable.token_bounds().0 <= previous.token_bounds().1 => {
                        demoted.push(sstable);
                    }
                    _ => kept.push(sstable),
                }
            }
            *level = kept;
        }
        levels[0].extend(demoted);
        let level_by_id = levels
            .iter()
            .enumerate()
            .flat_map(|(level, sstables)| sstables.iter().map(move |s| (s.id, level)))
            .collect();
        Manifest {
            levels,
            level_by_id,
        }
    }

    fn level_of(&self, id: u64) -> usize {
        self.level_by_id.get(&id).copied().unwrap_or(0)
    }

    fn highest_non_empty(&self) -> usize {
        self.levels.iter().rposition(|l| !l.is_empty()).unwrap_or(0)
    }
}

/// A chosen compaction before it becomes a task.
struct Candidate<'a> {
    sstables: Vec<&'a SstableInfo>,
    output_level: usize,
    max_output_sstable_bytes: Option<u64>,
}

struct Planner<'a, 'v> {
    options: &'v LcsOptions,
    view: &'v TableView<'a>,
    manifest: Manifest<'a>,
    sstable_size_bytes: u64,
}

impl<'a> Planner<'a, '_> {
    fn overlapping(range: (i64, i64), sstables: &[&'a SstableInfo]) -> Vec<&'a SstableInfo> {
        sstables
            .iter()
            .copied()
            .filter(|s| ranges_overlap(range, s.token_bounds()))
            .collect()
    }

    /// Cassandra's `getNextLevel`.
    fn next_level(&self, candidates: &[&'a SstableInfo]) -> usize {
        let levels: Vec<usize> = candidates
            .iter()
            .map(|s| self.manifest.level_of(s.id))
            .collect();
        let min = levels.iter().copied().min().unwrap_or(0);
        let max = levels.iter().copied().max().unwrap_or(0);
        if min == 0 && max == 0 && total_bytes(candidates.iter().copied()) < self.sstable_size_bytes
        {
            0
        } else if min == max {
            (max + 1).min(LCS_LEVEL_COUNT - 1)
        } else {
            max
        }
    }

    /// Size-tiering inside L0 when it holds more than 32 sstables.
    fn stcs_in_l0(&self) -> Option<Candidate<'a>> {
        let l0 = &self.manifest.levels[0];
        if l0.len() <= MAX_COMPACTING_L0 {
            return None;
        }
        let uncompacting: Vec<&'a SstableInfo> = l0
            .iter()
            .copied()
            .filter(|s| !self.view.is_compacting(s))
            .collect();
        let buckets = get_buckets(
            &uncompacting,
            Tiering::from_options(&self.options.size_tiered),
        );
        most_interesting_bucket(buckets, L0_STCS_MIN_THRESHOLD, L0_STCS_MAX_THRESHOLD).map(
            |sstables| Candidate {
                sstables,
                output_level: 0,
                max_output_sstable_bytes: None,
            },
        )
    }

    /// Cassandra's `getCandidatesFor(0)`.
    fn l0_candidates(&self) -> Vec<&'a SstableInfo> {
        let l0 = &self.manifest.levels[0];
        let compacting_l0: Vec<&'a SstableInfo> = l0
            .iter()
            .copied()
            .filter(|s| self.view.is_compacting(s))
            .collect();
        let compacting_ids: HashSet<u64> = compacting_l0.iter().map(|s| s.id).collect();
        let compacting_range = token_span(compacting_l0.iter().copied());

        let mut age_sorted = l0.clone();
        age_sorted.sort_by_key(|s| (s.max_timestamp_micros, s.id));
        let mut remaining: Vec<&'a SstableInfo> = age_sorted.clone();
        let mut candidates: Vec<&'a SstableInfo> = Vec::new();
        let mut candidate_ids: HashSet<u64> = HashSet::new();

        for sstable in &age_sorted {
            if candidate_ids.contains(&sstable.id) {
                continue;
            }
            let mut overlapped = vec![*sstable];
            overlapped.extend(
                Self::overlapping(sstable.token_bounds(), &remaining)
                    .into_iter()
                    .filter(|s| s.id != sstable.id),
            );
            if overlapped.iter().any(|s| compacting_ids.contains(&s.id)) {
                continue;
            }
            for candidate in &overlapped {
                let clear = compacting_range
                    .is_none_or(|range| !ranges_overlap(range, candidate.token_bounds()));
                if clear && candidate_ids.insert(candidate.id) {
                    candidates.push(candidate);
                }
            }
            let taken: HashSet<u64> = overlapped.iter().map(|s| s.id).collect();
            remaining.retain(|s| !taken.contains(&s.id));
            if candidates.len() > MAX_COMPACTING_L0 {
                candidates.sort_by_key(|s| (s.max_timestamp_micros, s.id));
                candidates.truncate(MAX_COMPACTING_L0);
                break;
            }
        }

        if total_bytes(candidates.iter().copied()) > self.sstable_size_bytes {
            let Some(span) = token_span(candidates.iter().copied()) else {
                return Vec::new();
            };
            let l1_overlapping = Self::overlapping(span, &self.manifest.levels[1]);
            if l1_overlapping.iter().any(|s| self.view.is_compacting(s)) {
                return Vec::new();
            }
            if !Self::overlapping(span, &compacting_l0).is_empty() {
                return Vec::new();
            }
            candidates.extend(l1_overlapping);
        }
        if candidates.len() < 2 {
            Vec::new()
        } else {
            candidates
        }
    }

    /// Cassandra's `getCandidatesFor(level)` for `level >= 1`: round-robin from the cursor.
    fn level_candidates(&self, level: usize, state: &LeveledState) -> Vec<&'a SstableInfo> {
        let sstables = &self.manifest.levels[level];
        let next_level: &[&'a SstableInfo] = self
            .manifest
            .levels
            .get(level + 1)
            .map_or(&[], |l| l.as_slice());
        let start = state.last_compacted_token[level]
            .and_then(|cursor| sstables.iter().position(|s| s.token_bounds().0 > cursor))
            .unwrap_or(0);
        for offset in 0..sstables.len() {
            let sstable = sstables[(start + offset) % sstables.len()];
            let mut candidates = vec![sstable];
            candidates.extend(Self::overlapping(sstable.token_bounds(), next_level));
            if !candidates.iter().any(|s| self.view.is_compacting(s)) {
                return candidates;
            }
        }
        Vec::new()
    }

    /// Cassandra's `getOverlappingStarvedSSTables`.
    fn add_starved(
        &self,
        target_level: usize,
        mut candidates: Vec<&'a SstableInfo>,
        state: &mut LeveledState,
    ) -> Vec<&'a SstableInfo> {
        for counter in state.rounds_without_compaction.iter_mut().skip(1) {
            *counter = counter.saturating_add(1);
        }
        state.rounds_without_compaction[target_level] = 0;

        let Some(level) = (1..LCS_LEVEL_COUNT)
            .rev()
            .find(|&i| !self.manifest.levels[i].is_empty())
        else {
            return candidates;
        };
        if state.rounds_without_compaction[level] <= NO_COMPACTION_LIMIT {
            return candidates;
        }
        let Some((min, max)) = token_span(candidates.iter().copied()) else {
            return candidates;
        };
        if min == max {
            return candidates;
        }
        let starved = self.manifest.levels[level].iter().find(|s| {
            let (first, last) = s.token_bounds();
            min <= first && last <= max && !self.view.is_compacting(s)
        });
        if let Some(starved) = starved {
            if candidates.iter().all(|c| c.id != starved.id) {
                candidates.push(starved);
            }
        }
        candidates
    }

    /// Cassandra's `getCompactionCandidates`.
    fn candidate(&self, state: &mut LeveledState) -> Option<Candidate<'a>> {
        for level in (1..LCS_LEVEL_COUNT).rev() {
            let sstables = &self.manifest.levels[level];
            if sstables.is_empty() {
                continue;
            }
            let remaining_bytes = total_bytes(
                sstables
                    .iter()
                    .copied()
                    .filter(|s| !self.view.is_compacting(s)),
            );
            let score = remaining_bytes as f64 / self.options.max_bytes_for_level(level as u32);
            if score <= SCORE_TRIGGER {
                continue;
            }
            if let Some(l0) = self.stcs_in_l0() {
                return Some(l0);
            }
            if level == LCS_LEVEL_COUNT - 1 {
                continue;
            }
            let candidates = self.level_candidates(level, state);
            if !candidates.is_empty() {
                let output_level = self.next_level(&candidates);
                let sstables = self.add_starved(output_level, candidates, state);
                return Some(Candidate {
                    sstables,
                    output_level,
                    max_output_sstable_bytes: Some(self.sstable_size_bytes),
                });
            }
        }

        if self.manifest.levels[0].is_empty() {
            return None;
        }
        let candidates = self.l0_candidates();
        if candidates.is_empty() {
            return self.stcs_in_l0();
        }
        Some(Candidate {
            output_level: self.next_level(&candidates),
            sstables: candidates,
            max_output_sstable_bytes: Some(self.sstable_size_bytes),
        })
    }

    /// Cassandra's `findDroppableSSTable`.
    fn tombstone_candidate(&self) -> Option<&'a SstableInfo> {
        let gc_before = self.view.gc_before_secs;
        let threshold = self.options.common.effective_tombstone_threshold();
        for level in (0..=self.manifest.highest_non_empty()).rev() {
            let mut sorted: Vec<(f64, &'a SstableInfo)> = self.manifest.levels[level]
                .iter()
                .map(|s| (droppable_tombstone_ratio(s, gc_before), *s))
                .collect();
            sorted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
            for (ratio, sstable) in sorted {
                if ratio <= threshold {
                    break;
                }
                if !self.view.is_compacting(sstable)
                    && worth_dropping_tombstones(sstable, self.view, &self.options.common)
                {
                    return Some(sstable);
                }
            }
        }
        None
    }
}

/// Cassandra's `calculateLastCompactedKeys`: each level resumes after the last token of the
/// newest sstable in the level above it.
fn initialize(state: &mut LeveledState, manifest: &Manifest<'_>) {
    for level in 0..LCS_LEVEL_COUNT - 1 {
        if let Some(newest) = manifest.levels[level + 1]
            .iter()
            .max_by_key(|s| (s.created_at_secs, s.id))
        {
            state.last_compacted_token[level] = Some(newest.token_bounds().1);
        }
    }
    state.initialized = true;
}

/// Next LCS task.
pub(crate) fn next_task(
    options: &LcsOptions,
    state: &mut LeveledState,
    view: &TableView<'_>,
) -> Option<CompactionTask> {
    let planner = Planner {
        options,
        view,
        manifest: Manifest::build(&view.live),
        sstable_size_bytes: options.sstable_size_bytes(),
    };
    if !state.initialized {
        initialize(state, &planner.manifest);
    }

    let (sstables, task) = match planner.candidate(state) {
        Some(candidate) => {
            let kind = if candidate.sstables.len() == 1 {
                TaskKind::Promote {
                    rewrite: !options.effective_single_sstable_uplevel(),
                }
            } else {
                TaskKind::Regular
            };
            let task = make_task(
                candidate.sstables.iter().map(|s| s.id),
                candidate.output_level as u32,
                candidate.max_output_sstable_bytes,
                kind,
            );
            (candidate.sstables, task)
        }
        None => {
            let sstable = planner.tombstone_candidate()?;
            let level = planner.manifest.level_of(sstable.id);
            let task = make_task(
                [sstable.id],
                level as u32,
                Some(planner.sstable_size_bytes),
                TaskKind::TombstoneCleanup,
            );
            (vec![sstable], task)
        }
    };

    // Cassandra's `replace`: the lowest input level resumes after the compacted range.
    if let (Some(min_level), Some((_, last))) = (
        sstables
            .iter()
            .map(|s| planner.manifest.level_of(s.id))
            .min(),
        token_span(sstables.iter().copied()),
    ) {
        state.last_compacted_token[min_level] = Some(last);
    }
    Some(task)
}

#[cfg(test)]
mod tests {
    use super::super::{next_task_with_state, CompactionStrategyConfig, StrategyState};
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn sst(id: u64, level: u32, size_bytes: u64, tokens: (i64, i64)) -> SstableInfo {
        SstableInfo {
            id,
            level,
            size_bytes,
            min_token: tokens.0,
            max_token: tokens.1,
            min_timestamp_micros: id as i64,
            max_timestamp_micros: id as i64,
            max_local_deletion_time_secs: i64::MAX,
            cell_count: 1000,
            ..Default::default()
        }
    }

    fn lcs(sstable_size_in_mb: u32) -> CompactionStrategyConfig {
        CompactionStrategyConfig::Leveled(LcsOptions {
            sstable_size_in_mb: Some(sstable_size_in_mb),
            ..Default::default()
        })
    }

    fn run(
        config: &CompactionStrategyConfig,
        state: &mut StrategyState,
        sstables: &[SstableInfo],
        compacting: &[u64],
    ) -> Option<CompactionTask> {
        let compacting: HashSet<u64> = compacting.iter().copied().collect();
        next_task_with_state(config, state, sstables, &compacting, 1_000_000, 0)
    }

    #[test]
    fn level_capacity_and_score() {
        let options = LcsOptions::default();
        assert_eq!(options.max_bytes_for_level(0), 4.0 * 160.0 * MIB as f64);
        assert_eq!(options.max_bytes_for_level(1), 10.0 * 160.0 * MIB as f64);
        assert_eq!(options.max_bytes_for_level(2), 100.0 * 160.0 * MIB as f64);
    }

    #[test]
    fn small_l0_stays_in_l0() {
        // Two overlapping flushes totalling less than one sstable size: merged, output L0.
        let ssts = [sst(1, 0, MIB, (0, 100)), sst(2, 0, MIB, (50, 150))];
        let task = run(&lcs(10), &mut StrategyState::default(), &ssts, &[]).unwrap();
        assert_eq!(task.inputs, vec![1, 2]);
        assert_eq!(task.output_level, 0);
        assert_eq!(task.kind, TaskKind::Regular);
        assert_eq!(task.max_output_sstable_bytes, Some(10 * MIB));
        // A single L0 sstable is left alone.
        assert_eq!(
            run(&lcs(10), &mut StrategyState::default(), &ssts[..1], &[]),
            None
        );
    }

    #[test]
    fn l0_goes_to_l1_with_overlapping_l1_only() {
        let ssts = [
            sst(1, 0, 6 * MIB, (100, 200)),
            sst(2, 0, 6 * MIB, (150, 300)),
            sst(10, 1, 5 * MIB, (0, 99)),    // left of the L0 span
            sst(11, 1, 5 * MIB, (120, 180)), // inside
            sst(12, 1, 5 * MIB, (250, 400)), // overlaps the right end
            sst(13, 1, 5 * MIB, (401, 500)), // right of the span
        ];
        let task = run(&lcs(10), &mut StrategyState::default(), &ssts, &[]).unwrap();
        assert_eq!(task.inputs, vec![1, 2, 11, 12]);
        assert_eq!(task.output_level, 1);
        // Busy L1 overlap blocks the L0 compaction.
        assert_eq!(
            run(&lcs(10), &mut StrategyState::default(), &ssts, &[12]),
            None
        );
    }

    #[test]
    fn l0_skips_sstables_overlapping_a_running_l0_compaction() {
        let ssts = [
            sst(1, 0, MIB, (0, 100)),
            sst(2, 0, MIB, (50, 150)),
            sst(3, 0, MIB, (1000, 1100)),
            sst(4, 0, MIB, (1050, 1200)),
        ];
        let task = run(&lcs(10), &mut StrategyState::default(), &ssts, &[1]).unwrap();
        assert_eq!(task.inputs, vec![3, 4]);
        assert_eq!(task.output_level, 0);
    }

    #[test]
    fn over_full_level_promotes_round_robin() {
        // L1 capacity with 1 MiB sstables is 10 MiB; 12 MiB makes its score 1.2.
        let mut ssts: Vec<SstableInfo> = (0..12)
            .map(|i| sst(i, 1, MIB, (i as i64 * 100, i as i64 * 100 + 99)))
            .collect();
        // One L2 sstable overlapping L1 sstables 0 and 1.
        ssts.push(sst(100, 2, MIB, (50, 150)));
        let config = lcs(1);
        let mut state = StrategyState::default();
        // The cursor starts after the newest L2 sstable (last token 150): L1 sstable 2.
        let first = run(&config, &mut state, &ssts, &[]).unwrap();
        assert_eq!(first.inputs, vec![2]);
        assert_eq!(first.output_level, 2);
        assert_eq!(first.kind, TaskKind::Promote { rewrite: true });
        assert_eq!(state.leveled.last_compacted_token(1), Some(299));
        let second = run(&config, &mut state, &ssts, &[2]).unwrap();
        assert_eq!(second.inputs, vec![3]);
        // From the start of the ring, sstable 0 brings its L2 overlap along.
        let mut fresh = StrategyState::default();
        fresh.leveled.initialized = true;
        let task = run(&config, &mut fresh, &ssts, &[]).unwrap();
        assert_eq!(task.inputs, vec![0, 100]);
        assert_eq!(task.kind, TaskKind::Regular);
        // Busy overlap: skip to the next sstable.
        let mut fresh = StrategyState::default();
        fresh.leveled.initialized = true;
        let task = run(&config, &mut fresh, &ssts, &[100]).unwrap();
        assert_eq!(task.inputs, vec![2]);
    }

    #[test]
    fn higher_level_goes_first_even_with_lower_score() {
        // L1 (score 1.1) and L2 (score 1.01) both over capacity: Cassandra works top-down, so L2
        // is compacted first.
        let mut ssts: Vec<SstableInfo> = (0..11)
            .map(|i| sst(i, 1, MIB, (i as i64 * 10, i as i64 * 10 + 9)))
            .collect();
        ssts.extend(
            (0..101).map(|i| sst(1000 + i, 2, MIB, (i as i64 * 1000, i as i64 * 1000 + 999))),
        );
        let mut state = StrategyState::default();
        state.leveled.initialized = true;
        let task = run(&lcs(1), &mut state, &ssts, &[]).unwrap();
        assert_eq!(task.output_level, 3);
        assert_eq!(task.inputs, vec![1000]);
    }

    #[test]
    fn single_sstable_uplevel_only_relabels() {
        let ssts: Vec<SstableInfo> = (0..12)
            .map(|i| sst(i, 1, MIB, (i as i64 * 100, i as i64 * 100 + 99)))
            .collect();
        let config = CompactionStrategyConfig::Leveled(LcsOptions {
            sstable_size_in_mb: Some(1),
            single_sstable_uplevel: Some(true),
            ..Default::default()
        });
        let task = run(&config, &mut StrategyState::default(), &ssts, &[]).unwrap();
        assert_eq!(task.kind, TaskKind::Promote { rewrite: false });
        assert_eq!(task.output_level, 2);
    }

    #[test]
    fn crowded_l0_falls_back_to_size_tiering() {
        // 40 similar L0 sstables and an over-full L1: STCS in L0 comes first.
        let mut ssts: Vec<SstableInfo> = (0..40).map(|i| sst(i, 0, MIB, (0, 1000))).collect();
        ssts.extend((0..12).map(|i| sst(100 + i, 1, MIB, (i as i64 * 10, i as i64 * 10 + 9))));
        let task = run(&lcs(1), &mut StrategyState::default(), &ssts, &[]).unwrap();
        assert_eq!(task.inputs.len(), 32);
        assert!(task.inputs.iter().all(|id| *id < 40));
        assert_eq!(task.output_level, 0);
        assert_eq!(task.max_output_sstable_bytes, None);
        // With 32 or fewer L0 sstables the level compaction proceeds.
        let task = run(&lcs(1), &mut StrategyState::default(), &ssts[8..], &[]).unwrap();
        assert_eq!(task.output_level, 2);
    }

    #[test]
    fn l0_batch_is_limited_to_32_oldest() {
        let ssts: Vec<SstableInfo> = (0..33).map(|i| sst(i, 0, MIB, (0, 1000))).collect();
        let task = run(&lcs(1), &mut StrategyState::default(), &ssts, &[]).unwrap();
        assert_eq!(task.inputs, (0..32).collect::<Vec<u64>>());
        assert_eq!(task.output_level, 1);
    }

    #[test]
    fn overlapping_same_level_sstables_are_treated_as_l0() {
        let ssts = [
            sst(1, 1, MIB, (0, 100)),
            sst(2, 1, MIB, (50, 150)),
            sst(3, 20, MIB, (500, 600)),
        ];
        let manifest = Manifest::build(&ssts.iter().collect::<Vec<_>>());
        assert_eq!(manifest.level_of(1), 1);
        assert_eq!(manifest.level_of(2), 0);
        assert_eq!(manifest.level_of(3), 0);
    }

    #[test]
    fn tombstone_cleanup_keeps_level() {
        let mut ssts = vec![sst(1, 1, MIB, (0, 100)), sst(2, 1, MIB, (200, 300))];
        ssts[1].tombstone_count = 500;
        ssts[1].max_local_deletion_time_secs = 10;
        let compacting = HashSet::new();
        let task = next_task_with_state(
            &lcs(10),
            &mut StrategyState::default(),
            &ssts,
            &compacting,
            1_000_000,
            100,
        )
        .unwrap();
        assert_eq!(task.inputs, vec![2]);
        assert_eq!(task.kind, TaskKind::TombstoneCleanup);
        assert_eq!(task.output_level, 1);
        // Too young for a tombstone compaction.
        assert_eq!(
            next_task_with_state(
                &lcs(10),
                &mut StrategyState::default(),
                &ssts,
                &compacting,
                86_399,
                100,
            ),
            None
        );
    }

    #[test]
    fn starved_high_level_sstable_is_pulled_in() {
        // L1 over capacity keeps compacting into L2; L3 holds a small sstable within range.
        let mut ssts: Vec<SstableInfo> = (0..12)
            .map(|i| sst(i, 1, MIB, (i as i64 * 100, i as i64 * 100 + 99)))
            .collect();
        ssts.push(sst(300, 3, MIB, (10, 20)));
        let config = lcs(1);
        let mut state = StrategyState::default();
        state.leveled.initialized = true;
        let mut pulled = None;
        for round in 0..40 {
            let task = run(&config, &mut state, &ssts, &[]).unwrap();
            if task.inputs.contains(&300) {
                pulled = Some((round, task));
                break;
            }
        }
        let (round, task) = pulled.expect("starved sstable never compacted");
        // L1 is walked round-robin (12 sstables); the counter of L3 passes 25 at round 25, and
        // the first later round whose range contains the L3 sstable is round 36 (sstable 0).
        assert_eq!(round, 36);
        assert_eq!(task.inputs, vec![0, 300]);
        assert_eq!(task.output_level, 2);
    }
}
