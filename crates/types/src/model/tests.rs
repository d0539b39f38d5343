//! Property tests: merging is a join (commutative, associative, idempotent), the codec
//! round-trips, and shadowing matches a direct reading of Cassandra's rules.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::cql_type::CqlType;
use crate::token::PartitionKey;

fn cmp() -> ClusteringComparator {
    ClusteringComparator::new(vec![
        (CqlType::Int, ClusteringOrder::Asc),
        (CqlType::Int, ClusteringOrder::Desc),
    ])
}

fn int(v: i32) -> Bytes {
    Bytes::copy_from_slice(&v.to_be_bytes())
}

fn clustering() -> impl Strategy<Value = Clustering> {
    (0..4i32, 0..3i32).prop_map(|(a, b)| Clustering(vec![int(a), int(b)]))
}

fn prefix() -> impl Strategy<Value = Clustering> {
    prop_oneof![
        Just(Clustering::EMPTY),
        (0..4i32).prop_map(|a| Clustering(vec![int(a)])),
        clustering(),
    ]
}

fn deletion() -> impl Strategy<Value = DeletionTime> {
    (0..20i64, 0..3i64).prop_map(|(ts, ldt)| DeletionTime::new(ts, 1000 + ldt))
}

fn cell() -> impl Strategy<Value = Cell> {
    prop_oneof![
        (0..20i64, 0..3u8).prop_map(|(ts, v)| Cell::live(ts, Bytes::from(vec![v]))),
        (0..20i64, 0..3u8, 1..3u32).prop_map(|(ts, v, ttl)| Cell::expiring(
            ts,
            Bytes::from(vec![v]),
            ttl,
            1000
        )),
        (0..20i64, 0..3i64).prop_map(|(ts, ldt)| Cell::tombstone(ts, 1000 + ldt)),
    ]
}

/// Columns 0 and 1 are simple, column 2 a non-frozen collection (a column never changes kind).
fn column_data(id: u32) -> BoxedStrategy<ColumnData> {
    if id < 2 {
        return cell().prop_map(ColumnData::Simple).boxed();
    }
    (
        proptest::option::of(deletion()),
        proptest::collection::btree_map(0..4u8, cell(), 0..3),
    )
        .prop_map(|(d, cells)| {
            ColumnData::Complex(ComplexColumn {
                deletion: d.unwrap_or(DeletionTime::LIVE),
                cells: cells
                    .into_iter()
                    .map(|(k, c)| (Bytes::from(vec![k]), c))
                    .collect(),
            })
        })
        .boxed()
}

fn columns() -> impl Strategy<Value = Vec<(ColumnId, ColumnData)>> {
    (
        proptest::option::of(column_data(0)),
        proptest::option::of(column_data(1)),
        proptest::option::of(column_data(2)),
    )
        .prop_map(|(a, b, c)| {
            [a, b, c]
                .into_iter()
                .enumerate()
                .filter_map(|(i, d)| d.map(|d| (ColumnId(i as u32), d)))
                .collect()
        })
}

fn row(cl: impl Strategy<Value = Clustering>) -> impl Strategy<Value = Row> {
    (
        cl,
        proptest::option::of((0..20i64).prop_map(LivenessInfo::live)),
        proptest::option::of(deletion()),
        columns(),
    )
        .prop_map(|(clustering, liveness, d, columns)| Row {
            clustering,
            liveness,
            deletion: d.unwrap_or(DeletionTime::LIVE),
            columns,
        })
}

