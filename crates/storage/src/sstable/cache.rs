//! A bounded, sharded cache of decompressed, checksum-verified SSTable blocks, shareable by
//! any number of open SSTables (`Arc<BlockCache>`).
//!
//! Invariants: the sum of the charges (`block length + ENTRY_OVERHEAD_BYTES`) of the entries in
//! a shard never exceeds that shard's capacity (`capacity_bytes / SHARD_COUNT`); a block
//! larger than one shard's capacity is never admitted. Eviction is CLOCK (second chance):
//! a hit sets the entry's reference bit, the eviction hand clears set bits and evicts the
//! first entry found with a clear bit. Entries are keyed by `(table id, block offset)`, where
//! the table id is unique per opened [`super::Sstable`] within the process, so entries of a
//! closed table are never returned for another file; they simply age out.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use bytes::Bytes;
use parking_lot::Mutex;

/// Number of independently locked shards.
const SHARD_COUNT: usize = 16;
/// Bookkeeping charge added to each cached block's length.
const ENTRY_OVERHEAD_BYTES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CacheKey {
    table_id: u64,
    block_offset: u64,
}

/// Cheap hasher for [`CacheKey`] (two `u64`s, never attacker-chosen: table ids come from a
/// process counter and offsets from validated index entries).
#[derive(Default)]
struct CacheKeyHasher(u64);

impl Hasher for CacheKeyHasher {
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(29) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type CacheMap = HashMap<CacheKey, Slot, BuildHasherDefault<CacheKeyHasher>>;

struct Slot {
    kind: u8,
    block: Bytes,
    referenced: bool,
}

#[derive(Default)]
struct Shard {
    map: CacheMap,
    /// CLOCK ring: every key in `map` appears here exactly once.
    ring: VecDeque<CacheKey>,
    used_bytes: usize,
    hits: u64,
    misses: u64,
    evictions: u64,
}

/// Counters of a [`BlockCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockCacheStats {
    /// Lookups that found the block.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Blocks evicted to make room.
    pub evictions: u64,
    /// Blocks currently cached.
    pub entries: u64,
    /// Bytes currently charged (block lengths plus per-entry overhead).
    pub used_bytes: u64,
}

/// Bounded cache of decompressed SSTable blocks (see the module docs).
pub struct BlockCache {
    shards: Box<[Mutex<Shard>]>,
    shard_capacity_bytes: usize,
}

impl std::fmt::Debug for BlockCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockCache")
            .field("capacity_bytes", &self.capacity_bytes())
            .field("stats", &self.stats())
            .finish()
    }
}

impl BlockCache {
    /// Creates a cache holding at most `capacity_bytes` (rounded down to a multiple of the
    /// shard count). A capacity of 0 caches nothing.
    pub fn new(capacity_bytes: usize) -> Self {
        let shards = (0..SHARD_COUNT)
            .map(|_| Mutex::new(Shard::default()))
            .collect();
        Self {
            shards,
            shard_capacity_bytes: capacity_bytes / SHARD_COUNT,
        }
    }

    /// Total capacity in bytes.
    pub fn capacity_bytes(&self) -> usize {
        self.shard_capacity_bytes * SHARD_COUNT
    }

    /// Current counters, summed over shards.
    pub fn stats(&self) -> BlockCacheStats {
        let mut out = BlockCacheStats::default();
        for shard in self.shards.iter() {
            let s = shard.lock();
            out.hits += s.hits;
            out.misses += s.misses;
            out.evictions += s.evictions;
            out.entries += s.map.len() as u64;
            out.used_bytes += s.used_bytes as u64;
        }
        out
    }

    fn shard(&self, key: &CacheKey) -> &Mutex<Shard> {
        let mut h = key.table_id.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ key.block_offset;
        h ^= h >> 29;
        h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h ^= h >> 32;
        &self.shards[(h as usize) % SHARD_COUNT]
    }

    /// Looks a block up; returns its kind byte and body.
    pub(crate) fn get(&self, table_id: u64, block_offset: u64) -> Option<(u8, Bytes)> {
        let key = CacheKey {
            table_id,
            block_offset,
        };
        let mut shard = self.shard(&key).lock();
        match shard.map.get_mut(&key) {
            Some(slot) => {
                slot.referenced = true;
                let out = (slot.kind, slot.block.clone());
                shard.hits += 1;
                Some(out)
            }
            None => {
                shard.misses += 1;
                None
            }
        }
    }

    /// Inserts a verified block, evicting others as needed. Oversized blocks are ignored.
    pub(crate) fn insert(&self, table_id: u64, block_offset: u64, kind: u8, block: Bytes) {
        let charge = block.len().saturating_add(ENTRY_OVERHEAD_BYTES);
        if charge > self.shard_capacity_bytes {
            return;
        }
        let key = CacheKey {
            table_id,
            block_offset,
        };
        let mut guard = self.shard(&key).lock();
        let shard = &mut *guard;
        if shard.map.contains_key(&key) {
            return;
        }
        while shard.used_bytes + charge > self.shard_capacity_bytes {
            let Some(victim) = shard.ring.pop_front() else {
                break;
            };
            match shard.map.get_mut(&victim) {
                Some(slot) if slot.referenced => {
                    slot.referenced = false;
                    shard.ring.push_back(victim);
                }
                Some(_) => {
                    if let Some(slot) = shard.map.remove(&victim) {
                        shard.used_bytes -= slot.block.len() + ENTRY_OVERHEAD_BYTES;
                        shard.evictions += 1;
                    }
                }
                None => {}
            }
        }
        shard.used_bytes += charge;
        shard.map.insert(
            key,
            Slot {
                kind,
                block,
                referenced: false,
            },
        );
        shard.ring.push_back(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_capacity_and_prefers_referenced_entries() {
        let cache = BlockCache::new(SHARD_COUNT * 1000);
        for i in 0..10_000u64 {
            cache.insert(1, i, 1, Bytes::from(vec![0u8; 100]));
            // Keep block 0 hot.
            let _ = cache.get(1, 0);
        }
        let stats = cache.stats();
        assert!(stats.used_bytes <= cache.capacity_bytes() as u64);
        assert!(stats.evictions > 0);
        assert!(
            cache.get(1, 0).is_some(),
            "hot block must survive CLOCK eviction"
        );
        assert_eq!(cache.get(2, 0), None);
    }

    #[test]
    fn oversized_blocks_are_not_admitted() {
        let cache = BlockCache::new(SHARD_COUNT * 100);
        cache.insert(1, 0, 1, Bytes::from(vec![0u8; 1000]));
        assert_eq!(cache.get(1, 0), None);
        let zero = BlockCache::new(0);
        zero.insert(1, 0, 1, Bytes::from_static(b"x"));
        assert_eq!(zero.get(1, 0), None);
    }
}
