//! Cross-strategy tests: the public entry points and the task invariants (property tests).

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;

use super::*;

const MIB: u64 = 1024 * 1024;

fn sstable(id: u64, size_bytes: u64) -> SstableInfo {
    SstableInfo {
        id,
        size_bytes,
        min_token: -1000,
        max_token: 1000,
        max_local_deletion_time_secs: i64::MAX,
        cell_count: 1000,
        ..Default::default()
    }
}

fn stcs() -> CompactionStrategyConfig {
    CompactionStrategyConfig::default()
}

#[test]
fn stcs_compacts_a_bucket_at_min_threshold() {
    let mut ssts: Vec<SstableInfo> = (1..=3).map(|i| sstable(i, 100 * MIB)).collect();
    assert_eq!(next_task(&stcs(), &ssts, &HashSet::new(), 0, 0), None);
    ssts.push(sstable(4, 120 * MIB));
    let task = next_task(&stcs(), &ssts, &HashSet::new(), 0, 0).unwrap();
    assert_eq!(task.inputs, vec![1, 2, 3, 4]);
    assert_eq!(task.kind, TaskKind::Regular);
    assert_eq!(task.output_level, 0);
    assert_eq!(task.max_output_sstable_bytes, None);
    // One of them busy: below the threshold again.
    assert_eq!(next_task(&stcs(), &ssts, &HashSet::from([2]), 0, 0), None);
}

#[test]
fn stcs_groups_small_sstables_and_respects_max_threshold() {
    // 40 flushes of various small sizes all fall below min_sstable_size: one bucket, cut to 32.
    let ssts: Vec<SstableInfo> = (0..40).map(|i| sstable(i, 1 + i * 1000)).collect();
    let task = next_task(&stcs(), &ssts, &HashSet::new(), 0, 0).unwrap();
    assert_eq!(task.inputs.len(), 32);
    // Cold buckets are trimmed keeping the smallest.
    assert_eq!(task.inputs, (0..32).collect::<Vec<u64>>());
}

#[test]
fn stcs_picks_smallest_bucket_among_cold_ones() {
    let mut ssts: Vec<SstableInfo> = (0..4).map(|i| sstable(i, 1000 * MIB)).collect();
    ssts.extend((10..14).map(|i| sstable(i, 100 * MIB)));
    ssts.extend((20..23).map(|i| sstable(i, 10 * MIB)));
    let task = next_task(&stcs(), &ssts, &HashSet::new(), 0, 0).unwrap();
    assert_eq!(task.inputs, vec![10, 11, 12, 13]);
}

#[test]
fn stcs_tombstone_cleanup_of_largest_candidate() {
    let mut ssts = vec![
        sstable(1, 10 * MIB),
        sstable(2, 20 * MIB),
        sstable(3, 30 * MIB),
    ];
    for s in &mut ssts[..2] {
        s.tombstone_count = 500;
        s.max_local_deletion_time_secs = 50;
        s.min_token = s.id as i64 * 10_000;
        s.max_token = s.id as i64 * 10_000 + 100;
    }
    let now = 200_000;
    let task = next_task(&stcs(), &ssts, &HashSet::new(), now, 100).unwrap();
    assert_eq!(task.inputs, vec![2]);
    assert_eq!(task.kind, TaskKind::TombstoneCleanup);
    // Ratio below the threshold: nothing.
    let mut quiet = ssts.clone();
    for s in &mut quiet {
        s.tombstone_count = 100;
    }
    assert_eq!(next_task(&stcs(), &quiet, &HashSet::new(), now, 100), None);
    // Overlapping data with older writes shadows the tombstones unless unchecked.
    let mut shadowed = ssts.clone();
    for s in &mut shadowed[..2] {
        s.min_token = -1000;
        s.max_token = 1000;
        s.min_timestamp_micros = 10;
        s.max_timestamp_micros = 10;
    }
    assert_eq!(
        next_task(&stcs(), &shadowed, &HashSet::new(), now, 100),
        None
    );
    let unchecked = CompactionStrategyConfig::SizeTiered(StcsOptions {
        common: CommonOptions {
            unchecked_tombstone_compaction: Some(true),
            ..Default::default()
        },
        ..Default::default()
    });
    let task = next_task(&unchecked, &shadowed, &HashSet::new(), now, 100).unwrap();
    assert_eq!(task.inputs, vec![2]);
}

