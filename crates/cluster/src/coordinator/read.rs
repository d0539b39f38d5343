//! The single-partition read path: data from the closest replica, digests from the
//! others, speculative retry, and blocking read repair on a mismatch.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::stream::{FuturesUnordered, StreamExt};
use meridian_types::model::encode_mutation;
use meridian_types::model::{
    ClusteringComparator, Mutation, Partition, PartitionUpdate, Slice, TableId,
};
use meridian_types::token::PartitionKey;

use super::messages::{
    digest_of, from_body, partition_from_bytes, to_body, ReadRequest, ReadResponse, WireSlice,
    VERB_MUTATION, VERB_READ,
};
use super::topology::Topology;
use super::write::{requirement, Requirement};
use super::{run_storage, ConsistencyLevel, Coordinator, CoordinatorError};
use crate::ids::HostId;

/// One replica's answer.
enum Answer {
    Data(Option<Partition>),
    Digest([u8; 16]),
}

impl Coordinator {
    /// Reads `slices` of partition `key` of `table` at `cl` (the partition with its
    /// tombstones, merged across the replicas consulted).
    pub async fn read(
        self: &Arc<Self>,
        table: TableId,
        key: &PartitionKey,
        slices: &[Slice],
        cl: ConsistencyLevel,
    ) -> Result<Option<Partition>, CoordinatorError> {
        let placement = self.placement(table)?;
        let topology = self.topology();
        let mut replicas = topology.replicas(&placement, key.token());
        let req = requirement(cl, &placement.strategy, &topology, &replicas)?;
        topology.sort_by_proximity(&mut replicas);
        // Candidates: live replicas that count for the level, closest first.
        let counts = |h: &HostId| match &req {
            Requirement::Total { eligible, .. } => eligible.contains(h),
            Requirement::PerDatacenter(dcs) => dcs.iter().any(|(_, _, hs)| hs.contains(h)),
        };
        let candidates: Vec<HostId> = replicas
            .iter()
            .copied()
            .filter(|h| topology.is_up(*h) && counts(h))
            .collect();
        let initial: Vec<HostId> = match &req {
            Requirement::Total { block_for, .. } => candidates
                .iter()
                .copied()
                .take(*block_for as usize)
                .collect(),
            Requirement::PerDatacenter(dcs) => {
                let mut v = Vec::new();
                for (_, block_for, hosts) in dcs {
                    v.extend(
                        candidates
                            .iter()
                            .copied()
                            .filter(|h| hosts.contains(h))
                            .take(*block_for as usize),
                    );
                }
                v
            }
        };
        let cmp = self.engine.comparator(table)?;
        let mut extra: Vec<HostId> = candidates
            .iter()
            .copied()
            .filter(|h| !initial.contains(h))
            .collect();
        if matches!(req, Requirement::PerDatacenter(_)) {
            extra.clear();
        }
        extra.reverse(); // pop() yields the closest first

        let deadline = tokio::time::Instant::now() + self.config.read_timeout;
        let mut inflight = FuturesUnordered::new();
        for (i, host) in initial.iter().enumerate() {
            inflight.push(self.ask(&topology, *host, table, key, slices, i > 0, &cmp, deadline));
        }
        let mut answers: Vec<(HostId, Answer)> = Vec::new();
        let mut answered: HashSet<HostId> = HashSet::new();
        let mut speculate_at =
            Some(tokio::time::Instant::now() + self.config.speculative_retry_delay);
        let mut data_present = false;
        loop {
            let have_data = answers.iter().any(|(_, a)| matches!(a, Answer::Data(_)));
            if have_data && req.satisfied(&answered) {
                break;
            }
            if inflight.is_empty() && extra.is_empty() {
                break;
            }
            let next = match speculate_at {
                Some(at) if !extra.is_empty() => at.min(deadline),
                _ => deadline,
            };
            tokio::select! {
                r = inflight.next(), if !inflight.is_empty() => {
                    if let Some((host, Ok(answer))) = r {
                        if matches!(answer, Answer::Data(_)) {
                            data_present = true;
                        }
                        answered.insert(host);
                        answers.push((host, answer));
                    }
                    if inflight.is_empty() && !extra.is_empty() {
                        // Everyone asked has answered or failed: ask another at once.
                        speculate_at = Some(tokio::time::Instant::now());
                    }
                }
                _ = tokio::time::sleep_until(next) => {
                    if tokio::time::Instant::now() >= deadline {
                        break;
                    }
                    if let Some(host) = extra.pop() {
                        self.stats.speculative_reads.fetch_add(1, Ordering::Relaxed);
                        inflight.push(self.ask(&topology, host, table, key, slices, false, &cmp, deadline));
                        speculate_at = Some(tokio::time::Instant::now() + self.config.speculative_retry_delay);
                    } else {
                        speculate_at = None;
                    }
                }
            }
        }
        let have_data = answers.iter().any(|(_, a)| matches!(a, Answer::Data(_)));
        if !(have_data && req.satisfied(&answered)) {
            let (received, block_for) = req.progress(&answered);
            return Err(CoordinatorError::ReadTimeout {
                consistency: cl,
                received,
                block_for,
                data_present,
            });
        }
        // All digests equal (or a single answer, nothing to compare): answer with the data.
        // Each answer's digest is computed once; a lone answer needs none.
        let all_match = answers.len() == 1 || {
            let digests: Vec<[u8; 16]> = answers
                .iter()
                .map(|(_, a)| match a {
                    Answer::Data(p) => digest_of(p.as_ref()),
                    Answer::Digest(d) => *d,
                })
                .collect();
            digests.windows(2).all(|w| w[0] == w[1])
        };
        if all_match {
            return Ok(answers
                .into_iter()
                .find_map(|(_, a)| match a {
                    Answer::Data(p) => Some(p),
                    Answer::Digest(_) => None,
                })
                .flatten());
        }
        self.repair(
            &topology, table, key, slices, cl, &req, answers, &cmp, deadline,
        )
        .await
    }

