//! The read loop of `SELECT`: partitions in order (keys in `IN` order, or a token range
//! scan), live rows in read order, filters, `PER PARTITION LIMIT`, `LIMIT`, `DISTINCT`,
//! `GROUP BY` and aggregates, post-query ordering (`IN` + `ORDER BY`), and paging.
//!
//! Paging invariant: a page ends right after a returned row (or, for `GROUP BY`, right after
//! the last row of a returned group) and the paging state names that row; the next page
//! starts strictly after it in read order. Rows are therefore never skipped nor repeated,
//! whatever the page size, as long as the data does not change between pages. A partition
//! resumed in the middle never returns its static-only row again.
//!
//! Memory: a page holds at most `page_size` rows; unpaged results and post-ordered results
//! are bounded by [`MAX_RESULT_BYTES`].

use std::cmp::Ordering;
use std::ops::{Bound, RangeBounds};

use bytes::Bytes;
use meridian_schema::TableMetadata;
use meridian_types::model::{Clustering, ClusteringComparator, Partition, Slice};
use meridian_types::token::{split_composite_partition_key, PartitionKey};

use super::filter::matches_all;
use super::paging::{PagingState, UNLIMITED};
use super::restrictions::{BoundWhere, PartitionSelection};
use super::row::{LiveData, RowView};
use super::selection::{GroupState, Selection};
use super::slices::resume_after;
use crate::context::ExecOptions;
use crate::error::QueryError;
use crate::result::ResultSet;

/// Most bytes of row values an unpaged (or post-ordered) result may hold.
pub(crate) const MAX_RESULT_BYTES: usize = 256 * 1024 * 1024;

/// Partitions in token order, as a data source yields them.
pub(crate) type PartitionStream<'a> =
    Box<dyn Iterator<Item = Result<(PartitionKey, Partition), QueryError>> + 'a>;

/// A result row with the values it is post-sorted on.
type SortableRow = (Vec<Option<Bytes>>, Vec<Option<Bytes>>);

/// Where partitions come from: the storage engine or generated (virtual) data.
pub(crate) trait DataSource {
    /// The partition `key` restricted to `slices` (with its tombstones), if it exists.
    fn read(&self, key: &PartitionKey, slices: &[Slice]) -> Result<Option<Partition>, QueryError>;
    /// Partitions with keys within the bounds, in token order (whole partitions).
    fn scan<'a>(
        &'a self,
        start: Bound<PartitionKey>,
        end: Bound<PartitionKey>,
    ) -> Result<PartitionStream<'a>, QueryError>;
}

/// How rows become result rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One result row per row.
    Rows,
    /// Aggregates over everything: one result row.
    AggregateAll,
    /// Aggregates per group of rows sharing the partition key and this many clustering
    /// columns.
    GroupBy(usize),
}

/// What the loop needs to know of the query.
pub(crate) struct ReadPlan<'a> {
    /// The table.
    pub table: &'a TableMetadata,
    /// The selection.
    pub selection: &'a Selection,
    /// Rows or aggregates.
    pub mode: Mode,
    /// `SELECT DISTINCT`: one row per partition.
    pub distinct: bool,
    /// Read rows in reversed clustering order.
    pub reversed: bool,
    /// Partitions with only static data return a row.
    pub static_rows: bool,
    /// Post-query ordering (`IN` + `ORDER BY`): the clustering positions to sort on and
    /// whether the sort is reversed.
    pub post_order: Option<(Vec<usize>, bool)>,
    /// `LIMIT` (rows, or groups for `GROUP BY`).
    pub limit: Option<u32>,
    /// `PER PARTITION LIMIT`.
    pub per_partition_limit: Option<u32>,
}

/// A partition being produced, with whether it resumes a previous page.
struct Produced {
    data: LiveData,
    resumed: bool,
}

