//! Range reads: partitions of a key range in token order, one ring segment at a time, from
//! as many replicas of each segment as the level requires, merged.
//!
//! A batch never spans two ring segments (their replica sets differ). When a replica stops
//! at a limit, the batch is cut at the smallest last key among the truncated answers: past
//! it, some replica's data is missing, so the next batch resumes right after it.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{FuturesUnordered, StreamExt};
use meridian_storage::table::{token_end_bound, token_start_bound};
use meridian_types::model::{ClusteringComparator, Partition, TableId};
use meridian_types::token::{PartitionKey, Token};

use super::messages::{
    from_body, partition_bytes, partition_from_bytes, to_body, RangeReadRequest, RangeReadResponse,
    WireKeyBound, VERB_RANGE_READ,
};
use super::topology::Topology;
use super::write::{requirement, Requirement};
use super::{run_storage, ConsistencyLevel, Coordinator, CoordinatorError};
use crate::ids::HostId;

/// Most encoded bytes a replica returns per range-read answer.
pub const RANGE_READ_MAX_BYTES: u32 = 4 * 1024 * 1024;

/// One batch of a range read.
#[derive(Debug)]
pub struct RangeBatch {
    /// Partitions in token order.
    pub partitions: Vec<(PartitionKey, Partition)>,
    /// Where the next batch starts, or `None` when the range is exhausted.
    pub next_start: Option<Bound<PartitionKey>>,
}

fn bound_token(b: &Bound<PartitionKey>) -> Option<Token> {
    match b {
        Bound::Unbounded => None,
        Bound::Included(k) | Bound::Excluded(k) => Some(k.token()),
    }
}

fn before_end(k: &PartitionKey, end: &Bound<PartitionKey>) -> bool {
    match end {
        Bound::Unbounded => true,
        Bound::Included(e) => k <= e,
        Bound::Excluded(e) => k < e,
    }
}

/// Replica answers to a range read: (partitions in key order, truncated).
type RangeAnswer = (Vec<(PartitionKey, Partition)>, bool);

