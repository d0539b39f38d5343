//! The batch log: a logged batch that spans several partitions is first stored on other
//! nodes of the coordinator's datacenter (up to two, on different racks when possible), then
//! applied, then removed. A node holding a batch whose removal never came (the coordinator
//! died, or some partition's write failed) replays it after [`REPLAY_AGE_FACTOR`] write
//! timeouts, so the batch is applied entirely or eventually completed: all or nothing, as
//! Cassandra's logged batches.
//!
//! Storage: one file per batch in the node's batch-log directory, written to a temporary
//! name, fsynced and renamed (so a batch is durable before its store is acknowledged).
//! File format: magic `MBL1`, created-at microseconds (i64 BE), payload length (u32 BE),
//! CRC32C of the payload (u32 BE), payload (an encoded mutation). Files are untrusted on
//! read: a damaged one is reported and set aside, never a panic.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use meridian_types::model::{decode_mutation, encode_mutation, Mutation};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::messages::{from_body, to_body, FIRST_EXTENSION_VERB};
use super::{ConsistencyLevel, Coordinator, CoordinatorError, WriteType};
use crate::ids::HostId;
use crate::net::Verb;

/// Store a batch (body: [`StoreBatch`]). Answer: empty.
pub const VERB_BATCH_STORE: Verb = Verb(8);
/// Remove a batch (one-way; body: 16-byte batch id).
pub const VERB_BATCH_REMOVE: Verb = Verb(9);
const _: () = assert!(9 < FIRST_EXTENSION_VERB);

/// A batch is replayed once it is this many write timeouts old.
pub const REPLAY_AGE_FACTOR: u32 = 2;
/// How often stored batches are checked for replay.
pub const REPLAY_INTERVAL: Duration = Duration::from_secs(5);
/// Most bytes of batches a node stores for others.
pub const MAX_BATCHLOG_BYTES: u64 = 256 * 1024 * 1024;

const MAGIC: &[u8; 4] = b"MBL1";
const HEADER_BYTES: usize = 4 + 8 + 4 + 4;

/// The body of [`VERB_BATCH_STORE`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoreBatch {
    /// Batch id.
    pub id: [u8; 16],
    /// When the coordinator created it (microseconds since the epoch).
    pub created_micros: i64,
    /// The encoded mutation of the whole batch.
    pub mutation: Vec<u8>,
}