    /// Digest mismatch: data from everyone who answered, merged, written back to those
    /// who differ, and waited for.
    #[allow(clippy::too_many_arguments)]
    async fn repair(
        self: &Arc<Self>,
        topology: &Arc<Topology>,
        table: TableId,
        key: &PartitionKey,
        slices: &[Slice],
        cl: ConsistencyLevel,
        req: &Requirement,
        answers: Vec<(HostId, Answer)>,
        cmp: &ClusteringComparator,
        deadline: tokio::time::Instant,
    ) -> Result<Option<Partition>, CoordinatorError> {
        self.stats.read_repairs.fetch_add(1, Ordering::Relaxed);
        let mut datas: Vec<(HostId, Option<Partition>)> = Vec::new();
        let mut asks = FuturesUnordered::new();
        for (host, answer) in answers {
            match answer {
                Answer::Data(p) => datas.push((host, p)),
                Answer::Digest(_) => {
                    asks.push(self.ask(topology, host, table, key, slices, false, cmp, deadline))
                }
            }
        }
        while let Some((host, r)) = asks.next().await {
            if let Ok(Answer::Data(p)) = r {
                datas.push((host, p));
            }
        }
        let responded: HashSet<HostId> = datas.iter().map(|(h, _)| *h).collect();
        if !req.satisfied(&responded) {
            let (received, block_for) = req.progress(&responded);
            return Err(CoordinatorError::ReadTimeout {
                consistency: cl,
                received,
                block_for,
                data_present: true,
            });
        }
        let merged =
            datas
                .iter()
                .filter_map(|(_, p)| p.clone())
                .fold(None::<Partition>, |acc, p| {
                    Some(match acc {
                        None => p,
                        Some(a) => a.merge(cmp, p),
                    })
                });
        let Some(merged) = merged else {
            return Ok(None);
        };
        let merged_digest = digest_of(Some(&merged));
        let mut mutation = Mutation::default();
        mutation.updates.push(PartitionUpdate {
            table,
            key: key.clone(),
            partition: merged.clone(),
        });
        let mut encoded = BytesMut::new();
        encode_mutation(&mut encoded, &mutation);
        let encoded: Bytes = encoded.freeze();
        let mut repairs = FuturesUnordered::new();
        for (host, p) in &datas {
            if digest_of(p.as_ref()) == merged_digest {
                continue;
            }
            let host = *host;
            if host == self.local {
                let engine = self.engine.clone();
                let m = mutation.clone();
                let inline = self.config.storage_inline;
                repairs.push(futures::future::Either::Left(async move {
                    let r = run_storage(inline, move || engine.apply(m)).await;
                    (host, matches!(r, Ok(Ok(()))))
                }));
            } else if let (Some(addr), Some(messaging)) =
                (topology.address(host), self.messaging.get().cloned())
            {
                let body = encoded.clone();
                let timeout = self.config.write_timeout;
                repairs.push(futures::future::Either::Right(async move {
                    let r = messaging.request(addr, VERB_MUTATION, body, timeout).await;
                    (host, r.is_ok())
                }));
            }
        }
        let mut failed = 0u32;
        while let Some((host, ok)) = repairs.next().await {
            if !ok {
                tracing::debug!(%host, "read repair write failed");
                failed += 1;
            }
        }
        if failed > 0 {
            let (received, block_for) = req.progress(&responded);
            return Err(CoordinatorError::ReadTimeout {
                consistency: cl,
                received: received.saturating_sub(failed),
                block_for,
                data_present: true,
            });
        }
        Ok(Some(merged))
    }