impl Coordinator {
    /// Reads the next batch of at most `max_partitions` partitions of `table` with keys in
    /// `(start, end)` at `cl`.
    pub async fn range_batch(
        self: &Arc<Self>,
        table: TableId,
        start: Bound<PartitionKey>,
        end: Bound<PartitionKey>,
        max_partitions: u32,
        cl: ConsistencyLevel,
    ) -> Result<RangeBatch, CoordinatorError> {
        let placement = self.placement(table)?;
        let topology = self.topology();
        let cmp = self.engine.comparator(table)?;
        let start_token = bound_token(&start).unwrap_or(Token(i64::MIN));
        // The ring segment holding the start: it ends at the first ring token >= start
        // (segments past the last ring token wrap to the first one's replicas).
        let ring_tokens = topology.ring().sorted_tokens();
        let (segment_end, replica_token) = match ring_tokens.iter().find(|t| **t >= start_token) {
            Some(t) => (Some(*t), *t),
            None => (None, ring_tokens.first().copied().unwrap_or(Token(0))),
        };
        let segment_bound = match segment_end {
            Some(t) => token_end_bound(t),
            None => Bound::Unbounded,
        };
        // The batch's end: the nearer of the segment's end and the requested end.
        let batch_end = nearer_end(segment_bound.clone(), end.clone());
        let mut replicas = topology.replicas(&placement, replica_token);
        let req = requirement(cl, &placement.strategy, &topology, &replicas)?;
        topology.sort_by_proximity(&mut replicas);
        let targets = choose_targets(&req, &replicas, &topology);
        let deadline = tokio::time::Instant::now() + self.config.range_timeout;
        let mut asks = FuturesUnordered::new();
        for host in &targets {
            asks.push(self.ask_range(
                &topology,
                *host,
                table,
                start.clone(),
                batch_end.clone(),
                max_partitions,
                &cmp,
                deadline,
            ));
        }
        let mut answers: Vec<RangeAnswer> = Vec::new();
        let mut answered: HashSet<HostId> = HashSet::new();
        while let Some((host, r)) = asks.next().await {
            match r {
                Ok(a) => {
                    answered.insert(host);
                    answers.push(a);
                }
                Err(e) => tracing::debug!(%host, error = %e, "range read from replica failed"),
            }
        }
        if !req.satisfied(&answered) {
            let (received, block_for) = req.progress(&answered);
            return Err(CoordinatorError::ReadTimeout {
                consistency: cl,
                received,
                block_for,
                data_present: !answers.is_empty(),
            });
        }
        // Cut at the smallest last key of a truncated answer.
        let cut: Option<PartitionKey> = answers
            .iter()
            .filter(|(_, truncated)| *truncated)
            .filter_map(|(ps, _)| ps.last().map(|(k, _)| k.clone()))
            .min();
        let mut merged: BTreeMap<PartitionKey, Partition> = BTreeMap::new();
        for (partitions, _) in answers {
            for (k, p) in partitions {
                if cut.as_ref().is_some_and(|c| k > *c) {
                    continue;
                }
                match merged.remove(&k) {
                    Some(existing) => {
                        merged.insert(k, existing.merge(&cmp, p));
                    }
                    None => {
                        merged.insert(k, p);
                    }
                }
            }
        }
        let partitions: Vec<(PartitionKey, Partition)> = merged.into_iter().collect();
        let next_start = match cut {
            Some(c) => Some(Bound::Excluded(c)),
            None => match segment_end {
                // Past the segment: resume at the next token if it is still in range.
                Some(t) if t.0 < i64::MAX => {
                    let next = token_start_bound(t, false);
                    let still_in = match &next {
                        Bound::Included(k) | Bound::Excluded(k) => before_end(k, &end),
                        Bound::Unbounded => false,
                    };
                    still_in.then_some(next)
                }
                _ => None,
            },
        };
        Ok(RangeBatch {
            partitions,
            next_start,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn ask_range(
        self: &Arc<Self>,
        topology: &Topology,
        host: HostId,
        table: TableId,
        start: Bound<PartitionKey>,
        end: Bound<PartitionKey>,
        max_partitions: u32,
        cmp: &ClusteringComparator,
        deadline: tokio::time::Instant,
    ) -> futures::future::BoxFuture<'static, (HostId, Result<RangeAnswer, CoordinatorError>)> {
        if host == self.local {
            let engine = self.engine.clone();
            let inline = self.config.storage_inline;
            return Box::pin(async move {
                let r = run_storage(inline, move || {
                    local_range(
                        &engine,
                        table,
                        start,
                        end,
                        max_partitions,
                        RANGE_READ_MAX_BYTES,
                    )
                })
                .await
                .map_err(|e| CoordinatorError::Internal(format!("range read task failed: {e}")))
                .and_then(|r| r);
                (host, r)
            });
        }
        let addr = topology.address(host);
        let messaging = self.messaging.get().cloned();
        let body = to_body(&RangeReadRequest {
            table: *table.0.as_bytes(),
            start: WireKeyBound::encode(&start),
            end: WireKeyBound::encode(&end),
            max_partitions,
            max_bytes: RANGE_READ_MAX_BYTES,
        });
        let cmp = cmp.clone();
        Box::pin(async move {
            let (Some(addr), Some(messaging)) = (addr, messaging) else {
                return (
                    host,
                    Err(CoordinatorError::Internal("no route to replica".into())),
                );
            };
            let timeout = deadline.saturating_duration_since(tokio::time::Instant::now());
            let r = match messaging
                .request(addr, VERB_RANGE_READ, body, timeout)
                .await
            {
                Err(e) => Err(CoordinatorError::Internal(e.to_string())),
                Ok(bytes) => decode_range_answer(&bytes, &cmp),
            };
            (host, r)
        })
    }
}

fn decode_range_answer(
    bytes: &[u8],
    cmp: &ClusteringComparator,
) -> Result<RangeAnswer, CoordinatorError> {
    let resp: RangeReadResponse = from_body(bytes).map_err(CoordinatorError::Internal)?;
    let mut out = Vec::with_capacity(resp.partitions.len());
    for (k, p) in resp.partitions {
        let key = PartitionKey::new(Bytes::from(k));
        let p = partition_from_bytes(&p, cmp).map_err(CoordinatorError::Internal)?;
        out.push((key, p));
    }
    Ok((out, resp.truncated))
}

/// Reads a key range from local storage, stopping at the limits.
pub(crate) fn local_range(
    engine: &meridian_storage::Engine,
    table: TableId,
    start: Bound<PartitionKey>,
    end: Bound<PartitionKey>,
    max_partitions: u32,
    max_bytes: u32,
) -> Result<RangeAnswer, CoordinatorError> {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    let mut truncated = false;
    for item in engine.scan(table, start, end)? {
        let (k, p) = item?;
        if out.len() as u32 >= max_partitions.max(1) || bytes >= max_bytes as usize {
            truncated = true;
            break;
        }
        bytes += partition_bytes(&p).len();
        out.push((k, p));
    }
    Ok((out, truncated))
}

/// Encodes a local range answer for the wire.
pub(crate) fn range_answer_body(answer: RangeAnswer) -> Bytes {
    let (partitions, truncated) = answer;
    to_body(&RangeReadResponse {
        partitions: partitions
            .into_iter()
            .map(|(k, p)| (k.key().to_vec(), partition_bytes(&p)))
            .collect(),
        truncated,
    })
}

fn nearer_end(a: Bound<PartitionKey>, b: Bound<PartitionKey>) -> Bound<PartitionKey> {
    match (&a, &b) {
        (Bound::Unbounded, _) => b,
        (_, Bound::Unbounded) => a,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            if x < y {
                a
            } else if y < x {
                b
            } else if matches!(a, Bound::Excluded(_)) {
                a
            } else {
                b
            }
        }
    }
}

fn choose_targets(req: &Requirement, replicas: &[HostId], topology: &Topology) -> Vec<HostId> {
    let live: Vec<HostId> = replicas
        .iter()
        .copied()
        .filter(|h| topology.is_up(*h))
        .collect();
    match req {
        Requirement::Total {
            block_for,
            eligible,
        } => live
            .into_iter()
            .filter(|h| eligible.contains(h))
            .take(*block_for as usize)
            .collect(),
        Requirement::PerDatacenter(dcs) => {
            let mut v = Vec::new();
            for (_, block_for, hosts) in dcs {
                v.extend(
                    live.iter()
                        .copied()
                        .filter(|h| hosts.contains(h))
                        .take(*block_for as usize),
                );
            }
            v
        }
    }
}