/// Why the batch log failed.
#[derive(Debug, thiserror::Error)]
pub enum BatchlogError {
    /// File-system failure.
    #[error("batch log {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The store is full.
    #[error("batch log full: {used_bytes} of {limit_bytes} bytes used")]
    Full {
        /// Bytes stored.
        used_bytes: u64,
        /// The limit.
        limit_bytes: u64,
    },
    /// A stored file is damaged.
    #[error("batch log file {path} is damaged: {reason}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A stored batch.
#[derive(Clone, Debug)]
pub struct StoredBatch {
    /// Its id.
    pub id: uuid::Uuid,
    /// Creation time, microseconds since the epoch.
    pub created_micros: i64,
    /// The encoded mutation.
    pub mutation: Bytes,
}

/// The batches this node holds for coordinators.
pub struct BatchlogStore {
    dir: PathBuf,
    used_bytes: AtomicU64,
    limit_bytes: u64,
    /// Serialises writers against the limit check.
    lock: Mutex<()>,
}

impl BatchlogStore {
    /// Opens (creating) the store in `dir`; leftover temporary files are removed.
    pub fn open(dir: &Path) -> Result<BatchlogStore, BatchlogError> {
        let io = |source| BatchlogError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut used = 0u64;
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let path = entry.path();
            match path.extension().and_then(|e| e.to_str()) {
                Some("tmp") => {
                    let _ = std::fs::remove_file(&path);
                }
                Some("batch") => used += entry.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
        Ok(BatchlogStore {
            dir: dir.to_path_buf(),
            used_bytes: AtomicU64::new(used),
            limit_bytes: MAX_BATCHLOG_BYTES,
            lock: Mutex::new(()),
        })
    }

    fn path_of(&self, id: uuid::Uuid) -> PathBuf {
        self.dir.join(format!("{id}.batch"))
    }

    /// Stores a batch durably.
    pub fn store(&self, batch: &StoredBatch) -> Result<(), BatchlogError> {
        use std::io::Write;
        let len = u32::try_from(batch.mutation.len()).map_err(|_| BatchlogError::Full {
            used_bytes: self.used_bytes.load(Ordering::Relaxed),
            limit_bytes: self.limit_bytes,
        })?;
        let size = (HEADER_BYTES + batch.mutation.len()) as u64;
        let _guard = self.lock.lock();
        let used = self.used_bytes.load(Ordering::Relaxed);
        if used + size > self.limit_bytes {
            return Err(BatchlogError::Full {
                used_bytes: used,
                limit_bytes: self.limit_bytes,
            });
        }
        let path = self.path_of(batch.id);
        let tmp = path.with_extension("tmp");
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| BatchlogError::Io { path: p, source }
        };
        let mut buf = Vec::with_capacity(size as usize);
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&batch.created_micros.to_be_bytes());
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(&crc32c::crc32c(&batch.mutation).to_be_bytes());
        buf.extend_from_slice(&batch.mutation);
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&buf).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))?;
        self.used_bytes.fetch_add(size, Ordering::Relaxed);
        Ok(())
    }

    /// Removes a batch (absent: nothing to do).
    pub fn remove(&self, id: uuid::Uuid) {
        let path = self.path_of(id);
        if let Ok(meta) = std::fs::metadata(&path) {
            if std::fs::remove_file(&path).is_ok() {
                self.used_bytes.fetch_sub(meta.len(), Ordering::Relaxed);
            }
        }
    }

    /// Batches created before `before_micros`, oldest first. Damaged files are renamed
    /// `.damaged` (kept for inspection, out of the way) and reported.
    pub fn older_than(&self, before_micros: i64) -> Vec<StoredBatch> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return out;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("batch") {
                continue;
            }
            match read_batch(&path) {
                Ok(b) if b.created_micros < before_micros => out.push(b),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "setting a damaged batch-log file aside");
                    let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                    if std::fs::rename(&path, path.with_extension("damaged")).is_ok() {
                        self.used_bytes.fetch_sub(size, Ordering::Relaxed);
                    }
                }
            }
        }
        out.sort_by_key(|b| b.created_micros);
        out
    }

    /// Number of batches stored.
    pub fn len(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .map(|es| {
                es.flatten()
                    .filter(|e| e.path().extension().and_then(|x| x.to_str()) == Some("batch"))
                    .count()
            })
            .unwrap_or(0)
    }

    /// Whether no batch is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn read_batch(path: &Path) -> Result<StoredBatch, BatchlogError> {
    let damaged = |reason: &str| BatchlogError::Damaged {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let bytes = std::fs::read(path).map_err(|source| BatchlogError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.len() < HEADER_BYTES || &bytes[..4] != MAGIC {
        return Err(damaged("bad header"));
    }
    let field = |at: usize, n: usize| -> Result<&[u8], BatchlogError> {
        bytes.get(at..at + n).ok_or_else(|| damaged("truncated"))
    };
    let created_micros =
        i64::from_be_bytes(field(4, 8)?.try_into().map_err(|_| damaged("truncated"))?);
    let len =
        u32::from_be_bytes(field(12, 4)?.try_into().map_err(|_| damaged("truncated"))?) as usize;
    let crc = u32::from_be_bytes(field(16, 4)?.try_into().map_err(|_| damaged("truncated"))?);
    let payload = field(HEADER_BYTES, len)?;
    if bytes.len() != HEADER_BYTES + len {
        return Err(damaged("trailing bytes"));
    }
    if crc32c::crc32c(payload) != crc {
        return Err(damaged("checksum mismatch"));
    }
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| damaged("bad name"))?;
    let id = uuid::Uuid::parse_str(name).map_err(|_| damaged("bad name"))?;
    Ok(StoredBatch {
        id,
        created_micros,
        mutation: Bytes::copy_from_slice(payload),
    })
}

impl Coordinator {
    /// Writes a logged batch spanning several partitions: batch log first, then the
    /// writes, then removal from the batch log.
    pub(super) async fn write_logged_batch(
        self: &Arc<Self>,
        mutation: Mutation,
        cl: ConsistencyLevel,
    ) -> Result<(), CoordinatorError> {
        let topology = self.topology();
        let endpoints = self.batchlog_endpoints(&topology);
        let id = uuid::Uuid::new_v4();
        let mut encoded = BytesMut::new();
        encode_mutation(&mut encoded, &mutation);
        let batch = StoredBatch {
            id,
            created_micros: super::write::now_micros(),
            mutation: encoded.freeze(),
        };
        self.store_in_batchlog(&topology, &endpoints, &batch)
            .await?;
        let result = self.write_unlogged(mutation, cl, WriteType::Batch).await;
        if result.is_ok() {
            self.remove_from_batchlog(&topology, &endpoints, id);
        }
        result
    }

