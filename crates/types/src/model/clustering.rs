//! Clustering keys, bounds, slices and range tombstones.
//!
//! Positions *between* clusterings are modelled as [`Cut`]s: `Before(X)` sits just before
//! every clustering that starts with prefix `X`, `After(X)` just after all of them. Every
//! inclusive/exclusive start/end bound is one of these two, so a slice or a range tombstone is
//! simply the open interval between two cuts, and comparing bounds of different prefix lengths
//! needs no special cases.

use std::cmp::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use crate::cql_type::{self, CqlType};

use super::deletion::DeletionTime;

/// The clustering key of a row: one serialized value per clustering column (all of them for a
/// row; a prefix in bounds). Tables without clustering columns have the empty clustering.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Clustering(pub Vec<Bytes>);

impl Clustering {
    /// The clustering of a table without clustering columns, and of static rows.
    pub const EMPTY: Clustering = Clustering(Vec::new());

    /// Number of components.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no components.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Approximate heap footprint.
    pub fn size_bytes(&self) -> usize {
        24 + self.0.iter().map(|c| 32 + c.len()).sum::<usize>()
    }
}

/// Sort order of one clustering column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClusteringOrder {
    /// `ASC` (the default).
    Asc,
    /// `DESC`.
    Desc,
}

/// Compares clusterings of one table: each component with its column's CQL comparator,
/// reversed for `DESC` columns; a prefix sorts before its extensions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClusteringComparator {
    columns: Arc<[(CqlType, ClusteringOrder)]>,
}

impl ClusteringComparator {
    /// A comparator for clustering columns of the given types and orders.
    pub fn new(columns: Vec<(CqlType, ClusteringOrder)>) -> Self {
        ClusteringComparator {
            columns: columns.into(),
        }
    }

    /// The comparator of a table without clustering columns.
    pub fn empty() -> Self {
        Self::new(Vec::new())
    }

    /// Number of clustering columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether the table has no clustering columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The columns' types and orders.
    pub fn columns(&self) -> &[(CqlType, ClusteringOrder)] {
        &self.columns
    }

    /// Compares component `i` of two clusterings. Components beyond the declared columns
    /// (which only malformed input can carry) compare as unsigned bytes.
    pub fn compare_component(&self, i: usize, a: &[u8], b: &[u8]) -> Ordering {
        match self.columns.get(i) {
            Some((ty, ClusteringOrder::Asc)) => cql_type::compare(ty, a, b),
            Some((ty, ClusteringOrder::Desc)) => cql_type::compare(ty, b, a),
            None => a.cmp(b),
        }
    }