/// Turns a raw partition into its live content in read order.
fn live(
    key: PartitionKey,
    partition: Partition,
    pk_columns: usize,
    reversed: bool,
    now_secs: i64,
) -> Result<Option<LiveData>, QueryError> {
    let view = partition.live_view(now_secs);
    if view.rows.is_empty() && view.static_row.is_none() {
        return Ok(None);
    }
    let pk_values = split_composite_partition_key(key.key(), pk_columns)
        .map_err(|e| QueryError::server(format!("stored partition key does not decode: {e}")))?
        .into_iter()
        .map(Bytes::copy_from_slice)
        .collect();
    let mut rows = view.rows;
    if reversed {
        rows.reverse();
    }
    Ok(Some(LiveData {
        key,
        pk_values,
        static_row: view.static_row,
        rows,
    }))
}

/// Produces the partitions of a query in order, resuming after a paging state.
struct Partitions<'a> {
    source: &'a dyn DataSource,
    slices: &'a [Slice],
    cmp: ClusteringComparator,
    pk_columns: usize,
    reversed: bool,
    now_secs: i64,
    /// Keys still to read (keys mode).
    keys: std::vec::IntoIter<PartitionKey>,
    /// The scan (range mode).
    scan: Option<PartitionStream<'a>>,
    /// A partition to produce first (the one a paging state resumes in).
    first: Option<(PartitionKey, Vec<Slice>)>,
}

impl<'a> Partitions<'a> {
    fn new(
        plan: &ReadPlan<'_>,
        bound: &'a BoundWhere,
        source: &'a dyn DataSource,
        resume: Option<&PagingState>,
        now_secs: i64,
    ) -> Result<Partitions<'a>, QueryError> {
        let cmp = plan.table.clustering_comparator();
        let pk_columns = plan.table.partition_key_columns().len();
        let mut first = None;
        let resume_slices = |state: &PagingState| -> Vec<Slice> {
            match &state.clustering {
                Some(c) => resume_after(&cmp, &bound.slices, c, plan.reversed),
                None => Vec::new(),
            }
        };
        let mut out = Partitions {
            source,
            slices: &bound.slices,
            cmp: cmp.clone(),
            pk_columns,
            reversed: plan.reversed,
            now_secs,
            keys: Vec::new().into_iter(),
            scan: None,
            first: None,
        };
        match &bound.partitions {
            PartitionSelection::Keys(keys) => {
                let mut keys = keys.clone();
                if let Some(state) = resume {
                    match keys.iter().position(|k| k.key() == &state.partition_key) {
                        None => keys.clear(),
                        Some(i) => {
                            let current = keys[i].clone();
                            keys.drain(..=i);
                            if !state.partition_done && state.clustering.is_some() {
                                first = Some((current, resume_slices(state)));
                            }
                        }
                    }
                }
                out.keys = keys.into_iter();
            }
            PartitionSelection::Range { start, end } => {
                let mut start = start.clone();
                if let Some(state) = resume {
                    let key = PartitionKey::new(state.partition_key.clone());
                    // A state names a partition the scan returned, so inside the range; a
                    // forged one outside it resumes nothing.
                    let in_range = (start.clone(), end.clone()).contains(&key);
                    if in_range && !state.partition_done && state.clustering.is_some() {
                        first = Some((key.clone(), resume_slices(state)));
                    }
                    // Continue strictly after the resumed partition (never before the
                    // query's own start).
                    let after = Bound::Excluded(key);
                    start = match (&start, &after) {
                        (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(a)) if s > a => {
                            start
                        }
                        _ => after,
                    };
                }
                out.scan = Some(source.scan(start, end.clone())?);
            }
        }
        out.first = first;
        Ok(out)
    }

    fn next(&mut self) -> Result<Option<Produced>, QueryError> {
        if let Some((key, slices)) = self.first.take() {
            if !slices.is_empty() {
                if let Some(p) = self.source.read(&key, &slices)? {
                    if let Some(data) = live(key, p, self.pk_columns, self.reversed, self.now_secs)?
                    {
                        // Only rows remain of a resumed partition (its static row still
                        // gives the static columns of those rows).
                        if !data.rows.is_empty() {
                            return Ok(Some(Produced {
                                data,
                                resumed: true,
                            }));
                        }
                    }
                }
            }
        }
        loop {
            if self.slices.is_empty() {
                return Ok(None);
            }
            if let Some(scan) = self.scan.as_mut() {
                let Some(item) = scan.next() else {
                    return Ok(None);
                };
                let (key, p) = item?;
                let p = if self.slices.len() == 1 && self.slices[0] == Slice::ALL {
                    p
                } else {
                    p.restrict(&self.cmp, self.slices)
                };
                if let Some(data) = live(key, p, self.pk_columns, self.reversed, self.now_secs)? {
                    return Ok(Some(Produced {
                        data,
                        resumed: false,
                    }));
                }
                continue;
            }
            let Some(key) = self.keys.next() else {
                return Ok(None);
            };
            if let Some(p) = self.source.read(&key, self.slices)? {
                if let Some(data) = live(key, p, self.pk_columns, self.reversed, self.now_secs)? {
                    return Ok(Some(Produced {
                        data,
                        resumed: false,
                    }));
                }
            }
        }
    }
}