    /// Up to two live nodes of the local datacenter other than this one, on different
    /// racks when possible; this node alone when it has no live peer there.
    fn batchlog_endpoints(&self, topology: &super::Topology) -> Vec<HostId> {
        let view = topology.view();
        let local_dc = topology.local_datacenter();
        let mut candidates: Vec<_> = view
            .peers()
            .filter(|m| m.up && m.info.datacenter == local_dc)
            .collect();
        candidates.sort_by_key(|m| m.info.host_id);
        let mut chosen: Vec<HostId> = Vec::new();
        let mut racks: HashSet<&str> = HashSet::new();
        for m in &candidates {
            if chosen.len() < 2 && racks.insert(m.info.rack.as_str()) {
                chosen.push(m.info.host_id);
            }
        }
        for m in &candidates {
            if chosen.len() < 2 && !chosen.contains(&m.info.host_id) {
                chosen.push(m.info.host_id);
            }
        }
        if chosen.is_empty() {
            chosen.push(self.local);
        }
        chosen
    }

    async fn store_in_batchlog(
        self: &Arc<Self>,
        topology: &super::Topology,
        endpoints: &[HostId],
        batch: &StoredBatch,
    ) -> Result<(), CoordinatorError> {
        let timeout_error = |received: u32| CoordinatorError::WriteTimeout {
            consistency: ConsistencyLevel::One,
            received,
            block_for: endpoints.len() as u32,
            write_type: WriteType::BatchLog,
        };
        let mut calls = Vec::new();
        for host in endpoints {
            if *host == self.local {
                let Some(store) = self.batchlog.get().cloned() else {
                    return Err(CoordinatorError::Internal(
                        "no batch log on this node".into(),
                    ));
                };
                let batch = batch.clone();
                calls.push(futures::future::Either::Left(async move {
                    tokio::task::spawn_blocking(move || store.store(&batch))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r.map_err(|e| e.to_string()))
                }));
            } else {
                let (Some(addr), Some(messaging)) =
                    (topology.address(*host), self.messaging.get().cloned())
                else {
                    return Err(timeout_error(0));
                };
                let body = to_body(&StoreBatch {
                    id: *batch.id.as_bytes(),
                    created_micros: batch.created_micros,
                    mutation: batch.mutation.to_vec(),
                });
                let timeout = self.config.write_timeout;
                calls.push(futures::future::Either::Right(async move {
                    messaging
                        .request(addr, VERB_BATCH_STORE, body, timeout)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }));
            }
        }
        let results = futures::future::join_all(calls).await;
        let ok = results.iter().filter(|r| r.is_ok()).count() as u32;
        if ok < endpoints.len() as u32 {
            for e in results.iter().filter_map(|r| r.as_ref().err()) {
                tracing::debug!(error = %e, "batch log store failed");
            }
            return Err(timeout_error(ok));
        }
        Ok(())
    }

    fn remove_from_batchlog(
        self: &Arc<Self>,
        topology: &super::Topology,
        endpoints: &[HostId],
        id: uuid::Uuid,
    ) {
        for host in endpoints {
            if *host == self.local {
                if let Some(store) = self.batchlog.get() {
                    store.remove(id);
                }
            } else if let (Some(addr), Some(messaging)) =
                (topology.address(*host), self.messaging.get())
            {
                let body = Bytes::copy_from_slice(id.as_bytes());
                if let Err(e) = messaging.send_oneway(addr, VERB_BATCH_REMOVE, body) {
                    // The batch will be replayed (harmlessly: writes are idempotent).
                    tracing::debug!(error = %e, "batch log removal not sent");
                }
            }
        }
    }

    /// Replica side of [`VERB_BATCH_STORE`].
    pub(super) async fn handle_batch_store(self: Arc<Self>, body: Bytes) -> Result<Bytes, String> {
        let req: StoreBatch = from_body(&body)?;
        let store = self
            .batchlog
            .get()
            .cloned()
            .ok_or("this node keeps no batch log")?;
        let batch = StoredBatch {
            id: uuid::Uuid::from_bytes(req.id),
            created_micros: req.created_micros,
            mutation: Bytes::from(req.mutation),
        };
        tokio::task::spawn_blocking(move || store.store(&batch))
            .await
            .map_err(|e| format!("batch log task failed: {e}"))?
            .map_err(|e| e.to_string())?;
        Ok(Bytes::new())
    }

    /// Replica side of [`VERB_BATCH_REMOVE`].
    pub(super) fn handle_batch_remove(&self, body: &[u8]) {
        let Ok(id) = <[u8; 16]>::try_from(body) else {
            tracing::debug!("malformed batch log removal");
            return;
        };
        if let Some(store) = self.batchlog.get() {
            store.remove(uuid::Uuid::from_bytes(id));
        }
    }

    /// Replays the batches old enough to have been abandoned; returns how many completed.
    pub async fn replay_batchlog(self: &Arc<Self>) -> usize {
        let Some(store) = self.batchlog.get().cloned() else {
            return 0;
        };
        let age = self.config.write_timeout * REPLAY_AGE_FACTOR;
        let before = super::write::now_micros() - age.as_micros() as i64;
        let batches = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || store.older_than(before))
                .await
                .unwrap_or_default()
        };
        let mut done = 0;
        for batch in batches {
            let engine = self.engine.clone();
            let decoded = decode_mutation(batch.mutation.clone(), &|t| engine.comparator(t).ok());
            let mutation = match decoded {
                Ok(d) => d.mutation,
                Err(e) => {
                    tracing::warn!(id = %batch.id, error = %e, "undecodable batch dropped");
                    store.remove(batch.id);
                    continue;
                }
            };
            if !mutation.updates.is_empty() {
                // Every replica is written (down ones get hints): ONE is enough to count
                // the batch as delivered.
                if let Err(e) = self
                    .write_unlogged(mutation, ConsistencyLevel::One, WriteType::BatchLog)
                    .await
                {
                    tracing::info!(id = %batch.id, error = %e, "batch replay failed; will retry");
                    continue;
                }
            }
            store.remove(batch.id);
            done += 1;
        }
        if done > 0 {
            tracing::info!(batches = done, "batch log replayed");
        }
        done
    }
}

