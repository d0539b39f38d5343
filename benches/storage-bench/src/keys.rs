//! Deterministic pseudo-random keys and values.
//!
//! Keys are 16 bytes that look uniformly random but are a pure function of an index, so a
//! benchmark can read "a random existing key" without storing every key it wrote.
//!
//! Invariants:
//! - for one [`KeySpace`], `key(i) != key(j)` whenever `i != j` (the first 8 bytes are a
//!   bijection of the index);
//! - [`KeySpace::absent_key`] never equals any [`KeySpace::key`] of the same space (the last
//!   8 bytes are a different bijection of the first 8 for absent keys).

/// Length of every key in bytes.
pub const KEY_LEN_BYTES: usize = 16;

/// Bytes of the random pool values are cut from (a power of two, much larger than a value).
const VALUE_POOL_BYTES: usize = 1 << 20;

/// splitmix64's finaliser: a bijection on `u64` with good avalanche.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const PRESENT_TAG: u64 = 0x5bd1_e995_0000_0001;
const ABSENT_TAG: u64 = 0x5bd1_e995_0000_0002;

/// A family of keys derived from a seed.
#[derive(Clone, Copy, Debug)]
pub struct KeySpace {
    seed: u64,
}

impl KeySpace {
    /// The key space of `seed`.
    pub fn new(seed: u64) -> Self {
        KeySpace { seed: mix64(seed) }
    }

    fn build(&self, index: u64, tag: u64) -> [u8; KEY_LEN_BYTES] {
        let first = mix64(index.wrapping_add(self.seed));
        let second = mix64(first ^ tag);
        let mut key = [0u8; KEY_LEN_BYTES];
        key[..8].copy_from_slice(&first.to_be_bytes());
        key[8..].copy_from_slice(&second.to_be_bytes());
        key
    }

    /// The `index`-th key.
    pub fn key(&self, index: u64) -> [u8; KEY_LEN_BYTES] {
        self.build(index, PRESENT_TAG)
    }

    /// A key that no `key(_)` of this space equals.
    pub fn absent_key(&self, index: u64) -> [u8; KEY_LEN_BYTES] {
        self.build(index, ABSENT_TAG)
    }
}

/// Incompressible values of one fixed length, cut from a random pool.
pub struct ValuePool {
    pool: Vec<u8>,
    value_len_bytes: usize,
}

impl ValuePool {
    /// A pool of random bytes (from `seed`) handing out values of `value_len_bytes`.
    pub fn new(seed: u64, value_len_bytes: usize) -> Self {
        use rand::{RngCore, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        let mut pool = vec![0u8; VALUE_POOL_BYTES + value_len_bytes];
        rng.fill_bytes(&mut pool);
        ValuePool {
            pool,
            value_len_bytes,
        }
    }

    /// The value for write number `index` (different offsets for neighbouring indexes).
    pub fn value(&self, index: u64) -> &[u8] {
        let start = (mix64(index) as usize) & (VALUE_POOL_BYTES - 1);
        &self.pool[start..start + self.value_len_bytes]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn keys_are_distinct_and_absent_keys_never_collide() {
        let space = KeySpace::new(42);
        let present: HashSet<_> = (0..50_000).map(|i| space.key(i)).collect();
        assert_eq!(present.len(), 50_000);
        for i in 0..50_000 {
            assert!(!present.contains(&space.absent_key(i)));
        }
    }

    #[test]
    fn keys_are_deterministic_and_seed_dependent() {
        assert_eq!(KeySpace::new(1).key(7), KeySpace::new(1).key(7));
        assert_ne!(KeySpace::new(1).key(7), KeySpace::new(2).key(7));
    }

    #[test]
    fn values_have_the_requested_length_and_vary() {
        let pool = ValuePool::new(3, 100);
        assert_eq!(pool.value(0).len(), 100);
        assert_eq!(pool.value(u64::MAX).len(), 100);
        assert_ne!(pool.value(1), pool.value(2));
    }
}