/// Position of the last row consumed, for the paging state.
#[derive(Clone, Debug)]
struct Position {
    key: Bytes,
    clustering: Option<Clustering>,
    partition_done: bool,
    remaining_in_partition: u32,
}

fn row_bytes(row: &[Option<Bytes>]) -> usize {
    row.iter()
        .map(|v| 4 + v.as_ref().map_or(0, |b| b.len()))
        .sum()
}

fn too_large() -> QueryError {
    QueryError::invalid(format!(
        "The result of this query is larger than {MAX_RESULT_BYTES} bytes; page through it (set a fetch size) or add a LIMIT"
    ))
}

/// Runs the read loop.
pub(crate) fn run(
    plan: &ReadPlan<'_>,
    bound: &BoundWhere,
    source: &dyn DataSource,
    options: &ExecOptions,
) -> Result<ResultSet, QueryError> {
    let page_size = options
        .page_size
        .filter(|p| *p > 0)
        .map(|p| p as u32)
        .filter(|_| plan.mode != Mode::AggregateAll);
    if page_size.is_some() && plan.post_order.is_some() {
        return Err(QueryError::invalid(
            "Cannot page queries with both ORDER BY and a IN restriction on the partition key; you must either remove the ORDER BY or the IN and sort client side, or disable paging for this query",
        ));
    }
    let resume = match (&options.paging_state, page_size) {
        (Some(bytes), Some(_)) if !bytes.is_empty() => Some(PagingState::decode(
            bytes,
            plan.table.id,
            plan.table.clustering_columns().len(),
        )?),
        _ => None,
    };
    let mut run = Run {
        plan,
        options,
        page_size,
        remaining: match (&resume, plan.mode) {
            (_, Mode::AggregateAll) => UNLIMITED,
            (Some(s), _) => s.remaining,
            (None, _) => plan.limit.unwrap_or(UNLIMITED),
        },
        result: ResultSet {
            columns: plan.selection.output_columns(),
            rows: Vec::new(),
            paging_state: None,
        },
        result_bytes: 0,
        emitted_in_page: 0,
        last: None,
        group: None,
        post_rows: Vec::new(),
        cmp: plan.table.clustering_comparator(),
    };
    if run.remaining == 0 {
        return Ok(run.result);
    }
    let per_partition: u32 = if plan.distinct {
        1
    } else {
        plan.per_partition_limit.unwrap_or(UNLIMITED)
    };
    let mut all_group = match plan.mode {
        Mode::AggregateAll => Some(plan.selection.new_group()?),
        _ => None,
    };

    let mut partitions = Partitions::new(plan, bound, source, resume.as_ref(), options.now_secs())?;
    let mut stop = Stop::No;
    'partitions: while let Some(produced) = partitions.next()? {
        let data = &produced.data;
        let mut in_partition = match (&resume, produced.resumed) {
            (Some(s), true) => s.remaining_in_partition,
            _ => per_partition,
        };
        let static_view = RowView {
            partition: data,
            row: None,
        };
        if in_partition == 0 || !matches_all(&bound.partition_filters, &static_view) {
            continue;
        }
        let mut views: Vec<RowView<'_>> = Vec::new();
        if data.rows.is_empty() {
            if data.static_row.is_some() && plan.static_rows && !produced.resumed {
                views.push(static_view);
            }
        } else {
            for r in &data.rows {
                let v = RowView {
                    partition: data,
                    row: Some(r),
                };
                if matches_all(&bound.row_filters, &v) {
                    views.push(v);
                }
            }
        }
        for view in views {
            let outcome = match plan.mode {
                Mode::AggregateAll => {
                    if let Some(g) = all_group.as_mut() {
                        plan.selection.add_to_group(g, &view, options)?;
                    }
                    Stop::No
                }
                Mode::GroupBy(prefix) => run.group_row(&view, prefix, &mut in_partition)?,
                Mode::Rows => run.plain_row(&view, &mut in_partition)?,
            };
            match outcome {
                Stop::No => {}
                Stop::Partition => continue 'partitions,
                other => {
                    stop = other;
                    break 'partitions;
                }
            }
        }
    }

    if let Mode::GroupBy(_) = plan.mode {
        if stop == Stop::No {
            // The data ended inside the last group: it is complete, and nothing follows.
            if let Some((_, g)) = run.group.take() {
                let row = plan.selection.group_row(&g, options)?;
                run.push(row)?;
                // As Cassandra's group-by pager: a page the last group fills ends with a
                // paging state (the pager cannot know the data ended), so a final empty
                // page follows.
                if run.after_emit() == Stop::Page {
                    stop = Stop::Page;
                }
            }
        }
    }
    if let Some(g) = all_group.as_ref() {
        let row = plan.selection.group_row(g, options)?;
        run.result.rows.push(row);
    }
    if let Some((cols, reversed)) = &plan.post_order {
        let cmp = &run.cmp;
        let mut rows = std::mem::take(&mut run.post_rows);
        rows.sort_by(|a, b| {
            let mut o = Ordering::Equal;
            for (i, p) in cols.iter().enumerate() {
                o = match (
                    a.0.get(i).and_then(Option::as_ref),
                    b.0.get(i).and_then(Option::as_ref),
                ) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => cmp.compare_component(*p, x, y),
                };
                if o != Ordering::Equal {
                    break;
                }
            }
            if *reversed {
                o.reverse()
            } else {
                o
            }
        });
        if let Some(limit) = plan.limit {
            rows.truncate(limit as usize);
        }
        run.result.rows = rows.into_iter().map(|(_, r)| r).collect();
    }
    if stop == Stop::Page && run.remaining != 0 {
        if let Some(pos) = run.last.take() {
            let done = pos.partition_done || plan.distinct;
            let state = PagingState {
                partition_key: pos.key,
                clustering: if done { None } else { pos.clustering },
                partition_done: done,
                remaining: run.remaining,
                remaining_in_partition: pos.remaining_in_partition,
            };
            run.result.paging_state = Some(state.encode(plan.table.id));
        }
    }
    Ok(run.result)
}