/// Replays abandoned batches every [`REPLAY_INTERVAL`].
pub(super) fn spawn_replay(coordinator: &Arc<Coordinator>) {
    let weak = Arc::downgrade(coordinator);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(REPLAY_INTERVAL).await;
            let Some(c) = weak.upgrade() else { return };
            c.replay_batchlog().await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_list_remove_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let store = BatchlogStore::open(dir.path()).unwrap();
        let a = StoredBatch {
            id: uuid::Uuid::from_u128(1),
            created_micros: 10,
            mutation: Bytes::from_static(b"abc"),
        };
        let b = StoredBatch {
            id: uuid::Uuid::from_u128(2),
            created_micros: 20,
            mutation: Bytes::from_static(b"defg"),
        };
        store.store(&a).unwrap();
        store.store(&b).unwrap();
        let old = store.older_than(15);
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].id, a.id);
        assert_eq!(old[0].mutation, a.mutation);
        assert_eq!(store.older_than(100).len(), 2);
        // Reopen: still there.
        let store = BatchlogStore::open(dir.path()).unwrap();
        assert_eq!(store.len(), 2);
        store.remove(a.id);
        assert_eq!(store.len(), 1);
        // Damage b: flipped payload byte.
        let path = dir.path().join(format!("{}.batch", b.id));
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert!(store.older_than(100).is_empty());
        assert!(store.is_empty(), "damaged file set aside");
        // Garbage of every length never panics.
        for n in 0..40 {
            std::fs::write(
                dir.path()
                    .join(format!("{}.batch", uuid::Uuid::from_u128(9))),
                vec![7u8; n],
            )
            .unwrap();
            assert!(store.older_than(i64::MAX).is_empty());
        }
    }

    #[test]
    fn the_limit_is_enforced() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = BatchlogStore::open(dir.path()).unwrap();
        store.limit_bytes = 100;
        let big = StoredBatch {
            id: uuid::Uuid::from_u128(3),
            created_micros: 1,
            mutation: Bytes::from(vec![0u8; 90]),
        };
        assert!(matches!(store.store(&big), Err(BatchlogError::Full { .. })));
    }
}