#[test]
fn disabled_strategy_has_no_background_work_but_allows_major() {
    let config = CompactionStrategyConfig::from_cql_options(&BTreeMap::from([
        (
            "class".to_owned(),
            "SizeTieredCompactionStrategy".to_owned(),
        ),
        ("enabled".to_owned(), "false".to_owned()),
    ]))
    .unwrap();
    let ssts: Vec<SstableInfo> = (0..8).map(|i| sstable(i, MIB)).collect();
    assert_eq!(next_task(&config, &ssts, &HashSet::new(), 0, 0), None);
    let tasks = major_compaction_tasks(&config, &ssts, &HashSet::from([3]));
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].inputs, vec![0, 1, 2, 4, 5, 6, 7]);
    assert_eq!(tasks[0].kind, TaskKind::Major);
    assert_eq!(tasks[0].output_level, 0);
}

#[test]
fn major_compaction_per_strategy() {
    let mut ssts: Vec<SstableInfo> = (0..3).map(|i| sstable(i, MIB)).collect();
    ssts[2].level = 2;
    let lcs = CompactionStrategyConfig::Leveled(LcsOptions::default());
    let tasks = major_compaction_tasks(&lcs, &ssts, &HashSet::new());
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].inputs, vec![0, 1, 2]);
    assert_eq!(tasks[0].output_level, 1);
    assert_eq!(tasks[0].max_output_sstable_bytes, Some(160 * MIB));
    let twcs = CompactionStrategyConfig::TimeWindow(TwcsOptions::default());
    assert_eq!(
        major_compaction_tasks(&twcs, &ssts, &HashSet::new())[0].output_level,
        0
    );
    assert!(major_compaction_tasks(&twcs, &ssts, &HashSet::from([0, 1, 2])).is_empty());
    assert!(major_compaction_tasks(&twcs, &[], &HashSet::new()).is_empty());
}

#[test]
fn duplicate_ids_and_inverted_bounds_are_tolerated() {
    let mut ssts: Vec<SstableInfo> = (0..4).map(|i| sstable(i, MIB)).collect();
    ssts.push(sstable(0, MIB));
    ssts[1].min_token = 1000;
    ssts[1].max_token = -1000;
    let task = next_task(&stcs(), &ssts, &HashSet::new(), 0, 0).unwrap();
    assert_eq!(task.inputs, vec![0, 1, 2, 3]);
}

// ---- property tests -------------------------------------------------------------------------

fn arb_sstable(id: u64) -> impl Strategy<Value = SstableInfo> {
    (
        prop_oneof![1u64..(4 * MIB), (4 * MIB)..(400 * MIB)],
        prop_oneof![4 => Just(0u32), 3 => 1u32..4, 1 => 4u32..20],
        any::<i64>(),
        0i64..100_000,
        0i64..(30 * 86_400 * 1_000_000),
        (
            0u64..2_000,
            1u64..2_000,
            prop_oneof![Just(i64::MAX), 0i64..2_000_000],
            0i64..2_000_000,
            prop_oneof![3 => Just(0.0f64), 1 => 0.0f64..10.0],
        ),
    )
        .prop_map(
            move |(
                size_bytes,
                level,
                start,
                width,
                max_ts,
                (tombstones, cells, ldt, created, hot),
            )| {
                SstableInfo {
                    id,
                    size_bytes,
                    level,
                    min_token: start,
                    max_token: start.saturating_add(width),
                    min_timestamp_micros: max_ts / 2,
                    max_timestamp_micros: max_ts,
                    max_local_deletion_time_secs: ldt,
                    tombstone_count: tombstones,
                    cell_count: cells,
                    created_at_secs: created,
                    hotness_reads_per_sec_per_key: hot,
                    tombstone_drop_times: Vec::new(),
                }
            },
        )
}

fn arb_table() -> impl Strategy<Value = (Vec<SstableInfo>, HashSet<u64>)> {
    (0usize..70).prop_flat_map(|n| {
        let sstables: Vec<_> = (0..n as u64).map(arb_sstable).collect();
        (sstables, proptest::collection::hash_set(0u64..80, 0..10))
    })
}

fn arb_common() -> impl Strategy<Value = CommonOptions> {
    (
        2u32..8,
        0u32..40,
        proptest::option::of(0.0f32..1.0),
        any::<bool>(),
    )
        .prop_map(|(min, extra, threshold, unchecked)| CommonOptions {
            min_threshold: min,
            max_threshold: min + extra,
            tombstone_threshold: threshold,
            tombstone_compaction_interval_secs: Some(3_600),
            unchecked_tombstone_compaction: Some(unchecked),
            ..Default::default()
        })
}