/// Why the loop stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// Go on.
    No,
    /// Skip the rest of this partition.
    Partition,
    /// The page is full: more may follow.
    Page,
    /// `LIMIT` reached: nothing follows.
    Limit,
}

/// The state of one run of the loop.
struct Run<'p, 'a> {
    plan: &'p ReadPlan<'a>,
    options: &'p ExecOptions,
    page_size: Option<u32>,
    /// Rows (groups) `LIMIT` still allows.
    remaining: u32,
    result: ResultSet,
    result_bytes: usize,
    emitted_in_page: u32,
    /// The last row consumed.
    last: Option<Position>,
    /// The `GROUP BY` group being aggregated.
    group: Option<(GroupKey, GroupState)>,
    /// Rows waiting for post-query ordering, with their sort keys.
    post_rows: Vec<SortableRow>,
    cmp: ClusteringComparator,
}

impl Run<'_, '_> {
    /// Adds a result row, counting it against `LIMIT` and the page.
    fn push(&mut self, row: Vec<Option<Bytes>>) -> Result<(), QueryError> {
        self.result_bytes += row_bytes(&row);
        if self.page_size.is_none() && self.result_bytes > MAX_RESULT_BYTES {
            return Err(too_large());
        }
        self.result.rows.push(row);
        self.emitted_in_page += 1;
        if self.remaining != UNLIMITED {
            self.remaining = self.remaining.saturating_sub(1);
        }
        Ok(())
    }

