//! Clustering restrictions as storage slices.
//!
//! A set of clusterings is represented as a sorted list of disjoint, non-empty [`Slice`]s in
//! *storage* order (the table's comparator, so `DESC` columns are already reversed). Every
//! restriction becomes such a set and sets are intersected, which makes `DESC` columns and
//! multi-column tuple relations need no special cases: a tuple bound `(c1, c2) > (1, 2)` is
//! the union of `c1 > 1` and `c1 = 1 AND c2 > 2`, each of which is one contiguous slice
//! whatever the columns' orders.
//!
//! Invariant of every function returning a slice list: sorted by start cut, pairwise
//! disjoint, non-adjacent (touching slices are merged) and free of empty slices.

use std::cmp::Ordering;

use bytes::Bytes;
use meridian_types::model::{Clustering, ClusteringComparator, ClusteringOrder, Cut, Slice};

/// Sorts, drops empty slices and merges overlapping or touching ones.
pub(crate) fn normalize(cmp: &ClusteringComparator, mut slices: Vec<Slice>) -> Vec<Slice> {
    slices.retain(|s| !cmp.slice_is_empty(s));
    slices.sort_by(|a, b| cmp.compare_cuts(&a.start, &b.start));
    let mut out: Vec<Slice> = Vec::with_capacity(slices.len());
    for s in slices {
        match out.last_mut() {
            Some(last) if cmp.compare_cuts(&s.start, &last.end) != Ordering::Greater => {
                if cmp.compare_cuts(&s.end, &last.end) == Ordering::Greater {
                    last.end = s.end;
                }
            }
            _ => out.push(s),
        }
    }
    out
}

/// The intersection of two normalized slice lists.
pub(crate) fn intersect(cmp: &ClusteringComparator, a: &[Slice], b: &[Slice]) -> Vec<Slice> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (&a[i], &b[j]);
        let start = if cmp.compare_cuts(&x.start, &y.start) == Ordering::Greater {
            &x.start
        } else {
            &y.start
        };
        let end = if cmp.compare_cuts(&x.end, &y.end) == Ordering::Less {
            &x.end
        } else {
            &y.end
        };
        if cmp.compare_cuts(start, end) == Ordering::Less {
            out.push(Slice {
                start: start.clone(),
                end: end.clone(),
            });
        }
        if cmp.compare_cuts(&x.end, &y.end) == Ordering::Less {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// One side of a tuple (or single-column) slice restriction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TupleBound {
    /// Values for consecutive clustering columns starting at the restriction's first column.
    pub values: Vec<Bytes>,
    /// Whether the bound itself is included (`>=`, `<=`).
    pub inclusive: bool,
}

fn extend(prefix: &Clustering, values: &[Bytes]) -> Clustering {
    let mut c = prefix.0.clone();
    c.extend_from_slice(values);
    Clustering(c)
}

/// The clusterings starting with `prefix` whose next columns compare to `bound` (in CQL
/// type order, column by column, like tuples) as requested: greater (`lower == true`) or
/// smaller, or equal when the bound is inclusive.
pub(crate) fn tuple_bound(
    cmp: &ClusteringComparator,
    prefix: &Clustering,
    bound: &TupleBound,
    lower: bool,
) -> Vec<Slice> {
    let offset = prefix.len();
    let mut pieces = Vec::with_capacity(bound.values.len() + 1);
    for (i, _) in bound.values.iter().enumerate() {
        let q = extend(prefix, &bound.values[..i]);
        let qv = extend(prefix, &bound.values[..=i]);
        let order = cmp
            .columns()
            .get(offset + i)
            .map_or(ClusteringOrder::Asc, |(_, o)| *o);
        // "Greater in type order" is "later in storage order" for ASC columns.
        let later = lower == (order == ClusteringOrder::Asc);
        let piece = if later {
            Slice {
                start: Cut::after(qv),
                end: Cut::after(q),
            }
        } else {
            Slice {
                start: Cut::before(q),
                end: Cut::before(qv),
            }
        };
        pieces.push(piece);
    }
    if bound.inclusive {
        pieces.push(Slice::prefix(extend(prefix, &bound.values)));
    }
    normalize(cmp, pieces)
}

/// The clusterings starting with `prefix` within optional lower and upper tuple bounds.
pub(crate) fn bounded(
    cmp: &ClusteringComparator,
    prefix: &Clustering,
    lower: Option<&TupleBound>,
    upper: Option<&TupleBound>,
) -> Vec<Slice> {
    let mut set = vec![Slice::prefix(prefix.clone())];
    if let Some(l) = lower {
        set = intersect(cmp, &set, &tuple_bound(cmp, prefix, l, true));
    }
    if let Some(u) = upper {
        set = intersect(cmp, &set, &tuple_bound(cmp, prefix, u, false));
    }
    set
}