    fn compare_common(&self, a: &[Bytes], b: &[Bytes]) -> Ordering {
        for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
            let c = self.compare_component(i, x, y);
            if c != Ordering::Equal {
                return c;
            }
        }
        Ordering::Equal
    }

    /// Compares two clusterings (a prefix sorts before its extensions).
    pub fn compare(&self, a: &Clustering, b: &Clustering) -> Ordering {
        self.compare_common(&a.0, &b.0).then(a.len().cmp(&b.len()))
    }

    /// Compares two cuts.
    pub fn compare_cuts(&self, a: &Cut, b: &Cut) -> Ordering {
        let common = self.compare_common(&a.prefix.0, &b.prefix.0);
        if common != Ordering::Equal {
            return common;
        }
        match a.prefix.len().cmp(&b.prefix.len()) {
            Ordering::Equal => a.after.cmp(&b.after),
            // `a` is a proper prefix of `b`: Before(a) < every cut of b < After(a).
            Ordering::Less => {
                if a.after {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            Ordering::Greater => {
                if b.after {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
        }
    }

    /// Compares a cut with a clustering.
    pub fn compare_cut_to_clustering(&self, cut: &Cut, clustering: &Clustering) -> Ordering {
        let common = self.compare_common(&cut.prefix.0, &clustering.0);
        if common != Ordering::Equal {
            return common;
        }
        if cut.prefix.len() <= clustering.len() {
            if cut.after {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        } else {
            // A clustering shorter than the cut's prefix sorts before all cuts extending it.
            Ordering::Greater
        }
    }

    /// Whether `slice` contains `clustering`.
    pub fn slice_contains(&self, slice: &Slice, clustering: &Clustering) -> bool {
        self.compare_cut_to_clustering(&slice.start, clustering) == Ordering::Less
            && self.compare_cut_to_clustering(&slice.end, clustering) == Ordering::Greater
    }

    /// Whether a slice selects nothing.
    pub fn slice_is_empty(&self, slice: &Slice) -> bool {
        self.compare_cuts(&slice.start, &slice.end) != Ordering::Less
    }

    /// Whether two slices share at least one possible clustering.
    pub fn slices_intersect(&self, a: &Slice, b: &Slice) -> bool {
        self.compare_cuts(&a.start, &b.end) == Ordering::Less
            && self.compare_cuts(&b.start, &a.end) == Ordering::Less
    }
}

/// A position between clusterings: just before (`after == false`) or just after
/// (`after == true`) every clustering that starts with `prefix`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cut {
    /// The clustering prefix the cut is relative to.
    pub prefix: Clustering,
    /// Whether the cut is after the prefix's clusterings rather than before.
    pub after: bool,
}

impl Cut {
    /// Before every clustering.
    pub const BOTTOM: Cut = Cut {
        prefix: Clustering::EMPTY,
        after: false,
    };
    /// After every clustering.
    pub const TOP: Cut = Cut {
        prefix: Clustering::EMPTY,
        after: true,
    };

    /// Just before the clusterings starting with `prefix`.
    pub fn before(prefix: Clustering) -> Self {
        Cut {
            prefix,
            after: false,
        }
    }

    /// Just after the clusterings starting with `prefix`.
    pub fn after(prefix: Clustering) -> Self {
        Cut {
            prefix,
            after: true,
        }
    }
}

/// Kind of a clustering bound, as in CQL relations and Cassandra's `ClusteringBound`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoundKind {
    /// `c >= x`
    InclusiveStart,
    /// `c > x`
    ExclusiveStart,
    /// `c <= x`
    InclusiveEnd,
    /// `c < x`
    ExclusiveEnd,
}

/// A start or end bound of a clustering range.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClusteringBound {
    /// The bound's clustering prefix (empty: unbounded).
    pub prefix: Clustering,
    /// Inclusive or exclusive, start or end.
    pub kind: BoundKind,
}

impl ClusteringBound {
    /// The cut this bound stands for.
    pub fn to_cut(&self) -> Cut {
        let after = matches!(
            self.kind,
            BoundKind::ExclusiveStart | BoundKind::InclusiveEnd
        );
        Cut {
            prefix: self.prefix.clone(),
            after,
        }
    }

    /// The start bound standing for `cut`.
    pub fn start_of(cut: &Cut) -> Self {
        ClusteringBound {
            prefix: cut.prefix.clone(),
            kind: if cut.after {
                BoundKind::ExclusiveStart
            } else {
                BoundKind::InclusiveStart
            },
        }
    }

    /// The end bound standing for `cut`.
    pub fn end_of(cut: &Cut) -> Self {
        ClusteringBound {
            prefix: cut.prefix.clone(),
            kind: if cut.after {
                BoundKind::InclusiveEnd
            } else {
                BoundKind::ExclusiveEnd
            },
        }
    }
}

/// The clusterings strictly between two cuts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slice {
    /// Lower cut.
    pub start: Cut,
    /// Upper cut.
    pub end: Cut,
}

impl Slice {
    /// Every clustering.
    pub const ALL: Slice = Slice {
        start: Cut::BOTTOM,
        end: Cut::TOP,
    };

    /// The slice between two bounds.
    pub fn from_bounds(start: &ClusteringBound, end: &ClusteringBound) -> Self {
        Slice {
            start: start.to_cut(),
            end: end.to_cut(),
        }
    }