    fn after_emit(&self) -> Stop {
        if self.remaining == 0 {
            Stop::Limit
        } else if self.page_size.is_some_and(|p| self.emitted_in_page >= p) {
            Stop::Page
        } else {
            Stop::No
        }
    }

    fn position(view: &RowView<'_>, in_partition: u32, done: bool) -> Position {
        Position {
            key: view.partition.key.key().clone(),
            clustering: view.clustering().cloned(),
            partition_done: done || view.row.is_none() || in_partition == 0,
            remaining_in_partition: in_partition,
        }
    }

    fn plain_row(
        &mut self,
        view: &RowView<'_>,
        in_partition: &mut u32,
    ) -> Result<Stop, QueryError> {
        let row = self.plan.selection.row(view, self.options)?;
        if *in_partition != UNLIMITED {
            *in_partition = in_partition.saturating_sub(1);
        }
        if let Some((positions, _)) = &self.plan.post_order {
            let key = positions
                .iter()
                .map(|p| view.clustering().and_then(|c| c.0.get(*p).cloned()))
                .collect();
            self.result_bytes += row_bytes(&row);
            if self.result_bytes > MAX_RESULT_BYTES {
                return Err(too_large());
            }
            self.post_rows.push((key, row));
            self.last = Some(Self::position(view, *in_partition, false));
            return Ok(if *in_partition == 0 {
                Stop::Partition
            } else {
                Stop::No
            });
        }
        self.push(row)?;
        self.last = Some(Self::position(view, *in_partition, false));
        Ok(match self.after_emit() {
            Stop::No if *in_partition == 0 => Stop::Partition,
            other => other,
        })
    }

    fn group_row(
        &mut self,
        view: &RowView<'_>,
        prefix: usize,
        in_partition: &mut u32,
    ) -> Result<Stop, QueryError> {
        let key = GroupKey::of(view, prefix);
        let same = self
            .group
            .as_ref()
            .is_some_and(|(k, _)| k.same_group(&key, &self.cmp));
        if !same {
            if let Some((done_key, g)) = self.group.take() {
                // The previous group is complete.
                let row = self.plan.selection.group_row(&g, self.options)?;
                self.push(row)?;
                if done_key.partition == key.partition && *in_partition != UNLIMITED {
                    *in_partition = in_partition.saturating_sub(1);
                    if let Some(pos) = self.last.as_mut() {
                        pos.remaining_in_partition = *in_partition;
                        pos.partition_done = *in_partition == 0;
                    }
                }
                match self.after_emit() {
                    Stop::No => {}
                    other => return Ok(other),
                }
                if *in_partition == 0 {
                    return Ok(Stop::Partition);
                }
            }
            self.group = Some((key, self.plan.selection.new_group()?));
        }
        if let Some((_, g)) = self.group.as_mut() {
            self.plan.selection.add_to_group(g, view, self.options)?;
        }
        self.last = Some(Self::position(view, *in_partition, false));
        Ok(Stop::No)
    }
}

/// The key of a `GROUP BY` group: the partition key and a clustering prefix.
struct GroupKey {
    partition: Bytes,
    prefix: Option<Vec<Bytes>>,
}

impl GroupKey {
    fn of(view: &RowView<'_>, prefix: usize) -> GroupKey {
        GroupKey {
            partition: view.partition.key.key().clone(),
            prefix: view
                .clustering()
                .map(|c| c.0.iter().take(prefix).cloned().collect()),
        }
    }

    fn same_group(&self, other: &GroupKey, cmp: &ClusteringComparator) -> bool {
        if self.partition != other.partition {
            return false;
        }
        match (&self.prefix, &other.prefix) {
            (Some(a), Some(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .enumerate()
                        .all(|(i, (x, y))| cmp.compare_component(i, x, y) == Ordering::Equal)
            }
            _ => false,
        }
    }
}
