//! Executing a compaction task: merge the input SSTables partition by partition, purge what
//! the purge policy allows, write the result to new SSTables, and swap them in atomically.
//!
//! A tombstone is purged only when it is past the table's `gc_grace_seconds` *and* older than
//! any data for the same partition outside the compaction (other SSTables whose token range
//! and bloom filter admit the key, and memtables holding the key), so a deleted row can never
//! come back.

use std::ops::Bound;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use meridian_types::model::{decode_partition, Partition};
use meridian_types::token::{PartitionKey, Token};
use parking_lot::Mutex;

use crate::compaction_strategy::CompactionTask;
use crate::engine::Inner;
use crate::error::StorageError;
use crate::sstable::SstableWriter;
use crate::table::{encode_for_sstable, SstableHandle, SstableStatsBuilder, Table};

/// Limits compaction writes to a number of bytes per second (a token bucket refilled
/// continuously, with at most one second of burst).
pub struct CompactionThrottle {
    bytes_per_sec: u64,
    state: Mutex<(f64, Instant)>,
}

impl CompactionThrottle {
    /// A throttle of `mib_per_sec` MiB/s; 0 disables it.
    pub fn new(mib_per_sec: u64) -> Self {
        CompactionThrottle {
            bytes_per_sec: mib_per_sec.saturating_mul(1024 * 1024),
            state: Mutex::new((0.0, Instant::now())),
        }
    }

    /// Accounts for `bytes` written, sleeping as long as needed to stay under the rate.
    pub fn consume(&self, bytes: u64) {
        if self.bytes_per_sec == 0 {
            return;
        }
        let rate = self.bytes_per_sec as f64;
        let sleep = {
            let mut s = self.state.lock();
            let now = Instant::now();
            let elapsed = now.duration_since(s.1).as_secs_f64();
            s.0 = (s.0 + elapsed * rate).min(rate) - bytes as f64;
            s.1 = now;
            if s.0 < 0.0 {
                Duration::from_secs_f64(-s.0 / rate)
            } else {
                Duration::ZERO
            }
        };
        if !sleep.is_zero() {
            std::thread::sleep(sleep);
        }
    }
}

/// Runs one compaction task of `table`.
pub(crate) fn run_compaction(
    inner: &Inner,
    table: &Arc<Table>,
    task: &CompactionTask,
) -> Result<(), StorageError> {
    let view = table.view();
    let inputs: Vec<Arc<SstableHandle>> = view
        .sstables
        .iter()
        .filter(|s| task.inputs.contains(&s.generation))
        .cloned()
        .collect();
    if inputs.len() != task.inputs.len() || inputs.is_empty() {
        // Some input went away (truncate, another compaction): nothing to do.
        return Ok(());
    }
    let options = table.options();
    let cmp = options.comparator.clone();
    let mut iters: Vec<_> = inputs
        .iter()
        .map(|s| {
            s.reader
                .iter_range(Bound::Unbounded, Bound::Unbounded)
                .peekable()
        })
        .collect();
    let mut outputs: Vec<Arc<SstableHandle>> = Vec::new();
    let mut current: Option<(u64, SstableWriter, SstableStatsBuilder)> = None;
    let mut written_in_current = 0u64;
    let mut buf = BytesMut::new();
    let started = Instant::now();
    let finish = |cur: (u64, SstableWriter, SstableStatsBuilder),
                  outputs: &mut Vec<Arc<SstableHandle>>|
     -> Result<(), StorageError> {
        let (generation, writer, stats) = cur;
        let summary = writer.finish(stats.finish())?;
        inner
            .bytes_compacted
            .fetch_add(summary.file_size_bytes, AtomicOrdering::Relaxed);
        outputs.push(Arc::new(table.open_sstable(generation, task.output_level)?));
        Ok(())
    };
    let result: Result<(), StorageError> = (|| {
        loop {
            // The smallest key among the inputs' heads.
            let mut min: Option<(i64, bytes::Bytes)> = None;
            for it in iters.iter_mut() {
                match it.peek() {
                    Some(Ok((t, k, _))) => {
                        let better = match &min {
                            None => true,
                            Some((mt, mk)) => (*t, k.as_ref()) < (*mt, mk.as_ref()),
                        };
                        if better {
                            min = Some((*t, k.clone()));
                        }
                    }
                    Some(Err(_)) => {
                        if let Some(Err(e)) = it.next() {
                            return Err(e.into());
                        }
                    }
                    None => {}
                }
            }
            let Some((token, key_bytes)) = min else { break };
            let mut merged: Option<Partition> = None;
            for (it, input) in iters.iter_mut().zip(&inputs) {
                let matches =
                    matches!(it.peek(), Some(Ok((t, k, _))) if *t == token && *k == key_bytes);
                if !matches {
                    continue;
                }
                if let Some(Ok((_, _, data))) = it.next() {
                    let p =
                        decode_partition(data, &cmp).map_err(|source| StorageError::Corrupt {
                            path: input.reader.path().to_path_buf(),
                            source,
                        })?;
                    merged = Some(match merged {
                        Some(m) => m.merge(&cmp, p),
                        None => p,
                    });
                }
            }
            let Some(mut partition) = merged else {
                continue;
            };
            let key = PartitionKey::from_parts(Token(token), key_bytes);
            let policy = inner.purge_policy_for(table, &key, &task.inputs);
            partition.purge(&policy);
            if partition.is_empty() {
                continue;
            }
            encode_for_sstable(&mut buf, &partition);
            if current.is_none() {
                let generation = table.next_generation();
                let path = crate::manifest::sstable_path(table.dir(), generation);
                let mut sstable_config = inner.config().sstable.clone();
                let expected: u64 = inputs
                    .iter()
                    .map(|s| s.reader.summary().partition_count)
                    .sum();
                sstable_config.expected_partitions = Some(expected.max(1));
                let writer = SstableWriter::create(&path, sstable_config)?;
                current = Some((generation, writer, SstableStatsBuilder::new(cmp.clone())));
                written_in_current = 0;
            }
            if let Some((_, writer, stats)) = current.as_mut() {
                stats.add(&partition);
                writer.append(token, key.key(), &buf)?;
            }
            written_in_current += buf.len() as u64;
            inner.throttle().consume(buf.len() as u64);
            if task
                .max_output_sstable_bytes
                .is_some_and(|max| written_in_current >= max)
            {
                if let Some(cur) = current.take() {
                    finish(cur, &mut outputs)?;
                }
            }
        }
        if let Some(cur) = current.take() {
            finish(cur, &mut outputs)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        // Outputs not yet in the manifest are deleted; a writer still open removes its
        // temporary file when dropped.
        for o in &outputs {
            let _ = std::fs::remove_file(o.reader.path());
        }
        return Err(e);
    }
    table.install(&[], &task.inputs, outputs.clone())?;
    for s in &inputs {
        if let Err(e) = std::fs::remove_file(s.reader.path()) {
            tracing::warn!(file = %s.reader.path().display(), error = %e, "could not remove compacted sstable");
        }
    }
    tracing::debug!(
        table = %options.name,
        inputs = inputs.len(),
        outputs = outputs.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "compaction finished"
    );
    Ok(())
}