    /// Exactly the clusterings starting with `prefix` (for `c = x` restrictions).
    pub fn prefix(prefix: Clustering) -> Self {
        Slice {
            start: Cut::before(prefix.clone()),
            end: Cut::after(prefix),
        }
    }
}

/// A range tombstone as written: deletes the clusterings between two bounds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RangeTombstone {
    /// The clusterings it deletes.
    pub slice: Slice,
    /// The deletion.
    pub deletion: DeletionTime,
}

/// The range tombstones of a partition in canonical form: sorted, non-empty, disjoint ranges,
/// no two touching ranges with the same deletion. Two lists covering the same clusterings with
/// the same deletions are therefore equal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RangeTombstoneList {
    ranges: Vec<RangeTombstone>,
}

impl RangeTombstoneList {
    /// No range tombstones.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Number of canonical ranges.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// The canonical ranges, in clustering order.
    pub fn iter(&self) -> impl Iterator<Item = &RangeTombstone> {
        self.ranges.iter()
    }

    /// Builds the canonical list from ranges in any order, overlapping or not.
    pub fn from_ranges(cmp: &ClusteringComparator, ranges: Vec<RangeTombstone>) -> Self {
        let mut out = RangeTombstoneList::new();
        for r in ranges {
            out.add(cmp, r);
        }
        out
    }

    /// Adds one range tombstone.
    pub fn add(&mut self, cmp: &ClusteringComparator, range: RangeTombstone) {
        if cmp.slice_is_empty(&range.slice) || range.deletion.is_live() {
            return;
        }
        let single = RangeTombstoneList {
            ranges: vec![range],
        };
        *self = self.merge(cmp, &single);
    }

    /// The union of two canonical lists, each clustering deleted by the stronger deletion.
    pub fn merge(&self, cmp: &ClusteringComparator, other: &RangeTombstoneList) -> Self {
        if other.ranges.is_empty() {
            return self.clone();
        }
        if self.ranges.is_empty() {
            return other.clone();
        }
        let points = merge_cut_points(cmp, &self.cut_points(cmp), &other.cut_points(cmp));
        let mut out: Vec<RangeTombstone> = Vec::new();
        let (mut ia, mut ib) = (0usize, 0usize);
        for pair in points.windows(2) {
            let [lo, hi] = pair else { continue };
            let da = covering(cmp, &self.ranges, &mut ia, lo);
            let db = covering(cmp, &other.ranges, &mut ib, lo);
            let d = da.max(db);
            if d.is_live() {
                continue;
            }
            if let Some(last) = out.last_mut() {
                if last.deletion == d && cmp.compare_cuts(&last.slice.end, lo) == Ordering::Equal {
                    last.slice.end = (*hi).clone();
                    continue;
                }
            }
            out.push(RangeTombstone {
                slice: Slice {
                    start: (*lo).clone(),
                    end: (*hi).clone(),
                },
                deletion: d,
            });
        }
        RangeTombstoneList { ranges: out }
    }