fn partition() -> impl Strategy<Value = Partition> {
    (
        proptest::option::of(deletion()),
        proptest::collection::vec(
            (prefix(), prefix(), any::<bool>(), any::<bool>(), deletion()),
            0..3,
        ),
        proptest::option::of(row(Just(Clustering::EMPTY))),
        proptest::collection::vec(row(clustering()), 0..5),
    )
        .prop_map(|(d, rts, static_row, rows)| {
            let c = cmp();
            let rts = rts
                .into_iter()
                .map(|(s, e, sa, ea, d)| RangeTombstone {
                    slice: Slice {
                        start: Cut {
                            prefix: s,
                            after: sa,
                        },
                        end: Cut {
                            prefix: e,
                            after: ea,
                        },
                    },
                    deletion: d,
                })
                .collect();
            Partition {
                deletion: d.unwrap_or(DeletionTime::LIVE),
                range_tombstones: RangeTombstoneList::from_ranges(&c, rts),
                static_row,
                rows,
            }
            .canonicalize(&c)
        })
}

/// What a reader sees of column `col` of the row at `cl`, computed from first principles:
/// the reconciled cell among all sources, unless a deletion with a timestamp at or above it
/// covers it.
fn visible(p: &Partition, cl: &Clustering, col: ColumnId) -> Option<Cell> {
    let c = cmp();
    let row = p.rows.iter().find(|r| &r.clustering == cl)?;
    let outer = p
        .deletion
        .max(p.range_tombstones.deletion_for(&c, cl))
        .max(row.deletion);
    match row.column(col)? {
        ColumnData::Simple(cell) if !outer.deletes(cell.timestamp_micros) => Some(cell.clone()),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn merge_is_commutative(a in partition(), b in partition()) {
        let c = cmp();
        prop_assert_eq!(a.clone().merge(&c, b.clone()), b.merge(&c, a));
    }

    #[test]
    fn merge_is_associative(a in partition(), b in partition(), d in partition()) {
        let c = cmp();
        let left = a.clone().merge(&c, b.clone()).merge(&c, d.clone());
        let right = a.merge(&c, b.merge(&c, d));
        prop_assert_eq!(left, right);
    }

    #[test]
    fn merge_is_idempotent(a in partition()) {
        let c = cmp();
        prop_assert_eq!(a.clone().merge(&c, a.clone()), a);
    }

    #[test]
    fn codec_round_trips(a in partition()) {
        let c = cmp();
        let mut buf = bytes::BytesMut::new();
        encode_partition(&mut buf, &a);
        prop_assert_eq!(decode_partition(buf.freeze(), &c).unwrap(), a);
    }

    #[test]
    fn sliced_decode_is_restrict_of_full_decode(
        a in partition(),
        bounds in proptest::collection::vec((prefix(), prefix(), any::<bool>(), any::<bool>()), 0..4),
        sort in any::<bool>(),
    ) {
        let c = cmp();
        let mut slices: Vec<Slice> = bounds
            .into_iter()
            .map(|(s, e, sa, ea)| Slice {
                start: Cut { prefix: s, after: sa },
                end: Cut { prefix: e, after: ea },
            })
            .filter(|s| !c.slice_is_empty(s))
            .collect();
        if sort {
            // What the read path passes: sorted, disjoint slices.
            slices.sort_by(|x, y| c.compare_cuts(&x.start, &y.start));
            slices.dedup_by(|later, earlier| {
                c.compare_cuts(&earlier.end, &later.start) == std::cmp::Ordering::Greater
            });
        }
        let mut buf = bytes::BytesMut::new();
        encode_partition(&mut buf, &a);
        let sliced = decode_partition_slices(buf.freeze(), &c, &slices).unwrap();
        prop_assert_eq!(sliced, a.restrict(&c, &slices));
    }

    #[test]
    fn indexed_codec_round_trips_and_slices_like_restrict(
        a in partition(),
        interval in 1usize..64,
        bounds in proptest::collection::vec((prefix(), prefix(), any::<bool>(), any::<bool>()), 0..4),
    ) {
        let c = cmp();
        let mut buf = bytes::BytesMut::new();
        encode_partition_indexed(&mut buf, &a, interval);
        let bytes = buf.freeze();
        prop_assert_eq!(decode_partition(bytes.clone(), &c).unwrap(), a.clone());
        // Sorted, disjoint slices (what the read path passes), so the index is used.
        let mut slices: Vec<Slice> = bounds
            .into_iter()
            .map(|(s, e, sa, ea)| Slice {
                start: Cut { prefix: s, after: sa },
                end: Cut { prefix: e, after: ea },
            })
            .filter(|s| !c.slice_is_empty(s))
            .collect();
        slices.sort_by(|x, y| c.compare_cuts(&x.start, &y.start));
        slices.dedup_by(|later, earlier| {
            c.compare_cuts(&earlier.end, &later.start) == std::cmp::Ordering::Greater
        });
        let sliced = decode_partition_slices(bytes, &c, &slices).unwrap();
        prop_assert_eq!(sliced, a.restrict(&c, &slices));
    }

    #[test]
    fn truncated_indexed_input_is_an_error(a in partition(), interval in 1usize..16, cut in 0usize..256) {
        let c = cmp();
        let mut buf = bytes::BytesMut::new();
        encode_partition_indexed(&mut buf, &a, interval);
        let bytes = buf.freeze();
        if cut < bytes.len() {
            prop_assert!(decode_partition(bytes.slice(..cut), &c).is_err());
        }
    }

    #[test]
    fn truncated_input_is_an_error(a in partition(), cut in 0usize..64) {
        let c = cmp();
        let mut buf = bytes::BytesMut::new();
        encode_partition(&mut buf, &a);
        let bytes = buf.freeze();
        if cut < bytes.len() {
            prop_assert!(decode_partition(bytes.slice(..cut), &c).is_err());
        }
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_partition(Bytes::from(bytes.clone()), &cmp());
        let _ = decode_partition_slices(Bytes::from(bytes.clone()), &cmp(), &[Slice::ALL]);
        let _ = decode_mutation(Bytes::from(bytes), &|_| Some(cmp()));
    }

    #[test]
    fn shadowing_matches_first_principles(parts in proptest::collection::vec(partition(), 1..4)) {
        // Merge the raw (un-shadowed) union by hand, then compare what is visible.
        let c = cmp();
        let merged = parts.iter().cloned().fold(Partition::new(), |acc, p| acc.merge(&c, p));
        for a in 0..4 {
            for b in 0..3 {
                let cl = Clustering(vec![int(a), int(b)]);
                for col in 0..3 {
                    let col = ColumnId(col);
                    // Winner among all sources, then the strongest deletion of all sources.
                    let mut best: Option<Cell> = None;
                    let mut del = DeletionTime::LIVE;
                    for p in &parts {
                        del = del.max(p.deletion).max(p.range_tombstones.deletion_for(&c, &cl));
                        if let Some(r) = p.rows.iter().find(|r| r.clustering == cl) {
                            del = del.max(r.deletion);
                            if let Some(ColumnData::Simple(cell)) = r.column(col) {
                                best = Some(match best {
                                    Some(b) => b.reconcile(cell.clone()),
                                    None => cell.clone(),
                                });
                            }
                        }
                    }
                    let expected = best.filter(|cell| !del.deletes(cell.timestamp_micros));
                    prop_assert_eq!(visible(&merged, &cl, col), expected);
                }
            }
        }
    }
}

#[test]
fn range_tombstones_normalise() {
    let c = cmp();
    let d1 = DeletionTime::new(5, 1);
    let d2 = DeletionTime::new(7, 1);
    let all = RangeTombstone {
        slice: Slice::ALL,
        deletion: d1,
    };
    let one = RangeTombstone {
        slice: Slice::prefix(Clustering(vec![int(1)])),
        deletion: d2,
    };
    let list = RangeTombstoneList::from_ranges(&c, vec![all.clone(), one.clone()]);
    assert_eq!(list.len(), 3);
    assert_eq!(list.deletion_for(&c, &Clustering(vec![int(1), int(0)])), d2);
    assert_eq!(list.deletion_for(&c, &Clustering(vec![int(2), int(0)])), d1);
    // Adding the same deletion over the middle piece collapses back to one range.
    let list = RangeTombstoneList::from_ranges(
        &c,
        vec![
            all.clone(),
            RangeTombstone {
                slice: one.slice,
                deletion: d1,
            },
        ],
    );
    assert_eq!(list.len(), 1);
}

#[test]
fn desc_clustering_bounds() {
    let c = cmp();
    // Second component is DESC: (1, 2) sorts before (1, 1).
    let a = Clustering(vec![int(1), int(2)]);
    let b = Clustering(vec![int(1), int(1)]);
    assert!(c.compare(&a, &b).is_lt());
    // c1 = 1 AND c2 < 2 (exclusive end on a DESC column) as a slice between cuts.
    let slice = Slice {
        start: Cut::after(a.clone()),
        end: Cut::after(Clustering(vec![int(1)])),
    };
    assert!(c.slice_contains(&slice, &b));
    assert!(!c.slice_contains(&slice, &a));
}

#[test]
fn purge_respects_gc_grace_and_max_purgeable() {
    let c = cmp();
    let cl = Clustering(vec![int(1), int(1)]);
    let mut row = Row::new(cl);
    row.set_cell(ColumnId(0), Cell::tombstone(10, 100));
    row.set_cell(
        ColumnId(1),
        Cell::expiring(10, Bytes::from_static(b"v"), 5, 100),
    );
    let p = Partition {
        rows: vec![row],
        ..Partition::new()
    }
    .canonicalize(&c);
    // Not past gc grace: the expired cell becomes a tombstone, nothing is dropped.
    let mut q = p.clone();
    q.purge(&PurgePolicy {
        now_secs: 200,
        gc_before_secs: 50,
        max_purgeable_timestamp_micros: i64::MAX,
    });
    assert_eq!(q.rows[0].columns.len(), 2);
    assert_eq!(
        q.rows[0].column(ColumnId(1)),
        Some(&ColumnData::Simple(Cell::tombstone(10, 100)))
    );
    // Past gc grace, but older data may exist elsewhere: kept.
    let mut q = p.clone();
    q.purge(&PurgePolicy {
        now_secs: 200,
        gc_before_secs: 150,
        max_purgeable_timestamp_micros: 10,
    });
    assert_eq!(q.rows.len(), 1);
    // Past gc grace and nothing older elsewhere: gone.
    let mut q = p;
    q.purge(&PurgePolicy {
        now_secs: 200,
        gc_before_secs: 150,
        max_purgeable_timestamp_micros: 11,
    });
    assert!(q.rows.is_empty());
}

#[test]
fn mutation_round_trips() {
    let c = cmp();
    let mut row = Row::new(Clustering(vec![int(1), int(2)]));
    row.liveness = Some(LivenessInfo::live(3));
    row.set_cell(ColumnId(4), Cell::live(3, Bytes::from_static(b"hello")));
    let m = Mutation {
        updates: vec![PartitionUpdate {
            table: TableId(uuid::Uuid::from_u128(42)),
            key: PartitionKey::new(Bytes::from_static(b"k")),
            partition: Partition {
                rows: vec![row],
                ..Partition::new()
            }
            .canonicalize(&c),
        }],
    };
    let mut buf = bytes::BytesMut::new();
    encode_mutation(&mut buf, &m);
    let back = decode_mutation(buf.freeze(), &|_| Some(cmp())).unwrap();
    assert_eq!(back.mutation, m);
    assert!(back.unknown_tables.is_empty());
    let mut buf = bytes::BytesMut::new();
    encode_mutation(&mut buf, &m);
    let skipped = decode_mutation(buf.freeze(), &|_| None).unwrap();
    assert!(skipped.mutation.updates.is_empty());
    assert_eq!(
        skipped.unknown_tables,
        vec![TableId(uuid::Uuid::from_u128(42))]
    );
}

/// A wide partition (clusterings (a, b) for a in 0..100, b in 0..10) sliced every way the read
/// path slices it: the indexed encoding (several intervals) gives what `restrict` gives.
#[test]
fn indexed_wide_partition_slices_like_restrict() {
    let c = cmp();
    let mut p = Partition::new();
    for a in 0..100 {
        // Descending second component: rows of one `a` are stored with b from 9 down to 0.
        for b in (0..10).rev() {
            let mut row = Row::new(Clustering(vec![int(a), int(b)]));
            row.liveness = Some(LivenessInfo::live(i64::from(a * 10 + b)));
            row.columns.push((
                ColumnId(0),
                ColumnData::Simple(Cell::live(1, Bytes::from(vec![a as u8; 20]))),
            ));
            p.rows.push(row);
        }
    }
    let cut = |a: i32, b: Option<i32>, after: bool| Cut {
        prefix: Clustering(match b {
            Some(b) => vec![int(a), int(b)],
            None => vec![int(a)],
        }),
        after,
    };
    let slice_sets: Vec<Vec<Slice>> = vec![
        vec![Slice::ALL],
        vec![Slice {
            start: cut(50, None, false),
            end: cut(52, None, true),
        }],
        vec![Slice {
            start: cut(99, Some(3), false),
            end: Cut {
                prefix: Clustering::EMPTY,
                after: true,
            },
        }],
        vec![
            Slice {
                start: cut(3, None, false),
                end: cut(3, None, true),
            },
            Slice {
                start: cut(40, Some(5), true),
                end: cut(41, Some(2), false),
            },
            Slice {
                start: cut(97, None, false),
                end: cut(98, None, true),
            },
        ],
        vec![Slice {
            start: cut(200, None, false),
            end: cut(300, None, true),
        }],
    ];
    for interval in [1, 50, 300, 4096] {
        let mut buf = bytes::BytesMut::new();
        encode_partition_indexed(&mut buf, &p, interval);
        let bytes = buf.freeze();
        assert_eq!(decode_partition(bytes.clone(), &c).unwrap(), p);
        for slices in &slice_sets {
            let sliced = decode_partition_slices(bytes.clone(), &c, slices).unwrap();
            assert_eq!(
                sliced,
                p.restrict(&c, slices),
                "interval {interval}: {slices:?}"
            );
        }
    }
    // Too narrow for two index entries: encoded exactly as without an index.
    let mut narrow = Partition::new();
    narrow.rows = p.rows[..3].to_vec();
    let (mut plain, mut indexed) = (bytes::BytesMut::new(), bytes::BytesMut::new());
    encode_partition(&mut plain, &narrow);
    encode_partition_indexed(&mut indexed, &narrow, 4096);
    assert_eq!(plain, indexed);
}

/// An index entry pointing outside the rows is corruption, reported, never followed.
#[test]
fn a_row_index_out_of_range_is_an_error() {
    let c = cmp();
    let mut p = Partition::new();
    for a in 0..10 {
        let mut row = Row::new(Clustering(vec![int(a), int(0)]));
        row.liveness = Some(LivenessInfo::live(1));
        p.rows.push(row);
    }
    let mut buf = bytes::BytesMut::new();
    encode_partition_indexed(&mut buf, &p, 1);
    let mut bytes = buf.to_vec();
    // flags, row count (10), index length, entry count (9), then the first entry's ordinal (1)
    // and offset: make the offset point past the end.
    assert_eq!(bytes[0], 4);
    assert_eq!(bytes[2], 10);
    bytes[6] = 0x7f;
    let slices = [Slice {
        start: Cut {
            prefix: Clustering(vec![int(5)]),
            after: false,
        },
        end: Cut {
            prefix: Clustering::EMPTY,
            after: true,
        },
    }];
    let err = decode_partition_slices(Bytes::from(bytes), &c, &slices).unwrap_err();
    assert!(err.to_string().contains("row index"), "{err}");
}