    /// Asks one replica for data or a digest.
    #[allow(clippy::too_many_arguments)]
    fn ask(
        self: &Arc<Self>,
        topology: &Topology,
        host: HostId,
        table: TableId,
        key: &PartitionKey,
        slices: &[Slice],
        digest_only: bool,
        cmp: &ClusteringComparator,
        deadline: tokio::time::Instant,
    ) -> futures::future::BoxFuture<'static, (HostId, Result<Answer, CoordinatorError>)> {
        if host == self.local {
            let engine = self.engine.clone();
            let key = key.clone();
            let slices = slices.to_vec();
            let inline = self.config.storage_inline;
            return Box::pin(async move {
                let r = run_storage(inline, move || engine.read(table, &key, &slices))
                    .await
                    .map_err(|e| CoordinatorError::Internal(format!("read task failed: {e}")))
                    .and_then(|r| r.map_err(CoordinatorError::from))
                    .map(|p| {
                        if digest_only {
                            Answer::Digest(digest_of(p.as_ref()))
                        } else {
                            Answer::Data(p)
                        }
                    });
                (host, r)
            });
        }
        let addr = topology.address(host);
        let messaging = self.messaging.get().cloned();
        let body = to_body(&ReadRequest {
            table: *table.0.as_bytes(),
            key: key.key().to_vec(),
            slices: WireSlice::encode(slices),
            digest_only,
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
            let r = match messaging.request(addr, VERB_READ, body, timeout).await {
                Err(e) => Err(CoordinatorError::Internal(e.to_string())),
                Ok(bytes) => match from_body::<ReadResponse>(&bytes) {
                    Err(e) => Err(CoordinatorError::Internal(e)),
                    Ok(ReadResponse::Digest(d)) => Ok(Answer::Digest(d)),
                    Ok(ReadResponse::Data(None)) => Ok(Answer::Data(None)),
                    Ok(ReadResponse::Data(Some(b))) => partition_from_bytes(&b, &cmp)
                        .map(|p| Answer::Data(Some(p)))
                        .map_err(CoordinatorError::Internal),
                },
            };
            (host, r)
        })
    }
}