    fn cut_points<'a>(&'a self, cmp: &ClusteringComparator) -> Vec<&'a Cut> {
        let mut points: Vec<&Cut> = Vec::with_capacity(self.ranges.len() * 2);
        for r in &self.ranges {
            for c in [&r.slice.start, &r.slice.end] {
                if points
                    .last()
                    .is_none_or(|last| cmp.compare_cuts(last, c) != Ordering::Equal)
                {
                    points.push(c);
                }
            }
        }
        points
    }

    /// The deletion covering `clustering`, `DeletionTime::LIVE` if none.
    pub fn deletion_for(
        &self,
        cmp: &ClusteringComparator,
        clustering: &Clustering,
    ) -> DeletionTime {
        // First range whose end is after the clustering.
        let idx = self.ranges.partition_point(|r| {
            cmp.compare_cut_to_clustering(&r.slice.end, clustering) != Ordering::Greater
        });
        match self.ranges.get(idx) {
            Some(r)
                if cmp.compare_cut_to_clustering(&r.slice.start, clustering) == Ordering::Less =>
            {
                r.deletion
            }
            _ => DeletionTime::LIVE,
        }
    }

    /// Drops ranges whose deletion is covered by `outer` (e.g. the partition deletion).
    pub fn remove_covered_by(&mut self, outer: &DeletionTime) {
        if outer.is_live() {
            return;
        }
        self.ranges.retain(|r| !outer.covers(&r.deletion));
    }

    /// Keeps only the ranges for which `keep` holds (used by tombstone purging).
    pub fn retain(&mut self, keep: impl FnMut(&RangeTombstone) -> bool) {
        self.ranges.retain(keep);
    }

    /// The parts of the ranges that fall inside `slice`.
    pub fn restricted_to(&self, cmp: &ClusteringComparator, slice: &Slice) -> RangeTombstoneList {
        let mut out = Vec::new();
        for r in &self.ranges {
            if !cmp.slices_intersect(&r.slice, slice) {
                continue;
            }
            let start = if cmp.compare_cuts(&r.slice.start, &slice.start) == Ordering::Less {
                slice.start.clone()
            } else {
                r.slice.start.clone()
            };
            let end = if cmp.compare_cuts(&r.slice.end, &slice.end) == Ordering::Greater {
                slice.end.clone()
            } else {
                r.slice.end.clone()
            };
            out.push(RangeTombstone {
                slice: Slice { start, end },
                deletion: r.deletion,
            });
        }
        RangeTombstoneList { ranges: out }
    }

    /// The parts of these ranges inside any of `slices`.
    pub fn restricted_to_slices(
        &self,
        cmp: &ClusteringComparator,
        slices: &[Slice],
    ) -> RangeTombstoneList {
        slices.iter().fold(RangeTombstoneList::new(), |acc, s| {
            acc.merge(cmp, &self.restricted_to(cmp, s))
        })
    }

    /// Appends a range known to sort after every range already present and not to touch the
    /// last one with an equal deletion (decoders use this; the result is checked).
    pub(crate) fn push_canonical(
        &mut self,
        cmp: &ClusteringComparator,
        range: RangeTombstone,
    ) -> Result<(), &'static str> {
        if cmp.slice_is_empty(&range.slice) || range.deletion.is_live() {
            return Err("empty or live range tombstone");
        }
        if let Some(last) = self.ranges.last() {
            match cmp.compare_cuts(&last.slice.end, &range.slice.start) {
                Ordering::Greater => return Err("overlapping range tombstones"),
                Ordering::Equal if last.deletion == range.deletion => {
                    return Err("touching range tombstones with equal deletions")
                }
                _ => {}
            }
        }
        self.ranges.push(range);
        Ok(())
    }
}

/// Merges two sorted, deduplicated cut sequences into one.
fn merge_cut_points<'a>(cmp: &ClusteringComparator, a: &[&'a Cut], b: &[&'a Cut]) -> Vec<&'a Cut> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => match cmp.compare_cuts(x, y) {
                Ordering::Less => {
                    i += 1;
                    *x
                }
                Ordering::Greater => {
                    j += 1;
                    *y
                }
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                    *x
                }
            },
            (Some(x), None) => {
                i += 1;
                *x
            }
            (None, Some(y)) => {
                j += 1;
                *y
            }
            (None, None) => break,
        };
        out.push(next);
    }
    out
}

/// The deletion of the range covering the elementary segment starting at `lo`, advancing
/// `idx` monotonically (segments are visited in order).
fn covering(
    cmp: &ClusteringComparator,
    ranges: &[RangeTombstone],
    idx: &mut usize,
    lo: &Cut,
) -> DeletionTime {
    while let Some(r) = ranges.get(*idx) {
        if cmp.compare_cuts(&r.slice.end, lo) == Ordering::Greater {
            break;
        }
        *idx += 1;
    }
    match ranges.get(*idx) {
        Some(r) if cmp.compare_cuts(&r.slice.start, lo) != Ordering::Greater => r.deletion,
        _ => DeletionTime::LIVE,
    }
}