fn arb_config() -> impl Strategy<Value = CompactionStrategyConfig> {
    (
        arb_common(),
        0u8..3,
        1u32..200,
        1u32..12,
        any::<bool>(),
        0u8..3,
    )
        .prop_map(
            |(common, which, size_mb, fanout_or_window, uplevel, unit)| match which {
                0 => CompactionStrategyConfig::SizeTiered(StcsOptions {
                    common,
                    ..Default::default()
                }),
                1 => CompactionStrategyConfig::Leveled(LcsOptions {
                    common,
                    sstable_size_in_mb: Some(size_mb % 8 + 1),
                    fanout_size: Some(fanout_or_window),
                    single_sstable_uplevel: Some(uplevel),
                    ..Default::default()
                }),
                _ => CompactionStrategyConfig::TimeWindow(TwcsOptions {
                    common,
                    compaction_window_unit: Some(
                        [WindowUnit::Minutes, WindowUnit::Hours, WindowUnit::Days][unit as usize],
                    ),
                    compaction_window_size: Some(fanout_or_window),
                    ..Default::default()
                }),
            },
        )
}

fn check_task(
    task: &CompactionTask,
    sstables: &[SstableInfo],
    compacting: &HashSet<u64>,
    config: &CompactionStrategyConfig,
) -> Result<(), TestCaseError> {
    let ids: HashSet<u64> = sstables.iter().map(|s| s.id).collect();
    let unique: HashSet<u64> = task.inputs.iter().copied().collect();
    prop_assert_eq!(
        unique.len(),
        task.inputs.len(),
        "duplicate inputs in {:?}",
        task
    );
    prop_assert!(!task.inputs.is_empty());
    for id in &task.inputs {
        prop_assert!(ids.contains(id), "unknown input {} in {:?}", id, task);
        prop_assert!(
            !compacting.contains(id),
            "compacting input {} in {:?}",
            id,
            task
        );
    }
    match task.kind {
        TaskKind::Regular => prop_assert!(task.inputs.len() >= 2, "{:?}", task),
        TaskKind::TombstoneCleanup | TaskKind::Promote { .. } => {
            prop_assert_eq!(task.inputs.len(), 1, "{:?}", task)
        }
        TaskKind::ExpiredOnly | TaskKind::Major => {}
    }
    match config {
        CompactionStrategyConfig::Leveled(_) => {
            prop_assert!((task.output_level as usize) < LCS_LEVEL_COUNT)
        }
        _ => prop_assert_eq!(task.output_level, 0),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Tasks never include compacting sstables or duplicates, and merges have >= 2 inputs,
    /// including over several rounds where chosen sstables become compacting.
    #[test]
    fn tasks_respect_invariants(
        config in arb_config(),
        (sstables, compacting) in arb_table(),
        now_secs in 0i64..3_000_000,
        gc_grace_secs in 0i64..1_000_000,
    ) {
        let gc_before = now_secs - gc_grace_secs;
        if let Some(task) = next_task(&config, &sstables, &compacting, now_secs, gc_before) {
            check_task(&task, &sstables, &compacting, &config)?;
        }
        let mut state = StrategyState::default();
        let mut busy = compacting.clone();
        for round in 0..6 {
            let now = now_secs + round * 1_000;
            match next_task_with_state(&config, &mut state, &sstables, &busy, now, gc_before) {
                Some(task) => {
                    check_task(&task, &sstables, &busy, &config)?;
                    busy.extend(task.inputs.iter().copied());
                }
                None => break,
            }
        }
        for task in major_compaction_tasks(&config, &sstables, &compacting) {
            check_task(&task, &sstables, &compacting, &config)?;
            prop_assert_eq!(task.kind, TaskKind::Major);
        }
    }

    /// What `to_cql_options` shows parses back to the same config.
    #[test]
    fn cql_options_round_trip(config in arb_config()) {
        // Hand-built configs may carry values the parser rejects; normalise through the
        // parser first, as a schema would.
        if let Ok(parsed) = CompactionStrategyConfig::from_cql_options(&config.to_cql_options()) {
            let again = CompactionStrategyConfig::from_cql_options(&parsed.to_cql_options());
            prop_assert_eq!(again.as_ref(), Ok(&parsed));
            let effective = CompactionStrategyConfig::from_cql_options(&parsed.effective_cql_options());
            prop_assert_eq!(
                effective.map(|c| c.effective_cql_options()),
                Ok(parsed.effective_cql_options())
            );
        }
    }
}