/// The part of `slices` strictly after `clustering` in the read direction: after it for
/// forward reads, before it for reversed ones. Used to resume a page inside a partition.
pub(crate) fn resume_after(
    cmp: &ClusteringComparator,
    slices: &[Slice],
    clustering: &Clustering,
    reversed: bool,
) -> Vec<Slice> {
    let rest = if reversed {
        Slice {
            start: Cut::BOTTOM,
            end: Cut::before(clustering.clone()),
        }
    } else {
        Slice {
            start: Cut::after(clustering.clone()),
            end: Cut::TOP,
        }
    };
    intersect(cmp, slices, &[rest])
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_types::cql_type::CqlType;
    use proptest::prelude::*;

    fn int(v: i32) -> Bytes {
        Bytes::copy_from_slice(&v.to_be_bytes())
    }

    fn cmp(orders: &[ClusteringOrder]) -> ClusteringComparator {
        ClusteringComparator::new(orders.iter().map(|o| (CqlType::Int, *o)).collect())
    }

    fn contains(cmp: &ClusteringComparator, slices: &[Slice], c: &Clustering) -> bool {
        slices.iter().any(|s| cmp.slice_contains(s, c))
    }

    fn tuple_cmp(a: &[i32], b: &[i32]) -> Ordering {
        for (x, y) in a.iter().zip(b) {
            match x.cmp(y) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }

    #[test]
    fn single_column_bounds() {
        for order in [ClusteringOrder::Asc, ClusteringOrder::Desc] {
            let c = cmp(&[order]);
            let lo = TupleBound {
                values: vec![int(3)],
                inclusive: false,
            };
            let hi = TupleBound {
                values: vec![int(6)],
                inclusive: true,
            };
            let s = bounded(&c, &Clustering::EMPTY, Some(&lo), Some(&hi));
            assert_eq!(s.len(), 1);
            for v in 0..10 {
                let inside = contains(&c, &s, &Clustering(vec![int(v)]));
                assert_eq!(inside, v > 3 && v <= 6, "{order:?} {v}");
            }
        }
    }

    #[test]
    fn resume_skips_what_was_read() {
        let c = cmp(&[ClusteringOrder::Asc]);
        let all = vec![Slice::ALL];
        let after = resume_after(&c, &all, &Clustering(vec![int(5)]), false);
        assert!(!contains(&c, &after, &Clustering(vec![int(5)])));
        assert!(contains(&c, &after, &Clustering(vec![int(6)])));
        let before = resume_after(&c, &all, &Clustering(vec![int(5)]), true);
        assert!(!contains(&c, &before, &Clustering(vec![int(5)])));
        assert!(contains(&c, &before, &Clustering(vec![int(4)])));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Tuple slices select exactly the clusterings whose tuples compare as asked, for
        /// every mix of column orders, bound lengths and inclusiveness.
        #[test]
        fn tuple_bounds_match_tuple_comparison(
            orders in proptest::collection::vec(prop_oneof![Just(ClusteringOrder::Asc), Just(ClusteringOrder::Desc)], 3),
            lo in proptest::option::of((proptest::collection::vec(0i32..4, 1..=3), any::<bool>())),
            hi in proptest::option::of((proptest::collection::vec(0i32..4, 1..=3), any::<bool>())),
        ) {
            let c = cmp(&orders);
            let lo_b = lo.as_ref().map(|(v, inc)| TupleBound { values: v.iter().map(|x| int(*x)).collect(), inclusive: *inc });
            let hi_b = hi.as_ref().map(|(v, inc)| TupleBound { values: v.iter().map(|x| int(*x)).collect(), inclusive: *inc });
            let s = bounded(&c, &Clustering::EMPTY, lo_b.as_ref(), hi_b.as_ref());
            // Normalized: sorted, disjoint, non-empty.
            for w in s.windows(2) {
                prop_assert!(c.compare_cuts(&w[0].end, &w[1].start) == Ordering::Less);
            }
            for a in 0..4 { for b in 0..4 { for d in 0..4 {
                let row = [a, b, d];
                let ok_lo = lo.as_ref().is_none_or(|(v, inc)| {
                    let o = tuple_cmp(&row[..v.len()], v);
                    o == Ordering::Greater || (*inc && o == Ordering::Equal)
                });
                let ok_hi = hi.as_ref().is_none_or(|(v, inc)| {
                    let o = tuple_cmp(&row[..v.len()], v);
                    o == Ordering::Less || (*inc && o == Ordering::Equal)
                });
                let cl = Clustering(row.iter().map(|x| int(*x)).collect());
                prop_assert_eq!(contains(&c, &s, &cl), ok_lo && ok_hi, "row {:?}", row);
            }}}
        }
    }
}
